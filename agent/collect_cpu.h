/* SPDX-License-Identifier: GPL-2.0 */
/* The cpu collector: CPU time shares from /proc/stat deltas, total and per core. */
#ifndef PERFAGENT_COLLECT_CPU_H
#define PERFAGENT_COLLECT_CPU_H

#include "collect_util.h"

extern const struct collector_ops collect_cpu_ops;

#endif
