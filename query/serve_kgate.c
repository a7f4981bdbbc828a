/*
 * serve_kgate.c: the group threshold of an aggregates-only grant
 * (docs/policy.md, "Aggregates only"), at the owner, between the
 * fragment's partial aggregation and the wire.
 *
 * The owner's fragment aggregates the whole product in one pass, so each
 * output row is the one and only transition state of its group here;
 * serve_policy.c appended a count(*) to the fragment's aggregates, the
 * last output column. A group of at least k rows goes out as it is
 * (without that count). Smaller groups are folded, as they come, into
 * one remainder group whose keys are NULL (Snowflake's aggregation
 * policies), which goes out last if it holds at least k rows itself and
 * is dropped otherwise. The remainder's states are combined here
 * (WQ_AGG_COMBINE), so the asker never receives a state of fewer than k
 * rows to combine with others.
 *
 * Under a noise rule each state of each group that goes out then gets
 * its Laplace draw (scales from serve_noise.c): counts stay whole and
 * never negative, sums of bigint stay whole.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/exec.h"
#include "query/func.h"
#include "query/noise.h"
#include "query/qint.h"

struct wq_kgate {
	uint64_t k;
	uint32_t nkeys, nout; /* output columns: keys, states (no count) */
	uint32_t nhid, tcol;  /* hidden columns at the end; the threshold's */
	bool entity;
	wq_aggtab_t *rem;    /* the remainder: states -> states, no keys */
	weft_batch_t *out;   /* the groups that pass, then the remainder */
	weft_batch_t *small; /* a batch's small groups' states */
	weft_batch_t *remb;  /* the remainder's states, emitted */
	uint32_t *sel, *gids;
	uint64_t groups, suppressed;
	double *scale; /* per state column after the keys; NULL: none */
	bool *cnt;     /* which of those are counts (never below 0) */
	double eps;
	bool done;
};

void
wq_kgate_free(wq_kgate_t *g)
{
	if (g == NULL)
		return;
	wq_aggtab_free(g->rem);
	weft_batch_free(g->out);
	weft_batch_free(g->small);
	weft_batch_free(g->remb);
	free(g->sel);
	free(g->gids);
	free(g->scale);
	free(g->cnt);
	free(g);
}

/* Noise on every state of out's rows (the groups going out). */
static void
kg_noise(const wq_kgate_t *g, weft_batch_t *out)
{
	uint32_t c, i;

	if (g->scale == NULL)
		return;
	for (c = g->nkeys; c < g->nout; c++) {
		weft_vec_t *v = &out->cols[c];
		double b = g->scale[c - g->nkeys];

		if (!(b > 0))
			continue;
		for (i = 0; i < out->n; i++) {
			double x;

			if (v->nulls[i])
				continue;
			x = weft_laplace_draw(b);
			if (weft_sqltype_store(v->type) == WEFT_STORE_F64) {
				v->v.f64[i] += x;
				continue;
			}
			x = nearbyint((double)v->v.i64[i] + x);
			if (g->cnt[c - g->nkeys] && x < 0)
				x = 0;
			v->v.i64[i] = x > 9.2e18 ? INT64_C(9200000000000000000)
				      : x < -9.2e18
					  ? -INT64_C(9200000000000000000)
					  : (int64_t)x;
		}
	}
}

/* Copy the gate's noise scales, and mark which states are counts. */
static int
kg_scales(wq_kgate_t *g, const wq_frag_t *f, const wq_gate_t *gate)
{
	uint32_t i, k = 0;

	if (gate->scale == NULL)
		return 0;
	if (gate->nscale != g->nout - g->nkeys)
		return WEFT_EINVAL;
	g->scale = malloc(gate->nscale * sizeof(*g->scale));
	g->cnt = calloc(gate->nscale, sizeof(*g->cnt));
	if (g->scale == NULL || g->cnt == NULL)
		return WEFT_ENOMEM;
	memcpy(g->scale, gate->scale, gate->nscale * sizeof(*g->scale));
	for (i = 0; i + g->nhid < f->naggs && k < gate->nscale; i++) {
		int fn = f->aggs[i].fn;

		if (fn == WQ_AGG_AVG)
			k++; /* its sum; then its count */
		g->cnt[k++] = fn == WQ_AGG_COUNT || fn == WQ_AGG_COUNT_STAR ||
			      fn == WQ_AGG_AVG;
	}
	g->eps = gate->eps;
	return 0;
}

int
wq_kgate_new(const wq_frag_t *f, const wq_gate_t *gate, wq_kgate_t **out,
	     weft_err_t *err)
{
	wq_kgate_t *g = calloc(1, sizeof(*g));
	weft_sqltype_t *t = NULL;
	uint32_t n = 0;
	int rc;

	*out = NULL;
	if (g == NULL || wq_frag_types(f, &n, &t) != 0)
		goto oom;
	g->k = gate->min_group;
	g->nkeys = f->nkeys;
	if (!f->agg || f->naggs == 0 || n <= f->nkeys ||
	    t[n - 1] != WEFT_S_INT64) {
		free(t);
		wq_kgate_free(g);
		return weft_err_set(err, WEFT_EINVAL,
				    "group threshold on a fragment that does "
				    "not aggregate");
	}
	g->entity = gate->entity;
	g->nhid = gate->entity ? 2 : 1;
	if (n < f->nkeys + g->nhid || t[n - g->nhid] != WEFT_S_INT64) {
		free(t);
		wq_kgate_free(g);
		return weft_err_set(err, WEFT_EINVAL,
				    "group threshold: no hidden counts");
	}
	g->nout = n - g->nhid;
	g->tcol = n - g->nhid; /* the entity count, else count(*) */
	if (wq_aggtab_new(WQ_AGG_COMBINE, 0, NULL, f->naggs, f->aggs,
			  &g->rem) != 0 ||
	    weft_batch_new(g->nout, t, &g->out) != 0 ||
	    weft_batch_new(n - f->nkeys, t + f->nkeys, &g->small) != 0 ||
	    weft_batch_new(n - f->nkeys, t + f->nkeys, &g->remb) != 0 ||
	    (g->sel = malloc(WEFT_BATCH * sizeof(*g->sel))) == NULL ||
	    (g->gids = calloc(WEFT_BATCH, sizeof(*g->gids))) == NULL)
		goto oom;
	free(t);
	t = NULL;
	if ((rc = kg_scales(g, f, gate)) != 0) {
		wq_kgate_free(g);
		return rc == WEFT_ENOMEM
			   ? weft_err_set(err, rc, "out of memory")
			   : weft_err_set(err, rc, "noise: states mismatch");
	}
	*out = g;
	return 0;
oom:
	free(t);
	wq_kgate_free(g);
	return weft_err_set(err, WEFT_ENOMEM, "out of memory");
}

/* Copy rows sel[0..n) of columns [from, from + ncols) of s into d's
 * columns from 0, after d's rows (text by reference: s outlives d's use,
 * see wq_kgate_next). */
static void
kg_copy(weft_batch_t *d, const weft_batch_t *s, uint32_t from, uint32_t ncols,
	const uint32_t *sel, uint32_t n)
{
	uint32_t c, i;

	for (c = 0; c < ncols; c++) {
		weft_vec_t *dv = &d->cols[c];
		const weft_vec_t *sv = &s->cols[from + c];

		dv->has_scale = sv->has_scale;
		dv->scale = sv->scale;
		for (i = 0; i < n; i++)
			weft_fn_copy_row(dv, d->n + i, sv, sel[i]);
	}
	d->n += n;
}

/* The remainder, as the last batch: NULL keys, combined states. */
static int
kg_remainder(wq_kgate_t *g, weft_batch_t **out, weft_err_t *err)
{
	const weft_vec_t *cnt;
	uint32_t c;
	int rc;

	if (g->suppressed == 0 || g->entity)
		return 0; /* nothing folded (a table without keys always
			   * has its one group) */
	weft_batch_clear(g->remb);
	rc = wq_aggtab_emit(g->rem, 0, 1, g->remb, err);
	if (rc != 0)
		return rc;
	cnt = &g->remb->cols[g->remb->ncols - 1];
	if (cnt->nulls[0] || cnt->v.i64[0] <= 0 ||
	    (uint64_t)cnt->v.i64[0] < g->k)
		return 0; /* too small itself: dropped */
	weft_batch_clear(g->out);
	for (c = 0; c < g->nkeys; c++)
		weft_fn_setnull(&g->out->cols[c], 0);
	for (c = g->nkeys; c < g->nout; c++) {
		weft_vec_t *dv = &g->out->cols[c];
		const weft_vec_t *sv = &g->remb->cols[c - g->nkeys];

		dv->has_scale = sv->has_scale;
		dv->scale = sv->scale;
		weft_fn_copy_row(dv, 0, sv, 0);
	}
	g->out->n = 1;
	kg_noise(g, g->out);
	*out = g->out;
	return 1;
}

int
wq_kgate_next(wq_kgate_t *g, wq_op_t *op, weft_batch_t **out, weft_err_t *err)
{
	weft_batch_t *b;
	const int64_t *cnt;
	const weft_vec_t *args[WQ_COLS_MAX];
	uint32_t i, nbig, nsmall, c;
	int rc;

	if (g->done)
		return 0;
	for (;;) {
		rc = wq_op_next(op, &b, err);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			g->done = true;
			return kg_remainder(g, out, err);
		}
		if (b->ncols != g->nout + g->nhid)
			return weft_err_set(err, WEFT_EINVAL,
					    "group threshold: %u columns, "
					    "expected %u",
					    b->ncols, g->nout + g->nhid);
		cnt = b->cols[g->tcol].v.i64;
		g->groups += b->n;
		/* the small groups into the remainder */
		for (i = 0, nsmall = 0; i < b->n; i++)
			if (b->cols[g->tcol].nulls[i] ||
			    (uint64_t)cnt[i] < g->k)
				g->sel[nsmall++] = i;
		if (nsmall > 0 && g->entity) {
			/* distinct entities do not add up across groups:
			 * no remainder, the small groups are dropped */
			g->suppressed += nsmall;
		} else if (nsmall > 0) {
			weft_batch_clear(g->small);
			kg_copy(g->small, b, g->nkeys, b->ncols - g->nkeys,
				g->sel, nsmall);
			for (c = 0; c < g->small->ncols && c < WQ_COLS_MAX; c++)
				args[c] = &g->small->cols[c];
			rc = wq_aggtab_groups(g->rem, NULL, nsmall, g->gids);
			if (rc != 0)
				return weft_err_set(err, WEFT_ENOMEM,
						    "out of memory");
			rc = wq_aggtab_add(g->rem, g->gids, args, nsmall, err);
			if (rc != 0)
				return rc;
			g->suppressed += nsmall;
		}
		/* the others out, as they are, without the count */
		for (i = 0, nbig = 0; i < b->n; i++)
			if (!b->cols[g->tcol].nulls[i] &&
			    (uint64_t)cnt[i] >= g->k)
				g->sel[nbig++] = i;
		if (nbig == 0)
			continue;
		weft_batch_clear(g->out);
		kg_copy(g->out, b, 0, g->nout, g->sel, nbig);
		kg_noise(g, g->out);
		*out = g->out;
		return 1;
	}
}

void
wq_kgate_stats(const wq_kgate_t *g, uint64_t *groups, uint64_t *suppressed,
	       double *eps)
{
	*groups = g ? g->groups : 0;
	*suppressed = g ? g->suppressed : 0;
	*eps = g ? g->eps : 0;
}
