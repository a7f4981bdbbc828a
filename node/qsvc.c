/*
 * qsvc.c: the query service core (node/qsvc.h).
 *
 * State: the sessions' keys and orgs (peers), the fragments we asked
 * (asks: qid -> peer, credit granted and batches received) and the ones
 * we serve (jobs: our job id -> peer and the asker's qid). All are short
 * arrays searched linearly: at most WEFT_QSVC_ASK_MAX asks and
 * WEFT_QSVC_SERVE_MAX jobs exist at once.
 *
 * Every message this core makes is one malloc'd block (the WireMessage,
 * its member and any bytes it carries), so weft_qsvc_msg_free is free().
 */
#include "node/qsvc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"

typedef struct q_peer {
	uint64_t id;
	uint8_t pk[WEFT_PK_BYTES];
	char org[WEFT_OUT_ORG_MAX + 1];
	char name[WEFT_NAME_MAX + 1]; /* "" unless told (tunnels) */
} q_peer_t;

typedef struct q_ask {
	uint64_t qid, peer;
	uint64_t granted, received; /* batches */
} q_ask_t;

typedef struct q_job {
	uint64_t id, peer, asker_qid;
} q_job_t;

struct weft_qsvc {
	weft_qsvc_send_fn send;
	void *arg;
	q_peer_t *peers;
	size_t npeers, peercap;
	q_ask_t *asks;
	size_t nasks, askcap;
	q_job_t jobs[WEFT_QSVC_SERVE_MAX];
	size_t njobs;
	uint64_t next_id;
	weft_outq_t out;
	weft_qsvc_stats_t st;
};

/* One block: the envelope, its member, the bytes it carries. */
typedef struct q_msg {
	Weft__WireMessage m;
	union {
		Weft__QueryOpen open;
		Weft__QueryBatch batch;
		Weft__QueryCredit credit;
		Weft__QueryEnd end;
		Weft__QueryCancel cancel;
	} u;
	uint8_t data[];
} q_msg_t;

int
weft_qsvc_new(weft_qsvc_t **out, weft_qsvc_send_fn send, void *arg)
{
	weft_qsvc_t *q = calloc(1, sizeof(*q));

	*out = q;
	if (q == NULL)
		return WEFT_ENOMEM;
	q->send = send;
	q->arg = arg;
	q->next_id = 1;
	return 0;
}

void
weft_qsvc_free(weft_qsvc_t *q)
{
	weft_out_t o;

	if (q == NULL)
		return;
	while (weft_outq_pop(&q->out, &o))
		free(o.env);
	weft_outq_free(&q->out);
	free(q->peers);
	free(q->asks);
	free(q);
}

void
weft_qsvc_msg_free(Weft__WireMessage *m)
{
	free(m); /* a q_msg_t: m is its first member */
}

static q_msg_t *
q_msg(size_t extra)
{
	q_msg_t *r = calloc(1, sizeof(*r) + extra + 1);

	if (r != NULL)
		weft__wire_message__init(&r->m);
	return r;
}

static void
q_send(weft_qsvc_t *q, uint64_t peer, q_msg_t *r)
{
	if (r != NULL)
		q->send(q->arg, peer, &r->m);
}

/*
 * Copy error into out (max + 1 bytes) as a QueryEnd may
 * carry it (node/wire.c refuses anything else, and with it the session):
 * well-formed UTF-8 without control characters, cut at a character
 * boundary. The engine's messages quote data ("x<TAB>y"), so a tab, a
 * newline or a carriage return becomes a space and any other control
 * character or malformed byte a '?'.
 */
static void
q_error_text(const char *error, char *out, size_t max)
{
	size_t n = 0, k;
	uint32_t cp = 0;

	while (error != NULL && *error) {
		k = weft_utf8_decode((const unsigned char *)error,
				     strnlen(error, 4), &cp);
		if (k == 0 || cp < 0x20 || cp == 0x7f) {
			if (n + 1 > max)
				break;
			out[n++] = k && (cp == '\t' || cp == '\n' || cp == '\r')
				       ? ' '
				       : '?';
			error += k ? k : 1;
			continue;
		}
		if (n + k > max)
			break;
		memcpy(out + n, error, k);
		n += k;
		error += k;
	}
	out[n] = 0;
}

static void
q_send_end(weft_qsvc_t *q, uint64_t peer, uint64_t qid, const char *error,
	   uint64_t rows, uint64_t version, const char *policy)
{
	q_msg_t *r = q_msg(WEFT_QSVC_ERR_MAX + 1 + WEFT_QSVC_NOTE_MAX + 1);

	if (r == NULL)
		return;
	weft__query_end__init(&r->u.end);
	r->m.msg_case = WEFT__WIRE_MESSAGE__MSG_QEND;
	r->m.qend = &r->u.end;
	r->u.end.qid = qid;
	q_error_text(error, (char *)r->data, WEFT_QSVC_ERR_MAX);
	r->u.end.error = (char *)r->data;
	q_error_text(policy, (char *)r->data + WEFT_QSVC_ERR_MAX + 1,
		     WEFT_QSVC_NOTE_MAX);
	r->u.end.policy = (char *)r->data + WEFT_QSVC_ERR_MAX + 1;
	r->u.end.rows = rows;
	r->u.end.version = version;
	q_send(q, peer, r);
}

static q_peer_t *
q_peer(weft_qsvc_t *q, uint64_t peer)
{
	size_t i;

	for (i = 0; i < q->npeers; i++)
		if (q->peers[i].id == peer)
			return &q->peers[i];
	return NULL;
}

void
weft_qsvc_peer_up(weft_qsvc_t *q, uint64_t peer,
		  const uint8_t pk[WEFT_PK_BYTES], const char *org)
{
	q_peer_t *p = q_peer(q, peer);

	if (p == NULL) {
		if (q->npeers == q->peercap) {
			size_t nc = q->peercap ? 2 * q->peercap : 8;
			q_peer_t *np = realloc(q->peers, nc * sizeof(*np));

			if (np == NULL)
				return; /* unknown peer: no queries on it */
			q->peers = np;
			q->peercap = nc;
		}
		p = &q->peers[q->npeers++];
	}
	p->id = peer;
	memcpy(p->pk, pk, WEFT_PK_BYTES);
	snprintf(p->org, sizeof(p->org), "%s", org ? org : "");
	p->name[0] = 0;
}

void
weft_qsvc_peer_name(weft_qsvc_t *q, uint64_t peer, const char *name)
{
	q_peer_t *p = q_peer(q, peer);

	if (p != NULL)
		snprintf(p->name, sizeof(p->name), "%s", name);
}

static weft_out_t *
q_out(weft_qsvc_t *q, weft_out_kind_t kind, uint64_t qid)
{
	weft_out_t *o = weft_outq_push(&q->out, kind);

	if (o != NULL)
		o->qid = qid;
	return o;
}

/* The asked fragment qid ends here with error (NULL: success). */
static void
q_ask_end(weft_qsvc_t *q, size_t i, const char *error, uint64_t rows,
	  uint64_t version, const char *policy)
{
	weft_out_t *o = q_out(q, WEFT_OUT_QEND, q->asks[i].qid);

	if (o != NULL) {
		snprintf(o->text, sizeof(o->text), "%s", error ? error : "");
		snprintf(o->addr, sizeof(o->addr), "%s", policy ? policy : "");
		o->rows = rows;
		o->version = version;
	}
	if (error && *error)
		q->st.asked_failed++;
	q->asks[i] = q->asks[--q->nasks];
}

static void
q_job_drop(weft_qsvc_t *q, size_t i)
{
	q->jobs[i] = q->jobs[--q->njobs];
}

void
weft_qsvc_peer_down(weft_qsvc_t *q, uint64_t peer)
{
	weft_qsvc_peer_fail(q, peer, "the session with its node closed");
}

void
weft_qsvc_peer_fail(weft_qsvc_t *q, uint64_t peer, const char *why)
{
	size_t i;

	for (i = 0; i < q->nasks;)
		if (q->asks[i].peer == peer)
			q_ask_end(q, i, why, 0, 0, NULL);
		else
			i++;
	for (i = 0; i < q->njobs;)
		if (q->jobs[i].peer == peer) {
			q_out(q, WEFT_OUT_QSTOP, q->jobs[i].id);
			q->st.stopped++;
			q_job_drop(q, i);
		} else {
			i++;
		}
	for (i = 0; i < q->npeers; i++)
		if (q->peers[i].id == peer) {
			q->peers[i] = q->peers[--q->npeers];
			break;
		}
}

/* ---- asker ---- */

int
weft_qsvc_peer_of(const weft_qsvc_t *q, const uint8_t pk[WEFT_PK_BYTES],
		  uint64_t *peer)
{
	size_t i;

	for (i = 0; i < q->npeers; i++)
		if (memcmp(q->peers[i].pk, pk, WEFT_PK_BYTES) == 0) {
			*peer = q->peers[i].id;
			return 1;
		}
	return 0;
}

int
weft_qsvc_open(weft_qsvc_t *q, const uint8_t pk[WEFT_PK_BYTES],
	       const char *product, uint64_t version, const uint8_t *frag,
	       size_t len, uint32_t timeout_ms, uint64_t *qid, weft_err_t *err)
{
	uint64_t peer;

	*qid = 0;
	if (!weft_qsvc_peer_of(q, pk, &peer))
		return weft_err_set(err, WEFT_ENOTFOUND,
				    "no session with the hosting node");
	return weft_qsvc_open_on(q, peer, product, version, frag, len,
				 timeout_ms, qid, err);
}

int
weft_qsvc_open_on(weft_qsvc_t *q, uint64_t peer, const char *product,
		  uint64_t version, const uint8_t *frag, size_t len,
		  uint32_t timeout_ms, uint64_t *qid, weft_err_t *err)
{
	size_t pl = strlen(product);
	q_msg_t *r;

	*qid = 0;
	if (q->nasks >= WEFT_QSVC_ASK_MAX)
		return weft_err_set(err, WEFT_EAGAIN,
				    "busy: %d fragments are already asked",
				    WEFT_QSVC_ASK_MAX);
	if (q->nasks == q->askcap) {
		size_t nc = q->askcap ? 2 * q->askcap : 16;
		q_ask_t *na = realloc(q->asks, nc * sizeof(*na));

		if (na == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		q->asks = na;
		q->askcap = nc;
	}
	r = q_msg(len + pl + 1);
	if (r == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	weft__query_open__init(&r->u.open);
	r->m.msg_case = WEFT__WIRE_MESSAGE__MSG_QOPEN;
	r->m.qopen = &r->u.open;
	*qid = q->next_id++;
	r->u.open.qid = *qid;
	memcpy(r->data, frag, len);
	r->u.open.fragment.data = r->data;
	r->u.open.fragment.len = len;
	memcpy(r->data + len, product, pl + 1);
	r->u.open.product = (char *)r->data + len;
	r->u.open.version = version;
	r->u.open.credit = WEFT_QSVC_CREDIT;
	r->u.open.timeout_ms = timeout_ms;
	q->asks[q->nasks].qid = *qid;
	q->asks[q->nasks].peer = peer;
	q->asks[q->nasks].granted = WEFT_QSVC_CREDIT;
	q->asks[q->nasks].received = 0;
	q->nasks++;
	q->st.asked++;
	q_send(q, peer, r);
	return 0;
}

static size_t
q_ask_find(const weft_qsvc_t *q, uint64_t qid)
{
	size_t i;

	for (i = 0; i < q->nasks; i++)
		if (q->asks[i].qid == qid)
			return i;
	return SIZE_MAX;
}

void
weft_qsvc_credit(weft_qsvc_t *q, uint64_t qid, uint32_t n)
{
	size_t i = q_ask_find(q, qid);
	q_msg_t *r;

	if (i == SIZE_MAX || n == 0 || (r = q_msg(0)) == NULL)
		return;
	weft__query_credit__init(&r->u.credit);
	r->m.msg_case = WEFT__WIRE_MESSAGE__MSG_QCREDIT;
	r->m.qcredit = &r->u.credit;
	r->u.credit.qid = qid;
	r->u.credit.credit = n;
	q->asks[i].granted += n;
	q_send(q, q->asks[i].peer, r);
}

void
weft_qsvc_cancel(weft_qsvc_t *q, uint64_t qid)
{
	size_t i = q_ask_find(q, qid);
	q_msg_t *r;

	if (i == SIZE_MAX)
		return;
	r = q_msg(0);
	if (r != NULL) {
		weft__query_cancel__init(&r->u.cancel);
		r->m.msg_case = WEFT__WIRE_MESSAGE__MSG_QCANCEL;
		r->m.qcancel = &r->u.cancel;
		r->u.cancel.qid = qid;
		q_send(q, q->asks[i].peer, r);
	}
	q->asks[i] = q->asks[--q->nasks];
}

/* ---- owner ---- */

static size_t
q_job_find(const weft_qsvc_t *q, uint64_t id)
{
	size_t i;

	for (i = 0; i < q->njobs; i++)
		if (q->jobs[i].id == id)
			return i;
	return SIZE_MAX;
}

int
weft_qsvc_batch(weft_qsvc_t *q, uint64_t qid, const uint8_t *buf, size_t len)
{
	size_t i = q_job_find(q, qid);
	q_msg_t *r;

	if (i == SIZE_MAX)
		return WEFT_ENOTFOUND;
	r = q_msg(len);
	if (r == NULL)
		return WEFT_ENOMEM;
	weft__query_batch__init(&r->u.batch);
	r->m.msg_case = WEFT__WIRE_MESSAGE__MSG_QBATCH;
	r->m.qbatch = &r->u.batch;
	r->u.batch.qid = q->jobs[i].asker_qid;
	memcpy(r->data, buf, len);
	r->u.batch.batch.data = r->data;
	r->u.batch.batch.len = len;
	q->st.batches_out++;
	q->st.bytes_out += len;
	q_send(q, q->jobs[i].peer, r);
	return 0;
}

void
weft_qsvc_end(weft_qsvc_t *q, uint64_t qid, const char *error, uint64_t rows,
	      uint64_t version, const char *policy)
{
	size_t i = q_job_find(q, qid);

	if (i == SIZE_MAX)
		return;
	q_send_end(q, q->jobs[i].peer, q->jobs[i].asker_qid, error, rows,
		   version, policy);
	q_job_drop(q, i);
}

static void
q_recv_open(weft_qsvc_t *q, const q_peer_t *p, const Weft__QueryOpen *m)
{
	size_t i, per = 0;
	weft_out_t *o;
	q_job_t *j;

	for (i = 0; i < q->njobs; i++) {
		per += q->jobs[i].peer == p->id;
		if (q->jobs[i].peer == p->id && q->jobs[i].asker_qid == m->qid)
			return; /* a duplicate id: ignore it */
	}
	if (q->njobs >= WEFT_QSVC_SERVE_MAX || per >= WEFT_QSVC_PEER_MAX) {
		q->st.refused++;
		q_send_end(q, p->id, m->qid,
			   q->njobs >= WEFT_QSVC_SERVE_MAX
			       ? "busy: the node runs as many fragments as "
				 "it may; try again"
			       : "busy: your node runs as many fragments "
				 "here as it may; try again",
			   0, 0, NULL);
		return;
	}
	o = q_out(q, WEFT_OUT_QRUN, q->next_id);
	if (o == NULL || (o->env = malloc(m->fragment.len + 1)) == NULL) {
		if (o != NULL)
			weft_outq_unpush(&q->out);
		q_send_end(q, p->id, m->qid, "out of memory", 0, 0, NULL);
		return;
	}
	if (m->fragment.len) /* protobuf-c: NULL data when empty */
		memcpy(o->env, m->fragment.data, m->fragment.len);
	o->env_len = m->fragment.len;
	o->peer = p->id;
	snprintf(o->text, sizeof(o->text), "%s", m->product);
	snprintf(o->addr, sizeof(o->addr), "%s", p->name);
	o->version = m->version;
	o->n = m->credit;
	o->timeout_ms = m->timeout_ms;
	memcpy(o->pk, p->pk, WEFT_PK_BYTES);
	memcpy(o->org, p->org, sizeof(o->org));
	j = &q->jobs[q->njobs++];
	j->id = q->next_id++;
	j->peer = p->id;
	j->asker_qid = m->qid;
	q->st.served++;
}

/* A batch or the end of fragment qid from peer. */
static int
q_recv_result(weft_qsvc_t *q, uint64_t peer, const Weft__WireMessage *m,
	      weft_err_t *err)
{
	uint64_t qid = m->msg_case == WEFT__WIRE_MESSAGE__MSG_QBATCH
			   ? m->qbatch->qid
			   : m->qend->qid;
	size_t i = q_ask_find(q, qid);
	weft_out_t *o;
	q_ask_t *a;

	if (i == SIZE_MAX || q->asks[i].peer != peer)
		return 0; /* cancelled meanwhile, or not ours */
	a = &q->asks[i];
	if (m->msg_case == WEFT__WIRE_MESSAGE__MSG_QEND) {
		q_ask_end(q, i, m->qend->error, m->qend->rows, m->qend->version,
			  m->qend->policy);
		return 0;
	}
	if (a->received >= a->granted) {
		weft_qsvc_cancel(q, qid);
		o = q_out(q, WEFT_OUT_QEND, qid);
		if (o != NULL)
			snprintf(o->text, sizeof(o->text),
				 "the hosting node sent more than it was "
				 "allowed to");
		q->st.asked_failed++;
		return weft_err_set(err, WEFT_EINVAL,
				    "query: batches beyond the credit");
	}
	o = q_out(q, WEFT_OUT_QBATCH, qid);
	if (o == NULL || (o->env = malloc(m->qbatch->batch.len + 1)) == NULL) {
		if (o != NULL)
			weft_outq_unpush(&q->out);
		weft_qsvc_cancel(q, qid);
		o = q_out(q, WEFT_OUT_QEND, qid);
		if (o != NULL)
			snprintf(o->text, sizeof(o->text), "out of memory");
		return 0;
	}
	if (m->qbatch->batch.len)
		memcpy(o->env, m->qbatch->batch.data, m->qbatch->batch.len);
	o->env_len = m->qbatch->batch.len;
	a->received++;
	q->st.batches_in++;
	q->st.bytes_in += o->env_len;
	return 0;
}

int
weft_qsvc_recv(weft_qsvc_t *q, uint64_t peer, const Weft__WireMessage *m,
	       weft_err_t *err)
{
	const q_peer_t *p = q_peer(q, peer);
	size_t i;

	if (p == NULL)
		return 0;
	switch (m->msg_case) {
	case WEFT__WIRE_MESSAGE__MSG_QOPEN: q_recv_open(q, p, m->qopen); break;
	case WEFT__WIRE_MESSAGE__MSG_QBATCH:
	case WEFT__WIRE_MESSAGE__MSG_QEND:
		return q_recv_result(q, peer, m, err);
	case WEFT__WIRE_MESSAGE__MSG_QCREDIT:
	case WEFT__WIRE_MESSAGE__MSG_QCANCEL:
		for (i = 0; i < q->njobs; i++) {
			q_job_t *j = &q->jobs[i];
			uint64_t qid =
			    m->msg_case == WEFT__WIRE_MESSAGE__MSG_QCREDIT
				? m->qcredit->qid
				: m->qcancel->qid;
			weft_out_t *o;

			if (j->peer != peer || j->asker_qid != qid)
				continue;
			if (m->msg_case == WEFT__WIRE_MESSAGE__MSG_QCANCEL) {
				q_out(q, WEFT_OUT_QSTOP, j->id);
				q->st.stopped++;
				q_job_drop(q, i);
			} else if ((o = q_out(q, WEFT_OUT_QCREDIT, j->id))) {
				o->n = m->qcredit->credit;
			}
			break;
		}
		break;
	default: break;
	}
	return 0;
}

int
weft_qsvc_poll(weft_qsvc_t *q, weft_out_t *out)
{
	return weft_outq_pop(&q->out, out);
}

void
weft_qsvc_stats(const weft_qsvc_t *q, weft_qsvc_stats_t *st)
{
	*st = q->st;
	st->running = (uint32_t)q->njobs;
	st->waiting = (uint32_t)q->nasks;
}
