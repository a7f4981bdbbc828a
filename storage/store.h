/*
 * store.h: one LMDB environment per data directory, holding the node's
 * trusted roots, its catalog of signed entries and its products.
 *
 * Tables (LMDB named databases):
 *   meta      node-level settings ("node", "org", next storage id, ...)
 *   trust     org public key -> KeyFile (public part) of a trusted root
 *   catalog   kind(1) | origin(32) | name -> serialized Envelope
 *   products  name -> ProductMeta
 *   chunks    storage_id(8, BE) | column(4, BE) | chunk(4, BE) -> ColumnChunk
 *
 * Invariants: every publish, append, replace or drop is one write
 * transaction and produces a new product version; a reader's snapshot never
 * sees part of one. The environment is opened by any number of processes
 * (weft agent and the CLI) at once. When a write fails with MDB_MAP_FULL the
 * transaction is aborted and the map grown (doubling, up to map_max): a
 * write made in one call (meta, trust, catalog put, drop) is then run again
 * by the store itself, while the product writer returns WEFT_ERETRY so its
 * caller restarts the whole ingest. Past map_max a write fails with
 * WEFT_EMAPFULL and nothing is written. No write reports success without
 * a commit, and none fails without a message in err.
 *
 * Implemented by store.c (environment, meta, trust) and product.c
 * (products, snapshots, check); the catalog table is catalog.h.
 */
#ifndef WEFT_STORAGE_STORE_H
#define WEFT_STORAGE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "storage/descriptor.h"

typedef struct weft_store weft_store_t;

typedef struct weft_store_opts {
	size_t map_init; /* initial map size, bytes (0: 64 MiB) */
	size_t map_max;	 /* never grow past this (0: 1 TiB, or the
			    WEFT_MAP_MAX environment variable) */
	int create;	 /* create the directory and environment */
	int readonly;
} weft_store_opts_t;

int weft_store_open(const char *dir, const weft_store_opts_t *opts,
		    weft_store_t **out, weft_err_t *err);
/* DIR, DIR/data.mdb and DIR/lock.mdb (those that exist) are owned by
 * this user and nobody else may write them (nor read data.mdb: it holds
 * the network key); else WEFT_EPERM saying which and the chmod that
 * fixes it. weft_store_open checks it every time. */
int weft_store_dir_safe(const char *dir, weft_err_t *err);
/* Close and free. Accepts NULL. No transaction may be open. */
void weft_store_close(weft_store_t *st);
const char *weft_store_dir(const weft_store_t *st);
/*
 * On the thread that opened the store: grow the map now if fewer than
 * about 2 * bytes + 16 MiB are free, so that writes other threads make
 * soon (which may not move the map) find room. Best effort: nothing
 * happens while snapshots are open.
 */
void weft_store_prepare(weft_store_t *st, size_t bytes);

/* Current map size and bytes in use. */
int weft_store_usage(weft_store_t *st, size_t *map_size, size_t *used);

/* meta table: small strings. get returns WEFT_ENOTFOUND if absent; *val
 * is malloc'd. */
int weft_store_meta_put(weft_store_t *st, const char *key, const void *val,
			size_t len, weft_err_t *err);
int weft_store_meta_get(weft_store_t *st, const char *key, uint8_t **val,
			size_t *len, weft_err_t *err);

/* trust table. */
int weft_store_trust_add(weft_store_t *st, const weft_pubkey_t *root,
			 weft_err_t *err);
int weft_store_trust_remove(weft_store_t *st, const uint8_t pk[WEFT_PK_BYTES],
			    weft_err_t *err);
/* *roots is malloc'd; the caller frees it. */
int weft_store_trust_list(weft_store_t *st, weft_pubkey_t **roots, size_t *n,
			  weft_err_t *err);

/* ---- Products: writing ---- */

enum {
	WEFT_PUB_CREATE = 0,  /* fail if the product exists */
	WEFT_PUB_APPEND = 1,  /* add rows; schema must match */
	WEFT_PUB_REPLACE = 2, /* new contents, schema may change */
};

typedef struct weft_pwriter weft_pwriter_t;

/*
 * Begin one write transaction for product `name`. size_hint (bytes of input
 * expected) lets the store grow the map up front. For APPEND, the current
 * descriptor is available through weft_pwriter_info() and fixes the schema.
 * Errors: WEFT_EEXIST (create, exists), WEFT_ENOTFOUND (append, missing),
 * WEFT_EMAPFULL, WEFT_ESTORE.
 */
int weft_pwriter_begin(weft_store_t *st, const char *name, int mode,
		       size_t size_hint, weft_pwriter_t **out, weft_err_t *err);
/* The product's descriptor as stored (APPEND) or as being built. Borrowed;
 * the caller may fill columns, owner, description, tags, contract before
 * commit (CREATE/REPLACE). */
weft_product_info_t *weft_pwriter_info(weft_pwriter_t *w);
/*
 * Store one encoded chunk of column col. Chunks of a column are numbered
 * in order of arrival; every column must get the same number of chunks,
 * with the same row counts, before commit. May return WEFT_ERETRY (map
 * grown; the writer is aborted, start again) or WEFT_EMAPFULL.
 */
int weft_pwriter_put_chunk(weft_pwriter_t *w, uint32_t col,
			   const uint8_t *chunk, size_t len, weft_err_t *err);
/* Count rows added (once per chunk row-group, not per column). */
void weft_pwriter_add_rows(weft_pwriter_t *w, uint64_t n);
/*
 * Sign the new descriptor as `signer`, store it as a catalog entry, update
 * the product metadata and commit, all in this one transaction. Frees w in
 * every case. *version receives the new product version. May return
 * WEFT_ERETRY (the map filled up: nothing was written and the map has
 * grown; start again) or WEFT_EMAPFULL.
 */
int weft_pwriter_commit(weft_pwriter_t *w, const weft_signer_t *signer,
			uint64_t *version, weft_err_t *err);
/* Abort and free. Accepts NULL. */
void weft_pwriter_abort(weft_pwriter_t *w);

/* Drop a product: its chunks, its metadata, and a tombstone catalog entry
 * signed by signer, in one transaction. */
int weft_product_drop(weft_store_t *st, const char *name,
		      const weft_signer_t *signer, weft_err_t *err);

/* ---- Products: reading ---- */

/* Descriptor of one product (a clear *pi filled on success). */
int weft_product_get(weft_store_t *st, const char *name,
		     weft_product_info_t *pi, weft_err_t *err);
/* All products, sorted by name. *list is malloc'd; free each with
 * weft_product_info_clear and then the array. */
int weft_product_list(weft_store_t *st, weft_product_info_t **list, size_t *n,
		      weft_err_t *err);

/*
 * A read snapshot: a consistent view of every product at one moment.
 * Chunk bytes returned are valid until weft_snapshot_end().
 */
typedef struct weft_snapshot weft_snapshot_t;
int weft_snapshot_begin(weft_store_t *st, weft_snapshot_t **out,
			weft_err_t *err);
void weft_snapshot_end(weft_snapshot_t *s);
/* Product in this snapshot: *pi filled (clear it after), storage id and
 * chunk count returned. */
int weft_snapshot_product(weft_snapshot_t *s, const char *name,
			  weft_product_info_t *pi, uint64_t *storage_id,
			  uint32_t *nchunks, weft_err_t *err);
int weft_snapshot_chunk(weft_snapshot_t *s, uint64_t storage_id, uint32_t col,
			uint32_t chunk, const uint8_t **buf, size_t *len,
			weft_err_t *err);
/* Names of every product in this snapshot, sorted. *names is malloc'd
 * (free each string, then the array). */
int weft_snapshot_names(weft_snapshot_t *s, char ***names, size_t *n,
			weft_err_t *err);

/*
 * A problem found by a check, as one line of text without a newline
 * (e.g. "sales.orders: column 2 chunk 7: truncated chunk"), borrowed for
 * the duration of the call.
 */
typedef void (*weft_store_problem_fn)(void *arg, const char *what);

/*
 * Check the store: every product's chunks are present, decode, and add up
 * to its row count; every catalog entry still verifies against the trusted
 * roots and the clock. Calls fn (if not NULL) with each problem; returns
 * the number found (0 = healthy) or a negative error.
 */
int weft_store_check(weft_store_t *st, weft_store_problem_fn fn, void *arg,
		     weft_err_t *err);

#endif
