/*
 * expr.c: expression trees as data: construction, copying, freeing and
 * the walks the planner and executor share; the function table (names
 * and ids); constant evaluation; and EXPLAIN printing. PostgreSQL's
 * typing rules (weft_expr_resolve) are in expr_type.c.
 *
 * Invariants: a tree owns its nodes, their argument arrays and the text
 * of its constants; weft_expr_copy copies all of it (a constant's type,
 * scale and flags included).
 */
#include "query/expr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if ((v->type == WEFT_S_TEXT || v->type == WEFT_S_UNKNOWN) && !v->null) {
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
	    weft_cast__parse(WEFT_S_INT64, text, len, &v, &scale, NULL) == 0) {
		v.type = v.u.i >= INT32_MIN && v.u.i <= INT32_MAX
			     ? WEFT_S_INT32
			     : WEFT_S_INT64;
		return weft_expr_const(&v, location);
	}
	if (weft_cast__parse(WEFT_S_NUMERIC, text, len, &v, &scale, NULL) != 0)
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
	weft_expr_t *e =
	    weft_expr_node(WEFT_E_CAST, (int)to, 0, 1, &arg, location);

	if (e != NULL)
		e->type = to;
	return e;
}

void
weft_value_clear(weft_value_t *v)
{
	if ((v->type == WEFT_S_TEXT || v->type == WEFT_S_UNKNOWN) && !v->null)
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
	free(e->aux);
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
	c->aux = NULL;
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
    {"lower", WEFT_F_LOWER},
    {"upper", WEFT_F_UPPER},
    {"length", WEFT_F_LENGTH},
    {"char_length", WEFT_F_LENGTH},
    {"character_length", WEFT_F_LENGTH},
    {"substr", WEFT_F_SUBSTR},
    {"substring", WEFT_F_SUBSTR},
    {"btrim", WEFT_F_BTRIM},
    {"trim", WEFT_F_BTRIM},
    {"ltrim", WEFT_F_LTRIM},
    {"rtrim", WEFT_F_RTRIM},
    {"concat", WEFT_F_CONCAT},
    {"replace", WEFT_F_REPLACE},
    {"left", WEFT_F_LEFT},
    {"right", WEFT_F_RIGHT},
    {"strpos", WEFT_F_STRPOS},
    /* position(sub IN s) reaches us as position(s, sub), strpos's order */
    {"position", WEFT_F_STRPOS},
    {"abs", WEFT_F_ABS},
    {"round", WEFT_F_ROUND},
    {"floor", WEFT_F_FLOOR},
    {"ceil", WEFT_F_CEIL},
    {"ceiling", WEFT_F_CEIL},
    {"mod", WEFT_F_MOD},
    {"power", WEFT_F_POWER},
    {"pow", WEFT_F_POWER},
    {"sqrt", WEFT_F_SQRT},
    {"sign", WEFT_F_SIGN},
    {"date_trunc", WEFT_F_DATE_TRUNC},
    {"date_part", WEFT_F_DATE_PART},
    {"extract", WEFT_F_DATE_PART},
    {"now", WEFT_F_NOW},
    {"current_timestamp", WEFT_F_NOW},
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

const char *
weft_expr__fname(int f)
{
	size_t i;

	for (i = 0; i < sizeof(weft_expr_fnames) / sizeof(*weft_expr_fnames);
	     i++)
		if (weft_expr_fnames[i].f == f)
			return weft_expr_fnames[i].name;
	return "?";
}

const char *
weft_expr__opname(int op)
{
	static const char *const names[] = {
	    "+",  "-", "*",  "/", "%",	"-", "=",
	    "<>", "<", "<=", ">", ">=", "||"};

	return op >= 0 && op <= WEFT_OP_CONCAT ? names[op] : "?";
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
	case WEFT_S_BOOL: fputs(b ? "true" : "false", f); return;
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

/* NAME(arg, ...). */
static void
weft_expr_print_call(const char *name, const weft_expr_t *e,
		     const char *const *names, FILE *f)
{
	fprintf(f, "%s(", name);
	weft_expr_print_args(e, 0, names, f);
	fputc(')', f);
}

/* CASE [x] WHEN w THEN r ... [ELSE z] END. */
static void
weft_expr_print_case(const weft_expr_t *e, const char *const *names, FILE *f)
{
	bool has_else = (e->flags & WEFT_EF_CASE_ELSE) != 0;
	uint32_t i, start = 0;

	fputs("CASE", f);
	if (e->flags & WEFT_EF_CASE_OPERAND) {
		fputc(' ', f);
		weft_expr_print(e->args[0], names, f);
		start = 1;
	}
	for (i = start;
	     i + 1 < e->nargs + (has_else ? 0 : 1) && i + 1 < e->nargs;
	     i += 2) {
		if (has_else && i == e->nargs - 1)
			break;
		fputs(" WHEN ", f);
		weft_expr_print(e->args[i], names, f);
		fputs(" THEN ", f);
		weft_expr_print(e->args[i + 1], names, f);
	}
	if (has_else) {
		fputs(" ELSE ", f);
		weft_expr_print(e->args[e->nargs - 1], names, f);
	}
	fputs(" END", f);
}

void
weft_expr_print(const weft_expr_t *e, const char *const *col_names, void *file)
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
	case WEFT_E_CONST: weft_expr_print_const(e, f); return;
	case WEFT_E_PARAM: fputs("$?", f); return;
	case WEFT_E_OP:
		if (e->op == WEFT_OP_NEG) {
			fputs("(- ", f);
			weft_expr_print(e->args[0], col_names, f);
			fputc(')', f);
			return;
		}
		fputc('(', f);
		weft_expr_print(e->args[0], col_names, f);
		fprintf(f, " %s ", weft_expr__opname(e->op));
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
	case WEFT_E_CASE: weft_expr_print_case(e, col_names, f); return;
	case WEFT_E_CAST:
		fputc('(', f);
		weft_expr_print(e->args[0], col_names, f);
		fprintf(f, ")::%s", weft_sqltype_name(e->type));
		return;
	case WEFT_E_FUNC:
		weft_expr_print_call(e->op == WEFT_F_DATE_PART &&
					     (e->flags & WEFT_EF_EXTRACT)
					 ? "EXTRACT"
					 : weft_expr__fname(e->op),
				     e, col_names, f);
		return;
	case WEFT_E_COALESCE:
		weft_expr_print_call("COALESCE", e, col_names, f);
		return;
	case WEFT_E_NULLIF:
		weft_expr_print_call("NULLIF", e, col_names, f);
		return;
	}
}
