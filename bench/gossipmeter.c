/*
 * bench/gossipmeter.c: timestamps and byte counts for the gossip
 * benchmarks (bench/gossip_serf.sh; the weft side can use the same modes).
 * libc only. Every time is CLOCK_MONOTONIC in nanoseconds, one clock for
 * every process on the machine.
 *
 *   gossipmeter now
 *       prints the time.
 *   gossipmeter stamp FILE [LABEL]
 *       appends "LABEL TIME\n" to FILE in one write (O_APPEND); LABEL
 *       defaults to $SERF_USER_EVENT, else "-". Meant as an event hook:
 *       the time is taken first thing after exec.
 *   gossipmeter exec FILE COMMAND [ARG...]
 *       writes "TIME\n" to FILE, then execs COMMAND: the time just before
 *       a command starts, with no fork in between.
 *   gossipmeter lo-up
 *       brings the interface lo up (what `ip link set lo up` does), for a
 *       fresh network namespace; needs CAP_NET_ADMIN there.
 *   gossipmeter lo-bytes
 *       prints lo's transmit bytes and packets (/proc/net/dev).
 *   gossipmeter sniff FILE LO HI
 *       logs every IP packet that lo sends (AF_PACKET; needs CAP_NET_RAW)
 *       until SIGTERM, one line each: "TIME LEN PROTO IN SPORT DPORT",
 *       LEN the IP packet's length, headers included (what lo's tx_bytes
 *       adds), PROTO u (UDP), t (TCP) or o (ports 0), IN 1 when its
 *       source or destination port is in [LO, HI]. Lines "# TIME" mark
 *       that it was running then (after 50 ms without a packet, and at
 *       the start). Fails if the kernel dropped packets.
 *   gossipmeter window FILE T0 T1
 *       sums a sniff log over [T0, T1): "bytes=B packets=P udp_bytes=..
 *       udp_packets=.. tcp_bytes=.. tcp_packets=.. other_bytes=..
 *       other_packets=.. seconds=S", where bytes, packets, udp_* and tcp_*
 *       count packets with a port in range and other_* the rest. Fails
 *       unless the log covers the window.
 *
 * lo sends each packet once (and receives it once), so in a network
 * namespace that holds only the agents under test, the packets it sends
 * with a port in the agents' range are every byte the agents sent each
 * other; RPC and command-line traffic on other ports is left out.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
die(const char *what)
{
	fprintf(stderr, "gossipmeter: %s: %s\n", what, strerror(errno));
	return 1;
}

static int
append(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return die(path);
	if (write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return die(path);
	}
	return close(fd) == 0 ? 0 : die(path);
}

/* Reads the whole of a /proc file into buf; returns its length or -1. */
static ssize_t
slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* lo's transmit counters (bytes, packets) from /proc/net/dev. */
static int
lo_counters(long long *bytes, long long *packets)
{
	static char dev[65536];
	const char *p;

	if (slurp("/proc/net/dev", dev, sizeof(dev)) < 0)
		return -1;
	/* "    lo: rxb rxp errs drop fifo frame compr mcast txb txp ..." */
	for (p = dev; (p = strstr(p, "lo:")) != NULL; p += 3) {
		long long v[10];

		if (p != dev && p[-1] != ' ' && p[-1] != '\n')
			continue;
		if (sscanf(p + 3,
			   "%lld %lld %lld %lld %lld %lld %lld %lld "
			   "%lld %lld",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7], &v[8], &v[9]) != 10)
			break;
		*bytes = v[8];
		*packets = v[9];
		return 0;
	}
	errno = ENODEV;
	return -1;
}

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Writes "# TIME" to a sniff log. */
static int
mark(int fd)
{
	char line[40];
	int len = snprintf(line, sizeof(line), "# %" PRId64 "\n", now_ns());

	return write(fd, line, (size_t)len) == len ? 0 : -1;
}

/*
 * sniff: every IPv4 or IPv6 packet that lo sends, seen once (the copy
 * marked PACKET_OUTGOING; lo hands each packet back as received too),
 * logged as "TIME LEN PROTO IN SPORT DPORT" where LEN is the IP packet's
 * length (what lo's tx_bytes adds), PROTO is u (UDP), t (TCP) or o
 * (other), and IN is 1 when the source or destination port is in [LO,
 * HI], else 0.
 */
static int
sniff(const char *path, long lo, long hi)
{
	static unsigned char pkt[256];
	struct sockaddr_ll sll;
	struct sigaction sa;
	struct tpacket_stats st = {0, 0};
	socklen_t sl;
	int s, fd, rcvbuf = 8 << 20;
	unsigned idx;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: recvfrom returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	idx = if_nametoindex("lo");
	if (idx == 0)
		return die("lo");
	s = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (s < 0)
		return die("socket(AF_PACKET)");
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		return die("bind lo");
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return die(path);
	/* A mark at least every 50 ms without packets; the first one says
	 * that the capture is running. */
	{
		struct timeval tv = {0, 50000};

		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (mark(fd) != 0)
		return die(path);
	while (!stop) {
		struct sockaddr_ll from;
		char line[96];
		ssize_t n;
		size_t ihl, len;
		int proto, in = 0, llen;
		const unsigned char *l4;
		long sp, dp;
		char pc;

		sl = sizeof(from);
		/* MSG_TRUNC: the packet's real length, however little fits. */
		n = recvfrom(s, pkt, sizeof(pkt), MSG_TRUNC,
			     (struct sockaddr *)&from, &sl);
		if (n < 0) {
			if (errno != EINTR && errno != EAGAIN)
				return die("recvfrom");
			if (mark(fd) != 0)
				return die(path);
			continue;
		}
		if (from.sll_pkttype != PACKET_OUTGOING || n < 20)
			continue;
		if ((pkt[0] >> 4) == 4) {
			ihl = (size_t)(pkt[0] & 15) * 4;
			proto = pkt[9];
		} else if ((pkt[0] >> 4) == 6 && n >= 40) {
			ihl = 40;
			proto = pkt[6];
		} else {
			continue;
		}
		len = (size_t)n;
		pc = proto == IPPROTO_UDP   ? 'u'
		     : proto == IPPROTO_TCP ? 't'
					    : 'o';
		l4 = pkt + ihl;
		sp = dp = 0;
		if (pc != 'o' && ihl + 4 <= sizeof(pkt)) {
			sp = l4[0] << 8 | l4[1];
			dp = l4[2] << 8 | l4[3];
			in = (sp >= lo && sp <= hi) || (dp >= lo && dp <= hi);
		}
		llen = snprintf(line, sizeof(line),
				"%" PRId64 " %zu %c %d %ld "
				"%ld\n",
				now_ns(), len, pc, in, sp, dp);
		if (write(fd, line, (size_t)llen) != llen)
			return die(path);
	}
	sl = sizeof(st);
	if (getsockopt(s, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0 &&
	    st.tp_drops > 0)
		fprintf(stderr, "gossipmeter: the capture dropped %u packets\n",
			st.tp_drops);
	close(fd);
	close(s);
	return st.tp_drops > 0 ? 1 : 0;
}

/*
 * window: sums the sniff log's packets whose time is in [T0, T1): those
 * with a port in range by protocol, and those without. Fails unless the
 * log was written before T0 and has a packet at or after T1, or a stop
 * mark.
 */
static int
window(const char *path, double t0, double t1)
{
	FILE *f = fopen(path, "r");
	char line[128], pc;
	long long t, len;
	double b[3] = {0}, p[3] = {0}, out_b = 0, out_p = 0;
	int in, started = 0, covered = 0;

	if (f == NULL)
		return die(path);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#') {
			started = 1;
			if (sscanf(line + 1, "%lld", &t) == 1 && t >= t1) {
				covered = 1;
				break;
			}
			continue;
		}
		if (sscanf(line, "%lld %lld %c %d", &t, &len, &pc, &in) != 4)
			continue;
		if (t >= t1) {
			covered = 1;
			break;
		}
		if (t < t0)
			continue;
		if (!in) {
			out_b += (double)len;
			out_p++;
			continue;
		}
		int k = pc == 'u' ? 0 : pc == 't' ? 1 : 2;
		b[k] += (double)len;
		p[k]++;
	}
	fclose(f);
	if (!started || !covered || t1 < t0) {
		fprintf(stderr, "gossipmeter: %s does not cover [%.0f, %.0f]\n",
			path, t0, t1);
		return 1;
	}
	printf("bytes=%.0f packets=%.0f udp_bytes=%.0f udp_packets=%.0f "
	       "tcp_bytes=%.0f tcp_packets=%.0f other_bytes=%.0f "
	       "other_packets=%.0f seconds=%.6f\n",
	       b[0] + b[1] + b[2], p[0] + p[1] + p[2], b[0], p[0], b[1], p[1],
	       out_b + b[2], out_p + p[2], (t1 - t0) / 1e9);
	return 0;
}

static int
lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return die("socket");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		return die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
		return die("SIOCSIFFLAGS lo");
	close(s);
	return 0;
}

static int
usage(void)
{
	fputs("usage: gossipmeter now\n"
	      "       gossipmeter stamp FILE [LABEL]\n"
	      "       gossipmeter exec FILE COMMAND [ARG...]\n"
	      "       gossipmeter lo-up\n"
	      "       gossipmeter lo-bytes\n"
	      "       gossipmeter sniff FILE LO_PORT HI_PORT\n"
	      "       gossipmeter window FILE T0_NS T1_NS\n",
	      stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	int64_t t = now_ns();
	char buf[320];
	int len;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "now") == 0 && argc == 2) {
		printf("%" PRId64 "\n", t);
		return 0;
	}
	if (strcmp(argv[1], "stamp") == 0 && (argc == 3 || argc == 4)) {
		const char *label =
		    argc == 4 ? argv[3] : getenv("SERF_USER_EVENT");

		if (label == NULL || *label == '\0')
			label = "-";
		len = snprintf(buf, sizeof(buf), "%.200s %" PRId64 "\n", label,
			       t);
		return append(argv[2], buf, (size_t)len);
	}
	if (strcmp(argv[1], "exec") == 0 && argc >= 4) {
		len = snprintf(buf, sizeof(buf), "%" PRId64 "\n", now_ns());
		if (append(argv[2], buf, (size_t)len) != 0)
			return 1;
		execvp(argv[3], argv + 3);
		return die(argv[3]);
	}
	if (strcmp(argv[1], "lo-up") == 0 && argc == 2)
		return lo_up();
	if (strcmp(argv[1], "lo-bytes") == 0 && argc == 2) {
		long long b, p;

		if (lo_counters(&b, &p) != 0)
			return die("/proc/net/dev");
		printf("%lld %lld\n", b, p);
		return 0;
	}
	if (strcmp(argv[1], "sniff") == 0 && argc == 5)
		return sniff(argv[2], strtol(argv[3], NULL, 10),
			     strtol(argv[4], NULL, 10));
	if (strcmp(argv[1], "window") == 0 && argc == 5)
		return window(argv[2], strtod(argv[3], NULL),
			      strtod(argv[4], NULL));
	return usage();
}
