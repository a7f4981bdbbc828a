/*
 * func_in.c: `x [NOT] IN (c1, ..., cn)` over a long list of constants, by
 * a hash set built once per expression (func.h). The binder's IN lists
 * are short, but a dynamic filter (query/plan_dynf.c) sends up to
 * WEFT_FRAG_ARGS_MAX join keys, and comparing every row with each of
 * them would cost rows x keys. Integers (and the types stored as
 * integers) and text take this path; other types, and lists with
 * anything but constants of x's storage, keep the linear one.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "query/func.h"

/* Lists shorter than this compare linearly: cheaper than hashing. */
#define WEFT_IN_HASH_MIN 8

/* One allocation: the header, then mask + 1 slots (argument index, 0
 * empty). */
typedef struct weft_inset {
	bool usable; /* false: the linear path */
	bool hasnull;
	int st;
	uint32_t mask;
	uint32_t slot[];
} weft_inset_t;

static uint64_t
in_hash_i(int64_t v)
{
	uint64_t x = (uint64_t)v * 0x9E3779B97F4A7C15ull;

	return x ^ (x >> 29);
}

static uint64_t
in_hash_s(const weft_str_t *s)
{
	return XXH3_64bits(s->p, s->len);
}

static bool
in_eq(int st, const weft_value_t *c, int64_t i, const weft_str_t *s)
{
	if (st == WEFT_STORE_I64)
		return c->u.i == i;
	return c->u.s.len == s->len &&
	       (s->len == 0 || memcmp(c->u.s.p, s->p, s->len) == 0);
}

/* The set of e's list for x's storage st (NULL when out of memory). */
static weft_inset_t *
in_build(const weft_expr_t *e, int st)
{
	uint32_t k, cap = 16, n = e->nargs - 1;
	weft_inset_t *t;

	while (cap < 2 * n)
		cap *= 2;
	t = calloc(1, sizeof(*t) + cap * sizeof(t->slot[0]));
	if (t == NULL)
		return NULL;
	t->st = st;
	t->mask = cap - 1;
	for (k = 1; k < e->nargs; k++) {
		const weft_expr_t *a = e->args[k];

		if (a->kind != WEFT_E_CONST ||
		    (!a->cval.null && weft_sqltype_store(a->cval.type) != st))
			return t; /* usable stays false */
	}
	for (k = 1; k < e->nargs; k++) {
		const weft_value_t *c = &e->args[k]->cval;
		uint64_t h;

		if (c->null || c->type == WEFT_S_NULL) {
			t->hasnull = true;
			continue;
		}
		h = st == WEFT_STORE_I64 ? in_hash_i(c->u.i)
					 : in_hash_s(&c->u.s);
		while (t->slot[h & t->mask] != 0)
			h++;
		t->slot[h & t->mask] = k;
	}
	t->usable = true;
	return t;
}

int
weft_fn_in_set(const weft_expr_t *e, const weft_opnd_t *x, uint32_t n,
	       weft_vec_t *out)
{
	weft_expr_t *me = (weft_expr_t *)e; /* its cache only */
	int st = weft_sqltype_store(x->v.type);
	bool neg = (e->flags & WEFT_EF_NOT) != 0;
	const weft_inset_t *t;
	uint32_t i;

	if (e->nargs <= WEFT_IN_HASH_MIN ||
	    (st != WEFT_STORE_I64 && st != WEFT_STORE_TEXT))
		return 0;
	if (me->aux == NULL && (me->aux = in_build(e, st)) == NULL)
		return WEFT_ENOMEM;
	t = me->aux;
	if (!t->usable || t->st != st)
		return 0;
	for (i = 0; i < n; i++) {
		int64_t iv = 0;
		weft_str_t sv = {0};
		uint64_t h;
		bool found = false;

		if (ONUL(x, i)) {
			out->nulls[i] = 1;
			out->v.b[i] = 0;
			continue;
		}
		if (st == WEFT_STORE_I64) {
			iv = OI(x, i);
			h = in_hash_i(iv);
		} else {
			sv = OS(x, i);
			h = in_hash_s(&sv);
		}
		for (;; h++) {
			uint32_t k = t->slot[h & t->mask];

			if (k == 0)
				break;
			if (in_eq(st, &e->args[k]->cval, iv, &sv)) {
				found = true;
				break;
			}
		}
		/* x IN (..., NULL) is NULL unless x is in the list */
		out->nulls[i] = !found && t->hasnull;
		out->v.b[i] = out->nulls[i] ? 0 : found != neg;
	}
	return 1;
}
