/*
 * test_overlay.c: cmocka tests for the bounded overlay of node/gossip
 * (gossip_overlay.c): cores in one process whose DIAL and PART outputs
 * are carried out (a dial links at once, a PART of ours ends the link
 * after the messages queued before it); every message is packed and
 * decoded on its way. Nodes join through one seed: nobody holds more
 * than its maximum, the seed lets links go, nobody reports a link let go
 * as a failure, the overlay stays connected, and losing the seed or a
 * quarter of the nodes partitions nothing. Hostile: a Join carrying
 * another node's record, a second Join, a ForwardJoin over its ttl.
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

#include "node/gossip.h"
#include "node/wire.h"
#include "storage/entry.h"

#define T0 1700000000
#define N 40
#define IV 100 /* gossip interval, ms */
#define DEGREE 2
#define MAXN 4

typedef struct onode {
	weft_keypair_t *kp;
	uint8_t *cert;
	size_t cert_len;
	char name[16];
	weft_signer_t signer;
	weft_gossip_t *g;
	int alive;
	unsigned char up[N];
} onode_t;

typedef struct onet {
	weft_keypair_t *org;
	weft_pubkey_t root;
	weft_trust_t trust;
	onode_t n[N];
	uint64_t now;
	int errors; /* weft_gossip_recv refusals */
} onet_t;

static int64_t
o_unix(const onet_t *t)
{
	return (int64_t)T0 * 1000000 + (int64_t)t->now * 1000;
}

static void
o_init(onet_t *t)
{
	const char *addrs[1];
	char addr[32];
	int i;

	memset(t, 0, sizeof(*t));
	t->now = 1000;
	assert_int_equal(weft_key_generate(WEFT_KEY_ORG, "acme", &t->org, NULL),
			 0);
	t->root.kind = WEFT_KEY_ORG;
	snprintf(t->root.name, sizeof(t->root.name), "acme");
	memcpy(t->root.pk, t->org->pk, WEFT_PK_BYTES);
	t->trust.roots = &t->root;
	t->trust.n = 1;
	addrs[0] = addr;
	for (i = 0; i < N; i++) {
		onode_t *n = &t->n[i];
		weft_gossip_cfg_t c = {0};

		snprintf(n->name, sizeof(n->name), "o%d", i);
		assert_int_equal(
		    weft_key_generate(WEFT_KEY_NODE, n->name, &n->kp, NULL), 0);
		assert_int_equal(weft_cert_issue(t->org, n->name, n->kp->pk,
						 NULL, 0, T0 - 100, T0 + 86400,
						 (uint64_t)i, &n->cert,
						 &n->cert_len, NULL),
				 0);
		n->signer.kp = n->kp;
		n->signer.cert = n->cert;
		n->signer.cert_len = n->cert_len;
		n->signer.org = "acme";
		n->signer.node = n->name;
		snprintf(addr, sizeof(addr), "n:%d", i);
		c.signer = &n->signer;
		c.trust = &t->trust;
		c.addresses = addrs;
		c.naddresses = 1;
		c.interval_ms = IV;
		c.suspect_ms = 3 * IV;
		c.degree = DEGREE;
		c.active_max = MAXN;
		c.seed = (uint64_t)i + 77;
		assert_int_equal(
		    weft_gossip_new(&n->g, &c, t->now, o_unix(t), NULL), 0);
	}
}

static void
o_free(onet_t *t)
{
	int i;

	for (i = 0; i < N; i++) {
		weft_gossip_free(t->n[i].g);
		weft_key_free(t->n[i].kp);
		free(t->n[i].cert);
	}
	weft_key_free(t->org);
}

static void
o_up(onet_t *t, int a, int b)
{
	if (a == b || t->n[a].up[b] || !t->n[a].alive || !t->n[b].alive)
		return;
	t->n[a].up[b] = t->n[b].up[a] = 1;
	weft_gossip_peer_up(t->n[a].g, t->now, (uint64_t)b + 1, t->n[b].kp->pk,
			    "acme", 0);
	weft_gossip_peer_up(t->n[b].g, t->now, (uint64_t)a + 1, t->n[a].kp->pk,
			    "acme", 0);
}

static void
o_down(onet_t *t, int a, int b)
{
	if (!t->n[a].up[b])
		return;
	t->n[a].up[b] = t->n[b].up[a] = 0;
	if (t->n[a].alive)
		weft_gossip_peer_down(t->n[a].g, t->now, (uint64_t)b + 1);
	if (t->n[b].alive)
		weft_gossip_peer_down(t->n[b].g, t->now, (uint64_t)a + 1);
}

static void
o_kill(onet_t *t, int a)
{
	int b;

	for (b = 0; b < N; b++)
		o_down(t, a, b);
	t->n[a].alive = 0;
}

/* Deliver a message from i to `to`, packed and decoded as on the wire. */
static void
o_deliver(onet_t *t, int i, int to, const Weft__WireMessage *msg)
{
	size_t len = weft__wire_message__get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	Weft__WireMessage *m = NULL;

	assert_non_null(buf);
	weft__wire_message__pack(msg, buf);
	if (to >= 0 && to < N && t->n[i].up[to] && t->n[to].alive) {
		assert_int_equal(weft_wire_decode(buf, len, &m, NULL), 0);
		if (weft_gossip_recv(t->n[to].g, t->now, o_unix(t),
				     (uint64_t)i + 1, m, NULL) != 0)
			t->errors++;
		(void)weft_gossip_work(t->n[to].g, t->now, o_unix(t), SIZE_MAX);
		weft__wire_message__free_unpacked(m, NULL);
	}
	free(buf);
}

/* Carry out every output until nothing moves. */
static void
o_drain(onet_t *t)
{
	int again = 1, i;

	while (again) {
		again = 0;
		for (i = 0; i < N; i++) {
			weft_out_t o;

			if (!t->n[i].alive)
				continue;
			while (weft_gossip_poll(t->n[i].g, &o)) {
				int to = (int)o.peer - 1, b;

				again = 1;
				if (o.kind == WEFT_OUT_SEND)
					o_deliver(t, i, to, o.msg);
				else if (o.kind == WEFT_OUT_PART && o.n)
					o_down(t, i, to);
				else if (o.kind == WEFT_OUT_DIAL &&
					 sscanf(o.addr, "n:%d", &b) == 1 &&
					 b >= 0 && b < N)
					o_up(t, i, b);
				weft_gossip_msg_free(o.msg);
				free(o.env);
			}
		}
	}
}

static void
o_tick(onet_t *t, uint64_t ms)
{
	uint64_t end = t->now + ms;
	int i;

	while (t->now < end) {
		t->now += 10;
		for (i = 0; i < N; i++)
			if (t->n[i].alive)
				weft_gossip_tick(t->n[i].g, t->now, o_unix(t));
		o_drain(t);
	}
}

static int
o_links(const onet_t *t, int i)
{
	int b, k = 0;

	for (b = 0; b < N; b++)
		k += t->n[i].up[b];
	return k;
}

/* Live nodes reachable from the first live one (breadth first). */
static int
o_reach(const onet_t *t)
{
	int q[N], seen[N] = {0}, h = 0, tl = 0, i, b;

	for (i = 0; i < N && !t->n[i].alive; i++)
		;
	if (i == N)
		return 0;
	seen[i] = 1;
	q[tl++] = i;
	while (h < tl)
		for (i = q[h++], b = 0; b < N; b++)
			if (t->n[i].up[b] && t->n[b].alive && !seen[b]) {
				seen[b] = 1;
				q[tl++] = b;
			}
	return tl;
}

/* Members marked failed, over every live node. */
static int
o_failed(const onet_t *t)
{
	int i, f = 0;

	for (i = 0; i < N; i++) {
		weft_gossip_member_t *m;
		size_t nm, k;

		if (!t->n[i].alive)
			continue;
		assert_int_equal(weft_gossip_members(t->n[i].g, &m, &nm), 0);
		for (k = 0; k < nm; k++)
			f += m[k].failed;
		free(m);
	}
	return f;
}

static void
o_bounded(const onet_t *t)
{
	int i;

	for (i = 0; i < N; i++)
		if (t->n[i].alive) {
			weft_gossip_stats_t st;

			assert_in_range(o_links(t, i), 1, MAXN);
			weft_gossip_stats(t->n[i].g, &st);
			assert_int_equal(st.active, (uint64_t)o_links(t, i));
		}
}

/* N nodes join through node 0, one every 50 ms. */
static void
o_join_all(onet_t *t)
{
	int i;

	t->n[0].alive = 1;
	for (i = 1; i < N; i++) {
		t->n[i].alive = 1;
		o_up(t, i, 0);
		o_drain(t);
		o_tick(t, 50);
	}
	o_tick(t, 20 * IV);
}

static void
test_bounded_join(void **state)
{
	onet_t *t = calloc(1, sizeof(*t));
	weft_gossip_stats_t st;
	uint64_t walks = 0;
	int i;

	(void)state;
	assert_non_null(t);
	o_init(t);
	o_join_all(t);
	o_bounded(t);
	assert_int_equal(o_reach(t), N);
	weft_gossip_stats(t->n[0].g, &st);
	assert_true(st.disconnects_out > 0); /* the seed let links go */
	assert_true(st.joins_in > 0);
	for (i = 0; i < N; i++) {
		weft_gossip_stats(t->n[i].g, &st);
		walks += st.walk_dials;
	}
	assert_true(walks > 0);		  /* joiners got links from walks */
	assert_int_equal(o_failed(t), 0); /* let go is not failed */
	assert_int_equal(t->errors, 0);

	/* a quarter killed, then the seed: the rest stay one overlay */
	for (i = N - N / 4; i < N; i++)
		o_kill(t, i);
	o_tick(t, 30 * IV);
	assert_int_equal(o_reach(t), N - N / 4);
	o_bounded(t);
	o_kill(t, 0);
	o_tick(t, 30 * IV);
	assert_int_equal(o_reach(t), N - N / 4 - 1);
	o_bounded(t);
	o_free(t);
	free(t);
}

/* A message of ours from node i to node to, carrying rec. */
static int
o_send_join(onet_t *t, int i, int to, int forward, const uint8_t *rec,
	    size_t len, uint32_t ttl)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__GossipJoin j = WEFT__GOSSIP_JOIN__INIT;
	Weft__GossipForwardJoin f = WEFT__GOSSIP_FORWARD_JOIN__INIT;
	uint8_t *buf;
	size_t blen;
	Weft__WireMessage *dec = NULL;
	int rc;

	if (forward) {
		f.record.data = (uint8_t *)rec;
		f.record.len = len;
		f.ttl = ttl;
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_FORWARD_JOIN;
		m.forward_join = &f;
	} else {
		j.record.data = (uint8_t *)rec;
		j.record.len = len;
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_JOIN;
		m.join = &j;
	}
	blen = weft__wire_message__get_packed_size(&m);
	buf = malloc(blen);
	assert_non_null(buf);
	weft__wire_message__pack(&m, buf);
	rc = weft_wire_decode(buf, blen, &dec, NULL);
	if (rc == 0) {
		rc = weft_gossip_recv(t->n[to].g, t->now, o_unix(t),
				      (uint64_t)i + 1, dec, NULL);
		(void)weft_gossip_work(t->n[to].g, t->now, o_unix(t), SIZE_MAX);
		weft__wire_message__free_unpacked(dec, NULL);
	}
	free(buf);
	return rc;
}

/* Node i's own record, as its core holds it. */
typedef struct rec {
	const weft_trust_t *trust;
	int64_t now_us;
	const uint8_t *pk;
	uint8_t *env;
	size_t len;
} rec_t;

static void
rec_cb(void *arg, const uint8_t *env, size_t len)
{
	rec_t *r = arg;
	weft_entry_info_t info;

	if (r->env == NULL &&
	    weft_entry_verify(env, len, r->trust, r->now_us, &info, NULL, NULL,
			      NULL) == 0 &&
	    info.kind == WEFT_ENTRY_NODE &&
	    memcmp(info.origin, r->pk, WEFT_PK_BYTES) == 0) {
		r->env = malloc(len);
		assert_non_null(r->env);
		memcpy(r->env, env, len);
		r->len = len;
	}
}

static void
test_hostile_join(void **state)
{
	onet_t *t = calloc(1, sizeof(*t));
	rec_t r2;
	weft_gossip_stats_t st;

	(void)state;
	assert_non_null(t);
	o_init(t);
	t->n[0].alive = t->n[1].alive = t->n[2].alive = 1;
	o_up(t, 0, 1);
	o_up(t, 0, 2);
	o_drain(t);
	r2.trust = &t->trust;
	r2.now_us = o_unix(t);
	r2.pk = t->n[2].kp->pk;
	r2.env = NULL;
	weft_gossip_each(t->n[2].g, rec_cb, &r2);
	assert_non_null(r2.env);
	/* a Join must carry the sender's own record */
	assert_int_not_equal(o_send_join(t, 1, 0, 0, r2.env, r2.len, 0), 0);
	/* a ForwardJoin over the ttl bound is not even decoded */
	assert_int_not_equal(o_send_join(t, 1, 0, 1, r2.env, r2.len, 9), 0);
	/* garbage as a record */
	assert_int_not_equal(
	    o_send_join(t, 1, 0, 1, (const uint8_t *)"junk", 4, 1), 0);
	/* one Join per session: a second one does nothing */
	weft_gossip_stats(t->n[2].g, &st);
	assert_int_equal(o_send_join(t, 2, 0, 0, r2.env, r2.len, 0), 0);
	assert_int_equal(o_send_join(t, 2, 0, 0, r2.env, r2.len, 0), 0);
	{
		weft_gossip_stats_t s0;

		weft_gossip_stats(t->n[0].g, &s0);
		assert_int_equal(s0.joins_in, 2); /* o2's first + this one:
						   * o2 sent its own at
						   * link up */
	}
	free(r2.env);
	o_drain(t);
	o_free(t);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bounded_join),
	    cmocka_unit_test(test_hostile_join),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
