// SPDX-License-Identifier: GPL-2.0
/* perfagent trace net: the live per-interface, TCP and drop view. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bpf_env.h"
#include "cli.h"
#include "net.h"
#include "net_report.h"
#include "timeutil.h"
#include "units.h"

#define NETNS_RUN_DIR "/run/netns"

struct trace_opts {
	struct net_probe_opts probe;
	uint64_t interval_ns;
	uint64_t duration_ns;
	unsigned int top;
	bool json;
};

struct trace_state {
	const struct trace_opts *opts;
	struct net_totals interval;
	struct net_totals total;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: perfagent trace net [OPTIONS]\n"
		"\n"
		"Live network view from kernel tracepoints: packets, bytes and drops per\n"
		"interface; TCP connects with their latency (SYN sent to established),\n"
		"connection lifetimes and bytes, retransmits and resets; packet drops by\n"
		"the kernel's drop reason. Retransmits, resets and drops are also printed\n"
		"one by one with their flows, at most --rate per second for each flow.\n"
		"\n"
		"Filters (decided in the kernel):\n"
		"      --netns NS         only this network namespace: a name from 'ip netns',\n"
		"                         a path (/proc/PID/ns/net) or an inode number\n"
		"  -p, --port PORT        TCP and drops: only flows with this local or remote port\n"
		"                         (interface counters are never filtered by port)\n"
		"\n"
		"Events:\n"
		"  -e, --events LIST      what to print one by one, comma-separated: retrans,\n"
		"                         reset, drop, conn (each closed TCP connection with its\n"
		"                         lifetime and bytes), all, none (default retrans,reset,drop)\n"
		"      --rate N           at most N events per second per flow and kind, the rest\n"
		"                         counted as suppressed (default %d, 0 = no limit)\n"
		"\n"
		"Output:\n"
		"  -i, --interval DURATION  refresh period (default 1s)\n"
		"  -d, --duration DURATION  stop after this long (default: until Ctrl-C)\n"
		"  -n, --top N            rows per table, busiest first (default 20, 0 = all)\n"
		"  -j, --json             one JSON object per interval and per event\n"
		"      --perf-buffer      stream events through a perf buffer, not a ring buffer\n"
		"\n"
		"DURATION is a number with a unit: ns, us, ms, s, m, h (250ms, 1.5s); a bare\n"
		"number means seconds. Ctrl-C prints a summary of the whole run.\n",
		NET_DEFAULT_RATE);
}

static int parse_uint(const char *s, const char *flag, unsigned long max, bool zero_ok,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v > max || (!v && !zero_ok)) {
		cli_error("%s: '%s' is not a number from %d to %lu", flag, s, zero_ok ? 0 : 1, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* NS: an inode number, a path to a namespace file, or a name under /run/netns. */
static int parse_netns(const char *s, uint32_t *out)
{
	char path[512];
	struct stat st;
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!errno && *s && !*end && v > 0 && v <= UINT32_MAX) {
		*out = (uint32_t)v;
		return 0;
	}
	if (strchr(s, '/'))
		snprintf(path, sizeof(path), "%s", s);
	else
		snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", s);
	if (stat(path, &st)) {
		cli_error("--netns: %s: %s (give a name from 'ip netns', a path such as "
			  "/proc/PID/ns/net, or an inode number)", path, strerror(errno));
		return -1;
	}
	*out = (uint32_t)st.st_ino;
	return 0;
}

static int parse_events(const char *list, uint32_t *out)
{
	static const struct { const char *name; uint32_t bits; } kinds[] = {
		{ "retrans", PA_NET_STREAM(PA_NET_EV_RETRANSMIT) },
		{ "reset", PA_NET_STREAM(PA_NET_EV_RESET_SENT) |
			   PA_NET_STREAM(PA_NET_EV_RESET_RECEIVED) },
		{ "drop", PA_NET_STREAM(PA_NET_EV_DROP) },
		{ "conn", PA_NET_STREAM(PA_NET_EV_CONN_CLOSED) },
		{ "all", ~0U },
		{ "none", 0 },
	};
	char *copy = strdup(list), *save = NULL, *name;
	size_t i;
	int ret = 0;

	if (!copy)
		return -1;
	*out = 0;
	for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (!strcmp(name, kinds[i].name))
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0])) {
			cli_error("-e: unknown event kind '%s' (retrans, reset, drop, conn, all, "
				  "none)", name);
			ret = -1;
			break;
		}
		*out |= kinds[i].bits;
	}
	free(copy);
	return ret;
}

static int parse_duration_flag(const char *s, const char *flag, uint64_t *out)
{
	if (parse_duration_ns(s, NSEC_PER_SEC, out) || *out == 0) {
		cli_error("%s: '%s' is not a duration (use e.g. 500ms, 1.5s, or a number of "
			  "seconds)", flag, s);
		return -1;
	}
	return 0;
}

enum { OPT_NETNS = 256, OPT_RATE, OPT_PERFBUF };

static const struct option long_opts[] = {
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "port", required_argument, NULL, 'p' },
	{ "events", required_argument, NULL, 'e' },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "top", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "perf-buffer", no_argument, NULL, OPT_PERFBUF },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_opt(int c, struct trace_opts *o)
{
	unsigned long v;

	switch (c) {
	case OPT_NETNS: return parse_netns(optarg, &o->probe.netns);
	case 'p':
		if (parse_uint(optarg, "-p", 65535, false, &v))
			return -1;
		o->probe.port = (uint16_t)v;
		return 0;
	case 'e': return parse_events(optarg, &o->probe.stream);
	case OPT_RATE:
		if (parse_uint(optarg, "--rate", 1000000, true, &v))
			return -1;
		o->probe.rate = (uint32_t)v;
		return 0;
	case 'i': return parse_duration_flag(optarg, "-i", &o->interval_ns);
	case 'd': return parse_duration_flag(optarg, "-d", &o->duration_ns);
	case 'n':
		if (parse_uint(optarg, "-n", 1000000, true, &v))
			return -1;
		o->top = (unsigned int)v;
		return 0;
	case 'j': o->json = true; return 0;
	case OPT_PERFBUF: o->probe.perfbuf = true; return 0;
	default: return -1;
	}
}

/* Returns 0 to run, 1 when help was printed, -1 on bad usage. */
static int parse_args(int argc, char **argv, struct trace_opts *o)
{
	int c;

	o->interval_ns = NSEC_PER_SEC;
	o->top = 20;
	o->probe.stream = NET_DEFAULT_STREAM;
	o->probe.rate = NET_DEFAULT_RATE;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:e:i:d:n:jh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			cli_error("%s option '%s' (see 'perfagent trace net --help')",
				  c == ':' ? "missing value for" : "unknown", argv[optind - 1]);
			return -1;
		}
		if (parse_opt(c, o))
			return -1;
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'perfagent trace net --help')",
			  argv[optind]);
		return -1;
	}
	return 0;
}

static void on_event(void *ctx, const struct pa_net_event *e)
{
	struct trace_state *st = ctx;

	if (st->opts->json)
		net_report_event_json(stdout, e);
	else
		net_report_event_text(stdout, e);
	fflush(stdout);
}

static void report(struct trace_state *st, const struct net_totals *t, uint64_t span_ns,
		   bool final)
{
	struct net_report r = {
		.totals = t, .span_ns = span_ns, .final = final,
		.top = st->opts->top, .when_ns = realtime_ns(),
	};

	if (st->opts->json)
		net_report_json(stdout, &r);
	else
		net_report_table(stdout, &r);
	fflush(stdout);
}

static int read_interval(struct net_probe *p, struct trace_state *st)
{
	int ret = net_probe_read(p, &st->interval);

	if (ret) {
		cli_error("reading the network maps failed: %s", strerror(-ret));
		return ret;
	}
	net_totals_add(&st->total, &st->interval);
	return 0;
}

static int wait_events(struct net_probe *p, uint64_t deadline)
{
	uint64_t now = mono_ns();
	int ret;

	if (now >= deadline)
		return 0;
	ret = net_probe_poll(p, (int)((deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC));
	if (ret < 0 && ret != -EINTR) {
		cli_error("reading network events failed: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int run_loop(struct net_probe *p, struct trace_state *st)
{
	const struct trace_opts *o = st->opts;
	uint64_t start = mono_ns(), next = start + o->interval_ns, last = start;
	uint64_t end = o->duration_ns ? start + o->duration_ns : UINT64_MAX;
	int ret = 0;

	while (!cli_stop) {
		uint64_t deadline = next < end ? next : end;

		if ((ret = wait_events(p, deadline)))
			break;
		if (mono_ns() >= end)
			break;
		if (mono_ns() < next)
			continue;
		if ((ret = read_interval(p, st)))
			break;
		report(st, &st->interval, mono_ns() - last, false);
		last = mono_ns();
		next += o->interval_ns;
	}
	/* Drain what is still queued, then the last partial interval. */
	net_probe_poll(p, 0);
	if (!ret && !(ret = read_interval(p, st)))
		report(st, &st->total, mono_ns() - start, true);
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

int cmd_trace_net(int argc, char **argv)
{
	struct trace_opts o = { 0 };
	struct trace_state st = { .opts = &o };
	struct net_probe *p = NULL;
	char err[512];
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	env_setup_libbpf(cli_verbose);
	ret = 1;
	if (check_environment())
		goto out;
	if (net_probe_open(&p, &o.probe, on_event, &st, err, sizeof(err))) {
		cli_error("%s", err);
		goto out;
	}
	cli_catch_stop_signals();
	if (!o.json) {
		fprintf(stderr, "Tracing the network (%s)... Ctrl-C to stop.\n",
			net_probe_describe(p));
		if (*net_probe_missing(p))
			fprintf(stderr, "Not on this kernel: %s\n", net_probe_missing(p));
	}
	ret = run_loop(p, &st) ? 1 : 0;
out:
	net_probe_close(p);
	net_totals_free(&st.interval);
	net_totals_free(&st.total);
	return ret;
}
