/*
 * gossip_overlay.c: the bounded overlay (HyParView, Leitão, Pereira and
 * Rodrigues, DSN 2007; docs/gossip.md, "Overlay").
 *
 * Every session is a neighbour in the active view, which holds at most
 * active_max of them. A session that takes it over the maximum keeps its
 * place: a random other neighbour (one of our own org first, so that the
 * links between orgs survive) is told GossipDisconnect and let go; both
 * ends take that as no failure (no report, no redial for a while). The
 * passive view, the nodes we may dial to replace a lost neighbour, is
 * the catalog's node records (tick, g_pick in gossip.c).
 *
 * Joining: a node whose first neighbour just came up (a seed, or anyone
 * after it was left alone) sends it GossipJoin with its own record; that
 * neighbour sends a GossipForwardJoin on a random walk of G_ARWL hops to
 * up to `degree` of its other neighbours, and the node at each walk's
 * end dials the joiner if it has room. A joiner thus gets its neighbours
 * from all over the mesh, not from the seed, which keeps only its active
 * view. Walks stay inside the org of their first hop, and the contact
 * starts one only towards neighbours that may see the joiner's record.
 *
 * Nothing here calls back into gossip.c (which verifies the records and
 * dials).
 */
#include <stdlib.h>
#include <string.h>

#include "node/gossip_int.h"
#include "node/wire.h"

uint64_t
weft_gossip__rand(weft_gossip_t *g)
{
	/* splitmix64: deterministic from the seed */
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

size_t
weft_gossip__active(const weft_gossip_t *g)
{
	size_t i, n = 0;

	for (i = 0; i < g->npeers; i++)
		n += !g->peers[i].parting;
	return n;
}

/* A message with a copy of record (NULL without memory). */
static Weft__WireMessage *
ov_msg(int join, const uint8_t *record, size_t len, uint32_t ttl)
{
	Weft__WireMessage *m = calloc(1, sizeof(*m));
	uint8_t *copy = malloc(len);
	Weft__GossipJoin *j = NULL;
	Weft__GossipForwardJoin *f = NULL;

	if (join)
		j = calloc(1, sizeof(*j));
	else
		f = calloc(1, sizeof(*f));
	if (m == NULL || copy == NULL || (j == NULL && f == NULL)) {
		free(m);
		free(copy);
		free(j);
		free(f);
		return NULL;
	}
	memcpy(copy, record, len);
	weft__wire_message__init(m);
	if (join) {
		weft__gossip_join__init(j);
		j->record.data = copy;
		j->record.len = len;
		m->msg_case = WEFT__WIRE_MESSAGE__MSG_JOIN;
		m->join = j;
	} else {
		weft__gossip_forward_join__init(f);
		f->record.data = copy;
		f->record.len = len;
		f->ttl = ttl;
		m->msg_case = WEFT__WIRE_MESSAGE__MSG_FORWARD_JOIN;
		m->forward_join = f;
	}
	return m;
}

static void
ov_send(weft_gossip_t *g, uint64_t peer, int join, const uint8_t *record,
	size_t len, uint32_t ttl)
{
	Weft__WireMessage *m = ov_msg(join, record, len, ttl);

	if (m == NULL)
		return;
	if (join)
		g->st.joins_out++;
	else
		g->st.forward_joins_out++;
	weft_gossip__send(g, peer, m);
}

/* A random neighbour, not parting, not skip; with same set only those of
 * our own org, with lazy set only those off the broadcast tree; NULL if
 * none. */
static g_peer_t *
ov_pick(weft_gossip_t *g, const g_peer_t *skip, int same, int lazy)
{
	g_peer_t *pick = NULL;
	size_t i, seen = 0;

	for (i = 0; i < g->npeers; i++) {
		g_peer_t *q = &g->peers[i];

		if (q == skip || q->parting || (same && q->cross) ||
		    (lazy && !q->lazy))
			continue;
		if (weft_gossip__rand(g) % ++seen == 0)
			pick = q;
	}
	return pick;
}

/* End our link to q: a Disconnect, then the driver closes it. */
static void
ov_disconnect(weft_gossip_t *g, g_peer_t *q)
{
	Weft__WireMessage *m = calloc(1, sizeof(*m));
	Weft__GossipDisconnect *d = calloc(1, sizeof(*d));
	weft_out_t *o;

	q->parting = 1;
	if (m != NULL && d != NULL) {
		weft__wire_message__init(m);
		weft__gossip_disconnect__init(d);
		m->msg_case = WEFT__WIRE_MESSAGE__MSG_DISCONNECT;
		m->disconnect = d;
		weft_gossip__send(g, q->id, m);
	} else {
		free(m);
		free(d);
	}
	g->st.disconnects_out++;
	if ((o = weft_gossip__out(g, WEFT_OUT_PART)) != NULL) {
		o->peer = q->id;
		o->n = 1;
	}
}

/*
 * Let one neighbour other than p go; 0 if there was none to let go. One
 * of our own org first, so that the few links between orgs survive; of
 * those, one off the broadcast tree first: a tree link let go costs the
 * next broadcasts a repair (announcement, graft, payload: three link
 * delays) on every node below it. With the overlay mixing, 256 agents
 * replace ~8 links a second; picking any link made a publish take 826
 * ms where the tree's depth alone takes ~450 (bench/wan.sh).
 */
static int
ov_let_go_one(weft_gossip_t *g, const g_peer_t *p)
{
	g_peer_t *q = ov_pick(g, p, 1, 1);

	if (q == NULL)
		q = ov_pick(g, p, 1, 0);
	if (q == NULL)
		q = ov_pick(g, p, 0, 1);
	if (q == NULL)
		q = ov_pick(g, p, 0, 0);
	if (q == NULL)
		return 0;
	ov_disconnect(g, q);
	return 1;
}

void
weft_gossip__overlay_up(weft_gossip_t *g, g_peer_t *p)
{
	size_t active = weft_gossip__active(g);

	while (active > g->cfg.active_max && ov_let_go_one(g, p))
		active--;
	/* the member a mix dialled: it replaces a neighbour over `degree` */
	if (g->mixing && memcmp(p->pk, g->mix_pk, WEFT_PK_BYTES) == 0) {
		g->mixing = 0;
		if (active > g->cfg.degree && ov_let_go_one(g, p))
			active--;
	}
	if (active == 1) {
		const g_entry_t *self = weft_gossip__node(g, g->self);

		if (self != NULL && self->env != NULL &&
		    self->len <= WEFT_WIRE_JOIN_MAX)
			ov_send(g, p->id, 1, self->env, self->len, 0);
	}
}

void
weft_gossip__overlay_join(weft_gossip_t *g, const g_peer_t *p,
			  const g_entry_t *e)
{
	size_t i, n = 0, k;
	g_peer_t **to;

	g->st.joins_in++;
	if (g->npeers < 2 || (to = malloc(g->npeers * sizeof(*to))) == NULL)
		return;
	for (i = 0; i < g->npeers; i++) {
		g_peer_t *q = &g->peers[i];

		if (q != p && !q->parting &&
		    memcmp(q->pk, e->origin, WEFT_PK_BYTES) != 0 &&
		    (!q->cross || weft_gossip__visible(g, e, q)))
			to[n++] = q;
	}
	/* `degree` of them at random (a partial Fisher-Yates shuffle) */
	for (k = 0; k < n && k < g->cfg.degree; k++) {
		size_t j = k + (size_t)(weft_gossip__rand(g) % (n - k));
		g_peer_t *t = to[j];

		to[j] = to[k];
		to[k] = t;
		ov_send(g, t->id, 0, e->env, e->len, G_ARWL);
	}
	free(to);
}

int
weft_gossip__overlay_forward(weft_gossip_t *g, const g_peer_t *p,
			     const Weft__GossipForwardJoin *fj)
{
	g_peer_t *q;

	g->st.forward_joins_in++;
	if (fj->ttl == 0 || weft_gossip__active(g) <= 1)
		return 1;
	/* walk on, inside this org (the contact checked who may see the
	 * record; we hold it unverified, so it goes no further out) */
	q = ov_pick(g, p, 1, 0);
	if (q == NULL)
		return 1;
	ov_send(g, q->id, 0, fj->record.data, fj->record.len, fj->ttl - 1);
	return 0;
}

/* Do we have a session with pk, or do we suspect it (a lost neighbour
 * we may report)? Its record stays then. */
static int
ov_keep(const weft_gossip_t *g, const uint8_t *pk)
{
	size_t i;

	if (memcmp(pk, g->self, WEFT_PK_BYTES) == 0 ||
	    weft_gossip__connected(g, pk))
		return 1;
	for (i = 0; i < g->nlost; i++)
		if (memcmp(g->lost[i].pk, pk, WEFT_PK_BYTES) == 0)
			return 1;
	return 0;
}

void
weft_gossip__overlay_passive(weft_gossip_t *g)
{
	for (;;) {
		g_entry_t *e, *pick = NULL;
		size_t i, seen = 0;

		for (i = 0; i < g->nb; i++)
			for (e = g->tab[i]; e; e = e->next)
				if (e->kind == WEFT_ENTRY_NODE &&
				    !ov_keep(g, e->origin) &&
				    weft_gossip__rand(g) % ++seen == 0)
					pick = e;
		if (seen <= G_PASSIVE_MAX || pick == NULL)
			return;
		weft_gossip__drop(g, pick);
	}
}

void
weft_gossip__overlay_parted(weft_gossip_t *g, g_peer_t *p)
{
	weft_out_t *o;

	if (p->parting)
		return;
	p->parting = 1;
	g->st.disconnects_in++;
	if ((o = weft_gossip__out(g, WEFT_OUT_PART)) != NULL) {
		o->peer = p->id;
		o->n = 0;
	}
}
