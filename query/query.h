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

#include "crypto/identity.h"
#include "lib/err.h"
#include "query/vec.h"
#include "storage/store.h"

#define WEFT_SQL_MAX (1u << 20) /* bytes of SQL accepted */

typedef struct weft_query weft_query_t;

/* Parse, bind and plan sql against snap (borrowed; must outlive q). */
int weft_query_prepare(weft_snapshot_t *snap, const char *sql,
		       weft_query_t **out, weft_err_t *err);

/* ---- the mesh: products hosted by other nodes ---- */

/* A product of another node, from its signed descriptor. */
typedef struct weft_remote {
	char *name; /* domain.product */
	char *org;  /* owning org */
	char *node; /* hosting node's name */
	uint8_t node_pk[WEFT_PK_BYTES];
	uint64_t version; /* the version the query reads */
	uint64_t rows;	  /* rows, as the descriptor says */
	int tunnel;	  /* no session with the node: through gateways */
	int cross;	  /* the node is of another org than ours */
	uint32_t scans;	  /* > 1: a subtree over that many scans runs there
			   * (query/subplan.c); name is its first product */
	char *policy;	  /* the owner's grant to us, as gossiped here, in
			   * a line (EXPLAIN); NULL: no policy */
} weft_remote_t;

/*
 * How a query reaches other nodes (the agent provides it). Names resolve
 * against the snapshot's products and, through the snapshot's catalog,
 * the descriptors of other nodes (not `self`'s: those are the local
 * products). A scan of a remote product runs its fragment on the hosting
 * node: open hands the fragment's bytes (weft.Fragment) to the driver,
 * next gives the result batches (weft.ResultBatch bytes, borrowed until
 * the next call; 1, 0 at the end, negative on error), close ends it
 * (also early: a LIMIT satisfied, an error elsewhere). With open NULL,
 * remote names resolve only to say where they are hosted.
 *
 * open, next and close are called on the thread running the query, and
 * may block (the agent runs queries on worker threads).
 */
/*
 * Asked by a running query (or fragment) between batches and between
 * chunks of a scan, from the thread that runs it: WEFT_STOP_NO to go on,
 * WEFT_STOP_CANCEL or WEFT_STOP_DEADLINE to end it at once with
 * "cancelled" or "timed out".
 */
enum { WEFT_STOP_NO = 0, WEFT_STOP_CANCEL = 1, WEFT_STOP_DEADLINE = 2 };
typedef int (*weft_stop_fn)(void *arg);

typedef struct weft_mesh {
	const uint8_t *self;  /* our node key (WEFT_PK_BYTES), or NULL */
	const char *self_org; /* our org, or NULL */
	const char *const *self_roles; /* our certificate's roles */
	size_t self_nroles;
	/* 1 if we hold a session with node pk (else a tunnel will carry
	 * the fragment); NULL: unknown. For EXPLAIN. */
	int (*direct)(void *arg, const uint8_t *pk);
	int (*open)(void *arg, const weft_remote_t *r, const uint8_t *frag,
		    size_t len, void **stream, weft_err_t *err);
	int (*next)(void *arg, void *stream, const uint8_t **buf, size_t *len,
		    weft_err_t *err);
	void (*close)(void *arg, void *stream);
	/* Optional (NULL: not asked), for EXPLAIN ANALYZE, on an open
	 * stream: the way its answer came ("direct session", "result
	 * cache": a static string, or NULL when unknown) and *version, the
	 * product version read (0 when not known yet). */
	const char *(*route)(void *arg, void *stream, uint64_t *version);
	void *arg;
	/* tests: plan without reading the owners' gossiped policies, so
	 * that only the owner judges (query/plan_policy.c) */
	int policy_blind;
} weft_mesh_t;

/* weft_query_prepare, with names on other nodes (mesh borrowed; must
 * outlive q). */
int weft_query_prepare_mesh(weft_snapshot_t *snap, const weft_mesh_t *mesh,
			    const char *sql, weft_query_t **out,
			    weft_err_t *err);
/* Set the stop function of q (see weft_stop_fn). */
void weft_query_set_stop(weft_query_t *q, weft_stop_fn stop, void *arg);
/* The remote products q reads, one per scan: up to max pointers
 * (borrowed from q) into v; returns how many. */
size_t weft_query_remotes(const weft_query_t *q, const weft_remote_t **v,
			  size_t max);
/* Result shape. Names are borrowed from q. */
uint32_t weft_query_ncols(const weft_query_t *q);
const char *weft_query_colname(const weft_query_t *q, uint32_t i);
weft_sqltype_t weft_query_coltype(const weft_query_t *q, uint32_t i);
/* 1 for EXPLAIN statements: weft_query_next yields the plan text rows
 * (EXPLAIN ANALYZE: its first call runs the statement, discarding its
 * rows, and the plan comes with what each operator did). */
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
