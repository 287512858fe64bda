// SPDX-License-Identifier: GPL-2.0
/*
 * Interface traffic from the counters the kernel keeps anyway. Counting
 * the same packets in BPF took two program runs per packet, most of the
 * network probe's cost under connection churn; reading the counters once
 * per interval costs nothing per packet.
 *
 * A netlink socket answers for the namespace it was created in, and
 * setns() moves only the calling thread: each namespace is entered and
 * dumped from a short-lived thread of its own, never the agent's main one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "grow.h"
#include "netns_links.h"

#define NETNS_RUN_DIR	"/run/netns"
#define DUMP_ATTEMPTS	3	/* a dump interrupted by link changes is retried */

struct ns_ref {
	uint32_t inode;
	int fd;
};

struct ns_set {
	struct ns_ref *v;
	size_t n, cap;
	uint32_t only;		/* 0 = every namespace */
};

static int ns_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool ns_known(const struct ns_set *s, uint32_t inode)
{
	return s->n && bsearch(&inode, s->v, s->n, sizeof(*s->v), ns_cmp);
}

static int ns_insert(struct ns_set *s, uint32_t inode, int fd)
{
	struct ns_ref *v = grow(s->v, &s->cap, s->n + 1, sizeof(*v));
	size_t i;

	if (!v)
		return -ENOMEM;
	s->v = v;
	for (i = s->n; i > 0 && s->v[i - 1].inode > inode; i--)
		s->v[i] = s->v[i - 1];
	s->v[i] = (struct ns_ref){ .inode = inode, .fd = fd };
	s->n++;
	return 0;
}

/* stat() first: most processes share a namespace already known, and
 * opening one file per process would cost more than the whole read.
 */
static int ns_add_path(struct ns_set *s, const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) || (s->only && st.st_ino != s->only) || ns_known(s, st.st_ino))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* the process left meanwhile */
	/* The pid may have been reused between stat and open. */
	if (fstat(fd, &st) || (s->only && st.st_ino != s->only) || ns_known(s, st.st_ino)) {
		close(fd);
		return 0;
	}
	if (ns_insert(s, (uint32_t)st.st_ino, fd)) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Every entry of DIR (only numeric ones when pids), as DIR/NAME/SUFFIX. */
static int ns_add_dir(struct ns_set *s, const char *dir, bool pids, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[320];
	int ret = 0;

	if (!d)
		return 0;	/* no named namespaces: /run/netns does not exist */
	while (!ret && (e = readdir(d))) {
		if (e->d_name[0] == '.' || (pids && !all_digits(e->d_name)))
			continue;
		snprintf(path, sizeof(path), "%s/%s%s", dir, e->d_name, suffix);
		ret = ns_add_path(s, path);
		if (s->only && s->n)
			break;
	}
	closedir(d);
	return ret;
}

static int ns_find_all(struct ns_set *s)
{
	int ret = ns_add_path(s, "/proc/self/ns/net");

	if (!ret && !(s->only && s->n))
		ret = ns_add_dir(s, NETNS_RUN_DIR, false, "");
	if (!ret && !(s->only && s->n))
		ret = ns_add_dir(s, "/proc", true, "/ns/net");
	return ret;
}

static void ns_set_free(struct ns_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		close(s->v[i].fd);
	free(s->v);
}

/* ---- one namespace's links over rtnetlink ---- */

struct dump {
	struct netns_links *l;
	uint32_t netns;
	int err;
};

static struct netns_link *link_slot(struct netns_links *l)
{
	struct netns_link *v = grow(l->v, &l->cap, l->n + 1, sizeof(*v));

	if (!v)
		return NULL;
	l->v = v;
	return &l->v[l->n++];
}

static int on_link(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct rtnl_link_stats64 st = { 0 };
	struct nlattr *tb[IFLA_MAX + 1];
	struct dump *d = arg;
	struct netns_link *k;
	struct ifinfomsg *ifi;
	int n;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME] ||
	    !tb[IFLA_STATS64])
		return NL_SKIP;
	ifi = nlmsg_data(nlh);
	/* Kernels add fields at the end: older ones send a shorter struct. */
	n = nla_len(tb[IFLA_STATS64]);
	memcpy(&st, nla_data(tb[IFLA_STATS64]), n < (int)sizeof(st) ? (size_t)n : sizeof(st));
	k = link_slot(d->l);
	if (!k) {
		d->err = -ENOMEM;
		return NL_STOP;
	}
	*k = (struct netns_link){ .netns = d->netns, .ifindex = (uint32_t)ifi->ifi_index,
				  .rx_packets = st.rx_packets, .rx_bytes = st.rx_bytes,
				  .tx_packets = st.tx_packets, .tx_bytes = st.tx_bytes };
	nla_strlcpy(k->name, tb[IFLA_IFNAME], sizeof(k->name));
	return NL_OK;
}

/* Dump the links of the calling thread's namespace: 0, -ENOMEM, or 1 when
 * netlink failed there (nothing of it kept).
 */
static int dump_links(struct netns_links *l, uint32_t netns)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct dump d = { .l = l, .netns = netns };
	struct nl_sock *sk = nl_socket_alloc();
	size_t mark = l->n;
	int ret, i;

	if (!sk)
		return -ENOMEM;
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (!ret)
		ret = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_link, &d);
	for (i = 0; !ret && i < DUMP_ATTEMPTS; i++) {
		l->n = mark;
		ret = nl_send_simple(sk, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi));
		if (ret >= 0)
			ret = nl_recvmsgs_default(sk);
		if (d.err)
			break;
		if (ret == -NLE_DUMP_INTR)
			ret = 0;	/* links changed during the dump: again */
		else
			break;
	}
	nl_socket_free(sk);
	if (d.err)
		return d.err;
	if (ret < 0)
		l->n = mark;
	return ret < 0 ? 1 : 0;
}

struct read_job {
	const struct ns_set *ns;
	struct netns_links *l;
	int err;
};

static void *read_namespaces(void *arg)
{
	struct read_job *j = arg;
	size_t i;
	int ret;

	for (i = 0; i < j->ns->n && !j->err; i++) {
		if (setns(j->ns->v[i].fd, CLONE_NEWNET)) {
			j->l->unreadable++;
			continue;
		}
		ret = dump_links(j->l, j->ns->v[i].inode);
		if (ret < 0)
			j->err = ret;
		else if (ret)
			j->l->unreadable++;
	}
	return NULL;
}

int netns_links_read(uint32_t only_netns, struct netns_links *l, char *err, size_t len)
{
	struct ns_set ns = { .only = only_netns };
	struct read_job job = { .ns = &ns, .l = l };
	pthread_t t;
	int ret;

	l->n = 0;
	l->unreadable = 0;
	ret = ns_find_all(&ns);
	if (!ret && ns.n) {
		ret = -pthread_create(&t, NULL, read_namespaces, &job);
		if (!ret) {
			pthread_join(t, NULL);
			ret = job.err;
		}
	}
	ns_set_free(&ns);
	if (ret)
		snprintf(err, len, "interface counters: %s", strerror(-ret));
	return ret;
}

void netns_links_free(struct netns_links *l)
{
	free(l->v);
	*l = (struct netns_links){ 0 };
}
