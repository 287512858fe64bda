// SPDX-License-Identifier: GPL-2.0
/* perfagent trace syscalls: the live per-syscall latency table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#include "cli.h"
#include "hist.h"
#include "syscall.h"
#include "syscall_names.h"
#include "syscall_report.h"
#include "timeutil.h"
#include "trace_cli.h"
#include "tracefs.h"
#include "units.h"

struct trace_opts {
	struct syscall_probe_opts probe;
	uint8_t only[PA_SYSCALL_MAX];
	struct trace_cli_output out;
};

struct trace_state {
	const struct trace_opts *opts;
	struct syscall_probe *probe;
	struct syscall_totals *interval;	/* [PA_SYSCALL_MAX] */
	struct syscall_totals *total;		/* [PA_SYSCALL_MAX] */
	struct syscall_losses lost;		/* the last interval's */
	struct syscall_losses lost_total;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: perfagent trace syscalls [OPTIONS]\n"
		"\n"
		"Live per-syscall counts, errors and latency percentiles, measured in the\n"
		"kernel from raw_syscalls:sys_enter to sys_exit. perfagent's own calls are\n"
		"left out.\n"
		"\n"
		"Filters (decided in the kernel):\n"
		"  -p, --pid PID          only this process (all its threads)\n"
		"  -t, --tid TID          only this thread\n"
		"  -c, --comm NAME        only tasks whose command name is exactly NAME\n"
		"      --cgroup PATH      only tasks in this cgroup v2 directory or below it\n"
		"  -e, --syscalls LIST    only these syscalls, comma-separated (read,write)\n"
		"\n"
		"Output:\n"
		"      --slow DURATION    print each call at least this slow as it happens (10ms)\n"
		"  -i, --interval DURATION  refresh period (default 1s)\n"
		"  -d, --duration DURATION  stop after this long (default: until Ctrl-C)\n"
		"  -n, --top N            rows per table, busiest first (default 20, 0 = all)\n"
		"  -j, --json             one JSON object per interval and per slow call\n"
		"\n"
		"Kernel mechanism (normally chosen automatically):\n"
		"      --perf-buffer      stream slow calls through a perf buffer, not a ring buffer\n"
		"      --thread-hash      keep start times in a hash by thread id, not task storage\n"
		"\n"
		"DURATION is a number with a unit: ns, us, ms, s, m, h (250ms, 1.5s). For -i and\n"
		"-d a bare number means seconds. Ctrl-C prints a summary of the whole run.\n");
}

static int parse_syscall_list(const char *list, uint8_t *only)
{
	char *copy = strdup(list), *save = NULL, *name;
	int ret = 0, n = 0, nr;

	if (!copy)
		return -1;
	for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		nr = syscall_lookup(name);
		if (nr < 0 || nr >= PA_SYSCALL_MAX) {
			cli_error("-e: unknown syscall '%s' (names as in 'man 2 syscalls', "
				  "e.g. read,openat)", name);
			ret = -1;
			break;
		}
		only[nr] = 1;
		n++;
	}
	if (!ret && !n) {
		cli_error("-e: empty syscall list");
		ret = -1;
	}
	free(copy);
	return ret;
}

static int parse_comm(const char *s, struct trace_opts *o)
{
	if (!*s || strlen(s) >= PA_COMM_LEN) {
		cli_error("-c: '%s' cannot be a command name (1 to %d characters: the kernel "
			  "keeps only that many)", s, PA_COMM_LEN - 1);
		return -1;
	}
	o->probe.comm = s;
	return 0;
}

enum { OPT_CGROUP = 256, OPT_SLOW, OPT_PERFBUF, OPT_THREAD_HASH };

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "tid", required_argument, NULL, 't' },
	{ "comm", required_argument, NULL, 'c' },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "syscalls", required_argument, NULL, 'e' },
	{ "slow", required_argument, NULL, OPT_SLOW },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "top", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "perf-buffer", no_argument, NULL, OPT_PERFBUF },
	{ "thread-hash", no_argument, NULL, OPT_THREAD_HASH },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_opt(int c, void *opts)
{
	struct trace_opts *o = opts;

	switch (c) {
	case 'p': return trace_cli_id(optarg, "-p", &o->probe.pid);
	case 't': return trace_cli_id(optarg, "-t", &o->probe.tid);
	case 'c': return parse_comm(optarg, o);
	case OPT_CGROUP: o->probe.cgroup = optarg; return 0;
	case 'e': o->probe.only_nr = o->only; return parse_syscall_list(optarg, o->only);
	case OPT_SLOW: return trace_cli_duration(optarg, "--slow", 0, &o->probe.slow_ns);
	case 'i': return trace_cli_duration(optarg, "-i", NSEC_PER_SEC, &o->out.interval_ns);
	case 'd': return trace_cli_duration(optarg, "-d", NSEC_PER_SEC, &o->out.duration_ns);
	case 'n':
		/* 0 = all rows; any other count is read as an id (a positive number). */
		if (!strcmp(optarg, "0")) {
			o->out.top = 0;
			return 0;
		}
		return trace_cli_id(optarg, "-n", &o->out.top);
	case 'j': o->out.json = true; return 0;
	case OPT_PERFBUF: o->probe.perfbuf = true; return 0;
	case OPT_THREAD_HASH: o->probe.tid_hash = true; return 0;
	default: return -1;
	}
}

static const struct trace_cli cli = {
	.name = "syscalls",
	.shortopts = ":p:t:c:e:i:d:n:jh",
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
	ret = trace_cli_parse(&cli, argc, argv, o);
	if (ret)
		return ret;
	return trace_cli_check_interval(o->out.interval_ns, PA_SYSCALL_MAX_READ_GAP_S);
}

static void on_slow_call(void *ctx, const struct pa_syscall_event *e)
{
	struct trace_state *st = ctx;

	if (st->opts->out.json)
		syscall_report_event_json(stdout, e);
	else
		syscall_report_event_text(stdout, e);
	fflush(stdout);
}

static void report(void *ctx, uint64_t span_ns, bool final)
{
	struct trace_state *st = ctx;
	struct syscall_report r = {
		.totals = final ? st->total : st->interval,
		.losses = final ? &st->lost_total : &st->lost,
		.span_ns = span_ns, .final = final,
		.top = st->opts->out.top, .when_ns = realtime_ns(),
	};

	if (st->opts->out.json)
		syscall_report_json(stdout, &r);
	else
		syscall_report_table(stdout, &r);
	fflush(stdout);
}

static int read_interval(void *ctx)
{
	struct trace_state *st = ctx;
	struct syscall_losses *l = &st->lost;
	int nr, ret = syscall_probe_read(st->probe, st->interval, l);

	if (ret) {
		cli_error("reading the syscall maps failed: %s", strerror(-ret));
		return ret;
	}
	for (nr = 0; nr < PA_SYSCALL_MAX; nr++)
		syscall_totals_add(&st->total[nr], &st->interval[nr]);
	st->lost_total.events_sent += l->events_sent;
	st->lost_total.events_lost += l->events_lost;
	st->lost_total.out_of_range += l->out_of_range;
	st->lost_total.start_lost += l->start_lost;
	return 0;
}

static int wait_events(void *ctx, int timeout_ms)
{
	struct trace_state *st = ctx;

	return trace_cli_poll_result(syscall_probe_poll(st->probe, timeout_ms),
				     "slow-call events");
}

static int open_probe(void *ctx, char *err, size_t len)
{
	struct trace_state *st = ctx;

	if (!tracepoint_exists("raw_syscalls", "sys_enter")) {
		snprintf(err, len, "this kernel has no raw_syscalls:sys_enter tracepoint "
			 "(CONFIG_FTRACE_SYSCALLS is off); syscall tracing is not possible");
		return -ENOENT;
	}
	return syscall_probe_open(&st->probe, &st->opts->probe, on_slow_call, st, err, len);
}

static void announce(void *ctx)
{
	struct trace_state *st = ctx;

	fprintf(stderr, "Tracing syscalls (%s)... Ctrl-C to stop.\n",
		syscall_probe_describe(st->probe));
}

static const struct trace_cli_ops ops = {
	.open = open_probe, .announce = announce,
	.wait = wait_events, .read = read_interval, .report = report,
};

int cmd_trace_syscalls(int argc, char **argv)
{
	struct trace_opts *o = calloc(1, sizeof(*o));
	struct trace_state st = { .opts = o };
	int ret;

	st.interval = calloc(PA_SYSCALL_MAX, sizeof(*st.interval));
	st.total = calloc(PA_SYSCALL_MAX, sizeof(*st.total));
	if (!o || !st.interval || !st.total) {
		ret = 1;
		cli_error("out of memory");
		goto out;
	}
	ret = parse_args(argc, argv, o);
	if (ret)
		ret = trace_cli_exit_code(ret);
	else
		ret = trace_cli_trace(&ops, &st, &o->out);
out:
	syscall_probe_close(st.probe);
	free(st.interval);
	free(st.total);
	free(o);
	return ret;
}
