/* SPDX-License-Identifier: GPL-2.0 */
/* The load collector: Load averages from /proc/loadavg. */
#ifndef PERFAGENT_COLLECT_LOAD_H
#define PERFAGENT_COLLECT_LOAD_H

#include "collect_util.h"

extern const struct collector_ops collect_load_ops;

#endif
