/*
 * test_budget.c: noise budgets (storage/budget.c) in a real LMDB
 * environment: periods (UTC day, week from Monday, month); spending up to
 * the budget and not past it (nothing spent by a refusal); orgs and
 * products apart; kept across a reopen; older periods deleted when the
 * same org spends in a newer one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/budget.h"
#include "storage/store.h"
#include "storage/store_int.h"
#include "testutil.h"

/* 2026-12-02T15:30:00Z, a Wednesday */
#define WED 1796225400000000LL
#define DAY 86400000000LL
#define MON 1795996800000000LL /* 2026-11-30, a Monday */

static void
test_period(void **state)
{
	(void)state;
	assert_int_equal(weft_budget_period("day", WED),
			 WED - 15 * 3600000000LL - 30 * 60000000LL);
	/* Monday 2026-11-30; the month from 2026-12-01 */
	assert_int_equal(weft_budget_period("week", WED), MON);
	assert_int_equal(weft_budget_period("month", WED), 1796083200000000LL);
	assert_int_equal(weft_budget_period("year", WED), -1);
	assert_int_equal(weft_budget_period("day", -5), -1);
	/* a Monday is its own week; a Sunday belongs to the week before */
	assert_int_equal(weft_budget_period("week", MON + 5), MON);
	assert_int_equal(weft_budget_period("week", MON - 5), MON - 7 * DAY);
}

static size_t
count_entries(weft_store_t *st)
{
	MDB_txn *txn;
	MDB_stat s;

	assert_int_equal(weft_store_txn_begin(st, MDB_RDONLY, &txn, NULL), 0);
	assert_int_equal(mdb_stat(txn, st->st_budget, &s), 0);
	mdb_txn_abort(txn);
	return s.ms_entries;
}

static void
test_spend(void **state)
{
	char *dir = weft_test_tmpdir();
	weft_store_opts_t o = {0};
	weft_store_t *st;
	weft_err_t err = {0};
	int64_t p = weft_budget_period("day", WED);
	double spent;
	int i;

	(void)state;
	o.create = 1;
	assert_int_equal(weft_store_open(dir, &o, &st, NULL), 0);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(weft_budget_spend(st, "ops.legs", "globex", p,
						   1, 3, &spent, &err),
				 0);
		assert_true(spent == i);
	}
	memset(&err, 0, sizeof(err));
	assert_int_equal(weft_budget_spend(st, "ops.legs", "globex", p, 0.5, 3,
					   &spent, &err),
			 WEFT_EDENIED);
	assert_true(spent == 3);
	assert_non_null(strstr(err.msg, "for org globex is spent: 3 of 3"));
	/* other orgs and products have their own */
	assert_int_equal(
	    weft_budget_spend(st, "ops.legs", "initech", p, 2, 3, &spent, &err),
	    0);
	assert_int_equal(
	    weft_budget_spend(st, "ops.other", "globex", p, 2, 3, &spent, &err),
	    0);
	assert_int_equal(
	    weft_budget_spend(st, "ops.legs", "x", p, 0, 3, &spent, &err),
	    WEFT_EINVAL);
	weft_store_close(st);

	/* reopened: still spent */
	assert_int_equal(weft_store_open(dir, &o, &st, NULL), 0);
	assert_int_equal(
	    weft_budget_get(st, "ops.legs", "globex", p, &spent, &err), 0);
	assert_true(spent == 3);
	assert_int_equal(
	    weft_budget_spend(st, "ops.legs", "globex", p, 1, 3, &spent, &err),
	    WEFT_EDENIED);
	assert_int_equal(count_entries(st), 3);
	/* the next day: a fresh budget, and the old day's entry is gone */
	assert_int_equal(weft_budget_spend(st, "ops.legs", "globex", p + DAY, 1,
					   3, &spent, &err),
			 0);
	assert_true(spent == 1);
	assert_int_equal(
	    weft_budget_get(st, "ops.legs", "globex", p, &spent, &err), 0);
	assert_true(spent == 0);
	assert_int_equal(count_entries(st), 3);
	weft_store_close(st);
	weft_test_rmrf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_period),
	    cmocka_unit_test(test_spend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
