/*
 * test_jsonl.c: the streaming JSON Lines reader: columns from the first
 * object, escapes, errors with line numbers, and independence from how
 * the input is split into blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/jsonl.h"

typedef struct {
	char *s;
	size_t len, cap;
} tbuf_t;

static void
tb_add(tbuf_t *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static void
tb_fmt(tbuf_t *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	tb_add(b, tmp, (size_t)n);
}

static int
drain(weft_jsonl_t *p, tbuf_t *out, weft_err_t *err)
{
	static const char *kinds[] = {"N", "R", "Q", "S"};
	const weft_field_t *f;
	size_t nf, i;
	int rc;

	while ((rc = weft_jsonl_next(p, &f, &nf, err)) == 1) {
		if (weft_jsonl_line(p) == 1 || out->len == 0) {
			tb_add(out, "cols:", 5);
			for (i = 0; i < weft_jsonl_ncols(p); i++) {
				size_t n;
				const char *c = weft_jsonl_colname(p, i, &n);

				tb_add(out, c, n);
				tb_add(out, ";", 1);
			}
			tb_add(out, "\n", 1);
		}
		tb_fmt(out, "@%llu:", (unsigned long long)weft_jsonl_line(p));
		for (i = 0; i < nf; i++) {
			tb_add(out, kinds[f[i].kind], 1);
			tb_add(out, "[", 1);
			if (f[i].kind != WEFT_FK_NULL)
				tb_add(out, f[i].ptr, f[i].len);
			tb_add(out, "]", 1);
		}
		tb_add(out, "\n", 1);
	}
	return rc;
}

static char *
run_split(const char *in, size_t len, const size_t *cuts, size_t ncuts)
{
	weft_jsonl_t *p;
	weft_err_t err = {0};
	tbuf_t out = {0};
	size_t k, start = 0;
	int rc = 0;

	assert_int_equal(weft_jsonl_new("t.jsonl", &p), 0);
	tb_add(&out, "", 0);
	for (k = 0; k <= ncuts; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		char *blk = malloc(end - start + 1);

		memcpy(blk, in + start, end - start);
		weft_jsonl_feed(p, blk, end - start, k == ncuts);
		rc = drain(p, &out, &err);
		free(blk);
		if (rc < 0)
			break;
		start = end;
	}
	if (rc < 0)
		tb_fmt(&out, "ERR %s", err.msg);
	weft_jsonl_free(p);
	return out.s;
}

static void
expect(const char *in, const char *want)
{
	size_t len = strlen(in), i, j;
	char *got = run_split(in, len, NULL, 0);

	assert_string_equal(got, want);
	free(got);
	for (i = 0; i <= len; i++) {
		size_t c1[1] = {i};

		got = run_split(in, len, c1, 1);
		assert_string_equal(got, want);
		free(got);
		for (j = i; j <= len && len <= 120; j += 3) {
			size_t c2[2] = {i, j};

			got = run_split(in, len, c2, 2);
			assert_string_equal(got, want);
			free(got);
		}
	}
}

static void
test_basic(void **state)
{
	expect("{\"a\": 1, \"b\": \"x\", \"c\": true}\n"
	       "{\"c\":false,\"a\":-2.5e3}\r\n"
	       "\n"
	       "  {\"b\":null, \"a\": 0}",
	       "cols:a;b;c;\n@1:R[1]S[x]R[true]\n@2:R[-2.5e3]N[]R[false]\n"
	       "@4:R[0]N[]N[]\n");
	expect("", "");
	expect("\n \n", "");
	/* Empty later object: all NULL. */
	expect("{\"k\":1}\n{}\n", "cols:k;\n@1:R[1]\n@2:N[]\n");
}

static void
test_escapes(void **state)
{
	expect("{\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}\n",
	       "cols:s;\n@1:S[a\"b\\c/d\b\f\n\r\t]\n");
	/* \u: ASCII, 2-byte, 3-byte, and a surrogate pair (U+1F600). */
	expect("{\"s\":\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"}\n",
	       "cols:s;\n@1:S[A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80]\n");
	/* Escaped key, escaped values in two columns (scratch fix-up). */
	expect("{\"k\\u0031\":\"\\n\",\"k2\":\"x\\ty\"}\n"
	       "{\"k2\":\"\\\"\",\"k\\u0031\":\"q\"}\n",
	       "cols:k1;k2;\n@1:S[\n]S[x\ty]\n@2:S[q]S[\"]\n");
	/* Raw UTF-8 passes through. */
	expect("{\"s\":\"\xC3\xA9t\xC3\xA9\"}",
	       "cols:s;\n@1:S[\xC3\xA9t\xC3\xA9]\n");
}

static void
test_errors(void **state)
{
	expect("{\"a\":1}\n{\"a\":{\"x\":1}}\n",
	       "cols:a;\n@1:R[1]\nERR t.jsonl:2: key \"a\": nested objects "
	       "and arrays are not supported");
	expect("{\"a\":[1]}\n",
	       "ERR t.jsonl:1: key \"a\": nested objects and arrays are not "
	       "supported");
	expect("{\"a\":1}\n{\"b\":1}\n",
	       "cols:a;\n@1:R[1]\nERR t.jsonl:2: unknown key \"b\" (the "
	       "first line defines the columns)");
	expect("{\"a\":1}\n{\"a\":1,\"a\":2}\n",
	       "cols:a;\n@1:R[1]\nERR t.jsonl:2: duplicate key \"a\"");
	expect("{\"a\":1,\"a\":2}\n", "ERR t.jsonl:1: duplicate key \"a\"");
	expect("{\"a\":1}\n[1]\n",
	       "cols:a;\n@1:R[1]\nERR t.jsonl:2: invalid JSON at byte 1: "
	       "expected an object");
	expect("{\"a\":01}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 7: expected ',' or '}'");
	expect("{\"a\":tru}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 6: invalid value");
	expect("{\"a\":1} x\n",
	       "ERR t.jsonl:1: invalid JSON at byte 9: text after the "
	       "object");
	expect("{\"a\":\"x\n",
	       "ERR t.jsonl:1: invalid JSON at byte 6: unterminated string");
	/* nothing after the quote: once arithmetic on a NULL scratch (UB) */
	expect("{\"a\":\"\n",
	       "ERR t.jsonl:1: invalid JSON at byte 6: unterminated string");
	expect("{\"a\":\"",
	       "ERR t.jsonl:1: invalid JSON at byte 6: unterminated string");
	expect("{\"a\":\"\\ud83d\"}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 7: high surrogate in \\u "
	       "escape not followed by a low one");
	expect("{\"a\":\"\\ude00\"}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 7: lone low surrogate in "
	       "\\u escape");
	expect("{\"a\":\"\\x\"}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 7: invalid escape");
	expect("{\"a\":\"\\u12\"}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 7: \\u needs four hex "
	       "digits");
	expect("{\"a\":\"\t\"}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 7: control character in "
	       "string");
	expect("{}\n", "ERR t.jsonl:1: the first object has no keys");
	expect("{\"a\" 1}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 6: expected ':'");
	expect("{\"a\":1,}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 8: expected a key");
	expect("{\"a\":-}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 6: invalid value");
	expect("{\"a\":1.}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 6: invalid value");
	expect("{\"a\":1e}\n",
	       "ERR t.jsonl:1: invalid JSON at byte 6: invalid value");
}

static void
test_line_max(void **state)
{
	size_t blk = 1 << 20, fed = 0;
	char *b = malloc(blk);
	weft_jsonl_t *p;
	weft_err_t err = {0};
	const weft_field_t *f;
	size_t nf;
	int rc = 0;

	memset(b, ' ', blk);
	assert_int_equal(weft_jsonl_new("t.jsonl", &p), 0);
	while (fed <= (size_t)WEFT_RECORD_MAX + blk) {
		weft_jsonl_feed(p, b, blk, false);
		rc = weft_jsonl_next(p, &f, &nf, &err);
		if (rc != 0)
			break;
		fed += blk;
	}
	assert_int_equal(rc, WEFT_ETOOBIG);
	assert_string_equal(err.msg,
			    "t.jsonl:1: line is longer than 67108864 bytes");
	weft_jsonl_free(p);
	free(b);
}

/* Many columns in shuffled order go through the hash table. */
static void
test_many_columns(void **state)
{
	tbuf_t in = {0};
	weft_jsonl_t *p;
	weft_err_t err = {0};
	const weft_field_t *f;
	size_t nf, i;

	tb_add(&in, "{", 1);
	for (i = 0; i < 300; i++)
		tb_fmt(&in, "%s\"c%zu\":%zu", i ? "," : "", i, i);
	tb_add(&in, "}\n{", 3);
	for (i = 0; i < 300; i++) {
		size_t c = (i * 7) % 300;

		tb_fmt(&in, "%s\"c%zu\":%zu", i ? "," : "", c, c + 1000);
	}
	tb_add(&in, "}\n", 2);
	assert_int_equal(weft_jsonl_new("t", &p), 0);
	weft_jsonl_feed(p, in.s, in.len, true);
	assert_int_equal(weft_jsonl_next(p, &f, &nf, &err), 1);
	assert_int_equal(nf, 300);
	assert_int_equal(weft_jsonl_next(p, &f, &nf, &err), 1);
	for (i = 0; i < 300; i++) {
		char want[16];

		snprintf(want, sizeof(want), "%zu", i + 1000);
		assert_int_equal(f[i].len, strlen(want));
		assert_memory_equal(f[i].ptr, want, f[i].len);
	}
	assert_int_equal(weft_jsonl_next(p, &f, &nf, &err), 0);
	weft_jsonl_reset(p);
	weft_jsonl_feed(p, "{\"z\":1}", 7, true);
	assert_int_equal(weft_jsonl_next(p, &f, &nf, &err), 1);
	assert_int_equal(weft_jsonl_ncols(p), 1);
	assert_null(weft_jsonl_colname(p, 1, NULL));
	weft_jsonl_free(p);
	weft_jsonl_free(NULL);
	free(in.s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_line_max),
	    cmocka_unit_test(test_many_columns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
