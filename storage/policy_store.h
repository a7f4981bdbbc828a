/*
 * policy_store.h: this node's product policies in the catalog table
 * (storage/policy.h is the document; docs/policy.md the reference).
 *
 * A policy is the hosting node's signed catalog entry of kind POLICY,
 * named after its product, versioned like every entry (each set or drop
 * one more than the last), so gossip carries it and a newer one replaces
 * an older one everywhere. Only the hosting node's own entry binds its
 * products: the owner reads it at every fragment (query/serve.c).
 */
#ifndef WEFT_STORAGE_POLICY_STORE_H
#define WEFT_STORAGE_POLICY_STORE_H

#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "storage/policy.h"
#include "storage/store.h"

/*
 * Set (p) or drop (p NULL) the policy of this node's product `name`, in
 * one transaction: the product must be stored here, p must be about it
 * and bind against its schema as stored (weft_policy_bind; path names
 * the document in messages), and a drop needs a policy in force. The new
 * entry's version into *version (may be NULL). 0, or WEFT_ENOTFOUND (no
 * such product; nothing to drop), the errors of weft_policy_bind,
 * WEFT_ETOOBIG, WEFT_ESTORE / WEFT_EMAPFULL, WEFT_ENOMEM.
 */
int weft_policy_set(weft_store_t *st, const weft_signer_t *signer,
		    const char *name, const Weft__Policy *p, const char *path,
		    uint64_t *version, weft_err_t *err);

/*
 * The policy in force for product `name` of node `self` inside snap: 0
 * with *out NULL when there is none (never set, or dropped), else 0 with
 * *out (free with weft__policy__free_unpacked) and *version (may be
 * NULL). A stored body that does not decode is an error
 * (WEFT_ECORRUPT, WEFT_EPARSE...), never "no policy".
 */
int weft_snapshot_policy(weft_snapshot_t *snap, const uint8_t *self,
			 const char *name, Weft__Policy **out,
			 uint64_t *version, weft_err_t *err);

/*
 * The sum of the versions of every POLICY entry of node `origin` in this
 * store (drops included): it grows whenever one of that node's policies
 * changes. The asker's result cache keys on it (agent/qcache.c), so a
 * policy set or dropped, once gossip brings it, makes the results cached
 * under the old one unreachable. 0 when there are none (or on a store
 * error: the key is then as without policies).
 */
uint64_t weft_policy_epoch(weft_store_t *st, const uint8_t *origin);

#endif
