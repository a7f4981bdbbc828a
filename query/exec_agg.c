/*
 * exec_agg.c: what the aggregation operator (exec.c) and a scan's partial
 * aggregation (scan.c) share: the state (wq_agg_state_open), folding a
 * batch (wq_agg_fold) and emitting the groups (wq_agg_emit). The hash
 * table and the transition functions are agg.c's.
 *
 * A lone text group key that comes with its dictionary codes (from a
 * scan, or a join's build side) is grouped once per distinct value of
 * the batch's dictionary instead of once per row.
 */
#include <stdlib.h>
#include <string.h>

#include "query/exec.h"

int
wq_agg_state_open(wq_op_t *o, int mode, uint32_t nkeys,
		  const weft_sqltype_t *keytypes, uint32_t naggs,
		  const wq_agg_t *aggs, weft_err_t *err)
{
	uint32_t c, i, slots = 0;

	for (c = 0; c < naggs; c++)
		slots += 1 + aggs[c].nmore;
	if (nkeys > WQ_COLS_MAX || slots > WQ_COLS_MAX ||
	    wq_aggs_nstate(aggs, naggs) > WQ_COLS_MAX)
		return weft_err_set(err, WEFT_EINVAL,
				    "too many aggregates or aggregate "
				    "arguments (at most %d)",
				    WQ_COLS_MAX);
	if (wq_aggtab_new(mode, nkeys, keytypes, naggs, aggs, &o->agg) != 0 ||
	    (o->kv = calloc(nkeys + 1, sizeof(*o->kv))) == NULL ||
	    (o->av = calloc(slots + 1, sizeof(*o->av))) == NULL ||
	    (o->gids = malloc(WEFT_BATCH * sizeof(*o->gids))) == NULL)
		return wq_oom(err);
	o->navec = slots;
	for (c = 0; c < nkeys; c++)
		if (weft_vec_init(&o->kv[c], keytypes[c]) != 0)
			return wq_oom(err);
	if (mode == WQ_AGG_FINAL)
		return 0;
	for (c = 0, slots = 0; c < naggs; c++) {
		const wq_agg_t *a = &aggs[c];

		for (i = 0; i < wq_agg_nargs(a); i++)
			if (weft_vec_init(&o->av[slots + i],
					  wq_agg_arg(a, i)->type) != 0)
				return wq_oom(err);
		slots += 1 + a->nmore;
	}
	o->nav = slots;
	return 0;
}

int
wq_agg_fold(wq_op_t *o, weft_expr_t *const *keys, uint32_t nkeys,
	    const wq_agg_t *aggs, uint32_t naggs, bool final, weft_batch_t *b,
	    const wq_dict_t *d, weft_err_t *err)
{
	const weft_vec_t *kp[WQ_COLS_MAX];
	const weft_vec_t *ap[WQ_COLS_MAX];
	uint32_t j, i, k, g0 = wq_aggtab_ngroups(o->agg);
	uint64_t held;
	int rc;

	if (nkeys == 1 && keys[0]->kind == WEFT_E_COL &&
	    keys[0]->col < b->ncols && d != NULL &&
	    d[keys[0]->col].id != NULL &&
	    b->cols[keys[0]->col].type == WEFT_S_TEXT) {
		const wq_dict_t *dd = &d[keys[0]->col];

		rc = wq_aggtab_groups_dict(
		    o->agg, dd->id, dd->vals, dd->n, dd->codes,
		    b->cols[keys[0]->col].nulls, b->n, o->gids);
	} else {
		for (j = 0; j < nkeys; j++) {
			rc = wq_vec_of(o, keys[j], b, &o->kv[j], b->arena,
				       &kp[j], err);
			if (rc != 0)
				return rc;
		}
		rc = wq_aggtab_groups(o->agg, kp, b->n, o->gids);
	}
	if (rc != 0)
		return wq_oom(err);
	/* new groups, and (at most) a distinct value per row and aggregate */
	held = wq_aggtab_ngroups(o->agg) - g0;
	for (j = 0; j < naggs && !final; j++)
		held += aggs[j].distinct ? b->n : 0;
	if ((rc = wq_hold(o->x, held, err)) != 0)
		return rc;
	if (final) {
		for (j = 0; j < o->nav; j++)
			ap[j] = &b->cols[nkeys + j];
	} else {
		for (j = 0, k = 0; j < naggs; k += 1 + aggs[j].nmore, j++) {
			const wq_agg_t *a = &aggs[j];

			ap[k] = NULL;
			for (i = 0; i < wq_agg_nargs(a); i++) {
				rc = wq_vec_of(o, wq_agg_arg(a, i), b,
					       &o->av[k + i], b->arena,
					       &ap[k + i], err);
				if (rc != 0)
					return rc;
			}
		}
	}
	return wq_aggtab_add(o->agg, o->gids, ap, b->n, err);
}

int
wq_agg_emit(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	uint32_t n;
	int rc;

	if (o->emit >= wq_aggtab_ngroups(o->agg))
		return 0;
	n = wq_aggtab_ngroups(o->agg) - o->emit;
	if (n > WEFT_BATCH)
		n = WEFT_BATCH;
	weft_batch_clear(o->out);
	rc = wq_aggtab_emit(o->agg, o->emit, n, o->out, err);
	if (rc != 0)
		return rc;
	o->emit += n;
	*out = o->out;
	return 1;
}
