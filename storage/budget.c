/*
 * budget.c: privacy budgets of noise rules (storage/budget.h).
 */
#include <string.h>
#include <time.h>

#include "storage/budget.h"
#include "storage/store_int.h"

#define BG_NAME_MAX 512 /* product and org names are far shorter */
#define BG_KEY_MAX (2 * BG_NAME_MAX + 10)

int64_t
weft_budget_period(const char *per, int64_t now_us)
{
	time_t t = (time_t)(now_us / 1000000);
	struct tm tm;

	if (now_us < 0 || gmtime_r(&t, &tm) == NULL)
		return -1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (strcmp(per, "week") == 0)
		tm.tm_mday -= (tm.tm_wday + 6) % 7; /* back to Monday */
	else if (strcmp(per, "month") == 0)
		tm.tm_mday = 1;
	else if (strcmp(per, "day") != 0)
		return -1;
	return (int64_t)timegm(&tm) * 1000000;
}

/* product NUL org NUL: the prefix; then the period. 0 if too long. */
static size_t
bg_key(uint8_t *k, const char *product, const char *org, int64_t period)
{
	size_t a = strlen(product), b = strlen(org), n;
	uint64_t p = (uint64_t)period;
	int i;

	if (a > BG_NAME_MAX || b > BG_NAME_MAX)
		return 0;
	memcpy(k, product, a + 1);
	memcpy(k + a + 1, org, b + 1);
	n = a + b + 2;
	for (i = 0; i < 8; i++)
		k[n + i] = (uint8_t)(p >> (56 - 8 * i));
	return n + 8;
}

static double
bg_value(const MDB_val *v)
{
	double x = 0;

	if (v->mv_size == sizeof(x))
		memcpy(&x, v->mv_data, sizeof(x));
	return x;
}

typedef struct bg_spend {
	weft_store_t *st;
	uint8_t key[BG_KEY_MAX];
	size_t klen;
	double eps, budget, spent;
	int denied;
} bg_spend_t;

/* Delete the entries of the same prefix (product, org) before ours. */
static int
bg_prune(MDB_txn *txn, MDB_dbi dbi, const bg_spend_t *s)
{
	MDB_cursor *c;
	MDB_val k = {s->klen - 8, (void *)s->key}, v;
	int rc = mdb_cursor_open(txn, dbi, &c);

	if (rc != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == s->klen &&
	       memcmp(k.mv_data, s->key, s->klen - 8) == 0 &&
	       memcmp(k.mv_data, s->key, s->klen) < 0) {
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
bg_spend_work(MDB_txn *txn, void *arg, weft_err_t *err)
{
	bg_spend_t *s = arg;
	weft_store_t *st = s->st;
	MDB_val k = {s->klen, s->key}, v;
	double now = 0;
	int rc;

	(void)err;
	s->denied = 0;
	rc = mdb_get(txn, st->st_budget, &k, &v);
	if (rc == 0)
		now = bg_value(&v);
	else if (rc != MDB_NOTFOUND)
		return rc;
	s->spent = now;
	if (now + s->eps > s->budget * (1 + 1e-12)) {
		s->denied = 1;
		return 0; /* commits nothing changed */
	}
	now += s->eps;
	v.mv_size = sizeof(now);
	v.mv_data = &now;
	if ((rc = mdb_put(txn, st->st_budget, &k, &v, 0)) != 0)
		return rc;
	s->spent = now;
	return bg_prune(txn, st->st_budget, s);
}

int
weft_budget_spend(weft_store_t *st, const char *product, const char *org,
		  int64_t period_us, double eps, double budget, double *spent,
		  weft_err_t *err)
{
	bg_spend_t s = {st, {0}, 0, eps, budget, 0, 0};
	int rc;

	*spent = 0;
	if (!st->st_has_budget)
		return weft_err_set(err, WEFT_ESTORE,
				    "store: no budget table (read-only)");
	if (!(eps > 0) || period_us < 0)
		return weft_err_set(err, WEFT_EINVAL, "budget: bad spend");
	s.klen = bg_key(s.key, product, org, period_us);
	if (s.klen == 0)
		return weft_err_set(err, WEFT_EINVAL, "budget: name too long");
	rc = weft_store_write(st, 4096, "noise budget", bg_spend_work, &s, err);
	*spent = s.spent;
	if (rc == 0 && s.denied)
		return weft_err_set(err, WEFT_EDENIED,
				    "the noise budget of %s for org %s is "
				    "spent: %g of %g, and this query needs %g",
				    product, org, s.spent, budget, eps);
	return rc;
}

int
weft_budget_get(weft_store_t *st, const char *product, const char *org,
		int64_t period_us, double *spent, weft_err_t *err)
{
	uint8_t key[BG_KEY_MAX];
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	*spent = 0;
	if (!st->st_has_budget)
		return 0;
	k.mv_size = bg_key(key, product, org, period_us);
	k.mv_data = key;
	if (k.mv_size == 0)
		return weft_err_set(err, WEFT_EINVAL, "budget: name too long");
	if ((rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err)) != 0)
		return rc;
	rc = mdb_get(txn, st->st_budget, &k, &v);
	if (rc == 0)
		*spent = bg_value(&v);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return weft_store_mdb_err(err, rc, "noise budget");
	return 0;
}
