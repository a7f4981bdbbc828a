/*
 * test_gossip.c: cmocka tests for node/gossip: N cores in one process on
 * a random overlay, with a virtual clock; every message is packed and
 * decoded (weft_wire_decode) on its way, as on the wire. Dissemination of
 * node records and descriptors (new version, drop), anti-entropy after a
 * link was down, failure reports and refutation, and hostile entries
 * (broken signature, replayed old version, another node's origin,
 * a flood over the verification budget).
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

#include "crypto/identity.h"
#include "crypto/revoke.h"
#include "lib/util.h"
#include "node/gossip.h"
#include "node/gossip_int.h" /* weft_gossip__key: an announcement's key */
#include "node/session.h"
#include "node/wire.h"
#include "storage/entry.h"

#include "tests/gossip_net.h"

static void
test_dissemination(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	uint8_t *env;
	size_t len;
	uint64_t pushes, grafts, p2, g2;
	int i;

	(void)state;
	assert_non_null(t);
	net_init(t, 32);
	overlay(t);
	drain(t);
	/* links off the broadcast tree announce at the next tick */
	tick_all(t, 2 * IV);
	assert_true(same_roots(t));
	for (i = 0; i < 32; i++)
		assert_int_equal(
		    holders(t, WEFT_ENTRY_NODE, t->n[i].kp->pk, "node", 1, 0),
		    32);
	/* A product published on n5 reaches everyone, then a new version,
	 * then its drop. */
	env = descriptor(t, 5, "shop.events", 10, 0, &len);
	assert_int_equal(
	    weft_gossip_offer(t->n[5].g, t->now, unix_us(t), env, len, 1, NULL),
	    1);
	free(env);
	drain(t);
	assert_int_equal(holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[5].kp->pk,
				 "shop.events", 10, 0),
			 32);
	/* That first broadcast pruned the links that carried duplicates:
	 * what is left on the tree spans the overlay, so the next version
	 * reaches everyone with one push per node (Plumtree). */
	tick_all(t, 2 * IV);
	tree_totals(t, &pushes, &grafts);
	offer_own(t, 5, "shop.events", 11);
	drain(t);
	assert_int_equal(holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[5].kp->pk,
				 "shop.events", 11, 0),
			 32);
	tree_totals(t, &p2, &g2);
	assert_int_equal(p2 - pushes, 31);
	/* the other links hear of it lazily at the next tick, and since
	 * every node holds it, nobody grafts */
	tick_all(t, 2 * IV);
	tree_totals(t, &p2, &g2);
	assert_int_equal(g2, grafts);
	env = descriptor(t, 5, "shop.events", 12, 1, &len);
	weft_gossip_offer(t->n[5].g, t->now, unix_us(t), env, len, 1, NULL);
	free(env);
	drain(t);
	assert_int_equal(holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[5].kp->pk,
				 "shop.events", 12, 1),
			 32);
	assert_true(same_roots(t));
	net_free(t);
	free(t);
}

/* Members node i holds failed (not itself). */
static int
failed_marks(net_t *t, int i)
{
	weft_gossip_member_t *mem;
	size_t n, k;
	int failed = 0;

	assert_int_equal(weft_gossip_members(t->n[i].g, &mem, &n), 0);
	for (k = 0; k < n; k++)
		failed += mem[k].failed && !mem[k].self;
	free(mem);
	return failed;
}

/* Partial membership: records stay one hop, descriptors reach all. */
static void
test_partial(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	weft_gossip_member_t *mem;
	uint8_t *env;
	size_t len, n;
	int i, j, links;

	(void)state;
	assert_non_null(t);
	partial_membership = 1;
	dial_links = 1; /* the overlay's walks end in links */
	net_init(t, 32);
	overlay(t);
	drain(t);
	tick_all(t, 2 * IV);
	assert_true(same_roots(t));
	for (i = 0; i < 32; i++) {
		weft_gossip_stats_t st;

		for (links = 0, j = 0; j < 32; j++)
			links += t->n[i].up[j];
		assert_int_equal(weft_gossip_members(t->n[i].g, &mem, &n), 0);
		weft_gossip_stats(t->n[i].g, &st);
		/* neighbours and self, and the joiners of the overlay's
		 * walks that ended here (dialled: the passive view) */
		assert_in_range(n, (size_t)links + 1,
				(size_t)links + 1 + st.forward_joins_in);
		free(mem);
	}
	env = descriptor(t, 9, "ops.logs", 3, 0, &len);
	assert_int_equal(
	    weft_gossip_offer(t->n[9].g, t->now, unix_us(t), env, len, 1, NULL),
	    1);
	free(env);
	drain(t);
	tick_all(t, 2 * IV);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[9].kp->pk, "ops.logs", 3, 0),
	    32);
	assert_true(same_roots(t));
	/* A link lost past the suspect timeout: n0 reports n1 failed; when
	 * the link is back, n0 hands n1 its report, n1 refutes it, and
	 * nobody holds a live node failed. (The test's links from here:
	 * DIALs not carried out.) */
	dial_links = 0;
	link_down(t, 0, 1);
	tick_all(t, 6 * IV);
	assert_int_equal(failed_marks(t, 0), 1);
	link_up(t, 0, 1);
	drain(t);
	tick_all(t, 2 * IV);
	for (i = 0; i < 32; i++)
		assert_int_equal(failed_marks(t, i), 0);
	partial_membership = 0;
	net_free(t);
	free(t);
}

static void
test_anti_entropy(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	int j;

	(void)state;
	assert_non_null(t);
	net_init(t, 8);
	for (j = 0; j < 8; j++)
		link_up(t, j, (j + 1) % 8);
	drain(t);
	/* n3 is cut off, publishes, then its links come back: the summary
	 * exchanged on link-up finds the difference. */
	link_down(t, 3, 2);
	link_down(t, 3, 4);
	offer_own(t, 3, "ops.logs", 1);
	offer_own(t, 6, "ops.metrics", 1);
	drain(t);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[3].kp->pk, "ops.logs", 1, 0),
	    1);
	link_up(t, 3, 4);
	drain(t);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[3].kp->pk, "ops.logs", 1, 0),
	    8);
	assert_int_equal(holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[6].kp->pk,
				 "ops.metrics", 1, 0),
			 8);
	assert_true(same_roots(t));
	net_free(t);
	free(t);
}

/* Anti-entropy moves what differs, not whole origins: n0 holds 300
 * products n1 holds too; cut off, it updates one and adds one; when the
 * link is back, n1 receives those two entries and no duplicate (it
 * received n0's 302 when anti-entropy pushed whole origins). */
static void
test_repair_differs(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	weft_gossip_stats_t a0, a1, b0, b1;
	char name[32];
	int j;

	(void)state;
	assert_non_null(t);
	net_init(t, 2);
	link_up(t, 0, 1);
	drain(t);
	for (j = 0; j < 300; j++) {
		snprintf(name, sizeof(name), "d.p%d", j);
		offer_own(t, 0, name, 1);
		if (j % 100 == 99) { /* within a tick's budget */
			drain(t);
			tick_all(t, IV);
		}
	}
	drain(t);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, "d.p299", 1, 0),
	    2);
	link_down(t, 0, 1);
	offer_own(t, 0, "d.p7", 2);
	offer_own(t, 0, "d.new", 1);
	drain(t);
	tick_all(t, IV);
	weft_gossip_stats(t->n[0].g, &b0);
	weft_gossip_stats(t->n[1].g, &b1);
	link_up(t, 0, 1);
	drain(t);
	weft_gossip_stats(t->n[0].g, &a0);
	weft_gossip_stats(t->n[1].g, &a1);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, "d.p7", 2, 0), 2);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, "d.new", 1, 0),
	    2);
	assert_true(same_roots(t));
	assert_int_equal(a1.accepted - b1.accepted, 2);
	/* two at most: the records in the Joins (each end's first
	 * neighbour came up: it asks to be introduced, gossip_overlay.c) */
	assert_true(a0.duplicates - b0.duplicates <= 1);
	assert_true(a1.duplicates - b1.duplicates <= 1);
	assert_true(a0.lists_out > b0.lists_out);
	assert_true(a1.repairs_out > b1.repairs_out);
	net_free(t);
	free(t);
}

/* A lost neighbour that was on the broadcast tree takes a branch with
 * it: our other links go eager, so the next broadcast reaches what hung
 * below it at once (a let-go neighbour, not a failure, does not). */
static void
test_loss_eager(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	char name[32];
	size_t i, lazy = 0;
	g_peer_t *p;
	int a, b, j;

	(void)state;
	assert_non_null(t);
	net_init(t, 4);
	for (a = 0; a < 4; a++)
		for (b = a + 1; b < 4; b++)
			link_up(t, a, b);
	drain(t);
	for (j = 0; j < 4; j++) { /* the tree prunes the other links */
		snprintf(name, sizeof(name), "t.p%d", j);
		offer_own(t, 0, name, 1);
		drain(t);
	}
	p = weft_gossip__peer(t->n[1].g, 1); /* n1's link to n0 */
	assert_non_null(p);
	assert_int_equal(p->lazy, 0);
	for (i = 0; i < 3; i++)
		lazy += (size_t)t->n[1].g->peers[i].lazy;
	assert_true(lazy > 0);
	link_down(t, 1, 0);
	assert_int_equal(t->n[1].g->npeers, 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(t->n[1].g->peers[i].lazy, 0);
	net_free(t);
	free(t);
}

static int
failed_seen(net_t *t, int subject)
{
	int i, n = 0;

	for (i = 0; i < t->count; i++) {
		weft_gossip_member_t *m;
		size_t nm, k;

		if (!t->n[i].alive || i == subject)
			continue;
		assert_int_equal(weft_gossip_members(t->n[i].g, &m, &nm), 0);
		for (k = 0; k < nm; k++)
			if (memcmp(m[k].pk, t->n[subject].kp->pk, 32) == 0 &&
			    m[k].failed)
				n++;
		free(m);
	}
	return n;
}

static void
test_failure_and_refute(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	int j;

	(void)state;
	assert_non_null(t);
	net_init(t, 8);
	for (j = 0; j < 8; j++) {
		link_up(t, j, (j + 1) % 8);
		link_up(t, j, (j + 3) % 8);
	}
	drain(t);
	/* n2 dies: its neighbours lose it, redial in vain, and report. */
	t->n[2].alive = 0;
	for (j = 0; j < 8; j++)
		link_down(t, 2, j);
	tick_all(t, 2 * IV);
	assert_int_equal(failed_seen(t, 2), 0); /* still in suspicion */
	tick_all(t, 3 * IV);
	assert_int_equal(failed_seen(t, 2), 7);
	/* A live node reported failed (a false suspicion: n6 and n0 lose
	 * their links to it) sees the reports through n4 and refutes them
	 * with a newer record. */
	link_down(t, 5, 6);
	link_down(t, 5, 0);
	tick_all(t, 6 * IV);
	assert_true(holders(t, WEFT_ENTRY_NODE, t->n[5].kp->pk, "node", 1, 0) ==
		    7);
	assert_int_equal(failed_seen(t, 5), 0);
	{
		weft_gossip_stats_t st;

		weft_gossip_stats(t->n[6].g, &st);
		assert_true(st.entries > 8 + 1); /* records + the reports */
	}
	/* n2 comes back with nothing stored: its new record wins. */
	weft_gossip_free(t->n[2].g);
	node_start(t, 2);
	link_up(t, 2, 3);
	drain(t);
	tick_all(t, 2 * IV);
	assert_int_equal(failed_seen(t, 2), 0);
	assert_true(same_roots(t));
	net_free(t);
	free(t);
}

/* A descriptor of node i issued at unix time `at` (µs). */
static uint8_t *
descriptor_at(net_t *t, int i, const char *name, int64_t at, size_t *len)
{
	Weft__ProductDescriptor d = WEFT__PRODUCT_DESCRIPTOR__INIT;
	uint8_t *env = NULL, body[256];
	size_t blen;

	d.name = (char *)name;
	d.org = (char *)t->n[i].orgname;
	d.node = t->n[i].name;
	d.version = 1;
	blen = weft__product_descriptor__pack(&d, body);
	assert_int_equal(weft_entry_make_at(&t->n[i].signer,
					    WEFT_ENTRY_DESCRIPTOR, name, 1, 0,
					    0, body, blen, at, &env, len, NULL),
			 0);
	return env;
}

/* The version of node subj's record as node i holds it (0: none). */
static uint64_t
record_version(net_t *t, int i, int subj)
{
	weft_gossip_member_t *m;
	size_t nm, k;
	uint64_t v = 0;

	assert_int_equal(weft_gossip_members(t->n[i].g, &m, &nm), 0);
	for (k = 0; k < nm; k++)
		if (memcmp(m[k].pk, t->n[subj].kp->pk, 32) == 0)
			v = m[k].version;
	free(m);
	return v;
}

/* Issue 14, finding 5: failure reports that lie. A trusted member's
 * report of a version its subject never issued (UINT64_MAX), one filed
 * under another name, one that never expires and one made in the future
 * are refused; an honest-looking report marks its subject failed only
 * until it expires, and never where a session with the subject is up. */
static void
test_report_lies(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	uint8_t *env;
	size_t len;
	weft_err_t err;
	weft_gossip_stats_t st0;
	int64_t now;
	uint64_t v3;

	(void)state;
	assert_non_null(t);
	net_init(t, 4);
	link_up(t, 0, 1);
	link_up(t, 1, 2);
	link_up(t, 2, 3);
	drain(t);
	now = unix_us(t);
	v3 = record_version(t, 1, 3);
	assert_true(v3 > 0);
	/* n3 goes quiet but its link to n2 stays up: it cannot refute */
	t->n[3].alive = 0;
	/* the version of a record n3 never issued */
	env = report(t, 0, 3, UINT64_MAX, now, now + 60000000, NULL, &len);
	memset(&err, 0, sizeof(err));
	assert_true(
	    weft_gossip_offer(t->n[1].g, t->now, now, env, len, 1, &err) < 0);
	assert_non_null(strstr(err.msg, "later than the report itself"));
	free(env);
	/* filed under another node's name */
	env = report(t, 0, 3, v3, now, now + 60000000, "0123abcd", &len);
	memset(&err, 0, sizeof(err));
	assert_true(
	    weft_gossip_offer(t->n[1].g, t->now, now, env, len, 1, &err) < 0);
	assert_non_null(strstr(err.msg, "filed under the name"));
	free(env);
	/* never expiring, or expiring in two hours */
	env = report(t, 0, 3, v3, now, 0, NULL, &len);
	memset(&err, 0, sizeof(err));
	assert_true(
	    weft_gossip_offer(t->n[1].g, t->now, now, env, len, 1, &err) < 0);
	assert_non_null(strstr(err.msg, "must expire within 3600 s"));
	free(env);
	env = report(t, 0, 3, v3, now, now + 7200000000LL, NULL, &len);
	assert_true(
	    weft_gossip_offer(t->n[1].g, t->now, now, env, len, 1, NULL) < 0);
	free(env);
	/* any entry issued an hour from now; a minute is within the skew */
	env = descriptor_at(t, 0, "x.future", now + 3600000000LL, &len);
	memset(&err, 0, sizeof(err));
	assert_true(
	    weft_gossip_offer(t->n[1].g, t->now, now, env, len, 1, &err) < 0);
	assert_non_null(strstr(err.msg, "ahead of this node's clock"));
	free(env);
	env = descriptor_at(t, 0, "x.soon", now + 60000000LL, &len);
	assert_int_equal(
	    weft_gossip_offer(t->n[1].g, t->now, now, env, len, 1, NULL), 1);
	free(env);
	/* made an hour from now */
	env = report(t, 0, 3, v3, now + 3600000000LL, now + 3700000000LL, NULL,
		     &len);
	memset(&err, 0, sizeof(err));
	assert_true(
	    weft_gossip_offer(t->n[1].g, t->now, now, env, len, 1, &err) < 0);
	assert_non_null(strstr(err.msg, "in the future"));
	free(env);
	drain(t);
	assert_int_equal(failed_seen(t, 3), 0);
	/* an honest-looking report, expiring in 2 s: n0 and n1 see n3
	 * failed; n2, whose session with n3 is up, does not */
	weft_gossip_stats(t->n[1].g, &st0);
	env = report(t, 0, 3, v3, now, now + 2000000, NULL, &len);
	assert_int_equal(
	    weft_gossip_offer(t->n[1].g, t->now, now, env, len, 1, NULL), 1);
	free(env);
	drain(t);
	assert_int_equal(failed_seen(t, 3), 2);
	/* it expires: nobody sees n3 failed any more, and every node has
	 * forgotten it, so all digests agree again (finding 10) */
	tick_all(t, 2500);
	assert_int_equal(failed_seen(t, 3), 0);
	{
		uint8_t r0[16], ri[16];
		uint64_t c0, ci;
		weft_gossip_stats_t st;
		int i;

		weft_gossip_root(t->n[0].g, r0, &c0);
		for (i = 0; i < 3; i++) { /* n3 is quiet */
			weft_gossip_stats(t->n[i].g, &st);
			assert_int_equal(st.entries, st0.entries);
			weft_gossip_root(t->n[i].g, ri, &ci);
			assert_int_equal(ci, c0);
			assert_memory_equal(ri, r0, 16);
		}
	}
	net_free(t);
	free(t);
}

static void
test_hostile(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	uint8_t *env, *old;
	size_t len, old_len;
	weft_gossip_stats_t st;
	weft_err_t err = {0};
	int k;

	(void)state;
	assert_non_null(t);
	net_init(t, 4);
	link_up(t, 0, 1);
	link_up(t, 1, 2);
	link_up(t, 2, 3);
	drain(t);
	/* A broken signature: refused, not stored, not passed on. */
	env = descriptor(t, 0, "x.y", 5, 0, &len);
	env[len - 3] ^= 1;
	assert_true(weft_gossip_offer(t->n[1].g, t->now, unix_us(t), env, len,
				      1, &err) < 0);
	free(env);
	drain(t);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, "x.y", 5, 0), 0);
	/* A replayed old version: a duplicate, nothing changes. */
	old = descriptor(t, 0, "x.y", 6, 0, &old_len);
	env = descriptor(t, 0, "x.y", 7, 0, &len);
	weft_gossip_offer(t->n[0].g, t->now, unix_us(t), env, len, 1, NULL);
	drain(t);
	assert_int_equal(weft_gossip_offer(t->n[2].g, t->now, unix_us(t), old,
					   old_len, 1, NULL),
			 0);
	drain(t);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, "x.y", 7, 0), 4);
	free(env);
	free(old);
	/* A flood from one neighbour: past the budget, throttled. */
	{
		Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
		Weft__GossipPush p = WEFT__GOSSIP_PUSH__INIT;
		ProtobufCBinaryData *es = calloc(3000, sizeof(*es));
		char name[32];

		assert_non_null(es);
		for (k = 0; k < 3000; k++) {
			snprintf(name, sizeof(name), "flood.p%d", k);
			es[k].data = descriptor(t, 0, name, 1, 0, &es[k].len);
		}
		p.entries = es;
		p.n_entries = 3000;
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_PUSH;
		m.push = &p;
		assert_int_equal(
		    recv_turns(t->n[1].g, t->now, unix_us(t), 1, &m, NULL), 0);
		weft_gossip_stats(t->n[1].g, &st);
		/* the budget (2000 a tick) was partly spent on honest
		 * entries already */
		assert_true(st.throttled >= 1000 && st.throttled < 1050);
		for (k = 0; k < 3000; k++)
			free(es[k].data);
		free(es);
	}
	net_free(t);
	free(t);
}

/* Amplification: 50 bogus summaries in one interval get at most 8
 * digests back; a graft asking 4096 times for one entry gets at
 * most the per-interval budget (2000) of it. */
static void
test_amplify(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__GossipSummary sm = WEFT__GOSSIP_SUMMARY__INIT;
	Weft__GossipGraft gr = WEFT__GOSSIP_GRAFT__INIT;
	ProtobufCBinaryData *keys = calloc(4096, sizeof(*keys));
	crypto_generichash_state hs;
	uint8_t root[16] = {9}, key[16], kind = WEFT_ENTRY_DESCRIPTOR;
	weft_gossip_stats_t before, after;
	weft_out_t o;
	size_t pushed = 0;
	int k;

	(void)state;
	assert_non_null(t);
	assert_non_null(keys);
	net_init(t, 2);
	link_up(t, 0, 1);
	offer_own(t, 0, "x.y", 7);
	drain(t);
	tick_all(t, IV); /* fresh budgets */
	drain(t);
	weft_gossip_stats(t->n[1].g, &before);
	sm.root.data = root;
	sm.root.len = 16;
	sm.count = 1;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_SUMMARY;
	m.summary = &sm;
	for (k = 0; k < 50; k++)
		assert_int_equal(
		    recv_turns(t->n[1].g, t->now, unix_us(t), 1, &m, NULL), 0);
	weft_gossip_stats(t->n[1].g, &after);
	assert_true(after.digests_out - before.digests_out <= 8);
	assert_true(after.throttled - before.throttled >= 42);
	/* the entry x.y of n0, by its key (as gossip.c makes it) */
	crypto_generichash_init(&hs, NULL, 0, 16);
	crypto_generichash_update(&hs, &kind, 1);
	crypto_generichash_update(&hs, t->n[0].kp->pk, WEFT_PK_BYTES);
	crypto_generichash_update(&hs, (const uint8_t *)"x.y", 3);
	crypto_generichash_final(&hs, key, 16);
	for (k = 0; k < 4096; k++) {
		keys[k].data = key;
		keys[k].len = 16;
	}
	gr.keys = keys;
	gr.n_keys = 4096;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_GRAFT;
	m.graft = &gr;
	while (weft_gossip_poll(t->n[1].g, &o)) { /* the digests */
		weft_gossip_msg_free(o.msg);
		free(o.env);
	}
	assert_int_equal(recv_turns(t->n[1].g, t->now, unix_us(t), 1, &m, NULL),
			 0);
	while (weft_gossip_poll(t->n[1].g, &o)) {
		if (o.kind == WEFT_OUT_SEND &&
		    o.msg->msg_case == WEFT__WIRE_MESSAGE__MSG_PUSH)
			pushed += o.msg->push->n_entries;
		weft_gossip_msg_free(o.msg);
		free(o.env);
	}
	assert_true(pushed > 0 && pushed <= 2000);
	free(keys);
	net_free(t);
	free(t);
}

/* Orgs acme (n0-n2, gateway n2) and globex (n3-n5, gateway n3), linked
 * n0-n1-n2=n3-n4-n5: products cross only as their visibility allows,
 * node records only of gateways, and the filtered summaries across the
 * gateway link agree once converged (no endless repair). */
/* Issue 14, finding 10: the gateway role comes from the certificate. A
 * node whose certificate has no role but whose record claims "gateway"
 * is no gateway to the others: its roles show empty. */
static void
test_gateway_claim(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	weft_gossip_member_t *m;
	size_t nm, k;
	int seen = 0;

	(void)state;
	assert_non_null(t);
	net_init(t, 3);
	/* n2 restarts claiming the role its certificate lacks */
	weft_gossip_free(t->n[2].g);
	t->n[2].gateway = 1;
	node_start(t, 2);
	t->n[2].gateway = 0;
	link_up(t, 0, 1);
	link_up(t, 1, 2);
	drain(t);
	assert_int_equal(weft_gossip_members(t->n[0].g, &m, &nm), 0);
	for (k = 0; k < nm; k++)
		if (memcmp(m[k].pk, t->n[2].kp->pk, 32) == 0) {
			assert_string_equal(m[k].roles, "");
			seen = 1;
		}
	free(m);
	assert_true(seen);
	net_free(t);
	free(t);
}

static void
test_trust_boundary(void **state)
{
	static const int orgs[6] = {0, 0, 0, 1, 1, 1};
	static const int gw[6] = {0, 0, 1, 1, 0, 0};
	net_t *t = calloc(1, sizeof(*t));
	uint8_t *env;
	size_t len, k;
	weft_gossip_stats_t st0, st1;
	weft_gossip_member_t *m;
	int i, pub;

	(void)state;
	assert_non_null(t);
	net_init_orgs(t, 6, orgs, gw);
	link_up(t, 0, 1);
	link_up(t, 1, 2);
	link_up(t, 2, 3);
	link_up(t, 3, 4);
	link_up(t, 4, 5);
	drain(t);
	env = descriptor_vis(t, 0, "a.private", 1, 0, 0, NULL, &len);
	weft_gossip_offer(t->n[0].g, t->now, unix_us(t), env, len, 1, NULL);
	free(env);
	env = descriptor_vis(t, 0, "a.shared", 1, 0, 1, "globex", &len);
	weft_gossip_offer(t->n[0].g, t->now, unix_us(t), env, len, 1, NULL);
	free(env);
	env = descriptor_vis(t, 5, "b.public", 1, 0, 2, NULL, &len);
	weft_gossip_offer(t->n[5].g, t->now, unix_us(t), env, len, 1, NULL);
	free(env);
	/* policies go to the orgs their grants name, never to others */
	env = policy_to(t, 0, "a.shared", "globex", &len);
	assert_int_equal(
	    weft_gossip_offer(t->n[0].g, t->now, unix_us(t), env, len, 1, NULL),
	    1);
	free(env);
	env = policy_to(t, 0, "a.private", "initech", &len);
	assert_int_equal(
	    weft_gossip_offer(t->n[0].g, t->now, unix_us(t), env, len, 1, NULL),
	    1);
	free(env);
	drain(t);
	tick_all(t, 5 * IV);
	assert_int_equal(holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk,
				 "a.private", 1, 0),
			 3); /* acme only */
	for (i = 3; i < 6; i++) {
		hold_t c = {
		    t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, "a.private", 1, 0,
		    0};

		weft_gossip_each(t->n[i].g, hold_cb, &c);
		assert_false(c.hit);
	}
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, "a.shared", 1, 0),
	    6);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[5].kp->pk, "b.public", 1, 0),
	    6);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_POLICY, t->n[0].kp->pk, "a.shared", 1, 0), 6);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_POLICY, t->n[0].kp->pk, "a.private", 1, 0),
	    3); /* acme only: it names initech, not globex */
	/* globex nodes know acme's gateway, not acme's other nodes */
	assert_int_equal(weft_gossip_members(t->n[5].g, &m, &k), 0);
	for (pub = 0, i = 0; i < (int)k; i++)
		pub += memcmp(m[i].pk, t->n[2].kp->pk, 32) == 0;
	assert_int_equal(pub, 1);
	assert_int_equal((int)k, 4); /* n3, n4, n5 and acme's gateway n2 */
	free(m);
	/* converged: another round of anti-entropy pushes nothing */
	weft_gossip_stats(t->n[2].g, &st0);
	tick_all(t, 5 * IV);
	weft_gossip_stats(t->n[2].g, &st1);
	assert_int_equal(st1.pushes_out, st0.pushes_out);
	/* a node of globex refuses an acme-private entry a bad gateway
	 * forwards */
	env = descriptor_vis(t, 0, "a.secret", 1, 0, 0, NULL, &len);
	{
		Weft__WireMessage w = WEFT__WIRE_MESSAGE__INIT;
		Weft__GossipPush p = WEFT__GOSSIP_PUSH__INIT;
		ProtobufCBinaryData e1 = {len, env};

		p.entries = &e1;
		p.n_entries = 1;
		w.msg_case = WEFT__WIRE_MESSAGE__MSG_PUSH;
		w.push = &p;
		assert_int_equal(
		    recv_turns(t->n[3].g, t->now, unix_us(t), 3, &w, NULL), 0);
	}
	free(env);
	weft_gossip_stats(t->n[3].g, &st0);
	assert_int_equal(st0.refused_visibility, 1);
	net_free(t);
	free(t);
}

/* A descriptor of node i with a description of dlen bytes. */
static uint8_t *
descriptor_big(net_t *t, int i, const char *name, size_t dlen, size_t *len)
{
	Weft__ProductDescriptor d = WEFT__PRODUCT_DESCRIPTOR__INIT;
	uint8_t *env = NULL, *body;
	size_t blen;

	d.name = (char *)name;
	d.org = (char *)t->n[i].orgname;
	d.node = t->n[i].name;
	d.version = 1;
	d.description = calloc(1, dlen + 1);
	assert_non_null(d.description);
	memset(d.description, 'x', dlen);
	blen = weft__product_descriptor__get_packed_size(&d);
	body = malloc(blen);
	assert_non_null(body);
	weft__product_descriptor__pack(&d, body);
	assert_int_equal(
	    weft_entry_make_at(&t->n[i].signer, WEFT_ENTRY_DESCRIPTOR, name, 1,
			       0, 0, body, blen, unix_us(t), &env, len, NULL),
	    0);
	free(body);
	free(d.description);
	return env;
}

/*
 * Quotas (issue 14, finding 1): an insider origin of our own org (n2)
 * floods n1 through n0; it keeps its quota of entries and no more, while
 * n0's honest entry still gets in. Org globex (n3, n4) shares one org
 * quota; a byte quota refuses a large descriptor; replacements beyond
 * an origin's burst wait for its rate.
 */
static void
test_quota(void **state)
{
	static const int orgs[5] = {0, 0, 0, 1, 1};
	weft_gossip_cfg_t q = {0};
	net_t *t = calloc(1, sizeof(*t));
	uint8_t *envs[16];
	size_t lens[16], k;
	weft_gossip_stats_t st0, st1;
	char name[32];
	int n;

	(void)state;
	assert_non_null(t);
	q.origin_entries = 5;
	q.org_entries = 8;
	q.origin_bytes = 12000;
	q.origin_rate = 0.05; /* a burst of 3, then one per 20 s */
	quotas = &q;
	net_init_orgs(t, 5, orgs, NULL);
	quotas = NULL;
	link_up(t, 0, 1);
	drain(t);
	weft_gossip_stats(t->n[1].g, &st0);
	/* n2 (acme): 8 new entries, its quota is 5 */
	for (k = 0; k < 8; k++) {
		snprintf(name, sizeof(name), "flood.p%zu", k);
		envs[k] = descriptor(t, 2, name, 1, 0, &lens[k]);
	}
	push_from(t, 1, 0, envs, lens, 8);
	for (k = 0, n = 0; k < 8; k++) {
		snprintf(name, sizeof(name), "flood.p%zu", k);
		n += held_on(t, 1, t->n[2].kp->pk, name, 1);
	}
	assert_int_equal(n, 5);
	weft_gossip_stats(t->n[1].g, &st1);
	assert_int_equal(st1.over_quota - st0.over_quota, 3);
	/* an honest entry of another origin still gets in */
	envs[0] = descriptor(t, 0, "honest.data", 1, 0, &lens[0]);
	push_from(t, 1, 0, envs, lens, 1);
	assert_true(held_on(t, 1, t->n[0].kp->pk, "honest.data", 1));
	/* org globex: 5 of n3 and 3 of n4 fill its quota of 8 */
	for (k = 0; k < 5; k++) {
		snprintf(name, sizeof(name), "g.a%zu", k);
		envs[k] = descriptor(t, 3, name, 1, 0, &lens[k]);
		snprintf(name, sizeof(name), "g.b%zu", k);
		envs[5 + k] = descriptor(t, 4, name, 1, 0, &lens[5 + k]);
	}
	push_from(t, 1, 0, envs, lens, 10);
	for (k = 0, n = 0; k < 5; k++) {
		snprintf(name, sizeof(name), "g.b%zu", k);
		n += held_on(t, 1, t->n[4].kp->pk, name, 1);
	}
	assert_true(held_on(t, 1, t->n[3].kp->pk, "g.a4", 1));
	assert_int_equal(n, 3);
	/* bytes: two of 3000 (and what they cost held) fit in n0's 12000
	 * with its record and honest.data, a third does not */
	for (k = 0; k < 3; k++) {
		snprintf(name, sizeof(name), "big.p%zu", k);
		envs[k] = descriptor_big(t, 0, name, 3000, &lens[k]);
	}
	push_from(t, 1, 0, envs, lens, 3);
	assert_true(held_on(t, 1, t->n[0].kp->pk, "big.p1", 1));
	assert_false(held_on(t, 1, t->n[0].kp->pk, "big.p2", 1));
	/* n2 replaces its 5: a burst of 3 gets in, 2 wait */
	for (k = 0; k < 5; k++) {
		snprintf(name, sizeof(name), "flood.p%zu", k);
		envs[k] = descriptor(t, 2, name, 2, 0, &lens[k]);
	}
	push_from(t, 1, 0, envs, lens, 5);
	for (k = 0, n = 0; k < 5; k++) {
		snprintf(name, sizeof(name), "flood.p%zu", k);
		n += held_on(t, 1, t->n[2].kp->pk, name, 2);
	}
	assert_int_equal(n, 3);
	t->now += 20000; /* one more token */
	for (k = 3; k < 5; k++) {
		snprintf(name, sizeof(name), "flood.p%zu", k);
		envs[k - 3] = descriptor(t, 2, name, 2, 0, &lens[k - 3]);
	}
	push_from(t, 1, 0, envs, lens, 2);
	assert_true(held_on(t, 1, t->n[2].kp->pk, "flood.p3", 2));
	assert_false(held_on(t, 1, t->n[2].kp->pk, "flood.p4", 2));
	net_free(t);
	free(t);
}

/* A revocation of node `subject` by org root `org`, carried by node
 * `carrier` (version: now); bad: the root's signature broken. */
static uint8_t *
revocation_bad(net_t *t, int carrier, const weft_keypair_t *org, int subject,
	       int bad, size_t *len)
{
	uint8_t *body = NULL, *env = NULL;
	size_t blen;
	char name[WEFT_REVOCATION_NAME + 1];
	weft_revoked_t k;

	assert_int_equal(weft_revocation_make(org, t->n[subject].kp->pk,
					      unix_us(t), "stolen", &body,
					      &blen, NULL),
			 0);
	if (bad)
		body[blen - 1] ^= 1; /* the signature is the last field */
	memcpy(k.subject, t->n[subject].kp->pk, WEFT_PK_BYTES);
	memcpy(k.org, org->pk, WEFT_PK_BYTES);
	assert_int_equal(weft_entry_make_at(&t->n[carrier].signer,
					    WEFT_ENTRY_REVOCATION,
					    weft_revocation_name(&k, name),
					    (uint64_t)unix_us(t), 0, 0, body,
					    blen, unix_us(t), &env, len, NULL),
			 0);
	free(body);
	return env;
}

static uint8_t *
revocation(net_t *t, int carrier, const weft_keypair_t *org, int subject,
	   size_t *len)
{
	return revocation_bad(t, carrier, org, subject, 0, len);
}

/* Is pk a member in node i's view? */
static int
member_of(net_t *t, int i, const uint8_t *pk)
{
	weft_gossip_member_t *m;
	size_t nm, k;
	int hit = 0;

	assert_int_equal(weft_gossip_members(t->n[i].g, &m, &nm), 0);
	for (k = 0; k < nm; k++)
		hit |= memcmp(m[k].pk, pk, WEFT_PK_BYTES) == 0;
	free(m);
	return hit;
}

/*
 * Revocation (issue 14, finding 9): n0 carries org acme's revocation of
 * n2; n0 and n1 drop n2's record and descriptor, are told (REVOKE), and
 * refuse what n2 sends next; n2 keeps its own. A revocation of n2 by
 * another org's root (globex, trusted) drops nothing of n2's.
 */
static void
test_revoke(void **state)
{
	static const int orgs[4] = {0, 0, 0, 1};
	net_t *t = calloc(1, sizeof(*t));
	uint8_t *env;
	size_t len;
	weft_err_t err = {0};

	(void)state;
	assert_non_null(t);
	net_init_orgs(t, 4, orgs, NULL);
	t->n[3].alive = 0; /* only its org root matters here */
	link_up(t, 0, 1);
	link_up(t, 1, 2);
	drain(t);
	env = descriptor(t, 2, "x.y", 1, 0, &len);
	assert_int_equal(
	    weft_gossip_offer(t->n[2].g, t->now, unix_us(t), env, len, 1, NULL),
	    1);
	free(env);
	drain(t);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[2].kp->pk, "x.y", 1, 0), 3);
	/* another org's root: held and passed on, n2's entries stay */
	env = revocation(t, 0, t->org2, 2, &len);
	assert_int_equal(
	    weft_gossip_offer(t->n[0].g, t->now, unix_us(t), env, len, 1, NULL),
	    1);
	free(env);
	drain(t);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[2].kp->pk, "x.y", 1, 0), 3);
	assert_true(member_of(t, 0, t->n[2].kp->pk));
	/* a revocation whose root signature is broken: refused */
	env = revocation_bad(t, 0, t->org, 2, 1, &len);
	assert_true(weft_gossip_offer(t->n[0].g, t->now, unix_us(t), env, len,
				      1, &err) < 0);
	assert_non_null(strstr(err.msg, "signature does not verify"));
	free(env);
	/* acme's own: n2 is gone from n0's and n1's view */
	t->now += 10;
	env = revocation(t, 0, t->org, 2, &len);
	assert_int_equal(
	    weft_gossip_offer(t->n[0].g, t->now, unix_us(t), env, len, 1, NULL),
	    1);
	free(env);
	drain(t);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[2].kp->pk, "x.y", 1, 0), 1);
	assert_false(member_of(t, 0, t->n[2].kp->pk));
	assert_false(member_of(t, 1, t->n[2].kp->pk));
	assert_true(t->n[0].revokes >= 2 && t->n[1].revokes >= 2);
	assert_int_equal(t->n[2].revokes, 2); /* told it was revoked */
	/* what n2 sends next is refused */
	env = descriptor(t, 2, "x.z", 1, 0, &len);
	assert_int_equal(
	    weft_gossip_offer(t->n[2].g, t->now, unix_us(t), env, len, 1, NULL),
	    1);
	free(env);
	drain(t);
	tick_all(t, 5 * IV);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[2].kp->pk, "x.z", 1, 0), 1);
	net_free(t);
	free(t);
}

/* A push's entries past a turn wait theirs (gossip_turn.c), and the
 * queues of two neighbours are taken in turn: one flooding neighbour does
 * not hold up another's entries behind its own. */
static void
test_turns(void **state)
{
	net_t *t;
	ProtobufCBinaryData *es[2];
	const uint8_t *pk[2];
	char name[32];
	int s, k, tot;

	(void)state;
	t = line3();
	for (s = 0; s < 2; s++) { /* 500 entries of n0 from n0, of n2 from n2 */
		es[s] = calloc(500, sizeof(*es[s]));
		assert_non_null(es[s]);
		for (k = 0; k < 500; k++) {
			snprintf(name, sizeof(name), "%c.p%d", s ? 'b' : 'a',
				 k);
			es[s][k].data =
			    descriptor(t, 2 * s, name, 1, 0, &es[s][k].len);
		}
		push_to(t, 1, (uint64_t)2 * s + 1, es[s], 500);
		pk[s] = t->n[2 * s].kp->pk;
	}
	/* all of both wait; none taken yet */
	assert_int_equal(weft_gossip_pending(t->n[1].g), 2 * 500);
	assert_int_equal(holders(t, WEFT_ENTRY_DESCRIPTOR, pk[0], "a.p0", 1, 0),
			 0);
	/* 64: the fast lane first (each origin's first G_FAST_ORIGIN: it
	 * sent more, so the rest wait their turn), then 16 of each queue in
	 * turn, not 64 of the first: each queue gave 8 + 16 or 8 + 32 */
	assert_int_equal(weft_gossip_work(t->n[1].g, t->now, unix_us(t), 64),
			 2 * 500 - 64);
	for (s = 0, tot = 0; s < 2; s++) {
		int held = 0;

		for (k = 0; k < 500; k++) {
			snprintf(name, sizeof(name), "%c.p%d", s ? 'b' : 'a',
				 k);
			if (holders(t, WEFT_ENTRY_DESCRIPTOR, pk[s], name, 1,
				    0) == 0)
				break;
			held++;
		}
		assert_true(held == G_FAST_ORIGIN + G_PEND_SLICE ||
			    held == G_FAST_ORIGIN + 2 * G_PEND_SLICE);
		snprintf(name, sizeof(name), "%c.p%d", s ? 'b' : 'a', held);
		assert_int_equal(
		    holders(t, WEFT_ENTRY_DESCRIPTOR, pk[s], name, 1, 0), 0);
		tot += held;
	}
	assert_int_equal(tot, 64);
	/* the rest; then n1 and the node that did not send an entry hold
	 * it (the sender is not sent its own back) */
	assert_int_equal(
	    weft_gossip_work(t->n[1].g, t->now, unix_us(t), SIZE_MAX), 0);
	drain(t);
	for (s = 0; s < 2; s++) {
		snprintf(name, sizeof(name), "%c.p499", s ? 'b' : 'a');
		assert_int_equal(
		    holders(t, WEFT_ENTRY_DESCRIPTOR, pk[s], name, 1, 0), 2);
		for (k = 0; k < 500; k++)
			free(es[s][k].data);
		free(es[s]);
	}
	net_free(t);
	free(t);
}

/*
 * The fast lane (gossip_turn.c): n1 gets 500 new entries of n0's from
 * n0 (a flood), then one of n2's from n0 too (an honest publish along
 * the same tree link). The honest one goes ahead of the flood's backlog:
 * weft_gossip_work_fast (the agent's loop) takes it and the flood's
 * first few, not the rest of the flood; the rest waits for the verify
 * thread's turns.
 */
static void
test_fast_lane(void **state)
{
	net_t *t;
	ProtobufCBinaryData *es, one;
	char name[32];
	int k;

	(void)state;
	t = line3();
	es = calloc(500, sizeof(*es));
	assert_non_null(es);
	for (k = 0; k < 500; k++) {
		snprintf(name, sizeof(name), "flood.p%d", k);
		es[k].data = descriptor(t, 0, name, 1, 0, &es[k].len);
	}
	one.data = descriptor(t, 2, "honest.p", 1, 0, &one.len);
	push_to(t, 1, 1, es, 500);
	push_to(t, 1, 1, &one, 1);
	assert_int_equal(weft_gossip_pending(t->n[1].g), 501);
	/* the honest entry and the flood's first G_FAST_ORIGIN */
	assert_int_equal(weft_gossip_work_fast(t->n[1].g, t->now, unix_us(t)),
			 G_FAST_ORIGIN + 1);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[2].kp->pk, "honest.p", 1, 0),
	    1);
	snprintf(name, sizeof(name), "flood.p%d", G_FAST_ORIGIN - 1);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, name, 1, 0), 1);
	snprintf(name, sizeof(name), "flood.p%d", G_FAST_ORIGIN);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, name, 1, 0), 0);
	/* the fast lane is empty now: nothing more on the loop */
	assert_int_equal(weft_gossip_work_fast(t->n[1].g, t->now, unix_us(t)),
			 0);
	assert_int_equal(weft_gossip_pending(t->n[1].g), 500 - G_FAST_ORIGIN);
	/* the rest in turns; all held at the end */
	assert_int_equal(
	    weft_gossip_work(t->n[1].g, t->now, unix_us(t), SIZE_MAX), 0);
	assert_int_equal(holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk,
				 "flood.p499", 1, 0),
			 1);
	for (k = 0; k < 500; k++)
		free(es[k].data);
	free(es);
	free(one.data);
	net_free(t);
	free(t);
}

/*
 * Urgent entries (gossip.c, g_urgent): a descriptor of an origin that
 * sent few lately is stored at once (its STORE output says so). In a
 * quiet mesh it goes along the tree only; while another origin floods,
 * to every neighbour, the tree's lazy links too, as repair (the link
 * stays lazy). The flood's own entries go along the tree only, announced
 * to lazy links at the next tick (a flood does not flood). A star: n0,
 * n2 and n3 around n1, n1's link to n0 off the tree; n2 quiet, n3 loud.
 */
static void
test_urgent(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	uint8_t *envs[G_FAST_ORIGIN + 4];
	size_t lens[G_FAST_ORIGIN + 4], stored, urgent;
	const uint8_t *quiet, *loud;
	char name[32];
	int k, n = G_FAST_ORIGIN + 4;

	(void)state;
	assert_non_null(t);
	net_init(t, 4);
	link_up(t, 0, 1);
	link_up(t, 1, 2);
	link_up(t, 1, 3);
	drain(t);
	quiet = t->n[2].kp->pk;
	loud = t->n[3].kp->pk;
	weft_gossip__peer(t->n[1].g, 1)->lazy = 1;
	stored = t->n[1].stored;
	urgent = t->n[1].urgent;
	/* quiet mesh: stored at once, the tree only (n0 waits a tick) */
	envs[0] = descriptor(t, 2, "calm.a", 1, 0, &lens[0]);
	push_from(t, 1, 2, envs, lens, 1);
	drain(t);
	assert_int_equal(t->n[1].stored - stored, 1);
	assert_int_equal(t->n[1].urgent - urgent, 1);
	assert_true(held_on(t, 1, quiet, "calm.a", 1));
	assert_true(held_on(t, 3, quiet, "calm.a", 1));
	assert_false(held_on(t, 0, quiet, "calm.a", 1));
	/* n3 sends many at once: none urgent, none to n0 before a tick */
	for (k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "loud.p%d", k);
		envs[k] = descriptor(t, 3, name, 1, 0, &lens[k]);
	}
	push_from(t, 1, 3, envs, lens, (size_t)n);
	drain(t);
	assert_int_equal(t->n[1].stored - stored, 1 + (size_t)n);
	assert_int_equal(t->n[1].urgent - urgent, 1);
	for (k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "loud.p%d", k);
		assert_true(held_on(t, 2, loud, name, 1));
		assert_false(held_on(t, 0, loud, name, 1));
	}
	/* during the flood n2's next goes to n0 too, and the link stays
	 * off the tree */
	envs[0] = descriptor(t, 2, "calm.b", 1, 0, &lens[0]);
	push_from(t, 1, 2, envs, lens, 1);
	drain(t);
	assert_int_equal(t->n[1].urgent - urgent, 2);
	assert_true(held_on(t, 0, quiet, "calm.b", 1));
	assert_true(held_on(t, 3, quiet, "calm.b", 1));
	assert_int_equal(weft_gossip__peer(t->n[1].g, 1)->lazy, 1);
	/* the next tick's announcements bring the rest */
	tick_all(t, IV);
	drain(t);
	tick_all(t, IV);
	drain(t);
	assert_true(held_on(t, 0, quiet, "calm.a", 1));
	snprintf(name, sizeof(name), "loud.p%d", n - 1);
	assert_true(held_on(t, 0, loud, name, 1));
	net_free(t);
	free(t);
}

/* Announce origin's descriptor name at version v to node to, from peer
 * id peer; returns the grafts it sent. */
static uint64_t
announce(net_t *t, int to, uint64_t peer, const uint8_t *origin,
	 const char *name, uint64_t v)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__GossipIHave ih = WEFT__GOSSIP_IHAVE__INIT;
	ProtobufCBinaryData k;
	uint8_t key[G_HASH];
	weft_gossip_stats_t a, b;

	weft_gossip__key(WEFT_ENTRY_DESCRIPTOR, origin, name, key);
	k.data = key;
	k.len = G_HASH;
	ih.keys = &k;
	ih.n_keys = 1;
	ih.versions = &v;
	ih.n_versions = 1;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_IHAVE;
	m.ihave = &ih;
	weft_gossip_stats(t->n[to].g, &a);
	assert_int_equal(
	    weft_gossip_recv(t->n[to].g, t->now, unix_us(t), peer, &m, NULL),
	    0);
	weft_gossip_stats(t->n[to].g, &b);
	return b.grafts_out - a.grafts_out;
}

/* Entries verified off the driver's loop (agent/gverify.c): a push's
 * duplicates settled as they arrive, the rest taken in turn and marked
 * for a check unless held meanwhile; what the driver found bad is
 * refused, a gone neighbour's entries dropped, and the core's own check
 * of what verified costs no second signature check. An announcement of
 * an entry waiting is no loss to graft for. */
static void
test_take_give(void **state)
{
	net_t *t;
	uint8_t *env[6];
	size_t len[6], n, i, k;
	weft_gossip_taken_t tk[8];
	weft_gossip_stats_t st0, st1;
	weft_entry_info_t info;
	const char *names[6] = {"t.a", "t.b", "t.c", "t.e", "t.d", "t.f"};
	uint64_t v0;

	(void)state;
	t = line3();
	for (i = 0; i < 6; i++) /* a, b, c, e, f of n0; d of n2 */
		env[i] = descriptor(t, i == 4 ? 2 : 0, names[i], 1, 0, &len[i]);
	env[2][len[2] - 1] ^= 1;	 /* c: its signature (the last field) */
	push_only(t, 1, 1, env, len, 1); /* a, held before the rest */
	assert_int_equal(weft_gossip_work(t->n[1].g, t->now, unix_us(t), 8), 0);
	weft_gossip_stats(t->n[1].g, &st0);
	push_only(t, 1, 1, env, len, 4);	 /* a again, b, c, e from n0 */
	push_only(t, 1, 3, env + 4, len + 4, 1); /* d from n2 */
	weft_gossip_stats(t->n[1].g, &st1);
	assert_int_equal(st1.duplicates - st0.duplicates, 1); /* a, at once */
	assert_int_equal(weft_gossip_pending(t->n[1].g), 4);
	/* e reaches n1 another way before its copy is taken */
	assert_int_equal(weft_gossip_offer(t->n[1].g, t->now, unix_us(t),
					   env[3], len[3], 0, NULL),
			 1);
	/* announced while their copies wait: no graft; one not here: one */
	assert_int_equal(announce(t, 1, 1, t->n[0].kp->pk, "t.b", 1), 0);
	assert_int_equal(announce(t, 1, 3, t->n[2].kp->pk, "t.d", 1), 0);
	assert_int_equal(announce(t, 1, 1, t->n[0].kp->pk, "t.x", 1), 1);
	assert_int_equal(weft_crypto_set_verify_cache_slots(1u << 10), 0);
	n = weft_gossip_take(t->n[1].g, t->now, unix_us(t), tk, 8);
	/* taken, not given back: still on their way in */
	assert_int_equal(announce(t, 1, 1, t->n[0].kp->pk, "t.c", 1), 0);
	assert_int_equal(n, 4);
	assert_int_equal(weft_gossip_pending(t->n[1].g), 0);
	for (i = 0; i < n; i++) { /* the driver's part */
		for (k = 1; k < 5; k++)
			if (tk[i].len == len[k] &&
			    memcmp(tk[i].env, env[k], len[k]) == 0)
				break;
		assert_true(k < 5);
		assert_int_equal(tk[i].peer, k == 4 ? 3 : 1);
		assert_int_equal(tk[i].check, k != 3); /* e is held now */
		if (tk[i].check)
			tk[i].bad =
			    weft_entry_verify(tk[i].env, tk[i].len, &t->trust,
					      unix_us(t), &info, NULL, NULL,
					      NULL) != 0;
		assert_int_equal(tk[i].bad, k == 2);
	}
	link_down(t, 1, 2); /* n2 goes before d is given back */
	weft_gossip_stats(t->n[1].g, &st0);
	v0 = weft_crypto_verifies();
	weft_gossip_give(t->n[1].g, t->now, unix_us(t), tk, n);
	assert_int_equal(weft_crypto_verifies(), v0);
	weft_gossip_stats(t->n[1].g, &st1);
	assert_int_equal(st1.refused - st0.refused, 1); /* c */
	assert_int_equal(st1.throttled - st0.throttled, 0);
	assert_int_equal(st1.duplicates - st0.duplicates, 1); /* e */
	assert_int_equal(st1.accepted - st0.accepted, 2);     /* b, d */
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, "t.b", 1, 0), 1);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, "t.c", 1, 0), 0);
	/* d: its neighbour, of our org, went; what it sent still counts */
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[2].kp->pk, "t.d", 1, 0), 1);
	/* given back: c, refused, is lacking again; b is held */
	assert_int_equal(announce(t, 1, 1, t->n[0].kp->pk, "t.c", 1), 1);
	assert_int_equal(announce(t, 1, 1, t->n[0].kp->pk, "t.b", 1), 0);
	/* n0 goes before what it had queued is taken: kept, taken after */
	push_only(t, 1, 1, env + 5, len + 5, 1);
	link_down(t, 0, 1);
	assert_int_equal(weft_gossip_pending(t->n[1].g), 1);
	assert_int_equal(weft_gossip_work(t->n[1].g, t->now, unix_us(t), 8), 0);
	assert_int_equal(
	    holders(t, WEFT_ENTRY_DESCRIPTOR, t->n[0].kp->pk, "t.f", 1, 0), 1);
	weft_crypto_set_verify_cache(0);
	for (i = 0; i < 6; i++)
		free(env[i]);
	net_free(t);
	free(t);
}

/* The waiting keys (gossip_turn.c): a multiset under open addressing,
 * deletion by shifting back; keys sharing their home slot included. */
static void
test_wait_set(void **state)
{
	net_t *t = calloc(1, sizeof(*t));
	enum { N = 600 };
	static uint8_t key[N][G_HASH];
	int count[N], order[N], i, j, left;

	(void)state;
	assert_non_null(t);
	net_init(t, 1);
	for (i = 0; i < N; i++) {
		randombytes_buf(key[i], G_HASH);
		if (i % 3 == 1) /* the same home as the one before */
			memcpy(key[i], key[i - 1], 8);
		count[i] = 1 + i % 2;
		for (j = 0; j < count[i]; j++)
			assert_int_equal(
			    weft_gossip__wait_add(t->n[0].g, key[i]), 0);
		order[i] = i;
	}
	for (i = N - 1; i > 0; i--) { /* a shuffled order of deletions */
		int r = (int)randombytes_uniform((uint32_t)i + 1), x = order[i];

		order[i] = order[r];
		order[r] = x;
	}
	for (left = N * 3 / 2; left > 0;) {
		for (i = 0; i < N; i++) {
			int k = order[i];

			if (count[k] == 0)
				continue;
			weft_gossip__wait_del(t->n[0].g, key[k]);
			count[k]--;
			left--;
			if (i % 50 != 0)
				continue;
			for (j = 0; j < N; j++)
				assert_int_equal(
				    weft_gossip__waiting(t->n[0].g, key[j]),
				    count[j] > 0);
		}
	}
	for (j = 0; j < N; j++)
		assert_false(weft_gossip__waiting(t->n[0].g, key[j]));
	net_free(t);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dissemination),
	    cmocka_unit_test(test_anti_entropy),
	    cmocka_unit_test(test_repair_differs),
	    cmocka_unit_test(test_loss_eager),
	    cmocka_unit_test(test_partial),
	    cmocka_unit_test(test_failure_and_refute),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_amplify),
	    cmocka_unit_test(test_turns),
	    cmocka_unit_test(test_fast_lane),
	    cmocka_unit_test(test_urgent),
	    cmocka_unit_test(test_take_give),
	    cmocka_unit_test(test_wait_set),
	    cmocka_unit_test(test_report_lies),
	    cmocka_unit_test(test_gateway_claim),
	    cmocka_unit_test(test_trust_boundary),
	    cmocka_unit_test(test_quota),
	    cmocka_unit_test(test_revoke),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
