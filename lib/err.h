/*
 * err.h: weft's error codes and user-facing error messages.
 *
 * Functions return int: 0 on success, a negative -errno or a negative
 * WEFT_E* code on failure. Where a user needs to know what, where and why,
 * the function also fills a weft_err_t with one line of text such as
 * "flights.csv:1042: column \"delay\": \"abc\" is not an integer".
 */
#ifndef WEFT_ERR_H
#define WEFT_ERR_H

#include <stddef.h>

/* Reserved range below -1000 so it never collides with -errno. */
enum {
	WEFT_EINVAL = -1001,	/* bad argument or malformed input */
	WEFT_EPARSE = -1002,	/* input could not be parsed */
	WEFT_ETYPE = -1003,	/* value does not fit the column type */
	WEFT_ESIG = -1004,	/* signature does not verify */
	WEFT_ETRUST = -1005,	/* signer not certified by a trusted root */
	WEFT_EEXPIRED = -1006,	/* outside a validity window */
	WEFT_ENOTFOUND = -1007, /* no such product, key or entry */
	WEFT_EEXIST = -1008,	/* already exists */
	WEFT_ESTALE = -1009,	/* not newer than what is stored */
	WEFT_ESTORE = -1010,	/* LMDB failure */
	WEFT_EMAPFULL = -1011,	/* store map full and may not grow further */
	WEFT_ETOOBIG = -1012,	/* input exceeds a hard limit */
	WEFT_ESCHEMA = -1013,	/* input does not match the schema/contract */
	WEFT_ENOMEM = -1014,	/* allocation failed */
	WEFT_EIO = -1015,	/* read or write failed */
	WEFT_ECORRUPT = -1016,	/* stored data is inconsistent */
	WEFT_ERETRY = -1017,	/* internal: restart the operation */
	WEFT_EAGAIN = -1018, /* busy (e.g. a send queue is full): retry later */
	WEFT_EDENIED = -1019, /* a product's policy refuses the request */
	WEFT_EPERM = -1020,   /* a file others own or may change */
};

#define WEFT_ERR_MAX 1024

/* A user-facing message. Zero-initialise; weft_err_set() overwrites. */
typedef struct weft_err {
	int code;
	int pos; /* 1-based character position in the input (SQL), 0 if none */
	char msg[WEFT_ERR_MAX];
} weft_err_t;

/* Name of a return code (WEFT_E* or -errno). Never NULL. */
const char *weft_strerror(int code);

/*
 * Fill err (if not NULL) with code and a printf-style message, and return
 * code, so callers can write `return weft_err_set(err, WEFT_EINVAL, ...)`.
 */
int weft_err_set(weft_err_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix err's message with "prefix: " (e.g. a file name). */
void weft_err_prefix(weft_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
