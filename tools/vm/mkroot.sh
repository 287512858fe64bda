#!/bin/sh
# Build the test VM's root file system as an initramfs, from the host's own
# binaries: build/vm/initramfs.cpio.gz.
#
#   tools/vm/mkroot.sh
#
# It holds busybox (static, every applet linked), the host's /bin/sh (dash),
# kmod's tools, a few host tools (HOST_TOOLS below), the guest kernel's driver
# modules the tests use (MODULES below, with what they depend on), perfagent
# and its integration tests (tests/integration/test_*, built and shell) with
# every shared library they load, build/vm/perfagent.ko when it has been built
# (installed where DKMS puts it, so `modprobe perfagent` works), the guest
# tests (tests/vm/guest/*.sh) and tools/vm/init. Run `make tests` first.
#
# Environment: VM_KVER (guest kernel, default: the one linux-image-amd64
# installs), VM_EXTRA_MODULES (more module names to include).
set -eu
cd "$(dirname "$0")/../.."
. tools/vm/common.sh

MODULES="e1000 dummy veth sch_netem null_blk scsi_debug sd_mod loop nvme dummy_hcd"
HOST_TOOLS="ip tc jq setpriv timeout env xargs setsid nsenter unshare"

kver=$(vm_kver) || exit 1
moddir=/lib/modules/$kver
root=$VM_OUT/root
image=$VM_OUT/initramfs.cpio.gz

[ -d "$moddir/kernel" ] || vm_die "$moddir/kernel is missing: apt-get install linux-image-$kver"
[ -x build/perfagent ] || vm_die "build/perfagent is missing: run 'make tests' first"
busybox=$(command -v busybox) || vm_die "busybox is missing: apt-get install busybox-static"
if ldd "$busybox" >/dev/null 2>&1; then
	vm_die "$busybox is dynamically linked: apt-get install busybox-static"
fi
kmod=$(command -v kmod) || vm_die "kmod is missing: apt-get install kmod"
command -v cpio >/dev/null || vm_die "cpio is missing: apt-get install cpio"

rm -rf "$root"
mkdir -p "$VM_OUT" "$root"
cd "$root"
# Debian's merged /usr layout, so library paths ldd prints resolve as on the host.
mkdir -p usr/bin usr/sbin usr/lib usr/lib64 proc sys dev tmp run etc root mnt \
	var/tmp tests perfagent/build/tests
ln -s usr/bin bin
ln -s usr/sbin sbin
ln -s usr/lib lib
ln -s usr/lib64 lib64
cd - >/dev/null

# put SRC DEST [MODE]: copy a file into the root (following symlinks).
put() {
	mkdir -p "$root/$(dirname "$2")"
	cp -L "$1" "$root/$2"
	chmod "${3:-0755}" "$root/$2"
}

# drop_links NAME: remove busybox's applet link NAME wherever it was put,
# so a full tool installed instead is the one on PATH.
drop_links() {
	for d in usr/bin usr/sbin; do
		if [ -L "$root/$d/$1" ]; then
			rm -f "$root/$d/$1"
		fi
	done
}

install_busybox() {
	put "$busybox" usr/bin/busybox
	"$busybox" --list-full | while read -r applet; do
		case $applet in
		linuxrc | */init | */busybox) continue ;;
		esac
		ln -sf /usr/bin/busybox "$root/$applet"
	done
}

# The host's /bin/sh (dash) is the guest's too, so scripts behave as they do
# on the host. Debian's busybox sh would not do: it runs its own applets
# before anything on PATH (kmod's modprobe, iproute2's ip, ...).
install_shell() {
	sh=$(readlink -f /bin/sh)
	put "$sh" "usr/bin/$(basename "$sh")"
	drop_links sh
	ln -s "$(basename "$sh")" "$root/usr/bin/sh"
}

install_kmod() {
	put "$kmod" usr/bin/kmod
	for t in modprobe insmod rmmod depmod modinfo lsmod; do
		drop_links "$t"
		ln -s ../bin/kmod "$root/usr/sbin/$t"
	done
}

# Host tools the tests use that busybox lacks or has only in part: iproute2
# (veth pairs, netem qdiscs), jq (JSON checks), util-linux's setpriv (running
# as an unprivileged user). Also every tool that runs another command:
# busybox's would start its own applet of that name, not the one on PATH
# (`timeout 5 modprobe x` would run busybox's modprobe). Each one the host
# has goes in, with its libraries.
install_host_tools() {
	for t in $HOST_TOOLS; do
		src=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$t") || {
			echo "mkroot: $t is not installed on the host, left out" >&2
			continue
		}
		drop_links "$t"
		put "$src" "usr/bin/$t"
	done
}

# The modules the guest tests use, with everything modprobe would load first
# (hard and soft dependencies), decompressed so any insmod can load them.
install_modules() {
	ko_list=$(mktemp)
	for m in $MODULES ${VM_EXTRA_MODULES:-}; do
		if ! modprobe -S "$kver" --show-depends "$m" >"$ko_list.one" 2>&1; then
			cat "$ko_list.one" >&2
			rm -f "$ko_list" "$ko_list.one"
			vm_die "module $m not found for $kver"
		fi
		sed -n 's/^insmod \([^ ]*\).*/\1/p' "$ko_list.one" >>"$ko_list"
	done
	for ko in $(sort -u "$ko_list"); do
		rel=${ko#"$moddir"/}
		case $ko in
		*.ko.xz) xz -dc "$ko" >"$ko_list.ko"; rel=${rel%.xz} ;;
		*.ko.zst) zstd -qdc "$ko" >"$ko_list.ko"; rel=${rel%.zst} ;;
		*.ko.gz) gzip -dc "$ko" >"$ko_list.ko"; rel=${rel%.gz} ;;
		*) cp "$ko" "$ko_list.ko" ;;
		esac
		put "$ko_list.ko" "lib/modules/$kver/$rel" 0644
		echo "$rel" >>"$root/lib/modules/$kver/modules.order"
	done
	rm -f "$ko_list" "$ko_list.one" "$ko_list.ko"
	for f in modules.builtin modules.builtin.modinfo; do
		if [ -e "$moddir/$f" ]; then
			put "$moddir/$f" "lib/modules/$kver/$f" 0644
		fi
	done
}

# The module built by tests/vm/run.sh (make module KDIR=...), where
# `dkms install` would put it.
install_perfagent_ko() {
	ko=$VM_OUT/perfagent.ko
	[ -e "$ko" ] || return 0
	magic=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
	[ "$magic" = "$kver" ] ||
		vm_die "$ko was built for '$magic', not $kver: rebuild it (tests/vm/run.sh does)"
	put "$ko" "lib/modules/$kver/updates/dkms/perfagent.ko" 0644
}

install_agent() {
	put build/perfagent perfagent/build/perfagent
	ln -s /perfagent/build/perfagent "$root/usr/bin/perfagent"
	for src in tests/integration/test_*.c tests/helpers/*.c; do
		[ -e "$src" ] || continue
		bin=build/tests/$(basename "$src" .c)
		if [ -x "$bin" ]; then
			put "$bin" "perfagent/$bin"
		else
			echo "mkroot: $bin is not built (make tests), left out" >&2
		fi
	done
	for src in tests/integration/test_*.sh tests/lib/check.sh; do
		if [ -e "$src" ]; then
			put "$src" "perfagent/$src"
		fi
	done
}

install_guest_files() {
	put tools/vm/init init
	put tools/vm/vm-monitor usr/bin/vm-monitor
	put tools/vm/vm.env etc/vm.env 0644
	for t in tests/vm/guest/*.sh; do
		if [ -e "$t" ]; then
			put "$t" "tests/$(basename "$t")"
		fi
	done
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
	echo "$kver" >"$root/etc/vm-kernel"
}

# Every shared library the dynamic executables name, and the loader, at the
# paths ldd prints.
install_libraries() {
	find "$root" -type f -perm -u+x | while read -r f; do
		ldd "$f" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p'
		if ldd "$f" 2>/dev/null | grep -q 'not found'; then
			echo "mkroot: $f needs a library that is not installed:" >&2
			ldd "$f" | grep 'not found' >&2
			echo MISSING
		fi
	done | sort -u | while read -r lib; do
		if [ "$lib" = MISSING ]; then
			exit 1
		fi
		[ -e "$root$lib" ] || put "$lib" "$lib"
	done || vm_die "a library is missing (see above)"
}

# A newc cpio entry for /dev/console: the kernel opens it for init's stdio
# before /init can mount devtmpfs, and a device node cannot be put in the
# staging directory without privileges.
console_cpio() {
	entry() { # NAME MODE RDEVMAJOR RDEVMINOR INO
		namesize=$((${#1} + 1))
		printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
			"$5" "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0 "$1"
		pad=$(((4 - (110 + namesize) % 4) % 4))
		head -c "$pad" /dev/zero
	}
	entry dev $((0040755)) 0 0 1
	entry dev/console $((0020600)) 5 1 2
	entry TRAILER!!! 0 0 0 0
}

install_busybox
install_shell
install_kmod
install_host_tools
install_modules
install_perfagent_ko
install_agent
install_guest_files
install_libraries
depmod -b "$root" "$kver"

{
	console_cpio
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet)
} | gzip -6 >"$image.tmp"
mv "$image.tmp" "$image"
echo "mkroot: $image ($(du -h "$image" | cut -f1), kernel $kver)"
