/*
 * pool.h: the agent's worker pool: threads for work that must not run on
 * the event loop (signature sweeps over the catalog today; scans of
 * products for remote queries next), so pings, gossip and other requests
 * keep flowing while it runs.
 *
 * A job is the caller's struct (embed weft_pool_job_t, or point arg at
 * yours). Its work function runs on a worker thread and must touch
 * nothing the loop thread uses without a lock of its own; its done
 * function then runs on the loop thread, where it may use everything.
 * Jobs start in submission order; with more than one thread they may
 * finish in any order.
 *
 * Bounds: at most max_jobs jobs are queued or running; past that
 * weft_pool_submit refuses with WEFT_EAGAIN ("busy"), never queueing
 * without bound.
 *
 * Cancellation: weft_pool_cancel marks a job. A job not started yet never
 * runs work (its done comes at once, or, if a worker is taking jobs at
 * that moment, when a worker reaches it); one running sees
 * weft_pool_cancelled() return 1 and should return soon. Either way done
 * runs, exactly once, with job->cancelled set if the job was cancelled
 * before work ran.
 *
 * The loop thread never waits for a worker (pool.c says how).
 *
 * Ownership: the pool never frees a job; the caller may free it in done
 * (not before). weft_pool_close cancels what is queued, waits for the
 * jobs running (blocking: call it at shutdown), runs every pending done
 * callback and frees the pool.
 */
#ifndef WEFT_AGENT_POOL_H
#define WEFT_AGENT_POOL_H

#include <stddef.h>

#include <uv.h>

typedef struct weft_pool weft_pool_t;
typedef struct weft_pool_job weft_pool_job_t;
typedef void (*weft_pool_fn)(weft_pool_job_t *job);

struct weft_pool_job {
	weft_pool_fn work; /* on a worker thread */
	weft_pool_fn done; /* on the loop thread, afterwards */
	void *arg;
	int cancelled; /* set before done: work did not run */
	/* the pool's */
	int pj_cancel;
	weft_pool_job_t *pj_next;
};

/*
 * Start threads (>= 1) workers, completing through loop. Returns 0, or
 * WEFT_ENOMEM / a negative errno (threads could not start).
 */
int weft_pool_new(uv_loop_t *loop, unsigned threads, unsigned max_jobs,
		  weft_pool_t **out);
/* The same, its workers at nice (above the process's) instead of the
 * default 10 (19 for the work that may wait longest, 0 for short work
 * something waits for), named name (at most 15 bytes: what top -H and
 * perf show; weft_pool_new's are "weft-work"). */
int weft_pool_new_nice(uv_loop_t *loop, unsigned threads, unsigned max_jobs,
		       int nice, const char *name, weft_pool_t **out);
/* Queue a job. 0, or WEFT_EAGAIN when max_jobs are queued or running,
 * or WEFT_EINVAL after weft_pool_close began. */
int weft_pool_submit(weft_pool_t *p, weft_pool_job_t *job);
/* Ask a queued or running job to stop (see above). Loop thread only. */
void weft_pool_cancel(weft_pool_t *p, weft_pool_job_t *job);
/* In work: 1 once the job was cancelled. */
int weft_pool_cancelled(const weft_pool_job_t *job);
/* Jobs queued or running. */
unsigned weft_pool_busy(const weft_pool_t *p);
/* Cancel the queue, wait for running jobs, run the pending done
 * callbacks, stop the threads, close the loop handle and free the pool.
 * Accepts NULL. */
void weft_pool_close(weft_pool_t *p);

#endif
