/*
 * frame.h: the sealed frame layer that follows the handshake, sans-IO.
 *
 * Each frame is two XChaCha20-Poly1305 messages under the direction's key,
 * with nonces built from a 64-bit frame counter (docs/protocol.md):
 *
 *   header  AEAD(nonce = n|0, type(1) | body length(4, big-endian))  21 bytes
 *   body    AEAD(nonce = n|1, ad = header, body)             length + 16 bytes
 *
 * Invariants: the decoder authenticates the 21-byte header before it reads,
 * buffers or allocates any of the body, and refuses an authenticated length
 * over WEFT_FRAME_MAX without allocating; it never holds more than one
 * frame's bytes. The counter makes every frame's nonce unique and makes a
 * dropped, reordered or replayed frame fail authentication. Both sides
 * derive a new key (and wipe the old one) after a REKEY frame and after
 * every `rekey_every` frames. After a CLOSE frame nothing more is accepted,
 * so an attacker cannot truncate a stream without the receiver noticing
 * (the connection ends without a CLOSE). An error is final.
 */
#ifndef WEFT_CRYPTO_FRAME_H
#define WEFT_CRYPTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define WEFT_FRAME_MAX (1024 * 1024) /* body bytes */
#define WEFT_FRAME_HDR 21	     /* sealed header */
#define WEFT_FRAME_OVERHEAD (WEFT_FRAME_HDR + 16)
#define WEFT_FRAME_REKEY_EVERY 65536 /* default, frames */
#define WEFT_FRAME_KEY_BYTES 32

/* Frame types (the header's first byte). */
enum {
	WEFT_FRAME_DATA = 1,
	WEFT_FRAME_REKEY = 2, /* empty; both sides switch keys after it */
	WEFT_FRAME_CLOSE = 3, /* empty; the last frame of a direction */
};

typedef struct weft_frame_tx weft_frame_tx_t;
typedef struct weft_frame_rx weft_frame_rx_t;

/* A received frame: data is borrowed from the decoder and valid until the
 * next weft_frame_feed / weft_frame_next / weft_frame_rx_free. */
typedef struct weft_frame {
	int type;
	const uint8_t *data;
	size_t len;
} weft_frame_t;

/*
 * Make an encoder (tx) or decoder (rx) from a session key (the handshake's
 * tx or rx key; copied). rekey_every: frames between automatic rekeys, 0
 * for WEFT_FRAME_REKEY_EVERY; both ends of a direction must agree. Freed
 * (and wiped) with weft_frame_tx_free / weft_frame_rx_free, which accept
 * NULL. Errors: WEFT_ENOMEM.
 */
int weft_frame_tx_new(const uint8_t key[WEFT_FRAME_KEY_BYTES],
		      uint64_t rekey_every, weft_frame_tx_t **out);
void weft_frame_tx_free(weft_frame_tx_t *tx);
int weft_frame_rx_new(const uint8_t key[WEFT_FRAME_KEY_BYTES],
		      uint64_t rekey_every, weft_frame_rx_t **out);
void weft_frame_rx_free(weft_frame_rx_t *rx);

/* Bytes weft_frame_seal writes for a body of len bytes. */
static inline size_t
weft_frame_sealed_len(size_t len)
{
	return WEFT_FRAME_OVERHEAD + len;
}

/*
 * Seal one DATA frame of len (<= WEFT_FRAME_MAX) bytes into out, which has
 * room for cap bytes (at least weft_frame_sealed_len(len)). out must not
 * overlap pt, except exactly: pt == out + WEFT_FRAME_HDR seals in place
 * (the plaintext is encrypted where it lies). *out_len is set on success.
 * Errors: WEFT_ETOOBIG (len over the cap), WEFT_EINVAL (out too small,
 * encoder closed or failed, counter exhausted).
 */
int weft_frame_seal(weft_frame_tx_t *tx, const uint8_t *pt, size_t len,
		    uint8_t *out, size_t cap, size_t *out_len, weft_err_t *err);
/* Seal an empty REKEY frame; the encoder switches keys after it. */
int weft_frame_seal_rekey(weft_frame_tx_t *tx, uint8_t *out, size_t cap,
			  size_t *out_len, weft_err_t *err);
/* Seal an empty CLOSE frame; the encoder refuses everything after it. */
int weft_frame_seal_close(weft_frame_tx_t *tx, uint8_t *out, size_t cap,
			  size_t *out_len, weft_err_t *err);

/*
 * For tests and hostile-peer tools only: seal a header for the encoder's
 * next frame that claims `claimed_len` body bytes of the given type, and
 * write no body (the encoder is not advanced, so the next real frame
 * reuses the counter and is unusable: drop the session after this).
 */
void weft_frame_forge_header(const weft_frame_tx_t *tx, int type,
			     uint32_t claimed_len, uint8_t out[WEFT_FRAME_HDR]);

/*
 * Offer received bytes (any split). Takes only as many as the frame being
 * read still needs and returns that number (possibly 0: a frame is waiting
 * for weft_frame_next, or the decoder failed or is closed). Call
 * weft_frame_next after each feed, and feed the rest again:
 *
 *   for (;;) {
 *       n = weft_frame_feed(rx, p, left); p += n; left -= n;
 *       rc = weft_frame_next(rx, &f, &err);
 *       if (rc < 0) close the connection;
 *       else if (rc == 1) handle(&f);
 *       else if (left == 0) break;
 *   }
 *
 * Bytes offered after a CLOSE frame make the next weft_frame_next fail.
 */
size_t weft_frame_feed(weft_frame_rx_t *rx, const uint8_t *in, size_t len);

/*
 * Zero-copy receive: while a body is being read, the decoder's own buffer
 * for the rest of it (*len bytes); NULL and 0 otherwise. A driver may read
 * from the socket straight into it, then report how many bytes it wrote
 * with weft_frame_rx_commit (at most *len) and call weft_frame_next as
 * after a feed. Saves the copy weft_frame_feed makes of large bodies.
 */
uint8_t *weft_frame_rx_space(weft_frame_rx_t *rx, size_t *len);
void weft_frame_rx_commit(weft_frame_rx_t *rx, size_t n);

/*
 * Returns 1 with a DATA or CLOSE frame in *f, 0 if more bytes are needed
 * (REKEY frames are handled here and not returned), or a negative error
 * ("frame: ..."), which is final: WEFT_ESIG (a header or body does not
 * authenticate: tampered, reordered, replayed or truncated), WEFT_ETOOBIG
 * (authenticated length over WEFT_FRAME_MAX), WEFT_EPARSE (unknown type,
 * non-empty control frame, data after CLOSE), WEFT_ENOMEM.
 */
int weft_frame_next(weft_frame_rx_t *rx, weft_frame_t *f, weft_err_t *err);

/* Frames sealed / opened so far (the next frame's counter). */
uint64_t weft_frame_tx_count(const weft_frame_tx_t *tx);
uint64_t weft_frame_rx_count(const weft_frame_rx_t *rx);

#endif
