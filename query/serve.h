/*
 * serve.h: the owner's side of a remote scan: run a fragment received
 * from another node against one snapshot and produce its result batches
 * as bytes (weft.ResultBatch, query/bwire.h).
 *
 * Everything the asker sent is hostile and checked again here, whatever
 * the asking software did: the fragment is decoded under frag.h's limits,
 * it must name the product the request names, the product must exist at
 * the version asked (0: any), and it must be visible to the asker's org
 * (its descriptor: own org, listed orgs, or public). Then the product's
 * policy, if this node set one (storage/policy_store.h; docs/policy.md):
 * the asker needs a grant, and the fragment may read only the columns
 * the grant allows, anywhere in it (query/serve_policy.c).
 *
 * Runs on any thread; the snapshot (borrowed) must outlive the runner.
 */
#ifndef WEFT_QUERY_SERVE_H
#define WEFT_QUERY_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "query/query.h"
#include "storage/policy.h"
#include "storage/store.h"

typedef struct weft_fragrun weft_fragrun_t;

/*
 * A fragment may also be a subplan (query/subplan.c: joins, aggregations
 * and sorts over several products of this node). Then every product it
 * reads is checked as the request's is (visible to the asker's org, at
 * the version asked), and the rows its operators hold at once (sorts,
 * join build sides, groups) are capped at twice the rows of the products
 * it reads plus WEFT_SERVE_HOLD_MIN: past that it ends with an error, so
 * no plan a peer sends makes the owner's memory grow without bound.
 */
#define WEFT_SERVE_HOLD_MIN (1u << 20)

/* The policy a fragment was judged by (for the audit log). */
typedef struct weft_policy_used {
	uint64_t version; /* 0: the product has no policy */
	uint32_t line;	  /* the grant applied (its line); 0: none */
} weft_policy_used_t;

/* Who asks, as the session or tunnel authenticated it, and this node. */
typedef struct weft_asker {
	weft_requester_t who; /* org, node key, roles of its certificate */
	const uint8_t *self;  /* this node's key: whose policies bind */
	int64_t now_us;	      /* for grants' expiry */
	/* this node's secret for hash masks (32 bytes; NULL: a grant
	 * with a hash mask refuses) */
	const uint8_t *mask_key;
	/* where noise budgets are spent (NULL: a grant with noise
	 * refuses) */
	weft_store_t *st;
	/* filled with the policy and grant that applied (may be NULL) */
	weft_policy_used_t *used;
	/* the asker's certificate roles, fetched only when a policy needs
	 * them (org:role grants, requester_has_role): fills who->roles and
	 * who->nroles (storage the callee keeps); NULL: no roles */
	void (*roles)(void *arg, weft_requester_t *who);
	void *roles_arg;
} weft_asker_t;

/*
 * Bind every grant's rows predicate of p against product pi with the
 * query binder, as the owner will for each fragment (the storage layer
 * checked only that it parses): unknown columns or functions, wrong
 * types. 0, or an error prefixed "path:line: grant N: rows".
 */
struct Weft__Policy;
int weft_policy_check_rows(const struct Weft__Policy *p,
			   const weft_product_info_t *pi, const char *path,
			   weft_err_t *err);

/*
 * Under an aggregates-only or noise grant: the groups the fragment made
 * so far, how many of them were folded into the remainder, and the ε
 * it spent (0, 0, 0 without such a grant).
 */
void weft_fragrun_groups(const weft_fragrun_t *r, uint64_t *groups,
			 uint64_t *suppressed, double *eps);

/*
 * Check and open fragment frag[0..len) of product `product` at version
 * (0: any) for asker. 0 with *out set; else an error for the asker:
 * WEFT_EINVAL (a bad fragment), WEFT_ENOTFOUND (no such product, or not
 * visible to the asker: the same answer, so a refusal does not tell what
 * exists), WEFT_ESTALE (the product changed version), WEFT_EDENIED (its
 * policy refuses: no grant, or a column not granted), WEFT_ENOMEM.
 */
int weft_fragrun_open(weft_snapshot_t *snap, const char *product,
		      uint64_t version, const weft_asker_t *asker,
		      const uint8_t *frag, size_t len, size_t max,
		      weft_fragrun_t **out, weft_err_t *err);
/* The next batch: 1 with *buf (malloc'd, the caller's) of *rows rows,
 * 0 at the end, negative on error. */
int weft_fragrun_next(weft_fragrun_t *r, uint8_t **buf, size_t *len,
		      uint32_t *rows, weft_err_t *err);
/* The product version the fragment reads. */
/* Set r's stop function (query/query.h: weft_stop_fn): a cancelled
 * fragment ends within a chunk's work. */
void weft_fragrun_set_stop(weft_fragrun_t *r, weft_stop_fn stop, void *arg);
uint64_t weft_fragrun_version(const weft_fragrun_t *r);
/* Scans the fragment runs: 1, or more for a subplan. */
uint32_t weft_fragrun_scans(const weft_fragrun_t *r);
void weft_fragrun_free(weft_fragrun_t *r);

#endif
