/*
 * cmd_revoke.c: `weft org revoke`: an org root revokes a node key (issue
 * 14, finding 9; docs/gossip.md, "Revocation"). The revocation is signed
 * by the org root and carried into the mesh by the node of --data-dir,
 * as a catalog entry its agent spreads at once.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "crypto/revoke.h"
#include "lib/json.h"
#include "lib/util.h"
#include "storage/catalog.h"
#include "storage/nodedir.h"

static void
revoke_usage(FILE *f)
{
	fputs("usage: weft org revoke --org ORG.key --data-dir DIR NODE\n"
	      "                       [--reason TEXT] [--json]\n\n"
	      "Revokes every certificate the org root ORG.key issued for a\n"
	      "node: NODE is its public key (64 hex digits) or its name as\n"
	      "the catalog of DIR knows it. The revocation, signed by the org\n"
	      "root, is carried into the mesh by the node of DIR (its agent\n"
	      "spreads it at once); every node that trusts the org then\n"
	      "closes and refuses the node's sessions and drops its entries.\n"
	      "It cannot be undone: give the machine a new node key (weft\n"
	      "init) to bring it back.\n",
	      f);
}

/* Resolving a node name: the stored node records of org `org`. */
typedef struct rv_find {
	const char *name, *org;
	uint8_t pk[WEFT_PK_BYTES];
	int found;
} rv_find_t;

static int
revoke_find_fn(void *arg, const weft_entry_info_t *info, const uint8_t *env,
	       size_t len)
{
	rv_find_t *f = arg;

	(void)env;
	(void)len;
	if (strcmp(info->signer.subject_name, f->name) != 0 ||
	    strcmp(info->signer.org_name, f->org) != 0)
		return 0;
	if (f->found && memcmp(f->pk, info->origin, WEFT_PK_BYTES) == 0)
		return 0;
	memcpy(f->pk, info->origin, WEFT_PK_BYTES);
	f->found++;
	return 0;
}

/* NODE as a key: hex, or a name in the catalog of st. 0 or 1 (printed). */
static int
revoke_subject(weft_store_t *st, const char *node, const char *org,
	       uint8_t pk[WEFT_PK_BYTES])
{
	rv_find_t f = {node, org, {0}, 0};
	weft_err_t err = {0};

	if (strlen(node) == 2 * WEFT_PK_BYTES &&
	    weft_unhex(node, pk, WEFT_PK_BYTES) == 0)
		return 0;
	if (weft_catalog_list(st, WEFT_ENTRY_NODE, NULL, revoke_find_fn, &f,
			      &err) != 0) {
		weft_cli_error("org revoke", "%s", err.msg);
		return 1;
	}
	if (f.found == 0) {
		weft_cli_error("org revoke",
			       "no node \"%s\" of org %s in this node's "
			       "catalog: give its public key (64 hex digits; "
			       "weft members --json shows them)",
			       node, org);
		return 1;
	}
	if (f.found > 1) {
		weft_cli_error("org revoke",
			       "%d nodes of org %s are named \"%s\": give the "
			       "public key of the one to revoke",
			       f.found, org, node);
		return 1;
	}
	memcpy(pk, f.pk, WEFT_PK_BYTES);
	return 0;
}

typedef struct rv_opts {
	const char *orgf, *dir, *reason, *node;
	int json;
} rv_opts_t;

static int
revoke_args(int argc, char **argv, rv_opts_t *o)
{
	static const struct option lo[] = {
	    {"org", required_argument, NULL, 'o'},
	    {"data-dir", required_argument, NULL, 'd'},
	    {"reason", required_argument, NULL, 'r'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:d:r:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'o': o->orgf = optarg; break;
		case 'd': o->dir = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': revoke_usage(stdout); return -1;
		default: revoke_usage(stderr); return 2;
		}
	}
	o->dir = weft_cli_data_dir(o->dir);
	if (o->orgf == NULL || o->dir == NULL || optind + 1 != argc) {
		revoke_usage(stderr);
		return 2;
	}
	o->node = argv[optind];
	return 0;
}

/* The entry carrying the revocation, signed by the node of o->dir, into
 * its store. 0 or 1 (printed). */
static int
revoke_store(const rv_opts_t *o, weft_store_t *st, const weft_keypair_t *org,
	     const uint8_t pk[WEFT_PK_BYTES], int64_t now)
{
	weft_node_id_t id = {0};
	weft_entry_info_t info;
	weft_err_t err = {0};
	uint8_t *body = NULL, *env = NULL;
	size_t blen, elen;
	char name[WEFT_REVOCATION_NAME + 1];
	weft_revoked_t k;
	int rc = 1;

	memcpy(k.subject, pk, WEFT_PK_BYTES);
	memcpy(k.org, org->pk, WEFT_PK_BYTES);
	weft_revocation_name(&k, name);
	if (weft_nodedir_id_load(o->dir, &id, &err) != 0)
		goto out;
	if (memcmp(pk, id.kp->pk, WEFT_PK_BYTES) == 0) {
		weft_err_set(&err, WEFT_EINVAL,
			     "node %s is the node of %s: carry its revocation "
			     "from another node",
			     id.info.subject_name, o->dir);
		goto out;
	}
	if (weft_revocation_make(org, pk, now, o->reason, &body, &blen, &err) !=
		0 ||
	    weft_entry_make(&id.signer, WEFT_ENTRY_REVOCATION, name,
			    (uint64_t)now, 0, 0, body, blen, &env, &elen,
			    &err) != 0 ||
	    weft_catalog_put(st, env, elen, now, &info, &err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		weft_cli_error("org revoke", "%s", err.msg);
	free(body);
	free(env);
	weft_nodedir_id_free(&id);
	return rc;
}

int
weft_cmd_org_revoke(int argc, char **argv)
{
	rv_opts_t o;
	weft_keypair_t *org = NULL;
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	uint8_t pk[WEFT_PK_BYTES];
	char hex[2 * WEFT_PK_BYTES + 1];
	int64_t now = weft_now_us();
	int rc;

	if ((rc = revoke_args(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	if (weft_key_load(o.orgf, &org, &err) != 0) {
		weft_cli_error("org revoke", "%s", err.msg);
		return 1;
	}
	rc = 1;
	if (org->kind != WEFT_KEY_ORG) {
		weft_cli_error("org revoke",
			       "%s: not an org key: only an org root revokes",
			       o.orgf);
		goto out;
	}
	if (weft_cli_open_store(o.dir, &st) != 0 ||
	    revoke_subject(st, o.node, org->name, pk) != 0 ||
	    revoke_store(&o, st, org, pk, now) != 0)
		goto out;
	weft_agent_notify(o.dir);
	weft_hex(pk, WEFT_PK_BYTES, hex);
	if (o.json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		weft_json_begin_object(&j, NULL);
		weft_json_string(&j, "revoked", hex);
		weft_json_string(&j, "org", org->name);
		weft_json_int(&j, "revoked_at", now);
		weft_json_string(&j, "reason", o.reason ? o.reason : "");
		weft_json_end_object(&j);
		rc = weft_cli_json_end(&j) != 0;
	} else {
		printf(
		    "revoked node key %s of org %s; carried into the mesh by "
		    "%s\n",
		    hex, org->name, o.dir);
		rc = 0;
	}
out:
	weft_store_close(st);
	weft_key_free(org);
	return rc;
}
