/*
 * qint.h: internals of the SQL engine shared by the query/ sources: the
 * plan tree (bind.c builds it, plan.c holds its nodes, optimises it and
 * cuts scan fragments, frag.h, out of it; exec.c runs it) and the small
 * column store, hashing and comparison helpers the operators share.
 *
 * Invariants: every plan node knows its output shape (ncols, types,
 * names). Expressions of a node refer to its input columns by index: the
 * child's output for filter/project/agg/sort, the left child's columns
 * followed by the right child's for a join. Column names are owned by the
 * node (malloc'd).
 */
#ifndef WEFT_QUERY_QINT_H
#define WEFT_QUERY_QINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"
#include "query/expr.h"
#include "query/frag.h"
#include "query/query.h"
#include "query/vec.h"
#include "storage/store.h"

/* Nesting of subqueries, CTEs, joins and set operations. Expressions
 * are bounded by WEFT_FRAG_DEPTH_MAX (frag.h). */
#define WQ_NEST_MAX 250

/* ---- aggregates ---- */

/* Aggregation modes. COMPLETE: rows in, results out. PARTIAL: rows in,
 * transition states out. FINAL: states in (keys first), results out. */
/* Aggregation modes: rows -> results, rows -> transition states, states
 * -> results, and states -> states (COMBINE: the owner's remainder group
 * of an aggregates-only grant, serve_kgate.c). */
enum {
	WQ_AGG_COMPLETE = 0,
	WQ_AGG_PARTIAL = 1,
	WQ_AGG_FINAL = 2,
	WQ_AGG_COMBINE = 3
};

/* Number of state columns of an aggregate and their types. */
uint32_t wq_agg_nstate(const wq_agg_t *a);
weft_sqltype_t wq_agg_state_type(const wq_agg_t *a, uint32_t i);
/* Result type of fn over argtype; WEFT_S_NULL when not defined. */
weft_sqltype_t wq_agg_result_type(int fn, weft_sqltype_t argtype);
/* NUMERIC display scale of fn's result (of type `type`) over arg: sum
 * and avg of integers have scale 0, of numeric and min/max the
 * argument's; -1 for other types. */
int wq_agg_scale(int fn, weft_sqltype_t type, const weft_expr_t *arg);
const char *wq_agg_name(int fn);
/* Free the arguments of a[0..n) and the array a. */
void wq_aggs_free(wq_agg_t *a, uint32_t n);
/* State columns of a[0..n) together. */
uint32_t wq_aggs_nstate(const wq_agg_t *a, uint32_t n);
/* Arguments of a (arg, then more[]), the i-th's slot; deep copies into
 * d (whose own pointers are overwritten; on failure d holds what was
 * copied, to free), and freeing them. */
uint32_t wq_agg_nargs(const wq_agg_t *a);
weft_expr_t **wq_agg_argp(wq_agg_t *a, uint32_t i);
weft_expr_t *wq_agg_arg(const wq_agg_t *a, uint32_t i);
int wq_agg_copy_args(wq_agg_t *d, const wq_agg_t *s);
void wq_agg_free_args(wq_agg_t *a);

/* Statistics (agg_stat.c): variance ... weft_linreg. wq_stat_nargs: the
 * arguments fn takes (0: two or more, weft_linreg); wq_stat_width: the
 * doubles of one group's state (the state columns are a count, then as
 * many double precision). Rows fold from the arguments' vectors v[0..1 +
 * a->nmore), states merge from their columns sv[0..1 + width). */
#define WQ_STAT_STATES_MAX                                                     \
	(1 + (WQ_LINREG_X_MAX + 1) +                                           \
	 (WQ_LINREG_X_MAX + 1) * (WQ_LINREG_X_MAX + 2) / 2)
bool wq_agg_is_stat(int fn);
uint32_t wq_stat_nargs(int fn);
uint32_t wq_stat_width(const wq_agg_t *a);
weft_sqltype_t wq_stat_result_type(int fn, weft_sqltype_t argtype);
void wq_stat_fold(const wq_agg_t *a, int64_t *cnt, double *blk,
		  const uint32_t *g, const weft_vec_t *const *v, uint32_t n);
void wq_stat_merge(const wq_agg_t *a, int64_t *cnt, double *blk,
		   const uint32_t *g, const weft_vec_t *const *sv, uint32_t n);
void wq_stat_emit_state(const wq_agg_t *a, int64_t c, const double *s,
			weft_vec_t *const *o, uint32_t r);
int wq_stat_emit(const wq_agg_t *a, int64_t c, const double *s, weft_vec_t *o,
		 uint32_t r, weft_arena_t *arena);

/* ---- plan ---- */

typedef enum wq_kind {
	WQ_SCAN,
	WQ_FILTER,
	WQ_PROJECT,
	WQ_AGG,
	WQ_JOIN,
	WQ_SORT,
	WQ_LIMIT,
	WQ_DISTINCT,
	WQ_APPEND,  /* UNION ALL of l and r */
	WQ_ONEROW,  /* one row, no columns (SELECT without FROM) */
	WQ_REMOTE,  /* a subtree run whole by another node (subplan.c) */
	WQ_PROFILE, /* the profile of l's rows (profile.c): weft_profile(*) */
} wq_kind_t;

enum { WQ_JOIN_INNER = 0, WQ_JOIN_LEFT = 1, WQ_JOIN_CROSS = 2 };

typedef struct wq_plan {
	wq_kind_t kind;
	uint32_t ncols;
	weft_sqltype_t *types;
	char **names;
	struct wq_plan *l, *r;
	double rows; /* estimated output rows */

	/* SCAN */
	wq_frag_t *frag;
	weft_remote_t *remote; /* hosted by another node, or NULL */
	uint64_t storage_id;
	uint32_t nchunks;
	/* FILTER */
	weft_expr_t *pred;
	/* PROJECT */
	uint32_t nexprs;
	weft_expr_t **exprs;
	/* AGG */
	int aggmode;
	uint32_t nkeys;
	weft_expr_t **keys;
	uint32_t naggs;
	wq_agg_t *aggs;
	/* JOIN: equi keys lkeys[i] (over l) = rkeys[i] (over r); resid over
	 * l's columns then r's */
	int jtype;
	uint32_t njkeys;
	weft_expr_t **lkeys, **rkeys;
	weft_expr_t *resid;
	uint8_t *jskip; /* output columns nobody reads (not filled), or NULL */
	/* SORT */
	uint32_t nsort;
	wq_sortkey_t *sort;
	/* LIMIT */
	int64_t limit; /* -1: all */
	int64_t offset;
	/* REMOTE: the subtree (its scans all on remote's node), as planned
	 * (for EXPLAIN) and encoded (weft.Fragment with plan steps) */
	struct wq_plan *sub;
	uint8_t *subbuf;
	size_t sublen;
	/* dynamic filters (plan_dynf.c): a JOIN's key (1-based) whose build
	 * side's values filter the probe scan; that SCAN's key over the
	 * columns its fragment reads (it is sent once the build is done) */
	uint32_t dynf;
	weft_expr_t *dynkey;
	/* SCAN of a decoded subplan: the version asked (0: any); located
	 * and checked against the store when opened, like a lone fragment */
	uint64_t version;
	bool decoded;
} wq_plan_t;

/* Plan nodes (plan.c). wq_plan_free frees p, its children and
 * everything they own; NULL is fine. */
wq_plan_t *wq_plan_new(wq_kind_t kind);
void wq_plan_free(wq_plan_t *p);
/* Give p an output shape of n columns (types and names uninitialised). */
int wq_plan_shape(wq_plan_t *p, uint32_t n);
/* Drop p's output shape (names and types freed, no columns). */
void wq_plan_unshape(wq_plan_t *p);
/* Give p src's output shape (types, names copied). 0 or WEFT_ENOMEM. */
int wq_plan_shape_of(wq_plan_t *p, const wq_plan_t *src);
/* The scans under p (p included). */
uint32_t wq_plan_nscans(const wq_plan_t *p);
/* The first scan under p, in step order (p has one). */
const wq_plan_t *wq_plan_first_scan(const wq_plan_t *p);
/* A projection of child with n expressions exprs (taken on success) named
 * names (copied; NULL names "?column?"); NULL on allocation failure, when
 * child and exprs stay the caller's. */
wq_plan_t *wq_plan_project(wq_plan_t *child, uint32_t n, weft_expr_t **exprs,
			   char *const *names);
/* A node of kind over child (taken on success) with child's shape. */
wq_plan_t *wq_plan_same(wq_kind_t kind, wq_plan_t *child);

/* Bind: parse tree (PgQuery__Node of a SelectStmt) -> logical plan. */
typedef struct wq_bindctx wq_bindctx_t;
int wq_bind(weft_snapshot_t *snap, const weft_mesh_t *mesh, const char *sql,
	    const void *select_stmt, wq_plan_t **out, weft_err_t *err);

/* Aggregation below joins over remote scans (plan_eager.c); a pass of
 * wq_optimize, before fragments are cut. */
int wq_eager_agg(wq_plan_t *p);
/* The partial aggregation (PARTIAL) of e by keys ek[0..n) (copied, named
 * kname0, kname1, ...) with p's aggregates, their arguments copied and
 * their columns moved by shift (plan_eager.c), over e (its l: clear it
 * before freeing the node to keep e). NULL when out of memory. */
wq_plan_t *wq_agg_partial(const wq_plan_t *p, wq_plan_t *e,
			  weft_expr_t *const *ek, uint32_t n, int64_t shift,
			  const char *kname);
/*
 * Profiles (profile.c): the statistics of n columns (types t, names
 * names) of every batch added, emitted as rows (column, stat, key, value,
 * rows) of the types wq_prof_types gives. k > 0 with withhold: under an
 * aggregates-only grant of min_group k (what is released then: the top
 * of profile.c). wq_prof_add: 0 or WEFT_ENOMEM; wq_prof_emit: 1 with a
 * batch of rows in out (WQ_PROF_NCOLS columns), 0 at the end.
 */
#define WQ_PROF_NCOLS 5
/* rows of one column's profile, at most: type, rows, nulls, distinct,
 * min, max, withheld, sample, 7 quantiles, 10 buckets, 10 common values
 * and a remainder (profile.c) */
#define WQ_PROF_ROWS_MAX 40
typedef struct wq_prof wq_prof_t;
int wq_prof_new(uint32_t n, const weft_sqltype_t *t, char *const *names,
		uint64_t k, bool withhold, wq_prof_t **out);
struct wq_dict;
/* d: the batch's dictionaries (exec.h; NULL, or an id per column) */
int wq_prof_add(wq_prof_t *p, const weft_batch_t *b, const struct wq_dict *d);
int wq_prof_emit(wq_prof_t *p, weft_batch_t *out, weft_err_t *err);
void wq_prof_free(wq_prof_t *p);
void wq_prof_types(weft_sqltype_t t[WQ_PROF_NCOLS], const char **names);

/* Aggregation below UNION ALL (plan_union.c); a pass of wq_optimize. */
int wq_union_agg(wq_plan_t *p);
/* Dynamic filters (plan_dynf.c): wq_dynf marks the joins and probe
 * scans, a pass of wq_optimize after the fragments; wq_dynf_list makes
 * `key IN (distinct non-NULL values of column c of keys)` for the scan,
 * or *out NULL when there are none or too many (then no filter). */
int wq_dynf(wq_plan_t *p);
/* Optimise (pushdown, pruning, fragments) in place. */
int wq_optimize(wq_plan_t **p, weft_err_t *err);
/* The passes an owner runs on a subplan it received (fragments, settle). */
int wq_optimize_pushed(wq_plan_t **p, weft_err_t *err);

/*
 * Whole-subtree pushdown (subplan.c). wq_subplan_cut, a pass of
 * wq_optimize after pruning: each largest subtree whose scans (two or
 * more) all read products of one other node, and whose every step that
 * node can run as it stands, becomes a WQ_REMOTE node. The owner's side:
 * wq_frag_is_plan tells a subplan from a one-scan fragment, and
 * wq_subplan_decode turns hostile bytes into a plan that obeys every
 * rule a planned one does (its scans carry the versions asked); the
 * caller checks the products it reads.
 */
#define WQ_SUBPLAN_STEPS_MAX 64
int wq_subplan_cut(wq_plan_t **p);
bool wq_frag_is_plan(const uint8_t *buf, size_t len);
int wq_subplan_decode(const uint8_t *buf, size_t len, wq_plan_t **out,
		      weft_err_t *err);
void wq_plan_print(const wq_plan_t *p, FILE *f);
/* The line(s) of node p alone (not its children), indented by ind: the
 * first line is the node's own (EXPLAIN ANALYZE appends to it). */
void wq_plan_print_node(const wq_plan_t *p, FILE *f, int ind);

/* ---- execution ---- */

typedef struct wq_op wq_op_t;
typedef struct wq_exec {
	weft_snapshot_t *snap;
	const weft_mesh_t *mesh; /* remote scans; NULL: none */
	int64_t now;
	weft_stop_fn stop; /* asked between batches and chunks; NULL: never */
	void *stop_arg;
	/* rows the operators may hold in all (sorts, join build sides,
	 * groups, distinct rows and values); 0: no limit. An owner running
	 * another node's subplan sets it (query/serve.c). */
	uint64_t hold_max, held;
	bool timing; /* EXPLAIN ANALYZE: time every operator (analyze.c) */
	/* a profile fragment under an aggregates-only grant (serve.c):
	 * release what min_group prof_k allows (profile.c) */
	bool prof_withhold;
	uint64_t prof_k;
} wq_exec_t;

/* n more rows held by an operator of x: 0, or the error past the cap. */
static inline int
wq_hold(wq_exec_t *x, uint64_t n, weft_err_t *err)
{
	if (x == NULL || x->hold_max == 0)
		return 0;
	x->held += n;
	if (x->held <= x->hold_max)
		return 0;
	return weft_err_set(err, WEFT_ETOOBIG,
			    "the plan holds more than %llu rows at once (the "
			    "owner's limit for a plan sent by another node)",
			    (unsigned long long)x->hold_max);
}

/* 0, or the error to stop with (the stop function said so). Inline:
 * every operator and the scan's chunk loop ask it. */
static inline int
wq_stopped(const wq_exec_t *x, weft_err_t *err)
{
	int why = x && x->stop ? x->stop(x->stop_arg) : WEFT_STOP_NO;

	if (why == WEFT_STOP_NO)
		return 0;
	return weft_err_set(err, WEFT_EIO,
			    why == WEFT_STOP_DEADLINE
				? "timed out (the query's deadline passed)"
				: "cancelled");
}

int wq_op_open(wq_exec_t *x, const wq_plan_t *p, wq_op_t **out,
	       weft_err_t *err);
int wq_op_next(wq_op_t *op, weft_batch_t **out, weft_err_t *err);
void wq_op_free(wq_op_t *op);
/* Run one fragment standalone (e.g. one received from another node). */
int wq_frag_open(wq_exec_t *x, const wq_frag_t *f, wq_op_t **out,
		 weft_err_t *err);

/* The scan fragments of a prepared query (borrowed from q): up to max
 * pointers into v; returns how many. */
size_t wq_query_frags(weft_query_t *q, wq_frag_t **v, size_t max);
int64_t wq_query_now(const weft_query_t *q);

/* A remote product (deep copy; free with wq_remote_free). */
weft_remote_t *wq_remote_copy(const weft_remote_t *r);
void wq_remote_free(weft_remote_t *r);

/* ---- shared helpers ---- */

/* Bytes per value of a vector of type t. */
size_t wq_width(weft_sqltype_t t);
/* Byte position (0-based) in sql -> 1-based character position. */
int wq_charpos(const char *sql, int byteoff);

/* Rows materialised column by column; text copied into the store. */
typedef struct wq_rows {
	uint32_t ncols;
	weft_sqltype_t *types;
	size_t n, cap;
	uint8_t **nulls;
	uint8_t **vals;
	weft_arena_t *arena;
} wq_rows_t;

/* plan_dynf.c, see wq_dynf above */
int wq_dynf_list(const wq_rows_t *keys, uint32_t c, const weft_expr_t *key,
		 weft_expr_t **out, weft_err_t *err);
int wq_rows_init(wq_rows_t *r, uint32_t ncols, const weft_sqltype_t *types);
void wq_rows_release(wq_rows_t *r);
/* Append the rows of b (all, or those in sel[0..nsel) when sel). */
int wq_rows_append(wq_rows_t *r, const weft_batch_t *b, const uint32_t *sel,
		   uint32_t nsel);
/* Copy rows idx[0..n) of column c into out's slots [at, at+n). An index
 * of UINT32_MAX gives NULL. */
void wq_rows_gather(const wq_rows_t *r, uint32_t c, const uint32_t *idx,
		    uint32_t n, weft_vec_t *out, uint32_t at);

/* A hash table of distinct keys (rows of nkeys columns): group ids. */
typedef struct wq_ktab {
	wq_rows_t keys; /* key values, row g = group g */
	uint64_t *hash; /* per group */
	uint32_t n, hcap;
	uint32_t *slots; /* open addressing: group id + 1, 0 = empty */
	uint32_t mask;
} wq_ktab_t;

int wq_ktab_init(wq_ktab_t *t, uint32_t nkeys, const weft_sqltype_t *types);
void wq_ktab_release(wq_ktab_t *t);
/* Group ids of n rows (key vectors k[0..nkeys), hashes h), inserting new
 * keys; newrows (may be NULL) receives the rows that made new groups. */
int wq_ktab_find(wq_ktab_t *t, const weft_vec_t *const *k, uint32_t n,
		 const uint64_t *h, uint32_t *gids, uint32_t *newrows,
		 uint32_t *nnew);

/* Aggregation state: groups and their aggregates' transition values. */
typedef struct wq_aggtab wq_aggtab_t;
int wq_aggtab_new(int mode, uint32_t nkeys, const weft_sqltype_t *keytypes,
		  uint32_t naggs, const wq_agg_t *aggs, wq_aggtab_t **out);
void wq_aggtab_free(wq_aggtab_t *t);
uint32_t wq_aggtab_ngroups(const wq_aggtab_t *t);
/* Group ids for n rows of key vectors (inserting new groups). */
int wq_aggtab_groups(wq_aggtab_t *t, const weft_vec_t *const *keys, uint32_t n,
		     uint32_t *gids);
/* Group ids when the only key is a dictionary-coded text column: codes
 * index vals (ndict entries); nulls marks NULL rows. dict_id identifies
 * the dictionary so its mapping is cached while it stays the same. */
int wq_aggtab_groups_dict(wq_aggtab_t *t, const void *dict_id,
			  const weft_str_t *vals, uint32_t ndict,
			  const uint32_t *codes, const uint8_t *nulls,
			  uint32_t n, uint32_t *gids);
/* COMPLETE/PARTIAL: fold rows in; args[i] is aggregate i's argument
 * (NULL for count(*)). FINAL: args are the state columns, in order. */
int wq_aggtab_add(wq_aggtab_t *t, const uint32_t *gids,
		  const weft_vec_t *const *args, uint32_t n, weft_err_t *err);
/* Write groups [from, from + n) into out: keys, then results (or the
 * transition states in PARTIAL mode). */
int wq_aggtab_emit(wq_aggtab_t *t, uint32_t from, uint32_t n, weft_batch_t *out,
		   weft_err_t *err);

/* Hash of row i of v, combined into h. */
uint64_t wq_hash_val(const weft_vec_t *v, uint32_t i);
void wq_hash_vec(const weft_vec_t *v, uint32_t n, uint64_t *h, bool first);
/* Compare values (non-NULL) a[i] and b[j] of the same type. */
int wq_cmp_raw(weft_sqltype_t t, const void *a, size_t i, const void *b,
	       size_t j);
bool wq_eq_raw(weft_sqltype_t t, const void *a, size_t i, const void *b,
	       size_t j);

/* Compare row i of (an, av) with row j of (bn, bv) (null flags and
 * values per column, of types) by keys: <0, 0, >0. Inline: sorts and
 * top-N call it for every row. */
static inline int
wq_cmp_keys(const wq_sortkey_t *keys, uint32_t nkeys,
	    const weft_sqltype_t *types, uint8_t *const *an, uint8_t *const *av,
	    size_t i, uint8_t *const *bn, uint8_t *const *bv, size_t j)
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

/* Sort the rows of r by keys: *idx (grown as needed, *cap entries) gets
 * the row numbers in order; equal rows keep their order. */
int wq_sort_rows(const wq_rows_t *r, const wq_sortkey_t *keys, uint32_t nkeys,
		 uint32_t **idx, size_t *cap);

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

/* A top-N of `limit` rows of ncols columns of types by keys (borrowed:
 * they must outlive it); wq_topn_add offers it a batch, wq_topn_shrink
 * sorts what it holds and keeps the best `limit` (rows [0, n) in order
 * afterwards). 0 or WEFT_ENOMEM. */
int wq_topn_new(uint32_t ncols, const weft_sqltype_t *types, uint64_t limit,
		const wq_sortkey_t *keys, uint32_t nkeys, wq_topn_t **out);
void wq_topn_free(wq_topn_t *t);
int wq_topn_add(wq_topn_t *t, const weft_batch_t *b);
int wq_topn_shrink(wq_topn_t *t);

static inline uint64_t
wq_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* ---- serve_policy.c ---- */

/*
 * The product's policy, if this node set one, applied to one scan f of a
 * fragment asked by asker (query/serve.h): 0 when it may run, else
 * WEFT_EDENIED with a message for the asker (no grant; a column the grant
 * does not allow, wherever the fragment uses it; a rule not enforced yet),
 * or the error reading the policy. pi: the product as stored (columns).
 */
/* The asker's check of its remote scans against the owners' policies
 * as gossiped here (plan_policy.c): an early WEFT_EDENIED with the
 * owner's message, and each remote's `policy` line for EXPLAIN. */
int wq_plan_policy(weft_snapshot_t *snap, const weft_mesh_t *m, wq_plan_t *p,
		   weft_err_t *err);

struct weft_asker;

/* What the owner does to an aggregates-only fragment's groups on their
 * way out (serve_kgate.c): the threshold, and noise. */
typedef struct wq_gate {
	bool on;	    /* a count(*) was appended to the fragment */
	bool entity;	    /* and before it count(DISTINCT entity): the
			     * threshold counts entities; small groups are
			     * dropped, not folded (no remainder) */
	uint64_t min_group; /* 0: no threshold */
	uint32_t nscale;    /* state columns after the keys (no count) */
	double *scale;	    /* Laplace scale of each (0: none); owned */
	double eps;	    /* the ε this fragment spent */
	bool profile;	    /* a profile (profile.c) under an aggregates-
			     * only grant: release what min_group allows */
} wq_gate_t;

/* The refusals the owner and the asker's planner share, word for word:
 * a column not granted; a row query (or a scan in a pushed plan) under
 * an aggregates-only grant. Both return WEFT_EDENIED. */
/* A profile fragment f under grant g (aggregates only or noise): 0 (the
 * gate, when given, set to release what min_group allows), or
 * WEFT_EDENIED with why. */
struct Weft__PolicyGrant;
int wq_policy_profile(const wq_frag_t *f, const struct Weft__PolicyGrant *g,
		      uint64_t version, wq_gate_t *gate, weft_err_t *err);
int wq_policy_deny_column(weft_err_t *err, const char *product, const char *col,
			  const char *org, uint64_t version, uint32_t line);
int wq_policy_deny_rows(weft_err_t *err, const char *product, uint32_t line,
			uint64_t version, bool in_plan);

int wq_policy_check(weft_snapshot_t *snap, const struct weft_asker *asker,
		    wq_frag_t *f, bool in_plan, const weft_product_info_t *pi,
		    wq_gate_t *gate, weft_err_t *err);

/*
 * The noise rule of grant g on aggregating fragment f (serve_noise.c):
 * count, sum and avg only; sum and avg over a column with bounds, whose
 * values are clamped to them; the grant's ε split evenly over the states
 * sent, each noised with Laplace(sensitivity / its share) in the gate;
 * the ε spent from the asking org's budget for the period (LMDB), or
 * refused when that is spent. 0, WEFT_EDENIED, or a store error.
 */
struct Weft__PolicyGrant;
int wq_policy_noise(wq_frag_t *f, const weft_product_info_t *pi,
		    const struct Weft__PolicyGrant *g,
		    const struct weft_asker *asker, wq_gate_t *gate,
		    weft_err_t *err);

/*
 * The group threshold of an aggregates-only grant (serve_kgate.c), over
 * the batches of a fragment f whose last aggregate is the count(*) that
 * wq_policy_check appended: groups of at least k rows pass without that
 * count; smaller ones fold into one remainder group with NULL keys, sent
 * last when it has k rows itself. next: 1 with *out, 0 at the end, <0.
 */
typedef struct wq_kgate wq_kgate_t;
int wq_kgate_new(const wq_frag_t *f, const wq_gate_t *gate, wq_kgate_t **out,
		 weft_err_t *err);
int wq_kgate_next(wq_kgate_t *g, wq_op_t *op, weft_batch_t **out,
		  weft_err_t *err);
void wq_kgate_stats(const wq_kgate_t *g, uint64_t *groups, uint64_t *suppressed,
		    double *eps);
void wq_kgate_free(wq_kgate_t *g);

/*
 * Rewrite f in place to read the product as grant g shows it to asker
 * (serve_rewrite.c): masked columns masked wherever the fragment uses
 * them, the rows predicate ANDed in front of its filter. The output
 * types are unchanged. 0, WEFT_EDENIED (the predicate does not bind; a
 * hash mask without a key, or on a type it cannot keep), WEFT_ENOMEM.
 */
/* The read column of f that reads product column pc (type t): found, or
 * appended after f's own (serve_rewrite.c); the caller keeps f's output
 * as it was (an aggregate, or a projection). 0, WEFT_EDENIED (too many
 * columns), WEFT_ENOMEM. */
int wq_frag_read_col(wq_frag_t *f, uint32_t pc, weft_sqltype_t t, uint32_t *idx,
		     weft_err_t *err);

struct Weft__PolicyGrant;
int wq_policy_rewrite(wq_frag_t *f, const weft_product_info_t *pi,
		      const struct Weft__PolicyGrant *g,
		      const struct weft_asker *asker, weft_err_t *err);

#endif
