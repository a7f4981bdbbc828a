/*
 * addr.c: addresses: parsing HOST:PORT and [V6]:PORT (a host name is
 * resolved, blocking: only at start and for member dials), and
 * formatting a socket address for logs and comparisons.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
			return weft_err_set(err, WEFT_EINVAL,
					    "\"%s\": want "
					    "[IPV6]:PORT",
					    s);
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
		return weft_err_set(err, WEFT_EINVAL,
				    "\"%s\": port must be "
				    "0..65535",
				    s);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL)
		return weft_err_set(err, WEFT_EINVAL,
				    "\"%s\": cannot resolve "
				    "%s: %s",
				    s, host, gai_strerror(rc));
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (sa->ss_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
	return 0;
}

/* ---- dialers ---- */
