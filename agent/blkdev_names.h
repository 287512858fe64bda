/* SPDX-License-Identifier: GPL-2.0 */
/* Block devices by name: "loop3" for 7:3 and back. */
#ifndef PERFAGENT_BLKDEV_NAMES_H
#define PERFAGENT_BLKDEV_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The kernel's name of block device major:minor ("nvme0n1", "loop3"), from
 * /sys/dev/block/MAJ:MIN/uevent, else /proc/partitions, else "MAJ:MIN" when
 * the device is gone. Always returns buf.
 */
char *blkdev_name(uint32_t major, uint32_t minor, char *buf, size_t len);

/*
 * Resolve what a user typed for a disk: "loop3", "/dev/loop3" or "7:3".
 * Returns 0 with major:minor set, or -1 with a one-line reason in err
 * (unknown device, or a partition: block requests are counted per disk, so
 * the reason names the disk to use instead).
 */
int blkdev_resolve_disk(const char *arg, uint32_t *major, uint32_t *minor,
			char *err, size_t len);

/* Parse the DEVNAME= line out of a uevent file's text; false when absent. */
bool blkdev_uevent_name(const char *text, char *buf, size_t len);

#endif
