/*
 * policy.h: access policies of products (issue #9; docs/policy.md): the
 * YAML a data owner writes, its wire form (weft.Policy, a catalog entry of
 * kind POLICY signed by the hosting node), its binding against the
 * product's schema, and the choice of the grant that applies to a
 * requester.
 *
 * Pure functions over bytes and structs (no LMDB, no files): the CLI
 * parses and binds at `weft policy set`, the owner re-reads the signed
 * body at every fragment (query/serve.c). Everything read is hostile:
 * sizes and counts are bounded, every string checked, and a document that
 * does not bind against the product is refused with its line.
 */
#ifndef WEFT_STORAGE_POLICY_H
#define WEFT_STORAGE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "storage/descriptor.h"
#include "weft.pb-c.h"

#define WEFT_POLICY_YAML_MAX (256u << 10) /* bytes of a policy document */
#define WEFT_POLICY_MAX (256u << 10)	  /* bytes of a packed weft.Policy */
#define WEFT_POLICY_GRANTS_MAX 64	  /* grants of one policy */
#define WEFT_POLICY_TO_MAX 64		  /* requesters of one grant */
#define WEFT_POLICY_ROWS_MAX 4096	  /* bytes of a row predicate */
#define WEFT_POLICY_FUNCS_MAX 24	  /* aggregates a grant may name */

/*
 * Parse a policy document (len bytes, need not be NUL-terminated; YAML as
 * docs/policy.md shows) into a new *out (free with
 * weft__policy__free_unpacked(*out, NULL)). `path` names the file in
 * messages ("p.yaml:7:9: ..."; NULL: "policy"). Checks the shape only:
 * known keys, types, the grammar of each field (to: an org name, org:role
 * or 64 hex digits; masks: hash | null | redact | truncate(day|month|year)
 * | round(N); expires: an RFC 3339 time; noise numbers positive, bounds
 * lo < hi; aggregate: min_group >= 1 or entity, functions among count,
 * sum, avg, min, max and the statistics (variance ... weft_linreg);
 * columns and deny not both), and the limits above.
 * Each grant's `line` is the line it starts on.
 *
 * Errors (err says where and why): WEFT_EPARSE (YAML syntax, aliases,
 * tags, several documents, a key of the document given twice),
 * WEFT_ESCHEMA (an unknown key, a field of the wrong shape or value, a
 * name listed twice), WEFT_ETOOBIG (over a limit), WEFT_ENOMEM. Nothing
 * is allocated on error.
 */
int weft_policy_parse(const uint8_t *yaml, size_t len, const char *path,
		      Weft__Policy **out, weft_err_t *err);

/*
 * Bind p against the product's descriptor pi: p->product names pi; every
 * column named (columns, deny, masks, aggregate.entity, noise bounds)
 * exists (ASCII case ignored, as SQL identifiers); no mask or bound on a
 * column the grant does not allow; truncate only on timestamps (weft
 * has no date type), round and bounds only on numbers (int64, float64);
 * and the row predicate
 * parses as one PostgreSQL expression that cannot break out of the
 * parentheses it is put in: balanced parentheses, no ";", no comment
 * (libpg_query; that its columns and functions bind is the query
 * layer's check). `path` as above; messages name the grant's line
 * ("p.yaml:12: grant 2: column \"destination\" is denied, a mask on it
 * would never apply"). 0, or WEFT_ESCHEMA (a column: unknown, denied,
 * of the wrong type) / WEFT_EINVAL (p is about another product; the row
 * predicate) / WEFT_ENOMEM.
 */
int weft_policy_bind(const Weft__Policy *p, const weft_product_info_t *pi,
		     const char *path, weft_err_t *err);

/* The requester a grant is matched against. */
typedef struct weft_requester {
	const char *org;	  /* its certificate's org */
	const uint8_t *pk;	  /* its node key (WEFT_PK_BYTES) */
	const char *const *roles; /* its certificate's roles */
	size_t nroles;
} weft_requester_t;

/*
 * The grant of p that applies to requester r at now_us: the first, in
 * document order, that names r (its org, org:role with a role r holds,
 * or its node key) and has not expired. NULL when none does.
 */
const Weft__PolicyGrant *weft_policy_grant(const Weft__Policy *p,
					   const weft_requester_t *r,
					   int64_t now_us);

/*
 * May grant g read column `name` (ASCII case ignored)? With `columns`:
 * only those; with `deny`: all but those; with neither: all.
 */
int weft_policy_allows(const Weft__PolicyGrant *g, const char *name);

/*
 * The orgs a policy names (org and org:role entries; node keys name no
 * org), each once, sorted: who gossip may carry the policy to. *orgs is
 * one malloc'd block holding the array and the names it points to (an
 * org:role entry's org is not a string of its own in p), so free(*orgs)
 * frees all; it does not borrow from p. With no org named: 0, *orgs NULL
 * and *n 0. 0, or WEFT_ENOMEM.
 */
int weft_policy_orgs(const Weft__Policy *p, const char ***orgs, size_t *n);

/*
 * Decode a signed POLICY entry's body as hostile bytes: at most
 * WEFT_POLICY_MAX bytes, a valid weft.Policy within the limits above,
 * every grant's fields of the grammar weft_policy_parse accepts (so a
 * hand-made body cannot carry what a document could not), and no field
 * this version does not know (it could be a rule this node cannot
 * enforce). *out as for weft_policy_parse. WEFT_EPARSE / WEFT_ESCHEMA /
 * WEFT_ETOOBIG.
 */
int weft_policy_decode(const uint8_t *body, size_t len, Weft__Policy **out,
		       weft_err_t *err);

/*
 * p as YAML in the form weft_policy_parse reads (round trip: parsing the
 * output gives an equal policy, `line`s aside), malloc'd and
 * NUL-terminated into *out, *len (the caller frees it). For `weft policy
 * show`. p is checked as weft_policy_decode checks a body first, so what
 * is written always reads back. 0, or the checker's WEFT_ESCHEMA /
 * WEFT_ETOOBIG, WEFT_ETOOBIG when the text would be over
 * WEFT_POLICY_YAML_MAX, WEFT_ENOMEM; *out NULL on error.
 */
int weft_policy_yaml(const Weft__Policy *p, char **out, size_t *len,
		     weft_err_t *err);

#endif
