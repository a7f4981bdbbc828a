/*
 * test_profile.c: the profile of columns (query/profile.c) over batches
 * with known answers: rows, NULLs, exact distinct counts, min and max,
 * quantiles and histogram of integers and floats (exact while few
 * values, sampled past that: then within a few percent, the histogram
 * summing to the rows), common values with their counts, text and its
 * dictionaries, a HyperLogLog estimate of 200,000 distinct values within
 * 5%; and under an aggregates-only grant (min_group k): no min, max,
 * quantiles or histogram, NULLs and common values only of k rows or
 * more, the rest in one remainder, and nothing but the count below k.
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

#include "query/exec.h"

/* The profile's rows, as strings "column|stat|key|value|rows". */
typedef struct {
	char **row;
	size_t n;
} prows_t;

static void
prows_free(prows_t *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->row[i]);
	free(r->row);
}

static void
collect(wq_prof_t *p, prows_t *r)
{
	weft_sqltype_t t[WQ_PROF_NCOLS];
	weft_batch_t *b = NULL;
	weft_err_t err = {0};
	uint32_t i, c;
	int rc;

	wq_prof_types(t, NULL);
	assert_int_equal(weft_batch_new(WQ_PROF_NCOLS, t, &b), 0);
	memset(r, 0, sizeof(*r));
	while ((rc = wq_prof_emit(p, b, &err)) == 1) {
		for (i = 0; i < b->n; i++) {
			char line[1024];
			size_t n = 0;

			for (c = 0; c < 4; c++) {
				const weft_vec_t *v = &b->cols[c];

				n += (size_t)snprintf(
				    line + n, sizeof(line) - n, "%.*s|",
				    v->nulls[i] ? 0 : (int)v->v.s[i].len,
				    v->nulls[i] ? "" : v->v.s[i].p);
			}
			if (!b->cols[4].nulls[i])
				snprintf(line + n, sizeof(line) - n, "%lld",
					 (long long)b->cols[4].v.i64[i]);
			r->row = realloc(r->row, (r->n + 1) * sizeof(*r->row));
			assert_non_null(r->row);
			r->row[r->n++] = strdup(line);
		}
	}
	assert_int_equal(rc, 0);
	weft_batch_free(b);
}

static bool
has(const prows_t *r, const char *line)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->row[i], line) == 0)
			return true;
	return false;
}

static size_t
count_prefix(const prows_t *r, const char *prefix)
{
	size_t i, k = 0;

	for (i = 0; i < r->n; i++)
		k += strncmp(r->row[i], prefix, strlen(prefix)) == 0;
	return k;
}

static void
must(const prows_t *r, const char *line)
{
	size_t i;

	if (has(r, line))
		return;
	for (i = 0; i < r->n; i++)
		fprintf(stderr, "  %s\n", r->row[i]);
	fail_msg("no profile row \"%s\"", line);
}

/* Sum of the rows of lines starting with prefix. */
static long long
sum_prefix(const prows_t *r, const char *prefix)
{
	size_t i;
	long long s = 0;

	for (i = 0; i < r->n; i++)
		if (strncmp(r->row[i], prefix, strlen(prefix)) == 0)
			s += atoll(strrchr(r->row[i], '|') + 1);
	return s;
}

/* n rows: i int64 (i % 1000 + 1, every 10th NULL), f float8 (i / 4.0),
 * t text ("a" 50%, "b" 30%, "c" 20% by i % 10) */
static void
feed(wq_prof_t *p, uint32_t n)
{
	weft_sqltype_t t[3] = {WEFT_S_INT64, WEFT_S_FLOAT64, WEFT_S_TEXT};
	weft_batch_t *b = NULL;
	uint32_t i, at = 0;
	static const char *const tv[] = {"a", "a", "a", "a", "a",
					 "b", "b", "b", "c", "c"};

	assert_int_equal(weft_batch_new(3, t, &b), 0);
	while (at < n) {
		uint32_t m = n - at < WEFT_BATCH ? n - at : WEFT_BATCH;

		for (i = 0; i < m; i++) {
			uint32_t r = at + i;

			b->cols[0].nulls[i] = r % 10 == 9;
			b->cols[0].v.i64[i] = r % 1000 + 1;
			b->cols[1].nulls[i] = 0;
			b->cols[1].v.f64[i] = r / 4.0;
			b->cols[2].nulls[i] = 0;
			b->cols[2].v.s[i].p = tv[r % 10];
			b->cols[2].v.s[i].len = 1;
		}
		b->n = m;
		assert_int_equal(wq_prof_add(p, b, NULL), 0);
		at += m;
	}
	weft_batch_free(b);
}

static wq_prof_t *
mkprof(uint64_t k, bool withhold)
{
	weft_sqltype_t t[3] = {WEFT_S_INT64, WEFT_S_FLOAT64, WEFT_S_TEXT};
	char *names[3] = {"i", "f", "t"};
	wq_prof_t *p = NULL;

	assert_int_equal(wq_prof_new(3, t, names, k, withhold, &p), 0);
	return p;
}

static void
test_exact(void **state)
{
	wq_prof_t *p = mkprof(0, false);
	prows_t r;

	(void)state;
	feed(p, 10000);
	collect(p, &r);
	must(&r, "i|type||bigint|");
	must(&r, "i|rows|||10000");
	must(&r, "i|nulls|||1000");
	/* i % 1000 + 1 with i % 10 == 9 NULL: 900 values of 1..1000 */
	must(&r, "i|distinct|exact||900");
	must(&r, "i|min||1|");
	must(&r, "i|max||999|");
	/* 9 values of each ten, 10 rows each: the 450th value is 499 */
	must(&r, "i|quantile|0.5|499|");
	/* ties of the common values by value: the ten smallest of 10 rows */
	must(&r, "i|mcv|1||10");
	assert_int_equal(count_prefix(&r, "i|mcv|"), 10);
	/* 10 buckets of 100 values, 90 of each bucket's values present, 10
	 * rows each: 900 rows a bucket */
	assert_int_equal(count_prefix(&r, "i|histogram|"), 10);
	must(&r, "i|histogram|1|101|900");
	assert_int_equal(sum_prefix(&r, "i|histogram|"), 9000);
	must(&r, "f|nulls|||0");
	/* 10,000 values: past the exact table, all in the sample */
	assert_int_equal(count_prefix(&r, "f|distinct|estimate||"), 1);
	assert_int_equal(count_prefix(&r, "f|sample|"), 0);
	must(&r, "f|quantile|0.5|1249.75|");
	must(&r, "f|min||0|");
	must(&r, "f|max||2499.75|");
	must(&r, "t|distinct|exact||3");
	must(&r, "t|min||a|");
	must(&r, "t|max||c|");
	must(&r, "t|mcv|a||5000");
	must(&r, "t|mcv|b||3000");
	must(&r, "t|mcv|c||2000");
	assert_true(count_prefix(&r, "i|") <= WQ_PROF_ROWS_MAX);
	assert_true(count_prefix(&r, "f|") <= WQ_PROF_ROWS_MAX);
	prows_free(&r);
	wq_prof_free(p);
}

/* f has 10,000 distinct values: past the exact table, so its quantiles
 * come from the sample and its distinct count from the HyperLogLog. */
static void
test_sampled(void **state)
{
	wq_prof_t *p = mkprof(0, false);
	prows_t r;
	size_t i;

	(void)state;
	feed(p, 200000);
	collect(p, &r);
	must(&r, "f|sample|estimate||16384");
	for (i = 0; i < r.n; i++) {
		if (strncmp(r.row[i], "f|distinct|estimate||", 21) == 0) {
			double d = atof(r.row[i] + 21);

			if (fabs(d - 200000) > 0.05 * 200000)
				fail_msg("distinct estimate %s", r.row[i]);
		}
		if (strncmp(r.row[i], "f|quantile|0.5|", 15) == 0) {
			double q = atof(r.row[i] + 15);

			/* the median of 0 .. 49999.75: 25000, within 2% */
			if (fabs(q - 25000) > 0.02 * 50000)
				fail_msg("median %s", r.row[i]);
		}
	}
	/* scaled counts add up to the rows, to rounding */
	if (llabs(sum_prefix(&r, "f|histogram|") - 200000) > 20)
		fail_msg("histogram sums to %lld",
			 sum_prefix(&r, "f|histogram|"));
	prows_free(&r);
	wq_prof_free(p);
}

static void
test_withheld(void **state)
{
	wq_prof_t *p = mkprof(2500, true);
	prows_t r;

	(void)state;
	feed(p, 10000);
	collect(p, &r);
	must(&r, "i|rows|||10000");
	assert_false(has(&r, "i|nulls|||1000")); /* 1000 < 2500 */
	assert_int_equal(count_prefix(&r, "i|min|"), 0);
	assert_int_equal(count_prefix(&r, "i|max|"), 0);
	assert_int_equal(count_prefix(&r, "i|quantile|"), 0);
	assert_int_equal(count_prefix(&r, "i|histogram|"), 0);
	assert_int_equal(count_prefix(&r, "i|withheld|"), 1);
	/* every value of i has 9 rows: all in a remainder of 9000 */
	must(&r, "i|mcv|||9000");
	must(&r, "t|mcv|a||5000");
	must(&r, "t|mcv|b||3000");
	assert_false(has(&r, "t|mcv|c||2000"));
	assert_false(has(&r, "t|mcv|||2000")); /* remainder below k */
	must(&r, "f|nulls|||0");
	prows_free(&r);
	wq_prof_free(p);
	/* fewer rows than k: the count only */
	p = mkprof(20000, true);
	feed(p, 10000);
	collect(p, &r);
	must(&r, "t|rows|||10000");
	assert_int_equal(count_prefix(&r, "t|"), 3); /* type, rows, withheld */
	assert_int_equal(count_prefix(&r, "t|withheld|"), 1);
	prows_free(&r);
	wq_prof_free(p);
}

/* Text with its batch's dictionary counts each value once per batch,
 * with the same answers as row by row. */
static void
test_dict(void **state)
{
	weft_sqltype_t t[1] = {WEFT_S_TEXT};
	char *names[1] = {"t"};
	static const weft_str_t vals[3] = {{"x", 1}, {"yy", 2}, {"z", 1}};
	wq_prof_t *p = NULL;
	weft_batch_t *b = NULL;
	wq_dict_t d;
	uint32_t codes[100], i;
	prows_t r;

	(void)state;
	assert_int_equal(wq_prof_new(1, t, names, 0, false, &p), 0);
	assert_int_equal(weft_batch_new(1, t, &b), 0);
	for (i = 0; i < 100; i++) {
		codes[i] = i % 7 == 0 ? 3 : i % 3; /* 3: NULL */
		b->cols[0].nulls[i] = codes[i] == 3;
		b->cols[0].v.s[i] = codes[i] < 3 ? vals[codes[i]] : vals[0];
	}
	b->n = 100;
	memset(&d, 0, sizeof(d));
	d.id = vals;
	d.vals = vals;
	d.n = 3;
	d.codes = codes;
	assert_int_equal(wq_prof_add(p, b, &d), 0);
	assert_int_equal(wq_prof_add(p, b, NULL), 0); /* row by row */
	collect(p, &r);
	must(&r, "t|rows|||200");
	must(&r, "t|nulls|||30");
	must(&r, "t|distinct|exact||3");
	must(&r, "t|min||x|");
	must(&r, "t|max||z|");
	/* i % 3 over the 85 non-NULL rows: x 29, yy 28, z 28; twice */
	must(&r, "t|mcv|x||58");
	must(&r, "t|mcv|yy||56");
	must(&r, "t|mcv|z||56");
	prows_free(&r);
	weft_batch_free(b);
	wq_prof_free(p);
}

/* The columns are profiled on two threads past the first rows: each
 * column's rows must be those of the column profiled alone (one column
 * never takes a second thread; the sample's rows are drawn once for all
 * columns, so they are the same rows). */
static void
test_lanes(void **state)
{
	weft_sqltype_t t[1] = {WEFT_S_FLOAT64};
	char *names[1] = {"f"};
	wq_prof_t *p = mkprof(0, false), *q = NULL;
	weft_batch_t *b = NULL;
	uint32_t i, at = 0, n = 300000;
	prows_t r, r1;
	size_t nf = 0;

	(void)state;
	feed(p, n);
	collect(p, &r);
	assert_int_equal(wq_prof_new(1, t, names, 0, false, &q), 0);
	assert_int_equal(weft_batch_new(1, t, &b), 0);
	while (at < n) { /* feed's f, in batches of another size */
		uint32_t m = n - at < 1000 ? n - at : 1000;

		for (i = 0; i < m; i++) {
			b->cols[0].nulls[i] = 0;
			b->cols[0].v.f64[i] = (at + i) / 4.0;
		}
		b->n = m;
		assert_int_equal(wq_prof_add(q, b, NULL), 0);
		at += m;
	}
	collect(q, &r1);
	for (i = 0; i < r.n; i++)
		if (strncmp(r.row[i], "f|", 2) == 0) {
			assert_true(nf < r1.n);
			assert_string_equal(r.row[i], r1.row[nf]);
			nf++;
		}
	assert_int_equal(nf, r1.n);
	assert_true(nf > 20);
	prows_free(&r);
	prows_free(&r1);
	weft_batch_free(b);
	wq_prof_free(p);
	wq_prof_free(q);
}

/* Floats as PostgreSQL orders and groups them: -0 is 0, every NaN one
 * value above all numbers (the max), kept out of the numbers' quantiles
 * and histogram; an infinity leaves no histogram (no finite width). */
static void
test_nan(void **state)
{
	weft_sqltype_t t[1] = {WEFT_S_FLOAT64};
	char *names[1] = {"f"};
	const double v[] = {NAN, -0.0, 0.0, 1.5, -NAN, 0.0, 1.5, NAN, 2.0};
	wq_prof_t *p = NULL;
	weft_batch_t *b = NULL;
	uint32_t i, n = sizeof(v) / sizeof(v[0]);
	prows_t r;

	(void)state;
	assert_int_equal(wq_prof_new(1, t, names, 0, false, &p), 0);
	assert_int_equal(weft_batch_new(1, t, &b), 0);
	for (i = 0; i < n; i++) {
		b->cols[0].nulls[i] = 0;
		b->cols[0].v.f64[i] = v[i];
	}
	b->cols[0].nulls[n] = 1; /* and one NULL */
	b->cols[0].v.f64[n] = 0;
	b->n = n + 1;
	assert_int_equal(wq_prof_add(p, b, NULL), 0);
	collect(p, &r);
	must(&r, "f|rows|||10");
	must(&r, "f|nulls|||1");
	must(&r, "f|distinct|exact||4");
	must(&r, "f|min||0|");
	must(&r, "f|max||NaN|");
	must(&r, "f|mcv|0||3");
	must(&r, "f|mcv|NaN||3");
	must(&r, "f|mcv|1.5||2");
	/* the numbers 0 0 0 1.5 1.5 2: the median 0, the 0.99 quantile 2 */
	must(&r, "f|quantile|0.5|0|");
	must(&r, "f|quantile|0.99|2|");
	assert_int_equal(sum_prefix(&r, "f|histogram|"), 6);
	prows_free(&r);
	weft_batch_free(b);
	wq_prof_free(p);
	/* an infinity: no histogram, the rest as before */
	assert_int_equal(wq_prof_new(1, t, names, 0, false, &p), 0);
	assert_int_equal(weft_batch_new(1, t, &b), 0);
	for (i = 0; i < 3; i++) {
		b->cols[0].nulls[i] = 0;
		b->cols[0].v.f64[i] = i == 2 ? INFINITY : i;
	}
	b->n = 3;
	assert_int_equal(wq_prof_add(p, b, NULL), 0);
	collect(p, &r);
	must(&r, "f|max||Infinity|");
	assert_int_equal(count_prefix(&r, "f|histogram|"), 0);
	prows_free(&r);
	weft_batch_free(b);
	wq_prof_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact),    cmocka_unit_test(test_sampled),
	    cmocka_unit_test(test_withheld), cmocka_unit_test(test_dict),
	    cmocka_unit_test(test_lanes),    cmocka_unit_test(test_nan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
