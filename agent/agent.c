/*
 * agent.c: `weft agent`'s life: the data directory's lock, start (store,
 * identity, listener, control socket, worker pool, node core, dialers,
 * signals), the loop, and a clean stop on SIGINT or SIGTERM (Goodbye to
 * every peer, then close within AG_GRACE_MS). See agent_int.h for how
 * the driver is split.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>

#include "agent/agent_int.h"
#include "lib/util.h"
#include "lib/version.h"

/* Once stopping and every connection is gone: let the loop end. */
static void
agent_maybe_done(agent_t *a)
{
	if (a->stopping && a->nconns == 0 && a->nctl == 0 &&
	    !uv_is_closing((uv_handle_t *)&a->grace))
		uv_close((uv_handle_t *)&a->grace, NULL);
}

static void
ag_grace_cb(uv_timer_t *t)
{
	agent_t *a = t->data;
	conn_t *c, *next;

	for (c = a->conns; c; c = next) {
		next = c->next;
		ag_conn_close(c);
	}
	agent_maybe_done(a);
}

/* Close every handle but the connections' and the grace timer: nothing
 * new starts. The worker pool finishes (its jobs cancelled) here too. */
static void
agent_close_handles(agent_t *a)
{
	size_t i;

	a->stopping = 1;
	if (a->sigint.data != NULL) {
		uv_close((uv_handle_t *)&a->sigint, NULL);
		uv_close((uv_handle_t *)&a->sigterm, NULL);
	}
	if (a->listening)
		uv_close((uv_handle_t *)&a->listener, NULL);
	a->listening = 0;
	ag_ctl_stop(a);
	for (i = 0; i < a->ndialers; i++)
		uv_close((uv_handle_t *)&a->dialers[i].timer, NULL);
	a->ndialers = 0;
	ag_resolve_stop(a);
	ag_query_stop(a);
	ag_audit_stop(a);
	ag_core_stop(a);
	ag_catw_stop(a);
	weft_pool_close(a->opool);
	a->opool = NULL;
	weft_pool_close(a->pool);
	a->pool = NULL;
}

static void
agent_stop(agent_t *a, const char *why)
{
	conn_t *c, *next;
	int waiting = 0;

	if (a->stopping)
		return;
	ag_log("info", "shutting down (%s)", why);
	agent_close_handles(a);
	for (c = a->conns; c; c = next) {
		next = c->next;
		if (c->up && !c->closing) {
			/* Say goodbye; the grace timer closes after a flush. */
			weft_sess_close(c->s, "shutting down");
			ag_conn_flush(c);
			if (c->closing)
				continue;
			uv_timer_stop(&c->timer);
			if (c->writes == 0)
				ag_conn_close(c);
			else
				waiting = 1;
		} else {
			ag_conn_close(c);
		}
	}
	a->grace.data = a;
	if (waiting)
		uv_timer_start(&a->grace, ag_grace_cb, AG_GRACE_MS, 0);
	else
		ag_grace_cb(&a->grace);
}

static void
ag_on_signal(uv_signal_t *s, int signum)
{
	agent_stop(s->data, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* Lock DIR/agent.lock: one agent per data directory. */
static int
ag_lock(agent_t *a)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/agent.lock", a->o->dir);
	a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (a->lock_fd < 0) {
		ag_log("error", "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(a->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		ag_log("error",
		       "%s: another weft agent is running on this data "
		       "directory",
		       a->o->dir);
		return -1;
	}
	return 0;
}

/* A connection is closing: the node core loses the peer, its dialer (if
 * any) tries again later. */
static void
agent_conn_closing(conn_t *c)
{
	ag_core_conn_down(c);
	ag_dial_conn_closed(c);
}

/* A handshake finished: a member dial must have reached the node it
 * meant to (dial.c), then the node core decides (core.c). */
static int
agent_conn_up(conn_t *c)
{
	if (ag_dial_check_key(c) != 0)
		return -1;
	return ag_core_conn_up(c);
}

/* Worker threads: the CPUs this process may use, at most 4 (the loop
 * keeps one busy too). */
static unsigned
ag_pool_threads(void)
{
	unsigned n = uv_available_parallelism();

	return n < 1 ? 1 : n > 4 ? 4 : n;
}

static int
agent_start(agent_t *a)
{
	struct sockaddr_storage sa, bound;
	int len = sizeof(bound), rc;
	weft_err_t err = {0};
	size_t i;

	uv_timer_init(a->loop, &a->grace);
	a->grace.data = a;
	a->up.conn_up = agent_conn_up;
	a->up.conn_msg = ag_core_conn_msg;
	a->up.conn_closing = agent_conn_closing;
	a->up.released = agent_maybe_done;
	a->up.catalog_changed = ag_core_scan;
	a->up.core_flush = ag_core_flush;
	a->up.query = ag_query_request;
	a->up.query_gone = ag_query_gone;
	a->up.ctl_drained = ag_query_kick;
	a->up.qout = ag_query_out;
	a->up.policies_changed = ag_query_revoke;
	if (ag_lock(a) != 0)
		return -1;
	if (weft_nodedir_id_load(a->o->dir, &a->id, &err) != 0 ||
	    weft_store_open(a->o->dir, NULL, &a->st, &err) != 0 ||
	    weft_nodedir_netkey(a->st, a->netkey, &err) != 0) {
		ag_log("error", "%s", err.msg);
		return -1;
	}
	crypto_generichash(a->mask_key, sizeof(a->mask_key),
			   (const uint8_t *)"weft mask key 1", 15, a->id.kp->sk,
			   32);
	if (weft_hs_replay_new(0, &a->replay) != 0) {
		ag_log("error", "out of memory");
		return -1;
	}
	rc = weft_pool_new(a->loop, ag_pool_threads(), AG_POOL_JOBS, &a->pool);
	if (rc == 0)
		rc =
		    weft_pool_new_nice(a->loop, 1, 2, 0, "weft-own", &a->opool);
	if (rc != 0) {
		ag_log("error", "worker pool: %s", weft_strerror(rc));
		return -1;
	}
	if (ag_query_start(a) != 0 || ag_audit_start(a) != 0 ||
	    ag_catw_start(a) != 0)
		return -1;
	if (weft_agent_parse_addr(a->o->listen, &sa, &err) != 0) {
		ag_log("error", "--listen %s", err.msg);
		return -1;
	}
	uv_tcp_init(a->loop, &a->listener);
	a->listener.data = a;
	a->listening = 1;
	rc = uv_tcp_bind(&a->listener, (struct sockaddr *)&sa, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&a->listener, 511,
			       ag_conn_on_accept);
	if (rc != 0) {
		ag_log("error", "cannot listen on %s: %s", a->o->listen,
		       uv_strerror(rc));
		return -1;
	}
	uv_tcp_getsockname(&a->listener, (struct sockaddr *)&bound, &len);
	ag_fmt_addr((struct sockaddr *)&bound, a->listen_addr,
		    sizeof(a->listen_addr), NULL, 0);
	snprintf(a->advertise, sizeof(a->advertise), "%s",
		 a->o->advertise ? a->o->advertise : a->listen_addr);
	for (i = 0; i < a->o->njoin; i++) {
		dialer_t *d = &a->dialers[a->ndialers];

		/* a name is resolved for every dial, off the loop (dial.c) */
		rc = ag_addr_parse(a->o->join[i], &d->sa, &err);
		if (rc < 0) {
			ag_log("error", "--join %s", err.msg);
			return -1;
		}
		d->numeric = rc == 0;
		d->a = a;
		snprintf(d->addr, sizeof(d->addr), "%s", a->o->join[i]);
		d->backoff_ms = AG_BACKOFF_MIN_MS;
		uv_timer_init(a->loop, &d->timer);
		d->timer.data = d;
		a->ndialers++;
	}
	if (ag_ctl_listen(a) != 0 || ag_core_start(a) != 0)
		return -1;
	uv_signal_init(a->loop, &a->sigint);
	uv_signal_init(a->loop, &a->sigterm);
	a->sigint.data = a->sigterm.data = a;
	uv_signal_start(&a->sigint, ag_on_signal, SIGINT);
	uv_signal_start(&a->sigterm, ag_on_signal, SIGTERM);
	a->started_us = weft_now_us();
	ag_log("info",
	       "weft agent %s: node %s of org %s listening on %s, "
	       "control socket %s",
	       WEFT_VERSION, a->id.info.subject_name, a->id.info.org_name,
	       a->listen_addr, a->sock_path);
	for (i = 0; i < a->ndialers; i++)
		ag_dial_now(&a->dialers[i]);
	return 0;
}

int
weft_agent_run(const weft_agent_opts_t *opts)
{
	agent_t *a = calloc(1, sizeof(*a));
	weft_agent_opts_t o = *opts;
	uv_loop_t loop;
	int rc = 1;

	/* A streamed answer is packed, sealed and relayed in blocks of a few
	 * hundred KiB, each freed at once. With glibc's defaults those are
	 * fresh mappings or a heap grown and trimmed again, and the page
	 * faults took half the owner's loop: a million rows through two
	 * gateways came in 0.65-0.78 s, 0.32-0.44 s with these. Blocks under
	 * 4 MiB come from the heap, and up to 8 MiB free at its top is kept
	 * (the agents' RSS after that run: 10-65 MiB, as before). */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
	if (a == NULL || sodium_init() < 0 || uv_loop_init(&loop) != 0) {
		ag_log("error",
		       "cannot initialise (libsodium, the event loop)");
		free(a);
		return 1;
	}
	a->trace_fd = -1;
	if (getenv("WEFT_TRACE_INPUT") != NULL)
		a->trace_fd =
		    open(getenv("WEFT_TRACE_INPUT"),
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	a->frag_fd = -1;
	if (getenv("WEFT_TRACE_FRAGMENTS") != NULL)
		a->frag_fd =
		    open(getenv("WEFT_TRACE_FRAGMENTS"),
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (o.max_conns == 0)
		o.max_conns = 1024;
	if (o.max_per_addr == 0)
		o.max_per_addr = 256;
	if (o.max_pending_per_addr == 0)
		o.max_pending_per_addr = 16;
	if (o.max_handshakes == 0) {
		/* half the slots at most, so half-open connections never
		 * fill them; not below the per-address cap, which raising
		 * (tests, benchmarks on one host) raises this too */
		o.max_handshakes =
		    o.max_conns / 2 < 128 ? o.max_conns / 2 : 128;
		if (o.max_handshakes < o.max_pending_per_addr)
			o.max_handshakes = o.max_pending_per_addr;
	}
	if (o.backoff_max_ms == 0)
		o.backoff_max_ms = 30000;
	if (o.gossip_interval_ms == 0)
		o.gossip_interval_ms = 1000;
	if (o.backoff_max_ms < AG_BACKOFF_MIN_MS)
		o.backoff_max_ms = AG_BACKOFF_MIN_MS;
	a->o = &o;
	a->loop = &loop;
	randombytes_buf(a->ipc_key, sizeof(a->ipc_key));
	a->lock_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	{
		/* Connections are file descriptors: allow as many as the hard
		 * limit does, so --max-conns rather than EMFILE is the cap. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (agent_start(a) == 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
		rc = 0;
		ag_log("info", "stopped");
	} else {
		/* Close whatever was opened, then drain the loop. */
		agent_close_handles(a);
		if (a->grace.data != NULL)
			uv_close((uv_handle_t *)&a->grace, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	ag_core_free(a);
	uv_loop_close(&loop);
	weft_hs_replay_free(a->replay);
	ag_audit_close(a);
	if (a->st)
		weft_store_close(a->st);
	weft_nodedir_id_free(&a->id);
	sodium_memzero(a->netkey, sizeof(a->netkey));
	sodium_memzero(a->mask_key, sizeof(a->mask_key));
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	if (a->trace_fd >= 0)
		close(a->trace_fd);
	if (a->frag_fd >= 0)
		close(a->frag_fd);
	free(a);
	return rc;
}
