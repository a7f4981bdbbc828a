/*
 * probe.h: what the hostile probe's modes share (tests/probe.c has the
 * links, sessions, JSON and command line; tests/probe_query.c the query
 * modes). See tests/probe.c for the tool.
 */
#ifndef WEFT_TESTS_PROBE_H
#define WEFT_TESTS_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/handshake.h"
#include "crypto/identity.h"
#include "lib/err.h"
#include "node/session.h"
#include "storage/nodedir.h"
#include "weft.pb-c.h"

#define PROBE_RBUF (64 * 1024)	     /* one recv() */
#define PROBE_DUMP_MAX (1024 * 1024) /* bytes kept for --dump */
#define PROBE_CAP_MAX (WEFT_HS_MSG1_BYTES + WEFT_HS_MSG_MAX) /* msg 1 + 3 */
#define PROBE_PING_PAYLOAD 65536 /* slowreader, the core's cap */
#define PROBE_FLIP_DATA 64	 /* flipbit: Bulk bytes */
#define PROBE_JUNK 4096		 /* biglen: bytes after the header */
#define PROBE_GARBAGE 10	 /* halfopen: bytes on odd ones */
#define PROBE_CONNECT_BATCH 64	 /* halfopen: connects in flight */
#define PROBE_QUICK_MS 500	 /* halfopen: "closed immediately" */
#define PROBE_COUNT_MAX 1000000ul
#define PROBE_PUSH_MAX 500 /* gossip: entries per push */
#define PROBE_NAME "probe" /* node name in self-made certificates */

/* ---- Options ---- */

enum {
	PROBE_O_DATA_DIR = 1u << 0,
	PROBE_O_CONNECT = 1u << 1,
	PROBE_O_TIMEOUT = 1u << 2,
	PROBE_O_DUMP = 1u << 3,
	PROBE_O_ORG = 1u << 4,
	PROBE_O_NOT_BEFORE = 1u << 5,
	PROBE_O_NOT_AFTER = 1u << 6,
	PROBE_O_BREAK_SIG = 1u << 7,
	PROBE_O_COUNT = 1u << 8,
	PROBE_O_BIND = 1u << 9,
	PROBE_O_HOLD = 1u << 10,
	PROBE_O_SECONDS = 1u << 11,
	PROBE_O_BYTE = 1u << 12,
	PROBE_O_VICTIM_KEY = 1u << 13,
	PROBE_O_FLOOD = 1u << 14,
	PROBE_O_PRODUCT = 1u << 15,
};

typedef struct probe_opts {
	const char *mode;
	unsigned seen; /* PROBE_O_* given on the command line */
	const char *data_dir, *connect, *dump, *org, *bind, *product;
	uint64_t timeout_ms, hold_ms, seconds_ms;
	int64_t not_before, not_after;
	int break_sig;
	unsigned long count;
	size_t flip_byte;
	unsigned long flood;
	uint8_t victim_key[WEFT_PK_BYTES];
} probe_opts_t;

typedef struct probe_json {
	int n; /* members written at the current level */
} probe_json_t;

typedef struct probe_id {
	const weft_keypair_t *kp; /* the key we present (borrowed below) */
	const uint8_t *cert;
	size_t cert_len;
	weft_node_id_t nid; /* DIR's identity, if loaded */
	weft_keypair_t *own_kp, *own_org;
	uint8_t *own_cert;
	uint8_t netkey[WEFT_HS_KEY_BYTES];
	weft_pubkey_t *roots;
	weft_trust_t trust;
} probe_id_t;

typedef struct probe_link {
	int fd;
	weft_sess_t *sess;   /* NULL for raw links */
	uint64_t t_start;    /* when connected */
	weft_sess_buf_t out; /* block taken from sess, being written */
	size_t out_off;
	int drop_output;	    /* take output and discard it */
	uint8_t cap[PROBE_CAP_MAX]; /* the first output bytes */
	size_t cap_len;
	uint8_t *rbuf;		 /* PROBE_RBUF */
	uint64_t sent, received; /* bytes on the wire */
	int hs_done;		 /* our core finished the handshake */
	int echo;		 /* an empty Bulk came back */
	int qend;		 /* a QueryEnd came: qend_error */
	char qend_error[512];
	int peer_close; /* the peer's CLOSE frame arrived */
	int eof, reset; /* the peer closed (FIN) / reset */
	int failed;	/* our core failed: error says why */
	int timed_out;
	uint64_t closed_at; /* when eof or reset was seen; 0: not */
	char error[WEFT_ERR_MAX];
} probe_link_t;

enum { PROBE_UNTIL_HS, PROBE_UNTIL_ECHO, PROBE_UNTIL_CLOSED, PROBE_UNTIL_QEND };

uint64_t probe_now_ms(void);
void probe_json_begin(probe_json_t *j, const char *mode);
void probe_json_str(probe_json_t *j, const char *k, const char *v);
void probe_json_bool(probe_json_t *j, const char *k, int v);
void probe_json_end(probe_json_t *j);
void probe_json_u64(probe_json_t *j, const char *k, uint64_t v);
void probe_json_ms(probe_json_t *j, const char *k, uint64_t from, uint64_t to);
void probe_json_link(probe_json_t *j, const probe_link_t *l);
void probe_json_close(probe_json_t *j, const probe_link_t *l, uint64_t from);
int probe_id_load_node(probe_id_t *id, const char *dir);
int probe_id_load_mesh(probe_id_t *id, const char *dir);
void probe_id_free(probe_id_t *id);
int probe_open_session(probe_link_t *l, const probe_id_t *id,
		       const probe_opts_t *o, uint64_t stall_ms);
int probe_link_establish(probe_link_t *l, uint64_t deadline);
int probe_link_pump(probe_link_t *l, uint64_t deadline, int until);
void probe_link_why(probe_link_t *l, int rc, const char *what);
void probe_link_fail(probe_link_t *l, const char *msg);
void probe_link_goodbye(probe_link_t *l, uint64_t timeout_ms);
void probe_link_free(probe_link_t *l);
int probe_link_closed(const probe_link_t *l);
int probe_link_write_some(probe_link_t *l);
int probe_link_flush(probe_link_t *l, uint64_t deadline);
size_t probe_link_read(probe_link_t *l, int feed, uint8_t *sink,
		       size_t *sink_len, size_t sink_cap);

int probe_mode_qopen(const probe_opts_t *o);
int probe_mode_gossip(const probe_opts_t *o);

#endif
