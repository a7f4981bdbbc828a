/*
 * ingest.h: streaming CSV / JSON Lines ingest into the product store.
 *
 * The input is read in bounded blocks (never whole), parsed, converted to
 * typed column buffers and written chunk by chunk into one write
 * transaction (storage/store.h), which commits with the signed descriptor
 * or not at all. Types come from a contract or an existing product
 * (append), and are otherwise inferred from the data.
 */
#ifndef WEFT_STORAGE_INGEST_H
#define WEFT_STORAGE_INGEST_H

#include <stdint.h>

#include "lib/err.h"
#include "storage/descriptor.h"
#include "storage/store.h"

enum { WEFT_FMT_AUTO = 0, WEFT_FMT_CSV = 1, WEFT_FMT_JSONL = 2 };

/*
 * Progress of an ingest: bytes_done of bytes_total input bytes read and
 * rows stored so far in this pass (a pass that restarts starts again from
 * zero rows). Called on the ingesting thread after a chunk of rows is
 * stored, at most every 100 ms, and once more with done = 1 after the
 * publish committed; not called after a failure. The callback only
 * reports (e.g. draws a progress line): it must not call into the store.
 */
typedef void (*weft_ingest_progress_fn)(void *arg, uint64_t bytes_done,
					uint64_t bytes_total, uint64_t rows,
					int done);

typedef struct weft_ingest_opts {
	const char *path; /* input file (regular file) */
	int format;	  /* WEFT_FMT_*; AUTO picks by extension/content */
	int mode;	  /* WEFT_PUB_CREATE / APPEND / REPLACE */
	/* ODCS contract, or NULL. When given its columns fix names, types and
	 * nullability (the file's header must match them), and its owner,
	 * description, tags and document go into the descriptor. */
	const weft_product_info_t *contract;
	weft_ingest_progress_fn progress; /* NULL: none */
	void *progress_arg;
	/* Who may see the descriptor (proto Visibility: 0 own org, 1 listed
	 * orgs, 2 everyone), applied when set_visibility; else a new product
	 * is own-org only and an append or replace keeps what it had. */
	int set_visibility;
	int visibility;
	const char *const *visible_to;
	size_t nvisible;
} weft_ingest_opts_t;

typedef struct weft_ingest_result {
	uint64_t rows;	  /* rows added by this ingest */
	uint64_t version; /* the product's new version */
	uint64_t bytes;	  /* input bytes read */
	double seconds;
} weft_ingest_result_t;

/*
 * Ingest opts->path into product `name`, signing the descriptor as signer.
 * On any error nothing is changed in the store and err says what, where
 * (file:line, column) and why.
 *
 * WEFT_FMT_AUTO picks JSON Lines for .jsonl, .ndjson and .json, CSV for
 * .csv, and otherwise looks at the first non-blank byte ('{': JSON Lines).
 * The file must be a regular file (it may be read more than once: a
 * widened column or a grown map restarts from byte 0). A file with a
 * header but no rows publishes zero rows when a contract or the existing
 * product gives the types, and is refused otherwise. Uses a second thread
 * for files of 4 MiB and more; res (may be NULL) is filled on success.
 * Value syntax and NULL rules: storage/value.h and storage/ingest.c.
 */
int weft_ingest(weft_store_t *st, const char *name,
		const weft_ingest_opts_t *opts, const weft_signer_t *signer,
		weft_ingest_result_t *res, weft_err_t *err);

#endif
