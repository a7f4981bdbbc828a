/*
 * expr.c: expression trees: construction, PostgreSQL's typing rules
 * (weft_expr_resolve), constant folding and EXPLAIN printing.
 *
 * Resolution runs in two passes, as PostgreSQL's does: typing (operator
 * and function selection, implicit casts, coercion of unknown literals,
 * whose bad input is an error at the literal's position) and then
 * folding of constant subtrees, top-down so that a CASE arm whose WHEN is
 * constant false is dropped before its result is folded.
 *
 * Invariants after resolve: every node has its result type; the operands
 * of an operator share a storage class (integer types are not cast to
 * each other, nor numeric to double precision, since they share storage;
 * integers are cast before they meet numeric or double operands); CASE x
 * WHEN v is rewritten to CASE WHEN x = v; IN has one common type.
 */
#include "query/expr.h"
#include "query/frag.h" /* the limits of an expression tree */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int weft_expr_type(weft_expr_t **slot, weft_err_t *err);
static int weft_expr_fold(weft_expr_t **slot, weft_err_t *err);

/* ---- constructors ---- */

static weft_expr_t *
weft_expr_alloc(weft_expr_kind_t kind, int location)
{
	weft_expr_t *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->kind = kind;
	e->location = location;
	e->scale = -1;
	return e;
}

weft_expr_t *
weft_expr_col(uint32_t col, weft_sqltype_t type, int location)
{
	weft_expr_t *e = weft_expr_alloc(WEFT_E_COL, location);

	if (e == NULL)
		return NULL;
	e->col = col;
	e->type = type;
	return e;
}

weft_expr_t *
weft_expr_const(const weft_value_t *v, int location)
{
	weft_expr_t *e = weft_expr_alloc(WEFT_E_CONST, location);

	if (e == NULL)
		return NULL;
	e->cval = *v;
	e->type = v->type;
	if (v->null)
		memset(&e->cval.u, 0, sizeof(e->cval.u));
	if ((v->type == WEFT_S_TEXT || v->type == WEFT_S_UNKNOWN) &&
	    !v->null) {
		char *p = malloc((size_t)v->u.s.len + 1);

		if (p == NULL) {
			free(e);
			return NULL;
		}
		if (v->u.s.len)
			memcpy(p, v->u.s.p, v->u.s.len);
		p[v->u.s.len] = 0;
		e->cval.u.s.p = p;
	}
	if (v->type == WEFT_S_NUMERIC || v->type == WEFT_S_INT32 ||
	    v->type == WEFT_S_INT64)
		e->scale = v->type == WEFT_S_NUMERIC ? -1 : 0;
	return e;
}

weft_expr_t *
weft_expr_str(const char *s, size_t len, int location)
{
	weft_value_t v = {.type = WEFT_S_UNKNOWN};

	if (len > WEFT_TEXT_MAX)
		return NULL;
	v.u.s.p = s;
	v.u.s.len = (uint32_t)len;
	return weft_expr_const(&v, location);
}

weft_expr_t *
weft_expr_null(int location)
{
	weft_value_t v = {.type = WEFT_S_NULL, .null = true};

	return weft_expr_const(&v, location);
}

weft_expr_t *
weft_expr_bool(bool b, int location)
{
	weft_value_t v = {.type = WEFT_S_BOOL};

	v.u.b = b;
	return weft_expr_const(&v, location);
}

weft_expr_t *
weft_expr_int(int64_t i, weft_sqltype_t type, int location)
{
	weft_value_t v = {.type = type};

	v.u.i = i;
	return weft_expr_const(&v, location);
}

weft_expr_t *
weft_expr_number(const char *text, int location)
{
	weft_value_t v = {0};
	weft_expr_t *e;
	int scale = -1;
	size_t len = strlen(text);

	if (strpbrk(text, ".eE") == NULL &&
	    weft_cast__parse(WEFT_S_INT64, text, len, &v, &scale, NULL) ==
		0) {
		v.type = v.u.i >= INT32_MIN && v.u.i <= INT32_MAX
			     ? WEFT_S_INT32
			     : WEFT_S_INT64;
		return weft_expr_const(&v, location);
	}
	if (weft_cast__parse(WEFT_S_NUMERIC, text, len, &v, &scale, NULL) !=
	    0)
		return NULL;
	e = weft_expr_const(&v, location);
	if (e != NULL)
		e->scale = scale;
	return e;
}

weft_expr_t *
weft_expr_node(weft_expr_kind_t kind, int op, int flags, uint32_t nargs,
	       weft_expr_t **args, int location)
{
	weft_expr_t *e = weft_expr_alloc(kind, location);
	uint32_t i;

	if (e != NULL && nargs > 0) {
		e->args = calloc(nargs, sizeof(*e->args));
		if (e->args == NULL) {
			free(e);
			e = NULL;
		}
	}
	if (e == NULL) {
		for (i = 0; i < nargs; i++)
			weft_expr_free(args[i]);
		return NULL;
	}
	e->op = op;
	e->flags = flags;
	e->nargs = nargs;
	for (i = 0; i < nargs; i++)
		e->args[i] = args[i];
	return e;
}

weft_expr_t *
weft_expr_cast(weft_expr_t *arg, weft_sqltype_t to, int location)
{
	weft_expr_t *e = weft_expr_node(WEFT_E_CAST, (int)to, 0, 1, &arg,
					location);

	if (e != NULL)
		e->type = to;
	return e;
}

void
weft_value_clear(weft_value_t *v)
{
	if ((v->type == WEFT_S_TEXT || v->type == WEFT_S_UNKNOWN) &&
	    !v->null)
		free((char *)v->u.s.p);
	memset(&v->u, 0, sizeof(v->u));
	v->null = true;
}

void
weft_expr_free(weft_expr_t *e)
{
	uint32_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nargs; i++)
		weft_expr_free(e->args[i]);
	free(e->args);
	if (e->kind == WEFT_E_CONST)
		weft_value_clear(&e->cval);
	free(e);
}

weft_expr_t *
weft_expr_copy(const weft_expr_t *e)
{
	weft_expr_t *c;
	uint32_t i;

	if (e == NULL)
		return NULL;
	if (e->kind == WEFT_E_CONST) {
		c = weft_expr_const(&e->cval, e->location);
		if (c != NULL) {
			c->type = e->type;
			c->scale = e->scale;
			c->flags = e->flags;
		}
		return c;
	}
	c = malloc(sizeof(*c));
	if (c == NULL)
		return NULL;
	*c = *e;
	c->args = NULL;
	c->nargs = 0;
	if (e->nargs > 0) {
		c->args = calloc(e->nargs, sizeof(*c->args));
		if (c->args == NULL)
			goto fail;
		for (i = 0; i < e->nargs; i++) {
			c->args[i] = weft_expr_copy(e->args[i]);
			c->nargs = i + 1;
			if (c->args[i] == NULL)
				goto fail;
		}
	}
	return c;
fail:
	weft_expr_free(c);
	return NULL;
}

void
weft_expr_free_array(weft_expr_t **e, uint32_t n)
{
	uint32_t i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++)
		weft_expr_free(e[i]);
	free(e);
}

void
weft_expr_refs(const weft_expr_t *e, uint8_t *used, uint32_t n)
{
	uint32_t i;

	if (e == NULL)
		return;
	if (e->kind == WEFT_E_COL && e->col < n)
		used[e->col] = 1;
	for (i = 0; i < e->nargs; i++)
		weft_expr_refs(e->args[i], used, n);
}

void
weft_expr_remap(weft_expr_t *e, const uint32_t *map)
{
	uint32_t i;

	if (e == NULL)
		return;
	if (e->kind == WEFT_E_COL)
		e->col = map[e->col];
	for (i = 0; i < e->nargs; i++)
		weft_expr_remap(e->args[i], map);
}

bool
weft_expr_uses_range(const weft_expr_t *e, uint32_t lo, uint32_t hi)
{
	uint32_t i;

	if (e == NULL)
		return false;
	if (e->kind == WEFT_E_COL && e->col >= lo && e->col < hi)
		return true;
	for (i = 0; i < e->nargs; i++)
		if (weft_expr_uses_range(e->args[i], lo, hi))
			return true;
	return false;
}

uint32_t
weft_expr_nodes(const weft_expr_t *e)
{
	uint32_t i, n = 1;

	for (i = 0; i < e->nargs; i++)
		n += weft_expr_nodes(e->args[i]);
	return n;
}

uint32_t
weft_expr_depth(const weft_expr_t *e)
{
	uint32_t i, d = 0;

	for (i = 0; i < e->nargs; i++) {
		uint32_t a = weft_expr_depth(e->args[i]);

		if (a > d)
			d = a;
	}
	return d + 1;
}

bool
weft_expr_equal(const weft_expr_t *a, const weft_expr_t *b)
{
	uint32_t i;

	if (a->kind != b->kind || a->type != b->type || a->op != b->op ||
	    a->flags != b->flags || a->nargs != b->nargs)
		return false;
	if (a->kind == WEFT_E_COL && a->col != b->col)
		return false;
	if (a->kind == WEFT_E_CONST) {
		const weft_value_t *x = &a->cval, *y = &b->cval;

		if (x->type != y->type || x->null != y->null)
			return false;
		if (!x->null) {
			switch (x->type) {
			case WEFT_S_BOOL:
				if (x->u.b != y->u.b)
					return false;
				break;
			case WEFT_S_FLOAT64:
			case WEFT_S_NUMERIC:
				if (memcmp(&x->u.f, &y->u.f, 8) != 0)
					return false;
				break;
			case WEFT_S_TEXT:
			case WEFT_S_UNKNOWN:
				if (x->u.s.len != y->u.s.len ||
				    memcmp(x->u.s.p, y->u.s.p, x->u.s.len))
					return false;
				break;
			default:
				if (x->u.i != y->u.i)
					return false;
			}
		}
	}
	for (i = 0; i < a->nargs; i++)
		if (!weft_expr_equal(a->args[i], b->args[i]))
			return false;
	return true;
}

bool
weft_expr_is_const(const weft_expr_t *e)
{
	return e->kind == WEFT_E_CONST;
}

/* ---- functions ---- */

static const struct {
	const char *name;
	int f;
} weft_expr_fnames[] = {
	{"lower", WEFT_F_LOWER}, {"upper", WEFT_F_UPPER},
	{"length", WEFT_F_LENGTH}, {"char_length", WEFT_F_LENGTH},
	{"character_length", WEFT_F_LENGTH}, {"substr", WEFT_F_SUBSTR},
	{"substring", WEFT_F_SUBSTR}, {"btrim", WEFT_F_BTRIM},
	{"trim", WEFT_F_BTRIM}, {"ltrim", WEFT_F_LTRIM},
	{"rtrim", WEFT_F_RTRIM}, {"concat", WEFT_F_CONCAT},
	{"replace", WEFT_F_REPLACE}, {"left", WEFT_F_LEFT},
	{"right", WEFT_F_RIGHT}, {"strpos", WEFT_F_STRPOS},
	/* position(sub IN s) reaches us as position(s, sub), strpos's order */
	{"position", WEFT_F_STRPOS},
	{"abs", WEFT_F_ABS}, {"round", WEFT_F_ROUND}, {"floor", WEFT_F_FLOOR},
	{"ceil", WEFT_F_CEIL}, {"ceiling", WEFT_F_CEIL}, {"mod", WEFT_F_MOD},
	{"power", WEFT_F_POWER}, {"pow", WEFT_F_POWER}, {"sqrt", WEFT_F_SQRT},
	{"sign", WEFT_F_SIGN}, {"date_trunc", WEFT_F_DATE_TRUNC},
	{"date_part", WEFT_F_DATE_PART}, {"extract", WEFT_F_DATE_PART},
	{"now", WEFT_F_NOW}, {"current_timestamp", WEFT_F_NOW},
};

int
weft_func_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(weft_expr_fnames) / sizeof(*weft_expr_fnames);
	     i++)
		if (!strcmp(name, weft_expr_fnames[i].name))
			return weft_expr_fnames[i].f;
	return -1;
}

static const char *
weft_expr_fname(int f)
{
	size_t i;

	for (i = 0; i < sizeof(weft_expr_fnames) / sizeof(*weft_expr_fnames);
	     i++)
		if (weft_expr_fnames[i].f == f)
			return weft_expr_fnames[i].name;
	return "?";
}

#define T_ WEFT_S_TEXT
#define I4 WEFT_S_INT32
#define I8 WEFT_S_INT64
#define NU WEFT_S_NUMERIC
#define F8 WEFT_S_FLOAT64
#define TS WEFT_S_TIMESTAMP

typedef struct weft_expr_sig {
	int f;
	uint32_t n;
	weft_sqltype_t a[3];
	weft_sqltype_t r;
} weft_expr_sig_t;

static const weft_expr_sig_t weft_expr_sigs[] = {
	{WEFT_F_LOWER, 1, {T_}, T_},
	{WEFT_F_UPPER, 1, {T_}, T_},
	{WEFT_F_LENGTH, 1, {T_}, I4},
	{WEFT_F_SUBSTR, 2, {T_, I4}, T_},
	{WEFT_F_SUBSTR, 3, {T_, I4, I4}, T_},
	{WEFT_F_BTRIM, 1, {T_}, T_},
	{WEFT_F_BTRIM, 2, {T_, T_}, T_},
	{WEFT_F_LTRIM, 1, {T_}, T_},
	{WEFT_F_LTRIM, 2, {T_, T_}, T_},
	{WEFT_F_RTRIM, 1, {T_}, T_},
	{WEFT_F_RTRIM, 2, {T_, T_}, T_},
	{WEFT_F_REPLACE, 3, {T_, T_, T_}, T_},
	{WEFT_F_LEFT, 2, {T_, I4}, T_},
	{WEFT_F_RIGHT, 2, {T_, I4}, T_},
	{WEFT_F_STRPOS, 2, {T_, T_}, I4},
	{WEFT_F_ABS, 1, {I4}, I4},
	{WEFT_F_ABS, 1, {I8}, I8},
	{WEFT_F_ABS, 1, {NU}, NU},
	{WEFT_F_ABS, 1, {F8}, F8},
	{WEFT_F_ROUND, 1, {F8}, F8},
	{WEFT_F_ROUND, 1, {NU}, NU},
	{WEFT_F_ROUND, 2, {NU, I4}, NU},
	{WEFT_F_FLOOR, 1, {F8}, F8},
	{WEFT_F_FLOOR, 1, {NU}, NU},
	{WEFT_F_CEIL, 1, {F8}, F8},
	{WEFT_F_CEIL, 1, {NU}, NU},
	{WEFT_F_MOD, 2, {I4, I4}, I4},
	{WEFT_F_MOD, 2, {I8, I8}, I8},
	{WEFT_F_MOD, 2, {NU, NU}, NU},
	{WEFT_F_POWER, 2, {F8, F8}, F8},
	{WEFT_F_POWER, 2, {NU, NU}, NU},
	{WEFT_F_SQRT, 1, {F8}, F8},
	{WEFT_F_SQRT, 1, {NU}, NU},
	{WEFT_F_SIGN, 1, {F8}, F8},
	{WEFT_F_SIGN, 1, {NU}, NU},
	{WEFT_F_DATE_TRUNC, 2, {T_, TS}, TS},
	{WEFT_F_DATE_PART, 2, {T_, TS}, F8},
	{WEFT_F_DATE_PART, 2, {T_, WEFT_S_INTERVAL}, F8},
	{WEFT_F_NOW, 0, {0}, TS},
};

/* ---- type categories (PostgreSQL's typcategory) ---- */

static bool
weft_expr_isunk(weft_sqltype_t t)
{
	return t == WEFT_S_UNKNOWN || t == WEFT_S_NULL;
}

static int
weft_expr_rank(weft_sqltype_t t)
{
	switch (t) {
	case WEFT_S_INT32: return 1;
	case WEFT_S_INT64: return 2;
	case WEFT_S_NUMERIC: return 3;
	case WEFT_S_FLOAT64: return 4;
	default: return 0;
	}
}

static int
weft_expr_cat(weft_sqltype_t t)
{
	if (weft_expr_rank(t))
		return 'N';
	switch (t) {
	case WEFT_S_TEXT: return 'S';
	case WEFT_S_BOOL: return 'B';
	case WEFT_S_TIMESTAMP: return 'D';
	case WEFT_S_INTERVAL: return 'T';
	default: return 'X';
	}
}

static bool
weft_expr_preferred(weft_sqltype_t t)
{
	return t == WEFT_S_FLOAT64 || t == WEFT_S_TEXT || t == WEFT_S_BOOL ||
	       t == WEFT_S_INTERVAL;
}

static bool
weft_expr_implicit(weft_sqltype_t from, weft_sqltype_t to)
{
	return weft_cast__allowed(from, to, false);
}

/* ---- coercion ---- */

/* Evaluate a column-free expression on one row into a CONST node that
 * replaces *slot. */
static int
weft_expr_to_const(weft_expr_t **slot, int scale, weft_err_t *err)
{
	weft_expr_t *e = *slot, *c;
	weft_value_t v;
	int rc;

	rc = weft_expr_eval_const(e, 0, &v, err);
	if (rc != 0)
		return rc;
	c = weft_expr_const(&v, e->location);
	weft_value_clear(&v);
	if (c == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	c->type = e->type;
	c->cval.type = e->type;
	c->scale = scale;
	weft_expr_free(e);
	*slot = c;
	return 0;
}

/*
 * Cast *slot to `to`. Constants are converted now (an unknown literal's
 * bad input is an error at its position); integer types and numeric vs
 * double precision share storage, so `loose` leaves those uncast.
 */
static int
weft_expr_cast_to(weft_expr_t **slot, weft_sqltype_t to, bool loose,
		  weft_err_t *err)
{
	weft_expr_t *e = *slot, *c;
	int rc, scale = -1;

	if (e->type == to)
		return 0;
	if (e->kind == WEFT_E_CONST) {
		if (e->cval.null || e->type == WEFT_S_NULL) {
			weft_value_clear(&e->cval);
			e->type = e->cval.type = to;
			e->cval.null = true;
			e->scale = -1;
			return 0;
		}
		if (e->type == WEFT_S_UNKNOWN || e->type == WEFT_S_TEXT) {
			weft_value_t v;

			if (to == WEFT_S_TEXT || to == WEFT_S_UNKNOWN) {
				e->type = e->cval.type = to;
				return 0;
			}
			rc = weft_cast__parse(to, e->cval.u.s.p,
					      e->cval.u.s.len, &v, &scale,
					      err);
			if (rc != 0) {
				if (err != NULL)
					err->pos = e->location;
				return rc;
			}
			weft_value_clear(&e->cval);
			e->cval = v;
			e->type = to;
			e->scale = to == WEFT_S_NUMERIC ? scale : -1;
			return 0;
		}
	}
	/* Constants are left loose too: folding turns subtrees into
	 * constants after their parents were typed, so treating both alike
	 * keeps resolve idempotent (a decoded fragment re-resolves to the
	 * same tree). */
	if (loose && weft_expr_rank(e->type) && weft_expr_rank(to) &&
	    weft_sqltype_store(e->type) == weft_sqltype_store(to))
		return 0;
	if (weft_expr_rank(e->type) && to == WEFT_S_NUMERIC &&
	    weft_expr_rank(e->type) < 3)
		scale = 0;
	else if (e->type == WEFT_S_NUMERIC && to == WEFT_S_NUMERIC)
		scale = e->scale;
	c = weft_expr_cast(e, to, e->location);
	if (c == NULL) {
		*slot = NULL;
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	c->scale = scale;
	*slot = c;
	if (e->kind == WEFT_E_CONST) {
		rc = weft_expr_to_const(slot, scale, err);
		if (rc != 0 && err != NULL && err->pos == 0)
			err->pos = e->location;
		return rc;
	}
	return 0;
}

int
weft_expr_coerce(weft_expr_t **e, weft_sqltype_t to, weft_err_t *err)
{
	if ((*e)->type == to)
		return 0;
	if (!weft_expr_implicit((*e)->type, to)) {
		if (err != NULL)
			err->pos = (*e)->location;
		return weft_err_set(err, WEFT_ETYPE,
				    "cannot cast type %s to %s",
				    weft_sqltype_name((*e)->type),
				    weft_sqltype_name(to));
	}
	return weft_expr_cast_to(e, to, false, err);
}

int
weft_expr_coerce_bool(weft_expr_t **e, const char *construct,
		      weft_err_t *err)
{
	weft_sqltype_t t = (*e)->type;

	if (t == WEFT_S_BOOL)
		return 0;
	if (weft_expr_isunk(t))
		return weft_expr_cast_to(e, WEFT_S_BOOL, false, err);
	weft_err_set(err, WEFT_ETYPE,
		     "argument of %s must be type boolean, not type %s",
		     construct, weft_sqltype_name(t));
	if (err != NULL)
		err->pos = (*e)->location;
	return WEFT_ETYPE;
}

int
weft_expr_finish(weft_expr_t **e, weft_err_t *err)
{
	if ((*e)->type == WEFT_S_UNKNOWN)
		return weft_expr_cast_to(e, WEFT_S_TEXT, false, err);
	return 0;
}

/* select_common_type: the type, without coercing. */
static int
weft_expr_common_type(weft_expr_t **es, uint32_t n, const char *context,
		      weft_sqltype_t *out, weft_err_t *err)
{
	weft_sqltype_t p = WEFT_S_UNKNOWN;
	bool any_unknown = false, all_null = true;
	uint32_t i, first = 0;

	for (i = 0; i < n; i++) {
		weft_sqltype_t t = es[i]->type;

		if (t != WEFT_S_NULL)
			all_null = false;
		if (weft_expr_isunk(t)) {
			any_unknown = true;
			continue;
		}
		if (p == WEFT_S_UNKNOWN) {
			p = t;
			first = i;
			continue;
		}
		if (t == p)
			continue;
		if (weft_expr_cat(t) != weft_expr_cat(p)) {
			weft_err_set(err, WEFT_ETYPE,
				     "%s types %s and %s cannot be matched",
				     context, weft_sqltype_name(p),
				     weft_sqltype_name(t));
			if (err != NULL)
				err->pos = es[i]->location;
			return WEFT_ETYPE;
		}
		if (weft_expr_implicit(p, t) && !weft_expr_implicit(t, p))
			p = t;
	}
	(void)first;
	(void)any_unknown;
	if (p == WEFT_S_UNKNOWN)
		p = all_null && n > 0 ? WEFT_S_TEXT : WEFT_S_TEXT;
	*out = p;
	return 0;
}

int
weft_expr_common(weft_expr_t **es, uint32_t n, const char *context,
		 weft_sqltype_t *out, weft_err_t *err)
{
	weft_sqltype_t t;
	uint32_t i;
	int rc = weft_expr_common_type(es, n, context, &t, err);

	if (rc != 0)
		return rc;
	for (i = 0; i < n; i++) {
		rc = weft_expr_cast_to(&es[i], t, false, err);
		if (rc != 0)
			return rc;
	}
	if (out != NULL)
		*out = t;
	return 0;
}

/* ---- typing ---- */

static const char *
weft_expr_opname(int op)
{
	static const char *const names[] = {"+", "-", "*", "/", "%", "-",
					    "=", "<>", "<", "<=", ">", ">=",
					    "||"};

	return op >= 0 && op <= WEFT_OP_CONCAT ? names[op] : "?";
}

static int
weft_expr_noop(const weft_expr_t *e, weft_sqltype_t l, weft_sqltype_t r,
	       weft_err_t *err)
{
	if (e->op == WEFT_OP_NEG)
		weft_err_set(err, WEFT_ETYPE, "operator does not exist: - %s",
			     weft_sqltype_name(l));
	else
		weft_err_set(err, WEFT_ETYPE,
			     "operator does not exist: %s %s %s",
			     weft_sqltype_name(l), weft_expr_opname(e->op),
			     weft_sqltype_name(r));
	if (err != NULL)
		err->pos = e->location;
	return WEFT_ETYPE;
}

static int
weft_expr_notunique(const weft_expr_t *e, weft_err_t *err)
{
	if (e->op == WEFT_OP_NEG)
		weft_err_set(err, WEFT_ETYPE,
			     "operator is not unique: - unknown");
	else
		weft_err_set(err, WEFT_ETYPE,
			     "operator is not unique: unknown %s unknown",
			     weft_expr_opname(e->op));
	if (err != NULL)
		err->pos = e->location;
	return WEFT_ETYPE;
}

/* Arithmetic signature for known types: operand and result types. */
static bool
weft_expr_arith_sig(int op, weft_sqltype_t l, weft_sqltype_t r,
		    weft_sqltype_t *lt, weft_sqltype_t *rt,
		    weft_sqltype_t *res)
{
	int rl = weft_expr_rank(l), rr = weft_expr_rank(r);

	if (rl && rr) {
		weft_sqltype_t m = rl > rr ? l : r;

		if (op == WEFT_OP_MOD && m == WEFT_S_FLOAT64)
			return false;
		*res = m;
		*lt = *rt = m;
		if (m == WEFT_S_INT64) /* int4 and int8 mix: same storage */
			*lt = l, *rt = r;
		return true;
	}
	*lt = l;
	*rt = r;
	if (l == WEFT_S_TIMESTAMP && r == WEFT_S_TIMESTAMP &&
	    op == WEFT_OP_SUB) {
		*res = WEFT_S_INTERVAL;
		return true;
	}
	if (l == WEFT_S_TIMESTAMP && r == WEFT_S_INTERVAL &&
	    (op == WEFT_OP_ADD || op == WEFT_OP_SUB)) {
		*res = WEFT_S_TIMESTAMP;
		return true;
	}
	if (l == WEFT_S_INTERVAL && r == WEFT_S_TIMESTAMP &&
	    op == WEFT_OP_ADD) {
		*res = WEFT_S_TIMESTAMP;
		return true;
	}
	if (l == WEFT_S_INTERVAL && r == WEFT_S_INTERVAL &&
	    (op == WEFT_OP_ADD || op == WEFT_OP_SUB)) {
		*res = WEFT_S_INTERVAL;
		return true;
	}
	if (l == WEFT_S_INTERVAL && rr &&
	    (op == WEFT_OP_MUL || op == WEFT_OP_DIV)) {
		*rt = WEFT_S_FLOAT64;
		*res = WEFT_S_INTERVAL;
		return true;
	}
	if (rl && r == WEFT_S_INTERVAL && op == WEFT_OP_MUL) {
		*lt = WEFT_S_FLOAT64;
		*res = WEFT_S_INTERVAL;
		return true;
	}
	return false;
}

static int
weft_expr_scale_arith(int op, int sa, int sb)
{
	if (sa < 0 || sb < 0)
		return -1;
	switch (op) {
	case WEFT_OP_ADD:
	case WEFT_OP_SUB:
	case WEFT_OP_MOD: return sa > sb ? sa : sb;
	case WEFT_OP_MUL: return sa + sb > 1000 ? 1000 : sa + sb;
	default: return -1;
	}
}

/* Scale a NUMERIC operand has: its own, or 0 for an integer. */
static int
weft_expr_nscale(const weft_expr_t *e)
{
	if (e->type == WEFT_S_INT32 || e->type == WEFT_S_INT64)
		return 0;
	return e->scale;
}

static int
weft_expr_type_arith(weft_expr_t *e, weft_err_t *err)
{
	weft_expr_t **a = e->args;
	weft_sqltype_t l = a[0]->type, r, lt, rt, res;
	int rc, sa, sb;

	if (e->op == WEFT_OP_NEG) {
		if (weft_expr_isunk(l))
			return weft_expr_notunique(e, err);
		if (!weft_expr_rank(l) && l != WEFT_S_INTERVAL)
			return weft_expr_noop(e, l, l, err);
		e->type = l;
		e->scale = l == WEFT_S_NUMERIC ? a[0]->scale : -1;
		return 0;
	}
	r = a[1]->type;
	if (weft_expr_isunk(l) && weft_expr_isunk(r))
		return weft_expr_notunique(e, err);
	if (weft_expr_isunk(l) || weft_expr_isunk(r)) {
		/* An unknown operand is taken as the other's type if that
		 * operator exists, else the one candidate there is. */
		weft_sqltype_t k = weft_expr_isunk(l) ? r : l;

		if (weft_expr_arith_sig(e->op, k, k, &lt, &rt, &res)) {
			l = weft_expr_isunk(l) ? k : l;
			r = weft_expr_isunk(r) ? k : r;
		} else if (k == WEFT_S_TIMESTAMP && e->op == WEFT_OP_ADD) {
			l = weft_expr_isunk(l) ? WEFT_S_INTERVAL : l;
			r = weft_expr_isunk(r) ? WEFT_S_INTERVAL : r;
		} else {
			return weft_expr_noop(e, a[0]->type, a[1]->type, err);
		}
		if ((rc = weft_expr_cast_to(&a[0], l, false, err)) != 0 ||
		    (rc = weft_expr_cast_to(&a[1], r, false, err)) != 0)
			return rc;
	}
	if (!weft_expr_arith_sig(e->op, l, r, &lt, &rt, &res))
		return weft_expr_noop(e, l, r, err);
	sa = weft_expr_nscale(a[0]);
	sb = weft_expr_nscale(a[1]);
	if ((rc = weft_expr_cast_to(&a[0], lt, true, err)) != 0 ||
	    (rc = weft_expr_cast_to(&a[1], rt, true, err)) != 0)
		return rc;
	e->type = res;
	e->scale = res == WEFT_S_NUMERIC ? weft_expr_scale_arith(e->op, sa, sb)
					 : -1;
	return 0;
}

/* Bring two comparison operands to one type; `ctx` is the operator
 * node for error messages. */
static int
weft_expr_type_cmp_pair(const weft_expr_t *ctx, weft_expr_t **a,
			weft_expr_t **b, weft_err_t *err)
{
	weft_sqltype_t l = (*a)->type, r = (*b)->type, t;
	int rc;

	if (weft_expr_isunk(l) && weft_expr_isunk(r))
		t = WEFT_S_TEXT;
	else if (weft_expr_isunk(l))
		t = r;
	else if (weft_expr_isunk(r))
		t = l;
	else if (l == r)
		t = l;
	else if (weft_expr_rank(l) && weft_expr_rank(r))
		t = weft_expr_rank(l) > weft_expr_rank(r) ? l : r;
	else
		return weft_expr_noop(ctx, l, r, err);
	if ((rc = weft_expr_cast_to(a, t, true, err)) != 0 ||
	    (rc = weft_expr_cast_to(b, t, true, err)) != 0)
		return rc;
	return 0;
}

static int
weft_expr_type_op(weft_expr_t *e, weft_err_t *err)
{
	weft_expr_t **a = e->args;
	int rc;

	if (e->op < WEFT_OP_ADD || e->op > WEFT_OP_CONCAT)
		return weft_err_set(err, WEFT_EINVAL, "unknown operator %d",
				    e->op);
	if ((e->op == WEFT_OP_NEG && e->nargs != 1) ||
	    (e->op != WEFT_OP_NEG && e->nargs != 2))
		return weft_err_set(err, WEFT_EINVAL,
				    "operator %s: wrong number of operands",
				    weft_expr_opname(e->op));
	switch (e->op) {
	case WEFT_OP_ADD:
	case WEFT_OP_SUB:
	case WEFT_OP_MUL:
	case WEFT_OP_DIV:
	case WEFT_OP_MOD:
	case WEFT_OP_NEG:
		return weft_expr_type_arith(e, err);
	case WEFT_OP_CONCAT: {
		weft_sqltype_t l = a[0]->type, r = a[1]->type;
		bool ls = l == WEFT_S_TEXT || weft_expr_isunk(l);
		bool rs = r == WEFT_S_TEXT || weft_expr_isunk(r);

		if (!ls && !rs)
			return weft_expr_noop(e, l, r, err);
		/* text || anynonarray: the other side goes through its
		 * output function */
		if (!ls)
			a[0] = weft_expr_cast(a[0], WEFT_S_TEXT, a[0]->location);
		if (!rs)
			a[1] = weft_expr_cast(a[1], WEFT_S_TEXT, a[1]->location);
		if (a[0] == NULL || a[1] == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		if ((rc = weft_expr_cast_to(&a[0], WEFT_S_TEXT, false,
					    err)) != 0 ||
		    (rc = weft_expr_cast_to(&a[1], WEFT_S_TEXT, false, err)) !=
			0)
			return rc;
		e->type = WEFT_S_TEXT;
		return 0;
	}
	default:
		rc = weft_expr_type_cmp_pair(e, &a[0], &a[1], err);
		if (rc != 0)
			return rc;
		e->type = WEFT_S_BOOL;
		return 0;
	}
}

static int
weft_expr_fn_noexist(const weft_expr_t *e, bool unique, weft_err_t *err)
{
	char buf[256];
	size_t o = 0;
	uint32_t i;

	buf[0] = 0;
	for (i = 0; i < e->nargs && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
				      i ? ", " : "",
				      weft_sqltype_name(e->args[i]->type));
	weft_err_set(err, WEFT_ETYPE, "function %s(%s) %s",
		     weft_expr_fname(e->op), buf,
		     unique ? "is not unique" : "does not exist");
	if (err != NULL)
		err->pos = e->location;
	return WEFT_ETYPE;
}

/*
 * PostgreSQL's function resolution (func_select_candidate), over the
 * signatures above: keep candidates every argument can be implicitly
 * coerced to; prefer most exact matches, then most preferred types where
 * a conversion is needed, then resolve unknown arguments by category
 * (string first, then a preferred type).
 */
static int
weft_expr_pick_sig(const weft_expr_t *e, const weft_expr_sig_t **out,
		   weft_err_t *err)
{
	const weft_expr_sig_t *cand[16];
	size_t ns = sizeof(weft_expr_sigs) / sizeof(*weft_expr_sigs), i;
	uint32_t nc = 0, k, j, best;
	int score[16];

	for (i = 0; i < ns; i++) {
		const weft_expr_sig_t *s = &weft_expr_sigs[i];
		bool ok = s->f == e->op && s->n == e->nargs;

		for (j = 0; ok && j < s->n; j++)
			ok = weft_expr_implicit(e->args[j]->type, s->a[j]);
		if (ok && nc < 16)
			cand[nc++] = s;
	}
	if (nc == 0)
		return weft_expr_fn_noexist(e, false, err);
	/* exact matches */
	for (k = 0, best = 0; k < nc; k++) {
		score[k] = 0;
		for (j = 0; j < e->nargs; j++)
			score[k] += e->args[j]->type == cand[k]->a[j];
		if ((uint32_t)score[k] > best)
			best = (uint32_t)score[k];
	}
	for (k = 0, j = 0; k < nc; k++)
		if ((uint32_t)score[k] == best)
			cand[j++] = cand[k];
	nc = j;
	/* preferred types where conversion is needed */
	if (nc > 1) {
		int b = -1;

		for (k = 0; k < nc; k++) {
			score[k] = 0;
			for (j = 0; j < e->nargs; j++) {
				weft_sqltype_t t = e->args[j]->type;

				if (!weft_expr_isunk(t) &&
				    t != cand[k]->a[j] &&
				    weft_expr_preferred(cand[k]->a[j]))
					score[k]++;
			}
			if (score[k] > b)
				b = score[k];
		}
		for (k = 0, j = 0; k < nc; k++)
			if (score[k] == b)
				cand[j++] = cand[k];
		nc = j;
	}
	/* unknown arguments */
	for (j = 0; j < e->nargs && nc > 1; j++) {
		int cat = 0;
		bool mixed = false, pref = false;

		if (!weft_expr_isunk(e->args[j]->type))
			continue;
		for (k = 0; k < nc; k++) {
			int c = weft_expr_cat(cand[k]->a[j]);

			if (c == 'S')
				cat = 'S';
		}
		if (cat == 0) {
			cat = weft_expr_cat(cand[0]->a[j]);
			for (k = 1; k < nc; k++)
				if (weft_expr_cat(cand[k]->a[j]) != cat)
					mixed = true;
			if (mixed)
				return weft_expr_fn_noexist(e, true, err);
		}
		for (k = 0, i = 0; k < nc; k++)
			if (weft_expr_cat(cand[k]->a[j]) == cat) {
				cand[i++] = cand[k];
				pref |= weft_expr_preferred(cand[k]->a[j]);
			}
		nc = (uint32_t)i;
		if (pref) {
			for (k = 0, i = 0; k < nc; k++)
				if (weft_expr_preferred(cand[k]->a[j]))
					cand[i++] = cand[k];
			nc = (uint32_t)i;
		}
	}
	if (nc != 1)
		return weft_expr_fn_noexist(e, true, err);
	*out = cand[0];
	return 0;
}

static int
weft_expr_type_func(weft_expr_t *e, weft_err_t *err)
{
	const weft_expr_sig_t *s = NULL;
	uint32_t i;
	int rc;

	if (e->op == WEFT_F_CONCAT) {
		for (i = 0; i < e->nargs; i++) {
			weft_expr_t *a = e->args[i];

			if (a->type == WEFT_S_TEXT)
				continue;
			if (!weft_expr_isunk(a->type) &&
			    a->kind != WEFT_E_CONST) {
				e->args[i] = weft_expr_cast(a, WEFT_S_TEXT,
							    a->location);
				if (e->args[i] == NULL)
					return weft_err_set(err, WEFT_ENOMEM,
							    "out of memory");
				e->args[i]->flags |= WEFT_EF_OUTFN;
				continue;
			}
			if (a->kind == WEFT_E_CONST && a->type == WEFT_S_BOOL &&
			    !a->cval.null) {
				weft_expr_t *t = weft_expr_str(
				    a->cval.u.b ? "t" : "f", 1, a->location);

				if (t == NULL)
					return weft_err_set(err, WEFT_ENOMEM,
							    "out of memory");
				weft_expr_free(a);
				e->args[i] = t;
			}
			rc = weft_expr_cast_to(&e->args[i], WEFT_S_TEXT, false,
					       err);
			if (rc != 0)
				return rc;
		}
		e->type = WEFT_S_TEXT;
		return 0;
	}
	rc = weft_expr_pick_sig(e, &s, err);
	if (rc != 0)
		return rc;
	for (i = 0; i < e->nargs; i++) {
		int sc = e->args[i]->scale;

		rc = weft_expr_cast_to(&e->args[i], s->a[i], false, err);
		if (rc != 0)
			return rc;
		if (s->a[i] == WEFT_S_NUMERIC && e->args[i]->scale < 0 &&
		    sc >= 0)
			e->args[i]->scale = sc;
	}
	e->type = s->r;
	e->scale = -1;
	if (e->type != WEFT_S_NUMERIC &&
	    !(e->op == WEFT_F_DATE_PART && (e->flags & WEFT_EF_EXTRACT)))
		return 0;
	switch (e->op) {
	case WEFT_F_ROUND:
		if (e->nargs == 1)
			e->scale = 0;
		else if (e->args[1]->kind == WEFT_E_CONST &&
			 !e->args[1]->cval.null)
			e->scale = e->args[1]->cval.u.i < 0
				       ? 0
				       : (int)(e->args[1]->cval.u.i > 1000
						   ? 1000
						   : e->args[1]->cval.u.i);
		break;
	case WEFT_F_FLOOR:
	case WEFT_F_CEIL:
	case WEFT_F_SIGN: e->scale = 0; break;
	case WEFT_F_ABS: e->scale = e->args[0]->scale; break;
	case WEFT_F_MOD:
		e->scale = weft_expr_scale_arith(WEFT_OP_MOD,
						 e->args[0]->scale,
						 e->args[1]->scale);
		break;
	case WEFT_F_DATE_PART: {
		const weft_expr_t *f = e->args[0];

		e->type = WEFT_S_NUMERIC;
		if (f->kind == WEFT_E_CONST && !f->cval.null) {
			const char *u = f->cval.u.s.p;

			if (!strcasecmp(u, "second") ||
			    !strcasecmp(u, "seconds") ||
			    !strcasecmp(u, "epoch"))
				e->scale = 6;
			else if (!strncasecmp(u, "millisecond", 11))
				e->scale = 3;
			else if (strcasecmp(u, "julian"))
				e->scale = 0;
		}
		break;
	}
	default: break;
	}
	return 0;
}

/* CASE x WHEN v THEN r -> CASE WHEN x = v THEN r. */
static int
weft_expr_case_searched(weft_expr_t *e, weft_err_t *err)
{
	weft_expr_t *x = e->args[0];
	uint32_t i, npairs;
	bool has_else = (e->flags & WEFT_EF_CASE_ELSE) != 0;
	int rc;

	npairs = (e->nargs - 1 - (has_else ? 1 : 0)) / 2;
	/* x is copied into every arm: nested CASE x WHEN ... would grow
	 * exponentially */
	if (npairs > 0 && weft_expr_nodes(x) > WEFT_FRAG_NODES_MAX / npairs) {
		rc = weft_err_set(err, WEFT_EINVAL, "expression too large (more "
				  "than %d nodes)", WEFT_FRAG_NODES_MAX);
		if (err != NULL)
			err->pos = e->location;
		return rc;
	}
	for (i = 0; i < npairs; i++) {
		weft_expr_t *args[2], *eq;

		args[0] = weft_expr_copy(x);
		args[1] = e->args[1 + 2 * i];
		if (args[0] == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		e->args[1 + 2 * i] = NULL;
		eq = weft_expr_node(WEFT_E_OP, WEFT_OP_EQ, 0, 2, args,
				    args[1]->location);
		if (eq == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		e->args[1 + 2 * i] = eq;
		rc = weft_expr_type_op(eq, err);
		if (rc != 0)
			return rc;
	}
	weft_expr_free(x);
	memmove(e->args, e->args + 1, (e->nargs - 1) * sizeof(*e->args));
	e->nargs--;
	e->flags &= ~WEFT_EF_CASE_OPERAND;
	return 0;
}

static int
weft_expr_type_case(weft_expr_t *e, weft_err_t *err)
{
	bool has_else;
	uint32_t i, npairs, nres = 0;
	weft_expr_t *res[1024];
	weft_sqltype_t t;
	int rc, scale = -2;

	if (e->flags & WEFT_EF_CASE_OPERAND) {
		if (e->nargs < 3)
			return weft_err_set(err, WEFT_EINVAL, "malformed CASE");
		rc = weft_expr_case_searched(e, err);
		if (rc != 0)
			return rc;
	}
	has_else = (e->flags & WEFT_EF_CASE_ELSE) != 0;
	npairs = (e->nargs - (has_else ? 1 : 0)) / 2;
	if (npairs == 0 || npairs * 2 + (has_else ? 1 : 0) != e->nargs ||
	    npairs >= 1000)
		return weft_err_set(err, WEFT_EINVAL, "malformed CASE");
	for (i = 0; i < npairs; i++) {
		rc = weft_expr_coerce_bool(&e->args[2 * i], "CASE/WHEN", err);
		if (rc != 0)
			return rc;
		res[nres++] = e->args[2 * i + 1];
	}
	if (has_else)
		res[nres++] = e->args[e->nargs - 1];
	rc = weft_expr_common_type(res, nres, "CASE", &t, err);
	if (rc != 0)
		return rc;
	for (i = 0; i < npairs; i++) {
		rc = weft_expr_cast_to(&e->args[2 * i + 1], t, false, err);
		if (rc != 0)
			return rc;
	}
	if (has_else) {
		rc = weft_expr_cast_to(&e->args[e->nargs - 1], t, false, err);
		if (rc != 0)
			return rc;
	}
	e->type = t;
	if (t == WEFT_S_NUMERIC) {
		for (i = 0; i < e->nargs; i++) {
			const weft_expr_t *r = e->args[i];

			if (i % 2 == 0 && !(has_else && i == e->nargs - 1))
				continue;
			if (r->kind == WEFT_E_CONST && r->cval.null)
				continue;
			if (scale == -2)
				scale = r->scale;
			else if (scale != r->scale)
				scale = -1;
		}
		e->scale = scale < 0 ? -1 : scale;
	}
	return 0;
}

static int
weft_expr_type_in(weft_expr_t *e, weft_err_t *err)
{
	weft_sqltype_t t;
	weft_err_t tmp = {0};
	int rc;

	if (e->nargs < 2)
		return weft_err_set(err, WEFT_EINVAL, "malformed IN");
	rc = weft_expr_common_type(e->args, e->nargs, "IN", &t, &tmp);
	if (rc != 0) {
		/* PostgreSQL falls back to x = v per element, whose
		 * operator lookup then fails */
		uint32_t i;

		for (i = 1; i < e->nargs; i++) {
			weft_sqltype_t l = e->args[0]->type,
				       r = e->args[i]->type;

			if (weft_expr_cat(l) != weft_expr_cat(r) &&
			    !weft_expr_isunk(l) && !weft_expr_isunk(r)) {
				weft_err_set(err, WEFT_ETYPE,
					     "operator does not exist: %s = %s",
					     weft_sqltype_name(l),
					     weft_sqltype_name(r));
				if (err != NULL)
					err->pos = e->location;
				return WEFT_ETYPE;
			}
		}
		if (err != NULL)
			*err = tmp;
		return rc;
	}
	rc = weft_expr_common(e->args, e->nargs, "IN", NULL, err);
	if (rc != 0)
		return rc;
	e->type = WEFT_S_BOOL;
	return 0;
}

static int
weft_expr_type_like(weft_expr_t *e, weft_err_t *err)
{
	uint32_t i;
	int rc;

	if (e->nargs < 2 || e->nargs > 3)
		return weft_err_set(err, WEFT_EINVAL, "malformed LIKE");
	for (i = 0; i < 2; i++) {
		weft_sqltype_t t = e->args[i]->type;

		if (t != WEFT_S_TEXT && !weft_expr_isunk(t)) {
			weft_err_set(err, WEFT_ETYPE,
				     "operator does not exist: %s %s %s",
				     weft_sqltype_name(e->args[0]->type),
				     (e->flags & WEFT_EF_ILIKE) ? "~~*" : "~~",
				     weft_sqltype_name(e->args[1]->type));
			if (err != NULL)
				err->pos = e->location;
			return WEFT_ETYPE;
		}
	}
	for (i = 0; i < e->nargs; i++) {
		rc = weft_expr_cast_to(&e->args[i], WEFT_S_TEXT, false, err);
		if (rc != 0)
			return rc;
	}
	e->type = WEFT_S_BOOL;
	return 0;
}

static int
weft_expr_type_node(weft_expr_t **slot, weft_err_t *err)
{
	weft_expr_t *e = *slot;
	uint32_t i;
	int rc;
	weft_sqltype_t t;

	for (i = 0; i < e->nargs; i++) {
		rc = weft_expr_type(&e->args[i], err);
		if (rc != 0)
			return rc;
	}
	switch (e->kind) {
	case WEFT_E_COL:
	case WEFT_E_CONST:
	case WEFT_E_PARAM:
		return 0;
	case WEFT_E_OP:
		return weft_expr_type_op(e, err);
	case WEFT_E_AND:
	case WEFT_E_OR:
	case WEFT_E_NOT:
		if (e->kind == WEFT_E_NOT && e->nargs != 1)
			return weft_err_set(err, WEFT_EINVAL, "malformed NOT");
		for (i = 0; i < e->nargs; i++) {
			rc = weft_expr_coerce_bool(
			    &e->args[i],
			    e->kind == WEFT_E_AND  ? "AND"
			    : e->kind == WEFT_E_OR ? "OR"
						   : "NOT",
			    err);
			if (rc != 0)
				return rc;
		}
		e->type = WEFT_S_BOOL;
		return 0;
	case WEFT_E_ISNULL:
		if (e->nargs != 1)
			return weft_err_set(err, WEFT_EINVAL,
					    "malformed IS NULL");
		e->type = WEFT_S_BOOL;
		return 0;
	case WEFT_E_IN:
		return weft_expr_type_in(e, err);
	case WEFT_E_LIKE:
		return weft_expr_type_like(e, err);
	case WEFT_E_CASE:
		return weft_expr_type_case(e, err);
	case WEFT_E_CAST:
		t = e->type != WEFT_S_NULL ? e->type : (weft_sqltype_t)e->op;
		if (e->nargs != 1 || t <= WEFT_S_NULL || t > WEFT_S_UNKNOWN)
			return weft_err_set(err, WEFT_EINVAL, "malformed CAST");
		e->type = t;
		e->op = (int)t;
		if (e->args[0]->type == t) {
			/* a no-op cast: keep the child */
			*slot = e->args[0];
			e->nargs = 0;
			weft_expr_free(e);
			return 0;
		}
		if (!weft_cast__allowed(e->args[0]->type, t, true)) {
			weft_err_set(err, WEFT_ETYPE,
				     "cannot cast type %s to %s",
				     weft_sqltype_name(e->args[0]->type),
				     weft_sqltype_name(t));
			if (err != NULL)
				err->pos = e->location;
			return WEFT_ETYPE;
		}
		{
			weft_expr_t *c = e->args[0];
			bool integral = weft_expr_rank(c->type) &&
					weft_expr_rank(c->type) < 3;

			if (c->kind == WEFT_E_CONST) {
				/* fold now: a bad literal fails at its
				 * position */
				*slot = c;
				e->nargs = 0;
				weft_expr_free(e);
				rc = weft_expr_cast_to(slot, t, false, err);
				if (rc == 0 && (*slot)->type == WEFT_S_NUMERIC &&
				    integral)
					(*slot)->scale = 0;
				return rc;
			}
			e->scale = t == WEFT_S_NUMERIC
				       ? (integral ? 0
					  : c->type == WEFT_S_NUMERIC
					      ? c->scale
					      : -1)
				       : -1;
		}
		return 0;
	case WEFT_E_FUNC:
		return weft_expr_type_func(e, err);
	case WEFT_E_COALESCE:
		if (e->nargs < 1)
			return weft_err_set(err, WEFT_EINVAL,
					    "malformed COALESCE");
		rc = weft_expr_common(e->args, e->nargs, "COALESCE", &t, err);
		if (rc != 0)
			return rc;
		e->type = t;
		if (t == WEFT_S_NUMERIC) {
			e->scale = e->args[0]->scale;
			for (i = 1; i < e->nargs; i++)
				if (e->args[i]->scale != e->scale &&
				    !(e->args[i]->kind == WEFT_E_CONST &&
				      e->args[i]->cval.null))
					e->scale = -1;
		}
		return 0;
	case WEFT_E_NULLIF:
		if (e->nargs != 2)
			return weft_err_set(err, WEFT_EINVAL,
					    "malformed NULLIF");
		{
			weft_expr_t fake = *e;

			fake.op = WEFT_OP_EQ;
			rc = weft_expr_type_cmp_pair(&fake, &e->args[0],
						     &e->args[1], err);
		}
		if (rc != 0)
			return rc;
		/* the result has the comparison's type; make it exact */
		t = e->args[0]->type;
		if (weft_expr_rank(e->args[1]->type) > weft_expr_rank(t))
			t = e->args[1]->type;
		if (weft_expr_isunk(t))
			t = WEFT_S_TEXT;
		rc = weft_expr_cast_to(&e->args[0], t, false, err);
		if (rc == 0)
			rc = weft_expr_cast_to(&e->args[1], t, false, err);
		e->type = t;
		e->scale = e->args[0]->scale;
		return rc;
	}
	return weft_err_set(err, WEFT_EINVAL, "unknown expression kind %d",
			    (int)e->kind);
}

static int
weft_expr_type(weft_expr_t **slot, weft_err_t *err)
{
	if (*slot == NULL)
		return weft_err_set(err, WEFT_EINVAL, "missing expression");
	return weft_expr_type_node(slot, err);
}

/* ---- folding ---- */

static bool
weft_expr_const_true(const weft_expr_t *e)
{
	return e->kind == WEFT_E_CONST && !e->cval.null &&
	       e->type == WEFT_S_BOOL && e->cval.u.b;
}

static bool
weft_expr_const_falsy(const weft_expr_t *e)
{
	return e->kind == WEFT_E_CONST &&
	       (e->cval.null || (e->type == WEFT_S_BOOL && !e->cval.u.b));
}

/* Remove args [i, i + k) from e, freeing them. */
static void
weft_expr_drop(weft_expr_t *e, uint32_t i, uint32_t k)
{
	uint32_t j;

	for (j = i; j < i + k; j++)
		weft_expr_free(e->args[j]);
	memmove(e->args + i, e->args + i + k,
		(e->nargs - i - k) * sizeof(*e->args));
	e->nargs -= k;
}

/* Replace *slot by its arg i. */
static void
weft_expr_hoist(weft_expr_t **slot, uint32_t i)
{
	weft_expr_t *e = *slot, *a = e->args[i];

	e->args[i] = NULL;
	weft_expr_free(e);
	*slot = a;
}

static int
weft_expr_null_of(weft_expr_t **slot, weft_sqltype_t t, int scale)
{
	weft_expr_t *n = weft_expr_null((*slot)->location);

	if (n == NULL)
		return WEFT_ENOMEM;
	n->type = n->cval.type = t;
	n->scale = scale;
	weft_expr_free(*slot);
	*slot = n;
	return 0;
}

static int
weft_expr_fold_case(weft_expr_t **slot, weft_err_t *err)
{
	weft_expr_t *e = *slot;
	bool has_else = (e->flags & WEFT_EF_CASE_ELSE) != 0;
	uint32_t i = 0;
	int rc;

	while (i + 1 < e->nargs || (!has_else && i < e->nargs)) {
		if (has_else && i == e->nargs - 1)
			break;
		rc = weft_expr_fold(&e->args[i], err);
		if (rc != 0)
			return rc;
		if (weft_expr_const_falsy(e->args[i])) {
			weft_expr_drop(e, i, 2);
			continue;
		}
		if (weft_expr_const_true(e->args[i])) {
			/* this arm wins: it becomes the ELSE */
			weft_expr_drop(e, i + 2, e->nargs - i - 2);
			weft_expr_drop(e, i, 1);
			has_else = true;
			e->flags |= WEFT_EF_CASE_ELSE;
			break;
		}
		rc = weft_expr_fold(&e->args[i + 1], err);
		if (rc != 0)
			return rc;
		i += 2;
	}
	if (has_else) {
		rc = weft_expr_fold(&e->args[e->nargs - 1], err);
		if (rc != 0)
			return rc;
	}
	if (e->nargs == 0)
		return weft_expr_null_of(slot, e->type, e->scale);
	if (e->nargs == 1 && has_else)
		weft_expr_hoist(slot, 0);
	return 0;
}

static int
weft_expr_fold(weft_expr_t **slot, weft_err_t *err)
{
	weft_expr_t *e = *slot;
	uint32_t i;
	int rc, scale;
	bool all = true;

	switch (e->kind) {
	case WEFT_E_COL:
	case WEFT_E_CONST:
	case WEFT_E_PARAM:
		return 0;
	case WEFT_E_CASE:
		return weft_expr_fold_case(slot, err);
	case WEFT_E_COALESCE:
		for (i = 0; i < e->nargs;) {
			rc = weft_expr_fold(&e->args[i], err);
			if (rc != 0)
				return rc;
			if (e->args[i]->kind == WEFT_E_CONST) {
				if (e->args[i]->cval.null) {
					weft_expr_drop(e, i, 1);
					continue;
				}
				weft_expr_drop(e, i + 1, e->nargs - i - 1);
				break;
			}
			i++;
		}
		if (e->nargs == 0)
			return weft_expr_null_of(slot, e->type, e->scale);
		if (e->nargs == 1)
			weft_expr_hoist(slot, 0);
		return 0;
	default:
		break;
	}
	for (i = 0; i < e->nargs; i++) {
		rc = weft_expr_fold(&e->args[i], err);
		if (rc != 0)
			return rc;
		all = all && e->args[i]->kind == WEFT_E_CONST;
	}
	if (e->kind == WEFT_E_AND || e->kind == WEFT_E_OR) {
		bool is_and = e->kind == WEFT_E_AND;

		for (i = 0; i < e->nargs;) {
			weft_expr_t *a = e->args[i];

			if (a->kind == WEFT_E_CONST && !a->cval.null &&
			    a->cval.u.b != is_and) {
				weft_expr_t *c = weft_expr_bool(!is_and,
								e->location);

				if (c == NULL)
					return WEFT_ENOMEM;
				weft_expr_free(e);
				*slot = c;
				return 0;
			}
			if (a->kind == WEFT_E_CONST && !a->cval.null) {
				weft_expr_drop(e, i, 1);
				continue;
			}
			i++;
		}
		if (e->nargs == 0) {
			weft_expr_t *c = weft_expr_bool(is_and, e->location);

			if (c == NULL)
				return WEFT_ENOMEM;
			weft_expr_free(e);
			*slot = c;
			return 0;
		}
		if (e->nargs == 1)
			weft_expr_hoist(slot, 0);
		return 0;
	}
	if (!all || (e->kind == WEFT_E_FUNC && e->op == WEFT_F_NOW))
		return 0;
	scale = e->scale;
	if (e->kind == WEFT_E_OP && e->op == WEFT_OP_DIV &&
	    e->type == WEFT_S_NUMERIC && !e->args[0]->cval.null &&
	    !e->args[1]->cval.null)
		scale = weft_numeric_div_scale(
		    e->args[0]->cval.u.f, weft_expr_nscale(e->args[0]),
		    e->args[1]->cval.u.f, weft_expr_nscale(e->args[1]));
	return weft_expr_to_const(slot, scale, err);
}

int
weft_numeric_div_scale(double x, int sx, double y, int sy)
{
	int w1 = 0, w2 = 0, q, r;
	double f1 = 0, f2 = 1;

	if (isfinite(x) && x != 0) {
		int e = (int)floor(log10(fabs(x)));

		w1 = e >= 0 ? e / 4 : -((-e + 3) / 4);
		f1 = floor(fabs(x) / pow(10000, w1));
	}
	if (isfinite(y) && y != 0) {
		int e = (int)floor(log10(fabs(y)));

		w2 = e >= 0 ? e / 4 : -((-e + 3) / 4);
		f2 = floor(fabs(y) / pow(10000, w2));
	}
	q = w1 - w2;
	if (f1 <= f2)
		q--;
	r = 16 - q * 4;
	if (sx > r)
		r = sx;
	if (sy > r)
		r = sy;
	if (r < 0)
		r = 0;
	if (r > 1000)
		r = 1000;
	return r;
}

int
weft_expr_resolve(weft_expr_t **e, weft_err_t *err)
{
	int rc = weft_expr_type(e, err);

	if (rc != 0)
		return rc;
	return weft_expr_fold(e, err);
}

/* ---- constant evaluation ---- */

int
weft_expr_eval_const(const weft_expr_t *e, int64_t now, weft_value_t *out,
		     weft_err_t *err)
{
	weft_batch_t in = {.n = 1};
	weft_arena_t *arena = weft_arena_new();
	weft_vec_t v = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	out->type = e->type;
	out->null = true;
	if (arena == NULL || weft_vec_init(&v, e->type) != 0) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	rc = weft_expr_eval(e, &in, &v, arena, now, err);
	if (rc != 0)
		goto out;
	out->null = v.nulls[0] != 0;
	if (out->null)
		goto out;
	switch (e->type) {
	case WEFT_S_BOOL: out->u.b = v.v.b[0]; break;
	case WEFT_S_FLOAT64:
	case WEFT_S_NUMERIC: out->u.f = v.v.f64[0]; break;
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN: {
		char *p = malloc((size_t)v.v.s[0].len + 1);

		if (p == NULL) {
			out->null = true;
			rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
			goto out;
		}
		if (v.v.s[0].len)
			memcpy(p, v.v.s[0].p, v.v.s[0].len);
		p[v.v.s[0].len] = 0;
		out->u.s.p = p;
		out->u.s.len = v.v.s[0].len;
		break;
	}
	case WEFT_S_NULL: out->null = true; break;
	default: out->u.i = v.v.i64[0]; break;
	}
out:
	weft_vec_release(&v);
	weft_arena_free(arena);
	return rc;
}

/* ---- printing ---- */

static void
weft_expr_print_const(const weft_expr_t *e, FILE *f)
{
	weft_vec_t v = {0};
	uint8_t nul = e->cval.null;
	int64_t i = 0;
	double d = 0;
	uint8_t b = 0;
	char buf[128];

	/* Read only the union member the type uses. */
	if (e->type == WEFT_S_BOOL)
		b = e->cval.u.b;
	else if (e->type == WEFT_S_FLOAT64 || e->type == WEFT_S_NUMERIC)
		d = e->cval.u.f;
	else if (e->type != WEFT_S_TEXT && e->type != WEFT_S_UNKNOWN)
		i = e->cval.u.i;
	if (e->cval.null) {
		fputs("NULL", f);
		return;
	}
	v.type = e->type;
	v.nulls = &nul;
	v.has_scale = e->scale >= 0;
	v.scale = (int16_t)(e->scale < 0 ? 0 : e->scale);
	switch (e->type) {
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN: {
		uint32_t k;

		fputc('\'', f);
		for (k = 0; k < e->cval.u.s.len; k++) {
			if (e->cval.u.s.p[k] == '\'')
				fputc('\'', f);
			fputc(e->cval.u.s.p[k], f);
		}
		fputc('\'', f);
		if (e->type == WEFT_S_TEXT)
			fputs("::text", f);
		return;
	}
	case WEFT_S_BOOL:
		fputs(b ? "true" : "false", f);
		return;
	case WEFT_S_FLOAT64:
	case WEFT_S_NUMERIC: v.v.f64 = &d; break;
	default: v.v.i64 = &i; break;
	}
	weft_value_format(e->type, &v, 0, buf, sizeof(buf));
	if (e->type == WEFT_S_TIMESTAMP || e->type == WEFT_S_INTERVAL ||
	    e->type == WEFT_S_FLOAT64 || e->type == WEFT_S_INT64)
		fprintf(f, "'%s'::%s", buf, weft_sqltype_name(e->type));
	else
		fputs(buf, f);
}

static void
weft_expr_print_args(const weft_expr_t *e, uint32_t from,
		     const char *const *names, FILE *f)
{
	uint32_t i;

	for (i = from; i < e->nargs; i++) {
		if (i > from)
			fputs(", ", f);
		weft_expr_print(e->args[i], names, f);
	}
}

void
weft_expr_print(const weft_expr_t *e, const char *const *col_names,
		void *file)
{
	FILE *f = file;
	uint32_t i;

	if (e == NULL) {
		fputs("?", f);
		return;
	}
	switch (e->kind) {
	case WEFT_E_COL:
		if (col_names != NULL && col_names[e->col] != NULL)
			fputs(col_names[e->col], f);
		else
			fprintf(f, "$%u", e->col);
		return;
	case WEFT_E_CONST:
		weft_expr_print_const(e, f);
		return;
	case WEFT_E_PARAM:
		fputs("$?", f);
		return;
	case WEFT_E_OP:
		if (e->op == WEFT_OP_NEG) {
			fputs("(- ", f);
			weft_expr_print(e->args[0], col_names, f);
			fputc(')', f);
			return;
		}
		fputc('(', f);
		weft_expr_print(e->args[0], col_names, f);
		fprintf(f, " %s ", weft_expr_opname(e->op));
		weft_expr_print(e->args[1], col_names, f);
		fputc(')', f);
		return;
	case WEFT_E_AND:
	case WEFT_E_OR:
		fputc('(', f);
		for (i = 0; i < e->nargs; i++) {
			if (i)
				fputs(e->kind == WEFT_E_AND ? " AND " : " OR ",
				      f);
			weft_expr_print(e->args[i], col_names, f);
		}
		fputc(')', f);
		return;
	case WEFT_E_NOT:
		fputs("(NOT ", f);
		weft_expr_print(e->args[0], col_names, f);
		fputc(')', f);
		return;
	case WEFT_E_ISNULL:
		fputc('(', f);
		weft_expr_print(e->args[0], col_names, f);
		fputs((e->flags & WEFT_EF_NOT) ? " IS NOT NULL)" : " IS NULL)",
		      f);
		return;
	case WEFT_E_IN:
		fputc('(', f);
		weft_expr_print(e->args[0], col_names, f);
		fputs((e->flags & WEFT_EF_NOT) ? " NOT IN (" : " IN (", f);
		weft_expr_print_args(e, 1, col_names, f);
		fputs("))", f);
		return;
	case WEFT_E_LIKE:
		fputc('(', f);
		weft_expr_print(e->args[0], col_names, f);
		fprintf(f, " %s%s ", (e->flags & WEFT_EF_NOT) ? "NOT " : "",
			(e->flags & WEFT_EF_ILIKE) ? "ILIKE" : "LIKE");
		weft_expr_print(e->args[1], col_names, f);
		if (e->nargs > 2) {
			fputs(" ESCAPE ", f);
			weft_expr_print(e->args[2], col_names, f);
		}
		fputc(')', f);
		return;
	case WEFT_E_CASE: {
		bool has_else = (e->flags & WEFT_EF_CASE_ELSE) != 0;
		uint32_t start = 0;

		fputs("CASE", f);
		if (e->flags & WEFT_EF_CASE_OPERAND) {
			fputc(' ', f);
			weft_expr_print(e->args[0], col_names, f);
			start = 1;
		}
		for (i = start; i + 1 < e->nargs + (has_else ? 0 : 1) &&
				i + 1 < e->nargs;
		     i += 2) {
			if (has_else && i == e->nargs - 1)
				break;
			fputs(" WHEN ", f);
			weft_expr_print(e->args[i], col_names, f);
			fputs(" THEN ", f);
			weft_expr_print(e->args[i + 1], col_names, f);
		}
		if (has_else) {
			fputs(" ELSE ", f);
			weft_expr_print(e->args[e->nargs - 1], col_names, f);
		}
		fputs(" END", f);
		return;
	}
	case WEFT_E_CAST:
		fputc('(', f);
		weft_expr_print(e->args[0], col_names, f);
		fprintf(f, ")::%s", weft_sqltype_name(e->type));
		return;
	case WEFT_E_FUNC:
		if (e->op == WEFT_F_DATE_PART && (e->flags & WEFT_EF_EXTRACT))
			fputs("EXTRACT(", f);
		else
			fprintf(f, "%s(", weft_expr_fname(e->op));
		weft_expr_print_args(e, 0, col_names, f);
		fputc(')', f);
		return;
	case WEFT_E_COALESCE:
		fputs("COALESCE(", f);
		weft_expr_print_args(e, 0, col_names, f);
		fputc(')', f);
		return;
	case WEFT_E_NULLIF:
		fputs("NULLIF(", f);
		weft_expr_print_args(e, 0, col_names, f);
		fputc(')', f);
		return;
	}
}
