// SPDX-License-Identifier: GPL-2.0
/*
 * The journal's native protocol as perfagent writes it: field names and
 * values, the binary form for values with newlines, the datagram and the
 * sealed-memfd way of sending, the syslog fallback; and the alert's JSON and
 * message, which every sink shares. Messages are received on a socket the
 * test binds itself and parsed back field by field.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "alert.h"
#include "journal.h"

struct field {
	char key[80];
	const char *value;
	size_t len;
	int binary;
};

/* Parse a native-protocol message back; -1 on anything malformed. */
static int parse_native(const char *p, size_t len, struct field *f, int max)
{
	const char *end = p + len;
	int n = 0;

	while (p < end) {
		const char *stop = p;
		size_t klen;

		while (stop < end && *stop != '=' && *stop != '\n')
			stop++;
		klen = (size_t)(stop - p);
		if (stop == end || n == max || klen >= sizeof(f[n].key))
			return -1;
		memcpy(f[n].key, p, klen);
		f[n].key[klen] = '\0';
		if (*stop == '=') {
			const char *nl = memchr(stop + 1, '\n', (size_t)(end - stop - 1));

			if (!nl)
				return -1;
			f[n].value = stop + 1;
			f[n].len = (size_t)(nl - stop - 1);
			f[n].binary = 0;
			p = nl + 1;
		} else {
			uint64_t vlen = 0;
			int i;

			if (end - stop < 9)
				return -1;
			for (i = 0; i < 8; i++)
				vlen |= (uint64_t)(unsigned char)stop[1 + i] << (8 * i);
			if ((uint64_t)(end - stop - 9) < vlen + 1 || stop[9 + vlen] != '\n')
				return -1;
			f[n].value = stop + 9;
			f[n].len = (size_t)vlen;
			f[n].binary = 1;
			p = stop + 9 + vlen + 1;
		}
		n++;
	}
	return n;
}

static const struct field *find(const struct field *f, int n, const char *key)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(f[i].key, key) == 0)
			return &f[i];
	}
	return NULL;
}

static int value_is(const struct field *f, int n, const char *key, const char *want)
{
	const struct field *x = find(f, n, key);

	return x && x->len == strlen(want) && memcmp(x->value, want, x->len) == 0;
}

/* What journald accepts as a field name (journal_field_valid). */
static int valid_field_name(const char *k)
{
	size_t i, n = strlen(k);

	if (n == 0 || n > 64 || k[0] == '_' || (k[0] >= '0' && k[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++) {
		if (!((k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return 0;
	}
	return 1;
}

static const struct alert_label disk_labels[] = {
	{ "mount", "/var" }, { "fs-type", "ext4" }, { "_dev", "vda1" },
};

static struct alert disk_alert(void)
{
	return (struct alert){
		.kind = ALERT_TREND,
		.severity = ALERT_CRITICAL,
		.state = ALERT_FIRING,
		.rule = "disk_full_soon",
		.metric = "fs.used_bytes",
		.labels = disk_labels,
		.nlabels = 3,
		.value = 0.25,
		.threshold = 1e12,
		.message = "filesystem /var full in 3h12m",
		.ts_ns = 1795315044103045000ULL,
	};
}

static void t_label_field_names(void)
{
	static const struct {
		const char *label, *field;
	} cases[] = {
		{ "dev", "PERFAGENT_LABEL_DEV" },
		{ "mount-point", "PERFAGENT_LABEL_MOUNT_POINT" },
		{ "_x", "PERFAGENT_LABEL_X" },
		{ "__", "PERFAGENT_LABEL_UNNAMED" },
		{ "", "PERFAGENT_LABEL_UNNAMED" },
		{ "9lives", "PERFAGENT_LABEL_9LIVES" },
		{ "cpu.núm", "PERFAGENT_LABEL_CPU_N__M" },
	};
	char out[JOURNAL_FIELD_MAX + 1], longname[200];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		journal_label_field(cases[i].label, out, sizeof(out));
		CHECK_STREQ(out, cases[i].field);
		CHECK(valid_field_name(out));
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	journal_label_field(longname, out, sizeof(out));
	CHECKF(strlen(out) == 64 && valid_field_name(out), "%s", out);
}

static void t_priority_and_message_ids(void)
{
	int k, j;

	CHECK(journal_priority(ALERT_CRITICAL) == 2);
	CHECK(journal_priority(ALERT_WARNING) == 4);
	CHECK(journal_priority(ALERT_INFO) == 6);
	for (k = 0; k < ALERT_KIND_COUNT; k++) {
		const char *id = journal_message_id((enum alert_kind)k);

		CHECK(strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32);
		for (j = 0; j < k; j++)
			CHECK(strcmp(id, journal_message_id((enum alert_kind)j)) != 0);
	}
	/* Stable: admins put these in their filters. */
	CHECK_STREQ(journal_message_id(ALERT_THRESHOLD), "92ae73221fa144eca2c1db2b5c29cbc8");
}

static void t_fields_of_a_firing_alert(void)
{
	struct alert a = disk_alert();
	struct journal_msg m;
	struct field f[32];
	int n, i;

	CHECK(journal_format_alert(&a, &m) == 0);
	n = parse_native(m.data, m.len, f, 32);
	CHECKF(n == 16, "%d fields", n);
	for (i = 0; i < n; i++)
		CHECKF(valid_field_name(f[i].key) && !f[i].binary, "%s", f[i].key);
	CHECK(value_is(f, n, "MESSAGE", "filesystem /var full in 3h12m"));
	CHECK(value_is(f, n, "MESSAGE_ID", journal_message_id(ALERT_TREND)));
	CHECK(value_is(f, n, "PRIORITY", "2"));
	CHECK(value_is(f, n, "SYSLOG_IDENTIFIER", "perfagent"));
	CHECK(value_is(f, n, "PERFAGENT_KIND", "trend"));
	CHECK(value_is(f, n, "PERFAGENT_RULE", "disk_full_soon"));
	CHECK(value_is(f, n, "PERFAGENT_METRIC", "fs.used_bytes"));
	CHECK(value_is(f, n, "PERFAGENT_VALUE", "0.25"));
	CHECK(value_is(f, n, "PERFAGENT_THRESHOLD", "1000000000000"));
	CHECK(value_is(f, n, "PERFAGENT_STATE", "firing"));
	CHECK(value_is(f, n, "PERFAGENT_SEVERITY", "critical"));
	CHECK(value_is(f, n, "PERFAGENT_TIMESTAMP", "2026-11-22T02:37:24.103045Z"));
	CHECK(value_is(f, n, "PERFAGENT_LABEL_MOUNT", "/var"));
	CHECK(value_is(f, n, "PERFAGENT_LABEL_FS_TYPE", "ext4"));
	CHECK(value_is(f, n, "PERFAGENT_LABEL_DEV", "vda1"));
	journal_msg_free(&m);
}

static void t_newline_takes_the_binary_form(void)
{
	struct alert a = disk_alert();
	static const char head[] = "MESSAGE\n\x0b\0\0\0\0\0\0\0line1\nline2\nMESSAGE_ID=";
	struct journal_msg m;
	struct field f[32];
	int n;

	a.message = "line1\nline2";
	CHECK(journal_format_alert(&a, &m) == 0);
	CHECK(m.len > sizeof(head) && memcmp(m.data, head, sizeof(head) - 1) == 0);
	n = parse_native(m.data, m.len, f, 32);
	CHECK(n == 16 && f[0].binary && f[0].len == 11);
	CHECK(value_is(f, n, "PERFAGENT_RULE", "disk_full_soon"));
	journal_msg_free(&m);
}

static void t_absent_parts_are_left_out(void)
{
	struct alert a = {
		.kind = ALERT_HEALTH, .severity = ALERT_WARNING, .state = ALERT_RESOLVED,
		.rule = "taint", .value = NAN, .threshold = NAN, .ts_ns = 1,
	};
	struct journal_msg m;
	struct field f[32];
	int n;

	CHECK(journal_format_alert(&a, &m) == 0);
	n = parse_native(m.data, m.len, f, 32);
	CHECKF(n == 10, "%d fields", n);
	CHECK(!find(f, n, "PERFAGENT_METRIC") && !find(f, n, "PERFAGENT_VALUE") &&
	      !find(f, n, "PERFAGENT_THRESHOLD"));
	CHECK(value_is(f, n, "MESSAGE", "resolved: rule taint"));
	CHECK(value_is(f, n, "PERFAGENT_STATE", "resolved"));
	CHECK(value_is(f, n, "PRIORITY", "4"));
	journal_msg_free(&m);
}

/* A socket standing in for journald's. */
static int bind_socket(char *path, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/pa-jfmt-XXXXXX";
	int fd, big = 4 << 20;

	if (!mkdtemp(dir))
		return -1;
	snprintf(path, len, "%s/socket", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		rmdir(dir);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return fd;
}

static void unbind_socket(int fd, char *path)
{
	close(fd);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

/* Receive one entry; *memfd says whether it came as a file descriptor. */
static ssize_t receive(int fd, char *buf, size_t len, int *memfd, int *seals)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
	int passed;

	*memfd = 0;
	if (n < 0)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return n;
	memcpy(&passed, CMSG_DATA(c), sizeof(int));
	*memfd = 1;
	*seals = fcntl(passed, F_GET_SEALS);
	n = pread(passed, buf, len, 0);
	close(passed);
	return n;
}

static void send_and_compare(size_t max_datagram, size_t label_len, int want_memfd)
{
	struct alert_label big = { "blob", NULL };
	struct alert a = disk_alert();
	struct journal_stats st;
	struct journal_sink *j;
	struct journal_msg m;
	size_t buflen = label_len + 4096;
	char path[108], *buf = malloc(buflen), *val = malloc(label_len + 1);
	int fd, memfd, seals = 0;
	ssize_t n;

	CHECK(buf && val);
	memset(val, 'v', label_len);
	val[label_len] = '\0';
	big.value = val;
	a.labels = &big;
	a.nlabels = 1;
	fd = bind_socket(path, sizeof(path));
	CHECK(fd >= 0);
	j = journal_open(path);
	CHECK(j);
	journal_set_max_datagram(j, max_datagram);
	CHECK(journal_send_alert(j, &a) == JOURNAL_SENT);
	journal_get_stats(j, &st);
	journal_close(j);
	n = receive(fd, buf, buflen, &memfd, &seals);
	unbind_socket(fd, path);
	CHECK(journal_format_alert(&a, &m) == 0);
	CHECKF(n == (ssize_t)m.len && memcmp(buf, m.data, m.len) == 0, "received %zd of %zu bytes",
	       n, m.len);
	journal_msg_free(&m);
	CHECK(memfd == want_memfd);
	if (want_memfd) {
		CHECK(st.sent_memfd == 1 && st.sent == 0);
		/* journald only takes a memfd that can no longer change. */
		CHECK((seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)) ==
		      (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE));
	} else {
		CHECK(st.sent == 1 && st.sent_memfd == 0);
	}
	CHECK(st.failed == 0 && st.sent_syslog == 0);
	free(buf);
	free(val);
}

static void t_sent_as_one_datagram(void)
{
	send_and_compare(0, 100, 0);
}

static void t_over_max_datagram_goes_by_memfd(void)
{
	send_and_compare(512, 1000, 1);
}

/* Bigger than the socket takes (EMSGSIZE): the memfd, without being told. */
static void t_too_big_for_the_socket_goes_by_memfd(void)
{
	send_and_compare(0, 1 << 20, 1);
}

static void t_no_journal_means_syslog(void)
{
	struct alert a = disk_alert();
	struct journal_stats st;
	struct journal_sink *j = journal_open("/nonexistent/perfagent-test/socket");

	CHECK(j);
	CHECK(journal_send_alert(j, &a) == JOURNAL_SYSLOG);
	journal_get_stats(j, &st);
	journal_close(j);
	CHECK(st.sent_syslog == 1 && st.sent == 0 && st.failed == 0);
}

static void t_numbers_read_back_the_same(void)
{
	static const double v[] = { 0.1, 97.25, 123456789, 1e300, 1.0 / 3, -2.5e-7, 0 };
	char buf[40];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		alert_format_number(v[i], buf, sizeof(buf));
		CHECKF(strtod(buf, NULL) == v[i], "%s", buf);
	}
	CHECK_STREQ(alert_format_number(0.1, buf, sizeof(buf)), "0.1");
	CHECK_STREQ(alert_format_number(123456789, buf, sizeof(buf)), "123456789");
	CHECK_STREQ(alert_format_number(NAN, buf, sizeof(buf)), "nan");
}

static void t_alert_json_and_message(void)
{
	struct alert a = disk_alert();
	cJSON *o = cJSON_CreateObject(), *labels;
	char msg[256];

	CHECK(o && alert_to_json(&a, o) == 0);
	CHECK_STREQ(cJSON_GetObjectItem(o, "type")->valuestring, "trend");
	CHECK_STREQ(cJSON_GetObjectItem(o, "rule")->valuestring, "disk_full_soon");
	CHECK_STREQ(cJSON_GetObjectItem(o, "severity")->valuestring, "critical");
	CHECK_STREQ(cJSON_GetObjectItem(o, "state")->valuestring, "firing");
	CHECK(cJSON_GetObjectItem(o, "value")->valuedouble == 0.25);
	labels = cJSON_GetObjectItem(o, "labels");
	CHECK(cJSON_GetArraySize(labels) == 3);
	CHECK_STREQ(cJSON_GetObjectItem(labels, "fs-type")->valuestring, "ext4");
	cJSON_Delete(o);

	a.message = NULL;
	a.value = NAN;
	o = cJSON_CreateObject();
	CHECK(o && alert_to_json(&a, o) == 0);
	CHECK(!cJSON_GetObjectItem(o, "value"));
	CHECK_STREQ(cJSON_GetObjectItem(o, "message")->valuestring,
		    "critical: rule disk_full_soon: fs.used_bytes{mount=/var,fs-type=ext4,_dev=vda1} "
		    "(threshold 1000000000000)");
	cJSON_Delete(o);
	a.value = 93.5;
	a.state = ALERT_RESOLVED;
	a.nlabels = 0;
	CHECK_STREQ(alert_message(&a, msg, sizeof(msg)),
		    "resolved: rule disk_full_soon: fs.used_bytes = 93.5 (threshold 1000000000000)");
}

int main(void)
{
	RUN(t_label_field_names);
	RUN(t_priority_and_message_ids);
	RUN(t_fields_of_a_firing_alert);
	RUN(t_newline_takes_the_binary_form);
	RUN(t_absent_parts_are_left_out);
	RUN(t_sent_as_one_datagram);
	RUN(t_over_max_datagram_goes_by_memfd);
	RUN(t_too_big_for_the_socket_goes_by_memfd);
	RUN(t_no_journal_means_syslog);
	RUN(t_numbers_read_back_the_same);
	RUN(t_alert_json_and_message);
	CHECK_EXIT();
}
