// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "bpf_env.h"

#define CAP_SYS_ADMIN_BIT	21
#define CAP_PERFMON_BIT		38
#define CAP_BPF_BIT		39

static bool libbpf_verbose;
static char last_warning[512];

static uint64_t effective_caps(void)
{
	unsigned long long caps = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

int env_check_privileges(char *err, size_t len)
{
	uint64_t caps = effective_caps();
	bool admin = caps & (1ULL << CAP_SYS_ADMIN_BIT);
	bool bpf = caps & (1ULL << CAP_BPF_BIT);
	bool perfmon = caps & (1ULL << CAP_PERFMON_BIT);

	if (admin || (bpf && perfmon))
		return 0;
	snprintf(err, len,
		 "loading BPF programs needs root (CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON); "
		 "run perfagent as root, e.g. with sudo");
	return -1;
}

int env_check_btf(char *err, size_t len)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return 0;
	snprintf(err, len,
		 "this kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing); perfagent "
		 "needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or later)");
	return -1;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list copy;

	if (level == LIBBPF_DEBUG)
		return 0;
	va_copy(copy, ap);
	vsnprintf(last_warning, sizeof(last_warning), fmt, copy);
	va_end(copy);
	last_warning[strcspn(last_warning, "\n")] = '\0';
	if (!libbpf_verbose)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void env_setup_libbpf(bool verbose)
{
	libbpf_verbose = verbose;
	libbpf_set_print(print_libbpf);
}

const char *env_last_libbpf_warning(void)
{
	return last_warning;
}
