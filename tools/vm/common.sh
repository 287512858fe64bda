# shellcheck shell=sh
# Shared by the VM bench scripts (sourced, POSIX sh). Expects the current
# directory to be the top of the source tree.

VM_OUT=${VM_OUT:-build/vm}
. tools/vm/vm.env

vm_die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# The guest kernel: VM_KVER if set, else the one the linux-image-amd64
# meta-package pulls in (what the project's set-up installs), else the newest
# -amd64 module tree that has a bootable image next to it.
vm_kver() {
	if [ -n "${VM_KVER:-}" ]; then
		echo "$VM_KVER"
		return 0
	fi
	dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
	if [ -n "$dep" ] && [ -e "/boot/vmlinuz-$dep" ]; then
		echo "$dep"
		return 0
	fi
	for d in $(printf '%s\n' /lib/modules/*-amd64 | sort -rV); do
		v=${d##*/}
		if [ -e "/boot/vmlinuz-$v" ]; then
			echo "$v"
			return 0
		fi
	done
	echo "no Debian -amd64 kernel found (/boot/vmlinuz-*-amd64 and /lib/modules);" \
		"install it: apt-get install linux-image-amd64 linux-headers-amd64" >&2
	return 1
}
