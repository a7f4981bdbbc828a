/*
 * fragpb.h: what frag.c shares with subplan.c, the other converter of
 * plans to and from the wire: expressions and aggregates <-> their
 * protobuf-c messages, the raw pre-scan that bounds nesting before
 * protobuf-c unpacks anything, and the rules every expression and
 * aggregate of a fragment obeys. Internal to query/.
 */
#ifndef WEFT_QUERY_FRAGPB_H
#define WEFT_QUERY_FRAGPB_H

#include <stdbool.h>
#include <stdint.h>

#include "query/qint.h"
#include "weft.pb-c.h"

/* A walk's budget: nodes seen so far, and the prefix of its messages
 * ("" for the planner, "fragment: " for the decoder). */
typedef struct wq_rules {
	uint32_t nodes;
	const char *who;
	weft_err_t *err;
} wq_rules_t;

/* WEFT_EINVAL with r's prefix and `what`. */
int wq_rules_fail(wq_rules_t *r, const char *what);
/* e over ncols input columns of types: within frag.h's limits (counted
 * into r), column references in range and of their columns' types, and
 * exactly what weft_expr_resolve makes of it. */
int wq_rules_expr(wq_rules_t *r, const weft_expr_t *e, uint32_t ncols,
		  const weft_sqltype_t *types);
/* An aggregate over nin input columns of types in: one the binder
 * makes; DISTINCT only if `distinct` (complete aggregation). */
int wq_rules_agg(wq_rules_t *r, const wq_agg_t *g, uint32_t nin,
		 const weft_sqltype_t *in, bool distinct);

/* Message kinds whose nesting the pre-scan follows. */
enum { WQ_PB_FRAGMENT, WQ_PB_STEP, WQ_PB_AGGSPEC, WQ_PB_EXPR, WQ_PB_OTHER };
/* One varint at *p (advanced), within end. */
bool wq_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);
/* Walk the encoding of one message of kind `kind` in [p, end) without
 * unpacking it, counting expressions and their nesting into r; 0 or
 * WEFT_EINVAL (too deep, too large, malformed). */
int wq_pb_scan(wq_rules_t *r, const uint8_t *p, const uint8_t *end, int kind,
	       int level);

/* e as a message (pointing into e's constants: e must outlive it); NULL
 * when out of memory. Freed with wq_pb_expr_free. */
Weft__Expr *wq_pb_expr(const weft_expr_t *e);
void wq_pb_expr_free(Weft__Expr *x);
/* g into *a (initialised here; a->arg from wq_pb_expr, the caller's to
 * free). 0 or WEFT_ENOMEM. */
int wq_pb_agg(const wq_agg_t *g, Weft__AggSpec *a);
/* Free what wq_pb_agg put into a (not a itself). */
void wq_pb_agg_free(Weft__AggSpec *a);

/* The tree of x as the bytes say (kinds, types and leaf arity checked;
 * the rules come after); NULL with err set. x must have been pre-scanned. */
weft_expr_t *wq_expr_from_pb(const Weft__Expr *x, weft_err_t *err);
/* Aggregates as[0..n) into a new array *out (*cnt built; free with
 * wq_aggs_free(*out, *cnt) also on failure). */
int wq_aggs_from_pb(Weft__AggSpec *const *as, size_t n, wq_agg_t **out,
		    uint32_t *cnt, weft_err_t *err);

#endif
