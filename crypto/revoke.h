/*
 * revoke.h: revocations of node keys (issue 14, finding 9; docs/gossip.md,
 * "Revocation"). An org root signs "every certificate I issued for node
 * key K is void from now on"; the statement travels as the body of a
 * catalog entry (ENTRY_REVOCATION, named by K in hex) and any node that
 * trusts the root refuses K's certificates from then on: handshakes,
 * envelopes, catalog entries (weft_identity_cert_check consults
 * weft_trust_t.revoked).
 *
 * Only the root that issued a certificate can revoke it: a revocation
 * binds (org root, node key), so another org's stolen root revokes
 * nothing of ours.
 */
#ifndef WEFT_CRYPTO_REVOKE_H
#define WEFT_CRYPTO_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"

#define WEFT_REVOCATION_MAX 1024 /* bytes of a SignedRevocation */
#define WEFT_REVOKE_REASON_MAX 200

/* A checked revocation. */
typedef struct weft_revocation {
	weft_revoked_t key; /* subject and org root */
	int64_t revoked_at; /* µs */
	char reason[WEFT_REVOKE_REASON_MAX + 1];
	char org_name[WEFT_NAME_MAX + 1]; /* the trusted root's name */
} weft_revocation_t;

/*
 * Make a SignedRevocation of subject by org (an org key pair) at at_us,
 * with an optional reason (at most WEFT_REVOKE_REASON_MAX bytes). *out is
 * malloc'd. Errors: WEFT_EINVAL (not an org key, long reason),
 * WEFT_ENOMEM, WEFT_EIO.
 */
int weft_revocation_make(const weft_keypair_t *org,
			 const uint8_t subject[WEFT_PK_BYTES], int64_t at_us,
			 const char *reason, uint8_t **out, size_t *len,
			 weft_err_t *err);

/*
 * Parse and check a SignedRevocation (hostile input): at most
 * WEFT_REVOCATION_MAX bytes, keys of the right size, a short reason. With
 * trust, its org root must be a trusted one (its name goes to
 * out->org_name) and the root's signature must verify; without, only the
 * shape is checked (a catalog entry's body check). 0, or WEFT_EPARSE,
 * WEFT_ETOOBIG, WEFT_ETRUST, WEFT_ESIG with a message.
 */
int weft_revocation_check(const uint8_t *buf, size_t len,
			  const weft_trust_t *trust, weft_revocation_t *out,
			  weft_err_t *err);

/* The name of the catalog entry carrying a revocation: the subject's key
 * and the org root's, in hex, joined by "." (one entry per carrier,
 * subject and root: a revocation by another root never replaces it). */
#define WEFT_REVOCATION_NAME (4 * WEFT_PK_BYTES + 1)
char *weft_revocation_name(const weft_revoked_t *k,
			   char out[WEFT_REVOCATION_NAME + 1]);

/* Order of weft_trust_t.revoked: by subject, then org. */
int weft_revoked_cmp(const void *a, const void *b);
/* Is (subject, org) revoked in trust (NULL: no)? */
int weft_trust_revoked(const weft_trust_t *trust,
		       const uint8_t subject[WEFT_PK_BYTES],
		       const uint8_t org[WEFT_PK_BYTES]);

#endif
