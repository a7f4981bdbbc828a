/*
 * identity.c: Ed25519 key pairs, key files, org-issued node certificates
 * and signed envelopes, on top of libsodium and the protobuf-c messages
 * KeyFile, Certificate, SignedCertificate and Envelope (proto/weft.proto).
 *
 * Invariants:
 * - Secret keys live in sodium_malloc'd weft_keypair_t; every other buffer
 *   that ever holds a secret key (a packed or read KeyFile, an unpacked
 *   Weft__KeyFile, a derived key pair) is wiped with sodium_memzero before
 *   it is released.
 * - A signature covers a domain-separation prefix including its NUL
 *   ("weft-cert-v1\0", "weft-envelope-v1\0") followed by the exact bytes
 *   that travel with it; nothing is ever re-serialised before verifying.
 * - When verifying, nothing decoded from a certificate is relied on before
 *   its signature checks out, except the org public key (to find the root)
 *   and names shown, sanitised, in error messages.
 * - An org root is bound to its name: a certificate is accepted only if its
 *   org key and org name both match the same trusted root.
 */
#include "crypto/identity.h"
#include "crypto/revoke.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/util.h"
#include "weft.pb-c.h"

#define WEFT_KEYFILE_FORMAT 1
#define WEFT_CERT_FORMAT 1

/* Domain-separation prefixes; sizeof includes the terminating NUL. */
static const char weft_identity_cert_dom[] = "weft-cert-v1";
static const char weft_identity_env_dom[] = "weft-envelope-v1";

/* Room for a name shown in a message: 64 bytes, "..." and the NUL. */
#define WEFT_SHOW_MAX (WEFT_NAME_MAX + 4)

_Static_assert(WEFT_PK_BYTES == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(WEFT_SK_BYTES == crypto_sign_SECRETKEYBYTES, "sk size");
_Static_assert(WEFT_SIG_BYTES == crypto_sign_BYTES, "sig size");
_Static_assert((int)WEFT_KEY_ORG == (int)WEFT__KEY_KIND__KEY_ORG, "key kind");
_Static_assert((int)WEFT_KEY_NODE == (int)WEFT__KEY_KIND__KEY_NODE, "key kind");

/* Initialise libsodium once; later calls only read a flag. */
static int
weft_identity_init(weft_err_t *err)
{
	static atomic_int ready;

	if (atomic_load(&ready))
		return 0;
	if (sodium_init() < 0)
		return weft_err_set(err, WEFT_EIO,
				    "libsodium failed to initialise");
	atomic_store(&ready, 1);
	return 0;
}

/*
 * Copy a possibly hostile string for display: printable ASCII is kept,
 * anything else becomes '?', and more than WEFT_NAME_MAX bytes are cut
 * with "...". Returns out.
 */
static const char *
weft_identity_show(const char *s, char out[WEFT_SHOW_MAX])
{
	size_t i;

	if (s == NULL)
		s = "(null)";
	for (i = 0; s[i] != 0 && i < WEFT_NAME_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s[i] != 0) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = 0;
	return out;
}

/* The first four bytes of a key in hex, for messages. */
static const char *
weft_identity_keyid(const uint8_t *pk, char out[9])
{
	return weft_hex(pk, 4, out);
}

/* Unix seconds as "YYYY-MM-DD HH:MM:SS UTC", or the bare number. */
static const char *
weft_identity_fmt_time(int64_t s, char out[48])
{
	time_t t = (time_t)s;
	struct tm tm;

	if ((int64_t)t == s && gmtime_r(&t, &tm) != NULL &&
	    strftime(out, 48, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
		return out;
	snprintf(out, 48, "%" PRId64, s);
	return out;
}

int
weft_name_check(const char *what, const char *name, weft_err_t *err)
{
	char show[WEFT_SHOW_MAX];
	size_t i, n;

	if (what == NULL)
		what = "name";
	if (name == NULL || name[0] == 0)
		return weft_err_set(err, WEFT_EINVAL, "%s name is empty", what);
	n = strnlen(name, WEFT_NAME_MAX + 1);
	if (n > WEFT_NAME_MAX)
		return weft_err_set(
		    err, WEFT_EINVAL, "%s name \"%s\" is longer than %d bytes",
		    what, weft_identity_show(name, show), WEFT_NAME_MAX);
	for (i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');

		if (i == 0 && !alnum)
			return weft_err_set(
			    err, WEFT_EINVAL,
			    "%s name \"%s\" must start with a letter or digit",
			    what, weft_identity_show(name, show));
		if (!alnum && c != '_' && c != '-')
			return weft_err_set(
			    err, WEFT_EINVAL,
			    "%s name \"%s\" may only contain letters, digits, "
			    "'_' and '-'",
			    what, weft_identity_show(name, show));
	}
	return 0;
}

/* Name of a key kind for messages ("org" or "node"). */
static const char *
weft_identity_kind_name(int kind)
{
	return kind == WEFT_KEY_ORG    ? "org"
	       : kind == WEFT_KEY_NODE ? "node"
				       : "key";
}

static int
weft_identity_kind_check(int kind, weft_err_t *err)
{
	if (kind != WEFT_KEY_ORG && kind != WEFT_KEY_NODE)
		return weft_err_set(err, WEFT_EINVAL, "unknown key kind %d",
				    kind);
	return 0;
}

int
weft_key_generate(int kind, const char *name, weft_keypair_t **out,
		  weft_err_t *err)
{
	weft_keypair_t *kp = NULL;
	int rc;

	*out = NULL;
	if ((rc = weft_identity_init(err)) != 0)
		return rc;
	if ((rc = weft_identity_kind_check(kind, err)) != 0)
		return rc;
	if ((rc = weft_name_check(weft_identity_kind_name(kind), name, err)) !=
	    0)
		return rc;
	kp = sodium_malloc(sizeof(*kp));
	if (kp == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	memset(kp, 0, sizeof(*kp));
	kp->kind = kind;
	memcpy(kp->name, name, strlen(name) + 1);
	if (crypto_sign_keypair(kp->pk, kp->sk) != 0) {
		weft_key_free(kp);
		return weft_err_set(err, WEFT_EIO, "key generation failed");
	}
	*out = kp;
	return 0;
}

void
weft_key_free(weft_keypair_t *kp)
{
	if (kp == NULL)
		return;
	sodium_memzero(kp, sizeof(*kp));
	sodium_free(kp);
}

/*
 * Serialise a KeyFile. sk may be NULL (public file). *out is malloc'd;
 * when sk is set the caller must sodium_memzero it before freeing.
 */
static int
weft_identity_keyfile_pack(int kind, const char *name, const uint8_t *pk,
			   const uint8_t *sk, int64_t created_at, uint8_t **out,
			   size_t *len)
{
	Weft__KeyFile kf = WEFT__KEY_FILE__INIT;
	uint8_t *buf;
	size_t n;

	*out = NULL;
	*len = 0;
	kf.format = WEFT_KEYFILE_FORMAT;
	kf.kind = (Weft__KeyKind)kind;
	kf.name = (char *)name;
	kf.public_key.data = (uint8_t *)pk;
	kf.public_key.len = WEFT_PK_BYTES;
	if (sk != NULL) {
		kf.secret_key.data = (uint8_t *)sk;
		kf.secret_key.len = WEFT_SK_BYTES;
	}
	kf.created_at = created_at;
	n = weft__key_file__get_packed_size(&kf);
	buf = malloc(n);
	if (buf == NULL)
		return WEFT_ENOMEM;
	if (weft__key_file__pack(&kf, buf) != n) {
		sodium_memzero(buf, n);
		free(buf);
		return WEFT_EINVAL;
	}
	*out = buf;
	*len = n;
	return 0;
}

/*
 * Check that sk is a well-formed Ed25519 secret key (seed || pk) whose
 * public half is pk, by re-deriving both from the seed. 0 if so.
 */
static int
weft_identity_sk_matches(const uint8_t *sk, const uint8_t *pk)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	uint8_t pk2[WEFT_PK_BYTES], sk2[WEFT_SK_BYTES];
	int rc = -1;

	crypto_sign_ed25519_sk_to_seed(seed, sk);
	if (crypto_sign_seed_keypair(pk2, sk2, seed) != 0)
		goto out;
	if (sodium_memcmp(sk2, sk, WEFT_SK_BYTES) != 0)
		goto out;
	if (sodium_memcmp(pk2, pk, WEFT_PK_BYTES) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk2, sizeof(sk2));
	return rc;
}

/* Wipe any secret an unpacked KeyFile holds, then free it. */
static void
weft_identity_keyfile_free(Weft__KeyFile *kf)
{
	if (kf == NULL)
		return;
	if (kf->secret_key.data != NULL)
		sodium_memzero(kf->secret_key.data, kf->secret_key.len);
	weft__key_file__free_unpacked(kf, NULL);
}

/*
 * Parse and check a serialized KeyFile. `label` (a path) prefixes every
 * message. If need_secret, the file must hold a secret key; otherwise it
 * may or may not. Whenever a secret key is present it must match the
 * public key. On success *kfp is the unpacked message; free it with
 * weft_identity_keyfile_free.
 */
static int
weft_identity_keyfile_parse(const char *label, const uint8_t *buf, size_t len,
			    int need_secret, Weft__KeyFile **kfp,
			    weft_err_t *err)
{
	Weft__KeyFile *kf = NULL;
	int rc;

	*kfp = NULL;
	if (len > WEFT_KEYFILE_MAX)
		return weft_err_set(
		    err, WEFT_ETOOBIG,
		    "%s: larger than the %d byte limit for key files", label,
		    WEFT_KEYFILE_MAX);
	kf = weft__key_file__unpack(NULL, len, buf);
	if (kf == NULL)
		return weft_err_set(err, WEFT_EPARSE, "%s: not a weft key file",
				    label);
	if (kf->format != WEFT_KEYFILE_FORMAT) {
		rc = weft_err_set(err, WEFT_EPARSE,
				  "%s: unsupported key file format %" PRIu32
				  " (expected %d)",
				  label, kf->format, WEFT_KEYFILE_FORMAT);
		goto fail;
	}
	if (kf->public_key.len != WEFT_PK_BYTES) {
		rc = weft_err_set(err, WEFT_EPARSE,
				  "%s: public key is %zu bytes, expected %d",
				  label, kf->public_key.len, WEFT_PK_BYTES);
		goto fail;
	}
	if (kf->secret_key.len != 0 && kf->secret_key.len != WEFT_SK_BYTES) {
		rc = weft_err_set(err, WEFT_EPARSE,
				  "%s: secret key is %zu bytes, expected %d",
				  label, kf->secret_key.len, WEFT_SK_BYTES);
		goto fail;
	}
	if (need_secret && kf->secret_key.len == 0) {
		rc = weft_err_set(
		    err, WEFT_EINVAL,
		    "%s: is a public key file, not a secret key file", label);
		goto fail;
	}
	if (kf->kind != WEFT__KEY_KIND__KEY_ORG &&
	    kf->kind != WEFT__KEY_KIND__KEY_NODE) {
		rc = weft_err_set(err, WEFT_EPARSE, "%s: unknown key kind %d",
				  label, (int)kf->kind);
		goto fail;
	}
	if ((rc = weft_name_check(weft_identity_kind_name((int)kf->kind),
				  kf->name, err)) != 0) {
		rc = WEFT_EPARSE;
		if (err != NULL)
			err->code = rc;
		weft_err_prefix(err, "%s", label);
		goto fail;
	}
	if (kf->secret_key.len != 0 &&
	    weft_identity_sk_matches(kf->secret_key.data,
				     kf->public_key.data) != 0) {
		rc = weft_err_set(err, WEFT_EPARSE,
				  "%s: public key does not match secret key",
				  label);
		goto fail;
	}
	*kfp = kf;
	return 0;
fail:
	weft_identity_keyfile_free(kf);
	return rc;
}

int
weft_key_save(const weft_keypair_t *kp, const char *secret_path,
	      const char *pub_path, weft_err_t *err)
{
	uint8_t *sec = NULL, *pub = NULL;
	size_t sec_len = 0, pub_len = 0;
	int64_t now = weft_now_s();
	int rc, wrote_secret = 0;

	if ((rc = weft_identity_init(err)) != 0)
		return rc;
	if (kp == NULL || secret_path == NULL)
		return weft_err_set(err, WEFT_EINVAL, "no key or path to save");
	if ((rc = weft_identity_kind_check(kp->kind, err)) != 0)
		return rc;
	if ((rc = weft_name_check(weft_identity_kind_name(kp->kind), kp->name,
				  err)) != 0)
		return rc;
	if (pub_path != NULL && strcmp(pub_path, secret_path) == 0)
		return weft_err_set(
		    err, WEFT_EINVAL,
		    "%s: secret and public key files must differ", secret_path);
	/* Refuse before writing anything, so a failure leaves no half pair. */
	if (access(secret_path, F_OK) == 0)
		return weft_err_set(err, -EEXIST, "%s: already exists",
				    secret_path);
	if (pub_path != NULL && access(pub_path, F_OK) == 0)
		return weft_err_set(err, -EEXIST, "%s: already exists",
				    pub_path);

	rc = weft_identity_keyfile_pack(kp->kind, kp->name, kp->pk, kp->sk, now,
					&sec, &sec_len);
	if (rc != 0) {
		weft_err_set(err, rc, "%s: cannot encode key file",
			     secret_path);
		goto out;
	}
	if (pub_path != NULL) {
		rc = weft_identity_keyfile_pack(kp->kind, kp->name, kp->pk,
						NULL, now, &pub, &pub_len);
		if (rc != 0) {
			weft_err_set(err, rc, "%s: cannot encode key file",
				     pub_path);
			goto out;
		}
	}
	rc = weft_write_file(secret_path, sec, sec_len, 0600, 1, err);
	if (rc != 0)
		goto out;
	wrote_secret = 1;
	if (pub_path != NULL) {
		rc = weft_write_file(pub_path, pub, pub_len, 0644, 1, err);
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	/* A pair is written whole or not at all: drop our new secret file. */
	if (rc != 0 && wrote_secret)
		unlink(secret_path);
	if (sec != NULL) {
		sodium_memzero(sec, sec_len);
		free(sec);
	}
	free(pub);
	return rc;
}

int
weft_key_load(const char *path, weft_keypair_t **out, weft_err_t *err)
{
	Weft__KeyFile *kf = NULL;
	weft_keypair_t *kp = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = weft_identity_init(err)) != 0)
		return rc;
	rc = weft_read_file(path, WEFT_KEYFILE_MAX, &buf, &len, err);
	if (rc != 0)
		goto out;
	rc = weft_identity_keyfile_parse(path, buf, len, 1, &kf, err);
	if (rc != 0)
		goto out;
	kp = sodium_malloc(sizeof(*kp));
	if (kp == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	memset(kp, 0, sizeof(*kp));
	kp->kind = (int)kf->kind;
	memcpy(kp->name, kf->name, strlen(kf->name) + 1);
	memcpy(kp->pk, kf->public_key.data, WEFT_PK_BYTES);
	memcpy(kp->sk, kf->secret_key.data, WEFT_SK_BYTES);
	*out = kp;
	rc = 0;
out:
	weft_identity_keyfile_free(kf);
	if (buf != NULL) {
		sodium_memzero(buf, len);
		free(buf);
	}
	return rc;
}

/* Decode a key file into *out (public part only); messages name label. */
static int
weft_identity_pub_decode(const char *label, const uint8_t *buf, size_t len,
			 weft_pubkey_t *out, weft_err_t *err)
{
	Weft__KeyFile *kf = NULL;
	int rc;

	if ((rc = weft_identity_init(err)) != 0)
		return rc;
	rc = weft_identity_keyfile_parse(label, buf, len, 0, &kf, err);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->kind = (int)kf->kind;
	memcpy(out->name, kf->name, strlen(kf->name) + 1);
	memcpy(out->pk, kf->public_key.data, WEFT_PK_BYTES);
	weft_identity_keyfile_free(kf);
	return 0;
}

int
weft_pub_load(const char *path, weft_pubkey_t *out, weft_err_t *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = weft_read_file(path, WEFT_KEYFILE_MAX, &buf, &len, err);
	if (rc != 0)
		return rc;
	rc = weft_identity_pub_decode(path, buf, len, out, err);
	/* The file may have been a secret key file. */
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

int
weft_pub_encode(const weft_pubkey_t *pub, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (pub == NULL || weft_identity_kind_check(pub->kind, NULL) != 0 ||
	    weft_name_check(NULL, pub->name, NULL) != 0)
		return WEFT_EINVAL;
	return weft_identity_keyfile_pack(pub->kind, pub->name, pub->pk, NULL,
					  0, out, len);
}

int
weft_pub_decode(const uint8_t *buf, size_t len, weft_pubkey_t *out,
		weft_err_t *err)
{
	return weft_identity_pub_decode("public key", buf, len, out, err);
}

/*
 * Sign (sk) or verify (pk, sig) dom || msg, where dom includes its NUL.
 * sign: fills sig. verify: 0 if sig is valid. Returns WEFT_ENOMEM,
 * WEFT_ESIG (verify) or WEFT_EIO (sign) on failure; sets no message.
 */
static atomic_int weft_identity_fast; /* weft_crypto_set_fast */

/*
 * weft_crypto_set_verify_cache: the BLAKE2b-128 digests of (public key,
 * signature, domain, message) that verified, in an open-addressing set
 * under a mutex (the simulator verifies on several threads). Full at
 * WEFT_VCACHE_MAX: later signatures are verified every time.
 *
 * weft_crypto_set_verify_cache_slots (the agent's): a bounded,
 * direct-mapped cache without a lock, each slot under a sequence count
 * (a seqlock): a reader never waits, and a writer that finds a slot
 * being written skips it (a cache may forget). The agent's loop and its
 * verify thread share it; with a mutex, the verify thread (at a low
 * priority, often preempted on a busy host) could hold the loop.
 */
typedef struct weft_vslot {
	atomic_uint seq; /* odd while written */
	atomic_ullong k[2];
} weft_vslot_t;
static _Atomic(weft_vslot_t *) weft_vfix; /* the bounded cache, or NULL */
static size_t weft_vfix_cap;
#define WEFT_VCACHE_MAX (1u << 22)
static atomic_int weft_vcache_on;
static atomic_ullong weft_verifies; /* Ed25519 checks really made */
static struct {
	pthread_mutex_t mu;
	uint8_t (*slot)[16];
	size_t cap, n;
} weft_vcache = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

void
weft_crypto_set_verify_cache(int on)
{
	pthread_mutex_lock(&weft_vcache.mu);
	/* the bounded cache is set before use, not during */
	free(atomic_exchange(&weft_vfix, NULL));
	weft_vfix_cap = 0;
	atomic_store(&weft_vcache_on, on);
	free(weft_vcache.slot);
	weft_vcache.slot = NULL;
	weft_vcache.cap = weft_vcache.n = 0;
	pthread_mutex_unlock(&weft_vcache.mu);
}

int
weft_crypto_set_verify_cache_slots(size_t slots)
{
	size_t cap = 16;
	weft_vslot_t *f;

	while (cap < slots && cap < WEFT_VCACHE_MAX)
		cap *= 2;
	weft_crypto_set_verify_cache(0);
	if ((f = calloc(cap, sizeof(*f))) == NULL)
		return WEFT_ENOMEM;
	pthread_mutex_lock(&weft_vcache.mu);
	weft_vfix_cap = cap;
	atomic_store(&weft_vfix, f);
	atomic_store(&weft_vcache_on, 1);
	pthread_mutex_unlock(&weft_vcache.mu);
	return 0;
}

/* key's slot in the bounded cache; k: key as two words */
static weft_vslot_t *
weft_vfix_slot(weft_vslot_t *f, const uint8_t key[16], uint64_t k[2])
{
	memcpy(k, key, 16);
	return &f[k[0] & (weft_vfix_cap - 1)];
}

/* The bounded cache: is key held (a slot being written reads as not)? */
static int
weft_vfix_probe(weft_vslot_t *f, const uint8_t key[16])
{
	uint64_t k[2];
	weft_vslot_t *s = weft_vfix_slot(f, key, k);
	unsigned a = atomic_load_explicit(&s->seq, memory_order_acquire);

	if (a & 1)
		return 0;
	if (atomic_load_explicit(&s->k[0], memory_order_relaxed) != k[0] ||
	    atomic_load_explicit(&s->k[1], memory_order_relaxed) != k[1])
		return 0;
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&s->seq, memory_order_relaxed) == a;
}

/* Hold key (a newcomer evicts; a slot another writer holds is skipped). */
static void
weft_vfix_add(weft_vslot_t *f, const uint8_t key[16])
{
	uint64_t k[2];
	weft_vslot_t *s = weft_vfix_slot(f, key, k);
	unsigned a = atomic_load_explicit(&s->seq, memory_order_relaxed);

	if ((a & 1) ||
	    !atomic_compare_exchange_strong_explicit(
		&s->seq, &a, a + 1, memory_order_acquire, memory_order_relaxed))
		return;
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->k[0], k[0], memory_order_relaxed);
	atomic_store_explicit(&s->k[1], k[1], memory_order_relaxed);
	atomic_store_explicit(&s->seq, a + 2, memory_order_release);
}

uint64_t
weft_crypto_verifies(void)
{
	return atomic_load(&weft_verifies);
}

static void
weft_vcache_key(const uint8_t *pk, const char *dom, size_t domlen,
		const uint8_t *msg, size_t len, const uint8_t *sig,
		uint8_t key[16])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 16);
	crypto_generichash_update(&st, pk, WEFT_PK_BYTES);
	crypto_generichash_update(&st, sig, WEFT_SIG_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)dom, domlen);
	crypto_generichash_update(&st, msg, len);
	crypto_generichash_final(&st, key, 16);
	if (sodium_is_zero(key, 16)) /* the empty slot's mark */
		key[0] = 1;
}

/* 1 if key is held; with add, hold it. Caller holds the mutex. */
static int
weft_vcache_probe(const uint8_t key[16], int add)
{
	size_t i, mask;
	uint64_t h;

	if (weft_vcache.cap == 0) {
		if (!add)
			return 0;
		weft_vcache.slot = calloc(1u << 16, 16);
		if (weft_vcache.slot == NULL)
			return 0;
		weft_vcache.cap = 1u << 16;
	}
	if (add && (weft_vcache.n + 1) * 2 > weft_vcache.cap) {
		size_t cap = weft_vcache.cap * 2, j;
		uint8_t(*t)[16];

		if (cap > 2 * (size_t)WEFT_VCACHE_MAX ||
		    (t = calloc(cap, 16)) == NULL)
			return 0;
		for (j = 0; j < weft_vcache.cap; j++) {
			if (sodium_is_zero(weft_vcache.slot[j], 16))
				continue;
			memcpy(&h, weft_vcache.slot[j], sizeof(h));
			for (i = h & (cap - 1); !sodium_is_zero(t[i], 16);
			     i = (i + 1) & (cap - 1))
				;
			memcpy(t[i], weft_vcache.slot[j], 16);
		}
		free(weft_vcache.slot);
		weft_vcache.slot = t;
		weft_vcache.cap = cap;
	}
	mask = weft_vcache.cap - 1;
	memcpy(&h, key, sizeof(h));
	for (i = h & mask; !sodium_is_zero(weft_vcache.slot[i], 16);
	     i = (i + 1) & mask)
		if (memcmp(weft_vcache.slot[i], key, 16) == 0)
			return 1;
	if (add) {
		memcpy(weft_vcache.slot[i], key, 16);
		weft_vcache.n++;
	}
	return 0;
}

void
weft_crypto_set_fast(int on)
{
	atomic_store(&weft_identity_fast, on);
}

int
weft_crypto_fast(void)
{
	return atomic_load(&weft_identity_fast);
}

/* The simulator's stand-in for Ed25519: a keyed BLAKE2b of the message
 * under the public key, so corruption is still caught, but anyone can
 * forge it. Never used unless weft_crypto_set_fast(1). */
static int
weft_identity_fake_sig(const uint8_t *pk, const char *dom, size_t domlen,
		       const uint8_t *msg, size_t len,
		       uint8_t out[WEFT_SIG_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, pk, WEFT_PK_BYTES, WEFT_SIG_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)dom, domlen);
	crypto_generichash_update(&st, msg, len);
	crypto_generichash_final(&st, out, WEFT_SIG_BYTES);
	return 0;
}

static int
weft_identity_sig(const uint8_t *sk, const uint8_t *pk, const char *dom,
		  size_t domlen, const uint8_t *msg, size_t len,
		  uint8_t sig[WEFT_SIG_BYTES])
{
	uint8_t *m;
	int rc;

	if (len > SIZE_MAX - domlen)
		return WEFT_ETOOBIG;
	if (atomic_load(&weft_identity_fast)) {
		uint8_t want[WEFT_SIG_BYTES];

		/* libsodium's secret key ends with the public key */
		weft_identity_fake_sig(sk ? sk + 32 : pk, dom, domlen, msg, len,
				       want);
		if (sk != NULL) {
			memcpy(sig, want, WEFT_SIG_BYTES);
			return 0;
		}
		return sodium_memcmp(want, sig, WEFT_SIG_BYTES) == 0
			   ? 0
			   : WEFT_ESIG;
	}
	m = malloc(domlen + len);
	if (m == NULL)
		return WEFT_ENOMEM;
	memcpy(m, dom, domlen);
	if (len > 0)
		memcpy(m + domlen, msg, len);
	if (sk != NULL) {
		rc = crypto_sign_detached(sig, NULL, m, domlen + len, sk) == 0
			 ? 0
			 : WEFT_EIO;
	} else {
		int cache = atomic_load(&weft_vcache_on), held = 0;
		weft_vslot_t *fix = atomic_load(&weft_vfix);
		uint8_t key[16];

		if (cache) {
			weft_vcache_key(pk, dom, domlen, msg, len, sig, key);
			if (fix != NULL) {
				held = weft_vfix_probe(fix, key);
			} else {
				pthread_mutex_lock(&weft_vcache.mu);
				held = weft_vcache_probe(key, 0);
				pthread_mutex_unlock(&weft_vcache.mu);
			}
		}
		if (!held)
			atomic_fetch_add(&weft_verifies, 1);
		rc = held || crypto_sign_verify_detached(sig, m, domlen + len,
							 pk) == 0
			 ? 0
			 : WEFT_ESIG;
		if (cache && rc == 0 && !held && fix != NULL) {
			weft_vfix_add(fix, key);
		} else if (cache && rc == 0 && !held) {
			pthread_mutex_lock(&weft_vcache.mu);
			(void)weft_vcache_probe(key, 1);
			pthread_mutex_unlock(&weft_vcache.mu);
		}
	}
	free(m);
	return rc;
}

int
weft_cert_issue(const weft_keypair_t *org, const char *subject_name,
		const uint8_t subject_pk[WEFT_PK_BYTES],
		const char *const *roles, size_t nroles, int64_t not_before,
		int64_t not_after, uint64_t serial, uint8_t **out, size_t *len,
		weft_err_t *err)
{
	Weft__Certificate c = WEFT__CERTIFICATE__INIT;
	Weft__SignedCertificate sc = WEFT__SIGNED_CERTIFICATE__INIT;
	uint8_t sig[WEFT_SIG_BYTES];
	uint8_t *cbuf = NULL, *sbuf = NULL;
	size_t i, clen, slen;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = weft_identity_init(err)) != 0)
		return rc;
	if (org == NULL || subject_pk == NULL || (nroles > 0 && roles == NULL))
		return weft_err_set(err, WEFT_EINVAL,
				    "certificate: missing argument");
	if (org->kind != WEFT_KEY_ORG)
		return weft_err_set(
		    err, WEFT_EINVAL,
		    "certificate: key \"%s\" is a %s key, not an org key",
		    org->name, weft_identity_kind_name(org->kind));
	if ((rc = weft_name_check("org", org->name, err)) != 0)
		return rc;
	if ((rc = weft_name_check("node", subject_name, err)) != 0)
		return rc;
	if (nroles > WEFT_ROLES_MAX)
		return weft_err_set(
		    err, WEFT_EINVAL,
		    "certificate for node %s: %zu roles, at most %d allowed",
		    subject_name, nroles, WEFT_ROLES_MAX);
	for (i = 0; i < nroles; i++)
		if ((rc = weft_name_check("role", roles[i], err)) != 0) {
			weft_err_prefix(err, "certificate for node %s",
					subject_name);
			return rc;
		}
	if (not_before >= not_after)
		return weft_err_set(
		    err, WEFT_EINVAL,
		    "certificate for node %s: not_before (%" PRId64
		    ") must be earlier than not_after (%" PRId64 ")",
		    subject_name, not_before, not_after);

	c.format = WEFT_CERT_FORMAT;
	c.org_name = (char *)org->name;
	c.org_public_key.data = (uint8_t *)org->pk;
	c.org_public_key.len = WEFT_PK_BYTES;
	c.subject_name = (char *)subject_name;
	c.subject_public_key.data = (uint8_t *)subject_pk;
	c.subject_public_key.len = WEFT_PK_BYTES;
	c.n_roles = nroles;
	c.roles = (char **)roles;
	c.not_before = not_before;
	c.not_after = not_after;
	c.serial = serial;
	clen = weft__certificate__get_packed_size(&c);
	cbuf = malloc(clen);
	if (cbuf == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	weft__certificate__pack(&c, cbuf);
	rc = weft_identity_sig(org->sk, NULL, weft_identity_cert_dom,
			       sizeof(weft_identity_cert_dom), cbuf, clen, sig);
	if (rc != 0) {
		weft_err_set(err, rc, "certificate for node %s: signing failed",
			     subject_name);
		goto out;
	}
	sc.certificate.data = cbuf;
	sc.certificate.len = clen;
	sc.signature.data = sig;
	sc.signature.len = WEFT_SIG_BYTES;
	slen = weft__signed_certificate__get_packed_size(&sc);
	if (slen > WEFT_CERT_MAX) {
		rc = weft_err_set(err, WEFT_ETOOBIG,
				  "certificate for node %s: %zu bytes, over "
				  "the %d byte limit",
				  subject_name, slen, WEFT_CERT_MAX);
		goto out;
	}
	sbuf = malloc(slen);
	if (sbuf == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	weft__signed_certificate__pack(&sc, sbuf);
	*out = sbuf;
	*len = slen;
	sbuf = NULL;
	rc = 0;
out:
	free(sbuf);
	free(cbuf);
	return rc;
}

/*
 * Structural checks on an unpacked SignedCertificate: bounded size, the
 * inner Certificate parses, and the signature and keys have their exact
 * lengths. On success *cp is the unpacked Certificate (caller frees).
 * Nothing here is trusted yet.
 */
static int
weft_identity_cert_parse(const Weft__SignedCertificate *sc,
			 Weft__Certificate **cp, weft_err_t *err)
{
	Weft__Certificate *c;

	*cp = NULL;
	if (weft__signed_certificate__get_packed_size(sc) > WEFT_CERT_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "certificate larger than the %d byte limit",
				    WEFT_CERT_MAX);
	if (sc->signature.len != WEFT_SIG_BYTES)
		return weft_err_set(
		    err, WEFT_EPARSE,
		    "certificate signature is %zu bytes, expected %d",
		    sc->signature.len, WEFT_SIG_BYTES);
	c = weft__certificate__unpack(NULL, sc->certificate.len,
				      sc->certificate.data);
	if (c == NULL)
		return weft_err_set(err, WEFT_EPARSE, "not a weft certificate");
	if (c->org_public_key.len != WEFT_PK_BYTES ||
	    c->subject_public_key.len != WEFT_PK_BYTES) {
		weft__certificate__free_unpacked(c, NULL);
		return weft_err_set(err, WEFT_EPARSE,
				    "certificate key is not %d bytes",
				    WEFT_PK_BYTES);
	}
	*cp = c;
	return 0;
}

/*
 * Check the contents of a Certificate (format, names, roles, window
 * order) and copy them into *info. Used after the signature verified, or
 * for display by weft_cert_decode.
 */
static int
weft_identity_cert_info(const Weft__Certificate *c, weft_cert_info_t *info,
			weft_err_t *err)
{
	size_t i;
	int rc;

	memset(info, 0, sizeof(*info));
	if (c->format != WEFT_CERT_FORMAT)
		return weft_err_set(err, WEFT_EPARSE,
				    "unsupported certificate format %" PRIu32
				    " (expected %d)",
				    c->format, WEFT_CERT_FORMAT);
	if ((rc = weft_name_check("org", c->org_name, err)) != 0 ||
	    (rc = weft_name_check("node", c->subject_name, err)) != 0)
		goto bad;
	if (c->n_roles > WEFT_ROLES_MAX)
		return weft_err_set(
		    err, WEFT_EPARSE,
		    "certificate for node %s has %zu roles, at most %d allowed",
		    c->subject_name, c->n_roles, WEFT_ROLES_MAX);
	for (i = 0; i < c->n_roles; i++)
		if ((rc = weft_name_check("role", c->roles[i], err)) != 0)
			goto bad;
	if (c->not_before >= c->not_after)
		return weft_err_set(
		    err, WEFT_EPARSE,
		    "certificate for node %s has an empty validity window",
		    c->subject_name);
	memcpy(info->org_name, c->org_name, strlen(c->org_name) + 1);
	memcpy(info->org_pk, c->org_public_key.data, WEFT_PK_BYTES);
	memcpy(info->subject_name, c->subject_name,
	       strlen(c->subject_name) + 1);
	memcpy(info->subject_pk, c->subject_public_key.data, WEFT_PK_BYTES);
	for (i = 0; i < c->n_roles; i++)
		memcpy(info->roles[i], c->roles[i], strlen(c->roles[i]) + 1);
	info->nroles = c->n_roles;
	info->not_before = c->not_before;
	info->not_after = c->not_after;
	info->serial = c->serial;
	return 0;
bad:
	if (err != NULL)
		err->code = WEFT_EPARSE;
	weft_err_prefix(err, "certificate");
	return WEFT_EPARSE;
}

/*
 * The whole verification of an unpacked SignedCertificate: structure,
 * trusted root by key, signature, then contents, org name binding and
 * validity window. Fills *info (may be NULL) only on success.
 */
static int
weft_identity_cert_check(const Weft__SignedCertificate *sc,
			 const weft_trust_t *trust, int64_t now,
			 weft_cert_info_t *info, weft_err_t *err)
{
	Weft__Certificate *c = NULL;
	const weft_pubkey_t *root = NULL;
	weft_cert_info_t ci;
	char node[WEFT_SHOW_MAX], org[WEFT_SHOW_MAX], kid[9], t1[48], t2[48];
	size_t i;
	int rc;

	rc = weft_identity_cert_parse(sc, &c, err);
	if (rc != 0)
		return rc;
	/* Only for messages until the signature has been checked. */
	weft_identity_show(c->subject_name, node);
	weft_identity_show(c->org_name, org);
	weft_identity_keyid(c->org_public_key.data, kid);

	for (i = 0; trust != NULL && i < trust->n; i++)
		if (memcmp(trust->roots[i].pk, c->org_public_key.data,
			   WEFT_PK_BYTES) == 0) {
			root = &trust->roots[i];
			if (strcmp(root->name, c->org_name) == 0)
				break;
		}
	if (root == NULL) {
		rc = weft_err_set(err, WEFT_ETRUST,
				  "certificate for node %s is signed by org %s "
				  "(key %s\xe2\x80\xa6) which is not trusted",
				  node, org, kid);
		goto out;
	}
	rc = weft_identity_sig(
	    NULL, c->org_public_key.data, weft_identity_cert_dom,
	    sizeof(weft_identity_cert_dom), sc->certificate.data,
	    sc->certificate.len, sc->signature.data);
	if (rc != 0) {
		weft_err_set(
		    err, rc,
		    "certificate for node %s (org %s): signature does not "
		    "verify",
		    node, org);
		goto out;
	}
	rc = weft_identity_cert_info(c, &ci, err);
	if (rc != 0)
		goto out;
	if (strcmp(root->name, ci.org_name) != 0) {
		rc = weft_err_set(err, WEFT_ETRUST,
				  "certificate for node %s claims org %s, but "
				  "key %s\xe2\x80\xa6 "
				  "is trusted as org %s",
				  ci.subject_name, ci.org_name, kid,
				  weft_identity_show(root->name, org));
		goto out;
	}
	if (now < ci.not_before) {
		rc = weft_err_set(
		    err, WEFT_EEXPIRED,
		    "certificate for node %s (org %s) is not valid until %s "
		    "(now %s)",
		    ci.subject_name, ci.org_name,
		    weft_identity_fmt_time(ci.not_before, t1),
		    weft_identity_fmt_time(now, t2));
		goto out;
	}
	if (now > ci.not_after) {
		rc = weft_err_set(
		    err, WEFT_EEXPIRED,
		    "certificate for node %s (org %s) expired at %s (now %s)",
		    ci.subject_name, ci.org_name,
		    weft_identity_fmt_time(ci.not_after, t1),
		    weft_identity_fmt_time(now, t2));
		goto out;
	}
	if (weft_trust_revoked(trust, ci.subject_pk, ci.org_pk)) {
		rc =
		    weft_err_set(err, WEFT_ETRUST,
				 "certificate for node %s (org %s) was revoked "
				 "by its org",
				 ci.subject_name, ci.org_name);
		goto out;
	}
	if (info != NULL)
		*info = ci;
	rc = 0;
out:
	weft__certificate__free_unpacked(c, NULL);
	return rc;
}

/* Unpack a serialized SignedCertificate of at most WEFT_CERT_MAX bytes. */
static int
weft_identity_sc_unpack(const uint8_t *cert, size_t len,
			Weft__SignedCertificate **out, weft_err_t *err)
{
	*out = NULL;
	if (len > WEFT_CERT_MAX)
		return weft_err_set(
		    err, WEFT_ETOOBIG,
		    "certificate of %zu bytes exceeds the %d byte limit", len,
		    WEFT_CERT_MAX);
	if (cert == NULL && len > 0)
		return weft_err_set(err, WEFT_EINVAL, "no certificate");
	*out = weft__signed_certificate__unpack(NULL, len, cert);
	if (*out == NULL)
		return weft_err_set(err, WEFT_EPARSE,
				    "not a weft signed certificate");
	return 0;
}

int
weft_trust_has_root(const weft_trust_t *trust, const weft_cert_info_t *ci)
{
	size_t i;

	for (i = 0; trust != NULL && i < trust->n; i++)
		if (memcmp(trust->roots[i].pk, ci->org_pk, WEFT_PK_BYTES) ==
			0 &&
		    strcmp(trust->roots[i].name, ci->org_name) == 0)
			return 1;
	return 0;
}

int
weft_cert_verify(const uint8_t *cert, size_t len, const weft_trust_t *trust,
		 int64_t now, weft_cert_info_t *info, weft_err_t *err)
{
	Weft__SignedCertificate *sc = NULL;
	int rc;

	if ((rc = weft_identity_init(err)) != 0)
		return rc;
	if ((rc = weft_identity_sc_unpack(cert, len, &sc, err)) != 0)
		return rc;
	rc = weft_identity_cert_check(sc, trust, now, info, err);
	weft__signed_certificate__free_unpacked(sc, NULL);
	return rc;
}

int
weft_cert_decode(const uint8_t *cert, size_t len, weft_cert_info_t *info,
		 weft_err_t *err)
{
	Weft__SignedCertificate *sc = NULL;
	Weft__Certificate *c = NULL;
	int rc;

	if ((rc = weft_identity_sc_unpack(cert, len, &sc, err)) != 0)
		return rc;
	if ((rc = weft_identity_cert_parse(sc, &c, err)) != 0)
		goto out;
	rc = weft_identity_cert_info(c, info, err);
out:
	if (c != NULL)
		weft__certificate__free_unpacked(c, NULL);
	weft__signed_certificate__free_unpacked(sc, NULL);
	return rc;
}

int
weft_envelope_sign(const weft_keypair_t *kp, const uint8_t *cert,
		   size_t cert_len, const uint8_t *payload, size_t len,
		   uint8_t **out, size_t *out_len, weft_err_t *err)
{
	Weft__Envelope env = WEFT__ENVELOPE__INIT;
	Weft__SignedCertificate *sc = NULL;
	Weft__Certificate *c = NULL;
	weft_cert_info_t ci;
	uint8_t sig[WEFT_SIG_BYTES];
	uint8_t *buf = NULL;
	char k1[9], k2[9];
	size_t n;
	int rc;

	*out = NULL;
	*out_len = 0;
	if ((rc = weft_identity_init(err)) != 0)
		return rc;
	if (kp == NULL || (payload == NULL && len > 0))
		return weft_err_set(err, WEFT_EINVAL,
				    "envelope: missing argument");
	if (len > WEFT_ENVELOPE_MAX)
		return weft_err_set(
		    err, WEFT_ETOOBIG,
		    "envelope payload of %zu bytes exceeds the %d byte limit",
		    len, WEFT_ENVELOPE_MAX);
	if ((rc = weft_identity_sc_unpack(cert, cert_len, &sc, err)) != 0)
		return rc;
	if ((rc = weft_identity_cert_parse(sc, &c, err)) != 0)
		goto out;
	if ((rc = weft_identity_cert_info(c, &ci, err)) != 0)
		goto out;
	if (memcmp(ci.subject_pk, kp->pk, WEFT_PK_BYTES) != 0) {
		rc = weft_err_set(err, WEFT_EINVAL,
				  "certificate for node %s is for key "
				  "%s\xe2\x80\xa6, not for "
				  "the signing key %s\xe2\x80\xa6 (%s)",
				  ci.subject_name,
				  weft_identity_keyid(ci.subject_pk, k1),
				  weft_identity_keyid(kp->pk, k2), kp->name);
		goto out;
	}
	rc =
	    weft_identity_sig(kp->sk, NULL, weft_identity_env_dom,
			      sizeof(weft_identity_env_dom), payload, len, sig);
	if (rc != 0) {
		weft_err_set(err, rc, "envelope: signing failed");
		goto out;
	}
	env.payload.data = (uint8_t *)payload;
	env.payload.len = len;
	env.signer = sc;
	env.signature.data = sig;
	env.signature.len = WEFT_SIG_BYTES;
	n = weft__envelope__get_packed_size(&env);
	if (n > WEFT_ENVELOPE_MAX) {
		rc = weft_err_set(
		    err, WEFT_ETOOBIG,
		    "envelope of %zu bytes exceeds the %d byte limit", n,
		    WEFT_ENVELOPE_MAX);
		goto out;
	}
	buf = malloc(n);
	if (buf == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	weft__envelope__pack(&env, buf);
	*out = buf;
	*out_len = n;
	rc = 0;
out:
	if (c != NULL)
		weft__certificate__free_unpacked(c, NULL);
	weft__signed_certificate__free_unpacked(sc, NULL);
	return rc;
}

int
weft_envelope_open(const uint8_t *env, size_t len, const weft_trust_t *trust,
		   int64_t now, uint8_t **payload, size_t *payload_len,
		   weft_cert_info_t *signer, weft_err_t *err)
{
	Weft__Envelope *e = NULL;
	weft_cert_info_t ci;
	uint8_t *copy = NULL;
	int rc;

	*payload = NULL;
	*payload_len = 0;
	if ((rc = weft_identity_init(err)) != 0)
		return rc;
	if (len > WEFT_ENVELOPE_MAX)
		return weft_err_set(
		    err, WEFT_ETOOBIG,
		    "envelope of %zu bytes exceeds the %d byte limit", len,
		    WEFT_ENVELOPE_MAX);
	if (env == NULL && len > 0)
		return weft_err_set(err, WEFT_EINVAL, "envelope: no data");
	e = weft__envelope__unpack(NULL, len, env);
	if (e == NULL)
		return weft_err_set(err, WEFT_EPARSE, "not a weft envelope");
	if (e->signer == NULL) {
		rc = weft_err_set(err, WEFT_EPARSE,
				  "envelope carries no signer certificate");
		goto out;
	}
	if (e->signature.len != WEFT_SIG_BYTES) {
		rc =
		    weft_err_set(err, WEFT_EPARSE,
				 "envelope signature is %zu bytes, expected %d",
				 e->signature.len, WEFT_SIG_BYTES);
		goto out;
	}
	rc = weft_identity_cert_check(e->signer, trust, now, &ci, err);
	if (rc != 0) {
		weft_err_prefix(err, "envelope");
		goto out;
	}
	rc = weft_identity_sig(NULL, ci.subject_pk, weft_identity_env_dom,
			       sizeof(weft_identity_env_dom), e->payload.data,
			       e->payload.len, e->signature.data);
	if (rc != 0) {
		weft_err_set(
		    err, rc,
		    "envelope from node %s (org %s): signature does not verify",
		    ci.subject_name, ci.org_name);
		goto out;
	}
	copy = malloc(e->payload.len > 0 ? e->payload.len : 1);
	if (copy == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	if (e->payload.len > 0)
		memcpy(copy, e->payload.data, e->payload.len);
	*payload = copy;
	*payload_len = e->payload.len;
	if (signer != NULL)
		*signer = ci;
	rc = 0;
out:
	weft__envelope__free_unpacked(e, NULL);
	return rc;
}
