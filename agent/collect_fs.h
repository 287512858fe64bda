/* SPDX-License-Identifier: GPL-2.0 */
/* The fs collector: Space and inodes of every mounted real filesystem. */
#ifndef PERFAGENT_COLLECT_FS_H
#define PERFAGENT_COLLECT_FS_H

#include "collect_util.h"

extern const struct collector_ops collect_fs_ops;

#endif
