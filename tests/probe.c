/*
 * probe.c: weft-probe, a hostile and diagnostic client for `weft agent`,
 * driven by the multi-node tests (issue #4). Each mode opens TCP
 * connections to one agent, misbehaves in one precise way and reports what
 * the agent did.
 *
 *   hello      --data-dir DIR --connect HOST:PORT
 *       A full session with DIR's identity, network key and trust; an
 *       empty Bulk is sent and must come back (the agent's flush marker).
 *   nokey      --connect HOST:PORT [--dump FILE]
 *       Message 1 under a random network key; everything received until
 *       EOF or the timeout is counted (and written to FILE).
 *   cert       --data-dir DIR --connect HOST:PORT --org ORG.key
 *              [--not-before UNIX] [--not-after UNIX] [--break-sig]
 *       A fresh node key certified by ORG.key with the given validity
 *       (default now-60 .. now+3600), optionally with one bit of the
 *       certificate's signature flipped. DIR gives network key and trust.
 *   replay1    --data-dir DIR --connect HOST:PORT
 *       Connection 1: a full session, recording message 1. Connection 2:
 *       exactly those 72 bytes again.
 *   replay3    --data-dir DIR --connect HOST:PORT
 *       Connection 1: a full session, recording message 3. Connection 2: a
 *       fresh message 1, the agent's message 2, then the OLD message 3.
 *   flipbit    --data-dir DIR --connect HOST:PORT [--byte N]
 *       Session up and echo checked, then one sealed frame with one bit
 *       flipped at byte N of the frame (default 30: inside the body).
 *   biglen     --data-dir DIR --connect HOST:PORT
 *       A handshake run directly on crypto/handshake.h, then a forged,
 *       authentic frame header claiming 0xFFFFFFFF body bytes.
 *   halfopen   --connect HOST:PORT --count N [--bind IP] [--hold SECONDS]
 *       N TCP connections that never finish (10 bytes of garbage on every
 *       other one), held up to SECONDS (default 15) or until all closed.
 *   slowreader --data-dir DIR --connect HOST:PORT [--seconds S]
 *       Session up, then echo Pings of 64 KiB sent as fast as the socket
 *       takes them for S seconds (default 8) without ever reading; then a
 *       drain shows whether the agent closed the connection.
 *   gossip     --data-dir DIR --connect HOST:PORT --victim-key HEX64
 *              [--flood N] [--hold S] [--seconds S]
 *       Session up, then GossipPush messages signed by DIR's identity: a
 *       valid descriptor "evil.good" v2 and its older v1; "evil.badsig"
 *       with a broken envelope signature; "evil.origin" filed under the
 *       victim's key; N (default 10000) distinct valid "flood.pK" as fast
 *       as the session takes them (with --hold, for S seconds: then the
 *       next versions of the same names, round after round). Then held
 *       open S seconds (default 3).
 *   qopen      --data-dir DIR --connect HOST:PORT --product NAME
 *       Session up, then a hand-made QueryOpen for product NAME (any version;
 *       junk bytes, or the --count'th fragment of a WEFT_TRACE_FRAGMENTS file
 *       --dump) to the owner, as a modified asker; reports QueryEnd's error.
 *
 * Every mode also takes --timeout SECONDS (default 5): the longest any one
 * wait (connect, a handshake, an echo, a drain) may last.
 *
 * Output: exactly one line of JSON on stdout, printed once the mode has
 * finished; diagnostics go to stderr. Exit status: 0 the mode ran (the
 * outcome is for the caller to judge), 1 a local failure (message on
 * stderr, no JSON), 2 a usage error.
 *
 * Invariants: sockets are non-blocking and every wait is a poll() bounded
 * by a deadline, so the probe never hangs; every buffer has a fixed bound;
 * writes use MSG_NOSIGNAL, so a peer that closes cannot kill the probe; the
 * only state is on the stack of the running mode. Times in the JSON are
 * milliseconds of the monotonic clock; "close_ms" counts from the event
 * named in the comment above each mode's function, and is null when the
 * peer did not close. Common fields: "hs_done" (our side verified the
 * agent's message 2), "up" (the agent accepted us: an empty Bulk came
 * back), "closed_by_peer" (EOF or reset seen), "reset" (it was a reset),
 * "sent"/"received" (bytes on the wire), "error" (why it did not come up,
 * as far as this side can tell; null if it did).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/frame.h"
#include "crypto/handshake.h"
#include "crypto/identity.h"
#include "lib/json.h"
#include "lib/util.h"
#include "lib/version.h"
#include "node/session.h"
#include "storage/nodedir.h"
#include "storage/store.h"
#include "tests/probe.h"
#include "weft.pb-c.h"

/* ---- Options ---- */

/* Option names by bit number, for messages. */
static const char *const probe_opt_names[] = {
    "data-dir",	 "connect",    "timeout", "dump",    "org",  "not-before",
    "not-after", "break-sig",  "count",	  "bind",    "hold", "seconds",
    "byte",	 "victim-key", "flood",	  "product",
};
#define PROBE_NOPTS (sizeof(probe_opt_names) / sizeof(probe_opt_names[0]))

/* ---- Small helpers ---- */

uint64_t
probe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Milliseconds from now until deadline, as a poll() timeout. */
static int
probe_wait_ms(uint64_t now, uint64_t deadline)
{
	if (deadline <= now)
		return 0;
	if (deadline - now > INT_MAX)
		return INT_MAX;
	return (int)(deadline - now);
}

static void
probe_seed(uint8_t seed[WEFT_HS_SEED_BYTES])
{
	randombytes_buf(seed, WEFT_HS_SEED_BYTES);
}

/* ---- JSON output: one object on one line ---- */

static void
probe_json_key(probe_json_t *j, const char *k)
{
	printf("%s\"%s\":", j->n++ ? "," : "", k);
}

void
probe_json_str(probe_json_t *j, const char *k, const char *v)
{
	probe_json_key(j, k);
	if (v == NULL)
		fputs("null", stdout);
	else
		weft_json_quote(stdout, v, strlen(v));
}

void
probe_json_u64(probe_json_t *j, const char *k, uint64_t v)
{
	probe_json_key(j, k);
	printf("%llu", (unsigned long long)v);
}

static void
probe_json_i64(probe_json_t *j, const char *k, int64_t v)
{
	probe_json_key(j, k);
	printf("%lld", (long long)v);
}

void
probe_json_bool(probe_json_t *j, const char *k, int v)
{
	probe_json_key(j, k);
	fputs(v ? "true" : "false", stdout);
}

/* v, or null if not have. */
static void
probe_json_opt(probe_json_t *j, const char *k, int have, uint64_t v)
{
	probe_json_key(j, k);
	if (have)
		printf("%llu", (unsigned long long)v);
	else
		fputs("null", stdout);
}

/* Milliseconds from `from` to `to`, or null if `to` is 0 (never). */
void
probe_json_ms(probe_json_t *j, const char *k, uint64_t from, uint64_t to)
{
	probe_json_key(j, k);
	if (to == 0)
		fputs("null", stdout);
	else
		printf("%llu", (unsigned long long)(to > from ? to - from : 0));
}

void
probe_json_begin(probe_json_t *j, const char *mode)
{
	j->n = 0;
	putchar('{');
	probe_json_str(j, "mode", mode);
}

void
probe_json_end(probe_json_t *j)
{
	(void)j;
	puts("}");
	fflush(stdout);
}

/* ---- Identity: key, certificate, network key, trusted roots ---- */

void
probe_id_free(probe_id_t *id)
{
	weft_nodedir_id_free(&id->nid);
	weft_key_free(id->own_kp);
	weft_key_free(id->own_org);
	free(id->own_cert);
	free(id->roots);
	sodium_memzero(id->netkey, sizeof(id->netkey));
	memset(id, 0, sizeof(*id));
}

/* DIR's network key and trusted roots. Prints errors itself. */
int
probe_id_load_mesh(probe_id_t *id, const char *dir)
{
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	size_t n = 0;
	int rc = -1;

	if (weft_store_open(dir, NULL, &st, &err) != 0 ||
	    weft_nodedir_netkey(st, id->netkey, &err) != 0) {
		fprintf(stderr, "weft-probe: %s\n", err.msg);
		goto out;
	}
	if (weft_store_trust_list(st, &id->roots, &n, &err) != 0) {
		fprintf(stderr, "weft-probe: %s: %s\n", dir, err.msg);
		goto out;
	}
	id->trust.roots = id->roots;
	id->trust.n = n;
	rc = 0;
out:
	weft_store_close(st);
	return rc;
}

/* DIR's node key and certificate. Prints errors itself. */
int
probe_id_load_node(probe_id_t *id, const char *dir)
{
	weft_err_t err = {0};

	if (weft_nodedir_id_load(dir, &id->nid, &err) != 0) {
		fprintf(stderr, "weft-probe: %s\n", err.msg);
		return -1;
	}
	id->kp = id->nid.kp;
	id->cert = id->nid.cert;
	id->cert_len = id->nid.cert_len;
	return 0;
}

/* Flip one bit of a serialized SignedCertificate's signature, in place
 * (the re-packed certificate has the same length). */
static int
probe_break_sig(uint8_t *cert, size_t len)
{
	Weft__SignedCertificate *sc;
	size_t n;

	sc = weft__signed_certificate__unpack(NULL, len, cert);
	if (sc == NULL || sc->signature.len == 0) {
		if (sc != NULL)
			weft__signed_certificate__free_unpacked(sc, NULL);
		fprintf(stderr, "weft-probe: cannot decode our certificate\n");
		return -1;
	}
	sc->signature.data[sc->signature.len / 2] ^= 0x01;
	n = weft__signed_certificate__get_packed_size(sc);
	if (n != len) {
		weft__signed_certificate__free_unpacked(sc, NULL);
		fprintf(stderr, "weft-probe: certificate changed size\n");
		return -1;
	}
	weft__signed_certificate__pack(sc, cert);
	weft__signed_certificate__free_unpacked(sc, NULL);
	return 0;
}

/*
 * A fresh node key with a certificate issued by org (borrowed; NULL: a
 * fresh org made here) for [nb, na], optionally with a broken signature.
 */
static int
probe_id_make(probe_id_t *id, const weft_keypair_t *org, int64_t nb, int64_t na,
	      int break_sig)
{
	weft_err_t err = {0};
	uint64_t serial;

	if (org == NULL) {
		if (weft_key_generate(WEFT_KEY_ORG, "probe-org", &id->own_org,
				      &err) != 0)
			goto fail;
		org = id->own_org;
	}
	if (weft_key_generate(WEFT_KEY_NODE, PROBE_NAME, &id->own_kp, &err) !=
	    0)
		goto fail;
	randombytes_buf(&serial, sizeof(serial));
	if (weft_cert_issue(org, PROBE_NAME, id->own_kp->pk, NULL, 0, nb, na,
			    serial, &id->own_cert, &id->cert_len, &err) != 0)
		goto fail;
	if (break_sig && probe_break_sig(id->own_cert, id->cert_len) != 0)
		return -1;
	id->kp = id->own_kp;
	id->cert = id->own_cert;
	return 0;
fail:
	fprintf(stderr, "weft-probe: %s\n", err.msg);
	return -1;
}

/* ---- TCP ---- */

/* Parse "HOST:PORT" or "[V6]:PORT" (numeric port). */
static int
probe_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon, *h = s;
	size_t hl;
	struct addrinfo hints, *res = NULL;
	int rc;

	colon = strrchr(s, ':');
	if (colon == NULL || colon[1] == 0) {
		fprintf(stderr, "weft-probe: %s: expected HOST:PORT\n", s);
		return -1;
	}
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		fprintf(stderr, "weft-probe: %s: bad host\n", s);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0 || res == NULL) {
		fprintf(stderr, "weft-probe: %s: %s\n", s, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Parse a numeric source IP of the given family, port 0. */
static int
probe_bind_parse(const char *ip, int family, struct sockaddr_storage *ss,
		 socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		*len = sizeof(*a);
		if (inet_pton(AF_INET, ip, &a->sin_addr) == 1)
			return 0;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		*len = sizeof(*a);
		if (inet_pton(AF_INET6, ip, &a->sin6_addr) == 1)
			return 0;
	}
	fprintf(stderr,
		"weft-probe: --bind %s: not an IP address of the "
		"target's family\n",
		ip);
	return -1;
}

/*
 * Start a non-blocking connect (from src if not NULL). Returns the socket
 * with *done 1 (connected) or 0 (in progress), or -errno.
 */
static int
probe_tcp_start(const struct sockaddr_storage *dst, socklen_t dlen,
		const struct sockaddr_storage *src, socklen_t slen, int *done)
{
	int fd, one = 1, e;

	*done = 0;
	fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != NULL && bind(fd, (const struct sockaddr *)src, slen) != 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)dst, dlen) == 0) {
		*done = 1;
		return fd;
	}
	if (errno == EINPROGRESS)
		return fd;
fail:
	e = errno;
	close(fd);
	return -e;
}

/* Connect to hostport before deadline. Returns the socket or -1 (message
 * printed). */
static int
probe_tcp_connect(const char *hostport, uint64_t deadline)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct pollfd p;
	int fd, done, e = 0, rc;
	socklen_t el = sizeof(e);

	if (probe_addr_parse(hostport, &ss, &len) != 0)
		return -1;
	fd = probe_tcp_start(&ss, len, NULL, 0, &done);
	if (fd < 0) {
		fprintf(stderr, "weft-probe: connect %s: %s\n", hostport,
			strerror(-fd));
		return -1;
	}
	while (!done) {
		p.fd = fd;
		p.events = POLLOUT;
		rc = poll(&p, 1, probe_wait_ms(probe_now_ms(), deadline));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0) {
			fprintf(stderr, "weft-probe: connect %s: timed out\n",
				hostport);
			close(fd);
			return -1;
		}
		if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) ||
		    e != 0) {
			fprintf(stderr, "weft-probe: connect %s: %s\n",
				hostport, strerror(rc < 0 ? errno : e));
			close(fd);
			return -1;
		}
		done = 1;
	}
	return fd;
}

/* ---- A link: one connection, with or without a session core ---- */

static int
probe_link_init(probe_link_t *l)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->rbuf = malloc(PROBE_RBUF);
	if (l->rbuf == NULL) {
		fprintf(stderr, "weft-probe: out of memory\n");
		return -1;
	}
	return 0;
}

void
probe_link_free(probe_link_t *l)
{
	weft_sess_free(l->sess);
	free(l->out.data);
	free(l->rbuf);
	if (l->fd >= 0)
		close(l->fd);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

int
probe_link_closed(const probe_link_t *l)
{
	return l->eof || l->reset;
}

static void
probe_link_mark_closed(probe_link_t *l, int reset)
{
	if (probe_link_closed(l))
		return;
	if (reset)
		l->reset = 1;
	else
		l->eof = 1;
	l->closed_at = probe_now_ms();
}

/* Connect a link. Returns 0 or -1 (message printed). */
static int
probe_link_connect(probe_link_t *l, const char *hostport, uint64_t deadline)
{
	l->fd = probe_tcp_connect(hostport, deadline);
	if (l->fd < 0)
		return -1;
	l->t_start = probe_now_ms();
	return 0;
}

/* Make the link's initiator session (message 1 queued at once). */
static int
probe_link_sess(probe_link_t *l, const probe_id_t *id, uint64_t hs_ms,
		uint64_t stall_ms)
{
	weft_sess_cfg_t cfg;
	uint8_t seed[WEFT_HS_SEED_BYTES];
	weft_err_t err = {0};
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.role = WEFT_HS_INITIATOR;
	cfg.me = id->kp;
	cfg.cert = id->cert;
	cfg.cert_len = id->cert_len;
	cfg.network_key = id->netkey;
	cfg.trust = &id->trust;
	cfg.version = "weft-probe";
	cfg.hs_timeout_ms = hs_ms;
	cfg.stall_ms = stall_ms;
	probe_seed(seed);
	rc = weft_sess_new(&l->sess, &cfg, probe_now_ms(), time(NULL), seed,
			   &err);
	sodium_memzero(seed, sizeof(seed));
	if (rc != 0) {
		fprintf(stderr, "weft-probe: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* Record a failure of our core (first message wins). */
void
probe_link_fail(probe_link_t *l, const char *msg)
{
	l->failed = 1;
	if (l->error[0] == 0)
		snprintf(l->error, sizeof(l->error), "%s", msg);
}

/*
 * Move the session's output into the socket without waiting. Returns 0
 * when everything queued is written, 1 when the socket would block, -1
 * when the peer has closed (the link is marked).
 */
int
probe_link_write_some(probe_link_t *l)
{
	ssize_t n;
	size_t c;

	for (;;) {
		if (l->out.data == NULL) {
			if (l->sess == NULL ||
			    !weft_sess_take(l->sess, &l->out))
				return 0;
			l->out_off = 0;
			c = sizeof(l->cap) - l->cap_len;
			if (c > l->out.len)
				c = l->out.len;
			memcpy(l->cap + l->cap_len, l->out.data, c);
			l->cap_len += c;
			if (l->drop_output) {
				weft_sess_written(l->sess, probe_now_ms(),
						  l->out.len);
				free(l->out.data);
				l->out.data = NULL;
				continue;
			}
		}
		if (probe_link_closed(l))
			return -1;
		n = send(l->fd, l->out.data + l->out_off,
			 l->out.len - l->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			probe_link_mark_closed(l, 1);
			return -1;
		}
		l->sent += (uint64_t)n;
		l->out_off += (size_t)n;
		weft_sess_written(l->sess, probe_now_ms(), (size_t)n);
		if (l->out_off == l->out.len) {
			free(l->out.data);
			l->out.data = NULL;
		}
	}
}

/* Write all of the session's output before deadline. 0, -1 (peer closed),
 * -2 (timed out). */
int
probe_link_flush(probe_link_t *l, uint64_t deadline)
{
	struct pollfd p;
	int w;

	for (;;) {
		w = probe_link_write_some(l);
		if (w <= 0)
			return w;
		if (probe_now_ms() >= deadline) {
			l->timed_out = 1;
			return -2;
		}
		p.fd = l->fd;
		p.events = POLLOUT;
		(void)poll(&p, 1, probe_wait_ms(probe_now_ms(), deadline));
	}
}

/* Send raw bytes (bypassing any session) before deadline. 0, -1 (peer
 * closed), -2 (timed out). */
static int
probe_link_send_raw(probe_link_t *l, const uint8_t *buf, size_t len,
		    uint64_t deadline)
{
	struct pollfd p;
	ssize_t n;

	while (len > 0) {
		if (probe_link_closed(l))
			return -1;
		n = send(l->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			l->sent += (uint64_t)n;
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			probe_link_mark_closed(l, 1);
			return -1;
		}
		if (probe_now_ms() >= deadline) {
			l->timed_out = 1;
			return -2;
		}
		p.fd = l->fd;
		p.events = POLLOUT;
		(void)poll(&p, 1, probe_wait_ms(probe_now_ms(), deadline));
	}
	return 0;
}

/* Feed received bytes to the session, noting what it reports. */
static void
probe_link_feed(probe_link_t *l, const uint8_t *p, size_t n)
{
	Weft__WireMessage *msg;
	weft_err_t err;
	size_t used;
	int rc, stuck = 0;

	while (n > 0 && !l->failed) {
		memset(&err, 0, sizeof(err));
		rc = weft_sess_input(l->sess, probe_now_ms(), p, n, &used, &msg,
				     &err);
		if (rc < 0) {
			probe_link_fail(l, err.msg);
			return;
		}
		if (used > n)
			used = n;
		p += used;
		n -= used;
		/* Our side is done once message 2 verified (the core says
		 * UP only later, when the agent's Hello confirms it). */
		if (rc == WEFT_SESS_UP || weft_sess_is_up(l->sess))
			l->hs_done = 1;
		if (rc == WEFT_SESS_CLOSED)
			l->peer_close = 1;
		else if (rc == WEFT_SESS_MSG && msg != NULL &&
			 msg->msg_case == WEFT__WIRE_MESSAGE__MSG_BULK &&
			 msg->bulk->data.len == 0)
			l->echo = 1;
		else if (rc == WEFT_SESS_MSG && msg != NULL &&
			 msg->msg_case == WEFT__WIRE_MESSAGE__MSG_QEND) {
			l->qend = 1;
			snprintf(l->qend_error, sizeof(l->qend_error), "%s",
				 msg->qend->error);
		}
		/* The core takes nothing more (e.g. after the peer's close):
		 * the rest is dropped, counted in "received" only. */
		if (used == 0 && ++stuck > 4)
			return;
		if (used > 0)
			stuck = 0;
	}
}

/*
 * One recv(). feed: pass the bytes to the session. sink (may be NULL):
 * keep up to *sink_cap bytes of them. Returns bytes read (0 also when
 * nothing was ready or the peer closed; the link is marked).
 */
size_t
probe_link_read(probe_link_t *l, int feed, uint8_t *sink, size_t *sink_len,
		size_t sink_cap)
{
	ssize_t n;
	size_t c;

	do
		n = recv(l->fd, l->rbuf, PROBE_RBUF, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == 0) {
		probe_link_mark_closed(l, 0);
		return 0;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			probe_link_mark_closed(l, 1);
		return 0;
	}
	l->received += (uint64_t)n;
	if (sink != NULL && *sink_len < sink_cap) {
		c = sink_cap - *sink_len;
		if (c > (size_t)n)
			c = (size_t)n;
		memcpy(sink + *sink_len, l->rbuf, c);
		*sink_len += c;
	}
	if (feed && l->sess != NULL)
		probe_link_feed(l, l->rbuf, (size_t)n);
	return (size_t)n;
}

static int
probe_link_cond(const probe_link_t *l, int until)
{
	switch (until) {
	case PROBE_UNTIL_HS: return l->hs_done;
	case PROBE_UNTIL_ECHO: return l->echo;
	case PROBE_UNTIL_QEND: return l->qend;
	default: return l->peer_close || probe_link_closed(l);
	}
}

/*
 * Run the session (write its output, read and feed input, tick its
 * timers) until the condition holds (0), the link fails or closes first
 * (-1) or deadline passes (-2).
 */
int
probe_link_pump(probe_link_t *l, uint64_t deadline, int until)
{
	struct pollfd p;
	uint64_t now, t;
	weft_err_t err;
	int w, wait;

	for (;;) {
		if (probe_link_cond(l, until))
			return 0;
		if (l->failed || l->peer_close || probe_link_closed(l))
			return -1;
		w = probe_link_write_some(l);
		if (w < 0)
			continue;
		now = probe_now_ms();
		if (now >= deadline) {
			l->timed_out = 1;
			return -2;
		}
		wait = probe_wait_ms(now, deadline);
		t = weft_sess_next_timer(l->sess);
		if (t != UINT64_MAX && probe_wait_ms(now, t) < wait)
			wait = probe_wait_ms(now, t);
		p.fd = l->fd;
		p.events = POLLIN | (w == 1 ? POLLOUT : 0);
		p.revents = 0;
		if (poll(&p, 1, wait) < 0 && errno != EINTR) {
			probe_link_fail(l, strerror(errno));
			return -1;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			(void)probe_link_read(l, 1, NULL, NULL, 0);
		if (!l->failed &&
		    weft_sess_next_timer(l->sess) <= probe_now_ms()) {
			memset(&err, 0, sizeof(err));
			if (weft_sess_tick(l->sess, probe_now_ms(), &err) < 0)
				probe_link_fail(l, err.msg);
		}
	}
}

/*
 * Read (without feeding any session) until the peer closes or deadline
 * passes; bytes are counted, and kept in sink up to sink_cap.
 */
static void
probe_link_drain(probe_link_t *l, uint64_t deadline, uint8_t *sink,
		 size_t *sink_len, size_t sink_cap)
{
	struct pollfd p;
	uint64_t now;

	while (!probe_link_closed(l)) {
		now = probe_now_ms();
		if (now >= deadline) {
			l->timed_out = 1;
			return;
		}
		p.fd = l->fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, probe_wait_ms(now, deadline)) > 0)
			(void)probe_link_read(l, 0, sink, sink_len, sink_cap);
	}
}

/* Set l->error for a pump that stopped early while waiting for `what`. */
void
probe_link_why(probe_link_t *l, int rc, const char *what)
{
	if (l->error[0] != 0 || rc == 0)
		return;
	if (rc == -2)
		snprintf(l->error, sizeof(l->error), "timed out waiting for %s",
			 what);
	else if (l->reset)
		snprintf(l->error, sizeof(l->error),
			 "connection reset by the peer while waiting for %s",
			 what);
	else if (l->eof)
		snprintf(l->error, sizeof(l->error),
			 "connection closed by the peer while waiting for %s",
			 what);
	else if (l->peer_close)
		snprintf(l->error, sizeof(l->error),
			 "the peer ended the session while waiting for %s",
			 what);
}

/* Queue an empty Bulk (the agent echoes it). */
static int
probe_link_send_flush_marker(probe_link_t *l)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__Bulk b = WEFT__BULK__INIT;
	weft_err_t err = {0};

	m.msg_case = WEFT__WIRE_MESSAGE__MSG_BULK;
	m.bulk = &b;
	if (weft_sess_send(l->sess, probe_now_ms(), &m, &err) != 0) {
		probe_link_fail(l, err.msg);
		return -1;
	}
	return 0;
}

/*
 * Finish the handshake, then prove the peer accepted it: send an empty
 * Bulk and wait for it to come back. 0 when it did, else negative with
 * l->error set.
 */
int
probe_link_establish(probe_link_t *l, uint64_t deadline)
{
	int rc;

	rc = probe_link_pump(l, deadline, PROBE_UNTIL_HS);
	if (rc != 0) {
		probe_link_why(l, rc, "the handshake");
		return rc;
	}
	if (probe_link_send_flush_marker(l) != 0)
		return -1;
	rc = probe_link_pump(l, deadline, PROBE_UNTIL_ECHO);
	probe_link_why(l, rc, "the echo of an empty Bulk");
	return rc;
}

/* End a session politely (Goodbye, CLOSE) and wait briefly for the
 * peer's CLOSE, so the agent logs a clean close. */
void
probe_link_goodbye(probe_link_t *l, uint64_t timeout_ms)
{
	uint64_t deadline =
	    probe_now_ms() + (timeout_ms < 1000 ? timeout_ms : 1000);

	if (l->sess == NULL || !weft_sess_is_up(l->sess))
		return;
	weft_sess_close(l->sess, "weft-probe done");
	if (probe_link_flush(l, deadline) == 0)
		(void)probe_link_pump(l, deadline, PROBE_UNTIL_CLOSED);
	/* The session was up: what happens while ending it is no error. */
	l->timed_out = 0;
	l->error[0] = 0;
}

/* The JSON fields every session mode reports. */
void
probe_json_link(probe_json_t *j, const probe_link_t *l)
{
	const weft_cert_info_t *peer = NULL;
	probe_json_t pj = {0};

	probe_json_bool(j, "hs_done", l->hs_done);
	probe_json_bool(j, "up", l->echo);
	probe_json_bool(j, "echo", l->echo);
	if (l->sess != NULL && l->hs_done)
		peer = weft_sess_peer(l->sess);
	probe_json_key(j, "peer");
	if (peer == NULL) {
		fputs("null", stdout);
	} else {
		putchar('{');
		probe_json_str(&pj, "node", peer->subject_name);
		probe_json_str(&pj, "org", peer->org_name);
		probe_json_str(&pj, "listen", weft_sess_peer_listen(l->sess));
		putchar('}');
	}
}

void
probe_json_close(probe_json_t *j, const probe_link_t *l, uint64_t from)
{
	probe_json_u64(j, "sent", l->sent);
	probe_json_u64(j, "received", l->received);
	probe_json_bool(j, "closed_by_peer", probe_link_closed(l));
	probe_json_bool(j, "reset", l->reset);
	probe_json_ms(j, "close_ms", from, l->closed_at);
}

/* Open a link with a session for a mode that uses DIR's identity. */
int
probe_open_session(probe_link_t *l, const probe_id_t *id, const probe_opts_t *o,
		   uint64_t stall_ms)
{
	if (probe_link_init(l) != 0)
		return -1;
	if (probe_link_connect(l, o->connect, probe_now_ms() + o->timeout_ms))
		return -1;
	/* Our waits end before the core's own handshake deadline, so a
	 * silent peer is reported as "timed out waiting for ...". */
	return probe_link_sess(l, id, o->timeout_ms + 60000, stall_ms);
}

/* ---- Modes ---- */

/*
 * hello: a full session; "up" when the empty Bulk came back. close_ms
 * counts from the connection.
 */
static int
probe_mode_hello(const probe_opts_t *o)
{
	probe_id_t id = {0};
	probe_link_t l;
	probe_json_t j;
	int rc = 1;

	memset(&l, 0, sizeof(l));
	l.fd = -1;
	if (probe_id_load_node(&id, o->data_dir) != 0 ||
	    probe_id_load_mesh(&id, o->data_dir) != 0)
		goto out;
	if (probe_open_session(&l, &id, o, 0) != 0)
		goto out;
	if (probe_link_establish(&l, probe_now_ms() + o->timeout_ms) == 0)
		probe_link_goodbye(&l, o->timeout_ms);
	probe_json_begin(&j, o->mode);
	probe_json_link(&j, &l);
	probe_json_str(&j, "error", l.error[0] ? l.error : NULL);
	probe_json_bool(&j, "peer_close_frame", l.peer_close);
	probe_json_close(&j, &l, l.t_start);
	probe_json_ms(&j, "elapsed_ms", l.t_start, probe_now_ms());
	probe_json_end(&j);
	rc = 0;
out:
	probe_link_free(&l);
	probe_id_free(&id);
	return rc;
}

/*
 * nokey: message 1 under a random network key, from a self-made org and
 * node; then read until EOF or the timeout. close_ms counts from the end
 * of message 1.
 */
static int
probe_mode_nokey(const probe_opts_t *o)
{
	probe_id_t id = {0};
	probe_link_t l;
	probe_json_t j;
	uint8_t *dump = NULL;
	size_t dump_len = 0;
	uint64_t t_sent;
	int64_t now = time(NULL);
	FILE *f;
	int rc = 1;

	memset(&l, 0, sizeof(l));
	l.fd = -1;
	randombytes_buf(id.netkey, sizeof(id.netkey));
	if (probe_id_make(&id, NULL, now - 60, now + 3600, 0) != 0)
		goto out;
	dump = malloc(PROBE_DUMP_MAX);
	if (dump == NULL) {
		fprintf(stderr, "weft-probe: out of memory\n");
		goto out;
	}
	if (probe_open_session(&l, &id, o, 0) != 0)
		goto out;
	(void)probe_link_flush(&l, probe_now_ms() + o->timeout_ms);
	t_sent = probe_now_ms();
	probe_link_drain(&l, t_sent + o->timeout_ms, dump, &dump_len,
			 PROBE_DUMP_MAX);
	if (o->dump != NULL) {
		f = fopen(o->dump, "wb");
		if (f == NULL || fwrite(dump, 1, dump_len, f) != dump_len ||
		    fclose(f) != 0) {
			fprintf(stderr, "weft-probe: %s: %s\n", o->dump,
				strerror(errno));
			goto out;
		}
	}
	probe_json_begin(&j, o->mode);
	probe_json_close(&j, &l, t_sent);
	probe_json_bool(&j, "timed_out", l.timed_out);
	probe_json_str(&j, "dump", o->dump);
	probe_json_end(&j);
	rc = 0;
out:
	free(dump);
	probe_link_free(&l);
	probe_id_free(&id);
	return rc;
}

/*
 * cert: a fresh node key certified by --org for the given window,
 * optionally with a broken signature; DIR gives network key and trust.
 * "hs_done" is our side (the agent's message 2 verified); "up" means the
 * agent accepted our message 3 (its echo came back).
 */
static int
probe_mode_cert(const probe_opts_t *o)
{
	probe_id_t id = {0};
	weft_keypair_t *org = NULL;
	probe_link_t l;
	probe_json_t j;
	weft_err_t err = {0};
	int64_t now = time(NULL), nb, na;
	int rc = 1;

	memset(&l, 0, sizeof(l));
	l.fd = -1;
	na = (o->seen & PROBE_O_NOT_AFTER) ? o->not_after : now + 3600;
	nb = (o->seen & PROBE_O_NOT_BEFORE) ? o->not_before : now - 60;
	/* Keep a default end of the window after a given start and a
	 * default start before a given end. */
	if (!(o->seen & PROBE_O_NOT_AFTER) && na <= nb)
		na = nb + 3600;
	if (!(o->seen & PROBE_O_NOT_BEFORE) && nb >= na)
		nb = na - 3600;
	if (nb >= na) {
		fprintf(stderr, "weft-probe: --not-before must be earlier "
				"than --not-after\n");
		return 2;
	}
	if (weft_key_load(o->org, &org, &err) != 0) {
		fprintf(stderr, "weft-probe: %s\n", err.msg);
		goto out;
	}
	if (probe_id_load_mesh(&id, o->data_dir) != 0 ||
	    probe_id_make(&id, org, nb, na, o->break_sig) != 0)
		goto out;
	if (probe_open_session(&l, &id, o, 0) != 0)
		goto out;
	if (probe_link_establish(&l, probe_now_ms() + o->timeout_ms) == 0)
		probe_link_goodbye(&l, o->timeout_ms);
	probe_json_begin(&j, o->mode);
	probe_json_str(&j, "org", org->name);
	probe_json_i64(&j, "not_before", nb);
	probe_json_i64(&j, "not_after", na);
	probe_json_bool(&j, "break_sig", o->break_sig);
	probe_json_link(&j, &l);
	probe_json_str(&j, "error", l.error[0] ? l.error : NULL);
	probe_json_close(&j, &l, l.t_start);
	probe_json_end(&j);
	rc = 0;
out:
	probe_link_free(&l);
	probe_id_free(&id);
	weft_key_free(org);
	return rc;
}

/*
 * A first, honest connection for the replay modes: establish, record its
 * output, say goodbye. Returns 1 if it came up, 0 if not (l->error says
 * why), -1 on a local failure.
 */
static int
probe_first(const probe_opts_t *o, const probe_id_t *id, probe_link_t *l)
{
	if (probe_open_session(l, id, o, 0) != 0)
		return -1;
	if (probe_link_establish(l, probe_now_ms() + o->timeout_ms) != 0)
		return 0;
	probe_link_goodbye(l, o->timeout_ms);
	return 1;
}

/* The report of a replay mode whose first connection did not come up. */
static void
probe_first_failed(const probe_opts_t *o, const probe_link_t *l)
{
	probe_json_t j;
	char why[WEFT_ERR_MAX + 32];

	snprintf(why, sizeof(why), "first connection: %s", l->error);
	probe_json_begin(&j, o->mode);
	probe_json_bool(&j, "first_up", 0);
	probe_json_bool(&j, "up", 0);
	probe_json_str(&j, "error", why);
	probe_json_end(&j);
}

/*
 * replay1: the first connection's message 1 sent again on a second
 * connection. "up" is always false (we cannot finish a replayed
 * handshake); close_ms counts from the end of the replayed bytes.
 */
static int
probe_mode_replay1(const probe_opts_t *o)
{
	probe_id_t id = {0};
	probe_link_t l1, l2;
	probe_json_t j;
	uint8_t m1[WEFT_HS_MSG1_BYTES];
	uint64_t t_sent;
	int up = 0, rc = 1;

	memset(&l1, 0, sizeof(l1));
	memset(&l2, 0, sizeof(l2));
	l1.fd = l2.fd = -1;
	if (probe_id_load_node(&id, o->data_dir) != 0 ||
	    probe_id_load_mesh(&id, o->data_dir) != 0)
		goto out;
	up = probe_first(o, &id, &l1);
	if (up < 0)
		goto out;
	if (up == 0) {
		probe_first_failed(o, &l1);
		rc = 0;
		goto out;
	}
	if (l1.cap_len < sizeof(m1)) {
		fprintf(stderr, "weft-probe: message 1 was not sent\n");
		goto out;
	}
	memcpy(m1, l1.cap, sizeof(m1));
	probe_link_free(&l1);
	if (probe_link_init(&l2) != 0 ||
	    probe_link_connect(&l2, o->connect,
			       probe_now_ms() + o->timeout_ms) != 0)
		goto out;
	(void)probe_link_send_raw(&l2, m1, sizeof(m1),
				  probe_now_ms() + o->timeout_ms);
	t_sent = probe_now_ms();
	probe_link_drain(&l2, t_sent + o->timeout_ms, NULL, NULL, 0);
	probe_json_begin(&j, o->mode);
	probe_json_bool(&j, "first_up", 1);
	probe_json_bool(&j, "up", 0);
	probe_json_close(&j, &l2, t_sent);
	probe_json_bool(&j, "timed_out", l2.timed_out);
	probe_json_end(&j);
	rc = 0;
out:
	probe_link_free(&l1);
	probe_link_free(&l2);
	probe_id_free(&id);
	return rc;
}

/*
 * replay3: the first connection's message 3 sent on a second connection
 * in place of the fresh one. "hs_done": the second connection's message 2
 * verified; "up": the agent sent anything after the old message 3 (it
 * would only do so having accepted it); close_ms counts from the old
 * message 3.
 */
static int
probe_mode_replay3(const probe_opts_t *o)
{
	probe_id_t id = {0};
	probe_link_t l1, l2;
	probe_json_t j;
	uint8_t m3[2 + WEFT_HS_MSG_MAX];
	size_t m3_len = 0;
	uint64_t t_sent, before;
	int up = 0, rc = 1, r;

	memset(&l1, 0, sizeof(l1));
	memset(&l2, 0, sizeof(l2));
	l1.fd = l2.fd = -1;
	if (probe_id_load_node(&id, o->data_dir) != 0 ||
	    probe_id_load_mesh(&id, o->data_dir) != 0)
		goto out;
	up = probe_first(o, &id, &l1);
	if (up < 0)
		goto out;
	if (up == 0) {
		probe_first_failed(o, &l1);
		rc = 0;
		goto out;
	}
	/* Message 3 follows message 1 in our output: L3 (2) | L3 bytes. */
	if (l1.cap_len >= WEFT_HS_MSG1_BYTES + 2)
		m3_len = 2 + ((size_t)l1.cap[WEFT_HS_MSG1_BYTES] << 8 |
			      l1.cap[WEFT_HS_MSG1_BYTES + 1]);
	if (m3_len <= 2 || m3_len > sizeof(m3) ||
	    l1.cap_len < WEFT_HS_MSG1_BYTES + m3_len) {
		fprintf(stderr, "weft-probe: message 3 was not sent\n");
		goto out;
	}
	memcpy(m3, l1.cap + WEFT_HS_MSG1_BYTES, m3_len);
	probe_link_free(&l1);

	if (probe_open_session(&l2, &id, o, 0) != 0)
		goto out;
	r = probe_link_flush(&l2, probe_now_ms() + o->timeout_ms);
	l2.drop_output = 1; /* our own message 3 and Hello are never sent */
	if (r == 0)
		r = probe_link_pump(&l2, probe_now_ms() + o->timeout_ms,
				    PROBE_UNTIL_HS);
	probe_link_why(&l2, r, "message 2");
	before = l2.received;
	t_sent = 0;
	if (r == 0) {
		(void)probe_link_send_raw(&l2, m3, m3_len,
					  probe_now_ms() + o->timeout_ms);
		t_sent = probe_now_ms();
		probe_link_drain(&l2, t_sent + o->timeout_ms, NULL, NULL, 0);
	}
	probe_json_begin(&j, o->mode);
	probe_json_bool(&j, "first_up", 1);
	probe_json_u64(&j, "msg3_bytes", m3_len);
	probe_json_bool(&j, "hs_done", l2.hs_done);
	probe_json_bool(&j, "up", t_sent != 0 && l2.received > before);
	probe_json_u64(&j, "received_after", l2.received - before);
	probe_json_str(&j, "error", l2.error[0] ? l2.error : NULL);
	probe_json_close(&j, &l2, t_sent);
	probe_json_end(&j);
	rc = 0;
out:
	probe_link_free(&l1);
	probe_link_free(&l2);
	probe_id_free(&id);
	return rc;
}

/*
 * flipbit: session up and echo seen, then one DATA frame (a Bulk) with
 * one bit flipped at byte --byte. close_ms counts from the flipped frame.
 */
static int
probe_mode_flipbit(const probe_opts_t *o)
{
	probe_id_t id = {0};
	probe_link_t l;
	probe_json_t j;
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__Bulk b = WEFT__BULK__INIT;
	uint8_t data[PROBE_FLIP_DATA];
	weft_sess_buf_t fr = {NULL, 0};
	weft_err_t err = {0};
	uint64_t t_sent = 0, before = 0;
	int rc = 1;

	memset(&l, 0, sizeof(l));
	l.fd = -1;
	if (probe_id_load_node(&id, o->data_dir) != 0 ||
	    probe_id_load_mesh(&id, o->data_dir) != 0)
		goto out;
	if (probe_open_session(&l, &id, o, 0) != 0)
		goto out;
	if (probe_link_establish(&l, probe_now_ms() + o->timeout_ms) == 0 &&
	    probe_link_flush(&l, probe_now_ms() + o->timeout_ms) == 0) {
		randombytes_buf(data, sizeof(data));
		b.data.data = data;
		b.data.len = sizeof(data);
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_BULK;
		m.bulk = &b;
		if (weft_sess_send(l.sess, probe_now_ms(), &m, &err) != 0 ||
		    !weft_sess_take(l.sess, &fr)) {
			fprintf(stderr, "weft-probe: cannot seal a frame: %s\n",
				err.msg);
			goto out;
		}
		weft_sess_written(l.sess, probe_now_ms(), fr.len);
		if (fr.len != weft_frame_sealed_len(
				  weft__wire_message__get_packed_size(&m))) {
			fprintf(stderr,
				"weft-probe: the core queued %zu bytes, "
				"not one frame\n",
				fr.len);
			goto out;
		}
		if (o->flip_byte >= fr.len) {
			fprintf(stderr,
				"weft-probe: --byte %zu: the frame has "
				"only %zu bytes\n",
				o->flip_byte, fr.len);
			rc = 2;
			goto out;
		}
		fr.data[o->flip_byte] ^= 0x04;
		before = l.received;
		(void)probe_link_send_raw(&l, fr.data, fr.len,
					  probe_now_ms() + o->timeout_ms);
		t_sent = probe_now_ms();
		probe_link_drain(&l, t_sent + o->timeout_ms, NULL, NULL, 0);
	}
	probe_json_begin(&j, o->mode);
	probe_json_link(&j, &l);
	probe_json_str(&j, "error", l.error[0] ? l.error : NULL);
	probe_json_bool(&j, "flipped", t_sent != 0);
	probe_json_u64(&j, "frame_bytes", fr.len);
	probe_json_u64(&j, "flipped_byte", o->flip_byte);
	probe_json_u64(&j, "received_after", l.received - before);
	probe_json_close(&j, &l, t_sent);
	probe_json_end(&j);
	rc = 0;
out:
	free(fr.data);
	probe_link_free(&l);
	probe_id_free(&id);
	return rc;
}

/*
 * Feed bytes to a frame decoder, counting whole frames. Returns -1 with
 * err set if the decoder fails.
 */
static int
probe_frames_feed(weft_frame_rx_t *rx, const uint8_t *p, size_t left,
		  uint64_t *frames, weft_err_t *err)
{
	weft_frame_t f;
	size_t k;
	int rc;

	for (;;) {
		k = weft_frame_feed(rx, p, left);
		p += k;
		left -= k;
		rc = weft_frame_next(rx, &f, err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			(*frames)++;
		else if (left == 0)
			return 0;
	}
}

/* The frame layer of a session run without the session core (biglen). */
typedef struct probe_raw {
	weft_frame_tx_t *tx;
	weft_frame_rx_t *rx;
	uint64_t frames; /* frames received and opened */
} probe_raw_t;

static void
probe_raw_free(probe_raw_t *r)
{
	weft_frame_tx_free(r->tx);
	weft_frame_rx_free(r->rx);
	memset(r, 0, sizeof(*r));
}

/*
 * Run the initiator's handshake on crypto/handshake.h over l before
 * deadline and set up the frame layer in *raw; bytes that follow message
 * 2 go to the frame decoder. Returns 0 when done, 1 when it did not
 * finish (refused, closed, timed out: l says which), -1 on a local
 * failure (message printed).
 */
static int
probe_raw_handshake(probe_link_t *l, const probe_id_t *id, uint64_t deadline,
		    probe_raw_t *raw)
{
	weft_hs_t *hs = NULL;
	weft_hs_result_t res;
	weft_err_t err = {0};
	uint8_t seed[WEFT_HS_SEED_BYTES];
	const uint8_t *out, *in = NULL;
	size_t olen, n = 0, used;
	struct pollfd p;
	int r, rc = -1;

	memset(&res, 0, sizeof(res));
	probe_seed(seed);
	r = weft_hs_new(&hs, WEFT_HS_INITIATOR, id->kp, id->cert, id->cert_len,
			id->netkey, &id->trust, time(NULL), seed, &err);
	sodium_memzero(seed, sizeof(seed));
	if (r != 0 || weft_hs_start(hs, &out, &olen, &err) < 0) {
		fprintf(stderr, "weft-probe: %s\n", err.msg);
		goto out;
	}
	rc = 1;
	if (probe_link_send_raw(l, out, olen, deadline) != 0)
		goto out;
	/* Read message 2 (answering with message 3) until done. */
	while (!l->hs_done && !l->failed && !probe_link_closed(l)) {
		if (probe_now_ms() >= deadline) {
			l->timed_out = 1;
			goto out;
		}
		p.fd = l->fd;
		p.events = POLLIN;
		if (poll(&p, 1, probe_wait_ms(probe_now_ms(), deadline)) <= 0)
			continue;
		n = probe_link_read(l, 0, NULL, NULL, 0);
		in = l->rbuf;
		while (n > 0 && !l->hs_done) {
			r = weft_hs_recv(hs, in, n, &used, &out, &olen, &err);
			if (r < 0) {
				probe_link_fail(l, err.msg);
				goto out;
			}
			in += used;
			n -= used;
			if (olen > 0 &&
			    probe_link_send_raw(l, out, olen, deadline) != 0)
				goto out;
			if (r == WEFT_HS_DONE)
				l->hs_done = 1;
		}
	}
	if (!l->hs_done)
		goto out;
	if (weft_hs_result(hs, &res) != 0 ||
	    weft_frame_tx_new(res.tx, 0, &raw->tx) != 0 ||
	    weft_frame_rx_new(res.rx, 0, &raw->rx) != 0) {
		fprintf(stderr, "weft-probe: no session keys\n");
		rc = -1;
		goto out;
	}
	rc = 0;
	if (probe_frames_feed(raw->rx, in, n, &raw->frames, &err) != 0)
		probe_link_fail(l, err.msg);
out:
	sodium_memzero(&res, sizeof(res));
	weft_hs_free(hs);
	return rc;
}

/*
 * biglen: the handshake on crypto/handshake.h directly, then a forged
 * authentic header claiming 0xFFFFFFFF bytes and PROBE_JUNK bytes after
 * it. "peer_frames": frames of the agent's (its Hello) opened before the
 * forgery; "up" if there was one, proving it accepted the handshake. close_ms
 * counts from the forged header (from the connection if none was sent).
 */
static int
probe_mode_biglen(const probe_opts_t *o)
{
	probe_id_t id = {0};
	probe_link_t l;
	probe_raw_t raw;
	probe_json_t j;
	weft_err_t err = {0};
	uint8_t hdr[WEFT_FRAME_HDR], junk[PROBE_JUNK];
	uint64_t deadline, t_sent = 0, got0 = 0, sent0 = 0;
	struct pollfd p;
	size_t n;
	int rc = 1, r;

	memset(&l, 0, sizeof(l));
	memset(&raw, 0, sizeof(raw));
	l.fd = -1;
	if (probe_id_load_node(&id, o->data_dir) != 0 ||
	    probe_id_load_mesh(&id, o->data_dir) != 0)
		goto out;
	if (probe_link_init(&l) != 0 ||
	    probe_link_connect(&l, o->connect,
			       probe_now_ms() + o->timeout_ms) != 0)
		goto out;
	r = probe_raw_handshake(&l, &id, probe_now_ms() + o->timeout_ms, &raw);
	if (r < 0)
		goto out;
	if (r > 0)
		probe_link_why(&l, l.timed_out ? -2 : -1, "the handshake");
	/* Wait briefly for the agent's first frame (its Hello). */
	deadline =
	    probe_now_ms() + (o->timeout_ms < 2000 ? o->timeout_ms : 2000);
	while (r == 0 && raw.frames == 0 && !l.failed &&
	       !probe_link_closed(&l) && probe_now_ms() < deadline) {
		p.fd = l.fd;
		p.events = POLLIN;
		if (poll(&p, 1, probe_wait_ms(probe_now_ms(), deadline)) <= 0)
			continue;
		n = probe_link_read(&l, 0, NULL, NULL, 0);
		if (n > 0 && probe_frames_feed(raw.rx, l.rbuf, n, &raw.frames,
					       &err) != 0)
			probe_link_fail(&l, err.msg);
	}
	if (r == 0 && !probe_link_closed(&l)) {
		weft_frame_forge_header(raw.tx, WEFT_FRAME_DATA, 0xFFFFFFFFu,
					hdr);
		got0 = l.received;
		sent0 = l.sent;
		deadline = probe_now_ms() + o->timeout_ms;
		t_sent = probe_now_ms();
		if (probe_link_send_raw(&l, hdr, sizeof(hdr), deadline) == 0) {
			randombytes_buf(junk, sizeof(junk));
			(void)probe_link_send_raw(&l, junk, sizeof(junk),
						  deadline);
		}
		probe_link_drain(&l, probe_now_ms() + o->timeout_ms, NULL, NULL,
				 0);
	}
	probe_json_begin(&j, o->mode);
	probe_json_bool(&j, "hs_done", l.hs_done);
	probe_json_bool(&j, "up", raw.frames > 0);
	probe_json_u64(&j, "peer_frames", raw.frames);
	probe_json_bool(&j, "forged", t_sent != 0);
	probe_json_u64(&j, "claimed_len", 0xFFFFFFFFu);
	probe_json_u64(&j, "sent_after", t_sent ? l.sent - sent0 : 0);
	probe_json_u64(&j, "received_after", t_sent ? l.received - got0 : 0);
	probe_json_str(&j, "error", l.error[0] ? l.error : NULL);
	probe_json_close(&j, &l, t_sent ? t_sent : l.t_start);
	probe_json_end(&j);
	rc = 0;
out:
	probe_raw_free(&raw);
	probe_link_free(&l);
	probe_id_free(&id);
	return rc;
}

/* halfopen: one connection's state. */
enum { PROBE_C_CONNECTING, PROBE_C_OPEN, PROBE_C_CLOSED, PROBE_C_FAILED };

typedef struct probe_conn {
	int fd;
	int state;
	uint64_t t_start; /* connect() called */
	uint64_t t_conn;  /* seen established */
	uint64_t t_close; /* seen closed by the peer */
} probe_conn_t;

typedef struct probe_half {
	probe_conn_t *c;
	struct pollfd *pfd;
	unsigned long n, next; /* connections; the next one to start */
	unsigned long connecting, open, garbage;
	uint64_t received, connect_max_ms;
	char connect_error[128];
} probe_half_t;

static void
probe_half_failed(probe_half_t *h, probe_conn_t *c, int e)
{
	if (h->connect_error[0] == 0)
		snprintf(h->connect_error, sizeof(h->connect_error), "%s",
			 strerror(e));
	if (c->state == PROBE_C_CONNECTING)
		h->connecting--;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = PROBE_C_FAILED;
}

/* A connection is established: note when, maybe send garbage. */
static void
probe_half_opened(probe_half_t *h, unsigned long i)
{
	uint8_t g[PROBE_GARBAGE];
	probe_conn_t *c = &h->c[i];

	if (c->state == PROBE_C_CONNECTING)
		h->connecting--;
	c->state = PROBE_C_OPEN;
	c->t_conn = probe_now_ms();
	if (c->t_conn - c->t_start > h->connect_max_ms)
		h->connect_max_ms = c->t_conn - c->t_start;
	h->open++;
	if (i % 2 == 1) {
		randombytes_buf(g, sizeof(g));
		if (send(c->fd, g, sizeof(g), MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
			h->garbage++;
	}
}

static void
probe_half_closed(probe_half_t *h, probe_conn_t *c)
{
	c->t_close = probe_now_ms();
	c->state = PROBE_C_CLOSED;
	close(c->fd);
	c->fd = -1;
	h->open--;
}

/* Start connections until PROBE_CONNECT_BATCH are in progress. */
static void
probe_half_start(probe_half_t *h, const struct sockaddr_storage *dst,
		 socklen_t dlen, const struct sockaddr_storage *src,
		 socklen_t slen)
{
	probe_conn_t *c;
	int fd, done;

	while (h->next < h->n && h->connecting < PROBE_CONNECT_BATCH) {
		c = &h->c[h->next];
		c->t_start = probe_now_ms();
		c->state = PROBE_C_CONNECTING;
		h->connecting++;
		fd = probe_tcp_start(dst, dlen, src, slen, &done);
		if (fd < 0) {
			probe_half_failed(h, c, -fd);
		} else {
			c->fd = fd;
			if (done)
				probe_half_opened(h, h->next);
		}
		h->next++;
	}
}

/* Handle what poll() reported for connection i. */
static void
probe_half_event(probe_half_t *h, unsigned long i, uint64_t timeout_ms)
{
	probe_conn_t *c = &h->c[i];
	uint8_t buf[4096];
	socklen_t el;
	ssize_t r;
	int e;

	if (c->state == PROBE_C_CONNECTING) {
		e = 0;
		el = sizeof(e);
		if (h->pfd[i].revents != 0 &&
		    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
		if (h->pfd[i].revents != 0 && e == 0)
			probe_half_opened(h, i);
		else if (e != 0)
			probe_half_failed(h, c, e);
		else if (probe_now_ms() >= c->t_start + timeout_ms)
			probe_half_failed(h, c, ETIMEDOUT);
		return;
	}
	if (c->state != PROBE_C_OPEN || h->pfd[i].revents == 0)
		return;
	/* Anything the agent sends is counted (it should send nothing);
	 * EOF or an error is a close. */
	r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (r > 0)
		h->received += (uint64_t)r;
	else if (r == 0 ||
		 (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		probe_half_closed(h, c);
}

/* Raise RLIMIT_NOFILE to its hard limit; fail if n sockets do not fit. */
static int
probe_half_nofile(unsigned long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n + 16)) {
		fprintf(stderr,
			"weft-probe: --count %lu exceeds the open file "
			"limit (%llu)\n",
			n, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

/*
 * halfopen: N connections from --bind that never complete a handshake,
 * started PROBE_CONNECT_BATCH at a time (so the agent's accept queue does
 * not overflow and delay them), held until --hold seconds after the start
 * or until all are closed. Times are from when a connection was seen
 * established: closed_immediately within PROBE_QUICK_MS, closed_later
 * after that (close_min_ms, close_max_ms). connect_max_ms: the longest
 * connect. A connect not done within --timeout counts as failed.
 */
static int
probe_mode_halfopen(const probe_opts_t *o)
{
	probe_half_t h;
	probe_json_t j;
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen = 0;
	uint64_t t0, hold_end, now, d, dmin = UINT64_MAX, dmax = 0;
	unsigned long i, quick = 0, later = 0, failed = 0, opened = 0;
	int wait, rc = 1;

	memset(&h, 0, sizeof(h));
	if (probe_addr_parse(o->connect, &dst, &dlen) != 0)
		return 1;
	if (o->bind != NULL &&
	    probe_bind_parse(o->bind, dst.ss_family, &src, &slen) != 0)
		return 2;
	if (probe_half_nofile(o->count) != 0)
		return 1;
	h.n = o->count;
	h.c = calloc(h.n, sizeof(*h.c));
	h.pfd = calloc(h.n, sizeof(*h.pfd));
	if (h.c == NULL || h.pfd == NULL) {
		fprintf(stderr, "weft-probe: out of memory\n");
		goto out;
	}
	for (i = 0; i < h.n; i++)
		h.c[i].fd = -1;
	t0 = probe_now_ms();
	hold_end = t0 + o->hold_ms;
	while ((now = probe_now_ms()) < hold_end) {
		probe_half_start(&h, &dst, dlen, o->bind ? &src : NULL, slen);
		if (h.next == h.n && h.connecting == 0 && h.open == 0)
			break;
		for (i = 0; i < h.next; i++) {
			h.pfd[i].fd = h.c[i].fd;
			h.pfd[i].revents = 0;
			h.pfd[i].events = h.c[i].state == PROBE_C_CONNECTING
					      ? POLLOUT
					      : POLLIN;
		}
		wait = probe_wait_ms(now, hold_end);
		if (h.connecting > 0 && wait > 100)
			wait = 100; /* to notice connect timeouts */
		if (poll(h.pfd, h.next, wait) < 0 && errno != EINTR) {
			fprintf(stderr, "weft-probe: poll: %s\n",
				strerror(errno));
			goto out;
		}
		for (i = 0; i < h.next; i++)
			probe_half_event(&h, i, o->timeout_ms);
	}
	for (i = 0; i < h.n; i++) {
		probe_conn_t *c = &h.c[i];

		if (c->state == PROBE_C_FAILED ||
		    c->state == PROBE_C_CONNECTING || i >= h.next) {
			failed++; /* connecting or not started: hold ended */
			continue;
		}
		opened++;
		if (c->state == PROBE_C_OPEN)
			continue;
		d = c->t_close - c->t_conn;
		if (d < PROBE_QUICK_MS) {
			quick++;
			continue;
		}
		later++;
		if (d < dmin)
			dmin = d;
		if (d > dmax)
			dmax = d;
	}
	probe_json_begin(&j, o->mode);
	probe_json_u64(&j, "count", h.n);
	probe_json_u64(&j, "opened", opened);
	probe_json_u64(&j, "connect_failed", failed);
	probe_json_str(&j, "connect_error",
		       h.connect_error[0] ? h.connect_error : NULL);
	probe_json_u64(&j, "connect_max_ms", h.connect_max_ms);
	probe_json_u64(&j, "garbage_sent", h.garbage);
	probe_json_u64(&j, "closed_immediately", quick);
	probe_json_u64(&j, "closed_later", later);
	probe_json_opt(&j, "close_min_ms", later > 0, dmin);
	probe_json_opt(&j, "close_max_ms", later > 0, dmax);
	probe_json_u64(&j, "still_open", h.open);
	probe_json_u64(&j, "received", h.received);
	probe_json_ms(&j, "elapsed_ms", t0, probe_now_ms());
	probe_json_end(&j);
	rc = 0;
out:
	if (h.c != NULL)
		for (i = 0; i < h.n; i++)
			if (h.c[i].fd >= 0)
				close(h.c[i].fd);
	free(h.c);
	free(h.pfd);
	return rc;
}

/*
 * slowreader: session up, then echo Pings of PROBE_PING_PAYLOAD bytes
 * queued and written as fast as the socket takes them for --seconds,
 * never reading; then, unless the agent already closed, a drain of up to
 * --timeout. "last_write_ms": when (from the start of sending) the socket
 * last accepted bytes, i.e. when the agent stopped reading; close_ms
 * counts from the start of sending.
 */
static int
probe_mode_slowreader(const probe_opts_t *o)
{
	probe_id_t id = {0};
	probe_link_t l;
	probe_json_t j;
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__Ping ping = WEFT__PING__INIT;
	uint8_t *payload = NULL;
	weft_err_t err;
	struct pollfd p;
	uint64_t t0 = 0, end, last_write = 0, pings = 0, sent0 = 0, got0 = 0;
	uint64_t before;
	int w, rc = 1, during = 0;

	memset(&l, 0, sizeof(l));
	l.fd = -1;
	if (probe_id_load_node(&id, o->data_dir) != 0 ||
	    probe_id_load_mesh(&id, o->data_dir) != 0)
		goto out;
	payload = calloc(1, PROBE_PING_PAYLOAD);
	if (payload == NULL) {
		fprintf(stderr, "weft-probe: out of memory\n");
		goto out;
	}
	/* Our own stall timer must not end the session first. */
	if (probe_open_session(&l, &id, o, o->seconds_ms + 3600000) != 0)
		goto out;
	if (probe_link_establish(&l, probe_now_ms() + o->timeout_ms) != 0 ||
	    probe_link_flush(&l, probe_now_ms() + o->timeout_ms) != 0)
		goto report;
	ping.payload.data = payload;
	ping.payload.len = PROBE_PING_PAYLOAD;
	ping.echo = 1;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_PING;
	m.ping = &ping;
	t0 = probe_now_ms();
	end = t0 + o->seconds_ms;
	sent0 = l.sent;
	got0 = l.received;
	while (!probe_link_closed(&l) && probe_now_ms() < end) {
		for (;;) {
			memset(&err, 0, sizeof(err));
			ping.id = ++pings;
			if (weft_sess_send(l.sess, probe_now_ms(), &m, &err) ==
			    0)
				continue;
			pings--;
			if (err.code == WEFT_EAGAIN)
				break;
			fprintf(stderr, "weft-probe: %s\n", err.msg);
			goto out;
		}
		before = l.sent;
		w = probe_link_write_some(&l);
		if (l.sent > before)
			last_write = probe_now_ms();
		if (w < 0)
			break;
		if (w == 0)
			continue;
		p.fd = l.fd;
		p.events = POLLOUT;
		p.revents = 0;
		if (poll(&p, 1, probe_wait_ms(probe_now_ms(), end)) > 0 &&
		    (p.revents & (POLLERR | POLLHUP)) &&
		    probe_link_write_some(&l) == 1)
			probe_link_mark_closed(&l, 1);
	}
	during = probe_link_closed(&l);
	if (!during)
		probe_link_drain(&l, probe_now_ms() + o->timeout_ms, NULL, NULL,
				 0);
report:
	probe_json_begin(&j, o->mode);
	probe_json_link(&j, &l);
	probe_json_str(&j, "error", l.error[0] ? l.error : NULL);
	probe_json_u64(&j, "ping_bytes", PROBE_PING_PAYLOAD);
	probe_json_u64(&j, "pings_queued", pings);
	probe_json_u64(&j, "bytes_sent", t0 ? l.sent - sent0 : 0);
	probe_json_ms(&j, "last_write_ms", t0, last_write);
	probe_json_bool(&j, "closed_during_send", during);
	probe_json_u64(&j, "drained", t0 ? l.received - got0 : 0);
	probe_json_u64(&j, "local_queued",
		       l.sess ? weft_sess_queued(l.sess) : 0);
	probe_json_close(&j, &l, t0 ? t0 : l.t_start);
	probe_json_end(&j);
	rc = 0;
out:
	free(payload);
	probe_link_free(&l);
	probe_id_free(&id);
	return rc;
}

/* ---- Command line ---- */

typedef struct probe_mode {
	const char *name;
	int (*fn)(const probe_opts_t *);
	unsigned required, allowed;
	const char *args;
} probe_mode_t;

#define PROBE_DC (PROBE_O_DATA_DIR | PROBE_O_CONNECT)

static const probe_mode_t probe_modes[] = {
    {"hello", probe_mode_hello, PROBE_DC, PROBE_DC,
     "--data-dir DIR --connect HOST:PORT"},
    {"nokey", probe_mode_nokey, PROBE_O_CONNECT, PROBE_O_CONNECT | PROBE_O_DUMP,
     "--connect HOST:PORT [--dump FILE]"},
    {"cert", probe_mode_cert, PROBE_DC | PROBE_O_ORG,
     PROBE_DC | PROBE_O_ORG | PROBE_O_NOT_BEFORE | PROBE_O_NOT_AFTER |
	 PROBE_O_BREAK_SIG,
     "--data-dir DIR --connect HOST:PORT --org ORG.key\n"
     "             [--not-before UNIX] [--not-after UNIX] [--break-sig]"},
    {"replay1", probe_mode_replay1, PROBE_DC, PROBE_DC,
     "--data-dir DIR --connect HOST:PORT"},
    {"replay3", probe_mode_replay3, PROBE_DC, PROBE_DC,
     "--data-dir DIR --connect HOST:PORT"},
    {"flipbit", probe_mode_flipbit, PROBE_DC, PROBE_DC | PROBE_O_BYTE,
     "--data-dir DIR --connect HOST:PORT [--byte N]"},
    {"biglen", probe_mode_biglen, PROBE_DC, PROBE_DC,
     "--data-dir DIR --connect HOST:PORT"},
    {"halfopen", probe_mode_halfopen, PROBE_O_CONNECT | PROBE_O_COUNT,
     PROBE_O_CONNECT | PROBE_O_COUNT | PROBE_O_BIND | PROBE_O_HOLD,
     "--connect HOST:PORT --count N [--bind IP] [--hold SECONDS]"},
    {"slowreader", probe_mode_slowreader, PROBE_DC, PROBE_DC | PROBE_O_SECONDS,
     "--data-dir DIR --connect HOST:PORT [--seconds S]"},
    {"gossip", probe_mode_gossip, PROBE_DC | PROBE_O_VICTIM_KEY,
     PROBE_DC | PROBE_O_VICTIM_KEY | PROBE_O_FLOOD | PROBE_O_SECONDS |
	 PROBE_O_HOLD | PROBE_O_COUNT,
     "--data-dir DIR --connect HOST:PORT --victim-key HEX64\n"
     "             [--flood N] [--hold S] [--seconds S] [--count PER_S]"},
    {"qopen", probe_mode_qopen, PROBE_DC | PROBE_O_PRODUCT,
     PROBE_DC | PROBE_O_PRODUCT | PROBE_O_DUMP | PROBE_O_COUNT,
     "--data-dir DIR --connect HOST:PORT "
     "--product NAME [--dump TRACE [--count N]]"},
};

#define PROBE_NMODES (sizeof(probe_modes) / sizeof(probe_modes[0]))

static void
probe_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: weft-probe MODE [OPTIONS] [--timeout SECONDS]\n\n"
		   "A hostile test client for weft agent; prints one line of "
		   "JSON.\n\nModes:\n");
	for (i = 0; i < PROBE_NMODES; i++)
		fprintf(f, "  %-10s %s\n", probe_modes[i].name,
			probe_modes[i].args);
	fprintf(f, "\n--timeout bounds every wait (default 5 s). Exit: 0 ran, "
		   "1 local failure, 2 usage.\n");
}

/* Seconds (a non-negative decimal) to milliseconds. */
static int
probe_parse_secs(const char *opt, const char *s, uint64_t *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != 0 || !(v >= 0) || v > 1e7) {
		fprintf(stderr, "weft-probe: %s %s: expected seconds\n", opt,
			s);
		return -1;
	}
	*ms = (uint64_t)(v * 1000.0 + 0.5);
	return 0;
}

static int
probe_parse_int(const char *opt, const char *s, long long lo, long long hi,
		long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != 0 || v < lo || v > hi) {
		fprintf(stderr,
			"weft-probe: %s %s: expected an integer from "
			"%lld to %lld\n",
			opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* Parse argv (after the mode) into *o. 0 or -1 (usage message printed). */
/* A node key as hex, for an option. */
static int
probe_parse_key(const char *opt, const char *s, uint8_t key[WEFT_PK_BYTES])
{
	if (strlen(s) != 2 * WEFT_PK_BYTES ||
	    sodium_hex2bin(key, WEFT_PK_BYTES, s, strlen(s), NULL, NULL,
			   NULL) != 0) {
		fprintf(stderr, "weft-probe: %s %s: expected %d hex digits\n",
			opt, s, 2 * WEFT_PK_BYTES);
		return -1;
	}
	return 0;
}

static int
probe_parse(int argc, char **argv, probe_opts_t *o)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"connect", required_argument, NULL, 'c'},
	    {"timeout", required_argument, NULL, 't'},
	    {"dump", required_argument, NULL, 'D'},
	    {"org", required_argument, NULL, 'o'},
	    {"not-before", required_argument, NULL, 'b'},
	    {"not-after", required_argument, NULL, 'a'},
	    {"break-sig", no_argument, NULL, 'S'},
	    {"count", required_argument, NULL, 'n'},
	    {"bind", required_argument, NULL, 'B'},
	    {"hold", required_argument, NULL, 'H'},
	    {"seconds", required_argument, NULL, 's'},
	    {"byte", required_argument, NULL, 'y'},
	    {"victim-key", required_argument, NULL, 'V'},
	    {"flood", required_argument, NULL, 'F'},
	    {"product", required_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	long long v;
	int c;

	opterr = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->data_dir = optarg;
			o->seen |= PROBE_O_DATA_DIR;
			break;
		case 'c':
			o->connect = optarg;
			o->seen |= PROBE_O_CONNECT;
			break;
		case 't':
			if (probe_parse_secs("--timeout", optarg,
					     &o->timeout_ms))
				return -1;
			o->seen |= PROBE_O_TIMEOUT;
			break;
		case 'D':
			o->dump = optarg;
			o->seen |= PROBE_O_DUMP;
			break;
		case 'o':
			o->org = optarg;
			o->seen |= PROBE_O_ORG;
			break;
		case 'b':
		case 'a':
			if (probe_parse_int(
				c == 'b' ? "--not-before" : "--not-after",
				optarg, INT64_MIN / 2, INT64_MAX / 2, &v))
				return -1;
			if (c == 'b')
				o->not_before = v;
			else
				o->not_after = v;
			o->seen |=
			    c == 'b' ? PROBE_O_NOT_BEFORE : PROBE_O_NOT_AFTER;
			break;
		case 'S':
			o->break_sig = 1;
			o->seen |= PROBE_O_BREAK_SIG;
			break;
		case 'n':
			if (probe_parse_int("--count", optarg, 1,
					    (long long)PROBE_COUNT_MAX, &v))
				return -1;
			o->count = (unsigned long)v;
			o->seen |= PROBE_O_COUNT;
			break;
		case 'B':
			o->bind = optarg;
			o->seen |= PROBE_O_BIND;
			break;
		case 'H':
			if (probe_parse_secs("--hold", optarg, &o->hold_ms))
				return -1;
			o->seen |= PROBE_O_HOLD;
			break;
		case 's':
			if (probe_parse_secs("--seconds", optarg,
					     &o->seconds_ms))
				return -1;
			o->seen |= PROBE_O_SECONDS;
			break;
		case 'y':
			if (probe_parse_int("--byte", optarg, 0, 1 << 20, &v))
				return -1;
			o->flip_byte = (size_t)v;
			o->seen |= PROBE_O_BYTE;
			break;
		case 'V':
			if (probe_parse_key("--victim-key", optarg,
					    o->victim_key))
				return -1;
			o->seen |= PROBE_O_VICTIM_KEY;
			break;
		case 'F':
			if (probe_parse_int("--flood", optarg, 0,
					    (long long)PROBE_COUNT_MAX, &v))
				return -1;
			o->flood = (unsigned long)v;
			o->seen |= PROBE_O_FLOOD;
			break;
		case 'P':
			o->product = optarg;
			o->seen |= PROBE_O_PRODUCT;
			break;
		case 'h': probe_usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "weft-probe: unexpected argument %s\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	probe_opts_t o;
	const probe_mode_t *m = NULL;
	unsigned missing, extra;
	size_t i;

	if (argc < 2) {
		probe_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		probe_usage(stdout);
		return 0;
	}
	for (i = 0; i < PROBE_NMODES; i++)
		if (strcmp(argv[1], probe_modes[i].name) == 0)
			m = &probe_modes[i];
	if (m == NULL) {
		fprintf(stderr, "weft-probe: unknown mode %s\n", argv[1]);
		probe_usage(stderr);
		return 2;
	}
	memset(&o, 0, sizeof(o));
	o.mode = m->name;
	o.timeout_ms = 5000;
	o.hold_ms = 15000;
	o.seconds_ms = 8000;
	o.flip_byte = 30;
	if (probe_parse(argc - 1, argv + 1, &o) != 0)
		goto usage;
	missing = m->required & ~o.seen;
	extra = o.seen & ~(m->allowed | PROBE_O_TIMEOUT);
	for (i = 0; i < PROBE_NOPTS; i++) {
		if (missing & (1u << i))
			fprintf(stderr, "weft-probe: %s: --%s is required\n",
				m->name, probe_opt_names[i]);
		if (extra & (1u << i))
			fprintf(stderr,
				"weft-probe: %s: --%s does not apply "
				"to this mode\n",
				m->name, probe_opt_names[i]);
	}
	if (missing || extra)
		goto usage;
	if (o.timeout_ms == 0) {
		fprintf(stderr, "weft-probe: --timeout must be positive\n");
		goto usage;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "weft-probe: libsodium failed to initialise\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	return m->fn(&o);
usage:
	fprintf(stderr, "usage: weft-probe %s %s [--timeout SECONDS]\n",
		m->name, m->args);
	return 2;
}
