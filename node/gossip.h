/*
 * gossip.h: membership and catalog dissemination, as a sans-IO state
 * machine (one per node; docs/gossip.md).
 *
 * The core holds the node's view of the catalog: every signed entry it
 * accepted (node records, product descriptors, failure reports), indexed
 * by (kind, origin, name) with the newest version winning. It is told
 * which neighbours are connected (peer_up / peer_down, with the driver's
 * peer ids), fed their gossip messages and the time, and it returns
 * outputs: messages to send to a neighbour, entries to persist, and
 * members to dial. It draws randomness only from its seed and reads no
 * clock: the agent drives it with libuv, the simulator with virtual time.
 *
 * Dissemination: an entry that is new or newer is persisted and pushed at
 * once to every neighbour but the one it came from (flooding over the
 * overlay: O(diameter) hops); a duplicate costs one version comparison.
 * Anti-entropy: every sync_ms and when a session comes up, a 24-byte
 * summary (XOR of entry hashes)
 * to one random neighbour; only if it differs, per-origin digests, then
 * the entries of the origins that differ, both ways.
 *
 * Membership: node records are entries. A neighbour lost and not back
 * within suspect_ms is reported failed (a signed FailureReport entry); a
 * node refutes a report about itself by issuing a newer record. A member
 * is failed while some report covers its current record version.
 *
 * Invariants: entries are verified (signature, chain to a trusted root,
 * validity, origin == signer, expiry) before they are held, persisted or
 * passed on; sizes and counts are bounded; per-peer budgets cap what one
 * neighbour can make us verify.
 */
#ifndef WEFT_NODE_GOSSIP_H
#define WEFT_NODE_GOSSIP_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "node/out.h"
#include "weft.pb-c.h"

#define WEFT_GOSSIP_ADDR_MAX WEFT_OUT_ADDR_MAX

typedef struct weft_gossip weft_gossip_t;

typedef struct weft_gossip_cfg {
	const weft_signer_t *signer;  /* borrowed: our key, cert, names */
	const weft_trust_t *trust;    /* borrowed; see weft_gossip_set_trust */
	const char *const *addresses; /* where we accept sessions (copied,
				       * at most 4) */
	size_t naddresses;
	const char *const *roles; /* copied */
	size_t nroles;
	const char *version;  /* weft version, for our node record */
	uint64_t interval_ms; /* tick: dials, suspicion; 0: 1000 */
	uint64_t sync_ms;     /* anti-entropy with one neighbour; 0: 10 s */
	uint64_t suspect_ms;  /* lost neighbour -> report; 0: 3 intervals */
	unsigned degree;      /* neighbours we dial; 0: 4 */
	unsigned active_max;  /* neighbours at most (the active view; over
			       * it a random other one is let go); 0:
			       * 2 * degree */
	size_t max_entries;   /* entries held; 0: 100000 */
	/* Quotas (docs/gossip.md, "Quotas"); 0: the default in brackets */
	size_t max_bytes;      /* envelope bytes held [256 MiB] */
	size_t origin_entries; /* one origin, not ours [max_entries / 10] */
	size_t origin_bytes;   /* [max_bytes / 10] */
	size_t org_entries;    /* one org, not ours [max_entries / 4] */
	size_t org_bytes;      /* [max_bytes / 4] */
	double origin_rate;    /* replacements an origin may make a second,
				* a minute's worth at once; an org ten times
				* that [20] */
	unsigned budget;       /* entries a neighbour may make us verify per
				* interval; 0: 2000 */
	uint64_t seed;	       /* PRNG seed */
	/* Neighbours-only membership (large meshes, the simulator): node
	 * records go one hop, to direct neighbours, and are neither
	 * forwarded nor part of anti-entropy; descriptors spread as usual.
	 * `weft members` then lists neighbours only. 0: full membership. */
	int partial;
	/* Simulator only: entries are parsed and checked but signatures and
	 * certificates are not verified (weft sim --fast-crypto). */
	int fast_crypto;
} weft_gossip_cfg_t;

/* A member as the core sees it. */
typedef struct weft_gossip_member {
	uint8_t pk[WEFT_PK_BYTES];
	char name[WEFT_NAME_MAX + 1];
	char org[WEFT_NAME_MAX + 1];
	char roles[160]; /* comma separated */
	char addr[WEFT_GOSSIP_ADDR_MAX + 1];
	uint64_t version; /* its record's version */
	int failed;	  /* a report covers this version */
	int self, connected;
	int64_t updated_us; /* record issued at */
} weft_gossip_member_t;

/* Counters. */
typedef struct weft_gossip_stats {
	uint64_t entries, accepted, duplicates, refused, throttled;
	uint64_t refused_visibility; /* from another org, may not cross */
	uint64_t pushes_out, summaries_out, digests_out;
	uint64_t bytes_out; /* packed gossip messages we queued */
	uint64_t ihaves_out, grafts_out, prunes_out; /* broadcast tree */
	/* anti-entropy's repair: lists of entries (repair IHaves) sent and
	 * repair grafts sent for what a list showed we lack */
	uint64_t lists_out, repairs_out;
	uint64_t lazy_dropped; /* announcements over a peer's queue cap */
	uint64_t over_quota;   /* refused: an origin's or org's quota */
	uint64_t bytes;	       /* envelope bytes held */
	/* the bounded overlay */
	uint64_t joins_out, joins_in, forward_joins_out, forward_joins_in;
	uint64_t walk_dials; /* joiners dialled at a walk's end */
	uint64_t disconnects_out, disconnects_in; /* links let go */
	uint64_t active;			  /* neighbours now */
	uint64_t active_max;			  /* at most */
} weft_gossip_stats_t;

/*
 * Make the core and issue our own node record (version unix_us). Errors:
 * WEFT_EINVAL, WEFT_ENOMEM, signing errors.
 */
int weft_gossip_new(weft_gossip_t **out, const weft_gossip_cfg_t *cfg,
		    uint64_t now_ms, int64_t unix_us, weft_err_t *err);
void weft_gossip_free(weft_gossip_t *g);
/* Swap the trusted roots (borrowed; for entries verified from now on). */
void weft_gossip_set_trust(weft_gossip_t *g, const weft_trust_t *trust);

/*
 * Offer an entry from outside the network: loaded from the store at
 * start (persist = 0), or made by this node, e.g. by `weft publish`
 * (persist = 0 if already stored). Verified like any other; if newer it
 * is held and pushed to every neighbour. Returns 1 if accepted, 0 if not
 * newer, negative if refused (err says why).
 */
int weft_gossip_offer(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
		      const uint8_t *env, size_t len, int persist,
		      weft_err_t *err);

/* A session with node pk is up (peer: the driver's id) / gone. */
void weft_gossip_peer_up(weft_gossip_t *g, uint64_t now_ms, uint64_t peer,
			 const uint8_t pk[WEFT_PK_BYTES], const char *org,
			 int gateway);

/*
 * Trust boundaries: whether we are a gateway, and the orgs ("a,b,c")
 * we reach only through gateways. Entries cross into another org only
 * as g_visible allows (docs/gossip.md).
 */
void weft_gossip_set_policy(weft_gossip_t *g, int gateway,
			    const char *indirect);
/* May we link directly with a node of org (gateway: it has the role)? */
int weft_gossip_may_link(const weft_gossip_t *g, const char *org, int gateway);
void weft_gossip_peer_down(weft_gossip_t *g, uint64_t now_ms, uint64_t peer);
/* A dial the core asked for failed: suspect the member like a lost
 * neighbour (one more try at suspect_ms / 2, then a report). */
void weft_gossip_unreachable(weft_gossip_t *g, uint64_t now_ms,
			     const uint8_t pk[WEFT_PK_BYTES]);

/*
 * A gossip message (push, summary or digest) from peer. Returns 0, or
 * negative for a protocol violation (err says why; the driver may close
 * the session). Refused entries inside a push are counted, not fatal.
 */
int weft_gossip_recv(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
		     uint64_t peer, const Weft__WireMessage *m,
		     weft_err_t *err);

/*
 * A push's entries wait in a queue per neighbour (gossip_turn.c):
 * weft_gossip_pending says how many wait; weft_gossip_work takes up to
 * max of them, a few per neighbour in turn, and returns how many are
 * left: a driver calls it until none are (the simulator: after each
 * message).
 */
size_t weft_gossip_pending(const weft_gossip_t *g);
size_t weft_gossip_work(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
			size_t max);
/*
 * Only the fast lane (entries of origins with few waiting: an honest
 * publish during a flood), at most G_FAST_TICK checks an interval: a
 * driver that verifies the rest off its loop (the agent) checks these
 * on it, so they wait neither for a busy verify thread nor its turn on
 * a busy host. Returns how many it took.
 */
size_t weft_gossip_work_fast(weft_gossip_t *g, uint64_t now_ms,
			     int64_t unix_us);

/*
 * A driver that checks signatures off its loop (the agent's verify
 * thread, agent/gverify.c) takes waiting entries instead, in the order
 * weft_gossip_work would (up to max, into out: it owns them now), each
 * marked check=1 when the core would verify it (not held already, its
 * origin neither revoked nor at its quota: a flood's surplus is refused
 * at a peek, never checked). It verifies the marked ones elsewhere
 * (weft_entry_verify leaves what verified in the signature cache) and
 * gives them all back in the same order, marking bad those that failed:
 * the core refuses those without another check (a root added meanwhile
 * only delays such an entry to anti-entropy) and handles the others as
 * weft_gossip_work would, its own check costing a cache probe. An entry
 * whose neighbour has gone meanwhile is offered still if the
 * neighbour was of our org (a revocation's notice is often the last
 * thing a peer sends before it closes), else dropped (counted as
 * throttled).
 */
typedef struct weft_gossip_taken {
	uint8_t *env;
	size_t len;
	uint64_t peer;
	int bcast;
	int check;	 /* the core's mark: verify this one */
	int bad;	 /* the driver's verdict: it did not verify */
	uint8_t key[16]; /* the core's: waiting until given back */
	int cross;	 /* the core's: from a neighbour of another org */
} weft_gossip_taken_t;
size_t weft_gossip_take(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
			weft_gossip_taken_t *out, size_t max);
/* Frees the entries' bytes (in[i].env), given or not; entries not
 * given back count as waiting until the core is freed. */
void weft_gossip_give(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
		      weft_gossip_taken_t *in, size_t n);
void weft_gossip_taken_free(weft_gossip_taken_t *in, size_t n);

/* Periodic work; call at weft_gossip_next_timer. */
void weft_gossip_tick(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us);
uint64_t weft_gossip_next_timer(const weft_gossip_t *g);

/* Take the next output: 1 and *out filled, 0 if none. */
int weft_gossip_poll(weft_gossip_t *g, weft_out_t *out);
void weft_gossip_msg_free(Weft__WireMessage *m);

/* Members (every node record held), into a malloc'd array. */
int weft_gossip_members(const weft_gossip_t *g, weft_gossip_member_t **out,
			size_t *n);
/* Call fn for every held entry (catalog listing). */
void weft_gossip_each(const weft_gossip_t *g,
		      void (*fn)(void *arg, const uint8_t *env, size_t len),
		      void *arg);
void weft_gossip_stats(const weft_gossip_t *g, weft_gossip_stats_t *st);
/* The 16-byte summary hash and entry count (tests compare nodes). */
void weft_gossip_root(const weft_gossip_t *g, uint8_t root[16],
		      uint64_t *count);

#endif
