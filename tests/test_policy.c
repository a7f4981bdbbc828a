/*
 * test_policy.c: product access policies (storage/policy.c).
 *
 * Reads the reference document of docs/policy.md field by field; feeds
 * documents with each class of mistake, each of which must fail with its
 * code and a message naming the line; binds policies against a product's
 * schema (unknown columns, masks that would never apply, types, row
 * predicates that do not parse or try to break out of their
 * parentheses); chooses grants for requesters; decodes hand-made hostile
 * bodies; and writes policies back as YAML that reads back the same.
 * LeakSanitizer checks that nothing leaks, also on every error path.
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

#include "lib/util.h"
#include "storage/policy.h"

/* The example of docs/policy.md. */
static const char example[] =
    "product: ops.flights\n"
    "grants:\n"
    "  - to: [globex]                 # org | org:role | node key\n"
    "    columns: [origin, destination, delay, distance]\n"
    "    mask: {destination: hash}\n"
    "    rows: \"distance > 100\"\n"
    "    aggregate:\n"
    "      min_group: 1000\n"
    "      functions: [count, sum, avg]\n"
    "    noise: {epsilon: 0.5, budget: 10, per: day, bounds: {delay: "
    "[-60, 600]}}\n"
    "    expires: 2027-06-30T00:00:00Z\n";

/* 2027-06-30T00:00:00Z */
#define EXAMPLE_EXPIRES (1814313600LL * 1000000)

static const char key_a[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static int
parse_str(const char *doc, Weft__Policy **p, weft_err_t *err)
{
	memset(err, 0, sizeof(*err));
	return weft_policy_parse((const uint8_t *)doc, strlen(doc), "p.yaml", p,
				 err);
}

/* doc must fail with code and a message containing want. */
static void
expect_error(const char *doc, size_t len, int code, const char *want)
{
	Weft__Policy *p = (Weft__Policy *)1;
	weft_err_t err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = weft_policy_parse((const uint8_t *)doc, len, "p.yaml", &p, &err);
	if (rc != code || strstr(err.msg, want) == NULL)
		fail_msg("document:\n%.*s\nwant %d \"%s\", got %d \"%s\"",
			 (int)(len > 400 ? 400 : len), doc, code, want, rc,
			 err.msg);
	assert_null(p);
}

static void
expect_error_str(const char *doc, int code, const char *want)
{
	expect_error(doc, strlen(doc), code, want);
}

/* A grant document "product: ops.flights / grants: / - to: [globex]"
 * followed by the lines in `rest` (each indented four spaces). */
static void
expect_grant_error(const char *rest, int code, const char *want)
{
	char doc[4096];

	snprintf(doc, sizeof(doc),
		 "product: ops.flights\ngrants:\n  - to: [globex]\n%s", rest);
	expect_error_str(doc, code, want);
}

static void
test_example(void **state)
{
	const Weft__PolicyGrant *g;
	Weft__Policy *p;
	weft_err_t err;

	(void)state;
	assert_int_equal(parse_str(example, &p, &err), 0);
	assert_string_equal(p->product, "ops.flights");
	assert_int_equal(p->n_grants, 1);
	g = p->grants[0];
	assert_int_equal(g->line, 3);
	assert_int_equal(g->n_to, 1);
	assert_string_equal(g->to[0], "globex");
	assert_int_equal(g->n_columns, 4);
	assert_string_equal(g->columns[0], "origin");
	assert_string_equal(g->columns[3], "distance");
	assert_int_equal(g->n_deny, 0);
	assert_int_equal(g->n_masks, 1);
	assert_string_equal(g->masks[0]->column, "destination");
	assert_string_equal(g->masks[0]->kind, "hash");
	assert_string_equal(g->masks[0]->unit, "");
	assert_string_equal(g->rows, "distance > 100");
	assert_non_null(g->aggregate);
	assert_int_equal(g->aggregate->min_group, 1000);
	assert_string_equal(g->aggregate->entity, "");
	assert_int_equal(g->aggregate->n_functions, 3);
	assert_string_equal(g->aggregate->functions[2], "avg");
	assert_non_null(g->noise);
	assert_true(g->noise->epsilon == 0.5);
	assert_true(g->noise->budget == 10);
	assert_string_equal(g->noise->per, "day");
	assert_int_equal(g->noise->n_bounds, 1);
	assert_string_equal(g->noise->bounds[0]->column, "delay");
	assert_true(g->noise->bounds[0]->lo == -60);
	assert_true(g->noise->bounds[0]->hi == 600);
	assert_true(g->expires_at == EXAMPLE_EXPIRES);
	weft__policy__free_unpacked(p, NULL);
}

/* The other forms: a scalar `to`, org:role and node keys, deny, every
 * mask, entity, no grants at all. */
static void
test_forms(void **state)
{
	static const char doc[] =
	    "# comment\n"
	    "product: ops.flights\n"
	    "grants:\n"
	    "  - to: globex\n"
	    "  - to:\n"
	    "      - globex:analyst\n"
	    "      - 00112233445566778899AABBCCDDEEFF00112233445566778899aab"
	    "bccddeeff\n"
	    "    deny: [date]\n"
	    "    mask: {origin: 'null', destination: redact, delay: round(-1),"
	    " distance: round(2), dep: truncate(month)}\n"
	    "    aggregate: {entity: passenger_id}\n"
	    "    expires: 2027-06-30T02:00:00.25+02:00\n";
	const Weft__PolicyGrant *g;
	Weft__Policy *p;
	weft_err_t err;

	(void)state;
	assert_int_equal(parse_str(doc, &p, &err), 0);
	assert_int_equal(p->n_grants, 2);
	assert_int_equal(p->grants[0]->line, 4);
	assert_int_equal(p->grants[0]->n_to, 1);
	assert_string_equal(p->grants[0]->to[0], "globex");
	assert_null(p->grants[0]->aggregate);
	assert_null(p->grants[0]->noise);
	g = p->grants[1];
	assert_int_equal(g->line, 5);
	assert_int_equal(g->n_to, 2);
	assert_string_equal(g->to[0], "globex:analyst");
	assert_int_equal(g->n_deny, 1);
	assert_int_equal(g->n_masks, 5);
	assert_string_equal(g->masks[0]->kind, "null");
	assert_string_equal(g->masks[1]->kind, "redact");
	assert_string_equal(g->masks[2]->kind, "round");
	assert_int_equal(g->masks[2]->digits, -1);
	assert_int_equal(g->masks[3]->digits, 2);
	assert_string_equal(g->masks[4]->kind, "truncate");
	assert_string_equal(g->masks[4]->unit, "month");
	assert_int_equal(g->aggregate->min_group, 0);
	assert_string_equal(g->aggregate->entity, "passenger_id");
	assert_int_equal(g->aggregate->n_functions, 0);
	assert_true(g->expires_at == EXAMPLE_EXPIRES + 250000);
	weft__policy__free_unpacked(p, NULL);

	assert_int_equal(
	    parse_str("product: ops.flights\ngrants: []\n", &p, &err), 0);
	assert_int_equal(p->n_grants, 0);
	weft__policy__free_unpacked(p, NULL);
}

static void
test_times(void **state)
{
	static const struct {
		const char *when;
		int64_t us; /* 0: refused */
	} cases[] = {
	    {"2027-06-30T00:00:00Z", EXAMPLE_EXPIRES},
	    {"2027-06-30t00:00:00z", EXAMPLE_EXPIRES},
	    {"\"2027-06-30 00:00:00Z\"", EXAMPLE_EXPIRES},
	    {"2027-06-29T19:30:00-04:30", EXAMPLE_EXPIRES},
	    {"2027-06-30T00:00:00.123456789Z", EXAMPLE_EXPIRES + 123456},
	    {"2028-02-29T00:00:00Z", 1835395200LL * 1000000},
	    {"1970-01-01T00:00:01Z", 1000000},
	    {"2027-02-29T00:00:00Z", 0},
	    {"2027-06-30", 0},
	    {"2027-06-30T00:00:00", 0},
	    {"2027-06-30T24:00:00Z", 0},
	    {"2027-06-30T00:00:00.Z", 0},
	    {"2027-06-30T00:00:00+2:00", 0},
	    {"2027-06-30T00:00:00+02:00x", 0},
	    {"1970-01-01T00:00:00Z", 0},
	    {"1969-12-31T23:59:59Z", 0},
	    {"9999-12-31T23:59:59-01:00", 0},
	    {"tomorrow", 0},
	};
	char doc[256];
	Weft__Policy *p;
	weft_err_t err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(doc, sizeof(doc),
			 "product: a.b\ngrants:\n  - to: x\n    expires: %s\n",
			 cases[i].when);
		if (cases[i].us == 0) {
			expect_error_str(doc, WEFT_ESCHEMA,
					 "p.yaml:4:14: expires: ");
			continue;
		}
		if (parse_str(doc, &p, &err) != 0)
			fail_msg("%s: %s", cases[i].when, err.msg);
		assert_true(p->grants[0]->expires_at == cases[i].us);
		weft__policy__free_unpacked(p, NULL);
	}
}

static void
test_yaml_errors(void **state)
{
	(void)state;
	expect_error_str("product: a.b\ngrants: [\n", WEFT_EPARSE, "p.yaml:3:");
	expect_error_str("product: a.b\ngrants: &g []\nx: *g\n", WEFT_EPARSE,
			 "p.yaml:3:4: YAML aliases are not supported");
	expect_error_str("product: a.b\nproduct: c.d\ngrants: []\n",
			 WEFT_EPARSE,
			 "p.yaml:2:1: duplicate key \"product\" in the policy");
	expect_grant_error("    rows: a\n    rows: b\n", WEFT_EPARSE,
			   "p.yaml:5:5: duplicate key \"rows\" in a grant");
	expect_error_str("product: a.b\ngrants: []\n---\nproduct: a.b\n",
			 WEFT_EPARSE,
			 "p.yaml:3:1: more than one YAML document");
	expect_error_str("product: !!str a.b\ngrants: []\n", WEFT_EPARSE,
			 "p.yaml:1:10: YAML tags are not supported");
	expect_error_str("", WEFT_ESCHEMA, "p.yaml: empty document");
	expect_error_str("- a\n", WEFT_ESCHEMA,
			 "p.yaml:1:1: the policy: expected a mapping");
	expect_error_str("product: a.b\n", WEFT_ESCHEMA,
			 "p.yaml:1:1: missing key \"grants\"");
	expect_error_str("grants: []\n", WEFT_ESCHEMA,
			 "missing key \"product\"");
	expect_error_str("product: Ops\ngrants: []\n", WEFT_ESCHEMA,
			 "p.yaml:1:10: ");
	expect_error_str("product: a.b\ngrants: {}\n", WEFT_ESCHEMA,
			 "p.yaml:2:9: grants: expected a list");
	expect_error_str("product: a.b\ngrants: []\nowner: x\n", WEFT_ESCHEMA,
			 "p.yaml:3:1: unknown key \"owner\" in the policy");
}

static void
test_grant_errors(void **state)
{
	(void)state;
	expect_grant_error("    colums: [a]\n", WEFT_ESCHEMA,
			   "p.yaml:4:5: unknown key \"colums\" in a grant "
			   "(known: to, columns, deny, mask, rows, aggregate, "
			   "noise, expires)");
	expect_error_str("product: a.b\ngrants:\n  - to: []\n", WEFT_ESCHEMA,
			 "p.yaml:3:9: to: names nobody");
	expect_error_str("product: a.b\ngrants:\n  - columns: [a]\n",
			 WEFT_ESCHEMA,
			 "p.yaml:3:5: grant 1: missing key \"to\"");
	expect_error_str("product: a.b\ngrants:\n  - to: [ok, Bad!]\n",
			 WEFT_ESCHEMA,
			 "p.yaml:3:14: to: \"Bad!\" is not an org, org:role "
			 "or node key");
	expect_error_str("product: a.b\ngrants:\n  - to: \"globex:\"\n",
			 WEFT_ESCHEMA, "p.yaml:3:9: to: \"globex:\"");
	expect_error_str("product: a.b\ngrants:\n  - to: [a, b, a]\n",
			 WEFT_ESCHEMA, "to: \"a\" is given twice");
	expect_grant_error("    columns: [a]\n    deny: [b]\n", WEFT_ESCHEMA,
			   "p.yaml:5:11: grant 1: columns and deny both");
	expect_grant_error("    columns: []\n", WEFT_ESCHEMA,
			   "p.yaml:4:14: columns: an empty list");
	expect_grant_error("    columns: [a, A]\n", WEFT_ESCHEMA,
			   "p.yaml:4:14: columns: \"A\" is given twice");
	expect_grant_error("    columns: a\n", WEFT_ESCHEMA,
			   "p.yaml:4:14: columns: expected a list");
	expect_grant_error("    mask: {a: scramble}\n", WEFT_ESCHEMA,
			   "p.yaml:4:15: mask of \"a\": \"scramble\" is not");
	expect_grant_error("    mask: {a: round(16)}\n", WEFT_ESCHEMA,
			   "p.yaml:4:15: mask of \"a\"");
	expect_grant_error("    mask: {a: round()}\n", WEFT_ESCHEMA,
			   "p.yaml:4:15: mask of \"a\"");
	expect_grant_error("    mask: {a: truncate(hour)}\n", WEFT_ESCHEMA,
			   "p.yaml:4:15: mask of \"a\"");
	expect_grant_error("    mask: {a: hash, A: null}\n", WEFT_ESCHEMA,
			   "p.yaml:4:21: mask: \"A\" is given twice");
	expect_grant_error("    mask: [a]\n", WEFT_ESCHEMA,
			   "p.yaml:4:11: mask: expected a mapping");
	expect_grant_error("    rows: [a]\n", WEFT_ESCHEMA,
			   "p.yaml:4:11: rows: expected a string");
	expect_grant_error("    rows: \"a\\x01\"\n", WEFT_ESCHEMA,
			   "p.yaml:4:11: rows: a control character");
	expect_grant_error("    aggregate: {}\n", WEFT_ESCHEMA,
			   "p.yaml:4:16: aggregate: give min_group");
	expect_grant_error("    aggregate: {min_group: 0}\n", WEFT_ESCHEMA,
			   "p.yaml:4:28: aggregate: min_group must be");
	expect_grant_error("    aggregate: {min_group: -1}\n", WEFT_ESCHEMA,
			   "p.yaml:4:28: aggregate: min_group must be");
	expect_grant_error(
	    "    aggregate: {min_group: 5, functions: [median]}\n",
	    WEFT_ESCHEMA,
	    "p.yaml:4:43: aggregate: functions: \"median\" is "
	    "not an aggregate weft has");
	expect_grant_error("    aggregate: {entity: a, functions: []}\n",
			   WEFT_ESCHEMA,
			   "p.yaml:4:39: aggregate: functions: an empty list");
	expect_grant_error("    aggregate: {entity: a, group: 3}\n",
			   WEFT_ESCHEMA,
			   "p.yaml:4:28: unknown key \"group\" in aggregate");
	expect_grant_error("    noise: {epsilon: 0, budget: 1, per: day}\n",
			   WEFT_ESCHEMA,
			   "p.yaml:4:12: noise: epsilon must be a number "
			   "above 0");
	expect_grant_error("    noise: {epsilon: 2, budget: 1, per: day}\n",
			   WEFT_ESCHEMA, "p.yaml:4:12: noise: budget must be");
	expect_grant_error("    noise: {epsilon: .inf, budget: 1, per: day}\n",
			   WEFT_ESCHEMA,
			   "p.yaml:4:22: noise: epsilon: \".inf\" is not a "
			   "number");
	expect_grant_error("    noise: {epsilon: 1, budget: 1, per: hour}\n",
			   WEFT_ESCHEMA, "p.yaml:4:12: noise: per must be");
	expect_grant_error("    noise: {epsilon: 1, budget: 1}\n", WEFT_ESCHEMA,
			   "p.yaml:4:12: noise: missing key \"per\"");
	expect_grant_error("    noise: {epsilon: 1, budget: 1, per: day, "
			   "bounds: {a: [5, 1]}}\n",
			   WEFT_ESCHEMA,
			   "p.yaml:4:58: noise: bounds of \"a\": lo must be");
	expect_grant_error("    noise: {epsilon: 1, budget: 1, per: day, "
			   "bounds: {a: [5]}}\n",
			   WEFT_ESCHEMA,
			   "p.yaml:4:58: noise: bounds of \"a\": expected");
	expect_grant_error(
	    "    expires: [2027]\n", WEFT_ESCHEMA,
	    "p.yaml:4:14: expires: \"[...]\" is not an RFC 3339");
}

static void
test_limits(void **state)
{
	size_t cap = WEFT_POLICY_YAML_MAX + 64, n, i;
	char *buf = malloc(cap);

	(void)state;
	assert_non_null(buf);
	/* 65 grants */
	n = (size_t)sprintf(buf, "product: a.b\ngrants:\n");
	for (i = 0; i < WEFT_POLICY_GRANTS_MAX + 1; i++)
		n += (size_t)sprintf(buf + n, "  - to: o%zu\n", i);
	expect_error(buf, n, WEFT_ETOOBIG, "p.yaml:3:3: grants: 65, more");
	/* 65 requesters */
	n = (size_t)sprintf(buf, "product: a.b\ngrants:\n  - to: [");
	for (i = 0; i < WEFT_POLICY_TO_MAX + 1; i++)
		n += (size_t)sprintf(buf + n, "o%zu, ", i);
	n += (size_t)sprintf(buf + n, "]\n");
	expect_error(buf, n, WEFT_ETOOBIG, "p.yaml:3:9: to: 65 names, more");
	/* 1025 columns */
	n = (size_t)sprintf(buf, "product: a.b\ngrants:\n  - to: x\n"
				 "    deny: [");
	for (i = 0; i < WEFT_COLS_MAX + 1; i++)
		n += (size_t)sprintf(buf + n, "c%zu, ", i);
	n += (size_t)sprintf(buf + n, "]\n");
	expect_error(buf, n, WEFT_ETOOBIG, "p.yaml:4:11: deny: 1025 names");
	/* a row predicate over 4096 bytes */
	n = (size_t)sprintf(buf, "product: a.b\ngrants:\n  - to: x\n"
				 "    rows: \"");
	memset(buf + n, 'a', WEFT_POLICY_ROWS_MAX + 1);
	n += WEFT_POLICY_ROWS_MAX + 1;
	n += (size_t)sprintf(buf + n, "\"\n");
	expect_error(buf, n, WEFT_ETOOBIG, "p.yaml:4:11: rows: 4097 bytes");
	/* nesting */
	n = (size_t)sprintf(buf, "product: ");
	for (i = 0; i < 40; i++)
		buf[n++] = '[';
	for (i = 0; i < 40; i++)
		buf[n++] = ']';
	expect_error(buf, n, WEFT_ETOOBIG, "p.yaml:1:25: nested more than 16");
	/* nodes */
	n = (size_t)sprintf(buf, "x: [");
	for (i = 0; i < 70000; i++)
		n += (size_t)sprintf(buf + n, "a,");
	buf[n++] = ']';
	expect_error(buf, n, WEFT_ETOOBIG, "more than 65536 YAML nodes");
	/* size */
	memset(buf, ' ', WEFT_POLICY_YAML_MAX + 1);
	expect_error(buf, WEFT_POLICY_YAML_MAX + 1, WEFT_ETOOBIG,
		     "p.yaml: 262145 bytes, more than");
	free(buf);
}

/* ---- bind ----------------------------------------------------------- */

static void
make_info(weft_product_info_t *pi)
{
	static const struct {
		const char *name;
		weft_type_t type;
	} cols[] = {
	    {"Origin", WEFT_T_TEXT},	{"destination", WEFT_T_TEXT},
	    {"delay", WEFT_T_INT64},	{"distance", WEFT_T_FLOAT64},
	    {"date", WEFT_T_TIMESTAMP}, {"passenger_id", WEFT_T_TEXT},
	};
	size_t i;

	memset(pi, 0, sizeof(*pi));
	pi->name = strdup("ops.flights");
	pi->ncols = sizeof(cols) / sizeof(cols[0]);
	pi->cols = calloc(pi->ncols, sizeof(*pi->cols));
	assert_non_null(pi->name);
	assert_non_null(pi->cols);
	for (i = 0; i < pi->ncols; i++) {
		pi->cols[i].name = strdup(cols[i].name);
		assert_non_null(pi->cols[i].name);
		pi->cols[i].type = cols[i].type;
	}
}

/* Bind a one-grant document ("to: [globex]" then rest) against make_info's
 * product: code, and a message containing want (NULL: not checked). */
static void
expect_bind(const char *rest, int code, const char *want)
{
	weft_product_info_t pi;
	Weft__Policy *p;
	weft_err_t err;
	char doc[8192];
	int rc;

	snprintf(doc, sizeof(doc),
		 "product: ops.flights\ngrants:\n  - to: [other]\n"
		 "  - to: [globex]\n%s",
		 rest);
	if (parse_str(doc, &p, &err) != 0)
		fail_msg("%s: %s", doc, err.msg);
	make_info(&pi);
	memset(&err, 0, sizeof(err));
	rc = weft_policy_bind(p, &pi, "p.yaml", &err);
	if (rc != code || (want != NULL && strstr(err.msg, want) == NULL))
		fail_msg("%s\nwant %d \"%s\", got %d \"%s\"", doc, code,
			 want ? want : "", rc, err.msg);
	weft__policy__free_unpacked(p, NULL);
	weft_product_info_clear(&pi);
}

static void
test_bind(void **state)
{
	weft_product_info_t pi;
	Weft__Policy *p;
	weft_err_t err;

	(void)state;
	assert_int_equal(parse_str(example, &p, &err), 0);
	make_info(&pi);
	assert_int_equal(weft_policy_bind(p, &pi, "p.yaml", &err), 0);
	free(pi.name);
	pi.name = strdup("ops.other");
	assert_int_equal(weft_policy_bind(p, &pi, "p.yaml", &err), WEFT_EINVAL);
	assert_string_equal(err.msg, "p.yaml: the policy is about "
				     "\"ops.flights\", not \"ops.other\"");
	weft_product_info_clear(&pi);
	weft__policy__free_unpacked(p, NULL);

	/* columns: ASCII case ignored, both ways */
	expect_bind("    columns: [ORIGIN, Date]\n"
		    "    mask: {origin: hash, DATE: truncate(year)}\n",
		    0, NULL);
	expect_bind("    columns: [origin, nope]\n", WEFT_ESCHEMA,
		    "p.yaml:4: grant 2: columns: no column \"nope\" in "
		    "ops.flights");
	expect_bind("    deny: [nope]\n", WEFT_ESCHEMA,
		    "p.yaml:4: grant 2: deny: no column \"nope\"");
	expect_bind("    mask: {nope: hash}\n", WEFT_ESCHEMA,
		    "p.yaml:4: grant 2: a mask: no column \"nope\"");
	expect_bind("    deny: [destination]\n    mask: {destination: hash}\n",
		    WEFT_ESCHEMA,
		    "p.yaml:4: grant 2: column \"destination\" is denied, a "
		    "mask on it would never apply");
	expect_bind("    columns: [origin]\n    mask: {destination: hash}\n",
		    WEFT_ESCHEMA,
		    "column \"destination\" is not in columns, a mask on it");
	expect_bind("    mask: {delay: truncate(day)}\n", WEFT_ESCHEMA,
		    "p.yaml:4: grant 2: mask truncate(day) on \"delay\", a "
		    "int64: truncate is for timestamps");
	expect_bind("    mask: {origin: round(1)}\n", WEFT_ESCHEMA,
		    "mask round(1) on \"Origin\", a text: round is for "
		    "numbers");
	expect_bind("    mask: {delay: round(-1), distance: round(2), "
		    "passenger_id: redact, origin: 'null'}\n",
		    0, NULL);
	/* hash keeps the column's type: text and int64 only */
	expect_bind("    mask: {delay: hash, passenger_id: hash}\n", 0, NULL);
	expect_bind("    mask: {distance: hash}\n", WEFT_ESCHEMA,
		    "mask hash on \"distance\", a float64: hash is for text "
		    "and int64 columns");
	expect_bind("    mask: {date: hash}\n", WEFT_ESCHEMA,
		    "a timestamp: hash is for text");
	expect_bind("    aggregate: {entity: nope}\n", WEFT_ESCHEMA,
		    "aggregate: entity: no column \"nope\"");
	expect_bind("    noise: {epsilon: 1, budget: 2, per: week, bounds: "
		    "{origin: [0, 1]}}\n",
		    WEFT_ESCHEMA, "bounds on \"Origin\", a text");
	expect_bind("    deny: [delay]\n    noise: {epsilon: 1, budget: 2, "
		    "per: week, bounds: {delay: [0, 1]}}\n",
		    WEFT_ESCHEMA,
		    "column \"delay\" is denied, a bound on it would never");
}

static void
test_bind_rows(void **state)
{
	(void)state;
	expect_bind("    rows: \"distance > 100 AND origin IN ('A)', 'B')\"\n",
		    0, NULL);
	expect_bind("    rows: \"(delay < 0) OR (\\\"Origin\\\" = ')(')\"\n", 0,
		    NULL);
	expect_bind("    rows: \"distance >\"\n", WEFT_EINVAL,
		    "p.yaml:4: grant 2: rows: syntax error at the end of the "
		    "predicate");
	expect_bind("    rows: \"distance > > 1\"\n", WEFT_EINVAL,
		    "p.yaml:4: grant 2: rows: syntax error at or near \">\" "
		    "(character 12)");
	expect_bind("    rows: \"origin = 'x\"\n", WEFT_EINVAL,
		    "rows: unterminated quoted string");
	/* Breaking out of the parentheses the predicate is put in: refused
	 * by its tokens, though "SELECT 1 WHERE (1=1) OR (1=1)" parses. */
	expect_bind("    rows: \"1=1) OR (1=1\"\n", WEFT_EINVAL,
		    "rows: the \")\" at character 4 closes a parenthesis the "
		    "predicate did not open");
	expect_bind("    rows: \"true); DROP TABLE t; SELECT (1\"\n",
		    WEFT_EINVAL, "closes a parenthesis");
	expect_bind("    rows: \"true; DROP TABLE t\"\n", WEFT_EINVAL,
		    "rows: \";\" at character 5: a predicate is one "
		    "expression");
	expect_bind("    rows: \"delay > 0 -- )\"\n", WEFT_EINVAL,
		    "rows: no comments in a predicate (character 11)");
	expect_bind("    rows: \"delay > 0 /* x */\"\n", WEFT_EINVAL,
		    "no comments");
	expect_bind("    rows: \"((delay > 0)\"\n", WEFT_EINVAL,
		    "rows: 1 parenthesis left open");
	expect_bind("    rows: \"   \"\n", WEFT_EINVAL, "rows: syntax error");
}

/* ---- grants, allows, orgs ------------------------------------------- */

static void
test_grant_choice(void **state)
{
	static const char doc[] =
	    "product: ops.flights\n"
	    "grants:\n"
	    "  - to: [\"globex:analyst\"]\n"
	    "    expires: 2020-01-01T00:00:00Z\n"
	    "  - to: [00112233445566778899AABBCCDDEEFF00112233445566778899aab"
	    "bccddeeff]\n"
	    "  - to: globex\n"
	    "  - to: [initech, globex]\n"
	    "  - to: [\"initech:auditor\"]\n";
	static const char *const analyst[] = {"analyst"}, *const aud[] = {
							      "x", "auditor"};
	uint8_t pk[WEFT_PK_BYTES], other[WEFT_PK_BYTES] = {0};
	weft_requester_t r;
	int64_t before = 1500000000LL * 1000000, after = 1700000000LL * 1000000;
	Weft__Policy *p;
	weft_err_t err;

	(void)state;
	assert_int_equal(weft_unhex(key_a, pk, sizeof(pk)), 0);
	assert_int_equal(parse_str(doc, &p, &err), 0);
	/* org:role, while it lasts; then the org's own grant */
	r = (weft_requester_t){"globex", other, analyst, 1};
	assert_ptr_equal(weft_policy_grant(p, &r, before), p->grants[0]);
	assert_ptr_equal(weft_policy_grant(p, &r, after), p->grants[2]);
	/* expiry is exclusive: at expires_at the grant is over */
	assert_ptr_equal(weft_policy_grant(p, &r, p->grants[0]->expires_at),
			 p->grants[2]);
	assert_ptr_equal(weft_policy_grant(p, &r, p->grants[0]->expires_at - 1),
			 p->grants[0]);
	/* the node key (either case of hex), first match wins */
	r = (weft_requester_t){"globex", pk, NULL, 0};
	assert_ptr_equal(weft_policy_grant(p, &r, after), p->grants[1]);
	r = (weft_requester_t){"nobody", pk, NULL, 0};
	assert_ptr_equal(weft_policy_grant(p, &r, after), p->grants[1]);
	/* an org in a later grant; a role of another org does not count */
	r = (weft_requester_t){"initech", other, analyst, 1};
	assert_ptr_equal(weft_policy_grant(p, &r, after), p->grants[3]);
	r = (weft_requester_t){"initech", NULL, aud, 2};
	assert_ptr_equal(weft_policy_grant(p, &r, after), p->grants[3]);
	r = (weft_requester_t){"acme", other, aud, 2};
	assert_null(weft_policy_grant(p, &r, after));
	/* org names are compared exactly */
	r = (weft_requester_t){"Globex", other, NULL, 0};
	assert_null(weft_policy_grant(p, &r, after));
	r = (weft_requester_t){NULL, NULL, NULL, 0};
	assert_null(weft_policy_grant(p, &r, after));
	weft__policy__free_unpacked(p, NULL);
}

static void
test_allows(void **state)
{
	static const char doc[] = "product: ops.flights\n"
				  "grants:\n"
				  "  - to: a\n"
				  "    columns: [Origin, delay]\n"
				  "  - to: b\n"
				  "    deny: [DATE]\n"
				  "  - to: c\n";
	Weft__Policy *p;
	weft_err_t err;

	(void)state;
	assert_int_equal(parse_str(doc, &p, &err), 0);
	assert_true(weft_policy_allows(p->grants[0], "origin"));
	assert_true(weft_policy_allows(p->grants[0], "ORIGIN"));
	assert_true(weft_policy_allows(p->grants[0], "Delay"));
	assert_false(weft_policy_allows(p->grants[0], "date"));
	assert_false(weft_policy_allows(p->grants[0], "origin2"));
	assert_false(weft_policy_allows(p->grants[1], "date"));
	assert_false(weft_policy_allows(p->grants[1], "Date"));
	assert_true(weft_policy_allows(p->grants[1], "delay"));
	assert_true(weft_policy_allows(p->grants[2], "anything"));
	weft__policy__free_unpacked(p, NULL);
}

static void
test_orgs(void **state)
{
	static const char doc[] =
	    "product: ops.flights\n"
	    "grants:\n"
	    "  - to: [globex, \"initech:x\", acme]\n"
	    "  - to: [\"globex:analyst\", "
	    "00112233445566778899aabbccddeeff0011223344556"
	    "6778899aabbccddeeff]\n"
	    "  - to: [\"initech:y\"]\n";
	const char **orgs;
	Weft__Policy *p;
	weft_err_t err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str(doc, &p, &err), 0);
	assert_int_equal(weft_policy_orgs(p, &orgs, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(orgs[0], "acme");
	assert_string_equal(orgs[1], "globex");
	assert_string_equal(orgs[2], "initech");
	free(orgs);
	weft__policy__free_unpacked(p, NULL);

	assert_int_equal(parse_str("product: a.b\ngrants:\n  - to: [0011223344"
				   "5566778899aabbccddeeff00112233445566778899"
				   "aabbccddeeff]\n",
				   &p, &err),
			 0);
	assert_int_equal(weft_policy_orgs(p, &orgs, &n), 0);
	assert_int_equal(n, 0);
	assert_null(orgs);
	weft__policy__free_unpacked(p, NULL);
}

/* ---- decode ----------------------------------------------------------- */

/* Pack p, decode it: code, and a message containing want. */
static void
expect_decode(const Weft__Policy *p, int code, const char *want)
{
	size_t len = weft__policy__get_packed_size(p);
	uint8_t *buf = malloc(len + 1);
	Weft__Policy *back = (Weft__Policy *)1;
	weft_err_t err;
	int rc;

	assert_non_null(buf);
	weft__policy__pack(p, buf);
	memset(&err, 0, sizeof(err));
	rc = weft_policy_decode(buf, len, &back, &err);
	if (rc != code || (want != NULL && strstr(err.msg, want) == NULL))
		fail_msg("want %d \"%s\", got %d \"%s\"", code,
			 want ? want : "", rc, err.msg);
	if (rc == 0)
		weft__policy__free_unpacked(back, NULL);
	else
		assert_null(back);
	free(buf);
}

static void
test_decode(void **state)
{
	Weft__Policy p = WEFT__POLICY__INIT;
	Weft__PolicyGrant g = WEFT__POLICY_GRANT__INIT, *gs[65];
	Weft__PolicyMask m = WEFT__POLICY_MASK__INIT, *ms[1] = {&m};
	Weft__PolicyNoise z = WEFT__POLICY_NOISE__INIT;
	char *to[1] = {"globex"}, *bad[1], *cols[1];
	char *long_str = malloc(100001);
	uint8_t junk[] = {0x0a, 0x05, 'a', 'b'};
	uint8_t unknown[] = {0x0a, 0x03, 'a', '.', 'b', 0x18, 0x01};
	Weft__Policy *out = NULL;
	weft_err_t err;
	size_t i;

	(void)state;
	assert_non_null(long_str);
	p.product = "ops.flights";
	g.n_to = 1;
	g.to = to;
	gs[0] = &g;
	p.n_grants = 1;
	p.grants = gs;
	expect_decode(&p, 0, NULL);

	/* an over-long string: an org name, a row predicate */
	memset(long_str, 'a', 100000);
	long_str[100000] = '\0';
	bad[0] = long_str;
	g.to = bad;
	expect_decode(&p, WEFT_ESCHEMA, "policy: grant 1 (line 0): to: \"aaaa");
	g.to = to;
	long_str[WEFT_POLICY_ROWS_MAX + 1] = '\0';
	g.rows = long_str;
	expect_decode(&p, WEFT_ETOOBIG,
		      "policy: grant 1 (line 0): rows: 4097 bytes");
	g.rows = "";
	/* 65 grants */
	for (i = 0; i < 65; i++)
		gs[i] = &g;
	p.n_grants = 65;
	expect_decode(&p, WEFT_ETOOBIG, "policy: 65 grants, more than 64");
	p.n_grants = 1;
	/* masks: a bad kind, a unit without truncate, digits out of range */
	g.n_masks = 1;
	g.masks = ms;
	m.column = "a";
	m.kind = "scramble";
	expect_decode(&p, WEFT_ESCHEMA,
		      "mask on \"a\": \"scramble\" is not hash");
	m.kind = "hash";
	m.unit = "day";
	expect_decode(&p, WEFT_ESCHEMA, "a unit (day, month or year) goes");
	m.kind = "round";
	m.unit = "";
	m.digits = 16;
	expect_decode(&p, WEFT_ESCHEMA, "digits go with round only");
	m.digits = -15;
	expect_decode(&p, 0, NULL);
	g.n_masks = 0;
	/* a grant for nobody; columns and deny both; bad UTF-8 */
	g.n_to = 0;
	expect_decode(&p, WEFT_ESCHEMA, "to: names nobody");
	g.n_to = 1;
	cols[0] = "caf\xe9";
	g.n_columns = 1;
	g.columns = cols;
	expect_decode(&p, WEFT_ESCHEMA, "columns: column name \"caf");
	cols[0] = "a";
	g.n_deny = 1;
	g.deny = cols;
	expect_decode(&p, WEFT_ESCHEMA, "columns and deny both given");
	g.n_columns = g.n_deny = 0;
	/* noise that is not a number */
	g.noise = &z;
	z.epsilon = NAN;
	z.budget = 1;
	z.per = "day";
	expect_decode(&p, WEFT_ESCHEMA, "noise: epsilon must be");
	z.epsilon = 1;
	expect_decode(&p, 0, NULL);
	g.noise = NULL;
	/* negative expiry, a bad product */
	g.expires_at = -1;
	expect_decode(&p, WEFT_ESCHEMA, "expires: outside");
	g.expires_at = 0;
	p.product = "no dots";
	expect_decode(&p, WEFT_ESCHEMA, "policy: product: ");

	/* a field this version does not know (3 of weft.Policy) */
	assert_int_equal(
	    weft_policy_decode(unknown, sizeof(unknown), &out, &err),
	    WEFT_ESCHEMA);
	assert_null(out);
	assert_non_null(strstr(err.msg, "policy: Policy: field 3 is unknown"));

	/* not a weft.Policy, or too big */
	assert_int_equal(weft_policy_decode(junk, sizeof(junk), &out, &err),
			 WEFT_EPARSE);
	assert_null(out);
	assert_int_equal(
	    weft_policy_decode(junk, WEFT_POLICY_MAX + 1, &out, &err),
	    WEFT_ETOOBIG);
	assert_null(out);
	free(long_str);
}

/* ---- YAML out --------------------------------------------------------- */

/* p and q equal apart from lines: the same packed bytes. */
static void
assert_same_policy(Weft__Policy *p, Weft__Policy *q)
{
	size_t i, lp, lq;
	uint8_t *a, *b;

	for (i = 0; i < p->n_grants; i++)
		p->grants[i]->line = 0;
	for (i = 0; i < q->n_grants; i++)
		q->grants[i]->line = 0;
	lp = weft__policy__get_packed_size(p);
	lq = weft__policy__get_packed_size(q);
	assert_int_equal(lp, lq);
	a = malloc(lp + 1);
	b = malloc(lq + 1);
	assert_non_null(a);
	assert_non_null(b);
	weft__policy__pack(p, a);
	weft__policy__pack(q, b);
	assert_memory_equal(a, b, lp);
	free(a);
	free(b);
}

static void
roundtrip(const char *doc, const char *want)
{
	Weft__Policy *p, *q;
	weft_err_t err;
	char *y;
	size_t len;

	if (parse_str(doc, &p, &err) != 0)
		fail_msg("%s: %s", doc, err.msg);
	assert_int_equal(weft_policy_yaml(p, &y, &len, &err), 0);
	assert_int_equal(strlen(y), len);
	if (want != NULL)
		assert_string_equal(y, want);
	if (weft_policy_parse((const uint8_t *)y, len, "out.yaml", &q, &err))
		fail_msg("%s: %s", y, err.msg);
	assert_same_policy(p, q);
	free(y);
	weft__policy__free_unpacked(p, NULL);
	weft__policy__free_unpacked(q, NULL);
}

static void
test_yaml(void **state)
{
	static const char rich[] =
	    "product: ops.flights\n"
	    "grants:\n"
	    "  - to: [globex, \"globex:analyst\", 00112233445566778899aabbccd"
	    "deeff00112233445566778899aabbccddeeff, \"yes\"]\n"
	    "    deny: [\"date\", \"d\\u00e9part\", \"a b\", \"on\", "
	    "\"x\\u2028y\","
	    " \"1st\", \"k:v\", \"q\\\"\\\\\"]\n"
	    "    mask: {origin: 'null', destination: redact, delay: round(-1),"
	    " dep: truncate(year), \"a b\": hash}\n"
	    "    rows: \"origin = 'it''s' AND\\n\\tdelay > 1.5\"\n"
	    "    aggregate: {min_group: 18446744073709551615, entity: pid}\n"
	    "    noise: {epsilon: 0.1, budget: 1e300, per: month, bounds: "
	    "{delay: [-1.5e-7, 3], d: [0, 0.30000000000000004], e: [-1e308, "
	    "6.08418633185563e-310]}}\n"
	    "    expires: 2027-06-30T02:00:00.000001+02:00\n"
	    "  - to: x\n"
	    "    aggregate: {entity: pid, functions: [max, min]}\n";
	Weft__Policy p = WEFT__POLICY__INIT;
	Weft__PolicyGrant g = WEFT__POLICY_GRANT__INIT, *gs[1] = {&g};
	char *y = (char *)1;
	size_t len = 1;
	weft_err_t err;

	(void)state;
	roundtrip(example,
		  "product: ops.flights\n"
		  "grants:\n"
		  "  - to: [globex]\n"
		  "    columns: [origin, destination, delay, distance]\n"
		  "    mask: {destination: hash}\n"
		  "    rows: \"distance > 100\"\n"
		  "    aggregate:\n"
		  "      min_group: 1000\n"
		  "      functions: [count, sum, avg]\n"
		  "    noise:\n"
		  "      epsilon: 0.5\n"
		  "      budget: 10\n"
		  "      per: day\n"
		  "      bounds:\n"
		  "        delay: [-60, 600]\n"
		  "    expires: 2027-06-30T00:00:00Z\n");
	roundtrip(rich, NULL);
	roundtrip("product: a.b\ngrants: []\n", "product: a.b\ngrants: []\n");

	/* what does not validate is not written */
	p.product = "a.b";
	p.n_grants = 1;
	p.grants = gs;
	assert_int_equal(weft_policy_yaml(&p, &y, &len, &err), WEFT_ESCHEMA);
	assert_null(y);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, "to: names nobody"));
}

/* A document that is not NUL-terminated is read within its length. */
static void
test_not_nul_terminated(void **state)
{
	static const char doc[] = "product: a.b\ngrants: []\nXXXX";
	size_t n = sizeof(doc) - 1 - 4;
	Weft__Policy *p;
	weft_err_t err;
	char *copy = malloc(n);

	(void)state;
	assert_non_null(copy);
	memcpy(copy, doc, n);
	assert_int_equal(
	    weft_policy_parse((const uint8_t *)copy, n, NULL, &p, &err), 0);
	weft__policy__free_unpacked(p, NULL);
	free(copy);
	/* path NULL: messages say "policy" */
	expect_error_str("x", WEFT_ESCHEMA, "p.yaml:1:1:");
	assert_int_equal(
	    weft_policy_parse((const uint8_t *)"x", 1, NULL, &p, &err),
	    WEFT_ESCHEMA);
	assert_non_null(strstr(err.msg, "policy:1:1: "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example),
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_yaml_errors),
	    cmocka_unit_test(test_grant_errors),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_bind),
	    cmocka_unit_test(test_bind_rows),
	    cmocka_unit_test(test_grant_choice),
	    cmocka_unit_test(test_allows),
	    cmocka_unit_test(test_orgs),
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_yaml),
	    cmocka_unit_test(test_not_nul_terminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
