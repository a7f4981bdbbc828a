/*
 * lanes.c: two lanes of work on one batch, the caller's thread and one
 * helper thread, joined before the caller goes on (wq_lanes_run).
 *
 * For operators whose work per batch splits into independent parts (the
 * profile's columns): the caller hands the helper lane 1 and does lane 0
 * itself. The helper is started once per operator and waits between
 * batches; a batch is a few tens of microseconds of work, so either side
 * first spins briefly on the generation counters and only then sleeps on
 * the condition variable (a futex wake alone costs about as much as the
 * work). With one CPU, or when no thread can be started, there is no
 * helper and the caller runs both lanes itself: the results are the same
 * either way, since a lane's work never depends on the other's.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "query/lanes.h"

#define LANES_SPIN 4000 /* polls before sleeping (tens of microseconds) */

struct wq_lanes {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic uint64_t go, done; /* batches handed over, finished */
	_Atomic bool quit;
	wq_lane_fn fn;
	void *arg;
	int rc; /* the helper's, read after done */
};

static inline void
lanes_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Wait until *ctr reaches want (or quit, for the helper). */
static void
lanes_wait(wq_lanes_t *l, _Atomic uint64_t *ctr, uint64_t want, bool helper)
{
	int i;

	for (i = 0; i < LANES_SPIN; i++) {
		if (atomic_load(ctr) >= want ||
		    (helper && atomic_load(&l->quit)))
			return;
		lanes_pause();
	}
	pthread_mutex_lock(&l->mu);
	while (atomic_load(ctr) < want && !(helper && atomic_load(&l->quit)))
		pthread_cond_wait(&l->cv, &l->mu);
	pthread_mutex_unlock(&l->mu);
}

static void
lanes_wake(wq_lanes_t *l)
{
	pthread_mutex_lock(&l->mu);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static void *
lanes_main(void *arg)
{
	wq_lanes_t *l = arg;
	uint64_t n = 0;

	for (;;) {
		lanes_wait(l, &l->go, n + 1, true);
		if (atomic_load(&l->quit))
			return NULL;
		n++;
		l->rc = l->fn(l->arg, 1);
		atomic_store(&l->done, n);
		lanes_wake(l);
	}
}

wq_lanes_t *
wq_lanes_new(void)
{
	wq_lanes_t *l;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 ||
	    (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	atomic_init(&l->go, 0);
	atomic_init(&l->done, 0);
	atomic_init(&l->quit, false);
	if (pthread_mutex_init(&l->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&l->cv, NULL) != 0)
		goto fail_mu;
	if (pthread_create(&l->th, NULL, lanes_main, l) != 0)
		goto fail_cv;
	return l;
fail_cv:
	pthread_cond_destroy(&l->cv);
fail_mu:
	pthread_mutex_destroy(&l->mu);
fail:
	free(l);
	return NULL;
}

int
wq_lanes_run(wq_lanes_t *l, wq_lane_fn fn, void *arg)
{
	uint64_t n;
	int rc0, rc1;

	if (l == NULL) {
		rc0 = fn(arg, 0);
		rc1 = fn(arg, 1);
		return rc0 != 0 ? rc0 : rc1;
	}
	l->fn = fn;
	l->arg = arg;
	n = atomic_load(&l->go) + 1;
	atomic_store(&l->go, n);
	lanes_wake(l);
	rc0 = fn(arg, 0);
	lanes_wait(l, &l->done, n, false);
	rc1 = l->rc;
	return rc0 != 0 ? rc0 : rc1;
}

void
wq_lanes_free(wq_lanes_t *l)
{
	if (l == NULL)
		return;
	atomic_store(&l->quit, true);
	lanes_wake(l);
	pthread_join(l->th, NULL);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
