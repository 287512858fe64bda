#!/bin/sh
# One-step set-up on a fresh Debian 12 machine (as root):
#   tools/bootstrap.sh run     install dependencies, build, run the agent's main job
#   tools/bootstrap.sh test    install dependencies, build, run every test
# Extra arguments after "run" go to perfagent.
set -eu
cd "$(dirname "$0")/.."

usage() {
	echo "usage: $0 run [PERFAGENT-ARGS...] | test" >&2
	exit 2
}

install_deps() {
	missing=""
	for p in $(grep -v '^#' tools/debian-packages.txt); do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$st" = "install ok installed" ] || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "bootstrap: missing Debian packages:$missing; run as root to install them" >&2
		exit 1
	fi
	echo "bootstrap: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

[ $# -ge 1 ] || usage
cmd=$1; shift
case $cmd in
run)
	install_deps
	make -s -j"$(nproc)"
	# The product's main job: the daemon, in the foreground, on the
	# built-in config unless the arguments say otherwise (--config FILE).
	exec ./build/perfagent --daemon --foreground "$@"
	;;
test)
	install_deps
	exec sh tests/run.sh
	;;
*)
	usage
	;;
esac
