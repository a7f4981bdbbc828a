/*
 * gossip_quota.c: how much of the catalog one origin and one org may
 * hold, and how fast they may replace it (issue 14, finding 1; docs/
 * gossip.md, "Quotas").
 *
 * A member is trusted to sign entries, not to fill the catalog: one
 * stolen node key pushing valid entries under every budget used to fill
 * the shared table, after which nothing honest was held or passed on.
 * Here every entry counts against its origin (the node key that signed
 * it) and its org (the trusted root its certificate chains to), in
 * entries and envelope bytes, and a neighbour's replacements of what an
 * origin already holds draw from token buckets per origin and per org.
 * An origin at its limit loses only its own newest entries; the others'
 * go on arriving. Orgs are keyed by their root's key, so there are at
 * most as many as there are trusted roots (and G_ORGS_MAX).
 *
 * Nothing here reads a clock: the caller passes its time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "node/gossip_int.h"

/* Defaults: a quarter of the table for one org, a tenth for one origin;
 * 20 replacements a second for an origin with a minute's burst, ten
 * times that for an org. */
#define Q_ENTRIES 100000
#define Q_BYTES ((size_t)256 << 20)
#define Q_ORIGIN_RATE 20.0
#define Q_BURST_S 60.0
#define Q_ORG_RATE_X 10.0

void
weft_gossip__quota_init(g_quota_t *q, const weft_gossip_cfg_t *cfg,
			const uint8_t self[WEFT_PK_BYTES])
{
	memset(q, 0, sizeof(*q));
	q->max_entries = cfg->max_entries ? cfg->max_entries : Q_ENTRIES;
	q->max_bytes = cfg->max_bytes ? cfg->max_bytes : Q_BYTES;
	q->origin_entries =
	    cfg->origin_entries ? cfg->origin_entries : q->max_entries / 10;
	q->origin_bytes =
	    cfg->origin_bytes ? cfg->origin_bytes : q->max_bytes / 10;
	q->org_entries =
	    cfg->org_entries ? cfg->org_entries : q->max_entries / 4;
	q->org_bytes = cfg->org_bytes ? cfg->org_bytes : q->max_bytes / 4;
	q->origin_rate = cfg->origin_rate ? cfg->origin_rate : Q_ORIGIN_RATE;
	q->org_rate = q->origin_rate * Q_ORG_RATE_X;
	q->origin_burst = q->origin_rate * Q_BURST_S;
	q->org_burst = q->org_rate * Q_BURST_S;
	memcpy(q->self, self, WEFT_PK_BYTES);
}

void
weft_gossip__quota_free(g_quota_t *q)
{
	for (size_t i = 0; i < q->norgs; i++)
		free(q->orgs[i]);
	free(q->orgs);
	q->orgs = NULL;
	q->norgs = 0;
}

/* Is org root pk our own org's? */
static int
q_own_org(const g_quota_t *q, const uint8_t *pk)
{
	return q->self_org_known && memcmp(pk, q->self_org, WEFT_PK_BYTES) == 0;
}

static g_org_t *
q_org(const g_quota_t *q, const uint8_t pk[WEFT_PK_BYTES])
{
	for (size_t i = 0; i < q->norgs; i++)
		if (memcmp(q->orgs[i]->pk, pk, WEFT_PK_BYTES) == 0)
			return q->orgs[i];
	return NULL;
}

/* Refill a bucket for the time since its last use; take one token if
 * there is one: 1, else 0 (nothing taken). */
static int
q_take(float *tokens, uint64_t *last_ms, int *rated, double rate, double burst,
       uint64_t now_ms, int take)
{
	if (!*rated) {
		*tokens = (float)burst;
		*rated = 1;
	} else if (now_ms > *last_ms) {
		double t =
		    *tokens + (double)(now_ms - *last_ms) * rate / 1000.0;

		*tokens = (float)(t > burst ? burst : t);
	}
	*last_ms = now_ms;
	if (*tokens < 1.0f)
		return 0;
	if (take)
		*tokens -= 1.0f;
	return 1;
}

/* The limits of one origin and one org, counts and bytes. */
static int
q_room(const g_quota_t *q, const g_origin_t *o, const g_org_t *org, int own_org,
       const weft_cert_info_t *s, int old, size_t grow, weft_err_t *err)
{
	size_t oh = o ? o->held : 0, ob = o ? o->bytes : 0;

	if (!old && oh >= q->origin_entries)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "gossip: node %s of org %s holds %zu "
				    "entries, its quota",
				    s->subject_name, s->org_name, oh);
	if (ob + grow > q->origin_bytes)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "gossip: node %s of org %s would hold "
				    "more than its quota of %zu bytes",
				    s->subject_name, s->org_name,
				    q->origin_bytes);
	if (own_org || org == NULL)
		return org == NULL && q->norgs >= G_ORGS_MAX
			   ? weft_err_set(err, WEFT_ETOOBIG,
					  "gossip: entries of %zu orgs held "
					  "already",
					  q->norgs)
			   : 0;
	if (!old && org->held >= q->org_entries)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "gossip: org %s holds %u entries, its "
				    "quota",
				    s->org_name, (unsigned)org->held);
	if (org->bytes + grow > q->org_bytes)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "gossip: org %s would hold more than its "
				    "quota of %zu bytes",
				    s->org_name, q->org_bytes);
	return 0;
}

int
weft_gossip__quota_full(g_quota_t *q, g_origin_t *o, int old, uint64_t now_ms)
{
	int own_org;

	if (o == NULL || o->org == NULL ||
	    memcmp(o->pk, q->self, WEFT_PK_BYTES) == 0)
		return 0;
	own_org = q_own_org(q, o->org->pk);
	if (!old)
		return o->held >= q->origin_entries ||
		       (!own_org && o->org->held >= q->org_entries);
	return !q_take(&o->tokens, &o->last_ms, &o->rated, q->origin_rate,
		       q->origin_burst, now_ms, 0);
}

int
weft_gossip__quota_admit(g_quota_t *q, size_t held, g_origin_t *o,
			 const weft_cert_info_t *s, int old, size_t old_len,
			 size_t len, int from_peer, uint64_t now_ms,
			 weft_err_t *err)
{
	size_t grow = old ? (len > old_len ? len - old_len : 0) : len;
	g_org_t *org = q_org(q, s->org_pk);
	int own_org, rc;

	if (!old && held >= q->max_entries)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "gossip: the catalog holds %zu entries, "
				    "its limit",
				    held);
	if (q->bytes + grow > q->max_bytes)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "gossip: the catalog would hold more than "
				    "its limit of %zu bytes",
				    q->max_bytes);
	if (memcmp(s->subject_pk, q->self, WEFT_PK_BYTES) == 0)
		return 0;
	own_org = q_own_org(q, s->org_pk);
	rc = q_room(q, o, org, own_org, s, old, grow, err);
	if (rc != 0 || !old || !from_peer || o == NULL)
		return rc;
	/* A neighbour's replacement: the origin's bucket, then the org's;
	 * a token is taken only when both have one. */
	if (!q_take(&o->tokens, &o->last_ms, &o->rated, q->origin_rate,
		    q->origin_burst, now_ms, 0))
		return weft_err_set(err, WEFT_EAGAIN,
				    "gossip: node %s of org %s replaces "
				    "entries faster than %.0f a second",
				    s->subject_name, s->org_name,
				    q->origin_rate);
	if (!own_org && org != NULL &&
	    !q_take(&org->tokens, &org->last_ms, &org->rated, q->org_rate,
		    q->org_burst, now_ms, 1))
		return weft_err_set(err, WEFT_EAGAIN,
				    "gossip: org %s replaces entries faster "
				    "than %.0f a second",
				    s->org_name, q->org_rate);
	o->tokens -= 1.0f;
	return 0;
}

void
weft_gossip__quota_charge(g_quota_t *q, g_origin_t *o,
			  const weft_cert_info_t *s, int old, size_t old_len,
			  size_t len)
{
	g_org_t *org = o->org;

	if (org == NULL && (org = q_org(q, s->org_pk)) == NULL &&
	    q->norgs < G_ORGS_MAX) {
		g_org_t **t = realloc(q->orgs, (q->norgs + 1) * sizeof(*t));

		if (t != NULL) {
			q->orgs = t;
			org = calloc(1, sizeof(*org));
		}
		if (org != NULL) {
			memcpy(org->pk, s->org_pk, WEFT_PK_BYTES);
			q->orgs[q->norgs++] = org;
		}
	}
	if (o->org == NULL && org != NULL) {
		/* what the origin held before it had an org (out of
		 * memory then) moves to its org now */
		org->held += o->held;
		org->bytes += o->bytes;
		o->org = org;
	}
	if (memcmp(s->subject_pk, q->self, WEFT_PK_BYTES) == 0 &&
	    !q->self_org_known) {
		memcpy(q->self_org, s->org_pk, WEFT_PK_BYTES);
		q->self_org_known = 1;
	}
	/* unsigned arithmetic: len - old_len wraps, the sums come right */
	o->held += !old;
	o->bytes += len - old_len;
	q->bytes += len - old_len;
	if (org != NULL) {
		org->held += !old;
		org->bytes += len - old_len;
	}
}

void
weft_gossip__quota_uncharge(g_quota_t *q, g_origin_t *o, size_t len)
{
	if (o->held > 0)
		o->held--;
	o->bytes -= len < o->bytes ? len : o->bytes;
	q->bytes -= len < q->bytes ? len : q->bytes;
	if (o->org != NULL) {
		if (o->org->held > 0)
			o->org->held--;
		o->org->bytes -= len < o->org->bytes ? len : o->org->bytes;
	}
}
