/*
 * expr_type.c: PostgreSQL's typing rules (weft_expr_resolve): typing and
 * constant folding of expression trees, implicit coercion, common types.
 *
 * Resolution runs in two passes, as PostgreSQL's does: typing (operator
 * and function selection, implicit casts, coercion of unknown literals,
 * whose bad input is an error at the literal's position) and then
 * folding of constant subtrees, top-down so that a CASE arm whose WHEN is
 * constant false is dropped before its result is folded.
 *
 * Invariants after resolve: every node has its result type; the operands
 * of an operator share a storage class (integer types are not cast to
 * each other, nor numeric to double precision, since they share storage;
 * integers are cast before they meet numeric or double operands); CASE x
 * WHEN v is rewritten to CASE WHEN x = v; IN has one common type.
 * Resolving a resolved tree gives the same tree (the fragment decoder
 * relies on it), and trees from elsewhere are checked for their shape
 * (the number of arguments each kind needs) before they are trusted.
 */
#include "query/expr.h"
#include "query/frag.h" /* the limits of an expression tree */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int weft_expr_type(weft_expr_t **slot, weft_err_t *err);
static int weft_expr_fold(weft_expr_t **slot, weft_err_t *err);

/* ---- function signatures ---- */

#define T_ WEFT_S_TEXT
#define I4 WEFT_S_INT32
#define I8 WEFT_S_INT64
#define NU WEFT_S_NUMERIC
#define F8 WEFT_S_FLOAT64
#define TS WEFT_S_TIMESTAMP

typedef struct weft_expr_sig {
	int f;
	uint32_t n;
	weft_sqltype_t a[3];
	weft_sqltype_t r;
} weft_expr_sig_t;

static const weft_expr_sig_t weft_expr_sigs[] = {
    {WEFT_F_LOWER, 1, {T_}, T_},
    {WEFT_F_UPPER, 1, {T_}, T_},
    {WEFT_F_LENGTH, 1, {T_}, I4},
    {WEFT_F_SUBSTR, 2, {T_, I4}, T_},
    {WEFT_F_SUBSTR, 3, {T_, I4, I4}, T_},
    {WEFT_F_BTRIM, 1, {T_}, T_},
    {WEFT_F_BTRIM, 2, {T_, T_}, T_},
    {WEFT_F_LTRIM, 1, {T_}, T_},
    {WEFT_F_LTRIM, 2, {T_, T_}, T_},
    {WEFT_F_RTRIM, 1, {T_}, T_},
    {WEFT_F_RTRIM, 2, {T_, T_}, T_},
    {WEFT_F_REPLACE, 3, {T_, T_, T_}, T_},
    {WEFT_F_LEFT, 2, {T_, I4}, T_},
    {WEFT_F_RIGHT, 2, {T_, I4}, T_},
    {WEFT_F_STRPOS, 2, {T_, T_}, I4},
    {WEFT_F_ABS, 1, {I4}, I4},
    {WEFT_F_ABS, 1, {I8}, I8},
    {WEFT_F_ABS, 1, {NU}, NU},
    {WEFT_F_ABS, 1, {F8}, F8},
    {WEFT_F_ROUND, 1, {F8}, F8},
    {WEFT_F_ROUND, 1, {NU}, NU},
    {WEFT_F_ROUND, 2, {NU, I4}, NU},
    {WEFT_F_FLOOR, 1, {F8}, F8},
    {WEFT_F_FLOOR, 1, {NU}, NU},
    {WEFT_F_CEIL, 1, {F8}, F8},
    {WEFT_F_CEIL, 1, {NU}, NU},
    {WEFT_F_MOD, 2, {I4, I4}, I4},
    {WEFT_F_MOD, 2, {I8, I8}, I8},
    {WEFT_F_MOD, 2, {NU, NU}, NU},
    {WEFT_F_POWER, 2, {F8, F8}, F8},
    {WEFT_F_POWER, 2, {NU, NU}, NU},
    {WEFT_F_SQRT, 1, {F8}, F8},
    {WEFT_F_SQRT, 1, {NU}, NU},
    {WEFT_F_SIGN, 1, {F8}, F8},
    {WEFT_F_SIGN, 1, {NU}, NU},
    {WEFT_F_DATE_TRUNC, 2, {T_, TS}, TS},
    {WEFT_F_DATE_PART, 2, {T_, TS}, F8},
    {WEFT_F_DATE_PART, 2, {T_, WEFT_S_INTERVAL}, F8},
    {WEFT_F_NOW, 0, {0}, TS},
    {WEFT_F_MASK_HASH, 2, {T_, T_}, T_},
    {WEFT_F_MASK_HASH, 2, {I8, T_}, I8},
};

/* ---- type categories (PostgreSQL's typcategory) ---- */

static bool
weft_expr_isunk(weft_sqltype_t t)
{
	return t == WEFT_S_UNKNOWN || t == WEFT_S_NULL;
}

static int
weft_expr_rank(weft_sqltype_t t)
{
	switch (t) {
	case WEFT_S_INT32: return 1;
	case WEFT_S_INT64: return 2;
	case WEFT_S_NUMERIC: return 3;
	case WEFT_S_FLOAT64: return 4;
	default: return 0;
	}
}

static int
weft_expr_cat(weft_sqltype_t t)
{
	if (weft_expr_rank(t))
		return 'N';
	switch (t) {
	case WEFT_S_TEXT: return 'S';
	case WEFT_S_BOOL: return 'B';
	case WEFT_S_TIMESTAMP: return 'D';
	case WEFT_S_INTERVAL: return 'T';
	default: return 'X';
	}
}

static bool
weft_expr_preferred(weft_sqltype_t t)
{
	return t == WEFT_S_FLOAT64 || t == WEFT_S_TEXT || t == WEFT_S_BOOL ||
	       t == WEFT_S_INTERVAL;
}

static bool
weft_expr_implicit(weft_sqltype_t from, weft_sqltype_t to)
{
	return weft_cast__allowed(from, to, false);
}

/* ---- coercion ---- */

/* Evaluate a column-free expression on one row into a CONST node that
 * replaces *slot. */
static int
weft_expr_to_const(weft_expr_t **slot, int scale, weft_err_t *err)
{
	weft_expr_t *e = *slot, *c;
	weft_value_t v;
	int rc;

	rc = weft_expr_eval_const(e, 0, &v, err);
	if (rc != 0)
		return rc;
	c = weft_expr_const(&v, e->location);
	weft_value_clear(&v);
	if (c == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	c->type = e->type;
	c->cval.type = e->type;
	c->scale = scale;
	weft_expr_free(e);
	*slot = c;
	return 0;
}

/*
 * Cast *slot to `to`. Constants are converted now (an unknown literal's
 * bad input is an error at its position); integer types and numeric vs
 * double precision share storage, so `loose` leaves those uncast.
 */
static int
weft_expr_cast_to(weft_expr_t **slot, weft_sqltype_t to, bool loose,
		  weft_err_t *err)
{
	weft_expr_t *e = *slot, *c;
	int rc, scale = -1;

	if (e->type == to)
		return 0;
	if (e->kind == WEFT_E_CONST) {
		if (e->cval.null || e->type == WEFT_S_NULL) {
			weft_value_clear(&e->cval);
			e->type = e->cval.type = to;
			e->cval.null = true;
			e->scale = -1;
			return 0;
		}
		if (e->type == WEFT_S_UNKNOWN || e->type == WEFT_S_TEXT) {
			weft_value_t v;

			if (to == WEFT_S_TEXT || to == WEFT_S_UNKNOWN) {
				e->type = e->cval.type = to;
				return 0;
			}
			rc = weft_cast__parse(to, e->cval.u.s.p,
					      e->cval.u.s.len, &v, &scale, err);
			if (rc != 0) {
				if (err != NULL)
					err->pos = e->location;
				return rc;
			}
			weft_value_clear(&e->cval);
			e->cval = v;
			e->type = to;
			e->scale = to == WEFT_S_NUMERIC ? scale : -1;
			return 0;
		}
	}
	/* Constants are left loose too: folding turns subtrees into
	 * constants after their parents were typed, so treating both alike
	 * keeps resolve idempotent (a decoded fragment re-resolves to the
	 * same tree). */
	if (loose && weft_expr_rank(e->type) && weft_expr_rank(to) &&
	    weft_sqltype_store(e->type) == weft_sqltype_store(to))
		return 0;
	if (weft_expr_rank(e->type) && to == WEFT_S_NUMERIC &&
	    weft_expr_rank(e->type) < 3)
		scale = 0;
	else if (e->type == WEFT_S_NUMERIC && to == WEFT_S_NUMERIC)
		scale = e->scale;
	c = weft_expr_cast(e, to, e->location);
	if (c == NULL) {
		*slot = NULL;
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	c->scale = scale;
	*slot = c;
	if (e->kind == WEFT_E_CONST) {
		rc = weft_expr_to_const(slot, scale, err);
		if (rc != 0 && err != NULL && err->pos == 0)
			err->pos = e->location;
		return rc;
	}
	return 0;
}

int
weft_expr_coerce(weft_expr_t **e, weft_sqltype_t to, weft_err_t *err)
{
	if ((*e)->type == to)
		return 0;
	if (!weft_expr_implicit((*e)->type, to)) {
		if (err != NULL)
			err->pos = (*e)->location;
		return weft_err_set(
		    err, WEFT_ETYPE, "cannot cast type %s to %s",
		    weft_sqltype_name((*e)->type), weft_sqltype_name(to));
	}
	return weft_expr_cast_to(e, to, false, err);
}

int
weft_expr_coerce_bool(weft_expr_t **e, const char *construct, weft_err_t *err)
{
	weft_sqltype_t t = (*e)->type;

	if (t == WEFT_S_BOOL)
		return 0;
	if (weft_expr_isunk(t))
		return weft_expr_cast_to(e, WEFT_S_BOOL, false, err);
	weft_err_set(err, WEFT_ETYPE,
		     "argument of %s must be type boolean, not type %s",
		     construct, weft_sqltype_name(t));
	if (err != NULL)
		err->pos = (*e)->location;
	return WEFT_ETYPE;
}

int
weft_expr_finish(weft_expr_t **e, weft_err_t *err)
{
	if ((*e)->type == WEFT_S_UNKNOWN)
		return weft_expr_cast_to(e, WEFT_S_TEXT, false, err);
	return 0;
}

/* select_common_type: the type, without coercing. */
static int
weft_expr_common_type(weft_expr_t **es, uint32_t n, const char *context,
		      weft_sqltype_t *out, weft_err_t *err)
{
	weft_sqltype_t p = WEFT_S_UNKNOWN;
	bool any_unknown = false, all_null = true;
	uint32_t i, first = 0;

	for (i = 0; i < n; i++) {
		weft_sqltype_t t = es[i]->type;

		if (t != WEFT_S_NULL)
			all_null = false;
		if (weft_expr_isunk(t)) {
			any_unknown = true;
			continue;
		}
		if (p == WEFT_S_UNKNOWN) {
			p = t;
			first = i;
			continue;
		}
		if (t == p)
			continue;
		if (weft_expr_cat(t) != weft_expr_cat(p)) {
			weft_err_set(err, WEFT_ETYPE,
				     "%s types %s and %s cannot be matched",
				     context, weft_sqltype_name(p),
				     weft_sqltype_name(t));
			if (err != NULL)
				err->pos = es[i]->location;
			return WEFT_ETYPE;
		}
		if (weft_expr_implicit(p, t) && !weft_expr_implicit(t, p))
			p = t;
	}
	(void)first;
	(void)any_unknown;
	if (p == WEFT_S_UNKNOWN)
		p = all_null && n > 0 ? WEFT_S_TEXT : WEFT_S_TEXT;
	*out = p;
	return 0;
}

int
weft_expr_common(weft_expr_t **es, uint32_t n, const char *context,
		 weft_sqltype_t *out, weft_err_t *err)
{
	weft_sqltype_t t;
	uint32_t i;
	int rc = weft_expr_common_type(es, n, context, &t, err);

	if (rc != 0)
		return rc;
	for (i = 0; i < n; i++) {
		rc = weft_expr_cast_to(&es[i], t, false, err);
		if (rc != 0)
			return rc;
	}
	if (out != NULL)
		*out = t;
	return 0;
}

/* ---- typing ---- */

static int
weft_expr_noop(const weft_expr_t *e, weft_sqltype_t l, weft_sqltype_t r,
	       weft_err_t *err)
{
	if (e->op == WEFT_OP_NEG)
		weft_err_set(err, WEFT_ETYPE, "operator does not exist: - %s",
			     weft_sqltype_name(l));
	else
		weft_err_set(err, WEFT_ETYPE,
			     "operator does not exist: %s %s %s",
			     weft_sqltype_name(l), weft_expr__opname(e->op),
			     weft_sqltype_name(r));
	if (err != NULL)
		err->pos = e->location;
	return WEFT_ETYPE;
}

static int
weft_expr_notunique(const weft_expr_t *e, weft_err_t *err)
{
	if (e->op == WEFT_OP_NEG)
		weft_err_set(err, WEFT_ETYPE,
			     "operator is not unique: - unknown");
	else
		weft_err_set(err, WEFT_ETYPE,
			     "operator is not unique: unknown %s unknown",
			     weft_expr__opname(e->op));
	if (err != NULL)
		err->pos = e->location;
	return WEFT_ETYPE;
}

/* Arithmetic signature for known types: operand and result types. */
static bool
weft_expr_arith_sig(int op, weft_sqltype_t l, weft_sqltype_t r,
		    weft_sqltype_t *lt, weft_sqltype_t *rt, weft_sqltype_t *res)
{
	int rl = weft_expr_rank(l), rr = weft_expr_rank(r);

	if (rl && rr) {
		weft_sqltype_t m = rl > rr ? l : r;

		if (op == WEFT_OP_MOD && m == WEFT_S_FLOAT64)
			return false;
		*res = m;
		*lt = *rt = m;
		if (m == WEFT_S_INT64) /* int4 and int8 mix: same storage */
			*lt = l, *rt = r;
		return true;
	}
	*lt = l;
	*rt = r;
	if (l == WEFT_S_TIMESTAMP && r == WEFT_S_TIMESTAMP &&
	    op == WEFT_OP_SUB) {
		*res = WEFT_S_INTERVAL;
		return true;
	}
	if (l == WEFT_S_TIMESTAMP && r == WEFT_S_INTERVAL &&
	    (op == WEFT_OP_ADD || op == WEFT_OP_SUB)) {
		*res = WEFT_S_TIMESTAMP;
		return true;
	}
	if (l == WEFT_S_INTERVAL && r == WEFT_S_TIMESTAMP &&
	    op == WEFT_OP_ADD) {
		*res = WEFT_S_TIMESTAMP;
		return true;
	}
	if (l == WEFT_S_INTERVAL && r == WEFT_S_INTERVAL &&
	    (op == WEFT_OP_ADD || op == WEFT_OP_SUB)) {
		*res = WEFT_S_INTERVAL;
		return true;
	}
	if (l == WEFT_S_INTERVAL && rr &&
	    (op == WEFT_OP_MUL || op == WEFT_OP_DIV)) {
		*rt = WEFT_S_FLOAT64;
		*res = WEFT_S_INTERVAL;
		return true;
	}
	if (rl && r == WEFT_S_INTERVAL && op == WEFT_OP_MUL) {
		*lt = WEFT_S_FLOAT64;
		*res = WEFT_S_INTERVAL;
		return true;
	}
	return false;
}

static int
weft_expr_scale_arith(int op, int sa, int sb)
{
	if (sa < 0 || sb < 0)
		return -1;
	switch (op) {
	case WEFT_OP_ADD:
	case WEFT_OP_SUB:
	case WEFT_OP_MOD: return sa > sb ? sa : sb;
	case WEFT_OP_MUL: return sa + sb > 1000 ? 1000 : sa + sb;
	default: return -1;
	}
}

/* Scale a NUMERIC operand has: its own, or 0 for an integer. */
static int
weft_expr_nscale(const weft_expr_t *e)
{
	if (e->type == WEFT_S_INT32 || e->type == WEFT_S_INT64)
		return 0;
	return e->scale;
}

static int
weft_expr_type_arith(weft_expr_t *e, weft_err_t *err)
{
	weft_expr_t **a = e->args;
	weft_sqltype_t l = a[0]->type, r, lt, rt, res;
	int rc, sa, sb;

	if (e->op == WEFT_OP_NEG) {
		if (weft_expr_isunk(l))
			return weft_expr_notunique(e, err);
		if (!weft_expr_rank(l) && l != WEFT_S_INTERVAL)
			return weft_expr_noop(e, l, l, err);
		e->type = l;
		e->scale = l == WEFT_S_NUMERIC ? a[0]->scale : -1;
		return 0;
	}
	r = a[1]->type;
	if (weft_expr_isunk(l) && weft_expr_isunk(r))
		return weft_expr_notunique(e, err);
	if (weft_expr_isunk(l) || weft_expr_isunk(r)) {
		/* An unknown operand is taken as the other's type if that
		 * operator exists, else the one candidate there is. */
		weft_sqltype_t k = weft_expr_isunk(l) ? r : l;

		if (weft_expr_arith_sig(e->op, k, k, &lt, &rt, &res)) {
			l = weft_expr_isunk(l) ? k : l;
			r = weft_expr_isunk(r) ? k : r;
		} else if (k == WEFT_S_TIMESTAMP && e->op == WEFT_OP_ADD) {
			l = weft_expr_isunk(l) ? WEFT_S_INTERVAL : l;
			r = weft_expr_isunk(r) ? WEFT_S_INTERVAL : r;
		} else {
			return weft_expr_noop(e, a[0]->type, a[1]->type, err);
		}
		if ((rc = weft_expr_cast_to(&a[0], l, false, err)) != 0 ||
		    (rc = weft_expr_cast_to(&a[1], r, false, err)) != 0)
			return rc;
	}
	if (!weft_expr_arith_sig(e->op, l, r, &lt, &rt, &res))
		return weft_expr_noop(e, l, r, err);
	sa = weft_expr_nscale(a[0]);
	sb = weft_expr_nscale(a[1]);
	if ((rc = weft_expr_cast_to(&a[0], lt, true, err)) != 0 ||
	    (rc = weft_expr_cast_to(&a[1], rt, true, err)) != 0)
		return rc;
	e->type = res;
	e->scale =
	    res == WEFT_S_NUMERIC ? weft_expr_scale_arith(e->op, sa, sb) : -1;
	return 0;
}

/* Bring two comparison operands to one type; `ctx` is the operator
 * node for error messages. */
static int
weft_expr_type_cmp_pair(const weft_expr_t *ctx, weft_expr_t **a,
			weft_expr_t **b, weft_err_t *err)
{
	weft_sqltype_t l = (*a)->type, r = (*b)->type, t;
	int rc;

	if (weft_expr_isunk(l) && weft_expr_isunk(r))
		t = WEFT_S_TEXT;
	else if (weft_expr_isunk(l))
		t = r;
	else if (weft_expr_isunk(r))
		t = l;
	else if (l == r)
		t = l;
	else if (weft_expr_rank(l) && weft_expr_rank(r))
		t = weft_expr_rank(l) > weft_expr_rank(r) ? l : r;
	else
		return weft_expr_noop(ctx, l, r, err);
	if ((rc = weft_expr_cast_to(a, t, true, err)) != 0 ||
	    (rc = weft_expr_cast_to(b, t, true, err)) != 0)
		return rc;
	return 0;
}

static int
weft_expr_type_op(weft_expr_t *e, weft_err_t *err)
{
	weft_expr_t **a = e->args;
	int rc;

	if (e->op < WEFT_OP_ADD || e->op > WEFT_OP_CONCAT)
		return weft_err_set(err, WEFT_EINVAL, "unknown operator %d",
				    e->op);
	if ((e->op == WEFT_OP_NEG && e->nargs != 1) ||
	    (e->op != WEFT_OP_NEG && e->nargs != 2))
		return weft_err_set(err, WEFT_EINVAL,
				    "operator %s: wrong number of operands",
				    weft_expr__opname(e->op));
	switch (e->op) {
	case WEFT_OP_ADD:
	case WEFT_OP_SUB:
	case WEFT_OP_MUL:
	case WEFT_OP_DIV:
	case WEFT_OP_MOD:
	case WEFT_OP_NEG: return weft_expr_type_arith(e, err);
	case WEFT_OP_CONCAT: {
		weft_sqltype_t l = a[0]->type, r = a[1]->type;
		bool ls = l == WEFT_S_TEXT || weft_expr_isunk(l);
		bool rs = r == WEFT_S_TEXT || weft_expr_isunk(r);

		if (!ls && !rs)
			return weft_expr_noop(e, l, r, err);
		/* text || anynonarray: the other side goes through its
		 * output function */
		if (!ls)
			a[0] =
			    weft_expr_cast(a[0], WEFT_S_TEXT, a[0]->location);
		if (!rs)
			a[1] =
			    weft_expr_cast(a[1], WEFT_S_TEXT, a[1]->location);
		if (a[0] == NULL || a[1] == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		if ((rc = weft_expr_cast_to(&a[0], WEFT_S_TEXT, false, err)) !=
			0 ||
		    (rc = weft_expr_cast_to(&a[1], WEFT_S_TEXT, false, err)) !=
			0)
			return rc;
		e->type = WEFT_S_TEXT;
		return 0;
	}
	default:
		rc = weft_expr_type_cmp_pair(e, &a[0], &a[1], err);
		if (rc != 0)
			return rc;
		e->type = WEFT_S_BOOL;
		return 0;
	}
}

static int
weft_expr_fn_noexist(const weft_expr_t *e, bool unique, weft_err_t *err)
{
	char buf[256];
	size_t o = 0;
	uint32_t i;

	buf[0] = 0;
	for (i = 0; i < e->nargs && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
				      i ? ", " : "",
				      weft_sqltype_name(e->args[i]->type));
	weft_err_set(err, WEFT_ETYPE, "function %s(%s) %s",
		     weft_expr__fname(e->op), buf,
		     unique ? "is not unique" : "does not exist");
	if (err != NULL)
		err->pos = e->location;
	return WEFT_ETYPE;
}

/*
 * PostgreSQL's function resolution (func_select_candidate), over the
 * signatures above: keep candidates every argument can be implicitly
 * coerced to; prefer most exact matches, then most preferred types where
 * a conversion is needed, then resolve unknown arguments by category
 * (string first, then a preferred type).
 */
static int
weft_expr_pick_sig(const weft_expr_t *e, const weft_expr_sig_t **out,
		   weft_err_t *err)
{
	const weft_expr_sig_t *cand[16];
	size_t ns = sizeof(weft_expr_sigs) / sizeof(*weft_expr_sigs), i;
	uint32_t nc = 0, k, j, best;
	int score[16];

	for (i = 0; i < ns; i++) {
		const weft_expr_sig_t *s = &weft_expr_sigs[i];
		bool ok = s->f == e->op && s->n == e->nargs;

		for (j = 0; ok && j < s->n; j++)
			ok = weft_expr_implicit(e->args[j]->type, s->a[j]);
		if (ok && nc < 16)
			cand[nc++] = s;
	}
	if (nc == 0)
		return weft_expr_fn_noexist(e, false, err);
	/* exact matches */
	for (k = 0, best = 0; k < nc; k++) {
		score[k] = 0;
		for (j = 0; j < e->nargs; j++)
			score[k] += e->args[j]->type == cand[k]->a[j];
		if ((uint32_t)score[k] > best)
			best = (uint32_t)score[k];
	}
	for (k = 0, j = 0; k < nc; k++)
		if ((uint32_t)score[k] == best)
			cand[j++] = cand[k];
	nc = j;
	/* preferred types where conversion is needed */
	if (nc > 1) {
		int b = -1;

		for (k = 0; k < nc; k++) {
			score[k] = 0;
			for (j = 0; j < e->nargs; j++) {
				weft_sqltype_t t = e->args[j]->type;

				if (!weft_expr_isunk(t) && t != cand[k]->a[j] &&
				    weft_expr_preferred(cand[k]->a[j]))
					score[k]++;
			}
			if (score[k] > b)
				b = score[k];
		}
		for (k = 0, j = 0; k < nc; k++)
			if (score[k] == b)
				cand[j++] = cand[k];
		nc = j;
	}
	/* unknown arguments */
	for (j = 0; j < e->nargs && nc > 1; j++) {
		int cat = 0;
		bool mixed = false, pref = false;

		if (!weft_expr_isunk(e->args[j]->type))
			continue;
		for (k = 0; k < nc; k++) {
			int c = weft_expr_cat(cand[k]->a[j]);

			if (c == 'S')
				cat = 'S';
		}
		if (cat == 0) {
			cat = weft_expr_cat(cand[0]->a[j]);
			for (k = 1; k < nc; k++)
				if (weft_expr_cat(cand[k]->a[j]) != cat)
					mixed = true;
			if (mixed)
				return weft_expr_fn_noexist(e, true, err);
		}
		for (k = 0, i = 0; k < nc; k++)
			if (weft_expr_cat(cand[k]->a[j]) == cat) {
				cand[i++] = cand[k];
				pref |= weft_expr_preferred(cand[k]->a[j]);
			}
		nc = (uint32_t)i;
		if (pref) {
			for (k = 0, i = 0; k < nc; k++)
				if (weft_expr_preferred(cand[k]->a[j]))
					cand[i++] = cand[k];
			nc = (uint32_t)i;
		}
	}
	if (nc != 1)
		return weft_expr_fn_noexist(e, true, err);
	*out = cand[0];
	return 0;
}

static int
weft_expr_type_func(weft_expr_t *e, weft_err_t *err)
{
	const weft_expr_sig_t *s = NULL;
	uint32_t i;
	int rc;

	if (e->op == WEFT_F_CONCAT) {
		for (i = 0; i < e->nargs; i++) {
			weft_expr_t *a = e->args[i];

			if (a->type == WEFT_S_TEXT)
				continue;
			if (!weft_expr_isunk(a->type) &&
			    a->kind != WEFT_E_CONST) {
				e->args[i] =
				    weft_expr_cast(a, WEFT_S_TEXT, a->location);
				if (e->args[i] == NULL)
					return weft_err_set(err, WEFT_ENOMEM,
							    "out of memory");
				e->args[i]->flags |= WEFT_EF_OUTFN;
				continue;
			}
			if (a->kind == WEFT_E_CONST && a->type == WEFT_S_BOOL &&
			    !a->cval.null) {
				weft_expr_t *t = weft_expr_str(
				    a->cval.u.b ? "t" : "f", 1, a->location);

				if (t == NULL)
					return weft_err_set(err, WEFT_ENOMEM,
							    "out of memory");
				weft_expr_free(a);
				e->args[i] = t;
			}
			rc = weft_expr_cast_to(&e->args[i], WEFT_S_TEXT, false,
					       err);
			if (rc != 0)
				return rc;
		}
		e->type = WEFT_S_TEXT;
		return 0;
	}
	rc = weft_expr_pick_sig(e, &s, err);
	if (rc != 0)
		return rc;
	for (i = 0; i < e->nargs; i++) {
		int sc = e->args[i]->scale;

		rc = weft_expr_cast_to(&e->args[i], s->a[i], false, err);
		if (rc != 0)
			return rc;
		if (s->a[i] == WEFT_S_NUMERIC && e->args[i]->scale < 0 &&
		    sc >= 0)
			e->args[i]->scale = sc;
	}
	e->type = s->r;
	e->scale = -1;
	if (e->type != WEFT_S_NUMERIC &&
	    !(e->op == WEFT_F_DATE_PART && (e->flags & WEFT_EF_EXTRACT)))
		return 0;
	switch (e->op) {
	case WEFT_F_ROUND:
		if (e->nargs == 1)
			e->scale = 0;
		else if (e->args[1]->kind == WEFT_E_CONST &&
			 !e->args[1]->cval.null)
			e->scale = e->args[1]->cval.u.i < 0
				       ? 0
				       : (int)(e->args[1]->cval.u.i > 1000
						   ? 1000
						   : e->args[1]->cval.u.i);
		break;
	case WEFT_F_FLOOR:
	case WEFT_F_CEIL:
	case WEFT_F_SIGN: e->scale = 0; break;
	case WEFT_F_ABS: e->scale = e->args[0]->scale; break;
	case WEFT_F_MOD:
		e->scale = weft_expr_scale_arith(WEFT_OP_MOD, e->args[0]->scale,
						 e->args[1]->scale);
		break;
	case WEFT_F_DATE_PART: {
		const weft_expr_t *f = e->args[0];

		e->type = WEFT_S_NUMERIC;
		if (f->kind == WEFT_E_CONST && !f->cval.null) {
			const char *u = f->cval.u.s.p;

			if (!strcasecmp(u, "second") ||
			    !strcasecmp(u, "seconds") ||
			    !strcasecmp(u, "epoch"))
				e->scale = 6;
			else if (!strncasecmp(u, "millisecond", 11))
				e->scale = 3;
			else if (strcasecmp(u, "julian"))
				e->scale = 0;
		}
		break;
	}
	default: break;
	}
	return 0;
}

/* CASE x WHEN v THEN r -> CASE WHEN x = v THEN r. */
static int
weft_expr_case_searched(weft_expr_t *e, weft_err_t *err)
{
	weft_expr_t *x = e->args[0];
	uint32_t i, npairs;
	bool has_else = (e->flags & WEFT_EF_CASE_ELSE) != 0;
	int rc;

	npairs = (e->nargs - 1 - (has_else ? 1 : 0)) / 2;
	/* x is copied into every arm: nested CASE x WHEN ... would grow
	 * exponentially */
	if (npairs > 0 && weft_expr_nodes(x) > WEFT_FRAG_NODES_MAX / npairs) {
		rc = weft_err_set(err, WEFT_EINVAL,
				  "expression too large (more "
				  "than %d nodes)",
				  WEFT_FRAG_NODES_MAX);
		if (err != NULL)
			err->pos = e->location;
		return rc;
	}
	for (i = 0; i < npairs; i++) {
		weft_expr_t *args[2], *eq;

		args[0] = weft_expr_copy(x);
		args[1] = e->args[1 + 2 * i];
		if (args[0] == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		e->args[1 + 2 * i] = NULL;
		eq = weft_expr_node(WEFT_E_OP, WEFT_OP_EQ, 0, 2, args,
				    args[1]->location);
		if (eq == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		e->args[1 + 2 * i] = eq;
		rc = weft_expr_type_op(eq, err);
		if (rc != 0)
			return rc;
	}
	weft_expr_free(x);
	memmove(e->args, e->args + 1, (e->nargs - 1) * sizeof(*e->args));
	e->nargs--;
	e->flags &= ~WEFT_EF_CASE_OPERAND;
	return 0;
}

static int
weft_expr_type_case(weft_expr_t *e, weft_err_t *err)
{
	bool has_else;
	uint32_t i, npairs, nres = 0;
	weft_expr_t *res[1024];
	weft_sqltype_t t;
	int rc, scale = -2;

	if (e->flags & WEFT_EF_CASE_OPERAND) {
		if (e->nargs < 3)
			return weft_err_set(err, WEFT_EINVAL, "malformed CASE");
		rc = weft_expr_case_searched(e, err);
		if (rc != 0)
			return rc;
	}
	has_else = (e->flags & WEFT_EF_CASE_ELSE) != 0;
	npairs = (e->nargs - (has_else ? 1 : 0)) / 2;
	if (npairs == 0 || npairs * 2 + (has_else ? 1 : 0) != e->nargs ||
	    npairs >= 1000)
		return weft_err_set(err, WEFT_EINVAL, "malformed CASE");
	for (i = 0; i < npairs; i++) {
		rc = weft_expr_coerce_bool(&e->args[2 * i], "CASE/WHEN", err);
		if (rc != 0)
			return rc;
		res[nres++] = e->args[2 * i + 1];
	}
	if (has_else)
		res[nres++] = e->args[e->nargs - 1];
	rc = weft_expr_common_type(res, nres, "CASE", &t, err);
	if (rc != 0)
		return rc;
	for (i = 0; i < npairs; i++) {
		rc = weft_expr_cast_to(&e->args[2 * i + 1], t, false, err);
		if (rc != 0)
			return rc;
	}
	if (has_else) {
		rc = weft_expr_cast_to(&e->args[e->nargs - 1], t, false, err);
		if (rc != 0)
			return rc;
	}
	e->type = t;
	if (t == WEFT_S_NUMERIC) {
		for (i = 0; i < e->nargs; i++) {
			const weft_expr_t *r = e->args[i];

			if (i % 2 == 0 && !(has_else && i == e->nargs - 1))
				continue;
			if (r->kind == WEFT_E_CONST && r->cval.null)
				continue;
			if (scale == -2)
				scale = r->scale;
			else if (scale != r->scale)
				scale = -1;
		}
		e->scale = scale < 0 ? -1 : scale;
	}
	return 0;
}

static int
weft_expr_type_in(weft_expr_t *e, weft_err_t *err)
{
	weft_sqltype_t t;
	weft_err_t tmp = {0};
	int rc;

	if (e->nargs < 2)
		return weft_err_set(err, WEFT_EINVAL, "malformed IN");
	rc = weft_expr_common_type(e->args, e->nargs, "IN", &t, &tmp);
	if (rc != 0) {
		/* PostgreSQL falls back to x = v per element, whose
		 * operator lookup then fails */
		uint32_t i;

		for (i = 1; i < e->nargs; i++) {
			weft_sqltype_t l = e->args[0]->type,
				       r = e->args[i]->type;

			if (weft_expr_cat(l) != weft_expr_cat(r) &&
			    !weft_expr_isunk(l) && !weft_expr_isunk(r)) {
				weft_err_set(err, WEFT_ETYPE,
					     "operator does not exist: %s = %s",
					     weft_sqltype_name(l),
					     weft_sqltype_name(r));
				if (err != NULL)
					err->pos = e->location;
				return WEFT_ETYPE;
			}
		}
		if (err != NULL)
			*err = tmp;
		return rc;
	}
	rc = weft_expr_common(e->args, e->nargs, "IN", NULL, err);
	if (rc != 0)
		return rc;
	e->type = WEFT_S_BOOL;
	return 0;
}

static int
weft_expr_type_like(weft_expr_t *e, weft_err_t *err)
{
	uint32_t i;
	int rc;

	if (e->nargs < 2 || e->nargs > 3)
		return weft_err_set(err, WEFT_EINVAL, "malformed LIKE");
	for (i = 0; i < 2; i++) {
		weft_sqltype_t t = e->args[i]->type;

		if (t != WEFT_S_TEXT && !weft_expr_isunk(t)) {
			weft_err_set(err, WEFT_ETYPE,
				     "operator does not exist: %s %s %s",
				     weft_sqltype_name(e->args[0]->type),
				     (e->flags & WEFT_EF_ILIKE) ? "~~*" : "~~",
				     weft_sqltype_name(e->args[1]->type));
			if (err != NULL)
				err->pos = e->location;
			return WEFT_ETYPE;
		}
	}
	for (i = 0; i < e->nargs; i++) {
		rc = weft_expr_cast_to(&e->args[i], WEFT_S_TEXT, false, err);
		if (rc != 0)
			return rc;
	}
	e->type = WEFT_S_BOOL;
	return 0;
}

/* CAST(x AS t): a no-op cast goes, a constant is cast now (so that a
 * bad literal fails at its position), else the cast must exist. */
static int
weft_expr_type_cast(weft_expr_t **slot, weft_err_t *err)
{
	weft_expr_t *e = *slot;
	weft_sqltype_t t;
	int rc;

	t = e->type != WEFT_S_NULL ? e->type : (weft_sqltype_t)e->op;
	if (e->nargs != 1 || t <= WEFT_S_NULL || t > WEFT_S_UNKNOWN)
		return weft_err_set(err, WEFT_EINVAL, "malformed CAST");
	e->type = t;
	e->op = (int)t;
	if (e->args[0]->type == t) {
		/* a no-op cast: keep the child */
		*slot = e->args[0];
		e->nargs = 0;
		weft_expr_free(e);
		return 0;
	}
	if (!weft_cast__allowed(e->args[0]->type, t, true)) {
		weft_err_set(err, WEFT_ETYPE, "cannot cast type %s to %s",
			     weft_sqltype_name(e->args[0]->type),
			     weft_sqltype_name(t));
		if (err != NULL)
			err->pos = e->location;
		return WEFT_ETYPE;
	}
	{
		weft_expr_t *c = e->args[0];
		bool integral =
		    weft_expr_rank(c->type) && weft_expr_rank(c->type) < 3;

		if (c->kind == WEFT_E_CONST) {
			/* fold now: a bad literal fails at its
			 * position */
			*slot = c;
			e->nargs = 0;
			weft_expr_free(e);
			rc = weft_expr_cast_to(slot, t, false, err);
			if (rc == 0 && (*slot)->type == WEFT_S_NUMERIC &&
			    integral)
				(*slot)->scale = 0;
			return rc;
		}
		e->scale = t == WEFT_S_NUMERIC
			       ? (integral		      ? 0
				  : c->type == WEFT_S_NUMERIC ? c->scale
							      : -1)
			       : -1;
	}
	return 0;
}

/* COALESCE: the common type of its arguments. */
static int
weft_expr_type_coalesce(weft_expr_t *e, weft_err_t *err)
{
	weft_sqltype_t t;
	uint32_t i;
	int rc;

	if (e->nargs < 1)
		return weft_err_set(err, WEFT_EINVAL, "malformed COALESCE");
	rc = weft_expr_common(e->args, e->nargs, "COALESCE", &t, err);
	if (rc != 0)
		return rc;
	e->type = t;
	if (t == WEFT_S_NUMERIC) {
		e->scale = e->args[0]->scale;
		for (i = 1; i < e->nargs; i++)
			if (e->args[i]->scale != e->scale &&
			    !(e->args[i]->kind == WEFT_E_CONST &&
			      e->args[i]->cval.null))
				e->scale = -1;
	}
	return 0;
}

/* NULLIF(a, b): typed as the comparison a = b, whose type is also the
 * result's. */
static int
weft_expr_type_nullif(weft_expr_t *e, weft_err_t *err)
{
	weft_sqltype_t t;
	int rc;

	if (e->nargs != 2)
		return weft_err_set(err, WEFT_EINVAL, "malformed NULLIF");
	{
		weft_expr_t fake = *e;

		fake.op = WEFT_OP_EQ;
		rc = weft_expr_type_cmp_pair(&fake, &e->args[0], &e->args[1],
					     err);
	}
	if (rc != 0)
		return rc;
	/* the result has the comparison's type; make it exact */
	t = e->args[0]->type;
	if (weft_expr_rank(e->args[1]->type) > weft_expr_rank(t))
		t = e->args[1]->type;
	if (weft_expr_isunk(t))
		t = WEFT_S_TEXT;
	rc = weft_expr_cast_to(&e->args[0], t, false, err);
	if (rc == 0)
		rc = weft_expr_cast_to(&e->args[1], t, false, err);
	e->type = t;
	e->scale = e->args[0]->scale;
	return rc;
}

/* AND, OR (and NOT, of one argument): boolean arguments. */
static int
weft_expr_type_bool(weft_expr_t *e, weft_err_t *err)
{
	uint32_t i;
	int rc;

	if (e->kind == WEFT_E_NOT && e->nargs != 1)
		return weft_err_set(err, WEFT_EINVAL, "malformed NOT");
	for (i = 0; i < e->nargs; i++) {
		rc = weft_expr_coerce_bool(&e->args[i],
					   e->kind == WEFT_E_AND  ? "AND"
					   : e->kind == WEFT_E_OR ? "OR"
								  : "NOT",
					   err);
		if (rc != 0)
			return rc;
	}
	e->type = WEFT_S_BOOL;
	return 0;
}

static int
weft_expr_type_node(weft_expr_t **slot, weft_err_t *err)
{
	weft_expr_t *e = *slot;
	uint32_t i;
	int rc;

	for (i = 0; i < e->nargs; i++) {
		rc = weft_expr_type(&e->args[i], err);
		if (rc != 0)
			return rc;
	}
	switch (e->kind) {
	case WEFT_E_COL:
	case WEFT_E_CONST:
	case WEFT_E_PARAM: return 0;
	case WEFT_E_OP: return weft_expr_type_op(e, err);
	case WEFT_E_AND:
	case WEFT_E_OR:
	case WEFT_E_NOT: return weft_expr_type_bool(e, err);
	case WEFT_E_ISNULL:
		if (e->nargs != 1)
			return weft_err_set(err, WEFT_EINVAL,
					    "malformed IS NULL");
		e->type = WEFT_S_BOOL;
		return 0;
	case WEFT_E_IN: return weft_expr_type_in(e, err);
	case WEFT_E_LIKE: return weft_expr_type_like(e, err);
	case WEFT_E_CASE: return weft_expr_type_case(e, err);
	case WEFT_E_CAST: return weft_expr_type_cast(slot, err);
	case WEFT_E_FUNC: return weft_expr_type_func(e, err);
	case WEFT_E_COALESCE: return weft_expr_type_coalesce(e, err);
	case WEFT_E_NULLIF: return weft_expr_type_nullif(e, err);
	}
	return weft_err_set(err, WEFT_EINVAL, "unknown expression kind %d",
			    (int)e->kind);
}

static int
weft_expr_type(weft_expr_t **slot, weft_err_t *err)
{
	if (*slot == NULL)
		return weft_err_set(err, WEFT_EINVAL, "missing expression");
	return weft_expr_type_node(slot, err);
}

/* ---- folding ---- */

static bool
weft_expr_const_true(const weft_expr_t *e)
{
	return e->kind == WEFT_E_CONST && !e->cval.null &&
	       e->type == WEFT_S_BOOL && e->cval.u.b;
}

static bool
weft_expr_const_falsy(const weft_expr_t *e)
{
	return e->kind == WEFT_E_CONST &&
	       (e->cval.null || (e->type == WEFT_S_BOOL && !e->cval.u.b));
}

/* Remove args [i, i + k) from e, freeing them. */
static void
weft_expr_drop(weft_expr_t *e, uint32_t i, uint32_t k)
{
	uint32_t j;

	for (j = i; j < i + k; j++)
		weft_expr_free(e->args[j]);
	memmove(e->args + i, e->args + i + k,
		(e->nargs - i - k) * sizeof(*e->args));
	e->nargs -= k;
}

/* Replace *slot by its arg i. */
static void
weft_expr_hoist(weft_expr_t **slot, uint32_t i)
{
	weft_expr_t *e = *slot, *a = e->args[i];

	e->args[i] = NULL;
	weft_expr_free(e);
	*slot = a;
}

static int
weft_expr_null_of(weft_expr_t **slot, weft_sqltype_t t, int scale)
{
	weft_expr_t *n = weft_expr_null((*slot)->location);

	if (n == NULL)
		return WEFT_ENOMEM;
	n->type = n->cval.type = t;
	n->scale = scale;
	weft_expr_free(*slot);
	*slot = n;
	return 0;
}

static int
weft_expr_fold_case(weft_expr_t **slot, weft_err_t *err)
{
	weft_expr_t *e = *slot;
	bool has_else = (e->flags & WEFT_EF_CASE_ELSE) != 0;
	uint32_t i = 0;
	int rc;

	while (i + 1 < e->nargs || (!has_else && i < e->nargs)) {
		if (has_else && i == e->nargs - 1)
			break;
		rc = weft_expr_fold(&e->args[i], err);
		if (rc != 0)
			return rc;
		if (weft_expr_const_falsy(e->args[i])) {
			weft_expr_drop(e, i, 2);
			continue;
		}
		if (weft_expr_const_true(e->args[i])) {
			/* this arm wins: it becomes the ELSE */
			weft_expr_drop(e, i + 2, e->nargs - i - 2);
			weft_expr_drop(e, i, 1);
			has_else = true;
			e->flags |= WEFT_EF_CASE_ELSE;
			break;
		}
		rc = weft_expr_fold(&e->args[i + 1], err);
		if (rc != 0)
			return rc;
		i += 2;
	}
	if (has_else) {
		rc = weft_expr_fold(&e->args[e->nargs - 1], err);
		if (rc != 0)
			return rc;
	}
	if (e->nargs == 0)
		return weft_expr_null_of(slot, e->type, e->scale);
	if (e->nargs == 1 && has_else)
		weft_expr_hoist(slot, 0);
	return 0;
}

static int
weft_expr_fold(weft_expr_t **slot, weft_err_t *err)
{
	weft_expr_t *e = *slot;
	uint32_t i;
	int rc, scale;
	bool all = true;

	switch (e->kind) {
	case WEFT_E_COL:
	case WEFT_E_CONST:
	case WEFT_E_PARAM: return 0;
	case WEFT_E_CASE: return weft_expr_fold_case(slot, err);
	case WEFT_E_COALESCE:
		for (i = 0; i < e->nargs;) {
			rc = weft_expr_fold(&e->args[i], err);
			if (rc != 0)
				return rc;
			if (e->args[i]->kind == WEFT_E_CONST) {
				if (e->args[i]->cval.null) {
					weft_expr_drop(e, i, 1);
					continue;
				}
				weft_expr_drop(e, i + 1, e->nargs - i - 1);
				break;
			}
			i++;
		}
		if (e->nargs == 0)
			return weft_expr_null_of(slot, e->type, e->scale);
		if (e->nargs == 1)
			weft_expr_hoist(slot, 0);
		return 0;
	default: break;
	}
	for (i = 0; i < e->nargs; i++) {
		rc = weft_expr_fold(&e->args[i], err);
		if (rc != 0)
			return rc;
		all = all && e->args[i]->kind == WEFT_E_CONST;
	}
	if (e->kind == WEFT_E_AND || e->kind == WEFT_E_OR) {
		bool is_and = e->kind == WEFT_E_AND;

		for (i = 0; i < e->nargs;) {
			weft_expr_t *a = e->args[i];

			if (a->kind == WEFT_E_CONST && !a->cval.null &&
			    a->cval.u.b != is_and) {
				weft_expr_t *c =
				    weft_expr_bool(!is_and, e->location);

				if (c == NULL)
					return WEFT_ENOMEM;
				weft_expr_free(e);
				*slot = c;
				return 0;
			}
			if (a->kind == WEFT_E_CONST && !a->cval.null) {
				weft_expr_drop(e, i, 1);
				continue;
			}
			i++;
		}
		if (e->nargs == 0) {
			weft_expr_t *c = weft_expr_bool(is_and, e->location);

			if (c == NULL)
				return WEFT_ENOMEM;
			weft_expr_free(e);
			*slot = c;
			return 0;
		}
		if (e->nargs == 1)
			weft_expr_hoist(slot, 0);
		return 0;
	}
	if (!all || (e->kind == WEFT_E_FUNC && e->op == WEFT_F_NOW))
		return 0;
	scale = e->scale;
	if (e->kind == WEFT_E_OP && e->op == WEFT_OP_DIV &&
	    e->type == WEFT_S_NUMERIC && !e->args[0]->cval.null &&
	    !e->args[1]->cval.null)
		scale = weft_numeric_div_scale(
		    e->args[0]->cval.u.f, weft_expr_nscale(e->args[0]),
		    e->args[1]->cval.u.f, weft_expr_nscale(e->args[1]));
	return weft_expr_to_const(slot, scale, err);
}

int
weft_numeric_div_scale(double x, int sx, double y, int sy)
{
	int w1 = 0, w2 = 0, q, r;
	double f1 = 0, f2 = 1;

	if (isfinite(x) && x != 0) {
		int e = (int)floor(log10(fabs(x)));

		w1 = e >= 0 ? e / 4 : -((-e + 3) / 4);
		f1 = floor(fabs(x) / pow(10000, w1));
	}
	if (isfinite(y) && y != 0) {
		int e = (int)floor(log10(fabs(y)));

		w2 = e >= 0 ? e / 4 : -((-e + 3) / 4);
		f2 = floor(fabs(y) / pow(10000, w2));
	}
	q = w1 - w2;
	if (f1 <= f2)
		q--;
	r = 16 - q * 4;
	if (sx > r)
		r = sx;
	if (sy > r)
		r = sy;
	if (r < 0)
		r = 0;
	if (r > 1000)
		r = 1000;
	return r;
}

int
weft_expr_resolve(weft_expr_t **e, weft_err_t *err)
{
	int rc = weft_expr_type(e, err);

	if (rc != 0)
		return rc;
	return weft_expr_fold(e, err);
}
