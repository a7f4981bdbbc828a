/*
 * store.c: the LMDB environment of a data directory, its transactions
 * and map growth, and the meta and trust tables. The catalog table is
 * catalog.c, the products product.c; both build on this file, which
 * calls neither. See store.h for the invariants.
 */
#include "storage/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "storage/store_int.h"

#define WEFT_MAP_INIT ((size_t)64 << 20)
#define WEFT_MAP_MAX_DEFAULT ((size_t)1 << 40)
#define WEFT_META_MAX 65536

int
weft_store_mdb_err(weft_err_t *err, int rc, const char *what)
{
	return weft_err_set(err, WEFT_ESTORE, "store: %s: %s", what,
			    mdb_strerror(rc));
}

/*
 * The initial map: never less than the file holds. With MDB_WRITEMAP,
 * LMDB sizes the file to this process's map, so a smaller map (a CLI
 * command while the agent runs) would cut the file under the agent's
 * larger map, whose next write past the new end faults (SIGBUS). Up to
 * the map's cap: an operator who sets WEFT_MAP_MAX below the file's size
 * asks for that smaller map.
 */
static size_t
store_map_floor(const char *dir, size_t init, size_t max)
{
	char p[4096];
	struct stat sb;
	size_t fs;

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	if (stat(p, &sb) != 0)
		return init;
	fs = ((size_t)sb.st_size + 65535) & ~(size_t)65535;
	if (fs > max)
		fs = max;
	return fs > init ? fs : init;
}

/* path's mode and owner fit a data directory's file (or the directory):
 * ours, nobody else may write it (and, for the store, read it: it holds
 * the network key). A missing file is fine (LMDB makes it 0600). */
static int
store_mode_ok(const char *path, mode_t deny, const char *what, weft_err_t *err)
{
	struct stat sb;
	const char *who;
	mode_t m;

	if (stat(path, &sb) != 0)
		return 0;
	if (sb.st_uid != geteuid())
		return weft_err_set(err, WEFT_EPERM,
				    "%s: owned by uid %u, not by this user "
				    "(uid %u): refusing to use %s another "
				    "user controls",
				    path, (unsigned)sb.st_uid,
				    (unsigned)geteuid(), what);
	m = sb.st_mode & deny;
	if (m == 0)
		return 0;
	who = (m & 0070) && (m & 0007) ? "its group and other users"
	      : (m & 0070)	       ? "its group"
				       : "other users";
	if ((m & 0222) == 0)
		return weft_err_set(err, WEFT_EPERM,
				    "%s: mode %04o lets %s read it: refusing "
				    "to use %s that others can read (it holds "
				    "the network key; chmod 600 %s)",
				    path, (unsigned)(sb.st_mode & 07777), who,
				    what, path);
	return weft_err_set(err, WEFT_EPERM,
			    "%s: mode %04o lets %s write it: refusing to use "
			    "%s that others could change (chmod %s %s)",
			    path, (unsigned)(sb.st_mode & 07777), who, what,
			    S_ISDIR(sb.st_mode) ? "700" : "600", path);
}

int
weft_store_dir_safe(const char *dir, weft_err_t *err)
{
	char p[4096];
	int rc;

	if ((rc = store_mode_ok(dir, 0022, "a data directory", err)) != 0)
		return rc;
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	if ((rc = store_mode_ok(p, 0077, "a store", err)) != 0)
		return rc;
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	return store_mode_ok(p, 0022, "a store's lock file", err);
}

int
weft_store_open(const char *dir, const weft_store_opts_t *opts,
		weft_store_t **out, weft_err_t *err)
{
	weft_store_opts_t def = {0};
	weft_store_t *st;
	MDB_txn *txn = NULL;
	const char *envmax;
	unsigned dbflags;
	size_t init;
	int rc;

	*out = NULL;
	if (opts == NULL)
		opts = &def;
	if (opts->create && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return weft_err_set(err, -errno, "%s: cannot create: %s", dir,
				    strerror(errno));
	if (!opts->create) {
		char p[4096];
		struct stat sb;

		snprintf(p, sizeof(p), "%s/data.mdb", dir);
		if (stat(p, &sb) != 0)
			return weft_err_set(
			    err, WEFT_ENOTFOUND,
			    "%s: not a weft data directory (run weft init "
			    "--data-dir %s first)",
			    dir, dir);
	}
	if ((rc = weft_store_dir_safe(dir, err)) != 0)
		return rc;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	st->st_dir = strdup(dir);
	st->st_lock_ok = pthread_rwlock_init(&st->st_maplock, NULL) == 0;
	st->st_owner = pthread_self();
	st->st_readonly = opts->readonly;
	st->st_map_max = opts->map_max ? opts->map_max : WEFT_MAP_MAX_DEFAULT;
	envmax = getenv("WEFT_MAP_MAX");
	if (opts->map_max == 0 && envmax != NULL && *envmax)
		st->st_map_max = (size_t)strtoull(envmax, NULL, 10);
	if (st->st_map_max < (1u << 20))
		st->st_map_max = 1u << 20;
	init = opts->map_init ? opts->map_init : WEFT_MAP_INIT;
	if (init > st->st_map_max)
		init = st->st_map_max;
	init = store_map_floor(dir, init, st->st_map_max);
	if (st->st_dir == NULL || !st->st_lock_ok) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = mdb_env_create(&st->st_env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(st->st_env, 16)) != 0 ||
	    (rc = mdb_env_set_mapsize(st->st_env, init)) != 0 ||
	    (rc = mdb_env_set_maxreaders(st->st_env, 512)) != 0) {
		rc = weft_store_mdb_err(err, rc, "environment");
		goto fail;
	}
	/* MDB_WRITEMAP: a write transaction's dirty pages live in the shared
	 * file mapping (page cache the kernel can write back and reclaim)
	 * instead of anonymous memory, so a large publish does not pin its
	 * whole output in process memory until commit. The data file is
	 * sparse up to the map size. */
	rc = mdb_env_open(
	    st->st_env, dir,
	    MDB_NOTLS | MDB_WRITEMAP | (opts->readonly ? MDB_RDONLY : 0), 0600);
	if (rc != 0) {
		rc = weft_err_set(err, WEFT_ESTORE, "%s: cannot open store: %s",
				  dir, mdb_strerror(rc));
		goto fail;
	}
	rc = weft_store_txn_begin(st, opts->readonly ? MDB_RDONLY : 0, &txn,
				  err);
	if (rc != 0)
		goto fail;
	dbflags = opts->readonly ? 0 : MDB_CREATE;
	if ((rc = mdb_dbi_open(txn, "meta", dbflags, &st->st_meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "trust", dbflags, &st->st_trust)) != 0 ||
	    (rc = mdb_dbi_open(txn, "catalog", dbflags, &st->st_catalog)) ||
	    (rc = mdb_dbi_open(txn, "products", dbflags, &st->st_products)) !=
		0 ||
	    (rc = mdb_dbi_open(txn, "chunks", dbflags, &st->st_chunks)) != 0 ||
	    ((rc = mdb_dbi_open(txn, "qcache", dbflags, &st->st_qcache)) != 0 &&
	     !(rc == MDB_NOTFOUND && opts->readonly))) {
		mdb_txn_abort(txn);
		rc = weft_store_mdb_err(err, rc, "open tables");
		goto fail;
	}
	st->st_has_qcache = rc == 0; /* a read-only open of an old store:
				      * no result cache */
	rc = mdb_dbi_open(txn, "budget", dbflags, &st->st_budget);
	if (rc != 0 && !(rc == MDB_NOTFOUND && opts->readonly)) {
		mdb_txn_abort(txn);
		rc = weft_store_mdb_err(err, rc, "open tables");
		goto fail;
	}
	st->st_has_budget = rc == 0;
	rc = mdb_dbi_open(txn, "audit", dbflags, &st->st_audit);
	if (rc != 0 && !(rc == MDB_NOTFOUND && opts->readonly)) {
		mdb_txn_abort(txn);
		rc = weft_store_mdb_err(err, rc, "open tables");
		goto fail;
	}
	st->st_has_audit = rc == 0; /* likewise: no audit log to read */
	rc = mdb_txn_commit(txn);
	if (rc != 0) {
		rc = weft_store_mdb_err(err, rc, "open tables");
		goto fail;
	}
	*out = st;
	return 0;
fail:
	weft_store_close(st);
	return rc;
}

void
weft_store_close(weft_store_t *st)
{
	if (st == NULL)
		return;
	if (st->st_env != NULL)
		mdb_env_close(st->st_env);
	if (st->st_lock_ok)
		pthread_rwlock_destroy(&st->st_maplock);
	free(st->st_dir);
	free(st);
}

const char *
weft_store_dir(const weft_store_t *st)
{
	return st->st_dir;
}

int
weft_store_usage(weft_store_t *st, size_t *map_size, size_t *used)
{
	MDB_envinfo info;
	MDB_stat ms;

	mdb_env_info(st->st_env, &info);
	mdb_env_stat(st->st_env, &ms);
	*map_size = info.me_mapsize;
	*used = (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
	return 0;
}

int
weft_store_txn_begin(weft_store_t *st, unsigned flags, MDB_txn **txn,
		     weft_err_t *err)
{
	int rc = mdb_txn_begin(st->st_env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		if (weft_store_remap(st, 0) == WEFT_EAGAIN) {
			*txn = NULL;
			return weft_err_set(
			    err, WEFT_EAGAIN,
			    "%s: the store grew (another process wrote) "
			    "while queries are reading it; try again when "
			    "they end",
			    st->st_dir);
		}
		rc = mdb_txn_begin(st->st_env, NULL, flags, txn);
	}
	if (rc != 0) {
		*txn = NULL;
		return weft_store_mdb_err(err, rc, "begin transaction");
	}
	return 0;
}

int
weft_store_remap(weft_store_t *st, size_t size)
{
	int rc;

	if (!pthread_equal(pthread_self(), st->st_owner))
		return WEFT_EAGAIN; /* the owner thread will (store_int.h) */
	if (pthread_rwlock_trywrlock(&st->st_maplock) != 0)
		return WEFT_EAGAIN;
	rc = mdb_env_set_mapsize(st->st_env, size);
	pthread_rwlock_unlock(&st->st_maplock);
	return rc == 0 ? 0 : WEFT_ESTORE;
}

int
weft_store_grow(weft_store_t *st, size_t want)
{
	MDB_envinfo info;

	mdb_env_info(st->st_env, &info);
	if (want <= info.me_mapsize)
		return 0;
	if (want > st->st_map_max)
		want = st->st_map_max;
	if (want <= info.me_mapsize)
		return WEFT_EMAPFULL;
	return weft_store_remap(st, want);
}

void
weft_store_prepare(weft_store_t *st, size_t bytes)
{
	weft_store_reserve(st, bytes);
}

void
weft_store_reserve(weft_store_t *st, size_t size_hint)
{
	size_t map, used;

	if (size_hint == 0)
		return;
	weft_store_usage(st, &map, &used);
	if (used + 2 * size_hint + (16u << 20) > map)
		(void)weft_store_grow(st, used + 2 * size_hint + (32u << 20));
}

/* The map is full (the transaction already gone): double it, or say why
 * it cannot grow. WEFT_ERETRY, WEFT_EMAPFULL, WEFT_EAGAIN or WEFT_ESTORE. */
static int
weft_store_map_full(weft_store_t *st, weft_err_t *err)
{
	MDB_envinfo info;
	int rc;

	mdb_env_info(st->st_env, &info);
	rc = weft_store_grow(st, info.me_mapsize * 2);
	if (rc == 0)
		return WEFT_ERETRY;
	if (rc == WEFT_EMAPFULL)
		return weft_err_set(
		    err, WEFT_EMAPFULL,
		    "%s: store is full (%zu MiB) and may not grow past %zu "
		    "MiB (WEFT_MAP_MAX); nothing was changed",
		    st->st_dir, info.me_mapsize >> 20, st->st_map_max >> 20);
	return weft_err_set(
	    err, rc == WEFT_EAGAIN ? WEFT_EAGAIN : WEFT_ESTORE,
	    "%s: store is full (%zu MiB) and its map cannot grow now "
	    "(queries are reading it); nothing was changed",
	    st->st_dir, info.me_mapsize >> 20);
}

/* A write transaction ended with rc (its work's, or its commit's): 0,
 * or what it means (map full: grow, WEFT_ERETRY). */
static int
weft_store_txn_settle(weft_store_t *st, int rc, const char *what,
		      weft_err_t *err)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_MAP_FULL)
		return weft_store_map_full(st, err);
	if (weft_store_is_mdb(rc))
		return weft_store_mdb_err(err, rc, what);
	if (err != NULL && err->msg[0] == 0)
		weft_err_set(err, rc, "%s: %s", what, weft_strerror(rc));
	return rc;
}

int
weft_store_txn_end(weft_store_t *st, MDB_txn *txn, int rc, const char *what,
		   weft_err_t *err)
{
	if (rc == 0) {
		rc = mdb_txn_commit(txn); /* frees txn, also on failure */
		if (rc == 0)
			return 0;
	} else {
		mdb_txn_abort(txn);
	}
	if (rc == MDB_MAP_FULL)
		return weft_store_map_full(st, err);
	if (weft_store_is_mdb(rc))
		return weft_store_mdb_err(err, rc, what);
	if (err != NULL && err->msg[0] == 0)
		weft_err_set(err, rc, "%s: %s", what, weft_strerror(rc));
	return rc;
}

int
weft_store_write(weft_store_t *st, size_t size_hint, const char *what,
		 weft_store_write_fn fn, void *arg, weft_err_t *err)
{
	MDB_txn *txn;
	int rc, tries;

	weft_store_reserve(st, size_hint);
	/* Each retry doubled the map, so the cap ends the loop well before
	 * the bound; the bound only guards against a work function that
	 * keeps returning WEFT_ERETRY itself. */
	for (tries = 0; tries < 64; tries++) {
		/* The transaction holds the map lock shared, as a snapshot
		 * does: writes also run on worker threads (audit records,
		 * noise budgets), and another thread's remap must not move
		 * the map under an open transaction. Released before the
		 * map grows (which needs it exclusive). */
		if (st->st_lock_ok)
			pthread_rwlock_rdlock(&st->st_maplock);
		rc = mdb_txn_begin(st->st_env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED) {
			if (st->st_lock_ok)
				pthread_rwlock_unlock(&st->st_maplock);
			if (weft_store_remap(st, 0) == WEFT_EAGAIN)
				return weft_err_set(
				    err, WEFT_EAGAIN,
				    "%s: the store grew (another process "
				    "wrote) while queries are reading it; try "
				    "again when they end",
				    st->st_dir);
			continue;
		}
		if (rc != 0) {
			if (st->st_lock_ok)
				pthread_rwlock_unlock(&st->st_maplock);
			return weft_store_mdb_err(err, rc, "begin transaction");
		}
		rc = fn(txn, arg, err);
		if (rc == 0) {
			rc = mdb_txn_commit(txn); /* frees txn */
		} else {
			mdb_txn_abort(txn);
		}
		if (st->st_lock_ok)
			pthread_rwlock_unlock(&st->st_maplock);
		rc = weft_store_txn_settle(st, rc, what, err);
		if (rc != WEFT_ERETRY)
			return rc;
	}
	return weft_err_set(err, WEFT_ESTORE,
			    "store: %s: gave up after %d "
			    "restarts",
			    what, tries);
}

/* ---- meta and trust ---- */

typedef struct weft_store_put {
	MDB_dbi dbi;
	MDB_val k, v;
} weft_store_put_t;

static int
weft_store_put_fn(MDB_txn *txn, void *arg, weft_err_t *err)
{
	weft_store_put_t *p = arg;

	return mdb_put(txn, p->dbi, &p->k, &p->v, 0);
}

int
weft_store_meta_put(weft_store_t *st, const char *key, const void *val,
		    size_t len, weft_err_t *err)
{
	weft_store_put_t p = {
	    st->st_meta, {strlen(key), (void *)key}, {len, (void *)val}};

	return weft_store_write(st, 0, "meta", weft_store_put_fn, &p, err);
}

int
weft_store_meta_get(weft_store_t *st, const char *key, uint8_t **val,
		    size_t *len, weft_err_t *err)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	MDB_txn *txn;
	int rc;

	*val = NULL;
	*len = 0;
	rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err);
	if (rc != 0)
		return rc;
	rc = mdb_get(txn, st->st_meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		rc = weft_err_set(err, WEFT_ENOTFOUND, "no %s in store", key);
	} else if (rc != 0) {
		rc = weft_store_mdb_err(err, rc, "meta");
	} else if (v.mv_size > WEFT_META_MAX) {
		rc = weft_err_set(err, WEFT_ECORRUPT, "meta %s too large", key);
	} else {
		*val = malloc(v.mv_size + 1);
		if (*val == NULL) {
			rc = WEFT_ENOMEM;
		} else {
			memcpy(*val, v.mv_data, v.mv_size);
			(*val)[v.mv_size] = 0;
			*len = v.mv_size;
		}
	}
	mdb_txn_abort(txn);
	return rc;
}

int
weft_store_trust_add(weft_store_t *st, const weft_pubkey_t *root,
		     weft_err_t *err)
{
	weft_store_put_t p = {
	    st->st_trust, {WEFT_PK_BYTES, (void *)root->pk}, {0, NULL}};
	uint8_t *buf;
	size_t len;
	int rc;

	rc = weft_pub_encode(root, &buf, &len);
	if (rc != 0)
		return weft_err_set(err, rc, "cannot encode key");
	p.v.mv_size = len;
	p.v.mv_data = buf;
	rc = weft_store_write(st, 0, "trust", weft_store_put_fn, &p, err);
	free(buf);
	return rc;
}

static int
weft_store_trust_del_fn(MDB_txn *txn, void *arg, weft_err_t *err)
{
	weft_store_put_t *p = arg;
	int rc = mdb_del(txn, p->dbi, &p->k, NULL);

	if (rc == MDB_NOTFOUND)
		return weft_err_set(err, WEFT_ENOTFOUND, "org key not trusted");
	return rc;
}

int
weft_store_trust_remove(weft_store_t *st, const uint8_t pk[WEFT_PK_BYTES],
			weft_err_t *err)
{
	weft_store_put_t p = {
	    st->st_trust, {WEFT_PK_BYTES, (void *)pk}, {0, NULL}};

	return weft_store_write(st, 0, "trust", weft_store_trust_del_fn, &p,
				err);
}

int
weft_store_trust_load(weft_store_t *st, MDB_txn *txn, weft_pubkey_t **roots,
		      size_t *n)
{
	MDB_cursor *cur;
	MDB_val k, v;
	weft_pubkey_t *r = NULL;
	size_t cnt = 0;
	int rc;

	*roots = NULL;
	*n = 0;
	rc = mdb_cursor_open(txn, st->st_trust, &cur);
	if (rc != 0)
		return WEFT_ESTORE;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		weft_pubkey_t pk;
		weft_pubkey_t *nr;

		if (weft_pub_decode(v.mv_data, v.mv_size, &pk, NULL) != 0)
			continue; /* unreadable entries are not trusted */
		nr = realloc(r, (cnt + 1) * sizeof(*r));
		if (nr == NULL) {
			free(r);
			mdb_cursor_close(cur);
			return WEFT_ENOMEM;
		}
		r = nr;
		r[cnt++] = pk;
	}
	mdb_cursor_close(cur);
	*roots = r;
	*n = cnt;
	return 0;
}

int
weft_store_trust_list(weft_store_t *st, weft_pubkey_t **roots, size_t *n,
		      weft_err_t *err)
{
	MDB_txn *txn;
	int rc;

	rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err);
	if (rc != 0)
		return rc;
	rc = weft_store_trust_load(st, txn, roots, n);
	mdb_txn_abort(txn);
	if (rc != 0)
		return weft_err_set(err, rc, "cannot read trusted roots");
	return 0;
}
