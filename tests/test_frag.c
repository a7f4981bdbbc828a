/*
 * test_frag.c: the contract of scan fragments (query/frag.h): one set of
 * limits, enforced when planning (with a clear error) and when decoding
 * (before anything is unpacked); what the planner accepts encodes,
 * decodes and re-encodes to the same bytes, with the same results; bytes
 * from a hostile peer are refused, however deep or large.
 *
 * Run with WEFT_FRAG_SEEDS=DIR, it also writes the encoded fragments of
 * the queries in seed_queries[] there: the seeds of fuzz_frag
 * (tests/fuzz/seeds/fuzz_frag/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fuzz/sql_fixture.h"
#include "query/qint.h"
#include "query/query.h"

/* SQL of `SELECT a + 1 + ... FROM sales.t` whose expression has `levels`
 * levels (malloc'd). */
static char *
deep_sql(int levels)
{
	size_t cap = 64 + 2 * (size_t)levels;
	char *s = malloc(cap);
	size_t n;
	int i;

	assert_non_null(s);
	n = (size_t)snprintf(s, cap, "SELECT a");
	for (i = 1; i < levels; i++)
		n += (size_t)snprintf(s + n, cap - n, "+1");
	snprintf(s + n, cap - n, " FROM sales.t");
	return s;
}

/* The rows of an operator as text, one line a row. */
static char *
op_rows(wq_op_t *op)
{
	weft_err_t err = {0};
	weft_batch_t *b;
	char *out = NULL, buf[256];
	size_t olen = 0;
	FILE *f = open_memstream(&out, &olen);
	uint32_t r, c;
	int rc;

	assert_non_null(f);
	while ((rc = wq_op_next(op, &b, &err)) == 1)
		for (r = 0; r < b->n; r++) {
			for (c = 0; c < b->ncols; c++) {
				if (b->cols[c].nulls[r])
					snprintf(buf, sizeof(buf), "NULL");
				else
					weft_value_format(b->cols[c].type,
							  &b->cols[c], r, buf,
							  sizeof(buf));
				fprintf(f, "%s|", buf);
			}
			fputc('\n', f);
		}
	if (rc != 0)
		fail_msg("fragment: %s", err.msg);
	fclose(f);
	return out;
}

static char *
frag_rows(weft_snapshot_t *s, const wq_frag_t *fr)
{
	wq_exec_t x = {.snap = s};
	wq_op_t *op = NULL;
	weft_err_t err = {0};
	char *rows;

	if (wq_frag_open(&x, fr, &op, &err) != 0)
		fail_msg("open: %s", err.msg);
	rows = op_rows(op);
	wq_op_free(op);
	return rows;
}

/*
 * Plan sql; each of its fragments must encode, decode, re-encode to the
 * same bytes and give the same rows decoded as planned. With dir, the
 * encodings are written there as NAME.N. Returns the number of
 * fragments.
 */
static size_t
roundtrip(const char *sql, const char *dir, const char *name)
{
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};
	wq_frag_t *frs[8];
	size_t n, i;

	assert_int_equal(weft_snapshot_begin(fz_st, &s, &err), 0);
	if (weft_query_prepare(s, sql, &q, &err) != 0)
		fail_msg("%.60s: %s", sql, err.msg);
	n = wq_query_frags(q, frs, 8);
	for (i = 0; i < n; i++) {
		uint8_t *a = NULL, *b = NULL;
		size_t la, lb;
		wq_frag_t *back = NULL;
		char *ra, *rb;

		assert_int_equal(wq_frag_encode(frs[i], &a, &la, &err), 0);
		if (wq_frag_decode(a, la, &back, &err) != 0)
			fail_msg("%.60s: decode: %s", sql, err.msg);
		assert_int_equal(wq_frag_encode(back, &b, &lb, &err), 0);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		ra = frag_rows(s, frs[i]);
		rb = frag_rows(s, back);
		assert_string_equal(ra, rb);
		if (dir != NULL) {
			char path[512];
			FILE *fp;

			snprintf(path, sizeof(path), "%s/%s.%zu", dir, name, i);
			fp = fopen(path, "wb");
			assert_non_null(fp);
			assert_int_equal(fwrite(a, 1, la, fp), la);
			fclose(fp);
		}
		free(ra);
		free(rb);
		free(a);
		free(b);
		wq_frag_free(back);
	}
	weft_query_free(q);
	weft_snapshot_end(s);
	return n;
}

/* sql must be refused when prepared, with a message containing want. */
static void
refused(const char *sql, const char *want)
{
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};

	assert_int_equal(weft_snapshot_begin(fz_st, &s, &err), 0);
	if (weft_query_prepare(s, sql, &q, &err) == 0)
		fail_msg("%.60s: planned, expected \"%s\"", sql, want);
	if (strstr(err.msg, want) == NULL)
		fail_msg("%.60s: \"%s\", expected \"%s\"", sql, err.msg, want);
	assert_null(q);
	weft_snapshot_end(s);
}

/* An expression at exactly WEFT_FRAG_DEPTH_MAX levels plans, travels and
 * runs; one more level is refused at planning, saying why. */
static void
test_depth_limit(void **state)
{
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};
	wq_frag_t *fr;
	char *sql = deep_sql(WEFT_FRAG_DEPTH_MAX);

	(void)state;
	assert_int_equal(roundtrip(sql, NULL, NULL), 1);
	assert_int_equal(weft_snapshot_begin(fz_st, &s, &err), 0);
	assert_int_equal(weft_query_prepare(s, sql, &q, &err), 0);
	assert_int_equal(wq_query_frags(q, &fr, 1), 1);
	assert_int_equal(fr->nproj, 1);
	assert_int_equal(weft_expr_depth(fr->proj[0]), WEFT_FRAG_DEPTH_MAX);
	weft_query_free(q);
	weft_snapshot_end(s);
	free(sql);

	sql = deep_sql(WEFT_FRAG_DEPTH_MAX + 1);
	refused(sql, "expression nested too deeply (more than 1000 levels)");
	free(sql);
}

/* Trees the planner makes itself stay within the limits and in the form
 * the decoder accepts. */
static void
test_planner_trees(void **state)
{
	static const char *const ok[] = {
	    /* found by fuzz_sql: a chain of 70 operators with casts, which
	     * the decoder once refused as "too deep" */
	    "SELECT c + 1- a *44444444444444444/4444/44444444444444444444"
	    "44444444/444444444444444444/444444444444444444444/44444444444"
	    "444444444444 % 444444444/444444444444444444444444444444444444"
	    "4444444444444444444444444/4444444444444444444444444444/44444"
	    "4444444444444444/44444444444444444444444 % 444444444/4444444"
	    "4444444444444 % 44444/444444444444444441444/4444444 % 2, -a "
	    "FROM sales.t",
	    /* a filter pushed through a projection of constants: folded */
	    "SELECT * FROM (SELECT 1 AS x, a FROM sales.t) s WHERE x > 0",
	    "SELECT * FROM (SELECT 'abc' AS x, a FROM sales.t) s "
	    "WHERE x = 'abc' AND a > 1",
	    "SELECT * FROM (SELECT CASE WHEN true THEN 1 ELSE a END AS x "
	    "FROM sales.t) s WHERE x > 0",
	    /* a pushed filter meets a constant one */
	    "SELECT * FROM (SELECT a FROM sales.t WHERE 1 = 1) s WHERE a > 0",
	};
	char *sql, *p;
	size_t i, cap = 64 * 1024, n;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(roundtrip(ok[i], NULL, NULL), 1);
	/* each conjunct pushed into one side of a join adds a level */
	sql = malloc(cap);
	assert_non_null(sql);
	p = sql;
	p += sprintf(p, "SELECT t.a FROM sales.t t JOIN geo.u u ON t.a = u.a "
			"WHERE t.a <> 0");
	for (n = 1; n < 900; n++)
		p += sprintf(p, " AND t.a <> %zu", n);
	assert_int_equal(roundtrip(sql, NULL, NULL), 2);
	for (; n < 1100; n++)
		p += sprintf(p, " AND t.a <> %zu", n);
	refused(sql, "expression nested too deeply (more than 1000 levels)");
	free(sql);
}

/* Copies that would grow a tree past WEFT_FRAG_NODES_MAX are refused at
 * once; a filter that would grow so when pushed stays where it is. */
static void
test_size_limit(void **state)
{
	static const char *const forms[] = {
	    "(%s IS DISTINCT FROM d)",
	    "((%s) BETWEEN 1 AND 2)::int",
	    "(CASE %s WHEN 1 THEN 1 WHEN 2 THEN 2 END)",
	};
	char *e = malloc(1 << 16), *t = malloc(1 << 16), *sql;
	size_t f;
	int i;
	clock_t t0 = clock();

	(void)state;
	assert_non_null(e);
	assert_non_null(t);
	for (f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		snprintf(e, 1 << 16, "%s", f == 0 ? "d" : "a");
		for (i = 0; i < 40; i++) {
			snprintf(t, 1 << 16, forms[f], e);
			snprintf(e, 1 << 16, "%s", t);
		}
		snprintf(t, 1 << 16, "SELECT %s FROM sales.t", e);
		refused(t, "expression too large (more than 1000000 nodes)");
	}
	/* x + x + x + x through 14 projections: 4^14 copies if pushed */
	snprintf(e, 1 << 16, "(SELECT a AS x FROM sales.t) s0");
	for (i = 1; i <= 14; i++) {
		snprintf(t, 1 << 16, "(SELECT x + x + x + x AS x FROM %s) s%d",
			 e, i);
		snprintf(e, 1 << 16, "%s", t);
	}
	sql = malloc(1 << 16);
	assert_non_null(sql);
	snprintf(sql, 1 << 16, "SELECT x FROM %s WHERE x > 0", e);
	assert_int_equal(roundtrip(sql, NULL, NULL), 1);
	/* all of it in well under the minutes the copies would take */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 20);
	free(sql);
	free(e);
	free(t);
}

static size_t
put_varint(uint8_t *p, size_t v)
{
	size_t n = 0;

	do {
		p[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* A weft.Fragment for product a.b whose filter is `levels` NOT nodes
 * nested around a column; malloc'd, *len bytes. */
static uint8_t *
deep_bytes(size_t levels, size_t *len)
{
	size_t cap = levels * 16 + 64, n = 0, i, k;
	uint8_t *a = malloc(cap), *b = malloc(cap), *m, *tmp;

	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < levels; i++) { /* Expr{kind: NOT, args: [inner]} */
		k = 0;
		b[k++] = 0x08;
		b[k++] = WEFT_E_NOT;
		b[k++] = 0x3a;
		k += put_varint(b + k, n);
		memcpy(b + k, a, n);
		n += k;
		tmp = a;
		a = b;
		b = tmp;
	}
	m = malloc(n + 32);
	assert_non_null(m);
	k = 0;
	m[k++] = 0x0a; /* product */
	m[k++] = 3;
	memcpy(m + k, "a.b", 3);
	k += 3;
	m[k++] = 0x22; /* filter */
	k += put_varint(m + k, n);
	memcpy(m + k, a, n);
	*len = k + n;
	free(a);
	free(b);
	return m;
}

static void
expect_refused(const uint8_t *buf, size_t len, const char *want)
{
	wq_frag_t *f = NULL;
	weft_err_t err = {0};

	assert_int_not_equal(wq_frag_decode(buf, len, &f, &err), 0);
	assert_null(f);
	if (strstr(err.msg, want) == NULL)
		fail_msg("decode: \"%s\", expected \"%s\"", err.msg, want);
}

/* Hostile nesting and size are refused before protobuf-c unpacks the
 * bytes (its recursion overflowed the stack at ~10,000 levels). */
static void
test_hostile_bytes(void **state)
{
	static const uint8_t truncated[] = {0x0a, 0x03, 'a',  '.',
					    'b',  0x22, 0x05, 0x08};
	static const uint8_t group[] = {0x0a, 0x03, 'a', '.', 'b', 0x23};
	uint8_t *buf;
	size_t len, i, k;

	(void)state;
	buf = deep_bytes(WEFT_FRAG_DEPTH_MAX, &len);
	expect_refused(buf, len, "fragment: expression nested too deeply");
	free(buf);
	buf = deep_bytes(200000, &len);
	expect_refused(buf, len, "fragment: expression nested too deeply");
	free(buf);
	/* one node with more than WEFT_FRAG_NODES_MAX empty arguments */
	buf = malloc(3 * (size_t)WEFT_FRAG_NODES_MAX + 64);
	assert_non_null(buf);
	k = 0;
	buf[k++] = 0x0a;
	buf[k++] = 3;
	memcpy(buf + k, "a.b", 3);
	k += 3;
	buf[k++] = 0x22;
	k += put_varint(buf + k, 2 * (size_t)WEFT_FRAG_NODES_MAX + 2);
	buf[k++] = 0x08;
	buf[k++] = WEFT_E_AND;
	for (i = 0; i < WEFT_FRAG_NODES_MAX; i++) {
		buf[k++] = 0x3a;
		buf[k++] = 0x00;
	}
	expect_refused(buf, k, "fragment: expression too large");
	free(buf);
	expect_refused(truncated, sizeof(truncated), "fragment: bad message");
	expect_refused(group, sizeof(group), "fragment: bad message");
}

/* Queries whose fragments seed fuzz_frag: every fragment form. */
static const char *const seed_queries[] = {
    "SELECT * FROM sales.t",
    "SELECT a, b FROM sales.t WHERE a > 1 AND b = 'x'",
    "SELECT a * 2, upper(b), c::numeric(10,2) FROM sales.t WHERE d",
    "SELECT b, count(*), sum(a), avg(c), min(e), max(b) FROM sales.t "
    "GROUP BY b",
    "SELECT count(*) FROM sales.t",
    "SELECT a FROM sales.t LIMIT 2",
    "SELECT a, c FROM sales.t ORDER BY c DESC NULLS LAST, a LIMIT 2",
    "SELECT CASE WHEN a IS NULL THEN 'none' ELSE b || '!' END, "
    "coalesce(c, 0), nullif(a, 1) FROM sales.t WHERE b LIKE 'y%' OR "
    "a IN (1, 2, 3)",
    "SELECT extract(year FROM e), date_trunc('day', e) FROM sales.t "
    "WHERE e < '2024-06-01' AND e IS NOT NULL",
    "SELECT u.f, count(*) FROM sales.t t JOIN geo.u u ON t.a = u.a "
    "GROUP BY u.f",
    "SELECT z % 3, -z, abs(z) FROM hr.t",
    "SELECT b, variance(a), stddev(c), corr(c, a), regr_slope(c, a), "
    "weft_linreg(c, a, a * 2) FROM sales.t GROUP BY b",
    "SELECT weft_profile(*) FROM sales.t WHERE a > 0",
};

static void
test_seed_roundtrip(void **state)
{
	const char *dir = getenv("WEFT_FRAG_SEEDS");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(seed_queries) / sizeof(seed_queries[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "q%02zu", i + 1);
		assert_true(roundtrip(seed_queries[i], dir, name) >= 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_planner_trees),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_hostile_bytes),
	    cmocka_unit_test(test_seed_roundtrip),
	};

	fz_fixture_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
