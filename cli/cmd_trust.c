/*
 * cmd_trust.c: `weft trust add|list|remove`: the org roots a node trusts
 * besides its own (issue 4's trust boundaries start here).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/util.h"

static const char weft_trust_usage[] =
    "usage: weft trust add    --data-dir DIR ORG.pub [--via-gateway] [--json]\n"
    "       weft trust list   --data-dir DIR [--json]\n"
    "       weft trust remove --data-dir DIR ORG.pub|PUBLIC_KEY_HEX\n\n"
    "A node trusts its own org's root (added by weft init) and the org\n"
    "roots added here: certificates, and everything signed under them,\n"
    "are accepted only when they chain to one of these roots. The own\n"
    "org's root cannot be removed.\n\n"
    "  --via-gateway  trust the org's signatures, but link with its nodes\n"
    "                 only gateway to gateway (both nodes with the\n"
    "                 gateway role); its products reach our nodes through\n"
    "                 our gateways, and only those it shares with us\n";

/* The org this data directory's node belongs to (meta "org"). */
static int
weft_trust_own(weft_store_t *st, char *out, size_t n)
{
	uint8_t *v = NULL;
	size_t l = 0;

	out[0] = 0;
	if (weft_store_meta_get(st, "org", &v, &l, NULL) != 0)
		return -1;
	snprintf(out, n, "%.*s", (int)l, (const char *)v);
	free(v);
	return 0;
}

static int
weft_trust_in_list(const char *list, const char *org)
{
	size_t n = strlen(org);
	const char *p = list;

	while ((p = strstr(p, org)) != NULL) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
			return 1;
		p += n;
	}
	return 0;
}

static int
weft_trust_list(weft_store_t *st, int json)
{
	weft_pubkey_t *roots = NULL;
	weft_err_t err = {0};
	char own[WEFT_NAME_MAX + 1], hex[2 * WEFT_PK_BYTES + 1], via[4096];
	weft_json_t j;
	size_t n = 0, i;

	if (weft_store_trust_list(st, &roots, &n, &err) != 0) {
		weft_cli_error("trust", "%s", err.msg);
		return 1;
	}
	weft_trust_own(st, own, sizeof(own));
	weft_nodedir_via_gateway(st, via, sizeof(via));
	weft_json_init(&j, stdout, 0);
	if (json)
		weft_json_begin_array(&j, NULL);
	else
		printf("%-20s %-64s %s\n", "ORG", "PUBLIC KEY", "");
	for (i = 0; i < n; i++) {
		int mine = strcmp(roots[i].name, own) == 0;

		weft_hex(roots[i].pk, WEFT_PK_BYTES, hex);
		if (json) {
			weft_json_begin_object(&j, NULL);
			weft_json_string(&j, "org", roots[i].name);
			weft_json_string(&j, "public_key", hex);
			weft_json_bool(&j, "own", mine);
			weft_json_bool(&j, "via_gateway",
				       weft_trust_in_list(via, roots[i].name));
			weft_json_end_object(&j);
		} else {
			printf("%-20s %s %s\n", roots[i].name, hex,
			       mine ? "(own org)"
			       : weft_trust_in_list(via, roots[i].name)
				   ? "(through gateways)"
				   : "");
		}
	}
	free(roots);
	if (!json)
		return 0;
	weft_json_end_array(&j);
	return weft_cli_json_end(&j);
}

/* A key given as a file (public or secret org key) or as 64 hex digits. */
static int
weft_trust_key_arg(const char *arg, weft_pubkey_t *pk, weft_err_t *err)
{
	memset(pk, 0, sizeof(*pk));
	if (strlen(arg) == 2 * WEFT_PK_BYTES &&
	    weft_unhex(arg, pk->pk, WEFT_PK_BYTES) == 0)
		return 0;
	return weft_pub_load(arg, pk, err);
}

/* `weft trust add`: pk as a trusted root (via: gateway to gateway). */
static int
weft_trust_add(weft_store_t *st, const weft_pubkey_t *pk, const char *arg,
	       int via, int json)
{
	char hex[2 * WEFT_PK_BYTES + 1];
	weft_err_t err = {0};
	weft_json_t j;

	weft_hex(pk->pk, WEFT_PK_BYTES, hex);
	if (pk->kind != WEFT_KEY_ORG) {
		weft_cli_error("trust",
			       "%s: not an org key (a node's key "
			       "cannot be a trusted root)",
			       arg);
		return 1;
	}
	if (weft_store_trust_add(st, pk, &err) != 0 ||
	    weft_nodedir_set_via_gateway(st, pk->name, via, &err) != 0) {
		weft_cli_error("trust", "%s", err.msg);
		return 1;
	}
	if (!json) {
		printf("trusting org %s (%s)%s\n", pk->name, hex,
		       via ? ", through gateways only" : "");
		return 0;
	}
	weft_json_init(&j, stdout, 0);
	weft_json_begin_object(&j, NULL);
	weft_json_string(&j, "added", hex);
	weft_json_string(&j, "org", pk->name);
	weft_json_bool(&j, "via_gateway", via);
	weft_json_end_object(&j);
	(void)weft_cli_json_end(&j);
	return 0;
}

/* `weft trust remove`: never the node's own org. */
static int
weft_trust_remove(weft_store_t *st, weft_pubkey_t *pk, int json)
{
	char own[WEFT_NAME_MAX + 1], hex[2 * WEFT_PK_BYTES + 1];
	weft_pubkey_t *roots = NULL;
	weft_err_t err = {0};
	weft_json_t j;
	size_t n = 0, i;
	int found = 0;

	weft_hex(pk->pk, WEFT_PK_BYTES, hex);
	weft_trust_own(st, own, sizeof(own));
	if (weft_store_trust_list(st, &roots, &n, &err) != 0) {
		weft_cli_error("trust", "%s", err.msg);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (memcmp(roots[i].pk, pk->pk, WEFT_PK_BYTES) == 0) {
			found = 1;
			snprintf(pk->name, sizeof(pk->name), "%s",
				 roots[i].name);
			if (strcmp(roots[i].name, own) == 0) {
				free(roots);
				weft_cli_error("trust",
					       "%s is this node's own "
					       "org root; it cannot be removed",
					       own);
				return 1;
			}
		}
	free(roots);
	if (!found) {
		weft_cli_error("trust", "org key %s is not trusted", hex);
		return 1;
	}
	if (weft_store_trust_remove(st, pk->pk, &err) != 0 ||
	    weft_nodedir_set_via_gateway(st, pk->name, 0, &err) != 0) {
		weft_cli_error("trust", "%s", err.msg);
		return 1;
	}
	if (!json) {
		printf("no longer trusting %s\n", hex);
		return 0;
	}
	weft_json_init(&j, stdout, 0);
	weft_json_begin_object(&j, NULL);
	weft_json_string(&j, "removed", hex);
	weft_json_end_object(&j);
	(void)weft_cli_json_end(&j);
	return 0;
}

int
weft_cmd_trust(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"via-gateway", no_argument, NULL, 'g'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *verb;
	int via = 0;
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	weft_pubkey_t pk;
	int json = 0, c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'j': json = 1; break;
		case 'g': via = 1; break;
		case 'h': fputs(weft_trust_usage, stdout); return 0;
		default: fputs(weft_trust_usage, stderr); return 2;
		}
	}
	if (optind >= argc) {
		fputs(weft_trust_usage, stderr);
		return 2;
	}
	verb = argv[optind];
	if (!(strcmp(verb, "list") == 0 && optind + 1 == argc) &&
	    !((strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0) &&
	      optind + 2 == argc)) {
		fputs(weft_trust_usage, stderr);
		return 2;
	}
	dir = weft_cli_data_dir(dir);
	if (dir == NULL)
		return 2;
	if (weft_cli_open_store(dir, &st) != 0)
		return 1;
	if (strcmp(verb, "list") == 0)
		rc = weft_trust_list(st, json);
	else if (weft_trust_key_arg(argv[optind + 1], &pk, &err) != 0)
		weft_cli_error("trust", "%s", err.msg);
	else if (strcmp(verb, "add") == 0)
		rc = weft_trust_add(st, &pk, argv[optind + 1], via, json);
	else
		rc = weft_trust_remove(st, &pk, json);
	weft_store_close(st);
	return rc;
}
