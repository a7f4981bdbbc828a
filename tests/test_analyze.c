/*
 * test_analyze.c: EXPLAIN ANALYZE over generated products in a real
 * store. The rows each plan node reports must be the true counts, which
 * the test computes from the generator's formulas (a filter's survivors,
 * a GROUP BY's groups, a HAVING's groups, a join's pairs, a LIMIT) and
 * from running the same SELECT; a side never pulled says "never
 * executed"; TIMING off drops the times, SUMMARY the closing lines;
 * options weft lacks are refused by name at their position; a stopped
 * run is an error, not a report. No timing figure is compared.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query/query.h"
#include "storage/ingest.h"
#include "testutil.h"

#define NITEMS 30000 /* several chunks (WEFT_CHUNK_ROWS) */
#define NGRP 7
#define NDIMS 5 /* dims holds groups 0..NDIMS-1 */

typedef struct {
	char *dir;
	weft_store_t *st;
	weft_test_id_t id;
} fx_t;

static fx_t *g_fx;

/* The generator: item i is in group i % NGRP, with value v(i). */
static int
item_v(int i)
{
	return (int)(((long)i * 7919) % 1000);
}

static void
publish(fx_t *f, const char *name, const char *csv)
{
	char path[512];
	FILE *fp;
	weft_ingest_opts_t o = {0};
	weft_err_t err = {0};

	snprintf(path, sizeof(path), "%s/%s.csv", f->dir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs(csv, fp);
	fclose(fp);
	o.path = path;
	o.format = WEFT_FMT_CSV;
	o.mode = WEFT_PUB_CREATE;
	if (weft_ingest(f->st, name, &o, &f->id.signer, NULL, &err) != 0)
		fail_msg("ingest %s: %s", name, err.msg);
}

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	weft_store_opts_t o = {0};
	int64_t now = weft_now_s();
	char *csv = NULL;
	size_t len = 0;
	FILE *m;
	int i;

	f->dir = weft_test_tmpdir();
	o.create = 1;
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
	weft_test_id_make(&f->id, "acme", "n1", now - 60, now + 86400);
	assert_int_equal(weft_store_trust_add(f->st, &f->id.root, NULL), 0);
	m = open_memstream(&csv, &len);
	assert_non_null(m);
	fprintf(m, "id,grp,v\n");
	for (i = 0; i < NITEMS; i++)
		fprintf(m, "%d,%d,%d\n", i, i % NGRP, item_v(i));
	fclose(m);
	publish(f, "t.items", csv);
	free(csv);
	m = open_memstream(&csv, &len);
	assert_non_null(m);
	fprintf(m, "grp,name\n");
	for (i = 0; i < NDIMS; i++)
		fprintf(m, "%d,g%d\n", i, i);
	fclose(m);
	publish(f, "t.dims", csv);
	free(csv);
	g_fx = f;
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
	weft_test_id_free(&f->id);
	free(f);
	return 0;
}

static int
stop_now(void *arg)
{
	(void)arg;
	return WEFT_STOP_CANCEL;
}

/*
 * Run sql: its text rows joined by newlines, and *nrows the number of
 * result rows (for EXPLAIN: lines). On error "ERROR@pos: message". With
 * stop set, the query is stopped at its first check. Caller frees.
 */
static char *
run_stop(const char *sql, long *nrows, int stop)
{
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};
	const weft_batch_t *b;
	char *out = NULL;
	size_t olen = 0;
	FILE *f = open_memstream(&out, &olen);
	long n = 0;
	int rc;
	uint32_t r;

	assert_non_null(f);
	assert_int_equal(weft_snapshot_begin(g_fx->st, &s, &err), 0);
	rc = weft_query_prepare(s, sql, &q, &err);
	if (rc == 0 && stop)
		weft_query_set_stop(q, stop_now, NULL);
	if (rc == 0)
		while ((rc = weft_query_next(q, &b, &err)) == 1) {
			n += b->n;
			if (b->ncols != 1 || b->cols[0].type != WEFT_S_TEXT)
				continue;
			for (r = 0; r < b->n; r++)
				fprintf(f, "%.*s\n", (int)b->cols[0].v.s[r].len,
					b->cols[0].v.s[r].p);
		}
	fclose(f);
	if (rc < 0) {
		free(out);
		out = NULL;
		f = open_memstream(&out, &olen);
		assert_non_null(f);
		fprintf(f, "ERROR@%d: %s", err.pos, err.msg);
		fclose(f);
	}
	weft_query_free(q);
	weft_snapshot_end(s);
	if (nrows)
		*nrows = n;
	return out;
}

static char *
run(const char *sql, long *nrows)
{
	return run_stop(sql, nrows, 0);
}

/* The first line of text that contains label, or NULL. */
static const char *
line_of(const char *text, const char *label)
{
	const char *p = strstr(text, label);

	if (p == NULL)
		return NULL;
	while (p > text && p[-1] != '\n')
		p--;
	return p;
}

/* The "actual rows=N" of the node whose line holds label: N, -1 when
 * the line has no figures, -2 when there is no such line. */
static long
actual_rows(const char *text, const char *label)
{
	const char *l = line_of(text, label), *a, *nl;

	if (l == NULL)
		return -2;
	nl = strchr(l, '\n');
	a = strstr(l, "(actual rows=");
	if (a == NULL || (nl && a > nl))
		return -1;
	return strtol(a + strlen("(actual rows="), NULL, 10);
}

#define ROWS_ARE(text, label, want)                                            \
	do {                                                                   \
		long got_ = actual_rows(text, label);                          \
		if (got_ != (long)(want))                                      \
			fail_msg("%s: rows %ld, want %ld\n%s", label, got_,    \
				 (long)(want), text);                          \
	} while (0)

static void
test_filter_agg(void **state)
{
	long keep = 0, nres = 0, groups = 0, i;
	long per[NGRP] = {0};
	char *s, sql[256];

	(void)state;
	for (i = 0; i < NITEMS; i++)
		if (item_v((int)i) < 100) {
			keep++;
			per[i % NGRP]++;
		}
	/* a filter pushed into the scan: the scan returns the survivors */
	s = run("EXPLAIN ANALYZE SELECT id FROM t.items WHERE v < 100", NULL);
	ROWS_ARE(s, "Scan t.items", keep);
	assert_non_null(strstr(s, " loops=1 time="));
	assert_non_null(strstr(s, "\nPlanning Time: "));
	assert_non_null(strstr(s, "\nExecution Time: "));
	free(s);
	/* the root's rows are the rows the SELECT returns */
	s = run("SELECT id FROM t.items WHERE v < 100", &nres);
	free(s);
	assert_int_equal(nres, keep);
	/* GROUP BY: as many rows out of the final aggregate as groups */
	s = run("EXPLAIN ANALYZE SELECT grp, count(*) FROM t.items "
		"WHERE v < 100 GROUP BY grp",
		NULL);
	for (i = 0; i < NGRP; i++)
		groups += per[i] > 0;
	ROWS_ARE(s, "Final Aggregate", groups);
	ROWS_ARE(s, "Project", groups);
	free(s);
	/* HAVING: a filter above the aggregate keeps the big groups */
	snprintf(sql, sizeof(sql),
		 "EXPLAIN ANALYZE SELECT grp FROM t.items WHERE v < 100 "
		 "GROUP BY grp HAVING count(*) > %ld",
		 keep / NGRP);
	s = run(sql, NULL);
	ROWS_ARE(s, "Final Aggregate", groups);
	for (i = 0, groups = 0; i < NGRP; i++)
		groups += per[i] > keep / NGRP;
	assert_true(groups > 0 && groups < NGRP);
	ROWS_ARE(s, "Filter", groups);
	free(s);
	/* LIMIT: what it passed on */
	s = run("EXPLAIN ANALYZE SELECT id FROM t.items ORDER BY v DESC, id "
		"LIMIT 17",
		NULL);
	ROWS_ARE(s, "Limit", 17);
	free(s);
}

static void
test_join(void **state)
{
	long pairs = 0, small = 0, nres = 0, i;
	char *s;

	(void)state;
	for (i = 0; i < NITEMS; i++)
		if (i % NGRP < NDIMS) {
			pairs++;
			small += item_v((int)i) < 10;
		}
	s = run("EXPLAIN ANALYZE SELECT i.id, d.name FROM t.items i "
		"JOIN t.dims d ON i.grp = d.grp",
		NULL);
	ROWS_ARE(s, "Inner Hash Join", pairs);
	ROWS_ARE(s, "Scan t.items", NITEMS);
	ROWS_ARE(s, "Scan t.dims", NDIMS);
	free(s);
	s = run("SELECT i.id, d.name FROM t.items i JOIN t.dims d "
		"ON i.grp = d.grp",
		&nres);
	free(s);
	assert_int_equal(nres, pairs);
	/* an aggregate over the join */
	s = run("EXPLAIN ANALYZE SELECT d.name, count(*) FROM t.items i "
		"JOIN t.dims d ON i.grp = d.grp WHERE i.v < 10 GROUP BY 1",
		NULL);
	ROWS_ARE(s, "Inner Hash Join", small);
	ROWS_ARE(s, "Hash Aggregate", NDIMS);
	free(s);
	/* the build side is empty: the probe side is never pulled */
	s = run("EXPLAIN ANALYZE SELECT i.id FROM t.items i "
		"JOIN t.dims d ON i.grp = d.grp WHERE d.name = 'none'",
		NULL);
	ROWS_ARE(s, "Inner Hash Join", 0);
	ROWS_ARE(s, "Scan t.dims", 0);
	assert_non_null(strstr(line_of(s, "Scan t.items"), "(never executed)"));
	free(s);
}

static void
test_options(void **state)
{
	long keep = 0, i;
	char *s;

	(void)state;
	for (i = 0; i < NITEMS; i++)
		keep += item_v((int)i) >= 900;
	s = run("EXPLAIN (ANALYZE, TIMING off) SELECT count(*) FROM t.items "
		"WHERE v >= 900",
		NULL);
	assert_null(strstr(s, "time="));
	ROWS_ARE(s, "Final Aggregate", 1);
	assert_non_null(strstr(s, "Execution Time: "));
	free(s);
	s = run("EXPLAIN (ANALYZE true, SUMMARY off, COSTS off, VERBOSE, "
		"BUFFERS false, FORMAT text) SELECT id FROM t.items "
		"WHERE v >= 900",
		NULL);
	ROWS_ARE(s, "Scan t.items", keep);
	assert_null(strstr(s, "Planning Time"));
	assert_null(strstr(s, "Execution Time"));
	free(s);
	/* ANALYZE off: EXPLAIN, which runs nothing */
	s = run("EXPLAIN (ANALYZE off) SELECT id FROM t.items", NULL);
	ROWS_ARE(s, "Scan t.items", -1);
	assert_null(strstr(s, "Execution Time"));
	free(s);
	s = run("EXPLAIN (SUMMARY) SELECT 1", NULL);
	assert_non_null(strstr(s, "Planning Time: "));
	assert_null(strstr(s, "Execution Time"));
	free(s);
	s = run("EXPLAIN (ANALYZE, BUFFERS) SELECT 1", NULL);
	assert_string_equal(s, "ERROR@19: unsupported at character 19: "
			       "EXPLAIN option BUFFERS");
	free(s);
	s = run("EXPLAIN (FORMAT json, ANALYZE) SELECT 1", NULL);
	assert_string_equal(s, "ERROR@10: unsupported at character 10: "
			       "EXPLAIN option FORMAT JSON (only TEXT)");
	free(s);
	s = run("EXPLAIN (ANALYZE, SERIALIZE text) SELECT 1", NULL);
	assert_string_equal(s, "ERROR@19: unsupported at character 19: "
			       "EXPLAIN option SERIALIZE");
	free(s);
	s = run("EXPLAIN (ANALYZE, wibble) SELECT 1", NULL);
	assert_string_equal(s,
			    "ERROR@19: unrecognized EXPLAIN option \"wibble\"");
	free(s);
	s = run("EXPLAIN (ANALYZE 2) SELECT 1", NULL);
	assert_string_equal(s, "ERROR@10: analyze requires a Boolean value");
	free(s);
	s = run("EXPLAIN (TIMING) SELECT 1", NULL);
	assert_string_equal(s,
			    "ERROR@0: EXPLAIN option TIMING requires ANALYZE");
	free(s);
}

static void
test_failures(void **state)
{
	char *s;

	(void)state;
	/* the statement's error is EXPLAIN ANALYZE's */
	s = run("EXPLAIN ANALYZE SELECT v / (id - id) FROM t.items", NULL);
	assert_non_null(strstr(s, "division by zero"));
	free(s);
	/* so is a stop (a cancel, a deadline) */
	s = run_stop("EXPLAIN ANALYZE SELECT count(*) FROM t.items", NULL, 1);
	assert_string_equal(s, "ERROR@0: cancelled");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter_agg),
	    cmocka_unit_test(test_join),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
