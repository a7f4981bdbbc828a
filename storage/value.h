/*
 * value.h: strict parsing of text values into weft's column types, shared
 * by the CSV and JSON Lines readers and by ingest.
 *
 * Every parser takes (s, len), need not see a NUL terminator, never reads
 * outside [s, s + len), allocates nothing and is safe to call from any
 * thread. The accepted spellings follow PostgreSQL's input functions
 * (int8in, float8in, boolin, timestamptz_in), narrowed where PostgreSQL is
 * loose: leading and trailing ASCII whitespace is allowed around numbers,
 * booleans and timestamps, but not inside them; no hex or underscore
 * integers; no time zone names, only Z and numeric offsets.
 */
#ifndef WEFT_STORAGE_VALUE_H
#define WEFT_STORAGE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "storage/chunk.h"

/*
 * One field of a parsed record, as the CSV and JSON Lines readers return
 * it. ptr borrows from the reader (see each reader for how long it
 * lives) and is not NUL-terminated.
 */
enum {
	WEFT_FK_NULL = 0,   /* JSON null or a key absent from this line */
	WEFT_FK_RAW = 1,    /* unquoted CSV field; JSON number/true/false */
	WEFT_FK_QUOTED = 2, /* quoted CSV field (may be empty: "") */
	WEFT_FK_JSTR = 3,   /* JSON string (escapes already decoded) */
};

typedef struct weft_field {
	const char *ptr;
	uint32_t len;
	uint32_t kind; /* WEFT_FK_* */
} weft_field_t;

/* Largest record (CSV record or JSON line) the readers accept, bytes. */
#define WEFT_RECORD_MAX (64u << 20)

/*
 * Return codes of the parsers below: 0 and *out set, WEFT_ETYPE when s is
 * not a value of the type at all, -ERANGE when it is one but does not fit
 * (int64 overflow, float overflow/underflow to zero, year outside
 * 1..9999). *out is untouched on failure.
 */

/* int64: [ws][+|-]digits[ws]; leading zeros allowed. */
int weft_value_i64(const char *s, size_t len, int64_t *out);

/*
 * float64: [ws][+|-](digits[.digits*] | .digits)[(e|E)[+|-]digits][ws],
 * or NaN, Infinity, Inf with an optional sign on the infinities (case
 * insensitive), as PostgreSQL's float8in. Correctly rounded: plain
 * decimals of up to 15 digits take an exact fast path, the rest strtod in
 * the C locale. Out of range (overflow, or a non-zero value that rounds to
 * zero) is -ERANGE, as in PostgreSQL.
 */
int weft_value_f64(const char *s, size_t len, double *out);

/*
 * bool, PostgreSQL's set, case-insensitive: t, true, y, yes, on, 1 and
 * f, false, n, no, off, 0.
 */
int weft_value_bool(const char *s, size_t len, bool *out);

/*
 * Timestamp to microseconds since 1970-01-01 00:00:00 UTC:
 *   YYYY-MM-DD
 *   YYYY-MM-DD(' '|'T')HH:MM[:SS[.f{1,9}]]
 * each optionally followed (after optional spaces) by Z, or an offset
 * +HH, +HH:MM, +HHMM (or -), |offset| < 16 h. Without a zone the time is
 * taken as UTC. Fractions beyond microseconds are rounded half up. Months,
 * days (with leap years), hours 0..23, minutes and seconds 0..59 are
 * checked; year 1..9999.
 */
int weft_value_ts(const char *s, size_t len, int64_t *out);

/*
 * Type inference: the set of types a value could be, as a bit mask of
 * WEFT_VM_* bits. WEFT_VM_WORD marks a boolean written as a word (true,
 * no, on, ...) rather than 1/0, so a column of only 0 and 1 stays int64.
 * A JSON string (WEFT_FK_JSTR) is only ever a timestamp or text: quoting
 * in JSON is a statement of type, quoting in CSV is not.
 */
enum {
	WEFT_VM_BOOL = 1u << 0,
	WEFT_VM_INT = 1u << 1,
	WEFT_VM_FLOAT = 1u << 2,
	WEFT_VM_TS = 1u << 3,
	WEFT_VM_ALL = WEFT_VM_BOOL | WEFT_VM_INT | WEFT_VM_FLOAT | WEFT_VM_TS,
	WEFT_VM_WORD = 1u << 4, /* a flag, not a candidate type */
};

unsigned weft_value_classify(const char *s, size_t len, uint32_t kind);

/*
 * The narrowest type allowed by an accumulated mask (the AND of the
 * candidate bits of every non-NULL value; WEFT_VM_ALL when none was seen,
 * which gives text): bool if booleans remain and `words` (some value was a
 * word-form boolean), else int64, float64, timestamp, else text.
 */
weft_type_t weft_value_pick(unsigned mask, bool words);

#endif
