/*
 * recheck.c: sessions re-checked after their handshake (issue 14,
 * finding 9). A handshake checks the peer's certificate once; what it
 * relied on can change while the session lives: the certificate
 * expires, or `weft trust remove` (or `trust add --via-gateway`) takes
 * the peer's org away. Every tick of the node core (core.c), against
 * the roots just re-read from the store, each session up is checked
 * again and closed, with a line in the log, when
 *   - its peer's certificate expired (not_after before now),
 *   - the org root that signed it is no longer trusted (matched by key
 *     and name, as weft_cert_verify does), or
 *   - that org is now reached only gateway to gateway and the session
 *     is not one (weft_node_may_link, as when it came up).
 * O(sessions x roots) memory compares a tick; no I/O, no signature.
 *
 * The closed peer does not come back in a loop: a redial (ours, or its
 * own) is refused by the handshake, and refused sessions back off
 * (dial.c); its member dials are held at once by a refusal record.
 * Sessions inside tunnels are re-checked by the tunnel core itself
 * (node/tunnel.c, t_stale: revoked, root gone, expired; every tick).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent_int.h"
#include "lib/util.h"

/* Why session c may not stay: 1 with the log's words in why and the
 * peer's (its Goodbye) in *bye; 0 if it may. */
static int
recheck_why(agent_t *a, conn_t *c, int64_t now, char *why, size_t n,
	    const char **bye)
{
	const weft_cert_info_t *p = weft_sess_peer(c->s);
	struct tm tm;
	time_t t;
	char at[32];

	if (p->not_after < now) {
		t = (time_t)p->not_after;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(at, sizeof(at), "%lld",
				 (long long)p->not_after);
		snprintf(why, n, "its certificate expired at %s", at);
		*bye = "your certificate expired";
		return 1;
	}
	if (a->gtrust != NULL && !weft_trust_has_root(&a->gtrust->t, p)) {
		snprintf(why, n, "org %s is no longer trusted", p->org_name);
		*bye = "your org is no longer trusted";
		return 1;
	}
	if (a->node != NULL &&
	    !weft_node_may_link(a->node, p->org_name, ag_is_gateway(p))) {
		snprintf(why, n, "org %s is now reached only through gateways",
			 p->org_name);
		*bye = "org reached only through gateways";
		return 1;
	}
	return 0;
}

void
ag_recheck(agent_t *a)
{
	int64_t now = weft_now_s();
	conn_t *c, *next;
	uint8_t pk[WEFT_PK_BYTES];
	char why[128], fold[64];
	const char *bye = NULL;

	if (a->stopping)
		return;
	for (c = a->conns; c != NULL; c = next) {
		const weft_cert_info_t *p;

		/* closing c may add dials at the head of the list, never
		 * free a conn (that waits for its handles' callbacks) */
		next = c->next;
		if (!c->up || c->closing || c->s == NULL ||
		    !recheck_why(a, c, now, why, sizeof(why), &bye))
			continue;
		p = weft_sess_peer(c->s);
		memcpy(pk, p->subject_pk, WEFT_PK_BYTES);
		ag_log("warn", "session with node %s (org %s) closed: %s",
		       p->subject_name, p->org_name, why);
		ag_conn_bye(c, bye);
		/* after the close (which forgets a session that lived):
		 * hold its member dials, which the handshake would refuse */
		(void)ag_dial_refused(a, pk, fold, sizeof(fold));
	}
}
