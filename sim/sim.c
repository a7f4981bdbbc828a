/*
 * sim.c: the simulator run (sim.h): nodes, links, scenario, coverage.
 *
 * Links. A link is made of two halves, one at each end, that share an
 * epoch (chosen by the dialler: its counter, with the parity of which
 * end dialled, so two sessions of one pair never share an epoch). A
 * dial: the dialler's half is CONNECTING; the SYN reaches the other end
 * after one latency (CONNECT), which opens its half (HALFOPEN) unless
 * it is dead (the dialler learns after one more latency, as from a TCP
 * reset) or already has a half for the pair (simultaneous dials: the
 * lower-numbered dialler wins). Three latencies later the dialler has
 * finished the handshake (UP: weft_node_peer_up), and its last
 * handshake message, through the link's FIFO, opens the other end (HS3:
 * peer_up there). A message is delivered only to a half that is UP
 * with the message's epoch, so nothing crosses from one session into
 * the next. A failed node resets its links (the other end learns after
 * one latency); a partition drops the links across it at once, at both
 * ends, and heal brings them back.
 *
 * Threads and determinism: see sim.h. Every per-node decision draws
 * from the node's own stream; events made for another shard go through
 * per-shard outboxes, moved into the shard's heap between windows; the
 * coverage events of a window are merged and sorted by (time, node)
 * before they are counted, so the counts do not depend on the threads.
 */
#include "sim/sim.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <xxhash.h>

#include "crypto/identity.h"
#include "lib/util.h"
#include "node/node.h"
#include "sim/engine.h"
#include "sim/topo.h"
#include "storage/entry.h"
#include "weft.pb-c.h"

#define S_T0 1700000000ll      /* Unix seconds at virtual time 0 */
#define S_BASE_US 100000000ull /* core clock = virtual time + this */
#define S_NEVER UINT64_MAX
#define S_PUSH_BYTES 96		      /* push protocol: one rumour message */
#define S_MSG_MAX (16u * 1024 * 1024) /* as a session frame */
#define S_TARGETS 2
#define S_PRIME 0xfe /* G_PUBLISH aux: the --prime product */

enum {
	EV_TICK = 1,
	EV_MSG,
	EV_CONNECT,
	EV_UP,
	EV_HS3,
	EV_DIALFAIL,
	EV_REFUSED,
	EV_RESET,
	EV_SEED,
	EV_PMSG,
};

enum {
	G_SAMPLE = 1,
	G_PUBLISH,
	G_FAIL,
	G_RECOVER,
	G_PART_ON,
	G_PART_OFF,
	G_END,
};

enum { H_CONNECTING = 1, H_HALFOPEN = 2, H_UP = 3 };

typedef struct s_half {
	uint64_t tail; /* arrival time of the last segment sent on it */
	uint32_t peer, epoch, lat;
	uint8_t state;
} s_half_t;

typedef struct s_node {
	weft_node_t *n; /* the node core: NULL for the push protocol */
	s_half_t *h;
	uint32_t nh, caph;
	uint32_t epochs;
	uint32_t stored, expect; /* join: node records stored / expected */
	uint32_t phase;		 /* push protocol: tick phase (us) */
	uint16_t inc;		 /* incarnation */
	uint8_t alive, holds;
	uint8_t parted; /* a neighbour let it go (the overlay's bound) */
	uint64_t tick_at, nic_free, rng, trace, seq;
	uint8_t *cert;
	size_t cert_len;
	weft_signer_t signer;
	char name[12];
} s_node_t;

typedef struct s_hold {
	uint64_t t;
	uint32_t node, k;
} s_hold_t;

typedef struct s_evvec {
	weft_sim_ev_t *v;
	size_t n, cap;
} s_evvec_t;

struct s_sim;

typedef struct s_worker {
	struct s_sim *s;
	unsigned id;
	int serial;
	pthread_t th;
	weft_sim_heap_t heap;
	s_evvec_t *out; /* [threads] */
	s_hold_t *holds;
	size_t nholds, capholds;
	uint64_t events, msgs, bytes, delivered, retrans, dropped, proto_err;
	uint64_t peak_q;
	int err;
	weft_err_t errmsg;
} s_worker_t;

typedef struct s_pair {
	uint32_t a, b;
} s_pair_t;

typedef struct s_sim {
	weft_sim_cfg_t c;
	weft_sim_topo_t topo;
	uint32_t n;
	s_node_t *nodes;
	weft_keypair_t *kps;
	weft_keypair_t *orgkp; /* [orgs] */
	weft_pubkey_t *roots;
	weft_trust_t trust;
	char (*orgname)[16];
	char **indirect; /* [orgs] */
	uint32_t *adj_off, *adj;
	int partial;
	int vcache; /* weft_crypto_set_verify_cache is on */
	uint64_t lookahead;
	unsigned nt, nw; /* shards; workers allocated */
	s_worker_t *w;
	s_worker_t gw; /* the serial context */
	pthread_barrier_t bar;
	pthread_mutex_t gate_mu;
	pthread_cond_t gate_cv;
	int gate_open;
	int stop;
	uint64_t win_end;
	weft_sim_heap_t glob;
	uint64_t gseq;
	unsigned pending; /* scenario events still queued */
	/* partition */
	int cut;
	s_pair_t *cutp;
	size_t ncut, capcut;
	/* coverage */
	unsigned ntargets;
	uint8_t *tenv[S_TARGETS];
	size_t tlen[S_TARGETS];
	uint64_t live, holders[S_TARGETS];
	uint64_t stored, expect;
	int published, end_set;
	uint64_t publish_us;
	int64_t reach[4];
	uint64_t msgs_pub, bytes_pub;
	/* merged counters */
	uint64_t events, msgs, bytes, delivered, retrans, dropped, proto_err;
	uint64_t peak_q;
	s_hold_t *mh;
	size_t nmh, capmh;
	weft_sim_sample_t *samples;
	size_t nsamples, capsamples;
	uint64_t last_progress_ns, t_now;
} s_sim_t;

static const unsigned s_thr_pct[4] = {50, 90, 99, 100};

/* ---- small helpers ---- */

static uint64_t
s_ms(uint64_t t)
{
	return (t + S_BASE_US) / 1000;
}

static int64_t
s_unix(uint64_t t)
{
	return S_T0 * 1000000 + (int64_t)t;
}

static int
s_group(const s_sim_t *s, uint32_t i)
{
	return i >= s->n / 2;
}

static int
s_cut(const s_sim_t *s, uint32_t a, uint32_t b)
{
	return s->cut && s_group(s, a) != s_group(s, b);
}

static void
s_fail(s_worker_t *w, int rc, const char *what)
{
	if (w->err == 0) {
		w->err = rc;
		weft_err_set(&w->errmsg, rc, "%s: %s", what, weft_strerror(rc));
	}
}

static s_half_t *
s_half(s_node_t *nd, uint32_t peer)
{
	uint32_t i;

	for (i = 0; i < nd->nh; i++)
		if (nd->h[i].peer == peer)
			return &nd->h[i];
	return NULL;
}

static s_half_t *
s_half_add(s_worker_t *w, s_node_t *nd, uint32_t peer)
{
	s_half_t *h;

	if (nd->nh == nd->caph) {
		uint32_t cap = nd->caph ? nd->caph * 2 : 4;

		h = realloc(nd->h, cap * sizeof(*h));
		if (h == NULL) {
			s_fail(w, WEFT_ENOMEM, "links");
			return NULL;
		}
		nd->h = h;
		nd->caph = cap;
	}
	h = &nd->h[nd->nh++];
	memset(h, 0, sizeof(*h));
	h->peer = peer;
	return h;
}

static void
s_half_del(s_node_t *nd, s_half_t *h)
{
	*h = nd->h[--nd->nh];
}

static uint32_t
s_epoch(s_node_t *nd, uint32_t a, uint32_t b)
{
	nd->epochs++;
	return (nd->epochs << 1) | (a < b ? 0u : 1u);
}

/* Schedule an event made by node src (or WEFT_SIM_SRC_GLOBAL). */
static void
s_sched(s_worker_t *w, uint32_t src, weft_sim_ev_t *e)
{
	s_sim_t *s = w->s;
	uint64_t seq =
	    src == WEFT_SIM_SRC_GLOBAL ? s->gseq++ : s->nodes[src].seq++;
	unsigned d = e->node % s->nt;
	int rc;

	e->key = ((uint64_t)src << WEFT_SIM_SEQ_BITS) |
		 (seq & ((1ull << WEFT_SIM_SEQ_BITS) - 1));
	if (w->serial || d == w->id)
		rc = weft_sim_heap_push(&s->w[d].heap, e);
	else {
		s_evvec_t *v = &w->out[d];

		rc = 0;
		if (v->n == v->cap) {
			size_t cap = v->cap ? v->cap * 2 : 256;
			weft_sim_ev_t *nv = realloc(v->v, cap * sizeof(*nv));

			if (nv == NULL)
				rc = WEFT_ENOMEM;
			else {
				v->v = nv;
				v->cap = cap;
			}
		}
		if (rc == 0)
			v->v[v->n++] = *e;
	}
	if (rc != 0) {
		free(e->buf);
		s_fail(w, rc, "events");
	}
}

/* An event without a message; the caller orders and queues it. */
static weft_sim_ev_t
s_ev_make(int type, uint64_t t, uint32_t node, uint32_t peer, uint32_t epoch,
	  uint32_t aux)
{
	weft_sim_ev_t e;

	memset(&e, 0, sizeof(e));
	e.type = (uint8_t)type;
	e.t = t;
	e.node = node;
	e.peer = peer;
	e.epoch = epoch;
	e.aux = aux;
	return e;
}

static void
s_ev(s_worker_t *w, uint32_t src, int type, uint64_t t, uint32_t node,
     uint32_t peer, uint32_t epoch, uint32_t aux)
{
	weft_sim_ev_t e = s_ev_make(type, t, node, peer, epoch, aux);

	s_sched(w, src, &e);
}

static void
s_hold(s_worker_t *w, uint64_t t, uint32_t node, uint32_t k)
{
	if (w->nholds == w->capholds) {
		size_t cap = w->capholds ? w->capholds * 2 : 1024;
		s_hold_t *h = realloc(w->holds, cap * sizeof(*h));

		if (h == NULL) {
			s_fail(w, WEFT_ENOMEM, "coverage");
			return;
		}
		w->holds = h;
		w->capholds = cap;
	}
	w->holds[w->nholds].t = t;
	w->holds[w->nholds].node = node;
	w->holds[w->nholds].k = k;
	w->nholds++;
}

/* ---- talking to a core ---- */

static void s_drain(s_worker_t *w, uint32_t i, uint64_t t);

static void
s_retick(s_worker_t *w, uint32_t i, uint64_t t)
{
	s_node_t *nd = &w->s->nodes[i];
	uint64_t nt;

	if (nd->n == NULL || !nd->alive)
		return;
	nt = weft_node_next_timer(nd->n) * 1000;
	nt = nt > S_BASE_US ? nt - S_BASE_US : 0;
	if (nt < t)
		nt = t;
	if (nt == nd->tick_at)
		return;
	nd->tick_at = nt;
	s_ev(w, i, EV_TICK, nt, i, 0, 0, 0);
}

static void
s_send(s_worker_t *w, uint32_t a, uint64_t peer, const Weft__WireMessage *m,
       uint64_t t)
{
	s_sim_t *s = w->s;
	s_node_t *na = &s->nodes[a];
	s_half_t *h;
	weft_sim_ev_t e;
	size_t len;
	uint64_t dep = t, arr;
	unsigned k;

	if (peer == 0 || peer > s->n ||
	    (h = s_half(na, (uint32_t)(peer - 1))) == NULL ||
	    h->state != H_UP) {
		w->dropped++;
		return;
	}
	len = weft__wire_message__get_packed_size(m);
	if (len > S_MSG_MAX) {
		w->dropped++;
		return;
	}
	memset(&e, 0, sizeof(e));
	e.buf = malloc(len ? len : 1);
	if (e.buf == NULL) {
		s_fail(w, WEFT_ENOMEM, "messages");
		return;
	}
	weft__wire_message__pack(m, e.buf);
	w->msgs++;
	w->bytes += len;
	if (s->c.bandwidth_bps) {
		uint64_t q;

		if (na->nic_free < t)
			na->nic_free = t;
		na->nic_free += weft_sim_tx_us(len, s->c.bandwidth_bps);
		dep = na->nic_free;
		q = (uint64_t)((double)(dep - t) * (double)s->c.bandwidth_bps /
			       8e6);
		if (q > w->peak_q)
			w->peak_q = q;
	}
	arr = dep + h->lat +
	      weft_sim_loss_delay(s->c.loss, s->c.rto_us, &na->rng, &k);
	w->retrans += k;
	if (arr < h->tail)
		arr = h->tail;
	h->tail = arr;
	e.type = EV_MSG;
	e.t = arr;
	e.node = h->peer;
	e.peer = a;
	e.epoch = h->epoch;
	e.len = (uint32_t)len;
	s_sched(w, a, &e);
}

static void
s_dial(s_worker_t *w, uint32_t a, uint32_t b, uint64_t t)
{
	s_sim_t *s = w->s;
	s_node_t *na = &s->nodes[a];
	s_half_t *h;

	if (b >= s->n || b == a || s_half(na, b) != NULL)
		return;
	if (s->c.orgs > 1 && na->n != NULL &&
	    !weft_node_may_link(na->n, s->orgname[s->topo.org[b]],
				s->topo.gateway[b]))
		return;
	if ((h = s_half_add(w, na, b)) == NULL)
		return;
	h->state = H_CONNECTING;
	h->epoch = s_epoch(na, a, b);
	h->lat = (uint32_t)weft_sim_latency_draw(&s->c.latency, &na->rng);
	if (s_cut(s, a, b))
		s_ev(w, a, EV_DIALFAIL, t + s->c.dial_timeout_us, a, b,
		     h->epoch, 0);
	else
		s_ev(w, a, EV_CONNECT, t + h->lat, b, a, h->epoch, h->lat);
}

/* "sim:N" -> N; -1 if not one of ours. */
static int64_t
s_addr(const s_sim_t *s, const char *addr)
{
	uint64_t v = 0;
	const char *p;

	if (strncmp(addr, "sim:", 4) != 0 || addr[4] == 0)
		return -1;
	for (p = addr + 4; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v >= s->n)
			return -1;
	}
	return (int64_t)v;
}

static void
s_store(s_worker_t *w, uint32_t i, const uint8_t *env, size_t len, uint64_t t)
{
	s_sim_t *s = w->s;
	s_node_t *nd = &s->nodes[i];
	unsigned k;

	if (s->c.scenario == WEFT_SIM_SC_JOIN) {
		if (nd->stored < nd->expect) {
			nd->stored++;
			s_hold(w, t, i, 0xff);
		}
		return;
	}
	for (k = 0; k < s->ntargets; k++)
		if (!(nd->holds & (1u << k)) && len == s->tlen[k] &&
		    memcmp(env, s->tenv[k], len) == 0) {
			nd->holds |= (uint8_t)(1u << k);
			s_hold(w, t, i, k);
		}
}

/* Node i lets its link to b go (the overlay's Disconnect is on it): gone
 * here now; at b once the Disconnect has arrived. */
static void
s_part(s_worker_t *w, uint32_t i, uint32_t b, uint64_t t)
{
	s_node_t *nd = &w->s->nodes[i];
	s_half_t *h = s_half(nd, b);

	if (h == NULL || h->state != H_UP)
		return;
	s_ev(w, i, EV_RESET, h->tail > t + h->lat ? h->tail : t + h->lat, b, i,
	     h->epoch, 0);
	s_half_del(nd, h);
	weft_node_peer_down(nd->n, s_ms(t), (uint64_t)b + 1);
}

static void
s_drain(s_worker_t *w, uint32_t i, uint64_t t)
{
	s_sim_t *s = w->s;
	s_node_t *nd = &s->nodes[i];
	weft_out_t o;
	int64_t b;

	if (nd->n == NULL)
		return;
	while (weft_node_poll(nd->n, &o)) {
		switch (o.kind) {
		case WEFT_OUT_SEND:
			if (o.msg != NULL)
				s_send(w, i, o.peer, o.msg, t);
			break;
		case WEFT_OUT_STORE: s_store(w, i, o.env, o.env_len, t); break;
		case WEFT_OUT_DIAL:
			b = s_addr(s, o.addr);
			if (b < 0 ||
			    memcmp(s->kps[b].pk, o.pk, WEFT_PK_BYTES) != 0)
				weft_node_unreachable(nd->n, s_ms(t), o.pk);
			else
				s_dial(w, i, (uint32_t)b, t);
			break;
		case WEFT_OUT_PART:
			if (o.n && o.peer > 0 && o.peer <= s->n)
				s_part(w, i, (uint32_t)(o.peer - 1), t);
			else if (!o.n)
				nd->parted = 1;
			break;
		default: break;
		}
		weft_node_out_free(&o);
	}
	s_retick(w, i, t);
}

static void
s_peer_up(s_worker_t *w, uint32_t a, uint32_t b, uint64_t t)
{
	s_sim_t *s = w->s;

	weft_node_peer_up(s->nodes[a].n, s_ms(t), (uint64_t)b + 1, s->kps[b].pk,
			  s->orgname[s->topo.org[b]], s->topo.gateway[b]);
	s_drain(w, a, t);
}

/* A node let go by a neighbour and left with no link dials its first seed
 * again, as an agent does its --join contact (agent/dial.c). */
static void
s_contact(s_worker_t *w, uint32_t i, uint64_t t)
{
	s_sim_t *s = w->s;
	uint32_t k;

	if (!s->nodes[i].parted || s->nodes[i].nh != 0 || s->adj_off == NULL)
		return;
	for (k = s->adj_off[i]; k < s->adj_off[i + 1]; k++)
		if (s->adj[k] & 0x80000000u) {
			s_dial(w, i, s->adj[k] & 0x7fffffffu, t);
			return;
		}
}

/* ---- node events ---- */

static void
s_deliver(s_worker_t *w, weft_sim_ev_t *e)
{
	s_sim_t *s = w->s;
	s_node_t *nd = &s->nodes[e->node];
	s_half_t *h = s_half(nd, e->peer);
	uint64_t rec[5];

	if (!nd->alive || h == NULL || h->state != H_UP ||
	    h->epoch != e->epoch || nd->n == NULL) {
		w->dropped++;
		return;
	}
	w->delivered++;
	rec[0] = e->t;
	rec[1] = e->peer;
	rec[2] = e->node;
	rec[3] = e->len;
	/* (time, from, to, length, contents): every entry the sim and the
	 * cores make is stamped with virtual time, so the bytes are the
	 * same every run */
	rec[4] = XXH3_64bits(e->buf, e->len);
	nd->trace = XXH3_64bits_withSeed(rec, sizeof(rec), nd->trace);
	if (weft_node_input(nd->n, s_ms(e->t), s_unix(e->t),
			    (uint64_t)e->peer + 1, e->buf, e->len, NULL) < 0)
		w->proto_err++;
	s_drain(w, e->node, e->t);
}

static void
s_push_tick(s_worker_t *w, weft_sim_ev_t *e)
{
	s_sim_t *s = w->s;
	s_node_t *nd = &s->nodes[e->node];
	unsigned f;

	if (!nd->alive || e->t != nd->tick_at || !(nd->holds & 1))
		return;
	for (f = 0; f < s->c.fanout; f++) {
		uint32_t to = (uint32_t)weft_sim_below(&nd->rng, s->n - 1);
		uint64_t lat;

		if (to >= e->node)
			to++;
		w->msgs++;
		w->bytes += S_PUSH_BYTES;
		lat = weft_sim_latency_draw(&s->c.latency, &nd->rng);
		/* datagrams: a lost one is gone (the model's 1 - loss) */
		if (weft_sim_unit(&nd->rng) < s->c.loss ||
		    s_cut(s, e->node, to)) {
			w->dropped++;
			continue;
		}
		s_ev(w, e->node, EV_PMSG, e->t + lat, to, e->node, 0, 0);
	}
	nd->tick_at = e->t + s->c.interval_us;
	s_ev(w, e->node, EV_TICK, nd->tick_at, e->node, 0, 0, 0);
}

/* Push protocol: node i's next tick after t, at its own phase. */
static void
s_push_tick_at(s_worker_t *w, uint32_t i, uint64_t t)
{
	s_node_t *nd = &w->s->nodes[i];
	uint64_t iv = w->s->c.interval_us, next;

	next = t - (t % iv) + nd->phase;
	if (next <= t)
		next += iv;
	nd->tick_at = next;
	s_ev(w, i, EV_TICK, next, i, 0, 0, 0);
}

/* Push protocol: node i learns the rumour at t. */
static void
s_push_infect(s_worker_t *w, uint32_t i, uint64_t t)
{
	s_node_t *nd = &w->s->nodes[i];

	if (!nd->alive || (nd->holds & 1))
		return;
	nd->holds |= 1;
	s_hold(w, t, i, 0);
	s_push_tick_at(w, i, t);
}

static void
s_handle(s_worker_t *w, weft_sim_ev_t *e)
{
	s_sim_t *s = w->s;
	uint32_t i = e->node, p = e->peer;
	s_node_t *nd = &s->nodes[i];
	s_half_t *h;
	uint64_t t = e->t;
	int prev;

	switch (e->type) {
	case EV_TICK:
		if (s->c.protocol == WEFT_SIM_PROTO_PUSH) {
			s_push_tick(w, e);
			break;
		}
		if (!nd->alive || t != nd->tick_at || nd->n == NULL)
			break;
		nd->tick_at = S_NEVER;
		weft_node_tick(nd->n, s_ms(t), s_unix(t));
		s_contact(w, i, t);
		s_drain(w, i, t);
		break;
	case EV_MSG: s_deliver(w, e); break;
	case EV_PMSG:
		if (nd->alive) {
			uint64_t rec[3] = {t, p, i};

			w->delivered++;
			nd->trace =
			    XXH3_64bits_withSeed(rec, sizeof(rec), nd->trace);
			s_push_infect(w, i, t);
		}
		break;
	case EV_SEED:
		if (nd->alive)
			s_dial(w, i, p, t);
		break;
	case EV_CONNECT: /* at the dialled end */
		if (!nd->alive) {
			s_ev(w, i, EV_DIALFAIL, t + e->aux, p, i, e->epoch, 0);
			break;
		}
		if (s_cut(s, p, i))
			break;
		if (s->c.orgs > 1 && nd->n != NULL &&
		    !weft_node_may_link(nd->n, s->orgname[s->topo.org[p]],
					s->topo.gateway[p])) {
			s_ev(w, i, EV_REFUSED, t + e->aux, p, i, e->epoch, 0);
			break;
		}
		h = s_half(nd, p);
		if (h != NULL && !(h->state == H_CONNECTING && p < i)) {
			s_ev(w, i, EV_REFUSED, t + e->aux, p, i, e->epoch, 0);
			break;
		}
		if (h == NULL && (h = s_half_add(w, nd, p)) == NULL)
			break;
		h->state = H_HALFOPEN;
		h->epoch = e->epoch;
		h->lat = e->aux;
		h->tail = 0;
		s_ev(w, i, EV_UP, t + 3 * (uint64_t)e->aux, p, i, e->epoch,
		     e->aux);
		break;
	case EV_UP: /* at the dialler: handshake done */
		h = s_half(nd, p);
		if (!nd->alive || h == NULL || h->state != H_CONNECTING ||
		    h->epoch != e->epoch) {
			s_ev(w, i, EV_RESET, t + e->aux, p, i, e->epoch, 0);
			break;
		}
		h->state = H_UP;
		h->tail = t + h->lat;
		s_ev(w, i, EV_HS3, h->tail, p, i, e->epoch, 0);
		s_peer_up(w, i, p, t);
		break;
	case EV_HS3: /* at the dialled end: the dialler's last message */
		h = s_half(nd, p);
		if (!nd->alive || h == NULL || h->state != H_HALFOPEN ||
		    h->epoch != e->epoch)
			break;
		h->state = H_UP;
		s_peer_up(w, i, p, t);
		break;
	case EV_DIALFAIL:
	case EV_REFUSED:
	case EV_RESET:
		h = s_half(nd, p);
		if (h == NULL || h->epoch != e->epoch ||
		    (e->type != EV_RESET && h->state != H_CONNECTING))
			break;
		prev = h->state;
		s_half_del(nd, h);
		if (!nd->alive || nd->n == NULL || e->type == EV_REFUSED)
			break;
		if (prev == H_UP)
			weft_node_peer_down(nd->n, s_ms(t), (uint64_t)p + 1);
		else if (prev == H_CONNECTING)
			weft_node_unreachable(nd->n, s_ms(t), s->kps[p].pk);
		s_drain(w, i, t);
		break;
	default: break;
	}
	free(e->buf);
}

/* ---- nodes ---- */

static void
s_seed32(const s_sim_t *s, const char *what, uint32_t i, uint8_t out[32])
{
	uint8_t msg[32];
	size_t n = strlen(what);

	memset(msg, 0, sizeof(msg));
	memcpy(msg, what, n < 16 ? n : 16);
	memcpy(msg + 16, &s->c.seed, 8);
	memcpy(msg + 24, &i, 4);
	crypto_generichash(out, 32, msg, sizeof(msg), NULL, 0);
}

/* A key pair from the run seed: real Ed25519, or with fast crypto
 * (whose stand-in signatures are keyed by the public key only) a hashed
 * public key, 30 times cheaper. */
static void
s_keypair(const s_sim_t *s, const char *what, uint32_t i, int kind,
	  const char *name, weft_keypair_t *kp)
{
	uint8_t seed[32];

	memset(kp, 0, sizeof(*kp));
	kp->kind = kind;
	snprintf(kp->name, sizeof(kp->name), "%s", name);
	s_seed32(s, what, i, seed);
	if (s->c.fast_crypto) {
		crypto_generichash(kp->pk, WEFT_PK_BYTES, seed, 32, NULL, 0);
		memcpy(kp->sk, seed, 32);
		memcpy(kp->sk + 32, kp->pk, 32);
	} else
		crypto_sign_seed_keypair(kp->pk, kp->sk, seed);
	sodium_memzero(seed, sizeof(seed));
}

static int
s_core_start(s_worker_t *w, uint32_t i, uint64_t t)
{
	s_sim_t *s = w->s;
	s_node_t *nd = &s->nodes[i];
	weft_node_cfg_t nc;
	weft_gossip_cfg_t *c = &nc.gossip;
	char addr[24];
	const char *addrs[1] = {addr};
	const char *gw[1] = {"gateway"};
	uint64_t iv_ms = s->c.interval_us / 1000, phase;
	int rc;

	memset(&nc, 0, sizeof(nc));
	snprintf(addr, sizeof(addr), "sim:%u", i);
	c->signer = &nd->signer;
	c->trust = &s->trust;
	c->addresses = addrs;
	c->naddresses = 1;
	c->roles = gw;
	c->nroles = s->topo.gateway[i] ? 1 : 0;
	c->version = "sim";
	c->interval_ms = iv_ms;
	c->sync_ms = s->c.sync_us / 1000;
	c->suspect_ms = s->c.suspect_us / 1000;
	c->degree = s->c.degree;
	c->active_max = s->c.max_neighbours;
	c->seed = weft_sim_mix(s->c.seed, ((uint64_t)i << 16) | nd->inc);
	c->partial = s->partial;
	c->fast_crypto = s->c.fast_crypto;
	/* a random phase: real agents do not start on the same millisecond */
	phase = weft_sim_below(
	    &nd->rng, iv_ms < S_BASE_US / 1000 ? iv_ms : S_BASE_US / 1000);
	rc = weft_node_new(&nd->n, &nc, s_ms(t) - phase, s_unix(t), &w->errmsg);
	if (rc != 0) {
		w->err = rc;
		return rc;
	}
	if (s->c.orgs > 1)
		weft_node_set_policy(nd->n, s->topo.gateway[i],
				     s->indirect[s->topo.org[i]]);
	nd->tick_at = S_NEVER;
	s_drain(w, i, t);
	return 0;
}

static int
s_node_init(s_worker_t *w, uint32_t i)
{
	s_sim_t *s = w->s;
	s_node_t *nd = &s->nodes[i];
	const char *gw[1] = {"gateway"};
	unsigned org = s->topo.org[i];
	uint64_t at;
	uint32_t k;
	int rc;

	nd->rng = weft_sim_mix(s->c.seed, 0x100000000ull + i);
	nd->trace = 0;
	nd->alive = 1;
	nd->tick_at = S_NEVER;
	snprintf(nd->name, sizeof(nd->name), "n%u", i);
	if (s->c.protocol == WEFT_SIM_PROTO_PUSH) {
		/* synchronous rounds, as the epidemic model assumes: every
		 * node ticks at the same phase */
		nd->phase = 0;
		return 0;
	}
	s_keypair(s, "node", i, WEFT_KEY_NODE, nd->name, &s->kps[i]);
	rc = weft_cert_issue(&s->orgkp[org], nd->name, s->kps[i].pk,
			     s->topo.gateway[i] ? gw : NULL,
			     s->topo.gateway[i] ? 1 : 0, S_T0 - 3600,
			     S_T0 + 30 * 86400, i, &nd->cert, &nd->cert_len,
			     &w->errmsg);
	if (rc != 0) {
		w->err = rc;
		return rc;
	}
	nd->signer.kp = &s->kps[i];
	nd->signer.cert = nd->cert;
	nd->signer.cert_len = nd->cert_len;
	nd->signer.org = s->orgname[org];
	nd->signer.node = nd->name;
	/* join: a node's own record and, with full membership, everyone's;
	 * with partial membership, its neighbours' */
	if (s->partial) {
		uint32_t a, b, *adj = s->adj + s->adj_off[i];
		uint32_t nadj = s->adj_off[i + 1] - s->adj_off[i];

		nd->expect = 1;
		for (a = 0; a < nadj; a++) {
			for (b = 0;
			     b < a && ((adj[b] ^ adj[a]) & 0x7fffffffu) != 0;
			     b++)
				;
			nd->expect += b == a;
		}
	} else
		nd->expect = s->n;
	if ((rc = s_core_start(w, i, 0)) != 0)
		return rc;
	/* the seeds: dial them all at once, at a random time within the
	 * join window (a millisecond unless --join-window) */
	at = weft_sim_below(&nd->rng,
			    s->c.join_window_us ? s->c.join_window_us : 1000);
	for (k = s->adj_off[i]; k < s->adj_off[i + 1]; k++)
		if (s->adj[k] & 0x80000000u)
			s_ev(w, i, EV_SEED, at, i, s->adj[k] & 0x7fffffffu, 0,
			     0);
	return 0;
}

/* ---- scenario events (serial) ---- */

static void
s_gsched(s_sim_t *s, int type, uint64_t t, uint32_t node, uint32_t aux,
	 uint32_t epoch, uint32_t peer)
{
	weft_sim_ev_t e;

	if (t > s->c.duration_us && type != G_END)
		return;
	e = s_ev_make(type, t, node, peer, epoch, aux);
	e.key = s->gseq++;
	if (weft_sim_heap_push(&s->glob, &e) != 0) {
		s_fail(&s->gw, WEFT_ENOMEM, "scenario");
		return;
	}
	if (type != G_SAMPLE && type != G_END)
		s->pending++;
}

static double
s_coverage(const s_sim_t *s)
{
	uint64_t sum = 0;
	unsigned k;

	if (s->c.scenario == WEFT_SIM_SC_JOIN)
		return s->expect ? (double)s->stored / (double)s->expect : 0;
	if (!s->published || s->live == 0 || s->ntargets == 0)
		return 0;
	for (k = 0; k < s->ntargets; k++)
		sum += s->holders[k];
	return (double)sum / ((double)s->live * s->ntargets);
}

/* Coverage changed at t: thresholds, and the end once complete. */
static void
s_check(s_sim_t *s, uint64_t t)
{
	uint64_t have = 0, want;
	unsigned q, k;

	if (s->c.scenario == WEFT_SIM_SC_JOIN) {
		have = s->stored;
		want = s->expect;
	} else {
		if (!s->published)
			return;
		for (k = 0; k < s->ntargets; k++)
			have += s->holders[k];
		want = s->live * s->ntargets;
	}
	for (q = 0; q < 4; q++)
		if (s->reach[q] < 0 && have * 100 >= want * s_thr_pct[q])
			s->reach[q] = (int64_t)(t - s->publish_us);
	if (have >= want && s->pending == 0 && !s->end_set) {
		s->end_set = 1;
		s_gsched(s, G_END, t + s->c.interval_us, 0, 0, 0, 0);
	}
}

static int
s_hold_cmp(const void *a, const void *b)
{
	const s_hold_t *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return (x->k > y->k) - (x->k < y->k);
}

/* Between windows: counters and coverage events of every worker. */
static void
s_collect(s_sim_t *s)
{
	s_worker_t *all[65];
	size_t nall = 0, i, need = 0;
	unsigned j;

	for (j = 0; j < s->nt; j++)
		all[nall++] = &s->w[j];
	all[nall++] = &s->gw;
	s->events = s->msgs = s->bytes = s->delivered = s->retrans = 0;
	s->dropped = s->proto_err = 0;
	for (i = 0; i < nall; i++) {
		s_worker_t *w = all[i];

		s->events += w->events;
		s->msgs += w->msgs;
		s->bytes += w->bytes;
		s->delivered += w->delivered;
		s->retrans += w->retrans;
		s->dropped += w->dropped;
		s->proto_err += w->proto_err;
		if (w->peak_q > s->peak_q)
			s->peak_q = w->peak_q;
		need += w->nholds;
	}
	if (need == 0)
		return;
	if (need > s->capmh) {
		s_hold_t *h = realloc(s->mh, need * sizeof(*h));

		if (h == NULL) {
			s_fail(&s->gw, WEFT_ENOMEM, "coverage");
			return;
		}
		s->mh = h;
		s->capmh = need;
	}
	s->nmh = 0;
	for (i = 0; i < nall; i++) {
		if (all[i]->nholds == 0)
			continue;
		memcpy(s->mh + s->nmh, all[i]->holds,
		       all[i]->nholds * sizeof(*s->mh));
		s->nmh += all[i]->nholds;
		all[i]->nholds = 0;
	}
	qsort(s->mh, s->nmh, sizeof(*s->mh), s_hold_cmp);
	for (i = 0; i < s->nmh; i++) {
		const s_hold_t *h = &s->mh[i];

		if (h->k == 0xff)
			s->stored++;
		else if (h->k < S_TARGETS && s->nodes[h->node].alive)
			s->holders[h->k]++;
		s_check(s, h->t);
	}
}

/* A descriptor entry issued at virtual time t: the same bytes every run
 * (Ed25519 signatures are deterministic). */
static int
s_descriptor(s_sim_t *s, uint32_t i, const char *name, uint64_t version,
	     int tomb, uint64_t t, uint8_t **env, size_t *len, weft_err_t *err)
{
	Weft__ProductDescriptor d = WEFT__PRODUCT_DESCRIPTOR__INIT;
	uint8_t *body;
	size_t blen;
	int rc;

	d.visibility = WEFT__VISIBILITY__VIS_PUBLIC;
	d.name = (char *)name;
	d.org = (char *)s->orgname[s->topo.org[i]];
	d.node = s->nodes[i].name;
	d.owner = "sim";
	d.description = "a product published by weft sim";
	d.version = version;
	blen = weft__product_descriptor__get_packed_size(&d);
	if ((body = malloc(blen ? blen : 1)) == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	weft__product_descriptor__pack(&d, body);
	rc = weft_entry_make_at(&s->nodes[i].signer, WEFT_ENTRY_DESCRIPTOR,
				name, version, tomb, 0, body, tomb ? 0 : blen,
				s_unix(t), env, len, err);
	free(body);
	return rc;
}

static void
s_publish(s_sim_t *s, const weft_sim_ev_t *e)
{
	s_worker_t *w = &s->gw;
	uint32_t i = e->node, k = e->aux;
	s_node_t *nd = &s->nodes[i];
	uint8_t *env = NULL;
	size_t len;
	char name[32];
	int target = k < S_TARGETS;

	if (target && !s->published) {
		s->published = 1;
		s->publish_us = e->t;
		s->msgs_pub = s->msgs;
		s->bytes_pub = s->bytes;
	}
	if (target && k + 1 > s->ntargets)
		s->ntargets = k + 1;
	if (s->c.protocol == WEFT_SIM_PROTO_PUSH) {
		s_push_infect(w, i, e->t);
		return;
	}
	if (k == S_PRIME)
		snprintf(name, sizeof(name), "sim.prime");
	else
		snprintf(name, sizeof(name), "sim.p%u", k < S_TARGETS ? k : 0);
	if (s_descriptor(s, i, name, e->epoch, (int)e->peer, e->t, &env, &len,
			 &w->errmsg) != 0) {
		w->err = WEFT_EINVAL;
		return;
	}
	if (target) {
		s->tenv[k] = env;
		s->tlen[k] = len;
	}
	if (nd->alive && nd->n != NULL) {
		(void)weft_node_offer(nd->n, s_ms(e->t), s_unix(e->t), env, len,
				      1, NULL);
		s_drain(w, i, e->t);
	}
	if (!target)
		free(env);
}

static void
s_kill(s_sim_t *s, uint32_t i, uint64_t t)
{
	s_node_t *nd = &s->nodes[i];
	unsigned k;
	uint32_t j;

	if (!nd->alive)
		return;
	nd->alive = 0;
	s->live--;
	for (k = 0; k < s->ntargets; k++)
		if (nd->holds & (1u << k))
			s->holders[k]--;
	for (j = 0; j < nd->nh; j++)
		s_ev(&s->gw, WEFT_SIM_SRC_GLOBAL, EV_RESET, t + nd->h[j].lat,
		     nd->h[j].peer, i, nd->h[j].epoch, 0);
	nd->nh = 0;
	nd->tick_at = S_NEVER;
}

typedef struct s_xfer {
	weft_node_t *n;
	uint64_t t;
} s_xfer_t;

static void
s_xfer_cb(void *arg, const uint8_t *env, size_t len)
{
	s_xfer_t *x = arg;

	(void)weft_node_offer(x->n, s_ms(x->t), s_unix(x->t), env, len, 0,
			      NULL);
}

/* A failed node restarts: a new core that loads what the old one had
 * stored (as the agent loads its store), then dials its neighbours. */
static void
s_revive(s_sim_t *s, uint32_t i, uint64_t t)
{
	s_worker_t *w = &s->gw;
	s_node_t *nd = &s->nodes[i];
	weft_node_t *old = nd->n;
	unsigned k;
	uint32_t j;

	if (nd->alive)
		return;
	nd->alive = 1;
	s->live++;
	for (k = 0; k < s->ntargets; k++)
		if (nd->holds & (1u << k))
			s->holders[k]++;
	if (s->c.protocol == WEFT_SIM_PROTO_PUSH) {
		if (nd->holds & 1)
			s_push_tick_at(w, i, t);
		return;
	}
	nd->inc++;
	nd->n = NULL;
	if (s_core_start(w, i, t) != 0) {
		nd->n = old;
		return;
	}
	if (old != NULL) {
		s_xfer_t x = {nd->n, t};

		weft_gossip_each(weft_node_gossip(old), s_xfer_cb, &x);
		weft_node_free(old);
		s_drain(w, i, t);
	}
	for (j = s->adj_off[i]; j < s->adj_off[i + 1]; j++)
		s_dial(w, i, s->adj[j] & 0x7fffffffu, t);
}

static void
s_cut_pair(s_sim_t *s, uint32_t a, s_half_t *ha, uint64_t t)
{
	s_worker_t *w = &s->gw;
	uint32_t b = ha->peer;
	s_node_t *na = &s->nodes[a], *nb = &s->nodes[b];
	s_half_t *hb = s_half(nb, a);
	int sa = ha->state, sb = hb ? hb->state : 0;

	if (sa == H_UP && s->ncut < (size_t)1 << 30) {
		if (s->ncut == s->capcut) {
			size_t cap = s->capcut ? s->capcut * 2 : 256;
			s_pair_t *p = realloc(s->cutp, cap * sizeof(*p));

			if (p != NULL) {
				s->cutp = p;
				s->capcut = cap;
			}
		}
		if (s->ncut < s->capcut) {
			s->cutp[s->ncut].a = a;
			s->cutp[s->ncut].b = b;
			s->ncut++;
		}
	}
	s_half_del(na, ha);
	if (hb != NULL)
		s_half_del(nb, hb);
	if (sa == H_UP)
		weft_node_peer_down(na->n, s_ms(t), (uint64_t)b + 1);
	else if (sa == H_CONNECTING)
		weft_node_unreachable(na->n, s_ms(t), s->kps[b].pk);
	if (sb == H_UP)
		weft_node_peer_down(nb->n, s_ms(t), (uint64_t)a + 1);
	else if (sb == H_CONNECTING)
		weft_node_unreachable(nb->n, s_ms(t), s->kps[a].pk);
	s_drain(w, a, t);
	s_drain(w, b, t);
}

static void
s_partition(s_sim_t *s, int on, uint64_t t)
{
	s_worker_t *w = &s->gw;
	uint32_t a, j;
	size_t k;

	if (on) {
		s_pair_t *todo = NULL;
		size_t nt = 0, cap = 0;

		s->cut = 1;
		s->ncut = 0;
		if (s->c.protocol == WEFT_SIM_PROTO_PUSH)
			return;
		/* first the links across, then cut them: cutting makes the
		 * cores dial, which changes the lists */
		for (a = 0; a < s->n; a++) {
			s_node_t *na = &s->nodes[a];

			if (s_group(s, a) != 0)
				continue;
			for (j = 0; j < na->nh; j++) {
				if (s_group(s, na->h[j].peer) == 0)
					continue;
				if (nt == cap) {
					size_t nc = cap ? cap * 2 : 256;
					s_pair_t *p =
					    realloc(todo, nc * sizeof(*p));

					if (p == NULL) {
						s_fail(w, WEFT_ENOMEM,
						       "partition");
						free(todo);
						return;
					}
					todo = p;
					cap = nc;
				}
				todo[nt].a = a;
				todo[nt].b = na->h[j].peer;
				nt++;
			}
		}
		for (k = 0; k < nt; k++) {
			s_half_t *h = s_half(&s->nodes[todo[k].a], todo[k].b);

			if (h != NULL)
				s_cut_pair(s, todo[k].a, h, t);
		}
		free(todo);
		return;
	}
	s->cut = 0;
	/* dials under way across the cut: the SYN's next retransmission
	 * gets through (their DIALFAIL then finds them connected) */
	for (a = 0; a < s->n; a++) {
		s_node_t *na = &s->nodes[a];

		for (j = 0; j < na->nh; j++)
			if (na->h[j].state == H_CONNECTING &&
			    s_group(s, na->h[j].peer) != s_group(s, a))
				s_ev(w, WEFT_SIM_SRC_GLOBAL, EV_CONNECT,
				     t + na->h[j].lat, na->h[j].peer, a,
				     na->h[j].epoch, na->h[j].lat);
	}
	for (k = 0; k < s->ncut; k++) {
		uint32_t x =
		    s->cutp[k].a < s->cutp[k].b ? s->cutp[k].a : s->cutp[k].b;
		uint32_t y = s->cutp[k].a ^ s->cutp[k].b ^ x;
		s_node_t *nx = &s->nodes[x], *ny = &s->nodes[y];
		s_half_t *hx, *hy;
		uint32_t ep;

		if (!nx->alive || !ny->alive || s_half(nx, y) != NULL ||
		    s_half(ny, x) != NULL)
			continue;
		if ((hx = s_half_add(w, nx, y)) == NULL)
			break;
		if ((hy = s_half_add(w, ny, x)) == NULL) {
			nx->nh--;
			break;
		}
		ep = s_epoch(nx, x, y);
		hx->state = hy->state = H_UP;
		hx->epoch = hy->epoch = ep;
		hx->lat = hy->lat =
		    (uint32_t)weft_sim_latency_draw(&s->c.latency, &nx->rng);
		hx->tail = hy->tail = t;
		s_peer_up(w, x, y, t);
		s_peer_up(w, y, x, t);
	}
	s->ncut = 0;
}

static void
s_sample(s_sim_t *s, uint64_t t)
{
	weft_sim_sample_t *v;

	if (s->nsamples == s->capsamples) {
		size_t cap = s->capsamples ? s->capsamples * 2 : 256;

		v = realloc(s->samples, cap * sizeof(*v));
		if (v == NULL) {
			s_fail(&s->gw, WEFT_ENOMEM, "samples");
			return;
		}
		s->samples = v;
		s->capsamples = cap;
	}
	v = &s->samples[s->nsamples++];
	v->t_us = t;
	v->coverage = s_coverage(s);
	v->msgs = s->msgs;
	v->bytes = s->bytes;
}

static void
s_global(s_sim_t *s, const weft_sim_ev_t *e)
{
	if (e->type != G_SAMPLE && e->type != G_END && s->pending > 0)
		s->pending--;
	switch (e->type) {
	case G_SAMPLE:
		s_sample(s, e->t);
		if (e->t + s->c.sample_us <= s->c.duration_us)
			s_gsched(s, G_SAMPLE, e->t + s->c.sample_us, 0, 0, 0,
				 0);
		break;
	case G_PUBLISH: s_publish(s, e); break;
	case G_FAIL: s_kill(s, e->node, e->t); break;
	case G_RECOVER: s_revive(s, e->node, e->t); break;
	case G_PART_ON: s_partition(s, 1, e->t); break;
	case G_PART_OFF: s_partition(s, 0, e->t); break;
	case G_END: s->stop = 1; break;
	default: break;
	}
	s_collect(s);
	s_check(s, e->t);
}

/* The scenario's events, from the configuration. */
static int
s_plan(s_sim_t *s, weft_err_t *err)
{
	const weft_sim_cfg_t *c = &s->c;
	uint64_t iv = c->interval_us, w0 = c->warmup_us;
	uint32_t *perm = NULL, i, nfail;

	s_gsched(s, G_SAMPLE, 0, 0, 0, 0, 0);
	s_gsched(s, G_END, c->duration_us, 0, 0, 0, 0);
	if (c->part_to_us > 0) {
		s_gsched(s, G_PART_ON, c->part_from_us, 0, 0, 0, 0);
		s_gsched(s, G_PART_OFF, c->part_to_us, 0, 0, 0, 0);
	}
	switch (c->scenario) {
	case WEFT_SIM_SC_JOIN:
		s->published = 1;
		s->publish_us = 0;
		break;
	case WEFT_SIM_SC_REVOCATION:
		/* an update (version 2) and its drop (a tombstone, version
		 * 3) race through the mesh; the drop must win everywhere */
		s_gsched(s, G_PUBLISH, w0, c->publisher, 0xff, 2, 0);
		s_gsched(s, G_PUBLISH, w0 + c->race_us, c->publisher, 0, 3, 1);
		break;
	case WEFT_SIM_SC_PARTITION:
		s_gsched(s, G_PUBLISH, c->part_from_us + iv, 0, 0, 1, 0);
		s_gsched(s, G_PUBLISH, c->part_from_us + iv, s->n - 1, 1, 1, 0);
		break;
	case WEFT_SIM_SC_GATEWAY_FAILURE: {
		uint32_t lo1 = (uint32_t)((uint64_t)s->n / c->orgs);
		uint32_t pub = c->gateways < lo1 ? c->gateways : 0;

		for (i = 0; i < c->fail_gateways; i++) {
			s_gsched(s, G_FAIL, w0, i, 0, 0, 0);
			s_gsched(s, G_RECOVER, w0 + c->recover_us, i, 0, 0, 0);
		}
		s_gsched(s, G_PUBLISH, w0 + iv, pub, 0, 1, 0);
		break;
	}
	default:
		/* --prime: the first broadcast after the join floods every
		 * link and prunes the Plumtree; the measured one then
		 * travels the tree, as every later one does */
		if (c->prime_us > 0)
			s_gsched(s, G_PUBLISH, w0, c->publisher, S_PRIME, 1, 0);
		s_gsched(s, G_PUBLISH, w0 + c->prime_us, c->publisher, 0, 1, 0);
		break;
	}
	if (c->churn > 0) {
		/* a random churn% of the nodes but the publisher fail over
		 * the churn window, which starts half way through the warmup
		 * (the publish falls inside it); with --recover each
		 * restarts that long after it failed */
		nfail = (uint32_t)llround(c->churn * s->n);
		if (nfail > s->n - 1)
			nfail = s->n - 1;
		perm = malloc((size_t)s->n * sizeof(*perm));
		if (perm == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
		for (i = 0; i < s->n; i++)
			perm[i] = i;
		perm[0] = c->publisher; /* never fails */
		perm[c->publisher] = 0;
		for (i = 0; i < nfail; i++) {
			uint64_t grng = weft_sim_mix(c->seed, 0xc4u + i);
			uint32_t j =
			    1 + i +
			    (uint32_t)weft_sim_below(&grng, s->n - 1 - i);
			uint32_t tmp = perm[1 + i];
			uint64_t at;

			perm[1 + i] = perm[j];
			perm[j] = tmp;
			at = w0 / 2 + weft_sim_below(&grng, c->churn_window_us);
			s_gsched(s, G_FAIL, at, perm[1 + i], 0, 0, 0);
			if (c->recover_us)
				s_gsched(s, G_RECOVER, at + c->recover_us,
					 perm[1 + i], 0, 0, 0);
		}
		free(perm);
	}
	return s->gw.err ? weft_err_set(err, s->gw.err, "out of memory") : 0;
}

/* ---- threads and windows ---- */

static void
s_window(s_worker_t *w, uint64_t end)
{
	weft_sim_ev_t e;
	const weft_sim_ev_t *top;

	while ((top = weft_sim_heap_top(&w->heap)) != NULL && top->t < end &&
	       w->err == 0) {
		weft_sim_heap_pop(&w->heap, &e);
		w->events++;
		s_handle(w, &e);
	}
}

static void
s_inbox(s_worker_t *w)
{
	s_sim_t *s = w->s;
	unsigned j;
	size_t k;

	for (j = 0; j < s->nt; j++) {
		s_evvec_t *v = &s->w[j].out[w->id];

		for (k = 0; k < v->n; k++)
			if (weft_sim_heap_push(&w->heap, &v->v[k]) != 0) {
				free(v->v[k].buf);
				s_fail(w, WEFT_ENOMEM, "events");
			}
		v->n = 0;
	}
}

static void
s_make_nodes(s_worker_t *w)
{
	s_sim_t *s = w->s;
	uint32_t i;

	for (i = w->id; i < s->n && w->err == 0; i += s->nt)
		(void)s_node_init(w, i);
}

static void *
s_thread(void *arg)
{
	s_worker_t *w = arg;
	s_sim_t *s = w->s;

	/* wait until thread 0 knows how many threads started */
	pthread_mutex_lock(&s->gate_mu);
	while (!s->gate_open)
		pthread_cond_wait(&s->gate_cv, &s->gate_mu);
	pthread_mutex_unlock(&s->gate_mu);
	if (w->id >= s->nt)
		return NULL;
	s_make_nodes(w);
	pthread_barrier_wait(&s->bar);
	for (;;) {
		pthread_barrier_wait(&s->bar);
		if (s->stop)
			break;
		s_window(w, s->win_end);
		pthread_barrier_wait(&s->bar);
		s_inbox(w);
		pthread_barrier_wait(&s->bar);
	}
	return NULL;
}

static int
s_any_err(s_sim_t *s, weft_err_t *err)
{
	unsigned j;

	for (j = 0; j < s->nt; j++)
		if (s->w[j].err != 0) {
			if (err != NULL)
				*err = s->w[j].errmsg;
			return s->w[j].err;
		}
	if (s->gw.err != 0) {
		if (err != NULL)
			*err = s->gw.errmsg;
		return s->gw.err;
	}
	return 0;
}

static void
s_progress(s_sim_t *s, uint64_t t, int last)
{
	uint64_t now = weft_mono_ns();

	if (s->c.progress == NULL ||
	    (!last && now - s->last_progress_ns < 1000000000ull))
		return;
	s->last_progress_ns = now;
	s->c.progress(s->c.progress_arg, (double)t / 1e6, s->events,
		      s_coverage(s), last);
}

/* The main loop, on thread 0 (shard 0 and the coordinator). */
static void
s_loop(s_sim_t *s)
{
	for (;;) {
		const weft_sim_ev_t *g;
		uint64_t T = S_NEVER, end;
		unsigned j;

		s_collect(s);
		if (s_any_err(s, NULL) != 0)
			break;
		for (;;) {
			T = S_NEVER;
			for (j = 0; j < s->nt; j++) {
				const weft_sim_ev_t *top =
				    weft_sim_heap_top(&s->w[j].heap);

				if (top != NULL && top->t < T)
					T = top->t;
			}
			g = weft_sim_heap_top(&s->glob);
			if (g != NULL && g->t <= T && !s->stop) {
				weft_sim_ev_t e;

				weft_sim_heap_pop(&s->glob, &e);
				s->t_now = e.t;
				s_global(s, &e);
				continue;
			}
			break;
		}
		if (s->stop || s_any_err(s, NULL) != 0 ||
		    (T == S_NEVER && g == NULL))
			break;
		end = T + s->lookahead;
		if (g != NULL && g->t < end)
			end = g->t;
		s->win_end = end;
		s->t_now = T;
		s_progress(s, T, 0);
		if (s->nt > 1)
			pthread_barrier_wait(&s->bar);
		s_window(&s->w[0], end);
		if (s->nt > 1) {
			pthread_barrier_wait(&s->bar);
			s_inbox(&s->w[0]);
			pthread_barrier_wait(&s->bar);
		}
	}
	s->stop = 1;
	if (s->nt > 1)
		pthread_barrier_wait(&s->bar);
}

/* ---- setup and results ---- */

static int
s_orgs(s_sim_t *s, weft_err_t *err)
{
	unsigned o, p, n = s->topo.orgs;

	s->orgkp = calloc(n, sizeof(*s->orgkp));
	s->roots = calloc(n, sizeof(*s->roots));
	s->orgname = calloc(n, sizeof(*s->orgname));
	s->indirect = calloc(n, sizeof(*s->indirect));
	if (!s->orgkp || !s->roots || !s->orgname || !s->indirect)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	for (o = 0; o < n; o++) {
		snprintf(s->orgname[o], sizeof(s->orgname[o]), "org%u", o);
		s_keypair(s, "org", o, WEFT_KEY_ORG, s->orgname[o],
			  &s->orgkp[o]);
		s->roots[o].kind = WEFT_KEY_ORG;
		snprintf(s->roots[o].name, sizeof(s->roots[o].name), "%s",
			 s->orgname[o]);
		memcpy(s->roots[o].pk, s->orgkp[o].pk, WEFT_PK_BYTES);
	}
	s->trust.roots = s->roots;
	s->trust.n = n;
	if (n > 1)
		for (o = 0; o < n; o++) {
			size_t len = 0;

			s->indirect[o] = calloc(n, 16);
			if (s->indirect[o] == NULL)
				return weft_err_set(err, WEFT_ENOMEM,
						    "out of memory");
			for (p = 0; p < n; p++)
				if (p != o)
					len += (size_t)snprintf(
					    s->indirect[o] + len, n * 16 - len,
					    "%s%s", len ? "," : "",
					    s->orgname[p]);
		}
	return 0;
}

/* Undirected adjacency from the edges; a dialler's entry for its seed
 * has the top bit set. */
static void
s_false_detections(s_sim_t *s, weft_sim_result_t *r)
{
	uint8_t *marked = calloc(s->n, 1);
	uint32_t i;

	if (marked == NULL || s->c.protocol == WEFT_SIM_PROTO_PUSH) {
		free(marked);
		return;
	}
	for (i = 0; i < s->n; i++) {
		weft_gossip_member_t *m = NULL;
		size_t nm = 0, k;
		s_node_t *nd = &s->nodes[i];
		uint32_t up = 0;
		weft_gossip_stats_t gs;

		if (!nd->alive || nd->n == NULL)
			continue;
		for (k = 0; k < nd->nh; k++)
			up += nd->h[k].state == H_UP;
		r->links_up += up;
		r->links_max = up > r->links_max ? up : r->links_max;
		r->links_seed = i == 0 ? up : r->links_seed;
		weft_gossip_stats(weft_node_gossip(nd->n), &gs);
		r->let_go += gs.disconnects_out;
		if (weft_gossip_members(weft_node_gossip(nd->n), &m, &nm) != 0)
			continue;
		for (k = 0; k < nm; k++) {
			int64_t j = s_addr(s, m[k].addr);

			if (m[k].failed && !m[k].self && j >= 0 &&
			    s->nodes[j].alive) {
				r->false_pairs++;
				marked[j] = 1;
			}
		}
		free(m);
	}
	for (i = 0; i < s->n; i++)
		r->false_nodes += marked[i];
	r->links_up /= 2;
	free(marked);
}

static void
s_free(s_sim_t *s)
{
	uint32_t i;
	unsigned j, k;

	if (s->nodes != NULL)
		for (i = 0; i < s->n; i++) {
			weft_node_free(s->nodes[i].n);
			free(s->nodes[i].h);
			free(s->nodes[i].cert);
		}
	if (s->kps != NULL)
		sodium_memzero(s->kps, (size_t)s->n * sizeof(*s->kps));
	free(s->kps);
	free(s->nodes);
	if (s->w != NULL)
		for (j = 0; j < s->nw; j++) {
			weft_sim_heap_free(&s->w[j].heap);
			if (s->w[j].out != NULL)
				for (k = 0; k < s->nw; k++) {
					size_t q;

					for (q = 0; q < s->w[j].out[k].n; q++)
						free(s->w[j].out[k].v[q].buf);
					free(s->w[j].out[k].v);
				}
			free(s->w[j].out);
			free(s->w[j].holds);
		}
	free(s->w);
	free(s->gw.holds);
	weft_sim_heap_free(&s->glob);
	if (s->orgkp != NULL)
		sodium_memzero(s->orgkp, s->topo.orgs * sizeof(*s->orgkp));
	free(s->orgkp);
	free(s->roots);
	free(s->orgname);
	if (s->indirect != NULL)
		for (j = 0; j < s->topo.orgs; j++)
			free(s->indirect[j]);
	free(s->indirect);
	free(s->adj_off);
	free(s->adj);
	free(s->cutp);
	for (j = 0; j < S_TARGETS; j++)
		free(s->tenv[j]);
	free(s->mh);
	free(s->samples);
	weft_sim_topo_free(&s->topo);
}

/* The run's shape from the configuration: topology, node count,
 * membership, shards, the crypto switches, orgs and adjacency, and the
 * arrays every node and worker needs. */
static int
s_prepare(s_sim_t *s, const weft_sim_cfg_t *cfg, weft_err_t *err)
{
	unsigned j, q;
	int rc;

	s->c = *cfg;
	if ((rc = weft_sim_cfg_check(&s->c, err)) != 0 ||
	    (rc = weft_sim_topo_make(&s->topo, &s->c, err)) != 0)
		return rc;
	s->n = s->topo.nodes;
	s->c.nodes = s->n;
	if (s->n < 2)
		return weft_err_set(err, WEFT_EINVAL, "fewer than 2 nodes");
	if (cfg->topology == WEFT_SIM_TOPO_FILE && cfg->nodes == 0 &&
	    (rc = weft_sim_cfg_check(&s->c, err)) != 0)
		return rc;
	if (s->c.publisher >= s->n)
		return weft_err_set(err, WEFT_EINVAL,
				    "--publisher: %u: there "
				    "are %u nodes (0 to %u)",
				    s->c.publisher, s->n, s->n - 1);
	s->partial =
	    s->c.membership < 0 ? s->n > WEFT_SIM_FULL_MAX : s->c.membership;
	s->nt = s->c.threads;
	if (s->nt == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		s->nt = s->n < 2000 ? 1 : (unsigned)(cpus < 1 ? 1 : cpus);
		if (s->nt > 8)
			s->nt = 8;
	}
	if (s->nt > s->n)
		s->nt = s->n;
	s->lookahead = weft_sim_latency_min(&s->c.latency);
	for (q = 0; q < 4; q++)
		s->reach[q] = -1;
	/* process-wide, set once before any thread starts (the cores only
	 * turn fast crypto on when it is not on already) */
	weft_crypto_set_fast(s->c.fast_crypto);
	s->vcache = !s->c.fast_crypto && !s->c.no_verify_cache &&
		    s->c.protocol == WEFT_SIM_PROTO_WEFT;
	weft_crypto_set_verify_cache(s->vcache);
	if ((rc = s_orgs(s, err)) != 0 ||
	    (rc = weft_sim_topo_adjacency(&s->topo, s->n, &s->adj_off, &s->adj,
					  err)) != 0)
		return rc;
	s->nodes = calloc(s->n, sizeof(*s->nodes));
	s->kps = calloc(s->n, sizeof(*s->kps));
	s->w = calloc(s->nt, sizeof(*s->w));
	s->nw = s->w != NULL ? s->nt : 0;
	if (s->nodes == NULL || s->kps == NULL || s->w == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	s->gw.s = s;
	s->gw.serial = 1;
	for (j = 0; j < s->nt; j++) {
		s->w[j].s = s;
		s->w[j].id = j;
		s->w[j].out = calloc(s->nt, sizeof(*s->w[j].out));
		if (s->w[j].out == NULL)
			return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	s->live = s->n;
	return 0;
}

/* Start the shards' threads (shard 0 is this thread); returns how many
 * shards run. Threads that fail to start only make the run slower: the
 * shards are fixed once they are known (results do not depend on their
 * number). */
static unsigned
s_threads_start(s_sim_t *s)
{
	unsigned j, started = 1;

	if (s->nt <= 1)
		return 1;
	pthread_mutex_init(&s->gate_mu, NULL);
	pthread_cond_init(&s->gate_cv, NULL);
	for (j = 1; j < s->nt; j++, started++)
		if (pthread_create(&s->w[j].th, NULL, s_thread, &s->w[j]) != 0)
			break;
	pthread_mutex_lock(&s->gate_mu);
	s->nt = started;
	if (s->nt > 1)
		pthread_barrier_init(&s->bar, NULL, s->nt);
	s->gate_open = 1;
	pthread_cond_broadcast(&s->gate_cv);
	pthread_mutex_unlock(&s->gate_mu);
	return started;
}

static void
s_threads_join(s_sim_t *s, unsigned started)
{
	unsigned j;

	for (j = 1; j < started; j++)
		pthread_join(s->w[j].th, NULL);
	if (started > 1) {
		if (s->nt > 1)
			pthread_barrier_destroy(&s->bar);
		pthread_mutex_destroy(&s->gate_mu);
		pthread_cond_destroy(&s->gate_cv);
	}
}

/* The trace hash (every node's chain, in node order) and the figures. */
static int
s_results(s_sim_t *s, weft_sim_result_t *r, weft_err_t *err)
{
	XXH3_state_t *st = XXH3_createState();
	uint32_t i;
	unsigned q;

	if (st == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	XXH3_64bits_reset_withSeed(st, s->c.seed);
	for (i = 0; i < s->n; i++)
		XXH3_64bits_update(st, &s->nodes[i].trace, 8);
	r->trace_hash = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	r->nodes = s->n;
	r->partial = s->partial;
	r->verify_cache = s->vcache;
	r->threads = s->nt;
	r->publish_us = s->publish_us;
	for (q = 0; q < 4; q++)
		r->reach_us[q] = s->reach[q];
	r->final_coverage = s_coverage(s);
	r->msgs = s->msgs;
	r->bytes = s->bytes;
	r->msgs_pub = s->published ? s->msgs - s->msgs_pub : 0;
	r->bytes_pub = s->published ? s->bytes - s->bytes_pub : 0;
	r->peak_queue = s->peak_q;
	r->events = s->events;
	r->delivered = s->delivered;
	r->retransmits = s->retrans;
	r->dropped = s->dropped;
	r->proto_errors = s->proto_err;
	r->end_us = s->t_now;
	r->live = (uint32_t)s->live;
	s_false_detections(s, r);
	r->samples = s->samples;
	r->nsamples = s->nsamples;
	s->samples = NULL;
	return 0;
}

int
weft_sim_run(const weft_sim_cfg_t *cfg, weft_sim_result_t *r, weft_err_t *err)
{
	s_sim_t *s;
	uint64_t t0 = weft_mono_ns();
	unsigned q, started;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	if ((rc = s_prepare(s, cfg, err)) != 0)
		goto out;
	started = s_threads_start(s);
	s_make_nodes(&s->w[0]);
	if (s->nt > 1)
		pthread_barrier_wait(&s->bar);
	r->setup_s = (double)(weft_mono_ns() - t0) / 1e9;
	for (q = 0; q < s->n; q++)
		s->expect += s->nodes[q].expect;
	rc = s_any_err(s, err);
	if (rc == 0)
		rc = s_plan(s, err);
	if (rc == 0)
		s_loop(s);
	else if (s->nt > 1) {
		/* release the workers (they wait for a window) */
		s->stop = 1;
		pthread_barrier_wait(&s->bar);
	}
	s_threads_join(s, started);
	if (rc == 0)
		rc = s_any_err(s, err);
	if (rc != 0)
		goto out;
	s_collect(s);
	s_progress(s, s->t_now, 1);
	rc = s_results(s, r, err);
out:
	weft_crypto_set_fast(0);
	if (s->vcache)
		weft_crypto_set_verify_cache(0);
	s_free(s);
	free(s);
	r->wall_s = (double)(weft_mono_ns() - t0) / 1e9;
	return rc;
}

void
weft_sim_result_free(weft_sim_result_t *r)
{
	free(r->samples);
	memset(r, 0, sizeof(*r));
}
