/*
 * json.h: one streaming JSON writer to a FILE *.
 *
 * The writer tracks nesting and commas itself: the caller says what to
 * write (begin/end an object or array, a value), each with a key inside
 * an object and without one elsewhere. Output is compact (no spaces) and
 * always valid JSON whatever the bytes given: strings are escaped
 * ('"', '\\', \n, \r, \t by name, other control characters as \u00XX)
 * and a byte that does not start a well-formed UTF-8 sequence is written
 * as \ufffd, one per byte. Misuse (a key missing or given where it does
 * not belong, an end that does not match, nesting deeper than
 * WEFT_JSON_DEPTH) writes nothing for that call and is reported by
 * weft_json_finish(), so a bug cannot turn into malformed output.
 * Nothing is allocated; a weft_json_t lives on the caller's stack.
 */
#ifndef WEFT_JSON_H
#define WEFT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define WEFT_JSON_DEPTH 32

/* Flags for weft_json_init(). */
enum {
	/* Each element of an outermost array on a line of its own, and its
	 * closing bracket too: "[\n{...},\n{...}\n]" (an empty one is "[]"),
	 * as `weft query --format json` prints rows. */
	WEFT_JSON_ROWS = 1,
};

typedef struct weft_json {
	FILE *js_f;
	unsigned js_flags;
	int js_err;	    /* first misuse, 0 if none */
	unsigned js_depth;  /* containers open (and written) */
	unsigned js_skip;   /* containers begun past the depth limit */
	uint8_t js_top_any; /* a value was written at the top level */
	uint8_t js_obj[WEFT_JSON_DEPTH]; /* 1 object, 0 array */
	uint8_t js_any[WEFT_JSON_DEPTH]; /* a member has been written */
} weft_json_t;

/* Start writing to f (borrowed until the last call) with WEFT_JSON_*
 * flags. Several values at the top level are separated by newlines. */
void weft_json_init(weft_json_t *j, FILE *f, unsigned flags);

/*
 * Containers. key names the member when the enclosing container is an
 * object and must be NULL otherwise (inside an array, at the top level).
 * Keys are escaped like strings.
 */
void weft_json_begin_object(weft_json_t *j, const char *key);
void weft_json_end_object(weft_json_t *j);
void weft_json_begin_array(weft_json_t *j, const char *key);
void weft_json_end_array(weft_json_t *j);

/* A string; s NULL writes null. */
void weft_json_string(weft_json_t *j, const char *key, const char *s);
/* A string of len bytes (may hold NUL, written as \u0000). */
void weft_json_string_len(weft_json_t *j, const char *key, const char *s,
			  size_t len);
void weft_json_int(weft_json_t *j, const char *key, int64_t v);
void weft_json_uint(weft_json_t *j, const char *key, uint64_t v);
/* The shortest of %.15g, %.16g, %.17g that reads back as v; NaN and
 * infinities (which JSON cannot hold) are written as null. */
void weft_json_double(weft_json_t *j, const char *key, double v);
void weft_json_bool(weft_json_t *j, const char *key, int v);
void weft_json_null(weft_json_t *j, const char *key);
/* len bytes of pre-formatted JSON (a number as some other code prints
 * it), written as they are: the caller vouches for them. */
void weft_json_raw(weft_json_t *j, const char *key, const char *text,
		   size_t len);

/*
 * After the last value: 0 if every container was closed and no call was
 * misused, WEFT_EINVAL otherwise, WEFT_EIO if the stream has an error
 * (ferror). Does not flush or close f.
 */
int weft_json_finish(weft_json_t *j);

/*
 * The escaper on its own: write s (len bytes) to f as a JSON string
 * literal, quotes included, escaped as above.
 */
void weft_json_quote(FILE *f, const char *s, size_t len);

#endif
