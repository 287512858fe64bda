// SPDX-License-Identifier: GPL-2.0
/* Print the best-of-ROUNDS cost of one getppid call in nanoseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 2000000, i;
	int rounds = argc > 2 ? atoi(argv[2]) : 5, r;
	double best = 1e18;

	for (r = 0; r < rounds; r++) {
		double t0 = now(), per;

		for (i = 0; i < calls; i++)
			syscall(SYS_getppid);
		per = (now() - t0) / (double)calls;
		if (per < best)
			best = per;
	}
	printf("%.1f\n", best);
	return 0;
}
