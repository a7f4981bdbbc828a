/*
 * agent.c: the libuv driver of `weft agent` (see agent.h).
 *
 * Ownership: the agent owns every conn; a conn owns its TCP handle, its
 * timer and its session core, and is freed only after both handles have
 * closed (conn->handles counts them down). Writes in flight keep the
 * buffers the core handed over; their callbacks report progress to the
 * core even while the conn is closing, and never touch a freed conn
 * (a conn is freed only after uv_close, which cancels pending writes
 * first and runs their callbacks).
 *
 * Invariants:
 * - Protocol decisions are the core's: here we only feed bytes and time,
 *   write what it queued, pause reading while weft_sess_want_read says 0,
 *   and call weft_sess_tick when weft_sess_next_timer says.
 * - Caps are checked on accept, before any session state exists: total
 *   connections, connections per remote IP, handshaking ones per IP.
 * - One read buffer serves all connections: libuv calls alloc and read
 *   back to back on this thread, and the core copies what it keeps.
 * - The trust roots are re-read from the store for every new connection,
 *   so `weft trust add` takes effect for the next handshake.
 */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "lib/util.h"
#include "lib/version.h"
#include "node/node.h"
#include "node/session.h"
#include "storage/catalog.h"
#include "storage/nodedir.h"

#define AG_READ_BUF (256 * 1024)
#define AG_CTL_REQ_MAX 4096
#define AG_CTL_MAX_CONNS 16
#define AG_CTL_TIMEOUT_MS 5000
#define AG_BACKOFF_MIN_MS 500
#define AG_GRACE_MS 2000 /* shutdown: time to flush CLOSE frames */
#define AG_ADDR_MAX 64
#define AG_LOG_BURST 20.0
#define AG_LOG_RATE 5.0 /* lines a second, per kind, after a burst */

typedef struct agent agent_t;

/* A reference-counted copy of the trusted roots, borrowed by handshakes. */
typedef struct ag_trust {
	int refs;
	weft_pubkey_t *roots;
	weft_trust_t t;
} ag_trust_t;

typedef struct dialer {
	agent_t *a;
	char addr[AG_ADDR_MAX];
	struct sockaddr_storage sa;
	uv_timer_t timer;
	struct conn *conn;
	uint64_t backoff_ms;
	uint8_t peer_pk[WEFT_PK_BYTES];
	int peer_known;
} dialer_t;

typedef struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	agent_t *a;
	struct conn *prev, *next;
	uint64_t id; /* the gossip core's peer id: unique for the run */
	uint8_t want_pk[WEFT_PK_BYTES]; /* member dials: who we expect */
	int member_dial;
	weft_sess_t *s;
	ag_trust_t *trust;
	dialer_t *dialer; /* outbound: the dialer that owns this attempt */
	char addr[AG_ADDR_MAX], ip[AG_ADDR_MAX];
	int outbound, up, reading, closing, handles, writes;
	int64_t since_us;
} conn_t;

typedef struct ctl_conn {
	uv_pipe_t pipe;
	uv_timer_t timer;
	agent_t *a;
	uint8_t buf[AG_CTL_REQ_MAX + 4];
	size_t len;
	int handles, done;
} ctl_conn_t;

/* A gossip message held by --link-delay. */
struct ag_held {
	struct ag_held *next;
	uint64_t due, peer;
	Weft__WireMessage *msg;
};

struct agent {
	const weft_agent_opts_t *o;
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_pipe_t ctl;
	uv_signal_t sigint, sigterm;
	uv_timer_t grace;
	weft_store_t *st;
	weft_node_id_t id;
	uint8_t netkey[WEFT_HS_KEY_BYTES];
	weft_hs_replay_t *replay;
	char listen_addr[AG_ADDR_MAX], advertise[AG_ADDR_MAX];
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lock_fd, stopping, listening, ctl_open;
	dialer_t dialers[WEFT_AGENT_JOIN_MAX];
	size_t ndialers;
	conn_t *conns;
	unsigned nconns, nctl;
	int64_t started_us;
	uint8_t rbuf[AG_READ_BUF];
	/* counters for weft status */
	uint64_t hs_ok, hs_failed, bad_frames, refused_limit, timeouts, slow;
	/* the node core (node/node.h) */
	weft_node_t *node;
	uv_timer_t gtimer;
	ag_trust_t *gtrust;
	uint64_t next_conn_id, gossip_dropped, gticks;
	int gtimer_open, scanned;
	/* --link-delay: gossip messages held until due, in order */
	struct ag_held *held, *held_tail;
	uv_timer_t dtimer;
	int dtimer_open;
	/* log rate limiting for floods (ag_log_ok) */
	uint64_t lim_at[4];
	double lim_tokens[4];
	unsigned lim_skipped[4];
};

enum { AG_LIM_CAP, AG_LIM_HS, AG_LIM_TIMEOUT, AG_LIM_N };

static void conn_close(conn_t *c);
static void conn_after(conn_t *c);
static void dial_schedule(dialer_t *d, uint64_t ms);
static void agent_maybe_done(agent_t *a);
static void ag_gossip_flush(agent_t *a);
static void ag_dial_addr(agent_t *a, const char *addr, const uint8_t *pk);

/* ---- logging ---- */

static void
ag_log(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ag_log(const char *level, const char *fmt, ...)
{
	char ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s ", ts, now.tv_nsec / 1000000, level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* 1 if a line of this kind may be logged now, else counts it skipped: a
 * token bucket per kind (a burst of AG_LOG_BURST lines, then AG_LOG_RATE
 * a second), so a flood cannot fill the disk but single events always
 * show. */
static int
ag_log_ok(agent_t *a, int kind)
{
	uint64_t now = uv_now(a->loop);
	double t = a->lim_tokens[kind];

	if (a->lim_at[kind] == 0)
		t = AG_LOG_BURST;
	else
		t += (double)(now - a->lim_at[kind]) * AG_LOG_RATE / 1000.0;
	if (t > AG_LOG_BURST)
		t = AG_LOG_BURST;
	a->lim_at[kind] = now ? now : 1;
	if (t < 1) {
		a->lim_tokens[kind] = t;
		a->lim_skipped[kind]++;
		return 0;
	}
	a->lim_tokens[kind] = t - 1;
	if (a->lim_skipped[kind] > 0)
		ag_log("warn", "(%u similar lines suppressed)",
		       a->lim_skipped[kind]);
	a->lim_skipped[kind] = 0;
	return 1;
}

/* ---- addresses ---- */

static void
ag_fmt_addr(const struct sockaddr *sa, char *out, size_t n, char *ip,
	    size_t ipn)
{
	char h[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		uv_ip4_name(s4, h, sizeof(h));
		port = ntohs(s4->sin_port);
		snprintf(out, n, "%s:%d", h, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		uv_ip6_name(s6, h, sizeof(h));
		port = ntohs(s6->sin6_port);
		snprintf(out, n, "[%s]:%d", h, port);
	} else {
		snprintf(out, n, "?");
	}
	if (ip != NULL)
		snprintf(ip, ipn, "%s", h);
}

int
weft_agent_parse_addr(const char *s, struct sockaddr_storage *sa,
		      weft_err_t *err)
{
	char host[256];
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long port;
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(sa, 0, sizeof(*sa));
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return weft_err_set(err, WEFT_EINVAL, "\"%s\": want HOST:PORT",
				    s);
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return weft_err_set(err, WEFT_EINVAL, "\"%s\": want "
					    "[IPV6]:PORT", s);
		h = s + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return weft_err_set(err, WEFT_EINVAL, "\"%s\": host too long",
				    s);
	memcpy(host, h, hl);
	host[hl] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == 0 || *end || errno || port < 0 || port > 65535)
		return weft_err_set(err, WEFT_EINVAL, "\"%s\": port must be "
				    "0..65535", s);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL)
		return weft_err_set(err, WEFT_EINVAL, "\"%s\": cannot resolve "
				    "%s: %s", s, host, gai_strerror(rc));
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (sa->ss_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
	return 0;
}

/* ---- trust snapshots ---- */

static ag_trust_t *
ag_trust_get(agent_t *a)
{
	ag_trust_t *t = calloc(1, sizeof(*t));
	size_t n = 0;
	weft_err_t err = {0};

	if (t == NULL)
		return NULL;
	if (weft_store_trust_list(a->st, &t->roots, &n, &err) != 0) {
		ag_log("error", "reading trusted roots: %s", err.msg);
		free(t);
		return NULL;
	}
	t->refs = 1;
	t->t.roots = t->roots;
	t->t.n = n;
	return t;
}

static void
ag_trust_put(ag_trust_t *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	free(t->roots);
	free(t);
}

/* ---- connections ---- */

static void
conn_unlink(conn_t *c)
{
	agent_t *a = c->a;

	if (c->prev)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->nconns--;
}

static void
conn_handle_closed(uv_handle_t *h)
{
	conn_t *c = h->data;
	agent_t *a = c->a;

	if (--c->handles > 0)
		return;
	conn_unlink(c);
	weft_sess_free(c->s);
	ag_trust_put(c->trust);
	free(c);
	agent_maybe_done(a);
}

static void
conn_close(conn_t *c)
{
	dialer_t *d = c->dialer;

	if (c->closing)
		return;
	c->closing = 1;
	if (c->up && c->a->node != NULL && !c->a->stopping) {
		weft_node_peer_down(c->a->node, uv_now(c->a->loop), c->id);
		ag_gossip_flush(c->a);
	}
	if (d != NULL) {
		d->conn = NULL;
		c->dialer = NULL;
		if (!c->a->stopping) {
			dial_schedule(d, d->backoff_ms);
			if (!c->up && d->backoff_ms < d->a->o->backoff_max_ms)
				d->backoff_ms *= 2;
			if (d->backoff_ms > d->a->o->backoff_max_ms)
				d->backoff_ms = d->a->o->backoff_max_ms;
		}
	}
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static int
conn_count_ip(agent_t *a, const char *ip, unsigned *pending)
{
	conn_t *c;
	int n = 0;

	*pending = 0;
	for (c = a->conns; c; c = c->next) {
		if (c->closing || strcmp(c->ip, ip) != 0)
			continue;
		n++;
		if (!c->up)
			(*pending)++;
	}
	return n;
}

static conn_t *
conn_new(agent_t *a)
{
	conn_t *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->a = a;
	c->id = ++a->next_conn_id;
	uv_tcp_init(a->loop, &c->tcp);
	uv_timer_init(a->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	c->next = a->conns;
	if (a->conns)
		a->conns->prev = c;
	a->conns = c;
	a->nconns++;
	return c;
}

typedef struct ag_write {
	uv_write_t req;
	conn_t *c;
	weft_sess_buf_t buf;
} ag_write_t;

static void
conn_write_done(uv_write_t *req, int status)
{
	ag_write_t *w = (ag_write_t *)req;
	conn_t *c = w->c;

	c->writes--;
	weft_sess_written(c->s, uv_now(c->a->loop), w->buf.len);
	free(w->buf.data);
	free(w);
	if (c->closing)
		return;
	if (c->a->stopping) {
		/* Shutting down: close once the CLOSE frame is out. */
		if (c->writes == 0)
			conn_close(c);
		return;
	}
	if (status < 0) {
		ag_log("info", "write to %s failed: %s", c->addr,
		       uv_strerror(status));
		conn_close(c);
		return;
	}
	conn_after(c);
}

/* Write everything the core has queued. */
static void
conn_flush(conn_t *c)
{
	ag_write_t *w;
	uv_buf_t b;

	for (;;) {
		w = malloc(sizeof(*w));
		if (w == NULL) {
			conn_close(c);
			return;
		}
		if (!weft_sess_take(c->s, &w->buf)) {
			free(w);
			return;
		}
		w->c = c;
		b = uv_buf_init((char *)w->buf.data, (unsigned)w->buf.len);
		if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1,
			     conn_write_done) != 0) {
			weft_sess_written(c->s, uv_now(c->a->loop), w->buf.len);
			free(w->buf.data);
			free(w);
			conn_close(c);
			return;
		}
		c->writes++;
	}
}

static void conn_timer_cb(uv_timer_t *t);
static void conn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void
conn_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	conn_t *c = h->data;
	size_t room = 0;
	uint8_t *p = c->closing ? NULL : weft_sess_rx_space(c->s, &room);

	/* In the middle of a large frame, read straight into the core's
	 * frame buffer (no copy); else into the shared buffer. */
	if (p != NULL) {
		b->base = (char *)p;
		b->len = room;
		return;
	}
	b->base = (char *)c->a->rbuf;
	b->len = sizeof(c->a->rbuf);
}

/* After any call into the core: write, pause or resume reading, re-arm. */
static void
conn_after(conn_t *c)
{
	uint64_t t, now;
	int want;

	if (c->closing)
		return;
	conn_flush(c);
	if (c->closing)
		return;
	want = weft_sess_want_read(c->s);
	if (want && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb,
				  conn_read_cb) == 0)
			c->reading = 1;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = 0;
	}
	t = weft_sess_next_timer(c->s);
	now = uv_now(c->a->loop);
	if (t == UINT64_MAX)
		uv_timer_stop(&c->timer);
	else
		uv_timer_start(&c->timer, conn_timer_cb, t > now ? t - now : 0,
			       0);
}

/* The peer's node name for log lines, "?" before the handshake. */
static const char *
conn_peer_name(const conn_t *c)
{
	const weft_cert_info_t *p = weft_sess_peer(c->s);

	return p != NULL ? p->subject_name : "?";
}

/* The session failed: count, log, close. */
static void
conn_failed(conn_t *c, const weft_err_t *err)
{
	agent_t *a = c->a;
	const char *dir = c->outbound ? "to" : "from";

	switch (weft_sess_failure(c->s)) {
	case WEFT_SESS_FAIL_HANDSHAKE:
		a->hs_failed++;
		if (ag_log_ok(a, AG_LIM_HS))
			ag_log("warn", "handshake %s %s refused: %s", dir,
			       c->addr, err->msg);
		break;
	case WEFT_SESS_FAIL_FRAME:
	case WEFT_SESS_FAIL_PROTO:
		a->bad_frames++;
		ag_log("warn", "session %s %s (node %s) closed: bad frame: %s",
		       dir, c->addr, conn_peer_name(c), err->msg);
		break;
	case WEFT_SESS_FAIL_TIMEOUT:
		a->timeouts++;
		if (!c->up)
			a->hs_failed++;
		if (c->up || ag_log_ok(a, AG_LIM_TIMEOUT))
			ag_log("warn", "%s %s %s closed: %s",
			       c->up ? "session" : "connection", dir, c->addr,
			       err->msg);
		break;
	case WEFT_SESS_FAIL_STALL:
		a->slow++;
		ag_log("warn", "session %s %s (node %s) closed: slow peer: %s",
		       dir, c->addr, conn_peer_name(c), err->msg);
		break;
	default:
		ag_log("error", "session %s %s closed: %s", dir, c->addr,
		       err->msg);
		break;
	}
	conn_close(c);
}

static conn_t *
conn_find_peer(agent_t *a, const uint8_t pk[WEFT_PK_BYTES], const conn_t *not)
{
	conn_t *c;

	for (c = a->conns; c; c = c->next)
		if (c != not && c->up && !c->closing &&
		    memcmp(weft_sess_peer(c->s)->subject_pk, pk,
			   WEFT_PK_BYTES) == 0)
			return c;
	return NULL;
}

static int
ag_is_gateway(const weft_cert_info_t *ci)
{
	size_t i;

	for (i = 0; i < ci->nroles; i++)
		if (strcmp(ci->roles[i], "gateway") == 0)
			return 1;
	return 0;
}

/* The handshake finished. Returns 0 to keep the session, -1 if closed. */
static int
conn_on_up(conn_t *c)
{
	agent_t *a = c->a;
	const weft_cert_info_t *p = weft_sess_peer(c->s);
	conn_t *other = conn_find_peer(a, p->subject_pk, c);

	a->hs_ok++;
	if (a->node != NULL &&
	    !weft_node_may_link(a->node, p->org_name, ag_is_gateway(p))) {
		/* an org we reach only gateway to gateway */
		ag_log("warn", "session %s %s closed: node %s of org %s is "
			       "reached only through gateways", c->outbound ?
			       "to" : "from", c->addr, p->subject_name,
		       p->org_name);
		weft_sess_close(c->s, "org reached only through gateways");
		conn_flush(c);
		conn_close(c);
		return -1;
	}
	c->up = 1;
	c->since_us = weft_now_us();
	ag_trust_put(c->trust); /* only the handshake needed it */
	c->trust = NULL;
	if (c->dialer != NULL) {
		memcpy(c->dialer->peer_pk, p->subject_pk, WEFT_PK_BYTES);
		c->dialer->peer_known = 1;
		c->dialer->backoff_ms = AG_BACKOFF_MIN_MS;
	}
	if (other != NULL) {
		/* Two links to one node (both dialled at once): both ends keep
		 * the one dialled by the smaller key, so they agree. */
		int keep_outbound = weft_node_keep_dialled(a->node,
							   p->subject_pk);
		conn_t *drop = c->outbound == keep_outbound ? other : c;

		ag_log("info", "duplicate session with node %s: keeping the "
			       "one dialled by %s", p->subject_name,
		       keep_outbound ? "us" : "them");
		if (drop->dialer != NULL) {
			dialer_t *d = drop->dialer;

			d->backoff_ms = a->o->backoff_max_ms;
		}
		weft_sess_close(drop->s, "duplicate session");
		conn_flush(drop);
		conn_close(drop);
		if (drop == c)
			return -1;
	}
	ag_log("info", "session up: node %s (org %s) %s %s", p->subject_name,
	       p->org_name, c->outbound ? "dialled at" : "from", c->addr);
	if (a->node != NULL) {
		weft_node_peer_up(a->node, uv_now(a->loop), c->id,
				    p->subject_pk, p->org_name,
				    ag_is_gateway(p));
		ag_gossip_flush(a);
	}
	return 0;
}

/* A message for the node core: dispatch, then carry out its outputs. */
static void
conn_on_msg(conn_t *c, const Weft__WireMessage *m)
{
	agent_t *a = c->a;
	weft_err_t err = {0};

	if (a->node == NULL)
		return;
	if (weft_node_recv(a->node, uv_now(a->loop), weft_now_us(), c->id, m,
			   &err) != 0) {
		a->bad_frames++;
		ag_log("warn", "session with %s (node %s) closed: %s", c->addr,
		       conn_peer_name(c), err.msg);
		ag_gossip_flush(a);
		conn_close(c);
		return;
	}
	ag_gossip_flush(a);
}

static void
conn_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	conn_t *c = st->data;
	agent_t *a = c->a;
	Weft__WireMessage *m;
	weft_err_t err = {0};
	const uint8_t *in;
	size_t off = 0, used, len;
	int rc;

	if (c->closing)
		return;
	if (n < 0) {
		const char *why = n == UV_EOF ? "connection closed by peer"
					      : uv_strerror((int)n);

		if (c->up)
			ag_log("info", "session with %s (node %s) ended: %s",
			       c->addr, conn_peer_name(c),
			       why);
		else if (c->outbound)
			ag_log("warn", "handshake to %s failed: %s before it "
				       "finished (a wrong network key, or the "
				       "peer does not trust our org?)", c->addr,
			       why);
		else if (ag_log_ok(a, AG_LIM_HS))
			ag_log("info", "connection from %s: %s before the "
				       "handshake finished", c->addr, why);
		if (!c->up)
			a->hs_failed++;
		conn_close(c);
		return;
	}
	if (n == 0)
		return;
	in = (const uint8_t *)buf->base;
	len = (size_t)n;
	if (buf->base != (char *)a->rbuf) {
		/* read into the core's own buffer: commit, then let it look */
		weft_sess_rx_commit(c->s, uv_now(a->loop), len);
		in = a->rbuf;
		len = 0;
	}
	do {
		rc = weft_sess_input(c->s, uv_now(a->loop), in + off,
				     len - off, &used, &m, &err);
		off += used;
		if (rc < 0) {
			conn_flush(c);
			conn_failed(c, &err);
			return;
		}
		if (rc == WEFT_SESS_UP && conn_on_up(c) != 0)
			return;
		if (rc == WEFT_SESS_MSG)
			conn_on_msg(c, m);
		if (rc == WEFT_SESS_CLOSED) {
			ag_log("info", "session with %s (node %s) closed by "
				       "peer", c->addr,
			       conn_peer_name(c));
			conn_flush(c);
			conn_close(c);
			return;
		}
	} while (!c->closing && (off < len || rc != WEFT_SESS_NONE));
	conn_after(c);
}

static void
conn_timer_cb(uv_timer_t *t)
{
	conn_t *c = t->data;
	weft_err_t err = {0};

	if (c->closing)
		return;
	if (weft_sess_tick(c->s, uv_now(c->a->loop), &err) < 0) {
		conn_failed(c, &err);
		return;
	}
	conn_after(c);
}

/* Make the session core for a connected socket and start reading. */
static int
conn_start(conn_t *c, weft_hs_role_t role)
{
	agent_t *a = c->a;
	weft_sess_cfg_t cfg = {0};
	uint8_t seed[WEFT_HS_SEED_BYTES];
	weft_err_t err = {0};
	int rc;

	c->trust = ag_trust_get(a);
	if (c->trust == NULL)
		return -1;
	cfg.role = role;
	cfg.me = a->id.kp;
	cfg.cert = a->id.cert;
	cfg.cert_len = a->id.cert_len;
	cfg.network_key = a->netkey;
	cfg.trust = &c->trust->t;
	cfg.replay = a->replay;
	cfg.listen_addr = a->advertise;
	cfg.version = WEFT_VERSION;
	cfg.hs_timeout_ms = a->o->hs_timeout_ms;
	cfg.keepalive_ms = a->o->keepalive_ms;
	cfg.idle_ms = a->o->idle_ms;
	cfg.stall_ms = a->o->stall_ms;
	cfg.max_queue = a->o->max_queue;
	randombytes_buf(seed, sizeof(seed));
	rc = weft_sess_new(&c->s, &cfg, uv_now(a->loop), weft_now_s(), seed,
			   &err);
	sodium_memzero(seed, sizeof(seed));
	if (rc != 0) {
		ag_log("error", "session for %s: %s", c->addr, err.msg);
		return -1;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	conn_after(c);
	return 0;
}

static void
ag_on_accept(uv_stream_t *server, int status)
{
	agent_t *a = server->data;
	conn_t *c;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	unsigned pending = 0;
	const char *why = NULL;
	unsigned per;

	if (status < 0) {
		ag_log("warn", "accept: %s", uv_strerror(status));
		return;
	}
	c = conn_new(a);
	if (c == NULL)
		return;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return;
	}
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
		ag_fmt_addr((struct sockaddr *)&ss, c->addr, sizeof(c->addr),
			    c->ip, sizeof(c->ip));
	else
		snprintf(c->addr, sizeof(c->addr), "?");
	per = (unsigned)conn_count_ip(a, c->ip, &pending);
	/* conn_count_ip counted c itself (not up yet) */
	if (a->nconns > a->o->max_conns)
		why = "too many connections";
	else if (pending > a->o->max_pending_per_addr)
		why = "too many unfinished handshakes from this address";
	else if (per > a->o->max_per_addr)
		why = "too many connections from this address";
	if (why != NULL) {
		a->refused_limit++;
		if (ag_log_ok(a, AG_LIM_CAP))
			ag_log("warn", "refused connection from %s: %s",
			       c->addr, why);
		conn_close(c);
		return;
	}
	if (conn_start(c, WEFT_HS_RESPONDER) != 0)
		conn_close(c);
}

/* ---- dialers ---- */

static void dial_now(dialer_t *d);

static void
dial_timer_cb(uv_timer_t *t)
{
	dialer_t *d = t->data;

	if (d->a->stopping || d->conn != NULL)
		return;
	if (d->peer_known && conn_find_peer(d->a, d->peer_pk, NULL) != NULL) {
		/* Already linked (the peer dialled us): look again later. */
		dial_schedule(d, d->a->o->backoff_max_ms);
		return;
	}
	dial_now(d);
}

static void
dial_schedule(dialer_t *d, uint64_t ms)
{
	/* +-20% jitter so restarted meshes do not dial in lockstep */
	uint64_t j = ms / 5;

	if (j > 0)
		ms = ms - j + randombytes_uniform((uint32_t)(2 * j + 1));
	uv_timer_start(&d->timer, dial_timer_cb, ms, 0);
}

static void
dial_connected(uv_connect_t *req, int status)
{
	conn_t *c = req->data;
	dialer_t *d = c->dialer;

	if (c->closing)
		return;
	if (status < 0) {
		if (d != NULL)
			ag_log("info", "cannot reach %s: %s (retrying in "
				       "%.1f s)", c->addr, uv_strerror(status),
			       (double)d->backoff_ms / 1000);
		conn_close(c);
		return;
	}
	if (conn_start(c, WEFT_HS_INITIATOR) != 0)
		conn_close(c);
}

static void
dial_now(dialer_t *d)
{
	agent_t *a = d->a;
	conn_t *c = conn_new(a);
	int rc;

	if (c == NULL) {
		dial_schedule(d, d->backoff_ms);
		return;
	}
	c->outbound = 1;
	c->dialer = d;
	d->conn = c;
	ag_fmt_addr((struct sockaddr *)&d->sa, c->addr, sizeof(c->addr), c->ip,
		    sizeof(c->ip));
	c->connect.data = c;
	rc = uv_tcp_connect(&c->connect, &c->tcp,
			    (const struct sockaddr *)&d->sa, dial_connected);
	if (rc != 0) {
		ag_log("info", "cannot dial %s: %s", d->addr, uv_strerror(rc));
		conn_close(c);
	}
}

/* ---- gossip ---- */

static conn_t *
conn_by_id(agent_t *a, uint64_t id)
{
	conn_t *c;

	for (c = a->conns; c; c = c->next)
		if (c->id == id)
			return c->up && !c->closing ? c : NULL;
	return NULL;
}

/* Hand the gossip core's outputs to sessions, the store and the dialer. */
/*
 * --link-delay: hold a gossip message until now + delay (every message
 * the same delay, so a link keeps its order), as a WAN would; the tests
 * compare such a mesh with `weft sim --latency`. The message may borrow
 * origin keys from the core, which live as long as the core. Returns 1
 * if held (o->msg is ours now).
 */
static void ag_held_send(uv_timer_t *t);

/* Send a gossip message to session `peer`, if it is still there. */
static void
ag_gossip_send(agent_t *a, uint64_t peer, const Weft__WireMessage *msg)
{
	weft_err_t err = {0};
	conn_t *c = conn_by_id(a, peer);

	if (c == NULL)
		return;
	if (weft_sess_send(c->s, uv_now(a->loop), msg, &err) != 0)
		a->gossip_dropped++; /* full queue: anti-entropy repairs it
				      * later */
	conn_after(c);
}

static int
ag_hold(agent_t *a, weft_out_t *o)
{
	struct ag_held *h = malloc(sizeof(*h));

	if (h == NULL || !a->dtimer_open) {
		free(h);
		return 0;
	}
	h->next = NULL;
	h->due = uv_now(a->loop) + a->o->link_delay_ms;
	h->peer = o->peer;
	h->msg = o->msg;
	o->msg = NULL;
	if (a->held_tail != NULL)
		a->held_tail->next = h;
	else
		a->held = h;
	a->held_tail = h;
	if (!uv_is_active((uv_handle_t *)&a->dtimer))
		uv_timer_start(&a->dtimer, ag_held_send, a->o->link_delay_ms,
			       0);
	return 1;
}

static void
ag_held_free(agent_t *a)
{
	struct ag_held *h, *next;

	for (h = a->held; h; h = next) {
		next = h->next;
		weft_node_msg_free(h->msg);
		free(h);
	}
	a->held = a->held_tail = NULL;
}

static void
ag_held_send(uv_timer_t *t)
{
	agent_t *a = t->data;
	uint64_t now = uv_now(a->loop);
	struct ag_held *h;

	while ((h = a->held) != NULL && h->due <= now) {
		a->held = h->next;
		if (a->held == NULL)
			a->held_tail = NULL;
		ag_gossip_send(a, h->peer, h->msg);
		weft_node_msg_free(h->msg);
		free(h);
	}
	if (a->held != NULL)
		uv_timer_start(&a->dtimer, ag_held_send, a->held->due - now, 0);
}

static void
ag_gossip_flush(agent_t *a)
{
	weft_out_t o;
	weft_entry_info_t info;
	weft_err_t err;
	conn_t *c;

	if (a->node == NULL)
		return;
	while (weft_node_poll(a->node, &o)) {
		memset(&err, 0, sizeof(err));
		switch (o.kind) {
		case WEFT_OUT_SEND:
			if (a->o->link_delay_ms == 0 || !ag_hold(a, &o))
				ag_gossip_send(a, o.peer, o.msg);
			break;
		case WEFT_OUT_STORE:
			if (weft_catalog_put(a->st, o.env, o.env_len,
					     weft_now_us(), &info, &err) != 0) {
				if (err.code != WEFT_ESTALE)
					ag_log("error", "storing a catalog "
						       "entry: %s", err.msg);
			} else if (info.kind == WEFT_ENTRY_DESCRIPTOR &&
				   memcmp(info.origin, a->id.kp->pk,
					  WEFT_PK_BYTES) != 0) {
				/* one line per product version learnt: what
				 * the gossip benchmark times */
				ag_log("info", "catalog: %s %s.%s version %llu "
					       "from node %s",
				       info.tombstone ? "dropped" : "learnt",
				       info.signer.org_name, info.name,
				       (unsigned long long)info.version,
				       info.signer.subject_name);
			}
			break;
		case WEFT_OUT_DIAL:
			if (conn_find_peer(a, o.pk, NULL) == NULL)
				ag_dial_addr(a, o.addr, o.pk);
			break;
		case WEFT_OUT_NOTE:
			c = conn_by_id(a, o.peer);
			ag_log("info", "gossip: %s (node %s)", o.text,
			       c ? conn_peer_name(c) : "?");
			break;
		}
		weft_node_out_free(&o);
	}
}

static void
ag_member_connected(uv_connect_t *req, int status)
{
	conn_t *c = req->data;

	if (c->closing)
		return;
	if (status < 0 || conn_start(c, WEFT_HS_INITIATOR) != 0) {
		if (c->a->node != NULL && !c->a->stopping)
			weft_node_unreachable(c->a->node, uv_now(c->a->loop),
					      c->want_pk);
		conn_close(c);
	}
}

/* Dial a member the gossip core asked for (no redial: it decides). */
static void
ag_dial_addr(agent_t *a, const char *addr, const uint8_t *pk)
{
	struct sockaddr_storage sa;
	char norm[AG_ADDR_MAX];
	weft_err_t err = {0};
	conn_t *c;

	if (a->stopping || weft_agent_parse_addr(addr, &sa, &err) != 0)
		return;
	ag_fmt_addr((struct sockaddr *)&sa, norm, sizeof(norm), NULL, 0);
	if (strcmp(norm, a->listen_addr) == 0)
		return;
	for (c = a->conns; c; c = c->next) /* already dialling there */
		if (c->outbound && !c->closing && !c->up &&
		    strcmp(c->addr, norm) == 0)
			return;
	c = conn_new(a);
	if (c == NULL)
		return;
	c->outbound = 1;
	c->member_dial = 1;
	memcpy(c->want_pk, pk, WEFT_PK_BYTES);
	ag_fmt_addr((struct sockaddr *)&sa, c->addr, sizeof(c->addr), c->ip,
		    sizeof(c->ip));
	c->connect.data = c;
	if (uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&sa,
			   ag_member_connected) != 0) {
		weft_node_unreachable(a->node, uv_now(a->loop), pk);
		conn_close(c);
	}
}

static int
ag_offer_cb(void *arg, const weft_entry_info_t *info, const uint8_t *env,
	    size_t len)
{
	agent_t *a = arg;

	if (weft_node_offer(a->node, uv_now(a->loop), weft_now_us(), env, len,
			    0, NULL) == 1 &&
	    a->scanned && info->kind == WEFT_ENTRY_DESCRIPTOR &&
	    memcmp(info->origin, a->id.kp->pk, WEFT_PK_BYTES) == 0)
		/* the moment a product of ours enters the mesh: what the
		 * simulator comparison (t_sim_reality) times from */
		ag_log("info", "catalog: offered %s.%s version %llu to the "
			       "mesh", info->signer.org_name, info->name,
		       (unsigned long long)info->version);
	return 0;
}

/* Offer every stored entry: at start, and whenever `weft publish` or
 * `weft drop` changed the store (a duplicate costs one comparison). */
static void
ag_gossip_scan(agent_t *a)
{
	weft_err_t err = {0};

	if (a->node == NULL)
		return;
	if (weft_catalog_list(a->st, 0, NULL, ag_offer_cb, a, &err) < 0)
		ag_log("error", "reading the catalog: %s", err.msg);
	a->scanned = 1;
	ag_gossip_flush(a);
}

static void ag_gossip_timer(uv_timer_t *t);
static void ag_gossip_policy(agent_t *a);

static void
ag_gossip_arm(agent_t *a)
{
	uint64_t t = weft_node_next_timer(a->node), now = uv_now(a->loop);

	uv_timer_start(&a->gtimer, ag_gossip_timer, t > now ? t - now : 0, 0);
}

static void
ag_gossip_timer(uv_timer_t *t)
{
	agent_t *a = t->data;
	ag_trust_t *tr;

	if (a->stopping)
		return;
	/* fresh trusted roots for the entries verified from now on */
	if ((tr = ag_trust_get(a)) != NULL) {
		weft_node_set_trust(a->node, &tr->t);
		ag_trust_put(a->gtrust);
		a->gtrust = tr;
	}
	ag_gossip_policy(a);
	weft_node_tick(a->node, uv_now(a->loop), weft_now_us());
	ag_gossip_flush(a);
	if (++a->gticks % 10 == 0) /* in case a notice from the CLI was lost */
		ag_gossip_scan(a);
	ag_gossip_arm(a);
}

/* Gateway role and the orgs reached only through gateways. */
static void
ag_gossip_policy(agent_t *a)
{
	char via[4096];

	weft_nodedir_via_gateway(a->st, via, sizeof(via));
	weft_node_set_policy(a->node, ag_is_gateway(&a->id.info), via);
}

static int
ag_gossip_start(agent_t *a)
{
	weft_node_cfg_t nc = {0};
	weft_gossip_cfg_t *cfg = &nc.gossip;
	const char *addrs[1] = {a->advertise};
	const char *roles[WEFT_ROLES_MAX];
	weft_err_t err = {0};
	uint8_t seed[8];
	size_t i;

	a->gtrust = ag_trust_get(a);
	if (a->gtrust == NULL)
		return -1;
	for (i = 0; i < a->id.info.nroles; i++)
		roles[i] = a->id.info.roles[i];
	randombytes_buf(seed, sizeof(seed));
	cfg->signer = &a->id.signer;
	cfg->trust = &a->gtrust->t;
	cfg->addresses = addrs;
	cfg->naddresses = 1;
	cfg->roles = roles;
	cfg->nroles = a->id.info.nroles;
	cfg->version = WEFT_VERSION;
	cfg->interval_ms = a->o->gossip_interval_ms;
	cfg->sync_ms = a->o->sync_ms;
	cfg->suspect_ms = a->o->suspect_ms;
	cfg->degree = a->o->degree;
	memcpy(&cfg->seed, seed, sizeof(seed));
	if (weft_node_new(&a->node, &nc, uv_now(a->loop), weft_now_us(),
			  &err) != 0) {
		ag_log("error", "gossip: %s", err.msg);
		return -1;
	}
	ag_gossip_policy(a);
	uv_timer_init(a->loop, &a->gtimer);
	a->gtimer.data = a;
	a->gtimer_open = 1;
	uv_timer_init(a->loop, &a->dtimer);
	a->dtimer.data = a;
	a->dtimer_open = 1;
	ag_gossip_scan(a);
	ag_gossip_arm(a);
	return 0;
}

/* ---- control socket ---- */

static void
ctl_closed(uv_handle_t *h)
{
	ctl_conn_t *cc = h->data;
	agent_t *a = cc->a;

	if (--cc->handles > 0)
		return;
	a->nctl--;
	free(cc);
	agent_maybe_done(a);
}

static void
ctl_close(ctl_conn_t *cc)
{
	if (cc->done)
		return;
	cc->done = 1;
	uv_timer_stop(&cc->timer);
	uv_close((uv_handle_t *)&cc->pipe, ctl_closed);
	uv_close((uv_handle_t *)&cc->timer, ctl_closed);
}

static void
ctl_timeout(uv_timer_t *t)
{
	ctl_close(t->data);
}

static void
ag_roles(const weft_cert_info_t *ci, char **out)
{
	size_t i;

	for (i = 0; i < ci->nroles; i++)
		out[i] = (char *)ci->roles[i];
}

static void
ctl_fill_status(agent_t *a, Weft__AgentStatus *s, char **roles,
		char **listen, char **join)
{
	conn_t *c;
	size_t i;

	s->version = WEFT_VERSION;
	s->node_name = a->id.info.subject_name;
	s->org = a->id.info.org_name;
	s->node_key.data = a->id.kp->pk;
	s->node_key.len = WEFT_PK_BYTES;
	ag_roles(&a->id.info, roles);
	s->roles = roles;
	s->n_roles = a->id.info.nroles;
	s->started_us = a->started_us;
	s->now_us = weft_now_us();
	listen[0] = a->listen_addr;
	s->listen = listen;
	s->n_listen = a->listening ? 1 : 0;
	for (i = 0; i < a->ndialers; i++)
		join[i] = a->dialers[i].addr;
	s->join = join;
	s->n_join = a->ndialers;
	for (c = a->conns; c; c = c->next) {
		if (c->closing)
			continue;
		if (c->up)
			s->sessions++;
		else
			s->handshaking++;
	}
	s->handshakes_ok = a->hs_ok;
	s->handshakes_failed = a->hs_failed;
	s->bad_frames = a->bad_frames;
	s->refused_limit = a->refused_limit;
	s->timeouts = a->timeouts;
	s->slow_peers = a->slow;
	s->cert_not_after = a->id.info.not_after;
	s->pid = (uint32_t)getpid();
	if (a->node != NULL) {
		const weft_gossip_t *g = weft_node_gossip(a->node);
		weft_gossip_stats_t gs;
		weft_gossip_member_t *m;
		size_t n, k;

		weft_gossip_stats(g, &gs);
		s->catalog_entries = gs.entries;
		s->gossip_accepted = gs.accepted;
		s->gossip_duplicates = gs.duplicates;
		s->gossip_refused = gs.refused;
		s->gossip_throttled = gs.throttled;
		s->gossip_refused_visibility = gs.refused_visibility;
		s->gossip_pushes = gs.pushes_out;
		s->gossip_ihaves = gs.ihaves_out;
		s->gossip_grafts = gs.grafts_out;
		s->gossip_prunes = gs.prunes_out;
		if (weft_gossip_members(g, &m, &n) == 0) {
			s->members = (uint32_t)n;
			for (k = 0; k < n; k++)
				s->members_failed += m[k].failed && !m[k].self;
			free(m);
		}
	}
}

typedef struct ctl_peers {
	Weft__PeerInfo *info;
	Weft__PeerInfo **ptrs;
	char **roles;
	size_t n;
} ctl_peers_t;

static int
ctl_fill_peers(agent_t *a, ctl_peers_t *p)
{
	conn_t *c;
	size_t n = 0, i;

	for (c = a->conns; c; c = c->next)
		if (c->up && !c->closing)
			n++;
	p->info = calloc(n ? n : 1, sizeof(*p->info));
	p->ptrs = calloc(n ? n : 1, sizeof(*p->ptrs));
	p->roles = calloc((n ? n : 1) * WEFT_ROLES_MAX, sizeof(*p->roles));
	if (p->info == NULL || p->ptrs == NULL || p->roles == NULL)
		return -1;
	for (c = a->conns, i = 0; c; c = c->next) {
		const weft_cert_info_t *ci;
		weft_sess_stats_t st;
		Weft__PeerInfo *pi = &p->info[i];

		if (!c->up || c->closing)
			continue;
		ci = weft_sess_peer(c->s);
		weft_sess_stats(c->s, &st);
		weft__peer_info__init(pi);
		pi->node_key.data = (uint8_t *)ci->subject_pk;
		pi->node_key.len = WEFT_PK_BYTES;
		pi->node_name = (char *)ci->subject_name;
		pi->org = (char *)ci->org_name;
		ag_roles(ci, p->roles + i * WEFT_ROLES_MAX);
		pi->roles = p->roles + i * WEFT_ROLES_MAX;
		pi->n_roles = ci->nroles;
		pi->address = c->addr;
		pi->listen_addr = (char *)weft_sess_peer_listen(c->s);
		pi->outbound = c->outbound;
		pi->since_us = c->since_us;
		pi->bytes_in = st.bytes_in;
		pi->bytes_out = st.bytes_out;
		pi->msgs_in = st.msgs_in;
		pi->msgs_out = st.msgs_out;
		pi->queued = weft_sess_queued(c->s);
		pi->paused = !c->reading;
		pi->rtt_us = st.rtt_ms < 0 ? -1 : st.rtt_ms * 1000;
		p->ptrs[i] = pi;
		i++;
	}
	p->n = i;
	return 0;
}

typedef struct ctl_members {
	weft_gossip_member_t *list;
	Weft__MemberInfo *info;
	Weft__MemberInfo **ptrs;
	size_t n;
} ctl_members_t;

static int
ctl_fill_members(agent_t *a, ctl_members_t *m)
{
	size_t i;

	if (a->node == NULL ||
	    weft_gossip_members(weft_node_gossip(a->node), &m->list, &m->n) != 0)
		return -1;
	m->info = calloc(m->n ? m->n : 1, sizeof(*m->info));
	m->ptrs = calloc(m->n ? m->n : 1, sizeof(*m->ptrs));
	if (m->info == NULL || m->ptrs == NULL)
		return -1;
	for (i = 0; i < m->n; i++) {
		Weft__MemberInfo *mi = &m->info[i];
		weft_gossip_member_t *g = &m->list[i];

		weft__member_info__init(mi);
		mi->node_key.data = g->pk;
		mi->node_key.len = WEFT_PK_BYTES;
		mi->node_name = g->name;
		mi->org = g->org;
		mi->roles = g->roles;
		mi->address = g->addr;
		mi->state = g->self ? "self" : g->failed ? "failed" : "alive";
		mi->version = g->version;
		mi->updated_us = g->updated_us;
		mi->connected = g->connected;
		m->ptrs[i] = mi;
	}
	return 0;
}

typedef struct ctl_write {
	uv_write_t req;
	ctl_conn_t *cc;
	uint8_t *buf;
} ctl_write_t;

static void
ctl_written(uv_write_t *req, int status)
{
	ctl_write_t *w = (ctl_write_t *)req;

	free(w->buf);
	ctl_close(w->cc);
	free(w);
}

static void
ctl_answer(ctl_conn_t *cc, const Weft__ControlRequest *req)
{
	agent_t *a = cc->a;
	Weft__ControlResponse resp = WEFT__CONTROL_RESPONSE__INIT;
	Weft__AgentStatus st = WEFT__AGENT_STATUS__INIT;
	char *roles[WEFT_ROLES_MAX], *listen[1], *join[WEFT_AGENT_JOIN_MAX];
	ctl_peers_t peers = {0};
	ctl_members_t mem = {0};
	ctl_write_t *w;
	size_t n;
	uv_buf_t b;

	if (req == NULL) {
		resp.error = "malformed request";
	} else if (req->op == WEFT__CONTROL_OP__CTL_STATUS) {
		ctl_fill_status(a, &st, roles, listen, join);
		resp.status = &st;
	} else if (req->op == WEFT__CONTROL_OP__CTL_CATALOG_CHANGED) {
		ag_gossip_scan(a);
	} else if (req->op == WEFT__CONTROL_OP__CTL_MEMBERS) {
		if (ctl_fill_members(a, &mem) != 0) {
			resp.error = "out of memory";
		} else {
			resp.members = mem.ptrs;
			resp.n_members = mem.n;
		}
	} else if (req->op == WEFT__CONTROL_OP__CTL_PEERS) {
		if (ctl_fill_peers(a, &peers) != 0) {
			resp.error = "out of memory";
		} else {
			resp.peers = peers.ptrs;
			resp.n_peers = peers.n;
		}
	} else {
		resp.error = "unknown request";
	}
	n = weft__control_response__get_packed_size(&resp);
	w = calloc(1, sizeof(*w));
	if (w != NULL)
		w->buf = malloc(4 + n);
	if (w == NULL || w->buf == NULL) {
		free(w);
		ctl_close(cc);
		goto out;
	}
	w->buf[0] = (uint8_t)(n >> 24);
	w->buf[1] = (uint8_t)(n >> 16);
	w->buf[2] = (uint8_t)(n >> 8);
	w->buf[3] = (uint8_t)n;
	weft__control_response__pack(&resp, w->buf + 4);
	w->cc = cc;
	b = uv_buf_init((char *)w->buf, (unsigned)(4 + n));
	if (uv_write(&w->req, (uv_stream_t *)&cc->pipe, &b, 1, ctl_written)) {
		free(w->buf);
		free(w);
		ctl_close(cc);
	}
out:
	free(peers.info);
	free(peers.ptrs);
	free(peers.roles);
	free(mem.list);
	free(mem.info);
	free(mem.ptrs);
}

static void
ctl_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	ctl_conn_t *cc = h->data;

	b->base = (char *)cc->buf + cc->len;
	b->len = sizeof(cc->buf) - cc->len;
}

static void
ctl_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	ctl_conn_t *cc = s->data;
	Weft__ControlRequest *req;
	size_t want;

	if (cc->done)
		return;
	if (n < 0) {
		ctl_close(cc);
		return;
	}
	cc->len += (size_t)n;
	if (cc->len < 4)
		return;
	want = (size_t)cc->buf[0] << 24 | (size_t)cc->buf[1] << 16 |
	       (size_t)cc->buf[2] << 8 | cc->buf[3];
	if (want > AG_CTL_REQ_MAX) {
		ctl_answer(cc, NULL);
		return;
	}
	if (cc->len < 4 + want)
		return;
	uv_read_stop(s);
	req = weft__control_request__unpack(NULL, want, cc->buf + 4);
	ctl_answer(cc, req);
	if (req)
		weft__control_request__free_unpacked(req, NULL);
}

static void
ctl_on_accept(uv_stream_t *server, int status)
{
	agent_t *a = server->data;
	ctl_conn_t *cc;

	if (status < 0)
		return;
	cc = calloc(1, sizeof(*cc));
	if (cc == NULL)
		return;
	cc->a = a;
	uv_pipe_init(a->loop, &cc->pipe, 0);
	uv_timer_init(a->loop, &cc->timer);
	cc->pipe.data = cc->timer.data = cc;
	cc->handles = 2;
	a->nctl++;
	if (uv_accept(server, (uv_stream_t *)&cc->pipe) != 0 ||
	    a->nctl > AG_CTL_MAX_CONNS) {
		ctl_close(cc);
		return;
	}
	uv_timer_start(&cc->timer, ctl_timeout, AG_CTL_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&cc->pipe, ctl_alloc, ctl_read);
}

/* Bind DIR/agent.sock, refusing if another agent answers there. */
static int
ctl_listen(agent_t *a)
{
	struct sockaddr_un sun;
	int fd, rc;

	if (strlen(a->o->dir) + 1 + strlen(WEFT_AGENT_SOCK) >=
	    sizeof(a->sock_path)) {
		ag_log("error", "%s: data directory path too long for a Unix "
				"socket (max %zu bytes)", a->o->dir,
		       sizeof(a->sock_path) - 1 - strlen(WEFT_AGENT_SOCK));
		return -1;
	}
	snprintf(a->sock_path, sizeof(a->sock_path), "%s/%s", a->o->dir,
		 WEFT_AGENT_SOCK);
	/* We hold the data directory's lock, so a socket file left here is
	 * stale: an agent that crashed. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, a->sock_path, strlen(a->sock_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0) {
		(void)unlink(a->sock_path);
		close(fd);
	}
	uv_pipe_init(a->loop, &a->ctl, 0);
	a->ctl.data = a;
	a->ctl_open = 1;
	rc = uv_pipe_bind(&a->ctl, a->sock_path);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&a->ctl, 16, ctl_on_accept);
	if (rc != 0) {
		ag_log("error", "control socket %s: %s", a->sock_path,
		       uv_strerror(rc));
		return -1;
	}
	chmod(a->sock_path, 0600);
	return 0;
}

/* ---- start and stop ---- */

static void
agent_maybe_done(agent_t *a)
{
	if (a->stopping && a->nconns == 0 && a->nctl == 0 &&
	    !uv_is_closing((uv_handle_t *)&a->grace))
		uv_close((uv_handle_t *)&a->grace, NULL);
}

static void
ag_grace_cb(uv_timer_t *t)
{
	agent_t *a = t->data;
	conn_t *c, *next;

	for (c = a->conns; c; c = next) {
		next = c->next;
		conn_close(c);
	}
	agent_maybe_done(a);
}

static void
agent_stop(agent_t *a, const char *why)
{
	conn_t *c, *next;
	size_t i;
	int waiting = 0;

	if (a->stopping)
		return;
	a->stopping = 1;
	ag_log("info", "shutting down (%s)", why);
	uv_close((uv_handle_t *)&a->sigint, NULL);
	uv_close((uv_handle_t *)&a->sigterm, NULL);
	if (a->listening)
		uv_close((uv_handle_t *)&a->listener, NULL);
	if (a->ctl_open) {
		uv_close((uv_handle_t *)&a->ctl, NULL);
		unlink(a->sock_path);
	}
	for (i = 0; i < a->ndialers; i++)
		uv_close((uv_handle_t *)&a->dialers[i].timer, NULL);
	if (a->gtimer_open) {
		uv_close((uv_handle_t *)&a->gtimer, NULL);
		a->gtimer_open = 0;
	}
	if (a->dtimer_open) {
		uv_close((uv_handle_t *)&a->dtimer, NULL);
		a->dtimer_open = 0;
	}
	for (c = a->conns; c; c = next) {
		next = c->next;
		if (c->up && !c->closing) {
			/* Say goodbye; the grace timer closes after a flush. */
			weft_sess_close(c->s, "shutting down");
			conn_flush(c);
			if (c->closing)
				continue;
			uv_timer_stop(&c->timer);
			if (c->writes == 0)
				conn_close(c);
			else
				waiting = 1;
		} else {
			conn_close(c);
		}
	}
	a->grace.data = a;
	if (waiting)
		uv_timer_start(&a->grace, ag_grace_cb, AG_GRACE_MS, 0);
	else
		ag_grace_cb(&a->grace);
}

static void
ag_on_signal(uv_signal_t *s, int signum)
{
	agent_stop(s->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* Lock DIR/agent.lock: one agent per data directory. */
static int
ag_lock(agent_t *a)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/agent.lock", a->o->dir);
	a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (a->lock_fd < 0) {
		ag_log("error", "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(a->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		ag_log("error", "%s: another weft agent is running on this data "
				"directory", a->o->dir);
		return -1;
	}
	return 0;
}

static int
agent_start(agent_t *a)
{
	struct sockaddr_storage sa, bound;
	int len = sizeof(bound), rc;
	weft_err_t err = {0};
	size_t i;

	if (ag_lock(a) != 0)
		return -1;
	if (weft_nodedir_id_load(a->o->dir, &a->id, &err) != 0 ||
	    weft_store_open(a->o->dir, NULL, &a->st, &err) != 0 ||
	    weft_nodedir_netkey(a->st, a->netkey, &err) != 0) {
		ag_log("error", "%s", err.msg);
		return -1;
	}
	if (weft_hs_replay_new(0, &a->replay) != 0) {
		ag_log("error", "out of memory");
		return -1;
	}
	if (weft_agent_parse_addr(a->o->listen, &sa, &err) != 0) {
		ag_log("error", "--listen %s", err.msg);
		return -1;
	}
	uv_tcp_init(a->loop, &a->listener);
	a->listener.data = a;
	a->listening = 1;
	rc = uv_tcp_bind(&a->listener, (struct sockaddr *)&sa, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&a->listener, 511, ag_on_accept);
	if (rc != 0) {
		ag_log("error", "cannot listen on %s: %s", a->o->listen,
		       uv_strerror(rc));
		return -1;
	}
	uv_tcp_getsockname(&a->listener, (struct sockaddr *)&bound, &len);
	ag_fmt_addr((struct sockaddr *)&bound, a->listen_addr,
		    sizeof(a->listen_addr), NULL, 0);
	snprintf(a->advertise, sizeof(a->advertise), "%s",
		 a->o->advertise ? a->o->advertise : a->listen_addr);
	for (i = 0; i < a->o->njoin; i++) {
		dialer_t *d = &a->dialers[a->ndialers];

		if (weft_agent_parse_addr(a->o->join[i], &d->sa, &err) != 0) {
			ag_log("error", "--join %s", err.msg);
			return -1;
		}
		d->a = a;
		snprintf(d->addr, sizeof(d->addr), "%s", a->o->join[i]);
		d->backoff_ms = AG_BACKOFF_MIN_MS;
		uv_timer_init(a->loop, &d->timer);
		d->timer.data = d;
		a->ndialers++;
	}
	if (ctl_listen(a) != 0 || ag_gossip_start(a) != 0)
		return -1;
	uv_signal_init(a->loop, &a->sigint);
	uv_signal_init(a->loop, &a->sigterm);
	a->sigint.data = a->sigterm.data = a;
	uv_signal_start(&a->sigint, ag_on_signal, SIGINT);
	uv_signal_start(&a->sigterm, ag_on_signal, SIGTERM);
	uv_timer_init(a->loop, &a->grace);
	a->started_us = weft_now_us();
	ag_log("info", "weft agent %s: node %s of org %s listening on %s, "
		       "control socket %s", WEFT_VERSION,
	       a->id.info.subject_name, a->id.info.org_name, a->listen_addr,
	       a->sock_path);
	for (i = 0; i < a->ndialers; i++)
		dial_now(&a->dialers[i]);
	return 0;
}

int
weft_agent_run(const weft_agent_opts_t *opts)
{
	agent_t *a = calloc(1, sizeof(*a));
	weft_agent_opts_t o = *opts;
	uv_loop_t loop;
	int rc = 1;

	if (a == NULL || sodium_init() < 0 || uv_loop_init(&loop) != 0) {
		fprintf(stderr, "weft agent: cannot initialise\n");
		free(a);
		return 1;
	}
	if (o.max_conns == 0)
		o.max_conns = 1024;
	if (o.max_per_addr == 0)
		o.max_per_addr = 256;
	if (o.max_pending_per_addr == 0)
		o.max_pending_per_addr = 16;
	if (o.backoff_max_ms == 0)
		o.backoff_max_ms = 30000;
	if (o.gossip_interval_ms == 0)
		o.gossip_interval_ms = 1000;
	if (o.backoff_max_ms < AG_BACKOFF_MIN_MS)
		o.backoff_max_ms = AG_BACKOFF_MIN_MS;
	a->o = &o;
	a->loop = &loop;
	a->lock_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	{
		/* Connections are file descriptors: allow as many as the hard
		 * limit does, so --max-conns rather than EMFILE is the cap. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (agent_start(a) == 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
		rc = 0;
		ag_log("info", "stopped");
	} else {
		/* Close whatever was opened, then drain the loop. */
		a->stopping = 1;
		if (a->listening)
			uv_close((uv_handle_t *)&a->listener, NULL);
		if (a->ctl_open)
			uv_close((uv_handle_t *)&a->ctl, NULL);
		for (size_t i = 0; i < a->ndialers; i++)
			uv_close((uv_handle_t *)&a->dialers[i].timer, NULL);
		if (a->gtimer_open)
			uv_close((uv_handle_t *)&a->gtimer, NULL);
		if (a->dtimer_open)
			uv_close((uv_handle_t *)&a->dtimer, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	ag_held_free(a); /* before the core whose keys they may borrow */
	weft_node_free(a->node);
	ag_trust_put(a->gtrust);
	uv_loop_close(&loop);
	weft_hs_replay_free(a->replay);
	if (a->st)
		weft_store_close(a->st);
	weft_nodedir_id_free(&a->id);
	sodium_memzero(a->netkey, sizeof(a->netkey));
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	free(a);
	return rc;
}
