/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The optional alert command (mail, SMS, a webhook via curl...): a program
 * run with its arguments (the config's alert_command.path and .args), or a
 * shell command line, for every alert, the alert as one JSON object on stdin (the
 * same fields as in alerts.jsonl, plus ts and host), and PERFAGENT_RULE,
 * PERFAGENT_KIND, PERFAGENT_SEVERITY, PERFAGENT_STATE, PERFAGENT_METRIC,
 * PERFAGENT_MESSAGE in its environment.
 *
 * alert_exec_run() never waits for the command: it spawns it in its own
 * process group and returns; a thread reaps it and, past the timeout, sends
 * SIGTERM to the group and SIGKILL a second later. stdin is a memfd, so a
 * command that never reads it cannot block anyone either. Alerts beyond
 * max_running commands at once are skipped and counted, never queued
 * without bound.
 *
 * The caller must not reap children it did not start (no waitpid(-1)).
 */
#ifndef PERFAGENT_ALERT_EXEC_H
#define PERFAGENT_ALERT_EXEC_H

#include <stdint.h>

#include "alert.h"

struct alert_exec_config {
	const char *path;		/* program to run (searched in PATH without a '/') ... */
	char *const *args;		/* ... with these arguments (argv[1..]) */
	size_t nargs;
	const char *command;		/* or, when path is NULL: a line for /bin/sh -c */
	uint64_t timeout_ns;		/* 0: 10 s */
	unsigned max_running;		/* 0: 4 */
	const char *host;		/* for the JSON; NULL: gethostname() */
};

struct alert_exec_stats {
	uint64_t started;
	uint64_t succeeded;		/* exit status 0 */
	uint64_t failed;		/* other exit status, or killed by a signal not ours */
	uint64_t timed_out;		/* killed by us at the timeout */
	uint64_t skipped;		/* not run: max_running were still running */
	uint64_t spawn_failed;
	unsigned running;
	int last_status;		/* wait status of the last one that did not succeed */
};

struct alert_exec;

/* NULL with a one-line reason in err on failure. */
struct alert_exec *alert_exec_open(const struct alert_exec_config *cfg, char *err, size_t errlen);

/* 0: started; -EBUSY: skipped (too many running); -errno: could not start. */
int alert_exec_run(struct alert_exec *ae, const struct alert *a);

/* Wait until no command runs (each is bounded by the timeout). */
void alert_exec_wait(struct alert_exec *ae);

void alert_exec_get_stats(struct alert_exec *ae, struct alert_exec_stats *out);

/* Waits like alert_exec_wait(), then frees everything. */
void alert_exec_close(struct alert_exec *ae);

#endif
