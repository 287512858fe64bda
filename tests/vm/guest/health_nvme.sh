#!/bin/sh
# NVMe completions with an error status, driven for real: the VM's NVMe
# controller (QEMU) refuses a passthrough command with an invalid opcode,
# and the health probe must report it for the namespace with the status
# decoded. Leaves the controller without a driver, as it found it (the
# kernel module's tests offer it to other drivers). Runs in the test VM.
set -u
. /tests/lib_guest.sh
T=build/tests/test_health_probe
loaded=0

cleanup() {
	trap - EXIT INT TERM
	[ $loaded -eq 1 ] && rmmod nvme 2>/dev/null
}
on_exit cleanup

[ -x "$T" ] || { not_ok health_nvme_setup "$T is missing (make tests)"; exit 1; }
if [ ! -d /sys/module/nvme ]; then
	modprobe nvme || { not_ok health_nvme_setup "modprobe nvme failed"; exit 1; }
	loaded=1
fi
i=0
while ! ls /dev/nvme*n1 >/dev/null 2>&1 && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
dev=$(ls /dev/nvme*n1 2>/dev/null | head -n1)
if [ -z "$dev" ]; then
	not_ok health_nvme_setup "no NVMe namespace appeared (QEMU -device nvme, ${VM_NVME_PCI:-?})"
	exit 1
fi
ok health_nvme_setup
"$T" nvme "$(basename "$dev")"
