/*
 * serve.c: running a fragment for another node (query/serve.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "query/bwire.h"
#include "query/qint.h"
#include "query/serve.h"

struct weft_fragrun {
	wq_exec_t x;
	wq_frag_t *f;
	wq_plan_t *plan; /* a pushed-down subtree (subplan.c), or NULL */
	wq_op_t *op;
	uint64_t version;
	size_t max;	 /* bytes per encoded batch */
	weft_batch_t *b; /* the batch being sent in parts */
	uint32_t at;	 /* its next row */
	/* small batches (a selective filter: a few rows per chunk) are
	 * gathered into stage before they go, so a fragment costs messages
	 * in proportion to its rows, not to the chunks it scans; pend: the
	 * executor's batch that did not fit, sent next */
	weft_batch_t *stage, *pend;
	bool eof;
	wq_kgate_t *kg; /* an aggregates-only grant's group threshold */
};

/* Batches of at least this many rows go as they are. */
#define FR_GATHER (WEFT_BATCH / 2)

/* May a node of org see product pi (its descriptor's visibility)? */
static int
fr_visible(const weft_product_info_t *pi, const char *org)
{
	size_t i;

	if (org == NULL)
		return 0;
	if (pi->org != NULL && strcmp(pi->org, org) == 0)
		return 1;
	if (pi->visibility == 2) /* VIS_PUBLIC */
		return 1;
	if (pi->visibility == 1) /* VIS_LISTED */
		for (i = 0; i < pi->nvisible; i++)
			if (strcmp(pi->visible_to[i], org) == 0)
				return 1;
	return 0;
}

/* Product `name` into *pi if it exists here and the asker's org may see
 * it; else WEFT_ENOTFOUND with the one answer that tells nothing more. */
static int
fr_product(weft_snapshot_t *snap, const char *name, const char *asker_org,
	   weft_product_info_t *pi, weft_err_t *err)
{
	uint64_t sid;
	uint32_t nchunks;
	int rc;

	rc = name && *name
		 ? weft_snapshot_product(snap, name, pi, &sid, &nchunks, err)
		 : WEFT_ENOTFOUND;
	if (rc == 0 && !fr_visible(pi, asker_org))
		rc = WEFT_ENOTFOUND;
	if (rc == WEFT_ENOTFOUND)
		rc = weft_err_set(err, WEFT_ENOTFOUND,
				  "no product %s here for org %s",
				  name && *name ? name : "(none)",
				  asker_org ? asker_org : "?");
	return rc;
}

/* WEFT_ESTALE if version (0: any) is not pi's, else 0. */
static int
fr_stale(const char *name, const weft_product_info_t *pi, uint64_t version,
	 weft_err_t *err)
{
	if (version == 0 || version == pi->version)
		return 0;
	return weft_err_set(err, WEFT_ESTALE,
			    "%s is at version %llu, not %llu (it "
			    "changed; run the query again)",
			    name, (unsigned long long)pi->version,
			    (unsigned long long)version);
}

/* Every scan under p: the product exists here, the asker's org may see
 * it, and it is at the version asked; *rows adds up their rows. */
static int
fr_plan_check(weft_snapshot_t *snap, const wq_plan_t *p,
	      const weft_asker_t *asker, uint64_t *rows, weft_err_t *err)
{
	weft_product_info_t pi = {0};
	wq_gate_t gate = {0};
	int rc;

	if (p == NULL)
		return 0;
	if (p->kind == WQ_SCAN) {
		rc = fr_product(snap, p->frag->product, asker->who.org, &pi,
				err);
		if (rc == 0)
			rc = fr_stale(p->frag->product, &pi, p->version, err);
		if (rc == 0)
			rc = wq_policy_check(snap, asker, p->frag, true, &pi,
					     &gate, err);
		free(gate.scale); /* in a plan, a gate always refuses */
		*rows += pi.row_count;
		weft_product_info_clear(&pi);
		return rc;
	}
	rc = fr_plan_check(snap, p->l, asker, rows, err);
	return rc ? rc : fr_plan_check(snap, p->r, asker, rows, err);
}

/* A subplan: decode, check every product it reads, finish and open. */
static int
fr_plan_open(weft_fragrun_t *r, weft_snapshot_t *snap, const char *product,
	     uint64_t version, const weft_asker_t *asker, const uint8_t *frag,
	     size_t len, weft_err_t *err)
{
	const wq_plan_t *s;
	uint64_t rows = 0;
	int rc;

	rc = wq_subplan_decode(frag, len, &r->plan, err);
	if (rc != 0)
		return rc;
	s = wq_plan_first_scan(r->plan);
	if (strcmp(s->frag->product, product) != 0 ||
	    (version != 0 && s->version != version))
		return weft_err_set(err, WEFT_EINVAL,
				    "fragment: the plan's first scan reads "
				    "%s, the request names %s",
				    s->frag->product, product);
	rc = fr_plan_check(snap, r->plan, asker, &rows, err);
	/* what the plan may hold: twice the rows it reads, and a floor; a
	 * join of joins on one key value cannot grow without bound */
	r->x.hold_max = 2 * rows + WEFT_SERVE_HOLD_MIN;
	if (rc == 0)
		rc = wq_optimize_pushed(&r->plan, err);
	if (rc == 0)
		rc = wq_op_open(&r->x, r->plan, &r->op, err);
	return rc;
}

int
weft_fragrun_open(weft_snapshot_t *snap, const char *product, uint64_t version,
		  const weft_asker_t *asker, const uint8_t *frag, size_t len,
		  size_t max, weft_fragrun_t **out, weft_err_t *err)
{
	weft_product_info_t pi = {0};
	weft_fragrun_t *r;
	wq_gate_t gate = {0};
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	r->x.snap = snap;
	r->x.now = weft_now_us();
	r->max = max;
	/* the asker first: one who may not read the product learns
	 * nothing else, not even how its fragment would have parsed */
	rc = fr_product(snap, product, asker->who.org, &pi, err);
	if (rc != 0)
		goto fail;
	if (wq_frag_is_plan(frag, len)) {
		r->version = pi.version;
		rc = fr_plan_open(r, snap, product, version, asker, frag, len,
				  err);
		if (rc != 0)
			goto fail;
		weft_product_info_clear(&pi);
		*out = r;
		return 0;
	}
	rc = wq_frag_decode(frag, len, &r->f, err);
	if (rc != 0)
		goto fail;
	if (strcmp(r->f->product, product) != 0) {
		rc = weft_err_set(err, WEFT_EINVAL,
				  "fragment: reads %s, the request names %s",
				  r->f->product, product);
		goto fail;
	}
	r->version = pi.version;
	rc = fr_stale(product, &pi, version, err);
	if (rc != 0)
		goto fail;
	rc = wq_policy_check(snap, asker, r->f, false, &pi, &gate, err);
	if (rc == 0 && gate.on)
		rc = wq_kgate_new(r->f, &gate, &r->kg, err);
	if (rc == 0 && gate.profile) {
		r->x.prof_withhold = true;
		r->x.prof_k = gate.min_group;
	}
	free(gate.scale);
	if (rc != 0)
		goto fail;
	rc = wq_frag_open(&r->x, r->f, &r->op, err);
	if (rc != 0)
		goto fail;
	weft_product_info_clear(&pi);
	*out = r;
	return 0;
fail:
	weft_product_info_clear(&pi);
	weft_fragrun_free(r);
	return rc;
}

/* Append the rows of s to d (same columns; text copied into d's arena,
 * since s's is reused by the next batch). */
static int
fr_gather(weft_batch_t *d, const weft_batch_t *s)
{
	uint32_t c, i;

	for (c = 0; c < d->ncols; c++) {
		weft_vec_t *dv = &d->cols[c];
		const weft_vec_t *sv = &s->cols[c];
		size_t w = wq_width(sv->type);

		dv->has_scale = sv->has_scale;
		dv->scale = sv->scale;
		memcpy(dv->nulls + d->n, sv->nulls, s->n);
		if (weft_sqltype_store(sv->type) != WEFT_STORE_TEXT) {
			memcpy(dv->v.b + w * d->n, sv->v.b, w * s->n);
			continue;
		}
		for (i = 0; i < s->n; i++) {
			weft_str_t v = sv->v.s[i];
			char *p;

			if (!sv->nulls[i] && v.len > 0) {
				p = weft_arena_alloc(d->arena, v.len);
				if (p == NULL)
					return WEFT_ENOMEM;
				memcpy(p, v.p, v.len);
				v.p = p;
			}
			dv->v.s[d->n + i] = v;
		}
	}
	d->n += s->n;
	return 0;
}

/* r->b: the next batch to send (the executor's, or the stage), with
 * r->at at its first row; 1, 0 at the end, negative on error. */
static int
fr_refill(weft_fragrun_t *r, weft_err_t *err)
{
	weft_batch_t *b;
	int rc;

	if (r->b == r->stage && r->stage != NULL)
		weft_batch_clear(r->stage);
	r->b = NULL;
	r->at = 0;
	for (;;) {
		if (r->pend != NULL) {
			b = r->pend;
			r->pend = NULL;
		} else if (r->eof) {
			break;
		} else {
			rc = r->kg ? wq_kgate_next(r->kg, r->op, &b, err)
				   : wq_op_next(r->op, &b, err);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				r->eof = true;
				break;
			}
		}
		if (b->n == 0)
			continue;
		if (b->n >= FR_GATHER &&
		    (r->stage == NULL || r->stage->n == 0)) {
			r->b = b;
			return 1;
		}
		if (r->stage == NULL) {
			weft_sqltype_t t[WQ_COLS_MAX];
			uint32_t c;

			for (c = 0; c < b->ncols && c < WQ_COLS_MAX; c++)
				t[c] = b->cols[c].type;
			if (weft_batch_new(b->ncols, t, &r->stage) != 0)
				return weft_err_set(err, WEFT_ENOMEM,
						    "out of memory");
		}
		if (r->stage->n + b->n > WEFT_BATCH) {
			r->pend = b; /* the stage goes first */
			r->b = r->stage;
			return 1;
		}
		if (fr_gather(r->stage, b) != 0)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		if (r->stage->n >= FR_GATHER) {
			r->b = r->stage;
			return 1;
		}
	}
	if (r->stage != NULL && r->stage->n > 0) {
		r->b = r->stage;
		return 1;
	}
	return 0;
}

int
weft_fragrun_next(weft_fragrun_t *r, uint8_t **buf, size_t *len, uint32_t *rows,
		  weft_err_t *err)
{
	uint32_t n;
	int rc;

	*buf = NULL;
	*len = 0;
	*rows = 0;
	if (r->b == NULL || r->at >= r->b->n) {
		rc = fr_refill(r, err);
		if (rc <= 0)
			return rc;
	}
	/* as many rows as fit in r->max bytes: halve until they do */
	for (n = r->b->n - r->at;; n = (n + 1) / 2) {
		rc = weft_bwire_encode_rows(r->b, r->at, n, buf, len, err);
		if (rc != 0)
			return rc;
		if (*len <= r->max)
			break;
		free(*buf);
		*buf = NULL;
		if (n == 1)
			return weft_err_set(err, WEFT_ETOOBIG,
					    "a result row of %zu bytes is "
					    "larger than a message (%zu)",
					    *len, r->max);
	}
	r->at += n;
	*rows = n;
	return 1;
}

void
weft_fragrun_set_stop(weft_fragrun_t *r, weft_stop_fn stop, void *arg)
{
	r->x.stop = stop;
	r->x.stop_arg = arg;
}

uint32_t
weft_fragrun_scans(const weft_fragrun_t *r)
{
	return r->plan ? wq_plan_nscans(r->plan) : 1;
}

void
weft_fragrun_groups(const weft_fragrun_t *r, uint64_t *groups,
		    uint64_t *suppressed, double *eps)
{
	wq_kgate_stats(r->kg, groups, suppressed, eps);
}

uint64_t
weft_fragrun_version(const weft_fragrun_t *r)
{
	return r->version;
}

void
weft_fragrun_free(weft_fragrun_t *r)
{
	if (r == NULL)
		return;
	wq_kgate_free(r->kg);
	wq_op_free(r->op);
	weft_batch_free(r->stage);
	wq_frag_free(r->f);
	wq_plan_free(r->plan);
	free(r);
}
