// SPDX-License-Identifier: GPL-2.0
/*
 * Oopses, best effort, from the die notifier. The notifier runs with
 * interrupts off, possibly in NMI, possibly after the oops interrupted this
 * very module on this CPU: the event is recorded without waiting for the
 * backlog lock (counted as lost when it is busy) and the multicast is
 * deferred through irq_work. The console already has the oops text; the
 * event says that and when it happened, with the die reason.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kdebug.h>
#include <linux/notifier.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "perfagent.h"

static int pa_die_event(struct notifier_block *nb, unsigned long val, void *data)
{
	struct die_args *args = data;
	struct pa_event ev;

	/* The other die values are traps the kernel handles (breakpoints,
	 * user-space faults), reported on every occurrence: not health events.
	 */
	if (val != DIE_OOPS)
		return NOTIFY_DONE;
	pa_event_init(&ev, PA_EV_DIE);
	snprintf(ev.detail, sizeof(ev.detail), "%s (trap %d, error code %#lx, in %s)",
		 args->str ? args->str : "oops", args->trapnr, args->err, current->comm);
	pa_record_nowait(&ev);
	return NOTIFY_DONE;
}

static struct notifier_block pa_die_nb = { .notifier_call = pa_die_event };

int pa_die_watch_init(void)
{
	return register_die_notifier(&pa_die_nb);
}

void pa_die_watch_exit(void)
{
	unregister_die_notifier(&pa_die_nb);
}
