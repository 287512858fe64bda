// SPDX-License-Identifier: GPL-2.0
/* perfagent trace net: the live per-interface, TCP and drop view. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "net.h"
#include "net_report.h"
#include "timeutil.h"
#include "trace_cli.h"
#include "units.h"

#define NETNS_RUN_DIR "/run/netns"

struct trace_opts {
	struct net_probe_opts probe;
	struct trace_cli_output out;
};

struct trace_state {
	const struct trace_opts *opts;
	struct net_probe *probe;
	struct net_totals interval;
	struct net_totals total;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: perfagent trace net [OPTIONS]\n"
		"\n"
		"Live network view: packets and bytes per interface from the kernel's own\n"
		"counters (as 'ip -s link'), in every namespace a process is in or 'ip netns'\n"
		"names. From kernel tracepoints: drops per interface; TCP connects with\n"
		"their latency (SYN sent to established), connection lifetimes and bytes,\n"
		"retransmits and resets; packet drops by the kernel's drop reason.\n"
		"Retransmits, resets and drops are also printed one by one with their\n"
		"flows, at most --rate per second for each flow.\n"
		"\n"
		"Filters (decided in the kernel; --netns also picks the interfaces read):\n"
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

/* This command's errors have always shown 500ms as the example. */
static int parse_duration(const char *arg, const char *flag, uint64_t *out)
{
	return trace_cli_duration_eg(arg, flag, NSEC_PER_SEC, "500ms", out);
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

static int parse_opt(int c, void *opts)
{
	struct trace_opts *o = opts;
	unsigned long v;

	switch (c) {
	case OPT_NETNS: return parse_netns(optarg, &o->probe.netns);
	case 'p':
		if (trace_cli_range(optarg, "-p", false, 65535, &v))
			return -1;
		o->probe.port = (uint16_t)v;
		return 0;
	case 'e': return parse_events(optarg, &o->probe.stream);
	case OPT_RATE:
		if (trace_cli_range(optarg, "--rate", true, 1000000, &v))
			return -1;
		o->probe.rate = (uint32_t)v;
		return 0;
	case 'i': return parse_duration(optarg, "-i", &o->out.interval_ns);
	case 'd': return parse_duration(optarg, "-d", &o->out.duration_ns);
	case 'n':
		if (trace_cli_range(optarg, "-n", true, 1000000, &v))
			return -1;
		o->out.top = (unsigned int)v;
		return 0;
	case 'j': o->out.json = true; return 0;
	case OPT_PERFBUF: o->probe.perfbuf = true; return 0;
	default: return -1;
	}
}

static const struct trace_cli cli = {
	.name = "net",
	.shortopts = ":p:e:i:d:n:jh",
	.longopts = long_opts,
	.usage = usage,
	.parse_opt = parse_opt,
};

/* Returns 0 to run, 1 when help was printed, -1 on bad usage. */
static int parse_args(int argc, char **argv, struct trace_opts *o)
{
	o->out.interval_ns = NSEC_PER_SEC;
	o->out.top = 20;
	o->probe.stream = NET_DEFAULT_STREAM;
	o->probe.rate = NET_DEFAULT_RATE;
	return trace_cli_parse(&cli, argc, argv, o);
}

static void on_event(void *ctx, const struct pa_net_event *e)
{
	struct trace_state *st = ctx;

	if (st->opts->out.json)
		net_report_event_json(stdout, e);
	else
		net_report_event_text(stdout, e);
	fflush(stdout);
}

static void report(void *ctx, uint64_t span_ns, bool final)
{
	struct trace_state *st = ctx;
	struct net_report r = {
		.totals = final ? &st->total : &st->interval,
		.span_ns = span_ns, .final = final,
		.top = st->opts->out.top, .when_ns = realtime_ns(),
	};

	if (st->opts->out.json)
		net_report_json(stdout, &r);
	else
		net_report_table(stdout, &r);
	fflush(stdout);
}

static int read_interval(void *ctx)
{
	struct trace_state *st = ctx;
	int ret = net_probe_read(st->probe, &st->interval);

	if (ret) {
		cli_error("reading the network maps failed: %s", strerror(-ret));
		return ret;
	}
	net_totals_add(&st->total, &st->interval);
	return 0;
}

static int wait_events(void *ctx, int timeout_ms)
{
	struct trace_state *st = ctx;

	return trace_cli_poll_result(net_probe_poll(st->probe, timeout_ms), "network events");
}

static int open_probe(void *ctx, char *err, size_t len)
{
	struct trace_state *st = ctx;

	return net_probe_open(&st->probe, &st->opts->probe, on_event, st, err, len);
}

static void announce(void *ctx)
{
	struct trace_state *st = ctx;
	const char *missing = net_probe_missing(st->probe);

	fprintf(stderr, "Tracing the network (%s)... Ctrl-C to stop.\n",
		net_probe_describe(st->probe));
	if (*missing)
		fprintf(stderr, "Not on this kernel: %s\n", missing);
}

static const struct trace_cli_ops ops = {
	.open = open_probe, .announce = announce,
	.wait = wait_events, .read = read_interval, .report = report,
};

int cmd_trace_net(int argc, char **argv)
{
	struct trace_opts o = { 0 };
	struct trace_state st = { .opts = &o };
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return trace_cli_exit_code(ret);
	ret = trace_cli_trace(&ops, &st, &o.out);
	net_probe_close(st.probe);
	net_totals_free(&st.interval);
	net_totals_free(&st.total);
	return ret;
}
