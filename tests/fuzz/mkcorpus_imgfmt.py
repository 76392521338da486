#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Make the seed corpus of fuzz_imgfmt (tests/fuzz/corpus/imgfmt/).

Real headers come from `qemu-img create -f FORMAT`, cut down to what the
probe reads (the corpus driver takes files up to 1 MiB): a qcow2 keeps its
first 64 KiB, the VHDX gets its metadata region moved next to the region
table. Raw disks (MBR, GPT, bare FAT volume) are built by hand. Hostile
samples: qcow2 with backing files to /etc/shadow, ../ paths and control
characters, an external data file, absurd sizes, truncated headers, a VMDK
text descriptor whose extent is /etc/shadow, a VHD differencing disk.

The unit test (tests/launcher/test_imgfmt.c) asserts on these same files,
so regenerate both together: python3 tests/fuzz/mkcorpus_imgfmt.py
"""

import os
import struct
import subprocess
import sys
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "corpus", "imgfmt")


def qemu_img(*args):
    subprocess.run(["qemu-img", *args], check=True, stdout=subprocess.DEVNULL)


def created(tmp, fmt, size="64M", opts=None, extra=()):
    path = os.path.join(tmp, "x." + fmt)
    if os.path.exists(path):
        os.unlink(path)
    args = ["create", "-q", "-f", fmt]
    if opts:
        args += ["-o", opts]
    qemu_img(*args, *extra, path, size)
    with open(path, "rb") as f:
        return f.read()


def put(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def mbr(size, parts):
    d = bytearray(size)
    for i, (typ, start, count) in enumerate(parts):
        struct.pack_into("<B3xB3xII", d, 446 + 16 * i, 0x80 if i == 0 else 0,
                         typ, start, count)
    d[510:512] = b"\x55\xaa"
    return d


def vhdx_compact(d):
    """Move the metadata region to 256 KiB so the sample stays small."""
    d = bytearray(d)
    rt = 0x30000
    n = struct.unpack_from("<I", d, rt + 8)[0]
    for i in range(n):
        e = rt + 16 + 32 * i
        if d[e:e + 4] == bytes.fromhex("06a27c8b"):
            moff = struct.unpack_from("<Q", d, e + 16)[0]
            struct.pack_into("<QI", d, e + 16, 0x40000, 0x10100)
    return bytes(d[:0x40000] + d[moff:moff + 0x10100])


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        q = created(tmp, "qcow2")
        put("qcow2-v3", q[:65536])
        put("qcow2-v2", created(tmp, "qcow2", "16M", "compat=0.10")[:65536])
        put("qcow2-luks", created(
            tmp, "qcow2", "16M",
            "encrypt.format=luks,encrypt.key-secret=s0",
            ["--object", "secret,id=s0,data=walloff-test"])[:65536])
        put("qcow2-backing-shadow", created(
            tmp, "qcow2", "1M", None,
            ["-u", "-b", "/etc/shadow", "-F", "raw"])[:65536])
        put("qcow2-backing-dotdot", created(
            tmp, "qcow2", "1M", None,
            ["-u", "-b", "../../../../etc/passwd", "-F", "raw"])[:65536])
        vmdk = created(tmp, "vmdk")
        put("vmdk-sparse", vmdk)
        put("vdi", created(tmp, "vdi"))
        vpc = created(tmp, "vpc")
        put("vhd-dynamic", vpc)
        # A differencing disk: type 4 in both footers, a parent name.
        t = bytearray(vpc)
        struct.pack_into(">I", t, 60, 4)
        struct.pack_into(">I", t, len(t) - 512 + 60, 4)
        doff = struct.unpack_from(">Q", t, 16)[0]
        nm = "..\\..\\secret.vhd".encode("utf-16-be")
        t[doff + 64:doff + 64 + len(nm)] = nm
        put("vhd-differencing", t)
        fixed = created(tmp, "vpc", "1M", "subformat=fixed")
        put("vhd-fixed", bytes(4096) + fixed[-512:])
        put("vhdx", vhdx_compact(created(tmp, "vhdx")))
        put("luks", created(tmp, "luks", "1M", "key-secret=s0",
                            ["--object", "secret,id=s0,data=walloff-test"])
            [:65536])

    # Hostile variants of a clean qcow2 header.
    h = bytearray(q[:65536])
    t = bytearray(h)
    name = b"/etc/\x1b[31mshadow\n"
    struct.pack_into(">QI", t, 8, 4096, len(name))
    t[4096:4096 + len(name)] = name
    put("qcow2-backing-ctrl", t)
    t = bytearray(h)
    struct.pack_into(">QI", t, 8, 65530, 1000)     # runs off the end
    put("qcow2-backing-oob", t)
    t = bytearray(h)
    struct.pack_into(">QI", t, 8, 4096, 0xffffffff)
    put("qcow2-backing-huge", t)
    t = bytearray(h)
    struct.pack_into(">Q", t, 24, 1 << 62)          # 4 EiB virtual size
    put("qcow2-absurd-size", t)
    t = bytearray(h)
    struct.pack_into(">I", t, 20, 40)               # cluster_bits 40
    put("qcow2-bad-cluster", t)
    t = bytearray(h)
    struct.pack_into(">Q", t, 72, 4)                # external data file
    put("qcow2-datafile", t)
    put("qcow2-truncated", bytes(h[:40]))
    put("vmdk-truncated", vmdk[:50])
    put("vmdk-text-shadow",
        b"# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
        b"parentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n"
        b"# Extent description\nRW 2048 FLAT \"/etc/shadow\" 0\n")
    put("vmdk-text-parent",
        b"# Disk DescriptorFile\nversion=1\nparentFileNameHint="
        b"\"../base.vmdk\"\ncreateType=\"monolithicSparse\"\n"
        b"RW 99999999999999999999 SPARSE \"x.vmdk\"\n")

    put("raw-mbr", mbr(65536, [(0x07, 63, 64)]))
    put("raw-mbr-insane", mbr(65536, [(0x07, 0, 0)]))
    g = mbr(65536, [(0xee, 1, 127)])
    g[512:520] = b"EFI PART"
    put("raw-gpt", g)
    v = bytearray(8192)
    v[0:3] = b"\xeb\x3c\x90"
    v[3:11] = b"MSWIN4.1"
    v[0x36:0x3e] = b"FAT16   "
    v[510:512] = b"\x55\xaa"
    put("raw-fat-volume", v)
    put("unknown-zeros", bytes(4096))
    put("unknown-text", b"hello, this is not a disk image\n" * 20)
    put("empty", b"")


if __name__ == "__main__":
    sys.exit(main())
