/*
 * revoke.c: revocations of node keys, made and checked (revoke.h).
 *
 * The signature covers "weft-revoke-v1\0" || the packed Revocation, so it
 * can never pass for a certificate, an envelope or a handshake signature
 * (each has its own domain).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/revoke.h"
#include "weft.pb-c.h"

static const char weft_revoke_dom[] = "weft-revoke-v1";

/* dom || msg, malloc'd (NULL: out of memory). */
static uint8_t *
revoke_signed_bytes(const uint8_t *msg, size_t len, size_t *out_len)
{
	uint8_t *m = malloc(sizeof(weft_revoke_dom) + len);

	if (m == NULL)
		return NULL;
	memcpy(m, weft_revoke_dom, sizeof(weft_revoke_dom));
	memcpy(m + sizeof(weft_revoke_dom), msg, len);
	*out_len = sizeof(weft_revoke_dom) + len;
	return m;
}

int
weft_revocation_make(const weft_keypair_t *org,
		     const uint8_t subject[WEFT_PK_BYTES], int64_t at_us,
		     const char *reason, uint8_t **out, size_t *len,
		     weft_err_t *err)
{
	Weft__Revocation r = WEFT__REVOCATION__INIT;
	Weft__SignedRevocation sr = WEFT__SIGNED_REVOCATION__INIT;
	uint8_t sig[crypto_sign_BYTES], *rb = NULL, *m = NULL;
	size_t rlen, mlen;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (org->kind != WEFT_KEY_ORG)
		return weft_err_set(err, WEFT_EINVAL,
				    "%s: not an org key: only an org root "
				    "revokes",
				    org->name);
	if (reason != NULL && strlen(reason) > WEFT_REVOKE_REASON_MAX)
		return weft_err_set(err, WEFT_EINVAL,
				    "reason of %zu bytes (at most %d)",
				    strlen(reason), WEFT_REVOKE_REASON_MAX);
	r.org_public_key.data = (uint8_t *)org->pk;
	r.org_public_key.len = WEFT_PK_BYTES;
	r.subject_public_key.data = (uint8_t *)subject;
	r.subject_public_key.len = WEFT_PK_BYTES;
	r.revoked_at = at_us;
	r.reason = (char *)(reason ? reason : "");
	rlen = weft__revocation__get_packed_size(&r);
	rb = malloc(rlen ? rlen : 1);
	if (rb == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	weft__revocation__pack(&r, rb);
	m = revoke_signed_bytes(rb, rlen, &mlen);
	if (m == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	if (crypto_sign_detached(sig, NULL, m, mlen, org->sk) != 0) {
		rc = weft_err_set(err, WEFT_EIO, "cannot sign the revocation");
		goto out;
	}
	sr.revocation.data = rb;
	sr.revocation.len = rlen;
	sr.signature.data = sig;
	sr.signature.len = sizeof(sig);
	*len = weft__signed_revocation__get_packed_size(&sr);
	*out = malloc(*len);
	if (*out == NULL) {
		*len = 0;
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	weft__signed_revocation__pack(&sr, *out);
out:
	free(m);
	free(rb);
	return rc;
}

/* The trusted root of key pk, or NULL. */
static const weft_pubkey_t *
revoke_root(const weft_trust_t *trust, const uint8_t *pk)
{
	for (size_t i = 0; trust != NULL && i < trust->n; i++)
		if (memcmp(trust->roots[i].pk, pk, WEFT_PK_BYTES) == 0)
			return &trust->roots[i];
	return NULL;
}

/* Check the Revocation r (signature already unpacked in sr). */
static int
revoke_fill(const Weft__SignedRevocation *sr, const Weft__Revocation *r,
	    const weft_trust_t *trust, weft_revocation_t *out, weft_err_t *err)
{
	const weft_pubkey_t *root = NULL;
	uint8_t *m;
	size_t mlen;
	int ok;

	if (r->org_public_key.len != WEFT_PK_BYTES ||
	    r->subject_public_key.len != WEFT_PK_BYTES)
		return weft_err_set(err, WEFT_EPARSE,
				    "revocation: keys of %zu and %zu bytes "
				    "(want %d)",
				    r->org_public_key.len,
				    r->subject_public_key.len, WEFT_PK_BYTES);
	if (r->reason != NULL && strlen(r->reason) > WEFT_REVOKE_REASON_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "revocation: a reason of %zu bytes",
				    strlen(r->reason));
	if (trust != NULL &&
	    (root = revoke_root(trust, r->org_public_key.data)) == NULL)
		return weft_err_set(err, WEFT_ETRUST,
				    "revocation signed by an org root this "
				    "node does not trust");
	if (trust != NULL) {
		m = revoke_signed_bytes(sr->revocation.data, sr->revocation.len,
					&mlen);
		if (m == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		ok = crypto_sign_verify_detached(sr->signature.data, m, mlen,
						 r->org_public_key.data) == 0;
		free(m);
		if (!ok)
			return weft_err_set(err, WEFT_ESIG,
					    "revocation: signature does not "
					    "verify");
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->key.subject, r->subject_public_key.data, WEFT_PK_BYTES);
	memcpy(out->key.org, r->org_public_key.data, WEFT_PK_BYTES);
	out->revoked_at = r->revoked_at;
	snprintf(out->reason, sizeof(out->reason), "%s",
		 r->reason ? r->reason : "");
	if (root != NULL)
		snprintf(out->org_name, sizeof(out->org_name), "%s",
			 root->name);
	return 0;
}

int
weft_revocation_check(const uint8_t *buf, size_t len, const weft_trust_t *trust,
		      weft_revocation_t *out, weft_err_t *err)
{
	Weft__SignedRevocation *sr = NULL;
	Weft__Revocation *r = NULL;
	int rc;

	if (len > WEFT_REVOCATION_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "revocation of %zu bytes (at most %d)", len,
				    WEFT_REVOCATION_MAX);
	sr = weft__signed_revocation__unpack(NULL, len, buf);
	if (sr == NULL || sr->signature.len != crypto_sign_BYTES) {
		rc = weft_err_set(err, WEFT_EPARSE, "not a signed revocation");
		goto out;
	}
	r = weft__revocation__unpack(NULL, sr->revocation.len,
				     sr->revocation.data);
	if (r == NULL) {
		rc = weft_err_set(err, WEFT_EPARSE, "not a revocation");
		goto out;
	}
	rc = revoke_fill(sr, r, trust, out, err);
out:
	if (r != NULL)
		weft__revocation__free_unpacked(r, NULL);
	if (sr != NULL)
		weft__signed_revocation__free_unpacked(sr, NULL);
	return rc;
}

char *
weft_revocation_name(const weft_revoked_t *k,
		     char out[WEFT_REVOCATION_NAME + 1])
{
	static const char x[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < WEFT_PK_BYTES; i++) {
		out[o++] = x[k->subject[i] >> 4];
		out[o++] = x[k->subject[i] & 15];
	}
	out[o++] = '.';
	for (i = 0; i < WEFT_PK_BYTES; i++) {
		out[o++] = x[k->org[i] >> 4];
		out[o++] = x[k->org[i] & 15];
	}
	out[o] = 0;
	return out;
}

int
weft_revoked_cmp(const void *a, const void *b)
{
	const weft_revoked_t *x = a, *y = b;
	int c = memcmp(x->subject, y->subject, WEFT_PK_BYTES);

	return c != 0 ? c : memcmp(x->org, y->org, WEFT_PK_BYTES);
}

int
weft_trust_revoked(const weft_trust_t *trust,
		   const uint8_t subject[WEFT_PK_BYTES],
		   const uint8_t org[WEFT_PK_BYTES])
{
	weft_revoked_t k;

	if (trust == NULL || trust->nrevoked == 0)
		return 0;
	memcpy(k.subject, subject, WEFT_PK_BYTES);
	memcpy(k.org, org, WEFT_PK_BYTES);
	return bsearch(&k, trust->revoked, trust->nrevoked, sizeof(k),
		       weft_revoked_cmp) != NULL;
}
