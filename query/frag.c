/*
 * frag.c: scan fragments <-> weft.Fragment (proto/weft.proto), the one
 * place that converts them.
 *
 * Decoding treats the bytes as hostile: every enum, column reference,
 * count and depth is checked, and every expression must come out of
 * weft_expr_resolve unchanged (so its types are the ones the evaluator
 * will trust) before a fragment is accepted.
 */
#include <stdlib.h>
#include <string.h>

#include "query/qint.h"
#include "weft.pb-c.h"

#define WQ_FRAG_DEPTH 64

static bool
wq_type_ok(uint32_t t)
{
	return t <= WEFT_S_UNKNOWN;
}

/* ---- encode ---- */

static void
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

static Weft__Expr *
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
			case WEFT_S_BOOL:
				x->value->i = e->cval.u.b;
				break;
			case WEFT_S_FLOAT64:
			case WEFT_S_NUMERIC:
				x->value->f = e->cval.u.f;
				break;
			case WEFT_S_TEXT:
			case WEFT_S_UNKNOWN:
				x->value->s.data = (uint8_t *)e->cval.u.s.p;
				x->value->s.len = e->cval.u.s.len;
				break;
			default:
				x->value->i = e->cval.u.i;
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
wq_frag_encode(const wq_frag_t *f, uint8_t **buf, size_t *len,
	       weft_err_t *err)
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
	if (!types || !m.project || !m.group_keys || !aggs || !aggp ||
	    !keys || !keyp)
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
		weft__agg_spec__init(&aggs[i]);
		aggs[i].fn = (uint32_t)f->aggs[i].fn;
		aggs[i].distinct = f->aggs[i].distinct;
		aggs[i].arg_type = f->aggs[i].argtype;
		aggs[i].type = f->aggs[i].type;
		aggs[i].scale = f->aggs[i].scale;
		if (f->aggs[i].arg &&
		    (aggs[i].arg = wq_pb_expr(f->aggs[i].arg)) == NULL)
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
		wq_pb_expr_free(aggs[i].arg);
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

/* ---- decode ---- */

/* Convert and check an expression over ncols input columns of types. */
static weft_expr_t *
wq_expr_from_pb(const Weft__Expr *x, uint32_t ncols,
		const weft_sqltype_t *types, int depth, weft_err_t *err)
{
	weft_expr_t **args = NULL, *e = NULL;
	size_t i;

	if (depth > WQ_FRAG_DEPTH) {
		weft_err_set(err, WEFT_EINVAL, "fragment: expression too deep");
		return NULL;
	}
	if (x->kind > WEFT_E_NULLIF || x->kind == WEFT_E_PARAM ||
	    !wq_type_ok(x->type) || x->n_args > 100000) {
		weft_err_set(err, WEFT_EINVAL, "fragment: bad expression");
		return NULL;
	}
	if (x->kind == WEFT_E_COL) {
		if (x->col >= ncols || types[x->col] != (weft_sqltype_t)x->type ||
		    x->n_args) {
			weft_err_set(err, WEFT_EINVAL,
				     "fragment: bad column reference");
			return NULL;
		}
		e = weft_expr_col(x->col, (weft_sqltype_t)x->type, x->location);
		goto done;
	}
	if (x->kind == WEFT_E_CONST) {
		weft_value_t v;

		if (x->value == NULL || !wq_type_ok(x->value->type) ||
		    x->value->type != x->type || x->n_args) {
			weft_err_set(err, WEFT_EINVAL, "fragment: bad constant");
			return NULL;
		}
		memset(&v, 0, sizeof(v));
		v.type = (weft_sqltype_t)x->value->type;
		v.null = x->value->null || v.type == WEFT_S_NULL;
		switch (v.type) {
		case WEFT_S_BOOL:
			v.u.b = x->value->i != 0;
			break;
		case WEFT_S_FLOAT64:
		case WEFT_S_NUMERIC:
			v.u.f = x->value->f;
			break;
		case WEFT_S_TEXT:
		case WEFT_S_UNKNOWN:
			if (x->value->s.len > WEFT_TEXT_MAX) {
				weft_err_set(err, WEFT_EINVAL,
					     "fragment: constant too long");
				return NULL;
			}
			v.u.s.p = (const char *)x->value->s.data;
			v.u.s.len = (uint32_t)x->value->s.len;
			if (v.u.s.p == NULL)
				v.u.s.p = "";
			break;
		default:
			v.u.i = x->value->i;
		}
		if ((v.type == WEFT_S_TEXT || v.type == WEFT_S_UNKNOWN) &&
		    !v.null) {
			e = weft_expr_str(v.u.s.p, v.u.s.len, x->location);
			if (e != NULL) {
				e->type = v.type;
				e->cval.type = v.type;
				e->cval.null = v.null;
			}
		} else {
			e = weft_expr_const(&v, x->location);
		}
		if (e != NULL)
			e->scale = x->scale;
		goto done;
	}
	if (x->n_args > 0) {
		args = calloc(x->n_args, sizeof(*args));
		if (args == NULL)
			goto oom;
		for (i = 0; i < x->n_args; i++) {
			args[i] = wq_expr_from_pb(x->args[i], ncols, types,
						  depth + 1, err);
			if (args[i] == NULL) {
				while (i > 0)
					weft_expr_free(args[--i]);
				free(args);
				return NULL;
			}
		}
	}
	e = weft_expr_node((weft_expr_kind_t)x->kind, x->op, x->flags,
			   (uint32_t)x->n_args, args, x->location);
	free(args);
	if (e != NULL) {
		e->type = (weft_sqltype_t)x->type;
		e->scale = x->scale;
	}
done:
	if (e == NULL)
		goto oom;
	return e;
oom:
	weft_err_set(err, WEFT_ENOMEM, "out of memory");
	return NULL;
}

/* A decoded tree must be exactly what resolving it again gives. */
static int
wq_check_typed(const weft_expr_t *e, weft_err_t *err)
{
	weft_expr_t *c = weft_expr_copy(e);
	weft_err_t e2 = {0};
	bool ok;

	if (c == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	ok = weft_expr_resolve(&c, &e2) == 0 && weft_expr_equal(c, e);
	weft_expr_free(c);
	if (!ok)
		return weft_err_set(err, WEFT_EINVAL,
				    "fragment: expression is not well-typed");
	return 0;
}

static weft_expr_t *
wq_expr_checked(const Weft__Expr *x, uint32_t ncols,
		const weft_sqltype_t *types, weft_err_t *err)
{
	weft_expr_t *e = wq_expr_from_pb(x, ncols, types, 0, err);

	if (e != NULL && wq_check_typed(e, err) != 0) {
		weft_expr_free(e);
		return NULL;
	}
	return e;
}

int
wq_frag_decode(const uint8_t *buf, size_t len, wq_frag_t **out,
	       weft_err_t *err)
{
	Weft__Fragment *m;
	wq_frag_t *f = NULL;
	weft_sqltype_t *in = NULL, *ot = NULL;
	uint32_t nin, i, nout;
	int rc = WEFT_EINVAL;

	*out = NULL;
	m = weft__fragment__unpack(NULL, len, buf);
	if (m == NULL)
		return weft_err_set(err, WEFT_EINVAL, "fragment: bad message");
	if (m->n_columns != m->n_column_types || m->n_columns > WEFT_COLS_MAX ||
	    m->n_project > WQ_COLS_MAX || m->n_group_keys > WQ_COLS_MAX ||
	    m->n_aggs > WQ_COLS_MAX / 2 || m->n_order > WQ_COLS_MAX ||
	    weft_product_name_check(m->product, NULL) != 0 ||
	    (!m->partial_agg && (m->n_group_keys || m->n_aggs)) ||
	    (m->partial_agg && (m->n_order || m->limit >= 0)) ||
	    m->limit < -1) {
		weft_err_set(err, WEFT_EINVAL, "fragment: bad shape");
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		goto oom;
	f->product = strdup(m->product);
	f->ncols = (uint32_t)m->n_columns;
	f->cols = calloc(f->ncols + 1, sizeof(*f->cols));
	f->ctypes = calloc(f->ncols + 1, sizeof(*f->ctypes));
	f->limit = m->limit;
	if (!f->product || !f->cols || !f->ctypes)
		goto oom;
	for (i = 0; i < f->ncols; i++) {
		uint32_t t = m->column_types[i];

		if (t != WEFT_S_BOOL && t != WEFT_S_INT64 &&
		    t != WEFT_S_FLOAT64 && t != WEFT_S_TEXT &&
		    t != WEFT_S_TIMESTAMP) {
			weft_err_set(err, WEFT_EINVAL, "fragment: bad column "
				     "type");
			goto out;
		}
		f->cols[i] = m->columns[i];
		f->ctypes[i] = (weft_sqltype_t)t;
	}
	if (m->filter) {
		f->filter = wq_expr_checked(m->filter, f->ncols, f->ctypes, err);
		if (f->filter == NULL)
			goto fail;
		if (f->filter->type != WEFT_S_BOOL) {
			weft_err_set(err, WEFT_EINVAL, "fragment: filter is not "
				     "boolean");
			goto out;
		}
	}
	f->proj = calloc(m->n_project + 1, sizeof(*f->proj));
	if (f->proj == NULL)
		goto oom;
	for (i = 0; i < m->n_project; i++) {
		f->proj[i] = wq_expr_checked(m->project[i], f->ncols, f->ctypes,
					     err);
		if (f->proj[i] == NULL)
			goto fail;
		f->nproj++;
	}
	/* input of aggregation / ordering */
	nin = f->nproj ? f->nproj : f->ncols;
	in = calloc(nin + 1, sizeof(*in));
	if (in == NULL)
		goto oom;
	for (i = 0; i < nin; i++)
		in[i] = f->nproj ? f->proj[i]->type : f->ctypes[i];
	f->agg = m->partial_agg;
	f->keys = calloc(m->n_group_keys + 1, sizeof(*f->keys));
	f->aggs = calloc(m->n_aggs + 1, sizeof(*f->aggs));
	if (f->keys == NULL || f->aggs == NULL)
		goto oom;
	for (i = 0; i < m->n_group_keys; i++) {
		f->keys[i] = wq_expr_checked(m->group_keys[i], nin, in, err);
		if (f->keys[i] == NULL)
			goto fail;
		f->nkeys++;
	}
	for (i = 0; i < m->n_aggs; i++) {
		const Weft__AggSpec *a = m->aggs[i];
		wq_agg_t *g = &f->aggs[i];

		if (a->fn > WQ_AGG_MAX || !wq_type_ok(a->arg_type) ||
		    (a->fn == WQ_AGG_COUNT_STAR) != (a->arg == NULL) ||
		    a->distinct ||
		    wq_agg_result_type((int)a->fn,
				       (weft_sqltype_t)a->arg_type) !=
			(weft_sqltype_t)a->type) {
			weft_err_set(err, WEFT_EINVAL, "fragment: bad aggregate");
			goto out;
		}
		g->fn = (int)a->fn;
		g->argtype = (weft_sqltype_t)a->arg_type;
		g->type = (weft_sqltype_t)a->type;
		g->scale = a->scale;
		if (a->arg) {
			g->arg = wq_expr_checked(a->arg, nin, in, err);
			if (g->arg == NULL)
				goto fail;
			if (g->arg->type != g->argtype) {
				weft_err_set(err, WEFT_EINVAL,
					     "fragment: bad aggregate argument");
				f->naggs++;
				goto out;
			}
		}
		f->naggs++;
	}
	if (wq_frag_types(f, &nout, &ot) != 0)
		goto oom;
	f->order = calloc(m->n_order + 1, sizeof(*f->order));
	if (f->order == NULL)
		goto oom;
	for (i = 0; i < m->n_order; i++) {
		if (m->order[i]->col >= nout) {
			weft_err_set(err, WEFT_EINVAL, "fragment: bad sort key");
			goto out;
		}
		f->order[i].col = m->order[i]->col;
		f->order[i].desc = m->order[i]->desc;
		f->order[i].nulls_first = m->order[i]->nulls_first;
		f->norder++;
	}
	*out = f;
	f = NULL;
	rc = 0;
	goto out;
oom:
	weft_err_set(err, WEFT_ENOMEM, "out of memory");
	rc = WEFT_ENOMEM;
	goto out;
fail:
	rc = err->code ? err->code : WEFT_EINVAL;
out:
	free(in);
	free(ot);
	wq_frag_free(f);
	weft__fragment__free_unpacked(m, NULL);
	return rc;
}

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

	if (f->agg) {
		cnt = f->nkeys;
		for (i = 0; i < f->naggs; i++)
			cnt += wq_agg_nstate(&f->aggs[i]);
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
