/*
 * policy_store.c: the node's own product policies in the catalog table:
 * setting or dropping one (a signed POLICY entry, in one transaction
 * with the check that it binds against the product as stored), and
 * reading the one in force inside a snapshot (query/serve.c, at every
 * fragment). See storage/policy_store.h.
 */
#include "storage/policy_store.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "storage/catalog.h"
#include "storage/store_int.h"
#include "weft.pb-c.h"

typedef struct ps_set {
	weft_store_t *st;
	const weft_signer_t *signer;
	const char *name;
	const Weft__Policy *p; /* NULL: drop */
	const char *path;
	uint64_t version; /* out */
} ps_set_t;

/* The product's descriptor as stored, inside txn. */
static int
ps_product(weft_store_t *st, MDB_txn *txn, const char *name,
	   weft_product_info_t *pi, weft_err_t *err)
{
	MDB_val k = {strlen(name), (void *)name}, v;
	Weft__ProductMeta *m;
	int rc;

	rc = mdb_get(txn, st->st_products, &k, &v);
	if (rc == MDB_NOTFOUND)
		return weft_err_set(err, WEFT_ENOTFOUND,
				    "no product \"%s\" on this node (a policy "
				    "is set where its product is published)",
				    name);
	if (rc != 0)
		return weft_err_set(err, WEFT_ESTORE, "products: %s",
				    mdb_strerror(rc));
	m = weft__product_meta__unpack(NULL, v.mv_size, v.mv_data);
	if (m == NULL)
		return weft_err_set(err, WEFT_ECORRUPT,
				    "product \"%s\": corrupt metadata", name);
	rc = weft_product_info_decode(m->descriptor.data, m->descriptor.len, pi,
				      err);
	weft__product_meta__free_unpacked(m, NULL);
	return rc;
}

/* Is there a policy in force (stored, not a drop) for name, inside txn?
 * 1 yes, 0 no. */
static int
ps_in_force(weft_store_t *st, MDB_txn *txn, const uint8_t *self,
	    const char *name)
{
	Weft__Envelope *e;
	Weft__CatalogEntry *ce = NULL;
	MDB_val v;
	int yes = 0;

	if (weft_catalog_get_txn(st, txn, WEFT_ENTRY_POLICY, self, name, &v) !=
	    0)
		return 0;
	e = weft__envelope__unpack(NULL, v.mv_size, v.mv_data);
	if (e != NULL)
		ce = weft__catalog_entry__unpack(NULL, e->payload.len,
						 e->payload.data);
	yes = ce != NULL && !ce->tombstone;
	weft__catalog_entry__free_unpacked(ce, NULL);
	weft__envelope__free_unpacked(e, NULL);
	return yes;
}

static int
ps_set_fn(MDB_txn *txn, void *arg, weft_err_t *err)
{
	ps_set_t *s = arg;
	const uint8_t *self = s->signer->kp->pk;
	weft_product_info_t pi = {0};
	weft_entry_info_t ei;
	uint8_t *body = NULL, *env = NULL;
	size_t blen = 0, elen;
	int rc;

	if (s->p != NULL) {
		rc = ps_product(s->st, txn, s->name, &pi, err);
		if (rc == 0)
			rc = weft_policy_bind(s->p, &pi, s->path, err);
		weft_product_info_clear(&pi);
		if (rc != 0)
			return rc;
		blen = weft__policy__get_packed_size(s->p);
		if (blen > WEFT_POLICY_MAX)
			return weft_err_set(err, WEFT_ETOOBIG,
					    "%s: the policy takes %zu bytes, "
					    "more than %u",
					    s->path ? s->path : "policy", blen,
					    WEFT_POLICY_MAX);
		body = malloc(blen ? blen : 1);
		if (body == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		weft__policy__pack(s->p, body);
	} else if (!ps_in_force(s->st, txn, self, s->name)) {
		return weft_err_set(err, WEFT_ENOTFOUND,
				    "no policy is set for %s", s->name);
	}
	s->version = weft_catalog_version_txn(s->st, txn, WEFT_ENTRY_POLICY,
					      self, s->name) +
		     1;
	rc = weft_entry_make(s->signer, WEFT_ENTRY_POLICY, s->name, s->version,
			     s->p == NULL, 0, body, blen, &env, &elen, err);
	free(body);
	if (rc == 0)
		rc = weft_catalog_put_txn(s->st, txn, env, elen, weft_now_us(),
					  &ei, err);
	free(env);
	return rc;
}

int
weft_policy_set(weft_store_t *st, const weft_signer_t *signer, const char *name,
		const Weft__Policy *p, const char *path, uint64_t *version,
		weft_err_t *err)
{
	ps_set_t s = {st, signer, name, p, path, 0};
	int rc;

	rc = weft_product_name_check(name, err);
	if (rc == 0 && p != NULL && strcmp(p->product, name) != 0)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "%s: the policy is about %s, not %s",
				  path ? path : "policy", p->product, name);
	if (rc == 0)
		rc = weft_store_write(st, 0, "policy", ps_set_fn, &s, err);
	if (rc == 0 && version != NULL)
		*version = s.version;
	return rc;
}

int
weft_snapshot_policy(weft_snapshot_t *snap, const uint8_t *self,
		     const char *name, Weft__Policy **out, uint64_t *version,
		     weft_err_t *err)
{
	Weft__Envelope *e = NULL;
	Weft__CatalogEntry *ce = NULL;
	MDB_val v;
	int rc;

	*out = NULL;
	if (version != NULL)
		*version = 0;
	rc = weft_catalog_get_txn(weft_snapshot_store(snap),
				  weft_snapshot_txn(snap), WEFT_ENTRY_POLICY,
				  self, name, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return weft_err_set(err, WEFT_ESTORE, "catalog: %s",
				    mdb_strerror(rc));
	/* our own entry, verified when it was stored: decoded again as
	 * hostile bytes all the same (a damaged store refuses, never opens) */
	e = weft__envelope__unpack(NULL, v.mv_size, v.mv_data);
	if (e != NULL)
		ce = weft__catalog_entry__unpack(NULL, e->payload.len,
						 e->payload.data);
	if (ce == NULL)
		rc = weft_err_set(err, WEFT_ECORRUPT,
				  "the policy of %s is damaged", name);
	else if (!ce->tombstone)
		rc = weft_policy_decode(ce->body.data, ce->body.len, out, err);
	if (rc == 0 && version != NULL && ce != NULL && !ce->tombstone)
		*version = ce->version;
	weft__catalog_entry__free_unpacked(ce, NULL);
	weft__envelope__free_unpacked(e, NULL);
	return rc;
}

uint64_t
weft_policy_epoch(weft_store_t *st, const uint8_t *origin)
{
	uint8_t prefix[1 + WEFT_PK_BYTES];
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t sum = 0;
	weft_err_t err = {0};
	int rc;

	prefix[0] = WEFT_ENTRY_POLICY;
	memcpy(prefix + 1, origin, WEFT_PK_BYTES);
	if (weft_store_txn_begin(st, MDB_RDONLY, &txn, &err) != 0)
		return 0;
	if (mdb_cursor_open(txn, st->st_catalog, &cur) != 0) {
		mdb_txn_abort(txn);
		return 0;
	}
	k.mv_size = sizeof(prefix);
	k.mv_data = prefix;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < sizeof(prefix) ||
		    memcmp(k.mv_data, prefix, sizeof(prefix)) != 0)
			break;
		sum += weft_stored_version(v.mv_data, v.mv_size);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return sum;
}
