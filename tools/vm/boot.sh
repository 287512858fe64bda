#!/bin/bash
# Boot the test VM: Debian's kernel in QEMU (TCG, never KVM) with the
# initramfs tools/vm/mkroot.sh built; its /init runs the guest tests and
# powers off. Two logs, rewritten by each run:
#   build/vm/console.log  the serial console: kernel messages and test output
#   build/vm/results.log  the test output alone (its own serial port)
#
#   tools/vm/boot.sh [-v] [-t SECONDS]
#
#   -v          also show the console live on stderr, and the monitor socket
#   -t SECONDS  hard limit for the whole run (VM_TIMEOUT, default 780)
#
# Environment: VM_KVER (guest kernel), VM_MEM (1G), VM_SMP (2), VM_APPEND
# (more kernel parameters), VM_QEMU_ARGS (more QEMU options), QEMU,
# VM_TCG_THREAD (single, or multi: see below).
#
# The vCPUs share one host thread (TCG thread=single). With one thread per
# vCPU (multi), QEMU 7.2 has left the 6.1 guest soft-locked for good, both
# vCPUs in handle_softirqs and one trapping on an int3 at the softirq
# tracepoint's patch site, after tracepoints were switched on and off while
# softirqs ran (BPF attach and detach, perfagent doctor): the cross-vCPU
# code modification of text_poke_bp. One thread runs one vCPU at a time, so
# a code write is seen by the other vCPU before it runs again.
#
# While the guest runs, this script relays its vm-monitor requests (second
# serial port, see tools/vm/vm-monitor) to QEMU's monitor through QMP's
# human-monitor-command and answers each with the outcome. Both channels are
# QEMU "pipe" chardevs (FIFOs), so the relay needs nothing but bash. A human
# can also attach to the HMP monitor socket (-v prints its path).
#
# Exit status: 0 the guest finished and reported no failure; 1 it finished
# and reported failures; 2 usage or missing prerequisites; 3 time limit hit;
# 4 QEMU failed or the guest never printed its end marker (crash, panic).
set -u
shopt -s extglob
cd "$(dirname "$0")/../.." || exit 2
. tools/vm/common.sh

timeout=${VM_TIMEOUT:-780}
log=$VM_OUT/console.log
results=$VM_OUT/results.log
verbose=0

usage() {
	echo "usage: $0 [-v] [-t SECONDS]" >&2
	exit 2
}

while getopts vt: opt; do
	case $opt in
	v) verbose=1 ;;
	t) timeout=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
[[ $timeout =~ ^[1-9][0-9]*$ ]] || { echo "boot.sh: -t wants whole seconds, not '$timeout'" >&2; exit 2; }

say() { echo "boot.sh: $*" >&2; }

kver=$(vm_kver) || exit 2
kernel=/boot/vmlinuz-$kver
initrd=$VM_OUT/initramfs.cpio.gz
qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || { say "$qemu is missing: apt-get install qemu-system-x86"; exit 2; }
[ -r "$kernel" ] || { say "cannot read $kernel (run as root, or apt-get install linux-image-$kver)"; exit 2; }
[ -r "$initrd" ] || { say "$initrd is missing: run tools/vm/mkroot.sh"; exit 2; }

# One VM per build/vm at a time: a second one would write into the same logs.
mkdir -p "$VM_OUT" || exit 2
exec 4>"$VM_OUT/.boot.lock"
if ! flock -n 4; then
	say "another VM runs from $VM_OUT ($VM_OUT/.boot.lock); waiting for it"
	flock 4
fi

run=$(mktemp -d "${TMPDIR:-/tmp}/perfagent-vm.XXXXXX") || exit 2
qpid=
tailpid=

stop_qemu() {
	[ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null || return 0
	qmp_send '{"execute":"quit"}' 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$qpid" 2>/dev/null || return 0
		sleep 0.5
	done
	kill -TERM "$qpid" 2>/dev/null
	sleep 1
	kill -KILL "$qpid" 2>/dev/null
}

cleanup() {
	stop_qemu
	[ -n "$qpid" ] && wait "$qpid" 2>/dev/null
	[ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null && wait "$tailpid" 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# --- QMP: one JSON object per line each way ---------------------------------

qmp_send() { printf '%s\n' "$1" >&8; }

# read_line FD VAR: the next whole line from FD into VAR, waiting at most
# one second. read keeps what it got of a line when it times out; that part
# waits in partial[FD] for the rest.
declare -A partial=()
read_line() {
	local chunk
	if IFS= read -r -t 1 -u "$1" chunk; then
		printf -v "$2" '%s' "${partial[$1]:-}${chunk%$'\r'}"
		partial[$1]=
		return 0
	elif (($? > 128)); then
		partial[$1]+=$chunk
	fi
	return 1
}

# qmp_wait SECONDS PATTERN: set qmp_line to the next QMP line matching
# PATTERN (a bash glob), skipping others (asynchronous events); fail if none
# comes in time. (No command substitution: a subshell would lose partial[].)
qmp_line=
qmp_wait() {
	local end=$((SECONDS + $1))
	while ((SECONDS < end)) && kill -0 "$qpid" 2>/dev/null; do
		read_line 7 qmp_line || continue
		# shellcheck disable=SC2053
		[[ $qmp_line == $2 ]] && return 0
	done
	return 1
}

# qmp_reply SECONDS: the reply to the last command, "return" or "error".
qmp_reply() { qmp_wait "$1" '@({"return"*|{"error"*)'; }

# json_string TEXT: TEXT as a JSON string literal.
json_string() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//[[:cntrl:]]/ }
	printf '"%s"' "$s"
}

# hmp COMMAND: run a human monitor command; set hmp_out to its output on one
# line; fail if QEMU reported an error.
hmp_out=
hmp() {
	qmp_send "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":$(json_string "$1")}}"
	if ! qmp_reply 30; then
		hmp_out="no answer from QEMU's monitor"
		return 1
	fi
	if [[ $qmp_line == '{"error"'* ]]; then
		hmp_out=$(sed -n 's/.*"desc": *"\(.*\)".*/\1/p' <<<"$qmp_line")
		return 1
	fi
	hmp_out=$(sed -n 's/^{"return": *"\(.*\)"}$/\1/p' <<<"$qmp_line")
	hmp_out=${hmp_out//\\r/}
	hmp_out=${hmp_out//\\n/; }
	hmp_out=${hmp_out%; }
	case $hmp_out in
	Error* | *'unknown command'*) return 1 ;;
	esac
	return 0
}

# --- the guest's vm-monitor requests -----------------------------------------

# serve_request LINE: "REQ <id> <command>" from the guest; answer
# "ACK <id> <0|1> <output>".
serve_request() {
	local line=$1 id cmd rc=0
	if [[ ! $line =~ ^REQ\ ([A-Za-z0-9._-]+)\ (.+)$ ]]; then
		[ -n "$line" ] && say "ignoring from the guest's control port: $line"
		return
	fi
	id=${BASH_REMATCH[1]}
	cmd=${BASH_REMATCH[2]}
	hmp "$cmd" || rc=1
	((verbose)) && say "vm-monitor '$cmd' -> status $rc${hmp_out:+: $hmp_out}"
	printf 'ACK %s %s %s\n' "$id" "$rc" "$hmp_out" >&6
}

# --- boot --------------------------------------------------------------------

mkfifo "$run/ctl.in" "$run/ctl.out" "$run/qmp.in" "$run/qmp.out" || exit 2
truncate -s 16M "$run/nvme.img" || exit 2
mkdir -p "$VM_OUT" && : >"$log" && : >"$results" || exit 2

# Guest addresses come from vm.env ("0000:00:03.0" -> addr=03.0).
# VM_QEMU_ARGS: more QEMU options, split on spaces (e.g. "-s" for gdb).
# shellcheck disable=SC2086
"$qemu" -name perfagent-vm -accel "tcg,thread=${VM_TCG_THREAD:-single}" -machine pc -cpu max -m "${VM_MEM:-1G}" \
	-smp "${VM_SMP:-2}" -nodefaults -display none -no-reboot \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 sysrq_always_enabled ${VM_APPEND:-}" \
	-chardev "file,id=console,path=$log" -serial chardev:console \
	-chardev "pipe,id=ctl,path=$run/ctl" -serial chardev:ctl \
	-chardev "file,id=results,path=$results" -serial chardev:results \
	-chardev "pipe,id=qmp,path=$run/qmp" -mon chardev=qmp,mode=control \
	-monitor "unix:$run/monitor.sock,server=on,wait=off" \
	-netdev user,id=net0,restrict=on \
	-device "e1000,netdev=net0,id=$VM_NIC0_ID,mac=$VM_NIC0_MAC,addr=${VM_NIC0_PCI#*:*:},romfile=" \
	-netdev user,id=net1,restrict=on \
	-device "e1000,netdev=net1,id=$VM_HOTDEV_ID,mac=$VM_HOTDEV_MAC,addr=${VM_HOTDEV_PCI#*:*:},romfile=" \
	-drive "if=none,id=nvm0,file=$run/nvme.img,format=raw" \
	-device "nvme,drive=nvm0,serial=perfagent0,id=$VM_NVME_ID,addr=${VM_NVME_PCI#*:*:}" \
	${VM_QEMU_ARGS:-} </dev/null >"$run/qemu.out" 2>&1 &
qpid=$!

# Read-write opens of the FIFOs never block and never see EOF, whatever
# QEMU does; whether QEMU still runs is checked with kill -0 instead.
exec 5<>"$run/ctl.out" 6<>"$run/ctl.in" 7<>"$run/qmp.out" 8<>"$run/qmp.in"

start=$SECONDS
deadline=$((SECONDS + timeout))
if ((verbose)); then
	say "kernel $kver, console log $log"
	say "QEMU monitor: socat - UNIX-CONNECT:$run/monitor.sock"
	tail -n +1 -f --pid="$qpid" "$log" >&2 &
	tailpid=$!
fi

# QMP greets first; commands work after qmp_capabilities.
if ! qmp_wait 60 '{"QMP"*' || ! qmp_send '{"execute":"qmp_capabilities"}' ||
	! qmp_reply 30 || [[ $qmp_line != '{"return"'* ]]; then
	say "QEMU did not start:"
	sed 's/^/  /' "$run/qemu.out" >&2
	exit 4
fi

timed_out=0
end_seen=0
request=
while kill -0 "$qpid" 2>/dev/null; do
	if ((SECONDS >= deadline)); then
		timed_out=1
		# Leave the guest's state in the console log: blocked tasks and
		# what each CPU runs (sysrq w and l).
		hmp 'sendkey alt-sysrq-w'
		hmp 'sendkey alt-sysrq-l'
		sleep 3
		break
	fi
	if read_line 5 request; then
		serve_request "$request"
	fi
	# The guest powers off right after its end marker; if that hangs,
	# do not wait for the time limit.
	if ((end_seen == 0)) && grep -q "^$VM_MARK_END " "$results"; then
		end_seen=$SECONDS
	elif ((end_seen && SECONDS - end_seen > 30)); then
		say "the guest printed its end marker but did not power off; stopping QEMU"
		break
	fi
done
stop_qemu
wait "$qpid"
qrc=$?
qpid=
elapsed=$((SECONDS - start))

status=$(tr -d '\r' <"$results" | sed -n "s/^$VM_MARK_END status=\([0-9]*\)\$/\1/p" | tail -n1)
if ((timed_out)); then
	say "time limit of ${timeout}s reached; the guest was stopped (log: $log)"
	exit 3
fi
if [ -z "$status" ]; then
	say "QEMU exited (status $qrc) after ${elapsed}s without the guest's end marker:" \
		"it crashed or panicked (log: $log)"
	[ -s "$run/qemu.out" ] && sed 's/^/  qemu: /' "$run/qemu.out" >&2
	exit 4
fi
if [ "$status" != 0 ]; then
	say "the guest finished in ${elapsed}s and reported failures (status $status)"
	exit 1
fi
((verbose)) && say "the guest finished in ${elapsed}s"
exit 0
