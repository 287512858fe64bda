// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "kernel_config.h"

static char dir[] = "/tmp/perfagent-kconfig-XXXXXX";
static char path[sizeof(dir) + 32];

/* Write text to a file in dir, gzip-compressed or not; returns its path. */
static const char *config_file(const char *text, int gz)
{
	static int n;

	snprintf(path, sizeof(path), "%s/config-%d%s", dir, n++, gz ? ".gz" : "");
	if (gz) {
		gzFile f = gzopen(path, "wb");

		if (!f || gzputs(f, text) < 0 || gzclose(f) != Z_OK)
			abort();
	} else {
		FILE *f = fopen(path, "w");

		if (!f || fputs(text, f) < 0 || fclose(f))
			abort();
	}
	return path;
}

static const char config[] = "# Timer frequency\n"
			     "CONFIG_HZ_250=y\n"
			     "# CONFIG_HZ_1000 is not set\n"
			     "CONFIG_HZ=250\n"
			     "CONFIG_SCHED_HRTICK=y\n";

static void t_plain_and_compressed(void)
{
	CHECK(kernel_hz_from(config_file(config, 0)) == 250);
	CHECK(kernel_hz_from(config_file(config, 1)) == 250);
	CHECK(kernel_hz_from(config_file("CONFIG_HZ=1000", 0)) == 1000);	/* no newline */
}

static void t_unknown_is_zero(void)
{
	CHECK(kernel_hz_from("/nonexistent/config") == 0);
	CHECK(kernel_hz_from(config_file("CONFIG_HZ_250=y\n", 0)) == 0);
	CHECK(kernel_hz_from(config_file("CONFIG_HZ=\n", 0)) == 0);
	CHECK(kernel_hz_from(config_file("CONFIG_HZ=250Hz\n", 0)) == 0);
	CHECK(kernel_hz_from(config_file("CONFIG_HZ=0\n", 0)) == 0);
	CHECK(kernel_hz_from(config_file("CONFIG_HZ=99999999999999999999\n", 0)) == 0);
	CHECK(kernel_hz_from(config_file("", 1)) == 0);
}

/* Whatever the running kernel says, it is a tick rate Linux can have. */
static void t_running_kernel(void)
{
	unsigned int hz = kernel_hz();

	CHECKF(hz == 0 || (hz >= 24 && hz <= 1200), "CONFIG_HZ=%u", hz);
}

int main(void)
{
	char cmd[sizeof(dir) + 16];
	int ret;

	if (!mkdtemp(dir))
		abort();
	RUN(t_plain_and_compressed);
	RUN(t_unknown_is_zero);
	RUN(t_running_kernel);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ret = system(cmd);
	(void)ret;
	CHECK_EXIT();
}
