#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""[limits] are enforced by a per-cell cgroup holding QEMU.

* With cpu-quota, memory-max and pids-max, the audit log names the cell's
  cgroup, the kernel files hold exactly the profile's limits, and QEMU's pid
  is inside the group of every controller while the guest runs; the group
  is removed when the cell stops.
* Where no cgroup can be written (a fake, empty cgroup root), on-unavailable
  = refuse stops before QEMU starts, and = degrade runs the cell with a
  loud audit record.
Output is TAP.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402
import guestlib  # noqa: E402


def read(path):
    with open(path) as f:
        return f.read().strip()


def enforced(t):
    cell = celllib.Cell("it-lim", limits={"cpu-quota": "50%",
                                          "memory-max": "320M",
                                          "pids-max": "64"})
    try:
        cell.start()
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)
        rec = cell.first("limits")
        t.ok(rec is not None, "audit: limits applied", cell.events())
        qemu = cell.first("qemu-started")["details"]["pid"]
        with open(f"/proc/{qemu}/cgroup") as f:
            groups = f.read()
        # paths: the cpu, memory and pids groups (one and the same on v2)
        cpu, mem, pids = rec["details"]["paths"]
        if rec["details"]["cgroup"] == 1:
            t.ok(read(f"{mem}/memory.limit_in_bytes") == str(320 << 20),
                 "memory limit is memory-max")
            t.ok(read(f"{cpu}/cpu.cfs_quota_us") == "50000" and
                 read(f"{cpu}/cpu.cfs_period_us") == "100000",
                 "cpu quota is 50% of one CPU")
            t.ok(read(f"{pids}/pids.max") == "64", "pids.max is pids-max")
            for ctrl in ("cpu", "memory", "pids"):
                mine = [l.split(":", 2)[2] for l in groups.splitlines()
                        if ctrl in l.split(":", 2)[1].split(",")]
                t.ok(mine and mine[0].endswith("/walloff-it-lim"),
                     f"QEMU runs inside the cell's {ctrl} group", groups)
            gone = [mem, cpu, pids]
        else:
            path = mem
            t.ok(read(f"{path}/memory.max") == str(320 << 20), "memory.max")
            t.ok(read(f"{path}/cpu.max") == "50000 100000", "cpu.max")
            t.ok(read(f"{path}/pids.max") == "64", "pids.max")
            t.ok("walloff-it-lim" in groups, "QEMU runs inside the cell's group",
                 groups)
            gone = [path]
        # From the guest's side the cell still works under its limits.
        st, out = ser.run("echo $((1+1))")
        t.ok(out.strip() == "2", "guest runs under the limits", out)
        r = cell.cmd("stop", "it-lim", timeout=90)
        t.ok(cell.wait(60) == 0, "cell stops cleanly", cell.output)
        t.ok(not any(os.path.exists(g) for g in gone),
             "the cell's cgroups are removed after stop", gone)
    finally:
        cell.cleanup()


def unavailable(t):
    for mode in ("refuse", "degrade"):
        cell = celllib.Cell("it-nolim", limits={"pids-max": "64",
                                                "on-unavailable": mode})
        try:
            fake = os.path.join(cell.tmp, "no-cgroups")
            os.mkdir(fake)
            cell.env["WALLOFF_CGROUP_ROOT"] = fake
            if mode == "refuse":
                r = cell.cmd("run", cell.profile, timeout=60)
                t.ok(r.returncode == 1 and "cannot be enforced" in r.stderr,
                     "no cgroups + refuse: clear error, exit 1", r.stderr)
                ev = cell.events()
                t.ok("limits-refused" in ev and "qemu-started" not in ev,
                     "no cgroups + refuse: audited, QEMU never started", ev)
            else:
                cell.start()
                ser = cell.serial(timeout=60)
                ser.wait_for(guestlib.READY, 90)
                ev = cell.events()
                t.ok("limits-unavailable" in ev and "running" in ev,
                     "no cgroups + degrade: runs, and the audit says so", ev)
                cell.cmd("stop", "it-nolim", timeout=90)
                cell.wait(60)
        finally:
            cell.cleanup()


def main():
    t = celllib.Checks()
    for f in (enforced, unavailable):
        try:
            f(t)
        except Exception as e:
            t.ok(False, f"{f.__name__}: unexpected error", repr(e))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
