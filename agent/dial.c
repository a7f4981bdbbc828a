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

static void
dial_timer_cb(uv_timer_t *t)
{
	dialer_t *d = t->data;

	if (d->a->stopping || d->conn != NULL)
		return;
	if (d->peer_known &&
	    ag_conn_find_peer(d->a, d->peer_pk, NULL) != NULL) {
		/* Already linked (the peer dialled us): look again later. */
		ag_dial_schedule(d, d->a->o->backoff_max_ms);
		return;
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

void
ag_dial_now(dialer_t *d)
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

/* Dial a member the gossip core asked for (no redial: it decides). */
void
ag_dial_addr(agent_t *a, const char *addr, const uint8_t *pk)
{
	struct sockaddr_storage sa;
	char norm[AG_ADDR_MAX];
	weft_err_t err = {0};
	ag_refusal_t *r;
	conn_t *c;

	if (a->stopping || weft_agent_parse_addr(addr, &sa, &err) != 0)
		return;
	r = dial_refusal(a, pk);
	if (r != NULL && uv_now(a->loop) < r->until) {
		/* its sessions are refused: a failed dial, until the wait is
		 * over */
		weft_node_unreachable(a->node, uv_now(a->loop), pk);
		return;
	}
	ag_fmt_addr((struct sockaddr *)&sa, norm, sizeof(norm), NULL, 0);
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
	ag_fmt_addr((struct sockaddr *)&sa, c->addr, sizeof(c->addr), c->ip,
		    sizeof(c->ip));
	c->connect.data = c;
	if (uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&sa,
			   ag_member_connected) != 0) {
		weft_node_unreachable(a->node, uv_now(a->loop), pk);
		ag_conn_close(c);
	}
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
	ag_dial_schedule(d, d->backoff_ms);
	if (!dial_lived(c) && d->backoff_ms < d->a->o->backoff_max_ms)
		d->backoff_ms *= 2;
	if (d->backoff_ms > d->a->o->backoff_max_ms)
		d->backoff_ms = d->a->o->backoff_max_ms;
}
