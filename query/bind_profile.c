/*
 * bind_profile.c: `SELECT weft_profile(*) FROM ... [WHERE ...]`, the
 * profile of every column of its FROM (query/profile.c), as `weft
 * profile` asks it. The planner moves the profile into the scan's
 * fragment when FROM is one product (plan.c, wq_frag_profile), so a
 * remote product is profiled by its owner, under the asker's grant;
 * over anything else it profiles the rows that arrive.
 */
#include <string.h>

#include "query/bind.h"

/* The select list's one item, when it is a call of weft_profile. */
static const PgQuery__FuncCall *
wq_profile_call(const PgQuery__SelectStmt *s)
{
	const PgQuery__ResTarget *rt;
	const PgQuery__FuncCall *f;
	const PgQuery__Node *last;

	if (s->n_target_list != 1 ||
	    s->target_list[0]->node_case != PG_QUERY__NODE__NODE_RES_TARGET)
		return NULL;
	rt = s->target_list[0]->res_target;
	if (rt->val == NULL ||
	    rt->val->node_case != PG_QUERY__NODE__NODE_FUNC_CALL)
		return NULL;
	f = rt->val->func_call;
	if (f->n_funcname == 0)
		return NULL;
	last = f->funcname[f->n_funcname - 1];
	if (last->node_case != PG_QUERY__NODE__NODE_STRING ||
	    strcmp(last->string->sval, "weft_profile") != 0)
		return NULL;
	return f;
}

bool
wq_is_profile(const PgQuery__SelectStmt *s)
{
	return wq_profile_call(s) != NULL;
}

int
wq_bind_profile(wq_select_t *q)
{
	const PgQuery__SelectStmt *s = q->s;
	const PgQuery__FuncCall *f = wq_profile_call(s);
	const char *what = NULL;
	const char *names[WQ_PROF_NCOLS];
	wq_plan_t *p;
	uint32_t i;

	if (!f->agg_star || f->n_args || f->agg_distinct || f->n_agg_order ||
	    f->agg_filter || f->over) {
		WQ_ERR(q->b, q->err, f->location,
		       "weft_profile takes * (every column of FROM)");
		return q->err->code;
	}
	if (s->n_group_clause)
		what = "GROUP BY";
	else if (s->having_clause)
		what = "HAVING";
	else if (s->n_sort_clause)
		what = "ORDER BY";
	else if (s->limit_count || s->limit_offset)
		what = "LIMIT/OFFSET";
	else if (s->n_distinct_clause)
		what = "DISTINCT";
	else if (s->n_window_clause)
		what = "WINDOW";
	if (what != NULL) {
		WQ_ERR(q->b, q->err, f->location,
		       "weft_profile(*) takes no %s: profile a subquery "
		       "instead",
		       what);
		return q->err->code;
	}
	if (q->p->ncols == 0 || q->p->ncols > WQ_COLS_MAX) {
		WQ_ERR(q->b, q->err, f->location,
		       "weft_profile(*) of %u columns", q->p->ncols);
		return q->err->code;
	}
	p = wq_plan_new(WQ_PROFILE);
	if (p == NULL || wq_plan_shape(p, WQ_PROF_NCOLS) != 0) {
		wq_plan_free(p);
		return wq_oom_rc(q->b, q->err);
	}
	wq_prof_types(p->types, names);
	for (i = 0; i < WQ_PROF_NCOLS; i++)
		if ((p->names[i] = strdup(names[i])) == NULL) {
			wq_plan_free(p);
			return wq_oom_rc(q->b, q->err);
		}
	p->l = q->p;
	p->rows = 64.0 * q->p->ncols;
	q->p = p;
	return 0;
}
