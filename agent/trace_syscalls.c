// SPDX-License-Identifier: GPL-2.0
/* perfagent trace syscalls: the live per-syscall latency table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#include "bpf_env.h"
#include "cli.h"
#include "hist.h"
#include "syscall.h"
#include "syscall_names.h"
#include "syscall_report.h"
#include "timeutil.h"
#include "tracefs.h"
#include "units.h"

struct trace_opts {
	struct syscall_probe_opts probe;
	uint8_t only[PA_SYSCALL_MAX];
	uint64_t interval_ns;
	uint64_t duration_ns;
	unsigned int top;
	bool json;
};

struct trace_state {
	const struct trace_opts *opts;
	struct syscall_totals *interval;	/* [PA_SYSCALL_MAX] */
	struct syscall_totals *total;		/* [PA_SYSCALL_MAX] */
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

static int parse_u32(const char *s, const char *flag, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > UINT32_MAX || s[0] == '-') {
		cli_error("%s: '%s' is not a valid id (a positive number)", flag, s);
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

static int parse_opt(int c, struct trace_opts *o)
{
	uint32_t top;

	switch (c) {
	case 'p': return parse_u32(optarg, "-p", &o->probe.pid);
	case 't': return parse_u32(optarg, "-t", &o->probe.tid);
	case 'c': return parse_comm(optarg, o);
	case OPT_CGROUP: o->probe.cgroup = optarg; return 0;
	case 'e': o->probe.only_nr = o->only; return parse_syscall_list(optarg, o->only);
	case OPT_SLOW: return parse_duration_flag(optarg, "--slow", 0, &o->probe.slow_ns);
	case 'i': return parse_duration_flag(optarg, "-i", NSEC_PER_SEC, &o->interval_ns);
	case 'd': return parse_duration_flag(optarg, "-d", NSEC_PER_SEC, &o->duration_ns);
	case 'n':
		if (!strcmp(optarg, "0")) {
			o->top = 0;
			return 0;
		}
		if (parse_u32(optarg, "-n", &top))
			return -1;
		o->top = top;
		return 0;
	case 'j': o->json = true; return 0;
	case OPT_PERFBUF: o->probe.perfbuf = true; return 0;
	case OPT_THREAD_HASH: o->probe.tid_hash = true; return 0;
	default: return -1;
	}
}

/* Returns 0 to run, 1 when help was printed, -1 on bad usage. */
static int parse_args(int argc, char **argv, struct trace_opts *o)
{
	int c;

	o->interval_ns = NSEC_PER_SEC;
	o->top = 20;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:t:c:e:i:d:n:jh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			cli_error("%s option '%s' (see 'perfagent trace syscalls --help')",
				  c == ':' ? "missing value for" : "unknown", argv[optind - 1]);
			return -1;
		}
		if (parse_opt(c, o))
			return -1;
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'perfagent trace syscalls --help')",
			  argv[optind]);
		return -1;
	}
	if (o->interval_ns > (uint64_t)PA_SYSCALL_MAX_READ_GAP_S * NSEC_PER_SEC) {
		cli_error("-i: at most %ds (the kernel's 32-bit bucket counters must be read "
			  "at least that often)", PA_SYSCALL_MAX_READ_GAP_S);
		return -1;
	}
	return 0;
}

static void on_slow_call(void *ctx, const struct pa_syscall_event *e)
{
	struct trace_state *st = ctx;

	if (st->opts->json)
		syscall_report_event_json(stdout, e);
	else
		syscall_report_event_text(stdout, e);
	fflush(stdout);
}

static void report(struct trace_state *st, const struct syscall_totals *t,
		   const struct syscall_losses *l, uint64_t span_ns, bool final)
{
	struct syscall_report r = {
		.totals = t, .losses = l, .span_ns = span_ns, .final = final,
		.top = st->opts->top, .when_ns = realtime_ns(),
	};

	if (st->opts->json)
		syscall_report_json(stdout, &r);
	else
		syscall_report_table(stdout, &r);
	fflush(stdout);
}

static int read_interval(struct syscall_probe *p, struct trace_state *st,
			 struct syscall_losses *l)
{
	int nr, ret = syscall_probe_read(p, st->interval, l);

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

static int wait_events(struct syscall_probe *p, uint64_t deadline)
{
	uint64_t now = mono_ns();
	int ret;

	if (now >= deadline)
		return 0;
	ret = syscall_probe_poll(p, (int)((deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC));
	if (ret < 0 && ret != -EINTR) {
		cli_error("reading slow-call events failed: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int run_loop(struct syscall_probe *p, struct trace_state *st)
{
	const struct trace_opts *o = st->opts;
	uint64_t start = mono_ns(), next = start + o->interval_ns, last = start;
	uint64_t end = o->duration_ns ? start + o->duration_ns : UINT64_MAX;
	struct syscall_losses l;
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
		report(st, st->interval, &l, mono_ns() - last, false);
		last = mono_ns();
		next += o->interval_ns;
	}
	/* Drain what is still queued, then the last partial interval. */
	syscall_probe_poll(p, 0);
	if (!ret && !(ret = read_interval(p, st, &l)))
		report(st, st->total, &st->lost_total, mono_ns() - start, true);
	return ret;
}

static int check_environment(void)
{
	char err[512];

	if (env_check_privileges(err, sizeof(err)) || env_check_btf(err, sizeof(err))) {
		cli_error("%s", err);
		return -1;
	}
	if (!tracepoint_exists("raw_syscalls", "sys_enter")) {
		cli_error("this kernel has no raw_syscalls:sys_enter tracepoint "
			  "(CONFIG_FTRACE_SYSCALLS is off); syscall tracing is not possible");
		return -1;
	}
	return 0;
}

int cmd_trace_syscalls(int argc, char **argv)
{
	struct trace_opts *o = calloc(1, sizeof(*o));
	struct trace_state st = { .opts = o };
	struct syscall_probe *p = NULL;
	char err[512];
	int ret;

	st.interval = calloc(PA_SYSCALL_MAX, sizeof(*st.interval));
	st.total = calloc(PA_SYSCALL_MAX, sizeof(*st.total));
	if (!o || !st.interval || !st.total) {
		ret = 1;
		cli_error("out of memory");
		goto out;
	}
	ret = parse_args(argc, argv, o);
	if (ret) {
		ret = ret > 0 ? 0 : EXIT_USAGE;
		goto out;
	}
	env_setup_libbpf(cli_verbose);
	ret = 1;
	if (check_environment())
		goto out;
	if (syscall_probe_open(&p, &o->probe, on_slow_call, &st, err, sizeof(err))) {
		cli_error("%s", err);
		goto out;
	}
	cli_catch_stop_signals();
	if (!o->json)
		fprintf(stderr, "Tracing syscalls (%s)... Ctrl-C to stop.\n",
			syscall_probe_describe(p));
	ret = run_loop(p, &st) ? 1 : 0;
out:
	syscall_probe_close(p);
	free(st.interval);
	free(st.total);
	free(o);
	return ret;
}
