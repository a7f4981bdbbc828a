/*
 * test_sim.c: cmocka tests for sim/ (weft sim): the event queue, the
 * option parsers, edge-list files (errors name file:line), determinism
 * (same seed, same trace hash, whatever the thread count; another seed,
 * another hash), the push epidemic against the logistic model, and the
 * fault scenarios: partition and heal, gateway failure, 30% churn, a
 * revocation racing an update. Runs use fast crypto and a few hundred
 * nodes, except one with real signatures, to stay quick under ASan.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "sim/engine.h"
#include "sim/net.h"
#include "sim/sim.h"
#include "sim/topo.h"

static void
test_heap(void **state)
{
	weft_sim_heap_t h = {0};
	weft_sim_ev_t e, prev;
	uint64_t rng = 42;
	int i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		memset(&e, 0, sizeof(e));
		e.t = weft_sim_below(&rng, 100);
		e.key = (uint64_t)i;
		assert_int_equal(weft_sim_heap_push(&h, &e), 0);
	}
	assert_true(weft_sim_heap_pop(&h, &prev));
	for (i = 1; i < 5000; i++) {
		assert_true(weft_sim_heap_pop(&h, &e));
		/* by time, then by key: insertion order among equals */
		assert_true(e.t > prev.t ||
			    (e.t == prev.t && e.key > prev.key));
		prev = e;
	}
	assert_false(weft_sim_heap_pop(&h, &e));
	weft_sim_heap_free(&h);
}

static void
test_parsers(void **state)
{
	weft_sim_latency_t l;
	uint64_t v, a, b;
	double f;
	weft_err_t err = {0};

	(void)state;
	assert_int_equal(weft_sim_parse_duration("--x", "200ms", &v, &err), 0);
	assert_int_equal(v, 200000);
	assert_int_equal(weft_sim_parse_duration("--x", "1.5s", &v, &err), 0);
	assert_int_equal(v, 1500000);
	assert_int_equal(weft_sim_parse_duration("--x", "2", &v, &err), 0);
	assert_int_equal(v, 2000000);
	assert_true(weft_sim_parse_duration("--x", "0", &v, &err) < 0);
	assert_true(weft_sim_parse_duration("--x", "-1s", &v, &err) < 0);
	assert_true(weft_sim_parse_duration("--x", "5 parsecs", &v, &err) < 0);
	assert_true(weft_sim_parse_duration("--x", "1e300s", &v, &err) < 0);
	assert_true(weft_sim_parse_duration("--x", "nan", &v, &err) < 0);
	assert_int_equal(weft_sim_parse_range("--p", "10s..30s", &a, &b, &err),
			 0);
	assert_true(a == 10000000 && b == 30000000);
	assert_true(weft_sim_parse_range("--p", "30s..10s", &a, &b, &err) < 0);
	assert_true(weft_sim_parse_range("--p", "10s", &a, &b, &err) < 0);
	assert_int_equal(weft_sim_parse_latency("20ms", &l, &err), 0);
	assert_true(l.kind == WEFT_SIM_LAT_FIXED && l.a_us == 20000);
	assert_int_equal(weft_sim_parse_latency("10ms..50ms", &l, &err), 0);
	assert_true(l.kind == WEFT_SIM_LAT_UNIFORM && l.b_us == 50000);
	assert_int_equal(weft_sim_parse_latency("lognormal:20ms:0.5", &l, &err),
			 0);
	assert_true(l.kind == WEFT_SIM_LAT_LOGNORMAL);
	assert_int_equal(weft_sim_latency_min(&l), 1000);
	{
		uint64_t rng = 1, lo = UINT64_MAX, hi = 0;
		int i;

		for (i = 0; i < 10000; i++) {
			uint64_t x = weft_sim_latency_draw(&l, &rng);

			lo = x < lo ? x : lo;
			hi = x > hi ? x : hi;
		}
		assert_true(lo >= 1000 && hi <= 1000000 && lo < 20000 &&
			    hi > 20000);
	}
	assert_true(weft_sim_parse_latency("50ms..10ms", &l, &err) < 0);
	assert_true(weft_sim_parse_latency("lognormal:20ms", &l, &err) < 0);
	assert_true(weft_sim_parse_latency("lognormal:20ms:9", &l, &err) < 0);
	assert_true(weft_sim_parse_latency("1us", &l, &err) < 0);
	assert_int_equal(weft_sim_parse_bandwidth("10Mbit", &v, &err), 0);
	assert_int_equal(v, 10000000);
	assert_true(weft_sim_parse_bandwidth("10MB", &v, &err) < 0);
	assert_true(weft_sim_parse_bandwidth("-1Mbit", &v, &err) < 0);
	assert_int_equal(weft_sim_parse_fraction("--loss", "1%", 1, &f, &err),
			 0);
	assert_true(fabs(f - 0.01) < 1e-12);
	assert_true(weft_sim_parse_fraction("--loss", "1", 1, &f, &err) < 0);
	assert_true(weft_sim_parse_fraction("--loss", "100%", 1, &f, &err) < 0);
	assert_int_equal(weft_sim_tx_us(1250, 10000000), 1000);
	{
		uint64_t rng = 3;
		unsigned k;

		assert_int_equal(weft_sim_loss_delay(0, 200000, &rng, &k), 0);
		/* with loss near 1, the cap of 12 doublings holds */
		assert_int_equal(
		    weft_sim_loss_delay(0.999999, 200000, &rng, &k),
		    200000ull * 4095);
	}
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_topo_file(void **state)
{
	char path[] = "/tmp/weft-test-sim-XXXXXX";
	weft_sim_topo_t t;
	weft_err_t err = {0};
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "# a ring\n0 1\n1 2 # comment\n\t2  3\n3 0\n\n");
	assert_int_equal(weft_sim_topo_file(&t, path, 0, &err), 0);
	assert_int_equal(t.nodes, 4);
	assert_int_equal(t.n, 4);
	weft_sim_topo_free(&t);
	write_file(path, "0 1\n1 x\n");
	assert_true(weft_sim_topo_file(&t, path, 0, &err) < 0);
	assert_non_null(strstr(err.msg, ":2:"));
	write_file(path, "0 1\n\n2 2\n");
	assert_true(weft_sim_topo_file(&t, path, 0, &err) < 0);
	assert_non_null(strstr(err.msg, ":3:"));
	write_file(path, "0 1 2\n");
	assert_true(weft_sim_topo_file(&t, path, 0, &err) < 0);
	assert_non_null(strstr(err.msg, ":1:"));
	write_file(path, "0 99999999999999999999\n");
	assert_true(weft_sim_topo_file(&t, path, 0, &err) < 0);
	write_file(path, "0 5\n");
	assert_true(weft_sim_topo_file(&t, path, 4, &err) < 0); /* > nodes */
	write_file(path, "# nothing\n");
	assert_true(weft_sim_topo_file(&t, path, 0, &err) < 0);
	{
		FILE *f = fopen(path, "w");
		int i;

		assert_non_null(f);
		for (i = 0; i < 1000; i++)
			fputc('1', f);
		fputs(" 2\n", f);
		fclose(f);
	}
	assert_true(weft_sim_topo_file(&t, path, 0, &err) < 0);
	assert_non_null(strstr(err.msg, ":1:"));
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fwrite("0 1\n2\0 3\n", 1, 9, f);
		fclose(f);
	}
	assert_true(weft_sim_topo_file(&t, path, 0, &err) < 0);
	assert_non_null(strstr(err.msg, ":2:"));
	unlink(path);
	assert_true(weft_sim_topo_file(&t, path, 0, &err) < 0);
}

static void
test_bad_config(void **state)
{
	weft_sim_cfg_t c;
	weft_err_t err = {0};

	(void)state;
	weft_sim_cfg_default(&c);
	c.nodes = 1;
	assert_true(weft_sim_cfg_check(&c, &err) < 0);
	weft_sim_cfg_default(&c);
	c.nodes = 10;
	c.topology = WEFT_SIM_TOPO_MULTI_ORG;
	c.orgs = 3;
	c.gateways = 4;
	assert_true(weft_sim_cfg_check(&c, &err) < 0);
	assert_non_null(strstr(err.msg, "more gateways"));
	weft_sim_cfg_default(&c);
	c.scenario = WEFT_SIM_SC_GATEWAY_FAILURE;
	assert_true(weft_sim_cfg_check(&c, &err) < 0);
	weft_sim_cfg_default(&c);
	c.loss = 1;
	assert_true(weft_sim_cfg_check(&c, &err) < 0);
	assert_int_equal(weft_sim_scenario_parse("nope"), -1);
}

/* A small, fast run of the scenario on the real core. */
static void
small(weft_sim_cfg_t *c, uint32_t nodes, int scenario)
{
	weft_sim_cfg_default(c);
	c->nodes = nodes;
	c->scenario = scenario;
	c->fast_crypto = 1;
	c->seed = 7;
	c->interval_us = 200000;
	c->threads = 1;
}

static void
run_ok(const weft_sim_cfg_t *c, weft_sim_result_t *r)
{
	weft_err_t err = {0};

	if (weft_sim_run(c, r, &err) != 0)
		fail_msg("weft_sim_run: %s", err.msg);
	assert_int_equal(r->proto_errors, 0);
}

static void
test_determinism(void **state)
{
	weft_sim_cfg_t c;
	weft_sim_result_t r1, r2, r3, r4;

	(void)state;
	small(&c, 300, WEFT_SIM_SC_DISSEMINATION);
	run_ok(&c, &r1);
	run_ok(&c, &r2);
	assert_true(r1.trace_hash == r2.trace_hash);
	assert_true(r1.events == r2.events && r1.bytes == r2.bytes);
	c.threads = 3; /* the same run, split otherwise */
	run_ok(&c, &r3);
	assert_true(r3.trace_hash == r1.trace_hash);
	c.threads = 1;
	c.seed = 8;
	run_ok(&c, &r4);
	assert_true(r4.trace_hash != r1.trace_hash);
	assert_true(r1.final_coverage == 1.0 && r4.final_coverage == 1.0);
	weft_sim_result_free(&r1);
	weft_sim_result_free(&r2);
	weft_sim_result_free(&r3);
	weft_sim_result_free(&r4);
	/* real signatures, full membership: 40 nodes */
	small(&c, 40, WEFT_SIM_SC_DISSEMINATION);
	c.fast_crypto = 0;
	run_ok(&c, &r1);
	run_ok(&c, &r2);
	assert_true(r1.trace_hash == r2.trace_hash);
	assert_int_equal(r1.partial, 0);
	assert_true(r1.reach_us[3] >= 0);
	weft_sim_result_free(&r1);
	weft_sim_result_free(&r2);
}

/*
 * Agreement with theory. A plain push epidemic (synchronous rounds, each
 * informed node sends to `fanout` uniformly random nodes, a message lost
 * with probability `loss`) against the logistic model of Serf's
 * convergence simulator, fraction(r) = 1 / (1 + (N+1) e^(-fanout r/2
 * (1-loss))). Tolerance: at every whole round the simulated fraction is
 * within 0.15 of the model, and the round at which half the nodes know
 * differs by less than one round. (The model fits fanout 3: a discrete
 * push grows by ln(1 + fanout) per round, the model by fanout / 2; at
 * fanout 4 they differ by 0.4 at round 5.)
 */
static void
theory(uint32_t n, double loss, uint64_t seed)
{
	weft_sim_cfg_t c;
	weft_sim_result_t r;
	double worst = 0, model_half, sim_half = -1;
	size_t i;

	weft_sim_cfg_default(&c);
	c.protocol = WEFT_SIM_PROTO_PUSH;
	c.nodes = n;
	c.fanout = 3;
	c.loss = loss;
	c.seed = seed;
	c.latency.a_us = 1000; /* well inside a round */
	c.interval_us = 1000000;
	c.sample_us = 500000;
	run_ok(&c, &r);
	assert_true(r.final_coverage == 1.0);
	for (i = 0; i < r.nsamples; i++) {
		const weft_sim_sample_t *s = &r.samples[i];
		double rr, model;

		if (s->t_us < r.publish_us ||
		    (s->t_us - r.publish_us) % 1000000 != 500000)
			continue;
		/* half way through round k: k rounds of sends done */
		rr = (double)((s->t_us - r.publish_us) / 1000000);
		model = 1 / (1 + (n + 1) * exp(-3 * rr / 2 * (1 - loss)));
		if (fabs(s->coverage - model) > worst)
			worst = fabs(s->coverage - model);
		if (sim_half < 0 && s->coverage >= 0.5)
			sim_half = rr;
		if (fabs(s->coverage - model) > 0.15)
			fail_msg("push epidemic N=%u loss=%.2f round %.0f: "
				 "simulated %.3f, model %.3f",
				 n, loss, rr, s->coverage, model);
	}
	/* the model's 50% round */
	model_half = log(n + 1) / (3.0 / 2 * (1 - loss));
	assert_true(sim_half >= 0);
	assert_true(fabs(sim_half - model_half) < 1.0 + 1e-9);
	weft_sim_result_free(&r);
}

static void
test_theory(void **state)
{
	(void)state;
	theory(10000, 0, 1);
	theory(10000, 0.1, 2);
	theory(3000, 0.2, 3);
}

static double
coverage_at(const weft_sim_result_t *r, uint64_t t)
{
	double c = 0;
	size_t i;

	for (i = 0; i < r->nsamples && r->samples[i].t_us <= t; i++)
		c = r->samples[i].coverage;
	return c;
}

/* Partition: each half learns its own product only (coverage at most
 * one half), then after the heal every node holds both. */
static void
test_partition(void **state)
{
	weft_sim_cfg_t c;
	weft_sim_result_t r;
	uint64_t heal;

	(void)state;
	small(&c, 300, WEFT_SIM_SC_PARTITION);
	assert_int_equal(weft_sim_cfg_check(&c, NULL), 0);
	heal = c.part_to_us;
	run_ok(&c, &r);
	assert_true(coverage_at(&r, heal - 1) > 0.3);
	assert_true(coverage_at(&r, heal - 1) <= 0.5);
	assert_true(coverage_at(&r, heal - 1000000) ==
		    coverage_at(&r, heal - 1)); /* a plateau */
	assert_true(r.final_coverage == 1.0);
	assert_true(r.reach_us[3] >= 0 &&
		    r.publish_us + (uint64_t)r.reach_us[3] >= heal);
	weft_sim_result_free(&r);
}

/* Gateway failure: all of org 0's gateways fail, a public product of
 * org 0 stays in org 0 (a quarter of the nodes) until they restart. */
static void
test_gateway_failure(void **state)
{
	weft_sim_cfg_t c;
	weft_sim_result_t r;
	uint64_t back;

	(void)state;
	small(&c, 400, WEFT_SIM_SC_GATEWAY_FAILURE);
	c.topology = WEFT_SIM_TOPO_MULTI_ORG;
	c.orgs = 4;
	c.gateways = 2;
	assert_int_equal(weft_sim_cfg_check(&c, NULL), 0);
	back = c.warmup_us + c.recover_us;
	run_ok(&c, &r);
	/* org 0 has 100 nodes, 2 of them down: 98 of 398 live */
	assert_true(coverage_at(&r, back - 1) > 0.2);
	assert_true(coverage_at(&r, back - 1) <= 100.0 / 398);
	assert_true(r.final_coverage == 1.0);
	assert_true(r.publish_us + (uint64_t)r.reach_us[3] >= back);
	weft_sim_result_free(&r);
	/* with one gateway of org 0 left, the product crosses at once */
	small(&c, 400, WEFT_SIM_SC_GATEWAY_FAILURE);
	c.topology = WEFT_SIM_TOPO_MULTI_ORG;
	c.orgs = 4;
	c.gateways = 2;
	c.fail_gateways = 1;
	assert_int_equal(weft_sim_cfg_check(&c, NULL), 0);
	back = c.warmup_us + c.recover_us;
	run_ok(&c, &r);
	assert_true(r.reach_us[3] >= 0 &&
		    r.publish_us + (uint64_t)r.reach_us[3] < back);
	weft_sim_result_free(&r);
}

/* 30% of the nodes fail (fail-stop) around the publish: every live node
 * still gets the product (full membership lets nodes whose neighbours
 * died dial others). */
static void
test_churn(void **state)
{
	weft_sim_cfg_t c;
	weft_sim_result_t r;

	(void)state;
	small(&c, 150, WEFT_SIM_SC_CHURN);
	run_ok(&c, &r);
	assert_int_equal(r.live, 105);
	assert_true(r.final_coverage == 1.0);
	assert_true(r.reach_us[3] >= 0);
	assert_int_equal(r.false_nodes, 0);
	weft_sim_result_free(&r);
}

/* An update and its drop race: the drop (newer) ends up everywhere. */
static void
test_revocation(void **state)
{
	weft_sim_cfg_t c;
	weft_sim_result_t r;

	(void)state;
	small(&c, 300, WEFT_SIM_SC_REVOCATION);
	c.latency.kind = WEFT_SIM_LAT_UNIFORM;
	c.latency.a_us = 5000;
	c.latency.b_us = 50000;
	run_ok(&c, &r);
	assert_true(r.final_coverage == 1.0);
	weft_sim_result_free(&r);
}

/* Loss and bandwidth: still complete, slower, with retransmissions and
 * a queue. Join: every node holds its neighbours' records. */
static void
test_network(void **state)
{
	weft_sim_cfg_t c;
	weft_sim_result_t r, r0;

	(void)state;
	small(&c, 300, WEFT_SIM_SC_DISSEMINATION);
	run_ok(&c, &r0);
	c.loss = 0.05;
	c.bandwidth_bps = 1000000;
	run_ok(&c, &r);
	assert_true(r.final_coverage == 1.0);
	assert_true(r.retransmits > 0);
	assert_true(r.peak_queue > 0);
	assert_true(r.reach_us[3] > r0.reach_us[3]);
	weft_sim_result_free(&r);
	weft_sim_result_free(&r0);
	small(&c, 300, WEFT_SIM_SC_JOIN);
	c.topology = WEFT_SIM_TOPO_SCALE_FREE;
	/* every topology link kept: the hubs' records all arrive (with the
	 * bounded overlay a hub lets links go, some before the record on
	 * them arrived: 99.95% here) */
	c.max_neighbours = 1024;
	run_ok(&c, &r);
	assert_true(r.final_coverage == 1.0);
	assert_true(r.reach_us[3] >= 0);
	weft_sim_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_heap),
	    cmocka_unit_test(test_parsers),
	    cmocka_unit_test(test_topo_file),
	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_determinism),
	    cmocka_unit_test(test_theory),
	    cmocka_unit_test(test_partition),
	    cmocka_unit_test(test_gateway_failure),
	    cmocka_unit_test(test_churn),
	    cmocka_unit_test(test_revocation),
	    cmocka_unit_test(test_network),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
