#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mkguest.sh OUTDIR: build the walloff test guest, OUTDIR/walloff-guest.img
# (a BIOS-bootable FAT disk, booted from IDE) and its .sha256 file.
#
# Theory of operation (everything from Debian packages, no root needed):
#  1. Kernel: resolve the versioned package behind linux-image-amd64 with
#     apt-cache, `apt-get download` it into OUTDIR (kept as a cache; an
#     existing .deb of the candidate version is reused, WALLOFF_KERNEL_DEB
#     names one explicitly for offline builds) and unpack it with dpkg-deb -x.
#  2. Modules: the .deb has no modules.dep (depmod runs at install time), so
#     run depmod -b on the unpacked tree, then copy the wanted drivers plus
#     everything modules.dep says they need, dependencies first, into the
#     initramfs; /etc/modules.order tells the guest's /init the insmod order.
#  3. Initramfs: busybox-static plus one symlink per applet, the scripts in
#     guest/, the modules; a newc cpio with sorted names, uid/gid 0 and fixed
#     mtimes, compressed with gzip -n.
#  4. Disk: mkfs.vfat --invariant on a plain file, mcopy the kernel, initrd
#     and syslinux.cfg, then `syslinux -i` on the file (syslinux uses mtools,
#     so no loop device and no mount).
# Reproducibility: all timestamps are SOURCE_DATE_EPOCH (default: the mtime
# of the kernel in the .deb, fixed by Debian), file lists are sorted, the FAT
# volume id and the time mtools stamps into directory entries are fixed.
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")" && pwd)
GUEST=$SRC/guest
IMG=$OUT/walloff-guest.img
# FAT disk size: kernel (~8 MiB) + initrd (~4 MiB) + room for test files.
IMG_MIB=32
# Drivers the guest loads. NICs: the models a profile may choose; disk: PIIX
# IDE (the XP-era default) and AHCI; FAT + code pages so the guest can mount
# its own disk (nls_ascii: the kernel's default FAT iocharset is "ascii");
# button + evdev so busybox acpid sees the ACPI power button
# (CONFIG_ACPI_BUTTON is =m in Debian's kernel).
MODULES=(
	e1000 8139cp 8139too pcnet32 ne2k-pci
	crc64_rocksoft_generic
	ata_piix ata_generic pata_oldpiix ahci sd_mod
	fat vfat nls_cp437 nls_iso8859-1 nls_ascii nls_utf8
	button evdev
)

log() { echo "mkguest: $*" >&2; }

WORK=$(mktemp -d "$OUT/.mkguest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# 1. Kernel package --------------------------------------------------------
deb=${WALLOFF_KERNEL_DEB:-}
if [ -z "$deb" ]; then
	pkg=$(apt-cache depends linux-image-amd64 |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ {
			print $2; exit }')
	[ -n "$pkg" ] || { log "cannot resolve linux-image-amd64"; exit 1; }
	ver=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" { print $2 }')
	deb=$OUT/${pkg}_${ver//:/%3a}_amd64.deb
	if [ ! -s "$deb" ]; then
		log "downloading $pkg $ver"
		if (cd "$OUT" && apt-get download -q "$pkg=$ver" >"$WORK/apt.log" 2>&1) &&
			[ -s "$deb" ]; then
			# Keep one cached kernel: drop older versions and ABIs.
			for old in "$OUT"/linux-image-*.deb; do
				[ "$old" = "$deb" ] || rm -f "$old"
			done
		else
			grep -v 'unsandboxed' "$WORK/apt.log" >&2 || true
			deb=$(find "$OUT" -maxdepth 1 -name 'linux-image-*-amd64_*.deb' |
				LC_ALL=C sort | tail -n 1)
			[ -n "$deb" ] || { log "apt-get download $pkg failed"; exit 1; }
			log "download failed, using the cached $(basename "$deb")"
		fi
	fi
fi
log "kernel from $(basename "$deb")"
dpkg-deb -x "$deb" "$WORK/k"
KVER=$(ls "$WORK/k/lib/modules")
KMOD=$WORK/k/lib/modules/$KVER
VMLINUZ=$WORK/k/boot/vmlinuz-$KVER
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$VMLINUZ")}
export SOURCE_DATE_EPOCH
grep -q '^CONFIG_ACPI_BUTTON=[ym]' "$WORK/k/boot/config-$KVER" ||
	{ log "kernel has no ACPI button driver"; exit 1; }

# 2. Modules, dependencies first --------------------------------------------
depmod -b "$WORK/k" "$KVER"
R=$WORK/root
mkdir -p "$R/lib/modules/$KVER"
declare -A seen=()
order=()
# add_mod PATH: append PATH (relative to $KMOD) after its dependencies.
add_mod() {
	local path=$1 line dep
	[ -n "${seen[$path]:-}" ] && return 0
	seen[$path]=1
	line=$(grep -m1 "^$path:" "$KMOD/modules.dep") ||
		{ log "no modules.dep entry for $path"; exit 1; }
	for dep in ${line#*:}; do
		add_mod "$dep"
	done
	order+=("$path")
}
for m in "${MODULES[@]}"; do
	if grep -qE "/$m\.ko(\.xz|\.zst)?\$" "$KMOD/modules.builtin"; then
		continue
	fi
	p=$(grep -m1 -oE "^[^:]*/$m\.ko(\.xz|\.zst)?:" "$KMOD/modules.dep") ||
		{ log "module $m not found"; exit 1; }
	add_mod "${p%:}"
done
: >"$WORK/modules.order"
for p in "${order[@]}"; do
	dst=${p%.xz}
	dst=${dst%.zst}
	mkdir -p "$R/lib/modules/$KVER/$(dirname "$dst")"
	case $p in
	*.xz) xz -dc "$KMOD/$p" >"$R/lib/modules/$KVER/$dst" ;;
	*.zst) zstd -qdc "$KMOD/$p" >"$R/lib/modules/$KVER/$dst" ;;
	*) cp "$KMOD/$p" "$R/lib/modules/$KVER/$dst" ;;
	esac
	echo "$dst" >>"$WORK/modules.order"
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
	cp "$KMOD/$f" "$R/lib/modules/$KVER/"
done
depmod -b "$R" "$KVER"
log "${#order[@]} modules"

# 3. Initramfs -------------------------------------------------------------
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc/walloff,etc/acpi/PWRF} \
	"$R"/{proc,sys,dev,run,tmp,root,mnt/boot,var/log}
cp /bin/busybox "$R/bin/busybox"
/bin/busybox --list-full | LC_ALL=C sort | while read -r app; do
	[ "$app" = bin/busybox ] && continue
	[ -e "$R/$app" ] || ln -s /bin/busybox "$R/$app"
done
install -m 0755 "$GUEST/init" "$R/init"
install -m 0644 "$GUEST/inittab" "$R/etc/inittab"
for f in serial-shell vga-shell net-up udhcpc.script power-button; do
	install -m 0755 "$GUEST/$f" "$R/etc/walloff/$f"
done
install -m 0755 "$GUEST/mount-boot" "$R/bin/mount-boot"
install -m 0644 "$GUEST/banner" "$R/etc/walloff/banner"
ln -s ../../walloff/power-button "$R/etc/acpi/PWRF/00000080"
install -m 0644 "$WORK/modules.order" "$R/etc/modules.order"
echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
echo "root:x:0:" >"$R/etc/group"
: >"$R/etc/resolv.conf"
find "$R" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$R" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) |
	gzip -9 -n >"$WORK/initrd.img"

# 4. Boot disk --------------------------------------------------------------
cp "$VMLINUZ" "$WORK/vmlinuz"
cp "$GUEST/syslinux.cfg" "$WORK/syslinux.cfg"
BOOT_FILES=("$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/syslinux.cfg")
touch -d "@$SOURCE_DATE_EPOCH" "${BOOT_FILES[@]}"
rm -f "$IMG.tmp"
mkfs.vfat --invariant -i 57A110FF -n WALLOFF -C "$IMG.tmp" \
	$((IMG_MIB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -m -i "$IMG.tmp" "${BOOT_FILES[@]}" ::/
syslinux -i "$IMG.tmp"
mv "$IMG.tmp" "$IMG"
(cd "$OUT" && sha256sum walloff-guest.img >walloff-guest.img.sha256)
log "$IMG ($(cut -d' ' -f1 "$IMG.sha256"))"
