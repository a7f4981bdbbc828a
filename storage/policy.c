/*
 * policy.c: product access policies (storage/policy.h; docs/policy.md):
 * the rules of what a policy may contain, a signed body decoded from the
 * wire under them, the binding against a product's schema, and the grant
 * that applies to a requester. The YAML document is policy_yaml.c's.
 *
 * One validator holds every rule: the field checkers
 * (weft_policy__check_*, policy_int.h) and weft_policy__check_policy over
 * them. The parser runs each field checker where it reads the field (so
 * a message names its line and column) and the whole validator at the
 * end; the decoder runs the whole validator; the YAML writer runs it
 * first. So a hand-made body cannot carry what a document could not, and
 * whatever is accepted can be written and read back.
 *
 * Limits against hostile input: the sizes and counts of policy.h and
 * WEFT_POLICY_LIST_MAX names in each list of a grant. Every string is
 * valid UTF-8 without control characters (a row predicate may hold tabs
 * and line breaks).
 */
#include "storage/policy_int.h"

#include <math.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/util.h"

static const char *const wp_kinds[] = {"hash",	   "null",  "redact",
				       "truncate", "round", NULL};
static const char *const wp_units[] = {"day", "month", "year", NULL};
/* the aggregates a grant may allow (query/agg.c's names and
 * PostgreSQL's aliases variance, stddev) */
static const char *const wp_funcs[] = {"count",	      "sum",
				       "avg",	      "min",
				       "max",	      "variance",
				       "var_pop",     "var_samp",
				       "stddev",      "stddev_pop",
				       "stddev_samp", "covar_pop",
				       "covar_samp",  "corr",
				       "regr_count",  "regr_sxx",
				       "regr_syy",    "regr_sxy",
				       "regr_avgx",   "regr_avgy",
				       "regr_slope",  "regr_intercept",
				       "regr_r2",     "weft_linreg",
				       NULL};
#define WP_NFUNCS (sizeof(wp_funcs) / sizeof(wp_funcs[0]) - 1)
_Static_assert(WP_NFUNCS == WEFT_POLICY_FUNCS_MAX, "wp_funcs");
static const char *const wp_pers[] = {"day", "week", "month", NULL};

/* ---- small helpers ----------------------------------------------------- */

static int
wp_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* strcmp ignoring ASCII case (SQL identifiers), for sorting too. */
int
weft_policy__icmp(const char *a, const char *b)
{
	int x, y;

	for (;; a++, b++) {
		x = wp_lower((unsigned char)*a);
		y = wp_lower((unsigned char)*b);
		if (x != y || x == 0)
			return x - y;
	}
}

static int
wp_icmp(const void *a, const void *b)
{
	return weft_policy__icmp(*(const char *const *)a,
				 *(const char *const *)b);
}

/* Index of s in the NULL-terminated words, or -1. */
int
weft_policy__word(const char *const *words, const char *s)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(words[i], s) == 0)
			return i;
	return -1;
}

/* At most 48 bytes of s for a message, cut at a character, control
 * characters replaced so that a message stays on one line. */
const char *
weft_policy__show(const char *s, char out[WEFT_POLICY_SHOW])
{
	size_t i, n = strlen(s);

	if (n > 48) {
		n = 48;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (n < strlen(s)) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* Give the error err already holds the code `code`; returns code. */
int
weft_policy__recode(weft_err_t *err, int code)
{
	if (err != NULL)
		err->code = code;
	return code;
}

/* Is s exactly 64 hex digits (a node key)? */
static int
wp_is_key(const char *s)
{
	size_t i;

	for (i = 0; i < 2 * WEFT_PK_BYTES; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return s[i] == '\0';
}

/* The first name of v[0..n) given twice, ASCII case ignored, into *dup
 * (NULL: none). 0 or WEFT_ENOMEM. */
static int
wp_dup(const char *const *v, size_t n, const char **dup)
{
	const char **s;
	size_t i;

	*dup = NULL;
	if (n < 2)
		return 0;
	if ((s = malloc(n * sizeof(*s))) == NULL)
		return WEFT_ENOMEM;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), wp_icmp);
	for (i = 1; i < n && *dup == NULL; i++)
		if (weft_policy__icmp(s[i - 1], s[i]) == 0)
			*dup = s[i];
	free(s);
	return 0;
}

/* wp_dup over the `column` string at byte offset off of each message. */
static int
wp_dup_col(void *const *msgs, size_t n, size_t off, const char **dup)
{
	const char **v;
	size_t i;
	int rc;

	*dup = NULL;
	if (n < 2)
		return 0;
	if ((v = malloc(n * sizeof(*v))) == NULL)
		return WEFT_ENOMEM;
	for (i = 0; i < n; i++)
		v[i] = *(const char *const *)((const char *)msgs[i] + off);
	rc = wp_dup(v, n, dup);
	free(v);
	return rc;
}

static int
wp_dup_fail(const char *what, const char *dup, weft_err_t *err)
{
	char show[WEFT_POLICY_SHOW];

	return weft_err_set(err, WEFT_ESCHEMA, "%s: \"%s\" is given twice",
			    what, weft_policy__show(dup, show));
}

/* ---- the validator: what a policy may contain --------------------------- */

/* A field this version does not know may be a rule it could not enforce
 * (or write back): refused rather than ignored. */
static int
wp_known(const ProtobufCMessage *m, weft_err_t *err)
{
	if (m->n_unknown_fields == 0)
		return 0;
	return weft_err_set(err, WEFT_ESCHEMA,
			    "%s: field %u is unknown to this version (refused "
			    "rather than ignored)",
			    m->descriptor->short_name,
			    (unsigned)m->unknown_fields[0].tag);
}

/* A column name of a policy: 1..63 bytes of UTF-8, no control
 * characters. */
int
weft_policy__check_column(const char *what, const char *s, weft_err_t *err)
{
	char show[WEFT_POLICY_SHOW];

	if (weft_column_name_check(s, err) != 0) {
		weft_err_prefix(err, "%s", what);
		return weft_policy__recode(err, WEFT_ESCHEMA);
	}
	if (!weft_utf8_valid(s, strlen(s)))
		return weft_err_set(err, WEFT_ESCHEMA,
				    "%s: column name \"%s\" is not UTF-8", what,
				    weft_policy__show(s, show));
	return 0;
}

/* A requester: org, org:role, or a node key (64 hex digits; always a key,
 * even where it could be an org name too). */
int
weft_policy__check_to(const char *what, const char *s, weft_err_t *err)
{
	char org[WEFT_NAME_MAX + 1], show[WEFT_POLICY_SHOW];
	const char *colon = strchr(s, ':');
	size_t n = colon != NULL ? (size_t)(colon - s) : 0;
	int rc;

	if (wp_is_key(s))
		return 0;
	if (colon == NULL) {
		rc = weft_name_check("org", s, err);
	} else if (n > WEFT_NAME_MAX) {
		rc = weft_err_set(err, WEFT_ESCHEMA,
				  "org name is longer than %d bytes",
				  WEFT_NAME_MAX);
	} else {
		memcpy(org, s, n);
		org[n] = '\0';
		rc = weft_name_check("org", org, err);
		if (rc == 0)
			rc = weft_name_check("role", colon + 1, err);
	}
	if (rc == 0)
		return 0;
	weft_err_prefix(err, "%s: \"%s\" is not an org, org:role or node key",
			what, weft_policy__show(s, show));
	return weft_policy__recode(err, WEFT_ESCHEMA);
}

int
weft_policy__check_function(const char *what, const char *s, weft_err_t *err)
{
	char show[WEFT_POLICY_SHOW];

	if (weft_policy__word(wp_funcs, s) >= 0)
		return 0;
	return weft_err_set(err, WEFT_ESCHEMA,
			    "%s: \"%s\" is not an aggregate weft has (count, "
			    "sum, avg, min, max, the statistics of "
			    "docs/policy.md)",
			    what, weft_policy__show(s, show));
}

/* A row predicate: at most WEFT_POLICY_ROWS_MAX bytes of UTF-8 with no
 * control characters but tabs and line breaks. Its syntax is bind's. */
int
weft_policy__check_rows(const char *s, weft_err_t *err)
{
	size_t i, n = strlen(s);

	if (n > WEFT_POLICY_ROWS_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "rows: %zu bytes, more than %u", n,
				    WEFT_POLICY_ROWS_MAX);
	if (!weft_utf8_valid(s, n))
		return weft_err_set(err, WEFT_ESCHEMA, "rows: not UTF-8");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f)
			return weft_err_set(err, WEFT_ESCHEMA,
					    "rows: a control character at "
					    "byte %zu",
					    i + 1);
	}
	return 0;
}

int
weft_policy__check_mask(const Weft__PolicyMask *m, weft_err_t *err)
{
	char show[WEFT_POLICY_SHOW], kind[WEFT_POLICY_SHOW];
	int k = weft_policy__word(wp_kinds, m->kind);

	if (wp_known(&m->base, err) != 0)
		return WEFT_ESCHEMA;
	if (weft_policy__check_column("mask", m->column, err) != 0)
		return WEFT_ESCHEMA;
	if (k < 0)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "mask on \"%s\": \"%s\" is not hash, null, "
				    "redact, truncate or round",
				    weft_policy__show(m->column, show),
				    weft_policy__show(m->kind, kind));
	if ((k == 3) != (m->unit[0] != '\0') ||
	    (k == 3 && weft_policy__word(wp_units, m->unit) < 0))
		return weft_err_set(err, WEFT_ESCHEMA,
				    "mask on \"%s\": a unit (day, month or "
				    "year) goes with truncate and only there",
				    weft_policy__show(m->column, show));
	if ((k != 4 && m->digits != 0) || m->digits < -WEFT_POLICY_DIGITS_MAX ||
	    m->digits > WEFT_POLICY_DIGITS_MAX)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "mask on \"%s\": digits go with round "
				    "only, from -%d to %d",
				    weft_policy__show(m->column, show),
				    WEFT_POLICY_DIGITS_MAX,
				    WEFT_POLICY_DIGITS_MAX);
	return 0;
}

/* A list of names under `what`: at most WEFT_POLICY_LIST_MAX, each passing
 * check, none twice (ASCII case ignored). */
int
weft_policy__check_list(const char *what, char *const *v, size_t n,
			weft_policy_check_fn check, weft_err_t *err)
{
	const char *dup;
	size_t i;
	int rc;

	if (n > WEFT_POLICY_LIST_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "%s: %zu names, more than %d", what, n,
				    WEFT_POLICY_LIST_MAX);
	for (i = 0; i < n; i++)
		if ((rc = check(what, v[i], err)) != 0)
			return rc;
	if ((rc = wp_dup((const char *const *)v, n, &dup)) != 0)
		return weft_err_set(err, rc, "out of memory");
	return dup != NULL ? wp_dup_fail(what, dup, err) : 0;
}

int
weft_policy__check_aggregate(const Weft__PolicyAggregate *a, weft_err_t *err)
{
	int rc;

	if ((rc = wp_known(&a->base, err)) != 0)
		return rc;
	if (a->min_group == 0 && a->entity[0] == '\0')
		return weft_err_set(err, WEFT_ESCHEMA,
				    "aggregate: give min_group (1 or more) or "
				    "entity (a column)");
	if (a->entity[0] != '\0' &&
	    (rc = weft_policy__check_column("aggregate: entity", a->entity,
					    err)) != 0)
		return rc;
	if (a->n_functions > WP_NFUNCS)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "aggregate: functions: more than the %zu "
				    "there are",
				    (size_t)WP_NFUNCS);
	return weft_policy__check_list("aggregate: functions", a->functions,
				       a->n_functions,
				       weft_policy__check_function, err);
}

int
weft_policy__check_noise(const Weft__PolicyNoise *z, weft_err_t *err)
{
	const char *dup;
	size_t i;
	int rc;

	if ((rc = wp_known(&z->base, err)) != 0)
		return rc;
	if (!(z->epsilon > 0) || !isfinite(z->epsilon))
		return weft_err_set(err, WEFT_ESCHEMA,
				    "noise: epsilon must be a number above 0");
	if (!isfinite(z->budget) || !(z->budget >= z->epsilon))
		return weft_err_set(err, WEFT_ESCHEMA,
				    "noise: budget must be at least epsilon");
	if (weft_policy__word(wp_pers, z->per) < 0)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "noise: per must be day, week or month");
	if (z->n_bounds > WEFT_POLICY_LIST_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "noise: %zu bounds, more than %d",
				    z->n_bounds, WEFT_POLICY_LIST_MAX);
	for (i = 0; i < z->n_bounds; i++) {
		const Weft__PolicyBound *b = z->bounds[i];

		if ((rc = wp_known(&b->base, err)) != 0)
			return rc;
		if ((rc = weft_policy__check_column("noise: bounds", b->column,
						    err)) != 0)
			return rc;
		if (!isfinite(b->lo) || !isfinite(b->hi) || !(b->lo < b->hi))
			return weft_err_set(err, WEFT_ESCHEMA,
					    "noise: bounds of \"%s\": need "
					    "[lo, hi], finite, lo < hi",
					    b->column);
	}
	rc = wp_dup_col((void *const *)z->bounds, z->n_bounds,
			offsetof(Weft__PolicyBound, column), &dup);
	if (rc != 0)
		return weft_err_set(err, rc, "out of memory");
	return dup != NULL ? wp_dup_fail("noise: bounds", dup, err) : 0;
}

/* Everything a grant may hold (see policy.h). */
int
weft_policy__check_grant(const Weft__PolicyGrant *g, weft_err_t *err)
{
	const char *dup;
	size_t i;
	int rc;

	if ((rc = wp_known(&g->base, err)) != 0)
		return rc;
	if (g->n_to == 0)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "to: names nobody (give orgs, org:role or "
				    "node keys)");
	if (g->n_to > WEFT_POLICY_TO_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "to: %zu names, more than %d", g->n_to,
				    WEFT_POLICY_TO_MAX);
	if ((rc = weft_policy__check_list("to", g->to, g->n_to,
					  weft_policy__check_to, err)) ||
	    (rc = weft_policy__check_list("columns", g->columns, g->n_columns,
					  weft_policy__check_column, err)) ||
	    (rc = weft_policy__check_list("deny", g->deny, g->n_deny,
					  weft_policy__check_column, err)))
		return rc;
	if (g->n_columns > 0 && g->n_deny > 0)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "columns and deny both given: a grant "
				    "lists the columns it allows or those it "
				    "denies");
	if (g->n_masks > WEFT_POLICY_LIST_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "mask: %zu masks, more than %d", g->n_masks,
				    WEFT_POLICY_LIST_MAX);
	for (i = 0; i < g->n_masks; i++)
		if ((rc = weft_policy__check_mask(g->masks[i], err)) != 0)
			return rc;
	rc = wp_dup_col((void *const *)g->masks, g->n_masks,
			offsetof(Weft__PolicyMask, column), &dup);
	if (rc != 0)
		return weft_err_set(err, rc, "out of memory");
	if (dup != NULL)
		return wp_dup_fail("mask", dup, err);
	if ((rc = weft_policy__check_rows(g->rows, err)) != 0 ||
	    (g->aggregate &&
	     (rc = weft_policy__check_aggregate(g->aggregate, err))) ||
	    (g->noise && (rc = weft_policy__check_noise(g->noise, err))))
		return rc;
	if (g->expires_at < 0 || g->expires_at >= WEFT_POLICY_TIME_END)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "expires: outside 1970..9999");
	return 0;
}

/* The whole policy; messages say "grant N (line L): ...". */
int
weft_policy__check_policy(const Weft__Policy *p, weft_err_t *err)
{
	size_t i;
	int rc;

	if ((rc = wp_known(&p->base, err)) != 0)
		return rc;
	if (weft_product_name_check(p->product, err) != 0) {
		weft_err_prefix(err, "product");
		return weft_policy__recode(err, WEFT_ESCHEMA);
	}
	if (p->n_grants > WEFT_POLICY_GRANTS_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "%zu grants, more than %d", p->n_grants,
				    WEFT_POLICY_GRANTS_MAX);
	for (i = 0; i < p->n_grants; i++) {
		if ((rc = weft_policy__check_grant(p->grants[i], err)) != 0) {
			weft_err_prefix(err, "grant %zu (line %u)", i + 1,
					p->grants[i]->line);
			return rc;
		}
	}
	return 0;
}

/* ---- decoding a signed body ---------------------------------------------- */

int
weft_policy_decode(const uint8_t *body, size_t len, Weft__Policy **out,
		   weft_err_t *err)
{
	Weft__Policy *p;
	int rc;

	*out = NULL;
	if (len > WEFT_POLICY_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "policy: %zu bytes, more than %u", len,
				    WEFT_POLICY_MAX);
	p = weft__policy__unpack(NULL, len, body);
	if (p == NULL)
		return weft_err_set(err, WEFT_EPARSE,
				    "policy: not a valid weft.Policy");
	if ((rc = weft_policy__check_policy(p, err)) != 0) {
		weft_err_prefix(err, "policy");
		weft__policy__free_unpacked(p, NULL);
		return rc;
	}
	*out = p;
	return 0;
}

/* ---- binding against the product ---------------------------------------- */

static const weft_column_t *
wp_col(const weft_product_info_t *pi, const char *name)
{
	size_t i;

	for (i = 0; i < pi->ncols; i++)
		if (pi->cols[i].name != NULL &&
		    weft_policy__icmp(pi->cols[i].name, name) == 0)
			return &pi->cols[i];
	return NULL;
}

/*
 * The row predicate must be one expression that stays whole wherever it
 * is pasted. Parsing "SELECT 1 WHERE (" rows ")" alone is not enough:
 * "x) OR (true" parses there too, yet in "WHERE (q) AND (" rows ")" it
 * would escape its parentheses and let every row through; and
 * "1); DROP ..." would add statements. So the predicate's own tokens
 * (libpg_query's scanner, which knows string constants, quoted
 * identifiers and dollar quotes, so a ")" inside them does not count)
 * must never close a parenthesis they did not open, must leave none
 * open, and must hold no ";" and no comment (a "--" comment would
 * swallow whatever follows the predicate on its line). Then the wrapped
 * statement must parse, which checks the syntax and gives PostgreSQL's
 * message.
 */
static int
wp_rows_tokens(const char *rows, weft_err_t *err)
{
	PgQueryScanResult r = pg_query_scan(rows);
	PgQuery__ScanResult *s = NULL;
	const PgQuery__ScanToken *t;
	size_t i;
	int depth = 0, rc = 0;

	if (r.error != NULL) {
		rc = weft_err_set(err, WEFT_EINVAL, "rows: %s",
				  r.error->message);
		goto out;
	}
	s = pg_query__scan_result__unpack(NULL, r.pbuf.len,
					  (const uint8_t *)r.pbuf.data);
	if (s == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "rows: out of memory");
		goto out;
	}
	for (i = 0; i < s->n_tokens && rc == 0; i++) {
		t = s->tokens[i];
		if (t->token == PG_QUERY__TOKEN__ASCII_40)
			depth++;
		else if (t->token == PG_QUERY__TOKEN__ASCII_41 && --depth < 0)
			rc = weft_err_set(err, WEFT_EINVAL,
					  "rows: the \")\" at character %d "
					  "closes a parenthesis the predicate "
					  "did not open",
					  t->start + 1);
		else if (t->token == PG_QUERY__TOKEN__ASCII_59)
			rc = weft_err_set(err, WEFT_EINVAL,
					  "rows: \";\" at character %d: a "
					  "predicate is one expression",
					  t->start + 1);
		else if (t->token == PG_QUERY__TOKEN__SQL_COMMENT ||
			 t->token == PG_QUERY__TOKEN__C_COMMENT)
			rc = weft_err_set(err, WEFT_EINVAL,
					  "rows: no comments in a predicate "
					  "(character %d)",
					  t->start + 1);
	}
	if (rc == 0 && depth > 0)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "rows: %d parenthes%s left open", depth,
				  depth == 1 ? "is" : "es");
out:
	if (s != NULL)
		pg_query__scan_result__free_unpacked(s, NULL);
	pg_query_free_scan_result(r);
	return rc;
}

static int
wp_bind_rows(const char *rows, weft_err_t *err)
{
	static const char pre[] = "SELECT 1 WHERE (";
	size_t n = strlen(rows);
	PgQueryParseResult r;
	char *sql;
	int rc, pos;

	if ((rc = wp_rows_tokens(rows, err)) != 0)
		return rc;
	if ((sql = malloc(sizeof(pre) + n + 1)) == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	memcpy(sql, pre, sizeof(pre) - 1);
	memcpy(sql + sizeof(pre) - 1, rows, n);
	memcpy(sql + sizeof(pre) - 1 + n, ")", 2);
	r = pg_query_parse(sql);
	free(sql);
	if (r.error != NULL) {
		/* a position past the predicate is in the wrapper: say so
		 * rather than quote its ")" */
		pos = r.error->cursorpos - (int)(sizeof(pre) - 1);
		if (pos >= 1 && (size_t)pos <= n)
			rc = weft_err_set(err, WEFT_EINVAL,
					  "rows: %s (character %d)",
					  r.error->message, pos);
		else if (strncmp(r.error->message, "syntax error", 12) == 0)
			rc = weft_err_set(err, WEFT_EINVAL,
					  "rows: syntax error at the end of "
					  "the predicate");
		else
			rc = weft_err_set(err, WEFT_EINVAL, "rows: %s",
					  r.error->message);
	}
	pg_query_free_parse_result(r);
	return rc;
}

/* A column a mask or bound is on: known and readable under g. */
static int
wp_bind_on(const Weft__PolicyGrant *g, const weft_product_info_t *pi,
	   const char *what, const char *name, const weft_column_t **c,
	   weft_err_t *err)
{
	char show[WEFT_POLICY_SHOW];

	if ((*c = wp_col(pi, name)) == NULL)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "%s: no column \"%s\" in %s", what,
				    weft_policy__show(name, show), pi->name);
	if (!weft_policy_allows(g, name))
		return weft_err_set(err, WEFT_ESCHEMA,
				    "column \"%s\" is %s, %s on it would "
				    "never apply",
				    weft_policy__show(name, show),
				    g->n_deny ? "denied" : "not in columns",
				    what);
	return 0;
}

static int
wp_is_number(const weft_column_t *c)
{
	return c->type == WEFT_T_INT64 || c->type == WEFT_T_FLOAT64;
}

static int
wp_bind_grant(const Weft__PolicyGrant *g, const weft_product_info_t *pi,
	      weft_err_t *err)
{
	const weft_column_t *c;
	const char *what, *name;
	size_t i;

	for (i = 0; i < g->n_columns + g->n_deny; i++) {
		name = i < g->n_columns ? g->columns[i]
					: g->deny[i - g->n_columns];
		what = i < g->n_columns ? "columns" : "deny";
		if (wp_col(pi, name) == NULL)
			return weft_err_set(err, WEFT_ESCHEMA,
					    "%s: no column \"%s\" in %s", what,
					    name, pi->name);
	}
	for (i = 0; i < g->n_masks; i++) {
		const Weft__PolicyMask *m = g->masks[i];

		if (wp_bind_on(g, pi, "a mask", m->column, &c, err) != 0)
			return WEFT_ESCHEMA;
		if (strcmp(m->kind, "truncate") == 0 &&
		    c->type != WEFT_T_TIMESTAMP)
			return weft_err_set(err, WEFT_ESCHEMA,
					    "mask truncate(%s) on \"%s\", a "
					    "%s: truncate is for timestamps",
					    m->unit, c->name,
					    weft_type_name(c->type));
		if (strcmp(m->kind, "hash") == 0 && c->type != WEFT_T_TEXT &&
		    c->type != WEFT_T_INT64)
			return weft_err_set(
			    err, WEFT_ESCHEMA,
			    "mask hash on \"%s\", a %s: hash is "
			    "for text and int64 columns",
			    c->name, weft_type_name(c->type));
		if (strcmp(m->kind, "round") == 0 && !wp_is_number(c))
			return weft_err_set(err, WEFT_ESCHEMA,
					    "mask round(%d) on \"%s\", a %s: "
					    "round is for numbers",
					    m->digits, c->name,
					    weft_type_name(c->type));
	}
	if (g->aggregate != NULL && g->aggregate->entity[0] != '\0' &&
	    wp_col(pi, g->aggregate->entity) == NULL)
		return weft_err_set(err, WEFT_ESCHEMA,
				    "aggregate: entity: no column \"%s\" in %s",
				    g->aggregate->entity, pi->name);
	for (i = 0; g->noise != NULL && i < g->noise->n_bounds; i++) {
		name = g->noise->bounds[i]->column;
		if (wp_bind_on(g, pi, "a bound", name, &c, err) != 0)
			return WEFT_ESCHEMA;
		if (!wp_is_number(c))
			return weft_err_set(err, WEFT_ESCHEMA,
					    "noise: bounds on \"%s\", a %s: "
					    "bounds are for numbers",
					    c->name, weft_type_name(c->type));
	}
	return g->rows[0] != '\0' ? wp_bind_rows(g->rows, err) : 0;
}

int
weft_policy_bind(const Weft__Policy *p, const weft_product_info_t *pi,
		 const char *path, weft_err_t *err)
{
	char show[WEFT_POLICY_SHOW];
	size_t i;
	int rc;

	if (path == NULL)
		path = "policy";
	if (pi->name == NULL || strcmp(p->product, pi->name) != 0)
		return weft_err_set(err, WEFT_EINVAL,
				    "%s: the policy is about \"%s\", not "
				    "\"%s\"",
				    path, weft_policy__show(p->product, show),
				    pi->name ? pi->name : "?");
	for (i = 0; i < p->n_grants; i++) {
		if ((rc = wp_bind_grant(p->grants[i], pi, err)) != 0) {
			weft_err_prefix(err, "%s:%u: grant %zu", path,
					p->grants[i]->line, i + 1);
			return rc;
		}
	}
	return 0;
}

/* ---- choosing a grant ---------------------------------------------------- */

/* Does `to` entry t name requester r? */
static int
wp_names(const char *t, const weft_requester_t *r)
{
	uint8_t pk[WEFT_PK_BYTES];
	const char *colon;
	size_t n, i;

	if (wp_is_key(t))
		return r->pk != NULL && weft_unhex(t, pk, sizeof(pk)) == 0 &&
		       memcmp(pk, r->pk, sizeof(pk)) == 0;
	if (r->org == NULL)
		return 0;
	if ((colon = strchr(t, ':')) == NULL)
		return strcmp(t, r->org) == 0;
	n = (size_t)(colon - t);
	if (strlen(r->org) != n || memcmp(t, r->org, n) != 0)
		return 0;
	for (i = 0; i < r->nroles; i++)
		if (r->roles[i] != NULL && strcmp(r->roles[i], colon + 1) == 0)
			return 1;
	return 0;
}

const Weft__PolicyGrant *
weft_policy_grant(const Weft__Policy *p, const weft_requester_t *r,
		  int64_t now_us)
{
	const Weft__PolicyGrant *g;
	size_t i, j;

	for (i = 0; i < p->n_grants; i++) {
		g = p->grants[i];
		if (g->expires_at != 0 && now_us >= g->expires_at)
			continue;
		for (j = 0; j < g->n_to; j++)
			if (wp_names(g->to[j], r))
				return g;
	}
	return NULL;
}

int
weft_policy_allows(const Weft__PolicyGrant *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->n_columns; i++)
		if (weft_policy__icmp(g->columns[i], name) == 0)
			return 1;
	if (g->n_columns > 0)
		return 0;
	for (i = 0; i < g->n_deny; i++)
		if (weft_policy__icmp(g->deny[i], name) == 0)
			return 0;
	return 1;
}

typedef struct wp_span {
	const char *s;
	size_t len;
} wp_span_t;

static int
wp_span_cmp(const void *a, const void *b)
{
	const wp_span_t *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

int
weft_policy_orgs(const Weft__Policy *p, const char ***orgs, size_t *n)
{
	wp_span_t *v = NULL;
	size_t i, j, k = 0, u = 0, bytes = 0, all = 0;
	const char *t, *colon;
	char **out, *s;

	*orgs = NULL;
	*n = 0;
	for (i = 0; i < p->n_grants; i++)
		all += p->grants[i]->n_to;
	if (all == 0)
		return 0;
	if ((v = malloc(all * sizeof(*v))) == NULL)
		return WEFT_ENOMEM;
	for (i = 0; i < p->n_grants; i++)
		for (j = 0; j < p->grants[i]->n_to; j++) {
			t = p->grants[i]->to[j];
			if (wp_is_key(t))
				continue;
			colon = strchr(t, ':');
			v[k].s = t;
			v[k++].len = colon ? (size_t)(colon - t) : strlen(t);
		}
	qsort(v, k, sizeof(*v), wp_span_cmp);
	for (i = 0; i < k; i++)
		if (i == 0 || wp_span_cmp(&v[i - 1], &v[i]) != 0) {
			v[u++] = v[i];
			bytes += v[i].len + 1;
		}
	if (u > 0 && (out = malloc(u * sizeof(*out) + bytes)) != NULL) {
		s = (char *)(out + u);
		for (i = 0; i < u; i++) {
			out[i] = s;
			memcpy(s, v[i].s, v[i].len);
			s[v[i].len] = '\0';
			s += v[i].len + 1;
		}
		*orgs = (const char **)out;
		*n = u;
	}
	free(v);
	return u > 0 && *orgs == NULL ? WEFT_ENOMEM : 0;
}
