#!/bin/sh
# Build everything and run every test suite; ends with "N passed, N failed".
#
# Each test program prints one line per case: "ok - NAME", "not ok - NAME"
# or "skip - NAME". A program that exits non-zero without a "not ok" line
# (a crash, a sanitizer report) counts as one failed case.
#
# Suites, in order:
#   unit         tests/unit/test_*.c           plain, ASan+UBSan, valgrind
#   integration  tests/integration/test_*.c|sh plain and ASan+UBSan (root: loads BPF)
#   vm           tests/vm/run.sh               Debian 6.1 kernel in QEMU (kernel module, CO-RE)
# PERFAGENT_SUITES="unit integration" runs a subset.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
suites=${PERFAGENT_SUITES:-unit integration vm}
jobs=$(nproc 2>/dev/null || echo 2)
results=$(mktemp)
trap 'rm -f "$results"' EXIT

note() { printf '### %s\n' "$*"; }

build() {
	note "building ($*)"
	if ! make -s -j"$jobs" "$@" tests >/dev/null; then
		make -j1 "$@" tests 2>&1 | tail -40
		echo "not ok - build $*" >>"$results"
		echo "not ok - build $*"
		return 1
	fi
	echo "ok - build $*" >>"$results"
}

# run_prog LABEL CMD...: run one test program, collect its case lines.
run_prog() {
	label=$1; shift
	out=$(mktemp)
	timeout -k 10 900 "$@" >"$out" 2>&1
	rc=$?
	grep -E '^(ok|not ok|skip) - ' "$out" | sed "s|^\(ok\|not ok\|skip\) - |\1 - $label: |" >>"$results"
	if [ $rc -ne 0 ] || grep -q '^not ok - ' "$out"; then
		cat "$out"
		if ! grep -q '^not ok - ' "$out"; then
			echo "not ok - $label: exited with status $rc" >>"$results"
		fi
	else
		grep -E '^(ok|skip) - ' "$out" | sed "s|^|  $label: |"
	fi
	rm -f "$out"
}

unit_bins() { for s in tests/unit/test_*.c; do [ -e "$s" ] && basename "$s" .c; done; }
integ_bins() { for s in tests/integration/test_*.c; do [ -e "$s" ] && basename "$s" .c; done; }

for suite in $suites; do
	case $suite in
	unit)
		build || continue
		build SAN=1 || true
		for t in $(unit_bins); do
			run_prog "unit/$t" build/tests/$t
			[ -x build/san/tests/$t ] && run_prog "unit-san/$t" build/san/tests/$t
			run_prog "unit-valgrind/$t" valgrind -q --error-exitcode=99 \
				--leak-check=full --errors-for-leak-kinds=definite build/tests/$t
		done
		;;
	integration)
		build || continue
		build SAN=1 || true
		for t in $(integ_bins); do
			run_prog "integration/$t" env PERFAGENT=$top/build/perfagent build/tests/$t
			[ -x build/san/tests/$t ] && run_prog "integration-san/$t" \
				env PERFAGENT=$top/build/san/perfagent build/san/tests/$t
		done
		for t in tests/integration/test_*.sh; do
			[ -e "$t" ] || continue
			run_prog "integration/$(basename "$t" .sh)" env PERFAGENT=$top/build/perfagent sh "$t"
		done
		;;
	vm)
		if [ -x tests/vm/run.sh ]; then
			build || continue
			run_prog "vm" tests/vm/run.sh
		fi
		;;
	*)
		echo "unknown suite '$suite' in PERFAGENT_SUITES (unit, integration, vm)" >&2
		exit 2
		;;
	esac
done

passed=$(grep -c '^ok - ' "$results")
failed=$(grep -c '^not ok - ' "$results")
skipped=$(grep -c '^skip - ' "$results")
if [ "$failed" -gt 0 ]; then
	echo "### failed:"
	grep '^not ok - ' "$results"
fi
if [ "$skipped" -gt 0 ]; then
	echo "### skipped:"
	grep '^skip - ' "$results"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
