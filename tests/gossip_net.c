/*
 * gossip_net.c: the gossip test harness (tests/gossip_net.h).
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

#include "crypto/revoke.h"
#include "lib/util.h"
#include "node/gossip.h"
#include "node/session.h"
#include "node/wire.h"
#include "storage/entry.h"

#include "tests/gossip_net.h"

int64_t
unix_us(const net_t *t)
{
	return (int64_t)T0 * 1000000 + (int64_t)t->now * 1000;
}

/* weft_gossip_recv, then every push entry waiting its turn taken
 * (gossip_turn.c; the agent verifies them on a thread, gverify.c). */
int
recv_turns(weft_gossip_t *g, uint64_t now, int64_t us, uint64_t peer,
	   const Weft__WireMessage *m, weft_err_t *err)
{
	int rc = weft_gossip_recv(g, now, us, peer, m, err);

	assert_int_equal(weft_gossip_work(g, now, us, SIZE_MAX), 0);
	return rc;
}

int partial_membership;		 /* cfg.partial for cores started next */
int dial_links;			 /* drain carries DIALs out (links at once) */
const weft_gossip_cfg_t *quotas; /* quota fields for them, if set */

void
node_start(net_t *t, int i)
{
	weft_gossip_cfg_t c = {0};
	char addr[32];
	const char *addrs[1] = {addr};

	const char *gw[1] = {"gateway"};

	snprintf(addr, sizeof(addr), "10.0.0.%d:7946", i + 1);
	c.signer = &t->n[i].signer;
	c.roles = gw;
	c.nroles = t->n[i].gateway ? 1 : 0;
	c.trust = &t->trust;
	c.addresses = addrs;
	c.naddresses = 1;
	c.interval_ms = IV;
	c.suspect_ms = 3 * IV;
	c.degree = 3;
	c.active_max = NMAX; /* the test's overlays, unbounded (the bound:
			      * test_overlay.c) */
	c.partial = partial_membership;
	c.seed = (uint64_t)i + 1;
	if (quotas != NULL) {
		c.max_entries = quotas->max_entries;
		c.max_bytes = quotas->max_bytes;
		c.origin_entries = quotas->origin_entries;
		c.origin_bytes = quotas->origin_bytes;
		c.org_entries = quotas->org_entries;
		c.org_bytes = quotas->org_bytes;
		c.origin_rate = quotas->origin_rate;
	}
	assert_int_equal(
	    weft_gossip_new(&t->n[i].g, &c, t->now, unix_us(t), NULL), 0);
	t->n[i].alive = 1;
	if (t->org2 != NULL) /* two orgs: each reaches the other only
			      * through gateways */
		weft_gossip_set_policy(
		    t->n[i].g, t->n[i].gateway,
		    strcmp(t->n[i].orgname, "acme") == 0 ? "globex" : "acme");
}

/* orgs[i] != 0: node i is of org globex; gw: gateway role */
void
net_init_orgs(net_t *t, int count, const int *orgs, const int *gw)
{
	int i;

	memset(t, 0, sizeof(*t));
	if (orgs != NULL)
		assert_int_equal(
		    weft_key_generate(WEFT_KEY_ORG, "globex", &t->org2, NULL),
		    0);
	t->count = count;
	t->now = 1000;
	assert_int_equal(weft_key_generate(WEFT_KEY_ORG, "acme", &t->org, NULL),
			 0);
	t->root.kind = WEFT_KEY_ORG;
	snprintf(t->root.name, sizeof(t->root.name), "acme");
	memcpy(t->root.pk, t->org->pk, WEFT_PK_BYTES);
	t->trust.roots = &t->root;
	t->trust.n = 1;
	if (t->org2 != NULL) {
		t->roots[0] = t->root;
		t->roots[1].kind = WEFT_KEY_ORG;
		snprintf(t->roots[1].name, sizeof(t->roots[1].name), "globex");
		memcpy(t->roots[1].pk, t->org2->pk, WEFT_PK_BYTES);
		t->trust.roots = t->roots;
		t->trust.n = 2;
	}
	for (i = 0; i < count; i++) {
		gnode_t *n = &t->n[i];
		int two = orgs != NULL && orgs[i];
		const char *role[1] = {"gateway"};

		n->orgname = two ? "globex" : "acme";
		n->gateway = gw != NULL && gw[i];
		snprintf(n->name, sizeof(n->name), "n%d", i);
		assert_int_equal(
		    weft_key_generate(WEFT_KEY_NODE, n->name, &n->kp, NULL), 0);
		assert_int_equal(
		    weft_cert_issue(two ? t->org2 : t->org, n->name, n->kp->pk,
				    n->gateway ? role : NULL,
				    n->gateway ? 1 : 0, T0 - 100, T0 + 86400,
				    (uint64_t)i, &n->cert, &n->cert_len, NULL),
		    0);
		n->signer.kp = n->kp;
		n->signer.cert = n->cert;
		n->signer.cert_len = n->cert_len;
		n->signer.org = n->orgname;
		n->signer.node = n->name;
		node_start(t, i);
	}
}

void
net_init(net_t *t, int count)
{
	net_init_orgs(t, count, NULL, NULL);
}

void
net_free(net_t *t)
{
	int i;

	for (i = 0; i < t->count; i++) {
		weft_gossip_free(t->n[i].g);
		weft_key_free(t->n[i].kp);
		free(t->n[i].cert);
	}
	weft_key_free(t->org);
	weft_key_free(t->org2);
}

void
link_up(net_t *t, int a, int b)
{
	if (t->n[a].up[b])
		return;
	t->n[a].up[b] = t->n[b].up[a] = 1;
	weft_gossip_peer_up(t->n[a].g, t->now, (uint64_t)b + 1, t->n[b].kp->pk,
			    t->n[b].orgname, t->n[b].gateway);
	weft_gossip_peer_up(t->n[b].g, t->now, (uint64_t)a + 1, t->n[a].kp->pk,
			    t->n[a].orgname, t->n[a].gateway);
}

void
link_down(net_t *t, int a, int b)
{
	if (!t->n[a].up[b])
		return;
	t->n[a].up[b] = t->n[b].up[a] = 0;
	if (t->n[a].alive)
		weft_gossip_peer_down(t->n[a].g, t->now, (uint64_t)b + 1);
	if (t->n[b].alive)
		weft_gossip_peer_down(t->n[b].g, t->now, (uint64_t)a + 1);
}

/* Deliver every queued output until nothing moves. DIALs are ignored
 * (the overlay is the test's). Returns messages delivered. */

uint64_t
drain(net_t *t)
{
	uint64_t moved = 0;
	int again = 1, i;

	while (again) {
		again = 0;
		for (i = 0; i < t->count; i++) {
			weft_out_t o;

			if (!t->n[i].alive)
				continue;
			while (weft_gossip_poll(t->n[i].g, &o)) {
				if (o.kind == WEFT_OUT_STORE) {
					t->n[i].stored++;
					t->n[i].urgent += o.n != 0;
				}
				if (o.kind == WEFT_OUT_REVOKE)
					t->n[i].revokes++;
				if (o.kind == WEFT_OUT_DIAL && dial_links) {
					int b;

					if (sscanf(o.addr, "10.0.0.%d:", &b) ==
						1 &&
					    b >= 1 && b <= t->count &&
					    t->n[b - 1].alive) {
						link_up(t, i, b - 1);
						again = 1;
					}
				}
				if (o.kind == WEFT_OUT_SEND) {
					int to = (int)o.peer - 1;
					size_t len =
					    weft__wire_message__get_packed_size(
						o.msg);
					uint8_t *buf = malloc(len ? len : 1);
					Weft__WireMessage *m = NULL;

					assert_non_null(buf);
					weft__wire_message__pack(o.msg, buf);
					t->msgs++;
					t->bytes += len;
					if (t->n[i].up[to] && t->n[to].alive) {
						assert_int_equal(
						    weft_wire_decode(buf, len,
								     &m, NULL),
						    0);
						assert_int_equal(
						    recv_turns(t->n[to].g,
							       t->now,
							       unix_us(t),
							       (uint64_t)i + 1,
							       m, NULL),
						    0);
						weft__wire_message__free_unpacked(
						    m, NULL);
						moved++;
						again = 1;
					}
					free(buf);
				}
				weft_gossip_msg_free(o.msg);
				free(o.env);
			}
		}
	}
	return moved;
}

void
tick_all(net_t *t, uint64_t ms)
{
	uint64_t end = t->now + ms;
	int i;

	while (t->now < end) {
		t->now += 10;
		for (i = 0; i < t->count; i++)
			if (t->n[i].alive)
				weft_gossip_tick(t->n[i].g, t->now, unix_us(t));
		drain(t);
	}
}

/* Each node links to 3 random others (a connected overlay: also a ring). */
void
overlay(net_t *t)
{
	int i, k;

	for (i = 0; i < t->count; i++) {
		link_up(t, i, (i + 1) % t->count);
		for (k = 0; k < 2; k++) {
			int j = (int)randombytes_uniform((uint32_t)t->count);

			if (j != i)
				link_up(t, i, j);
		}
	}
}

int
same_roots(net_t *t)
{
	uint8_t r0[16], r[16];
	uint64_t c0, c;
	int i, first = -1;

	for (i = 0; i < t->count; i++) {
		if (!t->n[i].alive)
			continue;
		if (first < 0) {
			weft_gossip_root(t->n[first = i].g, r0, &c0);
			continue;
		}
		weft_gossip_root(t->n[i].g, r, &c);
		if (c != c0 || memcmp(r, r0, 16) != 0)
			return 0;
	}
	return 1;
}

/* Does a node hold exactly (kind, origin, name, version, tombstone)? */

void
hold_cb(void *arg, const uint8_t *env, size_t len)
{
	hold_t *x = arg;
	weft_entry_info_t info;

	if (weft_entry_verify(env, len, &x->t->trust, unix_us(x->t), &info,
			      NULL, NULL, NULL) == 0 &&
	    info.kind == x->kind && memcmp(info.origin, x->origin, 32) == 0 &&
	    strcmp(info.name, x->name) == 0 && info.version == x->version &&
	    info.tombstone == x->tomb)
		x->hit = 1;
}

/* The number of live nodes holding the entry (for node records: the
 * member at version or later). */
int
holders(net_t *t, int kind, const uint8_t *origin, const char *name,
	uint64_t version, int tombstone)
{
	int i, n = 0;

	for (i = 0; i < t->count; i++) {
		weft_gossip_member_t *m;
		size_t nm, k;
		hold_t c = {t, kind, origin, name, version, tombstone, 0};

		if (!t->n[i].alive)
			continue;
		if (kind != WEFT_ENTRY_NODE) {
			weft_gossip_each(t->n[i].g, hold_cb, &c);
			n += c.hit;
			continue;
		}
		assert_int_equal(weft_gossip_members(t->n[i].g, &m, &nm), 0);
		for (k = 0; k < nm; k++)
			if (memcmp(m[k].pk, origin, 32) == 0 &&
			    m[k].version >= version)
				n++;
		free(m);
	}
	return n;
}

uint8_t *
descriptor_vis(net_t *t, int i, const char *name, uint64_t version, int tomb,
	       int vis, const char *listed, size_t *len)
{
	Weft__ProductDescriptor d = WEFT__PRODUCT_DESCRIPTOR__INIT;
	uint8_t *env = NULL, body[512];
	char *l[1] = {(char *)listed};
	size_t blen;

	d.visibility = (Weft__Visibility)vis;
	if (listed != NULL) {
		d.visible_to = l;
		d.n_visible_to = 1;
	}
	d.name = (char *)name;
	d.org = (char *)t->n[i].orgname;
	d.node = t->n[i].name;
	d.version = version;
	blen = tomb ? 0 : weft__product_descriptor__pack(&d, body);
	assert_int_equal(weft_entry_make_at(&t->n[i].signer,
					    WEFT_ENTRY_DESCRIPTOR, name,
					    version, tomb, 0, body, blen,
					    unix_us(t), &env, len, NULL),
			 0);
	return env;
}

/* A POLICY entry of node i about product name with one grant to org. */
uint8_t *
policy_to(net_t *t, int i, const char *name, const char *org, size_t *len)
{
	Weft__Policy p = WEFT__POLICY__INIT;
	Weft__PolicyGrant g = WEFT__POLICY_GRANT__INIT, *gp = &g;
	char *to[1] = {(char *)org};
	uint8_t *env = NULL, body[512];
	size_t blen;

	g.to = to;
	g.n_to = 1;
	g.line = 3;
	p.product = (char *)name;
	p.grants = &gp;
	p.n_grants = 1;
	blen = weft__policy__pack(&p, body);
	assert_int_equal(weft_entry_make_at(&t->n[i].signer, WEFT_ENTRY_POLICY,
					    name, 1, 0, 0, body, blen,
					    unix_us(t), &env, len, NULL),
			 0);
	return env;
}

uint8_t *
descriptor(net_t *t, int i, const char *name, uint64_t version, int tomb,
	   size_t *len)
{
	return descriptor_vis(t, i, name, version, tomb, 0, NULL, len);
}

int
offer_own(net_t *t, int i, const char *name, uint64_t version)
{
	size_t len;
	uint8_t *env = descriptor(t, i, name, version, 0, &len);
	int rc =
	    weft_gossip_offer(t->n[i].g, t->now, unix_us(t), env, len, 1, NULL);

	free(env);
	return rc;
}

/* Pushes and grafts sent by every core, summed. */
void
tree_totals(const net_t *t, uint64_t *pushes, uint64_t *grafts)
{
	weft_gossip_stats_t st;
	int i;

	*pushes = *grafts = 0;
	for (i = 0; i < t->count; i++) {
		weft_gossip_stats(t->n[i].g, &st);
		*pushes += st.pushes_out;
		*grafts += st.grafts_out;
	}
}

/* Does node i hold (kind, origin, name, version)? */
int
held_on(net_t *t, int i, const uint8_t *origin, const char *name,
	uint64_t version)
{
	hold_t c = {t, WEFT_ENTRY_DESCRIPTOR, origin, name, version, 0, 0};

	weft_gossip_each(t->n[i].g, hold_cb, &c);
	return c.hit;
}

/* n0 - n1 - n2, linked, their first exchanges done. */
net_t *
line3(void)
{
	net_t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	net_init(t, 3);
	link_up(t, 0, 1);
	link_up(t, 1, 2);
	drain(t);
	return t;
}

/* Push n entries es to node to from peer id peer. */
void
push_to(net_t *t, int to, uint64_t peer, ProtobufCBinaryData *es, size_t n)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__GossipPush p = WEFT__GOSSIP_PUSH__INIT;

	p.entries = es;
	p.n_entries = n;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_PUSH;
	m.push = &p;
	assert_int_equal(
	    weft_gossip_recv(t->n[to].g, t->now, unix_us(t), peer, &m, NULL),
	    0);
}

/* Push envs[0..n) (kept) to node to from peer id peer (node peer - 1),
 * leaving its entries waiting. */
void
push_only(net_t *t, int to, uint64_t peer, uint8_t **envs, const size_t *lens,
	  size_t n)
{
	ProtobufCBinaryData es[16];
	size_t i;

	assert_true(n <= 16);
	for (i = 0; i < n; i++) {
		es[i].data = envs[i];
		es[i].len = lens[i];
	}
	push_to(t, to, peer, es, n);
}

/* Push entries (freed here) to node `to` as from neighbour `from`, and
 * take every one waiting. */
void
push_from(net_t *t, int to, int from, uint8_t **envs, size_t *lens, size_t n)
{
	size_t k;

	push_only(t, to, (uint64_t)from + 1, envs, lens, n);
	assert_int_equal(
	    weft_gossip_work(t->n[to].g, t->now, unix_us(t), SIZE_MAX), 0);
	for (k = 0; k < n; k++)
		free(envs[k]);
}

/* A failure report by node i about node subj: its record's version sv,
 * made at unix time `at` (µs), expiring at exp (0: never), filed under
 * name (NULL: the subject's key in hex, as reports are). */
uint8_t *
report(net_t *t, int i, int subj, uint64_t sv, int64_t at, int64_t exp,
       const char *name, size_t *len)
{
	Weft__FailureReport r = WEFT__FAILURE_REPORT__INIT;
	char hex[2 * WEFT_PK_BYTES + 1];
	uint8_t body[128], *env = NULL;
	size_t blen;

	r.subject.data = t->n[subj].kp->pk;
	r.subject.len = WEFT_PK_BYTES;
	r.subject_version = sv;
	r.reason = "unreachable";
	blen = weft__failure_report__pack(&r, body);
	weft_hex(t->n[subj].kp->pk, WEFT_PK_BYTES, hex);
	assert_int_equal(weft_entry_make_at(&t->n[i].signer, WEFT_ENTRY_REPORT,
					    name ? name : hex, (uint64_t)at, 0,
					    exp, body, blen, at, &env, len,
					    NULL),
			 0);
	return env;
}
