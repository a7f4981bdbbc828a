/*
 * gossip_ae.c: anti-entropy (docs/gossip.md): a 24-byte summary of what
 * a neighbour may see of our catalog; when it differs, per-origin
 * digests both ways; then each side pushes the origins the other lacks
 * and lists its keys and versions of those that differ, and each grafts
 * what the other's list shows it lacks: at most one verification budget
 * of pushes and G_KEYS_MAX keys a round.
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

/* A repair IHave of our entries' keys and versions (gossip.c's
 * g_recv_ihave answers it with a repair graft of what the peer lacks). */
static void
g_send_list(weft_gossip_t *g, g_peer_t *p, g_entry_t *const *es, size_t n)
{
	ProtobufCBinaryData *keys;
	uint64_t *versions;
	uint8_t *bytes;
	Weft__WireMessage *m;
	size_t i;

	if (n == 0)
		return;
	m = weft_gossip__keys_msg(n, 1, &keys, &versions, &bytes);
	if (m == NULL)
		return;
	for (i = 0; i < n; i++) {
		memcpy(bytes + i * G_HASH, es[i]->key, G_HASH);
		keys[i].data = bytes + i * G_HASH;
		keys[i].len = G_HASH;
		versions[i] = es[i]->version;
	}
	m->ihave->n_keys = m->ihave->n_versions = n;
	m->ihave->repair = 1;
	g->st.lists_out++;
	weft_gossip__send(g, p->id, m);
}

static int
g_grow(g_entry_t ***es, size_t n, size_t *cap)
{
	size_t c = *cap ? *cap * 2 : 16;
	g_entry_t **np;

	if (n < *cap)
		return 0;
	np = realloc(*es, c * sizeof(*np));
	if (np == NULL)
		return -1;
	*es = np;
	*cap = c;
	return 0;
}

/*
 * Step 3, in one pass over the entries the peer may see of the marked
 * origins (o->mark), clearing the marks: push those of the origins its
 * digest lacks (mark 2: it holds none of them, nothing is sent twice),
 * and list the keys and versions of those whose digest differs (mark 1):
 * the peer grafts only what it lacks or holds older, so a digest kept
 * apart by one entry moves that entry, not its origin. Revocations are
 * pushed whatever the mark (issue 14, finding 9: they spread with
 * priority). At most a budget's worth and about G_AE_BYTES of pushes,
 * and G_KEYS_MAX keys, a round: the pass starts where the last one
 * stopped, so rounds take turns.
 */
static void
g_repair(weft_gossip_t *g, g_peer_t *p)
{
	g_entry_t **es = NULL, **ls = NULL, *e, *x;
	g_origin_t *o;
	size_t n = 0, cap = 0, ln = 0, lcap = 0, i, b, k, full = 0;
	size_t bytes = 0, max = g->cfg.budget;

	for (i = 0; i < g->nb; i++) {
		b = (g->ae_cursor + i) & (g->nb - 1);
		for (e = g->tab[b]; e; e = e->next) {
			if (!weft_gossip__shared(g, e) || !e->orig->mark ||
			    (full && e->kind != WEFT_ENTRY_REVOCATION) ||
			    !weft_gossip__visible(g, e, p))
				continue;
			if (e->orig->mark == 2 ||
			    e->kind == WEFT_ENTRY_REVOCATION) { /* push */
				if (g_grow(&es, n, &cap))
					goto out;
				es[n++] = e;
				bytes += e->len;
			} else { /* list */
				if (g_grow(&ls, ln, &lcap))
					goto out;
				ls[ln++] = e;
			}
		}
		if ((n >= max || bytes >= G_AE_BYTES || ln + 64 > G_KEYS_MAX) &&
		    !full) {
			/* the next round starts after this bucket */
			g->ae_cursor = b + 1;
			full = 1;
		}
	}
	for (i = k = 0; i < n; i++) /* revocations first */
		if (es[i]->kind == WEFT_ENTRY_REVOCATION) {
			x = es[k];
			es[k++] = es[i];
			es[i] = x;
		}
	if (n > 0)
		weft_gossip__push(g, p->id, es, n, 1);
	/* a bucket holds a few entries: the cut leaves room for one */
	g_send_list(g, p, ls, ln < G_KEYS_MAX ? ln : G_KEYS_MAX);
	p->ae_more = full; /* a node catching up gets a budget a tick */
	for (i = 0; i < n && p->cross; i++)
		weft_gossip__note(g, es[i], p);
out:
	for (i = 0; i < g->onb; i++)
		for (o = g->otab[i]; o; o = o->next)
			o->mark = 0;
	free(es);
	free(ls);
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
	 * whole origins we are about to hold. We start the round ourselves
	 * once they are settled (weft_gossip_tick): only one end starts one
	 * when a link comes up. */
	if (weft_gossip__busy(g)) {
		p->ae_more = 1;
		return 0;
	}
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
		if (!same) { /* 2: the peer holds none of it */
			g_origin_t *o = weft_gossip__origin(g, v.pk[i], 0);

			if (o != NULL)
				o->mark = any = od == NULL ? 2 : 1;
		}
	}
	free(ix);
	g_view_free(&v);
	return any;
}

/* Anti-entropy, step 2: the peer's digests. Push or list our origins
 * that differ (step 3); answer with our own digests unless this was the
 * answer. */
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
		g_repair(g, p);
	if (!d->reply) {
		Weft__WireMessage *r = g_digest_msg(g, p, 1);

		if (r != NULL) {
			g->st.digests_out++;
			weft_gossip__send(g, peer, r);
		}
	}
	return 0;
}
