/*
 * node_drain.h: what the harnesses that drive a whole node core (fuzz_node,
 * fuzz_tunnel) do with its outputs: take every one; each message it sends
 * must encode.
 */
#ifndef WEFT_FUZZ_NODE_DRAIN_H
#define WEFT_FUZZ_NODE_DRAIN_H

#include <stdint.h>
#include <stdlib.h>

#include "node/node.h"

static inline void
fz_drain(weft_node_t *n)
{
	weft_out_t o;

	while (weft_node_poll(n, &o)) {
		if (o.kind == WEFT_OUT_SEND) {
			size_t len;
			uint8_t *buf;

			if (o.msg == NULL)
				abort();
			len = weft__wire_message__get_packed_size(o.msg);
			buf = malloc(len ? len : 1);
			if (buf == NULL)
				abort();
			weft__wire_message__pack(o.msg, buf);
			free(buf);
		}
		weft_node_out_free(&o);
	}
}

#endif
