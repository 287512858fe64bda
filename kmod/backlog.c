// SPDX-License-Identifier: GPL-2.0
/*
 * The backlog: a bounded ring of the most recent events, so that what
 * happened before the agent connected (at boot, say) reaches it when it
 * does. Full means the oldest event is overwritten and counted as dropped.
 *
 * Events carry a sequence number (1, 2, 3... per module load) that the
 * agent uses to merge the backlog dump with the live multicast without
 * duplicates, and to see gaps. Callers may be in any context, including
 * hard interrupts with interrupts off, so the lock is a raw spinlock taken
 * with interrupts saved, and nothing here allocates or sleeps.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "perfagent.h"

static DEFINE_RAW_SPINLOCK(pa_ring_lock);
static struct pa_event *pa_ring;
static u32 pa_ring_size;
static u32 pa_ring_head;	/* slot of the oldest event */
static u32 pa_ring_fill;
static u64 pa_next_seq = 1;
static u64 pa_dropped;
static u64 pa_counters[__PA_EV_MAX];
static atomic64_t pa_lost = ATOMIC64_INIT(0);

int pa_backlog_init(unsigned int size)
{
	pa_ring = kvcalloc(size, sizeof(*pa_ring), GFP_KERNEL);
	if (!pa_ring)
		return -ENOMEM;
	pa_ring_size = size;
	return 0;
}

void pa_backlog_exit(void)
{
	kvfree(pa_ring);
	pa_ring = NULL;
}

/* The NMI-safe clocks: an event may be recorded from an oops. */
void pa_event_init(struct pa_event *ev, u32 code)
{
	memset(ev, 0, sizeof(*ev));
	ev->code = code;
	ev->real_ns = ktime_get_real_fast_ns();
	ev->boot_ns = ktime_get_boot_fast_ns();
}

static void pa_store_locked(struct pa_event *ev)
{
	u32 slot;

	ev->seq = pa_next_seq++;
	if (pa_ring_fill < pa_ring_size) {
		slot = (pa_ring_head + pa_ring_fill) % pa_ring_size;
		pa_ring_fill++;
	} else {
		slot = pa_ring_head;
		pa_ring_head = (pa_ring_head + 1) % pa_ring_size;
		pa_dropped++;
	}
	pa_ring[slot] = *ev;
	if (ev->code < __PA_EV_MAX)
		pa_counters[ev->code]++;
}

void pa_record(struct pa_event *ev)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&pa_ring_lock, flags);
	pa_store_locked(ev);
	raw_spin_unlock_irqrestore(&pa_ring_lock, flags);
	pa_genl_kick();
}

void pa_record_nowait(struct pa_event *ev)
{
	unsigned long flags;

	if (!raw_spin_trylock_irqsave(&pa_ring_lock, flags)) {
		atomic64_inc(&pa_lost);
		return;
	}
	pa_store_locked(ev);
	raw_spin_unlock_irqrestore(&pa_ring_lock, flags);
	pa_genl_kick_from_nmi();
}

/*
 * Copy the oldest event held whose sequence number is greater than
 * after_seq. Returns false when there is none. Events already overwritten
 * are skipped: the reader sees the gap in the sequence numbers.
 */
bool pa_backlog_next(u64 after_seq, struct pa_event *ev)
{
	unsigned long flags;
	u64 first, want;
	bool found = false;

	raw_spin_lock_irqsave(&pa_ring_lock, flags);
	first = pa_next_seq - pa_ring_fill;
	want = max(after_seq + 1, first);
	if (want < pa_next_seq) {
		*ev = pa_ring[(pa_ring_head + (u32)(want - first)) % pa_ring_size];
		found = true;
	}
	raw_spin_unlock_irqrestore(&pa_ring_lock, flags);
	return found;
}

void pa_backlog_stats(struct pa_stats *st)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&pa_ring_lock, flags);
	memcpy(st->counters, pa_counters, sizeof(st->counters));
	st->first_seq = pa_ring_fill ? pa_next_seq - pa_ring_fill : 0;
	st->last_seq = pa_next_seq - 1;
	st->dropped = pa_dropped;
	st->size = pa_ring_size;
	st->fill = pa_ring_fill;
	raw_spin_unlock_irqrestore(&pa_ring_lock, flags);
	st->lost = atomic64_read(&pa_lost);
}
