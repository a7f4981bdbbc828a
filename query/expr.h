/*
 * expr.h: scalar expressions: the tree the binder builds, PostgreSQL's
 * typing rules (weft_expr_resolve) and vectorised evaluation over a batch
 * (weft_expr_eval), with PostgreSQL's semantics for NULL, integer
 * arithmetic (overflow is an error, division truncates, division by zero
 * is an error), comparison and text.
 *
 * Ownership: a tree is built with weft_expr_new*() and freed with
 * weft_expr_free(), which frees the node, its args and any text constant.
 */
#ifndef WEFT_QUERY_EXPR_H
#define WEFT_QUERY_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "query/vec.h"

typedef enum weft_expr_kind {
	WEFT_E_COL,       /* input column `col` of the batch */
	WEFT_E_CONST,     /* cval */
	WEFT_E_PARAM,     /* reserved */
	WEFT_E_OP,        /* operator `op` (weft_op_t) over args */
	WEFT_E_AND,       /* n-ary, three-valued */
	WEFT_E_OR,        /* n-ary, three-valued */
	WEFT_E_NOT,
	WEFT_E_ISNULL,    /* flags & WEFT_EF_NOT: IS NOT NULL */
	WEFT_E_IN,        /* args[0] IN (args[1..]); WEFT_EF_NOT: NOT IN */
	WEFT_E_LIKE,      /* args[0] LIKE args[1]; WEFT_EF_ILIKE, WEFT_EF_NOT */
	WEFT_E_CASE,      /* args: [operand?] (when, then)* [else]; see flags */
	WEFT_E_CAST,      /* args[0] cast to `type` */
	WEFT_E_FUNC,      /* function `op` (weft_func_t) over args */
	WEFT_E_COALESCE,
	WEFT_E_NULLIF,
} weft_expr_kind_t;

enum {
	WEFT_EF_NOT = 1,
	WEFT_EF_ILIKE = 2,
	WEFT_EF_CASE_OPERAND = 4, /* CASE x WHEN ...: args[0] is x */
	WEFT_EF_CASE_ELSE = 8,    /* last arg is the ELSE */
};

typedef enum weft_op {
	WEFT_OP_ADD, WEFT_OP_SUB, WEFT_OP_MUL, WEFT_OP_DIV, WEFT_OP_MOD,
	WEFT_OP_NEG,
	WEFT_OP_EQ, WEFT_OP_NE, WEFT_OP_LT, WEFT_OP_LE, WEFT_OP_GT, WEFT_OP_GE,
	WEFT_OP_CONCAT, /* || : NULL if either side is NULL */
} weft_op_t;

typedef enum weft_func {
	WEFT_F_LOWER, WEFT_F_UPPER, WEFT_F_LENGTH, WEFT_F_SUBSTR,
	WEFT_F_BTRIM, WEFT_F_LTRIM, WEFT_F_RTRIM,
	WEFT_F_CONCAT,  /* concat(): NULL arguments are skipped */
	WEFT_F_REPLACE, WEFT_F_LEFT, WEFT_F_RIGHT, WEFT_F_STRPOS,
	WEFT_F_ABS, WEFT_F_ROUND, WEFT_F_FLOOR, WEFT_F_CEIL, WEFT_F_MOD,
	WEFT_F_POWER, WEFT_F_SQRT, WEFT_F_SIGN,
	WEFT_F_DATE_TRUNC, WEFT_F_DATE_PART, /* extract(field from x) too */
	WEFT_F_NOW,
} weft_func_t;

/* A constant. TEXT/UNKNOWN constants own s.p (malloc'd, NUL-terminated). */
typedef struct weft_value {
	weft_sqltype_t type;
	bool null;
	union {
		int64_t i;  /* INT32, INT64, TIMESTAMP, INTERVAL */
		double f;   /* FLOAT64, NUMERIC */
		bool b;
		weft_str_t s;
	} u;
} weft_value_t;

typedef struct weft_expr {
	weft_expr_kind_t kind;
	weft_sqltype_t type;  /* result type, set by weft_expr_resolve */
	int op;               /* weft_op_t or weft_func_t */
	int flags;            /* WEFT_EF_* */
	uint32_t col;         /* WEFT_E_COL */
	weft_value_t cval;    /* WEFT_E_CONST */
	uint32_t nargs;
	struct weft_expr **args;
	int location;         /* 1-based position in the SQL text, 0 unknown */
} weft_expr_t;

/* Constructors; NULL on allocation failure. A string constant is copied
 * and typed WEFT_S_UNKNOWN (PostgreSQL's untyped literal). */
weft_expr_t *weft_expr_col(uint32_t col, weft_sqltype_t type, int location);
weft_expr_t *weft_expr_const(const weft_value_t *v, int location);
weft_expr_t *weft_expr_str(const char *s, size_t len, int location);
weft_expr_t *weft_expr_node(weft_expr_kind_t kind, int op, int flags,
			    uint32_t nargs, weft_expr_t **args, int location);
void weft_expr_free(weft_expr_t *e);
weft_expr_t *weft_expr_copy(const weft_expr_t *e);

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
 * Evaluate e over the in->n rows of in into out (initialised with
 * weft_vec_init for e->type). Text results are allocated in arena. `now`
 * is the statement's timestamp (microseconds) for now(). Runtime errors
 * (division by zero, integer out of range, bad cast input) fail the whole
 * call with PostgreSQL's message.
 */
int weft_expr_eval(const weft_expr_t *e, const weft_batch_t *in,
		   weft_vec_t *out, weft_arena_t *arena, int64_t now,
		   weft_err_t *err);

/* Print e as SQL-ish text (for EXPLAIN); col_names may be NULL. */
void weft_expr_print(const weft_expr_t *e, const char *const *col_names,
		     void *file);

/*
 * Format one value as PostgreSQL's text output would (integers, floats
 * with shortest round-trip digits, numeric, booleans as t/f, timestamps as
 * "YYYY-MM-DD HH:MM:SS[.ffffff]", intervals). Writes at most n bytes
 * including the NUL; returns the length it needed.
 */
size_t weft_value_format(weft_sqltype_t type, const weft_vec_t *v,
			 uint32_t row, char *buf, size_t n);

#endif
