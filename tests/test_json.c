/*
 * test_json.c: lib/json: escaping, invalid UTF-8, nesting and commas,
 * numbers, the rows layout, and misuse that must not corrupt the output.
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

#include "lib/err.h"
#include "lib/json.h"

/* A writer over a memory stream; out() returns what was written. */
typedef struct {
	FILE *f;
	char *buf;
	size_t len;
	weft_json_t j;
} mem_t;

static void
mem_open(mem_t *m, unsigned flags)
{
	memset(m, 0, sizeof(*m));
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	weft_json_init(&m->j, m->f, flags);
}

static const char *
mem_out(mem_t *m)
{
	fflush(m->f);
	return m->buf;
}

static void
mem_close(mem_t *m)
{
	fclose(m->f);
	free(m->buf);
}

static void
quote_is(const char *s, size_t n, const char *want)
{
	mem_t m;

	mem_open(&m, 0);
	weft_json_quote(m.f, s, n);
	assert_string_equal(mem_out(&m), want);
	mem_close(&m);
}

static void
test_escape(void **state)
{
	quote_is("", 0, "\"\"");
	quote_is("plain", 5, "\"plain\"");
	quote_is("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	quote_is("\n\r\t", 3, "\"\\n\\r\\t\"");
	quote_is("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
	quote_is("a\0b", 3, "\"a\\u0000b\"");
	/* well-formed UTF-8 passes through */
	quote_is("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80", 14,
		 "\"caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80\"");
	/* every byte that does not start a well-formed sequence: \ufffd */
	quote_is("a\xFF"
		 "b",
		 3, "\"a\\ufffdb\"");
	quote_is("\xC3", 1, "\"\\ufffd\"");
	quote_is("\xE4\xB8", 2, "\"\\ufffd\\ufffd\"");
	quote_is("\xED\xA0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
	quote_is("\xC0\xAFx", 3, "\"\\ufffd\\ufffdx\"");
	quote_is("\xF4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	quote_is("\xC3\xA9\x80", 3, "\"\xC3\xA9\\ufffd\"");
}

static void
test_nesting(void **state)
{
	mem_t m;

	mem_open(&m, 0);
	weft_json_begin_object(&m.j, NULL);
	weft_json_string(&m.j, "name", "x");
	weft_json_string(&m.j, "none", NULL);
	weft_json_begin_array(&m.j, "tags");
	weft_json_end_array(&m.j);
	weft_json_begin_array(&m.j, "cols");
	weft_json_begin_object(&m.j, NULL);
	weft_json_string(&m.j, "name", "a");
	weft_json_bool(&m.j, "ok", 1);
	weft_json_end_object(&m.j);
	weft_json_begin_object(&m.j, NULL);
	weft_json_end_object(&m.j);
	weft_json_null(&m.j, NULL);
	weft_json_begin_array(&m.j, NULL);
	weft_json_int(&m.j, NULL, 1);
	weft_json_int(&m.j, NULL, 2);
	weft_json_end_array(&m.j);
	weft_json_end_array(&m.j);
	weft_json_string_len(&m.j, "k\"ey", "a\0", 2);
	weft_json_bool(&m.j, "no", 0);
	weft_json_end_object(&m.j);
	assert_int_equal(weft_json_finish(&m.j), 0);
	assert_string_equal(mem_out(&m),
			    "{\"name\":\"x\",\"none\":null,\"tags\":[],"
			    "\"cols\":[{\"name\":\"a\",\"ok\":true},{},null,"
			    "[1,2]],\"k\\\"ey\":\"a\\u0000\",\"no\":false}");
	mem_close(&m);

	/* values at the top level, one per line */
	mem_open(&m, 0);
	weft_json_int(&m.j, NULL, 1);
	weft_json_begin_object(&m.j, NULL);
	weft_json_end_object(&m.j);
	weft_json_string(&m.j, NULL, "s");
	assert_int_equal(weft_json_finish(&m.j), 0);
	assert_string_equal(mem_out(&m), "1\n{}\n\"s\"");
	mem_close(&m);
}

/* WEFT_JSON_ROWS: `weft query --format json`'s layout. */
static void
test_rows(void **state)
{
	mem_t m;
	int i;

	mem_open(&m, WEFT_JSON_ROWS);
	weft_json_begin_array(&m.j, NULL);
	for (i = 0; i < 2; i++) {
		weft_json_begin_object(&m.j, NULL);
		weft_json_int(&m.j, "a", i);
		weft_json_begin_array(&m.j, "b");
		weft_json_int(&m.j, NULL, i);
		weft_json_int(&m.j, NULL, i);
		weft_json_end_array(&m.j);
		weft_json_end_object(&m.j);
	}
	weft_json_end_array(&m.j);
	assert_int_equal(weft_json_finish(&m.j), 0);
	assert_string_equal(
	    mem_out(&m), "[\n{\"a\":0,\"b\":[0,0]},\n{\"a\":1,\"b\":[1,1]}\n]");
	mem_close(&m);

	mem_open(&m, WEFT_JSON_ROWS);
	weft_json_begin_array(&m.j, NULL);
	weft_json_end_array(&m.j);
	assert_string_equal(mem_out(&m), "[]");
	mem_close(&m);
}

static void
num_is(double v, const char *want)
{
	mem_t m;

	mem_open(&m, 0);
	weft_json_double(&m.j, NULL, v);
	assert_string_equal(mem_out(&m), want);
	if (isfinite(v))
		assert_true(strtod(mem_out(&m), NULL) == v);
	mem_close(&m);
}

static void
test_numbers(void **state)
{
	mem_t m;

	num_is(0, "0");
	num_is(-0.0, "-0");
	num_is(1.5, "1.5");
	num_is(0.1, "0.1");
	num_is(1.0 / 3, "0.3333333333333333");
	num_is(2.0 / 3, "0.6666666666666666");
	num_is(0.1 + 0.2, "0.30000000000000004");
	num_is(1e300, "1e+300");
	num_is(-2.5e-10, "-2.5e-10");
	num_is(123456789012345678.0, "1.2345678901234568e+17");
	num_is(5e-324, "4.94065645841247e-324");
	num_is(NAN, "null");
	num_is(INFINITY, "null");
	num_is(-INFINITY, "null");

	mem_open(&m, 0);
	weft_json_begin_array(&m.j, NULL);
	weft_json_int(&m.j, NULL, INT64_MIN);
	weft_json_int(&m.j, NULL, INT64_MAX);
	weft_json_uint(&m.j, NULL, UINT64_MAX);
	weft_json_raw(&m.j, NULL, "12.50", 5);
	weft_json_end_array(&m.j);
	assert_int_equal(weft_json_finish(&m.j), 0);
	assert_string_equal(mem_out(&m),
			    "[-9223372036854775808,9223372036854775807,"
			    "18446744073709551615,12.50]");
	mem_close(&m);
}

/* Misuse writes nothing for the call, keeps the output well-formed and
 * is reported by weft_json_finish. */
static void
test_misuse(void **state)
{
	mem_t m;
	int i;

	mem_open(&m, 0);
	weft_json_begin_object(&m.j, NULL);
	weft_json_int(&m.j, NULL, 1);	   /* no key in an object */
	weft_json_begin_array(&m.j, NULL); /* the same, with contents */
	weft_json_int(&m.j, NULL, 2);
	weft_json_end_array(&m.j);
	weft_json_int(&m.j, "a", 3);
	weft_json_end_array(&m.j); /* does not match */
	weft_json_end_object(&m.j);
	assert_int_equal(weft_json_finish(&m.j), WEFT_EINVAL);
	assert_string_equal(mem_out(&m), "{\"a\":3}");
	mem_close(&m);

	mem_open(&m, 0);
	weft_json_begin_array(&m.j, NULL);
	weft_json_int(&m.j, "k", 1); /* a key in an array */
	weft_json_end_array(&m.j);
	assert_int_equal(weft_json_finish(&m.j), WEFT_EINVAL);
	assert_string_equal(mem_out(&m), "[]");
	mem_close(&m);

	/* unclosed */
	mem_open(&m, 0);
	weft_json_begin_array(&m.j, NULL);
	assert_int_equal(weft_json_finish(&m.j), WEFT_EINVAL);
	mem_close(&m);

	/* too deep: the levels past the limit are dropped, the rest closes */
	mem_open(&m, 0);
	for (i = 0; i < WEFT_JSON_DEPTH + 3; i++)
		weft_json_begin_array(&m.j, NULL);
	weft_json_int(&m.j, NULL, 7);
	for (i = 0; i < WEFT_JSON_DEPTH + 3; i++)
		weft_json_end_array(&m.j);
	assert_int_equal(weft_json_finish(&m.j), WEFT_EINVAL);
	assert_int_equal(strlen(mem_out(&m)), 2 * WEFT_JSON_DEPTH);
	assert_int_equal(mem_out(&m)[WEFT_JSON_DEPTH - 1], '[');
	assert_int_equal(mem_out(&m)[WEFT_JSON_DEPTH], ']');
	mem_close(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape), cmocka_unit_test(test_nesting),
	    cmocka_unit_test(test_rows),   cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
