// SPDX-License-Identifier: GPL-2.0
/*
 * Devices and drivers: bus notifiers on the PCI and platform buses, and
 * USB device add/remove through usbcore's notifier.
 *
 * BUS_NOTIFY_* are #defines 1-8 on 6.1 and an enum 0-7 on later kernels:
 * the switch below maps them by name to perfagent's own codes, so nothing
 * kernel-internal reaches the wire.
 *
 * usb_bus_type is not exported; usb_register_notify() is, from usbcore.
 * Calling it directly would make this module depend on usbcore (and fail
 * to load without it), so it is looked up with symbol_get() at load and
 * again when usbcore comes live later (module_watch.c). Holding it pins
 * usbcore while perfagent is loaded.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/string.h>
#include <linux/usb.h>

#include "perfagent.h"

void pa_describe_device(struct device *dev, char *buf, size_t len)
{
	buf[0] = '\0';
#ifdef CONFIG_PCI
	if (dev_is_pci(dev)) {
		struct pci_dev *pdev = to_pci_dev(dev);

		snprintf(buf, len, "%04x:%04x class %06x",
			 pdev->vendor, pdev->device, pdev->class);
	}
#endif
}

static int pa_bus_event(struct notifier_block *nb, unsigned long action, void *data)
{
	struct device *dev = data;
	struct device_driver *drv;
	struct pa_event ev;
	u32 code;

	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		code = PA_EV_DEVICE_ADDED;
		break;
	case BUS_NOTIFY_REMOVED_DEVICE:
		code = PA_EV_DEVICE_REMOVED;
		break;
	case BUS_NOTIFY_BOUND_DRIVER:
		code = PA_EV_DRIVER_BOUND;
		break;
	/* At UNBOUND_DRIVER dev->driver is already NULL: report the unbind
	 * when it starts, while the driver's name is still known.
	 */
	case BUS_NOTIFY_UNBIND_DRIVER:
		code = PA_EV_DRIVER_UNBOUND;
		break;
	/* The probe's error code is not passed to notifiers. */
	case BUS_NOTIFY_DRIVER_NOT_BOUND:
		code = PA_EV_PROBE_FAILED;
		break;
	default:
		return NOTIFY_DONE;
	}
	pa_event_init(&ev, code);
	strscpy(ev.bus, dev->bus ? dev->bus->name : "", sizeof(ev.bus));
	strscpy(ev.device, dev_name(dev), sizeof(ev.device));
	drv = READ_ONCE(dev->driver);
	if (drv)
		strscpy(ev.driver, drv->name, sizeof(ev.driver));
	pa_describe_device(dev, ev.device_id, sizeof(ev.device_id));
	pa_record(&ev);
	return NOTIFY_DONE;
}

#ifdef CONFIG_PCI
static struct notifier_block pa_pci_nb = { .notifier_call = pa_bus_event };
#endif
static struct notifier_block pa_platform_nb = { .notifier_call = pa_bus_event };

#if IS_ENABLED(CONFIG_USB)
static DEFINE_MUTEX(pa_usb_lock);
static void (*pa_usb_unregister)(struct notifier_block *nb);
static bool pa_usb_closed;

static int pa_usb_event(struct notifier_block *nb, unsigned long action, void *data)
{
	struct usb_device *udev = data;
	struct pa_event ev;
	u32 code;

	switch (action) {
	case USB_DEVICE_ADD:
		code = PA_EV_DEVICE_ADDED;
		break;
	case USB_DEVICE_REMOVE:
		code = PA_EV_DEVICE_REMOVED;
		break;
	default:
		return NOTIFY_DONE;
	}
	pa_event_init(&ev, code);
	strscpy(ev.bus, "usb", sizeof(ev.bus));
	strscpy(ev.device, dev_name(&udev->dev), sizeof(ev.device));
	snprintf(ev.device_id, sizeof(ev.device_id), "%04x:%04x",
		 le16_to_cpu(udev->descriptor.idVendor),
		 le16_to_cpu(udev->descriptor.idProduct));
	if (udev->product)
		strscpy(ev.detail, udev->product, sizeof(ev.detail));
	pa_record(&ev);
	return NOTIFY_DONE;
}

static struct notifier_block pa_usb_nb = { .notifier_call = pa_usb_event };

void pa_bus_watch_usb_appeared(void)
{
	typeof(&usb_register_notify) reg;

	mutex_lock(&pa_usb_lock);
	if (pa_usb_closed || pa_usb_unregister)
		goto out;
	reg = symbol_get(usb_register_notify);
	if (!reg)
		goto out;
	pa_usb_unregister = symbol_get(usb_unregister_notify);
	if (pa_usb_unregister)
		reg(&pa_usb_nb);
	/* The reference taken for usb_unregister_notify keeps usbcore. */
	symbol_put(usb_register_notify);
out:
	mutex_unlock(&pa_usb_lock);
}

static void pa_usb_detach(void)
{
	mutex_lock(&pa_usb_lock);
	pa_usb_closed = true;
	if (pa_usb_unregister) {
		pa_usb_unregister(&pa_usb_nb);
		pa_usb_unregister = NULL;
		symbol_put(usb_unregister_notify);
	}
	mutex_unlock(&pa_usb_lock);
}
#else
void pa_bus_watch_usb_appeared(void)
{
}

static void pa_usb_detach(void)
{
}
#endif

int pa_bus_watch_init(void)
{
	int err;

#ifdef CONFIG_PCI
	err = bus_register_notifier(&pci_bus_type, &pa_pci_nb);
	if (err)
		return err;
#endif
	err = bus_register_notifier(&platform_bus_type, &pa_platform_nb);
	if (err)
		goto err_pci;
	pa_bus_watch_usb_appeared();
	return 0;

err_pci:
#ifdef CONFIG_PCI
	bus_unregister_notifier(&pci_bus_type, &pa_pci_nb);
#endif
	return err;
}

void pa_bus_watch_exit(void)
{
	pa_usb_detach();
	bus_unregister_notifier(&platform_bus_type, &pa_platform_nb);
#ifdef CONFIG_PCI
	bus_unregister_notifier(&pci_bus_type, &pa_pci_nb);
#endif
}
