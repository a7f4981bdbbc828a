/*
 * pool.c: the agent's worker pool (pool.h).
 *
 * The loop never waits for a worker: it shares no lock with them. A
 * worker runs at a low priority and, on a busy host, may be preempted
 * for hundreds of milliseconds anywhere, also holding a lock: with one
 * mutex between the loop and the workers (until stop 32), 32 agents on
 * 2 vCPUs under an insider flood had their loops blocked on the verify
 * pool's mutex for up to 490 ms (perf trace: futex waits on it), and
 * `weft status` waited as long. So:
 *   - submitted jobs go on an inbox, a stack the loop pushes with a
 *     compare-and-swap; a semaphore counts them. A worker takes the
 *     whole inbox at once (an exchange), reversed onto the workers' own
 *     FIFO, under a mutex the loop never waits for;
 *   - finished jobs go on another such stack, which the loop takes
 *     whole when woken (wake.h: an eventfd, not uv_async_send);
 *   - cancelling marks the job; a queued one is done at once if the
 *     workers' FIFO is free (a trylock), else skipped (done without
 *     work) when a worker reaches it.
 * busy counts jobs between submit and done (the loop's only), which is
 * what max_jobs bounds.
 *
 * Workers run at a lower priority than the loop (nice POOL_NICE above
 * the process's): on a busy host the loop's short turns (a status
 * request, a ping, gossip bookkeeping) go before a worker's long ones,
 * whichever process the worker belongs to; on an idle host nice changes
 * nothing. Measured (docs/bench.md, "Insider flood"): 32 agents on 2
 * vCPUs, each verifying a flooding origin's entries on its thread, kept
 * their loops waiting for a core for up to a second.
 */
#include "agent/pool.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/wake.h"
#include "lib/err.h"

#define POOL_NICE 10 /* CFS weight ~1/10 of the loop's */

struct weft_pool {
	uv_loop_t *loop;
	ag_wake_t wake;
	sem_t sem;	     /* jobs in the inbox, plus one a thread at close */
	pthread_mutex_t wmu; /* the workers' only: qhead, qtail */
	pthread_t *th;
	weft_pool_job_t **cur; /* [nth]: the job each thread runs, or NULL */
	unsigned nth;
	int nice;			/* above the process's */
	char name[16];			/* the threads' */
	weft_pool_job_t *inbox;		/* atomic: submitted, newest first */
	weft_pool_job_t *qhead, *qtail; /* taken from the inbox, in order */
	weft_pool_job_t *fin;		/* atomic: finished, newest first */
	unsigned busy, max;		/* the loop's */
	int stopping;			/* atomic */
};

/* Push j on an atomic stack (any thread). */
static void
pool_stack_push(weft_pool_job_t **top, weft_pool_job_t *j)
{
	weft_pool_job_t *old = __atomic_load_n(top, __ATOMIC_RELAXED);

	do
		j->pj_next = old;
	while (!__atomic_compare_exchange_n(top, &old, j, 1, __ATOMIC_SEQ_CST,
					    __ATOMIC_RELAXED));
}

/* Take a whole atomic stack, oldest first. */
static weft_pool_job_t *
pool_stack_take(weft_pool_job_t **top)
{
	weft_pool_job_t *j = __atomic_exchange_n(top, NULL, __ATOMIC_SEQ_CST);
	weft_pool_job_t *r = NULL, *next;

	for (; j != NULL; j = next) {
		next = j->pj_next;
		j->pj_next = r;
		r = j;
	}
	return r;
}

/* The inbox, in order, onto the end of the queue (wmu held). */
static void
pool_refill(weft_pool_t *p)
{
	weft_pool_job_t *j = pool_stack_take(&p->inbox);

	if (j == NULL)
		return;
	if (p->qtail != NULL)
		p->qtail->pj_next = j;
	else
		p->qhead = j;
	for (p->qtail = j; p->qtail->pj_next; p->qtail = p->qtail->pj_next)
		;
}

/* Worker: the next job in order (wmu held), or NULL. */
static weft_pool_job_t *
pool_next(weft_pool_t *p)
{
	weft_pool_job_t *j;

	if (p->qhead == NULL)
		pool_refill(p);
	if ((j = p->qhead) != NULL && (p->qhead = j->pj_next) == NULL)
		p->qtail = NULL;
	return j;
}

typedef struct pool_arg {
	weft_pool_t *p;
	unsigned i;
} pool_arg_t;

static void *
pool_thread(void *arg)
{
	weft_pool_t *p = ((pool_arg_t *)arg)->p;
	unsigned me = ((pool_arg_t *)arg)->i;
	weft_pool_job_t *j;

	free(arg);
	(void)pthread_setname_np(pthread_self(), p->name);
	/* this thread only (Linux: a thread id names one thread); failing
	 * (a seccomp filter, say) leaves it at the loop's priority */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(),
			  getpriority(PRIO_PROCESS, (id_t)gettid()) + p->nice);
	for (;;) {
		while (sem_wait(&p->sem) != 0 && errno == EINTR)
			;
		pthread_mutex_lock(&p->wmu);
		j = pool_next(p);
		pthread_mutex_unlock(&p->wmu);
		if (j == NULL) {
			if (__atomic_load_n(&p->stopping, __ATOMIC_ACQUIRE))
				break; /* stopping, nothing left */
			continue;
		}
		__atomic_store_n(&p->cur[me], j, __ATOMIC_RELEASE);
		if (weft_pool_cancelled(j) ||
		    __atomic_load_n(&p->stopping, __ATOMIC_ACQUIRE))
			j->cancelled = 1;
		else
			j->work(j);
		__atomic_store_n(&p->cur[me], NULL, __ATOMIC_RELEASE);
		pool_stack_push(&p->fin, j);
		ag_wake_send(&p->wake);
	}
	return NULL;
}

/* Loop thread: call done for every finished job. */
static void
pool_drain(weft_pool_t *p)
{
	weft_pool_job_t *j, *next;

	for (j = pool_stack_take(&p->fin); j != NULL; j = next) {
		next = j->pj_next; /* done may free j */
		p->busy--;
		j->done(j);
	}
}

/* Free p, its threads gone and its wake-up closed or never made. */
static void
pool_free(weft_pool_t *p)
{
	pthread_mutex_destroy(&p->wmu);
	sem_destroy(&p->sem);
	free(p->cur);
	free(p->th);
	free(p);
}

static void pool_closed(ag_wake_t *w);

static void
pool_wake_cb(ag_wake_t *w)
{
	pool_drain(w->data);
}

int
weft_pool_new(uv_loop_t *loop, unsigned threads, unsigned max_jobs,
	      weft_pool_t **out)
{
	return weft_pool_new_nice(loop, threads, max_jobs, POOL_NICE,
				  "weft-work", out);
}

int
weft_pool_new_nice(uv_loop_t *loop, unsigned threads, unsigned max_jobs,
		   int nice, const char *name, weft_pool_t **out)
{
	weft_pool_t *p;
	unsigned i;
	int rc;

	*out = NULL;
	if (threads == 0 || max_jobs == 0)
		return WEFT_EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->th = calloc(threads, sizeof(*p->th))) == NULL ||
	    (p->cur = calloc(threads, sizeof(*p->cur))) == NULL) {
		if (p != NULL)
			free(p->th);
		free(p);
		return WEFT_ENOMEM;
	}
	p->loop = loop;
	p->max = max_jobs;
	p->nice = nice;
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (sem_init(&p->sem, 0, 0) != 0) {
		free(p->cur);
		free(p->th);
		free(p);
		return -errno;
	}
	pthread_mutex_init(&p->wmu, NULL);
	rc = ag_wake_init(loop, &p->wake, pool_wake_cb);
	p->wake.data = p;
	if (rc != 0) {
		if (p->wake.fd >= 0) /* made and not started: freed once it
				      * closed (no threads yet) */
			ag_wake_close(&p->wake, pool_closed);
		else
			pool_free(p);
		return rc;
	}
	for (i = 0; i < threads; i++) {
		pool_arg_t *pa = malloc(sizeof(*pa));

		rc = ENOMEM;
		if (pa == NULL)
			break;
		pa->p = p;
		pa->i = i;
		rc = pthread_create(&p->th[i], NULL, pool_thread, pa);
		if (rc != 0) {
			free(pa);
			break;
		}
		p->nth++;
	}
	*out = p;
	if (p->nth < threads) {
		weft_pool_close(p);
		*out = NULL;
		return -rc;
	}
	return 0;
}

int
weft_pool_submit(weft_pool_t *p, weft_pool_job_t *job)
{
	if (__atomic_load_n(&p->stopping, __ATOMIC_RELAXED))
		return WEFT_EINVAL;
	if (p->busy >= p->max)
		return WEFT_EAGAIN;
	job->cancelled = 0;
	__atomic_store_n(&job->pj_cancel, 0, __ATOMIC_RELAXED);
	p->busy++;
	pool_stack_push(&p->inbox, job);
	sem_post(&p->sem);
	return 0;
}

void
weft_pool_cancel(weft_pool_t *p, weft_pool_job_t *job)
{
	weft_pool_job_t **pp, *prev = NULL;
	int found = 0;

	/* running: it looks; queued: skipped when a worker reaches it, or
	 * done at once if the workers' queue is free now (it is but for
	 * moments; the loop never waits for it) */
	__atomic_store_n(&job->pj_cancel, 1, __ATOMIC_RELAXED);
	if (pthread_mutex_trylock(&p->wmu) != 0)
		return;
	pool_refill(p);
	for (pp = &p->qhead; *pp != NULL; prev = *pp, pp = &(*pp)->pj_next) {
		if (*pp != job)
			continue;
		*pp = job->pj_next; /* its semaphore count finds nothing */
		if (p->qtail == job)
			p->qtail = prev;
		job->cancelled = 1;
		found = 1;
		break;
	}
	pthread_mutex_unlock(&p->wmu);
	if (found) {
		pool_stack_push(&p->fin, job);
		ag_wake_send(&p->wake);
	}
}

int
weft_pool_cancelled(const weft_pool_job_t *job)
{
	return __atomic_load_n(&job->pj_cancel, __ATOMIC_RELAXED);
}

unsigned
weft_pool_busy(const weft_pool_t *p)
{
	return p->busy;
}

static void
pool_closed(ag_wake_t *w)
{
	pool_free(w->data);
}

void
weft_pool_close(weft_pool_t *p)
{
	unsigned i;

	if (p == NULL || __atomic_load_n(&p->stopping, __ATOMIC_RELAXED))
		return;
	/* what is queued is skipped (done without work), what runs sees
	 * itself cancelled; then each thread finds nothing and ends */
	__atomic_store_n(&p->stopping, 1, __ATOMIC_RELEASE);
	for (i = 0; i < p->nth; i++) {
		weft_pool_job_t *j =
		    __atomic_load_n(&p->cur[i], __ATOMIC_ACQUIRE);

		if (j != NULL)
			__atomic_store_n(&j->pj_cancel, 1, __ATOMIC_RELAXED);
	}
	for (i = 0; i < p->nth; i++)
		sem_post(&p->sem);
	for (i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	pool_drain(p);
	ag_wake_close(&p->wake, pool_closed);
}
