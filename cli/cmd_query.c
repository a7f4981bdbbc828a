/*
 * cmd_query.c: `weft query`: run one SQL statement over this node's
 * products and print the result (as table, CSV or JSON: query_out.c).
 * Errors go to stderr as "weft query: ERROR: message" with the SQL line
 * and a caret under the position.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/control.h"
#include "cli/cli.h"
#include "lib/utf8.h"
#include "lib/util.h"
#include "query/bwire.h"
#include "query/expr.h"
#include "query/query.h"
#include "storage/nodedir.h"

static void
weft_query_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: weft query --data-dir DIR [--format table|csv|json]\n"
	    "                  [--timeout SECONDS] [--stats] [--local] SQL\n\n"
	    "Runs one SQL statement (PostgreSQL dialect: SELECT, WITH, UNION,\n"
	    "joins, aggregates, EXPLAIN [ANALYZE]) over the products this "
	    "node\n"
	    "may see. With `weft agent` running on DIR the agent runs it, and\n"
	    "products hosted by other nodes are read where they live (their\n"
	    "fragments run on the hosting node); without one, only this "
	    "node's\n"
	    "products.\n"
	    "Products are named org.domain.product, or domain.product or just\n"
	    "product when only one product the node may see has that name.\n"
	    "  --data-dir DIR   the node's data directory (or $WEFT_DATA_DIR)\n"
	    "  --timeout S      give up after S seconds (default 60)\n"
	    "  --stats          per remote fragment: node, version read, "
	    "rows,\n"
	    "                   batches, bytes, time (on stderr)\n"
	    "  --local          do not ask the agent: this node's products\n"
	    "  --format F       table (default; aligned, like psql), csv\n"
	    "                   (header row; NULL is an empty field, an empty\n"
	    "                   string is \"\"), or json (an array of "
	    "objects)\n"
	    "Exit status: 0 on success, 1 on an error (printed with its\n"
	    "position), 2 on a usage error.\n");
}

/* Print the error and the SQL line with a caret under err->pos. */
static void
weft_query_print_error(const char *sql, const weft_err_t *err)
{
	int pos = err->pos, cp = 1, line = 1;
	const char *p = sql, *ls = sql, *le;
	size_t col = 0;
	char prefix[32];

	fprintf(stderr, "weft query: ERROR: %s\n", err->msg);
	if (pos <= 0 || sql == NULL)
		return;
	/* find the line holding character pos */
	for (; *p && cp < pos; p++) {
		if (((unsigned char)*p & 0xC0) == 0x80)
			continue;
		cp++;
		if (*p == '\n') {
			line++;
			ls = p + 1;
		}
	}
	while (*p && ((unsigned char)*p & 0xC0) == 0x80)
		p++;
	le = strchr(ls, '\n');
	if (le == NULL)
		le = ls + strlen(ls);
	col = weft_utf8_width(ls, (size_t)((p < le ? p : le) - ls));
	snprintf(prefix, sizeof(prefix), "LINE %d: ", line);
	fprintf(stderr, "%s%.*s\n", prefix, (int)(le - ls), ls);
	fprintf(stderr, "%*s^\n", (int)(strlen(prefix) + col), "");
}

typedef struct weft_qargs {
	const char *dir, *sql;
	int fmt, stats, local;
	uint32_t timeout_ms;
} weft_qargs_t;

/* Options: 0 with a filled; -1 after --help; else the exit code (2,
 * usage printed). */
static int
weft_query_args(int argc, char **argv, weft_qargs_t *a)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'},
	    {"timeout", required_argument, NULL, 't'},
	    {"stats", no_argument, NULL, 's'},
	    {"local", no_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *d = NULL;
	char *end;
	double t;
	int c;

	a->fmt = WEFT_QOUT_TABLE;
	a->timeout_ms = 60000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:f:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': d = optarg; break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				a->fmt = WEFT_QOUT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				a->fmt = WEFT_QOUT_CSV;
			else if (strcmp(optarg, "json") == 0)
				a->fmt = WEFT_QOUT_JSON;
			else {
				weft_cli_error("query",
					       "unknown format \"%s\" "
					       "(table, csv or json)",
					       optarg);
				return 2;
			}
			break;
		case 't':
			t = strtod(optarg, &end);
			if (end == optarg || *end || !(t > 0) || t > 86400) {
				weft_cli_error(
				    "query",
				    "--timeout \"%s\": give seconds, "
				    "more than 0 and at most 86400",
				    optarg);
				return 2;
			}
			a->timeout_ms = (uint32_t)(t * 1000 + 0.5);
			break;
		case 's': a->stats = 1; break;
		case 'l': a->local = 1; break;
		case 'h': weft_query_usage(stdout); return -1;
		default: weft_query_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		weft_query_usage(stderr);
		return 2;
	}
	a->sql = argv[optind];
	a->dir = weft_cli_data_dir(d);
	return a->dir == NULL ? 2 : 0;
}

/* --stats: what each fragment sent to another node did (stderr). */
static void
weft_query_stats(const Weft__ControlResponse *r)
{
	size_t i;

	for (i = 0; i < r->n_fragments; i++) {
		const Weft__FragmentStats *f = r->fragments[i];
		char plan[64] = "";

		if (f->scans > 1)
			snprintf(plan, sizeof(plan), " (a plan of %u scans)",
				 f->scans);
		fprintf(stderr,
			"fragment %s%s on node %s (%s): version %llu, %llu "
			"rows, %llu batches, %llu bytes, %.1f ms\n",
			f->product, plan, f->node, f->route,
			(unsigned long long)f->version,
			(unsigned long long)f->rows,
			(unsigned long long)f->batches,
			(unsigned long long)f->bytes,
			(double)f->elapsed_us / 1000.0);
		if (f->policy != NULL && f->policy[0] != 0)
			fprintf(stderr, "  the owner's %s\n", f->policy);
	}
}

/* The answers of DIR's agent on fd, printed as the local path would. */
static int
weft_query_agent(const weft_qargs_t *a, int fd)
{
	Weft__ControlResponse *r = NULL;
	weft_qout_t *out = NULL;
	weft_batch_t *b = NULL;
	weft_sqltype_t *types = NULL;
	weft_err_t err = {0};
	int rc = 1, wait = (int)a->timeout_ms + 5000;
	static char obuf[1 << 16];
	size_t i;

	/* Every answer is a few hundred KiB read, unpacked and decoded, then
	 * freed: with glibc's defaults each of those blocks is a fresh
	 * mapping or a heap grown and trimmed again, and the page faults cost
	 * as much as the printing (a million rows: 0.41 s, 0.26 s with
	 * these). A short-lived process keeps its freed memory instead. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	for (;;) {
		weft__control_response__free_unpacked(r, NULL);
		r = NULL;
		if (weft_ctl_query_next(fd, wait, &r, &err) != 0) {
			fprintf(stderr, "weft query: ERROR: %s\n", err.msg);
			goto out;
		}
		if (r->end)
			break;
		if (r->head != NULL && out == NULL) {
			types = calloc(r->head->n_types + 1, sizeof(*types));
			if (types == NULL ||
			    r->head->n_types != r->head->n_names)
				goto bad;
			for (i = 0; i < r->head->n_types; i++) {
				if (r->head->types[i] > WEFT_S_UNKNOWN)
					goto bad;
				types[i] = (weft_sqltype_t)r->head->types[i];
			}
			if (weft_batch_new((uint32_t)r->head->n_types, types,
					   &b) != 0 ||
			    weft_qout_new_shape(
				a->fmt, (uint32_t)r->head->n_names,
				(const char *const *)r->head->names, types,
				stdout, &out) != 0)
				goto bad;
		} else if (r->batch.len > 0 && out != NULL) {
			if (weft_bwire_decode(r->batch.data, r->batch.len, b,
					      &err) != 0 ||
			    weft_qout_batch(out, b, &err) != 0) {
				fprintf(stderr, "weft query: ERROR: %s\n",
					err.msg);
				goto out;
			}
		}
	}
	if (a->stats)
		weft_query_stats(r);
	if (r->error[0]) {
		fflush(stdout);
		err.pos = r->error_pos;
		snprintf(err.msg, sizeof(err.msg), "%s", r->error);
		weft_query_print_error(a->sql, &err);
		goto out;
	}
	rc = out != NULL && weft_qout_end(out) == 0 ? 0 : 1;
	goto out;
bad:
	fprintf(stderr, "weft query: ERROR: a malformed answer from the "
			"agent\n");
out:
	weft__control_response__free_unpacked(r, NULL);
	weft_qout_free(out);
	weft_batch_free(b);
	free(types);
	close(fd);
	return rc;
}

int
weft_cmd_query(int argc, char **argv)
{
	weft_qargs_t a = {0};
	weft_store_t *st = NULL;
	weft_snapshot_t *snap = NULL;
	weft_query_t *q = NULL;
	weft_qout_t *out = NULL;
	weft_err_t err = {0};
	weft_node_id_t id;
	weft_mesh_t mesh = {0};
	const weft_batch_t *b;
	int rc, fd, have_id = 0;
	static char obuf[1 << 16];

	if ((rc = weft_query_args(argc, argv, &a)) != 0)
		return rc < 0 ? 0 : rc;
	if (!a.local) {
		fd = weft_ctl_query_open(a.dir, a.sql, a.timeout_ms, &err);
		if (fd >= 0)
			return weft_query_agent(&a, fd);
		if (fd != WEFT_ENOTFOUND) {
			fprintf(stderr, "weft query: ERROR: %s\n", err.msg);
			return 1;
		}
	}
	if (weft_cli_open_store(a.dir, &st) != 0)
		return 1;
	rc = 1;
	memset(&err, 0, sizeof(err));
	if (weft_nodedir_id_load(a.dir, &id, &err) == 0) {
		have_id = 1;
		mesh.self = id.kp->pk; /* names elsewhere: say where */
	}
	if (weft_snapshot_begin(st, &snap, &err) != 0) {
		fprintf(stderr, "weft query: ERROR: %s\n", err.msg);
		goto out;
	}
	if (weft_query_prepare_mesh(snap, have_id ? &mesh : NULL, a.sql, &q,
				    &err) != 0) {
		weft_query_print_error(a.sql, &err);
		goto out;
	}
	if (weft_qout_new(a.fmt, q, stdout, &out) != 0)
		goto out;
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	while ((rc = weft_query_next(q, &b, &err)) > 0)
		if ((rc = weft_qout_batch(out, b, &err)) != 0)
			break;
	if (rc < 0) {
		fflush(stdout);
		weft_query_print_error(a.sql, &err);
		rc = 1;
		goto out;
	}
	rc = weft_qout_end(out) == 0 ? 0 : 1;
out:
	weft_qout_free(out);
	weft_query_free(q);
	weft_snapshot_end(snap);
	weft_store_close(st);
	if (have_id)
		weft_nodedir_id_free(&id);
	return rc;
}
