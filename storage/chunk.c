/*
 * chunk.c: column buffers that encode themselves as weft.ColumnChunk, and
 * a zero-copy, bounds-checked decoder for the same bytes.
 *
 * Encoding goes through protobuf-c (the generated packer), with the bytes
 * fields pointing at this buffer's arrays, so nothing is copied twice.
 * Decoding is written by hand over the protobuf wire format so that a scan
 * can read values straight out of LMDB's memory map without unpacking; a
 * unit test checks it against protobuf-c's own unpacker.
 */
#include "storage/chunk.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "weft.pb-c.h"

#define WEFT_CHUNK_HASH_SLOTS (2 * WEFT_CHUNK_ROWS)
#define WEFT_CHUNK_DICT_MAX ((size_t)1 << 30)

const char *
weft_type_name(weft_type_t t)
{
	switch (t) {
	case WEFT_T_BOOL: return "bool";
	case WEFT_T_INT64: return "int64";
	case WEFT_T_FLOAT64: return "float64";
	case WEFT_T_TEXT: return "text";
	case WEFT_T_TIMESTAMP: return "timestamp";
	default: return "unknown";
	}
}

weft_type_t
weft_type_parse(const char *s)
{
	static const struct {
		const char *name;
		weft_type_t t;
	} names[] = {
	    {"bool", WEFT_T_BOOL},
	    {"boolean", WEFT_T_BOOL},
	    {"int64", WEFT_T_INT64},
	    {"bigint", WEFT_T_INT64},
	    {"int8", WEFT_T_INT64},
	    {"integer", WEFT_T_INT64},
	    {"int", WEFT_T_INT64},
	    {"int4", WEFT_T_INT64},
	    {"smallint", WEFT_T_INT64},
	    {"int2", WEFT_T_INT64},
	    {"long", WEFT_T_INT64},
	    {"float64", WEFT_T_FLOAT64},
	    {"double precision", WEFT_T_FLOAT64},
	    {"double", WEFT_T_FLOAT64},
	    {"float8", WEFT_T_FLOAT64},
	    {"float", WEFT_T_FLOAT64},
	    {"real", WEFT_T_FLOAT64},
	    {"float4", WEFT_T_FLOAT64},
	    {"numeric", WEFT_T_FLOAT64},
	    {"decimal", WEFT_T_FLOAT64},
	    {"number", WEFT_T_FLOAT64},
	    {"text", WEFT_T_TEXT},
	    {"varchar", WEFT_T_TEXT},
	    {"character varying", WEFT_T_TEXT},
	    {"string", WEFT_T_TEXT},
	    {"char", WEFT_T_TEXT},
	    {"character", WEFT_T_TEXT},
	    {"timestamp", WEFT_T_TIMESTAMP},
	    {"timestamptz", WEFT_T_TIMESTAMP},
	    {"timestamp with time zone", WEFT_T_TIMESTAMP},
	    {"timestamp without time zone", WEFT_T_TIMESTAMP},
	    {"date", WEFT_T_TIMESTAMP},
	    {"datetime", WEFT_T_TIMESTAMP},
	};
	size_t i;

	if (s == NULL)
		return WEFT_T_UNKNOWN;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].t;
	/* varchar(20), numeric(10,2), ... */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i].name);

		if (strncasecmp(s, names[i].name, n) == 0 && s[n] == '(')
			return names[i].t;
	}
	return WEFT_T_UNKNOWN;
}

int
weft_colbuf_new(weft_type_t t, weft_colbuf_t **out)
{
	weft_colbuf_t *b;

	*out = NULL;
	if (t < WEFT_T_BOOL || t > WEFT_T_TIMESTAMP)
		return WEFT_EINVAL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return WEFT_ENOMEM;
	b->cb_type = t;
	if (t == WEFT_T_FLOAT64) {
		b->cb_f64 = malloc(WEFT_CHUNK_ROWS * sizeof(double));
		if (b->cb_f64 == NULL)
			goto fail;
	} else if (t == WEFT_T_TEXT) {
		b->cb_codes = malloc(WEFT_CHUNK_ROWS * sizeof(uint32_t));
		b->cb_dict_off =
		    malloc((WEFT_CHUNK_ROWS + 1) * sizeof(uint32_t));
		b->cb_hash = calloc(WEFT_CHUNK_HASH_SLOTS, sizeof(uint32_t));
		b->cb_hash_h = malloc(WEFT_CHUNK_ROWS * sizeof(uint64_t));
		b->cb_dict_cap = 64 * 1024;
		b->cb_dict_data = malloc(b->cb_dict_cap);
		if (!b->cb_codes || !b->cb_dict_off || !b->cb_hash ||
		    !b->cb_hash_h || !b->cb_dict_data)
			goto fail;
		b->cb_hash_mask = WEFT_CHUNK_HASH_SLOTS - 1;
		b->cb_dict_off[0] = 0;
	} else {
		b->cb_i64 = malloc(WEFT_CHUNK_ROWS * sizeof(int64_t));
		if (b->cb_i64 == NULL)
			goto fail;
	}
	*out = b;
	return 0;
fail:
	weft_colbuf_free(b);
	return WEFT_ENOMEM;
}

void
weft_colbuf_free(weft_colbuf_t *b)
{
	if (b == NULL)
		return;
	free(b->cb_i64);
	free(b->cb_f64);
	free(b->cb_codes);
	free(b->cb_dict_off);
	free(b->cb_dict_data);
	free(b->cb_hash);
	free(b->cb_hash_h);
	free(b->cb_out);
	free(b->cb_scratch);
	free(b);
}

void
weft_colbuf_reset(weft_colbuf_t *b)
{
	if (b->cb_nulls > 0 || b->cb_count > 0)
		memset(b->cb_nullmap, 0, (b->cb_count + 7) / 8);
	b->cb_count = 0;
	b->cb_nulls = 0;
	if (b->cb_type == WEFT_T_TEXT && b->cb_dict_size > 0) {
		memset(b->cb_hash, 0, WEFT_CHUNK_HASH_SLOTS * sizeof(uint32_t));
		b->cb_dict_size = 0;
		b->cb_dict_len = 0;
	}
}

int
weft_colbuf_push_text(weft_colbuf_t *b, const char *s, size_t len)
{
	uint64_t h = XXH3_64bits(s, len);
	uint32_t slot = (uint32_t)h & b->cb_hash_mask, code;

	for (;;) {
		uint32_t c = b->cb_hash[slot];

		if (c == 0)
			break;
		code = c - 1;
		if (b->cb_hash_h[code] == h &&
		    b->cb_dict_off[code + 1] - b->cb_dict_off[code] == len &&
		    memcmp(b->cb_dict_data + b->cb_dict_off[code], s, len) ==
			0) {
			b->cb_codes[b->cb_count++] = code;
			return 0;
		}
		slot = (slot + 1) & b->cb_hash_mask;
	}
	if (len > WEFT_TEXT_MAX)
		return WEFT_ETOOBIG;
	if (b->cb_dict_len + len > b->cb_dict_cap) {
		size_t cap = b->cb_dict_cap;
		uint8_t *nd;

		while (cap < b->cb_dict_len + len)
			cap *= 2;
		if (cap > WEFT_CHUNK_DICT_MAX)
			return WEFT_ETOOBIG;
		nd = realloc(b->cb_dict_data, cap);
		if (nd == NULL)
			return WEFT_ENOMEM;
		b->cb_dict_data = nd;
		b->cb_dict_cap = cap;
	}
	code = b->cb_dict_size++;
	memcpy(b->cb_dict_data + b->cb_dict_len, s, len);
	b->cb_dict_len += len;
	b->cb_dict_off[code + 1] = (uint32_t)b->cb_dict_len;
	b->cb_hash_h[code] = h;
	b->cb_hash[slot] = code + 1;
	b->cb_codes[b->cb_count++] = code;
	return 0;
}

static int
weft_colbuf_scratch(weft_colbuf_t *b, size_t need)
{
	if (need <= b->cb_scratch_cap)
		return 0;
	free(b->cb_scratch);
	b->cb_scratch = malloc(need);
	b->cb_scratch_cap = b->cb_scratch ? need : 0;
	return b->cb_scratch ? 0 : WEFT_ENOMEM;
}

static inline int
weft_colbuf_isnull(const weft_colbuf_t *b, uint32_t i)
{
	return (b->cb_nullmap[i >> 3] >> (i & 7)) & 1;
}

/* Zone map over non-NULL values. */
static void
weft_colbuf_minmax(weft_colbuf_t *b, Weft__ColumnChunk *m)
{
	uint32_t i, n = b->cb_count;
	int any = 0;

	if (b->cb_type == WEFT_T_FLOAT64) {
		double lo = 0, hi = 0;

		for (i = 0; i < n; i++) {
			double v = b->cb_f64[i];

			if ((b->cb_nulls && weft_colbuf_isnull(b, i)) || v != v)
				continue;
			if (!any || v < lo)
				lo = v;
			if (!any || v > hi)
				hi = v;
			any = 1;
		}
		m->min_f = lo;
		m->max_f = hi;
	} else if (b->cb_type == WEFT_T_TEXT) {
		uint32_t c, lo = 0, hi = 0;

		for (c = 0; c < b->cb_dict_size; c++) {
			const uint8_t *s = b->cb_dict_data + b->cb_dict_off[c];
			size_t l = b->cb_dict_off[c + 1] - b->cb_dict_off[c];

			if (any) {
				const uint8_t *ls =
				    b->cb_dict_data + b->cb_dict_off[lo];
				size_t ll =
				    b->cb_dict_off[lo + 1] - b->cb_dict_off[lo];
				const uint8_t *hs =
				    b->cb_dict_data + b->cb_dict_off[hi];
				size_t hl =
				    b->cb_dict_off[hi + 1] - b->cb_dict_off[hi];
				int cl = memcmp(s, ls, l < ll ? l : ll);
				int ch = memcmp(s, hs, l < hl ? l : hl);

				if (cl < 0 || (cl == 0 && l < ll))
					lo = c;
				if (ch > 0 || (ch == 0 && l > hl))
					hi = c;
			}
			any = 1;
		}
		if (any) {
			m->min_s.data = b->cb_dict_data + b->cb_dict_off[lo];
			m->min_s.len =
			    b->cb_dict_off[lo + 1] - b->cb_dict_off[lo];
			m->max_s.data = b->cb_dict_data + b->cb_dict_off[hi];
			m->max_s.len =
			    b->cb_dict_off[hi + 1] - b->cb_dict_off[hi];
		}
	} else {
		int64_t lo = 0, hi = 0;

		for (i = 0; i < n; i++) {
			int64_t v = b->cb_i64[i];

			if (b->cb_nulls && weft_colbuf_isnull(b, i))
				continue;
			if (!any || v < lo)
				lo = v;
			if (!any || v > hi)
				hi = v;
			any = 1;
		}
		m->min_i = lo;
		m->max_i = hi;
	}
	m->has_minmax = any;
}

int
weft_colbuf_encode(weft_colbuf_t *b, const uint8_t **out, size_t *len)
{
	Weft__ColumnChunk m = WEFT__COLUMN_CHUNK__INIT;
	uint32_t i, n = b->cb_count;
	size_t need;
	int rc;

	m.type = (Weft__ColumnType)b->cb_type;
	m.count = n;
	m.null_count = b->cb_nulls;
	if (b->cb_nulls > 0) {
		m.nulls.data = b->cb_nullmap;
		m.nulls.len = (n + 7) / 8;
	}
	switch (b->cb_type) {
	case WEFT_T_INT64:
	case WEFT_T_TIMESTAMP:
		m.values.data = (uint8_t *)b->cb_i64;
		m.values.len = (size_t)n * 8;
		break;
	case WEFT_T_FLOAT64:
		m.values.data = (uint8_t *)b->cb_f64;
		m.values.len = (size_t)n * 8;
		break;
	case WEFT_T_BOOL:
		rc = weft_colbuf_scratch(b, (n + 7) / 8 + 1);
		if (rc)
			return rc;
		memset(b->cb_scratch, 0, (n + 7) / 8 + 1);
		for (i = 0; i < n; i++)
			if (b->cb_i64[i])
				b->cb_scratch[i >> 3] |=
				    (uint8_t)(1u << (i & 7));
		m.values.data = b->cb_scratch;
		m.values.len = (n + 7) / 8;
		break;
	case WEFT_T_TEXT: {
		uint32_t w = b->cb_dict_size <= 0x100	  ? 1
			     : b->cb_dict_size <= 0x10000 ? 2
							  : 4;
		size_t olen = ((size_t)b->cb_dict_size + 1) * 4;

		rc = weft_colbuf_scratch(b, (size_t)n * w + olen);
		if (rc)
			return rc;
		for (i = 0; i < n; i++) {
			uint32_t c = b->cb_codes[i];

			if (c == UINT32_MAX)
				c = 0;
			if (w == 1)
				b->cb_scratch[i] = (uint8_t)c;
			else if (w == 2)
				memcpy(b->cb_scratch + 2 * i,
				       &(uint16_t){(uint16_t)c}, 2);
			else
				memcpy(b->cb_scratch + 4 * i, &c, 4);
		}
		m.values.data = b->cb_scratch;
		m.values.len = (size_t)n * w;
		m.code_width = w;
		m.dict_size = b->cb_dict_size;
		m.dict_offsets.data = b->cb_scratch + (size_t)n * w;
		m.dict_offsets.len = olen;
		memcpy(m.dict_offsets.data, b->cb_dict_off, olen);
		m.dict_data.data = b->cb_dict_data;
		m.dict_data.len = b->cb_dict_len;
		break;
	}
	default: return WEFT_EINVAL;
	}
	weft_colbuf_minmax(b, &m);
	need = weft__column_chunk__get_packed_size(&m);
	if (need > b->cb_out_cap) {
		free(b->cb_out);
		b->cb_out = malloc(need);
		if (b->cb_out == NULL) {
			b->cb_out_cap = 0;
			return WEFT_ENOMEM;
		}
		b->cb_out_cap = need;
	}
	*len = weft__column_chunk__pack(&m, b->cb_out);
	*out = b->cb_out;
	return 0;
}

/* ---- zero-copy decoder ---- */

static int
weft_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	int shift;

	for (shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;

		r |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

static int
weft_chunk_bad(weft_err_t *err, const char *why)
{
	return weft_err_set(err, WEFT_ECORRUPT, "corrupt column chunk: %s",
			    why);
}

/*
 * Largest code of a text chunk whose sizes are already checked. A chunk
 * holds at most WEFT_CHUNK_ROWS values, so codes are 1 or 2 bytes wide in
 * practice; those widths use SSE2 (16 codes per instruction) where the
 * compiler targets it, since this check runs for every text chunk a scan
 * touches.
 */
static uint32_t
weft_chunk_max_code(const weft_chunk_view_t *v)
{
	uint32_t i = 0, n = v->count, m = 0;
	const uint8_t *c = v->values;

	if (v->code_width == 1) {
#ifdef __SSE2__
		__m128i acc = _mm_setzero_si128();
		uint8_t lanes[16];
		int k;

		for (; i + 16 <= n; i += 16)
			acc = _mm_max_epu8(
			    acc, _mm_loadu_si128((const __m128i *)(c + i)));
		_mm_storeu_si128((__m128i *)lanes, acc);
		for (k = 0; k < 16; k++)
			m = lanes[k] > m ? lanes[k] : m;
#endif
		for (; i < n; i++)
			m = c[i] > m ? c[i] : m;
	} else if (v->code_width == 2) {
#ifdef __SSE2__
		/* SSE2 has no unsigned 16-bit max: max(a, b) = b +
		 * saturating (a - b). */
		__m128i acc = _mm_setzero_si128();
		uint16_t lanes[8];
		int k;

		for (; i + 8 <= n; i += 8) {
			__m128i x = _mm_loadu_si128(
			    (const __m128i *)(c + 2 * (size_t)i));

			acc = _mm_add_epi16(acc, _mm_subs_epu16(x, acc));
		}
		_mm_storeu_si128((__m128i *)lanes, acc);
		for (k = 0; k < 8; k++)
			m = lanes[k] > m ? lanes[k] : m;
#endif
		for (; i < n; i++) {
			uint16_t x;

			memcpy(&x, c + 2 * (size_t)i, 2);
			m = x > m ? x : m;
		}
	} else {
		for (; i < n; i++) {
			uint32_t x;

			memcpy(&x, c + 4 * (size_t)i, 4);
			m = x > m ? x : m;
		}
	}
	return m;
}

/*
 * Read the protobuf fields of a ColumnChunk into *v (zeroed by the
 * caller), checking only the wire format; the sizes of the NULL bitmap
 * and the dictionary offsets go to *nulls_len and *offsets_len for
 * weft_chunk_check.
 */
static int
weft_chunk_fields(const uint8_t *buf, size_t len, weft_chunk_view_t *v,
		  size_t *nulls_len, size_t *offsets_len, weft_err_t *err)
{
	const uint8_t *p = buf, *end = buf + len;

	while (p < end) {
		uint64_t key, x = 0;
		const uint8_t *data = NULL;
		size_t dlen = 0;
		unsigned field, wt;

		if (weft_pb_varint(&p, end, &key))
			return weft_chunk_bad(err, "truncated key");
		field = (unsigned)(key >> 3);
		wt = (unsigned)(key & 7);
		if (wt == 0) {
			if (weft_pb_varint(&p, end, &x))
				return weft_chunk_bad(err, "truncated varint");
		} else if (wt == 1) {
			if ((size_t)(end - p) < 8)
				return weft_chunk_bad(err, "truncated fixed64");
			memcpy(&x, p, 8);
			p += 8;
		} else if (wt == 2) {
			if (weft_pb_varint(&p, end, &x) ||
			    x > (uint64_t)(end - p))
				return weft_chunk_bad(err, "bad length");
			data = p;
			dlen = (size_t)x;
			p += dlen;
		} else if (wt == 5) {
			if ((size_t)(end - p) < 4)
				return weft_chunk_bad(err, "truncated fixed32");
			p += 4;
			continue;
		} else {
			return weft_chunk_bad(err, "bad wire type");
		}
		if ((field >= 1 && field <= 3) || field == 6 || field == 7 ||
		    (field >= 10 && field <= 12)) {
			if (wt != 0)
				return weft_chunk_bad(err, "wrong wire type");
		} else if (field == 13 || field == 14) {
			if (wt != 1)
				return weft_chunk_bad(err, "wrong wire type");
		} else if (field >= 4 && field <= 16 && wt != 2) {
			return weft_chunk_bad(err, "wrong wire type");
		}
		if (x > UINT32_MAX &&
		    (field == 2 || field == 3 || field == 6 || field == 7))
			return weft_chunk_bad(err, "count out of range");
		switch (field) {
		case 1: v->type = (weft_type_t)(x > 99 ? 99 : x); break;
		case 2: v->count = (uint32_t)x; break;
		case 3: v->null_count = (uint32_t)x; break;
		case 4:
			v->nulls = data;
			*nulls_len = dlen;
			break;
		case 5:
			v->values = data;
			v->values_len = dlen;
			break;
		case 6: v->code_width = (uint32_t)x; break;
		case 7: v->dict_size = (uint32_t)x; break;
		case 8:
			v->dict_offsets = data;
			*offsets_len = dlen;
			break;
		case 9:
			v->dict_data = data;
			v->dict_data_len = dlen;
			break;
		case 10: v->has_minmax = x != 0; break;
		case 11: v->min_i = (int64_t)((x >> 1) ^ -(x & 1)); break;
		case 12: v->max_i = (int64_t)((x >> 1) ^ -(x & 1)); break;
		case 13: memcpy(&v->min_f, &x, 8); break;
		case 14: memcpy(&v->max_f, &x, 8); break;
		case 15:
			v->min_s = data;
			v->min_s_len = dlen;
			break;
		case 16:
			v->max_s = data;
			v->max_s_len = dlen;
			break;
		default: break; /* unknown fields are skipped */
		}
	}
	return 0;
}

/* A text chunk's codes and dictionary stay inside its bytes. */
static int
weft_chunk_check_text(const weft_chunk_view_t *v, size_t offsets_len,
		      weft_err_t *err)
{
	uint32_t i, prev = 0, o;

	if (v->code_width != 1 && v->code_width != 2 && v->code_width != 4)
		return weft_chunk_bad(err, "bad code width");
	if (v->values_len != (size_t)v->count * v->code_width)
		return weft_chunk_bad(err, "codes have the wrong size");
	if (v->dict_size > v->count ||
	    offsets_len != ((size_t)v->dict_size + 1) * 4)
		return weft_chunk_bad(err, "bad dictionary size");
	for (i = 0; i <= v->dict_size; i++) {
		memcpy(&o, v->dict_offsets + 4 * (size_t)i, 4);
		if ((i == 0 && o != 0) || o < prev)
			return weft_chunk_bad(
			    err, "dictionary offsets out of order");
		prev = o;
	}
	if (prev != v->dict_data_len)
		return weft_chunk_bad(err, "dictionary size mismatch");
	/* Every code must index the dictionary. NULL rows hold code 0, so a
	 * branch-free maximum over all rows (which the compiler vectorises)
	 * checks them all at once; a chunk of only NULLs has an empty
	 * dictionary and only zero codes. */
	if (weft_chunk_max_code(v) >= (v->dict_size ? v->dict_size : 1))
		return weft_chunk_bad(err, "dictionary code out of range");
	return 0;
}

/* Check that every later read of the decoded *v stays inside its bytes. */
static int
weft_chunk_check(weft_chunk_view_t *v, size_t nulls_len, size_t offsets_len,
		 weft_err_t *err)
{
	if (v->type < WEFT_T_BOOL || v->type > WEFT_T_TIMESTAMP)
		return weft_chunk_bad(err, "unknown column type");
	if (v->count > WEFT_CHUNK_ROWS)
		return weft_chunk_bad(err, "too many rows");
	if (v->null_count > v->count)
		return weft_chunk_bad(err, "more NULLs than rows");
	if (v->null_count == 0) {
		v->nulls = NULL;
	} else if (nulls_len != ((size_t)v->count + 7) / 8) {
		return weft_chunk_bad(err, "NULL bitmap has the wrong size");
	}
	switch (v->type) {
	case WEFT_T_INT64:
	case WEFT_T_FLOAT64:
	case WEFT_T_TIMESTAMP:
		if (v->values_len != (size_t)v->count * 8)
			return weft_chunk_bad(err,
					      "values have the wrong size");
		return 0;
	case WEFT_T_BOOL:
		if (v->values_len != ((size_t)v->count + 7) / 8)
			return weft_chunk_bad(err,
					      "values have the wrong size");
		return 0;
	case WEFT_T_TEXT: return weft_chunk_check_text(v, offsets_len, err);
	default: return 0;
	}
}

int
weft_chunk_view(const uint8_t *buf, size_t len, weft_chunk_view_t *v,
		weft_err_t *err)
{
	size_t nulls_len = 0, offsets_len = 0;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = weft_chunk_fields(buf, len, v, &nulls_len, &offsets_len, err);
	if (rc != 0)
		return rc;
	return weft_chunk_check(v, nulls_len, offsets_len, err);
}

int64_t
weft_chunk_i64(const weft_chunk_view_t *v, uint32_t i)
{
	int64_t x;

	memcpy(&x, v->values + 8 * (size_t)i, 8);
	return x;
}

double
weft_chunk_f64(const weft_chunk_view_t *v, uint32_t i)
{
	double x;

	memcpy(&x, v->values + 8 * (size_t)i, 8);
	return x;
}

bool
weft_chunk_bool(const weft_chunk_view_t *v, uint32_t i)
{
	return (v->values[i >> 3] >> (i & 7)) & 1;
}

const char *
weft_chunk_text(const weft_chunk_view_t *v, uint32_t i, size_t *len)
{
	uint32_t c, a, b;

	if (v->code_width == 1) {
		c = v->values[i];
	} else if (v->code_width == 2) {
		uint16_t c16;

		memcpy(&c16, v->values + 2 * (size_t)i, 2);
		c = c16;
	} else {
		memcpy(&c, v->values + 4 * (size_t)i, 4);
	}
	if (c >= v->dict_size) { /* a NULL row of an all-NULL chunk */
		*len = 0;
		return "";
	}
	memcpy(&a, v->dict_offsets + 4 * (size_t)c, 4);
	memcpy(&b, v->dict_offsets + 4 * (size_t)c + 4, 4);
	*len = b - a;
	return (const char *)v->dict_data + a;
}
