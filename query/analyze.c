/*
 * analyze.c: EXPLAIN's options and EXPLAIN ANALYZE's report (analyze.h).
 *
 * The report is EXPLAIN's plan (plan.c prints each node) with the
 * figures the executor gathered per operator (exec.h, wq_opstat_t)
 * appended to each node's first line, as PostgreSQL appends "(actual
 * ...)". The operator tree mirrors the plan: wq_op_open builds one
 * operator per node with its children in the same places, and each
 * operator points at its node; a node whose operator is not where it is
 * expected is printed without figures rather than with another's.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "query/analyze.h"
#include "query/exec.h"

/* ---- options ---- */

enum {
	WQ_OPT_ANALYZE,
	WQ_OPT_TIMING,
	WQ_OPT_SUMMARY,
	WQ_OPT_IGNORED, /* accepted, changes nothing */
	WQ_OPT_FORMAT,
	WQ_OPT_REFUSED, /* unsupported unless off */
};

static const struct {
	const char *name, *upper;
	int kind;
} wq_opts[] = {
    {"analyze", "ANALYZE", WQ_OPT_ANALYZE},
    {"timing", "TIMING", WQ_OPT_TIMING},
    {"summary", "SUMMARY", WQ_OPT_SUMMARY},
    {"verbose", "VERBOSE", WQ_OPT_IGNORED},
    {"costs", "COSTS", WQ_OPT_IGNORED},
    {"format", "FORMAT", WQ_OPT_FORMAT},
    {"buffers", "BUFFERS", WQ_OPT_REFUSED},
    {"wal", "WAL", WQ_OPT_REFUSED},
    {"settings", "SETTINGS", WQ_OPT_REFUSED},
    {"generic_plan", "GENERIC_PLAN", WQ_OPT_REFUSED},
    {"memory", "MEMORY", WQ_OPT_REFUSED},
    {"serialize", "SERIALIZE", WQ_OPT_REFUSED},
};

/* An error at the option at byte loc of sql: fmt's message, after
 * "unsupported at character N: " when weft lacks what was asked. */
static int wq_opt_err(weft_err_t *err, const char *sql, int loc,
		      bool unsupported, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
wq_opt_err(weft_err_t *err, const char *sql, int loc, bool unsupported,
	   const char *fmt, ...)
{
	int pos = wq_charpos(sql, loc < 0 ? 0 : loc);
	char msg[WEFT_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (unsupported)
		weft_err_set(err, WEFT_EINVAL,
			     "unsupported at character %d: %s", pos, msg);
	else
		weft_err_set(err, WEFT_EINVAL, "%s", msg);
	err->pos = pos;
	return WEFT_EINVAL;
}

/* PostgreSQL's defGetBoolean: no value, 1/0, true/false, on/off (any
 * case). 1, 0, or -1 for anything else. */
static int
wq_opt_bool(const PgQuery__DefElem *d)
{
	const PgQuery__Node *a = d->arg;
	const char *s;

	if (a == NULL)
		return 1;
	if (a->node_case == PG_QUERY__NODE__NODE_INTEGER && a->integer)
		return a->integer->ival == 0   ? 0
		       : a->integer->ival == 1 ? 1
					       : -1;
	if (a->node_case != PG_QUERY__NODE__NODE_STRING || a->string == NULL ||
	    a->string->sval == NULL)
		return -1;
	s = a->string->sval;
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "on") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "off") == 0)
		return 0;
	return -1;
}

/* FORMAT's value: TEXT is what weft prints; the others are refused. */
static int
wq_opt_format(const PgQuery__DefElem *d, const char *sql, weft_err_t *err)
{
	static const char *const other[] = {"JSON", "XML", "YAML"};
	const PgQuery__Node *a = d->arg;
	const char *s;
	size_t i;

	if (a == NULL || a->node_case != PG_QUERY__NODE__NODE_STRING ||
	    a->string == NULL || a->string->sval == NULL)
		return wq_opt_err(err, sql, d->location, false,
				  "format requires a parameter");
	s = a->string->sval;
	if (strcasecmp(s, "text") == 0)
		return 0;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (strcasecmp(s, other[i]) == 0)
			return wq_opt_err(
			    err, sql, d->location, true,
			    "EXPLAIN option FORMAT %s (only TEXT)", other[i]);
	return wq_opt_err(err, sql, d->location, false,
			  "unrecognized value for EXPLAIN option "
			  "\"format\": \"%.64s\"",
			  s);
}

int
wq_explain_options(const void *explain_stmt, const char *sql, wq_explain_t *o,
		   weft_err_t *err)
{
	const PgQuery__ExplainStmt *ex = explain_stmt;
	int timing = -1, summary = -1;
	size_t i, k;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < ex->n_options; i++) {
		const PgQuery__Node *n = ex->options[i];
		const PgQuery__DefElem *d;
		int b;

		if (n == NULL ||
		    n->node_case != PG_QUERY__NODE__NODE_DEF_ELEM ||
		    n->def_elem == NULL || n->def_elem->defname == NULL)
			return weft_err_set(err, WEFT_EINVAL,
					    "malformed EXPLAIN option");
		d = n->def_elem;
		for (k = 0; k < sizeof(wq_opts) / sizeof(wq_opts[0]); k++)
			if (strcmp(d->defname, wq_opts[k].name) == 0)
				break;
		if (k == sizeof(wq_opts) / sizeof(wq_opts[0]))
			return wq_opt_err(err, sql, d->location, false,
					  "unrecognized EXPLAIN option "
					  "\"%.64s\"",
					  d->defname);
		if (wq_opts[k].kind == WQ_OPT_FORMAT) {
			if (wq_opt_format(d, sql, err) != 0)
				return WEFT_EINVAL;
			continue;
		}
		b = wq_opt_bool(d);
		if (wq_opts[k].kind == WQ_OPT_REFUSED && b != 0)
			return wq_opt_err(err, sql, d->location, true,
					  "EXPLAIN option %s",
					  wq_opts[k].upper);
		if (b < 0)
			return wq_opt_err(err, sql, d->location, false,
					  "%s requires a Boolean value",
					  wq_opts[k].name);
		switch (wq_opts[k].kind) {
		case WQ_OPT_ANALYZE: o->analyze = b; break;
		case WQ_OPT_TIMING: timing = b; break;
		case WQ_OPT_SUMMARY: summary = b; break;
		default: break;
		}
	}
	if (timing == 1 && !o->analyze)
		return weft_err_set(err, WEFT_EINVAL,
				    "EXPLAIN option TIMING requires ANALYZE");
	o->timing = o->analyze && timing != 0;
	o->summary = summary < 0 ? o->analyze : summary == 1;
	return 0;
}

/* ---- the figures of a run ---- */

static double
wq_an_ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void
wq_an_actual(const wq_op_t *o, const wq_explain_t *e, FILE *f)
{
	if (o == NULL)
		return;
	if (o->st.calls == 0) {
		fprintf(f, "  (never executed)");
		return;
	}
	fprintf(f, "  (actual rows=%llu loops=1",
		(unsigned long long)o->st.rows);
	if (e->timing)
		fprintf(f, " time=%.3f ms", wq_an_ms(o->st.ns));
	fprintf(f, ")");
}

/* What came over the wire for remote scan (or Remote Plan) o, on a line
 * of its own. */
static void
wq_an_wire(const wq_op_t *o, const wq_explain_t *e, FILE *f, int ind)
{
	const weft_mesh_t *m = o->x ? o->x->mesh : NULL;
	const char *route = NULL;
	uint64_t version = 0;

	if (m != NULL && m->route != NULL && o->rstream != NULL)
		route = m->route(m->arg, o->rstream, &version);
	fprintf(f, "%*sReceived: batches=%llu bytes=%llu", ind, "",
		(unsigned long long)o->st.rbatches,
		(unsigned long long)o->st.rbytes);
	if (e->timing && o->st.rbatches > 0)
		fprintf(f, " first=%.3f ms", wq_an_ms(o->st.rfirst_ns));
	if (e->timing)
		fprintf(f, " waited=%.3f ms", wq_an_ms(o->st.rwait_ns));
	if (route != NULL)
		fprintf(f, "; %s", route);
	if (version != 0)
		fprintf(f, "; version %llu read", (unsigned long long)version);
	fprintf(f, "\n");
}

/* Node p, then its children, with the figures of op (NULL: none). */
static int
wq_an_node(const wq_plan_t *p, const wq_op_t *op, const wq_explain_t *e,
	   FILE *f, int ind)
{
	char *txt = NULL;
	size_t len = 0, first;
	FILE *m = open_memstream(&txt, &len);
	const char *nl;
	int rc = 0;

	if (m == NULL)
		return WEFT_ENOMEM;
	wq_plan_print_node(p, m, ind);
	if (fclose(m) != 0 || txt == NULL) {
		free(txt);
		return WEFT_ENOMEM;
	}
	nl = memchr(txt, '\n', len);
	first = nl ? (size_t)(nl - txt) : len;
	fwrite(txt, 1, first, f);
	wq_an_actual(op, e, f);
	fputc('\n', f);
	if (op && op->st.calls > 0 &&
	    (op->kind == WQ_REMOTE || (op->kind == WQ_SCAN && p->remote)))
		wq_an_wire(op, e, f, ind + 2);
	if (nl != NULL)
		fwrite(nl + 1, 1, len - first - 1, f);
	free(txt);
	if (p->l)
		rc = wq_an_node(p->l,
				op && op->l && op->l->p == p->l ? op->l : NULL,
				e, f, ind + 2);
	if (rc == 0 && p->r)
		rc = wq_an_node(p->r,
				op && op->r && op->r->p == p->r ? op->r : NULL,
				e, f, ind + 2);
	return rc;
}

int
wq_analyze_print(const wq_plan_t *p, const wq_op_t *op, const wq_explain_t *o,
		 FILE *f)
{
	return wq_an_node(p, op && op->p == p ? op : NULL, o, f, 0);
}

void
wq_explain_summary(const wq_explain_t *o, uint64_t plan_ns, uint64_t exec_ns,
		   FILE *f)
{
	if (!o->summary)
		return;
	fprintf(f, "Planning Time: %.3f ms\n", wq_an_ms(plan_ns));
	if (o->analyze)
		fprintf(f, "Execution Time: %.3f ms\n", wq_an_ms(exec_ns));
}
