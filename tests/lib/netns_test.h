/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network namespaces for the network tests: a child unshares one and
 * brings its loopback up. Header-only.
 */
#ifndef PERFAGENT_TEST_NETNS_TEST_H
#define PERFAGENT_TEST_NETNS_TEST_H

#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* A new namespace's lo is down. */
static inline int netns_lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!ret)
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return ret;
}

#endif
