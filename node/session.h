/*
 * session.h: one authenticated, encrypted link between two nodes, as a
 * sans-IO state machine (handshake, sealed frames, WireMessage envelopes,
 * keepalives, timeouts and the send-queue cap).
 *
 * The driver (node/agent.c with libuv, the simulator, tests, benchmarks)
 * feeds it received bytes and the time, takes the bytes it wants sent, and
 * calls it back when its timer is due. The core never reads a clock, never
 * draws randomness, never does I/O and never blocks.
 *
 * Output: bytes to send accumulate in blocks the driver takes over with
 * weft_sess_take (ownership passes: the driver frees them after the write
 * completes and reports them with weft_sess_written). Bytes taken but not
 * yet written still count as queued. While the queue is over max_queue,
 * weft_sess_want_read says 0: the driver stops reading from the socket
 * (backpressure), so a peer that does not read cannot make us buffer
 * without bound; if that lasts stall_ms the session fails.
 *
 * Invariants: every length is bounded before it is buffered; a failed
 * session stays failed (every later call fails); weft_sess_free wipes all
 * key material.
 */
#ifndef WEFT_NODE_SESSION_H
#define WEFT_NODE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/handshake.h"
#include "lib/err.h"
#include "weft.pb-c.h"

#define WEFT_SESS_QUEUE_DEFAULT (4u * 1024 * 1024)

typedef struct weft_sess weft_sess_t;

typedef struct weft_sess_cfg {
	weft_hs_role_t role;
	const weft_keypair_t *me; /* borrowed; must outlive the session */
	const uint8_t *cert;	  /* our SignedCertificate (copied) */
	size_t cert_len;
	const uint8_t *network_key; /* WEFT_HS_KEY_BYTES (copied) */
	const weft_trust_t *trust;  /* borrowed; must outlive the handshake */
	weft_hs_replay_t *replay;   /* responder, optional, borrowed */
	const char *listen_addr;    /* sent in Hello; NULL for none */
	const char *version;	    /* sent in Hello; NULL for none */
	uint64_t hs_timeout_ms;	    /* handshake deadline; 0: 10 s */
	uint64_t keepalive_ms;	    /* ping when we sent nothing; 0: 15 s */
	uint64_t idle_ms;	    /* fail after nothing received; 0: 60 s */
	uint64_t stall_ms;    /* fail after the queue stayed full; 0: 30 s */
	size_t max_queue;     /* bytes; 0: WEFT_SESS_QUEUE_DEFAULT */
	uint64_t rekey_every; /* frames; 0: WEFT_FRAME_REKEY_EVERY */
} weft_sess_cfg_t;

/* What weft_sess_input reports. */
typedef enum weft_sess_ev {
	WEFT_SESS_NONE = 0,   /* nothing to report (see *consumed) */
	WEFT_SESS_UP = 1,     /* handshake done and confirmed (the responder
			       * after message 3; the initiator when the
			       * responder's Hello arrives): weft_sess_peer
			       * is valid */
	WEFT_SESS_MSG = 2,    /* an application message in *msg */
	WEFT_SESS_CLOSED = 3, /* the peer closed cleanly; nothing follows */
} weft_sess_ev_t;

/* Why a session failed (for counters and logs). */
typedef enum weft_sess_fail {
	WEFT_SESS_OK = 0,
	WEFT_SESS_FAIL_HANDSHAKE, /* refused or failed handshake */
	WEFT_SESS_FAIL_FRAME,	  /* a frame did not authenticate or parse */
	WEFT_SESS_FAIL_PROTO,	  /* a frame's message is malformed */
	WEFT_SESS_FAIL_TIMEOUT,	  /* handshake deadline or idle timeout */
	WEFT_SESS_FAIL_STALL,	  /* peer did not read our queue in time */
	WEFT_SESS_FAIL_LOCAL,	  /* our side: memory, queue full, misuse */
} weft_sess_fail_t;

/* Session counters (bytes on the wire). */
typedef struct weft_sess_stats {
	uint64_t bytes_in, bytes_out, msgs_in, msgs_out;
	int64_t rtt_ms; /* last keepalive round trip; -1 unknown */
} weft_sess_stats_t;

/* A block of output bytes handed to the driver (weft_sess_take). */
typedef struct weft_sess_buf {
	uint8_t *data; /* malloc'd; the driver frees it */
	size_t len;
} weft_sess_buf_t;

/*
 * Make a session. now_ms is the driver's monotonic clock (any origin),
 * unix_s the wall clock for certificate validity and the handshake
 * timestamp; seed fresh randomness (ephemeral key, ping ids). An initiator
 * queues message 1 at once. Errors: those of weft_hs_new, WEFT_ENOMEM.
 */
int weft_sess_new(weft_sess_t **out, const weft_sess_cfg_t *cfg,
		  uint64_t now_ms, int64_t unix_s,
		  const uint8_t seed[WEFT_HS_SEED_BYTES], weft_err_t *err);
/* Wipe and free; queued blocks not taken are freed too. Accepts NULL. */
void weft_sess_free(weft_sess_t *s);

/*
 * Feed received bytes. Takes what it can and sets *consumed; stops early
 * when it has something to report, so call again with the rest until all
 * is consumed. WEFT_SESS_MSG: *msg is valid until the next call on s.
 * Keepalives, Hello and Goodbye are handled inside and not reported.
 * Negative: the session failed (err says why, weft_sess_failure says what
 * kind); the driver closes the connection. Any bytes already queued (none
 * during a handshake) may be flushed first.
 */
int weft_sess_input(weft_sess_t *s, uint64_t now_ms, const uint8_t *in,
		    size_t len, size_t *consumed, Weft__WireMessage **msg,
		    weft_err_t *err);

/*
 * Zero-copy receive (optional): while a large frame body is being read,
 * the core's buffer for the rest of it (NULL, *len 0 otherwise, or when
 * less than 64 KiB is wanted). The driver may read into it, report the
 * bytes with weft_sess_rx_commit, then call weft_sess_input with len 0
 * until it reports nothing more, exactly as after passing bytes.
 */
uint8_t *weft_sess_rx_space(weft_sess_t *s, size_t *len);
void weft_sess_rx_commit(weft_sess_t *s, uint64_t now_ms, size_t n);

/*
 * Queue one message. Errors: WEFT_EINVAL (session not up, or closed),
 * WEFT_ETOOBIG (message over the frame cap), WEFT_EAGAIN (queue over
 * max_queue: retry after output drains; nothing was queued), WEFT_ENOMEM.
 */
int weft_sess_send(weft_sess_t *s, uint64_t now_ms,
		   const Weft__WireMessage *msg, weft_err_t *err);
/*
 * The same for a message that must not be lost (a relayed tunnel frame,
 * a query's messages: a gap kills a tunnel, a missing batch stalls a
 * query): queued over max_queue too, up to WEFT_SESS_QUEUE_HARD times it;
 * past that the session fails ("the peer does not read"), which its ends
 * see and report, rather than a silent gap. Whatever makes these
 * messages bounds them first: credit per fragment, caps per tunnel.
 */
#define WEFT_SESS_QUEUE_HARD 4
int weft_sess_send_must(weft_sess_t *s, uint64_t now_ms,
			const Weft__WireMessage *msg, weft_err_t *err);

/* Queue a Goodbye and the CLOSE frame; later sends fail. Harmless if the
 * session is not up (then nothing is queued). */
void weft_sess_close(weft_sess_t *s, const char *reason);

/*
 * Take the queued output, if any: returns 1 and fills *buf (ownership
 * passes to the caller), 0 if nothing is queued.
 */
int weft_sess_take(weft_sess_t *s, weft_sess_buf_t *buf);
/* n bytes taken earlier have been written (or dropped) by the driver. */
void weft_sess_written(weft_sess_t *s, uint64_t now_ms, size_t n);

/* Bytes queued: not yet taken plus taken but not yet written. */
size_t weft_sess_queued(const weft_sess_t *s);
/* 1 if the driver should read from the socket, 0 to pause (queue full,
 * session failed or closed by the peer). */
int weft_sess_want_read(const weft_sess_t *s);

/*
 * When the driver must next call weft_sess_tick (monotonic ms), or
 * UINT64_MAX for never. Changes after every call on s.
 */
uint64_t weft_sess_next_timer(const weft_sess_t *s);
/* Handle due timers: may queue a keepalive, may fail the session (then
 * negative, as weft_sess_input). */
int weft_sess_tick(weft_sess_t *s, uint64_t now_ms, weft_err_t *err);

/* 1 once the handshake is done and until the session fails or closes. */
int weft_sess_is_up(const weft_sess_t *s);
/* The verified peer after WEFT_SESS_UP; NULL before. */
const weft_cert_info_t *weft_sess_peer(const weft_sess_t *s);
/* The peer's Hello listen address ("" until its Hello arrives). */
const char *weft_sess_peer_listen(const weft_sess_t *s);
weft_sess_fail_t weft_sess_failure(const weft_sess_t *s);
void weft_sess_stats(const weft_sess_t *s, weft_sess_stats_t *st);

#endif
