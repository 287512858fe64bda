// SPDX-License-Identifier: GPL-2.0
/*
 * Modules coming, live and going, with the taint flags loading each one
 * added to the kernel (out-of-tree, unsigned, proprietary...).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/string.h>

#include "perfagent.h"

static int pa_module_event(struct notifier_block *nb, unsigned long action, void *data)
{
	struct module *mod = data;
	struct pa_event ev;
	u32 code;

	switch (action) {
	case MODULE_STATE_COMING:
		code = PA_EV_MODULE_COMING;
		break;
	case MODULE_STATE_LIVE:
		code = PA_EV_MODULE_LIVE;
		break;
	case MODULE_STATE_GOING:
		code = PA_EV_MODULE_GOING;
		break;
	default:
		return NOTIFY_DONE;
	}
	pa_event_init(&ev, code);
	strscpy(ev.module, mod->name, sizeof(ev.module));
	ev.taint = mod->taints;
	ev.flags = PA_F_TAINT;
	pa_record(&ev);
	if (code == PA_EV_MODULE_LIVE && !strcmp(mod->name, "usbcore"))
		pa_bus_watch_usb_appeared();
	return NOTIFY_DONE;
}

static struct notifier_block pa_module_nb = { .notifier_call = pa_module_event };

int pa_module_watch_init(void)
{
	return register_module_notifier(&pa_module_nb);
}

void pa_module_watch_exit(void)
{
	unregister_module_notifier(&pa_module_nb);
}
