/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gzip compression of rotated log files (zlib, readable by zcat), done so
 * that a crash at any moment loses nothing: the data is written to
 * NAME.gz.tmp, fsynced, renamed to NAME.gz, and only then is NAME unlinked.
 * Whatever the moment of a crash, NAME or a complete NAME.gz (or both) is
 * there; a leftover NAME.gz.tmp is incomplete and safe to delete.
 */
#ifndef PERFAGENT_LOG_COMPRESS_H
#define PERFAGENT_LOG_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

struct gzip_result {
	uint64_t in_bytes;
	uint64_t out_bytes;
};

/*
 * Compress dirfd/src into dirfd/src.gz and unlink src. level: zlib level
 * 1..9 (0: 6). *stop is read between chunks: when it becomes non-zero the
 * work is abandoned, the temp file removed, and -ECANCELED returned.
 * Returns 0 or -errno (src is left untouched on any failure).
 */
int gzip_file(int dirfd, const char *src, int level, const int *stop, struct gzip_result *res);

/*
 * The last complete ('\n'-terminated) line of dirfd/name, which may be gzip
 * or plain (zlib reads both), without its newline, in *line (malloc'd,
 * NUL-terminated). Returns 1 with a line, 0 when the file has none, -errno.
 * Reads the whole file: meant for rotated files, which have a bounded size.
 */
int file_last_line(int dirfd, const char *name, char **line, size_t *len);

#endif
