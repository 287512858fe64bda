// SPDX-License-Identifier: GPL-2.0
/*
 * Loopback TCP workloads for measuring what network tracing costs:
 *
 *   net_tcp_bench stream SECONDS   bulk transfer, 64 KiB writes: MiB/s
 *   net_tcp_bench rr SECONDS       1-byte request/response: transactions/s
 *   net_tcp_bench crr SECONDS      connect, request, response, close: connections/s
 *
 * A forked server on 127.0.0.1 (a port the kernel picks), one client.
 * Prints two figures: the rate, and the CPU time (user + system, client and
 * server) per operation in microseconds, an operation being a MiB for
 * stream. On a busy machine the rate follows the share of CPU the workload
 * gets; the CPU time per operation much less so. Bounded in time: each run
 * lasts SECONDS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STREAM_CHUNK	(64 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "net_tcp_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listener(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (void *)addr, sizeof(*addr)) || listen(fd, 1024) ||
	    getsockname(fd, (void *)addr, &len))
		die("listen on 127.0.0.1");
	return fd;
}

static int connect_to(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || connect(fd, (const void *)addr, sizeof(*addr)))
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Server: answer every byte of a request with one byte, or swallow a
 * stream, until the peer closes; for crr, one exchange per connection.
 */
static void serve(int lfd, const char *mode)
{
	static char buf[STREAM_CHUNK];
	bool stream = !strcmp(mode, "stream");
	int fd, one = 1;
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while ((n = read(fd, buf, stream ? sizeof(buf) : 1)) > 0)
			if (!stream && write(fd, buf, 1) != 1)
				break;
		close(fd);
	}
	_exit(0);
}

static double cpu_seconds(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double run_stream(const struct sockaddr_in *addr, double secs)
{
	static char buf[STREAM_CHUNK];
	int fd = connect_to(addr);
	double t0 = now(), t;
	uint64_t bytes = 0;
	ssize_t n;

	memset(buf, 'x', sizeof(buf));
	do {
		n = write(fd, buf, sizeof(buf));
		if (n <= 0)
			die("write");
		bytes += (uint64_t)n;
		t = now() - t0;
	} while (t < secs);
	close(fd);
	return (double)bytes / (1024.0 * 1024.0) / t;
}

static void exchange(int fd)
{
	char c = 'x';

	if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
		die("request/response");
}

static double run_rr(const struct sockaddr_in *addr, double secs)
{
	int fd = connect_to(addr);
	double t0 = now(), t;
	uint64_t n = 0;

	do {
		exchange(fd);
		n++;
		t = now() - t0;
	} while (t < secs);
	close(fd);
	return (double)n / t;
}

static double run_crr(const struct sockaddr_in *addr, double secs)
{
	struct linger lg = { 1, 0 };
	double t0 = now(), t;
	uint64_t n = 0;
	int fd;

	do {
		fd = connect_to(addr);
		exchange(fd);
		/* Reset instead of FIN: thousands of TIME_WAIT sockets a second
		 * would exhaust the ephemeral ports of a long run.
		 */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		n++;
		t = now() - t0;
	} while (t < secs);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	double secs, v;
	pid_t server;
	int lfd, st;

	if (argc != 3 || (strcmp(argv[1], "stream") && strcmp(argv[1], "rr") &&
			   strcmp(argv[1], "crr")) || (secs = atof(argv[2])) <= 0 || secs > 600) {
		fprintf(stderr, "usage: net_tcp_bench stream|rr|crr SECONDS (at most 600)\n");
		return 2;
	}
	lfd = listener(&addr);
	server = fork();
	if (server < 0)
		die("fork");
	if (server == 0)
		serve(lfd, argv[1]);
	close(lfd);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[1], "stream"))
		v = run_stream(&addr, secs);
	else if (!strcmp(argv[1], "rr"))
		v = run_rr(&addr, secs);
	else
		v = run_crr(&addr, secs);
	kill(server, SIGTERM);
	waitpid(server, &st, 0);
	/* v is per second over secs (within one operation of it). */
	printf("%.1f %.3f\n", v, (cpu_seconds(RUSAGE_SELF) + cpu_seconds(RUSAGE_CHILDREN)) * 1e6 /
	       (v * secs));
	return 0;
}
