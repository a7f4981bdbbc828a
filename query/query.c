/*
 * query.c: the public face of the SQL engine (query/query.h): parse with
 * libpg_query, bind (bind.c), plan (plan.c), execute (exec.c).
 *
 * The parse tree lives only during prepare; afterwards a query holds its
 * plan, its operator tree and the borrowed snapshot, which stays open for
 * the whole query, so a product dropped meanwhile still reads
 * consistently.
 */
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "lib/util.h"
#include "query/analyze.h"
#include "query/qint.h"

struct weft_query {
	weft_snapshot_t *snap;
	wq_plan_t *plan;
	wq_exec_t x;
	wq_op_t *op;
	bool explain;
	wq_explain_t eopt; /* EXPLAIN's options */
	bool ran;	   /* EXPLAIN ANALYZE: the statement ran */
	uint64_t plan_ns;  /* parse, bind and plan */
	char *etext;	   /* EXPLAIN output */
	size_t epos, elen;
	weft_batch_t *eb;
	uint32_t ncols;
	char **names;
	weft_sqltype_t *types;
};

static const char *
wq_stmt_name(const PgQuery__Node *n)
{
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_INSERT_STMT: return "INSERT";
	case PG_QUERY__NODE__NODE_UPDATE_STMT: return "UPDATE";
	case PG_QUERY__NODE__NODE_DELETE_STMT: return "DELETE";
	case PG_QUERY__NODE__NODE_MERGE_STMT: return "MERGE";
	case PG_QUERY__NODE__NODE_CREATE_STMT: return "CREATE TABLE";
	case PG_QUERY__NODE__NODE_DROP_STMT: return "DROP";
	case PG_QUERY__NODE__NODE_TRANSACTION_STMT: return "transactions";
	case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: return "SET";
	case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT: return "SHOW";
	case PG_QUERY__NODE__NODE_COPY_STMT: return "COPY";
	case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
		return "CREATE TABLE AS";
	case PG_QUERY__NODE__NODE_VIEW_STMT: return "CREATE VIEW";
	default: return "this statement";
	}
}

static int
wq_err_at(weft_err_t *err, const char *sql, int loc, const char *what)
{
	int rc =
	    weft_err_set(err, WEFT_EINVAL, "unsupported at character %d: %s",
			 wq_charpos(sql, loc < 0 ? 0 : loc), what);

	err->pos = wq_charpos(sql, loc < 0 ? 0 : loc);
	return rc;
}

/* The text EXPLAIN returns (q->etext): the plan, with what each operator
 * did once an EXPLAIN ANALYZE ran (exec_ns: its time), then the summary
 * lines. */
static int
wq_explain_text(weft_query_t *q, uint64_t exec_ns, weft_err_t *err)
{
	FILE *f = open_memstream(&q->etext, &q->elen);
	int rc = 0;

	if (f == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	if (q->eopt.analyze)
		rc = wq_analyze_print(q->plan, q->op, &q->eopt, f);
	else
		wq_plan_print(q->plan, f);
	wq_explain_summary(&q->eopt, q->plan_ns, exec_ns, f);
	if (fclose(f) != 0 || rc != 0 || q->etext == NULL) {
		free(q->etext);
		q->etext = NULL;
		q->elen = 0;
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * EXPLAIN ANALYZE: build the operators, counting (and timing, unless
 * TIMING off) as they go, pull every batch and discard it, then print.
 * The operators (and the remote scans' streams) are released once the
 * text is written. A failure of the statement is EXPLAIN's failure.
 */
static int
wq_analyze_run(weft_query_t *q, weft_err_t *err)
{
	uint64_t t0 = weft_mono_ns();
	weft_batch_t *b;
	int rc;

	q->ran = true;
	q->x.timing = q->eopt.timing;
	rc = wq_op_open(&q->x, q->plan, &q->op, err);
	if (rc == 0)
		do
			rc = wq_op_next(q->op, &b, err);
		while (rc == 1);
	if (rc == 0)
		rc = wq_explain_text(q, weft_mono_ns() - t0, err);
	wq_op_free(q->op);
	q->op = NULL;
	return rc;
}

static int
wq_prepare_tree(weft_query_t *q, const char *sql, PgQuery__ParseResult *t,
		weft_err_t *err)
{
	PgQuery__Node *st;
	int loc;

	if (t->n_stmts == 0 || t->stmts[0]->stmt == NULL)
		return weft_err_set(err, WEFT_EINVAL, "empty query");
	if (t->n_stmts > 1)
		return wq_err_at(err, sql, t->stmts[1]->stmt_location,
				 "more than one statement");
	st = t->stmts[0]->stmt;
	loc = t->stmts[0]->stmt_location;
	if (st->node_case == PG_QUERY__NODE__NODE_EXPLAIN_STMT) {
		PgQuery__ExplainStmt *ex = st->explain_stmt;
		int rc = wq_explain_options(ex, sql, &q->eopt, err);

		if (rc != 0)
			return rc;
		q->explain = true;
		st = ex->query;
		if (st == NULL)
			return weft_err_set(err, WEFT_EINVAL, "empty EXPLAIN");
	}
	if (st->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
		return wq_err_at(err, sql, loc, wq_stmt_name(st));
	return wq_bind(q->snap, q->x.mesh, sql, st->select_stmt, &q->plan, err);
}

/* EXPLAIN's result: one text column, "QUERY PLAN"; the plan printed now,
 * or, for EXPLAIN ANALYZE, once the statement ran (wq_analyze_run). */
static int
wq_explain_prepare(weft_query_t *q, weft_err_t *err)
{
	weft_sqltype_t t = WEFT_S_TEXT;

	if (weft_batch_new(1, &t, &q->eb) != 0)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	q->ncols = 1;
	q->names = calloc(1, sizeof(*q->names));
	q->types = calloc(1, sizeof(*q->types));
	if (q->names == NULL || q->types == NULL ||
	    (q->names[0] = strdup("QUERY PLAN")) == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	q->types[0] = WEFT_S_TEXT;
	if (q->eopt.analyze)
		return 0;
	return wq_explain_text(q, 0, err);
}

int
weft_query_prepare(weft_snapshot_t *snap, const char *sql, weft_query_t **out,
		   weft_err_t *err)
{
	return weft_query_prepare_mesh(snap, NULL, sql, out, err);
}

int
weft_query_prepare_mesh(weft_snapshot_t *snap, const weft_mesh_t *mesh,
			const char *sql, weft_query_t **out, weft_err_t *err)
{
	PgQueryProtobufParseResult r;
	PgQuery__ParseResult *tree = NULL;
	weft_query_t *q;
	size_t len;
	uint32_t i;
	uint64_t t0 = weft_mono_ns();
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	len = strnlen(sql, WEFT_SQL_MAX + 1);
	if (len > WEFT_SQL_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "query is longer than %u bytes",
				    WEFT_SQL_MAX);
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	q->snap = snap;
	q->x.snap = snap;
	q->x.mesh = mesh;
	q->x.now = weft_now_us();
	r = pg_query_parse_protobuf(sql);
	if (r.error != NULL) {
		rc = weft_err_set(err, WEFT_EPARSE, "%s", r.error->message);
		err->pos = r.error->cursorpos;
		pg_query_free_protobuf_parse_result(r);
		goto fail;
	}
	tree = pg_query__parse_result__unpack(
	    NULL, r.parse_tree.len, (const uint8_t *)r.parse_tree.data);
	pg_query_free_protobuf_parse_result(r);
	if (tree == NULL) {
		rc = weft_err_set(err, WEFT_EPARSE,
				  "could not read the parse "
				  "tree");
		goto fail;
	}
	rc = wq_prepare_tree(q, sql, tree, err);
	pg_query__parse_result__free_unpacked(tree, NULL);
	if (rc != 0)
		goto fail;
	if (q->plan->ncols > WQ_COLS_MAX) {
		rc = weft_err_set(err, WEFT_EINVAL,
				  "target lists can have at "
				  "most %d entries",
				  WQ_COLS_MAX);
		goto fail;
	}
	rc = wq_optimize(&q->plan, err);
	if (rc == 0)
		rc = wq_plan_policy(snap, mesh, q->plan, err);
	if (rc != 0)
		goto fail;
	q->plan_ns = weft_mono_ns() - t0;
	if (q->explain) {
		rc = wq_explain_prepare(q, err);
		if (rc != 0)
			goto fail;
		*out = q;
		return 0;
	}
	q->ncols = q->plan->ncols;
	q->names = calloc(q->ncols + 1, sizeof(*q->names));
	q->types = calloc(q->ncols + 1, sizeof(*q->types));
	if (q->names == NULL || q->types == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < q->ncols; i++) {
		q->names[i] = strdup(q->plan->names[i]);
		q->types[i] = q->plan->types[i];
		if (q->names[i] == NULL) {
			rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
			goto fail;
		}
	}
	rc = wq_op_open(&q->x, q->plan, &q->op, err);
	if (rc != 0)
		goto fail;
	*out = q;
	return 0;
fail:
	weft_query_free(q);
	if (err->code == 0)
		err->code = rc;
	return rc;
}

uint32_t
weft_query_ncols(const weft_query_t *q)
{
	return q->ncols;
}

const char *
weft_query_colname(const weft_query_t *q, uint32_t i)
{
	return i < q->ncols ? q->names[i] : NULL;
}

weft_sqltype_t
weft_query_coltype(const weft_query_t *q, uint32_t i)
{
	return i < q->ncols ? q->types[i] : WEFT_S_NULL;
}

int
weft_query_is_explain(const weft_query_t *q)
{
	return q->explain;
}

int
weft_query_next(weft_query_t *q, const weft_batch_t **out, weft_err_t *err)
{
	weft_batch_t *b;
	int rc;

	if (q->explain) {
		uint32_t n = 0;

		if (q->eopt.analyze && !q->ran &&
		    (rc = wq_analyze_run(q, err)) != 0)
			return rc;
		if (q->etext == NULL)
			return weft_err_set(err, WEFT_EINVAL,
					    "EXPLAIN ANALYZE failed");
		weft_batch_clear(q->eb);
		while (q->epos < q->elen && n < WEFT_BATCH) {
			const char *s = q->etext + q->epos;
			const char *nl = memchr(s, '\n', q->elen - q->epos);
			size_t l = nl ? (size_t)(nl - s) : q->elen - q->epos;

			q->eb->cols[0].nulls[n] = 0;
			q->eb->cols[0].v.s[n].p = s;
			q->eb->cols[0].v.s[n].len = (uint32_t)l;
			n++;
			q->epos += l + (nl ? 1 : 0);
		}
		if (n == 0)
			return 0;
		q->eb->n = n;
		*out = q->eb;
		return 1;
	}
	for (;;) {
		rc = wq_op_next(q->op, &b, err);
		if (rc == 1 && b->n == 0)
			continue;
		if (rc == 1)
			*out = b;
		return rc;
	}
}

void
weft_query_free(weft_query_t *q)
{
	uint32_t i;

	if (q == NULL)
		return;
	wq_op_free(q->op);
	wq_plan_free(q->plan);
	for (i = 0; i < q->ncols && q->names; i++)
		free(q->names[i]);
	free(q->names);
	free(q->types);
	free(q->etext);
	weft_batch_free(q->eb);
	free(q);
}

void
weft_query_explain(const weft_query_t *q, FILE *f)
{
	wq_plan_print(q->plan, f);
}

static void
wq_collect_frags(wq_plan_t *p, wq_frag_t **v, size_t *n, size_t max)
{
	if (p == NULL)
		return;
	if (p->kind == WQ_SCAN && *n < max)
		v[(*n)++] = p->frag;
	wq_collect_frags(p->l, v, n, max);
	wq_collect_frags(p->r, v, n, max);
}

size_t
wq_query_frags(weft_query_t *q, wq_frag_t **v, size_t max)
{
	size_t n = 0;

	wq_collect_frags(q->plan, v, &n, max);
	return n;
}

static void
wq_collect_remotes(const wq_plan_t *p, const weft_remote_t **v, size_t *n,
		   size_t max)
{
	if (p == NULL)
		return;
	if (p->kind == WQ_SCAN && p->remote && *n < max)
		v[(*n)++] = p->remote;
	wq_collect_remotes(p->l, v, n, max);
	wq_collect_remotes(p->r, v, n, max);
}

size_t
weft_query_remotes(const weft_query_t *q, const weft_remote_t **v, size_t max)
{
	size_t n = 0;

	wq_collect_remotes(q->plan, v, &n, max);
	return n;
}

int64_t
wq_query_now(const weft_query_t *q)
{
	return q->x.now;
}

void
weft_query_set_stop(weft_query_t *q, weft_stop_fn stop, void *arg)
{
	q->x.stop = stop;
	q->x.stop_arg = arg;
}
