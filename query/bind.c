/*
 * bind.c: libpg_query parse tree -> logical plan (wq_bind): the entry and
 * the binder's recursion, a SELECT clause by clause, set operations,
 * FROM items (products, subqueries, CTEs, joins). The clauses themselves
 * are in bind_clause.c, relations and scopes in bind_from.c, expressions
 * in bind_expr.c (bind.h says what each holds).
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
#include <stdlib.h>
#include <string.h>

#include "query/bind.h"

static int wq_bind_select(wq_bindctx_t *b, PgQuery__SelectStmt *s,
			  bool keep_unknown, wq_plan_t **out, weft_err_t *err);
static int wq_bind_from(wq_bindctx_t *b, pgn_t *n, wq_plan_t **plan,
			wq_scope_t *scope, weft_err_t *err);

/* ---- set operations ---- */

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
			     ? "INTERSECT"
			     : "EXCEPT");
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
		WQ_ERR(b, err, -1,
		       "each UNION query must have the same number "
		       "of columns");
		rc = WEFT_EINVAL;
		goto out;
	}
	t = calloc(l->ncols + 1, sizeof(*t));
	if (t == NULL)
		goto oom;
	for (i = 0; i < l->ncols; i++) {
		t[i] = wq_union_type(l->types[i], r->types[i]);
		if (t[i] == WEFT_S_NULL && !(l->types[i] == WEFT_S_NULL &&
					     r->types[i] == WEFT_S_NULL)) {
			WQ_ERR(b, err, -1,
			       "UNION types %s and %s cannot be "
			       "matched",
			       weft_sqltype_name(l->types[i]),
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

/* ---- SELECT ---- */

/* Forms of SELECT the engine refuses outright. */
static int
wq_select_check(wq_bindctx_t *b, const PgQuery__SelectStmt *s, weft_err_t *err)
{
	const char *what = NULL;

	if (s->n_values_lists > 0)
		what = "VALUES";
	else if (s->into_clause)
		what = "SELECT INTO";
	else if (s->n_locking_clause)
		what = "FOR UPDATE/SHARE";
	else if (s->n_window_clause)
		what = "window functions";
	else if (s->limit_option ==
		 PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
		what = "FETCH ... WITH TIES";
	if (what == NULL)
		return 0;
	WQ_UNSUP(b, err, -1, what);
	return WEFT_EINVAL;
}

/* WITH: the CTEs of s become visible (to each other in order, and to
 * the rest of s); the caller drops them again (b->nctes). */
static int
wq_bind_with(wq_bindctx_t *b, const PgQuery__SelectStmt *s, size_t ctes0,
	     weft_err_t *err)
{
	PgQuery__WithClause *w = s->with_clause;
	size_t k, j;

	if (w == NULL)
		return 0;
	if (w->recursive) {
		WQ_UNSUP(b, err, w->location, "WITH RECURSIVE");
		return WEFT_EINVAL;
	}
	for (k = 0; k < w->n_ctes; k++) {
		PgQuery__CommonTableExpr *cte;

		if (w->ctes[k]->node_case !=
		    PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR)
			continue;
		cte = w->ctes[k]->common_table_expr;
		for (j = ctes0; j < b->nctes; j++)
			if (strcmp(b->ctes[j].name, cte->ctename) == 0) {
				WQ_ERR(b, err, cte->location,
				       "WITH query name "
				       "\"%s\" specified more than once",
				       cte->ctename);
				return WEFT_EINVAL;
			}
		if (b->nctes == b->ctecap) {
			size_t nc = b->ctecap ? b->ctecap * 2 : 8;
			wq_cte_t *nt = realloc(b->ctes, nc * sizeof(*nt));

			if (nt == NULL)
				return wq_oom_rc(b, err);
			b->ctes = nt;
			b->ctecap = nc;
		}
		b->ctes[b->nctes].name = cte->ctename;
		b->ctes[b->nctes].cte = cte;
		b->nctes++;
	}
	return 0;
}

/* FROM: one result row without it; its items, side by side (a comma is
 * a cross join); then no relation name twice. */
static int
wq_select_from(wq_select_t *q)
{
	PgQuery__SelectStmt *s = q->s;
	wq_plan_t *n;
	size_t k;
	int rc;

	if (s->n_from_clause == 0) {
		q->p = wq_plan_new(WQ_ONEROW);
		if (q->p == NULL || wq_plan_shape(q->p, 0) != 0)
			return wq_oom_rc(q->b, q->err);
		q->p->rows = 1;
	}
	for (k = 0; k < s->n_from_clause; k++) {
		wq_plan_t *fp = NULL;
		wq_scope_t fs = {0};

		rc = wq_bind_from(q->b, s->from_clause[k], &fp, &fs, q->err);
		if (rc != 0)
			return rc;
		if (q->p == NULL) {
			q->p = fp;
			q->scope = fs;
			continue;
		}
		n = wq_join_node(q->p, fp, WQ_JOIN_CROSS);
		rc = n ? wq_scope_append(&q->scope, &fs, q->p->ncols)
		       : WEFT_ENOMEM;
		wq_scope_free(&fs);
		if (n == NULL) {
			wq_plan_free(fp);
			return wq_oom_rc(q->b, q->err);
		}
		n->rows = q->p->rows * fp->rows;
		n->l = q->p;
		n->r = fp;
		q->p = n;
		if (rc != 0)
			return wq_oom_rc(q->b, q->err);
	}
	return wq_scope_dups(q->b, &q->scope, q->err);
}

/* Free what a SELECT's binding still owns. */
static void
wq_select_release(wq_select_t *q)
{
	wq_plan_free(q->p);
	wq_scope_free(&q->scope);
	wq_aggctx_free(&q->ac);
	wq_sel_free(&q->sel);
	if (q->gkeys)
		weft_expr_free_array(q->gkeys, q->ac.nkeys);
	weft_expr_free(q->having);
	free(q->sk);
}

/*
 * A SELECT (or a set operation) -> *out: PostgreSQL's order, FROM ->
 * WHERE -> GROUP BY -> select list -> HAVING -> ORDER BY -> aggregation
 * -> projection -> DISTINCT -> sort -> LIMIT. keep_unknown leaves
 * unknown-typed select items as they are (the arms of a UNION, which
 * types them together).
 */
static int
wq_bind_select(wq_bindctx_t *b, PgQuery__SelectStmt *s, bool keep_unknown,
	       wq_plan_t **out, weft_err_t *err)
{
	wq_select_t q = {0};
	size_t ctes0 = b->nctes;
	int rc;

	*out = NULL;
	rc = wq_select_check(b, s, err);
	if (rc != 0)
		return rc;
	rc = wq_bind_with(b, s, ctes0, err);
	if (rc == 0 && s->op != PG_QUERY__SET_OPERATION__SETOP_NONE &&
	    s->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED) {
		rc = wq_bind_union(b, s, keep_unknown, out, err);
		goto out;
	}
	if (rc == 0 && s->group_distinct) {
		WQ_UNSUP(b, err, -1, "GROUP BY DISTINCT");
		rc = WEFT_EINVAL;
	}
	q.b = b;
	q.s = s;
	q.err = err;
	q.keep_unknown = keep_unknown;
	if (rc == 0)
		rc = wq_select_from(&q);
	q.ec.b = b;
	q.ec.scope = &q.scope;
	q.ec.err = err;
	if (rc == 0)
		rc = wq_select_where(&q);
	if (rc == 0 && wq_is_profile(s)) {
		rc = wq_bind_profile(&q);
		if (rc == 0) {
			*out = q.p;
			q.p = NULL;
		}
		goto out;
	}
	if (rc == 0)
		rc = wq_select_group(&q);
	if (rc == 0)
		rc = wq_select_targets(&q);
	if (rc == 0)
		rc = wq_select_having(&q);
	if (rc == 0)
		rc = wq_select_order(&q);
	if (rc == 0)
		rc = wq_select_aggregate(&q);
	if (rc == 0)
		rc = wq_select_project(&q);
	if (rc == 0)
		rc = wq_select_finish(&q);
	if (rc == 0) {
		*out = q.p;
		q.p = NULL;
	}
out:
	b->nctes = ctes0;
	wq_select_release(&q);
	return rc;
}

/* ---- FROM ---- */

/* A CTE (b->ctes[k]) used as relation rel: its query bound now, seeing
 * only the CTEs before it. */
static int
wq_bind_cte(wq_bindctx_t *b, PgQuery__RangeVar *rv, size_t k, const char *rel,
	    wq_plan_t **plan, wq_scope_t *scope, weft_err_t *err)
{
	wq_cte_t *ct = &b->ctes[k];
	PgQuery__CommonTableExpr *cte = ct->cte;
	size_t save = b->nctes;
	wq_plan_t *sub = NULL;
	int rc;

	if (cte->ctequery == NULL ||
	    cte->ctequery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
		WQ_UNSUP(b, err, cte->location, "data-modifying WITH");
		return wq_rc(err);
	}
	if (b->depth >= WQ_NEST_MAX) {
		WQ_ERR(b, err, rv->location, "queries nested too deeply");
		return WEFT_EINVAL;
	}
	b->nctes = k; /* a CTE sees only earlier ones */
	b->depth++;
	rc = wq_bind_select(b, cte->ctequery->select_stmt, false, &sub, err);
	b->depth--;
	b->nctes = save;
	if (rc != 0)
		return rc;
	if (cte->n_aliascolnames > 0) {
		PgQuery__Alias al = PG_QUERY__ALIAS__INIT;

		al.aliasname = (char *)ct->name;
		al.n_colnames = cte->n_aliascolnames;
		al.colnames = cte->aliascolnames;
		return wq_bind_subplan(b, sub, rel, &al, plan, scope, err);
	}
	return wq_bind_subplan(b, sub, rel, rv->alias, plan, scope, err);
}

/* A relation name: the nearest CTE of that name, else a product. */
static int
wq_bind_rangevar(wq_bindctx_t *b, PgQuery__RangeVar *rv, wq_plan_t **plan,
		 wq_scope_t *scope, weft_err_t *err)
{
	const char *rel = rv->alias ? rv->alias->aliasname : rv->relname;
	size_t k;

	if (!(rv->schemaname && *rv->schemaname))
		for (k = b->nctes; k > 0; k--)
			if (strcmp(b->ctes[k - 1].name, rv->relname) == 0)
				return wq_bind_cte(b, rv, k - 1, rel, plan,
						   scope, err);
	return wq_bind_product(b, rv, rel, plan, scope, err);
}

/* A JOIN: both sides, the node with their columns side by side, the
 * combined scope (USING columns first, then left, then right), the ON
 * condition, the alias; RIGHT JOIN as a LEFT JOIN with the sides
 * swapped. */
static int
wq_bind_join(wq_bindctx_t *b, PgQuery__JoinExpr *j, wq_plan_t **plan,
	     wq_scope_t *scope, weft_err_t *err)
{
	wq_plan_t *l = NULL, *r = NULL, *p = NULL;
	wq_scope_t ls = {0}, rs = {0};
	uint32_t nl;
	int rc, jt;
	bool right;

	rc = wq_join_type(b, j, &jt, &right, err);
	if (rc == 0)
		rc = wq_bind_from(b, j->larg, &l, &ls, err);
	if (rc != 0)
		return rc;
	rc = wq_bind_from(b, j->rarg, &r, &rs, err);
	if (rc != 0)
		goto out;
	p = wq_join_node(l, r, jt);
	if (p == NULL) {
		rc = wq_oom_rc(b, err);
		goto out;
	}
	nl = l->ncols;
	p->rows = l->rows > r->rows ? l->rows : r->rows;
	p->l = l;
	p->r = r;
	l = r = NULL;
	rc = wq_join_using(b, j, &ls, &rs, nl, right, p, scope, err);
	if (rc == 0 && (wq_scope_append(scope, &ls, 0) != 0 ||
			wq_scope_append(scope, &rs, nl) != 0))
		rc = wq_oom_rc(b, err);
	if (rc == 0 && j->quals) {
		wq_ectx_t ec = {0};

		ec.b = b;
		ec.scope = scope;
		ec.what = "JOIN conditions";
		ec.err = err;
		p->resid = wq_cond(&ec, j->quals, "JOIN/ON");
		if (p->resid == NULL)
			rc = wq_rc(err);
	}
	if (rc == 0 && j->alias)
		rc = wq_apply_alias(b, scope, j->alias->aliasname, j->alias,
				    err);
	if (rc == 0 && right)
		rc = wq_join_swap(b, &p, err);
	if (rc == 0) {
		*plan = p;
		p = NULL;
	}
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
		    rs->subquery->node_case !=
			PG_QUERY__NODE__NODE_SELECT_STMT) {
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

/* ---- the entry ---- */

int
wq_bind(weft_snapshot_t *snap, const weft_mesh_t *mesh, const char *sql,
	const void *stmt, wq_plan_t **out, weft_err_t *err)
{
	wq_bindctx_t b = {0};
	size_t i;
	int rc;

	b.snap = snap;
	b.mesh = mesh;
	b.sql = sql;
	rc = wq_bind_select(&b, (PgQuery__SelectStmt *)stmt, false, out, err);
	for (i = 0; i < b.nproducts; i++)
		free(b.products[i]);
	free(b.products);
	free(b.ctes);
	return rc;
}
