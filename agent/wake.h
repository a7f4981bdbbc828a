/*
 * wake.h: waking the loop from another thread, in place of libuv's
 * uv_async_t.
 *
 * libuv 1.44 (Debian 12's) makes uv_async_send a tiny critical section:
 * the sender marks the handle busy, writes the loop's eventfd, marks it
 * done; the loop, finding a handle busy, spins (sched_yield every 997
 * tries) until the sender is done. Our workers run at a low priority
 * (pool.c), and one preempted inside that section keeps its loop
 * spinning until it runs again (libuv issue 2949, fixed upstream in 1.45
 * by PR 3879): the flooded agents' loops showed sched_yield in their
 * profiles. (The 100-490 ms stalls measured were the pool's mutex:
 * pool.c.) Here a sender only writes an eventfd (one syscall, no
 * section the loop waits on), skipping the write when one is already
 * under way; the loop reads the eventfd, clears the flag and calls back
 * (in that order: wake.c says why; tests/test_wake.c).
 */
#ifndef WEFT_AGENT_WAKE_H
#define WEFT_AGENT_WAKE_H

#include <uv.h>

typedef struct ag_wake ag_wake_t;
typedef void (*ag_wake_cb)(ag_wake_t *w);

struct ag_wake {
	uv_poll_t poll;
	int fd;	     /* eventfd */
	int pending; /* atomic: a wake-up written and not yet taken */
	ag_wake_cb cb;
	ag_wake_cb closed; /* after ag_wake_close, or NULL */
	void *data;	   /* the caller's */
};

/* Loop thread: 0, or a negative errno. On an error with w->fd >= 0 the
 * handle was made and could not start: release it with ag_wake_close
 * (and free w only in its callback), as after a success. */
int ag_wake_init(uv_loop_t *loop, ag_wake_t *w, ag_wake_cb cb);
/* Any thread: cb runs on the loop soon after (several sends may fold
 * into one call). */
void ag_wake_send(ag_wake_t *w);
/* Loop thread: stop, close; w->closed(w) once it is closed (w may then be
 * freed). */
void ag_wake_close(ag_wake_t *w, ag_wake_cb closed);

#endif
