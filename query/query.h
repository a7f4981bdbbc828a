/*
 * query.h: run SQL (PostgreSQL dialect) over the products of a snapshot.
 *
 * weft_query_prepare parses with libpg_query, binds names against the
 * snapshot's products, types every expression and builds a physical plan;
 * weft_query_next then streams the result a batch at a time. The plan's
 * scans (product, projection, pushed-down filter, partial aggregation,
 * limit/top-N) are fragments that serialise to protobuf (weft.proto) so a
 * later issue can run them on other nodes.
 *
 * Errors carry err->pos, the 1-based character position of the offending
 * construct in the SQL text, when there is one.
 */
#ifndef WEFT_QUERY_QUERY_H
#define WEFT_QUERY_QUERY_H

#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"
#include "query/vec.h"
#include "storage/store.h"

#define WEFT_SQL_MAX (1u << 20) /* bytes of SQL accepted */

typedef struct weft_query weft_query_t;

/* Parse, bind and plan sql against snap (borrowed; must outlive q). */
int weft_query_prepare(weft_snapshot_t *snap, const char *sql,
		       weft_query_t **out, weft_err_t *err);
/* Result shape. Names are borrowed from q. */
uint32_t weft_query_ncols(const weft_query_t *q);
const char *weft_query_colname(const weft_query_t *q, uint32_t i);
weft_sqltype_t weft_query_coltype(const weft_query_t *q, uint32_t i);
/* 1 for EXPLAIN statements: weft_query_next yields the plan text rows. */
int weft_query_is_explain(const weft_query_t *q);
/*
 * Next batch of results: 1 with *out set (borrowed until the next call),
 * 0 at the end, negative on error.
 */
int weft_query_next(weft_query_t *q, const weft_batch_t **out, weft_err_t *err);
void weft_query_free(weft_query_t *q);

/* Print the physical plan. */
void weft_query_explain(const weft_query_t *q, FILE *f);

#endif
