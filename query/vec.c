/*
 * vec.c: batches, vectors and the bump arena that holds the text a batch
 * creates.
 *
 * Invariants: every vector owns WEFT_BATCH value slots and WEFT_BATCH null
 * bytes, allocated zeroed; the arena hands out 8-aligned blocks from a list
 * of chunks, keeps its first chunk across resets and frees the rest.
 */
#include "query/vec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WEFT_ARENA_CHUNK (64u * 1024)

typedef struct weft_arena_chunk {
	struct weft_arena_chunk *next;
	size_t cap, used;
	/* data follows, 8-aligned (the header is 24 bytes) */
} weft_arena_chunk_t;

struct weft_arena {
	weft_arena_chunk_t *head; /* current chunk first */
};

const char *
weft_sqltype_name(weft_sqltype_t t)
{
	switch (t) {
	case WEFT_S_NULL: return "unknown";
	case WEFT_S_BOOL: return "boolean";
	case WEFT_S_INT64: return "bigint";
	case WEFT_S_FLOAT64: return "double precision";
	case WEFT_S_TEXT: return "text";
	case WEFT_S_TIMESTAMP: return "timestamp without time zone";
	case WEFT_S_INT32: return "integer";
	case WEFT_S_NUMERIC: return "numeric";
	case WEFT_S_INTERVAL: return "interval";
	case WEFT_S_UNKNOWN: return "unknown";
	}
	return "unknown";
}

weft_arena_t *
weft_arena_new(void)
{
	return calloc(1, sizeof(weft_arena_t));
}

static void
weft_arena_free_chunks(weft_arena_chunk_t *c)
{
	while (c != NULL) {
		weft_arena_chunk_t *next = c->next;

		free(c);
		c = next;
	}
}

void
weft_arena_free(weft_arena_t *a)
{
	if (a == NULL)
		return;
	weft_arena_free_chunks(a->head);
	free(a);
}

/* Keep the oldest chunk (the last in the list) if it has the standard
 * size, free every other. */
void
weft_arena_reset(weft_arena_t *a)
{
	weft_arena_chunk_t *c, *keep = NULL;

	if (a == NULL)
		return;
	c = a->head;
	while (c != NULL) {
		weft_arena_chunk_t *next = c->next;

		if (next == NULL && c->cap == WEFT_ARENA_CHUNK) {
			keep = c;
			keep->used = 0;
		} else {
			free(c);
		}
		c = next;
	}
	a->head = keep;
}

void *
weft_arena_alloc(weft_arena_t *a, size_t n)
{
	weft_arena_chunk_t *c = a->head;
	size_t need = (n + 7) & ~(size_t)7;
	void *p;

	if (need < n)
		return NULL;
	if (c == NULL || c->cap - c->used < need) {
		size_t cap = need > WEFT_ARENA_CHUNK ? need : WEFT_ARENA_CHUNK;
		weft_arena_chunk_t *nc = malloc(sizeof(*nc) + cap);

		if (nc == NULL)
			return NULL;
		nc->cap = cap;
		nc->used = 0;
		if (c != NULL && cap > WEFT_ARENA_CHUNK) {
			/* A big block: put it behind the current chunk so
			 * the current one keeps filling. */
			nc->next = c->next;
			c->next = nc;
			nc->used = need;
			return (char *)(nc + 1);
		}
		nc->next = c;
		a->head = nc;
		c = nc;
	}
	p = (char *)(c + 1) + c->used;
	c->used += need;
	return p;
}

static size_t
weft_vec_slot(weft_sqltype_t type)
{
	switch (type) {
	case WEFT_S_BOOL: return 1;
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN: return sizeof(weft_str_t);
	default: return 8;
	}
}

int
weft_vec_init(weft_vec_t *v, weft_sqltype_t type)
{
	void *vals;

	memset(v, 0, sizeof(*v));
	v->type = type;
	v->nulls = calloc(WEFT_BATCH, 1);
	vals = calloc(WEFT_BATCH, weft_vec_slot(type));
	if (v->nulls == NULL || vals == NULL) {
		free(v->nulls);
		free(vals);
		v->nulls = NULL;
		return WEFT_ENOMEM;
	}
	v->v.i64 = vals;
	return 0;
}

void
weft_vec_release(weft_vec_t *v)
{
	if (v == NULL)
		return;
	free(v->nulls);
	free(v->v.i64);
	memset(v, 0, sizeof(*v));
}

int
weft_batch_new(uint32_t ncols, const weft_sqltype_t *types, weft_batch_t **out)
{
	weft_batch_t *b = calloc(1, sizeof(*b));
	uint32_t i;

	*out = NULL;
	if (b == NULL)
		return WEFT_ENOMEM;
	b->ncols = ncols;
	b->cols = calloc(ncols ? ncols : 1, sizeof(weft_vec_t));
	b->arena = weft_arena_new();
	if (b->cols == NULL || b->arena == NULL)
		goto fail;
	for (i = 0; i < ncols; i++)
		if (weft_vec_init(&b->cols[i], types[i]) != 0)
			goto fail;
	*out = b;
	return 0;
fail:
	weft_batch_free(b);
	return WEFT_ENOMEM;
}

void
weft_batch_free(weft_batch_t *b)
{
	uint32_t i;

	if (b == NULL)
		return;
	if (b->cols != NULL)
		for (i = 0; i < b->ncols; i++)
			weft_vec_release(&b->cols[i]);
	free(b->cols);
	weft_arena_free(b->arena);
	free(b);
}

void
weft_batch_clear(weft_batch_t *b)
{
	b->n = 0;
	weft_arena_reset(b->arena);
}

static int
weft_vec_cmp_f64(double x, double y)
{
	if (isnan(x))
		return isnan(y) ? 0 : 1;
	if (isnan(y))
		return -1;
	return x < y ? -1 : x > y ? 1 : 0;
}

int
weft_vec_cmp(const weft_vec_t *a, uint32_t i, const weft_vec_t *b, uint32_t j)
{
	switch (a->type) {
	case WEFT_S_BOOL: return (int)(a->v.b[i] != 0) - (int)(b->v.b[j] != 0);
	case WEFT_S_FLOAT64:
	case WEFT_S_NUMERIC: return weft_vec_cmp_f64(a->v.f64[i], b->v.f64[j]);
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN: {
		const weft_str_t *x = &a->v.s[i], *y = &b->v.s[j];
		uint32_t m = x->len < y->len ? x->len : y->len;
		int c = m ? memcmp(x->p, y->p, m) : 0;

		if (c != 0)
			return c < 0 ? -1 : 1;
		return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
	}
	case WEFT_S_NULL: return 0;
	default: {
		int64_t x = a->v.i64[i], y = b->v.i64[j];

		return x < y ? -1 : x > y ? 1 : 0;
	}
	}
}
