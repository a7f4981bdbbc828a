/*
 * engine.h: the simulator's discrete-event core: a priority queue of
 * events in virtual time (microseconds) and the deterministic random
 * numbers every decision of a run is drawn from.
 *
 * Order: events pop by (t, key). The key is (source << 44 | the source's
 * sequence number), where the source is the node (or the scenario) that
 * scheduled the event. Both parts are fixed by the run's seed alone, so
 * the order never depends on how many threads ran the windows or on heap
 * layout: same seed, same run.
 *
 * Randomness: splitmix64 streams, one per node and one for the scenario,
 * each seeded from the run seed with weft_sim_mix.
 */
#ifndef WEFT_SIM_ENGINE_H
#define WEFT_SIM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#define WEFT_SIM_SRC_BITS 20 /* sources: nodes 0..2^20-2, and the scenario */
#define WEFT_SIM_SEQ_BITS 44
#define WEFT_SIM_SRC_GLOBAL ((1u << WEFT_SIM_SRC_BITS) - 1)

/* One event. buf (messages) is owned by the event until it is handled. */
typedef struct weft_sim_ev {
	uint64_t t;   /* virtual time, microseconds */
	uint64_t key; /* tie-break, see above */
	uint8_t *buf;
	uint32_t node;	/* where it happens */
	uint32_t peer;	/* the other end, if any */
	uint32_t epoch; /* link incarnation it belongs to */
	uint32_t len;	/* bytes in buf */
	uint32_t aux;	/* type-specific (link latency, target) */
	uint8_t type;
} weft_sim_ev_t;

/* A 4-ary min-heap of events by value. Zero-initialise. */
typedef struct weft_sim_heap {
	weft_sim_ev_t *v;
	size_t n, cap;
} weft_sim_heap_t;

/* Returns 0, or WEFT_ENOMEM (the event, and its buf, stay the caller's). */
int weft_sim_heap_push(weft_sim_heap_t *h, const weft_sim_ev_t *e);
/* The earliest event, or NULL if empty (borrowed until the next push/pop). */
const weft_sim_ev_t *weft_sim_heap_top(const weft_sim_heap_t *h);
/* Remove the earliest event into *out (its buf becomes the caller's).
 * Returns 1, or 0 if empty. */
int weft_sim_heap_pop(weft_sim_heap_t *h, weft_sim_ev_t *out);
/* Free the heap and the bufs of the events left in it. */
void weft_sim_heap_free(weft_sim_heap_t *h);

/* splitmix64: next number of the stream *s. */
uint64_t weft_sim_rand(uint64_t *s);
/* Uniform in [0, n) (n > 0), without modulo bias. */
uint64_t weft_sim_below(uint64_t *s, uint64_t n);
/* Uniform in [0, 1). */
double weft_sim_unit(uint64_t *s);
/* Standard normal (Box-Muller). */
double weft_sim_normal(uint64_t *s);
/* A seed for stream b of run seed a (a bijective mix of both). */
uint64_t weft_sim_mix(uint64_t a, uint64_t b);

#endif
