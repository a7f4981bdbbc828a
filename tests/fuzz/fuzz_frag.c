/*
 * fuzz_frag.c: libFuzzer harness for the scan-fragment decoder
 * (wq_frag_decode, query/frag.h) fed raw bytes, as a fragment from
 * another node would arrive.
 *
 * Bytes are refused (with a message) or decoded into a fragment that
 * keeps frag.h's promises:
 *  - encode and decode accept the same fragments: the decoded fragment
 *    encodes, that encoding decodes, and re-encodes to the same bytes;
 *  - the executor may trust it: it runs against the small store of
 *    sql_fixture.h (seeds name its products) to the end or to an error,
 *    never to a crash.
 *
 * Seeds (tests/fuzz/seeds/fuzz_frag/) are fragments the planner made for
 * queries over that store; test_frag writes them again when run with
 * WEFT_FRAG_SEEDS=DIR.
 *
 * Build: make build/fuzz/fuzz_frag
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/qint.h"
#include "sql_fixture.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_fixture_init();
	return 0;
}

/* Encoding of f; aborts when encoding fails (only out of memory may). */
static uint8_t *
fz_encode(const wq_frag_t *f, size_t *len)
{
	uint8_t *buf = NULL;
	weft_err_t err = {0};

	if (wq_frag_encode(f, &buf, len, &err) != 0)
		abort();
	return buf;
}

/* Run f over the fixture to its end (or an error). */
static void
fz_run(const wq_frag_t *f)
{
	weft_snapshot_t *s = NULL;
	weft_err_t err = {0};
	wq_exec_t x = {0};
	wq_op_t *op = NULL;
	weft_batch_t *b;
	int rc;

	if (weft_snapshot_begin(fz_st, &s, &err) != 0)
		abort();
	x.snap = s;
	if (wq_frag_open(&x, f, &op, &err) == 0) {
		while ((rc = wq_op_next(op, &b, &err)) == 1)
			;
		if (rc < 0 && err.msg[0] == 0)
			abort(); /* every error says what went wrong */
	} else if (err.msg[0] == 0) {
		abort();
	}
	wq_op_free(op);
	weft_snapshot_end(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wq_frag_t *f = NULL, *g = NULL;
	weft_err_t err = {0};
	uint8_t *a, *b;
	size_t la, lb;

	if (wq_frag_decode(data, size, &f, &err) != 0) {
		if (f != NULL || err.msg[0] == 0)
			abort();
		return 0;
	}
	a = fz_encode(f, &la);
	if (wq_frag_decode(a, la, &g, &err) != 0) {
		fprintf(stderr,
			"fuzz_frag: re-encoded fragment does not "
			"decode: %s\n",
			err.msg);
		abort();
	}
	b = fz_encode(g, &lb);
	if (la != lb || memcmp(a, b, la) != 0)
		abort();
	fz_run(f);
	free(a);
	free(b);
	wq_frag_free(f);
	wq_frag_free(g);
	return 0;
}
