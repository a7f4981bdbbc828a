/*
 * store_int.h: internals of the store, shared by store.c (environment,
 * meta, trust), catalog.c (catalog table), product.c (products) and the
 * modules of the other tables (qcache.c, policy_store.c, budget.c,
 * audit.c) only.
 *
 * Every write goes through one path: weft_store_write() for a write that
 * fits in one call, weft_store_txn_end() for the product writer, whose
 * transaction spans many calls. Both turn LMDB's MDB_MAP_FULL into
 * "abort, grow the map, start again" (WEFT_ERETRY inside, until the map
 * reaches its cap: WEFT_EMAPFULL) and every other failure into an error
 * with a message; neither ever reports success without a commit.
 */
#ifndef WEFT_STORAGE_STORE_INT_H
#define WEFT_STORAGE_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>

#include "storage/catalog.h"
#include "storage/entry.h"
#include "storage/store.h"

struct weft_store {
	MDB_env *st_env;
	MDB_dbi st_meta, st_trust, st_catalog, st_products, st_chunks;
	MDB_dbi st_qcache; /* storage/qcache.c */
	int st_has_qcache;
	MDB_dbi st_budget; /* storage/budget.c */
	int st_has_budget;
	MDB_dbi st_audit; /* storage/audit.c */
	int st_has_audit; /* 0: a read-only open of a store without it */
	char *st_dir;
	size_t st_map_max;
	int st_readonly;
	/* Remapping (mdb_env_set_mapsize: growing the map, or adopting a
	 * map another process grew) is allowed only while no transaction
	 * of this process is open. Snapshots, which worker threads hold for
	 * a whole scan, hold this lock shared; a remap takes it exclusive,
	 * without waiting (weft_store_remap): a thread that may not block
	 * (the agent's loop) gets an error instead. Short transactions run
	 * on the thread that also remaps, so they need no lock. */
	pthread_rwlock_t st_maplock;
	int st_lock_ok;
	/* the thread that opened the store (the agent's loop): the only
	 * one that remaps, so its own short transactions, which hold no
	 * lock, never see the map move; other threads' transactions hold
	 * st_maplock shared (snapshots, weft_store_write) */
	pthread_t st_owner;
};

/*
 * Is rc a return code of an LMDB call (an MDB_* code or a positive
 * errno), rather than 0 or a negative weft / -errno code? The ranges do
 * not overlap: LMDB's own codes are MDB_KEYEXIST..MDB_LAST_ERRCODE
 * (-30799..-30780), weft's -1001.., -errno above -4096.
 */
static inline int
weft_store_is_mdb(int rc)
{
	return rc > 0 || (rc <= MDB_KEYEXIST && rc >= MDB_LAST_ERRCODE);
}

/* The version of a stored catalog envelope (verified when stored), 0
 * if it does not unpack (catalog.c). */
uint64_t weft_stored_version(const uint8_t *env, size_t len);

/* Fill err with "store: what: <LMDB message>" and return WEFT_ESTORE. */
int weft_store_mdb_err(weft_err_t *err, int rc, const char *what);
/* Set the map size (0: adopt the size in the file) if no snapshot is
 * open, on the thread that opened the store: 0, WEFT_EAGAIN (snapshots
 * are reading, or another thread asks), WEFT_ESTORE. */
int weft_store_remap(weft_store_t *st, size_t size);
/* Grow the map to at least want bytes (bounded by map_max): 0,
 * WEFT_EMAPFULL at the cap, WEFT_EAGAIN while snapshots are open,
 * WEFT_ESTORE. Only when this thread has no transaction open. */
int weft_store_grow(weft_store_t *st, size_t want);
/* Before a write of about size_hint bytes (0: nothing to do): grow the
 * map up front so the write rarely has to restart. Best effort. */
void weft_store_reserve(weft_store_t *st, size_t size_hint);
/* Begin a transaction, adopting a map grown by another process. */
int weft_store_txn_begin(weft_store_t *st, unsigned flags, MDB_txn **txn,
			 weft_err_t *err);

/*
 * The work of one write transaction, done inside txn. Returns 0 (commit
 * it), a negative weft or -errno code with err filled (abort, report
 * that), or the return code of a failed LMDB call as LMDB gave it (abort;
 * MDB_MAP_FULL grows the map and runs the work again). The work may run
 * several times: it must not keep anything a previous, aborted run did.
 */
typedef int (*weft_store_write_fn)(MDB_txn *txn, void *arg, weft_err_t *err);

/*
 * One write transaction: reserve size_hint bytes (0: none), begin, call
 * fn, commit; when fn or the commit hits MDB_MAP_FULL, abort, double the
 * map and start again from the beginning, up to the map's cap. what names
 * the operation in messages ("store: what: ..."). Returns 0 once
 * committed, else an error with err filled: fn's own, WEFT_EMAPFULL (the
 * map may not grow further; nothing was written) or WEFT_ESTORE.
 */
int weft_store_write(weft_store_t *st, size_t size_hint, const char *what,
		     weft_store_write_fn fn, void *arg, weft_err_t *err);

/*
 * End write txn given rc, the result of the work done in it (as a
 * weft_store_write_fn returns): commit if rc is 0, else abort. Returns 0
 * (committed), WEFT_ERETRY (map full: aborted and map grown; start the
 * whole operation again), WEFT_EMAPFULL, WEFT_ESTORE, or rc itself for a
 * weft error (err given a generic message if it had none). txn is gone
 * in every case.
 */
int weft_store_txn_end(weft_store_t *st, MDB_txn *txn, int rc, const char *what,
		       weft_err_t *err);

/* A snapshot's read transaction and store (for storage/ modules that
 * read through snapshots: qcache.c). */
MDB_txn *weft_snapshot_txn(weft_snapshot_t *s);
weft_store_t *weft_snapshot_store(weft_snapshot_t *s);

/* weft_snapshot_descriptors (catalog.h) inside txn. */
int weft_catalog_descriptors_txn(weft_store_t *st, MDB_txn *txn,
				 const char *name, const uint8_t *self,
				 int64_t now_us, weft_descriptor_fn fn,
				 void *arg, weft_err_t *err);

/* Trusted roots, read inside txn; *roots malloc'd. 0, WEFT_ESTORE or
 * WEFT_ENOMEM (err not filled). */
int weft_store_trust_load(weft_store_t *st, MDB_txn *txn, weft_pubkey_t **roots,
			  size_t *n);

/*
 * Verify and store an entry inside write txn (put-if-newer): the work of
 * a write transaction, so it returns 0, a negative weft error with err
 * filled, or an LMDB return code (see weft_store_write_fn).
 */
int weft_catalog_put_txn(weft_store_t *st, MDB_txn *txn, const uint8_t *env,
			 size_t len, int64_t now_us, weft_entry_info_t *info,
			 weft_err_t *err);
/* The stored envelope for a key inside txn, borrowed from the map: 0,
 * MDB_NOTFOUND, or another LMDB code. */
int weft_catalog_get_txn(weft_store_t *st, MDB_txn *txn, int kind,
			 const uint8_t origin[WEFT_PK_BYTES], const char *name,
			 MDB_val *env);
/* Version stored for a key inside txn, 0 if none. */
uint64_t weft_catalog_version_txn(weft_store_t *st, MDB_txn *txn, int kind,
				  const uint8_t origin[WEFT_PK_BYTES],
				  const char *name);

#endif
