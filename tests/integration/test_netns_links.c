// SPDX-License-Identifier: GPL-2.0
/*
 * agent/netns_links.c on the running kernel: interface counters of
 * namespaces reached through a process and through /run/netns, against
 * traffic made for the test in fresh namespaces (whose lo starts at zero).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "netns_links.h"
#include "netns_test.h"

#define DATAGRAMS	37
#define PAYLOAD		300
#define IP_UDP_HDRS	28	/* lo counts the IP packet: IPv4 20 + UDP 8 */
#define NETNS_DIR	"/run/netns"

struct ns_child {
	pid_t pid;
	int hold;		/* write end: the child exits when it closes */
	uint32_t netns;
};

/* DATAGRAMS datagrams of PAYLOAD bytes to ourselves over 127.0.0.1. */
static int send_datagrams(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	char buf[PAYLOAD] = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i, ret = -1;

	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)) || getsockname(fd, (void *)&a, &alen))
		goto out;
	for (i = 0; i < DATAGRAMS; i++)
		if (sendto(fd, buf, sizeof(buf), 0, (void *)&a, alen) != PAYLOAD ||
		    recv(fd, buf, sizeof(buf), 0) != PAYLOAD)
			goto out;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* A child in a new namespace that made the test's traffic and waits for
 * hold to close. Returns -1 when namespaces cannot be made here.
 */
static int spawn(struct ns_child *c)
{
	int hold[2], ready[2];
	struct stat st;
	char path[64], b = 'e';

	if (pipe(hold) || pipe(ready))
		abort();
	c->pid = fork();
	if (c->pid == 0) {
		close(hold[1]);
		close(ready[0]);
		if (!unshare(CLONE_NEWNET) && !netns_lo_up() && !send_datagrams())
			b = 'r';
		if (write(ready[1], &b, 1) != 1)
			_exit(1);
		while (read(hold[0], &b, 1) > 0)
			;
		_exit(0);
	}
	close(hold[0]);
	close(ready[1]);
	c->hold = hold[1];
	if (read(ready[0], &b, 1) != 1)
		b = 'e';
	close(ready[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", c->pid);
	if (b != 'r' || stat(path, &st)) {
		close(c->hold);
		waitpid(c->pid, NULL, 0);
		return -1;
	}
	c->netns = (uint32_t)st.st_ino;
	return 0;
}

static void dismiss(struct ns_child *c)
{
	close(c->hold);
	waitpid(c->pid, NULL, 0);
}

static const struct netns_link *find(const struct netns_links *l, uint32_t netns,
				     const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].netns == netns && !strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

static void check_test_traffic(const struct netns_links *l, uint32_t netns)
{
	const struct netns_link *lo = find(l, netns, "lo");
	uint64_t bytes = DATAGRAMS * (PAYLOAD + IP_UDP_HDRS);

	CHECKF(lo != NULL, "no lo in namespace %u among %zu links", netns, l->n);
	if (!lo)
		return;
	CHECKF(lo->ifindex == 1, "lo has ifindex %u", lo->ifindex);
	CHECKF(lo->rx_packets == DATAGRAMS && lo->tx_packets == DATAGRAMS,
	       "packets rx %llu tx %llu, sent %d", (unsigned long long)lo->rx_packets,
	       (unsigned long long)lo->tx_packets, DATAGRAMS);
	CHECKF(lo->rx_bytes == bytes && lo->tx_bytes == bytes, "bytes rx %llu tx %llu, sent %llu",
	       (unsigned long long)lo->rx_bytes, (unsigned long long)lo->tx_bytes,
	       (unsigned long long)bytes);
}

static void t_process_namespace(void)
{
	struct netns_links l = { 0 };
	struct ns_child c;
	char err[128];

	if (geteuid())
		SKIP("needs root");
	if (spawn(&c))
		SKIP("cannot make a network namespace here");
	CHECKF(netns_links_read(0, &l, err, sizeof(err)) == 0, "%s", err);
	check_test_traffic(&l, c.netns);
	dismiss(&c);
	netns_links_free(&l);
}

/* Only the namespace asked for, and only while it exists. */
static void t_one_namespace(void)
{
	struct netns_links l = { 0 };
	struct ns_child c;
	char err[128];
	size_t i;

	if (geteuid())
		SKIP("needs root");
	if (spawn(&c))
		SKIP("cannot make a network namespace here");
	CHECKF(netns_links_read(c.netns, &l, err, sizeof(err)) == 0, "%s", err);
	CHECKF(l.n == 1, "%zu links in a namespace that has only lo", l.n);
	for (i = 0; i < l.n; i++)
		CHECKF(l.v[i].netns == c.netns, "link %s of namespace %u", l.v[i].name,
		       l.v[i].netns);
	check_test_traffic(&l, c.netns);
	dismiss(&c);
	CHECKF(netns_links_read(c.netns, &l, err, sizeof(err)) == 0, "%s", err);
	CHECKF(l.n == 0, "%zu links of a namespace that is gone", l.n);
	netns_links_free(&l);
}

/* A namespace no process is in, held by a name as 'ip netns add' makes. */
static void t_named_namespace(void)
{
	struct netns_links l = { 0 };
	char path[96], err[128];
	struct ns_child c;
	int fd, mounted;

	if (geteuid())
		SKIP("needs root");
	if (spawn(&c))
		SKIP("cannot make a network namespace here");
	mkdir(NETNS_DIR, 0755);
	snprintf(path, sizeof(path), NETNS_DIR "/perfagent-test-%d", (int)getpid());
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd >= 0)
		close(fd);
	snprintf(err, sizeof(err), "/proc/%d/ns/net", c.pid);
	mounted = fd >= 0 && mount(err, path, "none", MS_BIND, NULL) == 0;
	dismiss(&c);		/* no process is left in it */
	if (!mounted) {
		unlink(path);
		SKIP("cannot bind-mount a namespace on %s: %s", path, strerror(errno));
	}
	CHECKF(netns_links_read(0, &l, err, sizeof(err)) == 0, "%s", err);
	check_test_traffic(&l, c.netns);
	umount2(path, MNT_DETACH);
	unlink(path);
	netns_links_free(&l);
}

static void t_own_namespace(void)
{
	struct netns_links l = { 0 };
	char err[128];
	struct stat st;

	if (geteuid())
		SKIP("needs root");
	CHECK(stat("/proc/self/ns/net", &st) == 0);
	CHECKF(netns_links_read((uint32_t)st.st_ino, &l, err, sizeof(err)) == 0, "%s", err);
	CHECKF(find(&l, (uint32_t)st.st_ino, "lo") != NULL, "no lo of our own namespace");
	CHECK(l.unreadable == 0);
	netns_links_free(&l);
}

int main(void)
{
	RUN(t_process_namespace);
	RUN(t_one_namespace);
	RUN(t_named_namespace);
	RUN(t_own_namespace);
	CHECK_EXIT();
}
