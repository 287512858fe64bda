# Shared by the benchmark scripts: sourced (POSIX sh, set -eu safe).

# on_exit CMD: run CMD however the script ends. dash runs the EXIT trap only
# when the script exits, and a trap on INT or TERM alone lets the script go
# on after it (starting the next daemon of the loop), so Ctrl-C and kill
# become exits.
on_exit() {
	trap "$1" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# memfs_setup DIR: ext4 on a loop device backed by memory (/dev/shm), the
# fastest device there is, so a probe's cost per request weighs the most;
# mounted on $memfs_mnt (DIR/mnt) with a 64 MiB file $memfs_mnt/data.
# memfs_teardown undoes what was done (call it from the script's trap).
memfs_img=
memfs_loop=
memfs_mnt=
memfs_setup() {
	memfs_mnt=$1/mnt
	memfs_img=$(mktemp /dev/shm/perfagent-bench-XXXXXX)
	truncate -s 256M "$memfs_img"
	memfs_loop=$(losetup -f --show "$memfs_img")
	mkfs.ext4 -q -F "$memfs_loop"
	mkdir -p "$memfs_mnt"
	mount "$memfs_loop" "$memfs_mnt"
	dd if=/dev/zero of="$memfs_mnt/data" bs=1M count=64 conv=fsync 2>/dev/null
}
memfs_teardown() {
	if [ -n "$memfs_mnt" ] && mountpoint -q "$memfs_mnt" 2>/dev/null; then
		umount "$memfs_mnt"
	fi
	if [ -n "$memfs_loop" ]; then
		losetup -d "$memfs_loop"
	fi
	if [ -n "$memfs_img" ]; then
		rm -f "$memfs_img"
	fi
}

# daemon_config FILE DIR [MEMBERS]: a daemon configuration at a 1 s interval
# that keeps its logs, pid file, socket and state under DIR and sends
# nothing to the journal; MEMBERS (JSON, ending in a comma) go first.
daemon_config() {
	cat >"$1" <<EOC
{
  ${3:-}
  "interval": "1s",
  "logs": { "dir": "$2/logs" },
  "journald": { "enabled": false },
  "daemon": { "pid_file": "$2/perfagent.pid", "control_socket": "$2/control.sock",
              "state_dir": "$2/state" }
}
EOC
}

# daemon_start NAME: start the daemon on $tmp/config.json (output in
# $tmp/daemon.out), its pid in $pid; exits the script, naming NAME, when it
# does not come up within 5 s.
daemon_start() {
	$PA --daemon --foreground --config "$tmp/config.json" >"$tmp/daemon.out" 2>&1 &
	pid=$!
	sleep 5
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "$1: the daemon did not start: $(cat "$tmp/daemon.out")" >&2
		exit 1
	fi
}
