/*
 * policy_int.h: what policy.c (the rules of a policy, decoding, binding,
 * grants) and policy_yaml.c (the policy as a YAML document) share: the
 * one validator and its field checkers, and a few helpers. Not for use
 * outside these two files.
 *
 * Each checker fills err (may be NULL) with a message that names the
 * field but no position ("columns: \"a\" is given twice") and returns 0,
 * WEFT_ESCHEMA or WEFT_ETOOBIG (WEFT_ENOMEM for the list checks); the
 * caller prefixes where it was (a YAML line, "grant 2 (line 7)").
 */
#ifndef WEFT_STORAGE_POLICY_INT_H
#define WEFT_STORAGE_POLICY_INT_H

#include "storage/policy.h"

#define WEFT_POLICY_LIST_MAX WEFT_COLS_MAX /* names in a list of a grant */
#define WEFT_POLICY_DIGITS_MAX 15	   /* round(N): -15 <= N <= 15 */
#define WEFT_POLICY_SHOW 64		   /* weft_policy__show's buffer */
/* 10000-01-01T00:00:00Z in Unix microseconds: expiries are before it. */
#define WEFT_POLICY_TIME_END (253402300800LL * 1000000)

/* A checker of one string of a list; `what` names the list. */
typedef int (*weft_policy_check_fn)(const char *what, const char *s,
				    weft_err_t *err);

/* strcmp ignoring ASCII case (SQL identifiers). */
int weft_policy__icmp(const char *a, const char *b);
/* Index of s in the NULL-terminated words, or -1. */
int weft_policy__word(const char *const *words, const char *s);
/* At most 48 bytes of s for a message, on one line. Returns out. */
const char *weft_policy__show(const char *s, char out[WEFT_POLICY_SHOW]);
/* Give the error err holds the code `code`; returns code. */
int weft_policy__recode(weft_err_t *err, int code);

/* A column name: 1..63 bytes of UTF-8, no control characters. */
int weft_policy__check_column(const char *what, const char *s, weft_err_t *err);
/* A requester: org, org:role or a node key (64 hex digits, always a key). */
int weft_policy__check_to(const char *what, const char *s, weft_err_t *err);
/* An aggregate function: count, sum, avg, min or max. */
int weft_policy__check_function(const char *what, const char *s,
				weft_err_t *err);
/* A row predicate's text (its syntax is weft_policy_bind's). */
int weft_policy__check_rows(const char *s, weft_err_t *err);
/* A mask: its column, kind, and the unit or digits its kind takes. */
int weft_policy__check_mask(const Weft__PolicyMask *m, weft_err_t *err);
/* A list of at most WEFT_POLICY_LIST_MAX names, each passing check, none
 * twice (ASCII case ignored). */
int weft_policy__check_list(const char *what, char *const *v, size_t n,
			    weft_policy_check_fn check, weft_err_t *err);
int weft_policy__check_aggregate(const Weft__PolicyAggregate *a,
				 weft_err_t *err);
int weft_policy__check_noise(const Weft__PolicyNoise *z, weft_err_t *err);
/* Everything a grant may hold, and how its fields go together. */
int weft_policy__check_grant(const Weft__PolicyGrant *g, weft_err_t *err);
/* The whole policy; messages say "grant N (line L): ...". */
int weft_policy__check_policy(const Weft__Policy *p, weft_err_t *err);

#endif
