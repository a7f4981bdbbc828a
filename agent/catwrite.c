/*
 * catwrite.c: the catalog writer: entries the node core accepted are
 * persisted off the event loop (rule 7: an LMDB commit waits for the
 * disk; with 500 agents on one host the loop spent its time in fsync,
 * sessions timed out and nodes were reported failed). One thread of its
 * own (a pool of one: writes and revocation drops keep their order).
 *
 * Group commit: what the core accepts gathers on the loop for up to
 * CW_GATHER_MS (or CW_ENTRIES entries) and is then handed over as one
 * batch, one transaction. Every commit msyncs the map: under an insider
 * flood 32 agents committing 30-60 entries each as they came (~20
 * commits a second each) had the kernel cleaning pages (TLB shoot-downs
 * on every CPU) for ~10% of the host's CPU, and an honest publish's
 * "learnt" waited behind them. An urgent entry (a descriptor, policy or
 * revocation of an origin that sends few: node/out.h, WEFT_OUT_STORE)
 * does not wait: it is handed over at once, with what gathered before
 * it. The log lines ("catalog: learnt ...") are written on the loop once
 * the transaction committed. An agent killed loses what gathered (at
 * most CW_GATHER_MS of entries): anti-entropy brings it back after a
 * start, as it brings what the agent missed while down.
 *
 * Bounds: at most CW_JOBS batches queued; past that the loop stores the
 * batch itself (it waits for the disk rather than holding without
 * bound). At shutdown what gathered and the queued batches are stored
 * before the store closes (ag_catw_stop).
 *
 * The writer runs at the loop's priority, not a worker's (pool.h): its
 * work is bounded by what the quotas admit and mostly waits for the
 * disk. Measured (bench/insider.sh, 60 s, two runs each): at nice 10 the
 * worst honest publish took 106 and 114 ms, at nice 0 54 and 82 ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "lib/util.h"
#include "storage/catalog.h"

#define CW_JOBS 64	 /* batches queued */
#define CW_ENTRIES 2048	 /* entries one batch (one transaction) takes */
#define CW_TRIES 64	 /* a batch handed back after the map grew */
#define CW_GATHER_MS 100 /* entries gather this long before a commit */

typedef struct cw_job {
	weft_pool_job_t job;
	agent_t *a;
	size_t n;
	uint8_t *env[CW_ENTRIES];
	size_t len[CW_ENTRIES];
	weft_entry_info_t *infos; /* n, filled by the work */
	unsigned char *ok;	  /* n: infos[i] holds a stored entry */
	int again;	/* the map must grow, which only the loop thread may do
			 * (storage/store_int.h): stored again in cw_done */
	int on_loop;	/* cw_store runs on the loop thread */
	unsigned tries; /* handed back to the writer after the map grew */
	char why[WEFT_ERR_MAX]; /* the first entry's error, if any failed */
	size_t failed;
} cw_job_t;

static size_t
cw_bytes(const cw_job_t *j)
{
	size_t i, b = 0;

	for (i = 0; i < j->n; i++)
		b += j->len[i];
	return b;
}

/* The log line of an entry stored (not our own). */
static void
cw_log(const agent_t *a, const weft_entry_info_t *info)
{
	if (memcmp(info->origin, a->id.kp->pk, WEFT_PK_BYTES) == 0)
		return;
	if (info->kind == WEFT_ENTRY_DESCRIPTOR)
		ag_log("info", "catalog: %s %s.%s version %llu from node %s",
		       info->tombstone ? "dropped" : "learnt",
		       info->signer.org_name, info->name,
		       (unsigned long long)info->version,
		       info->signer.subject_name);
	else if (info->kind == WEFT_ENTRY_POLICY)
		ag_log("info",
		       "catalog: learnt policy of %s.%s version %llu from "
		       "node %s",
		       info->signer.org_name, info->name,
		       (unsigned long long)info->version,
		       info->signer.subject_name);
}

/* Store j's entries: one transaction for all; if it fails, entry by
 * entry, so one bad entry costs only itself. Any thread. */
static void
cw_store(cw_job_t *j)
{
	weft_err_t err = {0};
	size_t i, stored;
	int rc;

	j->infos = calloc(j->n ? j->n : 1, sizeof(*j->infos));
	j->ok = calloc(j->n ? j->n : 1, 1);
	if (j->infos == NULL || j->ok == NULL)
		return;
	rc = weft_catalog_put_many(j->a->st, (const uint8_t *const *)j->env,
				   j->len, j->n, weft_now_us(), j->infos,
				   &stored, &err);
	if (rc == 0) {
		for (i = 0; i < j->n; i++)
			j->ok[i] = j->infos[i].kind > 0;
		return;
	}
	if (rc == WEFT_EAGAIN && !j->on_loop) {
		j->again = 1;
		return;
	}
	for (i = 0; i < j->n; i++) {
		memset(&err, 0, sizeof(err));
		if (weft_catalog_put(j->a->st, j->env[i], j->len[i],
				     weft_now_us(), &j->infos[i], &err) == 0)
			j->ok[i] = 1;
		else if (err.code != WEFT_ESTALE) {
			j->infos[i].kind =
			    err.code; /* < 0: logged in cw_done */
			if (j->failed++ == 0)
				snprintf(j->why, sizeof(j->why), "%s", err.msg);
		}
	}
}

static void
cw_work(weft_pool_job_t *pj)
{
	cw_store(pj->arg);
}

/* On the loop: the log lines, then free the batch. */
static void
cw_done(weft_pool_job_t *pj)
{
	cw_job_t *j = pj->arg;
	agent_t *a = j->a;
	size_t i;

	if (j->again && !pj->cancelled && j->tries++ < CW_TRIES) {
		/* the map must grow: here, on the thread that may grow it
		 * (it cannot while the writer is inside a transaction: then
		 * the next try), and the batch goes back to the writer */
		weft_store_prepare(a->st, cw_bytes(j));
		free(j->infos);
		free(j->ok);
		j->infos = NULL;
		j->ok = NULL;
		j->again = 0;
		if (weft_pool_submit(a->wpool, &j->job) == 0)
			return;
	}
	if (pj->cancelled || j->again || j->infos == NULL) {
		/* shutting down, or the map still must grow: store it here
		 * (the loop waits for one transaction) */
		free(j->infos);
		free(j->ok);
		j->again = 0;
		j->on_loop = 1;
		j->failed = 0;
		cw_store(j);
	}
	ag_log_hold(); /* the batch's lines in one write */
	for (i = 0; j->infos != NULL && j->ok != NULL && i < j->n; i++) {
		if (j->ok[i])
			cw_log(a, &j->infos[i]);
		else if (j->infos[i].kind < 0 && j->failed == 0)
			ag_log("error", "storing a catalog entry: %s",
			       weft_strerror(j->infos[i].kind));
		free(j->env[i]);
	}
	if (j->failed > 0) /* one line for the batch, not one an entry */
		ag_log("error", "storing %zu of %zu catalog entries failed: %s",
		       j->failed, j->n, j->why);
	if (j->infos == NULL || j->ok == NULL) {
		ag_log("error", "storing %zu catalog entries: out of memory",
		       j->n);
		for (i = 0; i < j->n; i++)
			free(j->env[i]);
	}
	ag_log_release();
	a->cw_queued--;
	free(j->infos);
	free(j->ok);
	free(j);
}

/* Hand batch j to the writer (or, when it is far behind or gone, store
 * it here). */
static void
cw_submit(agent_t *a, cw_job_t *j)
{
	a->cw_queued++;
	if (a->wpool != NULL && a->cw_queued <= CW_JOBS) {
		/* room for it in the map, grown here while we may */
		weft_store_prepare(a->st, cw_bytes(j));
		if (weft_pool_submit(a->wpool, &j->job) == 0)
			return;
	}
	/* the disk is far behind: wait for it here */
	j->on_loop = 1;
	cw_store(j);
	cw_done(&j->job);
}

void
ag_catw_flush(agent_t *a)
{
	cw_job_t *j = a->cw_open;

	if (a->cw_timer_open)
		uv_timer_stop(&a->cw_timer);
	if (j == NULL)
		return;
	a->cw_open = NULL;
	cw_submit(a, j);
}

static void
cw_timer_cb(uv_timer_t *t)
{
	ag_catw_flush(t->data);
}

int
ag_catw_start(agent_t *a)
{
	int rc;

	uv_timer_init(a->loop, &a->cw_timer);
	a->cw_timer.data = a;
	a->cw_timer_open = 1;
	/* nice 0: the loop's priority (the header says why) */
	rc = weft_pool_new_nice(a->loop, 1, CW_JOBS + 8, 0, "weft-write",
				&a->wpool);
	if (rc != 0) {
		ag_log("error", "catalog writer: %s", weft_strerror(rc));
		return -1;
	}
	return 0;
}

void
ag_catw_stop(agent_t *a)
{
	ag_catw_flush(a);
	weft_pool_close(a->wpool); /* runs what is queued: cw_done */
	a->wpool = NULL;
	if (a->cw_timer_open)
		uv_close((uv_handle_t *)&a->cw_timer, NULL);
	a->cw_timer_open = 0;
}

void
ag_catw_put(agent_t *a, uint8_t **env, const size_t *len, size_t n, int urgent)
{
	cw_job_t *j;
	size_t i = 0, k;

	while (i < n) {
		if ((j = a->cw_open) == NULL) {
			if ((j = calloc(1, sizeof(*j))) == NULL) {
				ag_log("error",
				       "storing %zu catalog entries: out of "
				       "memory",
				       n - i);
				for (; i < n; i++)
					free(env[i]);
				return;
			}
			j->a = a;
			j->job.work = cw_work;
			j->job.done = cw_done;
			j->job.arg = j;
			a->cw_open = j;
		}
		k = CW_ENTRIES - j->n < n - i ? CW_ENTRIES - j->n : n - i;
		memcpy(j->env + j->n, env + i, k * sizeof(*env));
		memcpy(j->len + j->n, len + i, k * sizeof(*len));
		j->n += k;
		i += k;
		if (j->n == CW_ENTRIES) /* full: one transaction's worth */
			ag_catw_flush(a);
	}
	if (urgent || a->wpool == NULL)
		ag_catw_flush(a);
	else if (a->cw_open != NULL && a->cw_timer_open &&
		 !uv_is_active((uv_handle_t *)&a->cw_timer))
		uv_timer_start(&a->cw_timer, cw_timer_cb, CW_GATHER_MS, 0);
}
