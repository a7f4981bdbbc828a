/*
 * bind.h: the binder's internals (libpg_query parse tree -> logical
 * plan), shared by its sources:
 *   bind.c         the entry (wq_bind) and the recursion: a SELECT clause
 *                  by clause, set operations, FROM items, joins, CTEs;
 *   bind_clause.c  the clauses that do not recurse: select list, WHERE,
 *                  GROUP BY, HAVING, ORDER BY, DISTINCT, LIMIT, and the
 *                  shaping of a set operation's result;
 *   bind_from.c    relations and scopes: products, aliases, the scans and
 *                  join nodes FROM makes, USING;
 *   bind_expr.c    expressions, aggregate calls, and the errors all of
 *                  them report.
 * Internal to query/; the parse tree is borrowed for the whole bind.
 */
#ifndef WEFT_QUERY_BIND_H
#define WEFT_QUERY_BIND_H

#include <stdbool.h>
#include <stdint.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "query/qint.h"
#include "storage/policy.h"

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
	const weft_mesh_t *mesh;
	const char *sql;
	char **products;
	size_t nproducts;
	bool listed;
	bool local_ambiguous; /* the last lookup: several local matches */
	wq_cte_t *ctes;
	size_t nctes, ctecap;
	int depth;
	/* binding a policy's rows predicate for this requester
	 * (serve_rewrite.c): requester_org() and friends are constants */
	const weft_requester_t *req;
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

/* A select list being built: expressions and their output names (both
 * owned). */
typedef struct wq_sel {
	uint32_t n, cap;
	weft_expr_t **e;
	char **names;
} wq_sel_t;

/* One SELECT being bound: what its clauses build, in the order they
 * run (FROM, WHERE, GROUP BY, select list, HAVING, ORDER BY, the
 * aggregation, projection, DISTINCT, sort, LIMIT). Everything here is
 * owned until it moves into the plan. */
typedef struct wq_select {
	wq_bindctx_t *b;
	PgQuery__SelectStmt *s;
	weft_err_t *err;
	bool keep_unknown;   /* leave unknown-typed items (UNION arms) */
	wq_plan_t *p;	     /* the plan so far */
	wq_scope_t scope;    /* the columns FROM brings into scope */
	wq_ectx_t ec;	     /* expressions over scope (or groups) */
	bool agg;	     /* an aggregate query */
	wq_aggctx_t ac;	     /* its group keys and aggregates */
	weft_expr_t **gkeys; /* the group keys, resolved (ac.nkeys) */
	wq_sel_t sel;	     /* select list, then hidden ORDER BY items */
	uint32_t nvisible;   /* items of the select list itself */
	weft_expr_t *having; /* HAVING, until it becomes a filter */
	wq_sortkey_t *sk;    /* ORDER BY keys over sel */
	uint32_t nsk;
} wq_select_t;

/* ---- errors (bind_expr.c) ---- */

/* Set err (code, message, position of byte loc of the SQL, none if loc
 * < 0); returns NULL so that expression builders can return it. */
void *wq_null_err(wq_bindctx_t *b, weft_err_t *err, int loc, int code,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define WQ_ERR(b, err, loc, ...)                                               \
	wq_null_err(b, err, loc, WEFT_EINVAL, __VA_ARGS__)
#define WQ_UNSUP(b, err, loc, what)                                            \
	wq_null_err(b, err, loc, WEFT_EINVAL,                                  \
		    "unsupported at character %d: %s",                         \
		    wq_charpos((b)->sql, (loc) < 0 ? 0 : (loc)), what)
#define WQ_OOM(b, err) wq_null_err(b, err, -1, WEFT_ENOMEM, "out of memory")

/* The code of an error already set (WEFT_EINVAL if none). */
static inline int
wq_rc(const weft_err_t *err)
{
	return err->code ? err->code : WEFT_EINVAL;
}

/* WQ_OOM, as a return code. */
static inline int
wq_oom_rc(wq_bindctx_t *b, weft_err_t *err)
{
	WQ_OOM(b, err);
	return WEFT_ENOMEM;
}

/* Levenshtein distance of a and b, capped at 3 (did-you-mean hints). */
int wq_edit(const char *a, const char *b);

/* The last name of a qualified name list (String nodes), or NULL. */
static inline const char *
wq_lastname(pgn_t **names, size_t n)
{
	if (n == 0 || names[n - 1]->node_case != PG_QUERY__NODE__NODE_STRING)
		return NULL;
	return names[n - 1]->string->sval;
}

/* ---- expressions (bind_expr.c) ---- */

/* A node over args[0..n) (taken, freed on failure; any NULL fails, the
 * error already set); loc is a byte offset or -1. */
weft_expr_t *wq_node(wq_ectx_t *c, weft_expr_kind_t kind, int op, int flags,
		     uint32_t n, weft_expr_t **args, int loc);
/* Bind n (untyped); NULL with c->err set. */
weft_expr_t *wq_bx(wq_ectx_t *c, pgn_t *n);
/* Bind and type n; a boolean condition (WHERE, HAVING, ON) for what. */
weft_expr_t *wq_expr(wq_ectx_t *c, pgn_t *n);
weft_expr_t *wq_cond(wq_ectx_t *c, pgn_t *n, const char *what);
/* Implicit coercion of a resolved *e to t. */
int wq_coerce(wq_ectx_t *c, weft_expr_t **e, weft_sqltype_t t);
/* Does the tree contain an aggregate call (not inside subqueries)? */
bool wq_has_agg(pgn_t *n, int depth);

/* ---- relations and scopes (bind_from.c) ---- */

void wq_scope_free(wq_scope_t *s);
/* Append src's columns to dst, their indexes moved by off (the columns
 * before them in a join). 0 or WEFT_ENOMEM (no error set). */
int wq_scope_append(wq_scope_t *dst, const wq_scope_t *src, uint32_t off);
/* The same relation name twice at one level: PostgreSQL's error. */
int wq_scope_dups(wq_bindctx_t *b, const wq_scope_t *s, weft_err_t *err);
/* Rename the columns of s to relation rel, and to al's column names
 * when it has them. */
int wq_apply_alias(wq_bindctx_t *b, wq_scope_t *s, const char *rel,
		   PgQuery__Alias *al, weft_err_t *err);
/* A subquery's plan sub (taken, freed on failure) as relation rel. */
int wq_bind_subplan(wq_bindctx_t *b, wq_plan_t *sub, const char *rel,
		    PgQuery__Alias *al, wq_plan_t **plan, wq_scope_t *scope,
		    weft_err_t *err);
/* A scan of the product rv names, its columns into scope as rel. */
int wq_bind_product(wq_bindctx_t *b, PgQuery__RangeVar *rv, const char *rel,
		    wq_plan_t **plan, wq_scope_t *scope, weft_err_t *err);
/*
 * Products of other nodes named by rv (bind_mesh.c), after the local
 * lookup found `local` (NULL: none) of our org local_org. 0 with *rem
 * NULL: use the local product (if any); 0 with *rem set (and *rpi, the
 * descriptor, to clear): the remote one; else an error (ambiguous, or
 * hosted elsewhere while the mesh cannot be reached).
 */
int wq_mesh_resolve(wq_bindctx_t *b, PgQuery__RangeVar *rv, const char *local,
		    const char *local_org, weft_remote_t **rem,
		    weft_product_info_t *rpi, weft_err_t *err);
/* The join type of j (RIGHT: *right, and LEFT with the sides swapped);
 * NATURAL and FULL are refused. */
int wq_join_type(wq_bindctx_t *b, const PgQuery__JoinExpr *j, int *jt,
		 bool *right, weft_err_t *err);
/* A join node of type jt with l's columns then r's (l and r are only
 * read; the caller links them); NULL when out of memory. */
wq_plan_t *wq_join_node(const wq_plan_t *l, const wq_plan_t *r, int jt);
/* USING: each column merged into scope once, hidden in both sides'
 * scopes ls and rs, and left = right ANDed to p's condition. */
int wq_join_using(wq_bindctx_t *b, const PgQuery__JoinExpr *j, wq_scope_t *ls,
		  wq_scope_t *rs, uint32_t nl, bool right, wq_plan_t *p,
		  wq_scope_t *scope, weft_err_t *err);
/* RIGHT JOIN: *pp (a join of left and right) becomes the LEFT JOIN of
 * right and left under a projection back to left-then-right order. On
 * failure *pp is still a whole tree to free. */
int wq_join_swap(wq_bindctx_t *b, wq_plan_t **pp, weft_err_t *err);

/* ---- clauses (bind_clause.c) ---- */

void wq_sel_free(wq_sel_t *s);
void wq_aggctx_free(wq_aggctx_t *a);
/* The common type of two UNION columns; WEFT_S_NULL if none. */
weft_sqltype_t wq_union_type(weft_sqltype_t a, weft_sqltype_t b);
/* Project *p's columns to types (casting where they differ). */
int wq_cast_plan(wq_bindctx_t *b, wq_plan_t **p, const weft_sqltype_t *types,
		 weft_err_t *err);
/* ORDER BY / LIMIT over a finished set (UNION): by output name or
 * ordinal only. */
int wq_bind_setop_order(wq_bindctx_t *b, PgQuery__SelectStmt *s, wq_plan_t **p,
			weft_err_t *err);
/*
 * The clauses of a SELECT, each over q and in this order after FROM:
 * WHERE (a filter); GROUP BY (q->agg, keys); the select list; HAVING;
 * ORDER BY (keys, hidden items); the aggregation node and HAVING's
 * filter; the projection, DISTINCT and the sort; LIMIT/OFFSET and the
 * projection that drops hidden items. Each returns 0 or an error set in
 * q->err; what they build stays in q until it is in q->p.
 */
int wq_select_where(wq_select_t *q);
/* weft_profile(*) (bind_profile.c): is s one; its node over q->p. */
bool wq_is_profile(const PgQuery__SelectStmt *s);
int wq_bind_profile(wq_select_t *q);
int wq_select_group(wq_select_t *q);
int wq_select_targets(wq_select_t *q);
int wq_select_having(wq_select_t *q);
int wq_select_order(wq_select_t *q);
int wq_select_aggregate(wq_select_t *q);
int wq_select_project(wq_select_t *q);
int wq_select_finish(wq_select_t *q);

#endif
