/*
 * node_fixture.h: the identity the node-side harnesses (fuzz_gossip,
 * fuzz_node, fuzz_qmsg) give their core: an org "acme", a node "n"
 * certified by it, trusting acme only. Made once: each harness's
 * LLVMFuzzerInitialize calls fz_node_fixture (any failure aborts).
 */
#ifndef WEFT_FUZZ_NODE_FIXTURE_H
#define WEFT_FUZZ_NODE_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/identity.h"

static weft_keypair_t *fz_org, *fz_node;
static uint8_t *fz_cert;
static size_t fz_cert_len;
static weft_pubkey_t fz_root;
static weft_trust_t fz_trust;
static weft_signer_t fz_signer;

static void
fz_node_fixture(void)
{
	if (sodium_init() < 0 ||
	    weft_key_generate(WEFT_KEY_ORG, "acme", &fz_org, NULL) != 0 ||
	    weft_key_generate(WEFT_KEY_NODE, "n", &fz_node, NULL) != 0 ||
	    weft_cert_issue(fz_org, "n", fz_node->pk, NULL, 0, 0, INT32_MAX, 1,
			    &fz_cert, &fz_cert_len, NULL) != 0)
		abort();
	fz_root.kind = WEFT_KEY_ORG;
	strcpy(fz_root.name, "acme");
	memcpy(fz_root.pk, fz_org->pk, WEFT_PK_BYTES);
	fz_trust.roots = &fz_root;
	fz_trust.n = 1;
	fz_signer.kp = fz_node;
	fz_signer.cert = fz_cert;
	fz_signer.cert_len = fz_cert_len;
	fz_signer.org = "acme";
	fz_signer.node = "n";
}

#endif
