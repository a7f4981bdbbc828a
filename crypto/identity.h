/*
 * identity.h: org root keys, node identity keys, certificates and signed
 * envelopes (Ed25519 via libsodium).
 *
 * Invariants: secret keys live only in sodium_malloc'd memory and are wiped
 * on free; secret key files are written 0600. A signature always covers the
 * exact serialized bytes it travels with, prefixed by a domain-separation
 * string ("weft-cert-v1\0", "weft-envelope-v1\0") so a signature of one kind
 * can never be passed off as another.
 */
#ifndef WEFT_CRYPTO_IDENTITY_H
#define WEFT_CRYPTO_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define WEFT_PK_BYTES 32
#define WEFT_SK_BYTES 64
#define WEFT_SIG_BYTES 64
#define WEFT_NAME_MAX 64 /* org and node names */
#define WEFT_ROLES_MAX 8
#define WEFT_KEYFILE_MAX 4096
#define WEFT_CERT_MAX 4096		     /* serialized SignedCertificate */
#define WEFT_ENVELOPE_MAX (16 * 1024 * 1024) /* serialized Envelope */

enum { WEFT_KEY_ORG = 1, WEFT_KEY_NODE = 2 }; /* = KeyKind in weft.proto */

/* A key pair in sodium_malloc'd memory. Opaque fields for callers. */
typedef struct weft_keypair {
	int kind;
	char name[WEFT_NAME_MAX + 1];
	uint8_t pk[WEFT_PK_BYTES];
	uint8_t sk[WEFT_SK_BYTES];
} weft_keypair_t;

/* A public key with its name, e.g. a trusted org root. */
typedef struct weft_pubkey {
	int kind;
	char name[WEFT_NAME_MAX + 1];
	uint8_t pk[WEFT_PK_BYTES];
} weft_pubkey_t;

/* A node key an org root revoked: every certificate that root issued
 * for it is refused (crypto/revoke.c). */
typedef struct weft_revoked {
	uint8_t subject[WEFT_PK_BYTES];
	uint8_t org[WEFT_PK_BYTES];
} weft_revoked_t;

/* A set of trusted org roots (borrowed arrays; the caller owns them),
 * and the revoked keys, sorted by weft_revoked_cmp (may be empty). */
typedef struct weft_trust {
	const weft_pubkey_t *roots;
	size_t n;
	const weft_revoked_t *revoked;
	size_t nrevoked;
} weft_trust_t;

/*
 * A node identity that signs: its key pair, its serialized certificate
 * (SignedCertificate) and the org and node names the certificate holds.
 * Every pointer is borrowed; the owner keeps them alive while the signer
 * is in use (weft_envelope_sign takes kp and cert; catalog entries are
 * made with a whole signer, storage/entry.h).
 */
typedef struct weft_signer {
	const weft_keypair_t *kp;
	const uint8_t *cert;
	size_t cert_len;
	const char *org;  /* org name, from the certificate */
	const char *node; /* node name */
} weft_signer_t;

/* The checked contents of a certificate. */
typedef struct weft_cert_info {
	char org_name[WEFT_NAME_MAX + 1];
	uint8_t org_pk[WEFT_PK_BYTES];
	char subject_name[WEFT_NAME_MAX + 1];
	uint8_t subject_pk[WEFT_PK_BYTES];
	char roles[WEFT_ROLES_MAX][WEFT_NAME_MAX + 1];
	size_t nroles;
	int64_t not_before, not_after; /* Unix seconds */
	uint64_t serial;
} weft_cert_info_t;

/*
 * Names of orgs and nodes: 1..64 bytes of [A-Za-z0-9_-], starting with a
 * letter or digit. Returns 0 if valid, WEFT_EINVAL with a message if not.
 */
int weft_name_check(const char *what, const char *name, weft_err_t *err);

/*
 * Make a fresh key pair of the given kind and name. *out is sodium_malloc'd;
 * free it with weft_key_free. On failure *out is NULL.
 * Errors: WEFT_EINVAL (kind or name), WEFT_ENOMEM.
 */
int weft_key_generate(int kind, const char *name, weft_keypair_t **out,
		      weft_err_t *err);
/* Wipe and free a key pair. Accepts NULL. */
void weft_key_free(weft_keypair_t *kp);

/*
 * Write the secret key file (mode 0600, refusing to overwrite) and, if
 * pub_path is not NULL, the public key file (mode 0644, also refusing to
 * overwrite). Both paths are checked before anything is written, and if
 * writing the public file fails the new secret file is removed again, so
 * the pair is written whole or not at all.
 * Errors: -EEXIST ("FILE: already exists"), -errno from the file system.
 */
int weft_key_save(const weft_keypair_t *kp, const char *secret_path,
		  const char *pub_path, weft_err_t *err);
/*
 * Load a secret key file (at most WEFT_KEYFILE_MAX bytes). Checks format,
 * kind, name, key lengths, and that the public key and the secret key both
 * re-derive from the secret key's seed. *out as for weft_key_generate.
 * Errors (message "PATH: why"): -errno, WEFT_ETOOBIG, WEFT_EPARSE,
 * WEFT_EINVAL (a public key file), WEFT_ENOMEM.
 */
int weft_key_load(const char *path, weft_keypair_t **out, weft_err_t *err);
/*
 * Load the public part from either a public or a secret key file, with the
 * same checks as weft_key_load (a secret key present must match). The
 * secret is never kept: the buffers that held it are wiped.
 */
int weft_pub_load(const char *path, weft_pubkey_t *out, weft_err_t *err);
/* Serialize a public key file (KeyFile without secret) into a malloc'd
 * buffer. Errors: WEFT_EINVAL (kind or name invalid), WEFT_ENOMEM. */
int weft_pub_encode(const weft_pubkey_t *pub, uint8_t **out, size_t *len);
/* Inverse of weft_pub_encode; like weft_pub_load, also accepts a secret key
 * file and keeps only its public part. */
int weft_pub_decode(const uint8_t *buf, size_t len, weft_pubkey_t *out,
		    weft_err_t *err);

/*
 * Issue a certificate for subject_pk signed by org (kind WEFT_KEY_ORG).
 * subject_name and each of the nroles (at most WEFT_ROLES_MAX) roles must
 * pass weft_name_check; not_before < not_after. *out is a malloc'd
 * serialized SignedCertificate the caller frees (NULL on failure).
 * Errors: WEFT_EINVAL, WEFT_ENOMEM.
 */
int weft_cert_issue(const weft_keypair_t *org, const char *subject_name,
		    const uint8_t subject_pk[WEFT_PK_BYTES],
		    const char *const *roles, size_t nroles, int64_t not_before,
		    int64_t not_after, uint64_t serial, uint8_t **out,
		    size_t *len, weft_err_t *err);

/*
 * Verify a serialized SignedCertificate: well-formed, the org key is one of
 * trust's roots, the root's signature verifies, and now (Unix seconds) is
 * within [not_before, not_after]. A root is matched by key AND name: the
 * certificate's org_name must equal the name of the trusted root holding
 * its org key, so a trusted org cannot vouch for nodes under another org's
 * name. trust may be NULL (no roots). Fills *info (may be NULL) only on
 * success.
 * Errors: WEFT_ETOOBIG (over WEFT_CERT_MAX), WEFT_EPARSE, WEFT_ETRUST,
 * WEFT_ESIG, WEFT_EEXPIRED.
 */
int weft_cert_verify(const uint8_t *cert, size_t len, const weft_trust_t *trust,
		     int64_t now, weft_cert_info_t *info, weft_err_t *err);

/* 1 if trust (may be NULL) still holds the root that signed the checked
 * certificate ci: its key under its name, as weft_cert_verify matches
 * it; 0 if not. For re-checking a certificate after trust changed. */
int weft_trust_has_root(const weft_trust_t *trust, const weft_cert_info_t *ci);

/* Decode a certificate without verifying it (for display only). The
 * contents are checked for well-formedness (lengths, names, roles), not for
 * trust, signature or validity. */
int weft_cert_decode(const uint8_t *cert, size_t len, weft_cert_info_t *info,
		     weft_err_t *err);

/*
 * Sign payload as node `kp` holding certificate `cert`: *out is a malloc'd
 * serialized Envelope the caller frees (NULL on failure). The certificate
 * is not checked against any trust (that is the receiver's job), but its
 * subject key must be kp's public key.
 * Errors: WEFT_EINVAL (certificate is for another key), WEFT_EPARSE,
 * WEFT_ETOOBIG (envelope over WEFT_ENVELOPE_MAX), WEFT_ENOMEM.
 */
int weft_envelope_sign(const weft_keypair_t *kp, const uint8_t *cert,
		       size_t cert_len, const uint8_t *payload, size_t len,
		       uint8_t **out, size_t *out_len, weft_err_t *err);

/*
 * Verify a serialized Envelope: signer certificate verifies against trust at
 * now (Unix seconds) and the envelope signature verifies with the
 * certificate's subject key. On success *payload is a malloc'd copy of the
 * signed payload (the caller frees it; never NULL, even when empty) and
 * *signer (may be NULL) is filled. On failure nothing is allocated and
 * *payload is NULL.
 * Errors: WEFT_ETOOBIG (over WEFT_ENVELOPE_MAX), WEFT_EPARSE, and those of
 * weft_cert_verify; WEFT_ESIG if the envelope signature does not verify.
 */
/*
 * Simulator only (weft sim --fast-crypto): replace every Ed25519
 * signature made or checked in this process by a keyed BLAKE2b of the
 * message under the signer's public key. It detects corruption but not
 * forgery: nothing that talks to a network may turn it on.
 */
void weft_crypto_set_fast(int on);
int weft_crypto_fast(void);
/*
 * Simulator: remember every signature that verified (a digest of key,
 * signature and message), so identical bytes are verified once per
 * process instead of once per simulated node. Still real Ed25519: a
 * signature is accepted only if it verified here once. Thread-safe.
 */
void weft_crypto_set_verify_cache(int on);
/*
 * The agent: the same, bounded: `slots` digests (rounded up to a power
 * of two; 16 bytes each), one slot per digest, a newcomer evicting what
 * was there, so the cache never grows and a flood of fresh signatures
 * only costs what no cache would. A certificate, which every entry of a
 * node carries, is then checked once, and an entry the gossip core
 * verified is not checked again when it is stored. 0 or WEFT_ENOMEM.
 */
int weft_crypto_set_verify_cache_slots(size_t slots);
/* Ed25519 signature checks made by this process (cache hits excluded). */
uint64_t weft_crypto_verifies(void);

int weft_envelope_open(const uint8_t *env, size_t len,
		       const weft_trust_t *trust, int64_t now,
		       uint8_t **payload, size_t *payload_len,
		       weft_cert_info_t *signer, weft_err_t *err);

#endif
