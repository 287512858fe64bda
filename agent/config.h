/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's configuration: JSON (docs/config.md documents every field)
 * parsed into struct config, every field checked, defaults filled in.
 *
 * Errors name the field by its JSON path, show the value and say what is
 * allowed, one line each:
 *   rules[2].warn: "10 ms" is not a duration (use e.g. "10ms", "1.5s")
 *   logs.rotat: unknown key (known: dir, max_size, daily, ...)
 * A config with any error is refused as a whole.
 */
#ifndef PERFAGENT_CONFIG_H
#define PERFAGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "alert.h"
#include "rules.h"

#define CONFIG_MAX_ERRORS	20
#define CONFIG_ERROR_MAX	384
#define CONFIG_MAX_BYTES	(1 << 20)	/* a config file larger than this is refused */
#define CONFIG_OVERHEAD_RULE	"probe-overhead"

struct config_errors {
	unsigned int n;			/* kept in msg[] */
	unsigned int dropped;		/* more than CONFIG_MAX_ERRORS */
	char msg[CONFIG_MAX_ERRORS][CONFIG_ERROR_MAX];
};

struct config_strings {
	char **v;
	size_t n;
};

struct config_syscall_probe {
	bool enabled;
	uint32_t pid;			/* 0: every process */
	char *comm;			/* "": any */
	char *cgroup;			/* "": any; else a cgroup v2 directory */
	struct config_strings syscalls;	/* empty: all */
	uint64_t slow_ns;		/* log calls at least this slow; 0: none */
};

struct config_disk_probe {
	bool enabled;
	struct config_strings devices;	/* empty: all */
	uint64_t slow_ns;
	uint32_t rate;			/* slow/failed I/O events per second per key; 0: no limit */
};

struct config_net_probe {
	bool enabled;
	uint16_t port;			/* local or remote port, 0: all */
	uint32_t rate;			/* events per second per key; 0: no limit */
};

struct config_collectors {
	bool cpu, cpu_per_cpu;
	bool mem, psi, load, limits;
	bool fs;
	struct config_strings fs_mountpoints;	/* globs; empty: all */
	bool netdev;
	struct config_strings netdev_interfaces; /* globs; empty: all */
	bool taint, pstore;
};

struct config {
	uint64_t interval_ns;
	struct {
		struct config_syscall_probe syscall;
		struct config_disk_probe disk;
		struct config_net_probe net;
		struct {
			bool enabled;	/* kernel module health events, when it is loaded */
		} health;
	} probes;
	struct config_collectors collectors;
	struct {
		char *dir;
		uint64_t max_size;	/* rotate when a file reaches this */
		bool daily;		/* and at midnight (local time) */
		uint32_t max_files;	/* rotated files kept per log; 0: no limit */
		uint64_t max_total;	/* bytes of rotated files kept; 0: no limit */
		bool compress;		/* gzip rotated files */
	} logs;
	struct {
		bool enabled;
		enum alert_severity min_severity;
		char *socket;
	} journald;
	struct {
		bool enabled;		/* set by the presence of the object */
		char *path;
		struct config_strings args;
		uint64_t timeout_ns;
		enum alert_severity min_severity;
	} alert_command;
	struct {
		double max_cpu;		/* share of one CPU per probe; 0: not watched */
		uint64_t hold_ns;
		bool detach;		/* detach a probe over budget */
	} overhead;
	struct {
		char *pid_file;
		char *control_socket;
		char *state_dir;
	} daemon;
	bool default_rules;		/* no "rules" key: the built-in rules */
	struct rule_def *rules;
	size_t nrules;
};

/* The built-in configuration, useful as it is. 0 or -ENOMEM. */
int config_default(struct config *c);

/*
 * Parse a JSON text. Returns 0 (c filled), -EINVAL (c untouched, errs says
 * why) or -ENOMEM. c must be freed with config_free after success.
 */
int config_parse(const char *json, struct config *c, struct config_errors *errs);

/* config_parse of a file; an unreadable file is one error in errs. */
int config_load(const char *path, struct config *c, struct config_errors *errs);

/*
 * The whole configuration (every field, defaults included) as formatted
 * JSON that config_parse reads back to the same config. malloc'd; NULL when
 * out of memory.
 */
char *config_to_json(const struct config *c);

/*
 * The rules the engine runs: c->rules plus the one the overhead section
 * makes (CONFIG_OVERHEAD_RULE on probe.cpu_ratio) when max_cpu > 0.
 * *out is malloc'd. 0 or -ENOMEM.
 */
int config_engine_rules(const struct config *c, struct rule_def **out, size_t *n);

void config_free(struct config *c);

/* JSON as config_to_json writes it (two-space indents); malloc'd or NULL. */
char *config_pretty_json(const cJSON *root);

/* A duration as the config writes it, exactly: "10s", "250ms", "90m". */
char *config_format_duration(uint64_t ns, char *buf, size_t len);

/* The JSON keys of a rule's levels, by severity: "info", "warn", "crit". */
extern const char *const config_level_keys[RULE_LEVELS];

/* A size and a ratio as the config writes them: "64M", "5%". */
char *config_format_size(uint64_t b, char *buf, size_t len);
const char *config_format_ratio(double v, char *buf, size_t len);

#endif
