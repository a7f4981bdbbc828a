/*
 * qcache.c: the asker's result cache around storage/qcache.h: keys,
 * and the stored form of one fragment's whole result.
 *
 * Key: BLAKE2b-256 over a domain string, the fragment's bytes, the
 * product's name, org and version, the owner's key, and our own key and
 * certificate (the identity the owner answered). A product's new version,
 * learnt by gossip, makes every old key unreachable. (#9 adds the policy
 * version here.)
 *
 * Value: rows (8) | version (8) | per batch: length (4) | ResultBatch.
 * Only a fragment read to its end is stored (a LIMIT that stopped early
 * leaves nothing), and only when the whole result fits in cap / 4.
 *
 * Called from the query workers: lookups read through a snapshot, a store
 * is one short write transaction.
 */
#include "agent/agent_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "storage/policy_store.h"

#define QC_DEFAULT (256ull * 1024 * 1024)

uint64_t
ag_qc_cap(const agent_t *a)
{
	if (a->o->no_cache)
		return 0;
	return a->o->cache_size ? a->o->cache_size : QC_DEFAULT;
}

void
ag_qc_key(const agent_t *a, const weft_remote_t *r, const uint8_t *frag,
	  size_t len, uint8_t key[WEFT_QCACHE_KEY])
{
	crypto_generichash_state h;
	uint8_t ver[8], pol[8];
	uint64_t epoch = weft_policy_epoch(a->st, r->node_pk);

	memcpy(ver, &r->version, 8);
	memcpy(pol, &epoch, 8);
	crypto_generichash_init(&h, NULL, 0, WEFT_QCACHE_KEY);
	crypto_generichash_update(&h, (const uint8_t *)"weft qcache 1", 14);
	crypto_generichash_update(&h, frag, len);
	crypto_generichash_update(&h, (const uint8_t *)r->name,
				  strlen(r->name) + 1);
	crypto_generichash_update(&h, (const uint8_t *)r->org,
				  strlen(r->org) + 1);
	crypto_generichash_update(&h, ver, sizeof(ver));
	/* the owner's policies as gossiped here */
	crypto_generichash_update(&h, pol, sizeof(pol));
	crypto_generichash_update(&h, r->node_pk, WEFT_PK_BYTES);
	crypto_generichash_update(&h, a->id.kp->pk, WEFT_PK_BYTES);
	crypto_generichash_update(&h, a->id.cert, a->id.cert_len);
	crypto_generichash_final(&h, key, WEFT_QCACHE_KEY);
}

/* Split a stored value into batches; 0, or -1 if it is malformed. */
static int
qc_split(const uint8_t *v, size_t len, aq_buf_t **head, uint64_t *rows,
	 uint64_t *version, uint64_t *batches)
{
	aq_buf_t **tail = head;
	size_t off = 16;

	*head = NULL;
	*batches = 0;
	if (len < 16)
		return -1;
	memcpy(rows, v, 8);
	memcpy(version, v + 8, 8);
	while (off < len) {
		uint32_t l;
		aq_buf_t *b = NULL;

		if (len - off < 4)
			return -1;
		memcpy(&l, v + off, 4);
		off += 4;
		if (l > len - off || (b = calloc(1, sizeof(*b))) == NULL ||
		    (b->data = malloc(l ? l : 1)) == NULL) {
			free(b);
			return -1;
		}
		memcpy(b->data, v + off, l);
		b->len = l;
		off += l;
		*tail = b;
		tail = &b->next;
		(*batches)++;
	}
	return 0;
}

int
ag_qc_load(agent_t *a, const uint8_t key[WEFT_QCACHE_KEY], aq_buf_t **head,
	   uint64_t *rows, uint64_t *version, uint64_t *batches,
	   uint64_t *bytes)
{
	weft_snapshot_t *snap = NULL;
	weft_err_t err = {0};
	uint8_t *v = NULL;
	size_t len = 0;
	int rc;

	*head = NULL;
	if (ag_qc_cap(a) == 0 || weft_snapshot_begin(a->st, &snap, &err) != 0)
		return 0;
	rc = weft_qcache_get(snap, key, &v, &len, &err);
	weft_snapshot_end(snap);
	if (rc != 1)
		return 0;
	if (qc_split(v, len, head, rows, version, batches) != 0) {
		while (*head != NULL) {
			aq_buf_t *b = *head;

			*head = b->next;
			free(b->data);
			free(b);
		}
		free(v);
		return 0;
	}
	*bytes = len - 16 - 4 * *batches;
	free(v);
	(void)weft_qcache_touch(a->st, key, weft_now_us(), &err);
	return 1;
}

void
ag_qc_add(ag_qc_acc_t *acc, uint64_t cap, const uint8_t *b, size_t len)
{
	uint32_t l = (uint32_t)len;
	size_t need;

	if (acc->off || cap == 0)
		return;
	need = (acc->len ? acc->len : 16) + 4 + len;
	if (need > cap / 4) {
		acc->off = 1; /* too big to keep: stop collecting */
		free(acc->buf);
		acc->buf = NULL;
		acc->len = acc->cap = 0;
		return;
	}
	if (need > acc->cap) {
		size_t nc = acc->cap ? acc->cap : 4096;
		uint8_t *nb;

		while (nc < need)
			nc *= 2;
		nb = realloc(acc->buf, nc);
		if (nb == NULL) {
			acc->off = 1;
			return;
		}
		acc->buf = nb;
		acc->cap = nc;
	}
	if (acc->len == 0)
		acc->len = 16; /* rows and version, filled at the end */
	memcpy(acc->buf + acc->len, &l, 4);
	memcpy(acc->buf + acc->len + 4, b, len);
	acc->len += 4 + len;
}

void
ag_qc_store(agent_t *a, const uint8_t key[WEFT_QCACHE_KEY], ag_qc_acc_t *acc,
	    uint64_t rows, uint64_t version)
{
	weft_err_t err = {0};

	if (acc->off || ag_qc_cap(a) == 0)
		return;
	if (acc->len == 0) { /* an empty result is a result too */
		if (acc->cap < 16) {
			uint8_t *nb = realloc(acc->buf, 16);

			if (nb == NULL)
				return;
			acc->buf = nb;
			acc->cap = 16;
		}
		acc->len = 16;
	}
	memcpy(acc->buf, &rows, 8);
	memcpy(acc->buf + 8, &version, 8);
	(void)weft_qcache_put(a->st, key, acc->buf, acc->len, ag_qc_cap(a),
			      weft_now_us(), &err);
}

void
ag_qc_acc_free(ag_qc_acc_t *acc)
{
	free(acc->buf);
	memset(acc, 0, sizeof(*acc));
}
