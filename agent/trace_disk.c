// SPDX-License-Identifier: GPL-2.0
/* perfagent trace disk: the live per-disk, per-operation I/O table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkdev_names.h"
#include "bpf_env.h"
#include "cli.h"
#include "btf_enums.h"
#include "disk.h"
#include "disk_ops.h"
#include "disk_report.h"
#include "timeutil.h"
#include "units.h"

struct trace_opts {
	struct disk_probe_opts probe;
	uint64_t interval_ns;
	uint64_t duration_ns;
	unsigned int top;
	bool json;
};

struct trace_state {
	const struct trace_opts *opts;
	struct disk_set interval;
	struct disk_set total;
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
		"Kernel mechanism (normally chosen automatically):\n"
		"      --perf-buffer      stream events through a perf buffer, not a ring buffer\n"
		"      --raw-tp           attach raw tracepoints instead of BTF-typed ones\n"
		"\n"
		"DURATION is a number with a unit: ns, us, ms, s, m, h (250ms, 1.5s). For -i and\n"
		"-d a bare number means seconds. Ctrl-C prints a summary of the whole run.\n",
		DISK_DEFAULT_RATE);
}

static int parse_u32(const char *s, const char *flag, bool zero_ok, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || (!zero_ok && v == 0) || v > UINT32_MAX || s[0] == '-') {
		cli_error("%s: '%s' is not a valid %s", flag, s,
			  zero_ok ? "number (0 or more)" : "id (a positive number)");
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_duration_flag(const char *s, const char *flag, uint64_t bare, uint64_t *out)
{
	if (parse_duration_ns(s, bare, out) || *out == 0) {
		cli_error("%s: '%s' is not a duration (use e.g. 10ms, 1.5s%s)", flag, s,
			  bare ? ", or a number of seconds" : "");
		return -1;
	}
	return 0;
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

enum { OPT_CGROUP = 256, OPT_SLOW, OPT_SLOW_P99, OPT_RATE, OPT_PERFBUF, OPT_RAW_TP };

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
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_opt(int c, struct trace_opts *o)
{
	switch (c) {
	case 'D': return parse_device(optarg, o);
	case 'p': return parse_u32(optarg, "-p", false, &o->probe.pid);
	case OPT_CGROUP: o->probe.cgroup = optarg; return 0;
	case OPT_SLOW: return parse_duration_flag(optarg, "--slow", 0, &o->probe.slow_ns);
	case OPT_SLOW_P99: o->probe.slow_adaptive = true; return 0;
	case OPT_RATE: return parse_u32(optarg, "--rate-limit", true, &o->probe.rate);
	case 'i': return parse_duration_flag(optarg, "-i", NSEC_PER_SEC, &o->interval_ns);
	case 'd': return parse_duration_flag(optarg, "-d", NSEC_PER_SEC, &o->duration_ns);
	case 'n': return parse_u32(optarg, "-n", true, &o->top);
	case 'j': o->json = true; return 0;
	case OPT_PERFBUF: o->probe.perfbuf = true; return 0;
	case OPT_RAW_TP: o->probe.raw_tp = true; return 0;
	default: return -1;
	}
}

/* Returns 0 to run, 1 when help was printed, -1 on bad usage. */
static int parse_args(int argc, char **argv, struct trace_opts *o)
{
	int c;

	o->interval_ns = NSEC_PER_SEC;
	o->top = 20;
	o->probe.rate = DISK_DEFAULT_RATE;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":D:p:i:d:n:jh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			cli_error("%s option '%s' (see 'perfagent trace disk --help')",
				  c == ':' ? "missing value for" : "unknown", argv[optind - 1]);
			return -1;
		}
		if (parse_opt(c, o))
			return -1;
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'perfagent trace disk --help')",
			  argv[optind]);
		return -1;
	}
	if (o->interval_ns > (uint64_t)PA_DISK_MAX_READ_GAP_S * NSEC_PER_SEC) {
		cli_error("-i: at most %ds (the kernel's 32-bit bucket counters must be read "
			  "at least that often)", PA_DISK_MAX_READ_GAP_S);
		return -1;
	}
	return 0;
}

static void on_event(void *ctx, const struct pa_disk_event *e)
{
	struct trace_state *st = ctx;

	if (st->opts->json)
		disk_report_event_json(stdout, e);
	else
		disk_report_event_text(stdout, e);
	fflush(stdout);
}

static void report(struct trace_state *st, const struct disk_set *s,
		   const struct disk_losses *l, uint64_t span_ns, bool final)
{
	struct disk_report r = {
		.set = s, .losses = l, .span_ns = span_ns, .final = final,
		.top = st->opts->top, .when_ns = realtime_ns(),
	};

	if (st->opts->json)
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

static int read_interval(struct disk_probe *p, struct trace_state *st, struct disk_losses *l)
{
	size_t i;
	int ret = disk_probe_read(p, &st->interval, l);

	if (ret) {
		cli_error("reading the disk maps failed: %s", strerror(-ret));
		return ret;
	}
	for (i = 0; i < st->interval.n; i++)
		if (disk_set_add(&st->total, &st->interval.rows[i])) {
			cli_error("out of memory");
			return -ENOMEM;
		}
	add_losses(&st->lost_total, l);
	return 0;
}

static int wait_events(struct disk_probe *p, uint64_t deadline)
{
	uint64_t now = mono_ns();
	int ret;

	if (now >= deadline)
		return 0;
	ret = disk_probe_poll(p, (int)((deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC));
	if (ret < 0 && ret != -EINTR) {
		cli_error("reading I/O events failed: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int run_loop(struct disk_probe *p, struct trace_state *st)
{
	const struct trace_opts *o = st->opts;
	uint64_t start = mono_ns(), next = start + o->interval_ns, last = start;
	uint64_t end = o->duration_ns ? start + o->duration_ns : UINT64_MAX;
	struct disk_losses l;
	int ret = 0;

	while (!cli_stop) {
		uint64_t deadline = next < end ? next : end;

		if ((ret = wait_events(p, deadline)))
			break;
		if (mono_ns() >= end)
			break;
		if (mono_ns() < next)
			continue;
		if ((ret = read_interval(p, st, &l)))
			break;
		report(st, &st->interval, &l, mono_ns() - last, false);
		last = mono_ns();
		next += o->interval_ns;
	}
	/* Drain what is still queued, then the last partial interval. */
	disk_probe_poll(p, 0);
	if (!ret && !(ret = read_interval(p, st, &l)))
		report(st, &st->total, &st->lost_total, mono_ns() - start, true);
	return ret;
}

static int check_environment(void)
{
	char err[512];

	if (env_check_privileges(err, sizeof(err)) || env_check_btf(err, sizeof(err))) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}

int cmd_trace_disk(int argc, char **argv)
{
	struct trace_opts o = { 0 };
	struct trace_state st = { .opts = &o };
	struct disk_probe *p = NULL;
	char err[512];
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	env_setup_libbpf(cli_verbose);
	ret = 1;
	if (check_environment())
		goto out;
	if (disk_probe_open(&p, &o.probe, on_event, &st, err, sizeof(err))) {
		cli_error("%s", err);
		goto out;
	}
	cli_catch_stop_signals();
	if (!o.json) {
		fprintf(stderr, "Tracing block I/O (%s)... Ctrl-C to stop.\n",
			disk_probe_describe(p));
		if (*disk_probe_missing(p))
			fprintf(stderr, "Note: this kernel lacks %s (see 'perfagent doctor').\n",
				disk_probe_missing(p));
	}
	ret = run_loop(p, &st) ? 1 : 0;
out:
	disk_probe_close(p);
	disk_set_free(&st.interval);
	disk_set_free(&st.total);
	disk_ops_kernel_release();
	btf_vmlinux_release();
	return ret;
}
