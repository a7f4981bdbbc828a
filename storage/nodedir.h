/*
 * nodedir.h: what a data directory says about its own node, read the same
 * way by `weft agent` and by the commands: the identity files (node.key,
 * node.cert, written by `weft init`), and two settings in the store's
 * meta table: the mesh network key ("network_key") and the orgs this node
 * links with only gateway to gateway ("trust_via_gateway", "a,b").
 *
 * Nothing here prints: errors come back in a weft_err_t naming the file
 * or the setting, for the caller to show.
 */
#ifndef WEFT_STORAGE_NODEDIR_H
#define WEFT_STORAGE_NODEDIR_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/handshake.h"
#include "crypto/identity.h"
#include "lib/err.h"
#include "storage/store.h"

/* What a new data directory is made with (weft_nodedir_create). */
typedef struct weft_nodedir_new {
	const weft_keypair_t *org; /* the org root that certifies */
	const char *name;	   /* the node's name */
	const char *const *roles;  /* e.g. "gateway" */
	size_t nroles;
	int64_t valid_s;	    /* certificate validity from now */
	const uint8_t *network_key; /* WEFT_HS_KEY_BYTES */
} weft_nodedir_new_t;

/* The identity of a data directory's node: its key and certificate. */
typedef struct weft_node_id {
	weft_keypair_t *kp;
	uint8_t *cert;
	size_t cert_len;
	weft_cert_info_t info;
	weft_signer_t signer; /* borrows the fields above */
} weft_node_id_t;

/*
 * Load DIR/node.key and DIR/node.cert and check that the certificate is
 * for that key. *id is the caller's, freed with weft_nodedir_id_free (on
 * failure it is left cleared). Errors: those of weft_key_load, file and
 * certificate errors, WEFT_EINVAL (certificate for another key); the
 * message names the file.
 */
int weft_nodedir_id_load(const char *dir, weft_node_id_t *id, weft_err_t *err);
/* 0 if DIR holds no node yet, else WEFT_EEXIST ("already initialised"). */
int weft_nodedir_fresh(const char *dir, weft_err_t *err);
/*
 * Make a node's data directory: a fresh node key (DIR/node.key, 0600), a
 * certificate for it signed by nn->org (DIR/node.cert, valid from five
 * minutes ago for nn->valid_s), and the store holding the org's root as
 * trusted, the node's and org's names and the network key. DIR is made
 * (0700) if missing. *pk receives the node's public key. Errors:
 * WEFT_EEXIST (DIR/node.key exists: already initialised), key,
 * certificate, file and store errors; the message names the file.
 */
int weft_nodedir_create(const char *dir, const weft_nodedir_new_t *nn,
			uint8_t pk[WEFT_PK_BYTES], weft_err_t *err);
/* Wipe and free the key, free the certificate. Accepts a cleared id. */
void weft_nodedir_id_free(weft_node_id_t *id);

/*
 * The mesh network key stored by `weft init`. Errors: WEFT_ENOTFOUND
 * (none, or not WEFT_HS_KEY_BYTES long: "run weft init"), store errors.
 */
int weft_nodedir_netkey(weft_store_t *st, uint8_t key[WEFT_HS_KEY_BYTES],
			weft_err_t *err);

/* The orgs ("a,b", "" for none) linked with only gateway to gateway. */
void weft_nodedir_via_gateway(weft_store_t *st, char *out, size_t n);
/* Add (via = 1) or remove (via = 0) org in that list. */
int weft_nodedir_set_via_gateway(weft_store_t *st, const char *org, int via,
				 weft_err_t *err);

#endif
