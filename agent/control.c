/*
 * control.c: framing of the control protocol (control.h).
 */
#include "agent/control.h"

#include <stdio.h>
#include <stdlib.h>

int
weft_ctl_path(const char *dir, char *out, size_t n, weft_err_t *err)
{
	int k = snprintf(out, n, "%s/%s", dir, WEFT_CTL_SOCK);

	if (k < 0 || (size_t)k >= n)
		return weft_err_set(err, WEFT_ETOOBIG, "%s: data directory "
				    "path too long for a Unix socket (max %zu "
				    "bytes)", dir,
				    n - 2 - sizeof(WEFT_CTL_SOCK) + 1);
	return 0;
}

int
weft_ctl_frame(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(WEFT_CTL_HDR + n);

	*out = NULL;
	*len = 0;
	if (b == NULL || n > UINT32_MAX) {
		free(b);
		return WEFT_ENOMEM;
	}
	b[0] = (uint8_t)(n >> 24);
	b[1] = (uint8_t)(n >> 16);
	b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	protobuf_c_message_pack(m, b + WEFT_CTL_HDR);
	*out = b;
	*len = WEFT_CTL_HDR + n;
	return 0;
}

int
weft_ctl_unframe(const uint8_t *buf, size_t len, size_t max,
		 const uint8_t **body, size_t *blen)
{
	size_t want;

	*body = NULL;
	*blen = 0;
	if (len < WEFT_CTL_HDR)
		return 0;
	want = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
	       (size_t)buf[2] << 8 | buf[3];
	if (want > max)
		return WEFT_ETOOBIG;
	*blen = want;
	if (len - WEFT_CTL_HDR < want)
		return 0;
	*body = buf + WEFT_CTL_HDR;
	return 1;
}
