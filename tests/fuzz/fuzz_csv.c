/*
 * fuzz_csv.c: libFuzzer harness for the streaming CSV reader and the
 * value parsers.
 *
 * The first input byte picks a block size; the rest is the CSV text. The
 * input is read twice, whole and in blocks of that size (each block its
 * own heap copy, so a read past a block trips ASan), and the two readings
 * must agree record for record, or fail with the same message. Every
 * field also goes through the value parsers, and through the UTF-8
 * checker, whose answer must agree with decoding it one sequence at a time.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ibuild/gen
 *        -D_GNU_SOURCE tests/fuzz/fuzz_csv.c storage/csv.c storage/value.c
 *        lib/utf8.c lib/err.c -lm -lpthread -o build/fuzz_csv
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "storage/csv.h"
#include "storage/value.h"

/* A running digest of what was read: records, fields, kinds, bytes. */
typedef struct {
	uint64_t h, nrec;
	int rc;
	char msg[WEFT_ERR_MAX];
} fz_digest_t;

static void
fz_mix(fz_digest_t *d, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		d->h = (d->h ^ s[i]) * 1099511628211ull;
}

/* weft_utf8_check must stop where decoding one sequence at a time first
 * fails or meets a NUL, and weft_utf8_valid agree when there is no NUL. */
static void
fz_utf8(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k, at = weft_utf8_check(s, n);
	uint32_t cp;

	while (i < n && (k = weft_utf8_decode(u + i, n - i, &cp)) != 0 &&
	       cp != 0)
		i += k;
	if (at != i)
		abort();
	if (memchr(s, 0, n) == NULL && weft_utf8_valid(s, n) != (at == n))
		abort();
	if (weft_utf8_width(s, n) > n ||
	    weft_utf8_cut(s, n, SIZE_MAX, NULL) != n)
		abort();
}

static void
fz_values(const weft_field_t *f)
{
	int64_t i;
	double d;
	bool b;

	(void)weft_value_i64(f->ptr, f->len, &i);
	(void)weft_value_f64(f->ptr, f->len, &d);
	(void)weft_value_bool(f->ptr, f->len, &b);
	(void)weft_value_ts(f->ptr, f->len, &i);
	fz_utf8(f->ptr, f->len);
	(void)weft_value_classify(f->ptr, f->len, f->kind);
}

static int
fz_drain(weft_csv_t *p, fz_digest_t *d, bool values, weft_err_t *err)
{
	const weft_field_t *f;
	size_t nf, i;
	int rc;

	while ((rc = weft_csv_next(p, &f, &nf, err)) == 1) {
		uint64_t line = weft_csv_line(p);

		d->nrec++;
		fz_mix(d, &line, sizeof(line));
		fz_mix(d, &nf, sizeof(nf));
		for (i = 0; i < nf; i++) {
			fz_mix(d, &f[i].kind, sizeof(f[i].kind));
			fz_mix(d, &f[i].len, sizeof(f[i].len));
			fz_mix(d, f[i].ptr, f[i].len);
			if (values)
				fz_values(&f[i]);
		}
	}
	return rc;
}

static void
fz_read(const uint8_t *data, size_t size, size_t bs, fz_digest_t *d)
{
	weft_csv_t *p;
	weft_err_t err = {0};
	size_t off = 0;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	d->h = 1469598103934665603ull;
	if (weft_csv_new("fuzz.csv", &p) != 0)
		abort();
	do {
		size_t n = size - off < bs ? size - off : bs;
		char *blk = malloc(n ? n : 1);

		if (blk == NULL)
			abort();
		memcpy(blk, data + off, n);
		off += n;
		weft_csv_feed(p, blk, n, off == size);
		rc = fz_drain(p, d, bs == size, &err);
		free(blk);
	} while (rc == 0 && off < size);
	d->rc = rc;
	if (rc < 0)
		memcpy(d->msg, err.msg, sizeof(d->msg));
	weft_csv_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_digest_t whole, split;
	size_t bs;

	if (size < 1)
		return 0;
	bs = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	fz_read(data, size, size ? size : 1, &whole);
	fz_read(data, size, bs, &split);
	if (whole.rc != split.rc || whole.h != split.h ||
	    whole.nrec != split.nrec || strcmp(whole.msg, split.msg) != 0)
		abort();
	return 0;
}
