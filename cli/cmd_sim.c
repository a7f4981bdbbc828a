/*
 * cmd_sim.c: `weft sim`: options, the summary (text or --json), the CSV
 * time series and the gnuplot plot of a simulator run (sim.h,
 * docs/sim.md). Exit codes as every command: 0 done, 1 failure (bad
 * input, impossible parameters), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/util.h"
#include "sim/sim.h"
#include "sim/topo.h"

static const char weft_sim_usage[] =
    "usage: weft sim [--nodes N] [--topology T] [--scenario S] [--seed N]\n"
    "                [options]\n\n"
    "Simulate a mesh: N copies of the gossip core `weft agent` runs, over\n"
    "a virtual network, in virtual time, deterministically from --seed\n"
    "(the trace hash printed at the end is the same for the same options\n"
    "on any machine). See docs/sim.md.\n\n"
    "  --nodes N             nodes (default 1000; 2 to 1000000)\n"
    "  --topology T          random (default): each node joins --seeds\n"
    "                        random nodes; multi-org: --orgs orgs, only\n"
    "                        their --gateways link across; scale-free\n"
    "                        (Barabasi-Albert, --seeds edges per node);\n"
    "                        seed: every node joins node 0 (one --join)\n"
    "                        over --join-window;\n"
    "                        file:PATH, an edge list (lines \"A B\")\n"
    "  --seeds K             seeds per node (default 3)\n"
    "  --orgs N              multi-org: orgs (default 2)\n"
    "  --gateways M          multi-org: gateways per org (default 2)\n"
    "  --scenario S          join, dissemination (default), revocation,\n"
    "                        partition, gateway-failure, churn\n"
    "  --protocol P          weft (default): the real core; push: a plain\n"
    "                        push epidemic (--fanout random nodes a\n"
    "                        round), the theory check\n"
    "  --seed N              run seed (default 1)\n"
    "  --membership M        full or partial (neighbours only); default\n"
    "                        full up to 200 nodes\n"
    "  --fast-crypto         do not verify signatures (a cheap stand-in)\n"
    "  --no-verify-cache     real signatures: verify every copy, not each\n"
    "                        distinct signature once per process\n"
    "  --threads N           worker threads (default: 1 below 2000 nodes,\n"
    "                        else the CPUs); results do not depend on it\n"
    "network:\n"
    "  --latency L           one-way, per link: D (default 10ms), A..B\n"
    "                        (uniform) or lognormal:MEDIAN:SIGMA\n"
    "  --loss P              segment loss (0 to below 1; resent after\n"
    "                        --rto, doubling, in order as TCP does)\n"
    "  --rto D               first retransmission timeout (200ms)\n"
    "  --bandwidth B         per node upload, e.g. 10Mbit (unlimited)\n"
    "  --dial-timeout D      a dial across a partition fails after (10s)\n"
    "gossip (as `weft agent`):\n"
    "  --gossip-interval D   tick (1s)\n"
    "  --sync-interval D     anti-entropy (10s)\n"
    "  --suspect-timeout D   lost neighbour reported after (3 ticks)\n"
    "  --degree N            neighbours to keep (4)\n"
    "  --max-neighbours N    neighbours at most, the active view (2 x\n"
    "                        --degree)\n"
    "  --join-window D       nodes dial their seeds at random times within\n"
    "                        D of the start (1ms)\n"
    "  --fanout N            push protocol: targets per round (3)\n"
    "scenario (times since the start of the run):\n"
    "  --publisher N         the node that publishes (0; dissemination,\n"
    "                        revocation, churn)\n"
    "  --prime D             dissemination: publish an unmeasured product\n"
    "                        at --warmup and the measured one D later (on\n"
    "                        the broadcast tree the first one pruned)\n"
    "  --warmup D            publish at (10 ticks)\n"
    "  --partition A..B      halves of the nodes cut apart from A to B\n"
    "                        (partition scenario: from --warmup, 30 ticks)\n"
    "  --churn P             this fraction of nodes fails (churn: 0.3)\n"
    "  --churn-window D      over this long, from half the warmup (10\n"
    "                        ticks)\n"
    "  --recover D           failed nodes restart after D (default:\n"
    "                        never; gateway-failure: 20 ticks)\n"
    "  --fail-gateways K     gateway-failure: org 0's gateways that fail\n"
    "                        (default all)\n"
    "  --race D              revocation: drop this long after the update\n"
    "  --duration D          stop at the latest (300 ticks after the\n"
    "                        last scenario event)\n"
    "output:\n"
    "  --json                the summary as one JSON object\n"
    "  --csv FILE            time series: time_s,coverage,messages,bytes\n"
    "  --sample D            its step (a quarter tick)\n"
    "  --plot FILE           coverage over time, .png or .svg (gnuplot)\n"
    "  --progress            progress on stderr (default when a tty)\n";

static int
weft_sim_uint(const char *opt, const char *s, unsigned long max,
	      unsigned long *out, weft_err_t *err)
{
	char *e;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || e == s || *e || *s == '-' || *s == '+' || v > max)
		return weft_err_set(err, WEFT_EINVAL,
				    "%s: \"%.40s\" is not a number from 0 to "
				    "%lu",
				    opt, s, max);
	*out = v;
	return 0;
}

static int
weft_sim_csv(const char *path, const weft_sim_result_t *r)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (f == NULL) {
		weft_cli_error("sim", "%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "time_s,coverage,messages,bytes\n");
	for (i = 0; i < r->nsamples; i++)
		fprintf(f, "%.6f,%.6f,%llu,%llu\n",
			(double)r->samples[i].t_us / 1e6,
			r->samples[i].coverage,
			(unsigned long long)r->samples[i].msgs,
			(unsigned long long)r->samples[i].bytes);
	if (fclose(f) != 0) {
		weft_cli_error("sim", "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Characters gnuplot would take for syntax inside a quoted file name. */
static int
weft_sim_plot_name_ok(const char *p)
{
	for (; *p; p++)
		if (*p == '"' || *p == '\\' || *p == '\n' || *p == '`' ||
		    (unsigned char)*p < 0x20)
			return 0;
	return 1;
}

static int
weft_sim_plot(const char *path, const weft_sim_result_t *r, const char *title)
{
	const char *dot = strrchr(path, '.');
	const char *term;
	char data[] = "/tmp/weft-sim-plot-XXXXXX";
	FILE *f, *g;
	size_t i;
	int fd, rc = -1;

	if (dot != NULL && strcmp(dot, ".png") == 0)
		term = "pngcairo size 900,540";
	else if (dot != NULL && strcmp(dot, ".svg") == 0)
		term = "svg size 900,540";
	else {
		weft_cli_error("sim",
			       "--plot: %s: the name must end in .png "
			       "or .svg",
			       path);
		return -1;
	}
	if (!weft_sim_plot_name_ok(path)) {
		weft_cli_error("sim",
			       "--plot: %s: quotes, backslashes and "
			       "control characters are not allowed",
			       path);
		return -1;
	}
	if ((fd = mkstemp(data)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		weft_cli_error("sim", "--plot: temporary file: %s",
			       strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(data);
		}
		return -1;
	}
	for (i = 0; i < r->nsamples; i++)
		fprintf(f, "%.6f %.4f\n", (double)r->samples[i].t_us / 1e6,
			100.0 * r->samples[i].coverage);
	if (fclose(f) != 0)
		goto out;
	g = popen("gnuplot 2>&1", "w");
	if (g == NULL) {
		weft_cli_error("sim", "--plot: cannot run gnuplot (Debian: "
				      "apt-get install gnuplot-nox)");
		goto out;
	}
	fprintf(g,
		"set terminal %s\nset output \"%s\"\n"
		"set title \"%s\"\nset xlabel \"virtual time (s)\"\n"
		"set ylabel \"coverage (%%)\"\nset yrange [0:105]\n"
		"set grid\nset key off\n",
		term, path, title);
	if (r->publish_us > 0)
		fprintf(g, "set arrow from %.6f,0 to %.6f,105 nohead dt 2\n",
			(double)r->publish_us / 1e6,
			(double)r->publish_us / 1e6);
	fprintf(g, "plot \"%s\" using 1:2 with lines lw 2\n", data);
	if (pclose(g) != 0) {
		weft_cli_error("sim", "--plot: gnuplot failed (is it "
				      "installed? Debian: gnuplot-nox)");
		goto out;
	}
	rc = 0;
out:
	unlink(data);
	return rc;
}

/* --progress: one line on stderr about once a second. */
static void
weft_sim_progress(void *arg, double virtual_s, uint64_t events, double coverage,
		  int last)
{
	(void)arg;
	(void)last;
	fprintf(stderr,
		"weft sim: virtual %.3f s, %llu events, coverage "
		"%.1f%%\n",
		virtual_s, (unsigned long long)events, 100.0 * coverage);
}

static const char *
weft_sim_bytes(uint64_t b, char *buf, size_t n)
{
	if (b >= 10ull * 1024 * 1024)
		snprintf(buf, n, "%.1f MiB", (double)b / 1048576.0);
	else if (b >= 10 * 1024)
		snprintf(buf, n, "%.1f KiB", (double)b / 1024.0);
	else
		snprintf(buf, n, "%llu B", (unsigned long long)b);
	return buf;
}

static const char *const weft_sim_pct[4] = {"50", "90", "99", "100"};

/* A number printed with fmt (a fixed format the bench scripts read). */
static void
sim_json_num(weft_json_t *j, const char *key, const char *fmt, double v)
{
	char b[64];
	int n = snprintf(b, sizeof(b), fmt, v);

	weft_json_raw(j, key, b, n > 0 ? (size_t)n : 0);
}

/* The summary as one JSON object. */
static void
sim_print_json(const weft_sim_cfg_t *c, const weft_sim_result_t *r,
	       const char *topo)
{
	const char *const *pct = weft_sim_pct;
	double iv = (double)c->interval_us / 1e3, n = c->nodes;
	double evs = r->wall_s > 0 ? (double)r->events / r->wall_s : 0;
	char key[32], hash[17];
	weft_json_t j;
	int q;

	weft_json_init(&j, stdout, 0);
	weft_json_begin_object(&j, NULL);
	weft_json_uint(&j, "nodes", c->nodes);
	weft_json_string(&j, "topology", topo);
	weft_json_string(&j, "scenario", weft_sim_scenario_name(c->scenario));
	weft_json_string(&j, "protocol",
			 c->protocol == WEFT_SIM_PROTO_PUSH ? "push" : "weft");
	weft_json_uint(&j, "seed", c->seed);
	weft_json_string(&j, "membership", r->partial ? "partial" : "full");
	weft_json_bool(&j, "fast_crypto", c->fast_crypto);
	weft_json_bool(&j, "verify_cache", r->verify_cache);
	weft_json_uint(&j, "publisher", c->publisher);
	sim_json_num(&j, "gossip_interval_ms", "%.0f", iv);
	sim_json_num(&j, "publish_s", "%.6f", (double)r->publish_us / 1e6);
	weft_json_begin_object(&j, "coverage");
	for (q = 0; q < 4; q++) {
		snprintf(key, sizeof(key), "p%s_s", pct[q]);
		if (r->reach_us[q] < 0)
			weft_json_null(&j, key);
		else
			sim_json_num(&j, key, "%.6f",
				     (double)r->reach_us[q] / 1e6);
		snprintf(key, sizeof(key), "p%s_rounds", pct[q]);
		if (r->reach_us[q] < 0)
			weft_json_null(&j, key);
		else
			sim_json_num(&j, key, "%.3f",
				     (double)r->reach_us[q] / 1e3 / iv);
	}
	weft_json_end_object(&j);
	sim_json_num(&j, "final_coverage", "%.6f", r->final_coverage);
	weft_json_uint(&j, "live", r->live);
	weft_json_uint(&j, "messages", r->msgs);
	weft_json_uint(&j, "bytes", r->bytes);
	sim_json_num(&j, "messages_per_node", "%.3f", (double)r->msgs / n);
	sim_json_num(&j, "bytes_per_node", "%.1f", (double)r->bytes / n);
	weft_json_uint(&j, "messages_since_publish", r->msgs_pub);
	weft_json_uint(&j, "bytes_since_publish", r->bytes_pub);
	weft_json_uint(&j, "peak_queue_bytes", r->peak_queue);
	weft_json_uint(&j, "false_failures", r->false_pairs);
	weft_json_uint(&j, "false_failed_nodes", r->false_nodes);
	weft_json_uint(&j, "links", r->links_up);
	weft_json_uint(&j, "links_max", r->links_max);
	weft_json_uint(&j, "links_node0", r->links_seed);
	weft_json_uint(&j, "links_let_go", r->let_go);
	weft_json_uint(&j, "retransmits", r->retransmits);
	weft_json_uint(&j, "dropped", r->dropped);
	weft_json_uint(&j, "protocol_errors", r->proto_errors);
	weft_json_uint(&j, "events", r->events);
	sim_json_num(&j, "virtual_s", "%.6f", (double)r->end_us / 1e6);
	sim_json_num(&j, "setup_s", "%.3f", r->setup_s);
	sim_json_num(&j, "wall_s", "%.3f", r->wall_s);
	sim_json_num(&j, "events_per_s", "%.0f", evs);
	weft_json_uint(&j, "threads", r->threads);
	snprintf(hash, sizeof(hash), "%016llx",
		 (unsigned long long)r->trace_hash);
	weft_json_string(&j, "trace_hash", hash);
	weft_json_end_object(&j);
	(void)weft_cli_json_end(&j);
}

/* The summary for a person. */
static void
sim_print_text(const weft_sim_cfg_t *c, const weft_sim_result_t *r,
	       const char *topo)
{
	const char *const *pct = weft_sim_pct;
	double iv = (double)c->interval_us / 1e3, n = c->nodes;
	double evs = r->wall_s > 0 ? (double)r->events / r->wall_s : 0;
	char b1[32], b2[32];
	int q;

	printf("weft sim: %u nodes, topology %s, scenario %s, protocol %s, "
	       "seed %llu\n",
	       c->nodes, topo, weft_sim_scenario_name(c->scenario),
	       c->protocol == WEFT_SIM_PROTO_PUSH ? "push" : "weft",
	       (unsigned long long)c->seed);
	if (c->protocol == WEFT_SIM_PROTO_WEFT)
		printf("membership: %s\n",
		       r->partial ? "partial (node records to neighbours "
				    "only)"
				  : "full (every node record everywhere)");
	if (c->fast_crypto)
		printf("fast crypto: signatures NOT verified\n");
	else if (c->protocol == WEFT_SIM_PROTO_WEFT && r->verify_cache)
		printf("signatures: real, each distinct signature verified "
		       "once per process\n");
	else if (c->protocol == WEFT_SIM_PROTO_WEFT)
		printf("signatures: real, every copy verified at every "
		       "node\n");
	printf("gossip interval %.0f ms; published at %.3f s (virtual) by "
	       "node %u\n",
	       iv, (double)r->publish_us / 1e6, c->publisher);
	printf("coverage   time after publish   rounds\n");
	for (q = 0; q < 4; q++) {
		if (r->reach_us[q] < 0)
			printf("  %4s%%    never\n", pct[q]);
		else
			printf("  %4s%%    %10.3f s      %8.2f\n", pct[q],
			       (double)r->reach_us[q] / 1e6,
			       (double)r->reach_us[q] / 1e3 / iv);
	}
	printf("final coverage: %.2f%% of %u live nodes\n",
	       100.0 * r->final_coverage, r->live);
	printf("messages per node: %.1f (%.1f since publish); bytes per "
	       "node: %s (%s since publish)\n",
	       (double)r->msgs / n, (double)r->msgs_pub / n,
	       weft_sim_bytes((uint64_t)((double)r->bytes / n), b1, sizeof(b1)),
	       weft_sim_bytes((uint64_t)((double)r->bytes_pub / n), b2,
			      sizeof(b2)));
	printf("peak per-node queue: %s%s\n",
	       weft_sim_bytes(r->peak_queue, b1, sizeof(b1)),
	       c->bandwidth_bps ? "" : " (bandwidth unlimited)");
	if (c->protocol == WEFT_SIM_PROTO_WEFT) {
		printf("false failure detections: %llu (live nodes marked "
		       "failed by someone: %llu)\n",
		       (unsigned long long)r->false_pairs,
		       (unsigned long long)r->false_nodes);
		printf("overlay: %llu links; at most %u at one node, %u at "
		       "node 0; %llu let go\n",
		       (unsigned long long)r->links_up, r->links_max,
		       r->links_seed, (unsigned long long)r->let_go);
	}
	printf("retransmissions: %llu; dropped: %llu; protocol errors: "
	       "%llu\n",
	       (unsigned long long)r->retransmits,
	       (unsigned long long)r->dropped,
	       (unsigned long long)r->proto_errors);
	printf("virtual time %.3f s; %llu events; setup %.2f s, wall %.2f s "
	       "(%.0f events/s, %u thread%s)\n",
	       (double)r->end_us / 1e6, (unsigned long long)r->events,
	       r->setup_s, r->wall_s, evs, r->threads,
	       r->threads == 1 ? "" : "s");
	printf("trace hash: %016llx\n", (unsigned long long)r->trace_hash);
}

static void
weft_sim_print(const weft_sim_cfg_t *c, const weft_sim_result_t *r,
	       const char *topo, int json)
{
	if (json)
		sim_print_json(c, r, topo);
	else
		sim_print_text(c, r, topo);
}

/* What the command line asks besides the simulator's configuration. */
typedef struct sim_opts {
	weft_sim_cfg_t c;
	const char *csv, *plot, *topo;
	int json, progress;
} sim_opts_t;

static const struct option weft_sim_longopts[] = {
    {"nodes", required_argument, NULL, 'n'},
    {"topology", required_argument, NULL, 't'},
    {"seeds", required_argument, NULL, 'k'},
    {"orgs", required_argument, NULL, 'o'},
    {"gateways", required_argument, NULL, 'g'},
    {"scenario", required_argument, NULL, 's'},
    {"protocol", required_argument, NULL, 'p'},
    {"seed", required_argument, NULL, 'S'},
    {"membership", required_argument, NULL, 'm'},
    {"fast-crypto", no_argument, NULL, 'f'},
    {"threads", required_argument, NULL, 'T'},
    {"latency", required_argument, NULL, 1},
    {"loss", required_argument, NULL, 2},
    {"rto", required_argument, NULL, 3},
    {"bandwidth", required_argument, NULL, 4},
    {"dial-timeout", required_argument, NULL, 5},
    {"gossip-interval", required_argument, NULL, 6},
    {"sync-interval", required_argument, NULL, 7},
    {"suspect-timeout", required_argument, NULL, 8},
    {"degree", required_argument, NULL, 9},
    {"fanout", required_argument, NULL, 10},
    {"warmup", required_argument, NULL, 11},
    {"partition", required_argument, NULL, 12},
    {"churn", required_argument, NULL, 13},
    {"churn-window", required_argument, NULL, 14},
    {"recover", required_argument, NULL, 15},
    {"fail-gateways", required_argument, NULL, 16},
    {"race", required_argument, NULL, 17},
    {"duration", required_argument, NULL, 18},
    {"json", no_argument, NULL, 19},
    {"csv", required_argument, NULL, 20},
    {"sample", required_argument, NULL, 21},
    {"plot", required_argument, NULL, 22},
    {"progress", no_argument, NULL, 23},
    {"publisher", required_argument, NULL, 24},
    {"prime", required_argument, NULL, 25},
    {"no-verify-cache", no_argument, NULL, 26},
    {"max-neighbours", required_argument, NULL, 27},
    {"join-window", required_argument, NULL, 28},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --topology T. */
static int
sim_opt_topology(sim_opts_t *o, const char *arg, weft_err_t *err)
{
	weft_sim_cfg_t *c = &o->c;

	o->topo = arg;
	if (strcmp(arg, "random") == 0)
		c->topology = WEFT_SIM_TOPO_RANDOM;
	else if (strcmp(arg, "multi-org") == 0)
		c->topology = WEFT_SIM_TOPO_MULTI_ORG;
	else if (strcmp(arg, "scale-free") == 0)
		c->topology = WEFT_SIM_TOPO_SCALE_FREE;
	else if (strcmp(arg, "seed") == 0)
		c->topology = WEFT_SIM_TOPO_SEED;
	else if (strncmp(arg, "file:", 5) == 0 && arg[5]) {
		c->topology = WEFT_SIM_TOPO_FILE;
		c->topo_file = arg + 5;
	} else
		return weft_err_set(err, WEFT_EINVAL,
				    "--topology: unknown "
				    "topology \"%.60s\" (random, multi-org, "
				    "scale-free, seed, file:PATH)",
				    arg);
	return 0;
}

/* A positive count option (--seeds, --orgs, --gateways). */
static int
sim_opt_count(const char *opt, const char *arg, unsigned long max,
	      unsigned *out, weft_err_t *err)
{
	unsigned long v;
	int rc = weft_sim_uint(opt, arg, max, &v, err);

	if (rc == 0 && v == 0)
		rc = weft_err_set(err, WEFT_EINVAL, "%s: at least 1", opt);
	*out = (unsigned)v;
	return rc;
}

/* The mesh and the run: nodes, topology, scenario, protocol, seed... */
static int
sim_opt_mesh(sim_opts_t *o, int ch, const char *arg, weft_err_t *err)
{
	weft_sim_cfg_t *c = &o->c;
	unsigned long v = 0;
	char *e;
	int rc = 0;

	switch (ch) {
	case 'n':
		rc = weft_sim_uint("--nodes", arg, 100000000, &v, err);
		c->nodes = (uint32_t)v;
		if (rc == 0 && (v < 2 || v > WEFT_SIM_NODES_MAX))
			rc = weft_err_set(err, WEFT_EINVAL,
					  "--nodes: %lu: "
					  "must be from 2 to %u",
					  v, WEFT_SIM_NODES_MAX);
		return rc;
	case 't': return sim_opt_topology(o, arg, err);
	case 'k': return sim_opt_count("--seeds", arg, 64, &c->seeds, err);
	case 'o': return sim_opt_count("--orgs", arg, 64, &c->orgs, err);
	case 'g':
		return sim_opt_count("--gateways", arg, 1000000, &c->gateways,
				     err);
	case 's':
		if ((c->scenario = weft_sim_scenario_parse(arg)) < 0)
			rc = weft_err_set(err, WEFT_EINVAL,
					  "--scenario: "
					  "unknown scenario \"%.60s\" (join, "
					  "dissemination, revocation, "
					  "partition, gateway-failure, churn)",
					  arg);
		return rc;
	case 'p':
		if (strcmp(arg, "weft") == 0)
			c->protocol = WEFT_SIM_PROTO_WEFT;
		else if (strcmp(arg, "push") == 0)
			c->protocol = WEFT_SIM_PROTO_PUSH;
		else
			rc = weft_err_set(err, WEFT_EINVAL,
					  "--protocol: "
					  "unknown protocol \"%.60s\" (weft, "
					  "push)",
					  arg);
		return rc;
	case 'S':
		errno = 0;
		c->seed = strtoull(arg, &e, 10);
		if (errno || e == arg || *e || *arg == '-')
			rc = weft_err_set(err, WEFT_EINVAL,
					  "--seed: \"%.40s\" "
					  "is not a number",
					  arg);
		return rc;
	case 'm':
		if (strcmp(arg, "full") == 0)
			c->membership = 0;
		else if (strcmp(arg, "partial") == 0)
			c->membership = 1;
		else
			rc = weft_err_set(err, WEFT_EINVAL,
					  "--membership: "
					  "\"%.40s\": full or partial",
					  arg);
		return rc;
	case 'f': c->fast_crypto = 1; return 0;
	case 26: c->no_verify_cache = 1; return 0;
	case 'T':
		rc = weft_sim_uint("--threads", arg, 64, &v, err);
		c->threads = (unsigned)v;
		return rc;
	}
	return 1; /* not ours */
}

/* The network and the gossip settings. */
static int
sim_opt_net(sim_opts_t *o, int ch, const char *arg, weft_err_t *err)
{
	weft_sim_cfg_t *c = &o->c;
	unsigned long v = 0;
	int rc;

	switch (ch) {
	case 1: return weft_sim_parse_latency(arg, &c->latency, err);
	case 2: return weft_sim_parse_fraction("--loss", arg, 1, &c->loss, err);
	case 3: return weft_sim_parse_duration("--rto", arg, &c->rto_us, err);
	case 4: return weft_sim_parse_bandwidth(arg, &c->bandwidth_bps, err);
	case 5:
		return weft_sim_parse_duration("--dial-timeout", arg,
					       &c->dial_timeout_us, err);
	case 6:
		return weft_sim_parse_duration("--gossip-interval", arg,
					       &c->interval_us, err);
	case 7:
		return weft_sim_parse_duration("--sync-interval", arg,
					       &c->sync_us, err);
	case 8:
		return weft_sim_parse_duration("--suspect-timeout", arg,
					       &c->suspect_us, err);
	case 9:
		rc = weft_sim_uint("--degree", arg, 64, &v, err);
		c->degree = (unsigned)v;
		return rc;
	case 28:
		return weft_sim_parse_duration("--join-window", arg,
					       &c->join_window_us, err);
	case 27:
		rc = weft_sim_uint("--max-neighbours", arg, 1024, &v, err);
		c->max_neighbours = (unsigned)v;
		return rc;
	case 10:
		rc = weft_sim_uint("--fanout", arg, 64, &v, err);
		c->fanout = (unsigned)v;
		return rc;
	}
	return 1; /* not ours */
}

/* The scenario's timing and the output. */
static int
sim_opt_run(sim_opts_t *o, int ch, const char *arg, weft_err_t *err)
{
	weft_sim_cfg_t *c = &o->c;
	unsigned long v = 0;
	int rc;

	switch (ch) {
	case 11:
		return weft_sim_parse_duration("--warmup", arg, &c->warmup_us,
					       err);
	case 12:
		return weft_sim_parse_range(
		    "--partition", arg, &c->part_from_us, &c->part_to_us, err);
	case 13:
		return weft_sim_parse_fraction("--churn", arg, 1, &c->churn,
					       err);
	case 14:
		return weft_sim_parse_duration("--churn-window", arg,
					       &c->churn_window_us, err);
	case 15:
		return weft_sim_parse_duration("--recover", arg, &c->recover_us,
					       err);
	case 16:
		rc = weft_sim_uint("--fail-gateways", arg, 1000000, &v, err);
		c->fail_gateways = (unsigned)v;
		return rc;
	case 17:
		return weft_sim_parse_duration("--race", arg, &c->race_us, err);
	case 18:
		return weft_sim_parse_duration("--duration", arg,
					       &c->duration_us, err);
	case 21:
		return weft_sim_parse_duration("--sample", arg, &c->sample_us,
					       err);
	case 24:
		rc = weft_sim_uint("--publisher", arg, WEFT_SIM_NODES_MAX - 1,
				   &v, err);
		c->publisher = (uint32_t)v;
		return rc;
	case 25:
		return weft_sim_parse_duration("--prime", arg, &c->prime_us,
					       err);
	case 19: o->json = 1; return 0;
	case 20: o->csv = arg; return 0;
	case 22: o->plot = arg; return 0;
	case 23: o->progress = 1; return 0;
	}
	return 1; /* not ours */
}

/* Parse the command line into *o: 0, or the exit code (0 after --help,
 * 1 a bad value, 2 a usage error), message printed. */
static int
sim_parse(int argc, char **argv, sim_opts_t *o)
{
	weft_err_t err = {0};
	int ch, rc;

	memset(o, 0, sizeof(*o));
	weft_sim_cfg_default(&o->c);
	o->topo = "random";
	o->progress = -1;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", weft_sim_longopts, NULL)) !=
	       -1) {
		if (ch == 'h') {
			fputs(weft_sim_usage, stdout);
			return -1;
		}
		rc = sim_opt_mesh(o, ch, optarg, &err);
		if (rc == 1)
			rc = sim_opt_net(o, ch, optarg, &err);
		if (rc == 1)
			rc = sim_opt_run(o, ch, optarg, &err);
		if (rc == 1) { /* '?': unknown, or a value missing */
			if (optopt != 0)
				weft_cli_error("sim",
					       "option -%c: unknown or "
					       "missing its value",
					       optopt);
			else
				weft_cli_error("sim",
					       "%s: unknown option or "
					       "missing its value",
					       argv[optind - 1]);
			fputs(weft_sim_usage, stderr);
			return 2;
		}
		if (rc != 0) {
			weft_cli_error("sim", "%s", err.msg);
			return 1;
		}
	}
	if (optind < argc) {
		weft_cli_error("sim", "unexpected argument \"%s\"",
			       argv[optind]);
		fputs(weft_sim_usage, stderr);
		return 2;
	}
	return 0;
}

/* The summary, then the CSV and the plot if asked for. */
static int
sim_output(const sim_opts_t *o, const weft_sim_result_t *r)
{
	weft_sim_cfg_t shown = o->c; /* with the file's node count */
	char title[160];
	int rc = 0;

	shown.nodes = r->nodes;
	weft_sim_print(&shown, r, o->topo, o->json);
	if (o->csv != NULL && weft_sim_csv(o->csv, r) != 0)
		rc = 1;
	if (o->plot != NULL) {
		snprintf(title, sizeof(title),
			 "weft sim: %u nodes, %s, %s, seed %llu", r->nodes,
			 weft_sim_scenario_name(o->c.scenario),
			 o->c.topology == WEFT_SIM_TOPO_FILE ? "file" : o->topo,
			 (unsigned long long)o->c.seed);
		if (weft_sim_plot(o->plot, r, title) != 0)
			rc = 1;
	}
	return rc;
}

int
weft_cmd_sim(int argc, char **argv)
{
	sim_opts_t o;
	weft_sim_result_t r;
	weft_err_t err = {0};
	int rc;

	if ((rc = sim_parse(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	if (o.progress < 0 ? isatty(2) : o.progress)
		o.c.progress = weft_sim_progress;
	if ((rc = weft_sim_cfg_check(&o.c, &err)) != 0) {
		weft_cli_error("sim", "%s", err.msg);
		return 1;
	}
	if (weft_sim_run(&o.c, &r, &err) != 0) {
		weft_cli_error("sim", "%s", err.msg);
		weft_sim_result_free(&r);
		return 1;
	}
	rc = sim_output(&o, &r);
	weft_sim_result_free(&r);
	return rc;
}
