/*
 * plan_union.c: aggregation below UNION ALL. One model fitted over the
 * same-shaped products of several nodes,
 *
 *   SELECT weft_linreg(y, x) FROM (SELECT y, x FROM a.s.p1
 *                                  UNION ALL SELECT y, x FROM b.s.p2) u
 *
 * must not move their rows: each branch of the append aggregates
 * partially (in its fragment, at the owner, when the branch is a scan)
 * and the asker merges the states:
 *
 *   Final Aggregate keys [...] aggs [weft_linreg(state)]
 *     Append (UNION ALL)
 *       Remote Scan p1  partial aggregate: aggs [weft_linreg(y, x)]
 *       Remote Scan p2  partial aggregate: aggs [weft_linreg(y, x)]
 *
 * Every row of the append comes from exactly one branch, so the states
 * of the branches, folded by the same keys, are the states of the whole
 * (count, sum, avg, min, max and the statistics merge; DISTINCT
 * aggregates do not and stay above the append).
 *
 * Applied when: an aggregation (not yet split) sits directly on an
 * append (nested appends of a UNION ALL of three or more are one append
 * tree); each leaf of the tree gets the partial aggregation, which
 * wq_fragments then moves into the leaf's scan fragment where it can.
 */
#include <stdlib.h>
#include <string.h>

#include "query/qint.h"

/* Put the partial aggregation of p over every leaf under *pp (an append
 * tree); the appends take the partial rows' shape. */
static int
wq_union_leaves(const wq_plan_t *p, wq_plan_t **pp)
{
	wq_plan_t *c = *pp, *pa;
	int rc;

	if (c->kind == WQ_APPEND) {
		if ((rc = wq_union_leaves(p, &c->l)) != 0 ||
		    (rc = wq_union_leaves(p, &c->r)) != 0)
			return rc;
		wq_plan_unshape(c);
		c->rows = c->l->rows + c->r->rows;
		return wq_plan_shape_of(c, c->l);
	}
	pa = wq_agg_partial(p, c, p->keys, p->nkeys, 0, "key");
	if (pa == NULL)
		return WEFT_ENOMEM;
	*pp = pa;
	return 0;
}

/* Rewrite AGG p over an append into FINAL over partials below it. */
static int
wq_union_apply(wq_plan_t *p)
{
	uint32_t i;
	int rc;

	if (p->nkeys + wq_aggs_nstate(p->aggs, p->naggs) > WQ_COLS_MAX)
		return 0; /* too wide: leave the plan as it is */
	if ((rc = wq_union_leaves(p, &p->l)) != 0)
		return rc;
	for (i = 0; i < p->nkeys; i++) {
		weft_expr_t *k = weft_expr_col(i, p->keys[i]->type, 0);

		if (k == NULL)
			return WEFT_ENOMEM;
		weft_expr_free(p->keys[i]);
		p->keys[i] = k;
	}
	for (i = 0; i < p->naggs; i++)
		wq_agg_free_args(&p->aggs[i]); /* nmore stays: the states */
	p->aggmode = WQ_AGG_FINAL;
	return 0;
}

int
wq_union_agg(wq_plan_t *p)
{
	uint32_t i;
	int rc;

	if (p == NULL)
		return 0;
	if ((rc = wq_union_agg(p->l)) != 0 || (rc = wq_union_agg(p->r)) != 0)
		return rc;
	if (p->kind != WQ_AGG || p->aggmode != WQ_AGG_COMPLETE ||
	    p->l == NULL || p->l->kind != WQ_APPEND || p->naggs == 0)
		return 0;
	for (i = 0; i < p->naggs; i++)
		if (p->aggs[i].distinct)
			return 0;
	return wq_union_apply(p);
}
