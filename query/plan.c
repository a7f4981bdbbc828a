/*
 * plan.c: logical plan -> physical plan, in place, and EXPLAIN (the
 * nodes themselves: plan_node.c).
 *
 * Passes, in order:
 *  1. filters move down: through projections (by substitution), into
 *     both sides of inner joins and the preserved side of left joins, and
 *     into scans; join conditions split into hash keys (equalities between
 *     the two sides) and a residual; a cross join with keys becomes inner;
 *  2. columns are pruned top-down so that scans read only what is used;
 *  3. an aggregation over a join with a remote side may move below it
 *     (plan_eager.c);
 *  4. scan fragments absorb what can run next to the data: a projection
 *     directly above, partial aggregation (no DISTINCT aggregates), and
 *     LIMIT or ORDER BY + LIMIT (top-N) -- the nodes above stay, so the
 *     result is the same whether one fragment or many feed them;
 *  5. each fragment is settled (wq_frag_settle): its expressions in the
 *     form weft_expr_resolve gives them, within the limits of frag.h, so
 *     that it is exactly what the fragment decoder accepts.
 */
#include <stdlib.h>
#include <string.h>

#include "query/qint.h"

/* ---- expression helpers ---- */

static bool
wq_expr_has_now(const weft_expr_t *e)
{
	uint32_t i;

	if (e->kind == WEFT_E_FUNC && e->op == WEFT_F_NOW)
		return true;
	for (i = 0; i < e->nargs; i++)
		if (wq_expr_has_now(e->args[i]))
			return true;
	return false;
}

/* A copy of e with each column i replaced by a copy of sub[i]. */
static weft_expr_t *
wq_expr_subst(const weft_expr_t *e, weft_expr_t *const *sub)
{
	weft_expr_t *c;
	uint32_t i;

	if (e->kind == WEFT_E_COL)
		return weft_expr_copy(sub[e->col]);
	c = weft_expr_copy(e);
	if (c == NULL)
		return NULL;
	for (i = 0; i < c->nargs; i++) {
		weft_expr_t *n = wq_expr_subst(e->args[i], sub);

		if (n == NULL) {
			weft_expr_free(c);
			return NULL;
		}
		weft_expr_free(c->args[i]);
		c->args[i] = n;
	}
	return c;
}

/* Nodes and levels of e with each column c replaced by a tree of
 * nodes[c] nodes and depth[c] levels. */
static void
wq_subst_size(const weft_expr_t *e, const uint64_t *nodes,
	      const uint32_t *depth, uint64_t *n, uint32_t *d)
{
	uint32_t i, a, dmax = 0;

	if (e->kind == WEFT_E_COL) {
		*n += nodes[e->col];
		*d = depth[e->col];
		return;
	}
	*n += 1;
	for (i = 0; i < e->nargs; i++) {
		wq_subst_size(e->args[i], nodes, depth, n, &a);
		if (a > dmax)
			dmax = a;
	}
	*d = dmax + 1;
}

/* Would wq_expr_subst(e, sub) stay within what a fragment may carry
 * (frag.h)? Every column reference gets a copy of its expression, so a
 * filter over nested projections of `x + x` would grow exponentially. */
static bool
wq_subst_fits(const weft_expr_t *e, weft_expr_t *const *sub, uint32_t nsub)
{
	uint64_t *nodes = calloc(nsub + 1, sizeof(*nodes)), n = 0;
	uint32_t *depth = calloc(nsub + 1, sizeof(*depth)), d = 0, i;
	bool fits = false;

	if (nodes != NULL && depth != NULL) {
		for (i = 0; i < nsub; i++) {
			nodes[i] = weft_expr_nodes(sub[i]);
			depth[i] = weft_expr_depth(sub[i]);
		}
		wq_subst_size(e, nodes, depth, &n, &d);
		fits = n <= WEFT_FRAG_NODES_MAX && d <= WEFT_FRAG_DEPTH_MAX;
	}
	free(nodes);
	free(depth);
	return fits;
}

static weft_expr_t *
wq_and(weft_expr_t *a, weft_expr_t *b)
{
	weft_expr_t *args[2];
	weft_expr_t *e;

	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	args[0] = a;
	args[1] = b;
	e = weft_expr_node(WEFT_E_AND, 0, 0, 2, args, 0);
	if (e != NULL)
		e->type = WEFT_S_BOOL;
	return e;
}

static int
wq_conjuncts(weft_expr_t *e, weft_expr_t ***v, uint32_t *n)
{
	weft_expr_t **nv;
	uint32_t i;
	int rc = 0;

	if (e == NULL)
		return 0;
	if (e->kind == WEFT_E_AND) {
		for (i = 0; i < e->nargs; i++) {
			if (rc == 0)
				rc = wq_conjuncts(e->args[i], v, n);
			else
				weft_expr_free(e->args[i]);
			e->args[i] = NULL;
		}
		e->nargs = 0;
		weft_expr_free(e);
		return rc;
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL) {
		weft_expr_free(e);
		return WEFT_ENOMEM;
	}
	*v = nv;
	nv[(*n)++] = e;
	return 0;
}

/* ---- pass 1: filters ---- */

static int wq_push(wq_plan_t **pp);

static void
wq_shift(weft_expr_t *e, int64_t d)
{
	uint32_t i;

	if (e->kind == WEFT_E_COL)
		e->col = (uint32_t)((int64_t)e->col + d);
	for (i = 0; i < e->nargs; i++)
		wq_shift(e->args[i], d);
}

/* Add a conjunct as a filter on top of *pp. */
static int
wq_add_filter(wq_plan_t **pp, weft_expr_t *e)
{
	wq_plan_t *p = *pp, *f;

	if (p->kind == WQ_FILTER) {
		p->pred = wq_and(p->pred, e);
		return p->pred ? 0 : WEFT_ENOMEM;
	}
	f = wq_plan_new(WQ_FILTER);
	if (f == NULL || wq_plan_shape_of(f, p) != 0) {
		wq_plan_free(f);
		weft_expr_free(e);
		return WEFT_ENOMEM;
	}
	f->l = p;
	f->pred = e;
	f->rows = p->rows / 2;
	*pp = f;
	return 0;
}

/* Split a join's residual into hash keys and the rest; push one-sided
 * conjuncts down when the join type allows. */
static int
wq_join_split(wq_plan_t *p)
{
	weft_expr_t **c = NULL, *rest = NULL;
	uint32_t n = 0, i, nl = p->l->ncols, nt = p->ncols;
	int rc;

	rc = wq_conjuncts(p->resid, &c, &n);
	p->resid = NULL;
	if (rc != 0)
		goto out;
	for (i = 0; i < n; i++) {
		weft_expr_t *e = c[i];
		bool ul = weft_expr_uses_range(e, 0, nl);
		bool ur = weft_expr_uses_range(e, nl, nt);

		c[i] = NULL;
		if (!ul && ur) {
			/* right side only: filter the right input (valid for
			 * inner and left joins) */
			wq_shift(e, -(int64_t)nl);
			rc = wq_add_filter(&p->r, e);
		} else if (ul && !ur && p->jtype != WQ_JOIN_LEFT) {
			rc = wq_add_filter(&p->l, e);
		} else if (ul && ur && e->kind == WEFT_E_OP &&
			   e->op == WEFT_OP_EQ && e->nargs == 2 &&
			   e->args[0]->type == e->args[1]->type &&
			   !wq_expr_has_now(e)) {
			weft_expr_t *a = e->args[0], *b = e->args[1];
			bool al = !weft_expr_uses_range(a, nl, nt);
			bool ar = !weft_expr_uses_range(a, 0, nl);
			bool bl = !weft_expr_uses_range(b, nl, nt);
			bool br = !weft_expr_uses_range(b, 0, nl);
			weft_expr_t **nlk, **nrk;

			if (!((al && br) || (ar && bl))) {
				rest = wq_and(rest, e);
				rc = rest ? 0 : WEFT_ENOMEM;
				continue;
			}
			if (!(al && br)) {
				weft_expr_t *t = a;

				a = b;
				b = t;
			}
			if (p->njkeys >= 64) { /* enough to hash on */
				rest = wq_and(rest, e);
				rc = rest ? 0 : WEFT_ENOMEM;
				continue;
			}
			nlk = realloc(p->lkeys, (p->njkeys + 1) * sizeof(*nlk));
			if (nlk == NULL) {
				weft_expr_free(e);
				rc = WEFT_ENOMEM;
				continue;
			}
			p->lkeys = nlk;
			nrk = realloc(p->rkeys, (p->njkeys + 1) * sizeof(*nrk));
			if (nrk == NULL) {
				weft_expr_free(e);
				rc = WEFT_ENOMEM;
				continue;
			}
			p->rkeys = nrk;
			e->args[0] = e->args[1] = NULL;
			e->nargs = 0;
			weft_expr_free(e);
			wq_shift(b, -(int64_t)nl);
			p->lkeys[p->njkeys] = a;
			p->rkeys[p->njkeys] = b;
			p->njkeys++;
			if (p->jtype == WQ_JOIN_CROSS)
				p->jtype = WQ_JOIN_INNER;
		} else {
			rest = wq_and(rest, e);
			rc = rest ? 0 : WEFT_ENOMEM;
		}
		if (rc != 0)
			break;
	}
	p->resid = rest;
	rest = NULL;
	if (p->resid != NULL && p->jtype == WQ_JOIN_CROSS)
		p->jtype = WQ_JOIN_INNER;
out:
	for (i = 0; i < n; i++)
		weft_expr_free(c[i]);
	free(c);
	weft_expr_free(rest);
	return rc;
}

static int
wq_push_filter(wq_plan_t **pp)
{
	wq_plan_t *p = *pp, *ch = p->l;
	weft_expr_t **c = NULL;
	uint32_t n = 0, i;
	int rc = 0;

	switch (ch->kind) {
	case WQ_FILTER:
		ch->pred = wq_and(ch->pred, p->pred);
		p->pred = NULL;
		if (ch->pred == NULL)
			return WEFT_ENOMEM;
		p->l = NULL;
		wq_plan_free(p);
		*pp = ch;
		return wq_push_filter(pp);
	case WQ_SCAN:
		if (ch->frag->agg || ch->frag->nproj || ch->frag->limit >= 0)
			return 0;
		ch->frag->filter = wq_and(ch->frag->filter, p->pred);
		p->pred = NULL;
		p->l = NULL;
		wq_plan_free(p);
		*pp = ch;
		ch->rows /= 2;
		return ch->frag->filter ? 0 : WEFT_ENOMEM;
	case WQ_PROJECT: {
		weft_expr_t *s;

		if (wq_expr_has_now(p->pred))
			return 0;
		for (i = 0; i < ch->nexprs; i++)
			if (wq_expr_has_now(ch->exprs[i]))
				return 0;
		if (!wq_subst_fits(p->pred, ch->exprs, ch->nexprs))
			return 0; /* stays above the projection */
		s = wq_expr_subst(p->pred, ch->exprs);
		if (s == NULL)
			return WEFT_ENOMEM;
		weft_expr_free(p->pred);
		p->pred = NULL;
		p->l = NULL;
		wq_plan_free(p);
		*pp = ch;
		rc = wq_add_filter(&ch->l, s);
		if (rc != 0)
			return rc;
		if (ch->l->kind == WQ_FILTER)
			return wq_push_filter(&ch->l);
		return 0;
	}
	case WQ_JOIN: {
		uint32_t nl = ch->l->ncols, nt = ch->ncols;
		weft_expr_t *keep = NULL;

		rc = wq_conjuncts(p->pred, &c, &n);
		p->pred = NULL;
		if (rc != 0)
			break;
		for (i = 0; i < n && rc == 0; i++) {
			weft_expr_t *e = c[i];
			bool ul = weft_expr_uses_range(e, 0, nl);
			bool ur = weft_expr_uses_range(e, nl, nt);

			c[i] = NULL;
			if (ul && !ur) {
				rc = wq_add_filter(&ch->l, e);
			} else if (!ul && ur && ch->jtype != WQ_JOIN_LEFT) {
				wq_shift(e, -(int64_t)nl);
				rc = wq_add_filter(&ch->r, e);
			} else if (ul && ur && ch->jtype != WQ_JOIN_LEFT) {
				ch->resid = wq_and(ch->resid, e);
				rc = ch->resid ? 0 : WEFT_ENOMEM;
				if (ch->jtype == WQ_JOIN_CROSS)
					ch->jtype = WQ_JOIN_INNER;
			} else {
				keep = wq_and(keep, e);
				rc = keep ? 0 : WEFT_ENOMEM;
			}
		}
		for (; i < n; i++)
			weft_expr_free(c[i]);
		free(c);
		if (rc != 0) {
			weft_expr_free(keep);
			return rc;
		}
		if (keep != NULL) {
			p->pred = keep;
			return 0;
		}
		p->l = NULL;
		wq_plan_free(p);
		*pp = ch;
		return 0;
	}
	default: return 0;
	}
	return rc;
}

static int
wq_push(wq_plan_t **pp)
{
	wq_plan_t *p = *pp;
	int rc;

	if (p->kind == WQ_FILTER) {
		rc = wq_push_filter(pp);
		if (rc != 0)
			return rc;
		p = *pp;
		if (p->kind == WQ_FILTER) {
			/* could not move (or moved partly): go on below */
			return p->l ? wq_push(&p->l) : 0;
		}
		return wq_push(pp);
	}
	if (p->kind == WQ_JOIN) {
		rc = wq_join_split(p);
		if (rc != 0)
			return rc;
	}
	if (p->l && (rc = wq_push(&p->l)) != 0)
		return rc;
	if (p->r && (rc = wq_push(&p->r)) != 0)
		return rc;
	return 0;
}

/* ---- pass 2: column pruning ---- */

/* Keep only the output columns p must produce (need[i] for each of its
 * ncols) plus what it needs internally; map[old] = new or UINT32_MAX. */
static int wq_prune(wq_plan_t *p, const uint8_t *need, uint32_t *map);

static int
wq_prune_child(wq_plan_t *c, const uint8_t *need, uint32_t **map)
{
	*map = malloc((c->ncols + 1) * sizeof(**map));
	if (*map == NULL)
		return WEFT_ENOMEM;
	return wq_prune(c, need, *map);
}

/* Compact p's output shape to the columns with map != UINT32_MAX. */
static void
wq_shape_compact(wq_plan_t *p, const uint32_t *map)
{
	uint32_t i, k = 0;

	for (i = 0; i < p->ncols; i++) {
		if (map[i] == UINT32_MAX) {
			free(p->names[i]);
			continue;
		}
		p->types[k] = p->types[i];
		p->names[k] = p->names[i];
		k++;
	}
	p->ncols = k;
}

/* A scan reads only the needed columns and those its filter reads
 * (unless its fragment already computes something over them). */
static int
wq_prune_scan(wq_plan_t *p, const uint8_t *need, uint32_t *map)
{
	wq_frag_t *f = p->frag;
	uint8_t *cn;
	uint32_t i, k;

	if (f->agg || f->nproj || f->norder)
		return 0;
	cn = calloc(p->ncols + 1, 1);
	if (cn == NULL)
		return WEFT_ENOMEM;
	memcpy(cn, need, p->ncols);
	weft_expr_refs(f->filter, cn, p->ncols);
	for (i = 0, k = 0; i < p->ncols; i++) {
		if (!cn[i]) {
			map[i] = UINT32_MAX;
			if (f->colnames) {
				free(f->colnames[i]);
				f->colnames[i] = NULL;
			}
			continue;
		}
		map[i] = k;
		f->cols[k] = f->cols[i];
		f->ctypes[k] = f->ctypes[i];
		if (f->colnames) {
			char *t = f->colnames[k];

			f->colnames[k] = f->colnames[i];
			f->colnames[i] = t;
		}
		k++;
	}
	f->ncols = k;
	if (f->filter)
		weft_expr_remap(f->filter, map);
	wq_shape_compact(p, map);
	free(cn);
	return 0;
}

/* Filter, sort and limit pass their child's columns through: the child
 * keeps what is needed above and what the predicate and sort keys
 * read. */
static int
wq_prune_pass(wq_plan_t *p, const uint8_t *need, uint32_t *map)
{
	uint8_t *cn = calloc(p->ncols + 1, 1);
	uint32_t *cm = NULL, i;
	int rc;

	if (cn == NULL)
		return WEFT_ENOMEM;
	memcpy(cn, need, p->ncols);
	weft_expr_refs(p->pred, cn, p->ncols);
	for (i = 0; i < p->nsort; i++)
		cn[p->sort[i].col] = 1;
	rc = wq_prune_child(p->l, cn, &cm);
	if (rc == 0) {
		memcpy(map, cm, p->ncols * sizeof(*map));
		if (p->pred)
			weft_expr_remap(p->pred, cm);
		for (i = 0; i < p->nsort; i++)
			p->sort[i].col = cm[p->sort[i].col];
		wq_shape_compact(p, cm);
	}
	free(cn);
	free(cm);
	return rc;
}

/* A projection drops the expressions nobody needs; its child keeps
 * what the rest read. */
static int
wq_prune_project(wq_plan_t *p, const uint8_t *need, uint32_t *map)
{
	uint32_t nc = p->l->ncols, i, k, *cm = NULL;
	uint8_t *cn = calloc(nc + 1, 1);
	int rc;

	if (cn == NULL)
		return WEFT_ENOMEM;
	for (i = 0, k = 0; i < p->nexprs; i++) {
		if (!need[i]) {
			map[i] = UINT32_MAX;
			weft_expr_free(p->exprs[i]);
			continue;
		}
		map[i] = k;
		p->exprs[k++] = p->exprs[i];
	}
	p->nexprs = k;
	wq_shape_compact(p, map);
	for (i = 0; i < p->nexprs; i++)
		weft_expr_refs(p->exprs[i], cn, nc);
	rc = wq_prune_child(p->l, cn, &cm);
	if (rc == 0)
		for (i = 0; i < p->nexprs; i++)
			weft_expr_remap(p->exprs[i], cm);
	free(cn);
	free(cm);
	return rc;
}

/* An aggregation keeps its output (keys and aggregates); its child
 * keeps what they read (all of it for FINAL, whose input is states). */
static int
wq_prune_agg(wq_plan_t *p)
{
	uint32_t nc = p->l->ncols, i, k, *cm = NULL;
	uint8_t *cn = calloc(nc + 1, 1);
	int rc;

	if (cn == NULL)
		return WEFT_ENOMEM;
	if (p->aggmode == WQ_AGG_FINAL)
		memset(cn, 1, nc);
	for (i = 0; i < p->nkeys; i++)
		weft_expr_refs(p->keys[i], cn, nc);
	for (i = 0; i < p->naggs; i++)
		for (k = 0; k < wq_agg_nargs(&p->aggs[i]); k++)
			weft_expr_refs(wq_agg_arg(&p->aggs[i], k), cn, nc);
	rc = wq_prune_child(p->l, cn, &cm);
	if (rc == 0) {
		for (i = 0; i < p->nkeys; i++)
			weft_expr_remap(p->keys[i], cm);
		for (i = 0; i < p->naggs; i++)
			for (k = 0; k < wq_agg_nargs(&p->aggs[i]); k++)
				weft_expr_remap(wq_agg_arg(&p->aggs[i], k), cm);
	}
	free(cn);
	free(cm);
	return rc;
}

/* A join: each side keeps what is needed above, what the condition and
 * its own keys read; output columns read only by the keys are marked in
 * jskip, so the join does not fill them. */
static int
wq_prune_join(wq_plan_t *p, const uint8_t *need, uint32_t *map)
{
	uint32_t nl = p->l->ncols, nr = p->r->ncols, i;
	uint32_t *cm = NULL, *cm2 = NULL;
	uint8_t *cn = calloc(nl + nr + 1, 1), *outer = calloc(nl + nr + 1, 1);
	int rc = WEFT_ENOMEM;

	if (cn == NULL || outer == NULL)
		goto out;
	memcpy(cn, need, nl + nr);
	weft_expr_refs(p->resid, cn, nl + nr);
	memcpy(outer, cn, nl + nr); /* read above or by resid */
	for (i = 0; i < p->njkeys; i++) {
		weft_expr_refs(p->lkeys[i], cn, nl);
		weft_expr_refs(p->rkeys[i], cn + nl, nr);
	}
	rc = wq_prune_child(p->l, cn, &cm);
	if (rc == 0)
		rc = wq_prune_child(p->r, cn + nl, &cm2);
	if (rc != 0)
		goto out;
	for (i = 0; i < nl + nr; i++) {
		uint32_t m = i < nl ? cm[i] : cm2[i - nl];

		map[i] = m == UINT32_MAX ? UINT32_MAX
					 : (i < nl ? m : m + p->l->ncols);
	}
	for (i = 0; i < p->njkeys; i++) {
		weft_expr_remap(p->lkeys[i], cm);
		weft_expr_remap(p->rkeys[i], cm2);
	}
	if (p->resid)
		weft_expr_remap(p->resid, map);
	free(p->jskip);
	p->jskip = calloc(p->l->ncols + p->r->ncols + 1, 1);
	if (p->jskip != NULL)
		for (i = 0; i < nl + nr; i++)
			if (map[i] != UINT32_MAX)
				p->jskip[map[i]] = !outer[i];
	wq_shape_compact(p, map);
out:
	free(cn);
	free(outer);
	free(cm);
	free(cm2);
	return rc;
}

/* DISTINCT and UNION ALL need every column of their inputs. */
static int
wq_prune_all(wq_plan_t *p)
{
	uint8_t *cn = malloc(p->ncols + 1);
	uint32_t *cm = NULL, *cm2 = NULL;
	int rc;

	if (cn == NULL)
		return WEFT_ENOMEM;
	memset(cn, 1, p->ncols + 1);
	rc = wq_prune_child(p->l, cn, &cm);
	if (rc == 0 && p->r)
		rc = wq_prune_child(p->r, cn, &cm2);
	free(cn);
	free(cm);
	free(cm2);
	return rc;
}

/* A profile reads every column of its child. */
static int
wq_prune_profile(wq_plan_t *p)
{
	uint8_t *cn = malloc(p->l->ncols + 1);
	uint32_t *cm = NULL;
	int rc;

	if (cn == NULL)
		return WEFT_ENOMEM;
	memset(cn, 1, p->l->ncols + 1);
	rc = wq_prune_child(p->l, cn, &cm);
	free(cn);
	free(cm);
	return rc;
}

static int
wq_prune(wq_plan_t *p, const uint8_t *need, uint32_t *map)
{
	uint32_t i;

	for (i = 0; i < p->ncols; i++)
		map[i] = i;
	switch (p->kind) {
	case WQ_SCAN: return wq_prune_scan(p, need, map);
	case WQ_FILTER:
	case WQ_SORT:
	case WQ_LIMIT: return wq_prune_pass(p, need, map);
	case WQ_PROJECT: return wq_prune_project(p, need, map);
	case WQ_AGG: return wq_prune_agg(p);
	case WQ_JOIN: return wq_prune_join(p, need, map);
	case WQ_DISTINCT:
	case WQ_APPEND: return wq_prune_all(p);
	case WQ_PROFILE: return wq_prune_profile(p);
	default: return 0;
	}
}

/* ---- pass 3: fragments ---- */

static bool
wq_proj_identity(const wq_plan_t *p)
{
	uint32_t i;

	if (p->nexprs != p->l->ncols)
		return false;
	for (i = 0; i < p->nexprs; i++)
		if (p->exprs[i]->kind != WEFT_E_COL || p->exprs[i]->col != i ||
		    p->exprs[i]->type != p->l->types[i])
			return false;
	return true;
}

/* Replace node *pp by its child l, giving the child p's output names. */
static void
wq_lift(wq_plan_t **pp)
{
	wq_plan_t *p = *pp, *c = p->l;
	uint32_t i;

	for (i = 0; i < c->ncols && i < p->ncols; i++) {
		char *t = c->names[i];

		c->names[i] = p->names[i];
		p->names[i] = t;
	}
	p->l = NULL;
	wq_plan_free(p);
	*pp = c;
}

/* A projection directly over a plain scan moves into its fragment (an
 * identity projection just goes). */
static int
wq_frag_project(wq_plan_t **pp)
{
	wq_plan_t *p = *pp, *c = p->l;
	wq_frag_t *f = c->frag;
	uint32_t i;

	if (f->agg || f->nproj || f->limit >= 0)
		return 0;
	if (wq_proj_identity(p)) {
		wq_lift(pp);
		return 0;
	}
	f->proj = p->exprs;
	f->nproj = p->nexprs;
	p->exprs = NULL;
	p->nexprs = 0;
	/* the scan now has the projection's shape */
	for (i = 0; i < c->ncols; i++)
		free(c->names[i]);
	free(c->names);
	free(c->types);
	c->names = p->names;
	c->types = p->types;
	c->ncols = p->ncols;
	p->names = NULL;
	p->types = NULL;
	p->ncols = 0;
	p->l = NULL;
	wq_plan_free(p);
	*pp = c;
	return 0;
}

/* Aggregation over a scan: the fragment aggregates partially (keys, then
 * each aggregate's transition states) and the node above becomes the
 * FINAL step over that output. */
static int
wq_frag_agg(wq_plan_t *p)
{
	wq_plan_t *c = p->l, *np;
	wq_frag_t *f = c->frag;
	uint32_t i, k, s, nstate = 0;

	if ((p->aggmode != WQ_AGG_COMPLETE && p->aggmode != WQ_AGG_PARTIAL) ||
	    f->agg || f->limit >= 0)
		return 0;
	for (i = 0; i < p->naggs; i++)
		if (p->aggs[i].distinct)
			return 0;
	nstate = wq_aggs_nstate(p->aggs, p->naggs);
	np = wq_plan_new(WQ_SCAN);
	f->aggs = calloc(p->naggs + 1, sizeof(*f->aggs));
	f->keys = calloc(p->nkeys + 1, sizeof(*f->keys));
	if (np == NULL || wq_plan_shape(np, p->nkeys + nstate) != 0 ||
	    f->aggs == NULL || f->keys == NULL)
		goto oom;
	for (i = 0; i < p->nkeys; i++) {
		weft_expr_t *kc = weft_expr_col(i, p->keys[i]->type, 0);

		if (kc == NULL)
			goto oom;
		f->keys[i] = p->keys[i];
		p->keys[i] = kc;
		np->types[i] = f->keys[i]->type;
		np->names[i] = strdup(p->names[i]);
	}
	f->nkeys = p->nkeys;
	for (i = 0, k = p->nkeys; i < p->naggs; i++) {
		f->aggs[i] = p->aggs[i];
		p->aggs[i].arg = NULL; /* the fragment's now */
		p->aggs[i].more = NULL;
		for (s = 0; s < wq_agg_nstate(&p->aggs[i]); s++) {
			char nm[64];

			snprintf(nm, sizeof(nm), "%s_state%u",
				 wq_agg_name(p->aggs[i].fn), s);
			np->types[k] = wq_agg_state_type(&p->aggs[i], s);
			np->names[k++] = strdup(nm);
		}
	}
	f->naggs = p->naggs;
	f->agg = true;
	for (i = 0; i < np->ncols; i++)
		if (np->names[i] == NULL)
			goto oom;
	np->frag = f;
	np->storage_id = c->storage_id;
	np->nchunks = c->nchunks;
	np->decoded = c->decoded;
	np->version = c->version;
	np->remote = c->remote;
	c->remote = NULL;
	np->rows = p->rows;
	c->frag = NULL;
	wq_plan_free(c);
	p->l = np;
	p->aggmode = WQ_AGG_FINAL;
	return 0;
oom:
	wq_plan_free(np);
	return WEFT_ENOMEM;
}

/* LIMIT over a scan, or over a sort of a scan: the fragment keeps the
 * first limit + offset rows (in the sort's order: a top-N); the nodes
 * above stay. */
static int
wq_frag_limit(wq_plan_t *p)
{
	wq_plan_t *c = p->l;
	wq_frag_t *f;
	int64_t lim;

	if (p->limit < 0)
		return 0;
	lim = p->limit + p->offset;
	if (lim < p->limit)
		return 0;
	if (c->kind == WQ_SCAN) {
		f = c->frag;
		if (!f->agg && f->limit < 0)
			f->limit = lim;
		return 0;
	}
	if (c->kind != WQ_SORT || c->l->kind != WQ_SCAN)
		return 0;
	f = c->l->frag;
	if (f->agg || f->limit >= 0)
		return 0;
	f->order = calloc(c->nsort, sizeof(*f->order));
	if (f->order == NULL)
		return WEFT_ENOMEM;
	memcpy(f->order, c->sort, c->nsort * sizeof(*f->order));
	f->norder = c->nsort;
	f->limit = lim;
	return 0;
}

/* A projection of read columns only (SELECT b, a FROM p) becomes the
 * read columns in its order; nonzero when f projects anything else, or
 * filters on a column it does not project. */
static int
wq_frag_unproject(wq_frag_t *f)
{
	uint32_t i, *cols = NULL, *map = NULL;
	weft_sqltype_t *t = NULL;
	char **nm = NULL;
	uint8_t *used = NULL;

	for (i = 0; i < f->nproj; i++)
		if (f->proj[i]->kind != WEFT_E_COL ||
		    f->proj[i]->col >= f->ncols)
			return -1;
	if (f->nproj == 0)
		return 0;
	cols = calloc(f->nproj, sizeof(*cols));
	t = calloc(f->nproj, sizeof(*t));
	nm = calloc(f->nproj, sizeof(*nm));
	map = malloc(f->ncols * sizeof(*map));
	used = calloc(f->ncols + 1, 1);
	if (cols == NULL || t == NULL || nm == NULL || map == NULL ||
	    used == NULL)
		goto fail;
	memset(map, 0xff, f->ncols * sizeof(*map));
	for (i = f->nproj; i-- > 0;)
		map[f->proj[i]->col] = i;
	weft_expr_refs(f->filter, used, f->ncols);
	for (i = 0; i < f->ncols; i++)
		if (used[i] && map[i] == UINT32_MAX)
			goto fail;
	for (i = 0; i < f->nproj; i++) {
		uint32_t k = f->proj[i]->col;

		cols[i] = f->cols[k];
		t[i] = f->ctypes[k];
		if (f->colnames && f->colnames[k] &&
		    (nm[i] = strdup(f->colnames[k])) == NULL)
			goto fail;
	}
	if (f->filter != NULL)
		weft_expr_remap(f->filter, map);
	for (i = 0; f->colnames && i < f->ncols; i++)
		free(f->colnames[i]);
	free(f->colnames);
	free(f->cols);
	free(f->ctypes);
	weft_expr_free_array(f->proj, f->nproj);
	f->proj = NULL;
	f->cols = cols;
	f->ctypes = t;
	f->colnames = nm;
	f->ncols = f->nproj;
	f->nproj = 0;
	free(map);
	free(used);
	return 0;
fail:
	for (i = 0; nm && i < f->nproj; i++)
		free(nm[i]);
	free(nm);
	free(cols);
	free(t);
	free(map);
	free(used);
	return -1;
}

/* A profile of a scan that only reads (and filters): the fragment
 * profiles its rows where they are, and the scan node takes the
 * profile's shape. */
static int
wq_frag_profile(wq_plan_t **pp)
{
	wq_plan_t *p = *pp, *c = p->l;
	wq_frag_t *f = c->frag;

	if (c->kind != WQ_SCAN || f == NULL || f->agg || f->norder ||
	    f->limit >= 0 || f->ncols == 0 || c->dynkey ||
	    wq_frag_unproject(f) != 0)
		return 0;
	wq_plan_unshape(c);
	if (wq_plan_shape_of(c, p) != 0)
		return WEFT_ENOMEM;
	f->profile = true;
	*pp = c;
	p->l = NULL;
	wq_plan_free(p);
	return 0;
}

static int
wq_fragments(wq_plan_t **pp)
{
	wq_plan_t *p = *pp;
	int rc;

	if (p->l && (rc = wq_fragments(&p->l)) != 0)
		return rc;
	if (p->r && (rc = wq_fragments(&p->r)) != 0)
		return rc;
	switch (p->kind) {
	case WQ_PROJECT: return p->l->kind == WQ_SCAN ? wq_frag_project(pp) : 0;
	case WQ_AGG:
		if (p->l->kind != WQ_SCAN)
			return 0;
		if (p->aggmode != WQ_AGG_PARTIAL)
			return wq_frag_agg(p);
		/* below a join (plan_eager.c): the fragment's partial
		 * aggregation replaces the node */
		if ((rc = wq_frag_agg(p)) != 0 || p->l->frag == NULL ||
		    !p->l->frag->agg)
			return rc;
		*pp = p->l;
		p->l = NULL;
		wq_plan_free(p);
		return 0;
	case WQ_LIMIT: return wq_frag_limit(p);
	case WQ_PROFILE: return wq_frag_profile(pp);
	default: return 0;
	}
}

static bool
wq_too_wide(const wq_plan_t *p)
{
	if (p == NULL)
		return false;
	if (p->ncols > WQ_COLS_MAX || p->nkeys > WQ_COLS_MAX ||
	    p->naggs > WQ_COLS_MAX / 2 ||
	    (p->frag && p->frag->ncols > WEFT_COLS_MAX))
		return true;
	return wq_too_wide(p->l) || wq_too_wide(p->r);
}

/* Pass 4: every fragment in the form the decoder accepts (frag.h). */
static int
wq_settle(wq_plan_t *p, weft_err_t *err)
{
	int rc;

	if (p == NULL)
		return 0;
	if (p->kind == WQ_SCAN && (rc = wq_frag_settle(p->frag, err)) != 0)
		return rc;
	if ((rc = wq_settle(p->l, err)) != 0)
		return rc;
	return wq_settle(p->r, err);
}

int
wq_optimize(wq_plan_t **p, weft_err_t *err)
{
	uint8_t *need;
	uint32_t *map;
	int rc;

	if (wq_too_wide(*p))
		return weft_err_set(err, WEFT_EINVAL,
				    "too many columns (at most "
				    "%d in any step of a query)",
				    WQ_COLS_MAX);
	rc = wq_push(p);
	if (rc != 0)
		return weft_err_set(err, rc, "out of memory while planning");
	need = malloc((*p)->ncols + 1);
	map = malloc(((*p)->ncols + 1) * sizeof(*map));
	if (need == NULL || map == NULL) {
		free(need);
		free(map);
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	memset(need, 1, (*p)->ncols + 1);
	rc = wq_prune(*p, need, map);
	free(need);
	free(map);
	if (rc == 0)
		rc = wq_subplan_cut(p);
	if (rc == 0)
		rc = wq_eager_agg(*p);
	if (rc == 0)
		rc = wq_union_agg(*p);
	if (rc == 0)
		rc = wq_fragments(p);
	if (rc == 0)
		rc = wq_dynf(*p);
	if (rc != 0)
		return weft_err_set(err, rc, "out of memory while planning");
	return wq_settle(*p, err);
}

int
wq_optimize_pushed(wq_plan_t **p, weft_err_t *err)
{
	int rc = wq_fragments(p);

	if (rc != 0)
		return weft_err_set(err, rc, "out of memory while planning");
	return wq_settle(*p, err);
}

/* ---- EXPLAIN ---- */

static void wq_print_expr(FILE *f, const weft_expr_t *e, char *const *names);

/* count(*), sum(x), corr(y, x); "state" for the argument of a final
 * aggregation (its input is transition states). */
static void
wq_print_agg(FILE *f, const wq_agg_t *a, char *const *in, bool first)
{
	uint32_t k;

	fprintf(f, "%s%s(%s", first ? "" : ", ", wq_agg_name(a->fn),
		a->distinct ? "DISTINCT " : "");
	if (a->arg == NULL)
		fprintf(f, a->fn == WQ_AGG_COUNT_STAR ? "*" : "state");
	for (k = 0; k < wq_agg_nargs(a); k++) {
		if (k > 0)
			fprintf(f, ", ");
		wq_print_expr(f, wq_agg_arg(a, k), in);
	}
	fprintf(f, ")");
}

static void
wq_print_expr(FILE *f, const weft_expr_t *e, char *const *names)
{
	weft_expr_print(e, (const char *const *)names, f);
}

/* A fragment's partial aggregation; its keys and arguments read the
 * projection's outputs when it has one, shown as their expressions. */
static void
wq_print_frag_agg(const wq_frag_t *fr, FILE *f, char **in_names)
{
	char **pn = NULL, **names = in_names;
	uint32_t i;

	if (fr->nproj > 0 && (pn = calloc(fr->nproj, sizeof(*pn))) != NULL) {
		for (i = 0; i < fr->nproj; i++) {
			size_t len = 0;
			FILE *m = open_memstream(&pn[i], &len);

			if (m == NULL)
				break;
			wq_print_expr(m, fr->proj[i], in_names);
			fclose(m);
		}
		names = pn;
		for (i = 0; i < fr->nproj; i++)
			if (pn[i] == NULL)
				names = NULL;
	}
	if (names == NULL) {
		fprintf(f, "  partial aggregate (out of memory)");
		goto out;
	}
	fprintf(f, "  partial aggregate: keys [");
	for (i = 0; i < fr->nkeys; i++) {
		if (i)
			fprintf(f, ", ");
		wq_print_expr(f, fr->keys[i], names);
	}
	fprintf(f, "] aggs [");
	for (i = 0; i < fr->naggs; i++)
		wq_print_agg(f, &fr->aggs[i], names, i == 0);
	fprintf(f, "]");
out:
	for (i = 0; pn != NULL && i < fr->nproj; i++)
		free(pn[i]);
	free(pn);
}

/* A scan; with r, remote; else local, or (ver set) in a pushed-down
 * subtree, at the version the plan was made with. */
static void
wq_print_frag(const wq_frag_t *fr, const weft_remote_t *r, FILE *f, int ind,
	      char **in_names, uint64_t ver, const weft_expr_t *dynkey)
{
	uint32_t i;

	if (r != NULL) {
		fprintf(
		    f,
		    "%*sRemote Scan %s.%s on node %s (version %llu, %llu "
		    "rows; %s%s%s%s)",
		    ind, "", r->org, fr->product, r->node,
		    (unsigned long long)r->version, (unsigned long long)r->rows,
		    r->tunnel ? "tunnel through gateways" : "direct session",
		    r->cross ? "; crosses from org " : "",
		    r->cross ? r->org : "", r->cross ? ": results only" : "");
	} else if (ver != 0)
		fprintf(f, "%*sScan %s (version %llu)", ind, "", fr->product,
			(unsigned long long)ver);
	else
		fprintf(f, "%*sScan %s", ind, "", fr->product);
	fprintf(f, "  columns: [");
	for (i = 0; i < fr->ncols; i++)
		fprintf(f, "%s%s", i ? ", " : "", in_names[i]);
	fprintf(f, "]");
	if (fr->filter) {
		fprintf(f, "  filter: ");
		wq_print_expr(f, fr->filter, in_names);
	}
	if (fr->nproj) {
		fprintf(f, "  project: [");
		for (i = 0; i < fr->nproj; i++) {
			if (i)
				fprintf(f, ", ");
			wq_print_expr(f, fr->proj[i], in_names);
		}
		fprintf(f, "]");
	}
	if (fr->agg)
		wq_print_frag_agg(fr, f, in_names);
	if (fr->profile)
		fprintf(f, "  profile");
	if (fr->norder) {
		fprintf(f, "  top-N by [");
		for (i = 0; i < fr->norder; i++)
			fprintf(f, "%s#%u%s", i ? ", " : "",
				fr->order[i].col + 1,
				fr->order[i].desc ? " DESC" : "");
		fprintf(f, "]");
	}
	if (fr->limit >= 0)
		fprintf(f, "  limit: %lld", (long long)fr->limit);
	if (dynkey != NULL) {
		fprintf(f, "  dynamic filter: ");
		wq_print_expr(f, dynkey, in_names);
		fprintf(f, " IN (the join's build keys)");
	}
	if (r != NULL && r->policy != NULL)
		fprintf(f, "  policy: %s", r->policy);
	fprintf(f, "\n");
}

/* A pushed-down subtree: where it runs, then its steps (its scans run
 * next to their data there). */
static void
wq_print_remote(const wq_plan_t *p, FILE *f, int ind)
{
	const weft_remote_t *r = p->remote;

	fprintf(f, "%*sRemote Plan on node %s (org %s, %zu bytes; %s%s%s%s)\n",
		ind, "", r->node, r->org, p->sublen,
		r->tunnel ? "tunnel through gateways" : "direct session",
		r->cross ? "; crosses from org " : "", r->cross ? r->org : "",
		r->cross ? ": results only" : "");
	if (r->policy != NULL)
		fprintf(f, "%*s  policy: %s\n", ind, "", r->policy);
}

static void wq_print_in(const wq_plan_t *p, FILE *f, int ind, bool sub);

static void
wq_print(const wq_plan_t *p, FILE *f, int ind)
{
	wq_print_in(p, f, ind, false);
}

/* The line(s) of p itself at indent ind, without its children; sub:
 * inside a pushed-down subtree. A Remote Plan's lines are its whole
 * subtree (which runs elsewhere). */
static void
wq_print_node(const wq_plan_t *p, FILE *f, int ind, bool sub)
{
	char **in = p->l ? p->l->names : NULL;
	uint32_t i;

	switch (p->kind) {
	case WQ_REMOTE:
		wq_print_remote(p, f, ind);
		wq_print_in(p->sub, f, ind + 2, true);
		return;
	case WQ_SCAN: {
		char *nm[WQ_COLS_MAX];
		char t[WQ_COLS_MAX][16];

		for (i = 0; i < p->frag->ncols && i < WQ_COLS_MAX; i++) {
			snprintf(t[i], sizeof(t[i]), "c%u", p->frag->cols[i]);
			nm[i] = p->frag->colnames && p->frag->colnames[i]
				    ? p->frag->colnames[i]
				    : t[i];
		}
		wq_print_frag(p->frag, sub ? NULL : p->remote, f, ind, nm,
			      sub && p->remote ? p->remote->version : 0,
			      p->dynkey);
		return;
	}
	case WQ_FILTER:
		fprintf(f, "%*sFilter: ", ind, "");
		wq_print_expr(f, p->pred, in);
		fprintf(f, "\n");
		break;
	case WQ_PROJECT:
		fprintf(f, "%*sProject: [", ind, "");
		for (i = 0; i < p->nexprs; i++) {
			if (i)
				fprintf(f, ", ");
			wq_print_expr(f, p->exprs[i], in);
			if (strcmp(p->names[i], "?column?") != 0)
				fprintf(f, " AS %s", p->names[i]);
		}
		fprintf(f, "]\n");
		break;
	case WQ_AGG:
		fprintf(f, "%*s%s: keys [", ind, "",
			p->aggmode == WQ_AGG_FINAL ? "Final Aggregate"
						   : "Hash Aggregate");
		for (i = 0; i < p->nkeys; i++) {
			if (i)
				fprintf(f, ", ");
			wq_print_expr(f, p->keys[i], in);
		}
		fprintf(f, "] aggs [");
		for (i = 0; i < p->naggs; i++)
			wq_print_agg(f, &p->aggs[i], in, i == 0);
		fprintf(f, "]\n");
		break;
	case WQ_JOIN:
		fprintf(f, "%*s%s Join", ind, "",
			p->jtype == WQ_JOIN_LEFT    ? "Left Hash"
			: p->njkeys		    ? "Inner Hash"
			: p->jtype == WQ_JOIN_CROSS ? "Cross (nested loop)"
						    : "Inner (nested loop)");
		if (p->njkeys) {
			fprintf(f, "  keys: [");
			for (i = 0; i < p->njkeys; i++) {
				if (i)
					fprintf(f, ", ");
				wq_print_expr(f, p->lkeys[i], p->l->names);
				fprintf(f, " = ");
				wq_print_expr(f, p->rkeys[i], p->r->names);
			}
			fprintf(f, "]");
		}
		if (p->resid) {
			fprintf(f, "  condition: ");
			wq_print_expr(f, p->resid, p->names);
		}
		fprintf(f, "\n");
		break;
	case WQ_SORT:
		fprintf(f, "%*sSort: [", ind, "");
		for (i = 0; i < p->nsort; i++)
			fprintf(f, "%s%s%s%s", i ? ", " : "",
				p->names[p->sort[i].col],
				p->sort[i].desc ? " DESC" : "",
				p->sort[i].nulls_first != p->sort[i].desc
				    ? (p->sort[i].nulls_first ? " NULLS FIRST"
							      : " NULLS LAST")
				    : "");
		fprintf(f, "]\n");
		break;
	case WQ_LIMIT:
		fprintf(f, "%*sLimit:", ind, "");
		if (p->limit >= 0)
			fprintf(f, " %lld", (long long)p->limit);
		else
			fprintf(f, " ALL");
		if (p->offset > 0)
			fprintf(f, " offset %lld", (long long)p->offset);
		fprintf(f, "\n");
		break;
	case WQ_DISTINCT: fprintf(f, "%*sDistinct\n", ind, ""); break;
	case WQ_PROFILE: fprintf(f, "%*sProfile\n", ind, ""); break;
	case WQ_APPEND: fprintf(f, "%*sAppend (UNION ALL)\n", ind, ""); break;
	case WQ_ONEROW: fprintf(f, "%*sResult (one row)\n", ind, ""); break;
	}
}

/* p at indent ind; sub: inside a pushed-down subtree. */
static void
wq_print_in(const wq_plan_t *p, FILE *f, int ind, bool sub)
{
	wq_print_node(p, f, ind, sub);
	if (p->l)
		wq_print_in(p->l, f, ind + 2, sub);
	if (p->r)
		wq_print_in(p->r, f, ind + 2, sub);
}

void
wq_plan_print_node(const wq_plan_t *p, FILE *f, int ind)
{
	wq_print_node(p, f, ind, false);
}

void
wq_plan_print(const wq_plan_t *p, FILE *f)
{
	wq_print(p, f, 0);
}
