/*
 * bind_expr.c: expressions of the parse tree -> weft_expr_t trees: column
 * references against a scope, constants, operators (BETWEEN, IS
 * DISTINCT FROM, IS TRUE and their kin rewritten into what the
 * evaluator has), function and aggregate calls, CASE, casts; and the
 * errors every binder source reports, with PostgreSQL's wording and the
 * character position.
 *
 * After GROUP BY (c->agg set) an expression may use only group keys
 * (matched structurally, wq_match_key) and aggregates; aggregate calls
 * bind their argument without that rule and are collected into c->agg,
 * each once. Nesting is bounded by WEFT_FRAG_DEPTH_MAX and copies by
 * WEFT_FRAG_NODES_MAX (frag.h), so hostile SQL cannot exhaust the stack
 * or the memory.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "query/bind.h"

/* ---- errors ---- */

int
wq_charpos(const char *sql, int byteoff)
{
	int i, pos = 1;

	if (byteoff < 0)
		return 0;
	for (i = 0; i < byteoff && sql[i]; i++)
		if (((unsigned char)sql[i] & 0xC0) != 0x80)
			pos++;
	return pos;
}

void *
wq_null_err(wq_bindctx_t *b, weft_err_t *err, int loc, int code,
	    const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->pos = loc >= 0 ? wq_charpos(b->sql, loc) : 0;
	}
	return NULL;
}

int
wq_edit(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int d[64][64];

	if (la > 63 || lb > 63)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

/* ---- expressions ---- */

weft_expr_t *
wq_node(wq_ectx_t *c, weft_expr_kind_t kind, int op, int flags, uint32_t n,
	weft_expr_t **args, int loc)
{
	weft_expr_t *e;
	uint32_t i;

	for (i = 0; i < n; i++)
		if (args[i] == NULL)
			goto fail;
	e = weft_expr_node(kind, op, flags, n, args, loc >= 0 ? loc + 1 : 0);
	if (e == NULL)
		WQ_OOM(c->b, c->err);
	return e;
fail:
	for (i = 0; i < n; i++)
		weft_expr_free(args[i]);
	return NULL;
}

static weft_expr_t *
wq_const_i(wq_ectx_t *c, weft_sqltype_t t, int64_t v, int loc)
{
	weft_expr_t *e;
	int l = loc >= 0 ? loc + 1 : 0;

	if (t == WEFT_S_BOOL)
		e = weft_expr_bool(v != 0, l);
	else if (t == WEFT_S_NULL)
		e = weft_expr_null(l);
	else
		e = weft_expr_int(v, t, l);
	if (e == NULL)
		WQ_OOM(c->b, c->err);
	return e;
}

static weft_expr_t *
wq_const_s(wq_ectx_t *c, const char *s, int loc)
{
	weft_expr_t *e = weft_expr_str(s, strlen(s), loc >= 0 ? loc + 1 : 0);

	if (e == NULL)
		WQ_OOM(c->b, c->err);
	return e;
}

static weft_expr_t *
wq_copy(wq_ectx_t *c, const weft_expr_t *e)
{
	weft_expr_t *r;

	if (e == NULL)
		return NULL;
	/* copies are how a tree outgrows its SQL text (BETWEEN, IS DISTINCT
	 * FROM, nested): bound them */
	if (weft_expr_nodes(e) > WEFT_FRAG_NODES_MAX)
		return WQ_ERR(c->b, c->err, e->location - 1,
			      "expression too "
			      "large (more than %d nodes)",
			      WEFT_FRAG_NODES_MAX);
	r = weft_expr_copy(e);
	if (r == NULL)
		WQ_OOM(c->b, c->err);
	return r;
}

/* A type name -> engine type; WEFT_S_NULL if not supported. */
static weft_sqltype_t
wq_typename(const PgQuery__TypeName *t, const char **name)
{
	static const struct {
		const char *n;
		weft_sqltype_t t;
	} map[] = {
	    {"int2", WEFT_S_INT32},
	    {"int4", WEFT_S_INT32},
	    {"integer", WEFT_S_INT32},
	    {"int", WEFT_S_INT32},
	    {"smallint", WEFT_S_INT32},
	    {"int8", WEFT_S_INT64},
	    {"bigint", WEFT_S_INT64},
	    {"float8", WEFT_S_FLOAT64},
	    {"float4", WEFT_S_FLOAT64},
	    {"real", WEFT_S_FLOAT64},
	    {"float", WEFT_S_FLOAT64},
	    {"numeric", WEFT_S_NUMERIC},
	    {"decimal", WEFT_S_NUMERIC},
	    {"text", WEFT_S_TEXT},
	    {"varchar", WEFT_S_TEXT},
	    {"bool", WEFT_S_BOOL},
	    {"boolean", WEFT_S_BOOL},
	    {"timestamp", WEFT_S_TIMESTAMP},
	    {"timestamptz", WEFT_S_TIMESTAMP},
	    {"interval", WEFT_S_INTERVAL},
	};
	const char *n = wq_lastname(t->names, t->n_names);
	size_t i;

	*name = n ? n : "?";
	if (n == NULL || t->n_array_bounds > 0 || t->setof)
		return WEFT_S_NULL;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(n, map[i].n) == 0)
			return map[i].t;
	return WEFT_S_NULL;
}

static const char *
wq_aggfn_lookup(const char *name, int *fn)
{
	static const char *const other[] = {"array_agg",
					    "string_agg",
					    "bool_and",
					    "bool_or",
					    "every",
					    "json_agg",
					    "jsonb_agg",
					    "bit_and",
					    "bit_or",
					    "percentile_cont",
					    "percentile_disc",
					    "mode",
					    "xmlagg",
					    "json_object_agg",
					    "row_number",
					    "rank",
					    "dense_rank",
					    "lag",
					    "lead",
					    "ntile",
					    "first_value",
					    "last_value",
					    "nth_value",
					    "percent_rank",
					    "cume_dist",
					    "grouping"};
	size_t i;

	for (i = 1; i <= WQ_AGG_FN_LAST; i++)
		if (strcmp(name, wq_agg_name((int)i)) == 0) {
			*fn = (int)i;
			return "";
		}
	if (strcmp(name, "variance") == 0 || strcmp(name, "stddev") == 0) {
		*fn = name[0] == 'v' ? WQ_AGG_VAR_SAMP : WQ_AGG_STDDEV_SAMP;
		return "";
	}
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (strcmp(name, other[i]) == 0) {
			*fn = -1;
			return other[i];
		}
	return NULL;
}

/* Implicit coercion of a resolved e to t. */
int
wq_coerce(wq_ectx_t *c, weft_expr_t **e, weft_sqltype_t t)
{
	if ((*e)->type == t)
		return 0;
	return weft_expr_coerce(e, t, c->err);
}

/* Find a column in scope. fields: String nodes. */
static weft_expr_t *
wq_colref(wq_ectx_t *c, PgQuery__ColumnRef *cr)
{
	const char *parts[4];
	const char *name, *rel = NULL, *schema = NULL, *org = NULL;
	wq_scope_t *s = c->scope;
	uint32_t i, found = 0, fi = 0;
	bool relseen = false;
	char full[200];
	int loc = cr->location;

	if (cr->n_fields > 4)
		return WQ_ERR(c->b, c->err, loc,
			      "improper qualified name (too "
			      "many dotted names)");
	for (i = 0; i < cr->n_fields; i++) {
		if (cr->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR)
			return WQ_UNSUP(c->b, c->err, loc,
					"* in an expression");
		if (cr->fields[i]->node_case != PG_QUERY__NODE__NODE_STRING)
			return WQ_UNSUP(c->b, c->err, loc, "column reference");
		parts[i] = cr->fields[i]->string->sval;
	}
	name = parts[cr->n_fields - 1];
	if (cr->n_fields >= 2)
		rel = parts[cr->n_fields - 2];
	if (cr->n_fields >= 3)
		schema = parts[cr->n_fields - 3];
	if (cr->n_fields >= 4)
		org = parts[0];
	for (i = 0; s != NULL && i < s->n; i++) {
		wq_scol_t *sc = &s->c[i];

		if (rel != NULL) {
			if (sc->rel == NULL || strcmp(sc->rel, rel) != 0)
				continue;
			if (schema &&
			    (!sc->schema || strcmp(sc->schema, schema)))
				continue;
			if (org && (!sc->org || strcmp(sc->org, org)))
				continue;
			relseen = true;
		} else if (sc->nounqual) {
			continue;
		}
		if (strcmp(sc->name, name) != 0)
			continue;
		if (found++ == 0)
			fi = i;
	}
	if (found > 1)
		return WQ_ERR(c->b, c->err, loc,
			      "column reference \"%s\" is ambiguous", name);
	if (found == 1) {
		weft_expr_t *e =
		    weft_expr_col(s->c[fi].idx, s->c[fi].type, loc + 1);

		if (e == NULL)
			WQ_OOM(c->b, c->err);
		return e;
	}
	if (rel != NULL && !relseen)
		return WQ_ERR(c->b, c->err, loc,
			      "missing FROM-clause entry for table \"%s\"",
			      rel);
	/* did you mean? */
	{
		int best = 3;
		const wq_scol_t *bs = NULL;

		for (i = 0; s != NULL && i < s->n; i++) {
			int d;

			if (rel && (!s->c[i].rel || strcmp(s->c[i].rel, rel)))
				continue;
			d = wq_edit(name, s->c[i].name);
			if (d < best) {
				best = d;
				bs = &s->c[i];
			}
		}
		if (rel)
			snprintf(full, sizeof(full), "%s.%s", rel, name);
		else
			snprintf(full, sizeof(full), "%s", name);
		if (bs != NULL)
			return WQ_ERR(c->b, c->err, loc,
				      "column \"%s\" does not exist (did you "
				      "mean \"%s%s%s\"?)",
				      full, bs->rel && rel ? bs->rel : "",
				      bs->rel && rel ? "." : "", bs->name);
		return WQ_ERR(c->b, c->err, loc, "column \"%s\" does not exist",
			      full);
	}
}

static weft_expr_t *
wq_aconst(wq_ectx_t *c, PgQuery__AConst *a)
{
	int loc = a->location;

	if (a->isnull)
		return wq_const_i(c, WEFT_S_NULL, 0, loc);
	switch (a->val_case) {
	case PG_QUERY__A__CONST__VAL_IVAL:
		return wq_const_i(c, WEFT_S_INT32, a->ival->ival, loc);
	case PG_QUERY__A__CONST__VAL_FVAL: {
		const char *t = a->fval->fval;
		bool neg = *t == '-';
		weft_expr_t *e = weft_expr_number(neg ? t + 1 : t, loc + 1);

		if (e == NULL)
			return WQ_ERR(c->b, c->err, loc,
				      "invalid number \"%s\"", t);
		if (neg && e->kind == WEFT_E_CONST && !e->cval.null) {
			if (e->type == WEFT_S_NUMERIC ||
			    e->type == WEFT_S_FLOAT64) {
				e->cval.u.f = -e->cval.u.f;
			} else if (e->cval.u.i == INT64_MIN) {
				weft_expr_free(e);
				return WQ_ERR(c->b, c->err, loc,
					      "invalid number \"%s\"", t);
			} else {
				e->cval.u.i = -e->cval.u.i;
				if (e->cval.u.i >= INT32_MIN &&
				    e->cval.u.i <= INT32_MAX)
					e->type = e->cval.type = WEFT_S_INT32;
			}
		}
		return e;
	}
	case PG_QUERY__A__CONST__VAL_BOOLVAL:
		return wq_const_i(c, WEFT_S_BOOL, a->boolval->boolval, loc);
	case PG_QUERY__A__CONST__VAL_SVAL:
		return wq_const_s(c, a->sval->sval, loc);
	default: return WQ_UNSUP(c->b, c->err, loc, "bit string constants");
	}
}

static weft_expr_t *
wq_bx_list(wq_ectx_t *c, weft_expr_kind_t kind, int op, int flags,
	   weft_expr_t *first, pgn_t **items, size_t n, int loc)
{
	weft_expr_t **args;
	weft_expr_t *e;
	size_t i, k = 0;

	if (n > WEFT_FRAG_ARGS_MAX)
		return WQ_UNSUP(c->b, c->err, loc, "list too long");
	args = calloc(n + 1, sizeof(*args));
	if (args == NULL) {
		weft_expr_free(first);
		return WQ_OOM(c->b, c->err);
	}
	if (first)
		args[k++] = first;
	for (i = 0; i < n; i++) {
		args[k] = wq_bx(c, items[i]);
		if (args[k++] == NULL) {
			while (k > 0)
				weft_expr_free(args[--k]);
			free(args);
			return NULL;
		}
	}
	e = wq_node(c, kind, op, flags, (uint32_t)k, args, loc);
	free(args);
	return e;
}

/* Two operands of a, bound in order, into args (args[1] NULL when the
 * first failed, so that wq_node frees and fails). */
static void
wq_aexpr_pair(wq_ectx_t *c, PgQuery__AExpr *a, weft_expr_t **args)
{
	args[0] = wq_bx(c, a->lexpr);
	args[1] = args[0] ? wq_bx(c, a->rexpr) : NULL;
}

/* An operator: prefix - and +, ^ (power), the arithmetic, comparison
 * and || operators, and LIKE written as ~~ and its kin. */
static weft_expr_t *
wq_aexpr_op(wq_ectx_t *c, PgQuery__AExpr *a, const char *op)
{
	static const struct {
		const char *s;
		int op;
	} ops[] = {
	    {"+", WEFT_OP_ADD},	    {"-", WEFT_OP_SUB}, {"*", WEFT_OP_MUL},
	    {"/", WEFT_OP_DIV},	    {"%", WEFT_OP_MOD}, {"=", WEFT_OP_EQ},
	    {"<>", WEFT_OP_NE},	    {"!=", WEFT_OP_NE}, {"<", WEFT_OP_LT},
	    {"<=", WEFT_OP_LE},	    {">", WEFT_OP_GT},	{">=", WEFT_OP_GE},
	    {"||", WEFT_OP_CONCAT},
	};
	int loc = a->location;
	weft_expr_t *args[2];
	size_t i;

	if (a->lexpr == NULL) { /* prefix operator */
		if (strcmp(op, "-") == 0) {
			args[0] = wq_bx(c, a->rexpr);
			return wq_node(c, WEFT_E_OP, WEFT_OP_NEG, 0, 1, args,
				       loc);
		}
		if (strcmp(op, "+") == 0)
			return wq_bx(c, a->rexpr);
		return WQ_UNSUP(c->b, c->err, loc, "prefix operator");
	}
	if (a->rexpr == NULL)
		return WQ_UNSUP(c->b, c->err, loc, "postfix operator");
	if (strcmp(op, "^") == 0) {
		wq_aexpr_pair(c, a, args);
		return wq_node(c, WEFT_E_FUNC, WEFT_F_POWER, 0, 2, args, loc);
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i].s) == 0) {
			wq_aexpr_pair(c, a, args);
			return wq_node(c, WEFT_E_OP, ops[i].op, 0, 2, args,
				       loc);
		}
	if (strcmp(op, "~~") == 0 || strcmp(op, "!~~") == 0 ||
	    strcmp(op, "~~*") == 0 || strcmp(op, "!~~*") == 0) {
		int fl = (op[0] == '!' ? WEFT_EF_NOT : 0) |
			 (op[strlen(op) - 1] == '*' ? WEFT_EF_ILIKE : 0);

		wq_aexpr_pair(c, a, args);
		return wq_node(c, WEFT_E_LIKE, 0, fl, 2, args, loc);
	}
	return wq_null_err(c->b, c->err, loc, WEFT_EINVAL,
			   "unsupported at character %d: operator %s",
			   wq_charpos(c->b->sql, loc), op);
}

/* x [NOT] IN (list); IN (subquery) is refused. */
static weft_expr_t *
wq_aexpr_in(wq_ectx_t *c, PgQuery__AExpr *a, const char *op)
{
	weft_expr_t *x;

	if (a->rexpr == NULL ||
	    a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST)
		return WQ_UNSUP(c->b, c->err, a->location, "IN (subquery)");
	x = wq_bx(c, a->lexpr);
	if (x == NULL)
		return NULL;
	return wq_bx_list(
	    c, WEFT_E_IN, 0, strcmp(op, "<>") == 0 ? WEFT_EF_NOT : 0, x,
	    a->rexpr->list->items, a->rexpr->list->n_items, a->location);
}

/* x [NOT] [I]LIKE p [ESCAPE e]. */
static weft_expr_t *
wq_aexpr_like(wq_ectx_t *c, PgQuery__AExpr *a, const char *op)
{
	int loc = a->location;
	int fl =
	    (a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE ? WEFT_EF_ILIKE
							     : 0) |
	    (op[0] == '!' ? WEFT_EF_NOT : 0);
	weft_expr_t *args[2];

	if (a->rexpr && a->rexpr->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
		PgQuery__FuncCall *f = a->rexpr->func_call;
		const char *fn = wq_lastname(f->funcname, f->n_funcname);
		weft_expr_t *x;

		if (fn == NULL || strcmp(fn, "like_escape") != 0 ||
		    f->n_args != 2)
			return WQ_UNSUP(c->b, c->err, loc, "LIKE pattern form");
		x = wq_bx(c, a->lexpr);
		if (x == NULL)
			return NULL;
		return wq_bx_list(c, WEFT_E_LIKE, 0, fl, x, f->args, 2, loc);
	}
	wq_aexpr_pair(c, a, args);
	return wq_node(c, WEFT_E_LIKE, 0, fl, 2, args, loc);
}

/* x [NOT] BETWEEN lo AND hi: x >= lo AND x <= hi (x < lo OR x > hi),
 * with x copied. */
static weft_expr_t *
wq_aexpr_between(wq_ectx_t *c, PgQuery__AExpr *a)
{
	bool neg = a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN;
	int loc = a->location;
	weft_expr_t *x, *x2, *lo, *hi, *l2[2], *args[2];
	PgQuery__List *lst;

	if (a->rexpr == NULL ||
	    a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST ||
	    a->rexpr->list->n_items != 2)
		return WQ_UNSUP(c->b, c->err, loc, "BETWEEN form");
	lst = a->rexpr->list;
	x = wq_bx(c, a->lexpr);
	if (x == NULL)
		return NULL;
	x2 = wq_copy(c, x);
	lo = x2 ? wq_bx(c, lst->items[0]) : NULL;
	hi = lo ? wq_bx(c, lst->items[1]) : NULL;
	if (hi == NULL) {
		weft_expr_free(x);
		weft_expr_free(x2);
		weft_expr_free(lo);
		return NULL;
	}
	l2[0] = x;
	l2[1] = lo;
	args[0] =
	    wq_node(c, WEFT_E_OP, neg ? WEFT_OP_LT : WEFT_OP_GE, 0, 2, l2, loc);
	l2[0] = x2;
	l2[1] = hi;
	if (args[0] == NULL) {
		weft_expr_free(x2);
		weft_expr_free(hi);
		return NULL;
	}
	args[1] =
	    wq_node(c, WEFT_E_OP, neg ? WEFT_OP_GT : WEFT_OP_LE, 0, 2, l2, loc);
	return wq_node(c, neg ? WEFT_E_OR : WEFT_E_AND, 0, 0, 2, args, loc);
}

/* a IS NOT DISTINCT FROM b == CASE WHEN a IS NULL THEN b IS NULL WHEN b
 * IS NULL THEN false ELSE a = b END; IS DISTINCT FROM is its negation. */
static weft_expr_t *
wq_aexpr_distinct(wq_ectx_t *c, PgQuery__AExpr *a)
{
	int loc = a->location;
	weft_expr_t *x, *y, *t[7], *one[1], *two[2], *cs, *neg[1];

	x = wq_bx(c, a->lexpr);
	y = x ? wq_bx(c, a->rexpr) : NULL;
	if (y == NULL) {
		weft_expr_free(x);
		return NULL;
	}
	one[0] = wq_copy(c, x);
	t[0] = wq_node(c, WEFT_E_ISNULL, 0, 0, 1, one, loc);
	one[0] = wq_copy(c, y);
	t[1] = wq_node(c, WEFT_E_ISNULL, 0, 0, 1, one, loc);
	one[0] = wq_copy(c, y);
	t[2] = wq_node(c, WEFT_E_ISNULL, 0, 0, 1, one, loc);
	t[3] = wq_const_i(c, WEFT_S_BOOL, 0, loc);
	two[0] = x;
	two[1] = y;
	t[4] = wq_node(c, WEFT_E_OP, WEFT_OP_EQ, 0, 2, two, loc);
	cs = wq_node(c, WEFT_E_CASE, 0, WEFT_EF_CASE_ELSE, 5, t, loc);
	if (cs == NULL ||
	    a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT)
		return cs;
	neg[0] = cs;
	return wq_node(c, WEFT_E_NOT, 0, 0, 1, neg, loc);
}

static weft_expr_t *
wq_aexpr(wq_ectx_t *c, PgQuery__AExpr *a)
{
	const char *op = wq_lastname(a->name, a->n_name);
	int loc = a->location;
	weft_expr_t *args[2];

	if (op == NULL)
		return WQ_UNSUP(c->b, c->err, loc, "operator");
	switch (a->kind) {
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP: return wq_aexpr_op(c, a, op);
	case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
		wq_aexpr_pair(c, a, args);
		return wq_node(c, WEFT_E_NULLIF, 0, 0, 2, args, loc);
	case PG_QUERY__A__EXPR__KIND__AEXPR_IN: return wq_aexpr_in(c, a, op);
	case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
	case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE:
		return wq_aexpr_like(c, a, op);
	case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
	case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
		return wq_aexpr_between(c, a);
	case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
	case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
		return wq_aexpr_distinct(c, a);
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL:
		return WQ_UNSUP(c->b, c->err, loc, "ANY/ALL (array)");
	case PG_QUERY__A__EXPR__KIND__AEXPR_SIMILAR:
		return WQ_UNSUP(c->b, c->err, loc, "SIMILAR TO");
	default: return WQ_UNSUP(c->b, c->err, loc, "BETWEEN SYMMETRIC");
	}
}

/* Do f's arguments fit aggregate fn? 0, or an error set. */
static int
wq_aggargs_check(wq_ectx_t *c, const PgQuery__FuncCall *f, int fn,
		 const char *name)
{
	uint32_t want = wq_agg_is_stat(fn) ? wq_stat_nargs(fn) : 1;
	int loc = f->location;

	if (fn == WQ_AGG_LINREG &&
	    (f->n_args < 2 || f->n_args > 1 + WQ_LINREG_X_MAX)) {
		WQ_ERR(c->b, c->err, loc,
		       "weft_linreg takes y and 1 to %d regressors, not %zu "
		       "argument%s",
		       WQ_LINREG_X_MAX, f->n_args, f->n_args == 1 ? "" : "s");
		return c->err->code;
	}
	if (fn != WQ_AGG_LINREG && f->n_args != want) {
		WQ_ERR(c->b, c->err, loc,
		       "function %s with %zu arguments does not exist", name,
		       f->n_args);
		return c->err->code;
	}
	if (wq_agg_is_stat(fn) && f->agg_distinct && f->n_args > 1) {
		WQ_UNSUP(c->b, c->err, loc,
			 "DISTINCT in an aggregate of two or more arguments");
		return c->err->code;
	}
	return 0;
}

/*
 * The arguments after the first of a statistical aggregate, bound in
 * pre (an aggregate's argument), each coerced to double precision as
 * PostgreSQL's corr(double precision, double precision) takes them.
 */
static int
wq_aggargs_more(wq_ectx_t *pre, const PgQuery__FuncCall *f, wq_agg_t *g)
{
	uint32_t i, n = (uint32_t)f->n_args - 1;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((g->more = calloc(n, sizeof(*g->more))) == NULL) {
		WQ_OOM(pre->b, pre->err);
		return WEFT_ENOMEM;
	}
	g->nmore = n;
	for (i = 0; i < n && rc == 0; i++) {
		weft_expr_t *x = wq_bx(pre, f->args[i + 1]);

		if (x == NULL)
			return pre->err->code ? pre->err->code : WEFT_EINVAL;
		g->more[i] = x;
		rc = weft_expr_resolve(&g->more[i], pre->err);
		if (rc == 0)
			rc = wq_coerce(pre, &g->more[i], WEFT_S_FLOAT64);
	}
	return rc;
}

/*
 * The arguments of aggregate call f: the first as written (*raw, for
 * finding the same aggregate twice) and resolved (*arg), the others into
 * more->more. 0, or an error set and nothing left to free.
 */
static int
wq_aggargs_bind(wq_ectx_t *c, const PgQuery__FuncCall *f, int fn,
		const char *name, weft_expr_t **raw, weft_expr_t **arg,
		wq_agg_t *more)
{
	wq_ectx_t pre = *c;
	int rc;

	if ((rc = wq_aggargs_check(c, f, fn, name)) != 0)
		return rc;
	pre.agg = NULL;
	pre.in_agg = true;
	if ((*raw = wq_bx(&pre, f->args[0])) == NULL)
		return WEFT_EINVAL;
	if ((*arg = wq_copy(c, *raw)) == NULL) {
		weft_expr_free(*raw);
		*raw = NULL;
		return WEFT_ENOMEM;
	}
	rc = weft_expr_resolve(arg, c->err);
	if (rc == 0 &&
	    ((*arg)->type == WEFT_S_UNKNOWN ||
	     ((*arg)->type == WEFT_S_NULL &&
	      (fn == WQ_AGG_MIN || fn == WQ_AGG_MAX || fn == WQ_AGG_COUNT))))
		rc = wq_coerce(c, arg, WEFT_S_TEXT);
	if (rc == 0 && wq_agg_is_stat(fn) && wq_stat_nargs(fn) != 1)
		rc = wq_coerce(c, arg, WEFT_S_FLOAT64);
	if (rc == 0)
		rc = wq_aggargs_more(&pre, f, more);
	if (rc != 0) {
		wq_agg_free_args(more);
		weft_expr_free(*raw);
		weft_expr_free(*arg);
		*raw = *arg = NULL;
	}
	return rc;
}

static weft_expr_t *
wq_aggcall(wq_ectx_t *c, PgQuery__FuncCall *f, int fn, const char *name)
{
	int loc = f->location;
	weft_expr_t *arg = NULL, *raw = NULL, *col;
	wq_agg_t more = {0};
	wq_aggctx_t *ac = c->agg;
	weft_sqltype_t rt;
	uint32_t i;

	if (c->what != NULL)
		return WQ_ERR(c->b, c->err, loc,
			      "aggregate functions are not allowed in %s",
			      c->what);
	if (c->in_agg)
		return WQ_ERR(c->b, c->err, loc,
			      "aggregate function calls cannot be nested");
	if (ac == NULL)
		return WQ_ERR(c->b, c->err, loc,
			      "aggregate functions are not allowed here");
	if (f->n_agg_order > 0 || f->agg_within_group)
		return WQ_UNSUP(c->b, c->err, loc, "ordered aggregates");
	if (f->agg_filter != NULL)
		return WQ_UNSUP(c->b, c->err, loc, "aggregate FILTER");
	if (f->agg_star) {
		if (fn != WQ_AGG_COUNT)
			return WQ_ERR(c->b, c->err, loc,
				      "%s(*) must be used to call a "
				      "parameterless aggregate function",
				      name);
		fn = WQ_AGG_COUNT_STAR;
	} else if (wq_aggargs_bind(c, f, fn, name, &raw, &arg, &more) != 0) {
		return NULL;
	}
	rt = wq_agg_result_type(fn, arg ? arg->type : WEFT_S_NULL);
	if (rt == WEFT_S_NULL) {
		WQ_ERR(c->b, c->err, loc, "function %s(%s) does not exist",
		       name, weft_sqltype_name(arg ? arg->type : WEFT_S_NULL));
		goto fail;
	}
	for (i = 0; i < ac->naggs; i++) {
		wq_agg_t *g = &ac->aggs[i];

		if (g->fn == fn && g->distinct == (bool)f->agg_distinct &&
		    more.nmore == 0 &&
		    ((raw == NULL && ac->aggs_raw[i] == NULL) ||
		     (raw && ac->aggs_raw[i] &&
		      weft_expr_equal(raw, ac->aggs_raw[i]))))
			break;
	}
	if (i == ac->naggs) {
		if (ac->naggs == ac->cap) {
			uint32_t nc = ac->cap ? ac->cap * 2 : 8;
			wq_agg_t *na = realloc(ac->aggs, nc * sizeof(*na));
			weft_expr_t **nr;

			if (na == NULL)
				goto oom;
			ac->aggs = na;
			nr = realloc(ac->aggs_raw, nc * sizeof(*nr));
			if (nr == NULL)
				goto oom;
			ac->aggs_raw = nr;
			ac->cap = nc;
		}
		ac->aggs[i].fn = fn;
		ac->aggs[i].distinct =
		    f->agg_distinct && fn != WQ_AGG_MIN && fn != WQ_AGG_MAX;
		ac->aggs[i].arg = arg;
		ac->aggs[i].nmore = more.nmore;
		ac->aggs[i].more = more.more;
		more.more = NULL;
		ac->aggs[i].argtype = arg ? arg->type : WEFT_S_NULL;
		ac->aggs[i].type = rt;
		ac->aggs[i].scale = wq_agg_scale(fn, rt, arg);
		ac->aggs_raw[i] = raw;
		ac->naggs++;
	} else {
		weft_expr_free(arg);
		weft_expr_free(raw);
	}
	wq_agg_free_args(&more);
	col = weft_expr_col(ac->nkeys + i, rt, loc + 1);
	if (col == NULL)
		WQ_OOM(c->b, c->err);
	return col;
oom:
	WQ_OOM(c->b, c->err);
fail:
	weft_expr_free(arg);
	weft_expr_free(raw);
	wq_agg_free_args(&more);
	return NULL;
}

/*
 * requester_org(), requester_node() (its key, 64 hex digits) and
 * requester_has_role('r'): in a policy's rows predicate only, where they
 * are constants of the node that asks (docs/policy.md).
 */
static weft_expr_t *
wq_requester(wq_ectx_t *c, PgQuery__FuncCall *f, const char *name)
{
	const weft_requester_t *r = c->b->req;
	int loc = f->location, l = loc >= 0 ? loc + 1 : 0;
	char hex[2 * WEFT_PK_BYTES + 1];
	const char *role;
	weft_expr_t *e;
	size_t i;
	bool has = false;

	if (r == NULL)
		return WQ_ERR(c->b, c->err, loc,
			      "%s() may be used only in a policy's rows "
			      "predicate",
			      name);
	if (strcmp(name, "requester_has_role") == 0) {
		if (f->n_args != 1 ||
		    f->args[0]->node_case != PG_QUERY__NODE__NODE_A_CONST ||
		    f->args[0]->a_const->val_case !=
			PG_QUERY__A__CONST__VAL_SVAL)
			return WQ_ERR(c->b, c->err, loc,
				      "requester_has_role() takes one string "
				      "constant");
		role = f->args[0]->a_const->sval->sval;
		for (i = 0; i < r->nroles; i++)
			has |= strcmp(r->roles[i], role) == 0;
		e = weft_expr_bool(has, l);
	} else if (f->n_args != 0) {
		return WQ_ERR(c->b, c->err, loc, "%s() takes no arguments",
			      name);
	} else if (strcmp(name, "requester_org") == 0) {
		role = r->org ? r->org : "";
		e = weft_expr_str(role, strlen(role), l);
	} else {
		if (r->pk == NULL)
			hex[0] = 0;
		else
			sodium_bin2hex(hex, sizeof(hex), r->pk, WEFT_PK_BYTES);
		e = weft_expr_str(hex, strlen(hex), l);
	}
	if (e == NULL)
		return WQ_OOM(c->b, c->err);
	if (weft_expr_finish(&e, c->err) != 0) { /* text, not unknown */
		weft_expr_free(e);
		return NULL;
	}
	return e;
}

static weft_expr_t *
wq_funccall(wq_ectx_t *c, PgQuery__FuncCall *f)
{
	const char *name = wq_lastname(f->funcname, f->n_funcname);
	int loc = f->location, fn, id;
	const char *other;
	static const struct {
		const char *a, *b;
	} alias[] = {
	    {"substring", "substr"},
	    {"char_length", "length"},
	    {"character_length", "length"},
	    {"ceiling", "ceil"},
	    {"pow", "power"},
	    {"trim", "btrim"},
	    {"extract", "date_part"},
	};
	char lname[64];
	size_t i;
	weft_expr_t *e;

	if (name == NULL)
		return WQ_UNSUP(c->b, c->err, loc, "function name");
	if (f->over != NULL)
		return WQ_UNSUP(c->b, c->err, loc, "window functions");
	if (strcmp(name, "weft_profile") == 0)
		return WQ_ERR(c->b, c->err, loc,
			      "weft_profile(*) must be the only item of a "
			      "select list: SELECT weft_profile(*) FROM ...");
	if (strcmp(name, "requester_org") == 0 ||
	    strcmp(name, "requester_node") == 0 ||
	    strcmp(name, "requester_has_role") == 0)
		return wq_requester(c, f, name);
	other = wq_aggfn_lookup(name, &fn);
	if (other != NULL && fn < 0)
		return wq_null_err(
		    c->b, c->err, loc, WEFT_EINVAL,
		    "unsupported at character %d: aggregate function %s",
		    wq_charpos(c->b->sql, loc), other);
	if (other != NULL)
		return wq_aggcall(c, f, fn, name);
	if (f->agg_star || f->agg_distinct || f->n_agg_order || f->agg_filter)
		return WQ_ERR(c->b, c->err, loc,
			      "%s is not an aggregate function", name);
	if (f->func_variadic)
		return WQ_UNSUP(c->b, c->err, loc, "VARIADIC");
	snprintf(lname, sizeof(lname), "%s", name);
	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcmp(lname, alias[i].a) == 0)
			snprintf(lname, sizeof(lname), "%s", alias[i].b);
	id = weft_func_lookup(lname);
	if (id < 0)
		return WQ_ERR(c->b, c->err, loc, "function %s does not exist",
			      name);
	e = wq_bx_list(c, WEFT_E_FUNC, id, 0, NULL, f->args, f->n_args, loc);
	if (e != NULL && strcmp(name, "extract") == 0)
		e->flags |= WEFT_EF_EXTRACT;
	return e;
}

static weft_expr_t *
wq_case(wq_ectx_t *c, PgQuery__CaseExpr *ce)
{
	size_t n = (ce->arg ? 1 : 0) + 2 * ce->n_args + (ce->defresult ? 1 : 0);
	weft_expr_t **args = calloc(n ? n : 1, sizeof(*args)), *e;
	size_t k = 0, i;
	int fl = (ce->arg ? WEFT_EF_CASE_OPERAND : 0) |
		 (ce->defresult ? WEFT_EF_CASE_ELSE : 0);

	if (args == NULL)
		return WQ_OOM(c->b, c->err);
	if (ce->arg && (args[k++] = wq_bx(c, ce->arg)) == NULL)
		goto fail;
	for (i = 0; i < ce->n_args; i++) {
		PgQuery__CaseWhen *w;

		if (ce->args[i]->node_case != PG_QUERY__NODE__NODE_CASE_WHEN) {
			WQ_UNSUP(c->b, c->err, ce->location, "CASE form");
			goto fail;
		}
		w = ce->args[i]->case_when;
		if ((args[k++] = wq_bx(c, w->expr)) == NULL)
			goto fail;
		if ((args[k++] = wq_bx(c, w->result)) == NULL)
			goto fail;
	}
	if (ce->defresult && (args[k++] = wq_bx(c, ce->defresult)) == NULL)
		goto fail;
	e = wq_node(c, WEFT_E_CASE, 0, fl, (uint32_t)n, args, ce->location);
	free(args);
	return e;
fail:
	for (i = 0; i < n; i++)
		weft_expr_free(args[i]);
	free(args);
	return NULL;
}

/* The bound expression of a group key that n equals, if any. */
static weft_expr_t *
wq_match_key(wq_ectx_t *c, pgn_t *n)
{
	wq_ectx_t pre = *c;
	weft_err_t scratch = {0};
	weft_expr_t *raw, *col = NULL;
	uint32_t k;

	pre.agg = NULL;
	pre.what = "GROUP BY";
	pre.err = &scratch;
	raw = wq_bx(&pre, n);
	if (raw == NULL)
		return NULL;
	for (k = 0; k < c->agg->nkeys; k++)
		if (weft_expr_equal(raw, c->agg->keys_raw[k])) {
			col = weft_expr_col(k, c->agg->keytypes[k],
					    raw->location);
			break;
		}
	weft_expr_free(raw);
	return col;
}

/* A column reference; after GROUP BY it must be a group key (which
 * wq_match_key found already) or inside an aggregate. */
static weft_expr_t *
wq_bx_colref(wq_ectx_t *c, PgQuery__ColumnRef *cr)
{
	const char *nm;
	weft_err_t scratch = {0};
	wq_ectx_t pre = *c;
	weft_expr_t *e;

	if (c->agg == NULL || c->in_agg)
		return wq_colref(c, cr);
	nm = wq_lastname(cr->fields, cr->n_fields);
	pre.agg = NULL;
	pre.err = &scratch;
	e = wq_colref(&pre, cr);
	if (e == NULL) { /* report the real lookup error */
		*c->err = scratch;
		return NULL;
	}
	weft_expr_free(e);
	return WQ_ERR(c->b, c->err, cr->location,
		      "column \"%s\" must appear in the GROUP BY clause or be "
		      "used in an aggregate function",
		      nm ? nm : "?");
}

/* AND, OR, NOT. */
static weft_expr_t *
wq_bx_bool(wq_ectx_t *c, PgQuery__BoolExpr *be)
{
	weft_expr_t *args[1];
	int loc = be->location;

	if (be->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR) {
		if (be->n_args != 1)
			return WQ_UNSUP(c->b, c->err, loc, "NOT form");
		args[0] = wq_bx(c, be->args[0]);
		return wq_node(c, WEFT_E_NOT, 0, 0, 1, args, loc);
	}
	return wq_bx_list(c,
			  be->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR
			      ? WEFT_E_AND
			      : WEFT_E_OR,
			  0, 0, NULL, be->args, be->n_args, loc);
}

/* x IS [NOT] TRUE / FALSE / UNKNOWN, built from IS NULL, NOT and
 * coalesce. */
static weft_expr_t *
wq_bx_booltest(wq_ectx_t *c, PgQuery__BooleanTest *bt)
{
	int t = bt->booltesttype, loc = bt->location;
	weft_expr_t *x, *e, *args[2];

	x = wq_bx(c, bt->arg);
	if (x == NULL)
		return NULL;
	if (t == PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN ||
	    t == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN) {
		args[0] = x;
		return wq_node(c, WEFT_E_ISNULL, 0,
			       t == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN
				   ? WEFT_EF_NOT
				   : 0,
			       1, args, loc);
	}
	/* IS TRUE: coalesce(x, false); IS FALSE: coalesce(not x, false);
	 * IS NOT ...: their negation */
	if (t == PG_QUERY__BOOL_TEST_TYPE__IS_FALSE ||
	    t == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_FALSE) {
		args[0] = x;
		x = wq_node(c, WEFT_E_NOT, 0, 0, 1, args, loc);
	}
	args[0] = x;
	args[1] = wq_const_i(c, WEFT_S_BOOL, 0, loc);
	e = wq_node(c, WEFT_E_COALESCE, 0, 0, 2, args, loc);
	if (e != NULL && (t == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE ||
			  t == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_FALSE)) {
		args[0] = e;
		e = wq_node(c, WEFT_E_NOT, 0, 0, 1, args, loc);
	}
	return e;
}

/* CAST(x AS t) and x::t. */
static weft_expr_t *
wq_bx_typecast(wq_ectx_t *c, PgQuery__TypeCast *tc)
{
	const char *tn;
	weft_sqltype_t t = wq_typename(tc->type_name, &tn);
	int loc = tc->location;
	weft_expr_t *x, *e;

	if (t == WEFT_S_NULL)
		return wq_null_err(c->b, c->err, loc, WEFT_EINVAL,
				   "unsupported at character %d: type %s",
				   wq_charpos(c->b->sql, loc), tn);
	x = wq_bx(c, tc->arg);
	if (x == NULL)
		return NULL;
	e = weft_expr_cast(x, t, loc + 1);
	if (e == NULL)
		WQ_OOM(c->b, c->err);
	return e;
}

/* current_timestamp and localtimestamp: now(). */
static weft_expr_t *
wq_bx_sqlvalue(wq_ectx_t *c, PgQuery__SQLValueFunction *sv)
{
	weft_expr_t *args[1];

	if (sv->op == PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP ||
	    sv->op == PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP)
		return wq_node(c, WEFT_E_FUNC, WEFT_F_NOW, 0, 0, args,
			       sv->location);
	return WQ_UNSUP(c->b, c->err, sv->location, "SQL value function");
}

/* The expression forms the engine refuses, each at its location. */
static weft_expr_t *
wq_bx_unsupported(wq_ectx_t *c, pgn_t *n)
{
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
		return WQ_UNSUP(c->b, c->err, n->min_max_expr->location,
				"GREATEST/LEAST");
	case PG_QUERY__NODE__NODE_SUB_LINK:
		return WQ_UNSUP(c->b, c->err, n->sub_link->location,
				"subqueries in expressions");
	case PG_QUERY__NODE__NODE_PARAM_REF:
		return WQ_UNSUP(c->b, c->err, n->param_ref->location,
				"parameters");
	case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
		return WQ_UNSUP(c->b, c->err, n->collate_clause->location,
				"COLLATE");
	case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
		return WQ_UNSUP(c->b, c->err, n->a_array_expr->location,
				"arrays");
	case PG_QUERY__NODE__NODE_ROW_EXPR:
		return WQ_UNSUP(c->b, c->err, n->row_expr->location,
				"row constructors");
	case PG_QUERY__NODE__NODE_GROUPING_FUNC:
		return WQ_UNSUP(c->b, c->err, n->grouping_func->location,
				"GROUPING");
	default: return WQ_UNSUP(c->b, c->err, -1, "expression form");
	}
}

/* One parse node, by its kind (the caller counts the depth). */
static weft_expr_t *
wq_bx_node(wq_ectx_t *c, pgn_t *n)
{
	weft_expr_t *args[1];

	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_COLUMN_REF:
		return wq_bx_colref(c, n->column_ref);
	case PG_QUERY__NODE__NODE_A_CONST: return wq_aconst(c, n->a_const);
	case PG_QUERY__NODE__NODE_A_EXPR: return wq_aexpr(c, n->a_expr);
	case PG_QUERY__NODE__NODE_BOOL_EXPR: return wq_bx_bool(c, n->bool_expr);
	case PG_QUERY__NODE__NODE_NULL_TEST:
		args[0] = wq_bx(c, n->null_test->arg);
		return wq_node(c, WEFT_E_ISNULL, 0,
			       n->null_test->nulltesttype ==
				       PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL
				   ? WEFT_EF_NOT
				   : 0,
			       1, args, n->null_test->location);
	case PG_QUERY__NODE__NODE_BOOLEAN_TEST:
		return wq_bx_booltest(c, n->boolean_test);
	case PG_QUERY__NODE__NODE_TYPE_CAST:
		return wq_bx_typecast(c, n->type_cast);
	case PG_QUERY__NODE__NODE_FUNC_CALL:
		return wq_funccall(c, n->func_call);
	case PG_QUERY__NODE__NODE_CASE_EXPR: return wq_case(c, n->case_expr);
	case PG_QUERY__NODE__NODE_COALESCE_EXPR:
		return wq_bx_list(
		    c, WEFT_E_COALESCE, 0, 0, NULL, n->coalesce_expr->args,
		    n->coalesce_expr->n_args, n->coalesce_expr->location);
	case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
		return wq_bx_sqlvalue(c, n->sqlvalue_function);
	default: return wq_bx_unsupported(c, n);
	}
}

weft_expr_t *
wq_bx(wq_ectx_t *c, pgn_t *n)
{
	weft_expr_t *e = NULL;

	if (n == NULL)
		return WQ_ERR(c->b, c->err, -1, "missing expression");
	if (c->depth >= WEFT_FRAG_DEPTH_MAX)
		return WQ_ERR(c->b, c->err, -1,
			      "expression nested too deeply (more than %d "
			      "levels)",
			      WEFT_FRAG_DEPTH_MAX);
	c->depth++;
	if (c->agg != NULL && !c->in_agg && c->agg->nkeys > 0 &&
	    n->node_case != PG_QUERY__NODE__NODE_A_CONST)
		e = wq_match_key(c, n);
	if (e == NULL)
		e = wq_bx_node(c, n);
	c->depth--;
	return e;
}

/* Bind and type a whole expression. */
weft_expr_t *
wq_expr(wq_ectx_t *c, pgn_t *n)
{
	weft_expr_t *e = wq_bx(c, n);

	if (e == NULL)
		return NULL;
	if (weft_expr_resolve(&e, c->err) != 0) {
		weft_expr_free(e);
		return NULL;
	}
	return e;
}

/* A boolean condition (WHERE, HAVING, ON). */
weft_expr_t *
wq_cond(wq_ectx_t *c, pgn_t *n, const char *what)
{
	weft_expr_t *e = wq_expr(c, n);

	if (e == NULL)
		return NULL;
	if (weft_expr_coerce_bool(&e, what, c->err) != 0) {
		weft_expr_free(e);
		return NULL;
	}
	return e;
}

/* Does the tree contain an aggregate call (not inside subqueries)? */
bool
wq_has_agg(pgn_t *n, int depth)
{
	size_t i;
	int fn;

	if (n == NULL || depth > WEFT_FRAG_DEPTH_MAX)
		return false;
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_FUNC_CALL: {
		PgQuery__FuncCall *f = n->func_call;
		const char *nm = wq_lastname(f->funcname, f->n_funcname);

		if (nm && f->over == NULL && wq_aggfn_lookup(nm, &fn))
			return true;
		for (i = 0; i < f->n_args; i++)
			if (wq_has_agg(f->args[i], depth + 1))
				return true;
		return false;
	}
	case PG_QUERY__NODE__NODE_A_EXPR:
		return wq_has_agg(n->a_expr->lexpr, depth + 1) ||
		       wq_has_agg(n->a_expr->rexpr, depth + 1);
	case PG_QUERY__NODE__NODE_LIST:
		for (i = 0; i < n->list->n_items; i++)
			if (wq_has_agg(n->list->items[i], depth + 1))
				return true;
		return false;
	case PG_QUERY__NODE__NODE_BOOL_EXPR:
		for (i = 0; i < n->bool_expr->n_args; i++)
			if (wq_has_agg(n->bool_expr->args[i], depth + 1))
				return true;
		return false;
	case PG_QUERY__NODE__NODE_NULL_TEST:
		return wq_has_agg(n->null_test->arg, depth + 1);
	case PG_QUERY__NODE__NODE_BOOLEAN_TEST:
		return wq_has_agg(n->boolean_test->arg, depth + 1);
	case PG_QUERY__NODE__NODE_TYPE_CAST:
		return wq_has_agg(n->type_cast->arg, depth + 1);
	case PG_QUERY__NODE__NODE_CASE_EXPR:
		if (wq_has_agg(n->case_expr->arg, depth + 1) ||
		    wq_has_agg(n->case_expr->defresult, depth + 1))
			return true;
		for (i = 0; i < n->case_expr->n_args; i++)
			if (wq_has_agg(n->case_expr->args[i], depth + 1))
				return true;
		return false;
	case PG_QUERY__NODE__NODE_CASE_WHEN:
		return wq_has_agg(n->case_when->expr, depth + 1) ||
		       wq_has_agg(n->case_when->result, depth + 1);
	case PG_QUERY__NODE__NODE_COALESCE_EXPR:
		for (i = 0; i < n->coalesce_expr->n_args; i++)
			if (wq_has_agg(n->coalesce_expr->args[i], depth + 1))
				return true;
		return false;
	case PG_QUERY__NODE__NODE_RES_TARGET:
		return wq_has_agg(n->res_target->val, depth + 1);
	case PG_QUERY__NODE__NODE_SORT_BY:
		return wq_has_agg(n->sort_by->node, depth + 1);
	default: return false;
	}
}
