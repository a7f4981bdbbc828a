/*
 * entry.h: signed catalog entries, without a store: making one, verifying
 * one against a set of trusted roots, and the kind-specific checks of its
 * body. Pure functions over bytes (no LMDB, no files), so sans-IO cores
 * (node/gossip.c) and the simulator use them as they are; the LMDB
 * catalog table that keeps entries is storage/catalog.h.
 *
 * An entry is a CatalogEntry (proto/weft.proto: kind, origin, name,
 * version, issued/expires, tombstone, body) inside an Envelope signed by
 * the origin node. It verifies only when: the envelope's certificate
 * chains to a trusted org root and is inside its validity window; the
 * envelope signature verifies; the entry's origin is the signer's own key
 * (nobody writes under another node's name); kind, name and version are
 * well-formed; and it has not expired.
 */
#ifndef WEFT_STORAGE_ENTRY_H
#define WEFT_STORAGE_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "storage/descriptor.h"

#define WEFT_ENTRY_NAME_MAX 256
#define WEFT_ENTRY_MAX (4u << 20) /* serialized envelope */

/* Entry kinds (= EntryKind in weft.proto). */
enum {
	WEFT_ENTRY_NODE = 1,
	WEFT_ENTRY_DESCRIPTOR = 2,
	WEFT_ENTRY_POLICY = 3,
	WEFT_ENTRY_REPORT = 4,
	WEFT_ENTRY_REVOCATION = 5,
};

/* A verified entry's key fields and its signer's certificate (plain
 * values: the struct owns nothing). */
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
 * signer, issued now (the wall clock). *out is malloc'd; the caller frees
 * it. Errors: those of weft_envelope_sign, WEFT_ENOMEM.
 */
int weft_entry_make(const weft_signer_t *signer, int kind, const char *name,
		    uint64_t version, int tombstone, int64_t expires_at,
		    const uint8_t *body, size_t body_len, uint8_t **out,
		    size_t *out_len, weft_err_t *err);

/* An entry issued further ahead of the verifier's clock than this (µs)
 * is refused (weft_entry_verify): clocks of the mesh may differ by up
 * to five minutes, as Kerberos allows. */
#define WEFT_CLOCK_SKEW_MAX (300LL * 1000000)

/* Bodies of the small kinds (weft_entry_check_body): a node record, a
 * failure report. Descriptors are bounded by WEFT_ENTRY_MAX (a contract
 * of up to 1 MiB rides along), policies by WEFT_POLICY_MAX; drops carry
 * no body. */
#define WEFT_NODE_RECORD_MAX 4096
#define WEFT_REPORT_MAX 1024

/* A failure report (kind REPORT) must expire at most this long (µs)
 * after it was made (weft_entry_check_body). */
#define WEFT_REPORT_TTL_MAX (3600LL * 1000000)

/* The same, issued at issued_at_us (Unix microseconds) rather than now:
 * for sans-IO cores and the simulator, which read no clock. */
int weft_entry_make_at(const weft_signer_t *signer, int kind, const char *name,
		       uint64_t version, int tombstone, int64_t expires_at,
		       const uint8_t *body, size_t body_len,
		       int64_t issued_at_us, uint8_t **out, size_t *out_len,
		       weft_err_t *err);

/*
 * Verify a signed entry against trust at now_us (microseconds) without
 * storing it. Fills *info; *body (if not NULL) receives a malloc'd copy of
 * the body (NULL when empty). Errors: WEFT_ETOOBIG, WEFT_EPARSE,
 * WEFT_ETRUST, WEFT_ESIG, WEFT_EEXPIRED, WEFT_EINVAL (origin is not the
 * signer, bad kind or name); nothing is allocated on error.
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

#endif
