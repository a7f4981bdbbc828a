/*
 * query_out.c: how `weft query` prints a result (cli.h, weft_qout_*): an
 * aligned table (like psql: numbers to the right, East Asian wide
 * characters two columns), CSV (PostgreSQL's COPY ... CSV HEADER: NULL
 * is an empty field, an empty string is "", fields quoted when they
 * contain a comma, quote, CR or LF) or JSON (an array of objects;
 * numbers as numbers, NULL as null).
 *
 * Values are printed with weft_value_format (PostgreSQL's text output).
 * CSV and JSON stream batch by batch; the table is aligned, so it holds
 * the formatted rows until the end, as psql does. Nothing is printed
 * before the first batch (or the end) arrives, so a query that fails at
 * once prints only its error.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/utf8.h"
#include "lib/util.h"
#include "query/expr.h"

static size_t
weft_fmt(const weft_batch_t *b, uint32_t c, uint32_t r, char **buf, size_t *cap)
{
	size_t n =
	    weft_value_format(b->cols[c].type, &b->cols[c], r, *buf, *cap);

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

struct weft_qout {
	int fmt;
	char **names;
	weft_sqltype_t *types;
	FILE *f;
	uint32_t nc;
	weft_table_t tab;
	char *buf; /* one formatted value */
	size_t cap, rows;
	char *line; /* WEFT_QOUT_CSV: the row being made, written whole */
	size_t llen, lcap;
	bool started;
	weft_json_t j; /* WEFT_QOUT_JSON */
};

static void
weft_table_print(const weft_qout_t *q, weft_table_t *t, FILE *f)
{
	uint32_t c;
	size_t r, rows = t->ncols ? t->n / t->ncols : 0;

	for (c = 0; c < t->ncols; c++) {
		const char *h = q->names[c];
		size_t hw = weft_utf8_width(h, strlen(h)), left;

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
			size_t sw = s ? weft_utf8_width(s, strlen(s)) : 0;
			bool right = weft_is_number(q->types[c]);

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
weft_qout_new(int fmt, const weft_query_t *q, FILE *f, weft_qout_t **out)
{
	uint32_t n = weft_query_ncols(q), c;
	const char **names = calloc(n + 1, sizeof(*names));
	weft_sqltype_t *types = calloc(n + 1, sizeof(*types));
	int rc = WEFT_ENOMEM;

	*out = NULL;
	if (names != NULL && types != NULL) {
		for (c = 0; c < n; c++) {
			names[c] = weft_query_colname(q, c);
			types[c] = weft_query_coltype(q, c);
		}
		rc = weft_qout_new_shape(fmt, n, names, types, f, out);
	}
	free(names);
	free(types);
	return rc;
}

int
weft_qout_new_shape(int fmt, uint32_t n, const char *const *names,
		    const weft_sqltype_t *types, FILE *f, weft_qout_t **out)
{
	weft_qout_t *o = calloc(1, sizeof(*o));
	uint32_t col;

	*out = NULL;
	if (o == NULL)
		return WEFT_ENOMEM;
	o->fmt = fmt;
	o->f = f;
	o->nc = n;
	o->cap = 256;
	o->buf = malloc(o->cap);
	o->names = calloc(n + 1, sizeof(*o->names));
	o->types = calloc(n + 1, sizeof(*o->types));
	if (o->buf == NULL || o->names == NULL || o->types == NULL)
		goto fail;
	for (col = 0; col < n; col++) {
		o->names[col] = strdup(names[col]);
		o->types[col] = types[col];
		if (o->names[col] == NULL)
			goto fail;
	}
	if (fmt == WEFT_QOUT_TABLE) {
		o->tab.ncols = o->nc;
		o->tab.w = calloc(o->nc + 1, sizeof(*o->tab.w));
		if (o->tab.w == NULL)
			goto fail;
		for (col = 0; col < o->nc; col++) {
			const char *h = o->names[col];

			o->tab.w[col] = weft_utf8_width(h, strlen(h));
		}
	}
	*out = o;
	return 0;
fail:
	weft_qout_free(o);
	return WEFT_ENOMEM;
}

void
weft_qout_free(weft_qout_t *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; o->tab.cells && o->tab.ncols && i < o->tab.n; i++)
		free(o->tab.cells[i]);
	free(o->tab.cells);
	free(o->tab.w);
	free(o->buf);
	free(o->line);
	for (i = 0; o->names && i < o->nc; i++)
		free(o->names[i]);
	free(o->names);
	free(o->types);
	free(o);
}

/* The CSV header row, or JSON's opening bracket. */
static void
qout_start(weft_qout_t *o)
{
	uint32_t col;

	if (o->fmt == WEFT_QOUT_CSV) {
		for (col = 0; col < o->nc; col++) {
			const char *h = o->names[col];

			if (col)
				fputc(',', o->f);
			weft_csv_field(h, strlen(h), o->f);
		}
		fputc('\n', o->f);
	} else if (o->fmt == WEFT_QOUT_JSON) {
		weft_json_init(&o->j, o->f, WEFT_JSON_ROWS);
		weft_json_begin_array(&o->j, NULL);
	}
	o->started = true;
}

/* One table cell (the formatted value in o->buf, n bytes, or NULL). */
static int
qout_cell_table(weft_qout_t *o, uint32_t col, bool null, size_t n)
{
	char *cell = null ? NULL : strndup(o->buf, n);

	if ((!null && cell == NULL) || weft_table_add(&o->tab, cell) != 0) {
		free(cell);
		return WEFT_ENOMEM;
	}
	if (!null && weft_utf8_width(o->buf, n) > o->tab.w[col])
		o->tab.w[col] = weft_utf8_width(o->buf, n);
	return 0;
}

/* Room for `need` more bytes in o->line. */
static int
qout_line_room(weft_qout_t *o, size_t need)
{
	size_t nc = o->lcap ? o->lcap : 256;
	char *nl;

	if (o->llen + need <= o->lcap)
		return 0;
	while (nc < o->llen + need)
		nc *= 2;
	if ((nl = realloc(o->line, nc)) == NULL)
		return WEFT_ENOMEM;
	o->line = nl;
	o->lcap = nc;
	return 0;
}

/* One CSV field, appended to the row in o->line (quoted as
 * weft_csv_field does): at most 2n + 3 bytes. */
static int
qout_cell_csv(weft_qout_t *o, const weft_vec_t *v, uint32_t col, bool null,
	      size_t n)
{
	const char *s = o->buf;
	char *d;
	bool q = false;
	size_t i;

	if (qout_line_room(o, 2 * n + 3) != 0)
		return WEFT_ENOMEM;
	d = o->line + o->llen;
	if (col)
		*d++ = ',';
	if (!null && v->type == WEFT_S_TEXT) {
		q = n == 0 || (n == 2 && s[0] == '\\' && s[1] == '.') ||
		    memchr(s, ',', n) || memchr(s, '"', n) ||
		    memchr(s, '\n', n) || memchr(s, '\r', n);
	}
	if (!null && !q) {
		memcpy(d, s, n);
		d += n;
	} else if (!null) {
		*d++ = '"';
		for (i = 0; i < n; i++) {
			if (s[i] == '"')
				*d++ = '"';
			*d++ = s[i];
		}
		*d++ = '"';
	}
	o->llen = (size_t)(d - o->line);
	return 0;
}

/* One JSON member: "column":value (numbers as numbers, but NaN and
 * the infinities, which JSON cannot hold, as strings). */
static void
qout_cell_json(weft_qout_t *o, const weft_vec_t *v, uint32_t col, uint32_t r,
	       bool null, size_t n)
{
	const char *h = o->names[col];

	if (null)
		weft_json_null(&o->j, h);
	else if (v->type == WEFT_S_BOOL)
		weft_json_bool(&o->j, h, v->v.b[r]);
	else if (weft_is_number(v->type) &&
		 (v->type == WEFT_S_INT32 || v->type == WEFT_S_INT64 ||
		  isfinite(v->v.f64[r])))
		weft_json_raw(&o->j, h, o->buf, n);
	else
		weft_json_string_len(&o->j, h, o->buf, n);
}

/* One row r of batch b. */
static int
qout_row(weft_qout_t *o, const weft_batch_t *b, uint32_t r)
{
	uint32_t col;

	if (o->fmt == WEFT_QOUT_JSON)
		weft_json_begin_object(&o->j, NULL);
	if (o->fmt == WEFT_QOUT_TABLE && o->nc == 0)
		o->tab.n++; /* zero-column rows still count */
	for (col = 0; col < o->nc; col++) {
		const weft_vec_t *v = &b->cols[col];
		bool null = v->nulls[r] || v->type == WEFT_S_NULL;
		size_t n = null ? 0 : weft_fmt(b, col, r, &o->buf, &o->cap);

		if (o->fmt == WEFT_QOUT_TABLE) {
			if (qout_cell_table(o, col, null, n) != 0)
				return WEFT_ENOMEM;
		} else if (o->fmt == WEFT_QOUT_CSV) {
			if (qout_cell_csv(o, v, col, null, n) != 0)
				return WEFT_ENOMEM;
		} else {
			qout_cell_json(o, v, col, r, null, n);
		}
	}
	if (o->fmt == WEFT_QOUT_CSV) {
		if (qout_line_room(o, 1) != 0)
			return WEFT_ENOMEM;
		o->line[o->llen++] = '\n';
		fwrite_unlocked(o->line, 1, o->llen, o->f);
		o->llen = 0;
	} else if (o->fmt == WEFT_QOUT_JSON)
		weft_json_end_object(&o->j);
	o->rows++;
	return 0;
}

int
weft_qout_batch(weft_qout_t *o, const weft_batch_t *b, weft_err_t *err)
{
	uint32_t r;

	if (!o->started)
		qout_start(o);
	for (r = 0; b != NULL && r < b->n; r++)
		if (qout_row(o, b, r) != 0)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	return 0;
}

int
weft_qout_end(weft_qout_t *o)
{
	if (!o->started)
		qout_start(o);
	if (o->fmt == WEFT_QOUT_TABLE) {
		if (o->nc == 0)
			fprintf(o->f, "--\n(%zu row%s)\n", o->tab.n,
				o->tab.n == 1 ? "" : "s");
		else
			weft_table_print(o, &o->tab, o->f);
	} else if (o->fmt == WEFT_QOUT_JSON) {
		weft_json_end_array(&o->j);
		if (weft_json_finish(&o->j) != 0)
			return WEFT_EIO;
		fputc('\n', o->f);
	}
	return fflush(o->f) == 0 ? 0 : WEFT_EIO;
}
