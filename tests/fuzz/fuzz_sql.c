/*
 * fuzz_sql.c: libFuzzer harness for the SQL front end: parse (libpg_query),
 * bind, type and plan, against a small fixed store created once in
 * LLVMFuzzerInitialize (removed at exit). Every plan's scan fragments are
 * also encoded to protobuf and decoded again, and the decoded fragment
 * must re-encode to the same bytes.
 *
 * Execution is left out on purpose: a fuzzer quickly writes cross joins
 * whose results are astronomically large; the executor is covered by
 * test_query and the differential test.
 *
 * Build: make build/fuzz/fuzz_sql
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../testutil.h"
#include "query/qint.h"
#include "query/query.h"
#include "storage/ingest.h"

static char *fz_dir;
static weft_store_t *fz_st;
static weft_test_id_t fz_id;

static void
fz_cleanup(void)
{
	weft_store_close(fz_st);
	if (fz_dir)
		weft_test_rmrf(fz_dir);
	free(fz_dir);
	weft_test_id_free(&fz_id);
}

static void
fz_publish(const char *name, const char *csv)
{
	char path[512];
	FILE *fp;
	weft_ingest_opts_t o = {0};
	weft_err_t err = {0};

	snprintf(path, sizeof(path), "%s/in.csv", fz_dir);
	fp = fopen(path, "wb");
	if (fp == NULL)
		abort();
	fputs(csv, fp);
	fclose(fp);
	o.path = path;
	o.format = WEFT_FMT_CSV;
	o.mode = WEFT_PUB_CREATE;
	if (weft_ingest(fz_st, name, &o, &fz_id.signer, NULL, &err) != 0) {
		fprintf(stderr, "fuzz_sql: ingest %s: %s\n", name, err.msg);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	weft_store_opts_t o = {0};
	int64_t now = weft_now_s();

	(void)argc;
	(void)argv;
	fz_dir = weft_test_tmpdir();
	o.create = 1;
	if (weft_store_open(fz_dir, &o, &fz_st, NULL) != 0)
		abort();
	weft_test_id_make(&fz_id, "acme", "n1", now - 60, now + 86400 * 365);
	if (weft_store_trust_add(fz_st, &fz_id.root, NULL) != 0)
		abort();
	fz_publish("sales.t", "a,b,c,d,e\n1,x,1.5,true,2024-01-02 03:04:05\n"
			      "2,,,false,\n,yy,-2,,2023-12-31 00:00:00\n");
	fz_publish("geo.u", "a,f\n1,p\n3,q\n");
	fz_publish("hr.t", "z\n7\n");
	atexit(fz_cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};
	char *sql;

	if (size > 8192)
		return 0;
	sql = malloc(size + 1);
	if (sql == NULL)
		return 0;
	memcpy(sql, data, size);
	sql[size] = 0;
	if (weft_snapshot_begin(fz_st, &s, &err) != 0)
		abort();
	if (weft_query_prepare(s, sql, &q, &err) == 0) {
		wq_frag_t *frs[16];
		size_t n = wq_query_frags(q, frs, 16), i;

		for (i = 0; i < n; i++) {
			uint8_t *a = NULL, *b = NULL;
			size_t la, lb;
			wq_frag_t *back = NULL;

			if (wq_frag_encode(frs[i], &a, &la, &err) != 0)
				abort();
			if (wq_frag_decode(a, la, &back, &err) != 0) {
				fprintf(stderr, "fuzz_sql: fragment does not "
					"decode: %s\n", err.msg);
				abort();
			}
			if (wq_frag_encode(back, &b, &lb, &err) != 0 ||
			    la != lb || memcmp(a, b, la) != 0)
				abort();
			free(a);
			free(b);
			wq_frag_free(back);
		}
		(void)weft_query_ncols(q);
	} else if (err.msg[0] == 0) {
		abort(); /* every error says what went wrong */
	}
	weft_query_free(q);
	weft_snapshot_end(s);
	free(sql);
	return 0;
}
