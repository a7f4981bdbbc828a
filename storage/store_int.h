/*
 * store_int.h: internals of the store, shared by store.c (environment,
 * meta, trust), catalog.c (catalog table) and product.c (products) only.
 */
#ifndef WEFT_STORAGE_STORE_INT_H
#define WEFT_STORAGE_STORE_INT_H

#include <lmdb.h>

#include "storage/catalog.h"
#include "storage/store.h"

struct weft_store {
	MDB_env *st_env;
	MDB_dbi st_meta, st_trust, st_catalog, st_products, st_chunks;
	char *st_dir;
	size_t st_map_max;
	int st_readonly;
};

/* Fill err with "store: what: <LMDB message>" and return WEFT_ESTORE. */
int weft_store_mdb_err(weft_err_t *err, int rc, const char *what);
/* Grow the map to at least want bytes (bounded by map_max): 0,
 * WEFT_EMAPFULL at the cap, WEFT_ESTORE. Only when this process has no
 * transaction open. */
int weft_store_grow(weft_store_t *st, size_t want);
/* Begin a transaction, adopting a map grown by another process. */
int weft_store_txn_begin(weft_store_t *st, unsigned flags, MDB_txn **txn,
			 weft_err_t *err);
/*
 * Turn an LMDB error inside write txn into a weft error: for MDB_MAP_FULL,
 * abort txn, grow the map and return WEFT_ERETRY (or WEFT_EMAPFULL at the
 * cap). Other errors: abort and WEFT_ESTORE. The txn is gone either way.
 */
int weft_store_txn_fail(weft_store_t *st, MDB_txn *txn, int mdb_rc,
			const char *what, weft_err_t *err);
/* Trusted roots, read inside txn; *roots malloc'd. */
int weft_store_trust_load(weft_store_t *st, MDB_txn *txn,
			  weft_pubkey_t **roots, size_t *n);
/* Verify and store inside an open write txn. Returns an LMDB error as
 * a positive number (for weft_store_txn_fail), or a negative weft error
 * with err filled, or 0. */
int weft_catalog_put_txn(weft_store_t *st, MDB_txn *txn, const uint8_t *env,
			 size_t len, int64_t now_us, weft_entry_info_t *info,
			 weft_err_t *err);
/* Version stored for a key inside txn, 0 if none. */
uint64_t weft_catalog_version_txn(weft_store_t *st, MDB_txn *txn, int kind,
				  const uint8_t origin[WEFT_PK_BYTES],
				  const char *name);

#endif
