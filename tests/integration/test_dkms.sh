#!/bin/sh
# The kernel module the way admins install it: dkms add, build, install,
# against the Debian 6.1 kernel the VM boots (the host cannot load modules),
# then check what DKMS installed and remove it again.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/check.sh

kver=$(ls /lib/modules 2>/dev/null | grep -- '-amd64$' | sort -V | tail -n 1)
if ! command -v dkms >/dev/null || [ -z "$kver" ] || [ ! -d "/lib/modules/$kver/build" ]; then
	echo "skip - dkms (needs dkms and linux-headers-amd64)"
	exit 0
fi
ver=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' Makefile)
conf_ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
if [ "$ver" = "$conf_ver" ]; then ok dkms_version_matches_makefile
else fail dkms_version_matches_makefile "Makefile $ver, dkms.conf $conf_ver"; fi

src=/usr/src/perfagent-$ver
tmp=$(mktemp -d)
uninstall() {
	dkms remove "perfagent/$ver" --all >/dev/null 2>&1
	rm -rf "$src"
}
uninstall
trap 'uninstall; rm -rf "$tmp"' EXIT
mkdir -p "$src"
cp -r Kbuild dkms.conf Makefile kmod include "$src"/
rm -f "$src"/kmod/*.o "$src"/kmod/.*.cmd

run() { # run NAME CMD...: one case per dkms step
	name=$1; shift
	if "$@" >"$tmp/out" 2>&1; then ok "$name"; else fail "$name" "$(tail -n 15 "$tmp/out")"; return 1; fi
}
run dkms_add dkms add "perfagent/$ver" || exit 0
run dkms_build dkms build "perfagent/$ver" -k "$kver" || exit 0
run dkms_install dkms install "perfagent/$ver" -k "$kver" || exit 0

ko=$(find "/lib/modules/$kver/updates/dkms" -name 'perfagent.ko*' 2>/dev/null | head -n 1)
if [ -n "$ko" ]; then ok dkms_installed_module; else fail dkms_installed_module "no perfagent.ko under /lib/modules/$kver/updates/dkms"; fi
magic=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
mver=$(modinfo -F version "$ko" 2>/dev/null)
if [ "$magic" = "$kver" ] && [ "$mver" = "$ver" ]; then ok module_built_for_guest_kernel
else fail module_built_for_guest_kernel "vermagic '$magic' (want $kver), version '$mver' (want $ver)"; fi
if modprobe -S "$kver" --show-depends perfagent 2>"$tmp/err" | grep -q "perfagent.ko"; then ok modprobe_finds_it
else fail modprobe_finds_it "$(cat "$tmp/err")"; fi
status=$(dkms status "perfagent/$ver" -k "$kver" 2>/dev/null)
case $status in *installed*) ok dkms_status_installed ;; *) fail dkms_status_installed "$status" ;; esac
dkms remove "perfagent/$ver" --all >/dev/null 2>&1
if [ -z "$(find "/lib/modules/$kver/updates/dkms" -name 'perfagent.ko*' 2>/dev/null)" ]; then ok dkms_remove
else fail dkms_remove "module still installed"; fi
