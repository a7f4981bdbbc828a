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
	wq_op_t *op;
	uint64_t version;
	size_t max;	 /* bytes per encoded batch */
	weft_batch_t *b; /* the batch being sent in parts */
	uint32_t at;	 /* its next row */
};

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

int
weft_fragrun_open(weft_snapshot_t *snap, const char *product, uint64_t version,
		  const char *asker_org, const uint8_t *frag, size_t len,
		  size_t max, weft_fragrun_t **out, weft_err_t *err)
{
	weft_product_info_t pi = {0};
	weft_fragrun_t *r;
	uint64_t sid;
	uint32_t nchunks;
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
	rc = product && *product ? weft_snapshot_product(snap, product, &pi,
							 &sid, &nchunks, err)
				 : WEFT_ENOTFOUND;
	if (rc == 0 && !fr_visible(&pi, asker_org))
		rc = WEFT_ENOTFOUND;
	if (rc == WEFT_ENOTFOUND) {
		rc = weft_err_set(err, WEFT_ENOTFOUND,
				  "no product %s here for org %s",
				  product && *product ? product : "(none)",
				  asker_org ? asker_org : "?");
		goto fail;
	}
	if (rc != 0)
		goto fail;
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
	if (version != 0 && version != pi.version) {
		rc = weft_err_set(err, WEFT_ESTALE,
				  "%s is at version %llu, not %llu (it "
				  "changed; run the query again)",
				  product, (unsigned long long)pi.version,
				  (unsigned long long)version);
		goto fail;
	}
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

int
weft_fragrun_next(weft_fragrun_t *r, uint8_t **buf, size_t *len, uint32_t *rows,
		  weft_err_t *err)
{
	uint32_t n;
	int rc;

	*buf = NULL;
	*len = 0;
	*rows = 0;
	while (r->b == NULL || r->at >= r->b->n) {
		rc = wq_op_next(r->op, &r->b, err);
		if (rc <= 0) {
			r->b = NULL;
			return rc;
		}
		r->at = 0;
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
	wq_op_free(r->op);
	wq_frag_free(r->f);
	free(r);
}
