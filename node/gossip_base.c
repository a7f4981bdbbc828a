/*
 * gossip_base.c: what the gossip core's files share (gossip_int.h): the
 * tables of entries and origins, the outputs, pushes, and what may cross
 * a link into another org. Nothing here calls back into gossip.c or
 * gossip_ae.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "node/gossip_int.h"

g_entry_t *
weft_gossip__find_key(const weft_gossip_t *g, const uint8_t key[G_HASH])
{
	g_entry_t *e;

	if (g->nb == 0)
		return NULL;
	for (e = g->tab[weft_gossip__bucket(key, g->nb)]; e; e = e->next)
		if (memcmp(e->key, key, G_HASH) == 0)
			return e;
	return NULL;
}

g_entry_t *
weft_gossip__find(const weft_gossip_t *g, int kind, const uint8_t *origin,
		  const char *name)
{
	uint8_t key[G_HASH];
	g_entry_t *e;

	weft_gossip__key(kind, origin, name, key);
	e = weft_gossip__find_key(g, key);
	if (e != NULL && e->kind == kind &&
	    memcmp(e->origin, origin, WEFT_PK_BYTES) == 0 &&
	    strcmp(e->name, name) == 0)
		return e;
	return NULL;
}

g_origin_t *
weft_gossip__origin(weft_gossip_t *g, const uint8_t *pk, int create)
{
	g_origin_t *o;
	size_t b;

	if (g->onb == 0) {
		if (!create)
			return NULL;
		g->otab = calloc(16, sizeof(*g->otab));
		if (g->otab == NULL)
			return NULL;
		g->onb = 16;
	}
	b = XXH64(pk, WEFT_PK_BYTES, 1) & (g->onb - 1);
	for (o = g->otab[b]; o; o = o->next)
		if (memcmp(o->pk, pk, WEFT_PK_BYTES) == 0)
			return o;
	if (!create)
		return NULL;
	if (g->on >= g->onb) { /* grow */
		size_t nb = g->onb * 2, i;
		g_origin_t **t = calloc(nb, sizeof(*t)), *p, *next;

		if (t == NULL)
			return NULL;
		for (i = 0; i < g->onb; i++)
			for (p = g->otab[i]; p; p = next) {
				size_t k =
				    XXH64(p->pk, WEFT_PK_BYTES, 1) & (nb - 1);

				next = p->next;
				p->next = t[k];
				t[k] = p;
			}
		free(g->otab);
		g->otab = t;
		g->onb = nb;
		b = XXH64(pk, WEFT_PK_BYTES, 1) & (g->onb - 1);
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return NULL;
	memcpy(o->pk, pk, WEFT_PK_BYTES);
	o->next = g->otab[b];
	g->otab[b] = o;
	g->on++;
	return o;
}

weft_out_t *
weft_gossip__out(weft_gossip_t *g, weft_out_kind_t kind)
{
	return weft_outq_push(&g->out, kind);
}

/* Have we a session with node pk? */
int
weft_gossip__connected(const weft_gossip_t *g, const uint8_t *pk)
{
	size_t i;

	for (i = 0; i < g->npeers; i++)
		if (memcmp(g->peers[i].pk, pk, WEFT_PK_BYTES) == 0)
			return 1;
	return 0;
}

/* The node entry of pk, if held. */
g_entry_t *
weft_gossip__node(const weft_gossip_t *g, const uint8_t *pk)
{
	return weft_gossip__find(g, WEFT_ENTRY_NODE, pk, "node");
}

/*
 * May e cross our link to p (of another org)? Both ends answer alike:
 * descriptors and policies to the orgs they name; gateways' node records
 * and reports always; the two orgs' own over a direct link.
 */
int
weft_gossip__visible(const weft_gossip_t *g, const g_entry_t *e,
		     const g_peer_t *p)
{
	const g_entry_t *n, *r;

	if (!p->cross)
		return 1;
	switch (e->kind) {
	case WEFT_ENTRY_DESCRIPTOR:
	case WEFT_ENTRY_POLICY:
		return weft_gossip__vis_org(e, p->org) &&
		       weft_gossip__vis_org(e, g->cfg.signer->org);
	case WEFT_ENTRY_REVOCATION: return 1; /* to all who trust its root */
	case WEFT_ENTRY_NODE: n = e; break;
	case WEFT_ENTRY_REPORT:
		/* across orgs only a gateway's reports: any member could
		 * otherwise mark another org's gateway failed there */
		n = weft_gossip__node(g, e->subject);
		if (n == NULL ||
		    (r = weft_gossip__node(g, e->origin)) == NULL ||
		    !r->gateway)
			return 0;
		break;
	default: return 0;
	}
	if (n->gateway)
		return 1;
	return p->direct && (strcmp(n->origin_org, p->org) == 0 ||
			     strcmp(n->origin_org, g->cfg.signer->org) == 0);
}

void
weft_gossip__send(weft_gossip_t *g, uint64_t peer, Weft__WireMessage *m)
{
	weft_out_t *o = weft_gossip__out(g, WEFT_OUT_SEND);

	if (o == NULL) {
		weft_gossip_msg_free(m);
		return;
	}
	o->peer = peer;
	o->msg = m;
	g->st.bytes_out += weft__wire_message__get_packed_size(m);
}

/* A push of entries es[0..n) to peer, split to stay under G_PUSH_MAX. */
void
weft_gossip__push(weft_gossip_t *g, uint64_t peer, g_entry_t *const *es,
		  size_t n, int repair)
{
	size_t i = 0;

	while (i < n) {
		Weft__WireMessage *m = calloc(1, sizeof(*m));
		Weft__GossipPush *p = calloc(1, sizeof(*p));
		size_t k = 0, bytes = 0, j;

		if (m == NULL || p == NULL) {
			free(m);
			free(p);
			return;
		}
		for (j = i;
		     j < n && (k == 0 || bytes + es[j]->len < G_PUSH_MAX);
		     j++) {
			bytes += es[j]->len;
			k++;
		}
		weft__wire_message__init(m);
		weft__gossip_push__init(p);
		p->entries = calloc(k, sizeof(*p->entries));
		if (p->entries == NULL) {
			free(m);
			free(p);
			return;
		}
		/* copies: an entry may be replaced before this is sent */
		for (j = 0; j < k; j++) {
			p->entries[j].data = malloc(es[i + j]->len);
			if (p->entries[j].data == NULL)
				break;
			memcpy(p->entries[j].data, es[i + j]->env,
			       es[i + j]->len);
			p->entries[j].len = es[i + j]->len;
		}
		p->n_entries = j;
		p->repair = repair;
		m->msg_case = WEFT__WIRE_MESSAGE__MSG_PUSH;
		m->push = p;
		g->st.pushes_out++;
		weft_gossip__send(g, peer, m);
		i += k;
	}
}

/*
 * Is e part of the shared catalog (anti-entropy, forwarding)? With
 * partial membership, node records and failure reports stay one hop.
 */
int
weft_gossip__shared(const weft_gossip_t *g, const g_entry_t *e)
{
	return !g->cfg.partial ||
	       (e->kind != WEFT_ENTRY_NODE && e->kind != WEFT_ENTRY_REPORT);
}

void
weft_gossip__note(weft_gossip_t *g, const g_entry_t *e, const g_peer_t *p)
{
	weft_out_t *o = weft_gossip__out(g, WEFT_OUT_NOTE);
	static const char *kinds[] = {"?",	"node",	  "descriptor",
				      "policy", "report", "revocation"};

	if (o == NULL)
		return;
	o->peer = p->id;
	snprintf(o->text, sizeof(o->text),
		 "forwarded %s %s of org %s "
		 "version %llu%s to org %s",
		 kinds[e->kind >= 1 && e->kind <= 5 ? e->kind : 0], e->name,
		 e->origin_org, (unsigned long long)e->version,
		 e->tombstone ? " (drop)" : "", p->org);
}

/* Forget a held entry: out of its chain, the digests, the quotas and
 * the list of reports. */
void
weft_gossip__drop(weft_gossip_t *g, g_entry_t *e)
{
	g_entry_t **pp = &g->tab[weft_gossip__bucket(e->key, g->nb)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->next;
	if (*pp == NULL)
		return;
	*pp = e->next;
	if (e->kind == WEFT_ENTRY_REPORT)
		for (size_t i = 0; i < g->nreps; i++)
			if (g->reps[i] == e) {
				g->reps[i] = g->reps[--g->nreps];
				break;
			}
	if (weft_gossip__shared(g, e)) {
		weft_gossip__xor(e->orig->hash, e->hash);
		weft_gossip__xor(g->root, e->hash);
		if (--e->orig->count == 0) {
			g_origin_t **op = &g->shared_o;

			while (*op != NULL && *op != e->orig)
				op = &(*op)->snext;
			if (*op != NULL)
				*op = e->orig->snext;
		}
		g->nshared--;
	}
	weft_gossip__quota_uncharge(&g->q, e->orig, G_COST(e->len, e->name));
	g->n--;
	g->st.entries = g->n;
	free(e->env);
	free(e->name);
	free(e->visible_to);
	free(e->nblk);
	free(e);
}
