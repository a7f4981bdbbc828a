/*
 * dial.c: outbound connections: the dialers of --join
 * addresses (redial with exponential backoff, 0.5 s to --backoff-max,
 * +-20% jitter, so restarted meshes do not dial in lockstep), and the
 * one-shot dials of members the node core asks for.
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

void
ag_dial_schedule(dialer_t *d, uint64_t ms)
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
	c->dialer->backoff_ms = AG_BACKOFF_MIN_MS;
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
	if (!c->up && d->backoff_ms < d->a->o->backoff_max_ms)
		d->backoff_ms *= 2;
	if (d->backoff_ms > d->a->o->backoff_max_ms)
		d->backoff_ms = d->a->o->backoff_max_ms;
}
