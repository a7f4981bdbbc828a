/*
 * agent_int.h: what the files of the libuv driver share (agent.h is the
 * public face). The driver holds no protocol logic: it moves bytes and
 * time between sockets and the sans-IO cores (one session core per
 * connection, node/session.h; one node core, node/node.h), carries out
 * their outputs and applies the connection caps.
 *
 *   agent.c  start, stop, signals, the data directory's lock
 *   log.c    log lines on stderr, rate-limited for floods
 *   addr.c   parsing and formatting addresses, host names resolved on
 *            libuv's thread pool (never on the loop)
 *   conn.c   connections: accept with caps, session cores, reads and
 *            writes, session up/down into the node core
 *   dial.c   the --join dialers with backoff, member dials
 *   core.c   the node core's driver: its timer, its outputs (sends, the
 *            store, dials, notes), --link-delay, the catalog scan
 *   ctl.c    the control server on DIR/agent.sock (framing: control.h)
 *   pool.c   the worker pool for work that must not run on the loop
 *   catwrite.c  the catalog writer: accepted entries stored off the
 *            loop, group-committed, in order with revocation drops
 *   recheck.c  sessions re-checked every tick: a peer certificate
 *            expired, an org no longer trusted (issue 14, finding 9)
 *   gverify.c  gossiped entries' signatures checked on a thread of
 *            their own, then given back to the node core
 *
 * Ownership: the agent owns every conn; a conn owns its TCP handle, its
 * timer and its session core, and is freed only after both handles have
 * closed (conn->handles counts them down). Everything runs on the loop
 * thread except pool jobs' work functions.
 */
#ifndef WEFT_AGENT_AGENT_INT_H
#define WEFT_AGENT_AGENT_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <uv.h>

#include "agent/agent.h"
#include "agent/pool.h"
#include "agent/wake.h"
#include "crypto/handshake.h"
#include "lib/err.h"
#include "node/node.h"
#include "node/session.h"
#include "query/query.h"
#include "storage/audit.h"
#include "storage/nodedir.h"
#include "storage/qcache.h"
#include "storage/store.h"

#define AG_READ_BUF (256 * 1024)
#define AG_CTL_MAX_CONNS 128 /* queries hold theirs while they run */
#define AG_CTL_TIMEOUT_MS 5000
#define AG_BACKOFF_MIN_MS 500
/* A session up this long counts as a success even if the peer never
 * spoke; one that ends sooner, before the peer's first message, was
 * refused (dial.c) */
#define AG_SESS_LIVED_MS 10000
#define AG_CONTACT_CHECK_MS 2000 /* a parted --join contact: are we alone? */
#define AG_REFUSALS_MAX 64	 /* nodes whose sessions were refused, kept */
#define AG_GRACE_MS 2000	 /* shutdown: time to flush CLOSE frames */
#define AG_ADDR_MAX 64
#define AG_POOL_JOBS 64	    /* jobs queued or running at once */
#define AG_IPC_BUCKETS 1024 /* the per-address counts' hash table */
#define AG_RESOLVE_MAX 16   /* host names being resolved at once */

typedef struct agent agent_t;

/* A buffer in a list (query batches, control frames). */
typedef struct aq_buf {
	struct aq_buf *next;
	uint8_t *data;
	size_t len;
} aq_buf_t;

/* A fragment's result collected for the result cache (agent/qcache.c). */
typedef struct ag_qc_acc {
	uint8_t *buf;
	size_t len, cap;
	int off; /* gave up: too big, or out of memory */
} ag_qc_acc_t;
typedef struct ctl_conn ctl_conn_t;

/* A reference-counted copy of the trusted roots, borrowed by handshakes. */
typedef struct ag_trust {
	int refs;
	weft_pubkey_t *roots;
	weft_revoked_t *revoked; /* a copy: workers read snapshots */
	weft_trust_t t;
} ag_trust_t;

typedef struct dialer {
	agent_t *a;
	char addr[AG_ADDR_MAX];
	struct sockaddr_storage sa; /* numeric: parsed at start; a name:
				     * resolved again for every dial */
	int numeric, resolving;
	uv_timer_t timer;
	struct conn *conn;
	uint64_t backoff_ms;
	uint8_t peer_pk[WEFT_PK_BYTES];
	int peer_known;
	/* its session was let go by the overlay (the seed's active view
	 * was full): a join contact now, dialled again only while we have
	 * no neighbour */
	int parted;
} dialer_t;

/* Inbound connections from one remote IP, for the per-address caps
 * (conn.c): found in O(1) through a keyed hash of the address, freed
 * when its last connection starts closing. */
typedef struct ag_ipc {
	struct ag_ipc *next;
	unsigned n;	  /* inbound connections not closing */
	unsigned pending; /* of which the handshake is unfinished */
	char ip[AG_ADDR_MAX];
} ag_ipc_t;

/* A node whose sessions were refused lately (by it or by us): its member
 * dials wait, and the lines about it are folded (dial.c). */
typedef struct ag_refusal {
	uint8_t pk[WEFT_PK_BYTES];
	uint64_t backoff_ms; /* the last wait, before jitter */
	uint64_t until;	     /* uv_now: no member dial to it before */
	uint64_t log_at;     /* uv_now: no line about it before */
	uint64_t last;	     /* uv_now of the last refusal */
	unsigned folded;     /* refusals not logged since the last line */
} ag_refusal_t;

typedef struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	agent_t *a;
	struct conn *prev, *next;
	uint64_t id; /* the node core's peer id: unique for the run */
	uint8_t want_pk[WEFT_PK_BYTES]; /* member dials: who we expect */
	int member_dial;
	weft_sess_t *s;
	ag_trust_t *trust;
	dialer_t *dialer; /* outbound: the dialer that owns this attempt */
	char addr[AG_ADDR_MAX], ip[AG_ADDR_MAX];
	int outbound, up, reading, closing, handles, writes;
	int dirty;    /* queued output for core_before_sleep to write */
	int accepted; /* the peer's node core spoke: a message arrived */
	int parted;   /* ended by the overlay (WEFT_OUT_PART): no failure */
	int refused;  /* we closed it after the handshake (may_link), or
		       * a member dial reached another node (dial.c) */
	int64_t since_us;
	/* inbound: its address's counts; while the handshake is unfinished,
	 * its place in the agent's queue of them (oldest first) */
	ag_ipc_t *ipc;
	struct conn *hs_prev, *hs_next;
	int hs_queued;
	uint64_t hs_at; /* uv_now at accept */
} conn_t;

/* A message held by --link-delay. */
struct ag_held {
	struct ag_held *next;
	uint64_t due, peer;
	Weft__WireMessage *msg;
};

enum { AG_LIM_CAP, AG_LIM_HS, AG_LIM_TIMEOUT, AG_LIM_N };

/*
 * What the lower files (conn.c, ctl.c) tell the rest of the agent, set
 * by agent.c: calls up go through these pointers, so no two files call
 * each other (mk/check-cycles.sh). The files depend on each other
 * downward only: agent -> ctl, core -> dial -> conn -> addr, log.
 */
typedef struct ag_upcalls {
	/* handshake done: 0 to keep the session, -1 if it was closed */
	int (*conn_up)(conn_t *c);
	/* an application message for the node core */
	void (*conn_msg)(conn_t *c, const Weft__WireMessage *m);
	/* a connection starts closing (up or not) */
	void (*conn_closing)(conn_t *c);
	/* a connection or control connection was freed */
	void (*released)(agent_t *a);
	/* a command changed the store's catalog */
	void (*catalog_changed)(agent_t *a);
	/* the control server: a query request (its answers stream on cc
	 * until ag_ctl_finish), its client went away, writes completed */
	void (*query)(agent_t *a, ctl_conn_t *cc,
		      const Weft__ControlRequest *req);
	void (*query_gone)(agent_t *a, ctl_conn_t *cc);
	void (*ctl_drained)(agent_t *a);
	/* the node core's query-service outputs (core.c -> query.c) */
	void (*qout)(agent_t *a, weft_out_t *o);
	/* a policy of ours changed (core.c's scan -> query.c) */
	void (*policies_changed)(agent_t *a);
	/* the node core's outputs, carried out (core.c, ag_core_flush) */
	void (*core_flush)(agent_t *a);
} ag_upcalls_t;

struct agent {
	const weft_agent_opts_t *o;
	/* WEFT_TRACE_INPUT=FILE (tests): every message the node core gets
	 * from a session, packed, appended there; -1: off */
	int trace_fd;
	/* WEFT_TRACE_FRAGMENTS=FILE (tests): every fragment this node is
	 * asked to run, as the query service hands it over (after a
	 * tunnel's decryption), appended there; -1: off */
	int frag_fd;
	ag_upcalls_t up;
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_pipe_t ctl;
	uv_signal_t sigint, sigterm;
	uv_timer_t grace;
	weft_store_t *st;
	weft_node_id_t id;
	uint8_t netkey[WEFT_HS_KEY_BYTES];
	uint8_t mask_key[32]; /* hash masks of policies: from the node's
			       * secret key (query/serve_rewrite.c) */
	weft_hs_replay_t *replay;
	weft_pool_t *pool;
	/* one thread at the loop's priority for the scans of our own
	 * entries after a publish (core.c, ag_core_scan): what a publish
	 * waits for, small, and at a worker's nice 10 it waited ~40 ms for
	 * a core on a loaded host */
	weft_pool_t *opool;
	/* the catalog writer (catwrite.c): its thread, the batch gathering
	 * on the loop (not handed over yet) and its timer, batches handed
	 * over and not done */
	weft_pool_t *wpool;
	struct cw_job *cw_open;
	uv_timer_t cw_timer;
	int cw_timer_open;
	unsigned cw_queued;
	char listen_addr[AG_ADDR_MAX], advertise[AG_ADDR_MAX];
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lock_fd, stopping, listening, ctl_open;
	dialer_t dialers[WEFT_AGENT_JOIN_MAX];
	size_t ndialers;
	ag_refusal_t refusals[AG_REFUSALS_MAX];
	size_t nrefusals;
	conn_t *conns;
	unsigned nconns, nctl;
	/* admission (conn.c): connections not closing; inbound ones with an
	 * unfinished handshake, oldest first (evicted first); inbound
	 * connections per remote IP */
	unsigned nlive, nhs;
	conn_t *hs_head, *hs_tail;
	ag_ipc_t *ipc[AG_IPC_BUCKETS];
	uint8_t ipc_key[16]; /* crypto_shorthash_KEYBYTES, random */
	uint64_t hs_evicted;
	/* host names being resolved (addr.c) */
	struct ag_resolve *resolving;
	unsigned nresolving;
	int64_t started_us;
	uint8_t rbuf[AG_READ_BUF];
	/* counters for weft status */
	uint64_t hs_ok, hs_failed, bad_frames, refused_limit, timeouts, slow;
	/* the node core (node/node.h) and its driver (core.c) */
	weft_node_t *node;
	uv_timer_t gtimer;
	ag_trust_t *gtrust;
	/* node keys revoked by their org roots (the node core's REVOKE
	 * outputs), sorted by weft_revoked_cmp: every trust snapshot
	 * (ag_trust_get) carries them, so handshakes refuse them */
	weft_revoked_t *revoked;
	size_t nrevoked, revoked_cap;
	uint64_t next_conn_id, gossip_dropped, gticks;
	int gtimer_open, scanned;
	uint64_t policies;    /* our POLICY versions summed, at the last scan */
	struct ag_scan *scan; /* the catalog scan under way, or NULL */
	int scan_again;	      /* asked for while one was under way */
	/* --link-delay: messages held until due, in order */
	struct ag_held *held, *held_tail;
	uv_timer_t dtimer;
	int dtimer_open;
	/* sessions the node core sent to since the loop last slept: written
	 * once, just before it sleeps again (core.c, core_before_sleep) */
	uv_prepare_t wprep;
	int wprep_open;
	size_t ndirty;
	/* push entries' signatures checked off the loop (gverify.c): its
	 * thread and the batch out */
	weft_pool_t *vpool;
	struct ag_gv *gv;
	/* federated queries (query.c): asked here, served here */
	struct ag_query *queries;
	struct ag_serve *serves;
	weft_pool_t *qpool, *spool;
	ag_wake_t qasync;
	int qasync_open;
	uint64_t q_asked, q_served, q_refused, q_cancelled;
	/* the audit log's queue (audit.c) */
	pthread_mutex_t audit_mu;
	weft_audit_rec_t *audit_q;
	size_t audit_n, audit_cap;
	int audit_busy, audit_mu_ok, audit_timer_open, audit_job_on;
	uv_timer_t audit_timer;
	weft_pool_job_t audit_job;
	uint64_t audit_dropped, audit_written;
	/* log rate limiting for floods (ag_log_ok) */
	uint64_t lim_at[AG_LIM_N];
	double lim_tokens[AG_LIM_N];
	unsigned lim_skipped[AG_LIM_N];
};

/* ---- log.c ---- */

/* revoke.c: act on the node core's WEFT_OUT_REVOKE. */
void ag_revoke(agent_t *a, const weft_out_t *o);
/* One log line on stderr: "TIME LEVEL text". */
void ag_log(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Loop thread: its lines are held from now (one write for a batch),
 * written at ag_log_release. */
void ag_log_hold(void);
void ag_log_release(void);
/* 1 if a line of this kind (AG_LIM_*) may be logged now (token bucket),
 * else counts it as suppressed. */
int ag_log_ok(agent_t *a, int kind);

/* ---- conn.c ---- */

/* A fresh trust snapshot from the store (NULL, logged, on error). */
ag_trust_t *ag_trust_get(agent_t *a);
void ag_trust_put(ag_trust_t *t);
/* 1 if the certificate gives the gateway role. */
int ag_is_gateway(const weft_cert_info_t *ci);
conn_t *ag_conn_new(agent_t *a);
/* Make the session core for a connected socket and start reading. */
int ag_conn_start(conn_t *c, weft_hs_role_t role);
void ag_conn_close(conn_t *c);
/* Say Goodbye (reason) on c's session, write what is queued, close. */
void ag_conn_bye(conn_t *c, const char *reason);
/* Write everything the session core has queued. */
void ag_conn_flush(conn_t *c);
/* After any call into the session core: write, pause/resume, re-arm. */
void ag_conn_after(conn_t *c);
/* The peer's node name for log lines ("?" before the handshake). */
const char *ag_conn_peer_name(const conn_t *c);
/* The session (up, not closing) with node pk, other than not. */
conn_t *ag_conn_find_peer(agent_t *a, const uint8_t pk[WEFT_PK_BYTES],
			  const conn_t * not );
/* The session with the node core's peer id, if up and not closing. */
conn_t *ag_conn_by_id(agent_t *a, uint64_t id);
void ag_conn_on_accept(uv_stream_t *server, int status);

/* ---- addr.c ---- */

/* "HOST:PORT" or "[V6]:PORT" of sa into out; the bare host into ip. */
void ag_fmt_addr(const struct sockaddr *sa, char *out, size_t n, char *ip,
		 size_t ipn);
/* Parse "HOST:PORT" or "[V6]:PORT" without resolving anything: 0 with *sa
 * filled if HOST is an IP literal, 1 if it is a name (see ag_resolve),
 * WEFT_EINVAL (message naming the address) if s is malformed. */
int ag_addr_parse(const char *s, struct sockaddr_storage *sa, weft_err_t *err);
/* What ag_resolve reports, on the loop thread: status 0 and *sa (port
 * set), or a negative libuv code (UV_ECANCELED: the agent is stopping). */
typedef void (*ag_resolved_cb)(agent_t *a, void *arg, int status,
			       const struct sockaddr_storage *sa);
/* Resolve s's host name off the loop (uv_getaddrinfo, libuv's thread
 * pool) and call cb(a, arg, ...) once. Returns 0, or -1 without calling
 * cb: s malformed, AG_RESOLVE_MAX already under way, out of memory, or
 * the agent stopping. arg is the caller's; it must live until cb. */
int ag_resolve(agent_t *a, const char *s, ag_resolved_cb cb, void *arg);
/* Shutdown: cancel the resolutions under way (their callbacks see
 * UV_ECANCELED; one already running ends first). */
void ag_resolve_stop(agent_t *a);

/* ---- dial.c ---- */
/* Dial a --join address now / after ms (with +-20% jitter). */
void ag_dial_now(dialer_t *d);
void ag_dial_schedule(dialer_t *d, uint64_t ms);
/* Dial a member the node core asked for (no redial: it decides); while
 * the member's sessions are refused (ag_dial_refused) the dial waits out
 * its backoff and is reported to the node core as failed. */
void ag_dial_addr(agent_t *a, const char *addr, const uint8_t *pk);
/* A dialled session is up: remember who answered. */
void ag_dial_conn_up(conn_t *c);
/* The handshake of a connection finished, before the node core hears of
 * it: 0 to go on; -1 if a member dial reached a node other than the one
 * we meant (another key at the member's address): the connection is
 * closed, logged, and counted as a failed dial of that member (its
 * backoff, weft_node_unreachable). --join dials expect no key. */
int ag_dial_check_key(conn_t *c);
/* The peer accepted the session (its first message): reset the dialer's
 * backoff and forget the node's refusals. */
void ag_dial_conn_ok(conn_t *c);
/* A connection starts closing, before the node core hears of it (it may
 * ask to redial at once): a session that ended before the peer's first
 * message and before AG_SESS_LIVED_MS counts as refused. */
void ag_dial_conn_down(conn_t *c);
/* A dialled connection is closing: dial again after the backoff, which
 * doubles unless the session was accepted or lived. */
void ag_dial_conn_closed(conn_t *c);
/*
 * A session with node pk was refused (by it, or by us): its member dials
 * wait 0.5 s, doubling with each refusal up to --backoff-max (+-20%
 * jitter), until a session with it is accepted. Returns 1 if a line about
 * it may be logged now (one per backoff period), with fold set to " (N
 * more since the last line)" or ""; 0 to stay quiet (counted).
 */
int ag_dial_refused(agent_t *a, const uint8_t pk[WEFT_PK_BYTES], char *fold,
		    size_t n);

/* ---- core.c ---- */

/* Make the node core, arm its timer, start the first catalog scan. */
int ag_core_start(agent_t *a);
/* Upcalls (ag_upcalls_t): a session is up (may link? a duplicate?
 * then into the node core), a message for the node core, a session
 * going down. */
int ag_core_conn_up(conn_t *c);
void ag_core_conn_msg(conn_t *c, const Weft__WireMessage *m);
void ag_core_conn_down(conn_t *c);
/* Carry out every output the node core has queued. */
void ag_core_flush(agent_t *a);
/* Offer the store's catalog to the node core again (a scan on the
 * worker pool; coalesced while one is under way). */
void ag_core_scan(agent_t *a);
/* Close the node core's handles (shutdown). */
void ag_core_stop(agent_t *a);
/* Free what the node core's driver holds, then the core. */
void ag_core_free(agent_t *a);
/* WEFT_TRACE_FRAGMENTS: append to a->frag_fd a line naming the product,
 * the asking node and its org, then the fragment's bytes and a newline
 * (nothing when off). Borrows everything. */
void ag_trace_fragment(agent_t *a, const char *product, const char *asker,
		       const char *org, const uint8_t *frag, size_t len);

/* ---- recheck.c ---- */

/* Every tick, after the roots were re-read (a->gtrust): close, with a
 * log line, each session whose peer certificate expired, whose org is
 * no longer trusted or now reached only through gateways; its node's
 * member dials wait a refusal backoff (ag_dial_refused). O(sessions). */
void ag_recheck(agent_t *a);

/* ---- ctl.c ---- */

/* Bind DIR/agent.sock, refusing if another agent answers there. */
int ag_ctl_listen(agent_t *a);
/* Stop accepting control connections (shutdown). */
void ag_ctl_stop(agent_t *a);
/* A query's answers (query.c): send a frame (taken; -1 if the client is
 * gone), bytes waiting to be written, close once all is written. */
int ag_ctl_send(ctl_conn_t *cc, uint8_t *frame, size_t len);
size_t ag_ctl_queued(const ctl_conn_t *cc);
void ag_ctl_finish(ctl_conn_t *cc);

/* ---- audit.c ---- */

/* Queue an audit record (any thread); may_write: the caller is a worker
 * with no transaction open, which may write a full batch itself. */
void ag_audit_push(agent_t *a, const weft_audit_rec_t *r, int may_write);
/* Start the flush timer; stop it (shutdown); write what is queued and
 * free the queue (after the pools closed, before the store does). */
int ag_audit_start(agent_t *a);
void ag_audit_stop(agent_t *a);
void ag_audit_close(agent_t *a);

/* ---- query.c ---- */

/* Start the query driver (its pools and wakeup handle). */
int ag_query_start(agent_t *a);
/* Our policies changed: cancel every fragment being served, with a
 * reason the asker sees. */
void ag_query_revoke(agent_t *a);
/* Upcalls: see ag_upcalls_t. */
void ag_query_request(agent_t *a, ctl_conn_t *cc,
		      const Weft__ControlRequest *req);
void ag_query_gone(agent_t *a, ctl_conn_t *cc);
void ag_query_kick(agent_t *a);
void ag_query_out(agent_t *a, weft_out_t *o);
/* Shutdown: stop every query and fragment, join the pools. */
void ag_query_stop(agent_t *a);

/* ---- gverify.c: gossiped entries verified off the loop ---- */

/* Start its thread (0, or -1 logged) / stop it (before the core goes). */
int ag_gv_start(agent_t *a);
void ag_gv_stop(agent_t *a);
/* Entries waiting in the node core and no batch out: take one and
 * verify it on the thread (ag_core_flush calls it). */
void ag_gv_kick(agent_t *a);

/* ---- catwrite.c: the catalog writer ---- */

/* Start its thread (0, or -1 logged) / store what is queued and stop
 * (before the store closes). */
int ag_catw_start(agent_t *a);
void ag_catw_stop(agent_t *a);
/* Store entries env[0..n) (verified by the node core; the writer takes
 * them, freed once stored) off the loop, logging each one learnt: with
 * what gathers over the next CW_GATHER_MS, or at once (with what
 * gathered) when urgent. */
void ag_catw_put(agent_t *a, uint8_t **env, const size_t *len, size_t n,
		 int urgent);
/* Hand what gathered to the writer now: what is submitted to it after
 * this runs after it (a revocation's drop). */
void ag_catw_flush(agent_t *a);

/* ---- qcache.c: the result cache (query workers) ---- */

/* The cache's size cap in bytes (--cache-size), 0 when off. */
uint64_t ag_qc_cap(const agent_t *a);
/* The key of fragment frag of remote product r, as we ask it. */
void ag_qc_key(const agent_t *a, const weft_remote_t *r, const uint8_t *frag,
	       size_t len, uint8_t key[WEFT_QCACHE_KEY]);
/* A stored result: 1 and its batches in *head (the caller's) with the
 * owner's rows and version, batches and bytes; 0 if none. */
int ag_qc_load(agent_t *a, const uint8_t key[WEFT_QCACHE_KEY], aq_buf_t **head,
	       uint64_t *rows, uint64_t *version, uint64_t *batches,
	       uint64_t *bytes);
/* Collect one more batch of a result (gives up past cap / 4). */
void ag_qc_add(ag_qc_acc_t *acc, uint64_t cap, const uint8_t *b, size_t len);
/* Store a whole collected result under key. */
void ag_qc_store(agent_t *a, const uint8_t key[WEFT_QCACHE_KEY],
		 ag_qc_acc_t *acc, uint64_t rows, uint64_t version);
void ag_qc_acc_free(ag_qc_acc_t *acc);

#endif
