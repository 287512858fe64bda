// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_env.h"
#include "timeutil.h"
#include "trace_cli.h"
#include "units.h"

/* A bad option: with a leading ':' getopt stayed silent, so say it here. */
static void bad_option(const struct trace_cli *cli, int c, char **argv)
{
	if (cli->shortopts[0] != ':') {
		cli->usage(stderr);
		return;
	}
	cli_error("%s option '%s' (see 'perfagent trace %s --help')",
		  c == ':' ? "missing value for" : "unknown", argv[optind - 1], cli->name);
}

int trace_cli_parse(const struct trace_cli *cli, int argc, char **argv, void *opts)
{
	int c;

	optind = 1;
	opterr = cli->shortopts[0] != ':';
	while ((c = getopt_long(argc, argv, cli->shortopts, cli->longopts, NULL)) != -1) {
		if (c == 'h') {
			cli->usage(stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			bad_option(cli, c, argv);
			return -1;
		}
		if (cli->parse_opt(c, opts))
			return -1;
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see 'perfagent trace %s --help')",
			  argv[optind], cli->name);
		return -1;
	}
	return 0;
}

bool trace_cli_ulong(const char *arg, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(arg, &end, 10);
	/* strtoul takes "-1" as ULONG_MAX: a sign is refused, not wrapped. */
	return !errno && end != arg && !*end && arg[0] != '-';
}

int trace_cli_id(const char *arg, const char *flag, uint32_t *out)
{
	unsigned long v;

	if (!trace_cli_ulong(arg, &v) || v == 0 || v > UINT32_MAX) {
		cli_error("%s: '%s' is not a valid id (a positive number)", flag, arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int trace_cli_count(const char *arg, const char *flag, uint32_t *out)
{
	unsigned long v;

	if (!trace_cli_ulong(arg, &v) || v > UINT32_MAX) {
		cli_error("%s: '%s' is not a valid number (0 or more)", flag, arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int trace_cli_range(const char *arg, const char *flag, bool zero_ok, unsigned long max,
		    unsigned long *out)
{
	if (!trace_cli_ulong(arg, out) || *out > max || (!*out && !zero_ok)) {
		cli_error("%s: '%s' is not a number from %d to %lu", flag, arg, zero_ok ? 0 : 1,
			  max);
		return -1;
	}
	return 0;
}

int trace_cli_duration_eg(const char *arg, const char *flag, uint64_t bare_ns,
			  const char *example, uint64_t *out)
{
	if (parse_duration_ns(arg, bare_ns, out) || *out == 0) {
		cli_error("%s: '%s' is not a duration (use e.g. %s, 1.5s%s)", flag, arg, example,
			  bare_ns ? ", or a number of seconds" : "");
		return -1;
	}
	return 0;
}

int trace_cli_duration(const char *arg, const char *flag, uint64_t bare_ns, uint64_t *out)
{
	return trace_cli_duration_eg(arg, flag, bare_ns, "10ms", out);
}

int trace_cli_bpf_ready(void)
{
	char err[512];

	env_setup_libbpf(cli_verbose);
	if (env_check_privileges(err, sizeof(err)) || env_check_btf(err, sizeof(err))) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}

int trace_cli_poll_result(int ret, const char *events)
{
	/* A signal (Ctrl-C) ends the wait early: the loop then stops by itself. */
	if (ret >= 0 || ret == -EINTR)
		return 0;
	cli_error("reading %s failed: %s", events, strerror(-ret));
	return ret;
}

int trace_cli_check_interval(uint64_t interval_ns, unsigned int max_gap_s)
{
	if (interval_ns <= (uint64_t)max_gap_s * NSEC_PER_SEC)
		return 0;
	cli_error("-i: at most %ds (the kernel's 32-bit bucket counters must be read "
		  "at least that often)", max_gap_s);
	return -1;
}

/* Wait for events until the deadline; the last millisecond rounds up so
 * that the wait never ends just short of it.
 */
static int wait_until(const struct trace_cli_ops *ops, void *ctx, uint64_t deadline)
{
	uint64_t now = mono_ns();

	if (now >= deadline)
		return 0;
	return ops->wait(ctx, (int)((deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC));
}

int trace_cli_run(const struct trace_cli_ops *ops, void *ctx, uint64_t interval_ns,
		  uint64_t duration_ns)
{
	uint64_t start = mono_ns(), next = start + interval_ns, last = start;
	uint64_t end = duration_ns ? start + duration_ns : UINT64_MAX;
	int ret = 0;

	while (!cli_stop) {
		if ((ret = wait_until(ops, ctx, next < end ? next : end)))
			break;
		if (mono_ns() >= end)
			break;
		if (mono_ns() < next)
			continue;
		if ((ret = ops->read(ctx)))
			break;
		ops->report(ctx, mono_ns() - last, false);
		last = mono_ns();
		next += interval_ns;
	}
	/* After a failure (said) a second try would only say it again. */
	if (ret)
		return ret;
	/* Deliver what is still queued, then the last partial interval and the
	 * whole run; a failure to deliver (said) does not hold back the summary.
	 */
	ops->wait(ctx, 0);
	if ((ret = ops->read(ctx)))
		return ret;
	ops->report(ctx, mono_ns() - start, true);
	return 0;
}

int trace_cli_trace(const struct trace_cli_ops *ops, void *ctx,
		    const struct trace_cli_output *out)
{
	char err[512];

	if (trace_cli_bpf_ready())
		return 1;
	if (ops->open(ctx, err, sizeof(err))) {
		cli_error("%s", err);
		return 1;
	}
	cli_catch_stop_signals();
	if (!out->json)
		ops->announce(ctx);
	return trace_cli_run(ops, ctx, out->interval_ns, out->duration_ns) ? 1 : 0;
}
