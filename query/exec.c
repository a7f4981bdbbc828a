/*
 * exec.c: the vectorised executor: one operator per plan node, pulled a
 * batch (up to WEFT_BATCH rows) at a time.
 *
 * Batches: an operator's output batch is borrowed by its parent until the
 * parent asks for the next one, and the parent may modify it in place
 * (filters compact it). Operators that keep rows longer (sort, join build
 * side, aggregation, top-N) copy them into a wq_rows_t.
 *
 * Scans read product chunks straight from the LMDB snapshot: only the
 * fragment's columns, skipping chunks whose zone map (min/max, NULL count)
 * proves that a `column op constant` conjunct of the filter cannot hold.
 * Text columns keep their per-chunk dictionary codes alongside the
 * decoded strings (wq_dict_t) so that aggregation and joins on a text key
 * hash each distinct value of a chunk once instead of every row.
 *
 * Filters run on the chunk views before anything is decoded when they
 * can: a conjunct over one text column is evaluated once per dictionary
 * entry and then looked up by code, `integer column op constant` on the
 * raw values; only the surviving rows are decoded. A top-N decodes its
 * first sort key alone and keeps the rows that may still make the cut
 * (by the current threshold row, by selection within the chunk before
 * there is one, or by a bound taken from every chunk's zone map), and
 * decodes the other columns only for those.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "query/qint.h"
#include "storage/chunk.h"

/* A dictionary view of a text column for the current batch. */
typedef struct wq_dict {
	const void *id; /* NULL: no dictionary for this batch */
	const weft_str_t *vals;
	uint32_t n;
	uint32_t *codes; /* per row; NULL rows have code n */
	bool hasnull;
} wq_dict_t;

typedef struct wq_zone {
	uint32_t col;
	int op; /* WEFT_OP_* comparison, or -1 IS NULL, -2 IS NOT NULL */
	weft_value_t k;
} wq_zone_t;

/* Top-N: keeps the best `limit` rows of everything added. */
typedef struct wq_topn {
	uint64_t limit;
	uint32_t nkeys;
	const wq_sortkey_t *keys;
	wq_rows_t rows;
	bool full; /* rows.n >= limit and rows [0, limit) sorted: row
		      limit - 1 is the threshold */
	uint32_t *idx;
	size_t idxcap;
	uint32_t *sel;
	int64_t *scratch; /* WEFT_BATCH keys for wq_topn_select */
} wq_topn_t;

struct wq_op {
	wq_kind_t kind;
	bool frag; /* a scan fragment */
	wq_exec_t *x;
	const wq_plan_t *p;
	const wq_frag_t *f;
	wq_op_t *l, *r;
	uint32_t ncols;
	weft_sqltype_t *types;
	weft_batch_t *out;
	wq_dict_t *dict; /* per output column (owned), or NULL */
	wq_dict_t *xdict; /* what the parent sees for the current batch */
	bool done;
	uint32_t *sel;

	/* scan */
	uint64_t sid;
	uint32_t nchunks, chunk, countcol;
	weft_batch_t *rb;
	weft_vec_t fv;
	wq_dict_t *rdict;
	weft_str_t **dvals;
	uint32_t *dcap;
	uint64_t gen;
	wq_zone_t *zones;
	uint32_t nzones;
	weft_batch_t *pb;
	uint64_t passed; /* rows returned (LIMIT without ORDER) */
	/* the filter as conjuncts: those over one text column are evaluated
	 * once per dictionary entry (dconj/dcol), the rest row by row */
	const weft_expr_t **dconj, **rconj;
	uint32_t *dcol;
	uint32_t ndconj, nrconj;
	weft_vec_t dv, dnullv; /* dictionary results; NULL flags of entries */
	weft_vec_t *dtmp; /* scratch copies of rb's vectors */
	/* `int column op constant` conjuncts (vconj, their expressions
	 * vexpr) and the dictionary conjuncts are evaluated on the chunk
	 * views before anything is decoded (vfilt set for the batch;
	 * dvdone[k]: dconj[k] done) */
	wq_zone_t *vconj;
	const weft_expr_t **vexpr;
	uint32_t nvconj;
	bool vfilt;
	uint8_t *dvdone;
	uint8_t *dok; /* per dictionary entry: conjunct true */

	/* aggregation (AGG op and partial agg in a scan) */
	wq_aggtab_t *agg;
	weft_vec_t *kv, *av;
	uint32_t nav;
	uint32_t *gids;
	bool drained;
	uint32_t emit;

	/* project: vectors of out that alias the input's */
	weft_vec_t *own;
	bool *aliased;

	/* sort / top-N */
	wq_topn_t *top;
	/* top-N without a filter on an integer first key: the first key's
	 * view of every chunk (kviews) and a bound from their zone maps:
	 * `limit` rows are at least as good as kbound, so a row or chunk
	 * strictly worse cannot be among the results */
	weft_chunk_view_t *kviews;
	bool kbound_done, has_kbound;
	int64_t kbound;
	wq_rows_t rows;
	uint32_t *order;
	size_t norder;

	/* limit */
	uint64_t skipped, taken;

	/* distinct */
	wq_ktab_t kt;
	bool kt_init;
	uint64_t *h;

	/* join */
	bool build_left;
	wq_rows_t bk; /* build keys */
	wq_rows_t brows; /* build rows (all build columns) */
	uint64_t *bhash;
	uint32_t *bucket, *bnext, *bsame;
	uint32_t bmask;
	weft_batch_t *pk; /* probe key values */
	weft_batch_t *probe; /* current probe batch (borrowed) */
	uint32_t pi, pj; /* probe position: row, next build row */
	uint32_t *pp, *bp; /* pairs: probe row, build row */
	uint8_t *matched;
	bool tail; /* LEFT: unmatched rows of the current batch emitted */
	uint32_t *dmatch;
	uint32_t dmatch_cap;
	const void *dmatch_id;
};

static int wq_op_build(wq_exec_t *x, const wq_plan_t *p, wq_op_t **out,
		       weft_err_t *err);
static int wq_dict_eval(wq_op_t *o, const weft_expr_t *e, uint32_t c,
			weft_err_t *err);

/* ---- small helpers ---- */

static int
wq_oom(weft_err_t *err)
{
	return weft_err_set(err, WEFT_ENOMEM, "out of memory");
}

/* Keep rows sel[0..m) of b (in place); sel ascending. */
static void
wq_compact(weft_batch_t *b, const uint32_t *sel, uint32_t m, wq_dict_t *d)
{
	uint32_t c, i;

	if (m == b->n)
		return;
	for (c = 0; c < b->ncols; c++) {
		weft_vec_t *v = &b->cols[c];
		size_t w = wq_width(v->type);

		for (i = 0; i < m; i++)
			v->nulls[i] = v->nulls[sel[i]];
		if (w == 8) {
			int64_t *x = v->v.i64;

			for (i = 0; i < m; i++)
				x[i] = x[sel[i]];
		} else if (w == 1) {
			for (i = 0; i < m; i++)
				v->v.b[i] = v->v.b[sel[i]];
		} else {
			for (i = 0; i < m; i++)
				v->v.s[i] = v->v.s[sel[i]];
		}
		if (d != NULL && d[c].id != NULL)
			for (i = 0; i < m; i++)
				d[c].codes[i] = d[c].codes[sel[i]];
	}
	b->n = m;
}

/* Selection of rows where a boolean vector is true. */
static uint32_t
wq_truesel(const weft_vec_t *v, uint32_t n, uint32_t *sel)
{
	uint32_t i, m = 0;

	for (i = 0; i < n; i++) {
		sel[m] = i;
		m += v->v.b[i] && !v->nulls[i];
	}
	return m;
}

/* The vector of expression e over in: the input's own when e is a plain
 * column, else evaluated into scratch. */
static int
wq_vec_of(wq_op_t *o, const weft_expr_t *e, const weft_batch_t *in,
	  weft_vec_t *scratch, weft_arena_t *arena, const weft_vec_t **out,
	  weft_err_t *err)
{
	int rc;

	if (e->kind == WEFT_E_COL && e->col < in->ncols &&
	    in->cols[e->col].type == e->type) {
		*out = &in->cols[e->col];
		return 0;
	}
	rc = weft_expr_eval(e, in, scratch, arena, o->x->now, err);
	if (rc != 0)
		return rc;
	*out = scratch;
	return 0;
}

/* ---- row comparison (sort, top-N) ---- */

typedef struct wq_cmpctx {
	const wq_rows_t *r;
	const wq_sortkey_t *keys;
	uint32_t nkeys;
} wq_cmpctx_t;

static int
wq_cmp_keys(const wq_sortkey_t *keys, uint32_t nkeys,
	    const weft_sqltype_t *types, uint8_t *const *an,
	    uint8_t *const *av, size_t i, uint8_t *const *bn,
	    uint8_t *const *bv, size_t j)
{
	uint32_t k;

	for (k = 0; k < nkeys; k++) {
		uint32_t c = keys[k].col;
		uint8_t na = an[c][i], nb = bn[c][j];
		int r;

		if (na || nb) {
			if (na && nb)
				continue;
			r = na ? 1 : -1;
			if (keys[k].nulls_first)
				r = -r;
			return r;
		}
		r = wq_cmp_raw(types[c], av[c], i, bv[c], j);
		if (r != 0)
			return keys[k].desc ? -r : r;
	}
	return 0;
}

static int
wq_sort_cmp(const void *a, const void *b, void *arg)
{
	const wq_cmpctx_t *c = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int r = wq_cmp_keys(c->keys, c->nkeys, c->r->types, c->r->nulls,
			    c->r->vals, i, c->r->nulls, c->r->vals, j);

	if (r != 0)
		return r;
	return i < j ? -1 : i > j;
}

static int
wq_sort_rows(const wq_rows_t *r, const wq_sortkey_t *keys, uint32_t nkeys,
	     uint32_t **idx, size_t *cap)
{
	wq_cmpctx_t c = {r, keys, nkeys};
	size_t i;

	if (r->n > *cap || *idx == NULL) {
		uint32_t *ni = realloc(*idx, (r->n + 1) * sizeof(*ni));

		if (ni == NULL)
			return WEFT_ENOMEM;
		*idx = ni;
		*cap = r->n;
	}
	for (i = 0; i < r->n; i++)
		(*idx)[i] = (uint32_t)i;
	if (r->n > 1)
		qsort_r(*idx, r->n, sizeof(**idx), wq_sort_cmp, &c);
	return 0;
}

static void
wq_topn_free(wq_topn_t *t)
{
	if (t == NULL)
		return;
	wq_rows_release(&t->rows);
	free(t->idx);
	free(t->sel);
	free(t->scratch);
	free(t);
}

static int
wq_topn_new(uint32_t ncols, const weft_sqltype_t *types, uint64_t limit,
	    const wq_sortkey_t *keys, uint32_t nkeys, wq_topn_t **out)
{
	wq_topn_t *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (t == NULL)
		return WEFT_ENOMEM;
	t->limit = limit;
	t->keys = keys;
	t->nkeys = nkeys;
	t->sel = malloc(WEFT_BATCH * sizeof(*t->sel));
	t->scratch = malloc(WEFT_BATCH * sizeof(*t->scratch));
	if (t->sel == NULL || t->scratch == NULL ||
	    wq_rows_init(&t->rows, ncols, types) != 0) {
		wq_topn_free(t);
		return WEFT_ENOMEM;
	}
	*out = t;
	return 0;
}

/* Sort rows and keep the first `limit`. */
static int
wq_topn_shrink(wq_topn_t *t)
{
	wq_rows_t nr;
	uint32_t c, keep;
	size_t at;
	int rc;

	rc = wq_sort_rows(&t->rows, t->keys, t->nkeys, &t->idx, &t->idxcap);
	if (rc != 0)
		return rc;
	keep = (uint32_t)(t->rows.n < t->limit ? t->rows.n : t->limit);
	rc = wq_rows_init(&nr, t->rows.ncols, t->rows.types);
	if (rc != 0)
		return rc;
	for (at = 0; at < keep; at += WEFT_BATCH) {
		uint32_t m = keep - at < WEFT_BATCH ? (uint32_t)(keep - at)
						    : WEFT_BATCH;
		weft_batch_t *tmp;

		rc = weft_batch_new(nr.ncols, nr.types, &tmp);
		if (rc != 0)
			break;
		for (c = 0; c < nr.ncols; c++)
			wq_rows_gather(&t->rows, c, t->idx + at, m,
				       &tmp->cols[c], 0);
		tmp->n = m;
		rc = wq_rows_append(&nr, tmp, NULL, 0);
		weft_batch_free(tmp);
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		wq_rows_release(&nr);
		return rc;
	}
	wq_rows_release(&t->rows);
	t->rows = nr;
	t->full = t->rows.n >= t->limit && t->limit > 0;
	return 0;
}

static int
wq_topn_add(wq_topn_t *t, const weft_batch_t *b)
{
	uint32_t i, m = 0;
	int rc;

	if (t->limit == 0 || b->n == 0)
		return 0;
	if (t->full) {
		uint8_t *bn[WQ_COLS_MAX], *bv[WQ_COLS_MAX];
		uint32_t c;
		size_t th = t->limit - 1;

		for (c = 0; c < b->ncols && c < WQ_COLS_MAX; c++) {
			bn[c] = b->cols[c].nulls;
			bv[c] = (uint8_t *)b->cols[c].v.i64;
		}
		for (i = 0; i < b->n; i++) {
			int r = wq_cmp_keys(t->keys, t->nkeys, t->rows.types,
					    bn, bv, i, t->rows.nulls,
					    t->rows.vals, th);

			t->sel[m] = i;
			m += r < 0;
		}
		if (m == 0)
			return 0;
		rc = wq_rows_append(&t->rows, b, t->sel, m);
	} else {
		rc = wq_rows_append(&t->rows, b, NULL, 0);
	}
	if (rc != 0)
		return rc;
	/* shrink as soon as there is a threshold, then often so that it
	 * keeps tightening */
	if (t->rows.n >= t->limit +
			     (!t->full ? 0 : t->limit < 16 ? 16 : t->limit))
		return wq_topn_shrink(t);
	return 0;
}

/* ---- scan ---- */

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
	if (a->kind != WEFT_E_COL || b->kind != WEFT_E_CONST ||
	    b->cval.null || a->col >= f->ncols)
		return false;
	t = f->ctypes[a->col];
	if (a->type != t ||
	    (b->type != t && !(t == WEFT_S_INT64 && b->type == WEFT_S_INT32)))
		return false;
	if (t != WEFT_S_INT64 && t != WEFT_S_TIMESTAMP &&
	    t != WEFT_S_FLOAT64 && t != WEFT_S_TEXT)
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
	if (!v->has_minmax)
		return true;
	switch (v->type) {
	case WEFT_T_INT64:
	case WEFT_T_TIMESTAMP:
		cmin = v->min_i < z->k.u.i ? -1 : v->min_i > z->k.u.i;
		cmax = v->max_i < z->k.u.i ? -1 : v->max_i > z->k.u.i;
		break;
	case WEFT_T_FLOAT64:
		if (isnan(v->min_f) || isnan(v->max_f) || isnan(z->k.u.f))
			return true;
		cmin = v->min_f < z->k.u.f ? -1 : v->min_f > z->k.u.f;
		cmax = v->max_f < z->k.u.f ? -1 : v->max_f > z->k.u.f;
		break;
	case WEFT_T_TEXT:
		if (v->min_s == NULL || v->max_s == NULL)
			return true;
		cmin = wq_cmp_text(v->min_s, v->min_s_len, z->k.u.s.p,
				   z->k.u.s.len);
		cmax = wq_cmp_text(v->max_s, v->max_s_len, z->k.u.s.p,
				   z->k.u.s.len);
		break;
	default:
		return true;
	}
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
	default:
		return weft_err_set(err, WEFT_ECORRUPT, "bad column type");
	}
	return 0;
}

/* The read column of the fragment's first sort key, when the top-N can
 * prefilter on it (no projection, a fixed-width key), else -1. */
static int
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
static bool
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
		int64_t x = ((const int64_t *)(const void *)t->rows.vals[c])[th];

		return k->desc ? v->max_i < x : v->min_i > x;
	}
}

/* Rows (of the chunk's n, key column view v) whose first sort key is not
 * strictly worse than the threshold row's. */
static uint32_t
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
		int64_t x = ((const int64_t *)(const void *)t->rows.vals[kc])[th];
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
static uint32_t
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
	if (limit == 0 || limit * 4 > m) {
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
static uint32_t
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
		int r = wq_cmp_keys(f->order, f->norder, t->rows.types, bn, bv,
				    i, t->rows.nulls, t->rows.vals,
				    t->limit - 1);

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
			const char *p = v->nulls[i] ? ""
					: weft_chunk_text(cv, r, &len);

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
				    "row count", f->product, ch);
	loaded[c] = 1;
	return 0;
}

#define WQ_KVIEWS_MAX 65536 /* chunks whose key views a top-N keeps */

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
static int
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
static bool
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

/* Keep the rows of sel[0..m) (the first m rows of the chunk when all)
 * whose int64 value in view v is not NULL and satisfies `value op k`.
 * Returns how many, in sel. */
static uint32_t
wq_vsel_i64(const weft_chunk_view_t *v, int op, int64_t k, uint32_t *sel,
	    uint32_t m, bool all)
{
	const uint8_t *p = v->values;
	uint32_t i, j = 0;

#define WQ_VSEL(COND)                                                        \
	do {                                                                 \
		if (all) {                                                   \
			for (i = 0; i < m; i++) {                            \
				int64_t a;                                   \
				memcpy(&a, p + 8 * (size_t)i, 8);            \
				sel[j] = i;                                  \
				j += (COND);                                 \
			}                                                    \
		} else {                                                     \
			for (i = 0; i < m; i++) {                            \
				uint32_t r = sel[i];                         \
				int64_t a;                                   \
				memcpy(&a, p + 8 * (size_t)r, 8);            \
				sel[j] = r;                                  \
				j += (COND);                                 \
			}                                                    \
		}                                                            \
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
wq_vsel_dict(wq_op_t *o, uint32_t k, const weft_chunk_view_t *v,
	     uint32_t *sel, uint32_t *m, bool all, weft_err_t *err)
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
wq_scan_vfilter(wq_op_t *o, uint32_t ch, weft_chunk_view_t *vp,
		uint8_t *loaded, uint32_t *cnt, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	uint32_t m = UINT32_MAX, z, c; /* UINT32_MAX: every row, count unknown */
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
		m = wq_vsel_i64(&vp[q->col], q->op, q->k.u.i, o->sel, m, all);
		all = false;
	}
	if (m == 0)
		return 0;
	for (c = 0; c < f->ncols; c++) {
		rc = wq_scan_view(o, ch, c, vp, loaded, cnt, err);
		if (rc == 0)
			rc = wq_scan_decode(o, c, &vp[c], all ? NULL : o->sel, m,
					    err);
		if (rc != 0)
			return rc;
	}
	o->rb->n = m;
	return (int)m;
}

/* Read the next chunk that may match into rb. 1: rows, 0: end. */
static int
wq_scan_chunk(wq_op_t *o, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	weft_chunk_view_t views[64], *vp = views;
	uint8_t lbuf[64], *loaded = lbuf;
	int rc = 1;

	if (f->ncols > 64) {
		vp = calloc(f->ncols, sizeof(*vp));
		loaded = calloc(f->ncols, 1);
		if (vp == NULL || loaded == NULL) {
			if (vp != views)
				free(vp);
			if (loaded != lbuf)
				free(loaded);
			return wq_oom(err);
		}
	}
	while (o->chunk < o->nchunks) {
		uint32_t ch = o->chunk++, c, cnt = 0, z;
		bool skip = false;

		if (f->ncols == 0) {
			const uint8_t *buf;
			size_t len;
			weft_chunk_view_t cv;

			rc = weft_snapshot_chunk(o->x->snap, o->sid, o->countcol,
						 ch, &buf, &len, err);
			if (rc == 0)
				rc = weft_chunk_view(buf, len, &cv, err);
			if (rc != 0)
				goto out;
			o->rb->n = cv.count;
			rc = cv.count > 0;
			if (rc)
				goto out;
			continue;
		}
		memset(loaded, 0, f->ncols);
		for (c = 0; c < f->ncols; c++)
			o->rdict[c].id = NULL;
		o->vfilt = false;
		cnt = UINT32_MAX;
		/* zone maps first: a skipped chunk loads nothing else */
		for (z = 0; z < o->nzones && !skip; z++) {
			c = o->zones[z].col;
			rc = wq_scan_view(o, ch, c, vp, loaded, &cnt, err);
			if (rc != 0)
				goto out;
			skip = !wq_zone_may(&o->zones[z], &vp[c]);
		}
		if (skip)
			continue;
		if (o->top != NULL && wq_topn_keycol(o) >= 0 &&
		    (o->top->full ||
		     (f->filter == NULL &&
		      f->ctypes[wq_topn_keycol(o)] != WEFT_S_FLOAT64))) {
			/* top-N: decode the first sort key alone and keep only
			 * the rows that may beat the current threshold (or,
			 * before there is one, be among the chunk's best) */
			uint32_t kc = (uint32_t)wq_topn_keycol(o), m;
			bool full = o->top->full;

			if (!o->kbound_done && f->filter == NULL &&
			    f->ctypes[kc] != WEFT_S_FLOAT64) {
				rc = wq_topn_bound(o, kc, err);
				if (rc != 0)
					goto out;
			}
			rc = wq_scan_view(o, ch, kc, vp, loaded, &cnt, err);
			if (rc != 0)
				goto out;
			if (cnt == 0 || (full && wq_topn_zone_skip(o, &vp[kc])) ||
			    wq_topn_bound_skip(o, &vp[kc]))
				continue;
			if (full)
				m = wq_topn_candidates(o, kc, &vp[kc], cnt,
						       o->sel);
			else
				m = wq_topn_select(o, &vp[kc], cnt, o->sel);
			if (m == 0)
				continue;
			/* the sort keys of the candidates, then the full
			 * comparison with the threshold row */
			for (z = 0; z < f->norder; z++) {
				c = f->order[z].col;
				rc = wq_scan_view(o, ch, c, vp, loaded, &cnt,
						  err);
				if (rc != 0)
					goto out;
				wq_scan_decode_sel(o, c, &vp[c], o->sel, m);
			}
			o->rb->n = m;
			if (full)
				m = wq_topn_beats(o, o->sel);
			if (m == 0)
				continue;
			for (c = 0; c < f->ncols; c++) {
				bool key = false;

				for (z = 0; z < f->norder; z++)
					key |= f->order[z].col == c;
				if (key)
					continue;
				rc = wq_scan_view(o, ch, c, vp, loaded, &cnt,
						  err);
				if (rc != 0)
					goto out;
				wq_scan_decode_sel(o, c, &vp[c], o->sel, m);
			}
			for (c = 0; c < f->ncols; c++)
				o->rdict[c].id = NULL;
			rc = 1;
			goto out;
		}
		if (o->nvconj > 0 || o->ndconj > 0) {
			rc = wq_scan_vfilter(o, ch, vp, loaded, &cnt, err);
			if (rc < 0)
				goto out;
			if (rc == 0)
				continue;
			rc = 1;
			goto out;
		}
		for (c = 0; c < f->ncols; c++) {
			rc = wq_scan_view(o, ch, c, vp, loaded, &cnt, err);
			if (rc != 0)
				goto out;
		}
		if (cnt == 0)
			continue;
		for (c = 0; c < f->ncols; c++) {
			rc = wq_scan_decode(o, c, &vp[c], NULL, cnt, err);
			if (rc != 0)
				goto out;
		}
		o->rb->n = cnt;
		rc = 1;
		goto out;
	}
	rc = 0;
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
	case WEFT_E_NULLIF:
		break;
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
	default:
		return false;
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
wq_scan_rows(wq_op_t *o, weft_batch_t **out, wq_dict_t **dict,
	     weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	uint32_t j;
	int rc;

	for (;;) {
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

static int
wq_scan_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	const wq_frag_t *f = o->f;
	weft_batch_t *b;
	wq_dict_t *d;
	uint32_t j;
	int rc;

	o->xdict = NULL;
	if (f->agg) {
		if (!o->drained) {
			while ((rc = wq_scan_rows(o, &b, &d, err)) == 1) {
				const weft_vec_t *kp[WQ_COLS_MAX];
				const weft_vec_t *ap[WQ_COLS_MAX];

				if (f->nkeys == 1 &&
				    f->keys[0]->kind == WEFT_E_COL &&
				    f->keys[0]->col < b->ncols &&
				    d[f->keys[0]->col].id != NULL) {
					wq_dict_t *dd = &d[f->keys[0]->col];

					rc = wq_aggtab_groups_dict(o->agg, dd->id,
					    dd->vals, dd->n, dd->codes,
					    b->cols[f->keys[0]->col].nulls,
					    b->n, o->gids);
				} else {
					for (j = 0; j < f->nkeys; j++) {
						rc = wq_vec_of(o, f->keys[j], b,
							       &o->kv[j],
							       b->arena, &kp[j],
							       err);
						if (rc != 0)
							return rc;
					}
					rc = wq_aggtab_groups(o->agg, kp, b->n,
							      o->gids);
				}
				if (rc != 0)
					return wq_oom(err);
				for (j = 0; j < f->naggs; j++) {
					ap[j] = NULL;
					if (f->aggs[j].arg == NULL)
						continue;
					rc = wq_vec_of(o, f->aggs[j].arg, b,
						       &o->av[j], b->arena,
						       &ap[j], err);
					if (rc != 0)
						return rc;
				}
				rc = wq_aggtab_add(o->agg, o->gids, ap, b->n,
						   err);
				if (rc != 0)
					return rc;
			}
			if (rc < 0)
				return rc;
			o->drained = true;
		}
		if (o->emit >= wq_aggtab_ngroups(o->agg))
			return 0;
		{
			uint32_t n = wq_aggtab_ngroups(o->agg) - o->emit;

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
	}
	if (f->norder > 0 && f->limit >= 0) {
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
		if (o->emit >= o->top->rows.n)
			return 0;
		{
			uint32_t n = (uint32_t)(o->top->rows.n - o->emit), c;
			uint32_t idx[WEFT_BATCH];

			if (n > WEFT_BATCH)
				n = WEFT_BATCH;
			for (j = 0; j < n; j++)
				idx[j] = o->emit + j;
			weft_batch_clear(o->out);
			for (c = 0; c < o->ncols; c++)
				wq_rows_gather(&o->top->rows, c, idx, n,
					       &o->out->cols[c], 0);
			o->out->n = n;
			o->emit += n;
			*out = o->out;
			return 1;
		}
	}
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

static int
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
	if (o->p == NULL) {
		weft_product_info_t pi = {0};

		rc = weft_snapshot_product(o->x->snap, f->product, &pi, &o->sid,
					   &o->nchunks, err);
		if (rc != 0)
			return rc;
		for (c = 0; c < f->ncols; c++)
			if (f->cols[c] >= pi.ncols ||
			    (weft_sqltype_t)pi.cols[f->cols[c]].type !=
				f->ctypes[c]) {
				weft_product_info_clear(&pi);
				return weft_err_set(err, WEFT_EINVAL,
				    "fragment does not match product %s",
				    f->product);
			}
		o->countcol = 0;
		for (c = 0; c < pi.ncols; c++)
			if (pi.cols[c].type != WEFT_T_TEXT) {
				o->countcol = c;
				break;
			}
		if (pi.ncols == 0)
			o->nchunks = 0;
		weft_product_info_clear(&pi);
	} else {
		o->sid = o->p->storage_id;
		o->nchunks = o->p->nchunks;
		/* count rows with a fixed-width column when nothing is read */
		o->countcol = 0;
	}
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
			o->rdict[c].codes = malloc(WEFT_BATCH * sizeof(uint32_t));
			if (o->rdict[c].codes == NULL)
				return wq_oom(err);
		}
	if (f->filter && f->filter->kind == WEFT_E_AND &&
	    f->filter->nargs > 64)
		; /* too many conjuncts: no zone maps */
	else
		wq_zone_collect(o, f->filter);
	if (f->filter != NULL) {
		uint32_t nc = f->filter->kind == WEFT_E_AND ? f->filter->nargs
							    : 1;
		uint8_t *used = calloc(f->ncols + 1, 1);

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
		bool allsafe = true;

		for (c = 0; c < nc; c++)
			allsafe &= wq_expr_safe(f->filter->kind == WEFT_E_AND
						    ? f->filter->args[c]
						    : f->filter);
		for (c = 0; c < nc; c++) {
			const weft_expr_t *e = f->filter->kind == WEFT_E_AND
						   ? f->filter->args[c]
						   : f->filter;
			uint32_t k, nu = 0, last = 0;

			memset(used, 0, f->ncols);
			weft_expr_refs(e, used, f->ncols);
			for (k = 0; k < f->ncols; k++)
				if (used[k]) {
					nu++;
					last = k;
				}
			/* conjuncts run in the order written unless none can
			 * fail, so reordering cannot raise an error that the
			 * written order would have avoided */
			if (allsafe && nu == 1 && f->ctypes[last] == WEFT_S_TEXT &&
			    e->type == WEFT_S_BOOL) {
				o->dconj[o->ndconj] = e;
				o->dcol[o->ndconj++] = last;
			} else if ((allsafe || o->nrconj == 0) &&
				   wq_colconst(f, e, &o->vconj[o->nvconj]) &&
				   (f->ctypes[o->vconj[o->nvconj].col] ==
					WEFT_S_INT64 ||
				    f->ctypes[o->vconj[o->nvconj].col] ==
					WEFT_S_TIMESTAMP)) {
				/* cannot fail: evaluated first, on the view */
				o->vexpr[o->nvconj++] = e;
			} else {
				o->rconj[o->nrconj++] = e;
			}
		}
		free(used);
	}
	if (f->nproj > 0) {
		weft_sqltype_t pt[WQ_COLS_MAX];

		for (c = 0; c < f->nproj && c < WQ_COLS_MAX; c++)
			pt[c] = f->proj[c]->type;
		if (weft_batch_new(f->nproj, pt, &o->pb) != 0)
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
	if (f->agg) {
		weft_sqltype_t kt[WQ_COLS_MAX];

		for (c = 0; c < f->nkeys && c < WQ_COLS_MAX; c++)
			kt[c] = f->keys[c]->type;
		if (wq_aggtab_new(WQ_AGG_PARTIAL, f->nkeys, kt, f->naggs,
				  f->aggs, &o->agg) != 0 ||
		    (o->kv = calloc(f->nkeys + 1, sizeof(*o->kv))) == NULL ||
		    (o->av = calloc(f->naggs + 1, sizeof(*o->av))) == NULL ||
		    (o->gids = malloc(WEFT_BATCH * sizeof(*o->gids))) == NULL)
			return wq_oom(err);
		for (c = 0; c < f->nkeys; c++)
			if (weft_vec_init(&o->kv[c], f->keys[c]->type) != 0)
				return wq_oom(err);
		for (c = 0; c < f->naggs; c++)
			if (f->aggs[c].arg &&
			    weft_vec_init(&o->av[c], f->aggs[c].arg->type) != 0)
				return wq_oom(err);
		o->nav = f->naggs;
	} else if (f->norder > 0 && f->limit >= 0) {
		if (wq_topn_new(n, ot, (uint64_t)f->limit, f->order, f->norder,
				&o->top) != 0)
			return wq_oom(err);
	}
	return 0;
}

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
	uint32_t j, n;
	int rc;

	if (!o->drained) {
		while ((rc = wq_op_next(o->l, &b, err)) == 1) {
			const weft_vec_t *kp[WQ_COLS_MAX];
			const weft_vec_t *ap[WQ_COLS_MAX];
			wq_dict_t *d = o->l->xdict;

			if (b->n == 0)
				continue;
			if (p->nkeys == 1 && p->keys[0]->kind == WEFT_E_COL &&
			    p->keys[0]->col < b->ncols && d != NULL &&
			    d[p->keys[0]->col].id != NULL &&
			    b->cols[p->keys[0]->col].type == WEFT_S_TEXT) {
				wq_dict_t *dd = &d[p->keys[0]->col];

				rc = wq_aggtab_groups_dict(o->agg, dd->id,
				    dd->vals, dd->n, dd->codes,
				    b->cols[p->keys[0]->col].nulls, b->n,
				    o->gids);
			} else {
				for (j = 0; j < p->nkeys; j++) {
					rc = wq_vec_of(o, p->keys[j], b,
						       &o->kv[j], b->arena,
						       &kp[j], err);
					if (rc != 0)
						return rc;
				}
				rc = wq_aggtab_groups(o->agg, kp, b->n, o->gids);
			}
			if (rc != 0)
				return wq_oom(err);
			if (p->aggmode == WQ_AGG_FINAL) {
				for (j = 0; j < o->nav; j++)
					ap[j] = &b->cols[p->nkeys + j];
			} else {
				for (j = 0; j < p->naggs; j++) {
					ap[j] = NULL;
					if (p->aggs[j].arg == NULL)
						continue;
					rc = wq_vec_of(o, p->aggs[j].arg, b,
						       &o->av[j], b->arena,
						       &ap[j], err);
					if (rc != 0)
						return rc;
				}
			}
			rc = wq_aggtab_add(o->agg, o->gids, ap, b->n, err);
			if (rc != 0)
				return rc;
		}
		if (rc < 0)
			return rc;
		o->drained = true;
	}
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

static int
wq_agg_open(wq_op_t *o, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	weft_sqltype_t kt[WQ_COLS_MAX];
	uint32_t c;

	if (p->nkeys > WQ_COLS_MAX || p->naggs > WQ_COLS_MAX / 2)
		return weft_err_set(err, WEFT_EINVAL, "too many group keys or "
				    "aggregates");
	for (c = 0; c < p->nkeys; c++)
		kt[c] = p->keys[c]->type;
	if (wq_aggtab_new(p->aggmode, p->nkeys, kt, p->naggs, p->aggs,
			  &o->agg) != 0 ||
	    (o->kv = calloc(p->nkeys + 1, sizeof(*o->kv))) == NULL ||
	    (o->av = calloc(p->naggs + 1, sizeof(*o->av))) == NULL ||
	    (o->gids = malloc(WEFT_BATCH * sizeof(*o->gids))) == NULL)
		return wq_oom(err);
	for (c = 0; c < p->nkeys; c++)
		if (weft_vec_init(&o->kv[c], p->keys[c]->type) != 0)
			return wq_oom(err);
	if (p->aggmode == WQ_AGG_FINAL) {
		for (c = 0; c < p->naggs; c++)
			o->nav += wq_agg_nstate(&p->aggs[c]);
		if (p->nkeys + o->nav > o->l->ncols)
			return weft_err_set(err, WEFT_EINVAL,
					    "aggregation input mismatch");
	} else {
		for (c = 0; c < p->naggs; c++)
			if (p->aggs[c].arg &&
			    weft_vec_init(&o->av[c], p->aggs[c].arg->type) != 0)
				return wq_oom(err);
	}
	return 0;
}

/* ---- sort, limit, distinct, append ---- */

static int
wq_sort_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	uint32_t n, c;
	const wq_rows_t *r;
	int rc;

	if (!o->drained) {
		weft_batch_t *b;

		while ((rc = wq_op_next(o->l, &b, err)) == 1) {
			if (o->top)
				rc = wq_topn_add(o->top, b);
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
	if (o->emit >= o->norder)
		return 0;
	n = (uint32_t)(o->norder - o->emit);
	if (n > WEFT_BATCH)
		n = WEFT_BATCH;
	weft_batch_clear(o->out);
	r = o->top ? &o->top->rows : &o->rows;
	if (o->top) {
		uint32_t idx[WEFT_BATCH], j;

		for (j = 0; j < n; j++)
			idx[j] = o->emit + j;
		for (c = 0; c < o->ncols; c++)
			wq_rows_gather(r, c, idx, n, &o->out->cols[c], 0);
	} else {
		for (c = 0; c < o->ncols; c++)
			wq_rows_gather(r, c, o->order + o->emit, n,
				       &o->out->cols[c], 0);
	}
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
		rc = wq_ktab_find(&o->kt, k, b->n, o->h, o->gids, o->sel,
				  &nnew);
		if (rc != 0)
			return wq_oom(err);
		if (nnew == 0)
			continue;
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
			uint32_t *nm = realloc(o->dmatch, (d->n + 1) *
							      sizeof(*nm));

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
				o->dmatch[c] = wq_join_lookup(o, i,
						wq_hash_val(&one, 0));
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
					rc = weft_expr_eval(p->resid, o->out,
							    &o->fv,
							    o->out->arena,
							    o->x->now, err);
					if (rc != 0)
						return rc;
					m = wq_truesel(&o->fv, n, o->sel);
					for (i = 0; i < m; i++)
						o->matched[o->pp[o->sel[i]]] = 1;
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
			o->dict[j].codes = malloc(WEFT_BATCH * sizeof(uint32_t));
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
	if (p->l && (rc = wq_op_build(x, p->l, &o->l, err)) != 0)
		goto fail;
	if (p->r && (rc = wq_op_build(x, p->r, &o->r, err)) != 0)
		goto fail;
	if (p->kind == WQ_SCAN) {
		rc = wq_scan_open(o, p->frag, err);
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
	case WQ_LIMIT:
		/* LIMIT over SORT: the sort keeps only the top rows */
		if (p->limit >= 0 && o->l->kind == WQ_SORT && !o->l->top &&
		    (uint64_t)p->limit + (uint64_t)p->offset < (1u << 24)) {
			if (wq_topn_new(o->l->ncols, o->l->types,
					(uint64_t)p->limit + (uint64_t)p->offset,
					p->l->sort, p->l->nsort, &o->l->top) != 0)
				goto oom;
		}
		break;
	default:
		break;
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
wq_frag_open(wq_exec_t *x, const wq_frag_t *f, wq_op_t **out,
	     weft_err_t *err)
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

int
wq_op_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	int rc;

	if (o->done)
		return 0;
	switch (o->kind) {
	case WQ_SCAN:
		rc = wq_scan_next(o, out, err);
		break;
	case WQ_FILTER:
		rc = wq_filter_next(o, out, err);
		break;
	case WQ_PROJECT:
		rc = wq_project_next(o, out, err);
		break;
	case WQ_AGG:
		rc = wq_agg_next(o, out, err);
		break;
	case WQ_JOIN:
		rc = wq_join_next(o, out, err);
		break;
	case WQ_SORT:
		rc = wq_sort_next(o, out, err);
		break;
	case WQ_LIMIT:
		rc = wq_limit_next(o, out, err);
		break;
	case WQ_DISTINCT:
		rc = wq_distinct_next(o, out, err);
		break;
	case WQ_APPEND:
		rc = wq_append_next(o, out, err);
		break;
	case WQ_ONEROW:
		o->done = true;
		o->out->n = 1;
		*out = o->out;
		return 1;
	default:
		rc = weft_err_set(err, WEFT_EINVAL, "bad plan node");
	}
	if (rc == 0)
		o->done = true;
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
	weft_batch_free(o->out);
	weft_batch_free(o->rb);
	weft_batch_free(o->pb);
	weft_batch_free(o->pk);
	weft_vec_release(&o->fv);
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
	if (o->dict && o->kind == WQ_JOIN)
		for (c = 0; c < o->ncols; c++)
			free(o->dict[c].codes);
	free(o->dict);
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
	wq_aggtab_free(o->agg);
	if (o->kv) {
		uint32_t n = o->frag ? o->f->nkeys : o->p->nkeys;

		for (c = 0; c < n; c++)
			weft_vec_release(&o->kv[c]);
		free(o->kv);
	}
	if (o->av) {
		uint32_t n = o->frag ? o->f->naggs : o->p->naggs;

		for (c = 0; c < n; c++)
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
	if (o->frag)
		free(o->types);
	else
		free(o->types);
	free(o);
}

/* Output shape of an operator (for query.c). */
uint32_t wq_op_ncols(const wq_op_t *o);
uint32_t
wq_op_ncols(const wq_op_t *o)
{
	return o->ncols;
}
