/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Structured logs: JSON Lines files under one directory, one stream per kind
 * (metrics.jsonl, events.jsonl, alerts.jsonl). docs/logs.md is the contract.
 *
 * Every line is one complete JSON object that starts with the same envelope,
 *   {"ts":"2026-11-22T02:30:00.123456Z","seq":17,"host":"web1","kind":"metrics",...}
 * followed by the caller's fields. seq counts the lines of a stream, and
 * continues across rotations and restarts, so a reader can prove that
 * nothing is missing: a hole in seq is always explained by a "gap" record.
 *
 * - Rotation (by size, at local midnight, on request) renames the live file
 *   to metrics-<UTC time>-<first seq>.jsonl and opens a fresh one; never
 *   copy-and-truncate. See log_rotate.h for the names.
 * - A worker thread gzips rotated files and applies retention, so neither
 *   ever delays a write. See log_compress.h for why that is crash-safe.
 * - Each line is one write(2) to an O_APPEND file: killed at any moment, a
 *   file holds at most one partial last line. The next logwriter_open()
 *   truncates it and records it in a gap record.
 * - A line that cannot be written (disk full, file cannot be opened) is
 *   counted, its seq is skipped, and when writing works again a gap record
 *   with the count and the seq range goes in-band before the next line
 *   (no line is written while its gap record cannot be, so the range holds
 *   exactly the lines lost).
 *
 * Writes are thread-safe (one lock per stream).
 */
#ifndef PERFAGENT_LOGWRITER_H
#define PERFAGENT_LOGWRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

enum log_stream {
	LOG_METRICS,	/* metrics.jsonl: interval aggregates */
	LOG_EVENTS,	/* events.jsonl: slow calls, I/O errors, health, losses */
	LOG_ALERTS,	/* alerts.jsonl: alert transitions */
	LOG_STREAMS
};

struct logwriter_config {
	const char *dir;		/* created (0750) when missing */
	const char *host;		/* NULL: gethostname() */
	uint64_t max_file_bytes;	/* rotate before a line would pass this; 0: never */
	bool rotate_daily;		/* rotate at the first line of a new local day */
	bool compress;			/* gzip rotated files */
	int compress_level;		/* zlib level 1..9; 0: 6 */
	unsigned keep_files;		/* rotated files kept per stream; 0: no limit */
	uint64_t keep_bytes;		/* bytes of rotated files kept per stream; 0: no limit */
	uint64_t (*clock)(void);	/* CLOCK_REALTIME ns; NULL: realtime_ns (tests set it) */
};

struct logwriter_stats {
	uint64_t next_seq;		/* seq the next line of the stream gets */
	uint64_t lines_written;		/* including gap records */
	uint64_t bytes_written;
	uint64_t lines_dropped;		/* lines that could not be written */
	uint64_t bytes_dropped;
	uint64_t gap_records;		/* gap records written */
	uint64_t partial_repaired;	/* partial last lines removed at open */
	uint64_t rotations;
	uint64_t rotate_failures;	/* renames that failed (the file keeps growing) */
	uint64_t compressed;		/* rotated files gzipped */
	uint64_t compress_failures;
	uint64_t retention_removed;	/* rotated files deleted by retention */
	uint64_t file_bytes;		/* size of the live file */
	uint64_t rotated_files;		/* rotated files on disk (after the last worker pass) */
	uint64_t rotated_bytes;
	int write_errno;		/* last write failure, 0 if none */
	int compress_errno;		/* last compression failure, 0 if none */
	bool dropping;			/* a gap is open: lines are being lost now */
};

struct logwriter;

/* "metrics", "events", "alerts" */
const char *log_stream_name(enum log_stream s);

/*
 * Open (create) the directory, take its lock (one writer per directory),
 * recover each stream: repair a partial last line, continue the sequence
 * numbers, and start the worker, which finishes any compression a crash
 * interrupted. NULL with a one-line reason in err on failure.
 */
struct logwriter *logwriter_open(const struct logwriter_config *cfg, char *err, size_t errlen);

/*
 * Append one line. obj is one JSON object ("{...}", no newline, as
 * cJSON_PrintUnformatted makes); its members follow the envelope. ts_ns is
 * the record's CLOCK_REALTIME time (0: now). Returns 0; -EINVAL for an obj
 * that is not an object on one line (not counted); -errno when the line was
 * dropped (counted, and reported by a gap record later).
 */
int logwriter_write(struct logwriter *lw, enum log_stream s, uint64_t ts_ns,
		    const char *obj, size_t len);

/* The same for a cJSON object. */
int logwriter_write_json(struct logwriter *lw, enum log_stream s, uint64_t ts_ns,
			 const cJSON *obj);

/* Rotate a stream now (an empty live file is not rotated). 0 or -errno. */
int logwriter_rotate(struct logwriter *lw, enum log_stream s);

/*
 * Close and reopen every live file by name: after an external logrotate
 * renamed them (call it on SIGHUP). Sequence numbers continue.
 */
int logwriter_reopen(struct logwriter *lw);

/* Wait until the worker has compressed and pruned everything rotated so far. */
void logwriter_drain(struct logwriter *lw);

void logwriter_get_stats(struct logwriter *lw, enum log_stream s, struct logwriter_stats *out);

/*
 * Write what is pending, fsync, stop the worker (a compression it was in
 * the middle of is redone at the next open). No write may run concurrently.
 */
void logwriter_close(struct logwriter *lw);

#endif
