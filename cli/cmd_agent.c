/*
 * cmd_agent.c: `weft agent`: its options, then agent/ runs the node; and
 * the quiet notice `weft publish` and `weft drop` send a running agent.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/control.h"
#include "cli/cli.h"
#include "lib/util.h"
#include "weft.pb-c.h"

static const char weft_agent_usage[] =
    "usage: weft agent --data-dir DIR [--listen HOST:PORT] [--join "
    "HOST:PORT]...\n"
    "                  [--advertise HOST:PORT] [limits]\n\n"
    "Run the node: accept and dial authenticated, encrypted sessions with\n"
    "other nodes of the mesh (same network key, trusted orgs). Logs go to\n"
    "stderr. SIGINT or SIGTERM shut it down cleanly. `weft status` and\n"
    "`weft peers` ask a running agent through DIR/agent.sock.\n\n"
    "  --listen HOST:PORT      where to accept sessions (default\n"
    "                          127.0.0.1:7946; port 0 picks a free port)\n"
    "  --join HOST:PORT        a node to join through: dialled at start and\n"
    "                          redialled with backoff from 0.5 s to\n"
    "                          --backoff-max (default 30s); once it lets\n"
    "                          us go to keep its overlay bounded, only\n"
    "                          while we have no neighbour (repeatable)\n"
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
    "  --max-handshakes N      unfinished inbound handshakes in all; the\n"
    "                          oldest is closed to admit a newcomer\n"
    "                          (default 128, at most --max-conns / 2,\n"
    "                          at least --max-pending-per-addr)\n"
    "gossip (docs/gossip.md):\n"
    "  --gossip-interval D     gossip tick: neighbours, suspicion\n"
    "                          (default 1s)\n"
    "  --sync-interval D       anti-entropy with one neighbour (10s)\n"
    "  --link-delay D          hold every gossip message D before sending:\n"
    "                          WAN latency on one host, to compare with\n"
    "                          `weft sim --latency D` (off)\n"
    "  --suspect-timeout D     a lost neighbour not back by then is\n"
    "                          reported failed (default 3 intervals)\n"
    "  --degree N              neighbours to keep connected (default 4)\n"
    "  --max-neighbours N      neighbours at most (the overlay's active\n"
    "                          view); a newcomer over it stays and a\n"
    "                          random other one is let go (default 2 x\n"
    "                          --degree, at least --degree)\n"
    "catalog quotas (docs/gossip.md, \"Quotas\"):\n"
    "  --catalog-max-entries N entries held in all (default 100000)\n"
    "  --catalog-max-bytes SIZE  their bytes (default 256M); an origin may\n"
    "                          hold a tenth of both, an org a quarter\n"
    "  --origin-max-entries N  entries of one origin (default: a tenth)\n"
    "  --org-max-entries N     entries of one other org (default: a quarter)\n"
    "  --origin-rate N         replacements an origin may make a second,\n"
    "                          a minute's worth at once; an org ten times\n"
    "                          that (default 20)\n"
    "federated queries (docs/agent.md):\n"
    "  --cache-size SIZE       results of remote fragments kept in the\n"
    "                          store, least recently used dropped first\n"
    "                          (default 256M; 0: no cache)\n";

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

	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno || e == s || *s == '-')
		return 0;
	if (*e == 'K' || *e == 'k')
		shift = 10, e++;
	else if (*e == 'M' || *e == 'm')
		shift = 20, e++;
	else if (*e == 'G' || *e == 'g')
		shift = 30, e++;
	if (*e || v > ((1ull << 40) >> shift)) /* at most 1 TiB */
		return 0;
	return v << shift;
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

enum { NUM_MS, NUM_SIZE, NUM_COUNT };

/* The numeric options (getopt ids 1..AGENT_NUMS): name, kind, field,
 * maximum. */
static const struct agent_num {
	int id;
	const char *name;
	int kind;
	size_t off;
	uint64_t max; /* 0: the parser's own */
} agent_nums[] = {
    {1, "--handshake-timeout", NUM_MS,
     offsetof(weft_agent_opts_t, hs_timeout_ms), 0},
    {2, "--keepalive", NUM_MS, offsetof(weft_agent_opts_t, keepalive_ms), 0},
    {3, "--idle-timeout", NUM_MS, offsetof(weft_agent_opts_t, idle_ms), 0},
    {4, "--stall-timeout", NUM_MS, offsetof(weft_agent_opts_t, stall_ms), 0},
    {5, "--max-queue", NUM_SIZE, offsetof(weft_agent_opts_t, max_queue), 0},
    {6, "--max-conns", NUM_COUNT, offsetof(weft_agent_opts_t, max_conns), 0},
    {7, "--max-per-addr", NUM_COUNT, offsetof(weft_agent_opts_t, max_per_addr),
     0},
    {8, "--max-pending-per-addr", NUM_COUNT,
     offsetof(weft_agent_opts_t, max_pending_per_addr), 0},
    {9, "--backoff-max", NUM_MS, offsetof(weft_agent_opts_t, backoff_max_ms),
     0},
    {10, "--gossip-interval", NUM_MS,
     offsetof(weft_agent_opts_t, gossip_interval_ms), 0},
    {11, "--suspect-timeout", NUM_MS, offsetof(weft_agent_opts_t, suspect_ms),
     0},
    {12, "--degree", NUM_COUNT, offsetof(weft_agent_opts_t, degree), 64},
    {13, "--sync-interval", NUM_MS, offsetof(weft_agent_opts_t, sync_ms), 0},
    {14, "--link-delay", NUM_MS, offsetof(weft_agent_opts_t, link_delay_ms),
     60000},
    {15, "--max-handshakes", NUM_COUNT,
     offsetof(weft_agent_opts_t, max_handshakes), 0},
    {16, "--catalog-max-entries", NUM_COUNT,
     offsetof(weft_agent_opts_t, catalog_max_entries), 0},
    {17, "--catalog-max-bytes", NUM_SIZE,
     offsetof(weft_agent_opts_t, catalog_max_bytes), 0},
    {18, "--origin-max-entries", NUM_COUNT,
     offsetof(weft_agent_opts_t, origin_max_entries), 0},
    {19, "--org-max-entries", NUM_COUNT,
     offsetof(weft_agent_opts_t, org_max_entries), 0},
    {20, "--origin-rate", NUM_COUNT, offsetof(weft_agent_opts_t, origin_rate),
     1000000},
    {21, "--max-neighbours", NUM_COUNT,
     offsetof(weft_agent_opts_t, max_neighbours), 1024},
};
#define AGENT_NUMS 21
#define AGENT_CACHE_SIZE 21 /* getopt id of --cache-size */

/* Set numeric option id from arg: 0, or 2 with the error printed. */
static int
agent_num(weft_agent_opts_t *o, int id, const char *arg)
{
	const struct agent_num *n = NULL;
	char *field;
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(agent_nums) / sizeof(agent_nums[0]); i++)
		if (agent_nums[i].id == id)
			n = &agent_nums[i];
	if (n == NULL)
		return 2;
	field = (char *)o + n->off;

	v = n->kind == NUM_MS	  ? weft_parse_ms(arg)
	    : n->kind == NUM_SIZE ? weft_parse_size(arg)
				  : weft_parse_count(arg);
	if (v == 0 || (n->max && v > n->max)) {
		weft_cli_error("agent", "%s: invalid value \"%s\"", n->name,
			       arg);
		return 2;
	}
	if (n->kind == NUM_MS)
		*(uint64_t *)(void *)field = v;
	else if (n->kind == NUM_SIZE)
		*(size_t *)(void *)field = (size_t)v;
	else
		*(unsigned *)(void *)field = (unsigned)v;
	return 0;
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
	    {"max-neighbours", required_argument, NULL, 21},
	    {"sync-interval", required_argument, NULL, 13},
	    {"link-delay", required_argument, NULL, 14},
	    {"max-handshakes", required_argument, NULL, 15},
	    {"catalog-max-entries", required_argument, NULL, 16},
	    {"catalog-max-bytes", required_argument, NULL, 17},
	    {"origin-max-entries", required_argument, NULL, 18},
	    {"org-max-entries", required_argument, NULL, 19},
	    {"origin-rate", required_argument, NULL, 20},
	    {"cache-size", required_argument, NULL, AGENT_CACHE_SIZE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	weft_agent_opts_t o = {0};
	const char *dir = NULL;
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
		case 'h': fputs(weft_agent_usage, stdout); return 0;
		case AGENT_CACHE_SIZE:
			if (strcmp(optarg, "0") == 0) {
				o.no_cache = 1;
				break;
			}
			if ((o.cache_size = (size_t)weft_parse_size(optarg)) ==
			    0) {
				weft_cli_error("agent",
					       "--cache-size: invalid value "
					       "\"%s\"",
					       optarg);
				return 2;
			}
			break;
		default:
			if (c >= 1 && c <= AGENT_NUMS &&
			    agent_num(&o, c, optarg) == 0)
				break;
			if (c >= 1 && c <= AGENT_NUMS)
				return 2;
			fputs(weft_agent_usage, stderr);
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

void
weft_agent_notify(const char *dir)
{
	Weft__ControlResponse *r = NULL;
	weft_err_t err = {0};

	/* Best effort and quiet: no agent is not an error for publish. */
	if (weft_ctl_call(dir, WEFT__CONTROL_OP__CTL_CATALOG_CHANGED, 0, &r,
			  &err) == 0)
		weft__control_response__free_unpacked(r, NULL);
}
