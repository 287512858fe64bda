/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perfagent --daemon: every probe and collector, aggregated each interval,
 * rules evaluated, everything logged, alerts to the journal.
 *
 * One thread runs the daemon (the log writer's compression worker and the
 * alert command's reaper are the only others). It waits in one epoll on:
 * the interval timer, a signalfd (SIGHUP reload, SIGTERM/SIGINT stop), the
 * probes' ring buffers, the kernel module's netlink socket and the control
 * socket. Each interval (daemon_tick):
 *
 *   probes and collectors -> metric samples (struct metric_batch)
 *   + the agent's own samples: probe cost, losses per stage, its CPU and RSS
 *   -> metrics.jsonl, then the rules engine -> alert transitions
 *   -> alerts.jsonl, the journal, the alert command
 *
 * Events (slow calls, slow/failed I/O, network drops, health, collector
 * events) go to events.jsonl as they arrive. Each responsibility is one
 * file: daemon_probes.c, daemon_events.c, daemon_metrics.c, daemon_collect.c,
 * daemon_alerts.c, daemon_losses.c, daemon_selfcost.c, daemon_pin.c,
 * daemon_control.c, daemon_status.c, daemon_health.c, daemon_log.c,
 * daemon_pidfile.c, daemon_sdnotify.c.
 */
#ifndef PERFAGENT_DAEMON_H
#define PERFAGENT_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

#include "config.h"
#include "metrics.h"
#include "rules.h"

struct logwriter;
struct journal_sink;
struct alert_exec;
struct collector;
struct health_nl;
struct syscall_probe;
struct disk_probe;
struct net_probe;
struct health_probe;
struct bpf_object;
struct ring_buffer;
struct pa_syscall_event;
struct pa_disk_event;
struct pa_net_event;
struct pa_health_event;

/* Where the pins go: /sys/fs/bpf/perfagent/<probe>/<program or map name>. */
#define DAEMON_BPFFS		"/sys/fs/bpf"
#define DAEMON_PIN_ROOT		DAEMON_BPFFS "/perfagent"

/* Streamed events written per probe per second of interval, at most. */
#define DAEMON_EVENTS_PER_S	10000

struct daemon_opts {
	const char *config_path;	/* NULL: the built-in config */
	bool foreground;		/* --foreground */
};

/* Run the daemon until SIGTERM/SIGINT. Returns the process exit status. */
int daemon_main(const struct daemon_opts *o);

/* ---- internal: shared by the daemon_*.c files ------------------------- */

/* What woke the main loop: epoll data is DAEMON_EV(kind, index). */
enum daemon_ev_kind {
	DAEMON_EV_TIMER = 1,
	DAEMON_EV_SIGNAL,
	DAEMON_EV_CONTROL,
	DAEMON_EV_HEALTH,
	DAEMON_EV_PROBE,
};
#define DAEMON_EV(kind, id)	(((uint64_t)(kind) << 32) | (uint32_t)(id))

enum dprobe_id { DPROBE_SYSCALL, DPROBE_DISK, DPROBE_NET, DPROBE_HEALTH, DPROBE_COUNT };

enum dprobe_state {
	DPROBE_DISABLED,	/* off in the config */
	DPROBE_ATTACHED,
	DPROBE_UNAVAILABLE,	/* could not be loaded here; note says why */
	DPROBE_DETACHED,	/* over its CPU budget, detached (overhead.detach) */
};

#define DPROBE_MAX_PROGS	16

/* One BPF program of a probe, with its BPF run-time statistics. */
struct dprog {
	char name[32];
	uint32_t id;
	uint64_t run_cnt, run_time_ns;		/* since load */
};

/* Loss counters of one stage, as the daemon accumulates them. */
struct loss_counter {
	uint64_t sent, lost;			/* this interval */
	uint64_t sent_total, lost_total;
	bool seen;				/* ever active: keep reporting it */
};

struct dprobe {
	const char *name;			/* "syscall", "disk", "net" */
	enum dprobe_state state;
	char mechanism[160];
	char note[320];				/* why unavailable, what is missing */
	union {
		struct syscall_probe *sys;
		struct disk_probe *disk;
		struct net_probe *net;
		struct health_probe *health;
		void *any;
	} p;
	struct bpf_object *obj;
	int poll_fd;				/* -1 when none */
	struct ring_buffer *rb;			/* the daemon's consumer (daemon_events.c) */
	bool armed;				/* poll_fd in the epoll set */
	uint64_t budget_used;			/* events consumed this interval */
	uint64_t budget_stops;			/* intervals the budget ran out */
	bool pinned;
	uint64_t opened_mono;
	/* Self-cost: sums over the probe's programs at the last read. */
	struct dprog progs[DPROBE_MAX_PROGS];
	unsigned int nprogs;
	uint64_t run_cnt, run_time_ns;		/* sums since load */
	uint64_t prev_cnt, prev_time;
	bool have_prev;
	double cpu_ratio, runs_per_s;		/* last interval */
	/* Events streamed (slow calls, ...), counted as they arrive. */
	uint64_t events_interval, events_total;
	double events_per_s;
	/* Detailed losses of the last interval, for the gap record. */
	uint64_t lost_detail[6];
	const char *lost_detail_names[6];
	unsigned int nlost_detail;
};

/* The stages that can lose something, each a `source` label value. */
enum loss_stage {
	LOSS_SYSCALL, LOSS_DISK, LOSS_NET,	/* ring buffer reservations, */
	LOSS_HEALTH,				/* indexed like the probes */
	LOSS_KMOD,				/* kernel module events */
	LOSS_LOG,				/* lines the log writer could not write */
	LOSS_JOURNAL,				/* alerts the journal did not take */
	LOSS_ALERT_COMMAND,			/* alert commands not run (too many running) */
	LOSS_RULES,				/* samples the rules engine dropped (too many series) */
	LOSS_STAGES
};

struct daemon_losses {
	struct loss_counter stage[LOSS_STAGES];
	uint64_t log_written_prev, log_dropped_prev;
	uint64_t journal_sent_prev, journal_failed_prev;
	uint64_t exec_started_prev, exec_skipped_prev;
	uint64_t rules_samples_prev, rules_dropped_prev;
	uint64_t health_delivered_prev, health_lost_prev;
	uint64_t gap_records;			/* "lost" records written */
};

struct daemon_collector {
	struct collector *c;
	const char *name;
	char note[320];				/* open failure or unavailable */
	char last_error[320];			/* last error logged (not repeated) */
	uint64_t last_error_mono;
	uint64_t errors;
};

struct daemon_health {
	struct health_nl *nl;
	bool connected;
	char note[320];
	uint64_t next_try_mono;
	uint64_t events_total, events_interval;
	uint64_t per_kind[40];			/* by event code, this interval */
	bool kind_seen[40];
	uint64_t bpf_kind[32];			/* health probe events by PA_HK_*, this interval */
	bool bpf_kind_seen[32];
};

struct daemon_disk_dev {
	uint32_t major, minor;
	char name[64];
	uint64_t io_ticks_ms;			/* /sys/dev/block/M:m/stat field 10 */
	bool have_ticks;
};

struct daemon {
	/* configuration */
	struct config cfg;
	char *config_path;			/* NULL: built-in */
	uint64_t config_loaded_rt;
	uint64_t reloads, reload_failures;
	char reload_error[CONFIG_ERROR_MAX * 2];
	struct rule_def *rules;			/* what the engine runs */
	size_t nrules;
	bool foreground;
	bool under_systemd;

	/* lifetime */
	uint64_t start_mono, start_rt;
	uint64_t last_tick_mono, ticks;
	int epfd, sigfd, timerfd;
	bool stopping;
	char host[256];

	/* sinks */
	struct logwriter *lw;
	struct journal_sink *journal;
	struct alert_exec *aexec;

	/* analysis */
	struct rules_engine *engine;
	struct metric_batch batch;
	struct rule_transitions trans;
	uint64_t alerts_firing_total, alerts_resolved_total;

	/* sources */
	struct dprobe probes[DPROBE_COUNT];
	struct daemon_collector *collectors;
	size_t ncollectors;
	struct daemon_health health;
	struct daemon_disk_dev *disks;
	size_t ndisks;

	/* the agent itself */
	struct daemon_losses losses;
	int stats_fd;				/* bpf_enable_stats(BPF_STATS_RUN_TIME); -1: none */
	char stats_note[200];
	int pin_lock_fd;			/* flock on DAEMON_PIN_ROOT; -1: not pinning */
	char pin_note[320];
	uint64_t self_cpu_prev_ns;
	double self_cpu_ratio;
	uint64_t self_rss_bytes;
	int control_fd;
	char control_path[128];
	int pid_fd;
	char pid_path[256];
};

/* daemon.c */
void daemon_tick(struct daemon *d);
const char *dprobe_state_name(enum dprobe_state s);

/* daemon_log.c: the daemon's own messages. stderr (which systemd and a
 * terminal see), events.jsonl ("type":"agent"), and for warnings and worse
 * the journal. level: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO.
 */
void daemon_log(struct daemon *d, int level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A native-protocol journal entry that is not an alert; extra fields are
 * "KEY=value" strings, NULL-terminated. 0 or -errno.
 */
int daemon_journal_notice(struct daemon *d, int priority, const char *message,
			  const char *const *fields);
/* Write one cJSON object to a stream; frees obj. */
void daemon_write_json(struct daemon *d, int stream, uint64_t ts_rt, cJSON *obj);

/* daemon_probes.c */
void daemon_probes_open(struct daemon *d);
void daemon_probes_reconfigure(struct daemon *d, const struct config *old);
void daemon_probes_close(struct daemon *d);
void daemon_probe_detach(struct daemon *d, enum dprobe_id id, const char *why);
void daemon_probes_drain(struct daemon *d);
void daemon_probes_read(struct daemon *d, uint64_t span_ns, uint64_t ts);

/* daemon_events.c: streamed events -> events.jsonl, within a budget */
void daemon_on_syscall_event(void *ctx, const struct pa_syscall_event *e);
void daemon_on_disk_event(void *ctx, const struct pa_disk_event *e);
void daemon_on_net_event(void *ctx, const struct pa_net_event *e);
void daemon_on_health_event(void *ctx, const struct pa_health_event *e);
void daemon_events_open(struct daemon *d, enum dprobe_id id, int probe_fd);
void daemon_events_close(struct daemon *d, enum dprobe_id id);
void daemon_events_ready(struct daemon *d, enum dprobe_id id);
void daemon_events_tick(struct daemon *d);

/* daemon_metrics.c: probe aggregates -> samples, and metrics.jsonl lines */
struct syscall_totals;
struct disk_set;
struct net_totals;
void daemon_metrics_syscalls(struct daemon *d, const struct syscall_totals *t,
			     uint64_t span_ns, uint64_t ts);
void daemon_metrics_disks(struct daemon *d, const struct disk_set *set,
			  uint64_t span_ns, uint64_t ts);
void daemon_metrics_net(struct daemon *d, const struct net_totals *t,
			uint64_t span_ns, uint64_t ts);
void daemon_add_sample(struct daemon *d, const char *name, double value, uint64_t ts, ...)
	__attribute__((sentinel));
void daemon_metrics_write(struct daemon *d, uint64_t ts_rt);
/* JSON string body (no quotes) of s appended at buf[*pos]; false when full. */
bool json_escape(char *buf, size_t len, size_t *pos, const char *s);

/* daemon_collect.c */
void daemon_collectors_open(struct daemon *d);
void daemon_collectors_reconfigure(struct daemon *d);
void daemon_collectors_close(struct daemon *d);
void daemon_collectors_run(struct daemon *d, uint64_t span_ns);

/* daemon_health.c: the kernel module over generic netlink */
void daemon_health_open(struct daemon *d, bool quiet);
void daemon_health_close(struct daemon *d);
void daemon_health_dispatch(struct daemon *d);
void daemon_health_tick(struct daemon *d, uint64_t span_ns, uint64_t ts);

/* daemon_alerts.c */
int daemon_alerts_open_sinks(struct daemon *d, char *err, size_t len);
void daemon_alerts_close_sinks(struct daemon *d);
void daemon_alerts_reconfigure(struct daemon *d, const struct config *old);
int daemon_rules_build(const struct config *c, struct rule_def **rules, size_t *n);
void daemon_alerts_deliver(struct daemon *d, const struct rule_transitions *t);
void daemon_alert_event(struct daemon *d, enum alert_kind kind, enum alert_severity sev,
			const char *rule, const char *message,
			const struct metric_label *labels, unsigned int nlabels);

/* daemon_losses.c */
const char *loss_stage_name(enum loss_stage s);
void daemon_losses_tick(struct daemon *d, uint64_t span_ns, uint64_t ts, uint64_t ts_rt);

/* daemon_selfcost.c */
void daemon_selfcost_open(struct daemon *d);
void daemon_selfcost_close(struct daemon *d);
void daemon_selfcost_reset(struct dprobe *p);
void daemon_selfcost_tick(struct daemon *d, uint64_t span_ns, uint64_t ts);
void daemon_overhead_check(struct daemon *d, const struct rule_transitions *t);

/* daemon_pin.c */
void daemon_pin_open(struct daemon *d);
void daemon_pin_probe(struct daemon *d, struct dprobe *p);
void daemon_unpin_probe(struct daemon *d, struct dprobe *p);
void daemon_pin_close(struct daemon *d);

/* daemon_control.c: the control socket; daemon_status.c builds the answer */
int daemon_control_open(struct daemon *d, char *err, size_t len);
void daemon_control_accept(struct daemon *d);
void daemon_control_close(struct daemon *d);
cJSON *daemon_status_json(struct daemon *d);

/* daemon_pidfile.c */
int daemon_pidfile_lock(struct daemon *d, const char *path, char *err, size_t len);
int daemon_pidfile_write(struct daemon *d);
void daemon_pidfile_remove(struct daemon *d);

/* daemon_sdnotify.c: sd_notify(3) without libsystemd. 0, or -errno; 0 when
 * NOTIFY_SOCKET is not set.
 */
int daemon_sd_notify(const char *state);

#endif
