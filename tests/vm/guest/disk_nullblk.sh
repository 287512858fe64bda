#!/bin/sh
# The disk probe's service time against a device whose service time is
# known: null_blk in timer mode completes every request completion_nsec
# after it was issued. 60 direct reads must be counted exactly, the
# histogram's service-time p50 must match the exact median of the same
# I/O's service times (streamed one by one) to 1/32, and be within 5 % of
# completion_nsec; the same through 'perfagent trace disk --json'.
#
# completion_nsec is 50 ms, not 2: under TCG the guest's hrtimer fires
# 0.3-0.4 ms late (measured: 2 ms gives 2.29 ms exact medians, +15 %;
# 10 ms gives 10.37-10.45 ms, +4 %), which is the device's truth, not the
# probe's error; at 50 ms that lateness is under 1 %. NULLBLK_NSEC overrides.
# Runs in the test VM (tests/vm/guest/run-all.sh), as root, from /perfagent.
set -u
. /tests/lib_guest.sh
PA=${PERFAGENT:-/perfagent/build/perfagent}
T=build/tests/test_disk_probe
NSEC=${NULLBLK_NSEC:-50000000}
READS=60
tmp=$(mktemp -d)
agent=

cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null
	rmmod null_blk 2>/dev/null
	rm -rf "$tmp"
}
on_exit cleanup

[ -x "$T" ] || { not_ok nullblk_setup "$T is missing (make tests)"; exit 1; }
rmmod null_blk 2>/dev/null
if ! modprobe null_blk nr_devices=1 queue_mode=2 irqmode=2 completion_nsec="$NSEC" \
	gb=1 2>"$tmp/err"; then
	not_ok nullblk_setup "modprobe null_blk failed: $(cat "$tmp/err")"
	exit 1
fi
i=0
while [ ! -b /dev/nullb0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -b /dev/nullb0 ]; then
	not_ok nullblk_setup "/dev/nullb0 did not appear"
	exit 1
fi
ok nullblk_setup

# The probe API: exact count and service p50 (the test program's own lines).
"$T" nullblk /dev/nullb0 "$NSEC" $READS

# The command: the same numbers in its JSON summary.
"$PA" trace disk -D nullb0 --json -i 1s -d 8s --stale-after 2s >"$tmp/json" 2>"$tmp/err" &
agent=$!
i=0
while [ ! -s "$tmp/json" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
dd if=/dev/nullb0 of=/dev/null bs=4k count=$READS iflag=direct 2>/dev/null
wait "$agent"
rc=$?
agent=
row='.[] | select(.type == "disk" and .final) | .devices[] | select(.device == "nullb0" and .op == "read")'
count=$(jq -s "[$row | .count] | add // 0" "$tmp/json")
p50=$(jq -s "[$row | .service.p50_ns] | add // 0" "$tmp/json")
# completions the kernel skipped the probe for (nested on one CPU): reported, may be missing
missed=$(jq -s '[.[] | select(.type == "disk" and .final) | .missed_completions + (.completions_unseen // 0)] | add // 0' "$tmp/json")
echo "# trace disk: $count reads, service p50 $p50 ns, completion_nsec $NSEC"
lo=$((NSEC * 95 / 100))
hi=$((NSEC * 105 / 100))
if [ $rc -eq 0 ] && [ "$count" -le $READS ] && [ $((READS - count)) -le "$missed" ] &&
	[ "$p50" -ge $lo ] && [ "$p50" -le $hi ]; then
	ok nullblk_trace_disk_json
else
	not_ok nullblk_trace_disk_json "exit $rc, $count reads (want $READS), service p50 $p50 ns" \
		"(want $lo..$hi)" "$(head -c 400 "$tmp/err")"
fi
