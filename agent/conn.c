/*
 * conn.c: connections: accepting them under the caps, one session core
 * per connection fed with bytes and time, and the session going up or
 * down reported to the node core.
 *
 * Invariants:
 * - Protocol decisions are the cores': here we only feed bytes and time,
 *   write what the session core queued, pause reading while
 *   weft_sess_want_read says 0, and call weft_sess_tick when
 *   weft_sess_next_timer says.
 * - Caps are checked on accept, before any session state exists, in O(1)
 *   (issue 14, finding 7): per remote IP, inbound connections
 *   (--max-per-addr) and unfinished handshakes (--max-pending-per-addr),
 *   over which the newcomer is refused; in all, unfinished inbound
 *   handshakes (--max-handshakes) and connections (--max-conns), over
 *   which the oldest unfinished inbound handshake is closed to make room
 *   (a queue in accept order), and the newcomer refused only if there is
 *   none. A session whose handshake finished is never closed for a
 *   newcomer, and a stranger's half-open connections cannot fill the
 *   slots: they hold at most --max-handshakes of them, each for at most
 *   the handshake deadline.
 * - One read buffer serves all connections: libuv calls alloc and read
 *   back to back on this thread, and the core copies what it keeps.
 * - Writes in flight keep the buffers the core handed over; their
 *   callbacks report progress to the core even while the conn is
 *   closing, and never touch a freed conn (a conn is freed only after
 *   uv_close, which cancels pending writes first and runs their
 *   callbacks).
 * - The trust roots are re-read from the store for every new connection,
 *   so `weft trust add` takes effect for the next handshake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent/agent_int.h"
#include "lib/util.h"
#include "lib/version.h"

ag_trust_t *
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
	if (a->nrevoked > 0) {
		t->revoked = malloc(a->nrevoked * sizeof(*t->revoked));
		if (t->revoked == NULL) {
			ag_log("error", "reading trusted roots: out of memory");
			free(t->roots);
			free(t);
			return NULL;
		}
		memcpy(t->revoked, a->revoked,
		       a->nrevoked * sizeof(*t->revoked));
		t->t.revoked = t->revoked;
		t->t.nrevoked = a->nrevoked;
	}
	t->refs = 1;
	t->t.roots = t->roots;
	t->t.n = n;
	return t;
}

void
ag_trust_put(ag_trust_t *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	free(t->roots);
	free(t->revoked);
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
	a->up.released(a);
}

/* ---- admission ---- */

_Static_assert(sizeof(((agent_t *)0)->ipc_key) == crypto_shorthash_KEYBYTES,
	       "ipc_key is a crypto_shorthash key");

/* Where ip's counts are in the hash table: the pointer to its entry, or
 * to the NULL that ends its bucket. SipHash under a random key, so remote
 * addresses cannot be chosen to pile into one bucket. */
static ag_ipc_t **
conn_ipc_slot(agent_t *a, const char *ip)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;
	ag_ipc_t **p;

	crypto_shorthash(h, (const uint8_t *)ip, strlen(ip), a->ipc_key);
	memcpy(&v, h, sizeof(v));
	for (p = &a->ipc[v % AG_IPC_BUCKETS]; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->ip, ip) == 0)
			break;
	return p;
}

/* The handshake of c is over (done, or c is closing): out of the queue
 * of unfinished ones. */
static void
conn_hs_done(conn_t *c)
{
	agent_t *a = c->a;

	if (!c->hs_queued)
		return;
	if (c->hs_prev)
		c->hs_prev->hs_next = c->hs_next;
	else
		a->hs_head = c->hs_next;
	if (c->hs_next)
		c->hs_next->hs_prev = c->hs_prev;
	else
		a->hs_tail = c->hs_prev;
	c->hs_prev = c->hs_next = NULL;
	c->hs_queued = 0;
	a->nhs--;
	c->ipc->pending--;
}

/* c starts closing: it no longer counts against any cap. */
static void
conn_admit_release(conn_t *c)
{
	agent_t *a = c->a;
	ag_ipc_t **p, *e = c->ipc;

	a->nlive--;
	conn_hs_done(c);
	if (e == NULL)
		return;
	c->ipc = NULL;
	if (--e->n > 0)
		return;
	p = conn_ipc_slot(a, e->ip);
	*p = e->next;
	free(e);
}

void
ag_conn_close(conn_t *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	conn_admit_release(c);
	c->a->up.conn_closing(c);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

void
ag_conn_bye(conn_t *c, const char *reason)
{
	weft_sess_close(c->s, reason);
	ag_conn_flush(c);
	ag_conn_close(c);
}

conn_t *
ag_conn_new(agent_t *a)
{
	conn_t *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->a = a;
	c->id = ++a->next_conn_id;
	a->nlive++;
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
			ag_conn_close(c);
		return;
	}
	if (status < 0) {
		ag_log("info", "write to %s failed: %s", c->addr,
		       uv_strerror(status));
		ag_conn_close(c);
		return;
	}
	ag_conn_after(c);
}

/* Write everything the core has queued. */
void
ag_conn_flush(conn_t *c)
{
	ag_write_t *w;
	uv_buf_t b;

	for (;;) {
		w = malloc(sizeof(*w));
		if (w == NULL) {
			ag_conn_close(c);
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
			ag_conn_close(c);
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
void
ag_conn_after(conn_t *c)
{
	uint64_t t, now;
	int want;

	if (c->closing)
		return;
	ag_conn_flush(c);
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
const char *
ag_conn_peer_name(const conn_t *c)
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
		       dir, c->addr, ag_conn_peer_name(c), err->msg);
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
		       dir, c->addr, ag_conn_peer_name(c), err->msg);
		break;
	default:
		ag_log("error", "session %s %s closed: %s", dir, c->addr,
		       err->msg);
		break;
	}
	ag_conn_close(c);
}

conn_t *
ag_conn_find_peer(agent_t *a, const uint8_t pk[WEFT_PK_BYTES],
		  const conn_t * not )
{
	conn_t *c;

	for (c = a->conns; c; c = c->next)
		if (c != not &&c->up && !c->closing &&
		    memcmp(weft_sess_peer(c->s)->subject_pk, pk,
			   WEFT_PK_BYTES) == 0)
			return c;
	return NULL;
}

int
ag_is_gateway(const weft_cert_info_t *ci)
{
	size_t i;

	for (i = 0; i < ci->nroles; i++)
		if (strcmp(ci->roles[i], "gateway") == 0)
			return 1;
	return 0;
}

/* The handshake finished: count it, let the agent decide (0 to keep the
 * session, -1 if it closed it). */
static int
conn_on_up(conn_t *c)
{
	conn_hs_done(c); /* a session now: never evicted for a newcomer */
	c->a->hs_ok++;
	return c->a->up.conn_up(c);
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

		if (c->up) {
			if (c->accepted) /* else dial.c logs a refusal */
				ag_log("info",
				       "session with %s (node %s) ended: %s",
				       c->addr, ag_conn_peer_name(c), why);
		} else if (c->outbound)
			ag_log("warn",
			       "handshake to %s failed: %s before it "
			       "finished (a wrong network key, or the "
			       "peer does not trust our org?)",
			       c->addr, why);
		else if (ag_log_ok(a, AG_LIM_HS))
			ag_log("info",
			       "connection from %s: %s before the "
			       "handshake finished",
			       c->addr, why);
		if (!c->up)
			a->hs_failed++;
		ag_conn_close(c);
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
		rc = weft_sess_input(c->s, uv_now(a->loop), in + off, len - off,
				     &used, &m, &err);
		off += used;
		if (rc < 0) {
			ag_conn_flush(c);
			conn_failed(c, &err);
			return;
		}
		if (rc == WEFT_SESS_UP && conn_on_up(c) != 0)
			return;
		if (rc == WEFT_SESS_MSG)
			a->up.conn_msg(c, m);
		if (rc == WEFT_SESS_CLOSED) {
			if (c->accepted) /* else dial.c logs a refusal */
				ag_log("info",
				       "session with %s (node %s) closed by "
				       "peer",
				       c->addr, ag_conn_peer_name(c));
			ag_conn_flush(c);
			ag_conn_close(c);
			return;
		}
	} while (!c->closing && (off < len || rc != WEFT_SESS_NONE));
	ag_conn_after(c);
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
	ag_conn_after(c);
}

/* Make the session core for a connected socket and start reading. */
int
ag_conn_start(conn_t *c, weft_hs_role_t role)
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
	ag_conn_after(c);
	return 0;
}

/* Close the oldest unfinished inbound handshake to make room (why: the
 * cap that is full). */
static void
conn_evict(agent_t *a, const char *why)
{
	conn_t *v = a->hs_head;

	a->hs_evicted++;
	a->refused_limit++;
	if (ag_log_ok(a, AG_LIM_CAP))
		ag_log("warn",
		       "evicted the oldest unfinished handshake, from %s "
		       "(%llu ms old): %s (%llu evicted so far)",
		       v->addr,
		       (unsigned long long)(uv_now(a->loop) - v->hs_at), why,
		       (unsigned long long)a->hs_evicted);
	ag_conn_close(v);
}

/* May inbound connection c (counted in nlive, not yet in its address's
 * counts) stay? NULL and c counted, or why not. Over a cap of its own
 * address the newcomer is refused; over a global one the oldest
 * unfinished inbound handshakes make room, never a finished session. */
static const char *
conn_admit(conn_t *c)
{
	agent_t *a = c->a;
	const weft_agent_opts_t *o = a->o;
	ag_ipc_t **p = conn_ipc_slot(a, c->ip), *e = *p;
	char why[96];

	if (e != NULL && e->pending >= o->max_pending_per_addr)
		return "too many unfinished handshakes from this address";
	if (e != NULL && e->n >= o->max_per_addr)
		return "too many connections from this address";
	while (a->nhs >= o->max_handshakes || a->nlive > o->max_conns) {
		if (a->hs_head == NULL)
			return "too many connections";
		if (a->nhs >= o->max_handshakes)
			snprintf(why, sizeof(why),
				 "%u unfinished handshakes (--max-handshakes)",
				 a->nhs);
		else
			snprintf(why, sizeof(why),
				 "%u connections (--max-conns)", a->nlive - 1);
		conn_evict(a, why);
	}
	p = conn_ipc_slot(a, c->ip); /* an eviction may have freed it */
	if (*p == NULL) {
		*p = calloc(1, sizeof(**p));
		if (*p == NULL)
			return "out of memory";
		snprintf((*p)->ip, sizeof((*p)->ip), "%s", c->ip);
	}
	c->ipc = *p;
	c->ipc->n++;
	c->ipc->pending++;
	c->hs_queued = 1;
	c->hs_at = uv_now(a->loop);
	c->hs_prev = a->hs_tail;
	if (a->hs_tail)
		a->hs_tail->hs_next = c;
	else
		a->hs_head = c;
	a->hs_tail = c;
	a->nhs++;
	return NULL;
}

void
ag_conn_on_accept(uv_stream_t *server, int status)
{
	agent_t *a = server->data;
	conn_t *c;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	const char *why;

	if (status < 0) {
		ag_log("warn", "accept: %s", uv_strerror(status));
		return;
	}
	c = ag_conn_new(a);
	if (c == NULL)
		return;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		ag_conn_close(c);
		return;
	}
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
		ag_fmt_addr((struct sockaddr *)&ss, c->addr, sizeof(c->addr),
			    c->ip, sizeof(c->ip));
	else
		snprintf(c->addr, sizeof(c->addr), "?");
	why = conn_admit(c);
	if (why != NULL) {
		a->refused_limit++;
		if (ag_log_ok(a, AG_LIM_CAP))
			ag_log("warn", "refused connection from %s: %s",
			       c->addr, why);
		ag_conn_close(c);
		return;
	}
	if (ag_conn_start(c, WEFT_HS_RESPONDER) != 0)
		ag_conn_close(c);
}

/* ---- gossip ---- */

conn_t *
ag_conn_by_id(agent_t *a, uint64_t id)
{
	conn_t *c;

	for (c = a->conns; c; c = c->next)
		if (c->id == id)
			return c->up && !c->closing ? c : NULL;
	return NULL;
}
