// SPDX-License-Identifier: GPL-2.0
/* The generated syscall table against the C library's own numbers. */
#include <sys/syscall.h>

#include "check.h"
#include "syscall_names.h"

static void t_known_numbers(void)
{
	CHECK_STREQ(syscall_name(SYS_read), "read");
	CHECK_STREQ(syscall_name(SYS_getppid), "getppid");
	CHECK_STREQ(syscall_name(SYS_openat), "openat");
	CHECK_STREQ(syscall_name(SYS_clock_nanosleep), "clock_nanosleep");
	CHECK_STREQ(syscall_name(SYS_io_uring_enter), "io_uring_enter");
	CHECK(syscall_lookup("getppid") == SYS_getppid);
	CHECK(syscall_lookup("nanosleep") == SYS_nanosleep);
}

static void t_round_trip(void)
{
	unsigned int nr, named = 0;

	for (nr = 0; nr < 1024; nr++) {
		const char *name = syscall_name(nr);

		if (!name)
			continue;
		named++;
		CHECKF(syscall_lookup(name) == (int)nr, "%s -> %d, want %u", name,
		       syscall_lookup(name), nr);
	}
	CHECKF(named > 300, "only %u syscalls named", named);
}

static void t_unknown(void)
{
	char buf[32];

	CHECK(syscall_lookup("no_such_call") == -1);
	CHECK(syscall_lookup("") == -1);
	CHECK(syscall_name(100000) == NULL);
	CHECK_STREQ(syscall_name_or_nr(511, buf, sizeof(buf)), "syscall_511");
	CHECK(syscall_lookup("syscall_511") == 511);
}

int main(void)
{
	RUN(t_known_numbers);
	RUN(t_round_trip);
	RUN(t_unknown);
	CHECK_EXIT();
}
