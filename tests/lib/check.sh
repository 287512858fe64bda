# shellcheck shell=sh
# The TAP-style lines of the shell tests (tests/integration/test_*.sh),
# sourced by them: ok NAME; fail NAME DETAIL...; expect NAME EXIT-CODE
# OUTPUT-SUBSTRING CMD... (runs CMD, checks its exit code and that the
# substring is in what it printed). expect writes to "$tmp", which the
# sourcing script creates.

ok() { echo "ok - $1"; }
fail() { echo "not ok - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

expect() {
	name=$1 code=$2 msg=$3; shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq "$code" ] && grep -qF -- "$msg" "$tmp/err" "$tmp/out"; then
		ok "$name"
	else
		fail "$name" "exit $rc (want $code)" "stderr: $(head -c 600 "$tmp/err")"
	fi
}
