/*
 * ctl.c: the control server on DIR/agent.sock: one request per
 * connection (framing in control.h), answered from the agent's state:
 * status, sessions, members, and "the catalog changed" (a scan).
 * Connections are capped (AG_CTL_MAX_CONNS) and closed after
 * AG_CTL_TIMEOUT_MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "agent/control.h"
#include "lib/util.h"
#include "lib/version.h"

struct ctl_conn {
	uv_pipe_t pipe;
	uv_timer_t timer;
	agent_t *a;
	size_t len;
	int handles, done;
	int streaming; /* a query's answers: closed by ag_ctl_finish */
	int finish;    /* close once the writes are done */
	unsigned writes;
	uint8_t buf[WEFT_CTL_HDR + WEFT_CTL_REQ_MAX];
};

static void
ctl_closed(uv_handle_t *h)
{
	ctl_conn_t *cc = h->data;
	agent_t *a = cc->a;

	if (--cc->handles > 0)
		return;
	a->nctl--;
	free(cc);
	a->up.released(a);
}

static void
ctl_close(ctl_conn_t *cc)
{
	if (cc->done)
		return;
	cc->done = 1;
	if (cc->streaming && !cc->finish)
		cc->a->up.query_gone(cc->a, cc); /* the client went away */
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
ctl_fill_status(agent_t *a, Weft__AgentStatus *s, char **roles, char **listen,
		char **join)
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
	s->queries_asked = a->q_asked;
	s->queries_served = a->q_served;
	s->queries_refused = a->q_refused;
	s->queries_cancelled = a->q_cancelled;
	s->audit_written = __atomic_load_n(&a->audit_written, __ATOMIC_RELAXED);
	pthread_mutex_lock(&a->audit_mu);
	s->audit_dropped = a->audit_dropped;
	pthread_mutex_unlock(&a->audit_mu);
	s->pid = (uint32_t)getpid();
	if (a->node != NULL) {
		const weft_gossip_t *g = weft_node_gossip(a->node);
		weft_gossip_stats_t gs;
		weft_gossip_member_t *m;
		size_t n, k;

		weft_gossip_stats(g, &gs);
		s->catalog_entries = gs.entries;
		s->catalog_bytes = gs.bytes;
		s->gossip_over_quota = gs.over_quota;
		s->sig_verifies = weft_crypto_verifies();
		s->gossip_accepted = gs.accepted;
		s->gossip_duplicates = gs.duplicates;
		s->gossip_refused = gs.refused;
		s->gossip_throttled = gs.throttled;
		s->gossip_refused_visibility = gs.refused_visibility;
		s->gossip_pushes = gs.pushes_out;
		s->gossip_ihaves = gs.ihaves_out;
		s->gossip_grafts = gs.grafts_out;
		s->gossip_prunes = gs.prunes_out;
		s->gossip_repair_lists = gs.lists_out;
		s->gossip_repair_grafts = gs.repairs_out;
		s->neighbours = gs.active;
		s->neighbours_max = gs.active_max;
		s->overlay_let_go = gs.disconnects_out;
		s->overlay_parted = gs.disconnects_in;
		s->overlay_walk_dials = gs.walk_dials;
		s->gossip_dropped = a->gossip_dropped;
		if (weft_node_tunnels(a->node) != NULL) {
			weft_tun_stats_t ts;

			weft_tun_stats(weft_node_tunnels(a->node), &ts);
			s->tunnels = ts.tunnels;
			s->tunnels_opened = ts.opened;
			s->tunnels_accepted = ts.accepted;
			s->tunnels_failed = ts.failed;
			s->tunnel_relayed = ts.relayed_msgs;
			s->tunnel_relayed_bytes = ts.relayed_bytes;
			s->tunnel_refused = ts.refused;
		}
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

	if (a->node == NULL || weft_gossip_members(weft_node_gossip(a->node),
						   &m->list, &m->n) != 0)
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
	size_t len;
} ctl_write_t;

static void
ctl_written(uv_write_t *req, int status)
{
	ctl_write_t *w = (ctl_write_t *)req;
	ctl_conn_t *cc = w->cc;

	free(w->buf);
	free(w);
	cc->writes--;
	if (!cc->streaming || status < 0 || (cc->finish && cc->writes == 0)) {
		ctl_close(cc);
		return;
	}
	if (!cc->done)
		cc->a->up.ctl_drained(cc->a);
}

int
ag_ctl_send(ctl_conn_t *cc, uint8_t *frame, size_t len)
{
	ctl_write_t *w;
	uv_buf_t b;

	if (cc->done) {
		free(frame);
		return -1;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		free(frame);
		return -1;
	}
	w->cc = cc;
	w->buf = frame;
	w->len = len;
	b = uv_buf_init((char *)frame, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&cc->pipe, &b, 1, ctl_written)) {
		free(frame);
		free(w);
		return -1;
	}
	cc->writes++;
	return 0;
}

size_t
ag_ctl_queued(const ctl_conn_t *cc)
{
	return cc->done ? 0
			: uv_stream_get_write_queue_size(
			      (const uv_stream_t *)&cc->pipe);
}

void
ag_ctl_finish(ctl_conn_t *cc)
{
	cc->finish = 1;
	if (cc->writes == 0)
		ctl_close(cc);
}

/* After a query's request: read on, only to see the client go away. */
static void
ctl_drain_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	if (n < 0)
		ctl_close(s->data);
}

static void
ctl_alloc_small(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char sink[256]; /* read from the loop thread only */

	b->base = sink;
	b->len = sizeof(sink);
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
	uv_buf_t b;

	if (req != NULL && req->op == WEFT__CONTROL_OP__CTL_QUERY) {
		cc->streaming = 1;
		uv_timer_stop(&cc->timer); /* the query has its own deadline */
		uv_read_start((uv_stream_t *)&cc->pipe, ctl_alloc_small,
			      ctl_drain_read);
		a->up.query(a, cc, req);
		return;
	}
	if (req == NULL) {
		resp.error = "malformed request";
	} else if (req->op == WEFT__CONTROL_OP__CTL_STATUS) {
		ctl_fill_status(a, &st, roles, listen, join);
		resp.status = &st;
	} else if (req->op == WEFT__CONTROL_OP__CTL_CATALOG_CHANGED) {
		a->up.catalog_changed(a);
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
	w = calloc(1, sizeof(*w));
	if (w == NULL || weft_ctl_frame(&resp.base, &w->buf, &w->len) != 0) {
		free(w);
		ctl_close(cc);
		goto out;
	}
	w->cc = cc;
	b = uv_buf_init((char *)w->buf, (unsigned)w->len);
	if (uv_write(&w->req, (uv_stream_t *)&cc->pipe, &b, 1, ctl_written)) {
		free(w->buf);
		free(w);
		ctl_close(cc);
	} else {
		cc->writes++;
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
	const uint8_t *body;
	size_t blen;
	int rc;

	if (cc->done)
		return;
	if (n < 0) {
		ctl_close(cc);
		return;
	}
	cc->len += (size_t)n;
	rc = weft_ctl_unframe(cc->buf, cc->len, WEFT_CTL_REQ_MAX, &body, &blen);
	if (rc == 0)
		return;
	uv_read_stop(s);
	if (rc < 0) {
		ctl_answer(cc, NULL);
		return;
	}
	req = weft__control_request__unpack(NULL, blen, body);
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
int
ag_ctl_listen(agent_t *a)
{
	weft_err_t err = {0};
	int rc;

	if (weft_ctl_path(a->o->dir, a->sock_path, sizeof(a->sock_path),
			  &err) != 0) {
		ag_log("error", "%s", err.msg);
		return -1;
	}
	/* We hold the data directory's lock, so a socket file left here is
	 * stale: an agent that crashed. */
	(void)unlink(a->sock_path);
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

void
ag_ctl_stop(agent_t *a)
{
	if (!a->ctl_open)
		return;
	uv_close((uv_handle_t *)&a->ctl, NULL);
	unlink(a->sock_path);
	a->ctl_open = 0;
}
