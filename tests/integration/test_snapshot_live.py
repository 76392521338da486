#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`walloff snapshot` on running cells: live snapshots with memory.

A persistent cell ([snapshots] keep = 2) boots the test guest. The guest
writes marker A to its disk and to its tmpfs (memory only), `snapshot
create s1` saves disk and memory through the supervisor's control socket,
the guest writes marker B, and `snapshot revert s1` must bring the guest
back to the moment after A without a reboot: tmpfs marker A there, B gone,
the disk says A, and the uptime did not restart. The audit log has the
jobs. The memory state is encrypted: a marker held in the guest's RAM is
in neither the overlay nor the memory image, which is a LUKS container.
Two more creates with keep = 2 leave the two newest; a request that arrives
while a job runs is refused as busy, and no two jobs ever overlap in the
audit log. A revert to an unknown snapshot fails, is audited, and the guest
runs on. Meanwhile an ephemeral cell is started: its snapshot is refused
with exit 3.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402
import guestlib  # noqa: E402

# In the guest's RAM only: 64 KiB of it on tmpfs, so it is in saved pages.
MEM_MARK = "WOMEMMARK-7f3c9e1d"
MEM_CMD = (f"i=0; while [ $i -lt 3000 ]; do echo {MEM_MARK}; i=$((i+1)); "
           "done > /tmp/mem.txt && echo memdone")



def step(what):
    print(f"# {time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def snaps(cell):
    """(name, vm_state_size) of the running cell's snapshots."""
    r = cell.cmd("snapshot", cell.name, "list", "--json")
    if r.returncode:
        return [("error", r.stderr)]
    return [(s["name"], s["vm_state_size"]) for s in json.loads(r.stdout)]


def ephemeral_refused(t, eph):
    """The ephemeral cell's supervisor answers; its snapshot is refused."""
    sock = os.path.join(eph.run_dir, "control.sock")
    t.ok(celllib.wait_for(lambda: os.path.exists(sock), 90),
         "ephemeral cell: control socket served", eph.proc.poll())
    r = eph.cmd("snapshot", eph.name, "create", "x")
    t.ok(r.returncode == 3 and "ephemeral" in r.stderr,
         "ephemeral cell: snapshot refused, exit 3", (r.returncode, r.stderr))
    ev = [x["details"] for x in eph.audit()
          if x["event"] == "snapshot.create"]
    t.ok(ev and ev[-1]["result"] == "refused",
         "ephemeral refusal audited", ev)
    eph.cmd("stop", "--timeout", "30", eph.name, timeout=60)
    eph.wait(60)


def jobs_never_overlap(records):
    """Every job's "started" is followed by its end before the next one."""
    open_job = None
    for r in records:
        if not r["event"].startswith("snapshot.") or "job" not in r["details"]:
            continue
        d = r["details"]
        if d["result"] == "started":
            if open_job:
                return False
            open_job = d["job"]
        elif d["job"] == open_job:
            open_job = None
    return True


def main():
    t = celllib.Checks()
    cell = celllib.Cell("it-live", disk={"mode": "persistent"},
                        machine={"shutdown-timeout": "5s"},
                        snapshots={"keep": "2", "max-age": "30d"})
    eph = celllib.Cell("it-eph", machine={"shutdown-timeout": "2s"})
    try:
        step("start")
        cell.start()
        eph.start()
        ephemeral_refused(t, eph)
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)

        step("marker A")
        st, out = ser.run("d=$(mount-boot) && echo DISK-A > $d/m.txt && "
                          "sync && echo RAM-A > /tmp/a.txt && "
                          "cut -d. -f1 /proc/uptime", timeout=30)
        up_a = int(out.split()[-1]) if st == 0 else 0
        t.ok(st == 0, "guest wrote marker A", out)
        t.ok(ser.run(MEM_CMD, timeout=30)[1].strip() == "memdone",
             "guest holds the memory marker")

        step("create s1")
        r = cell.cmd("snapshot", cell.name, "create", "s1")
        t.ok(r.returncode == 0, "live create s1", r.stdout + r.stderr)
        st, out = ser.run("echo DISK-B > $d/m.txt && sync && "
                          "echo RAM-B > /tmp/b.txt && rm /tmp/a.txt && "
                          "echo bdone", timeout=30)
        t.ok("bdone" in out, "guest wrote marker B", out)

        step("revert s1")
        r = cell.cmd("snapshot", cell.name, "revert", "s1")
        t.ok(r.returncode == 0, "live revert s1", r.stdout + r.stderr)
        st, out = ser.run("cat /tmp/a.txt; ls /tmp/b.txt 2>&1; "
                          "cat $d/m.txt; cut -d. -f1 /proc/uptime",
                          timeout=30)
        lines = out.split()
        t.ok("RAM-A" in out and "RAM-B" not in out and
             "No such file" in out, "tmpfs is back at A (B gone)", out)
        t.ok("DISK-A" in out and "DISK-B" not in out,
             "disk is back at A", out)
        t.ok(lines and lines[-1].isdigit() and int(lines[-1]) >= up_a > 0,
             "no reboot: uptime continues from A", (up_a, out))
        ev = {(x["event"], x["details"].get("result"))
              for x in cell.audit() if x["event"].startswith("snapshot.")}
        t.ok({("snapshot.create", "ok"), ("snapshot.revert", "ok")} <= ev,
             "create and revert audited", ev)
        rec = [x["details"] for x in cell.audit()
               if x["event"] == "snapshot.create" and
               x["details"].get("result") == "ok"]
        t.ok(rec and rec[0]["vmstate"] is True and rec[0]["tag"] == "s1",
             "audit: tag and vmstate", rec)

        step("encryption")
        with open(os.path.join(cell.state, "memory.luks"), "rb") as f:
            mem = f.read()
        with open(os.path.join(cell.state, "disk.qcow2"), "rb") as f:
            disk = f.read()
        mark = MEM_MARK.encode()
        t.ok(mem.startswith(b"LUKS\xba\xbe") and len(mem) > 8 << 20,
             "memory state is in a LUKS container", len(mem))
        t.ok(mark not in mem and mark not in disk and b"RAM-A" not in mem,
             "memory marker not in clear in the overlay or memory image")

        step("busy and retention")
        first = subprocess.Popen([cell.walloff, "snapshot", cell.name,
                                  "create", "s2"], env=cell.env,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        celllib.wait_for(lambda: any(x["event"] == "snapshot.create" and
                                     x["details"].get("tag") == "s2"
                                     for x in cell.audit()), 30)
        r = cell.cmd("snapshot", cell.name, "create", "s3")
        _, err = first.communicate(timeout=150)
        t.ok(first.returncode == 0, "live create s2", err)
        t.ok(r.returncode in (0, 4), "concurrent create: done or busy",
             r.stderr)
        if r.returncode == 4:
            t.ok("not finished" in r.stderr, "busy message", r.stderr)
            r = cell.cmd("snapshot", cell.name, "create", "s3")
        t.ok(r.returncode == 0, "live create s3", r.stderr)
        t.ok(jobs_never_overlap(cell.audit()),
             "snapshot jobs never overlap (audit)")
        names = snaps(cell)
        t.ok([n for n, _ in names] == ["s2", "s3"] and
             all(sz != 0 for _, sz in names),
             "keep = 2: the two newest remain, with memory", names)
        pruned = [x["details"] for x in cell.audit()
                  if x["event"] == "snapshot.delete" and
                  x["details"].get("result") == "ok"]
        t.ok([d["tag"] for d in pruned] == ["s1"] and
             pruned[0].get("why") == "keep", "s1 pruned, audited", pruned)
        r = cell.cmd("snapshot", cell.name, "delete", "nope")
        t.ok(r.returncode == 1, "unknown snapshot: exit 1", r.stderr)
        # A failed job (QEMU stops the guest to load, then fails): audited,
        # and the guest runs on.
        r = cell.cmd("snapshot", cell.name, "revert", "nope")
        t.ok(r.returncode == 1, "revert to an unknown snapshot: exit 1",
             r.stderr)
        fails = [x["details"] for x in cell.audit()
                 if x["event"] == "snapshot.revert" and
                 x["details"].get("result") == "failed"]
        t.ok(fails and fails[-1]["tag"] == "nope" and fails[-1]["error"],
             "failed revert audited with QEMU's error", fails)
        st, out = ser.run("echo alive-after-failure", timeout=30)
        t.ok(st == 0 and "alive-after-failure" in out,
             "guest still runs after the failed job", out)

        step("stop")
        cell.cmd("stop", "--timeout", "60", cell.name, timeout=90)
        t.ok(cell.wait(90) == 0, "cell stopped cleanly", cell.output)
        r = cell.cmd("snapshot", cell.name, "list", "--json")
        t.ok(r.returncode == 0 and '"s3"' in r.stdout and
             '"vm_state_size": 0' not in r.stdout,
             "stopped: list shows the memory states", r.stdout + r.stderr)
    except Exception as ex:  # noqa: BLE001 - report, then the checks so far
        t.ok(False, "unexpected error", repr(ex) + "\n" + cell.diagnose())
    finally:
        eph.cleanup()
        cell.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
