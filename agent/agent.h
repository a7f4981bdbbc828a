/*
 * agent.h: `weft agent`, the long-running node: the libuv driver of the
 * session cores (node/session.h), the listener, the dialers with their
 * reconnect backoff, the limits, the control socket and signals.
 *
 * The driver holds no protocol logic: it moves bytes and time between
 * sockets and the sans-IO cores and applies the connection caps.
 */
#ifndef WEFT_AGENT_AGENT_H
#define WEFT_AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/err.h"

#define WEFT_AGENT_JOIN_MAX 64
#define WEFT_AGENT_DEFAULT_PORT 7946

typedef struct weft_agent_opts {
	const char *dir;
	const char *listen;    /* HOST:PORT; port 0 picks a free one */
	const char *advertise; /* HOST:PORT told to peers; NULL: bound addr */
	const char *join[WEFT_AGENT_JOIN_MAX];
	size_t njoin;
	uint64_t hs_timeout_ms, keepalive_ms, idle_ms,
	    stall_ms;		       /* 0: default */
	size_t max_queue;	       /* per session, bytes; 0: default */
	unsigned max_conns;	       /* all connections; 0: default 1024 */
	unsigned max_per_addr;	       /* connections per remote IP; 0: 256 */
	unsigned max_pending_per_addr; /* handshaking per remote IP; 0: 16 */
	unsigned max_handshakes;       /* inbound handshaking in all, the
					* oldest evicted for a newcomer; 0:
					* min(128, max_conns / 2), at least
					* max_pending_per_addr */
	uint64_t backoff_max_ms;       /* redial backoff cap; 0: 30 s */
	uint64_t gossip_interval_ms;   /* gossip tick; 0: 1 s */
	uint64_t sync_ms;	       /* anti-entropy period; 0: 10 s */
	uint64_t suspect_ms; /* lost neighbour -> reported; 0: 3 intervals */
	unsigned degree;     /* neighbours to keep; 0: 4 */
	unsigned max_neighbours; /* the active view; 0: 2 * degree */
	uint64_t link_delay_ms;	 /* hold gossip messages this long before
				  * sending (WAN latency on one host); 0 */
	size_t cache_size;	 /* result cache, bytes; 0: 256 MiB */
	/* catalog quotas (docs/gossip.md); 0: the gossip core's defaults */
	unsigned catalog_max_entries, origin_max_entries, org_max_entries;
	size_t catalog_max_bytes;
	unsigned origin_rate; /* replacements a second */
	int no_cache;	      /* --cache-size 0: no result cache */
} weft_agent_opts_t;

/* Parse HOST:PORT or [IPV6]:PORT; a host name is resolved now (blocking:
 * for --listen, before the loop runs; dials resolve off the loop).
 * Errors: WEFT_EINVAL with a message naming the address. */
int weft_agent_parse_addr(const char *s, struct sockaddr_storage *sa,
			  weft_err_t *err);

/* Run until SIGINT or SIGTERM. Returns the process exit code (0 after a
 * clean shutdown, 1 if the agent could not start). Logs on stderr. */
int weft_agent_run(const weft_agent_opts_t *opts);

#endif
