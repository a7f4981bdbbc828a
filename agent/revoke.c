/*
 * revoke.c: what the agent does when the node core accepts a revocation
 * (issue 14, finding 9; docs/gossip.md, "Revocation"): remember the
 * (node key, org root) pair so every trust snapshot from now on refuses
 * the node's certificate (handshakes, entries, query askers), hand the
 * core that snapshot, close the sessions we have with the node, and
 * delete its entries from the store on the worker pool (O(its entries),
 * not on the loop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "crypto/revoke.h"
#include "lib/util.h"
#include "storage/catalog.h"

typedef struct rv_job {
	weft_pool_job_t job;
	agent_t *a;
	uint8_t pk[WEFT_PK_BYTES];
	size_t dropped;
	int rc;
	weft_err_t err;
} rv_job_t;

static void
rv_work(weft_pool_job_t *j)
{
	rv_job_t *r = j->arg;

	r->rc = weft_catalog_drop_origin(r->a->st, r->pk, &r->dropped, &r->err);
}

static void
rv_done(weft_pool_job_t *j)
{
	rv_job_t *r = j->arg;
	char hex[2 * WEFT_PK_BYTES + 1];

	weft_hex(r->pk, WEFT_PK_BYTES, hex);
	if (j->cancelled)
		;
	else if (r->rc != 0)
		ag_log("error",
		       "dropping the entries of revoked node %.16s...: %s", hex,
		       r->err.msg);
	else if (r->dropped > 0)
		ag_log("info",
		       "catalog: dropped %zu stored entr%s of revoked node "
		       "%.16s...",
		       r->dropped, r->dropped == 1 ? "y" : "ies", hex);
	free(r);
}

/* Add k to a->revoked (sorted, once): 1 added, 0 held already, -1 out of
 * memory. */
static int
rv_add(agent_t *a, const weft_revoked_t *k)
{
	size_t lo = 0, hi = a->nrevoked;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = weft_revoked_cmp(&a->revoked[mid], k);

		if (c == 0)
			return 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (a->nrevoked == a->revoked_cap) {
		size_t cap = a->revoked_cap ? 2 * a->revoked_cap : 8;
		weft_revoked_t *r = realloc(a->revoked, cap * sizeof(*r));

		if (r == NULL)
			return -1;
		a->revoked = r;
		a->revoked_cap = cap;
	}
	memmove(&a->revoked[lo + 1], &a->revoked[lo],
		(a->nrevoked - lo) * sizeof(*k));
	a->revoked[lo] = *k;
	a->nrevoked++;
	return 1;
}

/* Close our sessions with the revoked node; how many. */
static unsigned
rv_close_sessions(agent_t *a, const weft_revoked_t *k, char *name,
		  size_t namecap)
{
	conn_t *c, *next;
	unsigned n = 0;

	for (c = a->conns; c != NULL; c = next) {
		const weft_cert_info_t *p;

		next = c->next;
		if (!c->up || c->closing || c->s == NULL ||
		    (p = weft_sess_peer(c->s)) == NULL ||
		    memcmp(p->subject_pk, k->subject, WEFT_PK_BYTES) != 0 ||
		    memcmp(p->org_pk, k->org, WEFT_PK_BYTES) != 0)
			continue;
		snprintf(name, namecap, "%s", p->subject_name);
		ag_conn_bye(c, "your certificate was revoked");
		n++;
	}
	return n;
}

void
ag_revoke(agent_t *a, const weft_out_t *o)
{
	weft_revoked_t k;
	char hex[2 * WEFT_PK_BYTES + 1], name[WEFT_NAME_MAX + 1];
	ag_trust_t *tr;
	rv_job_t *r;
	unsigned closed;

	if (o->env == NULL || o->env_len != WEFT_PK_BYTES)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(name) - 1,
		 o->addr[0] ? o->addr : "?");
	memcpy(k.subject, o->pk, WEFT_PK_BYTES);
	memcpy(k.org, o->env, WEFT_PK_BYTES);
	if (rv_add(a, &k) < 0) {
		ag_log("error", "revocation: out of memory");
		return;
	}
	if ((tr = ag_trust_get(a)) != NULL) {
		weft_node_set_trust(a->node, &tr->t);
		ag_trust_put(a->gtrust);
		a->gtrust = tr;
	}
	weft_hex(k.subject, WEFT_PK_BYTES, hex);
	if (!o->n) { /* another org's root: it revokes nothing of this */
		ag_log("info",
		       "a revocation of node key %.16s... by org %s, which "
		       "did not certify the node we know: noted, nothing "
		       "dropped",
		       hex, o->org);
		return;
	}
	closed = rv_close_sessions(a, &k, name, sizeof(name));
	if (memcmp(k.subject, a->id.kp->pk, WEFT_PK_BYTES) == 0)
		ag_log("error",
		       "this node's certificate was revoked by org %s%s%s: "
		       "the mesh refuses it from now on",
		       o->org, o->text[0] ? ": " : "", o->text);
	else
		ag_log("warn",
		       "node %s (key %.16s...) revoked by org %s%s%s: %u "
		       "session%s closed, its certificate refused from now on",
		       name, hex, o->org, o->text[0] ? ": " : "", o->text,
		       closed, closed == 1 ? "" : "s");
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return;
	r->a = a;
	memcpy(r->pk, k.subject, WEFT_PK_BYTES);
	r->job.work = rv_work;
	r->job.done = rv_done;
	r->job.arg = r;
	/* on the catalog writer's thread: after the entries queued there,
	 * before any handed over later */
	ag_catw_flush(a);
	if (a->wpool == NULL || weft_pool_submit(a->wpool, &r->job) != 0) {
		/* busy: the next start's first scan offers them again and
		 * the core refuses them; say so */
		ag_log("warn",
		       "worker pool busy: entries of revoked node %.16s... "
		       "stay stored until the next revocation or start",
		       hex);
		free(r);
	}
}
