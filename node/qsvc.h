/*
 * qsvc.h: the query service core: fragments of federated queries between
 * nodes, both sides, as a sans-IO state machine inside the node core.
 *
 * Asker: weft_qsvc_open sends a QueryOpen (the fragment, the product and
 * the version the query reads, an initial credit) to the hosting node;
 * result batches come back as QBATCH outputs, the end (or an error) as
 * one QEND output. The driver returns credit as it consumes batches
 * (weft_qsvc_credit), and cancels (weft_qsvc_cancel) when the query no
 * longer needs the rest.
 *
 * Owner: a QueryOpen becomes a QRUN output (within the caps: fragments
 * running at once, in all and per asking node; beyond them the asker gets
 * a "busy" QueryEnd at once, nothing is queued). The driver runs it off
 * its loop and hands back each batch (weft_qsvc_batch) and the end
 * (weft_qsvc_end); credits (QCREDIT) and stops (QSTOP: cancelled, asker
 * gone) go to the driver, which never sends more batches than credited.
 *
 * Flow control is per fragment, in batches: the owner never has more
 * than the granted batches in flight, and its driver also keeps the
 * bytes in flight under a window (agent/query.c, AS_WINDOW: 4 MiB), so a
 * slow asker costs the owner that much memory at most, however wide the
 * rows, while a fast one is rarely left waiting a round trip for credit
 * (docs/protocol.md says why 16). The asker's core checks the owner does
 * not exceed its credit either (a hostile owner's flood ends the query).
 *
 * Everything from a peer is hostile: messages were checked by
 * weft_wire_decode (sizes, strings); ids that name nothing are ignored;
 * the owner's driver re-checks the fragment itself (query/serve.h).
 */
#ifndef WEFT_NODE_QSVC_H
#define WEFT_NODE_QSVC_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "node/out.h"
#include "weft.pb-c.h"

#define WEFT_QSVC_CREDIT 16	  /* batches in flight per fragment */
#define WEFT_QSVC_SERVE_MAX 16	  /* fragments served at once */
#define WEFT_QSVC_PEER_MAX 8	  /* ... for one asking node */
#define WEFT_QSVC_ASK_MAX 1024	  /* fragments asked at once */
#define WEFT_QSVC_ERR_MAX 400	  /* bytes of an error sent back */
#define WEFT_QSVC_NOTE_MAX 200	  /* bytes of a policy note sent back */
#define WEFT_QSVC_PRODUCT_MAX 200 /* bytes of a product name */

typedef struct weft_qsvc weft_qsvc_t;

typedef struct weft_qsvc_stats {
	uint64_t asked, asked_failed;	   /* fragments we sent */
	uint64_t served, refused, stopped; /* fragments we ran / refused */
	uint64_t batches_in, batches_out;
	uint64_t bytes_in, bytes_out; /* batch bytes */
	uint32_t running, waiting;    /* fragments now: served, asked */
} weft_qsvc_stats_t;

/* send: how the core sends a message to a session (the node core's). */
typedef void (*weft_qsvc_send_fn)(void *arg, uint64_t peer,
				  Weft__WireMessage *m);

int weft_qsvc_new(weft_qsvc_t **out, weft_qsvc_send_fn send, void *arg);
void weft_qsvc_free(weft_qsvc_t *q);

void weft_qsvc_peer_up(weft_qsvc_t *q, uint64_t peer,
		       const uint8_t pk[WEFT_PK_BYTES], const char *org);
/* Asked fragments on peer end with an error (QEND), served ones stop
 * (QSTOP). */
void weft_qsvc_peer_down(weft_qsvc_t *q, uint64_t peer);
/* The node name of peer, from its certificate (tunnels: the driver
 * knows none), for QRUN outputs. */
void weft_qsvc_peer_name(weft_qsvc_t *q, uint64_t peer, const char *name);
/* The same, asked fragments ending with why. */
void weft_qsvc_peer_fail(weft_qsvc_t *q, uint64_t peer, const char *why);
/* The session with node pk (1 and *peer), or 0. */
int weft_qsvc_peer_of(const weft_qsvc_t *q, const uint8_t pk[WEFT_PK_BYTES],
		      uint64_t *peer);

/* ---- asker ---- */

/*
 * Send fragment frag[0..len) of product (domain.product) at version to
 * the node with key pk. *qid names it in the outputs. WEFT_ENOTFOUND (no
 * session with that node), WEFT_EAGAIN (too many open), WEFT_ENOMEM.
 */
int weft_qsvc_open(weft_qsvc_t *q, const uint8_t pk[WEFT_PK_BYTES],
		   const char *product, uint64_t version, const uint8_t *frag,
		   size_t len, uint32_t timeout_ms, uint64_t *qid,
		   weft_err_t *err);
/* The same on session (or tunnel) peer, known or not yet up: its
 * messages go to the node core's send as they are made. */
int weft_qsvc_open_on(weft_qsvc_t *q, uint64_t peer, const char *product,
		      uint64_t version, const uint8_t *frag, size_t len,
		      uint32_t timeout_ms, uint64_t *qid, weft_err_t *err);
/* The driver consumed n batches of qid: the owner may send n more. */
void weft_qsvc_credit(weft_qsvc_t *q, uint64_t qid, uint32_t n);
/* Stop qid: the owner is told; no output for it follows. */
void weft_qsvc_cancel(weft_qsvc_t *q, uint64_t qid);

/* ---- owner ---- */

/* A result batch of job qid (copied). 0, or WEFT_ENOTFOUND (the job is
 * gone: stop it), WEFT_ENOMEM. */
int weft_qsvc_batch(weft_qsvc_t *q, uint64_t qid, const uint8_t *buf,
		    size_t len);
/* Job qid ended: error NULL or empty on success; policy NULL or the
 * owner's policy note for the asker (cut to WEFT_QSVC_NOTE_MAX). The
 * asker's QEND output carries the note in its addr. */
void weft_qsvc_end(weft_qsvc_t *q, uint64_t qid, const char *error,
		   uint64_t rows, uint64_t version, const char *policy);

/* ---- input, output ---- */

/* A query message (QueryOpen .. QueryCancel) from peer. */
int weft_qsvc_recv(weft_qsvc_t *q, uint64_t peer, const Weft__WireMessage *m,
		   weft_err_t *err);
int weft_qsvc_poll(weft_qsvc_t *q, weft_out_t *out);
void weft_qsvc_stats(const weft_qsvc_t *q, weft_qsvc_stats_t *st);
/* Free a message this core made (the node core's msg_free calls it). */
void weft_qsvc_msg_free(Weft__WireMessage *m);

#endif
