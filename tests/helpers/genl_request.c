// SPDX-License-Identifier: GPL-2.0
/*
 * genl_request: send one hand-made generic netlink request, well-formed or
 * not, and report how the kernel answered. The kernel module tests use it
 * to check that malformed requests are refused with an extended ack
 * message, and that unprivileged callers are refused.
 *
 *   genl_request [-d] [-r RESERVED] [-a TYPE:KIND:VALUE]... FAMILY CMD
 *   genl_request -j GROUP FAMILY
 *
 *   -j   join the family's multicast group GROUP instead of sending a command
 *   -d   dump request (NLM_F_DUMP)
 *   -r   value of the generic netlink header's reserved field
 *   -a   an attribute; KIND is u8, u16, u32, u64, str (NUL-terminated),
 *        raw (the string's bytes, no NUL) or hex (e.g. "0a0b")
 *
 * Prints one line: "result=ok replies=N" ("result=ok joined" for -j), or
 * "result=error errno=N name=ENAME extack=MESSAGE". Exit status: 0 ok,
 * 1 refused, 2 usage or local failure, 3 family not found.
 * Raw sockets and no libraries, so it also runs as a static binary in the
 * test VM.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define BUF_SIZE 65536

struct req {
	struct nlmsghdr nlh;
	struct genlmsghdr gh;
	char attrs[4096];
} __attribute__((aligned(NLMSG_ALIGNTO)));

static char rbuf[BUF_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case EPROTO: return "EPROTO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ERANGE: return "ERANGE";
	case EMSGSIZE: return "EMSGSIZE";
	case EACCES: return "EACCES";
	default: return "E?";
	}
}

static int add_attr(struct req *r, uint16_t type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(r->nlh.nlmsg_len);
	struct nlattr *a = (struct nlattr *)((char *)r + off);

	if (off + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(*r))
		return -1;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	r->nlh.nlmsg_len = off + NLA_HDRLEN + NLA_ALIGN(len);
	return 0;
}

static int parse_attr(struct req *r, char *spec)
{
	char *kind = strchr(spec, ':'), *val;
	unsigned char bytes[1024];
	unsigned long long n;
	size_t len = 0;
	uint16_t type;

	if (!kind || !(val = strchr(kind + 1, ':')))
		return -1;
	*kind++ = '\0';
	*val++ = '\0';
	type = (uint16_t)strtoul(spec, NULL, 0);
	n = strtoull(val, NULL, 0);
	if (!strcmp(kind, "u8") || !strcmp(kind, "u16") || !strcmp(kind, "u32") ||
	    !strcmp(kind, "u64")) {
		len = (size_t)atoi(kind + 1) / 8;
		memcpy(bytes, &n, len);	/* little endian host */
	} else if (!strcmp(kind, "str") || !strcmp(kind, "raw")) {
		len = strlen(val) + (kind[0] == 's');
		if (len > sizeof(bytes))
			return -1;
		memcpy(bytes, val, len);
	} else if (!strcmp(kind, "hex")) {
		for (; val[0] && val[1] && len < sizeof(bytes); val += 2) {
			unsigned int b;

			if (sscanf(val, "%2x", &b) != 1)
				return -1;
			bytes[len++] = (unsigned char)b;
		}
	} else {
		return -1;
	}
	return add_attr(r, type, bytes, len);
}

static void start(struct req *r, uint16_t type, uint16_t flags, uint8_t cmd)
{
	memset(r, 0, sizeof(*r));
	r->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->nlh.nlmsg_type = type;
	r->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	r->nlh.nlmsg_seq = 1;
	r->gh.cmd = cmd;
	r->gh.version = 1;
}

/* The extended ack message, if the kernel attached one. */
static void extack(const struct nlmsghdr *nlh, size_t off, char *buf, size_t len)
{
	const char *p = (const char *)NLMSG_DATA(nlh) + off;
	const char *end = (const char *)nlh + nlh->nlmsg_len;

	buf[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			return;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			snprintf(buf, len, "%.*s", (int)(a->nla_len - NLA_HDRLEN),
				 p + NLA_HDRLEN);
			return;
		}
		p += NLA_ALIGN(a->nla_len);
	}
}

/*
 * Read the answer to the request: replies (counted, and the first one
 * copied to *first if given), then an ack, an error or NLMSG_DONE (which
 * may carry a dump's error). Returns 0 or a negative errno.
 */
static int answer(int fd, int *replies, char *msg, size_t msglen,
		  struct nlmsghdr *first, size_t firstlen)
{
	for (;;) {
		ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);
		struct nlmsghdr *nlh;

		if (n < 0)
			return -errno;
		for (nlh = (struct nlmsghdr *)rbuf; NLMSG_OK(nlh, (size_t)n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				extack(nlh, sizeof(*e), msg, msglen);
				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int code = 0;

				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&code, NLMSG_DATA(nlh), sizeof(code));
				extack(nlh, NLMSG_ALIGN(sizeof(int)), msg, msglen);
				return code;
			}
			if (first && *replies == 0 && nlh->nlmsg_len <= firstlen)
				memcpy(first, nlh, nlh->nlmsg_len);
			(*replies)++;
		}
	}
}

/* The id of multicast group GROUP in a nested CTRL_ATTR_MCAST_GROUPS. */
static int group_id(struct nlattr *groups, const char *group)
{
	struct nlattr *g = (struct nlattr *)((char *)groups + NLA_HDRLEN);
	int left = groups->nla_len - NLA_HDRLEN;

	while (left >= NLA_HDRLEN && g->nla_len >= NLA_HDRLEN && g->nla_len <= left) {
		struct nlattr *a = (struct nlattr *)((char *)g + NLA_HDRLEN);
		int alen = g->nla_len - NLA_HDRLEN, id = -1;
		const char *name = NULL;

		while (alen >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= alen) {
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
				name = (const char *)a + NLA_HDRLEN;
			else if (a->nla_type == CTRL_ATTR_MCAST_GRP_ID)
				id = (int)*(uint32_t *)((char *)a + NLA_HDRLEN);
			alen -= NLA_ALIGN(a->nla_len);
			a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
		}
		if (name && id >= 0 && !strcmp(name, group))
			return id;
		left -= NLA_ALIGN(g->nla_len);
		g = (struct nlattr *)((char *)g + NLA_ALIGN(g->nla_len));
	}
	return -ENOENT;
}

/* The family's id, or with group set the id of that multicast group. */
static int family_id(int fd, const char *name, const char *group)
{
	static char reply[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nlh = (struct nlmsghdr *)reply;
	struct req r;
	char msg[256];
	int replies = 0, rc, left;
	struct nlattr *a;

	start(&r, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY);
	add_attr(&r, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	if (send(fd, &r, r.nlh.nlmsg_len, 0) < 0)
		return -errno;
	rc = answer(fd, &replies, msg, sizeof(msg), nlh, sizeof(reply));
	if (rc || !replies)
		return rc ? rc : -ENOENT;
	a = (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	left = (int)nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (!group && type == CTRL_ATTR_FAMILY_ID)
			return *(uint16_t *)((char *)a + NLA_HDRLEN);
		if (group && type == CTRL_ATTR_MCAST_GROUPS)
			return group_id(a, group);
		left -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	return -ENOENT;
}

/* Join a multicast group: what a listener for live events does. */
static int join(int fd, const char *family, const char *group)
{
	int id = family_id(fd, family, group);

	if (id < 0) {
		printf("result=nofamily errno=%d name=%s\n", -id, errno_name(-id));
		return 3;
	}
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &id, sizeof(id))) {
		printf("result=error errno=%d name=%s extack=\n", errno, errno_name(errno));
		return 1;
	}
	printf("result=ok joined\n");
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: genl_request [-d] [-r RESERVED] [-a TYPE:KIND:VALUE]... "
		"FAMILY CMD\n       genl_request -j GROUP FAMILY\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct req r;
	char *attrs[64], msg[512], *group = NULL;
	int nattrs = 0, dump = 0, reserved = 0, one = 1, replies = 0;
	int fd, fam, opt, rc, i;

	while ((opt = getopt(argc, argv, "da:r:j:")) != -1) {
		if (opt == 'j')
			group = optarg;
		else if (opt == 'd')
			dump = 1;
		else if (opt == 'r')
			reserved = atoi(optarg);
		else if (opt == 'a' && nattrs < 64)
			attrs[nattrs++] = optarg;
		else
			usage();
	}
	if (argc - optind != (group ? 1 : 2))
		usage();
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0) {
		perror("genl_request: socket");
		return 2;
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (group)
		return join(fd, argv[optind], group);
	fam = family_id(fd, argv[optind], NULL);
	if (fam < 0) {
		printf("result=nofamily errno=%d name=%s\n", -fam, errno_name(-fam));
		return 3;
	}
	start(&r, (uint16_t)fam, dump ? NLM_F_DUMP : NLM_F_ACK,
	      (uint8_t)atoi(argv[optind + 1]));
	r.gh.reserved = (uint16_t)reserved;
	for (i = 0; i < nattrs; i++) {
		if (parse_attr(&r, attrs[i])) {
			fprintf(stderr, "genl_request: bad attribute '%s'\n", attrs[i]);
			return 2;
		}
	}
	r.nlh.nlmsg_seq = 2;
	if (send(fd, &r, r.nlh.nlmsg_len, 0) < 0) {
		perror("genl_request: send");
		return 2;
	}
	rc = answer(fd, &replies, msg, sizeof(msg), NULL, 0);
	close(fd);
	if (rc) {
		printf("result=error errno=%d name=%s extack=%s\n", -rc, errno_name(-rc), msg);
		return 1;
	}
	printf("result=ok replies=%d\n", replies);
	return 0;
}
