/*
 * bench/catfill.c: weft-catfill, the load of the catalog benchmark
 * (bench/catalog.sh; docs/bench.md, "Catalog").
 *
 *   weft-catfill --data-dir DIR --count N [--prefix NAME]
 *                [--desc-bytes B]
 *
 * Stores N product descriptors (NAME.p0 ... NAME.pN-1, version 1, a
 * description of B bytes (default 120), four columns) signed by DIR's node in
 * its catalog, in one transaction: what N `weft publish` runs leave in the
 * catalog, without their data and in a second instead of minutes. The
 * node's agent, started afterwards, offers them to the mesh like any of
 * its own entries. Prints "stored=N bytes=B" (B: envelope bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "storage/catalog.h"
#include "storage/entry.h"
#include "storage/nodedir.h"
#include "weft.pb-c.h"

static void
cf_die(const char *what, const char *msg)
{
	fprintf(stderr, "weft-catfill: %s: %s\n", what, msg);
	exit(1);
}

/* One descriptor entry of node id, named name. */
static uint8_t *
cf_entry(const weft_node_id_t *id, const char *name, size_t dbytes, size_t *len)
{
	Weft__ProductDescriptor d = WEFT__PRODUCT_DESCRIPTOR__INIT;
	Weft__ColumnSchema cols[4], *cp[4];
	static const char *cn[4] = {"id", "amount", "country", "at"};
	char *desc = malloc(dbytes + 1);
	uint8_t *body, *env = NULL;
	size_t blen, i;
	weft_err_t err = {0};

	if (desc == NULL)
		cf_die("entry", "out of memory");
	memset(desc, 'd', dbytes);
	desc[dbytes] = 0;
	for (i = 0; i < 4; i++) {
		weft__column_schema__init(&cols[i]);
		cols[i].name = (char *)cn[i];
		cols[i].type = (Weft__ColumnType)(i + 1);
		cp[i] = &cols[i];
	}
	d.name = (char *)name;
	d.org = (char *)id->info.org_name;
	d.node = (char *)id->info.subject_name;
	d.owner = (char *)"bench";
	d.description = desc;
	d.version = 1;
	d.columns = cp;
	d.n_columns = 4;
	blen = weft__product_descriptor__get_packed_size(&d);
	body = malloc(blen);
	if (body == NULL)
		cf_die("entry", "out of memory");
	weft__product_descriptor__pack(&d, body);
	if (weft_entry_make(&id->signer, WEFT_ENTRY_DESCRIPTOR, name, 1, 0, 0,
			    body, blen, &env, len, &err) != 0)
		cf_die(name, err.msg);
	free(body);
	free(desc);
	return env;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *prefix = "bench";
	weft_node_id_t id = {0};
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	uint8_t **envs;
	size_t *lens, n = 0, i, stored, bytes = 0, dbytes = 120;
	char name[80];

	for (int a = 1; a + 1 < argc; a += 2) {
		if (strcmp(argv[a], "--data-dir") == 0)
			dir = argv[a + 1];
		else if (strcmp(argv[a], "--count") == 0)
			n = strtoul(argv[a + 1], NULL, 10);
		else if (strcmp(argv[a], "--prefix") == 0)
			prefix = argv[a + 1];
		else if (strcmp(argv[a], "--desc-bytes") == 0)
			dbytes = strtoul(argv[a + 1], NULL, 10);
	}
	if (dir == NULL || n == 0 || n > 10000000 || strlen(prefix) > 40 ||
	    dbytes > (1 << 20)) {
		fputs("usage: weft-catfill --data-dir DIR --count N "
		      "[--prefix NAME] [--desc-bytes B]\n",
		      stderr);
		return 2;
	}
	if (weft_nodedir_id_load(dir, &id, &err) != 0 ||
	    weft_store_open(dir, NULL, &st, &err) != 0)
		cf_die(dir, err.msg);
	envs = calloc(n, sizeof(*envs));
	lens = calloc(n, sizeof(*lens));
	if (envs == NULL || lens == NULL)
		cf_die("entries", "out of memory");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.p%zu", prefix, i);
		envs[i] = cf_entry(&id, name, dbytes, &lens[i]);
		bytes += lens[i];
	}
	if (weft_catalog_put_many(st, (const uint8_t *const *)envs, lens, n,
				  weft_now_us(), NULL, &stored, &err) != 0)
		cf_die("storing", err.msg);
	printf("stored=%zu bytes=%zu\n", stored, bytes);
	for (i = 0; i < n; i++)
		free(envs[i]);
	free(envs);
	free(lens);
	weft_store_close(st);
	weft_nodedir_id_free(&id);
	return 0;
}
