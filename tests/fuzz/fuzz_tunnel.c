/*
 * fuzz_tunnel.c: libFuzzer harness for tunnels (node/tunnel.c) through
 * the node core: a gateway node of org acme with three neighbours (a
 * regular acme node, an acme gateway, a globex gateway) receives hostile
 * Relay and RelayError messages (and whatever else the bytes decode to),
 * opens tunnels of its own and lets time pass. Input: records of
 *   flags (1 byte) | length (2 bytes, big-endian) | frame body
 * flags & 3 picks the neighbour; flags & 4 rewrites a Relay's dst to our
 * key (so the fuzzer reaches the end of a tunnel: a responder's inner
 * handshake fed with hostile bytes); flags & 8 asks a fragment of node
 * "remote" (a tunnel opened, a QueryOpen waiting); flags & 16 takes the
 * neighbour's session down; flags >> 5 advances time by that many
 * seconds. Nothing may crash or leak; every message sent must encode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/node.h"
#include "node/wire.h"
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

static const char *const fz_orgs[3] = {"acme", "acme", "globex"};
static const int fz_gw[3] = {0, 1, 1};

static void
fz_up(weft_node_t *n, uint64_t now, int i)
{
	uint8_t pk[WEFT_PK_BYTES];

	memset(pk, 0x10 + i, sizeof(pk));
	weft_node_peer_up(n, now, (uint64_t)i + 1, pk, fz_orgs[i], fz_gw[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *roles[1] = {"gateway"};
	static uint8_t netkey[WEFT_HS_KEY_BYTES] = {7};
	weft_node_cfg_t cfg;
	weft_node_t *n = NULL;
	const char *addr[1] = {"127.0.0.1:1"};
	uint8_t remote[WEFT_PK_BYTES];
	uint64_t now = 1000, qid;
	int64_t unix_us = 1700000000000000ll;
	size_t off = 0;
	int i, up[3] = {1, 1, 1};

	memset(&cfg, 0, sizeof(cfg));
	cfg.gossip.signer = &fz_signer;
	cfg.gossip.trust = &fz_trust;
	cfg.gossip.addresses = addr;
	cfg.gossip.naddresses = 1;
	cfg.gossip.roles = roles;
	cfg.gossip.nroles = 1;
	cfg.gossip.seed = 1;
	cfg.tunnel.sess.network_key = netkey;
	cfg.tunnel.sess.version = "fuzz";
	memset(cfg.tunnel.seed, 3, sizeof(cfg.tunnel.seed));
	if (weft_node_new(&n, &cfg, now, unix_us, NULL) != 0)
		abort();
	weft_node_set_policy(n, 1, "globex");
	for (i = 0; i < 3; i++)
		fz_up(n, now, i);
	memset(remote, 0x42, sizeof(remote));
	while (off + 3 <= size) {
		uint8_t flags = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		int who = flags & 3;
		Weft__WireMessage *m = NULL;

		off += 3;
		if (len > size - off)
			len = size - off;
		if (who == 3)
			who = 0;
		now += (uint64_t)(flags >> 5) * 1000;
		unix_us += (int64_t)(flags >> 5) * 1000000;
		if (flags & 16) {
			if (up[who])
				weft_node_peer_down(n, now, (uint64_t)who + 1);
			else
				fz_up(n, now, who);
			up[who] = !up[who];
		}
		if (flags & 8)
			(void)weft_node_query_open(
			    n, now, unix_us, remote, "globex", "d.p", 1,
			    data + off, len, 1000, &qid, NULL);
		if (up[who] &&
		    weft_wire_decode(data + off, len, &m, NULL) == 0) {
			if ((flags & 4) &&
			    m->msg_case == WEFT__WIRE_MESSAGE__MSG_RELAY)
				memcpy(m->relay->dst.data, fz_node->pk,
				       WEFT_PK_BYTES);
			(void)weft_node_recv(n, now, unix_us, (uint64_t)who + 1,
					     m, NULL);
			weft__wire_message__free_unpacked(m, NULL);
		}
		if (weft_node_next_timer(n) <= now)
			weft_node_tick(n, now, unix_us);
		fz_drain(n);
		off += len;
	}
	weft_node_tick(n, now + 120000, unix_us + 120000000);
	fz_drain(n);
	weft_node_free(n);
	return 0;
}
