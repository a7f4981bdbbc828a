/*
 * catalog.h: the catalog store: the LMDB table of signed, versioned
 * entries keyed by (kind, origin, name), kept only if they verify and are
 * newer.
 *
 * An entry (storage/entry.h: making and verifying, no store) is stored
 * only when it verifies against the store's trusted org roots at the
 * time of the put, passes weft_entry_check_body, and its version is
 * greater than the stored one for the same key. The bytes stored are
 * exactly the bytes received, so they can be passed on and re-verified
 * by anyone.
 */
#ifndef WEFT_STORAGE_CATALOG_H
#define WEFT_STORAGE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "storage/descriptor.h"
#include "storage/entry.h"
#include "storage/store.h"

/*
 * Verify and store an entry in its own transaction (put-if-newer).
 * WEFT_ESTALE if a version >= this one is stored. Nothing is stored on
 * any error.
 */
int weft_catalog_put(weft_store_t *st, const uint8_t *env, size_t len,
		     int64_t now_us, weft_entry_info_t *info, weft_err_t *err);

/*
 * The same for n entries in one transaction (one commit, one fsync):
 * each is verified and stored if newer; a stale one is skipped (counted
 * out of *stored; infos[i].kind 0), one refused (it does not verify, its
 * body is malformed, ...) too, with infos[i].kind its negative error
 * code; a store error (LMDB's, the map full, WEFT_ESTORE, WEFT_ENOMEM,
 * WEFT_EAGAIN) stores nothing of the batch. infos (NULL, or n slots): what each
 * stored entry is.
 */
int weft_catalog_put_many(weft_store_t *st, const uint8_t *const *envs,
			  const size_t *lens, size_t n, int64_t now_us,
			  weft_entry_info_t *infos, size_t *stored,
			  weft_err_t *err);

/* The stored envelope for a key; *env is malloc'd. WEFT_ENOTFOUND if
 * absent. */
int weft_catalog_get(weft_store_t *st, int kind,
		     const uint8_t origin[WEFT_PK_BYTES], const char *name,
		     uint8_t **env, size_t *len, weft_err_t *err);

/*
 * Call fn for every stored entry of `kind` (0 = all kinds) whose name
 * starts with prefix (NULL = all), in key order. The envelope bytes are
 * borrowed for the duration of the call. fn returning non-zero stops the
 * walk and that value is returned.
 */
typedef int (*weft_catalog_fn)(void *arg, const weft_entry_info_t *info,
			       const uint8_t *env, size_t len);
int weft_catalog_list(weft_store_t *st, int kind, const char *prefix,
		      weft_catalog_fn fn, void *arg, weft_err_t *err);

/*
 * Call fn for every stored entry of `kind` (0 = all kinds), in key order,
 * as stored and WITHOUT verifying it: for a caller that verifies
 * elsewhere (the agent checks signatures on its worker pool, off the
 * event loop). The bytes are borrowed for the call; fn returning
 * non-zero stops the walk and that value is returned.
 */
typedef int (*weft_catalog_raw_fn)(void *arg, const uint8_t *env, size_t len);
int weft_catalog_raw(weft_store_t *st, int kind, weft_catalog_raw_fn fn,
		     void *arg, weft_err_t *err);
/* The same for the entries of one origin only (every kind), in key
 * order: O(its entries), not O(catalog). */
int weft_catalog_raw_origin(weft_store_t *st,
			    const uint8_t origin[WEFT_PK_BYTES],
			    weft_catalog_raw_fn fn, void *arg, weft_err_t *err);
/* Delete every entry of origin but its revocations (a revoked node's:
 * issue 14, finding 9), in one write transaction; *n: how many. */
int weft_catalog_drop_origin(weft_store_t *st,
			     const uint8_t origin[WEFT_PK_BYTES], size_t *n,
			     weft_err_t *err);

/*
 * Inside snapshot s: every product descriptor of another node (origin
 * not self; self NULL: any) named `name` (domain.product; a bare
 * "product" matches any domain) that verifies against the snapshot's
 * trusted roots at now_us and is not a drop: fn(arg, descriptor, entry)
 * (both borrowed for the call), in key order. fn returning non-zero stops
 * the walk with that value. For the binder: names on other nodes.
 */
typedef int (*weft_descriptor_fn)(void *arg, const weft_product_info_t *pi,
				  const weft_entry_info_t *ei);
int weft_snapshot_descriptors(weft_snapshot_t *s, const char *name,
			      const uint8_t *self, int64_t now_us,
			      weft_descriptor_fn fn, void *arg,
			      weft_err_t *err);

/*
 * Re-verify every stored entry against the current trusted roots and
 * clock; call fn (if not NULL) with each failure ("catalog entry
 * \"NAME\": why"). Returns the number of failures, or a negative error.
 */
int weft_catalog_check(weft_store_t *st, weft_store_problem_fn fn, void *arg,
		       weft_err_t *err);

#endif
