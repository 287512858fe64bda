/* SPDX-License-Identifier: GPL-2.0 */
/* The pstore collector: Crash records a previous boot left in /sys/fs/pstore, reported once. */
#ifndef PERFAGENT_COLLECT_PSTORE_H
#define PERFAGENT_COLLECT_PSTORE_H

#include "collect_util.h"

extern const struct collector_ops collect_pstore_ops;

#endif
