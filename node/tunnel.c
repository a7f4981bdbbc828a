/*
 * tunnel.c: end-to-end sessions through gateways (node/tunnel.h).
 *
 * State: the neighbours (sessions the node core reported up), the tunnels
 * ended here (each an inner session core fed with Relay payloads), and,
 * on a gateway, the flows it relays: (src, dst, tunnel id) -> the
 * neighbour it came from and the one it goes to. All are short arrays
 * searched linearly (at most WEFT_TUN_MAX tunnels, WEFT_TUN_FLOWS_MAX
 * flows).
 *
 * Every message this core makes is one malloc'd block (the WireMessage,
 * its member, keys, org and payload), so weft_tun_msg_free is free().
 */
#include "node/tunnel.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/revoke.h"

#define T_ORG_MAX WEFT_NAME_MAX
#define T_TRIED_MAX 8
#define T_TEXT_MAX 256

typedef struct t_peer {
	uint64_t id;
	uint8_t pk[WEFT_PK_BYTES];
	char org[T_ORG_MAX + 1];
	int gateway;
} t_peer_t;

typedef struct t_tunnel {
	uint64_t vid;
	uint8_t remote[WEFT_PK_BYTES];
	char org[T_ORG_MAX + 1]; /* the remote's org (routing) */
	uint64_t tid;
	int initiator, up, in_input, dead;
	uint64_t hop; /* the neighbour our Relays go to */
	uint64_t tried[T_TRIED_MAX];
	size_t ntried;
	weft_sess_t *s;
	weft_trust_t trust; /* the inner session's own copy of the roots */
	weft_pubkey_t *roots;
	weft_revoked_t *revoked; /* ... and of the revoked keys */
	uint64_t last_ms;	 /* last application message */
	uint8_t *pend;		 /* messages waiting: 4-byte length, packed */
	size_t npend;
	char why[200]; /* the last hop's refusal */
} t_tunnel_t;

typedef struct t_flow {
	uint8_t src[WEFT_PK_BYTES], dst[WEFT_PK_BYTES];
	uint64_t tid, in, out, last_ms;
} t_flow_t;

struct weft_tun {
	weft_tun_cfg_t cfg;
	weft_tun_cb_t cb;
	char org[T_ORG_MAX + 1];
	t_peer_t *peers;
	size_t npeers, peercap;
	t_tunnel_t *tuns[WEFT_TUN_MAX];
	size_t ntuns;
	t_flow_t *flows;
	size_t nflows;
	uint64_t next_vid, counter, sweep_at;
	int64_t unix_s; /* wall clock at the last call that told it */
	weft_tun_stats_t st;
};

/* One block: the envelope, its member, keys, org, payload. */
typedef struct t_msg {
	Weft__WireMessage m;
	union {
		Weft__Relay relay;
		Weft__RelayError error;
	} u;
	uint8_t keys[2 * WEFT_PK_BYTES];
	char text[T_TEXT_MAX + 1];
	char text2[T_ORG_MAX + 1];
	uint8_t data[];
} t_msg_t;

void
weft_tun_msg_free(Weft__WireMessage *m)
{
	free(m); /* a t_msg_t: m is its first member */
}

int
weft_tun_new(weft_tun_t **out, const weft_tun_cfg_t *cfg,
	     const weft_tun_cb_t *cb, weft_err_t *err)
{
	weft_tun_t *t = calloc(1, sizeof(*t));

	*out = t;
	if (t == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "tunnels: out of memory");
	t->flows = calloc(WEFT_TUN_FLOWS_MAX, sizeof(*t->flows));
	if (t->flows == NULL) {
		free(t);
		*out = NULL;
		return weft_err_set(err, WEFT_ENOMEM, "tunnels: out of memory");
	}
	t->cfg = *cfg;
	t->cb = *cb;
	snprintf(t->org, sizeof(t->org), "%s", cfg->org ? cfg->org : "");
	t->cfg.org = t->org;
	t->next_vid = 1;
	return 0;
}

static void
t_tunnel_free(t_tunnel_t *x)
{
	weft_sess_free(x->s);
	free(x->roots);
	free(x->revoked);
	free(x->pend);
	free(x);
}

void
weft_tun_free(weft_tun_t *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ntuns; i++)
		t_tunnel_free(t->tuns[i]);
	free(t->flows);
	free(t->peers);
	sodium_memzero(t->cfg.seed, sizeof(t->cfg.seed));
	free(t);
}

void
weft_tun_set_gateway(weft_tun_t *t, int gateway)
{
	t->cfg.gateway = gateway;
}

/* ---- neighbours ---- */

static t_peer_t *
t_peer(weft_tun_t *t, uint64_t id)
{
	size_t i;

	for (i = 0; i < t->npeers; i++)
		if (t->peers[i].id == id)
			return &t->peers[i];
	return NULL;
}

static t_peer_t *
t_peer_pk(weft_tun_t *t, const uint8_t *pk)
{
	size_t i;

	for (i = 0; i < t->npeers; i++)
		if (memcmp(t->peers[i].pk, pk, WEFT_PK_BYTES) == 0)
			return &t->peers[i];
	return NULL;
}

void
weft_tun_peer_up(weft_tun_t *t, uint64_t peer, const uint8_t *pk,
		 const char *org, int gateway)
{
	t_peer_t *p = t_peer(t, peer);

	if (p == NULL) {
		if (t->npeers == t->peercap) {
			size_t nc = t->peercap ? 2 * t->peercap : 8;
			t_peer_t *np = realloc(t->peers, nc * sizeof(*np));

			if (np == NULL)
				return; /* no route through it */
			t->peers = np;
			t->peercap = nc;
		}
		p = &t->peers[t->npeers++];
	}
	p->id = peer;
	memcpy(p->pk, pk, WEFT_PK_BYTES);
	snprintf(p->org, sizeof(p->org), "%s", org ? org : "");
	p->gateway = gateway;
}

/* ---- messages ---- */

static void
t_send_relay(weft_tun_t *t, uint64_t peer, const uint8_t *dst,
	     const uint8_t *src, const char *org, const char *src_org,
	     uint32_t hops, uint64_t tid, const uint8_t *data, size_t len)
{
	t_msg_t *r = malloc(sizeof(*r) + len);

	if (r == NULL)
		return; /* lost, as a full queue would lose it */
	weft__wire_message__init(&r->m);
	weft__relay__init(&r->u.relay);
	r->m.msg_case = WEFT__WIRE_MESSAGE__MSG_RELAY;
	r->m.relay = &r->u.relay;
	memcpy(r->keys, dst, WEFT_PK_BYTES);
	memcpy(r->keys + WEFT_PK_BYTES, src, WEFT_PK_BYTES);
	r->u.relay.dst.data = r->keys;
	r->u.relay.dst.len = WEFT_PK_BYTES;
	r->u.relay.src.data = r->keys + WEFT_PK_BYTES;
	r->u.relay.src.len = WEFT_PK_BYTES;
	snprintf(r->text, sizeof(r->text), "%s", org);
	r->u.relay.dst_org = r->text;
	snprintf(r->text2, sizeof(r->text2), "%s", src_org);
	r->u.relay.src_org = r->text2;
	r->u.relay.hops = hops;
	r->u.relay.tunnel = tid;
	memcpy(r->data, data, len);
	r->u.relay.payload.data = r->data;
	r->u.relay.payload.len = len;
	t->cb.send(t->cb.arg, peer, &r->m);
}

static void t_send_error(weft_tun_t *t, uint64_t peer, const uint8_t *to,
			 const uint8_t *about, uint64_t tid, const char *fmt,
			 ...) __attribute__((format(printf, 6, 7)));

static void
t_send_error(weft_tun_t *t, uint64_t peer, const uint8_t *to,
	     const uint8_t *about, uint64_t tid, const char *fmt, ...)
{
	t_msg_t *r = malloc(sizeof(*r));
	va_list ap;

	if (r == NULL)
		return;
	weft__wire_message__init(&r->m);
	weft__relay_error__init(&r->u.error);
	r->m.msg_case = WEFT__WIRE_MESSAGE__MSG_RELAY_ERROR;
	r->m.relay_error = &r->u.error;
	memcpy(r->keys, to, WEFT_PK_BYTES);
	memcpy(r->keys + WEFT_PK_BYTES, about, WEFT_PK_BYTES);
	r->u.error.to.data = r->keys;
	r->u.error.to.len = WEFT_PK_BYTES;
	r->u.error.about.data = r->keys + WEFT_PK_BYTES;
	r->u.error.about.len = WEFT_PK_BYTES;
	r->u.error.tunnel = tid;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	r->u.error.reason = r->text;
	t->cb.send(t->cb.arg, peer, &r->m);
}

/* ---- tunnels ended here ---- */

static t_tunnel_t *
t_find(weft_tun_t *t, const uint8_t *remote, uint64_t tid)
{
	size_t i;

	for (i = 0; i < t->ntuns; i++)
		if (t->tuns[i]->tid == tid &&
		    memcmp(t->tuns[i]->remote, remote, WEFT_PK_BYTES) == 0)
			return t->tuns[i];
	return NULL;
}

static t_tunnel_t *
t_by_vid(const weft_tun_t *t, uint64_t vid)
{
	size_t i;

	for (i = 0; i < t->ntuns; i++)
		if (t->tuns[i]->vid == vid)
			return t->tuns[i];
	return NULL;
}

const uint8_t *
weft_tun_remote(const weft_tun_t *t, uint64_t vpeer)
{
	const t_tunnel_t *x = t_by_vid(t, vpeer);

	return x ? x->remote : NULL;
}

/* Take x out and free it; the node core hears why. */
static void
t_drop(weft_tun_t *t, t_tunnel_t *x, const char *why)
{
	size_t i;
	uint64_t vid = x->vid;
	char text[sizeof(x->why) + 64];

	/* why may be x->why: copy it before x goes */
	snprintf(text, sizeof(text), "%s", why ? why : "the tunnel closed");
	for (i = 0; i < t->ntuns; i++)
		if (t->tuns[i] == x) {
			t->tuns[i] = t->tuns[--t->ntuns];
			break;
		}
	if (why != NULL)
		t->st.failed++;
	t_tunnel_free(x);
	t->cb.down(t->cb.arg, vid, text);
}

/* Send what the inner session queued, in Relay chunks, to x's hop. */
static void
t_flush(weft_tun_t *t, t_tunnel_t *x, uint64_t now_ms)
{
	weft_sess_buf_t b;
	const uint8_t *self = t->cfg.sess.me->pk;

	while (weft_sess_take(x->s, &b)) {
		size_t off, n;

		for (off = 0; off < b.len; off += n) {
			n = b.len - off;
			if (n > WEFT_TUN_CHUNK)
				n = WEFT_TUN_CHUNK;
			t_send_relay(t, x->hop, x->remote, self, x->org, t->org,
				     0, x->tid, b.data + off, n);
		}
		weft_sess_written(x->s, now_ms, b.len);
		free(b.data);
	}
}

/* Randomness for tunnel n: BLAKE2b keyed with our secret seed. */
static void
t_derive(const weft_tun_t *t, const char *what, uint64_t n, uint8_t *out,
	 size_t len)
{
	uint8_t in[16];

	memset(in, 0, sizeof(in));
	memcpy(in, what, strnlen(what, 8));
	memcpy(in + 8, &n, 8);
	crypto_generichash(out, len, in, sizeof(in), t->cfg.seed,
			   sizeof(t->cfg.seed));
}

static int
t_sess_new(weft_tun_t *t, t_tunnel_t *x, weft_hs_role_t role, uint64_t now_ms,
	   int64_t unix_s, weft_err_t *err)
{
	weft_sess_cfg_t sc = t->cfg.sess;
	uint8_t seed[WEFT_HS_SEED_BYTES];
	int rc;

	/* a copy: the node core's roots change while we shake hands */
	free(x->roots);
	free(x->revoked);
	x->roots = NULL;
	x->revoked = NULL;
	x->trust.n = x->trust.nrevoked = 0;
	if (t->cfg.sess.trust != NULL && t->cfg.sess.trust->nrevoked != 0) {
		size_t n = t->cfg.sess.trust->nrevoked;

		x->revoked = malloc(n * sizeof(*x->revoked));
		if (x->revoked == NULL)
			return weft_err_set(err, WEFT_ENOMEM,
					    "tunnel: out of memory");
		memcpy(x->revoked, t->cfg.sess.trust->revoked,
		       n * sizeof(*x->revoked));
		x->trust.nrevoked = n;
	}
	x->trust.revoked = x->revoked;
	if (t->cfg.sess.trust != NULL && t->cfg.sess.trust->n != 0) {
		size_t n = t->cfg.sess.trust->n;

		x->roots = malloc(n * sizeof(*x->roots));
		if (x->roots == NULL)
			return weft_err_set(err, WEFT_ENOMEM,
					    "tunnel: out of memory");
		memcpy(x->roots, t->cfg.sess.trust->roots,
		       n * sizeof(*x->roots));
		x->trust.n = n;
	}
	x->trust.roots = x->roots;
	sc.trust = &x->trust;
	sc.role = role;
	sc.listen_addr = NULL;
	sc.hs_timeout_ms = WEFT_TUN_HS_MS;
	if (role == WEFT_HS_INITIATOR)
		sc.replay = NULL;
	t_derive(t, "hs", ++t->counter, seed, sizeof(seed));
	rc = weft_sess_new(&x->s, &sc, now_ms, unix_s, seed, err);
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

/* The next first hop for x: the remote itself, a gateway of its org, a
 * gateway of ours; none tried before. */
static int
t_pick(weft_tun_t *t, t_tunnel_t *x, uint64_t *hop)
{
	int pass;
	size_t i, k;

	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < t->npeers; i++) {
			const t_peer_t *p = &t->peers[i];
			int fit =
			    pass == 0
				? memcmp(p->pk, x->remote, WEFT_PK_BYTES) == 0
			    : pass == 1
				? p->gateway && strcmp(p->org, x->org) == 0
				: p->gateway && strcmp(p->org, t->org) == 0;

			for (k = 0; k < x->ntried && fit; k++)
				if (x->tried[k] == p->id)
					fit = 0;
			if (fit) {
				*hop = p->id;
				return 1;
			}
		}
	return 0;
}

/* Start (again) x's handshake through its next first hop. 0, or -1: no
 * hop is left (x->why says why). */
static int
t_start(weft_tun_t *t, t_tunnel_t *x, uint64_t now_ms, int64_t unix_s)
{
	weft_err_t err = {0};
	uint64_t hop;

	weft_sess_free(x->s);
	x->s = NULL;
	if (x->ntried >= T_TRIED_MAX || !t_pick(t, x, &hop)) {
		if (x->why[0] == 0)
			snprintf(x->why, sizeof(x->why),
				 "no gateway leads to org %s", x->org);
		return -1;
	}
	x->tried[x->ntried++] = hop;
	x->hop = hop;
	t_derive(t, "id", ++t->counter, (uint8_t *)&x->tid, sizeof(x->tid));
	if (t_sess_new(t, x, WEFT_HS_INITIATOR, now_ms, unix_s, &err) != 0) {
		snprintf(x->why, sizeof(x->why), "%.150s", err.msg);
		return -1;
	}
	t_flush(t, x, now_ms);
	return 0;
}

static t_tunnel_t *
t_alloc(weft_tun_t *t, const uint8_t *remote, const char *org)
{
	t_tunnel_t *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->vid = WEFT_TUN_BIT | t->next_vid++;
	memcpy(x->remote, remote, WEFT_PK_BYTES);
	snprintf(x->org, sizeof(x->org), "%s", org);
	t->tuns[t->ntuns++] = x;
	return x;
}

static size_t
t_count(const weft_tun_t *t, const uint8_t *remote)
{
	size_t i, n = 0;

	for (i = 0; i < t->ntuns; i++)
		n += memcmp(t->tuns[i]->remote, remote, WEFT_PK_BYTES) == 0;
	return n;
}

int
weft_tun_open(weft_tun_t *t, uint64_t now_ms, int64_t unix_s, const uint8_t *pk,
	      const char *org, uint64_t *vpeer, weft_err_t *err)
{
	t_tunnel_t *x;
	size_t i;

	*vpeer = 0;
	t->unix_s = unix_s;
	for (i = 0; i < t->ntuns; i++)
		if (t->tuns[i]->initiator &&
		    memcmp(t->tuns[i]->remote, pk, WEFT_PK_BYTES) == 0) {
			*vpeer = t->tuns[i]->vid;
			return 0;
		}
	if (t->ntuns >= WEFT_TUN_MAX)
		return weft_err_set(err, WEFT_EAGAIN,
				    "busy: %d tunnels are open", WEFT_TUN_MAX);
	x = t_alloc(t, pk, org);
	if (x == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	x->initiator = 1;
	x->last_ms = now_ms;
	if (t_start(t, x, now_ms, unix_s) != 0) {
		int rc = weft_err_set(err, WEFT_ENOTFOUND, "%s", x->why);

		t->tuns[--t->ntuns] = NULL; /* x is the last one */
		t_tunnel_free(x);
		return rc;
	}
	t->st.opened++;
	*vpeer = x->vid;
	return 0;
}

/* Queue m until x is up (or x is reading its input). */
static int
t_pend(t_tunnel_t *x, const Weft__WireMessage *m)
{
	size_t len = weft__wire_message__get_packed_size(m);
	uint8_t *np;
	uint32_t l32 = (uint32_t)len;

	if (x->npend + 4 + len > WEFT_TUN_PENDING)
		return -1;
	np = realloc(x->pend, x->npend + 4 + len);
	if (np == NULL)
		return -1;
	x->pend = np;
	memcpy(np + x->npend, &l32, 4);
	weft__wire_message__pack(m, np + x->npend + 4);
	x->npend += 4 + len;
	return 0;
}

/* Send what waited; -1 if the session refused (x failed). */
static int
t_unpend(weft_tun_t *t, t_tunnel_t *x, uint64_t now_ms)
{
	uint8_t *p = x->pend;
	size_t off = 0, n = x->npend;
	weft_err_t err = {0};
	int rc = 0;

	x->pend = NULL;
	x->npend = 0;
	while (off + 4 <= n && rc == 0) {
		uint32_t l32;
		Weft__WireMessage *m;

		memcpy(&l32, p + off, 4);
		m = weft__wire_message__unpack(NULL, l32, p + off + 4);
		off += 4 + l32;
		if (m == NULL || weft_sess_send(x->s, now_ms, m, &err) != 0) {
			snprintf(x->why, sizeof(x->why), "tunnel send: %.150s",
				 m ? err.msg : "memory");
			rc = -1;
		}
		weft__wire_message__free_unpacked(m, NULL);
	}
	free(p);
	if (rc == 0)
		t_flush(t, x, now_ms);
	return rc;
}

int
weft_tun_send(weft_tun_t *t, uint64_t now_ms, uint64_t vpeer,
	      const Weft__WireMessage *m)
{
	t_tunnel_t *x = t_by_vid(t, vpeer);
	weft_err_t err = {0};

	if (x == NULL)
		return -1;
	x->last_ms = now_ms;
	if (!x->up || x->in_input) {
		if (t_pend(x, m) == 0)
			return 0;
		if (x->in_input) {
			x->dead = 1; /* t_input drops it */
			return -1;
		}
		t_drop(t, x, "too much waiting to be sent on the tunnel");
		return -1;
	}
	if (weft_sess_send(x->s, now_ms, m, &err) != 0) {
		char why[256];

		snprintf(why, sizeof(why), "tunnel send: %.150s", err.msg);
		t_drop(t, x, why);
		return -1;
	}
	t_flush(t, x, now_ms);
	return 0;
}

/* x's inner session reports up: check it reached the node we meant. */
static int
t_on_up(weft_tun_t *t, t_tunnel_t *x)
{
	const weft_cert_info_t *ci = weft_sess_peer(x->s);

	if (ci == NULL ||
	    memcmp(ci->subject_pk, x->remote, WEFT_PK_BYTES) != 0 ||
	    (!x->initiator && strcmp(ci->org_name, x->org) != 0))
		return -1; /* not whom we meant, or lying about its org */
	snprintf(x->org, sizeof(x->org), "%s", ci->org_name);
	x->up = 1;
	t->cb.up(t->cb.arg, x->vid, x->remote, ci->org_name, ci->subject_name);
	return 0;
}

/* Feed x a Relay payload. */
static void
t_input(weft_tun_t *t, t_tunnel_t *x, uint64_t now_ms, int64_t unix_s,
	const uint8_t *in, size_t len)
{
	size_t off = 0, used;
	Weft__WireMessage *m;
	weft_err_t err = {0};
	char why[300];
	int rc;

	x->in_input = 1;
	do {
		rc = weft_sess_input(x->s, now_ms, in + off, len - off, &used,
				     &m, &err);
		off += used;
		if (rc < 0) {
			if (!x->up && x->initiator) {
				snprintf(x->why, sizeof(x->why),
					 "handshake with node: %.150s",
					 err.msg);
				x->in_input = 0;
				if (t_start(t, x, now_ms, unix_s) != 0)
					t_drop(t, x, x->why);
				return;
			}
			snprintf(why, sizeof(why), "tunnel failed: %.150s",
				 err.msg);
			t_drop(t, x, why);
			return;
		}
		if (rc == WEFT_SESS_UP && t_on_up(t, x) != 0) {
			t_drop(t, x, "the tunnel reached another node");
			return;
		}
		if (rc == WEFT_SESS_MSG) {
			x->last_ms = now_ms;
			t->cb.deliver(t->cb.arg, x->vid, m);
			if (x->dead) {
				t_drop(t, x,
				       "too much waiting to be sent on "
				       "the tunnel");
				return;
			}
		}
		if (rc == WEFT_SESS_CLOSED) {
			t_drop(t, x, NULL);
			return;
		}
	} while (off < len || rc != WEFT_SESS_NONE);
	x->in_input = 0;
	if (x->up && x->npend != 0 && t_unpend(t, x, now_ms) != 0) {
		t_drop(t, x, x->why);
		return;
	}
	t_flush(t, x, now_ms);
}

/* A Relay for us: the tunnel it belongs to, or a new one it opens. */
static int
t_arrive(weft_tun_t *t, uint64_t now_ms, int64_t unix_s, uint64_t peer,
	 const Weft__Relay *r)
{
	t_tunnel_t *x = t_find(t, r->src.data, r->tunnel);
	weft_err_t err = {0};

	if (x == NULL) {

		if (t->ntuns >= WEFT_TUN_MAX ||
		    t_count(t, r->src.data) >= WEFT_TUN_PER_NODE) {
			t->st.refused++;
			t_send_error(t, peer, r->src.data, r->dst.data,
				     r->tunnel, "busy: too many tunnels");
			return 0;
		}
		x = t_alloc(t, r->src.data, r->src_org);
		if (x == NULL)
			return 0;
		x->tid = r->tunnel;
		x->hop = peer;
		x->last_ms = now_ms;
		if (t_sess_new(t, x, WEFT_HS_RESPONDER, now_ms, unix_s, &err) !=
		    0) {
			t->tuns[--t->ntuns] = NULL;
			t_tunnel_free(x);
			return 0;
		}
		t->st.accepted++;
	}
	t_input(t, x, now_ms, unix_s, r->payload.data, r->payload.len);
	return 0;
}

/* ---- flows (gateway) ---- */

static t_flow_t *
t_flow(weft_tun_t *t, const uint8_t *src, const uint8_t *dst, uint64_t tid)
{
	size_t i;

	for (i = 0; i < t->nflows; i++)
		if (t->flows[i].tid == tid &&
		    memcmp(t->flows[i].src, src, WEFT_PK_BYTES) == 0 &&
		    memcmp(t->flows[i].dst, dst, WEFT_PK_BYTES) == 0)
			return &t->flows[i];
	return NULL;
}

static size_t
t_flows_from(const weft_tun_t *t, uint64_t peer)
{
	size_t i, n = 0;

	for (i = 0; i < t->nflows; i++)
		n += t->flows[i].in == peer;
	return n;
}

/* Where a new flow to dst (of org) goes from here, not back to from. */
static int
t_route(weft_tun_t *t, const uint8_t *dst, const char *org, uint64_t from,
	uint64_t tid, uint64_t *out)
{
	const t_peer_t *p = t_peer_pk(t, dst);
	size_t i, n = 0, k;

	if (p != NULL) {
		*out = p->id;
		return p->id != from;
	}
	if (strcmp(org, t->org) == 0)
		return 0;
	for (i = 0; i < t->npeers; i++)
		n += t->peers[i].gateway && t->peers[i].id != from &&
		     strcmp(t->peers[i].org, org) == 0;
	if (n == 0)
		return 0;
	k = (size_t)(tid % n); /* spread tunnels over the gateways */
	for (i = 0; i < t->npeers; i++)
		if (t->peers[i].gateway && t->peers[i].id != from &&
		    strcmp(t->peers[i].org, org) == 0 && k-- == 0)
			*out = t->peers[i].id;
	return 1;
}

static int
t_forward(weft_tun_t *t, uint64_t now_ms, uint64_t peer, const t_peer_t *p,
	  const Weft__Relay *r)
{
	t_flow_t *f;
	uint64_t out = 0;

	if (!t->cfg.gateway) {
		t->st.refused++;
		t_send_error(t, peer, r->src.data, r->dst.data, r->tunnel,
			     "a node of org %s that is not a gateway was asked "
			     "to relay",
			     t->org);
		return 0;
	}
	if (!p->gateway && memcmp(r->src.data, p->pk, WEFT_PK_BYTES) != 0)
		return -1; /* a regular node relays only as itself */
	if (r->hops + 1 > WEFT_TUN_HOPS_MAX) {
		t->st.refused++;
		t_send_error(t, peer, r->src.data, r->dst.data, r->tunnel,
			     "over %d gateways on the way", WEFT_TUN_HOPS_MAX);
		return 0;
	}
	f = t_flow(t, r->src.data, r->dst.data, r->tunnel);
	if (f != NULL && f->in != peer)
		return -1; /* one flow, one way in */
	if (f == NULL) {
		if (t->nflows >= WEFT_TUN_FLOWS_MAX ||
		    t_flows_from(t, peer) >= WEFT_TUN_FLOWS_PEER) {
			t->st.refused++;
			t_send_error(t, peer, r->src.data, r->dst.data,
				     r->tunnel,
				     "busy: gateway %s relays too "
				     "many tunnels",
				     t->org);
			return 0;
		}
		if (!t_route(t, r->dst.data, r->dst_org, peer, r->tunnel,
			     &out)) {
			t->st.refused++;
			t_send_error(t, peer, r->src.data, r->dst.data,
				     r->tunnel,
				     "a gateway of org %s has no route to "
				     "the node (org %s)",
				     t->org, r->dst_org);
			return 0;
		}
		f = &t->flows[t->nflows++];
		memcpy(f->src, r->src.data, WEFT_PK_BYTES);
		memcpy(f->dst, r->dst.data, WEFT_PK_BYTES);
		f->tid = r->tunnel;
		f->in = peer;
		f->out = out;
		if (t->sweep_at == 0)
			t->sweep_at = now_ms + WEFT_TUN_IDLE_MS;
	}
	f->last_ms = now_ms;
	t->st.relayed_msgs++;
	t->st.relayed_bytes += r->payload.len;
	t_send_relay(t, f->out, r->dst.data, r->src.data, r->dst_org,
		     r->src_org, r->hops + 1, r->tunnel, r->payload.data,
		     r->payload.len);
	return 0;
}

static void
t_flow_drop(weft_tun_t *t, size_t i)
{
	t->flows[i] = t->flows[--t->nflows];
}

/* A RelayError: ours (retry or fail the tunnel), or one to pass back. */
static void
t_error(weft_tun_t *t, uint64_t now_ms, int64_t unix_s, uint64_t peer,
	const Weft__RelayError *e)
{
	const uint8_t *self = t->cfg.sess.me->pk;
	t_flow_t *f;
	t_tunnel_t *x;

	if (memcmp(e->to.data, self, WEFT_PK_BYTES) == 0) {
		x = t_find(t, e->about.data, e->tunnel);
		if (x == NULL || x->hop != peer)
			return;
		snprintf(x->why, sizeof(x->why), "%s", e->reason);
		if (x->up || !x->initiator ||
		    t_start(t, x, now_ms, unix_s) != 0)
			t_drop(t, x, x->why);
		return;
	}
	f = t_flow(t, e->to.data, e->about.data, e->tunnel);
	if (f == NULL || f->out != peer)
		return;
	t_send_error(t, f->in, e->to.data, e->about.data, e->tunnel, "%s",
		     e->reason);
	t_flow_drop(t, (size_t)(f - t->flows));
}

int
weft_tun_recv(weft_tun_t *t, uint64_t now_ms, int64_t unix_s, uint64_t peer,
	      const Weft__WireMessage *m, weft_err_t *err)
{
	const t_peer_t *p = t_peer(t, peer);
	const uint8_t *self = t->cfg.sess.me->pk;

	t->unix_s = unix_s;
	if (p == NULL)
		return 0; /* a session we do not route through */
	if (m->msg_case == WEFT__WIRE_MESSAGE__MSG_RELAY_ERROR) {
		t_error(t, now_ms, unix_s, peer, m->relay_error);
		return 0;
	}
	if (m->msg_case != WEFT__WIRE_MESSAGE__MSG_RELAY)
		return 0;
	if (memcmp(m->relay->src.data, self, WEFT_PK_BYTES) == 0)
		return weft_err_set(err, WEFT_EPARSE,
				    "Relay claiming to come from us");
	if (memcmp(m->relay->dst.data, self, WEFT_PK_BYTES) == 0)
		return t_arrive(t, now_ms, unix_s, peer, m->relay);
	if (t_forward(t, now_ms, peer, p, m->relay) != 0)
		return weft_err_set(err, WEFT_EPARSE,
				    "Relay breaking the flow rules (a "
				    "regular node relaying for another, or "
				    "one tunnel arriving two ways)");
	return 0;
}

void
weft_tun_peer_down(weft_tun_t *t, uint64_t now_ms, uint64_t peer)
{
	size_t i;

	for (i = 0; i < t->nflows;) {
		t_flow_t *f = &t->flows[i];

		if (f->out == peer && f->in != peer)
			t_send_error(t, f->in, f->src, f->dst, f->tid,
				     "a gateway of org %s lost its session "
				     "on the way",
				     t->org);
		if (f->in == peer || f->out == peer)
			t_flow_drop(t, i);
		else
			i++;
	}
	for (i = 0; i < t->ntuns;) {
		t_tunnel_t *x = t->tuns[i];

		if (x->hop != peer) {
			i++;
			continue;
		}
		snprintf(x->why, sizeof(x->why),
			 "the session with the gateway on the way closed");
		if (x->up || !x->initiator ||
		    t_start(t, x, now_ms, t->unix_s) != 0)
			t_drop(t, x, x->why);
		i = 0; /* t_drop reorders */
	}
	for (i = 0; i < t->npeers; i++)
		if (t->peers[i].id == peer) {
			t->peers[i] = t->peers[--t->npeers];
			break;
		}
}

void
weft_tun_set_trust(weft_tun_t *t, const weft_trust_t *trust)
{
	t->cfg.sess.trust = trust; /* each new inner session copies it */
}

/* ---- time ---- */

/*
 * Why the certificate the remote end of up tunnel x showed no longer
 * holds, or NULL: its org revoked it, that org's root is no longer
 * trusted (by key and name, as weft_cert_verify matches it), or it
 * expired. A handshake checks a certificate once; the node core's trust
 * changes under a tunnel as under a session (agent/recheck.c), so every
 * tick looks again. O(tunnels x roots) compares, no signature.
 */
static const char *
t_stale(const weft_tun_t *t, const t_tunnel_t *x, int64_t unix_s)
{
	const weft_trust_t *tr = t->cfg.sess.trust;
	const weft_cert_info_t *p;

	if (!x->up || tr == NULL || (p = weft_sess_peer(x->s)) == NULL)
		return NULL;
	if (weft_trust_revoked(tr, p->subject_pk, p->org_pk))
		return "was revoked by its org";
	if (unix_s > 0 && p->not_after < unix_s)
		return "expired";
	if (!weft_trust_has_root(tr, p))
		return "is of an org this node no longer trusts";
	return NULL;
}

/* Close up tunnel x: its remote's certificate no longer holds (why). */
static void
t_close_stale(weft_tun_t *t, t_tunnel_t *x, uint64_t now_ms, const char *why)
{
	const weft_cert_info_t *p = weft_sess_peer(x->s);
	char text[2 * WEFT_NAME_MAX + 96];

	snprintf(text, sizeof(text), "the certificate of node %s (org %s) %s",
		 p->subject_name, p->org_name, why);
	weft_sess_close(x->s, "your certificate is no longer accepted");
	t_flush(t, x, now_ms);
	t_drop(t, x, text);
}

void
weft_tun_tick(weft_tun_t *t, uint64_t now_ms, int64_t unix_s)
{
	size_t i;
	weft_err_t err = {0};

	t->unix_s = unix_s;
	for (i = 0; i < t->ntuns;) {
		t_tunnel_t *x = t->tuns[i];
		const char *why = t_stale(t, x, unix_s);

		if (why != NULL) {
			t_close_stale(t, x, now_ms, why);
			continue;
		}
		if (x->up && now_ms >= x->last_ms + WEFT_TUN_IDLE_MS) {
			weft_sess_close(x->s, "idle");
			t_flush(t, x, now_ms);
			t_drop(t, x, NULL);
			continue;
		}
		if (weft_sess_next_timer(x->s) <= now_ms &&
		    weft_sess_tick(x->s, now_ms, &err) < 0) {
			if (x->up || !x->initiator) {
				t_drop(t, x, "the tunnel timed out");
				continue;
			}
			snprintf(x->why, sizeof(x->why),
				 "no answer through the gateway in %d s",
				 WEFT_TUN_HS_MS / 1000);
			if (t_start(t, x, now_ms, t->unix_s) != 0) {
				t_drop(t, x, x->why);
				continue;
			}
		}
		t_flush(t, x, now_ms);
		i++;
	}
	if (t->sweep_at != 0 && now_ms >= t->sweep_at) {
		for (i = 0; i < t->nflows;)
			if (now_ms >= t->flows[i].last_ms + WEFT_TUN_IDLE_MS)
				t_flow_drop(t, i);
			else
				i++;
		t->sweep_at = t->nflows ? now_ms + WEFT_TUN_IDLE_MS / 4 : 0;
	}
}

uint64_t
weft_tun_next_timer(const weft_tun_t *t)
{
	uint64_t due = t->sweep_at ? t->sweep_at : UINT64_MAX;
	size_t i;

	for (i = 0; i < t->ntuns; i++) {
		const t_tunnel_t *x = t->tuns[i];
		uint64_t d = weft_sess_next_timer(x->s);

		if (x->up && x->last_ms + WEFT_TUN_IDLE_MS < d)
			d = x->last_ms + WEFT_TUN_IDLE_MS;
		if (d < due)
			due = d;
	}
	return due;
}

void
weft_tun_stats(const weft_tun_t *t, weft_tun_stats_t *st)
{
	*st = t->st;
	st->tunnels = (uint32_t)t->ntuns;
	st->flows = (uint32_t)t->nflows;
}
