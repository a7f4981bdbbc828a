/*
 * qcache.h: the asking node's cache of fragment results (issue #8), in
 * the store's LMDB environment (table "qcache").
 *
 * A key names exactly what a result depends on: the caller hashes the
 * fragment's bytes, the product and its version, the owner's key and the
 * asker's identity (and, once policies exist, their version) into 32
 * bytes. A product's new version makes a new key, so its old entries are
 * never found again; they age out.
 *
 * Size: at most cap bytes of values in all; a put evicts the least
 * recently used entries first (a hit refreshes its entry, weft_qcache_
 * touch). A value over cap / 4 is not stored.
 *
 * Layout in the table: 'e' key -> used_us (8) | value; 'l' used_us (8,
 * big-endian) key -> nothing (the recency index); 'm' -> total bytes (8).
 * Every change is one write transaction.
 */
#ifndef WEFT_STORAGE_QCACHE_H
#define WEFT_STORAGE_QCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "storage/store.h"

#define WEFT_QCACHE_KEY 32

/*
 * The value stored under key, read in snap: 1 and *val (malloc'd) and
 * *len, 0 if none, negative on a store error.
 */
int weft_qcache_get(weft_snapshot_t *snap, const uint8_t key[WEFT_QCACHE_KEY],
		    uint8_t **val, size_t *len, weft_err_t *err);
/* Store val under key at now_us, evicting the oldest to stay within cap
 * bytes. 0, 1 (too big for cap: not stored), or an error. */
int weft_qcache_put(weft_store_t *st, const uint8_t key[WEFT_QCACHE_KEY],
		    const uint8_t *val, size_t len, uint64_t cap,
		    int64_t now_us, weft_err_t *err);
/* Mark key used at now_us (a hit). 0, or an error. */
int weft_qcache_touch(weft_store_t *st, const uint8_t key[WEFT_QCACHE_KEY],
		      int64_t now_us, weft_err_t *err);
/* Entries and bytes held. */
int weft_qcache_stat(weft_store_t *st, uint64_t *entries, uint64_t *bytes,
		     weft_err_t *err);

#endif
