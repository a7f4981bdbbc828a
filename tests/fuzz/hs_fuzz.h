/*
 * hs_fuzz.h: shared fixture for the handshake fuzz harnesses
 * (fuzz_hs_msg1.c, fuzz_hs_msg2.c, fuzz_hs_msg3.c): deterministic keys and
 * certificates (from fixed seeds, so a crash reproduces exactly), and a
 * feeder that checks the core's invariants on every call.
 * Header-only: each harness is one translation unit.
 */
#ifndef WEFT_HS_FUZZ_H
#define WEFT_HS_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/handshake.h"
#include "crypto/identity.h"

#define FZ_NOW 1700000000

static struct {
	weft_keypair_t *org, *ini, *resp;
	uint8_t *ci, *cr;
	size_t li, lr;
	weft_pubkey_t root;
	weft_trust_t trust;
	uint8_t nk[32];
	uint8_t m1[WEFT_HS_MSG1_BYTES];
} fz;

static weft_keypair_t *
fz_key(int kind, const char *name, uint8_t s)
{
	weft_keypair_t *kp = sodium_malloc(sizeof(*kp));
	uint8_t seed[crypto_sign_SEEDBYTES];

	if (kp == NULL)
		abort();
	memset(kp, 0, sizeof(*kp));
	memset(seed, s, sizeof(seed));
	kp->kind = kind;
	strcpy(kp->name, name);
	crypto_sign_seed_keypair(kp->pk, kp->sk, seed);
	return kp;
}

static weft_hs_t *
fz_hs(weft_hs_role_t role, uint8_t s)
{
	weft_hs_t *hs = NULL;
	uint8_t seed[32];
	int ini = role == WEFT_HS_INITIATOR;

	memset(seed, s, sizeof(seed));
	if (weft_hs_new(&hs, role, ini ? fz.ini : fz.resp, ini ? fz.ci : fz.cr,
			ini ? fz.li : fz.lr, fz.nk, &fz.trust, FZ_NOW, seed,
			NULL) != 0)
		abort();
	return hs;
}

/*
 * Feed all of data (in pieces of `split` bytes) until the core finishes,
 * fails or has taken everything; check that a failure sends nothing and
 * that no more is ever taken than offered. Returns the last rc.
 */
static int
fz_feed(weft_hs_t *hs, const uint8_t *data, size_t size, size_t split)
{
	const uint8_t *o;
	size_t off = 0, used, ol;
	weft_err_t err = {0};
	int rc = WEFT_HS_CONTINUE;

	while (off < size) {
		size_t n = size - off < split ? size - off : split;

		rc = weft_hs_recv(hs, data + off, n, &used, &o, &ol, &err);
		if (used > n || (rc < 0 && (ol != 0 || err.msg[0] == 0)))
			abort();
		if (ol > WEFT_HS_MSG_MAX || (ol > 0 && o == NULL))
			abort();
		off += used;
		if (rc != WEFT_HS_CONTINUE || ol > 0)
			break;
	}
	return rc;
}

static void
fz_init(void)
{
	weft_hs_t *i;
	const uint8_t *o;
	size_t ol;

	if (sodium_init() < 0)
		abort();
	fz.org = fz_key(WEFT_KEY_ORG, "acme", 1);
	fz.ini = fz_key(WEFT_KEY_NODE, "ini", 2);
	fz.resp = fz_key(WEFT_KEY_NODE, "resp", 3);
	if (weft_cert_issue(fz.org, "ini", fz.ini->pk, NULL, 0, FZ_NOW - 100,
			    FZ_NOW + 100, 1, &fz.ci, &fz.li, NULL) != 0 ||
	    weft_cert_issue(fz.org, "resp", fz.resp->pk, NULL, 0, FZ_NOW - 100,
			    FZ_NOW + 100, 2, &fz.cr, &fz.lr, NULL) != 0)
		abort();
	fz.root.kind = WEFT_KEY_ORG;
	strcpy(fz.root.name, "acme");
	memcpy(fz.root.pk, fz.org->pk, 32);
	fz.trust.roots = &fz.root;
	fz.trust.n = 1;
	memset(fz.nk, 0x42, sizeof(fz.nk));
	/* The honest message 1 of initiator seed 1. */
	i = fz_hs(WEFT_HS_INITIATOR, 1);
	if (weft_hs_start(i, &o, &ol, NULL) != 0 || ol != sizeof(fz.m1))
		abort();
	memcpy(fz.m1, o, ol);
	weft_hs_free(i);
}

#endif
