/*
 * gossip_int.h: what the files of the gossip core share (gossip.h is
 * its public face): the held entry and origin digest, and the helpers of
 * gossip_entry.c, which read entries and free messages and call nothing
 * back in gossip.c.
 */
#ifndef WEFT_NODE_GOSSIP_INT_H
#define WEFT_NODE_GOSSIP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "node/gossip.h"
#include "storage/entry.h"

#define G_HASH 16
#define G_PUSH_MAX (512 * 1024) /* bytes of entries per push message */
/* bytes of entries an anti-entropy round pushes: a quarter of a
 * session's default send queue (4 MiB), over which gossip messages are
 * dropped; with a round at every tick while one is cut, a node catching
 * up gets 1 MiB a tick */
#define G_AE_BYTES (1024 * 1024)
#define G_DIGEST_MAX 20000	/* origins per digest message */
#define G_PUSH_ENTRIES_MAX 4096 /* entries per received push */
#define G_KEYS_MAX 4096		/* keys per IHave / Graft */
#define G_LAZY_MAX 4096		/* lazy announcements queued per peer */
#define G_TOLD 6		/* neighbours remembered to hold a version */
/* a received push's entries wait in a queue per neighbour
 * (gossip_turn.c), at most a budget of entries and G_PEND_BYTES a peer */
#define G_PEND_BYTES (2 * 1024 * 1024)
#define G_PEND_SLICE 16 /* entries of one peer's queue a round */
/* the fast lane (gossip_turn.c): an entry whose origin had fewer than
 * G_FAST_ORIGIN entries queued lately (halved each tick) goes ahead of
 * the rest; a peer's lane holds at most G_FAST_MAX entries and
 * G_FAST_BYTES */
#define G_FAST_ORIGIN 8
#define G_FAST_MAX 64
#define G_FAST_BYTES (256 * 1024)
/* fast-lane entries a driver's loop checks an interval (gossip_take.c,
 * weft_gossip_work_fast): ~2 ms of Ed25519 */
#define G_FAST_TICK 32
/* ticks after an origin was last too loud for the fast lane during
 * which urgent entries also go to the tree's lazy links (gossip.c,
 * g_forward): a flood reshapes the tree */
#define G_LOUD_TICKS 16
#define G_GONE UINT64_MAX /* the id of g->gone, the queue of the gone */
/* every G_MIX_MS a node links to a random member and lets another
 * neighbour go (gossip_overlay.c): the overlay keeps mixing, so parts that
 * lost every link between them (killed nodes) find each other again. A
 * time, not ticks: each mix costs a handshake and a catch-up exchange,
 * and at 200 ms ticks a mix every 25 ticks cost 400 bytes/node/s */
#define G_MIX_MS 30000

typedef struct g_entry {
	struct g_entry *next; /* hash chain */
	uint8_t key[G_HASH];  /* BLAKE2b-128 of kind, origin, name */
	/* neighbours known to hold this version (pushed or announced it to
	 * us, or we to them): no lazy announcement to them */
	uint64_t told[G_TOLD];
	unsigned ntold;
	int via_tree; /* this version reached us along the broadcast tree
		       * (or is our own): duplicates over the tree prune */
	struct g_origin *orig; /* its origin's digest (origins live as long
				* as the core) */
	int kind, tombstone;
	uint8_t origin[WEFT_PK_BYTES];
	char *name;
	uint64_t version;
	int64_t issued_at;
	uint8_t hash[G_HASH];
	uint8_t *env;
	size_t len;
	/* node records: name, org, roles, address, in one block (nblk) or
	 * g_empty; a simulator holds millions of entries */
	char *nblk;
	const char *node, *org, *roles, *addr;
	uint64_t failed_cover; /* highest reported version; 0 none */
	uint64_t dial_at;      /* last DIAL emitted (ms), 0 never */
	/* reports */
	uint8_t subject[WEFT_PK_BYTES];
	uint64_t subject_version;
	int64_t expires_at; /* INT64_MAX: never */
	/* who may see it (docs/gossip.md, trust boundaries) */
	char origin_org[WEFT_NAME_MAX + 1];
	int gateway;	  /* node records: the node has the gateway role */
	int vis;	  /* descriptors: 0 org, 1 listed, 2 public */
	char *visible_to; /* listed: ",org1,org2," */
} g_entry_t;

/* What holding an entry costs, in the byte quotas: its envelope, the
 * table's record and its name (so the byte caps bound the memory the
 * catalog takes, not only the envelopes; docs/gossip.md, "Quotas"). */
#define G_COST(len, name) ((len) + sizeof(g_entry_t) + strlen(name) + 1)

/* An org's share of the catalog (gossip_quota.c), keyed by its trusted
 * root's key: at most as many as there are trusted roots. */
typedef struct g_org {
	uint8_t pk[WEFT_PK_BYTES];
	size_t bytes; /* what its origins' entries cost (G_COST) */
	uint64_t last_ms;
	uint32_t held; /* entries of its origins */
	float tokens;  /* replacements it may still make */
	int rated;     /* tokens set (a full bucket at first) */
} g_org_t;

typedef struct g_origin {
	struct g_origin *next;
	uint8_t pk[WEFT_PK_BYTES];
	uint8_t hash[G_HASH];
	uint32_t count; /* entries in anti-entropy (its digest) */
	uint32_t idx;	/* scratch for g_view */
	/* the next origin with count > 0 (the core's shared_o list: what
	 * anti-entropy walks, not every origin ever seen) */
	struct g_origin *snext;
	int mark; /* scratch for g_push_marked */
	/* entries of it queued lately to wait their turn, halved at each
	 * tick since seen_tick (gossip_turn.c): few, and the next takes
	 * the fast lane */
	uint32_t seen;
	/* quotas (gossip_quota.c); a simulator holds millions of these */
	g_org_t *org; /* set with its first entry */
	size_t bytes;
	uint64_t last_ms;
	uint32_t held; /* entries held, shared or not */
	float tokens;
	int rated;
	uint32_t seen_tick;
	/* revoked by this org root (malloc'd; gossip_revoke.c), or NULL */
	uint8_t *revoked_by;
} g_origin_t;

/*
 * Quotas (docs/gossip.md, "Quotas"): the limits, filled in from the
 * configuration, and the totals. Our own origin is bound only by the
 * totals, our own org by the totals and per-origin limits.
 */
typedef struct g_quota {
	size_t max_entries, max_bytes;	     /* everything held */
	size_t origin_entries, origin_bytes; /* one origin */
	size_t org_entries, org_bytes;	     /* one org but ours */
	double origin_rate, org_rate;	     /* replacements per second */
	double origin_burst, org_burst;
	size_t bytes; /* envelope bytes held */
	g_org_t **orgs;
	size_t norgs;
	uint8_t self[WEFT_PK_BYTES];
	uint8_t self_org[WEFT_PK_BYTES];
	int self_org_known;
} g_quota_t;

#define G_ORGS_MAX 4096 /* orgs tracked: one per trusted root */

/* Fill q's limits from cfg (0 fields take their defaults). */
void weft_gossip__quota_init(g_quota_t *q, const weft_gossip_cfg_t *cfg,
			     const uint8_t self[WEFT_PK_BYTES]);
void weft_gossip__quota_free(g_quota_t *q);
/*
 * May origin o (NULL: none held yet) of org (its root's key, org_name)
 * hold an entry of len bytes in place of old_len (old: an entry of the
 * same key is held; from_peer: a neighbour sent it, not our store or
 * ourselves)? 0, or WEFT_ETOOBIG (a count or byte limit) or WEFT_EAGAIN
 * (the replacement rate) with err saying which. Takes a rate token when
 * it says yes to a peer's replacement.
 */
int weft_gossip__quota_admit(g_quota_t *q, size_t held, g_origin_t *o,
			     const weft_cert_info_t *signer, int old,
			     size_t old_len, size_t len, int from_peer,
			     uint64_t now_ms, weft_err_t *err);
/* Account an admitted entry to o (attaching o to its org): old_len the
 * bytes it replaced (0 for a new entry). */
/*
 * Before verifying: is origin o (NULL: none held) surely refused, new
 * entry or (old) replacement, from a neighbour? Only what o's verified
 * entries settled counts (its count, its org's, its bucket), so a forged
 * claim can only refuse what the claimed origin could not send either.
 */
int weft_gossip__quota_full(g_quota_t *q, g_origin_t *o, int old,
			    uint64_t now_ms);
/* An entry of len bytes of origin o is no longer held. */
void weft_gossip__quota_uncharge(g_quota_t *q, g_origin_t *o, size_t len);
void weft_gossip__quota_charge(g_quota_t *q, g_origin_t *o,
			       const weft_cert_info_t *signer, int old,
			       size_t old_len, size_t len);

/* "" for the node-record fields of an entry that is not one. */
extern const char weft_gossip__empty[1];

/*
 * Fill e's kind-specific fields (a node record's names and address, a
 * report's subject, a descriptor's visibility) from its verified body;
 * a body that does not parse leaves them as they were.
 */
void weft_gossip__fill(g_entry_t *e, const weft_entry_info_t *info,
		       const uint8_t *body, size_t blen);
/* Kind, origin, name and version of an envelope, without verifying it:
 * 1 if it parses as an entry, else 0. */
int weft_gossip__peek(const uint8_t *env, size_t len, int *kind,
		      uint8_t *origin, char *name, uint64_t *version);

/* Pure helpers of gossip.c, kept here: a ^= b (G_HASH bytes); an
 * entry's key, BLAKE2b-128 of kind, origin and name (lazy pushes name
 * entries by it); its hash bucket of nb (a power of two); the hash of
 * an entry's version (anti-entropy's digests XOR them); an IHave (ihave)
 * or Graft of n keys in one block that weft_gossip_msg_free frees with
 * one free; is org in ",a,b," list; is descriptor e visible to org (its
 * own org, public, or listed)? */
void weft_gossip__xor(uint8_t *a, const uint8_t *b);
void weft_gossip__key(int kind, const uint8_t *origin, const char *name,
		      uint8_t out[G_HASH]);
size_t weft_gossip__bucket(const uint8_t key[G_HASH], size_t nb);
void weft_gossip__entry_hash(const g_entry_t *e, uint8_t out[G_HASH]);
Weft__WireMessage *weft_gossip__keys_msg(size_t n, int ihave,
					 ProtobufCBinaryData **keys,
					 uint64_t **versions, uint8_t **bytes);
int weft_gossip__in_list(const char *list, const char *org);
int weft_gossip__vis_org(const g_entry_t *e, const char *org);

/* The core's state, shared by its files (gossip.c, gossip_ae.c). */
/* A lazy announcement waiting for the next tick. */
typedef struct g_lazy {
	uint8_t key[G_HASH];
	uint64_t version;
} g_lazy_t;

/* An entry of a push waiting its turn (gossip_turn.c). */
typedef struct g_pend {
	uint8_t *env;
	size_t len;
	int bcast;
	uint8_t key[G_HASH]; /* in g->wait until handled */
} g_pend_t;

/* A queue of them: q[h .. n) */
typedef struct g_pq {
	g_pend_t *q;
	size_t h, n, cap, bytes;
} g_pq_t;

typedef struct g_peer {
	uint64_t id;
	int lazy; /* off the broadcast tree: announce, don't push */
	g_lazy_t *lq;
	size_t lqn, lqcap;
	uint8_t pk[WEFT_PK_BYTES];
	char org[WEFT_NAME_MAX + 1];
	int cross;	 /* another org */
	int direct;	 /* a direct link (not gateway to gateway) */
	unsigned budget; /* verifications left this interval */
	/* what the peer may make us send this interval: anti-entropy
	 * answers (a 24-byte summary costs us a digest of every origin) and
	 * entries served to its grafts (16 bytes ask for ~500) */
	unsigned answers, served;
	int ae_more; /* our last anti-entropy push to it was cut at the
		      * bound, or we put off its round (busy): another
		      * round at the next tick we are not busy */
	/* the bounded overlay (gossip_overlay.c) */
	int parting; /* a Disconnect went or came: not a failure */
	int joined;  /* it sent its Join (one per session) */
	/* its push entries waiting their turn: the fast lane (origins
	 * with few waiting: an honest publish in a flood) and the rest */
	g_pq_t fq, pq;
} g_peer_t;

typedef struct g_lost {
	uint8_t pk[WEFT_PK_BYTES];
	uint64_t since;
	int redialled;
} g_lost_t;

#define G_ADDRS_MAX 4
#define G_DIALS_MAX 16
#define G_ANSWERS 8 /* anti-entropy answers a peer gets per interval */
/* A failure report lasts this long (then the node may be dialled and
 * reported again); the version reported may be this far ahead of our
 * clock, no further */
#define G_REPORT_TTL_US (600LL * 1000000)
#define G_SKEW_US WEFT_CLOCK_SKEW_MAX

struct weft_gossip {
	weft_gossip_cfg_t cfg; /* addresses, roles, version: copies below */
	char *addr_ptrs[G_ADDRS_MAX]; /* strndup'd (bounded) */
	char *role_ptrs[WEFT_ROLES_MAX];
	char version[32];
	const weft_trust_t *trust;
	uint8_t self[WEFT_PK_BYTES];
	uint64_t self_version;
	uint64_t rng;

	g_entry_t **tab;
	size_t nb, n;
	g_quota_t q;
	size_t nshared;	  /* entries in anti-entropy (all but with partial) */
	size_t ae_cursor; /* the bucket the next anti-entropy push starts at */
	g_origin_t **otab;
	size_t onb, on;
	g_origin_t *shared_o; /* origins with count > 0 */
	uint8_t root[G_HASH];

	g_peer_t *peers;
	size_t npeers, peers_cap;
	uint8_t mix_pk[WEFT_PK_BYTES]; /* the member the last mix dialled */
	int mixing;		       /* ... and its session is not up yet */
	uint64_t mix_at;	       /* when the last mix was (first: tick) */
	size_t npend; /* entries waiting their turn, all peers */
	size_t nout;  /* taken to be verified, not given back yet */
	/* what neighbours of our org had queued when they went (a
	 * revocation's notice is often the last thing a peer sends before
	 * it closes): taken after the others, offered as from a neighbour
	 * (id G_GONE: none's) */
	g_peer_t gone;
	/* the keys of the entries waiting or out (a multiset: one entry
	 * may come from two neighbours), open addressing: an announcement
	 * of one of them is not a loss to graft for (gossip_turn.c) */
	uint8_t (*wk)[G_HASH];
	uint32_t *wn;
	size_t wcap, wcount;
	size_t turn;	  /* the peer weft_gossip_work starts at */
	size_t fast_left; /* weft_gossip_work_fast's checks this interval */
	g_lost_t *lost;
	size_t nlost, lost_cap;
	struct {
		uint8_t pk[WEFT_PK_BYTES];
		uint64_t at;
	} dials[G_DIALS_MAX]; /* dials under way */
	size_t ndials;

	weft_outq_t out;

	uint64_t next_tick, next_sync, ticks;
	uint64_t loud_at; /* ticks + 1 when an origin was last too loud for
			   * the fast lane (0: never) */
	weft_gossip_stats_t st;
	g_entry_t **reps; /* the failure reports held (forgotten when they
			   * expire, g_reps_sweep): what marks a node
			   * failed */
	size_t nreps, reps_cap;
	/* trust boundaries */
	int gateway;	/* we have the gateway role */
	char *indirect; /* ",org,org," reachable only through gateways */
};

/* gossip_base.c: the entry (kind, origin, name) or of key; node pk's
 * record; a new output; queue a message to a peer; push entries (repair: off
 * the tree); note an entry crossing into another org; an origin's digest
 * (create: make it); is e in anti- entropy; may peer p see e? */
g_entry_t *weft_gossip__find_key(const weft_gossip_t *g,
				 const uint8_t key[G_HASH]);
g_entry_t *weft_gossip__find(const weft_gossip_t *g, int kind,
			     const uint8_t *origin, const char *name);
g_entry_t *weft_gossip__node(const weft_gossip_t *g, const uint8_t *pk);
int weft_gossip__connected(const weft_gossip_t *g, const uint8_t *pk);

/* gossip_turn.c: a peer's queue of push entries waiting their turn */
/* What weft_gossip__offer learns of an entry before checking its signatures. */
typedef struct g_peeked {
	char name[WEFT_ENTRY_NAME_MAX + 1];
	uint8_t origin[WEFT_PK_BYTES];
	uint64_t version;
	int kind;
	g_entry_t *e; /* the version held, or NULL */
} g_peeked_t;

/* What the checks of an entry before its signatures' find (from peer p,
 * or NULL), nothing counted or done (weft_gossip__judge: *k filled as
 * far as they got): worth a check, held already, or why refused. */
typedef enum g_verdict {
	G_WORTH,
	G_HELD,
	G_MALFORMED,
	G_FUTURE,     /* a failure report made in the future */
	G_REVOKED,    /* from a revoked origin */
	G_OVER_QUOTA, /* a neighbour's, for an origin at its quota */
	G_RELAYED     /* a record or report relayed (partial membership) */
} g_verdict_t;
g_verdict_t weft_gossip__judge(weft_gossip_t *g, uint64_t now_ms,
			       int64_t unix_us, const uint8_t *env, size_t len,
			       const g_peer_t *p, g_peeked_t *k);
/* gossip.c: the same acted on (1: worth a check; 0: held already;
 * negative: refused, counted), and the whole offer (from 0: from
 * outside). */
int weft_gossip__offer_peek(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
			    const uint8_t *env, size_t len, g_peer_t *p,
			    int bcast, g_peeked_t *k, weft_err_t *err);
int weft_gossip__offer(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
		       const uint8_t *env, size_t len, uint64_t from, int bcast,
		       int persist, weft_err_t *err);
g_peer_t *weft_gossip__peer(weft_gossip_t *g, uint64_t id);
int weft_gossip__pend_push(weft_gossip_t *g, g_peer_t *p, const uint8_t *env,
			   size_t len, const uint8_t key[G_HASH],
			   const uint8_t origin[WEFT_PK_BYTES], int bcast,
			   size_t max);
/* Has origin o (NULL: none) sent few entries lately (at most
 * G_FAST_ORIGIN, halved each tick): what takes the fast lane. */
int weft_gossip__quiet(const weft_gossip_t *g, const g_origin_t *o);
/* Was an origin too loud for the fast lane within G_LOUD_TICKS? */
int weft_gossip__loud(const weft_gossip_t *g);
/* Is e urgent: a descriptor, policy or revocation of an origin that sent
 * few lately (stored at once; during a flood pushed to every
 * neighbour)? */
int weft_gossip__urgent(const weft_gossip_t *g, const g_entry_t *e);
int weft_gossip__pend_pop(g_peer_t *p, int fast, uint8_t **env, size_t *len,
			  int *bcast, uint8_t key[G_HASH]);
size_t weft_gossip__pend_free(weft_gossip_t *g, g_peer_t *p);
/* Move from's queue to the end of to's (at most max there); frees
 * from's; returns how many were dropped. */
size_t weft_gossip__pend_move(weft_gossip_t *g, g_peer_t *to, g_peer_t *from,
			      size_t max);
/* The waiting keys: one more, one fewer (once handled), held? */
int weft_gossip__wait_add(weft_gossip_t *g, const uint8_t key[G_HASH]);
void weft_gossip__wait_del(weft_gossip_t *g, const uint8_t key[G_HASH]);
int weft_gossip__waiting(const weft_gossip_t *g, const uint8_t key[G_HASH]);
void weft_gossip__wait_free(weft_gossip_t *g);
/* Entries wait for their checks, queued or out: the catalog is about to
 * change (no anti-entropy round starts or is answered). */
static inline int
weft_gossip__busy(const weft_gossip_t *g)
{
	return g->npend > 0 || g->nout > 0;
}
weft_out_t *weft_gossip__out(weft_gossip_t *g, weft_out_kind_t kind);
void weft_gossip__send(weft_gossip_t *g, uint64_t peer, Weft__WireMessage *m);
void weft_gossip__push(weft_gossip_t *g, uint64_t peer, g_entry_t *const *es,
		       size_t n, int repair);
void weft_gossip__note(weft_gossip_t *g, const g_entry_t *e, const g_peer_t *p);
g_origin_t *weft_gossip__origin(weft_gossip_t *g, const uint8_t *pk,
				int create);
int weft_gossip__shared(const weft_gossip_t *g, const g_entry_t *e);
int weft_gossip__visible(const weft_gossip_t *g, const g_entry_t *e,
			 const g_peer_t *p);
void weft_gossip__drop(weft_gossip_t *g, g_entry_t *e);
/* Revocations (gossip_revoke.c): act on a checked revocation: its
 * subject's entries signed under the revoking root are dropped and
 * refused from now on, and the driver is told (WEFT_OUT_REVOKE). 0 or
 * WEFT_ENOMEM. */
struct weft_revocation;
int weft_gossip__revoke(weft_gossip_t *g, const struct weft_revocation *rv);
/* Is an entry of origin o signed under org root org_pk (NULL: o's own
 * org, if known) refused as revoked? */
int weft_gossip__revoked(const g_origin_t *o, const uint8_t *org_pk);
/* The bounded overlay (gossip_overlay.c; docs/gossip.md, "Overlay"). */
#define G_ARWL 4 /* a ForwardJoin's hops (HyParView's active random walk) */
/* splitmix64 from the core's seed */
uint64_t weft_gossip__rand(weft_gossip_t *g);
/* Neighbours not parting: the active view's size. */
size_t weft_gossip__active(const weft_gossip_t *g);
/* Session p just came up: over the active maximum, end a random other
 * link (GossipDisconnect, WEFT_OUT_PART); p our only neighbour: ask it
 * to introduce us (GossipJoin with our record). */
void weft_gossip__overlay_up(weft_gossip_t *g, g_peer_t *p);
/* p asked to be introduced and its record e is held: a ForwardJoin to up
 * to `degree` other neighbours that may see e. */
void weft_gossip__overlay_join(weft_gossip_t *g, const g_peer_t *p,
			       const g_entry_t *e);
/* A ForwardJoin from p: 1 if its walk ends here (the caller takes the
 * joiner), 0 if passed on (or dropped). */
int weft_gossip__overlay_forward(weft_gossip_t *g, const g_peer_t *p,
				 const Weft__GossipForwardJoin *fj);
/* Partial membership: keep at most G_PASSIVE_MAX node records of nodes
 * we have no session with (the passive view), dropping random ones. */
#define G_PASSIVE_MAX 32
void weft_gossip__overlay_passive(weft_gossip_t *g);
/* A Disconnect from p: it leaves, not failed. */
void weft_gossip__overlay_parted(weft_gossip_t *g, g_peer_t *p);
/* Anti-entropy (gossip_ae.c): send our summary to p; take a peer's
 * summary or digests (0, or negative for a protocol violation). */
void weft_gossip__summary(weft_gossip_t *g, const g_peer_t *p);
int weft_gossip__recv_summary(weft_gossip_t *g, g_peer_t *p, uint64_t peer,
			      const Weft__GossipSummary *sum, weft_err_t *err);
int weft_gossip__recv_digest(weft_gossip_t *g, g_peer_t *p, uint64_t peer,
			     const Weft__GossipDigest *d, weft_err_t *err);

#endif
