/*
 * bind_from.c: relations and scopes for FROM: product names resolved
 * against the snapshot (domain.product, org.domain.product, or a bare
 * product name when only one product has it; "did you mean" otherwise),
 * aliases, the scan a product becomes, the join node two sides become
 * (USING columns merged, RIGHT JOIN as a LEFT JOIN with the sides
 * swapped), and the scopes that say which column a name means.
 *
 * A scope lists the columns visible by name, each with its relation and
 * its index in the plan's output; nostar hides a column from *,
 * nounqual from unqualified names (both sides of a USING column).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/bind.h"

/* ---- scopes ---- */

void
wq_scope_free(wq_scope_t *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		free(s->c[i].rel);
		free(s->c[i].schema);
		free(s->c[i].org);
		free(s->c[i].name);
	}
	free(s->c);
	s->c = NULL;
	s->n = 0;
}

static int
wq_scope_add(wq_scope_t *s, const char *rel, const char *schema,
	     const char *org, const char *name, weft_sqltype_t t, uint32_t idx)
{
	wq_scol_t *nc = realloc(s->c, (s->n + 1) * sizeof(*nc));
	wq_scol_t *c;

	if (nc == NULL)
		return WEFT_ENOMEM;
	s->c = nc;
	c = &s->c[s->n];
	memset(c, 0, sizeof(*c));
	c->rel = rel ? strdup(rel) : NULL;
	c->schema = schema ? strdup(schema) : NULL;
	c->org = org ? strdup(org) : NULL;
	c->name = strdup(name);
	c->type = t;
	c->idx = idx;
	s->n++;
	if ((rel && !c->rel) || (schema && !c->schema) || (org && !c->org) ||
	    !c->name)
		return WEFT_ENOMEM;
	return 0;
}

/* Append the columns of src to dst, their indexes moved by off (the
 * columns before them in a join). 0 or WEFT_ENOMEM. */
int
wq_scope_append(wq_scope_t *dst, const wq_scope_t *src, uint32_t off)
{
	uint32_t i;
	int rc;

	for (i = 0; i < src->n; i++) {
		const wq_scol_t *c = &src->c[i];

		rc = wq_scope_add(dst, c->rel, c->schema, c->org, c->name,
				  c->type, c->idx + off);
		if (rc != 0)
			return rc;
		dst->c[dst->n - 1].nostar = c->nostar;
		dst->c[dst->n - 1].nounqual = c->nounqual;
	}
	return 0;
}

/* The same relation name twice at one level (its columns both visible
 * to *): PostgreSQL's error. */
int
wq_scope_dups(wq_bindctx_t *b, const wq_scope_t *s, weft_err_t *err)
{
	uint32_t i, j;

	for (i = 0; i < s->n; i++) {
		if (s->c[i].rel == NULL || s->c[i].nostar)
			continue;
		for (j = i + 1; j < s->n; j++)
			if (s->c[j].rel && !s->c[j].nostar &&
			    strcmp(s->c[i].rel, s->c[j].rel) == 0 &&
			    strcmp(s->c[i].name, s->c[j].name) == 0) {
				WQ_ERR(b, err, -1,
				       "table name \"%s\" specified "
				       "more than once",
				       s->c[i].rel);
				return WEFT_EINVAL;
			}
	}
	return 0;
}

/* Rename scope columns of a relation: alias and optional column names. */
int
wq_apply_alias(wq_bindctx_t *b, wq_scope_t *s, const char *rel,
	       PgQuery__Alias *al, weft_err_t *err)
{
	uint32_t i;

	if (al && al->n_colnames > s->n) {
		WQ_ERR(b, err, -1,
		       "table \"%s\" has %u columns available but "
		       "%zu columns specified",
		       al->aliasname, s->n, al->n_colnames);
		return WEFT_EINVAL;
	}
	for (i = 0; i < s->n; i++) {
		free(s->c[i].rel);
		s->c[i].rel = rel ? strdup(rel) : NULL;
		if (rel && s->c[i].rel == NULL)
			return WEFT_ENOMEM;
		if (al && i < al->n_colnames &&
		    al->colnames[i]->node_case == PG_QUERY__NODE__NODE_STRING) {
			free(s->c[i].name);
			s->c[i].name = strdup(al->colnames[i]->string->sval);
			if (s->c[i].name == NULL)
				return WEFT_ENOMEM;
		}
	}
	return 0;
}

int
wq_bind_subplan(wq_bindctx_t *b, wq_plan_t *sub, const char *rel,
		PgQuery__Alias *al, wq_plan_t **plan, wq_scope_t *scope,
		weft_err_t *err)
{
	uint32_t i;
	int rc;

	for (i = 0; i < sub->ncols; i++) {
		rc = wq_scope_add(scope, NULL, NULL, NULL, sub->names[i],
				  sub->types[i], i);
		if (rc != 0)
			goto fail;
	}
	rc = wq_apply_alias(b, scope, rel, al, err);
	if (rc != 0)
		goto fail;
	*plan = sub;
	return 0;
fail:
	if (rc == WEFT_ENOMEM)
		WQ_OOM(b, err);
	wq_plan_free(sub);
	wq_scope_free(scope);
	return rc;
}

/* ---- products ---- */

static int
wq_list_products(wq_bindctx_t *b, weft_err_t *err)
{
	if (b->listed)
		return 0;
	b->listed = true;
	return weft_snapshot_names(b->snap, &b->products, &b->nproducts, err);
}

/* Resolve a relation name to a product name (malloc'd) or NULL. */
static char *
wq_find_product(wq_bindctx_t *b, PgQuery__RangeVar *rv, weft_err_t *err)
{
	const char *rel = rv->relname, *sch = rv->schemaname;
	const char *cat = rv->catalogname;
	char full[WEFT_PRODUCT_NAME_MAX * 2 + 4];
	const char *best = NULL;
	size_t i, nmatch = 0;
	int bestd = 3, loc = rv->location;

	if (wq_list_products(b, err) != 0)
		return NULL;
	if (sch && *sch) {
		snprintf(full, sizeof(full), "%s.%s", sch, rel);
		for (i = 0; i < b->nproducts; i++)
			if (strcmp(b->products[i], full) == 0) {
				if (cat && *cat) {
					weft_product_info_t pi = {0};
					uint64_t sid;
					uint32_t nc;
					bool ok;

					if (weft_snapshot_product(
						b->snap, full, &pi, &sid, &nc,
						err) != 0)
						return NULL;
					ok = pi.org && strcmp(pi.org, cat) == 0;
					weft_product_info_clear(&pi);
					if (!ok)
						break;
				}
				return strdup(full);
			}
		if (cat && *cat)
			snprintf(full, sizeof(full), "%s.%s.%s", cat, sch, rel);
	} else {
		snprintf(full, sizeof(full), "%s", rel);
		for (i = 0; i < b->nproducts; i++) {
			const char *dot = strchr(b->products[i], '.');

			if (dot && strcmp(dot + 1, rel) == 0) {
				nmatch++;
				best = b->products[i];
			}
		}
		if (nmatch == 1)
			return strdup(best);
		if (nmatch > 1)
			b->local_ambiguous = true;
		if (nmatch > 1)
			return WQ_ERR(b, err, loc,
				      "relation \"%s\" is ambiguous: give it "
				      "as domain.%s",
				      rel, rel);
		best = NULL;
	}
	for (i = 0; i < b->nproducts; i++) {
		const char *p = b->products[i], *dot = strchr(p, '.');
		char tail[WEFT_PRODUCT_NAME_MAX + 1];
		int d;

		snprintf(tail, sizeof(tail), "%s", dot ? dot + 1 : p);
		d = wq_edit(sch && *sch
				? full + (cat && *cat ? strlen(cat) + 1 : 0)
				: rel,
			    sch && *sch ? p : tail);
		if (d < bestd) {
			bestd = d;
			best = p;
		}
	}
	if (best)
		return WQ_ERR(b, err, loc,
			      "relation \"%s\" does not exist "
			      "(did you mean \"%s\"?)",
			      full, best);
	return WQ_ERR(b, err, loc, "relation \"%s\" does not exist", full);
}

/* A scan's plan node for a product of ncols columns (cols), its columns
 * added to scope as relation rel (schema: the product's domain). */
static int
wq_scan_node(wq_bindctx_t *b, const char *name, const weft_column_t *cols,
	     size_t ncols, const char *org, const char *rel, wq_plan_t **out,
	     wq_scope_t *scope, weft_err_t *err)
{
	char dom[WEFT_PRODUCT_NAME_MAX + 1], *dot;
	wq_plan_t *p;
	uint32_t i;

	snprintf(dom, sizeof(dom), "%s", name);
	dot = strchr(dom, '.');
	if (dot)
		*dot = 0;
	*out = NULL;
	p = wq_plan_new(WQ_SCAN);
	if (p == NULL || wq_plan_shape(p, (uint32_t)ncols) != 0 ||
	    (p->frag = calloc(1, sizeof(*p->frag))) == NULL)
		goto oom;
	p->frag->product = strdup(name);
	p->frag->limit = -1;
	p->frag->ncols = (uint32_t)ncols;
	p->frag->cols = calloc(ncols + 1, sizeof(uint32_t));
	p->frag->ctypes = calloc(ncols + 1, sizeof(weft_sqltype_t));
	p->frag->colnames = calloc(ncols + 1, sizeof(char *));
	if (!p->frag->product || !p->frag->cols || !p->frag->ctypes ||
	    !p->frag->colnames)
		goto oom;
	for (i = 0; i < ncols; i++) {
		p->frag->cols[i] = i;
		p->frag->ctypes[i] = (weft_sqltype_t)cols[i].type;
		p->types[i] = (weft_sqltype_t)cols[i].type;
		p->names[i] = strdup(cols[i].name);
		p->frag->colnames[i] = strdup(cols[i].name);
		if (p->names[i] == NULL || p->frag->colnames[i] == NULL)
			goto oom;
		if (wq_scope_add(scope, rel, dot ? dom : NULL, org,
				 cols[i].name, p->types[i], i) != 0)
			goto oom;
	}
	*out = p;
	return 0;
oom:
	wq_plan_free(p);
	return wq_oom_rc(b, err);
}

/* A scan of the product rv names (here: wq_find_product; on another
 * node: wq_mesh_resolve), its columns added to scope as relation rel (an
 * alias, else the product). */
int
wq_bind_product(wq_bindctx_t *b, PgQuery__RangeVar *rv, const char *rel,
		wq_plan_t **plan, wq_scope_t *scope, weft_err_t *err)
{
	weft_product_info_t pi = {0}, rpi = {0};
	weft_remote_t *rem = NULL;
	weft_err_t lerr;
	char *name;
	wq_plan_t *p = NULL;
	uint64_t sid = 0;
	uint32_t nchunks = 0;
	int rc = 0;

	b->local_ambiguous = false;
	name = wq_find_product(b, rv, err);
	if (name == NULL && (err->code == WEFT_ENOMEM || b->local_ambiguous ||
			     b->mesh == NULL)) {
		rc = wq_rc(err);
		goto out;
	}
	if (name != NULL) {
		rc = weft_snapshot_product(b->snap, name, &pi, &sid, &nchunks,
					   err);
		if (rc != 0)
			goto out;
	}
	if (b->mesh != NULL) {
		lerr = *err;
		memset(err, 0, sizeof(*err));
		rc = wq_mesh_resolve(b, rv, name, pi.org, &rem, &rpi, err);
		if (rc != 0)
			goto out;
		if (rem == NULL && name == NULL) {
			*err = lerr;
			rc = wq_rc(err);
			goto out;
		}
	}
	if (rem != NULL)
		rc = wq_scan_node(b, rpi.name, rpi.cols, rpi.ncols, rpi.org,
				  rel, &p, scope, err);
	else
		rc = wq_scan_node(b, name, pi.cols, pi.ncols, pi.org, rel, &p,
				  scope, err);
	if (rc != 0)
		goto out;
	p->storage_id = sid;
	p->nchunks = nchunks;
	p->rows = (double)(rem ? rpi.row_count : pi.row_count);
	p->remote = rem;
	rem = NULL;
	rc = wq_apply_alias(b, scope, rel, rv->alias, err);
	if (rc != 0)
		goto out;
	*plan = p;
	p = NULL;
out:
	if (rc != 0)
		wq_scope_free(scope);
	wq_plan_free(p);
	wq_remote_free(rem);
	weft_product_info_clear(&pi);
	weft_product_info_clear(&rpi);
	free(name);
	return rc;
}

/* ---- joins ---- */

int
wq_join_type(wq_bindctx_t *b, const PgQuery__JoinExpr *j, int *jt, bool *right,
	     weft_err_t *err)
{
	*right = false;
	if (j->is_natural) {
		WQ_UNSUP(b, err, -1, "NATURAL JOIN");
		return WEFT_EINVAL;
	}
	switch (j->jointype) {
	case PG_QUERY__JOIN_TYPE__JOIN_INNER:
		*jt = (j->quals || j->n_using_clause) ? WQ_JOIN_INNER
						      : WQ_JOIN_CROSS;
		return 0;
	case PG_QUERY__JOIN_TYPE__JOIN_LEFT: *jt = WQ_JOIN_LEFT; return 0;
	case PG_QUERY__JOIN_TYPE__JOIN_RIGHT:
		*jt = WQ_JOIN_LEFT;
		*right = true;
		return 0;
	default: WQ_UNSUP(b, err, -1, "FULL JOIN"); return WEFT_EINVAL;
	}
}

wq_plan_t *
wq_join_node(const wq_plan_t *l, const wq_plan_t *r, int jt)
{
	wq_plan_t *p = wq_plan_new(WQ_JOIN);
	uint32_t i, nl = l->ncols;

	if (p == NULL || wq_plan_shape(p, l->ncols + r->ncols) != 0)
		goto fail;
	for (i = 0; i < p->ncols; i++) {
		p->types[i] = i < nl ? l->types[i] : r->types[i - nl];
		p->names[i] = strdup(i < nl ? l->names[i] : r->names[i - nl]);
		if (p->names[i] == NULL)
			goto fail;
	}
	p->jtype = jt;
	return p;
fail:
	wq_plan_free(p);
	return NULL;
}

/* The column of one side's scope s named un that may be used
 * unqualified: *at its index, -1 when there is none; two is an error. */
static int
wq_using_find(wq_bindctx_t *b, const wq_scope_t *s, const char *un,
	      const char *side, int *at, weft_err_t *err)
{
	uint32_t i;

	*at = -1;
	for (i = 0; i < s->n; i++)
		if (!s->c[i].nounqual && strcmp(s->c[i].name, un) == 0) {
			if (*at >= 0) {
				WQ_ERR(b, err, -1,
				       "common column name \"%s\" "
				       "appears more than once in %s table",
				       un, side);
				return WEFT_EINVAL;
			}
			*at = (int)i;
		}
	return 0;
}

/* One USING column: merged into scope (the left side's value, or the
 * right's for RIGHT JOIN), both sides hidden from * and unqualified
 * names, and lc = rc ANDed to the join's condition. */
static int
wq_using_col(wq_bindctx_t *b, wq_scol_t *lc, wq_scol_t *rc, uint32_t nl,
	     bool right, wq_plan_t *p, wq_scope_t *scope, weft_err_t *err)
{
	wq_scol_t *m = right ? rc : lc;
	weft_expr_t *a[2], *eq;
	wq_ectx_t ec = {0};

	if (wq_scope_add(scope, NULL, NULL, NULL, m->name, m->type,
			 right ? m->idx + nl : m->idx) != 0)
		return wq_oom_rc(b, err);
	lc->nostar = true;
	lc->nounqual = true;
	rc->nostar = true;
	rc->nounqual = true;
	ec.b = b;
	ec.err = err;
	a[0] = weft_expr_col(lc->idx, lc->type, 0);
	a[1] = weft_expr_col(rc->idx + nl, rc->type, 0);
	eq = wq_node(&ec, WEFT_E_OP, WEFT_OP_EQ, 0, 2, a, -1);
	if (eq == NULL || weft_expr_resolve(&eq, err) != 0) {
		weft_expr_free(eq);
		return wq_rc(err);
	}
	if (p->resid == NULL) {
		p->resid = eq;
		return 0;
	}
	a[0] = p->resid;
	a[1] = eq;
	p->resid = wq_node(&ec, WEFT_E_AND, 0, 0, 2, a, -1);
	return p->resid ? 0 : wq_oom_rc(b, err);
}

int
wq_join_using(wq_bindctx_t *b, const PgQuery__JoinExpr *j, wq_scope_t *ls,
	      wq_scope_t *rs, uint32_t nl, bool right, wq_plan_t *p,
	      wq_scope_t *scope, weft_err_t *err)
{
	size_t k;
	int li, ri, rc;

	for (k = 0; k < j->n_using_clause; k++) {
		const char *un;

		if (j->using_clause[k]->node_case !=
		    PG_QUERY__NODE__NODE_STRING)
			continue;
		un = j->using_clause[k]->string->sval;
		rc = wq_using_find(b, ls, un, "left", &li, err);
		if (rc == 0)
			rc = wq_using_find(b, rs, un, "right", &ri, err);
		if (rc != 0)
			return rc;
		if (li < 0 || ri < 0) {
			WQ_ERR(b, err, -1,
			       "column \"%s\" specified in USING "
			       "clause does not exist in %s table",
			       un, li < 0 ? "left" : "right");
			return WEFT_EINVAL;
		}
		rc = wq_using_col(b, &ls->c[li], &rs->c[ri], nl, right, p,
				  scope, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
wq_join_swap(wq_bindctx_t *b, wq_plan_t **pp, weft_err_t *err)
{
	wq_plan_t *p = *pp, *t, *pr;
	uint32_t nl = p->l->ncols, nr = p->r->ncols, n = nl + nr, i;
	uint32_t *map = calloc(n + 1, sizeof(*map));
	weft_expr_t **ex = calloc(n + 1, sizeof(*ex));
	char **nm = calloc(n + 1, sizeof(*nm));
	int rc = 0;

	if (map == NULL || ex == NULL || nm == NULL)
		goto oom;
	for (i = 0; i < n; i++)
		map[i] = i < nl ? i + nr : i - nl;
	if (p->resid)
		weft_expr_remap(p->resid, map);
	t = p->l;
	p->l = p->r;
	p->r = t;
	for (i = 0; i < n; i++) {
		p->types[i] = i < nr ? p->l->types[i] : p->r->types[i - nr];
		free(p->names[i]);
		p->names[i] =
		    strdup(i < nr ? p->l->names[i] : p->r->names[i - nr]);
		if (p->names[i] == NULL)
			goto oom;
	}
	for (i = 0; i < n; i++) {
		ex[i] = weft_expr_col(map[i], p->types[map[i]], 0);
		if (ex[i] == NULL)
			goto oom;
		nm[i] = p->names[i < nl ? i + nr : i - nl];
	}
	pr = wq_plan_project(p, n, ex, nm);
	if (pr == NULL)
		goto oom;
	*pp = pr;
	ex = NULL;
	goto out;
oom:
	rc = wq_oom_rc(b, err);
out:
	weft_expr_free_array(ex, n);
	free(map);
	free(nm);
	return rc;
}
