// SPDX-License-Identifier: GPL-2.0
/*
 * A workload with a known syscall count, for CLI tests:
 *   syscall_worker GETPPID_CALLS SLEEPS SLEEP_MS
 * waits for one byte on stdin (so a tracer can attach first), makes exactly
 * GETPPID_CALLS getppid calls and SLEEPS nanosleeps of SLEEP_MS, then exits.
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec req;
	long calls, sleeps, i;
	char b;

	if (argc != 4)
		return 2;
	calls = atol(argv[1]);
	sleeps = atol(argv[2]);
	req.tv_sec = 0;
	req.tv_nsec = atol(argv[3]) * 1000000L;
	if (read(0, &b, 1) != 1)
		return 1;
	for (i = 0; i < calls; i++)
		syscall(SYS_getppid);
	for (i = 0; i < sleeps; i++)
		syscall(SYS_nanosleep, &req, NULL);
	return 0;
}
