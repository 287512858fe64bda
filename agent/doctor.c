// SPDX-License-Identifier: GPL-2.0
/* perfagent doctor [--json]: a capability report, source by source. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cJSON.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "bpf_env.h"
#include "btf_enums.h"
#include "cli.h"
#include "disk_ops.h"
#include "doctor.h"
#include "perfagent/genl.h"
#include "syscall.h"
#include "tracefs.h"

/* One row per source, in the order shown. */
static const struct doctor_check checks[] = {
	{ "syscalls", "per-syscall counts, errors, latency", doctor_check_syscalls },
	{ "disk", "block I/O per disk and operation, slow and failed I/O", doctor_check_disk },
	{ "net", "per-interface traffic, TCP connects, retransmits, resets, drops", doctor_check_net },
	{ "health-bpf", "IRQ and soft-IRQ time, device errors, OOM kills, error reports",
	  doctor_check_health_bpf },
	{ "kmod", "kernel module: devices, drivers, links, modules, oopses", doctor_check_kmod },
};

#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

static void add_note(struct doctor_result *r, const char *fmt, va_list ap)
{
	if (r->nnotes >= DOCTOR_MAX_NOTES)
		return;
	vsnprintf(r->notes[r->nnotes++], DOCTOR_NOTE_LEN, fmt, ap);
}

void doctor_note(struct doctor_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_note(r, fmt, ap);
	va_end(ap);
}

void doctor_degraded(struct doctor_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->state == DOCTOR_ACTIVE)
		r->state = DOCTOR_DEGRADED;
	va_start(ap, fmt);
	add_note(r, fmt, ap);
	va_end(ap);
}

void doctor_inactive(struct doctor_result *r, const char *fmt, ...)
{
	va_list ap;

	r->state = DOCTOR_INACTIVE;
	va_start(ap, fmt);
	add_note(r, fmt, ap);
	va_end(ap);
}

void doctor_mechanism(struct doctor_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->mechanism, sizeof(r->mechanism), fmt, ap);
	va_end(ap);
}

bool doctor_bpf_ready(struct doctor_result *r)
{
	char err[512];

	if (env_check_privileges(err, sizeof(err))) {
		doctor_inactive(r, "not privileged: %s", err);
		return false;
	}
	if (env_check_btf(err, sizeof(err))) {
		doctor_inactive(r, "no BTF: %s", err);
		return false;
	}
	return true;
}

static void ignore_event(void *ctx, const struct pa_syscall_event *e)
{
	(void)ctx;
	(void)e;
}

/* Loaded and attached for real, then detached: what a run would get. */
void doctor_check_syscalls(struct doctor_result *r)
{
	struct syscall_probe_opts o = { 0 };
	struct syscall_probe *p;
	char err[512];

	if (!doctor_bpf_ready(r))
		return;
	if (!tracepoint_exists("raw_syscalls", "sys_enter") ||
	    !tracepoint_exists("raw_syscalls", "sys_exit")) {
		doctor_inactive(r, "tracepoint raw_syscalls:sys_enter/sys_exit missing "
				"(CONFIG_FTRACE_SYSCALLS off)");
		return;
	}
	if (syscall_probe_open(&p, &o, ignore_event, NULL, err, sizeof(err))) {
		doctor_inactive(r, "%s", err);
		return;
	}
	doctor_mechanism(r, "%s", syscall_probe_describe(p));
	syscall_probe_close(p);
	if (strstr(r->mechanism, "perf buffer"))
		doctor_note(r, "fallback: perf buffer (no BPF ring buffer)");
	if (strstr(r->mechanism, "thread hash"))
		doctor_note(r, "fallback: start times in a hash by thread id (no task storage)");
}

static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* Whether the module's generic netlink family answers. */
static bool genl_family_registered(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	bool found = false;

	if (!sk)
		return false;
	if (genl_connect(sk) == 0)
		found = genl_ctrl_resolve(sk, PA_GENL_NAME) >= 0;
	nl_socket_free(sk);
	return found;
}

void doctor_check_kmod(struct doctor_result *r)
{
	char version[64];

	if (access("/proc/modules", F_OK) != 0) {
		doctor_inactive(r, "this kernel cannot load modules (CONFIG_MODULES is off); "
				"the BPF sources work without it");
		return;
	}
	if (access("/sys/module/perfagent", F_OK) != 0) {
		doctor_inactive(r, "kernel module not loaded: install it with DKMS and run "
				"'modprobe perfagent' (see README)");
		return;
	}
	if (read_line("/sys/module/perfagent/version", version, sizeof(version)))
		doctor_mechanism(r, "module perfagent %s, generic netlink", version);
	else
		doctor_mechanism(r, "module perfagent, generic netlink");
	if (!genl_family_registered())
		doctor_degraded(r, "module loaded but its generic netlink family '%s' does not "
				"answer", PA_GENL_NAME);
}

/* ---- the machine ------------------------------------------------------ */

struct env_item {
	const char *name;
	bool ok;
	char detail[512];
};

#define NENV 6

static void env_item(struct env_item *e, const char *name, bool ok, const char *detail)
{
	e->name = name;
	e->ok = ok;
	snprintf(e->detail, sizeof(e->detail), "%s", detail);
}

/* A BPF map type the kernel can create; unknown without privileges. */
static void map_type_item(struct env_item *e, const char *name, bool priv,
			  enum bpf_map_type type, const char *yes, const char *no)
{
	bool ok = priv && libbpf_probe_bpf_map_type(type, NULL) > 0;

	env_item(e, name, ok, ok ? yes : priv ? no : "not checked: not privileged");
}

static void check_env(struct env_item *e)
{
	char err[512], tfs_err[512];
	bool priv = env_check_privileges(err, sizeof(err)) == 0;
	const char *tfs = priv ? tracefs_ensure(tfs_err, sizeof(tfs_err)) : NULL;

	env_item(&e[0], "privileges", priv, priv ? "CAP_SYS_ADMIN or CAP_BPF + CAP_PERFMON" : err);
	env_item(&e[1], "btf", env_check_btf(err, sizeof(err)) == 0, "");
	snprintf(e[1].detail, sizeof(e[1].detail), "%s", e[1].ok ? "/sys/kernel/btf/vmlinux" : err);
	env_item(&e[2], "tracefs", tfs != NULL,
		 tfs ? tfs : priv ? tfs_err : "not checked: not privileged");
	map_type_item(&e[3], "ring_buffer", priv, BPF_MAP_TYPE_RINGBUF, "BPF ring buffer",
		      "absent: events go through perf buffers");
	map_type_item(&e[4], "task_storage", priv, BPF_MAP_TYPE_TASK_STORAGE, "BPF task storage",
		      "absent: per-thread state in hash maps");
	env_item(&e[5], "kernel_modules", access("/proc/modules", F_OK) == 0, "");
	snprintf(e[5].detail, sizeof(e[5].detail), "%s",
		 e[5].ok ? "loadable modules supported" : "CONFIG_MODULES is off");
}

static const char *state_name(enum doctor_state s)
{
	return s == DOCTOR_ACTIVE ? "active" : s == DOCTOR_DEGRADED ? "degraded" : "inactive";
}

static void print_text(const struct utsname *u, const struct env_item *env,
		       const struct doctor_result *res)
{
	size_t i;
	int n;

	printf("perfagent %s on Linux %s (%s)\n\nMachine:\n", PERFAGENT_VERSION, u->release,
	       u->machine);
	for (i = 0; i < NENV; i++)
		printf("  %-16s %-4s %s\n", env[i].name, env[i].ok ? "yes" : "no", env[i].detail);
	printf("\nSources:\n");
	for (i = 0; i < NCHECKS; i++) {
		const struct doctor_result *r = &res[i];

		printf("  %-10s %-9s %s\n", checks[i].source, state_name(r->state),
		       *r->mechanism ? r->mechanism : checks[i].watches);
		for (n = 0; n < r->nnotes; n++)
			printf("  %-10s %-9s - %s\n", "", "", r->notes[n]);
	}
}

static void print_json(const struct utsname *u, const struct env_item *env,
		       const struct doctor_result *res)
{
	cJSON *o = cJSON_CreateObject(), *k, *arr, *src, *notes;
	char *s;
	size_t i;
	int n;

	cJSON_AddStringToObject(o, "type", "doctor");
	cJSON_AddStringToObject(o, "version", PERFAGENT_VERSION);
	k = cJSON_AddObjectToObject(o, "kernel");
	cJSON_AddStringToObject(k, "release", u->release);
	cJSON_AddStringToObject(k, "machine", u->machine);
	arr = cJSON_AddArrayToObject(o, "machine");
	for (i = 0; i < NENV; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "name", env[i].name);
		cJSON_AddBoolToObject(e, "ok", env[i].ok);
		cJSON_AddStringToObject(e, "detail", env[i].detail);
		cJSON_AddItemToArray(arr, e);
	}
	arr = cJSON_AddArrayToObject(o, "sources");
	for (i = 0; i < NCHECKS; i++) {
		src = cJSON_CreateObject();
		cJSON_AddStringToObject(src, "name", checks[i].source);
		cJSON_AddStringToObject(src, "watches", checks[i].watches);
		cJSON_AddStringToObject(src, "state", state_name(res[i].state));
		cJSON_AddBoolToObject(src, "active", res[i].state != DOCTOR_INACTIVE);
		cJSON_AddStringToObject(src, "mechanism", res[i].mechanism);
		notes = cJSON_AddArrayToObject(src, "notes");
		for (n = 0; n < res[i].nnotes; n++)
			cJSON_AddItemToArray(notes, cJSON_CreateString(res[i].notes[n]));
		cJSON_AddItemToArray(arr, src);
	}
	s = cJSON_PrintUnformatted(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: perfagent doctor [--json]\n"
		"\n"
		"Report what perfagent can watch on this machine: for each source, whether it\n"
		"is active, degraded (runs with part of its data missing) or inactive, how it\n"
		"runs (attach type, ring or perf buffer) and why not (tracepoint missing, no\n"
		"BTF, not privileged, kernel module not loaded). BPF sources are loaded and\n"
		"attached for a moment to check. Exit status 0 whenever the report is printed.\n"
		"\n"
		"  -j, --json   one JSON object\n");
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor_result res[NCHECKS];
	struct env_item env[NENV];
	struct utsname u;
	bool json = false;
	size_t i;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-j") || !strcmp(argv[a], "--json")) {
			json = true;
		} else if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			usage(stdout);
			return 0;
		} else {
			cli_error("unknown option '%s' (see 'perfagent doctor --help')", argv[a]);
			return EXIT_USAGE;
		}
	}
	env_setup_libbpf(cli_verbose);
	uname(&u);
	check_env(env);
	memset(res, 0, sizeof(res));
	for (i = 0; i < NCHECKS; i++)
		checks[i].check(&res[i]);
	if (json)
		print_json(&u, env, res);
	else
		print_text(&u, env, res);
	disk_ops_kernel_release();
	btf_vmlinux_release();
	return 0;
}
