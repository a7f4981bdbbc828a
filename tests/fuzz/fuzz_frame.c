/*
 * fuzz_frame.c: libFuzzer harness for the frame decoder.
 *
 * First byte: bit 0 picks the mode, the rest a split size.
 * - Raw mode: the input is fed as received bytes to a decoder (with the
 *   documented feed/next loop); it must fail or wait, never crash, and
 *   every returned frame must lie within the cap.
 * - Round-trip mode: the input is cut into frames (each piece's length
 *   from one byte), sealed, and decoded at the split size; the decoder
 *   must give back exactly the pieces, then the close.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/frame.h"

static uint8_t fz_key[32];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	memset(fz_key, 7, sizeof(fz_key));
	return 0;
}

/* Feed everything; calls back with each frame. Returns the last rc. */
static int
fz_decode(const uint8_t *p, size_t left, size_t split, uint64_t every,
	  const uint8_t *want, size_t *wpos, size_t wlen, int *closed)
{
	weft_frame_rx_t *rx;
	weft_frame_t f;
	weft_err_t err = {0};
	size_t n;
	int rc = 0;

	if (weft_frame_rx_new(fz_key, every, &rx) != 0)
		abort();
	for (;;) {
		size_t off = left < split ? left : split;

		n = weft_frame_feed(rx, p, off);
		if (n > off)
			abort();
		p += n;
		left -= n;
		rc = weft_frame_next(rx, &f, &err);
		if (rc < 0) {
			if (err.msg[0] == 0)
				abort();
			break;
		}
		if (rc == 1) {
			if (f.len > WEFT_FRAME_MAX)
				abort();
			if (f.type == WEFT_FRAME_CLOSE)
				*closed = 1;
			else if (want != NULL) {
				if (*wpos + f.len > wlen ||
				    memcmp(want + *wpos, f.data, f.len) != 0)
					abort();
				*wpos += f.len;
			}
		} else if (left == 0) {
			break;
		}
	}
	weft_frame_rx_free(rx);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t split, off, pos = 0, wpos = 0, total = 0;
	uint8_t *buf, *plain;
	weft_frame_tx_t *tx;
	int closed = 0;

	if (size < 1)
		return 0;
	split = (size_t)(data[0] >> 1) + 1;
	if (!(data[0] & 1)) {
		(void)fz_decode(data + 1, size - 1, split, 0, NULL, &wpos, 0,
				&closed);
		return 0;
	}
	/* Round trip: pieces of data[off] bytes each. */
	buf = malloc(2 * size + WEFT_FRAME_OVERHEAD * (size + 2));
	plain = malloc(size);
	if (buf == NULL || plain == NULL || weft_frame_tx_new(fz_key, 3, &tx))
		abort();
	for (off = 1; off < size;) {
		size_t len = data[off++], ol;

		if (len > size - off)
			len = size - off;
		if (len == 0 && (data[off - 1] & 1)) {
			if (weft_frame_seal_rekey(tx, buf + pos,
						  WEFT_FRAME_OVERHEAD, &ol,
						  NULL) != 0)
				abort();
		} else if (weft_frame_seal(tx, data + off, len, buf + pos,
					   weft_frame_sealed_len(len), &ol,
					   NULL) != 0)
			abort();
		memcpy(plain + total, data + off, len);
		total += len;
		off += len;
		pos += ol;
	}
	{
		size_t ol;

		if (weft_frame_seal_close(tx, buf + pos, WEFT_FRAME_OVERHEAD,
					  &ol, NULL) != 0)
			abort();
		pos += ol;
	}
	if (fz_decode(buf, pos, split, 3, plain, &wpos, total, &closed) != 0 ||
	    !closed || wpos != total)
		abort();
	weft_frame_tx_free(tx);
	free(buf);
	free(plain);
	return 0;
}
