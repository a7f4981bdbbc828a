/*
 * product.c: the product store: product metadata, the product writer
 * (one write transaction per publish, append or replace), drop, reading
 * through snapshots, and the store check. Declared in store.h.
 *
 * Chunk keys are storage_id(8) | chunk(4) | column(4), all big-endian, so
 * an ingest writes keys in strictly increasing order and can use
 * MDB_APPEND. A --replace gets a fresh storage_id and deletes the old
 * range in the same transaction. A publish or drop signs its descriptor
 * entry and stores it in the catalog table (catalog.c) inside its own
 * transaction. See store.h for the invariants.
 */
#include "storage/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "storage/catalog.h"
#include "storage/chunk.h"
#include "storage/entry.h"
#include "storage/store_int.h"
#include "weft.pb-c.h"

#define WEFT_CHUNK_KEY 16

/* ---- product metadata ---- */

typedef struct weft_pmeta {
	uint64_t storage_id, version, row_count;
	uint32_t chunk_count;
	int64_t created_at, updated_at;
} weft_pmeta_t;

/* Read a ProductMeta inside txn: 0, WEFT_ENOTFOUND or WEFT_ECORRUPT. */
static int
weft_pmeta_read(weft_store_t *st, MDB_txn *txn, const char *name,
		weft_pmeta_t *pm, weft_product_info_t *pi, weft_err_t *err)
{
	MDB_val k = {strlen(name), (void *)name}, v;
	Weft__ProductMeta *m;
	int rc;

	rc = mdb_get(txn, st->st_products, &k, &v);
	if (rc == MDB_NOTFOUND)
		return weft_err_set(err, WEFT_ENOTFOUND,
				    "no product \"%s\" on this node", name);
	if (rc != 0)
		return weft_store_mdb_err(err, rc, "products");
	m = weft__product_meta__unpack(NULL, v.mv_size, v.mv_data);
	if (m == NULL)
		return weft_err_set(err, WEFT_ECORRUPT,
				    "product \"%s\": corrupt metadata", name);
	pm->storage_id = m->storage_id;
	pm->version = m->version;
	pm->row_count = m->row_count;
	pm->chunk_count = m->chunk_count;
	pm->created_at = m->created_at;
	pm->updated_at = m->updated_at;
	rc = 0;
	if (pi != NULL)
		rc = weft_product_info_decode(m->descriptor.data,
					      m->descriptor.len, pi, err);
	weft__product_meta__free_unpacked(m, NULL);
	return rc;
}

/* Store a ProductMeta inside txn: 0, a weft error with err filled, or an
 * LMDB code (a weft_store_write_fn result). */
static int
weft_pmeta_write(weft_store_t *st, MDB_txn *txn, const weft_pmeta_t *pm,
		 const weft_product_info_t *pi, weft_err_t *err)
{
	Weft__ProductMeta m = WEFT__PRODUCT_META__INIT;
	uint8_t *db = NULL, *buf = NULL;
	size_t dl, len;
	MDB_val k, v;
	int rc;

	rc = weft_product_info_encode(pi, &db, &dl);
	if (rc != 0)
		return weft_err_set(err, rc, "cannot encode product metadata");
	m.name = pi->name;
	m.storage_id = pm->storage_id;
	m.version = pm->version;
	m.row_count = pm->row_count;
	m.chunk_count = pm->chunk_count;
	m.created_at = pm->created_at;
	m.updated_at = pm->updated_at;
	m.descriptor.data = db;
	m.descriptor.len = dl;
	len = weft__product_meta__get_packed_size(&m);
	buf = malloc(len);
	if (buf == NULL) {
		free(db);
		return weft_err_set(err, WEFT_ENOMEM,
				    "cannot encode product metadata");
	}
	weft__product_meta__pack(&m, buf);
	free(db);
	k.mv_size = strlen(pi->name);
	k.mv_data = pi->name;
	v.mv_size = len;
	v.mv_data = buf;
	rc = mdb_put(txn, st->st_products, &k, &v, 0);
	free(buf);
	return rc;
}

static void
weft_chunk_key(uint8_t key[WEFT_CHUNK_KEY], uint64_t sid, uint32_t chunk,
	       uint32_t col)
{
	int i;

	for (i = 0; i < 8; i++)
		key[i] = (uint8_t)(sid >> (56 - 8 * i));
	for (i = 0; i < 4; i++) {
		key[8 + i] = (uint8_t)(chunk >> (24 - 8 * i));
		key[12 + i] = (uint8_t)(col >> (24 - 8 * i));
	}
}

/* Delete every chunk of storage id sid. Returns an LMDB code. */
static int
weft_chunks_delete(weft_store_t *st, MDB_txn *txn, uint64_t sid)
{
	uint8_t key[WEFT_CHUNK_KEY];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	weft_chunk_key(key, sid, 0, 0);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	rc = mdb_cursor_open(txn, st->st_chunks, &cur);
	if (rc != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == WEFT_CHUNK_KEY &&
	       memcmp(k.mv_data, key, 8) == 0) {
		rc = mdb_cursor_del(cur, 0);
		if (rc != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == EINVAL ? 0 : rc;
}

/* Allocate a fresh storage id from meta "next_sid". LMDB code or 0. */
static int
weft_sid_next(weft_store_t *st, MDB_txn *txn, uint64_t *sid)
{
	static const char key[] = "next_sid";
	MDB_val k = {sizeof(key) - 1, (void *)key}, v;
	uint64_t n = 1;
	int rc;

	rc = mdb_get(txn, st->st_meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		memcpy(&n, v.mv_data, 8);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	*sid = n;
	n++;
	v.mv_size = 8;
	v.mv_data = &n;
	return mdb_put(txn, st->st_meta, &k, &v, 0);
}

/* ---- product writer ---- */

struct weft_pwriter {
	weft_store_t *pw_st;
	MDB_txn *pw_txn;
	int pw_mode;
	char *pw_name;
	weft_product_info_t pw_info;
	weft_pmeta_t pw_old; /* valid if pw_exists */
	int pw_exists;
	uint64_t pw_sid;
	uint32_t pw_base;    /* first new chunk number */
	uint32_t *pw_chunks; /* chunks written per column */
	size_t pw_ncols_alloc;
	uint64_t pw_rows_added;
	uint64_t pw_prev_version; /* highest version seen for the name */
};

/*
 * Begin the writer's transaction and read what it builds on: the
 * product's current metadata and, for CREATE and REPLACE, a fresh storage
 * id. 0, WEFT_ERETRY (the map grew while taking the id: start again) or
 * an error; on error the transaction is gone.
 */
static int
weft_pwriter_start(weft_pwriter_t *w, weft_err_t *err)
{
	weft_store_t *st = w->pw_st;
	int rc;

	weft_product_info_clear(&w->pw_info);
	w->pw_exists = 0;
	w->pw_prev_version = 0;
	rc = weft_store_txn_begin(st, 0, &w->pw_txn, err);
	if (rc != 0)
		return rc;
	rc = weft_pmeta_read(st, w->pw_txn, w->pw_name, &w->pw_old, &w->pw_info,
			     err);
	if (rc == 0) {
		w->pw_exists = 1;
		w->pw_prev_version = w->pw_old.version;
	} else if (rc != WEFT_ENOTFOUND) {
		goto fail;
	}
	rc = 0;
	if (w->pw_mode == WEFT_PUB_CREATE && w->pw_exists) {
		rc = weft_err_set(
		    err, WEFT_EEXIST,
		    "product \"%s\" already exists at version %llu (use "
		    "--append or --replace)",
		    w->pw_name, (unsigned long long)w->pw_old.version);
	} else if (w->pw_mode == WEFT_PUB_APPEND && !w->pw_exists) {
		rc = weft_err_set(
		    err, WEFT_ENOTFOUND,
		    "cannot append: no product \"%s\" on this node",
		    w->pw_name);
	} else if (w->pw_mode == WEFT_PUB_APPEND) {
		w->pw_sid = w->pw_old.storage_id;
		w->pw_base = w->pw_old.chunk_count;
	} else {
		/* CREATE, or REPLACE: a fresh descriptor and storage id.
		 * Keep created_at and version history across a replace. */
		int64_t created = w->pw_info.created_at;

		weft_product_info_clear(&w->pw_info);
		w->pw_info.created_at = w->pw_exists ? created : 0;
		rc = weft_sid_next(st, w->pw_txn, &w->pw_sid);
	}
	if (rc == 0)
		return 0;
fail:
	rc = weft_store_txn_end(st, w->pw_txn, rc, "publish", err);
	w->pw_txn = NULL;
	return rc;
}

int
weft_pwriter_begin(weft_store_t *st, const char *name, int mode,
		   size_t size_hint, weft_pwriter_t **out, weft_err_t *err)
{
	weft_pwriter_t *w;
	int rc;

	*out = NULL;
	if (st->st_readonly)
		return weft_err_set(err, WEFT_EINVAL, "store is read-only");
	rc = weft_product_name_check(name, err);
	if (rc != 0)
		return rc;
	/* Grow up front so a big ingest rarely has to restart. */
	weft_store_reserve(st, size_hint);
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	w->pw_st = st;
	w->pw_mode = mode;
	w->pw_name = strdup(name);
	if (w->pw_name == NULL) {
		free(w);
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	do
		rc = weft_pwriter_start(w, err);
	while (rc == WEFT_ERETRY);
	if (rc != 0)
		goto fail;
	free(w->pw_info.name);
	w->pw_info.name = strdup(name);
	if (w->pw_info.name == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto fail;
	}
	*out = w;
	return 0;
fail:
	weft_pwriter_abort(w);
	return rc;
}

weft_product_info_t *
weft_pwriter_info(weft_pwriter_t *w)
{
	return &w->pw_info;
}

static int
weft_pwriter_cols(weft_pwriter_t *w, uint32_t col)
{
	size_t n = w->pw_ncols_alloc;

	if (col < n)
		return 0;
	if (col >= WEFT_COLS_MAX)
		return WEFT_EINVAL;
	n = col + 16 < WEFT_COLS_MAX ? col + 16 : WEFT_COLS_MAX;
	uint32_t *c = realloc(w->pw_chunks, n * sizeof(uint32_t));

	if (c == NULL)
		return WEFT_ENOMEM;
	w->pw_chunks = c;
	memset(c + w->pw_ncols_alloc, 0,
	       (n - w->pw_ncols_alloc) * sizeof(uint32_t));
	w->pw_ncols_alloc = n;
	return 0;
}

int
weft_pwriter_put_chunk(weft_pwriter_t *w, uint32_t col, const uint8_t *chunk,
		       size_t len, weft_err_t *err)
{
	uint8_t key[WEFT_CHUNK_KEY];
	MDB_val k = {sizeof(key), key}, v = {len, (void *)chunk};
	int rc;

	if (w->pw_txn == NULL)
		return weft_err_set(err, WEFT_EINVAL, "writer is aborted");
	rc = weft_pwriter_cols(w, col);
	if (rc != 0)
		return weft_err_set(err, rc, "column %u out of range", col);
	weft_chunk_key(key, w->pw_sid, w->pw_base + w->pw_chunks[col], col);
	rc = mdb_put(w->pw_txn, w->pw_st->st_chunks, &k, &v, MDB_APPEND);
	if (rc == MDB_KEYEXIST) /* out of order: store it anyway */
		rc = mdb_put(w->pw_txn, w->pw_st->st_chunks, &k, &v, 0);
	if (rc != 0) {
		/* The writer is done for: WEFT_ERETRY (map grown) or an
		 * error. */
		rc = weft_store_txn_end(w->pw_st, w->pw_txn, rc, "write chunk",
					err);
		w->pw_txn = NULL;
		return rc;
	}
	w->pw_chunks[col]++;
	return 0;
}

void
weft_pwriter_add_rows(weft_pwriter_t *w, uint64_t n)
{
	w->pw_rows_added += n;
}

/* Check that every column got the same chunks (the writer's contract). */
static int
weft_pwriter_check(weft_pwriter_t *w, weft_err_t *err)
{
	const weft_product_info_t *pi = &w->pw_info;
	size_t i;

	if (pi->ncols == 0 || pi->ncols > WEFT_COLS_MAX)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "product has no columns");
	if (weft_pwriter_cols(w, (uint32_t)pi->ncols - 1) != 0)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (i = 1; i < pi->ncols; i++)
		if (w->pw_chunks[i] != w->pw_chunks[0])
			return weft_err_set(
			    err, WEFT_EINVAL,
			    "internal: column %zu has %u chunks, column 0 %u",
			    i, w->pw_chunks[i], w->pw_chunks[0]);
	return 0;
}

/*
 * The commit's work inside the writer's transaction: the new metadata
 * and descriptor, the signed descriptor entry into the catalog, the old
 * chunks of a replace deleted. A weft_store_write_fn result; *version
 * gets the new version.
 */
static int
weft_pwriter_finish(weft_pwriter_t *w, const weft_signer_t *signer,
		    uint64_t *version, weft_err_t *err)
{
	weft_product_info_t *pi = &w->pw_info;
	weft_store_t *st = w->pw_st;
	weft_pmeta_t pm = {0};
	weft_entry_info_t ei;
	uint8_t *body = NULL, *env = NULL;
	size_t blen, elen;
	uint64_t cat_ver;
	int64_t now = weft_now_us();
	int rc;

	rc = weft_pwriter_check(w, err);
	if (rc != 0)
		return rc;
	/* A version greater than anything published under this name,
	 * including a dropped product's tombstone. */
	cat_ver = weft_catalog_version_txn(st, w->pw_txn, WEFT_ENTRY_DESCRIPTOR,
					   signer->kp->pk, w->pw_name);
	pm.version =
	    (w->pw_prev_version > cat_ver ? w->pw_prev_version : cat_ver) + 1;
	pm.storage_id = w->pw_sid;
	pm.chunk_count = w->pw_base + w->pw_chunks[0];
	pm.row_count =
	    (w->pw_mode == WEFT_PUB_APPEND ? w->pw_old.row_count : 0) +
	    w->pw_rows_added;
	pm.created_at = pi->created_at ? pi->created_at : now;
	pm.updated_at = now;
	pi->version = pm.version;
	pi->row_count = pm.row_count;
	pi->created_at = pm.created_at;
	pi->updated_at = now;
	free(pi->org);
	free(pi->node);
	pi->org = strdup(signer->org);
	pi->node = strdup(signer->node);
	if (pi->org == NULL || pi->node == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	if (w->pw_mode == WEFT_PUB_REPLACE && w->pw_exists) {
		rc = weft_chunks_delete(st, w->pw_txn, w->pw_old.storage_id);
		if (rc != 0)
			return rc;
	}
	rc = weft_product_info_encode(pi, &body, &blen);
	if (rc != 0)
		return weft_err_set(err, rc, "cannot encode descriptor");
	rc = weft_entry_make(signer, WEFT_ENTRY_DESCRIPTOR, w->pw_name,
			     pm.version, 0, 0, body, blen, &env, &elen, err);
	if (rc == 0)
		rc = weft_catalog_put_txn(st, w->pw_txn, env, elen, now, &ei,
					  err);
	if (rc == 0)
		rc = weft_pmeta_write(st, w->pw_txn, &pm, pi, err);
	*version = pm.version;
	free(body);
	free(env);
	return rc;
}

int
weft_pwriter_commit(weft_pwriter_t *w, const weft_signer_t *signer,
		    uint64_t *version, weft_err_t *err)
{
	uint64_t ver = 0;
	int rc;

	if (w->pw_txn == NULL) {
		rc = weft_err_set(err, WEFT_EINVAL, "writer is aborted");
	} else {
		rc = weft_pwriter_finish(w, signer, &ver, err);
		rc =
		    weft_store_txn_end(w->pw_st, w->pw_txn, rc, "publish", err);
		w->pw_txn = NULL;
	}
	if (rc == 0 && version != NULL)
		*version = ver;
	weft_pwriter_abort(w);
	return rc;
}

void
weft_pwriter_abort(weft_pwriter_t *w)
{
	if (w == NULL)
		return;
	if (w->pw_txn != NULL)
		mdb_txn_abort(w->pw_txn);
	weft_product_info_clear(&w->pw_info);
	free(w->pw_name);
	free(w->pw_chunks);
	free(w);
}

typedef struct weft_drop {
	weft_store_t *st;
	const char *name;
	const weft_signer_t *signer;
} weft_drop_t;

/* A drop's work: chunks, metadata, and a signed tombstone entry newer
 * than anything published under the name. */
static int
weft_product_drop_fn(MDB_txn *txn, void *arg, weft_err_t *err)
{
	weft_drop_t *d = arg;
	weft_store_t *st = d->st;
	MDB_val k = {strlen(d->name), (void *)d->name};
	weft_entry_info_t ei;
	weft_pmeta_t pm;
	uint8_t *env = NULL;
	size_t elen;
	uint64_t cat_ver, ver;
	int rc;

	rc = weft_pmeta_read(st, txn, d->name, &pm, NULL, err);
	if (rc != 0)
		return rc;
	cat_ver = weft_catalog_version_txn(st, txn, WEFT_ENTRY_DESCRIPTOR,
					   d->signer->kp->pk, d->name);
	ver = (pm.version > cat_ver ? pm.version : cat_ver) + 1;
	rc = weft_entry_make(d->signer, WEFT_ENTRY_DESCRIPTOR, d->name, ver, 1,
			     0, NULL, 0, &env, &elen, err);
	if (rc != 0)
		return rc;
	rc = weft_chunks_delete(st, txn, pm.storage_id);
	if (rc == 0)
		rc = mdb_del(txn, st->st_products, &k, NULL);
	if (rc == 0)
		rc = weft_catalog_put_txn(st, txn, env, elen, weft_now_us(),
					  &ei, err);
	free(env);
	return rc;
}

int
weft_product_drop(weft_store_t *st, const char *name,
		  const weft_signer_t *signer, weft_err_t *err)
{
	weft_drop_t d = {st, name, signer};
	int rc;

	rc = weft_product_name_check(name, err);
	if (rc != 0)
		return rc;
	return weft_store_write(st, 0, "drop", weft_product_drop_fn, &d, err);
}

/* ---- reading ---- */

int
weft_product_get(weft_store_t *st, const char *name, weft_product_info_t *pi,
		 weft_err_t *err)
{
	weft_pmeta_t pm;
	MDB_txn *txn;
	int rc;

	rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err);
	if (rc != 0)
		return rc;
	rc = weft_pmeta_read(st, txn, name, &pm, pi, err);
	mdb_txn_abort(txn);
	return rc;
}

int
weft_product_list(weft_store_t *st, weft_product_info_t **list, size_t *n,
		  weft_err_t *err)
{
	weft_product_info_t *l = NULL;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	size_t cnt = 0;
	int rc;

	*list = NULL;
	*n = 0;
	rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err);
	if (rc != 0)
		return rc;
	rc = mdb_cursor_open(txn, st->st_products, &cur);
	if (rc != 0) {
		rc = weft_store_mdb_err(err, rc, "products");
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char name[WEFT_PRODUCT_NAME_MAX + 1];
		weft_product_info_t *nl;
		weft_pmeta_t pm;

		if (k.mv_size > WEFT_PRODUCT_NAME_MAX)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = 0;
		nl = realloc(l, (cnt + 1) * sizeof(*l));
		if (nl == NULL) {
			rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
			goto out;
		}
		l = nl;
		rc = weft_pmeta_read(st, txn, name, &pm, &l[cnt], err);
		if (rc != 0)
			goto out;
		cnt++;
	}
	rc = 0;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != 0) {
		while (cnt > 0)
			weft_product_info_clear(&l[--cnt]);
		free(l);
		return rc;
	}
	*list = l;
	*n = cnt;
	return 0;
}

struct weft_snapshot {
	weft_store_t *ss_st;
	MDB_txn *ss_txn;
};

int
weft_snapshot_begin(weft_store_t *st, weft_snapshot_t **out, weft_err_t *err)
{
	weft_snapshot_t *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (s == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	s->ss_st = st;
	/* Shared for the snapshot's life: no remap while it reads. */
	pthread_rwlock_rdlock(&st->st_maplock);
	rc = mdb_txn_begin(st->st_env, NULL, MDB_RDONLY, &s->ss_txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map. Adopting it needs every
		 * snapshot closed: wait for them (snapshots are taken off
		 * any event loop), then start again. */
		pthread_rwlock_unlock(&st->st_maplock);
		pthread_rwlock_wrlock(&st->st_maplock);
		rc = mdb_env_set_mapsize(st->st_env, 0);
		pthread_rwlock_unlock(&st->st_maplock);
		pthread_rwlock_rdlock(&st->st_maplock);
		if (rc == 0)
			rc = mdb_txn_begin(st->st_env, NULL, MDB_RDONLY,
					   &s->ss_txn);
	}
	if (rc != 0) {
		pthread_rwlock_unlock(&st->st_maplock);
		free(s);
		return weft_store_mdb_err(err, rc, "begin snapshot");
	}
	*out = s;
	return 0;
}

int
weft_snapshot_descriptors(weft_snapshot_t *s, const char *name,
			  const uint8_t *self, int64_t now_us,
			  weft_descriptor_fn fn, void *arg, weft_err_t *err)
{
	return weft_catalog_descriptors_txn(s->ss_st, s->ss_txn, name, self,
					    now_us, fn, arg, err);
}

MDB_txn *
weft_snapshot_txn(weft_snapshot_t *s)
{
	return s->ss_txn;
}

weft_store_t *
weft_snapshot_store(weft_snapshot_t *s)
{
	return s->ss_st;
}

void
weft_snapshot_end(weft_snapshot_t *s)
{
	if (s == NULL)
		return;
	mdb_txn_abort(s->ss_txn);
	pthread_rwlock_unlock(&s->ss_st->st_maplock);
	free(s);
}

int
weft_snapshot_product(weft_snapshot_t *s, const char *name,
		      weft_product_info_t *pi, uint64_t *storage_id,
		      uint32_t *nchunks, weft_err_t *err)
{
	weft_pmeta_t pm;
	int rc;

	rc = weft_pmeta_read(s->ss_st, s->ss_txn, name, &pm, pi, err);
	if (rc != 0)
		return rc;
	*storage_id = pm.storage_id;
	*nchunks = pm.chunk_count;
	return 0;
}

int
weft_snapshot_chunk(weft_snapshot_t *s, uint64_t storage_id, uint32_t col,
		    uint32_t chunk, const uint8_t **buf, size_t *len,
		    weft_err_t *err)
{
	uint8_t key[WEFT_CHUNK_KEY];
	MDB_val k = {sizeof(key), key}, v;
	int rc;

	weft_chunk_key(key, storage_id, chunk, col);
	rc = mdb_get(s->ss_txn, s->ss_st->st_chunks, &k, &v);
	if (rc == MDB_NOTFOUND)
		return weft_err_set(err, WEFT_ECORRUPT,
				    "chunk %u of column %u is missing", chunk,
				    col);
	if (rc != 0)
		return weft_store_mdb_err(err, rc, "chunks");
	*buf = v.mv_data;
	*len = v.mv_size;
	return 0;
}

int
weft_snapshot_names(weft_snapshot_t *s, char ***names, size_t *n,
		    weft_err_t *err)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	char **l = NULL;
	size_t cnt = 0;
	int rc;

	*names = NULL;
	*n = 0;
	rc = mdb_cursor_open(s->ss_txn, s->ss_st->st_products, &cur);
	if (rc != 0)
		return weft_store_mdb_err(err, rc, "products");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char **nl;

		if (k.mv_size > WEFT_PRODUCT_NAME_MAX)
			continue;
		nl = realloc(l, (cnt + 1) * sizeof(*l));
		if (nl == NULL)
			goto nomem;
		l = nl;
		l[cnt] = strndup(k.mv_data, k.mv_size);
		if (l[cnt] == NULL)
			goto nomem;
		cnt++;
	}
	mdb_cursor_close(cur);
	*names = l;
	*n = cnt;
	return 0;
nomem:
	mdb_cursor_close(cur);
	while (cnt > 0)
		free(l[--cnt]);
	free(l);
	return weft_err_set(err, WEFT_ENOMEM, "out of memory");
}

/* Report one problem through the check's callback, printf-style. */
static void weft_check_report(weft_store_problem_fn fn, void *arg,
			      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
weft_check_report(weft_store_problem_fn fn, void *arg, const char *fmt, ...)
{
	char what[WEFT_ERR_MAX + 256];
	va_list ap;

	if (fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fn(arg, what);
}

static int
weft_check_product(weft_snapshot_t *s, const char *name,
		   weft_store_problem_fn fn, void *arg, weft_err_t *err)
{
	weft_product_info_t pi = {0};
	uint64_t sid, rows = 0;
	uint32_t nchunks, c, col;
	int problems = 0, rc;

	rc = weft_snapshot_product(s, name, &pi, &sid, &nchunks, err);
	if (rc != 0) {
		weft_check_report(fn, arg, "%s: %s", name, err->msg);
		return 1;
	}
	for (c = 0; c < nchunks; c++) {
		uint32_t count0 = 0;

		for (col = 0; col < pi.ncols; col++) {
			weft_chunk_view_t v;
			const uint8_t *b;
			size_t l;
			weft_err_t e = {0};

			if (weft_snapshot_chunk(s, sid, col, c, &b, &l, &e) ||
			    weft_chunk_view(b, l, &v, &e)) {
				weft_check_report(fn, arg,
						  "%s: column %u chunk %u: %s",
						  name, col, c, e.msg);
				problems++;
				continue;
			}
			if (v.type != pi.cols[col].type) {
				weft_check_report(
				    fn, arg,
				    "%s: column %u chunk %u: type %s, schema "
				    "says %s",
				    name, col, c, weft_type_name(v.type),
				    weft_type_name(pi.cols[col].type));
				problems++;
			}
			if (col == 0) {
				count0 = v.count;
				rows += v.count;
			} else if (v.count != count0) {
				weft_check_report(
				    fn, arg,
				    "%s: chunk %u: column %u has %u rows, "
				    "column 0 %u",
				    name, c, col, v.count, count0);
				problems++;
			}
		}
	}
	if (rows != pi.row_count) {
		weft_check_report(fn, arg,
				  "%s: chunks hold %llu rows, metadata says "
				  "%llu",
				  name, (unsigned long long)rows,
				  (unsigned long long)pi.row_count);
		problems++;
	}
	weft_product_info_clear(&pi);
	return problems;
}

int
weft_store_check(weft_store_t *st, weft_store_problem_fn fn, void *arg,
		 weft_err_t *err)
{
	weft_product_info_t *list = NULL;
	weft_snapshot_t *s = NULL;
	size_t n = 0, i;
	int problems = 0, rc;

	rc = weft_product_list(st, &list, &n, err);
	if (rc != 0)
		return rc;
	rc = weft_snapshot_begin(st, &s, err);
	if (rc != 0)
		goto out;
	for (i = 0; i < n; i++)
		problems += weft_check_product(s, list[i].name, fn, arg, err);
	weft_snapshot_end(s);
	/* Every stored catalog entry must still verify. */
	rc = weft_catalog_check(st, fn, arg, err);
	if (rc < 0) {
		weft_check_report(fn, arg, "catalog: %s", err->msg);
		problems++;
	} else {
		problems += rc;
	}
	rc = problems;
out:
	for (i = 0; i < n; i++)
		weft_product_info_clear(&list[i]);
	free(list);
	return rc;
}
