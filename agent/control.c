/*
 * control.c: the control protocol (control.h): its framing, and the
 * blocking client the commands use (connect, send one request, read one
 * response, every step within CTL_IO_TIMEOUT_MS: the commands are
 * short-lived, so plain poll(2) and read/write serve them).
 */
#include "agent/control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int
weft_ctl_path(const char *dir, char *out, size_t n, weft_err_t *err)
{
	int k = snprintf(out, n, "%s/%s", dir, WEFT_CTL_SOCK);

	if (k < 0 || (size_t)k >= n)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "%s: data directory "
				    "path too long for a Unix socket (max %zu "
				    "bytes)",
				    dir, n - 2 - sizeof(WEFT_CTL_SOCK) + 1);
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

#define CTL_IO_TIMEOUT_MS 10000

/* Read or write exactly n bytes, each step within CTL_IO_TIMEOUT_MS. */
static int
ctl_io(int fd, void *buf, size_t n, int writing)
{
	uint8_t *p = buf;
	struct pollfd pfd = {.fd = fd, .events = writing ? POLLOUT : POLLIN};

	while (n > 0) {
		ssize_t r;

		if (poll(&pfd, 1, CTL_IO_TIMEOUT_MS) <= 0)
			return -1;
		r = writing ? write(fd, p, n) : read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Connect to DIR's agent, retrying for wait_s seconds. */
static int
ctl_connect(const char *dir, double wait_s, weft_err_t *err)
{
	struct sockaddr_un sun;
	struct timespec ts = {0, 100 * 1000 * 1000};
	double waited = 0;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (weft_ctl_path(dir, sun.sun_path, sizeof(sun.sun_path), err) != 0)
		return -1;
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		close(fd);
		if (waited >= wait_s)
			break;
		nanosleep(&ts, NULL);
		waited += 0.1;
	}
	weft_err_set(err, WEFT_ENOTFOUND, "no agent is running on %s (%s: %s)",
		     dir, sun.sun_path, strerror(errno));
	return -1;
}

int
weft_ctl_call(const char *dir, Weft__ControlOp op, double wait_s,
	      Weft__ControlResponse **resp, weft_err_t *err)
{
	Weft__ControlRequest req = WEFT__CONTROL_REQUEST__INIT;
	uint8_t hdr[WEFT_CTL_HDR], *frame = NULL, *body = NULL;
	const uint8_t *b;
	size_t n, len;
	int fd, rc = WEFT_EIO;

	*resp = NULL;
	fd = ctl_connect(dir, wait_s, err);
	if (fd < 0)
		return WEFT_ENOTFOUND;
	req.op = op;
	if (weft_ctl_frame(&req.base, &frame, &n) != 0 ||
	    ctl_io(fd, frame, n, 1) != 0 || ctl_io(fd, hdr, sizeof(hdr), 0))
		goto fail;
	if (weft_ctl_unframe(hdr, sizeof(hdr), WEFT_CTL_RESP_MAX, &b, &len) < 0)
		goto fail;
	body = malloc(len ? len : 1);
	if (body == NULL || ctl_io(fd, body, len, 0) != 0)
		goto fail;
	*resp = weft__control_response__unpack(NULL, len, body);
	if (*resp == NULL)
		goto fail;
	rc = 0;
	if ((*resp)->error[0]) {
		rc =
		    weft_err_set(err, WEFT_EINVAL, "agent: %s", (*resp)->error);
		weft__control_response__free_unpacked(*resp, NULL);
		*resp = NULL;
	}
	goto out;
fail:
	weft_err_set(err, rc, "%s: no valid answer from the agent", dir);
out:
	free(frame);
	free(body);
	close(fd);
	return rc;
}

int
weft_ctl_query_open(const char *dir, const char *sql, uint32_t timeout_ms,
		    weft_err_t *err)
{
	Weft__ControlRequest req = WEFT__CONTROL_REQUEST__INIT;
	uint8_t *frame = NULL;
	size_t n;
	int fd;

	fd = ctl_connect(dir, 0, err);
	if (fd < 0)
		return WEFT_ENOTFOUND;
	req.op = WEFT__CONTROL_OP__CTL_QUERY;
	req.sql = (char *)sql;
	req.timeout_ms = timeout_ms;
	if (weft_ctl_frame(&req.base, &frame, &n) != 0 ||
	    ctl_io(fd, frame, n, 1) != 0) {
		free(frame);
		close(fd);
		return weft_err_set(err, WEFT_EIO,
				    "%s: could not send the query to the agent",
				    dir);
	}
	free(frame);
	return fd;
}

int
weft_ctl_query_next(int fd, int wait_ms, Weft__ControlResponse **resp,
		    weft_err_t *err)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	uint8_t hdr[WEFT_CTL_HDR], *body;
	const uint8_t *b;
	size_t len;

	*resp = NULL;
	if (poll(&pfd, 1, wait_ms) <= 0 || ctl_io(fd, hdr, sizeof(hdr), 0) ||
	    weft_ctl_unframe(hdr, sizeof(hdr), WEFT_CTL_RESP_MAX, &b, &len) < 0)
		return weft_err_set(err, WEFT_EIO,
				    "the agent stopped answering");
	body = malloc(len ? len : 1);
	if (body == NULL || ctl_io(fd, body, len, 0) != 0) {
		free(body);
		return weft_err_set(err, WEFT_EIO,
				    "the agent stopped answering");
	}
	*resp = weft__control_response__unpack(NULL, len, body);
	free(body);
	if (*resp == NULL)
		return weft_err_set(err, WEFT_EIO,
				    "no valid answer from the agent");
	return 0;
}
