/*
 * test_serve.c: the owner's side of a remote scan (query/serve.h) over
 * serve_fixture.h's store: the asker's org must see the product (own
 * org, listed, public) and is otherwise told "not found", exactly as for
 * a product that does not exist; the fragment must read the product the
 * request names; a version other than the current one is stale; batches
 * are cut to the size limit and carry every row once; a row larger than
 * the limit is an error, not a hang.
 *
 * Run with WEFT_FRAGREQ_SEEDS=DIR, it also writes the seeds of
 * fuzz_fragreq (tests/fuzz/seeds/fuzz_fragreq/) there: a request (the
 * choices byte of serve_fixture.h, then the fragment) for each fragment
 * of the queries in seed_queries[].
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuzz/serve_fixture.h"
#include "query/bwire.h"
#include "query/qint.h"
#include "query/query.h"
#include "query/serve.h"

/* The encoded fragment i of sql (malloc'd), and its product. */
static uint8_t *
frag_of(const char *sql, size_t i, size_t *len, char *product, size_t cap)
{
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};
	wq_frag_t *frs[8];
	uint8_t *buf = NULL;

	assert_int_equal(weft_snapshot_begin(fz_st, &s, &err), 0);
	if (weft_query_prepare(s, sql, &q, &err) != 0)
		fail_msg("%s: %s", sql, err.msg);
	if (wq_query_frags(q, frs, 8) > i) {
		assert_int_equal(wq_frag_encode(frs[i], &buf, len, &err), 0);
		snprintf(product, cap, "%s", frs[i]->product);
	}
	weft_query_free(q);
	weft_snapshot_end(s);
	return buf;
}

/*
 * Open sql's first fragment for product (NULL: its own), version, org,
 * batches of at most max bytes, and drain it: the return code of the
 * open, or of the first failing next; *rows and *batches what came. err
 * must contain want when not NULL.
 */
static int
serve(const char *sql, const char *product, uint64_t version, const char *org,
      size_t max, uint64_t *rows, uint64_t *batches, const char *want)
{
	/* no policies: this node's key is none that signed one */
	static const uint8_t no_key[WEFT_PK_BYTES];
	weft_asker_t who = {.self = no_key};
	weft_snapshot_t *s = NULL;
	weft_fragrun_t *r = NULL;
	weft_err_t err = {0};
	char own[128];
	size_t len;
	uint8_t *frag = frag_of(sql, 0, &len, own, sizeof(own));
	uint8_t *buf;
	size_t blen;
	uint32_t n;
	int rc;

	assert_non_null(frag);
	*rows = *batches = 0;
	assert_int_equal(weft_snapshot_begin(fz_st, &s, &err), 0);
	who.who.org = org;
	rc = weft_fragrun_open(s, product ? product : own, version, &who, frag,
			       len, max, &r, &err);
	if (rc == 0 && version != 0)
		assert_int_equal(weft_fragrun_version(r), version);
	while (rc == 0 &&
	       (rc = weft_fragrun_next(r, &buf, &blen, &n, &err)) == 1) {
		assert_true(blen <= max);
		(*batches)++;
		*rows += n;
		free(buf);
		rc = 0;
	}
	if (rc != 0 && want == NULL)
		fail_msg("%s: %s", sql, err.msg);
	if (want != NULL && strstr(err.msg, want) == NULL)
		fail_msg("%s: \"%s\", expected \"%s\"", sql, err.msg, want);
	weft_fragrun_free(r);
	weft_snapshot_end(s);
	free(frag);
	return rc;
}

static void
test_visibility(void **state)
{
	uint64_t rows, nb;

	(void)state;
	/* sales.t is public */
	assert_int_equal(serve("SELECT * FROM sales.t", NULL, 0, "initech",
			       1 << 20, &rows, &nb, NULL),
			 0);
	assert_int_equal(rows, 3);
	/* geo.u is listed for globex: acme (its own) and globex see it */
	assert_int_equal(serve("SELECT * FROM geo.u", NULL, 0, "acme", 1 << 20,
			       &rows, &nb, NULL),
			 0);
	assert_int_equal(rows, 2);
	assert_int_equal(serve("SELECT * FROM geo.u", NULL, 0, "globex",
			       1 << 20, &rows, &nb, NULL),
			 0);
	assert_int_equal(serve("SELECT * FROM geo.u", NULL, 0, "initech",
			       1 << 20, &rows, &nb,
			       "no product geo.u here for org initech"),
			 WEFT_ENOTFOUND);
	/* hr.t is acme's only; an asker without an org sees nothing */
	assert_int_equal(serve("SELECT * FROM hr.t", NULL, 0, "globex", 1 << 20,
			       &rows, &nb,
			       "no product hr.t here for org globex"),
			 WEFT_ENOTFOUND);
	assert_int_equal(serve("SELECT * FROM hr.t", NULL, 0, NULL, 1 << 20,
			       &rows, &nb, "no product hr.t here for org ?"),
			 WEFT_ENOTFOUND);
	assert_int_equal(serve("SELECT * FROM hr.t", NULL, 1, "acme", 1 << 20,
			       &rows, &nb, NULL),
			 0);
}

/* The request's product and version are checked against the fragment
 * and the store. */
static void
test_product_and_version(void **state)
{
	uint64_t rows, nb;

	(void)state;
	assert_int_equal(serve("SELECT a FROM sales.t", "geo.u", 0, "acme",
			       1 << 20, &rows, &nb,
			       "fragment: reads sales.t, the request names "
			       "geo.u"),
			 WEFT_EINVAL);
	/* no product named: refused before the fragment is looked at */
	assert_int_equal(serve("SELECT a FROM sales.t", "", 0, "acme", 1 << 20,
			       &rows, &nb,
			       "no product (none) here for org acme"),
			 WEFT_ENOTFOUND);
	assert_int_equal(serve("SELECT a FROM sales.t", NULL, 2, "acme",
			       1 << 20, &rows, &nb, NULL),
			 0);
	assert_int_equal(serve("SELECT a FROM sales.t", NULL, 1, "acme",
			       1 << 20, &rows, &nb,
			       "sales.t is at version 2, not 1"),
			 WEFT_ESTALE);
}

/* Batches are cut to the limit, every row sent once; a row that cannot
 * fit is an error. */
static void
test_batch_limit(void **state)
{
	uint64_t rows, nb;

	(void)state;
	assert_int_equal(serve("SELECT * FROM sales.t", NULL, 0, "acme",
			       1 << 20, &rows, &nb, NULL),
			 0);
	assert_int_equal(nb, 1);
	assert_int_equal(rows, 3);
	assert_int_equal(serve("SELECT * FROM sales.t", NULL, 0, "acme", 110,
			       &rows, &nb, NULL),
			 0);
	assert_true(nb > 1);
	assert_int_equal(rows, 3);
	assert_int_equal(serve("SELECT * FROM sales.t", NULL, 0, "acme", 20,
			       &rows, &nb, "larger than a message (20)"),
			 WEFT_ETOOBIG);
}

/* Queries whose fragments seed fuzz_fragreq: every fragment form. */
static const char *const seed_queries[] = {
    "SELECT * FROM sales.t",
    "SELECT a, b FROM sales.t WHERE a > 1 AND b = 'x'",
    "SELECT b, count(*), sum(a), avg(c), min(e), max(b) FROM sales.t "
    "GROUP BY b",
    "SELECT a, c FROM sales.t ORDER BY c DESC NULLS LAST, a LIMIT 2",
    "SELECT upper(b) || '!', c::numeric(10,2) FROM sales.t WHERE d",
    "SELECT u.f, count(*) FROM sales.t t JOIN geo.u u ON t.a = u.a "
    "GROUP BY u.f",
    "SELECT z % 3 FROM hr.t",
};

static unsigned
product_index(const char *name)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		if (fz_req_products[i] && strcmp(fz_req_products[i], name) == 0)
			return i;
	fail_msg("no product %s in serve_fixture.h", name);
	return 0;
}

/* The seed requests, written to WEFT_FRAGREQ_SEEDS. */
static void
test_seed_requests(void **state)
{
	const char *dir = getenv("WEFT_FRAGREQ_SEEDS");
	size_t q, i;

	(void)state;
	for (q = 0; q < sizeof(seed_queries) / sizeof(seed_queries[0]); q++)
		for (i = 0;; i++) {
			char product[128], path[512];
			size_t len;
			uint8_t *frag = frag_of(seed_queries[q], i, &len,
						product, sizeof(product));
			uint8_t c;
			FILE *f;

			if (frag == NULL)
				break;
			c = fz_req_byte(product_index(product), FZ_REQ_CURRENT,
					0, 1);
			if (dir != NULL) {
				snprintf(path, sizeof(path), "%s/q%02zu.%zu",
					 dir, q + 1, i);
				f = fopen(path, "wb");
				assert_non_null(f);
				assert_int_equal(fwrite(&c, 1, 1, f), 1);
				assert_int_equal(fwrite(frag, 1, len, f), len);
				assert_int_equal(fclose(f), 0);
			}
			free(frag);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_visibility),
	    cmocka_unit_test(test_product_and_version),
	    cmocka_unit_test(test_batch_limit),
	    cmocka_unit_test(test_seed_requests),
	};

	fz_serve_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
