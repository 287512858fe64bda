// SPDX-License-Identifier: GPL-2.0
/* The taint collector: decoding, change events, restarts, the host's value. */
#include "check.h"
#include "collect_taint.h"
#include "collect_test.h"

#define SEC 1000000000ULL

static void t_letters_exact(void)
{
	char buf[72];

	CHECK_STREQ(taint_letters(0, buf, sizeof(buf)), "");
	CHECK_STREQ(taint_letters(1, buf, sizeof(buf)), "P");
	CHECK_STREQ(taint_letters(4609, buf, sizeof(buf)), "PWO");	/* bits 0, 9, 12 */
	CHECK_STREQ(taint_letters(0x3000, buf, sizeof(buf)), "OE");
	/* every documented bit, 0..19, in order */
	CHECK_STREQ(taint_letters((1 << 20) - 1, buf, sizeof(buf)), "PFSRMBUDAWCIOELKXTNJ");
	CHECK_STREQ(taint_letters(1ULL << 30 | 1 << 9, buf, sizeof(buf)), "W?");
	CHECK_STREQ(taint_letters(0xfff, buf, 4), "PFS");	/* truncated, terminated */
}

static void t_meanings_exact(void)
{
	char buf[1024];

	CHECK_STREQ(taint_describe(0, buf, sizeof(buf)), "");
	CHECK_STREQ(taint_describe(0x280, buf, sizeof(buf)),
		    "D (kernel died recently, i.e. there was an OOPS or BUG), "
		    "W (kernel issued warning)");
	CHECK_STREQ(taint_describe(1 << 14, buf, sizeof(buf)), "L (soft lockup occurred)");
	CHECK_STREQ(taint_describe(1 << 19, buf, sizeof(buf)),
		    "J (userspace used a mutating debug operation in fwctl)");
	CHECK_STREQ(taint_describe(1ULL << 40, buf, sizeof(buf)), "? (unknown taint bit 40)");
	CHECK_STREQ(taint_describe(0x280, buf, 20), "");	/* first flag did not fit */
}

static void t_severity(void)
{
	CHECK(taint_severity(0) == ALERT_INFO);
	CHECK(taint_severity(1) == ALERT_INFO);			/* P */
	CHECK(taint_severity(0x3000) == ALERT_INFO);		/* O E */
	CHECK(taint_severity(1 << 9) == ALERT_WARNING);		/* W */
	CHECK(taint_severity(1 << 9 | 1 << 7) == ALERT_CRITICAL);	/* W D */
	CHECK(taint_severity(1 << 4) == ALERT_CRITICAL);		/* M */
	CHECK(taint_severity(1ULL << 33) == ALERT_WARNING);	/* unknown */
}

static int collect_once(const char *root, const char *state, struct capture *cap)
{
	struct collect_sink sink = cap_sink(cap);
	struct collector *c = open_collector("taint", root, state);
	int errors;

	if (!c)
		return -1;
	cap_reset(cap);
	errors = collector_collect(c, 0, &sink);
	collector_close(c);
	return errors;
}

/* Reported once per boot: again after a restart only if it changed. */
static void t_change_events_and_restarts(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	const char *fx = fixture("proc-taint");
	char state[64], root[64];
	struct collector *c;

	CHECK(scratch_make(state, sizeof(state)));
	CHECK(scratch_make(root, sizeof(root)));

	c = open_collector("taint", fx, state);
	CHECK(c);
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(cap_get(&cap, "kernel.tainted") == 4608);
	CHECKF(cap.nev == 1, "%zu events", cap.nev);
	CHECK_STREQ(cap.ev[0].kind, "kernel.taint_changed");
	CHECK(cap.ev[0].severity == ALERT_WARNING);
	CHECK_STREQ(cap.ev[0].message,
		    "kernel tainted: W (kernel issued warning), O (externally-built "
		    "(\"out-of-tree\") module was loaded) (taint 0 -> 4608, flags now WO)");
	CHECK_STREQ(cap.ev[0].labels, "flags=WO,new_flags=WO,tainted=4608");
	cap_reset(&cap);
	CHECK(collector_collect(c, SEC, &sink) == 0);
	CHECK(cap.nev == 0 && cap_get(&cap, "kernel.tainted") == 4608);
	cap_reset(&cap);
	collector_close(c);

	/* restart, same boot, same value: nothing new to say */
	CHECK(collect_once(fx, state, &cap) == 0);
	CHECK(cap.nev == 0 && cap_get(&cap, "kernel.tainted") == 4608);

	/* same boot, the kernel oopsed while the agent was down: D is new */
	CHECK(put_file(root, "proc/sys/kernel/random/boot_id",
		       "0b4d5e8c-5f7c-4c57-9c4e-2a1f00d1e001\n") == 0);
	CHECK(put_file(root, "proc/sys/kernel/tainted", "4736\n") == 0);
	CHECK(collect_once(root, state, &cap) == 0);
	CHECKF(cap.nev == 1, "%zu events", cap.nev);
	CHECK(cap.ev[0].severity == ALERT_CRITICAL);
	CHECK_STREQ(cap.ev[0].labels, "flags=DWO,new_flags=D,tainted=4736");
	CHECK(strstr(cap.ev[0].message, "kernel tainted: D (kernel died recently, i.e. there "
			"was an OOPS or BUG) (taint 4608 -> 4736, flags now DWO)"));

	/* a new boot: whatever is set is news again */
	CHECK(put_file(root, "proc/sys/kernel/random/boot_id", "another-boot\n") == 0);
	CHECK(put_file(root, "proc/sys/kernel/tainted", "512\n") == 0);
	CHECK(collect_once(root, state, &cap) == 0);
	CHECKF(cap.nev == 1, "%zu events", cap.nev);
	CHECK_STREQ(cap.ev[0].labels, "flags=W,new_flags=W,tainted=512");

	/* an untainted new boot says nothing */
	CHECK(put_file(root, "proc/sys/kernel/random/boot_id", "third-boot\n") == 0);
	CHECK(put_file(root, "proc/sys/kernel/tainted", "0\n") == 0);
	CHECK(collect_once(root, state, &cap) == 0);
	CHECK(cap.nev == 0 && cap_get(&cap, "kernel.tainted") == 0);
	cap_reset(&cap);
	scratch_remove(root);
	scratch_remove(state);
}

static void t_malformed_value(void)
{
	struct capture cap = { 0 };
	char state[64];

	CHECK(scratch_make(state, sizeof(state)));
	CHECK(collect_once(fixture("proc-taint-bad"), state, &cap) == 1);
	CHECK(cap_error(&cap, "proc-taint-bad/proc/sys/kernel/tainted:1: expected a number, "
			"got \"tainted!\"") >= 0);
	CHECK(cap.n == 0 && cap.nev == 0);
	cap_reset(&cap);
	scratch_remove(state);
}

static void t_unwritable_state_dir_is_an_error_not_a_repeat(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("taint", fixture("proc-taint"),
					     "/proc/perfagent-no-such-dir");

	CHECK(c);
	CHECK(collector_collect(c, 0, &sink) == 1);
	CHECK(cap.nev == 1);
	CHECK(cap_error(&cap, "state directory /proc/perfagent-no-such-dir: ") >= 0);
	cap_reset(&cap);
	/* within this run it is still reported only once */
	CHECK(collector_collect(c, SEC, &sink) == 0);
	CHECK(cap.nev == 0);
	cap_reset(&cap);
	collector_close(c);
}

static void t_real_host_value(void)
{
	struct capture cap = { 0 };
	char state[64], text[32] = "";
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");

	CHECK(f);
	CHECK(fgets(text, sizeof(text), f));
	fclose(f);
	CHECK(scratch_make(state, sizeof(state)));
	CHECK(collect_once(NULL, state, &cap) == 0);
	CHECK(cap_get(&cap, "kernel.tainted") == strtod(text, NULL));
	CHECK(cap.nev == (strtod(text, NULL) != 0));
	cap_reset(&cap);
	scratch_remove(state);
}

int main(void)
{
	RUN(t_letters_exact);
	RUN(t_meanings_exact);
	RUN(t_severity);
	RUN(t_change_events_and_restarts);
	RUN(t_malformed_value);
	RUN(t_unwritable_state_dir_is_an_error_not_a_repeat);
	RUN(t_real_host_value);
	CHECK_EXIT();
}
