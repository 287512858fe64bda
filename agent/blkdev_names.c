// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blkdev_names.h"

bool blkdev_uevent_name(const char *text, char *buf, size_t len)
{
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, "DEVNAME=", 8)) {
			size_t n = strcspn(p + 8, "\n");

			if (!n || n >= len)
				return false;
			memcpy(buf, p + 8, n);
			buf[n] = '\0';
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

static bool read_small_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n > 0;
}

static bool name_from_sysfs(uint32_t major, uint32_t minor, char *buf, size_t len)
{
	char path[64], text[512];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major, minor);
	return read_small_file(path, text, sizeof(text)) && blkdev_uevent_name(text, buf, len);
}

static bool name_from_partitions(uint32_t major, uint32_t minor, char *buf, size_t len)
{
	FILE *f = fopen("/proc/partitions", "r");
	unsigned int ma, mi;
	char line[256], name[128];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, " %u %u %*u %127s", &ma, &mi, name) == 3 && ma == major &&
		    mi == minor && strlen(name) < len) {
			strcpy(buf, name);
			found = true;
		}
	fclose(f);
	return found;
}

char *blkdev_name(uint32_t major, uint32_t minor, char *buf, size_t len)
{
	if (!name_from_sysfs(major, minor, buf, len) &&
	    !name_from_partitions(major, minor, buf, len))
		snprintf(buf, len, "%u:%u", major, minor);
	return buf;
}

static bool parse_majmin(const char *s, uint32_t *major, uint32_t *minor)
{
	unsigned int ma, mi;
	char end;

	if (sscanf(s, "%u:%u%c", &ma, &mi, &end) != 2)
		return false;
	*major = ma;
	*minor = mi;
	return true;
}

/* /dev/NAME (or any path to a block special file). */
static int from_node(const char *path, uint32_t *major, uint32_t *minor)
{
	struct stat st;

	if (stat(path, &st) || !S_ISBLK(st.st_mode))
		return -1;
	*major = major(st.st_rdev);
	*minor = minor(st.st_rdev);
	return 0;
}

/* /sys/class/block/NAME/dev holds "MAJ:MIN". */
static int from_sysfs_name(const char *name, uint32_t *major, uint32_t *minor)
{
	char path[PATH_MAX], text[64];

	if (strchr(name, '/'))
		return -1;
	snprintf(path, sizeof(path), "/sys/class/block/%s/dev", name);
	if (!read_small_file(path, text, sizeof(text)))
		return -1;
	text[strcspn(text, "\n")] = '\0';
	return parse_majmin(text, major, minor) ? 0 : -1;
}

/* The disk a partition belongs to: its sysfs directory's parent. */
static void parent_disk(uint32_t major, uint32_t minor, char *buf, size_t len)
{
	char path[64], real[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/..", major, minor);
	if (realpath(path, real))
		snprintf(buf, len, "%s", basename(real));
	else
		snprintf(buf, len, "its disk");
}

static bool is_partition(uint32_t major, uint32_t minor)
{
	char path[80];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", major, minor);
	return access(path, F_OK) == 0;
}

static bool exists(uint32_t major, uint32_t minor)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major, minor);
	return access(path, F_OK) == 0;
}

int blkdev_resolve_disk(const char *arg, uint32_t *major, uint32_t *minor,
			char *err, size_t len)
{
	char name[64], disk[64];
	bool found;

	found = parse_majmin(arg, major, minor) ? exists(*major, *minor)
		: from_sysfs_name(arg, major, minor) == 0 || from_node(arg, major, minor) == 0;
	if (!found) {
		snprintf(err, len, "'%s' is not a block device here (give a name from "
			 "/sys/class/block such as sda or loop0, a /dev path, or MAJOR:MINOR)", arg);
		return -1;
	}
	if (is_partition(*major, *minor)) {
		parent_disk(*major, *minor, disk, sizeof(disk));
		snprintf(err, len, "%s is a partition; block requests are counted per disk: "
			 "use -D %s", blkdev_name(*major, *minor, name, sizeof(name)), disk);
		return -1;
	}
	return 0;
}
