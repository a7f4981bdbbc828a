/*
 * csv.h: a streaming, sans-IO RFC 4180 CSV reader.
 *
 * The caller feeds blocks of bytes, split anywhere (inside a quoted field,
 * between CR and LF, inside a UTF-8 sequence), and takes records out one
 * at a time as arrays of fields. The reader never reads a file itself.
 *
 * Dialect (PostgreSQL's COPY ... CSV, strict):
 *  - fields are separated by ',', records end with LF or CRLF (or at EOF);
 *  - a field that starts with '"' is quoted: it may hold ',', CR, LF and
 *    doubled quotes ("" = one "), and must be followed by ',', a line end
 *    or EOF; a quote anywhere in an unquoted field is an error, and so is
 *    a CR not followed by LF outside quotes;
 *  - the first record is the header; every later record must have the
 *    same number of fields; a UTF-8 byte order mark before it is skipped;
 *  - an empty line is skipped when the header has two or more fields (it
 *    cannot be a record) and is a record of one empty field otherwise;
 *  - a field holds at most WEFT_TEXT_MAX bytes, a record at most
 *    WEFT_RECORD_MAX bytes, a header at most WEFT_COLS_MAX fields.
 *
 * Fields are returned as weft_field_t with kind WEFT_FK_RAW (unquoted) or
 * WEFT_FK_QUOTED; their bytes are not checked here (UTF-8 is the
 * caller's business), so the reader is binary-safe.
 *
 * Error messages read "NAME:LINE: ..." where NAME is the name given to
 * weft_csv_new() and LINE counts from 1.
 */
#ifndef WEFT_STORAGE_CSV_H
#define WEFT_STORAGE_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "storage/value.h"

typedef struct weft_csv weft_csv_t;

/* A new reader; name (copied) prefixes error messages. 0 or WEFT_ENOMEM. */
int weft_csv_new(const char *name, weft_csv_t **out);
/* Free a reader. Accepts NULL. */
void weft_csv_free(weft_csv_t *p);
/* Forget all input and state, as if new (keeps allocations). */
void weft_csv_reset(weft_csv_t *p);

/*
 * Give the reader the next len bytes of input; eof says they are the last
 * (len may be 0). Call only when weft_csv_next() has returned 0 (or before
 * the first call). The bytes are borrowed: they must stay valid and
 * unchanged until weft_csv_next() next returns 0 or an error.
 */
void weft_csv_feed(weft_csv_t *p, const char *buf, size_t len, bool eof);

/*
 * Take the next record. Returns 1 with *fields / *nfields set; 0 when the
 * input fed so far holds no further complete record (feed more, or, after
 * EOF was fed, the input is done); or a negative WEFT_E* code with err set
 * (WEFT_EPARSE, WEFT_ETOOBIG, WEFT_ENOMEM). After an error the reader must
 * be reset before reuse.
 *
 * The first record is the header. The fields and their bytes are valid
 * until the next call to weft_csv_next(), weft_csv_feed(), reset or free;
 * they point into the fed block or into the reader's own buffers.
 */
int weft_csv_next(weft_csv_t *p, const weft_field_t **fields, size_t *nfields,
		  weft_err_t *err);

/* Line on which the record last returned starts (1-based). */
uint64_t weft_csv_line(const weft_csv_t *p);
/* Records returned so far, the header included. */
uint64_t weft_csv_records(const weft_csv_t *p);

#endif
