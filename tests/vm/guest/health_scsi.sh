#!/bin/sh
# Health events from SCSI, driven for real with scsi_debug: a read of a
# medium-error sector (opts=2) must give a scsi_error event (CHECK
# CONDITION) and a block_error event (status "medium") naming the disk,
# through the probe API and through 'perfagent trace health --json'; a read
# scsi_debug ignores (every_nth=1, opts=128) must give a scsi_timeout event
# naming the disk. Runs in the test VM (tests/vm/guest/run-all.sh), as root,
# from /perfagent.
set -u
. /tests/lib_guest.sh
PA=${PERFAGENT:-/perfagent/build/perfagent}
T=build/tests/test_health_probe
tmp=$(mktemp -d)
agent=

cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	for f in opts every_nth; do
		echo 0 >"/sys/bus/pseudo/drivers/scsi_debug/$f" 2>/dev/null
	done
	rmmod scsi_debug 2>/dev/null
	rm -rf "$tmp"
}
on_exit cleanup

[ -x "$T" ] || { not_ok health_scsi_setup "$T is missing (make tests)"; exit 1; }
scsi_debug_up health_scsi_setup || exit 1
echo "# scsi_debug disk $disk ($(basename "$(readlink "/sys/block/$disk/device")")), medium errors from sector $sector"
ok health_scsi_setup

# The probe API: the events and what they decode to.
"$T" scsi "$disk" "$sector"

# The command: both events in its JSON stream, with source and severity.
"$PA" trace health --json --source bpf -i 500ms -d 8 >"$tmp/json" 2>"$tmp/err" &
agent=$!
# Its BPF side is attached when its first IRQ time table is out.
i=0
while ! grep -q '"type":"irq_time"' "$tmp/json" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
dd if="/dev/$disk" of=/dev/null bs=512 skip="$sector" count=8 iflag=direct 2>/dev/null
dd_rc=$?
wait "$agent"
rc=$?
agent=
scsi=$(jq -c "select(.type == \"scsi_error\" and .source == \"bpf\" and .severity == \"error\" and .device == \"$disk\" and .scsi_address != null and .status == \"CHECK_CONDITION\")" "$tmp/json" | wc -l)
block=$(jq -c "select(.type == \"block_error\" and .device == \"$disk\" and .status_name == \"medium\" and .op == \"read\")" "$tmp/json" | wc -l)
echo "# trace health: $scsi scsi_error and $block block_error events for $disk"
if [ $rc -eq 0 ] && [ $dd_rc -ne 0 ] && [ "$scsi" -ge 1 ] && [ "$block" -ge 1 ]; then
	ok health_scsi_trace_health_json
else
	not_ok health_scsi_trace_health_json "exit $rc, dd exit $dd_rc" "$(head -c 400 "$tmp/err")" \
		"$(grep -v irq_time "$tmp/json" | head -c 1500)"
fi

# A timeout: the command is never answered; error handling takes over.
"$T" scsi-timeout "$disk"
