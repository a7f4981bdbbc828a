/*
 * cmd_policy.c: `weft policy set|show|list|drop`: who may read this
 * node's products, and how (storage/policy.h; docs/policy.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/util.h"
#include "query/serve.h"
#include "storage/catalog.h"
#include "storage/policy_store.h"

static const char weft_policy_usage[] =
    "usage: weft policy set  --data-dir DIR DOMAIN.PRODUCT FILE [--json]\n"
    "       weft policy show --data-dir DIR [ORG.]DOMAIN.PRODUCT [--json]\n"
    "       weft policy list --data-dir DIR [--json]\n"
    "       weft policy drop --data-dir DIR DOMAIN.PRODUCT [--json]\n\n"
    "A policy says who, besides this node, may read one of its products\n"
    "and how: grants to orgs, org:roles or node keys, each with the\n"
    "columns it may read (or those it may not), an expiry, and rules for\n"
    "rows, masks, aggregates and noise (FILE: YAML, docs/policy.md).\n"
    "Without a policy every org that may see a product may read all of\n"
    "it; with one, every requester but this node needs a grant, its own\n"
    "org too. The node that holds the data checks every fragment it is\n"
    "asked against the policy, whatever the asking node's software did.\n"
    "`set` refuses a policy that does not bind against the product\n"
    "(unknown column, bad predicate), naming the line.\n";

/* Options: --data-dir, --json; then the positional arguments. */
static int
pol_opts(int argc, char **argv, const char **dir, int *json)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	*dir = NULL;
	while ((c = getopt_long(argc, argv, "d:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'd': *dir = optarg; break;
		case 'j': *json = 1; break;
		case 'h': fputs(weft_policy_usage, stdout); return 0;
		default: fputs(weft_policy_usage, stderr); return -1;
		}
	}
	*dir = weft_cli_data_dir(*dir);
	return *dir ? 1 : -1;
}

static void
pol_strings(weft_json_t *j, const char *key, char **v, size_t n)
{
	size_t i;

	weft_json_begin_array(j, key);
	for (i = 0; i < n; i++)
		weft_json_string(j, NULL, v[i]);
	weft_json_end_array(j);
}

static void
pol_grant_json(weft_json_t *j, const Weft__PolicyGrant *g)
{
	size_t i;

	weft_json_begin_object(j, NULL);
	weft_json_uint(j, "line", g->line);
	pol_strings(j, "to", g->to, g->n_to);
	if (g->n_columns)
		pol_strings(j, "columns", g->columns, g->n_columns);
	if (g->n_deny)
		pol_strings(j, "deny", g->deny, g->n_deny);
	if (g->n_masks) {
		weft_json_begin_array(j, "masks");
		for (i = 0; i < g->n_masks; i++) {
			weft_json_begin_object(j, NULL);
			weft_json_string(j, "column", g->masks[i]->column);
			weft_json_string(j, "kind", g->masks[i]->kind);
			if (g->masks[i]->unit && g->masks[i]->unit[0])
				weft_json_string(j, "unit", g->masks[i]->unit);
			if (strcmp(g->masks[i]->kind, "round") == 0)
				weft_json_int(j, "digits", g->masks[i]->digits);
			weft_json_end_object(j);
		}
		weft_json_end_array(j);
	}
	if (g->rows && g->rows[0])
		weft_json_string(j, "rows", g->rows);
	if (g->aggregate) {
		weft_json_begin_object(j, "aggregate");
		if (g->aggregate->min_group)
			weft_json_uint(j, "min_group", g->aggregate->min_group);
		if (g->aggregate->entity && g->aggregate->entity[0])
			weft_json_string(j, "entity", g->aggregate->entity);
		pol_strings(j, "functions", g->aggregate->functions,
			    g->aggregate->n_functions);
		weft_json_end_object(j);
	}
	if (g->noise) {
		weft_json_begin_object(j, "noise");
		weft_json_double(j, "epsilon", g->noise->epsilon);
		weft_json_double(j, "budget", g->noise->budget);
		weft_json_string(j, "per", g->noise->per);
		weft_json_begin_object(j, "bounds");
		for (i = 0; i < g->noise->n_bounds; i++) {
			weft_json_begin_array(j, g->noise->bounds[i]->column);
			weft_json_double(j, NULL, g->noise->bounds[i]->lo);
			weft_json_double(j, NULL, g->noise->bounds[i]->hi);
			weft_json_end_array(j);
		}
		weft_json_end_object(j);
		weft_json_end_object(j);
	}
	if (g->expires_at) {
		char ts[40];

		weft_fmt_ts(g->expires_at, ts);
		weft_json_string(j, "expires", ts);
	}
	weft_json_end_object(j);
}

static void
pol_json(weft_json_t *j, const char *key, const Weft__Policy *p,
	 uint64_t version)
{
	size_t i;

	weft_json_begin_object(j, key);
	weft_json_string(j, "product", p->product);
	weft_json_uint(j, "version", version);
	weft_json_begin_array(j, "grants");
	for (i = 0; i < p->n_grants; i++)
		pol_grant_json(j, p->grants[i]);
	weft_json_end_array(j);
	weft_json_end_object(j);
}

/* The rows predicates bind with the query binder (policy_set checks
 * only that they parse): an unknown function is refused now, not at the
 * first query. No product: policy_set says so. */
static int
pol_check_rows(weft_store_t *st, const char *name, const Weft__Policy *p,
	       const char *path, weft_err_t *err)
{
	weft_product_info_t pi = {0};
	weft_snapshot_t *snap = NULL;
	uint64_t sid;
	uint32_t nch;
	int rc;

	if ((rc = weft_snapshot_begin(st, &snap, err)) != 0)
		return rc;
	if (weft_snapshot_product(snap, name, &pi, &sid, &nch, err) == 0)
		rc = weft_policy_check_rows(p, &pi, path, err);
	else
		memset(err, 0, sizeof(*err));
	weft_product_info_clear(&pi);
	weft_snapshot_end(snap);
	return rc;
}

static int
pol_set(weft_store_t *st, const weft_node_id_t *id, const char *name,
	const char *path, int json)
{
	Weft__Policy *p = NULL;
	weft_err_t err = {0};
	uint8_t *y = NULL;
	size_t yl = 0;
	uint64_t version = 0;
	int rc;

	rc = weft_read_file(path, WEFT_POLICY_YAML_MAX, &y, &yl, &err);
	if (rc == 0)
		rc = weft_policy_parse(y, yl, path, &p, &err);
	free(y);
	if (rc == 0)
		rc = pol_check_rows(st, name, p, path, &err);
	if (rc == 0)
		rc = weft_policy_set(st, &id->signer, name, p, path, &version,
				     &err);
	if (rc != 0) {
		weft_cli_error("policy set", "%s", err.msg);
		weft__policy__free_unpacked(p, NULL);
		return 1;
	}
	if (json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		pol_json(&j, NULL, p, version);
		rc = weft_cli_json_end(&j);
	} else {
		printf("policy of %s set: version %llu, %zu grant%s\n", name,
		       (unsigned long long)version, p->n_grants,
		       p->n_grants == 1 ? "" : "s");
	}
	weft__policy__free_unpacked(p, NULL);
	return rc;
}

/* The nodes of org `org` whose POLICY entries of `name` this store
 * holds (gossiped here), at most POL_REMOTE_MAX. */
#define POL_REMOTE_MAX 16
typedef struct pol_remote {
	const char *org, *name;
	const uint8_t *self;
	uint8_t pk[POL_REMOTE_MAX][WEFT_PK_BYTES];
	char node[POL_REMOTE_MAX][WEFT_NAME_MAX + 1];
	size_t n;
} pol_remote_t;

static int
pol_remote_cb(void *arg, const weft_entry_info_t *info, const uint8_t *env,
	      size_t len)
{
	pol_remote_t *r = arg;

	(void)env;
	(void)len;
	if (strcmp(info->name, r->name) == 0 &&
	    strcmp(info->signer.org_name, r->org) == 0 &&
	    memcmp(info->origin, r->self, WEFT_PK_BYTES) != 0 &&
	    r->n < POL_REMOTE_MAX) {
		memcpy(r->pk[r->n], info->origin, WEFT_PK_BYTES);
		snprintf(r->node[r->n], sizeof(r->node[0]), "%s",
			 info->signer.subject_name);
		r->n++;
	}
	return 0;
}

/* `policy show ORG.DOMAIN.PRODUCT`: the policies of that product that
 * gossip brought here (the orgs a policy names receive it), per node. */
static int
pol_show_remote(weft_store_t *st, const weft_node_id_t *id, const char *full,
		int json)
{
	char org[WEFT_NAME_MAX + 1];
	const char *dot = strchr(full, '.');
	pol_remote_t r = {org, dot ? dot + 1 : "", id->kp->pk, {{0}}, {""}, 0};
	weft_snapshot_t *snap = NULL;
	weft_err_t err = {0};
	weft_json_t j;
	size_t i, shown = 0;
	int rc;

	if (dot == NULL || (size_t)(dot - full) > WEFT_NAME_MAX) {
		weft_cli_error("policy show", "bad name \"%s\"", full);
		return 1;
	}
	memcpy(org, full, (size_t)(dot - full));
	org[dot - full] = 0;
	rc = weft_catalog_list(st, WEFT_ENTRY_POLICY, r.name, pol_remote_cb, &r,
			       &err);
	if (rc == 0)
		rc = weft_snapshot_begin(st, &snap, &err);
	if (json && rc == 0) {
		weft_json_init(&j, stdout, 0);
		weft_json_begin_array(&j, NULL);
	}
	for (i = 0; rc == 0 && i < r.n; i++) {
		Weft__Policy *p = NULL;
		uint64_t version = 0;
		char *y = NULL;
		size_t yl = 0;

		rc = weft_snapshot_policy(snap, r.pk[i], r.name, &p, &version,
					  &err);
		if (rc != 0 || p == NULL) /* dropped */
			continue;
		shown++;
		if (json) {
			weft_json_begin_object(&j, NULL);
			weft_json_string(&j, "org", org);
			weft_json_string(&j, "node", r.node[i]);
			pol_json(&j, "policy", p, version);
			weft_json_end_object(&j);
		} else if ((rc = weft_policy_yaml(p, &y, &yl, &err)) == 0) {
			printf("# policy of %s on node %s, version %llu (as "
			       "gossiped here)\n",
			       full, r.node[i], (unsigned long long)version);
			fwrite(y, 1, yl, stdout);
		}
		free(y);
		weft__policy__free_unpacked(p, NULL);
	}
	weft_snapshot_end(snap);
	if (json && rc == 0) {
		weft_json_end_array(&j);
		rc = weft_cli_json_end(&j);
	}
	if (rc == 0 && shown == 0 && !json)
		rc = weft_err_set(&err, WEFT_ENOTFOUND,
				  "no policy of %s has reached this node (a "
				  "policy goes only to the orgs it names)",
				  full);
	if (rc != 0) {
		weft_cli_error("policy show", "%s", err.msg);
		return 1;
	}
	return 0;
}

static int
pol_show(weft_store_t *st, const weft_node_id_t *id, const char *name, int json)
{
	weft_snapshot_t *snap = NULL;
	Weft__Policy *p = NULL;
	weft_err_t err = {0};
	uint64_t version = 0;
	char *y = NULL;
	size_t yl = 0;
	int rc;

	rc = weft_snapshot_begin(st, &snap, &err);
	if (rc == 0)
		rc = weft_snapshot_policy(snap, id->kp->pk, name, &p, &version,
					  &err);
	weft_snapshot_end(snap);
	if (rc == 0 && p == NULL)
		rc = weft_err_set(&err, WEFT_ENOTFOUND,
				  "no policy is set for %s on this node (every "
				  "org that may see it may read all of it)",
				  name);
	if (rc == 0 && !json)
		rc = weft_policy_yaml(p, &y, &yl, &err);
	if (rc != 0) {
		weft_cli_error("policy show", "%s", err.msg);
		weft__policy__free_unpacked(p, NULL);
		return 1;
	}
	if (json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		pol_json(&j, NULL, p, version);
		rc = weft_cli_json_end(&j);
	} else {
		printf("# policy of %s, version %llu\n", name,
		       (unsigned long long)version);
		fwrite(y, 1, yl, stdout);
	}
	free(y);
	weft__policy__free_unpacked(p, NULL);
	return rc;
}

typedef struct pol_list {
	const uint8_t *self;
	int json;
	weft_json_t *j;
	size_t n;
} pol_list_t;

/* weft_catalog_fn: this node's policies in force. */
static int
pol_list_one(void *arg, const weft_entry_info_t *info, const uint8_t *env,
	     size_t len)
{
	pol_list_t *l = arg;

	(void)env;
	(void)len;
	if (info->tombstone ||
	    memcmp(info->origin, l->self, WEFT_PK_BYTES) != 0)
		return 0;
	l->n++;
	if (l->json) {
		weft_json_begin_object(l->j, NULL);
		weft_json_string(l->j, "product", info->name);
		weft_json_uint(l->j, "version", info->version);
		weft_json_end_object(l->j);
	} else {
		printf("%-40s version %llu\n", info->name,
		       (unsigned long long)info->version);
	}
	return 0;
}

static int
pol_list(weft_store_t *st, const weft_node_id_t *id, int json)
{
	weft_json_t j;
	weft_err_t err = {0};
	pol_list_t l = {id->kp->pk, json, &j, 0};
	int rc;

	if (json) {
		weft_json_init(&j, stdout, 0);
		weft_json_begin_array(&j, NULL);
	}
	rc = weft_catalog_list(st, WEFT_ENTRY_POLICY, NULL, pol_list_one, &l,
			       &err);
	if (rc != 0) {
		weft_cli_error("policy list", "%s", err.msg);
		return 1;
	}
	if (json) {
		weft_json_end_array(&j);
		return weft_cli_json_end(&j);
	}
	if (l.n == 0)
		printf("no policies: every org that may see one of this "
		       "node's products may read all of it\n");
	return 0;
}

static int
pol_drop(weft_store_t *st, const weft_node_id_t *id, const char *name, int json)
{
	weft_err_t err = {0};
	uint64_t version = 0;

	if (weft_policy_set(st, &id->signer, name, NULL, NULL, &version,
			    &err) != 0) {
		weft_cli_error("policy drop", "%s", err.msg);
		return 1;
	}
	if (json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		weft_json_begin_object(&j, NULL);
		weft_json_string(&j, "dropped", name);
		weft_json_uint(&j, "version", version);
		weft_json_end_object(&j);
		return weft_cli_json_end(&j);
	}
	printf("policy of %s dropped (version %llu): every org that may see "
	       "it may read all of it\n",
	       name, (unsigned long long)version);
	return 0;
}

int
weft_cmd_policy(int argc, char **argv)
{
	const char *dir, *sub;
	weft_node_id_t id;
	weft_store_t *st = NULL;
	int json = 0, r, rc = 1, want;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(weft_policy_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	want = strcmp(sub, "set") == 0	  ? 2
	       : strcmp(sub, "show") == 0 ? 1
	       : strcmp(sub, "drop") == 0 ? 1
	       : strcmp(sub, "list") == 0 ? 0
					  : -1;
	if (want < 0) {
		weft_cli_error("policy", "unknown subcommand \"%s\"", sub);
		fputs(weft_policy_usage, stderr);
		return 2;
	}
	r = pol_opts(argc - 1, argv + 1, &dir, &json);
	if (r <= 0)
		return r == 0 ? 0 : 2;
	if (argc - 1 - optind != want) {
		fputs(weft_policy_usage, stderr);
		return 2;
	}
	argv += 1 + optind;
	if (weft_cli_node_id(dir, &id) != 0)
		return 1;
	if (weft_cli_open_store(dir, &st) != 0)
		goto out;
	if (strcmp(sub, "set") == 0)
		rc = pol_set(st, &id, argv[0], argv[1], json);
	else if (strcmp(sub, "show") == 0)
		rc = strchr(argv[0], '.') &&
			     strchr(strchr(argv[0], '.') + 1, '.')
			 ? pol_show_remote(st, &id, argv[0], json)
			 : pol_show(st, &id, argv[0], json);
	else if (strcmp(sub, "drop") == 0)
		rc = pol_drop(st, &id, argv[0], json);
	else
		rc = pol_list(st, &id, json);
	if (rc == 0 && (strcmp(sub, "set") == 0 || strcmp(sub, "drop") == 0))
		weft_agent_notify(dir); /* the new version spreads from it */
out:
	weft_store_close(st);
	weft_nodedir_id_free(&id);
	return rc;
}
