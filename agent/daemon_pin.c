// SPDX-License-Identifier: GPL-2.0
/*
 * Pins: every loaded program and every map of each attached probe under
 * /sys/fs/bpf/perfagent/<probe>/<name>, so `bpftool prog show pinned ...`,
 * `bpftool map dump pinned ...` and a plain `ls` show what perfagent runs.
 * Names are the programs' and maps' own (sys_enter_btf, sys_stats, ...).
 *
 * Only programs and maps are pinned, never links: if the daemon dies
 * without cleaning up (kill -9), nothing stays attached; the next start
 * removes the stale pins. bpffs is mounted at /sys/fs/bpf when it is not
 * (as bpftool does). The root directory is flock'ed while pinned, so a
 * second daemon (a test, say) never removes pins it does not own: it runs
 * without pins and says so.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <syslog.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "daemon.h"

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static int ensure_bpffs(char *err, size_t len)
{
	if (is_bpffs(DAEMON_BPFFS))
		return 0;
	if (mkdir(DAEMON_BPFFS, 0700) && errno != EEXIST) {
		snprintf(err, len, "cannot create %s: %s", DAEMON_BPFFS, strerror(errno));
		return -errno;
	}
	if (mount("bpf", DAEMON_BPFFS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700")) {
		snprintf(err, len, "cannot mount bpffs at %s: %s", DAEMON_BPFFS, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Remove every file in dir (pins only: no deeper levels), then dir. */
static void remove_dir(int parent_fd, const char *name)
{
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	DIR *dir;

	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		if (unlinkat(fd, e->d_name, 0) && errno == EISDIR)
			remove_dir(fd, e->d_name);
	}
	closedir(dir);
	unlinkat(parent_fd, name, AT_REMOVEDIR);
}

/* Pins of a previous run that died without cleaning up. */
static unsigned int remove_stale(int root_fd)
{
	int fd = dup(root_fd);
	unsigned int n = 0;
	struct dirent *e;
	DIR *dir;

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		remove_dir(root_fd, e->d_name);
		n++;
	}
	closedir(dir);
	return n;
}

void daemon_pin_open(struct daemon *d)
{
	char err[256];
	unsigned int stale;
	int fd;

	d->pin_lock_fd = -1;
	if (ensure_bpffs(err, sizeof(err))) {
		snprintf(d->pin_note, sizeof(d->pin_note), "not pinned: %s", err);
		daemon_log(d, LOG_NOTICE, "pins", "BPF programs and maps are not pinned: %s", err);
		return;
	}
	if (mkdir(DAEMON_PIN_ROOT, 0700) && errno != EEXIST) {
		snprintf(d->pin_note, sizeof(d->pin_note), "not pinned: cannot create %s: %s",
			 DAEMON_PIN_ROOT, strerror(errno));
		daemon_log(d, LOG_NOTICE, "pins", "%s", d->pin_note);
		return;
	}
	fd = open(DAEMON_PIN_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
		snprintf(d->pin_note, sizeof(d->pin_note), "not pinned: %s is held by another "
			 "perfagent daemon", DAEMON_PIN_ROOT);
		daemon_log(d, LOG_NOTICE, "pins", "%s", d->pin_note);
		if (fd >= 0)
			close(fd);
		return;
	}
	stale = remove_stale(fd);
	if (stale)
		daemon_log(d, LOG_INFO, "pins", "removed stale pins of %u probe(s) under %s "
			   "(left by a daemon that did not stop cleanly)", stale, DAEMON_PIN_ROOT);
	d->pin_lock_fd = fd;
	snprintf(d->pin_note, sizeof(d->pin_note), "%s", DAEMON_PIN_ROOT);
}

static int pin_one(int dir_fd, const char *dir, const char *name, int obj_fd)
{
	char path[512];

	if (obj_fd < 0 || !name || !*name)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlinkat(dir_fd, name, 0);
	return bpf_obj_pin(obj_fd, path) ? -errno : 0;
}

void daemon_pin_probe(struct daemon *d, struct dprobe *p)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	char dir[256];
	int dir_fd, ret = 0;

	if (d->pin_lock_fd < 0 || !p->obj || p->pinned)
		return;
	snprintf(dir, sizeof(dir), "%s/%s", DAEMON_PIN_ROOT, p->name);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		daemon_log(d, LOG_NOTICE, "pins", "%s probe not pinned: %s: %s", p->name, dir,
			   strerror(errno));
		return;
	}
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return;
	bpf_object__for_each_program(prog, p->obj)
		if (!ret)
			ret = pin_one(dir_fd, dir, bpf_program__name(prog), bpf_program__fd(prog));
	bpf_object__for_each_map(map, p->obj)
		if (!ret && !bpf_map__is_internal(map))
			ret = pin_one(dir_fd, dir, bpf_map__name(map), bpf_map__fd(map));
	close(dir_fd);
	p->pinned = true;	/* even half-way: unpinning removes what is there */
	if (ret)
		daemon_log(d, LOG_NOTICE, "pins", "%s probe: pinning under %s failed: %s",
			   p->name, dir, strerror(-ret));
}

void daemon_unpin_probe(struct daemon *d, struct dprobe *p)
{
	if (!p->pinned || d->pin_lock_fd < 0)
		return;
	remove_dir(d->pin_lock_fd, p->name);
	p->pinned = false;
}

void daemon_pin_close(struct daemon *d)
{
	int i;

	if (d->pin_lock_fd < 0)
		return;
	for (i = 0; i < DPROBE_COUNT; i++)
		daemon_unpin_probe(d, &d->probes[i]);
	remove_stale(d->pin_lock_fd);
	rmdir(DAEMON_PIN_ROOT);
	close(d->pin_lock_fd);
	d->pin_lock_fd = -1;
}
