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
#include "node_fixture.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_node_fixture();
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
