/*
 * lanes.h: two lanes of work on one batch, the caller's thread and a
 * helper thread (lanes.c).
 */
#ifndef WEFT_QUERY_LANES_H
#define WEFT_QUERY_LANES_H

#include <stdbool.h>
#include <stdint.h>

/* One lane's work: lane 0 on the caller's thread, lane 1 on the helper.
 * Returns 0 or a WEFT_E* code. */
typedef int (*wq_lane_fn)(void *arg, unsigned lane);

typedef struct wq_lanes wq_lanes_t;

/* Starts the helper thread; NULL with one CPU or when it cannot start
 * (wq_lanes_run then runs both lanes on the caller's thread). */
wq_lanes_t *wq_lanes_new(void);

/* Runs fn(arg, 0) here and fn(arg, 1) on the helper, and returns when
 * both are done: the first non-zero code, else 0. */
int wq_lanes_run(wq_lanes_t *l, wq_lane_fn fn, void *arg);

/* Stops and joins the helper. */
void wq_lanes_free(wq_lanes_t *l);

#endif
