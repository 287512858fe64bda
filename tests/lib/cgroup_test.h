/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgroup v2 for the probes' cgroup-filter tests: where the hierarchy is
 * mounted and moving a process into a directory of it. Header-only.
 */
#ifndef PERFAGENT_TEST_CGROUP_TEST_H
#define PERFAGENT_TEST_CGROUP_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* The cgroup v2 mount: /sys/fs/cgroup or /sys/fs/cgroup/unified. */
static inline int cgroup2_root(char *buf, size_t len)
{
	char dev[64], dir[256], type[64];
	FILE *f = fopen("/proc/mounts", "r");
	int found = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %255s %63s %*[^\n]", dev, dir, type) == 3)
		if (!strcmp(type, "cgroup2")) {
			snprintf(buf, len, "%s", dir);
			found = 0;
			break;
		}
	fclose(f);
	return found;
}

static inline int move_to_cgroup(const char *dir, pid_t pid)
{
	char path[600], s[32];
	int fd, n, ret;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = snprintf(s, sizeof(s), "%d", pid);
	ret = write(fd, s, n) == n ? 0 : -1;
	close(fd);
	return ret;
}

#endif /* PERFAGENT_TEST_CGROUP_TEST_H */
