/*
 * sql_fixture.h: the small store that the SQL harnesses (fuzz_sql,
 * fuzz_frag) and test_frag query: three products in a temporary
 * directory, removed at exit. Header-only, as testutil.h is, so that
 * each harness stays one file; any failure aborts.
 *
 *   sales.t  a,b,c,d,e   (bigint, text, double precision, boolean,
 *                         timestamp; three rows with NULLs)
 *   geo.u    a,f         (two rows)
 *   hr.t     z           (one row)
 */
#ifndef WEFT_TESTS_SQL_FIXTURE_H
#define WEFT_TESTS_SQL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "../testutil.h"
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

#define FZ_SALES_CSV                                                           \
	"a,b,c,d,e\n1,x,1.5,true,2024-01-02 03:04:05\n"                        \
	"2,,,false,\n,yy,-2,,2023-12-31 00:00:00\n"
#define FZ_GEO_CSV "a,f\n1,p\n3,q\n"
#define FZ_HR_CSV "z\n7\n"

/* Publish csv as product name with options o (path and format are set
 * here); any failure aborts. */
static void
fz_publish_opts(const char *name, const char *csv, weft_ingest_opts_t *o)
{
	char path[512];
	FILE *fp;
	weft_err_t err = {0};

	snprintf(path, sizeof(path), "%s/in.csv", fz_dir);
	fp = fopen(path, "wb");
	if (fp == NULL)
		abort();
	fputs(csv, fp);
	fclose(fp);
	o->path = path;
	o->format = WEFT_FMT_CSV;
	if (weft_ingest(fz_st, name, o, &fz_id.signer, NULL, &err) != 0) {
		fprintf(stderr, "sql_fixture: ingest %s: %s\n", name, err.msg);
		abort();
	}
}

static void
fz_publish(const char *name, const char *csv)
{
	weft_ingest_opts_t o = {0};

	o.mode = WEFT_PUB_CREATE;
	fz_publish_opts(name, csv, &o);
}

/* Create the store (once per process) and remove it at exit. */
static void
fz_fixture_init(void)
{
	weft_store_opts_t o = {0};
	int64_t now = weft_now_s();

	fz_dir = weft_test_tmpdir();
	o.create = 1;
	if (weft_store_open(fz_dir, &o, &fz_st, NULL) != 0)
		abort();
	weft_test_id_make(&fz_id, "acme", "n1", now - 60, now + 86400 * 365);
	if (weft_store_trust_add(fz_st, &fz_id.root, NULL) != 0)
		abort();
	fz_publish("sales.t", FZ_SALES_CSV);
	fz_publish("geo.u", FZ_GEO_CSV);
	fz_publish("hr.t", FZ_HR_CSV);
	atexit(fz_cleanup);
}

#endif
