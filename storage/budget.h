/*
 * budget.h: the privacy budgets of policies' noise rules (docs/policy.md,
 * "Noise"): how much ε each requesting org has spent on each product in
 * the current period, kept by the owner in LMDB (table "budget"), so a
 * restart does not refill them.
 *
 * Key: product NUL org NUL period start (8 bytes, big-endian µs); value:
 * the ε spent (a double, 8 bytes). Periods before the current one are
 * deleted as the same (product, org) spends again, so the table holds
 * one entry per product and org that spent recently.
 */
#ifndef WEFT_STORAGE_BUDGET_H
#define WEFT_STORAGE_BUDGET_H

#include <stdint.h>

#include "lib/err.h"
#include "storage/store.h"

/* The start (µs, UTC) of the period `per` (day, week from Monday, month)
 * that holds now_us; -1 for an unknown period. */
int64_t weft_budget_period(const char *per, int64_t now_us);

/*
 * Spend eps of budget for (product, org) in the period starting at
 * period_us, in one write transaction: 0 with *spent the total after,
 * when the period's spending stays within budget; WEFT_EDENIED with
 * *spent the total before (nothing spent) when it would not; or a store
 * error (nothing spent). eps must be > 0.
 */
int weft_budget_spend(weft_store_t *st, const char *product, const char *org,
		      int64_t period_us, double eps, double budget,
		      double *spent, weft_err_t *err);

/* The ε spent so far by (product, org) in the period (0 when none). */
int weft_budget_get(weft_store_t *st, const char *product, const char *org,
		    int64_t period_us, double *spent, weft_err_t *err);

#endif
