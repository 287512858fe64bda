/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perfagent doctor: which sources can run on this machine, how, and why
 * not. One row per source in doctor.c's table; each source's check lives
 * with its probe and fills a doctor_result.
 */
#ifndef PERFAGENT_DOCTOR_H
#define PERFAGENT_DOCTOR_H

#include <stdbool.h>

enum doctor_state {
	DOCTOR_ACTIVE,		/* runs fully (possibly through a fallback, see notes) */
	DOCTOR_DEGRADED,	/* runs, but part of what it reports is missing here */
	DOCTOR_INACTIVE,	/* cannot run here; notes say why */
};

#define DOCTOR_MAX_NOTES	8
#define DOCTOR_NOTE_LEN		240

struct doctor_result {
	enum doctor_state state;
	char mechanism[160];			/* how it runs: "tp_btf, ring buffer" */
	char notes[DOCTOR_MAX_NOTES][DOCTOR_NOTE_LEN];
	int nnotes;
};

struct doctor_check {
	const char *source;	/* "disk": as in 'perfagent trace disk' */
	const char *watches;	/* one line: what the source reports */
	void (*check)(struct doctor_result *r);
};

/* A note; the state is left as it is (fallbacks, facts). */
void doctor_note(struct doctor_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A note that marks the source degraded (unless already inactive). */
void doctor_degraded(struct doctor_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A note that marks the source inactive: the reason it cannot run. */
void doctor_inactive(struct doctor_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void doctor_mechanism(struct doctor_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Privileges and BTF, which every BPF source needs: false (with the reason
 * noted and the source marked inactive) when either is missing.
 */
bool doctor_bpf_ready(struct doctor_result *r);

/* The checks, one per source; add yours here and a row in doctor.c. */
void doctor_check_syscalls(struct doctor_result *r);	/* doctor.c */
void doctor_check_disk(struct doctor_result *r);	/* disk.c */
void doctor_check_net(struct doctor_result *r);		/* net.c */
void doctor_check_health_bpf(struct doctor_result *r);	/* health_bpf.c */
void doctor_check_kmod(struct doctor_result *r);	/* doctor.c */

#endif
