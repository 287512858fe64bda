#!/bin/sh
# Stability events through 'perfagent trace health --json', driven for
# real: a memory hog in a cgroup v2 limited to 32 MiB is OOM-killed (the
# event must name its pid and comm exactly, and carry the memory figures the
# kernel logged for that kill), and a module load (dummy) is reported with
# the module's name. With the kernel module built, it is loaded too, and the
# same stream must carry its events for that module (source kmod) beside the
# BPF ones (source bpf), each with a severity. Runs in the test VM, as root.
#
# Every wait is bounded, and whatever the script started (agent, hog, the
# cgroup's members) is stopped on any exit, also at run-all.sh's time limit
# (SIGTERM): under TCG on a loaded host the agent's start (loading and
# attaching the BPF programs) can take tens of seconds.
# vm-time-limit: 300
set -u
. /tests/lib_guest.sh
PA=${PERFAGENT:-/perfagent/build/perfagent}
T=build/tests/test_health_probe
cg=/sys/fs/cgroup/pa-health-events
tmp=$(mktemp -d)
agent=
hog=
dummy_loaded=0
kmod=0

# gone PID SECONDS: wait up to SECONDS for PID to exit; false if it has not.
gone() {
	n=$(($2 * 10))
	while kill -0 "$1" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	! kill -0 "$1" 2>/dev/null
}

# stop_agent: SIGINT, and its exit status; SIGKILL (137) after 15 s.
stop_agent() {
	kill -INT "$agent" 2>/dev/null
	gone "$agent" 15 || kill -KILL "$agent" 2>/dev/null
	wait "$agent"
}

cleanup() {
	trap - EXIT INT TERM
	[ -n "$agent" ] && stop_agent
	[ -n "$hog" ] && kill -KILL "$hog" 2>/dev/null
	if [ -d "$cg" ]; then
		echo 1 >"$cg/cgroup.kill" 2>/dev/null
		n=50
		while [ -s "$cg/cgroup.procs" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
		rmdir "$cg" 2>/dev/null
	fi
	[ $dummy_loaded -eq 1 ] && rmmod dummy 2>/dev/null
	[ $kmod -eq 1 ] && rmmod perfagent 2>/dev/null
	rm -rf "$tmp"
}
on_exit cleanup

# seen FILTER: the agent has printed a matching object.
seen() { [ "$(jq -c "select($1)" "$tmp/json" 2>/dev/null | wc -l)" -gt 0 ]; }
wait_seen() {
	n=300
	while ! seen "$1" && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	seen "$1"
}

[ -x "$T" ] || { not_ok health_events_setup "$T is missing (make tests)"; exit 1; }
echo +memory >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
if ! mkdir "$cg" || ! echo 32M >"$cg/memory.max"; then
	not_ok health_events_setup "cannot make a memory-limited cgroup at $cg"
	exit 1
fi
echo 0 >"$cg/memory.swap.max" 2>/dev/null
if [ -n "${PERFAGENT_KO:-}" ] && [ ! -d /sys/module/perfagent ] && modprobe perfagent; then
	kmod=1
fi
"$PA" trace health --json -i 500ms >"$tmp/json" 2>"$tmp/err" &
agent=$!
# Its BPF side is attached when its first IRQ time table is out.
i=0
while ! grep -q '"type":"irq_time"' "$tmp/json" && [ $i -lt 1200 ] && kill -0 "$agent" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q '"type":"irq_time"' "$tmp/json"; then
	ok "health_events_setup: agent attached after $((i / 10)) s"
else
	not_ok health_events_setup "the agent did not attach within 120 s (or exited)" "$(cat "$tmp/err")"
	exit 1
fi

# The hog: a shell that joins the cgroup and becomes the hog (same pid). It
# stops by itself after touching 1 GiB (the limit did not hold); 60 s is
# for a guest that cannot even do that.
sh -c "echo \$\$ >$cg/cgroup.procs && exec $T hog" 2>/dev/null &
hog=$!
if gone "$hog" 60; then
	wait "$hog"
	st=$?
else
	kill -KILL "$hog"
	wait "$hog"
	st="still running after 60 s"
fi
hog_pid=$hog
hog=
f=".type == \"oom_kill\" and .source == \"bpf\" and .victim.pid == $hog_pid"
if wait_seen "$f and .victim.comm == \"pa_oom_hog\" and .severity == \"error\""; then
	ok "health_oom_kill: pid $hog_pid (pa_oom_hog) killed (status $st), event names it"
else
	not_ok "health_oom_kill: pid $hog_pid (pa_oom_hog) killed, event names it" "hog status $st" \
		"$(jq -c "select(.type == \"oom_kill\")" "$tmp/json")" "$(cat "$tmp/err")"
fi
# The kernel's own record of the kill: "Killed process PID (pa_oom_hog)
# total-vm:NkB, anon-rss:NkB, file-rss:NkB, shmem-rss:NkB, ...", from the same
# counters the tracepoint reads at the same moment.
klog=$(dmesg | sed -n "s/.*Killed process $hog_pid (pa_oom_hog) total-vm:\([0-9]*\)kB, anon-rss:\([0-9]*\)kB, file-rss:\([0-9]*\)kB, shmem-rss:\([0-9]*\)kB.*/\1 \2 \3 \4/p" | head -n1)
mem=$(jq -r "select($f) | .victim | \"\\(.total_vm_kb) \\(.anon_rss_kb) \\(.file_rss_kb) \\(.shmem_rss_kb)\"" "$tmp/json" | head -n1)
anon=$(echo "$mem" | cut -d' ' -f2)
if [ -n "$klog" ] && [ "$mem" = "$klog" ] && [ "${anon:-0}" -gt 16384 ]; then
	ok "health_oom_kill: the victim's memory is the kernel's record (total-vm, anon, file, shmem kB: $mem)"
else
	not_ok "health_oom_kill: the victim's memory is the kernel's record" "event: $mem" "kernel: $klog" \
		"$(dmesg | grep -i 'killed process')"
fi

# A module load, if dummy is free to be loaded now.
if [ -d /sys/module/dummy ] && ! rmmod dummy 2>/dev/null; then
	echo "skip - health_module_load: dummy is loaded and in use"
elif ! modprobe dummy numdummies=0; then
	not_ok health_module_load "modprobe dummy failed"
else
	dummy_loaded=1
	if wait_seen '.type == "module_load" and .source == "bpf" and .module == "dummy" and .severity == "info"'; then
		ok "health_module_load: dummy"
	else
		not_ok "health_module_load: dummy" "$(grep -v irq_time "$tmp/json" | tail -5)"
	fi
	if [ $kmod -eq 0 ]; then
		echo "skip - health_one_stream: the kernel module is not built or already loaded"
	elif wait_seen '.type == "module_live" and .source == "kmod" and .module == "dummy" and .severity == "info"'; then
		ok "health_one_stream: dummy's load from kmod and bpf in one stream"
	else
		not_ok "health_one_stream: dummy's load from kmod and bpf in one stream" \
			"$(jq -c 'select(.module == "dummy")' "$tmp/json")"
	fi
fi

stop_agent
rc=$?
agent=
if [ $kmod -eq 0 ] && [ "$(grep -c 'kernel module perfagent is not loaded' "$tmp/err")" -ne 1 ]; then
	not_ok "health_events: the missing kernel module is said once" "$(cat "$tmp/err")"
fi
if [ $rc -eq 0 ] && grep -q '^perfagent: bpf: [0-9]* events, [0-9]* held back by the rate limit, 0 lost' "$tmp/err"; then
	ok "health_events: agent exit 0, nothing lost"
else
	not_ok "health_events: agent exit 0, nothing lost" "exit $rc: $(cat "$tmp/err")"
fi
