/*
 * test_session.c: cmocka tests for node/session: two cores wired through
 * memory with a virtual clock: handshake then Hello, application messages
 * both ways at every split, keepalive pings and RTT, the idle timeout,
 * the handshake deadline, backpressure and the stall timeout, a clean
 * close, a flipped bit in a frame, and the wire-message decoder's limits.
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
#include "node/session.h"
#include "node/wire.h"

#define T0 1700000000

typedef struct fx {
	weft_keypair_t *org, *na, *nb;
	weft_pubkey_t root;
	weft_trust_t trust;
	uint8_t *ca, *cb;
	size_t la, lb;
	uint8_t nk[32];
	weft_sess_t *i, *r; /* initiator (a), responder (b) */
	uint64_t now;
} fx_t;

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(weft_key_generate(WEFT_KEY_ORG, "acme", &f->org, NULL),
			 0);
	assert_int_equal(weft_key_generate(WEFT_KEY_NODE, "a", &f->na, NULL),
			 0);
	assert_int_equal(weft_key_generate(WEFT_KEY_NODE, "b", &f->nb, NULL),
			 0);
	assert_int_equal(weft_cert_issue(f->org, "a", f->na->pk, NULL, 0,
					 T0 - 100, T0 + 100000, 1, &f->ca,
					 &f->la, NULL),
			 0);
	assert_int_equal(weft_cert_issue(f->org, "b", f->nb->pk, NULL, 0,
					 T0 - 100, T0 + 100000, 2, &f->cb,
					 &f->lb, NULL),
			 0);
	f->root.kind = WEFT_KEY_ORG;
	snprintf(f->root.name, sizeof(f->root.name), "acme");
	memcpy(f->root.pk, f->org->pk, WEFT_PK_BYTES);
	f->trust.roots = &f->root;
	f->trust.n = 1;
	memset(f->nk, 7, sizeof(f->nk));
	f->now = 1000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx_t *f = *state;

	weft_sess_free(f->i);
	weft_sess_free(f->r);
	weft_key_free(f->org);
	weft_key_free(f->na);
	weft_key_free(f->nb);
	free(f->ca);
	free(f->cb);
	free(f);
	return 0;
}

static weft_sess_t *
mk(fx_t *f, weft_hs_role_t role, size_t max_queue)
{
	weft_sess_cfg_t c = {0};
	weft_sess_t *s = NULL;
	uint8_t seed[WEFT_HS_SEED_BYTES];

	c.role = role;
	c.me = role == WEFT_HS_INITIATOR ? f->na : f->nb;
	c.cert = role == WEFT_HS_INITIATOR ? f->ca : f->cb;
	c.cert_len = role == WEFT_HS_INITIATOR ? f->la : f->lb;
	c.network_key = f->nk;
	c.trust = &f->trust;
	c.listen_addr = role == WEFT_HS_INITIATOR ? "127.0.0.1:1" : "";
	c.version = "test";
	c.hs_timeout_ms = 5000;
	c.keepalive_ms = 1000;
	c.idle_ms = 3000;
	c.stall_ms = 2000;
	c.max_queue = max_queue;
	randombytes_buf(seed, sizeof(seed));
	assert_int_equal(weft_sess_new(&s, &c, f->now, T0, seed, NULL), 0);
	return s;
}

/* Move all queued output of `from` into `to`, split into pieces of at most
 * `split` bytes. Returns the last event; application messages are
 * counted into *nmsg (and their bulk bytes into *nbytes). */
static int
pump(fx_t *f, weft_sess_t *from, weft_sess_t *to, size_t split, int *nmsg,
     size_t *nbytes)
{
	weft_sess_buf_t b;
	Weft__WireMessage *m;
	int last = WEFT_SESS_NONE, rc;

	while (weft_sess_take(from, &b)) {
		size_t off = 0;

		while (off < b.len) {
			size_t n = b.len - off, used;

			if (n > split)
				n = split;
			while (n > 0) {
				rc = weft_sess_input(to, f->now, b.data + off,
						     n, &used, &m, NULL);
				if (rc < 0) {
					weft_sess_written(from, f->now, b.len);
					free(b.data);
					return rc;
				}
				if (rc == WEFT_SESS_MSG) {
					(*nmsg)++;
					if (m->msg_case ==
					    WEFT__WIRE_MESSAGE__MSG_BULK)
						*nbytes += m->bulk->data.len;
				}
				if (rc != WEFT_SESS_NONE)
					last = rc;
				off += used;
				n -= used;
			}
		}
		weft_sess_written(from, f->now, b.len);
		free(b.data);
	}
	return last;
}

static void
connect_pair(fx_t *f, size_t split)
{
	int n = 0;
	size_t b = 0;

	f->i = mk(f, WEFT_HS_INITIATOR, 0);
	f->r = mk(f, WEFT_HS_RESPONDER, 0);
	assert_int_equal(pump(f, f->i, f->r, split, &n, &b), WEFT_SESS_NONE);
	/* message 2: the initiator is done but not yet confirmed */
	assert_int_equal(pump(f, f->r, f->i, split, &n, &b), WEFT_SESS_NONE);
	assert_true(weft_sess_is_up(f->i));
	/* message 3 and i's Hello: r is up */
	assert_int_equal(pump(f, f->i, f->r, split, &n, &b), WEFT_SESS_UP);
	/* r's Hello confirms it to i */
	assert_int_equal(pump(f, f->r, f->i, split, &n, &b), WEFT_SESS_UP);
	assert_int_equal(n, 0); /* Hellos are handled inside */
	assert_true(weft_sess_is_up(f->i));
	assert_true(weft_sess_is_up(f->r));
	assert_string_equal(weft_sess_peer(f->i)->subject_name, "b");
	assert_string_equal(weft_sess_peer(f->r)->subject_name, "a");
	assert_string_equal(weft_sess_peer_listen(f->r), "127.0.0.1:1");
}

static int
send_bulk(fx_t *f, weft_sess_t *s, size_t len)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__Bulk b = WEFT__BULK__INIT;
	uint8_t *data = calloc(1, len ? len : 1);
	int rc;

	assert_non_null(data);
	b.data.data = data;
	b.data.len = len;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_BULK;
	m.bulk = &b;
	rc = weft_sess_send(s, f->now, &m, NULL);
	free(data);
	return rc;
}

static void
test_handshake_and_messages(void **state)
{
	fx_t *f = *state;
	size_t splits[] = {1, 7, 72, 100000}, k, nbytes = 0;
	int nmsg = 0;

	for (k = 0; k < sizeof(splits) / sizeof(splits[0]); k++) {
		connect_pair(f, splits[k]);
		nmsg = 0;
		nbytes = 0;
		assert_int_equal(send_bulk(f, f->i, 100), 0);
		assert_int_equal(send_bulk(f, f->i, 70000), 0);
		assert_int_equal(send_bulk(f, f->r, 0), 0);
		assert_int_equal(pump(f, f->i, f->r, splits[k], &nmsg, &nbytes),
				 WEFT_SESS_MSG);
		assert_int_equal(pump(f, f->r, f->i, splits[k], &nmsg, &nbytes),
				 WEFT_SESS_MSG);
		assert_int_equal(nmsg, 3);
		assert_int_equal(nbytes, 70100);
		weft_sess_free(f->i);
		weft_sess_free(f->r);
		f->i = f->r = NULL;
	}
}

static void
test_keepalive_and_idle(void **state)
{
	fx_t *f = *state;
	weft_sess_stats_t st;
	weft_err_t err = {0};
	int n = 0;
	size_t b = 0;

	connect_pair(f, 4096);
	assert_int_equal(weft_sess_next_timer(f->i), f->now + 1000);
	f->now += 1000;
	assert_int_equal(weft_sess_tick(f->i, f->now, NULL), 0);
	f->now += 5;
	pump(f, f->i, f->r, 4096, &n, &b); /* the ping */
	pump(f, f->r, f->i, 4096, &n, &b); /* the pong */
	assert_int_equal(n, 0);
	weft_sess_stats(f->i, &st);
	assert_int_equal(st.rtt_ms, 5);
	/* Nothing more from r: i fails at last_rx + idle. */
	f->now += 3000;
	assert_int_equal(weft_sess_tick(f->i, f->now, &err), WEFT_EEXPIRED);
	assert_int_equal(weft_sess_failure(f->i), WEFT_SESS_FAIL_TIMEOUT);
	assert_non_null(strstr(err.msg, "nothing received"));
	assert_false(weft_sess_is_up(f->i));
	assert_true(send_bulk(f, f->i, 1) < 0);
}

static void
test_handshake_deadline(void **state)
{
	fx_t *f = *state;
	weft_err_t err = {0};

	f->r = mk(f, WEFT_HS_RESPONDER, 0);
	assert_int_equal(weft_sess_next_timer(f->r), f->now + 5000);
	assert_int_equal(weft_sess_tick(f->r, f->now + 4999, NULL), 0);
	assert_int_equal(weft_sess_tick(f->r, f->now + 5000, &err),
			 WEFT_EEXPIRED);
	assert_int_equal(weft_sess_failure(f->r), WEFT_SESS_FAIL_TIMEOUT);
	assert_non_null(strstr(err.msg, "deadline"));
}

static void
test_backpressure_and_stall(void **state)
{
	fx_t *f = *state;
	weft_err_t err = {0};
	int n = 0, sent = 0;
	size_t b = 0;

	f->i = mk(f, WEFT_HS_INITIATOR, 100000);
	f->r = mk(f, WEFT_HS_RESPONDER, 0);
	pump(f, f->i, f->r, 1 << 20, &n, &b);
	pump(f, f->r, f->i, 1 << 20, &n, &b);
	pump(f, f->i, f->r, 1 << 20, &n, &b);
	pump(f, f->r, f->i, 1 << 20, &n, &b);
	/* Nobody takes i's output: sends succeed until the cap, then
	 * WEFT_EAGAIN with nothing queued; reading pauses. */
	while (send_bulk(f, f->i, 30000) == 0)
		sent++;
	assert_int_equal(sent, 4);
	assert_int_equal(send_bulk(f, f->i, 30000), WEFT_EAGAIN);
	assert_true(weft_sess_queued(f->i) <= 100000 + 30100);
	assert_false(weft_sess_want_read(f->i));
	/* Draining resumes reading... */
	b = 0;
	pump(f, f->i, f->r, 1 << 20, &n, &b);
	assert_int_equal(b, 4 * 30000);
	assert_true(weft_sess_want_read(f->i));
	/* ...but a queue that never moves fails the session at stall_ms. */
	while (send_bulk(f, f->i, 30000) == 0)
		;
	{
		weft_sess_buf_t buf;

		assert_int_equal(weft_sess_take(f->i, &buf), 1);
		free(buf.data); /* taken, never reported written */
	}
	f->now += 1500; /* the peer keeps sending, so no idle timeout */
	assert_int_equal(send_bulk(f, f->r, 0), 0);
	pump(f, f->r, f->i, 1 << 20, &n, &b);
	assert_true(weft_sess_next_timer(f->i) <= f->now + 500);
	f->now += 500;
	assert_int_equal(weft_sess_tick(f->i, f->now, &err), WEFT_EAGAIN);
	assert_int_equal(weft_sess_failure(f->i), WEFT_SESS_FAIL_STALL);
	assert_non_null(strstr(err.msg, "read none"));
}

static void
test_close(void **state)
{
	fx_t *f = *state;
	int n = 0;
	size_t b = 0;

	connect_pair(f, 4096);
	assert_int_equal(send_bulk(f, f->i, 10), 0);
	weft_sess_close(f->i, "shutting down");
	assert_true(send_bulk(f, f->i, 10) < 0);
	assert_int_equal(pump(f, f->i, f->r, 4096, &n, &b), WEFT_SESS_CLOSED);
	assert_int_equal(n, 1); /* the bulk before the Goodbye */
	assert_false(weft_sess_want_read(f->r));
	/* r answered with its own CLOSE. */
	assert_int_equal(pump(f, f->r, f->i, 4096, &n, &b), WEFT_SESS_CLOSED);
}

static void
test_flipped_bit(void **state)
{
	fx_t *f = *state;
	weft_sess_buf_t buf;
	Weft__WireMessage *m;
	weft_err_t err = {0};
	size_t used;

	connect_pair(f, 4096);
	assert_int_equal(send_bulk(f, f->i, 50), 0);
	assert_int_equal(weft_sess_take(f->i, &buf), 1);
	buf.data[buf.len - 20] ^= 0x10;
	assert_int_equal(
	    weft_sess_input(f->r, f->now, buf.data, buf.len, &used, &m, &err),
	    WEFT_ESIG);
	assert_int_equal(weft_sess_failure(f->r), WEFT_SESS_FAIL_FRAME);
	assert_false(weft_sess_want_read(f->r));
	/* Failure is final. */
	assert_true(
	    weft_sess_input(f->r, f->now, buf.data, 1, &used, &m, NULL) < 0);
	free(buf.data);
}

static void
test_wire_decode(void **state)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT, *out;
	Weft__Hello h = WEFT__HELLO__INIT;
	Weft__Ping p = WEFT__PING__INIT;
	uint8_t buf[80000], *big;
	size_t n;
	weft_err_t err = {0};

	(void)state;
	/* An envelope with nothing set. */
	n = weft__wire_message__pack(&m, buf);
	assert_int_equal(weft_wire_decode(buf, n, &out, &err), WEFT_EPARSE);
	assert_null(out);
	/* A Hello with a control character in it. */
	h.listen_addr = "1.2.3.4:5\x1b[2J";
	h.version = "x";
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_HELLO;
	m.hello = &h;
	n = weft__wire_message__pack(&m, buf);
	assert_int_equal(weft_wire_decode(buf, n, &out, &err), WEFT_EPARSE);
	assert_non_null(strstr(err.msg, "unprintable"));
	h.listen_addr = "1.2.3.4:5";
	n = weft__wire_message__pack(&m, buf);
	assert_int_equal(weft_wire_decode(buf, n, &out, &err), 0);
	assert_string_equal(out->hello->listen_addr, "1.2.3.4:5");
	weft__wire_message__free_unpacked(out, NULL);
	/* A Ping whose echo payload is over 64 KiB. */
	big = calloc(1, 70000);
	assert_non_null(big);
	p.payload.data = big;
	p.payload.len = 70000;
	p.echo = 1;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_PING;
	m.ping = &p;
	n = weft__wire_message__pack(&m, buf);
	assert_int_equal(weft_wire_decode(buf, n, &out, &err), WEFT_EPARSE);
	free(big);
	/* Plumtree announcements: a version per 16-byte key, or refused. */
	{
		Weft__GossipIHave ih = WEFT__GOSSIP_IHAVE__INIT;
		Weft__GossipGraft gr = WEFT__GOSSIP_GRAFT__INIT;
		ProtobufCBinaryData keys[2];
		uint8_t k16[16] = {1}, k15[15] = {2};
		uint64_t versions[2] = {7, 8};

		keys[0].data = k16;
		keys[0].len = 16;
		keys[1].data = k16;
		keys[1].len = 16;
		ih.keys = keys;
		ih.n_keys = 2;
		ih.versions = versions;
		ih.n_versions = 2;
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_IHAVE;
		m.ihave = &ih;
		n = weft__wire_message__pack(&m, buf);
		assert_int_equal(weft_wire_decode(buf, n, &out, &err), 0);
		assert_int_equal(out->ihave->versions[1], 8);
		weft__wire_message__free_unpacked(out, NULL);
		ih.n_versions = 1; /* a key without its version */
		n = weft__wire_message__pack(&m, buf);
		assert_int_equal(weft_wire_decode(buf, n, &out, &err),
				 WEFT_EPARSE);
		ih.n_versions = 2;
		keys[1].data = k15; /* a short key */
		keys[1].len = 15;
		n = weft__wire_message__pack(&m, buf);
		assert_int_equal(weft_wire_decode(buf, n, &out, &err),
				 WEFT_EPARSE);
		gr.keys = keys;
		gr.n_keys = 2;
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_GRAFT;
		m.graft = &gr;
		n = weft__wire_message__pack(&m, buf);
		assert_int_equal(weft_wire_decode(buf, n, &out, &err),
				 WEFT_EPARSE);
		gr.n_keys = 1;
		n = weft__wire_message__pack(&m, buf);
		assert_int_equal(weft_wire_decode(buf, n, &out, &err), 0);
		weft__wire_message__free_unpacked(out, NULL);
	}
	/* Garbage. */
	memset(buf, 0xff, 64);
	assert_int_equal(weft_wire_decode(buf, 64, &out, &err), WEFT_EPARSE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_handshake_and_messages, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_keepalive_and_idle, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_handshake_deadline, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_backpressure_and_stall, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flipped_bit, setup, teardown),
	    cmocka_unit_test(test_wire_decode),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
