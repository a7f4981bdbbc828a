/*
 * vec.h: the executor's unit of data: a batch of up to WEFT_BATCH rows,
 * one vector per column, and an arena for the text the batch creates.
 *
 * Invariants: a vector's null flags are one byte per row (1 = NULL) so
 * kernels can combine them with plain loops; a NULL row's value slot holds
 * a zero/empty value and is never read for a result. Text values are
 * (pointer, length) pairs that point either into the LMDB snapshot (valid
 * until the snapshot ends) or into an arena (valid until the arena is
 * reset), never owned by the vector itself.
 */
#ifndef WEFT_QUERY_VEC_H
#define WEFT_QUERY_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "storage/chunk.h"

#define WEFT_BATCH WEFT_CHUNK_ROWS /* rows per batch: one chunk */

/*
 * SQL types as the engine sees them. Stored columns are BOOL, INT64,
 * FLOAT64, TEXT, TIMESTAMP (weft_type_t); the engine adds INT32 for
 * PostgreSQL's `integer` literals and results (so `2147483647 + 1` fails as
 * it does in PostgreSQL), NUMERIC (computed as float64, printed as
 * PostgreSQL prints numeric), INTERVAL (microseconds) and NULL (the type of
 * a bare NULL literal).
 */
typedef enum weft_sqltype {
	WEFT_S_NULL = 0,
	WEFT_S_BOOL = 1,
	WEFT_S_INT64 = 2,
	WEFT_S_FLOAT64 = 3,
	WEFT_S_TEXT = 4,
	WEFT_S_TIMESTAMP = 5,
	WEFT_S_INT32 = 6,
	WEFT_S_NUMERIC = 7,
	WEFT_S_INTERVAL = 8,
	WEFT_S_UNKNOWN = 9, /* a quoted literal before coercion ('abc') */
} weft_sqltype_t;

const char *weft_sqltype_name(weft_sqltype_t t); /* PostgreSQL's names */

/* Which union member of weft_vec_t a type is stored in. */
enum {
	WEFT_STORE_I64 = 0,
	WEFT_STORE_F64 = 1,
	WEFT_STORE_BOOL = 2,
	WEFT_STORE_TEXT = 3,
};

static inline int
weft_sqltype_store(weft_sqltype_t t)
{
	switch (t) {
	case WEFT_S_FLOAT64:
	case WEFT_S_NUMERIC: return WEFT_STORE_F64;
	case WEFT_S_BOOL: return WEFT_STORE_BOOL;
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN: return WEFT_STORE_TEXT;
	default: return WEFT_STORE_I64;
	}
}

typedef struct weft_str {
	const char *p;
	uint32_t len;
} weft_str_t;

/* One column of a batch. Which union member is used follows `type`:
 * BOOL -> b, INT32/INT64/TIMESTAMP/INTERVAL -> i64, FLOAT64/NUMERIC -> f64,
 * TEXT/UNKNOWN -> s; NULL uses i64 (all rows NULL).
 *
 * NUMERIC values are doubles; `has_scale`/`scale` give the display scale
 * (digits after the decimal point) when it is known statically (literal
 * 1.50, sums and products of such, round(x, 2), extract(...)), so that
 * weft_value_format prints 1.50 as PostgreSQL does. Without a known scale
 * a NUMERIC prints with up to 15 significant digits, never in exponent
 * form (what PostgreSQL prints for float8::numeric). A zero-initialised
 * vector has no scale. */
typedef struct weft_vec {
	weft_sqltype_t type;
	bool has_scale; /* NUMERIC only: scale below is meaningful */
	int16_t scale;	/* NUMERIC display scale, 0..1000 */
	uint8_t *nulls; /* WEFT_BATCH bytes */
	union {
		int64_t *i64;
		double *f64;
		uint8_t *b;
		weft_str_t *s;
	} v;
} weft_vec_t;

/* A bump allocator for text produced while evaluating a batch. */
typedef struct weft_arena weft_arena_t;
weft_arena_t *weft_arena_new(void);
void weft_arena_free(weft_arena_t *a);
void weft_arena_reset(weft_arena_t *a);
/* n bytes, 8-aligned; NULL when out of memory. */
void *weft_arena_alloc(weft_arena_t *a, size_t n);

typedef struct weft_batch {
	uint32_t n; /* rows in use */
	uint32_t ncols;
	weft_vec_t *cols; /* ncols vectors, each with WEFT_BATCH slots */
	weft_arena_t *arena;
} weft_batch_t;

/* A batch with ncols vectors of the given types (storage for WEFT_BATCH
 * rows each, and its own arena). Free with weft_batch_free. */
int weft_batch_new(uint32_t ncols, const weft_sqltype_t *types,
		   weft_batch_t **out);
void weft_batch_free(weft_batch_t *b);
/* n = 0, arena reset; vectors keep their storage. */
void weft_batch_clear(weft_batch_t *b);

/* Allocate / free one vector's storage for WEFT_BATCH rows (values zeroed,
 * nulls 0, no NUMERIC scale). 0 or WEFT_ENOMEM. weft_vec_release accepts
 * a vector that was never initialised if it was zeroed, and leaves it
 * zeroed. */
int weft_vec_init(weft_vec_t *v, weft_sqltype_t type);
void weft_vec_release(weft_vec_t *v);

/*
 * Compare row i of a with row j of b (both of the same storage class:
 * two integer-like, two float-like, two bool or two text vectors) with
 * PostgreSQL's ordering: integers numerically, floats with NaN above
 * every other value and -0 = 0, false < true, text bytewise (the "C"
 * collation; for UTF-8 this is code point order). NULLs are not looked
 * at: the caller decides where they sort. Returns <0, 0, >0.
 */
int weft_vec_cmp(const weft_vec_t *a, uint32_t i, const weft_vec_t *b,
		 uint32_t j);

#endif
