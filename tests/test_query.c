/*
 * test_query.c: the SQL engine end to end against a real store in a
 * temporary directory: small products with known answers for every
 * supported feature (NULL semantics, aggregates, joins, sorting, set
 * operations, subqueries, CTEs, EXPLAIN), a product spanning several
 * chunks (zone maps, dictionary paths, top-N), errors with positions, a
 * product dropped mid-query, and scan fragments round-tripped through
 * protobuf with identical results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query/expr.h"
#include "query/qint.h"
#include "query/query.h"
#include "storage/ingest.h"
#include "testutil.h"

typedef struct {
	char *dir;
	weft_store_t *st;
	weft_test_id_t id;
} fx_t;

static fx_t *g_fx;

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
	char *big;
	size_t cap = 1 << 22, len = 0;
	int i;

	f->dir = weft_test_tmpdir();
	o.create = 1;
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
	weft_test_id_make(&f->id, "acme", "n1", now - 60, now + 86400);
	assert_int_equal(weft_store_trust_add(f->st, &f->id.root, NULL), 0);
	publish(f, "sales.people",
		"id,name,score,city,born\n"
		"1,alice,10.5,paris,2001-02-03 04:05:06\n"
		"2,bob,,berlin,1999-12-31 23:59:59\n"
		"3,carol,7.25,paris,\n"
		"4,,3,,2010-06-01 00:00:00\n"
		"5,eve,10.5,rome,2001-02-03 00:00:00\n");
	publish(f, "geo.cities",
		"city,country,pop\n"
		"paris,fr,2100000\n"
		"berlin,de,3600000\n"
		"madrid,es,3200000\n");
	publish(f, "hr.staff", "id,dept\n1,x\n2,y\n");
	publish(f, "geo.twin", "a,b\n1,x\n");
	publish(f, "hr.twin", "a,b\n2,y\n");
	/* a product over several chunks */
	big = malloc(cap);
	assert_non_null(big);
	len += (size_t)snprintf(big + len, cap - len, "k,v,g,t\n");
	for (i = 0; i < 20000; i++)
		len += (size_t)snprintf(big + len, cap - len, "%d,%d,g%d,%s\n",
					i, (i * 7919) % 1000, i % 7,
					i % 11 == 0 ? "" : "x");
	publish(f, "big.nums", big);
	len = 0;
	len += (size_t)snprintf(big + len, cap - len, "k,n,x\n");
	for (i = 0; i < 30000; i++) {
		char nb[32] = "";

		if (i % 13 != 0)
			snprintf(nb, sizeof(nb), "%d", (i * 37) % 501 - 250);
		len += (size_t)snprintf(big + len, cap - len, "%d,%s,%d.5\n", i,
					nb, (i * 91) % 777);
	}
	publish(f, "big.sparse", big);
	/* text values that only some chunks' dictionaries hold, NULLs in
	 * both columns, many ties across chunks */
	len = 0;
	len += (size_t)snprintf(big + len, cap - len, "k,a,c\n");
	for (i = 0; i < 26000; i++) {
		char ab[32] = "";
		const char *c;

		if (i % 17 != 0)
			snprintf(ab, sizeof(ab), "%d", (i * 31) % 11 - 3);
		if (i < 8192)
			c = i % 2 ? "a" : "b";
		else if (i < 16384)
			c = i % 9 == 0 ? "" : i % 2 ? "b" : "c";
		else if (i < 24576)
			c = i % 1000 == 7 ? "zz" : "c";
		else
			c = "a";
		len += (size_t)snprintf(big + len, cap - len, "%d,%s,%s\n", i,
					ab, c);
	}
	publish(f, "big.text", big);
	free(big);
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

/* Run sql; the result as "a|b\n..." rows (NULL as "NULL"); on error,
 * "ERROR@pos: message". Caller frees. */
static char *
run(const char *sql)
{
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};
	const weft_batch_t *b;
	char *out = NULL, buf[256];
	size_t olen = 0;
	FILE *f = open_memstream(&out, &olen);
	int rc;
	uint32_t r, c;

	assert_non_null(f);
	assert_int_equal(weft_snapshot_begin(g_fx->st, &s, &err), 0);
	rc = weft_query_prepare(s, sql, &q, &err);
	if (rc == 0) {
		while ((rc = weft_query_next(q, &b, &err)) == 1)
			for (r = 0; r < b->n; r++) {
				for (c = 0; c < b->ncols; c++) {
					if (c)
						fputc('|', f);
					if (b->cols[c].nulls[r] ||
					    b->cols[c].type == WEFT_S_NULL) {
						fputs("NULL", f);
						continue;
					}
					weft_value_format(b->cols[c].type,
							  &b->cols[c], r, buf,
							  sizeof(buf));
					fputs(buf, f);
				}
				fputc('\n', f);
			}
	}
	if (rc < 0) {
		fclose(f);
		free(out);
		out = NULL;
		olen = 0;
		f = open_memstream(&out, &olen);
		fprintf(f, "ERROR@%d: %s", err.pos, err.msg);
	}
	fclose(f);
	weft_query_free(q);
	weft_snapshot_end(s);
	return out;
}

#define CHECK(sql, want)                                                       \
	do {                                                                   \
		char *got_ = run(sql);                                         \
		if (strcmp(got_, want) != 0)                                   \
			fail_msg("%s\nwant:\n%s\ngot:\n%s", sql, want, got_);  \
		free(got_);                                                    \
	} while (0)

/* The error of sql must contain `part` and be at position pos. */
#define CHECK_ERR(sql, pos, part)                                              \
	do {                                                                   \
		char *got_ = run(sql);                                         \
		char want_[64];                                                \
		snprintf(want_, sizeof(want_), "ERROR@%d: ", pos);             \
		if (strncmp(got_, want_, strlen(want_)) != 0 ||                \
		    strstr(got_, part) == NULL)                                \
			fail_msg("%s\nwant %s...%s\ngot: %s", sql, want_,      \
				 part, got_);                                  \
		free(got_);                                                    \
	} while (0)

static void
test_select_basic(void **state)
{
	(void)state;
	CHECK("SELECT id, name FROM sales.people WHERE id <= 2 ORDER BY id",
	      "1|alice\n2|bob\n");
	CHECK("SELECT * FROM sales.people WHERE id = 1",
	      "1|alice|10.5|paris|2001-02-03 04:05:06\n");
	CHECK("SELECT name AS n, score * 2 AS s FROM people WHERE score > 7 "
	      "ORDER BY s DESC, n",
	      "alice|21\neve|21\ncarol|14.5\n");
	CHECK("SELECT acme.sales.people.id FROM acme.sales.people "
	      "WHERE id = 3",
	      "3\n");
	CHECK("SELECT p.id FROM sales.people p WHERE p.city = 'rome'", "5\n");
	CHECK("SELECT 1 + 2, 'x' || 'y', 7 / 2, 7 % 3, -7 / 2",
	      "3|xy|3|1|-3\n");
	CHECK("SELECT id FROM people WHERE city IN ('rome', 'berlin') "
	      "ORDER BY id",
	      "2\n5\n");
	CHECK("SELECT id FROM people WHERE id BETWEEN 2 AND 4 AND NOT id = 3 "
	      "ORDER BY 1",
	      "2\n4\n");
	CHECK("SELECT id FROM people WHERE name LIKE '%e%' ORDER BY id",
	      "1\n5\n");
	CHECK("SELECT id FROM people WHERE name ILIKE 'A%'", "1\n");
	CHECK("SELECT id, CASE WHEN score > 8 THEN 'hi' WHEN score IS NULL "
	      "THEN 'none' ELSE 'lo' END FROM people ORDER BY id",
	      "1|hi\n2|none\n3|lo\n4|lo\n5|hi\n");
	CHECK("SELECT coalesce(name, '?'), nullif(id, 1) FROM people "
	      "WHERE id IN (1, 4) ORDER BY id",
	      "alice|NULL\n?|4\n");
	CHECK("SELECT upper(name), length(name), id::text || '!' FROM people "
	      "WHERE id = 3",
	      "CAROL|5|3!\n");
	CHECK("SELECT count(*) FROM people WHERE born > '2001-01-01'", "3\n");
}

static void
test_nulls(void **state)
{
	(void)state;
	CHECK("SELECT id FROM people WHERE score = NULL", "");
	CHECK("SELECT id FROM people WHERE score IS NULL", "2\n");
	CHECK("SELECT id FROM people WHERE name IS NOT NULL AND city IS NULL",
	      "");
	CHECK("SELECT count(*), count(name), count(score), sum(score), "
	      "avg(score) FROM people",
	      "5|4|4|31.25|7.8125\n");
	CHECK("SELECT count(*), sum(id), max(name) FROM people WHERE id > 9",
	      "0|NULL|NULL\n");
	CHECK("SELECT id FROM people WHERE NOT (score > 5) ORDER BY id", "4\n");
	CHECK("SELECT NULL::int + 1, NULL IS NULL", "NULL|t\n");
	CHECK("SELECT city, count(*) FROM people GROUP BY city "
	      "ORDER BY city NULLS FIRST",
	      "NULL|1\nberlin|1\nparis|2\n"
	      "rome|1\n");
}

static void
test_aggregates(void **state)
{
	(void)state;
	CHECK("SELECT city, count(*) AS n, max(score) FROM people "
	      "GROUP BY city HAVING count(*) > 1",
	      "paris|2|10.5\n");
	CHECK("SELECT city, min(name) FROM people GROUP BY 1 ORDER BY 1",
	      "berlin|bob\nparis|alice\nrome|eve\nNULL|NULL\n");
	CHECK("SELECT id % 2 AS odd, count(*) FROM people GROUP BY id % 2 "
	      "ORDER BY odd",
	      "0|2\n1|3\n");
	CHECK("SELECT odd, sum(id) FROM (SELECT id % 2 AS odd, id FROM people)"
	      " s GROUP BY odd ORDER BY 2 DESC",
	      "1|9\n0|6\n");
	CHECK("SELECT count(DISTINCT score), count(DISTINCT city) FROM people",
	      "3|3\n");
	CHECK("SELECT sum(id), avg(id) FROM people", "15|3.0000000000000000\n");
	CHECK("SELECT count(*) FROM people HAVING count(*) > 10", "");
	CHECK("SELECT g, count(*), sum(v), min(v), max(v) FROM big.nums "
	      "GROUP BY g ORDER BY g LIMIT 2",
	      "g0|2858|1426749|0|999\ng1|2857|1428251|0|999\n");
	CHECK("SELECT count(*), count(t), count(DISTINCT v) FROM big.nums",
	      "20000|18181|1000\n");
}

static void
test_order_limit(void **state)
{
	(void)state;
	CHECK("SELECT id, score FROM people ORDER BY score, id",
	      "4|3\n3|7.25\n1|10.5\n5|10.5\n2|NULL\n");
	CHECK("SELECT id FROM people ORDER BY score DESC, id",
	      "2\n1\n5\n3\n4\n");
	CHECK("SELECT id FROM people ORDER BY score DESC NULLS LAST, id DESC",
	      "5\n1\n3\n4\n2\n");
	CHECK("SELECT id FROM people ORDER BY id LIMIT 2 OFFSET 1", "2\n3\n");
	CHECK("SELECT id FROM people ORDER BY id OFFSET 4", "5\n");
	CHECK("SELECT k, v FROM big.nums ORDER BY v DESC, k LIMIT 3",
	      "321|999\n1321|999\n2321|999\n");
	CHECK("SELECT k FROM big.nums WHERE k >= 19998 ORDER BY k", "19998\n"
								    "19999\n");
	CHECK("SELECT count(*) FROM (SELECT k FROM big.nums LIMIT 10000) s",
	      "10000\n");
	CHECK("SELECT name FROM people ORDER BY length(name), name LIMIT 2",
	      "bob\neve\n");
}

/* LIMIT over ORDER BY (top-N, with its prefilter and zone maps) gives
 * the first rows of the full sort. */
static void
test_topn_consistent(void **state)
{
	static const char *const orders[] = {
	    "k, n, x FROM big.sparse ORDER BY n, k",
	    "k, n, x FROM big.sparse ORDER BY n DESC, k",
	    "k, n, x FROM big.sparse ORDER BY n NULLS FIRST, k",
	    "k, n, x FROM big.sparse ORDER BY n DESC NULLS LAST, k",
	    "k, n, x FROM big.sparse ORDER BY x DESC, k DESC",
	    "k, n, x FROM big.sparse ORDER BY x, n NULLS FIRST, k",
	    "k, n, x FROM big.sparse ORDER BY k DESC",
	    /* a few values, tied across every chunk, and NULLs */
	    "k, a, c FROM big.text ORDER BY a DESC, k",
	    "k, a, c FROM big.text ORDER BY a, k DESC",
	    "k, a, c FROM big.text ORDER BY a DESC NULLS LAST, k DESC",
	    "k, a, c FROM big.text ORDER BY a NULLS FIRST, c, k",
	    "* FROM big.text ORDER BY a DESC, c DESC, k",
	};
	static const int limits[] = {1, 2, 3, 4, 10, 25, 200, 1000};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++)
		for (j = 0; j < sizeof(limits) / sizeof(limits[0]); j++) {
			char full[256], lim[256], *a, *b, *p;
			int lines = 0;

			snprintf(full, sizeof(full), "SELECT %s", orders[i]);
			snprintf(lim, sizeof(lim), "SELECT %s LIMIT %d",
				 orders[i], limits[j]);
			a = run(full);
			b = run(lim);
			for (p = a; *p && lines < limits[j]; p++)
				if (*p == '\n')
					lines++;
			*p = 0;
			if (strcmp(a, b) != 0)
				fail_msg("%s\nfull sort:\n%s\ntop-N:\n%s", lim,
					 a, b);
			free(a);
			free(b);
		}
	CHECK("SELECT count(*), count(n), min(n), max(n), sum(n) FROM "
	      "big.sparse WHERE n > 200",
	      "2766|2766|201|250|623770\n");
}

static void
test_chunk_filters(void **state)
{
	static const char *const filters[] = {
	    "c = 'zz'",
	    "c = 'a' AND a > 2",
	    "a > 2 AND c = 'a'",
	    "c IS NULL AND k > 5",
	    "c <> 'b' AND a >= -3",
	    "a = 4",
	    "a <> 4",
	    "a < 0 AND c IN ('b', 'zz')",
	    "c = 'nope'",
	    "k >= 8191 AND k <= 8193",
	    "a > 2 AND c = 'c' AND k < 20000",
	    "c IS NOT NULL AND a IS NULL",
	    "c LIKE 'z%' OR a = 1",
	    "5 < a AND 'b' = c",
	    "a > 2147483647",
	    "c = 'zz' AND a > 1",
	    /* true for whole chunks by their zone maps (not evaluated), or
	     * not, for the NULLs of a */
	    "k >= 0",
	    "k > 8191",
	    "k <> 99999 AND k <= 25999",
	    "a > -100",
	    "a >= -3 AND k >= 8192",
	};
	static const char *const shapes[] = {
	    "SELECT count(*), count(a), sum(k), min(c), max(c) FROM big.text "
	    "WHERE %s%s",
	    "SELECT c, count(*), sum(a), min(k) FROM big.text WHERE %s%s "
	    "GROUP BY c ORDER BY c",
	    "SELECT k, a, c FROM big.text WHERE %s%s ORDER BY a DESC, k "
	    "LIMIT 7",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		for (j = 0; j < sizeof(shapes) / sizeof(shapes[0]); j++) {
			char fast[512], slow[512], *a, *b;

			snprintf(fast, sizeof(fast), shapes[j], "", filters[i]);
			snprintf(slow, sizeof(slow), shapes[j],
				 "k / 1 >= 0 AND ", filters[i]);
			a = run(fast);
			b = run(slow);
			if (strcmp(a, b) != 0)
				fail_msg("%s\ngot:\n%s\nrow by row:\n%s", fast,
					 a, b);
			free(a);
			free(b);
		}
	CHECK("SELECT count(*), min(k), max(k) FROM big.text WHERE c = 'zz'",
	      "8|17007|24007\n");
	CHECK("SELECT count(*) FROM big.text WHERE c IS NULL AND k > 9000",
	      "820\n");
	CHECK("SELECT count(*), count(a) FROM big.text WHERE k > 8191",
	      "17808|16760\n");
	CHECK("SELECT count(*) FROM big.text WHERE a > -100", "24470\n");
	CHECK("SELECT c, count(*) FROM big.text WHERE a > 5 GROUP BY c "
	      "ORDER BY c",
	      "a|946\nb|1323\nc|2024\nzz|2\nNULL|155\n");
}

static void
test_joins(void **state)
{
	(void)state;
	CHECK("SELECT p.name, c.country FROM people p JOIN cities c "
	      "ON p.city = c.city ORDER BY p.id",
	      "alice|fr\nbob|de\ncarol|fr\n");
	CHECK("SELECT p.id, c.country FROM people p LEFT JOIN cities c "
	      "ON p.city = c.city ORDER BY p.id",
	      "1|fr\n2|de\n3|fr\n4|NULL\n5|NULL\n");
	CHECK("SELECT city, name, country FROM people JOIN cities USING (city) "
	      "ORDER BY name",
	      "paris|alice|fr\nberlin|bob|de\n"
	      "paris|carol|fr\n");
	CHECK("SELECT count(*) FROM people CROSS JOIN cities", "15\n");
	CHECK("SELECT count(*) FROM people p, cities c WHERE p.city = c.city",
	      "3\n");
	CHECK("SELECT p.id, c.city FROM people p JOIN cities c "
	      "ON c.pop > p.id * 1000000 AND p.id >= 3 ORDER BY 1, 2",
	      "3|berlin\n3|madrid\n");
	CHECK("SELECT c.city, p.id FROM people p RIGHT JOIN cities c "
	      "ON p.city = c.city ORDER BY 1, 2",
	      "berlin|2\nmadrid|NULL\nparis|1\nparis|3\n");
	CHECK("SELECT c.country, count(*), sum(p.score) FROM people p "
	      "JOIN cities c ON p.city = c.city GROUP BY c.country ORDER BY 1",
	      "de|1|NULL\nfr|2|17.75\n");
	CHECK("SELECT p.id FROM people p LEFT JOIN cities c ON p.city = c.city "
	      "AND c.pop > 3000000 WHERE c.city IS NULL ORDER BY 1",
	      "1\n3\n4\n5\n");
	CHECK("SELECT count(*) FROM big.nums a JOIN big.nums b ON a.k = b.k "
	      "WHERE a.v < 10",
	      "200\n");
	CHECK("SELECT a.g, count(*) FROM big.nums a JOIN (SELECT DISTINCT g "
	      "FROM big.nums) b ON a.g = b.g GROUP BY a.g ORDER BY 1 LIMIT 1",
	      "g0|2858\n");
}

static void
test_sets_subqueries(void **state)
{
	(void)state;
	CHECK("SELECT DISTINCT city FROM people ORDER BY city",
	      "berlin\nparis\nrome\nNULL\n");
	CHECK("SELECT city FROM people UNION SELECT city FROM cities "
	      "ORDER BY 1",
	      "berlin\nmadrid\nparis\nrome\nNULL\n");
	CHECK("SELECT 1 UNION ALL SELECT 1 UNION ALL SELECT 2", "1\n1\n2\n");
	CHECK("SELECT 1 AS x UNION SELECT 2.5 ORDER BY x DESC", "2.5\n1\n");
	CHECK("WITH p AS (SELECT id, score FROM people WHERE score > 5), "
	      "q AS (SELECT count(*) AS n FROM p) SELECT n FROM q",
	      "3\n");
	CHECK("SELECT s.c FROM (SELECT city AS c, count(*) AS n FROM people "
	      "GROUP BY city) s WHERE s.n = 2",
	      "paris\n");
	CHECK("SELECT x FROM (SELECT 1 AS x) t(x)", "1\n");
	CHECK(
	    "SELECT * FROM (SELECT id FROM people ORDER BY id DESC LIMIT 2) t "
	    "ORDER BY id",
	    "4\n5\n");
}

static void
test_explain(void **state)
{
	char *s;

	(void)state;
	s = run("EXPLAIN SELECT city, count(*) FROM people WHERE id > 1 "
		"GROUP BY city");
	assert_non_null(strstr(s, "Scan sales.people"));
	assert_non_null(strstr(s, "partial aggregate"));
	assert_non_null(strstr(s, "Final Aggregate"));
	free(s);
	s = run("EXPLAIN SELECT * FROM big.nums ORDER BY v DESC LIMIT 5");
	assert_non_null(strstr(s, "top-N"));
	free(s);
}

static void
test_errors(void **state)
{
	(void)state;
	CHECK_ERR("SELECT FROM WHERE", 13, "syntax error");
	CHECK_ERR("SELECT nme FROM people", 8, "did you mean \"name\"");
	CHECK_ERR("SELECT name FROM peopel", 18, "did you mean");
	CHECK_ERR("SELECT 'abc' + 1", 8,
		  "invalid input syntax for type "
		  "integer");
	CHECK_ERR("SELECT id / 0 FROM people", 0, "division by zero");
	CHECK_ERR("SELECT rank() OVER () FROM people", 8,
		  "unsupported at character 8: window functions");
	CHECK_ERR("SELECT id FROM people p, cities c, hr.staff h", 8,
		  "ambiguous");
	CHECK_ERR("SELECT name, count(*) FROM people", 8, "GROUP BY");
	CHECK_ERR("SELECT id FROM people WHERE count(*) > 1", 29,
		  "not allowed in WHERE");
	CHECK_ERR("SELECT id FROM people WHERE id", 29, "boolean");
	CHECK_ERR("INSERT INTO people VALUES (1)", 1, "unsupported");
	CHECK_ERR("SELECT 1 INTERSECT SELECT 1", 0, "INTERSECT");
	CHECK_ERR("SELECT x.id FROM people", 8, "missing FROM-clause");
	CHECK_ERR("SELECT 1 UNION SELECT 1, 2", 0, "same number of columns");
	CHECK_ERR("SELECT id FROM people ORDER BY 9", 32, "not in select list");
	CHECK_ERR("SELECT 2147483647 + 1", 0, "out of range");
}

/* A product dropped while a query reads it: the snapshot still sees it. */
static void
test_dropped(void **state)
{
	fx_t *f = *state;
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};
	const weft_batch_t *b;
	uint64_t rows = 0;
	int rc;

	publish(f, "tmp.doomed", "a\n1\n2\n3\n");
	assert_int_equal(weft_snapshot_begin(f->st, &s, &err), 0);
	assert_int_equal(
	    weft_query_prepare(s, "SELECT a FROM tmp.doomed", &q, &err), 0);
	assert_int_equal(
	    weft_product_drop(f->st, "tmp.doomed", &f->id.signer, &err), 0);
	while ((rc = weft_query_next(q, &b, &err)) == 1)
		rows += b->n;
	assert_int_equal(rc, 0);
	assert_int_equal(rows, 3);
	weft_query_free(q);
	weft_snapshot_end(s);
	CHECK_ERR("SELECT a FROM tmp.doomed", 15, "does not exist");
}

/* Rows of a fragment run standalone, as text. */
static char *
frag_rows(weft_snapshot_t *s, const wq_frag_t *fr)
{
	wq_exec_t x = {.snap = s};
	wq_op_t *op = NULL;
	weft_err_t err = {0};
	weft_batch_t *b;
	char *out = NULL, buf[256];
	size_t olen = 0;
	FILE *f = open_memstream(&out, &olen);
	uint32_t r, c;
	int rc;

	assert_int_equal(wq_frag_open(&x, fr, &op, &err), 0);
	while ((rc = wq_op_next(op, &b, &err)) == 1)
		for (r = 0; r < b->n; r++) {
			for (c = 0; c < b->ncols; c++) {
				if (b->cols[c].nulls[r])
					fputs("NULL", f);
				else {
					weft_value_format(b->cols[c].type,
							  &b->cols[c], r, buf,
							  sizeof(buf));
					fputs(buf, f);
				}
				fputc('|', f);
			}
			fputc('\n', f);
		}
	assert_int_equal(rc, 0);
	wq_op_free(op);
	fclose(f);
	return out;
}

static void
test_fragments_roundtrip(void **state)
{
	static const char *const qs[] = {
	    "SELECT * FROM big.nums",				  /* plain */
	    "SELECT k FROM big.nums WHERE v > 990 AND g = 'g3'",  /* filter */
	    "SELECT k * 2, upper(g) FROM big.nums WHERE k < 100", /* project */
	    "SELECT g, count(*), sum(v), avg(v), min(t), max(k) "
	    "FROM big.nums WHERE k % 3 = 0 GROUP BY g", /* partial agg */
	    "SELECT count(*) FROM big.nums",		/* no keys */
	    "SELECT k FROM big.nums LIMIT 17",		/* limit */
	    "SELECT k, v FROM big.nums ORDER BY v DESC, k LIMIT 5", /* top-N */
	    "SELECT id, score FROM people WHERE score IS NOT NULL "
	    "ORDER BY score NULLS FIRST LIMIT 3",
	};
	fx_t *f = *state;
	size_t i;

	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		weft_snapshot_t *s = NULL;
		weft_query_t *q = NULL;
		weft_err_t err = {0};
		wq_frag_t *frs[4], *back = NULL;
		uint8_t *buf = NULL, *buf2 = NULL;
		size_t len, len2, n;
		char *a, *b;

		assert_int_equal(weft_snapshot_begin(f->st, &s, &err), 0);
		if (weft_query_prepare(s, qs[i], &q, &err) != 0)
			fail_msg("%s: %s", qs[i], err.msg);
		n = wq_query_frags(q, frs, 4);
		assert_int_equal(n, 1);
		assert_int_equal(wq_frag_encode(frs[0], &buf, &len, &err), 0);
		if (wq_frag_decode(buf, len, &back, &err) != 0)
			fail_msg("%s: decode: %s", qs[i], err.msg);
		/* re-encoding gives the same bytes */
		assert_int_equal(wq_frag_encode(back, &buf2, &len2, &err), 0);
		assert_int_equal(len, len2);
		assert_memory_equal(buf, buf2, len);
		a = frag_rows(s, frs[0]);
		b = frag_rows(s, back);
		assert_true(strlen(a) > 0);
		if (strcmp(a, b) != 0)
			fail_msg("%s: fragment results differ", qs[i]);
		free(a);
		free(b);
		free(buf);
		free(buf2);
		wq_frag_free(back);
		weft_query_free(q);
		weft_snapshot_end(s);
	}
	/* hostile bytes are refused, not trusted */
	{
		static const uint8_t junk[] = {0x0a, 0x03, 'a',	 '.', 'b',
					       0x22, 0x02, 0x08, 0x05};
		wq_frag_t *back = NULL;
		weft_err_t err = {0};

		assert_int_not_equal(
		    wq_frag_decode(junk, sizeof(junk), &back, &err), 0);
		assert_null(back);
	}
}

static void
test_bare_names(void **state)
{
	(void)state;
	/* "twin" exists in two domains: the bare name is ambiguous */
	CHECK_ERR("SELECT * FROM twin", 15, "ambiguous");
	CHECK("SELECT t.a FROM hr.twin t", "2\n");
	CHECK("SELECT h.dept FROM people p JOIN hr.staff h "
	      "ON p.id = h.id ORDER BY 1",
	      "x\ny\n");
	CHECK_ERR("SELECT * FROM other.sales.people", 15, "does not exist");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_select_basic),
	    cmocka_unit_test(test_nulls),
	    cmocka_unit_test(test_aggregates),
	    cmocka_unit_test(test_order_limit),
	    cmocka_unit_test(test_topn_consistent),
	    cmocka_unit_test(test_chunk_filters),
	    cmocka_unit_test(test_joins),
	    cmocka_unit_test(test_sets_subqueries),
	    cmocka_unit_test(test_explain),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_fragments_roundtrip),
	    cmocka_unit_test(test_bare_names),
	    cmocka_unit_test(test_dropped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
