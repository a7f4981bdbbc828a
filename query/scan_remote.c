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
 * each under its own flow control), except the probe side of a dynamic
 * filter (plan_dynf.c), which waits for its join's build side and goes
 * out with the build side's keys added to its filter.
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
	c->policy = r->policy ? strdup(r->policy) : NULL;
	if (!c->name || !c->org || !c->node || (r->policy && !c->policy)) {
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
	free(r->policy);
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

	o->f = p->frag; /* NULL for a subtree (WQ_REMOTE) */
	if (m == NULL || m->open == NULL)
		return weft_err_set(err, WEFT_EINVAL,
				    "%s.%s is hosted on node %s; start `weft "
				    "agent` to query the mesh",
				    p->remote->org, p->remote->name,
				    p->remote->node);
	if (p->kind == WQ_REMOTE) { /* the subtree's shape */
		n = p->ncols;
		types = calloc(n + 1, sizeof(*types));
		rc = types ? 0 : WEFT_ENOMEM;
		if (rc == 0 && n)
			memcpy(types, p->types, n * sizeof(*types));
	} else
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
		if (p->kind == WQ_SCAN && p->dynkey != NULL) {
			o->deferred = true; /* its join starts it */
			return 0;
		}
		if (p->kind != WQ_REMOTE)
			rc = wq_frag_encode(p->frag, &buf, &len, err);
	}
	wq_an_rsent(o);
	if (rc == 0)
		rc = m->open(m->arg, p->remote, buf ? buf : p->subbuf,
			     buf ? len : p->sublen, &o->rstream, err);
	free(types);
	free(buf);
	if (rc == WEFT_ENOMEM && err->msg[0] == 0)
		weft_err_set(err, rc, "out of memory");
	return rc;
}

/* A copy of fragment bytes buf with `in` added to its filter, as *out
 * (malloc'd); nonzero if it cannot be made (then the plain one goes). */
static int
wq_rscan_filtered(const uint8_t *buf, size_t len, const weft_expr_t *in,
		  uint8_t **out, size_t *olen)
{
	weft_err_t e2 = {0};
	weft_expr_t *args[2], *c = weft_expr_copy(in);
	wq_frag_t *f = NULL;
	int rc;

	if (c == NULL || wq_frag_decode(buf, len, &f, &e2) != 0) {
		weft_expr_free(c);
		return WEFT_ENOMEM;
	}
	if (f->filter != NULL) {
		args[0] = f->filter;
		args[1] = c;
		f->filter = weft_expr_node(WEFT_E_AND, 0, 0, 2, args, -1);
	} else
		f->filter = c;
	rc = f->filter == NULL ? WEFT_ENOMEM
			       : weft_expr_resolve(&f->filter, &e2);
	if (rc == 0)
		rc = wq_frag_settle(f, &e2);
	if (rc == 0)
		rc = wq_frag_encode(f, out, olen, &e2);
	wq_frag_free(f);
	return rc;
}

int
wq_rscan_start(wq_op_t *o, const weft_expr_t *in, weft_err_t *err)
{
	const wq_plan_t *p = o->p;
	const weft_mesh_t *m = o->x->mesh;
	uint8_t *buf = NULL, *fb = NULL;
	size_t len = 0, flen = 0;
	int rc;

	o->deferred = false;
	rc = wq_frag_encode(p->frag, &buf, &len, err);
	if (rc == 0 && in != NULL &&
	    wq_rscan_filtered(buf, len, in, &fb, &flen) == 0) {
		free(buf);
		buf = fb;
		len = flen;
	}
	if (rc == 0)
		rc = m->open(m->arg, p->remote, buf, len, &o->rstream, err);
	free(buf);
	return rc;
}

int
wq_rscan_next(wq_op_t *o, weft_batch_t **out, weft_err_t *err)
{
	const weft_mesh_t *m = o->x->mesh;
	const uint8_t *buf;
	size_t len;
	int rc;

	if (o->deferred && (rc = wq_rscan_start(o, NULL, err)) != 0)
		return rc;
	o->xdict = NULL;
	for (;;) {
		rc = wq_an_rnext(o, m, &buf, &len, err);
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
