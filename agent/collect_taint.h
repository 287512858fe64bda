/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The taint collector: the kernel's taint mask (/proc/sys/kernel/tainted),
 * decoded by letter and meaning, and an event for each change. What was
 * reported is remembered per boot in the state directory, so a restart of
 * the agent does not repeat it.
 */
#ifndef PERFAGENT_COLLECT_TAINT_H
#define PERFAGENT_COLLECT_TAINT_H

#include <stddef.h>
#include <stdint.h>

#include "collect_util.h"

extern const struct collector_ops collect_taint_ops;

/* Letters of the flags set in mask, in bit order ("PW"); '?' for a bit this
 * agent does not know. "" for 0.
 */
char *taint_letters(uint64_t mask, char *buf, size_t len);

/* "D (kernel died recently, i.e. there was an OOPS or BUG), W (kernel issued
 * warning)"; "" for 0. Cut after the last flag that fits in len.
 */
char *taint_describe(uint64_t mask, char *buf, size_t len);

/* The most severe flag in mask: a died kernel, machine check, bad page or
 * soft lockup is critical; a warning or forced module operation a warning.
 */
enum alert_severity taint_severity(uint64_t mask);

#endif
