/*
 * test_subplan.c: pushed-down subtrees as an owner receives them
 * (query/subplan.c, query/serve.h) over serve_fixture.h's store. Plans
 * are built here step by step, as a hostile asker could:
 *  - a join of two products runs at the owner and gives the rows the
 *    same join gives as a local query;
 *  - every product a plan reads is checked: one the asker's org may not
 *    see is "not found" even when the first is public; a stale version
 *    of any of them is refused;
 *  - malformed plans are refused with a reason: inputs out of order,
 *    read twice or never, keyless joins, join keys of different types,
 *    non-boolean conditions, sort keys out of range, UNION ALL of
 *    different shapes, too many steps, unknown kinds, a plan inside a
 *    scan;
 *  - a plan whose joins multiply rows stops at the owner's cap on rows
 *    held, with an error, instead of growing without bound.
 *
 * Run with WEFT_FRAGREQ_SEEDS=DIR, it also writes the good plans there
 * as fuzz_fragreq seeds (tests/fuzz/seeds/fuzz_fragreq/).
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
#include "query/fragpb.h"
#include "query/qint.h"
#include "query/query.h"
#include "query/serve.h"

/* ---- building plans ---- */

#define MAXSTEPS 80

typedef struct plan {
	Weft__PlanStep st[MAXSTEPS];
	Weft__PlanStep *sp[MAXSTEPS];
	uint32_t in[MAXSTEPS][2];
	Weft__Expr *ex[MAXSTEPS][2]; /* per step: key or condition */
	Weft__Expr *ex2[MAXSTEPS][1];
	Weft__SortKey sk[MAXSTEPS], *skp[MAXSTEPS];
	weft_expr_t *owned[4 * MAXSTEPS];
	uint32_t n, nowned;
	const char *product;
} plan_t;

/* The encoded one-scan fragment of `SELECT * FROM name` (malloc'd). */
static uint8_t *
scan_bytes(const char *name, size_t *len)
{
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};
	wq_frag_t *f = NULL;
	uint8_t *buf = NULL;
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT * FROM %s", name);
	assert_int_equal(weft_snapshot_begin(fz_st, &s, &err), 0);
	if (weft_query_prepare(s, sql, &q, &err) != 0)
		fail_msg("%s: %s", sql, err.msg);
	assert_int_equal(wq_query_frags(q, &f, 1), 1);
	assert_int_equal(wq_frag_encode(f, &buf, len, &err), 0);
	weft_query_free(q);
	weft_snapshot_end(s);
	return buf;
}

static uint64_t
version_of(const char *name)
{
	weft_snapshot_t *s = NULL;
	weft_product_info_t pi = {0};
	weft_err_t err = {0};
	uint64_t sid, v;
	uint32_t nch;

	assert_int_equal(weft_snapshot_begin(fz_st, &s, &err), 0);
	assert_int_equal(weft_snapshot_product(s, name, &pi, &sid, &nch, &err),
			 0);
	v = pi.version;
	weft_product_info_clear(&pi);
	weft_snapshot_end(s);
	return v;
}

static Weft__PlanStep *
step(plan_t *p, uint32_t kind, int in0, int in1)
{
	Weft__PlanStep *st = &p->st[p->n];

	assert_true(p->n < MAXSTEPS);
	weft__plan_step__init(st);
	st->kind = kind;
	st->limit = -1;
	st->rows = 10;
	if (in0 >= 0)
		p->in[p->n][st->n_inputs++] = (uint32_t)in0;
	if (in1 >= 0)
		p->in[p->n][st->n_inputs++] = (uint32_t)in1;
	st->inputs = p->in[p->n];
	p->sp[p->n] = st;
	p->n++;
	return st;
}

static int
scan(plan_t *p, const char *name)
{
	Weft__PlanStep *st = step(p, 1, -1, -1);

	st->scan.data = scan_bytes(name, &st->scan.len);
	st->version = version_of(name);
	if (p->product == NULL)
		p->product = name;
	return (int)p->n - 1;
}

static Weft__Expr *
pb(plan_t *p, weft_expr_t *e)
{
	Weft__Expr *x;

	assert_non_null(e);
	p->owned[p->nowned++] = e;
	x = wq_pb_expr(e);
	assert_non_null(x);
	return x;
}

static Weft__Expr *
col(plan_t *p, uint32_t c, weft_sqltype_t t)
{
	return pb(p, weft_expr_col(c, t, -1));
}

static Weft__Expr *
int_const(plan_t *p, int64_t v)
{
	weft_value_t val = {.type = WEFT_S_INT64};

	val.u.i = v;
	return pb(p, weft_expr_const(&val, -1));
}

/* A join of steps l and r on lk (over l) = rk (over r). */
static int
join(plan_t *p, int l, int r, Weft__Expr *lk, Weft__Expr *rk, int type)
{
	Weft__PlanStep *st = step(p, 5, l, r);
	uint32_t i = p->n - 1;

	st->join_type = (uint32_t)type;
	p->ex[i][0] = lk;
	p->ex[i][1] = rk;
	st->lkeys = &p->ex[i][0];
	st->rkeys = &p->ex[i][1];
	st->n_lkeys = lk != NULL;
	st->n_rkeys = rk != NULL;
	return (int)i;
}

static uint8_t *
encode(plan_t *p, size_t *len)
{
	Weft__Fragment m = WEFT__FRAGMENT__INIT;
	uint8_t *buf;

	m.product = (char *)p->product;
	m.limit = -1;
	m.n_plan = p->n;
	m.plan = p->sp;
	*len = weft__fragment__get_packed_size(&m);
	buf = malloc(*len);
	assert_non_null(buf);
	weft__fragment__pack(&m, buf);
	return buf;
}

static void
plan_free(plan_t *p)
{
	uint32_t i;

	for (i = 0; i < p->n; i++) {
		free(p->st[i].scan.data);
		wq_pb_expr_free(p->ex[i][0]);
		wq_pb_expr_free(p->ex[i][1]);
		wq_pb_expr_free(p->ex2[i][0]);
	}
	for (i = 0; i < p->nowned; i++)
		weft_expr_free(p->owned[i]);
}

/* Open p for org, drain it: the return code; *rows what came; err must
 * contain want when not NULL. */
static int
run(plan_t *p, const char *org, uint64_t *rows, const char *want)
{
	/* no policies: this node's key is none that signed one */
	static const uint8_t no_key[WEFT_PK_BYTES];
	weft_asker_t who = {.self = no_key};
	weft_snapshot_t *s = NULL;
	weft_fragrun_t *r = NULL;
	weft_err_t err = {0};
	size_t len, blen;
	uint8_t *frag = encode(p, &len), *buf;
	uint32_t n;
	int rc;

	*rows = 0;
	assert_true(wq_frag_is_plan(frag, len));
	assert_int_equal(weft_snapshot_begin(fz_st, &s, &err), 0);
	who.who.org = org;
	rc = weft_fragrun_open(s, p->product, 0, &who, frag, len, 1 << 20, &r,
			       &err);
	while (rc == 0 &&
	       (rc = weft_fragrun_next(r, &buf, &blen, &n, &err)) == 1) {
		*rows += n;
		free(buf);
		rc = 0;
	}
	if (rc != 0 && want == NULL)
		fail_msg("plan: %s", err.msg);
	if (want != NULL && (rc == 0 || strstr(err.msg, want) == NULL))
		fail_msg("plan: \"%s\" (rc %d), expected \"%s\"", err.msg, rc,
			 want);
	weft_fragrun_free(r);
	weft_snapshot_end(s);
	free(frag);
	return rc;
}

/* Rows of a local query over the same store. */
static uint64_t
local_rows(const char *sql)
{
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	const weft_batch_t *b;
	weft_err_t err = {0};
	uint64_t n = 0;
	int rc;

	assert_int_equal(weft_snapshot_begin(fz_st, &s, &err), 0);
	if (weft_query_prepare(s, sql, &q, &err) != 0)
		fail_msg("%s: %s", sql, err.msg);
	while ((rc = weft_query_next(q, &b, &err)) == 1)
		n += b->n;
	assert_int_equal(rc, 0);
	weft_query_free(q);
	weft_snapshot_end(s);
	return n;
}

/* sales.t (a, b, c, d, e) joined with geo.u (a, f) on a. */
static void
two_scans(plan_t *p, const char *left, const char *right, int type)
{
	int l = scan(p, left), r = scan(p, right);

	join(p, l, r, col(p, 0, WEFT_S_INT64), col(p, 0, WEFT_S_INT64), type);
}

/* ---- tests ---- */

static void
test_join_runs_at_owner(void **state)
{
	plan_t p = {0};
	uint64_t rows;

	(void)state;
	two_scans(&p, "sales.t", "geo.u", WQ_JOIN_INNER);
	run(&p, "acme", &rows, NULL);
	assert_int_equal(rows, local_rows("SELECT * FROM sales.t t JOIN geo.u "
					  "u ON t.a = u.a"));
	assert_int_equal(rows, 1);
	plan_free(&p);
	memset(&p, 0, sizeof(p));
	two_scans(&p, "sales.t", "geo.u", WQ_JOIN_LEFT);
	run(&p, "globex", &rows, NULL);
	assert_int_equal(rows, local_rows("SELECT * FROM sales.t t LEFT JOIN "
					  "geo.u u ON t.a = u.a"));
	assert_int_equal(rows, 3);
	plan_free(&p);
}

static void
test_every_product_checked(void **state)
{
	plan_t p = {0};
	uint64_t rows;

	(void)state;
	/* sales.t is public, hr.t acme's only */
	two_scans(&p, "sales.t", "hr.t", WQ_JOIN_INNER);
	run(&p, "globex", &rows, "no product hr.t here for org globex");
	run(&p, "acme", &rows, NULL);
	/* geo.u is listed for globex only (and its own org) */
	plan_free(&p);
	memset(&p, 0, sizeof(p));
	two_scans(&p, "sales.t", "geo.u", WQ_JOIN_INNER);
	run(&p, "initech", &rows, "no product geo.u here for org initech");
	/* a stale version of the second product */
	p.st[1].version++;
	run(&p, "acme", &rows, "geo.u is at version");
	plan_free(&p);
}

static void
test_malformed(void **state)
{
	plan_t p = {0};
	uint64_t rows;
	int s0, s1, i;

	(void)state;
	/* a join without keys */
	s0 = scan(&p, "sales.t");
	s1 = scan(&p, "geo.u");
	join(&p, s0, s1, NULL, NULL, WQ_JOIN_INNER);
	run(&p, "acme", &rows, "a join needs equal keys");
	plan_free(&p);
	/* keys of different types: a (bigint) = f (text) */
	memset(&p, 0, sizeof(p));
	s0 = scan(&p, "sales.t");
	s1 = scan(&p, "geo.u");
	join(&p, s0, s1, col(&p, 0, WEFT_S_INT64), col(&p, 1, WEFT_S_TEXT),
	     WQ_JOIN_INNER);
	run(&p, "acme", &rows, "join keys of different types");
	/* a column reference of the wrong type */
	p.ex[2][1]->type = WEFT_S_INT64;
	run(&p, "acme", &rows, "bad column reference");
	plan_free(&p);
	/* an input read twice, an input not yet made, a step never read */
	memset(&p, 0, sizeof(p));
	s0 = scan(&p, "sales.t");
	join(&p, s0, s0, col(&p, 0, WEFT_S_INT64), col(&p, 0, WEFT_S_INT64),
	     WQ_JOIN_INNER);
	run(&p, "acme", &rows, "bad input");
	p.in[1][1] = 5;
	run(&p, "acme", &rows, "bad input");
	plan_free(&p);
	memset(&p, 0, sizeof(p));
	scan(&p, "sales.t");
	two_scans(&p, "sales.t", "geo.u", WQ_JOIN_INNER);
	run(&p, "acme", &rows, "not read by any later step");
	/* a filter whose condition is not boolean */
	step(&p, 2, 3, -1)->pred = col(&p, 0, WEFT_S_INT64);
	p.ex2[4][0] = p.st[4].pred;
	p.st[0].kind = 99;
	run(&p, "acme", &rows, "unknown kind");
	plan_free(&p);
	memset(&p, 0, sizeof(p));
	two_scans(&p, "sales.t", "geo.u", WQ_JOIN_INNER);
	step(&p, 2, 2, -1)->pred = col(&p, 0, WEFT_S_INT64);
	p.ex2[3][0] = p.st[3].pred;
	run(&p, "acme", &rows, "condition is not boolean");
	plan_free(&p);
	/* a sort key past the columns */
	memset(&p, 0, sizeof(p));
	two_scans(&p, "sales.t", "geo.u", WQ_JOIN_INNER);
	{
		Weft__PlanStep *st = step(&p, 6, 2, -1);

		weft__sort_key__init(&p.sk[0]);
		p.sk[0].col = 7;
		p.skp[0] = &p.sk[0];
		st->sort = p.skp;
		st->n_sort = 1;
	}
	run(&p, "acme", &rows, "bad sort key");
	p.sk[0].col = 6;
	run(&p, "acme", &rows, NULL);
	assert_int_equal(rows, 1);
	plan_free(&p);
	/* UNION ALL of sales.t and geo.u: different shapes */
	memset(&p, 0, sizeof(p));
	s0 = scan(&p, "sales.t");
	s1 = scan(&p, "geo.u");
	step(&p, 9, s0, s1);
	run(&p, "acme", &rows, "UNION ALL of different shapes");
	plan_free(&p);
	/* too many steps: 33 scans of sales.t in UNION ALL (65 steps) */
	memset(&p, 0, sizeof(p));
	s0 = scan(&p, "sales.t");
	for (i = 0; i < 32; i++)
		s0 = (int)(step(&p, 9, s0, scan(&p, "sales.t")) - p.st);
	assert_int_equal(p.n, 65);
	run(&p, "acme", &rows, "at most 64 steps");
	plan_free(&p);
	/* a scan whose fragment is itself a plan */
	memset(&p, 0, sizeof(p));
	two_scans(&p, "sales.t", "geo.u", WQ_JOIN_INNER);
	{
		plan_t inner = {0};
		size_t len;

		two_scans(&inner, "sales.t", "geo.u", WQ_JOIN_INNER);
		free(p.st[0].scan.data);
		p.st[0].scan.data = encode(&inner, &len);
		p.st[0].scan.len = len;
		plan_free(&inner);
	}
	run(&p, "acme", &rows, "fragment: bad shape");
	plan_free(&p);
}

/* Joins of geo.u (2 rows) with itself on a constant key double the rows
 * at each step (a projection keeps one column); with hostile row
 * estimates the growing side is always the one built: the owner stops
 * at its cap on rows held (WEFT_SERVE_HOLD_MIN, 2^20, for such small
 * products) with an error. */
static void
test_hold_cap(void **state)
{
	plan_t p = {0};
	uint64_t rows;
	int s, i;

	(void)state;
	s = scan(&p, "geo.u");
	for (i = 0; i < 20; i++) {
		int r = scan(&p, "geo.u"), j;
		Weft__PlanStep *st;

		p.st[s].rows = 0; /* "small": built */
		p.st[r].rows = 1e9;
		j = join(&p, s, r, int_const(&p, 1), int_const(&p, 1),
			 WQ_JOIN_INNER);
		st = step(&p, 3, j, -1);
		p.ex2[p.n - 1][0] = col(&p, 0, WEFT_S_INT64);
		st->exprs = p.ex2[p.n - 1];
		st->n_exprs = 1;
		s = (int)p.n - 1;
	}
	assert_true(p.n <= WQ_SUBPLAN_STEPS_MAX);
	run(&p, "acme", &rows, "holds more than");
	plan_free(&p);
}

/* The good plans above, as fuzz_fragreq seeds. */
static void
test_seeds(void **state)
{
	const char *dir = getenv("WEFT_FRAGREQ_SEEDS");
	const char *pairs[][2] = {{"sales.t", "geo.u"}, {"sales.t", "hr.t"}};
	size_t k;

	(void)state;
	for (k = 0; k < 2; k++) {
		plan_t p = {0};
		char path[512];
		size_t len;
		uint8_t *buf, c;
		FILE *f;

		two_scans(&p, pairs[k][0], pairs[k][1], (int)k);
		buf = encode(&p, &len);
		assert_true(wq_frag_is_plan(buf, len));
		c = fz_req_byte(0, FZ_REQ_ANY, 0, 1);
		if (dir != NULL) {
			snprintf(path, sizeof(path), "%s/plan.%zu", dir, k);
			f = fopen(path, "wb");
			assert_non_null(f);
			assert_int_equal(fwrite(&c, 1, 1, f), 1);
			assert_int_equal(fwrite(buf, 1, len, f), len);
			assert_int_equal(fclose(f), 0);
		}
		free(buf);
		plan_free(&p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_join_runs_at_owner),
	    cmocka_unit_test(test_every_product_checked),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_hold_cap),
	    cmocka_unit_test(test_seeds),
	};

	fz_serve_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
