/*
 * test_audit.c: the owner's audit log (storage/audit.c) against a real
 * LMDB environment: every field round-trips; the filters (product, org,
 * since, refused, limit = the newest N in time order) alone and together;
 * pruning to max across appends and within one batch; records with equal
 * times kept apart and in order, also when the clock steps back; a batch
 * with one bad record writes nothing; reasons cut at a UTF-8 boundary;
 * records survive a reopen; map growth and a full map; corrupt records
 * and keys written with raw LMDB reported, not trusted; a read-only open
 * of a store without the table; --since arguments.
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

#include "lib/utf8.h"
#include "storage/audit.h"
#include "storage/store.h"
#include "storage/store_int.h"
#include "testutil.h"
#include "weft.pb-c.h"

#define T0 1764547200000000LL /* 2025-12-01T00:00:00Z */
#define MAXN 64		      /* records a test collects */

typedef struct fx {
	char *dir;
	weft_store_t *st;
} fx_t;

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	weft_store_opts_t o = {0};

	f->dir = weft_test_tmpdir();
	o.create = 1;
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx_t *f = *state;

	weft_store_close(f->st);
	weft_test_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* A record at t, told apart by id (in rows). */
static weft_audit_rec_t
rec(int64_t t, uint64_t id, const char *org, const char *product, int outcome)
{
	weft_audit_rec_t r;

	memset(&r, 0, sizeof(r));
	r.at_us = t;
	r.asker_pk[0] = (uint8_t)id;
	r.asker_pk[31] = 0xa5;
	snprintf(r.asker_org, sizeof(r.asker_org), "%s", org);
	snprintf(r.product, sizeof(r.product), "%s", product);
	r.product_version = 3;
	r.rows = id;
	r.frag_hash[0] = 0x11;
	r.frag_hash[31] = (uint8_t)id;
	r.outcome = outcome;
	if (outcome)
		weft_audit_set_reason(&r, "denied");
	return r;
}

typedef struct got {
	weft_audit_rec_t r[MAXN];
	size_t n;
	size_t stop_after; /* 0: never stop */
} got_t;

static int
collect(const weft_audit_rec_t *r, void *ctx)
{
	got_t *g = ctx;

	assert_true(g->n < MAXN);
	g->r[g->n++] = *r;
	return g->stop_after && g->n == g->stop_after ? 7 : 0;
}

static void
append(fx_t *f, const weft_audit_rec_t *r, size_t n, uint64_t max)
{
	weft_err_t err = {0};

	if (weft_audit_append(f->st, r, n, max, &err) != 0)
		fail_msg("append: %s", err.msg);
}

/* The ids (rows) of the records f lists under filter flt, in order. */
static size_t
ids(fx_t *f, const weft_audit_filter_t *flt, uint64_t *out)
{
	got_t *g = calloc(1, sizeof(*g));
	weft_err_t err = {0};
	size_t i, n;

	assert_non_null(g);
	if (weft_audit_list(f->st, flt, collect, g, &err) != 0)
		fail_msg("list: %s", err.msg);
	for (i = 0; i < g->n; i++)
		out[i] = g->r[i].rows;
	n = g->n;
	free(g);
	return n;
}

static uint64_t
count(fx_t *f)
{
	uint64_t n = 0;

	assert_int_equal(weft_audit_count(f->st, &n, NULL), 0);
	return n;
}

static void
same(const weft_audit_rec_t *a, const weft_audit_rec_t *b)
{
	assert_int_equal(a->at_us, b->at_us);
	assert_memory_equal(a->asker_pk, b->asker_pk, WEFT_PK_BYTES);
	assert_string_equal(a->asker_org, b->asker_org);
	assert_string_equal(a->product, b->product);
	assert_int_equal(a->product_version, b->product_version);
	assert_int_equal(a->policy_version, b->policy_version);
	assert_int_equal(a->grant_line, b->grant_line);
	assert_memory_equal(a->frag_hash, b->frag_hash, 32);
	assert_int_equal(a->rows, b->rows);
	assert_int_equal(a->groups, b->groups);
	assert_int_equal(a->groups_suppressed, b->groups_suppressed);
	assert_true(a->epsilon == b->epsilon);
	assert_int_equal(a->outcome, b->outcome);
	assert_string_equal(a->reason, b->reason);
}

static void
test_roundtrip(void **state)
{
	fx_t *f = *state;
	weft_audit_rec_t in[2];
	got_t g = {0};
	size_t i;

	memset(in, 0, sizeof(in));
	in[0].at_us = T0 + 123456;
	for (i = 0; i < WEFT_PK_BYTES; i++)
		in[0].asker_pk[i] = (uint8_t)(0xf0 - i);
	strcpy(in[0].asker_org, "globex");
	strcpy(in[0].product, "ops.flights");
	in[0].product_version = UINT64_MAX;
	in[0].policy_version = 41;
	in[0].grant_line = 7;
	for (i = 0; i < 32; i++)
		in[0].frag_hash[i] = (uint8_t)(i * 7 + 1);
	in[0].rows = 1ULL << 40;
	in[0].groups = 12;
	in[0].groups_suppressed = 3;
	in[0].epsilon = 0.125;
	in[1] = rec(T0 + 200000, 9, "initech", "sales.orders", WEFT_EDENIED);
	weft_audit_set_reason(&in[1], "column \"date\" is denied to globex");
	in[1].grant_line = 0;
	append(f, in, 2, 0);
	assert_int_equal(weft_audit_list(f->st, NULL, collect, &g, NULL), 0);
	assert_int_equal(g.n, 2);
	same(&g.r[0], &in[0]);
	same(&g.r[1], &in[1]);
	assert_int_equal(count(f), 2);
	/* cb's non-zero value stops the walk and is returned */
	memset(&g, 0, sizeof(g));
	g.stop_after = 1;
	assert_int_equal(weft_audit_list(f->st, NULL, collect, &g, NULL), 7);
	assert_int_equal(g.n, 1);
	/* n == 0 writes nothing */
	assert_int_equal(weft_audit_append(f->st, in, 0, 0, NULL), 0);
	assert_int_equal(count(f), 2);
}

/* ids 1..12: t = T0 + id s; products a.x (odd) / a.y (even); orgs
 * globex (id % 3 != 0) / initech; ids 4, 8, 12 refused. */
static void
fill(fx_t *f)
{
	weft_audit_rec_t r[12];
	uint64_t i;

	for (i = 1; i <= 12; i++)
		r[i - 1] = rec(T0 + (int64_t)i * 1000000, i,
			       i % 3 ? "globex" : "initech",
			       i % 2 ? "a.x" : "a.y", i % 4 ? 0 : WEFT_EDENIED);
	append(f, r, 6, 0);
	append(f, r + 6, 6, 0);
}

static void
want(fx_t *f, const weft_audit_filter_t *flt, const uint64_t *w, size_t n)
{
	uint64_t got[MAXN];
	size_t i, k = ids(f, flt, got);

	if (k != n)
		fail_msg("%zu records listed, %zu expected", k, n);
	for (i = 0; i < n; i++)
		if (got[i] != w[i])
			fail_msg("record %zu: id %llu, expected %llu", i,
				 (unsigned long long)got[i],
				 (unsigned long long)w[i]);
}

static void
test_filters(void **state)
{
	fx_t *f = *state;
	weft_audit_filter_t q;

	fill(f);
	memset(&q, 0, sizeof(q));
	want(f, &q, (uint64_t[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 12);
	q.product = "a.x";
	want(f, &q, (uint64_t[]){1, 3, 5, 7, 9, 11}, 6);
	q.product = "a.z";
	want(f, &q, NULL, 0);
	memset(&q, 0, sizeof(q));
	q.asker_org = "initech";
	want(f, &q, (uint64_t[]){3, 6, 9, 12}, 4);
	q.asker_org = "globe"; /* exact, not a prefix */
	want(f, &q, NULL, 0);
	memset(&q, 0, sizeof(q));
	q.since_us = T0 + 10 * 1000000; /* at or after */
	want(f, &q, (uint64_t[]){10, 11, 12}, 3);
	q.since_us = T0 + 10 * 1000000 + 1;
	want(f, &q, (uint64_t[]){11, 12}, 2);
	memset(&q, 0, sizeof(q));
	q.refused_only = 1;
	want(f, &q, (uint64_t[]){4, 8, 12}, 3);
	/* limit: the newest N matching, oldest first */
	memset(&q, 0, sizeof(q));
	q.limit = 3;
	want(f, &q, (uint64_t[]){10, 11, 12}, 3);
	q.limit = 1;
	want(f, &q, (uint64_t[]){12}, 1);
	q.limit = 100;
	want(f, &q, (uint64_t[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 12);
	q.limit = 2;
	q.product = "a.x";
	want(f, &q, (uint64_t[]){9, 11}, 2);
	q.asker_org = "globex";
	want(f, &q, (uint64_t[]){7, 11}, 2);
	/* all together */
	memset(&q, 0, sizeof(q));
	q.product = "a.y";
	q.asker_org = "globex";
	q.since_us = T0 + 3 * 1000000;
	q.refused_only = 1;
	want(f, &q, (uint64_t[]){4, 8}, 2);
	q.limit = 1;
	want(f, &q, (uint64_t[]){8}, 1);
	q.since_us = T0 + 5 * 1000000; /* limit stops at since */
	q.limit = 5;
	want(f, &q, (uint64_t[]){8}, 1);
}

static void
test_prune(void **state)
{
	fx_t *f = *state;
	weft_audit_rec_t r[15];
	weft_audit_filter_t q = {0};
	uint64_t i, b;

	/* four batches of 4 with max 10: the 6 oldest go */
	for (b = 0; b < 4; b++) {
		for (i = 0; i < 4; i++)
			r[i] = rec(T0 + (int64_t)(b * 4 + i), b * 4 + i + 1,
				   "globex", "a.x", 0);
		append(f, r, 4, 10);
		assert_int_equal(count(f), b < 2 ? (b + 1) * 4 : 10);
	}
	want(f, &q, (uint64_t[]){7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 10);
	/* a smaller max prunes further at the next append */
	r[0] = rec(T0 + 100, 17, "globex", "a.x", 0);
	append(f, r, 1, 3);
	want(f, &q, (uint64_t[]){15, 16, 17}, 3);
	/* one batch larger than max keeps its newest */
	for (i = 0; i < 15; i++)
		r[i] = rec(T0 + 200 + (int64_t)i, 100 + i, "globex", "a.x", 0);
	append(f, r, 15, 4);
	want(f, &q, (uint64_t[]){111, 112, 113, 114}, 4);
	assert_int_equal(count(f), 4);
}

static void
test_same_time(void **state)
{
	fx_t *f = *state;
	weft_audit_rec_t r[4];
	weft_audit_filter_t q = {0};
	int i;

	for (i = 0; i < 4; i++)
		r[i] = rec(T0, (uint64_t)i + 1, "globex", "a.x", 0);
	append(f, r, 4, 0);
	r[0] = rec(T0, 5, "globex", "a.x", 0);
	append(f, r, 1, 0);
	want(f, &q, (uint64_t[]){1, 2, 3, 4, 5}, 5);
	/* the clock steps back: kept, in time order, no key collides */
	r[0] = rec(T0 + 100, 6, "globex", "a.x", 0);
	append(f, r, 1, 0);
	r[0] = rec(T0 + 50, 7, "globex", "a.x", 0);
	append(f, r, 1, 0);
	r[0] = rec(T0 + 50, 8, "globex", "a.x", 0);
	append(f, r, 1, 0);
	want(f, &q, (uint64_t[]){1, 2, 3, 4, 5, 7, 8, 6}, 8);
	q.limit = 3;
	want(f, &q, (uint64_t[]){7, 8, 6}, 3);
	/* equal times at the limit's edge */
	q.limit = 6;
	want(f, &q, (uint64_t[]){3, 4, 5, 7, 8, 6}, 6);
}

static void
test_reopen(void **state)
{
	fx_t *f = *state;
	weft_store_opts_t o = {0};
	weft_audit_rec_t r[2];
	weft_audit_filter_t q = {0};

	r[0] = rec(T0, 1, "globex", "a.x", 0);
	r[1] = rec(T0, 2, "globex", "a.x", WEFT_EDENIED);
	append(f, r, 2, 0);
	weft_store_close(f->st);
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
	want(f, &q, (uint64_t[]){1, 2}, 2);
	/* the sequence goes on after a reopen: same time, after the others */
	r[0] = rec(T0, 3, "globex", "a.x", 0);
	append(f, r, 1, 0);
	want(f, &q, (uint64_t[]){1, 2, 3}, 3);
	weft_store_close(f->st);
	o.readonly = 1;
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
	want(f, &q, (uint64_t[]){1, 2, 3}, 3);
	assert_int_equal(weft_audit_append(f->st, r, 1, 0, NULL), WEFT_ESTORE);
}

static void
test_invalid(void **state)
{
	fx_t *f = *state;
	weft_audit_rec_t r[3];
	weft_err_t err = {0};

	r[0] = rec(T0, 1, "globex", "a.x", 0);
	r[1] = rec(T0, 2, "globex", "a.x", 0);
	r[2] = rec(T0, 3, "globex", "a.x", 0);
	memset(r[1].asker_org, 'o', sizeof(r[1].asker_org)); /* no NUL */
	assert_int_equal(weft_audit_append(f->st, r, 3, 0, &err), WEFT_EINVAL);
	assert_non_null(strstr(err.msg, "record 1"));
	assert_non_null(strstr(err.msg, "asker_org"));
	r[1] = rec(T0, 2, "globex", "a.x", 0);
	memset(r[1].product, 'p', sizeof(r[1].product));
	assert_int_equal(weft_audit_append(f->st, r, 3, 0, &err), WEFT_EINVAL);
	assert_non_null(strstr(err.msg, "product"));
	r[1] = rec(0, 2, "globex", "a.x", 0);
	assert_int_equal(weft_audit_append(f->st, r, 3, 0, &err), WEFT_EINVAL);
	r[1] = rec(T0, 2, "globex", "a.x", 0);
	r[2].epsilon = NAN;
	assert_int_equal(weft_audit_append(f->st, r, 3, 0, &err), WEFT_EINVAL);
	r[2].epsilon = -1;
	assert_int_equal(weft_audit_append(f->st, r, 3, 0, &err), WEFT_EINVAL);
	assert_int_equal(count(f), 0); /* nothing of a refused batch */
	/* the longest names allowed, and an empty product (a fragment that
	 * named none) are fine */
	memset(r[0].asker_org, 'o', WEFT_NAME_MAX);
	r[0].asker_org[WEFT_NAME_MAX] = 0;
	memset(r[0].product, 'p', WEFT_PRODUCT_NAME_MAX);
	r[0].product[WEFT_PRODUCT_NAME_MAX] = 0;
	r[1].product[0] = 0;
	append(f, r, 2, 0);
	assert_int_equal(count(f), 2);
}

/* a reason of n copies of the character ch, through set_reason */
static void
reason_of(weft_audit_rec_t *r, const char *ch, size_t n)
{
	char buf[1024] = "";
	size_t i;

	for (i = 0; i < n; i++)
		strcat(buf, ch);
	weft_audit_set_reason(r, buf);
}

static void
test_reason(void **state)
{
	fx_t *f = *state;
	weft_audit_rec_t r[4];
	got_t g = {0};
	size_t l;

	r[0] = rec(T0, 1, "globex", "a.x", WEFT_EDENIED);
	reason_of(&r[0], "\xc3\xa9", 200); /* é: 400 bytes -> 254 */
	l = strlen(r[0].reason);
	assert_int_equal(l, 254);
	assert_true(weft_utf8_valid(r[0].reason, l));
	r[1] = rec(T0, 2, "globex", "a.x", WEFT_EDENIED);
	reason_of(&r[1], "\xe2\x82\xac", 100); /* €: 300 bytes -> 255 */
	assert_int_equal(strlen(r[1].reason), 255);
	r[2] = rec(T0, 3, "globex", "a.x", WEFT_EDENIED);
	reason_of(&r[2], "\xf0\x9f\x98\x80", 70); /* 280 bytes -> 252 */
	assert_int_equal(strlen(r[2].reason), 252);
	weft_audit_set_reason(&r[2], NULL);
	assert_string_equal(r[2].reason, "");
	weft_audit_set_reason(&r[2], "short");
	assert_string_equal(r[2].reason, "short");
	/* the caller's own byte-wise cut split a character: append drops
	 * it; a reason filling the whole array without a NUL is cut */
	r[3] = rec(T0, 4, "globex", "a.x", WEFT_EDENIED);
	snprintf(r[3].reason, sizeof(r[3].reason), "bad: \xe2\x82");
	memset(r[2].reason, 'x', sizeof(r[2].reason));
	append(f, r, 4, 0);
	assert_int_equal(weft_audit_list(f->st, NULL, collect, &g, NULL), 0);
	assert_int_equal(g.n, 4);
	assert_int_equal(strlen(g.r[0].reason), 254);
	assert_int_equal(strlen(g.r[1].reason), 255);
	assert_true(weft_utf8_valid(g.r[1].reason, 255));
	assert_int_equal(strlen(g.r[2].reason), WEFT_AUDIT_REASON_MAX);
	assert_string_equal(g.r[3].reason, "bad: ");
}

static void
test_map_growth(void **state)
{
	fx_t *f = *state;
	weft_store_opts_t o = {0};
	weft_audit_rec_t *r = calloc(500, sizeof(*r));
	weft_err_t err = {0};
	uint64_t n = 0, before;
	int i, b, rc = 0;

	assert_non_null(r);
	weft_store_close(f->st);
	weft_test_rmrf(f->dir);
	/* a map of 1 MiB that may grow to 4 MiB: growth, then a full map */
	o.create = 1;
	o.map_init = 1u << 20;
	o.map_max = 4u << 20;
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
	for (b = 0; b < 200 && rc == 0; b++) {
		for (i = 0; i < 500; i++) {
			r[i] = rec(T0 + b * 500 + i, (uint64_t)i, "globex",
				   "a.x", WEFT_EDENIED);
			memset(r[i].reason, 'r', WEFT_AUDIT_REASON_MAX);
		}
		before = count(f);
		rc = weft_audit_append(f->st, r, 500, 0, &err);
		n += 500;
		if (rc == 0)
			assert_int_equal(count(f), n);
	}
	assert_int_equal(rc, WEFT_EMAPFULL);
	assert_non_null(strstr(err.msg, "nothing was changed"));
	assert_int_equal(count(f), before); /* the failed batch: nothing */
	assert_true(before >= 2000);	    /* the map did grow */
	free(r);
}

/* ---- raw LMDB: what a damaged store may hold ---- */

typedef struct raw_put {
	weft_store_t *st;
	const uint8_t *k, *v;
	size_t kl, vl;
} raw_put_t;

static int
raw_put_fn(MDB_txn *txn, void *arg, weft_err_t *err)
{
	raw_put_t *p = arg;
	MDB_val k = {p->kl, (void *)p->k}, v = {p->vl, (void *)p->v};

	(void)err;
	return mdb_put(txn, p->st->st_audit, &k, &v, 0);
}

/* Store v under a record's key for (t, seq), or under k itself. */
static void
raw_put(fx_t *f, int64_t t, uint64_t seq, const uint8_t *v, size_t vl)
{
	uint8_t k[16];
	raw_put_t p = {f->st, k, v, sizeof(k), vl};
	int i;

	for (i = 0; i < 8; i++) {
		k[i] = (uint8_t)((uint64_t)t >> (56 - 8 * i));
		k[8 + i] = (uint8_t)(seq >> (56 - 8 * i));
	}
	assert_int_equal(
	    weft_store_write(f->st, 0, "test", raw_put_fn, &p, NULL), 0);
}

/* An AuditRecord at t with the given hash length and time. */
static size_t
raw_record(uint8_t *out, int64_t t, size_t hash_len, double eps)
{
	Weft__AuditRecord m = WEFT__AUDIT_RECORD__INIT;
	uint8_t pk[32] = {1}, h[64] = {2};

	m.at_us = t;
	m.asker_pk.data = pk;
	m.asker_pk.len = sizeof(pk);
	m.asker_org = "globex";
	m.product = "a.x";
	m.frag_hash.data = h;
	m.frag_hash.len = hash_len;
	m.epsilon = eps;
	return weft__audit_record__pack(&m, out);
}

/* The list fails with WEFT_ECORRUPT, saying pat, after `before` records
 * were given. */
static void
corrupt(fx_t *f, const char *pat, size_t before)
{
	got_t *g = calloc(1, sizeof(*g));
	weft_audit_filter_t q = {0};
	weft_err_t err = {0};

	assert_non_null(g);
	assert_int_equal(weft_audit_list(f->st, NULL, collect, g, &err),
			 WEFT_ECORRUPT);
	if (strstr(err.msg, pat) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err.msg, pat);
	assert_int_equal(g->n, before);
	/* with a limit the walk back meets it before giving anything */
	memset(g, 0, sizeof(*g));
	q.limit = 1000;
	assert_int_equal(weft_audit_list(f->st, &q, collect, g, NULL),
			 WEFT_ECORRUPT);
	assert_int_equal(g->n, 0);
	free(g);
}

static void
test_corrupt(void **state)
{
	fx_t *f = *state;
	weft_audit_rec_t r = rec(T0, 1, "globex", "a.x", 0);
	weft_audit_filter_t q = {0};
	uint8_t buf[8192];
	size_t n;

	append(f, &r, 1, 0);
	memset(buf, 0xff, sizeof(buf));
	raw_put(f, T0 + 10, 1000, buf, 40); /* garbage */
	corrupt(f, "audit record 1000 (at 2025-12-01 00:00:00.00001", 1);
	corrupt(f, "does not decode", 1);
	n = raw_record(buf, T0 + 10, 31, 0); /* short hash */
	raw_put(f, T0 + 10, 1000, buf, n);
	corrupt(f, "fragment hash", 1);
	n = raw_record(buf, T0 + 11, 32, 0); /* time not the key's */
	raw_put(f, T0 + 10, 1000, buf, n);
	corrupt(f, "time differs", 1);
	n = raw_record(buf, T0 + 10, 32, NAN);
	raw_put(f, T0 + 10, 1000, buf, n);
	corrupt(f, "epsilon", 1);
	raw_put(f, T0 + 10, 1000, buf, sizeof(buf)); /* far too large */
	corrupt(f, "too large", 1);
	n = raw_record(buf, T0 + 10, 32, 0.5); /* a sound one: fine */
	raw_put(f, T0 + 10, 1000, buf, n);
	want(f, &q, (uint64_t[]){1, 0}, 2);
	/* a key that is not a record's */
	{
		raw_put_t p = {f->st, (const uint8_t *)"\0\1", buf, 2, n};

		assert_int_equal(
		    weft_store_write(f->st, 0, "test", raw_put_fn, &p, NULL),
		    0);
	}
	corrupt(f, "a key of 2 bytes", 0); /* it sorts first */
	/* appends still work past damage, and pruning removes it */
	r = rec(T0 + 20, 2, "globex", "a.x", 0);
	append(f, &r, 1, 1);
	want(f, &q, (uint64_t[]){2}, 1);
}

/* Drop the audit table, as a store made before it existed. */
static int
raw_drop_fn(MDB_txn *txn, void *arg, weft_err_t *err)
{
	weft_store_t *st = arg;

	(void)err;
	return mdb_drop(txn, st->st_audit, 1);
}

static void
test_old_store(void **state)
{
	fx_t *f = *state;
	weft_store_opts_t o = {0};
	weft_audit_rec_t r = rec(T0, 1, "globex", "a.x", 0);
	got_t g = {0};
	uint64_t n = 1;
	weft_err_t err = {0};

	append(f, &r, 1, 0);
	assert_int_equal(
	    weft_store_write(f->st, 0, "test", raw_drop_fn, f->st, NULL), 0);
	weft_store_close(f->st);
	o.readonly = 1;
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
	assert_int_equal(weft_audit_list(f->st, NULL, collect, &g, NULL), 0);
	assert_int_equal(g.n, 0);
	assert_int_equal(weft_audit_count(f->st, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(weft_audit_append(f->st, &r, 1, 0, &err), WEFT_ESTORE);
	assert_non_null(strstr(err.msg, "read-only"));
	/* a read-write open creates the table */
	weft_store_close(f->st);
	o.readonly = 0;
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
	append(f, &r, 1, 0);
	assert_int_equal(count(f), 1);
}

static void
test_since(void **state)
{
	const int64_t now = T0 + 7 * 86400000000LL;
	weft_err_t err = {0};
	int64_t t;
	size_t i;
	static const char *bad[] = {"",
				    "s",
				    "0s",
				    "-3d",
				    "3",
				    "3w",
				    "1.5h",
				    "3 d",
				    "d3",
				    "2h ",
				    "2026-13-01T00:00:00Z",
				    "2026-02-30",
				    "1969-12-31T00:00:00Z",
				    "99999999999999999999999d",
				    "yesterday"};

	(void)state;
	assert_int_equal(weft_audit_parse_since("90s", now, &t, NULL), 0);
	assert_int_equal(t, now - 90000000LL);
	assert_int_equal(weft_audit_parse_since("15m", now, &t, NULL), 0);
	assert_int_equal(t, now - 15 * 60000000LL);
	assert_int_equal(weft_audit_parse_since("2h", now, &t, NULL), 0);
	assert_int_equal(t, now - 2 * 3600000000LL);
	assert_int_equal(weft_audit_parse_since("7d", now, &t, NULL), 0);
	assert_int_equal(t, T0);
	assert_int_equal(weft_audit_parse_since("100000d", now, &t, NULL), 0);
	assert_int_equal(t, 1); /* before 1970: everything */
	assert_int_equal(
	    weft_audit_parse_since("2025-12-01T00:00:00Z", now, &t, NULL), 0);
	assert_int_equal(t, T0);
	assert_int_equal(weft_audit_parse_since("2025-12-01T01:30:00.25+01:30",
						now, &t, NULL),
			 0);
	assert_int_equal(t, T0 + 250000);
	assert_int_equal(weft_audit_parse_since("2025-12-01", now, &t, NULL),
			 0);
	assert_int_equal(t, T0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (weft_audit_parse_since(bad[i], now, &t, &err) !=
		    WEFT_EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(strstr(err.msg, "RFC 3339"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reason, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_growth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_old_store, setup, teardown),
	    cmocka_unit_test(test_since),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
