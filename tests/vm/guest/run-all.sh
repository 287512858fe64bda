#!/bin/sh
# Runs inside the test VM (its /init calls it as /tests/run-all.sh): every
# other /tests/*.sh except lib*.sh, in name order, each under a time limit,
# with the current directory /perfagent (the build tree's layout: the agent is
# build/perfagent, test programs build/tests/*).
#
# A test script prints "ok - NAME", "not ok - NAME" or "skip - NAME" lines
# (other lines are diagnostics, best started with "#"); they are passed on
# with the script's name in front: "ok - kmod_netdev: carrier flap". A script
# that exits non-zero without a "not ok" line, prints no result at all, or
# runs out of time counts as one failure; so does one that leaves processes
# running after it exits (they are killed). The time limit is 180 s
# (VM_TEST_TIMEOUT=N on the kernel command line, i.e. boot.sh's VM_APPEND,
# changes it), or what a "# vm-time-limit: SECONDS" line in the script says.
# At the limit the script's whole process group gets SIGTERM (its traps can
# clean up), 10 s later SIGKILL: coreutils' timeout, which mkroot.sh installs
# over busybox's.
#
# VM_ONLY=a,b (kernel command line; tests/vm/run.sh passes it on) runs only
# the scripts named.
#
# Environment for the scripts: PERFAGENT (the agent), PERFAGENT_KO (the
# kernel module, installed where DKMS puts it so `modprobe perfagent` works;
# unset when it was not built, and then kmod_*.sh are reported as skipped),
# and /etc/vm.env's device names (VM_NIC0_MAC, VM_HOTDEV_PCI, ...).
#
# Exit status: 0 when nothing failed.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
. /etc/vm.env
export VM_NIC0_ID VM_NIC0_MAC VM_NIC0_PCI VM_HOTDEV_ID VM_HOTDEV_MAC \
	VM_HOTDEV_PCI VM_NVME_ID VM_NVME_PCI VM_CTL_TTY
export PERFAGENT=/perfagent/build/perfagent
unset PERFAGENT_KO
ko=/lib/modules/$(uname -r)/updates/dkms/perfagent.ko
[ -e "$ko" ] && export PERFAGENT_KO="$ko"
limit_default=${VM_TEST_TIMEOUT:-180}
work=/tmp/run-all
mkdir -p "$work"

# relay NAME: pass a script's output on, naming the script in result lines;
# keep the result lines in $work/NAME.results.
relay() {
	: >"$work/$1.results"
	while IFS= read -r line; do
		case $line in
		'ok - '* | 'not ok - '* | 'skip - '*)
			verdict=${line%% - *}
			line="$verdict - $1: ${line#* - }"
			echo "$line" >>"$work/$1.results"
			;;
		esac
		printf '%s\n' "$line"
	done
}

# run_script PATH: run one test script and judge how it ended.
run_script() {
	name=$(basename "$1" .sh)
	limit=$(sed -n 's/^# vm-time-limit: \([0-9]*\)$/\1/p' "$1" | head -n1)
	limit=${limit:-$limit_default}
	echo "# --- $name"
	start=$(date +%s)
	{
		cd /perfagent || exit 1
		timeout -k 10 "$limit" /bin/sh "$1" </dev/null 2>&1 &
		tpid=$!
		wait "$tpid"
		echo $? >"$work/$name.rc"
		# timeout made its own process group: whatever is still in it was
		# left running by the script. It would hold this pipe open (and
		# disturb later scripts).
		if kill -0 "-$tpid" 2>/dev/null; then
			echo "$name" >"$work/$name.leftover"
			kill -9 "-$tpid" 2>/dev/null
		fi
	} | relay "$name"
	rc=$(cat "$work/$name.rc")
	secs=$(($(date +%s) - start))
	echo "# $name: exit status $rc after ${secs}s"
	if [ -e "$work/$name.leftover" ]; then
		echo "not ok - $name: left processes running (killed now)" |
			tee -a "$work/$name.results"
	fi
	if [ "$rc" -ne 0 ] && [ "$secs" -ge "$limit" ]; then
		echo "not ok - $name: stopped at the ${limit}s time limit"
	elif [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' "$work/$name.results"; then
		echo "not ok - $name: exited with status $rc"
	elif ! [ -s "$work/$name.results" ]; then
		echo "not ok - $name: printed no ok/not ok/skip line"
	fi | tee -a "$work/$name.results"
}

# Kernel problems any test may have caused, also ones no test looked for.
check_kernel_log() {
	bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|general protection fault|Kernel panic|UBSAN:|KASAN:|kernel BUG|list_add corruption|list_del corruption')
	if [ -z "$bad" ]; then
		echo "ok - guest: kernel log free of WARNING, BUG and Oops"
	else
		echo "not ok - guest: kernel log free of WARNING, BUG and Oops"
		echo "$bad" | head -20 | sed 's/^/#   /'
	fi | tee -a "$work/guest.results"
}

echo "# guest: kernel $(uname -r), $(nproc) CPUs," \
	"perfagent.ko ${PERFAGENT_KO:-not built}"
kmod_tests=0
for t in /tests/*.sh; do
	name=$(basename "$t" .sh)
	case ,${VM_ONLY:-$name}, in
	*,"$name",*) ;;
	*) continue ;;
	esac
	case $name in
	run-all | lib*) continue ;;
	kmod_*)
		kmod_tests=1
		if [ -z "${PERFAGENT_KO:-}" ]; then
			echo "skip - $name: perfagent.ko was not built for this kernel" |
				tee -a "$work/skipped.results"
			continue
		fi
		;;
	esac
	run_script "$t"
done
if [ -z "${PERFAGENT_KO:-}" ] && [ $kmod_tests -eq 0 ] && [ -z "${VM_ONLY:-}" ]; then
	echo "skip - kmod: perfagent.ko was not built for this kernel"
fi
check_kernel_log

failed=$(cat "$work"/*.results 2>/dev/null | grep -c '^not ok - ')
echo "# guest: $(cat "$work"/*.results | grep -c '^ok - ') passed, $failed failed," \
	"$(cat "$work"/*.results | grep -c '^skip - ') skipped"
[ "$failed" -eq 0 ]
