/*
 * catalog.c: the LMDB catalog table: put-if-newer, get, list, check.
 *
 * Key layout: kind(1) | origin(32) | name. Stored values are the envelope
 * bytes exactly as received.
 */
#include "storage/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "storage/store_int.h"
#include "weft.pb-c.h"

#define WEFT_CAT_KEY_MAX (1 + WEFT_PK_BYTES + WEFT_ENTRY_NAME_MAX)

static size_t
weft_cat_key(uint8_t *key, int kind, const uint8_t *origin, const char *name)
{
	size_t n = strlen(name);

	if (n > WEFT_ENTRY_NAME_MAX)
		n = WEFT_ENTRY_NAME_MAX;
	key[0] = (uint8_t)kind;
	memcpy(key + 1, origin, WEFT_PK_BYTES);
	memcpy(key + 1 + WEFT_PK_BYTES, name, n);
	return 1 + WEFT_PK_BYTES + n;
}

/* Version of a stored envelope (already verified when stored). */
uint64_t
weft_stored_version(const uint8_t *env, size_t len)
{
	Weft__Envelope *e = weft__envelope__unpack(NULL, len, env);
	Weft__CatalogEntry *ce;
	uint64_t v = 0;

	if (e == NULL)
		return 0;
	ce = weft__catalog_entry__unpack(NULL, e->payload.len, e->payload.data);
	if (ce != NULL) {
		v = ce->version;
		weft__catalog_entry__free_unpacked(ce, NULL);
	}
	weft__envelope__free_unpacked(e, NULL);
	return v;
}

int
weft_catalog_get_txn(weft_store_t *st, MDB_txn *txn, int kind,
		     const uint8_t origin[WEFT_PK_BYTES], const char *name,
		     MDB_val *env)
{
	uint8_t key[WEFT_CAT_KEY_MAX];
	MDB_val k;

	k.mv_size = weft_cat_key(key, kind, origin, name);
	k.mv_data = key;
	return mdb_get(txn, st->st_catalog, &k, env);
}

uint64_t
weft_catalog_version_txn(weft_store_t *st, MDB_txn *txn, int kind,
			 const uint8_t origin[WEFT_PK_BYTES], const char *name)
{
	uint8_t key[WEFT_CAT_KEY_MAX];
	MDB_val k, v;

	k.mv_size = weft_cat_key(key, kind, origin, name);
	k.mv_data = key;
	if (mdb_get(txn, st->st_catalog, &k, &v) != 0)
		return 0;
	return weft_stored_version(v.mv_data, v.mv_size);
}

int
weft_catalog_put_txn(weft_store_t *st, MDB_txn *txn, const uint8_t *env,
		     size_t len, int64_t now_us, weft_entry_info_t *info,
		     weft_err_t *err)
{
	uint8_t key[WEFT_CAT_KEY_MAX];
	weft_pubkey_t *roots = NULL;
	weft_trust_t trust = {0};
	size_t nroots;
	uint8_t *body = NULL;
	size_t blen;
	uint64_t have;
	MDB_val k, v;
	int rc;

	rc = weft_store_trust_load(st, txn, &roots, &nroots);
	if (rc != 0)
		return weft_err_set(err, rc, "cannot read trusted roots");
	trust.roots = roots;
	trust.n = nroots;
	rc = weft_entry_verify(env, len, &trust, now_us, info, &body, &blen,
			       err);
	free(roots);
	if (rc != 0)
		return rc;
	rc = weft_entry_check_body(info, body, blen, err);
	if (rc != 0) {
		free(body);
		return rc;
	}
	free(body);
	have = weft_catalog_version_txn(st, txn, info->kind, info->origin,
					info->name);
	if (have >= info->version)
		return weft_err_set(
		    err, WEFT_ESTALE,
		    "catalog entry \"%s\" version %llu is not newer than the "
		    "stored version %llu",
		    info->name, (unsigned long long)info->version,
		    (unsigned long long)have);
	k.mv_size = weft_cat_key(key, info->kind, info->origin, info->name);
	k.mv_data = key;
	v.mv_size = len;
	v.mv_data = (void *)env;
	return mdb_put(txn, st->st_catalog, &k, &v, 0);
}

typedef struct weft_cat_put {
	weft_store_t *st;
	const uint8_t *env;
	size_t len;
	int64_t now_us;
	weft_entry_info_t *info;
} weft_cat_put_t;

static int
weft_catalog_put_fn(MDB_txn *txn, void *arg, weft_err_t *err)
{
	weft_cat_put_t *p = arg;

	return weft_catalog_put_txn(p->st, txn, p->env, p->len, p->now_us,
				    p->info, err);
}

int
weft_catalog_put(weft_store_t *st, const uint8_t *env, size_t len,
		 int64_t now_us, weft_entry_info_t *info, weft_err_t *err)
{
	weft_cat_put_t p = {st, env, len, now_us, info};

	return weft_store_write(st, 0, "catalog", weft_catalog_put_fn, &p, err);
}

typedef struct weft_cat_many {
	weft_store_t *st;
	const uint8_t *const *envs;
	const size_t *lens;
	size_t n, stored;
	int64_t now_us;
	weft_entry_info_t *infos;
} weft_cat_many_t;

static int
weft_catalog_many_fn(MDB_txn *txn, void *arg, weft_err_t *err)
{
	weft_cat_many_t *m = arg;
	weft_entry_info_t info = {0};
	size_t i;
	int rc;

	m->stored = 0;
	for (i = 0; i < m->n; i++) {
		weft_entry_info_t *ip = m->infos ? &m->infos[i] : &info;

		rc = weft_catalog_put_txn(m->st, txn, m->envs[i], m->lens[i],
					  m->now_us, ip, err);
		if (rc == WEFT_ESTALE) {
			ip->kind = 0;
			if (err != NULL)
				memset(err, 0, sizeof(*err));
			continue;
		}
		if (rc != 0 && !weft_store_is_mdb(rc) && rc != WEFT_ESTORE &&
		    rc != WEFT_ENOMEM && rc != WEFT_EAGAIN &&
		    rc != WEFT_ERETRY && rc != WEFT_EMAPFULL) {
			/* this entry is refused (it no longer verifies, ...):
			 * the others are stored */
			ip->kind = rc;
			if (err != NULL)
				memset(err, 0, sizeof(*err));
			continue;
		}
		if (rc != 0)
			return rc;
		m->stored++;
	}
	return 0;
}

int
weft_catalog_put_many(weft_store_t *st, const uint8_t *const *envs,
		      const size_t *lens, size_t n, int64_t now_us,
		      weft_entry_info_t *infos, size_t *stored, weft_err_t *err)
{
	weft_cat_many_t m = {st, envs, lens, n, 0, now_us, infos};
	size_t i, hint = 0;
	int rc;

	for (i = 0; i < n; i++)
		hint += lens[i];
	rc = weft_store_write(st, hint, "catalog", weft_catalog_many_fn, &m,
			      err);
	*stored = rc == 0 ? m.stored : 0;
	return rc;
}

int
weft_catalog_get(weft_store_t *st, int kind,
		 const uint8_t origin[WEFT_PK_BYTES], const char *name,
		 uint8_t **env, size_t *len, weft_err_t *err)
{
	uint8_t key[WEFT_CAT_KEY_MAX];
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	*env = NULL;
	*len = 0;
	rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err);
	if (rc != 0)
		return rc;
	k.mv_size = weft_cat_key(key, kind, origin, name);
	k.mv_data = key;
	rc = mdb_get(txn, st->st_catalog, &k, &v);
	if (rc == MDB_NOTFOUND) {
		rc = weft_err_set(err, WEFT_ENOTFOUND,
				  "no catalog entry \"%s\"", name);
	} else if (rc != 0) {
		rc = weft_err_set(err, WEFT_ESTORE, "catalog: %s",
				  mdb_strerror(rc));
	} else {
		*env = malloc(v.mv_size ? v.mv_size : 1);
		if (*env == NULL) {
			rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		} else {
			memcpy(*env, v.mv_data, v.mv_size);
			*len = v.mv_size;
		}
	}
	mdb_txn_abort(txn);
	return rc;
}

/* Call fn(arg, env, len) for every stored entry of kind (0: all) whose
 * name starts with prefix (NULL: all), in key order, inside txn. */
static int
catalog_walk(weft_store_t *st, MDB_txn *txn, int kind, const char *prefix,
	     weft_catalog_raw_fn fn, void *arg, weft_err_t *err)
{
	size_t plen = prefix ? strlen(prefix) : 0;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint8_t start[1];
	int rc;

	rc = mdb_cursor_open(txn, st->st_catalog, &cur);
	if (rc != 0)
		return weft_err_set(err, WEFT_ESTORE, "catalog: %s",
				    mdb_strerror(rc));
	start[0] = (uint8_t)kind;
	k.mv_size = kind ? 1 : 0;
	k.mv_data = start;
	rc = kind ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
		  : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;

		if (k.mv_size < 1 + WEFT_PK_BYTES)
			continue;
		if (kind && kb[0] != kind)
			break;
		if (plen && (k.mv_size - 1 - WEFT_PK_BYTES < plen ||
			     memcmp(kb + 1 + WEFT_PK_BYTES, prefix, plen)))
			continue;
		rc = fn(arg, v.mv_data, v.mv_size);
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	mdb_cursor_close(cur);
	return rc;
}

/* weft_catalog_list's walk: re-verify, then the caller's fn. */
typedef struct catalog_verified {
	const weft_trust_t *trust;
	int64_t now;
	weft_catalog_fn fn;
	void *arg;
} catalog_verified_t;

static int
catalog_verified(void *arg, const uint8_t *env, size_t len)
{
	catalog_verified_t *cv = arg;
	weft_entry_info_t info;

	/* Re-verify on the way out: what was trusted when stored may have
	 * been revoked or expired since. */
	if (weft_entry_verify(env, len, cv->trust, cv->now, &info, NULL, NULL,
			      NULL) != 0)
		return 0;
	return cv->fn(cv->arg, &info, env, len);
}

int
weft_catalog_list(weft_store_t *st, int kind, const char *prefix,
		  weft_catalog_fn fn, void *arg, weft_err_t *err)
{
	weft_pubkey_t *roots = NULL;
	weft_trust_t trust = {0};
	catalog_verified_t cv = {&trust, weft_now_us(), fn, arg};
	size_t nroots;
	MDB_txn *txn;
	int rc;

	rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err);
	if (rc != 0)
		return rc;
	rc = weft_store_trust_load(st, txn, &roots, &nroots);
	if (rc != 0) {
		rc = weft_err_set(err, rc, "cannot read trusted roots");
		goto out;
	}
	trust.roots = roots;
	trust.n = nroots;
	rc = catalog_walk(st, txn, kind, prefix, catalog_verified, &cv, err);
out:
	mdb_txn_abort(txn);
	free(roots);
	return rc;
}

int
weft_catalog_check(weft_store_t *st, weft_store_problem_fn fn, void *arg,
		   weft_err_t *err)
{
	weft_pubkey_t *roots = NULL;
	weft_trust_t trust = {0};
	size_t nroots;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	int64_t now = weft_now_us();
	int rc, problems = 0;

	rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err);
	if (rc != 0)
		return rc;
	rc = weft_store_trust_load(st, txn, &roots, &nroots);
	if (rc == 0)
		rc = mdb_cursor_open(txn, st->st_catalog, &cur) ? WEFT_ESTORE
								: 0;
	if (rc != 0) {
		rc = weft_err_set(err, rc, "cannot read the catalog");
		goto out;
	}
	trust.roots = roots;
	trust.n = nroots;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		weft_entry_info_t info;
		weft_err_t e = {0};
		const uint8_t *kb = k.mv_data;
		size_t nl = k.mv_size > 1 + WEFT_PK_BYTES
				? k.mv_size - 1 - WEFT_PK_BYTES
				: 0;

		if (weft_entry_verify(v.mv_data, v.mv_size, &trust, now, &info,
				      NULL, NULL, &e) == 0)
			continue;
		problems++;
		if (fn != NULL) {
			char what[WEFT_ERR_MAX + 256];

			snprintf(what, sizeof(what),
				 "catalog entry \"%.*s\": %s",
				 (int)(nl > 200 ? 200 : nl),
				 nl ? (const char *)kb + 1 + WEFT_PK_BYTES : "",
				 e.msg);
			fn(arg, what);
		}
	}
	rc = problems;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	free(roots);
	return rc;
}

int
weft_catalog_raw(weft_store_t *st, int kind, weft_catalog_raw_fn fn, void *arg,
		 weft_err_t *err)
{
	MDB_txn *txn;
	int rc;

	rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err);
	if (rc != 0)
		return rc;
	rc = catalog_walk(st, txn, kind, NULL, fn, arg, err);
	mdb_txn_abort(txn);
	return rc;
}

int
weft_catalog_raw_origin(weft_store_t *st, const uint8_t origin[WEFT_PK_BYTES],
			weft_catalog_raw_fn fn, void *arg, weft_err_t *err)
{
	uint8_t start[1 + WEFT_PK_BYTES];
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	int kind, rc;

	rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err);
	if (rc != 0)
		return rc;
	rc = mdb_cursor_open(txn, st->st_catalog, &cur);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return weft_err_set(err, WEFT_ESTORE, "catalog: %s",
				    mdb_strerror(rc));
	}
	/* keys are kind, origin, name: one range per kind */
	for (kind = WEFT_ENTRY_NODE; kind <= WEFT_ENTRY_REVOCATION; kind++) {
		start[0] = (uint8_t)kind;
		memcpy(start + 1, origin, WEFT_PK_BYTES);
		k.mv_size = sizeof(start);
		k.mv_data = start;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (k.mv_size < sizeof(start) ||
			    memcmp(k.mv_data, start, sizeof(start)) != 0)
				break;
			if ((rc = fn(arg, v.mv_data, v.mv_size)) != 0)
				goto out;
		}
	}
	rc = 0;
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

typedef struct cat_drop {
	weft_store_t *st;
	const uint8_t *origin;
	size_t n;
} cat_drop_t;

static int
catalog_drop_fn(MDB_txn *txn, void *arg, weft_err_t *err)
{
	cat_drop_t *d = arg;
	uint8_t start[1 + WEFT_PK_BYTES];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int kind, rc;

	d->n = 0;
	rc = mdb_cursor_open(txn, d->st->st_catalog, &cur);
	if (rc != 0)
		return weft_err_set(err, WEFT_ESTORE, "catalog: %s",
				    mdb_strerror(rc));
	for (kind = WEFT_ENTRY_NODE; kind < WEFT_ENTRY_REVOCATION; kind++) {
		start[0] = (uint8_t)kind;
		memcpy(start + 1, d->origin, WEFT_PK_BYTES);
		k.mv_size = sizeof(start);
		k.mv_data = start;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (rc == 0 && k.mv_size >= sizeof(start) &&
		       memcmp(k.mv_data, start, sizeof(start)) == 0) {
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				break;
			d->n++;
			/* after a delete, NEXT gives the record that moved
			 * under the cursor (LMDB's C_DEL) */
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			break;
		rc = 0;
	}
	mdb_cursor_close(cur);
	return rc;
}

int
weft_catalog_drop_origin(weft_store_t *st, const uint8_t origin[WEFT_PK_BYTES],
			 size_t *n, weft_err_t *err)
{
	cat_drop_t d = {st, origin, 0};
	int rc = weft_store_write(st, 0, "catalog", catalog_drop_fn, &d, err);

	*n = rc == 0 ? d.n : 0;
	return rc;
}

/* ---- descriptors of other nodes, inside a snapshot ---- */

/* Does the descriptor entry name nm[0..n) match want ("domain.product",
 * or a bare "product" matching any domain)? */
static int
catalog_name_match(const uint8_t *nm, size_t n, const char *want)
{
	size_t wl = strlen(want);

	if (strchr(want, '.') != NULL)
		return n == wl && memcmp(nm, want, n) == 0;
	return n > wl + 1 && nm[n - wl - 1] == '.' &&
	       memcmp(nm + n - wl, want, wl) == 0 &&
	       memchr(nm, '.', n - wl - 1) == NULL;
}

int
weft_catalog_descriptors_txn(weft_store_t *st, MDB_txn *txn, const char *name,
			     const uint8_t *self, int64_t now_us,
			     weft_descriptor_fn fn, void *arg, weft_err_t *err)
{
	weft_pubkey_t *roots = NULL;
	weft_trust_t trust = {0};
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint8_t start[1] = {WEFT__ENTRY_KIND__ENTRY_DESCRIPTOR};
	size_t nroots;
	int rc;

	rc = weft_store_trust_load(st, txn, &roots, &nroots);
	if (rc != 0)
		return weft_err_set(err, rc, "cannot read trusted roots");
	trust.roots = roots;
	trust.n = nroots;
	rc = mdb_cursor_open(txn, st->st_catalog, &cur);
	if (rc != 0) {
		free(roots);
		return weft_store_mdb_err(err, rc, "catalog");
	}
	k.mv_size = 1;
	k.mv_data = start;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		weft_product_info_t pi = {0};
		weft_entry_info_t info;
		uint8_t *body = NULL;
		size_t blen = 0;

		if (k.mv_size < 1 + WEFT_PK_BYTES ||
		    kb[0] != WEFT__ENTRY_KIND__ENTRY_DESCRIPTOR) {
			rc = MDB_NOTFOUND; /* past the descriptors: done */
			break;
		}
		if ((self && memcmp(kb + 1, self, WEFT_PK_BYTES) == 0) ||
		    !catalog_name_match(kb + 1 + WEFT_PK_BYTES,
					k.mv_size - 1 - WEFT_PK_BYTES, name))
			continue;
		/* verified when stored; again here, as weft_catalog_list
		 * does, since a root removed since hides what it signed */
		if (weft_entry_verify(v.mv_data, v.mv_size, &trust, now_us,
				      &info, &body, &blen, NULL) != 0)
			continue;
		if (info.tombstone ||
		    weft_product_info_decode(body, blen, &pi, NULL) != 0) {
			free(body);
			continue;
		}
		free(body);
		rc = fn(arg, &pi, &info);
		weft_product_info_clear(&pi);
		if (rc != 0)
			goto out;
	}
	rc = rc == 0 || rc == MDB_NOTFOUND
		 ? 0
		 : weft_store_mdb_err(err, rc, "catalog");
out:
	mdb_cursor_close(cur);
	free(roots);
	return rc;
}
