/*
 * ingest.c: CSV / JSON Lines files into the product store (see ingest.h).
 *
 * One ingest is a number of passes over the file, each inside its own
 * product-writer transaction; only the last, complete pass commits. A
 * pass restarts from byte 0 (lseek) when the store grew its map
 * (WEFT_ERETRY) or when an inferred column met a value that does not fit
 * its type: that column is widened and the whole file read again. Widening
 * only ever removes candidate types from a column's mask, so there are at
 * most four restarts per column.
 *
 * Types come from the contract, else from the existing product (append),
 * else from a sample of the first WEFT_INGEST_SAMPLE rows (value.h
 * explains the choice). Nullability is fixed by a contract; otherwise a
 * column is nullable iff the final pass saw a NULL in it.
 *
 * NULLs: an empty unquoted CSV field, a JSON null and an absent JSON key
 * are NULL; an empty quoted CSV field ("") or empty JSON string is the
 * empty string in a text column and NULL in any other (PostgreSQL COPY CSV
 * does the same). A file with a header and no rows publishes zero rows
 * when the types are known (contract or append) and is refused otherwise,
 * since there is nothing to infer types from.
 *
 * Pipeline: the file is read in WEFT_INGEST_BLOCK blocks (never whole, so
 * memory stays flat), parsed, and converted row by row into a batch of
 * column buffers (one chunk's worth, WEFT_CHUNK_ROWS rows); a full batch
 * is encoded and stored with weft_pwriter_put_chunk(). Files of some size
 * use both cores: a parser thread parses, checks and converts, while the
 * calling thread reads the blocks ahead (a ring of WEFT_INGEST_NBLOCK),
 * builds the text dictionaries (text values are staged as bytes by the
 * parser thread), encodes and writes, with WEFT_INGEST_NBATCH batches in
 * flight. The split keeps the two threads about equally busy on typical
 * data. All LMDB calls stay on the calling thread (a write transaction
 * belongs to the thread that began it), and so do all restarts.
 *
 * Measured (weft-gen events CSV, 3,000,000 rows, 140 MB, page cache, two
 * cores): 0.63 to 0.75 s, 4 to 4.7M rows/s, peak RSS 105 MB (most of it
 * LMDB's dirty pages); of that, about 0.2 s is the store's commit. Same
 * machine: sqlite3 .import 8.3 s; DuckDB read_csv into memory 1.2 s.
 */
#include "storage/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/utf8.h"
#include "lib/util.h"
#include "storage/chunk.h"
#include "storage/csv.h"
#include "storage/jsonl.h"
#include "storage/value.h"

#define WEFT_INGEST_BLOCK (512u << 10)
#define WEFT_INGEST_NBLOCK 4
#define WEFT_INGEST_SAMPLE 10000
#define WEFT_INGEST_NBATCH 3
#define WEFT_INGEST_THREAD_MIN (4u << 20) /* smaller files: one thread */
#define WEFT_INGEST_THREAD_COLS 128	  /* wider tables: one thread */
#define WEFT_INGEST_MAX_PASSES 64
#define WEFT_INGEST_WIDEN 1 /* internal: a column widened, restart */
/* Text bytes staged in one batch before it is sealed early (bounds the
 * memory a file of huge text values can take). */
#define WEFT_INGEST_BATCH_TEXT (16u << 20)
#define WEFT_INGEST_NULL_LEN UINT32_MAX

typedef struct weft_icol {
	char *name;	   /* owned */
	char *description; /* from the contract; owned, may be NULL */
	weft_type_t type;
	size_t src;	/* field index in the file's records */
	unsigned mask;	/* inference: candidate types left (WEFT_VM_*) */
	bool words;	/* inference: a word-form boolean was seen */
	bool fixed;	/* type given by contract or product */
	bool required;	/* a NULL is an error */
	bool null_seen; /* this pass stored a NULL */
} weft_icol_t;

/*
 * Text values of one column of a batch, staged by the producer: their
 * bytes back to back and each row's length (WEFT_INGEST_NULL_LEN for
 * NULL). The writer side pushes them into the column buffer, so the
 * dictionary hashing runs on the writer's core, not the parser's.
 */
typedef struct weft_istage {
	char *buf;
	size_t len, cap;
	uint32_t *lens; /* WEFT_CHUNK_ROWS entries */
} weft_istage_t;

typedef struct weft_ibatch {
	weft_colbuf_t **cb;   /* ncols buffers */
	weft_istage_t *stage; /* ncols; used by TEXT columns */
	size_t text_bytes;    /* bytes staged in all columns */
	uint32_t rows;
	uint64_t bytes; /* input bytes read when the batch was sealed */
	bool ready;	/* filled, waiting to be written */
	bool last;
} weft_ibatch_t;

/* A block of input read by the writer thread for the parser thread. */
typedef struct weft_iblock {
	char *buf;
	size_t len;
	bool full; /* read, not yet released by the parser */
	bool eof;  /* the read that filled it hit the end */
} weft_iblock_t;

typedef struct weft_ictx {
	weft_store_t *st;
	const char *name;
	const char *path;
	const weft_ingest_opts_t *opts;
	int fd;
	uint64_t size;
	char *block;	     /* direct reads (no ring) */
	bool eof;	     /* the parser has been fed the end */
	uint64_t bytes_read; /* bytes fed to the parser */
	/* the block ring of a threaded pass */
	bool piped; /* the parser gets blocks from the ring */
	weft_iblock_t blocks[WEFT_INGEST_NBLOCK];
	unsigned rd_i, pr_i; /* next block to read into / to parse */
	int pr_cur;	     /* block being parsed, -1 if none */
	bool rd_eof;	     /* the writer thread has read the end */
	weft_csv_t *csv;
	weft_jsonl_t *jl;
	/* schema */
	size_t nfile;  /* fields per record in the file */
	char **fnames; /* the file's column names */
	size_t ncols;
	weft_icol_t *cols;
	weft_type_t *cb_types; /* types the batches were built for */
	/* the pass */
	weft_pwriter_t *w;
	weft_ibatch_t batch[WEFT_INGEST_NBATCH];
	unsigned fill_i, drain_i;
	uint64_t rows; /* rows written in this pass */
	/* threads */
	bool threaded;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;  /* the writer failed: the producer must quit */
	bool pdone; /* the producer has finished */
	int prc;    /* its result */
	weft_err_t perr;
	/* progress */
	uint64_t t0, last_shown;
} weft_ictx_t;

/* ---- small helpers ---- */

/* Render a value for an error message: at most ~60 bytes, escaped. */
static const char *
weft_ingest_show(char out[128], const char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len && o < 60; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, 8, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
	return out;
}

static uint64_t
weft_ingest_line(const weft_ictx_t *x)
{
	return x->csv != NULL ? weft_csv_line(x->csv) : weft_jsonl_line(x->jl);
}

static ssize_t
weft_ingest_read(weft_ictx_t *x, char *buf, weft_err_t *err)
{
	ssize_t n;

	do
		n = read(x->fd, buf, WEFT_INGEST_BLOCK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return weft_err_set(err, WEFT_EIO, "%s: read: %s", x->path,
				    strerror(errno));
	return n;
}

/*
 * Feed the parser its next block: read directly, or (threaded pass) take
 * the next block of the ring, first releasing the one it has finished
 * with. 0, or an error; WEFT_ERETRY when the writer side has stopped.
 */
static int
weft_ingest_refill(weft_ictx_t *x, weft_err_t *err)
{
	const char *buf = x->block;
	ssize_t n;

	if (!x->piped) {
		n = weft_ingest_read(x, x->block, err);
		if (n < 0)
			return (int)n;
		x->eof = n == 0;
	} else {
		weft_iblock_t *bk = &x->blocks[x->pr_i];

		pthread_mutex_lock(&x->mu);
		if (x->pr_cur >= 0) {
			x->blocks[x->pr_cur].full = false;
			pthread_cond_broadcast(&x->cv);
		}
		while (!bk->full && !x->stop)
			pthread_cond_wait(&x->cv, &x->mu);
		pthread_mutex_unlock(&x->mu);
		/* Stopped: the writer side has the error to report. */
		if (!bk->full)
			return WEFT_ERETRY;
		x->pr_cur = (int)x->pr_i;
		x->pr_i = (x->pr_i + 1) % WEFT_INGEST_NBLOCK;
		buf = bk->buf;
		n = (ssize_t)bk->len;
		x->eof = bk->eof;
	}
	x->bytes_read += (uint64_t)n;
	if (x->csv != NULL)
		weft_csv_feed(x->csv, buf, (size_t)n, x->eof);
	else
		weft_jsonl_feed(x->jl, buf, (size_t)n, x->eof);
	return 0;
}

/* Next record of the file, reading blocks as needed: 1, 0 at the end,
 * or an error. */
static int
weft_ingest_next(weft_ictx_t *x, const weft_field_t **f, size_t *nf,
		 weft_err_t *err)
{
	for (;;) {
		int rc;

		rc = x->csv != NULL ? weft_csv_next(x->csv, f, nf, err)
				    : weft_jsonl_next(x->jl, f, nf, err);
		if (rc != 0 || x->eof)
			return rc;
		rc = weft_ingest_refill(x, err);
		if (rc != 0)
			return rc;
	}
}

/* Back to byte 0 with a fresh parser; for CSV the header is skipped. */
static int
weft_ingest_rewind(weft_ictx_t *x, weft_err_t *err)
{
	const weft_field_t *f;
	size_t nf;
	int rc;

	if (lseek(x->fd, 0, SEEK_SET) != 0)
		return weft_err_set(err, WEFT_EIO, "%s: seek: %s", x->path,
				    strerror(errno));
	x->eof = false;
	x->bytes_read = 0;
	if (x->csv != NULL) {
		weft_csv_reset(x->csv);
		rc = weft_ingest_next(x, &f, &nf, err);
		if (rc == 0)
			return weft_err_set(err, WEFT_EPARSE,
					    "%s: empty file (no header row)",
					    x->path);
		return rc < 0 ? rc : 0;
	}
	weft_jsonl_reset(x->jl);
	return 0;
}

/* ---- schema ---- */

/* Read the column names: the CSV header or the first JSON object's keys. */
static int
weft_ingest_header(weft_ictx_t *x, weft_err_t *err)
{
	const weft_field_t *f;
	size_t nf, i, j;
	int rc;

	if (lseek(x->fd, 0, SEEK_SET) != 0)
		return weft_err_set(err, WEFT_EIO, "%s: seek: %s", x->path,
				    strerror(errno));
	rc = weft_ingest_next(x, &f, &nf, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return weft_err_set(err, WEFT_EPARSE,
				    x->csv != NULL
					? "%s: empty file (no header row)"
					: "%s: empty file (no JSON object)",
				    x->path);
	if (x->jl != NULL)
		nf = weft_jsonl_ncols(x->jl);
	x->fnames = calloc(nf, sizeof(*x->fnames));
	if (x->fnames == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	x->nfile = nf;
	for (i = 0; i < nf; i++) {
		const char *s;
		size_t len;
		weft_err_t e2 = {0};

		if (x->csv != NULL) {
			s = f[i].ptr;
			len = f[i].len;
		} else {
			s = weft_jsonl_colname(x->jl, i, &len);
		}
		if (weft_utf8_check(s, len) != len)
			return weft_err_set(
			    err, WEFT_EINVAL,
			    "%s:%llu: column %zu: name is not valid UTF-8",
			    x->path, (unsigned long long)weft_ingest_line(x),
			    i + 1);
		x->fnames[i] = strndup(s, len);
		if (x->fnames[i] == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		if (weft_column_name_check(x->fnames[i], &e2) != 0)
			return weft_err_set(
			    err, WEFT_EINVAL, "%s:%llu: column %zu: %s",
			    x->path, (unsigned long long)weft_ingest_line(x),
			    i + 1, e2.msg);
		for (j = 0; j < i; j++)
			if (strcmp(x->fnames[j], x->fnames[i]) == 0)
				return weft_err_set(
				    err, WEFT_EINVAL,
				    "%s:%llu: duplicate column name \"%s\"",
				    x->path,
				    (unsigned long long)weft_ingest_line(x),
				    x->fnames[i]);
	}
	return 0;
}

static void
weft_ingest_cols_free(weft_ictx_t *x)
{
	size_t i;

	for (i = 0; i < x->ncols; i++) {
		free(x->cols[i].name);
		free(x->cols[i].description);
	}
	free(x->cols);
	x->cols = NULL;
	x->ncols = 0;
}

/*
 * Columns from a schema (contract or stored product), matched to the
 * file's columns by name. `what` names the schema in the message.
 */
static int
weft_ingest_cols_from(weft_ictx_t *x, const weft_column_t *sc, size_t n,
		      bool strict_null, const char *what, weft_err_t *err)
{
	char msg[512];
	size_t i, j, o = 0;

	weft_ingest_cols_free(x);
	x->cols = calloc(n ? n : 1, sizeof(*x->cols));
	if (x->cols == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	msg[0] = 0;
	for (i = 0; i < n; i++) {
		weft_icol_t *c = &x->cols[x->ncols++];

		c->name = strdup(sc[i].name);
		c->description =
		    sc[i].description ? strdup(sc[i].description) : NULL;
		if (c->name == NULL ||
		    (sc[i].description != NULL && c->description == NULL))
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		c->type = sc[i].type;
		c->fixed = true;
		c->required = strict_null && !sc[i].nullable;
		c->src = SIZE_MAX;
		for (j = 0; j < i; j++)
			if (strcmp(sc[j].name, c->name) == 0)
				return weft_err_set(
				    err, WEFT_ESCHEMA,
				    "%s: column \"%s\" is listed twice", what,
				    c->name);
		if (c->type < WEFT_T_BOOL || c->type > WEFT_T_TIMESTAMP)
			return weft_err_set(
			    err, WEFT_ESCHEMA,
			    "%s: column \"%s\" has no usable type", what,
			    c->name);
		for (j = 0; j < x->nfile; j++)
			if (strcmp(x->fnames[j], c->name) == 0)
				c->src = j;
		if (c->src == SIZE_MAX && o < sizeof(msg))
			o += (size_t)snprintf(msg + o, sizeof(msg) - o,
					      "%sfile has no column \"%s\"",
					      o ? "; " : "", c->name);
	}
	for (j = 0; j < x->nfile; j++) {
		for (i = 0; i < n; i++)
			if (strcmp(x->fnames[j], sc[i].name) == 0)
				break;
		if (i == n && o < sizeof(msg))
			o +=
			    (size_t)snprintf(msg + o, sizeof(msg) - o,
					     "%s%s has no column \"%s\"",
					     o ? "; " : "", what, x->fnames[j]);
	}
	if (o > 0 && strcmp(what, "product") == 0)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "%s: columns do not match product \"%s\": "
				    "%s",
				    x->path, x->name, msg);
	if (o > 0)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "%s: %s does not match file: %s", x->path,
				    what, msg);
	return 0;
}

/* Inferred columns: one per file column, every type still possible. */
static int
weft_ingest_cols_infer(weft_ictx_t *x, weft_err_t *err)
{
	size_t i;

	x->cols = calloc(x->nfile, sizeof(*x->cols));
	if (x->cols == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (i = 0; i < x->nfile; i++) {
		weft_icol_t *c = &x->cols[x->ncols++];

		c->name = strdup(x->fnames[i]);
		if (c->name == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		c->src = i;
		c->mask = WEFT_VM_ALL;
	}
	return 0;
}

/* Is field v NULL in a column of type t? */
static inline bool
weft_ingest_isnull(const weft_field_t *v, weft_type_t t)
{
	return v->len == 0 && (v->kind == WEFT_FK_RAW ||
			       v->kind == WEFT_FK_NULL || t != WEFT_T_TEXT);
}

/* Sample the first rows to pick the narrowest type of every column.
 * Returns the number of rows seen, or an error. */
static int64_t
weft_ingest_sample(weft_ictx_t *x, weft_err_t *err)
{
	const weft_field_t *f;
	int64_t rows = 0;
	size_t nf, c;
	int rc;

	rc = weft_ingest_rewind(x, err);
	if (rc < 0)
		return rc;
	while (rows < WEFT_INGEST_SAMPLE) {
		rc = weft_ingest_next(x, &f, &nf, err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		rows++;
		for (c = 0; c < x->ncols; c++) {
			weft_icol_t *col = &x->cols[c];
			const weft_field_t *v = &f[col->src];
			unsigned m;

			if (v->len == 0 || col->mask == 0)
				continue;
			m = weft_value_classify(v->ptr, v->len, v->kind);
			col->mask &= m & WEFT_VM_ALL;
			col->words |= (m & WEFT_VM_WORD) != 0;
		}
	}
	for (c = 0; c < x->ncols; c++)
		x->cols[c].type =
		    weft_value_pick(x->cols[c].mask, x->cols[c].words);
	return rows;
}

/* ---- batches ---- */

static void
weft_ingest_batches_free(weft_ictx_t *x)
{
	size_t b, c;

	for (b = 0; b < WEFT_INGEST_NBATCH; b++) {
		for (c = 0; c < x->ncols; c++) {
			if (x->batch[b].cb != NULL)
				weft_colbuf_free(x->batch[b].cb[c]);
			if (x->batch[b].stage != NULL) {
				free(x->batch[b].stage[c].buf);
				free(x->batch[b].stage[c].lens);
			}
		}
		free(x->batch[b].cb);
		free(x->batch[b].stage);
		x->batch[b].cb = NULL;
		x->batch[b].stage = NULL;
	}
}

/* Empty batches (WEFT_INGEST_NBATCH with two threads, else one) whose
 * buffers have the columns' current types. */
static int
weft_ingest_batches_prepare(weft_ictx_t *x, weft_err_t *err)
{
	size_t b, c, nb = x->threaded ? WEFT_INGEST_NBATCH : 1;

	if (x->cb_types == NULL) {
		x->cb_types =
		    calloc(x->ncols ? x->ncols : 1, sizeof(*x->cb_types));
		if (x->cb_types == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	for (b = 0; b < nb; b++) {
		weft_ibatch_t *bt = &x->batch[b];

		if (bt->cb == NULL) {
			bt->cb =
			    calloc(x->ncols ? x->ncols : 1, sizeof(*bt->cb));
			bt->stage =
			    calloc(x->ncols ? x->ncols : 1, sizeof(*bt->stage));
			if (bt->cb == NULL || bt->stage == NULL)
				return weft_err_set(err, WEFT_ENOMEM,
						    "out of memory");
		}
		bt->text_bytes = 0;
		for (c = 0; c < x->ncols; c++) {
			weft_istage_t *sg = &bt->stage[c];

			sg->len = 0;
			if (x->cols[c].type == WEFT_T_TEXT &&
			    sg->lens == NULL) {
				sg->lens =
				    malloc(WEFT_CHUNK_ROWS * sizeof(*sg->lens));
				if (sg->lens == NULL)
					return weft_err_set(err, WEFT_ENOMEM,
							    "out of memory");
			}
			if (bt->cb[c] != NULL &&
			    x->cb_types[c] == x->cols[c].type) {
				weft_colbuf_reset(bt->cb[c]);
				continue;
			}
			weft_colbuf_free(bt->cb[c]);
			bt->cb[c] = NULL;
			if (weft_colbuf_new(x->cols[c].type, &bt->cb[c]) != 0)
				return weft_err_set(err, WEFT_ENOMEM,
						    "out of memory");
		}
		bt->rows = 0;
		bt->ready = false;
		bt->last = false;
	}
	for (c = 0; c < x->ncols; c++) {
		x->cb_types[c] = x->cols[c].type;
		x->cols[c].null_seen = false;
	}
	x->fill_i = x->drain_i = 0;
	return 0;
}

/* ---- converting one row ---- */

static int
weft_ingest_misfit(weft_ictx_t *x, weft_icol_t *col, const weft_field_t *v,
		   int rc, weft_err_t *err)
{
	static const char *const nots[] = {
	    [WEFT_T_BOOL] = "is not a boolean",
	    [WEFT_T_INT64] = "is not an integer",
	    [WEFT_T_FLOAT64] = "is not a number",
	    [WEFT_T_TIMESTAMP] = "is not a timestamp (YYYY-MM-DD "
				 "[HH:MM[:SS[.ffffff]]][Z|+HH:MM])",
	};
	char shown[128];

	if (rc == WEFT_ENOMEM)
		return weft_err_set(err, rc, "out of memory");
	if (!col->fixed) {
		unsigned m = weft_value_classify(v->ptr, v->len, v->kind);
		weft_type_t t;

		col->mask &= m & WEFT_VM_ALL;
		col->words |= (m & WEFT_VM_WORD) != 0;
		t = weft_value_pick(col->mask, col->words);
		if (t != col->type) {
			col->type = t;
			return WEFT_INGEST_WIDEN;
		}
	}
	weft_ingest_show(shown, v->ptr, v->len);
	if (rc == -ERANGE)
		return weft_err_set(
		    err, WEFT_ETYPE,
		    "%s:%llu: column \"%s\": \"%s\" is out of range for %s",
		    x->path, (unsigned long long)weft_ingest_line(x), col->name,
		    shown, weft_type_name(col->type));
	return weft_err_set(err, WEFT_ETYPE,
			    "%s:%llu: column \"%s\": \"%s\" %s", x->path,
			    (unsigned long long)weft_ingest_line(x), col->name,
			    shown, nots[col->type]);
}

static int
weft_ingest_text_error(weft_ictx_t *x, weft_icol_t *col, const weft_field_t *v,
		       size_t at, weft_err_t *err)
{
	return weft_err_set(
	    err, WEFT_ETYPE, "%s:%llu: column \"%s\": %s at byte %zu", x->path,
	    (unsigned long long)weft_ingest_line(x), col->name,
	    v->ptr[at] == 0 ? "NUL byte" : "invalid UTF-8", at + 1);
}

static int
weft_ingest_stage_grow(weft_istage_t *sg, size_t need)
{
	size_t cap = sg->cap ? sg->cap : 64 * 1024;
	char *nb;

	while (cap < sg->len + need)
		cap *= 2;
	nb = realloc(sg->buf, cap);
	if (nb == NULL)
		return WEFT_ENOMEM;
	sg->buf = nb;
	sg->cap = cap;
	return 0;
}

/* Convert one record into row b->rows of the batch. 0, WEFT_INGEST_WIDEN
 * or an error. */
static int
weft_ingest_row(weft_ictx_t *x, weft_ibatch_t *b, const weft_field_t *f,
		weft_err_t *err)
{
	size_t c;

	for (c = 0; c < x->ncols; c++) {
		weft_icol_t *col = &x->cols[c];
		const weft_field_t *v = &f[col->src];
		weft_colbuf_t *cb = b->cb[c];
		int rc;

		if (weft_ingest_isnull(v, col->type)) {
			if (col->type == WEFT_T_TEXT) {
				if (col->required)
					goto required;
				col->null_seen = true;
				b->stage[c].lens[b->rows] =
				    WEFT_INGEST_NULL_LEN;
				continue;
			}
			if (col->required)
				goto required;
			col->null_seen = true;
			weft_colbuf_push_null(cb);
			continue;
		}
		switch (col->type) {
		case WEFT_T_INT64: {
			int64_t i;

			rc = weft_value_i64(v->ptr, v->len, &i);
			if (rc != 0)
				return weft_ingest_misfit(x, col, v, rc, err);
			weft_colbuf_push_i64(cb, i);
			break;
		}
		case WEFT_T_TIMESTAMP: {
			int64_t t;

			rc = weft_value_ts(v->ptr, v->len, &t);
			if (rc != 0)
				return weft_ingest_misfit(x, col, v, rc, err);
			weft_colbuf_push_i64(cb, t);
			break;
		}
		case WEFT_T_FLOAT64: {
			double d;

			rc = weft_value_f64(v->ptr, v->len, &d);
			if (rc != 0)
				return weft_ingest_misfit(x, col, v, rc, err);
			weft_colbuf_push_f64(cb, d);
			break;
		}
		case WEFT_T_BOOL: {
			bool bv;

			rc = weft_value_bool(v->ptr, v->len, &bv);
			if (rc != 0)
				return weft_ingest_misfit(x, col, v, rc, err);
			weft_colbuf_push_i64(cb, bv);
			break;
		}
		default: {
			weft_istage_t *sg = &b->stage[c];
			size_t at = weft_utf8_check(v->ptr, v->len);

			if (at != v->len)
				return weft_ingest_text_error(x, col, v, at,
							      err);
			if (sg->len + v->len > sg->cap &&
			    weft_ingest_stage_grow(sg, v->len) != 0)
				return weft_err_set(err, WEFT_ENOMEM,
						    "out of memory");
			if (v->len > 0)
				memcpy(sg->buf + sg->len, v->ptr, v->len);
			sg->len += v->len;
			sg->lens[b->rows] = v->len;
			b->text_bytes += v->len;
			break;
		}
		}
	}
	return 0;
required:
	return weft_err_set(
	    err, WEFT_ETYPE,
	    "%s:%llu: column \"%s\": missing value in a required (not "
	    "nullable) column",
	    x->path, (unsigned long long)weft_ingest_line(x), x->cols[c].name);
}

/* ---- progress ---- */

/* Report progress: at most every 100 ms, and always when final. */
static void
weft_ingest_progress(weft_ictx_t *x, uint64_t bytes, bool final)
{
	uint64_t now;

	if (x->opts->progress == NULL)
		return;
	now = weft_mono_ns();
	if (!final && now - x->last_shown < 100000000u)
		return;
	x->last_shown = now;
	x->opts->progress(x->opts->progress_arg, bytes, x->size, x->rows,
			  final);
}

/* ---- writing ---- */

/* Push a column's staged text values into its buffer. */
static int
weft_ingest_unstage(weft_colbuf_t *cb, const weft_istage_t *sg, uint32_t rows)
{
	const char *p = sg->buf;
	uint32_t i;
	int rc;

	for (i = 0; i < rows; i++) {
		uint32_t n = sg->lens[i];

		if (n == WEFT_INGEST_NULL_LEN) {
			weft_colbuf_push_null(cb);
			continue;
		}
		rc = weft_colbuf_push_text(cb, p, n);
		if (rc != 0)
			return rc;
		p += n;
	}
	return 0;
}

/* Encode and store a batch (calling thread only), then empty it. */
static int
weft_ingest_write(weft_ictx_t *x, weft_ibatch_t *b, weft_err_t *err)
{
	size_t c;
	int rc;

	if (b->rows == 0)
		return 0;
	for (c = 0; c < x->ncols; c++) {
		const uint8_t *out;
		size_t len;

		if (x->cb_types[c] == WEFT_T_TEXT) {
			rc = weft_ingest_unstage(b->cb[c], &b->stage[c],
						 b->rows);
			if (rc != 0)
				return weft_err_set(
				    err, rc, "%s: column \"%s\": %s", x->path,
				    x->cols[c].name, weft_strerror(rc));
		}
		rc = weft_colbuf_encode(b->cb[c], &out, &len);
		if (rc != 0)
			return weft_err_set(err, rc,
					    "%s: column \"%s\": "
					    "cannot encode chunk: %s",
					    x->path, x->cols[c].name,
					    weft_strerror(rc));
		rc = weft_pwriter_put_chunk(x->w, (uint32_t)c, out, len, err);
		if (rc != 0)
			return rc;
	}
	weft_pwriter_add_rows(x->w, b->rows);
	x->rows += b->rows;
	for (c = 0; c < x->ncols; c++) {
		weft_colbuf_reset(b->cb[c]);
		b->stage[c].len = 0;
	}
	b->rows = 0;
	b->text_bytes = 0;
	weft_ingest_progress(x, b->bytes, false);
	return 0;
}

/* Producer side: hand a full (or the last) batch over and get the next
 * empty one. Returns the next batch, or NULL with *rc set. */
static weft_ibatch_t *
weft_ingest_seal(weft_ictx_t *x, weft_ibatch_t *b, bool last, int *rc,
		 weft_err_t *err)
{
	b->bytes = x->bytes_read;
	b->last = last;
	if (!x->threaded) {
		*rc = weft_ingest_write(x, b, err);
		return *rc == 0 ? b : NULL;
	}
	pthread_mutex_lock(&x->mu);
	b->ready = true;
	pthread_cond_broadcast(&x->cv);
	if (last) {
		pthread_mutex_unlock(&x->mu);
		*rc = 0;
		return b;
	}
	x->fill_i = (x->fill_i + 1) % WEFT_INGEST_NBATCH;
	b = &x->batch[x->fill_i];
	while (b->ready && !x->stop)
		pthread_cond_wait(&x->cv, &x->mu);
	*rc = x->stop ? WEFT_ERETRY : 0; /* stop: the writer has an error */
	pthread_mutex_unlock(&x->mu);
	return *rc == 0 ? b : NULL;
}

/* Read, parse and convert the whole file into batches. */
static int
weft_ingest_produce(weft_ictx_t *x, weft_err_t *err)
{
	weft_ibatch_t *b = &x->batch[x->fill_i];
	const weft_field_t *f;
	size_t nf;
	int rc;

	for (;;) {
		rc = weft_ingest_next(x, &f, &nf, err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		rc = weft_ingest_row(x, b, f, err);
		if (rc != 0)
			return rc;
		if (++b->rows == WEFT_CHUNK_ROWS ||
		    b->text_bytes >= WEFT_INGEST_BATCH_TEXT) {
			b = weft_ingest_seal(x, b, false, &rc, err);
			if (b == NULL)
				return rc;
		}
	}
	weft_ingest_seal(x, b, true, &rc, err);
	return rc;
}

static void *
weft_ingest_thread(void *arg)
{
	weft_ictx_t *x = arg;
	int rc = weft_ingest_produce(x, &x->perr);

	pthread_mutex_lock(&x->mu);
	x->prc = rc;
	x->pdone = true;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/*
 * The calling thread's side of a threaded pass: write every batch the
 * parser thread fills, in order, and between batches keep the block ring
 * read ahead. Returns 0 when the last batch is written or the parser
 * thread stopped early (its result is in x->prc), else an error.
 */
static int
weft_ingest_consume(weft_ictx_t *x, weft_err_t *err)
{
	int rc = 0;

	pthread_mutex_lock(&x->mu);
	for (;;) {
		weft_ibatch_t *b = &x->batch[x->drain_i];
		weft_iblock_t *bk = &x->blocks[x->rd_i];

		if (b->ready) {
			bool last = b->last;

			pthread_mutex_unlock(&x->mu);
			rc = weft_ingest_write(x, b, err);
			pthread_mutex_lock(&x->mu);
			b->ready = false;
			pthread_cond_broadcast(&x->cv);
			if (rc != 0 || last)
				break;
			x->drain_i = (x->drain_i + 1) % WEFT_INGEST_NBATCH;
		} else if (x->pdone) {
			break;
		} else if (!x->rd_eof && !bk->full) {
			ssize_t n;

			pthread_mutex_unlock(&x->mu);
			n = weft_ingest_read(x, bk->buf, err);
			pthread_mutex_lock(&x->mu);
			if (n < 0) {
				rc = (int)n;
				break;
			}
			bk->len = (size_t)n;
			bk->eof = n == 0;
			bk->full = true;
			x->rd_eof = bk->eof;
			x->rd_i = (x->rd_i + 1) % WEFT_INGEST_NBLOCK;
			pthread_cond_broadcast(&x->cv);
		} else {
			pthread_cond_wait(&x->cv, &x->mu);
		}
	}
	if (rc != 0) {
		x->stop = true;
		pthread_cond_broadcast(&x->cv);
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/* One pass over the file into x->w. 0, WEFT_INGEST_WIDEN, WEFT_ERETRY
 * or an error. */
static int
weft_ingest_pass(weft_ictx_t *x, weft_err_t *err)
{
	pthread_t thr;
	size_t i;
	int rc;

	rc = weft_ingest_rewind(x, err);
	if (rc == 0)
		rc = weft_ingest_batches_prepare(x, err);
	if (rc != 0)
		return rc;
	x->rows = 0;
	if (!x->threaded)
		return weft_ingest_produce(x, err);
	x->stop = false;
	x->pdone = false;
	x->prc = 0;
	memset(&x->perr, 0, sizeof(x->perr));
	for (i = 0; i < WEFT_INGEST_NBLOCK; i++)
		x->blocks[i].full = false;
	x->rd_i = x->pr_i = 0;
	x->pr_cur = -1;
	x->rd_eof = x->eof;
	x->piped = true;
	if (pthread_create(&thr, NULL, weft_ingest_thread, x) != 0) {
		x->piped = false;
		x->threaded = false;
		return weft_ingest_produce(x, err);
	}
	rc = weft_ingest_consume(x, err);
	pthread_join(thr, NULL);
	x->piped = false;
	if (rc == 0 && x->prc != 0) {
		rc = x->prc;
		if (err != NULL)
			*err = x->perr;
	}
	return rc;
}

/* ---- the descriptor ---- */

static char *
weft_ingest_strdup(const char *s, bool *oom)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*oom = true;
	return d;
}

/* Columns (create/replace) or widened nullability (append), and the
 * contract's owner, description, tags and document. */
static int
weft_ingest_describe(weft_ictx_t *x, weft_product_info_t *pi, int mode,
		     weft_err_t *err)
{
	const weft_product_info_t *ct = x->opts->contract;
	bool oom = false;
	size_t i;

	if (mode == WEFT_PUB_APPEND) {
		for (i = 0; i < x->ncols; i++)
			if (x->cols[i].null_seen)
				pi->cols[i].nullable = 1;
	} else {
		for (i = 0; i < pi->ncols; i++) {
			free(pi->cols[i].name);
			free(pi->cols[i].description);
		}
		free(pi->cols);
		pi->ncols = 0;
		pi->cols = calloc(x->ncols, sizeof(*pi->cols));
		if (pi->cols == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		for (i = 0; i < x->ncols; i++) {
			weft_column_t *c = &pi->cols[pi->ncols++];

			c->name = weft_ingest_strdup(x->cols[i].name, &oom);
			c->description =
			    weft_ingest_strdup(x->cols[i].description, &oom);
			c->type = x->cols[i].type;
			c->nullable = ct != NULL ? !x->cols[i].required
						 : x->cols[i].null_seen;
		}
	}
	if (x->opts->set_visibility) {
		for (i = 0; i < pi->nvisible; i++)
			free(pi->visible_to[i]);
		free(pi->visible_to);
		pi->visible_to = NULL;
		pi->nvisible = 0;
		pi->visibility = x->opts->visibility;
		for (i = 0; i < x->opts->nvisible && !oom; i++)
			if (weft_strlist_add(&pi->visible_to, &pi->nvisible,
					     x->opts->visible_to[i]) != 0)
				oom = true;
	}
	if (ct != NULL) {
		if (ct->owner != NULL) {
			free(pi->owner);
			pi->owner = weft_ingest_strdup(ct->owner, &oom);
		}
		if (ct->description != NULL) {
			free(pi->description);
			pi->description =
			    weft_ingest_strdup(ct->description, &oom);
		}
		if (ct->ntags > 0) {
			for (i = 0; i < pi->ntags; i++)
				free(pi->tags[i]);
			free(pi->tags);
			pi->tags = NULL;
			pi->ntags = 0;
			for (i = 0; i < ct->ntags && !oom; i++)
				if (weft_strlist_add(&pi->tags, &pi->ntags,
						     ct->tags[i]) != 0)
					oom = true;
		}
		if (ct->contract_yaml != NULL && ct->contract_len > 0) {
			free(pi->contract_yaml);
			pi->contract_len = 0;
			pi->contract_yaml = malloc(ct->contract_len);
			if (pi->contract_yaml == NULL) {
				oom = true;
			} else {
				memcpy(pi->contract_yaml, ct->contract_yaml,
				       ct->contract_len);
				pi->contract_len = ct->contract_len;
			}
		}
	}
	return oom ? weft_err_set(err, WEFT_ENOMEM, "out of memory") : 0;
}

/* For an append: the product's schema fixes the columns (and a given
 * contract must agree with it). */
static int
weft_ingest_append_schema(weft_ictx_t *x, const weft_product_info_t *pi,
			  weft_err_t *err)
{
	const weft_product_info_t *ct = x->opts->contract;
	size_t i, j;

	if (ct != NULL) {
		bool same = ct->ncols == pi->ncols;

		for (i = 0; same && i < ct->ncols; i++) {
			for (j = 0; j < pi->ncols; j++)
				if (strcmp(ct->cols[i].name,
					   pi->cols[j].name) == 0)
					break;
			same = j < pi->ncols &&
			       ct->cols[i].type == pi->cols[j].type;
		}
		if (!same)
			return weft_err_set(
			    err, WEFT_ESCHEMA,
			    "contract does not match product \"%s\" (its "
			    "columns or types differ; use --replace)",
			    x->name);
	}
	return weft_ingest_cols_from(x, pi->cols, pi->ncols,
				     pi->contract_yaml != NULL || ct != NULL,
				     "product", err);
}

/* ---- the entry point ---- */

static int
weft_ingest_format(const char *path, int fd, int format)
{
	const char *dot = strrchr(path, '.');
	char buf[256];
	ssize_t n, i;

	if (format != WEFT_FMT_AUTO)
		return format;
	if (dot != NULL &&
	    (strcasecmp(dot, ".jsonl") == 0 ||
	     strcasecmp(dot, ".ndjson") == 0 || strcasecmp(dot, ".json") == 0))
		return WEFT_FMT_JSONL;
	if (dot != NULL && strcasecmp(dot, ".csv") == 0)
		return WEFT_FMT_CSV;
	n = pread(fd, buf, sizeof(buf), 0);
	for (i = 0; i < n; i++) {
		if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
		    buf[i] == '\n')
			continue;
		return buf[i] == '{' ? WEFT_FMT_JSONL : WEFT_FMT_CSV;
	}
	return WEFT_FMT_CSV;
}

static void
weft_ingest_ctx_free(weft_ictx_t *x)
{
	size_t i;

	weft_ingest_batches_free(x);
	weft_ingest_cols_free(x);
	for (i = 0; i < x->nfile && x->fnames != NULL; i++)
		free(x->fnames[i]);
	free(x->fnames);
	free(x->cb_types);
	weft_csv_free(x->csv);
	weft_jsonl_free(x->jl);
	free(x->block);
	for (i = 0; i < WEFT_INGEST_NBLOCK; i++)
		free(x->blocks[i].buf);
	if (x->fd >= 0)
		close(x->fd);
	pthread_mutex_destroy(&x->mu);
	pthread_cond_destroy(&x->cv);
}

/*
 * Open the input and read its header: the file (a regular one), its
 * format and parser, the column names, and whether a second thread
 * helps. 0 or an error.
 */
static int
weft_ingest_open(weft_ictx_t *x, weft_err_t *err)
{
	struct stat sb;
	size_t i;
	int rc, format;

	x->fd = open(x->path, O_RDONLY | O_CLOEXEC);
	if (x->fd < 0)
		return weft_err_set(err, -errno, "%s: cannot open: %s", x->path,
				    strerror(errno));
	if (fstat(x->fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return weft_err_set(err, WEFT_EINVAL, "%s: %s", x->path,
				    S_ISDIR(sb.st_mode) ? "is a directory"
							: "not a regular file");
	x->size = (uint64_t)sb.st_size;
	(void)posix_fadvise(x->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	format = weft_ingest_format(x->path, x->fd, x->opts->format);
	x->block = malloc(WEFT_INGEST_BLOCK);
	rc = format == WEFT_FMT_JSONL ? weft_jsonl_new(x->path, &x->jl)
				      : weft_csv_new(x->path, &x->csv);
	if (x->block == NULL || rc != 0)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	rc = weft_ingest_header(x, err);
	if (rc != 0)
		return rc;
	/* Two threads for files of some size, unless the table is so wide
	 * that several batches of column buffers would take too much
	 * memory. */
	x->threaded = x->size >= WEFT_INGEST_THREAD_MIN &&
		      x->nfile <= WEFT_INGEST_THREAD_COLS &&
		      sysconf(_SC_NPROCESSORS_ONLN) > 1;
	for (i = 0; x->threaded && i < WEFT_INGEST_NBLOCK; i++)
		if ((x->blocks[i].buf = malloc(WEFT_INGEST_BLOCK)) == NULL)
			x->threaded = false;
	return 0;
}

/* Types: the contract's, else inferred from a sample (an append maps
 * the product's inside each pass). 0 or an error. */
static int
weft_ingest_types(weft_ictx_t *x, weft_err_t *err)
{
	const weft_product_info_t *ct = x->opts->contract;
	int64_t n;
	int rc;

	if (x->opts->mode == WEFT_PUB_APPEND)
		return 0;
	if (ct != NULL)
		return weft_ingest_cols_from(x, ct->cols, ct->ncols, true,
					     "contract", err);
	rc = weft_ingest_cols_infer(x, err);
	n = rc == 0 ? weft_ingest_sample(x, err) : rc;
	if (n == 0)
		return weft_err_set(err, WEFT_EPARSE,
				    "%s: no data rows (column types cannot be "
				    "inferred; give a contract)",
				    x->path);
	return n < 0 ? (int)n : 0;
}

/*
 * The passes: each in its own product-writer transaction, restarted from
 * byte 0 when a column widened or the map grew, until one commits. 0 (res
 * filled) or an error.
 */
static int
weft_ingest_passes(weft_ictx_t *x, const weft_signer_t *signer,
		   weft_ingest_result_t *res, weft_err_t *err)
{
	const weft_ingest_opts_t *opts = x->opts;
	int rc, pass;

	for (pass = 0;; pass++) {
		weft_product_info_t *pi;
		uint64_t version = 0;

		if (pass == WEFT_INGEST_MAX_PASSES)
			return weft_err_set(err, WEFT_ESTORE,
					    "%s: gave up after %d restarts",
					    x->path, pass);
		rc = weft_pwriter_begin(x->st, x->name, opts->mode, x->size,
					&x->w, err);
		if (rc != 0)
			return rc;
		pi = weft_pwriter_info(x->w);
		if (opts->mode == WEFT_PUB_APPEND) {
			/* The schema is read inside each pass's transaction. */
			weft_ingest_batches_free(x);
			free(x->cb_types);
			x->cb_types = NULL;
			rc = weft_ingest_append_schema(x, pi, err);
			if (rc != 0)
				return rc;
		}
		rc = weft_ingest_pass(x, err);
		if (rc == 0)
			rc = weft_ingest_describe(x, pi, opts->mode, err);
		if (rc == 0) {
			rc = weft_pwriter_commit(x->w, signer, &version, err);
			x->w = NULL;
			if (rc == 0) {
				weft_ingest_progress(x, x->bytes_read, true);
				if (res != NULL) {
					res->rows = x->rows;
					res->version = version;
					res->bytes = x->bytes_read;
				}
				return 0;
			}
		}
		weft_pwriter_abort(x->w);
		x->w = NULL;
		if (rc != WEFT_INGEST_WIDEN && rc != WEFT_ERETRY)
			return rc;
		if (err != NULL)
			memset(err, 0, sizeof(*err));
	}
}

int
weft_ingest(weft_store_t *st, const char *name, const weft_ingest_opts_t *opts,
	    const weft_signer_t *signer, weft_ingest_result_t *res,
	    weft_err_t *err)
{
	weft_ictx_t x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.fd = -1;
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.cv, NULL);
	x.t0 = weft_mono_ns();
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (opts == NULL || opts->path == NULL || name == NULL) {
		rc = weft_err_set(err, WEFT_EINVAL, "ingest: no input file");
		goto out;
	}
	x.st = st;
	x.name = name;
	x.path = opts->path;
	x.opts = opts;
	rc = weft_product_name_check(name, err);
	if (rc != 0)
		goto out;
	if (opts->contract != NULL && opts->contract->ncols == 0) {
		rc = weft_err_set(err, WEFT_ESCHEMA, "contract has no columns");
		goto out;
	}
	rc = weft_ingest_open(&x, err);
	if (rc == 0)
		rc = weft_ingest_types(&x, err);
	if (rc == 0)
		rc = weft_ingest_passes(&x, signer, res, err);
out:
	weft_pwriter_abort(x.w);
	if (res != NULL)
		res->seconds = (double)(weft_mono_ns() - x.t0) / 1e9;
	weft_ingest_ctx_free(&x);
	return rc;
}
