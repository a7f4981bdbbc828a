/*
 * scan_topn.c: a scan's top-N prefilter: which rows of a chunk may still
 * make the cut of a fragment's ORDER BY ... LIMIT, judged on the first
 * sort key alone before the other columns are decoded (scan.c calls it
 * once per chunk; the per-row loops are here).
 *
 * Three sources of a threshold: the current threshold row once the
 * top-N is full (rows strictly worse cannot enter), selection within the
 * chunk before that (its `limit` best), and a bound taken from every
 * chunk's zone map when there is no filter (`limit` rows are at least as
 * good as the limit-th best chunk maximum). Ties are always kept: the
 * full comparison decides them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/exec.h"
#include "storage/chunk.h"

#define WQ_KVIEWS_MAX 65536 /* chunks whose key views a top-N keeps */

/* The read column of the fragment's first sort key, when the top-N can
 * prefilter on it (no projection, a fixed-width key), else -1. */
int
wq_topn_keycol(const wq_op_t *o)
{
	const wq_frag_t *f = o->f;
	weft_sqltype_t t;

	if (f->nproj > 0 || f->norder == 0 || f->order[0].col >= f->ncols ||
	    f->ncols > 64)
		return -1;
	t = f->ctypes[f->order[0].col];
	if (t != WEFT_S_INT64 && t != WEFT_S_TIMESTAMP && t != WEFT_S_FLOAT64)
		return -1;
	return (int)f->order[0].col;
}

/* May the chunk's zone map (key column view v) prove that every row is
 * strictly worse than the threshold row? */
bool
wq_topn_zone_skip(const wq_op_t *o, const weft_chunk_view_t *v)
{
	const wq_topn_t *t = o->top;
	const wq_sortkey_t *k = &o->f->order[0];
	size_t th = t->limit - 1;
	uint32_t c = k->col;

	if (t->rows.nulls[c][th] || !v->has_minmax)
		return false;
	if (v->null_count > 0 && k->nulls_first)
		return false; /* NULL rows come first: candidates */
	if (v->type == WEFT_T_FLOAT64) {
		double x = ((const double *)(const void *)t->rows.vals[c])[th];

		if (isnan(x) || isnan(v->min_f) || isnan(v->max_f))
			return false;
		return k->desc ? v->max_f < x : v->min_f > x;
	} else {
		int64_t x =
		    ((const int64_t *)(const void *)t->rows.vals[c])[th];

		return k->desc ? v->max_i < x : v->min_i > x;
	}
}

/* Rows (of the chunk's n, key column view v) whose first sort key is not
 * strictly worse than the threshold row's. */
uint32_t
wq_topn_candidates(wq_op_t *o, uint32_t kc, const weft_chunk_view_t *v,
		   uint32_t n, uint32_t *sel)
{
	const wq_topn_t *t = o->top;
	const wq_sortkey_t *k = &o->f->order[0];
	size_t th = t->limit - 1;
	bool tn = t->rows.nulls[kc][th] != 0;
	uint8_t keepnull = tn ? 1 : k->nulls_first;
	uint32_t i, m = 0;

	if (tn) {
		/* only NULLs can tie or beat a NULL that sorts first */
		for (i = 0; i < n; i++) {
			bool nl = weft_chunk_is_null(v, i);

			sel[m] = i;
			m += nl ? 1 : !k->nulls_first;
		}
		return m;
	}
	if (v->type == WEFT_T_FLOAT64) {
		double x = ((const double *)(const void *)t->rows.vals[kc])[th];

		for (i = 0; i < n; i++) {
			double a;

			memcpy(&a, v->values + 8 * (size_t)i, 8);
			sel[m] = i;
			if (weft_chunk_is_null(v, i))
				m += keepnull;
			else
				m += k->desc ? !(a < x) : !(a > x);
		}
		return m;
	}
	{
		int64_t x =
		    ((const int64_t *)(const void *)t->rows.vals[kc])[th];
		const uint8_t *p = v->values;

		if (v->nulls == NULL && k->desc) {
			for (i = 0; i < n; i++) {
				int64_t a;

				memcpy(&a, p + 8 * (size_t)i, 8);
				sel[m] = i;
				m += a >= x;
			}
			return m;
		}
		for (i = 0; i < n; i++) {
			int64_t a;

			memcpy(&a, p + 8 * (size_t)i, 8);
			sel[m] = i;
			if (weft_chunk_is_null(v, i))
				m += keepnull;
			else
				m += k->desc ? a >= x : a <= x;
		}
		return m;
	}
}

/* Before the top-N is full (and with no filter): the chunk's rows (n,
 * int64 key column view v) that may be among its best `limit` by the
 * first sort key: the NULLs when they sort first and the rows not worse
 * than the limit-th best value, found by selection on a copy. All rows
 * when that would not prune much. */
uint32_t
wq_topn_select(wq_op_t *o, const weft_chunk_view_t *v, uint32_t n,
	       uint32_t *sel)
{
	const wq_sortkey_t *k = &o->f->order[0];
	uint64_t limit = o->top->limit;
	int64_t *a = o->top->scratch, x;
	uint32_t i, m = 0, lo, hi, want;

	for (i = 0; i < n; i++) {
		if (weft_chunk_is_null(v, i))
			continue;
		memcpy(&a[m], v->values + 8 * (size_t)i, 8);
		if (k->desc) /* best first: ~ reverses the order */
			a[m] = ~a[m];
		m++;
	}
	/* limit > m / 4, not limit * 4 > m: a limit from the wire may be
	 * near 2^63, and the product wraps (fuzz_frag) */
	if (limit == 0 || limit > m / 4) {
		if (o->has_kbound) {
			x = o->kbound;
			goto pick;
		}
		for (i = 0; i < n; i++)
			sel[i] = i;
		return n;
	}
	/* quickselect: a[want] = the limit-th smallest */
	want = (uint32_t)limit - 1;
	lo = 0;
	hi = m - 1;
	while (lo < hi) {
		int64_t p = a[lo + (hi - lo) / 2], t;
		uint32_t l = lo, r = hi;

		while (l <= r) {
			while (a[l] < p)
				l++;
			while (a[r] > p)
				r--;
			if (l <= r) {
				t = a[l];
				a[l] = a[r];
				a[r] = t;
				l++;
				if (r == 0)
					break;
				r--;
			}
		}
		if (want <= r)
			hi = r;
		else if (want >= l)
			lo = l;
		else
			break;
	}
	x = a[want];
	if (k->desc)
		x = ~x;
	if (o->has_kbound && (k->desc ? o->kbound > x : o->kbound < x))
		x = o->kbound;
pick:
	for (i = 0, m = 0; i < n; i++) {
		int64_t b;

		memcpy(&b, v->values + 8 * (size_t)i, 8);
		sel[m] = i;
		if (weft_chunk_is_null(v, i))
			m += k->nulls_first;
		else
			m += k->desc ? b >= x : b <= x;
	}
	return m;
}

/* Of rb's rows (sort keys decoded), those that sort strictly before the
 * threshold row; compacts rb and sel (chunk positions) to them. */
uint32_t
wq_topn_beats(wq_op_t *o, uint32_t *sel)
{
	const wq_topn_t *t = o->top;
	const wq_frag_t *f = o->f;
	uint8_t *bn[64], *bv[64];
	uint32_t keep[WEFT_BATCH];
	uint32_t i, m = 0, c, n = o->rb->n;

	for (c = 0; c < f->ncols && c < 64; c++) {
		bn[c] = o->rb->cols[c].nulls;
		bv[c] = (uint8_t *)o->rb->cols[c].v.i64;
	}
	for (i = 0; i < n; i++) {
		int r =
		    wq_cmp_keys(f->order, f->norder, t->rows.types, bn, bv, i,
				t->rows.nulls, t->rows.vals, t->limit - 1);

		keep[m] = i;
		m += r < 0;
	}
	if (m < n) {
		for (i = 0; i < m; i++)
			sel[i] = sel[keep[i]];
		wq_compact(o->rb, keep, m, NULL);
	}
	return m;
}

static int
wq_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Top-N over an integer first key with no filter: read the key column's
 * view of every chunk (kept in kviews) and take as kbound the limit-th
 * best of the chunks' maxima (minima when ascending): every chunk's best
 * is a row, so `limit` rows are at least that good. */
int
wq_topn_bound(wq_op_t *o, uint32_t kc, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	const wq_sortkey_t *k = &f->order[0];
	uint64_t limit = o->top->limit;
	int64_t *best;
	uint32_t ch, n = 0;
	int rc = 0;

	o->kbound_done = true;
	if (o->nchunks == 0 || o->nchunks > WQ_KVIEWS_MAX || limit == 0 ||
	    limit > o->nchunks)
		return 0;
	o->kviews = calloc(o->nchunks, sizeof(*o->kviews));
	best = malloc(o->nchunks * sizeof(*best));
	if (o->kviews == NULL || best == NULL) {
		free(best);
		return wq_oom(err);
	}
	for (ch = 0; ch < o->nchunks; ch++) {
		weft_chunk_view_t *v = &o->kviews[ch];
		const uint8_t *buf;
		size_t len;

		rc = weft_snapshot_chunk(o->x->snap, o->sid, f->cols[kc], ch,
					 &buf, &len, err);
		if (rc == 0)
			rc = weft_chunk_view(buf, len, v, err);
		if (rc != 0)
			break;
		if (v->has_minmax && v->null_count < v->count)
			best[n++] = k->desc ? v->max_i : v->min_i;
	}
	if (rc == 0 && n >= limit) {
		qsort(best, n, sizeof(*best), wq_cmp_i64);
		o->kbound = k->desc ? best[n - limit] : best[limit - 1];
		o->has_kbound = true;
	}
	free(best);
	if (rc != 0) {
		free(o->kviews);
		o->kviews = NULL;
	}
	return rc;
}

/* Is every non-NULL key of chunk view v strictly worse than kbound? */
bool
wq_topn_bound_skip(const wq_op_t *o, const weft_chunk_view_t *v)
{
	const wq_sortkey_t *k = &o->f->order[0];

	if (!o->has_kbound || !v->has_minmax)
		return false;
	if (v->null_count > 0 && k->nulls_first)
		return false;
	if (v->null_count == v->count)
		return !k->nulls_first;
	return k->desc ? v->max_i < o->kbound : v->min_i > o->kbound;
}
