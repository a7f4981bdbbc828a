/*
 * jsonl.h: a streaming, sans-IO JSON Lines reader for flat objects.
 *
 * Each non-blank line is one JSON object whose values are strings,
 * numbers, true, false or null; a nested object or array is an error
 * naming the line and key. The keys of the first object define the
 * columns and their order; a later line may omit keys (NULL) or list them
 * in any order, but a key the first line did not have, or a key given
 * twice, is an error. Strings are decoded (all JSON escapes, \uXXXX
 * surrogate pairs to UTF-8); their bytes are otherwise passed through
 * unchecked (the caller validates UTF-8). Lines end with LF; a CR before
 * it is whitespace. A line holds at most WEFT_RECORD_MAX bytes, a value
 * at most WEFT_TEXT_MAX, the first object at most WEFT_COLS_MAX keys.
 *
 * Fields come back in column order as weft_field_t: WEFT_FK_JSTR for
 * strings, WEFT_FK_RAW for numbers, true and false (their literal text),
 * WEFT_FK_NULL for null and absent keys.
 */
#ifndef WEFT_STORAGE_JSONL_H
#define WEFT_STORAGE_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "storage/value.h"

typedef struct weft_jsonl weft_jsonl_t;

/* A new reader; name (copied) prefixes error messages. */
int weft_jsonl_new(const char *name, weft_jsonl_t **out);
/* Free a reader. Accepts NULL. */
void weft_jsonl_free(weft_jsonl_t *p);
/* Forget all input, state and columns (keeps allocations). */
void weft_jsonl_reset(weft_jsonl_t *p);

/* Same contract as weft_csv_feed(). */
void weft_jsonl_feed(weft_jsonl_t *p, const char *buf, size_t len, bool eof);

/*
 * Take the next object: 1 with *fields (weft_jsonl_ncols() of them, in
 * column order), 0 when more input is needed or, after EOF, at the end,
 * or a negative WEFT_E* code with err set ("NAME:LINE: ..."). The fields
 * are valid until the next call to next, feed, reset or free.
 */
int weft_jsonl_next(weft_jsonl_t *p, const weft_field_t **fields,
		    size_t *nfields, weft_err_t *err);

/* Columns, known once the first object has been returned. The name is
 * borrowed from the reader (valid until reset or free). */
size_t weft_jsonl_ncols(const weft_jsonl_t *p);
const char *weft_jsonl_colname(const weft_jsonl_t *p, size_t i, size_t *len);

/* Line of the object last returned (1-based). */
uint64_t weft_jsonl_line(const weft_jsonl_t *p);

#endif
