/*
 * test_identity.c: cmocka tests for crypto/identity: key generation and
 * key files, certificates and envelopes, including exhaustive single-bit
 * tampering of serialized certificates and envelopes.
 *
 * Each test gets a fresh mkdtemp directory under /tmp (setup) that the
 * teardown removes with everything in it.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "lib/util.h"
#include "weft.pb-c.h"

#define T0 1700000000 /* a fixed "now" for certificates */
#define DAY 86400

/* Per-test fixture: a temp dir, an org, a node of that org with a cert. */
typedef struct fixture {
	char dir[64];
	weft_keypair_t *org, *node;
	weft_pubkey_t root;
	weft_trust_t trust;
	uint8_t *cert;
	size_t cert_len;
} fixture_t;

static void
path_in(const fixture_t *f, const char *name, char out[256])
{
	snprintf(out, 256, "%s/%s", f->dir, name);
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
to_pub(const weft_keypair_t *kp, weft_pubkey_t *pub)
{
	memset(pub, 0, sizeof(*pub));
	pub->kind = kp->kind;
	memcpy(pub->name, kp->name, sizeof(pub->name));
	memcpy(pub->pk, kp->pk, WEFT_PK_BYTES);
}

static uint8_t *
issue(const weft_keypair_t *org, const weft_keypair_t *node, int64_t nb,
      int64_t na, size_t *len)
{
	static const char *const roles[] = {"gateway", "storage"};
	weft_err_t err = {0};
	uint8_t *cert = NULL;
	int rc;

	rc = weft_cert_issue(org, node->name, node->pk, roles, 2, nb, na, 42,
			     &cert, len, &err);
	if (rc != 0)
		fail_msg("cert_issue: %s", err.msg);
	return cert;
}

static int
setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	weft_err_t err = {0};

	assert_non_null(f);
	strcpy(f->dir, "/tmp/weft-test-identity-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(weft_key_generate(WEFT_KEY_ORG, "acme", &f->org, &err),
			 0);
	assert_int_equal(
	    weft_key_generate(WEFT_KEY_NODE, "node-1", &f->node, &err), 0);
	to_pub(f->org, &f->root);
	f->trust.roots = &f->root;
	f->trust.n = 1;
	f->cert = issue(f->org, f->node, T0 - DAY, T0 + DAY, &f->cert_len);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture_t *f = *state;

	free(f->cert);
	weft_key_free(f->org);
	weft_key_free(f->node);
	nftw(f->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
test_name_check(void **state)
{
	weft_err_t err = {0};
	char long_name[WEFT_NAME_MAX + 2];

	assert_int_equal(weft_name_check("node", "a", &err), 0);
	assert_int_equal(weft_name_check("node", "9lives_x-Y", &err), 0);
	memset(long_name, 'a', sizeof(long_name));
	long_name[WEFT_NAME_MAX] = 0;
	assert_int_equal(weft_name_check("node", long_name, &err), 0);
	long_name[WEFT_NAME_MAX] = 'a';
	long_name[WEFT_NAME_MAX + 1] = 0;
	assert_int_equal(weft_name_check("node", long_name, &err), WEFT_EINVAL);
	assert_int_equal(weft_name_check("node", "", &err), WEFT_EINVAL);
	assert_int_equal(weft_name_check("node", NULL, &err), WEFT_EINVAL);
	assert_int_equal(weft_name_check("node", "-x", &err), WEFT_EINVAL);
	assert_int_equal(weft_name_check("node", "_x", &err), WEFT_EINVAL);
	assert_int_equal(weft_name_check("node", "a b", &err), WEFT_EINVAL);
	assert_int_equal(weft_name_check("node", "a.b", &err), WEFT_EINVAL);
	assert_int_equal(weft_name_check("node", "a\n", &err), WEFT_EINVAL);
	assert_non_null(strstr(err.msg, "node name"));
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(weft_name_check("node", "caf\xc3\xa9", &err),
			 WEFT_EINVAL);
}

static void
test_key_generate_invalid(void **state)
{
	weft_keypair_t *kp = (weft_keypair_t *)1;
	weft_err_t err = {0};

	assert_int_equal(weft_key_generate(3, "x", &kp, &err), WEFT_EINVAL);
	assert_null(kp);
	assert_int_equal(weft_key_generate(WEFT_KEY_ORG, "no way", &kp, &err),
			 WEFT_EINVAL);
	assert_null(kp);
	weft_key_free(NULL);
}

static void
test_key_roundtrip(void **state)
{
	fixture_t *f = *state;
	char sec[256], pub[256];
	weft_keypair_t *kp = NULL;
	weft_pubkey_t p1, p2, p3;
	weft_err_t err = {0};
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	struct stat st;

	path_in(f, "acme.key", sec);
	path_in(f, "acme.pub", pub);
	assert_int_equal(weft_key_save(f->org, sec, pub, &err), 0);
	assert_int_equal(stat(sec, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(pub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	assert_int_equal(weft_key_load(sec, &kp, &err), 0);
	assert_int_equal(kp->kind, WEFT_KEY_ORG);
	assert_string_equal(kp->name, "acme");
	assert_memory_equal(kp->pk, f->org->pk, WEFT_PK_BYTES);
	assert_memory_equal(kp->sk, f->org->sk, WEFT_SK_BYTES);
	weft_key_free(kp);

	assert_int_equal(weft_pub_load(pub, &p1, &err), 0);
	assert_int_equal(weft_pub_load(sec, &p2, &err), 0);
	assert_int_equal(p1.kind, WEFT_KEY_ORG);
	assert_string_equal(p1.name, "acme");
	assert_memory_equal(p1.pk, f->org->pk, WEFT_PK_BYTES);
	assert_memory_equal(&p1, &p2, sizeof(p1));

	/* A public file cannot stand in for a secret one. */
	kp = (weft_keypair_t *)1;
	assert_int_equal(weft_key_load(pub, &kp, &err), WEFT_EINVAL);
	assert_null(kp);
	assert_non_null(strstr(err.msg, "acme.pub"));

	assert_int_equal(weft_pub_encode(&p1, &enc, &enc_len), 0);
	assert_int_equal(weft_pub_decode(enc, enc_len, &p3, &err), 0);
	assert_memory_equal(&p1, &p3, sizeof(p1));
	free(enc);

	/* Save without a public file. */
	path_in(f, "node.key", sec);
	assert_int_equal(weft_key_save(f->node, sec, NULL, &err), 0);
	assert_int_equal(weft_key_load(sec, &kp, &err), 0);
	assert_int_equal(kp->kind, WEFT_KEY_NODE);
	assert_memory_equal(kp->sk, f->node->sk, WEFT_SK_BYTES);
	weft_key_free(kp);
}

static void
test_key_refuse_overwrite(void **state)
{
	fixture_t *f = *state;
	char sec[256], pub[256], sec2[256];
	weft_keypair_t *kp = NULL;
	weft_err_t err = {0};

	path_in(f, "acme.key", sec);
	path_in(f, "acme.pub", pub);
	assert_int_equal(weft_key_save(f->org, sec, pub, &err), 0);
	assert_int_equal(weft_key_save(f->node, sec, NULL, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "acme.key: already exists"));
	/* The original is intact. */
	assert_int_equal(weft_key_load(sec, &kp, &err), 0);
	assert_memory_equal(kp->sk, f->org->sk, WEFT_SK_BYTES);
	weft_key_free(kp);

	/* An existing public file refuses too, and nothing is written. */
	path_in(f, "other.key", sec2);
	assert_int_equal(weft_key_save(f->node, sec2, pub, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "acme.pub: already exists"));
	assert_int_equal(access(sec2, F_OK), -1);

	/* The public file cannot be written: the new secret file is removed. */
	path_in(f, "no-such-dir/other.pub", pub);
	assert_int_equal(weft_key_save(f->node, sec2, pub, &err), -ENOENT);
	assert_int_equal(access(sec2, F_OK), -1);
}

/* Write a KeyFile built from kf to path (mode 0600). */
static void
write_keyfile(const char *path, const Weft__KeyFile *kf)
{
	size_t n = weft__key_file__get_packed_size(kf);
	uint8_t *buf = malloc(n);
	weft_err_t err = {0};

	assert_non_null(buf);
	weft__key_file__pack(kf, buf);
	unlink(path);
	assert_int_equal(weft_write_file(path, buf, n, 0600, 0, &err), 0);
	free(buf);
}

static void
expect_load_error(const char *path, int code, const char *msg)
{
	weft_keypair_t *kp = (weft_keypair_t *)1;
	weft_pubkey_t pub;
	weft_err_t err = {0};

	assert_int_equal(weft_key_load(path, &kp, &err), code);
	assert_null(kp);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", msg, err.msg);
	memset(&err, 0, sizeof(err));
	assert_int_equal(weft_pub_load(path, &pub, &err), code);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", msg, err.msg);
}

static void
test_key_tampered(void **state)
{
	fixture_t *f = *state;
	Weft__KeyFile kf = WEFT__KEY_FILE__INIT;
	uint8_t pk[WEFT_PK_BYTES], sk[WEFT_SK_BYTES], big[WEFT_KEYFILE_MAX + 1];
	weft_err_t err = {0};
	char path[256], msg[300];

	path_in(f, "bad.key", path);
	snprintf(msg, sizeof(msg), "%s: ", path);

	kf.format = 1;
	kf.kind = WEFT__KEY_KIND__KEY_ORG;
	kf.name = "acme";
	memcpy(pk, f->org->pk, sizeof(pk));
	memcpy(sk, f->org->sk, sizeof(sk));
	kf.public_key.data = pk;
	kf.public_key.len = WEFT_PK_BYTES;
	kf.secret_key.data = sk;
	kf.secret_key.len = WEFT_SK_BYTES;

	/* Sanity: the untampered file loads. */
	write_keyfile(path, &kf);
	{
		weft_keypair_t *kp = NULL;

		assert_int_equal(weft_key_load(path, &kp, &err), 0);
		weft_key_free(kp);
	}

	pk[3] ^= 1;
	write_keyfile(path, &kf);
	expect_load_error(path, WEFT_EPARSE,
			  "public key does not match secret key");
	pk[3] ^= 1;

	/* The public half inside sk no longer matches its seed. */
	sk[40] ^= 1;
	write_keyfile(path, &kf);
	expect_load_error(path, WEFT_EPARSE,
			  "public key does not match secret key");
	/* ... even if the file's public key agrees with that half. */
	pk[8] ^= 1;
	write_keyfile(path, &kf);
	expect_load_error(path, WEFT_EPARSE,
			  "public key does not match secret key");
	sk[40] ^= 1;
	pk[8] ^= 1;

	/* The seed changed. */
	sk[0] ^= 0x80;
	write_keyfile(path, &kf);
	expect_load_error(path, WEFT_EPARSE,
			  "public key does not match secret key");
	sk[0] ^= 0x80;

	kf.format = 2;
	write_keyfile(path, &kf);
	expect_load_error(path, WEFT_EPARSE, "unsupported key file format 2");
	kf.format = 1;

	kf.kind = WEFT__KEY_KIND__KEY_UNKNOWN;
	write_keyfile(path, &kf);
	expect_load_error(path, WEFT_EPARSE, "unknown key kind 0");
	kf.kind = WEFT__KEY_KIND__KEY_ORG;

	kf.name = "ac me";
	write_keyfile(path, &kf);
	expect_load_error(path, WEFT_EPARSE, "org name \"ac me\"");
	kf.name = "acme";

	kf.public_key.len = 31;
	write_keyfile(path, &kf);
	expect_load_error(path, WEFT_EPARSE, "public key is 31 bytes");
	kf.public_key.len = WEFT_PK_BYTES;

	kf.secret_key.len = 63;
	write_keyfile(path, &kf);
	expect_load_error(path, WEFT_EPARSE, "secret key is 63 bytes");
	kf.secret_key.len = WEFT_SK_BYTES;

	/* Not a protobuf at all. */
	unlink(path);
	assert_int_equal(
	    weft_write_file(path, "\xff\xff\xff", 3, 0600, 0, &err), 0);
	snprintf(msg, sizeof(msg), "%s: not a weft key file", path);
	expect_load_error(path, WEFT_EPARSE, msg);

	/* Too big. */
	unlink(path);
	memset(big, 0, sizeof(big));
	assert_int_equal(weft_write_file(path, big, sizeof(big), 0600, 0, &err),
			 0);
	expect_load_error(path, WEFT_ETOOBIG, path);

	/* Missing. */
	unlink(path);
	expect_load_error(path, -ENOENT, path);
}

static void
test_cert_ok(void **state)
{
	fixture_t *f = *state;
	weft_cert_info_t info, dec;
	weft_err_t err = {0};

	assert_true(f->cert_len <= WEFT_CERT_MAX);
	assert_int_equal(
	    weft_cert_verify(f->cert, f->cert_len, &f->trust, T0, &info, &err),
	    0);
	assert_string_equal(info.org_name, "acme");
	assert_memory_equal(info.org_pk, f->org->pk, WEFT_PK_BYTES);
	assert_string_equal(info.subject_name, "node-1");
	assert_memory_equal(info.subject_pk, f->node->pk, WEFT_PK_BYTES);
	assert_int_equal(info.nroles, 2);
	assert_string_equal(info.roles[0], "gateway");
	assert_string_equal(info.roles[1], "storage");
	assert_int_equal(info.not_before, T0 - DAY);
	assert_int_equal(info.not_after, T0 + DAY);
	assert_int_equal(info.serial, 42);

	/* The window is inclusive at both ends. */
	assert_int_equal(weft_cert_verify(f->cert, f->cert_len, &f->trust,
					  T0 - DAY, NULL, &err),
			 0);
	assert_int_equal(weft_cert_verify(f->cert, f->cert_len, &f->trust,
					  T0 + DAY, NULL, &err),
			 0);

	assert_int_equal(weft_cert_decode(f->cert, f->cert_len, &dec, &err), 0);
	assert_memory_equal(&info, &dec, sizeof(info));
}

static void
test_cert_bitflip(void **state)
{
	fixture_t *f = *state;
	uint8_t *c = malloc(f->cert_len);
	weft_cert_info_t info;
	size_t i;
	int bit;

	assert_non_null(c);
	for (i = 0; i < f->cert_len; i++)
		for (bit = 0; bit < 8; bit++) {
			weft_err_t err = {0};
			int rc;

			memcpy(c, f->cert, f->cert_len);
			c[i] ^= (uint8_t)(1u << bit);
			rc = weft_cert_verify(c, f->cert_len, &f->trust, T0,
					      &info, &err);
			if (rc == 0)
				fail_msg("byte %zu bit %d: tampered cert "
					 "verified",
					 i, bit);
			assert_true(err.msg[0] != 0);
		}
	/* Truncation at every length fails too. */
	for (i = 0; i < f->cert_len; i++) {
		weft_err_t err = {0};

		assert_int_not_equal(
		    weft_cert_verify(f->cert, i, &f->trust, T0, &info, &err),
		    0);
	}
	free(c);
}

static void
test_cert_untrusted(void **state)
{
	fixture_t *f = *state;
	weft_keypair_t *evil = NULL;
	weft_pubkey_t roots[2];
	weft_trust_t trust = {0};
	weft_cert_info_t info;
	weft_err_t err = {0};
	uint8_t *cert;
	size_t len;

	assert_int_equal(weft_key_generate(WEFT_KEY_ORG, "evil", &evil, &err),
			 0);
	cert = issue(evil, f->node, T0 - DAY, T0 + DAY, &len);
	assert_int_equal(
	    weft_cert_verify(cert, len, &f->trust, T0, &info, &err),
	    WEFT_ETRUST);
	assert_non_null(strstr(err.msg, "certificate for node node-1 is "
					"signed by org evil (key "));
	assert_non_null(strstr(err.msg, "which is not trusted"));

	/* No roots at all. */
	trust.roots = NULL;
	trust.n = 0;
	assert_int_equal(weft_cert_verify(cert, len, &trust, T0, &info, &err),
			 WEFT_ETRUST);
	assert_int_equal(weft_cert_verify(cert, len, NULL, T0, &info, &err),
			 WEFT_ETRUST);

	/* Trusted under both roots, it verifies. */
	roots[0] = f->root;
	to_pub(evil, &roots[1]);
	trust.roots = roots;
	trust.n = 2;
	assert_int_equal(weft_cert_verify(cert, len, &trust, T0, &info, &err),
			 0);
	assert_string_equal(info.org_name, "evil");

	/* A root's key trusted under another name does not vouch for it. */
	strcpy(roots[1].name, "acme");
	assert_int_equal(weft_cert_verify(cert, len, &trust, T0, &info, &err),
			 WEFT_ETRUST);
	assert_non_null(strstr(err.msg, "claims org evil"));
	free(cert);
	weft_key_free(evil);
}

static void
test_cert_window(void **state)
{
	fixture_t *f = *state;
	weft_cert_info_t info;
	weft_err_t err = {0};

	memset(&info, 0xaa, sizeof(info));
	assert_int_equal(weft_cert_verify(f->cert, f->cert_len, &f->trust,
					  T0 - DAY - 1, &info, &err),
			 WEFT_EEXPIRED);
	assert_non_null(strstr(err.msg, "not valid until 2023-11-13 22:13:20"));
	/* info untouched on failure. */
	assert_int_equal(info.serial, 0xaaaaaaaaaaaaaaaaull);

	assert_int_equal(weft_cert_verify(f->cert, f->cert_len, &f->trust,
					  T0 + DAY + 1, &info, &err),
			 WEFT_EEXPIRED);
	assert_non_null(strstr(err.msg, "expired at 2023-11-15 22:13:20"));
}

static void
test_cert_issue_invalid(void **state)
{
	fixture_t *f = *state;
	const char *ok_roles[] = {"a"};
	const char *bad_roles[] = {"a", "b c"};
	const char *many[WEFT_ROLES_MAX + 1];
	weft_err_t err = {0};
	uint8_t *cert = (uint8_t *)1;
	size_t len = 1, i;

	/* A node key cannot issue. */
	assert_int_equal(weft_cert_issue(f->node, "n", f->node->pk, ok_roles, 1,
					 0, 1, 1, &cert, &len, &err),
			 WEFT_EINVAL);
	assert_null(cert);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, "not an org key"));

	assert_int_equal(weft_cert_issue(f->org, "bad name", f->node->pk,
					 ok_roles, 1, 0, 1, 1, &cert, &len,
					 &err),
			 WEFT_EINVAL);
	assert_int_equal(weft_cert_issue(f->org, "n", f->node->pk, bad_roles, 2,
					 0, 1, 1, &cert, &len, &err),
			 WEFT_EINVAL);
	assert_non_null(strstr(err.msg, "role name \"b c\""));
	for (i = 0; i < WEFT_ROLES_MAX + 1; i++)
		many[i] = "r";
	assert_int_equal(weft_cert_issue(f->org, "n", f->node->pk, many,
					 WEFT_ROLES_MAX + 1, 0, 1, 1, &cert,
					 &len, &err),
			 WEFT_EINVAL);
	assert_int_equal(weft_cert_issue(f->org, "n", f->node->pk, ok_roles, 1,
					 5, 5, 1, &cert, &len, &err),
			 WEFT_EINVAL);
	assert_int_equal(weft_cert_issue(f->org, "n", f->node->pk, ok_roles, 1,
					 6, 5, 1, &cert, &len, &err),
			 WEFT_EINVAL);
	assert_null(cert);

	/* The maximum number of roles and no roles both work. */
	assert_int_equal(weft_cert_issue(f->org, "n", f->node->pk, many,
					 WEFT_ROLES_MAX, 0, 1, 1, &cert, &len,
					 &err),
			 0);
	free(cert);
	assert_int_equal(weft_cert_issue(f->org, "n", f->node->pk, NULL, 0, 0,
					 1, 1, &cert, &len, &err),
			 0);
	free(cert);
}

/* A SignedCertificate validly signed by org over arbitrary bytes. */
static uint8_t *
sign_raw_cert(const weft_keypair_t *org, const Weft__Certificate *c,
	      size_t *len)
{
	Weft__SignedCertificate sc = WEFT__SIGNED_CERTIFICATE__INIT;
	static const char dom[] = "weft-cert-v1";
	size_t clen = weft__certificate__get_packed_size(c);
	uint8_t *m = malloc(sizeof(dom) + clen), *out;
	uint8_t sig[WEFT_SIG_BYTES];

	assert_non_null(m);
	memcpy(m, dom, sizeof(dom));
	weft__certificate__pack(c, m + sizeof(dom));
	assert_int_equal(
	    crypto_sign_detached(sig, NULL, m, sizeof(dom) + clen, org->sk), 0);
	sc.certificate.data = m + sizeof(dom);
	sc.certificate.len = clen;
	sc.signature.data = sig;
	sc.signature.len = sizeof(sig);
	*len = weft__signed_certificate__get_packed_size(&sc);
	out = malloc(*len);
	assert_non_null(out);
	weft__signed_certificate__pack(&sc, out);
	free(m);
	return out;
}

static void
test_cert_signed_but_malformed(void **state)
{
	fixture_t *f = *state;
	Weft__Certificate c = WEFT__CERTIFICATE__INIT;
	char *roles[] = {"ok", "not ok"};
	weft_cert_info_t info;
	weft_err_t err = {0};
	uint8_t *cert;
	size_t len;

	/* Even when the org signed it, a bad name or format is refused. */
	c.format = 1;
	c.org_name = "acme";
	c.org_public_key.data = f->org->pk;
	c.org_public_key.len = WEFT_PK_BYTES;
	c.subject_name = "node-1";
	c.subject_public_key.data = f->node->pk;
	c.subject_public_key.len = WEFT_PK_BYTES;
	c.n_roles = 2;
	c.roles = roles;
	c.not_before = T0 - 1;
	c.not_after = T0 + 1;
	cert = sign_raw_cert(f->org, &c, &len);
	assert_int_equal(
	    weft_cert_verify(cert, len, &f->trust, T0, &info, &err),
	    WEFT_EPARSE);
	assert_non_null(strstr(err.msg, "role name \"not ok\""));
	free(cert);

	c.n_roles = 1;
	c.format = 2;
	cert = sign_raw_cert(f->org, &c, &len);
	assert_int_equal(
	    weft_cert_verify(cert, len, &f->trust, T0, &info, &err),
	    WEFT_EPARSE);
	free(cert);

	c.format = 1;
	c.subject_public_key.len = 31;
	cert = sign_raw_cert(f->org, &c, &len);
	assert_int_equal(
	    weft_cert_verify(cert, len, &f->trust, T0, &info, &err),
	    WEFT_EPARSE);
	free(cert);

	/* Sanity: the well-formed version passes. */
	c.subject_public_key.len = WEFT_PK_BYTES;
	cert = sign_raw_cert(f->org, &c, &len);
	assert_int_equal(
	    weft_cert_verify(cert, len, &f->trust, T0, &info, &err), 0);
	free(cert);

	/* Oversized input is refused before parsing. */
	assert_int_equal(weft_cert_verify(f->cert, WEFT_CERT_MAX + 1, &f->trust,
					  T0, &info, &err),
			 WEFT_ETOOBIG);
}

static uint8_t *
seal(const weft_keypair_t *kp, const uint8_t *cert, size_t cert_len,
     const char *payload, size_t *len)
{
	weft_err_t err = {0};
	uint8_t *env = NULL;

	if (weft_envelope_sign(kp, cert, cert_len, (const uint8_t *)payload,
			       strlen(payload), &env, len, &err) != 0)
		fail_msg("envelope_sign: %s", err.msg);
	return env;
}

static void
test_envelope_ok(void **state)
{
	fixture_t *f = *state;
	static const char msg[] = "catalog entry v1";
	weft_cert_info_t signer;
	weft_err_t err = {0};
	uint8_t *env, *payload = NULL;
	size_t len, plen = 0;

	env = seal(f->node, f->cert, f->cert_len, msg, &len);
	assert_int_equal(weft_envelope_open(env, len, &f->trust, T0, &payload,
					    &plen, &signer, &err),
			 0);
	assert_int_equal(plen, strlen(msg));
	assert_memory_equal(payload, msg, plen);
	assert_string_equal(signer.subject_name, "node-1");
	assert_string_equal(signer.org_name, "acme");
	assert_memory_equal(signer.subject_pk, f->node->pk, WEFT_PK_BYTES);
	free(payload);
	free(env);

	/* Empty payload. */
	env = seal(f->node, f->cert, f->cert_len, "", &len);
	assert_int_equal(weft_envelope_open(env, len, &f->trust, T0, &payload,
					    &plen, NULL, &err),
			 0);
	assert_non_null(payload);
	assert_int_equal(plen, 0);
	free(payload);
	free(env);
}

static void
test_envelope_bitflip(void **state)
{
	fixture_t *f = *state;
	uint8_t *env, *c, *payload;
	size_t len, plen, i;
	int bit;

	env = seal(f->node, f->cert, f->cert_len, "hello, mesh", &len);
	c = malloc(len);
	assert_non_null(c);
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			weft_err_t err = {0};
			int rc;

			memcpy(c, env, len);
			c[i] ^= (uint8_t)(1u << bit);
			payload = (uint8_t *)1;
			rc = weft_envelope_open(c, len, &f->trust, T0, &payload,
						&plen, NULL, &err);
			if (rc == 0)
				fail_msg("byte %zu bit %d: tampered envelope "
					 "opened",
					 i, bit);
			assert_null(payload);
			assert_true(err.msg[0] != 0);
		}
	for (i = 0; i < len; i++) {
		weft_err_t err = {0};

		assert_int_not_equal(weft_envelope_open(env, i, &f->trust, T0,
							&payload, &plen, NULL,
							&err),
				     0);
	}
	free(c);
	free(env);
}

/* The simulator's verify cache remembers only what verified: tampered
 * envelopes still fail with it on, and the honest one still opens. */
static void
test_envelope_verify_cache(void **state)
{
	weft_err_t err = {0};
	uint8_t *env, *payload = NULL;
	size_t len, plen;
	fixture_t *f = *state;

	weft_crypto_set_verify_cache(1);
	env = seal(f->node, f->cert, f->cert_len, "hello, mesh", &len);
	assert_int_equal(weft_envelope_open(env, len, &f->trust, T0, &payload,
					    &plen, NULL, &err),
			 0);
	free(payload);
	test_envelope_bitflip(state); /* the cert is cached, its sig not */
	assert_int_equal(weft_envelope_open(env, len, &f->trust, T0, &payload,
					    &plen, NULL, &err),
			 0);
	free(payload);
	weft_crypto_set_verify_cache(0);
	free(env);
}

/* The agent's bounded cache (no lock: a seqlock a slot): what verified
 * is not checked again, tampered envelopes still fail, and two threads
 * opening envelopes at once (the loop and the verify thread) agree with
 * the answers one thread gets. */
struct vc_arg {
	fixture_t *f;
	uint8_t **env;
	size_t *len;
	int n, bad;
};

static void *
vc_thread(void *p)
{
	struct vc_arg *a = p;
	uint8_t *payload;
	size_t plen;
	int i, r;

	for (r = 0; r < 20; r++)
		for (i = 0; i < a->n; i++) {
			payload = NULL;
			/* odd ones were tampered with: they must fail */
			if ((weft_envelope_open(
				 a->env[i], a->len[i], &a->f->trust, T0,
				 &payload, &plen, NULL, NULL) == 0) != !(i & 1))
				a->bad++;
			free(payload);
		}
	return NULL;
}

static void
test_envelope_verify_cache_bounded(void **state)
{
	fixture_t *f = *state;
	uint8_t *env[64], *payload = NULL;
	size_t len[64], plen;
	struct vc_arg a[2];
	pthread_t th;
	uint64_t v0;
	char msg[32];
	int i;

	assert_int_equal(weft_crypto_set_verify_cache_slots(1u << 8), 0);
	for (i = 0; i < 64; i++) {
		snprintf(msg, sizeof(msg), "hello %d", i);
		env[i] = seal(f->node, f->cert, f->cert_len, msg, &len[i]);
		if (i & 1)
			env[i][len[i] - 1] ^= 1; /* its signature */
	}
	assert_int_equal(weft_envelope_open(env[0], len[0], &f->trust, T0,
					    &payload, &plen, NULL, NULL),
			 0);
	free(payload);
	v0 = weft_crypto_verifies();
	assert_int_equal(weft_envelope_open(env[0], len[0], &f->trust, T0,
					    &payload, &plen, NULL, NULL),
			 0);
	free(payload);
	assert_true(weft_crypto_verifies() == v0); /* all from the cache */
	for (i = 0; i < 2; i++) {
		a[i].f = f;
		a[i].env = env;
		a[i].len = len;
		a[i].n = 64;
		a[i].bad = 0;
	}
	assert_int_equal(pthread_create(&th, NULL, vc_thread, &a[0]), 0);
	(void)vc_thread(&a[1]);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(a[0].bad + a[1].bad, 0);
	weft_crypto_set_verify_cache(0);
	for (i = 0; i < 64; i++)
		free(env[i]);
}

/* Fast crypto (simulator only): a real signature does not pass for a
 * fast one, and fast ones still catch every flipped bit. */
static void
test_envelope_fast_crypto(void **state)
{
	weft_err_t err = {0};
	uint8_t *real, *cert, *env, *c, *payload = NULL;
	size_t rlen, clen, len, plen, i;
	fixture_t *f = *state;

	real = seal(f->node, f->cert, f->cert_len, "hello, mesh", &rlen);
	weft_crypto_set_fast(1);
	assert_true(weft_crypto_fast());
	assert_int_not_equal(weft_envelope_open(real, rlen, &f->trust, T0,
						&payload, &plen, NULL, &err),
			     0);
	cert = issue(f->org, f->node, T0 - DAY, T0 + DAY, &clen);
	env = seal(f->node, cert, clen, "hello, mesh", &len);
	assert_int_equal(weft_envelope_open(env, len, &f->trust, T0, &payload,
					    &plen, NULL, &err),
			 0);
	assert_memory_equal(payload, "hello, mesh", plen);
	free(payload);
	c = malloc(len);
	assert_non_null(c);
	for (i = 0; i < len; i++) {
		memcpy(c, env, len);
		c[i] ^= 1;
		payload = NULL;
		assert_int_not_equal(weft_envelope_open(c, len, &f->trust, T0,
							&payload, &plen, NULL,
							&err),
				     0);
		assert_null(payload);
	}
	weft_crypto_set_fast(0);
	assert_false(weft_crypto_fast());
	free(c);
	free(env);
	free(cert);
	free(real);
}

static void
test_envelope_untrusted(void **state)
{
	fixture_t *f = *state;
	weft_keypair_t *org2 = NULL, *node2 = NULL;
	weft_err_t err = {0};
	uint8_t *cert, *env, *payload = NULL;
	size_t cert_len, len, plen;

	assert_int_equal(weft_key_generate(WEFT_KEY_ORG, "other", &org2, &err),
			 0);
	assert_int_equal(weft_key_generate(WEFT_KEY_NODE, "n2", &node2, &err),
			 0);
	cert = issue(org2, node2, T0 - DAY, T0 + DAY, &cert_len);
	env = seal(node2, cert, cert_len, "hi", &len);
	assert_int_equal(weft_envelope_open(env, len, &f->trust, T0, &payload,
					    &plen, NULL, &err),
			 WEFT_ETRUST);
	assert_null(payload);
	assert_non_null(strstr(err.msg, "signed by org other"));
	free(env);
	free(cert);

	/* Trusted org, but the certificate has expired. */
	env = seal(f->node, f->cert, f->cert_len, "hi", &len);
	assert_int_equal(weft_envelope_open(env, len, &f->trust, T0 + 2 * DAY,
					    &payload, &plen, NULL, &err),
			 WEFT_EEXPIRED);
	assert_null(payload);
	free(env);
	weft_key_free(node2);
	weft_key_free(org2);
}

static void
test_envelope_swapped(void **state)
{
	fixture_t *f = *state;
	weft_keypair_t *node2 = NULL;
	Weft__Envelope *e;
	Weft__SignedCertificate *sc2;
	weft_err_t err = {0};
	uint8_t *env, *env2, *cert2, *payload = NULL;
	size_t len, len2, cert2_len, plen;

	env = seal(f->node, f->cert, f->cert_len, "transfer 10", &len);

	/* Payload replaced, signature and cert kept. */
	e = weft__envelope__unpack(NULL, len, env);
	assert_non_null(e);
	e->payload.data[e->payload.len - 2] = '9';
	len2 = weft__envelope__get_packed_size(e);
	env2 = malloc(len2);
	assert_non_null(env2);
	weft__envelope__pack(e, env2);
	assert_int_equal(weft_envelope_open(env2, len2, &f->trust, T0, &payload,
					    &plen, NULL, &err),
			 WEFT_ESIG);
	assert_null(payload);
	assert_non_null(strstr(err.msg, "envelope from node node-1"));
	free(env2);

	/* Signer swapped for another valid certificate of the same org. */
	assert_int_equal(
	    weft_key_generate(WEFT_KEY_NODE, "node-2", &node2, &err), 0);
	cert2 = issue(f->org, node2, T0 - DAY, T0 + DAY, &cert2_len);
	e->payload.data[e->payload.len - 2] = '1';
	sc2 = weft__signed_certificate__unpack(NULL, cert2_len, cert2);
	assert_non_null(sc2);
	weft__signed_certificate__free_unpacked(e->signer, NULL);
	e->signer = sc2;
	len2 = weft__envelope__get_packed_size(e);
	env2 = malloc(len2);
	assert_non_null(env2);
	weft__envelope__pack(e, env2);
	assert_int_equal(weft_envelope_open(env2, len2, &f->trust, T0, &payload,
					    &plen, NULL, &err),
			 WEFT_ESIG);
	assert_null(payload);
	free(env2);

	/* No signer at all. */
	weft__signed_certificate__free_unpacked(e->signer, NULL);
	e->signer = NULL;
	len2 = weft__envelope__get_packed_size(e);
	env2 = malloc(len2);
	assert_non_null(env2);
	weft__envelope__pack(e, env2);
	assert_int_equal(weft_envelope_open(env2, len2, &f->trust, T0, &payload,
					    &plen, NULL, &err),
			 WEFT_EPARSE);
	free(env2);

	weft__envelope__free_unpacked(e, NULL);
	free(cert2);
	weft_key_free(node2);
	free(env);
}

static void
test_envelope_sign_mismatch(void **state)
{
	fixture_t *f = *state;
	weft_err_t err = {0};
	uint8_t *env = (uint8_t *)1;
	size_t len = 1;

	/* The org key holds the node's certificate: refused. */
	assert_int_equal(weft_envelope_sign(f->org, f->cert, f->cert_len,
					    (const uint8_t *)"x", 1, &env, &len,
					    &err),
			 WEFT_EINVAL);
	assert_null(env);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, "certificate for node node-1 is for "
					"key"));

	/* Garbage certificate. */
	assert_int_equal(weft_envelope_sign(f->node, (const uint8_t *)"\xff", 1,
					    (const uint8_t *)"x", 1, &env, &len,
					    &err),
			 WEFT_EPARSE);
	assert_null(env);
}

static void
test_envelope_too_big(void **state)
{
	fixture_t *f = *state;
	size_t big = (size_t)WEFT_ENVELOPE_MAX + 1, plen;
	uint8_t *buf = calloc(1, big), *payload = NULL, *env = NULL;
	weft_err_t err = {0};

	assert_non_null(buf);
	assert_int_equal(weft_envelope_open(buf, big, &f->trust, T0, &payload,
					    &plen, NULL, &err),
			 WEFT_ETOOBIG);
	assert_null(payload);
	/* A payload that fits alone but not with the envelope around it. */
	assert_int_equal(weft_envelope_sign(f->node, f->cert, f->cert_len, buf,
					    WEFT_ENVELOPE_MAX, &env, &plen,
					    &err),
			 WEFT_ETOOBIG);
	assert_null(env);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_check),
	    cmocka_unit_test(test_key_generate_invalid),
	    cmocka_unit_test_setup_teardown(test_key_roundtrip, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_key_refuse_overwrite, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_key_tampered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cert_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cert_bitflip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cert_untrusted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_cert_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cert_issue_invalid, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_cert_signed_but_malformed,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_verify_cache, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_verify_cache_bounded,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_fast_crypto, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_bitflip, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_untrusted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_swapped, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_sign_mismatch, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_too_big, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
