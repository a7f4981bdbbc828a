/*
 * cmd_query.c: `weft query`: run one SQL statement over this node's
 * products and print the result (as table, CSV or JSON: query_out.c).
 * Errors go to stderr as "weft query: ERROR: message" with the SQL line
 * and a caret under the position.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/utf8.h"
#include "lib/util.h"
#include "query/expr.h"
#include "query/query.h"

static void
weft_query_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: weft query --data-dir DIR [--format table|csv|json] SQL\n\n"
	    "Runs one SQL statement (PostgreSQL dialect: SELECT, WITH, UNION,\n"
	    "joins, aggregates, EXPLAIN) over the products this node hosts.\n"
	    "Products are named domain.product, org.domain.product, or just\n"
	    "product when the name is unambiguous.\n"
	    "  --data-dir DIR   the node's data directory (or $WEFT_DATA_DIR)\n"
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

/* Options: 0 with *dir, *sql and *fmt set; -1 after --help; else the
 * exit code (2, usage printed). */
static int
weft_query_args(int argc, char **argv, const char **dir, const char **sql,
		int *fmt)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *d = NULL;
	int c;

	*fmt = WEFT_QOUT_TABLE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:f:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': d = optarg; break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				*fmt = WEFT_QOUT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				*fmt = WEFT_QOUT_CSV;
			else if (strcmp(optarg, "json") == 0)
				*fmt = WEFT_QOUT_JSON;
			else {
				weft_cli_error("query",
					       "unknown format \"%s\" "
					       "(table, csv or json)",
					       optarg);
				return 2;
			}
			break;
		case 'h': weft_query_usage(stdout); return -1;
		default: weft_query_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		weft_query_usage(stderr);
		return 2;
	}
	*sql = argv[optind];
	*dir = weft_cli_data_dir(d);
	return *dir == NULL ? 2 : 0;
}

int
weft_cmd_query(int argc, char **argv)
{
	const char *dir = NULL, *sql;
	weft_store_t *st = NULL;
	weft_snapshot_t *snap = NULL;
	weft_query_t *q = NULL;
	weft_qout_t *out = NULL;
	weft_err_t err = {0};
	const weft_batch_t *b;
	int fmt, rc;
	static char obuf[1 << 16];

	if ((rc = weft_query_args(argc, argv, &dir, &sql, &fmt)) != 0)
		return rc < 0 ? 0 : rc;
	if (weft_cli_open_store(dir, &st) != 0)
		return 1;
	rc = 1;
	if (weft_snapshot_begin(st, &snap, &err) != 0) {
		fprintf(stderr, "weft query: ERROR: %s\n", err.msg);
		goto out;
	}
	if (weft_query_prepare(snap, sql, &q, &err) != 0) {
		weft_query_print_error(sql, &err);
		goto out;
	}
	if (weft_qout_new(fmt, q, stdout, &out) != 0)
		goto out;
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	while ((rc = weft_query_next(q, &b, &err)) > 0)
		if ((rc = weft_qout_batch(out, b, &err)) != 0)
			break;
	if (rc < 0) {
		fflush(stdout);
		weft_query_print_error(sql, &err);
		rc = 1;
		goto out;
	}
	rc = weft_qout_end(out) == 0 ? 0 : 1;
out:
	weft_qout_free(out);
	weft_query_free(q);
	weft_snapshot_end(snap);
	weft_store_close(st);
	return rc;
}
