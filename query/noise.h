/*
 * noise.h: Laplace noise for the noise rule of a policy (docs/policy.md,
 * "Noise"), drawn by the owner for each noised aggregate state it sends.
 */
#ifndef WEFT_QUERY_NOISE_H
#define WEFT_QUERY_NOISE_H

#include <stdint.h>

/*
 * A draw of Laplace(0, b) (density exp(-|x|/b) / 2b) made from the 64
 * random bits r by inversion: u = the top 52 bits as a number in (0, 1),
 * never 0 or 1; x = b ln(2u) below 1/2, -b ln(2 - 2u) above. b <= 0
 * gives 0. Deterministic, for tests; weft_laplace_draw takes the bits
 * from libsodium's CSPRNG.
 */
double weft_laplace(double b, uint64_t r);
double weft_laplace_draw(double b);

/* The Laplace(0, b) distribution function at x (tests). */
double weft_laplace_cdf(double b, double x);

#endif
