/*
 * fuzz_gossip.c: libFuzzer harness for the gossip core: hostile frame
 * bodies, decoded as a session would (weft_wire_decode), are fed to a
 * core with one neighbour; gossip messages must be refused or handled,
 * never crash or leak, and what the core sends back must encode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/gossip.h"
#include "node/session.h"
#include "node/wire.h"

static weft_keypair_t *fz_org, *fz_node;
static uint8_t *fz_cert;
static size_t fz_cert_len;
static weft_pubkey_t fz_root;
static weft_trust_t fz_trust;
static weft_signer_t fz_signer;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
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
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	weft_gossip_cfg_t cfg = {0};
	weft_gossip_t *g = NULL;
	Weft__WireMessage *m = NULL;
	weft_out_t o;
	uint8_t peer_pk[WEFT_PK_BYTES] = {1};
	const char *addr[1] = {"127.0.0.1:1"};

	cfg.signer = &fz_signer;
	cfg.trust = &fz_trust;
	cfg.addresses = addr;
	cfg.naddresses = 1;
	cfg.seed = 1;
	if (weft_gossip_new(&g, &cfg, 1000, 1700000000000000ll, NULL) != 0)
		abort();
	weft_gossip_peer_up(g, 1000, 7, peer_pk,
			    size > 0 && (data[0] & 1) ? "acme" : "other",
			    size > 0 && (data[0] & 2));
	if (weft_wire_decode(data, size, &m, NULL) == 0) {
		(void)weft_gossip_recv(g, 1000, 1700000000000000ll, 7, m, NULL);
		weft__wire_message__free_unpacked(m, NULL);
	}
	weft_gossip_tick(g, 5000, 1700000004000000ll);
	while (weft_gossip_poll(g, &o)) {
		if (o.msg != NULL) {
			size_t n = weft__wire_message__get_packed_size(o.msg);
			uint8_t *buf = malloc(n ? n : 1);

			if (buf == NULL)
				abort();
			weft__wire_message__pack(o.msg, buf);
			free(buf);
		}
		weft_gossip_msg_free(o.msg);
		free(o.env);
	}
	weft_gossip_free(g);
	return 0;
}
