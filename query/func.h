/*
 * func.h: what the evaluator's sources share: func.c (dispatch,
 * operands, arithmetic, comparison, logic, CASE, dates, math) and
 * func_text.c (UTF-8 text functions and LIKE). Internal to query/.
 *
 * An operand (weft_opnd_t) is a vector plus an index mask, 0 for a
 * constant (every row reads slot 0) and all ones for a vector, so one
 * loop serves column op column and column op constant: ONUL, OI, OF, OB
 * and OS read row i of it. A selection (sel, NULL = every row) marks the
 * rows whose errors count (WEFT_ACT). The per-row helpers here are
 * inline: the kernels call them for every row.
 */
#ifndef WEFT_QUERY_FUNC_H
#define WEFT_QUERY_FUNC_H

#include <stdbool.h>
#include <stdint.h>

#include "query/expr.h"

#define WEFT_USEC_DAY INT64_C(86400000000)
#define WEFT_ACT(sel, i) ((sel) == NULL || (sel)[i])
#define WEFT_ALL UINT32_MAX

typedef struct weft_opnd {
	weft_vec_t v;
	uint32_t m;
	bool owned;
	uint8_t cnull;
	union {
		int64_t i;
		double f;
		uint8_t b;
		weft_str_t s;
	} c;
} weft_opnd_t;

static inline int
weft_fn_nomem(const weft_ectx_t *cx)
{
	return weft_err_set(cx->err, WEFT_ENOMEM, "out of memory");
}

#define ONUL(o, i) ((o)->v.nulls[(i) & (o)->m])
#define OI(o, i) ((o)->v.v.i64[(i) & (o)->m])
#define OF(o, i) ((o)->v.v.f64[(i) & (o)->m])
#define OB(o, i) ((o)->v.v.b[(i) & (o)->m])
#define OS(o, i) ((o)->v.v.s[(i) & (o)->m])

/* Copy row j of src into row i of dst (same storage). */
static inline void
weft_fn_copy_row(weft_vec_t *dst, uint32_t i, const weft_vec_t *src, uint32_t j)
{
	dst->nulls[i] = src->nulls[j];
	switch (weft_sqltype_store(dst->type)) {
	case 1: dst->v.f64[i] = src->v.f64[j]; break;
	case 2: dst->v.b[i] = src->v.b[j]; break;
	case 3: dst->v.s[i] = src->v.s[j]; break;
	default: dst->v.i64[i] = src->v.i64[j]; break;
	}
}

/* Row i of out is NULL (its value slot zeroed). */
static inline void
weft_fn_setnull(weft_vec_t *out, uint32_t i)
{
	out->nulls[i] = 1;
	switch (weft_sqltype_store(out->type)) {
	case 1: out->v.f64[i] = 0; break;
	case 2: out->v.b[i] = 0; break;
	case 3: out->v.s[i] = (weft_str_t){"", 0}; break;
	default: out->v.i64[i] = 0; break;
	}
}

/* A runtime error for the statement: msg, code WEFT_EINVAL. */
static inline int
weft_fn_err(const weft_ectx_t *cx, const char *msg)
{
	return weft_err_set(cx->err, WEFT_ETYPE, "%s", msg);
}

/* ---- text kernels (func_text.c), over operands already evaluated ---- */

/* lower, upper, length of o[0]. */
int weft_fn_text1(const weft_expr_t *e, weft_opnd_t *o, const weft_ectx_t *cx,
		  const uint8_t *sel, weft_vec_t *out);
/* substr, btrim/ltrim/rtrim, replace, left, right, strpos over o[]. */
int weft_fn_textn(const weft_expr_t *e, weft_opnd_t *o, const weft_ectx_t *cx,
		  const uint8_t *sel, weft_vec_t *out);
/* concat(o[0..e->nargs)): NULL arguments are skipped. */
int weft_fn_concat(const weft_expr_t *e, weft_opnd_t *o, const weft_ectx_t *cx,
		   weft_vec_t *out);
/* A policy's hash mask (func_mask.c): o[0] (text or bigint) hashed with
 * the key o[1] (64 hex digits), the same type out. */
int weft_fn_mask_hash(const weft_opnd_t *o, const weft_ectx_t *cx,
		      weft_vec_t *out);
/* s [NOT] [I]LIKE p [ESCAPE es] (es NULL: none), flags from e. */
int weft_fn_like_rows(const weft_expr_t *e, const weft_opnd_t *s,
		      const weft_opnd_t *p, const weft_opnd_t *es,
		      const weft_ectx_t *cx, const uint8_t *sel,
		      weft_vec_t *out);

/*
 * x [NOT] IN (list) by e's hash set, built on the first call (e->aux),
 * when the list is long and all constants of x's storage (integers or
 * text): 1 with out[0..n) set, 0 when the linear path must do it,
 * WEFT_ENOMEM. One thread evaluates an expression at a time.
 */
int weft_fn_in_set(const weft_expr_t *e, const weft_opnd_t *x, uint32_t n,
		   weft_vec_t *out);

#endif
