/*
 * gossip.c: membership and catalog dissemination (see gossip.h and
 * docs/gossip.md).
 *
 * Data: a hash table of held entries keyed by (kind, origin, name) (each
 * with its envelope bytes and a 16-byte hash of kind|origin|name|version|
 * tombstone), a table of per-origin digests (XOR of that origin's entry
 * hashes, and a count) and the root (XOR of all). XOR makes every digest
 * order-independent and updatable in O(1) when an entry is replaced. An
 * origin can only steer its own digest (entries are signed by their
 * origin), so a crafted collision hides nothing but the crafter's entries.
 *
 * Outputs are queued in `out` and handed over by weft_gossip_poll. SEND
 * messages own copies of the entries they push, but summaries and digests
 * borrow the root and origin hashes: send them before the next call that
 * may change the catalog (the agent sends each as it polls).
 */
#include "node/gossip.h"
#include "node/gossip_int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <xxhash.h>

#include "crypto/revoke.h"
#include "lib/util.h"
#include "storage/entry.h"

const char weft_gossip__empty[1];

/* ---- small helpers ---- */

static int
g_grow(weft_gossip_t *g)
{
	size_t nb = g->nb ? g->nb * 2 : 16, i;
	g_entry_t **t = calloc(nb, sizeof(*t)), *e, *next;

	if (t == NULL)
		return WEFT_ENOMEM;
	for (i = 0; i < g->nb; i++)
		for (e = g->tab[i]; e; e = next) {
			size_t b = weft_gossip__bucket(e->key, nb);

			next = e->next;
			e->next = t[b];
			t[b] = e;
		}
	free(g->tab);
	g->tab = t;
	g->nb = nb;
	return 0;
}

g_peer_t *
weft_gossip__peer(weft_gossip_t *g, uint64_t id)
{
	size_t i;

	for (i = 0; i < g->npeers; i++)
		if (g->peers[i].id == id)
			return &g->peers[i];
	return NULL;
}

/* ---- trust boundaries ---- */

/* ---- messages ---- */

/* ---- the broadcast tree (Plumtree; docs/gossip.md) ---- */

static int
g_is_told(const g_entry_t *e, uint64_t peer)
{
	unsigned i;

	for (i = 0; i < e->ntold; i++)
		if (e->told[i] == peer)
			return 1;
	return 0;
}

/* Remember that peer holds e's version (the first G_TOLD of them). */
static void
g_told(g_entry_t *e, uint64_t peer)
{
	if (e->ntold < G_TOLD && !g_is_told(e, peer))
		e->told[e->ntold++] = peer;
}

/*
 * p holds e's version (it pushed or announced it to us): remember it,
 * and strike it from what we were about to announce to p. The scan is
 * bounded; past it the told list still catches most.
 */
static void
g_heard(g_peer_t *p, g_entry_t *e)
{
	size_t i, n = p->lqn < 256 ? p->lqn : 256;

	g_told(e, p->id);
	for (i = 0; i < n; i++)
		if (p->lq[i].version == e->version &&
		    memcmp(p->lq[i].key, e->key, G_HASH) == 0)
			p->lq[i].version = 0;
}

/* Queue a lazy announcement of e to p, sent at the next tick. */
static void
g_lazy_add(weft_gossip_t *g, g_peer_t *p, const g_entry_t *e)
{
	if (p->lqn == p->lqcap) {
		size_t cap = p->lqcap ? p->lqcap * 2 : 8;
		g_lazy_t *q;

		if (p->lqn >= G_LAZY_MAX) { /* anti-entropy will do */
			g->st.lazy_dropped++;
			return;
		}
		q = realloc(p->lq, cap * sizeof(*q));
		if (q == NULL)
			return;
		p->lq = q;
		p->lqcap = cap;
	}
	memcpy(p->lq[p->lqn].key, e->key, G_HASH);
	p->lq[p->lqn].version = e->version;
	p->lqn++;
}

/* Send p the lazy announcements queued for it that it may still lack. */
static void
g_flush_lazy(weft_gossip_t *g, g_peer_t *p)
{
	Weft__WireMessage *m;
	ProtobufCBinaryData *keys;
	uint64_t *versions;
	uint8_t *bytes;
	size_t i, k = 0;

	if (p->lqn == 0)
		return;
	m = weft_gossip__keys_msg(p->lqn, 1, &keys, &versions, &bytes);
	for (i = 0; m != NULL && i < p->lqn; i++) {
		g_entry_t *e = weft_gossip__find_key(g, p->lq[i].key);

		if (e == NULL || e->version != p->lq[i].version ||
		    g_is_told(e, p->id) || !weft_gossip__visible(g, e, p))
			continue;
		g_told(e, p->id);
		memcpy(bytes + k * G_HASH, e->key, G_HASH);
		keys[k].data = bytes + k * G_HASH;
		keys[k].len = G_HASH;
		versions[k] = e->version;
		k++;
	}
	p->lqn = 0;
	if (m == NULL)
		return;
	if (k == 0) {
		weft_gossip_msg_free(m);
		return;
	}
	m->ihave->n_keys = m->ihave->n_versions = k;
	g->st.ihaves_out++;
	weft_gossip__send(g, p->id, m);
}

static void
g_prune(weft_gossip_t *g, g_peer_t *p)
{
	Weft__WireMessage *m = calloc(1, sizeof(*m));
	Weft__GossipPrune *pr = calloc(1, sizeof(*pr));

	p->lazy = 1;
	if (m == NULL || pr == NULL) {
		free(m);
		free(pr);
		return;
	}
	weft__wire_message__init(m);
	weft__gossip_prune__init(pr);
	m->msg_case = WEFT__WIRE_MESSAGE__MSG_PRUNE;
	m->prune = pr;
	g->st.prunes_out++;
	weft_gossip__send(g, p->id, m);
}

/* Push e alone to p, which then holds it; log it if it crosses orgs. */
static void
g_push_one(weft_gossip_t *g, g_peer_t *p, g_entry_t *e, int repair)
{
	weft_gossip__push(g, p->id, &e, 1, repair);
	g_told(e, p->id);
	if (p->cross)
		weft_gossip__note(g, e, p);
}

/*
 * Pass a newly held entry on: pushed along the broadcast tree (eager
 * neighbours), announced at the next tick to the others; an urgent one
 * during a flood (weft_gossip__urgent) pushed to those too, as repair, which
 * neither grafts nor prunes: the tree stays the bulk's. Our own entries
 * go out even if every link was pruned: one neighbour is put back on
 * the tree. With partial membership, our own record goes to every
 * neighbour and other records nowhere.
 */
static void
g_forward(weft_gossip_t *g, g_entry_t *e, uint64_t from)
{
	int local = !weft_gossip__shared(g, e), pushed = 0;
	int all = !local && weft_gossip__loud(g) && weft_gossip__urgent(g, e);
	size_t i, seen = 0;
	g_peer_t *pick = NULL;

	if (local && memcmp(e->origin, g->self, WEFT_PK_BYTES) != 0)
		return;
	for (i = 0; i < g->npeers; i++) {
		g_peer_t *p = &g->peers[i];

		if (p->id == from || !weft_gossip__visible(g, e, p))
			continue;
		if (p->lazy && all) {
			g_push_one(g, p, e, 1);
			continue;
		}
		if (p->lazy && !local) {
			g_lazy_add(g, p, e);
			if (weft_gossip__rand(g) % ++seen == 0)
				pick = p;
			continue;
		}
		/* what came by repair goes on as repair: it says nothing of
		 * the tree, so its duplicates must not prune */
		g_push_one(g, p, e, local || !e->via_tree);
		pushed = 1;
	}
	if (!pushed && from == 0 && pick != NULL) {
		pick->lazy = 0;
		g_push_one(g, pick, e, 0);
	}
}

/* ---- accepting entries ---- */

static void
g_hex(const uint8_t *pk, char out[2 * WEFT_PK_BYTES + 1])
{
	weft_hex(pk, WEFT_PK_BYTES, out);
}

/* A report that still counts: not dropped, not expired. */
static int
g_rep_live(const g_entry_t *e, int64_t now_us)
{
	return !e->tombstone && e->expires_at > now_us;
}

/* The highest subject_version of the live reports about pk. */
static uint64_t
g_cover(const weft_gossip_t *g, const uint8_t *pk, int64_t now_us)
{
	uint64_t best = 0;
	size_t i;

	for (i = 0; i < g->nreps; i++) {
		const g_entry_t *e = g->reps[i];

		if (g_rep_live(e, now_us) &&
		    memcmp(e->subject, pk, WEFT_PK_BYTES) == 0 &&
		    e->subject_version > best)
			best = e->subject_version;
	}
	return best;
}

/* Is the node of record n failed: reported at its version or later,
 * and no session with it (direct evidence outvotes any report)? */
static int
g_failed(const weft_gossip_t *g, const g_entry_t *n)
{
	return n->failed_cover >= n->version &&
	       !weft_gossip__connected(g, n->origin);
}

/*
 * Reports that expired since the last sweep are forgotten (issue 14,
 * finding 10: a node that joined later refuses them as expired, and
 * held they kept two nodes' digests apart for ever); their subjects'
 * marks are worked out again from the reports left. O(reports held).
 */
static void
g_reps_sweep(weft_gossip_t *g, int64_t now_us)
{
	uint8_t subject[WEFT_PK_BYTES];
	size_t i;
	g_entry_t *n;

	for (i = 0; i < g->nreps;) {
		g_entry_t *e = g->reps[i];

		if (g_rep_live(e, now_us)) {
			i++;
			continue;
		}
		memcpy(subject, e->subject, WEFT_PK_BYTES);
		weft_gossip__drop(g, e); /* out of reps too: i is another now */
		if ((n = weft_gossip__node(g, subject)) != NULL)
			n->failed_cover = g_cover(g, subject, now_us);
	}
}

static int g_issue_record(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
			  weft_err_t *err);

/* What a newly held entry changes elsewhere: failure marks. */
static void
g_effects(weft_gossip_t *g, g_entry_t *e, int64_t now_us)
{
	g_entry_t *n;

	if (e->tombstone)
		return;
	if (e->kind == WEFT_ENTRY_NODE) {
		e->failed_cover = g_cover(g, e->origin, now_us);
	} else if (e->kind == WEFT_ENTRY_REPORT && g_rep_live(e, now_us)) {
		n = weft_gossip__node(g, e->subject);
		if (n != NULL && e->subject_version > n->failed_cover)
			n->failed_cover = e->subject_version;
	}
}

/* A new entry (info's key, origin o) in the table, the list of reports
 * and the counts; NULL without memory (nothing changed). */
static g_entry_t *
g_new_entry(weft_gossip_t *g, const weft_entry_info_t *info, g_origin_t *o)
{
	g_entry_t *e;
	size_t b;

	if (g->n + 1 > g->nb * 3 / 4 && g_grow(g) != 0)
		return NULL;
	if (info->kind == WEFT_ENTRY_REPORT && g->nreps == g->reps_cap) {
		size_t nc = g->reps_cap ? 2 * g->reps_cap : 16;
		g_entry_t **r = realloc(g->reps, nc * sizeof(*r));

		if (r == NULL)
			return NULL;
		g->reps = r;
		g->reps_cap = nc;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->name = strdup(info->name)) == NULL) {
		free(e);
		return NULL;
	}
	e->kind = info->kind;
	e->orig = o;
	e->node = e->org = e->roles = e->addr = weft_gossip__empty;
	memcpy(e->origin, info->origin, WEFT_PK_BYTES);
	weft_gossip__key(e->kind, e->origin, e->name, e->key);
	b = weft_gossip__bucket(e->key, g->nb);
	e->next = g->tab[b];
	g->tab[b] = e;
	if (e->kind == WEFT_ENTRY_REPORT)
		g->reps[g->nreps++] = e;
	g->n++;
	if (weft_gossip__shared(g, e)) {
		if (o->count++ == 0) {
			o->snext = g->shared_o;
			g->shared_o = o;
		}
		g->nshared++;
	}
	return e;
}

/*
 * Hold a verified entry (newer than what is held), persist it if asked,
 * and push it to every neighbour but `from` (0: none).
 */
static int
g_accept(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
	 const weft_entry_info_t *info, const uint8_t *env, size_t len,
	 const uint8_t *body, size_t blen, uint64_t from, int tree, int persist,
	 weft_err_t *err)
{
	g_entry_t *e =
	    weft_gossip__find(g, info->kind, info->origin, info->name);
	g_origin_t *o = weft_gossip__origin(g, info->origin, 0);
	int old = e != NULL, rc;
	size_t old_len = e ? G_COST(e->len, e->name) : 0;
	size_t cost = G_COST(len, info->name);
	uint8_t *copy;

	if (weft_gossip__revoked(o, info->signer.org_pk)) {
		g->st.refused++;
		return weft_err_set(err, WEFT_ETRUST,
				    "gossip: \"%s\" comes from node %s, "
				    "revoked by org %s",
				    info->name, info->signer.subject_name,
				    info->signer.org_name);
	}
	rc = weft_gossip__quota_admit(&g->q, g->n, o, &info->signer, old,
				      old_len, cost, from != 0, now_ms, err);
	if (rc != 0) {
		g->st.over_quota++;
		return rc;
	}
	copy = malloc(len);
	if (copy == NULL)
		return WEFT_ENOMEM;
	memcpy(copy, env, len);
	if (o == NULL)
		o = weft_gossip__origin(g, info->origin, 1);
	if (o == NULL) {
		free(copy);
		return WEFT_ENOMEM;
	}
	if (e == NULL) {
		if ((e = g_new_entry(g, info, o)) == NULL) {
			free(copy);
			return WEFT_ENOMEM;
		}
	} else {
		if (weft_gossip__shared(g, e)) {
			weft_gossip__xor(o->hash, e->hash);
			weft_gossip__xor(g->root, e->hash);
		}
		free(e->env);
	}
	weft_gossip__quota_charge(&g->q, o, &info->signer, old, old_len, cost);
	e->version = info->version;
	e->tombstone = info->tombstone;
	e->issued_at = info->issued_at;
	e->expires_at = info->expires_at ? info->expires_at : INT64_MAX;
	e->env = copy;
	e->len = len;
	weft_gossip__entry_hash(e, e->hash);
	if (weft_gossip__shared(g, e)) {
		weft_gossip__xor(o->hash, e->hash);
		weft_gossip__xor(g->root, e->hash);
	}
	e->ntold = 0;
	e->via_tree = tree;
	if (from != 0)
		g_told(e, from);
	weft_gossip__fill(e, info, body, blen);
	g_effects(g, e, unix_us);
	g->st.accepted++;
	g->st.entries = g->n;

	if (persist) {
		weft_out_t *out = weft_gossip__out(g, WEFT_OUT_STORE);

		if (out != NULL && (out->env = malloc(len)) != NULL) {
			memcpy(out->env, env, len);
			out->env_len = len;
			out->n = weft_gossip__urgent(g, e); /* stored at once */
		} else if (out != NULL) {
			weft_outq_unpush(&g->out); /* the half-made one */
		}
	}
	g_forward(g, e, from);
	/* A report that we failed: refute it with a newer record (newer
	 * than the version reported, which may be ahead of our clock by
	 * the skew weft_gossip__offer_peek allows). */
	if (e->kind == WEFT_ENTRY_REPORT && g_rep_live(e, unix_us) &&
	    memcmp(e->subject, g->self, WEFT_PK_BYTES) == 0 &&
	    e->subject_version >= g->self_version) {
		g->self_version = e->subject_version;
		(void)g_issue_record(g, now_ms, unix_us, NULL);
	}
	return 1;
}

g_verdict_t
weft_gossip__judge(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
		   const uint8_t *env, size_t len, const g_peer_t *p,
		   g_peeked_t *k)
{
	g_origin_t *o;

	if (len > WEFT_ENTRY_MAX ||
	    !weft_gossip__peek(env, len, &k->kind, k->origin, k->name,
			       &k->version))
		return G_MALFORMED;
	if (k->kind == WEFT_ENTRY_REPORT &&
	    k->version > (uint64_t)unix_us + G_SKEW_US)
		return G_FUTURE;
	k->e = weft_gossip__find(g, k->kind, k->origin, k->name);
	if (k->e != NULL && k->e->version >= k->version)
		return G_HELD;
	o = weft_gossip__origin(g, k->origin, 0);
	if (weft_gossip__revoked(o, NULL))
		return G_REVOKED;
	/* an origin at its quota costs a peek, not a signature check */
	if (p != NULL &&
	    weft_gossip__quota_full(&g->q, o, k->e != NULL, now_ms))
		return G_OVER_QUOTA;
	if (p != NULL && g->cfg.partial &&
	    (k->kind == WEFT_ENTRY_NODE || k->kind == WEFT_ENTRY_REPORT) &&
	    memcmp(k->origin, p->pk, WEFT_PK_BYTES) != 0)
		return G_RELAYED;
	return G_WORTH;
}

/* weft_gossip__offer's checks before a signature's (from peer p, or
 * NULL), acted on: 1 when env is worth one (*k filled); 0 when held
 * already (a duplicate: counted, and a second copy along the tree
 * prunes it); negative when refused (counted; err says why). A push's
 * entries pass here as they arrive, and only those worth a check wait
 * for one (g_recv_push). */
int
weft_gossip__offer_peek(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
			const uint8_t *env, size_t len, g_peer_t *p, int bcast,
			g_peeked_t *k, weft_err_t *err)
{
	switch (weft_gossip__judge(g, now_ms, unix_us, env, len, p, k)) {
	case G_WORTH: return 1;
	case G_MALFORMED:
		g->st.refused++;
		return weft_err_set(err, WEFT_EPARSE,
				    "gossip: malformed catalog entry");
	case G_FUTURE:
		g->st.refused++;
		return weft_err_set(err, WEFT_EINVAL,
				    "gossip: a failure report made in the "
				    "future (version %llu)",
				    (unsigned long long)k->version);
	case G_HELD:
		g->st.duplicates++;
		if (p != NULL && k->e->version == k->version) {
			g_heard(p, k->e);
			/* a second copy along the tree: a cycle; cut it */
			if (bcast && k->e->via_tree && !p->lazy)
				g_prune(g, p);
		}
		return 0;
	case G_REVOKED:
		g->st.refused++;
		return weft_err_set(err, WEFT_ETRUST,
				    "gossip: \"%s\" comes from a revoked node",
				    k->name);
	case G_OVER_QUOTA:
		g->st.over_quota++;
		return weft_err_set(err, WEFT_ETOOBIG,
				    "gossip: the origin of \"%s\" is at its "
				    "quota",
				    k->name);
	case G_RELAYED: break;
	}
	g->st.refused++;
	return weft_err_set(err, WEFT_EINVAL,
			    "gossip: a neighbour's record or report relayed "
			    "by another (partial membership)");
}

/* One entry from a peer (from != 0) or from outside (from == 0). */
int
weft_gossip__offer(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
		   const uint8_t *env, size_t len, uint64_t from, int bcast,
		   int persist, weft_err_t *err)
{
	weft_entry_info_t info;
	weft_revocation_t rv;
	uint8_t *body = NULL;
	size_t blen = 0;
	int rc;
	g_entry_t *e;
	g_peer_t *p = from ? weft_gossip__peer(g, from) : NULL;
	g_peeked_t k;

	rc = weft_gossip__offer_peek(g, now_ms, unix_us, env, len, p, bcast, &k,
				     err);
	if (rc != 1)
		return rc;
	e = k.e;
	if (p != NULL) {
		if (p->budget == 0) {
			g->st.throttled++;
			return weft_err_set(err, WEFT_EAGAIN,
					    "gossip: peer over "
					    "its verification budget");
		}
		p->budget--;
	}
	rc = weft_entry_verify(env, len, g->trust, unix_us, &info, &body, &blen,
			       err);
	if (rc == 0)
		rc = weft_entry_check_body(&info, body, blen, err);
	if (rc == 0 && info.kind == WEFT_ENTRY_REVOCATION)
		rc = weft_revocation_check(body, blen, g->trust, &rv, err);
	if (rc == 0 && p != NULL && p->cross) {
		/* From another org: it must be something that may cross. */
		g_entry_t tmp;

		memset(&tmp, 0, sizeof(tmp));
		tmp.node = tmp.org = tmp.roles = tmp.addr = weft_gossip__empty;
		tmp.kind = info.kind;
		tmp.tombstone = info.tombstone;
		if (e != NULL) { /* tombstone: the old visibility, copied */
			tmp.vis = e->vis;
			tmp.visible_to =
			    e->visible_to ? strdup(e->visible_to) : NULL;
		}
		weft_gossip__fill(&tmp, &info, body, blen);
		if (!weft_gossip__visible(g, &tmp, p)) {
			g->st.refused_visibility++;
			rc = weft_err_set(err, WEFT_ETRUST,
					  "gossip: %s from "
					  "org %s may not cross into org %s",
					  info.name, info.signer.org_name,
					  g->cfg.signer->org);
		}
		free(tmp.visible_to);
		free(tmp.nblk);
	}
	if (rc != 0) {
		free(body);
		g->st.refused++;
		return rc;
	}
	if (p != NULL && bcast)
		p->lazy = 0; /* it came along the tree: keep the link on it */
	rc = g_accept(g, now_ms, unix_us, &info, env, len, body, blen, from,
		      p == NULL || bcast, persist, err);
	free(body);
	if (rc == 1 && info.kind == WEFT_ENTRY_REVOCATION &&
	    weft_gossip__revoke(g, &rv) != 0)
		rc = WEFT_ENOMEM;
	if (rc == WEFT_ENOMEM)
		return weft_err_set(err, rc, "gossip: out of memory");
	return rc;
}

static int
g_issue_record(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
	       weft_err_t *err)
{
	Weft__NodeRecord r = WEFT__NODE_RECORD__INIT;
	uint8_t *body = NULL, *env = NULL;
	size_t blen, elen;
	uint64_t version = (uint64_t)unix_us;
	int rc;

	if (version <= g->self_version)
		version = g->self_version + 1;
	r.name = (char *)g->cfg.signer->node;
	r.org = (char *)g->cfg.signer->org;
	r.roles = g->role_ptrs;
	r.n_roles = g->cfg.nroles;
	r.addresses = g->addr_ptrs;
	r.n_addresses = g->cfg.naddresses;
	r.version = g->version;
	r.started_at = unix_us;
	blen = weft__node_record__get_packed_size(&r);
	body = malloc(blen ? blen : 1);
	if (body == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "gossip: out of memory");
	weft__node_record__pack(&r, body);
	rc = weft_entry_make_at(g->cfg.signer, WEFT_ENTRY_NODE, "node", version,
				0, 0, body, blen, unix_us, &env, &elen, err);
	free(body);
	if (rc != 0)
		return rc;
	g->self_version = version;
	rc = weft_gossip__offer(g, now_ms, unix_us, env, elen, 0, 0, 1, err);
	free(env);
	return rc < 0 ? rc : 0;
}

static void
g_report(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
	 const g_entry_t *node)
{
	Weft__FailureReport r = WEFT__FAILURE_REPORT__INIT;
	char name[2 * WEFT_PK_BYTES + 1];
	uint8_t body[128], *env = NULL;
	size_t blen, elen;

	r.subject.data = (uint8_t *)node->origin;
	r.subject.len = WEFT_PK_BYTES;
	r.subject_version = node->version;
	r.reason = "unreachable";
	blen = weft__failure_report__pack(&r, body);
	g_hex(node->origin, name);
	if (weft_entry_make_at(g->cfg.signer, WEFT_ENTRY_REPORT, name,
			       (uint64_t)unix_us, 0, unix_us + G_REPORT_TTL_US,
			       body, blen, unix_us, &env, &elen, NULL) == 0)
		(void)weft_gossip__offer(g, now_ms, unix_us, env, elen, 0, 0, 1,
					 NULL);
	free(env);
}

/* ---- public API ---- */

int
weft_gossip_new(weft_gossip_t **out, const weft_gossip_cfg_t *cfg,
		uint64_t now_ms, int64_t unix_us, weft_err_t *err)
{
	weft_gossip_t *g;
	int rc;

	*out = NULL;
	if (cfg->signer == NULL || cfg->signer->kp == NULL)
		return weft_err_set(err, WEFT_EINVAL, "gossip: no signer");
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "gossip: out of memory");
	g->cfg = *cfg;
	if (g->cfg.naddresses > G_ADDRS_MAX)
		g->cfg.naddresses = G_ADDRS_MAX;
	if (g->cfg.nroles > WEFT_ROLES_MAX)
		g->cfg.nroles = WEFT_ROLES_MAX;
	for (size_t i = 0; i < g->cfg.naddresses; i++)
		if ((g->addr_ptrs[i] = strndup(cfg->addresses[i],
					       WEFT_GOSSIP_ADDR_MAX)) == NULL)
			g->cfg.naddresses = i; /* out of memory: fewer */
	for (size_t i = 0; i < g->cfg.nroles; i++)
		if ((g->role_ptrs[i] = strndup(cfg->roles[i], WEFT_NAME_MAX)) ==
		    NULL)
			g->cfg.nroles = i;
	snprintf(g->version, sizeof(g->version), "%s",
		 cfg->version ? cfg->version : "");
	g->cfg.addresses = NULL;
	g->cfg.roles = NULL;
	g->cfg.version = NULL;
	if (g->cfg.interval_ms == 0)
		g->cfg.interval_ms = 1000;
	if (g->cfg.suspect_ms == 0)
		g->cfg.suspect_ms = 3 * g->cfg.interval_ms;
	if (g->cfg.degree == 0)
		g->cfg.degree = 4;
	if (g->cfg.active_max == 0)
		g->cfg.active_max = 2 * g->cfg.degree;
	if (g->cfg.active_max < g->cfg.degree)
		g->cfg.active_max = g->cfg.degree;
	if (g->cfg.sync_ms == 0)
		g->cfg.sync_ms = 10000;
	weft_gossip__quota_init(&g->q, cfg, cfg->signer->kp->pk);
	if (g->cfg.budget == 0)
		g->cfg.budget = 2000;
	g->gone.id = G_GONE;
	if (cfg->fast_crypto && !weft_crypto_fast()) /* process-wide: the
						      * simulator's choice */
		weft_crypto_set_fast(1);
	g->trust = cfg->trust;
	g->rng = cfg->seed;
	memcpy(g->self, cfg->signer->kp->pk, WEFT_PK_BYTES);
	if (g_grow(g) != 0) {
		weft_gossip_free(g);
		return weft_err_set(err, WEFT_ENOMEM, "gossip: out of memory");
	}
	g->next_tick = now_ms + g->cfg.interval_ms;
	g->fast_left = G_FAST_TICK;
	rc = g_issue_record(g, now_ms, unix_us, err);
	if (rc != 0) {
		weft_gossip_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void
weft_gossip_free(weft_gossip_t *g)
{
	size_t i;
	g_entry_t *e, *en;
	g_origin_t *o, *on;
	weft_out_t x;

	if (g == NULL)
		return;
	while (weft_gossip_poll(g, &x)) {
		weft_gossip_msg_free(x.msg);
		free(x.env);
	}
	for (i = 0; i < g->npeers; i++) {
		free(g->peers[i].lq);
		(void)weft_gossip__pend_free(g, &g->peers[i]);
	}
	(void)weft_gossip__pend_free(g, &g->gone);
	weft_gossip__wait_free(g);
	for (i = 0; i < g->nb; i++)
		for (e = g->tab[i]; e; e = en) {
			en = e->next;
			free(e->env);
			free(e->name);
			free(e->visible_to);
			free(e->nblk);
			free(e);
		}
	for (i = 0; i < g->onb; i++)
		for (o = g->otab[i]; o; o = on) {
			on = o->next;
			free(o->revoked_by);
			free(o);
		}
	free(g->tab);
	free(g->otab);
	free(g->reps);
	weft_gossip__quota_free(&g->q);
	free(g->indirect);
	for (i = 0; i < G_ADDRS_MAX; i++)
		free(g->addr_ptrs[i]);
	for (i = 0; i < WEFT_ROLES_MAX; i++)
		free(g->role_ptrs[i]);
	free(g->peers);
	free(g->lost);
	weft_outq_free(&g->out);
	free(g);
}

void
weft_gossip_set_trust(weft_gossip_t *g, const weft_trust_t *trust)
{
	g->trust = trust;
}

int
weft_gossip_offer(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
		  const uint8_t *env, size_t len, int persist, weft_err_t *err)
{
	return weft_gossip__offer(g, now_ms, unix_us, env, len, 0, 0, persist,
				  err);
}

void
weft_gossip_peer_up(weft_gossip_t *g, uint64_t now_ms, uint64_t peer,
		    const uint8_t pk[WEFT_PK_BYTES], const char *org,
		    int gateway)
{
	g_peer_t *p;
	size_t i;

	if (weft_gossip__peer(g, peer) != NULL)
		return;
	if (g->npeers == g->peers_cap) {
		size_t cap = g->peers_cap ? g->peers_cap * 2 : 4;
		g_peer_t *np = realloc(g->peers, cap * sizeof(*np));

		if (np == NULL)
			return;
		g->peers = np;
		g->peers_cap = cap;
	}
	p = &g->peers[g->npeers++];
	memset(p, 0, sizeof(*p));
	p->id = peer;
	memcpy(p->pk, pk, WEFT_PK_BYTES);
	snprintf(p->org, sizeof(p->org), "%s", org ? org : "");
	p->cross = strcmp(p->org, g->cfg.signer->org) != 0;
	/* across orgs, a link is direct unless the org is one we reach
	 * only through gateways (then both ends are gateways) */
	p->direct = p->cross && !(weft_gossip__in_list(g->indirect, p->org) &&
				  g->gateway && gateway);
	p->budget = g->cfg.budget;
	p->answers = G_ANSWERS;
	p->served = g->cfg.budget;
	for (i = 0; i < g->nlost; i++)
		if (memcmp(g->lost[i].pk, pk, WEFT_PK_BYTES) == 0)
			g->lost[i] = g->lost[--g->nlost];
	/* Partial membership: our record is not in anti-entropy; hand it
	 * over to the newcomer directly. */
	if (g->cfg.partial) {
		g_entry_t *self = weft_gossip__node(g, g->self);
		char hex[2 * WEFT_PK_BYTES + 1];
		g_entry_t *rep;

		if (self != NULL && weft_gossip__visible(g, self, p))
			weft_gossip__push(g, p->id, &self, 1, 1);
		/* and the report we made when it was lost, if any, so that
		 * it refutes it (reports stay one hop: it would never hear
		 * of it otherwise) */
		g_hex(pk, hex);
		rep = weft_gossip__find(g, WEFT_ENTRY_REPORT, g->self, hex);
		if (rep != NULL && !rep->tombstone)
			weft_gossip__push(g, p->id, &rep, 1, 1);
	}
	/* Start anti-entropy with the newcomer at once: one end does (the
	 * exchange repairs both ways; two at once would list and graft the
	 * same entries twice), the one with the lower key. */
	if (memcmp(g->self, pk, WEFT_PK_BYTES) < 0)
		weft_gossip__summary(g, p);
	/* Over the active maximum: another neighbour goes, not this one. */
	weft_gossip__overlay_up(g, p);
}

void
weft_gossip_set_policy(weft_gossip_t *g, int gateway, const char *indirect)
{
	g->gateway = gateway;
	free(g->indirect);
	g->indirect = NULL;
	if (indirect != NULL && *indirect) {
		size_t n = strlen(indirect);

		g->indirect = malloc(n + 3);
		if (g->indirect != NULL)
			snprintf(g->indirect, n + 3, ",%s,", indirect);
	}
}

int
weft_gossip_may_link(const weft_gossip_t *g, const char *org, int gateway)
{
	if (strcmp(org, g->cfg.signer->org) == 0 ||
	    !weft_gossip__in_list(g->indirect, org))
		return 1;
	return g->gateway && gateway;
}

static void g_dial(weft_gossip_t *g, uint64_t now_ms, g_entry_t *e);
static size_t g_dialling(weft_gossip_t *g, uint64_t now_ms);

/* Start suspecting pk (lost neighbour, failed dial): the tick redials it
 * once and reports it after suspect_ms. 1 if added, 0 if it already was
 * suspected or memory ran out. */
static int
g_suspect(weft_gossip_t *g, uint64_t now_ms, const uint8_t *pk)
{
	size_t i;

	for (i = 0; i < g->nlost; i++)
		if (memcmp(g->lost[i].pk, pk, WEFT_PK_BYTES) == 0)
			return 0;
	if (g->nlost == g->lost_cap) {
		size_t cap = g->lost_cap ? g->lost_cap * 2 : 16;
		g_lost_t *l = realloc(g->lost, cap * sizeof(*l));

		if (l == NULL)
			return 0;
		g->lost = l;
		g->lost_cap = cap;
	}
	memcpy(g->lost[g->nlost].pk, pk, WEFT_PK_BYTES);
	g->lost[g->nlost].since = now_ms;
	g->lost[g->nlost].redialled = 0;
	g->nlost++;
	return 1;
}

static void
g_peer_down(weft_gossip_t *g, uint64_t now_ms, uint64_t peer)
{
	g_peer_t *p = weft_gossip__peer(g, peer);
	uint8_t pk[WEFT_PK_BYTES];
	g_entry_t *n;
	int parting, eager;
	size_t i;

	if (p == NULL)
		return;
	parting = p->parting;
	eager = !p->lazy;
	memcpy(pk, p->pk, WEFT_PK_BYTES);
	free(p->lq);
	/* its queue: of another org, dropped (its trust boundary went with
	 * it); of ours, kept for gossip_take.c to offer as from outside */
	g->npend -= p->cross
			? weft_gossip__pend_free(g, p)
			: weft_gossip__pend_move(g, &g->gone, p, g->cfg.budget);
	*p = g->peers[--g->npeers];
	if (parting) {
		/* let go by the overlay: not a failure; not dialled again
		 * for a while (g_pick) */
		if ((n = weft_gossip__node(g, pk)) != NULL)
			n->dial_at = now_ms ? now_ms : 1;
		return;
	}
	/* A branch of the broadcast tree went with it: our other links go
	 * eager, so the next broadcast reaches what hung below it at once,
	 * not a lazy announcement and a graft a hop; its duplicates prune
	 * the links back (the bench's quarter killed: 7-8.6 s to reach the
	 * rest before, docs/gossip.md) */
	if (eager)
		for (i = 0; i < g->npeers; i++)
			g->peers[i].lazy = 0;
	if (weft_gossip__connected(g, pk) || !g_suspect(g, now_ms, pk))
		return;
	/* Try to get it back before suspecting it. */
	n = weft_gossip__node(g, pk);
	if (n != NULL && n->addr[0])
		g_dial(g, now_ms, n);
}

void
weft_gossip_peer_down(weft_gossip_t *g, uint64_t now_ms, uint64_t peer)
{
	g_peer_down(g, now_ms, peer);
	if (g->cfg.partial) /* a bounded passive view */
		weft_gossip__overlay_passive(g);
}

void
weft_gossip_unreachable(weft_gossip_t *g, uint64_t now_ms,
			const uint8_t pk[WEFT_PK_BYTES])
{
	size_t i;

	for (i = 0; i < g->ndials;) /* no longer under way */
		if (memcmp(g->dials[i].pk, pk, WEFT_PK_BYTES) == 0)
			g->dials[i] = g->dials[--g->ndials];
		else
			i++;
	if (!weft_gossip__connected(g, pk) &&
	    weft_gossip__node(g, pk) != NULL &&
	    memcmp(pk, g->self, WEFT_PK_BYTES) != 0)
		(void)g_suspect(g, now_ms, pk);
}

/* Announcements: graft the sender for whatever we lack. A repair IHave
 * (anti-entropy's list, gossip_ae.c) is answered by a repair graft: the
 * broadcast tree did not miss us, so the link stays where it is. */
static int
g_recv_ihave(weft_gossip_t *g, g_peer_t *p, const Weft__GossipIHave *ih,
	     weft_err_t *err)
{
	Weft__WireMessage *m;
	ProtobufCBinaryData *keys;
	uint64_t *versions;
	uint8_t *bytes;
	size_t i, k = 0;

	if (ih->n_keys > G_KEYS_MAX || ih->n_keys != ih->n_versions)
		return weft_err_set(err, WEFT_EPARSE,
				    "gossip: malformed ihave");
	for (i = 0; i < ih->n_keys; i++)
		if (ih->keys[i].len != G_HASH)
			return weft_err_set(err, WEFT_EPARSE,
					    "gossip: malformed ihave key");
	m = weft_gossip__keys_msg(ih->n_keys, 0, &keys, &versions, &bytes);
	if (m == NULL)
		return 0;
	for (i = 0; i < ih->n_keys; i++) {
		g_entry_t *e = weft_gossip__find_key(g, ih->keys[i].data);

		if (e != NULL && e->version >= ih->versions[i]) {
			if (e->version == ih->versions[i])
				g_heard(p, e);
			continue;
		}
		/* on its way in, waiting for its check (gossip_turn.c): not a
		 * loss; if it fails, anti-entropy brings another copy */
		if (weft_gossip__waiting(g, ih->keys[i].data))
			continue;
		memcpy(bytes + k * G_HASH, ih->keys[i].data, G_HASH);
		keys[k].data = bytes + k * G_HASH;
		keys[k].len = G_HASH;
		k++;
	}
	if (k == 0) {
		weft_gossip_msg_free(m);
		return 0;
	}
	if (ih->repair) {
		m->graft->repair = 1;
		g->st.repairs_out++;
	} else { /* the tree missed us: put this link back on it */
		p->lazy = 0;
		g->st.grafts_out++;
	}
	m->graft->n_keys = k;
	weft_gossip__send(g, p->id, m);
	return 0;
}

/* A graft: the link is on the tree again (unless it is a repair graft);
 * send what was asked for. */
static int
g_recv_graft(weft_gossip_t *g, g_peer_t *p, const Weft__GossipGraft *gr,
	     weft_err_t *err)
{
	g_entry_t **es;
	size_t i, n = 0;

	if (gr->n_keys > G_KEYS_MAX)
		return weft_err_set(err, WEFT_EPARSE,
				    "gossip: malformed graft");
	for (i = 0; i < gr->n_keys; i++)
		if (gr->keys[i].len != G_HASH)
			return weft_err_set(err, WEFT_EPARSE,
					    "gossip: malformed graft key");
	if (!gr->repair)
		p->lazy = 0;
	if (gr->n_keys == 0)
		return 0;
	es = calloc(gr->n_keys, sizeof(*es));
	if (es == NULL)
		return 0;
	for (i = 0; i < gr->n_keys; i++) {
		g_entry_t *e = weft_gossip__find_key(g, gr->keys[i].data);

		if (e == NULL || !weft_gossip__shared(g, e) ||
		    !weft_gossip__visible(g, e, p))
			continue;
		if (p->served == 0) { /* the rest at its next graft */
			g->st.throttled++;
			continue;
		}
		p->served--;
		es[n++] = e;
		g_told(e, p->id);
		if (p->cross)
			weft_gossip__note(g, e, p);
	}
	if (n > 0) /* along the tree again: a duplicate will prune it */
		weft_gossip__push(g, p->id, es, n, gr->repair);
	free(es);
	return 0;
}

/* A push: offer every entry (a malformed one is counted, not fatal). */
static int
g_recv_push(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us, uint64_t peer,
	    const Weft__GossipPush *push, weft_err_t *err)
{
	g_peer_t *p = weft_gossip__peer(g, peer);
	size_t i;

	if (push->n_entries > G_PUSH_ENTRIES_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "gossip: push of %zu "
				    "entries",
				    push->n_entries);
	/* what is worth a signature check waits for one (the driver takes
	 * them: weft_gossip_work or _take); the rest is settled now */
	for (i = 0; i < push->n_entries; i++) {
		g_peeked_t k;
		uint8_t key[G_HASH];

		if (weft_gossip__offer_peek(
			g, now_ms, unix_us, push->entries[i].data,
			push->entries[i].len, p, !push->repair, &k, NULL) != 1)
			continue;
		weft_gossip__key(k.kind, k.origin, k.name, key);
		if (weft_gossip__pend_push(g, p, push->entries[i].data,
					   push->entries[i].len, key, k.origin,
					   !push->repair, g->cfg.budget))
			g->npend++;
		else
			g->st.throttled++; /* anti-entropy brings it */
	}
	return 0;
}

/* The shape of a joiner's record from p (a Join: p's own node record; a
 * ForwardJoin: a node record): 0, or WEFT_EINVAL. No signature checked. */
static int
g_join_peek(const g_peer_t *p, const ProtobufCBinaryData *rec, int own,
	    uint8_t origin[WEFT_PK_BYTES], weft_err_t *err)
{
	char name[WEFT_ENTRY_NAME_MAX + 1];
	uint64_t version;
	int kind;

	if (!weft_gossip__peek(rec->data, rec->len, &kind, origin, name,
			       &version) ||
	    kind != WEFT_ENTRY_NODE ||
	    (own && memcmp(origin, p->pk, WEFT_PK_BYTES) != 0))
		return weft_err_set(err, WEFT_EINVAL,
				    "gossip: a %s whose record is not %s "
				    "node record",
				    own ? "Join" : "ForwardJoin",
				    own ? "the sender's" : "a");
	return 0;
}

/* A joiner's record from p (a Join: p's own; a ForwardJoin: relayed):
 * offered as an entry p makes us verify; the node's entry if held. */
static g_entry_t *
g_join_record(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us, g_peer_t *p,
	      const ProtobufCBinaryData *rec, int own, weft_err_t *err)
{
	uint8_t origin[WEFT_PK_BYTES];
	uint64_t from = p->id;
	int rc;

	if (g_join_peek(p, rec, own, origin, err) != 0)
		return NULL;
	if (memcmp(origin, g->self, WEFT_PK_BYTES) == 0 ||
	    (own && p->joined++)) /* one Join per session */
		return NULL;
	if (!own && g->cfg.partial && !p->cross) {
		/* partial membership refuses records relayed by another
		 * neighbour; a walk's record is one, charged to p here */
		if (p->budget == 0) {
			g->st.throttled++;
			return NULL;
		}
		p->budget--;
		from = 0;
	}
	rc = weft_gossip__offer(g, now_ms, unix_us, rec->data, rec->len, from,
				0, 1, NULL);
	if (rc < 0)
		return NULL;
	return weft_gossip__node(g, origin);
}

/* The overlay's messages (gossip_overlay.c). */
static int
g_recv_overlay(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us, g_peer_t *p,
	       const Weft__WireMessage *m, weft_err_t *err)
{
	weft_err_t e2 = {0};
	uint8_t pk[WEFT_PK_BYTES];
	g_entry_t *e;
	int rc;

	switch (m->msg_case) {
	case WEFT__WIRE_MESSAGE__MSG_JOIN:
		e = g_join_record(g, now_ms, unix_us, p, &m->join->record, 1,
				  &e2);
		if (e2.code != 0)
			return weft_err_set(err, e2.code, "%s", e2.msg);
		if (e != NULL && !e->tombstone)
			weft_gossip__overlay_join(g, p, e);
		return 0;
	case WEFT__WIRE_MESSAGE__MSG_FORWARD_JOIN:
		rc = g_join_peek(p, &m->forward_join->record, 0, pk, err);
		if (rc != 0)
			return rc;
		if (!weft_gossip__overlay_forward(g, p, m->forward_join))
			return 0;
		e = g_join_record(g, now_ms, unix_us, p,
				  &m->forward_join->record, 0, &e2);
		if (e2.code != 0)
			return weft_err_set(err, e2.code, "%s", e2.msg);
		/* the walk ends here: take the joiner if we have room */
		if (e != NULL && !e->tombstone && e->addr[0] &&
		    !weft_gossip__connected(g, e->origin) && !g_failed(g, e) &&
		    weft_gossip_may_link(g, e->origin_org, e->gateway) &&
		    weft_gossip__active(g) + g_dialling(g, now_ms) <
			g->cfg.active_max) {
			g->st.walk_dials++;
			g_dial(g, now_ms, e);
		}
		return 0;
	default: /* MSG_DISCONNECT */
		weft_gossip__overlay_parted(g, p);
		return 0;
	}
}

int
weft_gossip_recv(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
		 uint64_t peer, const Weft__WireMessage *m, weft_err_t *err)
{
	g_peer_t *p = weft_gossip__peer(g, peer);

	if (p == NULL)
		return weft_err_set(err, WEFT_EINVAL, "gossip: unknown peer");
	switch (m->msg_case) {
	case WEFT__WIRE_MESSAGE__MSG_PUSH:
		return g_recv_push(g, now_ms, unix_us, peer, m->push, err);
	case WEFT__WIRE_MESSAGE__MSG_IHAVE:
		return g_recv_ihave(g, p, m->ihave, err);
	case WEFT__WIRE_MESSAGE__MSG_GRAFT:
		return g_recv_graft(g, p, m->graft, err);
	case WEFT__WIRE_MESSAGE__MSG_PRUNE: p->lazy = 1; return 0;
	case WEFT__WIRE_MESSAGE__MSG_SUMMARY:
		return weft_gossip__recv_summary(g, p, peer, m->summary, err);
	case WEFT__WIRE_MESSAGE__MSG_DIGEST:
		return weft_gossip__recv_digest(g, p, peer, m->digest, err);
	case WEFT__WIRE_MESSAGE__MSG_JOIN:
	case WEFT__WIRE_MESSAGE__MSG_FORWARD_JOIN:
	case WEFT__WIRE_MESSAGE__MSG_DISCONNECT:
		return g_recv_overlay(g, now_ms, unix_us, p, m, err);
	default:
		return weft_err_set(err, WEFT_EINVAL,
				    "gossip: not a gossip message");
	}
}

/* Members we could dial: alive, not us, not connected, with an address,
 * not dialled in the last 5 intervals. failed selects failed ones. */
static g_entry_t *
g_pick(weft_gossip_t *g, uint64_t now_ms, int failed)
{
	g_entry_t *e, *pick = NULL;
	size_t i, seen = 0;

	for (i = 0; i < g->nb; i++)
		for (e = g->tab[i]; e; e = e->next) {
			if (e->kind != WEFT_ENTRY_NODE || e->tombstone ||
			    !e->addr[0] ||
			    memcmp(e->origin, g->self, WEFT_PK_BYTES) == 0 ||
			    weft_gossip__connected(g, e->origin) ||
			    !weft_gossip_may_link(g, e->origin_org,
						  e->gateway) ||
			    g_failed(g, e) != failed ||
			    (e->dial_at &&
			     now_ms - e->dial_at < 5 * g->cfg.interval_ms))
				continue;
			/* reservoir sampling: uniform over candidates */
			if (weft_gossip__rand(g) % ++seen == 0)
				pick = e;
		}
	return pick;
}

/* Dials of the last 5 intervals not yet answered by a session. */
static size_t
g_dialling(weft_gossip_t *g, uint64_t now_ms)
{
	size_t i, n = 0;

	for (i = 0; i < g->ndials;) {
		if (now_ms - g->dials[i].at >= 5 * g->cfg.interval_ms ||
		    weft_gossip__connected(g, g->dials[i].pk)) {
			g->dials[i] = g->dials[--g->ndials];
			continue;
		}
		n++;
		i++;
	}
	return n;
}

static void
g_dial(weft_gossip_t *g, uint64_t now_ms, g_entry_t *e)
{
	weft_out_t *o = weft_gossip__out(g, WEFT_OUT_DIAL);

	if (o == NULL)
		return;
	memcpy(o->pk, e->origin, WEFT_PK_BYTES);
	snprintf(o->addr, sizeof(o->addr), "%s", e->addr);
	e->dial_at = now_ms ? now_ms : 1;
	if (g->ndials < G_DIALS_MAX) {
		memcpy(g->dials[g->ndials].pk, e->origin, WEFT_PK_BYTES);
		g->dials[g->ndials].at = now_ms;
		g->ndials++;
	}
}

void
weft_gossip_tick(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us)
{
	size_t i, want;
	g_entry_t *e;

	if (now_ms < g->next_tick)
		return;
	g->next_tick = now_ms + g->cfg.interval_ms;
	g->ticks++;
	g->fast_left = G_FAST_TICK;
	g_reps_sweep(g, unix_us);
	for (i = 0; i < g->npeers; i++) {
		g->peers[i].budget = g->cfg.budget;
		g->peers[i].answers = G_ANSWERS;
		g->peers[i].served = g->cfg.budget;
		g_flush_lazy(g, &g->peers[i]);
		/* the rest of a cut round, or one we put off */
		if (g->peers[i].ae_more && !weft_gossip__busy(g)) {
			g->peers[i].ae_more = 0;
			weft_gossip__summary(g, &g->peers[i]);
		}
	}
	/* Anti-entropy with one random neighbour, every sync_ms (and at
	 * once when a session comes up: weft_gossip_peer_up); not while
	 * entries wait for their checks (gossip_ae.c says why). */
	if (g->npeers > 0 && now_ms >= g->next_sync && !weft_gossip__busy(g)) {
		g->next_sync = now_ms + g->cfg.sync_ms;
		weft_gossip__summary(
		    g, &g->peers[weft_gossip__rand(g) % g->npeers]);
	}
	/* Lost neighbours: redial once, then report. */
	for (i = 0; i < g->nlost;) {
		g_lost_t *l = &g->lost[i];

		e = weft_gossip__node(g, l->pk);
		if (e == NULL) {
			*l = g->lost[--g->nlost];
			continue;
		}
		if (now_ms - l->since >= g->cfg.suspect_ms) {
			if (e->failed_cover < e->version)
				g_report(g, now_ms, unix_us, e);
			*l = g->lost[--g->nlost];
			continue;
		}
		if (!l->redialled && e->addr[0] &&
		    now_ms - l->since >= g->cfg.suspect_ms / 2) {
			g_dial(g, now_ms, e);
			l->redialled = 1;
		}
		i++;
	}
	/* Keep `degree` neighbours, counting dials still under way (a
	 * session takes a few round trips; without them every tick would
	 * dial again and the overlay would end up far denser than asked);
	 * now and then knock on a failed member, which is how a healed
	 * partition finds its way back. */
	want = weft_gossip__active(g) + g_dialling(g, now_ms);
	want = want < g->cfg.degree ? g->cfg.degree - want : 0;
	while (want-- > 0 && (e = g_pick(g, now_ms, 0)) != NULL)
		g_dial(g, now_ms, e);
	if (g->ticks % 5 == 0 && (e = g_pick(g, now_ms, 1)) != NULL)
		g_dial(g, now_ms, e);
	/* mix: a random member now and then, for one of our links (gossip_
	 * overlay.c), so no part of the overlay stays cut off for good */
	if (g->mix_at == 0)
		g->mix_at = now_ms ? now_ms : 1;
	if (now_ms - g->mix_at >= G_MIX_MS && weft_gossip__active(g) > 0 &&
	    (e = g_pick(g, now_ms, 0)) != NULL) {
		g->mix_at = now_ms;
		g_dial(g, now_ms, e);
		memcpy(g->mix_pk, e->origin, WEFT_PK_BYTES);
		g->mixing = 1;
	}
}

uint64_t
weft_gossip_next_timer(const weft_gossip_t *g)
{
	return g->next_tick;
}

int
weft_gossip_poll(weft_gossip_t *g, weft_out_t *out)
{
	return weft_outq_pop(&g->out, out);
}

int
weft_gossip_members(const weft_gossip_t *g, weft_gossip_member_t **out,
		    size_t *n)
{
	weft_gossip_member_t *m;
	g_entry_t *e;
	size_t i, k = 0, cnt = 0;

	for (i = 0; i < g->nb; i++)
		for (e = g->tab[i]; e; e = e->next)
			if (e->kind == WEFT_ENTRY_NODE && !e->tombstone)
				cnt++;
	m = calloc(cnt ? cnt : 1, sizeof(*m));
	if (m == NULL)
		return WEFT_ENOMEM;
	for (i = 0; i < g->nb; i++)
		for (e = g->tab[i]; e; e = e->next) {
			if (e->kind != WEFT_ENTRY_NODE || e->tombstone)
				continue;
			memcpy(m[k].pk, e->origin, WEFT_PK_BYTES);
			snprintf(m[k].name, sizeof(m[k].name), "%s", e->node);
			snprintf(m[k].org, sizeof(m[k].org), "%s", e->org);
			snprintf(m[k].roles, sizeof(m[k].roles), "%s",
				 e->roles);
			snprintf(m[k].addr, sizeof(m[k].addr), "%s", e->addr);
			m[k].version = e->version;
			m[k].failed = g_failed(g, e);
			m[k].self =
			    memcmp(e->origin, g->self, WEFT_PK_BYTES) == 0;
			m[k].connected = weft_gossip__connected(g, e->origin);
			m[k].updated_us = e->issued_at;
			k++;
		}
	*out = m;
	*n = k;
	return 0;
}

void
weft_gossip_each(const weft_gossip_t *g,
		 void (*fn)(void *arg, const uint8_t *env, size_t len),
		 void *arg)
{
	g_entry_t *e;
	size_t i;

	for (i = 0; i < g->nb; i++)
		for (e = g->tab[i]; e; e = e->next)
			fn(arg, e->env, e->len);
}

void
weft_gossip_stats(const weft_gossip_t *g, weft_gossip_stats_t *st)
{
	*st = g->st;
	st->entries = g->n;
	st->bytes = g->q.bytes;
	st->active = weft_gossip__active(g);
	st->active_max = g->cfg.active_max;
}

void
weft_gossip_root(const weft_gossip_t *g, uint8_t root[16], uint64_t *count)
{
	memcpy(root, g->root, G_HASH);
	*count = g->nshared;
}
