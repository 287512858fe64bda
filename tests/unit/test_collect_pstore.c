// SPDX-License-Identifier: GPL-2.0
/* The pstore collector: crash records reported once, across restarts too. */
#include "check.h"
#include "collect_test.h"

#define SEC 1000000000ULL

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int collect_once(const char *root, const char *state, struct capture *cap)
{
	struct collect_sink sink = cap_sink(cap);
	struct collector *c = open_collector("pstore", root, state);
	int errors;

	if (!c)
		return -1;
	cap_reset(cap);
	errors = collector_collect(c, 0, &sink);
	collector_close(c);
	return errors;
}

static char *read_text(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* dmesg-ramoops-0 is one crash; console-ramoops-0 is no crash record. */
static void t_reported_once_then_not_after_restart(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	const char *fx = fixture("proc-pstore");
	char state[64], saved[1024];
	struct collector *c;

	CHECK(scratch_make(state, sizeof(state)));
	c = open_collector("pstore", fx, state);
	CHECK(c);
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(collector_unavailable(c) == NULL);
	CHECKF(cap.nev == 1, "%zu events", cap.nev);
	CHECK_STREQ(cap.ev[0].kind, "kernel.crash_record");
	CHECK(cap.ev[0].severity == ALERT_CRITICAL);
	CHECK(starts_with(cap.ev[0].message, "crash record from a previous boot: Panic#1 in "
			  "dmesg-ramoops-0 (ramoops, "));
	CHECKF(strstr(cap.ev[0].message, "Z): Kernel panic - not syncing: sysrq triggered crash") &&
	       !strchr(cap.ev[0].message, '\n'), "message: %s", cap.ev[0].message);
	CHECKF(starts_with(cap.ev[0].labels, "record=dmesg-ramoops-0,backend=ramoops,reason=Panic,"
			   "time="), "labels: %s", cap.ev[0].labels);
	CHECK(cap.n == 0 && cap.nerr == 0);
	cap_reset(&cap);
	/* the next interval: nothing new */
	CHECK(collector_collect(c, SEC, &sink) == 0);
	CHECK(cap.nev == 0);
	cap_reset(&cap);
	collector_close(c);

	read_text(state, "pstore-reported", saved, sizeof(saved));
	CHECKF(starts_with(saved, "dmesg-ramoops-0 ") && !strchr(saved, '\n')[1],
	       "state file: %s", saved);

	/* the agent restarts: still nothing */
	CHECK(collect_once(fx, state, &cap) == 0);
	CHECK(cap.nev == 0);
	cap_reset(&cap);
	scratch_remove(state);
}

static int copy_fixture(const char *root, const char *name)
{
	char text[4096], rel[300];

	read_text(fixture("proc-pstore/sys/fs/pstore"), name, text, sizeof(text));
	snprintf(rel, sizeof(rel), "sys/fs/pstore/%s", name);
	return text[0] ? put_file(root, rel, text) : -1;
}

/*
 * Records that appear later are reported when they appear. A dump in two
 * parts is one crash; an orderly restart dump is info, not critical; a new
 * crash under a name seen before (ramoops reuses dmesg-ramoops-0) is news.
 */
static void t_new_records_parts_and_reused_names(void)
{
	struct capture cap = { 0 };
	char state[64], root[64], saved[2048];
	int i_oops = -1, i_restart = -1;
	size_t i;

	CHECK(scratch_make(state, sizeof(state)));
	CHECK(scratch_make(root, sizeof(root)));
	CHECK(copy_fixture(root, "dmesg-ramoops-0") == 0);
	CHECK(collect_once(root, state, &cap) == 0 && cap.nev == 1);

	CHECK(put_file(root, "sys/fs/pstore/dmesg-efi_pstore-170000000022001",
		       "Oops#1 Part2\n<4>[    3.100000] RIP: 0010:do_thing+0x10/0x20\n") == 0);
	CHECK(put_file(root, "sys/fs/pstore/dmesg-efi_pstore-170000000021001",
		       "Oops#1 Part1\n<1>[    3.000000] BUG: kernel NULL pointer dereference, "
		       "address: 0000000000000008\n<4>[    3.000100] Oops: 0002 [#1] SMP\n") == 0);
	CHECK(put_file(root, "sys/fs/pstore/dmesg-efi_pstore-170000000030001",
		       "Restart#1 Part1\n<5>[  100.000000] reboot: Restarting system\n") == 0);
	CHECK(collect_once(root, state, &cap) == 0);
	CHECKF(cap.nev == 2, "%zu events", cap.nev);
	for (i = 0; i < cap.nev; i++) {
		if (strstr(cap.ev[i].labels, "reason=Oops"))
			i_oops = (int)i;
		if (strstr(cap.ev[i].labels, "reason=Restart"))
			i_restart = (int)i;
	}
	CHECK(i_oops >= 0 && i_restart >= 0);
	CHECK(cap.ev[i_oops].severity == ALERT_CRITICAL);
	CHECKF(starts_with(cap.ev[i_oops].labels, "record=dmesg-efi_pstore-170000000021001,"
			   "backend=efi_pstore,reason=Oops,time="), "labels: %s",
	       cap.ev[i_oops].labels);
	CHECKF(strstr(cap.ev[i_oops].message, "Oops#1 in dmesg-efi_pstore-170000000021001 and "
		      "dmesg-efi_pstore-170000000022001 (efi_pstore, ") &&
	       strstr(cap.ev[i_oops].message, "Z): BUG: kernel NULL pointer dereference, address: "
		      "0000000000000008"), "message: %s", cap.ev[i_oops].message);
	CHECK(cap.ev[i_restart].severity == ALERT_INFO);
	CHECK(strstr(cap.ev[i_restart].message, "Restart#1 in dmesg-efi_pstore-170000000030001"));
	CHECK(collect_once(root, state, &cap) == 0 && cap.nev == 0);

	/* another crash, same file name, other contents */
	CHECK(put_file(root, "sys/fs/pstore/dmesg-ramoops-0",
		       "Oops#1 Part1\n<1>[    7.000000] general protection fault, probably for "
		       "non-canonical address 0xdead000000000100: 0000 [#1] SMP\n") == 0);
	CHECK(collect_once(root, state, &cap) == 0);
	CHECKF(cap.nev == 1, "%zu events", cap.nev);
	CHECK(strstr(cap.ev[0].message, "Oops#1 in dmesg-ramoops-0 (ramoops, "));
	CHECK(strstr(cap.ev[0].message, "general protection fault, probably for non-canonical"));

	/* records removed (archived by an admin) are forgotten by the state */
	CHECK(remove(strcat(strcpy(saved, root), "/sys/fs/pstore/dmesg-efi_pstore-170000000030001")) == 0);
	CHECK(collect_once(root, state, &cap) == 0 && cap.nev == 0);
	read_text(state, "pstore-reported", saved, sizeof(saved));
	CHECKF(!strstr(saved, "170000000030001") && strstr(saved, "170000000021001") &&
	       strstr(saved, "dmesg-ramoops-0"), "state file: %s", saved);
	cap_reset(&cap);
	scratch_remove(root);
	scratch_remove(state);
}

static void t_no_pstore_is_not_available(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	char root[64], state[64];
	struct collector *c;

	CHECK(scratch_make(root, sizeof(root)));
	CHECK(scratch_make(state, sizeof(state)));
	c = open_collector("pstore", root, state);
	CHECK(c);
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(collector_unavailable(c) && strstr(collector_unavailable(c), "no pstore filesystem at "));
	CHECK(cap.nev == 1 && strcmp(cap.ev[0].kind, "collector.unavailable") == 0);
	cap_reset(&cap);
	/* mounted later: found then */
	CHECK(copy_fixture(root, "dmesg-ramoops-0") == 0);
	CHECK(collector_collect(c, SEC, &sink) == 0);
	CHECK(collector_unavailable(c) == NULL);
	CHECK(cap.nev == 1 && strcmp(cap.ev[0].kind, "kernel.crash_record") == 0);
	cap_reset(&cap);
	collector_close(c);
	scratch_remove(root);
	scratch_remove(state);
}

/* The host: pstore is mounted or it is not; either way no error. */
static void t_real_host(void)
{
	struct capture cap = { 0 };
	char state[64];

	CHECK(scratch_make(state, sizeof(state)));
	CHECK(collect_once(NULL, state, &cap) == 0);
	CHECK(cap.n == 0);
	cap_reset(&cap);
	scratch_remove(state);
}

int main(void)
{
	RUN(t_reported_once_then_not_after_restart);
	RUN(t_new_records_parts_and_reused_names);
	RUN(t_no_pstore_is_not_available);
	RUN(t_real_host);
	CHECK_EXIT();
}
