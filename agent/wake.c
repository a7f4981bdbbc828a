/*
 * wake.c: waking the loop from another thread (wake.h).
 */
#include "agent/wake.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void
wake_io(uv_poll_t *h, int status, int events)
{
	ag_wake_t *w = h->data;
	uint64_t n;

	(void)events;
	if (status < 0)
		return;
	/* read, then clear the flag, then look: a send before the clear
	 * is seen by the callback; one after it writes again and wakes us
	 * again. (Clear first and the read could swallow the write of a
	 * send made between the two, leaving the flag set with nothing to
	 * read: every later send skipped, the loop never woken again; a
	 * federated query hung so in make test.) */
	while (read(w->fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	__atomic_store_n(&w->pending, 0, __ATOMIC_SEQ_CST);
	w->cb(w);
}

int
ag_wake_init(uv_loop_t *loop, ag_wake_t *w, ag_wake_cb cb)
{
	int rc;

	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	w->pending = 0;
	w->cb = cb;
	w->closed = NULL;
	rc = uv_poll_init(loop, &w->poll, w->fd);
	if (rc != 0) {
		close(w->fd);
		w->fd = -1;
		return rc;
	}
	w->poll.data = w;
	/* failing here, the handle is the loop's until closed: the caller
	 * releases it with ag_wake_close (wake.h) */
	return uv_poll_start(&w->poll, UV_READABLE, wake_io);
}

void
ag_wake_send(ag_wake_t *w)
{
	uint64_t one = 1;

	if (__atomic_exchange_n(&w->pending, 1, __ATOMIC_SEQ_CST) != 0)
		return; /* one is on its way */
	while (write(w->fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void
wake_closed(uv_handle_t *h)
{
	ag_wake_t *w = h->data;

	close(w->fd);
	w->fd = -1;
	if (w->closed != NULL)
		w->closed(w);
}

void
ag_wake_close(ag_wake_t *w, ag_wake_cb closed)
{
	w->closed = closed;
	uv_close((uv_handle_t *)&w->poll, wake_closed);
}
