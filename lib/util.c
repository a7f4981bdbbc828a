/*
 * util.c: clocks, bounded file I/O, hex and timestamps.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t
weft_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
weft_now_s(void)
{
	return weft_now_us() / 1000000;
}

uint64_t
weft_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
weft_read_file(const char *path, size_t max, uint8_t **buf, size_t *len,
	       weft_err_t *err)
{
	struct stat st;
	uint8_t *b = NULL;
	size_t cap, n = 0;
	int fd, rc;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		return weft_err_set(err, rc, "%s: cannot open: %s", path,
				    strerror(-rc));
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return weft_err_set(err, -EISDIR, "%s: is a directory", path);
	}
	cap = max + 1 < 4096 ? max + 1 : 4096;
	b = malloc(cap + 1);
	if (b == NULL) {
		close(fd);
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			uint8_t *nb;

			if (cap > max) {
				free(b);
				close(fd);
				return weft_err_set(
				    err, WEFT_ETOOBIG,
				    "%s: larger than the %zu byte limit", path,
				    max);
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			nb = realloc(b, cap + 1);
			if (nb == NULL) {
				free(b);
				close(fd);
				return weft_err_set(err, WEFT_ENOMEM,
						    "out of memory");
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			free(b);
			close(fd);
			return weft_err_set(err, rc, "%s: read: %s", path,
					    strerror(-rc));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
}

int
weft_write_file(const char *path, const void *data, size_t len, int mode,
		int exclusive, weft_err_t *err)
{
	char tmp[4096];
	const uint8_t *p = data;
	int fd, rc;

	if (exclusive && access(path, F_OK) == 0)
		return weft_err_set(err, -EEXIST, "%s: already exists", path);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return weft_err_set(err, WEFT_EINVAL, "%s: path too long",
				    path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = -errno;
		return weft_err_set(err, rc, "%s: cannot create: %s", path,
				    strerror(-rc));
	}
	if (fchmod(fd, (mode_t)mode) != 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* link() fails if path exists, so an exclusive write never
	 * replaces a file created meanwhile. */
	if (exclusive ? link(tmp, path) != 0 : rename(tmp, path) != 0)
		goto fail;
	if (exclusive)
		unlink(tmp);
	return 0;
fail:
	rc = -errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return weft_err_set(err, rc, "%s: write failed: %s", path,
			    strerror(-rc));
}

char *
weft_hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = 0;
	return out;
}

static int
weft_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
weft_unhex(const char *in, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(in) != 2 * n)
		return WEFT_EINVAL;
	for (i = 0; i < n; i++) {
		int hi = weft_hexval(in[2 * i]),
		    lo = weft_hexval(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return WEFT_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void
weft_fmt_ts(int64_t us, char out[40])
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	struct tm tm;
	time_t t;
	size_t n;

	if (frac < 0) {
		frac += 1000000;
		secs -= 1;
	}
	t = (time_t)secs;
	gmtime_r(&t, &tm);
	n = strftime(out, 40, "%Y-%m-%d %H:%M:%S", &tm);
	if (frac != 0 && n < 32) {
		int w = 6;

		while (frac % 10 == 0) {
			frac /= 10;
			w--;
		}
		snprintf(out + n, 40 - n, ".%0*lld", w, (long long)frac);
	}
}
