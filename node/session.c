/*
 * session.c: one node-to-node link as a sans-IO state machine (see
 * session.h and docs/protocol.md).
 *
 * States: HS (handshake bytes in and out, raw), UP (sealed frames, each one
 * WireMessage), CLOSING (we sent CLOSE; still reading until the peer's
 * CLOSE), PEER_CLOSED (the peer's CLOSE arrived; we answered with ours),
 * FAILED (final).
 *
 * Output: `pend` collects bytes not yet taken by the driver; `inflight`
 * counts bytes taken but not yet reported written. queued = both.
 *
 * Timers (monotonic ms, from the driver): the handshake deadline; in UP a
 * keepalive Ping when we queued nothing for keepalive_ms, failure when
 * nothing arrived for idle_ms, and failure when queued bytes made no
 * progress for stall_ms.
 */
#include "node/session.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/frame.h"
#include "node/wire.h"

enum {
	WEFT_SESS_S_HS,
	WEFT_SESS_S_UP,
	WEFT_SESS_S_CLOSING,
	WEFT_SESS_S_PEER_CLOSED,
	WEFT_SESS_S_FAILED,
};

struct weft_sess {
	int state;
	weft_hs_role_t role;
	weft_hs_t *hs;
	weft_frame_tx_t *tx;
	weft_frame_rx_t *rx;
	uint64_t rekey_every;
	weft_cert_info_t peer;
	char peer_listen[WEFT_WIRE_ADDR_MAX + 1];
	char listen_addr[WEFT_WIRE_ADDR_MAX + 1];
	char version[WEFT_WIRE_VERSION_MAX + 1];
	uint8_t my_pk[WEFT_PK_BYTES];

	uint8_t *pend; /* output not yet taken */
	size_t pend_len, pend_cap;
	size_t inflight; /* taken, not yet written */
	size_t max_queue;

	uint64_t hs_deadline, keepalive_ms, idle_ms, stall_ms;
	uint64_t last_rx, last_tx, last_progress;
	uint64_t ping_id, ping_at; /* outstanding keepalive, ping_at 0: none */

	weft_sess_stats_t st;
	int confirmed; /* the peer's Hello arrived */
	weft_sess_fail_t fail;
	int fail_code;
	char fail_msg[WEFT_ERR_MAX];
	Weft__WireMessage *msg; /* last reported message (owned) */
	Weft__WireMessage view; /* or a Bulk borrowing the frame buffer */
	Weft__Bulk view_bulk;
};

static int
weft_sess_failed(weft_sess_t *s, weft_sess_fail_t kind, weft_err_t *err,
		 int code, const char *msg)
{
	if (s->state != WEFT_SESS_S_FAILED) {
		s->state = WEFT_SESS_S_FAILED;
		s->fail = kind;
		s->fail_code = code;
		snprintf(s->fail_msg, sizeof(s->fail_msg), "%s", msg);
		weft_hs_free(s->hs);
		s->hs = NULL;
	}
	return weft_err_set(err, s->fail_code, "%s", s->fail_msg);
}

static int
weft_sess_reserve(weft_sess_t *s, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (s->pend_cap - s->pend_len >= n)
		return 0;
	cap = s->pend_cap ? s->pend_cap : 4096;
	while (cap - s->pend_len < n)
		cap *= 2;
	p = realloc(s->pend, cap);
	if (p == NULL)
		return WEFT_ENOMEM;
	s->pend = p;
	s->pend_cap = cap;
	return 0;
}

static int
weft_sess_append(weft_sess_t *s, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if (weft_sess_reserve(s, n) != 0)
		return WEFT_ENOMEM;
	memcpy(s->pend + s->pend_len, p, n);
	s->pend_len += n;
	return 0;
}

size_t
weft_sess_queued(const weft_sess_t *s)
{
	return s->pend_len + s->inflight;
}

/* Seal msg as one DATA frame onto the output. No queue-cap check. */
static int
weft_sess_queue_msg(weft_sess_t *s, uint64_t now_ms,
		    const Weft__WireMessage *msg, weft_err_t *err)
{
	size_t n = weft__wire_message__get_packed_size(msg), out_len;
	int rc;

	if (n > WEFT_FRAME_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "session: message of %zu bytes exceeds the "
				    "%d byte frame cap",
				    n, WEFT_FRAME_MAX);
	if (weft_sess_reserve(s, weft_frame_sealed_len(n)) != 0)
		return weft_err_set(err, WEFT_ENOMEM, "session: out of memory");
	/* Pack straight into the output and seal in place: no copy. */
	weft__wire_message__pack(msg, s->pend + s->pend_len + WEFT_FRAME_HDR);
	rc = weft_frame_seal(s->tx, s->pend + s->pend_len + WEFT_FRAME_HDR, n,
			     s->pend + s->pend_len, s->pend_cap - s->pend_len,
			     &out_len, err);
	if (rc != 0)
		return rc;
	if (weft_sess_queued(s) == 0)
		s->last_progress = now_ms;
	s->pend_len += out_len;
	s->last_tx = now_ms;
	s->st.msgs_out++;
	return 0;
}

int
weft_sess_new(weft_sess_t **out, const weft_sess_cfg_t *cfg, uint64_t now_ms,
	      int64_t unix_s, const uint8_t seed[WEFT_HS_SEED_BYTES],
	      weft_err_t *err)
{
	weft_sess_t *s;
	const uint8_t *m1;
	size_t m1_len;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "session: out of memory");
	rc = weft_hs_new(&s->hs, cfg->role, cfg->me, cfg->cert, cfg->cert_len,
			 cfg->network_key, cfg->trust, unix_s, seed, err);
	if (rc != 0) {
		free(s);
		return rc;
	}
	if (cfg->role == WEFT_HS_RESPONDER && cfg->replay != NULL)
		weft_hs_set_replay(s->hs, cfg->replay);
	s->role = cfg->role;
	memcpy(s->my_pk, cfg->me->pk, WEFT_PK_BYTES);
	snprintf(s->listen_addr, sizeof(s->listen_addr), "%s",
		 cfg->listen_addr ? cfg->listen_addr : "");
	snprintf(s->version, sizeof(s->version), "%s",
		 cfg->version ? cfg->version : "");
	s->rekey_every = cfg->rekey_every;
	s->max_queue =
	    cfg->max_queue ? cfg->max_queue : WEFT_SESS_QUEUE_DEFAULT;
	s->hs_deadline =
	    now_ms + (cfg->hs_timeout_ms ? cfg->hs_timeout_ms : 10000);
	s->keepalive_ms = cfg->keepalive_ms ? cfg->keepalive_ms : 15000;
	s->idle_ms = cfg->idle_ms ? cfg->idle_ms : 60000;
	s->stall_ms = cfg->stall_ms ? cfg->stall_ms : 30000;
	s->last_rx = s->last_tx = s->last_progress = now_ms;
	/* Ping ids start from the seed so they are not guessable. */
	memcpy(&s->ping_id, seed + WEFT_HS_SEED_BYTES - 8, 8);
	s->st.rtt_ms = -1;
	weft__wire_message__init(&s->view);
	weft__bulk__init(&s->view_bulk);
	s->view.msg_case = WEFT__WIRE_MESSAGE__MSG_BULK;
	s->view.bulk = &s->view_bulk;
	s->state = WEFT_SESS_S_HS;
	if (cfg->role == WEFT_HS_INITIATOR) {
		rc = weft_hs_start(s->hs, &m1, &m1_len, err);
		if (rc < 0 || weft_sess_append(s, m1, m1_len) != 0) {
			weft_sess_free(s);
			return rc < 0 ? rc
				      : weft_err_set(err, WEFT_ENOMEM,
						     "session: out of memory");
		}
	}
	*out = s;
	return 0;
}

int
weft_sess_send_must(weft_sess_t *s, uint64_t now_ms,
		    const Weft__WireMessage *msg, weft_err_t *err)
{
	int rc;

	if (s->state != WEFT_SESS_S_UP)
		return weft_err_set(err, WEFT_EINVAL, "session: not up");
	if (weft_sess_queued(s) > WEFT_SESS_QUEUE_HARD * s->max_queue)
		return weft_sess_failed(s, WEFT_SESS_FAIL_LOCAL, err,
					WEFT_EAGAIN,
					"session: the peer does not read (its "
					"send queue is over its hard cap)");
	rc = weft_sess_queue_msg(s, now_ms, msg, err);
	if (rc == WEFT_ENOMEM)
		return weft_sess_failed(s, WEFT_SESS_FAIL_LOCAL, err, rc,
					"session: out of memory");
	return rc;
}

void
weft_sess_free(weft_sess_t *s)
{
	if (s == NULL)
		return;
	weft_hs_free(s->hs);
	weft_frame_tx_free(s->tx);
	weft_frame_rx_free(s->rx);
	if (s->msg)
		weft__wire_message__free_unpacked(s->msg, NULL);
	if (s->pend)
		sodium_memzero(s->pend, s->pend_cap);
	free(s->pend);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

static int
weft_sess_up(weft_sess_t *s, uint64_t now_ms, weft_err_t *err)
{
	weft_hs_result_t res;
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__Hello h = WEFT__HELLO__INIT;
	int rc;

	if (weft_hs_result(s->hs, &res) != 0)
		return weft_sess_failed(s, WEFT_SESS_FAIL_LOCAL, err,
					WEFT_EINVAL, "session: no result");
	rc = weft_frame_tx_new(res.tx, s->rekey_every, &s->tx);
	if (rc == 0)
		rc = weft_frame_rx_new(res.rx, s->rekey_every, &s->rx);
	s->peer = res.peer;
	sodium_memzero(&res, sizeof(res));
	weft_hs_free(s->hs);
	s->hs = NULL;
	if (rc != 0)
		return weft_sess_failed(s, WEFT_SESS_FAIL_LOCAL, err, rc,
					"session: out of memory");
	if (memcmp(s->peer.subject_pk, s->my_pk, WEFT_PK_BYTES) == 0)
		return weft_sess_failed(s, WEFT_SESS_FAIL_HANDSHAKE, err,
					WEFT_EINVAL,
					"session: connected to itself");
	s->state = WEFT_SESS_S_UP;
	h.listen_addr = s->listen_addr;
	h.version = s->version;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_HELLO;
	m.hello = &h;
	rc = weft_sess_queue_msg(s, now_ms, &m, err);
	if (rc != 0)
		return weft_sess_failed(s, WEFT_SESS_FAIL_LOCAL, err, rc,
					err ? err->msg : "session: hello");
	/* The responder has verified us; the initiator only knows the
	 * responder accepted once the responder's first frame (its Hello)
	 * authenticates, so it reports UP then. */
	if (s->role == WEFT_HS_INITIATOR)
		return WEFT_SESS_NONE;
	s->confirmed = 1;
	return WEFT_SESS_UP;
}

static int
weft_sess_input_hs(weft_sess_t *s, uint64_t now_ms, const uint8_t *in,
		   size_t len, size_t *consumed, weft_err_t *err)
{
	const uint8_t *out;
	size_t out_len;
	weft_err_t e = {0};
	int rc;

	rc = weft_hs_recv(s->hs, in, len, consumed, &out, &out_len, &e);
	if (rc < 0)
		return weft_sess_failed(s, WEFT_SESS_FAIL_HANDSHAKE, err, rc,
					e.msg);
	if (weft_sess_append(s, out, out_len) != 0)
		return weft_sess_failed(s, WEFT_SESS_FAIL_LOCAL, err,
					WEFT_ENOMEM, "session: out of memory");
	if (out_len > 0)
		s->last_tx = now_ms;
	if (rc == WEFT_HS_DONE)
		return weft_sess_up(s, now_ms, err);
	return WEFT_SESS_NONE;
}

/* A message handled inside the core; returns 1 if the driver should see
 * it, 0 if consumed here, negative on failure. */
static int
weft_sess_handle(weft_sess_t *s, uint64_t now_ms, Weft__WireMessage *m,
		 weft_err_t *err)
{
	Weft__WireMessage r = WEFT__WIRE_MESSAGE__INIT;
	Weft__Pong pong = WEFT__PONG__INIT;
	int rc;

	switch (m->msg_case) {
	case WEFT__WIRE_MESSAGE__MSG_HELLO:
		if (s->peer_listen[0] == 0)
			snprintf(s->peer_listen, sizeof(s->peer_listen), "%s",
				 m->hello->listen_addr);
		return 0;
	case WEFT__WIRE_MESSAGE__MSG_PING:
		if (s->state != WEFT_SESS_S_UP)
			return 0;
		pong.id = m->ping->id;
		if (m->ping->echo)
			pong.payload = m->ping->payload;
		r.msg_case = WEFT__WIRE_MESSAGE__MSG_PONG;
		r.pong = &pong;
		rc = weft_sess_queue_msg(s, now_ms, &r, err);
		return rc < 0 ? weft_sess_failed(s, WEFT_SESS_FAIL_LOCAL, err,
						 rc, err ? err->msg : "pong")
			      : 0;
	case WEFT__WIRE_MESSAGE__MSG_PONG:
		if (s->ping_at != 0 && m->pong->id == s->ping_id) {
			s->st.rtt_ms = (int64_t)(now_ms - s->ping_at);
			s->ping_at = 0;
		}
		return 0;
	case WEFT__WIRE_MESSAGE__MSG_GOODBYE: return 0;
	default: return 1;
	}
}

int
weft_sess_input(weft_sess_t *s, uint64_t now_ms, const uint8_t *in, size_t len,
		size_t *consumed, Weft__WireMessage **msg, weft_err_t *err)
{
	weft_frame_t f;
	weft_err_t e = {0};
	size_t n;
	int rc;

	*consumed = 0;
	*msg = NULL;
	if (s->msg) {
		weft__wire_message__free_unpacked(s->msg, NULL);
		s->msg = NULL;
	}
	if (s->state == WEFT_SESS_S_FAILED)
		return weft_err_set(err, s->fail_code, "%s", s->fail_msg);
	if (s->state == WEFT_SESS_S_PEER_CLOSED) {
		if (len == 0)
			return WEFT_SESS_NONE;
		return weft_sess_failed(s, WEFT_SESS_FAIL_FRAME, err,
					WEFT_EPARSE,
					"frame: data after the peer's close");
	}
	if (len > 0)
		s->last_rx = now_ms;
	if (s->state == WEFT_SESS_S_HS) {
		rc = weft_sess_input_hs(s, now_ms, in, len, consumed, err);
		s->st.bytes_in += *consumed;
		return rc;
	}
	for (;;) {
		n = weft_frame_feed(s->rx, in + *consumed, len - *consumed);
		*consumed += n;
		s->st.bytes_in += n;
		rc = weft_frame_next(s->rx, &f, &e);
		if (rc < 0)
			return weft_sess_failed(s, WEFT_SESS_FAIL_FRAME, err,
						rc, e.msg);
		if (rc == 0) {
			if (*consumed == len)
				return WEFT_SESS_NONE;
			continue;
		}
		if (f.type == WEFT_FRAME_CLOSE) {
			if (s->state == WEFT_SESS_S_UP)
				weft_sess_close(s, NULL);
			s->state = WEFT_SESS_S_PEER_CLOSED;
			return WEFT_SESS_CLOSED;
		}
		s->st.msgs_in++;
		if (s->confirmed &&
		    weft_wire_bulk_view(
			f.data, f.len,
			(const uint8_t **)&s->view_bulk.data.data,
			&s->view_bulk.data.len)) {
			/* Bulk bytes are handed over in place, not copied. */
			*msg = &s->view;
			return WEFT_SESS_MSG;
		}
		rc = weft_wire_decode(f.data, f.len, &s->msg, &e);
		if (rc < 0)
			return weft_sess_failed(s, WEFT_SESS_FAIL_PROTO, err,
						rc, e.msg);
		if (!s->confirmed &&
		    s->msg->msg_case != WEFT__WIRE_MESSAGE__MSG_HELLO)
			return weft_sess_failed(s, WEFT_SESS_FAIL_PROTO, err,
						WEFT_EPARSE,
						"session: the first "
						"message is not a Hello");
		rc = weft_sess_handle(s, now_ms, s->msg, err);
		if (rc < 0)
			return rc;
		if (!s->confirmed) {
			s->confirmed = 1;
			if (s->role == WEFT_HS_INITIATOR) {
				weft__wire_message__free_unpacked(s->msg, NULL);
				s->msg = NULL;
				return WEFT_SESS_UP;
			}
		}
		if (rc == 1) {
			*msg = s->msg;
			return WEFT_SESS_MSG;
		}
		weft__wire_message__free_unpacked(s->msg, NULL);
		s->msg = NULL;
		if (*consumed == len)
			return WEFT_SESS_NONE;
	}
}

uint8_t *
weft_sess_rx_space(weft_sess_t *s, size_t *len)
{
	uint8_t *p;

	*len = 0;
	if (s->state != WEFT_SESS_S_UP && s->state != WEFT_SESS_S_CLOSING)
		return NULL;
	p = weft_frame_rx_space(s->rx, len);
	if (p == NULL || *len < 65536) {
		*len = 0;
		return NULL;
	}
	return p;
}

void
weft_sess_rx_commit(weft_sess_t *s, uint64_t now_ms, size_t n)
{
	size_t room;

	if (weft_sess_rx_space(s, &room) == NULL || n > room)
		return;
	weft_frame_rx_commit(s->rx, n);
	s->st.bytes_in += n;
	if (n > 0)
		s->last_rx = now_ms;
}

int
weft_sess_send(weft_sess_t *s, uint64_t now_ms, const Weft__WireMessage *msg,
	       weft_err_t *err)
{
	int rc;

	if (s->state != WEFT_SESS_S_UP)
		return weft_err_set(err, WEFT_EINVAL, "session: not up");
	if (weft_sess_queued(s) > s->max_queue)
		return weft_err_set(err, WEFT_EAGAIN,
				    "session: send queue full (%zu bytes)",
				    weft_sess_queued(s));
	rc = weft_sess_queue_msg(s, now_ms, msg, err);
	if (rc == WEFT_ENOMEM)
		return weft_sess_failed(s, WEFT_SESS_FAIL_LOCAL, err, rc,
					"session: out of memory");
	return rc;
}

void
weft_sess_close(weft_sess_t *s, const char *reason)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__Goodbye g = WEFT__GOODBYE__INIT;
	char why[WEFT_WIRE_REASON_MAX + 1];
	size_t out_len;
	size_t i;

	if (s->state != WEFT_SESS_S_UP)
		return;
	if (reason != NULL) {
		snprintf(why, sizeof(why), "%s", reason);
		for (i = 0; why[i]; i++)
			if (why[i] < 0x20 || why[i] > 0x7e)
				why[i] = '?';
		g.reason = why;
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_GOODBYE;
		m.goodbye = &g;
		(void)weft_sess_queue_msg(s, s->last_tx, &m, NULL);
	}
	if (weft_sess_reserve(s, WEFT_FRAME_OVERHEAD) == 0 &&
	    weft_frame_seal_close(s->tx, s->pend + s->pend_len,
				  s->pend_cap - s->pend_len, &out_len,
				  NULL) == 0)
		s->pend_len += out_len;
	s->state = WEFT_SESS_S_CLOSING;
}

int
weft_sess_take(weft_sess_t *s, weft_sess_buf_t *buf)
{
	buf->data = NULL;
	buf->len = 0;
	if (s->pend_len == 0)
		return 0;
	buf->data = s->pend;
	buf->len = s->pend_len;
	s->inflight += s->pend_len;
	s->pend = NULL;
	s->pend_len = s->pend_cap = 0;
	return 1;
}

void
weft_sess_written(weft_sess_t *s, uint64_t now_ms, size_t n)
{
	if (n > s->inflight)
		n = s->inflight;
	s->inflight -= n;
	s->st.bytes_out += n;
	s->last_progress = now_ms;
}

int
weft_sess_want_read(const weft_sess_t *s)
{
	if (s->state == WEFT_SESS_S_FAILED ||
	    s->state == WEFT_SESS_S_PEER_CLOSED)
		return 0;
	return weft_sess_queued(s) <= s->max_queue;
}

uint64_t
weft_sess_next_timer(const weft_sess_t *s)
{
	uint64_t t;

	switch (s->state) {
	case WEFT_SESS_S_HS: return s->hs_deadline;
	case WEFT_SESS_S_UP:
	case WEFT_SESS_S_CLOSING:
		t = s->last_rx + s->idle_ms;
		if (s->state == WEFT_SESS_S_UP &&
		    s->last_tx + s->keepalive_ms < t)
			t = s->last_tx + s->keepalive_ms;
		if (weft_sess_queued(s) > 0 &&
		    s->last_progress + s->stall_ms < t)
			t = s->last_progress + s->stall_ms;
		return t;
	default: return UINT64_MAX;
	}
}

int
weft_sess_tick(weft_sess_t *s, uint64_t now_ms, weft_err_t *err)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__Ping p = WEFT__PING__INIT;
	char msg[128];
	int rc;

	switch (s->state) {
	case WEFT_SESS_S_FAILED:
		return weft_err_set(err, s->fail_code, "%s", s->fail_msg);
	case WEFT_SESS_S_HS:
		if (now_ms < s->hs_deadline)
			return 0;
		return weft_sess_failed(s, WEFT_SESS_FAIL_TIMEOUT, err,
					WEFT_EEXPIRED,
					"handshake: not completed before "
					"the deadline");
	case WEFT_SESS_S_UP:
	case WEFT_SESS_S_CLOSING: break;
	default: return 0;
	}
	if (now_ms >= s->last_rx + s->idle_ms) {
		snprintf(msg, sizeof(msg),
			 "session: nothing received for "
			 "%llu ms",
			 (unsigned long long)(now_ms - s->last_rx));
		return weft_sess_failed(s, WEFT_SESS_FAIL_TIMEOUT, err,
					WEFT_EEXPIRED, msg);
	}
	if (weft_sess_queued(s) > 0 &&
	    now_ms >= s->last_progress + s->stall_ms) {
		snprintf(msg, sizeof(msg),
			 "session: peer read none of our "
			 "%zu queued bytes for %llu ms",
			 weft_sess_queued(s),
			 (unsigned long long)(now_ms - s->last_progress));
		return weft_sess_failed(s, WEFT_SESS_FAIL_STALL, err,
					WEFT_EAGAIN, msg);
	}
	if (s->state == WEFT_SESS_S_UP &&
	    now_ms >= s->last_tx + s->keepalive_ms) {
		p.id = ++s->ping_id;
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_PING;
		m.ping = &p;
		rc = weft_sess_queue_msg(s, now_ms, &m, err);
		if (rc < 0)
			return weft_sess_failed(s, WEFT_SESS_FAIL_LOCAL, err,
						rc, "session: keepalive");
		s->ping_at = now_ms ? now_ms : 1;
	}
	return 0;
}

int
weft_sess_is_up(const weft_sess_t *s)
{
	return s->state == WEFT_SESS_S_UP;
}

const weft_cert_info_t *
weft_sess_peer(const weft_sess_t *s)
{
	return s->state == WEFT_SESS_S_HS || s->tx == NULL ? NULL : &s->peer;
}

const char *
weft_sess_peer_listen(const weft_sess_t *s)
{
	return s->peer_listen;
}

weft_sess_fail_t
weft_sess_failure(const weft_sess_t *s)
{
	return s->fail;
}

void
weft_sess_stats(const weft_sess_t *s, weft_sess_stats_t *st)
{
	*st = s->st;
}
