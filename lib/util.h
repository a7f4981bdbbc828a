/*
 * util.h: small helpers every layer may use: clocks, bounded file I/O,
 * hex, timestamps. No network, no global state. (UTF-8: utf8.h; JSON
 * output: json.h.)
 */
#ifndef WEFT_UTIL_H
#define WEFT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* Wall-clock time in microseconds / seconds since the Unix epoch (UTC). */
int64_t weft_now_us(void);
int64_t weft_now_s(void);
/* Monotonic time in nanoseconds, for measuring. */
uint64_t weft_mono_ns(void);

/*
 * Read a whole file of at most max bytes into a malloc'd buffer (NUL
 * terminated, not counted in *len). The caller frees *buf. Fails with
 * WEFT_ETOOBIG over max, with a message naming the file.
 */
int weft_read_file(const char *path, size_t max, uint8_t **buf, size_t *len,
		   weft_err_t *err);

/*
 * Write len bytes to path atomically (temp file, fsync, rename) with the
 * given mode. Fails with -EEXIST if exclusive and path exists.
 */
int weft_write_file(const char *path, const void *data, size_t len, int mode,
		    int exclusive, weft_err_t *err);

/* Lower-case hex of n bytes into out (2n+1 bytes). Returns out. */
char *weft_hex(const uint8_t *in, size_t n, char *out);
/* Parse exactly 2n hex digits into out. 0 ok, WEFT_EINVAL otherwise. */
int weft_unhex(const char *in, uint8_t *out, size_t n);

/* Format microseconds since epoch as "YYYY-MM-DD HH:MM:SS[.ffffff]" UTC. */
void weft_fmt_ts(int64_t us, char out[40]);

#endif
