/*
 * bench/netbench.c: weft-netbench, the network micro-benchmarks behind
 * bench/session.sh (docs/bench.md, "Sessions").
 *
 *   weft-netbench aead      [--frame BYTES] [--mb N] [--parallel P]
 *   weft-netbench tcp       [--frame BYTES] [--mb N]
 *   weft-netbench sealed    [--frame BYTES] [--mb N]
 *   weft-netbench handshake --data-dir A --peer-dir B [--n N]
 *   weft-netbench handshake --data-dir A --connect HOST:PORT [--n N]
 *   weft-netbench session   --data-dir A --connect HOST:PORT
 *                           [--frame BYTES] [--mb N]
 *
 * Each run prints one result line of KEY=VALUE fields (or, with --json, one
 * JSON object) on stdout. Any error is reported on stderr and ends the run
 * with exit status 1 (2 for a usage error). Throughputs are payload bytes
 * / 2^20 / second (MiB/s), timed with CLOCK_MONOTONIC.
 *
 * - aead: libsodium's crypto_aead_xchacha20poly1305_ietf_encrypt over
 *   frames of BYTES, one core, reused buffers, a fresh nonce per frame:
 *   the cost floor of the frame layer, which makes the same call per frame.
 *   With --parallel P, P processes do so at once: what one core gets while
 *   the others are busy too (on a VM, cores may share a physical core).
 * - tcp: plain TCP over 127.0.0.1 to a forked receiver that reads and
 *   discards, then acknowledges with one byte: the transport's ceiling.
 * - sealed: the same, each frame encrypted as in aead before it is written
 *   and opened by the receiver: the ceiling of any one-sender,
 *   one-receiver design on this transport, with no session core at all.
 * - handshake: full session handshakes (node/session.h) between two node
 *   identities, in this process (both sides' work on one core), or
 *   sequentially over TCP against a running `weft agent`, one connection
 *   each.
 * - session: one session to a running agent; Bulk messages of BYTES until
 *   N MiB are sent, then an empty Bulk, which the agent answers with an
 *   empty Bulk once it has processed everything before it. Also reports
 *   the bytes written on the socket (handshake included) and this
 *   sender's CPU time, which shows whether the sender or the agent limits.
 *
 * This is a driver of the sans-IO session core like node/agent.c, but with
 * blocking sockets: it feeds received bytes to weft_sess_input, writes what
 * weft_sess_take hands over and reports it with weft_sess_written.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/frame.h"
#include "crypto/handshake.h"
#include "lib/err.h"
#include "lib/version.h"
#include "node/session.h"
#include "storage/nodedir.h"
#include "storage/store.h"
#include "weft.pb-c.h"

#define NB_MIB (1024.0 * 1024.0)
#define NB_READ_BUF (256 * 1024)
#define NB_HS_TIMEOUT_S 10 /* per handshake over TCP */

typedef struct nb_opts {
	const char *mode;
	size_t frame;
	uint64_t mb;
	uint64_t n;
	uint64_t parallel;
	const char *data_dir;
	const char *peer_dir;
	const char *connect;
	int json;
} nb_opts_t;

/* A node identity as a session needs it (see nb_node_load). */
typedef struct nb_node {
	weft_node_id_t id;
	uint8_t netkey[WEFT_HS_KEY_BYTES];
	weft_pubkey_t *roots;
	weft_trust_t trust;
} nb_node_t;

static void nb_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
nb_die(const char *fmt, ...)
{
	va_list ap;

	fputs("weft-netbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
nb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time (user + system) this process has used, in seconds. */
static double
nb_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t
nb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- Output ------------------------------------------------------------ */

/*
 * Print the result line: "mode=M k=v ..." or {"mode":"M","k":v,...}. The
 * fields come as (key, printf format, double) triples ending with NULL;
 * every value is numeric.
 */
static void
nb_result(const nb_opts_t *o, const char *label, ...)
{
	va_list ap;
	const char *key;

	if (o->json)
		printf("{\"mode\":\"%s\"", label);
	else
		printf("mode=%s", label);
	va_start(ap, label);
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *fmt = va_arg(ap, const char *);
		double v = va_arg(ap, double);

		printf(o->json ? ",\"%s\":" : " %s=", key);
		printf(fmt, v);
	}
	va_end(ap);
	printf(o->json ? "}\n" : "\n");
	if (fflush(stdout) != 0)
		nb_die("writing the result: %s", strerror(errno));
}

/* ---- Sockets ----------------------------------------------------------- */

static void
nb_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			nb_die("write: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* Read some bytes; 0 means the peer closed the connection. */
static size_t
nb_read(int fd, uint8_t *buf, size_t cap)
{
	for (;;) {
		ssize_t r = read(fd, buf, cap);

		if (r >= 0)
			return (size_t)r;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			nb_die("read: no answer within %d s", NB_HS_TIMEOUT_S);
		nb_die("read: %s", strerror(errno));
	}
}

static void
nb_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		nb_die("setsockopt TCP_NODELAY: %s", strerror(errno));
}

/*
 * Resolve HOST:PORT ([V6]:PORT for IPv6) into *ss. Numeric or named
 * hosts; the first address returned is used.
 */
static void
nb_resolve(const char *hostport, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	const char *h = hostport;
	size_t hl;
	struct addrinfo hints, *ai = NULL;
	int rc;

	if (colon == NULL || colon[1] == '\0')
		nb_die("--connect %s: want HOST:PORT", hostport);
	hl = (size_t)(colon - hostport);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		nb_die("--connect %s: want HOST:PORT", hostport);
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0)
		nb_die("--connect %s: %s", hostport, gai_strerror(rc));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

/* A blocking TCP connection to addr with TCP_NODELAY, and reads that give
 * up after timeout_s seconds (0: never). */
static int
nb_connect(const struct sockaddr_storage *ss, socklen_t len, const char *what,
	   int timeout_s)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		nb_die("socket: %s", strerror(errno));
	if (connect(fd, (const struct sockaddr *)ss, len) != 0)
		nb_die("connect %s: %s", what, strerror(errno));
	nb_nodelay(fd);
	if (timeout_s > 0) {
		struct timeval tv = {.tv_sec = timeout_s};

		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) !=
		    0)
			nb_die("setsockopt SO_RCVTIMEO: %s", strerror(errno));
	}
	return fd;
}

/* ---- aead -------------------------------------------------------------- */

/* Frame i's nonce: a counter, as the frame layer builds them. */
static void
nb_nonce(uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES],
	 uint64_t i)
{
	memset(nonce, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	memcpy(nonce, &i, sizeof(i));
}

/*
 * Encrypt frames totalling o->mb MiB (rounded up to whole frames) after an
 * untimed warm-up, waiting on go_fd (if >= 0) to start; returns the
 * seconds the timed part took and sets *bytes.
 */
static double
nb_aead_run(const nb_opts_t *o, int go_fd, uint64_t *bytes)
{
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint64_t total = o->mb * 1024 * 1024;
	uint64_t frames = (total + o->frame - 1) / o->frame, i;
	uint8_t *pt = malloc(o->frame);
	uint8_t *ct =
	    malloc(o->frame + crypto_aead_xchacha20poly1305_ietf_ABYTES);
	unsigned long long ctlen;
	double t0, secs;
	uint8_t go;

	if (pt == NULL || ct == NULL)
		nb_die("out of memory for a %zu-byte frame", o->frame);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(pt, o->frame);
	memset(nonce, 0, sizeof(nonce));
	/* Warm the buffers and the code up, untimed. */
	for (i = 0; i < 4; i++)
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		    ct, &ctlen, pt, o->frame, NULL, 0, NULL, nonce, key);
	/* The parent closes the pipe's write end: all start together. */
	if (go_fd >= 0 && read(go_fd, &go, 1) < 0)
		nb_die("aead: waiting to start: %s", strerror(errno));
	t0 = nb_now();
	for (i = 0; i < frames; i++) {
		nb_nonce(nonce, i);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		    ct, &ctlen, pt, o->frame, NULL, 0, NULL, nonce, key);
	}
	secs = nb_now() - t0;
	sodium_memzero(key, sizeof(key));
	free(pt);
	free(ct);
	*bytes = frames * o->frame;
	return secs;
}

/*
 * o->parallel processes encrypting at once, each the same amount, each
 * reporting its seconds through a pipe. Sets *bytes (per process), *secs
 * (the slowest) and returns the sum of their throughputs in MiB/s.
 */
static double
nb_aead_parallel(const nb_opts_t *o, uint64_t *bytes, double *secs)
{
	int go[2], res[2], status;
	double sum = 0, one;
	uint64_t p;

	if (pipe(go) != 0 || pipe(res) != 0)
		nb_die("pipe: %s", strerror(errno));
	for (p = 0; p < o->parallel; p++) {
		pid_t pid = fork();

		if (pid < 0)
			nb_die("fork: %s", strerror(errno));
		if (pid == 0) {
			close(go[1]);
			close(res[0]);
			one = nb_aead_run(o, go[0], bytes);
			nb_write_all(res[1], (const uint8_t *)&one,
				     sizeof(one));
			_exit(0);
		}
	}
	close(go[0]);
	close(res[1]);
	close(go[1]); /* start */
	*bytes = ((o->mb * 1024 * 1024 + o->frame - 1) / o->frame) * o->frame;
	*secs = 0;
	for (p = 0; p < o->parallel; p++) {
		size_t got = 0;

		while (got < sizeof(one)) {
			size_t r = nb_read(res[0], (uint8_t *)&one + got,
					   sizeof(one) - got);

			if (r == 0)
				nb_die("aead: a worker process failed");
			got += r;
		}
		sum += (double)*bytes / NB_MIB / one;
		if (one > *secs)
			*secs = one;
	}
	close(res[0]);
	for (p = 0; p < o->parallel; p++)
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			nb_die("aead: a worker process failed");
	return sum;
}

/*
 * One process, or o->parallel at once: the result is the mean throughput
 * of one process (mib_per_s) and the sum over all (total_mib_per_s).
 */
static int
nb_aead(const nb_opts_t *o)
{
	uint64_t bytes = 0;
	double secs, sum;

	if (o->parallel == 1) {
		secs = nb_aead_run(o, -1, &bytes);
		sum = (double)bytes / NB_MIB / secs;
	} else {
		sum = nb_aead_parallel(o, &bytes, &secs);
	}
	nb_result(o, "aead", "frame", "%.0f", (double)o->frame, "bytes", "%.0f",
		  (double)bytes, "parallel", "%.0f", (double)o->parallel,
		  "seconds", "%.6f", secs, "mib_per_s", "%.1f",
		  sum / (double)o->parallel, "total_mib_per_s", "%.1f", sum,
		  (const char *)NULL);
	return 0;
}

/* ---- tcp --------------------------------------------------------------- */

/*
 * The receiver: accept one connection, read total payload bytes, answer 1
 * byte. With a key (sealed), the bytes come as frames of o->frame bytes
 * (the last maybe shorter) plus a tag each, read one frame at a time and
 * opened in place.
 */
static void
nb_tcp_receiver(const nb_opts_t *o, int lfd, uint64_t total, const uint8_t *key)
{
	const size_t tag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t *buf = malloc(key ? o->frame + tag : NB_READ_BUF), ack = 1;
	uint64_t got = 0, i = 0;
	int fd = accept(lfd, NULL, NULL);

	if (buf == NULL)
		nb_die("tcp receiver: out of memory");
	if (fd < 0)
		nb_die("tcp receiver: accept: %s", strerror(errno));
	while (got < total) {
		size_t want = NB_READ_BUF, have = 0, r;

		if (key != NULL)
			want = (total - got < o->frame ? (size_t)(total - got)
						       : o->frame) +
			       tag;
		do {
			r = nb_read(fd, buf + have, want - have);
			if (r == 0)
				nb_die("tcp receiver: connection closed after "
				       "%llu of %llu bytes",
				       (unsigned long long)got,
				       (unsigned long long)total);
			have += r;
		} while (key != NULL && have < want);
		if (key != NULL) {
			nb_nonce(nonce, i++);
			if (crypto_aead_xchacha20poly1305_ietf_decrypt(
				buf, NULL, NULL, buf, have, NULL, 0, nonce,
				key) != 0)
				nb_die("tcp receiver: frame %llu does not "
				       "open",
				       (unsigned long long)i - 1);
			have -= tag;
		}
		got += have;
	}
	nb_write_all(fd, &ack, 1);
	close(fd);
	free(buf);
}

/*
 * Plain TCP, or with sealed set, the bare sealed stream: each frame
 * encrypted (as in nb_aead) before it is written and opened by the
 * receiver, with no session core, no protobuf and no allocation per frame.
 */
static int
nb_tcp(const nb_opts_t *o, int sealed)
{
	const size_t tag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	uint64_t total = o->mb * 1024 * 1024, sent = 0, i = 0;
	uint8_t *buf, *ct, ack;
	unsigned long long ctlen;
	int lfd, fd, status;
	pid_t pid, parent;
	double t0, secs;

	randombytes_buf(key, sizeof(key));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		nb_die("socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
		nb_die("listen on 127.0.0.1: %s", strerror(errno));
	parent = getpid();
	pid = fork();
	if (pid < 0)
		nb_die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* Die with the sender, should it fail before connecting. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
		    getppid() != parent)
			_exit(1);
		nb_tcp_receiver(o, lfd, total, sealed ? key : NULL);
		_exit(0);
	}
	close(lfd);
	buf = malloc(o->frame);
	ct = malloc(o->frame + tag);
	if (buf == NULL || ct == NULL)
		nb_die("out of memory for a %zu-byte frame", o->frame);
	memset(buf, 0x5a, o->frame);

	t0 = nb_now();
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		nb_die("connect 127.0.0.1:%u: %s", ntohs(sa.sin_port),
		       strerror(errno));
	nb_nodelay(fd);
	while (sent < total) {
		size_t n =
		    total - sent < o->frame ? (size_t)(total - sent) : o->frame;

		if (sealed) {
			nb_nonce(nonce, i++);
			crypto_aead_xchacha20poly1305_ietf_encrypt(
			    ct, &ctlen, buf, n, NULL, 0, NULL, nonce, key);
			nb_write_all(fd, ct, (size_t)ctlen);
		} else {
			nb_write_all(fd, buf, n);
		}
		sent += n;
	}
	if (nb_read(fd, &ack, 1) != 1)
		nb_die("tcp: the receiver closed without acknowledging");
	secs = nb_now() - t0;
	close(fd);
	free(buf);
	free(ct);
	sodium_memzero(key, sizeof(key));
	if (waitpid(pid, &status, 0) < 0)
		nb_die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		nb_die("tcp: the receiver failed");
	nb_result(o, sealed ? "sealed" : "tcp", "frame", "%.0f",
		  (double)o->frame, "bytes", "%.0f", (double)total, "seconds",
		  "%.6f", secs, "mib_per_s", "%.1f",
		  (double)total / NB_MIB / secs, (const char *)NULL);
	return 0;
}

/* ---- Node identities and sessions -------------------------------------- */

/* Load DIR's node key and certificate, the mesh network key and the
 * trusted roots. The store is closed again; nothing stays open. */
static void
nb_node_load(const char *dir, nb_node_t *n)
{
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	size_t nroots = 0;

	memset(n, 0, sizeof(*n));
	if (weft_nodedir_id_load(dir, &n->id, &err) != 0 ||
	    weft_store_open(dir, NULL, &st, &err) != 0 ||
	    weft_nodedir_netkey(st, n->netkey, &err) != 0)
		nb_die("%s: cannot load the node: %s", dir, err.msg);
	if (weft_store_trust_list(st, &n->roots, &nroots, &err) != 0)
		nb_die("%s: trusted roots: %s", dir, err.msg);
	weft_store_close(st);
	n->trust.roots = n->roots;
	n->trust.n = nroots;
}

static void
nb_node_free(nb_node_t *n)
{
	weft_nodedir_id_free(&n->id);
	free(n->roots);
	sodium_memzero(n->netkey, sizeof(n->netkey));
}

static weft_sess_t *
nb_sess_new(const nb_node_t *n, weft_hs_role_t role, weft_hs_replay_t *replay)
{
	weft_sess_cfg_t cfg;
	weft_sess_t *s = NULL;
	weft_err_t err = {0};
	uint8_t seed[WEFT_HS_SEED_BYTES];
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.role = role;
	cfg.me = n->id.kp;
	cfg.cert = n->id.cert;
	cfg.cert_len = n->id.cert_len;
	cfg.network_key = n->netkey;
	cfg.trust = &n->trust;
	cfg.replay = replay;
	cfg.version = WEFT_VERSION;
	randombytes_buf(seed, sizeof(seed));
	rc = weft_sess_new(&s, &cfg, nb_now_ms(), (int64_t)time(NULL), seed,
			   &err);
	sodium_memzero(seed, sizeof(seed));
	if (rc != 0)
		nb_die("session: %s", err.msg[0] ? err.msg : weft_strerror(rc));
	return s;
}

/* What nb_feed saw in the bytes it fed. */
typedef struct nb_seen {
	int up;	   /* WEFT_SESS_UP */
	int bulks; /* Bulk messages */
} nb_seen_t;

/* Feed all of in to s, noting what it reports in *seen. */
static void
nb_feed(weft_sess_t *s, const uint8_t *in, size_t len, nb_seen_t *seen)
{
	while (len > 0) {
		Weft__WireMessage *msg = NULL;
		weft_err_t err = {0};
		size_t used = 0;
		int rc =
		    weft_sess_input(s, nb_now_ms(), in, len, &used, &msg, &err);

		if (rc < 0)
			nb_die("session: %s",
			       err.msg[0] ? err.msg : weft_strerror(rc));
		if (rc == WEFT_SESS_UP)
			seen->up = 1;
		else if (rc == WEFT_SESS_MSG && msg != NULL &&
			 msg->msg_case == WEFT__WIRE_MESSAGE__MSG_BULK)
			seen->bulks++;
		else if (rc == WEFT_SESS_CLOSED)
			nb_die("session: the peer closed the session");
		in += used;
		len -= used;
	}
}

/* Run s's timers if due (keepalives); a failure is fatal. */
static void
nb_tick(weft_sess_t *s)
{
	uint64_t now = nb_now_ms();
	weft_err_t err = {0};
	int rc;

	if (weft_sess_next_timer(s) > now)
		return;
	rc = weft_sess_tick(s, now, &err);
	if (rc < 0)
		nb_die("session: %s", err.msg[0] ? err.msg : weft_strerror(rc));
}

/* Write everything s has queued to fd (blocking). */
static void
nb_flush(weft_sess_t *s, int fd)
{
	weft_sess_buf_t b;

	while (weft_sess_take(s, &b) == 1) {
		nb_write_all(fd, b.data, b.len);
		weft_sess_written(s, nb_now_ms(), b.len);
		free(b.data);
	}
}

/* In this process: pass one side's output to the other side's input. */
static void
nb_shuttle(weft_sess_t *from, weft_sess_t *to, nb_seen_t *seen)
{
	weft_sess_buf_t b;

	while (weft_sess_take(from, &b) == 1) {
		weft_sess_written(from, nb_now_ms(), b.len);
		nb_feed(to, b.data, b.len, seen);
		free(b.data);
	}
}

/* Read from fd and feed s until *flag (a field of *seen) is set. */
static void
nb_read_until(weft_sess_t *s, int fd, uint8_t *buf, nb_seen_t *seen,
	      const int *flag, const char *what)
{
	static const char refused[] = " (the agent refused the handshake; "
				      "see its log)";

	while (!*flag) {
		size_t r;

		nb_tick(s);
		nb_flush(s, fd);
		r = nb_read(fd, buf, NB_READ_BUF);
		if (r == 0)
			nb_die("session: connection closed while waiting for "
			       "%s%s",
			       what, weft_sess_is_up(s) ? "" : refused);
		nb_feed(s, buf, r, seen);
	}
}

/* Close a session politely (Goodbye, CLOSE frame), then the socket. */
static void
nb_close(weft_sess_t *s, int fd)
{
	weft_sess_close(s, "benchmark done");
	nb_flush(s, fd);
	close(fd);
	weft_sess_free(s);
}

/* ---- handshake --------------------------------------------------------- */

/*
 * Both sides in this process: n times, a new initiator (A) and responder
 * (B, with a replay memory as a listener has), bytes shuttled between them
 * until both are up.
 */
static int
nb_handshake_local(const nb_opts_t *o)
{
	nb_node_t a, b;
	weft_hs_replay_t *replay = NULL;
	uint64_t i;
	double t0, secs;

	nb_node_load(o->data_dir, &a);
	nb_node_load(o->peer_dir, &b);
	if (weft_hs_replay_new(0, &replay) != 0)
		nb_die("out of memory");
	t0 = nb_now();
	for (i = 0; i < o->n; i++) {
		weft_sess_t *si = nb_sess_new(&a, WEFT_HS_INITIATOR, NULL);
		weft_sess_t *sr = nb_sess_new(&b, WEFT_HS_RESPONDER, replay);
		nb_seen_t ini = {0}, res = {0};
		int rounds = 0;

		while (!ini.up || !res.up) {
			if (++rounds > 8)
				nb_die("handshake %s <-> %s did not complete",
				       o->data_dir, o->peer_dir);
			nb_shuttle(si, sr, &res);
			nb_shuttle(sr, si, &ini);
		}
		weft_sess_free(si);
		weft_sess_free(sr);
	}
	secs = nb_now() - t0;
	weft_hs_replay_free(replay);
	nb_node_free(&a);
	nb_node_free(&b);
	nb_result(o, "handshake_local", "n", "%.0f", (double)o->n, "seconds",
		  "%.6f", secs, "per_s", "%.1f", (double)o->n / secs,
		  (const char *)NULL);
	return 0;
}

/*
 * Against an agent: n sequential connections, each done when the session
 * is up on our side (the agent's check of message 3 overlaps the next
 * connection), then closed with a Goodbye and a CLOSE frame.
 */
static int
nb_handshake_remote(const nb_opts_t *o)
{
	nb_node_t a;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t *buf = malloc(NB_READ_BUF);
	uint64_t i;
	double t0, secs;

	if (buf == NULL)
		nb_die("out of memory");
	nb_node_load(o->data_dir, &a);
	nb_resolve(o->connect, &ss, &sl);
	t0 = nb_now();
	for (i = 0; i < o->n; i++) {
		int fd = nb_connect(&ss, sl, o->connect, NB_HS_TIMEOUT_S);
		weft_sess_t *s = nb_sess_new(&a, WEFT_HS_INITIATOR, NULL);
		nb_seen_t seen = {0};

		nb_read_until(s, fd, buf, &seen, &seen.up, "the handshake");
		nb_close(s, fd);
	}
	secs = nb_now() - t0;
	nb_node_free(&a);
	free(buf);
	nb_result(o, "handshake_remote", "n", "%.0f", (double)o->n, "seconds",
		  "%.6f", secs, "per_s", "%.1f", (double)o->n / secs,
		  (const char *)NULL);
	return 0;
}

/* ---- session ----------------------------------------------------------- */

/* Queue msg, writing queued output first whenever the queue is full. */
static void
nb_send(weft_sess_t *s, int fd, const Weft__WireMessage *msg)
{
	for (;;) {
		weft_err_t err = {0};
		int rc = weft_sess_send(s, nb_now_ms(), msg, &err);

		if (rc == 0)
			return;
		if (rc != WEFT_EAGAIN || weft_sess_queued(s) == 0)
			nb_die("session: send: %s",
			       err.msg[0] ? err.msg : weft_strerror(rc));
		nb_flush(s, fd);
	}
}

static int
nb_session(const nb_opts_t *o)
{
	nb_node_t a;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint64_t total = o->mb * 1024 * 1024, sent = 0;
	uint8_t *buf = malloc(NB_READ_BUF), *data = malloc(o->frame);
	Weft__WireMessage msg = WEFT__WIRE_MESSAGE__INIT;
	Weft__Bulk bulk = WEFT__BULK__INIT;
	weft_sess_stats_t st;
	nb_seen_t seen = {0};
	weft_sess_t *s;
	double t0, c0, secs, cpu;
	int fd;

	if (buf == NULL || data == NULL)
		nb_die("out of memory for a %zu-byte frame", o->frame);
	randombytes_buf(data, o->frame);
	nb_node_load(o->data_dir, &a);
	nb_resolve(o->connect, &ss, &sl);
	fd = nb_connect(&ss, sl, o->connect, 0);
	s = nb_sess_new(&a, WEFT_HS_INITIATOR, NULL);
	nb_read_until(s, fd, buf, &seen, &seen.up, "the handshake");
	nb_flush(s, fd);

	msg.msg_case = WEFT__WIRE_MESSAGE__MSG_BULK;
	msg.bulk = &bulk;
	bulk.data.data = data;
	t0 = nb_now();
	c0 = nb_cpu();
	while (sent < total) {
		bulk.data.len =
		    total - sent < o->frame ? (size_t)(total - sent) : o->frame;
		nb_send(s, fd, &msg);
		nb_flush(s, fd);
		nb_tick(s);
		sent += bulk.data.len;
	}
	/* The flush marker: answered once the agent has taken all of it. */
	bulk.data.len = 0;
	nb_send(s, fd, &msg);
	nb_read_until(s, fd, buf, &seen, &seen.bulks, "the agent's answer");
	secs = nb_now() - t0;
	cpu = nb_cpu() - c0;
	weft_sess_stats(s, &st);
	nb_close(s, fd);
	nb_node_free(&a);
	free(buf);
	free(data);
	nb_result(o, "session", "frame", "%.0f", (double)o->frame, "bytes",
		  "%.0f", (double)total, "wire_bytes", "%.0f",
		  (double)st.bytes_out, "seconds", "%.6f", secs, "cpu_seconds",
		  "%.3f", cpu, "mib_per_s", "%.1f",
		  (double)total / NB_MIB / secs, (const char *)NULL);
	return 0;
}

/* ---- Command line ------------------------------------------------------ */

static void
nb_usage(FILE *f)
{
	fputs(
	    "usage: weft-netbench MODE [OPTIONS]\n\n"
	    "Network micro-benchmarks for weft sessions (docs/bench.md).\n"
	    "Prints one line of KEY=VALUE results (MiB/s = 2^20 bytes/s).\n\n"
	    "Modes:\n"
	    "  aead       XChaCha20-Poly1305 encryption of frames, one core\n"
	    "  tcp        plain TCP over 127.0.0.1 to a forked receiver\n"
	    "  sealed     the same, each frame sealed, then opened by the\n"
	    "             receiver (no session core)\n"
	    "  handshake  session handshakes: --peer-dir B in this process,\n"
	    "             or --connect HOST:PORT against a running weft agent\n"
	    "  session    bulk throughput of one session to a weft agent\n\n"
	    "Options:\n"
	    "  --frame BYTES      frame / Bulk payload size (aead, tcp,\n"
	    "                     sealed, session; default 262144)\n"
	    "  --mb N             MiB to move (default 1024)\n"
	    "  --n N              handshakes (default 1000)\n"
	    "  --parallel P       aead: P processes at once; prints the mean\n"
	    "                     of one (mib_per_s) and the sum\n"
	    "  --data-dir A       our node's data directory (weft init)\n"
	    "  --peer-dir B       the other node, same mesh (handshake)\n"
	    "  --connect H:P      a running agent (handshake, session)\n"
	    "  --json             print the result as one JSON object\n"
	    "  --help             this text\n",
	    f);
}

static uint64_t
nb_number(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min ||
	    v > max) {
		fprintf(stderr,
			"weft-netbench: --%s %s: want a whole number "
			"in [%llu, %llu]\n",
			opt, s, (unsigned long long)min,
			(unsigned long long)max);
		exit(2);
	}
	return (uint64_t)v;
}

static void
nb_parse(int argc, char **argv, nb_opts_t *o)
{
	static const struct option lo[] = {
	    {"frame", required_argument, NULL, 'f'},
	    {"mb", required_argument, NULL, 'm'},
	    {"n", required_argument, NULL, 'n'},
	    {"parallel", required_argument, NULL, 'P'},
	    {"data-dir", required_argument, NULL, 'd'},
	    {"peer-dir", required_argument, NULL, 'p'},
	    {"connect", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->frame = 262144;
	o->mb = 1024;
	o->n = 1000;
	o->parallel = 1;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		nb_usage(argc < 2 ? stderr : stdout);
		exit(argc < 2 ? 2 : 0);
	}
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			/* The Bulk must fit a frame with its few bytes of
			 * protobuf framing. */
			o->frame = (size_t)nb_number("frame", optarg, 1,
						     WEFT_FRAME_MAX - 64);
			break;
		case 'm': o->mb = nb_number("mb", optarg, 1, 1u << 20); break;
		case 'n': o->n = nb_number("n", optarg, 1, 100000000); break;
		case 'P':
			o->parallel = nb_number("parallel", optarg, 1, 256);
			break;
		case 'd': o->data_dir = optarg; break;
		case 'p': o->peer_dir = optarg; break;
		case 'c': o->connect = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': nb_usage(stdout); exit(0);
		default: nb_usage(stderr); exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "weft-netbench: unexpected argument '%s'\n",
			argv[optind]);
		exit(2);
	}
}

/* Print a usage error and exit 2. */
static void
nb_need(int ok, const char *mode, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "weft-netbench %s: %s (see --help)\n", mode, what);
	exit(2);
}

int
main(int argc, char **argv)
{
	nb_opts_t o;

	nb_parse(argc, argv, &o);
	if (sodium_init() < 0)
		nb_die("libsodium failed to initialise");
	/* A peer that goes away makes write() fail with EPIPE, reported. */
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(o.mode, "aead") == 0)
		return nb_aead(&o);
	if (strcmp(o.mode, "tcp") == 0)
		return nb_tcp(&o, 0);
	if (strcmp(o.mode, "sealed") == 0)
		return nb_tcp(&o, 1);
	if (strcmp(o.mode, "handshake") == 0) {
		nb_need(o.data_dir != NULL, o.mode, "--data-dir is required");
		nb_need((o.peer_dir != NULL) != (o.connect != NULL), o.mode,
			"give --peer-dir or --connect, not both");
		return o.peer_dir != NULL ? nb_handshake_local(&o)
					  : nb_handshake_remote(&o);
	}
	if (strcmp(o.mode, "session") == 0) {
		nb_need(o.data_dir != NULL && o.connect != NULL, o.mode,
			"--data-dir and --connect are required");
		return nb_session(&o);
	}
	fprintf(stderr, "weft-netbench: unknown mode '%s' (see --help)\n",
		o.mode);
	return 2;
}
