// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <linux/magic.h>

#include "tracefs.h"

static const char *const tracefs_paths[] = {
	"/sys/kernel/tracing",
	"/sys/kernel/debug/tracing",
};

static bool is_tracefs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == TRACEFS_MAGIC;
}

const char *tracefs_ensure(char *err, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(tracefs_paths) / sizeof(tracefs_paths[0]); i++)
		if (is_tracefs(tracefs_paths[i]))
			return tracefs_paths[i];
	if (mount("nodev", tracefs_paths[0], "tracefs", 0, NULL) == 0)
		return tracefs_paths[0];
	snprintf(err, len,
		 "tracefs is not mounted and mounting it at %s failed (%s); mount it with "
		 "'mount -t tracefs nodev %s' or run perfagent as root",
		 tracefs_paths[0], strerror(errno), tracefs_paths[0]);
	return NULL;
}

static bool btf_has_tracepoint(const char *name)
{
	struct btf *btf = btf__load_vmlinux_btf();
	char tname[128];
	bool found;

	if (!btf)
		return false;
	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	found = btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF) > 0;
	btf__free(btf);
	return found;
}

bool tracepoint_exists(const char *category, const char *name)
{
	char err[256], path[512];
	const char *root = tracefs_ensure(err, sizeof(err));

	if (root) {
		snprintf(path, sizeof(path), "%s/events/%s/%s", root, category, name);
		return access(path, F_OK) == 0;
	}
	return btf_has_tracepoint(name);
}
