/*
 * bwire.h: result batches on the wire (weft.ResultBatch): what an owner
 * sends back for a fragment, and what the agent streams to `weft query`.
 *
 * Columns travel as the executor holds them: fixed-width values, NULL
 * bitmaps, text dictionary-encoded per batch (each distinct string once).
 * Decoding treats the bytes as hostile: the row count is at most
 * WEFT_BATCH, every column must have the type the receiver expects, and
 * every length is checked before it is used.
 */
#ifndef WEFT_QUERY_BWIRE_H
#define WEFT_QUERY_BWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "query/vec.h"

/*
 * Serialise b (borrowed) into *buf, malloc'd, *len bytes (the caller
 * frees it). NUMERIC scales are kept. 0, or WEFT_ENOMEM.
 */
int weft_bwire_encode(const weft_batch_t *b, uint8_t **buf, size_t *len,
		      weft_err_t *err);

/* The same for rows off .. off+n-1 of b (within b->n). */
int weft_bwire_encode_rows(const weft_batch_t *b, uint32_t off, uint32_t n,
			   uint8_t **buf, size_t *len, weft_err_t *err);

/*
 * Parse buf[0..len) (borrowed) into b, which has the columns the
 * receiver expects (their types): b is cleared, then filled; text is
 * copied into b's arena. 0, or WEFT_EINVAL ("result batch: ..."),
 * WEFT_ENOMEM; on failure b holds no rows.
 */
int weft_bwire_decode(const uint8_t *buf, size_t len, weft_batch_t *b,
		      weft_err_t *err);

#endif
