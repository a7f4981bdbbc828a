/*
 * util.c: what the subcommands share: the node identity of a data
 * directory, opening its store, error output.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/util.h"

void
weft_cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "weft %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *
weft_cli_data_dir(const char *opt)
{
	const char *d = opt ? opt : getenv("WEFT_DATA_DIR");

	if (d == NULL || *d == 0) {
		fprintf(stderr, "weft: no data directory: give --data-dir DIR "
				"or set WEFT_DATA_DIR\n");
		return NULL;
	}
	return d;
}

int
weft_cli_node_id(const char *dir, weft_node_id_t *id)
{
	weft_err_t err = {0};
	int rc = weft_nodedir_id_load(dir, id, &err);

	if (rc != 0)
		fprintf(stderr, "weft: %s\n", err.msg);
	return rc;
}

int
weft_cli_open_store(const char *dir, weft_store_t **st)
{
	weft_err_t err = {0};
	int rc;

	/* Read-only commands open read-write too: LMDB readers still need
	 * the lock file, and a read-only environment cannot grow its map. */
	rc = weft_store_open(dir, NULL, st, &err);
	if (rc != 0)
		fprintf(stderr, "weft: %s\n", err.msg);
	return rc;
}

int
weft_cli_json_end(weft_json_t *j)
{
	int rc = weft_json_finish(j);

	putchar('\n');
	return rc == 0 ? 0 : 1;
}
