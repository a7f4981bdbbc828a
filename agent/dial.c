/*
 * dial.c: outbound connections: the dialers of --join
 * addresses (redial with exponential backoff, 0.5 s to --backoff-max,
 * +-20% jitter, so restarted meshes do not dial in lockstep), and the
 * one-shot dials of members the node core asks for.
 *
 * A refused session is a failed dial (issue 14, finding 11): a session
 * that came up but ended before the peer's first message (the peer
 * closed it: it reaches our org only through gateways, or refuses us
 * otherwise) and before AG_SESS_LIVED_MS, or one we closed ourselves
 * (weft_node_may_link), doubles the --join dialer's backoff and holds
 * the node's member dials for a backoff of their own (a refusal record
 * per node: 0.5 s doubling to --backoff-max, jittered), so the gossip
 * core, which redials a lost neighbour at once, cannot make the two
 * agents reconnect in a loop. The first message from the peer (it
 * accepted us), or a session that lived, resets both. The refusal
 * record also folds the log lines about the node: one per backoff
 * period, with the count of those left out.
 *
 * A member dial expects a key (issue 14, finding 10): the node core asks
 * to dial member pk at the address its record gives. If the handshake
 * shows another node there (the member moved, its address was reused,
 * or its record lies), the session is closed before the node core hears
 * of it, and counts as a failed dial of pk (weft_node_unreachable, and
 * pk's refusal backoff). A --join address expects no particular key.
 *
 * Host names are resolved off the loop (addr.c): a --join name for every
 * dial (so a seed's new address is followed), a member's when its record
 * gives a name; IP literals need no resolver.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent/agent_int.h"
#include "lib/util.h"
#include "node/gossip.h"

static void
dial_timer_cb(uv_timer_t *t)
{
	dialer_t *d = t->data;

	if (d->a->stopping || d->conn != NULL || d->resolving)
		return;
	if (d->peer_known &&
	    ag_conn_find_peer(d->a, d->peer_pk, NULL) != NULL) {
		/* Already linked (the peer dialled us): look again later. */
		ag_dial_schedule(d, d->a->o->backoff_max_ms);
		return;
	}
	if (d->parted && d->a->node != NULL) {
		weft_gossip_stats_t st;

		weft_gossip_stats(weft_node_gossip(d->a->node), &st);
		if (st.active > 0) {
			/* a join contact: only for a node left alone */
			ag_dial_schedule(d, AG_CONTACT_CHECK_MS);
			return;
		}
	}
	ag_dial_now(d);
}

/* ms +-20%, so restarted meshes do not dial in lockstep. */
static uint64_t
dial_jitter(uint64_t ms)
{
	uint64_t j = ms / 5;

	if (j > 0)
		ms = ms - j + randombytes_uniform((uint32_t)(2 * j + 1));
	return ms;
}

void
ag_dial_schedule(dialer_t *d, uint64_t ms)
{
	uv_timer_start(&d->timer, dial_timer_cb, dial_jitter(ms), 0);
}

/* The refusal record of node pk, or NULL. */
static ag_refusal_t *
dial_refusal(agent_t *a, const uint8_t *pk)
{
	size_t i;

	for (i = 0; i < a->nrefusals; i++)
		if (memcmp(a->refusals[i].pk, pk, WEFT_PK_BYTES) == 0)
			return &a->refusals[i];
	return NULL;
}

/* A new refusal record for pk (the table full: in place of the one
 * refused longest ago). */
static ag_refusal_t *
dial_refusal_new(agent_t *a, const uint8_t *pk)
{
	ag_refusal_t *r = &a->refusals[0];
	size_t i;

	if (a->nrefusals < AG_REFUSALS_MAX)
		r = &a->refusals[a->nrefusals++];
	else
		for (i = 1; i < a->nrefusals; i++)
			if (a->refusals[i].last < r->last)
				r = &a->refusals[i];
	memset(r, 0, sizeof(*r));
	memcpy(r->pk, pk, WEFT_PK_BYTES);
	return r;
}

int
ag_dial_refused(agent_t *a, const uint8_t pk[WEFT_PK_BYTES], char *fold,
		size_t n)
{
	uint64_t now = uv_now(a->loop), max = a->o->backoff_max_ms;
	ag_refusal_t *r = dial_refusal(a, pk);

	if (r == NULL) {
		r = dial_refusal_new(a, pk);
		r->backoff_ms = AG_BACKOFF_MIN_MS;
	} else if (r->backoff_ms < max) {
		r->backoff_ms *= 2;
	}
	if (r->backoff_ms > max)
		r->backoff_ms = max;
	r->until = now + dial_jitter(r->backoff_ms);
	r->last = now;
	if (now < r->log_at) {
		r->folded++;
		return 0;
	}
	if (r->folded > 0)
		snprintf(fold, n, " (%u more since the last line)", r->folded);
	else
		snprintf(fold, n, "%s", "");
	r->folded = 0;
	r->log_at = r->until;
	return 1;
}

/* 1 if the session lived: the peer spoke, or it was up long enough. */
static int
dial_lived(const conn_t *c)
{
	return c->up && (c->accepted || weft_now_us() - c->since_us >=
					    (int64_t)AG_SESS_LIVED_MS * 1000);
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
			ag_log("info",
			       "cannot reach %s: %s (retrying in "
			       "%.1f s)",
			       c->addr, uv_strerror(status),
			       (double)d->backoff_ms / 1000);
		ag_conn_close(c);
		return;
	}
	if (ag_conn_start(c, WEFT_HS_INITIATOR) != 0)
		ag_conn_close(c);
}

/* Connect d to d->sa now. */
static void
dial_connect(dialer_t *d)
{
	agent_t *a = d->a;
	conn_t *c = ag_conn_new(a);
	int rc;

	if (c == NULL) {
		ag_dial_schedule(d, d->backoff_ms);
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
		ag_conn_close(c);
	}
}

/* A failed dial of d (no connection made): again after the backoff,
 * which doubles. */
static void
dial_retry(dialer_t *d)
{
	ag_dial_schedule(d, d->backoff_ms);
	if (d->backoff_ms < d->a->o->backoff_max_ms)
		d->backoff_ms *= 2;
	if (d->backoff_ms > d->a->o->backoff_max_ms)
		d->backoff_ms = d->a->o->backoff_max_ms;
}

/* d's host name resolved (or not). */
static void
dial_resolved(agent_t *a, void *arg, int status,
	      const struct sockaddr_storage *sa)
{
	dialer_t *d = arg;

	d->resolving = 0;
	if (a->stopping || status == UV_ECANCELED)
		return;
	if (status < 0) {
		ag_log("info", "cannot resolve %s: %s (retrying in %.1f s)",
		       d->addr, uv_strerror(status),
		       (double)d->backoff_ms / 1000);
		dial_retry(d);
		return;
	}
	d->sa = *sa;
	dial_connect(d);
}

void
ag_dial_now(dialer_t *d)
{
	if (d->numeric) {
		dial_connect(d);
		return;
	}
	if (d->resolving)
		return;
	d->resolving = 1;
	if (ag_resolve(d->a, d->addr, dial_resolved, d) != 0) {
		d->resolving = 0;
		dial_retry(d); /* too many under way: later */
	}
}

static void
ag_member_connected(uv_connect_t *req, int status)
{
	conn_t *c = req->data;

	if (c->closing)
		return;
	if (status < 0 || ag_conn_start(c, WEFT_HS_INITIATOR) != 0) {
		if (c->a->node != NULL && !c->a->stopping)
			weft_node_unreachable(c->a->node, uv_now(c->a->loop),
					      c->want_pk);
		ag_conn_close(c);
	}
}

/* Connect to member pk at sa (the node core asked). */
static void
dial_member(agent_t *a, const struct sockaddr_storage *sa, const uint8_t *pk)
{
	char norm[AG_ADDR_MAX];
	conn_t *c;

	ag_fmt_addr((const struct sockaddr *)sa, norm, sizeof(norm), NULL, 0);
	if (strcmp(norm, a->listen_addr) == 0)
		return;
	for (c = a->conns; c; c = c->next) /* already dialling there */
		if (c->outbound && !c->closing && !c->up &&
		    strcmp(c->addr, norm) == 0)
			return;
	c = ag_conn_new(a);
	if (c == NULL)
		return;
	c->outbound = 1;
	c->member_dial = 1;
	memcpy(c->want_pk, pk, WEFT_PK_BYTES);
	ag_fmt_addr((const struct sockaddr *)sa, c->addr, sizeof(c->addr),
		    c->ip, sizeof(c->ip));
	c->connect.data = c;
	if (uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)sa,
			   ag_member_connected) != 0) {
		weft_node_unreachable(a->node, uv_now(a->loop), pk);
		ag_conn_close(c);
	}
}

/* A member dial waiting for its host name. */
typedef struct dial_name {
	uint8_t pk[WEFT_PK_BYTES];
	char addr[WEFT_OUT_ADDR_MAX + 1];
} dial_name_t;

static void
dial_member_resolved(agent_t *a, void *arg, int status,
		     const struct sockaddr_storage *sa)
{
	dial_name_t *n = arg;

	if (a->stopping || status == UV_ECANCELED) {
		free(n);
		return;
	}
	if (status < 0) {
		if (ag_log_ok(a, AG_LIM_HS))
			ag_log("info", "cannot resolve member address %s: %s",
			       n->addr, uv_strerror(status));
		weft_node_unreachable(a->node, uv_now(a->loop), n->pk);
	} else if (ag_conn_find_peer(a, n->pk, NULL) == NULL) {
		dial_member(a, sa, n->pk);
	}
	free(n);
}

/* Dial a member the gossip core asked for (no redial: it decides). */
void
ag_dial_addr(agent_t *a, const char *addr, const uint8_t *pk)
{
	struct sockaddr_storage sa;
	weft_err_t err = {0};
	ag_refusal_t *r;
	dial_name_t *n;
	int rc;

	if (a->stopping)
		return;
	rc = ag_addr_parse(addr, &sa, &err);
	if (rc < 0)
		return;
	r = dial_refusal(a, pk);
	if (r != NULL && uv_now(a->loop) < r->until) {
		/* its sessions are refused: a failed dial, until the wait is
		 * over */
		weft_node_unreachable(a->node, uv_now(a->loop), pk);
		return;
	}
	if (rc == 0) {
		dial_member(a, &sa, pk);
		return;
	}
	/* a host name: resolved off the loop, then dialled */
	n = calloc(1, sizeof(*n));
	if (n != NULL) {
		memcpy(n->pk, pk, WEFT_PK_BYTES);
		snprintf(n->addr, sizeof(n->addr), "%s", addr);
	}
	if (n == NULL || ag_resolve(a, addr, dial_member_resolved, n) != 0) {
		free(n);
		weft_node_unreachable(a->node, uv_now(a->loop), pk);
	}
}

/* The name of member pk as gossip knows it, or "?" (for a log line). */
static void
dial_member_name(agent_t *a, const uint8_t *pk, char *out, size_t n)
{
	weft_gossip_member_t *m = NULL;
	size_t i, k = 0;

	snprintf(out, n, "?");
	if (a->node == NULL ||
	    weft_gossip_members(weft_node_gossip(a->node), &m, &k) != 0)
		return;
	for (i = 0; i < k; i++)
		if (memcmp(m[i].pk, pk, WEFT_PK_BYTES) == 0) {
			snprintf(out, n, "%s", m[i].name);
			break;
		}
	free(m);
}

int
ag_dial_check_key(conn_t *c)
{
	agent_t *a = c->a;
	const weft_cert_info_t *p = weft_sess_peer(c->s);
	char want[2 * WEFT_PK_BYTES + 1], got[2 * WEFT_PK_BYTES + 1];
	char name[WEFT_NAME_MAX + 1], fold[64];

	if (!c->outbound || !c->member_dial ||
	    memcmp(p->subject_pk, c->want_pk, WEFT_PK_BYTES) == 0)
		return 0;
	c->refused = 1; /* counted here, not again when it closes */
	if (ag_dial_refused(a, c->want_pk, fold, sizeof(fold))) {
		dial_member_name(a, c->want_pk, name, sizeof(name));
		ag_log("warn",
		       "dialled node %s at %s expecting key %s, got %s (node "
		       "%s of org %s): closed%s",
		       name, c->addr, weft_hex(c->want_pk, WEFT_PK_BYTES, want),
		       weft_hex(p->subject_pk, WEFT_PK_BYTES, got),
		       p->subject_name, p->org_name, fold);
	}
	ag_conn_bye(c, "not the node dialled");
	if (a->node != NULL && !a->stopping)
		weft_node_unreachable(a->node, uv_now(a->loop), c->want_pk);
	return -1;
}

void
ag_dial_conn_up(conn_t *c)
{
	const weft_cert_info_t *p = weft_sess_peer(c->s);

	if (c->dialer == NULL)
		return;
	memcpy(c->dialer->peer_pk, p->subject_pk, WEFT_PK_BYTES);
	c->dialer->peer_known = 1;
}

/* Forget node pk's refusals. */
static void
dial_forget(agent_t *a, const uint8_t *pk)
{
	ag_refusal_t *r = dial_refusal(a, pk);

	if (r != NULL)
		*r = a->refusals[--a->nrefusals];
}

void
ag_dial_conn_ok(conn_t *c)
{
	if (c->dialer != NULL)
		c->dialer->backoff_ms = AG_BACKOFF_MIN_MS;
	dial_forget(c->a, weft_sess_peer(c->s)->subject_pk);
}

void
ag_dial_conn_down(conn_t *c)
{
	agent_t *a = c->a;
	const weft_cert_info_t *p;
	char fold[64];

	if (a->stopping || c->s == NULL)
		return;
	if (!c->up) {
		/* a member dial connected, then its handshake failed: the
		 * node refuses us (or the network key differs); one we
		 * refused after it (ag_core_conn_up) was counted there */
		if (c->member_dial && !c->refused)
			(void)ag_dial_refused(a, c->want_pk, fold,
					      sizeof(fold));
		return;
	}
	p = weft_sess_peer(c->s);
	if (c->parted) /* the overlay let it go: no refusal */
		return;
	if (dial_lived(c)) {
		dial_forget(a, p->subject_pk);
		return;
	}
	if (ag_conn_find_peer(a, p->subject_pk, c) != NULL)
		return; /* a duplicate dropped: linked with it anyway */
	if (ag_dial_refused(a, p->subject_pk, fold, sizeof(fold)))
		ag_log("warn",
		       "session %s %s (node %s of org %s) ended before "
		       "its first message: refused%s",
		       c->outbound ? "to" : "from", c->addr, p->subject_name,
		       p->org_name, fold);
}

void
ag_dial_conn_closed(conn_t *c)
{
	dialer_t *d = c->dialer;

	if (d == NULL)
		return;
	d->conn = NULL;
	c->dialer = NULL;
	if (c->a->stopping)
		return;
	if (c->parted) {
		/* the seed let us go: a join contact from now on */
		d->parted = 1;
		d->backoff_ms = AG_BACKOFF_MIN_MS;
		ag_dial_schedule(d, AG_CONTACT_CHECK_MS);
		return;
	}
	ag_dial_schedule(d, d->backoff_ms);
	if (!dial_lived(c) && d->backoff_ms < d->a->o->backoff_max_ms)
		d->backoff_ms *= 2;
	if (d->backoff_ms > d->a->o->backoff_max_ms)
		d->backoff_ms = d->a->o->backoff_max_ms;
}
