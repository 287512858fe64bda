/* SPDX-License-Identifier: GPL-2.0 */
/* tracefs: mounted on demand, and asked which tracepoints exist. */
#ifndef PERFAGENT_TRACEFS_H
#define PERFAGENT_TRACEFS_H

#include <stdbool.h>
#include <stddef.h>

/* Path of a mounted tracefs, mounting it at /sys/kernel/tracing when no
 * tracefs is mounted yet (as bpftool does). NULL with err filled when that
 * fails.
 */
const char *tracefs_ensure(char *err, size_t len);

/* Whether tracepoint category:name exists on the running kernel. Asks
 * tracefs, and the kernel's BTF (btf_trace_<name>) when tracefs cannot be
 * had. Never compares kernel versions.
 */
bool tracepoint_exists(const char *category, const char *name);

#endif
