/*
 * test_wake.c: cmocka tests for agent/wake: a worker's sends are never
 * lost. A thread publishes a counter and sends, 200,000 times, while the
 * loop takes the wake-ups; the loop must see the last value. Before the
 * callback read the eventfd ahead of clearing the flag, a send between
 * the two was swallowed and the loop was never woken again.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "agent/wake.h"

#define SENDS 200000

typedef struct {
	ag_wake_t w;
	unsigned pub;  /* atomic: the thread's counter */
	unsigned seen; /* the loop's: the last value its callback saw */
	unsigned calls;
} wt_t;

static void
wt_cb(ag_wake_t *w)
{
	wt_t *t = w->data;

	t->seen = __atomic_load_n(&t->pub, __ATOMIC_SEQ_CST);
	t->calls++;
}

static void
wt_tick(uv_timer_t *h)
{
	(void)h;
}

static void *
wt_thread(void *arg)
{
	wt_t *t = arg;
	unsigned i;

	for (i = 1; i <= SENDS; i++) {
		__atomic_store_n(&t->pub, i, __ATOMIC_SEQ_CST);
		ag_wake_send(&t->w);
		if (i % 1000 == 0)
			usleep(50); /* let the loop catch up at times */
	}
	return NULL;
}

static void
test_no_lost_wakeup(void **state)
{
	uv_loop_t loop;
	pthread_t th;
	uv_timer_t tick;
	wt_t t = {0};
	uint64_t t0;
	int spins;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	t0 = uv_now(&loop);
	assert_int_equal(ag_wake_init(&loop, &t.w, wt_cb), 0);
	t.w.data = &t;
	/* a tick, so a lost wake-up fails the test instead of hanging it */
	uv_timer_init(&loop, &tick);
	uv_timer_start(&tick, wt_tick, 10, 10);
	assert_int_equal(pthread_create(&th, NULL, wt_thread, &t), 0);
	/* the loop sleeps in its poll between wake-ups, as the agent's;
	 * at most 10 s */
	for (spins = 0;
	     t.seen < SENDS && spins < 1000000 && uv_now(&loop) - t0 < 10000;
	     spins++)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(t.seen, SENDS);
	uv_close((uv_handle_t *)&tick, NULL);
	assert_true(t.calls >= 1 && t.calls <= SENDS);
	ag_wake_close(&t.w, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_lost_wakeup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
