/*
 * addr.c: addresses: parsing HOST:PORT and [V6]:PORT, formatting a
 * socket address for logs and comparisons, and resolving host names.
 *
 * Invariants (issue 14, finding 10: getaddrinfo blocked the loop):
 * - An IP literal takes the fast path (inet_pton), no resolver at all.
 * - A host name to dial while the agent runs is resolved by
 *   uv_getaddrinfo on libuv's thread pool (ag_resolve), at most
 *   AG_RESOLVE_MAX at once; only weft_agent_parse_addr (--listen, before
 *   the loop runs) resolves in the calling thread.
 * - Every resolution started calls its callback exactly once, on the
 *   loop thread; at shutdown the queued ones are cancelled
 *   (UV_ECANCELED), one already running ends first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"

/* A resolution under way (in a->resolving). */
typedef struct ag_resolve {
	uv_getaddrinfo_t req;
	agent_t *a;
	struct ag_resolve *prev, *next;
	ag_resolved_cb cb;
	void *arg;
	uint16_t port;
} ag_resolve_t;

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

/* Split s into host (brackets removed) and port. 0 or WEFT_EINVAL. */
static int
addr_split(const char *s, char *host, size_t hn, uint16_t *port,
	   weft_err_t *err)
{
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long p;

	colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return weft_err_set(err, WEFT_EINVAL, "\"%s\": want HOST:PORT",
				    s);
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return weft_err_set(err, WEFT_EINVAL,
					    "\"%s\": want [IPV6]:PORT", s);
		h = s + 1;
		hl -= 2;
	}
	if (hl >= hn)
		return weft_err_set(err, WEFT_EINVAL, "\"%s\": host too long",
				    s);
	memcpy(host, h, hl);
	host[hl] = 0;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == 0 || *end || errno || p < 0 || p > 65535)
		return weft_err_set(err, WEFT_EINVAL,
				    "\"%s\": port must be 0..65535", s);
	*port = (uint16_t)p;
	return 0;
}

/* 1 and *sa filled if host is an IPv4 or IPv6 literal, else 0. */
static int
addr_numeric(const char *host, uint16_t port, struct sockaddr_storage *sa)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return 1;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return 1;
	}
	memset(sa, 0, sizeof(*sa));
	return 0;
}

/* The first address of res with port set into sa: 0, or -1 if none is
 * IPv4 or IPv6. */
static int
addr_take(const struct addrinfo *res, uint16_t port,
	  struct sockaddr_storage *sa)
{
	for (; res != NULL; res = res->ai_next) {
		if (res->ai_family != AF_INET && res->ai_family != AF_INET6)
			continue;
		if (res->ai_addrlen > sizeof(*sa))
			continue;
		memset(sa, 0, sizeof(*sa));
		memcpy(sa, res->ai_addr, res->ai_addrlen);
		if (sa->ss_family == AF_INET)
			((struct sockaddr_in *)sa)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
		return 0;
	}
	return -1;
}

int
ag_addr_parse(const char *s, struct sockaddr_storage *sa, weft_err_t *err)
{
	char host[256];
	uint16_t port;
	int rc;

	memset(sa, 0, sizeof(*sa));
	rc = addr_split(s, host, sizeof(host), &port, err);
	if (rc != 0)
		return rc;
	if (host[0] == 0)
		return weft_err_set(err, WEFT_EINVAL, "\"%s\": no host", s);
	return addr_numeric(host, port, sa) ? 0 : 1;
}

int
weft_agent_parse_addr(const char *s, struct sockaddr_storage *sa,
		      weft_err_t *err)
{
	char host[256];
	uint16_t port;
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(sa, 0, sizeof(*sa));
	rc = addr_split(s, host, sizeof(host), &port, err);
	if (rc != 0 || addr_numeric(host, port, sa))
		return rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL || addr_take(res, port, sa) != 0) {
		if (res != NULL)
			freeaddrinfo(res);
		return weft_err_set(err, WEFT_EINVAL,
				    "\"%s\": cannot resolve %s: %s", s, host,
				    rc != 0 ? gai_strerror(rc) : "no address");
	}
	freeaddrinfo(res);
	return 0;
}

/* ---- resolution off the loop ---- */

static void
addr_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	ag_resolve_t *r = req->data;
	agent_t *a = r->a;
	struct sockaddr_storage sa;

	if (r->prev)
		r->prev->next = r->next;
	else
		a->resolving = r->next;
	if (r->next)
		r->next->prev = r->prev;
	a->nresolving--;
	memset(&sa, 0, sizeof(sa));
	if (status == 0 && addr_take(res, r->port, &sa) != 0)
		status = UV_EAI_NODATA;
	if (a->stopping && status == 0)
		status = UV_ECANCELED;
	if (res != NULL)
		uv_freeaddrinfo(res);
	r->cb(a, r->arg, status, &sa);
	free(r);
}

int
ag_resolve(agent_t *a, const char *s, ag_resolved_cb cb, void *arg)
{
	struct addrinfo hints;
	weft_err_t err = {0};
	char host[256];
	ag_resolve_t *r;

	if (a->stopping || a->nresolving >= AG_RESOLVE_MAX)
		return -1;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	if (addr_split(s, host, sizeof(host), &r->port, &err) != 0 ||
	    host[0] == 0) {
		free(r);
		return -1;
	}
	r->a = a;
	r->cb = cb;
	r->arg = arg;
	r->req.data = r;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (uv_getaddrinfo(a->loop, &r->req, addr_resolved, host, NULL,
			   &hints) != 0) {
		free(r);
		return -1;
	}
	r->next = a->resolving;
	if (a->resolving)
		a->resolving->prev = r;
	a->resolving = r;
	a->nresolving++;
	return 0;
}

void
ag_resolve_stop(agent_t *a)
{
	ag_resolve_t *r;

	for (r = a->resolving; r != NULL; r = r->next)
		(void)uv_cancel((uv_req_t *)&r->req);
}
