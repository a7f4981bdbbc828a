/*
 * cfg.c: the simulator's configuration (sim.h): names of topologies and
 * scenarios, defaults, and the checks that turn a command line into a
 * run that makes sense (or a message saying which option does not).
 * Pure: no run state.
 */
#include <stdint.h>
#include <string.h>

#include "sim/sim.h"
#include "sim/topo.h"

/* ---- names ---- */

static const char *const s_topo_names[] = {"random", "multi-org", "scale-free",
					   "file", "seed"};
static const char *const s_sc_names[] = {
    "join",	 "dissemination",   "revocation",
    "partition", "gateway-failure", "churn"};

const char *
weft_sim_topo_name(int t)
{
	return t >= 0 && t < 5 ? s_topo_names[t] : "?";
}

const char *
weft_sim_scenario_name(int s)
{
	return s >= 0 && s < 6 ? s_sc_names[s] : "?";
}

int
weft_sim_scenario_parse(const char *s)
{
	int i;

	for (i = 0; i < 6; i++)
		if (strcmp(s, s_sc_names[i]) == 0)
			return i;
	return -1;
}

/* ---- configuration ---- */

void
weft_sim_cfg_default(weft_sim_cfg_t *c)
{
	memset(c, 0, sizeof(*c));
	c->topology = WEFT_SIM_TOPO_RANDOM;
	c->scenario = WEFT_SIM_SC_DISSEMINATION;
	c->protocol = WEFT_SIM_PROTO_WEFT;
	c->seed = 1;
	c->membership = -1;
	c->latency.kind = WEFT_SIM_LAT_FIXED;
	c->latency.a_us = 10000;
	c->rto_us = 200000;
	c->dial_timeout_us = 10000000;
}

static uint64_t
s_whole_ms(uint64_t us)
{
	return us / 1000 * 1000;
}

/* The mesh: topology, nodes, seeds, orgs and gateways, and which
 * scenario and protocol go with them. */
static int
s_check_mesh(weft_sim_cfg_t *c, weft_err_t *err)
{
	if (c->topology == WEFT_SIM_TOPO_FILE && c->topo_file == NULL)
		return weft_err_set(err, WEFT_EINVAL,
				    "--topology file: needs "
				    "a path (file:PATH)");
	if (c->nodes == 0 && c->topology != WEFT_SIM_TOPO_FILE)
		c->nodes = 1000;
	if (c->nodes != 0 && (c->nodes < 2 || c->nodes > WEFT_SIM_NODES_MAX))
		return weft_err_set(err, WEFT_EINVAL,
				    "--nodes: %u: must be from 2 to %u",
				    c->nodes, WEFT_SIM_NODES_MAX);
	if (c->seeds == 0)
		c->seeds = 3;
	if (c->seeds > 64)
		return weft_err_set(err, WEFT_EINVAL,
				    "--seeds: must be from 1 to 64");
	if (c->topology != WEFT_SIM_TOPO_MULTI_ORG &&
	    (c->orgs > 1 || c->gateways > 0))
		return weft_err_set(err, WEFT_EINVAL,
				    "--orgs and --gateways "
				    "need --topology multi-org");
	if (c->topology == WEFT_SIM_TOPO_MULTI_ORG) {
		if (c->orgs == 0)
			c->orgs = 2;
		if (c->gateways == 0)
			c->gateways = 2;
		if (c->orgs > WEFT_SIM_ORGS_MAX)
			return weft_err_set(err, WEFT_EINVAL,
					    "--orgs: must be from 1 to %u",
					    WEFT_SIM_ORGS_MAX);
		if ((uint64_t)c->orgs * c->gateways > c->nodes)
			return weft_err_set(err, WEFT_EINVAL,
					    "--gateways: %u per org x %u orgs "
					    "is more gateways than --nodes %u",
					    c->gateways, c->orgs, c->nodes);
	} else
		c->orgs = 1;
	if (c->scenario == WEFT_SIM_SC_GATEWAY_FAILURE &&
	    c->topology != WEFT_SIM_TOPO_MULTI_ORG)
		return weft_err_set(err, WEFT_EINVAL,
				    "--scenario "
				    "gateway-failure needs --topology "
				    "multi-org");
	if (c->fail_gateways > c->gateways)
		return weft_err_set(err, WEFT_EINVAL,
				    "--fail-gateways: %u, "
				    "but each org has %u gateways",
				    c->fail_gateways, c->gateways);
	if (c->scenario == WEFT_SIM_SC_GATEWAY_FAILURE && c->fail_gateways == 0)
		c->fail_gateways = c->gateways;
	if (c->protocol == WEFT_SIM_PROTO_PUSH &&
	    c->scenario != WEFT_SIM_SC_DISSEMINATION)
		return weft_err_set(err, WEFT_EINVAL,
				    "--protocol push runs "
				    "only --scenario dissemination");
	return 0;
}

/* The network and gossip settings; fills their defaults. */
static int
s_check_net(weft_sim_cfg_t *c, weft_err_t *err)
{
	uint64_t iv;

	if (!(c->loss >= 0 && c->loss < 1))
		return weft_err_set(err, WEFT_EINVAL,
				    "--loss: must be at least 0 and below 1");
	if (!(c->churn >= 0 && c->churn < 1))
		return weft_err_set(err, WEFT_EINVAL,
				    "--churn: must be at least 0 and below 1");
	if (c->scenario == WEFT_SIM_SC_CHURN && c->churn == 0)
		c->churn = 0.3;
	if (c->interval_us == 0)
		c->interval_us = 1000000;
	if (c->interval_us < 1000 || c->interval_us > 60000000)
		return weft_err_set(err, WEFT_EINVAL,
				    "--gossip-interval: "
				    "must be from 1ms to 60s");
	c->interval_us = s_whole_ms(c->interval_us);
	iv = c->interval_us;
	if (c->sync_us == 0)
		c->sync_us = 10000000;
	if (c->suspect_us == 0)
		c->suspect_us = 3 * iv;
	if (c->sync_us < 1000 || c->suspect_us < 1000)
		return weft_err_set(err, WEFT_EINVAL,
				    "--sync-interval and "
				    "--suspect-timeout: at least 1ms");
	c->sync_us = s_whole_ms(c->sync_us);
	c->suspect_us = s_whole_ms(c->suspect_us);
	if (c->degree == 0)
		c->degree = 4;
	if (c->fanout == 0)
		c->fanout = 3;
	if (c->degree > 64 || c->fanout > 64)
		return weft_err_set(err, WEFT_EINVAL,
				    "--degree and --fanout: at most 64");
	if (c->threads > 64)
		return weft_err_set(err, WEFT_EINVAL, "--threads: at most 64");
	if (c->rto_us == 0)
		c->rto_us = 200000;
	if (c->dial_timeout_us == 0)
		c->dial_timeout_us = 10000000;
	if (c->latency.a_us == 0 && c->latency.kind == WEFT_SIM_LAT_FIXED)
		c->latency.a_us = 10000;
	if (weft_sim_latency_min(&c->latency) < WEFT_SIM_LAT_MIN_US)
		return weft_err_set(err, WEFT_EINVAL,
				    "--latency: at least 10us");
	return 0;
}

/* The scenario's timing (from the gossip interval), the publisher and
 * the run's duration. */
static int
s_check_timing(weft_sim_cfg_t *c, weft_err_t *err)
{
	uint64_t iv = c->interval_us, last;

	if (c->warmup_us == 0)
		c->warmup_us = 10 * iv;
	if (c->race_us == 0)
		c->race_us = weft_sim_latency_min(&c->latency);
	if (c->churn_window_us == 0)
		c->churn_window_us = 10 * iv;
	if (c->scenario == WEFT_SIM_SC_GATEWAY_FAILURE && c->recover_us == 0)
		c->recover_us = 20 * iv;
	if (c->scenario == WEFT_SIM_SC_PARTITION && c->part_to_us == 0) {
		c->part_from_us = c->warmup_us;
		c->part_to_us = c->warmup_us + 30 * iv;
	}
	if (c->sample_us == 0)
		c->sample_us = iv / 4 >= 1000 ? iv / 4 : 1000;
	if (c->prime_us > 0 && c->scenario != WEFT_SIM_SC_DISSEMINATION)
		return weft_err_set(err, WEFT_EINVAL,
				    "--prime: only with "
				    "--scenario dissemination");
	if (c->prime_us > 0 && c->protocol != WEFT_SIM_PROTO_WEFT)
		return weft_err_set(err, WEFT_EINVAL,
				    "--prime: only with "
				    "--protocol weft");
	if (c->publisher > 0 && (c->scenario == WEFT_SIM_SC_PARTITION ||
				 c->scenario == WEFT_SIM_SC_GATEWAY_FAILURE ||
				 c->scenario == WEFT_SIM_SC_JOIN))
		return weft_err_set(err, WEFT_EINVAL,
				    "--publisher: only with "
				    "--scenario dissemination, revocation or "
				    "churn");
	if (c->nodes != 0 && c->publisher >= c->nodes)
		return weft_err_set(err, WEFT_EINVAL,
				    "--publisher: %u: there "
				    "are %u nodes (0 to %u)",
				    c->publisher, c->nodes, c->nodes - 1);
	last = c->warmup_us + c->prime_us + c->race_us + iv;
	if (c->part_to_us > last)
		last = c->part_to_us;
	if (c->churn > 0)
		last = c->warmup_us + c->churn_window_us + c->recover_us;
	if (c->scenario == WEFT_SIM_SC_GATEWAY_FAILURE)
		last = c->warmup_us + c->recover_us + iv;
	if (c->duration_us == 0)
		c->duration_us = last + 300 * iv;
	if (c->duration_us < c->warmup_us)
		return weft_err_set(err, WEFT_EINVAL,
				    "--duration: shorter "
				    "than --warmup");
	if (c->sample_us < 1000 || c->duration_us / c->sample_us > 10000000)
		return weft_err_set(err, WEFT_EINVAL,
				    "--sample: too small "
				    "for --duration");
	return 0;
}

int
weft_sim_cfg_check(weft_sim_cfg_t *c, weft_err_t *err)
{
	int rc;

	if ((rc = s_check_mesh(c, err)) != 0 || (rc = s_check_net(c, err)) != 0)
		return rc;
	return s_check_timing(c, err);
}
