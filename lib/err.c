/*
 * err.c: names of error codes and the user-facing message buffer.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
weft_strerror(int code)
{
	switch (code) {
	case 0: return "success";
	case WEFT_EINVAL: return "invalid argument";
	case WEFT_EPARSE: return "parse error";
	case WEFT_ETYPE: return "type error";
	case WEFT_ESIG: return "bad signature";
	case WEFT_ETRUST: return "untrusted signer";
	case WEFT_EEXPIRED: return "outside validity window";
	case WEFT_ENOTFOUND: return "not found";
	case WEFT_EEXIST: return "already exists";
	case WEFT_ESTALE: return "not newer than stored version";
	case WEFT_ESTORE: return "store error";
	case WEFT_EMAPFULL: return "store map full";
	case WEFT_ETOOBIG: return "too large";
	case WEFT_ESCHEMA: return "schema mismatch";
	case WEFT_ENOMEM: return "out of memory";
	case WEFT_EIO: return "I/O error";
	case WEFT_ECORRUPT: return "corrupt data";
	case WEFT_ERETRY: return "retry";
	case WEFT_EAGAIN: return "try again";
	case WEFT_EDENIED: return "denied by policy";
	case WEFT_EPERM: return "unsafe ownership or mode";
	default: break;
	}
	if (code < 0 && code > -1000)
		return strerror(-code);
	return "unknown error";
}

int
weft_err_set(weft_err_t *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
weft_err_prefix(weft_err_t *err, const char *fmt, ...)
{
	char pre[256], old[WEFT_ERR_MAX];
	size_t n;
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	n = strlen(pre);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, pre, n);
	memcpy(err->msg + n, ": ", 2);
	n += 2;
	old[sizeof(err->msg) - n - 1] = 0;
	memcpy(err->msg + n, old, strlen(old) + 1);
}
