/*
 * gossip_ae.c: anti-entropy (docs/gossip.md): a 24-byte summary of what
 * a neighbour may see of our catalog; when it differs, per-origin
 * digests both ways; then the entries of the origins that differ, at
 * most one verification budget a round.
 *
 * An origin can only steer its own digest (entries are signed by their
 * origin), so a crafted collision hides nothing but the crafter's
 * entries.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "node/gossip_int.h"

/* What the peer may see of our catalog: per-origin digests (filtered by
 * g_visible when the peer is of another org), and their XOR. */
typedef struct g_view {
	const uint8_t **pk;
	uint8_t (*hash)[G_HASH];
	uint32_t *count;
	size_t n;
	uint8_t root[G_HASH];
	uint64_t total;
} g_view_t;

static void
g_view_free(g_view_t *v)
{
	free(v->pk);
	free(v->hash);
	free(v->count);
}

static int
g_view(weft_gossip_t *g, const g_peer_t *p, g_view_t *v)
{
	g_origin_t *o;
	g_entry_t *e;
	/* only origins with entries in anti-entropy count (a seed with
	 * partial membership knows many origins, of node records only):
	 * the shared_o list */
	size_t i, k = 0, n = g->on < g->nshared ? g->on : g->nshared;

	memset(v, 0, sizeof(*v));
	v->pk = calloc(n ? n : 1, sizeof(*v->pk));
	v->hash = calloc(n ? n : 1, sizeof(*v->hash));
	v->count = calloc(n ? n : 1, sizeof(*v->count));
	if (v->pk == NULL || v->hash == NULL || v->count == NULL) {
		g_view_free(v);
		return WEFT_ENOMEM;
	}
	for (o = g->shared_o; o != NULL && k < n; o = o->snext) {
		o->idx = (uint32_t)k;
		v->pk[k] = o->pk;
		if (p == NULL || !p->cross) {
			memcpy(v->hash[k], o->hash, G_HASH);
			v->count[k] = o->count;
		}
		k++;
	}
	v->n = k;
	if (p != NULL && p->cross)
		for (i = 0; i < g->nb; i++)
			for (e = g->tab[i]; e; e = e->next) {
				if (!weft_gossip__shared(g, e) ||
				    !weft_gossip__visible(g, e, p))
					continue;
				weft_gossip__xor(v->hash[e->orig->idx],
						 e->hash);
				v->count[e->orig->idx]++;
			}
	for (i = 0; i < v->n; i++) {
		weft_gossip__xor(v->root, v->hash[i]);
		v->total += v->count[i];
	}
	return 0;
}

void
weft_gossip__summary(weft_gossip_t *g, const g_peer_t *p)
{
	Weft__WireMessage *m = calloc(1, sizeof(*m));
	/* the summary and its root in one block (freed as m->summary) */
	Weft__GossipSummary *s = calloc(1, sizeof(*s) + G_HASH);
	g_view_t v;

	if (m == NULL || s == NULL || g_view(g, p, &v) != 0) {
		free(m);
		free(s);
		return;
	}
	weft__wire_message__init(m);
	weft__gossip_summary__init(s);
	memcpy(s + 1, v.root, G_HASH);
	s->root.data = (uint8_t *)(s + 1);
	s->root.len = G_HASH;
	s->count = v.total;
	g_view_free(&v);
	m->msg_case = WEFT__WIRE_MESSAGE__MSG_SUMMARY;
	m->summary = s;
	g->st.summaries_out++;
	weft_gossip__send(g, p->id, m);
}

/* Per-origin digests of what the peer may see. */
static Weft__WireMessage *
g_digest_msg(weft_gossip_t *g, const g_peer_t *p, int reply)
{
	Weft__WireMessage *m = calloc(1, sizeof(*m));
	Weft__GossipDigest *d = calloc(1, sizeof(*d));
	Weft__OriginDigest *od, **ptrs;
	uint8_t(*hash)[G_HASH];
	size_t i, k = 0, n;
	g_view_t v;
	char *blk = NULL;

	if (m == NULL || d == NULL || g_view(g, p, &v) != 0) {
		free(m);
		free(d);
		return NULL;
	}
	n = v.n < G_DIGEST_MAX ? v.n : G_DIGEST_MAX;
	/* one block: the pointers, the digests, their hashes */
	blk = calloc(n ? n : 1, sizeof(*ptrs) + sizeof(*od) + G_HASH);
	if (blk == NULL) {
		g_view_free(&v);
		free(m);
		free(d);
		return NULL;
	}
	ptrs = (Weft__OriginDigest **)blk;
	od = (Weft__OriginDigest *)(blk + n * sizeof(*ptrs));
	hash = (uint8_t(*)[G_HASH])(blk + n * (sizeof(*ptrs) + sizeof(*od)));
	for (i = 0; i < v.n && k < n; i++) {
		if (v.count[i] == 0)
			continue;
		weft__origin_digest__init(&od[k]);
		od[k].origin.data = (uint8_t *)v.pk[i];
		od[k].origin.len = WEFT_PK_BYTES;
		memcpy(hash[k], v.hash[i], G_HASH);
		od[k].hash.data = hash[k];
		od[k].hash.len = G_HASH;
		od[k].count = v.count[i];
		ptrs[k] = &od[k];
		k++;
	}
	g_view_free(&v);
	weft__wire_message__init(m);
	weft__gossip_digest__init(d);
	d->origins = ptrs;
	d->n_origins = k;
	d->reply = reply;
	m->msg_case = WEFT__WIRE_MESSAGE__MSG_DIGEST;
	m->digest = d;
	return m;
}

/*
 * Push the entries the peer may see of the origins marked (o->mark), in
 * one pass over the entries, and clear the marks. At most a budget's
 * worth a round (the peer verifies no more an interval), and about
 * G_AE_BYTES (what the session queue takes without dropping): the pass
 * starts where the last one stopped, so rounds take turns. Revocations
 * go first and always (issue 14, finding 9: they spread with priority).
 */
static void
g_push_marked(weft_gossip_t *g, g_peer_t *p)
{
	g_entry_t **es = NULL, *e, *x;
	g_origin_t *o;
	size_t n = 0, cap = 0, i, b, k, max = g->cfg.budget, full = 0;
	size_t bytes = 0;

	for (i = 0; i < g->nb; i++) {
		b = (g->ae_cursor + i) & (g->nb - 1);
		for (e = g->tab[b]; e; e = e->next) {
			if (!weft_gossip__shared(g, e) || !e->orig->mark ||
			    (full && e->kind != WEFT_ENTRY_REVOCATION) ||
			    !weft_gossip__visible(g, e, p))
				continue;
			if (n == cap) {
				size_t c = cap ? cap * 2 : 16;
				g_entry_t **np = realloc(es, c * sizeof(*np));

				if (np == NULL) {
					free(es);
					return;
				}
				es = np;
				cap = c;
			}
			es[n++] = e;
			bytes += e->len;
		}
		if ((n >= max || bytes >= G_AE_BYTES) && !full) {
			/* the next round starts after this bucket */
			g->ae_cursor = b + 1;
			full = 1;
		}
	}
	for (i = 0; i < g->onb; i++)
		for (o = g->otab[i]; o; o = o->next)
			o->mark = 0;
	for (i = k = 0; i < n; i++) /* revocations first */
		if (es[i]->kind == WEFT_ENTRY_REVOCATION) {
			x = es[k];
			es[k++] = es[i];
			es[i] = x;
		}
	if (n > 0)
		weft_gossip__push(g, p->id, es, n, 1);
	p->ae_more = full; /* a node catching up gets a budget a tick */
	for (i = 0; i < n && p->cross; i++)
		weft_gossip__note(g, es[i], p);
	free(es);
}

/* Anti-entropy, step 1: a summary; if it differs from what the peer may
 * see of ours, answer with our digests. */
int
weft_gossip__recv_summary(weft_gossip_t *g, g_peer_t *p, uint64_t peer,
			  const Weft__GossipSummary *sum, weft_err_t *err)
{
	g_view_t v;
	int same;

	if (sum->root.len != G_HASH)
		return weft_err_set(err, WEFT_EPARSE,
				    "gossip: malformed summary");
	if (p->answers == 0) { /* an honest peer sends one per sync */
		g->st.throttled++;
		return 0;
	}
	/* Entries wait for their checks (the agent verifies them on a
	 * thread): our catalog is about to change, and the peer would push
	 * whole origins we are about to hold. Its next round will do. */
	if (weft_gossip__busy(g))
		return 0;
	p->answers--;
	if (g_view(g, p, &v) != 0)
		return 0;
	same = sum->count == v.total &&
	       memcmp(sum->root.data, v.root, G_HASH) == 0;
	g_view_free(&v);
	if (!same) {
		Weft__WireMessage *d = g_digest_msg(g, p, 0);

		if (d != NULL) {
			g->st.digests_out++;
			weft_gossip__send(g, peer, d);
		}
	}
	return 0;
}

/* Mark our origins that the peer's digest d lacks or holds otherwise;
 * 1 if any. The peer's origins go into an open-addressing index, so the
 * comparison is linear, not origins x origins. */
static int
g_digest_mark(weft_gossip_t *g, g_peer_t *p, const Weft__GossipDigest *d)
{
	g_view_t v;
	uint32_t *ix;
	size_t nix = 16, mask, i, j;
	int any = 0;

	while (nix < 2 * d->n_origins)
		nix *= 2;
	mask = nix - 1;
	ix = calloc(nix, sizeof(*ix));
	if (ix == NULL || g_view(g, p, &v) != 0) {
		free(ix);
		return 0;
	}
	for (j = 0; j < d->n_origins; j++) {
		size_t b =
		    XXH64(d->origins[j]->origin.data, WEFT_PK_BYTES, 1) & mask;

		while (ix[b] != 0)
			b = (b + 1) & mask;
		ix[b] = (uint32_t)j + 1;
	}
	for (i = 0; i < v.n; i++) {
		const Weft__OriginDigest *od = NULL;
		size_t b;
		int same = 0;

		if (v.count[i] == 0)
			continue;
		for (b = XXH64(v.pk[i], WEFT_PK_BYTES, 1) & mask; ix[b] != 0;
		     b = (b + 1) & mask) {
			od = d->origins[ix[b] - 1];
			if (memcmp(od->origin.data, v.pk[i], WEFT_PK_BYTES) ==
			    0)
				break;
			od = NULL;
		}
		if (od != NULL)
			same = od->count == v.count[i] &&
			       memcmp(od->hash.data, v.hash[i], G_HASH) == 0;
		if (!same) {
			g_origin_t *o = weft_gossip__origin(g, v.pk[i], 0);

			if (o != NULL)
				o->mark = any = 1;
		}
	}
	free(ix);
	g_view_free(&v);
	return any;
}

/* Anti-entropy, step 2: the peer's digests. Push our origins that
 * differ; answer with our own digests unless this was the answer. */
int
weft_gossip__recv_digest(weft_gossip_t *g, g_peer_t *p, uint64_t peer,
			 const Weft__GossipDigest *d, weft_err_t *err)
{
	size_t i;

	for (i = 0; i < d->n_origins; i++) {
		const Weft__OriginDigest *od = d->origins[i];

		if (od->origin.len != WEFT_PK_BYTES || od->hash.len != G_HASH)
			return weft_err_set(err, WEFT_EPARSE,
					    "gossip: "
					    "malformed digest");
	}
	if (p->answers == 0) {
		g->st.throttled++;
		return 0;
	}
	p->answers--;
	if (g_digest_mark(g, p, d))
		g_push_marked(g, p);
	if (!d->reply) {
		Weft__WireMessage *r = g_digest_msg(g, p, 1);

		if (r != NULL) {
			g->st.digests_out++;
			weft_gossip__send(g, peer, r);
		}
	}
	return 0;
}
