// SPDX-License-Identifier: GPL-2.0
/*
 * Space and inodes of every mounted filesystem that holds data, from
 * /proc/self/mountinfo and statvfs(). Left out: pseudo filesystems (proc,
 * sysfs, cgroup, ...), images that are full by design (squashfs, iso9660),
 * network filesystems (statvfs on a dead server blocks the agent), and
 * filesystems that report no size. A filesystem mounted more than once
 * (bind mounts) is reported once, at its first mount point.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "collect_fs.h"

#define MAX_FIELDS 64

static const char *const skipped_types[] = {
	/* pseudo: no data of their own */
	"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs",
	"debugfs", "tracefs", "bpf", "pstore", "configfs", "fusectl", "mqueue",
	"hugetlbfs", "autofs", "binfmt_misc", "efivarfs", "selinuxfs", "rpc_pipefs",
	"nsfs", "ramfs", "nfsd", "sockfs", "pipefs", "fuse.gvfsd-fuse",
	"fuse.portal", "fuse.lxcfs", "rootfs",
	/* read-only images: always "full" */
	"squashfs", "iso9660", "erofs", "cramfs", "udf",
	/* network: statvfs blocks while the server is unreachable */
	"nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "fuse.glusterfs",
	"fuse.sshfs", "9p", "afs", "lustre",
	NULL,
};

struct fs_state {
	uint64_t *seen_dev;		/* major << 32 | minor, this read */
	size_t nseen, cap;
};

static bool skipped_type(const char *type)
{
	size_t i;

	for (i = 0; skipped_types[i]; i++)
		if (strcmp(type, skipped_types[i]) == 0)
			return true;
	return false;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

static int fs_init(struct collector *c, char *err, size_t len)
{
	c->priv = calloc(1, sizeof(struct fs_state));
	if (!c->priv) {
		snprintf(err, len, "fs collector: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void fs_fini(struct collector *c)
{
	struct fs_state *st = c->priv;

	free(st->seen_dev);
	free(st);
}

/* True the first time dev is seen in this read. */
static bool first_mount_of(struct fs_state *st, uint64_t dev)
{
	size_t i;

	for (i = 0; i < st->nseen; i++)
		if (st->seen_dev[i] == dev)
			return false;
	if (st->nseen == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		uint64_t *p = realloc(st->seen_dev, cap * sizeof(*p));

		if (!p)
			return true;	/* report it twice rather than not at all */
		st->seen_dev = p;
		st->cap = cap;
	}
	st->seen_dev[st->nseen++] = dev;
	return true;
}

static void emit_fs(struct collector *c, const char *mnt, const char *dev, const char *type)
{
	char path[PATH_MAX];
	struct statvfs sv;
	double frsize, size, used, avail;

	collect_path(c, mnt, path, sizeof(path));
	if (statvfs(path, &sv)) {
		/* Unmounted between reading mountinfo and now: not an error. */
		if (errno != ENOENT)
			collect_error(c, "statvfs %s: %s", path, strerror(errno));
		return;
	}
	if (sv.f_blocks == 0)
		return;		/* no size: nothing can fill up */
	frsize = sv.f_frsize ? (double)sv.f_frsize : (double)sv.f_bsize;
	size = (double)sv.f_blocks * frsize;
	used = (double)(sv.f_blocks - (sv.f_bfree < sv.f_blocks ? sv.f_bfree : sv.f_blocks)) *
	       frsize;
	avail = (double)sv.f_bavail * frsize;
	collect_emit(c, "fs.size_bytes", size, "mountpoint", mnt, "device", dev, "fstype", type,
		     NULL);
	collect_emit(c, "fs.used_bytes", used, "mountpoint", mnt, "device", dev, "fstype", type,
		     NULL);
	collect_emit(c, "fs.avail_bytes", avail, "mountpoint", mnt, "device", dev, "fstype", type,
		     NULL);
	/* As df's Use%: of what users can have, root's reserve left out. */
	collect_emit(c, "fs.used_ratio", collect_ratio(used, used + avail), "mountpoint", mnt,
		     "device", dev, "fstype", type, NULL);
	collect_emit(c, "fs.readonly", (sv.f_flag & ST_RDONLY) ? 1 : 0, "mountpoint", mnt,
		     "device", dev, "fstype", type, NULL);
	if (sv.f_files == 0)
		return;		/* btrfs and others: inodes are not limited */
	used = (double)(sv.f_files - (sv.f_ffree < sv.f_files ? sv.f_ffree : sv.f_files));
	collect_emit(c, "fs.inodes", (double)sv.f_files, "mountpoint", mnt, "device", dev,
		     "fstype", type, NULL);
	collect_emit(c, "fs.inodes_used", used, "mountpoint", mnt, "device", dev, "fstype", type,
		     NULL);
	collect_emit(c, "fs.inodes_used_ratio", used / (double)sv.f_files, "mountpoint", mnt,
		     "device", dev, "fstype", type, NULL);
}

/*
 * "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
 * (id parent major:minor root mountpoint options [optional...] - type source
 * superoptions). 0, or -1 when the line does not have that shape.
 */
static int parse_mount_line(char *line, uint64_t *dev, char **mnt, char **type,
			    char **source)
{
	char *f[MAX_FIELDS], *p = line, *tok;
	unsigned int major, minor;
	int n = 0, sep;

	while (n < MAX_FIELDS && (tok = strsep(&p, " ")) != NULL)
		if (*tok)
			f[n++] = tok;
	for (sep = 6; sep < n; sep++)
		if (strcmp(f[sep], "-") == 0)
			break;
	if (sep + 2 >= n || sscanf(f[2], "%u:%u", &major, &minor) != 2 || f[4][0] != '/')
		return -1;
	*dev = (uint64_t)major << 32 | minor;
	*mnt = f[4];
	*type = f[sep + 1];
	*source = f[sep + 2];
	unescape(*mnt);
	unescape(*source);
	return 0;
}

static void fs_collect(struct collector *c, uint64_t interval_ns)
{
	struct fs_state *st = c->priv;
	char *text, *line, *mnt, *type, *source, copy[160];
	unsigned int lineno = 0;
	uint64_t dev;

	(void)interval_ns;
	text = collect_read_or_error(c, "/proc/self/mountinfo");
	if (!text)
		return;
	st->nseen = 0;
	for (char *cur = text; (line = collect_next_line(&cur)) != NULL;) {
		lineno++;
		snprintf(copy, sizeof(copy), "%s", line);
		if (parse_mount_line(line, &dev, &mnt, &type, &source)) {
			collect_line_error(c, lineno, "expected \"id parent major:minor root "
					   "mountpoint options ... - type source options\", "
					   "got \"%.80s\"", copy);
			continue;
		}
		if (skipped_type(type) || !first_mount_of(st, dev))
			continue;
		emit_fs(c, mnt, source, type);	/* reads no file: text stays */
	}
}

const struct collector_ops collect_fs_ops = {
	.name = "fs",
	.init = fs_init,
	.collect = fs_collect,
	.fini = fs_fini,
};
