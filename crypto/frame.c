/*
 * frame.c: sealed frames after the handshake (see frame.h and
 * docs/protocol.md).
 *
 * Invariants:
 * - Nonce of frame n: n as 8 little-endian bytes, then the part (0 for
 *   the header, 1 for the body), then zeros (24 bytes). A key never sees
 *   the same nonce twice because n only grows; n == UINT64_MAX is refused.
 * - The decoder's states: HDR (collecting WEFT_FRAME_HDR bytes), BODY
 *   (header authenticated, collecting body + tag), READY (a frame has been
 *   returned; its bytes stay valid until the next call), CLOSED, FAILED.
 *   The body buffer is sized from an authenticated length only.
 * - Rekey: key' = KDF(key, id = n, "weftrkey") after frame n, when frame n
 *   is a REKEY frame or (n + 1) is a multiple of rekey_every. The old key
 *   is wiped.
 */
#include "crypto/frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define WEFT_FRAME_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define WEFT_FRAME_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define WEFT_FRAME_HDR_PT 5
#define WEFT_FRAME_KEEP (64 * 1024) /* body buffer kept between frames */

_Static_assert(WEFT_FRAME_HDR == WEFT_FRAME_HDR_PT + WEFT_FRAME_TAG, "hdr");
_Static_assert(WEFT_FRAME_OVERHEAD == WEFT_FRAME_HDR + WEFT_FRAME_TAG, "ovh");
_Static_assert(crypto_kdf_KEYBYTES == WEFT_FRAME_KEY_BYTES, "kdf key");

enum {
	WEFT_FRAME_S_HDR,
	WEFT_FRAME_S_BODY,
	WEFT_FRAME_S_READY,
	WEFT_FRAME_S_CLOSED,
	WEFT_FRAME_S_FAILED,
};

struct weft_frame_tx {
	uint8_t key[WEFT_FRAME_KEY_BYTES];
	uint64_t n, every;
	int closed;
};

struct weft_frame_rx {
	uint8_t key[WEFT_FRAME_KEY_BYTES];
	uint64_t n, every;
	int state, type, after_close, rc;
	uint8_t hdr[WEFT_FRAME_HDR];
	size_t hdr_len;
	uint8_t *body; /* body + tag, then the plaintext in place */
	size_t body_cap, body_len, body_need;
	char msg[WEFT_ERR_MAX];
};

static void
weft_frame_nonce(uint64_t n, int part, uint8_t nonce[WEFT_FRAME_NONCE])
{
	int i;

	memset(nonce, 0, WEFT_FRAME_NONCE);
	for (i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(n >> (8 * i));
	nonce[8] = (uint8_t)part;
}

/* After frame n of the given type: rekey if due, then advance n. */
static void
weft_frame_advance(uint8_t key[WEFT_FRAME_KEY_BYTES], uint64_t *n,
		   uint64_t every, int type)
{
	uint8_t nk[WEFT_FRAME_KEY_BYTES];

	if (type == WEFT_FRAME_REKEY || (*n + 1) % every == 0) {
		crypto_kdf_derive_from_key(nk, sizeof(nk), *n, "weftrkey", key);
		memcpy(key, nk, sizeof(nk));
		sodium_memzero(nk, sizeof(nk));
	}
	(*n)++;
}

static int
weft_frame_new_key(const uint8_t key[WEFT_FRAME_KEY_BYTES], uint64_t every,
		   void *obj, uint8_t *okey, uint64_t *oevery)
{
	if (sodium_init() < 0) {
		free(obj);
		return WEFT_EIO;
	}
	memcpy(okey, key, WEFT_FRAME_KEY_BYTES);
	*oevery = every == 0 ? WEFT_FRAME_REKEY_EVERY : every;
	return 0;
}

int
weft_frame_tx_new(const uint8_t key[WEFT_FRAME_KEY_BYTES], uint64_t every,
		  weft_frame_tx_t **out)
{
	weft_frame_tx_t *tx = calloc(1, sizeof(*tx));
	int rc;

	*out = NULL;
	if (tx == NULL)
		return WEFT_ENOMEM;
	if ((rc = weft_frame_new_key(key, every, tx, tx->key, &tx->every)))
		return rc;
	*out = tx;
	return 0;
}

void
weft_frame_tx_free(weft_frame_tx_t *tx)
{
	if (tx == NULL)
		return;
	sodium_memzero(tx, sizeof(*tx));
	free(tx);
}

int
weft_frame_rx_new(const uint8_t key[WEFT_FRAME_KEY_BYTES], uint64_t every,
		  weft_frame_rx_t **out)
{
	weft_frame_rx_t *rx = calloc(1, sizeof(*rx));
	int rc;

	*out = NULL;
	if (rx == NULL)
		return WEFT_ENOMEM;
	if ((rc = weft_frame_new_key(key, every, rx, rx->key, &rx->every)))
		return rc;
	rx->state = WEFT_FRAME_S_HDR;
	*out = rx;
	return 0;
}

void
weft_frame_rx_free(weft_frame_rx_t *rx)
{
	if (rx == NULL)
		return;
	if (rx->body != NULL) {
		sodium_memzero(rx->body, rx->body_cap);
		free(rx->body);
	}
	sodium_memzero(rx, sizeof(*rx));
	free(rx);
}

void
weft_frame_forge_header(const weft_frame_tx_t *tx, int type,
			uint32_t claimed_len, uint8_t out[WEFT_FRAME_HDR])
{
	uint8_t nonce[WEFT_FRAME_NONCE], hp[WEFT_FRAME_HDR_PT];

	weft_frame_nonce(tx->n, 0, nonce);
	hp[0] = (uint8_t)type;
	hp[1] = (uint8_t)(claimed_len >> 24);
	hp[2] = (uint8_t)(claimed_len >> 16);
	hp[3] = (uint8_t)(claimed_len >> 8);
	hp[4] = (uint8_t)claimed_len;
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    out, NULL, hp, sizeof(hp), NULL, 0, NULL, nonce, tx->key);
}

static int
weft_frame_seal_any(weft_frame_tx_t *tx, int type, const uint8_t *pt,
		    size_t len, uint8_t *out, size_t cap, size_t *out_len,
		    weft_err_t *err)
{
	uint8_t nonce[WEFT_FRAME_NONCE];

	*out_len = 0;
	if (tx->closed)
		return weft_err_set(err, WEFT_EINVAL,
				    "frame: sending after close");
	if (len > WEFT_FRAME_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "frame: %zu bytes exceed the %d byte cap",
				    len, WEFT_FRAME_MAX);
	if (cap < weft_frame_sealed_len(len) || (pt == NULL && len > 0))
		return weft_err_set(err, WEFT_EINVAL,
				    "frame: output buffer too small");
	if (tx->n == UINT64_MAX) {
		tx->closed = 1;
		return weft_err_set(err, WEFT_EINVAL,
				    "frame: counter exhausted");
	}
	weft_frame_forge_header(tx, type, (uint32_t)len, out);
	weft_frame_nonce(tx->n, 1, nonce);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + WEFT_FRAME_HDR, NULL,
						   pt, len, out, WEFT_FRAME_HDR,
						   NULL, nonce, tx->key);
	weft_frame_advance(tx->key, &tx->n, tx->every, type);
	if (type == WEFT_FRAME_CLOSE)
		tx->closed = 1;
	*out_len = weft_frame_sealed_len(len);
	return 0;
}

int
weft_frame_seal(weft_frame_tx_t *tx, const uint8_t *pt, size_t len,
		uint8_t *out, size_t cap, size_t *out_len, weft_err_t *err)
{
	return weft_frame_seal_any(tx, WEFT_FRAME_DATA, pt, len, out, cap,
				   out_len, err);
}

int
weft_frame_seal_rekey(weft_frame_tx_t *tx, uint8_t *out, size_t cap,
		      size_t *out_len, weft_err_t *err)
{
	return weft_frame_seal_any(tx, WEFT_FRAME_REKEY, NULL, 0, out, cap,
				   out_len, err);
}

int
weft_frame_seal_close(weft_frame_tx_t *tx, uint8_t *out, size_t cap,
		      size_t *out_len, weft_err_t *err)
{
	return weft_frame_seal_any(tx, WEFT_FRAME_CLOSE, NULL, 0, out, cap,
				   out_len, err);
}

size_t
weft_frame_feed(weft_frame_rx_t *rx, const uint8_t *in, size_t len)
{
	size_t take = 0;

	if (rx->state == WEFT_FRAME_S_READY)
		rx->state = WEFT_FRAME_S_HDR;
	switch (rx->state) {
	case WEFT_FRAME_S_HDR:
		take = WEFT_FRAME_HDR - rx->hdr_len;
		if (take > len)
			take = len;
		memcpy(rx->hdr + rx->hdr_len, in, take);
		rx->hdr_len += take;
		break;
	case WEFT_FRAME_S_BODY:
		take = rx->body_need - rx->body_len;
		if (take > len)
			take = len;
		memcpy(rx->body + rx->body_len, in, take);
		rx->body_len += take;
		break;
	case WEFT_FRAME_S_CLOSED:
		if (len > 0)
			rx->after_close = 1;
		break;
	default: break;
	}
	return take;
}

uint8_t *
weft_frame_rx_space(weft_frame_rx_t *rx, size_t *len)
{
	if (rx->state == WEFT_FRAME_S_READY) /* as weft_frame_feed does */
		rx->state = WEFT_FRAME_S_HDR;
	if (rx->state != WEFT_FRAME_S_BODY) {
		*len = 0;
		return NULL;
	}
	*len = rx->body_need - rx->body_len;
	return rx->body + rx->body_len;
}

void
weft_frame_rx_commit(weft_frame_rx_t *rx, size_t n)
{
	if (rx->state == WEFT_FRAME_S_BODY && n <= rx->body_need - rx->body_len)
		rx->body_len += n;
}

static int
weft_frame_rx_fail(weft_frame_rx_t *rx, weft_err_t *err, int rc,
		   const char *fmt, unsigned long long a)
{
	snprintf(rx->msg, sizeof(rx->msg), fmt, a);
	rx->rc = rc;
	rx->state = WEFT_FRAME_S_FAILED;
	sodium_memzero(rx->key, sizeof(rx->key));
	return weft_err_set(err, rc, "%s", rx->msg);
}

/* The header is complete: authenticate it and prepare for the body. */
static int
weft_frame_open_hdr(weft_frame_rx_t *rx, weft_err_t *err)
{
	uint8_t nonce[WEFT_FRAME_NONCE], hp[WEFT_FRAME_HDR_PT];
	size_t len, need;
	uint8_t *nb;

	if (rx->n == UINT64_MAX)
		return weft_frame_rx_fail(rx, err, WEFT_EPARSE,
					  "frame: counter exhausted at %llu",
					  (unsigned long long)rx->n);
	weft_frame_nonce(rx->n, 0, nonce);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(hp, NULL, NULL, rx->hdr,
						       WEFT_FRAME_HDR, NULL, 0,
						       nonce, rx->key) != 0)
		return weft_frame_rx_fail(
		    rx, err, WEFT_ESIG,
		    "frame: header of frame %llu does not authenticate "
		    "(tampered, reordered or replayed)",
		    (unsigned long long)rx->n);
	len = (size_t)hp[1] << 24 | (size_t)hp[2] << 16 | (size_t)hp[3] << 8 |
	      hp[4];
	rx->type = hp[0];
	if (rx->type != WEFT_FRAME_DATA && rx->type != WEFT_FRAME_REKEY &&
	    rx->type != WEFT_FRAME_CLOSE)
		return weft_frame_rx_fail(rx, err, WEFT_EPARSE,
					  "frame: unknown frame type %llu",
					  (unsigned long long)rx->type);
	if (len > WEFT_FRAME_MAX)
		return weft_frame_rx_fail(rx, err, WEFT_ETOOBIG,
					  "frame: length %llu exceeds the "
					  "1048576 byte cap",
					  (unsigned long long)len);
	if (rx->type != WEFT_FRAME_DATA && len != 0)
		return weft_frame_rx_fail(rx, err, WEFT_EPARSE,
					  "frame: control frame with a %llu "
					  "byte body",
					  (unsigned long long)len);
	need = len + WEFT_FRAME_TAG;
	if (need > rx->body_cap ||
	    (rx->body_cap > WEFT_FRAME_KEEP && need <= WEFT_FRAME_KEEP)) {
		size_t cap = need > WEFT_FRAME_KEEP ? need : WEFT_FRAME_KEEP;

		nb = malloc(cap);
		if (nb == NULL)
			return weft_frame_rx_fail(rx, err, WEFT_ENOMEM,
						  "frame: out of memory for "
						  "%llu bytes",
						  (unsigned long long)cap);
		if (rx->body != NULL) {
			sodium_memzero(rx->body, rx->body_cap);
			free(rx->body);
		}
		rx->body = nb;
		rx->body_cap = cap;
	}
	rx->body_need = need;
	rx->body_len = 0;
	rx->state = WEFT_FRAME_S_BODY;
	return 0;
}

int
weft_frame_next(weft_frame_rx_t *rx, weft_frame_t *f, weft_err_t *err)
{
	uint8_t nonce[WEFT_FRAME_NONCE];
	size_t len;
	int rc;

	f->type = 0;
	f->data = NULL;
	f->len = 0;
	if (rx->state == WEFT_FRAME_S_FAILED)
		return weft_err_set(err, rx->rc, "%s", rx->msg);
	if (rx->state == WEFT_FRAME_S_CLOSED) {
		if (rx->after_close)
			return weft_frame_rx_fail(rx, err, WEFT_EPARSE,
						  "frame: data after close "
						  "(frame %llu)",
						  (unsigned long long)rx->n);
		return 0;
	}
	if (rx->state == WEFT_FRAME_S_READY)
		rx->state = WEFT_FRAME_S_HDR;
	if (rx->state == WEFT_FRAME_S_HDR) {
		if (rx->hdr_len < WEFT_FRAME_HDR)
			return 0;
		if ((rc = weft_frame_open_hdr(rx, err)) != 0)
			return rc;
	}
	if (rx->body_len < rx->body_need)
		return 0;
	len = rx->body_need - WEFT_FRAME_TAG;
	weft_frame_nonce(rx->n, 1, nonce);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
		rx->body, NULL, rx->body, len, rx->body + len, rx->hdr,
		WEFT_FRAME_HDR, nonce, rx->key) != 0)
		return weft_frame_rx_fail(
		    rx, err, WEFT_ESIG,
		    "frame: body of frame %llu does not authenticate "
		    "(tampered, reordered or replayed)",
		    (unsigned long long)rx->n);
	weft_frame_advance(rx->key, &rx->n, rx->every, rx->type);
	rx->hdr_len = 0;
	rx->body_len = rx->body_need = 0;
	if (rx->type == WEFT_FRAME_REKEY) {
		rx->state = WEFT_FRAME_S_HDR;
		return 0;
	}
	f->type = rx->type;
	f->data = rx->body;
	f->len = len;
	rx->state = rx->type == WEFT_FRAME_CLOSE ? WEFT_FRAME_S_CLOSED
						 : WEFT_FRAME_S_READY;
	return 1;
}

uint64_t
weft_frame_tx_count(const weft_frame_tx_t *tx)
{
	return tx->n;
}

uint64_t
weft_frame_rx_count(const weft_frame_rx_t *rx)
{
	return rx->n;
}
