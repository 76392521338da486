#!/usr/bin/env bash
# Installs every Debian package walloff needs to build, test and run the demo.
# Idempotent: apt-get only installs what is missing. Nothing is downloaded from
# anywhere but the Debian archive configured on this machine.
set -euo pipefail

PKGS=(
	# build
	build-essential meson ninja-build pkg-config clang llvm
	libclang-rt-14-dev
	# libraries
	libsodium-dev libslirp-dev libnftnl-dev libmnl-dev libjansson-dev
	libinih-dev libseccomp-dev libcmocka-dev libglib2.0-dev
	zlib1g-dev
	# runtime
	qemu-system-x86 qemu-utils
	# test guest builder (images-docs/mkguest.sh)
	busybox-static syslinux syslinux-common mtools dosfstools cpio
	kmod xz-utils zstd shellcheck
	# tests
	socat iproute2 python3 util-linux procps
	# tests of nft mode inspect namespaces with `nft list tables`
	nftables
	# bench (bench/bench_console.c: the ssh -L and stunnel anchors)
	openssh-server openssh-client stunnel4 openssl
)

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all packages present"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
