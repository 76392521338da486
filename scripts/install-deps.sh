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
	# man pages (doc/, scdoc) and their render check; bash completion
	scdoc groff-base man-db bash-completion
	# walloff export --libvirt: virt-xml-validate (libvirt-clients; the RNG
	# schemas come with libvirt0) runs xmllint (libxml2-utils)
	libvirt-clients libxml2-utils
	# systemd unit checks (systemd-analyze) and the Debian package test
	# (scripts/deb-test.sh: dpkg-buildpackage, lintian, the postinst's adduser)
	systemd debhelper dpkg-dev lintian adduser
	# static analysis as tests (scripts/lint.sh, meson suite "lint")
	clang-tidy cppcheck
)

# The benches' anchors (bench/bench_console.c: ssh -L and stunnel), only
# with --bench: tests never need them, and a CI machine should not gain an
# sshd it did not ask for.
if [ "${1:-}" = "--bench" ]; then
	PKGS+=(openssh-server openssh-client stunnel4 openssl)
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

# The unprivileged user cells run as when walloff is started as root
# (launcher/spawn.c prefers it to "nobody", whose files other daemons share).
# No home, no login shell.
if ! getent passwd walloff >/dev/null; then
	echo "install-deps: creating system user walloff"
	$SUDO useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --user-group walloff
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
