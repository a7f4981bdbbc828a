/*
 * serve_policy.c: a product's policy applied by its owner to one scan of
 * a fragment it was asked to run (docs/policy.md, "Enforcement").
 *
 * The owner reads its own signed policy of the product in the fragment's
 * snapshot, so a policy set or narrowed applies to the next fragment at
 * once. Without a policy the product's visibility is the whole rule (the
 * caller checked it). With one, the asker needs a grant (its org, one of
 * its roles, or its node key; not expired), and the scan may read only
 * the columns the grant allows. A decoded fragment evaluates its filter,
 * projection, group keys, aggregate arguments and order only over the
 * columns it reads (query/frag.h: the decoder refuses any other
 * reference), so checking the read columns checks every place a column
 * can appear: a denied column cannot be used in WHERE, GROUP BY, a join
 * key or ORDER BY either, unlike policies that only mask the output.
 *
 * Then rows and masks rewrite the fragment (serve_rewrite.c), and an
 * aggregates-only or noise grant puts a gate on its groups (serve_kgate.c,
 * serve_noise.c; entity thresholds append a count(DISTINCT) here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "query/qint.h"
#include "query/serve.h"
#include "storage/policy_store.h"

int
wq_policy_deny_column(weft_err_t *err, const char *product, const char *col,
		      const char *org, uint64_t version, uint32_t line)
{
	return weft_err_set(
	    err, WEFT_EDENIED,
	    "%s: column \"%s\" is not granted to org %s (its "
	    "policy, version %llu, grant at line %u); it may "
	    "appear nowhere in a query, not in WHERE, GROUP BY, "
	    "joins or ORDER BY either",
	    product, col ? col : "?", org ? org : "?",
	    (unsigned long long)version, line);
}

int
wq_policy_deny_rows(weft_err_t *err, const char *product, uint32_t line,
		    uint64_t version, bool in_plan)
{
	return weft_err_set(
	    err, WEFT_EDENIED,
	    "%s: the grant at line %u of its policy (version %llu) allows "
	    "aggregates only: %s",
	    product, line, (unsigned long long)version,
	    in_plan ? "it answers one aggregating query of the product "
		      "alone, not a plan that joins it"
		    : "the query must aggregate it (GROUP BY or aggregate "
		      "functions)");
}

/* The SQL name of aggregate a, as a grant's `functions` lists it. */
static const char *
sp_aggname(const wq_agg_t *a)
{
	return a->fn == WQ_AGG_COUNT_STAR ? "count" : wq_agg_name(a->fn);
}

/* Does a grant's `functions` entry name allow a? PostgreSQL's aliases
 * count: variance is var_samp, stddev stddev_samp. */
static bool
sp_fn_allows(const char *name, const wq_agg_t *a)
{
	if (strcmp(name, sp_aggname(a)) == 0)
		return true;
	return (a->fn == WQ_AGG_VAR_SAMP && strcmp(name, "variance") == 0) ||
	       (a->fn == WQ_AGG_STDDEV_SAMP && strcmp(name, "stddev") == 0);
}

/*
 * A threshold in distinct entities: append count(DISTINCT entity) to f's
 * aggregates (the hidden count(*) follows it), reading the entity column
 * (and projecting it, when f projects) if f does not already.
 */
static int
sp_entity(wq_frag_t *f, const weft_product_info_t *pi, const char *entity,
	  wq_gate_t *gate, weft_err_t *err)
{
	weft_sqltype_t t;
	uint32_t pc, rc_ = 0, arg;
	wq_agg_t *na;
	int rc;

	for (pc = 0; pc < pi->ncols && strcasecmp(pi->cols[pc].name, entity);
	     pc++)
		;
	if (pc == pi->ncols)
		return weft_err_set(err, WEFT_EDENIED,
				    "%s: aggregate entity \"%s\": no such "
				    "column",
				    f->product, entity);
	t = (weft_sqltype_t)pi->cols[pc].type;
	/* read it too (an aggregating fragment's output does not change) */
	if ((rc = wq_frag_read_col(f, pc, t, &rc_, err)) != 0)
		return rc;
	arg = rc_;
	if (f->nproj > 0) { /* aggregates read the projection's output */
		weft_expr_t **np;

		if (f->nproj >= WQ_COLS_MAX)
			return weft_err_set(err, WEFT_EDENIED,
					    "%s: too many columns", f->product);
		np = realloc(f->proj, (f->nproj + 1) * sizeof(*np));
		if (np == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		f->proj = np;
		if ((f->proj[f->nproj] = weft_expr_col(rc_, t, 0)) == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		arg = f->nproj++;
	}
	na = realloc(f->aggs, (f->naggs + 1) * sizeof(*na));
	if (na == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	f->aggs = na;
	memset(&na[f->naggs], 0, sizeof(*na));
	na[f->naggs].fn = WQ_AGG_COUNT;
	na[f->naggs].distinct = true;
	na[f->naggs].arg = weft_expr_col(arg, t, 0);
	if (na[f->naggs].arg == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	na[f->naggs].argtype = t;
	na[f->naggs].type = WEFT_S_INT64;
	na[f->naggs].scale = -1;
	f->naggs++;
	gate->entity = true;
	return 0;
}

/*
 * A profile under an aggregates-only grant: its counts are rows, so it
 * needs count among the grant's functions (or no list), no noise (a
 * profile releases many counts, none of them noised) and no entity rule
 * (it counts rows, not entities); then profile.c releases only counts of
 * min_group rows or more.
 */
int
wq_policy_profile(const wq_frag_t *f, const Weft__PolicyGrant *g,
		  uint64_t version, wq_gate_t *gate, weft_err_t *err)
{
	static const Weft__PolicyAggregate none = WEFT__POLICY_AGGREGATE__INIT;
	const Weft__PolicyAggregate *ag = g->aggregate ? g->aggregate : &none;
	size_t k;

	if (g->noise != NULL)
		return weft_err_set(err, WEFT_EDENIED,
				    "%s: the grant at line %u adds noise, "
				    "which a profile cannot take: count, sum "
				    "and avg queries only",
				    f->product, g->line);
	if (ag->entity[0] != 0)
		return weft_err_set(err, WEFT_EDENIED,
				    "%s: the grant at line %u counts distinct "
				    "entities (%s); a profile counts rows: "
				    "refused",
				    f->product, g->line, ag->entity);
	for (k = 0; k < ag->n_functions && strcmp(ag->functions[k], "count");
	     k++)
		;
	if (ag->n_functions > 0 && k == ag->n_functions)
		return weft_err_set(
		    err, WEFT_EDENIED,
		    "%s: the grant at line %u of its policy (version %llu) "
		    "allows aggregates only, and not count (a profile counts "
		    "rows)",
		    f->product, g->line, (unsigned long long)version);
	if (gate != NULL) {
		gate->profile = true;
		gate->min_group = ag->min_group ? ag->min_group : 1;
	}
	return 0;
}

/*
 * Aggregates only: one aggregating scan (no pushed plan, whose scans
 * feed joins), of allowed functions, no DISTINCT; with min_group, a
 * count(*) appended for the group threshold (serve_kgate.c).
 */
static int
sp_aggregate(wq_frag_t *f, bool in_plan, const Weft__PolicyGrant *g,
	     const weft_product_info_t *pi, uint64_t version, wq_gate_t *gate,
	     weft_err_t *err)
{
	static const Weft__PolicyAggregate none = WEFT__POLICY_AGGREGATE__INIT;
	const Weft__PolicyAggregate *ag = g->aggregate ? g->aggregate : &none;
	wq_agg_t *na;
	uint32_t i;
	size_t k;
	int rc;

	if (f->profile && !in_plan)
		return wq_policy_profile(f, g, version, gate, err);
	if (in_plan || !f->agg)
		return wq_policy_deny_rows(err, f->product, g->line, version,
					   in_plan);
	for (i = 0; i < f->naggs; i++) {
		for (k = 0; k < ag->n_functions &&
			    !sp_fn_allows(ag->functions[k], &f->aggs[i]);
		     k++)
			;
		if (ag->n_functions > 0 && k == ag->n_functions)
			return weft_err_set(
			    err, WEFT_EDENIED,
			    "%s: the grant at line %u of its policy (version "
			    "%llu) allows aggregates only, and not %s",
			    f->product, g->line, (unsigned long long)version,
			    sp_aggname(&f->aggs[i]));
		if (f->aggs[i].distinct)
			return weft_err_set(err, WEFT_EDENIED,
					    "%s: aggregates only: no DISTINCT "
					    "aggregates",
					    f->product);
	}
	if (ag->min_group == 0 && ag->entity[0] == 0 && g->noise == NULL)
		return 0;
	if (ag->entity[0] != 0 &&
	    (rc = sp_entity(f, pi, ag->entity, gate, err)) != 0)
		return rc;
	if (f->naggs + 1 > WQ_COLS_MAX / 2)
		return weft_err_set(err, WEFT_EDENIED,
				    "%s: too many aggregates", f->product);
	na = realloc(f->aggs, (f->naggs + 1) * sizeof(*na));
	if (na == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	f->aggs = na;
	memset(&na[f->naggs], 0, sizeof(*na));
	na[f->naggs].fn = WQ_AGG_COUNT_STAR;
	na[f->naggs].argtype = WEFT_S_NULL;
	na[f->naggs].type = WEFT_S_INT64;
	na[f->naggs].scale = -1;
	f->naggs++;
	gate->on = true;
	gate->min_group = ag->min_group ? ag->min_group : 1;
	if (!gate->entity && ag->min_group == 0)
		gate->min_group = 0;
	return 0;
}

/* Does p need the asker's roles: an org:role grant, or a predicate that
 * asks requester_has_role? */
static bool
sp_needs_roles(const Weft__Policy *p)
{
	size_t i, k;

	for (i = 0; i < p->n_grants; i++) {
		const Weft__PolicyGrant *g = p->grants[i];

		for (k = 0; k < g->n_to; k++)
			if (strchr(g->to[k], ':') != NULL)
				return true;
		if (g->rows != NULL && strstr(g->rows, "requester_has_role"))
			return true;
	}
	return false;
}

int
wq_policy_check(weft_snapshot_t *snap, const weft_asker_t *asker0, wq_frag_t *f,
		bool in_plan, const weft_product_info_t *pi, wq_gate_t *gate,
		weft_err_t *err)
{
	weft_asker_t a = *asker0, *asker = &a; /* its roles, when needed */
	const Weft__PolicyGrant *g;
	Weft__Policy *p = NULL;
	uint64_t version = 0;
	uint32_t i;
	int rc;

	if (asker->self == NULL)
		return weft_err_set(err, WEFT_EINVAL,
				    "policy: no node key to read policies by");
	if (asker->who.pk != NULL &&
	    memcmp(asker->who.pk, asker->self, WEFT_PK_BYTES) == 0)
		return 0; /* the hosting node itself */
	rc = weft_snapshot_policy(snap, asker->self, f->product, &p, &version,
				  err);
	if (rc != 0 || p == NULL)
		return rc;
	if (a.roles != NULL && sp_needs_roles(p))
		a.roles(a.roles_arg, &a.who);
	g = weft_policy_grant(p, &asker->who, asker->now_us);
	if (asker->used != NULL) {
		asker->used->version = version;
		asker->used->line = g ? g->line : 0;
	}
	if (g == NULL) {
		rc = weft_err_set(err, WEFT_EDENIED,
				  "%s: its policy (version %llu) grants the "
				  "asking node (org %s) nothing",
				  f->product, (unsigned long long)version,
				  asker->who.org ? asker->who.org : "?");
		goto out;
	}
	for (i = 0; i < f->ncols; i++) {
		const char *name =
		    f->cols[i] < pi->ncols ? pi->cols[f->cols[i]].name : NULL;

		if (name == NULL || !weft_policy_allows(g, name)) {
			rc = wq_policy_deny_column(err, f->product, name,
						   asker->who.org, version,
						   g->line);
			goto out;
		}
	}
	if ((g->rows != NULL && g->rows[0] != 0) || g->n_masks > 0)
		rc = wq_policy_rewrite(f, pi, g, asker, err);
	/* noise implies aggregates only: it protects aggregates, not rows */
	if (rc == 0 && (g->aggregate != NULL || g->noise != NULL))
		rc = sp_aggregate(f, in_plan, g, pi, version, gate, err);
	if (rc == 0 && g->noise != NULL)
		rc = wq_policy_noise(f, pi, g, asker, gate, err);
out:
	weft__policy__free_unpacked(p, NULL);
	return rc;
}
