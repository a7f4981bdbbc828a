/*
 * cmd_product.c: `weft publish`, `products`, `describe`, `drop`, `check`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/util.h"
#include "storage/descriptor.h"
#include "storage/ingest.h"
#include "storage/odcs.h"

/* The progress line of `weft publish` on a terminal (stderr). */
typedef struct weft_publish_bar {
	const char *name;
	uint64_t t0; /* weft_mono_ns() when the ingest started */
	int shown;   /* a line is drawn and not yet ended */
} weft_publish_bar_t;

static void
weft_publish_fmt_count(char out[32], double v)
{
	if (v >= 1e6)
		snprintf(out, 32, "%.1fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(out, 32, "%.0fk", v / 1e3);
	else
		snprintf(out, 32, "%.0f", v);
}

/* weft_ingest_progress_fn: redraw the line; end it when done. */
static void
weft_publish_progress(void *arg, uint64_t bytes, uint64_t size, uint64_t nrows,
		      int done)
{
	weft_publish_bar_t *bar = arg;
	double secs = (double)(weft_mono_ns() - bar->t0) / 1e9;
	char rows[32], rate[32];

	weft_publish_fmt_count(rows, (double)nrows);
	weft_publish_fmt_count(rate, secs > 0 ? (double)nrows / secs : 0);
	fprintf(stderr,
		"\rpublishing %s: %s rows, %.0f MB/%.0f MB (%d%%), %s rows/s"
		"\033[K",
		bar->name, rows, (double)bytes / 1e6, (double)size / 1e6,
		bytes < size ? (int)(bytes * 100 / size) : 100, rate);
	if (done)
		fputc('\n', stderr);
	bar->shown = !done;
}

/* weft_ingest, drawing the progress line on stderr when bar is set. */
static int
weft_publish_ingest(weft_store_t *st, const char *name,
		    const weft_ingest_opts_t *io, const weft_signer_t *signer,
		    int bar, weft_ingest_result_t *res, weft_err_t *err)
{
	weft_publish_bar_t b = {name, weft_mono_ns(), 0};
	weft_ingest_opts_t o = *io;
	int rc;

	if (bar) {
		o.progress = weft_publish_progress;
		o.progress_arg = &b;
	}
	rc = weft_ingest(st, name, &o, signer, res, err);
	if (rc != 0 && b.shown)
		fputc('\n', stderr); /* end the line before the error */
	return rc;
}

static void
weft_publish_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: weft publish --data-dir DIR DOMAIN.PRODUCT FILE\n"
	    "                    [--contract CONTRACT.yaml] [--append | "
	    "--replace]\n"
	    "                    [--format csv|jsonl] [--visibility V]\n"
	    "                    [--quiet] [--json]\n\n"
	    "Publishes FILE (CSV with a header row, RFC 4180; or JSON Lines)\n"
	    "as a data product stored on this node, in one transaction: a\n"
	    "new version, or nothing at all if anything is wrong.\n"
	    "  --contract FILE  ODCS v3 data contract: names, types, owner,\n"
	    "                   description, tags (types are otherwise\n"
	    "                   inferred from the data)\n"
	    "  --append         add rows to the existing product\n"
	    "  --replace        replace the existing product's contents\n"
	    "  --format F       csv or jsonl (default: from the file name)\n"
	    "  --visibility V   who may see the product in the mesh catalog:\n"
	    "                   org (default: our org only), public, or a\n"
	    "                   list of other orgs: ORG[,ORG...]\n"
	    "  --quiet          no progress line\n");
}

#define WEFT_VISIBLE_MAX 64

static const char *
weft_visibility_name(int v)
{
	return v == 2 ? "public" : v == 1 ? "listed" : "org";
}

/* --visibility org | public | ORG[,ORG...] (listed orgs, besides ours). */
static int
weft_parse_visibility(const char *arg, weft_ingest_opts_t *io, char **list,
		      char *buf, size_t cap, weft_err_t *err)
{
	char *p, *save = NULL;

	io->set_visibility = 1;
	io->nvisible = 0;
	if (strcmp(arg, "org") == 0) {
		io->visibility = 0;
		return 0;
	}
	if (strcmp(arg, "public") == 0) {
		io->visibility = 2;
		return 0;
	}
	if (strlen(arg) >= cap)
		return weft_err_set(err, WEFT_EINVAL, "list too long");
	strcpy(buf, arg);
	io->visibility = 1;
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (weft_name_check("org", p, err) != 0)
			return WEFT_EINVAL;
		if (io->nvisible == WEFT_VISIBLE_MAX)
			return weft_err_set(err, WEFT_EINVAL, "at most %d orgs",
					    WEFT_VISIBLE_MAX);
		list[io->nvisible++] = p;
	}
	if (io->nvisible == 0)
		return weft_err_set(err, WEFT_EINVAL,
				    "want org, public or a "
				    "list of org names");
	io->visible_to = (const char *const *)list;
	return 0;
}

/* publish's command line. */
typedef struct pub_opts {
	const char *dir, *contract, *name, *file;
	weft_ingest_opts_t io;
	int json, quiet, append, replace;
	char *vis_list[WEFT_VISIBLE_MAX], vis_buf[1024];
} pub_opts_t;

/* Parse publish's options: 0, -1 after --help, or 2 (usage printed). */
static int
weft_publish_args(int argc, char **argv, pub_opts_t *o)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"contract", required_argument, NULL, 'c'},
	    {"append", no_argument, NULL, 'a'},
	    {"replace", no_argument, NULL, 'r'},
	    {"format", required_argument, NULL, 'f'},
	    {"visibility", required_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	weft_err_t err = {0};
	int c;

	optind = 1;
	o->io.format = WEFT_FMT_AUTO;
	while ((c = getopt_long(argc, argv, "d:c:arf:qjh", lo, NULL)) != -1) {
		switch (c) {
		case 'v':
			if (weft_parse_visibility(
				optarg, &o->io, o->vis_list, o->vis_buf,
				sizeof(o->vis_buf), &err) != 0) {
				weft_cli_error("publish", "--visibility: %s",
					       err.msg);
				return 2;
			}
			break;
		case 'd': o->dir = optarg; break;
		case 'c': o->contract = optarg; break;
		case 'a': o->append = 1; break;
		case 'r': o->replace = 1; break;
		case 'f':
			if (strcmp(optarg, "csv") == 0)
				o->io.format = WEFT_FMT_CSV;
			else if (strcmp(optarg, "jsonl") == 0 ||
				 strcmp(optarg, "ndjson") == 0)
				o->io.format = WEFT_FMT_JSONL;
			else {
				weft_cli_error("publish",
					       "--format: want csv "
					       "or jsonl, got \"%s\"",
					       optarg);
				return 2;
			}
			break;
		case 'q': o->quiet = 1; break;
		case 'j': o->json = 1; break;
		case 'h': weft_publish_usage(stdout); return -1;
		default: weft_publish_usage(stderr); return 2;
		}
	}
	if (optind + 2 != argc || (o->append && o->replace)) {
		weft_publish_usage(stderr);
		return 2;
	}
	o->dir = weft_cli_data_dir(o->dir);
	if (o->dir == NULL)
		return 2;
	o->name = argv[optind];
	o->file = argv[optind + 1];
	return 0;
}

/* Read --contract into *ci and check it is for product name. */
static int
weft_publish_contract(const char *path, const char *name,
		      weft_product_info_t *ci, weft_err_t *err)
{
	uint8_t *y;
	size_t yl;
	int rc;

	if ((rc = weft_read_file(path, WEFT_ODCS_MAX, &y, &yl, err)) != 0)
		return rc;
	rc = weft_odcs_parse(y, yl, path, ci, err);
	free(y);
	if (rc == 0 && ci->name != NULL && strcmp(ci->name, name) != 0)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "%s: contract is for "
				  "product \"%s\", not \"%s\"",
				  path, ci->name, name);
	return rc;
}

static void
weft_publish_report(const pub_opts_t *o, const weft_ingest_result_t *res)
{
	weft_json_t j;
	char secs[32];

	if (o->json) {
		snprintf(secs, sizeof(secs), "%.3f", res->seconds);
		weft_json_init(&j, stdout, 0);
		weft_json_begin_object(&j, NULL);
		weft_json_string(&j, "product", o->name);
		weft_json_uint(&j, "version", res->version);
		weft_json_uint(&j, "rows", res->rows);
		weft_json_uint(&j, "bytes", res->bytes);
		weft_json_raw(&j, "seconds", secs, strlen(secs));
		weft_json_end_object(&j);
		(void)weft_cli_json_end(&j);
	} else {
		printf("published %s version %llu: %llu rows in %.2f s "
		       "(%.0f rows/s)\n",
		       o->name, (unsigned long long)res->version,
		       (unsigned long long)res->rows, res->seconds,
		       res->seconds > 0 ? (double)res->rows / res->seconds
					: 0.0);
	}
}

int
weft_cmd_publish(int argc, char **argv)
{
	pub_opts_t o;
	weft_ingest_result_t res = {0};
	weft_product_info_t ci = {0};
	weft_node_id_t id;
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	int rc;

	memset(&o, 0, sizeof(o));
	if ((rc = weft_publish_args(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	if (weft_product_name_check(o.name, &err) != 0 ||
	    (o.contract != NULL &&
	     weft_publish_contract(o.contract, o.name, &ci, &err) != 0)) {
		weft_cli_error("publish", "%s", err.msg);
		weft_product_info_clear(&ci);
		return 1;
	}
	if (weft_cli_node_id(o.dir, &id) != 0) {
		weft_product_info_clear(&ci);
		return 1;
	}
	rc = 1;
	if (weft_cli_open_store(o.dir, &st) != 0)
		goto out;
	o.io.path = o.file;
	o.io.mode = o.append	? WEFT_PUB_APPEND
		    : o.replace ? WEFT_PUB_REPLACE
				: WEFT_PUB_CREATE;
	o.io.contract = o.contract ? &ci : NULL;
	if (weft_publish_ingest(st, o.name, &o.io, &id.signer,
				!o.quiet && !o.json && isatty(2), &res,
				&err) != 0) {
		weft_cli_error("publish", "%s", err.msg);
		goto out;
	}
	weft_publish_report(&o, &res);
	weft_agent_notify(o.dir); /* a running agent gossips it */
	rc = 0;
out:
	weft_store_close(st);
	weft_nodedir_id_free(&id);
	weft_product_info_clear(&ci);
	return rc;
}

/* Parse the common "--data-dir DIR [--json] [--contract]" options. */
static int
weft_read_opts(int argc, char **argv, const char *usage, const char **dir,
	       int *json, int *contract)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"contract", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	*dir = NULL;
	while ((c = getopt_long(argc, argv, "d:jch", lo, NULL)) != -1) {
		switch (c) {
		case 'd': *dir = optarg; break;
		case 'j': *json = 1; break;
		case 'c':
			if (contract == NULL)
				goto bad;
			*contract = 1;
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: goto bad;
		}
	}
	*dir = weft_cli_data_dir(*dir);
	return *dir ? 1 : -1;
bad:
	fputs(usage, stderr);
	return -1;
}

/* A product as one JSON object: the listing's fields, or (full) every
 * field of its descriptor. */
static void
weft_product_json(weft_json_t *j, const weft_product_info_t *p, int full)
{
	char ts[40];
	size_t i;

	weft_json_begin_object(j, NULL);
	weft_json_string(j, "name", p->name);
	weft_json_string(j, "org", p->org);
	weft_json_string(j, "node", p->node);
	weft_json_uint(j, "version", p->version);
	weft_json_uint(j, "rows", p->row_count);
	weft_json_uint(j, "columns", p->ncols);
	weft_fmt_ts(p->updated_at, ts);
	weft_json_string(j, "updated_at", ts);
	if (full) {
		weft_fmt_ts(p->created_at, ts);
		weft_json_string(j, "created_at", ts);
		weft_json_string(j, "owner", p->owner);
		weft_json_string(j, "description", p->description);
		weft_json_begin_array(j, "tags");
		for (i = 0; i < p->ntags; i++)
			weft_json_string(j, NULL, p->tags[i]);
		weft_json_end_array(j);
		weft_json_string(j, "visibility",
				 weft_visibility_name(p->visibility));
		weft_json_begin_array(j, "visible_to");
		for (i = 0; i < p->nvisible; i++)
			weft_json_string(j, NULL, p->visible_to[i]);
		weft_json_end_array(j);
		weft_json_begin_array(j, "schema");
		for (i = 0; i < p->ncols; i++) {
			weft_json_begin_object(j, NULL);
			weft_json_string(j, "name", p->cols[i].name);
			weft_json_string(j, "type",
					 weft_type_name(p->cols[i].type));
			weft_json_bool(j, "nullable", p->cols[i].nullable);
			weft_json_string(j, "description",
					 p->cols[i].description);
			weft_json_end_object(j);
		}
		weft_json_end_array(j);
	}
	weft_json_end_object(j);
}

int
weft_cmd_products(int argc, char **argv)
{
	static const char usage[] =
	    "usage: weft products --data-dir DIR [--json]\n\n"
	    "Lists the products this node hosts: name, rows, columns,\n"
	    "version and last update (UTC).\n";
	weft_product_info_t *list = NULL;
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	const char *dir;
	size_t n = 0, i;
	int json = 0, r;

	r = weft_read_opts(argc, argv, usage, &dir, &json, NULL);
	if (r <= 0)
		return r == 0 ? 0 : 2;
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (weft_cli_open_store(dir, &st) != 0)
		return 1;
	if (weft_product_list(st, &list, &n, &err) != 0) {
		weft_cli_error("products", "%s", err.msg);
		weft_store_close(st);
		return 1;
	}
	if (json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		weft_json_begin_array(&j, NULL);
		for (i = 0; i < n; i++)
			weft_product_json(&j, &list[i], 0);
		weft_json_end_array(&j);
		r = weft_cli_json_end(&j);
	} else if (n == 0) {
		printf("no products (publish one with weft publish)\n");
	} else {
		int w = 4;

		for (i = 0; i < n; i++)
			if ((int)strlen(list[i].name) > w)
				w = (int)strlen(list[i].name);
		printf("%-*s  %12s  %7s  %7s  %s\n", w, "NAME", "ROWS",
		       "COLUMNS", "VERSION", "UPDATED (UTC)");
		for (i = 0; i < n; i++) {
			char ts[40];

			weft_fmt_ts(list[i].updated_at -
					list[i].updated_at % 1000000,
				    ts);
			printf("%-*s  %12llu  %7zu  %7llu  %s\n", w,
			       list[i].name,
			       (unsigned long long)list[i].row_count,
			       list[i].ncols,
			       (unsigned long long)list[i].version, ts);
		}
	}
	for (i = 0; i < n; i++)
		weft_product_info_clear(&list[i]);
	free(list);
	weft_store_close(st);
	return json ? r : 0;
}

static void
weft_describe_human(const weft_product_info_t *p)
{
	char ts[40];
	size_t i;
	int w = 4;

	weft_fmt_ts(p->updated_at - p->updated_at % 1000000, ts);
	printf("%s\n", p->name);
	printf("  version:     %llu\n", (unsigned long long)p->version);
	printf("  rows:        %llu\n", (unsigned long long)p->row_count);
	printf("  updated:     %s UTC\n", ts);
	weft_fmt_ts(p->created_at - p->created_at % 1000000, ts);
	printf("  created:     %s UTC\n", ts);
	printf("  org:         %s\n", p->org ? p->org : "-");
	printf("  node:        %s\n", p->node ? p->node : "-");
	printf("  owner:       %s\n", p->owner ? p->owner : "-");
	printf("  description: %s\n", p->description ? p->description : "-");
	printf("  tags:        ");
	for (i = 0; i < p->ntags; i++)
		printf("%s%s", i ? ", " : "", p->tags[i]);
	printf("%s\n  visibility:  %s", p->ntags ? "" : "-",
	       weft_visibility_name(p->visibility));
	for (i = 0; i < p->nvisible; i++)
		printf("%s%s", i ? ", " : " (", p->visible_to[i]);
	printf("%s\n  schema:\n", p->nvisible ? ")" : "");
	for (i = 0; i < p->ncols; i++)
		if ((int)strlen(p->cols[i].name) > w)
			w = (int)strlen(p->cols[i].name);
	printf("    %-*s  %-9s  %-8s  %s\n", w, "NAME", "TYPE", "NULLABLE",
	       "DESCRIPTION");
	for (i = 0; i < p->ncols; i++)
		printf("    %-*s  %-9s  %-8s  %s\n", w, p->cols[i].name,
		       weft_type_name(p->cols[i].type),
		       p->cols[i].nullable ? "yes" : "no",
		       p->cols[i].description ? p->cols[i].description : "");
}

int
weft_cmd_describe(int argc, char **argv)
{
	static const char usage[] =
	    "usage: weft describe --data-dir DIR [ORG.]DOMAIN.PRODUCT "
	    "[--json | --contract]\n\n"
	    "Shows a product's descriptor: owner, description, tags, schema,\n"
	    "version, rows, freshness. A product this node does not host is\n"
	    "looked up in the gossiped catalog (weft catalog). --contract\n"
	    "prints it as an ODCS v3 data contract (YAML), keeping fields of\n"
	    "the contract it was published with.\n";
	weft_product_info_t p = {0};
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	const char *dir;
	int json = 0, contract = 0, r, rc = 1;

	r = weft_read_opts(argc, argv, usage, &dir, &json, &contract);
	if (r <= 0)
		return r == 0 ? 0 : 2;
	if (optind + 1 != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (weft_cli_open_store(dir, &st) != 0)
		return 1;
	if (weft_product_get(st, argv[optind], &p, &err) != 0) {
		weft_err_t e2 = {0};

		memset(&p, 0, sizeof(p));
		if (weft_catalog_lookup(st, argv[optind], &p, &e2) != 0) {
			weft_cli_error("describe", "%s",
				       e2.code == WEFT_ENOTFOUND ? err.msg
								 : e2.msg);
			goto out;
		}
	}
	if (contract) {
		uint8_t *y = NULL;
		size_t yl = 0;

		if (weft_odcs_emit(&p, &y, &yl, &err) != 0) {
			weft_cli_error("describe", "%s", err.msg);
			goto out;
		}
		fwrite(y, 1, yl, stdout);
		free(y);
	} else if (json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		weft_product_json(&j, &p, 1);
		if (weft_cli_json_end(&j) != 0)
			goto out;
	} else {
		weft_describe_human(&p);
	}
	rc = 0;
out:
	weft_product_info_clear(&p);
	weft_store_close(st);
	return rc;
}

int
weft_cmd_drop(int argc, char **argv)
{
	static const char usage[] =
	    "usage: weft drop --data-dir DIR DOMAIN.PRODUCT [--json]\n\n"
	    "Drops a product: its data, and a signed tombstone replaces its\n"
	    "descriptor in the catalog.\n";
	weft_node_id_t id;
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	const char *dir;
	int json = 0, r, rc = 1;

	r = weft_read_opts(argc, argv, usage, &dir, &json, NULL);
	if (r <= 0)
		return r == 0 ? 0 : 2;
	if (optind + 1 != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (weft_cli_node_id(dir, &id) != 0)
		return 1;
	if (weft_cli_open_store(dir, &st) != 0)
		goto out;
	if (weft_product_drop(st, argv[optind], &id.signer, &err) != 0) {
		weft_cli_error("drop", "%s", err.msg);
		goto out;
	}
	if (json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		weft_json_begin_object(&j, NULL);
		weft_json_string(&j, "dropped", argv[optind]);
		weft_json_end_object(&j);
		(void)weft_cli_json_end(&j);
	} else {
		printf("dropped %s\n", argv[optind]);
	}
	weft_agent_notify(dir); /* the tombstone spreads from the agent */
	rc = 0;
out:
	weft_store_close(st);
	weft_nodedir_id_free(&id);
	return rc;
}

/* weft_store_problem_fn: one problem per line on the FILE *arg. */
static void
weft_check_print(void *arg, const char *what)
{
	fprintf(arg, "%s\n", what);
}

int
weft_cmd_check(int argc, char **argv)
{
	static const char usage[] =
	    "usage: weft check --data-dir DIR [--json]\n\n"
	    "Verifies the store: every product's chunks are present, decode,\n"
	    "and add up to its row count. Exit 0 if healthy, 1 if not.\n";
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	const char *dir;
	int json = 0, r;

	r = weft_read_opts(argc, argv, usage, &dir, &json, NULL);
	if (r <= 0)
		return r == 0 ? 0 : 2;
	if (weft_cli_open_store(dir, &st) != 0)
		return 1;
	r = weft_store_check(st, json ? NULL : weft_check_print, stderr, &err);
	weft_store_close(st);
	if (r < 0) {
		weft_cli_error("check", "%s", err.msg);
		return 1;
	}
	if (json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		weft_json_begin_object(&j, NULL);
		weft_json_int(&j, "problems", r);
		weft_json_end_object(&j);
		(void)weft_cli_json_end(&j);
	} else {
		printf("%s: %d problem%s\n", dir, r, r == 1 ? "" : "s");
	}
	return r == 0 ? 0 : 1;
}
