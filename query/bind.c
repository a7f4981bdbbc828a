/*
 * bind.c: libpg_query parse tree -> logical plan.
 *
 * Resolves names (products as domain.product, org.domain.product or a bare
 * product name when only one product has it; columns qualified or not),
 * builds expression trees and types them with weft_expr_resolve, collects
 * aggregates, and assembles the plan of a SELECT: FROM (scans, joins,
 * subqueries, CTEs) -> WHERE -> aggregation -> HAVING -> projection ->
 * DISTINCT -> ORDER BY -> LIMIT/OFFSET, and UNION [ALL].
 *
 * Anything the engine does not support is refused with "unsupported at
 * character N: <construct>" rather than answered wrongly. Recursion is
 * bounded (WEFT_FRAG_DEPTH_MAX for expressions, WQ_NEST_MAX for subqueries)
 * so hostile input cannot exhaust the stack.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "query/qint.h"

typedef PgQuery__Node pgn_t;

typedef struct wq_scol {
	char *rel;    /* relation name or alias; NULL for none */
	char *schema; /* product domain, when rel is a product */
	char *org;    /* product org */
	char *name;
	weft_sqltype_t type;
	uint32_t idx;
	bool nostar, nounqual;
} wq_scol_t;

typedef struct wq_scope {
	wq_scol_t *c;
	uint32_t n;
} wq_scope_t;

typedef struct wq_cte {
	const char *name;
	PgQuery__CommonTableExpr *cte;
} wq_cte_t;

struct wq_bindctx {
	weft_snapshot_t *snap;
	const char *sql;
	char **products;
	size_t nproducts;
	bool listed;
	wq_cte_t *ctes;
	size_t nctes, ctecap;
	int depth;
};

typedef struct wq_aggctx {
	uint32_t nkeys;
	weft_expr_t **keys_raw; /* unresolved, for matching */
	weft_sqltype_t *keytypes;
	uint32_t naggs, cap;
	wq_agg_t *aggs;
	weft_expr_t **aggs_raw;
} wq_aggctx_t;

typedef struct wq_ectx {
	wq_bindctx_t *b;
	wq_scope_t *scope;
	const char *what; /* aggregates not allowed in `what` (if set) */
	wq_aggctx_t *agg; /* post-aggregation mode */
	bool in_agg;
	weft_err_t *err;
	int depth;
} wq_ectx_t;

static int wq_bind_select(wq_bindctx_t *b, PgQuery__SelectStmt *s,
			  bool keep_unknown, wq_plan_t **out, weft_err_t *err);

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

static void *
wq_null_err(wq_bindctx_t *b, weft_err_t *err, int loc, int code,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void *
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

#define WQ_ERR(b, err, loc, ...) wq_null_err(b, err, loc, WEFT_EINVAL, __VA_ARGS__)
#define WQ_UNSUP(b, err, loc, what)                                          \
	wq_null_err(b, err, loc, WEFT_EINVAL, "unsupported at character %d: %s", \
		    wq_charpos((b)->sql, (loc) < 0 ? 0 : (loc)), what)
#define WQ_OOM(b, err) wq_null_err(b, err, -1, WEFT_ENOMEM, "out of memory")

static int
wq_rc(const weft_err_t *err)
{
	return err->code ? err->code : WEFT_EINVAL;
}

/* Levenshtein distance, capped at 3. */
static int
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

static weft_expr_t *
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
		return WQ_ERR(c->b, c->err, e->location - 1, "expression too "
			      "large (more than %d nodes)", WEFT_FRAG_NODES_MAX);
	r = weft_expr_copy(e);
	if (r == NULL)
		WQ_OOM(c->b, c->err);
	return r;
}

/* The last name of a qualified name list (String nodes). */
static const char *
wq_lastname(pgn_t **names, size_t n)
{
	if (n == 0 || names[n - 1]->node_case != PG_QUERY__NODE__NODE_STRING)
		return NULL;
	return names[n - 1]->string->sval;
}

/* A type name -> engine type; WEFT_S_NULL if not supported. */
static weft_sqltype_t
wq_typename(const PgQuery__TypeName *t, const char **name)
{
	static const struct {
		const char *n;
		weft_sqltype_t t;
	} map[] = {
	    {"int2", WEFT_S_INT32}, {"int4", WEFT_S_INT32},
	    {"integer", WEFT_S_INT32}, {"int", WEFT_S_INT32},
	    {"smallint", WEFT_S_INT32}, {"int8", WEFT_S_INT64},
	    {"bigint", WEFT_S_INT64}, {"float8", WEFT_S_FLOAT64},
	    {"float4", WEFT_S_FLOAT64}, {"real", WEFT_S_FLOAT64},
	    {"float", WEFT_S_FLOAT64}, {"numeric", WEFT_S_NUMERIC},
	    {"decimal", WEFT_S_NUMERIC}, {"text", WEFT_S_TEXT},
	    {"varchar", WEFT_S_TEXT}, {"bool", WEFT_S_BOOL},
	    {"boolean", WEFT_S_BOOL}, {"timestamp", WEFT_S_TIMESTAMP},
	    {"timestamptz", WEFT_S_TIMESTAMP}, {"interval", WEFT_S_INTERVAL},
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
	static const char *const names[] = {"count", "count", "sum",
					    "avg", "min", "max"};
	static const char *const other[] = {
	    "array_agg", "string_agg", "bool_and", "bool_or", "every",
	    "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop",
	    "var_samp", "json_agg", "jsonb_agg", "bit_and", "bit_or",
	    "percentile_cont", "percentile_disc", "mode", "corr", "covar_pop",
	    "covar_samp", "regr_slope", "xmlagg", "json_object_agg",
	    "row_number", "rank", "dense_rank", "lag", "lead", "ntile",
	    "first_value", "last_value", "nth_value", "percent_rank",
	    "cume_dist", "grouping"};
	size_t i;

	for (i = 1; i < 6; i++)
		if (strcmp(name, names[i]) == 0) {
			*fn = (int)i;
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
static int
wq_coerce(wq_ectx_t *c, weft_expr_t **e, weft_sqltype_t t)
{
	if ((*e)->type == t)
		return 0;
	return weft_expr_coerce(e, t, c->err);
}

static weft_expr_t *wq_bx(wq_ectx_t *c, pgn_t *n);

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
		return WQ_ERR(c->b, c->err, loc, "improper qualified name (too "
			      "many dotted names)");
	for (i = 0; i < cr->n_fields; i++) {
		if (cr->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR)
			return WQ_UNSUP(c->b, c->err, loc, "* in an expression");
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
			if (schema && (!sc->schema || strcmp(sc->schema, schema)))
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
		weft_expr_t *e = weft_expr_col(s->c[fi].idx, s->c[fi].type,
					       loc + 1);

		if (e == NULL)
			WQ_OOM(c->b, c->err);
		return e;
	}
	if (rel != NULL && !relseen)
		return WQ_ERR(c->b, c->err, loc,
			      "missing FROM-clause entry for table \"%s\"", rel);
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
				      "mean \"%s%s%s\"?)", full,
				      bs->rel && rel ? bs->rel : "",
				      bs->rel && rel ? "." : "", bs->name);
		return WQ_ERR(c->b, c->err, loc,
			      "column \"%s\" does not exist", full);
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
	default:
		return WQ_UNSUP(c->b, c->err, loc, "bit string constants");
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

static weft_expr_t *
wq_aexpr(wq_ectx_t *c, PgQuery__AExpr *a)
{
	const char *op = wq_lastname(a->name, a->n_name);
	int loc = a->location;
	weft_expr_t *args[3];
	static const struct {
		const char *s;
		int op;
	} ops[] = {
	    {"+", WEFT_OP_ADD}, {"-", WEFT_OP_SUB}, {"*", WEFT_OP_MUL},
	    {"/", WEFT_OP_DIV}, {"%", WEFT_OP_MOD}, {"=", WEFT_OP_EQ},
	    {"<>", WEFT_OP_NE}, {"!=", WEFT_OP_NE}, {"<", WEFT_OP_LT},
	    {"<=", WEFT_OP_LE}, {">", WEFT_OP_GT}, {">=", WEFT_OP_GE},
	    {"||", WEFT_OP_CONCAT},
	};
	size_t i;

	if (op == NULL)
		return WQ_UNSUP(c->b, c->err, loc, "operator");
	switch (a->kind) {
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
		if (a->lexpr == NULL) { /* prefix operator */
			if (strcmp(op, "-") == 0) {
				args[0] = wq_bx(c, a->rexpr);
				return wq_node(c, WEFT_E_OP, WEFT_OP_NEG, 0, 1,
					       args, loc);
			}
			if (strcmp(op, "+") == 0)
				return wq_bx(c, a->rexpr);
			return WQ_UNSUP(c->b, c->err, loc, "prefix operator");
		}
		if (a->rexpr == NULL)
			return WQ_UNSUP(c->b, c->err, loc, "postfix operator");
		if (strcmp(op, "^") == 0) {
			args[0] = wq_bx(c, a->lexpr);
			args[1] = args[0] ? wq_bx(c, a->rexpr) : NULL;
			return wq_node(c, WEFT_E_FUNC, WEFT_F_POWER, 0, 2, args,
				       loc);
		}
		for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (strcmp(op, ops[i].s) == 0)
				break;
		if (i == sizeof(ops) / sizeof(ops[0])) {
			if (strcmp(op, "~~") == 0 || strcmp(op, "!~~") == 0 ||
			    strcmp(op, "~~*") == 0 || strcmp(op, "!~~*") == 0) {
				int fl = (op[0] == '!' ? WEFT_EF_NOT : 0) |
					 (op[strlen(op) - 1] == '*'
					      ? WEFT_EF_ILIKE : 0);

				args[0] = wq_bx(c, a->lexpr);
				args[1] = args[0] ? wq_bx(c, a->rexpr) : NULL;
				return wq_node(c, WEFT_E_LIKE, 0, fl, 2, args,
					       loc);
			}
			return wq_null_err(c->b, c->err, loc, WEFT_EINVAL,
			    "unsupported at character %d: operator %s",
			    wq_charpos(c->b->sql, loc), op);
		}
		args[0] = wq_bx(c, a->lexpr);
		args[1] = args[0] ? wq_bx(c, a->rexpr) : NULL;
		return wq_node(c, WEFT_E_OP, ops[i].op, 0, 2, args, loc);
	case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
		args[0] = wq_bx(c, a->lexpr);
		args[1] = args[0] ? wq_bx(c, a->rexpr) : NULL;
		return wq_node(c, WEFT_E_NULLIF, 0, 0, 2, args, loc);
	case PG_QUERY__A__EXPR__KIND__AEXPR_IN: {
		weft_expr_t *x;

		if (a->rexpr == NULL ||
		    a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST)
			return WQ_UNSUP(c->b, c->err, loc, "IN (subquery)");
		x = wq_bx(c, a->lexpr);
		if (x == NULL)
			return NULL;
		return wq_bx_list(c, WEFT_E_IN, 0,
				  strcmp(op, "<>") == 0 ? WEFT_EF_NOT : 0, x,
				  a->rexpr->list->items,
				  a->rexpr->list->n_items, loc);
	}
	case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
	case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE: {
		int fl = (a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE
			      ? WEFT_EF_ILIKE : 0) |
			 (op[0] == '!' ? WEFT_EF_NOT : 0);

		if (a->rexpr &&
		    a->rexpr->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
			PgQuery__FuncCall *f = a->rexpr->func_call;
			const char *fn = wq_lastname(f->funcname,
						     f->n_funcname);
			weft_expr_t *x;

			if (fn == NULL || strcmp(fn, "like_escape") != 0 ||
			    f->n_args != 2)
				return WQ_UNSUP(c->b, c->err, loc,
						"LIKE pattern form");
			x = wq_bx(c, a->lexpr);
			if (x == NULL)
				return NULL;
			return wq_bx_list(c, WEFT_E_LIKE, 0, fl, x, f->args, 2,
					  loc);
		}
		args[0] = wq_bx(c, a->lexpr);
		args[1] = args[0] ? wq_bx(c, a->rexpr) : NULL;
		return wq_node(c, WEFT_E_LIKE, 0, fl, 2, args, loc);
	}
	case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
	case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN: {
		bool neg = a->kind ==
			   PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN;
		weft_expr_t *x, *x2, *lo, *hi, *l2[2];
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
		args[0] = wq_node(c, WEFT_E_OP, neg ? WEFT_OP_LT : WEFT_OP_GE,
				  0, 2, l2, loc);
		l2[0] = x2;
		l2[1] = hi;
		if (args[0] == NULL) {
			weft_expr_free(x2);
			weft_expr_free(hi);
			return NULL;
		}
		args[1] = wq_node(c, WEFT_E_OP, neg ? WEFT_OP_GT : WEFT_OP_LE,
				  0, 2, l2, loc);
		return wq_node(c, neg ? WEFT_E_OR : WEFT_E_AND, 0, 0, 2, args,
			       loc);
	}
	case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
	case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT: {
		/* a IS NOT DISTINCT FROM b ==
		 * CASE WHEN a IS NULL THEN b IS NULL WHEN b IS NULL THEN false
		 * ELSE a = b END; IS DISTINCT FROM is its negation. */
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
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
	case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL:
		return WQ_UNSUP(c->b, c->err, loc, "ANY/ALL (array)");
	case PG_QUERY__A__EXPR__KIND__AEXPR_SIMILAR:
		return WQ_UNSUP(c->b, c->err, loc, "SIMILAR TO");
	default:
		return WQ_UNSUP(c->b, c->err, loc, "BETWEEN SYMMETRIC");
	}
}

static weft_expr_t *
wq_aggcall(wq_ectx_t *c, PgQuery__FuncCall *f, int fn, const char *name)
{
	int loc = f->location;
	wq_ectx_t pre = *c;
	weft_expr_t *arg = NULL, *raw = NULL, *col;
	wq_aggctx_t *ac = c->agg;
	weft_sqltype_t rt;
	uint32_t i;
	int rc;

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
				      "parameterless aggregate function", name);
		fn = WQ_AGG_COUNT_STAR;
	} else {
		if (f->n_args != 1)
			return WQ_ERR(c->b, c->err, loc,
				      "function %s with %zu arguments does not "
				      "exist", name, f->n_args);
		pre.agg = NULL;
		pre.in_agg = true;
		raw = wq_bx(&pre, f->args[0]);
		if (raw == NULL)
			return NULL;
		arg = wq_copy(c, raw);
		if (arg == NULL) {
			weft_expr_free(raw);
			return NULL;
		}
		rc = weft_expr_resolve(&arg, c->err);
		if (rc == 0 && (arg->type == WEFT_S_UNKNOWN ||
				(arg->type == WEFT_S_NULL &&
				 (fn == WQ_AGG_MIN || fn == WQ_AGG_MAX ||
				  fn == WQ_AGG_COUNT))))
			rc = wq_coerce(c, &arg, WEFT_S_TEXT);
		if (rc != 0) {
			weft_expr_free(raw);
			weft_expr_free(arg);
			return NULL;
		}
	}
	rt = wq_agg_result_type(fn, arg ? arg->type : WEFT_S_NULL);
	if (rt == WEFT_S_NULL) {
		WQ_ERR(c->b, c->err, loc, "function %s(%s) does not exist", name,
		       weft_sqltype_name(arg ? arg->type : WEFT_S_NULL));
		goto fail;
	}
	for (i = 0; i < ac->naggs; i++) {
		wq_agg_t *g = &ac->aggs[i];

		if (g->fn == fn && g->distinct == (bool)f->agg_distinct &&
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
		ac->aggs[i].distinct = f->agg_distinct && fn != WQ_AGG_MIN &&
				       fn != WQ_AGG_MAX;
		ac->aggs[i].arg = arg;
		ac->aggs[i].argtype = arg ? arg->type : WEFT_S_NULL;
		ac->aggs[i].type = rt;
		ac->aggs[i].scale = wq_agg_scale(fn, rt, arg);
		ac->aggs_raw[i] = raw;
		ac->naggs++;
	} else {
		weft_expr_free(arg);
		weft_expr_free(raw);
	}
	col = weft_expr_col(ac->nkeys + i, rt, loc + 1);
	if (col == NULL)
		WQ_OOM(c->b, c->err);
	return col;
oom:
	WQ_OOM(c->b, c->err);
fail:
	weft_expr_free(arg);
	weft_expr_free(raw);
	return NULL;
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
	    {"substring", "substr"}, {"char_length", "length"},
	    {"character_length", "length"}, {"ceiling", "ceil"},
	    {"pow", "power"}, {"trim", "btrim"}, {"extract", "date_part"},
	};
	char lname[64];
	size_t i;
	weft_expr_t *e;

	if (name == NULL)
		return WQ_UNSUP(c->b, c->err, loc, "function name");
	if (f->over != NULL)
		return WQ_UNSUP(c->b, c->err, loc, "window functions");
	other = wq_aggfn_lookup(name, &fn);
	if (other != NULL && fn < 0)
		return wq_null_err(c->b, c->err, loc, WEFT_EINVAL,
		    "unsupported at character %d: aggregate function %s",
		    wq_charpos(c->b->sql, loc), other);
	if (other != NULL)
		return wq_aggcall(c, f, fn, name);
	if (f->agg_star || f->agg_distinct || f->n_agg_order ||
	    f->agg_filter)
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
			col = weft_expr_col(k, c->agg->keytypes[k], raw->location);
			break;
		}
	weft_expr_free(raw);
	return col;
}

static weft_expr_t *
wq_bx(wq_ectx_t *c, pgn_t *n)
{
	weft_expr_t *e = NULL, *args[2];
	int loc = -1;

	if (n == NULL)
		return WQ_ERR(c->b, c->err, -1, "missing expression");
	if (c->depth >= WEFT_FRAG_DEPTH_MAX)
		return WQ_ERR(c->b, c->err, -1,
			      "expression nested too deeply (more than %d "
			      "levels)", WEFT_FRAG_DEPTH_MAX);
	c->depth++;
	if (c->agg != NULL && !c->in_agg && c->agg->nkeys > 0 &&
	    n->node_case != PG_QUERY__NODE__NODE_A_CONST) {
		e = wq_match_key(c, n);
		if (e != NULL)
			goto out;
	}
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_COLUMN_REF:
		if (c->agg != NULL && !c->in_agg) {
			PgQuery__ColumnRef *cr = n->column_ref;
			const char *nm = wq_lastname(cr->fields, cr->n_fields);
			weft_err_t scratch = {0};
			wq_ectx_t pre = *c;

			pre.agg = NULL;
			pre.err = &scratch;
			e = wq_colref(&pre, cr);
			if (e == NULL) { /* report the real lookup error */
				*c->err = scratch;
				break;
			}
			weft_expr_free(e);
			e = WQ_ERR(c->b, c->err, cr->location,
				   "column \"%s\" must appear in the GROUP BY "
				   "clause or be used in an aggregate function",
				   nm ? nm : "?");
			break;
		}
		e = wq_colref(c, n->column_ref);
		break;
	case PG_QUERY__NODE__NODE_A_CONST:
		e = wq_aconst(c, n->a_const);
		break;
	case PG_QUERY__NODE__NODE_A_EXPR:
		e = wq_aexpr(c, n->a_expr);
		break;
	case PG_QUERY__NODE__NODE_BOOL_EXPR: {
		PgQuery__BoolExpr *be = n->bool_expr;

		loc = be->location;
		if (be->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR) {
			if (be->n_args != 1) {
				e = WQ_UNSUP(c->b, c->err, loc, "NOT form");
				break;
			}
			args[0] = wq_bx(c, be->args[0]);
			e = wq_node(c, WEFT_E_NOT, 0, 0, 1, args, loc);
			break;
		}
		e = wq_bx_list(c, be->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR
				      ? WEFT_E_AND : WEFT_E_OR,
			       0, 0, NULL, be->args, be->n_args, loc);
		break;
	}
	case PG_QUERY__NODE__NODE_NULL_TEST: {
		PgQuery__NullTest *nt = n->null_test;

		args[0] = wq_bx(c, nt->arg);
		e = wq_node(c, WEFT_E_ISNULL, 0,
			    nt->nulltesttype ==
				    PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL
				? WEFT_EF_NOT : 0,
			    1, args, nt->location);
		break;
	}
	case PG_QUERY__NODE__NODE_BOOLEAN_TEST: {
		PgQuery__BooleanTest *bt = n->boolean_test;
		int t = bt->booltesttype;
		weft_expr_t *x;

		loc = bt->location;
		x = wq_bx(c, bt->arg);
		if (x == NULL)
			break;
		if (t == PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN ||
		    t == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN) {
			args[0] = x;
			e = wq_node(c, WEFT_E_ISNULL, 0,
				    t == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN
					? WEFT_EF_NOT : 0,
				    1, args, loc);
			break;
		}
		/* IS TRUE: coalesce(x, false); IS FALSE: coalesce(not x,
		 * false); IS NOT ...: their negation */
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
		break;
	}
	case PG_QUERY__NODE__NODE_TYPE_CAST: {
		PgQuery__TypeCast *tc = n->type_cast;
		const char *tn;
		weft_sqltype_t t = wq_typename(tc->type_name, &tn);

		loc = tc->location;
		if (t == WEFT_S_NULL) {
			e = wq_null_err(c->b, c->err, loc, WEFT_EINVAL,
			    "unsupported at character %d: type %s",
			    wq_charpos(c->b->sql, loc), tn);
			break;
		}
		args[0] = wq_bx(c, tc->arg);
		if (args[0] == NULL)
			break;
		e = weft_expr_cast(args[0], t, loc + 1);
		if (e == NULL)
			WQ_OOM(c->b, c->err);
		break;
	}
	case PG_QUERY__NODE__NODE_FUNC_CALL:
		e = wq_funccall(c, n->func_call);
		break;
	case PG_QUERY__NODE__NODE_CASE_EXPR:
		e = wq_case(c, n->case_expr);
		break;
	case PG_QUERY__NODE__NODE_COALESCE_EXPR:
		e = wq_bx_list(c, WEFT_E_COALESCE, 0, 0, NULL,
			       n->coalesce_expr->args,
			       n->coalesce_expr->n_args,
			       n->coalesce_expr->location);
		break;
	case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION: {
		PgQuery__SQLValueFunction *sv = n->sqlvalue_function;

		if (sv->op ==
			PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP ||
		    sv->op == PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP)
			e = wq_node(c, WEFT_E_FUNC, WEFT_F_NOW, 0, 0, args,
				    sv->location);
		else
			e = WQ_UNSUP(c->b, c->err, sv->location,
				     "SQL value function");
		break;
	}
	case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
		e = WQ_UNSUP(c->b, c->err, n->min_max_expr->location,
			     "GREATEST/LEAST");
		break;
	case PG_QUERY__NODE__NODE_SUB_LINK:
		e = WQ_UNSUP(c->b, c->err, n->sub_link->location,
			     "subqueries in expressions");
		break;
	case PG_QUERY__NODE__NODE_PARAM_REF:
		e = WQ_UNSUP(c->b, c->err, n->param_ref->location,
			     "parameters");
		break;
	case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
		e = WQ_UNSUP(c->b, c->err, n->collate_clause->location,
			     "COLLATE");
		break;
	case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
		e = WQ_UNSUP(c->b, c->err, n->a_array_expr->location,
			     "arrays");
		break;
	case PG_QUERY__NODE__NODE_ROW_EXPR:
		e = WQ_UNSUP(c->b, c->err, n->row_expr->location,
			     "row constructors");
		break;
	case PG_QUERY__NODE__NODE_GROUPING_FUNC:
		e = WQ_UNSUP(c->b, c->err, n->grouping_func->location,
			     "GROUPING");
		break;
	default:
		e = WQ_UNSUP(c->b, c->err, -1, "expression form");
		break;
	}
out:
	c->depth--;
	return e;
}

/* Bind and type a whole expression. */
static weft_expr_t *
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
static weft_expr_t *
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
static bool
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
	default:
		return false;
	}
}

/* ---- FROM ---- */

static void
wq_scope_free(wq_scope_t *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		free(s->c[i].rel);
		free(s->c[i].schema);
		free(s->c[i].org);
		free(s->c[i].name);
	}
	free(s->c);
	s->c = NULL;
	s->n = 0;
}

static int
wq_scope_add(wq_scope_t *s, const char *rel, const char *schema,
	     const char *org, const char *name, weft_sqltype_t t, uint32_t idx)
{
	wq_scol_t *nc = realloc(s->c, (s->n + 1) * sizeof(*nc));
	wq_scol_t *c;

	if (nc == NULL)
		return WEFT_ENOMEM;
	s->c = nc;
	c = &s->c[s->n];
	memset(c, 0, sizeof(*c));
	c->rel = rel ? strdup(rel) : NULL;
	c->schema = schema ? strdup(schema) : NULL;
	c->org = org ? strdup(org) : NULL;
	c->name = strdup(name);
	c->type = t;
	c->idx = idx;
	s->n++;
	if ((rel && !c->rel) || (schema && !c->schema) || (org && !c->org) ||
	    !c->name)
		return WEFT_ENOMEM;
	return 0;
}

static int
wq_list_products(wq_bindctx_t *b, weft_err_t *err)
{
	if (b->listed)
		return 0;
	b->listed = true;
	return weft_snapshot_names(b->snap, &b->products, &b->nproducts, err);
}

/* Resolve a relation name to a product name (malloc'd) or NULL. */
static char *
wq_find_product(wq_bindctx_t *b, PgQuery__RangeVar *rv, weft_err_t *err)
{
	const char *rel = rv->relname, *sch = rv->schemaname;
	const char *cat = rv->catalogname;
	char full[WEFT_PRODUCT_NAME_MAX * 2 + 4];
	const char *best = NULL;
	size_t i, nmatch = 0;
	int bestd = 3, loc = rv->location;

	if (wq_list_products(b, err) != 0)
		return NULL;
	if (sch && *sch) {
		snprintf(full, sizeof(full), "%s.%s", sch, rel);
		for (i = 0; i < b->nproducts; i++)
			if (strcmp(b->products[i], full) == 0) {
				if (cat && *cat) {
					weft_product_info_t pi = {0};
					uint64_t sid;
					uint32_t nc;
					bool ok;

					if (weft_snapshot_product(b->snap, full,
					    &pi, &sid, &nc, err) != 0)
						return NULL;
					ok = pi.org && strcmp(pi.org, cat) == 0;
					weft_product_info_clear(&pi);
					if (!ok)
						break;
				}
				return strdup(full);
			}
		if (cat && *cat)
			snprintf(full, sizeof(full), "%s.%s.%s", cat, sch, rel);
	} else {
		snprintf(full, sizeof(full), "%s", rel);
		for (i = 0; i < b->nproducts; i++) {
			const char *dot = strchr(b->products[i], '.');

			if (dot && strcmp(dot + 1, rel) == 0) {
				nmatch++;
				best = b->products[i];
			}
		}
		if (nmatch == 1)
			return strdup(best);
		if (nmatch > 1)
			return WQ_ERR(b, err, loc,
				      "relation \"%s\" is ambiguous: give it "
				      "as domain.%s", rel, rel);
		best = NULL;
	}
	for (i = 0; i < b->nproducts; i++) {
		const char *p = b->products[i], *dot = strchr(p, '.');
		char tail[WEFT_PRODUCT_NAME_MAX + 1];
		int d;

		snprintf(tail, sizeof(tail), "%s", dot ? dot + 1 : p);
		d = wq_edit(sch && *sch ? full + (cat && *cat ? strlen(cat) + 1
							      : 0)
					: rel,
			    sch && *sch ? p : tail);
		if (d < bestd) {
			bestd = d;
			best = p;
		}
	}
	if (best)
		return WQ_ERR(b, err, loc, "relation \"%s\" does not exist "
			      "(did you mean \"%s\"?)", full, best);
	return WQ_ERR(b, err, loc, "relation \"%s\" does not exist", full);
}

static int wq_bind_from(wq_bindctx_t *b, pgn_t *n, wq_plan_t **plan,
			wq_scope_t *scope, weft_err_t *err);

/* Rename scope columns of a relation: alias and optional column names. */
static int
wq_apply_alias(wq_bindctx_t *b, wq_scope_t *s, const char *rel,
	       PgQuery__Alias *al, weft_err_t *err)
{
	uint32_t i;

	if (al && al->n_colnames > s->n) {
		WQ_ERR(b, err, -1, "table \"%s\" has %u columns available but "
		       "%zu columns specified", al->aliasname, s->n,
		       al->n_colnames);
		return WEFT_EINVAL;
	}
	for (i = 0; i < s->n; i++) {
		free(s->c[i].rel);
		s->c[i].rel = rel ? strdup(rel) : NULL;
		if (rel && s->c[i].rel == NULL)
			return WEFT_ENOMEM;
		if (al && i < al->n_colnames &&
		    al->colnames[i]->node_case == PG_QUERY__NODE__NODE_STRING) {
			free(s->c[i].name);
			s->c[i].name = strdup(al->colnames[i]->string->sval);
			if (s->c[i].name == NULL)
				return WEFT_ENOMEM;
		}
	}
	return 0;
}

static int
wq_bind_subplan(wq_bindctx_t *b, wq_plan_t *sub, const char *rel,
		PgQuery__Alias *al, wq_plan_t **plan, wq_scope_t *scope,
		weft_err_t *err)
{
	uint32_t i;
	int rc;

	for (i = 0; i < sub->ncols; i++) {
		rc = wq_scope_add(scope, NULL, NULL, NULL, sub->names[i],
				  sub->types[i], i);
		if (rc != 0)
			goto fail;
	}
	rc = wq_apply_alias(b, scope, rel, al, err);
	if (rc != 0)
		goto fail;
	*plan = sub;
	return 0;
fail:
	if (rc == WEFT_ENOMEM)
		WQ_OOM(b, err);
	wq_plan_free(sub);
	wq_scope_free(scope);
	return rc;
}

static int
wq_bind_rangevar(wq_bindctx_t *b, PgQuery__RangeVar *rv, wq_plan_t **plan,
		 wq_scope_t *scope, weft_err_t *err)
{
	weft_product_info_t pi = {0};
	const char *rel = rv->alias ? rv->alias->aliasname : rv->relname;
	char *name = NULL, *dot;
	wq_plan_t *p = NULL;
	uint64_t sid;
	uint32_t nchunks, i;
	size_t k;
	int rc;

	if (!(rv->schemaname && *rv->schemaname)) {
		for (k = b->nctes; k > 0; k--) {
			wq_cte_t *ct = &b->ctes[k - 1];
			PgQuery__CommonTableExpr *cte = ct->cte;
			size_t save = b->nctes;
			wq_plan_t *sub = NULL;

			if (strcmp(ct->name, rv->relname) != 0)
				continue;
			if (cte->ctequery == NULL ||
			    cte->ctequery->node_case !=
				PG_QUERY__NODE__NODE_SELECT_STMT) {
				WQ_UNSUP(b, err, cte->location,
					 "data-modifying WITH");
				return wq_rc(err);
			}
			if (b->depth >= WQ_NEST_MAX) {
				WQ_ERR(b, err, rv->location,
				       "queries nested too deeply");
				return WEFT_EINVAL;
			}
			b->nctes = k - 1; /* a CTE sees only earlier ones */
			b->depth++;
			rc = wq_bind_select(b, cte->ctequery->select_stmt,
					    false, &sub, err);
			b->depth--;
			b->nctes = save;
			if (rc != 0)
				return rc;
			if (cte->n_aliascolnames > 0) {
				PgQuery__Alias al = PG_QUERY__ALIAS__INIT;

				al.aliasname = (char *)ct->name;
				al.n_colnames = cte->n_aliascolnames;
				al.colnames = cte->aliascolnames;
				return wq_bind_subplan(b, sub, rel, &al, plan,
						       scope, err);
			}
			return wq_bind_subplan(b, sub, rel, rv->alias, plan,
					       scope, err);
		}
	}
	name = wq_find_product(b, rv, err);
	if (name == NULL)
		return wq_rc(err);
	rc = weft_snapshot_product(b->snap, name, &pi, &sid, &nchunks, err);
	if (rc != 0)
		goto out;
	p = wq_plan_new(WQ_SCAN);
	if (p == NULL || wq_plan_shape(p, (uint32_t)pi.ncols) != 0 ||
	    (p->frag = calloc(1, sizeof(*p->frag))) == NULL)
		goto oom;
	p->storage_id = sid;
	p->nchunks = nchunks;
	p->rows = (double)pi.row_count;
	p->frag->product = strdup(name);
	p->frag->limit = -1;
	p->frag->ncols = (uint32_t)pi.ncols;
	p->frag->cols = calloc(pi.ncols + 1, sizeof(uint32_t));
	p->frag->ctypes = calloc(pi.ncols + 1, sizeof(weft_sqltype_t));
	p->frag->colnames = calloc(pi.ncols + 1, sizeof(char *));
	if (!p->frag->product || !p->frag->cols || !p->frag->ctypes ||
	    !p->frag->colnames)
		goto oom;
	dot = strchr(name, '.');
	if (dot)
		*dot = 0;
	for (i = 0; i < pi.ncols; i++) {
		p->frag->cols[i] = i;
		p->frag->ctypes[i] = (weft_sqltype_t)pi.cols[i].type;
		p->types[i] = (weft_sqltype_t)pi.cols[i].type;
		p->names[i] = strdup(pi.cols[i].name);
		p->frag->colnames[i] = strdup(pi.cols[i].name);
		if (p->names[i] == NULL || p->frag->colnames[i] == NULL)
			goto oom;
		rc = wq_scope_add(scope, rel, dot ? name : NULL, pi.org,
				  pi.cols[i].name, p->types[i], i);
		if (rc != 0)
			goto oom;
	}
	rc = wq_apply_alias(b, scope, rel, rv->alias, err);
	if (rc != 0)
		goto out;
	*plan = p;
	p = NULL;
	goto out;
oom:
	rc = WEFT_ENOMEM;
	WQ_OOM(b, err);
out:
	if (rc != 0)
		wq_scope_free(scope);
	wq_plan_free(p);
	weft_product_info_clear(&pi);
	free(name);
	return rc;
}

static int
wq_bind_join(wq_bindctx_t *b, PgQuery__JoinExpr *j, wq_plan_t **plan,
	     wq_scope_t *scope, weft_err_t *err)
{
	wq_plan_t *l = NULL, *r = NULL, *p = NULL;
	wq_scope_t ls = {0}, rs = {0};
	uint32_t i, k, nl;
	int rc, jt;
	bool right = false;

	if (j->is_natural) {
		WQ_UNSUP(b, err, -1, "NATURAL JOIN");
		return WEFT_EINVAL;
	}
	switch (j->jointype) {
	case PG_QUERY__JOIN_TYPE__JOIN_INNER:
		jt = (j->quals || j->n_using_clause) ? WQ_JOIN_INNER
						     : WQ_JOIN_CROSS;
		break;
	case PG_QUERY__JOIN_TYPE__JOIN_LEFT:
		jt = WQ_JOIN_LEFT;
		break;
	case PG_QUERY__JOIN_TYPE__JOIN_RIGHT:
		jt = WQ_JOIN_LEFT;
		right = true;
		break;
	default:
		WQ_UNSUP(b, err, -1, "FULL JOIN");
		return WEFT_EINVAL;
	}
	rc = wq_bind_from(b, j->larg, &l, &ls, err);
	if (rc != 0)
		return rc;
	rc = wq_bind_from(b, j->rarg, &r, &rs, err);
	if (rc != 0)
		goto out;
	p = wq_plan_new(WQ_JOIN);
	if (p == NULL || wq_plan_shape(p, l->ncols + r->ncols) != 0)
		goto oom;
	nl = l->ncols;
	for (i = 0; i < l->ncols + r->ncols; i++) {
		p->types[i] = i < nl ? l->types[i] : r->types[i - nl];
		p->names[i] = strdup(i < nl ? l->names[i] : r->names[i - nl]);
		if (p->names[i] == NULL)
			goto oom;
	}
	p->jtype = jt;
	p->rows = l->rows > r->rows ? l->rows : r->rows;
	/* combined scope: USING columns first, then left, then right */
	if (j->n_using_clause > 0) {
		for (k = 0; k < j->n_using_clause; k++) {
			const char *un;
			int li = -1, ri = -1;

			if (j->using_clause[k]->node_case !=
			    PG_QUERY__NODE__NODE_STRING)
				continue;
			un = j->using_clause[k]->string->sval;
			for (i = 0; i < ls.n; i++)
				if (!ls.c[i].nounqual &&
				    strcmp(ls.c[i].name, un) == 0) {
					if (li >= 0) {
						WQ_ERR(b, err, -1, "common column "
						       "name \"%s\" appears more "
						       "than once in left table",
						       un);
						rc = WEFT_EINVAL;
						goto out;
					}
					li = (int)i;
				}
			for (i = 0; i < rs.n; i++)
				if (!rs.c[i].nounqual &&
				    strcmp(rs.c[i].name, un) == 0) {
					if (ri >= 0) {
						WQ_ERR(b, err, -1, "common column "
						       "name \"%s\" appears more "
						       "than once in right table",
						       un);
						rc = WEFT_EINVAL;
						goto out;
					}
					ri = (int)i;
				}
			if (li < 0 || ri < 0) {
				WQ_ERR(b, err, -1, "column \"%s\" specified in "
				       "USING clause does not exist in %s table",
				       un, li < 0 ? "left" : "right");
				rc = WEFT_EINVAL;
				goto out;
			}
			{
				wq_scol_t *lc = &ls.c[li];
				wq_scol_t *rc2 = &rs.c[ri];
				weft_expr_t *a[2], *eq;
				wq_ectx_t ec = {0};

				/* merged column: the left (or, for RIGHT, the
				 * right) side's value */
				wq_scol_t *m = right ? rc2 : lc;

				rc = wq_scope_add(scope, NULL, NULL, NULL,
						  m->name, m->type,
						  right ? m->idx + nl : m->idx);
				if (rc != 0)
					goto oom;
				lc->nostar = true;
				lc->nounqual = true;
				rc2->nostar = true;
				rc2->nounqual = true;
				ec.b = b;
				ec.err = err;
				a[0] = weft_expr_col(lc->idx, lc->type, 0);
				a[1] = weft_expr_col(rc2->idx + nl, rc2->type,
						     0);
				eq = wq_node(&ec, WEFT_E_OP, WEFT_OP_EQ, 0, 2,
					     a, -1);
				if (eq == NULL ||
				    weft_expr_resolve(&eq, err) != 0) {
					weft_expr_free(eq);
					rc = wq_rc(err);
					goto out;
				}
				if (p->resid == NULL) {
					p->resid = eq;
				} else {
					a[0] = p->resid;
					a[1] = eq;
					p->resid = wq_node(&ec, WEFT_E_AND, 0,
							   0, 2, a, -1);
					if (p->resid == NULL)
						goto oom;
				}
			}
		}
	}
	for (i = 0; i < ls.n; i++) {
		rc = wq_scope_add(scope, ls.c[i].rel, ls.c[i].schema,
				  ls.c[i].org, ls.c[i].name, ls.c[i].type,
				  ls.c[i].idx);
		if (rc != 0)
			goto oom;
		scope->c[scope->n - 1].nostar = ls.c[i].nostar;
		scope->c[scope->n - 1].nounqual = ls.c[i].nounqual;
	}
	for (i = 0; i < rs.n; i++) {
		rc = wq_scope_add(scope, rs.c[i].rel, rs.c[i].schema,
				  rs.c[i].org, rs.c[i].name, rs.c[i].type,
				  rs.c[i].idx + nl);
		if (rc != 0)
			goto oom;
		scope->c[scope->n - 1].nostar = rs.c[i].nostar;
		scope->c[scope->n - 1].nounqual = rs.c[i].nounqual;
	}
	if (j->quals) {
		wq_ectx_t ec = {0};
		weft_expr_t *q;

		ec.b = b;
		ec.scope = scope;
		ec.what = "JOIN conditions";
		ec.err = err;
		q = wq_cond(&ec, j->quals, "JOIN/ON");
		if (q == NULL) {
			rc = wq_rc(err);
			goto out;
		}
		p->resid = q;
	}
	if (j->alias) {
		rc = wq_apply_alias(b, scope, j->alias->aliasname, j->alias,
				    err);
		if (rc != 0)
			goto out;
	}
	if (right) {
		/* RIGHT JOIN: a LEFT JOIN with the sides swapped, then a
		 * projection back into left-then-right column order. */
		uint32_t nr = r->ncols, *map;
		weft_expr_t **ex;

		map = calloc(nl + nr, sizeof(*map));
		ex = calloc(nl + nr, sizeof(*ex));
		if (map == NULL || ex == NULL) {
			free(map);
			free(ex);
			goto oom;
		}
		for (i = 0; i < nl + nr; i++)
			map[i] = i < nl ? i + nr : i - nl;
		if (p->resid)
			weft_expr_remap(p->resid, map);
		p->l = r;
		p->r = l;
		l = r = NULL;
		for (i = 0; i < nl + nr; i++) {
			p->types[i] = i < nr ? p->l->types[i]
					     : p->r->types[i - nr];
			free(p->names[i]);
			p->names[i] = strdup(i < nr ? p->l->names[i]
						    : p->r->names[i - nr]);
		}
		for (i = 0; i < nl + nr; i++) {
			uint32_t src = map[i];

			ex[i] = weft_expr_col(src, p->types[src], 0);
			if (ex[i] == NULL) {
				weft_expr_free_array(ex, i);
				free(map);
				goto oom;
			}
		}
		free(map);
		{
			char **nm = calloc(nl + nr, sizeof(*nm));
			wq_plan_t *pr;

			if (nm == NULL) {
				weft_expr_free_array(ex, nl + nr);
				goto oom;
			}
			for (i = 0; i < nl + nr; i++)
				nm[i] = p->names[i < nl ? i + nr : i - nl];
			pr = wq_plan_project(p, nl + nr, ex, nm);
			free(nm);
			if (pr == NULL) {
				weft_expr_free_array(ex, nl + nr);
				goto oom;
			}
			p = pr;
		}
	} else {
		p->l = l;
		p->r = r;
		l = r = NULL;
	}
	*plan = p;
	p = NULL;
	rc = 0;
	goto out;
oom:
	rc = WEFT_ENOMEM;
	WQ_OOM(b, err);
out:
	if (rc != 0)
		wq_scope_free(scope);
	wq_scope_free(&ls);
	wq_scope_free(&rs);
	wq_plan_free(l);
	wq_plan_free(r);
	wq_plan_free(p);
	return rc;
}

static int
wq_bind_from(wq_bindctx_t *b, pgn_t *n, wq_plan_t **plan, wq_scope_t *scope,
	     weft_err_t *err)
{
	int rc;

	if (b->depth >= WQ_NEST_MAX) {
		WQ_ERR(b, err, -1, "FROM clause nested too deeply");
		return WEFT_EINVAL;
	}
	b->depth++;
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_RANGE_VAR:
		rc = wq_bind_rangevar(b, n->range_var, plan, scope, err);
		break;
	case PG_QUERY__NODE__NODE_JOIN_EXPR:
		rc = wq_bind_join(b, n->join_expr, plan, scope, err);
		break;
	case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
		PgQuery__RangeSubselect *rs = n->range_subselect;
		wq_plan_t *sub = NULL;

		if (rs->lateral) {
			WQ_UNSUP(b, err, -1, "LATERAL");
			rc = WEFT_EINVAL;
			break;
		}
		if (rs->subquery == NULL ||
		    rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
			WQ_UNSUP(b, err, -1, "subquery form");
			rc = WEFT_EINVAL;
			break;
		}
		rc = wq_bind_select(b, rs->subquery->select_stmt, false, &sub,
				    err);
		if (rc != 0)
			break;
		rc = wq_bind_subplan(b, sub,
				     rs->alias ? rs->alias->aliasname : NULL,
				     rs->alias, plan, scope, err);
		break;
	}
	case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
		WQ_UNSUP(b, err, -1, "functions in FROM");
		rc = WEFT_EINVAL;
		break;
	default:
		WQ_UNSUP(b, err, -1, "FROM item");
		rc = WEFT_EINVAL;
		break;
	}
	b->depth--;
	return rc;
}

/* ---- SELECT ---- */

/* PostgreSQL's FigureColname, roughly. */
static const char *
wq_colname(pgn_t *n)
{
	const char *s;

	if (n == NULL)
		return "?column?";
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_COLUMN_REF:
		s = wq_lastname(n->column_ref->fields,
				n->column_ref->n_fields);
		return s ? s : "?column?";
	case PG_QUERY__NODE__NODE_FUNC_CALL:
		s = wq_lastname(n->func_call->funcname,
				n->func_call->n_funcname);
		return s ? s : "?column?";
	case PG_QUERY__NODE__NODE_TYPE_CAST:
		s = wq_colname(n->type_cast->arg);
		if (strcmp(s, "?column?") == 0) {
			const char *t = wq_lastname(n->type_cast->type_name->names,
				n->type_cast->type_name->n_names);

			return t ? t : s;
		}
		return s;
	case PG_QUERY__NODE__NODE_CASE_EXPR:
		s = wq_colname(n->case_expr->defresult);
		return strcmp(s, "?column?") == 0 ? "case" : s;
	case PG_QUERY__NODE__NODE_COALESCE_EXPR:
		return "coalesce";
	case PG_QUERY__NODE__NODE_A_EXPR:
		if (n->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF)
			return "nullif";
		return "?column?";
	case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
		return "current_timestamp";
	default:
		return "?column?";
	}
}

typedef struct wq_sel {
	uint32_t n, cap;
	weft_expr_t **e;
	char **names;
} wq_sel_t;

static int
wq_sel_add(wq_sel_t *s, weft_expr_t *e, const char *name)
{
	if (s->n == s->cap) {
		uint32_t nc = s->cap ? s->cap * 2 : 16;
		weft_expr_t **ne = realloc(s->e, nc * sizeof(*ne));
		char **nn;

		if (ne == NULL)
			return WEFT_ENOMEM;
		s->e = ne;
		nn = realloc(s->names, nc * sizeof(*nn));
		if (nn == NULL)
			return WEFT_ENOMEM;
		s->names = nn;
		s->cap = nc;
	}
	s->names[s->n] = strdup(name);
	if (s->names[s->n] == NULL)
		return WEFT_ENOMEM;
	s->e[s->n++] = e;
	return 0;
}

static void
wq_sel_free(wq_sel_t *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		weft_expr_free(s->e[i]);
		free(s->names[i]);
	}
	free(s->e);
	free(s->names);
	memset(s, 0, sizeof(*s));
}

static void
wq_aggctx_free(wq_aggctx_t *a)
{
	uint32_t i;

	weft_expr_free_array(a->keys_raw, a->nkeys);
	free(a->keytypes);
	for (i = 0; i < a->naggs; i++) {
		weft_expr_free(a->aggs[i].arg);
		weft_expr_free(a->aggs_raw[i]);
	}
	free(a->aggs);
	free(a->aggs_raw);
}

/* An integer constant for LIMIT/OFFSET: -1 for NULL/ALL. */
static int
wq_limit_value(wq_bindctx_t *b, pgn_t *n, const char *what, int64_t *v,
	       weft_err_t *err)
{
	wq_ectx_t c = {0};
	weft_expr_t *e;

	*v = -1;
	if (n == NULL)
		return 0;
	c.b = b;
	c.what = what;
	c.err = err;
	e = wq_expr(&c, n);
	if (e == NULL)
		return wq_rc(err);
	if (e->type == WEFT_S_INT32 || e->type == WEFT_S_UNKNOWN ||
	    e->type == WEFT_S_NULL || e->type == WEFT_S_NUMERIC) {
		if (wq_coerce(&c, &e, WEFT_S_INT64) != 0) {
			weft_expr_free(e);
			return wq_rc(err);
		}
	}
	if (e->type != WEFT_S_INT64) {
		WQ_ERR(b, err, e->location - 1, "argument of %s must be type "
		       "bigint, not type %s", what, weft_sqltype_name(e->type));
		weft_expr_free(e);
		return WEFT_EINVAL;
	}
	{
		weft_value_t val;

		if (weft_expr_eval_const(e, 0, &val, err) != 0) {
			weft_expr_free(e);
			return wq_rc(err);
		}
		weft_expr_free(e);
		if (val.null)
			return 0;
		*v = val.u.i;
	}

	if (*v < 0) {
		WQ_ERR(b, err, -1, "%s must not be negative", what);
		err->code = WEFT_EINVAL;
		return WEFT_EINVAL;
	}
	return 0;
}

/* Cast UNKNOWN / NULL-typed select items to text (PostgreSQL resolves
 * unknown output columns as text). */
static int
wq_sel_resolve_unknown(wq_ectx_t *c, wq_sel_t *sel)
{
	uint32_t i;
	int rc;

	for (i = 0; i < sel->n; i++)
		if (sel->e[i]->type == WEFT_S_UNKNOWN ||
		    sel->e[i]->type == WEFT_S_NULL) {
			rc = sel->e[i]->type == WEFT_S_UNKNOWN
				 ? weft_expr_finish(&sel->e[i], c->err)
				 : wq_coerce(c, &sel->e[i], WEFT_S_TEXT);
			if (rc != 0)
				return rc;
		}
	return 0;
}

/* The common type of two UNION columns; WEFT_S_NULL if none. */
static weft_sqltype_t
wq_union_type(weft_sqltype_t a, weft_sqltype_t b)
{
	static const int rank[] = {
	    [WEFT_S_INT32] = 1, [WEFT_S_INT64] = 2, [WEFT_S_NUMERIC] = 3,
	    [WEFT_S_FLOAT64] = 4};

	if (a == b)
		return a == WEFT_S_UNKNOWN ? WEFT_S_TEXT : a;
	if (a == WEFT_S_NULL || a == WEFT_S_UNKNOWN)
		return b == WEFT_S_UNKNOWN || b == WEFT_S_NULL ? WEFT_S_TEXT : b;
	if (b == WEFT_S_NULL || b == WEFT_S_UNKNOWN)
		return a;
	if ((a == WEFT_S_INT32 || a == WEFT_S_INT64 || a == WEFT_S_NUMERIC ||
	     a == WEFT_S_FLOAT64) &&
	    (b == WEFT_S_INT32 || b == WEFT_S_INT64 || b == WEFT_S_NUMERIC ||
	     b == WEFT_S_FLOAT64))
		return rank[a] > rank[b] ? a : b;
	return WEFT_S_NULL;
}

/* Project p's columns to types (casting where they differ). */
static int
wq_cast_plan(wq_bindctx_t *b, wq_plan_t **p, const weft_sqltype_t *types,
	     weft_err_t *err)
{
	wq_plan_t *q = *p, *np;
	weft_expr_t **ex;
	wq_ectx_t c = {0};
	uint32_t i;
	bool same = true;

	for (i = 0; i < q->ncols; i++)
		if (q->types[i] != types[i])
			same = false;
	if (same)
		return 0;
	c.b = b;
	c.err = err;
	ex = calloc(q->ncols, sizeof(*ex));
	if (ex == NULL) {
		WQ_OOM(b, err);
		return WEFT_ENOMEM;
	}
	for (i = 0; i < q->ncols; i++) {
		ex[i] = weft_expr_col(i, q->types[i], 0);
		if (ex[i] == NULL || wq_coerce(&c, &ex[i], types[i]) != 0) {
			if (ex[i] == NULL)
				WQ_OOM(b, err);
			weft_expr_free_array(ex, q->ncols);
			return wq_rc(err);
		}
	}
	np = wq_plan_project(q, q->ncols, ex, q->names);
	if (np == NULL) {
		weft_expr_free_array(ex, q->ncols);
		WQ_OOM(b, err);
		return WEFT_ENOMEM;
	}
	*p = np;
	return 0;
}

/* ORDER BY / LIMIT over a finished set (UNION): by output name or
 * ordinal only. */
static int
wq_bind_setop_order(wq_bindctx_t *b, PgQuery__SelectStmt *s, wq_plan_t **p,
		    weft_err_t *err)
{
	wq_plan_t *q = *p, *n;
	size_t i;
	uint32_t k;
	int64_t lim, off;
	int rc;

	if (s->n_sort_clause > 0) {
		n = wq_plan_same(WQ_SORT, q);
		if (n == NULL)
			goto oom;
		*p = q = n;
		q->sort = calloc(s->n_sort_clause, sizeof(*q->sort));
		if (q->sort == NULL)
			goto oom;
		for (i = 0; i < s->n_sort_clause; i++) {
			PgQuery__SortBy *sb;
			pgn_t *x;
			int col = -1;

			if (s->sort_clause[i]->node_case !=
			    PG_QUERY__NODE__NODE_SORT_BY)
				goto bad;
			sb = s->sort_clause[i]->sort_by;
			x = sb->node;
			if (x && x->node_case == PG_QUERY__NODE__NODE_A_CONST &&
			    x->a_const->val_case ==
				PG_QUERY__A__CONST__VAL_IVAL) {
				int v = x->a_const->ival->ival;

				if (v < 1 || (uint32_t)v > q->ncols) {
					WQ_ERR(b, err, x->a_const->location,
					       "ORDER BY position %d is not in "
					       "select list", v);
					return WEFT_EINVAL;
				}
				col = v - 1;
			} else if (x && x->node_case ==
					    PG_QUERY__NODE__NODE_COLUMN_REF &&
				   x->column_ref->n_fields == 1 &&
				   x->column_ref->fields[0]->node_case ==
				       PG_QUERY__NODE__NODE_STRING) {
				const char *nm =
				    x->column_ref->fields[0]->string->sval;

				for (k = 0; k < q->ncols; k++)
					if (strcmp(q->names[k], nm) == 0) {
						col = (int)k;
						break;
					}
				if (col < 0) {
					WQ_ERR(b, err, x->column_ref->location,
					       "column \"%s\" does not exist",
					       nm);
					return WEFT_EINVAL;
				}
			} else {
				goto bad;
			}
			if (sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING) {
				WQ_UNSUP(b, err, sb->location, "ORDER BY USING");
				return WEFT_EINVAL;
			}
			q->sort[i].col = (uint32_t)col;
			q->sort[i].desc = sb->sortby_dir ==
					  PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
			q->sort[i].nulls_first =
			    sb->sortby_nulls ==
				    PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
			    (q->sort[i].desc &&
			     sb->sortby_nulls !=
				 PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST);
			q->nsort++;
		}
	}
	rc = wq_limit_value(b, s->limit_count, "LIMIT", &lim, err);
	if (rc == 0)
		rc = wq_limit_value(b, s->limit_offset, "OFFSET", &off, err);
	if (rc != 0)
		return rc;
	if (lim >= 0 || off > 0) {
		n = wq_plan_same(WQ_LIMIT, q);
		if (n == NULL)
			goto oom;
		*p = q = n;
		q->limit = lim;
		q->offset = off > 0 ? off : 0;
	}
	return 0;
bad:
	WQ_ERR(b, err, -1, "invalid UNION/INTERSECT/EXCEPT ORDER BY clause");
	return WEFT_EINVAL;
oom:
	WQ_OOM(b, err);
	return WEFT_ENOMEM;
}

static int
wq_bind_union(wq_bindctx_t *b, PgQuery__SelectStmt *s, bool keep_unknown,
	      wq_plan_t **out, weft_err_t *err)
{
	wq_plan_t *l = NULL, *r = NULL, *p = NULL;
	weft_sqltype_t *t = NULL;
	uint32_t i;
	int rc;

	if (s->op != PG_QUERY__SET_OPERATION__SETOP_UNION) {
		WQ_UNSUP(b, err, -1,
			 s->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT
			     ? "INTERSECT" : "EXCEPT");
		return WEFT_EINVAL;
	}
	if (s->larg == NULL || s->rarg == NULL) {
		WQ_UNSUP(b, err, -1, "set operation form");
		return WEFT_EINVAL;
	}
	if (b->depth >= WQ_NEST_MAX) {
		WQ_ERR(b, err, -1, "UNION nested too deeply");
		return WEFT_EINVAL;
	}
	b->depth++;
	rc = wq_bind_select(b, s->larg, true, &l, err);
	if (rc == 0)
		rc = wq_bind_select(b, s->rarg, true, &r, err);
	b->depth--;
	if (rc != 0)
		goto out;
	if (l->ncols != r->ncols) {
		WQ_ERR(b, err, -1, "each UNION query must have the same number "
		       "of columns");
		rc = WEFT_EINVAL;
		goto out;
	}
	t = calloc(l->ncols + 1, sizeof(*t));
	if (t == NULL)
		goto oom;
	for (i = 0; i < l->ncols; i++) {
		t[i] = wq_union_type(l->types[i], r->types[i]);
		if (t[i] == WEFT_S_NULL &&
		    !(l->types[i] == WEFT_S_NULL && r->types[i] == WEFT_S_NULL)) {
			WQ_ERR(b, err, -1, "UNION types %s and %s cannot be "
			       "matched", weft_sqltype_name(l->types[i]),
			       weft_sqltype_name(r->types[i]));
			rc = WEFT_EINVAL;
			goto out;
		}
		if (t[i] == WEFT_S_NULL && !keep_unknown)
			t[i] = WEFT_S_TEXT;
	}
	rc = wq_cast_plan(b, &l, t, err);
	if (rc == 0)
		rc = wq_cast_plan(b, &r, t, err);
	if (rc != 0)
		goto out;
	p = wq_plan_same(WQ_APPEND, l);
	if (p == NULL)
		goto oom;
	l = NULL;
	p->r = r;
	r = NULL;
	p->rows = p->l->rows + p->r->rows;
	if (!s->all) {
		wq_plan_t *d = wq_plan_same(WQ_DISTINCT, p);

		if (d == NULL)
			goto oom;
		p = d;
	}
	rc = wq_bind_setop_order(b, s, &p, err);
	if (rc != 0)
		goto out;
	*out = p;
	p = NULL;
	goto out;
oom:
	rc = WEFT_ENOMEM;
	WQ_OOM(b, err);
out:
	free(t);
	wq_plan_free(l);
	wq_plan_free(r);
	wq_plan_free(p);
	return rc;
}

/* Find the select item an ORDER BY / GROUP BY name or ordinal refers to:
 * -1 if none (then it is an expression), -2 on error. */
static int
wq_target_ref(wq_bindctx_t *b, PgQuery__SelectStmt *s, pgn_t *x,
	      const char *clause, const wq_scope_t *scope, bool prefer_input,
	      const wq_sel_t *sel, weft_err_t *err)
{
	uint32_t i;
	int found = -1;

	if (x->node_case == PG_QUERY__NODE__NODE_A_CONST &&
	    x->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
		int v = x->a_const->ival->ival;

		if (v < 1 || (uint32_t)v > sel->n) {
			WQ_ERR(b, err, x->a_const->location,
			       "%s position %d is not in select list", clause,
			       v);
			return -2;
		}
		return v - 1;
	}
	if (x->node_case != PG_QUERY__NODE__NODE_COLUMN_REF ||
	    x->column_ref->n_fields != 1 ||
	    x->column_ref->fields[0]->node_case != PG_QUERY__NODE__NODE_STRING)
		return -1;
	{
		const char *nm = x->column_ref->fields[0]->string->sval;

		if (prefer_input) /* GROUP BY: input columns win */
			for (i = 0; i < scope->n; i++)
				if (!scope->c[i].nounqual &&
				    strcmp(scope->c[i].name, nm) == 0)
					return -1;
		for (i = 0; i < sel->n; i++) {
			if (strcmp(sel->names[i], nm) != 0)
				continue;
			if (found >= 0 && sel->e[found] && sel->e[i] &&
			    !weft_expr_equal(sel->e[found], sel->e[i])) {
				WQ_ERR(b, err, x->column_ref->location,
				       "%s \"%s\" is ambiguous", clause, nm);
				return -2;
			}
			if (found < 0)
				found = (int)i;
		}
	}
	(void)s;
	return found;
}

/* The pg node of select item i (for GROUP BY ordinals/names). */
static pgn_t *
wq_target_node(PgQuery__SelectStmt *s, uint32_t want)
{
	size_t i;
	uint32_t k = 0;

	for (i = 0; i < s->n_target_list; i++) {
		PgQuery__ResTarget *rt;

		if (s->target_list[i]->node_case !=
		    PG_QUERY__NODE__NODE_RES_TARGET)
			continue;
		rt = s->target_list[i]->res_target;
		if (rt->val && rt->val->node_case ==
				   PG_QUERY__NODE__NODE_COLUMN_REF) {
			PgQuery__ColumnRef *cr = rt->val->column_ref;

			if (cr->n_fields > 0 &&
			    cr->fields[cr->n_fields - 1]->node_case ==
				PG_QUERY__NODE__NODE_A_STAR)
				return NULL; /* * expands: no simple mapping */
		}
		if (k++ == want)
			return rt->val;
	}
	return NULL;
}

int
wq_bind_select(wq_bindctx_t *b, PgQuery__SelectStmt *s, bool keep_unknown,
	       wq_plan_t **out, weft_err_t *err)
{
	wq_plan_t *p = NULL, *n;
	wq_scope_t scope = {0};
	wq_aggctx_t ac = {0};
	wq_sel_t sel = {0};
	wq_ectx_t ec = {0};
	weft_expr_t **gkeys = NULL;
	wq_sortkey_t *sk = NULL;
	uint32_t nvisible, nsk = 0, i;
	size_t ctes0 = b->nctes, k;
	bool agg;
	int rc = 0;
	int64_t lim, off;

	*out = NULL;
	if (s->n_values_lists > 0) {
		WQ_UNSUP(b, err, -1, "VALUES");
		return WEFT_EINVAL;
	}
	if (s->into_clause) {
		WQ_UNSUP(b, err, -1, "SELECT INTO");
		return WEFT_EINVAL;
	}
	if (s->n_locking_clause) {
		WQ_UNSUP(b, err, -1, "FOR UPDATE/SHARE");
		return WEFT_EINVAL;
	}
	if (s->n_window_clause) {
		WQ_UNSUP(b, err, -1, "window functions");
		return WEFT_EINVAL;
	}
	if (s->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES) {
		WQ_UNSUP(b, err, -1, "FETCH ... WITH TIES");
		return WEFT_EINVAL;
	}
	if (s->with_clause) {
		PgQuery__WithClause *w = s->with_clause;

		if (w->recursive) {
			WQ_UNSUP(b, err, w->location, "WITH RECURSIVE");
			return WEFT_EINVAL;
		}
		for (k = 0; k < w->n_ctes; k++) {
			PgQuery__CommonTableExpr *cte;
			size_t j;

			if (w->ctes[k]->node_case !=
			    PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR)
				continue;
			cte = w->ctes[k]->common_table_expr;
			for (j = ctes0; j < b->nctes; j++)
				if (strcmp(b->ctes[j].name, cte->ctename) == 0) {
					WQ_ERR(b, err, cte->location,
					       "WITH query name \"%s\" specified "
					       "more than once", cte->ctename);
					rc = WEFT_EINVAL;
					goto out;
				}
			if (b->nctes == b->ctecap) {
				size_t nc = b->ctecap ? b->ctecap * 2 : 8;
				wq_cte_t *nt = realloc(b->ctes,
						       nc * sizeof(*nt));

				if (nt == NULL)
					goto oom;
				b->ctes = nt;
				b->ctecap = nc;
			}
			b->ctes[b->nctes].name = cte->ctename;
			b->ctes[b->nctes].cte = cte;
			b->nctes++;
		}
	}
	if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE &&
	    s->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED) {
		rc = wq_bind_union(b, s, keep_unknown, out, err);
		goto out;
	}
	if (s->group_distinct) {
		WQ_UNSUP(b, err, -1, "GROUP BY DISTINCT");
		rc = WEFT_EINVAL;
		goto out;
	}
	/* FROM */
	if (s->n_from_clause == 0) {
		p = wq_plan_new(WQ_ONEROW);
		if (p == NULL || wq_plan_shape(p, 0) != 0)
			goto oom;
		p->rows = 1;
	}
	for (k = 0; k < s->n_from_clause; k++) {
		wq_plan_t *fp = NULL;
		wq_scope_t fs = {0};

		rc = wq_bind_from(b, s->from_clause[k], &fp, &fs, err);
		if (rc != 0)
			goto out;
		if (p == NULL) {
			p = fp;
			scope = fs;
			continue;
		}
		/* comma: a cross join */
		n = wq_plan_new(WQ_JOIN);
		if (n == NULL || wq_plan_shape(n, p->ncols + fp->ncols) != 0) {
			wq_plan_free(n);
			wq_plan_free(fp);
			wq_scope_free(&fs);
			goto oom;
		}
		for (i = 0; i < n->ncols; i++) {
			n->types[i] = i < p->ncols ? p->types[i]
						   : fp->types[i - p->ncols];
			n->names[i] = strdup(i < p->ncols
						 ? p->names[i]
						 : fp->names[i - p->ncols]);
		}
		n->jtype = WQ_JOIN_CROSS;
		n->rows = p->rows * fp->rows;
		for (i = 0; i < fs.n; i++) {
			rc = wq_scope_add(&scope, fs.c[i].rel, fs.c[i].schema,
					  fs.c[i].org, fs.c[i].name,
					  fs.c[i].type, fs.c[i].idx + p->ncols);
			if (rc == 0) {
				scope.c[scope.n - 1].nostar = fs.c[i].nostar;
				scope.c[scope.n - 1].nounqual =
				    fs.c[i].nounqual;
			}
		}
		n->l = p;
		n->r = fp;
		p = n;
		wq_scope_free(&fs);
		if (rc != 0)
			goto oom;
	}
	/* duplicate relation names at this level */
	for (i = 0; i < scope.n; i++) {
		uint32_t j;

		if (scope.c[i].rel == NULL || scope.c[i].nostar)
			continue;
		for (j = i + 1; j < scope.n; j++)
			if (scope.c[j].rel && !scope.c[j].nostar &&
			    strcmp(scope.c[i].rel, scope.c[j].rel) == 0 &&
			    strcmp(scope.c[i].name, scope.c[j].name) == 0) {
				WQ_ERR(b, err, -1, "table name \"%s\" specified "
				       "more than once", scope.c[i].rel);
				rc = WEFT_EINVAL;
				goto out;
			}
	}
	ec.b = b;
	ec.scope = &scope;
	ec.err = err;
	/* WHERE */
	if (s->where_clause) {
		weft_expr_t *w;

		ec.what = "WHERE";
		w = wq_cond(&ec, s->where_clause, "WHERE");
		ec.what = NULL;
		if (w == NULL)
			goto fail;
		n = wq_plan_same(WQ_FILTER, p);
		if (n == NULL) {
			weft_expr_free(w);
			goto oom;
		}
		n->pred = w;
		p = n;
	}
	/* aggregation? */
	agg = s->n_group_clause > 0 || wq_has_agg(s->having_clause, 0);
	for (k = 0; !agg && k < s->n_target_list; k++)
		agg = wq_has_agg(s->target_list[k], 0);
	for (k = 0; !agg && k < s->n_sort_clause; k++)
		agg = wq_has_agg(s->sort_clause[k], 0);
	if (agg) {
		ac.keys_raw = calloc(s->n_group_clause + 1, sizeof(*gkeys));
		ac.keytypes = calloc(s->n_group_clause + 1,
				     sizeof(*ac.keytypes));
		gkeys = calloc(s->n_group_clause + 1, sizeof(*gkeys));
		if (!ac.keys_raw || !ac.keytypes || !gkeys)
			goto oom;
		for (k = 0; k < s->n_group_clause; k++) {
			pgn_t *g = s->group_clause[k];
			weft_expr_t *raw, *res;
			int ti;

			if (g->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) {
				WQ_UNSUP(b, err, g->grouping_set->location,
					 "GROUPING SETS/ROLLUP/CUBE");
				rc = WEFT_EINVAL;
				goto out;
			}
			/* ordinals and output names refer to select items */
			{
				wq_sel_t names = {0};
				size_t t;
				uint32_t cnt = 0;

				for (t = 0; t < s->n_target_list; t++) {
					PgQuery__ResTarget *rt;

					if (s->target_list[t]->node_case !=
					    PG_QUERY__NODE__NODE_RES_TARGET)
						continue;
					rt = s->target_list[t]->res_target;
					if (wq_sel_add(&names, NULL,
						       rt->name && *rt->name ? rt->name
							   : wq_colname(rt->val))
					    != 0) {
						wq_sel_free(&names);
						goto oom;
					}
					cnt++;
				}
				ti = wq_target_ref(b, s, g, "GROUP BY", &scope,
						   true, &names, err);
				for (t = 0; t < names.n; t++)
					free(names.names[t]);
				free(names.names);
				free(names.e);
				(void)cnt;
			}
			if (ti == -2) {
				rc = WEFT_EINVAL;
				goto out;
			}
			if (ti >= 0) {
				pgn_t *tn = wq_target_node(s, (uint32_t)ti);

				if (tn == NULL) {
					WQ_UNSUP(b, err, -1, "GROUP BY of *");
					rc = WEFT_EINVAL;
					goto out;
				}
				g = tn;
			}
			ec.what = "GROUP BY";
			raw = wq_bx(&ec, g);
			ec.what = NULL;
			if (raw == NULL)
				goto fail;
			res = weft_expr_copy(raw);
			if (res == NULL) {
				weft_expr_free(raw);
				goto oom;
			}
			if (weft_expr_resolve(&res, err) != 0) {
				weft_expr_free(raw);
				weft_expr_free(res);
				goto fail;
			}
			if (res->type == WEFT_S_UNKNOWN &&
			    wq_coerce(&ec, &res, WEFT_S_TEXT) != 0) {
				weft_expr_free(raw);
				weft_expr_free(res);
				goto fail;
			}
			ac.keys_raw[ac.nkeys] = raw;
			ac.keytypes[ac.nkeys] = res->type;
			gkeys[ac.nkeys] = res;
			ac.nkeys++;
		}
		ec.agg = &ac;
	}
	/* select list */
	for (k = 0; k < s->n_target_list; k++) {
		PgQuery__ResTarget *rt;
		weft_expr_t *e;

		if (s->target_list[k]->node_case !=
		    PG_QUERY__NODE__NODE_RES_TARGET)
			continue;
		rt = s->target_list[k]->res_target;
		if (rt->n_indirection) {
			WQ_UNSUP(b, err, rt->location, "indirection");
			rc = WEFT_EINVAL;
			goto out;
		}
		if (rt->val &&
		    rt->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
		    rt->val->column_ref->n_fields > 0 &&
		    rt->val->column_ref->fields[rt->val->column_ref->n_fields - 1]
			    ->node_case == PG_QUERY__NODE__NODE_A_STAR) {
			PgQuery__ColumnRef *cr = rt->val->column_ref;
			const char *rel = NULL;
			uint32_t cnt = 0;

			if (cr->n_fields > 2) {
				WQ_UNSUP(b, err, cr->location,
					 "schema-qualified *");
				rc = WEFT_EINVAL;
				goto out;
			}
			if (cr->n_fields == 2) {
				if (cr->fields[0]->node_case !=
				    PG_QUERY__NODE__NODE_STRING) {
					WQ_UNSUP(b, err, cr->location, "*");
					rc = WEFT_EINVAL;
					goto out;
				}
				rel = cr->fields[0]->string->sval;
			}
			if (rel == NULL && s->n_from_clause == 0) {
				WQ_ERR(b, err, cr->location, "SELECT * with no "
				       "tables specified is not valid");
				rc = WEFT_EINVAL;
				goto out;
			}
			for (i = 0; i < scope.n; i++) {
				wq_scol_t *sc = &scope.c[i];

				if (rel ? (sc->rel == NULL ||
					   strcmp(sc->rel, rel) != 0)
					: sc->nostar)
					continue;
				cnt++;
				if (ec.agg == NULL) {
					e = weft_expr_col(sc->idx, sc->type,
							  cr->location + 1);
					if (e == NULL)
						goto oom;
				} else {
					/* in an aggregate query the column
					 * must be a group key */
					e = weft_expr_col(sc->idx, sc->type,
							  0);
					if (e == NULL)
						goto oom;
					{
						uint32_t g2;
						bool ok = false;

						for (g2 = 0; g2 < ac.nkeys;
						     g2++)
							if (weft_expr_equal(
								e,
								ac.keys_raw[g2])) {
								weft_expr_free(e);
								e = weft_expr_col(
								    g2,
								    ac.keytypes[g2],
								    0);
								ok = true;
								break;
							}
						if (!ok) {
							weft_expr_free(e);
							WQ_ERR(b, err,
							       cr->location,
							       "column \"%s.%s\" "
							       "must appear in the "
							       "GROUP BY clause or be "
							       "used in an aggregate "
							       "function",
							       sc->rel ? sc->rel
								       : "?",
							       sc->name);
							rc = WEFT_EINVAL;
							goto out;
						}
						if (e == NULL)
							goto oom;
					}
				}
				if (wq_sel_add(&sel, e, sc->name) != 0) {
					weft_expr_free(e);
					goto oom;
				}
			}
			if (rel != NULL && cnt == 0) {
				WQ_ERR(b, err, cr->location, "missing "
				       "FROM-clause entry for table \"%s\"",
				       rel);
				rc = WEFT_EINVAL;
				goto out;
			}
			continue;
		}
		e = wq_expr(&ec, rt->val);
		if (e == NULL)
			goto fail;
		if (wq_sel_add(&sel, e, rt->name && *rt->name ? rt->name
						  : wq_colname(rt->val)) != 0) {
			weft_expr_free(e);
			goto oom;
		}
	}
	if (!keep_unknown) {
		rc = wq_sel_resolve_unknown(&ec, &sel);
		if (rc != 0)
			goto out;
	}
	nvisible = sel.n;
	/* HAVING */
	{
		weft_expr_t *h = NULL;

		if (s->having_clause) {
			if (!agg) {
				WQ_ERR(b, err, -1, "HAVING without aggregation");
				rc = WEFT_EINVAL;
				goto out;
			}
			h = wq_cond(&ec, s->having_clause, "HAVING");
			if (h == NULL)
				goto fail;
		}
		/* ORDER BY (may add aggregates, so before the Agg node) */
		if (s->n_sort_clause > 0) {
			sk = calloc(s->n_sort_clause, sizeof(*sk));
			if (sk == NULL) {
				weft_expr_free(h);
				goto oom;
			}
		}
		for (k = 0; k < s->n_sort_clause; k++) {
			PgQuery__SortBy *sb;
			weft_expr_t *e;
			int ti;

			if (s->sort_clause[k]->node_case !=
			    PG_QUERY__NODE__NODE_SORT_BY)
				continue;
			sb = s->sort_clause[k]->sort_by;
			if (sb->sortby_dir ==
			    PG_QUERY__SORT_BY_DIR__SORTBY_USING) {
				weft_expr_free(h);
				WQ_UNSUP(b, err, sb->location, "ORDER BY USING");
				rc = WEFT_EINVAL;
				goto out;
			}
			{
				wq_sel_t vis = sel;

				vis.n = nvisible;
				ti = wq_target_ref(b, s, sb->node, "ORDER BY",
						   &scope, false, &vis, err);
			}
			if (ti == -2) {
				weft_expr_free(h);
				rc = WEFT_EINVAL;
				goto out;
			}
			if (ti < 0) {
				e = wq_expr(&ec, sb->node);
				if (e == NULL) {
					weft_expr_free(h);
					goto fail;
				}
				if (e->type == WEFT_S_UNKNOWN)
					(void)wq_coerce(&ec, &e, WEFT_S_TEXT);
				for (i = 0; i < sel.n; i++)
					if (weft_expr_equal(e, sel.e[i]))
						break;
				if (i < sel.n) {
					weft_expr_free(e);
					ti = (int)i;
				} else if (s->n_distinct_clause > 0) {
					weft_expr_free(e);
					weft_expr_free(h);
					WQ_ERR(b, err, sb->location,
					       "for SELECT DISTINCT, ORDER BY "
					       "expressions must appear in select "
					       "list");
					rc = WEFT_EINVAL;
					goto out;
				} else {
					if (wq_sel_add(&sel, e, "?sort?") != 0) {
						weft_expr_free(e);
						weft_expr_free(h);
						goto oom;
					}
					ti = (int)sel.n - 1;
				}
			}
			sk[nsk].col = (uint32_t)ti;
			sk[nsk].desc = sb->sortby_dir ==
				       PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
			sk[nsk].nulls_first =
			    sb->sortby_nulls ==
				    PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
			    (sk[nsk].desc &&
			     sb->sortby_nulls !=
				 PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST);
			nsk++;
		}
		if (agg) {
			n = wq_plan_new(WQ_AGG);
			if (n == NULL ||
			    wq_plan_shape(n, ac.nkeys + ac.naggs) != 0) {
				wq_plan_free(n);
				weft_expr_free(h);
				goto oom;
			}
			for (i = 0; i < ac.nkeys; i++) {
				char nm[32];

				snprintf(nm, sizeof(nm), "key%u", i);
				n->types[i] = ac.keytypes[i];
				n->names[i] = strdup(nm);
			}
			for (i = 0; i < ac.naggs; i++) {
				n->types[ac.nkeys + i] = ac.aggs[i].type;
				n->names[ac.nkeys + i] =
				    strdup(wq_agg_name(ac.aggs[i].fn));
			}
			n->l = p;
			p = n;
			p->rows = ac.nkeys ? p->l->rows / 10 + 1 : 1;
			p->aggmode = WQ_AGG_COMPLETE;
			p->nkeys = ac.nkeys;
			p->keys = gkeys;
			gkeys = NULL;
			p->naggs = ac.naggs;
			p->aggs = calloc(ac.naggs + 1, sizeof(*p->aggs));
			if (p->aggs == NULL) {
				weft_expr_free(h);
				goto oom;
			}
			for (i = 0; i < ac.naggs; i++) {
				p->aggs[i] = ac.aggs[i];
				ac.aggs[i].arg = NULL;
			}
			for (i = 0; i < ac.nkeys + ac.naggs; i++)
				if (p->names[i] == NULL) {
					weft_expr_free(h);
					goto oom;
				}
		}
		if (h != NULL) {
			n = wq_plan_same(WQ_FILTER, p);
			if (n == NULL) {
				weft_expr_free(h);
				goto oom;
			}
			n->pred = h;
			p = n;
		}
	}
	/* projection */
	n = wq_plan_project(p, sel.n, sel.e, sel.names);
	if (n == NULL)
		goto oom;
	p = n;
	for (i = 0; i < sel.n; i++)
		free(sel.names[i]);
	free(sel.names);
	sel.names = NULL;
	sel.e = NULL;
	sel.n = 0;
	/* DISTINCT */
	if (s->n_distinct_clause > 0) {
		if (!(s->n_distinct_clause == 1 &&
		      s->distinct_clause[0] == NULL) &&
		    !(s->n_distinct_clause == 1 &&
		      s->distinct_clause[0]->node_case == 0)) {
			WQ_UNSUP(b, err, -1, "DISTINCT ON");
			rc = WEFT_EINVAL;
			goto out;
		}
		n = wq_plan_same(WQ_DISTINCT, p);
		if (n == NULL)
			goto oom;
		p = n;
	}
	/* ORDER BY */
	if (nsk > 0) {
		n = wq_plan_same(WQ_SORT, p);
		if (n == NULL)
			goto oom;
		p = n;
		p->sort = sk;
		p->nsort = nsk;
		sk = NULL;
	}
	rc = wq_limit_value(b, s->limit_count, "LIMIT", &lim, err);
	if (rc == 0)
		rc = wq_limit_value(b, s->limit_offset, "OFFSET", &off, err);
	if (rc != 0)
		goto out;
	if (lim >= 0 || off > 0) {
		n = wq_plan_same(WQ_LIMIT, p);
		if (n == NULL)
			goto oom;
		p = n;
		p->limit = lim;
		p->offset = off > 0 ? off : 0;
		if (lim >= 0 && lim < p->rows)
			p->rows = (double)lim;
	}
	/* drop hidden ORDER BY columns */
	if (p->ncols > nvisible) {
		weft_expr_t **ex = calloc(nvisible + 1, sizeof(*ex));

		if (ex == NULL)
			goto oom;
		for (i = 0; i < nvisible; i++) {
			ex[i] = weft_expr_col(i, p->types[i], 0);
			if (ex[i] == NULL) {
				weft_expr_free_array(ex, i);
				goto oom;
			}
		}
		n = wq_plan_project(p, nvisible, ex, p->names);
		if (n == NULL) {
			weft_expr_free_array(ex, nvisible);
			goto oom;
		}
		p = n;
	}
	*out = p;
	p = NULL;
	rc = 0;
	goto out;
oom:
	WQ_OOM(b, err);
	rc = WEFT_ENOMEM;
	goto out;
fail:
	rc = wq_rc(err);
out:
	b->nctes = ctes0;
	wq_plan_free(p);
	wq_scope_free(&scope);
	wq_aggctx_free(&ac);
	wq_sel_free(&sel);
	if (gkeys)
		weft_expr_free_array(gkeys, ac.nkeys);
	free(sk);
	return rc;
}

int
wq_bind(weft_snapshot_t *snap, const char *sql, const void *stmt,
	wq_plan_t **out, weft_err_t *err)
{
	wq_bindctx_t b = {0};
	size_t i;
	int rc;

	b.snap = snap;
	b.sql = sql;
	rc = wq_bind_select(&b, (PgQuery__SelectStmt *)stmt, false, out, err);
	for (i = 0; i < b.nproducts; i++)
		free(b.products[i]);
	free(b.products);
	free(b.ctes);
	return rc;
}
