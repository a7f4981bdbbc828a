/*
 * test_odcs.c: ODCS v3 contracts in and out (storage/odcs.c).
 *
 * Reads a realistic contract, writes fresh documents and documents based
 * on the one given (unknown fields must survive, and what is written must
 * read back the same), and feeds hostile or malformed input, each of which
 * must fail with the right code, a message naming file:line:column, and a
 * still-clear descriptor. LeakSanitizer checks that nothing leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/odcs.h"

static const char realistic[] =
    "# A contract as a data team might write it.\n"
    "apiVersion: v3.0.2\n"
    "kind: DataContract\n"
    "id: 53581432-6c55-4ba2-a65f-72344a91553a\n"
    "name: orders_v1\n"
    "version: 1.1.0\n"
    "status: active\n"
    "domain: sales\n"
    "dataProduct: orders\n"
    "tenant: ExampleCorp\n"
    "description:\n"
    "  purpose: |\n"
    "    Every order placed in the web shop.\n"
    "    One row per order, updated hourly.\n"
    "  usage: Revenue dashboards.\n"
    "  limitations: No refunds before 2021.\n"
    "tags: ['finance', sales]\n"
    "team:\n"
    "  - username: ceastwood\n"
    "    role: Data Scientist\n"
    "    dateIn: 2022-08-02\n"
    "    dateOut: 2022-10-01\n"
    "  - username: mhopper\n"
    "    role: Data Product Owner\n"
    "    dateIn: 2022-10-01\n"
    "  - username: daustin\n"
    "    role: Engineer\n"
    "servers:\n"
    "  - server: prod\n"
    "    type: postgresql\n"
    "    host: db.example.com\n"
    "    port: 5432\n"
    "    database: shop\n"
    "    schema: public\n"
    "schema:\n"
    "  - name: orders\n"
    "    physicalName: orders_tbl\n"
    "    logicalType: object\n"
    "    physicalType: table\n"
    "    description: Orders table\n"
    "    dataGranularityDescription: one row per order\n"
    "    properties:\n"
    "      - name: order_id\n"
    "        logicalType: integer\n"
    "        physicalType: BIGINT\n"
    "        required: true\n"
    "        primaryKey: true\n"
    "        primaryKeyPosition: 1\n"
    "        description: Order number.\n"
    "        quality:\n"
    "          - rule: uniqueCheck\n"
    "            mustBe: 0\n"
    "      - name: customer_email\n"
    "        logicalType: string\n"
    "        physicalType: varchar(255)\n"
    "        classification: restricted\n"
    "        examples: [a@example.com, \"b@example.com\"]\n"
    "      - name: amount\n"
    "        logicalType: number\n"
    "        physicalType: numeric(12,2)\n"
    "        required: true\n"
    "        logicalTypeOptions: {minimum: 0}\n"
    "      - name: paid\n"
    "        logicalType: boolean\n"
    "        required: false\n"
    "      - name: created_at\n"
    "        logicalType: date\n"
    "        physicalType: TIMESTAMP(6) WITH TIME ZONE\n"
    "        required: yes\n"
    "        description: When the order was placed (UTC).\n"
    "      - name: note\n"
    "        logicalType: string\n"
    "        physicalType: STRING\n"
    "        description: ~\n"
    "slaDefaultElement: orders.created_at\n"
    "slaProperties:\n"
    "  - property: latency\n"
    "    value: 4\n"
    "    unit: d\n"
    "    element: orders.created_at\n"
    "support:\n"
    "  - channel: '#orders-help'\n"
    "    url: https://chat.example.com/orders\n"
    "customProperties:\n"
    "  - property: refRulesetName\n"
    "    value: gcsc.ruleset.name\n"
    "  - property: notes\n"
    "    value: >\n"
    "      folded text that\n"
    "      spans lines\n"
    "contractCreatedTs: \"2024-09-17T11:58:08Z\"\n";

static int
parse_str(const char *s, weft_product_info_t *pi, weft_err_t *err)
{
	memset(pi, 0, sizeof(*pi));
	memset(err, 0, sizeof(*err));
	return weft_odcs_parse((const uint8_t *)s, strlen(s), "c.yaml", pi,
			       err);
}

static void
assert_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* The fields a contract carries must match. */
static void
assert_info_equal(const weft_product_info_t *a, const weft_product_info_t *b)
{
	size_t i;

	assert_str_eq(a->name, b->name);
	assert_str_eq(a->owner, b->owner);
	assert_str_eq(a->description, b->description);
	assert_int_equal(a->ntags, b->ntags);
	for (i = 0; i < a->ntags; i++)
		assert_string_equal(a->tags[i], b->tags[i]);
	assert_int_equal(a->ncols, b->ncols);
	for (i = 0; i < a->ncols; i++) {
		assert_string_equal(a->cols[i].name, b->cols[i].name);
		assert_int_equal(a->cols[i].type, b->cols[i].type);
		assert_int_equal(a->cols[i].nullable, b->cols[i].nullable);
		assert_str_eq(a->cols[i].description, b->cols[i].description);
	}
}

static void
assert_clear(const weft_product_info_t *pi)
{
	weft_product_info_t zero;

	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(pi, &zero, sizeof(zero));
}

static void
assert_contains(const uint8_t *buf, size_t len, const char *needle)
{
	if (memmem(buf, len, needle, strlen(needle)) == NULL) {
		fprintf(stderr, "%.*s", (int)len, (const char *)buf);
		fail_msg("output above lacks \"%s\"", needle);
	}
}

static void
assert_lacks(const uint8_t *buf, size_t len, const char *needle)
{
	if (memmem(buf, len, needle, strlen(needle)) != NULL) {
		fprintf(stderr, "%.*s", (int)len, (const char *)buf);
		fail_msg("output above has \"%s\"", needle);
	}
}

/* Parse s; expect failure with code and a message starting with want. */
static void
expect_error(const char *s, size_t len, int code, const char *want)
{
	weft_product_info_t pi;
	weft_err_t err;
	int rc;

	memset(&pi, 0, sizeof(pi));
	memset(&err, 0, sizeof(err));
	rc = weft_odcs_parse((const uint8_t *)s, len, "c.yaml", &pi, &err);
	if (rc != code || strstr(err.msg, want) == NULL)
		fail_msg("want %d \"%s\", got %d \"%s\"", code, want, rc,
			 err.msg);
	assert_int_equal(err.code, code);
	assert_clear(&pi);
}

static void
test_parse_realistic(void **state)
{
	weft_product_info_t pi;
	weft_err_t err;

	(void)state;
	assert_int_equal(parse_str(realistic, &pi, &err), 0);
	assert_string_equal(pi.name, "sales.orders");
	assert_string_equal(pi.owner, "mhopper");
	assert_string_equal(pi.description,
			    "Every order placed in the web shop.\n"
			    "One row per order, updated hourly.\n");
	assert_int_equal(pi.ntags, 2);
	assert_string_equal(pi.tags[0], "finance");
	assert_string_equal(pi.tags[1], "sales");
	assert_int_equal(pi.ncols, 6);
	assert_string_equal(pi.cols[0].name, "order_id");
	assert_int_equal(pi.cols[0].type, WEFT_T_INT64);
	assert_int_equal(pi.cols[0].nullable, 0);
	assert_string_equal(pi.cols[0].description, "Order number.");
	assert_string_equal(pi.cols[1].name, "customer_email");
	assert_int_equal(pi.cols[1].type, WEFT_T_TEXT);
	assert_int_equal(pi.cols[1].nullable, 1);
	assert_null(pi.cols[1].description);
	assert_int_equal(pi.cols[2].type, WEFT_T_FLOAT64);
	assert_int_equal(pi.cols[2].nullable, 0);
	assert_int_equal(pi.cols[3].type, WEFT_T_BOOL);
	assert_int_equal(pi.cols[3].nullable, 1);
	assert_int_equal(pi.cols[4].type, WEFT_T_TIMESTAMP);
	assert_int_equal(pi.cols[4].nullable, 0);
	/* physicalType STRING is not a weft type: logicalType decides */
	assert_int_equal(pi.cols[5].type, WEFT_T_TEXT);
	assert_null(pi.cols[5].description);
	assert_int_equal(pi.contract_len, strlen(realistic));
	assert_memory_equal(pi.contract_yaml, realistic, pi.contract_len);
	weft_product_info_clear(&pi);
}

static void
test_owner_and_name_variants(void **state)
{
	weft_product_info_t pi;
	weft_err_t err;
	const char *tail = "schema:\n"
			   "  - name: orders\n"
			   "    properties:\n"
			   "      - {name: id, logicalType: integer}\n";
	char doc[1024];

	(void)state;
	/* v3.1 team object: its name owns the product */
	snprintf(doc, sizeof(doc),
		 "domain: sales\nteam:\n  name: shop-data\n  members:\n"
		 "    - {username: a, role: owner}\n%s",
		 tail);
	assert_int_equal(parse_str(doc, &pi, &err), 0);
	/* no dataProduct: the schema object names the product */
	assert_string_equal(pi.name, "sales.orders");
	assert_string_equal(pi.owner, "shop-data");
	weft_product_info_clear(&pi);

	snprintf(doc, sizeof(doc),
		 "domain: sales\nteam:\n  members:\n"
		 "    - {name: Ann, role: analyst}\n"
		 "    - {username: bob, role: Owner}\n%s",
		 tail);
	assert_int_equal(parse_str(doc, &pi, &err), 0);
	assert_string_equal(pi.owner, "bob");
	weft_product_info_clear(&pi);

	/* a customProperties owner wins over the team */
	snprintf(doc, sizeof(doc),
		 "team: [{username: a, role: owner}]\n"
		 "customProperties:\n  - {property: owner, value: finance}\n"
		 "%s",
		 tail);
	assert_int_equal(parse_str(doc, &pi, &err), 0);
	assert_null(pi.name); /* no domain: the caller names the product */
	assert_string_equal(pi.owner, "finance");
	weft_product_info_clear(&pi);

	snprintf(doc, sizeof(doc), "team: ops\ndescription: plain text\n%s",
		 tail);
	assert_int_equal(parse_str(doc, &pi, &err), 0);
	assert_string_equal(pi.owner, "ops");
	assert_string_equal(pi.description, "plain text");
	assert_int_equal(pi.cols[0].nullable, 1);
	weft_product_info_clear(&pi);
}

static void
make_info(weft_product_info_t *pi)
{
	static const struct {
		const char *name;
		weft_type_t type;
		int nullable;
		const char *desc;
	} cols[] = {
	    {"id", WEFT_T_INT64, 0, "Primary key."},
	    {"label", WEFT_T_TEXT, 1, "Multi-line\ndescription: with colon\n"},
	    {"score", WEFT_T_FLOAT64, 1, NULL},
	    {"ok", WEFT_T_BOOL, 0, "true"},
	    {"at", WEFT_T_TIMESTAMP, 1, "  leading spaces"},
	};
	size_t i;

	memset(pi, 0, sizeof(*pi));
	pi->name = strdup("web.visits");
	pi->owner = strdup("growth-team");
	pi->description = strdup("Page visits: one per request.");
	assert_int_equal(weft_strlist_add(&pi->tags, &pi->ntags, "web"), 0);
	assert_int_equal(weft_strlist_add(&pi->tags, &pi->ntags, "123"), 0);
	pi->cols = calloc(5, sizeof(*pi->cols));
	assert_non_null(pi->cols);
	for (i = 0; i < 5; i++) {
		pi->cols[i].name = strdup(cols[i].name);
		pi->cols[i].type = cols[i].type;
		pi->cols[i].nullable = cols[i].nullable;
		pi->cols[i].description =
		    cols[i].desc ? strdup(cols[i].desc) : NULL;
	}
	pi->ncols = 5;
	pi->version = 7;
	pi->row_count = 1234;
	pi->updated_at = 1700000000123456;
}

static void
test_emit_fresh(void **state)
{
	weft_product_info_t pi, back;
	weft_err_t err;
	uint8_t *out;
	size_t len;

	(void)state;
	make_info(&pi);
	memset(&err, 0, sizeof(err));
	assert_int_equal(weft_odcs_emit(&pi, &out, &len, &err), 0);
	assert_int_equal(out[len], '\0');
	assert_contains(out, len, "apiVersion: v3.0.2\n");
	assert_contains(out, len, "kind: DataContract\n");
	assert_contains(out, len, "status: active\n");
	assert_contains(out, len, "domain: web\n");
	assert_contains(out, len, "dataProduct: visits\n");
	assert_contains(out, len, "purpose: 'Page visits: one per request.'");
	assert_contains(out, len, "physicalType: bigint\n");
	assert_contains(out, len, "physicalType: double precision\n");
	assert_contains(out, len, "logicalType: date\n");
	assert_contains(out, len, "value: 1234\n");
	assert_contains(out, len, "2023-11-14T22:13:20.123456Z");
	assert_int_equal(weft_odcs_parse(out, len, "out.yaml", &back, &err), 0);
	assert_info_equal(&pi, &back);
	weft_product_info_clear(&back);
	free(out);
	weft_product_info_clear(&pi);
}

static void
test_emit_base_roundtrip(void **state)
{
	weft_product_info_t pi, back, again;
	weft_err_t err;
	uint8_t *out, *out2;
	size_t len, len2;

	(void)state;
	assert_int_equal(parse_str(realistic, &pi, &err), 0);
	assert_int_equal(weft_odcs_emit(&pi, &out, &len, &err), 0);
	/* unknown fields, nested maps and lists, multi-line strings */
	assert_contains(out, len, "tenant: ExampleCorp\n");
	assert_contains(out, len, "  usage: Revenue dashboards.\n");
	assert_contains(out, len, "  purpose: |\n    Every order placed");
	assert_contains(out, len, "host: db.example.com\n");
	assert_contains(out, len, "  port: 5432\n");
	assert_contains(out, len, "dateOut: 2022-10-01\n");
	assert_contains(out, len, "primaryKeyPosition: 1\n");
	assert_contains(out, len, "- rule: uniqueCheck\n");
	assert_contains(out, len,
			"examples: [a@example.com, \"b@example.com\"]");
	assert_contains(out, len, "logicalTypeOptions: {minimum: 0}");
	assert_contains(out, len, "physicalType: varchar(255)\n");
	assert_contains(out, len,
			"physicalType: TIMESTAMP(6) WITH TIME ZONE\n");
	assert_contains(out, len, "required: yes\n");
	assert_contains(out, len, "tags: ['finance', sales]\n");
	assert_contains(out, len,
			"value: >\n    folded text that spans lines\n");
	assert_contains(out, len, "channel: '#orders-help'\n");
	assert_contains(out, len,
			"contractCreatedTs: \"2024-09-17T11:58:08Z\"");
	assert_contains(out, len, "slaDefaultElement: orders.created_at\n");
	assert_lacks(out, len, "weft");
	assert_int_equal(weft_odcs_parse(out, len, "out.yaml", &back, &err), 0);
	assert_info_equal(&pi, &back);
	/* and writing it again changes nothing */
	assert_int_equal(weft_odcs_emit(&back, &out2, &len2, &err), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(out, out2, len);
	free(out2);
	weft_product_info_clear(&back);
	free(out);

	/* weft changes what it owns; the rest stays */
	free(pi.owner);
	pi.owner = strdup("new-owner");
	free(pi.description);
	pi.description = NULL;
	free(pi.tags[1]);
	pi.ntags = 1;
	pi.cols[0].type = WEFT_T_TEXT; /* was bigint */
	pi.cols[1].nullable = 0;
	free(pi.cols[2].name);
	pi.cols[2].name = strdup("total"); /* amount dropped, total new */
	pi.cols[2].type = WEFT_T_TIMESTAMP;
	free(pi.cols[4].description);
	pi.cols[4].description = strdup("line one\nline two");
	pi.version = 3;
	assert_int_equal(weft_odcs_emit(&pi, &out, &len, &err), 0);
	assert_contains(out, len, "tenant: ExampleCorp\n");
	assert_contains(out, len, "  usage: Revenue dashboards.\n");
	assert_lacks(out, len, "purpose");
	assert_lacks(out, len, "amount");
	assert_contains(out, len, "primaryKeyPosition: 1\n"); /* kept */
	assert_contains(out, len, "classification: restricted\n");
	assert_contains(out, len, "property: owner\n  value: new-owner\n");
	assert_contains(out, len, "property: weftVersion\n  value: 3\n");
	assert_contains(out, len, "tags: [finance]\n");
	assert_contains(out, len, "description: |-\n      line one\n");
	assert_contains(out, len, "- name: total\n    logicalType: date\n");
	assert_int_equal(weft_odcs_parse(out, len, "out.yaml", &again, &err),
			 0);
	assert_info_equal(&pi, &again);
	weft_product_info_clear(&again);
	free(out);

	/* a different name rewrites domain and dataProduct */
	free(pi.name);
	pi.name = strdup("finance.sales_orders");
	assert_int_equal(weft_odcs_emit(&pi, &out, &len, &err), 0);
	assert_contains(out, len,
			"domain: finance\ndataProduct: sales_orders\n");
	assert_int_equal(weft_odcs_parse(out, len, "out.yaml", &again, &err),
			 0);
	assert_info_equal(&pi, &again);
	weft_product_info_clear(&again);
	free(out);
	weft_product_info_clear(&pi);
}

static void
test_bad_syntax(void **state)
{
	static const char doc[] = "apiVersion: v3.0.2\n"
				  "domain: sales\n"
				  "schema:\n"
				  "  - name: [unclosed, x\n"
				  "    properties: []\n";
	static const char utf8[] = "domain: sa\xffles\n";

	(void)state;
	expect_error(doc, sizeof(doc) - 1, WEFT_EPARSE, "c.yaml:5:");
	expect_error("a: b\n c: d\n", 11, WEFT_EPARSE, "c.yaml:2:");
	expect_error(utf8, sizeof(utf8) - 1, WEFT_EPARSE, "c.yaml: byte 10:");
	expect_error("a: 1\n---\nb: 2\n", 14, WEFT_EPARSE,
		     "c.yaml:2:1: more than one YAML document");
}

static void
test_bad_contracts(void **state)
{
	static const char unknown[] = "domain: sales\n"
				      "schema:\n"
				      "  - name: orders\n"
				      "    properties:\n"
				      "      - name: id\n"
				      "        logicalType: intt\n";
	static const char unknown_phys[] = "schema:\n"
					   "- properties:\n"
					   "  - name: id\n"
					   "    physicalType: intt\n";
	static const char dup[] = "schema:\n"
				  "  - properties:\n"
				  "    - {name: id, logicalType: integer}\n"
				  "    - {name: x, logicalType: string}\n"
				  "    - {name: ID, logicalType: string}\n";
	static const char dupkey[] = "domain: a\ndomain: b\nschema: []\n";
	static const char badname[] = "domain: Sales\ndataProduct: orders\n"
				      "schema: [{properties: [{name: a, "
				      "logicalType: string}]}]\n";
	static const char badcol[] = "schema: [{properties: [{name: \"a\\tb\", "
				     "logicalType: string}]}]\n";
	static const char badreq[] =
	    "schema: [{properties: [{name: a, "
	    "logicalType: string, required: maybe}]}]\n";
	static const char nul[] = "description: \"a\\0b\"\n"
				  "schema: [{properties: [{name: a, "
				  "logicalType: string}]}]\n";
	static const char noprops[] = "schema:\n  - name: t\n";
	static const char notype[] = "schema: [{properties: [{name: a}]}]\n";

	(void)state;
	expect_error(unknown, sizeof(unknown) - 1, WEFT_ESCHEMA,
		     "c.yaml:6:22: column \"id\": unknown type \"intt\"");
	expect_error(unknown_phys, sizeof(unknown_phys) - 1, WEFT_ESCHEMA,
		     "c.yaml:4:19: column \"id\": unknown type \"intt\"");
	expect_error("apiVersion: v3.0.2\nkind: DataContract\n", 37,
		     WEFT_ESCHEMA, "c.yaml:1:1: no \"schema\"");
	expect_error("schema: {}\n", 11, WEFT_ESCHEMA,
		     "c.yaml:1:9: \"schema\" must be a non-empty list");
	expect_error(dup, sizeof(dup) - 1, WEFT_ESCHEMA,
		     "c.yaml:5:14: duplicate column \"ID\" (first at line 3)");
	expect_error(dupkey, sizeof(dupkey) - 1, WEFT_EPARSE,
		     "c.yaml:2:1: duplicate key \"domain\"");
	expect_error(badname, sizeof(badname) - 1, WEFT_EINVAL,
		     "c.yaml:2:14: ");
	expect_error(badcol, sizeof(badcol) - 1, WEFT_EINVAL, "c.yaml:1:31: ");
	expect_error(badreq, sizeof(badreq) - 1, WEFT_ESCHEMA,
		     "column \"a\": \"required\" must be true or false");
	expect_error(nul, sizeof(nul) - 1, WEFT_EINVAL,
		     "c.yaml:1:14: description contains a NUL");
	expect_error(noprops, sizeof(noprops) - 1, WEFT_ESCHEMA,
		     "c.yaml:2:5: schema[0] has no properties");
	expect_error(notype, sizeof(notype) - 1, WEFT_ESCHEMA,
		     "column \"a\" has neither logicalType nor physicalType");
}

static void
test_not_a_mapping(void **state)
{
	(void)state;
	expect_error("- a\n- b\n", 8, WEFT_ESCHEMA,
		     "c.yaml:1:1: not a mapping");
	expect_error("just text\n", 10, WEFT_ESCHEMA, "not a mapping");
	expect_error("", 0, WEFT_ESCHEMA, "c.yaml: empty document");
	expect_error("# only a comment\n", 17, WEFT_ESCHEMA, "empty document");
}

static void
test_alias_bomb(void **state)
{
	static const char bomb[] =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "schema: [*d]\n";

	(void)state;
	expect_error(bomb, sizeof(bomb) - 1, WEFT_EPARSE,
		     "c.yaml:2:8: YAML aliases are not supported");
}

static void
test_limits(void **state)
{
	char *buf;
	size_t i, n;

	(void)state;
	/* nesting */
	buf = malloc(1000);
	assert_non_null(buf);
	n = (size_t)sprintf(buf, "a: ");
	for (i = 0; i < 200; i++)
		buf[n++] = '[';
	for (i = 0; i < 200; i++)
		buf[n++] = ']';
	expect_error(buf, n, WEFT_ETOOBIG, "c.yaml:1:67: nested more than 64");
	/* nodes */
	free(buf);
	n = 2 * 300000 + 16;
	buf = malloc(n);
	assert_non_null(buf);
	n = (size_t)sprintf(buf, "x: [");
	for (i = 0; i < 300000; i++) {
		buf[n++] = 'a';
		buf[n++] = ',';
	}
	buf[n++] = ']';
	expect_error(buf, n, WEFT_ETOOBIG, "more than 131072 YAML nodes");
	free(buf);
	/* size */
	n = WEFT_ODCS_MAX + 1;
	buf = malloc(n);
	assert_non_null(buf);
	memset(buf, ' ', n);
	expect_error(buf, n, WEFT_ETOOBIG, "c.yaml: 1048577 bytes");
	free(buf);
	/* columns */
	buf = malloc(64 * 1100 + 64);
	assert_non_null(buf);
	n = (size_t)sprintf(buf, "schema:\n- properties:\n");
	for (i = 0; i < WEFT_COLS_MAX + 1; i++)
		n += (size_t)sprintf(
		    buf + n, "  - {name: c%zu, logicalType: string}\n", i);
	expect_error(buf, n, WEFT_ETOOBIG, "c.yaml:3:3: 1025 columns");
	free(buf);
}

static void
test_not_nul_terminated(void **state)
{
	static const char doc[] = "schema: [{properties: [{name: a, "
				  "logicalType: integer}]}]\nXXXX";
	weft_product_info_t pi;
	weft_err_t err;
	char *copy;
	size_t n = sizeof(doc) - 1 - 4;

	(void)state;
	/* exactly n bytes, no terminator after them */
	copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, doc, n);
	memset(&pi, 0, sizeof(pi));
	memset(&err, 0, sizeof(err));
	assert_int_equal(
	    weft_odcs_parse((const uint8_t *)copy, n, NULL, &pi, &err), 0);
	assert_int_equal(pi.ncols, 1);
	assert_int_equal(pi.contract_len, n);
	free(copy);
	weft_product_info_clear(&pi);
}

/* Nulls inside flow collections must stay nulls (found by fuzzing:
 * libyaml would write them as ''). */
static void
test_flow_nulls(void **state)
{
	static const char doc[] =
	    "x: {a, b: }\n"
	    "schema: [{properties: [{name: c, logicalType: integer, "
	    "required, description: }]}]\n";
	weft_product_info_t pi, back;
	weft_err_t err;
	uint8_t *out;
	size_t len;

	(void)state;
	assert_int_equal(parse_str(doc, &pi, &err), 0);
	assert_int_equal(pi.cols[0].nullable, 1);
	assert_int_equal(weft_odcs_emit(&pi, &out, &len, &err), 0);
	assert_contains(out, len, "x: {a: ~, b: ~}\n");
	assert_contains(out, len, "required: ~, description: ~}");
	assert_int_equal(weft_odcs_parse(out, len, "out.yaml", &back, &err), 0);
	assert_info_equal(&pi, &back);
	weft_product_info_clear(&back);
	free(out);
	weft_product_info_clear(&pi);
}

static void
test_emit_errors(void **state)
{
	static const char bad_base[] = "a: [1, 2\n";
	weft_product_info_t pi;
	weft_err_t err;
	uint8_t *out = (uint8_t *)"x";
	size_t len = 1;

	(void)state;
	/* text that is not UTF-8 cannot be written as YAML */
	make_info(&pi);
	free(pi.description);
	pi.description = strdup("caf\xe9");
	memset(&err, 0, sizeof(err));
	assert_int_equal(weft_odcs_emit(&pi, &out, &len, &err), WEFT_EINVAL);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, "cannot write contract"));

	/* a stored base that no longer loads */
	pi.contract_yaml = malloc(sizeof(bad_base));
	assert_non_null(pi.contract_yaml);
	memcpy(pi.contract_yaml, bad_base, sizeof(bad_base));
	pi.contract_len = sizeof(bad_base) - 1;
	assert_int_equal(weft_odcs_emit(&pi, &out, &len, &err), WEFT_EPARSE);
	assert_null(out);
	assert_non_null(strstr(err.msg, "stored contract:2:1: "));
	weft_product_info_clear(&pi);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_realistic),
	    cmocka_unit_test(test_owner_and_name_variants),
	    cmocka_unit_test(test_emit_fresh),
	    cmocka_unit_test(test_emit_base_roundtrip),
	    cmocka_unit_test(test_emit_errors),
	    cmocka_unit_test(test_flow_nulls),
	    cmocka_unit_test(test_bad_syntax),
	    cmocka_unit_test(test_bad_contracts),
	    cmocka_unit_test(test_not_a_mapping),
	    cmocka_unit_test(test_alias_bomb),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_not_nul_terminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
