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

#include "crypto/handshake.h"
#include "crypto/identity.h"
#include "storage/descriptor.h"
#include "storage/store.h"

#define WEFT_VERSION "0.1.0"

/* The identity of a data directory's node: its key and certificate. */
typedef struct weft_node_id {
	weft_keypair_t *kp;
	uint8_t *cert;
	size_t cert_len;
	weft_cert_info_t info;
	weft_signer_t signer; /* borrows the fields above */
} weft_node_id_t;

/* Load DIR/node.key and DIR/node.cert. Prints the error itself. */
int weft_node_id_load(const char *dir, weft_node_id_t *id);
void weft_node_id_free(weft_node_id_t *id);

/* The mesh network key stored by weft init (meta "network_key"). Prints
 * the error itself; returns 0 or -1. */
int weft_node_netkey(weft_store_t *st, uint8_t key[WEFT_HS_KEY_BYTES]);

/* Open DIR's store, printing "weft: ..." on failure. */
int weft_cli_open_store(const char *dir, weft_store_t **st);
/* --data-dir, else $WEFT_DATA_DIR, else NULL with an error printed. */
const char *weft_cli_data_dir(const char *opt);
/* Print "weft CMD: msg" to stderr. */
void weft_cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int weft_cmd_org(int argc, char **argv);
int weft_cmd_init(int argc, char **argv);
int weft_cmd_publish(int argc, char **argv);
int weft_cmd_products(int argc, char **argv);
int weft_cmd_describe(int argc, char **argv);
int weft_cmd_drop(int argc, char **argv);
int weft_cmd_check(int argc, char **argv);
int weft_cmd_trust(int argc, char **argv);
int weft_cmd_query(int argc, char **argv);
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
/* The orgs ("a,b") this node links with only gateway to gateway. */
void weft_trust_via_list(weft_store_t *st, char *out, size_t n);
/* Tell DIR's running agent (if any, quietly) that the catalog changed. */
void weft_agent_notify(const char *dir);

#endif
