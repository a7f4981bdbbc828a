/*
 * serve_fixture.h: an owner's store for the fragment-request harness
 * (fuzz_fragreq) and its unit test (test_serve): sql_fixture.h's three
 * products of org acme, re-published so each visibility is there:
 *
 *   sales.t  public                   version 2, 3 rows
 *   geo.u    listed: org globex       version 2, 2 rows
 *   hr.t     acme only                version 1, 1 row
 *
 * and the form of a request as the harness reads it: one byte of
 * choices, then the fragment bytes.
 *
 *   bits 0-2  the product the request names: fz_req_products[]
 *   bits 3-4  the version: 0 (any), the current one, the one before,
 *             UINT64_MAX
 *   bits 5-6  the asker's org: acme, globex, initech, none (NULL)
 *   bit 7     the batch size limit: 256 bytes, or the agent's 768 KiB
 */
#ifndef WEFT_TESTS_SERVE_FIXTURE_H
#define WEFT_TESTS_SERVE_FIXTURE_H

#include "sql_fixture.h"

#define FZ_REQ_ANY 0
#define FZ_REQ_CURRENT 1
#define FZ_REQ_BEFORE 2
#define FZ_REQ_HUGE 3
#define FZ_REQ_BIGMAX (1u << 7)

static const char *const fz_req_products[8] = {
    "sales.t", "geo.u", "hr.t", "no.such", "", NULL, "sales.tt", "Sales.t",
};
static const char *const fz_req_orgs[4] = {"acme", "globex", "initech", NULL};

/* The store of this header's table (once per process). */
static void
fz_serve_init(void)
{
	static const char *const globex[1] = {"globex"};
	weft_ingest_opts_t o = {0};

	fz_fixture_init();
	o.mode = WEFT_PUB_REPLACE;
	o.set_visibility = 1;
	o.visibility = 2; /* public */
	fz_publish_opts("sales.t", FZ_SALES_CSV, &o);
	o.visibility = 1; /* listed */
	o.visible_to = globex;
	o.nvisible = 1;
	fz_publish_opts("geo.u", FZ_GEO_CSV, &o);
}

/* The choices byte of a request for product index p, version choice v,
 * org index g, with the big batch limit or not. */
static inline uint8_t
fz_req_byte(unsigned p, unsigned v, unsigned g, int big)
{
	return (uint8_t)((p & 7) | (v & 3) << 3 | (g & 3) << 5 |
			 (big ? FZ_REQ_BIGMAX : 0));
}

#endif
