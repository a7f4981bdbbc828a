/*
 * core.c: the node core's driver: its timer, carrying out its outputs
 * (messages to sessions, entries to the store, member dials, notes for
 * the log), --link-delay, and the catalog scan that offers the store's
 * entries to the core (at start, when a command changed the store, and
 * every 10 ticks in case such a notice was lost).
 *
 * The scan: the loop copies the stored envelopes out of one LMDB read
 * transaction (no verification: a memory copy), a worker checks every
 * signature against a snapshot of the trusted roots (the O(catalog)
 * work, off the loop), and the loop offers what verified to the core.
 * One scan at a time; a request during one runs another after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agent/agent_int.h"
#include "crypto/revoke.h"
#include "lib/util.h"
#include "lib/version.h"
#include "storage/catalog.h"

static void core_held_send(uv_timer_t *t);

/* Messages a full queue must not drop: tunnels' frames and queries'
 * (node/session.h, weft_sess_send_must). */
static int
core_must(const Weft__WireMessage *msg)
{
	switch (msg->msg_case) {
	case WEFT__WIRE_MESSAGE__MSG_RELAY:
	case WEFT__WIRE_MESSAGE__MSG_RELAY_ERROR:
	case WEFT__WIRE_MESSAGE__MSG_QOPEN:
	case WEFT__WIRE_MESSAGE__MSG_QBATCH:
	case WEFT__WIRE_MESSAGE__MSG_QCREDIT:
	case WEFT__WIRE_MESSAGE__MSG_QEND:
	case WEFT__WIRE_MESSAGE__MSG_QCANCEL:
	case WEFT__WIRE_MESSAGE__MSG_DISCONNECT:
		return 1; /* a parting, not a refusal */
	default: return 0;
	}
}

/* Send a message to session `peer`, if it is still there. */
static void
core_send(agent_t *a, uint64_t peer, const Weft__WireMessage *msg)
{
	weft_err_t err = {0};
	conn_t *c = ag_conn_by_id(a, peer);

	if (c == NULL)
		return;
	if (core_must(msg)) {
		if (weft_sess_send_must(c->s, uv_now(a->loop), msg, &err) != 0)
			ag_log("warn", "session with %s (node %s): %s", c->addr,
			       ag_conn_peer_name(c), err.msg);
	} else if (weft_sess_send(c->s, uv_now(a->loop), msg, &err) != 0) {
		a->gossip_dropped++; /* full queue: anti-entropy repairs it
				      * later */
	}
	/* written before the loop sleeps: what one read makes the core send
	 * a neighbour leaves in one write, not one per message */
	if (!c->dirty) {
		c->dirty = 1;
		a->ndirty++;
	}
}

/* Before the loop polls: write what the node core queued for sessions
 * (Redis's beforeSleep). A closed session has left a->conns. */
static void
core_before_sleep(uv_prepare_t *h)
{
	agent_t *a = h->data;
	conn_t *c, *next;

	if (a->ndirty == 0)
		return;
	a->ndirty = 0;
	for (c = a->conns; c; c = next) {
		next = c->next;
		if (c->dirty) {
			c->dirty = 0;
			ag_conn_after(c);
		}
	}
}

/*
 * --link-delay: hold a message of the node core until now + delay (every
 * message the same delay, so a link keeps its order), as a WAN would; the
 * tests compare such a mesh with `weft sim --latency`. The message may
 * borrow origin keys from the core, which live as long as the core. A
 * held NULL message is the overlay's Goodbye: it closes the session after
 * the messages before it (the GossipDisconnect that tells the peer it was
 * let go, not refused). Returns 1 if held (o->msg is ours now).
 */
static int
core_hold(agent_t *a, weft_out_t *o)
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
		uv_timer_start(&a->dtimer, core_held_send, a->o->link_delay_ms,
			       0);
	return 1;
}

static void
core_held_free(agent_t *a)
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
core_held_send(uv_timer_t *t)
{
	agent_t *a = t->data;
	uint64_t now = uv_now(a->loop);
	struct ag_held *h;
	conn_t *c;

	while ((h = a->held) != NULL && h->due <= now) {
		a->held = h->next;
		if (a->held == NULL)
			a->held_tail = NULL;
		if (h->msg != NULL)
			core_send(a, h->peer, h->msg);
		else if ((c = ag_conn_by_id(a, h->peer)) != NULL)
			ag_conn_bye(c, "overlay full");
		weft_node_msg_free(h->msg);
		free(h);
	}
	if (a->held != NULL)
		uv_timer_start(&a->dtimer, core_held_send, a->held->due - now,
			       0);
}

static void core_arm(agent_t *a);

/* Carry out the node core's outputs: messages to sessions, entries to
 * the store, members to dial, notes to the log. */
/* The entries the node core asked to store in one flush. */
#define CORE_BATCH_MAX 256
typedef struct core_batch {
	uint8_t *env[CORE_BATCH_MAX];
	size_t len[CORE_BATCH_MAX];
	size_t n;
	int urgent; /* one of them is (out.h, WEFT_OUT_STORE) */
} core_batch_t;

/* One line per product (or policy) version learnt from another node:
 * what the gossip benchmark times. */
/* Hand the batch to the catalog writer (catwrite.c): stored off the
 * loop, in one transaction with what is queued before it. */
static void
core_batch_store(agent_t *a, core_batch_t *b)
{
	if (b->n == 0)
		return;
	ag_catw_put(a, b->env, b->len, b->n, b->urgent);
	b->n = 0;
	b->urgent = 0;
}

/* Take o's entry into the batch (storing the batch first when full). */
static void
core_batch_add(core_batch_t *b, weft_out_t *o, agent_t *a)
{
	if (b->n == CORE_BATCH_MAX)
		core_batch_store(a, b);
	b->env[b->n] = o->env;
	b->len[b->n] = o->env_len;
	b->n++;
	b->urgent |= o->n != 0;
	o->env = NULL;
}

void
ag_core_flush(agent_t *a)
{
	weft_out_t o;
	core_batch_t b;
	conn_t *c;

	if (a->node == NULL)
		return;
	b.n = 0;
	b.urgent = 0;
	/* the fast lane's few entries (an honest publish in a flood):
	 * checked here, not behind the verify thread's batch (gverify.c) */
	if (weft_node_pending(a->node) > 0)
		(void)weft_node_work_fast(a->node, uv_now(a->loop),
					  weft_now_us());
	while (weft_node_poll(a->node, &o)) {
		switch (o.kind) {
		case WEFT_OUT_SEND:
			if (a->o->link_delay_ms == 0 || !core_hold(a, &o))
				core_send(a, o.peer, o.msg);
			break;
		case WEFT_OUT_STORE:
			/* stored together after the loop: one commit */
			core_batch_add(&b, &o, a);
			break;
		case WEFT_OUT_DIAL:
			if (ag_conn_find_peer(a, o.pk, NULL) == NULL)
				ag_dial_addr(a, o.addr, o.pk);
			break;
		case WEFT_OUT_REVOKE:
			/* the batch first: its drop must come after */
			core_batch_store(a, &b);
			ag_revoke(a, &o);
			break;
		case WEFT_OUT_PART:
			/* let go by the overlay: not a refusal, not a
			 * failure (dial.c) */
			if ((c = ag_conn_by_id(a, o.peer)) != NULL) {
				c->parted = 1;
				/* after the held disconnect (core_hold) */
				if (o.n && (a->o->link_delay_ms == 0 ||
					    !core_hold(a, &o)))
					ag_conn_bye(c, "overlay full");
			}
			break;
		case WEFT_OUT_NOTE:
			c = ag_conn_by_id(a, o.peer);
			ag_log("info", "gossip: %s (node %s)", o.text,
			       c ? ag_conn_peer_name(c) : "?");
			break;
		case WEFT_OUT_QRUN:
		case WEFT_OUT_QCREDIT:
		case WEFT_OUT_QSTOP:
		case WEFT_OUT_QBATCH:
		case WEFT_OUT_QEND: a->up.qout(a, &o); break;
		}
		weft_node_out_free(&o);
	}
	core_batch_store(a, &b);
	/* pushes' entries waiting: verified off the loop (gverify.c) */
	ag_gv_kick(a);
	/* a call may have brought a timer forward (a tunnel's handshake) */
	if (a->gtimer_open && !a->stopping &&
	    weft_node_next_timer(a->node) < uv_now(a->loop) + 1000)
		core_arm(a);
}

/* Close a session that came up but may not stay: a refusal, which backs
 * off our dials to the node and folds these lines. Returns -1. */
static int
core_refuse(conn_t *c, const weft_cert_info_t *p, const char *why,
	    const char *bye)
{
	char fold[64];

	c->refused = 1;
	if (ag_dial_refused(c->a, p->subject_pk, fold, sizeof(fold)))
		ag_log("warn", "session %s %s closed: node %s of org %s %s%s",
		       c->outbound ? "to" : "from", c->addr, p->subject_name,
		       p->org_name, why, fold);
	ag_conn_bye(c, bye);
	return -1;
}

int
ag_core_conn_up(conn_t *c)
{
	agent_t *a = c->a;
	const weft_cert_info_t *p = weft_sess_peer(c->s);
	conn_t *other = ag_conn_find_peer(a, p->subject_pk, c);

	if (a->node != NULL &&
	    !weft_node_may_link(a->node, p->org_name, ag_is_gateway(p)))
		/* an org we reach only gateway to gateway */
		return core_refuse(c, p, "is reached only through gateways",
				   "org reached only through gateways");
	if (a->gtrust != NULL &&
	    weft_trust_revoked(&a->gtrust->t, p->subject_pk, p->org_pk))
		/* revoked while its handshake ran on an older snapshot */
		return core_refuse(c, p, "was revoked by its org",
				   "your certificate was revoked");
	c->up = 1;
	c->since_us = weft_now_us();
	ag_trust_put(c->trust); /* only the handshake needed it */
	c->trust = NULL;
	ag_dial_conn_up(c);
	if (other != NULL) {
		/* Two links to one node (both dialled at once): both ends keep
		 * the one dialled by the smaller key, so they agree. */
		int keep_outbound =
		    weft_node_keep_dialled(a->node, p->subject_pk);
		conn_t *drop = c->outbound == keep_outbound ? other : c;

		ag_log("info",
		       "duplicate session with node %s: keeping the "
		       "one dialled by %s",
		       p->subject_name, keep_outbound ? "us" : "them");
		if (drop->dialer != NULL) /* it would only dial again */
			drop->dialer->backoff_ms = a->o->backoff_max_ms;
		ag_conn_bye(drop, "duplicate session");
		if (drop == c)
			return -1;
	}
	ag_log("info", "session up: node %s (org %s) %s %s", p->subject_name,
	       p->org_name, c->outbound ? "dialled at" : "from", c->addr);
	if (a->node != NULL) {
		weft_node_peer_up(a->node, uv_now(a->loop), c->id,
				  p->subject_pk, p->org_name, ag_is_gateway(p));
		ag_core_flush(a);
	}
	return 0;
}

/* WEFT_TRACE_INPUT: what the core receives, for tests that look for
 * plaintext where none may be (a gateway's input). */
static void
core_trace(agent_t *a, const Weft__WireMessage *m)
{
	size_t len = weft__wire_message__get_packed_size(m);
	uint8_t *b = malloc(len ? len : 1);

	if (b == NULL)
		return;
	weft__wire_message__pack(m, b);
	if (write(a->trace_fd, b, len) != (ssize_t)len)
		a->trace_fd = -1; /* best effort; stop on a short write */
	free(b);
}

void
ag_trace_fragment(agent_t *a, const char *product, const char *asker,
		  const char *org, const uint8_t *frag, size_t len)
{
	char head[512];
	int n;

	if (a->frag_fd < 0)
		return;
	n = snprintf(head, sizeof(head),
		     "fragment of %s for node %s of org %s: %zu bytes\n",
		     product, asker, org, len);
	if (n < 0 || (size_t)n >= sizeof(head) ||
	    write(a->frag_fd, head, (size_t)n) != n ||
	    (len && write(a->frag_fd, frag, len) != (ssize_t)len) ||
	    write(a->frag_fd, "\n", 1) != 1) {
		close(a->frag_fd); /* best effort: stop on a short write */
		a->frag_fd = -1;
	}
}

void
ag_core_conn_msg(conn_t *c, const Weft__WireMessage *m)
{
	agent_t *a = c->a;
	weft_err_t err = {0};

	if (!c->accepted) { /* the peer keeps the session: a success */
		c->accepted = 1;
		ag_dial_conn_ok(c);
	}
	if (a->node == NULL)
		return;
	if (a->trace_fd >= 0)
		core_trace(a, m);
	if (weft_node_recv(a->node, uv_now(a->loop), weft_now_us(), c->id, m,
			   &err) != 0) {
		a->bad_frames++;
		ag_log("warn", "session with %s (node %s) closed: %s", c->addr,
		       ag_conn_peer_name(c), err.msg);
		ag_core_flush(a);
		ag_conn_close(c);
		return;
	}
	ag_core_flush(a);
}

void
ag_core_conn_down(conn_t *c)
{
	/* first: the node core may ask to redial at once, and a refused
	 * session's node must be waiting its backoff by then */
	ag_dial_conn_down(c);
	if (c->up && c->a->node != NULL && !c->a->stopping) {
		weft_node_peer_down(c->a->node, uv_now(c->a->loop), c->id);
		ag_core_flush(c->a);
	}
}

/* One catalog scan: the stored envelopes, copied on the loop, checked on
 * a worker. */
typedef struct ag_scan_entry {
	uint8_t *env;
	size_t len;
	int ok;			 /* verified (worker) */
	weft_entry_info_t *mine; /* a descriptor of ours: its fields (for
				  * the "offered" log line), else NULL */
} ag_scan_entry_t;

struct ag_scan {
	weft_pool_job_t job;
	agent_t *a;
	ag_trust_t *trust; /* a snapshot, held until done */
	uint8_t self[WEFT_PK_BYTES];
	int64_t now_us;
	ag_scan_entry_t *e;
	size_t n, cap;
	uint64_t policies; /* the sum of our POLICY entries' versions */
};

static void
scan_free(struct ag_scan *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++) {
		free(sc->e[i].env);
		free(sc->e[i].mine);
	}
	free(sc->e);
	ag_trust_put(sc->trust);
	free(sc);
}

/* weft_catalog_raw callback (loop): copy one envelope. */
static int
scan_copy(void *arg, const uint8_t *env, size_t len)
{
	struct ag_scan *sc = arg;
	ag_scan_entry_t *e;

	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 64;
		ag_scan_entry_t *p = realloc(sc->e, cap * sizeof(*p));

		if (p == NULL)
			return WEFT_ENOMEM;
		sc->e = p;
		sc->cap = cap;
	}
	e = &sc->e[sc->n];
	memset(e, 0, sizeof(*e));
	e->env = malloc(len ? len : 1);
	if (e->env == NULL)
		return WEFT_ENOMEM;
	memcpy(e->env, env, len);
	e->len = len;
	sc->n++;
	return 0;
}

/* Worker: verify every entry against the snapshot of the roots, as
 * weft_catalog_list does (what was trusted when stored may have been
 * revoked or expired since). */
static void
scan_work(weft_pool_job_t *job)
{
	struct ag_scan *sc = job->arg;
	weft_entry_info_t info;
	size_t i;

	for (i = 0; i < sc->n && !weft_pool_cancelled(job); i++) {
		ag_scan_entry_t *e = &sc->e[i];

		if (weft_entry_verify(e->env, e->len, &sc->trust->t, sc->now_us,
				      &info, NULL, NULL, NULL) != 0)
			continue;
		e->ok = 1;
		if (info.kind == WEFT_ENTRY_POLICY &&
		    memcmp(info.origin, sc->self, WEFT_PK_BYTES) == 0)
			sc->policies += info.version;
		if (info.kind == WEFT_ENTRY_DESCRIPTOR &&
		    memcmp(info.origin, sc->self, WEFT_PK_BYTES) == 0 &&
		    (e->mine = malloc(sizeof(*e->mine))) != NULL)
			*e->mine = info;
	}
}

/* Loop: offer what verified to the node core. */
static void
scan_done(weft_pool_job_t *job)
{
	struct ag_scan *sc = job->arg;
	agent_t *a = sc->a;
	size_t i;

	a->scan = NULL;
	if (job->cancelled || a->stopping || a->node == NULL) {
		scan_free(sc);
		return;
	}
	for (i = 0; i < sc->n; i++) {
		ag_scan_entry_t *e = &sc->e[i];
		const weft_entry_info_t *m = e->mine;

		if (!e->ok ||
		    weft_node_offer(a->node, uv_now(a->loop), weft_now_us(),
				    e->env, e->len, 0, NULL) != 1)
			continue;
		if (a->scanned && m != NULL)
			/* the moment a product of ours enters the mesh: what
			 * the simulator comparison (t_sim_reality) times */
			ag_log("info",
			       "catalog: offered %s.%s version %llu "
			       "to the mesh",
			       m->signer.org_name, m->name,
			       (unsigned long long)m->version);
	}
	/* a policy of ours changed (set, narrowed, dropped): fragments
	 * running under the old one stop now (docs/policy.md) */
	if (a->scanned && sc->policies != a->policies)
		a->up.policies_changed(a);
	a->policies = sc->policies;
	a->scanned = 1;
	scan_free(sc);
	ag_core_flush(a);
	if (a->scan_again) {
		a->scan_again = 0;
		ag_core_scan(a);
	}
}

void
ag_core_scan(agent_t *a)
{
	struct ag_scan *sc;
	weft_err_t err = {0};
	int rc;

	if (a->node == NULL || a->stopping || a->pool == NULL)
		return;
	if (a->scan != NULL) { /* one at a time: run another after it */
		a->scan_again = 1;
		return;
	}
	a->scan_again = 0;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL || (sc->trust = ag_trust_get(a)) == NULL) {
		free(sc);
		a->scan_again = 1; /* the next tick tries again */
		return;
	}
	sc->a = a;
	memcpy(sc->self, a->id.kp->pk, WEFT_PK_BYTES);
	sc->now_us = weft_now_us();
	/* The whole catalog once, at start; then only our own entries: the
	 * only ones other processes write here (weft publish, policy set),
	 * while the others' come by gossip and are held already (issue 14,
	 * finding 3: a re-read of 66k entries every 10 ticks). */
	rc = a->scanned
		 ? weft_catalog_raw_origin(a->st, sc->self, scan_copy, sc, &err)
		 : weft_catalog_raw(a->st, 0, scan_copy, sc, &err);
	if (rc != 0) {
		ag_log("error", "reading the catalog: %s",
		       err.msg[0] ? err.msg : weft_strerror(rc));
		scan_free(sc);
		return;
	}
	sc->job.work = scan_work;
	sc->job.done = scan_done;
	sc->job.arg = sc;
	/* the first (the whole catalog) on a worker; the next (ours, what
	 * a publish waits for) at the loop's priority (agent_int.h) */
	if (weft_pool_submit(a->scanned && a->opool ? a->opool : a->pool,
			     &sc->job) != 0) {
		scan_free(sc);
		a->scan_again = 1;
		return;
	}
	a->scan = sc;
}

static void core_timer(uv_timer_t *t);
static void core_policy(agent_t *a);

static void
core_arm(agent_t *a)
{
	uint64_t t = weft_node_next_timer(a->node), now = uv_now(a->loop);

	uv_timer_start(&a->gtimer, core_timer, t > now ? t - now : 0, 0);
}

static void
core_timer(uv_timer_t *t)
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
	core_policy(a);
	ag_recheck(a); /* sessions that expired or lost trust: recheck.c */
	weft_node_tick(a->node, uv_now(a->loop), weft_now_us());
	ag_core_flush(a);
	/* every 10 ticks in case a notice from the CLI was lost, and when a
	 * scan could not start */
	if (++a->gticks % 10 == 0 || a->scan_again)
		ag_core_scan(a);
	core_arm(a);
}

/* Gateway role and the orgs reached only through gateways. */
static void
core_policy(agent_t *a)
{
	char via[4096];

	weft_nodedir_via_gateway(a->st, via, sizeof(via));
	weft_node_set_policy(a->node, ag_is_gateway(&a->id.info), via);
}

int
ag_core_start(agent_t *a)
{
	weft_node_cfg_t nc = {0};
	weft_gossip_cfg_t *cfg = &nc.gossip;
	const char *addrs[1] = {a->advertise};
	const char *roles[WEFT_ROLES_MAX];
	weft_err_t err = {0};
	uint8_t seed[8];
	size_t i;
	int rc;

	a->gtrust = ag_trust_get(a);
	if (a->gtrust == NULL)
		return -1;
	/* every signature is checked once: a node's certificate once for
	 * all its entries, an entry not again when stored (1 MiB) */
	(void)weft_crypto_set_verify_cache_slots(1u << 16);
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
	cfg->active_max = a->o->max_neighbours;
	cfg->max_entries = a->o->catalog_max_entries;
	cfg->max_bytes = a->o->catalog_max_bytes;
	cfg->origin_entries = a->o->origin_max_entries;
	cfg->org_entries = a->o->org_max_entries;
	cfg->origin_rate = a->o->origin_rate;
	memcpy(&cfg->seed, seed, sizeof(seed));
	/* tunnels: sessions inside Relays, with our session settings */
	nc.tunnel.sess.network_key = a->netkey;
	nc.tunnel.sess.replay = a->replay;
	nc.tunnel.sess.version = WEFT_VERSION;
	nc.tunnel.sess.keepalive_ms = a->o->keepalive_ms;
	nc.tunnel.sess.idle_ms = a->o->idle_ms;
	nc.tunnel.sess.stall_ms = a->o->stall_ms;
	randombytes_buf(nc.tunnel.seed, sizeof(nc.tunnel.seed));
	rc = weft_node_new(&a->node, &nc, uv_now(a->loop), weft_now_us(), &err);
	sodium_memzero(nc.tunnel.seed, sizeof(nc.tunnel.seed));
	if (rc != 0) {
		ag_log("error", "gossip: %s", err.msg);
		return -1;
	}
	core_policy(a);
	uv_timer_init(a->loop, &a->gtimer);
	a->gtimer.data = a;
	a->gtimer_open = 1;
	uv_timer_init(a->loop, &a->dtimer);
	a->dtimer.data = a;
	a->dtimer_open = 1;
	uv_prepare_init(a->loop, &a->wprep);
	a->wprep.data = a;
	a->wprep_open = 1;
	uv_prepare_start(&a->wprep, core_before_sleep);
	if (ag_gv_start(a) != 0)
		return -1;
	ag_core_scan(a);
	core_arm(a);
	return 0;
}

void
ag_core_stop(agent_t *a)
{
	if (a->gtimer_open) {
		uv_close((uv_handle_t *)&a->gtimer, NULL);
		a->gtimer_open = 0;
	}
	if (a->dtimer_open) {
		uv_close((uv_handle_t *)&a->dtimer, NULL);
		a->dtimer_open = 0;
	}
	ag_gv_stop(a);
	if (a->wprep_open) {
		core_before_sleep(&a->wprep); /* nothing left unwritten */
		uv_close((uv_handle_t *)&a->wprep, NULL);
		a->wprep_open = 0;
	}
}

void
ag_core_free(agent_t *a)
{
	core_held_free(a); /* before the core whose keys they may borrow */
	weft_node_free(a->node);
	a->node = NULL;
	ag_trust_put(a->gtrust);
	a->gtrust = NULL;
	free(a->revoked);
	a->revoked = NULL;
	a->nrevoked = a->revoked_cap = 0;
}
