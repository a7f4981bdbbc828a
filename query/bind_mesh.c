/*
 * bind_mesh.c: names of products hosted by other nodes. After bind_from.c
 * looked a relation up among the snapshot's own products, the signed
 * descriptors in the snapshot's catalog say which other nodes host a
 * product of that name (storage/catalog.h, weft_snapshot_descriptors).
 *
 * The rules (docs/sql.md): `org.domain.product` names the one product of
 * that org; `domain.product` and a bare `product` are accepted when
 * exactly one product the node may see has that name, here or on another
 * node; otherwise the error lists the candidates as org.domain.product.
 * Without a way to reach other nodes (no agent), a remote name says where
 * the product is hosted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "query/bind.h"
#include "storage/catalog.h"

#define WQ_CAND_MAX 8 /* candidates named in an ambiguity error */

typedef struct wq_cands {
	const char *org; /* only this org's (catalog name given), or NULL */
	weft_product_info_t pi[WQ_CAND_MAX];
	uint8_t pk[WQ_CAND_MAX][WEFT_PK_BYTES];
	int64_t issued[WQ_CAND_MAX];
	size_t n, total;
	int oom;
} wq_cands_t;

static int
wq_cand_add(void *arg, const weft_product_info_t *pi,
	    const weft_entry_info_t *ei)
{
	wq_cands_t *c = arg;

	size_t i;

	if (c->org != NULL && (pi->org == NULL || strcmp(pi->org, c->org) != 0))
		return 0;
	/* one org, one node name, two keys: the node was made anew and
	 * published again; its older self's descriptor lingers until it
	 * expires. The newer one is the product. */
	for (i = 0; i < c->n; i++)
		if (pi->org && pi->node && c->pi[i].org && c->pi[i].node &&
		    strcmp(pi->org, c->pi[i].org) == 0 &&
		    strcmp(pi->node, c->pi[i].node) == 0 &&
		    strcmp(pi->name, c->pi[i].name) == 0) {
			if (ei->issued_at <= c->issued[i])
				return 0;
			weft_product_info_clear(&c->pi[i]);
			if (weft_product_info_copy(&c->pi[i], pi) != 0) {
				c->oom = 1;
				return 1;
			}
			memcpy(c->pk[i], ei->origin, WEFT_PK_BYTES);
			c->issued[i] = ei->issued_at;
			return 0;
		}
	c->total++;
	if (c->n < WQ_CAND_MAX) {
		if (weft_product_info_copy(&c->pi[c->n], pi) != 0) {
			c->oom = 1;
			return 1;
		}
		memcpy(c->pk[c->n], ei->origin, WEFT_PK_BYTES);
		c->issued[c->n] = ei->issued_at;
		c->n++;
	}
	return 0;
}

static void
wq_cands_clear(wq_cands_t *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		weft_product_info_clear(&c->pi[i]);
	c->n = 0;
}

static int
wq_ambiguous(wq_bindctx_t *b, const char *full, const char *local_org,
	     const char *local, wq_cands_t *c, int loc, weft_err_t *err)
{
	char list[768];
	size_t i, o = 0;

	list[0] = 0;
	if (local != NULL)
		o += (size_t)snprintf(list, sizeof(list), "%s.%s (this node)",
				      local_org ? local_org : "?", local);
	for (i = 0; i < c->n && o < sizeof(list); i++)
		o += (size_t)snprintf(
		    list + o, sizeof(list) - o, "%s%s.%s (node %s)",
		    o ? ", " : "", c->pi[i].org, c->pi[i].name, c->pi[i].node);
	if (c->total > c->n && o < sizeof(list))
		snprintf(list + o, sizeof(list) - o, ", and %zu more",
			 c->total - c->n);
	WQ_ERR(b, err, loc,
	       "relation \"%s\" is ambiguous: it names %s; give it as "
	       "org.domain.product",
	       full, list);
	return WEFT_EINVAL;
}

static weft_remote_t *
wq_remote_of(const weft_product_info_t *pi, const uint8_t pk[WEFT_PK_BYTES])
{
	weft_remote_t *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->name = strdup(pi->name);
	r->org = strdup(pi->org ? pi->org : "");
	r->node = strdup(pi->node ? pi->node : "");
	memcpy(r->node_pk, pk, WEFT_PK_BYTES);
	r->version = pi->version;
	r->rows = pi->row_count;
	if (!r->name || !r->org || !r->node) {
		wq_remote_free(r);
		return NULL;
	}
	return r;
}

int
wq_mesh_resolve(wq_bindctx_t *b, PgQuery__RangeVar *rv, const char *local,
		const char *local_org, weft_remote_t **rem,
		weft_product_info_t *rpi, weft_err_t *err)
{
	const char *rel = rv->relname, *sch = rv->schemaname;
	const char *cat = rv->catalogname;
	char key[WEFT_PRODUCT_NAME_MAX + 2],
	    full[WEFT_PRODUCT_NAME_MAX * 2 + 4];
	wq_cands_t c = {0};
	int rc, loc = rv->location;

	*rem = NULL;
	if (sch && *sch)
		snprintf(key, sizeof(key), "%s.%s", sch, rel);
	else
		snprintf(key, sizeof(key), "%s", rel);
	if (cat && *cat) {
		snprintf(full, sizeof(full), "%s.%s", cat, key);
		c.org = cat;
	} else {
		snprintf(full, sizeof(full), "%s", key);
	}
	rc = weft_snapshot_descriptors(b->snap, key, b->mesh->self,
				       weft_now_us(), wq_cand_add, &c, err);
	if (c.oom)
		rc = wq_oom_rc(b, err);
	if (rc != 0)
		goto out;
	if (c.total == 0)
		goto out; /* the local one, if any */
	if (c.total + (local != NULL) > 1) {
		rc = wq_ambiguous(b, full, local_org, local, &c, loc, err);
		goto out;
	}
	if (b->mesh->open == NULL) {
		WQ_ERR(b, err, loc,
		       "relation \"%s\" is hosted on node %s of org %s; start "
		       "`weft agent` to query the mesh",
		       full, c.pi[0].node, c.pi[0].org);
		rc = WEFT_EINVAL;
		goto out;
	}
	*rem = wq_remote_of(&c.pi[0], c.pk[0]);
	if (*rem != NULL) {
		const weft_mesh_t *m = b->mesh;

		(*rem)->cross = m->self_org != NULL &&
				strcmp((*rem)->org, m->self_org) != 0;
		(*rem)->tunnel =
		    m->direct != NULL && !m->direct(m->arg, (*rem)->node_pk);
	}
	if (*rem == NULL || weft_product_info_copy(rpi, &c.pi[0]) != 0) {
		wq_remote_free(*rem);
		*rem = NULL;
		rc = wq_oom_rc(b, err);
	}
out:
	wq_cands_clear(&c);
	return rc;
}
