/* SPDX-License-Identifier: GPL-2.0 */
/* Syscall number <-> name, from the table generated at build time. */
#ifndef PERFAGENT_SYSCALL_NAMES_H
#define PERFAGENT_SYSCALL_NAMES_H

#include <stddef.h>

/* Name of nr, or NULL when the build-time table does not know it. */
const char *syscall_name(unsigned int nr);

/* Name of nr, or "syscall_NNN" written into buf for unknown numbers. */
const char *syscall_name_or_nr(unsigned int nr, char *buf, size_t len);

/* Number of a syscall name ("read"), or -1. */
int syscall_lookup(const char *name);

#endif
