/*
 * policy_yaml.c: a policy as the YAML document its owner writes
 * (docs/policy.md): read with libyaml's event parser into a small tree
 * and from it into a weft.Policy (weft_policy_parse), and written back
 * as text (weft_policy_yaml). RFC 3339 times live here too.
 *
 * Reading checks the shape (known keys, none twice, types) and runs the
 * validator's field checkers (policy_int.h) where it reads each field,
 * so a message names "path:line:col"; then the whole validator. Limits
 * against hostile input: WEFT_POLICY_YAML_MAX bytes, WP_DEPTH_MAX levels
 * of nesting, WP_NODES_MAX nodes, no aliases, no tags, one document.
 * Writing runs the validator first, so what it writes reads back equal.
 */
#include "storage/policy_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/utf8.h"

#define WP_DEPTH_MAX 16	   /* YAML nesting (a policy needs 6) */
#define WP_NODES_MAX 65536 /* YAML nodes of a document */

/* ---- times: RFC 3339 <-> Unix microseconds ----------------------------- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant). */
static int64_t
wp_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int
wp_mdays(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* The n digits at s as a number, or -1 (stops at the first non-digit, so
 * it never reads past a NUL). */
static int
wp_num(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The zone of an RFC 3339 time at p ("Z" or "+hh:mm"), as seconds east of
 * UTC into *off; 0, or -1 when it is not one (or not the end). */
static int
wp_time_zone(const char *p, int64_t *off)
{
	int h, m;

	*off = 0;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return 0;
	if (*p != '+' && *p != '-')
		return -1;
	if ((h = wp_num(p + 1, 2)) < 0 || h > 23 || p[3] != ':' ||
	    (m = wp_num(p + 4, 2)) < 0 || m > 59 || p[6] != '\0')
		return -1;
	*off = (*p == '-' ? -1 : 1) * (int64_t)(h * 3600 + m * 60);
	return 0;
}

/* An RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm);
 * "t", "z" or a space separator allowed; at most 9 fraction digits, cut
 * to microseconds) into *us. 0, or -1 when s is not one or falls outside
 * 1970-01-01T00:00:00Z (excluded) .. 10000-01-01T00:00:00Z (excluded). */
static int
wp_time_parse(const char *s, int64_t *us)
{
	int y, mo, d, h, mi, se, nd = 0;
	int64_t frac = 0, off, t;
	const char *p;

	if (strlen(s) < 20)
		return -1;
	y = wp_num(s, 4);
	mo = wp_num(s + 5, 2);
	d = wp_num(s + 8, 2);
	h = wp_num(s + 11, 2);
	mi = wp_num(s + 14, 2);
	se = wp_num(s + 17, 2);
	if (y < 0 || s[4] != '-' || mo < 1 || mo > 12 || s[7] != '-' || d < 1 ||
	    d > wp_mdays(y, mo) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || h < 0 || h > 23 ||
	    s[13] != ':' || mi < 0 || mi > 59 || s[16] != ':' || se < 0 ||
	    se > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nd++)
			if (nd < 6)
				frac = frac * 10 + (*p - '0');
		if (nd == 0 || nd > 9)
			return -1;
		for (; nd < 6; nd++)
			frac *= 10;
	}
	if (wp_time_zone(p, &off) != 0)
		return -1;
	t = wp_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	if (t < 0 || t >= WEFT_POLICY_TIME_END / 1000000)
		return -1;
	*us = t * 1000000 + frac;
	return *us > 0 && *us < WEFT_POLICY_TIME_END ? 0 : -1;
}

/* us (0 < us < WEFT_POLICY_TIME_END) as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z". */
static void
wp_time_fmt(int64_t us, char out[40])
{
	int64_t s = us / 1000000, z = s / 86400 + 719468, era, doe, yoe, doy;
	int64_t y, m, d, rem = s % 86400, f = us % 1000000;
	int n;

	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	m = (5 * doy + 2) / 153;
	d = doy - (153 * m + 2) / 5 + 1;
	m = m < 10 ? m + 3 : m - 9;
	y = yoe + era * 400 + (m <= 2);
	n = snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d", (int)y, (int)m,
		     (int)d, (int)(rem / 3600), (int)(rem / 60 % 60),
		     (int)(rem % 60));
	if (f != 0)
		n += snprintf(out + n, (size_t)(40 - n), ".%06d", (int)f);
	snprintf(out + n, (size_t)(40 - n), "Z");
}

/* ---- YAML: a small tree from libyaml's events --------------------------- */

enum { WP_SCALAR = 1, WP_SEQ = 2, WP_MAP = 3 };

typedef struct wp_node wp_node_t;
struct wp_node {
	int kind;
	size_t line, col; /* 1-based */
	char *str;	  /* scalar text, NUL-terminated (may hold NUL) */
	size_t len;
	wp_node_t **kids; /* SEQ: items; MAP: key, value, key, value... */
	size_t nkids, cap;
};

typedef struct wp_cx {
	const char *path;
	weft_err_t *err;
	size_t nodes;
} wp_cx_t;

static void
wp_node_free(wp_node_t *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		wp_node_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

/* "path:line:col: message" (n NULL: "path: message"); returns code. */
static int __attribute__((format(printf, 4, 5)))
wp_fail(const wp_cx_t *cx, const wp_node_t *n, int code, const char *fmt, ...)
{
	char msg[WEFT_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n != NULL)
		return weft_err_set(cx->err, code, "%s:%zu:%zu: %s", cx->path,
				    n->line, n->col, msg);
	return weft_err_set(cx->err, code, "%s: %s", cx->path, msg);
}

/* Prefix the error a checker wrote with n's position; returns rc. */
static int
wp_refail(const wp_cx_t *cx, const wp_node_t *n, int rc)
{
	weft_err_prefix(cx->err, "%s:%zu:%zu", cx->path, n->line, n->col);
	return rc;
}

static int
wp_nomem(const wp_cx_t *cx)
{
	return weft_err_set(cx->err, WEFT_ENOMEM, "%s: out of memory",
			    cx->path);
}

static int
wp_syntax(const wp_cx_t *cx, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "malformed YAML";

	if (p->error == YAML_MEMORY_ERROR)
		return wp_nomem(cx);
	if (p->error == YAML_READER_ERROR)
		return weft_err_set(cx->err, WEFT_EPARSE, "%s: byte %zu: %s",
				    cx->path, p->problem_offset, problem);
	return weft_err_set(
	    cx->err, WEFT_EPARSE, "%s:%zu:%zu: %s%s%s", cx->path,
	    p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
	    p->context ? " " : "", p->context ? p->context : "");
}

/* A node for a scalar or collection-start event, attached to parent (or
 * made the root). */
static int
wp_load_node(wp_cx_t *cx, const yaml_event_t *ev, wp_node_t *parent,
	     wp_node_t **root, wp_node_t **out)
{
	const yaml_mark_t *mk = &ev->start_mark;
	wp_node_t *n, **k;
	const void *tag = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.tag
			  : ev->type == YAML_SEQUENCE_START_EVENT
			      ? ev->data.sequence_start.tag
			      : ev->data.mapping_start.tag;

	if (++cx->nodes > WP_NODES_MAX)
		return weft_err_set(cx->err, WEFT_ETOOBIG,
				    "%s:%zu:%zu: more than %d YAML nodes",
				    cx->path, mk->line + 1, mk->column + 1,
				    WP_NODES_MAX);
	if (tag != NULL)
		return weft_err_set(cx->err, WEFT_EPARSE,
				    "%s:%zu:%zu: YAML tags are not supported",
				    cx->path, mk->line + 1, mk->column + 1);
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return wp_nomem(cx);
	n->kind = ev->type == YAML_SCALAR_EVENT		  ? WP_SCALAR
		  : ev->type == YAML_SEQUENCE_START_EVENT ? WP_SEQ
							  : WP_MAP;
	n->line = mk->line + 1;
	n->col = mk->column + 1;
	if (n->kind == WP_SCALAR) {
		n->len = ev->data.scalar.length;
		if ((n->str = malloc(n->len + 1)) == NULL) {
			wp_node_free(n);
			return wp_nomem(cx);
		}
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = '\0';
	}
	*out = n;
	if (parent == NULL) {
		*root = n;
		return 0;
	}
	if (parent->nkids == parent->cap) {
		parent->cap = parent->cap ? 2 * parent->cap : 8;
		k = realloc(parent->kids, parent->cap * sizeof(*k));
		if (k == NULL) {
			wp_node_free(n);
			return wp_nomem(cx);
		}
		parent->kids = k;
	}
	parent->kids[parent->nkids++] = n;
	return 0;
}

/* One YAML document into *root (NULL for an empty one): no aliases, no
 * tags, at most WP_DEPTH_MAX levels and WP_NODES_MAX nodes. */
static int
wp_load(wp_cx_t *cx, const uint8_t *yaml, size_t len, wp_node_t **root)
{
	wp_node_t *stack[WP_DEPTH_MAX], *n = NULL;
	yaml_parser_t p;
	yaml_event_t ev;
	size_t depth = 0;
	int docs = 0, done = 0, rc = 0;

	*root = NULL;
	if (!yaml_parser_initialize(&p))
		return wp_nomem(cx);
	yaml_parser_set_input_string(&p, len ? yaml : (const uint8_t *)"", len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = wp_syntax(cx, &p);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT: done = 1; break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = weft_err_set(
				    cx->err, WEFT_EPARSE,
				    "%s:%zu:%zu: more than one YAML document",
				    cx->path, ev.start_mark.line + 1,
				    ev.start_mark.column + 1);
			break;
		case YAML_ALIAS_EVENT:
			rc = weft_err_set(cx->err, WEFT_EPARSE,
					  "%s:%zu:%zu: YAML aliases are not "
					  "supported",
					  cx->path, ev.start_mark.line + 1,
					  ev.start_mark.column + 1);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (ev.type != YAML_SCALAR_EVENT &&
			    depth == WP_DEPTH_MAX) {
				rc = weft_err_set(
				    cx->err, WEFT_ETOOBIG,
				    "%s:%zu:%zu: nested more than %d levels",
				    cx->path, ev.start_mark.line + 1,
				    ev.start_mark.column + 1, WP_DEPTH_MAX);
				break;
			}
			rc = wp_load_node(
			    cx, &ev, depth ? stack[depth - 1] : NULL, root, &n);
			if (rc == 0 && ev.type != YAML_SCALAR_EVENT)
				stack[depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default: break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (rc != 0) {
		wp_node_free(*root);
		*root = NULL;
	}
	return rc;
}

/* ---- YAML -> weft.Policy ------------------------------------------------ */

static const char *const wp_root_keys[] = {"product", "grants", NULL};
static const char *const wp_grant_keys[] = {"to",    "columns", "deny",
					    "mask",  "rows",	"aggregate",
					    "noise", "expires", NULL};
static const char *const wp_agg_keys[] = {"min_group", "entity", "functions",
					  NULL};
static const char *const wp_noise_keys[] = {"epsilon", "budget", "per",
					    "bounds", NULL};

/* The values of mapping n under names (NULL-terminated, at most 8) into
 * vals (NULL: absent). A key that is not a string, unknown or given
 * twice is an error naming it and its line. */
static int
wp_keys(const wp_cx_t *cx, const wp_node_t *n, const char *what,
	const char *const *names, const wp_node_t **vals)
{
	char known[128] = "", show[WEFT_POLICY_SHOW];
	size_t i, k;

	if (n->kind != WP_MAP)
		return wp_fail(cx, n, WEFT_ESCHEMA, "%s: expected a mapping",
			       what);
	for (k = 0; names[k] != NULL; k++)
		vals[k] = NULL;
	for (i = 0; i + 1 < n->nkids; i += 2) {
		const wp_node_t *key = n->kids[i];

		for (k = 0; names[k] != NULL; k++)
			if (key->kind == WP_SCALAR &&
			    key->len == strlen(names[k]) &&
			    memcmp(key->str, names[k], key->len) == 0)
				break;
		if (names[k] != NULL && vals[k] != NULL)
			return wp_fail(cx, key, WEFT_EPARSE,
				       "duplicate key \"%s\" in %s", names[k],
				       what);
		if (names[k] != NULL) {
			vals[k] = n->kids[i + 1];
			continue;
		}
		for (k = 0; names[k] != NULL; k++)
			snprintf(known + strlen(known),
				 sizeof(known) - strlen(known), "%s%s",
				 k ? ", " : "", names[k]);
		return wp_fail(cx, key, WEFT_ESCHEMA,
			       "unknown key \"%s\" in %s (known: %s)",
			       key->kind == WP_SCALAR
				   ? weft_policy__show(key->str, show)
				   : "(not a string)",
			       what, known);
	}
	return 0;
}

/* A string value: a malloc'd copy of scalar n into *out. */
static int
wp_text(const wp_cx_t *cx, const wp_node_t *n, const char *what, char **out)
{
	if (n->kind != WP_SCALAR)
		return wp_fail(cx, n, WEFT_ESCHEMA, "%s: expected a string",
			       what);
	if (memchr(n->str, '\0', n->len) != NULL)
		return wp_fail(cx, n, WEFT_ESCHEMA,
			       "%s: contains a NUL character", what);
	if ((*out = strdup(n->str)) == NULL)
		return wp_nomem(cx);
	return 0;
}

/* A list of strings (with one_ok, a single string too), each checked. */
static int
wp_read_list(const wp_cx_t *cx, const wp_node_t *n, const char *what,
	     int one_ok, size_t max, weft_policy_check_fn check, char ***out,
	     size_t *nout)
{
	size_t i, cnt = n->kind == WP_SEQ ? n->nkids : 1;
	const wp_node_t *it;
	int rc;

	if (n->kind == WP_MAP || (n->kind == WP_SCALAR && !one_ok))
		return wp_fail(cx, n, WEFT_ESCHEMA,
			       "%s: expected a list of strings", what);
	if (cnt > max)
		return wp_fail(cx, n, WEFT_ETOOBIG,
			       "%s: %zu names, more than %zu", what, cnt, max);
	if (cnt > 0 && (*out = calloc(cnt, sizeof(**out))) == NULL)
		return wp_nomem(cx);
	for (i = 0; i < cnt; i++) {
		it = n->kind == WP_SEQ ? n->kids[i] : n;
		if ((rc = wp_text(cx, it, what, &(*out)[*nout])) != 0)
			return rc;
		++*nout;
		if ((rc = check(what, (*out)[i], cx->err)) != 0)
			return wp_refail(cx, it, rc);
	}
	rc = weft_policy__check_list(what, *out, *nout, check, cx->err);
	return rc != 0 ? wp_refail(cx, n, rc) : 0;
}

/* A decimal number (no hex, inf or nan). */
static int
wp_double(const wp_cx_t *cx, const wp_node_t *n, const char *what, double *d)
{
	char show[WEFT_POLICY_SHOW], *end;

	if (n->kind != WP_SCALAR || n->len == 0 ||
	    strspn(n->str, "0123456789+-.eE") != n->len)
		goto bad;
	/* an overflow is infinite; an underflow (ERANGE too) is a fine,
	 * tiny number that %.17g writes back exactly */
	*d = strtod(n->str, &end);
	if (*end == '\0' && isfinite(*d))
		return 0;
bad:
	return wp_fail(cx, n, WEFT_ESCHEMA, "%s: \"%s\" is not a number", what,
		       n->kind == WP_SCALAR ? weft_policy__show(n->str, show)
					    : "[...]");
}

/* A mask's text, hash | null | redact | truncate(UNIT) | round(N), into
 * m by its shape; weft_policy__check_mask then says whether the words
 * and numbers are right. WEFT_ESCHEMA when the text has no such shape. */
static int
wp_mask_parse(const char *s, Weft__PolicyMask *m)
{
	const char *open = strchr(s, '('), *arg;
	size_t n = strlen(s), k, alen;
	int v, neg;

	if (open == NULL)
		return (m->kind = strdup(s)) != NULL ? 0 : WEFT_ENOMEM;
	k = (size_t)(open - s);
	arg = open + 1;
	if (s[n - 1] != ')' || n < k + 3)
		return WEFT_ESCHEMA;
	alen = n - k - 2;
	if (k == 8 && memcmp(s, "truncate", 8) == 0) {
		m->kind = strdup("truncate");
		m->unit = strndup(arg, alen);
		return m->kind != NULL && m->unit != NULL ? 0 : WEFT_ENOMEM;
	}
	neg = arg[0] == '-';
	if (k != 5 || memcmp(s, "round", 5) != 0 || alen - neg < 1 ||
	    alen - neg > 2 || (v = wp_num(arg + neg, (int)(alen - neg))) < 0)
		return WEFT_ESCHEMA;
	m->digits = neg ? -v : v;
	return (m->kind = strdup("round")) != NULL ? 0 : WEFT_ENOMEM;
}

/* Is `column` (ASCII case ignored) the `column` string, at byte offset
 * off, of one of the n messages before it? (n <= WEFT_POLICY_LIST_MAX.) */
static int
wp_seen(void *const *msgs, size_t n, size_t off, const char *column)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (weft_policy__icmp(
			*(const char *const *)((const char *)msgs[i] + off),
			column) == 0)
			return 1;
	return 0;
}

/* mask: {column: kind, ...} */
static int
wp_read_masks(const wp_cx_t *cx, const wp_node_t *n, Weft__PolicyGrant *g)
{
	Weft__PolicyMask *m;
	size_t i, cnt = n->nkids / 2;
	int rc;

	if (n->kind != WP_MAP)
		return wp_fail(cx, n, WEFT_ESCHEMA,
			       "mask: expected a mapping {column: kind}");
	if (cnt > WEFT_POLICY_LIST_MAX)
		return wp_fail(cx, n, WEFT_ETOOBIG,
			       "mask: %zu masks, more than %d", cnt,
			       WEFT_POLICY_LIST_MAX);
	if (cnt > 0 && (g->masks = calloc(cnt, sizeof(*g->masks))) == NULL)
		return wp_nomem(cx);
	for (i = 0; i < cnt; i++) {
		const wp_node_t *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
		char *text = NULL, show[WEFT_POLICY_SHOW];

		if ((m = malloc(sizeof(*m))) == NULL)
			return wp_nomem(cx);
		weft__policy_mask__init(m);
		g->masks[g->n_masks++] = m;
		if ((rc = wp_text(cx, k, "mask", &m->column)) != 0)
			return rc;
		if ((rc = weft_policy__check_column("mask", m->column,
						    cx->err)) != 0)
			return wp_refail(cx, k, rc);
		if (wp_seen((void *const *)g->masks, i,
			    offsetof(Weft__PolicyMask, column), m->column))
			return wp_fail(cx, k, WEFT_ESCHEMA,
				       "mask: \"%s\" is given twice",
				       m->column);
		if ((rc = wp_text(cx, v, "mask", &text)) != 0)
			return rc;
		rc = wp_mask_parse(text, m);
		if (rc == 0 && weft_policy__check_mask(m, NULL) != 0)
			rc = WEFT_ESCHEMA;
		if (rc == WEFT_ESCHEMA)
			wp_fail(cx, v, rc,
				"mask of \"%s\": \"%s\" is not hash, null, "
				"redact, truncate(day|month|year) or round(N) "
				"with N from -%d to %d",
				m->column, weft_policy__show(text, show),
				WEFT_POLICY_DIGITS_MAX, WEFT_POLICY_DIGITS_MAX);
		free(text);
		if (rc == WEFT_ENOMEM)
			return wp_nomem(cx);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
wp_read_aggregate(const wp_cx_t *cx, const wp_node_t *n, Weft__PolicyGrant *g)
{
	const wp_node_t *v[3];
	Weft__PolicyAggregate *a;
	char *end;
	int rc;

	if ((rc = wp_keys(cx, n, "aggregate", wp_agg_keys, v)) != 0)
		return rc;
	if ((a = malloc(sizeof(*a))) == NULL)
		return wp_nomem(cx);
	weft__policy_aggregate__init(a);
	g->aggregate = a;
	if (v[0] != NULL) {
		errno = 0;
		if (v[0]->kind != WP_SCALAR || v[0]->len == 0 ||
		    strspn(v[0]->str, "0123456789") != v[0]->len ||
		    (a->min_group = strtoull(v[0]->str, &end, 10)) == 0 ||
		    errno != 0)
			return wp_fail(cx, v[0], WEFT_ESCHEMA,
				       "aggregate: min_group must be a whole "
				       "number, 1 or more");
	}
	if (v[1] != NULL) {
		if ((rc = wp_text(cx, v[1], "aggregate: entity", &a->entity)) !=
		    0)
			return rc;
		if ((rc = weft_policy__check_column("aggregate: entity",
						    a->entity, cx->err)) != 0)
			return wp_refail(cx, v[1], rc);
	}
	if (v[2] != NULL) {
		if ((rc = wp_read_list(cx, v[2], "aggregate: functions", 0,
				       WEFT_POLICY_FUNCS_MAX,
				       weft_policy__check_function,
				       &a->functions, &a->n_functions)) != 0)
			return rc;
		if (a->n_functions == 0)
			return wp_fail(cx, v[2], WEFT_ESCHEMA,
				       "aggregate: functions: an empty list "
				       "would allow none; leave the key out "
				       "to allow all");
	}
	rc = weft_policy__check_aggregate(a, cx->err);
	return rc != 0 ? wp_refail(cx, n, rc) : 0;
}

/* bounds: {column: [lo, hi], ...} */
static int
wp_read_bounds(const wp_cx_t *cx, const wp_node_t *n, Weft__PolicyNoise *z)
{
	Weft__PolicyBound *b;
	size_t i, cnt = n->nkids / 2;
	int rc;

	if (n->kind != WP_MAP)
		return wp_fail(cx, n, WEFT_ESCHEMA,
			       "noise: bounds: expected a mapping "
			       "{column: [lo, hi]}");
	if (cnt > WEFT_POLICY_LIST_MAX)
		return wp_fail(cx, n, WEFT_ETOOBIG,
			       "noise: bounds: %zu, more than %d", cnt,
			       WEFT_POLICY_LIST_MAX);
	if (cnt > 0 && (z->bounds = calloc(cnt, sizeof(*z->bounds))) == NULL)
		return wp_nomem(cx);
	for (i = 0; i < cnt; i++) {
		const wp_node_t *k = n->kids[2 * i], *v = n->kids[2 * i + 1];

		if ((b = malloc(sizeof(*b))) == NULL)
			return wp_nomem(cx);
		weft__policy_bound__init(b);
		z->bounds[z->n_bounds++] = b;
		if ((rc = wp_text(cx, k, "noise: bounds", &b->column)) != 0)
			return rc;
		if ((rc = weft_policy__check_column("noise: bounds", b->column,
						    cx->err)) != 0)
			return wp_refail(cx, k, rc);
		if (wp_seen((void *const *)z->bounds, i,
			    offsetof(Weft__PolicyBound, column), b->column))
			return wp_fail(cx, k, WEFT_ESCHEMA,
				       "noise: bounds: \"%s\" is given twice",
				       b->column);
		if (v->kind != WP_SEQ || v->nkids != 2)
			return wp_fail(cx, v, WEFT_ESCHEMA,
				       "noise: bounds of \"%s\": expected "
				       "[lo, hi]",
				       b->column);
		if ((rc = wp_double(cx, v->kids[0], "noise: bounds", &b->lo)) !=
			0 ||
		    (rc = wp_double(cx, v->kids[1], "noise: bounds", &b->hi)) !=
			0)
			return rc;
		if (!(b->lo < b->hi))
			return wp_fail(cx, v, WEFT_ESCHEMA,
				       "noise: bounds of \"%s\": lo must be "
				       "below hi",
				       b->column);
	}
	return 0;
}

static int
wp_read_noise(const wp_cx_t *cx, const wp_node_t *n, Weft__PolicyGrant *g)
{
	const wp_node_t *v[4];
	Weft__PolicyNoise *z;
	size_t k;
	int rc;

	if ((rc = wp_keys(cx, n, "noise", wp_noise_keys, v)) != 0)
		return rc;
	for (k = 0; k < 3; k++)
		if (v[k] == NULL)
			return wp_fail(cx, n, WEFT_ESCHEMA,
				       "noise: missing key \"%s\"",
				       wp_noise_keys[k]);
	if ((z = malloc(sizeof(*z))) == NULL)
		return wp_nomem(cx);
	weft__policy_noise__init(z);
	g->noise = z;
	if ((rc = wp_double(cx, v[0], "noise: epsilon", &z->epsilon)) != 0 ||
	    (rc = wp_double(cx, v[1], "noise: budget", &z->budget)) != 0 ||
	    (rc = wp_text(cx, v[2], "noise: per", &z->per)) != 0 ||
	    (v[3] != NULL && (rc = wp_read_bounds(cx, v[3], z)) != 0))
		return rc;
	rc = weft_policy__check_noise(z, cx->err);
	return rc != 0 ? wp_refail(cx, n, rc) : 0;
}

/* The rest of a grant's keys (after to, columns and deny). */
static int
wp_read_grant_rest(const wp_cx_t *cx, const wp_node_t **v, Weft__PolicyGrant *g)
{
	char show[WEFT_POLICY_SHOW];
	int rc;

	if (v[3] != NULL && (rc = wp_read_masks(cx, v[3], g)) != 0)
		return rc;
	if (v[4] != NULL) {
		if ((rc = wp_text(cx, v[4], "rows", &g->rows)) != 0)
			return rc;
		if ((rc = weft_policy__check_rows(g->rows, cx->err)) != 0)
			return wp_refail(cx, v[4], rc);
	}
	if (v[5] != NULL && (rc = wp_read_aggregate(cx, v[5], g)) != 0)
		return rc;
	if (v[6] != NULL && (rc = wp_read_noise(cx, v[6], g)) != 0)
		return rc;
	if (v[7] != NULL && (v[7]->kind != WP_SCALAR ||
			     wp_time_parse(v[7]->str, &g->expires_at) != 0))
		return wp_fail(cx, v[7], WEFT_ESCHEMA,
			       "expires: \"%s\" is not an RFC 3339 time "
			       "after 1970 such as 2027-06-30T00:00:00Z",
			       v[7]->kind == WP_SCALAR
				   ? weft_policy__show(v[7]->str, show)
				   : "[...]");
	return 0;
}

static int
wp_read_grant(const wp_cx_t *cx, const wp_node_t *n, size_t idx,
	      Weft__PolicyGrant *g)
{
	const wp_node_t *v[8];
	int rc;

	g->line = n->line > UINT32_MAX ? UINT32_MAX : (uint32_t)n->line;
	if ((rc = wp_keys(cx, n, "a grant", wp_grant_keys, v)) != 0)
		return rc;
	if (v[0] == NULL)
		return wp_fail(cx, n, WEFT_ESCHEMA,
			       "grant %zu: missing key \"to\" (who the grant "
			       "is for)",
			       idx);
	if ((rc = wp_read_list(cx, v[0], "to", 1, WEFT_POLICY_TO_MAX,
			       weft_policy__check_to, &g->to, &g->n_to)) != 0)
		return rc;
	if (g->n_to == 0)
		return wp_fail(cx, v[0], WEFT_ESCHEMA,
			       "to: names nobody (give orgs, org:role or node "
			       "keys)");
	if (v[1] != NULL && v[2] != NULL)
		return wp_fail(cx, v[2], WEFT_ESCHEMA,
			       "grant %zu: columns and deny both given: a "
			       "grant lists the columns it allows or those "
			       "it denies",
			       idx);
	if (v[1] != NULL &&
	    ((rc = wp_read_list(cx, v[1], "columns", 0, WEFT_POLICY_LIST_MAX,
				weft_policy__check_column, &g->columns,
				&g->n_columns)) != 0 ||
	     g->n_columns == 0))
		return rc != 0 ? rc
			       : wp_fail(cx, v[1], WEFT_ESCHEMA,
					 "columns: an empty list would allow "
					 "no column; leave the key out to "
					 "allow all");
	if (v[2] != NULL &&
	    (rc = wp_read_list(cx, v[2], "deny", 0, WEFT_POLICY_LIST_MAX,
			       weft_policy__check_column, &g->deny,
			       &g->n_deny)) != 0)
		return rc;
	if ((rc = wp_read_grant_rest(cx, v, g)) != 0)
		return rc;
	if ((rc = weft_policy__check_grant(g, cx->err)) != 0)
		return wp_refail(cx, n, rc);
	return 0;
}

static int
wp_read_policy(const wp_cx_t *cx, const wp_node_t *root, Weft__Policy *p)
{
	const wp_node_t *v[2], *gs;
	Weft__PolicyGrant *g;
	size_t i;
	int rc;

	if (root == NULL)
		return wp_fail(cx, NULL, WEFT_ESCHEMA,
			       "empty document (expected product and grants)");
	if ((rc = wp_keys(cx, root, "the policy", wp_root_keys, v)) != 0)
		return rc;
	if (v[0] == NULL || v[1] == NULL)
		return wp_fail(cx, root, WEFT_ESCHEMA, "missing key \"%s\"%s",
			       v[0] == NULL ? "product" : "grants",
			       v[0] == NULL ? ""
					    : " (grants: [] lets nobody but "
					      "the hosting node read)");
	if ((rc = wp_text(cx, v[0], "product", &p->product)) != 0)
		return rc;
	if (weft_product_name_check(p->product, cx->err) != 0)
		return wp_refail(cx, v[0],
				 weft_policy__recode(cx->err, WEFT_ESCHEMA));
	gs = v[1];
	if (gs->kind != WP_SEQ)
		return wp_fail(cx, gs, WEFT_ESCHEMA,
			       "grants: expected a list of grants");
	if (gs->nkids > WEFT_POLICY_GRANTS_MAX)
		return wp_fail(cx, gs, WEFT_ETOOBIG,
			       "grants: %zu, more than %d", gs->nkids,
			       WEFT_POLICY_GRANTS_MAX);
	if (gs->nkids > 0 &&
	    (p->grants = calloc(gs->nkids, sizeof(*p->grants))) == NULL)
		return wp_nomem(cx);
	for (i = 0; i < gs->nkids; i++) {
		if ((g = malloc(sizeof(*g))) == NULL)
			return wp_nomem(cx);
		weft__policy_grant__init(g);
		p->grants[p->n_grants++] = g;
		if ((rc = wp_read_grant(cx, gs->kids[i], i + 1, g)) != 0)
			return rc;
	}
	return 0;
}

int
weft_policy_parse(const uint8_t *yaml, size_t len, const char *path,
		  Weft__Policy **out, weft_err_t *err)
{
	wp_cx_t cx = {path != NULL ? path : "policy", err, 0};
	wp_node_t *root = NULL;
	Weft__Policy *p;
	int rc;

	*out = NULL;
	if (len > WEFT_POLICY_YAML_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "%s: %zu bytes, more than the %u a policy "
				    "may have",
				    cx.path, len, WEFT_POLICY_YAML_MAX);
	if ((rc = wp_load(&cx, yaml, len, &root)) != 0)
		return rc;
	if ((p = malloc(sizeof(*p))) == NULL) {
		wp_node_free(root);
		return wp_nomem(&cx);
	}
	weft__policy__init(p);
	rc = wp_read_policy(&cx, root, p);
	wp_node_free(root);
	if (rc == 0 && (rc = weft_policy__check_policy(p, err)) != 0)
		weft_err_prefix(err, "%s", cx.path); /* cannot happen */
	if (rc != 0) {
		weft__policy__free_unpacked(p, NULL);
		return rc;
	}
	*out = p;
	return 0;
}

/* ---- weft.Policy -> YAML ------------------------------------------------ */

typedef struct wp_buf {
	char *data;
	size_t len, cap;
	int rc; /* first failure: WEFT_ENOMEM or WEFT_ETOOBIG */
} wp_buf_t;

static void
wp_put(wp_buf_t *b, const char *s, size_t n)
{
	size_t cap;
	char *d;

	if (b->rc != 0)
		return;
	if (n > WEFT_POLICY_YAML_MAX - b->len) {
		b->rc = WEFT_ETOOBIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((d = realloc(b->data, cap)) == NULL) {
			b->rc = WEFT_ENOMEM;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append a string literal. */
#define WP_LIT(b, lit) wp_put((b), (lit), sizeof(lit) - 1)

static void __attribute__((format(printf, 2, 3)))
wp_putf(wp_buf_t *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n >= 0)
		wp_put(b, tmp,
		       (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Plain when s is a simple word no YAML reader takes for something else
 * (a letter or "_" first, then letters, digits and "_.-()"), else double
 * quoted, escaping '"', '\', control characters and the characters YAML
 * treats as line breaks or byte order marks. */
static void
wp_put_str(wp_buf_t *b, const char *s)
{
	static const char *const special[] = {
	    "null", "true", "false", "yes", "no", "on", "off", "y", "n", NULL};
	size_t i, n = strlen(s), k;
	uint32_t cp;
	int plain = n > 0 && ((s[0] >= 'a' && s[0] <= 'z') ||
			      (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_');

	for (i = 0; plain && i < n; i++)
		plain = (s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || strchr("_.-()", s[i]);
	for (k = 0; plain && special[k] != NULL; k++)
		plain = weft_policy__icmp(s, special[k]) != 0;
	if (plain) {
		wp_put(b, s, n);
		return;
	}
	WP_LIT(b, "\"");
	for (i = 0; i < n; i += k) {
		k = weft_utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (k == 0) { /* not UTF-8: the validator refuses it */
			b->rc = b->rc ? b->rc : WEFT_EINVAL;
			return;
		}
		if (cp == '"' || cp == '\\')
			wp_putf(b, "\\%c", (int)cp);
		else if (cp == '\n' || cp == '\t' || cp == '\r')
			wp_put(b,
			       cp == '\n'   ? "\\n"
			       : cp == '\t' ? "\\t"
					    : "\\r",
			       2);
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
			 cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
			 cp == 0xfffe || cp == 0xffff)
			wp_putf(b, "\\u%04x", (unsigned)cp);
		else
			wp_put(b, s + i, k);
	}
	WP_LIT(b, "\"");
}

static void
wp_put_list(wp_buf_t *b, char *const *v, size_t n)
{
	size_t i;

	WP_LIT(b, "[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			WP_LIT(b, ", ");
		wp_put_str(b, v[i]);
	}
	WP_LIT(b, "]");
}

/* The shortest of %.15g, %.16g, %.17g that reads back as d. */
static void
wp_put_double(wp_buf_t *b, double d)
{
	char tmp[40];
	int prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	wp_put(b, tmp, strlen(tmp));
}

static void
wp_put_mask(wp_buf_t *b, const Weft__PolicyMask *m)
{
	char tmp[32];

	wp_put_str(b, m->column);
	WP_LIT(b, ": ");
	if (strcmp(m->kind, "truncate") == 0)
		snprintf(tmp, sizeof(tmp), "truncate(%s)", m->unit);
	else if (strcmp(m->kind, "round") == 0)
		snprintf(tmp, sizeof(tmp), "round(%d)", (int)m->digits);
	else
		snprintf(tmp, sizeof(tmp), "%s", m->kind);
	wp_put_str(b, tmp);
}

static void
wp_put_grant(wp_buf_t *b, const Weft__PolicyGrant *g)
{
	const Weft__PolicyNoise *z = g->noise;
	char when[40];
	size_t i;

	WP_LIT(b, "  - to: ");
	wp_put_list(b, g->to, g->n_to);
	if (g->n_columns > 0) {
		WP_LIT(b, "\n    columns: ");
		wp_put_list(b, g->columns, g->n_columns);
	}
	if (g->n_deny > 0) {
		WP_LIT(b, "\n    deny: ");
		wp_put_list(b, g->deny, g->n_deny);
	}
	if (g->n_masks > 0) {
		WP_LIT(b, "\n    mask: {");
		for (i = 0; i < g->n_masks; i++) {
			if (i > 0)
				WP_LIT(b, ", ");
			wp_put_mask(b, g->masks[i]);
		}
		WP_LIT(b, "}");
	}
	if (g->rows[0] != '\0') {
		WP_LIT(b, "\n    rows: ");
		wp_put_str(b, g->rows);
	}
	if (g->aggregate != NULL) {
		WP_LIT(b, "\n    aggregate:");
		if (g->aggregate->min_group > 0)
			wp_putf(b, "\n      min_group: %" PRIu64,
				g->aggregate->min_group);
		if (g->aggregate->entity[0] != '\0') {
			WP_LIT(b, "\n      entity: ");
			wp_put_str(b, g->aggregate->entity);
		}
		if (g->aggregate->n_functions > 0) {
			WP_LIT(b, "\n      functions: ");
			wp_put_list(b, g->aggregate->functions,
				    g->aggregate->n_functions);
		}
	}
	if (z != NULL) {
		WP_LIT(b, "\n    noise:\n      epsilon: ");
		wp_put_double(b, z->epsilon);
		WP_LIT(b, "\n      budget: ");
		wp_put_double(b, z->budget);
		wp_putf(b, "\n      per: %s", z->per);
		if (z->n_bounds > 0)
			WP_LIT(b, "\n      bounds:");
		for (i = 0; i < z->n_bounds; i++) {
			WP_LIT(b, "\n        ");
			wp_put_str(b, z->bounds[i]->column);
			WP_LIT(b, ": [");
			wp_put_double(b, z->bounds[i]->lo);
			WP_LIT(b, ", ");
			wp_put_double(b, z->bounds[i]->hi);
			WP_LIT(b, "]");
		}
	}
	if (g->expires_at > 0) {
		wp_time_fmt(g->expires_at, when);
		wp_putf(b, "\n    expires: %s", when);
	}
	WP_LIT(b, "\n");
}

int
weft_policy_yaml(const Weft__Policy *p, char **out, size_t *len,
		 weft_err_t *err)
{
	wp_buf_t b = {NULL, 0, 0, 0};
	size_t i;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = weft_policy__check_policy(p, err)) != 0) {
		weft_err_prefix(err, "policy");
		return rc;
	}
	WP_LIT(&b, "product: ");
	wp_put_str(&b, p->product);
	wp_put(&b, p->n_grants ? "\ngrants:\n" : "\ngrants: []\n",
	       p->n_grants ? 9 : 12);
	for (i = 0; i < p->n_grants; i++)
		wp_put_grant(&b, p->grants[i]);
	if (b.rc != 0) {
		free(b.data);
		return b.rc == WEFT_ETOOBIG
			   ? weft_err_set(err, b.rc,
					  "policy: its YAML would be more "
					  "than %u bytes",
					  WEFT_POLICY_YAML_MAX)
			   : weft_err_set(err, b.rc, "policy: out of memory");
	}
	*out = b.data;
	*len = b.len;
	return 0;
}
