#!/bin/sh
# USB devices through usbcore's notifier, which perfagent looks up at run
# time (no hard dependency on usbcore): both when usbcore comes after
# perfagent and when it was there first. dummy_hcd, a software USB host
# controller, gives real root hub devices. Skipped when the guest has no
# dummy_hcd (tools/vm/mkroot.sh puts it in the image; a kernel may lack it).
set -u
. /tests/lib_kmod.sh
dmesg_mark

if ! modprobe -n dummy_hcd 2>/dev/null; then
	skip "USB events: dummy_hcd is not in this guest"
	exit 0
fi
usb_down() {
	rmmod dummy_hcd 2>/dev/null
	rmmod udc_core 2>/dev/null
	rmmod usbcore 2>/dev/null
}
usb_down
if [ -d /sys/module/usbcore ]; then
	skip "USB events: usbcore is in use by something else"
	exit 0
fi

# usb_events NAME MARK: "device_added usb1 1d6b:0002,..." for bus usb.
usb_events() {
	jq -r "select(.seq > $2 and .bus==\"usb\") | \"\(.type) \(.device) \(.device_id)\"" \
		"$KTMP/$1.out" | tr '\n' ',' | sed 's/,$//'
}

for order in "perfagent first" "usbcore first"; do
	if [ "$order" = "usbcore first" ]; then
		modprobe usbcore
		load
	else
		load
	fi
	agent_start usb || { not_ok "agent connects"; exit 1; }
	m=$(mark usb) || { not_ok "marker event"; exit 1; }
	modprobe dummy_hcd
	wait_for 20 seen usb ".seq > $m and .bus==\"usb\" and .type==\"device_added\""
	added=$(usb_events usb "$m")
	case $added in
	*"device_added usb1 1d6b:0002"*) ok "$order: root hub usb1 [1d6b:0002] added" ;;
	*) not_ok "$order: root hub usb1 [1d6b:0002] added" "got: '$added'" ;;
	esac
	if [ "$order" = "perfagent first" ]; then
		check "$order: usbcore's module_live seen" \
			seen usb ".seq > $m and .type==\"module_live\" and .module==\"usbcore\""
	fi
	m2=$(jq -s 'map(.seq) | max' "$KTMP/usb.out")
	rmmod dummy_hcd
	wait_for 20 seen usb ".seq > $m2 and .bus==\"usb\" and .type==\"device_removed\""
	case $(usb_events usb "$m2") in
	*"device_removed usb1 1d6b:0002"*) ok "$order: usb1 removed with dummy_hcd" ;;
	*) not_ok "$order: usb1 removed with dummy_hcd" "got: '$(usb_events usb "$m2")'" ;;
	esac
	rmmod udc_core 2>/dev/null
	# perfagent holds usbcore while it watches it.
	check "$order: usbcore cannot go while perfagent watches it" sh -c '! rmmod usbcore 2>/dev/null'
	agent_stop usb
	unload
	check "$order: after rmmod perfagent, usbcore can go" rmmod usbcore
done
usb_down
bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops"; else not_ok "no WARNING, BUG or Oops" "$bad"; fi
