/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the collector implementations (agent/collect_*.c) share: the
 * collector object, reading files under the root prefix, emitting samples
 * and events, and reporting bad input by file and line. Not for the daemon:
 * it uses agent/collector.h.
 */
#ifndef PERFAGENT_COLLECT_UTIL_H
#define PERFAGENT_COLLECT_UTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector.h"

struct collector_ops {
	const char *name;
	/* Allocate c->priv; may set c->unavailable. 0 or -errno + err. */
	int (*init)(struct collector *c, char *err, size_t len);
	void (*collect)(struct collector *c, uint64_t interval_ns);
	void (*fini)(struct collector *c);
};

struct collector {
	const struct collector_ops *ops;
	void *priv;
	char root[PATH_MAX];		/* "" when the root is "/" */
	char state_dir[PATH_MAX];
	char path[PATH_MAX];		/* last file read: for error messages */
	char unavailable[256];		/* "" = available */
	char announced[256];		/* the reason last announced as an event */
	const struct collect_sink *sink;	/* only during collect */
	uint64_t ts_ns;			/* of this collect, for every sample */
	uint64_t clock_ns;		/* sum of the intervals so far */
	int errors;
	char *buf;			/* file contents, reused across reads */
	size_t buf_size;
};

/* root + abs into buf ("/proc/stat" stays as it is when the root is "/"). */
const char *collect_path(const struct collector *c, const char *abs, char *buf, size_t len);

/*
 * Read the whole of root + abs into c->buf (NUL-terminated) and remember its
 * path in c->path. Returns the text, or NULL with errno set (and nothing
 * reported: the caller decides whether a missing file is an error).
 */
char *collect_read(struct collector *c, const char *abs);

/* collect_read that reports a failure as an error naming the file. */
char *collect_read_or_error(struct collector *c, const char *abs);

void collect_error(struct collector *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "<c->path>:<line>: <message>" */
void collect_line_error(struct collector *c, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Label name/value pairs follow value, ended by NULL. */
void collect_emit(struct collector *c, const char *metric, double value, ...)
	__attribute__((sentinel));

void collect_event(struct collector *c, const char *kind, enum alert_severity sev,
		   const char *message, ...) __attribute__((sentinel));

void collect_set_unavailable(struct collector *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Small state files kept in c->state_dir across restarts (what was already
 * reported). collect_state_load returns the malloc'd contents, or NULL with
 * errno (ENOENT: never saved). collect_state_save replaces the file
 * atomically (temporary file, fsync, rename), creating the directory;
 * 0, or -1 after reporting an error.
 */
char *collect_state_load(struct collector *c, const char *name);
int collect_state_save(struct collector *c, const char *name, const char *data, size_t len);

/* Cut the next line out of *cur (the newline becomes NUL); NULL at the end. */
char *collect_next_line(char **cur);

/* Strict unsigned decimal at *s, skipping leading blanks; advances *s.
 * 0, or -1 when there is no number or it overflows.
 */
int collect_parse_u64(char **s, uint64_t *v);

/* Non-negative decimal with an optional fraction ("0.52"); advances *s. */
int collect_parse_double(char **s, double *v);

/* a / b, or 0 when b is 0. */
double collect_ratio(double a, double b);

/*
 * A kernel counter turned into a rate. The rate covers the time since the
 * counter's last good read, so a read that failed (bad line) does not make
 * the next rate twice too high.
 */
struct collect_counter {
	uint64_t prev;
	uint64_t stamp_ns;		/* c->clock_ns at that read */
	bool valid;
};

/*
 * Feed the counter's current value. true with *rate (per second) when there
 * is one: not on the first read, not when no time passed, not when the
 * counter went back (reset or wrap: no honest delta).
 */
bool collect_counter_rate(const struct collector *c, struct collect_counter *k, uint64_t cur,
			  double *rate);

/* Counter increase from prev to cur: 0 when it went backwards (reset). */
static inline uint64_t collect_delta(uint64_t cur, uint64_t prev)
{
	return cur >= prev ? cur - prev : 0;
}

/* Per-second rate of a counter delta over interval_ns (> 0). */
static inline double collect_rate(uint64_t delta, uint64_t interval_ns)
{
	return (double)delta * 1e9 / (double)interval_ns;
}

#endif
