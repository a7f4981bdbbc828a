/*
 * plan_policy.c: the asking node reads the owners' policies before it
 * asks (docs/policy.md, "At the asking node").
 *
 * A policy reaches the orgs it names by gossip, so the asker usually
 * holds the owner's POLICY entry in its catalog (verified when stored).
 * After planning, each remote scan is checked against the grant that
 * names this node, with the owner's own rules and messages: no grant; a
 * column read that is not granted, wherever the fragment uses it; a
 * non-aggregating scan, or a scan inside a pushed plan, under an
 * aggregates-only or noise grant. A query the owner would refuse fails
 * here, before anything is sent, and EXPLAIN shows each scan's grant.
 * This is a convenience, never the control: the owner re-checks every
 * fragment with its current policy, whatever the asker did (and an
 * asker whose catalog lacks a newer version learns it from the owner's
 * refusal).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "query/qint.h"
#include "storage/policy.h"
#include "storage/policy_store.h"

/* A line for EXPLAIN: what the grant does. */
static char *
pp_summary(const Weft__PolicyGrant *g, uint64_t version)
{
	char s[512];
	size_t n, i;

	n = (size_t)snprintf(s, sizeof(s), "version %llu, grant at line %u",
			     (unsigned long long)version, g->line);
	if (g->n_columns > 0 && n < sizeof(s))
		n += (size_t)snprintf(s + n, sizeof(s) - n, "; columns %zu",
				      g->n_columns);
	if (g->n_deny > 0 && n < sizeof(s))
		n += (size_t)snprintf(s + n, sizeof(s) - n, "; deny %zu",
				      g->n_deny);
	for (i = 0; i < g->n_masks && n < sizeof(s); i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%s %s",
				      i ? ", " : "; masks: ",
				      g->masks[i]->column, g->masks[i]->kind);
	if (g->rows != NULL && g->rows[0] != 0 && n < sizeof(s))
		n += (size_t)snprintf(s + n, sizeof(s) - n,
				      "; rows filtered at the owner");
	if (g->aggregate != NULL && n < sizeof(s))
		n += (size_t)snprintf(
		    s + n, sizeof(s) - n, "; aggregates only, groups of %llu+",
		    (unsigned long long)g->aggregate->min_group);
	if (g->noise != NULL && n < sizeof(s))
		n += (size_t)snprintf(s + n, sizeof(s) - n,
				      "; noise, epsilon %g a query",
				      g->noise->epsilon);
	(void)n;
	return strdup(s);
}

/* Check one scan f of owner r (in_plan: inside a pushed plan). */
static int
pp_scan(weft_snapshot_t *snap, const weft_mesh_t *m, const wq_frag_t *f,
	weft_remote_t *r, bool in_plan, weft_err_t *err)
{
	weft_requester_t me = {m->self_org, m->self, m->self_roles,
			       m->self_nroles};
	const Weft__PolicyGrant *g;
	Weft__Policy *p = NULL;
	uint64_t version = 0;
	uint32_t i;
	int rc;

	rc = weft_snapshot_policy(snap, r->node_pk, f->product, &p, &version,
				  err);
	if (rc != 0 || p == NULL) {
		memset(err, 0, sizeof(*err)); /* unreadable: the owner judges */
		return 0;
	}
	g = weft_policy_grant(p, &me, weft_now_us());
	if (g == NULL) {
		rc = weft_err_set(err, WEFT_EDENIED,
				  "%s.%s on node %s: its policy (version %llu) "
				  "grants this node (org %s) nothing",
				  r->org, f->product, r->node,
				  (unsigned long long)version,
				  m->self_org ? m->self_org : "?");
		goto out;
	}
	for (i = 0; f->colnames != NULL && i < f->ncols; i++)
		if (f->colnames[i] != NULL &&
		    !weft_policy_allows(g, f->colnames[i])) {
			rc = wq_policy_deny_column(err, f->product,
						   f->colnames[i], m->self_org,
						   version, g->line);
			goto out;
		}
	if ((g->aggregate != NULL || g->noise != NULL) && f->profile &&
	    !in_plan) {
		rc = wq_policy_profile(f, g, version, NULL, err);
		if (rc != 0)
			goto out;
	} else if ((g->aggregate != NULL || g->noise != NULL) &&
		   (in_plan || !f->agg)) {
		rc = wq_policy_deny_rows(err, f->product, g->line, version,
					 in_plan);
		goto out;
	}
	free(r->policy);
	r->policy = pp_summary(g, version);
out:
	weft__policy__free_unpacked(p, NULL);
	return rc;
}

static int
pp_walk(weft_snapshot_t *snap, const weft_mesh_t *m, wq_plan_t *p,
	weft_remote_t *owner, bool in_plan, weft_err_t *err)
{
	int rc;

	if (p == NULL)
		return 0;
	if (p->kind == WQ_REMOTE)
		return pp_walk(snap, m, p->sub, p->remote, true, err);
	if (p->kind == WQ_SCAN) {
		weft_remote_t *r = p->remote ? p->remote : owner;

		return r != NULL && p->frag != NULL
			   ? pp_scan(snap, m, p->frag, r, in_plan, err)
			   : 0;
	}
	rc = pp_walk(snap, m, p->l, owner, in_plan, err);
	return rc ? rc : pp_walk(snap, m, p->r, owner, in_plan, err);
}

int
wq_plan_policy(weft_snapshot_t *snap, const weft_mesh_t *m, wq_plan_t *p,
	       weft_err_t *err)
{
	if (m == NULL || m->policy_blind || m->self == NULL)
		return 0;
	return pp_walk(snap, m, p, NULL, false, err);
}
