/*
 * net.h: the simulator's network model: option parsing for durations,
 * latencies, bandwidths and rates, and the per-message delays they give.
 *
 * Model (docs/sim.md): weft's links are TCP sessions, so a message is
 * never lost, only late. Each link gets a one-way latency when it is
 * made (drawn from the --latency distribution by the dialling node); a
 * message's segment is lost with probability --loss and then resent
 * after an RTO that doubles per consecutive loss (200 ms, 400 ms, ...),
 * and a link delivers in order (a late segment holds back the ones
 * behind it). A node's outgoing bytes share one NIC of --bandwidth bits
 * per second: each message waits for the ones queued before it.
 */
#ifndef WEFT_SIM_NET_H
#define WEFT_SIM_NET_H

#include <stdint.h>

#include "lib/err.h"

enum {
	WEFT_SIM_LAT_FIXED = 0,
	WEFT_SIM_LAT_UNIFORM = 1,
	WEFT_SIM_LAT_LOGNORMAL = 2,
};

#define WEFT_SIM_LAT_MIN_US 10ull
#define WEFT_SIM_LAT_MAX_US 60000000ull /* 60 s */

typedef struct weft_sim_latency {
	int kind;
	uint64_t a_us,
	    b_us;     /* fixed: a; uniform: [a, b]; lognormal: median a */
	double sigma; /* lognormal */
} weft_sim_latency_t;

/*
 * A duration: a number with us, ms, s or m ("200ms", "1.5s"; a bare
 * number is seconds, as for `weft agent`). 0 < d <= 7 days. Returns 0
 * and *us, or WEFT_EINVAL (err: "--opt: ...").
 */
int weft_sim_parse_duration(const char *opt, const char *s, uint64_t *us,
			    weft_err_t *err);
/* A time range "A..B" (durations, A < B). */
int weft_sim_parse_range(const char *opt, const char *s, uint64_t *a,
			 uint64_t *b, weft_err_t *err);
/* "20ms", "10ms..50ms" or "lognormal:MEDIAN:SIGMA" (0 <= sigma <= 3). */
int weft_sim_parse_latency(const char *s, weft_sim_latency_t *l,
			   weft_err_t *err);
/* "10Mbit", "1Gbit", "500Kbit", "64000bit": bits per second. */
int weft_sim_parse_bandwidth(const char *s, uint64_t *bps, weft_err_t *err);
/* "0.01" or "1%": a fraction in [0, max). */
int weft_sim_parse_fraction(const char *opt, const char *s, double max,
			    double *f, weft_err_t *err);

/* The smallest latency the distribution can give (lognormal samples are
 * clamped to [median/20, median*50]): the engine's lookahead. */
uint64_t weft_sim_latency_min(const weft_sim_latency_t *l);
/* Draw one latency from stream *rng. */
uint64_t weft_sim_latency_draw(const weft_sim_latency_t *l, uint64_t *rng);
/* The retransmission delay of one message: 0 if its first copy arrives,
 * else rto * (2^k - 1) for k consecutive losses (k <= 12). *k (may be
 * NULL) receives k. */
uint64_t weft_sim_loss_delay(double loss, uint64_t rto_us, uint64_t *rng,
			     unsigned *k);
/* Microseconds the NIC takes to put len bytes on a bps link (>= 1). */
uint64_t weft_sim_tx_us(uint64_t len, uint64_t bps);

#endif
