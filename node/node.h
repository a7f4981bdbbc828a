/*
 * node.h: the node core: everything one weft node decides, as one sans-IO
 * state machine that owns the node's protocol cores (today the gossip
 * core, node/gossip.h; routing and the query service plug in here) and
 * dispatches to them. `weft agent` (agent/) embeds one and drives it with
 * libuv; `weft sim` (sim/) embeds one per simulated node and drives them
 * in virtual time. Both feed it the same events and carry out the same
 * outputs, so what the simulator measures is what the agent runs.
 *
 * Driving it. Sessions are the driver's (agent: a session core per TCP
 * connection; simulator: virtual links); the node core knows them by the
 * driver's 64-bit peer id. The driver reports:
 *   - a session up (weft_node_peer_up, after asking weft_node_may_link)
 *     or gone (weft_node_peer_down), a dial that failed
 *     (weft_node_unreachable);
 *   - every application message a session delivers (weft_node_recv, or
 *     weft_node_input with the frame body's bytes);
 *   - the time, at weft_node_next_timer (weft_node_tick);
 *   - entries from the local store (weft_node_offer).
 * After each call it takes the outputs (weft_node_poll: messages to send,
 * entries to persist, members to dial, log notes) and acts on them.
 *
 * Time comes in as now_ms (the driver's monotonic clock, any origin) and
 * unix_us (wall clock, for certificates and entry timestamps); randomness
 * only as the seed in the configuration. Nothing here reads a clock,
 * draws randomness, blocks or does I/O (make check-layers checks node/).
 *
 * Invariants: every message reaching a core has passed weft_wire_decode
 * (node/wire.h); a message of a kind no core handles is ignored, as
 * protocol buffers ignore unknown fields, so older nodes keep working
 * with newer ones.
 */
#ifndef WEFT_NODE_NODE_H
#define WEFT_NODE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "node/gossip.h"
#include "node/out.h"
#include "node/qsvc.h"
#include "node/tunnel.h"
#include "weft.pb-c.h"

typedef struct weft_node weft_node_t;

typedef struct weft_node_cfg {
	/* The gossip core's configuration (signer, trust, addresses,
	 * roles, intervals, seed, ...): see node/gossip.h. Borrowed
	 * pointers must outlive the node core, as there. */
	weft_gossip_cfg_t gossip;
	/* Tunnels through gateways (node/tunnel.h): network_key, replay
	 * and version of tunnel.sess, and tunnel.seed (secret randomness);
	 * the rest comes from gossip's signer and trust. Off while
	 * tunnel.sess.network_key is NULL (the simulator). */
	weft_tun_cfg_t tunnel;
} weft_node_cfg_t;

/* Counters of the node core itself (each core keeps its own too). */
typedef struct weft_node_stats {
	uint64_t msgs_in;	/* application messages received */
	uint64_t bulk_bytes_in; /* Bulk payload bytes received */
	uint64_t ignored_in;	/* messages of a kind no core handles */
	uint64_t proto_errors;	/* messages a core refused as malformed */
} weft_node_stats_t;

/*
 * Make the node core and its cores at now_ms / unix_us (the gossip core
 * issues our node record then). *out is the caller's, freed with
 * weft_node_free. Errors: those of weft_gossip_new, WEFT_ENOMEM.
 */
int weft_node_new(weft_node_t **out, const weft_node_cfg_t *cfg,
		  uint64_t now_ms, int64_t unix_us, weft_err_t *err);
/* Free the cores and any output not polled. Accepts NULL. */
void weft_node_free(weft_node_t *n);

/* ---- configuration that changes while running ---- */

/* Swap the trusted roots (borrowed until the next call or the free). */
void weft_node_set_trust(weft_node_t *n, const weft_trust_t *trust);
/* Whether we are a gateway, and the orgs ("a,b") reached only through
 * gateways (see weft_gossip_set_policy). */
void weft_node_set_policy(weft_node_t *n, int gateway, const char *indirect);

/* ---- sessions ---- */

/* May we keep a session with a node of org (gateway: it has the role)?
 * 0 for an org we reach only gateway to gateway. */
int weft_node_may_link(const weft_node_t *n, const char *org, int gateway);
/*
 * Two sessions with one node (both ends dialled at once): 1 if the one we
 * dialled is to be kept, 0 if the one it dialled. Both ends decide the
 * same: the session dialled by the node with the smaller key stays.
 */
int weft_node_keep_dialled(const weft_node_t *n,
			   const uint8_t peer[WEFT_PK_BYTES]);
/* A session with node pk (of org; gateway: has the role) is up. */
void weft_node_peer_up(weft_node_t *n, uint64_t now_ms, uint64_t peer,
		       const uint8_t pk[WEFT_PK_BYTES], const char *org,
		       int gateway);
void weft_node_peer_down(weft_node_t *n, uint64_t now_ms, uint64_t peer);
/* A dial asked for by a DIAL output failed. */
void weft_node_unreachable(weft_node_t *n, uint64_t now_ms,
			   const uint8_t pk[WEFT_PK_BYTES]);

/* ---- input ---- */

/*
 * An application message from session peer (already checked by
 * weft_wire_decode; borrowed for the call). Returns 0, or negative when a
 * core finds it violates the protocol (err says why): the driver closes
 * that session.
 */
int weft_node_recv(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
		   uint64_t peer, const Weft__WireMessage *m, weft_err_t *err);
/*
 * Pushes' entries wait in the core (weft_gossip_work): how many wait,
 * and taking up to max of them (returns how many are left);
 * weft_node_input takes them all.
 */
size_t weft_node_pending(const weft_node_t *n);
size_t weft_node_work(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
		      size_t max);
/* Or, for a driver that must stay responsive (the agent), the fast lane
 * checked on its loop (a few an interval: weft_gossip_work_fast) and the
 * rest taken to be verified off it, then given back (weft_gossip_take,
 * _give). */
size_t weft_node_work_fast(weft_node_t *n, uint64_t now_ms, int64_t unix_us);
size_t weft_node_take(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
		      weft_gossip_taken_t *out, size_t max);
void weft_node_give(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
		    weft_gossip_taken_t *in, size_t count);
/* As weft_node_recv, then every waiting entry taken, from a frame
 * body's bytes (hostile: decoded and checked with weft_wire_decode
 * first; WEFT_EPARSE if they are not a message): the simulator's input,
 * which models the network, not the host's turns. */
int weft_node_input(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
		    uint64_t peer, const uint8_t *buf, size_t len,
		    weft_err_t *err);
/*
 * An entry from outside the network: loaded from the store (persist 0),
 * or made here (persist 1). See weft_gossip_offer: 1 accepted, 0 not
 * newer, negative refused.
 */
int weft_node_offer(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
		    const uint8_t *env, size_t len, int persist,
		    weft_err_t *err);

/*
 * Ask fragment frag[0..len) of product at version of node pk (of org):
 * over our session with it, else through a tunnel (opened now if none;
 * the QueryOpen waits for it). Outputs and errors as weft_qsvc_open's,
 * and weft_tun_open's (no gateway to try).
 */
int weft_node_query_open(weft_node_t *n, uint64_t now_ms, int64_t unix_us,
			 const uint8_t pk[WEFT_PK_BYTES], const char *org,
			 const char *product, uint64_t version,
			 const uint8_t *frag, size_t len, uint32_t timeout_ms,
			 uint64_t *qid, weft_err_t *err);

/* ---- time ---- */

/* Periodic work of every core; call at weft_node_next_timer. */
void weft_node_tick(weft_node_t *n, uint64_t now_ms, int64_t unix_us);
/* When to call weft_node_tick next (now_ms clock), UINT64_MAX never. */
uint64_t weft_node_next_timer(const weft_node_t *n);

/* ---- output ---- */

/* Take the next output: 1 and *out filled (the caller's, released with
 * weft_node_out_free), 0 if there is none. */
int weft_node_poll(weft_node_t *n, weft_out_t *out);
/* Release what a polled output owns (msg, env). Accepts a zeroed out. */
void weft_node_out_free(weft_out_t *out);
/* Release a SEND output's message kept past its poll (the agent's
 * --link-delay holds some). Accepts NULL. */
void weft_node_msg_free(Weft__WireMessage *m);

/* ---- introspection ---- */

void weft_node_stats(const weft_node_t *n, weft_node_stats_t *st);
/* The gossip core, for read-only views: members, stats, the catalog. */
const weft_gossip_t *weft_node_gossip(const weft_node_t *n);
/*
 * The query service core (node/qsvc.h): the driver asks fragments and
 * hands back what it runs for others through it; its outputs come out of
 * weft_node_poll with the others'.
 */
weft_qsvc_t *weft_node_qsvc(weft_node_t *n);
/* The tunnel core (NULL when off), for stats. */
const weft_tun_t *weft_node_tunnels(const weft_node_t *n);

#endif
