/*
 * agg.c: hash aggregation: groups (a wq_ktab_t of key rows) and, per
 * aggregate, arrays of transition values indexed by group id.
 *
 * Modes: COMPLETE folds rows and emits results; PARTIAL folds rows and
 * emits transition states (what a scan fragment sends back); FINAL folds
 * transition states and emits results. State columns per aggregate:
 * count -> bigint; sum -> its result type (NULL: no rows); avg -> sum
 * (numeric or double precision) and count; min/max -> the value.
 *
 * Sums of integers are kept exactly in 128 bits while folding rows; a
 * bigint result that does not fit fails as PostgreSQL does ("bigint out
 * of range"). Without group keys there is always exactly one group, so
 * count(*) over no rows is 0 and sum NULL.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/qint.h"

typedef struct wq_aggst {
	int64_t *cnt;
	__int128 *isum;
	double *fsum;
	int64_t *mi;
	double *mf;
	weft_str_t *ms;
	uint8_t *mb;
	uint8_t *has;
	double *mom; /* statistics: wq_stat_width doubles per group */
	bool use_i;  /* integer sum */
	bool dist;
	uint32_t same;	/* a second count(*): 1 + the first's index, whose
			 * counts it copies when emitted, folding nothing
			 * (the owner's group threshold appends one) */
	wq_ktab_t dset; /* DISTINCT: (group, value) pairs seen */
	weft_vec_t tmp; /* DISTINCT: the new values of a batch */
} wq_aggst_t;

struct wq_aggtab {
	int mode;
	uint32_t nkeys, naggs;
	wq_agg_t *aggs;
	wq_ktab_t kt;
	uint32_t cap;
	wq_aggst_t *st;
	weft_arena_t *arena;
	uint64_t *h;
	uint32_t *gid2, *rows2;
	int64_t *gid64;
	uint8_t *zeros;
	const void *dict_id;
	uint32_t *dmap;
	uint32_t dmap_cap;
};

uint32_t
wq_agg_nstate(const wq_agg_t *a)
{
	if (wq_agg_is_stat(a->fn))
		return 1 + wq_stat_width(a);
	return a->fn == WQ_AGG_AVG ? 2 : 1;
}

uint32_t
wq_aggs_nstate(const wq_agg_t *a, uint32_t n)
{
	uint32_t i, k = 0;

	for (i = 0; i < n; i++)
		k += wq_agg_nstate(&a[i]);
	return k;
}

uint32_t
wq_agg_nargs(const wq_agg_t *a)
{
	return a->arg != NULL ? 1 + a->nmore : 0;
}

weft_expr_t **
wq_agg_argp(wq_agg_t *a, uint32_t i)
{
	return i == 0 ? &a->arg : &a->more[i - 1];
}

weft_expr_t *
wq_agg_arg(const wq_agg_t *a, uint32_t i)
{
	return i == 0 ? a->arg : a->more[i - 1];
}

int
wq_agg_copy_args(wq_agg_t *d, const wq_agg_t *s)
{
	uint32_t i;

	d->arg = NULL;
	d->more = NULL;
	if (s->arg != NULL && (d->arg = weft_expr_copy(s->arg)) == NULL)
		return WEFT_ENOMEM;
	if (s->more == NULL)
		return 0;
	if ((d->more = calloc(s->nmore, sizeof(*d->more))) == NULL)
		return WEFT_ENOMEM;
	for (i = 0; i < s->nmore; i++)
		if ((d->more[i] = weft_expr_copy(s->more[i])) == NULL)
			return WEFT_ENOMEM;
	return 0;
}

void
wq_agg_free_args(wq_agg_t *a)
{
	uint32_t i;

	weft_expr_free(a->arg);
	for (i = 0; a->more != NULL && i < a->nmore; i++)
		weft_expr_free(a->more[i]);
	free(a->more);
	a->arg = NULL;
	a->more = NULL;
}

weft_sqltype_t
wq_agg_state_type(const wq_agg_t *a, uint32_t i)
{
	if (wq_agg_is_stat(a->fn))
		return i == 0 ? WEFT_S_INT64 : WEFT_S_FLOAT64;
	if (a->fn == WQ_AGG_AVG)
		return i == 1 ? WEFT_S_INT64
			      : (a->argtype == WEFT_S_FLOAT64 ? WEFT_S_FLOAT64
							      : WEFT_S_NUMERIC);
	return a->type;
}

void
wq_aggs_free(wq_agg_t *a, uint32_t n)
{
	uint32_t i;

	for (i = 0; a != NULL && i < n; i++)
		wq_agg_free_args(&a[i]);
	free(a);
}

weft_sqltype_t
wq_agg_result_type(int fn, weft_sqltype_t t)
{
	if (wq_agg_is_stat(fn))
		return wq_stat_result_type(fn, t);
	switch (fn) {
	case WQ_AGG_COUNT_STAR:
	case WQ_AGG_COUNT: return WEFT_S_INT64;
	case WQ_AGG_SUM:
		if (t == WEFT_S_INT32)
			return WEFT_S_INT64;
		if (t == WEFT_S_INT64 || t == WEFT_S_NUMERIC)
			return WEFT_S_NUMERIC;
		if (t == WEFT_S_FLOAT64)
			return WEFT_S_FLOAT64;
		return WEFT_S_NULL;
	case WQ_AGG_AVG:
		if (t == WEFT_S_INT32 || t == WEFT_S_INT64 ||
		    t == WEFT_S_NUMERIC)
			return WEFT_S_NUMERIC;
		if (t == WEFT_S_FLOAT64)
			return WEFT_S_FLOAT64;
		return WEFT_S_NULL;
	case WQ_AGG_MIN:
	case WQ_AGG_MAX:
		if (t == WEFT_S_INT32 || t == WEFT_S_INT64 ||
		    t == WEFT_S_NUMERIC || t == WEFT_S_FLOAT64 ||
		    t == WEFT_S_TEXT || t == WEFT_S_TIMESTAMP ||
		    t == WEFT_S_INTERVAL)
			return t;
		return WEFT_S_NULL;
	default: return WEFT_S_NULL;
	}
}

int
wq_agg_scale(int fn, weft_sqltype_t type, const weft_expr_t *arg)
{
	if (type != WEFT_S_NUMERIC || arg == NULL || wq_agg_is_stat(fn))
		return -1;
	if (fn == WQ_AGG_SUM || fn == WQ_AGG_AVG)
		return arg->type == WEFT_S_NUMERIC ? arg->scale : 0;
	return arg->scale;
}

const char *
wq_agg_name(int fn)
{
	static const char *const n[] = {
	    "count",	   "count",	 "sum",
	    "avg",	   "min",	 "max",
	    "var_pop",	   "var_samp",	 "stddev_pop",
	    "stddev_samp", "covar_pop",	 "covar_samp",
	    "corr",	   "regr_count", "regr_sxx",
	    "regr_syy",	   "regr_sxy",	 "regr_avgx",
	    "regr_avgy",   "regr_slope", "regr_intercept",
	    "regr_r2",	   "weft_linreg"};

	return fn >= 0 && fn <= WQ_AGG_FN_LAST ? n[fn] : "?";
}

/* Does mode m read transition states, does it write them? */
static bool
wq_in_states(int m)
{
	return m == WQ_AGG_FINAL || m == WQ_AGG_COMBINE;
}

static bool
wq_out_states(int m)
{
	return m == WQ_AGG_PARTIAL || m == WQ_AGG_COMBINE;
}

static bool
wq_isint(weft_sqltype_t t)
{
	return t == WEFT_S_INT32 || t == WEFT_S_INT64;
}

int
wq_aggtab_new(int mode, uint32_t nkeys, const weft_sqltype_t *keytypes,
	      uint32_t naggs, const wq_agg_t *aggs, wq_aggtab_t **out)
{
	wq_aggtab_t *t = calloc(1, sizeof(*t));
	uint32_t i;

	*out = NULL;
	if (t == NULL)
		return WEFT_ENOMEM;
	t->mode = mode;
	t->nkeys = nkeys;
	t->naggs = naggs;
	t->aggs = calloc(naggs + 1, sizeof(*t->aggs));
	t->st = calloc(naggs + 1, sizeof(*t->st));
	t->arena = weft_arena_new();
	t->h = malloc(WEFT_BATCH * sizeof(*t->h));
	t->gid2 = malloc(WEFT_BATCH * sizeof(*t->gid2));
	t->rows2 = malloc(WEFT_BATCH * sizeof(*t->rows2));
	t->gid64 = malloc(WEFT_BATCH * sizeof(*t->gid64));
	t->zeros = calloc(WEFT_BATCH, 1);
	if (!t->aggs || !t->st || !t->arena || !t->h || !t->gid2 || !t->rows2 ||
	    !t->gid64 || !t->zeros ||
	    wq_ktab_init(&t->kt, nkeys, keytypes) != 0)
		goto fail;
	if (naggs)
		memcpy(t->aggs, aggs, naggs * sizeof(*aggs));
	for (i = 0; i < naggs; i++) {
		wq_agg_t *a = &t->aggs[i];
		wq_aggst_t *s = &t->st[i];
		uint32_t j;

		a->arg = NULL; /* borrowed pointers are not kept */
		a->more = NULL;
		for (j = 0; j < i && !wq_in_states(mode) &&
			    a->fn == WQ_AGG_COUNT_STAR && s->same == 0;
		     j++)
			if (t->aggs[j].fn == WQ_AGG_COUNT_STAR &&
			    t->st[j].same == 0)
				s->same = j + 1;
		if (wq_in_states(mode))
			s->use_i =
			    a->fn == WQ_AGG_SUM && a->type == WEFT_S_INT64;
		else
			s->use_i = wq_isint(a->argtype);
		if (a->distinct && !wq_in_states(mode) &&
		    a->fn != WQ_AGG_COUNT_STAR) {
			weft_sqltype_t kt2[2] = {WEFT_S_INT64, a->argtype};

			s->dist = true;
			if (wq_ktab_init(&s->dset, 2, kt2) != 0 ||
			    weft_vec_init(&s->tmp, a->argtype) != 0)
				goto fail;
		}
	}
	*out = t;
	return 0;
fail:
	wq_aggtab_free(t);
	return WEFT_ENOMEM;
}

void
wq_aggtab_free(wq_aggtab_t *t)
{
	uint32_t i;

	if (t == NULL)
		return;
	for (i = 0; t->st && i < t->naggs; i++) {
		wq_aggst_t *s = &t->st[i];

		free(s->cnt);
		free(s->isum);
		free(s->fsum);
		free(s->mi);
		free(s->mf);
		free(s->ms);
		free(s->mb);
		free(s->has);
		free(s->mom);
		if (s->dist) {
			wq_ktab_release(&s->dset);
			weft_vec_release(&s->tmp);
		}
	}
	free(t->st);
	free(t->aggs);
	wq_ktab_release(&t->kt);
	weft_arena_free(t->arena);
	free(t->h);
	free(t->gid2);
	free(t->rows2);
	free(t->gid64);
	free(t->zeros);
	free(t->dmap);
	free(t);
}

uint32_t
wq_aggtab_ngroups(const wq_aggtab_t *t)
{
	return t->nkeys ? t->kt.n : 1;
}

static int
wq_grow(void **p, size_t old, size_t nw, size_t w)
{
	uint8_t *q = realloc(*p, nw * w);

	if (q == NULL)
		return WEFT_ENOMEM;
	memset(q + old * w, 0, (nw - old) * w);
	*p = q;
	return 0;
}

/* Make room for states of groups [0, n). */
static int
wq_aggtab_reserve(wq_aggtab_t *t, uint32_t n)
{
	uint32_t nc, i;

	if (n <= t->cap)
		return 0;
	nc = t->cap ? t->cap : 64;
	while (nc < n)
		nc *= 2;
	for (i = 0; i < t->naggs; i++) {
		wq_aggst_t *s = &t->st[i];
		const wq_agg_t *a = &t->aggs[i];
		int rc = wq_grow((void **)&s->cnt, t->cap, nc, 8);

		if (rc == 0 && wq_agg_is_stat(a->fn))
			rc = wq_grow((void **)&s->mom,
				     (size_t)t->cap * wq_stat_width(a),
				     (size_t)nc * wq_stat_width(a), 8);
		if (rc == 0 && (a->fn == WQ_AGG_SUM || a->fn == WQ_AGG_AVG))
			rc = s->use_i
				 ? wq_grow((void **)&s->isum, t->cap, nc,
					   sizeof(__int128))
				 : wq_grow((void **)&s->fsum, t->cap, nc, 8);
		if (rc == 0 && (a->fn == WQ_AGG_MIN || a->fn == WQ_AGG_MAX))
			rc = wq_grow((void **)&s->has, t->cap, nc, 1);
		if (rc == 0 && (a->fn == WQ_AGG_MIN || a->fn == WQ_AGG_MAX)) {
			switch (a->type) {
			case WEFT_S_FLOAT64:
			case WEFT_S_NUMERIC:
				rc = wq_grow((void **)&s->mf, t->cap, nc, 8);
				break;
			case WEFT_S_TEXT:
				rc = wq_grow((void **)&s->ms, t->cap, nc,
					     sizeof(weft_str_t));
				break;
			case WEFT_S_BOOL:
				rc = wq_grow((void **)&s->mb, t->cap, nc, 1);
				break;
			default: rc = wq_grow((void **)&s->mi, t->cap, nc, 8);
			}
		}
		if (rc != 0)
			return rc;
	}
	t->cap = nc;
	return 0;
}

int
wq_aggtab_groups(wq_aggtab_t *t, const weft_vec_t *const *keys, uint32_t n,
		 uint32_t *gids)
{
	uint32_t c;
	int rc;

	if (t->nkeys == 0) {
		memset(gids, 0, n * sizeof(*gids));
		return wq_aggtab_reserve(t, 1);
	}
	for (c = 0; c < t->nkeys; c++)
		wq_hash_vec(keys[c], n, t->h, c == 0);
	rc = wq_ktab_find(&t->kt, keys, n, t->h, gids, NULL, NULL);
	if (rc != 0)
		return rc;
	return wq_aggtab_reserve(t, t->kt.n);
}

int
wq_aggtab_groups_dict(wq_aggtab_t *t, const void *dict_id,
		      const weft_str_t *vals, uint32_t ndict,
		      const uint32_t *codes, const uint8_t *nulls, uint32_t n,
		      uint32_t *gids)
{
	uint32_t i;
	int rc;

	if (dict_id != t->dict_id || ndict + 1 > t->dmap_cap) {
		if (ndict + 1 > t->dmap_cap) {
			uint32_t *nm =
			    realloc(t->dmap, (ndict + 1) * sizeof(*nm));

			if (nm == NULL)
				return WEFT_ENOMEM;
			t->dmap = nm;
			t->dmap_cap = ndict + 1;
		}
		memset(t->dmap, 0xff, (ndict + 1) * sizeof(*t->dmap));
		t->dict_id = dict_id;
	}
	for (i = 0; i < n; i++) {
		uint32_t d = nulls[i] ? ndict : codes[i], g;

		if (d > ndict)
			d = ndict; /* defensive: treat as NULL */
		g = t->dmap[d];
		if (g == UINT32_MAX) {
			weft_vec_t one;
			const weft_vec_t *kp = &one;
			weft_str_t sv = {"", 0};
			uint8_t nl = d == ndict;
			uint64_t h;

			if (!nl)
				sv = vals[d];
			one.type = WEFT_S_TEXT;
			one.has_scale = false;
			one.scale = 0;
			one.nulls = &nl;
			one.v.s = &sv;
			h = wq_hash_val(&one, 0);
			rc = wq_ktab_find(&t->kt, &kp, 1, &h, &g, NULL, NULL);
			if (rc != 0)
				return rc;
			t->dmap[d] = g;
		}
		gids[i] = g;
	}
	return wq_aggtab_reserve(t, t->kt.n);
}

/* Fold values of v (type t) into min/max state. */
static int
wq_minmax(wq_aggtab_t *t, wq_aggst_t *s, bool max, const uint32_t *g,
	  const weft_vec_t *v, uint32_t n)
{
	uint32_t i;

	switch (v->type) {
	case WEFT_S_FLOAT64:
	case WEFT_S_NUMERIC:
		for (i = 0; i < n; i++) {
			double x = v->v.f64[i], y;
			uint32_t k = g[i];
			int c;

			if (v->nulls[i])
				continue;
			y = s->mf[k];
			if (!s->has[k]) {
				s->has[k] = 1;
				s->mf[k] = x;
				continue;
			}
			c = isnan(x) ? (isnan(y) ? 0 : 1)
				     : (isnan(y) ? -1 : (x < y ? -1 : x > y));
			if (max ? c > 0 : c < 0)
				s->mf[k] = x;
		}
		return 0;
	case WEFT_S_TEXT:
		for (i = 0; i < n; i++) {
			uint32_t k = g[i];
			weft_str_t x = v->v.s[i];
			char *p;

			if (v->nulls[i])
				continue;
			if (s->has[k]) {
				int c = wq_cmp_raw(WEFT_S_TEXT, v->v.s, i,
						   s->ms, k);

				if (max ? c <= 0 : c >= 0)
					continue;
			}
			p = weft_arena_alloc(t->arena, x.len ? x.len : 1);
			if (p == NULL)
				return WEFT_ENOMEM;
			if (x.len)
				memcpy(p, x.p, x.len);
			s->ms[k].p = p;
			s->ms[k].len = x.len;
			s->has[k] = 1;
		}
		return 0;
	case WEFT_S_BOOL:
		for (i = 0; i < n; i++) {
			uint32_t k = g[i];

			if (v->nulls[i])
				continue;
			if (!s->has[k] ||
			    (max ? v->v.b[i] > s->mb[k] : v->v.b[i] < s->mb[k]))
				s->mb[k] = v->v.b[i];
			s->has[k] = 1;
		}
		return 0;
	default:
		if (max) {
			for (i = 0; i < n; i++) {
				uint32_t k = g[i];
				int64_t x = v->v.i64[i];

				if (v->nulls[i])
					continue;
				if (!s->has[k] || x > s->mi[k])
					s->mi[k] = x;
				s->has[k] = 1;
			}
		} else {
			for (i = 0; i < n; i++) {
				uint32_t k = g[i];
				int64_t x = v->v.i64[i];

				if (v->nulls[i])
					continue;
				if (!s->has[k] || x < s->mi[k])
					s->mi[k] = x;
				s->has[k] = 1;
			}
		}
		return 0;
	}
}

/* Fold rows (COMPLETE/PARTIAL) of one aggregate. */
static int
wq_fold(wq_aggtab_t *t, uint32_t ai, const uint32_t *g, const weft_vec_t *v,
	uint32_t n)
{
	const wq_agg_t *a = &t->aggs[ai];
	wq_aggst_t *s = &t->st[ai];
	uint32_t i;

	if (wq_agg_is_stat(a->fn)) { /* one variable: DISTINCT's values */
		wq_stat_fold(a, s->cnt, s->mom, g, &v, n);
		return 0;
	}
	switch (a->fn) {
	case WQ_AGG_COUNT_STAR:
		for (i = 0; i < n; i++)
			s->cnt[g[i]]++;
		return 0;
	case WQ_AGG_COUNT:
		for (i = 0; i < n; i++)
			s->cnt[g[i]] += !v->nulls[i];
		return 0;
	case WQ_AGG_SUM:
	case WQ_AGG_AVG:
		if (s->use_i) {
			for (i = 0; i < n; i++) {
				uint32_t k = g[i];

				if (v->nulls[i])
					continue;
				s->isum[k] += v->v.i64[i];
				s->cnt[k]++;
			}
		} else {
			for (i = 0; i < n; i++) {
				uint32_t k = g[i];

				if (v->nulls[i])
					continue;
				s->fsum[k] += v->v.f64[i];
				s->cnt[k]++;
			}
		}
		return 0;
	default:
		if (s->has == NULL)
			return WEFT_EINVAL;
		return wq_minmax(t, s, a->fn == WQ_AGG_MAX, g, v, n);
	}
}

static int
wq_fold_distinct(wq_aggtab_t *t, uint32_t ai, const uint32_t *g,
		 const weft_vec_t *v, uint32_t n)
{
	wq_aggst_t *s = &t->st[ai];
	const weft_vec_t *k[2];
	weft_vec_t gv;
	uint32_t i, m = 0, nnew = 0, *gids;
	size_t w = wq_width(v->type);
	int rc;

	/* only non-NULL values count */
	for (i = 0; i < n; i++)
		if (!v->nulls[i])
			t->rows2[m++] = i;
	if (m == 0)
		return 0;
	for (i = 0; i < m; i++) {
		uint32_t r = t->rows2[i];

		t->gid64[i] = g[r];
		s->tmp.nulls[i] = 0;
		memcpy((uint8_t *)s->tmp.v.i64 + w * i,
		       (const uint8_t *)v->v.i64 + w * r, w);
	}
	memset(&gv, 0, sizeof(gv));
	gv.type = WEFT_S_INT64;
	gv.nulls = t->zeros;
	gv.v.i64 = t->gid64;
	k[0] = &gv;
	k[1] = &s->tmp;
	wq_hash_vec(&gv, m, t->h, true);
	wq_hash_vec(&s->tmp, m, t->h, false);
	gids = malloc(m * sizeof(*gids));
	if (gids == NULL)
		return WEFT_ENOMEM;
	rc = wq_ktab_find(&s->dset, k, m, t->h, gids, t->rows2, &nnew);
	free(gids);
	if (rc != 0)
		return rc;
	/* rows2 now lists the positions (in tmp) of new pairs */
	for (i = 0; i < nnew; i++) {
		uint32_t r = t->rows2[i];

		t->gid2[i] = (uint32_t)t->gid64[r];
		memmove((uint8_t *)s->tmp.v.i64 + w * i,
			(uint8_t *)s->tmp.v.i64 + w * r, w);
	}
	return wq_fold(t, ai, t->gid2, &s->tmp, nnew);
}

/* Fold transition states (FINAL). */
static int
wq_merge(wq_aggtab_t *t, uint32_t ai, const uint32_t *g,
	 const weft_vec_t *const *sv, uint32_t n)
{
	const wq_agg_t *a = &t->aggs[ai];
	wq_aggst_t *s = &t->st[ai];
	uint32_t i;

	if (wq_agg_is_stat(a->fn)) {
		wq_stat_merge(a, s->cnt, s->mom, g, sv, n);
		return 0;
	}
	switch (a->fn) {
	case WQ_AGG_COUNT_STAR:
	case WQ_AGG_COUNT:
		for (i = 0; i < n; i++)
			s->cnt[g[i]] += sv[0]->nulls[i] ? 0 : sv[0]->v.i64[i];
		return 0;
	case WQ_AGG_SUM:
		for (i = 0; i < n; i++) {
			uint32_t k = g[i];

			if (sv[0]->nulls[i])
				continue;
			if (s->use_i)
				s->isum[k] += sv[0]->v.i64[i];
			else
				s->fsum[k] += sv[0]->v.f64[i];
			s->cnt[k]++;
		}
		return 0;
	case WQ_AGG_AVG:
		for (i = 0; i < n; i++) {
			uint32_t k = g[i];

			if (sv[1]->nulls[i] || sv[1]->v.i64[i] == 0)
				continue;
			if (s->use_i)
				s->isum[k] += (__int128)sv[0]->v.f64[i];
			else
				s->fsum[k] += sv[0]->v.f64[i];
			s->cnt[k] += sv[1]->v.i64[i];
		}
		return 0;
	default: return wq_minmax(t, s, a->fn == WQ_AGG_MAX, g, sv[0], n);
	}
}

int
wq_aggtab_add(wq_aggtab_t *t, const uint32_t *gids,
	      const weft_vec_t *const *args, uint32_t n, weft_err_t *err)
{
	uint32_t i, k = 0;
	int rc = 0;

	for (i = 0; i < t->naggs && rc == 0; i++) {
		const wq_agg_t *a = &t->aggs[i];
		wq_aggst_t *s = &t->st[i];

		if (wq_in_states(t->mode)) {
			rc = wq_merge(t, i, gids, args + k, n);
			k += wq_agg_nstate(a);
			continue;
		}
		if (s->same != 0)
			; /* counted by an earlier count(*) */
		else if (s->dist)
			rc = wq_fold_distinct(t, i, gids, args[k], n);
		else if (wq_agg_is_stat(a->fn))
			wq_stat_fold(a, s->cnt, s->mom, gids, args + k, n);
		else
			rc = wq_fold(t, i, gids, args[k], n);
		k += 1 + a->nmore; /* count(*): a slot of its own too */
	}
	if (rc != 0)
		return weft_err_set(err, rc, "out of memory in aggregation");
	return 0;
}

static int
wq_emit_sum(const wq_agg_t *a, const wq_aggst_t *s, uint32_t g,
	    weft_sqltype_t type, weft_vec_t *o, uint32_t r, weft_err_t *err)
{
	if (s->cnt[g] == 0) {
		o->nulls[r] = 1;
		return 0;
	}
	o->nulls[r] = 0;
	if (type == WEFT_S_INT64) {
		__int128 x = s->use_i ? s->isum[g] : (__int128)s->fsum[g];

		if (x > INT64_MAX || x < INT64_MIN)
			return weft_err_set(err, WEFT_EINVAL,
					    "bigint out of range");
		o->v.i64[r] = (int64_t)x;
	} else {
		o->v.f64[r] = s->use_i ? (double)s->isum[g] : s->fsum[g];
	}
	(void)a;
	return 0;
}

static void
wq_emit_minmax(const wq_agg_t *a, const wq_aggst_t *s, uint32_t g,
	       weft_vec_t *o, uint32_t r)
{
	if (s->has == NULL || !s->has[g]) {
		o->nulls[r] = 1;
		if (a->type == WEFT_S_TEXT)
			o->v.s[r].p = "", o->v.s[r].len = 0;
		return;
	}
	o->nulls[r] = 0;
	switch (a->type) {
	case WEFT_S_FLOAT64:
	case WEFT_S_NUMERIC: o->v.f64[r] = s->mf[g]; break;
	case WEFT_S_TEXT: o->v.s[r] = s->ms[g]; break;
	case WEFT_S_BOOL: o->v.b[r] = s->mb[g]; break;
	default: o->v.i64[r] = s->mi[g];
	}
}

/* Groups [from, from + n) of statistics aggregate a: its states from
 * column col on, or its result in column col. */
static int
wq_emit_stat(const wq_aggtab_t *t, const wq_agg_t *a, const wq_aggst_t *s,
	     uint32_t from, uint32_t n, weft_batch_t *out, uint32_t col)
{
	uint32_t r, j, w = wq_stat_width(a);
	weft_vec_t *ov[WQ_STAT_STATES_MAX];
	int rc;

	if (wq_out_states(t->mode)) {
		for (j = 0; j <= w; j++) {
			ov[j] = &out->cols[col + j];
			ov[j]->has_scale = false;
		}
		for (r = 0; r < n; r++)
			wq_stat_emit_state(a, s->cnt[from + r],
					   s->mom + (size_t)w * (from + r), ov,
					   r);
		return 0;
	}
	out->cols[col].has_scale = false;
	for (r = 0; r < n; r++) {
		rc = wq_stat_emit(a, s->cnt[from + r],
				  s->mom + (size_t)w * (from + r),
				  &out->cols[col], r, out->arena);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
wq_aggtab_emit(wq_aggtab_t *t, uint32_t from, uint32_t n, weft_batch_t *out,
	       weft_err_t *err)
{
	uint32_t c, i, r, col;
	uint32_t idx[256];
	int rc;

	if (wq_aggtab_reserve(t, from + n) != 0)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (i = 0; i < t->naggs; i++)
		if (t->st[i].same != 0)
			memcpy(t->st[i].cnt + from,
			       t->st[t->st[i].same - 1].cnt + from,
			       (size_t)n * sizeof(*t->st[i].cnt));
	/* keys */
	for (c = 0; c < t->nkeys; c++) {
		for (r = 0; r < n; r += 256) {
			uint32_t m = n - r < 256 ? n - r : 256;

			for (i = 0; i < m; i++)
				idx[i] = from + r + i;
			wq_rows_gather(&t->kt.keys, c, idx, m, &out->cols[c],
				       r);
		}
	}
	col = t->nkeys;
	for (i = 0; i < t->naggs; i++) {
		const wq_agg_t *a = &t->aggs[i];
		const wq_aggst_t *s = &t->st[i];
		weft_vec_t *o = &out->cols[col];

		if (wq_agg_is_stat(a->fn)) {
			rc = wq_emit_stat(t, a, s, from, n, out, col);
			if (rc != 0)
				return weft_err_set(err, rc, "out of memory");
			col += wq_out_states(t->mode) ? wq_agg_nstate(a) : 1;
			continue;
		}
		if (a->type == WEFT_S_NUMERIC && a->fn == WQ_AGG_AVG &&
		    !wq_out_states(t->mode)) {
			/* PostgreSQL's scale of sum / count (select_div_scale)
			 * depends on the values; a vector has one scale, so
			 * take the largest of the batch */
			int sc = 0;

			for (r = 0; r < n; r++) {
				uint32_t g = from + r;
				int x;

				if (s->cnt[g] == 0)
					continue;
				x = weft_numeric_div_scale(
				    s->use_i ? (double)s->isum[g] : s->fsum[g],
				    a->scale < 0 ? 0 : a->scale,
				    (double)s->cnt[g], 0);
				if (x > sc)
					sc = x;
			}
			o->has_scale = true;
			o->scale = (int16_t)sc;
		} else if (a->type == WEFT_S_NUMERIC && a->scale >= 0 &&
			   (!wq_out_states(t->mode) || a->fn != WQ_AGG_AVG)) {
			o->has_scale = true;
			o->scale = (int16_t)a->scale;
		} else {
			o->has_scale = false;
		}
		for (r = 0; r < n; r++) {
			uint32_t g = from + r;

			switch (a->fn) {
			case WQ_AGG_COUNT_STAR:
			case WQ_AGG_COUNT:
				o->nulls[r] = 0;
				o->v.i64[r] = s->cnt[g];
				break;
			case WQ_AGG_SUM:
				rc = wq_emit_sum(a, s, g, a->type, o, r, err);
				if (rc != 0)
					return rc;
				break;
			case WQ_AGG_AVG:
				if (wq_out_states(t->mode)) {
					weft_vec_t *o2 = &out->cols[col + 1];

					o->nulls[r] = 0;
					o->v.f64[r] = s->use_i
							  ? (double)s->isum[g]
							  : s->fsum[g];
					o2->nulls[r] = 0;
					o2->v.i64[r] = s->cnt[g];
					break;
				}
				if (s->cnt[g] == 0) {
					o->nulls[r] = 1;
					break;
				}
				o->nulls[r] = 0;
				o->v.f64[r] = (s->use_i ? (double)s->isum[g]
							: s->fsum[g]) /
					      (double)s->cnt[g];
				break;
			default: wq_emit_minmax(a, s, g, o, r);
			}
		}
		col += wq_out_states(t->mode) ? wq_agg_nstate(a) : 1;
	}
	out->n = n;
	return 0;
}
