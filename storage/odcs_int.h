/*
 * odcs_int.h: internals shared by odcs.c (the ODCS mapping: contract
 * fields <-> weft_product_info_t) and odcs_yaml.c (the YAML tree they
 * work on: loading with libyaml's parser, building, writing with its
 * emitter). Not for use outside these two files.
 *
 * The tree keeps what a round trip needs: key order, scalar styles,
 * explicit tags and source positions (for messages). A node owns its
 * children; "takes" below means the callee owns the argument afterwards,
 * also on failure.
 */
#ifndef WEFT_STORAGE_ODCS_INT_H
#define WEFT_STORAGE_ODCS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "lib/err.h"

enum { WEFT_ODCS_SCALAR = 1, WEFT_ODCS_SEQ = 2, WEFT_ODCS_MAP = 3 };

/* on_implicit bits for scalars (libyaml's plain/quoted implicit flags). */
#define WEFT_ODCS_PLAIN_IMPLICIT 1
#define WEFT_ODCS_QUOTED_IMPLICIT 2

typedef struct weft_odcs_node weft_odcs_node_t;
struct weft_odcs_node {
	int on_kind;
	int on_style;		/* yaml_{scalar,sequence,mapping}_style_t */
	int on_implicit;	/* scalars: bits above; collections: 0/1 */
	size_t on_line, on_col; /* 1-based source position; 0 = built here */
	char *on_tag;		/* explicit tag, or NULL */
	char *on_str; /* scalar bytes, NUL-terminated (may hold NUL) */
	size_t on_len;
	weft_odcs_node_t **on_kids; /* SEQ: items; MAP: key, value, ... */
	size_t on_nkids, on_cap;
};

typedef struct weft_odcs_doc {
	weft_odcs_node_t *od_root;
	size_t od_nodes;
	int od_start_implicit;
} weft_odcs_doc_t;

typedef struct weft_odcs_ctx {
	const char *oc_path;
	weft_err_t *oc_err;
} weft_odcs_ctx_t;

/* ---- tree (odcs_yaml.c) ---- */

/* A new empty node of kind WEFT_ODCS_*, or NULL when out of memory. */
weft_odcs_node_t *weft_odcs_node_new(int kind);
/* Free n and everything under it. Accepts NULL. */
void weft_odcs_node_free(weft_odcs_node_t *n);
/* Append kid to a sequence or mapping. Takes kid in every case (frees it
 * on failure); kid == NULL (a failed allocation) gives WEFT_ENOMEM. */
int weft_odcs_push(weft_odcs_node_t *coll, weft_odcs_node_t *kid);
/* A new string scalar (a style that reads back as the same string), or
 * NULL when out of memory. */
weft_odcs_node_t *weft_odcs_new_str(const char *s);
/* A new plain scalar meant to be read as a YAML non-string (true, 42). */
weft_odcs_node_t *weft_odcs_new_plain(const char *s);
/* A new plain integer scalar. */
weft_odcs_node_t *weft_odcs_new_u64(uint64_t v);
/* Is k the scalar key `key`? */
int weft_odcs_key_is(const weft_odcs_node_t *k, const char *key);
/* Add key: val at the end of map. Takes val in every case. */
int weft_odcs_map_add(weft_odcs_node_t *map, const char *key,
		      weft_odcs_node_t *val);
/* Remove every entry with key from map. */
void weft_odcs_map_del(weft_odcs_node_t *map, const char *key);
/* Set key: val in map, replacing the value of the first such key in place
 * (and dropping any duplicates), else adding it at the end. Takes val. */
int weft_odcs_map_put(weft_odcs_node_t *map, const char *key,
		      weft_odcs_node_t *val);
/* The first value under key in map, or NULL (lenient: for the writer). */
weft_odcs_node_t *weft_odcs_map_find(const weft_odcs_node_t *map,
				     const char *key);

/* ---- errors (odcs_yaml.c) ---- */

/* Copy at most 48 bytes of s into out for an error message, replacing
 * control characters so a message stays on one line. Returns out. */
const char *weft_odcs_show(const char *s, size_t len, char out[64]);
/* Fill the context's error with "path:line:col: message" (the position of
 * node n, if it has one) and return code. */
int weft_odcs_fail(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *n,
		   int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prefix an error a checker already wrote with n's position; returns rc. */
int weft_odcs_refail(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *n,
		     int rc);

/* ---- YAML in and out (odcs_yaml.c) ---- */

/*
 * Load one YAML document (len bytes) into doc (zeroed by this function),
 * within WEFT_ODCS_DEPTH_MAX and WEFT_ODCS_NODES_MAX, refusing aliases
 * and more than one document. On failure doc is empty and cx's error says
 * what and where.
 */
int weft_odcs_load(const weft_odcs_ctx_t *cx, const uint8_t *yaml, size_t len,
		   weft_odcs_doc_t *doc);
/* Write one document with root into a malloc'd, NUL-terminated buffer
 * (*out, *len; the caller frees it). */
int weft_odcs_write(const weft_odcs_node_t *root, int start_implicit,
		    uint8_t **out, size_t *len, weft_err_t *err);

#endif
