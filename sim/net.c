/*
 * net.c: parsing and delays of the simulator's network model (net.h).
 * Every parser takes a NUL-terminated option value of any length and
 * bytes; numbers are bounded before they are multiplied.
 */
#include "sim/net.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine.h"

#define WEFT_SIM_DUR_MAX_US (7ull * 86400 * 1000000)

/* A duration from s[0..n) (not NUL-terminated). */
static int
weft_sim_dur(const char *s, size_t n, uint64_t *us)
{
	char buf[64], *e;
	double v, mul;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (buf[0] == '-' || buf[0] == '+' || buf[0] == ' ')
		return -1;
	errno = 0;
	v = strtod(buf, &e);
	if (errno || e == buf || !(v >= 0) || v > 1e12)
		return -1;
	if (strcmp(e, "us") == 0)
		mul = 1;
	else if (strcmp(e, "ms") == 0)
		mul = 1e3;
	else if (*e == 0 || strcmp(e, "s") == 0)
		mul = 1e6;
	else if (strcmp(e, "m") == 0)
		mul = 60e6;
	else
		return -1;
	v *= mul;
	if (v > (double)WEFT_SIM_DUR_MAX_US)
		return -1;
	*us = (uint64_t)(v + 0.5);
	return 0;
}

int
weft_sim_parse_duration(const char *opt, const char *s, uint64_t *us,
			weft_err_t *err)
{
	if (weft_sim_dur(s, strlen(s), us) != 0 || *us == 0)
		return weft_err_set(err, WEFT_EINVAL,
				    "%s: \"%.40s\" is not a duration (e.g. "
				    "200ms, 1.5s; at most 7 days)",
				    opt, s);
	return 0;
}

int
weft_sim_parse_range(const char *opt, const char *s, uint64_t *a, uint64_t *b,
		     weft_err_t *err)
{
	const char *dots = strstr(s, "..");

	if (dots == NULL || weft_sim_dur(s, (size_t)(dots - s), a) != 0 ||
	    weft_sim_dur(dots + 2, strlen(dots + 2), b) != 0 || *a >= *b)
		return weft_err_set(err, WEFT_EINVAL,
				    "%s: \"%.40s\" is not a range START..END "
				    "(e.g. 10s..30s, START < END)",
				    opt, s);
	return 0;
}

int
weft_sim_parse_latency(const char *s, weft_sim_latency_t *l, weft_err_t *err)
{
	memset(l, 0, sizeof(*l));
	if (strncmp(s, "lognormal:", 10) == 0) {
		const char *c = strchr(s + 10, ':');
		char *e;

		if (c == NULL ||
		    weft_sim_dur(s + 10, (size_t)(c - s - 10), &l->a_us) != 0)
			goto bad;
		errno = 0;
		l->sigma = strtod(c + 1, &e);
		if (errno || e == c + 1 || *e || !(l->sigma >= 0) ||
		    l->sigma > 3)
			goto bad;
		l->kind = WEFT_SIM_LAT_LOGNORMAL;
	} else if (strstr(s, "..") != NULL) {
		const char *dots = strstr(s, "..");

		if (weft_sim_dur(s, (size_t)(dots - s), &l->a_us) != 0 ||
		    weft_sim_dur(dots + 2, strlen(dots + 2), &l->b_us) != 0 ||
		    l->a_us > l->b_us)
			goto bad;
		l->kind = WEFT_SIM_LAT_UNIFORM;
	} else {
		if (weft_sim_dur(s, strlen(s), &l->a_us) != 0)
			goto bad;
		l->kind = WEFT_SIM_LAT_FIXED;
	}
	if (weft_sim_latency_min(l) < WEFT_SIM_LAT_MIN_US ||
	    l->a_us > WEFT_SIM_LAT_MAX_US || l->b_us > WEFT_SIM_LAT_MAX_US)
		return weft_err_set(err, WEFT_EINVAL,
				    "--latency: \"%.40s\": latencies must be "
				    "between 10us and 60s (lognormal: from "
				    "median/20)",
				    s);
	return 0;
bad:
	return weft_err_set(err, WEFT_EINVAL,
			    "--latency: \"%.40s\" is not a latency: D (fixed), "
			    "A..B (uniform) or lognormal:MEDIAN:SIGMA "
			    "(0 <= SIGMA <= 3)",
			    s);
}

int
weft_sim_parse_bandwidth(const char *s, uint64_t *bps, weft_err_t *err)
{
	char *e;
	double v, mul = 0;

	errno = 0;
	v = strtod(s, &e);
	if (!errno && e != s && s[0] != '-' && v > 0 && v <= 1e6) {
		if (strcmp(e, "bit") == 0)
			mul = 1;
		else if (strcmp(e, "Kbit") == 0 || strcmp(e, "kbit") == 0)
			mul = 1e3;
		else if (strcmp(e, "Mbit") == 0)
			mul = 1e6;
		else if (strcmp(e, "Gbit") == 0)
			mul = 1e9;
	}
	if (mul == 0 || v * mul < 1000 || v * mul > 1e12)
		return weft_err_set(err, WEFT_EINVAL,
				    "--bandwidth: \"%.40s\" is not a bandwidth "
				    "(e.g. 10Mbit, 1Gbit; 1Kbit to 1000Gbit)",
				    s);
	*bps = (uint64_t)(v * mul);
	return 0;
}

int
weft_sim_parse_fraction(const char *opt, const char *s, double max, double *f,
			weft_err_t *err)
{
	char *e;
	double v;

	errno = 0;
	v = strtod(s, &e);
	if (!errno && e != s && s[0] != '-' && strcmp(e, "%") == 0)
		v /= 100, e++;
	if (errno || e == s || *e || !(v >= 0) || !(v < max))
		return weft_err_set(err, WEFT_EINVAL,
				    "%s: \"%.40s\" must be a fraction from 0 "
				    "to below %g (e.g. 0.01 or 1%%)",
				    opt, s, max);
	*f = v;
	return 0;
}

uint64_t
weft_sim_latency_min(const weft_sim_latency_t *l)
{
	if (l->kind == WEFT_SIM_LAT_LOGNORMAL)
		return l->a_us / 20;
	return l->a_us;
}

uint64_t
weft_sim_latency_draw(const weft_sim_latency_t *l, uint64_t *rng)
{
	double v;

	switch (l->kind) {
	case WEFT_SIM_LAT_UNIFORM:
		return l->a_us + weft_sim_below(rng, l->b_us - l->a_us + 1);
	case WEFT_SIM_LAT_LOGNORMAL:
		v = (double)l->a_us * exp(l->sigma * weft_sim_normal(rng));
		if (v < (double)(l->a_us / 20))
			v = (double)(l->a_us / 20);
		if (v > (double)l->a_us * 50)
			v = (double)l->a_us * 50;
		return (uint64_t)v;
	default: return l->a_us;
	}
}

uint64_t
weft_sim_loss_delay(double loss, uint64_t rto_us, uint64_t *rng, unsigned *k)
{
	unsigned n = 0;

	while (loss > 0 && n < 12 && weft_sim_unit(rng) < loss)
		n++;
	if (k != NULL)
		*k = n;
	return n ? rto_us * ((1ull << n) - 1) : 0;
}

uint64_t
weft_sim_tx_us(uint64_t len, uint64_t bps)
{
	uint64_t us = (len * 8 * 1000000 + bps - 1) / bps;

	return us ? us : 1;
}
