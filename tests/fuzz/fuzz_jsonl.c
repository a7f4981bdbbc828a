/*
 * fuzz_jsonl.c: libFuzzer harness for the streaming JSON Lines reader.
 *
 * As fuzz_csv.c: the first byte picks a block size, the input is read
 * whole and in blocks (each a separate heap copy), and both readings must
 * give the same objects or the same error. Decoded strings are checked
 * to be within bounds by hashing every byte.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ibuild/gen
 *        -D_GNU_SOURCE tests/fuzz/fuzz_jsonl.c storage/jsonl.c
 *        storage/value.c lib/utf8.c lib/err.c -lm -lpthread -o build/fuzz_jsonl
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "storage/jsonl.h"
#include "storage/value.h"

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

static int
fz_drain(weft_jsonl_t *p, fz_digest_t *d, weft_err_t *err)
{
	const weft_field_t *f;
	size_t nf, i;
	int rc;

	while ((rc = weft_jsonl_next(p, &f, &nf, err)) == 1) {
		uint64_t line = weft_jsonl_line(p);

		if (nf != weft_jsonl_ncols(p))
			abort();
		d->nrec++;
		fz_mix(d, &line, sizeof(line));
		for (i = 0; i < nf; i++) {
			size_t n;
			const char *c = weft_jsonl_colname(p, i, &n);

			fz_mix(d, c, n);
			fz_mix(d, &f[i].kind, sizeof(f[i].kind));
			fz_mix(d, &f[i].len, sizeof(f[i].len));
			if (f[i].kind != WEFT_FK_NULL)
				fz_mix(d, f[i].ptr, f[i].len);
			else if (f[i].len != 0)
				abort();
			if (f[i].kind == WEFT_FK_JSTR)
				(void)weft_utf8_check(f[i].ptr, f[i].len);
		}
	}
	return rc;
}

static void
fz_read(const uint8_t *data, size_t size, size_t bs, fz_digest_t *d)
{
	weft_jsonl_t *p;
	weft_err_t err = {0};
	size_t off = 0;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	d->h = 1469598103934665603ull;
	if (weft_jsonl_new("fuzz.jsonl", &p) != 0)
		abort();
	do {
		size_t n = size - off < bs ? size - off : bs;
		char *blk = malloc(n ? n : 1);

		if (blk == NULL)
			abort();
		memcpy(blk, data + off, n);
		off += n;
		weft_jsonl_feed(p, blk, n, off == size);
		rc = fz_drain(p, d, &err);
		free(blk);
	} while (rc == 0 && off < size);
	d->rc = rc;
	if (rc < 0)
		memcpy(d->msg, err.msg, sizeof(d->msg));
	weft_jsonl_free(p);
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
