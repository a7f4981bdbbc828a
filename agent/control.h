/*
 * control.h: the control protocol between `weft agent` and the commands
 * that ask it (`weft status`, `peers`, `members`, and `weft publish`'s
 * "the catalog changed"): over the Unix socket DIR/agent.sock (mode
 * 0600), one request per connection; each direction is one frame, a
 * 4-byte big-endian body length and a ControlRequest or ControlResponse
 * (proto/weft.proto).
 *
 * This module is the framing, shared by the agent's server (agent/ctl.c)
 * and the client below, which the commands use. The framing does no I/O:
 * the decoder is fed whatever bytes arrived and says whether a whole
 * frame is there.
 */
#ifndef WEFT_AGENT_CONTROL_H
#define WEFT_AGENT_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "weft.pb-c.h"

#define WEFT_CTL_SOCK "agent.sock"    /* in the data directory */
#define WEFT_CTL_HDR 4		      /* the length prefix */
#define WEFT_CTL_REQ_MAX (64u << 10)  /* request body (SQL), bytes */
#define WEFT_CTL_RESP_MAX (16u << 20) /* response body, bytes */

/*
 * The socket path DIR/agent.sock into out (n bytes: a sun_path).
 * WEFT_ETOOBIG, with a message naming dir and the limit, if it does not
 * fit.
 */
int weft_ctl_path(const char *dir, char *out, size_t n, weft_err_t *err);

/*
 * Frame a ControlRequest or ControlResponse: *out is malloc'd (the
 * caller frees it), WEFT_CTL_HDR + packed size bytes. WEFT_ENOMEM.
 */
int weft_ctl_frame(const ProtobufCMessage *m, uint8_t **out, size_t *len);

/*
 * Whether buf[0..len) begins with a whole frame of at most max body
 * bytes: 1 with *body and *blen pointing at its body (inside buf), 0 if
 * more bytes are needed (*blen is then the announced body length once
 * the header is there, else 0), WEFT_ETOOBIG if the frame announces
 * more than max.
 */
int weft_ctl_unframe(const uint8_t *buf, size_t len, size_t max,
		     const uint8_t **body, size_t *blen);

/*
 * The client: ask DIR's running agent one request, blocking (at most
 * 10 s a step). *resp is the caller's (free it with
 * weft__control_response__free_unpacked). wait_s: how long to keep
 * trying to connect (0: once). Errors, with err filled: WEFT_ENOTFOUND
 * (no agent answers on DIR/agent.sock), WEFT_EIO (no valid answer),
 * WEFT_EINVAL (the agent answered with an error: its text).
 */
int weft_ctl_call(const char *dir, Weft__ControlOp op, double wait_s,
		  Weft__ControlResponse **resp, weft_err_t *err);

/*
 * A query through DIR's agent (CTL_QUERY): send sql, then read the
 * answers one at a time with weft_ctl_query_next until one has end set.
 * weft_ctl_query_open: the connected socket (the caller closes it), or
 * negative with err: WEFT_ENOTFOUND (no agent answers), WEFT_EIO.
 * weft_ctl_query_next: 0 with *resp (the caller's), or WEFT_EIO (the
 * agent went away or sent garbage; err says so) after waiting at most
 * wait_ms for the next answer.
 */
int weft_ctl_query_open(const char *dir, const char *sql, uint32_t timeout_ms,
			weft_err_t *err);
int weft_ctl_query_next(int fd, int wait_ms, Weft__ControlResponse **resp,
			weft_err_t *err);

#endif
