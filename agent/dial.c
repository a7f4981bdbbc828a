/*
 * dial.c: addresses and outbound connections: the dialers of --join
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

void
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

/* ---- dialers ---- */



static void
dial_timer_cb(uv_timer_t *t)
{
	dialer_t *d = t->data;

	if (d->a->stopping || d->conn != NULL)
		return;
	if (d->peer_known && ag_conn_find_peer(d->a, d->peer_pk, NULL) != NULL) {
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
			ag_log("info", "cannot reach %s: %s (retrying in "
				       "%.1f s)", c->addr, uv_strerror(status),
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
