/*
 * test_store.c: the product store and the catalog store against a real
 * LMDB environment in a temp directory: versions, append/replace/drop,
 * snapshots, map growth and its cap, and catalog entries that must be
 * refused (bit flips, untrusted signer, validity window, stale version,
 * someone else's origin).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "storage/catalog.h"
#include "storage/chunk.h"
#include "storage/policy.h"
#include "storage/store.h"
#include "testutil.h"
#include "weft.pb-c.h"

typedef struct fx {
	char *dir;
	weft_store_t *st;
	weft_test_id_t id;
} fx_t;

static int
setup(void **state)
{
	fx_t *f = calloc(1, sizeof(*f));
	weft_store_opts_t o = {0};
	int64_t now = weft_now_s();

	f->dir = weft_test_tmpdir();
	o.create = 1;
	assert_int_equal(weft_store_open(f->dir, &o, &f->st, NULL), 0);
	weft_test_id_make(&f->id, "acme", "n1", now - 60, now + 86400);
	assert_int_equal(weft_store_trust_add(f->st, &f->id.root, NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx_t *f = *state;

	weft_store_close(f->st);
	weft_test_rmrf(f->dir);
	free(f->dir);
	weft_test_id_free(&f->id);
	free(f);
	return 0;
}

/* Write `rows` rows of (id int64, name text) as product name. */
static int
publish(fx_t *f, const char *name, int mode, int rows, int base,
	weft_err_t *err)
{
	weft_colbuf_t *a, *b;
	weft_pwriter_t *w;
	weft_product_info_t *pi;
	const uint8_t *p;
	size_t l;
	uint64_t ver;
	int i, rc;

	rc = weft_pwriter_begin(f->st, name, mode, 0, &w, err);
	if (rc != 0)
		return rc;
	assert_int_equal(weft_colbuf_new(WEFT_T_INT64, &a), 0);
	assert_int_equal(weft_colbuf_new(WEFT_T_TEXT, &b), 0);
	for (i = 0; i < rows; i++) {
		char s[16];

		weft_colbuf_push_i64(a, base + i);
		snprintf(s, sizeof(s), "n%d", (base + i) % 10);
		weft_colbuf_push_text(b, s, strlen(s));
		if (weft_colbuf_full(a) || i == rows - 1) {
			uint32_t n = a->cb_count;

			assert_int_equal(weft_colbuf_encode(a, &p, &l), 0);
			rc = weft_pwriter_put_chunk(w, 0, p, l, err);
			if (rc == 0) {
				assert_int_equal(weft_colbuf_encode(b, &p, &l),
						 0);
				rc = weft_pwriter_put_chunk(w, 1, p, l, err);
			}
			if (rc != 0) {
				weft_pwriter_abort(w);
				goto out;
			}
			weft_pwriter_add_rows(w, n);
			weft_colbuf_reset(a);
			weft_colbuf_reset(b);
		}
	}
	pi = weft_pwriter_info(w);
	if (mode != WEFT_PUB_APPEND) {
		pi->ncols = 2;
		pi->cols = calloc(2, sizeof(weft_column_t));
		pi->cols[0].name = strdup("id");
		pi->cols[0].type = WEFT_T_INT64;
		pi->cols[1].name = strdup("name");
		pi->cols[1].type = WEFT_T_TEXT;
		pi->owner = strdup("team-a");
	}
	rc = weft_pwriter_commit(w, &f->id.signer, &ver, err);
out:
	weft_colbuf_free(a);
	weft_colbuf_free(b);
	return rc;
}

static void
test_versions(void **state)
{
	fx_t *f = *state;
	weft_product_info_t pi;
	weft_err_t err = {0};

	assert_int_equal(
	    publish(f, "sales.orders", WEFT_PUB_CREATE, 20000, 0, &err), 0);
	assert_int_equal(weft_product_get(f->st, "sales.orders", &pi, &err), 0);
	assert_int_equal(pi.version, 1);
	assert_int_equal(pi.row_count, 20000);
	assert_string_equal(pi.org, "acme");
	assert_string_equal(pi.node, "n1");
	assert_string_equal(pi.owner, "team-a");
	weft_product_info_clear(&pi);
	/* create again: refused, nothing changes */
	assert_int_equal(
	    publish(f, "sales.orders", WEFT_PUB_CREATE, 5, 0, &err),
	    WEFT_EEXIST);
	assert_non_null(strstr(err.msg, "already exists"));
	assert_int_equal(
	    publish(f, "sales.orders", WEFT_PUB_APPEND, 100, 20000, &err), 0);
	assert_int_equal(weft_product_get(f->st, "sales.orders", &pi, &err), 0);
	assert_int_equal(pi.version, 2);
	assert_int_equal(pi.row_count, 20100);
	assert_string_equal(pi.owner, "team-a"); /* kept by append */
	weft_product_info_clear(&pi);
	assert_int_equal(
	    weft_store_check(f->st, weft_test_problem, stderr, &err), 0);
	assert_int_equal(
	    publish(f, "sales.orders", WEFT_PUB_REPLACE, 7, 0, &err), 0);
	assert_int_equal(weft_product_get(f->st, "sales.orders", &pi, &err), 0);
	assert_int_equal(pi.version, 3);
	assert_int_equal(pi.row_count, 7);
	weft_product_info_clear(&pi);
	assert_int_equal(
	    weft_store_check(f->st, weft_test_problem, stderr, &err), 0);
	/* append to a missing product */
	assert_int_equal(publish(f, "sales.nope", WEFT_PUB_APPEND, 1, 0, &err),
			 WEFT_ENOTFOUND);
	/* drop, then re-create: version keeps rising past the tombstone */
	assert_int_equal(
	    weft_product_drop(f->st, "sales.orders", &f->id.signer, &err), 0);
	assert_int_equal(weft_product_get(f->st, "sales.orders", &pi, &err),
			 WEFT_ENOTFOUND);
	assert_int_equal(
	    publish(f, "sales.orders", WEFT_PUB_CREATE, 3, 0, &err), 0);
	assert_int_equal(weft_product_get(f->st, "sales.orders", &pi, &err), 0);
	assert_int_equal(pi.version, 5);
	weft_product_info_clear(&pi);
	assert_int_equal(
	    weft_store_check(f->st, weft_test_problem, stderr, &err), 0);
}

/* A snapshot taken before a replace still reads the old contents. */
static void
test_snapshot(void **state)
{
	fx_t *f = *state;
	weft_snapshot_t *s;
	weft_product_info_t pi;
	weft_chunk_view_t v;
	weft_err_t err = {0};
	const uint8_t *b;
	size_t l;
	uint64_t sid;
	uint32_t n;

	assert_int_equal(publish(f, "a.b", WEFT_PUB_CREATE, 10, 100, &err), 0);
	assert_int_equal(weft_snapshot_begin(f->st, &s, &err), 0);
	assert_int_equal(publish(f, "a.b", WEFT_PUB_REPLACE, 5, 0, &err), 0);
	assert_int_equal(weft_product_drop(f->st, "a.b", &f->id.signer, &err),
			 0);
	assert_int_equal(weft_snapshot_product(s, "a.b", &pi, &sid, &n, &err),
			 0);
	assert_int_equal(pi.row_count, 10);
	assert_int_equal(n, 1);
	assert_int_equal(weft_snapshot_chunk(s, sid, 0, 0, &b, &l, &err), 0);
	assert_int_equal(weft_chunk_view(b, l, &v, &err), 0);
	assert_int_equal(weft_chunk_i64(&v, 9), 109);
	weft_product_info_clear(&pi);
	weft_snapshot_end(s);
}

/* A fresh store in DIR/sub with the given map sizes, trusting f's org. */
static weft_store_t *
small_store(fx_t *f, size_t init, size_t max)
{
	weft_store_opts_t o = {0};
	weft_store_t *st;
	char sub[4096];

	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	o.create = 1;
	o.map_init = init;
	o.map_max = max;
	assert_int_equal(weft_store_open(sub, &o, &st, NULL), 0);
	assert_int_equal(weft_store_trust_add(st, &f->id.root, NULL), 0);
	return st;
}

/*
 * A second open with a smaller map (a CLI command while the agent runs)
 * must not cut the file under the first one's map: with MDB_WRITEMAP the
 * first process's next write past the new end would fault (SIGBUS). The
 * file keeps its size, and the first store still writes.
 */
static void
test_map_keeps_file(void **state)
{
	fx_t *f = *state;
	weft_store_opts_t o = {0};
	weft_store_t *big = small_store(f, 32u << 20, 0), *small;
	weft_err_t err = {0};
	struct stat sb;
	char sub[4096], path[4200];
	int i;

	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	snprintf(path, sizeof(path), "%s/data.mdb", sub);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size >= (32 << 20));
	o.map_init = 1u << 20;
	assert_int_equal(weft_store_open(sub, &o, &small, &err), 0);
	assert_int_equal(weft_store_meta_put(small, "k", "v", 1, &err), 0);
	weft_store_close(small);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size >= (32 << 20));
	for (i = 0; i < 64; i++) { /* writes spread over the big map */
		char k[16], v[65536];

		snprintf(k, sizeof(k), "k%d", i);
		memset(v, 'a' + i % 26, sizeof(v));
		assert_int_equal(
		    weft_store_meta_put(big, k, v, sizeof(v), &err), 0);
	}
	weft_store_close(big);
}

/* A map that may not grow far enough: clear error, old version intact. */
static void
test_map_full(void **state)
{
	fx_t *f = *state;
	weft_product_info_t pi;
	weft_err_t err = {0};
	fx_t g = *f;
	int rc;

	g.st = small_store(f, 1u << 20, 4u << 20);
	assert_int_equal(publish(&g, "big.one", WEFT_PUB_CREATE, 1000, 0, &err),
			 0);
	do
		rc = publish(&g, "big.one", WEFT_PUB_REPLACE, 1000000, 0, &err);
	while (rc == WEFT_ERETRY);
	assert_int_equal(rc, WEFT_EMAPFULL);
	assert_non_null(strstr(err.msg, "may not grow"));
	assert_int_equal(weft_product_get(g.st, "big.one", &pi, &err), 0);
	assert_int_equal(pi.version, 1);
	assert_int_equal(pi.row_count, 1000);
	weft_product_info_clear(&pi);
	assert_int_equal(
	    weft_store_check(g.st, weft_test_problem, stderr, &err), 0);
	weft_store_close(g.st);
}

/* Growth: a write bigger than the initial map succeeds after retries. */
static void
test_map_grows(void **state)
{
	fx_t *f = *state;
	weft_product_info_t pi;
	weft_err_t err = {0};
	fx_t g = *f;
	int rc, tries = 0;

	g.st = small_store(f, 1u << 20, 0);
	do {
		rc = publish(&g, "big.two", WEFT_PUB_CREATE, 300000, 0, &err);
		tries++;
	} while (rc == WEFT_ERETRY);
	assert_int_equal(rc, 0);
	assert_true(tries > 1);
	assert_int_equal(weft_product_get(g.st, "big.two", &pi, &err), 0);
	assert_int_equal(pi.row_count, 300000);
	weft_product_info_clear(&pi);
	assert_int_equal(
	    weft_store_check(g.st, weft_test_problem, stderr, &err), 0);
	weft_store_close(g.st);
}

/* ---- catalog ---- */

static uint8_t *
make_entry(const weft_signer_t *s, const char *name, uint64_t ver, size_t *len)
{
	weft_product_info_t pi = {0};
	weft_cert_info_t ci;
	uint8_t *body, *env;
	size_t bl;

	/* a descriptor claims its signer's org and node */
	assert_int_equal(weft_cert_decode(s->cert, s->cert_len, &ci, NULL), 0);
	pi.name = (char *)name;
	pi.org = ci.org_name;
	pi.node = ci.subject_name;
	assert_int_equal(weft_product_info_encode(&pi, &body, &bl), 0);
	assert_int_equal(weft_entry_make(s, WEFT_ENTRY_DESCRIPTOR, name, ver, 0,
					 0, body, bl, &env, len, NULL),
			 0);
	free(body);
	return env;
}

static void
test_catalog_claimed_org(void **state)
{
	fx_t *f = *state;
	weft_product_info_t pi = {0};
	weft_entry_info_t ei;
	weft_err_t err = {0};
	uint8_t *body, *env;
	size_t bl, len;

	pi.name = "x.z";
	pi.org = "someone-else";
	pi.node = (char *)f->id.signer.node;
	assert_int_equal(weft_product_info_encode(&pi, &body, &bl), 0);
	assert_int_equal(weft_entry_make(&f->id.signer, WEFT_ENTRY_DESCRIPTOR,
					 "x.z", 1, 0, 0, body, bl, &env, &len,
					 NULL),
			 0);
	assert_int_equal(
	    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err),
	    WEFT_EINVAL);
	assert_non_null(strstr(err.msg, "claims org someone-else"));
	free(body);
	free(env);
}

static void
test_catalog_put_if_newer(void **state)
{
	fx_t *f = *state;
	weft_entry_info_t ei;
	weft_err_t err = {0};
	uint8_t *e1, *e2, *got;
	size_t l1, l2, gl;

	e1 = make_entry(&f->id.signer, "x.y", 1, &l1);
	e2 = make_entry(&f->id.signer, "x.y", 2, &l2);
	assert_int_equal(
	    weft_catalog_put(f->st, e2, l2, weft_now_us(), &ei, &err), 0);
	assert_int_equal(ei.version, 2);
	/* replayed old version and duplicate both refused */
	assert_int_equal(
	    weft_catalog_put(f->st, e1, l1, weft_now_us(), &ei, &err),
	    WEFT_ESTALE);
	assert_int_equal(
	    weft_catalog_put(f->st, e2, l2, weft_now_us(), &ei, &err),
	    WEFT_ESTALE);
	assert_int_equal(weft_catalog_get(f->st, WEFT_ENTRY_DESCRIPTOR,
					  f->id.node->pk, "x.y", &got, &gl,
					  &err),
			 0);
	assert_int_equal(gl, l2);
	assert_memory_equal(got, e2, l2); /* exact bytes kept */
	free(got);
	free(e1);
	free(e2);
}

static void
test_catalog_bit_flips(void **state)
{
	fx_t *f = *state;
	weft_entry_info_t ei;
	weft_err_t err = {0};
	uint8_t *e;
	size_t l, i;
	int bit, stored = 0;

	e = make_entry(&f->id.signer, "flip.me", 1, &l);
	for (i = 0; i < l; i++)
		for (bit = 0; bit < 8; bit++) {
			e[i] ^= (uint8_t)(1 << bit);
			if (weft_catalog_put(f->st, e, l, weft_now_us(), &ei,
					     &err) == 0)
				stored++;
			e[i] ^= (uint8_t)(1 << bit);
		}
	assert_int_equal(stored, 0);
	assert_int_equal(
	    weft_catalog_put(f->st, e, l, weft_now_us(), &ei, &err), 0);
	free(e);
}

static void
test_catalog_untrusted_and_window(void **state)
{
	fx_t *f = *state;
	weft_test_id_t other, old, future;
	weft_entry_info_t ei;
	weft_err_t err = {0};
	int64_t now = weft_now_s();
	uint8_t *e;
	size_t l;

	weft_test_id_make(&other, "evil", "n9", now - 60, now + 86400);
	e = make_entry(&other.signer, "p.q", 1, &l);
	assert_int_equal(
	    weft_catalog_put(f->st, e, l, weft_now_us(), &ei, &err),
	    WEFT_ETRUST);
	free(e);
	weft_test_id_free(&other);

	/* same trusted org, but the node's certificate has expired / is not
	 * yet valid */
	memset(&old, 0, sizeof(old));
	weft_test_id_make(&old, "acme", "n2", now - 86400, now - 3600);
	weft_key_free(old.org);
	old.org = NULL;
	free(old.cert);
	assert_int_equal(weft_cert_issue(f->id.org, "n2", old.node->pk, NULL, 0,
					 now - 86400, now - 3600, 2, &old.cert,
					 &old.cert_len, NULL),
			 0);
	old.signer.cert = old.cert;
	old.signer.cert_len = old.cert_len;
	e = make_entry(&old.signer, "p.q", 1, &l);
	assert_int_equal(
	    weft_catalog_put(f->st, e, l, weft_now_us(), &ei, &err),
	    WEFT_EEXPIRED);
	free(e);
	weft_test_id_free(&old);

	weft_test_id_make(&future, "acme", "n3", now + 3600, now + 7200);
	weft_key_free(future.org);
	future.org = NULL;
	free(future.cert);
	assert_int_equal(weft_cert_issue(f->id.org, "n3", future.node->pk, NULL,
					 0, now + 3600, now + 7200, 3,
					 &future.cert, &future.cert_len, NULL),
			 0);
	future.signer.cert = future.cert;
	future.signer.cert_len = future.cert_len;
	e = make_entry(&future.signer, "p.q", 1, &l);
	assert_int_equal(
	    weft_catalog_put(f->st, e, l, weft_now_us(), &ei, &err),
	    WEFT_EEXPIRED);
	free(e);
	weft_test_id_free(&future);
}

/* An entry whose origin is another node, signed by us: refused. */
static void
test_catalog_foreign_origin(void **state)
{
	fx_t *f = *state;
	Weft__CatalogEntry ce = WEFT__CATALOG_ENTRY__INIT;
	weft_entry_info_t ei;
	weft_err_t err = {0};
	uint8_t other[WEFT_PK_BYTES], *buf, *env;
	size_t len, el;

	memset(other, 7, sizeof(other));
	ce.kind = WEFT__ENTRY_KIND__ENTRY_NODE;
	ce.origin.data = other;
	ce.origin.len = sizeof(other);
	ce.name = "n1";
	ce.version = 1;
	len = weft__catalog_entry__get_packed_size(&ce);
	buf = malloc(len);
	weft__catalog_entry__pack(&ce, buf);
	assert_int_equal(weft_envelope_sign(f->id.node, f->id.cert,
					    f->id.cert_len, buf, len, &env, &el,
					    NULL),
			 0);
	assert_int_equal(
	    weft_catalog_put(f->st, env, el, weft_now_us(), &ei, &err),
	    WEFT_EINVAL);
	assert_non_null(strstr(err.msg, "another node's origin"));
	free(buf);
	free(env);
}

static int
count_cb(void *arg, const weft_entry_info_t *info, const uint8_t *env,
	 size_t len)
{
	(void)info;
	(void)env;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

static void
test_catalog_list(void **state)
{
	fx_t *f = *state;
	weft_entry_info_t ei;
	weft_err_t err = {0};
	const char *names[] = {"sales.a", "sales.b", "hr.c"};
	int i, n = 0;

	for (i = 0; i < 3; i++) {
		size_t l;
		uint8_t *e = make_entry(&f->id.signer, names[i], 1, &l);

		assert_int_equal(
		    weft_catalog_put(f->st, e, l, weft_now_us(), &ei, &err), 0);
		free(e);
	}
	assert_int_equal(weft_catalog_list(f->st, WEFT_ENTRY_DESCRIPTOR,
					   "sales.", count_cb, &n, &err),
			 0);
	assert_int_equal(n, 2);
	n = 0;
	assert_int_equal(weft_catalog_list(f->st, 0, NULL, count_cb, &n, &err),
			 0);
	assert_int_equal(n, 3);
	n = 0;
	assert_int_equal(
	    weft_catalog_list(f->st, WEFT_ENTRY_NODE, NULL, count_cb, &n, &err),
	    0);
	assert_int_equal(n, 0);
}

/* A descriptor whose description is n pseudo-random letters. */
static uint8_t *
make_big_entry(const weft_signer_t *s, const char *name, size_t n, size_t *len)
{
	weft_product_info_t pi = {0};
	weft_cert_info_t ci;
	char *desc = malloc(n + 1);
	uint8_t *body, *env;
	uint64_t x = 0x9E3779B97F4A7C15ull ^ strlen(name);
	size_t i, bl;

	assert_non_null(desc);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		desc[i] =
		    (char)('a' + (x ^ (uint8_t)name[i % strlen(name)]) % 26);
	}
	desc[n] = 0;
	assert_int_equal(weft_cert_decode(s->cert, s->cert_len, &ci, NULL), 0);
	pi.name = (char *)name;
	pi.org = ci.org_name;
	pi.node = ci.subject_name;
	pi.description = desc;
	assert_int_equal(weft_product_info_encode(&pi, &body, &bl), 0);
	assert_int_equal(weft_entry_make(s, WEFT_ENTRY_DESCRIPTOR, name, 1, 0,
					 0, body, bl, &env, len, NULL),
			 0);
	free(body);
	free(desc);
	return env;
}

/*
 * Fill a small map through the catalog: every put either stores its entry
 * (growing the map on the way) or fails with WEFT_EMAPFULL and a message
 * and stores nothing; the store still opens, reads and checks after.
 */
static void
test_catalog_map_full(void **state)
{
	enum { MAXN = 200, BODY = 60000 };
	fx_t *f = *state;
	weft_store_opts_t o = {0};
	weft_entry_info_t ei;
	weft_err_t err = {0};
	char sub[4096], name[32];
	size_t map, used, len, gl;
	uint8_t *env, *got;
	int i, n, stored = 0, rc = 0;
	weft_store_t *st = small_store(f, 1u << 20, 4u << 20);

	for (i = 0; i < MAXN; i++) {
		snprintf(name, sizeof(name), "fill.f%03d", i);
		env = make_big_entry(&f->id.signer, name, BODY, &len);
		memset(&err, 0, sizeof(err));
		rc = weft_catalog_put(st, env, len, weft_now_us(), &ei, &err);
		if (rc != 0 && rc != WEFT_EMAPFULL)
			fail_msg("put %s: %s", name, err.msg);
		free(env);
		if (rc != 0)
			break;
		stored++;
	}
	/* It filled up, clearly, after growing past the initial map. */
	assert_int_equal(rc, WEFT_EMAPFULL);
	assert_int_equal(err.code, WEFT_EMAPFULL);
	assert_non_null(strstr(err.msg, "store is full"));
	assert_non_null(strstr(err.msg, "may not grow"));
	assert_true(stored > 20);
	weft_store_usage(st, &map, &used);
	assert_true(map > (1u << 20));
	/* The refused entry is not there, not even in part. */
	assert_int_equal(weft_catalog_get(st, WEFT_ENTRY_DESCRIPTOR,
					  f->id.node->pk, name, &got, &gl,
					  &err),
			 WEFT_ENOTFOUND);
	/* A small write still goes in or fails just as clearly. */
	memset(&err, 0, sizeof(err));
	rc = weft_store_meta_put(st, "k", "v", 1, &err);
	assert_true(rc == 0 || (rc == WEFT_EMAPFULL && err.msg[0] != 0));
	weft_store_close(st);

	/* Reopened: every stored entry reads back whole and verifies. */
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	o.map_max = 4u << 20;
	assert_int_equal(weft_store_open(sub, &o, &st, &err), 0);
	n = 0;
	assert_int_equal(weft_catalog_list(st, WEFT_ENTRY_DESCRIPTOR, NULL,
					   count_cb, &n, &err),
			 0);
	assert_int_equal(n, stored);
	for (i = 0; i < stored; i++) {
		snprintf(name, sizeof(name), "fill.f%03d", i);
		env = make_big_entry(&f->id.signer, name, BODY, &len);
		assert_int_equal(weft_catalog_get(st, WEFT_ENTRY_DESCRIPTOR,
						  f->id.node->pk, name, &got,
						  &gl, &err),
				 0);
		assert_true(weft_entry_verify(
				got, gl,
				&(weft_trust_t){&f->id.root, 1, NULL, 0},
				weft_now_us(), &ei, NULL, NULL, &err) == 0);
		assert_int_equal(gl, len);
		free(got);
		free(env);
	}
	assert_int_equal(weft_store_check(st, weft_test_problem, stderr, &err),
			 0);
	weft_store_close(st);
}

static int
raw_count_cb(void *arg, const uint8_t *env, size_t len)
{
	(void)env;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

/* One origin's entries, of every kind, and no other's: what the agent
 * re-reads every few ticks instead of the whole catalog. */
static void
test_catalog_raw_origin(void **state)
{
	fx_t *f = *state;
	weft_test_id_t other;
	weft_entry_info_t ei;
	weft_err_t err = {0};
	uint8_t *env, none[WEFT_PK_BYTES];
	size_t len;
	int n, i;
	static const char *const mine[] = {"a.one", "a.two", "b.three"};

	weft_test_id_make(&other, "other", "o1", weft_now_s() - 60,
			  weft_now_s() + 3600);
	assert_int_equal(weft_store_trust_add(f->st, &other.root, NULL), 0);
	for (i = 0; i < 3; i++) {
		env = make_entry(&f->id.signer, mine[i], 1, &len);
		assert_int_equal(
		    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err),
		    0);
		free(env);
	}
	/* a dropped policy of ours: another kind, the same origin */
	assert_int_equal(weft_entry_make(&f->id.signer, WEFT_ENTRY_POLICY,
					 "a.one", 1, 1, 0, NULL, 0, &env, &len,
					 NULL),
			 0);
	assert_int_equal(
	    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err), 0);
	free(env);
	env = make_entry(&other.signer, "z.four", 1, &len);
	assert_int_equal(
	    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err), 0);
	free(env);
	n = 0;
	assert_int_equal(weft_catalog_raw_origin(f->st, f->id.node->pk,
						 raw_count_cb, &n, &err),
			 0);
	assert_int_equal(n, 4);
	n = 0;
	assert_int_equal(weft_catalog_raw_origin(f->st, other.node->pk,
						 raw_count_cb, &n, &err),
			 0);
	assert_int_equal(n, 1);
	memset(none, 0xff, sizeof(none));
	n = 0;
	assert_int_equal(
	    weft_catalog_raw_origin(f->st, none, raw_count_cb, &n, &err), 0);
	assert_int_equal(n, 0);
	n = 0;
	assert_int_equal(weft_catalog_raw(f->st, 0, raw_count_cb, &n, &err), 0);
	assert_int_equal(n, 5);
	weft_test_id_free(&other);
}

static int
descriptor_cb(void *arg, const weft_product_info_t *pi,
	      const weft_entry_info_t *ei)
{
	(void)ei;
	assert_string_equal(pi->name, "x.y");
	(*(int *)arg)++;
	return 0;
}

/* The descriptors of a name are found whatever entries of other kinds
 * follow them in the catalog: a failure report (kind 4, stored when a
 * node was found unreachable) once made the walk end with "store:
 * catalog: Successful return: 0", failing every mesh query. */
static void
test_catalog_descriptors(void **state)
{
	fx_t *f = *state;
	weft_snapshot_t *snap = NULL;
	weft_entry_info_t ei;
	weft_err_t err = {0};
	uint8_t *env;
	size_t len;
	char hex[65];
	int n, kind;

	env = make_entry(&f->id.signer, "x.y", 1, &len);
	assert_int_equal(
	    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err), 0);
	free(env);
	memset(hex, 'a', 64);
	hex[64] = 0;
	for (kind = WEFT_ENTRY_NODE; kind <= WEFT_ENTRY_REPORT; kind++) {
		if (kind == WEFT_ENTRY_DESCRIPTOR)
			continue;
		/* Each kind's body has its checks; a drop has none. */
		assert_int_equal(weft_entry_make(&f->id.signer, kind, hex, 1, 1,
						 0, NULL, 0, &env, &len, NULL),
				 0);
		assert_int_equal(
		    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err),
		    0);
		free(env);
		assert_int_equal(weft_snapshot_begin(f->st, &snap, &err), 0);
		n = 0;
		if (weft_snapshot_descriptors(snap, "x.y", NULL, weft_now_us(),
					      descriptor_cb, &n, &err) != 0)
			fail_msg("with an entry of kind %d: %s", kind, err.msg);
		assert_int_equal(n, 1);
		n = 0;
		assert_int_equal(weft_snapshot_descriptors(
				     snap, "x.y", f->id.node->pk, weft_now_us(),
				     descriptor_cb, &n, &err),
				 0);
		assert_int_equal(n, 0); /* our own are not "elsewhere" */
		weft_snapshot_end(snap);
	}
}

/*
 * A policy entry carries a weft.Policy about the product it is filed
 * under: an empty or garbled body, or one about another product, is
 * refused and nothing is stored; a good one and a drop go in.
 */
static void
test_catalog_policy_body(void **state)
{
	static const char yaml[] = "product: x.y\ngrants:\n  - to: [globex]\n";
	static const uint8_t junk[] = {0x0a, 0xff, 0x01};
	fx_t *f = *state;
	Weft__Policy *p = NULL;
	weft_entry_info_t ei;
	weft_err_t err = {0};
	uint8_t *body, *env, *got;
	size_t blen, len, gl;

	assert_int_equal(weft_policy_parse((const uint8_t *)yaml,
					   sizeof(yaml) - 1, "p.yaml", &p,
					   &err),
			 0);
	blen = weft__policy__get_packed_size(p);
	body = malloc(blen);
	assert_non_null(body);
	weft__policy__pack(p, body);
	weft__policy__free_unpacked(p, NULL);

	/* Empty, garbled, filed under another product's name. */
	assert_int_equal(weft_entry_make(&f->id.signer, WEFT_ENTRY_POLICY,
					 "x.y", 1, 0, 0, NULL, 0, &env, &len,
					 NULL),
			 0);
	assert_int_not_equal(
	    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err), 0);
	free(env);
	assert_int_equal(weft_entry_make(&f->id.signer, WEFT_ENTRY_POLICY,
					 "x.y", 1, 0, 0, junk, sizeof(junk),
					 &env, &len, NULL),
			 0);
	memset(&err, 0, sizeof(err));
	assert_int_not_equal(
	    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err), 0);
	assert_true(err.msg[0] != 0);
	free(env);
	assert_int_equal(weft_entry_make(&f->id.signer, WEFT_ENTRY_POLICY,
					 "x.z", 1, 0, 0, body, blen, &env, &len,
					 NULL),
			 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(
	    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err),
	    WEFT_EINVAL);
	assert_non_null(strstr(err.msg, "filed under name"));
	free(env);
	assert_int_equal(weft_catalog_get(f->st, WEFT_ENTRY_POLICY,
					  f->id.node->pk, "x.y", &got, &gl,
					  &err),
			 WEFT_ENOTFOUND);

	/* The right one goes in and reads back whole; then its drop. */
	assert_int_equal(weft_entry_make(&f->id.signer, WEFT_ENTRY_POLICY,
					 "x.y", 1, 0, 0, body, blen, &env, &len,
					 NULL),
			 0);
	assert_int_equal(
	    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err), 0);
	free(env);
	assert_int_equal(weft_catalog_get(f->st, WEFT_ENTRY_POLICY,
					  f->id.node->pk, "x.y", &got, &gl,
					  &err),
			 0);
	assert_int_equal(gl, len);
	free(got);
	assert_int_equal(weft_entry_make(&f->id.signer, WEFT_ENTRY_POLICY,
					 "x.y", 2, 1, 0, NULL, 0, &env, &len,
					 NULL),
			 0);
	assert_int_equal(
	    weft_catalog_put(f->st, env, len, weft_now_us(), &ei, &err), 0);
	free(env);
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_raw_origin, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_keeps_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_claimed_org, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_put_if_newer, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_bit_flips, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_untrusted_and_window,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_foreign_origin, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_descriptors, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_map_full, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_catalog_policy_body, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
