/*
 * subplan.c: whole-subtree pushdown (query/qint.h). Joins, aggregations
 * and sorts whose products all live on one other node run there, as
 * postgres_fdw pushes a join of two foreign tables of one server: the
 * planner cuts the subtree out of the plan and sends it, as plan steps
 * in a weft.Fragment, where a one-scan fragment would have gone; the
 * owner decodes it as hostile input, checks every product it reads
 * (query/serve.c), finishes it with its own fragment passes and runs it
 * with the same executor. Only the subtree's result comes back.
 *
 * The planner offers a subtree only if the owner's decoder accepts its
 * bytes and gives back the same output shape (a round trip at planning
 * time), so what the planner makes and what an owner accepts cannot
 * drift apart. What is pushed: scans, filters, projections, complete
 * aggregations, inner and left equi-joins, sorts, limits, DISTINCT and
 * UNION ALL. What is not: joins without equal keys (their output can be
 * the product of their inputs: cheaper to ship the inputs), steps that
 * read now() (the asker's clock decides), anything with parameters.
 *
 * The decoder's rules, beyond those of each expression and scan fragment
 * (frag.h): at most WQ_SUBPLAN_STEPS_MAX steps in post-order, each step
 * read exactly once by a later one, the last the root; every kind's
 * inputs, counts, column references and types as the binder makes them
 * (equal key types on both sides of a join, boolean filters and join
 * conditions, sort keys in range, UNION ALL of equal shapes), and no
 * step wider than WQ_COLS_MAX columns. Joins without keys are refused:
 * a hostile asker cannot make the owner compute a cartesian product.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/fragpb.h"
#include "query/qint.h"

/* Step kinds on the wire (proto/weft.proto, PlanStep.kind). */
enum {
	SP_SCAN = 1,
	SP_FILTER = 2,
	SP_PROJECT = 3,
	SP_AGG = 4,
	SP_JOIN = 5,
	SP_SORT = 6,
	SP_LIMIT = 7,
	SP_DISTINCT = 8,
	SP_APPEND = 9,
};

static const struct {
	wq_kind_t kind;
	uint32_t wire, inputs;
} sp_kinds[] = {
    {WQ_SCAN, SP_SCAN, 0},	 {WQ_FILTER, SP_FILTER, 1},
    {WQ_PROJECT, SP_PROJECT, 1}, {WQ_AGG, SP_AGG, 1},
    {WQ_JOIN, SP_JOIN, 2},	 {WQ_SORT, SP_SORT, 1},
    {WQ_LIMIT, SP_LIMIT, 1},	 {WQ_DISTINCT, SP_DISTINCT, 1},
    {WQ_APPEND, SP_APPEND, 2},
};
#define SP_NKINDS (sizeof(sp_kinds) / sizeof(sp_kinds[0]))

/* ---- the planner's side: which subtrees ---- */

static bool
sp_has_now(const weft_expr_t *e)
{
	uint32_t i;

	if (e == NULL)
		return false;
	if (e->kind == WEFT_E_FUNC && e->op == WEFT_F_NOW)
		return true;
	for (i = 0; i < e->nargs; i++)
		if (sp_has_now(e->args[i]))
			return true;
	return false;
}

static bool
sp_any_now(weft_expr_t *const *v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (sp_has_now(v[i]))
			return true;
	return false;
}

/* Could the owner run p itself, given its inputs? */
static bool
sp_step_ok(const wq_plan_t *p)
{
	uint32_t i, k;

	switch (p->kind) {
	case WQ_SCAN:
		return p->remote != NULL && p->frag != NULL && !p->frag->agg &&
		       p->frag->nproj == 0 && p->frag->norder == 0 &&
		       p->frag->limit < 0 && !sp_has_now(p->frag->filter);
	case WQ_FILTER: return !sp_has_now(p->pred);
	case WQ_PROJECT: return !sp_any_now(p->exprs, p->nexprs);
	case WQ_AGG:
		if (p->aggmode != WQ_AGG_COMPLETE ||
		    sp_any_now(p->keys, p->nkeys))
			return false;
		for (i = 0; i < p->naggs; i++)
			for (k = 0; k < wq_agg_nargs(&p->aggs[i]); k++)
				if (sp_has_now(wq_agg_arg(&p->aggs[i], k)))
					return false;
		return true;
	case WQ_JOIN:
		return (p->jtype == WQ_JOIN_INNER ||
			p->jtype == WQ_JOIN_LEFT) &&
		       p->njkeys > 0 && !sp_any_now(p->lkeys, p->njkeys) &&
		       !sp_any_now(p->rkeys, p->njkeys) &&
		       !sp_has_now(p->resid);
	case WQ_SORT:
	case WQ_LIMIT:
	case WQ_DISTINCT:
	case WQ_APPEND: return true;
	default: return false;
	}
}

/* What a subtree can be pushed as: ok, the node (pk), scans under it. */
typedef struct sp_site {
	bool ok;
	const uint8_t *pk;
	uint32_t nscans, nsteps;
} sp_site_t;

static int sp_cut(wq_plan_t **pp, uint32_t nsteps);

/* ---- encode ---- */

typedef struct sp_enc {
	Weft__PlanStep *steps, **stepp;
	uint32_t n, max;
	const char *first; /* the first scan's product */
} sp_enc_t;

static void
sp_steps_free(Weft__PlanStep *s, uint32_t n)
{
	uint32_t i, j;

	for (i = 0; s && i < n; i++) {
		free(s[i].inputs);
		free(s[i].scan.data);
		wq_pb_expr_free(s[i].pred);
		wq_pb_expr_free(s[i].resid);
		for (j = 0; j < s[i].n_exprs; j++)
			wq_pb_expr_free(s[i].exprs[j]);
		for (j = 0; j < s[i].n_keys; j++)
			wq_pb_expr_free(s[i].keys[j]);
		for (j = 0; j < s[i].n_lkeys; j++)
			wq_pb_expr_free(s[i].lkeys[j]);
		for (j = 0; j < s[i].n_rkeys; j++)
			wq_pb_expr_free(s[i].rkeys[j]);
		for (j = 0; j < s[i].n_aggs; j++) {
			wq_pb_agg_free(s[i].aggs[j]);
			free(s[i].aggs[j]);
		}
		for (j = 0; j < s[i].n_sort; j++)
			free(s[i].sort[j]);
		free(s[i].exprs);
		free(s[i].keys);
		free(s[i].lkeys);
		free(s[i].rkeys);
		free(s[i].aggs);
		free(s[i].sort);
	}
	free(s);
}

/* v[0..n) into a new array *out (counted in *cnt as built). */
static int
sp_enc_exprs(weft_expr_t *const *v, uint32_t n, Weft__Expr ***out, size_t *cnt)
{
	uint32_t i;

	*out = calloc(n + 1, sizeof(**out));
	if (*out == NULL)
		return WEFT_ENOMEM;
	for (i = 0; i < n; i++) {
		if (((*out)[i] = wq_pb_expr(v[i])) == NULL)
			return WEFT_ENOMEM;
		(*cnt)++;
	}
	return 0;
}

/* The fields of p's kind into st. */
static int
sp_enc_fields(sp_enc_t *e, const wq_plan_t *p, Weft__PlanStep *st)
{
	uint32_t i;
	int rc = 0;

	switch (p->kind) {
	case WQ_SCAN:
		rc = wq_frag_encode(p->frag, &st->scan.data, &st->scan.len,
				    &(weft_err_t){0});
		st->version = p->remote->version;
		if (e->first == NULL)
			e->first = p->frag->product;
		return rc;
	case WQ_FILTER:
		return (st->pred = wq_pb_expr(p->pred)) ? 0 : WEFT_ENOMEM;
	case WQ_PROJECT:
		return sp_enc_exprs(p->exprs, p->nexprs, &st->exprs,
				    &st->n_exprs);
	case WQ_AGG:
		rc = sp_enc_exprs(p->keys, p->nkeys, &st->keys, &st->n_keys);
		st->aggs = calloc(p->naggs + 1, sizeof(*st->aggs));
		if (rc != 0 || st->aggs == NULL)
			return WEFT_ENOMEM;
		for (i = 0; i < p->naggs; i++) {
			st->aggs[i] = malloc(sizeof(*st->aggs[i]));
			if (st->aggs[i] == NULL)
				return WEFT_ENOMEM;
			st->n_aggs++;
			if (wq_pb_agg(&p->aggs[i], st->aggs[i]) != 0)
				return WEFT_ENOMEM;
		}
		return 0;
	case WQ_JOIN:
		st->join_type = (uint32_t)p->jtype;
		rc =
		    sp_enc_exprs(p->lkeys, p->njkeys, &st->lkeys, &st->n_lkeys);
		if (rc == 0)
			rc = sp_enc_exprs(p->rkeys, p->njkeys, &st->rkeys,
					  &st->n_rkeys);
		if (rc == 0 && p->resid != NULL &&
		    (st->resid = wq_pb_expr(p->resid)) == NULL)
			rc = WEFT_ENOMEM;
		return rc;
	case WQ_SORT:
		st->sort = calloc(p->nsort + 1, sizeof(*st->sort));
		if (st->sort == NULL)
			return WEFT_ENOMEM;
		for (i = 0; i < p->nsort; i++) {
			st->sort[i] = malloc(sizeof(*st->sort[i]));
			if (st->sort[i] == NULL)
				return WEFT_ENOMEM;
			st->n_sort++;
			weft__sort_key__init(st->sort[i]);
			st->sort[i]->col = p->sort[i].col;
			st->sort[i]->desc = p->sort[i].desc;
			st->sort[i]->nulls_first = p->sort[i].nulls_first;
		}
		return 0;
	case WQ_LIMIT:
		st->limit = p->limit;
		st->offset = p->offset;
		return 0;
	default: return 0;
	}
}

/* p and its inputs, post-order, into e; *at gets p's step number. */
static int
sp_enc(sp_enc_t *e, const wq_plan_t *p, uint32_t *at)
{
	uint32_t in[2], nin = 0, i, k;
	Weft__PlanStep *st;
	int rc;

	if (p->l && (rc = sp_enc(e, p->l, &in[nin++])) != 0)
		return rc;
	if (p->r && (rc = sp_enc(e, p->r, &in[nin++])) != 0)
		return rc;
	for (k = 0; k < SP_NKINDS && sp_kinds[k].kind != p->kind; k++)
		;
	if (k == SP_NKINDS || e->n >= e->max)
		return WEFT_EINVAL;
	st = &e->steps[e->n];
	weft__plan_step__init(st);
	e->stepp[e->n] = st;
	*at = e->n++;
	st->kind = sp_kinds[k].wire;
	st->inputs = calloc(nin + 1, sizeof(*st->inputs));
	if (st->inputs == NULL)
		return WEFT_ENOMEM;
	for (i = 0; i < nin; i++)
		st->inputs[i] = in[i];
	st->n_inputs = nin;
	st->rows = p->rows;
	st->limit = -1;
	return sp_enc_fields(e, p, st);
}

/* The subtree p as a weft.Fragment with plan steps: *buf (malloc'd). */
static int
sp_encode(const wq_plan_t *p, uint32_t nsteps, uint8_t **buf, size_t *len)
{
	Weft__Fragment m = WEFT__FRAGMENT__INIT;
	sp_enc_t e = {0};
	uint32_t root;
	int rc = WEFT_ENOMEM;

	*buf = NULL;
	e.max = nsteps;
	e.steps = calloc(nsteps + 1, sizeof(*e.steps));
	e.stepp = calloc(nsteps + 1, sizeof(*e.stepp));
	if (e.steps != NULL && e.stepp != NULL)
		rc = sp_enc(&e, p, &root);
	if (rc == 0 && e.first == NULL)
		rc = WEFT_EINVAL;
	if (rc == 0) {
		m.product = (char *)e.first;
		m.limit = -1;
		m.n_plan = e.n;
		m.plan = e.stepp;
		*len = weft__fragment__get_packed_size(&m);
		*buf = malloc(*len ? *len : 1);
		if (*buf == NULL)
			rc = WEFT_ENOMEM;
		else
			weft__fragment__pack(&m, *buf);
	}
	sp_steps_free(e.steps, e.n);
	free(e.stepp);
	return rc;
}

/* ---- the cut ---- */

static void
sp_unskip(wq_plan_t *p)
{
	if (p == NULL)
		return;
	free(p->jskip);
	p->jskip = NULL;
	sp_unskip(p->l);
	sp_unskip(p->r);
}

/* Columns of p's output that hold values (a join fills no column that
 * only its keys read, wq_prune_join): 1 in ok[i]; false if all do. */
static bool
sp_skipped(const wq_plan_t *p, uint8_t *ok)
{
	bool any;
	uint32_t i;

	switch (p->kind) {
	case WQ_FILTER:
	case WQ_SORT:
	case WQ_LIMIT: return sp_skipped(p->l, ok);
	case WQ_JOIN:
		any = false;
		for (i = 0; i < p->ncols; i++) {
			ok[i] = !(p->jskip && p->jskip[i]);
			any |= !ok[i];
		}
		if (!any)
			return false;
		/* a skipped column the join's own inputs fill anyway is
		 * still unread above: leave it out too */
		return true;
	default: memset(ok, 1, p->ncols); return false;
	}
}

/* A projection over sub passing the columns marked in ok and NULL (of
 * the column's type) for the rest: the shape stays, no value of a column
 * nobody reads travels. */
static wq_plan_t *
sp_blank(wq_plan_t *sub, const uint8_t *ok)
{
	weft_expr_t **ex = calloc(sub->ncols + 1, sizeof(*ex));
	wq_plan_t *p;
	uint32_t i;

	if (ex == NULL)
		return NULL;
	for (i = 0; i < sub->ncols; i++) {
		weft_value_t v = {.type = sub->types[i], .null = true};

		ex[i] = ok[i] ? weft_expr_col(i, sub->types[i], -1)
			      : weft_expr_const(&v, -1);
		if (ex[i] == NULL) {
			weft_expr_free_array(ex, i);
			return NULL;
		}
	}
	p = wq_plan_project(sub, sub->ncols, ex, sub->names);
	if (p == NULL)
		weft_expr_free_array(ex, sub->ncols);
	return p;
}

/* Bring every expression of the subtree into resolved form (as
 * wq_frag_settle does for fragments): nonzero if one would not. */
static int
sp_settle_v(weft_expr_t **v, uint32_t n)
{
	weft_err_t err = {0};
	uint32_t i;

	for (i = 0; i < n; i++) {
		weft_sqltype_t t = v[i]->type;

		if (weft_expr_resolve(&v[i], &err) != 0 || v[i]->type != t)
			return WEFT_EINVAL;
	}
	return 0;
}

static int
sp_settle(wq_plan_t *p)
{
	weft_err_t err = {0};
	uint32_t i, k;
	int rc = 0;

	if (p == NULL)
		return 0;
	if (p->kind == WQ_SCAN)
		return wq_frag_settle(p->frag, &err);
	if (p->pred)
		rc = sp_settle_v(&p->pred, 1);
	if (rc == 0 && p->resid)
		rc = sp_settle_v(&p->resid, 1);
	if (rc == 0)
		rc = sp_settle_v(p->exprs, p->nexprs);
	if (rc == 0)
		rc = sp_settle_v(p->keys, p->nkeys);
	if (rc == 0)
		rc = sp_settle_v(p->lkeys, p->njkeys);
	if (rc == 0)
		rc = sp_settle_v(p->rkeys, p->njkeys);
	for (i = 0; rc == 0 && i < p->naggs; i++)
		for (k = 0; rc == 0 && k < wq_agg_nargs(&p->aggs[i]); k++)
			rc = sp_settle_v(wq_agg_argp(&p->aggs[i], k), 1);
	if (rc == 0)
		rc = sp_settle(p->l);
	if (rc == 0)
		rc = sp_settle(p->r);
	return rc;
}

/* Does the owner's decoder take buf and give back sub's shape? */
static bool
sp_round_trip(const wq_plan_t *sub, const uint8_t *buf, size_t len)
{
	weft_err_t err = {0};
	wq_plan_t *d = NULL;
	bool ok;

	if (wq_subplan_decode(buf, len, &d, &err) != 0)
		return false;
	ok = d->ncols == sub->ncols &&
	     (sub->ncols == 0 || memcmp(d->types, sub->types,
					sub->ncols * sizeof(*d->types)) == 0);
	wq_plan_free(d);
	return ok;
}

/* Replace *pp, a subtree the site walk found pushable, by a REMOTE node
 * (or leave it, if it cannot travel). 0 or WEFT_ENOMEM. */
static int
sp_cut(wq_plan_t **pp, uint32_t nsteps)
{
	wq_plan_t *sub = *pp, *np;
	uint8_t *ok, *buf = NULL;
	size_t len = 0;
	int rc;

	if (nsteps + 1 > WQ_SUBPLAN_STEPS_MAX || sp_settle(sub) != 0)
		return 0;
	ok = malloc(sub->ncols + 1);
	if (ok == NULL)
		return WEFT_ENOMEM;
	if (sp_skipped(sub, ok)) {
		np = sp_blank(sub, ok);
		if (np == NULL) {
			free(ok);
			return WEFT_ENOMEM;
		}
		sub = np;
		nsteps++;
	}
	free(ok);
	sp_unskip(sub);
	*pp = sub;
	rc = sp_encode(sub, nsteps, &buf, &len);
	if (rc == WEFT_EINVAL || (rc == 0 && !sp_round_trip(sub, buf, len))) {
		free(buf);
		return 0; /* runs here, as planned */
	}
	np = rc == 0 ? wq_plan_new(WQ_REMOTE) : NULL;
	if (np == NULL || wq_plan_shape_of(np, sub) != 0 ||
	    (np->remote = wq_remote_copy(wq_plan_first_scan(sub)->remote)) ==
		NULL) {
		wq_plan_free(np);
		free(buf);
		return WEFT_ENOMEM;
	}
	np->remote->scans = wq_plan_nscans(sub);
	np->rows = sub->rows;
	np->sub = sub;
	np->subbuf = buf;
	np->sublen = len;
	*pp = np;
	return 0;
}

/* The site of *pp; pushes the largest pushable subtrees below it. */
static int
sp_walk(wq_plan_t **pp, sp_site_t *s)
{
	wq_plan_t *p = *pp;
	sp_site_t a = {0}, b = {0};
	int rc;

	memset(s, 0, sizeof(*s));
	if (p->kind == WQ_SCAN) {
		if (sp_step_ok(p)) {
			s->ok = true;
			s->pk = p->remote->node_pk;
			s->nscans = s->nsteps = 1;
		}
		return 0;
	}
	if (p->l && (rc = sp_walk(&p->l, &a)) != 0)
		return rc;
	if (p->r && (rc = sp_walk(&p->r, &b)) != 0)
		return rc;
	if (p->l && a.ok && sp_step_ok(p) &&
	    (p->r == NULL ||
	     (b.ok && memcmp(a.pk, b.pk, WEFT_PK_BYTES) == 0))) {
		s->ok = true;
		s->pk = a.pk;
		s->nscans = a.nscans + b.nscans;
		s->nsteps = a.nsteps + b.nsteps + 1;
		return 0;
	}
	/* p runs here: push what is worth it below it */
	if (a.ok && a.nscans >= 2 && (rc = sp_cut(&p->l, a.nsteps)) != 0)
		return rc;
	if (b.ok && b.nscans >= 2 && (rc = sp_cut(&p->r, b.nsteps)) != 0)
		return rc;
	return 0;
}

int
wq_subplan_cut(wq_plan_t **pp)
{
	sp_site_t s;
	int rc = sp_walk(pp, &s);

	if (rc == 0 && s.ok && s.nscans >= 2)
		rc = sp_cut(pp, s.nsteps);
	return rc;
}

/* ---- decode ---- */

bool
wq_frag_is_plan(const uint8_t *buf, size_t len)
{
	const uint8_t *p = buf, *end = buf + len;
	uint64_t key, v;

	/* the top-level fields only: is field 11 (plan) there? */
	while (p < end) {
		if (!wq_pb_varint(&p, end, &key))
			return false;
		if (key >> 3 == 11)
			return true;
		switch (key & 7) {
		case 0:
			if (!wq_pb_varint(&p, end, &v))
				return false;
			break;
		case 1:
		case 5:
			v = (key & 7) == 1 ? 8 : 4;
			if ((uint64_t)(end - p) < v)
				return false;
			p += v;
			break;
		case 2:
			if (!wq_pb_varint(&p, end, &v) ||
			    (uint64_t)(end - p) < v)
				return false;
			p += v;
			break;
		default: return false;
		}
	}
	return false;
}

/* A decoding: the steps built so far, which of them a later step read. */
typedef struct sp_dec {
	wq_rules_t r;
	wq_plan_t **nodes;
	uint8_t *used;
	uint32_t n;
} sp_dec_t;

static int
sp_bad(sp_dec_t *d, uint32_t i, const char *what)
{
	return weft_err_set(d->r.err, WEFT_EINVAL, "fragment: plan step %u: %s",
			    i + 1, what);
}

/* Names c1, c2, ... for a decoded node of n columns. */
static int
sp_shape(wq_plan_t *p, uint32_t n)
{
	uint32_t i;

	if (wq_plan_shape(p, n) != 0)
		return WEFT_ENOMEM;
	for (i = 0; i < n; i++) {
		char nm[16];

		snprintf(nm, sizeof(nm), "c%u", i + 1);
		if ((p->names[i] = strdup(nm)) == NULL)
			return WEFT_ENOMEM;
	}
	return 0;
}

/* Expressions xs[0..n) into *out over p->l's columns (or the join's). */
static int
sp_dec_exprs(sp_dec_t *d, Weft__Expr *const *xs, size_t n, weft_expr_t ***out,
	     uint32_t *cnt, const wq_plan_t *in)
{
	uint32_t i;

	*out = calloc(n + 1, sizeof(**out));
	if (*out == NULL)
		return weft_err_set(d->r.err, WEFT_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (((*out)[i] = wq_expr_from_pb(xs[i], d->r.err)) == NULL)
			return d->r.err->code;
		(*cnt)++;
		if (wq_rules_expr(&d->r, (*out)[i], in->ncols, in->types) != 0)
			return d->r.err->code;
	}
	return 0;
}

/* One expression over in's columns; boolean if `pred`. */
static int
sp_dec_expr(sp_dec_t *d, const Weft__Expr *x, weft_expr_t **out,
	    const wq_plan_t *in, bool pred)
{
	*out = wq_expr_from_pb(x, d->r.err);
	if (*out == NULL)
		return d->r.err->code;
	if (wq_rules_expr(&d->r, *out, in->ncols, in->types) != 0)
		return d->r.err->code;
	if (pred && (*out)->type != WEFT_S_BOOL)
		return wq_rules_fail(&d->r, "condition is not boolean");
	return 0;
}

static int
sp_dec_scan(sp_dec_t *d, const Weft__PlanStep *st, wq_plan_t *p)
{
	weft_sqltype_t *t = NULL;
	uint32_t n = 0;
	int rc;

	rc = wq_frag_decode(st->scan.data, st->scan.len, &p->frag, d->r.err);
	if (rc != 0)
		return rc;
	p->version = st->version;
	p->decoded = true;
	if (wq_frag_types(p->frag, &n, &t) != 0 || sp_shape(p, n) != 0) {
		free(t);
		return weft_err_set(d->r.err, WEFT_ENOMEM, "out of memory");
	}
	memcpy(p->types, t, n * sizeof(*t));
	free(t);
	return 0;
}

static int
sp_dec_agg(sp_dec_t *d, uint32_t i, const Weft__PlanStep *st, wq_plan_t *p)
{
	uint32_t k;
	int rc;

	if (st->n_keys > WQ_COLS_MAX || st->n_aggs > WQ_COLS_MAX / 2 ||
	    st->n_keys + st->n_aggs > WQ_COLS_MAX)
		return sp_bad(d, i, "too many keys or aggregates");
	p->aggmode = WQ_AGG_COMPLETE;
	rc = sp_dec_exprs(d, st->keys, st->n_keys, &p->keys, &p->nkeys, p->l);
	if (rc == 0)
		rc = wq_aggs_from_pb(st->aggs, st->n_aggs, &p->aggs, &p->naggs,
				     d->r.err);
	for (k = 0; rc == 0 && k < p->naggs; k++)
		rc = wq_rules_agg(&d->r, &p->aggs[k], p->l->ncols, p->l->types,
				  true);
	if (rc == 0 && sp_shape(p, p->nkeys + p->naggs) != 0)
		rc = weft_err_set(d->r.err, WEFT_ENOMEM, "out of memory");
	for (k = 0; rc == 0 && k < p->nkeys; k++)
		p->types[k] = p->keys[k]->type;
	for (k = 0; rc == 0 && k < p->naggs; k++)
		p->types[p->nkeys + k] = p->aggs[k].type;
	return rc;
}

static int
sp_dec_join(sp_dec_t *d, uint32_t i, const Weft__PlanStep *st, wq_plan_t *p)
{
	uint32_t nl = p->l->ncols, nr = p->r->ncols, k, nb = 0;
	int rc;

	if (st->join_type != WQ_JOIN_INNER && st->join_type != WQ_JOIN_LEFT)
		return sp_bad(d, i, "bad join type");
	if (st->n_lkeys == 0 || st->n_lkeys != st->n_rkeys ||
	    st->n_lkeys > WQ_COLS_MAX)
		return sp_bad(d, i, "a join needs equal keys on both sides");
	if (nl + nr > WQ_COLS_MAX)
		return sp_bad(d, i, "too many columns");
	p->jtype = (int)st->join_type;
	if (sp_shape(p, nl + nr) != 0)
		return weft_err_set(d->r.err, WEFT_ENOMEM, "out of memory");
	memcpy(p->types, p->l->types, nl * sizeof(*p->types));
	memcpy(p->types + nl, p->r->types, nr * sizeof(*p->types));
	/* both arrays have njkeys slots, NULL where nothing was built */
	p->njkeys = (uint32_t)st->n_lkeys;
	rc = sp_dec_exprs(d, st->lkeys, st->n_lkeys, &p->lkeys, &nb, p->l);
	if (rc == 0)
		rc = sp_dec_exprs(d, st->rkeys, st->n_rkeys, &p->rkeys, &nb,
				  p->r);
	for (k = 0; rc == 0 && k < p->njkeys; k++)
		if (p->lkeys[k]->type != p->rkeys[k]->type)
			rc = sp_bad(d, i, "join keys of different types");
	if (rc == 0 && st->resid != NULL)
		rc = sp_dec_expr(d, st->resid, &p->resid, p, true);
	return rc;
}

/* The fields of step i (kind k, inputs attached) into p. */
static int
sp_dec_fields(sp_dec_t *d, uint32_t i, const Weft__PlanStep *st, wq_plan_t *p)
{
	uint32_t k;

	switch (p->kind) {
	case WQ_SCAN: return sp_dec_scan(d, st, p);
	case WQ_FILTER:
		if (st->pred == NULL)
			return sp_bad(d, i, "a filter without a condition");
		if (sp_shape(p, p->l->ncols) != 0)
			return weft_err_set(d->r.err, WEFT_ENOMEM,
					    "out of memory");
		memcpy(p->types, p->l->types, p->ncols * sizeof(*p->types));
		return sp_dec_expr(d, st->pred, &p->pred, p->l, true);
	case WQ_PROJECT:
		if (st->n_exprs > WQ_COLS_MAX)
			return sp_bad(d, i, "too many columns");
		if (sp_dec_exprs(d, st->exprs, st->n_exprs, &p->exprs,
				 &p->nexprs, p->l) != 0)
			return d->r.err->code;
		if (sp_shape(p, p->nexprs) != 0)
			return weft_err_set(d->r.err, WEFT_ENOMEM,
					    "out of memory");
		for (k = 0; k < p->nexprs; k++)
			p->types[k] = p->exprs[k]->type;
		return 0;
	case WQ_AGG: return sp_dec_agg(d, i, st, p);
	case WQ_JOIN: return sp_dec_join(d, i, st, p);
	case WQ_APPEND:
		if (p->l->ncols != p->r->ncols ||
		    memcmp(p->l->types, p->r->types,
			   p->l->ncols * sizeof(*p->l->types)) != 0)
			return sp_bad(d, i, "UNION ALL of different shapes");
		break;
	case WQ_SORT:
		if (st->n_sort == 0 || st->n_sort > WQ_COLS_MAX)
			return sp_bad(d, i, "bad sort keys");
		p->sort = calloc(st->n_sort, sizeof(*p->sort));
		if (p->sort == NULL)
			return weft_err_set(d->r.err, WEFT_ENOMEM,
					    "out of memory");
		for (k = 0; k < st->n_sort; k++) {
			if (st->sort[k]->col >= p->l->ncols)
				return sp_bad(d, i, "bad sort key");
			p->sort[k].col = st->sort[k]->col;
			p->sort[k].desc = st->sort[k]->desc;
			p->sort[k].nulls_first = st->sort[k]->nulls_first;
			p->nsort++;
		}
		break;
	case WQ_LIMIT:
		if (st->limit < -1 || st->offset < 0)
			return sp_bad(d, i, "bad limit");
		p->limit = st->limit;
		p->offset = st->offset;
		break;
	default: break;
	}
	/* the kinds that keep their input's shape */
	if (sp_shape(p, p->l->ncols) != 0)
		return weft_err_set(d->r.err, WEFT_ENOMEM, "out of memory");
	memcpy(p->types, p->l->types, p->ncols * sizeof(*p->types));
	return 0;
}

/* Step i into d->nodes[i]. */
static int
sp_dec_step(sp_dec_t *d, uint32_t i, const Weft__PlanStep *st)
{
	wq_plan_t *p;
	uint32_t k, j;

	for (k = 0; k < SP_NKINDS && sp_kinds[k].wire != st->kind; k++)
		;
	if (k == SP_NKINDS)
		return sp_bad(d, i, "unknown kind");
	if (st->n_inputs != sp_kinds[k].inputs)
		return sp_bad(d, i, "wrong number of inputs");
	for (j = 0; j < st->n_inputs; j++)
		if (st->inputs[j] >= i || d->used[st->inputs[j]] ||
		    (j == 1 && st->inputs[1] == st->inputs[0]))
			return sp_bad(d, i, "bad input");
	p = d->nodes[i] = wq_plan_new(sp_kinds[k].kind);
	if (p == NULL)
		return weft_err_set(d->r.err, WEFT_ENOMEM, "out of memory");
	for (j = 0; j < st->n_inputs; j++) {
		d->used[st->inputs[j]] = 1;
		if (j == 0)
			p->l = d->nodes[st->inputs[0]];
		else
			p->r = d->nodes[st->inputs[1]];
	}
	p->rows = isfinite(st->rows) && st->rows > 0
		      ? (st->rows < 1e18 ? st->rows : 1e18)
		      : 0;
	return sp_dec_fields(d, i, st, p);
}

int
wq_subplan_decode(const uint8_t *buf, size_t len, wq_plan_t **out,
		  weft_err_t *err)
{
	sp_dec_t d = {{0, "fragment: ", err}, NULL, NULL, 0};
	Weft__Fragment *m = NULL;
	uint32_t i;
	int rc;

	*out = NULL;
	if (buf == NULL || len == 0) /* protobuf-c's empty bytes: NULL */
		return weft_err_set(err, WEFT_EINVAL, "fragment: empty");
	rc = wq_pb_scan(&d.r, buf, buf + len, WQ_PB_FRAGMENT, 0);
	if (rc != 0)
		return rc;
	m = weft__fragment__unpack(NULL, len, buf);
	if (m == NULL)
		return weft_err_set(err, WEFT_EINVAL, "fragment: bad message");
	if (m->n_plan == 0 || m->n_plan > WQ_SUBPLAN_STEPS_MAX ||
	    m->n_columns || m->n_column_types || m->filter || m->n_project ||
	    m->n_group_keys || m->n_aggs || m->n_order || m->partial_agg) {
		rc = weft_err_set(err, WEFT_EINVAL,
				  "fragment: bad plan (at most %d steps)",
				  WQ_SUBPLAN_STEPS_MAX);
		goto out;
	}
	d.n = (uint32_t)m->n_plan;
	d.nodes = calloc(d.n, sizeof(*d.nodes));
	d.used = calloc(d.n, 1);
	if (d.nodes == NULL || d.used == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; rc == 0 && i < d.n; i++)
		rc = sp_dec_step(&d, i, m->plan[i]);
	for (i = 0; rc == 0 && i + 1 < d.n; i++)
		if (!d.used[i])
			rc = sp_bad(&d, i, "not read by any later step");
	if (rc == 0 && d.nodes[d.n - 1]->ncols > WQ_COLS_MAX)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "fragment: plan: too many columns");
	if (rc == 0) {
		const wq_plan_t *f = wq_plan_first_scan(d.nodes[d.n - 1]);

		if (strcmp(f->frag->product, m->product) != 0)
			rc = weft_err_set(err, WEFT_EINVAL,
					  "fragment: plan: its first scan "
					  "reads %s, not %s",
					  f->frag->product, m->product);
	}
	if (rc == 0) {
		*out = d.nodes[d.n - 1];
		d.nodes[d.n - 1] = NULL;
	}
out:
	/* nodes another step read belong to it */
	for (i = 0; d.nodes && i < d.n; i++)
		if (!d.used[i])
			wq_plan_free(d.nodes[i]);
	free(d.nodes);
	free(d.used);
	weft__fragment__free_unpacked(m, NULL);
	return rc;
}
