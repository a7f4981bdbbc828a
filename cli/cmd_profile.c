/*
 * cmd_profile.c: `weft profile`, the statistics of a product's columns
 * computed where the product lives, under this node's grant: the SQL
 * `SELECT weft_profile(*) FROM product [WHERE ...]` (query/profile.c,
 * docs/sql.md) run as `weft query` runs it, through the agent when one
 * runs on the data directory.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define PF_SQL_MAX 8192

static void
weft_profile_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: weft profile --data-dir DIR [--json | --csv]\n"
	    "                    [--columns A,B,...] [--where PREDICATE]\n"
	    "                    [--timeout SECONDS] [--stats] [--local]\n"
	    "                    [ORG.]DOMAIN.PRODUCT\n\n"
	    "Profiles a product's columns where the product lives (its\n"
	    "owner computes the profile under this node's grant; no row\n"
	    "travels): per column its type, rows, NULLs, distinct values\n"
	    "(exact, else estimated), min, max, quantiles, a histogram and\n"
	    "the most common values. Under an aggregates-only grant the\n"
	    "owner releases counts of at least min_group rows only, and no\n"
	    "min, max, quantiles or histogram. One row per statistic:\n"
	    "(column, stat, key, value, rows); see docs/sql.md.\n"
	    "  --data-dir DIR   the node's data directory (or $WEFT_DATA_DIR)\n"
	    "  --columns A,B    only these columns\n"
	    "  --where P        only the rows where P (SQL) holds\n"
	    "  --json, --csv    the rows as JSON objects, or CSV\n"
	    "  --timeout S      give up after S seconds (default 60)\n"
	    "  --stats          the owner's fragment, and its policy note\n"
	    "  --local          do not ask the agent: this node's products\n"
	    "Exit status: 0 on success, 1 on an error, 2 on a usage error.\n");
}

/* Append s to b (at *n of cap bytes) as a quoted SQL identifier; -1 if
 * it is not a name (empty, a quote, a control character) or too long. */
static int
pf_ident(char *b, size_t *n, size_t cap, const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 63)
		return -1;
	for (i = 0; i < len; i++)
		if (s[i] == '"' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	if (*n + len + 3 >= cap)
		return -1;
	b[(*n)++] = '"';
	memcpy(b + *n, s, len);
	*n += len;
	b[(*n)++] = '"';
	b[*n] = 0;
	return 0;
}

/* Append the dot-separated list (or comma-separated, sep) of names. */
static int
pf_names(char *b, size_t *n, size_t cap, const char *s, char sep,
	 const char *join, size_t max)
{
	size_t k = 0;

	for (;;) {
		const char *e = strchr(s, sep);
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (++k > max || pf_ident(b, n, cap, s, len) != 0)
			return -1;
		if (e == NULL)
			return 0;
		if (*n + strlen(join) + 1 >= cap)
			return -1;
		strcpy(b + *n, join);
		*n += strlen(join);
		s = e + 1;
	}
}

static int
pf_append(char *b, size_t *n, size_t cap, const char *s)
{
	size_t len = strlen(s);

	if (*n + len + 1 >= cap)
		return -1;
	memcpy(b + *n, s, len + 1);
	*n += len;
	return 0;
}

int
weft_cmd_profile(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"columns", required_argument, NULL, 'c'},
	    {"where", required_argument, NULL, 'w'},
	    {"timeout", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"csv", no_argument, NULL, 'v'},
	    {"stats", no_argument, NULL, 's'},
	    {"local", no_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *cols = NULL, *where = NULL, *timeout = NULL;
	const char *fmt = "table";
	int c, stats = 0, local = 0, qc = 0;
	char sql[PF_SQL_MAX];
	char *qv[12];
	size_t n = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'c': cols = optarg; break;
		case 'w': where = optarg; break;
		case 't': timeout = optarg; break;
		case 'j': fmt = "json"; break;
		case 'v': fmt = "csv"; break;
		case 's': stats = 1; break;
		case 'l': local = 1; break;
		case 'h': weft_profile_usage(stdout); return 0;
		default: weft_profile_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		weft_profile_usage(stderr);
		return 2;
	}
	sql[0] = 0;
	if (pf_append(sql, &n, sizeof(sql), "SELECT weft_profile(*) FROM ") !=
	    0)
		return 2;
	if (cols != NULL &&
	    (pf_append(sql, &n, sizeof(sql), "(SELECT ") != 0 ||
	     pf_names(sql, &n, sizeof(sql), cols, ',', ", ", 1664) != 0)) {
		weft_cli_error("profile",
			       "--columns \"%s\": give column names separated "
			       "by commas",
			       cols);
		return 2;
	}
	if (cols != NULL && pf_append(sql, &n, sizeof(sql), " FROM ") != 0)
		return 2;
	if (pf_names(sql, &n, sizeof(sql), argv[optind], '.', ".", 3) != 0) {
		weft_cli_error("profile",
			       "\"%s\" is not a product name "
			       "([org.]domain.product)",
			       argv[optind]);
		return 2;
	}
	if (where != NULL &&
	    (pf_append(sql, &n, sizeof(sql), " WHERE (") != 0 ||
	     pf_append(sql, &n, sizeof(sql), where) != 0 ||
	     pf_append(sql, &n, sizeof(sql), ")") != 0)) {
		weft_cli_error("profile", "--where: longer than %d bytes",
			       PF_SQL_MAX / 2);
		return 2;
	}
	if (cols != NULL && pf_append(sql, &n, sizeof(sql), ") s") != 0)
		return 2;
	qv[qc++] = "query";
	if (dir != NULL) {
		qv[qc++] = "--data-dir";
		qv[qc++] = (char *)dir;
	}
	qv[qc++] = "--format";
	qv[qc++] = (char *)fmt;
	if (timeout != NULL) {
		qv[qc++] = "--timeout";
		qv[qc++] = (char *)timeout;
	}
	if (stats)
		qv[qc++] = "--stats";
	if (local)
		qv[qc++] = "--local";
	qv[qc++] = sql;
	qv[qc] = NULL;
	return weft_cmd_query(qc, qv);
}
