/*
 * test_value.c: strict value parsing (int64, float64, bool, timestamp)
 * and type inference. (UTF-8 validation: test_utf8.c.)
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/value.h"

static int
i64(const char *s, int64_t *v)
{
	return weft_value_i64(s, strlen(s), v);
}

static int
f64(const char *s, double *v)
{
	return weft_value_f64(s, strlen(s), v);
}

static int
ts(const char *s, int64_t *v)
{
	return weft_value_ts(s, strlen(s), v);
}

static void
test_int(void **state)
{
	int64_t v = 0;

	assert_int_equal(i64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(i64("123456", &v), 0);
	assert_int_equal(v, 123456);
	assert_int_equal(i64("-42", &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(i64("+7", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(i64("  12 \t", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(i64("9223372036854775807", &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(i64("-9223372036854775808", &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(i64("0000000000000000000000000042", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(i64("9223372036854775808", &v), -ERANGE);
	assert_int_equal(i64("-9223372036854775809", &v), -ERANGE);
	assert_int_equal(i64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(i64("99999999999999999999999", &v), -ERANGE);
	assert_int_equal(i64("", &v), WEFT_ETYPE);
	assert_int_equal(i64("-", &v), WEFT_ETYPE);
	assert_int_equal(i64(" ", &v), WEFT_ETYPE);
	assert_int_equal(i64("abc", &v), WEFT_ETYPE);
	assert_int_equal(i64("1 2", &v), WEFT_ETYPE);
	assert_int_equal(i64("1.0", &v), WEFT_ETYPE);
	assert_int_equal(i64("0x10", &v), WEFT_ETYPE);
	assert_int_equal(i64("1_000", &v), WEFT_ETYPE);
	assert_int_equal(i64("--1", &v), WEFT_ETYPE);
	assert_int_equal(i64("99999999999999999999x", &v), WEFT_ETYPE);
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(weft_value_i64("12345", 2, &v), 0);
	assert_int_equal(v, 12);
}

static void
test_float(void **state)
{
	double v = 0;

	assert_int_equal(f64("1.5", &v), 0);
	assert_true(v == 1.5);
	assert_int_equal(f64("-0.1", &v), 0);
	assert_true(v == -0.1);
	assert_int_equal(f64("3.14159", &v), 0);
	assert_true(v == 3.14159);
	assert_int_equal(f64("1e10", &v), 0);
	assert_true(v == 1e10);
	assert_int_equal(f64("2.5E-3", &v), 0);
	assert_true(v == 2.5e-3);
	assert_int_equal(f64(".5", &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(f64("5.", &v), 0);
	assert_true(v == 5.0);
	assert_int_equal(f64(" 42 ", &v), 0);
	assert_true(v == 42.0);
	assert_int_equal(f64("-0", &v), 0);
	assert_true(v == 0 && signbit(v));
	assert_int_equal(f64("0e999999", &v), 0);
	assert_true(v == 0);
	/* Slow paths agree with strtod (correct rounding). */
	assert_int_equal(f64("0.1234567890123456789", &v), 0);
	assert_true(v == 0.1234567890123456789);
	assert_int_equal(f64("123456789012345678901234567890", &v), 0);
	assert_true(v == 123456789012345678901234567890.0);
	assert_int_equal(f64("1.7976931348623157e308", &v), 0);
	assert_true(v == 1.7976931348623157e308);
	assert_int_equal(f64("4.9406564584124654e-324", &v), 0);
	assert_true(v > 0);
	assert_int_equal(f64("9007199254740993", &v), 0);
	assert_true(v == 9007199254740992.0);
	/* Special values as PostgreSQL. */
	assert_int_equal(f64("NaN", &v), 0);
	assert_true(isnan(v));
	assert_int_equal(f64("nan", &v), 0);
	assert_int_equal(f64("Infinity", &v), 0);
	assert_true(isinf(v) && v > 0);
	assert_int_equal(f64("-Infinity", &v), 0);
	assert_true(isinf(v) && v < 0);
	assert_int_equal(f64("+inf", &v), 0);
	assert_true(isinf(v) && v > 0);
	assert_int_equal(f64("-NaN", &v), WEFT_ETYPE);
	/* Range. */
	assert_int_equal(f64("1e400", &v), -ERANGE);
	assert_int_equal(f64("-1e400", &v), -ERANGE);
	assert_int_equal(f64("1e-400", &v), -ERANGE);
	/* Syntax. */
	assert_int_equal(f64("", &v), WEFT_ETYPE);
	assert_int_equal(f64(".", &v), WEFT_ETYPE);
	assert_int_equal(f64("1e", &v), WEFT_ETYPE);
	assert_int_equal(f64("1e+", &v), WEFT_ETYPE);
	assert_int_equal(f64("0x1p3", &v), WEFT_ETYPE);
	assert_int_equal(f64("1,5", &v), WEFT_ETYPE);
	assert_int_equal(f64("infinit", &v), WEFT_ETYPE);
	assert_int_equal(f64("abc", &v), WEFT_ETYPE);
	assert_int_equal(f64("1.5.2", &v), WEFT_ETYPE);
	assert_int_equal(weft_value_f64("2.75junk", 4, &v), 0);
	assert_true(v == 2.75);
}

/* The fast path rounds exactly like strtod on many plain decimals. */
static void
test_float_fastpath(void **state)
{
	uint64_t x = 88172645463325252ull;
	int i;

	for (i = 0; i < 200000; i++) {
		char buf[64];
		double a, b;
		int n, dot;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		dot = (int)(x % 16);
		n = snprintf(buf, sizeof(buf), "%llu",
			     (unsigned long long)(x >> (x % 40)));
		if (dot < n) {
			memmove(buf + n - dot + 1, buf + n - dot,
				(size_t)dot + 1);
			buf[n - dot] = '.';
			n++;
		}
		assert_int_equal(weft_value_f64(buf, (size_t)n, &a), 0);
		b = strtod(buf, NULL);
		assert_true(a == b);
	}
}

static void
test_bool(void **state)
{
	static const char *yes[] = {"t",   "true", "TRUE", "True", "y",
				    "yes", "on",   "ON",   "1",	   " true "};
	static const char *no[] = {"f",	  "false", "FALSE", "n", "no",
				   "off", "Off",   "0",	    "F"};
	static const char *bad[] = {"",	  "2",	  "tru",   "yess", "of",
				    "-1", "nope", "truex", "t t"};
	size_t i;
	bool v;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = false;
		assert_int_equal(weft_value_bool(yes[i], strlen(yes[i]), &v),
				 0);
		assert_true(v);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = true;
		assert_int_equal(weft_value_bool(no[i], strlen(no[i]), &v), 0);
		assert_false(v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(weft_value_bool(bad[i], strlen(bad[i]), &v),
				 WEFT_ETYPE);
}

static void
test_timestamp(void **state)
{
	int64_t v = 0;

	assert_int_equal(ts("1970-01-01", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ts("1970-01-01 00:00:01", &v), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(ts("2024-03-01 12:34:56", &v), 0);
	assert_int_equal(v, 1709296496LL * 1000000);
	assert_int_equal(ts("2024-03-01T12:34:56Z", &v), 0);
	assert_int_equal(v, 1709296496LL * 1000000);
	assert_int_equal(ts("2024-03-01 12:34", &v), 0);
	assert_int_equal(v, 1709296440LL * 1000000);
	assert_int_equal(ts("2024-03-01 12:34:56.5", &v), 0);
	assert_int_equal(v, 1709296496LL * 1000000 + 500000);
	assert_int_equal(ts("2024-03-01 12:34:56.123456", &v), 0);
	assert_int_equal(v, 1709296496LL * 1000000 + 123456);
	/* Rounded half up to microseconds, carrying into the second. */
	assert_int_equal(ts("2024-03-01 12:34:56.1234565", &v), 0);
	assert_int_equal(v, 1709296496LL * 1000000 + 123457);
	assert_int_equal(ts("2024-03-01 12:34:56.9999996", &v), 0);
	assert_int_equal(v, 1709296497LL * 1000000);
	/* Offsets. */
	assert_int_equal(ts("2024-03-01 14:34:56+02", &v), 0);
	assert_int_equal(v, 1709296496LL * 1000000);
	assert_int_equal(ts("2024-03-01 14:34:56 +02:00", &v), 0);
	assert_int_equal(v, 1709296496LL * 1000000);
	assert_int_equal(ts("2024-03-01T07:04:56-0530", &v), 0);
	assert_int_equal(v, 1709296496LL * 1000000);
	assert_int_equal(ts("2024-03-01 00:00:00+15:59", &v), 0);
	/* Before the epoch, and the range ends. */
	assert_int_equal(ts("1969-12-31 23:59:59", &v), 0);
	assert_int_equal(v, -1000000);
	assert_int_equal(ts("0001-01-01", &v), 0);
	assert_int_equal(v, -62135596800LL * 1000000);
	assert_int_equal(ts("9999-12-31 23:59:59.999999", &v), 0);
	assert_int_equal(v, 253402300799999999LL);
	assert_int_equal(ts("0000-01-01", &v), -ERANGE);
	/* Leap years. */
	assert_int_equal(ts("2024-02-29", &v), 0);
	assert_int_equal(ts("2000-02-29", &v), 0);
	assert_int_equal(ts("2023-02-29", &v), WEFT_ETYPE);
	assert_int_equal(ts("1900-02-29", &v), WEFT_ETYPE);
	assert_int_equal(ts("2100-02-29", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-04-31", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-12-31", &v), 0);
	assert_int_equal(ts("2024-13-01", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-00-10", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-00", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-32", &v), WEFT_ETYPE);
	/* Times. */
	assert_int_equal(ts("2024-01-01 24:00:00", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01 23:60:00", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01 23:59:60", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01 23:59:5", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01 23:59:59.", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01 1:00:00", &v), WEFT_ETYPE);
	/* Zones. */
	assert_int_equal(ts("2024-01-01 10:00:00+16", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01 10:00:00+02:60", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01 10:00:00+2", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01 10:00:00 UTC", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01 10:00:00ZZ", &v), WEFT_ETYPE);
	/* Shapes. */
	assert_int_equal(ts("2024-1-01", &v), WEFT_ETYPE);
	assert_int_equal(ts("20240101", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024/01/01", &v), WEFT_ETYPE);
	assert_int_equal(ts("", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01x", &v), WEFT_ETYPE);
	assert_int_equal(ts("2024-01-01 ", &v), 0);
	assert_int_equal(weft_value_ts("2024-01-01 10:00", 10, &v), 0);
}

static unsigned
cls(const char *s, uint32_t kind)
{
	return weft_value_classify(s, strlen(s), kind);
}

static void
test_infer(void **state)
{
	assert_int_equal(cls("42", WEFT_FK_RAW), WEFT_VM_INT | WEFT_VM_FLOAT);
	assert_int_equal(cls("1", WEFT_FK_RAW),
			 WEFT_VM_INT | WEFT_VM_FLOAT | WEFT_VM_BOOL);
	assert_int_equal(cls("1.5", WEFT_FK_QUOTED), WEFT_VM_FLOAT);
	assert_int_equal(cls("99999999999999999999", WEFT_FK_RAW),
			 WEFT_VM_FLOAT);
	assert_int_equal(cls("yes", WEFT_FK_RAW), WEFT_VM_BOOL | WEFT_VM_WORD);
	assert_int_equal(cls("2024-01-01", WEFT_FK_RAW), WEFT_VM_TS);
	assert_int_equal(cls("2024-01-01", WEFT_FK_JSTR), WEFT_VM_TS);
	assert_int_equal(cls("42", WEFT_FK_JSTR), 0);
	assert_int_equal(cls("abc", WEFT_FK_RAW), 0);
	assert_int_equal(cls("NaN", WEFT_FK_RAW), WEFT_VM_FLOAT);

	assert_int_equal(weft_value_pick(WEFT_VM_ALL, false), WEFT_T_TEXT);
	assert_int_equal(
	    weft_value_pick(WEFT_VM_INT | WEFT_VM_FLOAT | WEFT_VM_BOOL, false),
	    WEFT_T_INT64);
	assert_int_equal(weft_value_pick(WEFT_VM_BOOL, true), WEFT_T_BOOL);
	assert_int_equal(
	    weft_value_pick(WEFT_VM_BOOL | WEFT_VM_INT | WEFT_VM_FLOAT, true),
	    WEFT_T_BOOL);
	assert_int_equal(weft_value_pick(WEFT_VM_FLOAT, false), WEFT_T_FLOAT64);
	assert_int_equal(weft_value_pick(WEFT_VM_TS, false), WEFT_T_TIMESTAMP);
	assert_int_equal(weft_value_pick(0, true), WEFT_T_TEXT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_int),
	    cmocka_unit_test(test_float),
	    cmocka_unit_test(test_float_fastpath),
	    cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_timestamp),
	    cmocka_unit_test(test_infer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
