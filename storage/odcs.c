/*
 * odcs.c: Open Data Contract Standard (ODCS) v3 YAML <-> weft_product_info_t.
 *
 * The YAML is loaded into a small tree of our own (scalars, sequences,
 * mappings) that keeps key order, scalar styles, explicit tags and source
 * positions, and is written back from it: odcs_yaml.c (odcs_int.h). This
 * file is the mapping between that tree and a product's descriptor.
 *
 * Reading (weft_odcs_parse):
 *   name        domain "." dataProduct; without dataProduct, domain "."
 *               schema[0].name; checked with weft_product_name_check().
 *               No domain: name stays NULL and the caller supplies one.
 *   owner       a top-level customProperties entry {property: owner,
 *               value: X}; else `team`: a string; a v3.1 team object's
 *               name; or, from a list of members (v3.0 team, or v3.1
 *               team.members), the username (else name) of the member
 *               whose role mentions "owner" and who has no dateOut,
 *               preferring owners over current members over the first.
 *   description description.purpose, or description when it is a string.
 *   tags        the top-level tags list.
 *   columns     schema[0].properties: name, type, nullable = !required,
 *               description. The type is physicalType when
 *               weft_type_parse() knows it (case folded, "(n)" modifiers
 *               dropped), else logicalType: string -> text, integer ->
 *               int64, number -> float64, boolean -> bool, date and
 *               timestamp -> timestamp. Other schema objects are kept but
 *               not read.
 * Empty strings and YAML nulls read as absent.
 *
 * Writing (weft_odcs_emit): with pi->contract_yaml as the base, only the
 * fields weft owns are touched, and only when the value weft would read
 * back differs from pi: domain/dataProduct, the owner (a customProperties
 * `owner` entry), description.purpose, tags, and schema[0].properties,
 * rebuilt in pi's column order from the existing property of the same name
 * (other keys kept) or a new one. Without a base a fresh v3.0.2 document is
 * written. Either way, weft's own figures go into top-level
 * customProperties weftVersion, weftRowCount and weftUpdatedAt (ISO 8601
 * UTC) when non-zero; they are ignored on reading. v3.0 has no timestamp
 * logicalType, so a timestamp column is written as logicalType date with
 * physicalType timestamp (v3.1+ bases get logicalType timestamp).
 *
 * Limits against hostile input: WEFT_ODCS_MAX bytes, WEFT_ODCS_DEPTH_MAX
 * levels of nesting, WEFT_ODCS_NODES_MAX nodes, no aliases, one document,
 * WEFT_COLS_MAX columns; every error names file:line:column.
 */
#include "storage/odcs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "storage/odcs_int.h"

#define WEFT_ODCS_SHORT_MAX 256 /* owner, tags, domain parts */

/* ---- reading fields ---------------------------------------------------- */

static int
weft_odcs_is_null(const weft_odcs_node_t *n)
{
	if (n == NULL)
		return 1;
	if (n->on_kind != WEFT_ODCS_SCALAR)
		return 0;
	if (n->on_tag != NULL)
		return strcmp(n->on_tag, "tag:yaml.org,2002:null") == 0;
	if (n->on_style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return n->on_len == 0 || strcmp(n->on_str, "~") == 0 ||
	       strcmp(n->on_str, "null") == 0 ||
	       strcmp(n->on_str, "Null") == 0 || strcmp(n->on_str, "NULL") == 0;
}

/*
 * *out = the value under key in map, or NULL if map is not a mapping or
 * has no such key. A key given twice is an error: which one would count?
 */
static int
weft_odcs_get(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *map,
	      const char *key, weft_odcs_node_t **out)
{
	size_t i;

	*out = NULL;
	if (map == NULL || map->on_kind != WEFT_ODCS_MAP)
		return 0;
	for (i = 0; i + 1 < map->on_nkids; i += 2) {
		if (!weft_odcs_key_is(map->on_kids[i], key))
			continue;
		if (*out != NULL)
			return weft_odcs_fail(cx, map->on_kids[i], WEFT_EPARSE,
					      "duplicate key \"%s\"", key);
		*out = map->on_kids[i + 1];
	}
	return 0;
}

/*
 * A string field: *out = malloc'd copy, or NULL when n is absent, null or
 * empty. `what` names the field in errors.
 */
static int
weft_odcs_text(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *n,
	       const char *what, size_t max, char **out)
{
	*out = NULL;
	if (weft_odcs_is_null(n))
		return 0;
	if (n->on_kind != WEFT_ODCS_SCALAR)
		return weft_odcs_fail(cx, n, WEFT_ESCHEMA,
				      "%s: expected a string", what);
	if (memchr(n->on_str, '\0', n->on_len) != NULL)
		return weft_odcs_fail(cx, n, WEFT_EINVAL,
				      "%s contains a NUL character", what);
	if (n->on_len > max)
		return weft_odcs_fail(cx, n, WEFT_ETOOBIG,
				      "%s is %zu bytes, more than %zu", what,
				      n->on_len, max);
	if (n->on_len == 0)
		return 0;
	*out = strdup(n->on_str);
	return *out != NULL ? 0 : WEFT_ENOMEM;
}

/* Get map[key] as a string (see weft_odcs_text). */
static int
weft_odcs_get_text(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *map,
		   const char *key, size_t max, char **out,
		   weft_odcs_node_t **node)
{
	weft_odcs_node_t *n;
	int rc;

	*out = NULL;
	rc = weft_odcs_get(cx, map, key, &n);
	if (node != NULL)
		*node = n;
	if (rc != 0)
		return rc;
	return weft_odcs_text(cx, n, key, max, out);
}

/* schema[0]: the object weft reads. Missing schema is an error. */
static int
weft_odcs_schema0(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *root,
		  weft_odcs_node_t **obj)
{
	weft_odcs_node_t *s;
	int rc;

	*obj = NULL;
	if ((rc = weft_odcs_get(cx, root, "schema", &s)) != 0)
		return rc;
	if (weft_odcs_is_null(s))
		return weft_odcs_fail(cx, root, WEFT_ESCHEMA,
				      "no \"schema\": the contract must "
				      "describe the product's columns");
	if (s->on_kind != WEFT_ODCS_SEQ || s->on_nkids == 0)
		return weft_odcs_fail(cx, s, WEFT_ESCHEMA,
				      "\"schema\" must be a non-empty list of "
				      "objects");
	if (s->on_kids[0]->on_kind != WEFT_ODCS_MAP)
		return weft_odcs_fail(cx, s->on_kids[0], WEFT_ESCHEMA,
				      "schema[0] must be a mapping");
	*obj = s->on_kids[0];
	return 0;
}

/* The product name the document gives (NULL without a domain). */
static int
weft_odcs_read_name(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *root,
		    char **name)
{
	weft_odcs_node_t *dn, *pn, *obj;
	char *domain = NULL, *part = NULL;
	int rc;

	*name = NULL;
	rc = weft_odcs_get_text(cx, root, "domain", WEFT_ODCS_SHORT_MAX,
				&domain, &dn);
	if (rc != 0 || domain == NULL)
		goto out;
	rc = weft_odcs_get_text(cx, root, "dataProduct", WEFT_ODCS_SHORT_MAX,
				&part, &pn);
	if (rc != 0)
		goto out;
	if (part == NULL) {
		if ((rc = weft_odcs_schema0(cx, root, &obj)) != 0)
			goto out;
		rc = weft_odcs_get_text(cx, obj, "name", WEFT_ODCS_SHORT_MAX,
					&part, &pn);
		if (rc != 0)
			goto out;
		if (part == NULL) {
			rc =
			    weft_odcs_fail(cx, dn, WEFT_ESCHEMA,
					   "\"domain\" is set but neither "
					   "\"dataProduct\" nor schema[0].name "
					   "names the product");
			goto out;
		}
	}
	if (asprintf(name, "%s.%s", domain, part) < 0) {
		*name = NULL;
		rc = WEFT_ENOMEM;
		goto out;
	}
	if ((rc = weft_product_name_check(*name, cx->oc_err)) != 0) {
		weft_odcs_refail(cx, pn, rc);
		free(*name);
		*name = NULL;
	}
out:
	free(domain);
	free(part);
	return rc;
}

/* The owner from a list of team members (see the top of the file). */
static int
weft_odcs_member_owner(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *seq,
		       char **owner)
{
	const weft_odcs_node_t *best = NULL;
	weft_odcs_node_t *who, *role, *out;
	int score, best_score = -1, rc;
	size_t i;

	*owner = NULL;
	if (weft_odcs_is_null(seq))
		return 0;
	if (seq->on_kind != WEFT_ODCS_SEQ)
		return weft_odcs_fail(cx, seq, WEFT_ESCHEMA,
				      "team members: expected a list");
	for (i = 0; i < seq->on_nkids; i++) {
		const weft_odcs_node_t *m = seq->on_kids[i];

		if (m->on_kind != WEFT_ODCS_MAP)
			continue;
		if ((rc = weft_odcs_get(cx, m, "username", &who)) != 0)
			return rc;
		if (weft_odcs_is_null(who) &&
		    (rc = weft_odcs_get(cx, m, "name", &who)) != 0)
			return rc;
		if (weft_odcs_is_null(who))
			continue;
		score = 0;
		if ((rc = weft_odcs_get(cx, m, "role", &role)) != 0)
			return rc;
		if (role != NULL && role->on_kind == WEFT_ODCS_SCALAR &&
		    strcasestr(role->on_str, "owner") != NULL)
			score += 2;
		if ((rc = weft_odcs_get(cx, m, "dateOut", &out)) != 0)
			return rc;
		if (weft_odcs_is_null(out))
			score += 1;
		if (score > best_score) {
			best = who;
			best_score = score;
		}
	}
	if (best == NULL)
		return 0;
	return weft_odcs_text(cx, best, "team member", WEFT_ODCS_SHORT_MAX,
			      owner);
}

static int
weft_odcs_read_owner(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *root,
		     char **owner)
{
	weft_odcs_node_t *cp, *team, *prop, *val, *members;
	size_t i;
	int rc;

	*owner = NULL;
	if ((rc = weft_odcs_get(cx, root, "customProperties", &cp)) != 0)
		return rc;
	if (cp != NULL && cp->on_kind == WEFT_ODCS_SEQ) {
		for (i = 0; i < cp->on_nkids; i++) {
			rc = weft_odcs_get(cx, cp->on_kids[i], "property",
					   &prop);
			if (rc != 0)
				return rc;
			if (!weft_odcs_key_is(prop, "owner"))
				continue;
			rc = weft_odcs_get(cx, cp->on_kids[i], "value", &val);
			if (rc != 0)
				return rc;
			rc = weft_odcs_text(cx, val, "customProperties owner",
					    WEFT_ODCS_SHORT_MAX, owner);
			if (rc != 0 || *owner != NULL)
				return rc;
		}
	}
	if ((rc = weft_odcs_get(cx, root, "team", &team)) != 0)
		return rc;
	if (weft_odcs_is_null(team))
		return 0;
	switch (team->on_kind) {
	case WEFT_ODCS_SCALAR:
		return weft_odcs_text(cx, team, "team", WEFT_ODCS_SHORT_MAX,
				      owner);
	case WEFT_ODCS_SEQ: return weft_odcs_member_owner(cx, team, owner);
	default:
		rc = weft_odcs_get_text(cx, team, "name", WEFT_ODCS_SHORT_MAX,
					owner, NULL);
		if (rc != 0 || *owner != NULL)
			return rc;
		if ((rc = weft_odcs_get(cx, team, "members", &members)) != 0)
			return rc;
		return weft_odcs_member_owner(cx, members, owner);
	}
}

static int
weft_odcs_read_desc(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *root,
		    char **desc)
{
	weft_odcs_node_t *d;
	int rc;

	*desc = NULL;
	if ((rc = weft_odcs_get(cx, root, "description", &d)) != 0)
		return rc;
	if (d != NULL && d->on_kind == WEFT_ODCS_MAP)
		return weft_odcs_get_text(cx, d, "purpose", WEFT_DESC_MAX, desc,
					  NULL);
	if (d != NULL && d->on_kind == WEFT_ODCS_SEQ)
		return weft_odcs_fail(cx, d, WEFT_ESCHEMA,
				      "\"description\": expected a mapping "
				      "with \"purpose\", or a string");
	return weft_odcs_text(cx, d, "description", WEFT_DESC_MAX, desc);
}

static void
weft_odcs_strlist_free(char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static int
weft_odcs_read_tags(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *root,
		    char ***tags, size_t *ntags)
{
	weft_odcs_node_t *t;
	char *s = NULL;
	size_t i;
	int rc;

	*tags = NULL;
	*ntags = 0;
	if ((rc = weft_odcs_get(cx, root, "tags", &t)) != 0)
		return rc;
	if (weft_odcs_is_null(t))
		return 0;
	if (t->on_kind != WEFT_ODCS_SEQ)
		return weft_odcs_fail(cx, t, WEFT_ESCHEMA,
				      "\"tags\": expected a list of strings");
	if (t->on_nkids > WEFT_TAGS_MAX)
		return weft_odcs_fail(cx, t, WEFT_ETOOBIG,
				      "%zu tags, more than %d", t->on_nkids,
				      WEFT_TAGS_MAX);
	for (i = 0; i < t->on_nkids; i++) {
		rc = weft_odcs_text(cx, t->on_kids[i], "tag",
				    WEFT_ODCS_SHORT_MAX, &s);
		if (rc == 0 && s == NULL)
			rc = weft_odcs_fail(cx, t->on_kids[i], WEFT_ESCHEMA,
					    "empty tag");
		if (rc == 0)
			rc = weft_strlist_add(tags, ntags, s);
		free(s);
		s = NULL;
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	weft_odcs_strlist_free(*tags, *ntags);
	*tags = NULL;
	*ntags = 0;
	return rc;
}

/* "VARCHAR(255)" -> "varchar"; "TIMESTAMP(6)  WITH TIME ZONE" ->
 * "timestamp with time zone". 0, or -1 if it does not fit out. */
static int
weft_odcs_norm_type(const char *s, size_t len, char *out, size_t outsz)
{
	size_t i, o = 0;
	int paren = 0, space = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '(') {
			paren++;
			continue;
		}
		if (c == ')') {
			if (paren > 0)
				paren--;
			continue;
		}
		if (paren > 0)
			continue;
		if (c == ' ' || c == '\t') {
			space = o > 0;
			continue;
		}
		if (o + (size_t)space + 2 > outsz)
			return -1;
		if (space)
			out[o++] = ' ';
		space = 0;
		out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (o == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

static weft_type_t
weft_odcs_logical_type(const char *s)
{
	if (strcasecmp(s, "string") == 0)
		return WEFT_T_TEXT;
	if (strcasecmp(s, "integer") == 0)
		return WEFT_T_INT64;
	if (strcasecmp(s, "number") == 0)
		return WEFT_T_FLOAT64;
	if (strcasecmp(s, "boolean") == 0)
		return WEFT_T_BOOL;
	if (strcasecmp(s, "date") == 0 || strcasecmp(s, "timestamp") == 0)
		return WEFT_T_TIMESTAMP;
	return WEFT_T_UNKNOWN;
}

/* A property's weft type: physicalType if weft knows it, else
 * logicalType. */
static int
weft_odcs_prop_type(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *prop,
		    const char *col, weft_type_t *type)
{
	weft_odcs_node_t *pn, *ln;
	char *phys = NULL, *logi = NULL, norm[128], show[64];
	int rc;

	*type = WEFT_T_UNKNOWN;
	rc = weft_odcs_get_text(cx, prop, "physicalType", WEFT_ODCS_SHORT_MAX,
				&phys, &pn);
	if (rc != 0)
		goto out;
	if (phys != NULL &&
	    weft_odcs_norm_type(phys, strlen(phys), norm, sizeof(norm)) == 0)
		*type = weft_type_parse(norm);
	if (*type != WEFT_T_UNKNOWN)
		goto out;
	rc = weft_odcs_get_text(cx, prop, "logicalType", WEFT_ODCS_SHORT_MAX,
				&logi, &ln);
	if (rc != 0)
		goto out;
	if (logi != NULL) {
		*type = weft_odcs_logical_type(logi);
		if (*type == WEFT_T_UNKNOWN)
			rc = weft_odcs_fail(
			    cx, ln, WEFT_ESCHEMA,
			    "column \"%s\": unknown type \"%s\"", col,
			    weft_odcs_show(logi, strlen(logi), show));
	} else if (phys != NULL) {
		rc = weft_odcs_fail(cx, pn, WEFT_ESCHEMA,
				    "column \"%s\": unknown type \"%s\"", col,
				    weft_odcs_show(phys, strlen(phys), show));
	} else {
		rc = weft_odcs_fail(cx, prop, WEFT_ESCHEMA,
				    "column \"%s\" has neither logicalType nor "
				    "physicalType",
				    col);
	}
out:
	free(phys);
	free(logi);
	return rc;
}

/* A property's `required` as weft's nullable. */
static int
weft_odcs_prop_nullable(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *prop,
			const char *col, int *nullable)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	weft_odcs_node_t *r;
	size_t i;
	int rc;

	*nullable = 1;
	if ((rc = weft_odcs_get(cx, prop, "required", &r)) != 0)
		return rc;
	if (weft_odcs_is_null(r))
		return 0;
	if (r->on_kind == WEFT_ODCS_SCALAR) {
		for (i = 0; i < 3; i++) {
			if (strcasecmp(r->on_str, yes[i]) == 0) {
				*nullable = 0;
				return 0;
			}
			if (strcasecmp(r->on_str, no[i]) == 0)
				return 0;
		}
	}
	return weft_odcs_fail(cx, r, WEFT_ESCHEMA,
			      "column \"%s\": \"required\" must be true or "
			      "false",
			      col);
}

/* Read one schema property into a zeroed column c (freed by the caller on
 * failure as well). *name_node receives the name's node. */
static int
weft_odcs_read_col(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *prop,
		   weft_column_t *c, weft_odcs_node_t **name_node)
{
	int rc;

	*name_node = NULL;
	if (prop->on_kind != WEFT_ODCS_MAP)
		return weft_odcs_fail(cx, prop, WEFT_ESCHEMA,
				      "schema property: expected a mapping");
	rc = weft_odcs_get_text(cx, prop, "name", WEFT_ODCS_SHORT_MAX, &c->name,
				name_node);
	if (rc != 0)
		return rc;
	if (c->name == NULL)
		return weft_odcs_fail(cx, prop, WEFT_ESCHEMA,
				      "schema property has no \"name\"");
	if ((rc = weft_column_name_check(c->name, cx->oc_err)) != 0)
		return weft_odcs_refail(cx, *name_node, rc);
	if ((rc = weft_odcs_prop_type(cx, prop, c->name, &c->type)) != 0)
		return rc;
	if ((rc = weft_odcs_prop_nullable(cx, prop, c->name, &c->nullable)))
		return rc;
	return weft_odcs_get_text(cx, prop, "description", WEFT_DESC_MAX,
				  &c->description, NULL);
}

static int
weft_odcs_read_cols(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *root,
		    weft_product_info_t *pi)
{
	weft_odcs_node_t *obj, *props, **names = NULL;
	char show[64];
	size_t i, j, n;
	int rc;

	if ((rc = weft_odcs_schema0(cx, root, &obj)) != 0)
		return rc;
	if ((rc = weft_odcs_get(cx, obj, "properties", &props)) != 0)
		return rc;
	if (weft_odcs_is_null(props) ||
	    (props->on_kind == WEFT_ODCS_SEQ && props->on_nkids == 0))
		return weft_odcs_fail(cx, obj, WEFT_ESCHEMA,
				      "schema[0] has no properties (columns)");
	if (props->on_kind != WEFT_ODCS_SEQ)
		return weft_odcs_fail(cx, props, WEFT_ESCHEMA,
				      "\"properties\": expected a list");
	n = props->on_nkids;
	if (n > WEFT_COLS_MAX)
		return weft_odcs_fail(cx, props, WEFT_ETOOBIG,
				      "%zu columns, more than %d", n,
				      WEFT_COLS_MAX);
	pi->cols = calloc(n, sizeof(*pi->cols));
	names = calloc(n, sizeof(*names));
	if (pi->cols == NULL || names == NULL) {
		rc = WEFT_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		pi->ncols = i + 1;
		rc = weft_odcs_read_col(cx, props->on_kids[i], &pi->cols[i],
					&names[i]);
		if (rc != 0)
			goto out;
		/* case-insensitive: SQL folds unquoted identifiers */
		for (j = 0; j < i; j++) {
			if (strcasecmp(pi->cols[j].name, pi->cols[i].name))
				continue;
			rc = weft_odcs_fail(
			    cx, names[i], WEFT_ESCHEMA,
			    "duplicate column \"%s\" (first at line %zu)",
			    weft_odcs_show(pi->cols[i].name,
					   strlen(pi->cols[i].name), show),
			    names[j]->on_line);
			goto out;
		}
	}
out:
	free(names);
	return rc;
}

int
weft_odcs_parse(const uint8_t *yaml, size_t len, const char *path,
		weft_product_info_t *pi, weft_err_t *err)
{
	weft_odcs_ctx_t cx = {path != NULL ? path : "contract", err};
	weft_odcs_doc_t doc;
	weft_odcs_node_t *root;
	int rc;

	memset(pi, 0, sizeof(*pi));
	if (yaml == NULL && len > 0)
		return weft_err_set(err, WEFT_EINVAL, "%s: no input",
				    cx.oc_path);
	if ((rc = weft_odcs_load(&cx, yaml, len, &doc)) != 0)
		return rc;
	root = doc.od_root;
	if (root == NULL || root->on_kind != WEFT_ODCS_MAP) {
		rc =
		    weft_odcs_fail(&cx, root, WEFT_ESCHEMA,
				   root == NULL ? "empty document: expected an "
						  "ODCS contract (a mapping)"
						: "not a mapping: expected an "
						  "ODCS contract");
		goto out;
	}
	if ((rc = weft_odcs_read_name(&cx, root, &pi->name)) != 0 ||
	    (rc = weft_odcs_read_owner(&cx, root, &pi->owner)) != 0 ||
	    (rc = weft_odcs_read_desc(&cx, root, &pi->description)) != 0 ||
	    (rc = weft_odcs_read_tags(&cx, root, &pi->tags, &pi->ntags)) != 0 ||
	    (rc = weft_odcs_read_cols(&cx, root, pi)) != 0)
		goto out;
	pi->contract_yaml = malloc(len + 1);
	if (pi->contract_yaml == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "%s: out of memory",
				  cx.oc_path);
		goto out;
	}
	if (len > 0)
		memcpy(pi->contract_yaml, yaml, len);
	pi->contract_yaml[len] = '\0';
	pi->contract_len = len;
out:
	if (rc == WEFT_ENOMEM)
		weft_err_set(err, rc, "%s: out of memory", cx.oc_path);
	if (rc != 0)
		weft_product_info_clear(pi);
	weft_odcs_node_free(doc.od_root);
	return rc;
}

/* ---- updating and building --------------------------------------------- */

static int
weft_odcs_streq(const char *a, const char *b)
{
	if (a == NULL || *a == '\0')
		return b == NULL || *b == '\0';
	return b != NULL && strcmp(a, b) == 0;
}

static const char *
weft_odcs_physical_name(weft_type_t t)
{
	switch (t) {
	case WEFT_T_BOOL: return "boolean";
	case WEFT_T_INT64: return "bigint";
	case WEFT_T_FLOAT64: return "double precision";
	case WEFT_T_TIMESTAMP: return "timestamp";
	default: return "text";
	}
}

static const char *
weft_odcs_logical_name(weft_type_t t, int v31)
{
	switch (t) {
	case WEFT_T_BOOL: return "boolean";
	case WEFT_T_INT64: return "integer";
	case WEFT_T_FLOAT64: return "number";
	case WEFT_T_TIMESTAMP: return v31 ? "timestamp" : "date";
	default: return "string";
	}
}

/* Does the document's apiVersion have v3.1's logical types? */
static int
weft_odcs_is_v31(const weft_odcs_node_t *root)
{
	const weft_odcs_node_t *v = weft_odcs_map_find(root, "apiVersion");
	unsigned major = 0, minor = 0;

	if (v == NULL || v->on_kind != WEFT_ODCS_SCALAR ||
	    sscanf(v->on_str, "v%u.%u", &major, &minor) != 2)
		return 0;
	return major > 3 || (major == 3 && minor >= 1);
}

/* Bring property map `prop` in line with column c, touching only what
 * reads back differently. `fresh`: prop is new, write every field. */
static int
weft_odcs_update_prop(weft_odcs_node_t *prop, const weft_column_t *c, int fresh,
		      int v31)
{
	weft_odcs_ctx_t scratch = {"", NULL};
	char *desc = NULL;
	weft_type_t t;
	int rc, nullable;

	if (fresh &&
	    (rc = weft_odcs_map_add(prop, "name", weft_odcs_new_str(c->name))))
		return rc;
	if (fresh || weft_odcs_prop_type(&scratch, prop, c->name, &t) != 0 ||
	    t != c->type) {
		rc = weft_odcs_map_put(
		    prop, "logicalType",
		    weft_odcs_new_str(weft_odcs_logical_name(c->type, v31)));
		if (rc == 0)
			rc = weft_odcs_map_put(
			    prop, "physicalType",
			    weft_odcs_new_str(
				weft_odcs_physical_name(c->type)));
		if (rc != 0)
			return rc;
	}
	if (fresh ||
	    weft_odcs_prop_nullable(&scratch, prop, c->name, &nullable) != 0 ||
	    nullable != !!c->nullable) {
		rc = weft_odcs_map_put(
		    prop, "required",
		    weft_odcs_new_plain(c->nullable ? "false" : "true"));
		if (rc != 0)
			return rc;
	}
	if (!fresh &&
	    weft_odcs_get_text(&scratch, prop, "description", WEFT_DESC_MAX,
			       &desc, NULL) == 0 &&
	    weft_odcs_streq(desc, c->description)) {
		free(desc);
		return 0;
	}
	free(desc);
	if (c->description == NULL || *c->description == '\0') {
		weft_odcs_map_del(prop, "description");
		return 0;
	}
	return weft_odcs_map_put(prop, "description",
				 weft_odcs_new_str(c->description));
}

/* Rebuild schema[0].properties in pi's column order. */
static int
weft_odcs_update_cols(weft_odcs_node_t *root, const weft_product_info_t *pi)
{
	weft_odcs_node_t *schema, *obj, *old, *props = NULL, *p;
	size_t i, j;
	int rc, fresh, v31 = weft_odcs_is_v31(root);

	schema = weft_odcs_map_find(root, "schema");
	if (schema == NULL || schema->on_kind != WEFT_ODCS_SEQ) {
		schema = weft_odcs_node_new(WEFT_ODCS_SEQ);
		if ((rc = weft_odcs_map_put(root, "schema", schema)) != 0)
			return rc;
	}
	if (schema->on_nkids == 0 &&
	    (rc = weft_odcs_push(schema, weft_odcs_node_new(WEFT_ODCS_MAP))))
		return rc;
	if (schema->on_kids[0]->on_kind != WEFT_ODCS_MAP) {
		if ((obj = weft_odcs_node_new(WEFT_ODCS_MAP)) == NULL)
			return WEFT_ENOMEM;
		weft_odcs_node_free(schema->on_kids[0]);
		schema->on_kids[0] = obj;
	}
	obj = schema->on_kids[0];
	old = weft_odcs_map_find(obj, "properties");
	if ((props = weft_odcs_node_new(WEFT_ODCS_SEQ)) == NULL)
		return WEFT_ENOMEM;
	if (old != NULL && old->on_kind == WEFT_ODCS_SEQ)
		props->on_style = old->on_style;
	for (i = 0; i < pi->ncols; i++) {
		p = NULL;
		for (j = 0; old != NULL && old->on_kind == WEFT_ODCS_SEQ &&
			    j < old->on_nkids;
		     j++) {
			if (old->on_kids[j] != NULL &&
			    weft_odcs_key_is(
				weft_odcs_map_find(old->on_kids[j], "name"),
				pi->cols[i].name)) {
				p = old->on_kids[j];
				old->on_kids[j] = NULL; /* moved */
				break;
			}
		}
		fresh = p == NULL;
		if (fresh && (p = weft_odcs_node_new(WEFT_ODCS_MAP)) == NULL) {
			rc = WEFT_ENOMEM;
			goto fail;
		}
		if ((rc = weft_odcs_push(props, p)) != 0)
			goto fail;
		rc = weft_odcs_update_prop(p, &pi->cols[i], fresh, v31);
		if (rc != 0)
			goto fail;
	}
	return weft_odcs_map_put(obj, "properties", props);
fail:
	weft_odcs_node_free(props);
	return rc;
}

/* Find or add the top-level customProperties entry `name` and set its
 * value to val (taken in every case); with `remove`, drop every such entry
 * instead (val is then NULL). */
static int
weft_odcs_set_custom(weft_odcs_node_t *root, const char *name,
		     weft_odcs_node_t *val, int remove)
{
	weft_odcs_node_t *cp, *e;
	size_t i, j;
	int rc;

	cp = weft_odcs_map_find(root, "customProperties");
	if (cp == NULL || cp->on_kind != WEFT_ODCS_SEQ) {
		if (remove) {
			weft_odcs_node_free(val);
			return 0;
		}
		cp = weft_odcs_node_new(WEFT_ODCS_SEQ);
		if ((rc = weft_odcs_map_put(root, "customProperties", cp)))
			goto fail;
	}
	for (i = 0; i < cp->on_nkids; i++) {
		e = cp->on_kids[i];
		if (!weft_odcs_key_is(weft_odcs_map_find(e, "property"), name))
			continue;
		if (remove) {
			weft_odcs_node_free(e);
			for (j = i + 1; j < cp->on_nkids; j++)
				cp->on_kids[j - 1] = cp->on_kids[j];
			cp->on_nkids--;
			i--;
			continue;
		}
		return weft_odcs_map_put(e, "value", val);
	}
	if (remove) {
		weft_odcs_node_free(val);
		return 0;
	}
	if ((e = weft_odcs_node_new(WEFT_ODCS_MAP)) == NULL) {
		rc = WEFT_ENOMEM;
		goto fail;
	}
	if ((rc = weft_odcs_push(cp, e)) != 0)
		goto fail;
	if ((rc = weft_odcs_map_add(e, "property", weft_odcs_new_str(name))))
		goto fail;
	return weft_odcs_map_add(e, "value", val);
fail:
	weft_odcs_node_free(val);
	return rc;
}

/* ISO 8601 UTC, microseconds when there are any. */
static void
weft_odcs_iso8601(int64_t us, char out[48])
{
	int64_t s = us / 1000000, frac = us % 1000000;
	struct tm tm;
	time_t t;

	if (frac < 0) {
		frac += 1000000;
		s--;
	}
	t = (time_t)s;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year > 8099 ||
	    tm.tm_year < -1899) {
		snprintf(out, 48, "%" PRId64, us);
		return;
	}
	if (frac != 0)
		snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
	else
		snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* weftVersion, weftRowCount, weftUpdatedAt: set when non-zero, else
 * removed. */
static int
weft_odcs_update_stats(weft_odcs_node_t *root, const weft_product_info_t *pi)
{
	char ts[48];
	int rc;

	rc = weft_odcs_set_custom(root, "weftVersion",
				  pi->version ? weft_odcs_new_u64(pi->version)
					      : NULL,
				  pi->version == 0);
	if (rc == 0)
		rc = weft_odcs_set_custom(
		    root, "weftRowCount",
		    pi->row_count ? weft_odcs_new_u64(pi->row_count) : NULL,
		    pi->row_count == 0);
	if (rc == 0) {
		weft_odcs_iso8601(pi->updated_at, ts);
		rc = weft_odcs_set_custom(root, "weftUpdatedAt",
					  pi->updated_at ? weft_odcs_new_str(ts)
							 : NULL,
					  pi->updated_at == 0);
	}
	return rc;
}

static int
weft_odcs_tags_equal(const weft_odcs_node_t *root,
		     const weft_product_info_t *pi)
{
	weft_odcs_ctx_t scratch = {"", NULL};
	char **tags;
	size_t n, i;
	int eq;

	if (weft_odcs_read_tags(&scratch, root, &tags, &n) != 0)
		return 0;
	eq = n == pi->ntags;
	for (i = 0; eq && i < n; i++)
		eq = strcmp(tags[i], pi->tags[i]) == 0;
	weft_odcs_strlist_free(tags, n);
	return eq;
}

static weft_odcs_node_t *
weft_odcs_new_tags(const weft_product_info_t *pi, int style)
{
	weft_odcs_node_t *seq = weft_odcs_node_new(WEFT_ODCS_SEQ);
	size_t i;

	if (seq == NULL)
		return NULL;
	seq->on_style = style;
	for (i = 0; i < pi->ntags; i++) {
		if (weft_odcs_push(seq, weft_odcs_new_str(pi->tags[i])) != 0) {
			weft_odcs_node_free(seq);
			return NULL;
		}
	}
	return seq;
}

/* Set domain and dataProduct from "domain.product". */
static int
weft_odcs_put_name(weft_odcs_node_t *root, const char *name)
{
	const char *dot = strchr(name, '.');
	char *domain;
	int rc;

	if (dot == NULL)
		return weft_odcs_map_put(root, "dataProduct",
					 weft_odcs_new_str(name));
	if ((domain = strndup(name, (size_t)(dot - name))) == NULL)
		return WEFT_ENOMEM;
	rc = weft_odcs_map_put(root, "domain", weft_odcs_new_str(domain));
	if (rc == 0)
		rc = weft_odcs_map_put(root, "dataProduct",
				       weft_odcs_new_str(dot + 1));
	free(domain);
	return rc;
}

/* Update a loaded document in place so that it reads back as pi. */
static int
weft_odcs_update(weft_odcs_node_t *root, const weft_product_info_t *pi)
{
	weft_odcs_ctx_t scratch = {"", NULL};
	weft_odcs_node_t *d, *t, *m;
	char *cur = NULL;
	int rc, same;

	if (pi->name != NULL) {
		same = weft_odcs_read_name(&scratch, root, &cur) == 0 &&
		       weft_odcs_streq(cur, pi->name);
		free(cur);
		cur = NULL;
		if (!same && (rc = weft_odcs_put_name(root, pi->name)) != 0)
			return rc;
	}
	if (pi->owner != NULL && *pi->owner != '\0') {
		same = weft_odcs_read_owner(&scratch, root, &cur) == 0 &&
		       weft_odcs_streq(cur, pi->owner);
		free(cur);
		cur = NULL;
		if (!same &&
		    (rc = weft_odcs_set_custom(
			 root, "owner", weft_odcs_new_str(pi->owner), 0)) != 0)
			return rc;
	}
	same = weft_odcs_read_desc(&scratch, root, &cur) == 0 &&
	       weft_odcs_streq(cur, pi->description);
	free(cur);
	cur = NULL;
	if (!same) {
		d = weft_odcs_map_find(root, "description");
		if (pi->description == NULL || *pi->description == '\0') {
			if (d != NULL && d->on_kind == WEFT_ODCS_MAP) {
				weft_odcs_map_del(d, "purpose");
				if (d->on_nkids == 0)
					weft_odcs_map_del(root, "description");
			} else {
				weft_odcs_map_del(root, "description");
			}
		} else if (d != NULL && d->on_kind == WEFT_ODCS_MAP) {
			rc = weft_odcs_map_put(
			    d, "purpose", weft_odcs_new_str(pi->description));
			if (rc != 0)
				return rc;
		} else {
			if ((m = weft_odcs_node_new(WEFT_ODCS_MAP)) == NULL)
				return WEFT_ENOMEM;
			rc = weft_odcs_map_add(
			    m, "purpose", weft_odcs_new_str(pi->description));
			if (rc == 0)
				rc = weft_odcs_map_put(root, "description", m);
			else
				weft_odcs_node_free(m);
			if (rc != 0)
				return rc;
		}
	}
	if (!weft_odcs_tags_equal(root, pi)) {
		if (pi->ntags == 0) {
			weft_odcs_map_del(root, "tags");
		} else {
			t = weft_odcs_map_find(root, "tags");
			rc = weft_odcs_map_put(
			    root, "tags",
			    weft_odcs_new_tags(
				pi, t != NULL && t->on_kind == WEFT_ODCS_SEQ
					? t->on_style
					: YAML_ANY_SEQUENCE_STYLE));
			if (rc != 0)
				return rc;
		}
	}
	if ((rc = weft_odcs_update_cols(root, pi)) != 0)
		return rc;
	return weft_odcs_update_stats(root, pi);
}

/* A fresh v3.0.2 document for pi. */
static int
weft_odcs_build(const weft_product_info_t *pi, weft_odcs_node_t **out)
{
	weft_odcs_node_t *root, *team, *schema, *m;
	const char *id = pi->name != NULL ? pi->name : "weft-product";
	const char *dot;
	int rc;

	*out = NULL;
	if ((root = weft_odcs_node_new(WEFT_ODCS_MAP)) == NULL)
		return WEFT_ENOMEM;
	if ((rc = weft_odcs_map_add(root, "apiVersion",
				    weft_odcs_new_str("v3.0.2"))) != 0 ||
	    (rc = weft_odcs_map_add(root, "kind",
				    weft_odcs_new_str("DataContract"))) != 0 ||
	    (rc = weft_odcs_map_add(root, "id", weft_odcs_new_str(id))) != 0 ||
	    (rc = weft_odcs_map_add(root, "name", weft_odcs_new_str(id))) !=
		0 ||
	    (rc = weft_odcs_map_add(root, "version",
				    weft_odcs_new_str("1.0.0"))) != 0 ||
	    (rc = weft_odcs_map_add(root, "status",
				    weft_odcs_new_str("active"))) != 0)
		goto fail;
	if (pi->name != NULL && (rc = weft_odcs_put_name(root, pi->name)) != 0)
		goto fail;
	if (pi->description != NULL && *pi->description != '\0') {
		if ((m = weft_odcs_node_new(WEFT_ODCS_MAP)) == NULL) {
			rc = WEFT_ENOMEM;
			goto fail;
		}
		if ((rc = weft_odcs_map_add(root, "description", m)) != 0 ||
		    (rc = weft_odcs_map_add(
			 m, "purpose", weft_odcs_new_str(pi->description))))
			goto fail;
	}
	if (pi->ntags > 0 &&
	    (rc = weft_odcs_map_add(
		 root, "tags",
		 weft_odcs_new_tags(pi, YAML_ANY_SEQUENCE_STYLE))) != 0)
		goto fail;
	if (pi->owner != NULL && *pi->owner != '\0') {
		team = weft_odcs_node_new(WEFT_ODCS_SEQ);
		if ((rc = weft_odcs_map_add(root, "team", team)) != 0)
			goto fail;
		if ((m = weft_odcs_node_new(WEFT_ODCS_MAP)) == NULL) {
			rc = WEFT_ENOMEM;
			goto fail;
		}
		if ((rc = weft_odcs_push(team, m)) != 0 ||
		    (rc = weft_odcs_map_add(
			 m, "username", weft_odcs_new_str(pi->owner))) != 0 ||
		    (rc = weft_odcs_map_add(m, "role",
					    weft_odcs_new_str("owner"))) != 0)
			goto fail;
	}
	/* schema[0] with its name and logicalType first; properties follow */
	schema = weft_odcs_node_new(WEFT_ODCS_SEQ);
	if ((rc = weft_odcs_map_add(root, "schema", schema)) != 0)
		goto fail;
	if ((m = weft_odcs_node_new(WEFT_ODCS_MAP)) == NULL) {
		rc = WEFT_ENOMEM;
		goto fail;
	}
	if ((rc = weft_odcs_push(schema, m)) != 0)
		goto fail;
	if (pi->name != NULL) {
		dot = strchr(pi->name, '.');
		rc = weft_odcs_map_add(
		    m, "name", weft_odcs_new_str(dot ? dot + 1 : pi->name));
		if (rc != 0)
			goto fail;
	}
	if ((rc = weft_odcs_map_add(m, "logicalType",
				    weft_odcs_new_str("object"))) != 0 ||
	    (rc = weft_odcs_update_cols(root, pi)) != 0)
		goto fail;
	if ((rc = weft_odcs_update_stats(root, pi)) != 0)
		goto fail;
	*out = root;
	return 0;
fail:
	weft_odcs_node_free(root);
	return rc;
}

int
weft_odcs_emit(const weft_product_info_t *pi, uint8_t **out, size_t *len,
	       weft_err_t *err)
{
	weft_odcs_ctx_t cx = {"stored contract", err};
	weft_odcs_doc_t doc = {NULL, 0, 1};
	int rc;

	*out = NULL;
	*len = 0;
	if (pi->contract_yaml != NULL && pi->contract_len > 0) {
		rc = weft_odcs_load(&cx, pi->contract_yaml, pi->contract_len,
				    &doc);
		if (rc != 0)
			return rc;
		if (doc.od_root == NULL ||
		    doc.od_root->on_kind != WEFT_ODCS_MAP) {
			rc = weft_odcs_fail(&cx, doc.od_root, WEFT_ESCHEMA,
					    "not a mapping");
			goto out;
		}
		rc = weft_odcs_update(doc.od_root, pi);
	} else {
		rc = weft_odcs_build(pi, &doc.od_root);
	}
	if (rc != 0) {
		weft_err_set(err, rc, "cannot build contract: %s",
			     weft_strerror(rc));
		goto out;
	}
	rc = weft_odcs_write(doc.od_root, doc.od_start_implicit, out, len, err);
out:
	weft_odcs_node_free(doc.od_root);
	return rc;
}
