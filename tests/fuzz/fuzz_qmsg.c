/*
 * fuzz_qmsg.c: libFuzzer harness for the query service core (node/qsvc.h)
 * inside the node core: query messages from three established sessions
 * (two of org acme, one of globex) mixed with what the agent does, in any
 * order and with any values.
 *
 * Input: operations, each a byte (low nibble mod 13: the operation; high
 * nibble mod 3: the peer) and its arguments (a byte each; bytes as a
 * length byte and that many bytes; missing bytes read as 0):
 *
 *   0 raw frame from the peer       7 agent: credit an ask
 *   1 QueryOpen from the peer       8 agent: cancel an ask
 *   2 QueryBatch from the peer      9 agent (owner): a batch of a job
 *   3 QueryCredit from the peer    10 agent (owner): a job ends, with
 *   4 QueryEnd from the peer          an error from a table (some with
 *   5 QueryCancel from the peer       control characters, bad UTF-8, too
 *   6 agent: ask the peer (open)      long), as the engine may make them
 *  11 the peer's session goes down, or comes up again
 *  12 agent: ask the peer until the core says busy (once per input)
 *
 * A model of the asks and jobs checks every output: every message the
 * core sends encodes and passes weft_wire_decode (what a peer accepts);
 * jobs run (QRUN) within the caps, in all and per peer; credit and stops
 * only for running jobs; an ask gets no more batches than it granted and
 * nothing after its end or its cancel; a session gone ends its asks and
 * stops its jobs; the core's counts match the model after every step.
 *
 * Seeds: WEFT_QMSG_SEEDS=DIR build/fuzz/fuzz_qmsg -runs=0 writes this
 * file's fz_seeds[] there (tests/fuzz/seeds/fuzz_qmsg/).
 *
 * Build: make build/fuzz/fuzz_qmsg
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"
#include "node/qsvc.h"
#include "node/wire.h"
#include "node_fixture.h"

#define FZ_PEERS 3
#define FZ_ASKS (WEFT_QSVC_ASK_MAX + 64)
#define FZ_HIST 64

typedef struct fz_ask {
	uint64_t qid, granted, received;
	int peer;
} fz_ask_t;

typedef struct fz_job {
	uint64_t id, asker_qid;
	int peer;
} fz_job_t;

/* The model, reset for each input. */
typedef struct fz {
	weft_node_t *n;
	int up[FZ_PEERS];
	fz_ask_t asks[FZ_ASKS];
	size_t nasks;
	fz_job_t jobs[WEFT_QSVC_SERVE_MAX];
	size_t njobs;
	uint64_t hist[FZ_HIST]; /* job ids ever run */
	size_t nhist;
	uint64_t fed_qid;  /* the QueryOpen just fed */
	int fed_peer;	   /* ... from this peer */
	uint32_t sends[5]; /* query messages sent in this step, by kind */
	const uint8_t *p;
	size_t len, at;
} fz_t;

static fz_t fz;

static const uint8_t fz_pkbyte[FZ_PEERS] = {0xa1, 0xa2, 0xa3};
static const char *const fz_orgs[FZ_PEERS] = {"acme", "globex", "acme"};
static const uint32_t fz_credits[6] = {0, 1, 4, 256, 257, UINT32_MAX};

/* Errors as the engine may phrase them: with data in them. */
static char fz_cut[WEFT_QSVC_ERR_MAX + 8], fz_long[2000];
static const char *fz_errors[8] = {
    "",
    "cancelled",
    "invalid input syntax for type bigint: \"x\ty\nz\"",
    "invalid input syntax for type bigint: \"\xff\xfe\"",
    fz_cut,  /* a 2-byte character across the cap */
    fz_long, /* over the cap */
    "division by zero",
    "bell \x07 and delete \x7f",
};

static uint8_t
fz_u8(void)
{
	return fz.at < fz.len ? fz.p[fz.at++] : 0;
}

static const uint8_t *
fz_bytes(size_t *len)
{
	size_t l = fz_u8();
	const uint8_t *b = fz.p + fz.at;

	if (l > fz.len - fz.at)
		l = fz.len - fz.at;
	fz.at += l;
	*len = l;
	return b;
}

static uint64_t
fz_sess(int peer)
{
	return 11 + (uint64_t)peer;
}

static void
fz_pk(int peer, uint8_t pk[WEFT_PK_BYTES])
{
	memset(pk, fz_pkbyte[peer], WEFT_PK_BYTES);
}

static size_t
fz_ask_find(uint64_t qid)
{
	size_t i;

	for (i = 0; i < fz.nasks; i++)
		if (fz.asks[i].qid == qid)
			return i;
	return SIZE_MAX;
}

static size_t
fz_job_find(uint64_t id)
{
	size_t i;

	for (i = 0; i < fz.njobs; i++)
		if (fz.jobs[i].id == id)
			return i;
	return SIZE_MAX;
}

/* A message the core sends: it must be one a peer accepts. */
static void
fz_check_send(const weft_out_t *o)
{
	Weft__WireMessage *m = NULL;
	weft_err_t err = {0};
	size_t len;
	uint8_t *buf;
	int kind;

	if (o->msg == NULL || o->peer < fz_sess(0) ||
	    o->peer >= fz_sess(FZ_PEERS) || !fz.up[o->peer - fz_sess(0)])
		abort(); /* a message for no live session */
	len = weft__wire_message__get_packed_size(o->msg);
	buf = malloc(len + 1);
	if (buf == NULL)
		abort();
	weft__wire_message__pack(o->msg, buf);
	if (weft_wire_decode(buf, len, &m, &err) != 0) {
		fprintf(stderr,
			"fuzz_qmsg: the core sent what a peer "
			"refuses: %s\n",
			err.msg);
		abort();
	}
	kind = (int)m->msg_case - WEFT__WIRE_MESSAGE__MSG_QOPEN;
	if (kind >= 0 && kind < 5)
		fz.sends[kind]++;
	weft__wire_message__free_unpacked(m, NULL);
	free(buf);
}

static void
fz_check_out(const weft_out_t *o)
{
	size_t i, per = 0;

	switch (o->kind) {
	case WEFT_OUT_SEND: fz_check_send(o); break;
	case WEFT_OUT_QRUN:
		if (fz_job_find(o->qid) != SIZE_MAX ||
		    o->peer != fz_sess(fz.fed_peer) ||
		    fz.njobs >= WEFT_QSVC_SERVE_MAX || o->n == 0 ||
		    o->n > 64 * WEFT_QSVC_CREDIT ||
		    strcmp(o->org, fz_orgs[fz.fed_peer]) != 0)
			abort();
		for (i = 0; i < fz.njobs; i++)
			per += fz.jobs[i].peer == fz.fed_peer;
		if (per >= WEFT_QSVC_PEER_MAX)
			abort(); /* over the cap for one asking node */
		fz.jobs[fz.njobs].id = o->qid;
		fz.jobs[fz.njobs].asker_qid = fz.fed_qid;
		fz.jobs[fz.njobs++].peer = fz.fed_peer;
		fz.hist[fz.nhist++ % FZ_HIST] = o->qid;
		break;
	case WEFT_OUT_QCREDIT:
		if (fz_job_find(o->qid) == SIZE_MAX || o->n == 0)
			abort();
		break;
	case WEFT_OUT_QSTOP:
		i = fz_job_find(o->qid);
		if (i == SIZE_MAX)
			abort(); /* a stop for no running job */
		fz.jobs[i] = fz.jobs[--fz.njobs];
		break;
	case WEFT_OUT_QBATCH:
		i = fz_ask_find(o->qid);
		if (i == SIZE_MAX || o->env == NULL ||
		    fz.asks[i].received >= fz.asks[i].granted)
			abort(); /* after the end, or beyond the credit */
		fz.asks[i].received++;
		break;
	case WEFT_OUT_QEND:
		i = fz_ask_find(o->qid);
		if (i == SIZE_MAX)
			abort(); /* an end after the end or the cancel */
		fz.asks[i] = fz.asks[--fz.nasks];
		break;
	default: break;
	}
}

/* Take every output, check it against the model, then the counts. */
static void
fz_drain(void)
{
	weft_qsvc_stats_t st;
	weft_out_t o;
	size_t i;

	while (weft_node_poll(fz.n, &o)) {
		fz_check_out(&o);
		weft_node_out_free(&o);
	}
	weft_qsvc_stats(weft_node_qsvc(fz.n), &st);
	if (st.running != fz.njobs || st.waiting != fz.nasks)
		abort();
	for (i = 0; i < fz.nasks; i++)
		if (!fz.up[fz.asks[i].peer])
			abort(); /* an ask outlived its session */
	for (i = 0; i < fz.njobs; i++)
		if (!fz.up[fz.jobs[i].peer])
			abort(); /* a job outlived its asker's session */
}

/* Feed m from peer as its bytes, through the node core. */
static void
fz_feed(int peer, Weft__WireMessage *m)
{
	size_t len = weft__wire_message__get_packed_size(m);
	uint8_t *buf = malloc(len + 1);

	if (buf == NULL)
		abort();
	weft__wire_message__pack(m, buf);
	(void)weft_node_input(fz.n, 1000, 1700000000000000ll, fz_sess(peer),
			      buf, len, NULL);
	free(buf);
}

/* A qid the peer might send: one we asked, one of its jobs, or any. */
static uint64_t
fz_pick_qid(int peer, int ours)
{
	uint8_t s = fz_u8();
	size_t i;

	if ((s & 0xc0) == 0x80 && ours && fz.nasks)
		return fz.asks[s % fz.nasks].qid;
	if ((s & 0xc0) == 0x80 && !ours)
		for (i = 0; i < fz.njobs; i++)
			if (fz.jobs[(i + s) % fz.njobs].peer == peer)
				return fz.jobs[(i + s) % fz.njobs].asker_qid;
	return (s & 0xc0) == 0xc0 ? UINT64_MAX - (s & 7) : s % 16;
}

static void
fz_peer_msg(int op, int peer)
{
	static const char *const products[4] = {"sales.t", "bad\nname", "",
						"a.b"};
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__QueryOpen qo = WEFT__QUERY_OPEN__INIT;
	Weft__QueryBatch qb = WEFT__QUERY_BATCH__INIT;
	Weft__QueryCredit qc = WEFT__QUERY_CREDIT__INIT;
	Weft__QueryEnd qe = WEFT__QUERY_END__INIT;
	Weft__QueryCancel qx = WEFT__QUERY_CANCEL__INIT;
	size_t len;

	switch (op) {
	case 1:
		qo.qid = fz_pick_qid(peer, 0);
		qo.product = (char *)products[fz_u8() % 4];
		qo.version = fz_u8();
		qo.fragment.data = (uint8_t *)fz_bytes(&len);
		qo.fragment.len = len;
		qo.credit = fz_credits[fz_u8() % 6];
		qo.timeout_ms = 1000u * fz_u8();
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_QOPEN;
		m.qopen = &qo;
		fz.fed_qid = qo.qid;
		fz.fed_peer = peer;
		break;
	case 2:
		qb.qid = fz_pick_qid(peer, 1);
		qb.batch.data = (uint8_t *)fz_bytes(&len);
		qb.batch.len = len;
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_QBATCH;
		m.qbatch = &qb;
		break;
	case 3:
		qc.qid = fz_pick_qid(peer, 0);
		qc.credit = fz_credits[fz_u8() % 6];
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_QCREDIT;
		m.qcredit = &qc;
		break;
	case 4:
		qe.qid = fz_pick_qid(peer, 1);
		qe.error = (char *)fz_errors[fz_u8() % 8];
		qe.rows = fz_u8();
		qe.version = fz_u8();
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_QEND;
		m.qend = &qe;
		break;
	default:
		qx.qid = fz_pick_qid(peer, 0);
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_QCANCEL;
		m.qcancel = &qx;
		break;
	}
	fz_feed(peer, &m);
}

/* The agent asks peer (or a node it has no session with). */
static int
fz_open(int peer, int stranger)
{
	uint8_t pk[WEFT_PK_BYTES];
	weft_err_t err = {0};
	const uint8_t *frag;
	size_t len;
	uint64_t qid;
	int rc;

	fz_pk(peer, pk);
	if (stranger)
		pk[0] ^= 0x55;
	frag = fz_bytes(&len);
	rc = weft_qsvc_open(weft_node_qsvc(fz.n), pk, "sales.t", fz_u8(), frag,
			    len, 1000, &qid, &err);
	if (stranger || !fz.up[peer]) {
		if (rc != WEFT_ENOTFOUND || err.msg[0] == 0)
			abort();
	} else if (fz.nasks >= WEFT_QSVC_ASK_MAX) {
		if (rc != WEFT_EAGAIN)
			abort();
	} else {
		if (rc != 0 || fz_ask_find(qid) != SIZE_MAX)
			abort();
		fz.asks[fz.nasks].qid = qid;
		fz.asks[fz.nasks].peer = peer;
		fz.asks[fz.nasks].granted = WEFT_QSVC_CREDIT;
		fz.asks[fz.nasks++].received = 0;
	}
	return rc;
}

/* The agent's side of an ask or a job (operations 7 to 10). */
static void
fz_agent(int op)
{
	static const uint32_t credit[4] = {0, 1, 3, 200};
	weft_qsvc_t *qs = weft_node_qsvc(fz.n);
	uint8_t s = fz_u8();
	uint64_t id, rows;
	size_t len, i;
	const uint8_t *b;
	const char *e;

	if (op == 7 || op == 8) {
		if (fz.nasks == 0)
			return;
		i = s % fz.nasks;
		id = fz.asks[i].qid;
		if (op == 7) {
			uint32_t n = credit[fz_u8() % 4];

			weft_qsvc_credit(qs, id, n);
			fz.asks[i].granted += n;
		} else {
			weft_qsvc_cancel(qs, id);
			fz.asks[i] = fz.asks[--fz.nasks];
		}
		return;
	}
	if ((s & 0x80) == 0 && fz.njobs)
		id = fz.jobs[s % fz.njobs].id;
	else if (fz.nhist)
		id = fz.hist[s % (fz.nhist < FZ_HIST ? fz.nhist : FZ_HIST)];
	else
		id = s;
	i = fz_job_find(id);
	if (op == 9) {
		b = fz_bytes(&len);
		if ((weft_qsvc_batch(qs, id, b, len) == 0) != (i != SIZE_MAX))
			abort();
		return;
	}
	e = fz_errors[fz_u8() % 8];
	rows = fz_u8();
	weft_qsvc_end(qs, id, e, rows, fz_u8(),
		      fz_u8() & 1 ? fz_errors[fz_u8() % 8] : NULL);
	if (i != SIZE_MAX)
		fz.jobs[i] = fz.jobs[--fz.njobs];
}

static void
fz_toggle(int peer)
{
	uint8_t pk[WEFT_PK_BYTES];

	if (fz.up[peer]) {
		weft_node_peer_down(fz.n, 1000, fz_sess(peer));
		fz.up[peer] = 0;
		fz_drain(); /* ends its asks, stops its jobs: checked here */
		return;
	}
	fz_pk(peer, pk);
	fz.up[peer] = 1;
	weft_node_peer_up(fz.n, 1000, fz_sess(peer), pk, fz_orgs[peer], 0);
}

/* One operation; 0 when the input is used up. */
static int
fz_step(int *flooded)
{
	uint8_t b = fz_u8();
	int op = (b & 15) % 13, peer = (b >> 4) % FZ_PEERS;
	const uint8_t *raw;
	size_t len;

	memset(fz.sends, 0, sizeof(fz.sends));
	switch (op) {
	case 0:
		raw = fz_bytes(&len);
		(void)weft_node_input(fz.n, 1000, 1700000000000000ll,
				      fz_sess(peer), raw, len, NULL);
		break;
	case 1:
	case 2:
	case 3:
	case 4:
	case 5: fz_peer_msg(op, peer); break;
	case 6:
		if (fz_open(peer, fz_u8() & 1) == 0) {
			fz_drain();
			if (fz.sends[0] != 1)
				abort(); /* one QueryOpen went out */
		}
		break;
	case 11: fz_toggle(peer); break;
	case 12:
		if (*flooded || !fz.up[peer])
			break;
		*flooded = 1;
		while (fz_open(peer, 0) == 0)
			;
		if (fz.nasks != WEFT_QSVC_ASK_MAX)
			abort();
		break;
	default: fz_agent(op); break;
	}
	fz_drain();
	return fz.at < fz.len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	weft_node_cfg_t cfg;
	const char *addr[1] = {"127.0.0.1:1"};
	int i, flooded = 0, steps = 0;

	memset(&fz, 0, sizeof(fz));
	fz.p = data;
	fz.len = size;
	memset(&cfg, 0, sizeof(cfg));
	cfg.gossip.signer = &fz_signer;
	cfg.gossip.trust = &fz_trust;
	cfg.gossip.addresses = addr;
	cfg.gossip.naddresses = 1;
	cfg.gossip.seed = 1;
	if (weft_node_new(&fz.n, &cfg, 1000, 1700000000000000ll, NULL) != 0)
		abort();
	for (i = 0; i < FZ_PEERS; i++)
		fz_toggle(i);
	fz_drain();
	while (steps++ < 512 && fz_step(&flooded))
		;
	for (i = 0; i < FZ_PEERS; i++)
		if (fz.up[i])
			fz_toggle(i);
	if (fz.nasks != 0 || fz.njobs != 0)
		abort();
	weft_node_free(fz.n);
	return 0;
}

/* Seeds: short conversations that reach each state. */
static const uint8_t fz_seed_owner[] = {
    /* acme0 opens qid 1 (its initial credit); we send a batch, get credit, end
     */
    0x01, 0x01, 0, 1,	 3,    'a', 'b', 'c',  2,    0, /* QueryOpen */
    0x09, 0x00, 2, 0x0a, 0x00,				/* batch */
    0x03, 0x81, 2,					/* QueryCredit */
    0x0a, 0x00, 0, 5,	 1,				/* end */
    0x11, 0x02, 0, 1,	 0,    2,   0,	 0x09, 0x10, 0, 0x05, 0x81, /* globex */
};
static const uint8_t fz_seed_asker[] = {
    0x06, 0x00, 3, 'f',	 'r',  'g',  1,	   /* ask acme0 */
    0x02, 0x80, 4, 0x08, 0x01, 0x12, 0x00, /* a batch back */
    0x07, 0x00, 2,			   /* credit it */
    0x04, 0x80, 0, 7,	 1,		   /* its end */
    0x16, 0x00, 0, 0,	 0x12, 0x80, 0,	   0x12, 0x80, 0,
    0x12, 0x80, 0, 0x12, 0x80, 0,    0x12, 0x80, 0, /* globex floods */
    0x26, 0x00, 0, 0,	 0x28, 0x00, 0x2b,	    /* ask, cancel, down */
};
static const uint8_t fz_seed_caps[] = {
    0x01, 1,	0,    0,    0, 2, 0, 0x01, 2, 0, 0, 0, 2, 0,
    0x01, 3,	0,    0,    0, 2, 0, 0x01, 4, 0, 0, 0, 2, 0,
    0x01, 5,	0,    0,    0, 2, 0, 0x01, 6, 0, 0, 0, 2, 0,
    0x01, 7,	0,    0,    0, 2, 0, 0x01, 8, 0, 0, 0, 2, 0,
    0x01, 9,	0,    0,    0, 2, 0, 0x21, 1, 0, 0, 0, 2, 0,
    0x21, 2,	0,    0,    0, 2, 0, 0x21, 3, 0, 0, 0, 2, 0,
    0x21, 4,	0,    0,    0, 2, 0, 0x21, 5, 0, 0, 0, 2, 0,
    0x21, 6,	0,    0,    0, 2, 0, 0x21, 7, 0, 0, 0, 2, 0,
    0x21, 8,	0,    0,    0, 2, 0, 0x21, 9, 0, 0, 0, 2, 0,
    0x0c, 0x0b, 0x0b, 0x2b,
};

static const struct {
	const char *name;
	const uint8_t *p;
	size_t n;
} fz_seeds[] = {
    {"owner", fz_seed_owner, sizeof(fz_seed_owner)},
    {"asker", fz_seed_asker, sizeof(fz_seed_asker)},
    {"caps", fz_seed_caps, sizeof(fz_seed_caps)},
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("WEFT_QMSG_SEEDS");
	char path[512];
	size_t i;
	FILE *f;

	(void)argc;
	(void)argv;
	fz_node_fixture();
	memset(fz_cut, 'a', WEFT_QSVC_ERR_MAX - 1);
	memcpy(fz_cut + WEFT_QSVC_ERR_MAX - 1, "\xc3\xa9", 3); /* é */
	memset(fz_long, 'b', sizeof(fz_long) - 1);
	for (i = 0; dir != NULL && i < sizeof(fz_seeds) / sizeof(*fz_seeds);
	     i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fz_seeds[i].name);
		f = fopen(path, "wb");
		if (f == NULL ||
		    fwrite(fz_seeds[i].p, 1, fz_seeds[i].n, f) !=
			fz_seeds[i].n ||
		    fclose(f) != 0)
			abort();
	}
	return 0;
}
