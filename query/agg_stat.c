/*
 * agg_stat.c: the statistical aggregates (variance, stddev, covariance,
 * correlation, regr_*, weft_linreg) as one mergeable state: co-moments
 * of m double precision variables (m = 1 + the aggregate's nmore).
 *
 * Per group the state is N (the rows where every argument is non-NULL;
 * the group's cnt), the sums S[j] of each variable and the co-moments
 * M[j][l] = sum (v_j - mean_j)(v_l - mean_l), j <= l, packed by rows of
 * the upper triangle. Rows are folded in as PostgreSQL's float8_accum
 * and float8_regr_accum do (Youngs and Cramer: no sum of squares that
 * cancels when the mean is large); two states merge as its
 * float8_regr_combine does (Chan et al.), so partial states of many
 * nodes, in any order and any split, give the whole set's answer to
 * rounding. The wire form of a state is its columns: N (bigint), then
 * S[0..m), then M, all double precision.
 *
 * Variable 0 is the first argument: y of corr(y, x) and regr_*(y, x),
 * whose x is variable 1; weft_linreg(y, x1, ..., xk) solves the normal
 * equations of the centred x's, M_xx b = M_xy, by Cholesky, then
 * b0 = mean_y - sum b_j mean_j. A system that is not positive definite
 * (a constant or collinear regressor, fewer rows than unknowns) gives
 * NULL, as regr_slope does when x is constant.
 *
 * Results: variance and stddev of integers and numeric are numeric in
 * PostgreSQL (exact there, a double here: 15-17 significant digits), of
 * double precision double precision; the two-variable functions take
 * and give double precision, regr_count bigint; weft_linreg gives the
 * coefficients (intercept first) as text in the form of a PostgreSQL
 * float8[], '{b0,b1,...}', until weft has arrays.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "query/qint.h"

bool
wq_agg_is_stat(int fn)
{
	return fn >= WQ_AGG_VAR_POP && fn <= WQ_AGG_LINREG;
}

/* Arguments an aggregate takes: 1 for variance, 2 for corr; weft_linreg
 * 2 or more (0: any). */
uint32_t
wq_stat_nargs(int fn)
{
	if (fn >= WQ_AGG_VAR_POP && fn <= WQ_AGG_STDDEV_SAMP)
		return 1;
	return fn == WQ_AGG_LINREG ? 0 : 2;
}

uint32_t
wq_stat_width(const wq_agg_t *a)
{
	uint32_t m = 1 + a->nmore;

	return m + m * (m + 1) / 2;
}

weft_sqltype_t
wq_stat_result_type(int fn, weft_sqltype_t t)
{
	if (fn >= WQ_AGG_VAR_POP && fn <= WQ_AGG_STDDEV_SAMP) {
		if (t == WEFT_S_INT32 || t == WEFT_S_INT64 ||
		    t == WEFT_S_NUMERIC)
			return WEFT_S_NUMERIC;
		return t == WEFT_S_FLOAT64 ? WEFT_S_FLOAT64 : WEFT_S_NULL;
	}
	if (t != WEFT_S_FLOAT64)
		return WEFT_S_NULL;
	if (fn == WQ_AGG_REGR_COUNT)
		return WEFT_S_INT64;
	return fn == WQ_AGG_LINREG ? WEFT_S_TEXT : WEFT_S_FLOAT64;
}

/* Position of M[j][l], j <= l, in the packed upper triangle of m. */
static inline uint32_t
st_ix(uint32_t m, uint32_t j, uint32_t l)
{
	return m + j * m - j * (j - 1) / 2 + (l - j);
}

static inline double
st_val(const weft_vec_t *v, uint32_t i)
{
	return v->type == WEFT_S_FLOAT64 || v->type == WEFT_S_NUMERIC
		   ? v->v.f64[i]
		   : (double)v->v.i64[i];
}

/* One variable, the common case (variance, stddev): no inner loops. */
static void
st_fold1(int64_t *cnt, double *blk, const uint32_t *g, const weft_vec_t *v,
	 uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		double *s, x, t, nn;
		int64_t c;

		if (v->nulls[i])
			continue;
		x = st_val(v, i);
		s = blk + 2 * (size_t)g[i];
		c = ++cnt[g[i]];
		s[0] += x;
		if (c > 1) {
			nn = (double)c;
			t = x * nn - s[0];
			s[1] += t * t / (nn * (nn - 1.0));
		}
	}
}

/* Rows a one-group batch is folded by at a time (st_fold_block). */
#define ST_BLOCK 256

/* Rows [i0, i0 + n) where no argument is NULL, packed as doubles by
 * variable (x + j * ST_BLOCK); returns how many. */
static uint32_t
st_pack(uint32_t m, const weft_vec_t *const *v, uint32_t i0, uint32_t n,
	double *x)
{
	uint32_t i, j, c = 0;
	uint8_t any = 0;

	for (j = 0; j < m; j++)
		for (i = i0; i < i0 + n; i++)
			any |= v[j]->nulls[i];
	if (!any) { /* no NULL: a column at a time, without branches */
		for (j = 0; j < m; j++) {
			double *xj = x + j * ST_BLOCK;

			if (v[j]->type == WEFT_S_FLOAT64 ||
			    v[j]->type == WEFT_S_NUMERIC)
				memcpy(xj, v[j]->v.f64 + i0, n * sizeof(*xj));
			else
				for (i = 0; i < n; i++)
					xj[i] = (double)v[j]->v.i64[i0 + i];
		}
		return n;
	}
	for (i = i0; i < i0 + n; i++) {
		bool skip = false;

		for (j = 0; j < m; j++)
			skip |= v[j]->nulls[i] != 0;
		if (skip)
			continue;
		for (j = 0; j < m; j++)
			x[j * ST_BLOCK + c] = st_val(v[j], i);
		c++;
	}
	return c;
}

/* The sum of a[0..c) and of a[i] * b[i] (b NULL: of a[i]), four partial
 * sums at a time so that the additions do not wait on each other. */
static double
st_dot(const double *a, const double *b, uint32_t c)
{
	double p[4] = {0, 0, 0, 0};
	uint32_t i;

	if (b == NULL) {
		for (i = 0; i + 4 <= c; i += 4) {
			p[0] += a[i];
			p[1] += a[i + 1];
			p[2] += a[i + 2];
			p[3] += a[i + 3];
		}
		for (; i < c; i++)
			p[0] += a[i];
	} else {
		for (i = 0; i + 4 <= c; i += 4) {
			p[0] += a[i] * b[i];
			p[1] += a[i + 1] * b[i + 1];
			p[2] += a[i + 2] * b[i + 2];
			p[3] += a[i + 3] * b[i + 3];
		}
		for (; i < c; i++)
			p[0] += a[i] * b[i];
	}
	return (p[0] + p[1]) + (p[2] + p[3]);
}

/*
 * Merge a partial state (c2 rows; s2 laid out as s: the sums, then the
 * co-moments) into a group's (*cnt rows, s), as PostgreSQL's
 * float8_regr_combine does (Chan et al.).
 */
static void
st_combine(uint32_t m, int64_t *cnt, double *s, int64_t c2, const double *s2)
{
	double d[WQ_LINREG_X_MAX + 1], n1, n2, f;
	uint32_t j, l;

	if (*cnt == 0) {
		*cnt = c2;
		memcpy(s, s2, (m + m * (m + 1) / 2) * sizeof(*s));
		return;
	}
	n1 = (double)*cnt;
	n2 = (double)c2;
	f = n1 * n2 / (n1 + n2);
	for (j = 0; j < m; j++)
		d[j] = s[j] / n1 - s2[j] / n2;
	for (j = 0; j < m; j++)
		for (l = j; l < m; l++)
			s[st_ix(m, j, l)] +=
			    s2[st_ix(m, j, l)] + f * d[j] * d[l];
	for (j = 0; j < m; j++)
		s[j] += s2[j];
	*cnt += c2;
}

/*
 * Rows [i0, i0 + n), n <= ST_BLOCK, all of one group (no GROUP BY, the
 * common case of regr_* and weft_linreg): their own sums and co-moments
 * by two passes (the block's means, then the products of deviations:
 * no division per row, and st_dot's partial sums keep the additions
 * from waiting on each other), merged into the group's state as a
 * partial state merges (st_combine). As accurate as the row-by-row
 * fold, whose per-row division and chain through the state cost several
 * times as much.
 */
static void
st_fold_block(uint32_t m, int64_t *cnt, double *s, const weft_vec_t *const *v,
	      uint32_t i0, uint32_t n)
{
	double x[(WQ_LINREG_X_MAX + 1) * ST_BLOCK];
	double st[WQ_STAT_STATES_MAX]; /* the block's state, as s */
	uint32_t c, i, j, l;

	c = st_pack(m, v, i0, n, x);
	if (c == 0)
		return;
	for (j = 0; j < m; j++) {
		double *xj = x + j * ST_BLOCK, mean;

		st[j] = st_dot(xj, NULL, c);
		mean = st[j] / c;
		for (i = 0; i < c; i++) /* deviations in place */
			xj[i] -= mean;
	}
	for (j = 0; j < m; j++)
		for (l = j; l < m; l++) {
			st[st_ix(m, j, l)] =
			    st_dot(x + j * ST_BLOCK, x + l * ST_BLOCK, c);
		}
	st_combine(m, cnt, s, c, st);
}

void
wq_stat_fold(const wq_agg_t *a, int64_t *cnt, double *blk, const uint32_t *g,
	     const weft_vec_t *const *v, uint32_t n)
{
	uint32_t m = 1 + a->nmore, w = wq_stat_width(a), i, j, l;
	double x[WQ_LINREG_X_MAX + 1], t[WQ_LINREG_X_MAX + 1];

	for (i = 1; i < n && g[i] == g[0]; i++)
		;
	if (n > 0 && i == n) { /* one group */
		for (i = 0; i < n; i += ST_BLOCK)
			st_fold_block(m, cnt + g[0], blk + (size_t)w * g[0], v,
				      i, n - i < ST_BLOCK ? n - i : ST_BLOCK);
		return;
	}
	if (m == 1) {
		st_fold1(cnt, blk, g, v[0], n);
		return;
	}
	for (i = 0; i < n; i++) {
		double *s, nn, sc;
		bool skip = false;

		for (j = 0; j < m && !skip; j++)
			skip = v[j]->nulls[i] != 0;
		if (skip)
			continue;
		s = blk + (size_t)w * g[i];
		nn = (double)++cnt[g[i]];
		for (j = 0; j < m; j++) {
			x[j] = st_val(v[j], i);
			s[j] += x[j];
		}
		if (nn < 2)
			continue;
		sc = 1.0 / (nn * (nn - 1.0));
		for (j = 0; j < m; j++)
			t[j] = x[j] * nn - s[j];
		for (j = 0; j < m; j++)
			for (l = j; l < m; l++)
				s[st_ix(m, j, l)] += t[j] * t[l] * sc;
	}
}

void
wq_stat_merge(const wq_agg_t *a, int64_t *cnt, double *blk, const uint32_t *g,
	      const weft_vec_t *const *sv, uint32_t n)
{
	uint32_t m = 1 + a->nmore, w = wq_stat_width(a), i, j;
	double s2[WQ_STAT_STATES_MAX];

	for (i = 0; i < n; i++) {
		int64_t c2 = sv[0]->nulls[i] ? 0 : sv[0]->v.i64[i];
		bool bad = false;

		for (j = 1; j <= w; j++)
			bad |= sv[j]->nulls[i] != 0;
		if (c2 <= 0 || bad)
			continue;
		for (j = 0; j < w; j++)
			s2[j] = sv[1 + j]->v.f64[i];
		st_combine(m, cnt + g[i], blk + (size_t)w * g[i], c2, s2);
	}
}

void
wq_stat_emit_state(const wq_agg_t *a, int64_t c, const double *s,
		   weft_vec_t *const *o, uint32_t r)
{
	uint32_t j, w = wq_stat_width(a);

	o[0]->nulls[r] = 0;
	o[0]->v.i64[r] = c;
	for (j = 0; j < w; j++) {
		o[1 + j]->nulls[r] = 0;
		o[1 + j]->v.f64[r] = s[j];
	}
}

/*
 * Solve M_xx b = M_xy (the x's are variables 1..k of s, y variable 0)
 * by Cholesky; false when M_xx is not positive definite to within
 * rounding (a constant or collinear regressor).
 */
static bool
st_solve(uint32_t m, const double *s, double *b)
{
	double L[WQ_LINREG_X_MAX][WQ_LINREG_X_MAX];
	uint32_t k = m - 1, i, j, p;

	for (i = 0; i < k; i++) {
		for (j = 0; j <= i; j++) {
			double x = s[st_ix(m, j + 1, i + 1)];

			for (p = 0; p < j; p++)
				x -= L[i][p] * L[j][p];
			if (i == j) {
				/* relative to the variable's own spread */
				if (!(x > 1e-12 * s[st_ix(m, i + 1, i + 1)]) ||
				    !isfinite(x))
					return false;
				L[i][i] = sqrt(x);
			} else {
				L[i][j] = x / L[j][j];
			}
		}
	}
	for (i = 0; i < k; i++) { /* L z = M_xy */
		double x = s[st_ix(m, 0, i + 1)];

		for (p = 0; p < i; p++)
			x -= L[i][p] * b[p];
		b[i] = x / L[i][i];
	}
	for (i = k; i-- > 0;) { /* L^T b = z */
		double x = b[i];

		for (p = i + 1; p < k; p++)
			x -= L[p][i] * b[p];
		b[i] = x / L[i][i];
	}
	return true;
}

static int
st_emit_linreg(uint32_t m, int64_t c, const double *s, weft_vec_t *o,
	       uint32_t r, weft_arena_t *arena)
{
	double b[WQ_LINREG_X_MAX + 1], b0, nn = (double)c;
	char buf[(WQ_LINREG_X_MAX + 1) * 32 + 4];
	size_t len = 0;
	uint32_t j;
	char *p;

	if (c < (int64_t)m || !st_solve(m, s, b + 1)) {
		o->nulls[r] = 1;
		o->v.s[r].p = "";
		o->v.s[r].len = 0;
		return 0;
	}
	b0 = s[0] / nn;
	for (j = 1; j < m; j++)
		b0 -= b[j] * (s[j] / nn);
	b[0] = b0;
	buf[len++] = '{';
	for (j = 0; j < m; j++) {
		if (j > 0)
			buf[len++] = ',';
		len += weft_format_float8(b[j], buf + len, sizeof(buf) - len);
	}
	buf[len++] = '}';
	if ((p = weft_arena_alloc(arena, len)) == NULL)
		return WEFT_ENOMEM;
	memcpy(p, buf, len);
	o->nulls[r] = 0;
	o->v.s[r].p = p;
	o->v.s[r].len = len;
	return 0;
}

int
wq_stat_emit(const wq_agg_t *a, int64_t c, const double *s, weft_vec_t *o,
	     uint32_t r, weft_arena_t *arena)
{
	double nn = (double)c, x = 0, sxx, syy, sxy;
	bool null = c < 1;

	if (a->fn == WQ_AGG_LINREG)
		return st_emit_linreg(1 + a->nmore, c, s, o, r, arena);
	if (a->fn == WQ_AGG_REGR_COUNT) {
		o->nulls[r] = 0;
		o->v.i64[r] = c;
		return 0;
	}
	if (a->nmore == 0) { /* s: S, M */
		if (a->fn == WQ_AGG_VAR_SAMP || a->fn == WQ_AGG_STDDEV_SAMP)
			null = c < 2;
		if (!null)
			x = s[1] / (a->fn == WQ_AGG_VAR_POP ||
					    a->fn == WQ_AGG_STDDEV_POP
					? nn
					: nn - 1.0);
		if (a->fn == WQ_AGG_STDDEV_POP || a->fn == WQ_AGG_STDDEV_SAMP)
			x = sqrt(x);
		o->nulls[r] = null;
		o->v.f64[r] = x;
		return 0;
	}
	/* s: Sy, Sx, Syy, Sxy, Sxx */
	syy = s[2];
	sxy = s[3];
	sxx = s[4];
	switch (a->fn) {
	case WQ_AGG_COVAR_POP: x = sxy / nn; break;
	case WQ_AGG_COVAR_SAMP:
		null = c < 2;
		x = sxy / (nn - 1.0);
		break;
	case WQ_AGG_CORR:
		null |= sxx == 0 || syy == 0;
		x = sxy / sqrt(sxx * syy);
		break;
	case WQ_AGG_REGR_SXX: x = sxx; break;
	case WQ_AGG_REGR_SYY: x = syy; break;
	case WQ_AGG_REGR_SXY: x = sxy; break;
	case WQ_AGG_REGR_AVGX: x = s[1] / nn; break;
	case WQ_AGG_REGR_AVGY: x = s[0] / nn; break;
	case WQ_AGG_REGR_SLOPE:
		null |= sxx == 0;
		x = sxy / sxx;
		break;
	case WQ_AGG_REGR_INTERCEPT:
		null |= sxx == 0;
		x = (s[0] - s[1] * sxy / sxx) / nn;
		break;
	default: /* regr_r2 */
		null |= sxx == 0;
		x = syy == 0 ? 1.0 : sxy * sxy / (sxx * syy);
	}
	o->nulls[r] = null;
	o->v.f64[r] = null ? 0 : x;
	return 0;
}
