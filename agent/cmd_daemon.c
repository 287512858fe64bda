// SPDX-License-Identifier: GPL-2.0
/*
 * perfagent --daemon [--config FILE] [--foreground]: run the daemon.
 * perfagent status [--json] [--socket PATH | --config FILE]: ask it how it
 * is doing, over its control socket.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cJSON.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "metrics.h"
#include "units.h"

/* ---- perfagent --daemon ----------------------------------------------- */

static void daemon_usage(FILE *f)
{
	fprintf(f,
		"Usage: perfagent --daemon [--config FILE] [--foreground]\n"
		"\n"
		"Run every probe and collector, evaluate the rules each interval, write the\n"
		"JSON Lines logs and send alerts to the journal (docs/config.md, docs/logs.md).\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE   the config (JSON); without it the built-in config runs\n"
		"                      ('perfagent check-config --print-default' shows it)\n"
		"  -f, --foreground    do not detach (also when started by systemd)\n"
		"  -h, --help          show this help\n"
		"\n"
		"Signals: SIGHUP reloads the config (a bad one is refused, the old one stays)\n"
		"and reopens the log files; SIGTERM or SIGINT stop it cleanly.\n");
}

int cmd_daemon(int argc, char **argv)
{
	struct daemon_opts o = { 0 };
	int a;

	for (a = 1; a < argc; a++) {
		const char *arg = argv[a];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			daemon_usage(stdout);
			return 0;
		} else if (!strcmp(arg, "-f") || !strcmp(arg, "--foreground")) {
			o.foreground = true;
		} else if (!strcmp(arg, "-c") || !strcmp(arg, "--config")) {
			if (++a >= argc) {
				cli_error("--daemon: %s needs a FILE", arg);
				return EXIT_USAGE;
			}
			o.config_path = argv[a];
		} else if (!strncmp(arg, "--config=", 9)) {
			o.config_path = arg + 9;
		} else {
			cli_error("--daemon: unknown argument '%s' (see 'perfagent --daemon --help')",
				  arg);
			return EXIT_USAGE;
		}
	}
	return daemon_main(&o);
}

/* ---- perfagent status ------------------------------------------------- */

static void status_usage(FILE *f)
{
	fprintf(f,
		"Usage: perfagent status [--json] [--socket PATH | --config FILE]\n"
		"\n"
		"Ask the running daemon how it is doing: uptime, config, probes and their\n"
		"in-kernel cost, events and losses, kernel module, logs, rules and their state.\n"
		"\n"
		"Options:\n"
		"  --json            the answer as one JSON object\n"
		"  --socket PATH     the daemon's control socket (default %s)\n"
		"  --config FILE     take the socket path from this config (daemon.control_socket)\n"
		"  -h, --help        show this help\n",
		"/run/perfagent/control.sock");
}

/* The whole answer, or NULL with the reason printed. */
static char *ask(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		cli_error("status: control socket path too long: %s", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		cli_error("status: socket: %s", strerror(errno));
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		if (e == ENOENT || e == ECONNREFUSED)
			cli_error("the perfagent daemon is not running (nothing listens on %s); "
				  "start it with 'perfagent --daemon'", path);
		else if (e == EACCES || e == EPERM)
			cli_error("status: %s: %s ('perfagent status' needs root)", path, strerror(e));
		else
			cli_error("status: cannot connect to %s: %s", path, strerror(e));
		close(fd);
		return NULL;
	}
	if (send(fd, "status\n", 7, MSG_NOSIGNAL) != 7) {
		cli_error("status: %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 65536);

			if (!nb) {
				free(buf);
				close(fd);
				cli_error("out of memory");
				return NULL;
			}
			buf = nb;
		}
		r = recv(fd, buf + len, cap - len - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!len) {
		free(buf);
		cli_error("status: the daemon sent no answer (on %s)", path);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static const char *str(const cJSON *o, const char *k, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void print_probes(const cJSON *root)
{
	const cJSON *p;
	char lost[32], rt[32], cpu[32];

	printf("\nprobes:\n");
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(root, "probes")) {
		printf("  %-8s %-11s", str(p, "name", "?"), str(p, "state", "?"));
		if (cJSON_IsTrue(cJSON_GetObjectItem(p, "attached")))
			printf(" %7.1f events/s, %s lost, %.0f runs, %s in kernel (%s of a CPU)",
			       num(p, "events_per_s"),
			       metric_format_value(METRIC_UNIT_NONE, num(p, "events_lost"), lost,
						   sizeof(lost)),
			       num(p, "run_count"),
			       format_duration((uint64_t)num(p, "run_time_ns"), rt, sizeof(rt)),
			       metric_format_value(METRIC_UNIT_RATIO, num(p, "cpu_ratio"), cpu,
						   sizeof(cpu)));
		printf("\n");
		if (str(p, "mechanism", NULL))
			printf("           %s\n", str(p, "mechanism", ""));
		if (str(p, "note", NULL))
			printf("           note: %s\n", str(p, "note", ""));
	}
}

static void print_logs(const cJSON *root)
{
	const cJSON *logs = cJSON_GetObjectItem(root, "logs"), *f;
	char a[32], b[32];

	printf("\nlogs in %s:\n", str(logs, "dir", "?"));
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(logs, "files")) {
		printf("  %-8s %8s live, %3.0f rotated (%s), %.0f lines written, %.0f dropped\n",
		       str(f, "stream", "?"),
		       metric_format_value(METRIC_UNIT_BYTES, num(f, "bytes"), a, sizeof(a)),
		       num(f, "rotated_files"),
		       metric_format_value(METRIC_UNIT_BYTES, num(f, "rotated_bytes"), b, sizeof(b)),
		       num(f, "lines_written"), num(f, "lines_dropped"));
	}
}

static void print_rules(const cJSON *root)
{
	const cJSON *r, *s;

	printf("\nrules:\n");
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(root, "rules")) {
		const char *state = str(r, "state", "?");

		printf("  %-24s %-8s %s%s%s\n", str(r, "name", "?"), state,
		       str(r, "metric", ""), str(r, "severity", NULL) ? "  " : "",
		       str(r, "severity", ""));
		cJSON_ArrayForEach(s, cJSON_GetObjectItem(r, "states")) {
			if (strcmp(str(s, "state", ""), "firing"))
				continue;
			printf("      firing %-8s %s = %s since %s\n", str(s, "severity", ""),
			       str(s, "series", ""), str(s, "value_text", "?"), str(s, "since", "?"));
		}
	}
}

static void print_text(const cJSON *root)
{
	const cJSON *c = cJSON_GetObjectItem(root, "config");
	const cJSON *ev = cJSON_GetObjectItem(root, "events");
	const cJSON *km = cJSON_GetObjectItem(root, "kernel_module");
	const cJSON *ag = cJSON_GetObjectItem(root, "agent");
	char up[32], a[32], b[32];

	printf("perfagent %s, pid %.0f on %s, up %s (since %s)\n", str(root, "version", "?"),
	       num(root, "pid"), str(root, "host", "?"),
	       metric_format_duration(num(root, "uptime_s") * 1e9, up, sizeof(up)),
	       str(root, "started", "?"));
	printf("config: %s, interval %s, %.0f rules, %.0f reloads",
	       str(c, "file", "built-in"), str(c, "interval", "?"), num(c, "rules"),
	       num(c, "reloads"));
	if (num(c, "reload_failures"))
		printf(", %.0f refused (last: %s)", num(c, "reload_failures"),
		       str(c, "last_reload_error", "?"));
	printf("\nagent: %s of a CPU, %s resident\n",
	       metric_format_value(METRIC_UNIT_RATIO, num(ag, "cpu_ratio"), a, sizeof(a)),
	       metric_format_value(METRIC_UNIT_BYTES, num(ag, "rss_bytes"), b, sizeof(b)));
	printf("events: %.1f/s, %.0f in all, %.0f lost\n", num(ev, "per_s"), num(ev, "total"),
	       num(ev, "lost"));
	printf("kernel module: %s%s%s\n",
	       cJSON_IsTrue(cJSON_GetObjectItem(km, "connected")) ? "connected" : "not connected",
	       str(km, "note", NULL) ? ": " : "", str(km, "note", ""));
	printf("pins: %s\n", str(root, "pins", "?"));
	print_probes(root);
	print_logs(root);
	print_rules(root);
}

static const char *socket_from_config(const char *file, char *buf, size_t len)
{
	struct config_errors errs;
	struct config c;
	unsigned int i;

	if (config_load(file, &c, &errs)) {
		for (i = 0; i < errs.n; i++)
			cli_error("%s: %s", file, errs.msg[i]);
		return NULL;
	}
	snprintf(buf, len, "%s", c.daemon.control_socket);
	config_free(&c);
	return buf;
}

int cmd_status(int argc, char **argv)
{
	const char *path = NULL, *config = NULL;
	char buf[256], *text;
	bool json = false;
	cJSON *root;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			status_usage(stdout);
			return 0;
		} else if (!strcmp(argv[a], "--json")) {
			json = true;
		} else if ((!strcmp(argv[a], "--socket") || !strcmp(argv[a], "--config")) &&
			   a + 1 < argc) {
			if (argv[a][2] == 's')
				path = argv[++a];
			else
				config = argv[++a];
		} else {
			cli_error("status: unknown argument '%s' (see 'perfagent status --help')",
				  argv[a]);
			return EXIT_USAGE;
		}
	}
	if (config && !(path = socket_from_config(config, buf, sizeof(buf))))
		return 1;
	if (!path) {
		struct config c;

		if (config_default(&c) == 0) {
			snprintf(buf, sizeof(buf), "%s", c.daemon.control_socket);
			config_free(&c);
			path = buf;
		} else {
			path = "/run/perfagent/control.sock";
		}
	}
	text = ask(path);
	if (!text)
		return 1;
	root = cJSON_Parse(text);
	if (!root) {
		cli_error("status: the daemon's answer is not JSON");
		free(text);
		return 1;
	}
	if (str(root, "error", NULL)) {
		cli_error("status: the daemon says: %s", str(root, "error", ""));
		cJSON_Delete(root);
		free(text);
		return 1;
	}
	if (json) {
		char *pretty = cJSON_Print(root);

		printf("%s\n", pretty ? pretty : text);
		cJSON_free(pretty);
	} else {
		print_text(root);
	}
	cJSON_Delete(root);
	free(text);
	return 0;
}
