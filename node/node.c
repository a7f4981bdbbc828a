/*
 * node.c: the node core (node.h): one node's protocol cores and the
 * dispatch of events and messages to them.
 *
 * Dispatch by message kind: the gossip messages (push, summary, digest,
 * IHave, Graft, Prune) go to the gossip core; a Bulk is the node core's
 * own (payload counted; an empty one is a flush marker, answered with an
 * empty Bulk once everything before it was read: the session benchmark's
 * round trip); Hello, Ping, Pong and Goodbye never get here (the session
 * core handles them); anything else is counted and ignored.
 *
 * Outputs: the node core's own (Bulk answers) wait in a small FIFO that
 * weft_node_poll empties before asking the cores, so an answer leaves in
 * the order the questions came.
 */
#include "node/node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/wire.h"

struct weft_node {
	weft_gossip_t *g;
	weft_qsvc_t *qs;
	weft_tun_t *tun; /* NULL: no tunnels (the simulator) */
	uint64_t now_ms; /* the time of the call in progress */
	int64_t unix_us;
	uint8_t self[WEFT_PK_BYTES];
	weft_outq_t q; /* own outputs */
	weft_node_stats_t st;
};

/* A Bulk message in one block, freed with one free(). */
typedef struct node_bulk_msg {
	Weft__WireMessage m;
	Weft__Bulk b;
} node_bulk_msg_t;

/* Send m on session peer (a core's message; freed after sending), or on
 * a tunnel: sealed into Relays at once. */
static void
node_send(void *arg, uint64_t peer, Weft__WireMessage *m)
{
	weft_node_t *n = arg;
	weft_out_t *o;

	if (peer & WEFT_TUN_BIT) {
		if (n->tun != NULL)
			(void)weft_tun_send(n->tun, n->now_ms, peer, m);
		weft_node_msg_free(m);
		return;
	}
	o = weft_outq_push(&n->q, WEFT_OUT_SEND);
	if (o == NULL) {
		weft_node_msg_free(m);
		return;
	}
	o->peer = peer;
	o->msg = m;
}

static void
node_tun_up(void *arg, uint64_t vpeer, const uint8_t *pk, const char *org,
	    const char *name)
{
	weft_node_t *n = arg;

	weft_qsvc_peer_up(n->qs, vpeer, pk, org);
	weft_qsvc_peer_name(n->qs, vpeer, name);
}

static void
node_tun_down(void *arg, uint64_t vpeer, const char *why)
{
	weft_node_t *n = arg;
	char text[WEFT_QSVC_ERR_MAX];

	snprintf(text, sizeof(text), "the tunnel to its node failed: %s", why);
	weft_qsvc_peer_fail(n->qs, vpeer, text);
	weft_qsvc_peer_down(n->qs, vpeer);
}

/* A message inside a tunnel: only queries travel there. */
static void
node_tun_deliver(void *arg, uint64_t vpeer, const Weft__WireMessage *m)
{
	weft_node_t *n = arg;
	weft_err_t err = {0};

	n->st.msgs_in++;
	if (m->msg_case < WEFT__WIRE_MESSAGE__MSG_QOPEN ||
	    m->msg_case > WEFT__WIRE_MESSAGE__MSG_QCANCEL) {
		n->st.ignored_in++;
		return;
	}
	/* the inner session decoded it with weft_wire_decode */
	if (weft_qsvc_recv(n->qs, vpeer, m, &err) < 0)
		n->st.proto_errors++;
}

static int
node_tun_new(weft_node_t *n, const weft_node_cfg_t *cfg, weft_err_t *err)
{
	weft_tun_cfg_t tc = cfg->tunnel;
	weft_tun_cb_t cb = {node_send, node_tun_up, node_tun_down,
			    node_tun_deliver, n};
	size_t i;

	if (tc.sess.network_key == NULL)
		return 0;
	tc.sess.me = cfg->gossip.signer->kp;
	tc.sess.cert = cfg->gossip.signer->cert;
	tc.sess.cert_len = cfg->gossip.signer->cert_len;
	tc.sess.trust = cfg->gossip.trust;
	tc.org = cfg->gossip.signer->org;
	for (i = 0; i < cfg->gossip.nroles; i++)
		if (strcmp(cfg->gossip.roles[i], "gateway") == 0)
			tc.gateway = 1;
	return weft_tun_new(&n->tun, &tc, &cb, err);
}

int
weft_node_new(weft_node_t **out, const weft_node_cfg_t *cfg, uint64_t now_ms,
	      int64_t unix_us, weft_err_t *err)
{
	weft_node_t *n;
	int rc;

	*out = NULL;
	if (cfg->gossip.signer == NULL || cfg->gossip.signer->kp == NULL)
		return weft_err_set(err, WEFT_EINVAL, "node: no signer");
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "node: out of memory");
	memcpy(n->self, cfg->gossip.signer->kp->pk, WEFT_PK_BYTES);
	if (weft_qsvc_new(&n->qs, node_send, n) != 0) {
		free(n);
		return weft_err_set(err, WEFT_ENOMEM, "node: out of memory");
	}
	rc = weft_gossip_new(&n->g, &cfg->gossip, now_ms, unix_us, err);
	if (rc == 0)
		rc = node_tun_new(n, cfg, err);
	if (rc != 0) {
		weft_gossip_free(n->g);
		weft_qsvc_free(n->qs);
		free(n);
		return rc;
	}
	*out = n;
	return 0;
}

void
weft_node_free(weft_node_t *n)
{
	weft_out_t o;

	if (n == NULL)
		return;
	while (weft_outq_pop(&n->q, &o))
		weft_node_out_free(&o);
	weft_outq_free(&n->q);
	weft_gossip_free(n->g);
	weft_tun_free(n->tun);
	weft_qsvc_free(n->qs);
	free(n);
}

void
weft_node_set_trust(weft_node_t *n, const weft_trust_t *trust)
{
	weft_gossip_set_trust(n->g, trust);
	if (n->tun != NULL)
		weft_tun_set_trust(n->tun, trust);
}

void
weft_node_set_policy(weft_node_t *n, int gateway, const char *indirect)
{
	weft_gossip_set_policy(n->g, gateway, indirect);
	if (n->tun != NULL)
		weft_tun_set_gateway(n->tun, gateway);
}

int
weft_node_may_link(const weft_node_t *n, const char *org, int gateway)
{
	return weft_gossip_may_link(n->g, org, gateway);
}

int
weft_node_keep_dialled(const weft_node_t *n, const uint8_t peer[WEFT_PK_BYTES])
{
	return memcmp(n->self, peer, WEFT_PK_BYTES) < 0;
}

void
weft_node_peer_up(weft_node_t *n, uint64_t now_ms, uint64_t peer,
		  const uint8_t pk[WEFT_PK_BYTES], const char *org, int gateway)
{
	n->now_ms = now_ms;
	weft_gossip_peer_up(n->g, now_ms, peer, pk, org, gateway);
	weft_qsvc_peer_up(n->qs, peer, pk, org);
	if (n->tun != NULL)
		weft_tun_peer_up(n->tun, peer, pk, org, gateway);
}

void
weft_node_peer_down(weft_node_t *n, uint64_t now_ms, uint64_t peer)
{
	n->now_ms = now_ms;
	weft_gossip_peer_down(n->g, now_ms, peer);
	weft_qsvc_peer_down(n->qs, peer);
	if (n->tun != NULL)
		weft_tun_peer_down(n->tun, now_ms, peer);
}

void
weft_node_unreachable(weft_node_t *n, uint64_t now_ms,
		      const uint8_t pk[WEFT_PK_BYTES])
{
	weft_gossip_unreachable(n->g, now_ms, pk);
}

/* A Bulk: count it; answer a flush marker (no data) with one. */
static void
node_bulk(weft_node_t *n, uint64_t peer, const Weft__Bulk *b)
{
	node_bulk_msg_t *r;
	weft_out_t *o;

	n->st.bulk_bytes_in += b->data.len;
	if (b->data.len != 0)
		return;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return;
	weft__wire_message__init(&r->m);
	weft__bulk__init(&r->b);
	r->m.msg_case = WEFT__WIRE_MESSAGE__MSG_BULK;
	r->m.bulk = &r->b;
	o = weft_outq_push(&n->q, WEFT_OUT_SEND);
	if (o == NULL) {
		free(r);
		return;
	}
	o->peer = peer;
	o->msg = &r->m;
}

int
weft_node_recv(weft_node_t *n, uint64_t now_ms, int64_t unix_us, uint64_t peer,
	       const Weft__WireMessage *m, weft_err_t *err)
{
	int rc = 0;

	n->now_ms = now_ms;
	n->unix_us = unix_us;
	n->st.msgs_in++;
	switch (m->msg_case) {
	case WEFT__WIRE_MESSAGE__MSG_PUSH:
	case WEFT__WIRE_MESSAGE__MSG_SUMMARY:
	case WEFT__WIRE_MESSAGE__MSG_DIGEST:
	case WEFT__WIRE_MESSAGE__MSG_IHAVE:
	case WEFT__WIRE_MESSAGE__MSG_GRAFT:
	case WEFT__WIRE_MESSAGE__MSG_PRUNE:
	case WEFT__WIRE_MESSAGE__MSG_JOIN:
	case WEFT__WIRE_MESSAGE__MSG_FORWARD_JOIN:
	case WEFT__WIRE_MESSAGE__MSG_DISCONNECT:
		rc = weft_gossip_recv(n->g, now_ms, unix_us, peer, m, err);
		break;
	case WEFT__WIRE_MESSAGE__MSG_BULK: node_bulk(n, peer, m->bulk); break;
	case WEFT__WIRE_MESSAGE__MSG_QOPEN:
	case WEFT__WIRE_MESSAGE__MSG_QBATCH:
	case WEFT__WIRE_MESSAGE__MSG_QCREDIT:
	case WEFT__WIRE_MESSAGE__MSG_QEND:
	case WEFT__WIRE_MESSAGE__MSG_QCANCEL:
		rc = weft_qsvc_recv(n->qs, peer, m, err);
		break;
	case WEFT__WIRE_MESSAGE__MSG_RELAY:
	case WEFT__WIRE_MESSAGE__MSG_RELAY_ERROR:
		if (n->tun != NULL)
			rc = weft_tun_recv(n->tun, now_ms, unix_us / 1000000,
					   peer, m, err);
		else
			n->st.ignored_in++;
		break;
	default: n->st.ignored_in++; break;
	}
	if (rc < 0)
		n->st.proto_errors++;
	return rc;
}

int
weft_node_input(weft_node_t *n, uint64_t now_ms, int64_t unix_us, uint64_t peer,
		const uint8_t *buf, size_t len, weft_err_t *err)
{
	Weft__WireMessage *m = NULL;
	int rc;

	rc = weft_wire_decode(buf, len, &m, err);
	if (rc != 0) {
		n->st.proto_errors++;
		return rc;
	}
	rc = weft_node_recv(n, now_ms, unix_us, peer, m, err);
	weft__wire_message__free_unpacked(m, NULL);
	(void)weft_node_work(n, now_ms, unix_us, SIZE_MAX);
	return rc;
}

size_t
weft_node_pending(const weft_node_t *n)
{
	return weft_gossip_pending(n->g);
}

size_t
weft_node_work(weft_node_t *n, uint64_t now_ms, int64_t unix_us, size_t max)
{
	n->now_ms = now_ms;
	n->unix_us = unix_us;
	return weft_gossip_work(n->g, now_ms, unix_us, max);
}

size_t
weft_node_work_fast(weft_node_t *n, uint64_t now_ms, int64_t unix_us)
{
	n->now_ms = now_ms;
	n->unix_us = unix_us;
	return weft_gossip_work_fast(n->g, now_ms, unix_us);
}

size_t
weft_node_take(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
	       weft_gossip_taken_t *out, size_t max)
{
	return weft_gossip_take(n->g, now_ms, unix_us, out, max);
}

void
weft_node_give(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
	       weft_gossip_taken_t *in, size_t count)
{
	n->now_ms = now_ms;
	n->unix_us = unix_us;
	weft_gossip_give(n->g, now_ms, unix_us, in, count);
}

int
weft_node_offer(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
		const uint8_t *env, size_t len, int persist, weft_err_t *err)
{
	return weft_gossip_offer(n->g, now_ms, unix_us, env, len, persist, err);
}

void
weft_node_tick(weft_node_t *n, uint64_t now_ms, int64_t unix_us)
{
	n->now_ms = now_ms;
	n->unix_us = unix_us;
	weft_gossip_tick(n->g, now_ms, unix_us);
	if (n->tun != NULL)
		weft_tun_tick(n->tun, now_ms, unix_us / 1000000);
}

uint64_t
weft_node_next_timer(const weft_node_t *n)
{
	uint64_t g = weft_gossip_next_timer(n->g);
	uint64_t t = n->tun ? weft_tun_next_timer(n->tun) : UINT64_MAX;

	return t < g ? t : g;
}

int
weft_node_query_open(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
		     const uint8_t pk[WEFT_PK_BYTES], const char *org,
		     const char *product, uint64_t version, const uint8_t *frag,
		     size_t len, uint32_t timeout_ms, uint64_t *qid,
		     weft_err_t *err)
{
	uint64_t peer;
	int rc;

	n->now_ms = now_ms;
	n->unix_us = unix_us;
	*qid = 0;
	if (!weft_qsvc_peer_of(n->qs, pk, &peer)) {
		if (n->tun == NULL)
			return weft_err_set(err, WEFT_ENOTFOUND,
					    "no session with the hosting "
					    "node");
		rc = weft_tun_open(n->tun, now_ms, unix_us / 1000000, pk, org,
				   &peer, err);
		if (rc != 0)
			return rc;
	}
	return weft_qsvc_open_on(n->qs, peer, product, version, frag, len,
				 timeout_ms, qid, err);
}

const weft_tun_t *
weft_node_tunnels(const weft_node_t *n)
{
	return n->tun;
}

int
weft_node_poll(weft_node_t *n, weft_out_t *out)
{
	return weft_outq_pop(&n->q, out) || weft_gossip_poll(n->g, out) ||
	       weft_qsvc_poll(n->qs, out);
}

void
weft_node_msg_free(Weft__WireMessage *m)
{
	if (m == NULL)
		return;
	if (m->msg_case == WEFT__WIRE_MESSAGE__MSG_BULK)
		free(m); /* a node_bulk_msg_t: m is its first member */
	else if (m->msg_case == WEFT__WIRE_MESSAGE__MSG_RELAY ||
		 m->msg_case == WEFT__WIRE_MESSAGE__MSG_RELAY_ERROR)
		weft_tun_msg_free(m);
	else if (m->msg_case >= WEFT__WIRE_MESSAGE__MSG_QOPEN &&
		 m->msg_case <= WEFT__WIRE_MESSAGE__MSG_QCANCEL)
		weft_qsvc_msg_free(m);
	else
		weft_gossip_msg_free(m);
}

void
weft_node_out_free(weft_out_t *out)
{
	weft_node_msg_free(out->msg);
	free(out->env);
	out->msg = NULL;
	out->env = NULL;
}

void
weft_node_stats(const weft_node_t *n, weft_node_stats_t *st)
{
	*st = n->st;
}

const weft_gossip_t *
weft_node_gossip(const weft_node_t *n)
{
	return n->g;
}

weft_qsvc_t *
weft_node_qsvc(weft_node_t *n)
{
	return n->qs;
}
