/*
 * frag.h: scan fragments: what one scan of one product does next to its
 * data, and their wire form (weft.Fragment / weft.Expr, proto/weft.proto).
 *
 * The planner (plan.c) cuts one fragment out of each scan of a plan; a
 * later issue sends them to the nodes that own the products. query/frag.c
 * is the one place that converts between wq_frag_t and weft.Fragment and
 * the one place that says which fragments are acceptable: the planner
 * finishes each fragment with wq_frag_settle and the decoder applies the
 * same rules to bytes from anywhere. So a fragment the planner accepts
 * encodes, decodes and re-encodes to the same bytes, and a fragment the
 * decoder accepts obeys every rule a planned one does: the executor
 * (wq_frag_open in exec.c) trusts its types without looking again.
 *
 * Ownership: a wq_frag_t owns everything it points to (product name,
 * arrays, expression trees, aggregate arguments, column names) and is
 * freed with wq_frag_free. The functions below borrow the fragments they
 * are given and keep no pointer into them after they return.
 */
#ifndef WEFT_QUERY_FRAG_H
#define WEFT_QUERY_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "query/expr.h"
#include "query/vec.h"
#include "storage/chunk.h"
#include "storage/descriptor.h"

/*
 * Limits: each is defined here once. The binder refuses SQL that goes
 * over them, with a message that names the limit; the planner refuses a
 * fragment that goes over them (wq_frag_settle), the decoder refuses
 * bytes that do, before it builds anything.
 *
 *   WEFT_FRAG_DEPTH_MAX  levels of one expression tree (a column or a
 *                        constant alone is one level; `a + 1` is two):
 *                        "expression nested too deeply (more than 1000
 *                        levels)"
 *   WEFT_FRAG_NODES_MAX  expression nodes of one fragment, all its
 *                        expressions together: "expression too large
 *                        (more than 1000000 nodes)"
 *   WEFT_FRAG_ARGS_MAX   arguments of one node (an IN list)
 *   WQ_COLS_MAX          projected columns, group keys, sort keys (and
 *                        half as many aggregates), as in any plan node
 *   WEFT_COLS_MAX        read columns (a product's columns)
 *   WEFT_TEXT_MAX        bytes of one text constant
 */
#define WEFT_FRAG_DEPTH_MAX 1000
#define WEFT_FRAG_NODES_MAX 1000000
#define WEFT_FRAG_ARGS_MAX 100000
#define WQ_COLS_MAX 1664 /* columns of any plan node (PostgreSQL's cap) */

/* ---- aggregates and sort keys, as fragments carry them ---- */

typedef enum wq_aggfn {
	WQ_AGG_COUNT_STAR = 0,
	WQ_AGG_COUNT = 1,
	WQ_AGG_SUM = 2,
	WQ_AGG_AVG = 3,
	WQ_AGG_MIN = 4,
	WQ_AGG_MAX = 5,
	/* statistics (agg_stat.c): one state of co-moments over 1 + nmore
	 * double precision variables, mergeable in any order */
	WQ_AGG_VAR_POP = 6,
	WQ_AGG_VAR_SAMP = 7, /* variance */
	WQ_AGG_STDDEV_POP = 8,
	WQ_AGG_STDDEV_SAMP = 9, /* stddev */
	WQ_AGG_COVAR_POP = 10,	/* (y, x) from here on */
	WQ_AGG_COVAR_SAMP = 11,
	WQ_AGG_CORR = 12,
	WQ_AGG_REGR_COUNT = 13,
	WQ_AGG_REGR_SXX = 14,
	WQ_AGG_REGR_SYY = 15,
	WQ_AGG_REGR_SXY = 16,
	WQ_AGG_REGR_AVGX = 17,
	WQ_AGG_REGR_AVGY = 18,
	WQ_AGG_REGR_SLOPE = 19,
	WQ_AGG_REGR_INTERCEPT = 20,
	WQ_AGG_REGR_R2 = 21,
	WQ_AGG_LINREG = 22, /* weft_linreg(y, x1, ..., xk) */
} wq_aggfn_t;

#define WQ_AGG_FN_LAST WQ_AGG_LINREG
/* Regressors of weft_linreg: its state holds (k + 1)(k + 4) / 2 + 1
 * numbers per group (171 at k = 16). */
#define WQ_LINREG_X_MAX 16

typedef struct wq_agg {
	int fn;			/* wq_aggfn_t */
	bool distinct;		/* count(DISTINCT x) etc. */
	weft_expr_t *arg;	/* over the aggregation's input; NULL for * */
	uint32_t nmore;		/* arguments after arg: corr(y, x) has 1 */
	weft_expr_t **more;	/* [nmore], of type argtype, like arg; NULL
				 * with arg in a final aggregation (of
				 * states), whose nmore still says the
				 * state's shape */
	weft_sqltype_t argtype; /* type of arg */
	weft_sqltype_t type;	/* result type (PostgreSQL's) */
	int scale;		/* NUMERIC result display scale, -1 unknown */
} wq_agg_t;

typedef struct wq_sortkey {
	uint32_t col;
	bool desc;
	bool nulls_first;
} wq_sortkey_t;

/* ---- fragments ---- */

/*
 * What one scan of one product does, in order: read `ncols` product
 * columns (`cols`, their types `ctypes`); keep rows where `filter` (over
 * the read columns) is true; evaluate `proj` (over the read columns) if
 * nproj > 0; then either aggregate partially (keys and aggs over the rows
 * so far; output = keys then the aggregates' transition states), or keep
 * the first `limit` rows in `order` (top-N; no order: the first rows).
 */
typedef struct wq_frag {
	char *product;
	uint32_t ncols;
	uint32_t *cols;
	weft_sqltype_t *ctypes;
	char **colnames; /* for EXPLAIN only (may be NULL; not serialised) */
	weft_expr_t *filter;
	uint32_t nproj;
	weft_expr_t **proj;
	bool agg;
	uint32_t nkeys;
	weft_expr_t **keys;
	uint32_t naggs;
	wq_agg_t *aggs;
	uint32_t norder;
	wq_sortkey_t *order;
	int64_t limit; /* -1: none */
	/* the profile of the output (query/profile.c) instead of its rows;
	 * the asker's fragment reads columns (and filters) only, the owner
	 * may add a projection (its masks) */
	bool profile;
} wq_frag_t;

/* Free f and everything it owns; NULL is fine. */
void wq_frag_free(wq_frag_t *f);

/*
 * The output shape of f: the profile's rows for a profile, keys then
 * transition states for a partial aggregation, else the projection,
 * else the read columns. *types is
 * malloc'd (the caller frees it). 0, or WEFT_ENOMEM.
 */
int wq_frag_types(const wq_frag_t *f, uint32_t *n, weft_sqltype_t **types);

/*
 * The planner's last word on a fragment it made: bring every expression
 * of f into the form weft_expr_resolve gives it (constant subtrees the
 * plan passes made, such as a filter pushed through a projection of
 * constants, are folded) and check f against the limits above and
 * against the rules the decoder applies. 0, or an error with a message
 * for the user (a fold may fail: "division by zero"). On failure f is
 * still whole, to be freed by its owner.
 */
int wq_frag_settle(wq_frag_t *f, weft_err_t *err);

/*
 * Serialise f (borrowed, unchanged) as weft.Fragment into *buf, malloc'd,
 * *len bytes; the caller frees *buf. Fails (WEFT_ENOMEM) only when out of
 * memory, with *buf NULL.
 */
int wq_frag_encode(const wq_frag_t *f, uint8_t **buf, size_t *len,
		   weft_err_t *err);

/*
 * Parse buf[0..len) (borrowed; no pointer into it is kept) as a
 * weft.Fragment from an untrusted peer.
 *
 * Before anything is unpacked, the nesting and number of expressions in
 * the bytes are checked against WEFT_FRAG_DEPTH_MAX and
 * WEFT_FRAG_NODES_MAX, so hostile bytes cannot exhaust the stack or the
 * memory. On success (0) *out is a new fragment the caller owns and:
 *  - the product name is valid; there are at most WEFT_COLS_MAX read
 *    columns, each of a storage type (bool, bigint, double precision,
 *    text, timestamp); colnames is NULL;
 *  - every expression is within the limits above, reads only columns in
 *    range (the read columns for filter and projection, the projection's
 *    output, else the read columns, for keys and aggregate arguments)
 *    with the types those columns have, holds only constants of valid
 *    types, and is exactly what weft_expr_resolve makes of it (types,
 *    casts, folded constants, NUMERIC scales), so evaluating it never
 *    meets a type it does not expect; the filter is boolean;
 *  - a partial aggregation has no order and no limit; each aggregate is
 *    one the binder makes (function, argument type, result type and
 *    scale agree; no DISTINCT); sort keys are columns of the output;
 *    limit is -1 or more.
 * On failure *out is NULL, nothing allocated is left behind and err says
 * why: WEFT_EINVAL ("fragment: ..."), or WEFT_ENOMEM.
 */
int wq_frag_decode(const uint8_t *buf, size_t len, wq_frag_t **out,
		   weft_err_t *err);

#endif
