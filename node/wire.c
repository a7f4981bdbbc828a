/*
 * wire.c: the WireMessage codec (wire.h): every message a session carries
 * is decoded here, once, as hostile bytes, before any core sees it.
 */
#include "node/wire.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/frame.h"
#include "lib/utf8.h"
#include "node/qsvc.h"
#include "node/tunnel.h"

/* Printable ASCII only, so peer-supplied strings are safe in logs. */
static int
weft_wire_printable(const char *p, size_t max)
{
	size_t i;

	for (i = 0; p[i]; i++)
		if (i >= max || p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

/* Text for a person (an error sent back): valid UTF-8 of at most max
 * bytes, no control characters. */
static int
weft_wire_text(const char *p, size_t max)
{
	size_t i, n = strnlen(p, max + 1);

	if (n > max || !weft_utf8_valid(p, n))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

/* protobuf-c keeps unknown fields, even with the invalid field number 0,
 * which it would then re-encode into bytes it cannot parse: refuse them. */
static int
weft_wire_bad_unknown(const ProtobufCMessage *m)
{
	size_t i;

	for (i = 0; m != NULL && i < m->n_unknown_fields; i++)
		if (m->unknown_fields[i].tag == 0)
			return 1;
	return 0;
}

/* The federated messages' limits (queries, tunnels): NULL, or why not. */
static const char *
wire_check_fed(const Weft__WireMessage *m)
{
	const char *why = NULL;

	switch (m->msg_case) {
	case WEFT__WIRE_MESSAGE__MSG_QOPEN:
		if (!weft_wire_printable(m->qopen->product,
					 WEFT_QSVC_PRODUCT_MAX))
			why = "QueryOpen with an over-long or unprintable "
			      "product";
		else if (m->qopen->credit == 0 ||
			 m->qopen->credit > 64 * WEFT_QSVC_CREDIT)
			why = "QueryOpen with a bad credit";
		break;
	case WEFT__WIRE_MESSAGE__MSG_QEND:
		if (!weft_wire_text(m->qend->error, WEFT_QSVC_ERR_MAX))
			why = "QueryEnd with an over-long or unprintable "
			      "error";
		else if (!weft_wire_text(m->qend->policy, WEFT_QSVC_NOTE_MAX))
			why = "QueryEnd with an over-long or unprintable "
			      "policy note";
		break;
	case WEFT__WIRE_MESSAGE__MSG_QCREDIT:
		if (m->qcredit->credit == 0 ||
		    m->qcredit->credit > 64 * WEFT_QSVC_CREDIT)
			why = "QueryCredit with a bad credit";
		break;
	case WEFT__WIRE_MESSAGE__MSG_QBATCH:
	case WEFT__WIRE_MESSAGE__MSG_QCANCEL: break;
	case WEFT__WIRE_MESSAGE__MSG_RELAY:
		if (m->relay->dst.len != 32 || m->relay->src.len != 32)
			why = "Relay keys are not 32 bytes";
		else if (!weft_wire_printable(m->relay->dst_org,
					      WEFT_NAME_MAX) ||
			 !weft_wire_printable(m->relay->src_org, WEFT_NAME_MAX))
			why = "Relay with an over-long or unprintable org";
		else if (m->relay->payload.len == 0 ||
			 m->relay->payload.len > WEFT_TUN_CHUNK)
			why = "Relay payload empty or over 256 KiB";
		break;
	case WEFT__WIRE_MESSAGE__MSG_RELAY_ERROR:
		if (m->relay_error->to.len != 32 ||
		    m->relay_error->about.len != 32)
			why = "RelayError keys are not 32 bytes";
		else if (!weft_wire_text(m->relay_error->reason,
					 WEFT_WIRE_REASON_MAX))
			why = "RelayError with an over-long or unprintable "
			      "reason";
		break;
	default: break;
	}
	return why;
}

int
weft_wire_decode(const uint8_t *buf, size_t len, Weft__WireMessage **out,
		 weft_err_t *err)
{
	Weft__WireMessage *m;
	const char *why = NULL;

	*out = NULL;
	if (len > WEFT_FRAME_MAX)
		return weft_err_set(err, WEFT_EPARSE,
				    "message: %zu bytes "
				    "exceed the frame cap",
				    len);
	m = weft__wire_message__unpack(NULL, len, buf);
	if (m == NULL)
		return weft_err_set(err, WEFT_EPARSE,
				    "message: not a valid WireMessage");
	switch (m->msg_case) {
	case WEFT__WIRE_MESSAGE__MSG_HELLO:
		if (!weft_wire_printable(m->hello->listen_addr,
					 WEFT_WIRE_ADDR_MAX) ||
		    !weft_wire_printable(m->hello->version,
					 WEFT_WIRE_VERSION_MAX))
			why = "Hello with an over-long or unprintable field";
		break;
	case WEFT__WIRE_MESSAGE__MSG_PING:
		if (m->ping->payload.len > WEFT_WIRE_PING_MAX)
			why = "Ping payload over 64 KiB";
		break;
	case WEFT__WIRE_MESSAGE__MSG_PONG:
		if (m->pong->payload.len > WEFT_WIRE_PING_MAX)
			why = "Pong payload over 64 KiB";
		break;
	case WEFT__WIRE_MESSAGE__MSG_BULK: break;
	case WEFT__WIRE_MESSAGE__MSG_GOODBYE:
		if (!weft_wire_printable(m->goodbye->reason,
					 WEFT_WIRE_REASON_MAX))
			why = "Goodbye with an over-long or unprintable reason";
		break;
	case WEFT__WIRE_MESSAGE__MSG_PUSH:
		if (m->push->n_entries > 4096)
			why = "GossipPush of over 4096 entries";
		break;
	case WEFT__WIRE_MESSAGE__MSG_SUMMARY:
		if (m->summary->root.len != 16)
			why = "GossipSummary root is not 16 bytes";
		break;
	case WEFT__WIRE_MESSAGE__MSG_DIGEST: {
		size_t i;

		for (i = 0; i < m->digest->n_origins && why == NULL; i++)
			if (m->digest->origins[i]->origin.len != 32 ||
			    m->digest->origins[i]->hash.len != 16)
				why = "GossipDigest with a malformed origin";
		break;
	}
	case WEFT__WIRE_MESSAGE__MSG_IHAVE: {
		size_t i;

		if (m->ihave->n_keys > 4096 ||
		    m->ihave->n_keys != m->ihave->n_versions)
			why = "GossipIHave of over 4096 keys or without a "
			      "version per key";
		for (i = 0; i < m->ihave->n_keys && why == NULL; i++)
			if (m->ihave->keys[i].len != 16)
				why = "GossipIHave key is not 16 bytes";
		break;
	}
	case WEFT__WIRE_MESSAGE__MSG_GRAFT: {
		size_t i;

		if (m->graft->n_keys > 4096)
			why = "GossipGraft of over 4096 keys";
		for (i = 0; i < m->graft->n_keys && why == NULL; i++)
			if (m->graft->keys[i].len != 16)
				why = "GossipGraft key is not 16 bytes";
		break;
	}
	case WEFT__WIRE_MESSAGE__MSG_PRUNE: break;
	case WEFT__WIRE_MESSAGE__MSG_JOIN:
		if (m->join->record.len == 0 ||
		    m->join->record.len > WEFT_WIRE_JOIN_MAX)
			why = "GossipJoin record empty or over 8 KiB";
		break;
	case WEFT__WIRE_MESSAGE__MSG_FORWARD_JOIN:
		if (m->forward_join->record.len == 0 ||
		    m->forward_join->record.len > WEFT_WIRE_JOIN_MAX)
			why = "GossipForwardJoin record empty or over 8 KiB";
		else if (m->forward_join->ttl > WEFT_WIRE_JOIN_TTL)
			why = "GossipForwardJoin ttl over 8";
		break;
	case WEFT__WIRE_MESSAGE__MSG_DISCONNECT: break;
	case WEFT__WIRE_MESSAGE__MSG_QOPEN:
	case WEFT__WIRE_MESSAGE__MSG_QBATCH:
	case WEFT__WIRE_MESSAGE__MSG_QCREDIT:
	case WEFT__WIRE_MESSAGE__MSG_QEND:
	case WEFT__WIRE_MESSAGE__MSG_QCANCEL:
	case WEFT__WIRE_MESSAGE__MSG_RELAY:
	case WEFT__WIRE_MESSAGE__MSG_RELAY_ERROR:
		why = wire_check_fed(m);
		break;
	default: why = "no known message in the envelope"; break;
	}
	if (why == NULL &&
	    (weft_wire_bad_unknown(&m->base) ||
	     /* whichever member is set: each begins with its base */
	     weft_wire_bad_unknown((const ProtobufCMessage *)m->hello)))
		why = "field number 0";
	if (why != NULL) {
		weft__wire_message__free_unpacked(m, NULL);
		return weft_err_set(err, WEFT_EPARSE, "message: %s", why);
	}
	*out = m;
	return 0;
}

/* A canonical varint of at most 5 bytes at b[*i]. */
static int
weft_wire_varint(const uint8_t *b, size_t n, size_t *i, uint64_t *v)
{
	unsigned k;

	*v = 0;
	for (k = 0; k < 5 && *i < n; k++) {
		uint8_t c = b[(*i)++];

		*v |= (uint64_t)(c & 0x7f) << (7 * k);
		if ((c & 0x80) == 0)
			return k == 0 || c != 0; /* no trailing zero groups */
	}
	return 0;
}

int
weft_wire_bulk_view(const uint8_t *buf, size_t len, const uint8_t **data,
		    size_t *dlen)
{
	size_t i = 1;
	uint64_t l1, l2;

	*data = NULL;
	*dlen = 0;
	/* field 4 (bulk), length-delimited, then field 1 (data), the same */
	if (len < 4 || buf[0] != 0x22 || !weft_wire_varint(buf, len, &i, &l1) ||
	    l1 != len - i || i >= len || buf[i++] != 0x0a ||
	    !weft_wire_varint(buf, len, &i, &l2) || l2 != len - i || l2 == 0)
		return 0;
	*data = buf + i;
	*dlen = (size_t)l2;
	return 1;
}
