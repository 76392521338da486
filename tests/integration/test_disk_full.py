#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A full disk pauses the guest; freed space resumes it; the overlay is sound.

Re-executes itself under `unshare -m` (root): a private mount namespace in
which the cells' state folder is a small tmpfs. The cell is persistent (its
encrypted overlay and its audit log live on that tmpfs, as they would on a
small volume).

1. The guest boots; a filler file leaves a few MiB free on the tmpfs; the
   guest writes more than that to its disk (dd from the serial shell).
   The audit log gets disk.full (device, node, free bytes), the cell's
   status says paused with the reason, and dd has not finished.
2. The filler is deleted: disk.resumed is audited, the guest's dd
   completes (a marker on serial) and the status is running again.
3. A second fill pauses the guest again; `walloff stop` ends the paused
   cell (QEMU is quit: exit 6) within seconds.
4. `qemu-img check` on the overlay (decrypted with its key, as
   launcher/disk.c does) is clean.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402
import guestlib  # noqa: E402

MiB = 1 << 20
TMPFS_SIZE = 96 * MiB
# What the filler leaves free before each write: less than the write.
LEFT_FREE = 6 * MiB
# Each dd: 16 MiB of the 32 MiB test disk (the second at offset 16 MiB, so
# it needs new clusters in the overlay too).
WRITE_MIB = 16
DD = ("dd if=/dev/zero of=/dev/sda bs=1M count={n} seek={seek} conv=fsync "
      "2>/dev/null; printf 'WO-DD-%s-%s\\n' END{tag} $?\n")


def enter_mountns():
    if os.environ.get("WALLOFF_IN_MOUNTNS") == "1":
        return
    env = dict(os.environ, WALLOFF_IN_MOUNTNS="1")
    os.execvpe("unshare", ["unshare", "-m", "--propagation", "private",
                           "--", sys.executable, *sys.argv], env)


def step(what):
    print(f"# {time.strftime('%H:%M:%S')} {what}", file=sys.stderr,
          flush=True)



def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(root, name, leave):
    """A file that leaves about `leave` bytes free on root's filesystem."""
    n = max(0, free_bytes(root) - leave)
    path = os.path.join(root, name)
    with open(path, "wb") as f:
        chunk = b"\xa5" * MiB
        while n > 0:
            f.write(chunk[:min(n, MiB)])
            n -= min(n, MiB)
    return path


def events_after(cell, n, name):
    return [r for r in cell.audit()[n:] if r["event"] == name]


def status_line(cell):
    return cell.cmd("status").stdout


def main():
    enter_mountns()
    t = celllib.Checks()
    cell = celllib.Cell("it-full", disk={"mode": "persistent"},
                        machine={"shutdown-timeout": "20s"})
    root = cell.env["WALLOFF_STATE_DIR"]
    os.makedirs(root, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o",
                    f"size={TMPFS_SIZE},mode=0755", "wo-full", root],
                   check=True)
    try:
        step("boot")
        cell.start()
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)

        step("first fill and write")
        n = len(cell.audit())
        filler = fill(root, "filler", LEFT_FREE)
        start = len(ser.buf)
        ser.send(DD.format(n=WRITE_MIB, seek=0, tag="1"))
        full = celllib.wait_for(
            lambda: events_after(cell, n, "disk.full"), 60, 0.2)
        d = full[0]["details"] if full else {}
        t.ok(full and d.get("device") == "disk0" and d.get("node") and
             isinstance(d.get("free_bytes"), int) and
             d["free_bytes"] < LEFT_FREE,
             "disk.full audited with device, node and free bytes", d)
        st = status_line(cell)
        t.ok("paused" in st and "disk full" in st,
             "walloff status: paused, disk full", st)
        t.ok("WO-DD-END1" not in ser.text(start),
             "the guest's write has not completed")
        t.ok(any(r["event"] == "qmp-event" and
                 r["details"]["event"] == "STOP" for r in cell.audit()[n:]),
             "QEMU stopped the VM (STOP event)")

        step("free the space")
        os.unlink(filler)
        res = celllib.wait_for(
            lambda: events_after(cell, n, "disk.resumed"), 15, 0.2)
        t.ok(res and res[0]["details"]["free_bytes"] >= 64 * MiB,
             "disk.resumed audited once space was freed",
             res or cell.audit()[n:])
        try:
            out = ser.wait_for("WO-DD-END1", 60, start)
        except guestlib.GuestError as ex:
            out = str(ex)
        t.ok(out.strip() == "WO-DD-END1-0",
             "the guest's dd completed without an error", out)
        st = status_line(cell)
        t.ok("running" in st and "disk full" not in st,
             "walloff status: running again", st)

        step("second fill, stop while paused")
        n = len(cell.audit())
        filler = fill(root, "filler", LEFT_FREE)
        ser.send(DD.format(n=WRITE_MIB, seek=WRITE_MIB, tag="2"))
        full = celllib.wait_for(
            lambda: events_after(cell, n, "disk.full"), 60, 0.2)
        t.ok(full, "paused again on the second fill")
        t0 = time.monotonic()
        stop = cell.cmd("stop", cell.name, timeout=60)
        rc = cell.wait(60)
        took = time.monotonic() - t0
        t.ok(stop.returncode == 0 and rc == 6 and took < 20,
             f"walloff stop ends a paused cell (exit {rc}, {took:.1f}s)",
             stop.stdout + stop.stderr + cell.output)
        os.unlink(filler)

        step("qemu-img check")
        ovl = os.path.join(cell.state, "disk.qcow2")
        key = os.path.join(cell.state, "disk.key")
        spec = json.dumps({"driver": "qcow2",
                           "file": {"driver": "file", "filename": ovl},
                           "encrypt": {"format": "luks",
                                       "key-secret": "s0"},
                           "backing": None})
        chk = subprocess.run(
            ["qemu-img", "check", "--object",
             f"secret,id=s0,file={key},format=raw", "json:" + spec],
            capture_output=True, text=True, timeout=60)
        t.ok(chk.returncode == 0 and "No errors" in chk.stdout,
             "qemu-img check: the overlay is clean",
             f"rc={chk.returncode} {chk.stdout} {chk.stderr}")
    except guestlib.GuestError as ex:
        t.ok(False, "guest interaction", str(ex))
    finally:
        if cell.proc and cell.proc.poll() is None:
            cell.proc.kill()
            cell.proc.wait()
        subprocess.run(["umount", "-l", root])
        cell.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
