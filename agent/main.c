// SPDX-License-Identifier: GPL-2.0
/* perfagent: command-line entry point. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: perfagent [-v] COMMAND [ARGS...]\n"
		"\n"
		"Watch a Linux machine's performance with eBPF.\n"
		"\n"
		"Commands:\n"
		"  --daemon         run the daemon: probes, collectors, rules, logs, alerts\n"
		"  status           ask the running daemon how it is doing\n"
		"  trace syscalls   live per-syscall counts and latency percentiles\n"
		"  trace disk       live block I/O per disk and operation, slow and failed I/O\n"
		"  trace net        live traffic, TCP connects, retransmits, resets, drops\n"
		"  trace health     live device, driver, link, module, OOM and error events\n"
		"  doctor           what can be watched on this machine, and why not\n"
		"  check-config     validate a daemon config file (or print the built-in one)\n"
		"\n"
		"Options:\n"
		"  -v, --verbose    show libbpf's messages\n"
		"  -h, --help       show this help\n"
		"  -V, --version    show the version\n"
		"\n"
		"'perfagent COMMAND --help' describes each command. Needs root.\n");
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--daemon")) {
			return cmd_daemon(argc - i, argv + i);
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("perfagent %s\n", PERFAGENT_VERSION);
			return 0;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			cli_verbose = true;
		} else {
			cli_error("unknown option '%s' (see 'perfagent --help')", a);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "trace"))
		return cmd_trace(argc - i, argv + i);
	if (!strcmp(argv[i], "doctor"))
		return cmd_doctor(argc - i, argv + i);
	if (!strcmp(argv[i], "check-config"))
		return cmd_check_config(argc - i, argv + i);
	if (!strcmp(argv[i], "status"))
		return cmd_status(argc - i, argv + i);
	cli_error("unknown command '%s' (see 'perfagent --help')", argv[i]);
	return EXIT_USAGE;
}
