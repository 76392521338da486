#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`[disk] mode = persistent`: the writable layer is really encrypted.

1. A persistent cell boots; the guest mounts its boot disk, writes a file
   with a unique marker and syncs; the cell is stopped. The key file is
   0600 and 32 random bytes (hex), the staged copy for QEMU is gone while it runs, the
   key never appears in the audit log or QEMU's argv, and the marker bytes
   are NOT in STATE/disk.qcow2. Decrypted with the key (qemu-img convert),
   the overlay does contain the marker: it was written, encrypted.
2. Control: bare QEMU with a plain (unencrypted) qcow2 overlay, same
   write: the marker IS in that overlay's bytes.
3. The cell starts again and the guest reads its marker back (persistent).
4. Refusals, each with exit 9, a clear message, an audit record, and the
   overlay and key unchanged: wrong key, damaged key, missing key, and a
   missing overlay whose key exists.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402
import guestlib  # noqa: E402

WRITE = ("d=$(mount-boot) && printf '%s\\n' {m} > $d/marker.txt && sync && "
         "umount $d && echo written")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def contains(path, marker):
    with open(path, "rb") as f:
        return marker.encode() in f.read()


def step(what):
    print(f"# {time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def boot_and_write(t, cell, marker):
    cell.start()
    ser = cell.serial(timeout=60)
    ser.wait_for(guestlib.READY, 90)
    staged = os.path.exists(os.path.join(cell.run_dir, "disk.key"))
    t.ok(not staged, "the key copy staged for QEMU is gone once it runs")
    status, out = ser.run(WRITE.format(m=marker), timeout=30)
    t.ok(status == 0 and "written" in out, "guest wrote the marker", out)
    stop = cell.cmd("stop", cell.name, timeout=90)
    rc = cell.wait(60)
    t.ok(stop.returncode == 0 and rc == 0, "cell stopped cleanly",
         cell.output)


def control(t, img, marker, tmp):
    """Bare QEMU over a plain qcow2 overlay: the marker is in clear."""
    ovl = os.path.join(tmp, "plain.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                    "-b", img, ovl], check=True)
    orig = guestlib.qemu_argv

    def argv(*a, **kw):
        v = orig(*a, **kw)
        i = v.index("-drive")
        v[i + 1] = f"if=none,id=d0,file={ovl},format=qcow2"
        return v

    guestlib.qemu_argv = argv
    try:
        with guestlib.Guest(img) as g:
            g.wait_ready(90)
            status, out = g.serial.run(WRITE.format(m=marker), timeout=30)
            t.ok(status == 0, "control guest wrote the marker", out)
            g.qmp.execute("quit")
            g.wait_exit(30)
    finally:
        guestlib.qemu_argv = orig
    t.ok(contains(ovl, marker),
         "control: the marker is in the plain overlay's bytes")


def refused(t, cell, what, want):
    ovl = os.path.join(cell.state, "disk.qcow2")
    key = os.path.join(cell.state, "disk.key")
    before = (digest(ovl) if os.path.exists(ovl) else None,
              digest(key) if os.path.exists(key) else None)
    n = len(cell.audit())
    cell.start()
    rc = cell.wait(60)
    after = (digest(ovl) if os.path.exists(ovl) else None,
             digest(key) if os.path.exists(key) else None)
    t.ok(rc == 9 and want in cell.output,
         f"{what}: exit 9 with a clear message", f"rc={rc} {cell.output}")
    t.ok(before == after, f"{what}: overlay and key unchanged")
    new = [r["event"] for r in cell.audit()[n:]]
    t.ok("disk-refused" in new and "qemu-started" not in new,
         f"{what}: audited, QEMU never started", new)


def main():
    t = celllib.Checks()
    cell = celllib.Cell("it-disk", disk={"mode": "persistent"})
    tmp = tempfile.mkdtemp(prefix="wo-disk-", dir="/tmp")
    marker = "WALLOFF-MARKER-" + uuid.uuid4().hex
    try:
        step("first run of the persistent cell")
        boot_and_write(t, cell, marker)
        ovl = os.path.join(cell.state, "disk.qcow2")
        key = os.path.join(cell.state, "disk.key")
        st = os.stat(key)
        with open(key, "rb") as f:
            k = f.read()
        t.ok(st.st_mode & 0o777 == 0o600 and len(bytes.fromhex(
             k.decode())) == 32, "disk.key is 0600 and 32 bytes as hex",
             oct(st.st_mode))
        info = json.loads(subprocess.run(
            ["qemu-img", "info", "--output=json", "-f", "qcow2", ovl],
            capture_output=True, text=True, check=True).stdout)
        t.ok(info.get("encrypted") is True and
             info["format-specific"]["data"]["encrypt"]["format"] == "luks",
             "the overlay is a LUKS-encrypted qcow2", info)
        t.ok(not contains(ovl, marker),
             "the marker is NOT in the encrypted overlay's bytes")
        log = open(os.path.join(cell.state, "audit.jsonl"), "rb").read()
        t.ok(k not in log and k[:16] not in log,
             "the key is not in the audit log")
        qs = cell.first("qemu-started")
        t.ok(qs and any("secret,id=disk0-key" in a and "file=" in a
                        for a in qs["details"]["argv"]),
             "QEMU got the key as a secret object read from a file", qs)
        plain = os.path.join(tmp, "decrypted.raw")
        subprocess.run(
            ["qemu-img", "convert", "-O", "raw", "--object",
             f"secret,id=s0,file={key},format=raw", "--image-opts",
             f"driver=qcow2,file.filename={ovl},encrypt.key-secret=s0",
             plain], check=True)
        t.ok(contains(plain, marker),
             "decrypted with the key, the overlay holds the marker")
        os.unlink(plain)

        step("control: bare QEMU over a plain overlay")
        control(t, cell.img, marker, tmp)
        step("second run")

        # Persistent: the second run sees the first run's file.
        cell.start()
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)
        status, out = ser.run("cat $(mount-boot)/marker.txt", timeout=30)
        t.ok(marker in out, "second run reads the marker back", out)
        cell.cmd("stop", cell.name, timeout=90)
        t.ok(cell.wait(60) == 0, "second run stopped cleanly", cell.output)
        ov = cell.first("overlay")
        t.ok(ov and ov["details"]["mode"] == "persistent" and
             ov["details"]["created"] is True,
             "audit: persistent overlay created on the first run", ov)

        step("refusals")
        saved = os.path.join(tmp, "key.saved")
        shutil.copy2(key, saved)
        with open(key, "wb") as f:
            f.write(os.urandom(32).hex().encode())
        refused(t, cell, "wrong key", "does not unlock")
        with open(key, "wb") as f:
            f.write(b"short")
        refused(t, cell, "damaged key", "damaged")
        os.unlink(key)
        refused(t, cell, "missing key", "disk.key is missing")
        shutil.copy2(saved, key)
        os.rename(ovl, ovl + ".away")
        refused(t, cell, "missing overlay", "is missing but its key")
        os.rename(ovl + ".away", ovl)
    except guestlib.GuestError as ex:
        t.ok(False, "guest interaction", str(ex))
    finally:
        cell.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
