#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`walloff snapshot`: disk snapshots inside the encrypted overlay.

A persistent cell is started once (its encrypted disk is created) and
stopped. Guest-visible bytes are written into the disk with qemu-io (using
the cell's key), a snapshot is taken, other bytes are written over them,
and `snapshot revert` must bring the first bytes back. The snapshot is
inside the encrypted overlay (the pattern is not in the file's bytes).
Retention: four snapshots, `prune --keep 2` deletes the two oldest, and a
start with [snapshots] keep = 1 leaves one (listed through the running
cell's supervisor). Refusals: unknown snapshot (exit 1), bad name (exit 2).
Every action audited.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402

OFF = "24M"          # inside the 32 MiB guest disk



def qemu_io(cell, cmd):
    key = os.path.join(cell.state, "disk.key")
    ovl = os.path.join(cell.state, "disk.qcow2")
    spec = json.dumps({"driver": "qcow2",
                       "file": {"driver": "file", "filename": ovl},
                       "encrypt": {"key-secret": "s0"}})
    return subprocess.run(
        ["qemu-io", "--object", f"secret,id=s0,file={key},format=raw",
         "-c", cmd, "json:" + spec], capture_output=True, text=True)


def brief_run(cell):
    n = len(cell.audit())
    cell.start()
    ok = celllib.wait_for(lambda: "running" in [r["event"] for r in
                                                cell.audit()[n:]], 90)
    cell.cmd("stop", "--timeout", "60", cell.name, timeout=90)
    cell.wait(90)
    return ok


def main():
    t = celllib.Checks()
    cell = celllib.Cell("it-snap", disk={"mode": "persistent"},
                        machine={"shutdown-timeout": "5s"})
    try:
        t.ok(brief_run(cell), "persistent cell created", cell.output)
        w = qemu_io(cell, f"write -P 0x5a {OFF} 64k")
        t.ok(w.returncode == 0, "wrote pattern A", w.stdout + w.stderr)
        r = cell.cmd("snapshot", cell.name, "create", "s1")
        t.ok(r.returncode == 0, "snapshot create s1", r.stdout + r.stderr)
        qemu_io(cell, f"write -P 0xa5 {OFF} 64k")
        t.ok(qemu_io(cell, f"read -P 0xa5 {OFF} 64k").returncode == 0 and
             "Pattern verification failed" not in
             qemu_io(cell, f"read -P 0xa5 {OFF} 64k").stdout,
             "pattern B overwrote A")
        r = cell.cmd("snapshot", cell.name, "revert", "s1")
        t.ok(r.returncode == 0, "snapshot revert s1", r.stdout + r.stderr)
        rd = qemu_io(cell, f"read -P 0x5a {OFF} 64k")
        t.ok(rd.returncode == 0 and "Pattern verification failed"
             not in rd.stdout, "revert restored pattern A",
             rd.stdout + rd.stderr)
        with open(os.path.join(cell.state, "disk.qcow2"), "rb") as f:
            data = f.read()
        t.ok(b"\x5a" * 4096 not in data and b"\xa5" * 4096 not in data,
             "disk and snapshot data are encrypted in the file")

        r = cell.cmd("snapshot", cell.name, "list", "--json")
        names = [s["name"] for s in json.loads(r.stdout)] \
            if r.returncode == 0 else []
        t.ok(names == ["s1"], "list shows s1", r.stdout + r.stderr)
        for n in ("s2", "s3", "s4"):
            time.sleep(1.1)     # snapshot dates have 1 s resolution
            cell.cmd("snapshot", cell.name, "create", n)
        r = cell.cmd("snapshot", cell.name, "prune", "--keep", "2")
        r2 = cell.cmd("snapshot", cell.name, "list", "--json")
        names = [s["name"] for s in json.loads(r2.stdout)]
        t.ok(r.returncode == 0 and names == ["s3", "s4"],
             "prune --keep 2 removes the oldest", names)

        r = cell.cmd("snapshot", cell.name, "delete", "nope")
        t.ok(r.returncode == 1, "unknown snapshot: exit 1", r.stderr)
        r = cell.cmd("snapshot", cell.name, "create", "-bad/name")
        t.ok(r.returncode == 2, "bad name: exit 2", r.stderr)

        cell.sections["snapshots"] = {"keep": "1", "max-age": "30d"}
        cell.write_profile()
        cell.start()
        t.ok(celllib.wait_for(lambda: os.path.exists(
            os.path.join(cell.run_dir, "control.sock")), 90),
            "cell with [snapshots] starts", cell.proc.poll())
        # Running: the supervisor answers (live snapshots are in
        # test_snapshot_live.py); keep = 1 was applied before the start.
        r = cell.cmd("snapshot", cell.name, "list", "--json")
        names = [s["name"] for s in json.loads(r.stdout)] \
            if r.returncode == 0 else r.stderr
        t.ok(names == ["s4"], "running: list through the supervisor",
             names)
        cell.cmd("stop", "--timeout", "60", cell.name, timeout=90)
        cell.wait(90)
        r2 = cell.cmd("snapshot", cell.name, "list", "--json")
        names = [s["name"] for s in json.loads(r2.stdout)]
        t.ok(names == ["s4"], "keep = 1 enforced at start", names)

        ev = [(r["event"], r["details"].get("action"))
              for r in cell.audit() if r["event"].startswith("snapshot")]
        t.ok(("snapshot", "create") in ev and ("snapshot", "revert") in ev
             and ("snapshot-pruned", None) in ev, "actions audited", ev)
    finally:
        cell.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
