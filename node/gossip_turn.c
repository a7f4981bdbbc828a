/*
 * gossip_turn.c: the entries of received pushes, waiting their turn
 * (issue 14, the insider's flood): a push may carry 4,096 entries, each
 * a signature check, and taken at once they held the driver's loop for
 * tens of milliseconds (on a loaded host, seconds), so a status request
 * or another neighbour's honest entry waited behind them. The core
 * queues a push's entries per neighbour here (copies, at most a
 * verification budget of entries and G_PEND_BYTES); weft_gossip_work
 * (or weft_gossip_take, for a driver that verifies them off its loop)
 * takes them a few per neighbour in turn, so one neighbour's backlog
 * does not starve the others'. What does not fit is dropped and counted
 * as throttled, as an entry over the budget always was: anti-entropy
 * brings it later.
 *
 * The keys of the entries waiting (queued, or taken and not given back)
 * are kept in a multiset: an announcement (IHave) of one of them is not
 * a loss, and grafting for it would fetch a second copy and put the
 * link back on the tree for nothing (measured with the agent verifying
 * on a thread: a node's duplicates grew from ~10k to ~800k in the
 * insider benchmark, grafts ~8-fold).
 *
 * Plain storage: it calls nothing in gossip.c. gossip.c queues a push's
 * entries here as they come; gossip_take.c takes them.
 */
#include <stdlib.h>
#include <string.h>

#include "node/gossip_int.h"

/* ---- the waiting keys ---- */

static size_t
w_home(const uint8_t *key, size_t cap)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h)); /* keys are hashes already */
	return (size_t)h & (cap - 1);
}

/* The slot holding key, or the empty one where it would go. */
static size_t
w_slot(const weft_gossip_t *g, const uint8_t *key)
{
	size_t i = w_home(key, g->wcap);

	while (g->wn[i] != 0 && memcmp(g->wk[i], key, G_HASH) != 0)
		i = (i + 1) & (g->wcap - 1);
	return i;
}

static int
w_grow(weft_gossip_t *g)
{
	size_t cap = g->wcap ? g->wcap * 2 : 64, i, j;
	uint8_t(*k)[G_HASH] = calloc(cap, G_HASH);
	uint32_t *n = calloc(cap, sizeof(*n));

	if (k == NULL || n == NULL) {
		free(k);
		free(n);
		return -1;
	}
	for (i = 0; i < g->wcap; i++) {
		if (g->wn[i] == 0)
			continue;
		for (j = w_home(g->wk[i], cap); n[j] != 0;
		     j = (j + 1) & (cap - 1))
			;
		memcpy(k[j], g->wk[i], G_HASH);
		n[j] = g->wn[i];
	}
	free(g->wk);
	free(g->wn);
	g->wk = k;
	g->wn = n;
	g->wcap = cap;
	return 0;
}

int
weft_gossip__wait_add(weft_gossip_t *g, const uint8_t key[G_HASH])
{
	size_t i;

	if ((g->wcount + 1) * 2 > g->wcap && w_grow(g) != 0)
		return -1;
	i = w_slot(g, key);
	if (g->wn[i] == 0) {
		memcpy(g->wk[i], key, G_HASH);
		g->wcount++;
	}
	g->wn[i]++;
	return 0;
}

void
weft_gossip__wait_del(weft_gossip_t *g, const uint8_t key[G_HASH])
{
	size_t i, j, h, mask = g->wcap - 1;

	if (g->wcap == 0 || g->wn[i = w_slot(g, key)] == 0 || --g->wn[i] > 0)
		return;
	if (--g->wcount == 0) { /* none waits: no table held (the
				 * simulator's million cores drain after
				 * every message) */
		weft_gossip__wait_free(g);
		return;
	}
	/* shift back what the freed slot kept from its home (no tombstones) */
	for (j = (i + 1) & mask; g->wn[j] != 0; j = (j + 1) & mask) {
		h = w_home(g->wk[j], g->wcap);
		if (((j - h) & mask) < ((j - i) & mask))
			continue; /* its home lies after the gap */
		memcpy(g->wk[i], g->wk[j], G_HASH);
		g->wn[i] = g->wn[j];
		g->wn[j] = 0;
		i = j;
	}
}

int
weft_gossip__waiting(const weft_gossip_t *g, const uint8_t key[G_HASH])
{
	return g->wcap != 0 && g->wn[w_slot(g, key)] != 0;
}

void
weft_gossip__wait_free(weft_gossip_t *g)
{
	free(g->wk);
	free(g->wn);
	g->wk = NULL;
	g->wn = NULL;
	g->wcap = g->wcount = 0;
}

/* ---- the queues ---- */

/* Queue a copy of env (whose key is key) for p: 1, or 0 when p's queue is
 * full (max entries or G_PEND_BYTES) or memory ran out. */
int
weft_gossip__pend_push(weft_gossip_t *g, g_peer_t *p, const uint8_t *env,
		       size_t len, const uint8_t key[G_HASH], int bcast,
		       size_t max)
{
	g_pend_t *e;

	if (p->pqn - p->pqh >= max || p->pqbytes + len > G_PEND_BYTES)
		return 0;
	if (p->pqn == p->pqcap) {
		if (p->pqh > 0) { /* room at the front: slide down */
			memmove(p->pq, p->pq + p->pqh,
				(p->pqn - p->pqh) * sizeof(*p->pq));
			p->pqn -= p->pqh;
			p->pqh = 0;
		} else {
			size_t cap = p->pqcap ? p->pqcap * 2 : 64;
			g_pend_t *q = realloc(p->pq, cap * sizeof(*q));

			if (q == NULL)
				return 0;
			p->pq = q;
			p->pqcap = cap;
		}
	}
	e = &p->pq[p->pqn];
	if ((e->env = malloc(len ? len : 1)) == NULL)
		return 0;
	if (weft_gossip__wait_add(g, key) != 0) {
		free(e->env);
		return 0;
	}
	memcpy(e->env, env, len);
	memcpy(e->key, key, G_HASH);
	e->len = len;
	e->bcast = bcast;
	p->pqn++;
	p->pqbytes += len;
	return 1;
}

/* Take p's oldest queued entry (the caller frees *env, and drops key from
 * the waiting ones once it is handled): 1, or 0 if none. */
int
weft_gossip__pend_pop(g_peer_t *p, uint8_t **env, size_t *len, int *bcast,
		      uint8_t key[G_HASH])
{
	g_pend_t *e;

	if (p->pqh == p->pqn)
		return 0;
	e = &p->pq[p->pqh++];
	*env = e->env;
	*len = e->len;
	*bcast = e->bcast;
	memcpy(key, e->key, G_HASH);
	p->pqbytes -= e->len;
	if (p->pqh == p->pqn) { /* drained: no array held (the simulator's
				 * cores drain after every message) */
		free(p->pq);
		p->pq = NULL;
		p->pqh = p->pqn = p->pqcap = 0;
	}
	return 1;
}

/* Drop p's queue; returns how many entries it held. */
size_t
weft_gossip__pend_free(weft_gossip_t *g, g_peer_t *p)
{
	size_t n = p->pqn - p->pqh, i;

	for (i = p->pqh; i < p->pqn; i++) {
		weft_gossip__wait_del(g, p->pq[i].key);
		free(p->pq[i].env);
	}
	free(p->pq);
	p->pq = NULL;
	p->pqh = p->pqn = p->pqcap = 0;
	p->pqbytes = 0;
	return n;
}

size_t
weft_gossip__pend_move(weft_gossip_t *g, g_peer_t *to, g_peer_t *from,
		       size_t max)
{
	uint8_t *env, key[G_HASH];
	size_t len, dropped = 0;
	int bcast;

	while (weft_gossip__pend_pop(from, &env, &len, &bcast, key)) {
		if (!weft_gossip__pend_push(g, to, env, len, key, bcast, max))
			dropped++;
		weft_gossip__wait_del(g, key);
		free(env);
	}
	return dropped + weft_gossip__pend_free(g, from);
}
