/*
 * engine.c: event queue and random streams of the simulator (engine.h).
 *
 * The queue is a 4-ary heap of 48-byte events held by value: a pop moves
 * an event down log4(n) levels, comparing four adjacent children at each
 * (half the levels of a binary heap, the children on one or two cache
 * lines).
 */
#include "sim/engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

static int
weft_sim_ev_less(const weft_sim_ev_t *a, const weft_sim_ev_t *b)
{
	return a->t < b->t || (a->t == b->t && a->key < b->key);
}

int
weft_sim_heap_push(weft_sim_heap_t *h, const weft_sim_ev_t *e)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		weft_sim_ev_t *v = realloc(h->v, cap * sizeof(*v));

		if (v == NULL)
			return WEFT_ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 4;

		if (!weft_sim_ev_less(e, &h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = *e;
	return 0;
}

const weft_sim_ev_t *
weft_sim_heap_top(const weft_sim_heap_t *h)
{
	return h->n ? &h->v[0] : NULL;
}

int
weft_sim_heap_pop(weft_sim_heap_t *h, weft_sim_ev_t *out)
{
	weft_sim_ev_t last;
	size_t i = 0, n;

	if (h->n == 0)
		return 0;
	*out = h->v[0];
	last = h->v[--h->n];
	n = h->n;
	for (;;) {
		size_t c = 4 * i + 1, best, k;

		if (c >= n)
			break;
		best = c;
		for (k = c + 1; k < c + 4 && k < n; k++)
			if (weft_sim_ev_less(&h->v[k], &h->v[best]))
				best = k;
		if (!weft_sim_ev_less(&h->v[best], &last))
			break;
		h->v[i] = h->v[best];
		i = best;
	}
	if (n > 0)
		h->v[i] = last;
	return 1;
}

void
weft_sim_heap_free(weft_sim_heap_t *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->v[i].buf);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

uint64_t
weft_sim_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t
weft_sim_below(uint64_t *s, uint64_t n)
{
	uint64_t lim, r;

	if (n <= 1)
		return 0;
	lim = UINT64_MAX - UINT64_MAX % n;
	do
		r = weft_sim_rand(s);
	while (r >= lim);
	return r % n;
}

double
weft_sim_unit(uint64_t *s)
{
	return (double)(weft_sim_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

double
weft_sim_normal(uint64_t *s)
{
	double u = weft_sim_unit(s), v = weft_sim_unit(s);

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2.0 * log(u)) * cos(2.0 * 3.14159265358979323846 * v);
}

uint64_t
weft_sim_mix(uint64_t a, uint64_t b)
{
	uint64_t s = a ^ (b * 0xd1342543de82ef95ull);

	(void)weft_sim_rand(&s);
	return weft_sim_rand(&s);
}
