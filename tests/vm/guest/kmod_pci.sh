#!/bin/sh
# Device and driver events with real PCI devices: hot-unplugging a NIC from
# the host (QEMU monitor device_del) gives driver_unbound, the NIC's
# netdev_unregistered, then device_removed, in that order; a driver that
# fails to probe gives probe_failed.
set -u
. /tests/lib_kmod.sh
dmesg_mark

pci_gone() { ! [ -e "/sys/bus/pci/devices/$VM_HOTDEV_PCI" ]; }
pci=$VM_HOTDEV_PCI

load || { not_ok "load perfagent"; exit 1; }
modprobe e1000
agent_start pci || { not_ok "agent connects"; exit 1; }
m=$(mark pci) || { not_ok "marker event"; exit 1; }

# --- hot-unplug ---
if pci_gone; then
	skip "device_del $VM_HOTDEV_ID: $pci is already gone (unplugged earlier in this boot)"
else
	hot_if=$(iface_with_mac "$VM_HOTDEV_MAC")
	if ! [ -e "/sys/bus/pci/devices/$pci/driver" ]; then
		not_ok "$pci is bound to e1000 before the unplug"
	elif ! vm-monitor "device_del $VM_HOTDEV_ID" >/dev/null || ! wait_for 60 pci_gone; then
		not_ok "device_del $VM_HOTDEV_ID removes $pci"
	else
		wait_for 20 seen pci ".seq > $m and .type==\"device_removed\" and .device==\"$pci\""
		got=$(types pci ".seq > $m and .device==\"$pci\" and .bus==\"pci\" and (.netdev | not)")
		if [ "$got" = "driver_unbound device_removed" ]; then
			ok "device_del $VM_HOTDEV_ID: driver_unbound then device_removed for $pci"
		else
			not_ok "device_del $VM_HOTDEV_ID: driver_unbound then device_removed for $pci" \
				"got: '$got'" "$(jq -c "select(.seq > $m)" "$KTMP/pci.out")"
		fi
		if jq -s -e "map(select(.seq > $m)) |
			(map(select(.type==\"driver_unbound\" and .device==\"$pci\"))[0]) as \$u |
			(map(select(.type==\"netdev_unregistered\" and .netdev==\"$hot_if\"))[0]) as \$n |
			(map(select(.type==\"device_removed\" and .device==\"$pci\"))[0]) as \$r |
			\$u.driver == \"e1000\" and (\$u.device_id | startswith(\"8086:100e\")) and
			\$u.seq < \$n.seq and \$n.seq < \$r.seq" "$KTMP/pci.out" >/dev/null; then
			ok "unbound names driver e1000 [8086:100e]; $hot_if unregistered in between"
		else
			not_ok "unbound names driver e1000 [8086:100e]; $hot_if unregistered in between" \
				"$(jq -c "select(.seq > $m)" "$KTMP/pci.out")"
		fi
	fi
fi

# --- a probe that fails: e1000 offered a device it cannot drive ---
# A PCI device without a driver (no udev here: nothing loaded one), given
# to e1000 through new_id; e1000_probe rejects the unknown device id.
victim=""
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/driver" ] && continue
	[ "$(cat "$d/class")" = 0x010802 ] || continue	# the NVMe controller
	victim=$(basename "$d")
	break
done
if [ -z "$victim" ]; then
	skip "probe_failed: no driverless NVMe controller to offer to e1000"
else
	id="$(sed 's/^0x//' "/sys/bus/pci/devices/$victim/vendor") $(sed 's/^0x//' "/sys/bus/pci/devices/$victim/device")"
	echo "$id" >/sys/bus/pci/drivers/e1000/new_id 2>/dev/null
	wait_for 20 seen pci ".seq > $m and .type==\"probe_failed\" and .device==\"$victim\""
	echo "$id" >/sys/bus/pci/drivers/e1000/remove_id 2>/dev/null
	if [ -e "/sys/bus/pci/devices/$victim/driver" ]; then
		not_ok "probe_failed: e1000 bound $victim unexpectedly"
		echo "$victim" >/sys/bus/pci/drivers/e1000/unbind
	elif [ "$(count pci ".seq > $m and .type==\"probe_failed\" and .device==\"$victim\" and .driver==\"e1000\"")" -eq 1 ]; then
		ok "probe_failed for $victim with driver e1000"
	else
		not_ok "probe_failed for $victim with driver e1000" \
			"$(jq -c "select(.seq > $m and .device==\"$victim\")" "$KTMP/pci.out")"
	fi
fi

# A driver bound to a device: nvme takes the controller.
if [ -n "$victim" ] && modprobe nvme && wait_for 20 test -e "/sys/bus/pci/devices/$victim/driver"; then
	wait_for 20 seen pci ".seq > $m and .type==\"driver_bound\" and .device==\"$victim\""
	check "driver_bound for $victim with driver nvme" \
		seen pci ".seq > $m and .type==\"driver_bound\" and .device==\"$victim\" and .driver==\"nvme\""
fi

check "no event delivered twice" unique_seqs pci
agent_stop pci
bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops"; else not_ok "no WARNING, BUG or Oops" "$bad"; fi
