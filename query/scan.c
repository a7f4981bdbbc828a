/*
 * scan.c: the scan operator: runs one fragment (frag.h) straight from
 * the LMDB snapshot, one chunk (up to WEFT_BATCH rows) at a time.
 *
 * Scans read only the fragment's columns, skipping chunks whose zone map
 * (min/max, NULL count) proves that a `column op constant` conjunct of
 * the filter cannot hold. Text columns keep their per-chunk dictionary
 * codes alongside the decoded strings (wq_dict_t) so that aggregation and
 * joins on a text key hash each distinct value of a chunk once instead of
 * every row.
 *
 * Filters run on the chunk views before anything is decoded when they
 * can: a conjunct over one text column is evaluated once per dictionary
 * entry and then looked up by code, `integer column op constant` on the
 * raw values; only the surviving rows are decoded. A top-N decodes its
 * first sort key alone and keeps the rows that may still make the cut
 * (by the current threshold row, by selection within the chunk before
 * there is one, or by a bound taken from every chunk's zone map), and
 * decodes the other columns only for those (scan_topn.c says which).
 * Then the fragment's projection, partial aggregation or top-N runs over
 * the rows left.
 *
 * Invariants: conjuncts are reordered (dictionary and view conjuncts
 * first) only when none of them can fail, so no error is raised that the
 * written order would have avoided. Per-row work stays in static
 * functions of this file.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/exec.h"
#include "storage/chunk.h"

static int wq_dict_eval(wq_op_t *o, const weft_expr_t *e, uint32_t c,
			weft_err_t *err);

/* ---- zone maps ---- */

static bool
wq_cmpop(int op)
{
	return op == WEFT_OP_EQ || op == WEFT_OP_NE || op == WEFT_OP_LT ||
	       op == WEFT_OP_LE || op == WEFT_OP_GT || op == WEFT_OP_GE;
}

static int
wq_flip(int op)
{
	switch (op) {
	case WEFT_OP_LT: return WEFT_OP_GT;
	case WEFT_OP_LE: return WEFT_OP_GE;
	case WEFT_OP_GT: return WEFT_OP_LT;
	case WEFT_OP_GE: return WEFT_OP_LE;
	default: return op;
	}
}

/* Is e `column op constant` (either way round, a non-NULL constant of
 * the column's type, one whose zone map can be checked)? Fills z. */
static bool
wq_colconst(const wq_frag_t *f, const weft_expr_t *e, wq_zone_t *z)
{
	const weft_expr_t *a, *b;
	int op;
	weft_sqltype_t t;

	if (e->kind != WEFT_E_OP || !wq_cmpop(e->op) || e->nargs != 2)
		return false;
	a = e->args[0];
	b = e->args[1];
	op = e->op;
	if (a->kind == WEFT_E_CONST && b->kind == WEFT_E_COL) {
		const weft_expr_t *tmp = a;

		a = b;
		b = tmp;
		op = wq_flip(op);
	}
	if (a->kind != WEFT_E_COL || b->kind != WEFT_E_CONST || b->cval.null ||
	    a->col >= f->ncols)
		return false;
	t = f->ctypes[a->col];
	if (a->type != t ||
	    (b->type != t && !(t == WEFT_S_INT64 && b->type == WEFT_S_INT32)))
		return false;
	if (t != WEFT_S_INT64 && t != WEFT_S_TIMESTAMP && t != WEFT_S_FLOAT64 &&
	    t != WEFT_S_TEXT)
		return false;
	z->col = a->col;
	z->op = op;
	z->k = b->cval;
	return true;
}

static void
wq_zone_collect(wq_op_t *o, const weft_expr_t *e)
{
	const wq_frag_t *f = o->f;
	uint32_t i;

	if (e == NULL)
		return;
	if (e->kind == WEFT_E_AND) {
		for (i = 0; i < e->nargs; i++)
			wq_zone_collect(o, e->args[i]);
		return;
	}
	if (o->nzones >= 64)
		return;
	if (e->kind == WEFT_E_ISNULL && e->nargs == 1 &&
	    e->args[0]->kind == WEFT_E_COL && e->args[0]->col < f->ncols) {
		wq_zone_t *z = &o->zones[o->nzones++];

		z->col = e->args[0]->col;
		z->op = (e->flags & WEFT_EF_NOT) ? -2 : -1;
		return;
	}
	if (wq_colconst(f, e, &o->zones[o->nzones]))
		o->nzones++;
}

static int
wq_cmp_text(const uint8_t *a, size_t al, const char *b, size_t bl)
{
	size_t m = al < bl ? al : bl;
	int c = m ? memcmp(a, b, m) : 0;

	if (c != 0)
		return c < 0 ? -1 : 1;
	return al < bl ? -1 : al > bl;
}

/* The signs of (min - k) and (max - k) of the chunk's zone map against
 * the conjunct's constant; false when they are not known. */
static bool
wq_zone_cmp(const wq_zone_t *z, const weft_chunk_view_t *v, int *lo, int *hi)
{
	int cmin, cmax;

	if (!v->has_minmax)
		return false;
	switch (v->type) {
	case WEFT_T_INT64:
	case WEFT_T_TIMESTAMP:
		cmin = v->min_i < z->k.u.i ? -1 : v->min_i > z->k.u.i;
		cmax = v->max_i < z->k.u.i ? -1 : v->max_i > z->k.u.i;
		break;
	case WEFT_T_FLOAT64:
		if (isnan(v->min_f) || isnan(v->max_f) || isnan(z->k.u.f))
			return false;
		cmin = v->min_f < z->k.u.f ? -1 : v->min_f > z->k.u.f;
		cmax = v->max_f < z->k.u.f ? -1 : v->max_f > z->k.u.f;
		break;
	case WEFT_T_TEXT:
		if (v->min_s == NULL || v->max_s == NULL)
			return false;
		cmin = wq_cmp_text(v->min_s, v->min_s_len, z->k.u.s.p,
				   z->k.u.s.len);
		cmax = wq_cmp_text(v->max_s, v->max_s_len, z->k.u.s.p,
				   z->k.u.s.len);
		break;
	default: return false;
	}
	*lo = cmin;
	*hi = cmax;
	return true;
}

/* May a row of this chunk satisfy the zone's conjunct? */
static bool
wq_zone_may(const wq_zone_t *z, const weft_chunk_view_t *v)
{
	int cmin, cmax; /* sign of (min - k), (max - k) */

	if (z->op == -1)
		return v->null_count > 0;
	if (z->op == -2)
		return v->null_count < v->count;
	if (v->null_count == v->count)
		return false; /* comparisons with NULL are never true */
	if (!wq_zone_cmp(z, v, &cmin, &cmax))
		return true;
	switch (z->op) {
	case WEFT_OP_EQ: return cmin <= 0 && cmax >= 0;
	case WEFT_OP_NE: return !(cmin == 0 && cmax == 0);
	case WEFT_OP_LT: return cmin < 0;
	case WEFT_OP_LE: return cmin <= 0;
	case WEFT_OP_GT: return cmax > 0;
	case WEFT_OP_GE: return cmax >= 0;
	default: return true;
	}
}

/* Does every row of this chunk satisfy the zone's conjunct (no NULL, and
 * the zone map inside its range)? Then it need not be evaluated: a row
 * policy's predicate that holds for the whole chunk costs nothing. */
static bool
wq_zone_all(const wq_zone_t *z, const weft_chunk_view_t *v)
{
	int cmin, cmax;

	if (z->op == -1)
		return v->null_count == v->count;
	if (z->op == -2)
		return v->null_count == 0;
	if (v->null_count != 0 || !wq_zone_cmp(z, v, &cmin, &cmax))
		return false;
	switch (z->op) {
	case WEFT_OP_EQ: return cmin == 0 && cmax == 0;
	case WEFT_OP_NE: return cmax < 0 || cmin > 0;
	case WEFT_OP_LT: return cmax < 0;
	case WEFT_OP_LE: return cmax <= 0;
	case WEFT_OP_GT: return cmin > 0;
	case WEFT_OP_GE: return cmin >= 0;
	default: return false;
	}
}

/* Point rdict[c] at the dictionary of text column c's chunk view (once
 * per chunk: rdict[c].id is NULL until then). */
static int
wq_scan_dict(wq_op_t *o, uint32_t c, const weft_chunk_view_t *cv,
	     weft_err_t *err)
{
	uint32_t dsz = cv->dict_size, i;
	weft_str_t *dv;
	static const weft_str_t empty = {"", 0};

	if (o->rdict[c].id != NULL)
		return 0;
	if (dsz + 1 > o->dcap[c]) {
		weft_str_t *nd = realloc(o->dvals[c], (dsz + 1) * sizeof(*nd));

		if (nd == NULL)
			return wq_oom(err);
		o->dvals[c] = nd;
		o->dcap[c] = dsz + 1;
	}
	dv = o->dvals[c];
	for (i = 0; i < dsz; i++) {
		uint32_t a, b;

		memcpy(&a, cv->dict_offsets + 4 * (size_t)i, 4);
		memcpy(&b, cv->dict_offsets + 4 * (size_t)i + 4, 4);
		dv[i].p = (const char *)cv->dict_data + a;
		dv[i].len = b - a;
	}
	dv[dsz] = empty;
	o->rdict[c].id = (const void *)(uintptr_t)(++o->gen * 4096 + c);
	o->rdict[c].vals = dv;
	o->rdict[c].n = dsz;
	o->rdict[c].hasnull = cv->null_count > 0;
	return 0;
}

/* Dictionary code of row r of a text chunk view. */
static inline uint32_t
wq_view_code(const weft_chunk_view_t *cv, uint32_t r)
{
	if (cv->code_width == 1)
		return cv->values[r];
	if (cv->code_width == 2) {
		uint16_t x;

		memcpy(&x, cv->values + 2 * (size_t)r, 2);
		return x;
	}
	{
		uint32_t x;

		memcpy(&x, cv->values + 4 * (size_t)r, 4);
		return x;
	}
}

/* Decode column c of the current chunk into rb->cols[c][0..m): rows
 * sel[0..m) of the chunk, or its first m rows when sel is NULL. */
static int
wq_scan_decode(wq_op_t *o, uint32_t c, const weft_chunk_view_t *cv,
	       const uint32_t *sel, uint32_t m, weft_err_t *err)
{
	weft_vec_t *v = &o->rb->cols[c];
	uint32_t i;
	int rc;

	if (cv->nulls == NULL)
		memset(v->nulls, 0, m);
	else if (sel == NULL)
		for (i = 0; i < m; i++)
			v->nulls[i] = (cv->nulls[i >> 3] >> (i & 7)) & 1;
	else
		for (i = 0; i < m; i++)
			v->nulls[i] = weft_chunk_is_null(cv, sel[i]);
	switch (cv->type) {
	case WEFT_T_INT64:
	case WEFT_T_TIMESTAMP:
	case WEFT_T_FLOAT64:
		if (sel == NULL)
			memcpy(v->v.i64, cv->values, (size_t)m * 8);
		else
			for (i = 0; i < m; i++)
				memcpy(&v->v.i64[i],
				       cv->values + 8 * (size_t)sel[i], 8);
		break;
	case WEFT_T_BOOL:
		for (i = 0; i < m; i++) {
			uint32_t r = sel ? sel[i] : i;

			v->v.b[i] = (cv->values[r >> 3] >> (r & 7)) & 1;
		}
		break;
	case WEFT_T_TEXT: {
		uint32_t dsz = cv->dict_size, *codes = o->rdict[c].codes;
		const weft_str_t *dv;

		rc = wq_scan_dict(o, c, cv, err);
		if (rc != 0)
			return rc;
		dv = o->rdict[c].vals;
		if (sel == NULL && cv->code_width == 1) {
			for (i = 0; i < m; i++)
				codes[i] = cv->values[i];
		} else if (sel == NULL && cv->code_width == 4) {
			memcpy(codes, cv->values, (size_t)m * 4);
		} else {
			for (i = 0; i < m; i++)
				codes[i] = wq_view_code(cv, sel ? sel[i] : i);
		}
		if (cv->nulls != NULL)
			for (i = 0; i < m; i++)
				if (v->nulls[i])
					codes[i] = dsz;
		for (i = 0; i < m; i++) {
			uint32_t k = codes[i];

			if (k >= dsz) /* only NULL rows can be out of range */
				codes[i] = k = dsz;
			v->v.s[i] = dv[k];
		}
		break;
	}
	default: return weft_err_set(err, WEFT_ECORRUPT, "bad column type");
	}
	return 0;
}

/* Decode rows sel[0..m) of column c into rb->cols[c][0..m). */
static void
wq_scan_decode_sel(wq_op_t *o, uint32_t c, const weft_chunk_view_t *cv,
		   const uint32_t *sel, uint32_t m)
{
	weft_vec_t *v = &o->rb->cols[c];
	uint32_t i;

	for (i = 0; i < m; i++) {
		uint32_t r = sel[i];

		v->nulls[i] = weft_chunk_is_null(cv, r);
		switch (cv->type) {
		case WEFT_T_INT64:
		case WEFT_T_TIMESTAMP:
		case WEFT_T_FLOAT64:
			memcpy(&v->v.i64[i], cv->values + 8 * (size_t)r, 8);
			break;
		case WEFT_T_BOOL:
			v->v.b[i] = (cv->values[r >> 3] >> (r & 7)) & 1;
			break;
		default: {
			size_t len = 0;
			const char *p =
			    v->nulls[i] ? "" : weft_chunk_text(cv, r, &len);

			v->v.s[i].p = p;
			v->v.s[i].len = (uint32_t)len;
		}
		}
	}
}

/* Load (once per chunk) and check the view of read column c. */
static int
wq_scan_view(wq_op_t *o, uint32_t ch, uint32_t c, weft_chunk_view_t *vp,
	     uint8_t *loaded, uint32_t *cnt, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	const uint8_t *buf;
	size_t len;
	int rc;

	if (loaded[c])
		return 0;
	if (o->kviews != NULL && (int)c == wq_topn_keycol(o)) {
		vp[c] = o->kviews[ch];
	} else {
		rc = weft_snapshot_chunk(o->x->snap, o->sid, f->cols[c], ch,
					 &buf, &len, err);
		if (rc == 0)
			rc = weft_chunk_view(buf, len, &vp[c], err);
		if (rc != 0)
			return rc;
	}
	if ((weft_sqltype_t)vp[c].type != f->ctypes[c])
		return weft_err_set(err, WEFT_ECORRUPT,
				    "product %s: column %u changed type",
				    f->product, f->cols[c]);
	if (*cnt == UINT32_MAX)
		*cnt = vp[c].count;
	else if (vp[c].count != *cnt)
		return weft_err_set(err, WEFT_ECORRUPT,
				    "product %s: chunk %u: columns disagree on "
				    "row count",
				    f->product, ch);
	loaded[c] = 1;
	return 0;
}

/* Keep the rows of sel[0..m) (the first m rows of the chunk when all)
 * whose int64 value in view v is not NULL and satisfies `value op k`.
 * Returns how many, in sel. */
static uint32_t
wq_vsel_i64(const weft_chunk_view_t *v, int op, int64_t k, uint32_t *sel,
	    uint32_t m, bool all)
{
	const uint8_t *p = v->values;
	uint32_t i, j = 0;

#define WQ_VSEL(COND)                                                          \
	do {                                                                   \
		if (all) {                                                     \
			for (i = 0; i < m; i++) {                              \
				int64_t a;                                     \
				memcpy(&a, p + 8 * (size_t)i, 8);              \
				sel[j] = i;                                    \
				j += (COND);                                   \
			}                                                      \
		} else {                                                       \
			for (i = 0; i < m; i++) {                              \
				uint32_t r = sel[i];                           \
				int64_t a;                                     \
				memcpy(&a, p + 8 * (size_t)r, 8);              \
				sel[j] = r;                                    \
				j += (COND);                                   \
			}                                                      \
		}                                                              \
	} while (0)
	switch (op) {
	case WEFT_OP_EQ: WQ_VSEL(a == k); break;
	case WEFT_OP_NE: WQ_VSEL(a != k); break;
	case WEFT_OP_LT: WQ_VSEL(a < k); break;
	case WEFT_OP_LE: WQ_VSEL(a <= k); break;
	case WEFT_OP_GT: WQ_VSEL(a > k); break;
	default: WQ_VSEL(a >= k); break;
	}
#undef WQ_VSEL
	if (v->nulls != NULL) { /* NULL rows hold 0: drop them */
		uint32_t n = 0;

		for (i = 0; i < j; i++) {
			sel[n] = sel[i];
			n += !weft_chunk_is_null(v, sel[i]);
		}
		j = n;
	}
	return j;
}

/* Keep the rows of sel[0..*m) (the first *m rows when all) for which
 * dictionary conjunct k, evaluated once per entry of the dictionary of
 * text view v, is true. 0 done, 1 not possible for this chunk (nothing
 * changed), or a negative error. */
static int
wq_vsel_dict(wq_op_t *o, uint32_t k, const weft_chunk_view_t *v, uint32_t *sel,
	     uint32_t *m, bool all, weft_err_t *err)
{
	uint32_t c = o->dcol[k], n, i, j = 0, x, nok = 0;
	const uint8_t *b, *nl;
	uint8_t *ok = o->dok, okn;
	int rc;

	rc = wq_scan_dict(o, c, v, err);
	if (rc == 0)
		rc = wq_dict_eval(o, o->dconj[k], c, err);
	if (rc != 0)
		return rc;
	n = o->rdict[c].n;
	b = o->dv.v.b;
	nl = o->dv.nulls;
	for (x = 0; x < n; x++) {
		ok[x] = b[x] && !nl[x];
		nok += ok[x];
	}
	okn = o->rdict[c].hasnull ? (b[n] && !nl[n]) : 0;
	ok[n] = okn; /* an all-NULL chunk's rows hold code 0 */
	if (nok == 0 && !okn) {
		j = 0;
	} else if (v->nulls != NULL) {
		for (i = 0; i < *m; i++) {
			uint32_t r = all ? i : sel[i];

			sel[j] = r;
			j += weft_chunk_is_null(v, r) ? okn
						      : ok[wq_view_code(v, r)];
		}
	} else if (v->code_width == 1 && all) {
		for (i = 0; i < *m; i++) {
			sel[j] = i;
			j += ok[v->values[i]];
		}
	} else if (v->code_width == 1) {
		for (i = 0; i < *m; i++) {
			uint32_t r = sel[i];

			sel[j] = r;
			j += ok[v->values[r]];
		}
	} else {
		for (i = 0; i < *m; i++) {
			uint32_t r = all ? i : sel[i];

			sel[j] = r;
			j += ok[wq_view_code(v, r)];
		}
	}
	*m = j;
	return 0;
}

/* Evaluate the filter's view conjuncts on the views of chunk ch, loading
 * each column's view only when it is needed (a chunk that no row of
 * passes loads nothing more), and decode the surviving rows into rb.
 * Returns how many rows, or a negative error. */
static int
wq_scan_vfilter(wq_op_t *o, uint32_t ch, weft_chunk_view_t *vp, uint8_t *loaded,
		uint32_t *cnt, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	uint32_t m = UINT32_MAX, z,
		 c; /* UINT32_MAX: every row, count unknown */
	bool all = true;
	int rc;

	o->vfilt = true;
	/* dictionary conjuncts first (they exist only when no conjunct can
	 * fail, so any order will do): they read one code byte or two per
	 * row, so the wider integer values are then read only for the rows
	 * that are left */
	for (z = 0; z < o->ndconj; z++) {
		rc = wq_scan_view(o, ch, o->dcol[z], vp, loaded, cnt, err);
		if (rc != 0)
			return rc;
		if (m == UINT32_MAX)
			m = *cnt;
		if (m == 0)
			return 0;
		rc = wq_vsel_dict(o, z, &vp[o->dcol[z]], o->sel, &m, all, err);
		if (rc < 0)
			return rc;
		o->dvdone[z] = rc == 0;
		if (rc == 0)
			all = false;
	}
	for (z = 0; z < o->nvconj; z++) {
		const wq_zone_t *q = &o->vconj[z];

		rc = wq_scan_view(o, ch, q->col, vp, loaded, cnt, err);
		if (rc != 0)
			return rc;
		if (m == UINT32_MAX)
			m = *cnt;
		if (m == 0)
			return 0;
		if (wq_zone_all(q, &vp[q->col]))
			continue; /* every row passes */
		m = wq_vsel_i64(&vp[q->col], q->op, q->k.u.i, o->sel, m, all);
		all = false;
	}
	if (m == 0)
		return 0;
	for (c = 0; c < f->ncols; c++) {
		rc = wq_scan_view(o, ch, c, vp, loaded, cnt, err);
		if (rc == 0)
			rc = wq_scan_decode(o, c, &vp[c], all ? NULL : o->sel,
					    m, err);
		if (rc != 0)
			return rc;
	}
	o->rb->n = m;
	return (int)m;
}

/* A chunk of a fragment that reads no column: its row count from one
 * column's view. 1: rows (rb->n set), 0: none, or a negative error. */
static int
wq_scan_count_chunk(wq_op_t *o, uint32_t ch, weft_err_t *err)
{
	const uint8_t *buf;
	size_t len;
	weft_chunk_view_t cv;
	int rc;

	rc = weft_snapshot_chunk(o->x->snap, o->sid, o->countcol, ch, &buf,
				 &len, err);
	if (rc == 0)
		rc = weft_chunk_view(buf, len, &cv, err);
	if (rc != 0)
		return rc;
	o->rb->n = cv.count;
	return cv.count > 0;
}

/* Zone maps first, so that a skipped chunk loads nothing else: 1 when a
 * row of chunk ch may match, 0 when none can, or a negative error. */
static int
wq_scan_zones(wq_op_t *o, uint32_t ch, weft_chunk_view_t *vp, uint8_t *loaded,
	      uint32_t *cnt, weft_err_t *err)
{
	uint32_t z, c;
	int rc;

	for (z = 0; z < o->nzones; z++) {
		c = o->zones[z].col;
		rc = wq_scan_view(o, ch, c, vp, loaded, cnt, err);
		if (rc != 0)
			return rc;
		if (!wq_zone_may(&o->zones[z], &vp[c]))
			return 0;
	}
	return 1;
}

/* Does the top-N prefilter apply to this scan (scan_topn.c)? Before the
 * top-N is full it needs an unfiltered, non-float key. */
static bool
wq_scan_topn_applies(const wq_op_t *o)
{
	const wq_frag_t *f = o->f;
	int kc;

	if (o->top == NULL || (kc = wq_topn_keycol(o)) < 0)
		return false;
	return o->top->full ||
	       (f->filter == NULL && f->ctypes[kc] != WEFT_S_FLOAT64);
}

/* Decode columns of chunk ch for rows sel[0..m): the sort keys when
 * keys, else the other columns. */
static int
wq_scan_topn_decode(wq_op_t *o, uint32_t ch, weft_chunk_view_t *vp,
		    uint8_t *loaded, uint32_t *cnt, uint32_t m, bool keys,
		    weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	uint32_t c, z;
	int rc;

	for (c = 0; c < f->ncols; c++) {
		bool key = false;

		for (z = 0; z < f->norder; z++)
			key |= f->order[z].col == c;
		if (key != keys)
			continue;
		rc = wq_scan_view(o, ch, c, vp, loaded, cnt, err);
		if (rc != 0)
			return rc;
		wq_scan_decode_sel(o, c, &vp[c], o->sel, m);
	}
	return 0;
}

/* Chunk ch under the top-N prefilter: decode the first sort key alone
 * and keep only the rows that may beat the current threshold (or, before
 * there is one, be among the chunk's best), then the other sort keys for
 * the full comparison, then the other columns. 1: rows in rb, 0: none,
 * or a negative error. */
static int
wq_scan_topn_chunk(wq_op_t *o, uint32_t ch, weft_chunk_view_t *vp,
		   uint8_t *loaded, uint32_t *cnt, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	uint32_t kc = (uint32_t)wq_topn_keycol(o), m, c;
	bool full = o->top->full;
	int rc;

	if (!o->kbound_done && f->filter == NULL &&
	    f->ctypes[kc] != WEFT_S_FLOAT64) {
		rc = wq_topn_bound(o, kc, err);
		if (rc != 0)
			return rc;
	}
	rc = wq_scan_view(o, ch, kc, vp, loaded, cnt, err);
	if (rc != 0)
		return rc;
	if (*cnt == 0 || (full && wq_topn_zone_skip(o, &vp[kc])) ||
	    wq_topn_bound_skip(o, &vp[kc]))
		return 0;
	if (full)
		m = wq_topn_candidates(o, kc, &vp[kc], *cnt, o->sel);
	else
		m = wq_topn_select(o, &vp[kc], *cnt, o->sel);
	if (m == 0)
		return 0;
	rc = wq_scan_topn_decode(o, ch, vp, loaded, cnt, m, true, err);
	if (rc != 0)
		return rc;
	o->rb->n = m;
	if (full)
		m = wq_topn_beats(o, o->sel);
	if (m == 0)
		return 0;
	rc = wq_scan_topn_decode(o, ch, vp, loaded, cnt, m, false, err);
	if (rc != 0)
		return rc;
	for (c = 0; c < f->ncols; c++)
		o->rdict[c].id = NULL;
	return 1;
}

/* Every row of chunk ch, every read column decoded. 1: rows in rb, 0:
 * an empty chunk, or a negative error. */
static int
wq_scan_all(wq_op_t *o, uint32_t ch, weft_chunk_view_t *vp, uint8_t *loaded,
	    uint32_t *cnt, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	uint32_t c;
	int rc;

	for (c = 0; c < f->ncols; c++) {
		rc = wq_scan_view(o, ch, c, vp, loaded, cnt, err);
		if (rc != 0)
			return rc;
	}
	if (*cnt == 0)
		return 0;
	for (c = 0; c < f->ncols; c++) {
		rc = wq_scan_decode(o, c, &vp[c], NULL, *cnt, err);
		if (rc != 0)
			return rc;
	}
	o->rb->n = *cnt;
	return 1;
}

/* Read the next chunk that may match into rb. 1: rows, 0: end. */
static int
wq_scan_chunk(wq_op_t *o, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	weft_chunk_view_t views[64], *vp = views;
	uint8_t lbuf[64], *loaded = lbuf;
	int rc = 0;

	if (f->ncols > 64) {
		vp = calloc(f->ncols, sizeof(*vp));
		loaded = calloc(f->ncols, 1);
		if (vp == NULL || loaded == NULL) {
			rc = wq_oom(err);
			goto out;
		}
	}
	while (rc == 0 && o->chunk < o->nchunks) {
		uint32_t ch = o->chunk++, c, cnt = UINT32_MAX;

		if (f->ncols == 0) {
			rc = wq_scan_count_chunk(o, ch, err);
			continue;
		}
		memset(loaded, 0, f->ncols);
		for (c = 0; c < f->ncols; c++)
			o->rdict[c].id = NULL;
		o->vfilt = false;
		rc = wq_scan_zones(o, ch, vp, loaded, &cnt, err);
		if (rc <= 0)
			continue;
		if (wq_scan_topn_applies(o))
			rc = wq_scan_topn_chunk(o, ch, vp, loaded, &cnt, err);
		else if (o->nvconj > 0 || o->ndconj > 0)
			rc = wq_scan_vfilter(o, ch, vp, loaded, &cnt, err);
		else
			rc = wq_scan_all(o, ch, vp, loaded, &cnt, err);
	}
	if (rc > 0)
		rc = 1;
out:
	if (vp != views)
		free(vp);
	if (loaded != lbuf)
		free(loaded);
	return rc;
}

/* Can evaluating e never fail (no arithmetic, casts or functions that
 * may raise an error)? */
static bool
wq_expr_safe(const weft_expr_t *e)
{
	uint32_t i;

	switch (e->kind) {
	case WEFT_E_COL:
	case WEFT_E_CONST:
	case WEFT_E_AND:
	case WEFT_E_OR:
	case WEFT_E_NOT:
	case WEFT_E_ISNULL:
	case WEFT_E_IN:
	case WEFT_E_COALESCE:
	case WEFT_E_NULLIF: break;
	case WEFT_E_LIKE:
		if (e->nargs > 2)
			return false; /* ESCAPE may be invalid */
		break;
	case WEFT_E_OP:
		if (!wq_cmpop(e->op))
			return false;
		break;
	case WEFT_E_FUNC:
		if (e->op != WEFT_F_LOWER && e->op != WEFT_F_UPPER &&
		    e->op != WEFT_F_LENGTH)
			return false;
		break;
	default: return false;
	}
	for (i = 0; i < e->nargs; i++)
		if (!wq_expr_safe(e->args[i]))
			return false;
	return true;
}

/* Evaluate one conjunct over column c's dictionary: entry results in
 * o->dv (entry n = NULL). 0, 1 when not possible for this chunk, or a
 * negative error. */
static int
wq_dict_eval(wq_op_t *o, const weft_expr_t *e, uint32_t c, weft_err_t *err)
{
	const wq_dict_t *d = &o->rdict[c];
	weft_batch_t db;
	uint32_t i, n = d->n + (d->hasnull ? 1 : 0);
	int rc;

	if (d->id == NULL || d->n >= WEFT_BATCH || n == 0)
		return 1;
	for (i = 0; i < o->rb->ncols; i++)
		o->dtmp[i] = o->rb->cols[i];
	o->dtmp[c].v.s = (weft_str_t *)d->vals;
	o->dtmp[c].nulls = o->dnullv.nulls;
	memset(o->dnullv.nulls, 0, d->n);
	o->dnullv.nulls[d->n] = 1;
	db.n = n;
	db.ncols = o->rb->ncols;
	db.cols = o->dtmp;
	db.arena = o->rb->arena;
	rc = weft_expr_eval(e, &db, &o->dv, o->rb->arena, o->x->now, err);
	return rc;
}

/* Apply the fragment's filter to rb: 1 rows left, 0 none, <0 error. */
static int
wq_scan_filter(wq_op_t *o, weft_err_t *err)
{
	uint32_t k, m, i;
	int rc;

	for (k = 0; k < o->nvconj && !o->vfilt; k++) {
		rc = weft_expr_eval(o->vexpr[k], o->rb, &o->fv, o->rb->arena,
				    o->x->now, err);
		if (rc != 0)
			return rc;
		m = wq_truesel(&o->fv, o->rb->n, o->sel);
		if (m == 0)
			return 0;
		wq_compact(o->rb, o->sel, m, o->rdict);
	}
	for (k = 0; k < o->ndconj; k++) {
		uint32_t c = o->dcol[k];
		const uint32_t *codes = o->rdict[c].codes;

		if (o->vfilt && o->dvdone[k])
			continue;
		rc = wq_dict_eval(o, o->dconj[k], c, err);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			rc = weft_expr_eval(o->dconj[k], o->rb, &o->fv,
					    o->rb->arena, o->x->now, err);
			if (rc != 0)
				return rc;
			m = wq_truesel(&o->fv, o->rb->n, o->sel);
		} else {
			const uint8_t *b = o->dv.v.b, *nl = o->dv.nulls;

			for (i = 0, m = 0; i < o->rb->n; i++) {
				uint32_t x = codes[i];

				o->sel[m] = i;
				m += b[x] && !nl[x];
			}
		}
		if (m == 0)
			return 0;
		wq_compact(o->rb, o->sel, m, o->rdict);
	}
	for (k = 0; k < o->nrconj; k++) {
		rc = weft_expr_eval(o->rconj[k], o->rb, &o->fv, o->rb->arena,
				    o->x->now, err);
		if (rc != 0)
			return rc;
		m = wq_truesel(&o->fv, o->rb->n, o->sel);
		if (m == 0)
			return 0;
		wq_compact(o->rb, o->sel, m, o->rdict);
	}
	return 1;
}

/* Next batch of rows after the filter and projection (no agg/top-N). */
static int
wq_scan_rows(wq_op_t *o, weft_batch_t **out, wq_dict_t **dict, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	uint32_t j;
	int rc;

	for (;;) {
		/* a filter that keeps nothing may read many chunks here */
		if ((rc = wq_stopped(o->x, err)) != 0)
			return rc;
		weft_batch_clear(o->rb);
		for (j = 0; j < f->ncols; j++)
			o->rdict[j].id = NULL;
		rc = wq_scan_chunk(o, err);
		if (rc <= 0)
			return rc;
		if (f->filter != NULL) {
			rc = wq_scan_filter(o, err);
			if (rc < 0)
				return rc;
			if (rc == 0)
				continue;
		}
		break;
	}
	if (f->nproj == 0) {
		*out = o->rb;
		*dict = o->rdict;
		return 1;
	}
	weft_batch_clear(o->pb);
	for (j = 0; j < f->nproj; j++) {
		const weft_expr_t *e = f->proj[j];

		o->dict[j].id = NULL;
		if (e->kind == WEFT_E_COL && e->col < f->ncols &&
		    e->type == o->rb->cols[e->col].type) {
			weft_vec_t *s = &o->rb->cols[e->col];
			size_t w = wq_width(s->type);

			memcpy(o->pb->cols[j].nulls, s->nulls, o->rb->n);
			memcpy(o->pb->cols[j].v.i64, s->v.i64, o->rb->n * w);
			if (o->rdict[e->col].id != NULL)
				o->dict[j] = o->rdict[e->col];
			continue;
		}
		rc = weft_expr_eval(e, o->rb, &o->pb->cols[j], o->pb->arena,
				    o->x->now, err);
		if (rc != 0)
			return rc;
	}
	o->pb->n = o->rb->n;
	*out = o->pb;
	*dict = o->dict;
	return 1;
}

/* A partial aggregation: fold every row of the scan, then emit the
 * groups (keys, then transition states) a batch at a time. */
static int
wq_scan_next_agg(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	weft_batch_t *b;
	wq_dict_t *d;
	int rc;

	if (!o->drained) {
		while ((rc = wq_scan_rows(o, &b, &d, err)) == 1) {
			rc = wq_agg_fold(o, f->keys, f->nkeys, f->aggs,
					 f->naggs, false, b, d, err);
			if (rc != 0)
				return rc;
		}
		if (rc < 0)
			return rc;
		o->drained = true;
	}
	return wq_agg_emit(o, out, err);
}

/* A profile: every row of the scan into the profile, then its rows. */
static int
wq_scan_next_prof(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	weft_batch_t *b;
	wq_dict_t *d;
	int rc;

	if (!o->drained) {
		while ((rc = wq_scan_rows(o, &b, &d, err)) == 1)
			if (wq_prof_add(o->prof, b, d) != 0)
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

/* A top-N: keep the best rows of the whole scan, then emit them in
 * order a batch at a time. */
static int
wq_scan_next_topn(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	weft_batch_t *b;
	wq_dict_t *d;
	int rc;

	if (!o->drained) {
		while ((rc = wq_scan_rows(o, &b, &d, err)) == 1) {
			rc = wq_topn_add(o->top, b);
			if (rc != 0)
				return wq_oom(err);
		}
		if (rc < 0)
			return rc;
		rc = wq_topn_shrink(o->top);
		if (rc != 0)
			return wq_oom(err);
		o->drained = true;
	}
	return wq_topn_emit(o, o->top, out);
}

int
wq_scan_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	weft_batch_t *b;
	wq_dict_t *d;
	int rc;

	o->xdict = NULL;
	if (f->profile)
		return wq_scan_next_prof(o, out, err);
	if (f->agg)
		return wq_scan_next_agg(o, out, err);
	if (f->norder > 0 && f->limit >= 0)
		return wq_scan_next_topn(o, out, err);
	if (f->limit >= 0 && o->passed >= (uint64_t)f->limit)
		return 0;
	rc = wq_scan_rows(o, &b, &d, err);
	if (rc != 1)
		return rc;
	if (f->limit >= 0 && o->passed + b->n > (uint64_t)f->limit)
		b->n = (uint32_t)((uint64_t)f->limit - o->passed);
	o->passed += b->n;
	o->xdict = d;
	*out = b;
	return 1;
}

/* Where the fragment's product is: looked up in the snapshot when the
 * scan runs alone (its columns must still be what f says), else taken
 * from the plan node; and which column counts rows when none is read. */
static int
wq_scan_locate(wq_op_t *o, const wq_frag_t *f, weft_err_t *err)
{
	weft_product_info_t pi = {0};
	uint32_t c;
	int rc;

	if (o->p != NULL && !o->p->decoded) {
		o->sid = o->p->storage_id;
		o->nchunks = o->p->nchunks;
		/* count rows with a fixed-width column when nothing is read */
		o->countcol = 0;
		return 0;
	}
	rc = weft_snapshot_product(o->x->snap, f->product, &pi, &o->sid,
				   &o->nchunks, err);
	if (rc != 0)
		return rc;
	for (c = 0; c < f->ncols; c++)
		if (f->cols[c] >= pi.ncols ||
		    (weft_sqltype_t)pi.cols[f->cols[c]].type != f->ctypes[c]) {
			rc = weft_err_set(err, WEFT_EINVAL,
					  "fragment does not "
					  "match product %s",
					  f->product);
			goto out;
		}
	o->countcol = 0;
	for (c = 0; c < pi.ncols; c++)
		if (pi.cols[c].type != WEFT_T_TEXT) {
			o->countcol = c;
			break;
		}
	if (pi.ncols == 0)
		o->nchunks = 0;
out:
	weft_product_info_clear(&pi);
	return rc;
}

/* Conjunct c of the filter (the filter itself when it is no AND). */
static const weft_expr_t *
wq_conjunct(const weft_expr_t *filter, uint32_t c)
{
	return filter->kind == WEFT_E_AND ? filter->args[c] : filter;
}

/*
 * How each conjunct of the filter runs: once per dictionary entry (one
 * text column: dconj), on the chunk views before decoding (`integer
 * column op constant`: vconj), or row by row (rconj). Conjuncts run in
 * the order written unless none can fail, so reordering cannot raise an
 * error that the written order would have avoided.
 */
static int
wq_scan_conjuncts(wq_op_t *o, const wq_frag_t *f, weft_err_t *err)
{
	const weft_expr_t *flt = f->filter;
	uint32_t nc = flt->kind == WEFT_E_AND ? flt->nargs : 1, c;
	uint8_t *used = calloc(f->ncols + 1, 1);
	bool allsafe = true;

	o->dconj = calloc(nc, sizeof(*o->dconj));
	o->rconj = calloc(nc, sizeof(*o->rconj));
	o->dcol = calloc(nc, sizeof(*o->dcol));
	o->dtmp = calloc(f->ncols + 1, sizeof(*o->dtmp));
	o->vconj = calloc(nc, sizeof(*o->vconj));
	o->vexpr = calloc(nc, sizeof(*o->vexpr));
	o->dvdone = calloc(nc, 1);
	o->dok = malloc(WEFT_BATCH + 1);
	if (!used || !o->dconj || !o->rconj || !o->dcol || !o->dtmp ||
	    !o->vconj || !o->vexpr || !o->dvdone || !o->dok ||
	    weft_vec_init(&o->dv, WEFT_S_BOOL) != 0 ||
	    weft_vec_init(&o->dnullv, WEFT_S_BOOL) != 0) {
		free(used);
		return wq_oom(err);
	}
	for (c = 0; c < nc; c++)
		allsafe &= wq_expr_safe(wq_conjunct(flt, c));
	for (c = 0; c < nc; c++) {
		const weft_expr_t *e = wq_conjunct(flt, c);
		uint32_t k, nu = 0, last = 0;
		wq_zone_t *z = &o->vconj[o->nvconj];

		memset(used, 0, f->ncols);
		weft_expr_refs(e, used, f->ncols);
		for (k = 0; k < f->ncols; k++)
			if (used[k]) {
				nu++;
				last = k;
			}
		if (allsafe && nu == 1 && f->ctypes[last] == WEFT_S_TEXT &&
		    e->type == WEFT_S_BOOL) {
			o->dconj[o->ndconj] = e;
			o->dcol[o->ndconj++] = last;
		} else if ((allsafe || o->nrconj == 0) &&
			   wq_colconst(f, e, z) &&
			   (f->ctypes[z->col] == WEFT_S_INT64 ||
			    f->ctypes[z->col] == WEFT_S_TIMESTAMP)) {
			/* cannot fail: evaluated first, on the view */
			o->vexpr[o->nvconj++] = e;
		} else {
			o->rconj[o->nrconj++] = e;
		}
	}
	free(used);
	return 0;
}

/* The names of the columns a profile shows: the plan's (the asker's own
 * scan), else the product's, read column c named after the product's
 * column cols[c] (the owner's projection keeps the asker's columns in
 * place: a mask stands where its column stood). */
static int
wq_scan_open_prof(wq_op_t *o, const wq_frag_t *f, weft_err_t *err)
{
	uint32_t c, n = f->nproj ? f->nproj : f->ncols;
	weft_sqltype_t t[WQ_COLS_MAX];
	weft_product_info_t pi = {0};
	char *names[WQ_COLS_MAX];
	uint64_t sid;
	uint32_t nch;
	int rc = 0;

	if (n > WQ_COLS_MAX)
		return weft_err_set(err, WEFT_EINVAL, "fragment too wide");
	if (f->colnames == NULL)
		rc = weft_snapshot_product(o->x->snap, f->product, &pi, &sid,
					   &nch, err);
	for (c = 0; rc == 0 && c < n; c++) {
		t[c] = f->nproj ? f->proj[c]->type : f->ctypes[c];
		names[c] = f->colnames && c < f->ncols ? f->colnames[c]
			   : c < f->ncols && f->cols[c] < pi.ncols
			       ? pi.cols[f->cols[c]].name
			       : NULL;
	}
	if (rc == 0 && wq_prof_new(n, t, names, o->x->prof_k,
				   o->x->prof_withhold, &o->prof) != 0)
		rc = wq_oom(err);
	weft_product_info_clear(&pi);
	if (rc == 0 && n > WQ_PROF_NCOLS) {
		/* the rows' dictionaries, one per profiled column */
		free(o->dict);
		if ((o->dict = calloc(n + 1, sizeof(*o->dict))) == NULL)
			rc = wq_oom(err);
	}
	return rc;
}

/* The batches and state of the fragment's last step: projection, then a
 * partial aggregation or a top-N; n output columns of types ot. */
static int
wq_scan_open_output(wq_op_t *o, const wq_frag_t *f, uint32_t n,
		    const weft_sqltype_t *ot, weft_err_t *err)
{
	weft_sqltype_t t[WQ_COLS_MAX];
	uint32_t c;

	if (f->nproj > 0) {
		for (c = 0; c < f->nproj && c < WQ_COLS_MAX; c++)
			t[c] = f->proj[c]->type;
		if (weft_batch_new(f->nproj, t, &o->pb) != 0)
			return wq_oom(err);
		if (f->nproj > n) {
			free(o->dict);
			o->dict = calloc(f->nproj + 1, sizeof(*o->dict));
			if (o->dict == NULL)
				return wq_oom(err);
		}
	}
	if (weft_batch_new(n, ot, &o->out) != 0)
		return wq_oom(err);
	if (f->profile)
		return wq_scan_open_prof(o, f, err);
	if (f->agg) {
		for (c = 0; c < f->nkeys && c < WQ_COLS_MAX; c++)
			t[c] = f->keys[c]->type;
		return wq_agg_state_open(o, WQ_AGG_PARTIAL, f->nkeys, t,
					 f->naggs, f->aggs, err);
	}
	if (f->norder > 0 && f->limit >= 0 &&
	    wq_topn_new(n, ot, (uint64_t)f->limit, f->order, f->norder,
			&o->top) != 0)
		return wq_oom(err);
	return 0;
}

int
wq_scan_open(wq_op_t *o, const wq_frag_t *f, weft_err_t *err)
{
	uint32_t c, n;
	weft_sqltype_t *ot = NULL;
	int rc;

	o->f = f;
	o->frag = true;
	if (f->ncols > WEFT_COLS_MAX || f->nproj > WQ_COLS_MAX ||
	    f->nkeys > WQ_COLS_MAX || f->naggs > WQ_COLS_MAX / 2 ||
	    f->norder > WQ_COLS_MAX)
		return weft_err_set(err, WEFT_EINVAL, "fragment too wide");
	rc = wq_scan_locate(o, f, err);
	if (rc != 0)
		return rc;
	rc = wq_frag_types(f, &n, &ot);
	if (rc != 0)
		return wq_oom(err);
	o->ncols = n;
	o->types = ot;
	if ((o->sel = malloc(WEFT_BATCH * sizeof(*o->sel))) == NULL ||
	    weft_batch_new(f->ncols, f->ctypes, &o->rb) != 0 ||
	    weft_vec_init(&o->fv, WEFT_S_BOOL) != 0 ||
	    (o->rdict = calloc(f->ncols + 1, sizeof(*o->rdict))) == NULL ||
	    (o->dvals = calloc(f->ncols + 1, sizeof(*o->dvals))) == NULL ||
	    (o->dcap = calloc(f->ncols + 1, sizeof(*o->dcap))) == NULL ||
	    (o->dict = calloc(n + 1, sizeof(*o->dict))) == NULL ||
	    (o->zones = calloc(64, sizeof(*o->zones))) == NULL)
		return wq_oom(err);
	for (c = 0; c < f->ncols; c++)
		if (f->ctypes[c] == WEFT_S_TEXT) {
			o->rdict[c].codes =
			    malloc(WEFT_BATCH * sizeof(uint32_t));
			if (o->rdict[c].codes == NULL)
				return wq_oom(err);
		}
	/* too many conjuncts: no zone maps */
	if (!(f->filter && f->filter->kind == WEFT_E_AND &&
	      f->filter->nargs > 64))
		wq_zone_collect(o, f->filter);
	if (f->filter != NULL && (rc = wq_scan_conjuncts(o, f, err)) != 0)
		return rc;
	return wq_scan_open_output(o, f, n, ot, err);
}

void
wq_scan_release(wq_op_t *o)
{
	uint32_t c;

	weft_batch_free(o->rb);
	weft_batch_free(o->pb);
	if (o->rdict) {
		for (c = 0; o->f && c < o->f->ncols; c++)
			free(o->rdict[c].codes);
		free(o->rdict);
	}
	if (o->dvals) {
		for (c = 0; o->f && c < o->f->ncols; c++)
			free(o->dvals[c]);
		free(o->dvals);
	}
	free(o->dcap);
	free(o->zones);
	free(o->dconj);
	free(o->rconj);
	free(o->dcol);
	free(o->dtmp);
	free(o->vconj);
	free(o->vexpr);
	free(o->kviews);
	free(o->dvdone);
	free(o->dok);
	weft_vec_release(&o->dv);
	weft_vec_release(&o->dnullv);
}
