/*
 * plan_dynf.c: dynamic filters (after Trino's and Spark's). An inner
 * equi-join reads its build side first; when the probe side is a scan of
 * a product on another node, its fragment can wait for the build side
 * and go out with `key IN (the build side's distinct keys)` added to its
 * filter, so the owner sends only the rows that can join. The planner
 * (wq_dynf, a pass of wq_optimize after the fragments are cut) marks the
 * join and the scan; the join (exec.c) builds the list at run time
 * (wq_dynf_list) and starts the scan (scan_remote.c).
 *
 * When: the build side is filtered somewhere (a filter in its fragments
 * or above them: otherwise its keys are likely all the probe side's too,
 * and waiting for them would only cost the two sides' overlap in time);
 * the probe side is a plain remote scan (no limit: a filter below a
 * limit changes which rows it keeps), whose join key is a column of its
 * fragment's output the filter can be written over; the key is stored as
 * an integer or text (IN over a hash set, func_in.c).
 *
 * Trust boundaries: a join key is data of the build side's products.
 * The filter goes only to a node of the asker's own org, and only when
 * every product under the build side is of that org too (issue #8, item
 * 4: no key of one org's product reaches a node of another org unless
 * its owner allows it; policies, #9, may allow more later).
 */
#include <stdlib.h>
#include <string.h>

#include "query/qint.h"

/* Is every product under p of the asker's org, and is any filtered? */
static bool
dynf_side(const wq_plan_t *p, bool *filtered)
{
	if (p == NULL)
		return true;
	if (p->kind == WQ_SCAN) {
		if (p->frag->filter != NULL)
			*filtered = true;
		return p->remote == NULL || !p->remote->cross;
	}
	if (p->kind == WQ_REMOTE) {
		bool f2 = false;

		dynf_side(p->sub, &f2);
		*filtered |= f2;
		return !p->remote->cross;
	}
	if (p->kind == WQ_FILTER || (p->kind == WQ_JOIN && p->resid))
		*filtered = true;
	return dynf_side(p->l, filtered) && dynf_side(p->r, filtered);
}

/* The probe scan's key (a column of its output) as an expression over
 * the columns its fragment reads, or NULL. */
static weft_expr_t *
dynf_key(const wq_plan_t *s, const weft_expr_t *k)
{
	const wq_frag_t *f = s->frag;
	const weft_expr_t *e;
	int st;

	if (k->kind != WEFT_E_COL)
		return NULL;
	st = weft_sqltype_store(k->type);
	if (st != WEFT_STORE_I64 && st != WEFT_STORE_TEXT)
		return NULL;
	if (f->agg) {
		if (k->col >= f->nkeys)
			return NULL;
		e = f->keys[k->col];
	} else {
		e = k;
	}
	if (f->nproj) {
		if (e->kind != WEFT_E_COL || e->col >= f->nproj)
			return NULL;
		e = f->proj[e->col];
	}
	if (e->type != k->type)
		return NULL;
	return weft_expr_copy(e);
}

/* Mark join p if a dynamic filter fits it. */
static int
dynf_join(wq_plan_t *p)
{
	bool build_left = p->l->rows < p->r->rows; /* as exec.c decides */
	wq_plan_t *probe = build_left ? p->r : p->l;
	const wq_plan_t *build = build_left ? p->l : p->r;
	weft_expr_t *const *pk = build_left ? p->rkeys : p->lkeys;
	bool filtered = false;
	uint32_t j;

	if (p->jtype != WQ_JOIN_INNER || p->njkeys == 0 ||
	    probe->kind != WQ_SCAN || probe->remote == NULL ||
	    probe->remote->cross || probe->frag->limit >= 0 ||
	    probe->frag->norder > 0 || probe->dynkey != NULL ||
	    !dynf_side(build, &filtered) || !filtered)
		return 0;
	for (j = 0; j < p->njkeys; j++) {
		probe->dynkey = dynf_key(probe, pk[j]);
		if (probe->dynkey != NULL) {
			p->dynf = j + 1;
			return 0;
		}
	}
	return 0;
}

int
wq_dynf(wq_plan_t *p)
{
	int rc;

	if (p == NULL)
		return 0;
	if ((rc = wq_dynf(p->l)) != 0 || (rc = wq_dynf(p->r)) != 0)
		return rc;
	return p->kind == WQ_JOIN ? dynf_join(p) : 0;
}

/* ---- run time ---- */

/* Value g of rows r's column c. */
static void
dynf_value(const wq_rows_t *r, uint32_t c, size_t g, weft_value_t *v)
{
	memset(v, 0, sizeof(*v));
	v->type = r->types[c];
	if (weft_sqltype_store(v->type) == WEFT_STORE_TEXT)
		v->u.s = ((const weft_str_t *)(const void *)r->vals[c])[g];
	else
		v->u.i = ((const int64_t *)(const void *)r->vals[c])[g];
}

int
wq_dynf_list(const wq_rows_t *keys, uint32_t c, const weft_expr_t *key,
	     weft_expr_t **out, weft_err_t *err)
{
	weft_sqltype_t t = keys->types[c];
	weft_expr_t **args = NULL, *in;
	uint64_t *h = malloc(WEFT_BATCH * sizeof(*h));
	uint32_t *gids = malloc(WEFT_BATCH * sizeof(*gids)), na = 1;
	wq_ktab_t kt;
	size_t at, g;
	int rc = 0;

	*out = NULL;
	if (h == NULL || gids == NULL || wq_ktab_init(&kt, 1, &t) != 0) {
		free(h);
		free(gids);
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	/* the distinct keys, up to the list's cap */
	for (at = 0; at < keys->n && kt.n < WEFT_FRAG_ARGS_MAX;
	     at += WEFT_BATCH) {
		uint32_t m = (uint32_t)(keys->n - at < WEFT_BATCH ? keys->n - at
								  : WEFT_BATCH);
		weft_vec_t v = {.type = t};
		const weft_vec_t *vp = &v;

		v.nulls = keys->nulls[c] + at;
		v.v.b = keys->vals[c] + at * wq_width(t);
		wq_hash_vec(&v, m, h, true);
		if (wq_ktab_find(&kt, &vp, m, h, gids, NULL, NULL) != 0) {
			rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (kt.n >= WEFT_FRAG_ARGS_MAX)
		goto out; /* too many: no filter */
	args = calloc(kt.n + 2, sizeof(*args));
	if (args == NULL || (args[0] = weft_expr_copy(key)) == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	for (g = 0; g < kt.n; g++) {
		weft_value_t v;

		if (kt.keys.nulls[0][g])
			continue; /* NULL joins nothing */
		dynf_value(&kt.keys, 0, g, &v);
		if ((args[na] = weft_expr_const(&v, -1)) == NULL) {
			rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
			goto out;
		}
		na++;
	}
	if (na < 2)
		goto out; /* no key at all: the join asks for nothing */
	in = weft_expr_node(WEFT_E_IN, 0, 0, na, args, -1);
	free(args); /* its entries are taken, also on failure */
	args = NULL;
	na = 0;
	if (in == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	if (weft_expr_resolve(&in, err) != 0) {
		weft_expr_free(in);
		rc = err->code;
		goto out;
	}
	*out = in;
out:
	if (args != NULL)
		weft_expr_free_array(args, na);
	wq_ktab_release(&kt);
	free(h);
	free(gids);
	return rc;
}
