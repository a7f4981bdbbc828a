/*
 * fuzz_bwire.c: libFuzzer harness for the result-batch decoder
 * (weft_bwire_decode, query/bwire.h), fed what a hostile owner could send
 * as a QueryBatch.
 *
 * Input: one byte, the receiver's column count (mod 11), then that many
 * bytes, each a column type (mod 10, weft_sqltype_t), then the batch
 * bytes. The bytes are refused (an empty batch and a message) or decoded
 * into a batch that keeps bwire.h's promises:
 *  - every value can be read and printed (weft_value_format), NULL
 *    columns hold NULLs only, text lies within what was sent;
 *  - it encodes, and that encoding decodes to the same values and
 *    re-encodes to the same bytes; so does any run of its rows
 *    (weft_bwire_encode_rows), here the rows after the first.
 *
 * Seeds (tests/fuzz/seeds/fuzz_bwire/) are batches of every type with
 * NULLs and repeated text; test_bwire writes them again when run with
 * WEFT_BWIRE_SEEDS=DIR.
 *
 * Build: make build/fuzz/fuzz_bwire
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/bwire.h"
#include "query/expr.h"

/* Does every value of b print, and are NULL columns all NULL? */
static void
fz_walk(const weft_batch_t *b, size_t sent)
{
	char buf[128];
	uint32_t c, r;

	for (c = 0; c < b->ncols; c++)
		for (r = 0; r < b->n; r++) {
			const weft_vec_t *v = &b->cols[c];

			if (v->type == WEFT_S_NULL && !v->nulls[r])
				abort(); /* a non-NULL value of type NULL */
			if (weft_sqltype_store(v->type) == WEFT_STORE_TEXT &&
			    !v->nulls[r] && v->v.s[r].len > sent)
				abort();
			(void)weft_value_format(v->type, v, r, buf,
						sizeof(buf));
		}
}

/* Rows off.. of a and all of b hold the same values. */
static void
fz_same(const weft_batch_t *a, uint32_t off, const weft_batch_t *b)
{
	uint32_t c, r;

	if (b->n != a->n - off || a->ncols != b->ncols)
		abort();
	for (c = 0; c < a->ncols; c++) {
		const weft_vec_t *x = &a->cols[c], *y = &b->cols[c];

		if (x->type == WEFT_S_NUMERIC &&
		    (x->has_scale != y->has_scale ||
		     (x->has_scale && x->scale != y->scale)))
			abort();
		for (r = 0; r < b->n; r++) {
			uint32_t ra = off + r;

			if (x->nulls[ra] != y->nulls[r])
				abort();
			if (x->nulls[ra] || x->type == WEFT_S_NULL)
				continue;
			switch (weft_sqltype_store(x->type)) {
			case WEFT_STORE_BOOL:
				if (x->v.b[ra] != y->v.b[r])
					abort();
				break;
			case WEFT_STORE_TEXT:
				if (x->v.s[ra].len != y->v.s[r].len ||
				    (x->v.s[ra].len &&
				     memcmp(x->v.s[ra].p, y->v.s[r].p,
					    x->v.s[ra].len) != 0))
					abort();
				break;
			default: /* i64 or f64: the same 8 bytes */
				if (memcmp(&x->v.i64[ra], &y->v.i64[r], 8) != 0)
					abort();
				break;
			}
		}
	}
}

/* Encode rows off.. of a, decode into b: the same values; return the
 * encoding (malloc'd). */
static uint8_t *
fz_roundtrip(const weft_batch_t *a, uint32_t off, weft_batch_t *b, size_t *len)
{
	weft_err_t err = {0};
	uint8_t *buf;

	if (weft_bwire_encode_rows(a, off, a->n - off, &buf, len, &err) != 0)
		abort(); /* only out of memory may fail */
	if (weft_bwire_decode(buf, *len, b, &err) != 0) {
		fprintf(stderr, "fuzz_bwire: an encoding does not decode: %s\n",
			err.msg);
		abort();
	}
	fz_same(a, off, b);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	weft_sqltype_t types[10];
	weft_batch_t *a = NULL, *b = NULL, *c = NULL;
	weft_err_t err = {0};
	uint8_t *e1, *e2, *e3;
	size_t l1, l2, l3, off;
	uint32_t i, ncols;

	if (size < 1)
		return 0;
	ncols = data[0] % 11;
	if (size < 1 + ncols)
		return 0;
	for (i = 0; i < ncols; i++)
		types[i] = (weft_sqltype_t)(data[1 + i] % 10);
	off = 1 + ncols;
	if (weft_batch_new(ncols, types, &a) != 0 ||
	    weft_batch_new(ncols, types, &b) != 0 ||
	    weft_batch_new(ncols, types, &c) != 0)
		abort();
	if (weft_bwire_decode(data + off, size - off, a, &err) != 0) {
		if (a->n != 0 || err.msg[0] == 0)
			abort(); /* refused: no rows, and a message */
		goto out;
	}
	fz_walk(a, size - off);
	e1 = fz_roundtrip(a, 0, b, &l1);
	e2 = fz_roundtrip(b, 0, c, &l2);
	if (l1 != l2 || memcmp(e1, e2, l1) != 0)
		abort(); /* decode(encode(x)) encodes to the same bytes */
	e3 = fz_roundtrip(a, a->n ? 1 : 0, c, &l3);
	free(e1);
	free(e2);
	free(e3);
out:
	weft_batch_free(a);
	weft_batch_free(b);
	weft_batch_free(c);
	return 0;
}
