/*
 * odcs_yaml.c: the YAML tree under the ODCS mapping (odcs_int.h): nodes
 * and mapping helpers, error messages with source positions, loading a
 * document with libyaml's event parser, and writing one back with its
 * event emitter.
 *
 * Loading keeps key order, scalar styles, explicit tags and positions.
 * Comments and anchors are not kept (libyaml does not report comments;
 * aliases are refused, so anchors have no use). Limits against hostile
 * input: WEFT_ODCS_MAX bytes (checked by the callers), WEFT_ODCS_DEPTH_MAX
 * levels of nesting, WEFT_ODCS_NODES_MAX nodes, no aliases, one document;
 * every error names file:line:column. Writing refuses to produce more than
 * WEFT_ODCS_OUT_MAX bytes.
 */
#include "storage/odcs_int.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage/odcs.h"

#define WEFT_ODCS_OUT_MAX (4 * (size_t)WEFT_ODCS_MAX)

/* ---- tree -------------------------------------------------------------- */

void
weft_odcs_node_free(weft_odcs_node_t *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->on_nkids; i++)
		weft_odcs_node_free(n->on_kids[i]);
	free(n->on_kids);
	free(n->on_tag);
	free(n->on_str);
	free(n);
}

weft_odcs_node_t *
weft_odcs_node_new(int kind)
{
	weft_odcs_node_t *n = calloc(1, sizeof(*n));

	if (n != NULL)
		n->on_kind = kind;
	return n;
}

/* Append kid to a sequence or mapping. Takes kid in every case (frees it
 * on failure); kid == NULL (a failed allocation) gives WEFT_ENOMEM. */
int
weft_odcs_push(weft_odcs_node_t *coll, weft_odcs_node_t *kid)
{
	weft_odcs_node_t **k;
	size_t cap;

	if (kid == NULL)
		return WEFT_ENOMEM;
	if (coll->on_nkids == coll->on_cap) {
		cap = coll->on_cap ? coll->on_cap * 2 : 8;
		k = realloc(coll->on_kids, cap * sizeof(*k));
		if (k == NULL) {
			weft_odcs_node_free(kid);
			return WEFT_ENOMEM;
		}
		coll->on_kids = k;
		coll->on_cap = cap;
	}
	coll->on_kids[coll->on_nkids++] = kid;
	return 0;
}

/* Does s need quoting so that YAML does not read it as null, a boolean or
 * a number? Conservative: quoting more than needed is harmless. */
static int
weft_odcs_plain_safe(const char *s, size_t len)
{
	static const char *const words[] = {
	    "null", "true", "false", "yes", "no", "on", "off", "y", "n",
	};
	size_t i;

	if (len == 0 || memchr(s, '\0', len) != NULL)
		return 0;
	if (strchr("0123456789+-.~", s[0]) != NULL)
		return 0;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return 0;
	return 1;
}

/* Set scalar n to a copy of s (len bytes), choosing a style that reads
 * back as the same string. 0 or WEFT_ENOMEM (n unchanged). */
static int
weft_odcs_set_str(weft_odcs_node_t *n, const char *s, size_t len)
{
	char *c = malloc(len + 1);

	if (c == NULL)
		return WEFT_ENOMEM;
	memcpy(c, s, len);
	c[len] = '\0';
	free(n->on_str);
	free(n->on_tag);
	n->on_tag = NULL;
	n->on_str = c;
	n->on_len = len;
	n->on_style = memchr(s, '\n', len) != NULL ? YAML_LITERAL_SCALAR_STYLE
						   : YAML_ANY_SCALAR_STYLE;
	n->on_implicit =
	    WEFT_ODCS_QUOTED_IMPLICIT |
	    (weft_odcs_plain_safe(c, len) ? WEFT_ODCS_PLAIN_IMPLICIT : 0);
	return 0;
}

/* A new string scalar, or NULL when out of memory. */
weft_odcs_node_t *
weft_odcs_new_str(const char *s)
{
	weft_odcs_node_t *n = weft_odcs_node_new(WEFT_ODCS_SCALAR);

	if (n != NULL && weft_odcs_set_str(n, s, strlen(s)) != 0) {
		weft_odcs_node_free(n);
		n = NULL;
	}
	return n;
}

/* A new plain scalar meant to be read as a YAML non-string (true, 42). */
weft_odcs_node_t *
weft_odcs_new_plain(const char *s)
{
	weft_odcs_node_t *n = weft_odcs_new_str(s);

	if (n != NULL) {
		n->on_style = YAML_PLAIN_SCALAR_STYLE;
		n->on_implicit = WEFT_ODCS_PLAIN_IMPLICIT;
	}
	return n;
}

weft_odcs_node_t *
weft_odcs_new_u64(uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return weft_odcs_new_plain(buf);
}

int
weft_odcs_key_is(const weft_odcs_node_t *k, const char *key)
{
	size_t len = strlen(key);

	return k != NULL && k->on_kind == WEFT_ODCS_SCALAR &&
	       k->on_len == len && memcmp(k->on_str, key, len) == 0;
}

/* Add key: val at the end of map. Takes val in every case. */
int
weft_odcs_map_add(weft_odcs_node_t *map, const char *key, weft_odcs_node_t *val)
{
	int rc;

	if (val == NULL)
		return WEFT_ENOMEM;
	rc = weft_odcs_push(map, weft_odcs_new_str(key));
	if (rc != 0) {
		weft_odcs_node_free(val);
		return rc;
	}
	rc = weft_odcs_push(map, val);
	if (rc != 0) {
		/* keep the mapping's pairs whole */
		weft_odcs_node_free(map->on_kids[--map->on_nkids]);
	}
	return rc;
}

/* Remove every pair whose key is `key`, from index `from` (a pair start). */
static void
weft_odcs_map_del_from(weft_odcs_node_t *map, const char *key, size_t from)
{
	size_t i, j = from;

	for (i = from; i + 1 < map->on_nkids; i += 2) {
		if (weft_odcs_key_is(map->on_kids[i], key)) {
			weft_odcs_node_free(map->on_kids[i]);
			weft_odcs_node_free(map->on_kids[i + 1]);
			continue;
		}
		map->on_kids[j++] = map->on_kids[i];
		map->on_kids[j++] = map->on_kids[i + 1];
	}
	map->on_nkids = j;
}

void
weft_odcs_map_del(weft_odcs_node_t *map, const char *key)
{
	weft_odcs_map_del_from(map, key, 0);
}

/* Set key: val in map, replacing the value of the first such key in place
 * (and dropping any duplicates), else adding it at the end. Takes val. */
int
weft_odcs_map_put(weft_odcs_node_t *map, const char *key, weft_odcs_node_t *val)
{
	size_t i;

	if (val == NULL)
		return WEFT_ENOMEM;
	for (i = 0; i + 1 < map->on_nkids; i += 2) {
		if (weft_odcs_key_is(map->on_kids[i], key)) {
			weft_odcs_node_free(map->on_kids[i + 1]);
			map->on_kids[i + 1] = val;
			weft_odcs_map_del_from(map, key, i + 2);
			return 0;
		}
	}
	return weft_odcs_map_add(map, key, val);
}

/* The first value under key in map, or NULL (lenient: for the writer). */
weft_odcs_node_t *
weft_odcs_map_find(const weft_odcs_node_t *map, const char *key)
{
	size_t i;

	if (map == NULL || map->on_kind != WEFT_ODCS_MAP)
		return NULL;
	for (i = 0; i + 1 < map->on_nkids; i += 2)
		if (weft_odcs_key_is(map->on_kids[i], key))
			return map->on_kids[i + 1];
	return NULL;
}

/* ---- errors ------------------------------------------------------------ */

/* Copy at most 48 bytes of s into out for an error message, replacing
 * control characters so a message stays on one line. */
const char *
weft_odcs_show(const char *s, size_t len, char out[64])
{
	size_t i, n = len > 48 ? 48 : len;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

int
weft_odcs_fail(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *n, int code,
	       const char *fmt, ...)
{
	char msg[WEFT_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n != NULL && n->on_line > 0)
		return weft_err_set(cx->oc_err, code, "%s:%zu:%zu: %s",
				    cx->oc_path, n->on_line, n->on_col, msg);
	return weft_err_set(cx->oc_err, code, "%s: %s", cx->oc_path, msg);
}

/* Prefix an error a checker already wrote with n's position. */
int
weft_odcs_refail(const weft_odcs_ctx_t *cx, const weft_odcs_node_t *n, int rc)
{
	if (cx->oc_err != NULL && n != NULL && n->on_line > 0)
		weft_err_prefix(cx->oc_err, "%s:%zu:%zu", cx->oc_path,
				n->on_line, n->on_col);
	else
		weft_err_prefix(cx->oc_err, "%s", cx->oc_path);
	return rc;
}

/* ---- loading ----------------------------------------------------------- */

static int
weft_odcs_syntax_error(const weft_odcs_ctx_t *cx, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "malformed YAML";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return weft_err_set(cx->oc_err, WEFT_ENOMEM,
				    "%s: out of memory", cx->oc_path);
	case YAML_READER_ERROR:
		return weft_err_set(cx->oc_err, WEFT_EPARSE, "%s: byte %zu: %s",
				    cx->oc_path, p->problem_offset, problem);
	default: break;
	}
	if (p->context != NULL)
		return weft_err_set(cx->oc_err, WEFT_EPARSE,
				    "%s:%zu:%zu: %s (%s at line %zu)",
				    cx->oc_path, p->problem_mark.line + 1,
				    p->problem_mark.column + 1, problem,
				    p->context, p->context_mark.line + 1);
	return weft_err_set(cx->oc_err, WEFT_EPARSE, "%s:%zu:%zu: %s",
			    cx->oc_path, p->problem_mark.line + 1,
			    p->problem_mark.column + 1, problem);
}

/* Make a node for a scalar / collection-start event, attach it to the
 * innermost open collection (or make it the root) and count it. */
static int
weft_odcs_load_node(const weft_odcs_ctx_t *cx, weft_odcs_doc_t *doc,
		    const yaml_event_t *ev, weft_odcs_node_t **stack,
		    size_t depth, weft_odcs_node_t **out)
{
	const yaml_char_t *tag = NULL;
	weft_odcs_node_t *n;
	int kind;

	*out = NULL;
	if (++doc->od_nodes > WEFT_ODCS_NODES_MAX)
		return weft_err_set(cx->oc_err, WEFT_ETOOBIG,
				    "%s:%zu:%zu: more than %u YAML nodes",
				    cx->oc_path, ev->start_mark.line + 1,
				    ev->start_mark.column + 1,
				    WEFT_ODCS_NODES_MAX);
	kind = ev->type == YAML_SCALAR_EVENT	       ? WEFT_ODCS_SCALAR
	       : ev->type == YAML_SEQUENCE_START_EVENT ? WEFT_ODCS_SEQ
						       : WEFT_ODCS_MAP;
	n = weft_odcs_node_new(kind);
	if (n == NULL)
		return WEFT_ENOMEM;
	n->on_line = ev->start_mark.line + 1;
	n->on_col = ev->start_mark.column + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		tag = ev->data.scalar.tag;
		n->on_style = ev->data.scalar.style;
		if (tag == NULL)
			n->on_implicit = WEFT_ODCS_QUOTED_IMPLICIT |
					 (n->on_style == YAML_PLAIN_SCALAR_STYLE
					      ? WEFT_ODCS_PLAIN_IMPLICIT
					      : 0);
		else
			n->on_implicit = (ev->data.scalar.plain_implicit
					      ? WEFT_ODCS_PLAIN_IMPLICIT
					      : 0) |
					 (ev->data.scalar.quoted_implicit
					      ? WEFT_ODCS_QUOTED_IMPLICIT
					      : 0);
		n->on_len = ev->data.scalar.length;
		n->on_str = malloc(n->on_len + 1);
		if (n->on_str == NULL)
			goto nomem;
		memcpy(n->on_str, ev->data.scalar.value, n->on_len);
		n->on_str[n->on_len] = '\0';
		break;
	case YAML_SEQUENCE_START_EVENT:
		tag = ev->data.sequence_start.tag;
		n->on_style = ev->data.sequence_start.style;
		n->on_implicit = ev->data.sequence_start.implicit;
		break;
	default:
		tag = ev->data.mapping_start.tag;
		n->on_style = ev->data.mapping_start.style;
		n->on_implicit = ev->data.mapping_start.implicit;
		break;
	}
	if (tag != NULL && (n->on_tag = strdup((const char *)tag)) == NULL)
		goto nomem;
	if (depth == 0) {
		weft_odcs_node_free(doc->od_root); /* cannot happen: one doc */
		doc->od_root = n;
	} else if (weft_odcs_push(stack[depth - 1], n) != 0) {
		return WEFT_ENOMEM;
	}
	*out = n;
	return 0;
nomem:
	weft_odcs_node_free(n);
	return WEFT_ENOMEM;
}

/*
 * Load one YAML document into doc (zeroed by this function). On failure
 * doc is empty and cx's error says what and where.
 */
int
weft_odcs_load(const weft_odcs_ctx_t *cx, const uint8_t *yaml, size_t len,
	       weft_odcs_doc_t *doc)
{
	weft_odcs_node_t *stack[WEFT_ODCS_DEPTH_MAX], *n;
	yaml_parser_t p;
	yaml_event_t ev;
	size_t depth = 0;
	int ndocs = 0, done = 0, have_ev = 0, rc = 0;

	memset(doc, 0, sizeof(*doc));
	if (len > WEFT_ODCS_MAX)
		return weft_err_set(cx->oc_err, WEFT_ETOOBIG,
				    "%s: %zu bytes, more than the %u a "
				    "contract may have",
				    cx->oc_path, len, WEFT_ODCS_MAX);
	if (!yaml_parser_initialize(&p))
		return weft_err_set(cx->oc_err, WEFT_ENOMEM,
				    "%s: out of memory", cx->oc_path);
	yaml_parser_set_input_string(&p, len ? yaml : (const uint8_t *)"", len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = weft_odcs_syntax_error(cx, &p);
			goto out;
		}
		have_ev = 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT: done = 1; break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1) {
				rc = weft_err_set(
				    cx->oc_err, WEFT_EPARSE,
				    "%s:%zu:%zu: more than one YAML document",
				    cx->oc_path, ev.start_mark.line + 1,
				    ev.start_mark.column + 1);
				goto out;
			}
			doc->od_start_implicit =
			    ev.data.document_start.implicit;
			break;
		case YAML_ALIAS_EVENT:
			rc = weft_err_set(cx->oc_err, WEFT_EPARSE,
					  "%s:%zu:%zu: YAML aliases are not "
					  "supported",
					  cx->oc_path, ev.start_mark.line + 1,
					  ev.start_mark.column + 1);
			goto out;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (ev.type != YAML_SCALAR_EVENT &&
			    depth == WEFT_ODCS_DEPTH_MAX) {
				rc = weft_err_set(
				    cx->oc_err, WEFT_ETOOBIG,
				    "%s:%zu:%zu: nested more than %d levels "
				    "deep",
				    cx->oc_path, ev.start_mark.line + 1,
				    ev.start_mark.column + 1,
				    WEFT_ODCS_DEPTH_MAX);
				goto out;
			}
			rc =
			    weft_odcs_load_node(cx, doc, &ev, stack, depth, &n);
			if (rc != 0) {
				if (rc == WEFT_ENOMEM)
					weft_err_set(cx->oc_err, rc,
						     "%s: out of memory",
						     cx->oc_path);
				goto out;
			}
			if (ev.type != YAML_SCALAR_EVENT)
				stack[depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0) /* the parser keeps these balanced */
				depth--;
			break;
		default: break;
		}
		yaml_event_delete(&ev);
		have_ev = 0;
	}
out:
	if (have_ev)
		yaml_event_delete(&ev);
	yaml_parser_delete(&p);
	if (rc != 0) {
		weft_odcs_node_free(doc->od_root);
		memset(doc, 0, sizeof(*doc));
	}
	return rc;
}

/* ---- writing ----------------------------------------------------------- */

typedef struct weft_odcs_buf {
	uint8_t *ob_data;
	size_t ob_len, ob_cap;
	int ob_over;
} weft_odcs_buf_t;

static int
weft_odcs_write_cb(void *data, unsigned char *bytes, size_t size)
{
	weft_odcs_buf_t *b = data;
	size_t cap;
	uint8_t *p;

	if (size > WEFT_ODCS_OUT_MAX - b->ob_len) {
		b->ob_over = 1;
		return 0;
	}
	if (b->ob_len + size + 1 > b->ob_cap) {
		cap = b->ob_cap ? b->ob_cap : 4096;
		while (cap < b->ob_len + size + 1)
			cap *= 2;
		if ((p = realloc(b->ob_data, cap)) == NULL)
			return 0;
		b->ob_data = p;
		b->ob_cap = cap;
	}
	memcpy(b->ob_data + b->ob_len, bytes, size);
	b->ob_len += size;
	return 1;
}

/* Would libyaml write s in a style that does not read back the same?
 * Carriage returns, Unicode line/paragraph separators and NEL are safe
 * only escaped, in double quotes. */
static int
weft_odcs_needs_escape(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\0')
			return 1;
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0x85)
			return 1;
		if (c == 0xe2 && i + 2 < len &&
		    (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 ||
		     (unsigned char)s[i + 2] == 0xa9))
			return 1;
	}
	return 0;
}

/* Emit n and its children. in_flow: inside a flow collection; is_key: n
 * is a mapping key. libyaml can write an empty plain scalar (a null) only
 * as a block value; elsewhere it would quote it into an empty string, so
 * such nulls are written as "~". */
static int
weft_odcs_emit_node(yaml_emitter_t *em, const weft_odcs_node_t *n, int in_flow,
		    int is_key)
{
	yaml_char_t *tag = (yaml_char_t *)n->on_tag;
	yaml_char_t *value = (yaml_char_t *)n->on_str;
	size_t i, len = n->on_len;
	yaml_event_t ev;
	int style;

	switch (n->on_kind) {
	case WEFT_ODCS_SCALAR:
		style = n->on_style;
		if (weft_odcs_needs_escape(n->on_str, n->on_len))
			style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		if (len == 0 && tag == NULL &&
		    style == YAML_PLAIN_SCALAR_STYLE && (in_flow || is_key)) {
			value = (yaml_char_t *)"~";
			len = 1;
		}
		if (len > INT_MAX ||
		    !yaml_scalar_event_initialize(
			&ev, NULL, tag, value, (int)len,
			!!(n->on_implicit & WEFT_ODCS_PLAIN_IMPLICIT),
			!!(n->on_implicit & WEFT_ODCS_QUOTED_IMPLICIT),
			(yaml_scalar_style_t)style))
			return 0;
		return yaml_emitter_emit(em, &ev);
	case WEFT_ODCS_SEQ:
		in_flow |= n->on_style == YAML_FLOW_SEQUENCE_STYLE;
		if (!yaml_sequence_start_event_initialize(
			&ev, NULL, tag, tag == NULL || n->on_implicit,
			(yaml_sequence_style_t)n->on_style) ||
		    !yaml_emitter_emit(em, &ev))
			return 0;
		for (i = 0; i < n->on_nkids; i++)
			if (n->on_kids[i] != NULL &&
			    !weft_odcs_emit_node(em, n->on_kids[i], in_flow, 0))
				return 0;
		return yaml_sequence_end_event_initialize(&ev) &&
		       yaml_emitter_emit(em, &ev);
	default:
		in_flow |= n->on_style == YAML_FLOW_MAPPING_STYLE;
		if (!yaml_mapping_start_event_initialize(
			&ev, NULL, tag, tag == NULL || n->on_implicit,
			(yaml_mapping_style_t)n->on_style) ||
		    !yaml_emitter_emit(em, &ev))
			return 0;
		for (i = 0; i < n->on_nkids; i++)
			if (!weft_odcs_emit_node(em, n->on_kids[i], in_flow,
						 i % 2 == 0))
				return 0;
		return yaml_mapping_end_event_initialize(&ev) &&
		       yaml_emitter_emit(em, &ev);
	}
}

/* Write one document with root into a malloc'd, NUL-terminated buffer. */
int
weft_odcs_write(const weft_odcs_node_t *root, int start_implicit, uint8_t **out,
		size_t *len, weft_err_t *err)
{
	weft_odcs_buf_t b = {NULL, 0, 0, 0};
	yaml_emitter_t em;
	yaml_event_t ev;
	int ok, rc = 0;

	if (!yaml_emitter_initialize(&em))
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	yaml_emitter_set_output(&em, weft_odcs_write_cb, &b);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	yaml_emitter_set_break(&em, YAML_LN_BREAK);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	     yaml_emitter_emit(&em, &ev) &&
	     yaml_document_start_event_initialize(&ev, NULL, NULL, NULL,
						  start_implicit) &&
	     yaml_emitter_emit(&em, &ev) &&
	     weft_odcs_emit_node(&em, root, 0, 0) &&
	     yaml_document_end_event_initialize(&ev, 1) &&
	     yaml_emitter_emit(&em, &ev) &&
	     yaml_stream_end_event_initialize(&ev) &&
	     yaml_emitter_emit(&em, &ev) && yaml_emitter_flush(&em);
	if (!ok) {
		if (b.ob_over)
			rc = weft_err_set(err, WEFT_ETOOBIG,
					  "contract would be more than %zu "
					  "bytes",
					  WEFT_ODCS_OUT_MAX);
		else if (em.error == YAML_MEMORY_ERROR ||
			 em.error == YAML_WRITER_ERROR)
			rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		else
			rc = weft_err_set(err, WEFT_EINVAL,
					  "cannot write contract: %s",
					  em.problem ? em.problem
						     : "invalid text (not "
						       "UTF-8?)");
		free(b.ob_data);
		goto out;
	}
	if (b.ob_data == NULL && (b.ob_data = malloc(1)) == NULL) {
		rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
		goto out;
	}
	b.ob_data[b.ob_len] = '\0';
	*out = b.ob_data;
	*len = b.ob_len;
out:
	yaml_emitter_delete(&em);
	return rc;
}
