/* SPDX-License-Identifier: GPL-2.0 */
/* The netdev collector: Per-interface traffic, errors and drops from /proc/net/dev. */
#ifndef PERFAGENT_COLLECT_NETDEV_H
#define PERFAGENT_COLLECT_NETDEV_H

#include "collect_util.h"

extern const struct collector_ops collect_netdev_ops;

#endif
