/*
 * handshake.h: the session handshake, a sans-IO state machine.
 *
 * Three messages, in the spirit of Secret Handshake (SSB) and Noise XX /
 * SIGMA-I (docs/protocol.md has the wire format and the reasoning):
 *
 *   1. I -> R  e_I, t, HMAC(network key, e_I || t)
 *   2. R -> I  e_R, AEAD_k2(R's certificate, R's signature of the transcript)
 *   3. I -> R  AEAD_k3(I's certificate, I's signature of the transcript)
 *
 * Invariants: the core never reads a clock, never draws randomness (the
 * ephemeral key comes from the caller's 32-byte seed) and never does I/O;
 * it is fed bytes and hands back bytes to send. Every length is bounded
 * before anything is buffered. A responder that cannot verify message 1
 * produces no output at all. Once a call has failed the handshake is dead:
 * every later call fails too. Secrets (ephemeral key, chaining key, session
 * keys) are wiped when the handshake is freed.
 */
#ifndef WEFT_CRYPTO_HANDSHAKE_H
#define WEFT_CRYPTO_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"

#define WEFT_HS_KEY_BYTES 32  /* network key, session keys */
#define WEFT_HS_SEED_BYTES 32 /* caller-provided randomness */
#define WEFT_HS_ID_BYTES 32   /* session id (final transcript hash) */
#define WEFT_HS_MSG1_BYTES 72 /* e_I(32) | t(8) | tag(32) */
#define WEFT_HS_PAD 256	      /* message 2/3 bodies padded to this */
#define WEFT_HS_BODY_MAX 4352 /* largest padded body (17 * 256) */
#define WEFT_HS_MSG_MAX (32 + 2 + WEFT_HS_BODY_MAX + 16) /* message 2 */
#define WEFT_HS_SKEW_S 300 /* |t - now| allowed in message 1 */

typedef enum weft_hs_role {
	WEFT_HS_INITIATOR = 1,
	WEFT_HS_RESPONDER = 2,
} weft_hs_role_t;

/* Non-negative results of weft_hs_start / weft_hs_recv. */
enum { WEFT_HS_CONTINUE = 0, WEFT_HS_DONE = 1 };

typedef struct weft_hs weft_hs_t;
typedef struct weft_hs_replay weft_hs_replay_t;

/* What a completed handshake yields. Holds secrets: wipe it with
 * sodium_memzero when done (weft_frame_init copies the keys it needs). */
typedef struct weft_hs_result {
	weft_cert_info_t peer;		      /* verified peer certificate */
	uint8_t tx[WEFT_HS_KEY_BYTES];	      /* key for frames we send */
	uint8_t rx[WEFT_HS_KEY_BYTES];	      /* key for frames we receive */
	uint8_t session_id[WEFT_HS_ID_BYTES]; /* equal on both sides */
} weft_hs_result_t;

/*
 * Make a handshake core. `me` (a node key pair) and `trust` are borrowed
 * and must outlive the handshake; cert (our serialized SignedCertificate,
 * whose subject must be me's public key) and network_key are copied. now_s
 * is the Unix time used for message 1's timestamp and for checking the
 * peer's certificate. seed must be fresh randomness (randombytes_buf in a
 * real node, a PRNG in the simulator); it is used only to derive the
 * ephemeral X25519 key, so a repeated seed gives a repeated ephemeral.
 * *out is freed with weft_hs_free; NULL on failure.
 * Errors: WEFT_EINVAL (missing argument, certificate not for `me`),
 * WEFT_ETOOBIG (certificate over WEFT_CERT_MAX), WEFT_EPARSE, WEFT_ENOMEM.
 */
int weft_hs_new(weft_hs_t **out, weft_hs_role_t role, const weft_keypair_t *me,
		const uint8_t *cert, size_t cert_len,
		const uint8_t network_key[WEFT_HS_KEY_BYTES],
		const weft_trust_t *trust, int64_t now_s,
		const uint8_t seed[WEFT_HS_SEED_BYTES], weft_err_t *err);

/* Wipe and free a handshake. Accepts NULL. */
void weft_hs_free(weft_hs_t *hs);

/*
 * Responder only, optional: remember message 1s in `replay` (borrowed,
 * shared by all handshakes of a listener, must outlive hs) so that a
 * replayed message 1 is refused before anything is sent.
 */
void weft_hs_set_replay(weft_hs_t *hs, weft_hs_replay_t *replay);

/*
 * Initiator: produce message 1. *out (WEFT_HS_MSG1_BYTES) points into hs
 * and stays valid until the next call on hs. Returns WEFT_HS_CONTINUE.
 * Errors: WEFT_EINVAL (not an initiator, or called twice).
 */
int weft_hs_start(weft_hs_t *hs, const uint8_t **out, size_t *out_len,
		  weft_err_t *err);

/*
 * Feed received bytes (any split). Takes bytes only up to the end of the
 * message being read: *consumed tells how many; the rest (if any) belongs
 * to the next message, or, after WEFT_HS_DONE, to the frame layer. When a
 * message is complete it is processed and the reply, if any, is returned
 * in *out / *out_len (pointing into hs, valid until the next call; length
 * 0 if nothing is to be sent).
 *
 * Returns WEFT_HS_CONTINUE (more to come; send *out if not empty),
 * WEFT_HS_DONE (send *out if not empty, then use weft_hs_result), or a
 * negative error with a message "handshake: ..." and *out_len == 0: the
 * driver must close the connection without sending anything.
 * Errors: WEFT_ESIG (bad network key, message does not decrypt, signature
 * does not verify), WEFT_ESTALE (replayed message 1), WEFT_EEXPIRED
 * (message 1 timestamp out of window, certificate outside its validity),
 * WEFT_ETRUST (untrusted org), WEFT_EPARSE / WEFT_ETOOBIG (malformed),
 * WEFT_EINVAL (handshake already finished or failed).
 */
int weft_hs_recv(weft_hs_t *hs, const uint8_t *in, size_t len, size_t *consumed,
		 const uint8_t **out, size_t *out_len, weft_err_t *err);

/*
 * After WEFT_HS_DONE: copy the peer's verified certificate info, the two
 * session keys and the session id into *res. Errors: WEFT_EINVAL if the
 * handshake is not done.
 */
int weft_hs_result(const weft_hs_t *hs, weft_hs_result_t *res);

/* After WEFT_HS_DONE: the peer's serialized SignedCertificate, valid
 * until weft_hs_free; NULL (and *len 0) before. */
const uint8_t *weft_hs_peer_cert(const weft_hs_t *hs, size_t *len);

/*
 * A bounded memory of recent message 1s (capacity entries, 0 = default
 * 4096; oldest replaced first) for weft_hs_set_replay. *out freed with
 * weft_hs_replay_free (accepts NULL). Errors: WEFT_ENOMEM.
 */
int weft_hs_replay_new(size_t capacity, weft_hs_replay_t **out);
void weft_hs_replay_free(weft_hs_replay_t *r);

#endif
