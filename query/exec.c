/*
 * exec.c: the vectorised executor: one operator per plan node, pulled a
 * batch (up to WEFT_BATCH rows) at a time. The operators' state is in
 * exec.h; scans, which read the chunks, are in scan.c.
 *
 * Batches: an operator's output batch is borrowed by its parent until the
 * parent asks for the next one, and the parent may modify it in place
 * (filters compact it). Operators that keep rows longer (sort, join build
 * side, aggregation, top-N) copy them into a wq_rows_t. A text column
 * may come with its dictionary codes (wq_dict_t, from a scan or a join's
 * build side), which aggregation and joins use to hash each distinct
 * value once.
 */
#include <stdlib.h>
#include <string.h>

#include "query/exec.h"

static int wq_op_build(wq_exec_t *x, const wq_plan_t *p, wq_op_t **out,
		       weft_err_t *err);

/* ---- filter, project ---- */

static int
wq_filter_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	weft_batch_t *b;
	uint32_t m;
	int rc;

	for (;;) {
		rc = wq_op_next(o->l, &b, err);
		if (rc != 1)
			return rc;
		rc = weft_expr_eval(o->p->pred, b, &o->fv, b->arena, o->x->now,
				    err);
		if (rc != 0)
			return rc;
		m = wq_truesel(&o->fv, b->n, o->sel);
		if (m == 0)
			continue;
		wq_compact(b, o->sel, m, o->l->xdict);
		o->xdict = o->l->xdict;
		*out = b;
		return 1;
	}
}

static void
wq_project_restore(wq_op_t *o)
{
	uint32_t j;

	for (j = 0; j < o->ncols; j++)
		if (o->aliased[j]) {
			o->out->cols[j] = o->own[j];
			o->aliased[j] = false;
		}
}

static int
wq_project_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	weft_batch_t *b;
	uint32_t j, k;
	int rc;

	rc = wq_op_next(o->l, &b, err);
	if (rc != 1)
		return rc;
	wq_project_restore(o);
	weft_batch_clear(o->out);
	for (j = 0; j < p->nexprs; j++) {
		const weft_expr_t *e = p->exprs[j];

		o->dict[j].id = NULL;
		if (e->kind == WEFT_E_COL && e->col < b->ncols &&
		    e->type == b->cols[e->col].type) {
			bool dup = false;

			for (k = 0; k < j; k++)
				if (p->exprs[k]->kind == WEFT_E_COL &&
				    p->exprs[k]->col == e->col)
					dup = true;
			if (!dup) {
				o->own[j] = o->out->cols[j];
				o->out->cols[j] = b->cols[e->col];
				o->aliased[j] = true;
				if (o->l->xdict && o->l->xdict[e->col].id)
					o->dict[j] = o->l->xdict[e->col];
				continue;
			}
		}
		rc = weft_expr_eval(e, b, &o->out->cols[j], o->out->arena,
				    o->x->now, err);
		if (rc != 0)
			return rc;
	}
	o->out->n = b->n;
	*out = o->out;
	return 1;
}

/* ---- aggregation ---- */

static int
wq_agg_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	weft_batch_t *b;
	int rc;

	if (!o->drained) {
		while ((rc = wq_op_next(o->l, &b, err)) == 1) {
			if (b->n == 0)
				continue;
			rc = wq_agg_fold(o, p->keys, p->nkeys, p->aggs,
					 p->naggs, p->aggmode == WQ_AGG_FINAL,
					 b, o->l->xdict, err);
			if (rc != 0)
				return rc;
		}
		if (rc < 0)
			return rc;
		o->drained = true;
	}
	return wq_agg_emit(o, out, err);
}

static int
wq_agg_open(wq_op_t *o, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	weft_sqltype_t kt[WQ_COLS_MAX];
	uint32_t c;
	int rc;

	if (p->nkeys > WQ_COLS_MAX || p->naggs > WQ_COLS_MAX / 2)
		return weft_err_set(err, WEFT_EINVAL,
				    "too many group keys or "
				    "aggregates");
	for (c = 0; c < p->nkeys; c++)
		kt[c] = p->keys[c]->type;
	rc = wq_agg_state_open(o, p->aggmode, p->nkeys, kt, p->naggs, p->aggs,
			       err);
	if (rc != 0 || p->aggmode != WQ_AGG_FINAL)
		return rc;
	o->nav = wq_aggs_nstate(p->aggs, p->naggs);
	if (p->nkeys + o->nav > o->l->ncols)
		return weft_err_set(err, WEFT_EINVAL,
				    "aggregation input mismatch");
	return 0;
}

/* ---- sort, limit, distinct, append ---- */

static int
wq_sort_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	uint32_t n, c;
	int rc;

	if (!o->drained) {
		weft_batch_t *b;

		while ((rc = wq_op_next(o->l, &b, err)) == 1) {
			if (o->top)
				rc = wq_topn_add(o->top, b);
			else if ((rc = wq_hold(o->x, b->n, err)) != 0)
				return rc;
			else
				rc = wq_rows_append(&o->rows, b, NULL, 0);
			if (rc != 0)
				return wq_oom(err);
		}
		if (rc < 0)
			return rc;
		if (o->top) {
			rc = wq_topn_shrink(o->top);
			if (rc != 0)
				return wq_oom(err);
			o->norder = o->top->rows.n;
		} else {
			size_t cap = 0;

			rc = wq_sort_rows(&o->rows, o->p->sort, o->p->nsort,
					  &o->order, &cap);
			if (rc != 0)
				return wq_oom(err);
			o->norder = o->rows.n;
		}
		o->drained = true;
	}
	if (o->top)
		return wq_topn_emit(o, o->top, out);
	if (o->emit >= o->norder)
		return 0;
	n = (uint32_t)(o->norder - o->emit);
	if (n > WEFT_BATCH)
		n = WEFT_BATCH;
	weft_batch_clear(o->out);
	for (c = 0; c < o->ncols; c++)
		wq_rows_gather(&o->rows, c, o->order + o->emit, n,
			       &o->out->cols[c], 0);
	o->out->n = n;
	o->emit += n;
	*out = o->out;
	return 1;
}

static int
wq_limit_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	weft_batch_t *b;
	int rc;

	for (;;) {
		if (p->limit >= 0 && o->taken >= (uint64_t)p->limit)
			return 0;
		rc = wq_op_next(o->l, &b, err);
		if (rc != 1)
			return rc;
		if (o->skipped < (uint64_t)p->offset) {
			uint64_t want = (uint64_t)p->offset - o->skipped;
			uint32_t k = b->n < want ? b->n : (uint32_t)want, i;

			o->skipped += k;
			if (k == b->n)
				continue;
			for (i = 0; i < b->n - k; i++)
				o->sel[i] = i + k;
			wq_compact(b, o->sel, b->n - k, NULL);
		}
		if (p->limit >= 0 && o->taken + b->n > (uint64_t)p->limit)
			b->n = (uint32_t)((uint64_t)p->limit - o->taken);
		o->taken += b->n;
		*out = b;
		return 1;
	}
}

static int
wq_distinct_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	weft_batch_t *b;
	const weft_vec_t *k[WQ_COLS_MAX];
	uint32_t c, nnew;
	int rc;

	for (;;) {
		rc = wq_op_next(o->l, &b, err);
		if (rc != 1)
			return rc;
		if (b->n == 0)
			continue;
		for (c = 0; c < b->ncols; c++) {
			k[c] = &b->cols[c];
			wq_hash_vec(k[c], b->n, o->h, c == 0);
		}
		if (b->ncols == 0)
			memset(o->h, 0, b->n * sizeof(*o->h));
		rc =
		    wq_ktab_find(&o->kt, k, b->n, o->h, o->gids, o->sel, &nnew);
		if (rc != 0)
			return wq_oom(err);
		if (nnew == 0)
			continue;
		if ((rc = wq_hold(o->x, nnew, err)) != 0)
			return rc;
		wq_compact(b, o->sel, nnew, NULL);
		*out = b;
		return 1;
	}
}

static int
wq_append_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	int rc;

	if (!o->drained) {
		rc = wq_op_next(o->l, out, err);
		if (rc != 0)
			return rc;
		o->drained = true;
	}
	return wq_op_next(o->r, out, err);
}

/* A profile of the child's rows (a fragment's runs in its scan). */
static int
wq_profile_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	weft_batch_t *b;
	int rc;

	if (!o->drained) {
		while ((rc = wq_op_next(o->l, &b, err)) == 1)
			if (wq_prof_add(o->prof, b, o->l->xdict) != 0)
				return wq_oom(err);
		if (rc < 0)
			return rc;
		o->drained = true;
	}
	rc = wq_prof_emit(o->prof, o->out, err);
	if (rc == 1)
		*out = o->out;
	return rc;
}

/* ---- join ---- */

/* Build side: all rows and their key values; hash table over keys with
 * rows of equal keys chained through bsame. */
static int
wq_join_build(wq_op_t *o, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	wq_op_t *bo = o->build_left ? o->l : o->r;
	weft_expr_t *const *keys = o->build_left ? p->lkeys : p->rkeys;
	weft_sqltype_t kt[WQ_COLS_MAX];
	weft_batch_t *b, *kb = NULL;
	uint32_t j, i;
	size_t n, cap = 0;
	int rc;

	for (j = 0; j < p->njkeys; j++)
		kt[j] = keys[j]->type;
	if (wq_rows_init(&o->brows, bo->ncols, bo->types) != 0 ||
	    wq_rows_init(&o->bk, p->njkeys, kt) != 0 ||
	    weft_batch_new(p->njkeys, kt, &kb) != 0)
		return wq_oom(err);
	while ((rc = wq_op_next(bo, &b, err)) == 1) {
		if (b->n == 0)
			continue;
		weft_batch_clear(kb);
		for (j = 0; j < p->njkeys; j++) {
			rc = weft_expr_eval(keys[j], b, &kb->cols[j], kb->arena,
					    o->x->now, err);
			if (rc != 0)
				goto out;
		}
		kb->n = b->n;
		if ((rc = wq_hold(o->x, b->n, err)) != 0)
			goto out;
		if (wq_rows_append(&o->brows, b, NULL, 0) != 0 ||
		    wq_rows_append(&o->bk, kb, NULL, 0) != 0) {
			rc = wq_oom(err);
			goto out;
		}
		n = o->brows.n;
		if (n > cap) {
			size_t nc = cap ? cap : 1024;
			uint64_t *nh;

			while (nc < n)
				nc *= 2;
			nh = realloc(o->bhash, nc * sizeof(*nh));
			if (nh == NULL) {
				rc = wq_oom(err);
				goto out;
			}
			o->bhash = nh;
			cap = nc;
		}
		for (j = 0; j < p->njkeys; j++)
			wq_hash_vec(&kb->cols[j], kb->n, o->bhash + n - kb->n,
				    j == 0);
	}
	if (rc < 0)
		goto out;
	rc = 0;
	n = o->brows.n;
	if (n >= UINT32_MAX / 2) {
		rc = weft_err_set(err, WEFT_ETOOBIG, "join side too large");
		goto out;
	}
	if (p->njkeys == 0)
		goto out;
	o->bmask = 1023;
	while (o->bmask < 2 * n)
		o->bmask = o->bmask * 2 + 1;
	o->bucket = calloc((size_t)o->bmask + 1, sizeof(*o->bucket));
	o->bnext = malloc((n + 1) * sizeof(*o->bnext));
	o->bsame = malloc((n + 1) * sizeof(*o->bsame));
	if (!o->bucket || !o->bnext || !o->bsame) {
		rc = wq_oom(err);
		goto out;
	}
	/* insert in reverse so that equal-key chains keep row order; the
	 * bucket chains (bnext, row + 1, 0 = end) hold one row per distinct
	 * key, bsame links the rows with the same key */
	for (i = (uint32_t)n; i-- > 0;) {
		uint32_t s = (uint32_t)o->bhash[i] & o->bmask, *pp;
		bool null = false, found = false;

		o->bsame[i] = UINT32_MAX;
		o->bnext[i] = 0;
		for (j = 0; j < p->njkeys; j++)
			null |= o->bk.nulls[j][i] != 0;
		if (null)
			continue; /* NULL keys never match */
		for (pp = &o->bucket[s]; *pp != 0; pp = &o->bnext[*pp - 1]) {
			uint32_t r = *pp - 1;
			bool eq = o->bhash[r] == o->bhash[i];

			for (j = 0; eq && j < p->njkeys; j++)
				eq = wq_eq_raw(o->bk.types[j], o->bk.vals[j], r,
					       o->bk.vals[j], i);
			if (eq) {
				o->bnext[i] = o->bnext[r];
				o->bnext[r] = 0;
				o->bsame[i] = r;
				*pp = i + 1;
				found = true;
				break;
			}
		}
		if (!found) {
			o->bnext[i] = o->bucket[s];
			o->bucket[s] = i + 1;
		}
	}
out:
	weft_batch_free(kb);
	return rc;
}

/* First build row whose key equals probe row i (UINT32_MAX: none). */
static uint32_t
wq_join_lookup(wq_op_t *o, uint32_t i, uint64_t h)
{
	const wq_plan_t *p = o->p;
	uint32_t g, j;

	for (g = o->bucket[(uint32_t)h & o->bmask]; g != 0;
	     g = o->bnext[g - 1]) {
		uint32_t r = g - 1;
		bool eq = o->bhash[r] == h;

		for (j = 0; eq && j < p->njkeys; j++)
			eq = wq_eq_raw(o->bk.types[j], o->bk.vals[j], r,
				       o->pk->cols[j].v.i64, i);
		if (eq)
			return r;
	}
	return UINT32_MAX;
}

/* Probe rows start their build chain: pj for each probe row. */
static int
wq_join_probe_batch(wq_op_t *o, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	wq_op_t *po = o->build_left ? o->r : o->l;
	weft_expr_t *const *keys = o->build_left ? p->rkeys : p->lkeys;
	weft_batch_t *b = o->probe;
	uint32_t i, j;
	int rc;

	if (p->njkeys == 0)
		return 0;
	/* one text key straight from a dictionary: look each value up once */
	if (p->njkeys == 1 && keys[0]->kind == WEFT_E_COL && po->xdict &&
	    keys[0]->col < b->ncols && po->xdict[keys[0]->col].id != NULL &&
	    keys[0]->type == WEFT_S_TEXT &&
	    b->cols[keys[0]->col].type == WEFT_S_TEXT) {
		wq_dict_t *d = &po->xdict[keys[0]->col];
		const uint8_t *nulls = b->cols[keys[0]->col].nulls;

		if (d->n + 1 > o->dmatch_cap) {
			uint32_t *nm =
			    realloc(o->dmatch, (d->n + 1) * sizeof(*nm));

			if (nm == NULL)
				return wq_oom(err);
			o->dmatch = nm;
			o->dmatch_cap = d->n + 1;
		}
		if (d->id != o->dmatch_id) {
			memset(o->dmatch, 0xfe, (d->n + 1) * sizeof(uint32_t));
			o->dmatch_id = d->id;
		}
		o->dmatch[d->n] = UINT32_MAX; /* NULL */
		for (i = 0; i < b->n; i++) {
			uint32_t c = nulls[i] ? d->n : d->codes[i];

			if (c > d->n)
				c = d->n;
			if (o->dmatch[c] == 0xfefefefe) {
				weft_vec_t one;
				weft_str_t sv = d->vals[c];
				uint8_t nl = 0;

				memset(&one, 0, sizeof(one));
				one.type = WEFT_S_TEXT;
				one.nulls = &nl;
				one.v.s = &sv;
				o->pk->cols[0].v.s[i] = sv;
				o->pk->cols[0].nulls[i] = 0;
				o->dmatch[c] =
				    wq_join_lookup(o, i, wq_hash_val(&one, 0));
			}
			o->bp[i] = o->dmatch[c];
		}
		return 0;
	}
	weft_batch_clear(o->pk);
	for (j = 0; j < p->njkeys; j++) {
		rc = weft_expr_eval(keys[j], b, &o->pk->cols[j], o->pk->arena,
				    o->x->now, err);
		if (rc != 0)
			return rc;
		wq_hash_vec(&o->pk->cols[j], b->n, o->h, j == 0);
	}
	for (i = 0; i < b->n; i++) {
		bool null = false;

		for (j = 0; j < p->njkeys; j++)
			null |= o->pk->cols[j].nulls[i] != 0;
		o->bp[i] = null ? UINT32_MAX : wq_join_lookup(o, i, o->h[i]);
	}
	return 0;
}

/* Gather probe rows pp[0..n) and build rows bpair[0..n) into out. */
static void
wq_join_fill(wq_op_t *o, const uint32_t *pp, const uint32_t *bpr, uint32_t n)
{
	wq_op_t *po = o->build_left ? o->r : o->l;
	uint32_t np = po->ncols, nb = o->brows.ncols, c, i;
	uint32_t poff = o->build_left ? nb : 0, boff = o->build_left ? 0 : np;
	weft_batch_t *b = o->probe;

	const uint8_t *skip = o->p->jskip;

	for (c = 0; c < np; c++) {
		weft_vec_t *s = &b->cols[c], *d = &o->out->cols[poff + c];
		size_t w = wq_width(s->type);

		if (skip && skip[poff + c])
			continue;

		d->has_scale = s->has_scale;
		d->scale = s->scale;
		for (i = 0; i < n; i++)
			d->nulls[i] = s->nulls[pp[i]];
		if (w == 8)
			for (i = 0; i < n; i++)
				d->v.i64[i] = s->v.i64[pp[i]];
		else if (w == 1)
			for (i = 0; i < n; i++)
				d->v.b[i] = s->v.b[pp[i]];
		else
			for (i = 0; i < n; i++)
				d->v.s[i] = s->v.s[pp[i]];
	}
	for (c = 0; c < nb; c++)
		if (!(skip && skip[boff + c]))
			wq_rows_gather(&o->brows, c, bpr, n,
				       &o->out->cols[boff + c], 0);
	/* build-side text columns: codes are build row numbers */
	for (c = 0; c < nb; c++) {
		wq_dict_t *d = &o->dict[boff + c];

		d->id = NULL;
		if (o->brows.types[c] != WEFT_S_TEXT || o->brows.n == 0 ||
		    (skip && skip[boff + c]))
			continue;
		d->id = &o->brows.vals[c];
		d->vals = (const weft_str_t *)(const void *)o->brows.vals[c];
		d->n = (uint32_t)o->brows.n;
		for (i = 0; i < n; i++)
			d->codes[i] = bpr[i] == UINT32_MAX ? d->n : bpr[i];
	}
	for (c = 0; c < np; c++)
		o->dict[poff + c].id = NULL;
	o->out->n = n;
}

/* A dynamic filter (plan_dynf.c): the probe side po, a remote scan
 * waiting for the build, goes out with the build keys' values. */
static int
wq_join_dynf(wq_op_t *o, wq_op_t *po, weft_err_t *err)
{
	weft_expr_t *in = NULL;
	int rc;

	if (o->p->dynf == 0 || o->p->dynf > o->p->njkeys || po->p == NULL ||
	    po->p->dynkey == NULL)
		return wq_rscan_start(po, NULL, err);
	rc = wq_dynf_list(&o->bk, o->p->dynf - 1, po->p->dynkey, &in, err);
	if (rc == 0)
		rc = wq_rscan_start(po, in, err);
	weft_expr_free(in);
	return rc;
}

static int
wq_join_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	wq_op_t *po = o->build_left ? o->r : o->l;
	bool left = p->jtype == WQ_JOIN_LEFT;
	int rc;

	if (!o->drained) {
		rc = wq_join_build(o, err);
		if (rc != 0)
			return rc;
		o->drained = true;
		if (po->deferred && o->brows.n > 0 &&
		    (rc = wq_join_dynf(o, po, err)) != 0)
			return rc;
	}
	for (;;) {
		uint32_t n = 0;

		if (o->probe == NULL) {
			weft_batch_t *b;

			if (o->brows.n == 0 && !left)
				return 0;
			rc = wq_op_next(po, &b, err);
			if (rc != 1)
				return rc;
			if (b->n == 0)
				continue;
			o->probe = b;
			o->pi = 0;
			o->tail = false;
			memset(o->matched, 0, b->n);
			rc = wq_join_probe_batch(o, err);
			if (rc != 0)
				return rc;
			o->pj = p->njkeys ? o->bp[0] : 0;
		}
		weft_batch_clear(o->out);
		if (!o->tail) {
			/* collect pairs */
			uint32_t *bp2 = o->gids; /* build rows of the pairs */

			while (o->pi < o->probe->n && n < WEFT_BATCH) {
				if (p->njkeys == 0) {
					if (o->pj >= o->brows.n) {
						o->pi++;
						o->pj = 0;
						continue;
					}
					o->pp[n] = o->pi;
					bp2[n++] = o->pj++;
					continue;
				}
				if (o->pj == UINT32_MAX) {
					o->pi++;
					if (o->pi < o->probe->n)
						o->pj = o->bp[o->pi];
					continue;
				}
				o->pp[n] = o->pi;
				bp2[n++] = o->pj;
				o->pj = o->bsame[o->pj];
			}
			if (n > 0) {
				uint32_t m = n, i;

				wq_join_fill(o, o->pp, bp2, n);
				if (p->resid != NULL) {
					rc = weft_expr_eval(
					    p->resid, o->out, &o->fv,
					    o->out->arena, o->x->now, err);
					if (rc != 0)
						return rc;
					m = wq_truesel(&o->fv, n, o->sel);
					for (i = 0; i < m; i++)
						o->matched[o->pp[o->sel[i]]] =
						    1;
					wq_compact(o->out, o->sel, m, o->dict);
				} else {
					for (i = 0; i < n; i++)
						o->matched[o->pp[i]] = 1;
				}
				if (m > 0) {
					*out = o->out;
					return 1;
				}
				continue;
			}
			o->tail = true;
		}
		/* the probe batch is done: LEFT JOIN's unmatched rows */
		if (left) {
			uint32_t i, k = 0;

			for (i = 0; i < o->probe->n; i++)
				if (!o->matched[i]) {
					o->pp[k] = i;
					o->gids[k++] = UINT32_MAX;
				}
			if (k > 0)
				wq_join_fill(o, o->pp, o->gids, k);
			o->probe = NULL;
			if (k > 0) {
				*out = o->out;
				return 1;
			}
			continue;
		}
		o->probe = NULL;
	}
}

static int
wq_join_open(wq_op_t *o, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	weft_sqltype_t kt[WQ_COLS_MAX];
	uint32_t j;

	o->build_left = p->jtype != WQ_JOIN_LEFT && p->l->rows < p->r->rows;
	for (j = 0; j < p->njkeys && j < WQ_COLS_MAX; j++)
		kt[j] = (o->build_left ? p->rkeys : p->lkeys)[j]->type;
	if (weft_batch_new(p->njkeys, kt, &o->pk) != 0 ||
	    (o->pp = malloc(WEFT_BATCH * sizeof(*o->pp))) == NULL ||
	    (o->bp = malloc(WEFT_BATCH * sizeof(*o->bp))) == NULL ||
	    (o->gids = malloc(WEFT_BATCH * sizeof(*o->gids))) == NULL ||
	    (o->h = malloc(WEFT_BATCH * sizeof(*o->h))) == NULL ||
	    (o->matched = malloc(WEFT_BATCH)) == NULL ||
	    weft_vec_init(&o->fv, WEFT_S_BOOL) != 0)
		return wq_oom(err);
	for (j = 0; j < o->ncols; j++)
		if (o->types[j] == WEFT_S_TEXT) {
			o->dict[j].codes =
			    malloc(WEFT_BATCH * sizeof(uint32_t));
			if (o->dict[j].codes == NULL)
				return wq_oom(err);
		}
	return 0;
}

/* ---- generic ---- */

static int
wq_op_build(wq_exec_t *x, const wq_plan_t *p, wq_op_t **out, weft_err_t *err)
{
	wq_op_t *o = calloc(1, sizeof(*o));
	int rc = 0;

	*out = NULL;
	if (o == NULL)
		return wq_oom(err);
	o->kind = p->kind;
	o->x = x;
	o->p = p;
	if (p->kind == WQ_REMOTE) { /* its subtree runs on another node */
		rc = wq_rscan_open(o, err);
		if (rc != 0)
			goto fail;
		*out = o;
		return 0;
	}
	if (p->l && (rc = wq_op_build(x, p->l, &o->l, err)) != 0)
		goto fail;
	if (p->r && (rc = wq_op_build(x, p->r, &o->r, err)) != 0)
		goto fail;
	if (p->kind == WQ_SCAN) {
		rc = p->remote ? wq_rscan_open(o, err)
			       : wq_scan_open(o, p->frag, err);
		if (rc != 0)
			goto fail;
		*out = o;
		return 0;
	}
	o->ncols = p->ncols;
	o->types = calloc(p->ncols + 1, sizeof(*o->types));
	o->sel = malloc(WEFT_BATCH * sizeof(*o->sel));
	o->dict = calloc(p->ncols + 1, sizeof(*o->dict));
	if (o->types == NULL || o->sel == NULL || o->dict == NULL)
		goto oom;
	if (p->ncols)
		memcpy(o->types, p->types, p->ncols * sizeof(*o->types));
	if (p->kind == WQ_PROJECT || p->kind == WQ_JOIN)
		o->xdict = o->dict;
	switch (p->kind) {
	case WQ_FILTER:
		free(o->dict);
		o->dict = NULL;
		if (weft_vec_init(&o->fv, WEFT_S_BOOL) != 0)
			goto oom;
		break;
	case WQ_PROJECT:
		o->own = calloc(p->ncols + 1, sizeof(*o->own));
		o->aliased = calloc(p->ncols + 1, sizeof(*o->aliased));
		if (!o->own || !o->aliased ||
		    weft_batch_new(p->ncols, p->types, &o->out) != 0)
			goto oom;
		break;
	case WQ_AGG:
		rc = wq_agg_open(o, err);
		if (rc != 0)
			goto fail;
		if (weft_batch_new(p->ncols, p->types, &o->out) != 0)
			goto oom;
		break;
	case WQ_JOIN:
		if (weft_batch_new(p->ncols, p->types, &o->out) != 0)
			goto oom;
		rc = wq_join_open(o, err);
		if (rc != 0)
			goto fail;
		break;
	case WQ_SORT:
		if (weft_batch_new(p->ncols, p->types, &o->out) != 0 ||
		    wq_rows_init(&o->rows, p->ncols, p->types) != 0)
			goto oom;
		break;
	case WQ_DISTINCT:
		if (wq_ktab_init(&o->kt, p->ncols, p->types) != 0)
			goto oom;
		o->kt_init = true;
		o->h = malloc(WEFT_BATCH * sizeof(*o->h));
		o->gids = malloc(WEFT_BATCH * sizeof(*o->gids));
		if (o->h == NULL || o->gids == NULL)
			goto oom;
		break;
	case WQ_ONEROW:
		if (weft_batch_new(0, NULL, &o->out) != 0)
			goto oom;
		break;
	case WQ_PROFILE:
		if (weft_batch_new(p->ncols, p->types, &o->out) != 0 ||
		    wq_prof_new(p->l->ncols, p->l->types, p->l->names,
				x->prof_k, x->prof_withhold, &o->prof) != 0)
			goto oom;
		break;
	case WQ_LIMIT:
		/* LIMIT over SORT: the sort keeps only the top rows */
		if (p->limit >= 0 && o->l->kind == WQ_SORT && !o->l->top &&
		    (uint64_t)p->limit + (uint64_t)p->offset < (1u << 24)) {
			if (wq_topn_new(
				o->l->ncols, o->l->types,
				(uint64_t)p->limit + (uint64_t)p->offset,
				p->l->sort, p->l->nsort, &o->l->top) != 0)
				goto oom;
		}
		break;
	default: break;
	}
	*out = o;
	return 0;
oom:
	rc = wq_oom(err);
fail:
	wq_op_free(o);
	return rc;
}

int
wq_op_open(wq_exec_t *x, const wq_plan_t *p, wq_op_t **out, weft_err_t *err)
{
	return wq_op_build(x, p, out, err);
}

int
wq_frag_open(wq_exec_t *x, const wq_frag_t *f, wq_op_t **out, weft_err_t *err)
{
	wq_op_t *o = calloc(1, sizeof(*o));
	int rc;

	*out = NULL;
	if (o == NULL)
		return wq_oom(err);
	o->kind = WQ_SCAN;
	o->x = x;
	o->sel = NULL;
	rc = wq_scan_open(o, f, err);
	if (rc != 0) {
		wq_op_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

static int
wq_op_step(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	int rc;

	if (o->done)
		return 0;
	if ((rc = wq_stopped(o->x, err)) != 0)
		return rc;
	switch (o->kind) {
	case WQ_SCAN:
		rc = o->p && o->p->remote ? wq_rscan_next(o, out, err)
					  : wq_scan_next(o, out, err);
		break;
	case WQ_REMOTE: rc = wq_rscan_next(o, out, err); break;
	case WQ_FILTER: rc = wq_filter_next(o, out, err); break;
	case WQ_PROJECT: rc = wq_project_next(o, out, err); break;
	case WQ_AGG: rc = wq_agg_next(o, out, err); break;
	case WQ_JOIN: rc = wq_join_next(o, out, err); break;
	case WQ_SORT: rc = wq_sort_next(o, out, err); break;
	case WQ_LIMIT: rc = wq_limit_next(o, out, err); break;
	case WQ_DISTINCT: rc = wq_distinct_next(o, out, err); break;
	case WQ_APPEND: rc = wq_append_next(o, out, err); break;
	case WQ_PROFILE: rc = wq_profile_next(o, out, err); break;
	case WQ_ONEROW:
		o->done = true;
		o->out->n = 1;
		*out = o->out;
		return 1;
	default: rc = weft_err_set(err, WEFT_EINVAL, "bad plan node");
	}
	if (rc == 0)
		o->done = true;
	return rc;
}

/* One step of o, counted for EXPLAIN ANALYZE (exec.h, wq_opstat_t): a
 * call and its rows always, the time only when the query asks. */
int
wq_op_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	uint64_t t0 = o->x && o->x->timing ? weft_mono_ns() : 0;
	int rc = wq_op_step(o, out, err);

	o->st.calls++;
	if (rc == 1)
		o->st.rows += (*out)->n;
	if (t0 != 0)
		o->st.ns += weft_mono_ns() - t0;
	return rc;
}

void
wq_op_free(wq_op_t *o)
{
	uint32_t c;

	if (o == NULL)
		return;
	wq_op_free(o->l);
	wq_op_free(o->r);
	if (o->own && o->out)
		wq_project_restore(o);
	if ((o->kind == WQ_SCAN && o->p && o->p->remote) ||
	    o->kind == WQ_REMOTE)
		wq_rscan_release(o);
	else if (o->kind == WQ_SCAN)
		wq_scan_release(o);
	weft_batch_free(o->out);
	weft_batch_free(o->pk);
	weft_vec_release(&o->fv);
	if (o->dict && o->kind == WQ_JOIN)
		for (c = 0; c < o->ncols; c++)
			free(o->dict[c].codes);
	free(o->dict);
	wq_aggtab_free(o->agg);
	wq_prof_free(o->prof);
	if (o->kv) {
		uint32_t n = o->frag ? o->f->nkeys : o->p->nkeys;

		for (c = 0; c < n; c++)
			weft_vec_release(&o->kv[c]);
		free(o->kv);
	}
	if (o->av) {
		for (c = 0; c < o->navec; c++)
			weft_vec_release(&o->av[c]);
		free(o->av);
	}
	free(o->gids);
	free(o->own);
	free(o->aliased);
	wq_topn_free(o->top);
	wq_rows_release(&o->rows);
	free(o->order);
	if (o->kt_init)
		wq_ktab_release(&o->kt);
	free(o->h);
	wq_rows_release(&o->bk);
	wq_rows_release(&o->brows);
	free(o->bhash);
	free(o->bucket);
	free(o->bnext);
	free(o->bsame);
	free(o->pp);
	free(o->bp);
	free(o->matched);
	free(o->dmatch);
	free(o->sel);
	free(o->types);
	free(o);
}
