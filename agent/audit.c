/*
 * audit.c: the agent's side of the audit log (docs/audit.md): records of
 * remote fragments answered or refused, queued by whichever thread made
 * them and written to LMDB in batches on the worker pool.
 *
 * Every commit syncs the disk (about half a millisecond here), so a
 * record is not written alone: the workers that serve fragments queue
 * theirs (ag_audit_push); a worker that finds AUDIT_BATCH records queued
 * and no write under way writes them itself, after its snapshot has
 * ended; a 200 ms timer hands any others to the pool. The loop only
 * moves records between lists. The queue is bounded (AUDIT_QMAX): when
 * the disk cannot keep up, the oldest queued records are dropped and
 * counted (`weft status`: audit_dropped) rather than memory growing.
 * What is still queued at shutdown is written before the store closes.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"

#define AUDIT_BATCH 64
#define AUDIT_QMAX 8192
#define AUDIT_TICK_MS 200

/* Take the queue (under the lock): *n records, the caller frees. */
static weft_audit_rec_t *
au_take(agent_t *a, size_t *n)
{
	weft_audit_rec_t *q = a->audit_q;

	*n = a->audit_n;
	a->audit_q = NULL;
	a->audit_n = a->audit_cap = 0;
	return q;
}

/* Put recs[0..n) back at the head of the queue (what does not fit in
 * AUDIT_QMAX is dropped and counted). */
static void
au_requeue(agent_t *a, const weft_audit_rec_t *recs, size_t n)
{
	weft_audit_rec_t *nq;
	size_t keep;

	pthread_mutex_lock(&a->audit_mu);
	keep = n + a->audit_n > AUDIT_QMAX ? AUDIT_QMAX - a->audit_n : n;
	nq = malloc((keep + a->audit_n + 1) * sizeof(*nq));
	if (nq == NULL) {
		a->audit_dropped += n;
	} else {
		memcpy(nq, recs, keep * sizeof(*nq));
		if (a->audit_n > 0)
			memcpy(nq + keep, a->audit_q, a->audit_n * sizeof(*nq));
		free(a->audit_q);
		a->audit_q = nq;
		a->audit_n += keep;
		a->audit_cap = a->audit_n;
		a->audit_dropped += n - keep;
	}
	pthread_mutex_unlock(&a->audit_mu);
}

/* Write recs[0..n) (any thread with no transaction open). */
static void
au_write(agent_t *a, weft_audit_rec_t *recs, size_t n)
{
	weft_err_t err = {0};
	size_t i;

	for (i = 0; i < n; i += AUDIT_BATCH * 4) {
		size_t m = n - i < AUDIT_BATCH * 4 ? n - i : AUDIT_BATCH * 4;

		int rc = weft_audit_append(a->st, recs + i, m, 0, &err);

		if (rc == WEFT_EAGAIN) { /* the map must grow first: later */
			au_requeue(a, recs + i, n - i);
			break;
		}
		if (rc != 0) {
			__atomic_add_fetch(&a->audit_dropped, m,
					   __ATOMIC_RELAXED);
			ag_log("warn", "audit: %zu records not written: %s", m,
			       err.msg);
			memset(&err, 0, sizeof(err));
		} else {
			__atomic_add_fetch(&a->audit_written, m,
					   __ATOMIC_RELAXED);
		}
	}
	free(recs);
}

void
ag_audit_push(agent_t *a, const weft_audit_rec_t *r, int may_write)
{
	weft_audit_rec_t *q = NULL;
	size_t n = 0;

	pthread_mutex_lock(&a->audit_mu);
	if (a->audit_n == AUDIT_QMAX) { /* the disk is behind: oldest go */
		memmove(a->audit_q, a->audit_q + 1,
			(AUDIT_QMAX - 1) * sizeof(*a->audit_q));
		a->audit_n--;
		a->audit_dropped++;
	}
	if (a->audit_n == a->audit_cap) {
		size_t cap = a->audit_cap ? a->audit_cap * 2 : 16;
		weft_audit_rec_t *nq = realloc(a->audit_q, cap * sizeof(*nq));

		if (nq == NULL) {
			a->audit_dropped++;
			pthread_mutex_unlock(&a->audit_mu);
			return;
		}
		a->audit_q = nq;
		a->audit_cap = cap;
	}
	a->audit_q[a->audit_n++] = *r;
	if (may_write && a->audit_n >= AUDIT_BATCH && !a->audit_busy) {
		q = au_take(a, &n);
		a->audit_busy = 1;
	}
	pthread_mutex_unlock(&a->audit_mu);
	if (q == NULL)
		return;
	au_write(a, q, n);
	pthread_mutex_lock(&a->audit_mu);
	a->audit_busy = 0;
	pthread_mutex_unlock(&a->audit_mu);
}

static void
au_work(weft_pool_job_t *job)
{
	agent_t *a = job->arg;
	weft_audit_rec_t *q;
	size_t n;

	pthread_mutex_lock(&a->audit_mu);
	q = au_take(a, &n);
	pthread_mutex_unlock(&a->audit_mu);
	au_write(a, q, n);
}

static void
au_done(weft_pool_job_t *job)
{
	agent_t *a = job->arg;

	pthread_mutex_lock(&a->audit_mu);
	a->audit_busy = 0;
	pthread_mutex_unlock(&a->audit_mu);
	a->audit_job_on = 0;
}

static void
au_tick(uv_timer_t *t)
{
	agent_t *a = t->data;
	size_t n;
	int go;

	if (a->audit_job_on || a->pool == NULL)
		return;
	pthread_mutex_lock(&a->audit_mu);
	n = a->audit_n;
	go = n > 0 && !a->audit_busy;
	if (go)
		a->audit_busy = 1;
	pthread_mutex_unlock(&a->audit_mu);
	if (!go)
		return;
	/* the workers may not grow the map: make room for them here */
	weft_store_prepare(a->st, n * 256 + 65536);
	memset(&a->audit_job, 0, sizeof(a->audit_job));
	a->audit_job.work = au_work;
	a->audit_job.done = au_done;
	a->audit_job.arg = a;
	if (weft_pool_submit(a->pool, &a->audit_job) != 0) {
		pthread_mutex_lock(&a->audit_mu);
		a->audit_busy = 0; /* the pool is full: next tick */
		pthread_mutex_unlock(&a->audit_mu);
		return;
	}
	a->audit_job_on = 1;
}

int
ag_audit_start(agent_t *a)
{
	if (pthread_mutex_init(&a->audit_mu, NULL) != 0)
		return -1;
	a->audit_mu_ok = 1;
	uv_timer_init(a->loop, &a->audit_timer);
	a->audit_timer.data = a;
	a->audit_timer_open = 1;
	uv_timer_start(&a->audit_timer, au_tick, AUDIT_TICK_MS, AUDIT_TICK_MS);
	return 0;
}

void
ag_audit_stop(agent_t *a)
{
	if (a->audit_timer_open) {
		uv_close((uv_handle_t *)&a->audit_timer, NULL);
		a->audit_timer_open = 0;
	}
}

void
ag_audit_close(agent_t *a)
{
	weft_audit_rec_t *q;
	size_t n;

	if (!a->audit_mu_ok)
		return;
	q = au_take(a, &n); /* the pools are closed: no other thread */
	if (n > 0 && a->st != NULL)
		au_write(a, q, n);
	else
		free(q);
	pthread_mutex_destroy(&a->audit_mu);
	a->audit_mu_ok = 0;
}
