/*
 * frag.c: scan fragments <-> weft.Fragment (proto/weft.proto), the one
 * place that converts them, and the rules every fragment obeys (frag.h):
 * wq_frag_settle applies them to what the planner made, wq_frag_decode
 * to bytes from anywhere.
 *
 * Decoding treats the bytes as hostile. A first pass over the raw
 * protobuf encoding bounds the nesting and the number of expressions
 * before protobuf-c, whose unpacking recurses once per nesting level,
 * sees them. Then the fragment is built as the bytes say and checked as
 * a planned one is: every enum, count, column reference and limit, and
 * every expression must come out of weft_expr_resolve unchanged, so its
 * types are the ones the evaluator will trust.
 */
#include <stdlib.h>
#include <string.h>

#include "query/fragpb.h"
#include "query/qint.h"

static bool
wq_type_ok(uint32_t t)
{
	return t <= WEFT_S_UNKNOWN;
}

/* ---- encode ---- */

void
wq_pb_expr_free(Weft__Expr *x)
{
	size_t i;

	if (x == NULL)
		return;
	for (i = 0; i < x->n_args; i++)
		wq_pb_expr_free(x->args[i]);
	free(x->args);
	free(x->value);
	free(x);
}

Weft__Expr *
wq_pb_expr(const weft_expr_t *e)
{
	Weft__Expr *x = malloc(sizeof(*x));
	uint32_t i;

	if (x == NULL)
		return NULL;
	weft__expr__init(x);
	x->kind = e->kind;
	x->type = e->type;
	x->op = e->op;
	x->flags = e->flags;
	x->col = e->col;
	x->location = e->location;
	x->scale = e->scale;
	if (e->kind == WEFT_E_CONST) {
		x->value = malloc(sizeof(*x->value));
		if (x->value == NULL)
			goto fail;
		weft__value__init(x->value);
		x->value->type = e->cval.type;
		x->value->null = e->cval.null;
		if (!e->cval.null) {
			switch (e->cval.type) {
			case WEFT_S_BOOL: x->value->i = e->cval.u.b; break;
			case WEFT_S_FLOAT64:
			case WEFT_S_NUMERIC: x->value->f = e->cval.u.f; break;
			case WEFT_S_TEXT:
			case WEFT_S_UNKNOWN:
				x->value->s.data = (uint8_t *)e->cval.u.s.p;
				x->value->s.len = e->cval.u.s.len;
				break;
			default: x->value->i = e->cval.u.i;
			}
		}
	}
	if (e->nargs > 0) {
		x->args = calloc(e->nargs, sizeof(*x->args));
		if (x->args == NULL)
			goto fail;
		for (i = 0; i < e->nargs; i++) {
			x->args[i] = wq_pb_expr(e->args[i]);
			if (x->args[i] == NULL)
				goto fail;
			x->n_args++;
		}
	}
	return x;
fail:
	wq_pb_expr_free(x);
	return NULL;
}

int
wq_pb_agg(const wq_agg_t *g, Weft__AggSpec *a)
{
	uint32_t i;

	weft__agg_spec__init(a);
	a->fn = (uint32_t)g->fn;
	a->distinct = g->distinct;
	a->arg_type = g->argtype;
	a->type = g->type;
	a->scale = g->scale;
	if (g->arg && (a->arg = wq_pb_expr(g->arg)) == NULL)
		return WEFT_ENOMEM;
	if (g->arg == NULL || g->nmore == 0)
		return 0;
	if ((a->more = calloc(g->nmore, sizeof(*a->more))) == NULL)
		return WEFT_ENOMEM;
	for (i = 0; i < g->nmore; i++) {
		if ((a->more[i] = wq_pb_expr(g->more[i])) == NULL)
			return WEFT_ENOMEM;
		a->n_more++;
	}
	return 0;
}

void
wq_pb_agg_free(Weft__AggSpec *a)
{
	size_t i;

	wq_pb_expr_free(a->arg);
	for (i = 0; i < a->n_more; i++)
		wq_pb_expr_free(a->more[i]);
	free(a->more);
	a->arg = NULL;
	a->more = NULL;
	a->n_more = 0;
}

int
wq_frag_encode(const wq_frag_t *f, uint8_t **buf, size_t *len, weft_err_t *err)
{
	Weft__Fragment m = WEFT__FRAGMENT__INIT;
	Weft__AggSpec *aggs = NULL, **aggp = NULL;
	Weft__SortKey *keys = NULL, **keyp = NULL;
	uint32_t *types = NULL, i;
	int rc = WEFT_ENOMEM;

	*buf = NULL;
	m.product = f->product;
	m.n_columns = f->ncols;
	m.columns = f->cols;
	types = calloc(f->ncols + 1, sizeof(*types));
	m.project = calloc(f->nproj + 1, sizeof(*m.project));
	m.group_keys = calloc(f->nkeys + 1, sizeof(*m.group_keys));
	aggs = calloc(f->naggs + 1, sizeof(*aggs));
	aggp = calloc(f->naggs + 1, sizeof(*aggp));
	keys = calloc(f->norder + 1, sizeof(*keys));
	keyp = calloc(f->norder + 1, sizeof(*keyp));
	if (!types || !m.project || !m.group_keys || !aggs || !aggp || !keys ||
	    !keyp)
		goto out;
	for (i = 0; i < f->ncols; i++)
		types[i] = f->ctypes[i];
	m.n_column_types = f->ncols;
	m.column_types = types;
	if (f->filter && (m.filter = wq_pb_expr(f->filter)) == NULL)
		goto out;
	for (i = 0; i < f->nproj; i++) {
		if ((m.project[i] = wq_pb_expr(f->proj[i])) == NULL)
			goto out;
		m.n_project++;
	}
	m.partial_agg = f->agg;
	for (i = 0; i < f->nkeys; i++) {
		if ((m.group_keys[i] = wq_pb_expr(f->keys[i])) == NULL)
			goto out;
		m.n_group_keys++;
	}
	for (i = 0; i < f->naggs; i++) {
		if (wq_pb_agg(&f->aggs[i], &aggs[i]) != 0)
			goto out;
		aggp[i] = &aggs[i];
		m.n_aggs++;
	}
	m.aggs = aggp;
	for (i = 0; i < f->norder; i++) {
		weft__sort_key__init(&keys[i]);
		keys[i].col = f->order[i].col;
		keys[i].desc = f->order[i].desc;
		keys[i].nulls_first = f->order[i].nulls_first;
		keyp[i] = &keys[i];
	}
	m.n_order = f->norder;
	m.order = keyp;
	m.limit = f->limit;
	m.profile = f->profile;
	*len = weft__fragment__get_packed_size(&m);
	*buf = malloc(*len ? *len : 1);
	if (*buf == NULL)
		goto out;
	weft__fragment__pack(&m, *buf);
	rc = 0;
out:
	wq_pb_expr_free(m.filter);
	for (i = 0; i < m.n_project; i++)
		wq_pb_expr_free(m.project[i]);
	for (i = 0; i < m.n_group_keys; i++)
		wq_pb_expr_free(m.group_keys[i]);
	for (i = 0; aggs && i < f->naggs; i++)
		wq_pb_agg_free(&aggs[i]);
	free(m.project);
	free(m.group_keys);
	free(aggs);
	free(aggp);
	free(keys);
	free(keyp);
	free(types);
	if (rc != 0)
		return weft_err_set(err, rc, "out of memory");
	return 0;
}

/* ---- the rules (frag.h): one check for planned and decoded fragments ---- */

int
wq_rules_fail(wq_rules_t *r, const char *what)
{
	return weft_err_set(r->err, WEFT_EINVAL, "%s%s", r->who, what);
}

static int
wq_rules_deep(wq_rules_t *r)
{
	return weft_err_set(r->err, WEFT_EINVAL,
			    "%sexpression nested too "
			    "deeply (more than %d levels)",
			    r->who, WEFT_FRAG_DEPTH_MAX);
}

static int
wq_rules_large(wq_rules_t *r)
{
	return weft_err_set(r->err, WEFT_EINVAL,
			    "%sexpression too large "
			    "(more than %d nodes)",
			    r->who, WEFT_FRAG_NODES_MAX);
}

/* Limits, column references and constants of e (level `depth`) over
 * ncols input columns of types. */
static int
wq_rules_walk(wq_rules_t *r, const weft_expr_t *e, uint32_t ncols,
	      const weft_sqltype_t *types, int depth)
{
	uint32_t i;
	int rc;

	if (depth > WEFT_FRAG_DEPTH_MAX)
		return wq_rules_deep(r);
	if (++r->nodes > WEFT_FRAG_NODES_MAX)
		return wq_rules_large(r);
	if (e->nargs > WEFT_FRAG_ARGS_MAX || !wq_type_ok(e->type))
		return wq_rules_fail(r, "bad expression");
	if (e->kind == WEFT_E_COL &&
	    (e->col >= ncols || types[e->col] != e->type))
		return wq_rules_fail(r, "bad column reference");
	if (e->kind == WEFT_E_CONST &&
	    (e->cval.type != e->type ||
	     ((e->type == WEFT_S_TEXT || e->type == WEFT_S_UNKNOWN) &&
	      !e->cval.null && e->cval.u.s.len > WEFT_TEXT_MAX)))
		return wq_rules_fail(r, "bad constant");
	for (i = 0; i < e->nargs; i++) {
		rc = wq_rules_walk(r, e->args[i], ncols, types, depth + 1);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Are a and b the same tree, NUMERIC scales included? */
static bool
wq_same_scales(const weft_expr_t *a, const weft_expr_t *b)
{
	uint32_t i;

	if (a->scale != b->scale)
		return false;
	for (i = 0; i < a->nargs; i++)
		if (!wq_same_scales(a->args[i], b->args[i]))
			return false;
	return true;
}

/* One expression: within the limits, and exactly what resolving it
 * again gives. */
int
wq_rules_expr(wq_rules_t *r, const weft_expr_t *e, uint32_t ncols,
	      const weft_sqltype_t *types)
{
	weft_expr_t *c;
	weft_err_t e2 = {0};
	bool ok;
	int rc;

	rc = wq_rules_walk(r, e, ncols, types, 1);
	if (rc != 0)
		return rc;
	c = weft_expr_copy(e);
	if (c == NULL)
		return weft_err_set(r->err, WEFT_ENOMEM, "out of memory");
	ok = weft_expr_resolve(&c, &e2) == 0 && weft_expr_equal(c, e) &&
	     wq_same_scales(c, e);
	weft_expr_free(c);
	return ok ? 0 : wq_rules_fail(r, "expression is not well-typed");
}

/* Shape, columns, counts and sort keys. */
static int
wq_rules_shape(wq_rules_t *r, const wq_frag_t *f)
{
	uint32_t i, nout = 0;
	weft_sqltype_t *ot = NULL;

	if (f->ncols > WEFT_COLS_MAX || f->nproj > WQ_COLS_MAX ||
	    f->nkeys > WQ_COLS_MAX || f->naggs > WQ_COLS_MAX / 2 ||
	    wq_aggs_nstate(f->aggs, f->naggs) > WQ_COLS_MAX ||
	    f->norder > WQ_COLS_MAX ||
	    weft_product_name_check(f->product, NULL) != 0 ||
	    (!f->agg && (f->nkeys || f->naggs)) ||
	    (f->agg && (f->norder || f->limit >= 0)) || f->limit < -1 ||
	    (f->profile && (f->agg || f->nproj || f->norder || f->limit >= 0 ||
			    f->ncols == 0)))
		return wq_rules_fail(r, "bad shape");
	for (i = 0; i < f->ncols; i++)
		if (f->ctypes[i] != WEFT_S_BOOL &&
		    f->ctypes[i] != WEFT_S_INT64 &&
		    f->ctypes[i] != WEFT_S_FLOAT64 &&
		    f->ctypes[i] != WEFT_S_TEXT &&
		    f->ctypes[i] != WEFT_S_TIMESTAMP)
			return wq_rules_fail(r, "bad column type");
	if (wq_frag_types(f, &nout, &ot) != 0)
		return weft_err_set(r->err, WEFT_ENOMEM, "out of memory");
	free(ot);
	for (i = 0; i < f->norder; i++)
		if (f->order[i].col >= nout)
			return wq_rules_fail(r, "bad sort key");
	return 0;
}

/* The number of arguments g's function takes, and no DISTINCT for the
 * statistics. */
static bool
wq_agg_arity_ok(const wq_agg_t *g)
{
	if (!wq_agg_is_stat(g->fn))
		return g->nmore == 0;
	if ((g->distinct && g->nmore > 0) || g->arg == NULL)
		return false;
	if (g->fn == WQ_AGG_LINREG)
		return g->nmore >= 1 && g->nmore <= WQ_LINREG_X_MAX;
	return g->nmore + 1 == wq_stat_nargs(g->fn);
}

/* Aggregate i over input types in[0..nin): one the binder makes (DISTINCT
 * only when `distinct`: a complete aggregation). */
int
wq_rules_agg(wq_rules_t *r, const wq_agg_t *g, uint32_t nin,
	     const weft_sqltype_t *in, bool distinct)
{
	uint32_t i;
	int rc = 0;

	if (g->fn < WQ_AGG_COUNT_STAR || g->fn > WQ_AGG_FN_LAST ||
	    !wq_type_ok(g->argtype) || (g->distinct && !distinct) ||
	    (g->fn == WQ_AGG_COUNT_STAR) != (g->arg == NULL) ||
	    wq_agg_result_type(g->fn, g->argtype) != g->type ||
	    wq_agg_scale(g->fn, g->type, g->arg) != g->scale ||
	    !wq_agg_arity_ok(g))
		return wq_rules_fail(r, "bad aggregate");
	for (i = 0; rc == 0 && i < wq_agg_nargs(g); i++) {
		const weft_expr_t *x = wq_agg_arg(g, i);

		rc = wq_rules_expr(r, x, nin, in);
		if (rc == 0 && x->type != g->argtype)
			rc = wq_rules_fail(r, "bad aggregate argument");
	}
	return rc;
}

/* Everything frag.h promises of a fragment; who prefixes the messages. */
static int
wq_rules(const wq_frag_t *f, const char *who, weft_err_t *err)
{
	wq_rules_t r = {0, who, err};
	weft_sqltype_t *in = NULL;
	uint32_t i, nin;
	int rc;

	rc = wq_rules_shape(&r, f);
	if (rc == 0 && f->filter != NULL) {
		rc = wq_rules_expr(&r, f->filter, f->ncols, f->ctypes);
		if (rc == 0 && f->filter->type != WEFT_S_BOOL)
			rc = wq_rules_fail(&r, "filter is not boolean");
	}
	for (i = 0; rc == 0 && i < f->nproj; i++)
		rc = wq_rules_expr(&r, f->proj[i], f->ncols, f->ctypes);
	if (rc != 0)
		return rc;
	/* keys and aggregates read the projection, else the read columns */
	nin = f->nproj ? f->nproj : f->ncols;
	in = calloc(nin + 1, sizeof(*in));
	if (in == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (i = 0; i < nin; i++)
		in[i] = f->nproj ? f->proj[i]->type : f->ctypes[i];
	for (i = 0; rc == 0 && i < f->nkeys; i++)
		rc = wq_rules_expr(&r, f->keys[i], nin, in);
	for (i = 0; rc == 0 && i < f->naggs; i++)
		rc = wq_rules_agg(&r, &f->aggs[i], nin, in, false);
	free(in);
	return rc;
}

/* ---- the planner's side ---- */

/* Resolve *slot in place; its type must not change. */
static int
wq_settle_expr(weft_expr_t **slot, weft_err_t *err)
{
	weft_sqltype_t t = (*slot)->type;
	int rc = weft_expr_resolve(slot, err);

	if (rc == 0 && (*slot)->type != t)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "fragment: expression "
				  "changed type when resolved");
	return rc;
}

int
wq_frag_settle(wq_frag_t *f, weft_err_t *err)
{
	uint32_t i, k;
	int rc = 0;

	if (f->filter != NULL)
		rc = wq_settle_expr(&f->filter, err);
	for (i = 0; rc == 0 && i < f->nproj; i++)
		rc = wq_settle_expr(&f->proj[i], err);
	for (i = 0; rc == 0 && i < f->nkeys; i++)
		rc = wq_settle_expr(&f->keys[i], err);
	for (i = 0; rc == 0 && i < f->naggs; i++)
		for (k = 0; rc == 0 && k < wq_agg_nargs(&f->aggs[i]); k++)
			rc = wq_settle_expr(wq_agg_argp(&f->aggs[i], k), err);
	if (rc != 0)
		return rc;
	return wq_rules(f, "", err);
}

/* ---- decode: the raw bytes ---- */

bool
wq_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	int s;

	for (s = 0; s < 64 && *p < end; s += 7) {
		uint8_t b = *(*p)++;

		x |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* The message kind of field `field` of a message of kind `kind`. */
static int
wq_pb_child(int kind, uint64_t field)
{
	if (kind == WQ_PB_FRAGMENT)
		return field == 4 || field == 5 || field == 7 ? WQ_PB_EXPR
		       : field == 8			      ? WQ_PB_AGGSPEC
		       : field == 11			      ? WQ_PB_STEP
							      : WQ_PB_OTHER;
	/* a step's scan is bytes, decoded on its own: no deeper nesting */
	if (kind == WQ_PB_STEP)
		return field == 6 || field == 7 || field == 8 || field == 11 ||
			       field == 12 || field == 13
			   ? WQ_PB_EXPR
		       : field == 9 ? WQ_PB_AGGSPEC
				    : WQ_PB_OTHER;
	if (kind == WQ_PB_AGGSPEC)
		return field == 3 ? WQ_PB_EXPR : WQ_PB_OTHER;
	if (kind == WQ_PB_EXPR)
		return field == 7 ? WQ_PB_EXPR : WQ_PB_OTHER;
	return WQ_PB_OTHER;
}

/*
 * Walk the protobuf encoding of one message of kind `kind` in [p, end),
 * counting expressions (level: the nesting of the expression it is in)
 * into r, without unpacking anything: protobuf-c recurses once per
 * level, so hostile nesting must be refused before it sees the bytes.
 */
int
wq_pb_scan(wq_rules_t *r, const uint8_t *p, const uint8_t *end, int kind,
	   int level)
{
	uint64_t key, len;
	int rc;

	if (kind == WQ_PB_EXPR) {
		if (++level > WEFT_FRAG_DEPTH_MAX)
			return wq_rules_deep(r);
		if (++r->nodes > WEFT_FRAG_NODES_MAX)
			return wq_rules_large(r);
	}
	while (p < end) {
		if (!wq_pb_varint(&p, end, &key) || key >> 3 == 0)
			return wq_rules_fail(r, "bad message");
		switch (key & 7) {
		case 0:
			if (!wq_pb_varint(&p, end, &len))
				return wq_rules_fail(r, "bad message");
			break;
		case 1:
		case 5:
			len = (key & 7) == 1 ? 8 : 4;
			if ((uint64_t)(end - p) < len)
				return wq_rules_fail(r, "bad message");
			p += len;
			break;
		case 2:
			if (!wq_pb_varint(&p, end, &len) ||
			    (uint64_t)(end - p) < len)
				return wq_rules_fail(r, "bad message");
			if (wq_pb_child(kind, key >> 3) != WQ_PB_OTHER) {
				rc = wq_pb_scan(r, p, p + len,
						wq_pb_child(kind, key >> 3),
						level);
				if (rc != 0)
					return rc;
			}
			p += len;
			break;
		default: return wq_rules_fail(r, "bad message");
		}
	}
	return 0;
}

/* ---- decode: building the fragment ---- */

/* A constant's value from x (whose type was checked). */
static int
wq_value_from_pb(const Weft__Expr *x, weft_value_t *v)
{
	memset(v, 0, sizeof(*v));
	v->type = (weft_sqltype_t)x->value->type;
	v->null = x->value->null || v->type == WEFT_S_NULL;
	switch (v->type) {
	case WEFT_S_BOOL: v->u.b = x->value->i != 0; break;
	case WEFT_S_FLOAT64:
	case WEFT_S_NUMERIC: v->u.f = x->value->f; break;
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN:
		if (x->value->s.len > WEFT_TEXT_MAX)
			return WEFT_EINVAL;
		v->u.s.p =
		    x->value->s.data ? (const char *)x->value->s.data : "";
		v->u.s.len = (uint32_t)x->value->s.len;
		break;
	default: v->u.i = x->value->i;
	}
	return 0;
}

/*
 * Build the tree of x as it is (the rules check it afterwards); only what
 * building needs is checked here: kinds, types, the arity of leaves. The
 * bytes were scanned, so the recursion is bounded.
 */
weft_expr_t *
wq_expr_from_pb(const Weft__Expr *x, weft_err_t *err)
{
	weft_expr_t **args = NULL, *e;
	weft_value_t v;
	size_t i;

	if (x->kind > WEFT_E_NULLIF || x->kind == WEFT_E_PARAM ||
	    !wq_type_ok(x->type) || x->n_args > WEFT_FRAG_ARGS_MAX ||
	    ((x->kind == WEFT_E_COL || x->kind == WEFT_E_CONST) && x->n_args) ||
	    (x->kind == WEFT_E_CONST &&
	     (x->value == NULL || x->value->type != x->type ||
	      wq_value_from_pb(x, &v) != 0))) {
		weft_err_set(err, WEFT_EINVAL, "fragment: bad expression");
		return NULL;
	}
	if (x->kind == WEFT_E_COL)
		e = weft_expr_col(x->col, (weft_sqltype_t)x->type, x->location);
	else if (x->kind == WEFT_E_CONST)
		e = weft_expr_const(&v, x->location);
	else {
		args = calloc(x->n_args + 1, sizeof(*args));
		if (args == NULL)
			goto oom;
		for (i = 0; i < x->n_args; i++) {
			args[i] = wq_expr_from_pb(x->args[i], err);
			if (args[i] == NULL) {
				weft_expr_free_array(args, (uint32_t)i);
				return NULL;
			}
		}
		e = weft_expr_node((weft_expr_kind_t)x->kind, x->op, x->flags,
				   (uint32_t)x->n_args, args, x->location);
		free(args);
	}
	if (e == NULL)
		goto oom;
	e->type = (weft_sqltype_t)x->type;
	e->scale = x->scale;
	return e;
oom:
	weft_err_set(err, WEFT_ENOMEM, "out of memory");
	return NULL;
}

/* Expressions xs[0..n) into a new array *out, *cnt of them built. */
static int
wq_exprs_from_pb(Weft__Expr *const *xs, size_t n, weft_expr_t ***out,
		 uint32_t *cnt, weft_err_t *err)
{
	size_t i;

	*out = calloc(n + 1, sizeof(**out));
	if (*out == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		(*out)[i] = wq_expr_from_pb(xs[i], err);
		if ((*out)[i] == NULL)
			return err->code;
		(*cnt)++;
	}
	return 0;
}

/* Columns, counts and flags of m into f (expressions aside). */
static int
wq_frag_from_pb_shape(const Weft__Fragment *m, wq_frag_t *f, weft_err_t *err)
{
	uint32_t i;

	if (m->n_columns != m->n_column_types || m->n_columns > WEFT_COLS_MAX ||
	    m->n_project > WQ_COLS_MAX || m->n_group_keys > WQ_COLS_MAX ||
	    m->n_aggs > WQ_COLS_MAX / 2 || m->n_order > WQ_COLS_MAX ||
	    m->n_plan > 0)
		return weft_err_set(err, WEFT_EINVAL, "fragment: bad shape");
	f->product = strdup(m->product);
	f->ncols = (uint32_t)m->n_columns;
	f->cols = calloc(f->ncols + 1, sizeof(*f->cols));
	f->ctypes = calloc(f->ncols + 1, sizeof(*f->ctypes));
	f->order = calloc(m->n_order + 1, sizeof(*f->order));
	if (!f->product || !f->cols || !f->ctypes || !f->order)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (i = 0; i < f->ncols; i++) {
		if (!wq_type_ok(m->column_types[i]))
			return weft_err_set(err, WEFT_EINVAL,
					    "fragment: bad column type");
		f->cols[i] = m->columns[i];
		f->ctypes[i] = (weft_sqltype_t)m->column_types[i];
	}
	f->agg = m->partial_agg;
	f->limit = m->limit;
	f->profile = m->profile;
	for (i = 0; i < m->n_order; i++) {
		f->order[i].col = m->order[i]->col;
		f->order[i].desc = m->order[i]->desc;
		f->order[i].nulls_first = m->order[i]->nulls_first;
		f->norder++;
	}
	return 0;
}

/* Aggregates as[0..n) into a new array *out, *cnt of them built. */
int
wq_aggs_from_pb(Weft__AggSpec *const *as, size_t n, wq_agg_t **out,
		uint32_t *cnt, weft_err_t *err)
{
	uint32_t i, k;

	*out = calloc(n + 1, sizeof(**out));
	if (*out == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		const Weft__AggSpec *a = as[i];
		wq_agg_t *g = &(*out)[i];

		if (a->fn > WQ_AGG_FN_LAST || !wq_type_ok(a->arg_type) ||
		    !wq_type_ok(a->type) || a->n_more > WQ_LINREG_X_MAX)
			return weft_err_set(err, WEFT_EINVAL,
					    "fragment: bad aggregate");
		g->fn = (int)a->fn;
		g->distinct = a->distinct;
		g->argtype = (weft_sqltype_t)a->arg_type;
		g->type = (weft_sqltype_t)a->type;
		g->scale = a->scale;
		(*cnt)++; /* freed with what it holds so far on failure */
		if (a->arg != NULL &&
		    (g->arg = wq_expr_from_pb(a->arg, err)) == NULL)
			return err->code;
		if (a->n_more > 0 &&
		    (g->more = calloc(a->n_more, sizeof(*g->more))) == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		for (k = 0; k < a->n_more; k++) {
			if ((g->more[k] = wq_expr_from_pb(a->more[k], err)) ==
			    NULL)
				return err->code;
			g->nmore++;
		}
	}
	return 0;
}

/* A fragment built from m as it is; f is whole (to free) on failure. */
static int
wq_frag_from_pb(const Weft__Fragment *m, wq_frag_t *f, weft_err_t *err)
{
	int rc;

	rc = wq_frag_from_pb_shape(m, f, err);
	if (rc == 0 && m->filter != NULL &&
	    (f->filter = wq_expr_from_pb(m->filter, err)) == NULL)
		rc = err->code;
	if (rc == 0)
		rc = wq_exprs_from_pb(m->project, m->n_project, &f->proj,
				      &f->nproj, err);
	if (rc == 0)
		rc = wq_exprs_from_pb(m->group_keys, m->n_group_keys, &f->keys,
				      &f->nkeys, err);
	if (rc == 0)
		rc = wq_aggs_from_pb(m->aggs, m->n_aggs, &f->aggs, &f->naggs,
				     err);
	return rc;
}

int
wq_frag_decode(const uint8_t *buf, size_t len, wq_frag_t **out, weft_err_t *err)
{
	wq_rules_t r = {0, "fragment: ", err};
	Weft__Fragment *m = NULL;
	wq_frag_t *f = NULL;
	int rc;

	*out = NULL;
	if (buf == NULL || len == 0) /* protobuf-c's empty bytes: NULL */
		return weft_err_set(err, WEFT_EINVAL, "fragment: empty");
	rc = wq_pb_scan(&r, buf, buf + len, WQ_PB_FRAGMENT, 0);
	if (rc != 0)
		return rc;
	m = weft__fragment__unpack(NULL, len, buf);
	if (m == NULL)
		return weft_err_set(err, WEFT_EINVAL, "fragment: bad message");
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	rc = wq_frag_from_pb(m, f, err);
	if (rc == 0)
		rc = wq_rules(f, "fragment: ", err);
	if (rc == 0) {
		*out = f;
		f = NULL;
	}
out:
	wq_frag_free(f);
	weft__fragment__free_unpacked(m, NULL);
	return rc;
}

/* ---- fragments as data ---- */

void
wq_frag_free(wq_frag_t *f)
{
	if (f == NULL)
		return;
	free(f->product);
	if (f->colnames)
		for (uint32_t i = 0; i < f->ncols; i++)
			free(f->colnames[i]);
	free(f->colnames);
	free(f->cols);
	free(f->ctypes);
	weft_expr_free(f->filter);
	weft_expr_free_array(f->proj, f->nproj);
	weft_expr_free_array(f->keys, f->nkeys);
	wq_aggs_free(f->aggs, f->naggs);
	free(f->order);
	free(f);
}

int
wq_frag_types(const wq_frag_t *f, uint32_t *n, weft_sqltype_t **types)
{
	weft_sqltype_t *t;
	uint32_t i, k = 0, cnt;

	if (f->profile) {
		if ((t = calloc(WQ_PROF_NCOLS, sizeof(*t))) == NULL)
			return WEFT_ENOMEM;
		wq_prof_types(t, NULL);
		*n = WQ_PROF_NCOLS;
		*types = t;
		return 0;
	}
	if (f->agg) {
		cnt = f->nkeys + wq_aggs_nstate(f->aggs, f->naggs);
	} else {
		cnt = f->nproj ? f->nproj : f->ncols;
	}
	t = calloc(cnt + 1, sizeof(*t));
	if (t == NULL)
		return WEFT_ENOMEM;
	if (f->agg) {
		for (i = 0; i < f->nkeys; i++)
			t[k++] = f->keys[i]->type;
		for (i = 0; i < f->naggs; i++) {
			uint32_t s;

			for (s = 0; s < wq_agg_nstate(&f->aggs[i]); s++)
				t[k++] = wq_agg_state_type(&f->aggs[i], s);
		}
	} else if (f->nproj) {
		for (i = 0; i < f->nproj; i++)
			t[i] = f->proj[i]->type;
	} else {
		for (i = 0; i < f->ncols; i++)
			t[i] = f->ctypes[i];
	}
	*n = cnt;
	*types = t;
	return 0;
}
