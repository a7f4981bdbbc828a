/*
 * test_handshake.c: cmocka tests for crypto/handshake: two cores talking
 * through memory; refusals (network key, trust, validity, signatures,
 * replays); every single-bit flip of every message; fresh keys per session.
 *
 * Seeds are fixed per test, so a core rebuilt with the same seed sends the
 * same bytes: that is how the bit-flip tests rebuild the honest state
 * before each flipped message cheaply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/frame.h"
#include "crypto/handshake.h"
#include "crypto/identity.h"
#include "lib/err.h"

#define T0 1700000000
#define DAY 86400

typedef struct node {
	weft_keypair_t *kp;
	uint8_t *cert;
	size_t cert_len;
} node_t;

typedef struct fixture {
	weft_keypair_t *org_a, *org_b;
	weft_pubkey_t roots[2];
	weft_trust_t trust_a, trust_ab;
	node_t a1, a2, b1;
	uint8_t nk[32], nk_other[32];
} fixture_t;

/* Captured honest messages of one handshake. */
typedef struct msgs {
	uint8_t m1[WEFT_HS_MSG1_BYTES], m2[WEFT_HS_MSG_MAX],
	    m3[WEFT_HS_MSG_MAX];
	size_t l2, l3;
} msgs_t;

static void
to_root(const weft_keypair_t *kp, weft_pubkey_t *pub)
{
	memset(pub, 0, sizeof(*pub));
	pub->kind = kp->kind;
	memcpy(pub->name, kp->name, sizeof(pub->name));
	memcpy(pub->pk, kp->pk, WEFT_PK_BYTES);
}

static void
node_make(node_t *n, const weft_keypair_t *org, const char *name, int64_t nb,
	  int64_t na)
{
	const char *roles[] = {"gateway"};

	assert_int_equal(weft_key_generate(WEFT_KEY_NODE, name, &n->kp, NULL),
			 0);
	assert_int_equal(weft_cert_issue(org, name, n->kp->pk, roles, 1, nb, na,
					 7, &n->cert, &n->cert_len, NULL),
			 0);
}

static void
node_free(node_t *n)
{
	weft_key_free(n->kp);
	free(n->cert);
}

static int
setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(
	    weft_key_generate(WEFT_KEY_ORG, "acme", &f->org_a, NULL), 0);
	assert_int_equal(
	    weft_key_generate(WEFT_KEY_ORG, "globex", &f->org_b, NULL), 0);
	to_root(f->org_a, &f->roots[0]);
	to_root(f->org_b, &f->roots[1]);
	f->trust_a.roots = f->roots;
	f->trust_a.n = 1;
	f->trust_ab.roots = f->roots;
	f->trust_ab.n = 2;
	node_make(&f->a1, f->org_a, "a1", T0 - DAY, T0 + DAY);
	node_make(&f->a2, f->org_a, "a2", T0 - DAY, T0 + DAY);
	node_make(&f->b1, f->org_b, "b1", T0 - DAY, T0 + DAY);
	memset(f->nk, 0x42, sizeof(f->nk));
	memset(f->nk_other, 0x43, sizeof(f->nk_other));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture_t *f = *state;

	node_free(&f->a1);
	node_free(&f->a2);
	node_free(&f->b1);
	weft_key_free(f->org_a);
	weft_key_free(f->org_b);
	free(f);
	return 0;
}

static weft_hs_t *
mk(weft_hs_role_t role, const node_t *n, const uint8_t *nk,
   const weft_trust_t *trust, int64_t now, uint8_t seedbyte)
{
	weft_hs_t *hs = NULL;
	uint8_t seed[32];
	weft_err_t err = {0};

	memset(seed, seedbyte, sizeof(seed));
	if (weft_hs_new(&hs, role, n->kp, n->cert, n->cert_len, nk, trust, now,
			seed, &err) != 0)
		fail_msg("weft_hs_new: %s", err.msg);
	return hs;
}

/*
 * Feed a whole message in pieces of `split` bytes (0: all at once).
 * Returns the final rc; the reply (if any) is copied to out.
 */
static int
feed(weft_hs_t *hs, const uint8_t *m, size_t len, size_t split, uint8_t *out,
     size_t *out_len, weft_err_t *err)
{
	const uint8_t *o = NULL;
	size_t off = 0, used, ol = 0;
	int rc = WEFT_HS_CONTINUE;

	*out_len = 0;
	do {
		size_t n = split == 0 || len - off < split ? len - off : split;

		rc = weft_hs_recv(hs, m + off, n, &used, &o, &ol, err);
		if (rc < 0) {
			assert_int_equal(ol, 0);
			return rc;
		}
		assert_true(used <= n);
		off += used;
		if (ol > 0) {
			memcpy(out, o, ol);
			*out_len = ol;
		}
		if (rc == WEFT_HS_DONE || ol > 0)
			break;
	} while (off < len);
	assert_int_equal(off, len);
	return rc;
}

/* Run a full handshake, capturing messages; both must succeed. */
static void
run(weft_hs_t *i, weft_hs_t *r, size_t split, msgs_t *m)
{
	uint8_t scratch[WEFT_HS_MSG_MAX];
	const uint8_t *o;
	size_t ol;
	weft_err_t err = {0};
	int rc;

	assert_int_equal(weft_hs_start(i, &o, &ol, &err), WEFT_HS_CONTINUE);
	assert_int_equal(ol, WEFT_HS_MSG1_BYTES);
	memcpy(m->m1, o, ol);
	rc = feed(r, m->m1, sizeof(m->m1), split, m->m2, &m->l2, &err);
	if (rc != WEFT_HS_CONTINUE)
		fail_msg("msg1: %d %s", rc, err.msg);
	assert_true(m->l2 > 0);
	rc = feed(i, m->m2, m->l2, split, m->m3, &m->l3, &err);
	if (rc != WEFT_HS_DONE)
		fail_msg("msg2: %d %s", rc, err.msg);
	assert_true(m->l3 > 0);
	rc = feed(r, m->m3, m->l3, split, scratch, &ol, &err);
	if (rc != WEFT_HS_DONE)
		fail_msg("msg3: %d %s", rc, err.msg);
	assert_int_equal(ol, 0);
}

static void
test_complete(void **state)
{
	fixture_t *f = *state;
	size_t splits[] = {0, 1, 7, 33, 100};
	size_t s, len;

	for (s = 0; s < sizeof(splits) / sizeof(splits[0]); s++) {
		weft_hs_t *i =
		    mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_ab, T0, 1);
		weft_hs_t *r = mk(WEFT_HS_RESPONDER, &f->b1, f->nk,
				  &f->trust_ab, T0 + 5, 2);
		weft_hs_result_t ri, rr;
		const uint8_t *pc;
		msgs_t m;

		assert_int_equal(weft_hs_result(i, &ri), WEFT_EINVAL);
		run(i, r, splits[s], &m);
		assert_int_equal(weft_hs_result(i, &ri), 0);
		assert_int_equal(weft_hs_result(r, &rr), 0);
		assert_memory_equal(ri.tx, rr.rx, 32);
		assert_memory_equal(ri.rx, rr.tx, 32);
		assert_memory_not_equal(ri.tx, ri.rx, 32);
		assert_memory_equal(ri.session_id, rr.session_id, 32);
		assert_memory_equal(ri.peer.subject_pk, f->b1.kp->pk, 32);
		assert_memory_equal(rr.peer.subject_pk, f->a1.kp->pk, 32);
		assert_string_equal(ri.peer.org_name, "globex");
		assert_string_equal(rr.peer.org_name, "acme");
		assert_string_equal(rr.peer.subject_name, "a1");
		assert_int_equal(rr.peer.nroles, 1);
		assert_string_equal(rr.peer.roles[0], "gateway");
		pc = weft_hs_peer_cert(r, &len);
		assert_int_equal(len, f->a1.cert_len);
		assert_memory_equal(pc, f->a1.cert, len);
		/* Identities never appear in the clear on the wire. */
		assert_null(memmem(m.m2, m.l2, f->b1.kp->pk, 32));
		assert_null(memmem(m.m3, m.l3, f->a1.kp->pk, 32));
		assert_null(memmem(m.m2, m.l2, "globex", 6));
		assert_null(memmem(m.m3, m.l3, "acme", 4));
		sodium_memzero(&ri, sizeof(ri));
		sodium_memzero(&rr, sizeof(rr));
		weft_hs_free(i);
		weft_hs_free(r);
	}
}

/* Bytes after message 3 belong to the frame layer: not consumed. */
static void
test_trailing_bytes(void **state)
{
	fixture_t *f = *state;
	weft_hs_t *i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	weft_hs_t *r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
	uint8_t buf[WEFT_HS_MSG_MAX + 10], m2[WEFT_HS_MSG_MAX];
	const uint8_t *o;
	size_t ol, used, l2;
	weft_err_t err = {0};

	assert_int_equal(weft_hs_start(i, &o, &ol, &err), 0);
	memcpy(buf, o, ol);
	memset(buf + ol, 0xee, 10);
	/* Responder takes only message 1 out of a longer buffer. */
	assert_int_equal(weft_hs_recv(r, buf, ol + 10, &used, &o, &l2, &err),
			 WEFT_HS_CONTINUE);
	assert_int_equal(used, WEFT_HS_MSG1_BYTES);
	memcpy(m2, o, l2);
	assert_int_equal(weft_hs_recv(i, m2, l2, &used, &o, &ol, &err),
			 WEFT_HS_DONE);
	memcpy(buf, o, ol);
	memcpy(buf + ol, "frame", 5);
	assert_int_equal(weft_hs_recv(r, buf, ol + 5, &used, &o, &l2, &err),
			 WEFT_HS_DONE);
	assert_int_equal(used, ol);
	assert_int_equal(l2, 0);
	/* Anything further is refused. */
	assert_int_equal(weft_hs_recv(r, buf, 1, &used, &o, &l2, &err),
			 WEFT_EINVAL);
	weft_hs_free(i);
	weft_hs_free(r);
}

/*
 * A client without the network key gets nothing: the responder emits no
 * byte at all, so nothing it could send (e_R, certificate) can leak.
 */
static void
test_wrong_network_key(void **state)
{
	fixture_t *f = *state;
	weft_hs_t *i =
	    mk(WEFT_HS_INITIATOR, &f->a1, f->nk_other, &f->trust_a, T0, 1);
	weft_hs_t *r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
	uint8_t m1[WEFT_HS_MSG1_BYTES], junk[200];
	const uint8_t *o;
	size_t ol, used;
	weft_err_t err = {0};
	int rc;

	assert_int_equal(weft_hs_start(i, &o, &ol, &err), 0);
	memcpy(m1, o, ol);
	o = (const uint8_t *)"x";
	ol = 99;
	rc = weft_hs_recv(r, m1, sizeof(m1), &used, &o, &ol, &err);
	assert_int_equal(rc, WEFT_ESIG);
	assert_int_equal(ol, 0);
	assert_null(o);
	assert_non_null(strstr(err.msg, "handshake: bad network key"));
	/* Still nothing, whatever else the stranger sends. */
	memset(junk, 0, sizeof(junk));
	rc = weft_hs_recv(r, junk, sizeof(junk), &used, &o, &ol, &err);
	assert_true(rc < 0);
	assert_int_equal(ol, 0);
	weft_hs_free(r);

	/* Random bytes of the right size: same silence. */
	r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
	randombytes_buf(m1, sizeof(m1));
	rc = weft_hs_recv(r, m1, sizeof(m1), &used, &o, &ol, &err);
	assert_int_equal(rc, WEFT_ESIG);
	assert_int_equal(ol, 0);
	weft_hs_free(r);
	weft_hs_free(i);
}

/* Drive i and r until one fails; return that rc and who sent what. */
static int
run_expect_fail(weft_hs_t *i, weft_hs_t *r, int *failed_at, weft_err_t *err)
{
	uint8_t m2[WEFT_HS_MSG_MAX], m3[WEFT_HS_MSG_MAX], m1[72];
	const uint8_t *o;
	size_t ol, l2, l3;
	int rc;

	assert_int_equal(weft_hs_start(i, &o, &ol, err), 0);
	memcpy(m1, o, ol);
	*failed_at = 1;
	rc = feed(r, m1, ol, 0, m2, &l2, err);
	if (rc < 0)
		goto out;
	*failed_at = 2;
	rc = feed(i, m2, l2, 0, m3, &l3, err);
	if (rc < 0)
		goto out;
	*failed_at = 3;
	rc = feed(r, m3, l3, 0, m2, &l2, err);
	if (rc < 0)
		goto out;
	*failed_at = 0;
out:
	if (rc < 0)
		print_message("refused at message %d: %s\n", *failed_at,
			      err->msg);
	return rc;
}

static void
test_untrusted_org(void **state)
{
	fixture_t *f = *state;
	weft_hs_t *i, *r;
	weft_err_t err = {0};
	int at, rc;

	/* The responder does not trust the initiator's org. */
	i = mk(WEFT_HS_INITIATOR, &f->b1, f->nk, &f->trust_ab, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &f->a1, f->nk, &f->trust_a, T0, 2);
	rc = run_expect_fail(i, r, &at, &err);
	assert_int_equal(rc, WEFT_ETRUST);
	assert_int_equal(at, 3);
	assert_non_null(strstr(err.msg, "handshake: initiator: "));
	assert_non_null(strstr(err.msg, "org globex"));
	assert_non_null(strstr(err.msg, "not trusted"));
	weft_hs_free(i);
	weft_hs_free(r);

	/* The initiator does not trust the responder's org: it refuses at
	 * message 2 and never reveals its own identity. */
	i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &f->b1, f->nk, &f->trust_ab, T0, 2);
	rc = run_expect_fail(i, r, &at, &err);
	assert_int_equal(rc, WEFT_ETRUST);
	assert_int_equal(at, 2);
	assert_non_null(strstr(err.msg, "handshake: responder: "));
	weft_hs_free(i);
	weft_hs_free(r);
}

static void
test_validity(void **state)
{
	fixture_t *f = *state;
	node_t old, young;
	weft_hs_t *i, *r;
	weft_err_t err = {0};
	int at, rc;

	node_make(&old, f->org_a, "old", T0 - 10 * DAY, T0 - DAY);
	node_make(&young, f->org_a, "young", T0 + DAY, T0 + 10 * DAY);

	i = mk(WEFT_HS_INITIATOR, &old, f->nk, &f->trust_a, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &f->a1, f->nk, &f->trust_a, T0, 2);
	rc = run_expect_fail(i, r, &at, &err);
	assert_int_equal(rc, WEFT_EEXPIRED);
	assert_int_equal(at, 3);
	assert_non_null(strstr(err.msg, "expired at"));
	weft_hs_free(i);
	weft_hs_free(r);

	i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &young, f->nk, &f->trust_a, T0, 2);
	rc = run_expect_fail(i, r, &at, &err);
	assert_int_equal(rc, WEFT_EEXPIRED);
	assert_int_equal(at, 2);
	assert_non_null(strstr(err.msg, "not valid until"));
	weft_hs_free(i);
	weft_hs_free(r);

	/* Message 1 dated far from the responder's clock. */
	i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a,
	       T0 + WEFT_HS_SKEW_S + 1, 2);
	rc = run_expect_fail(i, r, &at, &err);
	assert_int_equal(rc, WEFT_EEXPIRED);
	assert_int_equal(at, 1);
	weft_hs_free(i);
	weft_hs_free(r);
	node_free(&old);
	node_free(&young);
}

static void
test_broken_cert_signature(void **state)
{
	fixture_t *f = *state;
	node_t bad;
	weft_hs_t *i, *r;
	weft_err_t err = {0};
	int at, rc;

	node_make(&bad, f->org_a, "bad", T0 - DAY, T0 + DAY);
	/* The SignedCertificate ends with the 64-byte root signature. */
	bad.cert[bad.cert_len - 5] ^= 0x10;

	i = mk(WEFT_HS_INITIATOR, &bad, f->nk, &f->trust_a, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &f->a1, f->nk, &f->trust_a, T0, 2);
	rc = run_expect_fail(i, r, &at, &err);
	assert_int_equal(rc, WEFT_ESIG);
	assert_int_equal(at, 3);
	assert_non_null(strstr(err.msg, "signature does not verify"));
	weft_hs_free(i);
	weft_hs_free(r);

	i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &bad, f->nk, &f->trust_a, T0, 2);
	rc = run_expect_fail(i, r, &at, &err);
	assert_int_equal(rc, WEFT_ESIG);
	assert_int_equal(at, 2);
	weft_hs_free(i);
	weft_hs_free(r);
	node_free(&bad);
}

/* A certificate valid for another key than ours is refused at once. */
static void
test_cert_not_ours(void **state)
{
	fixture_t *f = *state;
	weft_hs_t *hs = NULL;
	uint8_t seed[32] = {0};
	weft_err_t err = {0};

	assert_int_equal(weft_hs_new(&hs, WEFT_HS_INITIATOR, f->a1.kp,
				     f->a2.cert, f->a2.cert_len, f->nk,
				     &f->trust_a, T0, seed, &err),
			 WEFT_EINVAL);
	assert_null(hs);
}

static void
test_replay_msg1(void **state)
{
	fixture_t *f = *state;
	weft_hs_t *i, *r, *r2;
	weft_hs_replay_t *rp;
	msgs_t m;
	uint8_t out[WEFT_HS_MSG_MAX];
	const uint8_t *o;
	size_t ol, used;
	weft_err_t err = {0};
	int rc;

	assert_int_equal(weft_hs_replay_new(16, &rp), 0);
	i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
	weft_hs_set_replay(r, rp);
	run(i, r, 0, &m);

	/* With the listener's replay memory: refused, nothing sent. */
	r2 = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0 + 1, 3);
	weft_hs_set_replay(r2, rp);
	rc = weft_hs_recv(r2, m.m1, sizeof(m.m1), &used, &o, &ol, &err);
	assert_int_equal(rc, WEFT_ESTALE);
	assert_int_equal(ol, 0);
	assert_non_null(strstr(err.msg, "replayed message 1"));
	weft_hs_free(r2);

	/* Without it (a restart): the responder answers, but the replayer
	 * cannot finish, and the old message 3 does not fit this session. */
	r2 = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0 + 1, 3);
	rc = feed(r2, m.m1, sizeof(m.m1), 0, out, &ol, &err);
	assert_int_equal(rc, WEFT_HS_CONTINUE);
	assert_true(ol > 0);
	rc = feed(r2, m.m3, m.l3, 0, out, &ol, &err);
	assert_int_equal(rc, WEFT_ESIG);
	assert_non_null(strstr(err.msg, "message 3 does not decrypt"));
	weft_hs_free(r2);

	weft_hs_free(i);
	weft_hs_free(r);
	weft_hs_replay_free(rp);
}

/* Message 3 of one session replayed into another session of the same
 * pair (after an honest message 1 from the same initiator key). */
static void
test_replay_msg3(void **state)
{
	fixture_t *f = *state;
	weft_hs_t *i, *r, *i2, *r2;
	msgs_t m, m2;
	uint8_t out[WEFT_HS_MSG_MAX];
	size_t ol;
	weft_err_t err = {0};
	int rc;

	i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
	run(i, r, 0, &m);

	i2 = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 11);
	r2 = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 12);
	{
		const uint8_t *o;

		assert_int_equal(weft_hs_start(i2, &o, &ol, &err), 0);
		memcpy(m2.m1, o, ol);
	}
	rc = feed(r2, m2.m1, sizeof(m2.m1), 0, out, &ol, &err);
	assert_int_equal(rc, WEFT_HS_CONTINUE);
	rc = feed(r2, m.m3, m.l3, 0, out, &ol, &err);
	assert_int_equal(rc, WEFT_ESIG);
	assert_int_equal(ol, 0);

	/* Message 2 of the first session into the second initiator. */
	rc = feed(i2, m.m2, m.l2, 0, out, &ol, &err);
	assert_int_equal(rc, WEFT_ESIG);
	assert_int_equal(ol, 0);

	weft_hs_free(i);
	weft_hs_free(r);
	weft_hs_free(i2);
	weft_hs_free(r2);
}

/*
 * Feed a (tampered) message; if the core waits for more (a length field
 * was enlarged), keep feeding zeros: it must fail, never finish.
 */
static void
expect_refused(weft_hs_t *hs, const uint8_t *m, size_t len, size_t bit)
{
	uint8_t zeros[WEFT_HS_MSG_MAX] = {0};
	const uint8_t *o;
	size_t ol, used, fed = 0;
	weft_err_t err = {0};
	int rc;

	rc = weft_hs_recv(hs, m, len, &used, &o, &ol, &err);
	while (rc == WEFT_HS_CONTINUE && ol == 0 && used == len &&
	       fed < 2 * WEFT_HS_MSG_MAX) {
		m = zeros;
		len = 64;
		fed += len;
		rc = weft_hs_recv(hs, m, len, &used, &o, &ol, &err);
	}
	if (rc == WEFT_HS_CONTINUE && used < len)
		/* A shortened length: the message ended early and failed, or
		 * will fail on the bytes that remain. */
		rc = weft_hs_recv(hs, m + used, len - used, &used, &o, &ol,
				  &err);
	if (rc >= 0)
		fail_msg("bit %zu: accepted (rc %d)", bit, rc);
	assert_int_equal(ol, 0);
}

static void
test_bit_flips(void **state)
{
	fixture_t *f = *state;
	weft_hs_t *i, *r;
	msgs_t m;
	uint8_t buf[WEFT_HS_MSG_MAX], out[WEFT_HS_MSG_MAX];
	const uint8_t *o;
	size_t ol, bit;
	weft_err_t err = {0};

	i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
	run(i, r, 0, &m);
	weft_hs_free(i);
	weft_hs_free(r);

	for (bit = 0; bit < sizeof(m.m1) * 8; bit++) {
		r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
		memcpy(buf, m.m1, sizeof(m.m1));
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_refused(r, buf, sizeof(m.m1), bit);
		weft_hs_free(r);
	}
	for (bit = 0; bit < m.l2 * 8; bit++) {
		i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
		assert_int_equal(weft_hs_start(i, &o, &ol, &err), 0);
		assert_memory_equal(o, m.m1, ol);
		memcpy(buf, m.m2, m.l2);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_refused(i, buf, m.l2, bit);
		weft_hs_free(i);
	}
	for (bit = 0; bit < m.l3 * 8; bit++) {
		r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
		assert_int_equal(feed(r, m.m1, sizeof(m.m1), 0, out, &ol, &err),
				 WEFT_HS_CONTINUE);
		assert_memory_equal(out, m.m2, ol);
		memcpy(buf, m.m3, m.l3);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_refused(r, buf, m.l3, bit);
		weft_hs_free(r);
	}
}

static void
test_sessions_differ(void **state)
{
	fixture_t *f = *state;
	weft_hs_result_t a, b;
	msgs_t m;
	weft_hs_t *i, *r;

	i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
	run(i, r, 0, &m);
	assert_int_equal(weft_hs_result(i, &a), 0);
	weft_hs_free(i);
	weft_hs_free(r);
	i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 3);
	r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 4);
	run(i, r, 0, &m);
	assert_int_equal(weft_hs_result(i, &b), 0);
	assert_memory_not_equal(a.tx, b.tx, 32);
	assert_memory_not_equal(a.rx, b.rx, 32);
	assert_memory_not_equal(a.session_id, b.session_id, 32);
	weft_hs_free(i);
	weft_hs_free(r);
}

/* Misuse: wrong role or order is an error, not a crash. */
static void
test_misuse(void **state)
{
	fixture_t *f = *state;
	weft_hs_t *r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
	weft_hs_t *i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	const uint8_t *o;
	size_t ol, used;
	uint8_t b[4] = {0};
	weft_err_t err = {0};

	assert_int_equal(weft_hs_start(r, &o, &ol, &err), WEFT_EINVAL);
	assert_int_equal(weft_hs_recv(i, b, 4, &used, &o, &ol, &err),
			 WEFT_EINVAL);
	assert_int_equal(weft_hs_start(i, &o, &ol, &err), 0);
	assert_int_equal(weft_hs_start(i, &o, &ol, &err), WEFT_EINVAL);
	weft_hs_free(i);
	weft_hs_free(r);
	weft_hs_free(NULL);
	weft_hs_replay_free(NULL);
}

/* The session keys drive the frame layer: I -> R and R -> I both work,
 * and a direction's key does not open the other direction. */
static void
test_keys_drive_frames(void **state)
{
	fixture_t *f = *state;
	weft_hs_t *i = mk(WEFT_HS_INITIATOR, &f->a1, f->nk, &f->trust_a, T0, 1);
	weft_hs_t *r = mk(WEFT_HS_RESPONDER, &f->a2, f->nk, &f->trust_a, T0, 2);
	weft_hs_result_t ri, rr;
	weft_frame_tx_t *tx;
	weft_frame_rx_t *rx, *wrong;
	uint8_t buf[64];
	size_t ol;
	weft_frame_t fr;
	weft_err_t err = {0};
	msgs_t m;

	run(i, r, 0, &m);
	assert_int_equal(weft_hs_result(i, &ri), 0);
	assert_int_equal(weft_hs_result(r, &rr), 0);
	assert_int_equal(weft_frame_tx_new(ri.tx, 0, &tx), 0);
	assert_int_equal(weft_frame_rx_new(rr.rx, 0, &rx), 0);
	assert_int_equal(weft_frame_rx_new(rr.tx, 0, &wrong), 0);
	assert_int_equal(weft_frame_seal(tx, (const uint8_t *)"hello", 5, buf,
					 sizeof(buf), &ol, &err),
			 0);
	assert_int_equal(weft_frame_feed(rx, buf, ol), WEFT_FRAME_HDR);
	assert_int_equal(weft_frame_next(rx, &fr, &err), 0);
	assert_int_equal(
	    weft_frame_feed(rx, buf + WEFT_FRAME_HDR, ol - WEFT_FRAME_HDR),
	    ol - WEFT_FRAME_HDR);
	assert_int_equal(weft_frame_next(rx, &fr, &err), 1);
	assert_int_equal(fr.len, 5);
	assert_memory_equal(fr.data, "hello", 5);
	assert_int_equal(weft_frame_feed(wrong, buf, ol), WEFT_FRAME_HDR);
	assert_int_equal(weft_frame_next(wrong, &fr, &err), WEFT_ESIG);
	weft_frame_tx_free(tx);
	weft_frame_rx_free(rx);
	weft_frame_rx_free(wrong);
	sodium_memzero(&ri, sizeof(ri));
	sodium_memzero(&rr, sizeof(rr));
	weft_hs_free(i);
	weft_hs_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_complete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trailing_bytes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_network_key, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_untrusted_org, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_validity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_broken_cert_signature, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_cert_not_ours, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_replay_msg1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replay_msg3, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bit_flips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sessions_differ, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_drive_frames, setup,
					    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
