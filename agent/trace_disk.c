// SPDX-License-Identifier: GPL-2.0
/* perfagent trace disk: the live per-disk, per-operation I/O table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkdev_names.h"
#include "cli.h"
#include "btf_enums.h"
#include "disk.h"
#include "disk_ops.h"
#include "disk_report.h"
#include "timeutil.h"
#include "trace_cli.h"
#include "units.h"

struct trace_opts {
	struct disk_probe_opts probe;
	struct trace_cli_output out;
};

struct trace_state {
	const struct trace_opts *opts;
	struct disk_probe *probe;
	struct disk_set interval;
	struct disk_set total;
	struct disk_losses lost;		/* the last interval's */
	struct disk_losses lost_total;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: perfagent trace disk [OPTIONS]\n"
		"\n"
		"Live block I/O per disk and operation (read, write, flush, discard...):\n"
		"IOPS, throughput, average size, queue time (insert to issue) and service\n"
		"time (issue to completion) percentiles, errors. Measured in the kernel from\n"
		"the block tracepoints; each I/O is attributed to the process that submitted\n"
		"it. Failed I/O is always printed as it happens.\n"
		"\n"
		"Filters (decided in the kernel):\n"
		"  -D, --device DISK      only this disk: sda, nvme0n1, /dev/loop3 or 7:3\n"
		"  -p, --pid PID          only I/O submitted by this process\n"
		"      --cgroup PATH      only I/O submitted from this cgroup v2 directory or below\n"
		"\n"
		"Streaming slow I/O:\n"
		"      --slow DURATION    print each I/O at least this slow (queue + service)\n"
		"      --slow-p99         print each I/O slower than the rolling p99 of its disk and\n"
		"                         operation (with --slow too: both must hold)\n"
		"      --rate-limit N     at most N events per second per disk and operation,\n"
		"                         enforced in the kernel; the rest are counted as\n"
		"                         suppressed (default %d, 0 = no limit)\n"
		"\n"
		"Output:\n"
		"  -i, --interval DURATION  refresh period (default 1s)\n"
		"  -d, --duration DURATION  stop after this long (default: until Ctrl-C)\n"
		"  -n, --top N            rows per table, busiest first (default 20, 0 = all)\n"
		"  -j, --json             one JSON object per interval and per event\n"
		"\n"
		"Accounting:\n"
		"      --stale-after DURATION  a request still tracked this long after it\n"
		"                         reached the disk completed without the kernel running\n"
		"                         the probe: counted as \"completions not seen\" (default %llus)\n"
		"\n"
		"Kernel mechanism (normally chosen automatically):\n"
		"      --perf-buffer      stream events through a perf buffer, not a ring buffer\n"
		"      --raw-tp           attach raw tracepoints instead of BTF-typed ones\n"
		"\n"
		"DURATION is a number with a unit: ns, us, ms, s, m, h (250ms, 1.5s). For -i and\n"
		"-d a bare number means seconds. Ctrl-C prints a summary of the whole run.\n",
		DISK_DEFAULT_RATE, DISK_DEFAULT_STALE_NS / NSEC_PER_SEC);
}

static int parse_device(const char *s, struct trace_opts *o)
{
	uint32_t major, minor;
	char err[256];

	if (blkdev_resolve_disk(s, &major, &minor, err, sizeof(err))) {
		cli_error("-D: %s", err);
		return -1;
	}
	o->probe.dev = PA_KDEV(major, minor);
	return 0;
}

enum { OPT_CGROUP = 256, OPT_SLOW, OPT_SLOW_P99, OPT_RATE, OPT_PERFBUF, OPT_RAW_TP,
       OPT_STALE };

static const struct option long_opts[] = {
	{ "device", required_argument, NULL, 'D' },
	{ "pid", required_argument, NULL, 'p' },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "slow", required_argument, NULL, OPT_SLOW },
	{ "slow-p99", no_argument, NULL, OPT_SLOW_P99 },
	{ "rate-limit", required_argument, NULL, OPT_RATE },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "top", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "perf-buffer", no_argument, NULL, OPT_PERFBUF },
	{ "raw-tp", no_argument, NULL, OPT_RAW_TP },
	{ "stale-after", required_argument, NULL, OPT_STALE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_opt(int c, void *opts)
{
	struct trace_opts *o = opts;

	switch (c) {
	case 'D': return parse_device(optarg, o);
	case 'p': return trace_cli_id(optarg, "-p", &o->probe.pid);
	case OPT_CGROUP: o->probe.cgroup = optarg; return 0;
	case OPT_SLOW: return trace_cli_duration(optarg, "--slow", 0, &o->probe.slow_ns);
	case OPT_SLOW_P99: o->probe.slow_adaptive = true; return 0;
	case OPT_RATE: return trace_cli_count(optarg, "--rate-limit", &o->probe.rate);
	case 'i': return trace_cli_duration(optarg, "-i", NSEC_PER_SEC, &o->out.interval_ns);
	case 'd': return trace_cli_duration(optarg, "-d", NSEC_PER_SEC, &o->out.duration_ns);
	case 'n': return trace_cli_count(optarg, "-n", &o->out.top);
	case 'j': o->out.json = true; return 0;
	case OPT_PERFBUF: o->probe.perfbuf = true; return 0;
	case OPT_RAW_TP: o->probe.raw_tp = true; return 0;
	case OPT_STALE:
		return trace_cli_duration(optarg, "--stale-after", 0, &o->probe.stale_after_ns);
	default: return -1;
	}
}

static const struct trace_cli cli = {
	.name = "disk",
	.shortopts = ":D:p:i:d:n:jh",
	.longopts = long_opts,
	.usage = usage,
	.parse_opt = parse_opt,
};

/* Returns 0 to run, 1 when help was printed, -1 on bad usage. */
static int parse_args(int argc, char **argv, struct trace_opts *o)
{
	int ret;

	o->out.interval_ns = NSEC_PER_SEC;
	o->out.top = 20;
	o->probe.rate = DISK_DEFAULT_RATE;
	ret = trace_cli_parse(&cli, argc, argv, o);
	if (ret)
		return ret;
	return trace_cli_check_interval(o->out.interval_ns, PA_DISK_MAX_READ_GAP_S);
}

static void on_event(void *ctx, const struct pa_disk_event *e)
{
	struct trace_state *st = ctx;

	if (st->opts->out.json)
		disk_report_event_json(stdout, e);
	else
		disk_report_event_text(stdout, e);
	fflush(stdout);
}

static void report(void *ctx, uint64_t span_ns, bool final)
{
	struct trace_state *st = ctx;
	struct disk_report r = {
		.set = final ? &st->total : &st->interval,
		.losses = final ? &st->lost_total : &st->lost,
		.span_ns = span_ns, .final = final,
		.top = st->opts->out.top, .when_ns = realtime_ns(),
	};

	if (st->opts->out.json)
		disk_report_json(stdout, &r);
	else
		disk_report_table(stdout, &r);
	fflush(stdout);
}

static void add_losses(struct disk_losses *sum, const struct disk_losses *l)
{
	sum->events_sent += l->events_sent;
	sum->events_lost += l->events_lost;
	sum->suppressed += l->suppressed;
	sum->untracked += l->untracked;
	sum->stats_full += l->stats_full;
	sum->rq_full += l->rq_full;
	sum->missed_completions += l->missed_completions;
	sum->completions_unseen += l->completions_unseen;
	sum->missed_other += l->missed_other;
}

static int read_interval(void *ctx)
{
	struct trace_state *st = ctx;
	size_t i;
	int ret = disk_probe_read(st->probe, &st->interval, &st->lost);

	if (ret) {
		cli_error("reading the disk maps failed: %s", strerror(-ret));
		return ret;
	}
	for (i = 0; i < st->interval.n; i++)
		if (disk_set_add(&st->total, &st->interval.rows[i])) {
			cli_error("out of memory");
			return -ENOMEM;
		}
	add_losses(&st->lost_total, &st->lost);
	return 0;
}

static int wait_events(void *ctx, int timeout_ms)
{
	struct trace_state *st = ctx;

	return trace_cli_poll_result(disk_probe_poll(st->probe, timeout_ms), "I/O events");
}

static int open_probe(void *ctx, char *err, size_t len)
{
	struct trace_state *st = ctx;

	return disk_probe_open(&st->probe, &st->opts->probe, on_event, st, err, len);
}

static void announce(void *ctx)
{
	struct trace_state *st = ctx;
	const char *missing = disk_probe_missing(st->probe);

	fprintf(stderr, "Tracing block I/O (%s)... Ctrl-C to stop.\n",
		disk_probe_describe(st->probe));
	if (*missing)
		fprintf(stderr, "Note: this kernel lacks %s (see 'perfagent doctor').\n", missing);
}

static const struct trace_cli_ops ops = {
	.open = open_probe, .announce = announce,
	.wait = wait_events, .read = read_interval, .report = report,
};

int cmd_trace_disk(int argc, char **argv)
{
	struct trace_opts o = { 0 };
	struct trace_state st = { .opts = &o };
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return trace_cli_exit_code(ret);
	ret = trace_cli_trace(&ops, &st, &o.out);
	disk_probe_close(st.probe);
	disk_set_free(&st.interval);
	disk_set_free(&st.total);
	disk_ops_kernel_release();
	btf_vmlinux_release();
	return ret;
}
