/*
 * noise.c: Laplace draws (query/noise.h).
 *
 * Inversion of the distribution function over 53 bits of uniform
 * randomness. Known limit (Mironov, "On significance of the least
 * significant bits for differential privacy", 2012): the floating-point
 * values such a draw can take are not spread evenly, and an attacker who
 * sees a noised value to full precision may learn something of the true
 * one. The owner rounds noised counts to integers; noised sums keep the
 * column's precision. Snapping the noised value to a grid (Mironov's
 * fix) is the next step.
 */
#include <math.h>

#include <sodium.h>

#include "query/noise.h"

double
weft_laplace(double b, uint64_t r)
{
	/* (k + 1/2) / 2^52, k the top 52 bits: exact (53 significant
	 * bits), strictly inside (0, 1), and ~r gives exactly 1 - u, so
	 * the draws are exactly symmetric */
	double u = ((double)(r >> 12) + 0.5) / 4503599627370496.0;

	if (!(b > 0))
		return 0;
	return u < 0.5 ? b * log(2 * u) : -b * log(2 - 2 * u);
}

double
weft_laplace_draw(double b)
{
	uint64_t r;

	randombytes_buf(&r, sizeof(r));
	return weft_laplace(b, r);
}

double
weft_laplace_cdf(double b, double x)
{
	if (!(b > 0))
		return x < 0 ? 0 : 1;
	return x < 0 ? 0.5 * exp(x / b) : 1 - 0.5 * exp(-x / b);
}
