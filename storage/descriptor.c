/*
 * descriptor.c: weft_product_info_t and its one conversion to and from
 * weft.ProductDescriptor, with the name rules for products and columns.
 */
#include "storage/descriptor.h"

#include <stdlib.h>
#include <string.h>

#include "weft.pb-c.h"

void
weft_product_info_clear(weft_product_info_t *pi)
{
	size_t i;

	if (pi == NULL)
		return;
	free(pi->name);
	free(pi->org);
	free(pi->owner);
	free(pi->description);
	free(pi->node);
	for (i = 0; i < pi->ntags; i++)
		free(pi->tags[i]);
	free(pi->tags);
	for (i = 0; i < pi->ncols; i++) {
		free(pi->cols[i].name);
		free(pi->cols[i].description);
	}
	free(pi->cols);
	for (i = 0; i < pi->nvisible; i++)
		free(pi->visible_to[i]);
	free(pi->visible_to);
	free(pi->contract_yaml);
	memset(pi, 0, sizeof(*pi));
}

int
weft_strlist_add(char ***list, size_t *n, const char *s)
{
	char **nl;
	char *c = strdup(s);

	if (c == NULL)
		return WEFT_ENOMEM;
	nl = realloc(*list, (*n + 1) * sizeof(char *));
	if (nl == NULL) {
		free(c);
		return WEFT_ENOMEM;
	}
	nl[(*n)++] = c;
	*list = nl;
	return 0;
}

static int
weft_dup(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : WEFT_ENOMEM;
}

int
weft_product_info_copy(weft_product_info_t *dst, const weft_product_info_t *src)
{
	size_t i;
	int rc = 0;

	memset(dst, 0, sizeof(*dst));
	rc |= weft_dup(&dst->name, src->name);
	rc |= weft_dup(&dst->org, src->org);
	rc |= weft_dup(&dst->owner, src->owner);
	rc |= weft_dup(&dst->description, src->description);
	rc |= weft_dup(&dst->node, src->node);
	for (i = 0; rc == 0 && i < src->ntags; i++)
		rc = weft_strlist_add(&dst->tags, &dst->ntags, src->tags[i]);
	for (i = 0; rc == 0 && i < src->nvisible; i++)
		rc = weft_strlist_add(&dst->visible_to, &dst->nvisible,
				      src->visible_to[i]);
	if (rc == 0 && src->ncols > 0) {
		dst->cols = calloc(src->ncols, sizeof(weft_column_t));
		if (dst->cols == NULL)
			rc = WEFT_ENOMEM;
		for (i = 0; rc == 0 && i < src->ncols; i++) {
			dst->ncols++;
			dst->cols[i].type = src->cols[i].type;
			dst->cols[i].nullable = src->cols[i].nullable;
			rc |= weft_dup(&dst->cols[i].name, src->cols[i].name);
			rc |= weft_dup(&dst->cols[i].description,
				       src->cols[i].description);
		}
	}
	if (rc == 0 && src->contract_yaml != NULL) {
		dst->contract_yaml = malloc(src->contract_len + 1);
		if (dst->contract_yaml == NULL) {
			rc = WEFT_ENOMEM;
		} else {
			memcpy(dst->contract_yaml, src->contract_yaml,
			       src->contract_len);
			dst->contract_yaml[src->contract_len] = 0;
			dst->contract_len = src->contract_len;
		}
	}
	dst->version = src->version;
	dst->row_count = src->row_count;
	dst->created_at = src->created_at;
	dst->updated_at = src->updated_at;
	dst->visibility = src->visibility;
	if (rc != 0) {
		weft_product_info_clear(dst);
		return WEFT_ENOMEM;
	}
	return 0;
}

static int
weft_ident_part(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > WEFT_COLNAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int
weft_product_name_check(const char *name, weft_err_t *err)
{
	const char *dot;

	if (name == NULL || *name == 0)
		return weft_err_set(
		    err, WEFT_EINVAL,
		    "product name is empty (want domain.product)");
	if (strlen(name) > WEFT_PRODUCT_NAME_MAX)
		return weft_err_set(err, WEFT_EINVAL,
				    "product name is longer than %d bytes",
				    WEFT_PRODUCT_NAME_MAX);
	dot = strchr(name, '.');
	if (dot == NULL || strchr(dot + 1, '.') != NULL)
		return weft_err_set(
		    err, WEFT_EINVAL,
		    "invalid product name \"%.*s\": want domain.product "
		    "(exactly one dot)",
		    WEFT_PRODUCT_NAME_MAX, name);
	if (!weft_ident_part(name, (size_t)(dot - name)) ||
	    !weft_ident_part(dot + 1, strlen(dot + 1)))
		return weft_err_set(
		    err, WEFT_EINVAL,
		    "invalid product name \"%.*s\": domain and product must "
		    "each be 1-63 of [a-z0-9_] starting with a letter",
		    WEFT_PRODUCT_NAME_MAX, name);
	return 0;
}

int
weft_column_name_check(const char *name, weft_err_t *err)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0)
		return weft_err_set(err, WEFT_EINVAL, "empty column name");
	if (n > WEFT_COLNAME_MAX)
		return weft_err_set(
		    err, WEFT_EINVAL,
		    "column name \"%.40s...\" is longer than %d bytes", name,
		    WEFT_COLNAME_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return weft_err_set(
			    err, WEFT_EINVAL,
			    "column name contains a control character");
	return 0;
}

int
weft_product_info_encode(const weft_product_info_t *pi, uint8_t **out,
			 size_t *len)
{
	Weft__ProductDescriptor m = WEFT__PRODUCT_DESCRIPTOR__INIT;
	Weft__ColumnSchema *cs = NULL, **csp = NULL;
	size_t i;
	int rc = 0;

	m.name = pi->name ? pi->name : "";
	m.org = pi->org ? pi->org : "";
	m.owner = pi->owner ? pi->owner : "";
	m.description = pi->description ? pi->description : "";
	m.node = pi->node ? pi->node : "";
	m.n_tags = pi->ntags;
	m.tags = pi->tags;
	m.version = pi->version;
	m.row_count = pi->row_count;
	m.created_at = pi->created_at;
	m.updated_at = pi->updated_at;
	m.visibility = (Weft__Visibility)pi->visibility;
	m.n_visible_to = pi->nvisible;
	m.visible_to = pi->visible_to;
	m.contract_yaml.data = pi->contract_yaml;
	m.contract_yaml.len = pi->contract_len;
	if (pi->ncols > 0) {
		cs = calloc(pi->ncols, sizeof(*cs));
		csp = calloc(pi->ncols, sizeof(*csp));
		if (cs == NULL || csp == NULL) {
			rc = WEFT_ENOMEM;
			goto out;
		}
		for (i = 0; i < pi->ncols; i++) {
			weft__column_schema__init(&cs[i]);
			cs[i].name = pi->cols[i].name;
			cs[i].type = (Weft__ColumnType)pi->cols[i].type;
			cs[i].nullable = pi->cols[i].nullable != 0;
			cs[i].description = pi->cols[i].description
						? pi->cols[i].description
						: "";
			csp[i] = &cs[i];
		}
	}
	m.n_columns = pi->ncols;
	m.columns = csp;
	*len = weft__product_descriptor__get_packed_size(&m);
	*out = malloc(*len ? *len : 1);
	if (*out == NULL) {
		rc = WEFT_ENOMEM;
		goto out;
	}
	weft__product_descriptor__pack(&m, *out);
out:
	free(cs);
	free(csp);
	return rc;
}

static char *
weft_nonempty_dup(const char *s)
{
	return (s != NULL && *s != 0) ? strdup(s) : NULL;
}

int
weft_product_info_decode(const uint8_t *buf, size_t len,
			 weft_product_info_t *pi, weft_err_t *err)
{
	Weft__ProductDescriptor *m;
	size_t i;
	int rc = 0;

	memset(pi, 0, sizeof(*pi));
	m = weft__product_descriptor__unpack(NULL, len, buf);
	if (m == NULL)
		return weft_err_set(err, WEFT_EPARSE,
				    "malformed product descriptor");
	if (weft_product_name_check(m->name, err) != 0) {
		rc = WEFT_EPARSE;
		goto out;
	}
	if (m->n_columns > WEFT_COLS_MAX || m->n_tags > WEFT_TAGS_MAX ||
	    strlen(m->description) > WEFT_DESC_MAX) {
		rc = weft_err_set(err, WEFT_ETOOBIG,
				  "product descriptor exceeds limits");
		goto out;
	}
	pi->name = strdup(m->name);
	pi->org = weft_nonempty_dup(m->org);
	pi->owner = weft_nonempty_dup(m->owner);
	pi->description = weft_nonempty_dup(m->description);
	pi->node = weft_nonempty_dup(m->node);
	for (i = 0; rc == 0 && i < m->n_tags; i++)
		rc = weft_strlist_add(&pi->tags, &pi->ntags, m->tags[i]);
	for (i = 0; rc == 0 && i < m->n_visible_to; i++)
		rc = weft_strlist_add(&pi->visible_to, &pi->nvisible,
				      m->visible_to[i]);
	if (rc == 0 && m->n_columns > 0) {
		pi->cols = calloc(m->n_columns, sizeof(weft_column_t));
		if (pi->cols == NULL)
			rc = WEFT_ENOMEM;
		for (i = 0; rc == 0 && i < m->n_columns; i++) {
			const Weft__ColumnSchema *c = m->columns[i];

			if (weft_column_name_check(c->name, err) != 0 ||
			    c->type < WEFT__COLUMN_TYPE__COL_BOOL ||
			    c->type > WEFT__COLUMN_TYPE__COL_TIMESTAMP) {
				rc = weft_err_set(
				    err, WEFT_EPARSE,
				    "product descriptor has a bad column");
				break;
			}
			pi->ncols++;
			pi->cols[i].name = strdup(c->name);
			pi->cols[i].type = (weft_type_t)c->type;
			pi->cols[i].nullable = c->nullable;
			pi->cols[i].description =
			    weft_nonempty_dup(c->description);
			if (pi->cols[i].name == NULL)
				rc = WEFT_ENOMEM;
		}
	}
	if (rc == 0 && m->contract_yaml.len > 0) {
		pi->contract_yaml = malloc(m->contract_yaml.len + 1);
		if (pi->contract_yaml == NULL) {
			rc = WEFT_ENOMEM;
		} else {
			memcpy(pi->contract_yaml, m->contract_yaml.data,
			       m->contract_yaml.len);
			pi->contract_yaml[m->contract_yaml.len] = 0;
			pi->contract_len = m->contract_yaml.len;
		}
	}
	pi->version = m->version;
	pi->row_count = m->row_count;
	pi->created_at = m->created_at;
	pi->updated_at = m->updated_at;
	pi->visibility = m->visibility;
	if (rc == 0 && pi->name == NULL)
		rc = WEFT_ENOMEM;
out:
	weft__product_descriptor__free_unpacked(m, NULL);
	if (rc != 0) {
		weft_product_info_clear(pi);
		if (rc == WEFT_ENOMEM)
			weft_err_set(err, rc, "out of memory");
	}
	return rc;
}
