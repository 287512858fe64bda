// SPDX-License-Identifier: GPL-2.0
/* The fs collector: which mounts count (fixture), and a real tmpfs. */
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "check.h"
#include "collect_test.h"

#define MiB (1024.0 * 1024.0)

/*
 * Of the fixture's mounts only / and "/mnt/my data" count: proc and sysfs
 * are pseudo, /bind is / again, squashfs is full by design, nfs4 could
 * block, /gone has vanished, and line 5 is not a mount.
 */
static void t_fixture_mounts_filtered(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("fs", fixture("proc-fs"), "/nonexistent");
	struct statvfs sv;
	int errors;

	CHECK(c);
	errors = collector_collect(c, 0, &sink);
	CHECKF(errors == 1, "%d errors", errors);
	CHECK(cap_error(&cap, "proc-fs/proc/self/mountinfo:5: expected \"id parent "
			"major:minor root mountpoint options ... - type source options\", "
			"got \"this line is not a mount\"") >= 0);
	CHECKF(cap_count(&cap, "fs.size_bytes") == 2, "%zu filesystems",
	       cap_count(&cap, "fs.size_bytes"));
	CHECK(cap_has(&cap, "fs.size_bytes{device=/dev/sda1,fstype=ext4,mountpoint=/}"));
	CHECK(cap_has(&cap, "fs.size_bytes{device=/dev/sdb1,fstype=xfs,mountpoint=/mnt/my data}"));
	/* both are directories of the fixture tree: the filesystem it lives on */
	CHECK(statvfs(fixture("proc-fs/mnt/my data"), &sv) == 0);
	CHECK(cap_get(&cap, "fs.size_bytes{device=/dev/sdb1,fstype=xfs,mountpoint=/mnt/my data}") ==
	      (double)sv.f_blocks * sv.f_frsize);
	CHECK(cap_get(&cap, "fs.readonly{device=/dev/sda1,fstype=ext4,mountpoint=/}") ==
	      ((sv.f_flag & ST_RDONLY) ? 1 : 0));
	CHECK(cap_count(&cap, "fs.used_ratio") == 2);
	cap_reset(&cap);
	collector_close(c);
}

static int write_file(const char *path, size_t bytes)
{
	static char block[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		return -1;
	memset(block, 'x', sizeof(block));
	while (done < bytes) {
		size_t n = bytes - done < sizeof(block) ? bytes - done : sizeof(block);

		if (write(fd, block, n) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		done += n;
	}
	fsync(fd);
	return close(fd);
}

static double fs_value(const struct capture *cap, const char *metric, const char *mnt)
{
	char key[METRIC_KEY_MAX];

	snprintf(key, sizeof(key), "%s{device=perfagent-test,fstype=tmpfs,mountpoint=%s}",
		 metric, mnt);
	return cap_get(cap, key);
}

/* Checks inside the mounted section record the first failure and jump to
 * the unmount, so a failing test leaves no mount behind.
 */
#define MUST(cond, ...)                                                        \
	do {                                                                   \
		if (!(cond)) {                                                 \
			snprintf(failed, sizeof(failed), __VA_ARGS__);         \
			goto out;                                              \
		}                                                              \
	} while (0)

/*
 * A 16M tmpfs of our own: size exact; writing a 5 MiB file moves used bytes
 * by 5 MiB (within a page), available bytes down as much, inodes used by
 * one; remounted read-only it says so.
 */
static void t_real_tmpfs_usage_moves(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = NULL;
	double size, used0, avail0, inodes0, used1, avail1, inodes1;
	double page = (double)sysconf(_SC_PAGESIZE);
	char dir[64], file[96], failed[256] = "";

	CHECK(scratch_make(dir, sizeof(dir)));
	if (mount("perfagent-test", dir, "tmpfs", 0, "size=16M,mode=0700")) {
		int e = errno;

		rmdir(dir);
		SKIP("cannot mount a tmpfs: %s", strerror(e));
	}
	c = open_collector("fs", NULL, NULL);
	MUST(c, "collector_open failed");
	MUST(collector_collect(c, 0, &sink) == 0, "errors on the first read");
	size = fs_value(&cap, "fs.size_bytes", dir);
	used0 = fs_value(&cap, "fs.used_bytes", dir);
	avail0 = fs_value(&cap, "fs.avail_bytes", dir);
	inodes0 = fs_value(&cap, "fs.inodes_used", dir);
	MUST(size == 16 * MiB, "size %g, not 16M (tmpfs %s not reported?)", size, dir);

	snprintf(file, sizeof(file), "%s/five-mib", dir);
	MUST(write_file(file, 5 * 1024 * 1024) == 0, "write %s: %s", file, strerror(errno));
	cap_reset(&cap);
	MUST(collector_collect(c, 1000000000ULL, &sink) == 0, "errors on the second read");
	used1 = fs_value(&cap, "fs.used_bytes", dir);
	avail1 = fs_value(&cap, "fs.avail_bytes", dir);
	inodes1 = fs_value(&cap, "fs.inodes_used", dir);
	MUST(fabs(used1 - used0 - 5 * MiB) <= page, "used %g -> %g after writing 5 MiB", used0,
	     used1);
	MUST(fabs(avail0 - avail1 - 5 * MiB) <= page, "avail %g -> %g after writing 5 MiB",
	     avail0, avail1);
	MUST(inodes1 == inodes0 + 1, "inodes used %g -> %g after one file", inodes0, inodes1);
	MUST(NEAR(fs_value(&cap, "fs.used_ratio", dir), used1 / (used1 + avail1)),
	     "used ratio %g", fs_value(&cap, "fs.used_ratio", dir));
	MUST(fs_value(&cap, "fs.readonly", dir) == 0, "read-write mount reported read-only");

	MUST(mount("perfagent-test", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL) == 0, "remount ro: %s",
	     strerror(errno));
	cap_reset(&cap);
	collector_collect(c, 1000000000ULL, &sink);
	MUST(fs_value(&cap, "fs.readonly", dir) == 1, "read-only remount not seen");
out:
	collector_close(c);
	cap_reset(&cap);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	CHECKF(!failed[0], "%s", failed);
}

int main(void)
{
	RUN(t_fixture_mounts_filtered);
	RUN(t_real_tmpfs_usage_moves);
	CHECK_EXIT();
}
