/*
 * analyze.h: EXPLAIN's options and EXPLAIN ANALYZE's report
 * (analyze.c). Internal to query/: query.c parses the options, runs the
 * statement when asked to analyse and prints the report; the executor
 * gathers the figures (exec.h, wq_opstat_t).
 */
#ifndef WEFT_QUERY_ANALYZE_H
#define WEFT_QUERY_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"
#include "query/qint.h"

/* What an EXPLAIN asks for. */
typedef struct wq_explain {
	bool analyze; /* run the statement; report what each operator did */
	bool timing;  /* ... and the time spent in each (analyze only) */
	bool summary; /* "Planning Time" (and "Execution Time") lines */
} wq_explain_t;

/*
 * The options of explain_stmt (a PgQuery__ExplainStmt, borrowed) as
 * PostgreSQL reads them: ANALYZE, TIMING, SUMMARY (Booleans: no value,
 * true/false, on/off, 1/0), VERBOSE and COSTS (accepted; weft's plan is
 * always the same), FORMAT TEXT. BUFFERS, WAL, SETTINGS, GENERIC_PLAN,
 * MEMORY and SERIALIZE are refused by name unless turned off, FORMAT
 * other than TEXT too, unknown options and bad values with PostgreSQL's
 * message; err->pos is the option's place in sql. 0 or WEFT_EINVAL.
 */
int wq_explain_options(const void *explain_stmt, const char *sql,
		       wq_explain_t *o, weft_err_t *err);

/*
 * Print plan p as EXPLAIN does (plan.c), each node's first line ending
 * with what its operator in the tree op (built over p by wq_op_open and
 * run; borrowed) did: "(actual rows=N loops=1 time=T ms)", without the
 * time when o->timing is off, or "(never executed)". A remote scan gets
 * a line more: batches and bytes received, the time to the first batch,
 * and what the mesh says of its route and version. 0, or WEFT_ENOMEM.
 */
int wq_analyze_print(const wq_plan_t *p, const wq_op_t *op,
		     const wq_explain_t *o, FILE *f);

/* "Planning Time: X ms" and, when analysing, "Execution Time: Y ms",
 * when o->summary asks for them. */
void wq_explain_summary(const wq_explain_t *o, uint64_t plan_ns,
			uint64_t exec_ns, FILE *f);

#endif
