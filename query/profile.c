/*
 * profile.c: the profile of a product's columns in one pass over its rows
 * (`SELECT weft_profile(*) FROM p`, `weft profile`), computed where the
 * rows are: the owner's scan feeds every batch here instead of sending
 * it, and sends the profile.
 *
 * Per column, as PostgreSQL's pg_stats describes one (null_frac,
 * n_distinct, most_common_vals/freqs, histogram_bounds), from one pass:
 *   - rows and NULLs: exact;
 *   - min and max: exact (bytewise for text, as weft orders text);
 *   - distinct values: exact while the column holds at most PROF_EXACT
 *     of them (a hash table of values and counts), else a HyperLogLog
 *     estimate (2^12 registers: about 1.6% standard error);
 *   - most common values with their counts: exact, from the same table
 *     (a column with more distinct values has none to report: no value
 *     of it is common);
 *   - quantiles (1, 5, 25, 50, 75, 95, 99%) and an equal-width histogram
 *     between min and max, of the orderable non-text types: exact from
 *     the table while it lasts, else from a uniform sample of PROF_SAMPLE
 *     rows, one for all columns (reservoir sampling, Li's algorithm L,
 *     with a fixed seed: the same rows in the same order give the same
 *     profile), the histogram's counts then scaled to the column's rows
 *     and marked estimated; as PostgreSQL's ANALYZE, which samples 30,000
 *     rows. Floats as PostgreSQL orders them: -0 is 0, NaN one value
 *     above all numbers (the max), kept out of quantiles and histogram.
 *
 * Past PROF_LANES_ROWS rows the columns are profiled on two threads
 * (lanes.c), split by the time each has taken so far; each column is
 * still fed every batch in order by one thread, so the profile is the
 * same as on one.
 *
 * Under an aggregates-only grant (k = min_group > 0, withhold) the owner
 * releases only what its rule allows: no min, max, quantiles or histogram
 * (each is a value of single rows, or bounds made of them); a count
 * below k (NULLs, a common value's rows) is withheld; common values are
 * those of at least k rows, the rest folded into one remainder (key
 * NULL), itself withheld below k; nothing but the row count when the
 * product has fewer than k rows.
 *
 * Output: one row per statistic, (column, stat, key, value, rows): stat
 * "type" (value: the type), "rows", "nulls", "distinct" (key "exact" or
 * "estimate"), "min", "max", "quantile" (key the fraction), "histogram"
 * (key and value the bucket's bounds, [key, value), the last of a float
 * column [key, value]; key "estimate" on a
 * separate "sample" row says the buckets were scaled from a sample of
 * `rows` values), "mcv" (key the value), "withheld" (value: what and why).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "query/exec.h"
#include "query/lanes.h"

#define PROF_HLL_P 12
#define PROF_HLL_M (1u << PROF_HLL_P)
#define PROF_EXACT 4096		    /* distinct values counted exactly */
#define PROF_EXACT_BYTES (1u << 20) /* text held by that table */
#define PROF_SAMPLE 16384	    /* values sampled for quantiles */
#define PROF_LANES_ROWS 65536	    /* rows seen before a second thread */

typedef struct pv { /* one distinct value and its rows */
	uint64_t h, n;
	union {
		int64_t i;
		double f;
		weft_str_t s;
	} u;
} pv_t;

typedef struct pcol {
	weft_sqltype_t type;
	char *name;
	uint64_t rows, nulls;
	uint64_t nnan; /* NaNs of a float column */
	bool has;      /* min, max */
	bool mm_lost;  /* out of memory folding them in: not shown */
	int64_t imin, imax;
	double fmin, fmax;
	char *smin, *smax;
	size_t lmin, lmax;
	uint8_t hll[PROF_HLL_M];
	pv_t *tab; /* open addressing, 2 * PROF_EXACT slots; NULL: gave up */
	uint32_t ntab;
	char *tbuf; /* the table's text, PROF_EXACT_BYTES at most */
	size_t tbytes;
	double *smp;	 /* the sample's values (numeric kinds); NaN: none */
	uint64_t *dcnt;	 /* rows per dictionary code of a batch */
	uint64_t *dhash; /* the used codes' hashes */
	uint32_t *dused, ndcnt;
	unsigned lane; /* wq_lanes_run's lane profiling it */
	uint64_t ns;   /* time spent on it: how lanes are balanced */
} pcol_t;

struct wq_prof {
	uint32_t ncols;
	pcol_t *c;
	uint64_t k;
	bool withhold;
	uint32_t buckets, top;
	/* the sample of rows, algorithm L, one for every column: p->nsmp
	 * slots, filled by the rows picked (row of the batch, slot) */
	uint32_t nsmp;
	uint64_t seen, next; /* rows seen, the next taken */
	double w;
	uint64_t rng;
	uint32_t *pick, npick, cappick; /* pairs (row, slot) */
	wq_lanes_t *lanes; /* the columns on two threads (NULL: one) */
	bool lanes_tried;
	uint64_t batches;
	/* the output, built at the end */
	struct prow {
		uint32_t col;
		const char *stat;
		char *key, *val;
		bool has_n;
		uint64_t n;
	} * out;
	size_t nout, capout, emitted;
	bool built;
};

/* numeric kinds: quantiles and a histogram */
static bool
pf_ordered(weft_sqltype_t t)
{
	return t == WEFT_S_INT32 || t == WEFT_S_INT64 || t == WEFT_S_FLOAT64 ||
	       t == WEFT_S_NUMERIC || t == WEFT_S_TIMESTAMP ||
	       t == WEFT_S_INTERVAL;
}

static bool
pf_isf(weft_sqltype_t t)
{
	return t == WEFT_S_FLOAT64 || t == WEFT_S_NUMERIC;
}

/* xorshift64*, uniform in (0, 1] */
static double
pf_unif(wq_prof_t *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return ((double)((p->rng * 2685821657736338717ull) >> 11) + 1.0) /
	       9007199254740992.0;
}

void
wq_prof_free(wq_prof_t *p)
{
	uint32_t i;
	size_t j;

	if (p == NULL)
		return;
	for (i = 0; p->c && i < p->ncols; i++) {
		pcol_t *c = &p->c[i];

		free(c->name);
		free(c->smin);
		free(c->smax);
		free(c->tab);
		free(c->tbuf);
		free(c->dcnt);
		free(c->dhash);
		free(c->dused);
		free(c->smp);
	}
	for (j = 0; j < p->nout; j++) {
		free(p->out[j].key);
		free(p->out[j].val);
	}
	free(p->out);
	free(p->c);
	wq_lanes_free(p->lanes);
	free(p->pick);
	free(p);
}

int
wq_prof_new(uint32_t n, const weft_sqltype_t *t, char *const *names, uint64_t k,
	    bool withhold, wq_prof_t **out)
{
	wq_prof_t *p = calloc(1, sizeof(*p));
	uint32_t i;

	*out = NULL;
	if (p == NULL || (p->c = calloc(n + 1, sizeof(*p->c))) == NULL)
		goto oom;
	p->ncols = n;
	p->k = k;
	p->withhold = withhold;
	p->buckets = 10;
	p->rng = 0x9e3779b97f4a7c15ull;
	p->top = 10;
	for (i = 0; i < n; i++) {
		pcol_t *c = &p->c[i];

		c->type = t[i];
		c->name = strdup(names && names[i] ? names[i] : "?column?");
		c->tab = calloc(2 * PROF_EXACT, sizeof(*c->tab));
		if (c->name == NULL || c->tab == NULL)
			goto oom;
		if (pf_ordered(c->type)) {
			c->smp = malloc(PROF_SAMPLE * sizeof(*c->smp));
			if (c->smp == NULL)
				goto oom;
		}
	}
	*out = p;
	return 0;
oom:
	wq_prof_free(p);
	return WEFT_ENOMEM;
}

static int pf_minmax_text(pcol_t *c, weft_str_t s);
static void pf_hll(pcol_t *c, uint64_t h);

/* A text column's min and max from its table (while the table lasts,
 * its values are not compared one by one). */
static int
pf_text_minmax_tab(pcol_t *c)
{
	size_t j;
	int rc = 0;

	for (j = 0; j < 2 * PROF_EXACT && rc == 0; j++)
		if (c->tab[j].n)
			rc = pf_minmax_text(c, c->tab[j].u.s);
	return rc;
}

/* Give up the table: past it, a text column's values go into the
 * HyperLogLog and the min and max as they come, so what the table held
 * goes there first. */
static void
pf_drop_tab(pcol_t *c)
{
	size_t j;

	if (c->type == WEFT_S_TEXT) {
		for (j = 0; j < 2 * PROF_EXACT; j++)
			if (c->tab[j].n)
				pf_hll(c, c->tab[j].h);
		if (pf_text_minmax_tab(c) != 0)
			c->mm_lost = true;
	}
	free(c->tab);
	free(c->tbuf);
	c->tab = NULL;
	c->tbuf = NULL;
}

/* Two texts the same: short ones (most dictionary values) compared in
 * line, not through a call */
static inline bool
pf_same(weft_str_t a, weft_str_t b)
{
	if (a.len != b.len)
		return false;
	return memcmp(a.p, b.p, a.len) == 0;
}

/* Count w rows of value k (its hash k->h; text borrowed) in c's table;
 * gives up the table past its bounds (or out of memory: exactness is
 * lost, nothing else). */
static void
pf_count(pcol_t *c, const pv_t *k, uint64_t w)
{
	uint32_t mask = 2 * PROF_EXACT - 1, s = (uint32_t)k->h & mask;
	pv_t *e;

	for (;; s = (s + 1) & mask) {
		e = &c->tab[s];
		if (e->n == 0)
			break;
		if (e->h != k->h)
			continue;
		if (c->type == WEFT_S_TEXT ? pf_same(e->u.s, k->u.s)
					   : memcmp(&e->u, &k->u, 8) == 0) {
			e->n += w;
			return;
		}
	}
	if (c->ntab >= PROF_EXACT) {
		pf_drop_tab(c);
		return;
	}
	*e = *k;
	if (c->type == WEFT_S_TEXT) {
		size_t len = k->u.s.len;
		if (c->tbuf == NULL)
			c->tbuf = malloc(PROF_EXACT_BYTES);
		if (c->tbuf == NULL || c->tbytes + len > PROF_EXACT_BYTES) {
			e->n = 0;
			pf_drop_tab(c);
			return;
		}
		memcpy(c->tbuf + c->tbytes, k->u.s.p, len);
		e->u.s.p = c->tbuf + c->tbytes;
		c->tbytes += len;
	}
	e->n = w;
	c->ntab++;
}

/* The table key of value i of v (its hash mixed once more: HLL reads the
 * top bits). */
static void
pf_key(const pcol_t *c, const weft_vec_t *v, uint32_t i, pv_t *k)
{
	uint64_t h = wq_hash_val(v, i);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	memset(&k->u, 0, sizeof(k->u));
	k->h = h;
	k->n = 0;
	if (c->type == WEFT_S_TEXT)
		k->u.s = v->v.s[i];
	else if (pf_isf(c->type))
		k->u.f = v->v.f64[i];
	else
		k->u.i = c->type == WEFT_S_BOOL ? v->v.b[i] : v->v.i64[i];
}

static void
pf_hll(pcol_t *c, uint64_t h)
{
	uint32_t idx = (uint32_t)(h >> (64 - PROF_HLL_P));
	uint64_t w = (h << PROF_HLL_P) | (1ull << (PROF_HLL_P - 1));
	uint8_t r = (uint8_t)(__builtin_clzll(w) + 1);

	if (r > c->hll[idx])
		c->hll[idx] = r;
}

/* The rows after the next one taken: algorithm L's skip, drawn ahead
 * (bounded: w never reaches 1, but a rounding must not overflow). */
static uint64_t
pf_skip(wq_prof_t *p)
{
	double k = floor(log(pf_unif(p)) / log1p(-p->w));

	return k >= 0 && k < 4e18 ? (uint64_t)k : 0;
}

/* Which rows of the next n go into the sample, and where: algorithm L
 * (Li, 1994) over rows: the first PROF_SAMPLE fill it, then the next row
 * taken is drawn ahead, so most rows cost nothing, and the columns share
 * the draws (as PostgreSQL's ANALYZE samples rows, not values). */
static int
pf_pick(wq_prof_t *p, uint32_t n)
{
	uint64_t base = p->seen, end = base + n;
	uint32_t *q;

	if (n > p->cappick) {
		if ((q = realloc(p->pick, 2 * (size_t)n * sizeof(*q))) == NULL)
			return WEFT_ENOMEM;
		p->pick = q;
		p->cappick = n;
	}
	q = p->pick;
	p->npick = 0;
	for (; p->nsmp < PROF_SAMPLE && p->seen < end; p->seen++) {
		q[2 * p->npick] = (uint32_t)(p->seen - base);
		q[2 * p->npick++ + 1] = p->nsmp++;
		if (p->nsmp == PROF_SAMPLE) {
			p->w = exp(log(pf_unif(p)) / PROF_SAMPLE);
			p->next = p->seen + 1 + pf_skip(p);
		}
	}
	while (p->nsmp == PROF_SAMPLE && p->next < end) {
		q[2 * p->npick] = (uint32_t)(p->next - base);
		q[2 * p->npick++ + 1] =
		    (uint32_t)(pf_unif(p) * PROF_SAMPLE) % PROF_SAMPLE;
		p->w *= exp(log(pf_unif(p)) / PROF_SAMPLE);
		p->next += 1 + pf_skip(p);
	}
	p->seen = end;
	return 0;
}

/* The picked rows' values of an ordered column into its sample (NULL
 * as NaN: no value). */
static void
pf_sampled(const wq_prof_t *p, pcol_t *c, const weft_vec_t *v)
{
	const uint32_t *q = p->pick;
	bool f = pf_isf(c->type);
	uint32_t j;

	for (j = 0; j < p->npick; j++) {
		uint32_t r = q[2 * j];

		c->smp[q[2 * j + 1]] = v->nulls[r] ? NAN
				       : f	   ? v->v.f64[r]
						   : (double)v->v.i64[r];
	}
}

static int
pf_minmax_text(pcol_t *c, weft_str_t s)
{
	char *q;

	if (c->has) {
		int lo =
		    memcmp(s.p, c->smin, s.len < c->lmin ? s.len : c->lmin);
		int hi =
		    memcmp(s.p, c->smax, s.len < c->lmax ? s.len : c->lmax);
		bool below = lo < 0 || (lo == 0 && s.len < c->lmin);
		bool above = hi > 0 || (hi == 0 && s.len > c->lmax);

		if (!below && !above)
			return 0;
		if ((q = malloc(s.len ? s.len : 1)) == NULL)
			return WEFT_ENOMEM;
		memcpy(q, s.p, s.len);
		if (below) {
			free(c->smin);
			c->smin = q;
			c->lmin = s.len;
		} else {
			free(c->smax);
			c->smax = q;
			c->lmax = s.len;
		}
		return 0;
	}
	c->smin = malloc(s.len ? s.len : 1);
	c->smax = malloc(s.len ? s.len : 1);
	if (c->smin == NULL || c->smax == NULL)
		return WEFT_ENOMEM;
	memcpy(c->smin, s.p, s.len);
	memcpy(c->smax, s.p, s.len);
	c->lmin = c->lmax = s.len;
	c->has = true;
	return 0;
}

/* A text value's key hash: XXH3, mixed once more (HLL reads the top
 * bits, the table the bottom ones). */
static uint64_t
pf_hash_text(weft_str_t s)
{
	uint64_t h = XXH3_64bits(s.p, s.len);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* Room for a batch's dictionary of n values: rows per code (and one for
 * NULL), and the used codes with their hashes. */
static int
pf_dict_room(pcol_t *c, uint32_t n)
{
	uint64_t *q;
	uint32_t *u;

	if (n + 1 <= c->ndcnt)
		return 0;
	if ((q = realloc(c->dcnt, (n + 1) * sizeof(*q))) == NULL)
		return WEFT_ENOMEM;
	memset(q + c->ndcnt, 0, (n + 1 - c->ndcnt) * sizeof(*q));
	c->dcnt = q;
	if ((q = realloc(c->dhash, (n + 1) * sizeof(*q))) == NULL)
		return WEFT_ENOMEM;
	c->dhash = q;
	if ((u = realloc(c->dused, (n + 1) * sizeof(*u))) == NULL)
		return WEFT_ENOMEM;
	c->dused = u;
	c->ndcnt = n + 1;
	return 0;
}

/* A text column with its batch's dictionary: each value once, with its
 * rows. The values' hashes first, then the table probed with each slot
 * fetched a few values ahead (a dictionary of thousands of values per
 * batch is mostly cache misses otherwise). */
static int
pf_add_dict(pcol_t *c, const weft_vec_t *v, const wq_dict_t *d, uint32_t n)
{
	uint32_t i, m = 0, dn = d->n, mask = 2 * PROF_EXACT - 1;
	uint64_t *cnt;
	pv_t k;
	int rc;

	if ((rc = pf_dict_room(c, dn)) != 0)
		return rc;
	cnt = c->dcnt;
	c->rows += n;
	for (i = 0; i < n; i++) { /* NULL rows (code dn) counted apart */
		uint32_t x = d->codes[i];

		cnt[v->nulls[i] || x > dn ? dn : x]++;
	}
	c->nulls += cnt[dn];
	cnt[dn] = 0;
	for (i = 0; i < dn; i++)
		if (cnt[i] != 0) {
			c->dused[m] = i;
			c->dhash[m++] = pf_hash_text(d->vals[i]);
		}
	memset(&k, 0, sizeof(k));
	for (i = 0; i < m; i++) {
		uint32_t x = c->dused[i];
		uint64_t w = cnt[x];

		cnt[x] = 0;
		k.h = c->dhash[i];
		k.u.s = d->vals[x];
		if (c->tab != NULL) {
			if (i + 8 < m)
				__builtin_prefetch(
				    &c->tab[c->dhash[i + 8] & mask]);
			pf_count(c, &k, w);
			if (c->tab != NULL)
				continue; /* counted: the rest at the end */
		}
		pf_hll(c, k.h);
		if ((rc = pf_minmax_text(c, d->vals[x])) != 0)
			break;
	}
	for (; i < m; i++) /* (out of memory: the counts start at 0 again) */
		cnt[c->dused[i]] = 0;
	return rc;
}

/* An integer-like column (the kinds held in i64): its loop apart, the
 * hash inline, the sample's skip tested before any call. */
/* A 64-bit value's key hash (HLL reads the top bits, the table the
 * bottom ones). */
static inline uint64_t
pf_mix(uint64_t h)
{
	h *= 0x9e3779b97f4a7c15ull;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return h;
}

static void
pf_add_ints(pcol_t *c, const weft_vec_t *v, uint32_t n)
{
	int64_t lo = c->has ? c->imin : INT64_MAX;
	int64_t hi = c->has ? c->imax : INT64_MIN;
	uint32_t i, seen = 0;
	pv_t k;

	memset(&k, 0, sizeof(k));
	for (i = 0; i < n; i++) {
		int64_t x = v->v.i64[i];
		uint64_t h;

		if (v->nulls[i])
			continue;
		seen++;
		h = pf_mix((uint64_t)x);
		pf_hll(c, h);
		if (c->tab != NULL) {
			k.h = h;
			k.u.i = x;
			pf_count(c, &k, 1);
		}
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	c->nulls += n - seen;
	if (seen > 0) {
		c->imin = lo;
		c->imax = hi;
		c->has = true;
	}
}

/* A float column: its loop apart as the integers'. -0 counts as 0 and
 * every NaN as one value (as PostgreSQL orders and groups them); NaN is
 * above every number, so it is the max and stays out of the min, the
 * sample and the histogram, which describe the numbers. */
static void
pf_add_floats(pcol_t *c, const weft_vec_t *v, uint32_t n)
{
	double lo = c->has ? c->fmin : INFINITY;
	double hi = c->has ? c->fmax : -INFINITY;
	uint32_t i, seen = 0, nums = 0;
	pv_t k;

	memset(&k, 0, sizeof(k));
	for (i = 0; i < n; i++) {
		double x = v->v.f64[i];
		uint64_t h;

		if (v->nulls[i])
			continue;
		seen++;
		if (x == 0)
			x = 0; /* -0 */
		if (isnan(x))
			x = NAN; /* one bit pattern */
		memcpy(&h, &x, 8);
		h = pf_mix(h);
		pf_hll(c, h);
		if (c->tab != NULL) {
			k.h = h;
			k.u.f = x;
			pf_count(c, &k, 1);
		}
		if (isnan(x)) {
			c->nnan++;
			continue;
		}
		nums++;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	c->nulls += n - seen;
	if (nums > 0) {
		c->fmin = lo;
		c->fmax = hi;
		c->has = true;
	}
}

static int
pf_add_col(pcol_t *c, const weft_vec_t *v, uint32_t n)
{
	uint32_t i;
	pv_t k;
	int rc;

	c->rows += n;
	if (c->type == WEFT_S_INT64 || c->type == WEFT_S_INT32 ||
	    c->type == WEFT_S_TIMESTAMP || c->type == WEFT_S_INTERVAL) {
		pf_add_ints(c, v, n);
		return 0;
	}
	if (pf_isf(c->type)) {
		pf_add_floats(c, v, n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (v->nulls[i]) {
			c->nulls++;
			continue;
		}
		pf_key(c, v, i, &k);
		if (c->tab != NULL) {
			pf_count(c, &k, 1);
			if (c->tab != NULL && c->type == WEFT_S_TEXT)
				continue; /* counted: the rest at the end */
		}
		pf_hll(c, k.h);
		if (c->type == WEFT_S_TEXT) {
			if ((rc = pf_minmax_text(c, v->v.s[i])) != 0)
				return rc;
		} else {
			int64_t x = v->v.b[i];

			if (!c->has || x < c->imin)
				c->imin = x;
			if (!c->has || x > c->imax)
				c->imax = x;
			c->has = true;
		}
	}
	return 0;
}

/* One lane's columns of a batch (wq_lanes_run), each timed. */
struct pf_batch {
	wq_prof_t *p;
	const weft_batch_t *b;
	const wq_dict_t *d;
};

static int
pf_lane(void *arg, unsigned lane)
{
	const struct pf_batch *x = arg;
	wq_prof_t *p = x->p;
	uint32_t i;
	int rc = 0;

	for (i = 0; i < p->ncols && rc == 0; i++) {
		pcol_t *c = &p->c[i];
		const wq_dict_t *d = x->d ? &x->d[i] : NULL;
		uint64_t t0;

		if (c->lane != lane)
			continue;
		t0 = weft_mono_ns();
		if (c->type == WEFT_S_TEXT && d != NULL && d->id != NULL &&
		    d->codes != NULL)
			rc = pf_add_dict(c, &x->b->cols[i], d, x->b->n);
		else
			rc = pf_add_col(c, &x->b->cols[i], x->b->n);
		if (c->smp != NULL)
			pf_sampled(p, c, &x->b->cols[i]);
		c->ns += weft_mono_ns() - t0;
	}
	return rc;
}

/* The columns onto the two lanes, the costliest first each onto the
 * lane with less work so far (LPT), by the time each took so far: at
 * the first batches, then every 32nd. */
static void
pf_assign(wq_prof_t *p)
{
	uint64_t load[2] = {0, 0};
	uint32_t i, j, *o;

	if (p->batches > 4 && p->batches % 32 != 0)
		return;
	if ((o = malloc(p->ncols * sizeof(*o))) == NULL)
		return;			 /* (the lanes stay as they were) */
	for (i = 0; i < p->ncols; i++) { /* insertion: few columns */
		for (j = i; j > 0 && p->c[o[j - 1]].ns < p->c[i].ns; j--)
			o[j] = o[j - 1];
		o[j] = i;
	}
	for (i = 0; i < p->ncols; i++) {
		pcol_t *c = &p->c[o[i]];

		c->lane = load[1] < load[0];
		load[c->lane] += c->ns + 1;
	}
	free(o);
}

int
wq_prof_add(wq_prof_t *p, const weft_batch_t *b, const wq_dict_t *d)
{
	struct pf_batch x = {p, b, d};
	int rc;

	if (b->ncols < p->ncols)
		return WEFT_EINVAL;
	if ((rc = pf_pick(p, b->n)) != 0)
		return rc;
	/* a second thread once the product is seen to be large */
	if (!p->lanes_tried && p->seen >= PROF_LANES_ROWS && p->ncols > 1) {
		p->lanes = wq_lanes_new();
		p->lanes_tried = true;
	}
	pf_assign(p);
	p->batches++;
	return wq_lanes_run(p->lanes, pf_lane, &x);
}

/* ---- the output ---- */

static int
pf_row(wq_prof_t *p, uint32_t col, const char *stat, const char *key,
       const char *val, bool has_n, uint64_t n)
{
	struct prow *r;

	if (p->nout == p->capout) {
		size_t nc = p->capout ? 2 * p->capout : 64;
		struct prow *q = realloc(p->out, nc * sizeof(*q));

		if (q == NULL)
			return WEFT_ENOMEM;
		p->out = q;
		p->capout = nc;
	}
	r = &p->out[p->nout];
	r->col = col;
	r->stat = stat;
	r->key = key ? strdup(key) : NULL;
	r->val = val ? strdup(val) : NULL;
	r->has_n = has_n;
	r->n = n;
	if ((key && !r->key) || (val && !r->val)) {
		free(r->key);
		free(r->val);
		return WEFT_ENOMEM;
	}
	p->nout++;
	return 0;
}

/* A value of c's type, from the double the sample and histogram use. */
static void
pf_fmt(const pcol_t *c, double x, char *buf, size_t n)
{
	switch (c->type) {
	case WEFT_S_FLOAT64: weft_format_float8(x, buf, n); break;
	case WEFT_S_NUMERIC: weft_format_numeric(x, -1, buf, n); break;
	case WEFT_S_TIMESTAMP:
		weft_format_timestamp((int64_t)floor(x), buf, n);
		break;
	case WEFT_S_INTERVAL:
		weft_format_interval((int64_t)floor(x), buf, n);
		break;
	case WEFT_S_BOOL:
		snprintf(buf, n, "%s", x != 0 ? "true" : "false");
		break;
	default: snprintf(buf, n, "%lld", (long long)floor(x));
	}
}

/* A table entry's value as text (text values cut to 200 bytes, marked) */
static void
pf_fmt_entry(const pcol_t *c, const pv_t *e, char *buf, size_t n)
{
	if (c->type == WEFT_S_TEXT) {
		size_t len = e->u.s.len < 200 ? e->u.s.len : 200;

		snprintf(buf, n, "%.*s%s", (int)len, e->u.s.p,
			 e->u.s.len > 200 ? "..." : "");
	} else if (pf_isf(c->type)) {
		pf_fmt(c, e->u.f, buf, n);
	} else if (c->type == WEFT_S_INT64 || c->type == WEFT_S_INT32) {
		snprintf(buf, n, "%lld", (long long)e->u.i);
	} else {
		pf_fmt(c, (double)e->u.i, buf, n);
	}
}

static double
pf_entry_x(const pcol_t *c, const pv_t *e)
{
	return pf_isf(c->type) ? e->u.f : (double)e->u.i;
}

static int
pf_cmp_n(const void *a, const void *b, void *arg)
{
	const pv_t *x = *(pv_t *const *)a, *y = *(pv_t *const *)b;
	const pcol_t *c = arg;
	size_t l;
	int d;

	if (x->n != y->n) /* most rows first, then by value */
		return x->n > y->n ? -1 : 1;
	if (c->type == WEFT_S_TEXT) {
		l = x->u.s.len < y->u.s.len ? x->u.s.len : y->u.s.len;
		d = memcmp(x->u.s.p, y->u.s.p, l);
		return d ? d
			 : (x->u.s.len > y->u.s.len) -
			       (x->u.s.len < y->u.s.len);
	}
	if (pf_isf(c->type) && (isnan(x->u.f) || isnan(y->u.f)))
		return isnan(x->u.f) - isnan(y->u.f); /* NaN above all */
	if (pf_isf(c->type))
		return (x->u.f > y->u.f) - (x->u.f < y->u.f);
	return (x->u.i > y->u.i) - (x->u.i < y->u.i);
}

/* The table's entries (when it lasted), most rows first. */
static pv_t **
pf_entries(const pcol_t *c)
{
	pv_t **v = calloc(c->ntab + 1, sizeof(*v));
	uint32_t j, m = 0;

	if (v == NULL)
		return NULL;
	for (j = 0; j < 2 * PROF_EXACT; j++)
		if (c->tab[j].n)
			v[m++] = &c->tab[j];
	qsort_r(v, m, sizeof(*v), pf_cmp_n, (void *)c);
	return v;
}

static uint64_t
pf_distinct(const pcol_t *c)
{
	double sum = 0, m = PROF_HLL_M, e;
	uint32_t j, zeros = 0;

	if (c->tab != NULL)
		return c->ntab;
	for (j = 0; j < PROF_HLL_M; j++) {
		sum += ldexp(1.0, -c->hll[j]);
		zeros += c->hll[j] == 0;
	}
	e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
	if (e <= 2.5 * m && zeros > 0)
		e = m * log(m / zeros);
	/* never more than the values counted */
	if (e > (double)(c->rows - c->nulls))
		e = (double)(c->rows - c->nulls);
	return (uint64_t)llround(e);
}

/* Quantiles and the histogram of an ordered column: from its values and
 * counts (x, w) sorted by x, total weight tot; scale turns a sampled
 * count into rows (1 when exact). */
static int
pf_spread(wq_prof_t *p, uint32_t ci, const double *x, const double *w,
	  uint32_t m, double tot, double scale)
{
	static const double qs[] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};
	const pcol_t *c = &p->c[ci];
	char a[96], b[96], q[16];
	double cum = 0, lo, hi, width;
	double *cnt;
	uint32_t j, qi = 0, nb = p->buckets;
	int rc = 0;

	for (j = 0; j < m && qi < 7 && rc == 0; j++) {
		cum += w[j];
		while (qi < 7 && cum >= qs[qi] * tot) {
			snprintf(q, sizeof(q), "%g", qs[qi]);
			pf_fmt(c, x[j], a, sizeof(a));
			rc = pf_row(p, ci, "quantile", q, a, false, 0);
			qi++;
		}
	}
	lo = pf_isf(c->type) ? c->fmin : (double)c->imin;
	hi = pf_isf(c->type) ? c->fmax : (double)c->imax;
	if (rc != 0 || !(hi > lo) || !isfinite(hi - lo))
		return rc;
	if (pf_isf(c->type)) {
		width = (hi - lo) / nb;
	} else { /* integers: whole widths, [lo, hi + 1) covered */
		width = ceil((hi - lo + 1) / nb);
		/* timestamps and intervals: whole seconds past a second */
		if ((c->type == WEFT_S_TIMESTAMP ||
		     c->type == WEFT_S_INTERVAL) &&
		    width > 1e6)
			width = ceil(width / 1e6) * 1e6;
		nb = (uint32_t)ceil((hi - lo + 1) / width);
	}
	if ((cnt = calloc(nb, sizeof(*cnt))) == NULL)
		return WEFT_ENOMEM;
	for (j = 0; j < m; j++) {
		uint32_t k = (uint32_t)((x[j] - lo) / width);

		cnt[k < nb ? k : nb - 1] += w[j] * scale;
	}
	for (j = 0; j < nb && rc == 0; j++) {
		double up = lo + (j + 1) * width;

		pf_fmt(c, lo + j * width, a, sizeof(a));
		pf_fmt(c, j + 1 == nb && pf_isf(c->type) ? hi : up, b,
		       sizeof(b));
		rc = pf_row(p, ci, "histogram", a, b, true,
			    (uint64_t)llround(cnt[j]));
	}
	free(cnt);
	return rc;
}

/* A value and its weight, the value as a key whose unsigned order is the
 * doubles' (NaN aside). */
typedef struct pkw {
	uint64_t k;
	double w;
} pkw_t;

static uint64_t
pf_dkey(double x)
{
	uint64_t u;

	memcpy(&u, &x, 8);
	return u >> 63 ? ~u : u | 1ull << 63;
}

static double
pf_keyd(uint64_t u)
{
	double x;

	u = u >> 63 ? u & ~(1ull << 63) : ~u;
	memcpy(&x, &u, 8);
	return x;
}

/* a[0..m) sorted by key: LSD radix, a byte a pass, the passes where
 * every key has the same byte skipped (tens of thousands of sampled
 * values: no comparisons, a few linear passes). Leaves the result in a
 * or tmp and returns which. */
static pkw_t *
pf_radix(pkw_t *a, pkw_t *tmp, uint32_t m)
{
	uint32_t cnt[256], j, b, sum;

	for (b = 0; b < 64; b += 8) {
		memset(cnt, 0, sizeof(cnt));
		for (j = 0; j < m; j++)
			cnt[(a[j].k >> b) & 255]++;
		if (m == 0 || cnt[(a[0].k >> b) & 255] == m)
			continue;
		for (j = 0, sum = 0; j < 256; j++) {
			uint32_t t = cnt[j];

			cnt[j] = sum;
			sum += t;
		}
		for (j = 0; j < m; j++)
			tmp[cnt[(a[j].k >> b) & 255]++] = a[j];
		pkw_t *sw = a;

		a = tmp;
		tmp = sw;
	}
	return a;
}

static int
pf_ordered_stats(wq_prof_t *p, uint32_t ci, pv_t **ent)
{
	pcol_t *c = &p->c[ci];
	uint32_t j, n, m = ent ? c->ntab : p->nsmp;
	uint64_t nums = c->rows - c->nulls - c->nnan;
	pkw_t *kw = malloc(2 * ((size_t)m + 1) * sizeof(*kw)), *o;
	double *x = malloc(((size_t)m + 1) * sizeof(*x));
	double *w = malloc(((size_t)m + 1) * sizeof(*w));
	int rc = kw && x && w ? 0 : WEFT_ENOMEM;

	/* (value, weight) pairs sorted by value: the table's values and
	 * their rows (exact), else the sample's values, each one; NaN
	 * (above the numbers) apart */
	for (j = 0, n = 0; rc == 0 && j < m; j++) {
		double v = ent ? pf_entry_x(c, ent[j]) : c->smp[j];

		if (isnan(v))
			continue;
		kw[n].k = pf_dkey(v);
		kw[n++].w = ent ? (double)ent[j]->n : 1.0;
	}
	m = n;
	if (rc == 0) {
		o = pf_radix(kw, kw + m, m);
		for (j = 0; j < m; j++) {
			x[j] = pf_keyd(o[j].k);
			w[j] = o[j].w;
		}
	}
	if (rc == 0 && ent != NULL) {
		rc = pf_spread(p, ci, x, w, m, (double)nums, 1.0);
	} else if (rc == 0) {
		if (m < nums) /* else it holds every number */
			rc = pf_row(p, ci, "sample", "estimate", NULL, true, m);
		if (rc == 0 && m > 0)
			rc = pf_spread(p, ci, x, w, m, (double)m,
				       (double)nums / m);
	}
	free(kw);
	free(x);
	free(w);
	return rc;
}

/* The common values (and, withholding, the remainder below k). */
static int
pf_mcv(wq_prof_t *p, uint32_t ci, pv_t **ent)
{
	const pcol_t *c = &p->c[ci];
	uint64_t rest = 0;
	uint32_t j, shown = 0;
	char a[256];
	int rc = 0;

	for (j = 0; j < c->ntab && rc == 0; j++) {
		if (ent[j]->n < 2 && !p->withhold)
			break; /* a value of one row is not common */
		if (shown >= p->top || (p->withhold && ent[j]->n < p->k)) {
			rest += ent[j]->n;
			continue;
		}
		pf_fmt_entry(c, ent[j], a, sizeof(a));
		rc = pf_row(p, ci, "mcv", a, NULL, true, ent[j]->n);
		shown++;
	}
	if (rc == 0 && p->withhold && rest >= p->k && rest > 0)
		rc = pf_row(p, ci, "mcv", NULL, NULL, true, rest);
	return rc;
}

static int
pf_col(wq_prof_t *p, uint32_t ci)
{
	pcol_t *c = &p->c[ci];
	pv_t **ent = NULL;
	char a[256];
	int rc;

	if (c->type == WEFT_S_TEXT && c->tab != NULL &&
	    pf_text_minmax_tab(c) != 0)
		return WEFT_ENOMEM;
	rc = pf_row(p, ci, "type", NULL, weft_sqltype_name(c->type), false, 0);
	if (rc == 0)
		rc = pf_row(p, ci, "rows", NULL, NULL, true, c->rows);
	if (rc != 0)
		return rc;
	if (p->withhold && c->rows < p->k)
		return pf_row(p, ci, "withheld", NULL,
			      "everything but the row count: fewer rows than "
			      "the grant's min_group",
			      false, 0);
	if (!p->withhold || c->nulls == 0 || c->nulls >= p->k)
		rc = pf_row(p, ci, "nulls", NULL, NULL, true, c->nulls);
	if (rc == 0)
		rc = pf_row(p, ci, "distinct", c->tab ? "exact" : "estimate",
			    NULL, true, pf_distinct(c));
	if (rc == 0 && c->tab != NULL && (ent = pf_entries(c)) == NULL)
		rc = WEFT_ENOMEM;
	if (rc == 0 && p->withhold) {
		rc = pf_row(p, ci, "withheld", NULL,
			    "min, max, quantiles, histogram: values of single "
			    "rows, under an aggregates-only grant",
			    false, 0);
	} else if (rc == 0 && (c->has || c->nnan) && !c->mm_lost) {
		if (c->type == WEFT_S_TEXT) {
			snprintf(a, sizeof(a), "%.*s",
				 (int)(c->lmin < 200 ? c->lmin : 200), c->smin);
			rc = pf_row(p, ci, "min", NULL, a, false, 0);
			snprintf(a, sizeof(a), "%.*s",
				 (int)(c->lmax < 200 ? c->lmax : 200), c->smax);
			if (rc == 0)
				rc = pf_row(p, ci, "max", NULL, a, false, 0);
		} else {
			pf_fmt(c,
			       pf_isf(c->type) ? (c->has ? c->fmin : NAN)
					       : (double)c->imin,
			       a, sizeof(a));
			if (!pf_isf(c->type) && c->type != WEFT_S_BOOL &&
			    c->type != WEFT_S_TIMESTAMP &&
			    c->type != WEFT_S_INTERVAL)
				snprintf(a, sizeof(a), "%lld",
					 (long long)c->imin);
			rc = pf_row(p, ci, "min", NULL, a, false, 0);
			pf_fmt(c,
			       pf_isf(c->type) ? (c->nnan ? NAN : c->fmax)
					       : (double)c->imax,
			       a, sizeof(a));
			if (!pf_isf(c->type) && c->type != WEFT_S_BOOL &&
			    c->type != WEFT_S_TIMESTAMP &&
			    c->type != WEFT_S_INTERVAL)
				snprintf(a, sizeof(a), "%lld",
					 (long long)c->imax);
			if (rc == 0)
				rc = pf_row(p, ci, "max", NULL, a, false, 0);
		}
		if (rc == 0 && pf_ordered(c->type) && (ent || p->nsmp > 0))
			rc = pf_ordered_stats(p, ci, ent);
	}
	if (rc == 0 && ent != NULL)
		rc = pf_mcv(p, ci, ent);
	free(ent);
	return rc;
}

static void
pf_put_text(weft_vec_t *v, uint32_t r, const char *s, weft_arena_t *a)
{
	size_t len = s ? strlen(s) : 0;
	char *q = s && len ? weft_arena_alloc(a, len) : NULL;

	v->nulls[r] = s == NULL || (len && q == NULL);
	v->v.s[r].p = q ? q : "";
	v->v.s[r].len = q ? len : 0;
	if (q)
		memcpy(q, s, len);
}

int
wq_prof_emit(wq_prof_t *p, weft_batch_t *out, weft_err_t *err)
{
	uint32_t r = 0, i;
	int rc;

	if (!p->built) {
		for (i = 0; i < p->ncols; i++)
			if ((rc = pf_col(p, i)) != 0)
				return weft_err_set(err, rc, "out of memory");
		p->built = true;
	}
	weft_batch_clear(out);
	while (p->emitted < p->nout && r < WEFT_BATCH) {
		const struct prow *w = &p->out[p->emitted++];

		pf_put_text(&out->cols[0], r, p->c[w->col].name, out->arena);
		pf_put_text(&out->cols[1], r, w->stat, out->arena);
		pf_put_text(&out->cols[2], r, w->key, out->arena);
		pf_put_text(&out->cols[3], r, w->val, out->arena);
		out->cols[4].nulls[r] = !w->has_n;
		out->cols[4].v.i64[r] = (int64_t)w->n;
		r++;
	}
	out->n = r;
	return r > 0;
}

void
wq_prof_types(weft_sqltype_t t[WQ_PROF_NCOLS], const char **names)
{
	static const char *const nm[WQ_PROF_NCOLS] = {"column", "stat", "key",
						      "value", "rows"};
	uint32_t i;

	for (i = 0; i < WQ_PROF_NCOLS; i++) {
		t[i] = i == 4 ? WEFT_S_INT64 : WEFT_S_TEXT;
		if (names)
			names[i] = nm[i];
	}
}
