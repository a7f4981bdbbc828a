/*
 * audit.h: the owner's audit log (issue #13, docs/audit.md): one record
 * for every remote query fragment this node answered or refused, kept in
 * its store (table "audit").
 *
 * Layout: key = at_us (8 bytes, big-endian) | seq (8 bytes, big-endian),
 * value = an AuditRecord (proto/weft.proto). seq is a per-store counter
 * (meta "audit_seq") that only grows, so keys sort by time, records with
 * the same at_us keep the order they were appended in, and no two keys
 * collide even when the clock steps back. The table holds records only,
 * so its entry count is the number of records.
 *
 * Invariants: an append is one write transaction (records and pruning
 * together: a reader sees all of a batch or none of it); the table keeps
 * at most `max` records, the oldest (by key) pruned first, at a cost
 * proportional to the records pruned. Stored records are read as hostile
 * input: one that does not decode, or whose fields break the bounds
 * below, is reported as WEFT_ECORRUPT naming the record, never trusted.
 */
#ifndef WEFT_STORAGE_AUDIT_H
#define WEFT_STORAGE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "lib/err.h"
#include "storage/descriptor.h"
#include "storage/store.h"

#define WEFT_AUDIT_REASON_MAX 255
#define WEFT_AUDIT_MAX_DEFAULT 1000000 /* records kept; oldest pruned */

typedef struct weft_audit_rec {
	int64_t at_us;			 /* when answered/refused (unix µs) */
	uint8_t asker_pk[WEFT_PK_BYTES]; /* the asking node's key */
	char asker_org[WEFT_NAME_MAX + 1];	 /* its org (certificate) */
	char product[WEFT_PRODUCT_NAME_MAX + 1]; /* domain.product */
	uint64_t product_version;
	uint64_t policy_version; /* 0: no policy */
	uint32_t grant_line;	 /* 0: no grant applied */
	uint8_t frag_hash[32];	 /* BLAKE2b-256 of the fragment bytes */
	uint64_t rows, groups, groups_suppressed;
	double epsilon; /* ε spent (noise), 0 none */
	int outcome;	/* 0 answered, else the weft error code (WEFT_EDENIED,
			   ...) */
	char reason[WEFT_AUDIT_REASON_MAX + 1]; /* refusal message, "" when
						   answered */
} weft_audit_rec_t;

/*
 * Copy msg (NULL: "") into r->reason, cut to WEFT_AUDIT_REASON_MAX bytes
 * at a UTF-8 character boundary. For a refusal's err.msg, which may be
 * longer than the field.
 */
void weft_audit_set_reason(weft_audit_rec_t *r, const char *msg);

/*
 * Append n records in ONE write transaction (the agent batches them);
 * keeps at most `max` records (0: WEFT_AUDIT_MAX_DEFAULT), pruning the
 * oldest in the same transaction. Goes through the store's one write
 * path (weft_store_write in store_int.h: map growth, MDB_MAP_FULL).
 *
 * Every record is checked before anything is written: at_us > 0,
 * asker_org, product and reason NUL-terminated within their arrays,
 * product not empty, epsilon finite and >= 0; one that is not refuses
 * the whole batch with WEFT_EINVAL naming it (its index), and nothing is
 * written. A reason is stored cut at a UTF-8 boundary (a character the
 * caller's own truncation split is dropped). recs is borrowed for the
 * call. n == 0 does nothing. Returns 0 once committed, else WEFT_EINVAL,
 * WEFT_ENOMEM, WEFT_EMAPFULL, WEFT_ESTORE (also on a store opened read
 * only), with err filled. The commit syncs the store to disk (fsync):
 * batch records rather than appending them one at a time.
 */
int weft_audit_append(weft_store_t *st, const weft_audit_rec_t *recs, size_t n,
		      uint64_t max, weft_err_t *err);

typedef struct weft_audit_filter {
	const char *product;   /* NULL: all */
	const char *asker_org; /* NULL: all */
	int64_t since_us;      /* 0: all */
	int refused_only;      /* outcome != 0 only */
	uint64_t limit; /* 0: no limit; the newest `limit` matching, printed
			   oldest first */
} weft_audit_filter_t;

/*
 * Matching records in time order; cb returns non-zero to stop. Read in one
 * snapshot.
 *
 * f NULL matches everything; product and asker_org match exactly;
 * since_us keeps records with at_us >= since_us. r is borrowed for the
 * call only. cb must not write to the store (the snapshot is open while
 * it runs), and the call may block while another thread of this process
 * grows the map, so it does not belong on an event loop. A store opened
 * read-only that predates the audit table lists nothing. Returns 0, cb's
 * non-zero value if it stopped the walk, WEFT_ECORRUPT for a record that
 * does not decode (err names it by time and sequence number; the records
 * before it were already given to cb), WEFT_ENOMEM or WEFT_ESTORE.
 */
int weft_audit_list(weft_store_t *st, const weft_audit_filter_t *f,
		    int (*cb)(const weft_audit_rec_t *r, void *ctx), void *ctx,
		    weft_err_t *err);

/*
 * Records held now (0 for a read-only store without the table). 0, or
 * WEFT_ESTORE with err filled.
 */
int weft_audit_count(weft_store_t *st, uint64_t *n, weft_err_t *err);

/*
 * A --since argument: an RFC 3339 time ("2026-12-01T00:00:00Z"; a zone
 * offset, or a bare date, as weft_value_ts reads them) or an age before
 * now_us: a positive number with s, m, h or d ("90s", "15m", "2h",
 * "7d"). *since_us > 0. 0, or WEFT_EINVAL with a message quoting s.
 */
int weft_audit_parse_since(const char *s, int64_t now_us, int64_t *since_us,
			   weft_err_t *err);

#endif
