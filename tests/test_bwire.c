/*
 * test_bwire.c: result batches on the wire (query/bwire.h): every SQL
 * type, NULLs in each, NUMERIC scales and dictionary-encoded text round
 * trip exactly, alone, in full batches and as runs of rows; text is sent
 * once per distinct value; and hostile bytes (wrong shape, types, lengths,
 * offsets, codes) are refused with a message and no rows.
 *
 * Run with WEFT_BWIRE_SEEDS=DIR, it also writes the seeds of fuzz_bwire
 * (tests/fuzz/seeds/fuzz_bwire/) there: a header (the column count, then
 * each column's type) followed by an encoded batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query/bwire.h"
#include "weft.pb-c.h"

#define NTYPES 10

static const weft_sqltype_t all_types[NTYPES] = {
    WEFT_S_NULL,     WEFT_S_BOOL,      WEFT_S_INT64, WEFT_S_FLOAT64,
    WEFT_S_TEXT,     WEFT_S_TIMESTAMP, WEFT_S_INT32, WEFT_S_NUMERIC,
    WEFT_S_INTERVAL, WEFT_S_UNKNOWN,
};

static const char *const words[] = {"apple", "",     "pear", "apple",
				    "ü€😀",   "pear", "apple"};

/* Fill row r of every column of b (types all_types) with a value derived
 * from r, NULL where (r + column) % 4 == 3. */
static void
fill(weft_batch_t *b, uint32_t nrows)
{
	uint32_t c, r;

	for (c = 0; c < b->ncols; c++) {
		weft_vec_t *v = &b->cols[c];

		for (r = 0; r < nrows; r++) {
			v->nulls[r] =
			    v->type == WEFT_S_NULL || (r + c) % 4 == 3;
			if (v->nulls[r])
				continue;
			switch (weft_sqltype_store(v->type)) {
			case WEFT_STORE_BOOL: v->v.b[r] = r % 2; break;
			case WEFT_STORE_F64:
				v->v.f64[r] = r == 1 ? -0.0 : r * 1.25 - 3;
				break;
			case WEFT_STORE_TEXT:
				v->v.s[r].p = words[r % 7];
				v->v.s[r].len = (uint32_t)strlen(words[r % 7]);
				break;
			default:
				v->v.i64[r] =
				    r == 2
					? INT64_MIN
					: (r == 4 ? INT64_MAX
						  : (int64_t)r * 1000003 - 7);
				break;
			}
		}
		if (v->type == WEFT_S_NUMERIC) {
			v->has_scale = true;
			v->scale = 2;
		}
	}
	b->n = nrows;
}

/* Rows off.. of a equal all rows of b, bit for bit. */
static void
assert_same(const weft_batch_t *a, uint32_t off, const weft_batch_t *b)
{
	uint32_t c, r;

	assert_int_equal(b->n, a->n - off);
	assert_int_equal(a->ncols, b->ncols);
	for (c = 0; c < a->ncols; c++) {
		const weft_vec_t *x = &a->cols[c], *y = &b->cols[c];

		assert_int_equal(x->type, y->type);
		if (x->type == WEFT_S_NUMERIC) {
			assert_int_equal(x->has_scale, y->has_scale);
			assert_int_equal(x->scale, y->scale);
		}
		for (r = 0; r < b->n; r++) {
			uint32_t ra = off + r;

			assert_int_equal(x->nulls[ra], y->nulls[r]);
			if (x->nulls[ra])
				continue;
			switch (weft_sqltype_store(x->type)) {
			case WEFT_STORE_BOOL:
				assert_int_equal(x->v.b[ra], y->v.b[r]);
				break;
			case WEFT_STORE_TEXT:
				assert_int_equal(x->v.s[ra].len, y->v.s[r].len);
				assert_memory_equal(x->v.s[ra].p, y->v.s[r].p,
						    x->v.s[ra].len);
				break;
			default:
				assert_memory_equal(&x->v.i64[ra], &y->v.i64[r],
						    8);
				break;
			}
		}
	}
}

static weft_batch_t *
batch(uint32_t ncols, const weft_sqltype_t *types)
{
	weft_batch_t *b = NULL;

	assert_int_equal(weft_batch_new(ncols, types, &b), 0);
	return b;
}

/* Write header + buf to DIR/name when WEFT_BWIRE_SEEDS=DIR. */
static void
seed(const char *name, const weft_batch_t *b, const uint8_t *buf, size_t len)
{
	const char *dir = getenv("WEFT_BWIRE_SEEDS");
	char path[512];
	uint32_t c;
	FILE *f;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputc((int)b->ncols, f);
	for (c = 0; c < b->ncols; c++)
		fputc((int)b->cols[c].type, f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Encode rows off.. of a, decode into a fresh batch, compare; the
 * encoding is a seed named name (NULL: none). */
static void
roundtrip(const weft_batch_t *a, uint32_t off, const char *name)
{
	weft_sqltype_t types[NTYPES];
	weft_batch_t *b;
	weft_err_t err = {0};
	uint8_t *buf;
	size_t len;
	uint32_t c;

	for (c = 0; c < a->ncols; c++)
		types[c] = a->cols[c].type;
	b = batch(a->ncols, types);
	assert_int_equal(
	    weft_bwire_encode_rows(a, off, a->n - off, &buf, &len, &err), 0);
	if (weft_bwire_decode(buf, len, b, &err) != 0)
		fail_msg("decode: %s", err.msg);
	assert_same(a, off, b);
	if (name != NULL)
		seed(name, a, buf, len);
	free(buf);
	weft_batch_free(b);
}

/* Every type, with NULLs, through one batch and through runs of its rows;
 * a NUMERIC with and without a scale. */
static void
test_every_type(void **state)
{
	weft_batch_t *a = batch(NTYPES, all_types);
	weft_batch_t *lo = batch(5, all_types), *hi = batch(5, all_types + 5);
	uint32_t off;

	(void)state;
	fill(a, 7);
	roundtrip(a, 0, NULL);
	for (off = 1; off <= 7; off++)
		roundtrip(a, off, NULL);
	fill(lo, 7);
	fill(hi, 7);
	roundtrip(lo, 0, "types_lo");
	roundtrip(hi, 0, "types_hi");
	a->cols[7].has_scale = false;
	a->cols[7].scale = 0;
	roundtrip(a, 0, NULL);
	a->n = 0;
	roundtrip(a, 0, "empty");
	weft_batch_free(a);
	weft_batch_free(lo);
	weft_batch_free(hi);
}

/* A full batch: text goes once per distinct value, NULLs included. */
static void
test_full_batch_dictionary(void **state)
{
	const weft_sqltype_t t[2] = {WEFT_S_TEXT, WEFT_S_INT64};
	weft_batch_t *a = batch(2, t);
	Weft__ResultBatch *rb;
	weft_err_t err = {0};
	uint8_t *buf;
	size_t len;
	uint32_t r;

	(void)state;
	for (r = 0; r < WEFT_BATCH; r++) {
		const char *w = words[r % 7];

		a->cols[0].nulls[r] = r % 5 == 0;
		a->cols[0].v.s[r].p = a->cols[0].nulls[r] ? NULL : w;
		a->cols[0].v.s[r].len =
		    a->cols[0].nulls[r] ? 0 : (uint32_t)strlen(w);
		a->cols[1].v.i64[r] = r;
	}
	a->n = WEFT_BATCH;
	assert_int_equal(weft_bwire_encode(a, &buf, &len, &err), 0);
	rb = weft__result_batch__unpack(NULL, len, buf);
	assert_non_null(rb);
	assert_int_equal(rb->rows, WEFT_BATCH);
	/* four distinct strings ("", apple, pear, ü€😀), each once */
	assert_int_equal(rb->columns[0]->dict_offsets.len, 4 * 5);
	assert_int_equal(rb->columns[0]->dict_data.len, strlen("applepearü€😀"));
	assert_int_equal(rb->columns[0]->codes.len, 2 * WEFT_BATCH);
	assert_int_equal(rb->columns[1]->nulls.len, 0); /* no NULLs: none */
	weft__result_batch__free_unpacked(rb, NULL);
	free(buf);
	roundtrip(a, 0, NULL);
	roundtrip(a, WEFT_BATCH - 3, NULL);
	a->n = 40;
	roundtrip(a, 0, "text_dict");
	weft_batch_free(a);
}

/* ---- hostile bytes ---- */

typedef struct hb {
	Weft__ResultBatch rb;
	Weft__BatchColumn col;
	Weft__BatchColumn *ptr;
	uint8_t nulls[2], fixed[24], codes[6], offs[12], data[8];
} hb_t;

/* A valid batch of 3 rows and one column of type t, for tests to spoil:
 * int64 1, 2, 3; or text "ab", "c", "ab" with row 1 NULL. */
static void
hb_init(hb_t *h, weft_sqltype_t t)
{
	static const uint8_t offs[12] = {0, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0};
	static const uint8_t codes[6] = {0, 0, 0, 0, 0, 0};
	int i;

	memset(h, 0, sizeof(*h));
	weft__result_batch__init(&h->rb);
	weft__batch_column__init(&h->col);
	h->ptr = &h->col;
	h->rb.rows = 3;
	h->rb.n_columns = 1;
	h->rb.columns = &h->ptr;
	h->col.type = t;
	h->col.scale = -1;
	if (t == WEFT_S_TEXT) {
		memcpy(h->offs, offs, sizeof(offs));
		memcpy(h->codes, codes, sizeof(codes));
		memcpy(h->data, "abc", 3);
		h->nulls[0] = 2; /* row 1 */
		h->col.nulls.data = h->nulls;
		h->col.nulls.len = 1;
		h->col.codes.data = h->codes;
		h->col.codes.len = 6;
		h->col.dict_offsets.data = h->offs;
		h->col.dict_offsets.len = 12;
		h->col.dict_data.data = h->data;
		h->col.dict_data.len = 3;
	} else {
		for (i = 0; i < 3; i++)
			h->fixed[8 * i] = (uint8_t)(i + 1);
		h->col.fixed.data = h->fixed;
		h->col.fixed.len = 24;
	}
}

/* Decode h into a batch of one column of type t: refused with a message
 * containing want (NULL: accepted). Returns the batch (the caller frees
 * it). */
static weft_batch_t *
hb_decode(hb_t *h, weft_sqltype_t t, const char *want)
{
	size_t len = weft__result_batch__get_packed_size(&h->rb);
	uint8_t *buf = malloc(len + 1);
	weft_batch_t *b = batch(1, &t);
	weft_err_t err = {0};
	int rc;

	assert_non_null(buf);
	weft__result_batch__pack(&h->rb, buf);
	b->n = 5; /* a stale batch: a refusal leaves no rows */
	rc = weft_bwire_decode(buf, len, b, &err);
	free(buf);
	if (want == NULL) {
		if (rc != 0)
			fail_msg("refused: %s", err.msg);
		return b;
	}
	assert_int_equal(rc, WEFT_EINVAL);
	assert_int_equal(b->n, 0);
	if (strstr(err.msg, want) == NULL)
		fail_msg("refusal \"%s\" lacks \"%s\"", err.msg, want);
	return b;
}

static void
hb_refused(hb_t *h, weft_sqltype_t t, const char *want)
{
	weft_batch_free(hb_decode(h, t, want));
}

static void
test_hostile(void **state)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	weft_sqltype_t ti = WEFT_S_INT64;
	weft_batch_t *b = batch(1, &ti);
	weft_err_t err = {0};
	hb_t h;

	(void)state;
	b->n = 3;
	assert_int_equal(weft_bwire_decode(junk, sizeof(junk), b, &err),
			 WEFT_EINVAL);
	assert_int_equal(b->n, 0);
	assert_non_null(strstr(err.msg, "not a ResultBatch"));
	weft_batch_free(b);

	hb_init(&h, WEFT_S_INT64); /* the unspoilt ones decode */
	b = hb_decode(&h, WEFT_S_INT64, NULL);
	assert_int_equal(b->n, 3);
	assert_int_equal(b->cols[0].v.i64[2], 3);
	weft_batch_free(b);
	hb_init(&h, WEFT_S_TEXT);
	b = hb_decode(&h, WEFT_S_TEXT, NULL);
	assert_int_equal(b->n, 3);
	assert_true(b->cols[0].nulls[1]);
	assert_int_equal(b->cols[0].v.s[2].len, 2);
	assert_memory_equal(b->cols[0].v.s[2].p, "ab", 2);
	weft_batch_free(b);

	hb_init(&h, WEFT_S_INT64);
	h.rb.rows = WEFT_BATCH + 1;
	hb_refused(&h, WEFT_S_INT64, "rows of");
	hb_init(&h, WEFT_S_INT64);
	h.rb.n_columns = 0;
	hb_refused(&h, WEFT_S_INT64, "expected at most");
	hb_init(&h, WEFT_S_INT64);
	hb_refused(&h, WEFT_S_FLOAT64,
		   "a column of type bigint where double precision was "
		   "expected");
	hb_init(&h, WEFT_S_INT64);
	h.col.type = 1000;
	hb_refused(&h, WEFT_S_INT64, "a column of type ?");
	hb_init(&h, WEFT_S_INT64);
	h.col.fixed.len = 23;
	hb_refused(&h, WEFT_S_INT64, "bad value column");
	hb_init(&h, WEFT_S_INT64);
	h.col.nulls.data = h.nulls;
	h.col.nulls.len = 2;
	hb_refused(&h, WEFT_S_INT64, "bad NULL bitmap");
	hb_init(&h, WEFT_S_TEXT);
	h.col.codes.len = 4;
	hb_refused(&h, WEFT_S_TEXT, "bad text column");
	hb_init(&h, WEFT_S_TEXT);
	h.col.dict_offsets.len = 10;
	hb_refused(&h, WEFT_S_TEXT, "bad text column");
	hb_init(&h, WEFT_S_TEXT);
	h.offs[0] = 1; /* the first offset is not 0 */
	hb_refused(&h, WEFT_S_TEXT, "bad text dictionary");
	hb_init(&h, WEFT_S_TEXT);
	h.offs[8] = 2; /* the last is not the data's end */
	hb_refused(&h, WEFT_S_TEXT, "bad text dictionary");
	hb_init(&h, WEFT_S_TEXT);
	h.offs[4] = 4; /* past the data, and going back */
	hb_refused(&h, WEFT_S_TEXT, "bad text dictionary");
	hb_init(&h, WEFT_S_TEXT);
	h.offs[11] = 0x80; /* a huge offset */
	hb_refused(&h, WEFT_S_TEXT, "bad text dictionary");
	hb_init(&h, WEFT_S_TEXT);
	h.codes[4] = 2; /* row 2: code 2 of 2 */
	hb_refused(&h, WEFT_S_TEXT, "text code out of range");
	hb_init(&h, WEFT_S_TEXT);
	h.codes[2] = 0xff; /* row 1 is NULL: its code is not read */
	h.codes[3] = 0xff;
	weft_batch_free(hb_decode(&h, WEFT_S_TEXT, NULL));
}

/* A column of type NULL holds NULLs, whatever the bitmap says. */
static void
test_null_column_stays_null(void **state)
{
	weft_batch_t *b;
	hb_t h;
	uint32_t r;

	(void)state;
	hb_init(&h, WEFT_S_NULL);
	h.col.fixed.len = 0;
	h.col.nulls.data = h.nulls; /* rows 0 and 2 "not NULL" */
	h.col.nulls.len = 1;
	h.nulls[0] = 2;
	b = hb_decode(&h, WEFT_S_NULL, NULL);
	assert_int_equal(b->n, 3);
	for (r = 0; r < 3; r++)
		assert_true(b->cols[0].nulls[r]);
	weft_batch_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_type),
	    cmocka_unit_test(test_full_batch_dictionary),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_null_column_stays_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
