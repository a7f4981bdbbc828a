/*
 * cmd_agent.c: `weft agent` (run the node) and the commands that talk to
 * a running agent over its control socket: `weft status`, `weft peers`.
 *
 * Control protocol (DIR/agent.sock, mode 0600): one request per
 * connection; each direction is a 4-byte big-endian length and a
 * ControlRequest / ControlResponse (proto/weft.proto).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/util.h"
#include "agent/agent.h"
#include "cli/cli.h"
#include "weft.pb-c.h"

#define CTL_RESP_MAX (16u * 1024 * 1024)
#define CTL_IO_TIMEOUT_MS 10000

static const char weft_agent_usage[] =
    "usage: weft agent --data-dir DIR [--listen HOST:PORT] [--join HOST:PORT]...\n"
    "                  [--advertise HOST:PORT] [limits]\n\n"
    "Run the node: accept and dial authenticated, encrypted sessions with\n"
    "other nodes of the mesh (same network key, trusted orgs). Logs go to\n"
    "stderr. SIGINT or SIGTERM shut it down cleanly. `weft status` and\n"
    "`weft peers` ask a running agent through DIR/agent.sock.\n\n"
    "  --listen HOST:PORT      where to accept sessions (default\n"
    "                          127.0.0.1:7946; port 0 picks a free port)\n"
    "  --join HOST:PORT        a node to dial and keep dialling, with\n"
    "                          backoff from 0.5 s to --backoff-max\n"
    "                          (default 30s; repeatable)\n"
    "  --advertise HOST:PORT   the address peers are told (default: the\n"
    "                          bound listen address)\n"
    "limits (durations take ms, s or m; sizes K or M):\n"
    "  --handshake-timeout D   deadline for a handshake (default 10s)\n"
    "  --keepalive D           ping when idle this long (default 15s)\n"
    "  --idle-timeout D        close when nothing arrived this long (60s)\n"
    "  --stall-timeout D       close when the peer reads none of our queue\n"
    "                          this long (default 30s)\n"
    "  --max-queue SIZE        bytes queued per session before reading from\n"
    "                          it pauses (default 4M)\n"
    "  --max-conns N           connections in all (default 1024)\n"
    "  --max-per-addr N        connections per remote IP (default 256)\n"
    "  --max-pending-per-addr N  unfinished handshakes per remote IP\n"
    "                          (default 16)\n"
    "gossip (docs/gossip.md):\n"
    "  --gossip-interval D     gossip tick: neighbours, suspicion\n"
    "                          (default 1s)\n"
    "  --sync-interval D       anti-entropy with one neighbour (10s)\n"
    "  --link-delay D          hold every gossip message D before sending:\n"
    "                          WAN latency on one host, to compare with\n"
    "                          `weft sim --latency D` (off)\n"
    "  --suspect-timeout D     a lost neighbour not back by then is\n"
    "                          reported failed (default 3 intervals)\n"
    "  --degree N              neighbours to keep connected (default 4)\n";

/* "1500ms", "10s", "2m", "10" (seconds). 0 on error. */
static uint64_t
weft_parse_ms(const char *s)
{
	char *e;
	double v;

	errno = 0;
	v = strtod(s, &e);
	if (errno || e == s || v <= 0 || v > 86400.0 * 1000)
		return 0;
	if (strcmp(e, "ms") == 0)
		return (uint64_t)v;
	if (*e == 0 || strcmp(e, "s") == 0)
		return (uint64_t)(v * 1000);
	if (strcmp(e, "m") == 0)
		return (uint64_t)(v * 60000);
	return 0;
}

/* "4M", "512K", "65536". 0 on error. */
static uint64_t
weft_parse_size(const char *s)
{
	char *e;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno || e == s || *s == '-')
		return 0;
	if (*e == 'K' || *e == 'k')
		v *= 1024, e++;
	else if (*e == 'M' || *e == 'm')
		v *= 1024 * 1024, e++;
	if (*e || v > (1ull << 34))
		return 0;
	return v;
}

static unsigned
weft_parse_count(const char *s)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || e == s || *e || v < 1 || v > 1000000)
		return 0;
	return (unsigned)v;
}

int
weft_cmd_agent(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"listen", required_argument, NULL, 'l'},
	    {"join", required_argument, NULL, 'j'},
	    {"advertise", required_argument, NULL, 'a'},
	    {"handshake-timeout", required_argument, NULL, 1},
	    {"keepalive", required_argument, NULL, 2},
	    {"idle-timeout", required_argument, NULL, 3},
	    {"stall-timeout", required_argument, NULL, 4},
	    {"max-queue", required_argument, NULL, 5},
	    {"max-conns", required_argument, NULL, 6},
	    {"max-per-addr", required_argument, NULL, 7},
	    {"max-pending-per-addr", required_argument, NULL, 8},
	    {"backoff-max", required_argument, NULL, 9},
	    {"gossip-interval", required_argument, NULL, 10},
	    {"suspect-timeout", required_argument, NULL, 11},
	    {"degree", required_argument, NULL, 12},
	    {"sync-interval", required_argument, NULL, 13},
	    {"link-delay", required_argument, NULL, 14},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	weft_agent_opts_t o = {0};
	const char *dir = NULL, *bad = NULL;
	int c;

	o.listen = "127.0.0.1:7946";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'l': o.listen = optarg; break;
		case 'a': o.advertise = optarg; break;
		case 'j':
			if (o.njoin == WEFT_AGENT_JOIN_MAX) {
				weft_cli_error("agent", "at most %d --join",
					       WEFT_AGENT_JOIN_MAX);
				return 2;
			}
			o.join[o.njoin++] = optarg;
			break;
		case 1:
			if ((o.hs_timeout_ms = weft_parse_ms(optarg)) == 0)
				bad = "--handshake-timeout";
			break;
		case 2:
			if ((o.keepalive_ms = weft_parse_ms(optarg)) == 0)
				bad = "--keepalive";
			break;
		case 3:
			if ((o.idle_ms = weft_parse_ms(optarg)) == 0)
				bad = "--idle-timeout";
			break;
		case 4:
			if ((o.stall_ms = weft_parse_ms(optarg)) == 0)
				bad = "--stall-timeout";
			break;
		case 5:
			if ((o.max_queue = weft_parse_size(optarg)) == 0)
				bad = "--max-queue";
			break;
		case 6:
			if ((o.max_conns = weft_parse_count(optarg)) == 0)
				bad = "--max-conns";
			break;
		case 7:
			if ((o.max_per_addr = weft_parse_count(optarg)) == 0)
				bad = "--max-per-addr";
			break;
		case 8:
			if ((o.max_pending_per_addr =
				 weft_parse_count(optarg)) == 0)
				bad = "--max-pending-per-addr";
			break;
		case 9:
			if ((o.backoff_max_ms = weft_parse_ms(optarg)) == 0)
				bad = "--backoff-max";
			break;
		case 10:
			if ((o.gossip_interval_ms = weft_parse_ms(optarg)) == 0)
				bad = "--gossip-interval";
			break;
		case 11:
			if ((o.suspect_ms = weft_parse_ms(optarg)) == 0)
				bad = "--suspect-timeout";
			break;
		case 12:
			if ((o.degree = weft_parse_count(optarg)) == 0 ||
			    o.degree > 64)
				bad = "--degree";
			break;
		case 13:
			if ((o.sync_ms = weft_parse_ms(optarg)) == 0)
				bad = "--sync-interval";
			break;
		case 14:
			if ((o.link_delay_ms = weft_parse_ms(optarg)) == 0 ||
			    o.link_delay_ms > 60000)
				bad = "--link-delay";
			break;
		case 'h':
			fputs(weft_agent_usage, stdout);
			return 0;
		default:
			fputs(weft_agent_usage, stderr);
			return 2;
		}
		if (bad != NULL) {
			weft_cli_error("agent", "%s: invalid value \"%s\"", bad,
				       optarg);
			return 2;
		}
	}
	if (optind < argc) {
		weft_cli_error("agent", "unexpected argument \"%s\"",
			       argv[optind]);
		return 2;
	}
	if ((o.dir = weft_cli_data_dir(dir)) == NULL)
		return 2;
	return weft_agent_run(&o);
}

/* ---- control client ---- */

static int
ctl_io(int fd, void *buf, size_t n, int writing)
{
	uint8_t *p = buf;
	struct pollfd pfd = {.fd = fd, .events = writing ? POLLOUT : POLLIN};

	while (n > 0) {
		ssize_t r;

		if (poll(&pfd, 1, CTL_IO_TIMEOUT_MS) <= 0)
			return -1;
		r = writing ? write(fd, p, n) : read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
ctl_connect(const char *dir, double wait_s)
{
	struct sockaddr_un sun;
	char path[sizeof(sun.sun_path) + 1];
	struct timespec ts = {0, 100 * 1000 * 1000};
	double waited = 0;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, WEFT_AGENT_SOCK) >=
	    (int)sizeof(sun.sun_path)) {
		fprintf(stderr, "weft: %s: data directory path too long for a "
				"Unix socket\n", dir);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		close(fd);
		if (waited >= wait_s)
			break;
		nanosleep(&ts, NULL);
		waited += 0.1;
	}
	fprintf(stderr, "weft: no agent is running on %s (%s: %s)\n", dir, path,
		strerror(errno));
	return -1;
}

/* Send one request, return the response (NULL with a message printed). */
static Weft__ControlResponse *
ctl_call(const char *dir, Weft__ControlOp op, double wait_s)
{
	Weft__ControlRequest req = WEFT__CONTROL_REQUEST__INIT;
	Weft__ControlResponse *resp = NULL;
	uint8_t hdr[4], buf[64];
	uint8_t *body = NULL;
	size_t n, len;
	int fd = ctl_connect(dir, wait_s);

	if (fd < 0)
		return NULL;
	req.op = op;
	n = weft__control_request__pack(&req, buf + 4);
	buf[0] = buf[1] = buf[2] = 0;
	buf[3] = (uint8_t)n;
	if (ctl_io(fd, buf, 4 + n, 1) != 0 || ctl_io(fd, hdr, 4, 0) != 0)
		goto fail;
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	      (size_t)hdr[2] << 8 | hdr[3];
	if (len > CTL_RESP_MAX)
		goto fail;
	body = malloc(len ? len : 1);
	if (body == NULL || ctl_io(fd, body, len, 0) != 0)
		goto fail;
	resp = weft__control_response__unpack(NULL, len, body);
	if (resp == NULL)
		goto fail;
	free(body);
	close(fd);
	if (resp->error[0]) {
		fprintf(stderr, "weft: agent: %s\n", resp->error);
		weft__control_response__free_unpacked(resp, NULL);
		return NULL;
	}
	return resp;
fail:
	fprintf(stderr, "weft: %s: no valid answer from the agent\n", dir);
	free(body);
	close(fd);
	return NULL;
}

static void
fmt_age(int64_t us, char *out, size_t n)
{
	int64_t s = us / 1000000;

	if (s < 60)
		snprintf(out, n, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, n, "%lldm%02llds", (long long)(s / 60),
			 (long long)(s % 60));
	else if (s < 86400)
		snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600),
			 (long long)(s / 60 % 60));
	else
		snprintf(out, n, "%lldd%02lldh", (long long)(s / 86400),
			 (long long)(s / 3600 % 24));
}

static void
json_strs(const char *key, char **v, size_t n)
{
	size_t i;

	printf(",\"%s\":[", key);
	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		weft_json_quote(stdout, v[i], strlen(v[i]));
	}
	putchar(']');
}

static void
json_kv(const char *key, const char *v)
{
	printf(",\"%s\":", key);
	weft_json_quote(stdout, v, strlen(v));
}

static const char weft_status_usage[] =
    "usage: weft status --data-dir DIR [--json] [--wait SECONDS]\n\n"
    "Ask the running agent of DIR who it is and how it is doing: identity,\n"
    "org, roles, uptime, addresses, sessions and refusal counters.\n"
    "  --wait S   wait up to S seconds for the agent to come up\n";

static const char weft_peers_usage[] =
    "usage: weft peers --data-dir DIR [--json] [--wait SECONDS]\n\n"
    "List the running agent's sessions: node, org, address, direction,\n"
    "age, bytes in and out, send queue.\n";

/*
 * The shared front of status, peers and members: parse --data-dir, --json
 * and --wait, then ask the agent for op. Returns -1 with *resp set, or the
 * exit code (0 after --help, 2 usage, 1 no answer; message printed).
 */
static int
ctl_command(int argc, char **argv, const char *usage, Weft__ControlOp op,
	    int *json, Weft__ControlResponse **resp)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"wait", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *d = NULL, *dir;
	double wait_s = 0;
	char *e;
	int c;

	*json = 0;
	*resp = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': d = optarg; break;
		case 'j': *json = 1; break;
		case 'w':
			wait_s = strtod(optarg, &e);
			if (*e || wait_s < 0 || wait_s > 3600) {
				fprintf(stderr, "weft: --wait: want 0..3600 "
						"seconds\n");
				return 2;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "weft: unexpected argument \"%s\"\n",
			argv[optind]);
		return 2;
	}
	if ((dir = weft_cli_data_dir(d)) == NULL)
		return 2;
	*resp = ctl_call(dir, op, wait_s);
	return *resp == NULL ? 1 : -1;
}

int
weft_cmd_status(int argc, char **argv)
{
	Weft__ControlResponse *r;
	const Weft__AgentStatus *s;
	char hex[2 * WEFT_PK_BYTES + 1], age[32];
	int json, rc;
	size_t i;

	if ((rc = ctl_command(argc, argv, weft_status_usage,
			      WEFT__CONTROL_OP__CTL_STATUS, &json, &r)) >= 0)
		return rc;
	s = r->status;
	if (s == NULL || s->node_key.len != WEFT_PK_BYTES) {
		fprintf(stderr, "weft: agent sent an incomplete status\n");
		weft__control_response__free_unpacked(r, NULL);
		return 1;
	}
	weft_hex(s->node_key.data, WEFT_PK_BYTES, hex);
	fmt_age(s->now_us - s->started_us, age, sizeof(age));
	if (json) {
		printf("{\"node\":");
		weft_json_quote(stdout, s->node_name, strlen(s->node_name));
		json_kv("org", s->org);
		printf(",\"public_key\":\"%s\"", hex);
		json_strs("roles", s->roles, s->n_roles);
		json_kv("version", s->version);
		printf(",\"pid\":%u,\"started_us\":%lld,\"uptime_s\":%.3f",
		       s->pid, (long long)s->started_us,
		       (double)(s->now_us - s->started_us) / 1e6);
		json_strs("listen", s->listen, s->n_listen);
		json_strs("join", s->join, s->n_join);
		printf(",\"sessions\":%u,\"handshaking\":%u,"
		       "\"handshakes_ok\":%llu,\"handshakes_failed\":%llu,"
		       "\"bad_frames\":%llu,\"refused_limit\":%llu,"
		       "\"timeouts\":%llu,\"slow_peers\":%llu,"
		       "\"cert_not_after\":%lld,\"members\":%u,"
		       "\"members_failed\":%u,\"catalog_entries\":%llu,"
		       "\"gossip_accepted\":%llu,\"gossip_duplicates\":%llu,"
		       "\"gossip_refused\":%llu,\"gossip_throttled\":%llu,"
		       "\"gossip_refused_visibility\":%llu,"
		       "\"gossip_pushes\":%llu,\"gossip_ihaves\":%llu,"
		       "\"gossip_grafts\":%llu,\"gossip_prunes\":%llu}\n",
		       s->sessions, s->handshaking,
		       (unsigned long long)s->handshakes_ok,
		       (unsigned long long)s->handshakes_failed,
		       (unsigned long long)s->bad_frames,
		       (unsigned long long)s->refused_limit,
		       (unsigned long long)s->timeouts,
		       (unsigned long long)s->slow_peers,
		       (long long)s->cert_not_after, s->members,
		       s->members_failed,
		       (unsigned long long)s->catalog_entries,
		       (unsigned long long)s->gossip_accepted,
		       (unsigned long long)s->gossip_duplicates,
		       (unsigned long long)s->gossip_refused,
		       (unsigned long long)s->gossip_throttled,
		       (unsigned long long)s->gossip_refused_visibility,
		       (unsigned long long)s->gossip_pushes,
		       (unsigned long long)s->gossip_ihaves,
		       (unsigned long long)s->gossip_grafts,
		       (unsigned long long)s->gossip_prunes);
	} else {
		printf("node:        %s\norg:         %s\npublic key:  %s\n",
		       s->node_name, s->org, hex);
		printf("roles:       ");
		for (i = 0; i < s->n_roles; i++)
			printf("%s%s", i ? ", " : "", s->roles[i]);
		printf("%s\nversion:     %s (pid %u)\nuptime:      %s\n",
		       s->n_roles ? "" : "-", s->version, s->pid, age);
		printf("listen:      %s\n", s->n_listen ? s->listen[0] : "-");
		printf("join:        ");
		for (i = 0; i < s->n_join; i++)
			printf("%s%s", i ? ", " : "", s->join[i]);
		printf("%s\nsessions:    %u up, %u handshaking\n",
		       s->n_join ? "" : "-", s->sessions, s->handshaking);
		printf("handshakes:  %llu ok, %llu failed\n"
		       "refused:     %llu bad frames, %llu over limits, "
		       "%llu timeouts, %llu slow peers\n",
		       (unsigned long long)s->handshakes_ok,
		       (unsigned long long)s->handshakes_failed,
		       (unsigned long long)s->bad_frames,
		       (unsigned long long)s->refused_limit,
		       (unsigned long long)s->timeouts,
		       (unsigned long long)s->slow_peers);
		printf("members:     %u (%u failed)\ncatalog:     %llu entries; "
		       "gossip: %llu accepted, %llu duplicates, %llu refused, "
		       "%llu throttled, %llu refused at an org boundary\n",
		       s->members, s->members_failed,
		       (unsigned long long)s->catalog_entries,
		       (unsigned long long)s->gossip_accepted,
		       (unsigned long long)s->gossip_duplicates,
		       (unsigned long long)s->gossip_refused,
		       (unsigned long long)s->gossip_throttled,
		       (unsigned long long)s->gossip_refused_visibility);
		printf("tree:        sent %llu pushes, %llu announcements, "
		       "%llu grafts, %llu prunes\n",
		       (unsigned long long)s->gossip_pushes,
		       (unsigned long long)s->gossip_ihaves,
		       (unsigned long long)s->gossip_grafts,
		       (unsigned long long)s->gossip_prunes);
	}
	weft__control_response__free_unpacked(r, NULL);
	return 0;
}

int
weft_cmd_peers(int argc, char **argv)
{
	Weft__ControlResponse *r;
	char hex[2 * WEFT_PK_BYTES + 1], age[32];
	int json, rc;
	int64_t now = weft_now_us();
	size_t i;

	if ((rc = ctl_command(argc, argv, weft_peers_usage,
			      WEFT__CONTROL_OP__CTL_PEERS, &json, &r)) >= 0)
		return rc;
	if (json)
		putchar('[');
	else
		printf("%-16s %-12s %-22s %-4s %-7s %12s %12s %8s\n", "NODE",
		       "ORG", "ADDRESS", "DIR", "AGE", "BYTES IN",
		       "BYTES OUT", "QUEUED");
	for (i = 0; i < r->n_peers; i++) {
		const Weft__PeerInfo *p = r->peers[i];

		if (p->node_key.len != WEFT_PK_BYTES)
			continue;
		weft_hex(p->node_key.data, WEFT_PK_BYTES, hex);
		fmt_age(now - p->since_us, age, sizeof(age));
		if (json) {
			printf("%s{\"node\":", i ? "," : "");
			weft_json_quote(stdout, p->node_name,
				      strlen(p->node_name));
			json_kv("org", p->org);
			printf(",\"public_key\":\"%s\"", hex);
			json_strs("roles", p->roles, p->n_roles);
			json_kv("address", p->address);
			json_kv("listen", p->listen_addr);
			printf(",\"direction\":\"%s\",\"since_us\":%lld,"
			       "\"age_s\":%.3f,\"bytes_in\":%llu,"
			       "\"bytes_out\":%llu,\"msgs_in\":%llu,"
			       "\"msgs_out\":%llu,\"queued\":%llu,"
			       "\"paused\":%s,\"rtt_us\":%lld}",
			       p->outbound ? "out" : "in",
			       (long long)p->since_us,
			       (double)(now - p->since_us) / 1e6,
			       (unsigned long long)p->bytes_in,
			       (unsigned long long)p->bytes_out,
			       (unsigned long long)p->msgs_in,
			       (unsigned long long)p->msgs_out,
			       (unsigned long long)p->queued,
			       p->paused ? "true" : "false",
			       (long long)p->rtt_us);
		} else {
			printf("%-16s %-12s %-22s %-4s %-7s %12llu %12llu "
			       "%8llu%s\n", p->node_name, p->org, p->address,
			       p->outbound ? "out" : "in", age,
			       (unsigned long long)p->bytes_in,
			       (unsigned long long)p->bytes_out,
			       (unsigned long long)p->queued,
			       p->paused ? " (paused)" : "");
		}
	}
	if (json)
		printf("]\n");
	weft__control_response__free_unpacked(r, NULL);
	return 0;
}

void
weft_agent_notify(const char *dir)
{
	Weft__ControlResponse *r;
	int saved = dup(2), devnull;

	/* Best effort and quiet: no agent is not an error for publish. */
	devnull = open("/dev/null", O_WRONLY);
	if (devnull >= 0 && saved >= 0)
		dup2(devnull, 2);
	r = ctl_call(dir, WEFT__CONTROL_OP__CTL_CATALOG_CHANGED, 0);
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	if (devnull >= 0)
		close(devnull);
	if (r != NULL)
		weft__control_response__free_unpacked(r, NULL);
}

static const char weft_members_usage[] =
    "usage: weft members --data-dir DIR [--json] [--wait SECONDS]\n\n"
    "List the members of the mesh the running agent knows of (from the\n"
    "signed node records gossiped to it): node, org, roles, address,\n"
    "state (alive, failed, self) and when its record was issued.\n";

int
weft_cmd_members(int argc, char **argv)
{
	Weft__ControlResponse *r;
	char hex[2 * WEFT_PK_BYTES + 1], ts[40];
	int json, rc;
	size_t i;

	if ((rc = ctl_command(argc, argv, weft_members_usage,
			      WEFT__CONTROL_OP__CTL_MEMBERS, &json, &r)) >= 0)
		return rc;
	if (json)
		putchar('[');
	else
		printf("%-16s %-12s %-12s %-22s %-7s %s\n", "NODE", "ORG",
		       "ROLES", "ADDRESS", "STATE", "RECORD ISSUED");
	for (i = 0; i < r->n_members; i++) {
		const Weft__MemberInfo *m = r->members[i];

		if (m->node_key.len != WEFT_PK_BYTES)
			continue;
		weft_hex(m->node_key.data, WEFT_PK_BYTES, hex);
		weft_fmt_ts(m->updated_us, ts);
		if (json) {
			printf("%s{\"node\":", i ? "," : "");
			weft_json_quote(stdout, m->node_name,
				      strlen(m->node_name));
			json_kv("org", m->org);
			printf(",\"public_key\":\"%s\"", hex);
			json_kv("roles", m->roles);
			json_kv("address", m->address);
			json_kv("state", m->state);
			printf(",\"version\":%llu,\"updated_us\":%lld,"
			       "\"connected\":%s}",
			       (unsigned long long)m->version,
			       (long long)m->updated_us,
			       m->connected ? "true" : "false");
		} else {
			printf("%-16s %-12s %-12s %-22s %-7s %s\n",
			       m->node_name, m->org,
			       m->roles[0] ? m->roles : "-", m->address,
			       m->state, ts);
		}
	}
	if (json)
		printf("]\n");
	weft__control_response__free_unpacked(r, NULL);
	return 0;
}
