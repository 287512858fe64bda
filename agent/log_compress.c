// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "log_compress.h"

#define CHUNK		(64 * 1024)
#define GZIP_WINDOW	(15 + 16)	/* 32 KiB window, gzip header and trailer */

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Run deflate over what is in zs->next_in, writing all output to fd. */
static int deflate_to(z_stream *zs, int flush, int fd, unsigned char *out, uint64_t *written)
{
	int zret, ret;

	do {
		zs->next_out = out;
		zs->avail_out = CHUNK;
		zret = deflate(zs, flush);
		if (zret == Z_STREAM_ERROR)
			return -EIO;
		ret = write_all(fd, out, CHUNK - zs->avail_out);
		if (ret)
			return ret;
		*written += CHUNK - zs->avail_out;
	} while (zs->avail_out == 0);
	return 0;
}

static int compress_fd(int in, int out, int level, const int *stop, struct gzip_result *res)
{
	unsigned char *ibuf = malloc(CHUNK), *obuf = malloc(CHUNK);
	z_stream zs = { 0 };
	int ret = 0, flush;

	if (!ibuf || !obuf) {
		ret = -ENOMEM;
		goto out;
	}
	if (deflateInit2(&zs, level ? level : 6, Z_DEFLATED, GZIP_WINDOW, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		ret = -ENOMEM;
		goto out;
	}
	do {
		ssize_t n = read(in, ibuf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED)) {
			ret = -ECANCELED;
			break;
		}
		res->in_bytes += (uint64_t)n;
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		zs.next_in = ibuf;
		zs.avail_in = (uInt)n;
		ret = deflate_to(&zs, flush, out, obuf, &res->out_bytes);
	} while (!ret && flush != Z_FINISH);
	deflateEnd(&zs);
out:
	free(ibuf);
	free(obuf);
	return ret;
}

int gzip_file(int dirfd, const char *src, int level, const int *stop, struct gzip_result *res)
{
	char dst[NAME_MAX + 1], tmp[NAME_MAX + 1];
	int in, out, ret;

	memset(res, 0, sizeof(*res));
	if ((size_t)snprintf(dst, sizeof(dst), "%s.gz", src) >= sizeof(dst) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.gz.tmp", src) >= sizeof(tmp))
		return -ENAMETOOLONG;
	in = openat(dirfd, src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	ret = compress_fd(in, out, level, stop, res);
	close(in);
	/* The .gz must be on disk before the name points at it. */
	if (!ret && fsync(out))
		ret = -errno;
	if (close(out) && !ret)
		ret = -errno;
	if (!ret && renameat(dirfd, tmp, dirfd, dst))
		ret = -errno;
	if (ret) {
		unlinkat(dirfd, tmp, 0);
		return ret;
	}
	/* And the rename on disk before the source goes. */
	fsync(dirfd);
	if (unlinkat(dirfd, src, 0) && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * While reading forward: the text since the last '\n' in cur, the line
 * before it in last. A finished line swaps the two buffers, no copy.
 */
struct line_tracker {
	char *cur, *last;
	size_t cur_len, cur_cap, last_len, last_cap;
	int have_last;
};

static int tracker_add(struct line_tracker *t, const char *p, size_t n)
{
	if (t->cur_len + n + 1 > t->cur_cap) {
		size_t cap = t->cur_cap ? t->cur_cap : 256;
		char *c;

		while (cap < t->cur_len + n + 1)
			cap *= 2;
		c = realloc(t->cur, cap);
		if (!c)
			return -ENOMEM;
		t->cur = c;
		t->cur_cap = cap;
	}
	memcpy(t->cur + t->cur_len, p, n);
	t->cur_len += n;
	t->cur[t->cur_len] = '\0';
	return 0;
}

static void tracker_end_line(struct line_tracker *t)
{
	char *buf = t->last;
	size_t cap = t->last_cap;

	t->last = t->cur;
	t->last_cap = t->cur_cap;
	t->last_len = t->cur_len;
	t->have_last = 1;
	t->cur = buf;
	t->cur_cap = cap;
	t->cur_len = 0;
}

static int track_chunk(struct line_tracker *t, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t part = nl ? (size_t)(nl - p) : n;
		int ret = tracker_add(t, p, part);

		if (ret)
			return ret;
		if (!nl)
			break;
		tracker_end_line(t);
		p += part + 1;
		n -= part + 1;
	}
	return 0;
}

int file_last_line(int dirfd, const char *name, char **line, size_t *len)
{
	struct line_tracker t = { 0 };
	char *buf = NULL;
	int fd, ret = 0, n = 0;
	gzFile gz;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		return -ENOMEM;
	}
	buf = malloc(CHUNK);
	if (!buf)
		ret = -ENOMEM;
	while (!ret && (n = gzread(gz, buf, CHUNK)) > 0)
		ret = track_chunk(&t, buf, (size_t)n);
	if (!ret && n < 0)
		ret = -EIO;
	gzclose(gz);
	free(buf);
	free(t.cur);
	/* A damaged tail still leaves the lines before it usable. */
	if (t.have_last) {
		*line = t.last;
		*len = t.last_len;
		return 1;
	}
	free(t.last);
	return ret;
}
