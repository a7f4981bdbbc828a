/*
 * gossip_entry.c: the gossip core's leaf helpers (gossip_int.h): reading
 * what an entry says (peek before verifying, fill after), freeing the
 * messages the core builds, and the pure ones: keys, hashes, visibility
 * lists. They call nothing else of the core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/gossip_int.h"
#include "storage/policy.h"

/* A policy goes where its grants name orgs (and its own org): e->vis
 * "listed" with those orgs, as a descriptor's visibility. A body that
 * does not decode lists nobody. */
static void
g_fill_policy(g_entry_t *e, const uint8_t *body, size_t blen)
{
	Weft__Policy *p = NULL;
	const char **orgs = NULL;
	weft_err_t err = {0};
	size_t i, n = 0, need = 2, off = 0;

	e->vis = 1;
	free(e->visible_to);
	e->visible_to = NULL;
	if (weft_policy_decode(body, blen, &p, &err) != 0)
		return;
	if (weft_policy_orgs(p, &orgs, &n) == 0) {
		for (i = 0; i < n; i++)
			need += strlen(orgs[i]) + 1;
		if ((e->visible_to = malloc(need)) != NULL) {
			e->visible_to[off++] = ',';
			for (i = 0; i < n; i++)
				off += (size_t)snprintf(e->visible_to + off,
							need - off, "%s,",
							orgs[i]);
			e->visible_to[off] = 0;
		}
	}
	free(orgs);
	weft__policy__free_unpacked(p, NULL);
}

/* Decode the kind-specific body into e's fields; no other effect. */
void
weft_gossip__fill(g_entry_t *e, const weft_entry_info_t *info,
		  const uint8_t *body, size_t blen)
{
	size_t i, off;

	snprintf(e->origin_org, sizeof(e->origin_org), "%s",
		 info->signer.org_name);
	if (e->tombstone)
		return; /* keeps the visibility of what it replaces */
	if (e->kind == WEFT_ENTRY_NODE) {
		Weft__NodeRecord *r =
		    weft__node_record__unpack(NULL, blen, body);

		if (r == NULL)
			return;
		char roles[160];
		const char *addr = r->n_addresses ? r->addresses[0] : "";
		size_t ln = strnlen(r->name, WEFT_NAME_MAX);
		size_t lo = strnlen(r->org, WEFT_NAME_MAX);
		size_t la = strnlen(addr, WEFT_GOSSIP_ADDR_MAX), lr;
		char *blk;

		/* the roles its certificate grants, not those the record
		 * claims: a node may not make itself a gateway (issue 14,
		 * finding 10) */
		roles[0] = 0;
		e->gateway = 0;
		for (i = 0, off = 0; i < info->signer.nroles; i++) {
			const char *ro = info->signer.roles[i];

			if (strcmp(ro, "gateway") == 0)
				e->gateway = 1;
			if (off + 1 < sizeof(roles))
				off += (size_t)snprintf(
				    roles + off, sizeof(roles) - off, "%s%s",
				    i ? "," : "", ro);
		}
		lr = strlen(roles);
		blk = malloc(ln + lo + lr + la + 4);
		if (blk != NULL) {
			memcpy(blk, r->name, ln);
			blk[ln] = 0;
			memcpy(blk + ln + 1, r->org, lo);
			blk[ln + 1 + lo] = 0;
			memcpy(blk + ln + lo + 2, roles, lr + 1);
			memcpy(blk + ln + lo + lr + 3, addr, la);
			blk[ln + lo + lr + la + 3] = 0;
			free(e->nblk);
			e->nblk = blk;
			e->node = blk;
			e->org = blk + ln + 1;
			e->roles = blk + ln + lo + 2;
			e->addr = blk + ln + lo + lr + 3;
		}
		weft__node_record__free_unpacked(r, NULL);
	} else if (e->kind == WEFT_ENTRY_REPORT) {
		Weft__FailureReport *r =
		    weft__failure_report__unpack(NULL, blen, body);

		if (r == NULL)
			return;
		if (r->subject.len == WEFT_PK_BYTES) {
			memcpy(e->subject, r->subject.data, WEFT_PK_BYTES);
			e->subject_version = r->subject_version;
		}
		weft__failure_report__free_unpacked(r, NULL);
	} else if (e->kind == WEFT_ENTRY_POLICY) {
		g_fill_policy(e, body, blen);
	} else if (e->kind == WEFT_ENTRY_DESCRIPTOR) {
		Weft__ProductDescriptor *d =
		    weft__product_descriptor__unpack(NULL, blen, body);
		size_t need = 2;

		if (d == NULL)
			return;
		e->vis = d->visibility == WEFT__VISIBILITY__VIS_PUBLIC	 ? 2
			 : d->visibility == WEFT__VISIBILITY__VIS_LISTED ? 1
									 : 0;
		free(e->visible_to);
		e->visible_to = NULL;
		for (i = 0; i < d->n_visible_to; i++)
			need += strlen(d->visible_to[i]) + 1;
		if (e->vis == 1 && (e->visible_to = malloc(need)) != NULL) {
			off = 0;
			e->visible_to[off++] = ',';
			for (i = 0; i < d->n_visible_to; i++)
				off += (size_t)snprintf(e->visible_to + off,
							need - off, "%s,",
							d->visible_to[i]);
			e->visible_to[off] = 0;
		}
		weft__product_descriptor__free_unpacked(d, NULL);
	}
}

/* Kind, origin, name and version of an envelope without verifying it. */
int
weft_gossip__peek(const uint8_t *env, size_t len, int *kind, uint8_t *origin,
		  char *name, uint64_t *version)
{
	Weft__Envelope *ev = weft__envelope__unpack(NULL, len, env);
	Weft__CatalogEntry *ce = NULL;
	int ok = 0;

	if (ev != NULL)
		ce = weft__catalog_entry__unpack(NULL, ev->payload.len,
						 ev->payload.data);
	if (ce != NULL && ce->origin.len == WEFT_PK_BYTES &&
	    strlen(ce->name) <= WEFT_ENTRY_NAME_MAX) {
		*kind = ce->kind;
		memcpy(origin, ce->origin.data, WEFT_PK_BYTES);
		strcpy(name, ce->name);
		*version = ce->version;
		ok = 1;
	}
	if (ce)
		weft__catalog_entry__free_unpacked(ce, NULL);
	if (ev)
		weft__envelope__free_unpacked(ev, NULL);
	return ok;
}

void
weft_gossip_msg_free(Weft__WireMessage *m)
{
	if (m == NULL)
		return;
	switch (m->msg_case) {
	case WEFT__WIRE_MESSAGE__MSG_PUSH:
		if (m->push) {
			size_t i;

			for (i = 0; i < m->push->n_entries; i++)
				free(m->push->entries[i].data);
			free(m->push->entries);
		}
		free(m->push);
		break;
	case WEFT__WIRE_MESSAGE__MSG_SUMMARY: free(m->summary); break;
	case WEFT__WIRE_MESSAGE__MSG_DIGEST:
		if (m->digest) /* one block: pointers, then digests */
			free(m->digest->origins);
		free(m->digest);
		break;
	case WEFT__WIRE_MESSAGE__MSG_IHAVE: /* one block with its keys */
		free(m->ihave);
		break;
	case WEFT__WIRE_MESSAGE__MSG_GRAFT: free(m->graft); break;
	case WEFT__WIRE_MESSAGE__MSG_PRUNE: free(m->prune); break;
	case WEFT__WIRE_MESSAGE__MSG_JOIN:
		if (m->join)
			free(m->join->record.data);
		free(m->join);
		break;
	case WEFT__WIRE_MESSAGE__MSG_FORWARD_JOIN:
		if (m->forward_join)
			free(m->forward_join->record.data);
		free(m->forward_join);
		break;
	case WEFT__WIRE_MESSAGE__MSG_DISCONNECT: free(m->disconnect); break;
	default: break;
	}
	free(m);
}

/* ---- keys, hashes and visibility lists (pure) ---- */

void
weft_gossip__xor(uint8_t *a, const uint8_t *b)
{
	int i;

	for (i = 0; i < G_HASH; i++)
		a[i] ^= b[i];
}

/* An entry's key: BLAKE2b-128 of kind, origin and name. Lazy pushes name
 * entries by it, so it must not collide by accident or by design. */
void
weft_gossip__key(int kind, const uint8_t *origin, const char *name,
		 uint8_t out[G_HASH])
{
	crypto_generichash_state st;
	uint8_t k = (uint8_t)kind;

	crypto_generichash_init(&st, NULL, 0, G_HASH);
	crypto_generichash_update(&st, &k, 1);
	crypto_generichash_update(&st, origin, WEFT_PK_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)name, strlen(name));
	crypto_generichash_final(&st, out, G_HASH);
}

size_t
weft_gossip__bucket(const uint8_t key[G_HASH], size_t nb)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)(h & (nb - 1));
}

void
weft_gossip__entry_hash(const g_entry_t *e, uint8_t out[G_HASH])
{
	crypto_generichash_state st;
	uint8_t k[10];
	int i;

	k[0] = (uint8_t)e->kind;
	k[1] = (uint8_t)e->tombstone;
	for (i = 0; i < 8; i++)
		k[2 + i] = (uint8_t)(e->version >> (8 * i));
	crypto_generichash_init(&st, NULL, 0, G_HASH);
	crypto_generichash_update(&st, k, sizeof(k));
	crypto_generichash_update(&st, e->origin, WEFT_PK_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)e->name,
				  strlen(e->name) + 1);
	crypto_generichash_final(&st, out, G_HASH);
}

/* A message of keys (IHave with versions, or Graft) in one block that
 * weft_gossip_msg_free releases with one free. */
Weft__WireMessage *
weft_gossip__keys_msg(size_t n, int ihave, ProtobufCBinaryData **keys,
		      uint64_t **versions, uint8_t **bytes)
{
	Weft__WireMessage *m = calloc(1, sizeof(*m));
	size_t head =
	    ihave ? sizeof(Weft__GossipIHave) : sizeof(Weft__GossipGraft);
	char *blk;

	head = (head + 15) & ~(size_t)15;
	blk = calloc(1,
		     head + n * (sizeof(**keys) + sizeof(**versions) + G_HASH));
	if (m == NULL || blk == NULL) {
		free(m);
		free(blk);
		return NULL;
	}
	weft__wire_message__init(m);
	*keys = (ProtobufCBinaryData *)(blk + head);
	*versions = (uint64_t *)(*keys + n);
	*bytes = (uint8_t *)(*versions + n);
	if (ihave) {
		m->ihave = (Weft__GossipIHave *)blk;
		weft__gossip_ihave__init(m->ihave);
		m->ihave->keys = *keys;
		m->ihave->versions = *versions;
		m->msg_case = WEFT__WIRE_MESSAGE__MSG_IHAVE;
	} else {
		m->graft = (Weft__GossipGraft *)blk;
		weft__gossip_graft__init(m->graft);
		m->graft->keys = *keys;
		m->msg_case = WEFT__WIRE_MESSAGE__MSG_GRAFT;
	}
	return m;
}

int
weft_gossip__in_list(const char *list, const char *org)
{
	char pat[WEFT_NAME_MAX + 3];

	if (list == NULL)
		return 0;
	snprintf(pat, sizeof(pat), ",%s,", org);
	return strstr(list, pat) != NULL;
}

/* Is descriptor e visible to org? (its own org, public, or listed) */
int
weft_gossip__vis_org(const g_entry_t *e, const char *org)
{
	return strcmp(e->origin_org, org) == 0 || e->vis == 2 ||
	       (e->vis == 1 && weft_gossip__in_list(e->visible_to, org));
}
