/*
 * test_ingest.c: CSV and JSON Lines files published end to end into a
 * real store in a temporary directory: type inference and widening
 * restarts, contracts, appends, every user-facing error (with file, line
 * and column), the store left as it was after a failure, and the
 * threaded pipeline on a file large enough to use it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/chunk.h"
#include "storage/ingest.h"
#include "testutil.h"

typedef struct {
	char *dir;
	weft_store_t *st;
	weft_test_id_t id;
	char path[512];
} fx_t;

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	weft_store_opts_t o = {0};
	int64_t now = weft_now_s();

	f->dir = weft_test_tmpdir();
	o.create = 1;
	o.map_init = 1 << 20; /* small, so that big ingests grow the map */
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
	weft_test_id_make(&f->id, "acme", "n1", now - 60, now + 86400);
	assert_int_equal(weft_store_trust_add(f->st, &f->id.root, NULL), 0);
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

/* Write data (len bytes) to DIR/name and return the path. */
static const char *
put_file(fx_t *f, const char *name, const char *data, size_t len)
{
	FILE *fp;

	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	fp = fopen(f->path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
	return f->path;
}

static const char *
put(fx_t *f, const char *name, const char *data)
{
	return put_file(f, name, data, strlen(data));
}

static int
ingest(fx_t *f, const char *product, const char *path, int mode,
       const weft_product_info_t *contract, weft_ingest_result_t *res,
       weft_err_t *err)
{
	weft_ingest_opts_t o = {0};
	weft_ingest_result_t r;

	o.path = path;
	o.mode = mode;
	o.contract = contract;
	memset(err, 0, sizeof(*err));
	return weft_ingest(f->st, product, &o, &f->id.signer,
			   res != NULL ? res : &r, err);
}

/* "name:type[?]" for every column, space separated. */
static char *
schema(fx_t *f, const char *product)
{
	weft_product_info_t pi = {0};
	weft_err_t err = {0};
	char *s = calloc(1, 4096);
	size_t i, o = 0;

	assert_int_equal(weft_product_get(f->st, product, &pi, &err), 0);
	for (i = 0; i < pi.ncols; i++)
		o += (size_t)snprintf(s + o, 4096 - o, "%s%s:%s%s",
				      i ? " " : "", pi.cols[i].name,
				      weft_type_name(pi.cols[i].type),
				      pi.cols[i].nullable ? "?" : "");
	weft_product_info_clear(&pi);
	return s;
}

static uint64_t
version_of(fx_t *f, const char *product, uint64_t *rows)
{
	weft_product_info_t pi = {0};
	weft_err_t err = {0};
	uint64_t v;

	assert_int_equal(weft_product_get(f->st, product, &pi, &err), 0);
	v = pi.version;
	if (rows != NULL)
		*rows = pi.row_count;
	weft_product_info_clear(&pi);
	return v;
}

/*
 * Rows first..first+n-1 of a product rendered as text, one line per row,
 * values separated by '|': NULL, integers, %.17g floats, t/f, timestamps
 * as weft_fmt_ts, text as is.
 */
static char *
dump(fx_t *f, const char *product, uint64_t first, uint64_t n)
{
	weft_snapshot_t *s;
	weft_product_info_t pi = {0};
	weft_err_t err = {0};
	uint64_t sid, row = 0;
	uint32_t nchunks, ch;
	size_t cap = 1 << 16, o = 0, c;
	char *out = malloc(cap);

	out[0] = 0;
	assert_int_equal(weft_snapshot_begin(f->st, &s, &err), 0);
	assert_int_equal(
	    weft_snapshot_product(s, product, &pi, &sid, &nchunks, &err), 0);
	for (ch = 0; ch < nchunks && row < first + n; ch++) {
		weft_chunk_view_t v[16];
		uint32_t i;

		memset(v, 0, sizeof(v));
		assert_true(pi.ncols <= 16);
		for (c = 0; c < pi.ncols; c++) {
			const uint8_t *b;
			size_t len;

			assert_int_equal(weft_snapshot_chunk(s, sid,
							     (uint32_t)c, ch,
							     &b, &len, &err),
					 0);
			assert_int_equal(weft_chunk_view(b, len, &v[c], &err),
					 0);
		}
		for (i = 0; i < v[0].count && row < first + n; i++, row++) {
			if (row < first)
				continue;
			for (c = 0; c < pi.ncols; c++) {
				char tmp[64];
				const char *t = tmp;
				size_t tl;

				if (cap - o < 1024) {
					char *nb = realloc(out, cap * 2);

					assert_non_null(nb);
					out = nb;
					cap *= 2;
				}
				if (weft_chunk_is_null(&v[c], i)) {
					t = "NULL";
				} else if (v[c].type == WEFT_T_INT64) {
					snprintf(tmp, sizeof(tmp), "%lld",
						 (long long)weft_chunk_i64(
						     &v[c], i));
				} else if (v[c].type == WEFT_T_FLOAT64) {
					snprintf(tmp, sizeof(tmp), "%.17g",
						 weft_chunk_f64(&v[c], i));
				} else if (v[c].type == WEFT_T_BOOL) {
					t = weft_chunk_bool(&v[c], i) ? "t"
								      : "f";
				} else if (v[c].type == WEFT_T_TIMESTAMP) {
					weft_fmt_ts(weft_chunk_i64(&v[c], i),
						    tmp);
				} else {
					t = weft_chunk_text(&v[c], i, &tl);
					assert_true(tl < 512);
					o += (size_t)snprintf(
					    out + o, cap - o, "%s%.*s",
					    c ? "|" : "", (int)tl, t);
					continue;
				}
				o += (size_t)snprintf(out + o, cap - o, "%s%s",
						      c ? "|" : "", t);
			}
			o += (size_t)snprintf(out + o, cap - o, "\n");
		}
	}
	weft_product_info_clear(&pi);
	weft_snapshot_end(s);
	return out;
}

static void
expect_schema(fx_t *f, const char *product, const char *want)
{
	char *s = schema(f, product);

	assert_string_equal(s, want);
	free(s);
}

static void
expect_dump(fx_t *f, const char *product, uint64_t first, uint64_t n,
	    const char *want)
{
	char *s = dump(f, product, first, n);

	assert_string_equal(s, want);
	free(s);
}

/* The store's own consistency check passes. */
static void
expect_healthy(fx_t *f)
{
	weft_err_t err = {0};

	assert_int_equal(weft_store_check(f->st, NULL, NULL, &err), 0);
}

/* An error message: the path of the last file, then want. */
static void
expect_msg(fx_t *f, const weft_err_t *err, const char *want)
{
	char full[1024];

	snprintf(full, sizeof(full), "%s%s", f->path, want);
	assert_string_equal(err->msg, full);
}

/* ---- inference ---- */

static void
test_infer_types(void **state)
{
	fx_t *f = *state;
	weft_ingest_result_t res;
	weft_err_t err;
	const char *p;

	p = put(f, "fruit.csv",
		"id,name,price,ok,at,note\n"
		"1,apple,1.5,true,2024-01-02 03:04:05,\n"
		"2,\"pear, green\",2,false,2024-01-03,\"\"\n"
		"3,\"say \"\"hi\"\"\",,yes,2024-02-29 23:59:59,x\n"
		"4,\"multi\nline\",-4.25e1,,2024-03-01T00:00:00+01:00,\n");
	assert_int_equal(
	    ingest(f, "shop.fruit", p, WEFT_PUB_CREATE, NULL, &res, &err), 0);
	assert_int_equal(res.rows, 4);
	assert_int_equal(res.version, 1);
	assert_true(res.bytes > 100);
	expect_schema(f, "shop.fruit",
		      "id:int64 name:text price:float64? ok:bool? "
		      "at:timestamp note:text?");
	expect_dump(f, "shop.fruit", 0, 4,
		    "1|apple|1.5|t|2024-01-02 03:04:05|NULL\n"
		    "2|pear, green|2|f|2024-01-03 00:00:00|\n"
		    "3|say \"hi\"|NULL|t|2024-02-29 23:59:59|x\n"
		    "4|multi\nline|-42.5|NULL|2024-02-29 23:00:00|NULL\n");
	expect_healthy(f);
}

/* 0/1 only stays int64; all-NULL is text; words make bool. */
static void
test_infer_edge(void **state)
{
	fx_t *f = *state;
	weft_err_t err;
	const char *p;

	p = put(f, "e.csv", "a,b,c,d\n0,,t,1\n1,,F,no\n1,,on,0\n");
	assert_int_equal(
	    ingest(f, "t.edge", p, WEFT_PUB_CREATE, NULL, NULL, &err), 0);
	expect_schema(f, "t.edge", "a:int64 b:text? c:bool d:bool");
	expect_dump(f, "t.edge", 0, 3, "0|NULL|t|t\n1|NULL|f|f\n1|NULL|t|f\n");
}

/* A value past the sample that does not fit: the column widens and the
 * whole file is read again; a second column widens on a later pass. */
static void
test_widen_restart(void **state)
{
	fx_t *f = *state;
	size_t cap = 1 << 20, o = 0, i;
	char *buf = malloc(cap);
	weft_ingest_result_t res;
	weft_err_t err;
	const char *p;

	o += (size_t)snprintf(buf + o, cap - o, "n,v,w\n");
	for (i = 0; i < 30000; i++) {
		const char *v = i == 15000 ? "2.5" : "7";
		const char *w = i == 25000 ? "2024-13-01" : "2024-05-06";

		o += (size_t)snprintf(buf + o, cap - o, "%zu,%s,%s\n", i, v, w);
	}
	p = put_file(f, "w.csv", buf, o);
	assert_int_equal(
	    ingest(f, "t.widen", p, WEFT_PUB_CREATE, NULL, &res, &err), 0);
	assert_int_equal(res.rows, 30000);
	expect_schema(f, "t.widen", "n:int64 v:float64 w:text");
	expect_dump(f, "t.widen", 14999, 2,
		    "14999|7|2024-05-06\n15000|2.5|2024-05-06\n");
	expect_dump(f, "t.widen", 25000, 1, "25000|7|2024-13-01\n");
	expect_healthy(f);
	free(buf);
}

/* ---- JSON Lines ---- */

static void
test_jsonl(void **state)
{
	fx_t *f = *state;
	weft_ingest_result_t res;
	weft_err_t err;
	const char *p;

	p = put(f, "j.jsonl",
		"{\"id\":1,\"name\":\"a\\u00e9\",\"at\":\"2024-01-01\","
		"\"ok\":true,\"x\":1.5,\"s\":\"42\"}\n"
		"{\"name\":\"\",\"id\":2,\"ok\":false,\"x\":null}\n"
		"\n"
		"{\"id\":3,\"at\":null,\"s\":\"\",\"x\":-2}\n");
	assert_int_equal(
	    ingest(f, "t.json", p, WEFT_PUB_CREATE, NULL, &res, &err), 0);
	assert_int_equal(res.rows, 3);
	expect_schema(f, "t.json",
		      "id:int64 name:text? at:timestamp? ok:bool? x:float64? "
		      "s:text?");
	expect_dump(f, "t.json", 0, 3,
		    "1|a\xC3\xA9|2024-01-01 00:00:00|t|1.5|42\n"
		    "2||NULL|f|NULL|NULL\n"
		    "3|NULL|NULL|NULL|-2|\n");

	p = put(f, "bad.jsonl", "{\"a\":1}\n{\"a\":2,\"b\":3}\n");
	assert_int_equal(
	    ingest(f, "t.json2", p, WEFT_PUB_CREATE, NULL, NULL, &err),
	    WEFT_ESCHEMA);
	expect_msg(f, &err,
		   ":2: unknown key \"b\" (the first line defines "
		   "the columns)");
	p = put(f, "nest.jsonl", "{\"a\":1}\n{\"a\":[2]}\n");
	assert_int_equal(
	    ingest(f, "t.json2", p, WEFT_PUB_CREATE, NULL, NULL, &err),
	    WEFT_EPARSE);
	expect_msg(f, &err,
		   ":2: key \"a\": nested objects and arrays are not "
		   "supported");
	/* A JSON string in a column inferred from numbers: widens to text. */
	p = put(f, "mix.jsonl", "{\"a\":1}\n{\"a\":\"2\"}\n");
	assert_int_equal(
	    ingest(f, "t.json3", p, WEFT_PUB_CREATE, NULL, NULL, &err), 0);
	expect_schema(f, "t.json3", "a:text");
	/* Format by content when the name says nothing. */
	p = put(f, "j.data", "  {\"k\":true}\n");
	assert_int_equal(
	    ingest(f, "t.json4", p, WEFT_PUB_CREATE, NULL, NULL, &err), 0);
	expect_schema(f, "t.json4", "k:bool");
}

/* ---- contracts ---- */

static void
contract_make(weft_product_info_t *c)
{
	static const char yaml[] = "apiVersion: v3.0.2\n";

	memset(c, 0, sizeof(*c));
	c->owner = strdup("team-a");
	c->description = strdup("Orders.");
	weft_strlist_add(&c->tags, &c->ntags, "sales");
	c->ncols = 3;
	c->cols = calloc(3, sizeof(*c->cols));
	c->cols[0].name = strdup("id");
	c->cols[0].type = WEFT_T_INT64;
	c->cols[0].description = strdup("Order number.");
	c->cols[1].name = strdup("qty");
	c->cols[1].type = WEFT_T_INT64;
	c->cols[1].nullable = 1;
	c->cols[2].name = strdup("who");
	c->cols[2].type = WEFT_T_TEXT;
	c->cols[2].nullable = 1;
	c->contract_yaml = malloc(sizeof(yaml) - 1);
	memcpy(c->contract_yaml, yaml, sizeof(yaml) - 1);
	c->contract_len = sizeof(yaml) - 1;
}

static void
test_contract(void **state)
{
	fx_t *f = *state;
	weft_product_info_t c, pi = {0};
	weft_err_t err;
	const char *p;

	contract_make(&c);
	/* Columns in another order than the contract's: mapped by name. */
	p = put(f, "o.csv", "who,id,qty\nann,1,10\n\"\",2,\n");
	assert_int_equal(
	    ingest(f, "shop.orders", p, WEFT_PUB_CREATE, &c, NULL, &err), 0);
	expect_schema(f, "shop.orders", "id:int64 qty:int64? who:text?");
	expect_dump(f, "shop.orders", 0, 2, "1|10|ann\n2|NULL|\n");
	assert_int_equal(weft_product_get(f->st, "shop.orders", &pi, &err), 0);
	assert_string_equal(pi.owner, "team-a");
	assert_string_equal(pi.description, "Orders.");
	assert_int_equal(pi.ntags, 1);
	assert_string_equal(pi.tags[0], "sales");
	assert_string_equal(pi.cols[0].description, "Order number.");
	assert_int_equal(pi.contract_len, c.contract_len);
	weft_product_info_clear(&pi);

	/* Header-only file: zero rows, types from the contract. */
	p = put(f, "h.csv", "id,qty,who\n");
	assert_int_equal(
	    ingest(f, "shop.empty", p, WEFT_PUB_CREATE, &c, NULL, &err), 0);
	expect_schema(f, "shop.empty", "id:int64 qty:int64? who:text?");

	/* Mismatches. */
	p = put(f, "m.csv", "id,qty,whom\n1,2,x\n");
	assert_int_equal(
	    ingest(f, "shop.x", p, WEFT_PUB_CREATE, &c, NULL, &err),
	    WEFT_ESCHEMA);
	expect_msg(f, &err,
		   ": contract does not match file: file has no "
		   "column \"who\"; contract has no column \"whom\"");
	p = put(f, "m2.csv", "id,qty\n1,2\n");
	assert_int_equal(
	    ingest(f, "shop.x", p, WEFT_PUB_CREATE, &c, NULL, &err),
	    WEFT_ESCHEMA);
	expect_msg(f, &err,
		   ": contract does not match file: file has no "
		   "column \"who\"");
	free(c.cols[2].name);
	c.cols[2].name = strdup("id");
	assert_int_equal(
	    ingest(f, "shop.x", p, WEFT_PUB_CREATE, &c, NULL, &err),
	    WEFT_ESCHEMA);
	assert_string_equal(err.msg, "contract: column \"id\" is listed twice");
	free(c.cols[2].name);
	c.cols[2].name = strdup("who");

	/* Values that do not fit: errors, not widening. */
	p = put(f, "b1.csv", "id,qty,who\n1,2,x\n2,abc,y\n");
	assert_int_equal(
	    ingest(f, "shop.x", p, WEFT_PUB_CREATE, &c, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err, ":3: column \"qty\": \"abc\" is not an integer");
	p = put(f, "b2.csv", "id,qty,who\n99999999999999999999,2,x\n");
	assert_int_equal(
	    ingest(f, "shop.x", p, WEFT_PUB_CREATE, &c, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err,
		   ":2: column \"id\": \"99999999999999999999\" is "
		   "out of range for int64");
	p = put(f, "b3.csv", "id,qty,who\n1,2,x\n,3,y\n");
	assert_int_equal(
	    ingest(f, "shop.x", p, WEFT_PUB_CREATE, &c, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err,
		   ":3: column \"id\": missing value in a required "
		   "(not nullable) column");
	/* "" is NULL in a non-text column. */
	p = put(f, "b4.csv", "id,qty,who\n\"\",3,y\n");
	assert_int_equal(
	    ingest(f, "shop.x", p, WEFT_PUB_CREATE, &c, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err,
		   ":2: column \"id\": missing value in a required "
		   "(not nullable) column");
	p = put(f, "b5.csv", "id,qty,who\n1,2,\"a\nb\"\n2,3,\"bad\xC3\x28\"\n");
	assert_int_equal(
	    ingest(f, "shop.x", p, WEFT_PUB_CREATE, &c, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err, ":4: column \"who\": invalid UTF-8 at byte 4");
	p = put_file(f, "b6.csv", "id,qty,who\n1,2,a\0b\n", 18);
	assert_int_equal(
	    ingest(f, "shop.x", p, WEFT_PUB_CREATE, &c, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err, ":2: column \"who\": NUL byte at byte 2");
	assert_int_equal(weft_product_get(f->st, "shop.x", &pi, &err),
			 WEFT_ENOTFOUND);
	weft_product_info_clear(&c);
}

/* ---- append ---- */

static void
test_append(void **state)
{
	fx_t *f = *state;
	weft_ingest_result_t res;
	weft_err_t err;
	uint64_t rows;
	const char *p;

	p = put(f, "a.csv", "id,name,at\n1,a,2024-01-01\n2,b,2024-01-02\n");
	assert_int_equal(
	    ingest(f, "t.app", p, WEFT_PUB_CREATE, NULL, NULL, &err), 0);
	expect_schema(f, "t.app", "id:int64 name:text at:timestamp");

	/* Columns in another order; a NULL widens nullability (no
	 * contract); the product's types are kept ("3" stays int64). */
	p = put(f, "b.csv", "at,id,name\n2024-02-01 10:00,3,\n,4,d\n");
	assert_int_equal(
	    ingest(f, "t.app", p, WEFT_PUB_APPEND, NULL, &res, &err), 0);
	assert_int_equal(res.rows, 2);
	assert_int_equal(res.version, 2);
	expect_schema(f, "t.app", "id:int64 name:text? at:timestamp?");
	expect_dump(f, "t.app", 0, 4,
		    "1|a|2024-01-01 00:00:00\n2|b|2024-01-02 00:00:00\n"
		    "3|NULL|2024-02-01 10:00:00\n4|d|NULL\n");

	/* Failed appends leave version 2 exactly as it was. */
	p = put(f, "c.csv", "id,name,at\n5,e,2024-01-01\nx,f,2024-01-01\n");
	assert_int_equal(
	    ingest(f, "t.app", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err, ":3: column \"id\": \"x\" is not an integer");
	p = put(f, "d.csv", "id,name\n5,e\n");
	assert_int_equal(
	    ingest(f, "t.app", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ESCHEMA);
	expect_msg(f, &err,
		   ": columns do not match product \"t.app\": file "
		   "has no column \"at\"");
	p = put(f, "e.csv", "id,name,at\n5,e,2024-01-01\n6,f\n");
	assert_int_equal(
	    ingest(f, "t.app", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_EPARSE);
	expect_msg(f, &err, ":3: expected 3 fields, found 2");
	assert_int_equal(version_of(f, "t.app", &rows), 2);
	assert_int_equal(rows, 4);
	expect_dump(f, "t.app", 0, 4,
		    "1|a|2024-01-01 00:00:00\n2|b|2024-01-02 00:00:00\n"
		    "3|NULL|2024-02-01 10:00:00\n4|d|NULL\n");
	/* Append to nothing; create over something. */
	assert_int_equal(
	    ingest(f, "t.none", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ENOTFOUND);
	p = put(f, "f.csv", "q\n1\n");
	assert_int_equal(
	    ingest(f, "t.app", p, WEFT_PUB_CREATE, NULL, NULL, &err),
	    WEFT_EEXIST);
	/* Replace changes the schema. */
	assert_int_equal(
	    ingest(f, "t.app", p, WEFT_PUB_REPLACE, NULL, NULL, &err), 0);
	expect_schema(f, "t.app", "q:int64");
	assert_int_equal(version_of(f, "t.app", &rows), 3);
	assert_int_equal(rows, 1);
	expect_healthy(f);
}

/* Fixed types (an append) name the type a value failed. */
static void
test_type_errors(void **state)
{
	fx_t *f = *state;
	weft_err_t err;
	const char *p;

	p = put(f, "t.csv", "x,b,t\n1.5,true,2024-01-01\n");
	assert_int_equal(
	    ingest(f, "t.types", p, WEFT_PUB_CREATE, NULL, NULL, &err), 0);
	expect_schema(f, "t.types", "x:float64 b:bool t:timestamp");
	p = put(f, "t1.csv", "x,b,t\nabc,true,2024-01-01\n");
	assert_int_equal(
	    ingest(f, "t.types", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err, ":2: column \"x\": \"abc\" is not a number");
	p = put(f, "t2.csv", "x,b,t\n1e999,true,2024-01-01\n");
	assert_int_equal(
	    ingest(f, "t.types", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err,
		   ":2: column \"x\": \"1e999\" is out of range "
		   "for float64");
	p = put(f, "t3.csv", "x,b,t\n1,maybe,2024-01-01\n");
	assert_int_equal(
	    ingest(f, "t.types", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err, ":2: column \"b\": \"maybe\" is not a boolean");
	p = put(f, "t4.csv", "x,b,t\n1,1,2023-02-29\n");
	assert_int_equal(
	    ingest(f, "t.types", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err,
		   ":2: column \"t\": \"2023-02-29\" is not a "
		   "timestamp (YYYY-MM-DD [HH:MM[:SS[.ffffff]]]"
		   "[Z|+HH:MM])");
	/* Long and binary values are shown shortened and escaped. */
	p = put(f, "t5.csv",
		"x,b,t\n1,1,\"\"\"0123456789012345678901234567"
		"890123456789012345678901234567890123456789\x01\"\n");
	assert_int_equal(
	    ingest(f, "t.types", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err,
		   ":2: column \"t\": \"\\\"0123456789012345678901"
		   "234567890123456789012345678901234567...\" is "
		   "not a timestamp (YYYY-MM-DD [HH:MM[:SS[.ffffff]]]"
		   "[Z|+HH:MM])");
	p = put(f, "t6.csv", "x,b,t\n1,1,\"\x01\xff\"\n");
	assert_int_equal(
	    ingest(f, "t.types", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err,
		   ":2: column \"t\": \"\\x01\\xff\" is not a "
		   "timestamp (YYYY-MM-DD [HH:MM[:SS[.ffffff]]]"
		   "[Z|+HH:MM])");
	p = put(f, "t7.csv", "x,b,t\n-0.5,off,2024-06-30T23:59:59.5-02\n");
	assert_int_equal(
	    ingest(f, "t.types", p, WEFT_PUB_APPEND, NULL, NULL, &err), 0);
	expect_dump(f, "t.types", 0, 2,
		    "1.5|t|2024-01-01 00:00:00\n"
		    "-0.5|f|2024-07-01 01:59:59.5\n");
}

/* An append with a contract: it must agree with the product, and its
 * metadata updates the descriptor. */
static void
test_append_contract(void **state)
{
	fx_t *f = *state;
	weft_product_info_t c, pi = {0};
	weft_err_t err;
	const char *p;

	contract_make(&c);
	p = put(f, "o.csv", "id,qty,who\n1,2,a\n");
	assert_int_equal(
	    ingest(f, "shop.o", p, WEFT_PUB_CREATE, NULL, NULL, &err), 0);
	expect_schema(f, "shop.o", "id:int64 qty:int64 who:text");
	assert_int_equal(
	    ingest(f, "shop.o", p, WEFT_PUB_APPEND, &c, NULL, &err), 0);
	assert_int_equal(weft_product_get(f->st, "shop.o", &pi, &err), 0);
	assert_string_equal(pi.owner, "team-a");
	assert_int_equal(pi.row_count, 2);
	weft_product_info_clear(&pi);
	/* Now the product carries a contract: its required columns hold. */
	p = put(f, "o2.csv", "id,qty,who\n,2,a\n");
	assert_int_equal(
	    ingest(f, "shop.o", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err,
		   ":2: column \"id\": missing value in a required "
		   "(not nullable) column");
	c.cols[1].type = WEFT_T_FLOAT64;
	assert_int_equal(
	    ingest(f, "shop.o", p, WEFT_PUB_APPEND, &c, NULL, &err),
	    WEFT_ESCHEMA);
	assert_string_equal(err.msg, "contract does not match product "
				     "\"shop.o\" (its columns or types "
				     "differ; use --replace)");
	weft_product_info_clear(&c);
}

/* What the progress callback was told. */
typedef struct {
	int calls, done_calls;
	uint64_t bytes, total, rows;
} prog_t;

static void
prog_cb(void *arg, uint64_t bytes, uint64_t total, uint64_t rows, int done)
{
	prog_t *p = arg;

	assert_int_equal(p->done_calls, 0); /* nothing after the end */
	assert_true(bytes >= p->bytes && bytes <= total);
	p->calls++;
	p->done_calls += done != 0;
	p->bytes = bytes;
	p->total = total;
	p->rows = rows;
}

/* Progress: reported while writing and once at the end, after the
 * commit, with the whole file read; never after a failure. The store
 * prints nothing itself. */
static void
test_progress(void **state)
{
	fx_t *f = *state;
	weft_ingest_opts_t o = {0};
	weft_ingest_result_t res;
	weft_err_t err = {0};
	prog_t p = {0};

	o.path = put(f, "p.csv", "a\n1\n2\n");
	o.progress = prog_cb;
	o.progress_arg = &p;
	assert_int_equal(
	    weft_ingest(f->st, "t.prog", &o, &f->id.signer, &res, &err), 0);
	assert_true(p.calls >= 2);
	assert_int_equal(p.done_calls, 1);
	assert_int_equal(p.bytes, 6);
	assert_int_equal(p.total, 6);
	assert_int_equal(p.rows, 2);

	memset(&p, 0, sizeof(p));
	o.path = put(f, "q.csv", "a\n1\nx\n");
	o.mode = WEFT_PUB_APPEND; /* a is int64: "x" does not fit */
	assert_int_equal(
	    weft_ingest(f->st, "t.prog", &o, &f->id.signer, &res, &err),
	    WEFT_ETYPE);
	assert_int_equal(p.done_calls, 0);
}

/* ---- files ---- */

static void
test_file_errors(void **state)
{
	fx_t *f = *state;
	weft_product_info_t pi = {0};
	weft_err_t err;
	const char *p;

	p = put(f, "empty.csv", "");
	assert_int_equal(ingest(f, "t.f", p, WEFT_PUB_CREATE, NULL, NULL, &err),
			 WEFT_EPARSE);
	expect_msg(f, &err, ": empty file (no header row)");
	p = put(f, "hdr.csv", "a,b\n");
	assert_int_equal(ingest(f, "t.f", p, WEFT_PUB_CREATE, NULL, NULL, &err),
			 WEFT_EPARSE);
	expect_msg(f, &err,
		   ": no data rows (column types cannot be inferred; "
		   "give a contract)");
	p = put(f, "dup.csv", "a,b,a\n1,2,3\n");
	assert_int_equal(ingest(f, "t.f", p, WEFT_PUB_CREATE, NULL, NULL, &err),
			 WEFT_EINVAL);
	expect_msg(f, &err, ":1: duplicate column name \"a\"");
	p = put(f, "noname.csv", "a,,b\n1,2,3\n");
	assert_int_equal(ingest(f, "t.f", p, WEFT_PUB_CREATE, NULL, NULL, &err),
			 WEFT_EINVAL);
	expect_msg(f, &err, ":1: column 2: empty column name");
	p = put(f, "q.csv", "a,b\n1,\"x\n");
	assert_int_equal(ingest(f, "t.f", p, WEFT_PUB_CREATE, NULL, NULL, &err),
			 WEFT_EPARSE);
	expect_msg(f, &err,
		   ":2: unterminated quoted field starting at "
		   "line 2");
	p = put(f, "nope.csv", "x");
	snprintf(f->path, sizeof(f->path), "%s/missing.csv", f->dir);
	assert_int_equal(
	    ingest(f, "t.f", f->path, WEFT_PUB_CREATE, NULL, NULL, &err),
	    -ENOENT);
	expect_msg(f, &err, ": cannot open: No such file or directory");
	snprintf(f->path, sizeof(f->path), "%s", f->dir);
	assert_int_equal(
	    ingest(f, "t.f", f->path, WEFT_PUB_CREATE, NULL, NULL, &err),
	    WEFT_EINVAL);
	expect_msg(f, &err, ": is a directory");
	assert_int_equal(
	    ingest(f, "Bad Name", p, WEFT_PUB_CREATE, NULL, NULL, &err),
	    WEFT_EINVAL);
	assert_int_equal(weft_product_get(f->st, "t.f", &pi, &err),
			 WEFT_ENOTFOUND);
}

/* ---- size: many chunks, the threaded pipeline, a map that grows ---- */

static char *
gen_rows(size_t rows, size_t bad_at, size_t *len)
{
	size_t cap = rows * 64 + 64, o = 0, i;
	char *b = malloc(cap);

	o += (size_t)snprintf(b, cap, "ts,user_id,amount,category,region\n");
	for (i = 0; i < rows; i++) {
		if (i == bad_at)
			o += (size_t)snprintf(
			    b + o, cap - o, "2024-01-01 00:00:00,1,oops,x,y\n");
		else
			o += (size_t)snprintf(
			    b + o, cap - o,
			    "2024-%02zu-%02zu %02zu:%02zu:%02zu,%zu,%zu,"
			    "\"cat %zu\",region_%zu\n",
			    i % 12 + 1, i % 28 + 1, i % 24, i % 60,
			    (i / 60) % 60, i, (i * 7919) % 100000, i % 17,
			    i % 3000);
	}
	*len = o;
	return b;
}

static void
test_big_threaded(void **state)
{
	fx_t *f = *state;
	weft_ingest_result_t res;
	weft_err_t err;
	size_t len, rows = 150000;
	char *b = gen_rows(rows, SIZE_MAX, &len);
	const char *p;
	uint64_t n;
	char want[256];

	assert_true(len > (4u << 20)); /* big enough for two threads */
	p = put_file(f, "big.csv", b, len);
	free(b);
	assert_int_equal(
	    ingest(f, "bench.events", p, WEFT_PUB_CREATE, NULL, &res, &err), 0);
	assert_int_equal(res.rows, rows);
	assert_int_equal(res.bytes, len);
	expect_schema(f, "bench.events",
		      "ts:timestamp user_id:int64 amount:int64 category:text "
		      "region:text");
	assert_int_equal(version_of(f, "bench.events", &n), 1);
	assert_int_equal(n, rows);
	snprintf(want, sizeof(want),
		 "2024-%02d-%02d %02d:%02d:%02d|%d|%d|"
		 "cat %d|region_%d\n",
		 140000 % 12 + 1, 140000 % 28 + 1, 140000 % 24, 140000 % 60,
		 (140000 / 60) % 60, 140000, (140000 * 7919) % 100000,
		 140000 % 17, 140000 % 3000);
	expect_dump(f, "bench.events", 140000, 1, want);
	expect_healthy(f);

	/* A bad value deep in the file, after the map grew and several
	 * batches went out: a clean error, version 1 intact. */
	b = gen_rows(rows, 120000, &len);
	p = put_file(f, "big2.csv", b, len);
	free(b);
	assert_int_equal(
	    ingest(f, "bench.events", p, WEFT_PUB_APPEND, NULL, NULL, &err),
	    WEFT_ETYPE);
	expect_msg(f, &err,
		   ":120002: column \"amount\": \"oops\" is not an "
		   "integer");
	assert_int_equal(version_of(f, "bench.events", &n), 1);
	assert_int_equal(n, rows);
	/* The same file inferred: "oops" widens amount to text, late. */
	assert_int_equal(
	    ingest(f, "bench.widened", p, WEFT_PUB_CREATE, NULL, &res, &err),
	    0);
	assert_int_equal(res.rows, rows);
	expect_schema(f, "bench.widened",
		      "ts:timestamp user_id:int64 amount:text category:text "
		      "region:text");
	expect_dump(f, "bench.widened", 120000, 1,
		    "2024-01-01 00:00:00|1|oops|x|y\n");
	expect_healthy(f);
}

/* A map that may not grow enough: WEFT_EMAPFULL after retries (the
 * writer side failing while the parser thread runs), and nothing
 * written. */
static void
test_map_full(void **state)
{
	fx_t *f = *state;
	weft_store_opts_t o = {0};
	weft_store_t *st;
	weft_ingest_opts_t io = {0};
	weft_ingest_result_t res;
	weft_err_t err = {0};
	weft_product_info_t pi = {0};
	size_t len;
	char *b = gen_rows(150000, SIZE_MAX, &len);
	char sub[600];
	const char *p = put_file(f, "mf.csv", b, len);

	free(b);
	snprintf(sub, sizeof(sub), "%s/small", f->dir);
	o.create = 1;
	o.map_init = 1 << 20;
	o.map_max = 2 << 20;
	assert_int_equal(weft_store_open(sub, &o, &st, NULL), 0);
	assert_int_equal(weft_store_trust_add(st, &f->id.root, NULL), 0);
	io.path = p;
	assert_int_equal(
	    weft_ingest(st, "t.full", &io, &f->id.signer, &res, &err),
	    WEFT_EMAPFULL);
	assert_int_equal(weft_product_get(st, "t.full", &pi, &err),
			 WEFT_ENOTFOUND);
	weft_store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_infer_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_infer_edge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_widen_restart, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_jsonl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_contract, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_type_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_contract, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_progress, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_big_threaded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
