/*
 * rows.c: what the operators share: a column store of materialised rows
 * (sort, join build side, aggregation keys), vectorised hashing, value
 * comparison with PostgreSQL's ordering (NULLs handled by callers; NaN
 * above every number; text bytewise, i.e. the "C" collation) and a hash
 * table of distinct keys (wq_ktab) used by aggregation and DISTINCT, and
 * the sorting of materialised rows and the top-N (wq_topn) that sorts and
 * scans with ORDER BY ... LIMIT share.
 *
 * Invariants: a wq_rows_t owns copies of its text (in its arena), so rows
 * outlive the batches they came from. Float keys are normalised for
 * hashing and equality (-0 = 0, all NaNs equal), as PostgreSQL groups them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "query/qint.h"

size_t
wq_width(weft_sqltype_t t)
{
	switch (t) {
	case WEFT_S_BOOL: return 1;
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN: return sizeof(weft_str_t);
	default: return 8;
	}
}

int
wq_rows_init(wq_rows_t *r, uint32_t ncols, const weft_sqltype_t *types)
{
	memset(r, 0, sizeof(*r));
	r->ncols = ncols;
	r->types = calloc(ncols + 1, sizeof(*r->types));
	r->nulls = calloc(ncols + 1, sizeof(*r->nulls));
	r->vals = calloc(ncols + 1, sizeof(*r->vals));
	r->arena = weft_arena_new();
	if (!r->types || !r->nulls || !r->vals || !r->arena) {
		wq_rows_release(r);
		return WEFT_ENOMEM;
	}
	if (ncols)
		memcpy(r->types, types, ncols * sizeof(*types));
	return 0;
}

void
wq_rows_release(wq_rows_t *r)
{
	uint32_t i;

	for (i = 0; i < r->ncols && r->nulls; i++) {
		free(r->nulls[i]);
		if (r->vals)
			free(r->vals[i]);
	}
	free(r->nulls);
	free(r->vals);
	free(r->types);
	weft_arena_free(r->arena);
	memset(r, 0, sizeof(*r));
}

static int
wq_rows_reserve(wq_rows_t *r, size_t want)
{
	size_t nc;
	uint32_t c;

	if (want <= r->cap)
		return 0;
	nc = r->cap ? r->cap : 1024;
	while (nc < want)
		nc *= 2;
	for (c = 0; c < r->ncols; c++) {
		uint8_t *nn = realloc(r->nulls[c], nc);
		uint8_t *nv;

		if (nn == NULL)
			return WEFT_ENOMEM;
		r->nulls[c] = nn;
		nv = realloc(r->vals[c], nc * wq_width(r->types[c]));
		if (nv == NULL)
			return WEFT_ENOMEM;
		r->vals[c] = nv;
	}
	r->cap = nc;
	return 0;
}

/* Copy text (in place in dst[0..n)) into the store's arena. */
static int
wq_rows_own_text(wq_rows_t *r, weft_str_t *s, const uint8_t *nulls, uint32_t n)
{
	size_t total = 0;
	uint32_t i;
	char *p;

	for (i = 0; i < n; i++)
		if (!nulls[i])
			total += s[i].len;
	if (total == 0) {
		for (i = 0; i < n; i++)
			s[i].p = "";
		return 0;
	}
	p = weft_arena_alloc(r->arena, total);
	if (p == NULL)
		return WEFT_ENOMEM;
	for (i = 0; i < n; i++) {
		if (nulls[i] || s[i].len == 0) {
			s[i].p = "";
			s[i].len = nulls[i] ? 0 : s[i].len;
			continue;
		}
		memcpy(p, s[i].p, s[i].len);
		s[i].p = p;
		p += s[i].len;
	}
	return 0;
}

int
wq_rows_append(wq_rows_t *r, const weft_batch_t *b, const uint32_t *sel,
	       uint32_t nsel)
{
	uint32_t n = sel ? nsel : b->n, c, i;
	int rc;

	if (n == 0)
		return 0;
	rc = wq_rows_reserve(r, r->n + n);
	if (rc != 0)
		return rc;
	for (c = 0; c < r->ncols; c++) {
		const weft_vec_t *v = &b->cols[c];
		size_t w = wq_width(r->types[c]);
		uint8_t *dn = r->nulls[c] + r->n;
		uint8_t *dv = r->vals[c] + r->n * w;
		const uint8_t *sv = (const uint8_t *)v->v.i64;

		if (sel == NULL) {
			memcpy(dn, v->nulls, n);
			memcpy(dv, sv, n * w);
		} else if (w == 8) {
			for (i = 0; i < n; i++) {
				dn[i] = v->nulls[sel[i]];
				memcpy(dv + 8 * i, sv + 8 * (size_t)sel[i], 8);
			}
		} else {
			for (i = 0; i < n; i++) {
				dn[i] = v->nulls[sel[i]];
				memcpy(dv + w * i, sv + w * sel[i], w);
			}
		}
		if (w == sizeof(weft_str_t) && r->types[c] != WEFT_S_BOOL) {
			rc = wq_rows_own_text(r, (weft_str_t *)dv, dn, n);
			if (rc != 0)
				return rc;
		}
	}
	r->n += n;
	return 0;
}

void
wq_rows_gather(const wq_rows_t *r, uint32_t c, const uint32_t *idx, uint32_t n,
	       weft_vec_t *out, uint32_t at)
{
	size_t w = wq_width(r->types[c]);
	const uint8_t *sv = r->vals[c], *sn = r->nulls[c];
	uint8_t *dv = (uint8_t *)out->v.i64 + at * w, *dn = out->nulls + at;
	uint32_t i;

	if (w == 8) {
		uint64_t *d = (uint64_t *)(void *)dv;
		const uint64_t *s = (const uint64_t *)(const void *)sv;

		for (i = 0; i < n; i++) {
			uint32_t j = idx[i];

			if (j == UINT32_MAX) {
				d[i] = 0;
				dn[i] = 1;
			} else {
				d[i] = s[j];
				dn[i] = sn[j];
			}
		}
		return;
	}
	for (i = 0; i < n; i++) {
		uint32_t j = idx[i];

		if (j == UINT32_MAX) {
			memset(dv + w * i, 0, w);
			if (w == sizeof(weft_str_t))
				((weft_str_t *)(void *)dv)[i].p = "";
			dn[i] = 1;
		} else {
			memcpy(dv + w * i, sv + w * (size_t)j, w);
			dn[i] = sn[j];
		}
	}
}

/* ---- hashing ---- */

static inline uint64_t
wq_hash_f(double f)
{
	uint64_t u;

	if (f == 0)
		f = 0; /* -0 -> 0 */
	if (isnan(f))
		return 0x7ff8000000000000ULL;
	memcpy(&u, &f, 8);
	return wq_mix(u);
}

uint64_t
wq_hash_val(const weft_vec_t *v, uint32_t i)
{
	if (v->nulls[i])
		return 0x9e3779b97f4a7c15ULL;
	switch (v->type) {
	case WEFT_S_BOOL: return wq_mix(v->v.b[i] + 1);
	case WEFT_S_FLOAT64:
	case WEFT_S_NUMERIC: return wq_hash_f(v->v.f64[i]);
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN: return XXH3_64bits(v->v.s[i].p, v->v.s[i].len);
	case WEFT_S_NULL: return 0x9e3779b97f4a7c15ULL;
	default: return wq_mix((uint64_t)v->v.i64[i]);
	}
}

void
wq_hash_vec(const weft_vec_t *v, uint32_t n, uint64_t *h, bool first)
{
	uint32_t i;

	switch (v->type) {
	case WEFT_S_INT32:
	case WEFT_S_INT64:
	case WEFT_S_TIMESTAMP:
	case WEFT_S_INTERVAL:
		for (i = 0; i < n; i++) {
			uint64_t x = v->nulls[i]
					 ? 0x9e3779b97f4a7c15ULL
					 : wq_mix((uint64_t)v->v.i64[i]);

			h[i] = first ? x : wq_mix(h[i] * 31 + x);
		}
		return;
	default:
		for (i = 0; i < n; i++) {
			uint64_t x = wq_hash_val(v, i);

			h[i] = first ? x : wq_mix(h[i] * 31 + x);
		}
	}
}

/* ---- comparison ---- */

static inline int
wq_cmp_f(double a, double b)
{
	if (isnan(a))
		return isnan(b) ? 0 : 1;
	if (isnan(b))
		return -1;
	return a < b ? -1 : a > b;
}

int
wq_cmp_raw(weft_sqltype_t t, const void *a, size_t i, const void *b, size_t j)
{
	switch (t) {
	case WEFT_S_BOOL:
		return (int)((const uint8_t *)a)[i] - ((const uint8_t *)b)[j];
	case WEFT_S_FLOAT64:
	case WEFT_S_NUMERIC:
		return wq_cmp_f(((const double *)a)[i], ((const double *)b)[j]);
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN: {
		const weft_str_t *x = (const weft_str_t *)a + i;
		const weft_str_t *y = (const weft_str_t *)b + j;
		uint32_t m = x->len < y->len ? x->len : y->len;
		int c = m ? memcmp(x->p, y->p, m) : 0;

		if (c != 0)
			return c < 0 ? -1 : 1;
		return x->len < y->len ? -1 : x->len > y->len;
	}
	case WEFT_S_NULL: return 0;
	default: {
		int64_t x = ((const int64_t *)a)[i],
			y = ((const int64_t *)b)[j];

		return x < y ? -1 : x > y;
	}
	}
}

bool
wq_eq_raw(weft_sqltype_t t, const void *a, size_t i, const void *b, size_t j)
{
	switch (t) {
	case WEFT_S_BOOL:
		return ((const uint8_t *)a)[i] == ((const uint8_t *)b)[j];
	case WEFT_S_FLOAT64:
	case WEFT_S_NUMERIC: {
		double x = ((const double *)a)[i], y = ((const double *)b)[j];

		return x == y || (isnan(x) && isnan(y));
	}
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN: {
		const weft_str_t *x = (const weft_str_t *)a + i;
		const weft_str_t *y = (const weft_str_t *)b + j;

		return x->len == y->len &&
		       (x->len == 0 || memcmp(x->p, y->p, x->len) == 0);
	}
	case WEFT_S_NULL: return true;
	default: return ((const int64_t *)a)[i] == ((const int64_t *)b)[j];
	}
}

/* ---- key table ---- */

int
wq_ktab_init(wq_ktab_t *t, uint32_t nkeys, const weft_sqltype_t *types)
{
	memset(t, 0, sizeof(*t));
	t->mask = 1023;
	t->slots = calloc(t->mask + 1, sizeof(*t->slots));
	if (t->slots == NULL)
		return WEFT_ENOMEM;
	return wq_rows_init(&t->keys, nkeys, types);
}

void
wq_ktab_release(wq_ktab_t *t)
{
	free(t->slots);
	free(t->hash);
	wq_rows_release(&t->keys);
	memset(t, 0, sizeof(*t));
}

static int
wq_ktab_grow(wq_ktab_t *t)
{
	uint32_t nm = t->mask * 2 + 1, g;
	uint32_t *ns = calloc((size_t)nm + 1, sizeof(*ns));

	if (ns == NULL)
		return WEFT_ENOMEM;
	for (g = 0; g < t->n; g++) {
		uint32_t s = (uint32_t)t->hash[g] & nm;

		while (ns[s] != 0)
			s = (s + 1) & nm;
		ns[s] = g + 1;
	}
	free(t->slots);
	t->slots = ns;
	t->mask = nm;
	return 0;
}

static bool
wq_ktab_eq(const wq_ktab_t *t, uint32_t g, const weft_vec_t *const *k,
	   uint32_t i)
{
	uint32_t c;

	for (c = 0; c < t->keys.ncols; c++) {
		uint8_t gn = t->keys.nulls[c][g], rn = k[c]->nulls[i];

		if (gn != rn)
			return false;
		if (!gn && !wq_eq_raw(t->keys.types[c], t->keys.vals[c], g,
				      k[c]->v.i64, i))
			return false;
	}
	return true;
}

int
wq_ktab_find(wq_ktab_t *t, const weft_vec_t *const *k, uint32_t n,
	     const uint64_t *h, uint32_t *gids, uint32_t *newrows,
	     uint32_t *nnew)
{
	uint32_t i, nn = 0;
	int rc;

	for (i = 0; i < n; i++) {
		uint32_t s = (uint32_t)h[i] & t->mask, g;

		for (;;) {
			g = t->slots[s];
			if (g == 0)
				break;
			if (t->hash[g - 1] == h[i] &&
			    wq_ktab_eq(t, g - 1, k, i))
				break;
			s = (s + 1) & t->mask;
		}
		if (g != 0) {
			gids[i] = g - 1;
			continue;
		}
		/* a new key: store it */
		if (t->n == t->hcap) {
			uint32_t nc = t->hcap ? t->hcap * 2 : 1024;
			uint64_t *nh = realloc(t->hash, nc * sizeof(*nh));

			if (nh == NULL)
				return WEFT_ENOMEM;
			t->hash = nh;
			t->hcap = nc;
		}
		{
			weft_batch_t one;
			weft_vec_t cols[64], *cp = cols;
			uint32_t c, sel = i;

			if (t->keys.ncols > 64) {
				cp = calloc(t->keys.ncols, sizeof(*cp));
				if (cp == NULL)
					return WEFT_ENOMEM;
			}
			for (c = 0; c < t->keys.ncols; c++)
				cp[c] = *k[c];
			one.n = n;
			one.ncols = t->keys.ncols;
			one.cols = cp;
			one.arena = NULL;
			rc = wq_rows_append(&t->keys, &one, &sel, 1);
			if (cp != cols)
				free(cp);
			if (rc != 0)
				return rc;
		}
		t->hash[t->n] = h[i];
		t->slots[s] = t->n + 1;
		gids[i] = t->n;
		t->n++;
		if (newrows)
			newrows[nn] = i;
		nn++;
		if ((uint64_t)t->n * 2 > t->mask) {
			rc = wq_ktab_grow(t);
			if (rc != 0)
				return rc;
		}
	}
	if (nnew)
		*nnew = nn;
	return 0;
}

/* ---- sorting and top-N ---- */

typedef struct wq_cmpctx {
	const wq_rows_t *r;
	const wq_sortkey_t *keys;
	uint32_t nkeys;
} wq_cmpctx_t;

static int
wq_sort_cmp(const void *a, const void *b, void *arg)
{
	const wq_cmpctx_t *c = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int r = wq_cmp_keys(c->keys, c->nkeys, c->r->types, c->r->nulls,
			    c->r->vals, i, c->r->nulls, c->r->vals, j);

	if (r != 0)
		return r;
	return i < j ? -1 : i > j;
}

int
wq_sort_rows(const wq_rows_t *r, const wq_sortkey_t *keys, uint32_t nkeys,
	     uint32_t **idx, size_t *cap)
{
	wq_cmpctx_t c = {r, keys, nkeys};
	size_t i;

	if (r->n > *cap || *idx == NULL) {
		uint32_t *ni = realloc(*idx, (r->n + 1) * sizeof(*ni));

		if (ni == NULL)
			return WEFT_ENOMEM;
		*idx = ni;
		*cap = r->n;
	}
	for (i = 0; i < r->n; i++)
		(*idx)[i] = (uint32_t)i;
	if (r->n > 1)
		qsort_r(*idx, r->n, sizeof(**idx), wq_sort_cmp, &c);
	return 0;
}

void
wq_topn_free(wq_topn_t *t)
{
	if (t == NULL)
		return;
	wq_rows_release(&t->rows);
	free(t->idx);
	free(t->sel);
	free(t->scratch);
	free(t);
}

int
wq_topn_new(uint32_t ncols, const weft_sqltype_t *types, uint64_t limit,
	    const wq_sortkey_t *keys, uint32_t nkeys, wq_topn_t **out)
{
	wq_topn_t *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (t == NULL)
		return WEFT_ENOMEM;
	t->limit = limit;
	t->keys = keys;
	t->nkeys = nkeys;
	t->sel = malloc(WEFT_BATCH * sizeof(*t->sel));
	t->scratch = malloc(WEFT_BATCH * sizeof(*t->scratch));
	if (t->sel == NULL || t->scratch == NULL ||
	    wq_rows_init(&t->rows, ncols, types) != 0) {
		wq_topn_free(t);
		return WEFT_ENOMEM;
	}
	*out = t;
	return 0;
}

/* Sort rows and keep the first `limit`. */
int
wq_topn_shrink(wq_topn_t *t)
{
	wq_rows_t nr;
	uint32_t c, keep;
	size_t at;
	int rc;

	rc = wq_sort_rows(&t->rows, t->keys, t->nkeys, &t->idx, &t->idxcap);
	if (rc != 0)
		return rc;
	keep = (uint32_t)(t->rows.n < t->limit ? t->rows.n : t->limit);
	rc = wq_rows_init(&nr, t->rows.ncols, t->rows.types);
	if (rc != 0)
		return rc;
	for (at = 0; at < keep; at += WEFT_BATCH) {
		uint32_t m =
		    keep - at < WEFT_BATCH ? (uint32_t)(keep - at) : WEFT_BATCH;
		weft_batch_t *tmp;

		rc = weft_batch_new(nr.ncols, nr.types, &tmp);
		if (rc != 0)
			break;
		for (c = 0; c < nr.ncols; c++)
			wq_rows_gather(&t->rows, c, t->idx + at, m,
				       &tmp->cols[c], 0);
		tmp->n = m;
		rc = wq_rows_append(&nr, tmp, NULL, 0);
		weft_batch_free(tmp);
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		wq_rows_release(&nr);
		return rc;
	}
	wq_rows_release(&t->rows);
	t->rows = nr;
	t->full = t->rows.n >= t->limit && t->limit > 0;
	return 0;
}

int
wq_topn_add(wq_topn_t *t, const weft_batch_t *b)
{
	uint32_t i, m = 0;
	int rc;

	if (t->limit == 0 || b->n == 0)
		return 0;
	if (t->full) {
		uint8_t *bn[WQ_COLS_MAX], *bv[WQ_COLS_MAX];
		uint32_t c;
		size_t th = t->limit - 1;

		for (c = 0; c < b->ncols && c < WQ_COLS_MAX; c++) {
			bn[c] = b->cols[c].nulls;
			bv[c] = (uint8_t *)b->cols[c].v.i64;
		}
		for (i = 0; i < b->n; i++) {
			int r =
			    wq_cmp_keys(t->keys, t->nkeys, t->rows.types, bn,
					bv, i, t->rows.nulls, t->rows.vals, th);

			t->sel[m] = i;
			m += r < 0;
		}
		if (m == 0)
			return 0;
		rc = wq_rows_append(&t->rows, b, t->sel, m);
	} else {
		rc = wq_rows_append(&t->rows, b, NULL, 0);
	}
	if (rc != 0)
		return rc;
	/* shrink as soon as there is a threshold, then often so that it
	 * keeps tightening */
	if (t->rows.n >= t->limit + (!t->full	     ? 0
				     : t->limit < 16 ? 16
						     : t->limit))
		return wq_topn_shrink(t);
	return 0;
}
