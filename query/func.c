/*
 * func.c: vectorised evaluation of resolved expression trees over a batch:
 * operators, three-valued logic, IN, LIKE, CASE, COALESCE, NULLIF and the
 * scalar functions, with PostgreSQL's semantics.
 *
 * Operands are "opnds": a vector plus an index mask, 0 for a constant
 * (every row reads slot 0) and all ones for a vector, so one loop serves
 * column op column and column op constant. A selection array (NULL = all
 * rows) marks the rows whose errors count: rows a CASE arm, AND/OR or
 * COALESCE would not evaluate in PostgreSQL still get computed here, but
 * their errors are ignored and their values never used.
 *
 * Text functions and LIKE are in func_text.c, which works on operands
 * evaluated here; what both share is in func.h.
 */
#include "query/func.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Fetch e as an operand. o must not move afterwards (a constant's
 * vector points into it). */
static int
weft_opnd_get(const weft_expr_t *e, const weft_ectx_t *cx, const uint8_t *sel,
	      weft_opnd_t *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if (e->kind == WEFT_E_CONST) {
		o->v.type = e->type;
		o->v.nulls = &o->cnull;
		o->cnull = e->cval.null || e->type == WEFT_S_NULL;
		o->v.has_scale = e->type == WEFT_S_NUMERIC && e->scale >= 0;
		o->v.scale = (int16_t)(o->v.has_scale ? e->scale : 0);
		o->m = 0;
		switch (weft_sqltype_store(e->type)) {
		case 1:
			o->c.f = o->cnull ? 0 : e->cval.u.f;
			o->v.v.f64 = &o->c.f;
			break;
		case 2:
			o->c.b = o->cnull ? 0 : e->cval.u.b;
			o->v.v.b = &o->c.b;
			break;
		case 3:
			if (o->cnull)
				o->c.s = (weft_str_t){"", 0};
			else
				o->c.s = e->cval.u.s;
			o->v.v.s = &o->c.s;
			break;
		default:
			o->c.i = o->cnull ? 0 : e->cval.u.i;
			o->v.v.i64 = &o->c.i;
			break;
		}
		return 0;
	}
	if (e->kind == WEFT_E_COL && cx->in != NULL && e->col < cx->in->ncols &&
	    weft_sqltype_store(cx->in->cols[e->col].type) ==
		weft_sqltype_store(e->type)) {
		o->v = cx->in->cols[e->col];
		o->v.type = e->type;
		o->m = WEFT_ALL;
		return 0;
	}
	rc = weft_vec_init(&o->v, e->type);
	if (rc != 0)
		return weft_fn_nomem(cx);
	o->owned = true;
	o->m = WEFT_ALL;
	return weft_expr__eval(e, cx, sel, &o->v);
}

static void
weft_opnd_release(weft_opnd_t *o)
{
	if (o->owned)
		weft_vec_release(&o->v);
	o->owned = false;
}

/* ---- arithmetic ---- */

/*
 * bigint + and - of two vectors or a vector and a constant (ym 0: y[0]
 * for every row), the common case, in one loop without branches:
 * wrapping arithmetic, with the overflow of every active, non-NULL row
 * gathered into one flag (its top bit). act is the selection or, with
 * none, a row of ones.
 */
static uint64_t
weft_fn_addsub_rows(const int64_t *restrict x, const uint8_t *restrict xn,
		    const int64_t *restrict y, const uint8_t *restrict yn,
		    uint32_t ym, const uint8_t *restrict act, bool sub,
		    uint32_t n, int64_t *restrict o, uint8_t *restrict on)
{
	uint64_t bad = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint64_t u = (uint64_t)x[i], w = (uint64_t)y[i & ym];
		uint64_t r = sub ? u - w : u + w;
		uint64_t ov = sub ? (u ^ w) & (u ^ r) : (u ^ r) & (w ^ r);
		uint8_t nul = xn[i] | yn[i & ym];
		uint64_t keep = (uint64_t)0 - (uint64_t)(nul == 0);

		on[i] = nul;
		o[i] = (int64_t)(r & keep);
		bad |= ov & keep & ((uint64_t)0 - (uint64_t)(act[i] != 0));
	}
	return bad;
}

/* The fast path of weft_fn_arith_int: false when the operation is not of
 * weft_fn_addsub_rows's shape or overflowed somewhere (the checked loop
 * then names the error exactly as before). */
static bool
weft_fn_addsub_fast(const weft_expr_t *e, const weft_opnd_t *a,
		    const weft_opnd_t *b, const weft_ectx_t *cx,
		    const uint8_t *sel, weft_vec_t *out)
{
	static const uint8_t ones[WEFT_BATCH] = {[0 ... WEFT_BATCH - 1] = 1};
	uint64_t bad;

	if ((e->op != WEFT_OP_ADD && e->op != WEFT_OP_SUB) ||
	    e->type != WEFT_S_INT64 || a->m != WEFT_ALL ||
	    (b->m != WEFT_ALL && b->m != 0) || cx->n > WEFT_BATCH)
		return false;
	bad =
	    weft_fn_addsub_rows(a->v.v.i64, a->v.nulls, b->v.v.i64, b->v.nulls,
				b->m, sel ? sel : ones, e->op == WEFT_OP_SUB,
				cx->n, out->v.i64, out->nulls);
	return (bad >> 63) == 0;
}

static int
weft_fn_arith_int(const weft_expr_t *e, const weft_opnd_t *a,
		  const weft_opnd_t *b, const weft_ectx_t *cx,
		  const uint8_t *sel, weft_vec_t *out)
{
	bool is32 = e->type == WEFT_S_INT32;
	const char *range = is32		      ? "integer out of range"
			    : e->type == WEFT_S_INT64 ? "bigint out of range"
			    : e->type == WEFT_S_TIMESTAMP
				? "timestamp out of range"
				: "interval out of range";
	uint32_t i, n = cx->n;
	int op = e->op;

	if (weft_fn_addsub_fast(e, a, b, cx, sel, out))
		return 0;
	for (i = 0; i < n; i++) {
		int64_t x, y, r = 0;
		bool bad = false, dz = false;

		if (ONUL(a, i) | ONUL(b, i)) {
			out->nulls[i] = 1;
			out->v.i64[i] = 0;
			continue;
		}
		out->nulls[i] = 0;
		x = OI(a, i);
		y = OI(b, i);
		switch (op) {
		case WEFT_OP_ADD: bad = __builtin_add_overflow(x, y, &r); break;
		case WEFT_OP_SUB: bad = __builtin_sub_overflow(x, y, &r); break;
		case WEFT_OP_MUL: bad = __builtin_mul_overflow(x, y, &r); break;
		case WEFT_OP_DIV:
			if (y == 0)
				dz = true;
			else if (y == -1)
				bad = __builtin_sub_overflow(0, x, &r);
			else
				r = x / y;
			break;
		case WEFT_OP_MOD:
			if (y == 0)
				dz = true;
			else if (y != -1)
				r = x % y;
			break;
		default: break;
		}
		if (is32 && !bad && (r < INT32_MIN || r > INT32_MAX))
			bad = true;
		if ((bad || dz) && WEFT_ACT(sel, i))
			return weft_fn_err(cx, dz ? "division by zero" : range);
		out->v.i64[i] = bad || dz ? 0 : r;
	}
	return 0;
}

static int
weft_fn_arith_f(const weft_expr_t *e, const weft_opnd_t *a,
		const weft_opnd_t *b, const weft_ectx_t *cx, const uint8_t *sel,
		weft_vec_t *out)
{
	bool num = e->type == WEFT_S_NUMERIC;
	uint32_t i, n = cx->n;
	int op = e->op;

	for (i = 0; i < n; i++) {
		double x, y, r = 0;
		const char *bad = NULL;

		if (ONUL(a, i) | ONUL(b, i)) {
			out->nulls[i] = 1;
			out->v.f64[i] = 0;
			continue;
		}
		out->nulls[i] = 0;
		x = OF(a, i);
		y = OF(b, i);
		switch (op) {
		case WEFT_OP_ADD: r = x + y; break;
		case WEFT_OP_SUB: r = x - y; break;
		case WEFT_OP_MUL: r = x * y; break;
		case WEFT_OP_DIV:
			if (y == 0)
				bad = "division by zero";
			else
				r = x / y;
			break;
		case WEFT_OP_MOD:
			if (y == 0)
				bad = "division by zero";
			else
				r = fmod(x, y);
			break;
		default: break;
		}
		if (bad == NULL && !num) {
			if (isinf(r) && !isinf(x) && !isinf(y))
				bad = "value out of range: overflow";
			else if (r == 0 && x != 0 &&
				 (op == WEFT_OP_MUL
				      ? y != 0
				      : op == WEFT_OP_DIV && !isinf(y)))
				bad = "value out of range: underflow";
		}
		if (num && bad == NULL && r == 0)
			r = 0; /* numeric has no -0 */
		if (bad != NULL && WEFT_ACT(sel, i))
			return weft_fn_err(cx, bad);
		out->v.f64[i] = bad ? 0 : r;
	}
	return 0;
}

/* interval * / double precision */
static int
weft_fn_arith_ival(const weft_expr_t *e, const weft_opnd_t *a,
		   const weft_opnd_t *b, const weft_ectx_t *cx,
		   const uint8_t *sel, weft_vec_t *out)
{
	bool lnum = a->v.type != WEFT_S_INTERVAL;
	uint32_t i;

	for (i = 0; i < cx->n; i++) {
		double iv, f, r;

		if (ONUL(a, i) | ONUL(b, i)) {
			weft_fn_setnull(out, i);
			continue;
		}
		out->nulls[i] = 0;
		iv = lnum ? (double)OI(b, i) : (double)OI(a, i);
		f = lnum ? OF(a, i) : OF(b, i);
		if (e->op == WEFT_OP_DIV && f == 0) {
			if (WEFT_ACT(sel, i))
				return weft_fn_err(cx, "division by zero");
			out->v.i64[i] = 0;
			continue;
		}
		r = e->op == WEFT_OP_DIV ? iv / f : iv * f;
		if (!(fabs(r) < 9.2e18)) {
			if (WEFT_ACT(sel, i))
				return weft_fn_err(cx, "interval out of range");
			r = 0;
		}
		out->v.i64[i] = (int64_t)rint(r);
	}
	return 0;
}

static int
weft_fn_neg(const weft_expr_t *e, const weft_opnd_t *a, const weft_ectx_t *cx,
	    const uint8_t *sel, weft_vec_t *out)
{
	uint32_t i;

	for (i = 0; i < cx->n; i++) {
		out->nulls[i] = ONUL(a, i);
		if (weft_sqltype_store(e->type) == WEFT_STORE_F64) {
			double r = out->nulls[i] ? 0 : -OF(a, i);

			if (e->type == WEFT_S_NUMERIC && r == 0)
				r = 0;
			out->v.f64[i] = r;
			continue;
		}
		if (out->nulls[i]) {
			out->v.i64[i] = 0;
			continue;
		}
		if (OI(a, i) == INT64_MIN ||
		    (e->type == WEFT_S_INT32 && OI(a, i) == INT32_MIN)) {
			if (WEFT_ACT(sel, i))
				return weft_fn_err(
				    cx, e->type == WEFT_S_INT32
					    ? "integer out of range"
					: e->type == WEFT_S_INT64
					    ? "bigint out of range"
					    : "interval out of range");
			out->v.i64[i] = 0;
			continue;
		}
		out->v.i64[i] = -OI(a, i);
	}
	return 0;
}

/* ---- comparison ---- */

static inline int
weft_fn_cmpf(double x, double y)
{
	if (x < y)
		return -1;
	if (x > y)
		return 1;
	if (x == y)
		return 0;
	return isnan(x) ? (isnan(y) ? 0 : 1) : -1;
}

static inline int
weft_fn_cmps(const weft_str_t *x, const weft_str_t *y)
{
	uint32_t m = x->len < y->len ? x->len : y->len;
	int c = m ? memcmp(x->p, y->p, m) : 0;

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

#define WEFT_CMP_LOOP(CMPEXPR)                                                 \
	do {                                                                   \
		switch (op) {                                                  \
		case WEFT_OP_EQ:                                               \
			for (i = 0; i < n; i++)                                \
				ob[i] = (CMPEXPR) == 0;                        \
			break;                                                 \
		case WEFT_OP_NE:                                               \
			for (i = 0; i < n; i++)                                \
				ob[i] = (CMPEXPR) != 0;                        \
			break;                                                 \
		case WEFT_OP_LT:                                               \
			for (i = 0; i < n; i++)                                \
				ob[i] = (CMPEXPR) < 0;                         \
			break;                                                 \
		case WEFT_OP_LE:                                               \
			for (i = 0; i < n; i++)                                \
				ob[i] = (CMPEXPR) <= 0;                        \
			break;                                                 \
		case WEFT_OP_GT:                                               \
			for (i = 0; i < n; i++)                                \
				ob[i] = (CMPEXPR) > 0;                         \
			break;                                                 \
		default:                                                       \
			for (i = 0; i < n; i++)                                \
				ob[i] = (CMPEXPR) >= 0;                        \
			break;                                                 \
		}                                                              \
	} while (0)

static void
weft_fn_compare(int op, const weft_opnd_t *a, const weft_opnd_t *b, uint32_t n,
		weft_vec_t *out)
{
	uint8_t *ob = out->v.b;
	uint32_t i;

	for (i = 0; i < n; i++)
		out->nulls[i] = ONUL(a, i) | ONUL(b, i);
	switch (weft_sqltype_store(a->v.type)) {
	case 0: {
		const int64_t *x = a->v.v.i64, *y = b->v.v.i64;
		uint32_t ma = a->m, mb = b->m;

		WEFT_CMP_LOOP((x[i & ma] > y[i & mb]) -
			      (x[i & ma] < y[i & mb]));
		break;
	}
	case 1: WEFT_CMP_LOOP(weft_fn_cmpf(OF(a, i), OF(b, i))); break;
	case 2:
		WEFT_CMP_LOOP((int)(OB(a, i) != 0) - (int)(OB(b, i) != 0));
		break;
	default: WEFT_CMP_LOOP(weft_fn_cmps(&OS(a, i), &OS(b, i))); break;
	}
	for (i = 0; i < n; i++)
		if (out->nulls[i])
			ob[i] = 0;
}

static int
weft_fn_concat2(const weft_opnd_t *a, const weft_opnd_t *b,
		const weft_ectx_t *cx, weft_vec_t *out)
{
	uint32_t i;

	for (i = 0; i < cx->n; i++) {
		const weft_str_t *x, *y;
		char *d;

		if (ONUL(a, i) | ONUL(b, i)) {
			weft_fn_setnull(out, i);
			continue;
		}
		out->nulls[i] = 0;
		x = &OS(a, i);
		y = &OS(b, i);
		d = weft_arena_alloc(cx->arena, (size_t)x->len + y->len + 1);
		if (d == NULL)
			return weft_fn_nomem(cx);
		if (x->len)
			memcpy(d, x->p, x->len);
		if (y->len)
			memcpy(d + x->len, y->p, y->len);
		d[x->len + y->len] = 0;
		out->v.s[i] = (weft_str_t){d, x->len + y->len};
	}
	return 0;
}

static int
weft_fn_op(const weft_expr_t *e, const weft_ectx_t *cx, const uint8_t *sel,
	   weft_vec_t *out)
{
	weft_opnd_t a, b;
	int rc;

	rc = weft_opnd_get(e->args[0], cx, sel, &a);
	if (rc != 0)
		goto out_a;
	if (e->op == WEFT_OP_NEG) {
		rc = weft_fn_neg(e, &a, cx, sel, out);
		goto out_a;
	}
	rc = weft_opnd_get(e->args[1], cx, sel, &b);
	if (rc != 0)
		goto out_b;
	switch (e->op) {
	case WEFT_OP_ADD:
	case WEFT_OP_SUB:
	case WEFT_OP_MUL:
	case WEFT_OP_DIV:
	case WEFT_OP_MOD:
		if (e->type == WEFT_S_INTERVAL &&
		    (a.v.type != WEFT_S_INTERVAL ||
		     b.v.type != WEFT_S_INTERVAL) &&
		    a.v.type != WEFT_S_TIMESTAMP)
			rc = weft_fn_arith_ival(e, &a, &b, cx, sel, out);
		else if (weft_sqltype_store(e->type) == WEFT_STORE_F64)
			rc = weft_fn_arith_f(e, &a, &b, cx, sel, out);
		else
			rc = weft_fn_arith_int(e, &a, &b, cx, sel, out);
		break;
	case WEFT_OP_CONCAT: rc = weft_fn_concat2(&a, &b, cx, out); break;
	default: weft_fn_compare(e->op, &a, &b, cx->n, out); break;
	}
out_b:
	weft_opnd_release(&b);
out_a:
	weft_opnd_release(&a);
	return rc;
}

/* ---- logic ---- */

static int
weft_fn_andor(const weft_expr_t *e, const weft_ectx_t *cx, const uint8_t *sel,
	      weft_vec_t *out)
{
	bool is_and = e->kind == WEFT_E_AND;
	uint8_t *sub = NULL;
	weft_vec_t t = {0};
	uint32_t k, i, n = cx->n;
	int rc;

	rc = weft_expr__eval(e->args[0], cx, sel, out);
	if (rc != 0 || e->nargs == 1)
		return rc;
	sub = malloc(WEFT_BATCH);
	if (sub == NULL || weft_vec_init(&t, WEFT_S_BOOL) != 0) {
		rc = weft_fn_nomem(cx);
		goto out;
	}
	for (k = 1; k < e->nargs; k++) {
		bool any = false;

		/* rows still undecided: AND stops at false, OR at true */
		for (i = 0; i < n; i++) {
			bool decided =
			    !out->nulls[i] && (out->v.b[i] != 0) != is_and;

			sub[i] = WEFT_ACT(sel, i) && !decided;
			any |= sub[i];
		}
		if (!any)
			break;
		rc = weft_expr__eval(e->args[k], cx, sub, &t);
		if (rc != 0)
			goto out;
		for (i = 0; i < n; i++) {
			if (!sub[i])
				continue;
			if (!t.nulls[i] && (t.v.b[i] != 0) != is_and) {
				out->nulls[i] = 0;
				out->v.b[i] = !is_and;
			} else if (t.nulls[i]) {
				out->nulls[i] = 1;
				out->v.b[i] = 0;
			}
		}
	}
out:
	weft_vec_release(&t);
	free(sub);
	return rc;
}

static int
weft_fn_not_isnull(const weft_expr_t *e, const weft_ectx_t *cx,
		   const uint8_t *sel, weft_vec_t *out)
{
	weft_opnd_t a;
	uint32_t i;
	int rc = weft_opnd_get(e->args[0], cx, sel, &a);

	if (rc == 0) {
		if (e->kind == WEFT_E_NOT) {
			for (i = 0; i < cx->n; i++) {
				out->nulls[i] = ONUL(&a, i);
				out->v.b[i] = !ONUL(&a, i) && !OB(&a, i);
			}
		} else {
			bool neg = (e->flags & WEFT_EF_NOT) != 0;

			for (i = 0; i < cx->n; i++) {
				out->nulls[i] = 0;
				out->v.b[i] = (ONUL(&a, i) != 0) != neg;
			}
		}
	}
	weft_opnd_release(&a);
	return rc;
}

static int
weft_fn_in(const weft_expr_t *e, const weft_ectx_t *cx, const uint8_t *sel,
	   weft_vec_t *out)
{
	weft_opnd_t x, item;
	bool neg = (e->flags & WEFT_EF_NOT) != 0;
	uint8_t *sawnull = NULL;
	uint32_t k, i, n = cx->n;
	int rc, st;

	rc = weft_opnd_get(e->args[0], cx, sel, &x);
	if (rc != 0) {
		weft_opnd_release(&x);
		return rc;
	}
	/* a long list of constants: a hash set (func_in.c) */
	rc = weft_fn_in_set(e, &x, n, out);
	if (rc != 0) {
		weft_opnd_release(&x);
		return rc < 0 ? weft_fn_nomem(cx) : 0;
	}
	sawnull = calloc(WEFT_BATCH, 1);
	if (sawnull == NULL) {
		weft_opnd_release(&x);
		return weft_fn_nomem(cx);
	}
	st = weft_sqltype_store(x.v.type);
	memset(out->v.b, 0, n);
	for (k = 1; k < e->nargs; k++) {
		rc = weft_opnd_get(e->args[k], cx, sel, &item);
		if (rc != 0) {
			weft_opnd_release(&item);
			goto out;
		}
		for (i = 0; i < n; i++) {
			bool eq;

			if (out->v.b[i] || ONUL(&x, i))
				continue;
			if (ONUL(&item, i)) {
				sawnull[i] = 1;
				continue;
			}
			switch (st) {
			case 0: eq = OI(&x, i) == OI(&item, i); break;
			case 1:
				eq = weft_fn_cmpf(OF(&x, i), OF(&item, i)) == 0;
				break;
			case 2: eq = OB(&x, i) == OB(&item, i); break;
			default:
				eq = OS(&x, i).len == OS(&item, i).len &&
				     (OS(&x, i).len == 0 ||
				      !memcmp(OS(&x, i).p, OS(&item, i).p,
					      OS(&x, i).len));
				break;
			}
			if (eq)
				out->v.b[i] = 1;
		}
		weft_opnd_release(&item);
	}
	for (i = 0; i < n; i++) {
		if (ONUL(&x, i) || (!out->v.b[i] && sawnull[i])) {
			out->nulls[i] = 1;
			out->v.b[i] = 0;
		} else {
			out->nulls[i] = 0;
			out->v.b[i] = (out->v.b[i] != 0) != neg;
		}
	}
out:
	free(sawnull);
	weft_opnd_release(&x);
	return rc;
}

/* ---- LIKE ---- */

/* x [NOT] [I]LIKE p [ESCAPE e]: the operands here, the matching in
 * func_text.c. */
static int
weft_fn_like_eval(const weft_expr_t *e, const weft_ectx_t *cx,
		  const uint8_t *sel, weft_vec_t *out)
{
	weft_opnd_t s, p, es;
	bool have_es = e->nargs > 2;
	int rc;

	memset(&es, 0, sizeof(es));
	rc = weft_opnd_get(e->args[0], cx, sel, &s);
	if (rc != 0)
		goto out_s;
	rc = weft_opnd_get(e->args[1], cx, sel, &p);
	if (rc != 0)
		goto out_p;
	if (have_es && (rc = weft_opnd_get(e->args[2], cx, sel, &es)) != 0)
		goto out_e;
	rc = weft_fn_like_rows(e, &s, &p, have_es ? &es : NULL, cx, sel, out);
out_e:
	weft_opnd_release(&es);
out_p:
	weft_opnd_release(&p);
out_s:
	weft_opnd_release(&s);
	return rc;
}

/* ---- CASE, COALESCE, NULLIF ---- */

static int
weft_fn_case(const weft_expr_t *e, const weft_ectx_t *cx, const uint8_t *sel,
	     weft_vec_t *out)
{
	bool has_else = (e->flags & WEFT_EF_CASE_ELSE) != 0;
	uint32_t npairs = (e->nargs - (has_else ? 1 : 0)) / 2, k, i, n = cx->n;
	uint8_t *rem = malloc(WEFT_BATCH), *match = malloc(WEFT_BATCH);
	weft_vec_t c = {0};
	weft_opnd_t r;
	int rc = 0;

	if (rem == NULL || match == NULL ||
	    weft_vec_init(&c, WEFT_S_BOOL) != 0) {
		rc = weft_fn_nomem(cx);
		goto out;
	}
	for (i = 0; i < n; i++) {
		rem[i] = WEFT_ACT(sel, i);
		weft_fn_setnull(out, i);
	}
	for (k = 0; k < npairs; k++) {
		bool any = false;

		for (i = 0; i < n; i++)
			any |= rem[i];
		if (!any)
			break;
		rc = weft_expr__eval(e->args[2 * k], cx, rem, &c);
		if (rc != 0)
			goto out;
		any = false;
		for (i = 0; i < n; i++) {
			match[i] = rem[i] && !c.nulls[i] && c.v.b[i];
			any |= match[i];
		}
		if (!any)
			continue;
		rc = weft_opnd_get(e->args[2 * k + 1], cx, match, &r);
		if (rc == 0)
			for (i = 0; i < n; i++)
				if (match[i]) {
					weft_fn_copy_row(out, i, &r.v, i & r.m);
					rem[i] = 0;
				}
		weft_opnd_release(&r);
		if (rc != 0)
			goto out;
	}
	if (has_else) {
		bool any = false;

		for (i = 0; i < n; i++)
			any |= rem[i];
		if (any) {
			rc = weft_opnd_get(e->args[e->nargs - 1], cx, rem, &r);
			if (rc == 0)
				for (i = 0; i < n; i++)
					if (rem[i])
						weft_fn_copy_row(out, i, &r.v,
								 i & r.m);
			weft_opnd_release(&r);
		}
	}
out:
	weft_vec_release(&c);
	free(rem);
	free(match);
	return rc;
}

static int
weft_fn_coalesce(const weft_expr_t *e, const weft_ectx_t *cx,
		 const uint8_t *sel, weft_vec_t *out)
{
	uint8_t *rem = malloc(WEFT_BATCH);
	uint32_t k, i, n = cx->n;
	weft_opnd_t r;
	int rc = 0;

	if (rem == NULL)
		return weft_fn_nomem(cx);
	for (i = 0; i < n; i++) {
		rem[i] = WEFT_ACT(sel, i);
		weft_fn_setnull(out, i);
	}
	for (k = 0; k < e->nargs; k++) {
		bool any = false;

		for (i = 0; i < n; i++)
			any |= rem[i];
		if (!any)
			break;
		rc = weft_opnd_get(e->args[k], cx, rem, &r);
		if (rc == 0)
			for (i = 0; i < n; i++)
				if (rem[i] && !ONUL(&r, i)) {
					weft_fn_copy_row(out, i, &r.v, i & r.m);
					rem[i] = 0;
				}
		weft_opnd_release(&r);
		if (rc != 0)
			break;
	}
	free(rem);
	return rc;
}

static int
weft_fn_nullif(const weft_expr_t *e, const weft_ectx_t *cx, const uint8_t *sel,
	       weft_vec_t *out)
{
	weft_opnd_t a, b;
	weft_vec_t eq = {0};
	uint32_t i;
	int rc;

	rc = weft_opnd_get(e->args[0], cx, sel, &a);
	if (rc != 0)
		goto out_a;
	rc = weft_opnd_get(e->args[1], cx, sel, &b);
	if (rc != 0)
		goto out_b;
	if (weft_vec_init(&eq, WEFT_S_BOOL) != 0) {
		rc = weft_fn_nomem(cx);
		goto out_b;
	}
	weft_fn_compare(WEFT_OP_EQ, &a, &b, cx->n, &eq);
	for (i = 0; i < cx->n; i++) {
		if (!eq.nulls[i] && eq.v.b[i])
			weft_fn_setnull(out, i);
		else
			weft_fn_copy_row(out, i, &a.v, i & a.m);
	}
	weft_vec_release(&eq);
out_b:
	weft_opnd_release(&b);
out_a:
	weft_opnd_release(&a);
	return rc;
}

/* ---- date/time ---- */

typedef struct weft_tm {
	int64_t y;
	int mon, d, h, mi, s, us;
	int64_t days; /* since 1970-01-01 */
} weft_tm_t;

static void
weft_fn_tm(int64_t t, weft_tm_t *tm)
{
	int64_t days = t / WEFT_USEC_DAY, rem = t % WEFT_USEC_DAY;

	if (rem < 0) {
		rem += WEFT_USEC_DAY;
		days--;
	}
	tm->days = days;
	weft_ts__civil(days, &tm->y, &tm->mon, &tm->d);
	tm->h = (int)(rem / 3600000000);
	tm->mi = (int)(rem / 60000000 % 60);
	tm->s = (int)(rem / 1000000 % 60);
	tm->us = (int)(rem % 1000000);
}

/* ISO weekday 1..7 (Monday = 1). 1970-01-01 was a Thursday. */
static int
weft_fn_isodow(int64_t days)
{
	int64_t w = (days + 3) % 7;

	if (w < 0)
		w += 7;
	return (int)w + 1;
}

static void
weft_fn_isoweek(int64_t days, int64_t *isoyear, int *week)
{
	int64_t thu = days - weft_fn_isodow(days) + 4, y;
	int m, d;

	weft_ts__civil(thu, &y, &m, &d);
	*isoyear = y;
	*week = (int)((thu - weft_ts__days(y, 1, 1)) / 7) + 1;
}

/* Normalise a field name as PostgreSQL's DecodeUnits: lower case, with
 * plural and abbreviated spellings. Returns a canonical name or NULL. */
static const char *
weft_fn_unit(const weft_str_t *f)
{
	static const char *const map[][2] = {
	    {"microsecond", "microseconds"},
	    {"microseconds", "microseconds"},
	    {"us", "microseconds"},
	    {"usec", "microseconds"},
	    {"usecs", "microseconds"},
	    {"useconds", "microseconds"},
	    {"millisecond", "milliseconds"},
	    {"milliseconds", "milliseconds"},
	    {"ms", "milliseconds"},
	    {"msec", "milliseconds"},
	    {"msecs", "milliseconds"},
	    {"mseconds", "milliseconds"},
	    {"second", "second"},
	    {"seconds", "second"},
	    {"sec", "second"},
	    {"secs", "second"},
	    {"s", "second"},
	    {"minute", "minute"},
	    {"minutes", "minute"},
	    {"min", "minute"},
	    {"mins", "minute"},
	    {"m", "minute"},
	    {"hour", "hour"},
	    {"hours", "hour"},
	    {"h", "hour"},
	    {"hr", "hour"},
	    {"hrs", "hour"},
	    {"day", "day"},
	    {"days", "day"},
	    {"d", "day"},
	    {"week", "week"},
	    {"weeks", "week"},
	    {"w", "week"},
	    {"month", "month"},
	    {"months", "month"},
	    {"mon", "month"},
	    {"mons", "month"},
	    {"quarter", "quarter"},
	    {"qtr", "quarter"},
	    {"year", "year"},
	    {"years", "year"},
	    {"y", "year"},
	    {"yr", "year"},
	    {"yrs", "year"},
	    {"decade", "decade"},
	    {"decades", "decade"},
	    {"dec", "decade"},
	    {"century", "century"},
	    {"centuries", "century"},
	    {"c", "century"},
	    {"cent", "century"},
	    {"millennium", "millennium"},
	    {"millennia", "millennium"},
	    {"mil", "millennium"},
	    {"mils", "millennium"},
	    {"dow", "dow"},
	    {"isodow", "isodow"},
	    {"doy", "doy"},
	    {"epoch", "epoch"},
	    {"isoyear", "isoyear"},
	    {"julian", "julian"},
	};
	char buf[32];
	uint32_t i, k = 0;

	for (i = 0; i < f->len && k < sizeof(buf) - 1; i++)
		if (!isspace((unsigned char)f->p[i]))
			buf[k++] = (char)tolower((unsigned char)f->p[i]);
	if (f->len >= sizeof(buf))
		return NULL;
	buf[k] = 0;
	for (i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (!strcmp(buf, map[i][0]))
			return map[i][1];
	return NULL;
}

static int
weft_fn_badunit(const weft_ectx_t *cx, const weft_str_t *f)
{
	return weft_err_set(cx->err, WEFT_EINVAL,
			    "unit \"%.*s\" not recognized for type timestamp "
			    "without time zone",
			    (int)f->len, f->p);
}

static int
weft_fn_trunc(const char *u, int64_t t, int64_t *out)
{
	weft_tm_t tm;
	int64_t y, d;

	weft_fn_tm(t, &tm);
	y = tm.y;
	if (!strcmp(u, "microseconds")) {
		*out = t;
		return 0;
	}
	if (!strcmp(u, "milliseconds")) {
		*out = t - (((t % 1000) + 1000) % 1000);
		return 0;
	}
	if (!strcmp(u, "second") || !strcmp(u, "minute") ||
	    !strcmp(u, "hour") || !strcmp(u, "day")) {
		int64_t q = !strcmp(u, "second")   ? 1000000
			    : !strcmp(u, "minute") ? 60000000
			    : !strcmp(u, "hour")   ? INT64_C(3600000000)
						   : WEFT_USEC_DAY;
		int64_t r = t % q;

		*out = t - (r < 0 ? r + q : r);
		return 0;
	}
	if (!strcmp(u, "week")) {
		d = tm.days - (weft_fn_isodow(tm.days) - 1);
		*out = d * WEFT_USEC_DAY;
		return 0;
	}
	if (!strcmp(u, "month")) {
		*out = weft_ts__days(y, tm.mon, 1) * WEFT_USEC_DAY;
		return 0;
	}
	if (!strcmp(u, "quarter")) {
		*out = weft_ts__days(y, (tm.mon - 1) / 3 * 3 + 1, 1) *
		       WEFT_USEC_DAY;
		return 0;
	}
	if (!strcmp(u, "year")) {
		*out = weft_ts__days(y, 1, 1) * WEFT_USEC_DAY;
		return 0;
	}
	if (!strcmp(u, "decade")) {
		y = y > 0 ? y / 10 * 10 : -((8 - (y - 1)) / 10) * 10;
		*out = weft_ts__days(y, 1, 1) * WEFT_USEC_DAY;
		return 0;
	}
	if (!strcmp(u, "century")) {
		y = y > 0 ? (y + 99) / 100 * 100 - 99
			  : -((99 - (y - 1)) / 100) * 100 - 99;
		*out = weft_ts__days(y, 1, 1) * WEFT_USEC_DAY;
		return 0;
	}
	if (!strcmp(u, "millennium")) {
		y = y > 0 ? (y + 999) / 1000 * 1000 - 999
			  : -((999 - (y - 1)) / 1000) * 1000 + 1;
		*out = weft_ts__days(y, 1, 1) * WEFT_USEC_DAY;
		return 0;
	}
	return -1;
}

static int
weft_fn_part(const char *u, int64_t t, double *out)
{
	weft_tm_t tm;
	int64_t iy;
	int wk;

	weft_fn_tm(t, &tm);
	if (!strcmp(u, "microseconds"))
		*out = tm.s * 1e6 + tm.us;
	else if (!strcmp(u, "milliseconds"))
		*out = tm.s * 1e3 + tm.us / 1e3;
	else if (!strcmp(u, "second"))
		*out = tm.s + tm.us / 1e6;
	else if (!strcmp(u, "minute"))
		*out = tm.mi;
	else if (!strcmp(u, "hour"))
		*out = tm.h;
	else if (!strcmp(u, "day"))
		*out = tm.d;
	else if (!strcmp(u, "month"))
		*out = tm.mon;
	else if (!strcmp(u, "quarter"))
		*out = (tm.mon - 1) / 3 + 1;
	else if (!strcmp(u, "year"))
		*out = (double)(tm.y > 0 ? tm.y : tm.y - 1);
	else if (!strcmp(u, "decade"))
		*out =
		    (double)(tm.y >= 0 ? tm.y / 10 : -((8 - (tm.y - 1)) / 10));
	else if (!strcmp(u, "century"))
		*out = (double)(tm.y > 0 ? (tm.y + 99) / 100
					 : -((99 - (tm.y - 1)) / 100));
	else if (!strcmp(u, "millennium"))
		*out = (double)(tm.y > 0 ? (tm.y + 999) / 1000
					 : -((999 - (tm.y - 1)) / 1000));
	else if (!strcmp(u, "dow"))
		*out = weft_fn_isodow(tm.days) % 7;
	else if (!strcmp(u, "isodow"))
		*out = weft_fn_isodow(tm.days);
	else if (!strcmp(u, "doy"))
		*out = (double)(tm.days - weft_ts__days(tm.y, 1, 1) + 1);
	else if (!strcmp(u, "epoch"))
		*out = (double)t / 1e6;
	else if (!strcmp(u, "week")) {
		weft_fn_isoweek(tm.days, &iy, &wk);
		*out = wk;
	} else if (!strcmp(u, "isoyear")) {
		weft_fn_isoweek(tm.days, &iy, &wk);
		*out = (double)(iy > 0 ? iy : iy - 1);
	} else if (!strcmp(u, "julian"))
		*out = (double)(tm.days + 2440588) +
		       (double)(t - tm.days * WEFT_USEC_DAY) / 86400e6;
	else
		return -1;
	return 0;
}

/*
 * extract(unit FROM interval). weft's intervals are microseconds with no
 * month part, split as PostgreSQL splits a timestamp difference: whole
 * days, then the time of day, both carrying the interval's sign.
 */
static int
weft_fn_part_interval(const char *u, int64_t us, double *out)
{
	int64_t day = 86400000000LL, rem = us % day;

	if (!strcmp(u, "epoch"))
		*out = (double)us / 1e6;
	else if (!strcmp(u, "day"))
		*out = (double)(us / day);
	else if (!strcmp(u, "hour"))
		*out = (double)(rem / 3600000000LL);
	else if (!strcmp(u, "minute"))
		*out = (double)(rem % 3600000000LL / 60000000);
	else if (!strcmp(u, "second"))
		*out = (double)(rem % 60000000) / 1e6;
	else if (!strcmp(u, "milliseconds"))
		*out = (double)(rem % 60000000) / 1e3;
	else if (!strcmp(u, "microseconds"))
		*out = (double)(rem % 60000000);
	else if (!strcmp(u, "month") || !strcmp(u, "year") ||
		 !strcmp(u, "decade") || !strcmp(u, "century") ||
		 !strcmp(u, "millennium"))
		*out = 0;
	else if (!strcmp(u, "quarter"))
		*out = 1;
	else
		return -1;
	return 0;
}

/* ---- scalar functions ---- */

static int
weft_fn_math(const weft_expr_t *e, weft_opnd_t *o, const weft_ectx_t *cx,
	     const uint8_t *sel, weft_vec_t *out)
{
	bool num = e->type == WEFT_S_NUMERIC;
	uint32_t i, k, n = cx->n;

	for (i = 0; i < n; i++) {
		bool isnull = false;
		const char *bad = NULL;

		for (k = 0; k < e->nargs; k++)
			isnull |= ONUL(&o[k], i) != 0;
		if (isnull) {
			weft_fn_setnull(out, i);
			continue;
		}
		out->nulls[i] = 0;
		if (weft_sqltype_store(e->type) == 0) {
			/* abs / mod on integers */
			int64_t x = OI(&o[0], i), r = 0;

			if (e->op == WEFT_F_ABS) {
				if (x == INT64_MIN ||
				    (e->type == WEFT_S_INT32 && x == INT32_MIN))
					bad = e->type == WEFT_S_INT32
						  ? "integer out of range"
						  : "bigint out of range";
				else
					r = x < 0 ? -x : x;
			} else {
				int64_t y = OI(&o[1], i);

				if (y == 0)
					bad = "division by zero";
				else if (y != -1)
					r = x % y;
			}
			if (bad != NULL && WEFT_ACT(sel, i))
				return weft_fn_err(cx, bad);
			out->v.i64[i] = bad ? 0 : r;
			continue;
		}
		{
			double x = OF(&o[0], i), r = 0;

			switch (e->op) {
			case WEFT_F_ABS: r = fabs(x); break;
			case WEFT_F_ROUND:
				if (e->nargs == 2)
					r = weft_num__round(
					    x, (int)(OI(&o[1], i) > 1000 ? 1000
						     : OI(&o[1], i) < -1000
							 ? -1000
							 : OI(&o[1], i)));
				else
					r = num ? weft_num__round(x, 0)
						: rint(x);
				break;
			case WEFT_F_FLOOR: r = floor(x); break;
			case WEFT_F_CEIL: r = ceil(x); break;
			case WEFT_F_SIGN:
				r = x > 0 ? 1 : x < 0 ? -1 : isnan(x) ? x : 0;
				break;
			case WEFT_F_SQRT:
				if (x < 0)
					bad = "cannot take square root of a "
					      "negative number";
				else
					r = sqrt(x);
				break;
			case WEFT_F_MOD: {
				double y = OF(&o[1], i);

				if (y == 0)
					bad = "division by zero";
				else
					r = fmod(x, y);
				break;
			}
			case WEFT_F_POWER: {
				double y = OF(&o[1], i);

				if (x == 0 && y < 0)
					bad = num ? "zero raised to a negative "
						    "power is undefined"
						  : "zero raised to a negative "
						    "power is undefined";
				else if (x < 0 && floor(y) != y)
					bad = "a negative number raised to a "
					      "non-integer power yields a "
					      "complex result";
				else {
					r = pow(x, y);
					if (isinf(r) && !isinf(x) && !isinf(y))
						bad = "value out of range: "
						      "overflow";
				}
				break;
			}
			default: break;
			}
			if (num && r == 0)
				r = 0;
			if (bad != NULL && WEFT_ACT(sel, i))
				return weft_fn_err(cx, bad);
			out->v.f64[i] = bad ? 0 : r;
		}
	}
	return 0;
}

static int
weft_fn_date(const weft_expr_t *e, weft_opnd_t *o, const weft_ectx_t *cx,
	     const uint8_t *sel, weft_vec_t *out)
{
	uint32_t i, n = cx->n;
	const char *unit = NULL;

	for (i = 0; i < n; i++) {
		int64_t t;

		if (ONUL(&o[0], i) || ONUL(&o[1], i)) {
			weft_fn_setnull(out, i);
			continue;
		}
		out->nulls[i] = 0;
		if (unit == NULL || o[0].m != 0) {
			unit = weft_fn_unit(&OS(&o[0], i));
			if (unit == NULL) {
				if (WEFT_ACT(sel, i))
					return weft_fn_badunit(cx,
							       &OS(&o[0], i));
				weft_fn_setnull(out, i);
				continue;
			}
		}
		t = OI(&o[1], i);
		if (e->op == WEFT_F_DATE_TRUNC) {
			if (weft_fn_trunc(unit, t, &out->v.i64[i]) != 0) {
				if (WEFT_ACT(sel, i))
					return weft_fn_badunit(cx,
							       &OS(&o[0], i));
				out->v.i64[i] = 0;
			}
		} else if ((e->args[1]->type == WEFT_S_INTERVAL
				? weft_fn_part_interval(unit, t, &out->v.f64[i])
				: weft_fn_part(unit, t, &out->v.f64[i])) != 0) {
			if (WEFT_ACT(sel, i))
				return weft_fn_badunit(cx, &OS(&o[0], i));
			out->v.f64[i] = 0;
		}
	}
	return 0;
}

static int
weft_fn_func(const weft_expr_t *e, const weft_ectx_t *cx, const uint8_t *sel,
	     weft_vec_t *out)
{
	weft_opnd_t o[8];
	uint32_t k, got = 0, i;
	int rc = 0;

	if (e->op == WEFT_F_NOW) {
		for (i = 0; i < cx->n; i++) {
			out->nulls[i] = 0;
			out->v.i64[i] = cx->now;
		}
		return 0;
	}
	if (e->nargs > 8 && e->op != WEFT_F_CONCAT)
		return weft_err_set(cx->err, WEFT_EINVAL, "too many arguments");
	if (e->op == WEFT_F_CONCAT && e->nargs > 8) {
		/* concat(a, b, ..., z) = concat(concat(a..h), ...): fold via
		 * a temporary text vector */
		weft_vec_t acc = {0}, part = {0};

		rc = weft_vec_init(&acc, WEFT_S_TEXT);
		if (rc == 0)
			rc = weft_vec_init(&part, WEFT_S_TEXT);
		for (i = 0; rc == 0 && i < cx->n; i++)
			acc.v.s[i] = (weft_str_t){"", 0};
		for (k = 0; rc == 0 && k < e->nargs; k++) {
			rc = weft_expr__eval(e->args[k], cx, sel, &part);
			for (i = 0; rc == 0 && i < cx->n; i++) {
				weft_str_t a = acc.v.s[i], b = part.v.s[i];
				char *d;

				if (part.nulls[i])
					continue;
				d = weft_arena_alloc(cx->arena,
						     (size_t)a.len + b.len + 1);
				if (d == NULL) {
					rc = weft_fn_nomem(cx);
					break;
				}
				if (a.len)
					memcpy(d, a.p, a.len);
				if (b.len)
					memcpy(d + a.len, b.p, b.len);
				d[a.len + b.len] = 0;
				acc.v.s[i] = (weft_str_t){d, a.len + b.len};
			}
		}
		for (i = 0; rc == 0 && i < cx->n; i++) {
			out->nulls[i] = 0;
			out->v.s[i] = acc.v.s[i];
		}
		weft_vec_release(&acc);
		weft_vec_release(&part);
		return rc == 0 ? 0
			       : (rc == WEFT_ENOMEM ? weft_fn_nomem(cx) : rc);
	}
	for (k = 0; k < e->nargs; k++) {
		rc = weft_opnd_get(e->args[k], cx, sel, &o[k]);
		got = k + 1;
		if (rc != 0)
			goto out;
	}
	switch (e->op) {
	case WEFT_F_LOWER:
	case WEFT_F_UPPER:
	case WEFT_F_LENGTH: rc = weft_fn_text1(e, o, cx, sel, out); break;
	case WEFT_F_SUBSTR:
	case WEFT_F_BTRIM:
	case WEFT_F_LTRIM:
	case WEFT_F_RTRIM:
	case WEFT_F_REPLACE:
	case WEFT_F_LEFT:
	case WEFT_F_RIGHT:
	case WEFT_F_STRPOS: rc = weft_fn_textn(e, o, cx, sel, out); break;
	case WEFT_F_CONCAT: rc = weft_fn_concat(e, o, cx, out); break;
	case WEFT_F_DATE_TRUNC:
	case WEFT_F_DATE_PART: rc = weft_fn_date(e, o, cx, sel, out); break;
	case WEFT_F_MASK_HASH: rc = weft_fn_mask_hash(o, cx, out); break;
	default: rc = weft_fn_math(e, o, cx, sel, out); break;
	}
out:
	for (k = 0; k < got; k++)
		weft_opnd_release(&o[k]);
	return rc;
}

/* ---- dispatch ---- */

int
weft_expr__eval(const weft_expr_t *e, const weft_ectx_t *cx, const uint8_t *sel,
		weft_vec_t *out)
{
	uint32_t i, n = cx->n;
	weft_opnd_t a;
	int rc;

	out->has_scale = e->type == WEFT_S_NUMERIC && e->scale >= 0;
	out->scale = (int16_t)(out->has_scale ? e->scale : 0);
	if (e->type == WEFT_S_NULL) {
		memset(out->nulls, 1, n);
		if (out->v.i64 != NULL)
			memset(out->v.i64, 0, (size_t)n * 8);
		return 0;
	}
	switch (e->kind) {
	case WEFT_E_COL:
	case WEFT_E_CONST:
		rc = weft_opnd_get(e, cx, sel, &a);
		if (rc == 0) {
			if (e->kind == WEFT_E_COL &&
			    !(weft_sqltype_store(a.v.type) ==
			      weft_sqltype_store(out->type)))
				rc = weft_err_set(
				    cx->err, WEFT_EINVAL,
				    "column %u has the wrong type", e->col);
			else if (a.m == 0 || weft_sqltype_store(out->type) != 3)
				for (i = 0; i < n; i++)
					weft_fn_copy_row(out, i, &a.v, i & a.m);
			else {
				memcpy(out->nulls, a.v.nulls, n);
				memcpy(out->v.s, a.v.v.s,
				       (size_t)n * sizeof(weft_str_t));
			}
		}
		weft_opnd_release(&a);
		return rc;
	case WEFT_E_PARAM:
		return weft_err_set(cx->err, WEFT_EINVAL,
				    "parameters are not supported");
	case WEFT_E_OP: return weft_fn_op(e, cx, sel, out);
	case WEFT_E_AND:
	case WEFT_E_OR: return weft_fn_andor(e, cx, sel, out);
	case WEFT_E_NOT:
	case WEFT_E_ISNULL: return weft_fn_not_isnull(e, cx, sel, out);
	case WEFT_E_IN: return weft_fn_in(e, cx, sel, out);
	case WEFT_E_LIKE: return weft_fn_like_eval(e, cx, sel, out);
	case WEFT_E_CASE: return weft_fn_case(e, cx, sel, out);
	case WEFT_E_CAST:
		rc = weft_opnd_get(e->args[0], cx, sel, &a);
		if (rc == 0)
			rc = weft_cast__eval(&a.v, a.m, cx, sel, e->flags, out);
		weft_opnd_release(&a);
		out->has_scale = e->type == WEFT_S_NUMERIC && e->scale >= 0;
		return rc;
	case WEFT_E_FUNC: return weft_fn_func(e, cx, sel, out);
	case WEFT_E_COALESCE: return weft_fn_coalesce(e, cx, sel, out);
	case WEFT_E_NULLIF: return weft_fn_nullif(e, cx, sel, out);
	}
	return weft_err_set(cx->err, WEFT_EINVAL, "bad expression kind %d",
			    (int)e->kind);
}

int
weft_expr_eval_sel(const weft_expr_t *e, const weft_batch_t *in,
		   const uint8_t *sel, weft_vec_t *out, weft_arena_t *arena,
		   int64_t now, weft_err_t *err)
{
	weft_ectx_t cx = {in, arena, now, err, in->n};

	if (in->n > WEFT_BATCH)
		return weft_err_set(err, WEFT_EINVAL, "batch too large");
	if (weft_sqltype_store(out->type) != weft_sqltype_store(e->type) &&
	    e->type != WEFT_S_NULL)
		return weft_err_set(
		    err, WEFT_EINVAL, "output vector is %s, expression is %s",
		    weft_sqltype_name(out->type), weft_sqltype_name(e->type));
	return weft_expr__eval(e, &cx, sel, out);
}

int
weft_expr_eval(const weft_expr_t *e, const weft_batch_t *in, weft_vec_t *out,
	       weft_arena_t *arena, int64_t now, weft_err_t *err)
{
	return weft_expr_eval_sel(e, in, NULL, out, arena, now, err);
}
