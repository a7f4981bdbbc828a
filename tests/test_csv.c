/*
 * test_csv.c: the streaming CSV reader. The central property: however the
 * input is split into blocks, the records (or the error) are the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/chunk.h"
#include "storage/csv.h"
#include "storage/descriptor.h"

/* A growing text rendering of the records read. */
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
drain(weft_csv_t *p, tbuf_t *out, weft_err_t *err)
{
	const weft_field_t *f;
	size_t nf, i;
	int rc;

	while ((rc = weft_csv_next(p, &f, &nf, err)) == 1) {
		tb_fmt(out, "@%llu:", (unsigned long long)weft_csv_line(p));
		for (i = 0; i < nf; i++) {
			tb_add(out, f[i].kind == WEFT_FK_QUOTED ? "Q[" : "R[",
			       2);
			tb_add(out, f[i].ptr, f[i].len);
			tb_add(out, "]", 1);
		}
		tb_add(out, "\n", 1);
	}
	return rc;
}

/*
 * Read `in` split at the given cut points (sorted offsets), each block
 * copied into its own heap buffer so that reads past it trip ASan.
 * Returns the rendering, ending in "ERR <msg>" on error.
 */
static char *
run_split(const char *in, size_t len, const size_t *cuts, size_t ncuts)
{
	weft_csv_t *p;
	weft_err_t err = {0};
	tbuf_t out = {0};
	char *blocks[8];
	size_t k, start = 0, nb = 0;
	int rc = 0;

	assert_true(ncuts < 8);
	assert_int_equal(weft_csv_new("t.csv", &p), 0);
	tb_add(&out, "", 0);
	for (k = 0; k <= ncuts; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		char *blk = malloc(end - start + 1);

		assert_non_null(blk);
		memcpy(blk, in + start, end - start);
		blocks[nb++] = blk;
		weft_csv_feed(p, blk, end - start, k == ncuts);
		rc = drain(p, &out, &err);
		if (rc < 0)
			break;
		start = end;
	}
	if (rc < 0)
		tb_fmt(&out, "ERR %s", err.msg);
	for (k = 0; k < nb; k++)
		free(blocks[k]);
	weft_csv_free(p);
	return out.s;
}

static char *
run_whole(const char *in)
{
	return run_split(in, strlen(in), NULL, 0);
}

/* Every one- and two-cut split gives the same result as no split. */
static void
check_splits(const char *in)
{
	size_t len = strlen(in), i, j;
	char *want = run_whole(in);

	for (i = 0; i <= len; i++) {
		size_t c1[1] = {i};
		char *got = run_split(in, len, c1, 1);

		assert_string_equal(got, want);
		free(got);
		for (j = i; j <= len && len <= 80; j++) {
			size_t c2[2] = {i, j};

			got = run_split(in, len, c2, 2);
			assert_string_equal(got, want);
			free(got);
		}
	}
	/* One byte at a time. */
	{
		weft_csv_t *p;
		weft_err_t err = {0};
		tbuf_t out = {0};
		int rc = 0;

		assert_int_equal(weft_csv_new("t.csv", &p), 0);
		tb_add(&out, "", 0);
		for (i = 0; i <= len && rc >= 0; i++) {
			char *b = malloc(1);

			if (i < len)
				b[0] = in[i];
			weft_csv_feed(p, b, i < len ? 1 : 0, i == len);
			rc = drain(p, &out, &err);
			if (rc < 0)
				tb_fmt(&out, "ERR %s", err.msg);
			free(b);
		}
		assert_string_equal(out.s, want);
		free(out.s);
		weft_csv_free(p);
	}
	free(want);
}

static void
expect(const char *in, const char *want)
{
	char *got = run_whole(in);

	assert_string_equal(got, want);
	free(got);
	check_splits(in);
}

static void
test_simple(void **state)
{
	expect("a,b,c\n1,2,3\n4,5,6\n",
	       "@1:R[a]R[b]R[c]\n@2:R[1]R[2]R[3]\n@3:R[4]R[5]R[6]\n");
	/* No final newline; CRLF. */
	expect("a,b\r\n1,2\r\n3,4", "@1:R[a]R[b]\n@2:R[1]R[2]\n@3:R[3]R[4]\n");
	/* Empty fields. */
	expect("a,b,c\n,,\n", "@1:R[a]R[b]R[c]\n@2:R[]R[]R[]\n");
	expect("", "");
	expect("\n\n", "");
}

static void
test_quoted(void **state)
{
	expect("a,b\n\"x,y\",\"he said \"\"hi\"\"\"\n",
	       "@1:R[a]R[b]\n@2:Q[x,y]Q[he said \"hi\"]\n");
	/* Embedded newlines advance the line count. */
	expect("a,b\n\"line1\nline2\r\nline3\",z\nq,\"\"\n",
	       "@1:R[a]R[b]\n@2:Q[line1\nline2\r\nline3]R[z]\n"
	       "@5:R[q]Q[]\n");
	/* Quoted field at EOF, doubled quote right at the end. */
	expect("a\n\"x\"\"\"", "@1:R[a]\n@2:Q[x\"]\n");
	expect("a\n\"\"\"\"\r\n\"\"", "@1:R[a]\n@2:Q[\"]\n@3:Q[]\n");
	/* Two escaped fields in one record (scratch offsets). */
	expect("a,b,c\n\"1\"\"\",x,\"\"\"2\"\n",
	       "@1:R[a]R[b]R[c]\n@2:Q[1\"]R[x]Q[\"2]\n");
}

static void
test_blank_lines(void **state)
{
	/* Several columns: blank lines are skipped, lines still counted. */
	expect("a,b\n\n1,2\n\r\n3,4\n",
	       "@1:R[a]R[b]\n@3:R[1]R[2]\n@5:R[3]R[4]\n");
	/* One column: a blank line is an empty field (NULL). */
	expect("a\n1\n\n2\n", "@1:R[a]\n@2:R[1]\n@3:R[]\n@4:R[2]\n");
}

static void
test_bom(void **state)
{
	expect("\xEF\xBB\xBF"
	       "a,b\n1,2\n",
	       "@1:R[a]R[b]\n@2:R[1]R[2]\n");
	expect("\xEF\xBB"
	       "a\n",
	       "@1:R[\xEF\xBB"
	       "a]\n");
	expect("\xEF\xBB\xBF", "");
}

static void
test_errors(void **state)
{
	expect("a,b\n1,2\n3\n", "@1:R[a]R[b]\n@2:R[1]R[2]\n"
				"ERR t.csv:3: expected 2 fields, found 1");
	expect("a,b\n1,2,3\n",
	       "@1:R[a]R[b]\nERR t.csv:2: expected 2 fields, found 3");
	expect("a,b\n1,\"x\ny\nz",
	       "@1:R[a]R[b]\nERR t.csv:4: unterminated quoted field "
	       "starting at line 2");
	expect("a,b\n\"p\nq\",\"x\ny\n",
	       "@1:R[a]R[b]\nERR t.csv:4: unterminated quoted field "
	       "starting at line 3");
	expect("a,b\n1,x\"y\n",
	       "@1:R[a]R[b]\nERR t.csv:2: field 2: quote inside an "
	       "unquoted field (quote the whole field and double the "
	       "quote)");
	expect("a,b\n\"x\"y,1\n",
	       "@1:R[a]R[b]\nERR t.csv:2: field 1: unexpected character "
	       "after closing quote");
	expect("a,b\n1,2\r3,4\n",
	       "@1:R[a]R[b]\nERR t.csv:2: field 2: carriage return not "
	       "followed by a line feed (quote the field)");
	/* CR at EOF is a line end. */
	expect("a,b\n1,2\r", "@1:R[a]R[b]\n@2:R[1]R[2]\n");
}

static void
test_limits(void **state)
{
	size_t n = WEFT_TEXT_MAX + 10, i;
	char *in = malloc(n + 16);
	char *got;

	/* A field over WEFT_TEXT_MAX, unquoted and quoted. */
	memcpy(in, "a\n", 2);
	memset(in + 2, 'x', n);
	in[2 + n] = '\n';
	in[3 + n] = 0;
	got = run_whole(in);
	assert_string_equal(got, "@1:R[a]\nERR t.csv:2: field 1 is longer "
				 "than 1048576 bytes");
	free(got);
	in[2] = '"';
	in[n + 1] = '"';
	got = run_whole(in);
	assert_string_equal(got, "@1:R[a]\nERR t.csv:2: field 1 is longer "
				 "than 1048576 bytes");
	free(got);
	/* Exactly WEFT_TEXT_MAX is fine. */
	memset(in + 2, 'x', WEFT_TEXT_MAX);
	in[2 + WEFT_TEXT_MAX] = 0;
	got = run_whole(in);
	assert_int_equal(strlen(got), 15 + WEFT_TEXT_MAX);
	free(got);
	free(in);

	/* Too many header fields. */
	n = 2 * (WEFT_COLS_MAX + 1);
	in = malloc(n + 1);
	for (i = 0; i < n; i += 2) {
		in[i] = 'a';
		in[i + 1] = ',';
	}
	in[n - 1] = '\n';
	in[n] = 0;
	got = run_whole(in);
	assert_string_equal(got, "ERR t.csv:1: header has 1025 fields, more "
				 "than the 1024 allowed");
	free(got);
	free(in);
}

/* A record longer than WEFT_RECORD_MAX fed in blocks stops with an error
 * instead of growing the carry without bound. */
static void
test_record_max(void **state)
{
	size_t blk = 1 << 20, fed = 0;
	char *b = malloc(blk);
	weft_csv_t *p;
	weft_err_t err = {0};
	const weft_field_t *f;
	size_t nf;
	int rc = 0;

	memset(b, 'x', blk);
	b[0] = '"';
	assert_int_equal(weft_csv_new("t.csv", &p), 0);
	while (fed <= (size_t)WEFT_RECORD_MAX + blk) {
		weft_csv_feed(p, b, blk, false);
		rc = weft_csv_next(p, &f, &nf, &err);
		if (rc != 0)
			break;
		b[0] = 'x';
		fed += blk;
	}
	assert_int_equal(rc, WEFT_ETOOBIG);
	assert_string_equal(err.msg,
			    "t.csv:1: record is longer than 67108864 bytes");
	weft_csv_free(p);
	free(b);
}

/* Reset makes a reader reusable after an error. */
static void
test_reset(void **state)
{
	weft_csv_t *p;
	weft_err_t err = {0};
	const weft_field_t *f;
	size_t nf;

	assert_int_equal(weft_csv_new(NULL, &p), 0);
	weft_csv_feed(p, "a\n\"x", 4, true);
	assert_int_equal(weft_csv_next(p, &f, &nf, &err), 1);
	assert_int_equal(weft_csv_next(p, &f, &nf, &err), WEFT_EPARSE);
	weft_csv_reset(p);
	weft_csv_feed(p, "b,c\n1,2\n", 8, true);
	assert_int_equal(weft_csv_next(p, &f, &nf, &err), 1);
	assert_int_equal(nf, 2);
	assert_int_equal(weft_csv_next(p, &f, &nf, &err), 1);
	assert_memory_equal(f[1].ptr, "2", 1);
	assert_int_equal(weft_csv_line(p), 2);
	assert_int_equal(weft_csv_records(p), 2);
	assert_int_equal(weft_csv_next(p, &f, &nf, &err), 0);
	weft_csv_free(p);
	weft_csv_free(NULL);
}

/* Long records straddling blocks, against a reference rendering. */
static void
test_long_records(void **state)
{
	tbuf_t in = {0}, want = {0};
	size_t i, cuts[3];
	char *got;

	tb_add(&in, "k,v\n", 4);
	tb_add(&want, "@1:R[k]R[v]\n", 12);
	for (i = 0; i < 50; i++) {
		size_t n = (i * 7919) % 20000, j;
		char *v = malloc(n + 1);

		for (j = 0; j < n; j++)
			v[j] = (char)('a' + (i + j) % 26);
		v[n] = 0;
		tb_fmt(&in, "%zu,\"", i);
		tb_add(&in, v, n);
		tb_add(&in, "\"\r\n", 3);
		tb_fmt(&want, "@%zu:R[%zu]Q[", i + 2, i);
		tb_add(&want, v, n);
		tb_add(&want, "]\n", 2);
		free(v);
	}
	for (i = 0; i < 20; i++) {
		cuts[0] = (i * 4099) % in.len;
		cuts[1] = cuts[0] + (i * 13) % (in.len - cuts[0]);
		cuts[2] = cuts[1] + (in.len - cuts[1]) / 2;
		got = run_split(in.s, in.len, cuts, 3);
		assert_string_equal(got, want.s);
		free(got);
	}
	free(in.s);
	free(want.s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple),	 cmocka_unit_test(test_quoted),
	    cmocka_unit_test(test_blank_lines),	 cmocka_unit_test(test_bom),
	    cmocka_unit_test(test_errors),	 cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_record_max),	 cmocka_unit_test(test_reset),
	    cmocka_unit_test(test_long_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
