/* SPDX-License-Identifier: GPL-2.0 */
/* Presenting syscall probe results: text table, JSON, slow-call lines. */
#ifndef PERFAGENT_SYSCALL_REPORT_H
#define PERFAGENT_SYSCALL_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "syscall.h"

struct syscall_report {
	const struct syscall_totals *totals;	/* [PA_SYSCALL_MAX] */
	const struct syscall_losses *losses;
	uint64_t span_ns;			/* time covered */
	uint64_t when_ns;			/* CLOCK_REALTIME of the report */
	unsigned int top;			/* rows, 0 = all */
	bool final;				/* summary of the whole run */
};

void syscall_report_table(FILE *f, const struct syscall_report *r);
void syscall_report_json(FILE *f, const struct syscall_report *r);

void syscall_report_event_text(FILE *f, const struct pa_syscall_event *e);
void syscall_report_event_json(FILE *f, const struct pa_syscall_event *e);

#endif
