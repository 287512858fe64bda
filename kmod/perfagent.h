/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of the perfagent module share. Each watcher turns a kernel
 * notification into a struct pa_event and hands it to pa_record(); the
 * backlog keeps it and the netlink side sends it.
 */
#ifndef PERFAGENT_KMOD_H
#define PERFAGENT_KMOD_H

#include <linux/types.h>
#include <perfagent/genl.h>

#define PA_NAME_LEN PA_GENL_NAME_LEN

/* Which optional numeric fields of an event are meaningful. */
#define PA_F_IFINDEX	BIT(0)
#define PA_F_MTU	BIT(1)
#define PA_F_TAINT	BIT(2)
#define PA_F_ERROR	BIT(3)

/* One event, fixed size so the backlog never allocates. */
struct pa_event {
	u64 seq;
	u64 real_ns;
	u64 boot_ns;
	u64 taint;
	u32 code;		/* enum pa_event_code */
	u32 flags;		/* PA_F_* */
	u32 ifindex;
	u32 netns;
	u32 mtu;
	u32 old_mtu;
	s32 error;
	char bus[16];
	char device[PA_NAME_LEN];
	char driver[PA_NAME_LEN];
	char netdev[PA_NAME_LEN];
	char module[PA_NAME_LEN];
	char detail[PA_NAME_LEN];
	char device_id[32];
};

struct pa_stats {
	u64 counters[__PA_EV_MAX];
	u64 first_seq;		/* 0 when the backlog is empty */
	u64 last_seq;
	u64 dropped;
	u64 lost;
	u32 size;
	u32 fill;
};

/* main.c */
extern u64 pa_instance;
extern unsigned int pa_unbound_at_load;

/* backlog.c: may be called from any context except NMI. */
int pa_backlog_init(unsigned int size);
void pa_backlog_exit(void);
void pa_event_init(struct pa_event *ev, u32 code);
void pa_record(struct pa_event *ev);
/* The same from a context that may have interrupted a backlog user on this
 * CPU (an oops, possibly in NMI): never spins on the lock, counts a loss.
 */
void pa_record_nowait(struct pa_event *ev);
bool pa_backlog_next(u64 after_seq, struct pa_event *ev);
void pa_backlog_stats(struct pa_stats *st);

/* genl.c */
int pa_genl_init(void);
void pa_genl_exit(void);
void pa_genl_kick(void);		/* new events: multicast them soon */
void pa_genl_kick_from_nmi(void);

/* Watchers: *_init registers, *_exit unregisters and waits for callbacks. */
int pa_netdev_watch_init(void);
void pa_netdev_watch_exit(void);
int pa_bus_watch_init(void);
void pa_bus_watch_exit(void);
void pa_bus_watch_usb_appeared(void);	/* usbcore came live */
struct device;
/* "8086:100e class 020000" for a PCI device, "" for others. */
void pa_describe_device(struct device *dev, char *buf, size_t len);
int pa_module_watch_init(void);
void pa_module_watch_exit(void);
int pa_die_watch_init(void);
void pa_die_watch_exit(void);

/* unbound_scan.c */
struct pa_unbound {
	const char *bus;
	char device[PA_NAME_LEN];
	char device_id[32];
};

typedef int (*pa_unbound_fn)(void *ctx, const struct pa_unbound *u);
/*
 * Calls fn for each device without a driver from the *next-th one on (in a
 * stable order: PCI, then platform), until fn returns non-zero. *next is
 * then the index of the device to resume with. Returns non-zero if fn
 * stopped the walk.
 */
int pa_unbound_walk(unsigned long *next, pa_unbound_fn fn, void *ctx);
unsigned int pa_unbound_count(void);

#endif /* PERFAGENT_KMOD_H */
