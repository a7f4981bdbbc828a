/*
 * handshake.c: the session handshake (see handshake.h and
 * docs/protocol.md, which this file follows byte for byte).
 *
 * Invariants:
 * - The transcript hash `th` is BLAKE2b-256 keyed with the network key and
 *   absorbs, in this order: the label, message 1, e_R, the responder's
 *   certificate (length-prefixed), the rest of message 2 as sent, the
 *   initiator's certificate (length-prefixed), the rest of message 3 as
 *   sent. Both sides absorb exactly the same bytes in the same order, so
 *   any difference anywhere makes every later key, AEAD and signature fail.
 * - Nothing from a message is used before it authenticates, except the
 *   length header of messages 2 and 3 (bounded and checked for shape, then
 *   bound into the AEAD's associated data) and e_R (which only yields the
 *   key that the AEAD then checks).
 * - The input buffer never holds more than one message (WEFT_HS_MSG_MAX).
 * - On failure or free, every secret in the struct is wiped.
 */
#include "crypto/handshake.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "weft.pb-c.h"

/* Labels; sizeof includes the NUL, which is part of each label. */
static const char weft_hs_label[] = "weft-hs-v1";
static const char weft_hs_msg1_dom[] = "weft-hs-v1-msg1";
static const char weft_hs_ck_dom[] = "weft-hs-v1-ck";
static const char weft_hs_resp_dom[] = "weft-hs-v1-resp";
static const char weft_hs_init_dom[] = "weft-hs-v1-init";
static const char weft_hs_sess_dom[] = "weft-hs-v1-session";
static const char weft_hs_eph_dom[] = "weft-hs-v1-ephemeral";
#define WEFT_HS_KDF_CTX "weft-hs_"

#define WEFT_HS_TAG 32 /* crypto_auth_BYTES */
#define WEFT_HS_AEAD_TAG 16
#define WEFT_HS_SIG_DOM_MAX 16

_Static_assert(crypto_auth_BYTES == WEFT_HS_TAG, "auth tag");
_Static_assert(crypto_auth_KEYBYTES == WEFT_HS_KEY_BYTES, "auth key");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == WEFT_HS_AEAD_TAG,
	       "aead tag");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32, "aead key");
_Static_assert(crypto_scalarmult_BYTES == 32, "x25519");
_Static_assert(crypto_kdf_KEYBYTES == 32, "kdf key");
_Static_assert(WEFT_HS_BODY_MAX % WEFT_HS_PAD == 0, "padding");
_Static_assert(WEFT_HS_BODY_MAX <= 65535 - WEFT_HS_AEAD_TAG, "u16 length");
_Static_assert(WEFT_HS_MSG1_BYTES == 32 + 8 + WEFT_HS_TAG, "msg1");
/* A body holds 2 + HandshakeAuth{cert <= WEFT_CERT_MAX, sig 64}. */
_Static_assert(2 + 4 + WEFT_CERT_MAX + 2 + WEFT_SIG_BYTES <= WEFT_HS_BODY_MAX,
	       "body room");

enum {
	WEFT_HS_S_I_START,
	WEFT_HS_S_I_WAIT2,
	WEFT_HS_S_R_WAIT1,
	WEFT_HS_S_R_WAIT3,
	WEFT_HS_S_DONE,
	WEFT_HS_S_FAILED,
};

struct weft_hs {
	/* First: aligned as libsodium declares it. */
	crypto_generichash_state th;
	int role, state;
	const weft_keypair_t *me;
	const weft_trust_t *trust;
	weft_hs_replay_t *replay;
	int64_t now;
	uint8_t nk[WEFT_HS_KEY_BYTES];
	uint8_t esk[32], epk[32];
	uint8_t ck[32], k2[32], k3[32];
	uint8_t hb[32]; /* transcript after message 2: AD of message 3 */
	uint8_t cert[WEFT_CERT_MAX];
	size_t cert_len;
	uint8_t in[WEFT_HS_MSG_MAX];
	size_t in_len;
	uint8_t out[WEFT_HS_MSG_MAX];
	size_t out_len;
	weft_hs_result_t res;
	uint8_t peer_cert[WEFT_CERT_MAX];
	size_t peer_cert_len;
};

typedef struct weft_hs_seen {
	uint8_t e[32];
	int used;
} weft_hs_seen_t;

struct weft_hs_replay {
	weft_hs_seen_t *ent;
	size_t cap, next;
};

static void
weft_hs_put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t
weft_hs_get16(const uint8_t *p)
{
	return ((size_t)p[0] << 8) | p[1];
}

static void
weft_hs_absorb(weft_hs_t *hs, const uint8_t *p, size_t n)
{
	crypto_generichash_update(&hs->th, p, n);
}

/* Absorb a certificate with its 2-byte length. */
static void
weft_hs_absorb_cert(weft_hs_t *hs, const uint8_t *cert, size_t len)
{
	uint8_t l[2];

	weft_hs_put16(l, len);
	weft_hs_absorb(hs, l, 2);
	weft_hs_absorb(hs, cert, len);
}

/* The transcript hash so far, without ending the running hash. */
static void
weft_hs_snap(const weft_hs_t *hs, uint8_t out[32])
{
	crypto_generichash_state s;

	memcpy(&s, &hs->th, sizeof(s));
	crypto_generichash_final(&s, out, 32);
	sodium_memzero(&s, sizeof(s));
}

/* Wipe every secret; the handshake can no longer do anything. */
static void
weft_hs_wipe(weft_hs_t *hs)
{
	sodium_memzero(hs->esk, sizeof(hs->esk));
	sodium_memzero(hs->ck, sizeof(hs->ck));
	sodium_memzero(hs->k2, sizeof(hs->k2));
	sodium_memzero(hs->k3, sizeof(hs->k3));
	sodium_memzero(&hs->th, sizeof(hs->th));
	sodium_memzero(hs->in, sizeof(hs->in));
}

static int
weft_hs_fail(weft_hs_t *hs, int rc)
{
	weft_hs_wipe(hs);
	sodium_memzero(&hs->res, sizeof(hs->res));
	hs->out_len = 0;
	hs->state = WEFT_HS_S_FAILED;
	return rc;
}

int
weft_hs_new(weft_hs_t **out, weft_hs_role_t role, const weft_keypair_t *me,
	    const uint8_t *cert, size_t cert_len,
	    const uint8_t network_key[WEFT_HS_KEY_BYTES],
	    const weft_trust_t *trust, int64_t now_s,
	    const uint8_t seed[WEFT_HS_SEED_BYTES], weft_err_t *err)
{
	weft_cert_info_t ci;
	weft_hs_t *hs;
	uint8_t m[sizeof(weft_hs_eph_dom) + WEFT_HS_SEED_BYTES];
	size_t sz;
	int rc;

	*out = NULL;
	if (sodium_init() < 0)
		return weft_err_set(err, WEFT_EIO,
				    "libsodium failed to initialise");
	if (me == NULL || cert == NULL || network_key == NULL || seed == NULL ||
	    (role != WEFT_HS_INITIATOR && role != WEFT_HS_RESPONDER))
		return weft_err_set(err, WEFT_EINVAL,
				    "handshake: missing argument");
	if (cert_len > WEFT_CERT_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "handshake: our certificate of %zu bytes "
				    "exceeds %d bytes",
				    cert_len, WEFT_CERT_MAX);
	if ((rc = weft_cert_decode(cert, cert_len, &ci, err)) != 0) {
		weft_err_prefix(err, "handshake: our certificate");
		return rc;
	}
	if (memcmp(ci.subject_pk, me->pk, WEFT_PK_BYTES) != 0)
		return weft_err_set(err, WEFT_EINVAL,
				    "handshake: our certificate (node %s) is "
				    "not for our key (%s)",
				    ci.subject_name, me->name);
	sz = (sizeof(*hs) + 63) / 64 * 64;
	hs = aligned_alloc(64, sz);
	if (hs == NULL)
		return weft_err_set(err, WEFT_ENOMEM,
				    "handshake: out of memory");
	memset(hs, 0, sizeof(*hs));
	hs->role = role;
	hs->state =
	    role == WEFT_HS_INITIATOR ? WEFT_HS_S_I_START : WEFT_HS_S_R_WAIT1;
	hs->me = me;
	hs->trust = trust;
	hs->now = now_s;
	memcpy(hs->nk, network_key, WEFT_HS_KEY_BYTES);
	memcpy(hs->cert, cert, cert_len);
	hs->cert_len = cert_len;

	memcpy(m, weft_hs_eph_dom, sizeof(weft_hs_eph_dom));
	memcpy(m + sizeof(weft_hs_eph_dom), seed, WEFT_HS_SEED_BYTES);
	crypto_generichash(hs->esk, sizeof(hs->esk), m, sizeof(m), NULL, 0);
	sodium_memzero(m, sizeof(m));
	crypto_scalarmult_base(hs->epk, hs->esk);

	crypto_generichash_init(&hs->th, hs->nk, sizeof(hs->nk), 32);
	weft_hs_absorb(hs, (const uint8_t *)weft_hs_label,
		       sizeof(weft_hs_label));
	*out = hs;
	return 0;
}

void
weft_hs_free(weft_hs_t *hs)
{
	if (hs == NULL)
		return;
	sodium_memzero(hs, sizeof(*hs));
	free(hs);
}

void
weft_hs_set_replay(weft_hs_t *hs, weft_hs_replay_t *replay)
{
	hs->replay = replay;
}

/* Message 1's MAC input: label || e_I || t. */
static void
weft_hs_msg1_tag(const weft_hs_t *hs, const uint8_t *e_t,
		 uint8_t tag[WEFT_HS_TAG])
{
	uint8_t m[sizeof(weft_hs_msg1_dom) + 40];

	memcpy(m, weft_hs_msg1_dom, sizeof(weft_hs_msg1_dom));
	memcpy(m + sizeof(weft_hs_msg1_dom), e_t, 40);
	crypto_auth(tag, m, sizeof(m), hs->nk);
}

int
weft_hs_start(weft_hs_t *hs, const uint8_t **out, size_t *out_len,
	      weft_err_t *err)
{
	uint64_t t;
	int i;

	*out = NULL;
	*out_len = 0;
	if (hs->state != WEFT_HS_S_I_START)
		return weft_err_set(err, WEFT_EINVAL,
				    "handshake: start is for a new initiator");
	memcpy(hs->out, hs->epk, 32);
	t = (uint64_t)hs->now;
	for (i = 0; i < 8; i++)
		hs->out[32 + i] = (uint8_t)(t >> (56 - 8 * i));
	weft_hs_msg1_tag(hs, hs->out, hs->out + 40);
	hs->out_len = WEFT_HS_MSG1_BYTES;
	weft_hs_absorb(hs, hs->out, WEFT_HS_MSG1_BYTES);
	hs->state = WEFT_HS_S_I_WAIT2;
	*out = hs->out;
	*out_len = hs->out_len;
	return WEFT_HS_CONTINUE;
}

/*
 * After e_R is absorbed: ee = X25519(esk, peer e); ck = BLAKE2b(key = the
 * transcript so far, "weft-hs-v1-ck\0" || ee); k2, k3 from ck. The
 * transcript so far goes to ha (the AD of message 2).
 */
static int
weft_hs_keys(weft_hs_t *hs, const uint8_t peer_e[32], uint8_t ha[32],
	     weft_err_t *err)
{
	uint8_t ee[32], m[sizeof(weft_hs_ck_dom) + 32];

	if (crypto_scalarmult(ee, hs->esk, peer_e) != 0)
		return weft_err_set(err, WEFT_EPARSE,
				    "handshake: peer's ephemeral key is a "
				    "low-order point");
	weft_hs_snap(hs, ha);
	memcpy(m, weft_hs_ck_dom, sizeof(weft_hs_ck_dom));
	memcpy(m + sizeof(weft_hs_ck_dom), ee, 32);
	crypto_generichash(hs->ck, 32, m, sizeof(m), ha, 32);
	crypto_kdf_derive_from_key(hs->k2, 32, 2, WEFT_HS_KDF_CTX, hs->ck);
	crypto_kdf_derive_from_key(hs->k3, 32, 3, WEFT_HS_KDF_CTX, hs->ck);
	sodium_memzero(ee, sizeof(ee));
	sodium_memzero(m, sizeof(m));
	sodium_memzero(hs->esk, sizeof(hs->esk));
	return 0;
}

/* The signed message: dom (with NUL) || transcript hash. */
static size_t
weft_hs_sigmsg(const char *dom, size_t domlen, const uint8_t h[32],
	       uint8_t m[WEFT_HS_SIG_DOM_MAX + 32])
{
	memcpy(m, dom, domlen);
	memcpy(m + domlen, h, 32);
	return domlen + 32;
}

_Static_assert(sizeof(weft_hs_resp_dom) <= WEFT_HS_SIG_DOM_MAX, "dom");
_Static_assert(sizeof(weft_hs_init_dom) <= WEFT_HS_SIG_DOM_MAX, "dom");

/*
 * Append our authenticated body at hs->out + off: absorb our certificate,
 * sign the transcript, seal {cert, sig} (padded) with key under AD
 * ad || L; the 2-byte L goes first. Then absorb L || ciphertext.
 */
static int
weft_hs_seal_auth(weft_hs_t *hs, size_t off, const char *dom, size_t domlen,
		  const uint8_t *key, const uint8_t ad_h[32], weft_err_t *err)
{
	Weft__HandshakeAuth a = WEFT__HANDSHAKE_AUTH__INIT;
	uint8_t h[32], sig[WEFT_SIG_BYTES], sm[WEFT_HS_SIG_DOM_MAX + 32];
	uint8_t body[WEFT_HS_BODY_MAX], ad[34];
	size_t plen, blen, L, n;

	weft_hs_absorb_cert(hs, hs->cert, hs->cert_len);
	weft_hs_snap(hs, h);
	n = weft_hs_sigmsg(dom, domlen, h, sm);
	crypto_sign_detached(sig, NULL, sm, n, hs->me->sk);

	a.certificate.data = hs->cert;
	a.certificate.len = hs->cert_len;
	a.signature.data = sig;
	a.signature.len = sizeof(sig);
	plen = weft__handshake_auth__get_packed_size(&a);
	blen = (2 + plen + WEFT_HS_PAD - 1) / WEFT_HS_PAD * WEFT_HS_PAD;
	if (blen > WEFT_HS_BODY_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "handshake: certificate too big");
	memset(body, 0, blen);
	weft_hs_put16(body, plen);
	weft__handshake_auth__pack(&a, body + 2);

	L = blen + WEFT_HS_AEAD_TAG;
	weft_hs_put16(hs->out + off, L);
	memcpy(ad, ad_h, 32);
	memcpy(ad + 32, hs->out + off, 2);
	{
		uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {
		    0};

		crypto_aead_xchacha20poly1305_ietf_encrypt(
		    hs->out + off + 2, NULL, body, blen, ad, sizeof(ad), NULL,
		    nonce, key);
	}
	sodium_memzero(body, sizeof(body));
	weft_hs_absorb(hs, hs->out + off, 2 + L);
	hs->out_len = off + 2 + L;
	return 0;
}

/* Check a message 2/3 length header: a whole number of pads plus a tag. */
static int
weft_hs_check_len(size_t L, int msg, weft_err_t *err)
{
	if (L < WEFT_HS_PAD + WEFT_HS_AEAD_TAG ||
	    L > WEFT_HS_BODY_MAX + WEFT_HS_AEAD_TAG ||
	    (L - WEFT_HS_AEAD_TAG) % WEFT_HS_PAD != 0)
		return weft_err_set(err, WEFT_EPARSE,
				    "handshake: message %d has a malformed "
				    "length %zu",
				    msg, L);
	return 0;
}

/*
 * Open the authenticated body of message 2 or 3 (c = L header then
 * ciphertext) and check the peer: decrypt, parse, absorb the certificate,
 * verify it against trust at now, verify the signature over the
 * transcript, then absorb L || ciphertext. Fills hs->res.peer and
 * hs->peer_cert.
 */
static int
weft_hs_open_auth(weft_hs_t *hs, const uint8_t *c, int msg, const char *dom,
		  size_t domlen, const uint8_t *key, const uint8_t ad_h[32],
		  weft_err_t *err)
{
	Weft__HandshakeAuth *a = NULL;
	uint8_t body[WEFT_HS_BODY_MAX], ad[34], h[32];
	uint8_t sm[WEFT_HS_SIG_DOM_MAX + 32];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {0};
	const char *who = msg == 2 ? "responder" : "initiator";
	size_t L = weft_hs_get16(c), blen = L - WEFT_HS_AEAD_TAG, plen, i, n;
	int rc;

	memcpy(ad, ad_h, 32);
	memcpy(ad + 32, c, 2);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		body, NULL, NULL, c + 2, L, ad, sizeof(ad), nonce, key) != 0) {
		rc = weft_err_set(
		    err, WEFT_ESIG,
		    msg == 2 ? "handshake: message 2 does not decrypt "
			       "(tampered, or the responder does not hold the "
			       "network key)"
			     : "handshake: message 3 does not decrypt "
			       "(tampered, or replayed from another session)");
		goto out;
	}
	plen = weft_hs_get16(body);
	if (plen > blen - 2) {
		rc = weft_err_set(err, WEFT_EPARSE,
				  "handshake: message %d: body length %zu "
				  "exceeds %zu",
				  msg, plen, blen - 2);
		goto out;
	}
	for (i = 2 + plen; i < blen; i++)
		if (body[i] != 0) {
			rc = weft_err_set(err, WEFT_EPARSE,
					  "handshake: message %d: padding is "
					  "not zero",
					  msg);
			goto out;
		}
	if (blen - 2 - plen >= WEFT_HS_PAD) {
		rc = weft_err_set(err, WEFT_EPARSE,
				  "handshake: message %d: too much padding",
				  msg);
		goto out;
	}
	a = weft__handshake_auth__unpack(NULL, plen, body + 2);
	if (a == NULL || a->certificate.len == 0 ||
	    a->certificate.len > WEFT_CERT_MAX ||
	    a->signature.len != WEFT_SIG_BYTES) {
		rc = weft_err_set(err, WEFT_EPARSE,
				  "handshake: message %d: malformed "
				  "certificate or signature",
				  msg);
		goto out;
	}
	weft_hs_absorb_cert(hs, a->certificate.data, a->certificate.len);
	rc = weft_cert_verify(a->certificate.data, a->certificate.len,
			      hs->trust, hs->now, &hs->res.peer, err);
	if (rc != 0) {
		weft_err_prefix(err, "handshake: %s", who);
		goto out;
	}
	weft_hs_snap(hs, h);
	n = weft_hs_sigmsg(dom, domlen, h, sm);
	if (crypto_sign_verify_detached(a->signature.data, sm, n,
					hs->res.peer.subject_pk) != 0) {
		rc = weft_err_set(err, WEFT_ESIG,
				  "handshake: %s node %s (org %s): signature "
				  "does not verify",
				  who, hs->res.peer.subject_name,
				  hs->res.peer.org_name);
		goto out;
	}
	memcpy(hs->peer_cert, a->certificate.data, a->certificate.len);
	hs->peer_cert_len = a->certificate.len;
	weft_hs_absorb(hs, c, 2 + L);
	rc = 0;
out:
	if (a != NULL)
		weft__handshake_auth__free_unpacked(a, NULL);
	sodium_memzero(body, sizeof(body));
	return rc;
}

/* Session keys from ck and the final transcript; ck is wiped. */
static void
weft_hs_finish(weft_hs_t *hs)
{
	uint8_t okm[64], m[sizeof(weft_hs_sess_dom) + 32];

	weft_hs_snap(hs, hs->res.session_id);
	memcpy(m, weft_hs_sess_dom, sizeof(weft_hs_sess_dom));
	memcpy(m + sizeof(weft_hs_sess_dom), hs->res.session_id, 32);
	crypto_generichash(okm, sizeof(okm), m, sizeof(m), hs->ck, 32);
	if (hs->role == WEFT_HS_INITIATOR) {
		memcpy(hs->res.tx, okm, 32);
		memcpy(hs->res.rx, okm + 32, 32);
	} else {
		memcpy(hs->res.rx, okm, 32);
		memcpy(hs->res.tx, okm + 32, 32);
	}
	sodium_memzero(okm, sizeof(okm));
	weft_hs_wipe(hs);
	hs->state = WEFT_HS_S_DONE;
}

/* Has this message 1 been seen? Remember it either way. */
static int
weft_hs_replay_seen(weft_hs_replay_t *r, const uint8_t e[32])
{
	size_t i;

	for (i = 0; i < r->cap; i++)
		if (r->ent[i].used && sodium_memcmp(r->ent[i].e, e, 32) == 0)
			return 1;
	memcpy(r->ent[r->next].e, e, 32);
	r->ent[r->next].used = 1;
	r->next = (r->next + 1) % r->cap;
	return 0;
}

/* Responder: message 1 in hs->in -> message 2 in hs->out. */
static int
weft_hs_on_msg1(weft_hs_t *hs, weft_err_t *err)
{
	uint8_t tag[WEFT_HS_TAG], ha[32];
	uint64_t t = 0;
	int64_t skew;
	int i, rc;

	weft_hs_msg1_tag(hs, hs->in, tag);
	if (sodium_memcmp(tag, hs->in + 40, WEFT_HS_TAG) != 0)
		return weft_err_set(err, WEFT_ESIG,
				    "handshake: bad network key (message 1 "
				    "does not authenticate)");
	for (i = 0; i < 8; i++)
		t = t << 8 | hs->in[32 + i];
	skew = (int64_t)t - hs->now;
	if ((int64_t)t < hs->now - WEFT_HS_SKEW_S ||
	    (int64_t)t > hs->now + WEFT_HS_SKEW_S)
		return weft_err_set(err, WEFT_EEXPIRED,
				    "handshake: message 1 is dated %" PRId64
				    " s from our clock (at most %d s allowed)",
				    skew, WEFT_HS_SKEW_S);
	if (hs->replay != NULL && weft_hs_replay_seen(hs->replay, hs->in))
		return weft_err_set(err, WEFT_ESTALE,
				    "handshake: replayed message 1");
	weft_hs_absorb(hs, hs->in, WEFT_HS_MSG1_BYTES);
	weft_hs_absorb(hs, hs->epk, 32);
	if ((rc = weft_hs_keys(hs, hs->in, ha, err)) != 0)
		return rc;
	memcpy(hs->out, hs->epk, 32);
	rc = weft_hs_seal_auth(hs, 32, weft_hs_resp_dom,
			       sizeof(weft_hs_resp_dom), hs->k2, ha, err);
	if (rc != 0)
		return rc;
	weft_hs_snap(hs, hs->hb);
	hs->state = WEFT_HS_S_R_WAIT3;
	return WEFT_HS_CONTINUE;
}

/* Initiator: message 2 in hs->in -> message 3 in hs->out, done. */
static int
weft_hs_on_msg2(weft_hs_t *hs, weft_err_t *err)
{
	uint8_t ha[32];
	int rc;

	weft_hs_absorb(hs, hs->in, 32);
	if ((rc = weft_hs_keys(hs, hs->in, ha, err)) != 0)
		return rc;
	rc = weft_hs_open_auth(hs, hs->in + 32, 2, weft_hs_resp_dom,
			       sizeof(weft_hs_resp_dom), hs->k2, ha, err);
	if (rc != 0)
		return rc;
	weft_hs_snap(hs, hs->hb);
	rc = weft_hs_seal_auth(hs, 0, weft_hs_init_dom,
			       sizeof(weft_hs_init_dom), hs->k3, hs->hb, err);
	if (rc != 0)
		return rc;
	weft_hs_finish(hs);
	return WEFT_HS_DONE;
}

/* Responder: message 3 in hs->in, done. */
static int
weft_hs_on_msg3(weft_hs_t *hs, weft_err_t *err)
{
	int rc;

	rc = weft_hs_open_auth(hs, hs->in, 3, weft_hs_init_dom,
			       sizeof(weft_hs_init_dom), hs->k3, hs->hb, err);
	if (rc != 0)
		return rc;
	hs->out_len = 0;
	weft_hs_finish(hs);
	return WEFT_HS_DONE;
}

/*
 * How many bytes the message being read has in all, as far as is known
 * from hs->in so far (a header first, then header + body). Negative on a
 * malformed header.
 */
static int
weft_hs_need(const weft_hs_t *hs, size_t *need, weft_err_t *err)
{
	int rc;

	switch (hs->state) {
	case WEFT_HS_S_R_WAIT1: *need = WEFT_HS_MSG1_BYTES; return 0;
	case WEFT_HS_S_I_WAIT2:
		if (hs->in_len < 34) {
			*need = 34;
			return 0;
		}
		if ((rc = weft_hs_check_len(weft_hs_get16(hs->in + 32), 2,
					    err)) != 0)
			return rc;
		*need = 34 + weft_hs_get16(hs->in + 32);
		return 0;
	case WEFT_HS_S_R_WAIT3:
		if (hs->in_len < 2) {
			*need = 2;
			return 0;
		}
		if ((rc = weft_hs_check_len(weft_hs_get16(hs->in), 3, err)) !=
		    0)
			return rc;
		*need = 2 + weft_hs_get16(hs->in);
		return 0;
	default:
		return weft_err_set(err, WEFT_EINVAL,
				    "handshake: not expecting a message");
	}
}

int
weft_hs_recv(weft_hs_t *hs, const uint8_t *in, size_t len, size_t *consumed,
	     const uint8_t **out, size_t *out_len, weft_err_t *err)
{
	size_t need = 0, take;
	int rc;

	*consumed = 0;
	*out = NULL;
	*out_len = 0;
	if (hs->state == WEFT_HS_S_FAILED)
		return weft_err_set(err, WEFT_EINVAL,
				    "handshake: already failed");
	if (hs->state == WEFT_HS_S_DONE || hs->state == WEFT_HS_S_I_START)
		return weft_err_set(err, WEFT_EINVAL,
				    hs->state == WEFT_HS_S_DONE
					? "handshake: already done"
					: "handshake: initiator has not "
					  "started");
	hs->out_len = 0;
	for (;;) {
		if ((rc = weft_hs_need(hs, &need, err)) != 0)
			return weft_hs_fail(hs, rc);
		if (hs->in_len == need)
			break;
		if (*consumed == len)
			return WEFT_HS_CONTINUE;
		take = need - hs->in_len;
		if (take > len - *consumed)
			take = len - *consumed;
		memcpy(hs->in + hs->in_len, in + *consumed, take);
		hs->in_len += take;
		*consumed += take;
	}
	switch (hs->state) {
	case WEFT_HS_S_R_WAIT1: rc = weft_hs_on_msg1(hs, err); break;
	case WEFT_HS_S_I_WAIT2: rc = weft_hs_on_msg2(hs, err); break;
	default: rc = weft_hs_on_msg3(hs, err); break;
	}
	if (rc < 0)
		return weft_hs_fail(hs, rc);
	hs->in_len = 0;
	*out = hs->out_len > 0 ? hs->out : NULL;
	*out_len = hs->out_len;
	return rc;
}

int
weft_hs_result(const weft_hs_t *hs, weft_hs_result_t *res)
{
	if (hs->state != WEFT_HS_S_DONE)
		return WEFT_EINVAL;
	*res = hs->res;
	return 0;
}

const uint8_t *
weft_hs_peer_cert(const weft_hs_t *hs, size_t *len)
{
	if (hs->state != WEFT_HS_S_DONE) {
		*len = 0;
		return NULL;
	}
	*len = hs->peer_cert_len;
	return hs->peer_cert;
}

int
weft_hs_replay_new(size_t capacity, weft_hs_replay_t **out)
{
	weft_hs_replay_t *r;

	*out = NULL;
	if (capacity == 0)
		capacity = 4096;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return WEFT_ENOMEM;
	r->ent = calloc(capacity, sizeof(*r->ent));
	if (r->ent == NULL) {
		free(r);
		return WEFT_ENOMEM;
	}
	r->cap = capacity;
	*out = r;
	return 0;
}

void
weft_hs_replay_free(weft_hs_replay_t *r)
{
	if (r == NULL)
		return;
	free(r->ent);
	free(r);
}
