/*
 * gossip_int.h: what the files of the gossip core share (gossip.h is
 * its public face): the held entry and origin digest, and the helpers of
 * gossip_entry.c, which read entries and free messages and call nothing
 * back in gossip.c.
 */
#ifndef WEFT_NODE_GOSSIP_INT_H
#define WEFT_NODE_GOSSIP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "node/gossip.h"
#include "storage/entry.h"

#define G_HASH 16
#define G_PUSH_MAX (512 * 1024) /* bytes of entries per push message */
#define G_DIGEST_MAX 20000	/* origins per digest message */
#define G_PUSH_ENTRIES_MAX 4096 /* entries per received push */
#define G_KEYS_MAX 4096		/* keys per IHave / Graft */
#define G_LAZY_MAX 4096		/* lazy announcements queued per peer */
#define G_TOLD 6		/* neighbours remembered to hold a version */

typedef struct g_entry {
	struct g_entry *next; /* hash chain */
	uint8_t key[G_HASH];  /* BLAKE2b-128 of kind, origin, name */
	/* neighbours known to hold this version (pushed or announced it to
	 * us, or we to them): no lazy announcement to them */
	uint64_t told[G_TOLD];
	unsigned ntold;
	int via_tree; /* this version reached us along the broadcast tree
		       * (or is our own): duplicates over the tree prune */
	struct g_origin *orig; /* its origin's digest (origins live as long
				* as the core) */
	int kind, tombstone;
	uint8_t origin[WEFT_PK_BYTES];
	char *name;
	uint64_t version;
	int64_t issued_at;
	uint8_t hash[G_HASH];
	uint8_t *env;
	size_t len;
	/* node records: name, org, roles, address, in one block (nblk) or
	 * g_empty; a simulator holds millions of entries */
	char *nblk;
	const char *node, *org, *roles, *addr;
	uint64_t failed_cover; /* highest reported version; 0 none */
	uint64_t dial_at;      /* last DIAL emitted (ms), 0 never */
	/* reports */
	uint8_t subject[WEFT_PK_BYTES];
	uint64_t subject_version;
	int64_t expires_at; /* INT64_MAX: never */
	int lapsed;	    /* an expired report, its subject's mark redone */
	/* who may see it (docs/gossip.md, trust boundaries) */
	char origin_org[WEFT_NAME_MAX + 1];
	int gateway;	  /* node records: the node has the gateway role */
	int vis;	  /* descriptors: 0 org, 1 listed, 2 public */
	char *visible_to; /* listed: ",org1,org2," */
} g_entry_t;

typedef struct g_origin {
	struct g_origin *next;
	uint8_t pk[WEFT_PK_BYTES];
	uint8_t hash[G_HASH];
	uint32_t count;
	size_t idx; /* scratch for g_view */
	int mark;   /* scratch for g_push_marked */
} g_origin_t;

/* "" for the node-record fields of an entry that is not one. */
extern const char weft_gossip__empty[1];

/*
 * Fill e's kind-specific fields (a node record's names and address, a
 * report's subject, a descriptor's visibility) from its verified body;
 * a body that does not parse leaves them as they were.
 */
void weft_gossip__fill(g_entry_t *e, const weft_entry_info_t *info,
		       const uint8_t *body, size_t blen);
/* Kind, origin, name and version of an envelope, without verifying it:
 * 1 if it parses as an entry, else 0. */
int weft_gossip__peek(const uint8_t *env, size_t len, int *kind,
		      uint8_t *origin, char *name, uint64_t *version);

/* Pure helpers of gossip.c, kept here: a ^= b (G_HASH bytes); an
 * entry's key, BLAKE2b-128 of kind, origin and name (lazy pushes name
 * entries by it); its hash bucket of nb (a power of two); the hash of
 * an entry's version (anti-entropy's digests XOR them); an IHave (ihave)
 * or Graft of n keys in one block that weft_gossip_msg_free frees with
 * one free; is org in ",a,b," list; is descriptor e visible to org (its
 * own org, public, or listed)? */
void weft_gossip__xor(uint8_t *a, const uint8_t *b);
void weft_gossip__key(int kind, const uint8_t *origin, const char *name,
		      uint8_t out[G_HASH]);
size_t weft_gossip__bucket(const uint8_t key[G_HASH], size_t nb);
void weft_gossip__entry_hash(const g_entry_t *e, uint8_t out[G_HASH]);
Weft__WireMessage *weft_gossip__keys_msg(size_t n, int ihave,
					 ProtobufCBinaryData **keys,
					 uint64_t **versions, uint8_t **bytes);
int weft_gossip__in_list(const char *list, const char *org);
int weft_gossip__vis_org(const g_entry_t *e, const char *org);

#endif
