/*
 * cmd_catalog.c: `weft catalog`: the decentralised catalog as this node
 * sees it.
 *
 * Every product descriptor entry in the store's catalog (this node's own,
 * written by `weft publish`, and everyone else's, written by the running
 * agent's gossip) that verifies against the trusted roots now and is not a
 * tombstone is listed, sorted by full name (org.domain.product).
 *
 * Invariants: what is shown about a product's org and node comes from the
 * signer's verified certificate, never from the descriptor alone; an entry
 * whose descriptor does not decode, is filed under another name, claims
 * another org or node than its signer's, or holds text that is not UTF-8
 * is skipped with a warning on stderr and the listing goes on. Text from
 * other nodes is printed to a terminal with control characters replaced,
 * so a hostile description cannot send escape sequences.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/utf8.h"
#include "lib/util.h"
#include "storage/catalog.h"
#include "storage/descriptor.h"

#define WEFT_CAT_DESC_COLS 48 /* description width in the table */
#define WEFT_CAT_TAGS_COLS 24 /* tags width in the table */

/* Which fields a --search term matched (bits of cr_matched). */
enum {
	WEFT_CAT_M_NAME = 1,
	WEFT_CAT_M_DESC = 2,
	WEFT_CAT_M_TAG = 4,
	WEFT_CAT_M_COLUMN = 8,
};

/* One product as listed: its descriptor and who signed it. */
typedef struct weft_catalog_row {
	weft_product_info_t cr_pi;
	char *cr_full;			/* org.domain.product, malloc'd */
	char cr_org[WEFT_NAME_MAX + 1]; /* from the signer's certificate */
	char cr_node[WEFT_NAME_MAX + 1];
	uint8_t cr_origin[WEFT_PK_BYTES];
	unsigned cr_matched; /* WEFT_CAT_M_* */
} weft_catalog_row_t;

/* State of one walk over the catalog. */
typedef struct weft_catalog_walk {
	const weft_trust_t *cw_trust;
	int64_t cw_now;
	const char *cw_search; /* NULL: list everything */
	weft_catalog_row_t *cw_rows;
	size_t cw_n, cw_cap;
	size_t cw_live;	   /* verified, decoded, not tombstones */
	size_t cw_skipped; /* entries skipped with a warning */
} weft_catalog_walk_t;

/* 1 if s (may be NULL) is well-formed UTF-8. */
static int
weft_catalog_utf8_ok(const char *s)
{
	return s == NULL || weft_utf8_valid(s, strlen(s));
}

/* Display columns of s (lib/utf8's rule: East Asian wide two). */
static size_t
weft_catalog_width(const char *s)
{
	return weft_utf8_width(s, strlen(s));
}

/*
 * Print s to f for a terminal: at most max characters (0: no limit), cut
 * with "..." when longer, then spaces up to pad characters (0: none).
 * Control characters (C0, DEL, C1) print as a space and malformed bytes
 * as '?', so text from other nodes cannot drive the terminal.
 */
static void
weft_catalog_cell(FILE *f, const char *s, size_t max, size_t pad)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "-");
	size_t len = strlen((const char *)p);
	size_t w = weft_utf8_width((const char *)p, len), shown = 0, keep;
	size_t n, i = 0;
	uint32_t cp;

	keep = (max > 3 && w > max) ? max - 3 : w;
	while (i < len) {
		n = weft_utf8_decode(p + i, len - i, &cp);
		if (shown + (n ? (size_t)weft_utf8_cpwidth(cp) : 1) > keep)
			break;
		if (n == 0)
			fputc('?', f);
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			fputc(' ', f);
		else
			fwrite(p + i, 1, n, f);
		shown += n ? (size_t)weft_utf8_cpwidth(cp) : 1;
		i += n ? n : 1;
	}
	if (keep < w) {
		fputs("...", f);
		shown += 3;
	}
	for (; shown < pad; shown++)
		fputc(' ', f);
}

/*
 * Warn on stderr: weft catalog: skipping entry "NAME" from node N (org O,
 * key K...): WHY. Name and why may hold another node's text: sanitized.
 */
static void
weft_catalog_warn(const weft_entry_info_t *info, const char *why)
{
	char hex[2 * WEFT_PK_BYTES + 1];

	weft_hex(info->origin, WEFT_PK_BYTES, hex);
	hex[16] = 0;
	fputs("weft catalog: skipping entry \"", stderr);
	weft_catalog_cell(stderr, info->name, 80, 0);
	fprintf(stderr, "\" from node %s (org %s, key %s...): ",
		info->signer.subject_name, info->signer.org_name, hex);
	weft_catalog_cell(stderr, why, 0, 0);
	fputc('\n', stderr);
}

/*
 * Check a decoded descriptor's text: UTF-8 only (its name, org and node
 * were checked against the signer by weft_entry_check_body). 0, or
 * WEFT_EINVAL with a message.
 */
static int
weft_catalog_row_check(const weft_product_info_t *pi, weft_err_t *err)
{
	size_t i;
	int ok;

	ok = weft_catalog_utf8_ok(pi->owner) &&
	     weft_catalog_utf8_ok(pi->description);
	for (i = 0; ok && i < pi->ntags; i++)
		ok = weft_catalog_utf8_ok(pi->tags[i]);
	for (i = 0; ok && i < pi->ncols; i++)
		ok = weft_catalog_utf8_ok(pi->cols[i].name) &&
		     weft_catalog_utf8_ok(pi->cols[i].description);
	if (!ok)
		return weft_err_set(err, WEFT_EINVAL,
				    "descriptor text is not valid UTF-8");
	return 0;
}

/* Which fields of r match term, case-insensitively (WEFT_CAT_M_*). */
static unsigned
weft_catalog_match(const weft_catalog_row_t *r, const char *term)
{
	const weft_product_info_t *pi = &r->cr_pi;
	unsigned m = 0;
	size_t i;

	if (strcasestr(r->cr_full, term) != NULL)
		m |= WEFT_CAT_M_NAME;
	if (pi->description && strcasestr(pi->description, term) != NULL)
		m |= WEFT_CAT_M_DESC;
	for (i = 0; i < pi->ntags; i++)
		if (strcasestr(pi->tags[i], term) != NULL)
			m |= WEFT_CAT_M_TAG;
	for (i = 0; i < pi->ncols; i++)
		if (strcasestr(pi->cols[i].name, term) != NULL)
			m |= WEFT_CAT_M_COLUMN;
	return m;
}

static void
weft_catalog_row_clear(weft_catalog_row_t *r)
{
	weft_product_info_clear(&r->cr_pi);
	free(r->cr_full);
	r->cr_full = NULL;
}

/*
 * weft_catalog_list callback: verify the entry again to get its body,
 * decode and check the descriptor, keep it if it matches the search.
 * Returns 0 to go on, WEFT_ENOMEM to stop.
 */
static int
weft_catalog_collect(void *arg, const weft_entry_info_t *info,
		     const uint8_t *env, size_t len)
{
	weft_catalog_walk_t *w = arg;
	weft_catalog_row_t r;
	weft_entry_info_t vi;
	weft_err_t e = {0};
	uint8_t *body = NULL;
	size_t blen = 0, flen;
	int rc, verified;

	if (info->tombstone)
		return 0;
	memset(&r, 0, sizeof(r));
	rc = weft_entry_verify(env, len, w->cw_trust, w->cw_now, &vi, &body,
			       &blen, &e);
	verified = rc == 0;
	if (verified && vi.tombstone) {
		free(body);
		return 0;
	}
	if (rc == 0)
		rc = weft_entry_check_body(&vi, body, blen, &e);
	if (rc == 0)
		rc = weft_product_info_decode(body, blen, &r.cr_pi, &e);
	free(body);
	if (rc == 0)
		rc = weft_catalog_row_check(&r.cr_pi, &e);
	if (rc == WEFT_ENOMEM)
		goto fail;
	if (rc != 0) {
		weft_catalog_warn(verified ? &vi : info, e.msg);
		w->cw_skipped++;
		weft_catalog_row_clear(&r);
		return 0;
	}
	w->cw_live++;
	memcpy(r.cr_org, vi.signer.org_name, sizeof(r.cr_org));
	memcpy(r.cr_node, vi.signer.subject_name, sizeof(r.cr_node));
	memcpy(r.cr_origin, vi.origin, WEFT_PK_BYTES);
	flen = strlen(r.cr_org) + 1 + strlen(r.cr_pi.name) + 1;
	r.cr_full = malloc(flen);
	if (r.cr_full == NULL)
		goto fail;
	snprintf(r.cr_full, flen, "%s.%s", r.cr_org, r.cr_pi.name);
	if (w->cw_search != NULL) {
		r.cr_matched = weft_catalog_match(&r, w->cw_search);
		if (r.cr_matched == 0) {
			weft_catalog_row_clear(&r);
			return 0;
		}
	}
	if (w->cw_n == w->cw_cap) {
		size_t cap = w->cw_cap ? 2 * w->cw_cap : 16;
		weft_catalog_row_t *nr = realloc(w->cw_rows, cap * sizeof(*nr));

		if (nr == NULL)
			goto fail;
		w->cw_rows = nr;
		w->cw_cap = cap;
	}
	w->cw_rows[w->cw_n++] = r;
	return 0;
fail:
	weft_catalog_row_clear(&r);
	return WEFT_ENOMEM;
}

static void
weft_catalog_walk_free(weft_catalog_walk_t *w)
{
	size_t i;

	for (i = 0; i < w->cw_n; i++)
		weft_catalog_row_clear(&w->cw_rows[i]);
	free(w->cw_rows);
	memset(w, 0, sizeof(*w));
}

/*
 * Every descriptor of st's catalog that verifies against its trusted
 * roots now (and matches search, if not NULL) into w, which the caller
 * frees with weft_catalog_walk_free. Errors: store, WEFT_ENOMEM.
 */
static int
weft_catalog_load(weft_store_t *st, const char *search, weft_catalog_walk_t *w,
		  weft_err_t *err)
{
	weft_pubkey_t *roots = NULL;
	weft_trust_t trust = {0};
	size_t nroots = 0;
	int rc;

	memset(w, 0, sizeof(*w));
	rc = weft_store_trust_list(st, &roots, &nroots, err);
	if (rc != 0)
		return rc;
	trust.roots = roots;
	trust.n = nroots;
	w->cw_trust = &trust;
	w->cw_now = weft_now_us();
	w->cw_search = search;
	rc = weft_catalog_list(st, WEFT_ENTRY_DESCRIPTOR, NULL,
			       weft_catalog_collect, w, err);
	w->cw_trust = NULL;
	free(roots);
	if (rc == WEFT_ENOMEM)
		weft_err_set(err, rc, "out of memory");
	return rc;
}

int
weft_catalog_lookup(weft_store_t *st, const char *name,
		    weft_product_info_t *out, weft_err_t *err)
{
	weft_catalog_walk_t w;
	char orgs[256] = "";
	size_t i, found = 0, pick = 0;
	int rc = weft_catalog_load(st, NULL, &w, err);

	for (i = 0; rc == 0 && i < w.cw_n; i++) {
		const weft_catalog_row_t *r = &w.cw_rows[i];

		if (strcmp(r->cr_full, name) != 0 &&
		    strcmp(r->cr_pi.name, name) != 0)
			continue;
		pick = i;
		snprintf(orgs + strlen(orgs), sizeof(orgs) - strlen(orgs),
			 "%s%s", found++ ? ", " : "", r->cr_org);
	}
	if (rc == 0 && found == 0)
		rc = weft_err_set(err, WEFT_ENOTFOUND,
				  "no product \"%s\" "
				  "here or in the catalog",
				  name);
	else if (rc == 0 && found > 1)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "\"%s\" is published by "
				  "several nodes (orgs %s): give "
				  "ORG.DOMAIN.PRODUCT",
				  name, orgs);
	if (rc == 0) { /* hand the row's descriptor over */
		*out = w.cw_rows[pick].cr_pi;
		memset(&w.cw_rows[pick].cr_pi, 0, sizeof(*out));
	}
	weft_catalog_walk_free(&w);
	return rc;
}

/* By full name, then node name, then origin key. */
static int
weft_catalog_cmp(const void *a, const void *b)
{
	const weft_catalog_row_t *x = a, *y = b;
	int c = strcmp(x->cr_full, y->cr_full);

	if (c == 0)
		c = strcmp(x->cr_node, y->cr_node);
	if (c == 0)
		c = memcmp(x->cr_origin, y->cr_origin, WEFT_PK_BYTES);
	return c;
}

static void
weft_catalog_json_row(weft_json_t *j, const weft_catalog_row_t *r, int search)
{
	static const struct {
		unsigned bit;
		const char *name;
	} fields[] = {
	    {WEFT_CAT_M_NAME, "name"},
	    {WEFT_CAT_M_DESC, "description"},
	    {WEFT_CAT_M_TAG, "tag"},
	    {WEFT_CAT_M_COLUMN, "column"},
	};
	const weft_product_info_t *pi = &r->cr_pi;
	char hex[2 * WEFT_PK_BYTES + 1];
	size_t i;

	weft_json_begin_object(j, NULL);
	weft_json_string(j, "name", r->cr_full);
	weft_json_string(j, "product", pi->name);
	weft_json_string(j, "org", r->cr_org);
	weft_json_string(j, "node", r->cr_node);
	weft_json_string(j, "node_key",
			 weft_hex(r->cr_origin, WEFT_PK_BYTES, hex));
	weft_json_uint(j, "version", pi->version);
	weft_json_uint(j, "rows", pi->row_count);
	weft_json_int(j, "updated_us", pi->updated_at);
	weft_json_string(j, "owner", pi->owner);
	weft_json_string(j, "description", pi->description);
	weft_json_begin_array(j, "tags");
	for (i = 0; i < pi->ntags; i++)
		weft_json_string(j, NULL, pi->tags[i]);
	weft_json_end_array(j);
	weft_json_begin_array(j, "columns");
	for (i = 0; i < pi->ncols; i++) {
		weft_json_begin_object(j, NULL);
		weft_json_string(j, "name", pi->cols[i].name);
		weft_json_string(j, "type", weft_type_name(pi->cols[i].type));
		weft_json_end_object(j);
	}
	weft_json_end_array(j);
	if (search) {
		weft_json_begin_array(j, "matched");
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (r->cr_matched & fields[i].bit)
				weft_json_string(j, NULL, fields[i].name);
		weft_json_end_array(j);
	}
	weft_json_end_object(j);
}

/* The tags of a row joined with ", " (malloc'd; NULL if none or OOM). */
static char *
weft_catalog_tags(const weft_product_info_t *pi)
{
	size_t i, len = 1;
	char *s;

	if (pi->ntags == 0)
		return NULL;
	for (i = 0; i < pi->ntags; i++)
		len += strlen(pi->tags[i]) + 2;
	s = malloc(len);
	if (s == NULL)
		return NULL;
	s[0] = 0;
	for (i = 0; i < pi->ntags; i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, pi->tags[i]);
	}
	return s;
}

static void
weft_catalog_table(const weft_catalog_walk_t *w)
{
	size_t i, wn = 4, wnode = 4, worg = 3, wtags = 4, x;
	char ts[40];

	for (i = 0; i < w->cw_n; i++) {
		const weft_product_info_t *pi = &w->cw_rows[i].cr_pi;
		char *tags = weft_catalog_tags(pi);

		if ((x = weft_catalog_width(w->cw_rows[i].cr_full)) > wn)
			wn = x;
		if ((x = strlen(w->cw_rows[i].cr_node)) > wnode)
			wnode = x;
		if ((x = strlen(w->cw_rows[i].cr_org)) > worg)
			worg = x;
		if (tags != NULL && (x = weft_catalog_width(tags)) > wtags)
			wtags = x;
		free(tags);
	}
	if (wtags > WEFT_CAT_TAGS_COLS)
		wtags = WEFT_CAT_TAGS_COLS;
	printf("%-*s  %-*s  %-*s  %7s  %12s  %-19s  %-*s  %s\n", (int)wn,
	       "NAME", (int)wnode, "NODE", (int)worg, "ORG", "VERSION", "ROWS",
	       "UPDATED (UTC)", (int)wtags, "TAGS", "DESCRIPTION");
	for (i = 0; i < w->cw_n; i++) {
		const weft_catalog_row_t *r = &w->cw_rows[i];
		const weft_product_info_t *pi = &r->cr_pi;
		char *tags = weft_catalog_tags(pi);

		weft_catalog_cell(stdout, r->cr_full, 0, wn + 2);
		printf("%-*s  %-*s  %7llu  %12llu  ", (int)wnode, r->cr_node,
		       (int)worg, r->cr_org, (unsigned long long)pi->version,
		       (unsigned long long)pi->row_count);
		if (pi->updated_at > 0)
			weft_fmt_ts(pi->updated_at - pi->updated_at % 1000000,
				    ts);
		else
			strcpy(ts, "-");
		printf("%-19s  ", ts);
		weft_catalog_cell(stdout, tags, wtags, wtags + 2);
		weft_catalog_cell(stdout, pi->description, WEFT_CAT_DESC_COLS,
				  0);
		putchar('\n');
		free(tags);
	}
}

static void
weft_catalog_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: weft catalog --data-dir DIR [--search TERM] [--json]\n\n"
	    "Lists the decentralised catalog as this node sees it: every\n"
	    "data product whose signed descriptor this node holds and can\n"
	    "verify against its trusted org roots: its own (weft publish)\n"
	    "and those the running agent heard of by gossip. Dropped\n"
	    "products are not shown. Sorted by full name,\n"
	    "ORG.DOMAIN.PRODUCT.\n"
	    "  --search TERM  only products where TERM occurs, ignoring ASCII\n"
	    "                 case, in the full name (org, domain or "
	    "product),\n"
	    "                 the description, a tag or a column name\n"
	    "  --json         an array of objects: name, product, org, node,\n"
	    "                 node_key, version, rows, updated_us, owner,\n"
	    "                 description, tags, columns (name, type) and,\n"
	    "                 with --search, matched (the fields that\n"
	    "                 matched: name, description, tag, column)\n"
	    "Entries that fail to decode are skipped with a warning.\n");
}

int
weft_cmd_catalog(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"search", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	weft_catalog_walk_t w;
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	const char *dir = NULL, *search = NULL;
	size_t i;
	int json = 0, c, rc = 1;

	memset(&w, 0, sizeof(w));
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:s:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 's': search = optarg; break;
		case 'j': json = 1; break;
		case 'h': weft_catalog_usage(stdout); return 0;
		default: weft_catalog_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		weft_catalog_usage(stderr);
		return 2;
	}
	if (search != NULL && *search == 0) {
		weft_cli_error("catalog", "--search: empty search term");
		return 2;
	}
	dir = weft_cli_data_dir(dir);
	if (dir == NULL)
		return 2;
	if (weft_cli_open_store(dir, &st) != 0)
		return 1;
	if (weft_catalog_load(st, search, &w, &err) != 0) {
		weft_cli_error("catalog", "%s", err.msg);
		goto out;
	}
	if (w.cw_n > 1)
		qsort(w.cw_rows, w.cw_n, sizeof(w.cw_rows[0]),
		      weft_catalog_cmp);
	if (json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		weft_json_begin_array(&j, NULL);
		for (i = 0; i < w.cw_n; i++)
			weft_catalog_json_row(&j, &w.cw_rows[i],
					      search != NULL);
		weft_json_end_array(&j);
		if (weft_cli_json_end(&j) != 0)
			goto out;
	} else {
		weft_catalog_table(&w);
		if (w.cw_n == 0 && search != NULL)
			fprintf(stderr,
				"weft catalog: no products match "
				"\"%s\"\n",
				search);
		else if (w.cw_live == 0 && w.cw_skipped == 0)
			fprintf(stderr, "weft catalog: the catalog is empty "
					"(publish with weft publish, or run "
					"weft agent to hear of others)\n");
	}
	rc = 0;
out:
	weft_catalog_walk_free(&w);
	weft_store_close(st);
	return rc;
}
