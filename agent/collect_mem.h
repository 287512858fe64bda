/* SPDX-License-Identifier: GPL-2.0 */
/* The mem collector: memory and swap (/proc/meminfo), swap and OOM activity (/proc/vmstat). */
#ifndef PERFAGENT_COLLECT_MEM_H
#define PERFAGENT_COLLECT_MEM_H

#include "collect_util.h"

extern const struct collector_ops collect_mem_ops;

#endif
