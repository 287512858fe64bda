// SPDX-License-Identifier: GPL-2.0
/*
 * File-I/O workload for tools/bench/disk_overhead.sh: runs for a fixed time
 * and prints its throughput, so the same run with and without the disk
 * probe gives the probe's cost.
 *
 *   disk_workload FILE SECONDS randrw    4 KiB O_DIRECT random reads and
 *                                        writes (70/30) over FILE: one block
 *                                        request per call, the probe's worst
 *                                        case (most requests per second)
 *   disk_workload FILE SECONDS seqwrite  1 MiB buffered writes, fsync every
 *                                        8 MiB, rewinding at the end of FILE
 *
 * Output: one line "ops N bytes N seconds F ops_per_sec F mib_per_sec F".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK		4096
#define SEQ_CHUNK	(1 << 20)
#define SEQ_SYNC	(8 << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift: cheap, reproducible offsets */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int randrw(const char *path, double secs, uint64_t *ops, uint64_t *bytes)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL, blocks;
	double end = now_s() + secs;
	struct stat st;
	void *buf;
	int fd;

	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0 || fstat(fd, &st) || st.st_size < BLOCK || posix_memalign(&buf, BLOCK, BLOCK))
		return -1;
	memset(buf, 0xa5, BLOCK);
	blocks = (uint64_t)st.st_size / BLOCK;
	while (now_s() < end) {
		int i;

		for (i = 0; i < 64; i++) {	/* check the clock every 64 calls */
			uint64_t r = next_rand(&seed);
			off_t off = (off_t)(r % blocks) * BLOCK;
			ssize_t n = (r >> 40) % 10 < 7 ? pread(fd, buf, BLOCK, off)
						       : pwrite(fd, buf, BLOCK, off);

			if (n != BLOCK)
				return -1;
			(*ops)++;
			*bytes += BLOCK;
		}
	}
	free(buf);
	return close(fd);
}

static int seqwrite(const char *path, double secs, uint64_t *ops, uint64_t *bytes)
{
	double end = now_s() + secs;
	uint64_t since_sync = 0;
	struct stat st;
	off_t off = 0;
	char *buf;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0 || fstat(fd, &st) || st.st_size < SEQ_CHUNK || !(buf = malloc(SEQ_CHUNK)))
		return -1;
	memset(buf, 0x5a, SEQ_CHUNK);
	while (now_s() < end) {
		if (off + SEQ_CHUNK > st.st_size)
			off = 0;
		if (pwrite(fd, buf, SEQ_CHUNK, off) != SEQ_CHUNK)
			return -1;
		off += SEQ_CHUNK;
		(*ops)++;
		*bytes += SEQ_CHUNK;
		since_sync += SEQ_CHUNK;
		if (since_sync >= SEQ_SYNC) {
			if (fsync(fd))
				return -1;
			since_sync = 0;
		}
	}
	fsync(fd);
	free(buf);
	return close(fd);
}

int main(int argc, char **argv)
{
	uint64_t ops = 0, bytes = 0;
	double secs, t0, took;
	int ret;

	if (argc != 4 || (secs = atof(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s FILE SECONDS randrw|seqwrite\n", argv[0]);
		return 2;
	}
	t0 = now_s();
	if (!strcmp(argv[3], "randrw"))
		ret = randrw(argv[1], secs, &ops, &bytes);
	else if (!strcmp(argv[3], "seqwrite"))
		ret = seqwrite(argv[1], secs, &ops, &bytes);
	else
		ret = -2;
	took = now_s() - t0;
	if (ret) {
		fprintf(stderr, "%s: %s on %s failed: %s\n", argv[0], argv[3], argv[1],
			ret == -2 ? "unknown mode" : strerror(errno));
		return 1;
	}
	printf("ops %llu bytes %llu seconds %.3f ops_per_sec %.1f mib_per_sec %.2f\n",
	       (unsigned long long)ops, (unsigned long long)bytes, took, (double)ops / took,
	       (double)bytes / took / (1 << 20));
	return 0;
}
