/*
 * catalog.h: the catalog store: signed, versioned entries keyed by
 * (kind, origin, name), kept only if they verify and are newer.
 *
 * An entry arrives as a serialized Envelope whose payload is a
 * CatalogEntry (proto/weft.proto). It is stored only when: the envelope's
 * certificate chains to one of the store's trusted org roots and is inside
 * its validity window; the envelope signature verifies; the entry's origin
 * is the signer's own key (nobody writes under another node's name); it has
 * not expired; and its version is greater than the stored one for the same
 * key. The bytes stored are exactly the bytes received, so they can be
 * passed on and re-verified by anyone.
 */
#ifndef WEFT_STORAGE_CATALOG_H
#define WEFT_STORAGE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "storage/store.h"

#define WEFT_ENTRY_NAME_MAX 256
#define WEFT_ENTRY_MAX (4u << 20) /* serialized envelope */

enum {
	WEFT_ENTRY_NODE = 1,
	WEFT_ENTRY_DESCRIPTOR = 2,
	WEFT_ENTRY_POLICY = 3,
	WEFT_ENTRY_REPORT = 4,
};

/* A verified entry's key fields (borrowed strings valid until the next
 * call that reuses the struct). */
typedef struct weft_entry_info {
	int kind;
	uint8_t origin[WEFT_PK_BYTES];
	char name[WEFT_ENTRY_NAME_MAX + 1];
	uint64_t version;
	int64_t issued_at, expires_at;
	int tombstone;
	weft_cert_info_t signer;
} weft_entry_info_t;

/*
 * Make a signed entry: a CatalogEntry wrapped in an Envelope signed by
 * signer. *out is malloc'd; the caller frees it.
 */
int weft_entry_make(const weft_signer_t *signer, int kind, const char *name,
		    uint64_t version, int tombstone, int64_t expires_at,
		    const uint8_t *body, size_t body_len, uint8_t **out,
		    size_t *out_len, weft_err_t *err);

/* The same, issued at issued_at_us (Unix microseconds) rather than now:
 * for sans-IO cores and the simulator, which read no clock. */
int weft_entry_make_at(const weft_signer_t *signer, int kind,
		       const char *name, uint64_t version, int tombstone,
		       int64_t expires_at, const uint8_t *body, size_t body_len,
		       int64_t issued_at_us, uint8_t **out, size_t *out_len,
		       weft_err_t *err);

/*
 * Verify a signed entry against trust at now_us (microseconds) without
 * storing it. Fills *info; *body (if not NULL) receives a malloc'd copy of
 * the body. Errors: WEFT_EPARSE, WEFT_ETRUST, WEFT_ESIG, WEFT_EEXPIRED,
 * WEFT_EINVAL (origin is not the signer, bad kind or name).
 */
int weft_entry_verify(const uint8_t *env, size_t len, const weft_trust_t *trust,
		      int64_t now_us, weft_entry_info_t *info, uint8_t **body,
		      size_t *body_len, weft_err_t *err);

/*
 * Kind-specific checks of a verified entry's body: a descriptor must be
 * well-formed, filed under its own name, and claim the org and node of
 * its signer. WEFT_EINVAL / WEFT_EPARSE otherwise.
 */
int weft_entry_check_body(const weft_entry_info_t *info, const uint8_t *body,
			  size_t blen, weft_err_t *err);

/*
 * Verify and store an entry in its own transaction (put-if-newer).
 * WEFT_ESTALE if a version >= this one is stored. Nothing is stored on
 * any error.
 */
int weft_catalog_put(weft_store_t *st, const uint8_t *env, size_t len,
		     int64_t now_us, weft_entry_info_t *info, weft_err_t *err);

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
typedef int (*weft_catalog_raw_fn)(void *arg, const uint8_t *env,
				   size_t len);
int weft_catalog_raw(weft_store_t *st, int kind, weft_catalog_raw_fn fn,
		     void *arg, weft_err_t *err);

/*
 * Re-verify every stored entry against the current trusted roots and
 * clock; print each failure to f (a FILE *, may be NULL). Returns the
 * number of failures, or a negative error.
 */
int weft_catalog_check(weft_store_t *st, void *f, weft_err_t *err);

#endif
