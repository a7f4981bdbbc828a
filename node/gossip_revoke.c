/*
 * gossip_revoke.c: what the gossip core does with a revocation (issue 14,
 * finding 9; docs/gossip.md, "Revocation").
 *
 * A revocation (crypto/revoke.h) is an ordinary catalog entry: any node
 * may carry it, it spreads over the broadcast tree and by anti-entropy
 * (first among the entries of a round), it crosses org boundaries, and
 * the newest per (carrier, subject) is held. Its body is the revoking
 * org root's statement, checked against our trusted roots before the
 * entry is held. Once held, the subject's entries signed under that root
 * are dropped here and refused from now on, and the driver is told
 * (WEFT_OUT_REVOKE) so it closes the subject's sessions and refuses its
 * certificate in handshakes (weft_trust_t.revoked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/revoke.h"
#include "node/gossip_int.h"

int
weft_gossip__revoked(const g_origin_t *o, const uint8_t *org_pk)
{
	if (o == NULL || o->revoked_by == NULL)
		return 0;
	if (org_pk == NULL)
		org_pk = o->org != NULL ? o->org->pk : NULL;
	return org_pk != NULL &&
	       memcmp(org_pk, o->revoked_by, WEFT_PK_BYTES) == 0;
}

/* Drop every entry of origin o but revocations (what it carried of other
 * roots' still stands). O(table), once per origin revoked: only origins
 * we hold entries of get here, so made-up subjects cost nothing. */
static void
revoke_drop_origin(weft_gossip_t *g, g_origin_t *o)
{
	g_entry_t *e, *next;
	size_t i;

	for (i = 0; i < g->nb && o->held > 0; i++)
		for (e = g->tab[i]; e != NULL; e = next) {
			next = e->next;
			if (e->orig == o && e->kind != WEFT_ENTRY_REVOCATION)
				weft_gossip__drop(g, e);
		}
}

int
weft_gossip__revoke(weft_gossip_t *g, const weft_revocation_t *rv)
{
	g_origin_t *o = NULL;
	const g_entry_t *rec = weft_gossip__node(g, rv->key.subject);
	char name[WEFT_NAME_MAX + 1] = "";
	weft_out_t *out;
	int known;

	if (rec != NULL) /* its name, for the driver's log line */
		snprintf(name, sizeof(name), "%s", rec->node);

	/* ourselves: the others refuse us now; we keep what we hold, and
	 * the driver says so */
	if (memcmp(rv->key.subject, g->self, WEFT_PK_BYTES) == 0)
		goto tell;
	o = weft_gossip__origin(g, rv->key.subject, 1);
	if (o == NULL)
		return WEFT_ENOMEM;
	known = o->revoked_by != NULL &&
		memcmp(o->revoked_by, rv->key.org, WEFT_PK_BYTES) == 0;
	/* the root that matters is the origin's own (a root revokes only
	 * what it issued): a revocation by another root never displaces
	 * one by the origin's */
	if (o->revoked_by == NULL) {
		if ((o->revoked_by = malloc(WEFT_PK_BYTES)) == NULL)
			return WEFT_ENOMEM;
		memcpy(o->revoked_by, rv->key.org, WEFT_PK_BYTES);
	} else if (o->org != NULL &&
		   memcmp(o->org->pk, rv->key.org, WEFT_PK_BYTES) == 0) {
		memcpy(o->revoked_by, rv->key.org, WEFT_PK_BYTES);
	}
	if (weft_gossip__revoked(o, NULL) || (o->org == NULL && o->held > 0))
		revoke_drop_origin(g, o);
	g->st.entries = g->n;
	if (known)
		return 0; /* another carrier of the same: told already */
tell:
	out = weft_gossip__out(g, WEFT_OUT_REVOKE);
	if (out == NULL)
		return 0;
	memcpy(out->pk, rv->key.subject, WEFT_PK_BYTES);
	snprintf(out->addr, sizeof(out->addr), "%s", name);
	/* n: 1 when the revoking root is the one of the entries we hold of
	 * it (or we hold none): the driver drops what it stored */
	out->n = o == NULL || o->org == NULL ||
		 memcmp(o->org->pk, rv->key.org, WEFT_PK_BYTES) == 0;
	out->env = malloc(WEFT_PK_BYTES);
	if (out->env != NULL) {
		memcpy(out->env, rv->key.org, WEFT_PK_BYTES);
		out->env_len = WEFT_PK_BYTES;
	}
	{
		size_t l = strnlen(rv->org_name, sizeof(out->org) - 1);

		memcpy(out->org, rv->org_name, l);
		out->org[l] = 0;
	}
	snprintf(out->text, sizeof(out->text), "%s", rv->reason);
	return 0;
}
