/*
 * scan_remote.c: the scan of a product hosted by another node. The
 * fragment the planner cut (frag.h) goes to the hosting node through the
 * query's mesh (query.h, weft_mesh_t: the agent's), which runs it there
 * with the same executor (wq_frag_open) and sends back result batches in
 * the fragment's output shape; this operator decodes them (bwire.h, as
 * hostile input) into the batch the operators above read, so they cannot
 * tell a remote scan from a local one.
 *
 * The fragment is sent when the operator tree is built, so every remote
 * scan of a query starts at once (a join's two sides stream in parallel,
 * each under its own flow control).
 */
#include <stdlib.h>
#include <string.h>

#include "query/bwire.h"
#include "query/exec.h"

weft_remote_t *
wq_remote_copy(const weft_remote_t *r)
{
	weft_remote_t *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	*c = *r;
	c->name = strdup(r->name);
	c->org = strdup(r->org);
	c->node = strdup(r->node);
	if (!c->name || !c->org || !c->node) {
		wq_remote_free(c);
		return NULL;
	}
	return c;
}

void
wq_remote_free(weft_remote_t *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->org);
	free(r->node);
	free(r);
}

int
wq_rscan_open(wq_op_t *o, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	const weft_mesh_t *m = o->x->mesh;
	weft_sqltype_t *types = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint32_t n = 0;
	int rc;

	o->f = p->frag;
	if (m == NULL || m->open == NULL)
		return weft_err_set(err, WEFT_EINVAL,
				    "%s.%s is hosted on node %s; start `weft "
				    "agent` to query the mesh",
				    p->remote->org, p->remote->name,
				    p->remote->node);
	rc = wq_frag_types(p->frag, &n, &types);
	/* a fragment may carry columns nobody above reads (a filter's,
	 * under a LIMIT): the local scan passes them on too */
	if (rc == 0 && n < p->ncols)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "remote scan of %s: %u columns planned, "
				  "%u in its fragment",
				  p->remote->name, p->ncols, n);
	if (rc == 0 && weft_batch_new(n, types, &o->out) != 0)
		rc = WEFT_ENOMEM;
	if (rc == 0) {
		o->ncols = n;
		o->types = types; /* the operator's now */
		types = NULL;
		rc = wq_frag_encode(p->frag, &buf, &len, err);
	}
	if (rc == 0)
		rc = m->open(m->arg, p->remote, buf, len, &o->rstream, err);
	free(types);
	free(buf);
	if (rc == WEFT_ENOMEM && err->msg[0] == 0)
		weft_err_set(err, rc, "out of memory");
	return rc;
}

int
wq_rscan_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	const weft_mesh_t *m = o->x->mesh;
	const uint8_t *buf;
	size_t len;
	int rc;

	o->xdict = NULL;
	for (;;) {
		rc = m->next(m->arg, o->rstream, &buf, &len, err);
		if (rc <= 0)
			return rc;
		rc = weft_bwire_decode(buf, len, o->out, err);
		if (rc != 0) {
			weft_err_prefix(err, "from node %s (%s.%s)",
					o->p->remote->node, o->p->remote->org,
					o->p->remote->name);
			return rc;
		}
		if (o->out->n > 0)
			break;
	}
	*out = o->out;
	return 1;
}

void
wq_rscan_release(wq_op_t *o)
{
	const weft_mesh_t *m = o->x ? o->x->mesh : NULL;

	if (o->rstream != NULL && m != NULL && m->close != NULL)
		m->close(m->arg, o->rstream);
	o->rstream = NULL;
}
