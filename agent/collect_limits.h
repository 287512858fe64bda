/* SPDX-License-Identifier: GPL-2.0 */
/* The limits collector: Open files, processes and threads against their system-wide limits. */
#ifndef PERFAGENT_COLLECT_LIMITS_H
#define PERFAGENT_COLLECT_LIMITS_H

#include "collect_util.h"

extern const struct collector_ops collect_limits_ops;

#endif
