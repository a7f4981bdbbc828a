/*
 * test_stat.c: the statistical aggregates' states (query/agg_stat.c)
 * through the aggregation table as the executor drives it: partial
 * states of any split, merged in any order, give the answer of one pass;
 * weft_linreg's coefficients equal a direct least-squares solve (QR by
 * modified Gram-Schmidt on the design matrix, in long double); variance
 * keeps its digits when the mean dwarfs the spread; a collinear
 * or constant regressor gives NULL.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query/qint.h"

#define NROWS 10000
#define KX 3

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

/* xorshift64*: uniform in [0, 1), deterministic */
static double
unif(void)
{
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return (double)((g_rng * 2685821657736338717ull) >> 11) /
	       9007199254740992.0;
}

/* The data: y = 3 + 2 x1 - 0.5 x2 + 0.25 x3 + noise; every 97th row has
 * a NULL x2 (so it drops out of the fit). */
static double g_x[KX][NROWS], g_y[NROWS];

static bool
is_null_row(uint32_t i)
{
	return i % 97 == 5;
}

static void
make_data(void)
{
	uint32_t i;

	g_rng = 0x9e3779b97f4a7c15ull;
	for (i = 0; i < NROWS; i++) {
		g_x[0][i] = unif() * 100 - 20;
		g_x[1][i] = unif() * 10 + 1e3;
		g_x[2][i] = g_x[0][i] * 0.3 + unif() * 50;
		g_y[i] = 3 + 2 * g_x[0][i] - 0.5 * g_x[1][i] +
			 0.25 * g_x[2][i] + (unif() - 0.5) * 4;
	}
}

/* An aggregate over 1 + nx float8 arguments (the arguments themselves are
 * not needed by the table; only the shape). */
static wq_agg_t
mkagg(int fn, uint32_t nx)
{
	wq_agg_t a;

	memset(&a, 0, sizeof(a));
	a.fn = fn;
	a.nmore = nx;
	a.argtype = WEFT_S_FLOAT64;
	a.type = wq_agg_result_type(fn, WEFT_S_FLOAT64);
	a.scale = -1;
	return a;
}

/* Fold rows [lo, hi) of the data into t (mode COMPLETE or PARTIAL), one
 * group; the arguments are y, then x[0..nx). */
static void
fold_rows(wq_aggtab_t *t, const wq_agg_t *a, uint32_t nx, uint32_t lo,
	  uint32_t hi)
{
	weft_vec_t v[1 + KX];
	const weft_vec_t *vp[1 + KX];
	uint32_t g[WEFT_BATCH], i, j, n;
	weft_err_t err = {0};

	for (j = 0; j <= nx; j++) {
		assert_int_equal(weft_vec_init(&v[j], WEFT_S_FLOAT64), 0);
		vp[j] = &v[j];
	}
	while (lo < hi) {
		n = hi - lo < WEFT_BATCH ? hi - lo : WEFT_BATCH;
		for (i = 0; i < n; i++) {
			g[i] = 0;
			v[0].v.f64[i] = g_y[lo + i];
			v[0].nulls[i] = 0;
			for (j = 0; j < nx; j++) {
				v[1 + j].v.f64[i] = g_x[j][lo + i];
				v[1 + j].nulls[i] =
				    j == 1 && is_null_row(lo + i);
			}
		}
		assert_int_equal(wq_aggtab_groups(t, NULL, n, g), 0);
		assert_int_equal(wq_aggtab_add(t, g, vp, n, &err), 0);
		lo += n;
	}
	for (j = 0; j <= nx; j++)
		weft_vec_release(&v[j]);
	(void)a;
}

/* The states of t (PARTIAL or COMBINE) as a new batch. */
static weft_batch_t *
states_of(wq_aggtab_t *t, const wq_agg_t *a)
{
	weft_sqltype_t ty[WQ_STAT_STATES_MAX];
	weft_batch_t *b = NULL;
	weft_err_t err = {0};
	uint32_t j, ns = wq_agg_nstate(a);

	for (j = 0; j < ns; j++)
		ty[j] = wq_agg_state_type(a, j);
	assert_int_equal(weft_batch_new(ns, ty, &b), 0);
	assert_int_equal(wq_aggtab_emit(t, 0, 1, b, &err), 0);
	return b;
}

/* Merge batches of states into a FINAL table; its one result. */
static void
final_of(const wq_agg_t *a, weft_batch_t **parts, uint32_t np,
	 weft_batch_t **res)
{
	wq_aggtab_t *t = NULL;
	const weft_vec_t *sp[WQ_STAT_STATES_MAX];
	weft_sqltype_t ty = a->type;
	uint32_t g = 0, p, j;
	weft_err_t err = {0};

	assert_int_equal(wq_aggtab_new(WQ_AGG_FINAL, 0, NULL, 1, a, &t), 0);
	for (p = 0; p < np; p++) {
		for (j = 0; j < parts[p]->ncols; j++)
			sp[j] = &parts[p]->cols[j];
		assert_int_equal(wq_aggtab_groups(t, NULL, 1, &g), 0);
		assert_int_equal(wq_aggtab_add(t, &g, sp, 1, &err), 0);
	}
	assert_int_equal(weft_batch_new(1, &ty, res), 0);
	assert_int_equal(wq_aggtab_emit(t, 0, 1, *res, &err), 0);
	wq_aggtab_free(t);
}

/* One function over rows split at the cut points, partial states merged
 * in the order given; the result batch (1 row). */
static weft_batch_t *
split_run(const wq_agg_t *a, uint32_t nx, const uint32_t *cuts, uint32_t ncut,
	  bool reverse)
{
	weft_batch_t *parts[8], *res = NULL;
	uint32_t p, lo = 0;

	assert_true(ncut + 1 <= 8);
	for (p = 0; p <= ncut; p++) {
		uint32_t hi = p < ncut ? cuts[p] : NROWS;
		wq_aggtab_t *t = NULL;

		assert_int_equal(
		    wq_aggtab_new(WQ_AGG_PARTIAL, 0, NULL, 1, a, &t), 0);
		fold_rows(t, a, nx, lo, hi);
		parts[reverse ? ncut - p : p] = states_of(t, a);
		wq_aggtab_free(t);
		lo = hi;
	}
	final_of(a, parts, ncut + 1, &res);
	for (p = 0; p <= ncut; p++)
		weft_batch_free(parts[p]);
	return res;
}

static void
assert_close(double a, double b, double rel)
{
	double m = fmax(fabs(a), fabs(b));

	if (!(fabs(a - b) <= rel * m))
		fail_msg("%.17g vs %.17g (relative %.3g)", a, b,
			 fabs(a - b) / m);
}

/* Parse '{b0,b1,...}' into b[0..n). */
static uint32_t
parse_coef(const weft_vec_t *v, double *b, uint32_t max)
{
	char buf[1024], *p, *e;
	uint32_t n = 0;

	assert_false(v->nulls[0]);
	assert_true(v->v.s[0].len < sizeof(buf));
	memcpy(buf, v->v.s[0].p, v->v.s[0].len);
	buf[v->v.s[0].len] = 0;
	assert_int_equal(buf[0], '{');
	p = buf + 1;
	while (*p && *p != '}' && n < max) {
		b[n++] = strtod(p, &e);
		assert_true(e != p);
		p = *e == ',' ? e + 1 : e;
	}
	assert_int_equal(*p, '}');
	return n;
}

/* Least squares by QR (modified Gram-Schmidt) on [1 x1 .. xk], rows
 * without NULLs, in long double: the reference. */
static void
direct_lsq(uint32_t nx, double *b)
{
	static long double q[1 + KX][NROWS];
	long double r[1 + KX][1 + KX], z[1 + KX], yv[NROWS];
	uint32_t m = 1 + nx, i, j, l, n = 0;

	for (i = 0; i < NROWS; i++) {
		if (nx > 1 && is_null_row(i))
			continue;
		q[0][n] = 1;
		for (j = 0; j < nx; j++)
			q[1 + j][n] = g_x[j][i];
		yv[n++] = g_y[i];
	}
	memset(r, 0, sizeof(r));
	for (j = 0; j < m; j++) {
		long double nn = 0;

		for (l = 0; l < j; l++) {
			long double d = 0;

			for (i = 0; i < n; i++)
				d += q[l][i] * q[j][i];
			r[l][j] = d;
			for (i = 0; i < n; i++)
				q[j][i] -= d * q[l][i];
		}
		for (i = 0; i < n; i++)
			nn += q[j][i] * q[j][i];
		r[j][j] = sqrtl(nn);
		for (i = 0; i < n; i++)
			q[j][i] /= r[j][j];
	}
	for (j = 0; j < m; j++) {
		z[j] = 0;
		for (i = 0; i < n; i++)
			z[j] += q[j][i] * yv[i];
	}
	for (j = m; j-- > 0;) {
		long double s = z[j];

		for (l = j + 1; l < m; l++)
			s -= r[j][l] * (long double)b[l];
		b[j] = (double)(s / r[j][j]);
	}
}

static void
test_linreg_vs_direct(void **state)
{
	uint32_t cuts[] = {1, 2500, 2501, 7777}, nx, n;
	double got[1 + KX], want[1 + KX];

	(void)state;
	make_data();
	for (nx = 1; nx <= KX; nx++) {
		wq_agg_t a = mkagg(WQ_AGG_LINREG, nx);
		weft_batch_t *one = split_run(&a, nx, NULL, 0, false);
		weft_batch_t *many = split_run(&a, nx, cuts, 4, true);
		uint32_t j;

		direct_lsq(nx, want);
		n = parse_coef(&one->cols[0], got, 1 + KX);
		assert_int_equal(n, 1 + nx);
		for (j = 0; j <= nx; j++)
			assert_close(got[j], want[j], 1e-9);
		n = parse_coef(&many->cols[0], got, 1 + KX);
		assert_int_equal(n, 1 + nx);
		for (j = 0; j <= nx; j++)
			assert_close(got[j], want[j], 1e-9);
		weft_batch_free(one);
		weft_batch_free(many);
	}
}

/* One regressor: weft_linreg agrees with regr_intercept / regr_slope. */
static void
test_linreg_one_is_regr(void **state)
{
	wq_agg_t l = mkagg(WQ_AGG_LINREG, 1);
	wq_agg_t s = mkagg(WQ_AGG_REGR_SLOPE, 1);
	wq_agg_t c = mkagg(WQ_AGG_REGR_INTERCEPT, 1);
	weft_batch_t *bl, *bs, *bc;
	double b[2];

	(void)state;
	make_data();
	bl = split_run(&l, 1, NULL, 0, false);
	bs = split_run(&s, 1, NULL, 0, false);
	bc = split_run(&c, 1, NULL, 0, false);
	assert_int_equal(parse_coef(&bl->cols[0], b, 2), 2);
	assert_close(b[0], bc->cols[0].v.f64[0], 1e-12);
	assert_close(b[1], bs->cols[0].v.f64[0], 1e-12);
	weft_batch_free(bl);
	weft_batch_free(bs);
	weft_batch_free(bc);
}

/* Every two-variable function: any split and merge order gives the one
 * pass's answer. */
static void
test_merge_any_split(void **state)
{
	uint32_t cuts[] = {3, 1024, 5000, 5001, 9999};
	int fn;

	(void)state;
	make_data();
	for (fn = WQ_AGG_COVAR_POP; fn <= WQ_AGG_REGR_R2; fn++) {
		wq_agg_t a = mkagg(fn, 1);
		weft_batch_t *one = split_run(&a, 1, NULL, 0, false);
		weft_batch_t *fwd = split_run(&a, 1, cuts, 5, false);
		weft_batch_t *rev = split_run(&a, 1, cuts, 5, true);

		if (fn == WQ_AGG_REGR_COUNT) {
			assert_int_equal(one->cols[0].v.i64[0], NROWS);
			assert_int_equal(fwd->cols[0].v.i64[0], NROWS);
			assert_int_equal(rev->cols[0].v.i64[0], NROWS);
		} else {
			assert_close(fwd->cols[0].v.f64[0],
				     one->cols[0].v.f64[0], 1e-11);
			assert_close(rev->cols[0].v.f64[0],
				     one->cols[0].v.f64[0], 1e-11);
		}
		weft_batch_free(one);
		weft_batch_free(fwd);
		weft_batch_free(rev);
	}
}

/* Variance of values around 1e9 with a spread of 1: the textbook sum of
 * squares, sum x^2 - (sum x)^2 / n, loses every digit (its error, about
 * 1e-16 * 1e18 * n, dwarfs the answer, 0.08); the co-moments keep six
 * (as PostgreSQL's float8 variance, whose algorithm they are). */
static void
test_variance_large_mean(void **state)
{
	wq_agg_t a = mkagg(WQ_AGG_VAR_SAMP, 0);
	long double mean = 0, ss = 0;
	uint32_t cuts[] = {4000}, i;
	weft_batch_t *one, *two;

	(void)state;
	make_data();
	for (i = 0; i < NROWS; i++)
		g_y[i] = 1e9 + unif();
	for (i = 0; i < NROWS; i++)
		mean += g_y[i];
	mean /= NROWS;
	for (i = 0; i < NROWS; i++)
		ss += (g_y[i] - mean) * (g_y[i] - mean);
	one = split_run(&a, 0, NULL, 0, false);
	two = split_run(&a, 0, cuts, 1, false);
	assert_close(one->cols[0].v.f64[0], (double)(ss / (NROWS - 1)), 1e-6);
	assert_close(two->cols[0].v.f64[0], (double)(ss / (NROWS - 1)), 1e-6);
	weft_batch_free(one);
	weft_batch_free(two);
}

/* A constant or collinear regressor, or fewer rows than unknowns: NULL. */
static void
test_linreg_singular(void **state)
{
	wq_agg_t a = mkagg(WQ_AGG_LINREG, 2);
	weft_batch_t *b;
	uint32_t i;

	(void)state;
	make_data();
	for (i = 0; i < NROWS; i++)
		g_x[1][i] = 2 * g_x[0][i] - 7; /* collinear */
	b = split_run(&a, 2, NULL, 0, false);
	assert_true(b->cols[0].nulls[0]);
	weft_batch_free(b);
	for (i = 0; i < NROWS; i++)
		g_x[0][i] = 5; /* constant */
	a = mkagg(WQ_AGG_LINREG, 1);
	b = split_run(&a, 1, NULL, 0, false);
	assert_true(b->cols[0].nulls[0]);
	weft_batch_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_linreg_vs_direct),
	    cmocka_unit_test(test_linreg_one_is_regr),
	    cmocka_unit_test(test_merge_any_split),
	    cmocka_unit_test(test_variance_large_mean),
	    cmocka_unit_test(test_linreg_singular),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
