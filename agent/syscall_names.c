// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "syscall_names.h"
#include "syscall_table.h"

#define TABLE_LEN (sizeof(pa_syscall_table) / sizeof(pa_syscall_table[0]))

const char *syscall_name(unsigned int nr)
{
	return nr < TABLE_LEN ? pa_syscall_table[nr] : NULL;
}

const char *syscall_name_or_nr(unsigned int nr, char *buf, size_t len)
{
	const char *name = syscall_name(nr);

	if (name)
		return name;
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

int syscall_lookup(const char *name)
{
	unsigned int nr;

	for (nr = 0; nr < TABLE_LEN; nr++)
		if (pa_syscall_table[nr] && strcmp(pa_syscall_table[nr], name) == 0)
			return (int)nr;
	if (sscanf(name, "syscall_%u", &nr) == 1)
		return (int)nr;
	return -1;
}
