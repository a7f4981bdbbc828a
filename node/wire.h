/*
 * wire.h: the WireMessage codec: one message of a session (proto/weft.proto
 * WireMessage: Hello, Ping, Pong, Bulk, Goodbye and the gossip messages),
 * decoded from a frame body that a peer sent, so hostile bytes.
 *
 * Invariants of a decoded message: exactly one member of the oneof is
 * set; every string and repeated field is within the limits below or the
 * per-kind limits in wire.c; no unknown field with the invalid number 0
 * (protobuf-c would keep it and re-encode bytes it cannot parse). Cores
 * fed by the node core (node.h) may rely on these.
 */
#ifndef WEFT_NODE_WIRE_H
#define WEFT_NODE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "weft.pb-c.h"

#define WEFT_WIRE_ADDR_MAX 255	 /* Hello.listen_addr */
#define WEFT_WIRE_VERSION_MAX 64 /* Hello.version */
#define WEFT_WIRE_PING_MAX 65536 /* Ping/Pong payload */
#define WEFT_WIRE_REASON_MAX 256 /* Goodbye.reason */
#define WEFT_WIRE_JOIN_MAX 8192	 /* GossipJoin/ForwardJoin record */
#define WEFT_WIRE_JOIN_TTL 8	 /* GossipForwardJoin hops */

/*
 * Decode one WireMessage from a frame body (hostile bytes): bounded,
 * checked, with exactly one member of the oneof set and every member's
 * fields within their limits. *out is freed with
 * weft__wire_message__free_unpacked.
 * Errors: WEFT_EPARSE with a message "message: ...".
 */
int weft_wire_decode(const uint8_t *buf, size_t len, Weft__WireMessage **out,
		     weft_err_t *err);

/*
 * The Bulk fast path: if buf is exactly a WireMessage holding a Bulk with
 * non-empty data in canonical encoding, point *data / *dlen at those bytes
 * inside buf and return 1; else 0 (use weft_wire_decode). Whatever it
 * accepts, weft_wire_decode decodes to the same Bulk (fuzz_wire checks).
 */
int weft_wire_bulk_view(const uint8_t *buf, size_t len, const uint8_t **data,
			size_t *dlen);

#endif
