/*
 * gossip_net.h: the test harness of tests/test_gossip.c: N gossip cores
 * in one process on an overlay the test draws, with a virtual clock;
 * every message is packed and decoded (weft_wire_decode) on its way, as
 * on the wire (tests/gossip_net.c).
 */
#ifndef WEFT_TESTS_GOSSIP_NET_H
#define WEFT_TESTS_GOSSIP_NET_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "node/gossip.h"

#define T0 1700000000
#define NMAX 32
#define IV 100 /* gossip interval, ms */

typedef struct gnode {
	weft_keypair_t *kp;
	uint8_t *cert;
	size_t cert_len;
	char name[16];
	weft_signer_t signer;
	const char *orgname;
	int gateway;
	weft_gossip_t *g;
	int up[NMAX]; /* links */
	int alive;
	size_t stored;	/* STORE outputs seen */
	size_t urgent;	/* those marked urgent (out.h) */
	size_t revokes; /* REVOKE outputs seen */
} gnode_t;

typedef struct net {
	weft_keypair_t *org, *org2;
	weft_pubkey_t root, roots[2];
	weft_trust_t trust;
	gnode_t n[NMAX];
	int count;
	uint64_t now;
	uint64_t msgs, bytes;
} net_t;

/* set before net_init: what the cores started next get */
extern int partial_membership; /* cfg.partial */
extern int dial_links;	       /* drain carries DIALs out (links at once) */
extern const weft_gossip_cfg_t *quotas; /* quota fields, if set */

typedef struct hold {
	net_t *t;
	int kind;
	const uint8_t *origin;
	const char *name;
	uint64_t version;
	int tomb, hit;
} hold_t;

int64_t unix_us(const net_t *t);
void hold_cb(void *arg, const uint8_t *env, size_t len);
int recv_turns(weft_gossip_t *g, uint64_t now, int64_t us, uint64_t peer,
	       const Weft__WireMessage *m, weft_err_t *err);
void node_start(net_t *t, int i);
void net_init_orgs(net_t *t, int count, const int *orgs, const int *gw);
void net_init(net_t *t, int count);
void net_free(net_t *t);
void link_up(net_t *t, int a, int b);
void link_down(net_t *t, int a, int b);
uint64_t drain(net_t *t);
void tick_all(net_t *t, uint64_t ms);
void overlay(net_t *t);
int same_roots(net_t *t);
int holders(net_t *t, int kind, const uint8_t *origin, const char *name,
	    uint64_t version, int tombstone);
uint8_t *descriptor_vis(net_t *t, int i, const char *name, uint64_t version,
			int tomb, int vis, const char *listed, size_t *len);
uint8_t *policy_to(net_t *t, int i, const char *name, const char *org,
		   size_t *len);
uint8_t *descriptor(net_t *t, int i, const char *name, uint64_t version,
		    int tomb, size_t *len);
/* Node i signs its descriptor name at version and offers it to itself
 * (a publish); what weft_gossip_offer returns. */
int offer_own(net_t *t, int i, const char *name, uint64_t version);
void tree_totals(const net_t *t, uint64_t *pushes, uint64_t *grafts);

/* Does node i hold (kind, origin, name, version)? */
int held_on(net_t *t, int i, const uint8_t *origin, const char *name,
	    uint64_t version);

/* n0 - n1 - n2, linked, their first exchanges done. */
net_t *line3(void);

/* Push n entries es to node to from peer id peer. */
void push_to(net_t *t, int to, uint64_t peer, ProtobufCBinaryData *es,
	     size_t n);

/* Push envs[0..n) (kept) to node to from peer id peer (node peer - 1),
 * leaving its entries waiting. */
void push_only(net_t *t, int to, uint64_t peer, uint8_t **envs,
	       const size_t *lens, size_t n);

/* Push entries (freed here) to node `to` as from neighbour `from`, and
 * take every one waiting. */
void push_from(net_t *t, int to, int from, uint8_t **envs, size_t *lens,
	       size_t n);

/* A failure report by node i about node subj: its record's version sv,
 * made at unix time `at` (µs), expiring at exp (0: never), filed under
 * name (NULL: the subject's key in hex, as reports are). */
uint8_t *report(net_t *t, int i, int subj, uint64_t sv, int64_t at, int64_t exp,
		const char *name, size_t *len);

#endif
