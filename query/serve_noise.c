/*
 * serve_noise.c: the noise rule of a grant (docs/policy.md, "Noise") on
 * an aggregating fragment, at the owner.
 *
 * The Laplace mechanism over the states the owner sends for each group:
 * a count changes by at most 1 when one row is added or removed, a sum
 * by at most max(|lo|, |hi|) once every value is clamped to the column's
 * declared bounds [lo, hi]. The grant's ε is split evenly over the
 * states of one group (count: one; sum: one; avg: its sum and its
 * count), each noised with Laplace(sensitivity / share). Groups are
 * disjoint, so the whole answer costs ε (parallel composition), which
 * is charged to the asking org's budget of the period before the
 * fragment runs, and refused when the budget cannot pay it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "query/qint.h"
#include "query/serve.h"
#include "storage/budget.h"
#include "storage/policy.h"

/* The bound of the grant on column `name`, or NULL. */
static const Weft__PolicyBound *
sn_bound(const Weft__PolicyGrant *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->noise->n_bounds; i++)
		if (strcasecmp(g->noise->bounds[i]->column, name) == 0)
			return g->noise->bounds[i];
	return NULL;
}

/* A constant of type t (int64: lo rounded up, hi down, to stay inside
 * the bounds; else float). */
static weft_expr_t *
sn_const(weft_sqltype_t t, double x, bool up)
{
	weft_value_t v = {.type = WEFT_S_FLOAT64};

	if (t == WEFT_S_INT64) {
		x = up ? ceil(x) : floor(x);
		if (x > 9.2e18)
			x = 9.2e18;
		if (x < -9.2e18)
			x = -9.2e18;
		return weft_expr_int((int64_t)x, WEFT_S_INT64, 0);
	}
	v.u.f = x;
	return weft_expr_const(&v, 0);
}

/* *arg clamped: CASE WHEN a < lo THEN lo WHEN a > hi THEN hi ELSE a
 * END, of a's type. */
static int
sn_clamp(weft_expr_t **arg, double lo, double hi, weft_err_t *err)
{
	weft_sqltype_t t = (*arg)->type;
	weft_expr_t *a[5], *c[2], *e;

	c[0] = weft_expr_copy(*arg);
	c[1] = sn_const(t, lo, true);
	a[0] = weft_expr_node(WEFT_E_OP, WEFT_OP_LT, 0, 2, c, 0);
	a[1] = sn_const(t, lo, true);
	c[0] = weft_expr_copy(*arg);
	c[1] = sn_const(t, hi, false);
	a[2] = weft_expr_node(WEFT_E_OP, WEFT_OP_GT, 0, 2, c, 0);
	a[3] = sn_const(t, hi, false);
	a[4] = weft_expr_copy(*arg);
	if (!a[0] || !a[1] || !a[2] || !a[3] || !a[4]) {
		int i;

		for (i = 0; i < 5; i++)
			weft_expr_free(a[i]);
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	e = weft_expr_node(WEFT_E_CASE, 0, WEFT_EF_CASE_ELSE, 5, a, 0);
	if (e == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	if (weft_expr_resolve(&e, err) != 0) {
		weft_expr_free(e);
		return err->code ? err->code : WEFT_EINVAL;
	}
	if (e->type != t) {
		weft_expr_free(e);
		return weft_err_set(err, WEFT_EINVAL,
				    "noise: clamping changed a type");
	}
	weft_expr_free(*arg);
	*arg = e;
	return 0;
}

/* The product column an aggregate's argument reads, when it is one
 * column as it is (through a projection of it); else NULL. */
static const char *
sn_column(const wq_frag_t *f, const weft_product_info_t *pi,
	  const weft_expr_t *arg)
{
	uint32_t c;

	if (arg == NULL || arg->kind != WEFT_E_COL)
		return NULL;
	c = arg->col;
	if (f->nproj > 0) {
		if (c >= f->nproj || f->proj[c]->kind != WEFT_E_COL)
			return NULL;
		c = f->proj[c]->col;
	}
	if (c >= f->ncols || f->cols[c] >= pi->ncols)
		return NULL;
	return pi->cols[f->cols[c]].name;
}

int
wq_policy_noise(wq_frag_t *f, const weft_product_info_t *pi,
		const Weft__PolicyGrant *g, const weft_asker_t *asker,
		wq_gate_t *gate, weft_err_t *err)
{
	const Weft__PolicyNoise *nz = g->noise;
	double *sens = NULL, spent = 0;
	uint32_t i, k = 0, nstates = 0;
	uint32_t n = f->naggs - (gate->entity ? 2 : 1); /* not the hidden */
	int64_t period;
	int rc = 0;

	if (!gate->on || f->naggs == 0)
		return weft_err_set(err, WEFT_EINVAL, "noise without a gate");
	if (asker->st == NULL)
		return weft_err_set(err, WEFT_EDENIED,
				    "%s: noise, and this node keeps no "
				    "budgets",
				    f->product);
	nstates = wq_aggs_nstate(f->aggs, n);
	sens = calloc(nstates + 1, sizeof(*sens));
	if (sens == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (i = 0; i < n && rc == 0; i++) {
		wq_agg_t *a = &f->aggs[i];
		const Weft__PolicyBound *b;
		const char *col;

		if (a->fn == WQ_AGG_COUNT_STAR || a->fn == WQ_AGG_COUNT) {
			sens[k++] = 1;
			continue;
		}
		if (a->fn != WQ_AGG_SUM && a->fn != WQ_AGG_AVG) {
			rc = weft_err_set(
			    err, WEFT_EDENIED,
			    "%s: the grant at line %u adds noise, "
			    "which %s cannot take: count, sum "
			    "and avg only",
			    f->product, g->line, wq_agg_name(a->fn));
			break;
		}
		col = sn_column(f, pi, a->arg);
		b = col ? sn_bound(g, col) : NULL;
		if (b == NULL) {
			rc = weft_err_set(
			    err, WEFT_EDENIED,
			    "%s: the grant at line %u adds noise: %s() must be "
			    "of a column the grant bounds (%s)",
			    f->product, g->line, wq_agg_name(a->fn),
			    col ? col : "an expression");
			break;
		}
		rc = sn_clamp(&a->arg, b->lo, b->hi, err);
		sens[k++] = fmax(fabs(b->lo), fabs(b->hi));
		if (a->fn == WQ_AGG_AVG)
			sens[k++] = 1;
	}
	if (rc == 0) {
		period = weft_budget_period(nz->per, asker->now_us);
		rc = period < 0
			 ? weft_err_set(err, WEFT_EDENIED,
					"noise: period \"%s\"", nz->per)
			 : weft_budget_spend(
			       asker->st, f->product,
			       asker->who.org ? asker->who.org : "", period,
			       nz->epsilon, nz->budget, &spent, err);
	}
	if (rc != 0) {
		free(sens);
		return rc;
	}
	for (i = 0; i < nstates; i++)
		sens[i] /= nz->epsilon / nstates; /* the scale of each */
	gate->scale = sens;
	gate->nscale = nstates;
	gate->eps = nz->epsilon;
	return 0;
}
