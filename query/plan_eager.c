/*
 * plan_eager.c: aggregation below joins ("eager aggregation", Yan and
 * Larson, VLDB 1995), for the federated case of issue #8:
 *
 *   SELECT r.state, sum(f.delay) FROM flights f JOIN airports r
 *     ON f.origin = r.code GROUP BY r.state
 *
 * When flights lives on another node, its owner can group by the join
 * key first and send one row per origin instead of one per flight:
 *
 *   Final Aggregate keys [state]
 *     Project [r.state, states...]
 *       Join f.origin = r.code
 *         Remote Scan flights  partial aggregate: keys [origin] aggs
 * [sum(delay)] Scan airports
 *
 * Each partial row stands for all the rows of its join key, and joins
 * with every match as each of those rows would have, so folding the
 * partial states by the final keys gives the same answer (count, sum,
 * avg, min and max have such states; DISTINCT aggregates do not).
 *
 * Applied when: an aggregation (not yet split) sits directly on an inner
 * equi-join without a residual condition; one side is a scan of a
 * product on another node (possibly under a projection); every aggregate
 * reads only that side's columns and every group key only the other
 * side's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/qint.h"

/* Whether every column e reads is in [lo, hi). */
static bool
wq_cols_in(const weft_expr_t *e, uint32_t lo, uint32_t hi)
{
	uint32_t i;

	if (e == NULL)
		return true;
	if (e->kind == WEFT_E_COL && (e->col < lo || e->col >= hi))
		return false;
	for (i = 0; i < e->nargs; i++)
		if (!wq_cols_in(e->args[i], lo, hi))
			return false;
	return true;
}

static void
wq_cols_add(weft_expr_t *e, int64_t d)
{
	uint32_t i;

	if (e->kind == WEFT_E_COL)
		e->col = (uint32_t)((int64_t)e->col + d);
	for (i = 0; i < e->nargs; i++)
		wq_cols_add(e->args[i], d);
}

/* A scan of a remote product, or a projection of one. */
static bool
wq_remote_side(const wq_plan_t *s)
{
	if (s->kind == WQ_PROJECT && s->l != NULL)
		s = s->l;
	return s->kind == WQ_SCAN && s->remote != NULL && s->frag != NULL &&
	       !s->frag->agg && s->frag->limit < 0;
}

/* Which side of join j the aggregation p can run below: 0 left, 1 right,
 * -1 neither. */
static int
wq_eager_side(const wq_plan_t *p, const wq_plan_t *j)
{
	uint32_t nl = j->l->ncols, nt = j->ncols, i, k, side;

	if (j->kind != WQ_JOIN || j->jtype != WQ_JOIN_INNER || j->njkeys == 0 ||
	    j->resid != NULL || p->naggs == 0)
		return -1;
	for (i = 0; i < p->naggs; i++)
		if (p->aggs[i].distinct)
			return -1;
	for (side = 0; side < 2; side++) {
		uint32_t elo = side ? nl : 0, ehi = side ? nt : nl;
		uint32_t olo = side ? 0 : nl, ohi = side ? nl : nt;
		bool fit = wq_remote_side(side ? j->r : j->l);

		for (i = 0; i < p->naggs && fit; i++)
			for (k = 0; k < wq_agg_nargs(&p->aggs[i]) && fit; k++)
				fit = wq_cols_in(wq_agg_arg(&p->aggs[i], k),
						 elo, ehi);
		for (i = 0; i < p->nkeys && fit; i++)
			fit = wq_cols_in(p->keys[i], olo, ohi);
		if (fit)
			return (int)side;
	}
	return -1;
}

wq_plan_t *
wq_agg_partial(const wq_plan_t *p, wq_plan_t *e, weft_expr_t *const *ek,
	       uint32_t n, int64_t shift, const char *kname)
{
	wq_plan_t *pa = wq_plan_new(WQ_AGG);
	uint32_t i, s, k, nstate = wq_aggs_nstate(p->aggs, p->naggs);

	if (pa == NULL || wq_plan_shape(pa, n + nstate) != 0 ||
	    (pa->keys = calloc(n + 1, sizeof(*pa->keys))) == NULL ||
	    (pa->aggs = calloc(p->naggs + 1, sizeof(*pa->aggs))) == NULL)
		goto oom;
	pa->aggmode = WQ_AGG_PARTIAL;
	for (i = 0; i < n; i++) {
		char nm[32];

		if ((pa->keys[i] = weft_expr_copy(ek[i])) == NULL)
			goto oom;
		pa->nkeys++;
		pa->types[i] = ek[i]->type;
		snprintf(nm, sizeof(nm), "%s%u", kname, i);
		if ((pa->names[i] = strdup(nm)) == NULL)
			goto oom;
	}
	for (i = 0, k = n; i < p->naggs; i++) {
		pa->aggs[i] = p->aggs[i];
		pa->naggs++; /* freed with what it holds so far */
		if (wq_agg_copy_args(&pa->aggs[i], &p->aggs[i]) != 0)
			goto oom;
		for (s = 0; s < wq_agg_nargs(&pa->aggs[i]); s++)
			wq_cols_add(wq_agg_arg(&pa->aggs[i], s), shift);
		for (s = 0; s < wq_agg_nstate(&p->aggs[i]); s++) {
			char nm[64];

			snprintf(nm, sizeof(nm), "%s_state%u",
				 wq_agg_name(p->aggs[i].fn), s);
			pa->types[k] = wq_agg_state_type(&p->aggs[i], s);
			if ((pa->names[k++] = strdup(nm)) == NULL)
				goto oom;
		}
	}
	pa->l = e;
	pa->rows = e->rows / 10 + 1;
	return pa;
oom:
	wq_plan_free(pa);
	return NULL;
}

/* Rewrite AGG p over JOIN j with the aggregation below side `side`. */
static int
wq_eager_apply(wq_plan_t *p, int side)
{
	wq_plan_t *j = p->l, *e = side ? j->r : j->l, *pa, *pr;
	weft_expr_t **ek = side ? j->rkeys : j->lkeys, **px;
	char *nm[WQ_COLS_MAX + 1];
	uint32_t nl = j->l->ncols, n = j->njkeys, i, nstate, soff;
	int64_t grow;

	pa = wq_agg_partial(p, e, ek, n, side ? -(int64_t)nl : 0, "jkey");
	if (pa == NULL)
		return WEFT_ENOMEM;
	nstate = pa->ncols - n;
	if (p->nkeys + nstate > WQ_COLS_MAX) {
		pa->l = NULL;
		wq_plan_free(pa);
		return 0; /* too wide: leave the plan as it is */
	}
	/* the join reads the partial rows: keys are its first columns */
	px = calloc(p->nkeys + nstate + 1, sizeof(*px));
	if (px == NULL) {
		pa->l = NULL;
		wq_plan_free(pa);
		return WEFT_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		weft_expr_t *c = weft_expr_col(i, ek[i]->type, 0);

		if (c == NULL)
			goto oom;
		weft_expr_free(ek[i]);
		ek[i] = c;
	}
	if (side)
		j->r = pa;
	else
		j->l = pa;
	grow = (int64_t)pa->ncols - (int64_t)e->ncols;
	wq_plan_unshape(j);
	if (wq_plan_shape(j, j->l->ncols + j->r->ncols) != 0)
		goto oom;
	for (i = 0; i < j->ncols; i++) {
		const wq_plan_t *c = i < j->l->ncols ? j->l : j->r;
		uint32_t ci = i < j->l->ncols ? i : i - j->l->ncols;

		j->types[i] = c->types[ci];
		if ((j->names[i] = strdup(c->names[ci])) == NULL)
			goto oom;
	}
	free(j->jskip);
	j->jskip = NULL;
	/* above the join: the group keys, then the states; FINAL over it */
	soff = side ? nl + n : n;
	for (i = 0; i < p->nkeys; i++) {
		px[i] = p->keys[i];
		if (!side)
			wq_cols_add(px[i], grow);
		p->keys[i] = NULL;
	}
	for (i = 0; i < nstate; i++)
		if ((px[p->nkeys + i] = weft_expr_col(
			 soff + i, j->types[soff + i], 0)) == NULL)
			goto oom;
	for (i = 0; i < p->nkeys + nstate; i++)
		nm[i] =
		    i < p->nkeys ? p->names[i] : j->names[soff + i - p->nkeys];
	pr = wq_plan_project(j, p->nkeys + nstate, px, nm);
	if (pr == NULL)
		goto oom;
	px = NULL; /* the projection's now */
	pr->rows = j->rows;
	p->l = pr;
	for (i = 0; i < p->nkeys; i++)
		if ((p->keys[i] = weft_expr_col(i, pr->types[i], 0)) == NULL)
			return WEFT_ENOMEM;
	for (i = 0; i < p->naggs; i++)
		wq_agg_free_args(
		    &p->aggs[i]); /* nmore stays: the states' shape */
	p->aggmode = WQ_AGG_FINAL;
	return 0;
oom:
	if (px != NULL)
		for (i = 0; i < p->nkeys + nstate; i++)
			if (px[i] != NULL &&
			    (i >= p->nkeys || p->keys[i] == NULL))
				weft_expr_free(px[i]);
	free(px);
	return WEFT_ENOMEM;
}

int
wq_eager_agg(wq_plan_t *p)
{
	int rc, side;

	if (p == NULL)
		return 0;
	if ((rc = wq_eager_agg(p->l)) != 0 || (rc = wq_eager_agg(p->r)) != 0)
		return rc;
	if (p->kind != WQ_AGG || p->aggmode != WQ_AGG_COMPLETE ||
	    p->l == NULL || p->l->kind != WQ_JOIN)
		return 0;
	side = wq_eager_side(p, p->l);
	return side < 0 ? 0 : wq_eager_apply(p, side);
}
