/*
 * sim.h: `weft sim`: thousands to a million gossip cores (node/gossip.h,
 * the code `weft agent` runs) over a virtual network, deterministically
 * from one seed (docs/sim.md).
 *
 * A run builds the overlay (topo.h), starts every node at virtual time
 * 0 (each with its key, derived from the seed, and a certificate signed
 * by its org's key, also derived), dials the seeds, and plays the
 * scenario: publishes, failures, partitions. Messages are packed as on
 * the wire, carried with the latency, loss and bandwidth of net.h,
 * decoded (weft_wire_decode) and handed to the receiving core. The sim
 * never looks inside a message.
 *
 * Determinism: every random choice comes from streams seeded by the run
 * seed, and events are ordered by (time, source, source's sequence), so
 * the trace hash (a hash over every delivered message: time, from, to,
 * bytes) is the same for the same options on any machine, with any
 * number of threads.
 *
 * Threads: nodes are split into shards (index mod threads); the shards
 * run a window of virtual time [T, T + L) in parallel, where L is the
 * smallest latency a message can have, so no event of a window can
 * cause another in the same window at another node (conservative
 * parallel simulation). Scenario events run between windows.
 */
#ifndef WEFT_SIM_SIM_H
#define WEFT_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"
#include "sim/net.h"

enum {
	WEFT_SIM_TOPO_RANDOM = 0,
	WEFT_SIM_TOPO_MULTI_ORG = 1,
	WEFT_SIM_TOPO_SCALE_FREE = 2,
	WEFT_SIM_TOPO_FILE = 3,
	WEFT_SIM_TOPO_SEED = 4, /* every node joins node 0 */
};

enum {
	WEFT_SIM_SC_JOIN = 0,
	WEFT_SIM_SC_DISSEMINATION = 1,
	WEFT_SIM_SC_REVOCATION = 2,
	WEFT_SIM_SC_PARTITION = 3,
	WEFT_SIM_SC_GATEWAY_FAILURE = 4,
	WEFT_SIM_SC_CHURN = 5,
};

enum {
	WEFT_SIM_PROTO_WEFT = 0, /* the real gossip core */
	WEFT_SIM_PROTO_PUSH = 1, /* textbook push epidemic (theory check) */
};

/* Above this many nodes membership defaults to partial (full membership
 * verifies every node record at every node: N^2 signature checks). */
#define WEFT_SIM_FULL_MAX 200u

typedef struct weft_sim_cfg {
	uint32_t nodes;
	int topology;
	const char *topo_file;	 /* WEFT_SIM_TOPO_FILE */
	unsigned seeds;		 /* random, multi-org: seeds per node; scale-
				  * free: edges per new node (default 3) */
	unsigned orgs, gateways; /* multi-org (defaults 2 and 2) */
	int scenario;
	int protocol;
	uint64_t seed;
	int membership; /* -1 auto, 0 full, 1 partial */
	int fast_crypto;
	int no_verify_cache; /* real crypto: verify every copy again */
	unsigned threads;    /* 0: auto (1 below 2000 nodes, else CPUs) */
	/* network */
	weft_sim_latency_t latency; /* default fixed 10 ms */
	double loss;		    /* per segment, < 1 */
	uint64_t rto_us;	    /* default 200 ms */
	uint64_t bandwidth_bps;	    /* 0: unlimited */
	uint64_t dial_timeout_us;   /* dial to a cut-off node (10 s) */
	uint64_t join_window_us;    /* nodes dial their seeds at random times
				     * within it (0: 1 ms) */
	/* gossip, as `weft agent` takes them (0: the agent's default) */
	uint64_t interval_us, sync_us, suspect_us;
	unsigned degree;
	unsigned max_neighbours; /* the active view (0: 2 * degree) */
	unsigned fanout;	 /* push protocol: targets per round (3) */
	/* scenario timing; times are since the run's start (0) */
	uint32_t publisher; /* dissemination, revocation, churn:
			     * the node that publishes (0) */
	uint64_t prime_us;  /* dissemination: an unmeasured
			     * product at warmup, the measured
			     * one this much later (0: none) */
	uint64_t warmup_us; /* publish at; default 10 intervals */
	uint64_t part_from_us, part_to_us; /* partition; 0..0 none */
	double churn;			   /* fraction of nodes that fail */
	uint64_t churn_window_us;	   /* over this long after warmup */
	uint64_t recover_us;		   /* failed nodes restart after (0:
					    * fail-stop; gateway-failure: 20
					    * intervals) */
	unsigned fail_gateways;		   /* gateway-failure: of org 0 (all) */
	uint64_t race_us;		   /* revocation: drop after update */
	uint64_t duration_us;		   /* stop at the latest (default:
					    * warmup + 300 intervals) */
	uint64_t sample_us;		   /* time series step (interval / 4) */
	/* progress: called about once a second of wall time and once at
	 * the end (last = 1), on the thread that runs the scenario */
	void (*progress)(void *arg, double virtual_s, uint64_t events,
			 double coverage, int last);
	void *progress_arg;
} weft_sim_cfg_t;

typedef struct weft_sim_sample {
	uint64_t t_us;
	double coverage;
	uint64_t msgs, bytes; /* sent so far, all nodes */
} weft_sim_sample_t;

typedef struct weft_sim_result {
	uint64_t trace_hash;
	uint32_t nodes;	     /* simulated */
	int partial;	     /* the membership used */
	int verify_cache;    /* real signatures, each verified once */
	unsigned threads;    /* used */
	uint64_t publish_us; /* first publish of the measured entry */
	int64_t reach_us[4]; /* publish to 50/90/99/100% coverage; -1 never */
	double final_coverage;
	uint64_t msgs, bytes;	      /* sent, all nodes, whole run */
	uint64_t msgs_pub, bytes_pub; /* sent since the publish */
	uint64_t peak_queue;	      /* bytes, max over nodes */
	uint64_t false_pairs;	      /* (observer, live member marked
				       * failed) pairs at the end */
	uint64_t false_nodes;	      /* live nodes someone marks failed */
	uint64_t events, delivered, retransmits, dropped, proto_errors;
	uint64_t links_up; /* link ends up at the end / 2 */
	/* the overlay at the end: the most links one node holds, node 0's;
	 * links let go during the run (docs/gossip.md, "Overlay") */
	uint32_t links_max, links_seed;
	uint64_t let_go;
	uint64_t end_us;
	uint32_t live;
	double setup_s, wall_s; /* wall clock: making nodes; whole run */
	weft_sim_sample_t *samples;
	size_t nsamples;
} weft_sim_result_t;

/* Defaults for every field (nodes 1000, random, dissemination, seed 1). */
void weft_sim_cfg_default(weft_sim_cfg_t *c);
/*
 * Check a configuration and fill what was left to defaults. Errors:
 * WEFT_EINVAL with a message for impossible parameters (nodes < 2, more
 * gateways than nodes, a scenario that needs another topology, ...).
 */
int weft_sim_cfg_check(weft_sim_cfg_t *c, weft_err_t *err);
/*
 * Run. *res is the caller's, freed with weft_sim_result_free (also on
 * failure). Errors: those of weft_sim_cfg_check, the topology file,
 * WEFT_ENOMEM, key and core creation errors.
 */
int weft_sim_run(const weft_sim_cfg_t *cfg, weft_sim_result_t *res,
		 weft_err_t *err);
void weft_sim_result_free(weft_sim_result_t *res);

/* Names of topologies, scenarios and protocols, for options and output;
 * the parsers return -1 for an unknown name. */
const char *weft_sim_topo_name(int t);
const char *weft_sim_scenario_name(int s);
int weft_sim_scenario_parse(const char *s);

#endif
