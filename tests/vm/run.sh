#!/bin/sh
# The VM suite: Debian's -amd64 kernel (6.1 on Debian 12) in QEMU under TCG,
# with the kernel module and the agent's BPF programs, tested with real
# drivers. Builds what it needs, makes the guest's root (tools/vm/mkroot.sh),
# boots it (tools/vm/boot.sh) and prints the guest's result lines:
# "ok - NAME", "not ok - NAME", "skip - NAME". Exits non-zero when a case
# failed or the guest did not finish; then it also shows the guest's
# diagnostics and the tail of its console (kernel messages among the test
# output). tests/run.sh calls this.
#
# Environment: VM_TIMEOUT (seconds for the whole boot, default 780, under
# tests/run.sh's 900 for the whole suite),
# VM_KVER (guest kernel), VM_VERBOSE=1 (show the console live), VM_BUILD=0
# (use build/ as it is: no make tests; the module is still built),
# VM_ONLY=kmod_basic,vm_monitor (only these guest scripts),
# VM_INTEGRATION=test_syscall_probe (only these integration tests in the
# guest), VM_TEST_TIMEOUT (seconds per guest script, default 180).
# Needs root (the guest kernel image is readable by root only).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tools/vm/common.sh

timeout=${VM_TIMEOUT:-780}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	failed=1
}
# show FILE [LINES]: the end of a file, as diagnostics.
show() { tail -n "${2:-40}" "$1" | sed 's/^/#   /'; }

if ! kver=$(vm_kver 2>"$tmp/err"); then
	not_ok "vm: find the guest kernel: $(cat "$tmp/err")"
	exit 1
fi

mkdir -p "$VM_OUT"
# One run at a time per build/vm: runs share its root, image and logs.
exec 9>"$VM_OUT/.lock"
if ! flock -n 9; then
	echo "# another VM suite run holds $VM_OUT/.lock; waiting for it" >&2
	flock 9
fi
if [ "${VM_BUILD:-1}" = 1 ] && ! make -s -j2 tests >"$tmp/make" 2>&1; then
	show "$tmp/make"
	not_ok "vm: build the agent and its tests (make tests)"
	exit 1
fi

# The kernel module, when its sources are there (else the guest skips the
# module's tests). Kbuild leaves perfagent.ko in the source tree.
rm -f "$VM_OUT/perfagent.ko"
if [ -e Kbuild ] && ls kmod/*.c >/dev/null 2>&1; then
	kdir=/lib/modules/$kver/build
	if make -s module KDIR="$kdir" >"$tmp/kbuild" 2>&1 &&
		ko=$(ls -t perfagent.ko kmod/perfagent.ko 2>/dev/null | head -n1) &&
		[ -n "$ko" ] && cp "$ko" "$VM_OUT/perfagent.ko"; then
		ok "build perfagent.ko against $kdir"
	else
		show "$tmp/kbuild"
		not_ok "build perfagent.ko against $kdir"
	fi
fi

if ! tools/vm/mkroot.sh >"$tmp/mkroot" 2>&1; then
	show "$tmp/mkroot"
	not_ok "vm: make the guest's root (tools/vm/mkroot.sh)"
	exit 1
fi

# Subsets, for development: the guest reads them from its command line.
for v in VM_ONLY VM_INTEGRATION VM_TEST_TIMEOUT; do
	eval "val=\${$v:-}"
	[ -n "$val" ] && VM_APPEND="${VM_APPEND:-} $v=$val"
done
export VM_APPEND

if [ "${VM_VERBOSE:-0}" = 1 ]; then
	{
		tools/vm/boot.sh -v -t "$timeout"
		echo $? >"$tmp/boot_rc"
	} 2>&1 | tee "$tmp/boot" >&2
	boot_rc=$(cat "$tmp/boot_rc")
else
	tools/vm/boot.sh -t "$timeout" 2>"$tmp/boot"
	boot_rc=$?
fi

tr -d '\r' <"$VM_OUT/results.log" >"$tmp/results"
grep -E '^(ok|not ok|skip) - ' "$tmp/results"
grep -q '^not ok - ' "$tmp/results" && failed=1

case $boot_rc in
0 | 1) ;;
3)
	not_ok "vm: guest finished within ${timeout}s"
	;;
*)
	not_ok "vm: guest ran to its end (no crash, panic or QEMU failure)"
	;;
esac
[ "$boot_rc" -ne 0 ] && failed=1

if [ $failed -ne 0 ]; then
	echo "# tools/vm/boot.sh said:"
	grep -E '^(boot.sh|  qemu):' "$tmp/boot" | sed 's/^/#   /'
	if grep -qvE '^(ok|not ok|skip) - ' "$tmp/results"; then
		echo "# guest test diagnostics (last 150 lines):"
		grep -vE '^(ok|not ok|skip) - ' "$tmp/results" >"$tmp/diag"
		show "$tmp/diag" 150
	fi
	echo "# guest console, kernel messages among test output (last 80 lines):"
	tr -d '\r' <"$VM_OUT/console.log" >"$tmp/console"
	show "$tmp/console" 80
	echo "# whole logs: $VM_OUT/console.log, $VM_OUT/results.log"
fi
exit $failed
