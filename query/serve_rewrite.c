/*
 * serve_rewrite.c: a grant's row predicate and masks applied by the
 * owner to one decoded scan fragment (docs/policy.md, "Enforcement").
 *
 * The rewrite makes the fragment read the product as the grant shows it,
 * as a view would: SELECT <masked columns> FROM product WHERE <rows>.
 *
 *  - Masks: every reference to a masked column in the asker's filter and
 *    projection (and, without a projection, in the group keys, aggregate
 *    arguments and sort keys, through a projection added for them) reads
 *    the masked value instead. So a hashed column filters, groups and
 *    joins as its hash, and no comparison of the asker's reaches the raw
 *    value: `WHERE destination = 'JFK'` under a hash mask matches
 *    nothing. Each mask keeps the column's type, so the asker's plan,
 *    typed by the descriptor, stays valid.
 *  - Rows: the predicate, bound here against the product with the
 *    requester functions as constants of this asker, is ANDed in front
 *    of the asker's filter, over the raw values; columns it needs and
 *    the fragment does not read are read after the fragment's own (the
 *    output is unchanged: a projection keeps it). The scan runs
 *    conjuncts in the order written whenever one of them can fail
 *    (query/scan.c), so the asker's conditions never see a row the
 *    predicate hides, not even to raise an error on it.
 *
 * Everything built here is checked by the same binder and resolver as
 * SQL; the rewritten fragment is executed, never encoded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "query/bind.h"
#include "query/serve.h"

#define RW_KEY 32

/* A typed NULL of type t. */
static weft_expr_t *
rw_null(weft_sqltype_t t, weft_err_t *err)
{
	weft_expr_t *e = weft_expr_cast(weft_expr_null(0), t, 0);

	if (e != NULL && weft_expr_resolve(&e, err) != 0) {
		weft_expr_free(e);
		return NULL;
	}
	if (e == NULL)
		weft_err_set(err, WEFT_ENOMEM, "out of memory");
	return e;
}

/* The per-grant hash key, as 64 hex digits: the owner's mask key over
 * the product and the grant's `to` list (a grant keeps its key while
 * its other rules change). */
static int
rw_hash_key(const weft_asker_t *asker, const char *product,
	    const Weft__PolicyGrant *g, char hex[2 * RW_KEY + 1],
	    weft_err_t *err)
{
	crypto_generichash_state h;
	uint8_t k[RW_KEY];
	size_t i;

	if (asker->mask_key == NULL)
		return weft_err_set(err, WEFT_EDENIED,
				    "%s: a hash mask, and this node has no "
				    "mask key",
				    product);
	crypto_generichash_init(&h, asker->mask_key, RW_KEY, RW_KEY);
	crypto_generichash_update(&h, (const uint8_t *)"weft mask 1", 12);
	crypto_generichash_update(&h, (const uint8_t *)product,
				  strlen(product) + 1);
	for (i = 0; i < g->n_to; i++)
		crypto_generichash_update(&h, (const uint8_t *)g->to[i],
					  strlen(g->to[i]) + 1);
	crypto_generichash_final(&h, k, sizeof(k));
	sodium_bin2hex(hex, 2 * RW_KEY + 1, k, sizeof(k));
	sodium_memzero(k, sizeof(k));
	return 0;
}

/* A text constant. */
static weft_expr_t *
rw_text(const char *s, weft_err_t *err)
{
	weft_expr_t *e = weft_expr_str(s, strlen(s), 0);

	if (e == NULL) {
		weft_err_set(err, WEFT_ENOMEM, "out of memory");
		return NULL;
	}
	if (weft_expr_finish(&e, err) != 0) {
		weft_expr_free(e);
		return NULL;
	}
	return e;
}

/* A function node f(args...) over resolved args, resolved. */
static weft_expr_t *
rw_func(int fn, uint32_t n, weft_expr_t **args, weft_err_t *err)
{
	weft_expr_t *e = weft_expr_node(WEFT_E_FUNC, fn, 0, n, args, 0);

	if (e == NULL) { /* args freed */
		weft_err_set(err, WEFT_ENOMEM, "out of memory");
		return NULL;
	}
	if (weft_expr_resolve(&e, err) != 0) {
		weft_expr_free(e);
		return NULL;
	}
	return e;
}

/* What mask m shows of read column c (type t); NULL with err set. */
static weft_expr_t *
rw_mask(const Weft__PolicyMask *m, uint32_t c, weft_sqltype_t t,
	const char *keyhex, weft_err_t *err)
{
	weft_expr_t *a[2], *e;
	char num[32];

	if (strcmp(m->kind, "null") == 0)
		return rw_null(t, err);
	if (strcmp(m->kind, "redact") == 0) {
		if (t != WEFT_S_TEXT)
			return rw_null(t, err);
		return rw_text("***", err);
	}
	a[0] = weft_expr_col(c, t, 0);
	if (strcmp(m->kind, "hash") == 0) {
		if (t != WEFT_S_TEXT && t != WEFT_S_INT64) {
			weft_expr_free(a[0]);
			weft_err_set(err, WEFT_EDENIED,
				     "hash mask on \"%s\": only text and "
				     "bigint columns can be hashed",
				     m->column);
			return NULL;
		}
		a[1] = rw_text(keyhex, err);
		return rw_func(WEFT_F_MASK_HASH, 2, a, err);
	}
	if (strcmp(m->kind, "truncate") == 0) {
		a[1] = a[0];
		a[0] = rw_text(m->unit, err);
		return rw_func(WEFT_F_DATE_TRUNC, 2, a, err);
	}
	if (strcmp(m->kind, "round") == 0) {
		if (t == WEFT_S_INT64 && m->digits >= 0)
			return a[0]; /* integers have no decimals */
		snprintf(num, sizeof(num), "%d", (int)m->digits);
		a[0] = weft_expr_cast(a[0], WEFT_S_NUMERIC, 0);
		a[1] = weft_expr_number(num, 0);
		e = rw_func(WEFT_F_ROUND, 2, a, err);
		if (e == NULL)
			return NULL;
		e = weft_expr_cast(e, t, 0);
		if (e != NULL && weft_expr_resolve(&e, err) != 0) {
			weft_expr_free(e);
			return NULL;
		}
		if (e == NULL)
			weft_err_set(err, WEFT_ENOMEM, "out of memory");
		return e;
	}
	weft_expr_free(a[0]);
	weft_err_set(err, WEFT_EDENIED, "mask on \"%s\": unknown kind \"%s\"",
		     m->column, m->kind);
	return NULL;
}

/* Replace, below *e, every reference to a read column c with mk[c] (a
 * copy), where mk[c] is set. */
static int
rw_subst(weft_expr_t **e, weft_expr_t *const *mk, uint32_t n, weft_err_t *err)
{
	weft_expr_t *x = *e;
	uint32_t i;

	if (x == NULL)
		return 0;
	if (x->kind == WEFT_E_COL) {
		if (x->col >= n || mk[x->col] == NULL)
			return 0;
		*e = weft_expr_copy(mk[x->col]);
		if (*e == NULL) {
			*e = x;
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		}
		weft_expr_free(x);
		return 0;
	}
	for (i = 0; i < x->nargs; i++)
		if (rw_subst(&x->args[i], mk, n, err) != 0)
			return WEFT_ENOMEM;
	return 0;
}

int
wq_frag_read_col(wq_frag_t *f, uint32_t pc, weft_sqltype_t t, uint32_t *idx,
		 weft_err_t *err)
{
	uint32_t *nc;
	weft_sqltype_t *nt;

	for (*idx = 0; *idx < f->ncols && f->cols[*idx] != pc; (*idx)++)
		;
	if (*idx < f->ncols)
		return 0;
	if (f->ncols >= WEFT_COLS_MAX)
		return weft_err_set(err, WEFT_EDENIED, "%s: too many columns",
				    f->product);
	nc = realloc(f->cols, (f->ncols + 1) * sizeof(*nc));
	if (nc == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	f->cols = nc;
	nt = realloc(f->ctypes, (f->ncols + 1) * sizeof(*nt));
	if (nt == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	f->ctypes = nt;
	f->cols[f->ncols] = pc;
	f->ctypes[f->ncols] = t;
	*idx = f->ncols++;
	free(f->colnames); /* EXPLAIN only; now stale */
	f->colnames = NULL;
	return 0;
}

/* Without a projection the output is the read columns: give f one that
 * keeps it so (column c, or mk[c] where mk and it are set), before more columns
 * are read or masks applied. */
static int
rw_own_proj(wq_frag_t *f, weft_expr_t *const *mk, weft_err_t *err)
{
	uint32_t c;

	if (f->nproj > 0)
		return 0;
	if (f->ncols > WQ_COLS_MAX)
		return weft_err_set(err, WEFT_EDENIED,
				    "%s: a policy on a fragment reading more "
				    "than %d columns",
				    f->product, WQ_COLS_MAX);
	f->proj = calloc(f->ncols ? f->ncols : 1, sizeof(*f->proj));
	if (f->proj == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (c = 0; c < f->ncols; c++) {
		f->proj[c] = mk && mk[c] ? weft_expr_copy(mk[c])
					 : weft_expr_col(c, f->ctypes[c], 0);
		if (f->proj[c] == NULL) {
			weft_expr_free_array(f->proj, c);
			f->proj = NULL;
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		}
	}
	f->nproj = f->ncols;
	return 0;
}

/* Masks: mk[c] for each masked read column c, then substituted. */
static int
rw_masks(wq_frag_t *f, const weft_product_info_t *pi,
	 const Weft__PolicyGrant *g, const weft_asker_t *asker, weft_err_t *err)
{
	weft_expr_t **mk = NULL;
	char keyhex[2 * RW_KEY + 1] = "";
	uint32_t c, i, hit = 0;
	int rc = 0;

	if (g->n_masks == 0 || f->ncols == 0)
		return 0;
	mk = calloc(f->ncols, sizeof(*mk));
	if (mk == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (i = 0; i < g->n_masks && rc == 0; i++)
		for (c = 0; c < f->ncols && rc == 0; c++) {
			const char *name = f->cols[c] < pi->ncols
					       ? pi->cols[f->cols[c]].name
					       : "";

			if (mk[c] != NULL ||
			    strcasecmp(name, g->masks[i]->column) != 0)
				continue;
			if (strcmp(g->masks[i]->kind, "hash") == 0 &&
			    keyhex[0] == 0)
				rc = rw_hash_key(asker, f->product, g, keyhex,
						 err);
			if (rc == 0 &&
			    (mk[c] = rw_mask(g->masks[i], c, f->ctypes[c],
					     keyhex, err)) == NULL)
				rc = err->code ? err->code : WEFT_ENOMEM;
			hit++;
		}
	sodium_memzero(keyhex, sizeof(keyhex));
	if (rc == 0 && hit > 0) {
		if (f->nproj == 0)
			rc = rw_own_proj(f, mk, err);
		else
			for (c = 0; c < f->nproj && rc == 0; c++)
				rc = rw_subst(&f->proj[c], mk, f->ncols, err);
		if (rc == 0)
			rc = rw_subst(&f->filter, mk, f->ncols, err);
	}
	for (c = 0; c < f->ncols; c++)
		weft_expr_free(mk[c]);
	free(mk);
	return rc;
}

/* Bind the grant's rows predicate over the product's columns for asker:
 * an expression over product column indexes. */
static int
rw_bind_rows(const char *rows, const weft_product_info_t *pi,
	     const weft_asker_t *asker, weft_expr_t **out, weft_err_t *err)
{
	static const char pre[] = "SELECT 1 WHERE (";
	size_t n = strlen(rows), i;
	char *sql = malloc(sizeof(pre) + n + 2);
	PgQueryProtobufParseResult r;
	PgQuery__ParseResult *t = NULL;
	wq_bindctx_t b = {0};
	wq_scope_t sc = {0};
	wq_ectx_t ec = {0};
	PgQuery__SelectStmt *s;
	int rc = 0;

	*out = NULL;
	if (sql == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	memcpy(sql, pre, sizeof(pre) - 1);
	memcpy(sql + sizeof(pre) - 1, rows, n);
	memcpy(sql + sizeof(pre) - 1 + n, ")", 2);
	r = pg_query_parse_protobuf(sql);
	if (r.error == NULL)
		t = pg_query__parse_result__unpack(
		    NULL, r.parse_tree.len, (const uint8_t *)r.parse_tree.data);
	pg_query_free_protobuf_parse_result(r);
	if (t == NULL || t->n_stmts != 1 || t->stmts[0]->stmt == NULL ||
	    t->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT ||
	    (s = t->stmts[0]->stmt->select_stmt)->where_clause == NULL) {
		rc = weft_err_set(err, WEFT_EDENIED,
				  "its rows predicate does not parse");
		goto out;
	}
	sc.c = calloc(pi->ncols ? pi->ncols : 1, sizeof(*sc.c));
	if (sc.c == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < pi->ncols; i++) {
		sc.c[i].name = pi->cols[i].name;
		sc.c[i].type = (weft_sqltype_t)pi->cols[i].type;
		sc.c[i].idx = (uint32_t)i;
	}
	sc.n = (uint32_t)pi->ncols;
	b.sql = sql;
	b.req = &asker->who;
	ec.b = &b;
	ec.scope = &sc;
	ec.what = "a policy's rows predicate";
	ec.err = err;
	*out = wq_cond(&ec, s->where_clause, "a policy's rows predicate");
	if (*out == NULL)
		rc = wq_rc(err);
out:
	free(sc.c);
	if (t != NULL)
		pg_query__parse_result__free_unpacked(t, NULL);
	free(sql);
	return rc;
}

/* AND the predicate p (over product columns; taken) in front of f's
 * filter, reading the columns it needs. */
static int
rw_rows(wq_frag_t *f, const weft_product_info_t *pi, weft_expr_t *p,
	weft_err_t *err)
{
	uint8_t *used = calloc(pi->ncols + 1, 1);
	uint32_t *map = calloc(pi->ncols + 1, sizeof(*map));
	uint32_t c, k, more = 0, np, nf, na;
	weft_expr_t **args = NULL, *and;
	int rc = 0;

	if (used == NULL || map == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	weft_expr_refs(p, used, (uint32_t)pi->ncols);
	for (c = 0; c < pi->ncols; c++) {
		if (!used[c])
			continue;
		for (k = 0; k < f->ncols && f->cols[k] != c; k++)
			;
		more += k == f->ncols;
	}
	/* columns read after the fragment's own: keep its output as it is */
	if (more > 0 && (rc = rw_own_proj(f, NULL, err)) != 0)
		goto out;
	for (c = 0; c < pi->ncols && rc == 0; c++)
		if (used[c])
			rc = wq_frag_read_col(f, c,
					      (weft_sqltype_t)pi->cols[c].type,
					      &map[c], err);
	if (rc != 0)
		goto out;
	weft_expr_remap(p, map);
	np = p->kind == WEFT_E_AND ? p->nargs : 1;
	nf = f->filter == NULL		     ? 0
	     : f->filter->kind == WEFT_E_AND ? f->filter->nargs
					     : 1;
	na = np + nf;
	if (nf == 0) {
		f->filter = p;
		p = NULL;
		goto out;
	}
	args = calloc(na, sizeof(*args));
	if (args == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	for (k = 0; k < np; k++)
		args[k] = p->kind == WEFT_E_AND ? p->args[k] : p;
	for (k = 0; k < nf; k++)
		args[np + k] = f->filter->kind == WEFT_E_AND
				   ? f->filter->args[k]
				   : f->filter;
	and = weft_expr_node(WEFT_E_AND, 0, 0, na, args, 0);
	if (and == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	and->type = WEFT_S_BOOL;
	/* the conjuncts moved into `and`: free only the old AND shells */
	if (p->kind == WEFT_E_AND)
		p->nargs = 0;
	else
		p = NULL;
	if (f->filter->kind == WEFT_E_AND) {
		f->filter->nargs = 0;
		weft_expr_free(f->filter);
	}
	f->filter = and;
out:
	weft_expr_free(p);
	free(args);
	free(used);
	free(map);
	return rc;
}

int
weft_policy_check_rows(const Weft__Policy *p, const weft_product_info_t *pi,
		       const char *path, weft_err_t *err)
{
	weft_asker_t nobody = {.who = {"", NULL, NULL, 0}};
	weft_expr_t *e;
	size_t i;
	int rc;

	for (i = 0; i < p->n_grants; i++) {
		const Weft__PolicyGrant *g = p->grants[i];

		if (g->rows == NULL || g->rows[0] == 0)
			continue;
		rc = rw_bind_rows(g->rows, pi, &nobody, &e, err);
		weft_expr_free(e);
		if (rc != 0) {
			weft_err_prefix(err, "%s:%u: grant %zu: rows",
					path ? path : "policy", g->line, i + 1);
			return rc;
		}
	}
	return 0;
}

int
wq_policy_rewrite(wq_frag_t *f, const weft_product_info_t *pi,
		  const Weft__PolicyGrant *g, const weft_asker_t *asker,
		  weft_err_t *err)
{
	weft_expr_t *p = NULL;
	int rc;

	if (g->rows != NULL && g->rows[0] != 0) {
		rc = rw_bind_rows(g->rows, pi, asker, &p, err);
		if (rc != 0) {
			char why[sizeof(err->msg)];

			snprintf(why, sizeof(why), "%s", err->msg);
			return weft_err_set(err, WEFT_EDENIED,
					    "%s: the rows predicate of the "
					    "grant at line %u does not bind "
					    "(%s): refused",
					    f->product, g->line, why);
		}
	}
	rc = rw_masks(f, pi, g, asker, err);
	if (rc == 0 && p != NULL)
		return rw_rows(f, pi, p, err);
	weft_expr_free(p);
	return rc;
}
