/*
 * plan_node.c: plan tree nodes (query/qint.h): construction, shape and
 * destruction, for the binder and every planner pass.
 */
#include <stdlib.h>
#include <string.h>

#include "query/qint.h"

/* ---- plan nodes ---- */

wq_plan_t *
wq_plan_new(wq_kind_t kind)
{
	wq_plan_t *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		p->kind = kind;
		p->limit = -1;
	}
	return p;
}

int
wq_plan_shape(wq_plan_t *p, uint32_t n)
{
	p->ncols = n;
	p->types = calloc(n ? n : 1, sizeof(*p->types));
	p->names = calloc(n ? n : 1, sizeof(*p->names));
	return p->types && p->names ? 0 : WEFT_ENOMEM;
}

void
wq_plan_unshape(wq_plan_t *p)
{
	uint32_t i;

	for (i = 0; p->names != NULL && i < p->ncols; i++)
		free(p->names[i]);
	free(p->names);
	free(p->types);
	p->names = NULL;
	p->types = NULL;
	p->ncols = 0;
}

int
wq_plan_shape_of(wq_plan_t *p, const wq_plan_t *src)
{
	uint32_t i;

	if (wq_plan_shape(p, src->ncols) != 0)
		return WEFT_ENOMEM;
	for (i = 0; i < src->ncols; i++) {
		p->types[i] = src->types[i];
		p->names[i] = strdup(src->names[i]);
		if (p->names[i] == NULL)
			return WEFT_ENOMEM;
	}
	return 0;
}

uint32_t
wq_plan_nscans(const wq_plan_t *p)
{
	if (p == NULL)
		return 0;
	return p->kind == WQ_SCAN ? 1
				  : wq_plan_nscans(p->l) + wq_plan_nscans(p->r);
}

const wq_plan_t *
wq_plan_first_scan(const wq_plan_t *p)
{
	while (p->kind != WQ_SCAN)
		p = p->l;
	return p;
}

void
wq_plan_free(wq_plan_t *p)
{
	uint32_t i;

	if (p == NULL)
		return;
	wq_plan_free(p->l);
	wq_plan_free(p->r);
	for (i = 0; i < p->ncols && p->names; i++)
		free(p->names[i]);
	free(p->names);
	free(p->types);
	wq_frag_free(p->frag);
	wq_remote_free(p->remote);
	weft_expr_free(p->pred);
	weft_expr_free_array(p->exprs, p->nexprs);
	weft_expr_free_array(p->keys, p->nkeys);
	wq_aggs_free(p->aggs, p->naggs);
	weft_expr_free_array(p->lkeys, p->njkeys);
	weft_expr_free_array(p->rkeys, p->njkeys);
	weft_expr_free(p->resid);
	free(p->jskip);
	free(p->sort);
	wq_plan_free(p->sub);
	weft_expr_free(p->dynkey);
	free(p->subbuf);
	free(p);
}

/* A projection of child with n expressions (taken) named names (copied). */
wq_plan_t *
wq_plan_project(wq_plan_t *child, uint32_t n, weft_expr_t **exprs,
		char *const *names)
{
	wq_plan_t *p = wq_plan_new(WQ_PROJECT);
	uint32_t i;

	if (p == NULL || wq_plan_shape(p, n) != 0) {
		wq_plan_free(p);
		return NULL;
	}
	p->l = child;
	p->exprs = exprs;
	p->nexprs = n;
	p->rows = child->rows;
	for (i = 0; i < n; i++) {
		p->types[i] = exprs[i]->type;
		p->names[i] = strdup(names[i] ? names[i] : "?column?");
		if (p->names[i] == NULL) {
			p->l = NULL;
			p->exprs = NULL;
			p->nexprs = 0;
			wq_plan_free(p);
			return NULL;
		}
	}
	return p;
}

/* A node of kind over child with child's shape. */
wq_plan_t *
wq_plan_same(wq_kind_t kind, wq_plan_t *child)
{
	wq_plan_t *p = wq_plan_new(kind);

	if (p == NULL || wq_plan_shape_of(p, child) != 0) {
		wq_plan_free(p);
		return NULL;
	}
	p->l = child;
	p->rows = child->rows;
	return p;
}
