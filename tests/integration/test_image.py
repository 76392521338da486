#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`walloff image import` and `walloff image sweep` on generated samples.

Import: one sample per format made by qemu-img (qcow2, VMDK, VDI, VHD
dynamic and fixed, VHDX) plus a raw disk with an MBR, each converted into
a private store; the result must be a 0400 plain qcow2 whose sha256 is
the one printed, with the same guest-visible content as the source
(qemu-img compare), and the import must be in the store's audit log.
Refusals (exit 3, audited, nothing left in the store): a qcow2 whose
backing file is /etc/shadow, a VMDK descriptor whose extent is
/etc/shadow, an encrypted qcow2, a 3 TiB qcow2, an unknown format.

Sweep: a tree with images under misleading names, a symlink out of the
tree to a folder of images, a symlink to an image, a FIFO, an unreadable
file and folder (the sweep runs as nobody), a dormant image, and a profile
that uses one image.
"""

import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time

from celllib import Checks

W = os.environ["WALLOFF"]


def qimg(*args):
    # qemu-img's LUKS benchmark can fail on a loaded host ("Unable to get
    # accurate CPU usage"): retry a few times.
    for attempt in range(4):
        r = subprocess.run(["qemu-img", *args], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode == 0 or "accurate CPU usage" not in r.stderr:
            break
    if r.returncode:
        raise RuntimeError(f"qemu-img {args}: {r.stderr}")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def mbr_disk(path, size=4 << 20):
    d = bytearray(size)
    struct.pack_into("<B3xB3xII", d, 446, 0x80, 0x0c, 2048,
                     (size >> 9) - 2048)
    d[510:512] = b"\x55\xaa"
    d[2048 * 512:2048 * 512 + 11] = b"hello-mbr!!"
    with open(path, "wb") as f:
        f.write(d)


def run(args, env, user=None):
    cmd = [W, *args]
    if user:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534",
               "--clear-groups", *cmd]
    return subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_import(t, tmp, env):
    store = os.path.join(tmp, "store")
    src = os.path.join(tmp, "src")
    os.mkdir(src)
    samples = {}
    for fmt, opts in [("qcow2", None), ("vmdk", None), ("vdi", None),
                      ("vpc", None), ("vpc", "subformat=fixed"),
                      ("vhdx", None)]:
        name = fmt + ("-fixed" if opts else "")
        p = os.path.join(src, name + ".bin")      # extensions mean nothing
        qimg("create", "-q", "-f", fmt, *(["-o", opts] if opts else []),
             p, "8M")
        # Known bytes in the guest-visible disk, so compare means something.
        subprocess.run(["qemu-io", "-f", fmt, "-c",
                        "write -P 0xa5 1M 64k", p], check=True,
                       stdout=subprocess.DEVNULL)
        samples[name] = (p, fmt)
    p = os.path.join(src, "physical.dd")
    mbr_disk(p)
    samples["rawmbr"] = (p, "raw")

    for name, (p, fmt) in samples.items():
        r = run(["image", "import", p, "--name", name, "--store", store],
                env)
        dst = os.path.join(store, name + ".qcow2")
        ok = t.ok(r.returncode == 0 and os.path.exists(dst),
                  f"import {name}", r.stdout + r.stderr)
        if not ok:
            continue
        st = os.stat(dst)
        t.ok(stat.S_IMODE(st.st_mode) == 0o400, f"{name}: result is 0400",
             oct(st.st_mode))
        info = json.loads(subprocess.run(
            ["qemu-img", "info", "-f", "qcow2", "--output=json", dst],
            capture_output=True, text=True, check=True).stdout)
        t.ok(info["format"] == "qcow2" and "backing-filename" not in info,
             f"{name}: result is a plain qcow2", info)
        t.ok(f"sha256 = {sha256(dst)}" in r.stdout and
             "format = qcow2" in r.stdout and f"image  = {dst}" in r.stdout,
             f"{name}: prints the [disk] lines with the real sha256",
             r.stdout)
        cmp = subprocess.run(["qemu-img", "compare", "-f", fmt, "-F",
                              "qcow2", p, dst], capture_output=True,
                             text=True)
        t.ok(cmp.returncode == 0, f"{name}: same content as the source",
             cmp.stdout + cmp.stderr)

    t.ok(stat.S_IMODE(os.stat(store).st_mode) == 0o700, "store is 0700")
    with open(os.path.join(store, "audit.jsonl")) as f:
        recs = [json.loads(l) for l in f]
    imports = [r for r in recs if r["event"] == "image-import"]
    t.ok(len(imports) == len(samples) and
         all(r["details"]["sha256"] == sha256(r["details"]["image"])
             for r in imports),
         "every import audited with source, format and sha256", imports)
    fmts = sorted(r["details"]["format"] for r in imports)
    t.ok(fmts == sorted(["qcow2", "vmdk", "vdi", "vhd", "vhd", "vhdx",
                         "raw-mbr"]), "formats recognised by content", fmts)

    # Existing names are never replaced.
    p = samples["qcow2"][0]
    r = run(["image", "import", p, "--name", "qcow2", "--store", store], env)
    t.ok(r.returncode == 1 and "already exists" in r.stderr,
         "an existing base is never replaced", r.stderr)

    # Refusals.
    hostile = os.path.join(src, "hostile.qcow2")
    qimg("create", "-q", "-f", "qcow2", "-u", "-b", "/etc/shadow", "-F",
         "raw", hostile, "1M")
    desc = os.path.join(src, "desc.vmdk")
    with open(desc, "w") as f:
        f.write('# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
                'parentCID=ffffffff\ncreateType="monolithicFlat"\n'
                'RW 2048 FLAT "/etc/shadow" 0\n')
    enc = os.path.join(src, "enc.qcow2")
    qimg("create", "-q", "-f", "qcow2", "--object",
         "secret,id=s0,data=x", "-o",
         "encrypt.format=luks,encrypt.key-secret=s0", enc, "1M")
    huge = os.path.join(src, "huge.qcow2")
    qimg("create", "-q", "-f", "qcow2", huge, "3T")
    unknown = os.path.join(src, "disk.vhd")
    with open(unknown, "wb") as f:
        f.write(os.urandom(1 << 16))
    before = sorted(os.listdir(store))
    for p, why in [(hostile, "backing/parent file '/etc/shadow'"),
                   (desc, "reads other files"),
                   (enc, "encrypted"),
                   (huge, "over the 2 TiB limit"),
                   (unknown, "unknown format")]:
        r = run(["image", "import", p, "--store", store], env)
        t.ok(r.returncode == 3 and why in r.stderr,
             f"refused: {os.path.basename(p)} ({why})",
             f"rc={r.returncode} {r.stdout}{r.stderr}")
    t.ok(sorted(os.listdir(store)) == before,
         "refusals leave nothing in the store", os.listdir(store))
    with open(os.path.join(store, "audit.jsonl")) as f:
        refused = [json.loads(l) for l in f
                   if '"image-refused"' in l]
    t.ok(len(refused) == 5 and
         any("/etc/shadow" in r["details"]["reason"] for r in refused),
         "refusals audited with the reason", refused)
    r = run(["image", "import", "--bogus"], env)
    t.ok(r.returncode == 2, "usage error exit 2", r.stderr)


def test_sweep(t, tmp, env):
    tree = os.path.join(tmp, "tree")
    outside = os.path.join(tmp, "outside")
    os.makedirs(os.path.join(tree, "deep", "er"))
    os.mkdir(outside)
    qimg("create", "-q", "-f", "qcow2", os.path.join(outside, "x.qcow2"),
         "1M")
    a = os.path.join(tree, "notes.txt")             # a VMDK in disguise
    qimg("create", "-q", "-f", "vmdk", a, "4M")
    b = os.path.join(tree, "deep", "er", "old-xp")  # dormant VHD
    qimg("create", "-q", "-f", "vpc", b, "4M")
    old = time.time() - 200 * 86400
    os.utime(b, (old, old))
    c = os.path.join(tree, "deep", "enc.img")       # dormant but encrypted
    qimg("create", "-q", "-f", "qcow2", "--object", "secret,id=s0,data=x",
         "-o", "encrypt.format=luks,encrypt.key-secret=s0", c, "1M")
    os.utime(c, (old, old))
    d = os.path.join(tree, "used.raw")
    mbr_disk(d)
    with open(os.path.join(tree, "readme"), "w") as f:
        f.write("not an image\n")
    os.symlink(outside, os.path.join(tree, "link-out"))
    os.symlink(os.path.join(outside, "x.qcow2"),
               os.path.join(tree, "link-img"))
    os.mkfifo(os.path.join(tree, "fifo"))
    secret = os.path.join(tree, "secret.qcow2")
    qimg("create", "-q", "-f", "qcow2", secret, "1M")
    os.chmod(secret, 0)
    closed = os.path.join(tree, "closed")
    os.mkdir(closed, 0)
    profiles = os.path.join(tmp, "profiles")
    os.mkdir(profiles)
    with open(os.path.join(profiles, "acct.cell"), "w") as f:
        f.write(f"[cell]\nname = acct\n[disk]\nimage = {d}\n"
                f"format = raw\nsha256 = {sha256(d)}\n")
    for p in (tmp, tree, outside, profiles, os.path.join(tree, "deep"),
              os.path.join(tree, "deep", "er")):
        os.chmod(p, 0o755)
    for p in (a, b, c, d, os.path.join(outside, "x.qcow2"),
              os.path.join(profiles, "acct.cell")):
        os.chmod(p, 0o644)

    r = run(["image", "sweep", "--json", "--profiles", profiles, tree], env,
            user="nobody")
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        t.ok(False, "sweep --json output", r.stdout + r.stderr)
        return
    found = {os.path.relpath(i["path"], tree): i for i in rep["images"]}
    t.ok(sorted(found) == sorted(["notes.txt", "deep/er/old-xp",
                                  "deep/enc.img", "used.raw"]),
         "sweep finds images by content, not through symlinks", found.keys())
    t.ok(found.get("notes.txt", {}).get("format") == "vmdk" and
         found.get("deep/er/old-xp", {}).get("format") == "vhd" and
         found.get("used.raw", {}).get("format") == "raw-mbr",
         "formats reported", found)
    t.ok(found.get("notes.txt", {}).get("virtual_size") == 4 << 20,
         "virtual size reported", found.get("notes.txt"))
    t.ok(found.get("deep/er/old-xp", {}).get("dormant") is True and
         found.get("deep/er/old-xp", {}).get("age_s", 0) >= 199 * 86400 and
         found.get("notes.txt", {}).get("dormant") is False,
         "dormancy from the last write", found)
    t.ok(found.get("deep/enc.img", {}).get("encrypted") is True and
         found.get("deep/enc.img", {}).get("dormant") is True,
         "encryption reported", found.get("deep/enc.img"))
    t.ok(found.get("used.raw", {}).get("used_by") == ["acct"] and
         found.get("notes.txt", {}).get("used_by") == [],
         "use by a profile reported", found)
    bad = sorted(os.path.relpath(u["path"], tree) for u in rep["unreadable"])
    t.ok(bad == ["closed", "secret.qcow2"], "unreadable file and folder "
         "reported", rep["unreadable"])
    t.ok("secret.qcow2: cannot read: Permission denied" in r.stderr,
         "unreadable file: a message", r.stderr)
    t.ok(r.returncode == 1 and rep["dormant_unencrypted"] == 1,
         "exit 1: a dormant unencrypted image", r.returncode)

    r = run(["image", "sweep", "--max-idle", "365d", tree], env,
            user="nobody")
    t.ok(r.returncode == 0 and "4 image(s), 0 dormant" in r.stdout,
         "exit 0 when nothing is dormant (text report)", r.stdout + r.stderr)
    r = run(["image", "sweep", os.path.join(tmp, "nope")], env)
    t.ok(r.returncode == 3, "exit 3 for a missing PATH", r.stderr)
    r = run(["image", "sweep", "--max-idle", "soon", tree], env)
    t.ok(r.returncode == 2, "exit 2 for a bad --max-idle", r.stderr)


def main():
    t = Checks()
    tmp = tempfile.mkdtemp(prefix="wo-img-", dir="/tmp")
    env = dict(os.environ)
    env["WALLOFF_STATE_DIR"] = os.path.join(tmp, "state")
    try:
        test_import(t, tmp, env)
        test_sweep(t, tmp, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
