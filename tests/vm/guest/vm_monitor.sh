#!/bin/sh
# The bench itself: vm-monitor reaches QEMU's monitor, reports its errors,
# and the device actions the module tests rely on really happen in the guest
# (set_link flips a NIC's carrier, device_del removes a PCI device).
# Runs after kmod_*.sh (name order): the unplug is done only if no earlier
# test did it, and the NIC is left as it was found.
set -u
. /etc/vm.env

ok() { echo "ok - $1"; }
fail() {
	echo "not ok - $1"
	shift
	for l in "$@"; do echo "#   $l"; done
}

# wait_for SECONDS CMD...: until CMD succeeds; fail after SECONDS.
wait_for() {
	n=$(($1 * 5))
	shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.2
	done
}

iface_with_mac() {
	for d in /sys/class/net/*; do
		if [ "$(cat "$d/address" 2>/dev/null)" = "$1" ]; then
			basename "$d"
			return 0
		fi
	done
	return 1
}

carrier_is() { [ "$(cat "/sys/class/net/$iface/carrier")" = "$1" ]; }
pci_gone() { ! [ -e "/sys/bus/pci/devices/$1" ]; }

out=$(vm-monitor 'info status')
rc=$?
case $rc:$out in
0:*running*) ok "monitor answers (info status)" ;;
*) fail "monitor answers (info status)" "exit $rc, output: $out" ;;
esac

out=$(vm-monitor 'device_del no-such-device')
rc=$?
case $rc:$out in
1:*no-such-device*) ok "monitor errors reach the guest" ;;
*) fail "monitor errors reach the guest" "exit $rc (want 1), output: $out" ;;
esac

# Carrier flap on nic0, as the module's netdev tests make it.
loaded_here=0
if ! grep -q '^e1000 ' /proc/modules; then
	modprobe e1000 && loaded_here=1
fi
iface=$(iface_with_mac "$VM_NIC0_MAC")
was_up=0
if [ -z "$iface" ]; then
	fail "set_link flips the carrier" "no interface with MAC $VM_NIC0_MAC after modprobe e1000"
else
	ip link show "$iface" | grep -q '[<,]UP[,>]' && was_up=1
	ip link set "$iface" up
	steps=""
	if wait_for 20 carrier_is 1; then steps="$steps up"; fi
	if vm-monitor "set_link $VM_NIC0_ID off" >/dev/null && wait_for 20 carrier_is 0; then
		steps="$steps down"
	fi
	if vm-monitor "set_link $VM_NIC0_ID on" >/dev/null && wait_for 20 carrier_is 1; then
		steps="$steps up"
	fi
	if [ "$steps" = " up down up" ]; then
		ok "set_link flips the carrier of $iface"
	else
		fail "set_link flips the carrier of $iface" "carrier went:$steps (want: up down up)"
	fi
	[ $was_up -eq 1 ] || ip link set "$iface" down
fi

# PCI hot-unplug: QEMU asks, the guest's ACPI hotplug driver ejects.
if pci_gone "$VM_HOTDEV_PCI"; then
	echo "skip - device_del removes $VM_HOTDEV_ID: already unplugged by an earlier test"
elif ! vm-monitor "device_del $VM_HOTDEV_ID" >/dev/null; then
	fail "device_del removes $VM_HOTDEV_ID" "the monitor refused device_del"
elif wait_for 30 pci_gone "$VM_HOTDEV_PCI"; then
	ok "device_del removes $VM_HOTDEV_ID ($VM_HOTDEV_PCI)"
else
	fail "device_del removes $VM_HOTDEV_ID" "$VM_HOTDEV_PCI still present after 30 s"
fi

[ $loaded_here -eq 1 ] && rmmod e1000
exit 0
