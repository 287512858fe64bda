// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <zlib.h>

#include "kernel_config.h"

#define HZ_MAX	100000	/* far above any tick rate Linux allows (1000) */

unsigned int kernel_hz_from(const char *path)
{
	static const char key[] = "CONFIG_HZ=";
	unsigned int hz = 0;
	char line[256], *end;
	unsigned long v;
	gzFile f;

	f = gzopen(path, "rb");	/* reads uncompressed files as they are */
	if (!f)
		return 0;
	while (gzgets(f, line, sizeof(line))) {
		if (strncmp(line, key, sizeof(key) - 1))
			continue;
		errno = 0;
		v = strtoul(line + sizeof(key) - 1, &end, 10);
		if (!errno && end != line + sizeof(key) - 1 && (*end == '\n' || !*end) && v &&
		    v <= HZ_MAX)
			hz = (unsigned int)v;
		break;
	}
	gzclose(f);
	return hz;
}

unsigned int kernel_hz(void)
{
	struct utsname u;
	char path[128 + sizeof(u.release)];
	unsigned int hz = 0;

	if (!uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		hz = kernel_hz_from(path);
	}
	return hz ? hz : kernel_hz_from("/proc/config.gz");
}
