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
 * Each neighbour has two queues: a fast lane, for the entries of origins
 * that sent few lately (an honest publish in a flood: it went behind the
 * flood's backlog at every hop, 6.3 s to reach 32 agents), taken first,
 * and the rest (docs/gossip.md, "A fast lane for origins that send few").
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

/* Append e (taking its env) to q: 1, or 0 when memory ran out. */
static int
pq_add(g_pq_t *q, const g_pend_t *e)
{
	if (q->n == q->cap) {
		if (q->h > 0) { /* room at the front: slide down */
			memmove(q->q, q->q + q->h,
				(q->n - q->h) * sizeof(*q->q));
			q->n -= q->h;
			q->h = 0;
		} else {
			size_t cap = q->cap ? q->cap * 2 : 64;
			g_pend_t *a = realloc(q->q, cap * sizeof(*a));

			if (a == NULL)
				return 0;
			q->q = a;
			q->cap = cap;
		}
	}
	q->q[q->n++] = *e;
	q->bytes += e->len;
	return 1;
}

/* Take q's oldest into *e: 1, or 0 if none. */
static int
pq_take(g_pq_t *q, g_pend_t *e)
{
	if (q->h == q->n)
		return 0;
	*e = q->q[q->h++];
	q->bytes -= e->len;
	if (q->h == q->n) { /* drained: no array held (the simulator's
			     * cores drain after every message) */
		free(q->q);
		memset(q, 0, sizeof(*q));
	}
	return 1;
}

/* Queue e (its env and key taken) for p, in the fast lane when fast and
 * the lane has room, else in the rest (at most max entries and
 * G_PEND_BYTES): 1, or 0 when full or out of memory. */
static int
pq_push(weft_gossip_t *g, g_peer_t *p, const g_pend_t *e, int fast, size_t max)
{
	g_pq_t *q = &p->pq;

	if (fast && p->fq.n - p->fq.h < G_FAST_MAX &&
	    p->fq.bytes + e->len <= G_FAST_BYTES)
		q = &p->fq;
	else if (p->pq.n - p->pq.h >= max ||
		 p->pq.bytes + e->len > G_PEND_BYTES)
		return 0;
	if (weft_gossip__wait_add(g, e->key) != 0)
		return 0;
	if (!pq_add(q, e)) {
		weft_gossip__wait_del(g, e->key);
		return 0;
	}
	return 1;
}

/* o's entries queued lately, as of now (halved at each tick since). */
static uint32_t
pq_seen(const weft_gossip_t *g, const g_origin_t *o)
{
	uint32_t gap = (uint32_t)g->ticks - o->seen_tick;

	return gap >= 32 ? 0 : o->seen >> gap;
}

int
weft_gossip__quiet(const weft_gossip_t *g, const g_origin_t *o)
{
	return o != NULL && pq_seen(g, o) <= G_FAST_ORIGIN;
}

/*
 * An entry a user waits for (a product's descriptor, a policy, a
 * revocation) from an origin that sent few lately (pq_fast): stored
 * at once (out.h, WEFT_OUT_STORE); and while another origin floods
 * (weft_gossip__loud), pushed to every neighbour, not only along the
 * tree: the flood's prunes and grafts reshape the tree, and a node off
 * it learnt an honest publish only from an announcement at the next tick
 * and a graft (docs/gossip.md, "Urgent entries").
 * In a quiet mesh the tree carries it alone, one push per node.
 */
int
weft_gossip__urgent(const weft_gossip_t *g, const g_entry_t *e)
{
	return (e->kind == WEFT_ENTRY_DESCRIPTOR ||
		e->kind == WEFT_ENTRY_POLICY ||
		e->kind == WEFT_ENTRY_REVOCATION) &&
	       weft_gossip__quiet(g, e->orig);
}

/* Is an entry of origin o (NULL: none held) for the fast lane? Counts it
 * as seen. An origin sending a few entries now and then (an honest
 * publish) takes it; one sending more than G_FAST_ORIGIN a tick (a
 * flood, a bulk publish) stays out of it until it slows down. Only an
 * origin already held counts (an unverified claim makes no record), so
 * an unknown origin waits its turn; a forged claim can only send the
 * claimed origin's next entries down the other lane, as before the fast
 * lane was. */
static int
pq_fast(weft_gossip_t *g, g_origin_t *o)
{
	if (o == NULL)
		return 0;
	o->seen = pq_seen(g, o);
	o->seen_tick = (uint32_t)g->ticks;
	if (o->seen < UINT32_MAX)
		o->seen++;
	if (o->seen <= G_FAST_ORIGIN)
		return 1;
	g->loud_at = g->ticks + 1;
	return 0;
}

int
weft_gossip__loud(const weft_gossip_t *g)
{
	return g->loud_at != 0 && g->ticks + 1 - g->loud_at < G_LOUD_TICKS;
}

/* Queue a copy of env (whose key is key, whose origin claims to be
 * origin) for p: 1, or 0 when p's queue is full or memory ran out. */
int
weft_gossip__pend_push(weft_gossip_t *g, g_peer_t *p, const uint8_t *env,
		       size_t len, const uint8_t key[G_HASH],
		       const uint8_t origin[WEFT_PK_BYTES], int bcast,
		       size_t max)
{
	g_pend_t e;
	int fast;

	if ((e.env = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(e.env, env, len);
	memcpy(e.key, key, G_HASH);
	e.len = len;
	e.bcast = bcast;
	/* a second copy (another neighbour's) is not counted again: it
	 * waits behind, and is a duplicate by the time it is taken */
	fast = !weft_gossip__waiting(g, key) &&
	       pq_fast(g, weft_gossip__origin(g, origin, 0));
	if (!pq_push(g, p, &e, fast, max)) {
		free(e.env);
		return 0;
	}
	return 1;
}

/* Take the oldest entry of p's fast lane (fast) or of the rest (the
 * caller frees *env, and drops key from the waiting ones once it is
 * handled): 1, or 0 if none. */
int
weft_gossip__pend_pop(g_peer_t *p, int fast, uint8_t **env, size_t *len,
		      int *bcast, uint8_t key[G_HASH])
{
	g_pend_t e;

	if (!pq_take(fast ? &p->fq : &p->pq, &e))
		return 0;
	*env = e.env;
	*len = e.len;
	*bcast = e.bcast;
	memcpy(key, e.key, G_HASH);
	return 1;
}

/* Drop p's queues; returns how many entries they held. */
size_t
weft_gossip__pend_free(weft_gossip_t *g, g_peer_t *p)
{
	g_pq_t *qs[2] = {&p->fq, &p->pq};
	size_t n = 0;
	g_pend_t e;

	for (int i = 0; i < 2; i++)
		for (; pq_take(qs[i], &e); n++) {
			weft_gossip__wait_del(g, e.key);
			free(e.env);
		}
	return n;
}

size_t
weft_gossip__pend_move(weft_gossip_t *g, g_peer_t *to, g_peer_t *from,
		       size_t max)
{
	g_pq_t *qs[2] = {&from->fq, &from->pq};
	size_t dropped = 0;
	g_pend_t e;

	for (int i = 0; i < 2; i++)
		while (pq_take(qs[i], &e)) {
			/* the key stays waiting all along */
			if (!pq_push(g, to, &e, i == 0, max)) {
				dropped++;
				free(e.env);
			}
			weft_gossip__wait_del(g, e.key);
		}
	return dropped;
}
