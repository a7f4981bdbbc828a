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
#define WEFT_OUT_ORG_MAX 63

typedef enum weft_out_kind {
	WEFT_OUT_SEND = 1,  /* send msg to the session with id peer */
	WEFT_OUT_STORE = 2, /* persist env (already verified); n 1: urgent
			     * (a descriptor, policy or revocation of an
			     * origin that sends few: a driver that gathers
			     * writes for a group commit stores it at once) */
	WEFT_OUT_DIAL = 3,  /* connect to member pk at addr */
	WEFT_OUT_NOTE = 4,  /* log text: an entry crossed into another org
			     * through us (the forwarding log) */
	/* the query service (node/qsvc.h), owner side: */
	WEFT_OUT_QRUN = 5,    /* run fragment env (product text, version,
			       * asker pk and org) as job qid, sending at
			       * most n batches before more credit */
	WEFT_OUT_QCREDIT = 6, /* job qid may send n more batches */
	WEFT_OUT_QSTOP = 7,   /* stop job qid (cancelled, asker gone) */
	/* asker side: */
	WEFT_OUT_QBATCH = 8, /* a result batch (env) for query qid */
	WEFT_OUT_QEND = 9,   /* query qid ended: text empty or the error;
			      * rows, version from the owner */
	/* gossip: */
	WEFT_OUT_REVOKE = 10, /* node pk's certificates of org root env (32
			       * bytes; org: its name) are revoked; text:
			       * the reason; addr: the node's name if
			       * known; n: 1 if that root is the node's
			       * own (as far as we know) */
	WEFT_OUT_PART = 11,   /* the session peer ends to keep the overlay
			       * bounded, not as a failure: n 1, we end it
			       * (send the Disconnect queued before this,
			       * then close); n 0, the peer does (do not
			       * treat the close as a refusal; a --join
			       * contact is dialled again only when alone) */
} weft_out_kind_t;

typedef struct weft_out {
	weft_out_kind_t kind;
	uint64_t peer;		/* SEND, NOTE: the session it concerns */
	Weft__WireMessage *msg; /* SEND */
	uint8_t *env;		/* STORE: a signed catalog entry;
				 * QRUN: a fragment; QBATCH: a batch */
	size_t env_len;
	uint8_t pk[WEFT_PK_BYTES];	  /* DIAL; QRUN: the asker */
	char addr[WEFT_OUT_ADDR_MAX + 1]; /* DIAL; QRUN: the asker's node
					   * name if known ("" else); QEND:
					   * the owner's policy note */
	char text[WEFT_OUT_TEXT_MAX + 1]; /* NOTE; Q*: product or error */
	uint64_t qid, version, rows;	  /* Q* */
	uint32_t n;	     /* QRUN, QCREDIT: batches; STORE: urgent; REVOKE,
			      * PART: see above */
	uint32_t timeout_ms; /* QRUN */
	char org[WEFT_OUT_ORG_MAX + 1]; /* QRUN: the asker's org */
} weft_out_t;

/*
 * A FIFO of outputs, as every core keeps one: push makes a zeroed slot
 * at the tail (NULL without memory: the output is lost, as a full send
 * queue would lose it), unpush drops the slot just pushed, pop hands out
 * the head. Drained, it frees a large array (outputs are ~850 bytes; a
 * simulator holds a million cores). Zero-initialise; weft_outq_free
 * frees the array only, so drain it (and release what each output
 * owns) first.
 */
typedef struct weft_outq {
	weft_out_t *oq_v;
	size_t oq_head, oq_n, oq_cap;
} weft_outq_t;

weft_out_t *weft_outq_push(weft_outq_t *q, weft_out_kind_t kind);
void weft_outq_unpush(weft_outq_t *q);
/* 1 and *out filled (its msg and env now the caller's), 0 if empty. */
int weft_outq_pop(weft_outq_t *q, weft_out_t *out);
void weft_outq_free(weft_outq_t *q);

#endif
