// SPDX-License-Identifier: GPL-2.0
/* perfagent trace SOURCE: dispatch to the live view of one probe. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct trace_source {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

static const struct trace_source sources[] = {
	{ "syscalls", "per-syscall counts, errors and latency percentiles", cmd_trace_syscalls },
	{ "disk", "block I/O per disk and operation: IOPS, queue and service time, errors", cmd_trace_disk },
	{ "net", "per-interface traffic, TCP connects, retransmits, resets, drops by reason", cmd_trace_net },
	{ "health", "device, driver, network device and module events (kernel module)", cmd_trace_health },
};

#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: perfagent trace SOURCE [OPTIONS]\n\nSources:\n");
	for (i = 0; i < NSOURCES; i++)
		fprintf(f, "  %-10s %s\n", sources[i].name, sources[i].summary);
	fprintf(f, "\n'perfagent trace SOURCE --help' lists the options of each.\n");
}

int cmd_trace(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < NSOURCES; i++)
		if (!strcmp(argv[1], sources[i].name))
			return sources[i].run(argc - 1, argv + 1);
	cli_error("unknown trace source '%s' (see 'perfagent trace --help')", argv[1]);
	return EXIT_USAGE;
}
