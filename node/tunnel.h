/*
 * tunnel.h: end-to-end sessions through gateways, as a sans-IO core
 * inside the node core (node/node.h).
 *
 * Two nodes of different orgs usually share no session: their orgs link
 * only gateway to gateway. To run a query between them, the asking node
 * opens a tunnel: a complete session (node/session.h: the mutual
 * handshake, sealed frames, keepalives) whose bytes travel in Relay
 * messages that gateways forward by destination key. A gateway sees the
 * two end keys, the tunnel id, the destination org, a hop count and
 * sealed bytes; never the query, a fragment, a refusal or a row. Each end
 * authenticates the other's certificate itself, so the owner authorises
 * the true asker, not the gateway that brought the bytes.
 *
 * Roles:
 *   - end (every node): weft_tun_open makes a tunnel to a node key; the
 *     node core sends and receives query messages on it under a virtual
 *     peer id (WEFT_TUN_BIT set), as on a session.
 *   - gateway: forwards Relay messages it is not the destination of,
 *     remembering each tunnel's two neighbours (a flow), so every byte of
 *     one direction takes one path and stays in order; caps flows in all
 *     and per neighbour, bounds hops, never sends back where a message
 *     came from. A regular node forwards nothing.
 *
 * Routes: the first hop is a gateway of the destination's org we hold a
 * session with, else a gateway of our own org; a gateway forwards to the
 * destination itself if it holds a session with it, else to a gateway of
 * the destination's org. A hop that cannot forward answers RelayError,
 * which travels back along the flow; the opening end then tries its next
 * first hop (a fresh tunnel id), so one gateway's failure costs a retry,
 * not the query. Once a tunnel is up, losing its path fails the tunnel:
 * its queries end with an error naming the node.
 *
 * Everything from a neighbour is hostile: Relay and RelayError were
 * checked by weft_wire_decode (key sizes, org, payload <= WEFT_TUN_CHUNK);
 * a regular neighbour may only relay as itself (src must be its key);
 * tunnels ended here are capped in all and per remote node; bytes queued
 * before a tunnel is up are capped; a session that does not authenticate
 * dies alone.
 */
#ifndef WEFT_NODE_TUNNEL_H
#define WEFT_NODE_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "node/session.h"
#include "weft.pb-c.h"

#define WEFT_TUN_BIT (1ull << 63)      /* in a virtual peer id */
#define WEFT_TUN_CHUNK (256u * 1024)   /* bytes of sealed payload a Relay */
#define WEFT_TUN_MAX 64		       /* tunnels ended here */
#define WEFT_TUN_PER_NODE 4	       /* ... with one remote node */
#define WEFT_TUN_FLOWS_MAX 1024	       /* tunnels a gateway relays */
#define WEFT_TUN_FLOWS_PEER 128	       /* ... arriving from one neighbour */
#define WEFT_TUN_HOPS_MAX 4	       /* gateways a Relay may pass */
#define WEFT_TUN_PENDING (256u * 1024) /* bytes queued before up */
#define WEFT_TUN_IDLE_MS 60000	       /* close a tunnel unused this long */
#define WEFT_TUN_HS_MS 5000	       /* handshake deadline per first hop */

typedef struct weft_tun weft_tun_t;

/* What the tunnel core tells the node core. */
typedef struct weft_tun_cb {
	/* send a Relay/RelayError (the core's; freed with
	 * weft_tun_msg_free once sent) to session peer */
	void (*send)(void *arg, uint64_t peer, Weft__WireMessage *m);
	/* tunnel vpeer is up with node pk (name) of org (its checked
	 * certificate) */
	void (*up)(void *arg, uint64_t vpeer, const uint8_t *pk,
		   const char *org, const char *name);
	/* tunnel vpeer failed or closed; why says what happened */
	void (*down)(void *arg, uint64_t vpeer, const char *why);
	/* an application message on tunnel vpeer (borrowed for the call) */
	void (*deliver)(void *arg, uint64_t vpeer, const Weft__WireMessage *m);
	void *arg;
} weft_tun_cb_t;

typedef struct weft_tun_cfg {
	/* template of the inner sessions: me, cert, network_key, trust,
	 * replay, version (role and timeouts are set here) */
	weft_sess_cfg_t sess;
	const char *org;  /* our org (copied) */
	int gateway;	  /* we forward for others */
	uint8_t seed[32]; /* secret: tunnel ids and handshake randomness */
} weft_tun_cfg_t;

typedef struct weft_tun_stats {
	uint64_t opened, accepted, failed;    /* tunnels ended here */
	uint64_t relayed_msgs, relayed_bytes; /* forwarded as a gateway */
	uint64_t refused;		      /* Relays not forwarded */
	uint32_t tunnels, flows;	      /* now */
} weft_tun_stats_t;

int weft_tun_new(weft_tun_t **out, const weft_tun_cfg_t *cfg,
		 const weft_tun_cb_t *cb, weft_err_t *err);
void weft_tun_free(weft_tun_t *t);
/* New trust roots (borrowed, as weft_node_set_trust's; each inner
 * session takes a copy when it starts). */
void weft_tun_set_trust(weft_tun_t *t, const weft_trust_t *trust);
void weft_tun_set_gateway(weft_tun_t *t, int gateway);

/* Sessions with neighbours: a route, or a path that broke. */
void weft_tun_peer_up(weft_tun_t *t, uint64_t peer, const uint8_t *pk,
		      const char *org, int gateway);
void weft_tun_peer_down(weft_tun_t *t, uint64_t now_ms, uint64_t peer);

/*
 * A tunnel to node pk of org: an existing one, or a new one whose
 * handshake starts now. *vpeer names it. Messages sent before it is up
 * wait (at most WEFT_TUN_PENDING bytes). WEFT_ENOTFOUND: no gateway to
 * try; WEFT_EAGAIN: too many tunnels; WEFT_ENOMEM.
 */
int weft_tun_open(weft_tun_t *t, uint64_t now_ms, int64_t unix_s,
		  const uint8_t *pk, const char *org, uint64_t *vpeer,
		  weft_err_t *err);
/* Send m on tunnel vpeer (the caller keeps m). 0, or negative: the
 * tunnel is gone or failed (down is called for it). */
int weft_tun_send(weft_tun_t *t, uint64_t now_ms, uint64_t vpeer,
		  const Weft__WireMessage *m);
/* A Relay or RelayError from session peer. Negative: the neighbour broke
 * the protocol (the node core counts it). */
int weft_tun_recv(weft_tun_t *t, uint64_t now_ms, int64_t unix_s, uint64_t peer,
		  const Weft__WireMessage *m, weft_err_t *err);

void weft_tun_tick(weft_tun_t *t, uint64_t now_ms, int64_t unix_s);
uint64_t weft_tun_next_timer(const weft_tun_t *t);

/* The remote node of tunnel vpeer (NULL if none). */
const uint8_t *weft_tun_remote(const weft_tun_t *t, uint64_t vpeer);
void weft_tun_stats(const weft_tun_t *t, weft_tun_stats_t *st);
void weft_tun_msg_free(Weft__WireMessage *m);

#endif
