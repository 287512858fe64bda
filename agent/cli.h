/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommands and what they share: error reporting and stop signals. */
#ifndef PERFAGENT_CLI_H
#define PERFAGENT_CLI_H

#include <signal.h>
#include <stdbool.h>

/* Exit codes: 0 fine, 1 runtime failure, 2 bad usage. */
#define EXIT_USAGE 2

extern bool cli_verbose;

/* "perfagent: error: ..." on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* SIGINT/SIGTERM set the flag below and interrupt blocking waits. */
void cli_catch_stop_signals(void);
extern volatile sig_atomic_t cli_stop;

int cmd_trace(int argc, char **argv);
int cmd_trace_syscalls(int argc, char **argv);
int cmd_trace_disk(int argc, char **argv);
int cmd_trace_net(int argc, char **argv);
int cmd_trace_health(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif
