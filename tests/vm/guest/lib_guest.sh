# shellcheck shell=sh
# What the guest test scripts share, sourced as `. /tests/lib_guest.sh`
# (run-all.sh does not run lib*.sh itself): result lines, a cleanup that
# also runs when the time limit's SIGTERM ends the script, and the disk
# scsi_debug made.

ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	shift
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
skip() { echo "skip - $1"; }

# on_exit CMD: run CMD however the script ends. dash runs the EXIT trap
# when the script exits, not when a signal ends it, so the signals that
# run-all.sh sends at the time limit are turned into exits.
on_exit() {
	trap "$1" EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
}

# The sdX scsi_debug made: no udev here, so look in sysfs.
scsi_debug_disk() {
	for d in /sys/block/sd*; do
		[ -e "$d/device/model" ] || continue
		case $(cat "$d/device/model") in
		scsi_debug*) basename "$d"; return 0 ;;
		esac
	done
	return 1
}

# scsi_debug_up CASE: load scsi_debug (16 MiB; opts=2: reads from
# medium_error_start on fail with MEDIUM ERROR) and wait up to 30 s for its
# disk. Sets $disk (sdX) and $sector (the first failing one); when the disk
# does not come, reports CASE not ok and returns 1.
scsi_debug_up() {
	modprobe sd_mod 2>/dev/null
	if ! err=$(modprobe scsi_debug dev_size_mb=16 opts=2 2>&1); then
		not_ok "$1" "modprobe scsi_debug failed: $err"
		return 1
	fi
	i=0
	while ! disk=$(scsi_debug_disk) && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	while [ -n "${disk:-}" ] && [ ! -b "/dev/$disk" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ -z "${disk:-}" ] || [ ! -b "/dev/$disk" ]; then
		not_ok "$1" "no scsi_debug disk appeared under /sys/block"
		return 1
	fi
	sector=$(cat /sys/module/scsi_debug/parameters/medium_error_start 2>/dev/null || echo 4660)
}
