/*
 * bwire.c: result batches <-> weft.ResultBatch (query/bwire.h).
 *
 * Text is dictionary-encoded per batch with a small open-addressing hash
 * table over the batch's strings (at most WEFT_BATCH distinct), codes 2
 * bytes each since a batch never holds more than 65,536 rows.
 */
#include <stdlib.h>
#include <string.h>

#include "query/bwire.h"
#include "weft.pb-c.h"

_Static_assert(WEFT_BATCH <= 65536, "text codes are 2 bytes");

static void
bw_put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
bw_get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
bw_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t
bw_hash(const char *p, uint32_t n)
{
	uint64_t h = 1469598103934665603ull;
	uint32_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}

/* Dictionary-encode text column v's n rows into c. */
static int
bw_text(const weft_vec_t *v, uint32_t off, uint32_t n, Weft__BatchColumn *c)
{
	uint32_t cap = 16, mask, i, nd = 0;
	uint32_t *slot, *first;
	size_t bytes = 0, pos;
	uint8_t *codes;
	int rc = WEFT_ENOMEM;

	while (cap < 2 * n)
		cap <<= 1;
	mask = cap - 1;
	slot = calloc(cap, sizeof(*slot));
	first = malloc((n + 1) * sizeof(*first));
	codes = malloc(2 * (size_t)n + 1);
	if (slot == NULL || first == NULL || codes == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		const weft_str_t *s = &v->v.s[off + i];
		uint32_t h, code;

		if (v->nulls[off + i]) {
			codes[2 * i] = codes[2 * i + 1] = 0;
			continue;
		}
		h = (uint32_t)bw_hash(s->p, s->len) & mask;
		for (;; h = (h + 1) & mask) {
			const weft_str_t *o;

			if (slot[h] == 0) {
				slot[h] = nd + 1;
				first[nd] = off + i;
				code = nd++;
				bytes += s->len;
				break;
			}
			o = &v->v.s[first[slot[h] - 1]];
			if (o->len == s->len &&
			    (s->len == 0 || memcmp(o->p, s->p, s->len) == 0)) {
				code = slot[h] - 1;
				break;
			}
		}
		codes[2 * i] = (uint8_t)code;
		codes[2 * i + 1] = (uint8_t)(code >> 8);
	}
	c->codes.data = codes;
	c->codes.len = 2 * (size_t)n;
	codes = NULL;
	c->dict_offsets.data = malloc(4 * ((size_t)nd + 1));
	c->dict_data.data = malloc(bytes + 1);
	if (c->dict_offsets.data == NULL || c->dict_data.data == NULL)
		goto out;
	c->dict_offsets.len = 4 * ((size_t)nd + 1);
	c->dict_data.len = bytes;
	for (i = 0, pos = 0; i <= nd; i++) {
		uint8_t *p = c->dict_offsets.data + 4 * (size_t)i;

		p[0] = (uint8_t)pos;
		p[1] = (uint8_t)(pos >> 8);
		p[2] = (uint8_t)(pos >> 16);
		p[3] = (uint8_t)(pos >> 24);
		if (i < nd) {
			const weft_str_t *s = &v->v.s[first[i]];

			if (s->len)
				memcpy(c->dict_data.data + pos, s->p, s->len);
			pos += s->len;
		}
	}
	rc = 0;
out:
	free(slot);
	free(first);
	free(codes);
	return rc;
}

static int
bw_column(const weft_vec_t *v, uint32_t off, uint32_t n, Weft__BatchColumn *c)
{
	uint32_t i, nnull = 0;
	size_t w;

	c->type = (uint32_t)v->type;
	c->scale = v->type == WEFT_S_NUMERIC && v->has_scale ? v->scale : -1;
	for (i = 0; i < n; i++)
		nnull += v->nulls[off + i] != 0;
	if (nnull) {
		c->nulls.data = calloc((n + 7) / 8 + 1, 1);
		if (c->nulls.data == NULL)
			return WEFT_ENOMEM;
		c->nulls.len = (n + 7) / 8;
		for (i = 0; i < n; i++)
			if (v->nulls[off + i])
				c->nulls.data[i / 8] |=
				    (uint8_t)(1u << (i % 8));
	}
	switch (weft_sqltype_store(v->type)) {
	case WEFT_STORE_TEXT:
		return v->type == WEFT_S_NULL ? 0 : bw_text(v, off, n, c);
	case WEFT_STORE_BOOL: w = 1; break;
	default: w = v->type == WEFT_S_NULL ? 0 : 8; break;
	}
	if (w == 0)
		return 0;
	c->fixed.data = malloc(w * n + 1);
	if (c->fixed.data == NULL)
		return WEFT_ENOMEM;
	c->fixed.len = w * n;
	for (i = 0; i < n; i++) {
		uint32_t r = off + i;

		if (w == 1) {
			c->fixed.data[i] = v->nulls[r] ? 0 : (v->v.b[r] != 0);
		} else if (weft_sqltype_store(v->type) == WEFT_STORE_F64) {
			uint64_t u;

			memcpy(&u, &v->v.f64[r], 8);
			bw_put64(c->fixed.data + 8 * (size_t)i,
				 v->nulls[r] ? 0 : u);
		} else {
			bw_put64(c->fixed.data + 8 * (size_t)i,
				 v->nulls[r] ? 0 : (uint64_t)v->v.i64[r]);
		}
	}
	return 0;
}

static void
bw_columns_free(Weft__BatchColumn *cols, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		free(cols[i].nulls.data);
		free(cols[i].fixed.data);
		free(cols[i].codes.data);
		free(cols[i].dict_offsets.data);
		free(cols[i].dict_data.data);
	}
}

int
weft_bwire_encode(const weft_batch_t *b, uint8_t **buf, size_t *len,
		  weft_err_t *err)
{
	return weft_bwire_encode_rows(b, 0, b->n, buf, len, err);
}

int
weft_bwire_encode_rows(const weft_batch_t *b, uint32_t off, uint32_t n,
		       uint8_t **buf, size_t *len, weft_err_t *err)
{
	Weft__ResultBatch rb = WEFT__RESULT_BATCH__INIT;
	Weft__BatchColumn *cols;
	Weft__BatchColumn **ptrs;
	uint32_t i;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	cols = calloc(b->ncols + 1, sizeof(*cols));
	ptrs = calloc(b->ncols + 1, sizeof(*ptrs));
	if (cols == NULL || ptrs == NULL) {
		rc = WEFT_ENOMEM;
		goto out;
	}
	for (i = 0; i < b->ncols && rc == 0; i++) {
		weft__batch_column__init(&cols[i]);
		ptrs[i] = &cols[i];
		rc = bw_column(&b->cols[i], off, n, &cols[i]);
	}
	if (rc != 0)
		goto out;
	rb.rows = n;
	rb.n_columns = b->ncols;
	rb.columns = ptrs;
	*len = weft__result_batch__get_packed_size(&rb);
	*buf = malloc(*len + 1);
	if (*buf == NULL) {
		rc = WEFT_ENOMEM;
		goto out;
	}
	weft__result_batch__pack(&rb, *buf);
out:
	if (cols != NULL)
		bw_columns_free(cols, b->ncols);
	free(cols);
	free(ptrs);
	if (rc != 0) {
		*len = 0;
		return weft_err_set(err, rc, "out of memory");
	}
	return 0;
}

/* Text column c into v (n rows): dictionary checked, strings copied. */
static int
bw_get_text(const Weft__BatchColumn *c, uint32_t n, weft_vec_t *v,
	    weft_arena_t *arena, weft_err_t *err)
{
	size_t nd, i;
	uint32_t prev = 0;
	char *data;

	if (c->codes.len != 2 * (size_t)n || c->dict_offsets.len < 4 ||
	    c->dict_offsets.len % 4 != 0)
		return weft_err_set(err, WEFT_EINVAL,
				    "result batch: bad text column");
	nd = c->dict_offsets.len / 4 - 1;
	for (i = 0; i <= nd; i++) {
		uint32_t o = bw_get32(c->dict_offsets.data + 4 * i);

		if (o < prev || o > c->dict_data.len || (i == 0 && o != 0) ||
		    (i == nd && o != c->dict_data.len))
			return weft_err_set(err, WEFT_EINVAL,
					    "result batch: bad text "
					    "dictionary");
		prev = o;
	}
	data = weft_arena_alloc(arena, c->dict_data.len + 1);
	if (data == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	if (c->dict_data.len)
		memcpy(data, c->dict_data.data, c->dict_data.len);
	for (i = 0; i < n; i++) {
		uint32_t code = (uint32_t)c->codes.data[2 * i] |
				(uint32_t)c->codes.data[2 * i + 1] << 8;
		uint32_t a, z;

		if (v->nulls[i]) {
			v->v.s[i].p = data;
			v->v.s[i].len = 0;
			continue;
		}
		if (code >= nd)
			return weft_err_set(err, WEFT_EINVAL,
					    "result batch: text code out of "
					    "range");
		a = bw_get32(c->dict_offsets.data + 4 * (size_t)code);
		z = bw_get32(c->dict_offsets.data + 4 * (size_t)code + 4);
		v->v.s[i].p = data + a;
		v->v.s[i].len = z - a;
	}
	return 0;
}

static int
bw_get_column(const Weft__BatchColumn *c, uint32_t n, weft_vec_t *v,
	      weft_arena_t *arena, weft_err_t *err)
{
	int st = weft_sqltype_store(v->type);
	uint32_t i;

	if (c->type != (uint32_t)v->type)
		return weft_err_set(
		    err, WEFT_EINVAL,
		    "result batch: a column of type %s where "
		    "%s was expected",
		    c->type <= WEFT_S_UNKNOWN
			? weft_sqltype_name((weft_sqltype_t)c->type)
			: "?",
		    weft_sqltype_name(v->type));
	if (c->nulls.len != 0 && c->nulls.len != (n + 7) / 8)
		return weft_err_set(err, WEFT_EINVAL,
				    "result batch: bad NULL bitmap");
	for (i = 0; i < n; i++) /* a NULL column is NULL, bitmap or not */
		v->nulls[i] =
		    v->type == WEFT_S_NULL ||
		    (c->nulls.len && ((c->nulls.data[i / 8] >> (i % 8)) & 1));
	if (v->type == WEFT_S_NUMERIC) {
		v->has_scale = c->scale >= 0 && c->scale <= 1000;
		v->scale = (int16_t)(v->has_scale ? c->scale : 0);
	}
	if (v->type == WEFT_S_NULL)
		return 0;
	if (st == WEFT_STORE_TEXT)
		return bw_get_text(c, n, v, arena, err);
	if (c->fixed.len != (st == WEFT_STORE_BOOL ? 1 : 8) * (size_t)n)
		return weft_err_set(err, WEFT_EINVAL,
				    "result batch: bad value column");
	for (i = 0; i < n; i++) {
		if (st == WEFT_STORE_BOOL) {
			v->v.b[i] = c->fixed.data[i] != 0;
		} else if (st == WEFT_STORE_F64) {
			uint64_t u = bw_get64(c->fixed.data + 8 * (size_t)i);

			memcpy(&v->v.f64[i], &u, 8);
		} else {
			v->v.i64[i] =
			    (int64_t)bw_get64(c->fixed.data + 8 * (size_t)i);
		}
	}
	return 0;
}

int
weft_bwire_decode(const uint8_t *buf, size_t len, weft_batch_t *b,
		  weft_err_t *err)
{
	Weft__ResultBatch *rb;
	uint32_t c;
	int rc = 0;

	weft_batch_clear(b);
	rb = weft__result_batch__unpack(NULL, len, buf);
	if (rb == NULL)
		return weft_err_set(err, WEFT_EINVAL,
				    "result batch: not a ResultBatch");
	if (rb->rows > WEFT_BATCH || rb->n_columns != b->ncols) {
		rc =
		    weft_err_set(err, WEFT_EINVAL,
				 "result batch: %u rows of %zu columns, "
				 "expected at most %u rows of %u",
				 rb->rows, rb->n_columns, WEFT_BATCH, b->ncols);
		goto out;
	}
	for (c = 0; c < b->ncols && rc == 0; c++)
		rc = bw_get_column(rb->columns[c], rb->rows, &b->cols[c],
				   b->arena, err);
	if (rc == 0)
		b->n = rb->rows;
out:
	weft__result_batch__free_unpacked(rb, NULL);
	if (rc != 0)
		weft_batch_clear(b);
	return rc;
}
