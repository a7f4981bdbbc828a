/*
 * qcache.c: the asking node's cache of fragment results (storage/qcache.h).
 */
#include "storage/qcache.h"

#include <stdlib.h>
#include <string.h>

#include "storage/store_int.h"

#define QC_E 'e'
#define QC_L 'l'
#define QC_M 'm'
#define QC_EKEY (1 + WEFT_QCACHE_KEY)
#define QC_LKEY (1 + 8 + WEFT_QCACHE_KEY)

static void
qc_ekey(uint8_t *b, const uint8_t *key)
{
	b[0] = QC_E;
	memcpy(b + 1, key, WEFT_QCACHE_KEY);
}

static void
qc_lkey(uint8_t *b, uint64_t used, const uint8_t *key)
{
	int i;

	b[0] = QC_L;
	for (i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(used >> (56 - 8 * i));
	memcpy(b + 9, key, WEFT_QCACHE_KEY);
}

int
weft_qcache_get(weft_snapshot_t *snap, const uint8_t key[WEFT_QCACHE_KEY],
		uint8_t **val, size_t *len, weft_err_t *err)
{
	weft_store_t *st = weft_snapshot_store(snap);
	uint8_t kb[QC_EKEY];
	MDB_val k = {sizeof(kb), kb}, v;
	int rc;

	*val = NULL;
	*len = 0;
	if (!st->st_has_qcache)
		return 0;
	qc_ekey(kb, key);
	rc = mdb_get(weft_snapshot_txn(snap), st->st_qcache, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return weft_store_mdb_err(err, rc, "result cache");
	if (v.mv_size < 8)
		return 0; /* not one of ours: ignore */
	*val = malloc(v.mv_size - 8 + 1);
	if (*val == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	memcpy(*val, (const uint8_t *)v.mv_data + 8, v.mv_size - 8);
	*len = v.mv_size - 8;
	return 1;
}

static uint64_t
qc_total(weft_store_t *st, MDB_txn *txn)
{
	uint8_t m = QC_M;
	MDB_val k = {1, &m}, v;
	uint64_t t = 0;

	if (mdb_get(txn, st->st_qcache, &k, &v) == 0 && v.mv_size == 8)
		memcpy(&t, v.mv_data, 8);
	return t;
}

static int
qc_set_total(weft_store_t *st, MDB_txn *txn, uint64_t t)
{
	uint8_t m = QC_M;
	MDB_val k = {1, &m}, v = {8, &t};

	return mdb_put(txn, st->st_qcache, &k, &v, 0);
}

/* Remove key's entry (if any): its recency record too; *total adjusted. */
static int
qc_del(weft_store_t *st, MDB_txn *txn, const uint8_t *key, uint64_t *total)
{
	uint8_t kb[QC_EKEY], lb[QC_LKEY];
	MDB_val k = {sizeof(kb), kb}, v, lk = {sizeof(lb), lb};
	uint64_t used;
	int rc;

	qc_ekey(kb, key);
	rc = mdb_get(txn, st->st_qcache, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size >= 8) {
		memcpy(&used, v.mv_data, 8);
		*total -= *total < v.mv_size - 8 ? *total : v.mv_size - 8;
		qc_lkey(lb, used, key);
		rc = mdb_del(txn, st->st_qcache, &lk, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	return mdb_del(txn, st->st_qcache, &k, NULL);
}

/* Drop the least recently used entries until total + need <= cap. */
static int
qc_evict(weft_store_t *st, MDB_txn *txn, uint64_t need, uint64_t cap,
	 uint64_t *total)
{
	MDB_cursor *cur;
	uint8_t start = QC_L, victim[WEFT_QCACHE_KEY];
	MDB_val k, v;
	int rc = 0;

	while (*total + need > cap && rc == 0) {
		rc = mdb_cursor_open(txn, st->st_qcache, &cur);
		if (rc != 0)
			return rc;
		k.mv_size = 1;
		k.mv_data = &start;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == 0 && (k.mv_size != QC_LKEY ||
				((const uint8_t *)k.mv_data)[0] != QC_L))
			rc = MDB_NOTFOUND;
		if (rc == 0)
			memcpy(victim, (const uint8_t *)k.mv_data + 9,
			       WEFT_QCACHE_KEY);
		mdb_cursor_close(cur);
		if (rc == MDB_NOTFOUND) {
			*total = 0; /* nothing left: the count was stale */
			return 0;
		}
		if (rc == 0)
			rc = qc_del(st, txn, victim, total);
	}
	return rc;
}

typedef struct qc_put {
	weft_store_t *st;
	const uint8_t *key, *val;
	size_t len;
	uint64_t cap, used;
	int touch; /* only refresh the recency of an existing entry */
} qc_put_t;

static int
qc_put_work(MDB_txn *txn, void *arg, weft_err_t *err)
{
	qc_put_t *p = arg;
	weft_store_t *st = p->st;
	uint8_t kb[QC_EKEY], lb[QC_LKEY], *buf = NULL;
	MDB_val k = {sizeof(kb), kb}, v, lk = {sizeof(lb), lb}, nil = {0, ""};
	uint64_t total = qc_total(st, txn);
	int rc;

	if (p->touch) {
		qc_ekey(kb, p->key);
		rc = mdb_get(txn, st->st_qcache, &k, &v);
		if (rc != 0)
			return rc == MDB_NOTFOUND ? 0 : rc;
		buf = malloc(v.mv_size);
		if (buf == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		memcpy(buf, v.mv_data, v.mv_size);
		p->val = buf + 8;
		p->len = v.mv_size - 8;
	}
	rc = qc_del(st, txn, p->key, &total);
	if (rc == 0)
		rc = qc_evict(st, txn, p->len, p->cap, &total);
	if (rc == 0) {
		qc_ekey(kb, p->key);
		v.mv_size = 8 + p->len;
		rc = mdb_put(txn, st->st_qcache, &k, &v, MDB_RESERVE);
		if (rc == 0) {
			memcpy(v.mv_data, &p->used, 8);
			memcpy((uint8_t *)v.mv_data + 8, p->val, p->len);
		}
	}
	if (rc == 0) {
		qc_lkey(lb, p->used, p->key);
		rc = mdb_put(txn, st->st_qcache, &lk, &nil, 0);
	}
	if (rc == 0)
		rc = qc_set_total(st, txn, total + p->len);
	free(buf);
	return rc;
}

int
weft_qcache_put(weft_store_t *st, const uint8_t key[WEFT_QCACHE_KEY],
		const uint8_t *val, size_t len, uint64_t cap, int64_t now_us,
		weft_err_t *err)
{
	qc_put_t p = {st, key, val, len, cap, (uint64_t)now_us, 0};

	if (cap == 0 || len > cap / 4 || !st->st_has_qcache)
		return 1;
	return weft_store_write(st, len + 4096, "result cache", qc_put_work, &p,
				err);
}

int
weft_qcache_touch(weft_store_t *st, const uint8_t key[WEFT_QCACHE_KEY],
		  int64_t now_us, weft_err_t *err)
{
	qc_put_t p = {st, key, NULL, 0, UINT64_MAX, (uint64_t)now_us, 1};

	if (!st->st_has_qcache)
		return 0;
	return weft_store_write(st, 4096, "result cache", qc_put_work, &p, err);
}

int
weft_qcache_stat(weft_store_t *st, uint64_t *entries, uint64_t *bytes,
		 weft_err_t *err)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	uint8_t start = QC_E;
	MDB_val k = {1, &start}, v;
	int rc;

	*entries = *bytes = 0;
	if (!st->st_has_qcache)
		return 0;
	rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err);
	if (rc != 0)
		return rc;
	*bytes = qc_total(st, txn);
	rc = mdb_cursor_open(txn, st->st_qcache, &cur);
	for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size == QC_EKEY &&
	     ((const uint8_t *)k.mv_data)[0] == QC_E;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		(*entries)++;
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc == 0 || rc == MDB_NOTFOUND
		   ? 0
		   : weft_store_mdb_err(err, rc, "result cache");
}
