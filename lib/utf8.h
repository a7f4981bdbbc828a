/*
 * utf8.h: UTF-8 decoding, validation and display width: the one place
 * weft reads UTF-8 byte by byte.
 *
 * "Well-formed" is Unicode's definition (Table 3-7): no overlong forms,
 * no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequence, no stray continuation byte. Display width is one rule for
 * every table weft prints: 0 for combining marks (Mn, Me) and zero-width
 * format characters, 2 for East Asian Wide and Fullwidth characters
 * (EastAsianWidth W and F, which include the emoji), 1 otherwise;
 * Unicode 14.0 data. All functions take lengths, never rely on a NUL,
 * keep no state and are safe from any thread. ASCII takes a fast path.
 */
#ifndef WEFT_UTF8_H
#define WEFT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the sequence at s (n bytes available). Returns its length (1..4)
 * and stores the code point in *cp, or returns 0 (and leaves *cp alone)
 * if the bytes at s are not one well-formed sequence, including when
 * n == 0 or the sequence is cut short by n.
 */
size_t weft_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/*
 * Encode code point cp (at most U+10FFFF; the caller checks) into out.
 * Returns the number of bytes written, 1..4.
 */
size_t weft_utf8_encode(uint32_t cp, char out[4]);

/* 1 if the n bytes at s are well-formed UTF-8 (NUL bytes allowed), else
 * 0. n == 0 is valid. */
int weft_utf8_valid(const char *s, size_t n);

/*
 * Length of the longest prefix of s that is well-formed UTF-8 without a
 * NUL byte: n if all of s is, else the offset of the first byte of the
 * first bad sequence (or of the first NUL). For checking input text
 * (ingest), where a NUL is refused like a bad byte.
 */
size_t weft_utf8_check(const char *s, size_t n);

/* Columns code point cp takes on a terminal: 0, 1 or 2 (see above). */
int weft_utf8_cpwidth(uint32_t cp);

/* Display columns of the n bytes at s; a byte that does not start a
 * well-formed sequence counts one column. */
size_t weft_utf8_width(const char *s, size_t n);

/*
 * Cut s (n bytes) to at most max_cols display columns, at a character
 * boundary: returns the byte length of the longest such prefix (zero-width
 * marks after the last character that fits are kept with it). *cols, if
 * not NULL, receives the prefix's width. Malformed bytes count as in
 * weft_utf8_width.
 */
size_t weft_utf8_cut(const char *s, size_t n, size_t max_cols, size_t *cols);

#endif
