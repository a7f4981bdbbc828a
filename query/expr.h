/*
 * expr.h: scalar expressions: the tree the binder builds, PostgreSQL's
 * typing rules (weft_expr_resolve) and vectorised evaluation over a batch
 * (weft_expr_eval), with PostgreSQL's semantics for NULL, integer
 * arithmetic (overflow is an error, division truncates, division by zero
 * is an error), comparison and text.
 *
 * Ownership: a tree is built with weft_expr_new*() and freed with
 * weft_expr_free(), which frees the node, its args and any text constant.
 *
 * Resolution may rewrite the tree: constant subtrees are folded (as
 * PostgreSQL's planner does, so `1/0` fails at resolve time), CASE x WHEN
 * v is rewritten to CASE WHEN x = v, NULLIF's operands get the comparison
 * type (which is also its result type, as in PostgreSQL), and casts are
 * inserted where operand storage differs. Implemented in query/expr.c
 * (trees, printing), query/expr_type.c (typing, folding), query/func.c
 * and func_text.c (evaluation) and query/cast.c (casts, text input and
 * output).
 *
 * Known differences from PostgreSQL: NUMERIC is a double (15-17
 * significant digits; scale tracked statically, see vec.h); INTERVAL has
 * no months or years; timestamp input accepts the formats of
 * weft_value_ts (ISO dates and times; a zone suffix is applied rather than
 * ignored); upper/lower cover Latin-1, Latin Extended-A, Greek and
 * Cyrillic; text compares bytewise (the C collation).
 */
#ifndef WEFT_QUERY_EXPR_H
#define WEFT_QUERY_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "query/vec.h"

typedef enum weft_expr_kind {
	WEFT_E_COL,   /* input column `col` of the batch */
	WEFT_E_CONST, /* cval */
	WEFT_E_PARAM, /* reserved */
	WEFT_E_OP,    /* operator `op` (weft_op_t) over args */
	WEFT_E_AND,   /* n-ary, three-valued */
	WEFT_E_OR,    /* n-ary, three-valued */
	WEFT_E_NOT,
	WEFT_E_ISNULL, /* flags & WEFT_EF_NOT: IS NOT NULL */
	WEFT_E_IN,     /* args[0] IN (args[1..]); WEFT_EF_NOT: NOT IN */
	WEFT_E_LIKE,   /* args[0] LIKE args[1]; WEFT_EF_ILIKE, WEFT_EF_NOT */
	WEFT_E_CASE,   /* args: [operand?] (when, then)* [else]; see flags */
	WEFT_E_CAST,   /* args[0] cast to `type` */
	WEFT_E_FUNC,   /* function `op` (weft_func_t) over args */
	WEFT_E_COALESCE,
	WEFT_E_NULLIF,
} weft_expr_kind_t;

enum {
	WEFT_EF_NOT = 1,
	WEFT_EF_ILIKE = 2,
	WEFT_EF_CASE_OPERAND = 4, /* CASE x WHEN ...: args[0] is x */
	WEFT_EF_CASE_ELSE = 8,	  /* last arg is the ELSE */
	WEFT_EF_EXTRACT = 16,	  /* DATE_PART written as EXTRACT(f FROM x):
				   * numeric result (PostgreSQL 14+), where
				   * date_part() returns double precision */
	WEFT_EF_OUTFN = 32,	  /* CAST to text through the output function
				   * (concat(true) gives t, true::text true) */
};

typedef enum weft_op {
	WEFT_OP_ADD,
	WEFT_OP_SUB,
	WEFT_OP_MUL,
	WEFT_OP_DIV,
	WEFT_OP_MOD,
	WEFT_OP_NEG,
	WEFT_OP_EQ,
	WEFT_OP_NE,
	WEFT_OP_LT,
	WEFT_OP_LE,
	WEFT_OP_GT,
	WEFT_OP_GE,
	WEFT_OP_CONCAT, /* || : NULL if either side is NULL */
} weft_op_t;

typedef enum weft_func {
	WEFT_F_LOWER,
	WEFT_F_UPPER,
	WEFT_F_LENGTH,
	WEFT_F_SUBSTR,
	WEFT_F_BTRIM,
	WEFT_F_LTRIM,
	WEFT_F_RTRIM,
	WEFT_F_CONCAT, /* concat(): NULL arguments are skipped */
	WEFT_F_REPLACE,
	WEFT_F_LEFT,
	WEFT_F_RIGHT,
	WEFT_F_STRPOS,
	WEFT_F_ABS,
	WEFT_F_ROUND,
	WEFT_F_FLOOR,
	WEFT_F_CEIL,
	WEFT_F_MOD,
	WEFT_F_POWER,
	WEFT_F_SQRT,
	WEFT_F_SIGN,
	WEFT_F_DATE_TRUNC,
	WEFT_F_DATE_PART, /* extract(field from x) too */
	WEFT_F_NOW,
	/* a policy's hash mask (query/func_mask.c): no SQL name, made only
	 * by the owner's rewrite of a fragment (query/serve_rewrite.c) */
	WEFT_F_MASK_HASH,
	WEFT_F__COUNT
} weft_func_t;

/* A constant. TEXT/UNKNOWN constants own s.p (malloc'd, NUL-terminated). */
typedef struct weft_value {
	weft_sqltype_t type;
	bool null;
	union {
		int64_t i; /* INT32, INT64, TIMESTAMP, INTERVAL */
		double f;  /* FLOAT64, NUMERIC */
		bool b;
		weft_str_t s;
	} u;
} weft_value_t;

typedef struct weft_expr {
	weft_expr_kind_t kind;
	weft_sqltype_t type; /* result type, set by weft_expr_resolve */
	int op;		     /* weft_op_t or weft_func_t */
	int flags;	     /* WEFT_EF_* */
	uint32_t col;	     /* WEFT_E_COL */
	weft_value_t cval;   /* WEFT_E_CONST */
	uint32_t nargs;
	struct weft_expr **args;
	int location; /* 1-based position in the SQL text, 0 unknown */
	int scale;    /* NUMERIC display scale, -1 when not known
		       * (see weft_vec_t); copied to the output
		       * vector by weft_expr_eval */
	void *aux;    /* built on first evaluation (a long IN list's hash
		       * set, query/func_in.c): one malloc'd block, freed
		       * with the expression, never copied */
} weft_expr_t;

/*
 * Constructors; NULL on allocation failure. A string constant is copied
 * and typed WEFT_S_UNKNOWN (PostgreSQL's untyped literal). weft_expr_node
 * takes ownership of args[0..nargs) on success and on failure (it frees
 * them), and copies the args array itself.
 *
 * How the binder spells some constructs:
 *   CAST(x AS t), x::t       weft_expr_cast(x, t) (kind CAST, type = t)
 *   extract(f FROM x)        FUNC DATE_PART ('f' string, x), EXTRACT flag
 *   trim([both] [c] FROM s)  FUNC BTRIM (s[, c]); leading: LTRIM ...
 *   x LIKE p ESCAPE c        LIKE with a third argument c (one char or '')
 *   CASE [x] WHEN w THEN r.. args [x] w1 r1 w2 r2 .. [else], with flags
 *   BETWEEN, IS TRUE, ...    build them from AND/OR/comparisons
 * A bare NULL literal is weft_expr_null() (type NULL, which PostgreSQL
 * treats as unknown).
 */
weft_expr_t *weft_expr_col(uint32_t col, weft_sqltype_t type, int location);
weft_expr_t *weft_expr_const(const weft_value_t *v, int location);
weft_expr_t *weft_expr_str(const char *s, size_t len, int location);
weft_expr_t *weft_expr_node(weft_expr_kind_t kind, int op, int flags,
			    uint32_t nargs, weft_expr_t **args, int location);
/* A numeric literal as PostgreSQL's scanner types it: digits only ->
 * integer (int4) if it fits, else bigint, else numeric; with '.' or an
 * exponent -> numeric with the written scale (1.50 has scale 2). The sign
 * is not part of the literal (the binder folds `-` over it: -2147483648 is
 * an integer in PostgreSQL). NULL on allocation failure or bad text. */
weft_expr_t *weft_expr_number(const char *text, int location);
weft_expr_t *weft_expr_null(int location);
weft_expr_t *weft_expr_bool(bool b, int location);
weft_expr_t *weft_expr_int(int64_t i, weft_sqltype_t type, int location);
/* CAST(arg AS to); takes arg (freed on failure). */
weft_expr_t *weft_expr_cast(weft_expr_t *arg, weft_sqltype_t to, int location);
void weft_expr_free(weft_expr_t *e);
/* Free v[0..n) and the array v itself; v may be NULL. */
void weft_expr_free_array(weft_expr_t **v, uint32_t n);
weft_expr_t *weft_expr_copy(const weft_expr_t *e);
/* Free a value's text (TEXT/UNKNOWN) and mark it NULL. */
void weft_value_clear(weft_value_t *v);

/* Look a function up by (lower-case) name; -1 if unknown. */
int weft_func_lookup(const char *name);

/*
 * Type the tree bottom-up with PostgreSQL's rules: pick operator and
 * function signatures, insert implicit casts (int32 -> int64 -> numeric ->
 * float64; unknown literals coerced to the other side's type, so
 * 'abc' + 1 fails with PostgreSQL's "invalid input syntax for type
 * integer: "abc""), fold constant casts. Errors carry err->pos (the
 * node's location) and PostgreSQL's wording, e.g.
 * "operator does not exist: text + integer".
 */
int weft_expr_resolve(weft_expr_t **e, weft_err_t *err);

/*
 * Helpers for the binder, all on resolved trees; each may replace *e
 * (a cast wrapped around it, or a folded constant).
 *
 * weft_expr_coerce_bool: the argument of WHERE, HAVING, ... must be
 * boolean: an unknown literal or NULL is coerced ('t' works), anything
 * else fails with "argument of <construct> must be type boolean, not type
 * integer" at the expression's location.
 *
 * weft_expr_coerce: implicit coercion to `to` (unknown/NULL to anything,
 * integer -> bigint -> numeric -> double precision); `what` names the
 * context for the error ("column \"x\" is of type ..."), may be NULL.
 *
 * weft_expr_common: PostgreSQL's select_common_type over n expressions
 * (UNION, VALUES, CASE, COALESCE, IN): all unknown -> text; otherwise the
 * types must share a category and the most general wins; every
 * expression is coerced to it. `context` names the construct for the
 * error "<context> types integer and text cannot be matched". If
 * `out` is not NULL it receives the type.
 *
 * weft_expr_finish: a select-list expression: an unknown literal becomes
 * text (PostgreSQL prints `SELECT 'a'` as a text column).
 */
int weft_expr_coerce_bool(weft_expr_t **e, const char *construct,
			  weft_err_t *err);
int weft_expr_coerce(weft_expr_t **e, weft_sqltype_t to, weft_err_t *err);
int weft_expr_common(weft_expr_t **es, uint32_t n, const char *context,
		     weft_sqltype_t *out, weft_err_t *err);
int weft_expr_finish(weft_expr_t **e, weft_err_t *err);

/*
 * Walks over a tree (e may be NULL where it makes sense):
 * weft_expr_refs sets used[c] = 1 for every column c < n that e reads;
 * weft_expr_remap rewrites every column c to map[c] (which must be valid);
 * weft_expr_uses_range: does e read a column in [lo, hi)?
 * weft_expr_equal: are a and b the same tree (kinds, types, operators,
 * flags, columns and constants, bit for bit; locations and scales aside)?
 */
void weft_expr_refs(const weft_expr_t *e, uint8_t *used, uint32_t n);
void weft_expr_remap(weft_expr_t *e, const uint32_t *map);
bool weft_expr_uses_range(const weft_expr_t *e, uint32_t lo, uint32_t hi);
bool weft_expr_equal(const weft_expr_t *a, const weft_expr_t *b);
/* Nodes of e, and its levels (a leaf is one level). */
uint32_t weft_expr_nodes(const weft_expr_t *e);
uint32_t weft_expr_depth(const weft_expr_t *e);

/* True if e is a constant (after resolve, constant subtrees are folded,
 * except now()). */
bool weft_expr_is_const(const weft_expr_t *e);

/*
 * Evaluate an expression without column references (e.g. LIMIT 2 + 3)
 * into *out. Text results are malloc'd into out (free with
 * weft_value_clear). Errors as weft_expr_eval.
 */
int weft_expr_eval_const(const weft_expr_t *e, int64_t now, weft_value_t *out,
			 weft_err_t *err);

/*
 * Evaluate e over the in->n rows of in into out (initialised with
 * weft_vec_init for e->type). Text results are allocated in arena. `now`
 * is the statement's timestamp (microseconds) for now(). Runtime errors
 * (division by zero, integer out of range, bad cast input) fail the whole
 * call with PostgreSQL's message.
 */
int weft_expr_eval(const weft_expr_t *e, const weft_batch_t *in,
		   weft_vec_t *out, weft_arena_t *arena, int64_t now,
		   weft_err_t *err);

/*
 * As weft_expr_eval, but only rows i with sel[i] != 0 matter: errors in
 * other rows are not raised and their output slots are unspecified (sel
 * NULL = every row). CASE, AND/OR and COALESCE use this so that
 * `CASE WHEN x <> 0 THEN 1 / x END` does not fail on x = 0, as in
 * PostgreSQL.
 */
int weft_expr_eval_sel(const weft_expr_t *e, const weft_batch_t *in,
		       const uint8_t *sel, weft_vec_t *out, weft_arena_t *arena,
		       int64_t now, weft_err_t *err);

/* Print e as SQL-ish text (for EXPLAIN); col_names may be NULL. */
void weft_expr_print(const weft_expr_t *e, const char *const *col_names,
		     void *file);

/*
 * Format one value as PostgreSQL's text output would (integers, floats
 * with shortest round-trip digits, numeric, booleans as t/f, timestamps as
 * "YYYY-MM-DD HH:MM:SS[.ffffff]", intervals). Writes at most n bytes
 * including the NUL; returns the length it needed.
 */
size_t weft_value_format(weft_sqltype_t type, const weft_vec_t *v, uint32_t row,
			 char *buf, size_t n);

/* PostgreSQL's select_div_scale: the display scale of x / y for numeric
 * operands with scales sx, sy (for avg() too: sum / count). */
int weft_numeric_div_scale(double x, int sx, double y, int sy);

/* Format a double as float8out does (shortest round-trip digits; exponent
 * form below 1e-4 and from 1e15; Infinity, -Infinity, NaN, -0). */
size_t weft_format_float8(double x, char *buf, size_t n);
/* Format a NUMERIC held as a double with display scale `scale` (-1: not
 * known, up to 15 significant digits). Never uses exponent form. */
size_t weft_format_numeric(double x, int scale, char *buf, size_t n);
/* Format microseconds since the epoch as timestamp without time zone /
 * microseconds as an interval ("1 day 02:00:00"). */
size_t weft_format_timestamp(int64_t us, char *buf, size_t n);
size_t weft_format_interval(int64_t us, char *buf, size_t n);

/*
 * Internal: shared by query/expr.c, expr_type.c, func.c, func_text.c and
 * cast.c only.
 */
typedef struct weft_ectx {
	const weft_batch_t *in;
	weft_arena_t *arena;
	int64_t now;
	weft_err_t *err;
	uint32_t n;
} weft_ectx_t;

int weft_expr__eval(const weft_expr_t *e, const weft_ectx_t *cx,
		    const uint8_t *sel, weft_vec_t *out);
/* Cast rows of `in` (index i & m: m = 0 broadcasts row 0) to out->type. */
int weft_cast__eval(const weft_vec_t *in, uint32_t m, const weft_ectx_t *cx,
		    const uint8_t *sel, int flags, weft_vec_t *out);
/* May a value of type `from` be cast to `to` (explicitly / implicitly)? */
bool weft_cast__allowed(weft_sqltype_t from, weft_sqltype_t to,
			bool explicit_cast);
/* Parse text as a value of type `to`; scale receives a NUMERIC's written
 * scale (else -1). PostgreSQL's messages. */
int weft_cast__parse(weft_sqltype_t to, const char *s, size_t len,
		     weft_value_t *out, int *scale, weft_err_t *err);
/* Text form of a value as a cast to text gives it (bool as true/false). */
size_t weft_cast__text(weft_sqltype_t type, const weft_vec_t *v, uint32_t row,
		       int scale, char *buf, size_t n);
/* Calendar helpers: days since 1970-01-01 <-> proleptic Gregorian date. */
int64_t weft_ts__days(int64_t y, int m, int d);
void weft_ts__civil(int64_t days, int64_t *y, int *m, int *d);
/* Decimal rounding of a double to `digits` places, half away from zero,
 * on its shortest decimal form (so round(2.675, 2) = 2.68 as numeric). */
double weft_num__round(double x, int digits);
/* SQL spelling of an operator (weft_op_t) and a function (weft_func_t);
 * "?" when unknown. */
const char *weft_expr__opname(int op);
const char *weft_expr__fname(int f);

#endif
