// SPDX-License-Identifier: GPL-2.0
/*
 * Alerts into a real journal: the test starts systemd-journald in a
 * namespace of its own (socket /run/systemd/journal.NS/socket), sends alerts
 * through agent/journal.c, and reads them back with
 * `journalctl --namespace=NS -o json` the way an admin would find them:
 * by identifier and priority, and by PERFAGENT_RULE. Also: a multi-line
 * message, an entry too big for a datagram (memfd), and the syslog fallback
 * (in a private mount namespace whose /dev/log is journald's syslog socket).
 * journald, its sockets and its files are removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "logcheck.h"
#include "journald_ns.h"
#include "journal.h"

static struct journald_ns jns;

static const struct alert_label x_labels[] = { { "device", "sda" }, { "mount-point", "/" } };

static struct alert make_alert(const char *rule, enum alert_severity sev, enum alert_state state)
{
	return (struct alert){
		.kind = ALERT_THRESHOLD, .severity = sev, .state = state, .rule = rule,
		.metric = "disk.await_ms", .labels = x_labels, .nlabels = 2,
		.value = 87.5, .threshold = 50, .ts_ns = 0,
	};
}

/* Entries journalctl prints for the arguments, as a JSON array. */
static cJSON *journalctl(const char *args)
{
	return jns_read(&jns, args);
}

static const char *field(const cJSON *entry, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int field_is(const cJSON *entry, const char *key, const char *want)
{
	const char *v = field(entry, key);

	return v && strcmp(v, want) == 0;
}

static int has_rule(const cJSON *arr, const char *rule)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr) {
		if (field_is(e, "PERFAGENT_RULE", rule))
			return 1;
	}
	return 0;
}

static int send(struct journal_sink *j, const struct alert *a)
{
	return journal_send_alert(j, a);
}

static void t_alerts_found_by_priority_and_rule(void)
{
	struct alert warn = make_alert("x", ALERT_WARNING, ALERT_FIRING);
	struct alert info = make_alert("info_rule", ALERT_INFO, ALERT_FIRING);
	struct alert crit = make_alert("crit_rule", ALERT_CRITICAL, ALERT_FIRING);
	struct alert resolved = make_alert("x", ALERT_WARNING, ALERT_RESOLVED);
	struct journal_stats st;
	struct journal_sink *j;
	const cJSON *e;
	cJSON *arr;
	int firing = 0, cleared = 0;

	j = journal_open(jns.sock);
	CHECK(j);
	warn.message = "disk sda: await 87.5 ms is above 50 ms";
	CHECK(send(j, &warn) == JOURNAL_SENT);
	CHECK(send(j, &info) == JOURNAL_SENT);
	CHECK(send(j, &crit) == JOURNAL_SENT);
	resolved.value = 12;
	CHECK(send(j, &resolved) == JOURNAL_SENT);
	journal_get_stats(j, &st);
	journal_close(j);
	CHECK(st.sent == 4 && st.failed == 0 && st.sent_syslog == 0);

	/* journalctl -t perfagent -p warning: warning and worse, not info. */
	arr = journalctl("-t perfagent -p warning");
	CHECK(arr);
	CHECKF(has_rule(arr, "x") && has_rule(arr, "crit_rule"), "%d entries", cJSON_GetArraySize(arr));
	CHECK(!has_rule(arr, "info_rule"));
	cJSON_Delete(arr);
	arr = journalctl("-t perfagent");
	CHECK(arr && has_rule(arr, "info_rule"));
	cJSON_Delete(arr);

	/* journalctl PERFAGENT_RULE=x: its firing and its resolved notice, with every field. */
	arr = journalctl("PERFAGENT_RULE=x");
	CHECK(arr);
	CHECKF(cJSON_GetArraySize(arr) == 2, "%d entries for rule x", cJSON_GetArraySize(arr));
	cJSON_ArrayForEach(e, arr) {
		CHECK(field_is(e, "SYSLOG_IDENTIFIER", "perfagent"));
		CHECK(field_is(e, "PRIORITY", "4"));
		CHECK(field_is(e, "MESSAGE_ID", journal_message_id(ALERT_THRESHOLD)));
		CHECK(field_is(e, "PERFAGENT_KIND", "threshold"));
		CHECK(field_is(e, "PERFAGENT_METRIC", "disk.await_ms"));
		CHECK(field_is(e, "PERFAGENT_THRESHOLD", "50"));
		CHECK(field_is(e, "PERFAGENT_SEVERITY", "warning"));
		CHECK(field_is(e, "PERFAGENT_LABEL_DEVICE", "sda"));
		CHECK(field_is(e, "PERFAGENT_LABEL_MOUNT_POINT", "/"));
		CHECK(field_is(e, "_TRANSPORT", "journal"));
		CHECK(field(e, "PERFAGENT_TIMESTAMP") && strlen(field(e, "PERFAGENT_TIMESTAMP")) == 27);
		if (field_is(e, "PERFAGENT_STATE", "firing")) {
			firing++;
			CHECK(field_is(e, "PERFAGENT_VALUE", "87.5"));
			CHECK(field_is(e, "MESSAGE", "disk sda: await 87.5 ms is above 50 ms"));
		} else if (field_is(e, "PERFAGENT_STATE", "resolved")) {
			cleared++;
			CHECK(field_is(e, "PERFAGENT_VALUE", "12"));
			CHECKF(field_is(e, "MESSAGE", "resolved: rule x: disk.await_ms{device=sda,"
				       "mount-point=/} = 12 (threshold 50)"), "%s", field(e, "MESSAGE"));
		}
	}
	CHECK(firing == 1 && cleared == 1);
	cJSON_Delete(arr);
}

static void t_multiline_and_oversized_entries(void)
{
	struct alert multi = make_alert("multi", ALERT_CRITICAL, ALERT_FIRING);
	struct alert big = make_alert("big", ALERT_WARNING, ALERT_FIRING);
	struct alert_label blob = { "blob", NULL };
	struct journal_stats st;
	struct journal_sink *j;
	const char *v;
	char *val = malloc(300001);
	cJSON *arr;

	CHECK(val);
	memset(val, 'b', 300000);
	val[300000] = '\0';
	blob.value = val;
	big.labels = &blob;
	big.nlabels = 1;
	multi.message = "first line\nsecond line";
	j = journal_open(jns.sock);
	CHECK(j);
	CHECK(send(j, &multi) == JOURNAL_SENT);
	CHECK(send(j, &big) == JOURNAL_SENT);
	journal_get_stats(j, &st);
	journal_close(j);
	CHECK(st.sent == 1 && st.sent_memfd == 1);

	arr = journalctl("PERFAGENT_RULE=multi");
	CHECK(arr && cJSON_GetArraySize(arr) == 1);
	CHECK(field_is(cJSON_GetArrayItem(arr, 0), "MESSAGE", "first line\nsecond line"));
	CHECK(field_is(cJSON_GetArrayItem(arr, 0), "PRIORITY", "2"));
	cJSON_Delete(arr);
	arr = journalctl("PERFAGENT_RULE=big");
	CHECK(arr && cJSON_GetArraySize(arr) == 1);
	v = field(cJSON_GetArrayItem(arr, 0), "PERFAGENT_LABEL_BLOB");
	CHECKF(v && strlen(v) == 300000 && strspn(v, "b") == 300000, "blob of %zu bytes",
	       v ? strlen(v) : 0);
	cJSON_Delete(arr);
	free(val);
}

/*
 * No journal socket: syslog(3). In a private mount namespace /dev/log is
 * journald's own syslog socket, so the fallback is read back from the same
 * journal (_TRANSPORT=syslog).
 */
static void t_without_journal_falls_back_to_syslog(void)
{
	struct alert a = make_alert("fallback", ALERT_WARNING, ALERT_FIRING);
	char devlog[200];
	const cJSON *e;
	cJSON *arr;
	int status;
	pid_t pid;

	snprintf(devlog, sizeof(devlog), "%s/dev-log", jns.dir);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct journal_sink *j;
		int fd, ret;

		if (unshare(CLONE_NEWNS) || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", "/dev", "tmpfs", 0, "size=64k,mode=0755"))
			_exit(77);
		fd = open("/dev/log", O_CREAT | O_WRONLY, 0666);
		if (fd < 0)
			_exit(77);
		close(fd);
		if (mount(devlog, "/dev/log", "none", MS_BIND, NULL))
			_exit(77);
		j = journal_open("/nonexistent/perfagent/socket");
		ret = j ? journal_send_alert(j, &a) : -1;
		journal_close(j);
		_exit(ret == JOURNAL_SYSLOG ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		SKIP("cannot set up a private /dev/log here");
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);

	arr = journalctl("-t perfagent _TRANSPORT=syslog");
	CHECK(arr);
	CHECKF(cJSON_GetArraySize(arr) == 1, "%d syslog entries", cJSON_GetArraySize(arr));
	e = cJSON_GetArrayItem(arr, 0);
	CHECK(field_is(e, "PRIORITY", "4") && field_is(e, "SYSLOG_FACILITY", "3"));
	CHECKF(field(e, "MESSAGE") && strstr(field(e, "MESSAGE"), "rule=fallback ") &&
	       strstr(field(e, "MESSAGE"), "state=firing") && strstr(field(e, "MESSAGE"), "mount-point=/"),
	       "%s", field(e, "MESSAGE"));
	cJSON_Delete(arr);
}

int main(void)
{
	if (!jns_available()) {
		printf("skip - t_alerts_found_by_priority_and_rule\n");
		fprintf(stderr, "# skip: needs root, %s and journalctl\n", JNS_JOURNALD);
		return 0;
	}
	if (jns_start(&jns, "perfagent-test")) {
		fprintf(stderr, "# %s %s did not create %s\n", JNS_JOURNALD, jns.name, jns.sock);
		printf("not ok - start_journald\n");
		jns_stop(&jns);
		return 1;
	}
	RUN(t_alerts_found_by_priority_and_rule);
	RUN(t_multiline_and_oversized_entries);
	RUN(t_without_journal_falls_back_to_syslog);
	jns_stop(&jns);
	CHECK_EXIT();
}
