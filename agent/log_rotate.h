/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rotated log files: their names, finding them, and retention.
 *
 * A live file "metrics.jsonl" is rotated by renaming it to
 * "metrics-20261122T023000-000017.jsonl" (UTC time of the rotation, then the
 * sequence number of its first line), which compression turns into
 * "metrics-20261122T023000-000017.jsonl.gz". The dash keeps rotated names out
 * of any glob on the live name ("metrics.jsonl*"), so log shippers never read
 * a rotated file as a new one. Ordering is by the sequence number, not by the
 * time, so a clock step cannot make retention delete the wrong file.
 */
#ifndef PERFAGENT_LOG_ROTATE_H
#define PERFAGENT_LOG_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROTATED_NAME_MAX 128

struct rotated_file {
	char name[ROTATED_NAME_MAX];
	uint64_t seq;		/* sequence number of the file's first line */
	unsigned dup;		/* "-N" after the seq when a name was taken already */
	bool compressed;	/* ends in .jsonl.gz */
	bool tmp;		/* ends in .jsonl.gz.tmp: an interrupted compression */
	uint64_t bytes;
};

struct rotated_list {
	struct rotated_file *v;
	size_t n, cap;
};

/* "<stream>-<YYYYmmddTHHMMSS>-<seq>[-<dup>].jsonl"; -1 when it does not fit. */
int rotated_name(char *buf, size_t len, const char *stream, uint64_t now_ns,
		 uint64_t first_seq, unsigned dup);

/* 0 when name is a rotated file (or compression temp file) of stream. */
int rotated_parse(const char *name, const char *stream, struct rotated_file *out);

/* Rotated files of stream in dirfd, oldest first. 0 or -errno. */
int rotated_list(int dirfd, const char *stream, struct rotated_list *out);
void rotated_list_free(struct rotated_list *l);

/* Sizes and count of the non-temporary files in l. */
void rotated_totals(const struct rotated_list *l, size_t *files, uint64_t *bytes);

/*
 * Delete the oldest rotated files (never temp files) until at most keep_files
 * remain and they total at most keep_bytes (0: no limit). Deleted entries are
 * removed from l. Returns how many were deleted, or -errno on the first
 * failure.
 */
int rotated_retain(int dirfd, struct rotated_list *l, unsigned keep_files, uint64_t keep_bytes);

#endif
