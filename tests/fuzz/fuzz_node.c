/*
 * fuzz_node.c: libFuzzer harness for the node core (node/node.h), the
 * dispatch every session's messages go through: the input is a flags
 * byte (the neighbour's org and gateway role) then frame bodies, each a
 * 2-byte big-endian length and that many hostile bytes, fed one by one to
 * weft_node_input with time passing between them. Nothing may crash or
 * leak; every message the core sends back must encode; a refused body
 * leaves the core serving the next.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/node.h"
#include "node_drain.h"
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
	weft_node_cfg_t cfg;
	weft_node_t *n = NULL;
	uint8_t peer_pk[WEFT_PK_BYTES] = {1};
	const char *addr[1] = {"127.0.0.1:1"};
	uint64_t now = 1000;
	int64_t unix_us = 1700000000000000ll;
	size_t off = 1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.gossip.signer = &fz_signer;
	cfg.gossip.trust = &fz_trust;
	cfg.gossip.addresses = addr;
	cfg.gossip.naddresses = 1;
	cfg.gossip.seed = 1;
	if (size < 1 || weft_node_new(&n, &cfg, now, unix_us, NULL) != 0) {
		weft_node_free(n);
		return 0;
	}
	weft_node_peer_up(n, now, 7, peer_pk, (data[0] & 1) ? "acme" : "other",
			  (data[0] & 2) != 0);
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];

		off += 2;
		if (len > size - off)
			len = size - off;
		(void)weft_node_input(n, now, unix_us, 7, data + off, len,
				      NULL);
		off += len;
		fz_drain(n);
		now += 250;
		unix_us += 250000;
		if (weft_node_next_timer(n) <= now) {
			weft_node_tick(n, now, unix_us);
			fz_drain(n);
		}
	}
	weft_node_peer_down(n, now, 7);
	fz_drain(n);
	weft_node_free(n);
	return 0;
}
