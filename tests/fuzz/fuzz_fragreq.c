/*
 * fuzz_fragreq.c: libFuzzer harness for a fragment request as an owner
 * receives it (query/serve.h): hostile fragment bytes, a product name, a
 * version and the asker's org into weft_fragrun_open against a real store
 * (serve_fixture.h: three products, one of each visibility), then
 * weft_fragrun_next to the end.
 *
 * Input: serve_fixture.h's choices byte, then the fragment bytes.
 * Nothing may crash or leak, and:
 *  - a refusal says why; a product that is missing, or not visible to the
 *    asker's org, is refused as "not found" (the same answer, so a
 *    refusal does not tell what exists); a version other than the current
 *    one (or 0) is refused as stale;
 *  - what opens runs to an end or an error, bounded: never more rows than
 *    the product has (or 1, an aggregate over none), every batch within
 *    the size limit and a ResultBatch of the fragment's output types with
 *    the rows it claims, as the asker will decode it;
 *  - a subplan (query/subplan.c) opens only if every product it scans is
 *    visible to the asker's org at the version the plan names; its rows
 *    (a join may multiply them) are drained up to 1000 batches.
 *
 * Seeds (tests/fuzz/seeds/fuzz_fragreq/) are requests for the fragments
 * the planner makes; test_serve writes them again when run with
 * WEFT_FRAGREQ_SEEDS=DIR.
 *
 * Build: make build/fuzz/fuzz_fragreq
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/bwire.h"
#include "query/qint.h"
#include "query/serve.h"
#include "serve_fixture.h"

#define FZ_SMALLMAX 256u
#define FZ_BIGMAX (768u << 10)

typedef struct fz_prod {
	uint64_t version, rows;
	int vis; /* visible to fz_req_orgs[i]: bit i */
} fz_prod_t;

static fz_prod_t fz_prods[8];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	weft_snapshot_t *s = NULL;
	weft_err_t err = {0};
	unsigned i;

	(void)argc;
	(void)argv;
	fz_serve_init();
	if (weft_snapshot_begin(fz_st, &s, &err) != 0)
		abort();
	for (i = 0; i < 8; i++) {
		weft_product_info_t pi = {0};
		uint64_t sid;
		uint32_t nch;

		if (fz_req_products[i] == NULL ||
		    weft_snapshot_product(s, fz_req_products[i], &pi, &sid,
					  &nch, &err) != 0)
			continue;
		fz_prods[i].version = pi.version;
		fz_prods[i].rows = pi.row_count;
		/* serve_fixture.h: public, listed to globex, acme only */
		fz_prods[i].vis = pi.visibility == 2   ? 7
				  : pi.visibility == 1 ? 3
						       : 1;
		weft_product_info_clear(&pi);
	}
	weft_snapshot_end(s);
	if (fz_prods[0].vis != 7 || fz_prods[1].vis != 3 ||
	    fz_prods[2].vis != 1 || fz_prods[0].rows != 3)
		abort();
	return 0;
}

/* The product index of name, or -1. */
static int
fz_index(const char *name)
{
	int i;

	for (i = 0; i < 8; i++)
		if (fz_req_products[i] && strcmp(fz_req_products[i], name) == 0)
			return i;
	return -1;
}

/* Every scan of an opened plan: visible to org oi, at its version. */
static void
fz_plan_scans(const wq_plan_t *p, unsigned oi)
{
	int i;

	if (p == NULL)
		return;
	if (p->kind == WQ_SCAN) {
		i = fz_index(p->frag->product);
		if (i < 0 || !(fz_prods[i].vis >> oi & 1) ||
		    (p->version != 0 && p->version != fz_prods[i].version))
			abort(); /* a plan read what it must not */
		return;
	}
	fz_plan_scans(p->l, oi);
	fz_plan_scans(p->r, oi);
}

/* The output types of fragment bytes that weft_fragrun_open accepted. */
static weft_batch_t *
fz_out_batch(const uint8_t *frag, size_t len, unsigned oi, uint64_t *bound)
{
	weft_sqltype_t *types = NULL;
	weft_batch_t *b = NULL;
	weft_err_t err = {0};
	wq_frag_t *f = NULL;
	uint32_t n;

	if (wq_frag_is_plan(frag, len)) {
		wq_plan_t *p = NULL;

		if (wq_subplan_decode(frag, len, &p, &err) != 0 ||
		    weft_batch_new(p->ncols, p->types, &b) != 0)
			abort();
		fz_plan_scans(p, oi);
		wq_plan_free(p);
		return b;
	}
	if (wq_frag_decode(frag, len, &f, &err) != 0 ||
	    wq_frag_types(f, &n, &types) != 0 ||
	    weft_batch_new(n, types, &b) != 0)
		abort();
	/* a profile's rows are its statistics, at most so many a column */
	if (f->profile)
		*bound = (uint64_t)f->ncols * WQ_PROF_ROWS_MAX;
	free(types);
	wq_frag_free(f);
	return b;
}

/* Drain r: bounded, every batch as the asker will decode it. */
static void
fz_drain(weft_fragrun_t *r, uint64_t bound, size_t max, weft_batch_t *b,
	 bool plan)
{
	uint64_t total = 0, calls = 0;
	weft_err_t err = {0};
	uint8_t *buf;
	size_t len;
	uint32_t rows;
	int rc;

	while ((rc = weft_fragrun_next(r, &buf, &len, &rows, &err)) == 1) {
		if (len > max || rows == 0)
			abort();
		if (++calls > 1000) {
			if (!plan)
				abort();
			free(buf);
			return; /* a plan that multiplies rows: enough */
		}
		if (weft_bwire_decode(buf, len, b, &err) != 0) {
			fprintf(stderr,
				"fuzz_fragreq: a batch the asker "
				"refuses: %s\n",
				err.msg);
			abort();
		}
		if (b->n != rows)
			abort();
		total += rows;
		free(buf);
	}
	if (rc < 0 && (err.msg[0] == 0 || buf != NULL))
		abort();
	if (!plan && total > bound)
		abort(); /* rows out of nowhere */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* no policies: this node's key is none that signed one */
	static const uint8_t no_key[WEFT_PK_BYTES];
	weft_asker_t who = {.self = no_key};
	weft_snapshot_t *s = NULL;
	weft_fragrun_t *r = NULL;
	weft_err_t err = {0};
	const fz_prod_t *p;
	const char *product, *org;
	uint64_t version = 0;
	unsigned pi, oi;
	size_t max;
	int rc;

	if (size < 1)
		return 0;
	pi = data[0] & 7;
	oi = (data[0] >> 5) & 3;
	p = &fz_prods[pi];
	product = fz_req_products[pi];
	org = fz_req_orgs[oi];
	switch ((data[0] >> 3) & 3) {
	case FZ_REQ_ANY: version = 0; break;
	case FZ_REQ_CURRENT: version = p->version; break;
	case FZ_REQ_BEFORE: version = p->version - 1; break;
	default: version = UINT64_MAX; break;
	}
	max = data[0] & FZ_REQ_BIGMAX ? FZ_BIGMAX : FZ_SMALLMAX;
	if (weft_snapshot_begin(fz_st, &s, &err) != 0)
		abort();
	who.who.org = org;
	rc = weft_fragrun_open(s, product, version, &who, data + 1, size - 1,
			       max, &r, &err);
	if (rc != 0) {
		if (r != NULL || err.msg[0] == 0)
			abort();
		/* what the asker may not see is refused as not found */
		if (rc == WEFT_ESTALE && !(p->vis >> oi & 1))
			abort();
	} else {
		uint64_t bound = p->rows ? p->rows : 1;
		weft_batch_t *b = fz_out_batch(data + 1, size - 1, oi, &bound);

		if (p->version == 0 || !(p->vis >> oi & 1) || org == NULL ||
		    (version != 0 && version != p->version) ||
		    weft_fragrun_version(r) != p->version)
			abort(); /* opened what it must refuse */
		fz_drain(r, bound, max, b, wq_frag_is_plan(data + 1, size - 1));
		weft_batch_free(b);
	}
	weft_fragrun_free(r);
	weft_snapshot_end(s);
	return 0;
}
