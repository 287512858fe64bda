#!/bin/sh
# Failed I/O: scsi_debug with medium-error injection (opts=2: reads of the
# sectors from medium_error_start on fail with MEDIUM ERROR) under a SCSI
# disk. A direct read there must fail in userspace and reach the probe as an
# error event naming the disk (sdX), from the process that submitted it,
# counted under its status; 'perfagent trace disk --json' must stream the
# same. Runs in the test VM (tests/vm/guest/run-all.sh), as root, from
# /perfagent.
set -u
. /tests/lib_guest.sh
PA=${PERFAGENT:-/perfagent/build/perfagent}
T=build/tests/test_disk_probe
tmp=$(mktemp -d)
agent=

cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null
	rmmod scsi_debug 2>/dev/null
	rm -rf "$tmp"
}
on_exit cleanup

[ -x "$T" ] || { not_ok scsi_setup "$T is missing (make tests)"; exit 1; }
scsi_debug_up scsi_setup || exit 1
echo "# scsi_debug disk $disk, medium errors from sector $sector"
ok scsi_setup

# The probe API: the read fails, the event names the disk and the reader.
"$T" scsi-errors "/dev/$disk" "$sector"

# The command: the error event in its JSON stream, and in the summary.
"$PA" trace disk -D "$disk" --json -i 1s -d 5s >"$tmp/json" 2>"$tmp/err" &
agent=$!
i=0
while [ ! -s "$tmp/json" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
dd if="/dev/$disk" of=/dev/null bs=512 skip="$sector" count=8 iflag=direct 2>/dev/null
dd_rc=$?
wait "$agent"
rc=$?
agent=
events=$(jq -s "[.[] | select(.type == \"disk_io\" and .kind == \"error\" and .device == \"$disk\" and .comm == \"dd\")] | length" "$tmp/json")
status=$(jq -rs "[.[] | select(.type == \"disk_io\" and .kind == \"error\") | .status_name] | first // \"none\"" "$tmp/json")
errors=$(jq -s "[.[] | select(.type == \"disk\" and .final) | .devices[] | select(.device == \"$disk\") | .errors] | add // 0" "$tmp/json")
echo "# trace disk: $events error events from dd on $disk (status $status), $errors errors counted"
if [ $rc -eq 0 ] && [ $dd_rc -ne 0 ] && [ "$events" -ge 1 ] && [ "$errors" -ge 1 ]; then
	ok scsi_trace_disk_error_event
else
	not_ok scsi_trace_disk_error_event "exit $rc, dd exit $dd_rc, $events events, $errors errors" \
		"$(head -c 400 "$tmp/err")" "$(head -c 800 "$tmp/json")"
fi
