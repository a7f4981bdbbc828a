/*
 * test_pool.c: cmocka tests for agent/pool: jobs run on worker threads
 * and complete on the loop thread; the job cap answers "busy"; a queued
 * job cancelled never runs; a running job sees its cancellation; close
 * cancels the queue, waits for running jobs and calls every done; and
 * the loop keeps turning (a timer fires) while a long job runs.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "agent/pool.h"
#include "lib/err.h"

typedef struct tjob {
	weft_pool_job_t job;
	pthread_t loop_thread;
	volatile int started;
	int worked, done, cancelled, saw_cancel, done_on_loop;
	unsigned long long sum;
	volatile int *gate; /* work spins until *gate (if set) */
	unsigned *ndone;
} tjob_t;

static void
t_work(weft_pool_job_t *j)
{
	tjob_t *t = j->arg;
	unsigned long long i;

	t->started = 1;
	while (t->gate != NULL && !*t->gate && !weft_pool_cancelled(j))
		usleep(1000);
	for (i = 1; i <= 100000; i++)
		t->sum += i;
	t->saw_cancel = weft_pool_cancelled(j);
	t->worked = 1;
}

static void
t_done(weft_pool_job_t *j)
{
	tjob_t *t = j->arg;

	t->done++;
	t->cancelled = j->cancelled;
	t->done_on_loop = pthread_equal(pthread_self(), t->loop_thread);
	if (t->ndone != NULL)
		(*t->ndone)++;
}

static void
t_init(tjob_t *t, unsigned *ndone)
{
	memset(t, 0, sizeof(*t));
	t->job.work = t_work;
	t->job.done = t_done;
	t->job.arg = t;
	t->loop_thread = pthread_self();
	t->ndone = ndone;
}

/* Wait (bounded: 10 s) until a worker has taken t. */
static void
wait_started(const tjob_t *t)
{
	int spins;

	for (spins = 0; !t->started && spins < 10000; spins++)
		usleep(1000);
	assert_int_equal(t->started, 1);
}

/* Run the loop until *n reaches want (bounded: 10 s). */
static void
run_until(uv_loop_t *loop, unsigned *n, unsigned want)
{
	int spins;

	for (spins = 0; *n < want && spins < 10000; spins++) {
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	assert_int_equal(*n, want);
}

static void
close_loop(uv_loop_t *loop, weft_pool_t *p)
{
	weft_pool_close(p);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void
test_jobs_complete_on_loop(void **state)
{
	uv_loop_t loop;
	weft_pool_t *p;
	tjob_t t[16];
	unsigned i, ndone = 0;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(weft_pool_new(&loop, 3, 64, &p), 0);
	for (i = 0; i < 16; i++) {
		t_init(&t[i], &ndone);
		assert_int_equal(weft_pool_submit(p, &t[i].job), 0);
	}
	run_until(&loop, &ndone, 16);
	for (i = 0; i < 16; i++) {
		assert_int_equal(t[i].worked, 1);
		assert_int_equal(t[i].done, 1);
		assert_int_equal(t[i].cancelled, 0);
		assert_int_equal(t[i].done_on_loop, 1);
		assert_true(t[i].sum == 100000ull * 100001 / 2);
	}
	assert_int_equal(weft_pool_busy(p), 0);
	close_loop(&loop, p);
}

static void
test_cap_and_cancel_queued(void **state)
{
	uv_loop_t loop;
	weft_pool_t *p;
	tjob_t a, b, c, d;
	volatile int gate = 0;
	unsigned ndone = 0;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(weft_pool_new(&loop, 1, 3, &p), 0);
	t_init(&a, &ndone);
	a.gate = &gate; /* holds the only thread */
	t_init(&b, &ndone);
	t_init(&c, &ndone);
	t_init(&d, &ndone);
	assert_int_equal(weft_pool_submit(p, &a.job), 0);
	assert_int_equal(weft_pool_submit(p, &b.job), 0);
	assert_int_equal(weft_pool_submit(p, &c.job), 0);
	/* three queued or running: the fourth is refused, not queued */
	assert_int_equal(weft_pool_submit(p, &d.job), WEFT_EAGAIN);
	assert_int_equal(weft_pool_busy(p), 3);
	weft_pool_cancel(p, &b.job); /* still queued: never runs */
	run_until(&loop, &ndone, 1);
	assert_int_equal(b.done, 1);
	assert_int_equal(b.cancelled, 1);
	assert_int_equal(b.worked, 0);
	gate = 1;
	run_until(&loop, &ndone, 3);
	assert_int_equal(a.worked, 1);
	assert_int_equal(a.saw_cancel, 0);
	assert_int_equal(c.worked, 1);
	assert_int_equal(d.done, 0);
	/* room again */
	assert_int_equal(weft_pool_submit(p, &d.job), 0);
	run_until(&loop, &ndone, 4);
	assert_int_equal(d.worked, 1);
	close_loop(&loop, p);
}

static void
test_cancel_running(void **state)
{
	uv_loop_t loop;
	weft_pool_t *p;
	tjob_t a;
	volatile int gate = 0;
	unsigned ndone = 0;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(weft_pool_new(&loop, 1, 4, &p), 0);
	t_init(&a, &ndone);
	a.gate = &gate; /* runs until cancelled */
	assert_int_equal(weft_pool_submit(p, &a.job), 0);
	wait_started(&a);
	weft_pool_cancel(p, &a.job);
	run_until(&loop, &ndone, 1);
	assert_int_equal(a.worked, 1);
	assert_int_equal(a.saw_cancel, 1);
	assert_int_equal(a.cancelled, 0); /* work did run */
	close_loop(&loop, p);
}

static void
test_close_cancels_queue(void **state)
{
	uv_loop_t loop;
	weft_pool_t *p;
	tjob_t a, b, c;
	volatile int gate = 0;
	unsigned ndone = 0;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(weft_pool_new(&loop, 1, 4, &p), 0);
	t_init(&a, &ndone);
	a.gate = &gate;
	t_init(&b, &ndone);
	t_init(&c, &ndone);
	assert_int_equal(weft_pool_submit(p, &a.job), 0);
	assert_int_equal(weft_pool_submit(p, &b.job), 0);
	assert_int_equal(weft_pool_submit(p, &c.job), 0);
	wait_started(&a);
	/* close: a (running) is told to stop, b and c never run; every
	 * done runs before close returns */
	weft_pool_close(p);
	assert_int_equal(ndone, 3);
	assert_int_equal(a.worked, 1);
	assert_int_equal(a.saw_cancel, 1);
	assert_int_equal(b.worked + c.worked, 0);
	assert_int_equal(b.cancelled + c.cancelled, 2);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
tick_cb(uv_timer_t *t)
{
	(*(unsigned *)t->data)++;
}

static void
test_loop_turns_during_job(void **state)
{
	uv_loop_t loop;
	uv_timer_t timer;
	weft_pool_t *p;
	tjob_t a;
	volatile int gate = 0;
	unsigned ndone = 0, ticks = 0;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(weft_pool_new(&loop, 1, 4, &p), 0);
	uv_timer_init(&loop, &timer);
	timer.data = &ticks;
	uv_timer_start(&timer, tick_cb, 1, 1);
	t_init(&a, &ndone);
	a.gate = &gate;
	assert_int_equal(weft_pool_submit(p, &a.job), 0);
	run_until(&loop, &ticks, 20); /* the job is still running */
	assert_int_equal(ndone, 0);
	gate = 1;
	run_until(&loop, &ndone, 1);
	uv_close((uv_handle_t *)&timer, NULL);
	close_loop(&loop, p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jobs_complete_on_loop),
	    cmocka_unit_test(test_cap_and_cancel_queued),
	    cmocka_unit_test(test_cancel_running),
	    cmocka_unit_test(test_close_cancels_queue),
	    cmocka_unit_test(test_loop_turns_during_job),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
