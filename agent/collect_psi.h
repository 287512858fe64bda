/* SPDX-License-Identifier: GPL-2.0 */
/* The psi collector: Pressure stall information from /proc/pressure/{cpu,memory,io}. */
#ifndef PERFAGENT_COLLECT_PSI_H
#define PERFAGENT_COLLECT_PSI_H

#include "collect_util.h"

extern const struct collector_ops collect_psi_ops;

#endif
