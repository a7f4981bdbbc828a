/*
 * test_utf8.c: lib/utf8: decoding against a table of well-formed and
 * malformed sequences, the validity checks, display widths and cutting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/utf8.h"

/* One sequence: its bytes, and the length and code point decoding must
 * give (len 0: malformed). */
typedef struct {
	const char *s;
	size_t n, len;
	uint32_t cp;
} dec_case_t;

static const dec_case_t dec_cases[] = {
    /* well-formed: each length at its bounds */
    {"A", 1, 1, 0x41},
    {"\x00", 1, 1, 0},
    {"\x7F", 1, 1, 0x7F},
    {"\xC2\x80", 2, 2, 0x80},
    {"\xC3\xA9", 2, 2, 0xE9},
    {"\xDF\xBF", 2, 2, 0x7FF},
    {"\xE0\xA0\x80", 3, 3, 0x800},
    {"\xE2\x82\xAC", 3, 3, 0x20AC},
    {"\xED\x9F\xBF", 3, 3, 0xD7FF},
    {"\xEE\x80\x80", 3, 3, 0xE000},
    {"\xEF\xBF\xBF", 3, 3, 0xFFFF},
    {"\xF0\x90\x80\x80", 4, 4, 0x10000},
    {"\xF0\x9F\x98\x80", 4, 4, 0x1F600},
    {"\xF4\x8F\xBF\xBF", 4, 4, 0x10FFFF},
    /* only the first sequence counts */
    {"\xC3\xA9xyz", 5, 2, 0xE9},
    /* overlong forms */
    {"\xC0\x80", 2, 0, 0},
    {"\xC1\xBF", 2, 0, 0},
    {"\xE0\x80\xAF", 3, 0, 0},
    {"\xE0\x9F\xBF", 3, 0, 0},
    {"\xF0\x80\x80\xAF", 4, 0, 0},
    {"\xF0\x8F\xBF\xBF", 4, 0, 0},
    /* surrogates */
    {"\xED\xA0\x80", 3, 0, 0},
    {"\xED\xBF\xBF", 3, 0, 0},
    /* above U+10FFFF, bytes that never start a sequence */
    {"\xF4\x90\x80\x80", 4, 0, 0},
    {"\xF5\x80\x80\x80", 4, 0, 0},
    {"\xF8\x88\x80\x80\x80", 5, 0, 0},
    {"\xFF", 1, 0, 0},
    {"\x80", 1, 0, 0},
    {"\xBF\x80", 2, 0, 0},
    /* truncated, by n or by a byte that is not a continuation */
    {"\xC3", 1, 0, 0},
    {"\xE2\x82", 2, 0, 0},
    {"\xF0\x9F\x98", 3, 0, 0},
    {"\xC3\x28", 2, 0, 0},
    {"\xE2\x28\xA1", 3, 0, 0},
    {"\xE2\x82\x28", 3, 0, 0},
    {"\xF0\x9F\x98\x28", 4, 0, 0},
    {"", 0, 0, 0},
};

static void
test_decode(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
		const dec_case_t *c = &dec_cases[i];
		uint32_t cp = 0xDEADBEEF;
		size_t k =
		    weft_utf8_decode((const unsigned char *)c->s, c->n, &cp);

		if (k != c->len || (k != 0 && cp != c->cp))
			fail_msg("case %zu: got length %zu, U+%04X", i, k, cp);
		if (k == 0)
			assert_int_equal(cp, 0xDEADBEEF);
		/* a sequence cut one byte short never decodes */
		if (c->len > 1)
			assert_int_equal(
			    weft_utf8_decode((const unsigned char *)c->s,
					     c->len - 1, &cp),
			    0);
	}
}

static void
test_encode(void **state)
{
	static const uint32_t cps[] = {0,      0x41,	0x7F,	 0x80,
				       0xE9,   0x7FF,	0x800,	 0x20AC,
				       0xFFFF, 0x10000, 0x1F600, 0x10FFFF};
	size_t i;

	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		char buf[4];
		uint32_t cp;
		size_t n = weft_utf8_encode(cps[i], buf);

		assert_int_equal(
		    weft_utf8_decode((const unsigned char *)buf, n, &cp), n);
		assert_int_equal(cp, cps[i]);
	}
}

static size_t
u8(const char *s)
{
	return weft_utf8_check(s, strlen(s));
}

/* weft_utf8_check: offset of the first bad sequence or NUL. */
static void
test_check(void **state)
{
	assert_int_equal(u8(""), 0);
	assert_int_equal(u8("plain ascii text, long enough for words"), 39);
	assert_int_equal(u8("caf\xC3\xA9"), 5);
	assert_int_equal(u8("\xE2\x82\xAC"), 3);     /* U+20AC */
	assert_int_equal(u8("\xF0\x9F\x98\x80"), 4); /* U+1F600 */
	assert_int_equal(u8("\xF4\x8F\xBF\xBF"), 4); /* U+10FFFF */
	assert_int_equal(u8("\xED\x9F\xBF"), 3);     /* U+D7FF */
	assert_int_equal(u8("\xEE\x80\x80"), 3);     /* U+E000 */
	/* Overlong forms. */
	assert_int_equal(u8("ab\xC0\x80"), 2);
	assert_int_equal(u8("\xC1\xBF"), 0);
	assert_int_equal(u8("\xE0\x80\xAF"), 0);
	assert_int_equal(u8("\xE0\x9F\xBF"), 0);
	assert_int_equal(u8("\xF0\x80\x80\xAF"), 0);
	assert_int_equal(u8("\xF0\x8F\xBF\xBF"), 0);
	/* Surrogates. */
	assert_int_equal(u8("x\xED\xA0\x80"), 1);
	assert_int_equal(u8("\xED\xBF\xBF"), 0);
	/* Above U+10FFFF, invalid lead bytes. */
	assert_int_equal(u8("\xF4\x90\x80\x80"), 0);
	assert_int_equal(u8("\xF5\x80\x80\x80"), 0);
	assert_int_equal(u8("\xFF"), 0);
	assert_int_equal(u8("abcdefghij\x80"), 10);
	/* Truncated and broken sequences. */
	assert_int_equal(u8("abc\xC3"), 3);
	assert_int_equal(u8("\xE2\x82"), 0);
	assert_int_equal(u8("\xE2\x28\xA1"), 0);
	assert_int_equal(u8("\xF0\x9F\x98"), 0);
	assert_int_equal(u8("\xF0\x9F\x98\x28"), 0);
	/* NUL is rejected wherever it is. */
	assert_int_equal(weft_utf8_check("abc\0def", 7), 3);
	assert_int_equal(weft_utf8_check("abcdefghijk\0mnop", 16), 11);
	assert_int_equal(weft_utf8_check("abcdefghijklmnopqrs\0", 20), 19);
	assert_int_equal(weft_utf8_check("\0", 1), 0);
}

/* weft_utf8_valid: the same rule, but NUL is a character like any. */
static void
test_valid(void **state)
{
	size_t i;

	assert_true(weft_utf8_valid("", 0));
	assert_true(weft_utf8_valid("abc\0def", 7));
	assert_true(weft_utf8_valid("abcdefghijklmnop\0\0\0\0\0\0\0\0", 24));
	assert_true(weft_utf8_valid("caf\xC3\xA9 \xE4\xB8\xAD", 9));
	assert_false(weft_utf8_valid("abcdefghijklmnop\xC3", 17));
	assert_false(weft_utf8_valid("\0\0\0\0\0\0\0\0\xFF", 9));
	for (i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
		const dec_case_t *c = &dec_cases[i];

		if (c->n > 0)
			assert_int_equal(
			    weft_utf8_valid(c->s, c->len ? c->len : c->n),
			    c->len != 0);
	}
}

static size_t
w(const char *s)
{
	return weft_utf8_width(s, strlen(s));
}

static void
test_width(void **state)
{
	assert_int_equal(weft_utf8_cpwidth('a'), 1);
	assert_int_equal(weft_utf8_cpwidth(0xE9), 1);	/* é */
	assert_int_equal(weft_utf8_cpwidth(0x301), 0);	/* combining acute */
	assert_int_equal(weft_utf8_cpwidth(0x200B), 0); /* zero-width space */
	assert_int_equal(weft_utf8_cpwidth(0xFEFF), 0);
	assert_int_equal(weft_utf8_cpwidth(0x4E2D), 2);	 /* 中 */
	assert_int_equal(weft_utf8_cpwidth(0xD55C), 2);	 /* 한 */
	assert_int_equal(weft_utf8_cpwidth(0x1100), 2);	 /* Hangul jamo */
	assert_int_equal(weft_utf8_cpwidth(0xA960), 2);	 /* jamo ext-A */
	assert_int_equal(weft_utf8_cpwidth(0x1F600), 2); /* emoji */
	assert_int_equal(weft_utf8_cpwidth(0x1F680), 2); /* rocket */
	assert_int_equal(weft_utf8_cpwidth(0x2705), 2);	 /* check mark */
	assert_int_equal(weft_utf8_cpwidth(0xFF21), 2);	 /* fullwidth Ａ */
	assert_int_equal(weft_utf8_cpwidth(0xFF61), 1);	 /* halfwidth ｡ */
	assert_int_equal(weft_utf8_cpwidth(0x20000), 2); /* CJK ext B */
	assert_int_equal(weft_utf8_cpwidth(0x30000), 2); /* CJK ext G */
	assert_int_equal(weft_utf8_cpwidth(0x3099), 0);	 /* kana voicing */
	assert_int_equal(weft_utf8_cpwidth(0x10FFFF), 1);

	assert_int_equal(w(""), 0);
	assert_int_equal(w("hello, world: a long ASCII line"), 31);
	assert_int_equal(w("caf\xC3\xA9"), 4);
	assert_int_equal(w("cafe\xCC\x81"), 4);		    /* e + U+0301 */
	assert_int_equal(w("\xE4\xB8\xAD\xE6\x96\x87"), 4); /* 中文 */
	assert_int_equal(w("\xED\x95\x9C"), 2);		    /* 한 */
	assert_int_equal(w("\xF0\x9F\x98\x80!"), 3);	    /* 😀! */
	assert_int_equal(w("\xEF\xBC\xA1"), 2);		    /* Ａ */
	/* malformed bytes: one column each */
	assert_int_equal(w("a\xFF\xFE"
			   "b"),
			 4);
	assert_int_equal(w("\xE4\xB8"), 2);
	assert_int_equal(w("\xC0\x80"), 2);
	/* NUL and controls are single bytes like any ASCII */
	assert_int_equal(weft_utf8_width("a\0b", 3), 3);
}

static void
test_cut(void **state)
{
	const char *s = "ab\xE4\xB8\xAD"
			"c"; /* a b 中 c: 5 columns */
	size_t cols;

	assert_int_equal(weft_utf8_cut(s, strlen(s), 10, &cols), 6);
	assert_int_equal(cols, 5);
	assert_int_equal(weft_utf8_cut(s, strlen(s), 4, &cols), 5);
	assert_int_equal(cols, 4);
	/* 中 does not fit in 3 columns: cut before it, not inside it */
	assert_int_equal(weft_utf8_cut(s, strlen(s), 3, &cols), 2);
	assert_int_equal(cols, 2);
	assert_int_equal(weft_utf8_cut(s, strlen(s), 0, &cols), 0);
	assert_int_equal(cols, 0);
	/* a combining mark stays with its base */
	assert_int_equal(weft_utf8_cut("e\xCC\x81x", 4, 1, NULL), 3);
	/* malformed bytes count one column */
	assert_int_equal(weft_utf8_cut("\xFF\xFF\xFF", 3, 2, &cols), 2);
	assert_int_equal(cols, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode), cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_check),  cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_width),  cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
