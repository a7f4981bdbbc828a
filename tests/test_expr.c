/*
 * test_expr.c: scalar expressions: PostgreSQL's typing rules and error
 * messages, constant folding, vectorised evaluation with NULLs, casts,
 * functions, LIKE, and PostgreSQL's text output of every type. Expected
 * values were checked against PostgreSQL 15.
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

#include "query/expr.h"

/* ---- tree builders (each takes ownership of its arguments) ---- */

static weft_expr_t *
N(const char *text)
{
	weft_expr_t *e = weft_expr_number(text, 7);

	assert_non_null(e);
	return e;
}

static weft_expr_t *
S(const char *s)
{
	weft_expr_t *e = weft_expr_str(s, strlen(s), 3);

	assert_non_null(e);
	return e;
}

static weft_expr_t *
NUL(void)
{
	return weft_expr_null(1);
}

static weft_expr_t *
COL(uint32_t i, weft_sqltype_t t)
{
	return weft_expr_col(i, t, 1);
}

static weft_expr_t *
OP(int op, weft_expr_t *a, weft_expr_t *b)
{
	weft_expr_t *args[2] = {a, b};

	return weft_expr_node(WEFT_E_OP, op, 0, b ? 2 : 1, args, 5);
}

static weft_expr_t *
NODE(weft_expr_kind_t k, int op, int flags, uint32_t n, ...)
{
	weft_expr_t *args[16];
	va_list ap;
	uint32_t i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		args[i] = va_arg(ap, weft_expr_t *);
	va_end(ap);
	return weft_expr_node(k, op, flags, n, args, 9);
}

#define FN(f, n, ...) NODE(WEFT_E_FUNC, f, 0, n, __VA_ARGS__)
#define CAST(a, t) weft_expr_cast(a, t, 11)

static weft_expr_t *
TS(const char *s)
{
	return CAST(S(s), WEFT_S_TIMESTAMP);
}

/* Resolve and evaluate a constant expression; the PostgreSQL text of the
 * result, "NULL", or "ERROR: message". Frees e. */
static char res[1200];

static const char *
run(weft_expr_t *e)
{
	weft_err_t err = {0};
	weft_batch_t in = {.n = 1};
	weft_arena_t *a = weft_arena_new();
	weft_vec_t v;
	int rc;

	assert_non_null(e);
	rc = weft_expr_resolve(&e, &err);
	if (rc == 0) {
		assert_int_equal(weft_vec_init(&v, e->type), 0);
		rc = weft_expr_eval(e, &in, &v, a, 1704164645500000, &err);
		if (rc == 0) {
			if (v.nulls[0])
				snprintf(res, sizeof(res), "NULL");
			else
				weft_value_format(e->type, &v, 0, res,
						  sizeof(res));
		}
		weft_vec_release(&v);
	}
	if (rc != 0)
		snprintf(res, sizeof(res), "ERROR: %s", err.msg);
	weft_expr_free(e);
	weft_arena_free(a);
	return res;
}

/* Type of a resolved expression (or -1 on error). Frees e. */
static int
rtype(weft_expr_t *e)
{
	weft_err_t err = {0};
	int t = -1;

	if (weft_expr_resolve(&e, &err) == 0)
		t = (int)e->type;
	weft_expr_free(e);
	return t;
}

static int
errpos(weft_expr_t *e)
{
	weft_err_t err = {0};

	assert_int_not_equal(weft_expr_resolve(&e, &err), 0);
	weft_expr_free(e);
	return err.pos;
}

#define EQ(e, s) assert_string_equal(run(e), s)

static void
test_literals(void **state)
{
	assert_int_equal(rtype(N("1")), WEFT_S_INT32);
	assert_int_equal(rtype(N("2147483648")), WEFT_S_INT64);
	assert_int_equal(rtype(N("9223372036854775808")), WEFT_S_NUMERIC);
	assert_int_equal(rtype(N("1.5")), WEFT_S_NUMERIC);
	assert_int_equal(rtype(S("x")), WEFT_S_UNKNOWN);
	EQ(N("1.50"), "1.50");
	EQ(N("2147483648"), "2147483648");
	EQ(N("1e3"), "1000");
	EQ(NUL(), "NULL");
}

static void
test_arith_types(void **state)
{
	assert_int_equal(rtype(OP(WEFT_OP_ADD, N("1"), N("1"))), WEFT_S_INT32);
	assert_int_equal(
	    rtype(OP(WEFT_OP_ADD, N("1"), CAST(N("1"), WEFT_S_INT64))),
	    WEFT_S_INT64);
	assert_int_equal(rtype(OP(WEFT_OP_ADD, N("1"), N("1.5"))),
			 WEFT_S_NUMERIC);
	assert_int_equal(
	    rtype(OP(WEFT_OP_MUL, N("1.5"), CAST(N("2"), WEFT_S_FLOAT64))),
	    WEFT_S_FLOAT64);
	assert_int_equal(rtype(OP(WEFT_OP_ADD, COL(0, WEFT_S_INT64),
				  COL(1, WEFT_S_FLOAT64))),
			 WEFT_S_FLOAT64);
	EQ(OP(WEFT_OP_DIV, N("7"), N("2")), "3");
	EQ(OP(WEFT_OP_DIV, N("-7"), N("2")), "-3");
	EQ(OP(WEFT_OP_MOD, OP(WEFT_OP_NEG, N("7"), NULL), N("2")), "-1");
	EQ(OP(WEFT_OP_MOD, N("7"), OP(WEFT_OP_NEG, N("2"), NULL)), "1");
	EQ(OP(WEFT_OP_DIV, N("10"), N("4.0")), "2.5000000000000000");
	/* PostgreSQL: 0.33333333333333333333 (same scale, exact digits) */
	EQ(OP(WEFT_OP_DIV, N("1"), N("3.0")), "0.33333333333333330000");
	EQ(OP(WEFT_OP_MUL, N("2.0"), N("3")), "6.0");
	EQ(OP(WEFT_OP_ADD, N("1.5"), N("1")), "2.5");
	EQ(OP(WEFT_OP_ADD, N("0.1"), N("0.2")), "0.3");
	EQ(OP(WEFT_OP_MOD, N("5.5"), N("2")), "1.5");
	EQ(OP(WEFT_OP_ADD, S("12"), N("1")), "13");
	EQ(OP(WEFT_OP_ADD, NUL(), N("1")), "NULL");
	EQ(OP(WEFT_OP_DIV, CAST(N("1"), WEFT_S_FLOAT64), N("3")),
	   "0.3333333333333333");
}

static void
test_arith_errors(void **state)
{
	EQ(OP(WEFT_OP_ADD, N("2147483647"), N("1")),
	   "ERROR: integer out of range");
	EQ(OP(WEFT_OP_ADD, N("9223372036854775807"), N("1")),
	   "ERROR: bigint out of range");
	EQ(OP(WEFT_OP_DIV, OP(WEFT_OP_NEG, N("2147483647"), NULL), N("0")),
	   "ERROR: division by zero");
	EQ(OP(WEFT_OP_DIV, N("7.0"), N("0")), "ERROR: division by zero");
	EQ(OP(WEFT_OP_DIV, CAST(N("7"), WEFT_S_FLOAT64), N("0")),
	   "ERROR: division by zero");
	EQ(OP(WEFT_OP_MOD, N("7"), N("0")), "ERROR: division by zero");
	EQ(OP(WEFT_OP_MUL, CAST(N("1e308"), WEFT_S_FLOAT64), N("10")),
	   "ERROR: value out of range: overflow");
	EQ(OP(WEFT_OP_ADD, S("abc"), N("1")),
	   "ERROR: invalid input syntax for type integer: \"abc\"");
	assert_int_equal(errpos(OP(WEFT_OP_ADD, S("abc"), N("1"))), 3);
	EQ(OP(WEFT_OP_ADD, CAST(S("a"), WEFT_S_TEXT), N("1")),
	   "ERROR: operator does not exist: text + integer");
	assert_int_equal(
	    errpos(OP(WEFT_OP_ADD, CAST(S("a"), WEFT_S_TEXT), N("1"))), 5);
	EQ(OP(WEFT_OP_ADD, S("1"), S("2")),
	   "ERROR: operator is not unique: unknown + unknown");
	EQ(OP(WEFT_OP_NEG, S("1"), NULL),
	   "ERROR: operator is not unique: - unknown");
	EQ(OP(WEFT_OP_ADD, weft_expr_bool(true, 2), N("1")),
	   "ERROR: operator does not exist: boolean + integer");
	EQ(OP(WEFT_OP_MOD, CAST(N("5.5"), WEFT_S_FLOAT64), N("2")),
	   "ERROR: operator does not exist: double precision % integer");
	EQ(OP(WEFT_OP_DIV, OP(WEFT_OP_NEG, N("2147483648"), NULL), N("1")),
	   "-2147483648");
}

static void
test_compare_concat(void **state)
{
	EQ(OP(WEFT_OP_EQ, S("1"), S("1")), "t");
	EQ(OP(WEFT_OP_EQ, N("1"), S("1")), "t");
	EQ(OP(WEFT_OP_EQ, N("1"), S("x")),
	   "ERROR: invalid input syntax for type integer: \"x\"");
	EQ(OP(WEFT_OP_LT, N("1"), N("1.5")), "t");
	EQ(OP(WEFT_OP_EQ, N("1"), weft_expr_bool(true, 1)),
	   "ERROR: operator does not exist: integer = boolean");
	EQ(OP(WEFT_OP_EQ, CAST(S("a"), WEFT_S_TEXT), N("1")),
	   "ERROR: operator does not exist: text = integer");
	EQ(OP(WEFT_OP_LT, S("abc"), S("abd")), "t");
	EQ(OP(WEFT_OP_LT, S("ab"), S("abc")), "t");
	EQ(OP(WEFT_OP_EQ, CAST(S("NaN"), WEFT_S_FLOAT64),
	      CAST(S("nan"), WEFT_S_FLOAT64)),
	   "t");
	EQ(OP(WEFT_OP_GT, CAST(S("NaN"), WEFT_S_FLOAT64),
	      CAST(S("Infinity"), WEFT_S_FLOAT64)),
	   "t");
	EQ(OP(WEFT_OP_EQ, NUL(), N("1")), "NULL");
	EQ(OP(WEFT_OP_CONCAT, S("a"), N("1")), "a1");
	EQ(OP(WEFT_OP_CONCAT, N("1"), S("a")), "1a");
	EQ(OP(WEFT_OP_CONCAT, S("x"), weft_expr_bool(true, 1)), "xtrue");
	EQ(OP(WEFT_OP_CONCAT, S("a"), N("1.50")), "a1.50");
	EQ(OP(WEFT_OP_CONCAT, S("a"), NUL()), "NULL");
	EQ(OP(WEFT_OP_CONCAT, N("1"), N("2")),
	   "ERROR: operator does not exist: integer || integer");
}

static weft_expr_t *
B3(int v)
{
	return v < 0 ? NUL() : weft_expr_bool(v != 0, 1);
}

static void
test_three_valued(void **state)
{
	static const char *const and_t[3][3] = {
	    {"f", "f", "f"}, {"f", "t", "NULL"}, {"f", "NULL", "NULL"}};
	static const char *const or_t[3][3] = {
	    {"f", "t", "NULL"}, {"t", "t", "t"}, {"NULL", "t", "NULL"}};
	int a, b;

	for (a = 0; a < 3; a++)
		for (b = 0; b < 3; b++) {
			int x = a == 2 ? -1 : a, y = b == 2 ? -1 : b;

			EQ(NODE(WEFT_E_AND, 0, 0, 2, B3(x), B3(y)),
			   and_t[a][b]);
			EQ(NODE(WEFT_E_OR, 0, 0, 2, B3(x), B3(y)), or_t[a][b]);
		}
	EQ(NODE(WEFT_E_NOT, 0, 0, 1, B3(-1)), "NULL");
	EQ(NODE(WEFT_E_NOT, 0, 0, 1, B3(0)), "t");
	EQ(NODE(WEFT_E_NOT, 0, 0, 1, S("t")), "f");
	EQ(NODE(WEFT_E_AND, 0, 0, 2, N("1"), B3(1)),
	   "ERROR: argument of AND must be type boolean, not type integer");
	EQ(NODE(WEFT_E_NOT, 0, 0, 1, N("1")),
	   "ERROR: argument of NOT must be type boolean, not type integer");
	EQ(NODE(WEFT_E_ISNULL, 0, 0, 1, NUL()), "t");
	EQ(NODE(WEFT_E_ISNULL, 0, WEFT_EF_NOT, 1, N("1")), "t");
	{
		weft_expr_t *w = N("1");
		weft_err_t err = {0};

		assert_int_equal(weft_expr_resolve(&w, &err), 0);
		assert_int_not_equal(weft_expr_coerce_bool(&w, "WHERE", &err),
				     0);
		assert_string_equal(err.msg, "argument of WHERE must be type "
					     "boolean, not type integer");
		weft_expr_free(w);
	}
}

static void
test_in_case_coalesce(void **state)
{
	EQ(NODE(WEFT_E_IN, 0, 0, 3, N("1"), N("1"), NUL()), "t");
	EQ(NODE(WEFT_E_IN, 0, 0, 3, N("2"), N("1"), NUL()), "NULL");
	EQ(NODE(WEFT_E_IN, 0, 0, 2, NUL(), N("1")), "NULL");
	EQ(NODE(WEFT_E_IN, 0, WEFT_EF_NOT, 3, N("2"), N("1"), NUL()), "NULL");
	EQ(NODE(WEFT_E_IN, 0, WEFT_EF_NOT, 3, N("2"), N("1"), N("3")), "t");
	EQ(NODE(WEFT_E_IN, 0, 0, 3, S("a"), S("a"), S("b")), "t");
	EQ(NODE(WEFT_E_IN, 0, 0, 3, N("1"), N("1.5"), N("2")), "f");
	EQ(NODE(WEFT_E_IN, 0, 0, 2, N("1"), S("a")),
	   "ERROR: invalid input syntax for type integer: \"a\"");
	EQ(NODE(WEFT_E_IN, 0, 0, 3, CAST(S("a"), WEFT_S_TEXT), N("1"), N("2")),
	   "ERROR: operator does not exist: text = integer");
	EQ(NODE(WEFT_E_CASE, 0, WEFT_EF_CASE_ELSE, 3, B3(1), N("1"), S("a")),
	   "ERROR: invalid input syntax for type integer: \"a\"");
	EQ(NODE(WEFT_E_CASE, 0, WEFT_EF_CASE_ELSE, 3, B3(1), N("1"), N("1.5")),
	   "1");
	EQ(NODE(WEFT_E_CASE, 0, 0, 2, B3(0), S("a")), "NULL");
	EQ(NODE(WEFT_E_CASE, 0, WEFT_EF_CASE_OPERAND, 3, N("1"), N("1"),
		S("x")),
	   "x");
	EQ(NODE(WEFT_E_CASE, 0, 0, 2, N("1"), N("2")),
	   "ERROR: argument of CASE/WHEN must be type boolean, not type "
	   "integer");
	EQ(NODE(WEFT_E_CASE, 0, WEFT_EF_CASE_ELSE, 3, B3(1), N("1"),
		CAST(S("a"), WEFT_S_TEXT)),
	   "ERROR: CASE types integer and text cannot be matched");
	/* a constant-false arm is dropped before its 1/0 is folded */
	EQ(NODE(WEFT_E_CASE, 0, WEFT_EF_CASE_ELSE, 3, B3(0),
		OP(WEFT_OP_DIV, N("1"), N("0")), N("2")),
	   "2");
	EQ(NODE(WEFT_E_COALESCE, 0, 0, 3, NUL(), N("1.5"), N("2")), "1.5");
	EQ(NODE(WEFT_E_COALESCE, 0, 0, 2, N("1"), S("a")),
	   "ERROR: invalid input syntax for type integer: \"a\"");
	EQ(NODE(WEFT_E_NULLIF, 0, 0, 2, N("1"), N("1.0")), "NULL");
	EQ(NODE(WEFT_E_NULLIF, 0, 0, 2, S("a"), S("b")), "a");
	assert_int_equal(rtype(NODE(WEFT_E_NULLIF, 0, 0, 2, N("1"), N("1.5"))),
			 WEFT_S_NUMERIC);
}

static weft_expr_t *
LIKE(const char *s, const char *p, int flags)
{
	return NODE(WEFT_E_LIKE, 0, flags, 2, S(s), S(p));
}

static void
test_like(void **state)
{
	EQ(LIKE("abc", "a%", 0), "t");
	EQ(LIKE("abc", "%c", 0), "t");
	EQ(LIKE("abc", "%b%", 0), "t");
	EQ(LIKE("abc", "abc", 0), "t");
	EQ(LIKE("abc", "ab", 0), "f");
	EQ(LIKE("abc", "a_c", 0), "t");
	EQ(LIKE("abc", "a\\_c", 0), "f");
	EQ(LIKE("a_c", "a\\_c", 0), "t");
	EQ(LIKE("a%c", "a\\%c", 0), "t");
	EQ(LIKE("a\\c", "a\\\\c", 0), "t");
	EQ(LIKE("abc", "ab\\", 0),
	   "ERROR: LIKE pattern must not end with escape character");
	EQ(LIKE("é", "_", 0), "t");
	EQ(LIKE("éa", "__", 0), "t");
	EQ(LIKE("éa", "_", 0), "f");
	EQ(LIKE("xéy", "%é%", 0), "t");
	EQ(LIKE("ABC", "a%", WEFT_EF_ILIKE), "t");
	EQ(LIKE("éa", "Éa", WEFT_EF_ILIKE), "t");
	EQ(LIKE("abc", "a%", WEFT_EF_NOT), "f");
	EQ(LIKE("", "%", 0), "t");
	EQ(LIKE("", "_", 0), "f");
	EQ(LIKE("aaab", "%a%ab", 0), "t");
	EQ(LIKE("mississippi", "%iss%pi", 0), "t");
	EQ(LIKE("mississippi", "m%s_s%i", 0), "t");
	EQ(NODE(WEFT_E_LIKE, 0, 0, 2, N("1"), S("a")),
	   "ERROR: operator does not exist: integer ~~ unknown");
	EQ(NODE(WEFT_E_LIKE, 0, 0, 2, NUL(), S("a")), "NULL");
	EQ(NODE(WEFT_E_LIKE, 0, 0, 3, S("a#%"), S("a##%"), S("#")), "t");
	EQ(NODE(WEFT_E_LIKE, 0, 0, 3, S("a#x"), S("a##%"), S("#")), "t");
	EQ(NODE(WEFT_E_LIKE, 0, 0, 3, S("a\\x"), S("a\\%"), S("")), "t");
}

static void
test_casts(void **state)
{
	EQ(CAST(S("abc"), WEFT_S_INT32),
	   "ERROR: invalid input syntax for type integer: \"abc\"");
	EQ(CAST(S(" 12 "), WEFT_S_INT32), "12");
	EQ(CAST(S("1.5"), WEFT_S_INT32),
	   "ERROR: invalid input syntax for type integer: \"1.5\"");
	EQ(CAST(S("3000000000"), WEFT_S_INT32),
	   "ERROR: value \"3000000000\" is out of range for type integer");
	EQ(CAST(S("x"), WEFT_S_INT64),
	   "ERROR: invalid input syntax for type bigint: \"x\"");
	EQ(CAST(S("abc"), WEFT_S_FLOAT64),
	   "ERROR: invalid input syntax for type double precision: \"abc\"");
	EQ(CAST(S("1e400"), WEFT_S_FLOAT64),
	   "ERROR: \"1e400\" is out of range for type double precision");
	EQ(CAST(S("abc"), WEFT_S_NUMERIC),
	   "ERROR: invalid input syntax for type numeric: \"abc\"");
	EQ(CAST(S("1.50"), WEFT_S_NUMERIC), "1.50");
	EQ(CAST(S("maybe"), WEFT_S_BOOL),
	   "ERROR: invalid input syntax for type boolean: \"maybe\"");
	EQ(CAST(S("yes"), WEFT_S_BOOL), "t");
	EQ(CAST(S("off"), WEFT_S_BOOL), "f");
	EQ(CAST(S("x"), WEFT_S_TIMESTAMP),
	   "ERROR: invalid input syntax for type timestamp: \"x\"");
	EQ(CAST(S("2024-13-01"), WEFT_S_TIMESTAMP),
	   "ERROR: date/time field value out of range: \"2024-13-01\"");
	EQ(TS("2024-01-02"), "2024-01-02 00:00:00");
	EQ(TS("2024-01-02 03:04:05.5"), "2024-01-02 03:04:05.5");
	EQ(TS("2024-01-02T03:04:05.123456"), "2024-01-02 03:04:05.123456");
	EQ(CAST(N("1.5"), WEFT_S_INT32), "2");
	EQ(CAST(N("2.5"), WEFT_S_INT32), "3");
	EQ(CAST(OP(WEFT_OP_NEG, N("2.5"), NULL), WEFT_S_INT32), "-3");
	EQ(CAST(CAST(N("2.5"), WEFT_S_FLOAT64), WEFT_S_INT32), "2");
	EQ(CAST(CAST(N("3.5"), WEFT_S_FLOAT64), WEFT_S_INT64), "4");
	EQ(CAST(CAST(OP(WEFT_OP_NEG, N("2.5"), NULL), WEFT_S_FLOAT64),
		WEFT_S_INT32),
	   "-2");
	EQ(CAST(N("3000000000"), WEFT_S_INT32), "ERROR: integer out of range");
	EQ(CAST(CAST(S("nan"), WEFT_S_FLOAT64), WEFT_S_INT32),
	   "ERROR: integer out of range");
	EQ(CAST(N("1"), WEFT_S_BOOL), "t");
	EQ(CAST(weft_expr_bool(true, 1), WEFT_S_INT32), "1");
	EQ(CAST(CAST(N("1"), WEFT_S_INT64), WEFT_S_BOOL),
	   "ERROR: cannot cast type bigint to boolean");
	EQ(CAST(N("1.5"), WEFT_S_BOOL),
	   "ERROR: cannot cast type numeric to boolean");
	EQ(CAST(weft_expr_bool(true, 1), WEFT_S_TEXT), "true");
	EQ(CAST(CAST(N("1.5"), WEFT_S_FLOAT64), WEFT_S_TEXT), "1.5");
	EQ(CAST(N("1.50"), WEFT_S_TEXT), "1.50");
	EQ(CAST(TS("2024-01-02 03:04:05.5"), WEFT_S_TEXT),
	   "2024-01-02 03:04:05.5");
	EQ(CAST(CAST(N("0.1"), WEFT_S_FLOAT64), WEFT_S_NUMERIC), "0.1");
	EQ(CAST(CAST(N("1e20"), WEFT_S_FLOAT64), WEFT_S_NUMERIC),
	   "100000000000000000000");
	EQ(CAST(CAST(N("1e-7"), WEFT_S_FLOAT64), WEFT_S_NUMERIC), "0.0000001");
	EQ(CAST(S("1 day 2 hours"), WEFT_S_INTERVAL), "1 day 02:00:00");
	EQ(CAST(S("90 minutes"), WEFT_S_INTERVAL), "01:30:00");
	EQ(CAST(S("-1 day"), WEFT_S_INTERVAL), "-1 days");
	EQ(CAST(S("3 days"), WEFT_S_INTERVAL), "3 days");
}

static void
test_timestamps(void **state)
{
	EQ(OP(WEFT_OP_SUB, TS("2024-01-02"), S("1 day")),
	   "ERROR: invalid input syntax for type timestamp: \"1 day\"");
	EQ(OP(WEFT_OP_ADD, TS("2024-01-02"), S("1 day")),
	   "2024-01-03 00:00:00");
	EQ(OP(WEFT_OP_SUB, TS("2024-01-02"), TS("2024-01-01 01:00")),
	   "23:00:00");
	EQ(OP(WEFT_OP_SUB, TS("2024-01-01"), TS("2024-01-03 02:00")),
	   "-2 days -02:00:00");
	EQ(OP(WEFT_OP_ADD, TS("2024-01-02"),
	      CAST(S("1 day 2 hours"), WEFT_S_INTERVAL)),
	   "2024-01-03 02:00:00");
	EQ(OP(WEFT_OP_LT, TS("2024-01-02"), S("2024-01-03")), "t");
}

#define TS1 "2024-02-29 13:45:30.25"

static void
test_date_funcs(void **state)
{
	static const struct {
		const char *unit, *trunc;
	} tr[] = {
	    {"year", "2024-01-01 00:00:00"},
	    {"quarter", "2024-01-01 00:00:00"},
	    {"month", "2024-02-01 00:00:00"},
	    {"week", "2024-02-26 00:00:00"},
	    {"day", "2024-02-29 00:00:00"},
	    {"hour", "2024-02-29 13:00:00"},
	    {"minute", "2024-02-29 13:45:00"},
	    {"second", "2024-02-29 13:45:30"},
	    {"DAY", "2024-02-29 00:00:00"},
	};
	static const struct {
		const char *unit, *part, *extract;
	} pt[] = {
	    {"year", "2024", "2024"},
	    {"month", "2", "2"},
	    {"day", "29", "29"},
	    {"hour", "13", "13"},
	    {"minute", "45", "45"},
	    {"second", "30.25", "30.250000"},
	    {"dow", "4", "4"},
	    {"doy", "60", "60"},
	    {"quarter", "1", "1"},
	    {"week", "9", "9"},
	    {"epoch", "1709214330.25", "1709214330.250000"},
	    {"milliseconds", "30250", "30250.000"},
	};
	size_t i;

	for (i = 0; i < sizeof(tr) / sizeof(*tr); i++)
		EQ(FN(WEFT_F_DATE_TRUNC, 2, S(tr[i].unit), TS(TS1)),
		   tr[i].trunc);
	for (i = 0; i < sizeof(pt) / sizeof(*pt); i++) {
		weft_expr_t *x;

		EQ(FN(WEFT_F_DATE_PART, 2, S(pt[i].unit), TS(TS1)), pt[i].part);
		x = FN(WEFT_F_DATE_PART, 2, S(pt[i].unit), TS(TS1));
		x->flags |= WEFT_EF_EXTRACT;
		EQ(x, pt[i].extract);
	}
	EQ(FN(WEFT_F_DATE_TRUNC, 2, S("xyz"), TS(TS1)),
	   "ERROR: unit \"xyz\" not recognized for type timestamp without "
	   "time zone");
	EQ(FN(WEFT_F_DATE_PART, 2, S("dow"), TS("2024-01-07")), "0");
	EQ(FN(WEFT_F_DATE_PART, 2, S("week"), TS("2021-01-01")), "53");
	EQ(FN(WEFT_F_DATE_TRUNC, 2, S("week"), TS("2021-01-03 10:00")),
	   "2020-12-28 00:00:00");
	EQ(FN(WEFT_F_DATE_TRUNC, 2, S("day"), TS("1969-12-31 10:00")),
	   "1969-12-31 00:00:00");
	/* PostgreSQL has date_part(text, timestamp) and (text, interval)
	 * (and more): an untyped NULL cannot choose. */
	EQ(FN(WEFT_F_DATE_PART, 2, S("year"), NUL()),
	   "ERROR: function date_part(unknown, unknown) is not unique");
	EQ(FN(WEFT_F_NOW, 0, NULL), "2024-01-02 03:04:05.5");
}

static void
test_string_funcs(void **state)
{
	EQ(FN(WEFT_F_LOWER, 1, S("ÉÀŸŒ Ω Ж İ")), "éàÿœ ω ж i");
	EQ(FN(WEFT_F_UPPER, 1, S("éßàÿœ ω ж abc")), "ÉßÀŸŒ Ω Ж ABC");
	EQ(FN(WEFT_F_LOWER, 1, NUL()), "NULL");
	EQ(FN(WEFT_F_LOWER, 1, N("1")),
	   "ERROR: function lower(integer) does not exist");
	EQ(FN(WEFT_F_LENGTH, 1, S("é")), "1");
	EQ(FN(WEFT_F_LENGTH, 1, S("")), "0");
	EQ(FN(WEFT_F_SUBSTR, 3, S("héllo"), N("2"), N("3")), "éll");
	EQ(FN(WEFT_F_SUBSTR, 2, S("héllo"), N("3")), "llo");
	EQ(FN(WEFT_F_SUBSTR, 3, S("hello"), N("0"), N("2")), "h");
	EQ(FN(WEFT_F_SUBSTR, 3, S("hello"), N("-5"), N("2")), "");
	EQ(FN(WEFT_F_SUBSTR, 3, S("hello"), N("9"), N("2")), "");
	EQ(FN(WEFT_F_SUBSTR, 3, S("hello"), N("1"),
	      OP(WEFT_OP_NEG, N("1"), NULL)),
	   "ERROR: negative substring length not allowed");
	EQ(FN(WEFT_F_SUBSTR, 2, S("abc"), CAST(N("2"), WEFT_S_INT64)),
	   "ERROR: function substr(unknown, bigint) does not exist");
	EQ(FN(WEFT_F_SUBSTR, 2, NUL(), N("1")), "NULL");
	EQ(FN(WEFT_F_BTRIM, 1, S("  a b  ")), "a b");
	EQ(FN(WEFT_F_LTRIM, 1, S("  a ")), "a ");
	EQ(FN(WEFT_F_RTRIM, 1, S("  a ")), "  a");
	EQ(FN(WEFT_F_BTRIM, 2, S("xxaéxx"), S("xé")), "a");
	EQ(FN(WEFT_F_BTRIM, 2, S("xxx"), S("x")), "");
	EQ(NODE(WEFT_E_FUNC, WEFT_F_CONCAT, 0, 5, weft_expr_bool(true, 1),
		N("1"), NUL(), N("1.50"), CAST(N("2.5"), WEFT_S_FLOAT64)),
	   "t11.502.5");
	EQ(FN(WEFT_F_CONCAT, 1, NUL()), "");
	EQ(FN(WEFT_F_REPLACE, 3, S("abcabc"), S("b"), S("XY")), "aXYcaXYc");
	EQ(FN(WEFT_F_REPLACE, 3, S("abc"), S(""), S("X")), "abc");
	EQ(FN(WEFT_F_LEFT, 2, S("héllo"), N("2")), "hé");
	EQ(FN(WEFT_F_LEFT, 2, S("héllo"), OP(WEFT_OP_NEG, N("2"), NULL)),
	   "hél");
	EQ(FN(WEFT_F_RIGHT, 2, S("héllo"), N("4")), "éllo");
	EQ(FN(WEFT_F_RIGHT, 2, S("héllo"), OP(WEFT_OP_NEG, N("4"), NULL)), "o");
	EQ(FN(WEFT_F_LEFT, 2, S("abc"), N("10")), "abc");
	EQ(FN(WEFT_F_STRPOS, 2, S("héllo"), S("l")), "3");
	EQ(FN(WEFT_F_STRPOS, 2, S("hello"), S("z")), "0");
	EQ(FN(WEFT_F_STRPOS, 2, S("hello"), S("")), "1");
}

static void
test_math_funcs(void **state)
{
	assert_int_equal(rtype(FN(WEFT_F_ABS, 1, N("1"))), WEFT_S_INT32);
	assert_int_equal(rtype(FN(WEFT_F_ABS, 1, S("1"))), WEFT_S_FLOAT64);
	assert_int_equal(rtype(FN(WEFT_F_ROUND, 1, N("1"))), WEFT_S_FLOAT64);
	assert_int_equal(rtype(FN(WEFT_F_ROUND, 1, N("1.5"))), WEFT_S_NUMERIC);
	assert_int_equal(rtype(FN(WEFT_F_SQRT, 1, N("4"))), WEFT_S_FLOAT64);
	assert_int_equal(rtype(FN(WEFT_F_MOD, 2, S("7"), N("2"))),
			 WEFT_S_INT32);
	assert_int_equal(rtype(FN(WEFT_F_POWER, 2, N("7.5"), N("2"))),
			 WEFT_S_NUMERIC);
	assert_int_equal(rtype(FN(WEFT_F_POWER, 2, S("7"), S("2"))),
			 WEFT_S_FLOAT64);
	EQ(FN(WEFT_F_MOD, 2, S("7"), S("2")),
	   "ERROR: function mod(unknown, unknown) is not unique");
	EQ(FN(WEFT_F_MOD, 2, CAST(N("7"), WEFT_S_FLOAT64), N("2")),
	   "ERROR: function mod(double precision, integer) does not exist");
	EQ(FN(WEFT_F_ROUND, 2, CAST(N("1.5"), WEFT_S_FLOAT64), N("1")),
	   "ERROR: function round(double precision, integer) does not exist");
	EQ(FN(WEFT_F_ABS, 1, OP(WEFT_OP_NEG, N("3"), NULL)), "3");
	EQ(FN(WEFT_F_ABS, 1, N("-2147483648")), "ERROR: integer out of range");
	EQ(FN(WEFT_F_ABS, 1, NUL()), "NULL");
	EQ(FN(WEFT_F_ROUND, 1, N("2.5")), "3");
	EQ(FN(WEFT_F_ROUND, 1, OP(WEFT_OP_NEG, N("2.5"), NULL)), "-3");
	EQ(FN(WEFT_F_ROUND, 1, CAST(N("2.5"), WEFT_S_FLOAT64)), "2");
	EQ(FN(WEFT_F_ROUND, 2, N("2.675"), N("2")), "2.68");
	EQ(FN(WEFT_F_ROUND, 2, N("1234.5"), OP(WEFT_OP_NEG, N("2"), NULL)),
	   "1200");
	EQ(FN(WEFT_F_ROUND, 2, N("1.5"), N("3")), "1.500");
	EQ(FN(WEFT_F_FLOOR, 1, N("-1.5")), "-2");
	EQ(FN(WEFT_F_CEIL, 1, N("1.2")), "2");
	EQ(FN(WEFT_F_CEIL, 1, N("7")), "7");
	EQ(FN(WEFT_F_MOD, 2, N("7"), N("2")), "1");
	EQ(FN(WEFT_F_MOD, 2, N("7.5"), N("2")), "1.5");
	EQ(FN(WEFT_F_MOD, 2, N("7"), N("0")), "ERROR: division by zero");
	EQ(FN(WEFT_F_POWER, 2, N("2"), N("10")), "1024");
	EQ(FN(WEFT_F_POWER, 2, N("0"), OP(WEFT_OP_NEG, N("1"), NULL)),
	   "ERROR: zero raised to a negative power is undefined");
	EQ(FN(WEFT_F_SQRT, 1, N("2")), "1.4142135623730951");
	EQ(FN(WEFT_F_SQRT, 1, OP(WEFT_OP_NEG, N("1"), NULL)),
	   "ERROR: cannot take square root of a negative number");
	EQ(FN(WEFT_F_SIGN, 1, OP(WEFT_OP_NEG, N("3"), NULL)), "-1");
	EQ(FN(WEFT_F_SIGN, 1, N("0.0")), "0");
}

static const char *
f8(double x)
{
	weft_format_float8(x, res, sizeof(res));
	return res;
}

static void
test_format(void **state)
{
	char buf[64];

	assert_string_equal(f8(0.1), "0.1");
	assert_string_equal(f8(1.0 / 3), "0.3333333333333333");
	assert_string_equal(f8(1e20), "1e+20");
	assert_string_equal(f8(1e15), "1e+15");
	assert_string_equal(f8(123456789012345.0), "123456789012345");
	assert_string_equal(f8(1e-5), "1e-05");
	assert_string_equal(f8(0.0001), "0.0001");
	assert_string_equal(f8(-0.0), "-0");
	assert_string_equal(f8(1.5e300), "1.5e+300");
	assert_string_equal(f8(INFINITY), "Infinity");
	assert_string_equal(f8(-INFINITY), "-Infinity");
	assert_string_equal(f8(NAN), "NaN");
	assert_string_equal(f8(100), "100");
	assert_string_equal(f8(0.30000000000000004), "0.30000000000000004");
	weft_format_numeric(1.0 / 3, -1, buf, sizeof(buf));
	assert_string_equal(buf, "0.333333333333333");
	weft_format_numeric(-0.0, 2, buf, sizeof(buf));
	assert_string_equal(buf, "0.00");
	weft_format_numeric(5.0 / 3, -1, buf, sizeof(buf));
	assert_string_equal(buf, "1.66666666666667");
	weft_format_numeric(12345678901234567.0, -1, buf, sizeof(buf));
	assert_string_equal(buf, "12345678901234600");
	weft_format_numeric(2.5, 16, buf, sizeof(buf));
	assert_string_equal(buf, "2.5000000000000000");
	weft_format_timestamp(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31 23:59:59.999999");
	weft_format_interval(0, buf, sizeof(buf));
	assert_string_equal(buf, "00:00:00");
	assert_int_equal(weft_numeric_div_scale(10, 0, 4, 1), 16);
}

/* A batch with NULLs in every position: a (bigint), b (double), t (text),
 * s (timestamp), c (bool). */
static void
test_batch(void **state)
{
	weft_sqltype_t types[5] = {WEFT_S_INT64, WEFT_S_FLOAT64, WEFT_S_TEXT,
				   WEFT_S_TIMESTAMP, WEFT_S_BOOL};
	static const char *const txt[] = {"apple", "Banana", "cherry", "",
					  "éclair"};
	weft_batch_t *b;
	weft_vec_t out;
	weft_err_t err = {0};
	weft_expr_t *e;
	uint32_t i, n = 1000;
	char buf[64];

	assert_int_equal(weft_batch_new(5, types, &b), 0);
	b->n = n;
	for (i = 0; i < n; i++) {
		b->cols[0].nulls[i] = i % 7 == 3;
		b->cols[0].v.i64[i] =
		    b->cols[0].nulls[i] ? 0 : (int64_t)i - 500;
		b->cols[1].nulls[i] = i % 5 == 1;
		b->cols[1].v.f64[i] = b->cols[1].nulls[i] ? 0 : i * 0.5;
		b->cols[2].nulls[i] = i % 6 == 2;
		b->cols[2].v.s[i] =
		    b->cols[2].nulls[i]
			? (weft_str_t){"", 0}
			: (weft_str_t){txt[i % 5],
				       (uint32_t)strlen(txt[i % 5])};
		b->cols[3].nulls[i] = i % 4 == 0;
		b->cols[3].v.i64[i] = (int64_t)i * 3600000000;
		b->cols[4].nulls[i] = i % 3 == 0;
		b->cols[4].v.b[i] = i % 2;
	}
	/* a * 2 + 1 > b: NULL when a or b is NULL */
	e = OP(WEFT_OP_GT,
	       OP(WEFT_OP_ADD, OP(WEFT_OP_MUL, COL(0, WEFT_S_INT64), N("2")),
		  N("1")),
	       COL(1, WEFT_S_FLOAT64));
	assert_int_equal(weft_expr_resolve(&e, &err), 0);
	assert_int_equal(e->type, WEFT_S_BOOL);
	assert_int_equal(weft_vec_init(&out, WEFT_S_BOOL), 0);
	assert_int_equal(weft_expr_eval(e, b, &out, b->arena, 0, &err), 0);
	for (i = 0; i < n; i++) {
		bool nul = i % 7 == 3 || i % 5 == 1;

		assert_int_equal(out.nulls[i], nul);
		if (!nul)
			assert_int_equal(out.v.b[i],
					 ((int64_t)i - 500) * 2 + 1 > i * 0.5);
	}
	weft_vec_release(&out);
	weft_expr_free(e);

	/* CASE WHEN a <> 0 THEN 1000 / a ELSE -1 END: no division by zero */
	e = NODE(WEFT_E_CASE, 0, WEFT_EF_CASE_ELSE, 3,
		 OP(WEFT_OP_NE, COL(0, WEFT_S_INT64), N("0")),
		 OP(WEFT_OP_DIV, N("1000"), COL(0, WEFT_S_INT64)),
		 OP(WEFT_OP_NEG, N("1"), NULL));
	assert_int_equal(weft_expr_resolve(&e, &err), 0);
	assert_int_equal(e->type, WEFT_S_INT64);
	assert_int_equal(weft_vec_init(&out, WEFT_S_INT64), 0);
	assert_int_equal(weft_expr_eval(e, b, &out, b->arena, 0, &err), 0);
	for (i = 0; i < n; i++) {
		int64_t a = (int64_t)i - 500;

		assert_int_equal(out.nulls[i], 0);
		if (i % 7 == 3 || a == 0)
			assert_int_equal(out.v.i64[i], -1);
		else
			assert_int_equal(out.v.i64[i], 1000 / a);
	}
	weft_vec_release(&out);
	weft_expr_free(e);

	/* plain 1000 / (a + 1) does fail (a = -1 at row 499) */
	e = OP(WEFT_OP_DIV, N("1000"),
	       OP(WEFT_OP_ADD, COL(0, WEFT_S_INT64), N("1")));
	assert_int_equal(weft_expr_resolve(&e, &err), 0);
	assert_int_equal(weft_vec_init(&out, WEFT_S_INT64), 0);
	assert_int_not_equal(weft_expr_eval(e, b, &out, b->arena, 0, &err), 0);
	assert_string_equal(err.msg, "division by zero");
	weft_vec_release(&out);
	weft_expr_free(e);

	/* upper(t) || '!' LIKE 'B%', coalesce, IN over a column */
	e = NODE(WEFT_E_LIKE, 0, WEFT_EF_ILIKE, 2,
		 OP(WEFT_OP_CONCAT, FN(WEFT_F_UPPER, 1, COL(2, WEFT_S_TEXT)),
		    S("!")),
		 S("%a!"));
	assert_int_equal(weft_expr_resolve(&e, &err), 0);
	assert_int_equal(weft_vec_init(&out, WEFT_S_BOOL), 0);
	assert_int_equal(weft_expr_eval(e, b, &out, b->arena, 0, &err), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(out.nulls[i], i % 6 == 2);
		if (i % 6 != 2)
			assert_int_equal(out.v.b[i], i % 5 == 1);
	}
	weft_vec_release(&out);
	weft_expr_free(e);

	e = NODE(WEFT_E_COALESCE, 0, 0, 2, COL(2, WEFT_S_TEXT), S("none"));
	assert_int_equal(weft_expr_resolve(&e, &err), 0);
	assert_int_equal(e->type, WEFT_S_TEXT);
	assert_int_equal(weft_vec_init(&out, WEFT_S_TEXT), 0);
	assert_int_equal(weft_expr_eval(e, b, &out, b->arena, 0, &err), 0);
	for (i = 0; i < n; i++) {
		weft_value_format(WEFT_S_TEXT, &out, i, buf, sizeof(buf));
		assert_string_equal(buf, i % 6 == 2 ? "none" : txt[i % 5]);
	}
	weft_vec_release(&out);
	weft_expr_free(e);

	e = NODE(WEFT_E_IN, 0, 0, 3, COL(0, WEFT_S_INT64), N("-500"), NUL());
	assert_int_equal(weft_expr_resolve(&e, &err), 0);
	assert_int_equal(weft_vec_init(&out, WEFT_S_BOOL), 0);
	assert_int_equal(weft_expr_eval(e, b, &out, b->arena, 0, &err), 0);
	assert_int_equal(out.nulls[0], 0);
	assert_int_equal(out.v.b[0], 1);
	for (i = 1; i < n; i++)
		assert_int_equal(out.nulls[i], 1);
	weft_vec_release(&out);
	weft_expr_free(e);

	/* c OR a > 0, AND with NULLs; extract(hour from s) */
	e = NODE(WEFT_E_OR, 0, 0, 2, COL(4, WEFT_S_BOOL),
		 OP(WEFT_OP_GT, COL(0, WEFT_S_INT64), N("0")));
	assert_int_equal(weft_expr_resolve(&e, &err), 0);
	assert_int_equal(weft_vec_init(&out, WEFT_S_BOOL), 0);
	assert_int_equal(weft_expr_eval(e, b, &out, b->arena, 0, &err), 0);
	for (i = 0; i < n; i++) {
		int c = i % 3 == 0 ? -1 : (int)(i % 2);
		int g = i % 7 == 3 ? -1 : ((int64_t)i - 500 > 0);
		int r = c == 1 || g == 1 ? 1 : (c < 0 || g < 0) ? -1 : 0;

		assert_int_equal(out.nulls[i], r < 0);
		if (r >= 0)
			assert_int_equal(out.v.b[i], r);
	}
	weft_vec_release(&out);
	weft_expr_free(e);

	e = FN(WEFT_F_DATE_PART, 2, S("hour"), COL(3, WEFT_S_TIMESTAMP));
	assert_int_equal(weft_expr_resolve(&e, &err), 0);
	assert_int_equal(weft_vec_init(&out, WEFT_S_FLOAT64), 0);
	assert_int_equal(weft_expr_eval(e, b, &out, b->arena, 0, &err), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(out.nulls[i], i % 4 == 0);
		if (i % 4)
			assert_true(out.v.f64[i] == (double)(i % 24));
	}
	weft_vec_release(&out);
	weft_expr_free(e);

	/* print for EXPLAIN */
	{
		const char *names[] = {"a", "b", "t", "s", "c"};
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		e = OP(WEFT_OP_GT, COL(0, WEFT_S_INT64), N("1.5"));
		assert_int_equal(weft_expr_resolve(&e, &err), 0);
		weft_expr_print(e, names, f);
		fclose(f);
		assert_string_equal(text, "((a)::numeric > 1.5)");
		free(text);
		weft_expr_free(e);
	}
	weft_batch_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_literals),
	    cmocka_unit_test(test_arith_types),
	    cmocka_unit_test(test_arith_errors),
	    cmocka_unit_test(test_compare_concat),
	    cmocka_unit_test(test_three_valued),
	    cmocka_unit_test(test_in_case_coalesce),
	    cmocka_unit_test(test_like),
	    cmocka_unit_test(test_casts),
	    cmocka_unit_test(test_timestamps),
	    cmocka_unit_test(test_date_funcs),
	    cmocka_unit_test(test_string_funcs),
	    cmocka_unit_test(test_math_funcs),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
