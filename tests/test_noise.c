/*
 * test_noise.c: the Laplace draws of policies' noise (query/noise.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "query/noise.h"

#define N 10000

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* n draws of Laplace(0, b) from a fixed seed */
static double *
draws(double b, size_t n, uint8_t seedbyte)
{
	unsigned char seed[randombytes_SEEDBYTES];
	uint64_t *r = malloc(n * sizeof(*r));
	double *x = malloc(n * sizeof(*x));
	size_t i;

	assert_non_null(r);
	assert_non_null(x);
	memset(seed, seedbyte, sizeof(seed));
	randombytes_buf_deterministic(r, n * sizeof(*r), seed);
	for (i = 0; i < n; i++)
		x[i] = weft_laplace(b, r[i]);
	free(r);
	return x;
}

/*
 * Goodness of fit: the Kolmogorov-Smirnov distance between 10,000 draws
 * and Laplace(0, b) is below the 1% critical value 1.628 / sqrt(n), for
 * several scales and seeds; and the draws do not fit a Laplace of
 * another scale (the test has power).
 */
static void
test_ks(void **state)
{
	static const double scales[] = {0.1, 1, 2, 1200};
	size_t s, i, k;

	(void)state;
	for (s = 0; s < sizeof(scales) / sizeof(*scales); s++)
		for (k = 1; k <= 3; k++) {
			double b = scales[s], d = 0, dw = 0;
			double *x = draws(b, N, (uint8_t)k);

			qsort(x, N, sizeof(*x), cmp_double);
			for (i = 0; i < N; i++) {
				double f = weft_laplace_cdf(b, x[i]);
				double fw = weft_laplace_cdf(1.2 * b, x[i]);
				double lo = (double)i / N,
				       hi = (double)(i + 1) / N;

				d = fmax(d, fmax(fabs(f - lo), fabs(f - hi)));
				dw = fmax(dw,
					  fmax(fabs(fw - lo), fabs(fw - hi)));
			}
			if (d >= 1.628 / sqrt(N))
				fail_msg("b=%g seed %zu: KS distance %g", b, k,
					 d);
			assert_true(dw >= 1.628 / sqrt(N));
			free(x);
		}
}

/* Mean 0 and variance 2b^2, within what 10,000 draws allow. */
static void
test_moments(void **state)
{
	double b = 3, m = 0, v = 0, *x = draws(b, N, 7);
	size_t i;

	(void)state;
	for (i = 0; i < N; i++)
		m += x[i];
	m /= N;
	for (i = 0; i < N; i++)
		v += (x[i] - m) * (x[i] - m);
	v /= N - 1;
	assert_true(fabs(m) < 4 * sqrt(2 * b * b / N));
	assert_true(fabs(v / (2 * b * b) - 1) < 0.1);
	free(x);
}

/* Exactly symmetric, finite at the ends, 0 for a scale of 0. */
static void
test_edges(void **state)
{
	uint64_t r[] = {0, 1, 1ull << 63, (1ull << 63) - 1, UINT64_MAX};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(r) / sizeof(*r); i++) {
		double x = weft_laplace(2, r[i]);

		assert_true(isfinite(x));
		assert_true(x == -weft_laplace(2, ~r[i]));
		assert_true(weft_laplace(0, r[i]) == 0);
		assert_true(weft_laplace(-1, r[i]) == 0);
	}
	/* the extremes are about b * 53 ln 2 away */
	assert_true(fabs(weft_laplace(1, 0)) > 36 &&
		    fabs(weft_laplace(1, 0)) < 38);
	assert_true(isfinite(weft_laplace_draw(1)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ks),
	    cmocka_unit_test(test_moments),
	    cmocka_unit_test(test_edges),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
