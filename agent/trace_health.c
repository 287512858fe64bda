// SPDX-License-Identifier: GPL-2.0
/*
 * perfagent trace health: device, driver, network device, module and oops
 * events, live, one line each (or one JSON object per line), in one stream
 * from two sources: the perfagent kernel module (agent/health_netlink.c,
 * "kmod") and the health BPF probe (agent/health_bpf.c, "bpf": device
 * errors, OOM kills, error reports, IRQ storms; decoded by
 * agent/health_decode.c). Either source may be missing: the other one
 * still runs, and the missing module is looked for again while running.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>

#include "bpf_env.h"
#include "cli.h"
#include "health_bpf.h"
#include "health_decode.h"
#include "health_netlink.h"
#include "timeutil.h"
#include "trace_cli.h"
#include "units.h"

/* IRQs a second on one line that count as a storm: far above what disks
 * and NICs raise with interrupt coalescing, well below a screaming line.
 */
#define DEFAULT_IRQ_STORM	50000

/* The BPF side: probe, read cadence, storms and IRQ time tables. */
struct bpf_side {
	struct health_probe *probe;
	struct health_read rd;
	struct health_irq_set interval_irqs, run_irqs;
	struct health_irq_totals interval_soft[PA_HEALTH_SOFTIRQS], run_soft[PA_HEALTH_SOFTIRQS];
	unsigned int nsoft;
	uint64_t storm_rate;		/* per second, 0 = no storm events */
	uint64_t storm_until[PA_HEALTH_MAX_IRQS];	/* quiet until (mono ns), per line */
	uint64_t table_ns;		/* IRQ time table period, 0 = none */
	uint64_t start_ns, last_read_ns, table_start_ns;
	double read_seconds;		/* the span the last read covered */
	uint64_t events, suppressed, lost;
};

/* The kernel module's side; h is NULL while the module is not loaded. */
struct kmod_side {
	struct health_nl *h;
	struct health_nl_opts opts;
	bool retry;		/* look for the module again while running */
	uint64_t next_try_ns;
};

struct trace_health {
	bool json;
	uint64_t init_netns;	/* inode of our network namespace */
	uint64_t printed;
	struct bpf_side bpf;
	struct kmod_side kmod;
};

/* A code from a newer module is shown as a number, not dropped. */
static const char *event_name(uint32_t code, char *buf, size_t len)
{
	const char *name = health_kmod_event_name(code);

	if (name)
		return name;
	snprintf(buf, len, "event_%u", code);
	return buf;
}

/* The kernel's taint letters, by TAINT_* bit (kernel/panic.c). */
static char *taint_letters(uint64_t taint, char *buf, size_t len)
{
	static const char letters[] = "PFSRMBUDAWCIOELKXTNJ";
	size_t n = 0;
	unsigned int bit;

	for (bit = 0; bit < 64 && n + 1 < len; bit++) {
		if (!(taint & (1ULL << bit)))
			continue;
		buf[n++] = bit < sizeof(letters) - 1 ? letters[bit] : '?';
	}
	buf[n] = '\0';
	return buf;
}

static bool is_netdev_event(uint32_t code)
{
	return code >= PA_EV_NETDEV_REGISTERED && code <= PA_EV_NETDEV_RENAMED;
}

static bool is_module_event(uint32_t code)
{
	return code >= PA_EV_MODULE_COMING && code <= PA_EV_MODULE_GOING;
}

/* snprintf that appends, never overflows. */
static void append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void describe_device(const struct health_event *ev, char *buf, size_t len)
{
	append(buf, len, "%s %s", ev->bus[0] ? ev->bus : "?", ev->device);
	if (ev->driver[0])
		append(buf, len, " driver %s", ev->driver);
	if (ev->device_id[0])
		append(buf, len, " [%s]", ev->device_id);
	if (ev->detail[0])
		append(buf, len, " \"%s\"", ev->detail);
}

static void describe_netdev(const struct trace_health *t, const struct health_event *ev,
			    char *buf, size_t len)
{
	append(buf, len, "%s", ev->netdev);
	if (ev->has_ifindex)
		append(buf, len, " ifindex %u", ev->ifindex);
	if (ev->has_ifindex && ev->netns != t->init_netns)
		append(buf, len, " netns %u", ev->netns);
	if (ev->has_mtu)
		append(buf, len, " mtu %u -> %u", ev->old_mtu, ev->mtu);
	if (ev->device[0]) {
		append(buf, len, " on %s %s", ev->bus[0] ? ev->bus : "?", ev->device);
		if (ev->driver[0])
			append(buf, len, " (%s)", ev->driver);
	}
}

static void describe(const struct trace_health *t, const struct health_event *ev,
		     char *buf, size_t len)
{
	char taint[24];

	buf[0] = '\0';
	if (is_netdev_event(ev->code)) {
		describe_netdev(t, ev, buf, len);
	} else if (is_module_event(ev->code)) {
		append(buf, len, "%s", ev->module);
		if (ev->has_taint && ev->taint)
			append(buf, len, " taints kernel: %s",
			       taint_letters(ev->taint, taint, sizeof(taint)));
	} else if (ev->code == PA_EV_DIE) {
		append(buf, len, "%s", ev->detail);
	} else {
		describe_device(ev, buf, len);
	}
	if (ev->has_error)
		append(buf, len, " error %d (%s)", ev->error, strerror(-ev->error));
}

static void print_text(struct trace_health *t, const struct health_event *ev)
{
	char when[32], name[24], what[512];

	describe(t, ev, what, sizeof(what));
	printf("%s %-4s %-8s %-19s %s\n", format_clock(ev->real_ns, when, sizeof(when)),
	       ev->source, health_severity_name(health_kmod_severity(ev->code, ev->has_error)),
	       event_name(ev->code, name, sizeof(name)), what);
}

/* 64-bit counters and nanosecond times exactly, not through a double. */
static void json_u64(cJSON *o, const char *key, uint64_t val)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, val);
	cJSON_AddRawToObject(o, key, num);
}

static void json_str(cJSON *o, const char *key, const char *val)
{
	if (val[0])
		cJSON_AddStringToObject(o, key, val);
}

static void print_json_object(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s) {
		puts(s);
		free(s);
	}
	cJSON_Delete(o);
}

static void print_json(const struct health_event *ev)
{
	char when[40], name[24], taint[24], inst[24];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return;
	cJSON_AddStringToObject(o, "time", format_iso8601(ev->real_ns, when, sizeof(when)));
	json_u64(o, "real_ns", ev->real_ns);
	json_u64(o, "boot_ns", ev->boot_ns);
	cJSON_AddStringToObject(o, "source", ev->source);
	cJSON_AddStringToObject(o, "type", event_name(ev->code, name, sizeof(name)));
	cJSON_AddStringToObject(o, "severity",
				health_severity_name(health_kmod_severity(ev->code, ev->has_error)));
	json_u64(o, "seq", ev->seq);
	snprintf(inst, sizeof(inst), "%016" PRIx64, ev->instance);
	cJSON_AddStringToObject(o, "instance", inst);
	cJSON_AddBoolToObject(o, "backlog", ev->from_backlog);
	json_str(o, "bus", ev->bus);
	json_str(o, "device", ev->device);
	json_str(o, "driver", ev->driver);
	json_str(o, "device_id", ev->device_id);
	json_str(o, "netdev", ev->netdev);
	if (ev->has_ifindex) {
		cJSON_AddNumberToObject(o, "ifindex", ev->ifindex);
		cJSON_AddNumberToObject(o, "netns", ev->netns);
	}
	if (ev->has_mtu) {
		cJSON_AddNumberToObject(o, "mtu", ev->mtu);
		cJSON_AddNumberToObject(o, "old_mtu", ev->old_mtu);
	}
	json_str(o, "module", ev->module);
	if (ev->has_taint) {
		json_u64(o, "taint", ev->taint);
		cJSON_AddStringToObject(o, "taint_flags",
					taint_letters(ev->taint, taint, sizeof(taint)));
	}
	if (ev->has_error)
		cJSON_AddNumberToObject(o, "error", ev->error);
	json_str(o, "detail", ev->detail);
	print_json_object(o);
}

static void on_event(void *ctx, const struct health_event *ev)
{
	struct trace_health *t = ctx;

	if (t->json)
		print_json(ev);
	else
		print_text(t, ev);
	t->printed++;
}

static void on_notice(void *ctx, const char *msg)
{
	(void)ctx;
	fflush(stdout);
	fprintf(stderr, "perfagent: %s\n", msg);
}

static void on_unbound(void *ctx, const struct health_unbound *u)
{
	struct trace_health *t = ctx;
	cJSON *o;

	t->printed++;
	if (!t->json) {
		printf("%s %s%s%s%s: no driver bound\n", u->bus, u->device,
		       u->device_id[0] ? " [" : "", u->device_id, u->device_id[0] ? "]" : "");
		return;
	}
	o = cJSON_CreateObject();
	if (!o)
		return;
	cJSON_AddStringToObject(o, "bus", u->bus);
	cJSON_AddStringToObject(o, "device", u->device);
	json_str(o, "device_id", u->device_id);
	print_json_object(o);
}

static void print_status_text(const struct health_status *st)
{
	char name[24];
	int code;

	printf("kernel module perfagent %s, netlink API %u, instance %016" PRIx64 "\n",
	       st->module_version, st->api_version, st->instance);
	printf("backlog: %u of %u events held", st->backlog_fill, st->backlog_size);
	if (st->backlog_fill)
		printf(" (sequence numbers %" PRIu64 "-%" PRIu64 ")", st->first_seq, st->last_seq);
	printf("; %" PRIu64 " overwritten, %" PRIu64 " never recorded, %" PRIu64
	       " multicasts failed\n", st->dropped, st->lost, st->mcast_failed);
	printf("devices without a driver when the module loaded: %u\n", st->unbound_at_load);
	printf("events since the module loaded:\n");
	for (code = 1; code <= PA_EV_MAX; code++)
		printf("  %-20s %" PRIu64 "\n", event_name(code, name, sizeof(name)),
		       st->counters[code]);
}

static void print_status_json(const struct health_status *st)
{
	cJSON *o = cJSON_CreateObject(), *c;
	char name[24], inst[24];
	int code;

	if (!o)
		return;
	cJSON_AddStringToObject(o, "module_version", st->module_version);
	cJSON_AddNumberToObject(o, "api_version", st->api_version);
	snprintf(inst, sizeof(inst), "%016" PRIx64, st->instance);
	cJSON_AddStringToObject(o, "instance", inst);
	cJSON_AddNumberToObject(o, "backlog_size", st->backlog_size);
	cJSON_AddNumberToObject(o, "backlog_fill", st->backlog_fill);
	json_u64(o, "first_seq", st->first_seq);
	json_u64(o, "last_seq", st->last_seq);
	json_u64(o, "dropped", st->dropped);
	json_u64(o, "lost", st->lost);
	json_u64(o, "mcast_failed", st->mcast_failed);
	cJSON_AddNumberToObject(o, "unbound_at_load", st->unbound_at_load);
	c = cJSON_AddObjectToObject(o, "counters");
	for (code = 1; c && code <= PA_EV_MAX; code++)
		json_u64(c, event_name(code, name, sizeof(name)), st->counters[code]);
	print_json_object(o);
}

static void print_summary(struct health_nl *h)
{
	struct health_stats s;

	health_nl_stats(h, &s);
	fprintf(stderr, "perfagent: %" PRIu64 " events (%" PRIu64 " from the backlog), %"
		PRIu64 " duplicates dropped, %" PRIu64 " socket overflows, %" PRIu64
		" lost, %" PRIu64 " reconnects\n", s.delivered, s.from_backlog,
		s.duplicates, s.overflows, s.lost, s.reconnects);
}

/* ---- the BPF side ---------------------------------------------------------- */

#define BPF_READ_NS	(1000 * NSEC_PER_MSEC)	/* suppressed counts, storms: every second */
#define STORM_REPEAT_NS	(60 * NSEC_PER_SEC)	/* a storm that goes on: said once a minute */
#define TABLE_TOP	15

static void print_view(const struct health_view *v, uint64_t real_ns)
{
	char when[32];

	printf("%s %-4s %-8s %-19s %s: %s\n", format_clock(real_ns, when, sizeof(when)), "bpf",
	       health_severity_name(v->severity), v->type, v->subject, v->text);
}

static void print_cjson(struct trace_health *t, cJSON *o)
{
	if (o) {
		print_json_object(o);
		t->printed++;
	}
}

static void on_bpf_event(void *ctx, const struct pa_health_event *e)
{
	struct trace_health *t = ctx;
	struct health_view v;

	t->bpf.events++;
	if (t->json) {
		print_cjson(t, health_event_json(e));
		return;
	}
	health_event_view(e, &v);
	print_view(&v, mono_to_realtime_ns(e->ts_ns));
	t->printed++;
}

static void report_suppressed(struct trace_health *t, double seconds)
{
	const struct health_read *r = &t->bpf.rd;
	struct health_view v;
	size_t i;

	for (i = 0; i < r->nsupp; i++) {
		if (t->json) {
			print_cjson(t, health_suppressed_json(&r->supp[i], seconds, realtime_ns()));
			continue;
		}
		health_suppressed_view(&r->supp[i], seconds, &v);
		print_view(&v, realtime_ns());
	}
}

/* What the probe could not record, said as it happens. */
static void report_losses(const struct health_losses *l)
{
	if (!l->events_lost && !l->keys_full && !l->irq_full)
		return;
	fflush(stdout);
	if (l->events_lost)
		fprintf(stderr, "perfagent: %" PRIu64 " BPF events lost: the buffer was full\n",
			l->events_lost);
	if (l->keys_full)
		fprintf(stderr, "perfagent: %" PRIu64 " BPF events passed without a rate limit: "
			"%d devices already limited\n", l->keys_full, PA_HEALTH_MAX_KEYS);
	if (l->irq_full)
		fprintf(stderr, "perfagent: %" PRIu64 " IRQ handler runs not timed: %d lines "
			"already kept\n", l->irq_full, PA_HEALTH_MAX_IRQS);
}

/* A hard-IRQ line at or above the storm rate: said when it starts, then at
 * most once a minute while it lasts.
 */
static void report_storms(struct trace_health *t, double seconds, uint64_t now)
{
	struct bpf_side *b = &t->bpf;
	struct health_view v;
	size_t i;

	if (!b->storm_rate || seconds <= 0)
		return;
	for (i = 0; i < b->rd.irqs.n; i++) {
		const struct health_irq_totals *row = &b->rd.irqs.rows[i];
		uint32_t slot = row->irq % PA_HEALTH_MAX_IRQS;

		if ((double)row->count / seconds < (double)b->storm_rate || now < b->storm_until[slot])
			continue;
		b->storm_until[slot] = now + STORM_REPEAT_NS;
		if (t->json) {
			print_cjson(t, health_storm_json(row, false, seconds, realtime_ns()));
			continue;
		}
		health_storm_view(row, false, seconds, &v);
		print_view(&v, realtime_ns());
		t->printed++;
	}
}

static int accumulate(struct bpf_side *b)
{
	size_t i;

	for (i = 0; i < b->rd.irqs.n; i++)
		if (health_irq_set_add(&b->interval_irqs, &b->rd.irqs.rows[i]) ||
		    health_irq_set_add(&b->run_irqs, &b->rd.irqs.rows[i]))
			return -ENOMEM;
	b->nsoft = b->rd.nsoftirqs;
	for (i = 0; i < b->nsoft; i++) {
		health_irq_totals_add(&b->interval_soft[i], &b->rd.softirqs[i]);
		health_irq_totals_add(&b->run_soft[i], &b->rd.softirqs[i]);
	}
	return 0;
}

static void print_table(struct trace_health *t, const struct health_irq_set *irqs,
			const struct health_irq_totals *soft, double seconds, bool final)
{
	if (t->json) {
		print_cjson(t, health_irq_table_json(irqs, soft, t->bpf.nsoft, seconds, final,
						     realtime_ns()));
		return;
	}
	health_irq_table_print(stdout, irqs, soft, t->bpf.nsoft, seconds, TABLE_TOP,
			       final ? "IRQ time, whole run" : "IRQ time");
}

/* The run loop's read, every BPF_READ_NS: the probe's aggregates. */
static int bpf_read(void *ctx)
{
	struct trace_health *t = ctx;
	struct bpf_side *b = &t->bpf;
	uint64_t now = mono_ns();
	int rc;

	if (!b->probe)
		return 0;
	rc = health_probe_read(b->probe, &b->rd);
	if (!rc)
		rc = accumulate(b);
	if (rc) {
		cli_error("reading the health probe's maps: %s", strerror(-rc));
		return 1;
	}
	b->read_seconds = (double)(now - b->last_read_ns) / 1e9;
	b->last_read_ns = now;
	b->suppressed += b->rd.losses.suppressed;
	b->lost += b->rd.losses.events_lost;
	return 0;
}

/* What the read found: suppressed counts and storms now, IRQ time tables
 * every table_ns and (final) for the whole run.
 */
static void bpf_report(void *ctx, uint64_t span_ns, bool final)
{
	struct trace_health *t = ctx;
	struct bpf_side *b = &t->bpf;
	uint64_t now = b->last_read_ns;

	(void)span_ns;	/* the tables keep their own periods */
	if (!b->probe)
		return;
	report_losses(&b->rd.losses);
	report_suppressed(t, b->read_seconds);
	report_storms(t, b->read_seconds, now);
	if (b->table_ns && (final || now - b->table_start_ns >= b->table_ns)) {
		print_table(t, &b->interval_irqs, b->interval_soft,
			    (double)(now - b->table_start_ns) / 1e9, false);
		health_irq_set_clear(&b->interval_irqs);
		memset(b->interval_soft, 0, sizeof(b->interval_soft));
		b->table_start_ns = now;
	}
	if (final && b->table_ns)
		print_table(t, &b->run_irqs, b->run_soft, (double)(now - b->start_ns) / 1e9, true);
}

static void bpf_summary(const struct bpf_side *b)
{
	fprintf(stderr, "perfagent: bpf: %" PRIu64 " events, %" PRIu64 " held back by the rate "
		"limit, %" PRIu64 " lost (buffer full)\n", b->events, b->suppressed, b->lost);
}

static void bpf_close(struct bpf_side *b)
{
	health_probe_close(b->probe);
	health_read_free(&b->rd);
	health_irq_set_free(&b->interval_irqs);
	health_irq_set_free(&b->run_irqs);
}

/* ---- following both sources --------------------------------------------------- */

#define KMOD_RETRY_NS	(5 * NSEC_PER_SEC)

static void retry_kmod(struct trace_health *t, struct kmod_side *k, uint64_t now)
{
	char err[512];

	if (k->h || !k->retry || now < k->next_try_ns)
		return;
	k->next_try_ns = now + KMOD_RETRY_NS;
	if (health_nl_open_opts(&k->h, &k->opts, on_event, on_notice, t, err, sizeof(err)) == 0)
		on_notice(t, "kernel module perfagent is loaded now; its events follow");
}

/* The run loop's wait: both sources' events, at most timeout_ms for either. */
static int wait_events(void *ctx, int timeout_ms)
{
	struct trace_health *t = ctx;
	struct kmod_side *k = &t->kmod;
	struct bpf_side *b = &t->bpf;
	struct pollfd pfd[2];
	char err[512];
	int n = 0;

	if (k->h)
		pfd[n++] = (struct pollfd){ .fd = health_nl_fd(k->h), .events = POLLIN };
	if (b->probe)
		pfd[n++] = (struct pollfd){ .fd = health_probe_poll_fd(b->probe),
					    .events = POLLIN };
	if (poll(pfd, n, timeout_ms) < 0 && errno != EINTR) {
		cli_error("waiting for events: %s", strerror(errno));
		return 1;
	}
	if (k->h && health_nl_dispatch(k->h, err, sizeof(err))) {
		cli_error("%s", err);
		return 1;
	}
	if (b->probe)
		health_probe_poll(b->probe, 0);
	retry_kmod(t, k, mono_ns());
	return 0;
}

/* Until -d or Ctrl-C, the probe read every BPF_READ_NS. */
static int follow(struct trace_health *t, uint64_t duration_ns)
{
	static const struct trace_cli_ops ops = {
		.wait = wait_events, .read = bpf_read, .report = bpf_report,
	};

	return trace_cli_run(&ops, t, BPF_READ_NS, duration_ns) ? 1 : 0;
}

static uint64_t own_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint64_t)st.st_ino;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: perfagent trace health [--json] [-d DURATION] [--source LIST] [OPTIONS]\n"
		"       perfagent trace health --status | --unbound [--json]\n"
		"\n"
		"Driver and system health, live, in one stream from two sources:\n"
		"  kmod  the perfagent kernel module: devices, drivers, network devices,\n"
		"        modules, oopses; first what its backlog holds (events from before\n"
		"        this command started, e.g. at boot), then as they happen\n"
		"  bpf   kernel tracepoints: block, SCSI and NVMe errors and timeouts, PCIe\n"
		"        AER, machine checks, transmit timeouts, devlink health reports, OOM\n"
		"        kills, KFENCE/KASAN/WARN reports, module loads, IRQ storms; each only\n"
		"        where this kernel has its tracepoint ('perfagent doctor' lists them)\n"
		"One line per event: time, source, severity, type, subject and details.\n"
		"Without the module the BPF events still show (and the module's once it is\n"
		"loaded). Needs root.\n"
		"\n"
		"Options:\n"
		"  --json               one JSON object per line\n"
		"  -d, --duration D     stop after D (e.g. 30s, 5m; a bare number is seconds)\n"
		"  --source LIST        kmod, bpf or kmod,bpf (default); with kmod alone a\n"
		"                       missing module is an error\n"
		"  --rcvbuf SIZE        module event socket buffer (e.g. 4M); a full buffer loses\n"
		"                       nothing, the backlog is read again, but costs a re-read\n"
		"  --status             the module's counters and backlog fill, then exit\n"
		"  --unbound            devices on PCI and platform buses without a driver, then exit\n"
		"\n"
		"BPF events:\n"
		"  --rate-limit N       at most N events per second per kind and device, in the\n"
		"                       kernel; the rest are counted and reported as rate_limited\n"
		"                       (default %d, 0 = no limit)\n"
		"  --burst N            events a key may send at once (default %d)\n"
		"  --irq-storm N        report an IRQ line handling N or more interrupts a second\n"
		"                       (default %d, 0 = never)\n"
		"  -i, --interval D     print IRQ and soft-IRQ time (rate, CPU share, p50, p99,\n"
		"                       max) every D, and for the whole run at the end\n"
		"  --no-irq             do not time IRQ handlers and soft-IRQs\n"
		"  --perf-buffer        stream through a perf buffer, not a ring buffer\n"
		"  --raw-tp             attach raw tracepoints instead of BTF-typed ones\n"
		"  -h, --help           this help\n",
		HEALTH_DEFAULT_RATE, HEALTH_DEFAULT_BURST, DEFAULT_IRQ_STORM);
}

struct health_args {
	bool json, status, unbound;
	bool kmod, bpf;		/* sources */
	uint64_t duration_ns;
	uint64_t rcvbuf;
	uint64_t interval_ns;
	uint32_t irq_storm;
	struct health_probe_opts probe;
};

static int parse_sources(const char *arg, struct health_args *a)
{
	if (!strcmp(arg, "kmod")) {
		a->kmod = true;
		a->bpf = false;
	} else if (!strcmp(arg, "bpf")) {
		a->kmod = false;
		a->bpf = true;
	} else if (!strcmp(arg, "kmod,bpf") || !strcmp(arg, "bpf,kmod") || !strcmp(arg, "all")) {
		a->kmod = a->bpf = true;
	} else {
		cli_error("--source %s: expected kmod, bpf or kmod,bpf", arg);
		return EXIT_USAGE;
	}
	return 0;
}

static int parse_count(const char *arg, const char *flag, uint32_t *out)
{
	unsigned long v;

	if (!trace_cli_ulong(arg, &v) || v > 100000000UL) {
		cli_error("%s %s: not a count (a whole number from 0)", flag, arg);
		return EXIT_USAGE;
	}
	*out = (uint32_t)v;
	return 0;
}

enum { OPT_JSON = 256, OPT_STATUS, OPT_UNBOUND, OPT_RCVBUF, OPT_SOURCE, OPT_RATE,
       OPT_BURST, OPT_STORM, OPT_NO_IRQ, OPT_PERFBUF, OPT_RAW_TP };

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "duration", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "unbound", no_argument, NULL, OPT_UNBOUND },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "rate-limit", required_argument, NULL, OPT_RATE },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "irq-storm", required_argument, NULL, OPT_STORM },
	{ "no-irq", no_argument, NULL, OPT_NO_IRQ },
	{ "perf-buffer", no_argument, NULL, OPT_PERFBUF },
	{ "raw-tp", no_argument, NULL, OPT_RAW_TP },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_duration(const char *arg, struct health_args *a)
{
	if (parse_duration_ns(arg, NSEC_PER_SEC, &a->duration_ns) || !a->duration_ns) {
		cli_error("-d %s: not a duration (e.g. 30s, 5m, 1h)", arg);
		return EXIT_USAGE;
	}
	return 0;
}

static int parse_interval(const char *arg, struct health_args *a)
{
	if (parse_duration_ns(arg, NSEC_PER_SEC, &a->interval_ns) ||
	    a->interval_ns < 100 * NSEC_PER_MSEC) {
		cli_error("-i %s: not a duration of at least 100ms (e.g. 1s, 10s)", arg);
		return EXIT_USAGE;
	}
	return 0;
}

static int parse_rcvbuf(const char *arg, struct health_args *a)
{
	if (parse_size_bytes(arg, &a->rcvbuf) || a->rcvbuf > (1ULL << 30)) {
		cli_error("--rcvbuf %s: not a size up to 1G (e.g. 256k, 4M)", arg);
		return EXIT_USAGE;
	}
	return 0;
}

static int parse_burst(const char *arg, struct health_args *a)
{
	if (parse_count(arg, "--burst", &a->probe.burst))
		return EXIT_USAGE;
	if (!a->probe.burst) {
		cli_error("--burst 0: a key must be able to send at least 1 event");
		return EXIT_USAGE;
	}
	return 0;
}

static int parse_opt(int c, void *opts)
{
	struct health_args *a = opts;

	switch (c) {
	case OPT_JSON: a->json = true; return 0;
	case OPT_STATUS: a->status = true; return 0;
	case OPT_UNBOUND: a->unbound = true; return 0;
	case 'd': return parse_duration(optarg, a);
	case 'i': return parse_interval(optarg, a);
	case OPT_RCVBUF: return parse_rcvbuf(optarg, a);
	case OPT_SOURCE: return parse_sources(optarg, a);
	case OPT_RATE: return parse_count(optarg, "--rate-limit", &a->probe.rate);
	case OPT_BURST: return parse_burst(optarg, a);
	case OPT_STORM: return parse_count(optarg, "--irq-storm", &a->irq_storm);
	case OPT_NO_IRQ: a->probe.no_irq = true; return 0;
	case OPT_PERFBUF: a->probe.perfbuf = true; return 0;
	case OPT_RAW_TP: a->probe.raw_tp = true; return 0;
	default: return -1;
	}
}

/* No leading ':': getopt says what is wrong with an option, then the usage. */
static const struct trace_cli cli = {
	.name = "health",
	.shortopts = "d:i:h",
	.longopts = long_opts,
	.usage = usage,
	.parse_opt = parse_opt,
};

/* Returns 0 to run, 1 when help was printed, -1 on bad usage. */
static int parse_args(int argc, char **argv, struct health_args *a)
{
	int rc;

	a->kmod = a->bpf = true;
	a->probe.rate = HEALTH_DEFAULT_RATE;
	a->probe.burst = HEALTH_DEFAULT_BURST;
	a->irq_storm = DEFAULT_IRQ_STORM;
	rc = trace_cli_parse(&cli, argc, argv, a);
	if (rc)
		return rc;
	if (a->status && a->unbound) {
		cli_error("--status and --unbound do not go together");
		return -1;
	}
	if (a->interval_ns && (!a->bpf || a->probe.no_irq)) {
		cli_error("-i prints IRQ time, which needs the bpf source and no --no-irq");
		return -1;
	}
	return 0;
}

/* --status and --unbound: requests to the module, nothing else. */
static int module_request(struct trace_health *t, const struct health_args *a)
{
	struct health_nl_opts opts = { .requests_only = true };
	struct health_status st;
	struct health_nl *h;
	char err[512];
	int rc;

	rc = health_nl_open_opts(&h, &opts, on_event, on_notice, t, err, sizeof(err));
	if (rc) {
		cli_error("%s", err);
		return 1;
	}
	if (a->status) {
		rc = health_nl_status(h, &st, err, sizeof(err));
		if (!rc)
			a->json ? print_status_json(&st) : print_status_text(&st);
	} else {
		rc = health_nl_unbound(h, on_unbound, t, err, sizeof(err));
	}
	if (rc)
		cli_error("%s", err);
	health_nl_close(h);
	return rc ? 1 : 0;
}

/* Connect to what is asked for. The stream runs when at least one source
 * does; a source that cannot is said once on stderr (and a missing module
 * looked for again while running). Returns 0, or the exit status.
 */
static int open_sources(struct trace_health *t, struct kmod_side *k, const struct health_args *a)
{
	char kerr[512] = "", berr[512] = "";
	int krc = 0, brc = 0;

	/* BPF first: once the module's backlog is printed, both are live. */
	if (a->bpf) {
		brc = health_probe_open(&t->bpf.probe, &a->probe, on_bpf_event, t, berr,
					sizeof(berr));
		t->bpf.start_ns = t->bpf.last_read_ns = t->bpf.table_start_ns = mono_ns();
	}
	if (a->kmod) {
		krc = health_nl_open_opts(&k->h, &k->opts, on_event, on_notice, t, kerr,
					  sizeof(kerr));
		k->retry = krc == -ENOENT;
		k->next_try_ns = mono_ns() + KMOD_RETRY_NS;
	}
	if ((!a->kmod || krc) && (!a->bpf || brc)) {
		if (a->kmod && a->bpf)
			cli_error("%s; and BPF events: %s", kerr, berr);
		else
			cli_error("%s", a->kmod ? kerr : berr);
		return 1;
	}
	if (a->kmod && krc) {
		fflush(stdout);
		fprintf(stderr, "perfagent: %s; showing BPF events only%s\n", kerr,
			k->retry ? " until it is loaded" : "");
	}
	if (a->bpf && brc) {
		fflush(stdout);
		fprintf(stderr, "perfagent: BPF events: %s; showing the kernel module's only\n",
			berr);
	}
	return 0;
}

static int trace(struct trace_health *t, const struct health_args *a)
{
	struct kmod_side *k = &t->kmod;
	int rc;

	env_setup_libbpf(cli_verbose);
	k->opts.rcvbuf = (int)a->rcvbuf;
	t->bpf.storm_rate = a->irq_storm;
	t->bpf.table_ns = a->interval_ns;
	rc = open_sources(t, k, a);
	if (!rc) {
		rc = follow(t, a->duration_ns);
		if (k->h)
			print_summary(k->h);
		if (t->bpf.probe)
			bpf_summary(&t->bpf);
	}
	health_nl_close(k->h);
	bpf_close(&t->bpf);
	return rc;
}

int cmd_trace_health(int argc, char **argv)
{
	struct health_args a = { 0 };
	struct trace_health *t;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return trace_cli_exit_code(rc);
	t = calloc(1, sizeof(*t));	/* IRQ tables: too big for the stack */
	if (!t) {
		cli_error("out of memory");
		return 1;
	}
	t->json = a.json;
	t->init_netns = own_netns();
	setvbuf(stdout, NULL, _IOLBF, 0);
	cli_catch_stop_signals();
	if (a.status || a.unbound)
		rc = module_request(t, &a);
	else
		rc = trace(t, &a);
	free(t);
	return rc;
}
