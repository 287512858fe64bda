/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the 'perfagent trace SOURCE' commands share: the options loop, the
 * number and duration flags, the BPF readiness check, and the run loop
 * that waits for streamed events and reads the aggregates every interval.
 */
#ifndef PERFAGENT_TRACE_CLI_H
#define PERFAGENT_TRACE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

struct trace_cli {
	const char *name;		/* "syscalls", as in 'perfagent trace syscalls --help' */
	/* With a leading ':' a bad or incomplete option is said here, in one
	 * line; without it getopt says it, and the usage follows on stderr.
	 */
	const char *shortopts;
	const struct option *longopts;
	void (*usage)(FILE *f);
	/* One option (optarg is its value): 0, or nonzero once the error is said. */
	int (*parse_opt)(int c, void *opts);
};

/* Returns 0 to run, 1 when help was printed, -1 on bad usage (said). */
int trace_cli_parse(const struct trace_cli *cli, int argc, char **argv, void *opts);

/* The exit code for a trace_cli_parse result other than 0. */
static inline int trace_cli_exit_code(int parse_result)
{
	return parse_result > 0 ? 0 : EXIT_USAGE;
}

/* A whole decimal number that fits, not negative. Says nothing. */
bool trace_cli_ulong(const char *arg, unsigned long *out);

/* Each returns 0, or -1 with the error said: FLAG: 'ARG' is not ... */
int trace_cli_id(const char *arg, const char *flag, uint32_t *out);	/* 1 and up */
int trace_cli_count(const char *arg, const char *flag, uint32_t *out);	/* 0 and up */
int trace_cli_range(const char *arg, const char *flag, bool zero_ok, unsigned long max,
		    unsigned long *out);

/* A DURATION, never 0. bare_ns is what a number without a unit counts
 * (NSEC_PER_SEC: seconds), 0 to require a unit; example is the one the
 * error shows ("10ms").
 */
int trace_cli_duration_eg(const char *arg, const char *flag, uint64_t bare_ns,
			  const char *example, uint64_t *out);
int trace_cli_duration(const char *arg, const char *flag, uint64_t bare_ns, uint64_t *out);

/* libbpf logging set up, privileges and kernel BTF there: 0, or -1 said. */
int trace_cli_bpf_ready(void);

/* A probe's poll result: 0, or the error (said) other than an interrupt. */
int trace_cli_poll_result(int ret, const char *events);

/* -i for probes whose kernel side keeps 32-bit counters: 0, or -1 said. */
int trace_cli_check_interval(uint64_t interval_ns, unsigned int max_gap_s);

/* The output options every probe command has. */
struct trace_cli_output {
	uint64_t interval_ns;		/* read and report this often */
	uint64_t duration_ns;		/* stop after this long, 0 = at Ctrl-C */
	unsigned int top;		/* rows per table, 0 = all */
	bool json;
};

/* What a trace command does with its probe; ctx is its state. */
struct trace_cli_ops {
	/* Load and attach: 0, or nonzero with the reason in err. */
	int (*open)(void *ctx, char *err, size_t len);
	/* The "Tracing ..." lines on stderr, for text output. */
	void (*announce)(void *ctx);
	/* Deliver streamed events, waiting at most timeout_ms: 0 or an error (said). */
	int (*wait)(void *ctx, int timeout_ms);
	/* Take in the aggregates since the last read: 0 or an error (said). */
	int (*read)(void *ctx);
	/* Print an interval of span_ns, or (final) the whole run. */
	void (*report)(void *ctx, uint64_t span_ns, bool final);
};

/* Wait and read every interval_ns until duration_ns is over (0: never) or
 * Ctrl-C; then deliver what is still queued, read the last partial
 * interval and report the whole run. Returns 0, or an error (said).
 */
int trace_cli_run(const struct trace_cli_ops *ops, void *ctx, uint64_t interval_ns,
		  uint64_t duration_ns);

/* BPF ready, the probe open, Ctrl-C caught, announced, run: the exit code
 * (0 or 1). The caller closes the probe, opened or not.
 */
int trace_cli_trace(const struct trace_cli_ops *ops, void *ctx,
		    const struct trace_cli_output *out);

#endif
