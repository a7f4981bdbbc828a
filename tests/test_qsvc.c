/*
 * test_qsvc.c: the query service core (node/qsvc.h), sans-IO: messages
 * it sends are captured, peers' messages built by hand, outputs polled.
 *
 * Asker: an open sends the fragment with the initial credit; batches come
 * out as QBATCH up to the credit granted, one more ends the query (the
 * owner is cancelled); credit and cancel go to the owner; an end comes out
 * once and nothing after it. Owner: an open becomes a QRUN; batches and
 * the end go back under the asker's id; credit and cancel come out as
 * QCREDIT and QSTOP. Caps: fragments served in all and per asking node
 * (beyond them a "busy" end at once, nothing queued), fragments asked.
 * A session gone ends its asks and stops its jobs. An owner's error goes
 * out as a QueryEnd a peer accepts, whatever the engine wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/qsvc.h"
#include "node/wire.h"

#define SENT_MAX 2048

typedef struct fx {
	weft_qsvc_t *q;
	struct {
		uint64_t peer;
		Weft__WireMessage *m;
	} sent[SENT_MAX];
	size_t nsent;
	uint8_t pk[4][WEFT_PK_BYTES]; /* peers 1..3 use pk[1..3] */
} fx_t;

static void
capture(void *arg, uint64_t peer, Weft__WireMessage *m)
{
	fx_t *f = arg;

	assert_true(f->nsent < SENT_MAX);
	f->sent[f->nsent].peer = peer;
	f->sent[f->nsent++].m = m;
}

static void
sent_clear(fx_t *f)
{
	size_t i;

	for (i = 0; i < f->nsent; i++)
		weft_qsvc_msg_free(f->sent[i].m);
	f->nsent = 0;
}

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	int i;

	assert_non_null(f);
	assert_int_equal(weft_qsvc_new(&f->q, capture, f), 0);
	for (i = 1; i < 4; i++) {
		memset(f->pk[i], 0x10 * i, WEFT_PK_BYTES);
		weft_qsvc_peer_up(f->q, (uint64_t)i, f->pk[i],
				  i == 2 ? "globex" : "acme");
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx_t *f = *state;
	weft_out_t o;

	sent_clear(f);
	while (weft_qsvc_poll(f->q, &o))
		free(o.env);
	weft_qsvc_free(f->q);
	free(f);
	return 0;
}

/* The one output there is: of kind and qid. */
static weft_out_t
out1(fx_t *f, weft_out_kind_t kind, uint64_t qid)
{
	weft_out_t o;

	assert_true(weft_qsvc_poll(f->q, &o));
	assert_int_equal(o.kind, kind);
	assert_int_equal(o.qid, qid);
	return o;
}

static void
no_output(fx_t *f)
{
	weft_out_t o;

	if (weft_qsvc_poll(f->q, &o)) {
		free(o.env);
		fail_msg("an output of kind %d for %llu", (int)o.kind,
			 (unsigned long long)o.qid);
	}
}

/* The only message sent since the last clear: of case c, to peer. It
 * also encodes into bytes weft_wire_decode accepts. */
static Weft__WireMessage *
sent1(fx_t *f, Weft__WireMessage__MsgCase c, uint64_t peer)
{
	Weft__WireMessage *back = NULL;
	weft_err_t err = {0};
	uint8_t *buf;
	size_t len;

	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->sent[0].peer, peer);
	assert_int_equal(f->sent[0].m->msg_case, c);
	len = weft__wire_message__get_packed_size(f->sent[0].m);
	buf = malloc(len + 1);
	assert_non_null(buf);
	weft__wire_message__pack(f->sent[0].m, buf);
	if (weft_wire_decode(buf, len, &back, &err) != 0)
		fail_msg("a peer refuses what was sent: %s", err.msg);
	weft__wire_message__free_unpacked(back, NULL);
	free(buf);
	return f->sent[0].m;
}

/* ---- a peer's messages ---- */

static void
recv_open(fx_t *f, uint64_t peer, uint64_t qid, uint32_t credit)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__QueryOpen o = WEFT__QUERY_OPEN__INIT;
	static uint8_t frag[3] = {1, 2, 3};

	o.qid = qid;
	o.product = "sales.orders";
	o.version = 7;
	o.fragment.data = frag;
	o.fragment.len = sizeof(frag);
	o.credit = credit;
	o.timeout_ms = 5000;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_QOPEN;
	m.qopen = &o;
	assert_int_equal(weft_qsvc_recv(f->q, peer, &m, NULL), 0);
}

static int
recv_batch(fx_t *f, uint64_t peer, uint64_t qid)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__QueryBatch b = WEFT__QUERY_BATCH__INIT;
	static uint8_t data[2] = {0x08, 0x01};

	b.qid = qid;
	b.batch.data = data;
	b.batch.len = sizeof(data);
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_QBATCH;
	m.qbatch = &b;
	return weft_qsvc_recv(f->q, peer, &m, NULL);
}

static void
recv_end(fx_t *f, uint64_t peer, uint64_t qid, const char *error)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__QueryEnd e = WEFT__QUERY_END__INIT;

	e.qid = qid;
	e.error = (char *)error;
	e.rows = 42;
	e.version = 7;
	e.policy =
	    (char *)(error[0] ? "" : "policy version 2, grant at line 3");
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_QEND;
	m.qend = &e;
	assert_int_equal(weft_qsvc_recv(f->q, peer, &m, NULL), 0);
}

static void
recv_credit(fx_t *f, uint64_t peer, uint64_t qid, uint32_t n)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__QueryCredit c = WEFT__QUERY_CREDIT__INIT;

	c.qid = qid;
	c.credit = n;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_QCREDIT;
	m.qcredit = &c;
	assert_int_equal(weft_qsvc_recv(f->q, peer, &m, NULL), 0);
}

static void
recv_cancel(fx_t *f, uint64_t peer, uint64_t qid)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__QueryCancel c = WEFT__QUERY_CANCEL__INIT;

	c.qid = qid;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_QCANCEL;
	m.qcancel = &c;
	assert_int_equal(weft_qsvc_recv(f->q, peer, &m, NULL), 0);
}

static uint64_t
ask(fx_t *f, int peer)
{
	static const uint8_t frag[4] = {9, 8, 7, 6};
	weft_err_t err = {0};
	uint64_t qid = 0;

	if (weft_qsvc_open(f->q, f->pk[peer], "sales.orders", 7, frag,
			   sizeof(frag), 3000, &qid, &err) != 0)
		fail_msg("open: %s", err.msg);
	assert_int_not_equal(qid, 0);
	return qid;
}

/* The QRUN output an open from peer made: its job id. */
static uint64_t
run1(fx_t *f, uint64_t peer)
{
	weft_out_t o;

	assert_true(weft_qsvc_poll(f->q, &o));
	assert_int_equal(o.kind, WEFT_OUT_QRUN);
	assert_int_equal(o.peer, peer);
	free(o.env);
	return o.qid;
}

/* ---- asker ---- */

static void
test_ask_flow(void **state)
{
	fx_t *f = *state;
	Weft__WireMessage *m;
	weft_qsvc_stats_t st;
	weft_out_t o;
	uint64_t qid;
	int i;

	qid = ask(f, 1);
	m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QOPEN, 1);
	assert_int_equal(m->qopen->qid, qid);
	assert_string_equal(m->qopen->product, "sales.orders");
	assert_int_equal(m->qopen->version, 7);
	assert_int_equal(m->qopen->credit, WEFT_QSVC_CREDIT);
	assert_int_equal(m->qopen->timeout_ms, 3000);
	assert_int_equal(m->qopen->fragment.len, 4);
	assert_int_equal(m->qopen->fragment.data[3], 6);
	sent_clear(f);
	no_output(f);
	/* the initial credit's batches come out */
	for (i = 0; i < WEFT_QSVC_CREDIT; i++) {
		assert_int_equal(recv_batch(f, 1, qid), 0);
		o = out1(f, WEFT_OUT_QBATCH, qid);
		assert_int_equal(o.env_len, 2);
		assert_int_equal(o.env[0], 0x08);
		free(o.env);
	}
	/* the driver consumed two: the owner may send two more */
	weft_qsvc_credit(f->q, qid, 2);
	m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QCREDIT, 1);
	assert_int_equal(m->qcredit->qid, qid);
	assert_int_equal(m->qcredit->credit, 2);
	sent_clear(f);
	weft_qsvc_credit(f->q, qid, 0); /* nothing to say */
	assert_int_equal(f->nsent, 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(recv_batch(f, 1, qid), 0);
		free(out1(f, WEFT_OUT_QBATCH, qid).env);
	}
	/* a batch of ours from another session is not ours */
	assert_int_equal(recv_batch(f, 3, qid), 0);
	no_output(f);
	recv_end(f, 1, qid, "");
	o = out1(f, WEFT_OUT_QEND, qid);
	assert_string_equal(o.text, "");
	assert_string_equal(o.addr, "policy version 2, grant at line 3");
	assert_int_equal(o.rows, 42);
	assert_int_equal(o.version, 7);
	/* after the end: nothing */
	assert_int_equal(recv_batch(f, 1, qid), 0);
	recv_end(f, 1, qid, "late");
	no_output(f);
	weft_qsvc_stats(f->q, &st);
	assert_int_equal(st.asked, 1);
	assert_int_equal(st.asked_failed, 0);
	assert_int_equal(st.batches_in, WEFT_QSVC_CREDIT + 2);
	assert_int_equal(st.bytes_in, 2 * (WEFT_QSVC_CREDIT + 2));
	assert_int_equal(st.waiting, 0);
}

/* An owner that sends beyond its credit is cancelled and the query ends
 * with an error; an owner's error ends it too. */
static void
test_ask_beyond_credit(void **state)
{
	fx_t *f = *state;
	Weft__WireMessage *m;
	weft_err_t err = {0};
	weft_qsvc_stats_t st;
	weft_out_t o;
	uint64_t qid, q2;
	int i;

	qid = ask(f, 2);
	sent_clear(f);
	for (i = 0; i < WEFT_QSVC_CREDIT; i++) {
		assert_int_equal(recv_batch(f, 2, qid), 0);
		free(out1(f, WEFT_OUT_QBATCH, qid).env);
	}
	/* one more, empty: beyond the credit */
	{
		Weft__WireMessage w = WEFT__WIRE_MESSAGE__INIT;
		Weft__QueryBatch b = WEFT__QUERY_BATCH__INIT;

		b.qid = qid;
		w.msg_case = WEFT__WIRE_MESSAGE__MSG_QBATCH;
		w.qbatch = &b;
		assert_int_equal(weft_qsvc_recv(f->q, 2, &w, &err),
				 WEFT_EINVAL);
		assert_non_null(strstr(err.msg, "beyond the credit"));
	}
	m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QCANCEL, 2);
	assert_int_equal(m->qcancel->qid, qid);
	sent_clear(f);
	o = out1(f, WEFT_OUT_QEND, qid);
	assert_non_null(strstr(o.text, "sent more than it was allowed"));
	no_output(f);
	assert_int_equal(recv_batch(f, 2, qid), 0);
	no_output(f);

	q2 = ask(f, 2);
	sent_clear(f);
	recv_end(f, 2, q2, "division by zero");
	o = out1(f, WEFT_OUT_QEND, q2);
	assert_string_equal(o.text, "division by zero");
	weft_qsvc_stats(f->q, &st);
	assert_int_equal(st.asked, 2);
	assert_int_equal(st.asked_failed, 2);
}

/* A cancelled ask says so to the owner and hears nothing more. */
static void
test_ask_cancel(void **state)
{
	fx_t *f = *state;
	Weft__WireMessage *m;
	weft_err_t err = {0};
	uint64_t qid, qid2 = 1;
	uint8_t stranger[WEFT_PK_BYTES];

	qid = ask(f, 3);
	sent_clear(f);
	weft_qsvc_cancel(f->q, qid);
	m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QCANCEL, 3);
	assert_int_equal(m->qcancel->qid, qid);
	sent_clear(f);
	assert_int_equal(recv_batch(f, 3, qid), 0);
	recv_end(f, 3, qid, "");
	no_output(f);
	weft_qsvc_cancel(f->q, qid); /* twice: nothing */
	weft_qsvc_credit(f->q, qid, 3);
	assert_int_equal(f->nsent, 0);
	/* a node without a session */
	memset(stranger, 0x77, sizeof(stranger));
	assert_int_equal(weft_qsvc_open(f->q, stranger, "a.b", 0,
					(const uint8_t *)"x", 1, 0, &qid2,
					&err),
			 WEFT_ENOTFOUND);
	assert_int_equal(qid2, 0);
	assert_non_null(strstr(err.msg, "no session"));
	assert_int_equal(f->nsent, 0);
}

/* At most WEFT_QSVC_ASK_MAX fragments asked at once. */
static void
test_ask_cap(void **state)
{
	fx_t *f = *state;
	weft_err_t err = {0};
	uint64_t qid, first = 0;
	int i;

	for (i = 0; i < WEFT_QSVC_ASK_MAX; i++) {
		qid = ask(f, 1 + i % 3);
		if (i == 0)
			first = qid;
	}
	sent_clear(f);
	assert_int_equal(weft_qsvc_open(f->q, f->pk[1], "a.b", 0,
					(const uint8_t *)"x", 1, 0, &qid, &err),
			 WEFT_EAGAIN);
	assert_non_null(strstr(err.msg, "busy"));
	assert_int_equal(f->nsent, 0);
	weft_qsvc_cancel(f->q, first);
	sent_clear(f);
	ask(f, 1);
	sent_clear(f);
}

/* ---- owner ---- */

static void
test_serve_flow(void **state)
{
	fx_t *f = *state;
	Weft__WireMessage *m;
	weft_qsvc_stats_t st;
	weft_out_t o;
	uint64_t job;

	recv_open(f, 2, 500, 6);
	assert_int_equal(f->nsent, 0);
	assert_true(weft_qsvc_poll(f->q, &o));
	assert_int_equal(o.kind, WEFT_OUT_QRUN);
	job = o.qid;
	assert_int_equal(o.peer, 2);
	assert_string_equal(o.text, "sales.orders");
	assert_int_equal(o.version, 7);
	assert_int_equal(o.n, 6);
	assert_int_equal(o.timeout_ms, 5000);
	assert_string_equal(o.org, "globex");
	assert_memory_equal(o.pk, f->pk[2], WEFT_PK_BYTES);
	assert_int_equal(o.env_len, 3);
	assert_int_equal(o.env[2], 3);
	free(o.env);
	no_output(f);
	/* batches go back under the asker's id */
	assert_int_equal(weft_qsvc_batch(f->q, job, (const uint8_t *)"ab", 2),
			 0);
	m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QBATCH, 2);
	assert_int_equal(m->qbatch->qid, 500);
	assert_int_equal(m->qbatch->batch.len, 2);
	sent_clear(f);
	recv_credit(f, 2, 500, 3);
	o = out1(f, WEFT_OUT_QCREDIT, job);
	assert_int_equal(o.n, 3);
	recv_credit(f, 1, 500, 3); /* another node's credit: not its job */
	recv_credit(f, 2, 501, 3);
	no_output(f);
	weft_qsvc_end(f->q, job, NULL, 10, 7,
		      "policy version 3, grant at line 4\t");
	m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QEND, 2);
	assert_int_equal(m->qend->qid, 500);
	assert_string_equal(m->qend->error, "");
	/* the note as the wire carries it: no control characters */
	assert_string_equal(m->qend->policy,
			    "policy version 3, grant at line 4 ");
	assert_int_equal(m->qend->rows, 10);
	assert_int_equal(m->qend->version, 7);
	sent_clear(f);
	/* the job is gone: its batches are refused, its end not sent */
	assert_int_equal(weft_qsvc_batch(f->q, job, (const uint8_t *)"ab", 2),
			 WEFT_ENOTFOUND);
	weft_qsvc_end(f->q, job, "again", 0, 0, NULL);
	recv_cancel(f, 2, 500);
	no_output(f);
	assert_int_equal(f->nsent, 0);
	weft_qsvc_stats(f->q, &st);
	assert_int_equal(st.served, 1);
	assert_int_equal(st.batches_out, 1);
	assert_int_equal(st.bytes_out, 2);
	assert_int_equal(st.running, 0);
}

/* A cancel stops the job; a duplicate open is ignored. */
static void
test_serve_cancel(void **state)
{
	fx_t *f = *state;
	weft_qsvc_stats_t st;
	uint64_t job;

	recv_open(f, 1, 9, 4);
	job = run1(f, 1);
	recv_open(f, 1, 9, 4); /* the same id again: ignored */
	no_output(f);
	assert_int_equal(f->nsent, 0);
	recv_open(f, 3, 9, 4); /* another node may use the same id */
	run1(f, 3);
	recv_cancel(f, 2, 9); /* not globex's job */
	no_output(f);
	recv_cancel(f, 1, 9);
	out1(f, WEFT_OUT_QSTOP, job);
	no_output(f);
	assert_int_equal(weft_qsvc_batch(f->q, job, (const uint8_t *)"x", 1),
			 WEFT_ENOTFOUND);
	weft_qsvc_end(f->q, job, "cancelled", 0, 0,
		      NULL); /* the driver's end */
	assert_int_equal(f->nsent, 0);
	weft_qsvc_stats(f->q, &st);
	assert_int_equal(st.served, 2);
	assert_int_equal(st.stopped, 1);
	assert_int_equal(st.running, 1);
}

/* Within the caps: per asking node, then in all; beyond them "busy" at
 * once and nothing queued; a job that ends makes room. */
static void
test_serve_caps(void **state)
{
	fx_t *f = *state;
	uint64_t jobs[WEFT_QSVC_SERVE_MAX];
	Weft__WireMessage *m;
	weft_qsvc_stats_t st;
	int i, n = 0;

	for (i = 0; i < WEFT_QSVC_PEER_MAX; i++) {
		recv_open(f, 1, 100 + (uint64_t)i, 4);
		jobs[n++] = run1(f, 1);
	}
	assert_int_equal(f->nsent, 0);
	recv_open(f, 1, 100 + WEFT_QSVC_PEER_MAX, 4);
	no_output(f);
	m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QEND, 1);
	assert_int_equal(m->qend->qid, 100 + WEFT_QSVC_PEER_MAX);
	assert_non_null(
	    strstr(m->qend->error, "busy: your node runs as many fragments"));
	sent_clear(f);
	for (i = 0; n < WEFT_QSVC_SERVE_MAX; i++) {
		recv_open(f, 2 + (uint64_t)(i % 2), 200 + (uint64_t)i, 4);
		jobs[n++] = run1(f, 2 + (uint64_t)(i % 2));
	}
	assert_int_equal(f->nsent, 0);
	recv_open(f, 3, 300, 4); /* 16 running: the node's cap */
	no_output(f);
	m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QEND, 3);
	assert_int_equal(m->qend->qid, 300);
	assert_non_null(
	    strstr(m->qend->error, "busy: the node runs as many fragments"));
	sent_clear(f);
	weft_qsvc_stats(f->q, &st);
	assert_int_equal(st.running, WEFT_QSVC_SERVE_MAX);
	assert_int_equal(st.refused, 2);
	/* one of node 1's jobs ends: node 1 may run one more */
	weft_qsvc_end(f->q, jobs[0], NULL, 0, 7, NULL);
	sent_clear(f);
	recv_open(f, 1, 400, 4);
	run1(f, 1);
	assert_int_equal(f->nsent, 0);
}

/* ---- sessions ---- */

/* A session gone: its asks end with an error, its jobs stop, and its
 * messages are ignored until it is up again. */
static void
test_peer_down(void **state)
{
	fx_t *f = *state;
	weft_qsvc_stats_t st;
	weft_err_t err = {0};
	uint64_t a1, a2, a3, j1, j2, qid;
	weft_out_t o;
	int seen = 0;

	a1 = ask(f, 1);
	a2 = ask(f, 1);
	a3 = ask(f, 3);
	sent_clear(f);
	recv_open(f, 1, 77, 4);
	j1 = run1(f, 1);
	recv_open(f, 3, 78, 4);
	j2 = run1(f, 3);
	weft_qsvc_peer_down(f->q, 1);
	assert_int_equal(f->nsent, 0); /* nothing to send on it */
	while (weft_qsvc_poll(f->q, &o)) {
		if (o.kind == WEFT_OUT_QEND) {
			assert_true(o.qid == a1 || o.qid == a2);
			assert_non_null(strstr(o.text, "session"));
			seen |= o.qid == a1 ? 1 : 2;
		} else {
			assert_int_equal(o.kind, WEFT_OUT_QSTOP);
			assert_int_equal(o.qid, j1);
			seen |= 4;
		}
		free(o.env);
	}
	assert_int_equal(seen, 7);
	weft_qsvc_stats(f->q, &st);
	assert_int_equal(st.running, 1);
	assert_int_equal(st.waiting, 1);
	assert_int_equal(st.stopped, 1);
	/* the gone node's messages and our calls for it do nothing */
	assert_int_equal(recv_batch(f, 1, a1), 0);
	recv_open(f, 1, 79, 4);
	recv_cancel(f, 1, 77);
	no_output(f);
	assert_int_equal(weft_qsvc_batch(f->q, j1, (const uint8_t *)"x", 1),
			 WEFT_ENOTFOUND);
	assert_int_equal(weft_qsvc_open(f->q, f->pk[1], "a.b", 0,
					(const uint8_t *)"x", 1, 0, &qid, &err),
			 WEFT_ENOTFOUND);
	assert_int_equal(f->nsent, 0);
	/* the others carry on */
	assert_int_equal(recv_batch(f, 3, a3), 0);
	free(out1(f, WEFT_OUT_QBATCH, a3).env);
	assert_int_equal(weft_qsvc_batch(f->q, j2, (const uint8_t *)"x", 1), 0);
	sent1(f, WEFT__WIRE_MESSAGE__MSG_QBATCH, 3);
	sent_clear(f);
	/* up again: asks work again */
	weft_qsvc_peer_up(f->q, 1, f->pk[1], "acme");
	ask(f, 1);
	sent1(f, WEFT__WIRE_MESSAGE__MSG_QOPEN, 1);
}

/* An owner's error goes out as a QueryEnd its peer accepts, whatever the
 * engine wrote: control characters, malformed UTF-8, over the cap. */
static void
test_end_error_text(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"invalid input syntax for type bigint: \"x\ty\nz\r\"",
	     "invalid input syntax for type bigint: \"x y z \""},
	    {"bad \xff\xfe byte, bell \x07, delete \x7f",
	     "bad ?? byte, bell ?, delete ?"},
	    {"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"},
	};
	fx_t *f = *state;
	Weft__WireMessage *m;
	char cut[WEFT_QSVC_ERR_MAX + 8], lng[WEFT_QSVC_ERR_MAX * 3];
	uint64_t job;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		recv_open(f, 1, 10 + i, 4);
		job = run1(f, 1);
		weft_qsvc_end(f->q, job, cases[i].in, 0, 0, NULL);
		m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QEND, 1);
		assert_string_equal(m->qend->error, cases[i].out);
		sent_clear(f);
	}
	/* a 2-byte character across the cap is left out whole */
	memset(cut, 'a', WEFT_QSVC_ERR_MAX - 1);
	memcpy(cut + WEFT_QSVC_ERR_MAX - 1, "\xc3\xa9!", 4);
	recv_open(f, 1, 20, 4);
	job = run1(f, 1);
	weft_qsvc_end(f->q, job, cut, 0, 0, NULL);
	m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QEND, 1);
	assert_int_equal(strlen(m->qend->error), WEFT_QSVC_ERR_MAX - 1);
	sent_clear(f);
	memset(lng, 'b', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = 0;
	recv_open(f, 1, 21, 4);
	job = run1(f, 1);
	weft_qsvc_end(f->q, job, lng, 0, 0, NULL);
	m = sent1(f, WEFT__WIRE_MESSAGE__MSG_QEND, 1);
	assert_int_equal(strlen(m->qend->error), WEFT_QSVC_ERR_MAX);
	sent_clear(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ask_flow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ask_beyond_credit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_ask_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ask_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_serve_flow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_serve_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_serve_caps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_end_error_text, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
