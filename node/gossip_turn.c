/*
 * gossip_turn.c: the entries of a received push beyond what one turn
 * takes (issue 14, the insider's flood): a push may carry 4,096 entries,
 * each a signature check, and taken at once they hold the driver's loop
 * for tens of milliseconds (on a loaded host, seconds), so a status
 * request or another neighbour's honest entry waits behind them. The
 * core takes G_TURN of a push at once and queues the rest per neighbour
 * here (copies, at most a verification budget of entries and
 * G_PEND_BYTES); weft_gossip_work takes them a few per neighbour in
 * turn, so one neighbour's backlog does not starve the others'. What
 * does not fit is dropped and counted as throttled, as an entry over
 * the budget always was: anti-entropy brings it later.
 *
 * A queue here is plain storage: it calls nothing in gossip.c.
 */
#include <stdlib.h>
#include <string.h>

#include "node/gossip_int.h"

/* Queue a copy of env for p: 1, or 0 when p's queue is full (max
 * entries or G_PEND_BYTES) or memory ran out. */
int
weft_gossip__pend_push(g_peer_t *p, const uint8_t *env, size_t len, int bcast,
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
	memcpy(e->env, env, len);
	e->len = len;
	e->bcast = bcast;
	p->pqn++;
	p->pqbytes += len;
	return 1;
}

/* Take p's oldest queued entry (the caller frees *env): 1, or 0 if none. */
int
weft_gossip__pend_pop(g_peer_t *p, uint8_t **env, size_t *len, int *bcast)
{
	g_pend_t *e;

	if (p->pqh == p->pqn)
		return 0;
	e = &p->pq[p->pqh++];
	*env = e->env;
	*len = e->len;
	*bcast = e->bcast;
	p->pqbytes -= e->len;
	if (p->pqh == p->pqn)
		p->pqh = p->pqn = 0;
	return 1;
}

/* Drop p's queue; returns how many entries it held. */
size_t
weft_gossip__pend_free(g_peer_t *p)
{
	size_t n = p->pqn - p->pqh, i;

	for (i = p->pqh; i < p->pqn; i++)
		free(p->pq[i].env);
	free(p->pq);
	p->pq = NULL;
	p->pqh = p->pqn = p->pqcap = 0;
	p->pqbytes = 0;
	return n;
}
