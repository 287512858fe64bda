#!/bin/sh
# perfagent trace disk and perfagent doctor as a user runs them: help,
# errors, and the numbers in the JSON output against direct I/O on a loop
# device made for the test.
set -u
PA=${PERFAGENT:-build/perfagent}
tmp=$(mktemp -d)
loop=

cleanup() {
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# attach_loop FILE: print the loop device now backed by FILE (util-linux
# losetup has --show; busybox's, in the VM, does not).
attach_loop() {
	[ -e /dev/loop-control ] || modprobe loop 2>/dev/null
	losetup -f --show "$1" 2>/dev/null && return 0
	dev=$(losetup -f 2>/dev/null) && losetup "$dev" "$1" 2>/dev/null && echo "$dev"
}

# exact GOT WANT MISSED: GOT is WANT, or short of it by no more than the
# completions the kernel reported it skipped the probe for (it never runs a
# BPF program nested in itself on one CPU).
exact() { [ "$1" -eq "$2" ] || { [ "$1" -lt "$2" ] && [ $(($2 - $1)) -le "$3" ]; }; }

. "$(dirname "$0")/../lib/check.sh"

expect disk_help 0 "--slow DURATION" "$PA" trace disk --help
expect trace_lists_disk 0 "disk" "$PA" trace --help
expect main_lists_doctor 0 "doctor" "$PA" --help
expect disk_unknown_device 2 "-D: 'nosuchdisk9' is not a block device" "$PA" trace disk -D nosuchdisk9
expect disk_bad_slow 2 "--slow: '10' is not a duration" "$PA" trace disk --slow 10
expect disk_bad_rate 2 "--rate-limit: 'lots' is not a valid number" "$PA" trace disk --rate-limit lots
expect disk_bad_stale 2 "--stale-after: '0s' is not a duration" "$PA" trace disk --stale-after 0s
expect disk_bad_pid 2 "-p: '0' is not a valid id" "$PA" trace disk -p 0
expect disk_unknown_option 2 "unknown option '--frob'" "$PA" trace disk --frob
expect disk_bad_cgroup 1 "--cgroup /proc: not a cgroup v2 directory" "$PA" trace disk --cgroup /proc -d 1
expect doctor_unknown_option 2 "unknown option '--frob'" "$PA" doctor --frob
expect doctor_help 0 "--json" "$PA" doctor --help
if command -v setpriv >/dev/null; then
	expect disk_not_root 1 "needs root" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$PA" trace disk -d 1
	# doctor still reports, and says why nothing can run
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$PA" doctor --json >"$tmp/doc" 2>"$tmp/err"
	state=$(jq -r '.sources[] | select(.name == "disk") | .state' "$tmp/doc" 2>/dev/null)
	why=$(jq -r '.sources[] | select(.name == "disk") | .notes[0]' "$tmp/doc" 2>/dev/null)
	case $state/$why in
	inactive/"not privileged"*) ok doctor_unprivileged ;;
	*) fail doctor_unprivileged "disk: state '$state', note '$why'" ;;
	esac
fi

"$PA" doctor --json >"$tmp/doc" 2>"$tmp/err"
rc=$?
disk=$(jq -r '.sources[] | select(.name == "disk") | .state' "$tmp/doc" 2>/dev/null)
sys=$(jq -r '.sources[] | select(.name == "syscalls") | .state' "$tmp/doc" 2>/dev/null)
mech=$(jq -r '.sources[] | select(.name == "disk") | .mechanism' "$tmp/doc" 2>/dev/null)
if [ $rc -eq 0 ] && [ "$disk" = active ] && [ "$sys" = active ] && [ -n "$mech" ]; then
	ok doctor_json
else
	fail doctor_json "exit $rc, disk '$disk' ($mech), syscalls '$sys'" "$(head -c 600 "$tmp/err")"
fi
"$PA" doctor >"$tmp/out" 2>&1
if grep -q '^  disk ' "$tmp/out" && grep -q '^  syscalls ' "$tmp/out"; then
	ok doctor_text
else
	fail doctor_text "$(head -c 600 "$tmp/out")"
fi

# The JSON run: 100 reads of 4 KiB and 30 writes of 16 KiB, direct, on a
# loop device of our own; another loop device gets I/O that must not show.
READS=100 WRITES=30
truncate -s 16M "$tmp/a.img" "$tmp/b.img"
loop=$(attach_loop "$tmp/a.img") || {
	echo "skip - disk_json_exact (no loop device)"
	exit 0
}
name=${loop#/dev/}
"$PA" trace disk -D "$name" --json -i 200ms -d 4s --slow 1ns --rate-limit 0 --stale-after 1s \
	>"$tmp/json" 2>"$tmp/err" &
tpid=$!
i=0
while [ ! -s "$tmp/json" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
dd if="$loop" of=/dev/null bs=4k count=$READS iflag=direct 2>/dev/null
dd if=/dev/zero of="$loop" bs=16k count=$WRITES seek=64 oflag=direct conv=notrunc 2>/dev/null
other=$(attach_loop "$tmp/b.img")
[ -n "$other" ] && dd if="$other" of=/dev/null bs=4k count=20 iflag=direct 2>/dev/null
wait "$tpid"
trc=$?
[ -n "$other" ] && losetup -d "$other"

final() { jq -s "[.[] | select(.type == \"disk\" and .final) | .devices[] | $1] | add // 0" "$tmp/json"; }
sum() { jq -s "[.[] | select(.type == \"disk\" and (.final | not)) | .devices[] | $1] | add // 0" "$tmp/json"; }
r=$(final "select(.device == \"$name\" and .op == \"read\") | .count")
rb=$(final "select(.device == \"$name\" and .op == \"read\") | .bytes")
w=$(final "select(.device == \"$name\" and .op == \"write\") | .count")
wb=$(final "select(.device == \"$name\" and .op == \"write\") | .bytes")
rsum=$(sum "select(.op == \"read\") | .count")
missed=$(jq -s '[.[] | select(.type == "disk" and .final) | .missed_completions + (.completions_unseen // 0)] | add // 0' "$tmp/json")
others=$(final "select(.device != \"$name\") | .count")
if [ $trc -eq 0 ] && exact "$r" $READS "$missed" && [ "$rb" = $((r * 4096)) ] &&
	exact "$w" $WRITES "$missed" && [ "$wb" = $((w * 16384)) ] && [ "$rsum" = "$r" ] &&
	[ "$others" = 0 ]; then
	ok disk_json_exact
else
	fail disk_json_exact "exit $trc; reads $r ($rb bytes), writes $w ($wb bytes), sum of" \
		"intervals $rsum, other devices $others; want $READS x 4096, $WRITES x 16384" \
		"(the kernel skipped $missed completions)" \
		"stderr: $(head -c 400 "$tmp/err")" \
		"final: $(jq -c "select(.final) | del(.devices)" "$tmp/json")"
fi

ev=$(jq -s "[.[] | select(.type == \"disk_io\" and .device == \"$name\" and .comm == \"dd\")] | length" "$tmp/json")
evr=$(jq -s "[.[] | select(.type == \"disk_io\" and .op == \"read\" and .bytes == 4096 and .kind == \"slow\")] | length" "$tmp/json")
evo=$(jq -s "[.[] | select(.type == \"disk_io\" and .device != \"$name\")] | length" "$tmp/json")
if exact "$ev" $((READS + WRITES)) "$missed" && exact "$evr" $READS "$missed" &&
	[ "$evo" = 0 ]; then
	ok disk_json_events
else
	fail disk_json_events "$ev events from dd on $name (want $((READS + WRITES))), $evr reads," \
		"$evo on other devices"
fi
