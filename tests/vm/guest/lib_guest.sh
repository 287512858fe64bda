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
