/*
 * cli.h: the `weft` command line: one function per subcommand, and the
 * helpers they share (option parsing, the node identity of a data
 * directory, output). Each command returns the process exit code:
 * 0 success, 1 failure (message already on stderr), 2 usage error.
 */
#ifndef WEFT_CLI_CLI_H
#define WEFT_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypto/handshake.h"
#include "crypto/identity.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/version.h"
#include "query/query.h"
#include "storage/descriptor.h"
#include "storage/nodedir.h"
#include "storage/store.h"
#include "weft.pb-c.h"

/* weft_nodedir_id_load, printing "weft: ..." on failure. */
int weft_cli_node_id(const char *dir, weft_node_id_t *id);
/* Open DIR's store, printing "weft: ..." on failure. */
int weft_cli_open_store(const char *dir, weft_store_t **st);
/* --data-dir, else $WEFT_DATA_DIR, else NULL with an error printed. */
const char *weft_cli_data_dir(const char *opt);
/* After a command's JSON value: check it (weft_json_finish), end the
 * line; the exit code, 0 or 1. */
int weft_cli_json_end(weft_json_t *j);
/* Print "weft CMD: msg" to stderr. */
void weft_cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int weft_cmd_org(int argc, char **argv);
int weft_cmd_init(int argc, char **argv);
/* `weft init --renew` (cmd_renew.c): a fresh node.cert for the node's
 * existing key, signed by the same org root; argv as weft_cmd_init's. */
int weft_cmd_init_renew(int argc, char **argv);
int weft_cmd_publish(int argc, char **argv);
int weft_cmd_products(int argc, char **argv);
int weft_cmd_describe(int argc, char **argv);
int weft_cmd_drop(int argc, char **argv);
int weft_cmd_check(int argc, char **argv);
int weft_cmd_trust(int argc, char **argv);
int weft_cmd_policy(int argc, char **argv);
int weft_cmd_audit(int argc, char **argv);
int weft_cmd_query(int argc, char **argv);
int weft_cmd_profile(int argc, char **argv);
int weft_cmd_agent(int argc, char **argv);
int weft_cmd_status(int argc, char **argv);
int weft_cmd_peers(int argc, char **argv);
int weft_cmd_members(int argc, char **argv);
int weft_cmd_catalog(int argc, char **argv);
int weft_cmd_sim(int argc, char **argv);
/*
 * A product of any node from DIR's catalog (as `weft catalog` lists it),
 * by ORG.DOMAIN.PRODUCT or a DOMAIN.PRODUCT only one org publishes.
 * *out is the caller's (weft_product_info_clear). Errors: WEFT_ENOTFOUND,
 * WEFT_EINVAL (ambiguous), store errors.
 */
int weft_catalog_lookup(weft_store_t *st, const char *name,
			weft_product_info_t *out, weft_err_t *err);
/* Tell DIR's running agent (if any, quietly) that the catalog changed. */
void weft_agent_notify(const char *dir);
/* `weft org revoke` (cmd_revoke.c); argv[0] is "revoke". */
int weft_cmd_org_revoke(int argc, char **argv);
/* ---- query_out.c: printing a query's result ---- */

enum { WEFT_QOUT_TABLE, WEFT_QOUT_CSV, WEFT_QOUT_JSON };
typedef struct weft_qout weft_qout_t;
/* A printer of q's result in format fmt to f. WEFT_ENOMEM. */
int weft_qout_new(int fmt, const weft_query_t *q, FILE *f, weft_qout_t **out);
/* The same for n columns names/types (copied): an agent's answer. */
int weft_qout_new_shape(int fmt, uint32_t n, const char *const *names,
			const weft_sqltype_t *types, FILE *f,
			weft_qout_t **out);
/* Rows of one batch (the first call prints the CSV header or JSON's
 * bracket first). WEFT_ENOMEM. */
int weft_qout_batch(weft_qout_t *o, const weft_batch_t *b, weft_err_t *err);
/* The end of the rows: the table itself, or JSON's closing bracket; then
 * flush. WEFT_EIO if the output could not be written. */
int weft_qout_end(weft_qout_t *o);
void weft_qout_free(weft_qout_t *o);

#endif
