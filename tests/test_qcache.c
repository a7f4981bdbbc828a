/*
 * test_qcache.c: the result cache's table (storage/qcache.c) against a
 * real LMDB environment: put and get, replace, least-recently-used
 * eviction within the cap (a touch saves an entry), values over cap / 4
 * refused, and a cap of 0 storing nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/qcache.h"
#include "storage/store.h"
#include "testutil.h"

typedef struct fx {
	char *dir;
	weft_store_t *st;
} fx_t;

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	weft_store_opts_t o = {0};

	f->dir = weft_test_tmpdir();
	o.create = 1;
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
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
	free(f);
	return 0;
}

static void
key_of(uint8_t k[WEFT_QCACHE_KEY], int i)
{
	memset(k, 0, WEFT_QCACHE_KEY);
	k[0] = (uint8_t)i;
	k[31] = 0x5a;
}

/* 1 and the value's first byte in *first if key i is held. */
static int
held(fx_t *f, int i, int *first, size_t *len)
{
	weft_snapshot_t *s;
	uint8_t k[WEFT_QCACHE_KEY], *v = NULL;
	size_t l = 0;
	int rc;

	key_of(k, i);
	assert_int_equal(weft_snapshot_begin(f->st, &s, NULL), 0);
	rc = weft_qcache_get(s, k, &v, &l, NULL);
	weft_snapshot_end(s);
	assert_true(rc == 0 || rc == 1);
	if (rc == 1) {
		*first = v[0];
		*len = l;
	}
	free(v);
	return rc;
}

static void
put(fx_t *f, int i, int fill, size_t len, uint64_t cap, int64_t t, int want)
{
	uint8_t k[WEFT_QCACHE_KEY], *v = malloc(len);

	memset(v, fill, len);
	key_of(k, i);
	assert_int_equal(weft_qcache_put(f->st, k, v, len, cap, t, NULL), want);
	free(v);
}

static void
test_put_get(void **state)
{
	fx_t *f = *state;
	uint64_t n, bytes;
	int first;
	size_t len;

	assert_int_equal(held(f, 1, &first, &len), 0);
	put(f, 1, 'a', 1000, 1 << 20, 10, 0);
	assert_int_equal(held(f, 1, &first, &len), 1);
	assert_int_equal(first, 'a');
	assert_int_equal(len, 1000);
	/* replaced in place: one entry, the new size */
	put(f, 1, 'b', 500, 1 << 20, 11, 0);
	assert_int_equal(held(f, 1, &first, &len), 1);
	assert_int_equal(first, 'b');
	assert_int_equal(len, 500);
	assert_int_equal(weft_qcache_stat(f->st, &n, &bytes, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bytes, 500);
	/* empty values are results too */
	put(f, 2, 'c', 0, 1 << 20, 12, 0);
	assert_int_equal(held(f, 2, &first, &len), 1);
	assert_int_equal(len, 0);
}

static void
test_evict_lru(void **state)
{
	fx_t *f = *state;
	uint8_t k[WEFT_QCACHE_KEY];
	uint64_t n, bytes;
	int first, i;
	size_t len;

	/* cap 4000: four entries of 1000 fit */
	for (i = 1; i <= 4; i++)
		put(f, i, 'a' + i, 1000, 4000, 100 + i, 0);
	/* 1 is the oldest, but a hit makes it the newest */
	key_of(k, 1);
	assert_int_equal(weft_qcache_touch(f->st, k, 200, NULL), 0);
	put(f, 5, 'z', 1000, 4000, 201, 0);
	assert_int_equal(held(f, 2, &first, &len), 0); /* evicted */
	assert_int_equal(held(f, 1, &first, &len), 1);
	assert_int_equal(first, 'a' + 1);
	for (i = 3; i <= 5; i++)
		assert_int_equal(held(f, i, &first, &len), 1);
	assert_int_equal(weft_qcache_stat(f->st, &n, &bytes, NULL), 0);
	assert_int_equal(n, 4);
	assert_int_equal(bytes, 4000);
	/* one of 1000 more: exactly one more eviction (3, now the oldest) */
	put(f, 6, 'y', 1000, 4000, 202, 0);
	assert_int_equal(held(f, 3, &first, &len), 0);
	assert_int_equal(held(f, 4, &first, &len), 1);
}

static void
test_limits(void **state)
{
	fx_t *f = *state;
	uint64_t n, bytes;
	int first;
	size_t len;

	put(f, 1, 'a', 1001, 4000, 1, 1); /* over cap / 4: not stored */
	assert_int_equal(held(f, 1, &first, &len), 0);
	put(f, 2, 'a', 10, 0, 1, 1); /* cache off */
	assert_int_equal(held(f, 2, &first, &len), 0);
	assert_int_equal(weft_qcache_stat(f->st, &n, &bytes, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(bytes, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_evict_lru, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
