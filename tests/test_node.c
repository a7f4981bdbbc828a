/*
 * test_node.c: cmocka tests for node/node: the node core that the agent
 * and the simulator embed. Two cores of one org wired through memory:
 * gossip messages reach the gossip core (node records cross), a Bulk
 * flush marker is answered on the same session and counted, kinds no
 * core handles are ignored, hostile bytes are refused without effect,
 * both ends agree which duplicate session stays, the link policy, and
 * outputs left unpolled are freed.
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

#include "node/node.h"

#define T0 1700000000
#define IV 100

typedef struct nd {
	weft_keypair_t *kp;
	uint8_t *cert;
	size_t cert_len;
	weft_signer_t signer;
	weft_node_t *n;
} nd_t;

typedef struct fx {
	weft_keypair_t *org;
	weft_pubkey_t root;
	weft_trust_t trust;
	nd_t a, b;
	uint64_t now;
} fx_t;

static int64_t
unix_us(const fx_t *f)
{
	return (int64_t)T0 * 1000000 + (int64_t)f->now * 1000;
}

static void
nd_make(fx_t *f, nd_t *d, const char *name, uint64_t seed)
{
	weft_node_cfg_t c;
	char addr[32];
	const char *addrs[1] = {addr};

	assert_int_equal(weft_key_generate(WEFT_KEY_NODE, name, &d->kp, NULL),
			 0);
	assert_int_equal(weft_cert_issue(f->org, name, d->kp->pk, NULL, 0,
					 T0 - 100, T0 + 86400, seed, &d->cert,
					 &d->cert_len, NULL),
			 0);
	d->signer.kp = d->kp;
	d->signer.cert = d->cert;
	d->signer.cert_len = d->cert_len;
	d->signer.org = "acme";
	d->signer.node = name;
	memset(&c, 0, sizeof(c));
	snprintf(addr, sizeof(addr), "10.0.0.%llu:7946",
		 (unsigned long long)seed);
	c.gossip.signer = &d->signer;
	c.gossip.trust = &f->trust;
	c.gossip.addresses = addrs;
	c.gossip.naddresses = 1;
	c.gossip.interval_ms = IV;
	c.gossip.seed = seed;
	assert_int_equal(weft_node_new(&d->n, &c, f->now, unix_us(f), NULL), 0);
}

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	f->now = 1000;
	assert_int_equal(weft_key_generate(WEFT_KEY_ORG, "acme", &f->org, NULL),
			 0);
	f->root.kind = WEFT_KEY_ORG;
	snprintf(f->root.name, sizeof(f->root.name), "acme");
	memcpy(f->root.pk, f->org->pk, WEFT_PK_BYTES);
	f->trust.roots = &f->root;
	f->trust.n = 1;
	nd_make(f, &f->a, "a", 1);
	nd_make(f, &f->b, "b", 2);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx_t *f = *state;
	nd_t *d[2] = {&f->a, &f->b};
	int i;

	for (i = 0; i < 2; i++) {
		weft_node_free(d[i]->n);
		weft_key_free(d[i]->kp);
		free(d[i]->cert);
	}
	weft_key_free(f->org);
	free(f);
	return 0;
}

/* Carry every output of `from` (peer id 1 = the other node): SENDs as
 * packed bytes into `to`. Returns the number of SENDs carried. */
static int
carry(fx_t *f, nd_t *from, nd_t *to)
{
	weft_out_t o;
	int sends = 0;

	while (weft_node_poll(from->n, &o)) {
		if (o.kind == WEFT_OUT_SEND && o.peer == 1) {
			size_t len = weft__wire_message__get_packed_size(o.msg);
			uint8_t *buf = malloc(len ? len : 1);

			assert_non_null(buf);
			weft__wire_message__pack(o.msg, buf);
			assert_int_equal(weft_node_input(to->n, f->now,
							 unix_us(f), 1, buf,
							 len, NULL),
					 0);
			free(buf);
			sends++;
		}
		weft_node_out_free(&o);
	}
	return sends;
}

static int
has_member(const weft_node_t *n, const char *name)
{
	weft_gossip_member_t *m = NULL;
	size_t k, count = 0;
	int found = 0;

	assert_int_equal(weft_gossip_members(weft_node_gossip(n), &m, &count),
			 0);
	for (k = 0; k < count; k++)
		found |= strcmp(m[k].name, name) == 0;
	free(m);
	return found;
}

static void
link_up(fx_t *f)
{
	weft_node_peer_up(f->a.n, f->now, 1, f->b.kp->pk, "acme", 0);
	weft_node_peer_up(f->b.n, f->now, 1, f->a.kp->pk, "acme", 0);
}

static void
test_gossip_dispatched(void **state)
{
	fx_t *f = *state;
	int i, moved = 0;

	assert_false(has_member(f->b.n, "a"));
	link_up(f);
	for (i = 0; i < 20; i++) {
		f->now += IV;
		weft_node_tick(f->a.n, f->now, unix_us(f));
		weft_node_tick(f->b.n, f->now, unix_us(f));
		moved += carry(f, &f->a, &f->b);
		moved += carry(f, &f->b, &f->a);
	}
	assert_true(moved > 0);
	assert_true(has_member(f->b.n, "a"));
	assert_true(has_member(f->a.n, "b"));
	assert_true(weft_node_next_timer(f->a.n) != UINT64_MAX);
}

static void
test_bulk_flush_marker(void **state)
{
	fx_t *f = *state;
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__Bulk b = WEFT__BULK__INIT;
	uint8_t data[100] = {0};
	weft_node_stats_t st;
	weft_out_t o;

	link_up(f);
	while (weft_node_poll(f->a.n, &o))
		weft_node_out_free(&o);
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_BULK;
	m.bulk = &b;
	b.data.data = data;
	b.data.len = sizeof(data);
	assert_int_equal(
	    weft_node_recv(f->a.n, f->now, unix_us(f), 1, &m, NULL), 0);
	assert_int_equal(weft_node_poll(f->a.n, &o), 0); /* data: no answer */
	b.data.len = 0; /* a flush marker: answered with an empty Bulk */
	assert_int_equal(
	    weft_node_recv(f->a.n, f->now, unix_us(f), 7, &m, NULL), 0);
	assert_int_equal(weft_node_poll(f->a.n, &o), 1);
	assert_int_equal(o.kind, WEFT_OUT_SEND);
	assert_int_equal(o.peer, 7);
	assert_int_equal(o.msg->msg_case, WEFT__WIRE_MESSAGE__MSG_BULK);
	assert_int_equal(o.msg->bulk->data.len, 0);
	weft_node_out_free(&o);
	weft_node_stats(f->a.n, &st);
	assert_int_equal(st.bulk_bytes_in, sizeof(data));
	assert_int_equal(st.msgs_in, 2);
	/* an answer left unpolled is freed with the core (ASan checks) */
	assert_int_equal(
	    weft_node_recv(f->a.n, f->now, unix_us(f), 7, &m, NULL), 0);
}

static void
test_ignored_and_hostile(void **state)
{
	fx_t *f = *state;
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__Ping ping = WEFT__PING__INIT;
	Weft__GossipPrune prune = WEFT__GOSSIP_PRUNE__INIT;
	uint8_t junk[64];
	weft_node_stats_t st;
	weft_err_t err = {0};
	weft_out_t o;

	/* a Ping never reaches the node core from a session: if a driver
	 * passed one, it is counted and ignored */
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_PING;
	m.ping = &ping;
	assert_int_equal(
	    weft_node_recv(f->a.n, f->now, unix_us(f), 1, &m, NULL), 0);
	/* hostile bytes: refused, nothing queued, the core keeps working */
	memset(junk, 0xff, sizeof(junk));
	assert_int_equal(weft_node_input(f->a.n, f->now, unix_us(f), 1, junk,
					 sizeof(junk), &err),
			 WEFT_EPARSE);
	assert_true(strlen(err.msg) > 0);
	/* a gossip message on a session the core never heard of */
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_PRUNE;
	m.prune = &prune;
	memset(&err, 0, sizeof(err));
	assert_true(weft_node_recv(f->a.n, f->now, unix_us(f), 99, &m, &err) <
		    0);
	assert_non_null(strstr(err.msg, "unknown peer"));
	weft_node_stats(f->a.n, &st);
	assert_int_equal(st.ignored_in, 1);
	assert_int_equal(st.proto_errors, 2);
	while (weft_node_poll(f->a.n, &o)) {
		assert_int_not_equal(o.kind, WEFT_OUT_SEND); /* no replies */
		weft_node_out_free(&o);
	}
}

static void
test_link_policy(void **state)
{
	fx_t *f = *state;

	/* duplicate sessions: exactly one side keeps the one it dialled */
	assert_int_not_equal(weft_node_keep_dialled(f->a.n, f->b.kp->pk),
			     weft_node_keep_dialled(f->b.n, f->a.kp->pk));
	assert_int_equal(weft_node_may_link(f->a.n, "globex", 0), 1);
	weft_node_set_policy(f->a.n, 0, "globex");
	assert_int_equal(weft_node_may_link(f->a.n, "globex", 1), 0);
	assert_int_equal(weft_node_may_link(f->a.n, "acme", 0), 1);
	weft_node_set_policy(f->a.n, 1, "globex"); /* we are a gateway */
	assert_int_equal(weft_node_may_link(f->a.n, "globex", 1), 1);
	assert_int_equal(weft_node_may_link(f->a.n, "globex", 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_gossip_dispatched, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bulk_flush_marker, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_ignored_and_hostile, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_link_policy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
