/*
 * test_aggtab.c: the aggregation table (query/agg.c) folding a second
 * count(*) (the one the owner's group threshold appends after the
 * query's own) by copying the first's counts: both emit every group's
 * true row count, in one range or several, and a count(x) beside them,
 * which skips NULLs, is not taken for one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "query/qint.h"

#define NG 7

static void
test_second_count(void **state)
{
	wq_agg_t a[3];
	weft_sqltype_t kt = WEFT_S_INT64, ot[4] = {WEFT_S_INT64, WEFT_S_INT64,
						   WEFT_S_INT64, WEFT_S_INT64};
	wq_aggtab_t *t = NULL;
	weft_vec_t key, x;
	const weft_vec_t *keys[1] = {&key}, *args[3] = {NULL, &x, NULL};
	uint32_t gids[1000], i, b, r, n = 1000;
	int64_t want[NG] = {0}, wantx[NG] = {0};
	weft_batch_t *out = NULL;
	weft_err_t err = {0};

	(void)state;
	memset(a, 0, sizeof(a));
	a[0].fn = WQ_AGG_COUNT_STAR;
	a[1].fn = WQ_AGG_COUNT;
	a[1].argtype = WEFT_S_INT64;
	a[2].fn = WQ_AGG_COUNT_STAR;
	for (i = 0; i < 3; i++) {
		a[i].type = WEFT_S_INT64;
		a[i].scale = -1;
	}
	assert_int_equal(wq_aggtab_new(WQ_AGG_PARTIAL, 1, &kt, 3, a, &t), 0);
	assert_int_equal(weft_vec_init(&key, WEFT_S_INT64), 0);
	assert_int_equal(weft_vec_init(&x, WEFT_S_INT64), 0);
	for (b = 0; b < 3; b++) { /* three batches, groups by r * 5 % NG */
		for (i = 0; i < n; i++) {
			r = b * n + i;
			key.nulls[i] = 0;
			key.v.i64[i] = (int64_t)(r * 5 % NG);
			x.nulls[i] = r % 3 == 0;
			x.v.i64[i] = r;
			want[key.v.i64[i]]++;
			wantx[key.v.i64[i]] += !x.nulls[i];
		}
		assert_int_equal(wq_aggtab_groups(t, keys, n, gids), 0);
		assert_int_equal(wq_aggtab_add(t, gids, args, n, &err), 0);
	}
	assert_int_equal(wq_aggtab_ngroups(t), NG);
	assert_int_equal(weft_batch_new(4, ot, &out), 0);
	for (r = 0; r < NG; r += 4) { /* emitted in two ranges */
		uint32_t m = NG - r < 4 ? NG - r : 4;

		weft_batch_clear(out);
		assert_int_equal(wq_aggtab_emit(t, r, m, out, &err), 0);
		for (i = 0; i < m; i++) {
			int64_t k = out->cols[0].v.i64[i];

			assert_true(k >= 0 && k < NG);
			assert_int_equal(out->cols[1].v.i64[i], want[k]);
			assert_int_equal(out->cols[2].v.i64[i], wantx[k]);
			assert_int_equal(out->cols[3].v.i64[i], want[k]);
			assert_true(want[k] != wantx[k]);
		}
	}
	weft_batch_free(out);
	weft_vec_release(&key);
	weft_vec_release(&x);
	wq_aggtab_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_second_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
