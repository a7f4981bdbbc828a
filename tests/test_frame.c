/*
 * test_frame.c: cmocka tests for crypto/frame: round trips at every split
 * point, tampering, length claims over the cap (refused before any body
 * allocation), rekeying, reordering and replay, and the close frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/frame.h"
#include "lib/err.h"

#if defined(__SANITIZE_ADDRESS__)
/* From the ASan runtime (sanitizer/allocator_interface.h). */
size_t __sanitizer_get_current_allocated_bytes(void);
#define ALLOCATED() __sanitizer_get_current_allocated_bytes()
#else
#define ALLOCATED() ((size_t)0)
#endif

static uint8_t key[32];

/* A growing byte string of sealed frames. */
typedef struct stream {
	uint8_t *b;
	size_t len;
} stream_t;

static void
put(stream_t *s, const uint8_t *p, size_t n)
{
	s->b = realloc(s->b, s->len + n);
	assert_non_null(s->b);
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

static void
seal(weft_frame_tx_t *tx, stream_t *s, const uint8_t *p, size_t n)
{
	uint8_t *out = malloc(weft_frame_sealed_len(n));
	size_t ol;
	weft_err_t err = {0};

	assert_non_null(out);
	if (weft_frame_seal(tx, p, n, out, weft_frame_sealed_len(n), &ol,
			    &err) != 0)
		fail_msg("seal: %s", err.msg);
	assert_int_equal(ol, weft_frame_sealed_len(n));
	put(s, out, ol);
	free(out);
}

static void
seal_ctl(weft_frame_tx_t *tx, stream_t *s, int type)
{
	uint8_t out[WEFT_FRAME_OVERHEAD];
	size_t ol;

	if (type == WEFT_FRAME_CLOSE)
		assert_int_equal(
		    weft_frame_seal_close(tx, out, sizeof(out), &ol, NULL), 0);
	else
		assert_int_equal(
		    weft_frame_seal_rekey(tx, out, sizeof(out), &ol, NULL), 0);
	put(s, out, ol);
}

/* What a decoder saw: a hash of each frame in order, and the end. */
typedef struct seen {
	int nframes, closed, rc;
	uint8_t h[32];
	char msg[WEFT_ERR_MAX];
} seen_t;

/* Feed [p, p + n) with the documented loop; frames are hashed into *sn. */
static int
pump(weft_frame_rx_t *rx, const uint8_t *p, size_t left, seen_t *sn)
{
	crypto_generichash_state st;
	weft_frame_t f;
	weft_err_t err = {0};
	size_t n;
	int rc;

	for (;;) {
		n = weft_frame_feed(rx, p, left);
		assert_true(n <= left);
		p += n;
		left -= n;
		rc = weft_frame_next(rx, &f, &err);
		if (rc < 0) {
			sn->rc = rc;
			memcpy(sn->msg, err.msg, sizeof(sn->msg));
			return rc;
		}
		if (rc == 1) {
			assert_true(f.type == WEFT_FRAME_DATA ||
				    f.type == WEFT_FRAME_CLOSE);
			if (f.type == WEFT_FRAME_CLOSE)
				sn->closed = 1;
			crypto_generichash_init(&st, sn->h, 32, 32);
			crypto_generichash_update(&st, (uint8_t *)&f.len,
						  sizeof(f.len));
			if (f.len > 0)
				crypto_generichash_update(&st, f.data, f.len);
			crypto_generichash_final(&st, sn->h, 32);
			sn->nframes++;
		} else if (left == 0) {
			return 0;
		}
	}
}

static int
decode(const stream_t *s, size_t split, uint64_t every, seen_t *sn)
{
	weft_frame_rx_t *rx;
	int rc;

	memset(sn, 0, sizeof(*sn));
	assert_int_equal(weft_frame_rx_new(key, every, &rx), 0);
	rc = pump(rx, s->b, split, sn);
	if (rc == 0)
		rc = pump(rx, s->b + split, s->len - split, sn);
	weft_frame_rx_free(rx);
	return rc;
}

static void
sample(stream_t *s, seen_t *want, uint64_t every)
{
	weft_frame_tx_t *tx;
	uint8_t body[3000];
	size_t i;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	memset(s, 0, sizeof(*s));
	assert_int_equal(weft_frame_tx_new(key, every, &tx), 0);
	seal(tx, s, body, 0);
	seal(tx, s, body, 1);
	seal(tx, s, body, 100);
	seal(tx, s, body, sizeof(body));
	seal_ctl(tx, s, WEFT_FRAME_CLOSE);
	weft_frame_tx_free(tx);
	assert_int_equal(decode(s, s->len, every, want), 0);
	assert_int_equal(want->nframes, 5);
	assert_true(want->closed);
}

static void
test_round_trip_every_split(void **state)
{
	stream_t s;
	seen_t want, got;
	size_t split;

	sample(&s, &want, 0);
	for (split = 0; split <= s.len; split++) {
		assert_int_equal(decode(&s, split, 0, &got), 0);
		assert_int_equal(got.nframes, want.nframes);
		assert_memory_equal(got.h, want.h, 32);
	}
	free(s.b);
}

/* One byte at a time: the decoder never takes more than it needs. */
static void
test_byte_at_a_time(void **state)
{
	weft_frame_rx_t *rx;
	stream_t s;
	seen_t want, got;
	size_t i;

	sample(&s, &want, 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(weft_frame_rx_new(key, 0, &rx), 0);
	for (i = 0; i < s.len; i++)
		assert_int_equal(pump(rx, s.b + i, 1, &got), 0);
	assert_int_equal(got.nframes, want.nframes);
	assert_memory_equal(got.h, want.h, 32);
	weft_frame_rx_free(rx);
	free(s.b);
}

static void
test_bit_flip(void **state)
{
	stream_t s;
	seen_t want, got;
	size_t bit;
	int rc;

	sample(&s, &want, 0);
	for (bit = 0; bit < s.len * 8; bit++) {
		s.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = decode(&s, s.len, 0, &got);
		s.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (rc >= 0)
			fail_msg("bit %zu accepted", bit);
		assert_int_equal(rc, WEFT_ESIG);
		assert_non_null(strstr(got.msg, "does not authenticate"));
	}
	free(s.b);
}

/* A sealed header claiming len bytes, as a peer holding the key would. */
static void
test_huge_length(void **state)
{
	weft_frame_rx_t *rx;
	weft_frame_tx_t *tx;
	uint8_t hdr[WEFT_FRAME_HDR], more[4096];
	weft_frame_t f;
	weft_err_t err = {0};
	size_t before;
	uint32_t lens[] = {0xffffffffu, WEFT_FRAME_MAX + 1};
	size_t k;

	memset(more, 0, sizeof(more));
	/* An authenticated 4 GiB (and cap + 1) claim. */
	for (k = 0; k < 2; k++) {
		assert_int_equal(weft_frame_rx_new(key, 0, &rx), 0);
		assert_int_equal(weft_frame_tx_new(key, 0, &tx), 0);
		weft_frame_forge_header(tx, WEFT_FRAME_DATA, lens[k], hdr);
		weft_frame_tx_free(tx);
		before = ALLOCATED();
		assert_int_equal(weft_frame_feed(rx, hdr, sizeof(hdr)),
				 WEFT_FRAME_HDR);
		assert_int_equal(weft_frame_next(rx, &f, &err), WEFT_ETOOBIG);
		assert_true(ALLOCATED() - before < 1024);
		assert_non_null(
		    strstr(err.msg, "exceeds the 1048576 byte cap"));
		/* Final: nothing more is taken. */
		assert_int_equal(weft_frame_feed(rx, more, sizeof(more)), 0);
		assert_int_equal(weft_frame_next(rx, &f, &err), WEFT_ETOOBIG);
		weft_frame_rx_free(rx);
	}
	/* An unauthenticated one: refused on the header's tag. */
	assert_int_equal(weft_frame_rx_new(key, 0, &rx), 0);
	memset(hdr, 0xff, sizeof(hdr));
	before = ALLOCATED();
	assert_int_equal(weft_frame_feed(rx, hdr, sizeof(hdr)), WEFT_FRAME_HDR);
	assert_int_equal(weft_frame_next(rx, &f, &err), WEFT_ESIG);
	assert_true(ALLOCATED() - before < 1024);
	weft_frame_rx_free(rx);
}

static void
test_cap(void **state)
{
	weft_frame_tx_t *tx;
	weft_frame_rx_t *rx;
	uint8_t *big = calloc(1, WEFT_FRAME_MAX + 1);
	uint8_t *out = malloc(weft_frame_sealed_len(WEFT_FRAME_MAX + 1));
	size_t ol;
	weft_err_t err = {0};
	stream_t s = {0};
	seen_t got = {0};

	assert_non_null(big);
	assert_non_null(out);
	assert_int_equal(weft_frame_tx_new(key, 0, &tx), 0);
	assert_int_equal(
	    weft_frame_seal(tx, big, WEFT_FRAME_MAX + 1, out,
			    weft_frame_sealed_len(WEFT_FRAME_MAX + 1), &ol,
			    &err),
	    WEFT_ETOOBIG);
	assert_int_equal(weft_frame_seal(tx, big, 10, out, 20, &ol, &err),
			 WEFT_EINVAL);
	/* Exactly the cap goes through. */
	seal(tx, &s, big, WEFT_FRAME_MAX);
	assert_int_equal(weft_frame_rx_new(key, 0, &rx), 0);
	assert_int_equal(pump(rx, s.b, s.len, &got), 0);
	assert_int_equal(got.nframes, 1);
	weft_frame_rx_free(rx);
	weft_frame_tx_free(tx);
	free(s.b);
	free(big);
	free(out);
}

static void
test_rekey(void **state)
{
	weft_frame_tx_t *tx, *plain;
	stream_t s = {0}, p = {0};
	seen_t got;
	uint8_t body[64] = {1, 2, 3};
	int i;

	assert_int_equal(weft_frame_tx_new(key, 3, &tx), 0);
	assert_int_equal(weft_frame_tx_new(key, 1000, &plain), 0);
	for (i = 0; i < 10; i++) {
		seal(tx, &s, body, sizeof(body));
		seal(plain, &p, body, sizeof(body));
		if (i == 4)
			seal_ctl(tx, &s, WEFT_FRAME_REKEY);
	}
	/* Same counter, different keys after the first rekey. */
	assert_memory_equal(s.b, p.b, 3 * weft_frame_sealed_len(64));
	assert_memory_not_equal(s.b + 3 * weft_frame_sealed_len(64),
				p.b + 3 * weft_frame_sealed_len(64),
				weft_frame_sealed_len(64));
	assert_int_equal(weft_frame_tx_count(tx), 11);
	/* Both sides stay in step at every split. */
	for (i = 0; i <= (int)s.len; i += 17) {
		assert_int_equal(decode(&s, (size_t)i, 3, &got), 0);
		assert_int_equal(got.nframes, 10);
	}
	/* A receiver that does not rekey in step fails. */
	assert_int_equal(decode(&s, s.len, 1000, &got), WEFT_ESIG);
	assert_int_equal(got.nframes, 3);
	weft_frame_tx_free(tx);
	weft_frame_tx_free(plain);
	free(s.b);
	free(p.b);
}

static void
test_reorder_replay_drop(void **state)
{
	weft_frame_tx_t *tx;
	stream_t s = {0}, t = {0};
	seen_t got;
	uint8_t a[10] = "aaaaaaaaa", b[10] = "bbbbbbbbb";
	size_t fl = weft_frame_sealed_len(10);

	assert_int_equal(weft_frame_tx_new(key, 0, &tx), 0);
	seal(tx, &s, a, 10);
	seal(tx, &s, b, 10);
	weft_frame_tx_free(tx);

	/* Reordered: frame 1 first. */
	put(&t, s.b + fl, fl);
	put(&t, s.b, fl);
	assert_int_equal(decode(&t, t.len, 0, &got), WEFT_ESIG);
	assert_int_equal(got.nframes, 0);
	free(t.b);
	memset(&t, 0, sizeof(t));
	/* Replayed: frame 0 twice. */
	put(&t, s.b, fl);
	put(&t, s.b, fl);
	assert_int_equal(decode(&t, t.len, 0, &got), WEFT_ESIG);
	assert_int_equal(got.nframes, 1);
	free(t.b);
	memset(&t, 0, sizeof(t));
	/* Body of frame 1 behind the header of frame 0. */
	put(&t, s.b, WEFT_FRAME_HDR);
	put(&t, s.b + fl + WEFT_FRAME_HDR, fl - WEFT_FRAME_HDR);
	assert_int_equal(decode(&t, t.len, 0, &got), WEFT_ESIG);
	free(t.b);
	/* Dropped: frame 1 alone. */
	memset(&t, 0, sizeof(t));
	put(&t, s.b + fl, fl);
	assert_int_equal(decode(&t, t.len, 0, &got), WEFT_ESIG);
	free(t.b);
	free(s.b);
}

static void
test_close(void **state)
{
	weft_frame_tx_t *tx;
	weft_frame_rx_t *rx;
	stream_t s = {0};
	seen_t got = {0};
	uint8_t out[64], x = 'x';
	size_t ol;
	weft_err_t err = {0};
	weft_frame_t f;

	assert_int_equal(weft_frame_tx_new(key, 0, &tx), 0);
	seal(tx, &s, &x, 1);
	seal_ctl(tx, &s, WEFT_FRAME_CLOSE);
	assert_int_equal(
	    weft_frame_seal(tx, &x, 1, out, sizeof(out), &ol, &err),
	    WEFT_EINVAL);
	assert_non_null(strstr(err.msg, "after close"));
	assert_int_equal(weft_frame_rx_new(key, 0, &rx), 0);
	assert_int_equal(pump(rx, s.b, s.len, &got), 0);
	assert_int_equal(got.nframes, 2);
	assert_true(got.closed);
	/* Nothing is accepted after close. */
	assert_int_equal(weft_frame_feed(rx, s.b, 5), 0);
	assert_int_equal(weft_frame_next(rx, &f, &err), WEFT_EPARSE);
	assert_non_null(strstr(err.msg, "data after close"));
	weft_frame_rx_free(rx);

	/* A stream cut before the close never reports it. */
	assert_int_equal(weft_frame_rx_new(key, 0, &rx), 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(pump(rx, s.b, s.len - 1, &got), 0);
	assert_false(got.closed);
	weft_frame_rx_free(rx);
	weft_frame_tx_free(tx);
	free(s.b);
}

/* A key from another session (or the other direction) fails at once. */
static void
test_wrong_key(void **state)
{
	stream_t s;
	seen_t want, got;
	weft_frame_rx_t *rx;
	uint8_t other[32];

	sample(&s, &want, 0);
	memcpy(other, key, 32);
	other[0] ^= 1;
	memset(&got, 0, sizeof(got));
	assert_int_equal(weft_frame_rx_new(other, 0, &rx), 0);
	assert_int_equal(pump(rx, s.b, s.len, &got), WEFT_ESIG);
	assert_int_equal(got.nframes, 0);
	weft_frame_rx_free(rx);
	weft_frame_tx_free(NULL);
	weft_frame_rx_free(NULL);
	free(s.b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_every_split),
	    cmocka_unit_test(test_byte_at_a_time),
	    cmocka_unit_test(test_bit_flip),
	    cmocka_unit_test(test_huge_length),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_rekey),
	    cmocka_unit_test(test_reorder_replay_drop),
	    cmocka_unit_test(test_close),
	    cmocka_unit_test(test_wrong_key),
	};

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof(key));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
