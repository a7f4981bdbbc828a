/*
 * out.h: what a sans-IO core asks of its driver. Every core of a node
 * (gossip today; routing and the query service next) queues its outputs
 * as weft_out_t, and the node core (node.h) hands them to the driver, the
 * agent or the simulator, through one weft_node_poll.
 *
 * Ownership: a polled output's msg and env belong to the driver, which
 * releases both with weft_node_out_free (node.h) once it has acted.
 */
#ifndef WEFT_NODE_OUT_H
#define WEFT_NODE_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "weft.pb-c.h"

#define WEFT_OUT_ADDR_MAX 256
#define WEFT_OUT_TEXT_MAX 511

typedef enum weft_out_kind {
	WEFT_OUT_SEND = 1,  /* send msg to the session with id peer */
	WEFT_OUT_STORE = 2, /* persist env (already verified) */
	WEFT_OUT_DIAL = 3,  /* connect to member pk at addr */
	WEFT_OUT_NOTE = 4,  /* log text: an entry crossed into another org
			     * through us (the forwarding log) */
} weft_out_kind_t;

typedef struct weft_out {
	weft_out_kind_t kind;
	uint64_t peer;		/* SEND, NOTE: the session it concerns */
	Weft__WireMessage *msg; /* SEND */
	uint8_t *env;		/* STORE: a signed catalog entry */
	size_t env_len;
	uint8_t pk[WEFT_PK_BYTES];	  /* DIAL */
	char addr[WEFT_OUT_ADDR_MAX + 1]; /* DIAL */
	char text[WEFT_OUT_TEXT_MAX + 1]; /* NOTE */
} weft_out_t;

#endif
