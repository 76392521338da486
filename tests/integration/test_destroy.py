#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`walloff destroy CELL`: crypto-erase.

A persistent cell's state (key, encrypted overlay, logs) is made by a real
start (QEMU up, the guest's boot not waited for), then:
  * destroy refuses while the cell runs (exit 1, state untouched);
  * without a terminal and without --yes it refuses (exit 2);
  * with --yes: the key is gone, the overlay is gone, everything else but
    the audit log is gone, the audit log records destroy-started and
    destroyed {key_erased: true}; the key's old bytes are not in the log;
  * the next start of the cell creates a new disk (a fresh key), since
    nothing of the old one is left;
  * destroy of an unknown cell: exit 1.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402



def wait_for_running(cell, n):
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if "running" in [r["event"] for r in cell.audit()[n:]]:
            return True
        time.sleep(0.1)
    return False


def main():
    t = celllib.Checks()
    cell = celllib.Cell("it-destroy", disk={"mode": "persistent"},
                        machine={"shutdown-timeout": "5s"})
    try:
        cell.start()
        running = wait_for_running(cell, 0)
        t.ok(running, "persistent cell started", cell.state)
        key = os.path.join(cell.state, "disk.key")
        with open(key, "rb") as f:
            old_key = f.read()
        r = cell.cmd("destroy", "--yes", cell.name)
        t.ok(r.returncode == 1 and "already running" in r.stderr and
             os.path.exists(key), "refused while the cell runs",
             r.stdout + r.stderr)
        cell.cmd("stop", "--timeout", "60", cell.name, timeout=90)
        cell.wait(90)

        r = cell.cmd("destroy", cell.name, stdin=open(os.devnull))
        t.ok(r.returncode == 2 and "--yes" in r.stderr and
             os.path.exists(key), "no terminal, no --yes: refused",
             r.stdout + r.stderr)

        r = cell.cmd("destroy", "--yes", cell.name)
        t.ok(r.returncode == 0 and "destroyed" in r.stdout,
             "destroy --yes succeeds", r.stdout + r.stderr)
        left = sorted(os.listdir(cell.state))
        t.ok(left == ["audit.jsonl"], "only the audit log is left", left)
        ev = cell.events()
        d = cell.first("destroyed")
        t.ok("destroy-started" in ev and d and
             d["details"]["key_erased"] is True and
             d["details"]["disk_removed"] is True,
             "audit: destroy-started, destroyed with key_erased", d)
        log = open(os.path.join(cell.state, "audit.jsonl"), "rb").read()
        t.ok(old_key not in log, "the key never reached the audit log")

        n = len(cell.audit())
        cell.start()
        t.ok(celllib.wait_for(lambda: os.path.exists(key), 60),
             "the next start creates a new disk")
        # Stop only once it runs: a stop before that finds no supervisor.
        wait_for_running(cell, n)
        with open(key, "rb") as f:
            t.ok(f.read() != old_key, "with a fresh key")
        ov = [r for r in cell.audit() if r["event"] == "overlay"]
        t.ok(ov and ov[-1]["details"]["created"] is True,
             "audit: a new overlay was created", ov[-1:])
        cell.cmd("stop", "--timeout", "60", cell.name, timeout=90)
        cell.wait(90)

        r = cell.cmd("destroy", "--yes", "no-such-cell")
        t.ok(r.returncode == 1 and "no state" in r.stderr,
             "unknown cell: exit 1", r.stderr)
        r = cell.cmd("destroy", "--yes", "Bad/Name")
        t.ok(r.returncode == 2, "invalid name: exit 2", r.stderr)
    finally:
        cell.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
