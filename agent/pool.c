/*
 * pool.c: the agent's worker pool (pool.h).
 *
 * One mutex guards two lists: the queue (submitted, not started) and the
 * finished list (work returned or cancelled, done not yet called). A
 * worker takes the queue's head, runs work without the lock, puts the
 * job on the finished list and wakes the loop with uv_async_send; the
 * loop's async callback takes the finished list and calls done. busy
 * counts jobs between submit and done, which is what max_jobs bounds.
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
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/err.h"

#define POOL_NICE 10 /* CFS weight ~1/10 of the loop's */

struct weft_pool {
	uv_loop_t *loop;
	uv_async_t async;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t *th;
	weft_pool_job_t **cur; /* [nth]: the job each thread runs, or NULL */
	unsigned nth;
	weft_pool_job_t *qhead, *qtail; /* queued */
	weft_pool_job_t *fhead, *ftail; /* finished, done pending */
	unsigned busy, max;
	int stopping;
};

static void
pool_push(weft_pool_job_t **head, weft_pool_job_t **tail, weft_pool_job_t *j)
{
	j->pj_next = NULL;
	if (*tail != NULL)
		(*tail)->pj_next = j;
	else
		*head = j;
	*tail = j;
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
	/* this thread only (Linux: a thread id names one thread); failing
	 * (a seccomp filter, say) leaves it at the loop's priority */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(),
			  getpriority(PRIO_PROCESS, (id_t)gettid()) +
			      POOL_NICE);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stopping && p->qhead == NULL)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->qhead == NULL)
			break; /* stopping, nothing left */
		j = p->qhead;
		p->qhead = j->pj_next;
		if (p->qhead == NULL)
			p->qtail = NULL;
		p->cur[me] = j;
		pthread_mutex_unlock(&p->mu);
		if (weft_pool_cancelled(j))
			j->cancelled = 1;
		else
			j->work(j);
		pthread_mutex_lock(&p->mu);
		p->cur[me] = NULL;
		pool_push(&p->fhead, &p->ftail, j);
		uv_async_send(&p->async);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Loop thread: call done for every finished job. */
static void
pool_drain(weft_pool_t *p)
{
	weft_pool_job_t *j, *next;

	pthread_mutex_lock(&p->mu);
	j = p->fhead;
	p->fhead = p->ftail = NULL;
	pthread_mutex_unlock(&p->mu);
	for (; j != NULL; j = next) {
		next = j->pj_next; /* done may free j */
		p->busy--;
		j->done(j);
	}
}

static void
pool_async_cb(uv_async_t *a)
{
	pool_drain(a->data);
}

int
weft_pool_new(uv_loop_t *loop, unsigned threads, unsigned max_jobs,
	      weft_pool_t **out)
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
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	rc = uv_async_init(loop, &p->async, pool_async_cb);
	if (rc != 0) {
		free(p->cur);
		free(p->th);
		free(p);
		return rc;
	}
	p->async.data = p;
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
	if (p->stopping)
		return WEFT_EINVAL;
	if (p->busy >= p->max)
		return WEFT_EAGAIN;
	job->cancelled = 0;
	__atomic_store_n(&job->pj_cancel, 0, __ATOMIC_RELAXED);
	p->busy++;
	pthread_mutex_lock(&p->mu);
	pool_push(&p->qhead, &p->qtail, job);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void
weft_pool_cancel(weft_pool_t *p, weft_pool_job_t *job)
{
	weft_pool_job_t **pp, *prev = NULL;

	__atomic_store_n(&job->pj_cancel, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&p->mu);
	for (pp = &p->qhead; *pp != NULL; prev = *pp, pp = &(*pp)->pj_next) {
		if (*pp != job)
			continue;
		*pp = job->pj_next; /* not started: it goes straight to done */
		if (p->qtail == job)
			p->qtail = prev;
		job->cancelled = 1;
		pool_push(&p->fhead, &p->ftail, job);
		uv_async_send(&p->async);
		break;
	}
	pthread_mutex_unlock(&p->mu);
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
pool_closed(uv_handle_t *h)
{
	weft_pool_t *p = h->data;

	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->cur);
	free(p->th);
	free(p);
}

void
weft_pool_close(weft_pool_t *p)
{
	weft_pool_job_t *j;
	unsigned i;

	if (p == NULL || p->stopping)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	while ((j = p->qhead) != NULL) {
		p->qhead = j->pj_next;
		__atomic_store_n(&j->pj_cancel, 1, __ATOMIC_RELAXED);
		j->cancelled = 1;
		pool_push(&p->fhead, &p->ftail, j);
	}
	p->qtail = NULL;
	for (i = 0; i < p->nth; i++)
		if (p->cur[i] != NULL)
			__atomic_store_n(&p->cur[i]->pj_cancel, 1,
					 __ATOMIC_RELAXED);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	pool_drain(p);
	uv_close((uv_handle_t *)&p->async, pool_closed);
}
