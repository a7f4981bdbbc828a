/*
 * audit.c: the owner's audit log in the store's table "audit"
 * (storage/audit.h has the layout and the invariants).
 *
 * Appends encode every record before the write transaction starts, so the
 * work run inside it (perhaps several times, when the map has to grow)
 * only takes sequence numbers, puts and prunes. Listing walks one
 * snapshot; with a limit it walks back from the newest record to find
 * where the newest `limit` matches begin, then forward from there, so it
 * holds no more than one record in memory whatever the limit.
 */
#include "storage/audit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "storage/store_int.h"
#include "storage/value.h"
#include "weft.pb-c.h"

#define AUD_KEY 16	    /* at_us (8, BE) | seq (8, BE) */
#define AUD_VAL_MAX 4096    /* a record's encoded size is far below */
#define AUD_HASH 32	    /* frag_hash: BLAKE2b-256 */
#define AUD_SEQ "audit_seq" /* meta: the next sequence number (8 bytes) */
#define AUD_STR2(x) #x
#define AUD_STR(x) AUD_STR2(x) /* a number macro as a string */

static void
aud_put64(uint8_t *b, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t
aud_get64(const uint8_t *b)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* ---- UTF-8 cuts ---- */

/* The length of the first len bytes of s without a trailing character
 * that was cut short (a lead byte missing some of its continuation
 * bytes). Other malformed bytes are left alone: this only undoes a
 * byte-wise truncation. */
static size_t
aud_utf8_whole(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = len, k = 0, need;

	while (i > 0 && k < 3 && (u[i - 1] & 0xc0) == 0x80) {
		i--;
		k++;
	}
	if (i == 0 || u[i - 1] < 0xc0)
		return len;
	need = u[i - 1] >= 0xf0 ? 4 : u[i - 1] >= 0xe0 ? 3 : 2;
	return k + 1 < need ? i - 1 : len;
}

/* How many bytes of s (at most avail readable, NUL-terminated or not) a
 * stored reason keeps: at most WEFT_AUDIT_REASON_MAX, whole characters. */
static size_t
aud_reason_len(const char *s, size_t avail)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strnlen(s, avail);

	if (len > WEFT_AUDIT_REASON_MAX) {
		len = WEFT_AUDIT_REASON_MAX;
		/* u[len] is the first byte dropped: inside a character? */
		while (len > 0 && (u[len] & 0xc0) == 0x80 &&
		       WEFT_AUDIT_REASON_MAX - len < 3)
			len--;
	}
	return aud_utf8_whole(s, len);
}

void
weft_audit_set_reason(weft_audit_rec_t *r, const char *msg)
{
	size_t len;

	if (msg == NULL)
		msg = "";
	len = aud_reason_len(msg, WEFT_AUDIT_REASON_MAX + 1);
	memcpy(r->reason, msg, len);
	r->reason[len] = 0;
}

/* ---- append ---- */

/* Record i fit to store? 0, or WEFT_EINVAL naming it. */
static int
aud_check(const weft_audit_rec_t *r, size_t i, weft_err_t *err)
{
	const char *what;

	if (r->at_us <= 0)
		what = "at_us is not > 0 (no time)";
	else if (strnlen(r->asker_org, sizeof(r->asker_org)) ==
		 sizeof(r->asker_org))
		what = "asker_org is over " AUD_STR(WEFT_NAME_MAX) " bytes";
	else if (strnlen(r->product, sizeof(r->product)) == sizeof(r->product))
		what =
		    "product is over " AUD_STR(WEFT_PRODUCT_NAME_MAX) " bytes";
	else if (!isfinite(r->epsilon) || r->epsilon < 0)
		what = "epsilon is not a finite number >= 0";
	else
		return 0;
	return weft_err_set(err, WEFT_EINVAL,
			    "audit: record %zu of the batch: %s; nothing was "
			    "recorded",
			    i, what);
}

/* Encode r (checked) as an AuditRecord into out (NULL: only size it). */
static size_t
aud_encode(const weft_audit_rec_t *r, uint8_t *out)
{
	Weft__AuditRecord m = WEFT__AUDIT_RECORD__INIT;
	char reason[WEFT_AUDIT_REASON_MAX + 1];
	size_t rl = aud_reason_len(r->reason, sizeof(r->reason));

	memcpy(reason, r->reason, rl);
	reason[rl] = 0;
	m.at_us = r->at_us;
	m.asker_pk.data = (uint8_t *)r->asker_pk;
	m.asker_pk.len = WEFT_PK_BYTES;
	m.asker_org = (char *)r->asker_org;
	m.product = (char *)r->product;
	m.product_version = r->product_version;
	m.policy_version = r->policy_version;
	m.grant_line = r->grant_line;
	m.frag_hash.data = (uint8_t *)r->frag_hash;
	m.frag_hash.len = AUD_HASH;
	m.rows = r->rows;
	m.groups = r->groups;
	m.groups_suppressed = r->groups_suppressed;
	m.epsilon = r->epsilon;
	m.outcome = r->outcome;
	m.reason = reason;
	return out ? weft__audit_record__pack(&m, out)
		   : weft__audit_record__get_packed_size(&m);
}

typedef struct aud_app {
	weft_store_t *st;
	const weft_audit_rec_t *recs;
	size_t n;
	const uint8_t *buf; /* the encoded records, one after the other */
	const size_t *off;  /* record i: buf[off[i] .. off[i + 1]) */
	uint64_t max;
} aud_app_t;

/* The next sequence number inside txn: meta's counter, or one past the
 * newest key's if that is higher (a counter lost or set back). */
static int
aud_seq_get(weft_store_t *st, MDB_txn *txn, uint64_t *seq)
{
	MDB_val k = {sizeof(AUD_SEQ) - 1, (void *)AUD_SEQ}, v;
	MDB_cursor *cur;
	uint64_t n = 1;
	int rc;

	rc = mdb_get(txn, st->st_meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		memcpy(&n, v.mv_data, 8);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->st_audit, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == AUD_KEY &&
	    aud_get64((const uint8_t *)k.mv_data + 8) >= n)
		n = aud_get64((const uint8_t *)k.mv_data + 8) + 1;
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	*seq = n;
	return 0;
}

static int
aud_seq_put(weft_store_t *st, MDB_txn *txn, uint64_t seq)
{
	MDB_val k = {sizeof(AUD_SEQ) - 1, (void *)AUD_SEQ}, v = {8, &seq};

	return mdb_put(txn, st->st_meta, &k, &v, 0);
}

/* Delete the oldest records until at most max remain: one cursor step
 * and delete per record pruned. */
static int
aud_prune(weft_store_t *st, MDB_txn *txn, uint64_t max)
{
	MDB_cursor *cur;
	MDB_stat ms;
	MDB_val k, v;
	uint64_t have;
	int rc;

	if ((rc = mdb_stat(txn, st->st_audit, &ms)) != 0)
		return rc;
	have = ms.ms_entries;
	if (have <= max)
		return 0;
	if ((rc = mdb_cursor_open(txn, st->st_audit, &cur)) != 0)
		return rc;
	for (; have > max && rc == 0; have--) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		if (rc == 0)
			rc = mdb_cursor_del(cur, 0);
	}
	mdb_cursor_close(cur);
	return rc;
}

static int
aud_append_work(MDB_txn *txn, void *arg, weft_err_t *err)
{
	aud_app_t *a = arg;
	uint8_t kb[AUD_KEY];
	MDB_val k = {sizeof(kb), kb}, v;
	uint64_t seq;
	size_t i;
	int rc;

	(void)err;
	if ((rc = aud_seq_get(a->st, txn, &seq)) != 0)
		return rc;
	for (i = 0; i < a->n; i++) {
		aud_put64(kb, (uint64_t)a->recs[i].at_us);
		aud_put64(kb + 8, seq++);
		v.mv_size = a->off[i + 1] - a->off[i];
		v.mv_data = (void *)(a->buf + a->off[i]);
		rc = mdb_put(txn, a->st->st_audit, &k, &v, MDB_NOOVERWRITE);
		if (rc != 0)
			return rc;
	}
	if ((rc = aud_seq_put(a->st, txn, seq)) != 0)
		return rc;
	return aud_prune(a->st, txn, a->max);
}

int
weft_audit_append(weft_store_t *st, const weft_audit_rec_t *recs, size_t n,
		  uint64_t max, weft_err_t *err)
{
	aud_app_t a = {.st = st,
		       .recs = recs,
		       .n = n,
		       .max = max ? max : WEFT_AUDIT_MAX_DEFAULT};
	uint8_t *buf = NULL;
	size_t *off = NULL, i;
	int rc;

	if (n == 0)
		return 0;
	if (st->st_readonly || !st->st_has_audit)
		return weft_err_set(err, WEFT_ESTORE,
				    "audit: %s: the store is open read-only",
				    st->st_dir);
	for (i = 0; i < n; i++)
		if ((rc = aud_check(&recs[i], i, err)) != 0)
			return rc;
	off = malloc((n + 1) * sizeof(*off));
	if (off == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	off[0] = 0;
	for (i = 0; i < n; i++)
		off[i + 1] = off[i] + aud_encode(&recs[i], NULL);
	buf = malloc(off[n] ? off[n] : 1);
	if (buf == NULL) {
		free(off);
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		aud_encode(&recs[i], buf + off[i]);
	a.buf = buf;
	a.off = off;
	rc = weft_store_write(st, off[n] + n * (AUD_KEY + 64), "audit",
			      aud_append_work, &a, err);
	free(buf);
	free(off);
	return rc;
}

/* ---- reading ---- */

/* A decoded string within max bytes? */
static int
aud_str_ok(const char *s, size_t max)
{
	return s != NULL && strnlen(s, max + 1) <= max;
}

/* Decode the record stored under k (16 bytes: checked by the caller)
 * into r. 0, or WEFT_ECORRUPT naming it (dir: the store's). */
static int
aud_decode(const char *dir, const MDB_val *k, const MDB_val *v,
	   weft_audit_rec_t *r, weft_err_t *err)
{
	const uint8_t *kb = k->mv_data;
	int64_t at = (int64_t)aud_get64(kb);
	Weft__AuditRecord *m = NULL;
	const char *why = NULL;
	char ts[40];

	memset(r, 0, sizeof(*r));
	if (v->mv_size > AUD_VAL_MAX)
		why = "too large";
	else if ((m = weft__audit_record__unpack(NULL, v->mv_size,
						 v->mv_data)) == NULL)
		why = "does not decode";
	else if (m->at_us != at)
		why = "its time differs from its key's";
	else if (m->asker_pk.len != WEFT_PK_BYTES)
		why = "asker key is not 32 bytes";
	else if (m->frag_hash.len != AUD_HASH)
		why = "fragment hash is not 32 bytes";
	else if (!aud_str_ok(m->asker_org, WEFT_NAME_MAX))
		why = "asker org missing or too long";
	else if (!aud_str_ok(m->product, WEFT_PRODUCT_NAME_MAX))
		why = "product name missing or too long";
	else if (!aud_str_ok(m->reason, WEFT_AUDIT_REASON_MAX))
		why = "reason missing or too long";
	else if (!isfinite(m->epsilon) || m->epsilon < 0)
		why = "epsilon not a finite number >= 0";
	if (why != NULL) {
		weft__audit_record__free_unpacked(m, NULL);
		if (at > 0)
			weft_fmt_ts(at, ts);
		else
			snprintf(ts, sizeof(ts), "%lld us", (long long)at);
		return weft_err_set(err, WEFT_ECORRUPT,
				    "%s: audit record %llu (at %s UTC) is "
				    "corrupt: %s",
				    dir, (unsigned long long)aud_get64(kb + 8),
				    ts, why);
	}
	r->at_us = at;
	memcpy(r->asker_pk, m->asker_pk.data, WEFT_PK_BYTES);
	strcpy(r->asker_org, m->asker_org);
	strcpy(r->product, m->product);
	r->product_version = m->product_version;
	r->policy_version = m->policy_version;
	r->grant_line = m->grant_line;
	memcpy(r->frag_hash, m->frag_hash.data, AUD_HASH);
	r->rows = m->rows;
	r->groups = m->groups;
	r->groups_suppressed = m->groups_suppressed;
	r->epsilon = m->epsilon;
	r->outcome = m->outcome;
	strcpy(r->reason, m->reason);
	weft__audit_record__free_unpacked(m, NULL);
	return 0;
}

static int
aud_match(const weft_audit_filter_t *f, const weft_audit_rec_t *r)
{
	return (f->product == NULL || strcmp(f->product, r->product) == 0) &&
	       (f->asker_org == NULL ||
		strcmp(f->asker_org, r->asker_org) == 0) &&
	       (!f->refused_only || r->outcome != 0);
}

typedef struct aud_walk {
	const char *dir;
	const weft_audit_filter_t *f;
	MDB_cursor *cur;
	weft_audit_rec_t rec;
	uint8_t start[AUD_KEY]; /* where the forward walk begins */
} aud_walk_t;

/* The record at the cursor (k, v) into w->rec: 1 if it matches the
 * filter, 0 if not, else WEFT_ECORRUPT. */
static int
aud_read(aud_walk_t *w, const MDB_val *k, const MDB_val *v, weft_err_t *err)
{
	int rc;

	if (k->mv_size != AUD_KEY)
		return weft_err_set(err, WEFT_ECORRUPT,
				    "%s: audit table: a key of %zu bytes is "
				    "not a record's (16)",
				    w->dir, k->mv_size);
	if ((rc = aud_decode(w->dir, k, v, &w->rec, err)) != 0)
		return rc;
	return aud_match(w->f, &w->rec);
}

/* Backward from the newest record: set w->start to the key of the
 * limit-th newest match (or leave it at since_us if there are fewer). */
static int
aud_find_start(aud_walk_t *w, weft_err_t *err)
{
	uint64_t seen = 0;
	MDB_val k, v;
	int rc;

	for (rc = mdb_cursor_get(w->cur, &k, &v, MDB_LAST); rc == 0;
	     rc = mdb_cursor_get(w->cur, &k, &v, MDB_PREV)) {
		if (k.mv_size == AUD_KEY &&
		    (int64_t)aud_get64(k.mv_data) < w->f->since_us)
			return 0;
		if ((rc = aud_read(w, &k, &v, err)) < 0)
			return rc;
		if (rc == 1 && ++seen == w->f->limit) {
			memcpy(w->start, k.mv_data, AUD_KEY);
			return 0;
		}
	}
	return rc == MDB_NOTFOUND ? 0 : weft_store_mdb_err(err, rc, "audit");
}

static int
aud_walk(aud_walk_t *w, int (*cb)(const weft_audit_rec_t *r, void *ctx),
	 void *ctx, weft_err_t *err)
{
	MDB_val k = {AUD_KEY, w->start}, v;
	int rc;

	aud_put64(w->start, w->f->since_us > 0 ? (uint64_t)w->f->since_us : 0);
	memset(w->start + 8, 0, 8);
	if (w->f->limit > 0 && (rc = aud_find_start(w, err)) != 0)
		return rc;
	for (rc = mdb_cursor_get(w->cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(w->cur, &k, &v, MDB_NEXT)) {
		if ((rc = aud_read(w, &k, &v, err)) < 0)
			return rc;
		if (rc == 1 && (rc = cb(&w->rec, ctx)) != 0)
			return rc;
	}
	return rc == MDB_NOTFOUND ? 0 : weft_store_mdb_err(err, rc, "audit");
}

int
weft_audit_list(weft_store_t *st, const weft_audit_filter_t *f,
		int (*cb)(const weft_audit_rec_t *r, void *ctx), void *ctx,
		weft_err_t *err)
{
	static const weft_audit_filter_t all = {0};
	weft_snapshot_t *snap = NULL;
	aud_walk_t *w;
	int rc;

	if (!st->st_has_audit)
		return 0;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	w->dir = st->st_dir;
	w->f = f ? f : &all;
	if ((rc = weft_snapshot_begin(st, &snap, err)) != 0)
		goto out;
	rc = mdb_cursor_open(weft_snapshot_txn(snap), st->st_audit, &w->cur);
	if (rc != 0) {
		rc = weft_store_mdb_err(err, rc, "audit");
		goto out;
	}
	rc = aud_walk(w, cb, ctx, err);
	mdb_cursor_close(w->cur);
out:
	weft_snapshot_end(snap);
	free(w);
	return rc;
}

int
weft_audit_count(weft_store_t *st, uint64_t *n, weft_err_t *err)
{
	MDB_txn *txn;
	MDB_stat ms;
	int rc;

	*n = 0;
	if (!st->st_has_audit)
		return 0;
	if ((rc = weft_store_txn_begin(st, MDB_RDONLY, &txn, err)) != 0)
		return rc;
	rc = mdb_stat(txn, st->st_audit, &ms);
	mdb_txn_abort(txn);
	if (rc != 0)
		return weft_store_mdb_err(err, rc, "audit");
	*n = ms.ms_entries;
	return 0;
}

/* ---- --since ---- */

int
weft_audit_parse_since(const char *s, int64_t now_us, int64_t *since_us,
		       weft_err_t *err)
{
	static const struct {
		char c;
		int64_t us;
	} units[] = {{'s', 1000000LL},
		     {'m', 60000000LL},
		     {'h', 3600000000LL},
		     {'d', 86400000000LL}};
	size_t len = strlen(s), i;
	uint64_t v = 0;
	int64_t t;

	*since_us = 0;
	for (i = 0; i + 1 < len && s[i] >= '0' && s[i] <= '9'; i++)
		v = v >= 100000000000000000ULL
			? UINT64_MAX
			: v * 10 + (uint64_t)(s[i] - '0');
	if (len >= 2 && i == len - 1) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (s[len - 1] != units[i].c)
				continue;
			if (v == 0 || v > (uint64_t)(INT64_MAX / units[i].us))
				break;
			t = now_us - (int64_t)v * units[i].us;
			*since_us = t > 0 ? t : 1; /* before 1970: everything */
			return 0;
		}
	} else if (weft_value_ts(s, len, &t) == 0 && t > 0) {
		*since_us = t;
		return 0;
	}
	return weft_err_set(err, WEFT_EINVAL,
			    "\"%.64s\" is neither an RFC 3339 time after 1970 "
			    "(2026-12-01T00:00:00Z) nor an age (a positive "
			    "number of s, m, h or d: 90s, 15m, 2h, 7d)",
			    s);
}
