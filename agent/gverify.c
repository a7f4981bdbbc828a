/*
 * gverify.c: gossiped entries' signatures checked off the event loop
 * (issue 14, "verify once, off the loop"; rule 7). A push's entries wait
 * in the node core's queues (node/gossip_turn.c). A job takes up to
 * GV_BATCH of them (weft_node_take: a few per neighbour in turn, each
 * marked when the core would check its signatures: a flood's surplus is
 * refused at a peek and never checked), verifies the marked ones on the
 * verify thread against the trusted roots of the moment (the core's
 * snapshot, a->gtrust, referenced), which leaves every signature that
 * verified in the signature cache (crypto/identity.c), and gives them
 * back to the core on the loop (weft_node_give): the core's own check of
 * each is then a cache probe, and the loop's part of an entry is the
 * bookkeeping, not the Ed25519 arithmetic.
 *
 * Measured before (docs/bench.md, "Insider flood"): with the checks on
 * the loop, 64 entries a loop turn, 32 agents verifying a flooding
 * origin's entries on a 2-vCPU host answered `weft status` in up to
 * 0.4-1.9 s: each loop turn waited for its share of a busy core. A loop
 * that sleeps in epoll while a worker verifies is woken sooner, the more
 * so as workers run at a lower priority (pool.c): 77-205 ms at p99
 * after, the rest being the host's 64 busy threads on 2 vCPUs.
 *
 * One job at a time, on a thread of its own (a pool of one): entries
 * keep their order, a long scan on the general pool never holds up
 * gossip, and at most GV_BATCH entries are out of the core. What the
 * verify thread found invalid is refused by the core without another
 * check (fail closed: a root added meanwhile only delays such an entry
 * to anti-entropy).
 */
#include <stdlib.h>

#include "agent/agent_int.h"
#include "lib/util.h"
#include "storage/entry.h"

#define GV_BATCH 64 /* entries a job takes: a few ms of checks */
#define GV_NICE 19  /* the verify thread's nice, above the loop's */

struct ag_gv {
	weft_pool_job_t job;
	agent_t *a;
	ag_trust_t *trust; /* a reference: the roots may change meanwhile */
	int64_t now_us;
	size_t n;
	weft_gossip_taken_t e[GV_BATCH];
};

static void
gv_free(struct ag_gv *v)
{
	weft_gossip_taken_free(v->e, v->n);
	ag_trust_put(v->trust);
	free(v);
}

/* Worker: check what the core would check; what verified is in the
 * cache now, what did not is marked for the core to refuse. */
static void
gv_work(weft_pool_job_t *job)
{
	struct ag_gv *v = job->arg;
	weft_entry_info_t info;
	size_t i;

	for (i = 0; i < v->n && !weft_pool_cancelled(job); i++)
		if (v->e[i].check)
			v->e[i].bad =
			    weft_entry_verify(v->e[i].env, v->e[i].len,
					      &v->trust->t, v->now_us, &info,
					      NULL, NULL, NULL) != 0;
}

/* Loop: the core takes them, in order; then the next batch. */
static void
gv_done(weft_pool_job_t *job)
{
	struct ag_gv *v = job->arg;
	agent_t *a = v->a;

	a->gv = NULL;
	if (job->cancelled || a->stopping || a->node == NULL) {
		gv_free(v);
		return;
	}
	weft_node_give(a->node, uv_now(a->loop), weft_now_us(), v->e, v->n);
	gv_free(v);
	a->up.core_flush(a); /* its outputs, and the next batch */
}

void
ag_gv_kick(agent_t *a)
{
	struct ag_gv *v;

	if (a->vpool == NULL || a->gv != NULL || a->stopping ||
	    a->node == NULL || weft_node_pending(a->node) == 0)
		return;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return; /* they wait; the next flush tries again */
	v->a = a;
	v->trust = a->gtrust;
	v->trust->refs++; /* put in gv_free, on the loop */
	v->now_us = weft_now_us();
	v->n =
	    weft_node_take(a->node, uv_now(a->loop), v->now_us, v->e, GV_BATCH);
	v->job.work = gv_work;
	v->job.done = gv_done;
	v->job.arg = v;
	if (weft_pool_submit(a->vpool, &v->job) != 0) {
		/* only while closing: refused, for anti-entropy to bring */
		size_t i;

		for (i = 0; i < v->n; i++)
			v->e[i].bad = 1;
		weft_node_give(a->node, uv_now(a->loop), weft_now_us(), v->e,
			       v->n);
		gv_free(v);
		return;
	}
	a->gv = v;
}

int
ag_gv_start(agent_t *a)
{
	int rc = weft_pool_new_nice(a->loop, 1, 2, GV_NICE, "weft-verify",
				    &a->vpool);

	if (rc != 0) {
		ag_log("error", "verify thread: %s", weft_strerror(rc));
		return -1;
	}
	return 0;
}

void
ag_gv_stop(agent_t *a)
{
	weft_pool_close(a->vpool); /* runs gv_done: a->stopping frees */
	a->vpool = NULL;
}
