/*
 * fuzz_wire.c: libFuzzer harness for the session envelope decoder
 * (weft_wire_decode): hostile frame bodies must be refused or decoded
 * within the documented limits, never crash or leak. A decoded message is
 * re-encoded (canonically) and decoded again; encoding that must give the
 * same bytes. The Bulk fast path (weft_wire_bulk_view) must agree with the
 * decoder on everything it accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/session.h"
#include "node/wire.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Weft__WireMessage *m = NULL, *m2 = NULL;
	uint8_t *buf, *buf2;
	size_t n;

	const uint8_t *view;
	size_t vlen;
	int fast = weft_wire_bulk_view(data, size, &view, &vlen);

	if (weft_wire_decode(data, size, &m, NULL) != 0) {
		if (m != NULL || fast)
			abort();
		return 0;
	}
	if (fast && (m->msg_case != WEFT__WIRE_MESSAGE__MSG_BULK ||
		     m->bulk->data.len != vlen ||
		     memcmp(m->bulk->data.data, view, vlen) != 0))
		abort();
	if (m->msg_case == WEFT__WIRE_MESSAGE__MSG__NOT_SET)
		abort();
	n = weft__wire_message__get_packed_size(m);
	buf = malloc(n ? n : 1);
	if (buf == NULL)
		abort();
	weft__wire_message__pack(m, buf);
	if (weft_wire_decode(buf, n, &m2, NULL) != 0 ||
	    weft__wire_message__get_packed_size(m2) != n)
		abort();
	buf2 = malloc(n ? n : 1);
	if (buf2 == NULL)
		abort();
	weft__wire_message__pack(m2, buf2);
	if (memcmp(buf, buf2, n) != 0)
		abort();
	free(buf2);
	weft__wire_message__free_unpacked(m2, NULL);
	weft__wire_message__free_unpacked(m, NULL);
	free(buf);
	return 0;
}
