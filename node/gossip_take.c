/*
 * gossip_take.c: the driver's side of the entries waiting their turn
 * (gossip_turn.c holds them): weft_gossip_work offers up to max of them
 * at once (the simulator: all, after each message); weft_gossip_take and
 * weft_gossip_give let a driver check their signatures off its loop in
 * between (the agent's verify thread, agent/gverify.c). Both take the
 * fast lanes first, then a slice of each neighbour's queue in turn, so
 * one neighbour's backlog does not starve the others'; weft_gossip_work_fast
 * takes only the fast lanes, a few an interval (the agent's loop).
 */
#include <stdlib.h>
#include <string.h>

#include "node/gossip_int.h"

size_t
weft_gossip_pending(const weft_gossip_t *g)
{
	return g->npend;
}

/* Call fn for up to max queued entries, in the order they are taken (the
 * caller takes *env): every neighbour's fast lane first, and a take that
 * found any stops there: a short batch, so an honest publish is not held
 * up behind a flood's (docs/gossip.md, "Quotas"); else (unless fast_only)
 * a slice of each neighbour's queue in turn, then of what neighbours that
 * went left. */
static size_t
g_pend_each(weft_gossip_t *g, size_t max, int fast_only,
	    void (*fn)(weft_gossip_t *g, void *arg, g_peer_t *p, uint8_t *env,
		       size_t len, int bcast, const uint8_t *key),
	    void *arg)
{
	size_t done = 0, k, n;
	uint8_t *env, key[G_HASH];
	size_t len;
	int bcast, fast;

	for (fast = 1; fast >= !!fast_only && done == 0; fast--)
		while (done < max && g->npend > 0) {
			size_t before = done;

			for (k = 0; k <= g->npeers && done < max; k++) {
				g_peer_t *p =
				    k < g->npeers
					? &g->peers[(g->turn + k) % g->npeers]
					: &g->gone;

				for (n = 0;
				     (fast || n < G_PEND_SLICE) && done < max &&
				     weft_gossip__pend_pop(p, fast, &env, &len,
							   &bcast, key);
				     n++, done++) {
					g->npend--;
					fn(g, arg, p, env, len, bcast, key);
				}
			}
			g->turn++;
			if (done == before)
				break; /* nothing was left after all */
		}
	return done;
}

struct g_work {
	uint64_t now_ms;
	int64_t unix_us;
};

static void
g_work_one(weft_gossip_t *g, void *arg, g_peer_t *p, uint8_t *env, size_t len,
	   int bcast, const uint8_t *key)
{
	struct g_work *w = arg;

	(void)weft_gossip__offer(g, w->now_ms, w->unix_us, env, len, p->id,
				 bcast, 1, NULL);
	weft_gossip__wait_del(g, key);
	free(env);
}

size_t
weft_gossip_work(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us, size_t max)
{
	struct g_work w = {now_ms, unix_us};
	size_t done = 0, n;

	while (done < max &&
	       (n = g_pend_each(g, max - done, 0, g_work_one, &w)) > 0)
		done += n;
	return g->npend;
}

size_t
weft_gossip_work_fast(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us)
{
	struct g_work w = {now_ms, unix_us};
	size_t n = g_pend_each(g, g->fast_left, 1, g_work_one, &w);

	g->fast_left -= n;
	return n;
}

struct g_take {
	uint64_t now_ms;
	int64_t unix_us;
	weft_gossip_taken_t *out;
	size_t n;
};

static void
g_take_one(weft_gossip_t *g, void *arg, g_peer_t *p, uint8_t *env, size_t len,
	   int bcast, const uint8_t *key)
{
	struct g_take *t = arg;
	weft_gossip_taken_t *o = &t->out[t->n++];
	g_peeked_t k;

	memcpy(o->key, key, sizeof(o->key));
	o->cross = p->cross;
	o->env = env;
	o->len = len;
	o->peer = p->id;
	o->bcast = bcast;
	o->bad = 0;
	/* what weft_gossip__offer would check now (the entry may have
	 * come from another neighbour meanwhile, or its origin's tokens
	 * gone): a flood's surplus is never checked */
	o->check = weft_gossip__judge(g, t->now_ms, t->unix_us, env, len, p,
				      &k) == G_WORTH;
}

size_t
weft_gossip_take(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
		 weft_gossip_taken_t *out, size_t max)
{
	struct g_take t = {now_ms, unix_us, out, 0};

	(void)g_pend_each(g, max, 0, g_take_one, &t);
	g->nout += t.n;
	return t.n;
}

void
weft_gossip_give(weft_gossip_t *g, uint64_t now_ms, int64_t unix_us,
		 weft_gossip_taken_t *in, size_t n)
{
	size_t i;

	g->nout -= n < g->nout ? n : g->nout;
	for (i = 0; i < n; i++) {
		/* a neighbour gone meanwhile: of another org, what it sent
		 * is dropped (its trust boundary went with it; anti-entropy
		 * brings it); of ours, offered under its id still (its
		 * origins' replacement rates hold) */
		int gone = weft_gossip__peer(g, in[i].peer) == NULL;

		if (in[i].bad)
			g->st.refused++;
		else if (gone && in[i].cross)
			g->st.throttled++;
		else
			(void)weft_gossip__offer(g, now_ms, unix_us, in[i].env,
						 in[i].len, in[i].peer,
						 in[i].bcast, 1, NULL);
		weft_gossip__wait_del(g, in[i].key);
	}
	weft_gossip_taken_free(in, n);
}

void
weft_gossip_taken_free(weft_gossip_taken_t *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(in[i].env);
		in[i].env = NULL;
	}
}
