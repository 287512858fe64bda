#!/bin/sh
# Cost per getppid call: bare, with empty tp_btf programs on sys_enter/exit
# (the floor: the cost of hooking at all), with those programs reading the
# clock once each (what any latency costs at least), and with 'perfagent
# trace syscalls' running (full per-syscall latency histograms). Optionally also
# with any other tracer given as a command line in $EXTRA_TRACERS, e.g.
#   EXTRA_TRACERS='syscount=/opt/syscount;syscount -L=/opt/syscount -L'
# Rounds are interleaved so that machine noise hits every variant alike;
# the figure per variant is the median of the rounds' best-of-5.
# Run as root from the top of the tree: tools/bench/syscall_overhead.sh [ROUNDS]
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-7}
[ -n "${PERFAGENT_BIN:-}" ] || make -s build/perfagent bench >/dev/null
. tools/bench/lib_bench.sh
tmp=$(mktemp -d)
on_exit 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"'
# Private copies: a rebuild during the run must not swap binaries under it.
B=$tmp/bin
mkdir "$B"
cp "${PERFAGENT_BIN:-build/perfagent}" "$B/perfagent"
cp build/bench/getppid_loop build/bench/empty_attach build/bench/empty.bpf.o \
	build/bench/clock_floor.bpf.o "$B"/

measure() { taskset -c 0 $B/getppid_loop 2000000 5; }

# with_tracer LABEL CMD...: start a tracer, measure, stop it.
with_tracer() {
	label=$1; shift
	"$@" >/dev/null 2>"$tmp/err" &
	pid=$!
	sleep 1.5
	if ! kill -0 $pid 2>/dev/null; then
		echo "syscall_overhead: '$*' exited early: $(cat "$tmp/err")" >&2
		exit 1
	fi
	measure >>"$tmp/$label"
	kill -INT $pid
	wait $pid 2>/dev/null || true
}

for r in $(seq "$rounds"); do
	measure >>"$tmp/bare"
	with_tracer floor $B/empty_attach $B/empty.bpf.o
	with_tracer clock $B/empty_attach $B/clock_floor.bpf.o
	with_tracer perfagent $B/perfagent trace syscalls -i 10s
	if [ -n "${EXTRA_TRACERS:-}" ]; then
		echo "$EXTRA_TRACERS" | tr ';' '\n' | while IFS='=' read -r label cmd; do
			# shellcheck disable=SC2086
			with_tracer "x_$(echo "$label" | tr ' ' '_')" $cmd
		done
	fi
done

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
bare=$(median "$tmp/bare")
floor=$(median "$tmp/floor")
printf '%-28s %10s %12s %14s\n' variant ns/call "added ns" "added/floor"
report() {
	v=$(median "$tmp/$2")
	awk -v l="$1" -v v="$v" -v b="$bare" -v f="$floor" 'BEGIN {
		a = v - b; printf "%-28s %10.1f %12.1f %14.2f\n", l, v, a, ((f - b) > 0) ? (a / (f - b)) : 0 }'
}
report "no tracing" bare
report "empty tp_btf programs" floor
report "  + one clock read each" clock
report "perfagent trace syscalls" perfagent
for f in "$tmp"/x_*; do
	[ -e "$f" ] && report "$(basename "$f" | sed 's/^x_//; s/_/ /g')" "$(basename "$f")"
done
echo "($rounds interleaved rounds on $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%d))"
