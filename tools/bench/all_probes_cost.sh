#!/bin/sh
# What the probes together cost the workloads of the other benchmarks:
# loopback TCP (stream, rr, crr from net_tcp_bench) and file I/O on ext4
# over a memory-backed loop device (randrw, seqwrite from disk_workload),
# under 'perfagent --daemon' with its default configuration (syscall, disk,
# net and health probes all loaded) and with the syscall probe turned off
# (disk, net and health: the sets whose target is 2 % together), against the
# same workloads with no tracing.
#
# The figure that machine noise does not blur is BPF run time (kernel.
# bpf_stats_enabled, on only while the daemon's runs are measured) of all
# the daemon's programs per operation, as a share of what an operation
# costs bare: CPU per operation for the TCP workloads (client and server,
# user + system), wall time per operation for the file I/O (one thread
# waiting on each request). Programs run for anything on the machine while
# measured (other processes' syscalls too), so the share is an upper bound.
# The throughput change is printed too; on a shared machine it is mostly
# noise at this size. Events the probes lost (buffer full) are counted from
# 'perfagent status': the goal is none.
#
# Run as root from the top of the tree: tools/bench/all_probes_cost.sh [ROUNDS [SECONDS]]
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-3}
secs=${2:-3}
make -s build/perfagent bench >/dev/null
PA=./build/perfagent
B=build/bench
. tools/bench/lib_bench.sh
tmp=$(mktemp -d)
pid=
stats_old=$(cat /proc/sys/kernel/bpf_stats_enabled)

cleanup() {
	echo "$stats_old" >/proc/sys/kernel/bpf_stats_enabled
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	memfs_teardown
	rm -rf "$tmp"
}
on_exit cleanup

memfs_setup "$tmp"

WORKLOADS="stream rr crr randrw seqwrite"

# run MODE: "ops rate cost_ns_per_op" of one run (cost: CPU for TCP, wall
# time for file I/O; a stream "op" is a MiB, a seqwrite op one write).
run() {
	case $1 in
	randrw | seqwrite)
		$B/disk_workload "$memfs_mnt/data" "$secs" "$1" | awk -v m="$1" '{
			printf "%d %s %.1f\n", $2, (m == "randrw") ? $8 : $10, $6 * 1e9 / $2 }'
		;;
	*)
		$B/net_tcp_bench "$1" "$secs" | awk -v s="$secs" '{
			printf "%d %s %.1f\n", $1 * s, $1, $2 * 1000 }'
		;;
	esac
}

# bpf_total FIRST: run time in ns of all programs loaded after id FIRST.
bpf_total() {
	bpftool prog show -j | jq --argjson f "$1" \
		'[.[] | select(.id > $f) | .run_time_ns // 0] | add // 0'
}

# variant_config VARIANT: "all" every probe; "no_syscall" the disk, net
# and health probes (issue 4's sets; the syscall probe has its own per-call
# target, syscall_overhead.sh).
variant_config() {
	if [ "$1" = no_syscall ]; then
		daemon_config "$tmp/config.json" "$tmp" '"probes": { "syscall": { "enabled": false } },'
	else
		daemon_config "$tmp/config.json" "$tmp"
	fi
}

# measure_under VARIANT: every workload once under a daemon started for it.
measure_under() {
	variant_config "$1"
	first=$(bpftool prog show -j | jq '[.[].id] | max // 0')
	daemon_start all_probes_cost
	bpftool prog show -j | jq --argjson f "$first" '[.[] | select(.id > $f)] | length' \
		>"$tmp/$1.nprogs"
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
	for m in $WORKLOADS; do
		t0=$(bpf_total "$first")
		out=$(run "$m")
		t1=$(bpf_total "$first")
		echo "$out $((t1 - t0))" >>"$tmp/$m.$1"
	done
	echo "$stats_old" >/proc/sys/kernel/bpf_stats_enabled
	$PA status --json --socket "$tmp/control.sock" |
		jq '[.probes[]? | .events_lost] | add // 0' >>"$tmp/$1.lost"
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	rm -rf "$tmp/logs" "$tmp/state"
}

# Rounds interleave bare runs and both variants, so that the machine's
# moods hit them alike.
for r in $(seq "$rounds"); do
	for m in $WORKLOADS; do
		run "$m" >>"$tmp/$m.bare"
	done
	measure_under all
	measure_under no_syscall
done

median() { sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }

report() {
	echo "under perfagent --daemon, $2 ($(cat "$tmp/$1.nprogs") BPF programs," \
		"$(awk '{ s += $1 } END { print s + 0 }' "$tmp/$1.lost") events lost):"
	printf '%-9s %12s %12s %9s %14s %14s %9s\n' workload "bare rate" "daemon rate" change \
		"bare cost/op" "BPF ns/op" share
	for m in $WORKLOADS; do
		# BPF ns per op: median over rounds of (BPF ns of the run / its ops).
		awk '{ print $4 / $1 }' "$tmp/$m.$1" >"$tmp/$m.$1.per_op"
		awk -v m="$m" -v br="$(median "$tmp/$m.bare" 2)" -v dr="$(median "$tmp/$m.$1" 2)" \
			-v bc="$(median "$tmp/$m.bare" 3)" -v k="$(median "$tmp/$m.$1.per_op" 1)" 'BEGIN {
			printf "%-9s %12.1f %12.1f %+8.2f%% %11.0f ns %14.0f %8.2f%%\n", m, br, dr,
				(dr / br - 1) * 100, bc, k, k / bc * 100 }'
	done
	echo
}
report all "every probe"
report no_syscall "disk, net and health probes"
echo "(rates: MiB/s stream and seqwrite, transactions/s rr, connections/s crr," \
	"operations/s randrw; cost/op: CPU for TCP, wall time for file I/O)"
echo "($rounds rounds of ${secs}s on" \
	"$(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)," \
	"$(date -u +%Y-%m-%d))"
