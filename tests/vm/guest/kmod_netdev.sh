#!/bin/sh
# Network device events: a real NIC's carrier flap made from the host
# (QEMU monitor set_link on the e1000), and a dummy device's whole life:
# registered, up, MTU change, down, renamed, unregistered.
set -u
. /tests/lib_kmod.sh
dmesg_mark

carrier_is() { [ "$(cat "/sys/class/net/$iface/carrier" 2>/dev/null)" = "$1" ]; }

load || { not_ok "load perfagent"; exit 1; }
modprobe e1000
iface=$(iface_with_mac "$VM_NIC0_MAC")
if [ -z "$iface" ]; then
	not_ok "e1000 interface with MAC $VM_NIC0_MAC appears"
	exit 1
fi
ip link set "$iface" up
wait_for 20 carrier_is 1 || note "$iface has no carrier before the flap"

agent_start flap || { not_ok "agent connects"; exit 1; }
# The same events in text form, from a second agent.
"$PERFAGENT" trace health --source kmod >"$KTMP/text.out" 2>"$KTMP/text.err" &
text_pid=$!
AGENT_PIDS="$AGENT_PIDS $text_pid"
m=$(mark flap) || { not_ok "marker event"; exit 1; }

# --- carrier flap, from outside the guest ---
flap_ok=1
vm-monitor "set_link $VM_NIC0_ID off" >/dev/null && wait_for 20 carrier_is 0 || flap_ok=0
vm-monitor "set_link $VM_NIC0_ID on" >/dev/null && wait_for 20 carrier_is 1 || flap_ok=0
[ $flap_ok -eq 1 ] || not_ok "set_link off/on flips $iface's carrier"
after=".seq > $m and .netdev==\"$iface\""
wait_for 20 seen flap "$after and .type==\"carrier_up\""
got=$(types flap "$after and (.type | startswith(\"carrier\"))")
if [ "$got" = "carrier_down carrier_up" ]; then
	ok "carrier flap on $iface: carrier_down then carrier_up"
else
	not_ok "carrier flap on $iface: carrier_down then carrier_up" "got: '$got'"
fi
# Each with a timestamp, in order, and the NIC's PCI device and driver.
if jq -s -e "map(select($after and (.type | startswith(\"carrier\")))) |
	length == 2 and .[0].real_ns < .[1].real_ns and .[0].boot_ns < .[1].boot_ns and
	all(.bus == \"pci\" and .device == \"$VM_NIC0_PCI\" and .driver == \"e1000\" and .ifindex > 0)" \
	"$KTMP/flap.out" >/dev/null; then
	ok "flap events carry increasing timestamps and pci $VM_NIC0_PCI (e1000)"
else
	not_ok "flap events carry increasing timestamps and the NIC's device" \
		"$(jq -c "select($after)" "$KTMP/flap.out")"
fi

# --- a dummy device's life ---
ip link add pa0 type dummy &&
	ip link set pa0 up &&
	ip link set pa0 mtu 1400 &&
	ip link set pa0 down &&
	ip link set pa0 name pa1 &&
	ip link del pa1 || not_ok "ip link commands on a dummy device"
wait_for 20 seen flap ".seq > $m and .type==\"netdev_unregistered\" and .netdev==\"pa1\""
life=".seq > $m and (.netdev==\"pa0\" or .netdev==\"pa1\")"
got=$(types flap "$life and (.type | startswith(\"carrier\") | not)")
want="netdev_registered netdev_up mtu_changed netdev_down netdev_renamed netdev_unregistered"
if [ "$got" = "$want" ]; then
	ok "dummy device: $want"
else
	not_ok "dummy device: $want" "got: '$got'"
fi
note "dummy device carrier events: '$(types flap "$life and (.type | startswith(\"carrier\"))")'"
if jq -s -e "map(select($life)) | (map(.ifindex) | unique | length == 1) and
	(map(select(.type==\"mtu_changed\"))[0] | .old_mtu == 1500 and .mtu == 1400) and
	(map(select(.type==\"netdev_renamed\"))[0].netdev == \"pa1\")" "$KTMP/flap.out" >/dev/null; then
	ok "dummy device: one ifindex, MTU 1500 -> 1400, renamed to pa1"
else
	not_ok "dummy device: one ifindex, MTU 1500 -> 1400, renamed to pa1" \
		"$(jq -c "select($life)" "$KTMP/flap.out")"
fi
check "no event delivered twice" unique_seqs flap

agent_stop flap
kill -INT "$text_pid"
wait "$text_pid"
# time, source, severity, type, subject
if grep -Eq "^[0-9:.]+ kmod +[a-z]+ +carrier_down +$iface ifindex [0-9]+ on pci $VM_NIC0_PCI \(e1000\)$" "$KTMP/text.out" &&
	grep -Eq "^[0-9:.]+ kmod +[a-z]+ +mtu_changed +pa0 ifindex [0-9]+ mtu 1500 -> 1400$" "$KTMP/text.out"; then
	ok "text output: one line per event with time, source, type, subject"
else
	not_ok "text output: one line per event with time, source, type, subject" \
		"$(grep -E "carrier|mtu" "$KTMP/text.out" | head -5)"
fi

ip link set "$iface" down
bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops"; else not_ok "no WARNING, BUG or Oops" "$bad"; fi
