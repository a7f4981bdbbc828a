/*
 * exec.h: the executor's operator state, shared by its sources: exec.c
 * (the operator tree and the operators above a scan), exec_agg.c (what
 * aggregations share), scan.c and scan_topn.c (the scan operator, which
 * runs a fragment next to the chunks).
 *
 * An operator (wq_op_t) is one node of the tree wq_op_open builds over a
 * plan, or a lone scan (wq_frag_open). Its fields are grouped by the
 * operators that use them; all are zero until that operator's open, and
 * wq_op_free releases whatever is set. Internal to query/.
 */
#ifndef WEFT_QUERY_EXEC_H
#define WEFT_QUERY_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/util.h"
#include "query/qint.h"

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

/*
 * What an operator did (EXPLAIN ANALYZE, analyze.c). wq_op_next counts
 * every call and the rows of every batch returned; with x->timing it
 * also adds the wall time of each call, its children's included. A
 * remote scan counts the batches and bytes that came over the wire and
 * (timing) the time from sending the fragment to the first batch.
 */
typedef struct wq_opstat {
	uint64_t calls, rows, ns;
	uint64_t rbatches, rbytes, rwait_ns;
	uint64_t ropen_ns, rfirst_ns; /* monotonic: sent; first batch after */
} wq_opstat_t;

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
	wq_dict_t *dict;  /* per output column (owned), or NULL */
	wq_dict_t *xdict; /* what the parent sees for the current batch */
	bool done;
	uint32_t *sel;
	wq_opstat_t st; /* what it did, for EXPLAIN ANALYZE */

	/* remote scan (scan_remote.c): the mesh's stream; deferred: not
	 * sent yet (a dynamic filter's join starts it, plan_dynf.c) */
	void *rstream;
	bool deferred;

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
	weft_vec_t *dtmp;      /* scratch copies of rb's vectors */
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
	uint32_t navec; /* vectors of av (an aggregate's argument slots) */
	uint32_t *gids;
	bool drained;
	uint32_t emit;

	/* project: vectors of out that alias the input's */
	weft_vec_t *own;
	bool *aliased;

	/* sort / top-N */
	wq_topn_t *top;
	/* a profile fragment (profile.c) */
	wq_prof_t *prof;
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
	wq_rows_t bk;	 /* build keys */
	wq_rows_t brows; /* build rows (all build columns) */
	uint64_t *bhash;
	uint32_t *bucket, *bnext, *bsame;
	uint32_t bmask;
	weft_batch_t *pk;    /* probe key values */
	weft_batch_t *probe; /* current probe batch (borrowed) */
	uint32_t pi, pj;     /* probe position: row, next build row */
	uint32_t *pp, *bp;   /* pairs: probe row, build row */
	uint8_t *matched;
	bool tail; /* LEFT: unmatched rows of the current batch emitted */
	uint32_t *dmatch;
	uint32_t dmatch_cap;
	const void *dmatch_id;
};

/* ---- small helpers (per batch, inline) ---- */

static inline int
wq_oom(weft_err_t *err)
{
	return weft_err_set(err, WEFT_ENOMEM, "out of memory");
}

/* Keep rows sel[0..m) of b (in place); sel ascending. */
static inline void
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
static inline uint32_t
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
 * column of its type, else evaluated into scratch (text in arena). */
static inline int
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

/* Rows [o->emit, o->emit + n) of top-N t (sorted) into o->out, n up to
 * WEFT_BATCH: 1 with *out = o->out, 0 when all were emitted. */
static inline int
wq_topn_emit(wq_op_t *o, const wq_topn_t *t, weft_batch_t **out)
{
	uint32_t idx[WEFT_BATCH], n, j, c;

	if (o->emit >= t->rows.n)
		return 0;
	n = (uint32_t)(t->rows.n - o->emit);
	if (n > WEFT_BATCH)
		n = WEFT_BATCH;
	for (j = 0; j < n; j++)
		idx[j] = o->emit + j;
	weft_batch_clear(o->out);
	for (c = 0; c < o->ncols; c++)
		wq_rows_gather(&t->rows, c, idx, n, &o->out->cols[c], 0);
	o->out->n = n;
	o->emit += n;
	*out = o->out;
	return 1;
}

/* ---- aggregation (exec_agg.c) ---- */

/* The state of an aggregation in o: the hash table in mode (WQ_AGG_*)
 * over nkeys keys of keytypes and naggs aggregates (borrowed: they must
 * outlive o), scratch vectors for keys and arguments, group ids. */
int wq_agg_state_open(wq_op_t *o, int mode, uint32_t nkeys,
		      const weft_sqltype_t *keytypes, uint32_t naggs,
		      const wq_agg_t *aggs, weft_err_t *err);
/* Fold batch b (d: its dictionaries, or NULL) into o's aggregation:
 * groups by keys, then the aggregates' arguments over b, or (final) the
 * transition states that follow the keys in b. */
int wq_agg_fold(wq_op_t *o, weft_expr_t *const *keys, uint32_t nkeys,
		const wq_agg_t *aggs, uint32_t naggs, bool final,
		weft_batch_t *b, const wq_dict_t *d, weft_err_t *err);
/* The next WEFT_BATCH groups into o->out: 1 with *out set, 0 at the end,
 * or a negative error. */
int wq_agg_emit(wq_op_t *o, weft_batch_t **out, weft_err_t *err);

/* ---- the scan operator (scan.c) ---- */

/* Set o up to run fragment f (borrowed: it must outlive o): its product
 * looked up in the snapshot when o has no plan node, else the node's. */
int wq_scan_open(wq_op_t *o, const wq_frag_t *f, weft_err_t *err);
/* Next batch of the scan: 1 (*out borrowed until the next call), 0 at
 * the end, or a negative error. */
int wq_scan_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err);
/* Free what wq_scan_open allocated (the fields only scans use). */
void wq_scan_release(wq_op_t *o);

/* ---- a scan's top-N prefilter (scan_topn.c), once per chunk ---- */

/* The read column of the fragment's first sort key when the top-N can
 * prefilter on it (no projection, a fixed-width key), else -1. */
int wq_topn_keycol(const wq_op_t *o);
/* May the chunk's zone map (key column view v) prove every row strictly
 * worse than the threshold row (the top-N is full)? */
bool wq_topn_zone_skip(const wq_op_t *o, const weft_chunk_view_t *v);
/* The rows of the chunk (n, key column kc's view v) whose first key is
 * not strictly worse than the threshold row's, into sel; how many. */
uint32_t wq_topn_candidates(wq_op_t *o, uint32_t kc, const weft_chunk_view_t *v,
			    uint32_t n, uint32_t *sel);
/* Before the top-N is full: the rows that may be among the chunk's best
 * `limit` by the first key (all when that would not prune), into sel. */
uint32_t wq_topn_select(wq_op_t *o, const weft_chunk_view_t *v, uint32_t n,
			uint32_t *sel);
/* Of rb's rows (sort keys decoded), those that sort strictly before the
 * threshold row; compacts rb and sel (chunk positions) to them. */
uint32_t wq_topn_beats(wq_op_t *o, uint32_t *sel);
/* Without a filter: read the key column's view of every chunk (kept in
 * o->kviews) and take a bound from their zone maps (o->kbound). */
int wq_topn_bound(wq_op_t *o, uint32_t kc, weft_err_t *err);
/* Is every non-NULL key of chunk view v strictly worse than the bound? */
bool wq_topn_bound_skip(const wq_op_t *o, const weft_chunk_view_t *v);

/* The scan of a product on another node (scan_remote.c): open sends
 * the fragment through the query's mesh, next decodes what comes back. */
int wq_rscan_open(wq_op_t *o, weft_err_t *err);
int wq_rscan_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err);
/* Send a deferred remote scan's fragment, with `in` (NULL: nothing)
 * added to its filter. */
int wq_rscan_start(wq_op_t *o, const weft_expr_t *in, weft_err_t *err);
void wq_rscan_release(wq_op_t *o);

/* ---- EXPLAIN ANALYZE's figures of a remote scan (wq_opstat_t) ---- */

/* The fragment of remote scan o is about to be sent. */
static inline void
wq_an_rsent(wq_op_t *o)
{
	if (o->x && o->x->timing)
		o->st.ropen_ns = weft_mono_ns();
}

/* m->next for remote scan o, counted: batches, bytes, and (timing) the
 * time waited and the time from sending to the first batch in hand. */
static inline int
wq_an_rnext(wq_op_t *o, const weft_mesh_t *m, const uint8_t **buf, size_t *len,
	    weft_err_t *err)
{
	uint64_t t0 = o->x && o->x->timing ? weft_mono_ns() : 0, t1 = 0;
	int rc = m->next(m->arg, o->rstream, buf, len, err);

	if (t0 != 0) {
		t1 = weft_mono_ns();
		o->st.rwait_ns += t1 - t0;
	}
	if (rc > 0) {
		if (o->st.rbatches++ == 0 && t1 != 0 && o->st.ropen_ns != 0)
			o->st.rfirst_ns = t1 - o->st.ropen_ns;
		o->st.rbytes += *len;
	}
	return rc;
}

#endif
