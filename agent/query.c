/*
 * query.c: the agent's part in federated SQL: running `weft query`'s
 * statements (asker) and the fragments other nodes send (owner), on
 * worker pools, never on the loop (docs/agent.md, docs/protocol.md).
 *
 * Asker. A CTL_QUERY request becomes an ag_query_t, run on the query pool
 * (qpool): a snapshot, weft_query_prepare_mesh with this file's mesh
 * callbacks, then the result batches framed as ControlResponses into the
 * query's outbox. A scan of another node's product calls mesh_open,
 * which queues an ag_rstream_t; the loop (ag_query_kick) opens it in the
 * node core's query service (node/qsvc.h), which sends the fragment. The
 * batches coming back (QBATCH outputs) are appended to the stream, where
 * mesh_next, on the worker, waits for them; every batch consumed becomes
 * credit the loop returns to the owner.
 *
 * Owner. A QRUN output becomes an ag_serve_t, run on the serving pool
 * (spool): a snapshot, weft_fragrun_open (which re-checks everything the
 * asker sent: query/serve.h), then batches into the serve's outbox while
 * it has credit, waiting otherwise: the owner holds at most its credit's
 * worth of batches for a slow asker.
 *
 * Threads. Each query and each serve has one mutex and one condition
 * variable shared by its worker and the loop; the loop is woken by one
 * ag_wake_t (qasync, wake.h) and then looks at every query and serve. Lists and
 * node-core calls are the loop's only; a worker touches only its own
 * struct under its mutex.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent/agent_int.h"
#include "agent/control.h"
#include "crypto/frame.h"
#include "lib/util.h"
#include "query/bwire.h"
#include "query/query.h"
#include "query/serve.h"
#include "storage/catalog.h"

#define AQ_THREADS 4		  /* queries run at once */
#define AQ_JOBS 64		  /* ... queued or running */
#define AS_THREADS 8		  /* fragments served at once */
#define AQ_OUTBOX (4u << 20)	  /* bytes of answers held for a client */
#define AQ_TIMEOUT_MS 60000	  /* default deadline */
#define AQ_BUSY_RETRIES 40	  /* a busy owner asked again at most */
#define AS_BATCH_MAX (768u << 10) /* bytes of one result batch message */
/* Bytes of result batches one fragment may have sent and not yet seen
 * credited back, whatever credit the asker granted: a fast asker keeps
 * WEFT_QSVC_CREDIT batches coming (small rows: many small batches), a
 * wide-row fragment still holds at most this, plus one batch, in the
 * owner's send queues. */
#define AS_WINDOW (4u << 20)
#define AS_RING 64 /* batches sent, not yet credited, remembered */

/* One fragment this node asked another to run (asker side). */
typedef struct ag_rstream {
	struct ag_rstream *next;
	struct ag_query *q;
	char product[WEFT_PRODUCT_NAME_MAX + 1], org[WEFT_OUT_ORG_MAX + 1];
	char node[WEFT_OUT_ORG_MAX + 1];
	uint8_t pk[WEFT_PK_BYTES];
	uint64_t version;
	uint32_t scans; /* > 1: a pushed-down plan (weft_remote_t) */
	uint8_t *frag;
	size_t flen;
	uint64_t qid;
	int state;   /* 0 to open, 1 open, 2 ended */
	int tunnel;  /* through gateways (node/tunnel.h) */
	int retries; /* asked again after "busy" */
	int want_cancel, closed;
	uint32_t to_credit;
	aq_buf_t *head, *tail;
	aq_buf_t *cur; /* the batch the executor reads */
	char error[WEFT_ERR_MAX + 128];
	char policy[WEFT_QSVC_NOTE_MAX + 1]; /* the owner's note */
	int failed;
	uint64_t rows, vread, batches, bytes, t0_ns, t1_ns;
	uint8_t ckey[WEFT_QCACHE_KEY]; /* its result cache key */
	int cached, stored;	       /* answered from / put in the cache */
	ag_qc_acc_t acc;	       /* the result so far, for the cache */
} ag_rstream_t;

typedef struct ag_query {
	weft_pool_job_t job;
	agent_t *a;
	struct ag_query *next;
	ctl_conn_t *cc; /* NULL once the client is gone (loop's) */
	char *sql;
	uint64_t deadline_ns;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int gone; /* stop: the client went away, shutdown */
	ag_rstream_t *streams;
	aq_buf_t *out_head, *out_tail;
	size_t out_bytes;
	weft_mesh_t mesh;
	uint8_t *direct; /* keys of the nodes we had sessions with at the
			  * start (for EXPLAIN), ndirect of them */
	size_t ndirect;
	const char *roles[WEFT_ROLES_MAX]; /* ours, for mesh.self_roles */
} ag_query_t;

/* One fragment another node asked us to run (owner side). */
typedef struct ag_serve {
	weft_pool_job_t job;
	agent_t *a;
	struct ag_serve *next;
	uint64_t id;
	char product[WEFT_OUT_TEXT_MAX + 1], org[WEFT_OUT_ORG_MAX + 1];
	char asker[WEFT_OUT_ORG_MAX + 1];
	uint8_t asker_pk[WEFT_PK_BYTES]; /* as its session authenticated it */
	ag_trust_t *trust;	/* for the asker's node record (its roles) */
	weft_entry_info_t node; /* that record, once read */
	const char *roles[WEFT_ROLES_MAX];
	uint64_t version;
	uint8_t *frag;
	size_t flen;
	uint64_t deadline_ns;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint32_t credit;
	/* the sizes of the batches sent and not yet credited back, oldest
	 * first (credits come in order, one per batch the asker took), and
	 * their sum: the worker waits while it is AS_WINDOW or more */
	uint32_t ring[AS_RING], rhead, rn;
	uint64_t inflight;
	int stop;
	int refused;	/* weft_fragrun_open said no */
	int revoked;	/* stopped: a policy of ours changed */
	uint32_t scans; /* > 1: a plan over that many scans */
	aq_buf_t *head, *tail;
	char error[WEFT_ERR_MAX + 128];
	char note[WEFT_QSVC_NOTE_MAX +
		  1]; /* the policy applied, for the asker */
	uint64_t rows, vread, t0_ns;
} ag_serve_t;

static void
aq_bufs_free(aq_buf_t *b)
{
	while (b != NULL) {
		aq_buf_t *n = b->next;

		free(b->data);
		free(b);
		b = n;
	}
}

static int
aq_push(aq_buf_t **head, aq_buf_t **tail, uint8_t *data, size_t len)
{
	aq_buf_t *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		free(data);
		return WEFT_ENOMEM;
	}
	b->data = data;
	b->len = len;
	if (*tail)
		(*tail)->next = b;
	else
		*head = b;
	*tail = b;
	return 0;
}

/* Wait on cv until woken or deadline_ns (monotonic) or 100 ms. */
/* A condition variable whose timed waits count on CLOCK_MONOTONIC, the
 * clock aq_wait computes with (the default, CLOCK_REALTIME, would make
 * every wait end at once). */
static void
aq_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t at;

	pthread_condattr_init(&at);
	pthread_condattr_setclock(&at, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &at);
	pthread_condattr_destroy(&at);
}

static void
aq_wait(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t deadline_ns)
{
	struct timespec ts;
	uint64_t now = weft_mono_ns(), until = now + 100000000ull;

	if (deadline_ns && deadline_ns < until)
		until = deadline_ns;
	if (until <= now)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)((until - now) / 1000000000ull);
	ts.tv_nsec += (long)((until - now) % 1000000000ull);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, mu, &ts);
}

/* ---- asker: the mesh callbacks, on the query's worker ---- */

/* The keys of the nodes we hold sessions with (the loop's, copied). */
static void
aq_direct_copy(agent_t *a, ag_query_t *q)
{
	conn_t *c;
	size_t n = 0;

	for (c = a->conns; c; c = c->next)
		n += c->up && !c->closing;
	q->direct = n ? malloc(n * WEFT_PK_BYTES) : NULL;
	if (q->direct == NULL)
		return;
	for (c = a->conns; c; c = c->next)
		if (c->up && !c->closing)
			memcpy(q->direct + WEFT_PK_BYTES * q->ndirect++,
			       weft_sess_peer(c->s)->subject_pk, WEFT_PK_BYTES);
}

static int
mesh_direct(void *arg, const uint8_t *pk)
{
	const ag_query_t *q = arg;
	size_t i;

	for (i = 0; i < q->ndirect; i++)
		if (memcmp(q->direct + WEFT_PK_BYTES * i, pk, WEFT_PK_BYTES) ==
		    0)
			return 1;
	return 0;
}

static int
mesh_open(void *arg, const weft_remote_t *r, const uint8_t *frag, size_t len,
	  void **stream, weft_err_t *err)
{
	ag_query_t *q = arg;
	ag_rstream_t *s = calloc(1, sizeof(*s));

	*stream = NULL;
	if (s == NULL || (s->frag = malloc(len + 1)) == NULL) {
		free(s);
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	memcpy(s->frag, frag, len);
	s->flen = len;
	s->q = q;
	snprintf(s->product, sizeof(s->product), "%s", r->name);
	snprintf(s->org, sizeof(s->org), "%s", r->org);
	snprintf(s->node, sizeof(s->node), "%s", r->node);
	memcpy(s->pk, r->node_pk, WEFT_PK_BYTES);
	s->version = r->version;
	s->scans = r->scans;
	s->t0_ns = weft_mono_ns();
	ag_qc_key(q->a, r, frag, len, s->ckey);
	if (ag_qc_load(q->a, s->ckey, &s->head, &s->rows, &s->vread,
		       &s->batches, &s->bytes)) {
		/* a result of this very fragment at this version: no need
		 * to ask the owner */
		s->cached = 1;
		s->state = 2;
		for (s->tail = s->head; s->tail && s->tail->next;)
			s->tail = s->tail->next;
		free(s->frag);
		s->frag = NULL;
		s->t1_ns = weft_mono_ns();
	}
	pthread_mutex_lock(&q->mu);
	s->next = q->streams;
	q->streams = s;
	pthread_mutex_unlock(&q->mu);
	if (!s->cached)
		ag_wake_send(&q->a->qasync);
	*stream = s;
	return 0;
}

/*
 * An owner that answered "busy" before sending anything (its caps on
 * fragments at once, node-wide or for us) is asked again after a pause
 * that doubles (10 ms .. 320 ms), within the query's deadline: a burst
 * of queries waits its turn instead of failing. With q->mu held; 1 if
 * the stream was reset to be opened again (the caller kicks the loop).
 */
static int
aq_busy_again(ag_query_t *q, ag_rstream_t *s)
{
	uint64_t until;

	if (s->state != 2 || !s->failed || s->batches != 0 || s->frag == NULL ||
	    strncmp(s->error, "busy:", 5) != 0 ||
	    s->retries >= AQ_BUSY_RETRIES || q->gone)
		return 0;
	until =
	    weft_mono_ns() + (10000000ull << (s->retries < 5 ? s->retries : 5));
	if (q->deadline_ns && until >= q->deadline_ns)
		return 0;
	while (weft_mono_ns() < until && !q->gone)
		aq_wait(&q->cv, &q->mu, until);
	s->retries++;
	s->failed = 0;
	s->error[0] = 0;
	s->state = 0;
	return 1;
}

static int
mesh_next(void *arg, void *stream, const uint8_t **buf, size_t *len,
	  weft_err_t *err)
{
	ag_query_t *q = arg;
	ag_rstream_t *s = stream;
	int rc = 0, kick = 0, store = 0;

	pthread_mutex_lock(&q->mu);
	if (s->cur != NULL) {
		free(s->cur->data);
		free(s->cur);
		s->cur = NULL;
	}
	for (;;) {
		if (s->head != NULL) {
			s->cur = s->head;
			s->head = s->head->next;
			if (s->head == NULL)
				s->tail = NULL;
			if (!s->cached) {
				s->to_credit++;
				kick = 1;
				ag_qc_add(&s->acc, ag_qc_cap(q->a),
					  s->cur->data, s->cur->len);
			}
			*buf = s->cur->data;
			*len = s->cur->len;
			rc = 1;
			break;
		}
		if (aq_busy_again(q, s)) {
			ag_wake_send(&q->a->qasync); /* the loop opens it */
			continue;
		}
		if (s->state == 2) {
			if (s->failed)
				rc = weft_err_set(
				    err, WEFT_EIO, "%s.%s on node %s: %s",
				    s->org, s->product, s->node, s->error);
			else if (!s->cached && !s->stored)
				store = s->stored = 1;
			break;
		}
		if (q->gone) {
			rc = weft_err_set(err, WEFT_EIO, "query cancelled");
			break;
		}
		if (q->deadline_ns && weft_mono_ns() >= q->deadline_ns) {
			rc = weft_err_set(err, WEFT_EIO,
					  "timed out waiting for %s.%s on "
					  "node %s",
					  s->org, s->product, s->node);
			break;
		}
		aq_wait(&q->cv, &q->mu, q->deadline_ns);
	}
	pthread_mutex_unlock(&q->mu);
	if (kick)
		ag_wake_send(&q->a->qasync);
	if (store) { /* the whole result: keep it for the next time */
		ag_qc_store(q->a, s->ckey, &s->acc, s->rows, s->vread);
		ag_qc_acc_free(&s->acc);
	}
	return rc;
}

static void
mesh_close(void *arg, void *stream)
{
	ag_query_t *q = arg;
	ag_rstream_t *s = stream;

	pthread_mutex_lock(&q->mu);
	if (s->cur != NULL) {
		free(s->cur->data);
		free(s->cur);
		s->cur = NULL;
	}
	s->closed = 1;
	if (s->state != 2)
		s->want_cancel = 1;
	pthread_mutex_unlock(&q->mu);
	ag_wake_send(&q->a->qasync);
}

/* How a stream's answer came, for EXPLAIN ANALYZE (weft_mesh_t.route). */
static const char *
mesh_route(void *arg, void *stream, uint64_t *version)
{
	ag_query_t *q = arg;
	const ag_rstream_t *s = stream;
	const char *route;

	pthread_mutex_lock(&q->mu);
	*version = s->vread;
	route = s->cached   ? "result cache"
		: s->tunnel ? "tunnel through gateways"
			    : "direct session";
	pthread_mutex_unlock(&q->mu);
	return route;
}

/* ---- asker: the query's worker ---- */

/* Frame resp into the outbox, waiting while the client is behind. */
static int
aq_emit(ag_query_t *q, const Weft__ControlResponse *resp)
{
	uint8_t *frame;
	size_t len;
	int rc;

	if (weft_ctl_frame(&resp->base, &frame, &len) != 0)
		return WEFT_ENOMEM;
	pthread_mutex_lock(&q->mu);
	while (q->out_bytes > AQ_OUTBOX && !q->gone)
		aq_wait(&q->cv, &q->mu, 0);
	rc = q->gone ? WEFT_EIO
		     : aq_push(&q->out_head, &q->out_tail, frame, len);
	if (rc == 0)
		q->out_bytes += len;
	else if (q->gone)
		free(frame);
	pthread_mutex_unlock(&q->mu);
	ag_wake_send(&q->a->qasync);
	return rc;
}

static int
aq_head(ag_query_t *q, weft_query_t *wq)
{
	Weft__ControlResponse resp = WEFT__CONTROL_RESPONSE__INIT;
	Weft__QueryHead head = WEFT__QUERY_HEAD__INIT;
	uint32_t n = weft_query_ncols(wq), i;
	char **names = calloc(n + 1, sizeof(*names));
	uint32_t *types = calloc(n + 1, sizeof(*types));
	int rc = WEFT_ENOMEM;

	if (names != NULL && types != NULL) {
		for (i = 0; i < n; i++) {
			names[i] = (char *)weft_query_colname(wq, i);
			types[i] = (uint32_t)weft_query_coltype(wq, i);
		}
		head.names = names;
		head.n_names = n;
		head.types = types;
		head.n_types = n;
		head.explain = weft_query_is_explain(wq) != 0;
		resp.head = &head;
		rc = aq_emit(q, &resp);
	}
	free(names);
	free(types);
	return rc;
}

/* The last answer: the error, if any, and per-fragment figures. */
static void
aq_end(ag_query_t *q, const char *error, int pos)
{
	Weft__ControlResponse resp = WEFT__CONTROL_RESPONSE__INIT;
	Weft__FragmentStats *fs = NULL, **ptrs = NULL;
	char(*names)[WEFT_PRODUCT_NAME_MAX * 2 + 2] = NULL;
	ag_rstream_t *s;
	size_t n = 0, i = 0;

	pthread_mutex_lock(&q->mu);
	for (s = q->streams; s; s = s->next)
		n++;
	if (n) {
		fs = calloc(n, sizeof(*fs));
		ptrs = calloc(n, sizeof(*ptrs));
		names = calloc(n, sizeof(*names));
	}
	for (s = q->streams; s && fs && ptrs && names; s = s->next, i++) {
		weft__fragment_stats__init(&fs[i]);
		snprintf(names[i], sizeof(names[i]), "%s.%s", s->org,
			 s->product);
		fs[i].product = names[i];
		fs[i].node = s->node;
		fs[i].scans = s->scans;
		fs[i].version = s->vread;
		fs[i].rows = s->rows;
		fs[i].batches = s->batches;
		fs[i].bytes = s->bytes;
		fs[i].elapsed_us =
		    s->t1_ns > s->t0_ns ? (s->t1_ns - s->t0_ns) / 1000 : 0;
		fs[i].policy = s->policy;
		fs[i].route = s->cached	  ? "result cache"
			      : s->tunnel ? "tunnel through gateways"
					  : "direct session";
		ptrs[i] = &fs[i];
	}
	pthread_mutex_unlock(&q->mu);
	resp.end = 1;
	resp.error = (char *)(error ? error : "");
	resp.error_pos = pos;
	if (fs && ptrs && names) {
		resp.fragments = ptrs;
		resp.n_fragments = n;
	}
	(void)aq_emit(q, &resp);
	free(fs);
	free(ptrs);
	free(names);
}

/* The executor asks between batches and chunks: the client gone, or
 * the deadline passed, ends the query at once (not only while it waits
 * for an owner). */
static int
aq_stop(void *arg)
{
	const ag_query_t *q = arg;

	if (__atomic_load_n(&q->gone, __ATOMIC_RELAXED))
		return WEFT_STOP_CANCEL;
	if (q->deadline_ns && weft_mono_ns() >= q->deadline_ns)
		return WEFT_STOP_DEADLINE;
	return WEFT_STOP_NO;
}

static void
aq_work(weft_pool_job_t *job)
{
	ag_query_t *q = job->arg;
	weft_snapshot_t *snap = NULL;
	weft_query_t *wq = NULL;
	const weft_batch_t *b;
	weft_err_t err = {0};
	int rc;

	rc = weft_snapshot_begin(q->a->st, &snap, &err);
	if (rc == 0)
		rc = weft_query_prepare_mesh(snap, &q->mesh, q->sql, &wq, &err);
	if (rc == 0) {
		weft_query_set_stop(wq, aq_stop, q);
		rc = aq_head(q, wq);
	}
	while (rc == 0) {
		Weft__ControlResponse resp = WEFT__CONTROL_RESPONSE__INIT;
		uint8_t *buf;
		size_t len;

		if (q->gone || weft_pool_cancelled(job)) {
			rc = weft_err_set(&err, WEFT_EIO, "query cancelled");
			break;
		}
		rc = weft_query_next(wq, &b, &err);
		if (rc <= 0)
			break;
		rc = weft_bwire_encode(b, &buf, &len, &err);
		if (rc != 0)
			break;
		resp.batch.data = buf;
		resp.batch.len = len;
		rc = aq_emit(q, &resp);
		free(buf);
	}
	if (q->deadline_ns && weft_mono_ns() >= q->deadline_ns && rc < 0 &&
	    err.msg[0] == 0)
		weft_err_set(&err, WEFT_EIO, "query timed out");
	weft_query_free(wq); /* closes its remote scans */
	weft_snapshot_end(snap);
	aq_end(q, rc < 0 ? (err.msg[0] ? err.msg : "query failed") : NULL,
	       rc < 0 ? err.pos : 0);
}

/* ---- asker: the loop's side ---- */

/* Move a query's answers to its client. */
static void
aq_flush_out(ag_query_t *q)
{
	aq_buf_t *b;

	while (q->out_head != NULL &&
	       (q->cc == NULL || ag_ctl_queued(q->cc) < AQ_OUTBOX)) {
		b = q->out_head;
		q->out_head = b->next;
		if (q->out_head == NULL)
			q->out_tail = NULL;
		q->out_bytes -= b->len;
		if (q->cc != NULL && ag_ctl_send(q->cc, b->data, b->len) != 0)
			q->cc = NULL;
		else if (q->cc == NULL)
			free(b->data);
		free(b);
		pthread_cond_broadcast(&q->cv);
	}
}

/* Open, credit and cancel q's fragments in the node core. */
static void
aq_streams(agent_t *a, ag_query_t *q)
{
	weft_qsvc_t *qs = weft_node_qsvc(a->node);
	ag_rstream_t *s;
	weft_err_t err;
	uint64_t peer;

	for (s = q->streams; s; s = s->next) {
		if (s->state == 0 && !s->want_cancel) {
			memset(&err, 0, sizeof(err));
			s->tunnel = !weft_qsvc_peer_of(qs, s->pk, &peer) ||
				    (peer & WEFT_TUN_BIT) != 0;
			if (weft_node_query_open(
				a->node, uv_now(a->loop), weft_now_us(), s->pk,
				s->org, s->product, s->version, s->frag,
				s->flen, AQ_TIMEOUT_MS, &s->qid, &err) != 0) {
				s->state = 2;
				s->failed = 1;
				snprintf(
				    s->error, sizeof(s->error),
				    "cannot reach node %s of org %s: %.600s",
				    s->node, s->org, err.msg);
				pthread_cond_broadcast(&q->cv);
			} else {
				s->state = 1;
				a->q_asked++;
			}
			/* the fragment stays until the stream ends: a busy
			 * owner is asked again (mesh_next) */
		}
		if (s->state == 1 && s->want_cancel) {
			weft_qsvc_cancel(qs, s->qid);
			s->state = 2;
		} else if (s->state == 1 && s->to_credit > 0) {
			weft_qsvc_credit(qs, s->qid, s->to_credit);
			s->to_credit = 0;
		}
		if (s->want_cancel && s->state == 0)
			s->state = 2;
	}
}

void
ag_query_kick(agent_t *a)
{
	ag_query_t *q;
	ag_serve_t *v;

	for (q = a->queries; q; q = q->next) {
		pthread_mutex_lock(&q->mu);
		if (a->node != NULL)
			aq_streams(a, q);
		aq_flush_out(q);
		pthread_mutex_unlock(&q->mu);
	}
	for (v = a->serves; v; v = v->next) {
		aq_buf_t *b, *list;

		pthread_mutex_lock(&v->mu);
		list = v->head;
		v->head = v->tail = NULL;
		pthread_mutex_unlock(&v->mu);
		for (b = list; b; b = b->next)
			if (a->node != NULL)
				(void)weft_qsvc_batch(weft_node_qsvc(a->node),
						      v->id, b->data, b->len);
		aq_bufs_free(list);
	}
	ag_core_flush(a);
}

static void
aq_async(ag_wake_t *w)
{
	ag_query_kick(w->data);
}

static void
aq_free(ag_query_t *q)
{
	ag_rstream_t *s;

	while ((s = q->streams) != NULL) {
		q->streams = s->next;
		aq_bufs_free(s->head);
		if (s->cur)
			aq_bufs_free(s->cur);
		free(s->frag);
		ag_qc_acc_free(&s->acc);
		free(s);
	}
	free(q->direct);
	aq_bufs_free(q->out_head);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->sql);
	free(q);
}

static void
aq_done(weft_pool_job_t *job)
{
	ag_query_t *q = job->arg, **pp;
	agent_t *a = q->a;

	if (job->cancelled) /* never ran: say so */
		aq_end(q, "cancelled: the agent is stopping", 0);
	pthread_mutex_lock(&q->mu);
	if (a->node != NULL)
		aq_streams(a, q); /* cancels what is still open */
	q->out_bytes = 0;	  /* the worker is gone: send everything */
	while (q->out_head != NULL) {
		aq_buf_t *b = q->out_head;

		q->out_head = b->next;
		if (q->cc != NULL && ag_ctl_send(q->cc, b->data, b->len) != 0)
			q->cc = NULL;
		else if (q->cc == NULL)
			free(b->data);
		free(b);
	}
	q->out_tail = NULL;
	pthread_mutex_unlock(&q->mu);
	if (q->cc != NULL)
		ag_ctl_finish(q->cc);
	for (pp = &a->queries; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	aq_free(q);
	ag_core_flush(a);
}

void
ag_query_request(agent_t *a, ctl_conn_t *cc, const Weft__ControlRequest *req)
{
	Weft__ControlResponse resp = WEFT__CONTROL_RESPONSE__INIT;
	ag_query_t *q = calloc(1, sizeof(*q));
	uint8_t *frame;
	size_t len, i;
	int rc;

	if (q == NULL || (q->sql = strdup(req->sql)) == NULL) {
		free(q);
		resp.error = "out of memory";
		goto refuse;
	}
	q->a = a;
	q->cc = cc;
	q->deadline_ns =
	    weft_mono_ns() +
	    (uint64_t)(req->timeout_ms ? req->timeout_ms : AQ_TIMEOUT_MS) *
		1000000ull;
	pthread_mutex_init(&q->mu, NULL);
	aq_cond_init(&q->cv);
	q->mesh.self = a->id.kp->pk;
	q->mesh.self_org = a->id.info.org_name;
	for (i = 0; i < a->id.info.nroles && i < WEFT_ROLES_MAX; i++)
		q->roles[i] = a->id.info.roles[i];
	q->mesh.self_roles = q->roles;
	q->mesh.self_nroles = i;
	q->mesh.direct = mesh_direct;
	aq_direct_copy(a, q);
	q->mesh.open = mesh_open;
	q->mesh.next = mesh_next;
	q->mesh.close = mesh_close;
	q->mesh.route = mesh_route;
	q->mesh.arg = q;
	/* tests of the owner's checks (docs/hacking.md) */
	q->mesh.policy_blind = getenv("WEFT_TEST_POLICY_BLIND") != NULL;
	q->job.work = aq_work;
	q->job.done = aq_done;
	q->job.arg = q;
	rc = a->qpool ? weft_pool_submit(a->qpool, &q->job) : WEFT_EINVAL;
	if (rc != 0) {
		aq_free(q);
		resp.error = rc == WEFT_EAGAIN
				 ? "busy: the agent runs as many queries as "
				   "it may; try again"
				 : "the agent is stopping";
		goto refuse;
	}
	q->next = a->queries;
	a->queries = q;
	return;
refuse:
	resp.end = 1;
	if (weft_ctl_frame(&resp.base, &frame, &len) == 0)
		(void)ag_ctl_send(cc, frame, len);
	ag_ctl_finish(cc);
}

void
ag_query_gone(agent_t *a, ctl_conn_t *cc)
{
	ag_query_t *q;

	for (q = a->queries; q; q = q->next)
		if (q->cc == cc) {
			pthread_mutex_lock(&q->mu);
			q->cc = NULL;
			__atomic_store_n(&q->gone, 1, __ATOMIC_RELAXED);
			pthread_cond_broadcast(&q->cv);
			pthread_mutex_unlock(&q->mu);
			weft_pool_cancel(a->qpool, &q->job);
			a->q_cancelled++;
		}
}

/* A QBATCH or QEND output: the stream it belongs to. */
static void
aq_result(agent_t *a, weft_out_t *o)
{
	ag_query_t *q;
	ag_rstream_t *s;

	for (q = a->queries; q; q = q->next) {
		pthread_mutex_lock(&q->mu);
		for (s = q->streams; s; s = s->next)
			if (s->state == 1 && s->qid == o->qid)
				break;
		if (s == NULL) {
			pthread_mutex_unlock(&q->mu);
			continue;
		}
		if (o->kind == WEFT_OUT_QBATCH) {
			s->batches++;
			s->bytes += o->env_len;
			if (aq_push(&s->head, &s->tail, o->env, o->env_len) ==
			    0)
				o->env = NULL; /* the stream's now */
			else
				o->env = NULL; /* freed by aq_push */
		} else {
			s->state = 2;
			s->t1_ns = weft_mono_ns();
			s->rows = o->rows;
			s->vread = o->version;
			/* the note: cut to its limit (wire.c checked it) */
			memcpy(s->policy, o->addr, sizeof(s->policy) - 1);
			s->policy[sizeof(s->policy) - 1] = 0;
			if (o->text[0]) {
				s->failed = 1;
				snprintf(s->error, sizeof(s->error), "%s",
					 o->text);
			}
		}
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		return;
	}
}

/* ---- owner ---- */

/* The fragment's executor asks between chunks: a cancel (QueryCancel,
 * the asker gone) or the deadline stops it within a chunk's work. */
static int
as_stop(void *arg)
{
	const ag_serve_t *v = arg;

	if (__atomic_load_n(&v->stop, __ATOMIC_RELAXED))
		return WEFT_STOP_CANCEL;
	if (weft_mono_ns() >= v->deadline_ns)
		return WEFT_STOP_DEADLINE;
	return WEFT_STOP_NO;
}

/* Under v->mu: may the worker make and send another batch? Within the
 * asker's credit and the byte window (AS_WINDOW). */
static int
as_may_send(const ag_serve_t *v)
{
	return v->credit > 0 && v->rn < AS_RING && v->inflight < AS_WINDOW;
}

/* Under v->mu: the asker took n more batches (a QueryCredit). */
static void
as_credited(ag_serve_t *v, uint32_t n)
{
	v->credit = n > UINT32_MAX - v->credit ? UINT32_MAX : v->credit + n;
	for (; n > 0 && v->rn > 0; n--, v->rn--) {
		v->inflight -= v->ring[v->rhead];
		v->rhead = (v->rhead + 1) % AS_RING;
	}
}

/* The audit record of fragment v (docs/audit.md): r is its run (NULL if
 * refused), err its error (NULL if answered). Names longer than a record
 * holds are recorded empty, and named in the reason. */
static void
as_audit_fill(const ag_serve_t *v, const weft_fragrun_t *r,
	      const weft_policy_used_t *used, const weft_err_t *err,
	      weft_audit_rec_t *au)
{
	char why[WEFT_ERR_MAX + 64] = ""; /* cut to a record's reason */

	memset(au, 0, sizeof(*au));
	au->at_us = weft_now_us();
	memcpy(au->asker_pk, v->asker_pk, WEFT_PK_BYTES);
	if (strlen(v->org) < sizeof(au->asker_org))
		memcpy(au->asker_org, v->org, strlen(v->org) + 1);
	if (strlen(v->product) < sizeof(au->product))
		memcpy(au->product, v->product, strlen(v->product) + 1);
	else
		snprintf(why, sizeof(why), "product name of %zu bytes; ",
			 strlen(v->product));
	au->product_version = v->vread ? v->vread : v->version;
	au->policy_version = used->version;
	au->grant_line = used->line;
	crypto_generichash(au->frag_hash, sizeof(au->frag_hash), v->frag,
			   v->flen, NULL, 0);
	au->rows = v->rows;
	if (r != NULL)
		weft_fragrun_groups(r, &au->groups, &au->groups_suppressed,
				    &au->epsilon);
	if (err != NULL) {
		au->outcome = err->code ? err->code : WEFT_EIO;
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s",
			 err->msg[0] ? err->msg : "failed");
	}
	weft_audit_set_reason(au, why);
}

/* What the asker is told of the policy applied (QueryEnd.policy, shown by
 * --stats): its version and grant, the groups kept and folded away, the
 * epsilon spent. Nothing without a policy. */
static void
as_note(ag_serve_t *v, const weft_audit_rec_t *au)
{
	size_t n;

	v->note[0] = 0;
	if (au->policy_version == 0)
		return;
	n = (size_t)snprintf(
	    v->note, sizeof(v->note), "policy version %llu, grant at line %u",
	    (unsigned long long)au->policy_version, au->grant_line);
	if ((au->groups || au->groups_suppressed) && n < sizeof(v->note))
		n += (size_t)snprintf(
		    v->note + n, sizeof(v->note) - n,
		    ": %llu group%s sent, %llu below the threshold folded "
		    "away",
		    (unsigned long long)au->groups, au->groups == 1 ? "" : "s",
		    (unsigned long long)au->groups_suppressed);
	if (au->epsilon > 0 && n < sizeof(v->note))
		snprintf(v->note + n, sizeof(v->note) - n,
			 ", epsilon %.3g spent", au->epsilon);
}

/*
 * The asker's certificate roles, for a policy that needs them: from its
 * node record in our catalog (gossiped, signed with that certificate),
 * verified again here under today's trusted roots; only when the record
 * is the asker's own key and its certificate's org is the one the
 * session authenticated. Otherwise no roles: an org:role grant then
 * grants nothing (it refuses rather than leaks).
 */
static void
as_roles(void *arg, weft_requester_t *who)
{
	ag_serve_t *v = arg;
	weft_err_t err = {0};
	uint8_t *env = NULL;
	size_t len = 0, i;

	if (v->trust == NULL ||
	    weft_catalog_get(v->a->st, WEFT_ENTRY_NODE, v->asker_pk, "node",
			     &env, &len, &err) != 0)
		return;
	if (weft_entry_verify(env, len, &v->trust->t, weft_now_us(), &v->node,
			      NULL, NULL, &err) == 0 &&
	    v->node.kind == WEFT_ENTRY_NODE &&
	    memcmp(v->node.origin, v->asker_pk, WEFT_PK_BYTES) == 0 &&
	    strcmp(v->node.signer.org_name, v->org) == 0) {
		for (i = 0; i < v->node.signer.nroles && i < WEFT_ROLES_MAX;
		     i++)
			v->roles[i] = v->node.signer.roles[i];
		who->roles = v->roles;
		who->nroles = i;
	}
	free(env);
}

static void
as_work(weft_pool_job_t *job)
{
	ag_serve_t *v = job->arg;
	weft_snapshot_t *snap = NULL;
	weft_fragrun_t *r = NULL;
	weft_err_t err = {0};
	weft_policy_used_t used = {0, 0};
	weft_asker_t who = {{v->org, v->asker_pk, NULL, 0},
			    v->a->id.kp->pk,
			    weft_now_us(),
			    v->a->mask_key,
			    v->a->st,
			    &used,
			    as_roles,
			    v};
	weft_audit_rec_t au;
	int rc;

	rc = weft_snapshot_begin(v->a->st, &snap, &err);
	if (rc == 0)
		rc =
		    weft_fragrun_open(snap, v->product, v->version, &who,
				      v->frag, v->flen, AS_BATCH_MAX, &r, &err);
	if (rc == 0) {
		v->vread = weft_fragrun_version(r);
		v->scans = weft_fragrun_scans(r);
		weft_fragrun_set_stop(r, as_stop, v);
	} else {
		v->refused = 1; /* read by the loop after the job ends */
	}
	while (rc == 0) {
		uint8_t *buf;
		size_t len;
		uint32_t rows;

		pthread_mutex_lock(&v->mu);
		while (!as_may_send(v) && !v->stop &&
		       weft_mono_ns() < v->deadline_ns)
			aq_wait(&v->cv, &v->mu, v->deadline_ns);
		if (v->stop || weft_pool_cancelled(job)) {
			pthread_mutex_unlock(&v->mu);
			rc = weft_err_set(&err, WEFT_EIO, "cancelled");
			break;
		}
		if (!as_may_send(v)) {
			pthread_mutex_unlock(&v->mu);
			rc = weft_err_set(&err, WEFT_EIO,
					  "timed out: the asker did not read");
			break;
		}
		v->credit--;
		pthread_mutex_unlock(&v->mu);
		rc = weft_fragrun_next(r, &buf, &len, &rows, &err);
		if (rc <= 0)
			break;
		pthread_mutex_lock(&v->mu);
		rc = aq_push(&v->head, &v->tail, buf, len);
		v->ring[(v->rhead + v->rn++) % AS_RING] = (uint32_t)len;
		v->inflight += len;
		v->rows += rows;
		pthread_mutex_unlock(&v->mu);
		ag_wake_send(&v->a->qasync);
	}
	if (rc < 0 && __atomic_load_n(&v->revoked, __ATOMIC_RELAXED))
		weft_err_set(&err, WEFT_EDENIED,
			     "cancelled: a policy of the owner changed while "
			     "the fragment ran (ask again: it is judged by the "
			     "new one)");
	as_audit_fill(v, r, &used, rc < 0 ? &err : NULL, &au);
	as_note(v, &au);
	weft_fragrun_free(r);
	weft_snapshot_end(snap);
	if (rc < 0)
		snprintf(v->error, sizeof(v->error), "%s",
			 err.msg[0] ? err.msg : "failed");
	ag_audit_push(v->a, &au, 1); /* no transaction open here */
}

static void
as_done(weft_pool_job_t *job)
{
	ag_serve_t *v = job->arg, **pp;
	agent_t *a = v->a;
	weft_qsvc_t *qs = a->node ? weft_node_qsvc(a->node) : NULL;
	aq_buf_t *b;

	if (job->cancelled)
		snprintf(v->error, sizeof(v->error), "cancelled");
	for (b = v->head; b && qs; b = b->next)
		(void)weft_qsvc_batch(qs, v->id, b->data, b->len);
	if (qs != NULL)
		weft_qsvc_end(qs, v->id, v->error, v->rows, v->vread, v->note);
	if (v->refused) {
		a->q_refused++;
		ag_log("warn",
		       "query: refused a fragment of %s for node %s of org "
		       "%s: %s",
		       v->product, v->asker, v->org, v->error);
	} else {
		char plan[64] = "";

		if (v->scans > 1)
			snprintf(plan, sizeof(plan), " (a plan of %u scans)",
				 v->scans);
		ag_log(v->error[0] ? "warn" : "info",
		       "query: fragment of %s%s for node %s of org %s: %llu "
		       "rows in %.1f ms%s%s",
		       v->product, plan, v->asker, v->org,
		       (unsigned long long)v->rows,
		       (double)(weft_mono_ns() - v->t0_ns) / 1e6,
		       v->error[0] ? ": " : "", v->error);
	}
	for (pp = &a->serves; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	aq_bufs_free(v->head);
	free(v->frag);
	ag_trust_put(v->trust);
	pthread_mutex_destroy(&v->mu);
	pthread_cond_destroy(&v->cv);
	free(v);
	ag_core_flush(a);
}

void
ag_query_revoke(agent_t *a)
{
	ag_serve_t *v;
	unsigned n = 0;

	for (v = a->serves; v; v = v->next) {
		pthread_mutex_lock(&v->mu);
		__atomic_store_n(&v->revoked, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&v->stop, 1, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&v->cv);
		pthread_mutex_unlock(&v->mu);
		n++;
	}
	if (n > 0)
		ag_log("info",
		       "query: a policy changed: %u fragment%s being served "
		       "cancelled",
		       n, n == 1 ? "" : "s");
}

static ag_serve_t *
as_find(agent_t *a, uint64_t id)
{
	ag_serve_t *v;

	for (v = a->serves; v; v = v->next)
		if (v->id == id)
			return v;
	return NULL;
}

static void
as_run(agent_t *a, weft_out_t *o)
{
	ag_serve_t *v = calloc(1, sizeof(*v));
	conn_t *c = ag_conn_by_id(a, o->peer);
	uint32_t t = o->timeout_ms ? o->timeout_ms : AQ_TIMEOUT_MS;
	int rc;

	if (v == NULL) {
		weft_qsvc_end(weft_node_qsvc(a->node), o->qid, "out of memory",
			      0, 0, NULL);
		return;
	}
	v->a = a;
	v->id = o->qid;
	snprintf(v->product, sizeof(v->product), "%s", o->text);
	snprintf(v->org, sizeof(v->org), "%s", o->org);
	snprintf(v->asker, sizeof(v->asker), "%.63s",
		 c	      ? ag_conn_peer_name(c)
		 : o->addr[0] ? o->addr
			      : "?");
	v->version = o->version;
	memcpy(v->asker_pk, o->pk, WEFT_PK_BYTES);
	if ((v->trust = a->gtrust) != NULL)
		v->trust->refs++; /* released in as_done, on the loop */
	v->frag = o->env;
	v->flen = o->env_len;
	ag_trace_fragment(a, v->product, v->asker, v->org, v->frag, v->flen);
	o->env = NULL;
	v->credit = o->n;
	v->t0_ns = weft_mono_ns();
	v->deadline_ns =
	    v->t0_ns +
	    (uint64_t)(t > AQ_TIMEOUT_MS * 10 ? AQ_TIMEOUT_MS * 10 : t) *
		1000000ull;
	pthread_mutex_init(&v->mu, NULL);
	aq_cond_init(&v->cv);
	v->job.work = as_work;
	v->job.done = as_done;
	v->job.arg = v;
	v->next = a->serves;
	a->serves = v;
	a->q_served++;
	rc = weft_pool_submit(a->spool, &v->job);
	if (rc != 0) {
		a->serves = v->next;
		weft_policy_used_t none = {0, 0};
		weft_err_t busy = {0};
		weft_audit_rec_t au;

		weft_qsvc_end(weft_node_qsvc(a->node), v->id, "busy: try again",
			      0, 0, NULL);
		a->q_refused++;
		weft_err_set(&busy, WEFT_EAGAIN, "busy: try again");
		as_audit_fill(v, NULL, &none, &busy, &au);
		ag_audit_push(a, &au, 0);
		free(v->frag);
		ag_trust_put(v->trust);
		pthread_mutex_destroy(&v->mu);
		pthread_cond_destroy(&v->cv);
		free(v);
	}
}

void
ag_query_out(agent_t *a, weft_out_t *o)
{
	ag_serve_t *v;

	switch (o->kind) {
	case WEFT_OUT_QRUN: as_run(a, o); break;
	case WEFT_OUT_QCREDIT:
	case WEFT_OUT_QSTOP:
		v = as_find(a, o->qid);
		if (v == NULL)
			break;
		pthread_mutex_lock(&v->mu);
		if (o->kind == WEFT_OUT_QCREDIT)
			as_credited(v, o->n);
		else
			__atomic_store_n(&v->stop, 1, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&v->cv);
		pthread_mutex_unlock(&v->mu);
		if (o->kind == WEFT_OUT_QSTOP)
			weft_pool_cancel(a->spool, &v->job);
		break;
	case WEFT_OUT_QBATCH:
	case WEFT_OUT_QEND: aq_result(a, o); break;
	default: break;
	}
}

/* ---- life ---- */

int
ag_query_start(agent_t *a)
{
	int rc;

	rc = weft_pool_new(a->loop, AQ_THREADS, AQ_JOBS, &a->qpool);
	if (rc == 0)
		rc = weft_pool_new(a->loop, AS_THREADS, WEFT_QSVC_SERVE_MAX,
				   &a->spool);
	if (rc == 0) {
		rc = ag_wake_init(a->loop, &a->qasync, aq_async);
		/* made and not started: ag_query_stop closes it */
		a->qasync_open = rc == 0 || a->qasync.fd >= 0;
	}
	if (rc != 0) {
		ag_log("error", "query pools: %s", weft_strerror(rc));
		return -1;
	}
	a->qasync.data = a;
	a->qasync_open = 1;
	return 0;
}

void
ag_query_stop(agent_t *a)
{
	ag_query_t *q;
	ag_serve_t *v;

	for (q = a->queries; q; q = q->next) {
		pthread_mutex_lock(&q->mu);
		__atomic_store_n(&q->gone, 1, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
	}
	for (v = a->serves; v; v = v->next) {
		pthread_mutex_lock(&v->mu);
		__atomic_store_n(&v->stop, 1, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&v->cv);
		pthread_mutex_unlock(&v->mu);
	}
	weft_pool_close(a->qpool);
	a->qpool = NULL;
	weft_pool_close(a->spool);
	a->spool = NULL;
	if (a->qasync_open)
		ag_wake_close(&a->qasync, NULL);
	a->qasync_open = 0;
}
