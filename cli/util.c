/*
 * util.c: what the subcommands share: the node identity of a data
 * directory, opening its store, error output.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/util.h"
#include "cli/cli.h"

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
weft_node_id_load(const char *dir, weft_node_id_t *id)
{
	char path[4096];
	weft_err_t err = {0};
	int rc;

	memset(id, 0, sizeof(*id));
	snprintf(path, sizeof(path), "%s/node.key", dir);
	rc = weft_key_load(path, &id->kp, &err);
	if (rc != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/node.cert", dir);
	rc = weft_read_file(path, WEFT_CERT_MAX, &id->cert, &id->cert_len,
			    &err);
	if (rc != 0)
		goto fail;
	rc = weft_cert_decode(id->cert, id->cert_len, &id->info, &err);
	if (rc != 0) {
		weft_err_prefix(&err, "%s", path);
		goto fail;
	}
	if (memcmp(id->info.subject_pk, id->kp->pk, WEFT_PK_BYTES) != 0) {
		weft_err_set(&err, WEFT_EINVAL,
			     "%s: certificate is for another key", path);
		rc = WEFT_EINVAL;
		goto fail;
	}
	id->signer.kp = id->kp;
	id->signer.cert = id->cert;
	id->signer.cert_len = id->cert_len;
	id->signer.org = id->info.org_name;
	id->signer.node = id->info.subject_name;
	return 0;
fail:
	fprintf(stderr, "weft: %s\n", err.msg);
	weft_node_id_free(id);
	return rc;
}

void
weft_node_id_free(weft_node_id_t *id)
{
	weft_key_free(id->kp);
	free(id->cert);
	memset(id, 0, sizeof(*id));
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
weft_node_netkey(weft_store_t *st, uint8_t key[WEFT_HS_KEY_BYTES])
{
	uint8_t *v = NULL;
	size_t l = 0;
	weft_err_t err = {0};

	if (weft_store_meta_get(st, "network_key", &v, &l, &err) != 0 ||
	    l != WEFT_HS_KEY_BYTES) {
		fprintf(stderr, "weft: %s: no network key in the store (%s); "
				"run weft init\n", weft_store_dir(st),
			err.msg[0] ? err.msg : "wrong length");
		free(v);
		return -1;
	}
	memcpy(key, v, WEFT_HS_KEY_BYTES);
	sodium_memzero(v, l);
	free(v);
	return 0;
}
