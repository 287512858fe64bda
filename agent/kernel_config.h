/* SPDX-License-Identifier: GPL-2.0 */
/* Values from the running kernel's build configuration. */
#ifndef PERFAGENT_KERNEL_CONFIG_H
#define PERFAGENT_KERNEL_CONFIG_H

/* CONFIG_HZ (timer ticks per second, the rate jiffies advance) from
 * /boot/config-RELEASE or /proc/config.gz; 0 when neither says.
 */
unsigned int kernel_hz(void);

/* The same from one config file, plain or gzip-compressed. */
unsigned int kernel_hz_from(const char *path);

#endif
