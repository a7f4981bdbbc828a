/*
 * cmd_query.c: `weft query`: run one SQL statement over this node's
 * products and print the result as an aligned table (like psql), CSV
 * (PostgreSQL's COPY ... CSV HEADER: NULL is an empty field, an empty
 * string is "", fields quoted when they contain a comma, quote, CR or LF)
 * or JSON (an array of objects; numbers as numbers, NULL as null).
 *
 * Values are printed with weft_value_format (PostgreSQL's text output).
 * CSV and JSON stream batch by batch; the table is aligned, so it holds
 * the formatted rows until the end, as psql does. Errors go to stderr as
 * "weft query: ERROR: message" with the SQL line and a caret under the
 * position.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/util.h"
#include "cli/cli.h"
#include "query/expr.h"
#include "query/query.h"

enum { WQF_TABLE, WQF_CSV, WQF_JSON };

static size_t weft_dwidth(const char *s, size_t n);

static void
weft_query_usage(FILE *f)
{
	fprintf(f,
	    "usage: weft query --data-dir DIR [--format table|csv|json] SQL\n\n"
	    "Runs one SQL statement (PostgreSQL dialect: SELECT, WITH, UNION,\n"
	    "joins, aggregates, EXPLAIN) over the products this node hosts.\n"
	    "Products are named domain.product, org.domain.product, or just\n"
	    "product when the name is unambiguous.\n"
	    "  --data-dir DIR   the node's data directory (or $WEFT_DATA_DIR)\n"
	    "  --format F       table (default; aligned, like psql), csv\n"
	    "                   (header row; NULL is an empty field, an empty\n"
	    "                   string is \"\"), or json (an array of objects)\n"
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
	col = weft_dwidth(ls, (size_t)((p < le ? p : le) - ls));
	snprintf(prefix, sizeof(prefix), "LINE %d: ", line);
	fprintf(stderr, "%s%.*s\n", prefix, (int)(le - ls), ls);
	fprintf(stderr, "%*s^\n", (int)(strlen(prefix) + col), "");
}

static size_t
weft_fmt(const weft_batch_t *b, uint32_t c, uint32_t r, char **buf,
	 size_t *cap)
{
	size_t n = weft_value_format(b->cols[c].type, &b->cols[c], r, *buf,
				     *cap);

	if (n >= *cap) {
		char *nb = realloc(*buf, n + 1);

		if (nb == NULL)
			return 0;
		*buf = nb;
		*cap = n + 1;
		n = weft_value_format(b->cols[c].type, &b->cols[c], r, *buf,
				      *cap);
	}
	return n;
}

static void
weft_csv_field(const char *s, size_t n, FILE *f)
{
	bool q = n == 0 || (n == 2 && s[0] == '\\' && s[1] == '.');
	size_t i;

	for (i = 0; i < n && !q; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			q = true;
	if (!q) {
		fwrite(s, 1, n, f);
		return;
	}
	fputc('"', f);
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

static bool
weft_is_number(weft_sqltype_t t)
{
	return t == WEFT_S_INT32 || t == WEFT_S_INT64 || t == WEFT_S_FLOAT64 ||
	       t == WEFT_S_NUMERIC;
}

/* Columns a code point takes on a terminal: 0 for combining marks and
 * zero-width characters, 2 for East Asian wide/fullwidth and emoji, else 1
 * (the ranges of Unicode's EastAsianWidth W/F that matter in practice). */
static int
weft_cpwidth(uint32_t c)
{
	if ((c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
	    (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
	    (c >= 0xFE20 && c <= 0xFE2F) || (c >= 0x200B && c <= 0x200F) ||
	    c == 0xFEFF)
		return 0;
	if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
	    (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
	    (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
	    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
	    (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
	    (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD))
		return 2;
	return 1;
}

/* Display width of n bytes of UTF-8 (invalid bytes count 1 each). */
static size_t
weft_dwidth(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, w = 0;

	while (i < n) {
		uint32_t c = u[i];
		size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 :
			   c >= 0xC0 ? 2 : 1;
		size_t j;

		if (k > 1 && i + k <= n) {
			c &= 0xFF >> (k + 1);
			for (j = 1; j < k; j++)
				c = c << 6 | (u[i + j] & 0x3F);
		} else {
			k = 1;
		}
		w += (size_t)weft_cpwidth(c);
		i += k;
	}
	return w;
}

typedef struct weft_table {
	uint32_t ncols;
	char **cells; /* row-major, NULL = SQL NULL */
	size_t n, cap;
	size_t *w;
} weft_table_t;

static int
weft_table_add(weft_table_t *t, char *cell)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		char **ncells = realloc(t->cells, nc * sizeof(*ncells));

		if (ncells == NULL)
			return -1;
		t->cells = ncells;
		t->cap = nc;
	}
	t->cells[t->n++] = cell;
	return 0;
}

static void
weft_pad(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc(' ', f);
}

static void
weft_table_print(const weft_query_t *q, weft_table_t *t, FILE *f)
{
	uint32_t c;
	size_t r, rows = t->ncols ? t->n / t->ncols : 0;

	for (c = 0; c < t->ncols; c++) {
		const char *h = weft_query_colname(q, c);
		size_t hw = weft_dwidth(h, strlen(h)), left;

		left = (t->w[c] - hw) / 2;
		fputc(' ', f);
		weft_pad(f, left);
		fputs(h, f);
		if (c + 1 < t->ncols)
			weft_pad(f, t->w[c] - hw - left);
		fputs(c + 1 < t->ncols ? " |" : "\n", f);
	}
	if (t->ncols == 0)
		fputs("--\n", f);
	for (c = 0; c < t->ncols; c++) {
		size_t k;

		for (k = 0; k < t->w[c] + 2; k++)
			fputc('-', f);
		if (c + 1 < t->ncols)
			fputc('+', f);
	}
	if (t->ncols)
		fputc('\n', f);
	for (r = 0; r < rows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t sw = s ? weft_dwidth(s, strlen(s)) : 0;
			bool right = weft_is_number(weft_query_coltype(q, c));

			fputc(' ', f);
			if (right)
				weft_pad(f, t->w[c] - sw);
			if (s)
				fputs(s, f);
			if (!right && c + 1 < t->ncols)
				weft_pad(f, t->w[c] - sw);
			fputs(c + 1 < t->ncols ? " |" : "\n", f);
		}
		if (t->ncols == 0)
			fputc('\n', f);
	}
	fprintf(f, "(%zu row%s)\n", rows, rows == 1 ? "" : "s");
}

int
weft_cmd_query(int argc, char **argv)
{
	static const struct option lo[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *sql;
	weft_store_t *st = NULL;
	weft_snapshot_t *snap = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};
	weft_table_t tab = {0};
	const weft_batch_t *b;
	char *buf = NULL;
	size_t cap = 256, rows = 0, i;
	int fmt = WQF_TABLE, c, rc = 1;
	bool started = false;
	uint32_t nc, col, r;
	static char obuf[1 << 16];

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:f:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				fmt = WQF_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				fmt = WQF_CSV;
			else if (strcmp(optarg, "json") == 0)
				fmt = WQF_JSON;
			else {
				weft_cli_error("query", "unknown format \"%s\" "
					       "(table, csv or json)", optarg);
				return 2;
			}
			break;
		case 'h':
			weft_query_usage(stdout);
			return 0;
		default:
			weft_query_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		weft_query_usage(stderr);
		return 2;
	}
	sql = argv[optind];
	dir = weft_cli_data_dir(dir);
	if (dir == NULL)
		return 2;
	if (weft_cli_open_store(dir, &st) != 0)
		return 1;
	if (weft_snapshot_begin(st, &snap, &err) != 0) {
		fprintf(stderr, "weft query: ERROR: %s\n", err.msg);
		goto out;
	}
	if (weft_query_prepare(snap, sql, &q, &err) != 0) {
		weft_query_print_error(sql, &err);
		goto out;
	}
	buf = malloc(cap);
	if (buf == NULL)
		goto out;
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	nc = weft_query_ncols(q);
	if (fmt == WQF_TABLE) {
		tab.ncols = nc;
		tab.w = calloc(nc + 1, sizeof(*tab.w));
		if (tab.w == NULL)
			goto out;
		for (col = 0; col < nc; col++) {
			const char *h = weft_query_colname(q, col);

			tab.w[col] = weft_dwidth(h, strlen(h));
		}
	}
	/* the CSV header and JSON's bracket wait for the first batch, so a
	 * query failing at once prints only its error */
	for (;;) {
		rc = weft_query_next(q, &b, &err);
		if (rc < 0)
			break;
		if (!started && fmt == WQF_CSV) {
			for (col = 0; col < nc; col++) {
				const char *h = weft_query_colname(q, col);

				if (col)
					fputc(',', stdout);
				weft_csv_field(h, strlen(h), stdout);
			}
			fputc('\n', stdout);
		} else if (!started && fmt == WQF_JSON) {
			fputs("[", stdout);
		}
		started = true;
		if (rc == 0)
			break;
		for (r = 0; r < b->n; r++, rows++) {
			if (fmt == WQF_JSON)
				fputs(rows ? ",\n{" : "\n{", stdout);
			if (fmt == WQF_TABLE && nc == 0)
				tab.n++; /* zero-column rows still count */
			for (col = 0; col < nc; col++) {
				const weft_vec_t *v = &b->cols[col];
				bool null = v->nulls[r] || v->type == WEFT_S_NULL;
				size_t n = null ? 0 : weft_fmt(b, col, r, &buf,
							       &cap);

				if (fmt == WQF_TABLE) {
					char *cell = null ? NULL
							  : strndup(buf, n);

					if ((!null && cell == NULL) ||
					    weft_table_add(&tab, cell) != 0) {
						free(cell);
						err.code = WEFT_ENOMEM;
						snprintf(err.msg, sizeof(err.msg),
							 "out of memory");
						rc = -1;
						goto fail;
					}
					if (!null &&
					    weft_dwidth(buf, n) > tab.w[col])
						tab.w[col] = weft_dwidth(buf, n);
				} else if (fmt == WQF_CSV) {
					if (col)
						fputc(',', stdout);
					if (null)
						continue;
					if (v->type == WEFT_S_TEXT)
						weft_csv_field(buf, n, stdout);
					else
						fwrite(buf, 1, n, stdout);
				} else {
					const char *h = weft_query_colname(q,
									   col);

					if (col)
						fputc(',', stdout);
					weft_json_quote(stdout, h, strlen(h));
					fputc(':', stdout);
					if (null)
						fputs("null", stdout);
					else if (v->type == WEFT_S_BOOL)
						fputs(v->v.b[r] ? "true"
								: "false",
						      stdout);
					else if (weft_is_number(v->type) &&
						 (v->type == WEFT_S_INT32 ||
						  v->type == WEFT_S_INT64 ||
						  isfinite(v->v.f64[r])))
						fwrite(buf, 1, n, stdout);
					else
						weft_json_quote(stdout, buf, n);
				}
			}
			if (fmt == WQF_CSV)
				fputc('\n', stdout);
			else if (fmt == WQF_JSON)
				fputc('}', stdout);
		}
	}
fail:
	if (rc < 0) {
		fflush(stdout);
		weft_query_print_error(sql, &err);
		rc = 1;
		goto out;
	}
	if (fmt == WQF_TABLE) {
		if (nc == 0) {
			fprintf(stdout, "--\n(%zu row%s)\n", tab.n,
				tab.n == 1 ? "" : "s");
		} else {
			weft_table_print(q, &tab, stdout);
		}
	} else if (fmt == WQF_JSON) {
		fputs(rows ? "\n]\n" : "]\n", stdout);
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	for (i = 0; tab.cells && tab.ncols && i < tab.n; i++)
		free(tab.cells[i]);
	free(tab.cells);
	free(tab.w);
	free(buf);
	weft_query_free(q);
	weft_snapshot_end(snap);
	weft_store_close(st);
	return rc;
}
