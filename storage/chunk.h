/*
 * chunk.h: columnar chunks, the unit of product storage.
 *
 * A chunk holds up to WEFT_CHUNK_ROWS consecutive values of one column,
 * serialized as a weft.ColumnChunk protobuf message (proto/weft.proto).
 * The write side is a column buffer (weft_colbuf_t) that values are pushed
 * into and that encodes itself; the read side is a zero-copy view
 * (weft_chunk_view_t) whose pointers point into the encoded bytes, e.g.
 * straight into an LMDB read transaction's memory map.
 *
 * Invariants: nulls is a bitmap (bit i = row i is NULL), empty when there
 * are none; NULL rows still occupy a slot in values (zero / code 0). Text
 * is dictionary-encoded per chunk; codes are 1, 2 or 4 bytes wide.
 */
#ifndef WEFT_STORAGE_CHUNK_H
#define WEFT_STORAGE_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define WEFT_CHUNK_ROWS 8192
#define WEFT_TEXT_MAX (1u << 20) /* one text value, bytes */

/* Column types; the numbers equal ColumnType in weft.proto. */
typedef enum weft_type {
	WEFT_T_UNKNOWN = 0,
	WEFT_T_BOOL = 1,
	WEFT_T_INT64 = 2,
	WEFT_T_FLOAT64 = 3,
	WEFT_T_TEXT = 4,
	WEFT_T_TIMESTAMP = 5,
} weft_type_t;

/* "bool", "int64", "float64", "text", "timestamp"; "unknown" otherwise. */
const char *weft_type_name(weft_type_t t);
/* Parse a type name (also accepts PostgreSQL spellings such as bigint,
 * integer, double precision, varchar, boolean, timestamptz). */
weft_type_t weft_type_parse(const char *s);

/*
 * A column buffer. Fields are public so the push functions can be inline
 * on the ingest hot path; treat them as read-only outside chunk.c.
 */
typedef struct weft_colbuf {
	weft_type_t cb_type;
	uint32_t cb_count; /* rows pushed since the last reset */
	uint32_t cb_nulls; /* NULL rows */
	uint8_t cb_nullmap[WEFT_CHUNK_ROWS / 8];
	int64_t *cb_i64;    /* INT64, TIMESTAMP, BOOL (0/1) */
	double *cb_f64;	    /* FLOAT64 */
	uint32_t *cb_codes; /* TEXT: dictionary codes */
	/* TEXT dictionary: open-addressing hash of distinct values. */
	uint32_t *cb_dict_off; /* dict_size + 1 offsets into cb_dict_data */
	uint8_t *cb_dict_data;
	size_t cb_dict_len, cb_dict_cap;
	uint32_t cb_dict_size;
	uint32_t *cb_hash; /* slots: code + 1, 0 = empty */
	uint32_t cb_hash_mask;
	uint64_t *cb_hash_h; /* per code: full hash */
	/* encoded output, valid until the next reset */
	uint8_t *cb_out;
	size_t cb_out_cap;
	uint8_t *cb_scratch;
	size_t cb_scratch_cap;
} weft_colbuf_t;

/* Allocate a buffer for a column of type t. Free with weft_colbuf_free. */
int weft_colbuf_new(weft_type_t t, weft_colbuf_t **out);
void weft_colbuf_free(weft_colbuf_t *b);
/* Forget the pushed values (keeps the allocations). */
void weft_colbuf_reset(weft_colbuf_t *b);

static inline bool
weft_colbuf_full(const weft_colbuf_t *b)
{
	return b->cb_count >= WEFT_CHUNK_ROWS;
}

/* Push a NULL. The buffer must not be full. */
static inline void
weft_colbuf_push_null(weft_colbuf_t *b)
{
	uint32_t i = b->cb_count++;

	b->cb_nullmap[i >> 3] |= (uint8_t)(1u << (i & 7));
	b->cb_nulls++;
	if (b->cb_type == WEFT_T_FLOAT64)
		b->cb_f64[i] = 0;
	else if (b->cb_type == WEFT_T_TEXT)
		b->cb_codes[i] = UINT32_MAX; /* resolved at encode */
	else
		b->cb_i64[i] = 0;
}

/* Push an INT64, TIMESTAMP (microseconds) or BOOL (0 or 1). */
static inline void
weft_colbuf_push_i64(weft_colbuf_t *b, int64_t v)
{
	b->cb_i64[b->cb_count++] = v;
}

static inline void
weft_colbuf_push_f64(weft_colbuf_t *b, double v)
{
	b->cb_f64[b->cb_count++] = v;
}

/* Push a TEXT value (len <= WEFT_TEXT_MAX, bytes copied). 0 or
 * WEFT_ENOMEM. */
int weft_colbuf_push_text(weft_colbuf_t *b, const char *s, size_t len);

/*
 * Encode the pushed values as a serialized ColumnChunk. *out is owned by
 * the buffer and valid until the next push, reset or free.
 */
int weft_colbuf_encode(weft_colbuf_t *b, const uint8_t **out, size_t *len);

/* A decoded chunk. All pointers borrow from the encoded bytes. */
typedef struct weft_chunk_view {
	weft_type_t type;
	uint32_t count, null_count;
	const uint8_t *nulls; /* NULL when null_count == 0 */
	const uint8_t *values;
	size_t values_len;
	uint32_t code_width, dict_size;
	const uint8_t *dict_offsets; /* dict_size + 1 uint32 LE */
	const uint8_t *dict_data;
	size_t dict_data_len;
	bool has_minmax;
	int64_t min_i, max_i;
	double min_f, max_f;
	const uint8_t *min_s, *max_s;
	size_t min_s_len, max_s_len;
} weft_chunk_view_t;

/*
 * Decode an encoded ColumnChunk without copying, checking every length and
 * offset against len so hostile bytes cannot make later reads go out of
 * bounds. 0 or WEFT_ECORRUPT with a message.
 */
int weft_chunk_view(const uint8_t *buf, size_t len, weft_chunk_view_t *v,
		    weft_err_t *err);

static inline bool
weft_chunk_is_null(const weft_chunk_view_t *v, uint32_t i)
{
	return v->nulls != NULL && (v->nulls[i >> 3] >> (i & 7)) & 1;
}

/* Value accessors (i < v->count, type-checked by the caller). */
int64_t weft_chunk_i64(const weft_chunk_view_t *v, uint32_t i);
double weft_chunk_f64(const weft_chunk_view_t *v, uint32_t i);
bool weft_chunk_bool(const weft_chunk_view_t *v, uint32_t i);
/* TEXT: the bytes of row i (not NUL-terminated). */
const char *weft_chunk_text(const weft_chunk_view_t *v, uint32_t i,
			    size_t *len);

#endif
