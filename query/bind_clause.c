/*
 * bind_clause.c: the clauses of a SELECT that do not recurse into other
 * SELECTs, run by wq_bind_select (bind.c) in PostgreSQL's order over a
 * wq_select_t: WHERE, GROUP BY (and whether the query aggregates), the
 * select list (with `*`), HAVING, ORDER BY, the aggregation node, the
 * projection, DISTINCT, the sort, LIMIT/OFFSET and the projection that
 * drops hidden ORDER BY items; and what shapes a set operation's result
 * (common column types, ORDER BY and LIMIT over it).
 *
 * GROUP BY and ORDER BY names and ordinals refer to select items as in
 * PostgreSQL (GROUP BY prefers an input column of that name, ORDER BY an
 * output column); an ORDER BY expression that is no select item becomes
 * a hidden one, dropped after the sort.
 */
#include <stdlib.h>
#include <string.h>

#include "query/bind.h"

/* ---- select lists ---- */

/* PostgreSQL's FigureColname, roughly. */
static const char *
wq_colname(pgn_t *n)
{
	const char *s;

	if (n == NULL)
		return "?column?";
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_COLUMN_REF:
		s = wq_lastname(n->column_ref->fields, n->column_ref->n_fields);
		return s ? s : "?column?";
	case PG_QUERY__NODE__NODE_FUNC_CALL:
		s = wq_lastname(n->func_call->funcname,
				n->func_call->n_funcname);
		return s ? s : "?column?";
	case PG_QUERY__NODE__NODE_TYPE_CAST:
		s = wq_colname(n->type_cast->arg);
		if (strcmp(s, "?column?") == 0) {
			const char *t =
			    wq_lastname(n->type_cast->type_name->names,
					n->type_cast->type_name->n_names);

			return t ? t : s;
		}
		return s;
	case PG_QUERY__NODE__NODE_CASE_EXPR:
		s = wq_colname(n->case_expr->defresult);
		return strcmp(s, "?column?") == 0 ? "case" : s;
	case PG_QUERY__NODE__NODE_COALESCE_EXPR: return "coalesce";
	case PG_QUERY__NODE__NODE_A_EXPR:
		if (n->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF)
			return "nullif";
		return "?column?";
	case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION: return "current_timestamp";
	default: return "?column?";
	}
}

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

void
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

void
wq_aggctx_free(wq_aggctx_t *a)
{
	uint32_t i;

	weft_expr_free_array(a->keys_raw, a->nkeys);
	free(a->keytypes);
	for (i = 0; i < a->naggs; i++) {
		wq_agg_free_args(&a->aggs[i]);
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
		WQ_ERR(b, err, e->location - 1,
		       "argument of %s must be type "
		       "bigint, not type %s",
		       what, weft_sqltype_name(e->type));
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
		if (rt->val &&
		    rt->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
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

/* Direction and NULLS placement of an ORDER BY item (PostgreSQL's
 * default: NULLS LAST ascending, NULLS FIRST descending). */
static void
wq_sortkey_dir(const PgQuery__SortBy *sb, wq_sortkey_t *k)
{
	k->desc = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
	k->nulls_first =
	    sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
	    (k->desc &&
	     sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST);
}

/* LIMIT and OFFSET of s over *p: a LIMIT node when either says
 * something; with estimate, its row estimate is capped by the limit. */
static int
wq_bind_limit(wq_bindctx_t *b, PgQuery__SelectStmt *s, wq_plan_t **p,
	      bool estimate, weft_err_t *err)
{
	int64_t lim, off;
	wq_plan_t *n;
	int rc;

	rc = wq_limit_value(b, s->limit_count, "LIMIT", &lim, err);
	if (rc == 0)
		rc = wq_limit_value(b, s->limit_offset, "OFFSET", &off, err);
	if (rc != 0 || (lim < 0 && off <= 0))
		return rc;
	n = wq_plan_same(WQ_LIMIT, *p);
	if (n == NULL)
		return wq_oom_rc(b, err);
	*p = n;
	n->limit = lim;
	n->offset = off > 0 ? off : 0;
	if (estimate && lim >= 0 && lim < n->rows)
		n->rows = (double)lim;
	return 0;
}

/* ---- set operations ---- */

/* The common type of two UNION columns; WEFT_S_NULL if none. */
weft_sqltype_t
wq_union_type(weft_sqltype_t a, weft_sqltype_t b)
{
	static const int rank[] = {[WEFT_S_INT32] = 1,
				   [WEFT_S_INT64] = 2,
				   [WEFT_S_NUMERIC] = 3,
				   [WEFT_S_FLOAT64] = 4};

	if (a == b)
		return a == WEFT_S_UNKNOWN ? WEFT_S_TEXT : a;
	if (a == WEFT_S_NULL || a == WEFT_S_UNKNOWN)
		return b == WEFT_S_UNKNOWN || b == WEFT_S_NULL ? WEFT_S_TEXT
							       : b;
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
int
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

/* The output column an ORDER BY item of a set operation names: an
 * ordinal or an output column name, nothing else. */
static int
wq_setop_sortcol(wq_bindctx_t *b, const wq_plan_t *q, const pgn_t *x,
		 uint32_t *col, weft_err_t *err)
{
	uint32_t k;

	if (x && x->node_case == PG_QUERY__NODE__NODE_A_CONST &&
	    x->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
		int v = x->a_const->ival->ival;

		if (v < 1 || (uint32_t)v > q->ncols) {
			WQ_ERR(b, err, x->a_const->location,
			       "ORDER BY position "
			       "%d is not in select list",
			       v);
			return WEFT_EINVAL;
		}
		*col = (uint32_t)v - 1;
		return 0;
	}
	if (x && x->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
	    x->column_ref->n_fields == 1 &&
	    x->column_ref->fields[0]->node_case ==
		PG_QUERY__NODE__NODE_STRING) {
		const char *nm = x->column_ref->fields[0]->string->sval;

		for (k = 0; k < q->ncols; k++)
			if (strcmp(q->names[k], nm) == 0) {
				*col = k;
				return 0;
			}
		WQ_ERR(b, err, x->column_ref->location,
		       "column \"%s\" does not exist", nm);
		return WEFT_EINVAL;
	}
	WQ_ERR(b, err, -1, "invalid UNION/INTERSECT/EXCEPT ORDER BY clause");
	return WEFT_EINVAL;
}

int
wq_bind_setop_order(wq_bindctx_t *b, PgQuery__SelectStmt *s, wq_plan_t **p,
		    weft_err_t *err)
{
	wq_plan_t *q = *p;
	size_t i;
	int rc;

	if (s->n_sort_clause > 0) {
		q = wq_plan_same(WQ_SORT, q);
		if (q == NULL)
			return wq_oom_rc(b, err);
		*p = q;
		q->sort = calloc(s->n_sort_clause, sizeof(*q->sort));
		if (q->sort == NULL)
			return wq_oom_rc(b, err);
	}
	for (i = 0; i < s->n_sort_clause; i++) {
		PgQuery__SortBy *sb;

		if (s->sort_clause[i]->node_case !=
		    PG_QUERY__NODE__NODE_SORT_BY) {
			WQ_ERR(b, err, -1,
			       "invalid UNION/INTERSECT/EXCEPT "
			       "ORDER BY clause");
			return WEFT_EINVAL;
		}
		sb = s->sort_clause[i]->sort_by;
		rc = wq_setop_sortcol(b, q, sb->node, &q->sort[i].col, err);
		if (rc != 0)
			return rc;
		if (sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING) {
			WQ_UNSUP(b, err, sb->location, "ORDER BY USING");
			return WEFT_EINVAL;
		}
		wq_sortkey_dir(sb, &q->sort[i]);
		q->nsort++;
	}
	return wq_bind_limit(b, s, p, false, err);
}

/* ---- a SELECT's clauses (wq_bind_select runs them in this order) ---- */

int
wq_select_where(wq_select_t *q)
{
	weft_expr_t *w;
	wq_plan_t *n;

	if (q->s->where_clause == NULL)
		return 0;
	q->ec.what = "WHERE";
	w = wq_cond(&q->ec, q->s->where_clause, "WHERE");
	q->ec.what = NULL;
	if (w == NULL)
		return wq_rc(q->err);
	n = wq_plan_same(WQ_FILTER, q->p);
	if (n == NULL) {
		weft_expr_free(w);
		return wq_oom_rc(q->b, q->err);
	}
	n->pred = w;
	q->p = n;
	return 0;
}

/* The output names of s's select items, for GROUP BY names and
 * ordinals (expressions left NULL). */
static int
wq_target_names(const PgQuery__SelectStmt *s, wq_sel_t *names)
{
	size_t t;

	for (t = 0; t < s->n_target_list; t++) {
		PgQuery__ResTarget *rt;

		if (s->target_list[t]->node_case !=
		    PG_QUERY__NODE__NODE_RES_TARGET)
			continue;
		rt = s->target_list[t]->res_target;
		if (wq_sel_add(names, NULL,
			       rt->name && *rt->name
				   ? rt->name
				   : wq_colname(rt->val)) != 0)
			return WEFT_ENOMEM;
	}
	return 0;
}

/* The parse node a GROUP BY item means: a select item when it names or
 * numbers one (ordinals and output names refer to select items), else
 * itself. */
static int
wq_group_target(wq_select_t *q, pgn_t **g)
{
	wq_sel_t names = {0};
	pgn_t *tn;
	int ti;

	if (wq_target_names(q->s, &names) != 0) {
		wq_sel_free(&names);
		return wq_oom_rc(q->b, q->err);
	}
	ti = wq_target_ref(q->b, q->s, *g, "GROUP BY", &q->scope, true, &names,
			   q->err);
	wq_sel_free(&names);
	if (ti == -2)
		return WEFT_EINVAL;
	if (ti < 0)
		return 0;
	tn = wq_target_node(q->s, (uint32_t)ti);
	if (tn == NULL) {
		WQ_UNSUP(q->b, q->err, -1, "GROUP BY of *");
		return WEFT_EINVAL;
	}
	*g = tn;
	return 0;
}

/* One GROUP BY key: bound as written (for matching select items
 * against it) and resolved (unknown literals as text). */
static int
wq_group_key(wq_select_t *q, pgn_t *g)
{
	wq_aggctx_t *ac = &q->ac;
	weft_expr_t *raw, *res;
	int rc;

	if (g->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) {
		WQ_UNSUP(q->b, q->err, g->grouping_set->location,
			 "GROUPING SETS/ROLLUP/CUBE");
		return WEFT_EINVAL;
	}
	rc = wq_group_target(q, &g);
	if (rc != 0)
		return rc;
	q->ec.what = "GROUP BY";
	raw = wq_bx(&q->ec, g);
	q->ec.what = NULL;
	if (raw == NULL)
		return wq_rc(q->err);
	res = weft_expr_copy(raw);
	if (res == NULL) {
		weft_expr_free(raw);
		return wq_oom_rc(q->b, q->err);
	}
	if (weft_expr_resolve(&res, q->err) != 0 ||
	    (res->type == WEFT_S_UNKNOWN &&
	     wq_coerce(&q->ec, &res, WEFT_S_TEXT) != 0)) {
		weft_expr_free(raw);
		weft_expr_free(res);
		return wq_rc(q->err);
	}
	ac->keys_raw[ac->nkeys] = raw;
	ac->keytypes[ac->nkeys] = res->type;
	q->gkeys[ac->nkeys] = res;
	ac->nkeys++;
	return 0;
}

int
wq_select_group(wq_select_t *q)
{
	PgQuery__SelectStmt *s = q->s;
	size_t k;
	int rc;

	q->agg = s->n_group_clause > 0 || wq_has_agg(s->having_clause, 0);
	for (k = 0; !q->agg && k < s->n_target_list; k++)
		q->agg = wq_has_agg(s->target_list[k], 0);
	for (k = 0; !q->agg && k < s->n_sort_clause; k++)
		q->agg = wq_has_agg(s->sort_clause[k], 0);
	if (!q->agg)
		return 0;
	q->ac.keys_raw = calloc(s->n_group_clause + 1, sizeof(*q->gkeys));
	q->ac.keytypes = calloc(s->n_group_clause + 1, sizeof(*q->ac.keytypes));
	q->gkeys = calloc(s->n_group_clause + 1, sizeof(*q->gkeys));
	if (!q->ac.keys_raw || !q->ac.keytypes || !q->gkeys)
		return wq_oom_rc(q->b, q->err);
	for (k = 0; k < s->n_group_clause; k++) {
		rc = wq_group_key(q, s->group_clause[k]);
		if (rc != 0)
			return rc;
	}
	q->ec.agg = &q->ac;
	return 0;
}

/* Column sc of a `*` in an aggregate query: it must be a group key
 * (then it is that key), else the error PostgreSQL gives. */
static weft_expr_t *
wq_star_key(wq_select_t *q, const wq_scol_t *sc, int loc)
{
	weft_expr_t *e = weft_expr_col(sc->idx, sc->type, 0);
	uint32_t g;

	if (e == NULL)
		return WQ_OOM(q->b, q->err);
	for (g = 0; g < q->ac.nkeys; g++)
		if (weft_expr_equal(e, q->ac.keys_raw[g])) {
			weft_expr_free(e);
			e = weft_expr_col(g, q->ac.keytypes[g], 0);
			return e ? e : WQ_OOM(q->b, q->err);
		}
	weft_expr_free(e);
	return WQ_ERR(q->b, q->err, loc,
		      "column \"%s.%s\" must appear in the "
		      "GROUP BY clause or be used in an aggregate function",
		      sc->rel ? sc->rel : "?", sc->name);
}

/* `*` or `rel.*`: every column of the scope (of rel) that * shows. */
static int
wq_select_star(wq_select_t *q, PgQuery__ColumnRef *cr)
{
	const char *rel = NULL;
	uint32_t cnt = 0, i;
	weft_expr_t *e;

	if (cr->n_fields > 2) {
		WQ_UNSUP(q->b, q->err, cr->location, "schema-qualified *");
		return WEFT_EINVAL;
	}
	if (cr->n_fields == 2) {
		if (cr->fields[0]->node_case != PG_QUERY__NODE__NODE_STRING) {
			WQ_UNSUP(q->b, q->err, cr->location, "*");
			return WEFT_EINVAL;
		}
		rel = cr->fields[0]->string->sval;
	}
	if (rel == NULL && q->s->n_from_clause == 0) {
		WQ_ERR(q->b, q->err, cr->location,
		       "SELECT * with no tables "
		       "specified is not valid");
		return WEFT_EINVAL;
	}
	for (i = 0; i < q->scope.n; i++) {
		const wq_scol_t *sc = &q->scope.c[i];

		if (rel ? (sc->rel == NULL || strcmp(sc->rel, rel) != 0)
			: sc->nostar)
			continue;
		cnt++;
		if (q->ec.agg == NULL) {
			e = weft_expr_col(sc->idx, sc->type, cr->location + 1);
			if (e == NULL)
				return wq_oom_rc(q->b, q->err);
		} else if ((e = wq_star_key(q, sc, cr->location)) == NULL) {
			return wq_rc(q->err);
		}
		if (wq_sel_add(&q->sel, e, sc->name) != 0) {
			weft_expr_free(e);
			return wq_oom_rc(q->b, q->err);
		}
	}
	if (rel != NULL && cnt == 0) {
		WQ_ERR(q->b, q->err, cr->location,
		       "missing FROM-clause entry "
		       "for table \"%s\"",
		       rel);
		return WEFT_EINVAL;
	}
	return 0;
}

/* Is the select item `*` or `rel.*`? */
static bool
wq_is_star(const PgQuery__ResTarget *rt)
{
	const PgQuery__ColumnRef *cr;

	if (rt->val == NULL ||
	    rt->val->node_case != PG_QUERY__NODE__NODE_COLUMN_REF)
		return false;
	cr = rt->val->column_ref;
	return cr->n_fields > 0 && cr->fields[cr->n_fields - 1]->node_case ==
				       PG_QUERY__NODE__NODE_A_STAR;
}

int
wq_select_targets(wq_select_t *q)
{
	PgQuery__SelectStmt *s = q->s;
	weft_expr_t *e;
	size_t k;
	int rc;

	for (k = 0; k < s->n_target_list; k++) {
		PgQuery__ResTarget *rt;

		if (s->target_list[k]->node_case !=
		    PG_QUERY__NODE__NODE_RES_TARGET)
			continue;
		rt = s->target_list[k]->res_target;
		if (rt->n_indirection) {
			WQ_UNSUP(q->b, q->err, rt->location, "indirection");
			return WEFT_EINVAL;
		}
		if (wq_is_star(rt)) {
			rc = wq_select_star(q, rt->val->column_ref);
			if (rc != 0)
				return rc;
			continue;
		}
		e = wq_expr(&q->ec, rt->val);
		if (e == NULL)
			return wq_rc(q->err);
		if (wq_sel_add(&q->sel, e,
			       rt->name && *rt->name
				   ? rt->name
				   : wq_colname(rt->val)) != 0) {
			weft_expr_free(e);
			return wq_oom_rc(q->b, q->err);
		}
	}
	if (!q->keep_unknown) {
		rc = wq_sel_resolve_unknown(&q->ec, &q->sel);
		if (rc != 0)
			return rc;
	}
	q->nvisible = q->sel.n;
	return 0;
}

int
wq_select_having(wq_select_t *q)
{
	if (q->s->having_clause == NULL)
		return 0;
	if (!q->agg) {
		WQ_ERR(q->b, q->err, -1, "HAVING without aggregation");
		return WEFT_EINVAL;
	}
	q->having = wq_cond(&q->ec, q->s->having_clause, "HAVING");
	return q->having ? 0 : wq_rc(q->err);
}

/* The select item ORDER BY expression x sorts by: an existing one
 * (equal expression), else a hidden item added for it (not allowed with
 * DISTINCT). */
static int
wq_order_expr(wq_select_t *q, PgQuery__SortBy *sb, int *ti)
{
	weft_expr_t *e = wq_expr(&q->ec, sb->node);
	uint32_t i;

	if (e == NULL)
		return wq_rc(q->err);
	if (e->type == WEFT_S_UNKNOWN)
		(void)wq_coerce(&q->ec, &e, WEFT_S_TEXT);
	for (i = 0; i < q->sel.n; i++)
		if (weft_expr_equal(e, q->sel.e[i]))
			break;
	if (i < q->sel.n) {
		weft_expr_free(e);
		*ti = (int)i;
		return 0;
	}
	if (q->s->n_distinct_clause > 0) {
		weft_expr_free(e);
		WQ_ERR(q->b, q->err, sb->location,
		       "for SELECT DISTINCT, ORDER "
		       "BY expressions must appear in select list");
		return WEFT_EINVAL;
	}
	if (wq_sel_add(&q->sel, e, "?sort?") != 0) {
		weft_expr_free(e);
		return wq_oom_rc(q->b, q->err);
	}
	*ti = (int)q->sel.n - 1;
	return 0;
}

/* ORDER BY: keys over the select items (an output name or ordinal, an
 * item's expression, or a hidden item); before the aggregation node,
 * since ORDER BY may add aggregates. */
int
wq_select_order(wq_select_t *q)
{
	PgQuery__SelectStmt *s = q->s;
	size_t k;
	int ti, rc;

	if (s->n_sort_clause > 0) {
		q->sk = calloc(s->n_sort_clause, sizeof(*q->sk));
		if (q->sk == NULL)
			return wq_oom_rc(q->b, q->err);
	}
	for (k = 0; k < s->n_sort_clause; k++) {
		PgQuery__SortBy *sb;
		wq_sel_t vis = q->sel;

		if (s->sort_clause[k]->node_case !=
		    PG_QUERY__NODE__NODE_SORT_BY)
			continue;
		sb = s->sort_clause[k]->sort_by;
		if (sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING) {
			WQ_UNSUP(q->b, q->err, sb->location, "ORDER BY USING");
			return WEFT_EINVAL;
		}
		vis.n = q->nvisible;
		ti = wq_target_ref(q->b, s, sb->node, "ORDER BY", &q->scope,
				   false, &vis, q->err);
		if (ti == -2)
			return WEFT_EINVAL;
		if (ti < 0 && (rc = wq_order_expr(q, sb, &ti)) != 0)
			return rc;
		q->sk[q->nsk].col = (uint32_t)ti;
		wq_sortkey_dir(sb, &q->sk[q->nsk]);
		q->nsk++;
	}
	return 0;
}

/* The aggregation node (keys, then aggregates), then HAVING over it. */
int
wq_select_aggregate(wq_select_t *q)
{
	wq_aggctx_t *ac = &q->ac;
	wq_plan_t *n;
	uint32_t i;

	if (q->agg) {
		n = wq_plan_new(WQ_AGG);
		if (n == NULL || wq_plan_shape(n, ac->nkeys + ac->naggs) != 0) {
			wq_plan_free(n);
			return wq_oom_rc(q->b, q->err);
		}
		for (i = 0; i < ac->nkeys; i++) {
			char nm[32];

			snprintf(nm, sizeof(nm), "key%u", i);
			n->types[i] = ac->keytypes[i];
			n->names[i] = strdup(nm);
		}
		for (i = 0; i < ac->naggs; i++) {
			n->types[ac->nkeys + i] = ac->aggs[i].type;
			n->names[ac->nkeys + i] =
			    strdup(wq_agg_name(ac->aggs[i].fn));
		}
		n->l = q->p;
		q->p = n;
		n->rows = ac->nkeys ? n->l->rows / 10 + 1 : 1;
		n->aggmode = WQ_AGG_COMPLETE;
		n->nkeys = ac->nkeys;
		n->keys = q->gkeys;
		q->gkeys = NULL;
		n->aggs = calloc(ac->naggs + 1, sizeof(*n->aggs));
		if (n->aggs == NULL)
			return wq_oom_rc(q->b, q->err);
		n->naggs = ac->naggs;
		for (i = 0; i < ac->naggs; i++) {
			n->aggs[i] = ac->aggs[i];
			ac->aggs[i].arg = NULL;
			ac->aggs[i].more = NULL;
		}
		for (i = 0; i < ac->nkeys + ac->naggs; i++)
			if (n->names[i] == NULL)
				return wq_oom_rc(q->b, q->err);
	}
	if (q->having != NULL) {
		n = wq_plan_same(WQ_FILTER, q->p);
		if (n == NULL)
			return wq_oom_rc(q->b, q->err);
		n->pred = q->having;
		q->having = NULL;
		q->p = n;
	}
	return 0;
}

/* The projection of the select list (hidden ORDER BY items too), then
 * DISTINCT and the sort. */
int
wq_select_project(wq_select_t *q)
{
	PgQuery__SelectStmt *s = q->s;
	wq_plan_t *n;
	uint32_t i;

	n = wq_plan_project(q->p, q->sel.n, q->sel.e, q->sel.names);
	if (n == NULL)
		return wq_oom_rc(q->b, q->err);
	q->p = n;
	for (i = 0; i < q->sel.n; i++) /* the projection has the exprs */
		free(q->sel.names[i]);
	free(q->sel.names);
	memset(&q->sel, 0, sizeof(q->sel));
	if (s->n_distinct_clause > 0) {
		if (!(s->n_distinct_clause == 1 &&
		      s->distinct_clause[0] == NULL) &&
		    !(s->n_distinct_clause == 1 &&
		      s->distinct_clause[0]->node_case == 0)) {
			WQ_UNSUP(q->b, q->err, -1, "DISTINCT ON");
			return WEFT_EINVAL;
		}
		n = wq_plan_same(WQ_DISTINCT, q->p);
		if (n == NULL)
			return wq_oom_rc(q->b, q->err);
		q->p = n;
	}
	if (q->nsk > 0) {
		n = wq_plan_same(WQ_SORT, q->p);
		if (n == NULL)
			return wq_oom_rc(q->b, q->err);
		q->p = n;
		n->sort = q->sk;
		n->nsort = q->nsk;
		q->sk = NULL;
	}
	return 0;
}

/* LIMIT / OFFSET, then a projection that drops the hidden ORDER BY
 * items. */
int
wq_select_finish(wq_select_t *q)
{
	weft_expr_t **ex;
	wq_plan_t *n;
	uint32_t i;
	int rc;

	rc = wq_bind_limit(q->b, q->s, &q->p, true, q->err);
	if (rc != 0 || q->p->ncols <= q->nvisible)
		return rc;
	ex = calloc(q->nvisible + 1, sizeof(*ex));
	if (ex == NULL)
		return wq_oom_rc(q->b, q->err);
	for (i = 0; i < q->nvisible; i++) {
		ex[i] = weft_expr_col(i, q->p->types[i], 0);
		if (ex[i] == NULL)
			break;
	}
	n = i < q->nvisible
		? NULL
		: wq_plan_project(q->p, q->nvisible, ex, q->p->names);
	if (n == NULL) {
		weft_expr_free_array(ex, q->nvisible);
		return wq_oom_rc(q->b, q->err);
	}
	q->p = n;
	return 0;
}
