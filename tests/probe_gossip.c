/*
 * probe_gossip.c: the probe's gossip mode, an insider pushing signed
 * entries (see tests/probe.c).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/identity.h"
#include "lib/util.h"
#include "weft.pb-c.h"

#include "tests/probe.h"

/*
 * gossip: session up and echo checked, then GossipPush messages signed
 * with DIR's identity: "evil.good" v2 (valid) and v1 (an older replay);
 * "evil.badsig" with one bit of the envelope signature flipped;
 * "evil.origin" whose origin is --victim-key though we sign it; then
 * --flood N distinct valid descriptors "flood.pK" in pushes of at most
 * PROBE_PUSH_MAX entries, as fast as the session takes them; with --hold
 * H the flood goes on for H seconds, round after round of the next
 * versions of the same N names (a sustained insider: replacements are
 * valid entries its neighbours must take up to the origin's budget);
 * with --count R, at R entries a second (what is built goes out while
 * the probe waits), not as fast as it can sign them. Then the session
 * is held open for --seconds, reading and discarding. close_ms counts
 * from the end of the flood.
 */
typedef struct probe_gossip {
	probe_link_t *l;
	const probe_id_t *id;
	uint64_t deadline; /* for every queue wait */
	uint64_t entries;  /* entries queued, all pushes */
	uint64_t pushes;
	uint8_t **env; /* the batch being built */
	size_t *env_len;
	size_t n;
} probe_gossip_t;

/* Keep the link moving for at most wait ms: write what is queued, read
 * and feed input (discarded), run the session's timers. */
static void
probe_link_service(probe_link_t *l, int wait)
{
	struct pollfd p;
	weft_err_t err;
	int w;

	w = probe_link_write_some(l);
	if (w < 0 || l->failed)
		return;
	p.fd = l->fd;
	p.events = POLLIN | (w == 1 ? POLLOUT : 0);
	p.revents = 0;
	if (poll(&p, 1, wait) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
		while (!probe_link_closed(l) && !l->failed &&
		       probe_link_read(l, 1, NULL, NULL, 0) > 0)
			;
	if (!l->failed && weft_sess_next_timer(l->sess) <= probe_now_ms()) {
		memset(&err, 0, sizeof(err));
		if (weft_sess_tick(l->sess, probe_now_ms(), &err) < 0)
			probe_link_fail(l, err.msg);
	}
}

/*
 * A signed descriptor entry "name" at version, with origin (NULL: our
 * own key) in the CatalogEntry. *out is malloc'd. 0 or -1 (printed).
 */
static int
probe_gossip_entry(const probe_id_t *id, const char *name, uint64_t version,
		   const uint8_t *origin, uint8_t **out, size_t *out_len)
{
	Weft__ProductDescriptor d = WEFT__PRODUCT_DESCRIPTOR__INIT;
	Weft__CatalogEntry e = WEFT__CATALOG_ENTRY__INIT;
	const weft_signer_t *s = &id->nid.signer;
	uint8_t *body = NULL, *payload = NULL;
	weft_err_t err = {0};
	size_t blen, plen;
	int64_t now = weft_now_us();
	int rc = -1;

	d.name = (char *)name;
	d.org = (char *)s->org;
	d.node = (char *)s->node;
	d.owner = (char *)"weft-probe";
	d.version = version;
	d.created_at = now;
	d.updated_at = now;
	blen = weft__product_descriptor__get_packed_size(&d);
	body = malloc(blen ? blen : 1);
	if (body == NULL)
		goto oom;
	weft__product_descriptor__pack(&d, body);
	e.kind = WEFT__ENTRY_KIND__ENTRY_DESCRIPTOR;
	e.origin.data = (uint8_t *)(origin ? origin : s->kp->pk);
	e.origin.len = WEFT_PK_BYTES;
	e.name = (char *)name;
	e.version = version;
	e.issued_at = now;
	e.body.data = body;
	e.body.len = blen;
	plen = weft__catalog_entry__get_packed_size(&e);
	payload = malloc(plen ? plen : 1);
	if (payload == NULL)
		goto oom;
	weft__catalog_entry__pack(&e, payload);
	if (weft_envelope_sign(s->kp, s->cert, s->cert_len, payload, plen, out,
			       out_len, &err) != 0) {
		fprintf(stderr, "weft-probe: %s\n", err.msg);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "weft-probe: out of memory\n");
out:
	free(payload);
	free(body);
	return rc;
}

/* Flip one bit of a serialized Envelope's signature, in place (the
 * re-packed envelope has the same length). 0 or -1 (printed). */
static int
probe_gossip_break_sig(uint8_t *env, size_t len)
{
	Weft__Envelope *e;
	int rc = -1;

	e = weft__envelope__unpack(NULL, len, env);
	if (e == NULL || e->signature.len == 0) {
		fprintf(stderr, "weft-probe: cannot decode our envelope\n");
		goto out;
	}
	e->signature.data[e->signature.len / 2] ^= 0x01;
	if (weft__envelope__get_packed_size(e) != len) {
		fprintf(stderr, "weft-probe: envelope changed size\n");
		goto out;
	}
	weft__envelope__pack(e, env);
	rc = 0;
out:
	if (e != NULL)
		weft__envelope__free_unpacked(e, NULL);
	return rc;
}

/*
 * Queue the batch as one GossipPush, waiting (servicing the link) while
 * the session's queue is full. The batch's envelopes are freed either
 * way. 0, or -1 when the link failed, closed or the deadline passed
 * (l->error set).
 */
static int
probe_gossip_push(probe_gossip_t *g)
{
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__GossipPush push = WEFT__GOSSIP_PUSH__INIT;
	ProtobufCBinaryData bd[PROBE_PUSH_MAX];
	weft_err_t err;
	size_t i;
	int rc = -1;

	for (i = 0; i < g->n; i++) {
		bd[i].data = g->env[i];
		bd[i].len = g->env_len[i];
	}
	push.entries = bd;
	push.n_entries = g->n;
	m.msg_case = WEFT__WIRE_MESSAGE__MSG_PUSH;
	m.push = &push;
	for (;;) {
		if (g->l->failed || probe_link_closed(g->l) ||
		    g->l->peer_close) {
			probe_link_why(g->l, -1, "room to push entries");
			break;
		}
		memset(&err, 0, sizeof(err));
		if (weft_sess_send(g->l->sess, probe_now_ms(), &m, &err) == 0) {
			g->entries += g->n;
			g->pushes++;
			rc = 0;
			break;
		}
		if (err.code != WEFT_EAGAIN) {
			probe_link_fail(g->l, err.msg);
			break;
		}
		if (probe_now_ms() >= g->deadline) {
			g->l->timed_out = 1;
			probe_link_why(g->l, -2, "room to push entries");
			break;
		}
		probe_link_service(g->l, 50);
	}
	for (i = 0; i < g->n; i++)
		free(g->env[i]);
	g->n = 0;
	/* Start writing at once; do not wait for the socket. */
	if (rc == 0)
		probe_link_service(g->l, 0);
	return rc;
}

/* --count: if the next entry is not due yet (ms), push the batch built
 * so far and wait. */
static int
probe_gossip_pace(probe_gossip_t *g, uint64_t due)
{
	uint64_t now;

	if (probe_now_ms() >= due)
		return 0;
	if (g->n > 0 && probe_gossip_push(g) != 0)
		return -1;
	while ((now = probe_now_ms()) < due && !g->l->failed &&
	       !probe_link_closed(g->l))
		probe_link_service(g->l, (int)(due - now));
	return 0;
}

/* Add one entry to the batch (pushing it when full, or when flush). */
static int
probe_gossip_add(probe_gossip_t *g, const char *name, uint64_t version,
		 const uint8_t *origin, int break_sig, int flush)
{
	if (probe_gossip_entry(g->id, name, version, origin, &g->env[g->n],
			       &g->env_len[g->n]) != 0)
		return -2;
	g->n++;
	if (break_sig &&
	    probe_gossip_break_sig(g->env[g->n - 1], g->env_len[g->n - 1]))
		return -2;
	if (flush || g->n == PROBE_PUSH_MAX)
		return probe_gossip_push(g);
	return 0;
}

int
probe_mode_gossip(const probe_opts_t *o)
{
	probe_id_t id = {0};
	probe_link_t l;
	probe_json_t j;
	probe_gossip_t g;
	uint8_t *env[PROBE_PUSH_MAX];
	size_t env_len[PROBE_PUSH_MAX], i;
	char name[32];
	uint64_t t0 = 0, t1 = 0, flood = 0, hold;
	unsigned long k, nflood = (o->seen & PROBE_O_FLOOD) ? o->flood : 10000;
	int rc = 1, r = 0, stage = 0;
	int sustain = (o->seen & PROBE_O_HOLD) != 0;

	memset(&l, 0, sizeof(l));
	l.fd = -1;
	memset(&g, 0, sizeof(g));
	g.l = &l;
	g.id = &id;
	g.env = env;
	g.env_len = env_len;
	hold = (o->seen & PROBE_O_SECONDS) ? o->seconds_ms : 3000;
	if (probe_id_load_node(&id, o->data_dir) != 0 ||
	    probe_id_load_mesh(&id, o->data_dir) != 0)
		goto out;
	if (probe_open_session(&l, &id, o, hold + o->timeout_ms + 3600000))
		goto out;
	if (probe_link_establish(&l, probe_now_ms() + o->timeout_ms) != 0)
		goto report;
	g.deadline = probe_now_ms() + o->timeout_ms;
	/* 1: valid v2, then the older v1 (must not replace it). */
	stage = 1;
	if ((r = probe_gossip_add(&g, "evil.good", 2, NULL, 0, 1)) != 0 ||
	    (r = probe_gossip_add(&g, "evil.good", 1, NULL, 0, 1)) != 0)
		goto stop;
	/* 2: a broken envelope signature. */
	stage = 2;
	if ((r = probe_gossip_add(&g, "evil.badsig", 1, NULL, 1, 1)) != 0)
		goto stop;
	/* 3: written under the victim's name, signed by us. */
	stage = 3;
	if ((r = probe_gossip_add(&g, "evil.origin", 1, o->victim_key, 0, 1)) !=
	    0)
		goto stop;
	/* 4: the flood. */
	stage = 4;
	t0 = probe_now_ms();
	g.deadline = t0 + o->timeout_ms;
	for (k = 0; nflood > 0; k++) {
		int last = sustain ? probe_now_ms() >= t0 + o->hold_ms
				   : k + 1 == nflood;

		if ((o->seen & PROBE_O_COUNT) &&
		    (r = probe_gossip_pace(&g, t0 + k * 1000 / o->count)) != 0)
			goto stop;
		snprintf(name, sizeof(name), "flood.p%lu", k % nflood);
		r = probe_gossip_add(&g, name, 1 + k / nflood, NULL, 0, last);
		if (r != 0)
			goto stop;
		if (g.n == 0) {
			flood = k + 1;
			g.deadline = probe_now_ms() + o->timeout_ms;
		}
		if (last)
			break;
	}
	stage = 5;
stop:
	if (r == -2)
		goto out;
	/* Everything queued goes out before the hold starts. */
	if (!probe_link_closed(&l) && !l.failed &&
	    probe_link_flush(&l, probe_now_ms() + o->timeout_ms) == -2 &&
	    l.error[0] == 0)
		snprintf(l.error, sizeof(l.error),
			 "timed out writing the pushes");
	t1 = probe_now_ms();
	if (!probe_link_closed(&l) && !l.failed && !l.peer_close) {
		(void)probe_link_pump(&l, t1 + hold, PROBE_UNTIL_CLOSED);
		if (l.timed_out && !probe_link_closed(&l) && !l.peer_close)
			l.timed_out = 0;
		if (!l.timed_out && !l.failed && !l.peer_close &&
		    !probe_link_closed(&l) && l.error[0] == 0)
			probe_link_goodbye(&l, o->timeout_ms);
	}
report:
	probe_json_begin(&j, o->mode);
	probe_json_link(&j, &l);
	probe_json_str(&j, "error", l.error[0] ? l.error : NULL);
	probe_json_u64(&j, "stages_done", stage > 0 ? (uint64_t)stage - 1 : 0);
	probe_json_u64(&j, "entries_sent", g.entries);
	probe_json_u64(&j, "pushes", g.pushes);
	probe_json_u64(&j, "flood", nflood);
	probe_json_u64(&j, "flood_sent", flood);
	probe_json_ms(&j, "flood_ms", t0, t0 ? t1 : 0);
	probe_json_u64(&j, "local_queued",
		       l.sess ? weft_sess_queued(l.sess) : 0);
	probe_json_close(&j, &l, t1 ? t1 : l.t_start);
	probe_json_end(&j);
	rc = 0;
out:
	for (i = 0; i < g.n; i++)
		free(env[i]);
	probe_link_free(&l);
	probe_id_free(&id);
	return rc;
}
