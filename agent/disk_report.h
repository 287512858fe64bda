/* SPDX-License-Identifier: GPL-2.0 */
/* Presenting disk probe results: text table, JSON, slow/failed I/O lines. */
#ifndef PERFAGENT_DISK_REPORT_H
#define PERFAGENT_DISK_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "disk.h"

struct disk_report {
	const struct disk_set *set;
	const struct disk_losses *losses;
	uint64_t span_ns;		/* time covered */
	uint64_t when_ns;		/* CLOCK_REALTIME of the report */
	unsigned int top;		/* rows, 0 = all */
	bool final;			/* summary of the whole run */
};

void disk_report_table(FILE *f, const struct disk_report *r);
void disk_report_json(FILE *f, const struct disk_report *r);

void disk_report_event_text(FILE *f, const struct pa_disk_event *e);
void disk_report_event_json(FILE *f, const struct pa_disk_event *e);

/* "4KiB", "1.50MiB": powers of 1024, three significant digits. */
char *disk_format_bytes(uint64_t bytes, char *buf, size_t len);

#endif
