#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""End to end: `walloff run` boots the test guest in a verified cell.

Boots the guest through walloff under TCG, waits for its READY marker on
the serial socket, runs commands in the guest shell (including a look at
the PCI bus from inside: only the profile's devices exist), checks that a
second supervisor for the same cell is refused, stops the cell with
`walloff stop` and asserts the guest powered off by itself (ACPI), that
every lifecycle event is in the audit log, and that nothing is left
behind: no sockets, no overlay, no status. Output is TAP.
"""
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402
import guestlib  # noqa: E402


def main():
    t = celllib.Checks()
    cell = celllib.Cell("it-run")
    try:
        cell.start()
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)
        t.ok(True, "guest reached READY under walloff run")

        status, out = ser.run("echo $((6*7))")
        t.ok(status == 0 and out.strip() == "42", "guest shell runs commands", out)

        # From inside: the PCI functions the guest can see.
        status, out = ser.run(
            "for d in /sys/bus/pci/devices/*; do "
            "echo $(cat $d/vendor):$(cat $d/device); done | sort | tr '\\n' ' '")
        want = sorted(["0x8086:0x1237", "0x8086:0x7000", "0x8086:0x7010",
                       "0x8086:0x7113", "0x1234:0x1111"])
        t.ok(out.split() == want, "guest sees exactly the profile's PCI devices",
             f"got {out!r}, want {want}")
        status, out = ser.run("ls /sys/class/net | grep -v '^lo$' | wc -l")
        t.ok(out.strip() == "0", "network mode none: the guest has no NIC", out)

        v = cell.first("verify")
        t.ok(v and v["details"]["ok"] is True and v["details"]["problems"] == [],
             "audit: device model verified over QMP before the guest ran", v)
        ev = cell.events()
        t.ok(ev.index("verify") < ev.index("running"),
             "audit: verification precedes cont", ev)
        acc = cell.first("accel")
        t.ok(acc and acc["details"]["chosen"] == "tcg" and
             acc["details"]["requested"] == "auto",
             "audit: accel=auto fell back to tcg with a reason", acc)

        st = cell.cmd("status")
        t.ok("it-run" in st.stdout and "running" in st.stdout,
             "walloff status lists the running cell", st.stdout)

        again = cell.cmd("run", cell.profile, timeout=30)
        t.ok(again.returncode == 1 and "already running" in again.stderr,
             "a second supervisor for the same cell is refused",
             again.stdout + again.stderr)

        # `walloff serial`: the same shell through the CLI (one client at a
        # time on the serial socket, so ours steps aside).
        ser.close()
        p = subprocess.Popen([cell.walloff, "serial", "it-run"], env=cell.env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        p.stdin.write(b"echo SERIAL-$((3+4))\n")
        p.stdin.flush()
        got = b""
        deadline = time.monotonic() + 20
        while b"SERIAL-7" not in got and time.monotonic() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 1)
            if r:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    break
                got += chunk
        p.kill()
        p.wait()
        t.ok(b"SERIAL-7" in got, "walloff serial attaches to the guest's shell",
             got[-300:])
        ser = cell.serial(timeout=30)

        stop = cell.cmd("stop", "it-run", timeout=90)
        t.ok(stop.returncode == 0, "walloff stop returns 0", stop.stderr)
        rc = cell.wait(60)
        t.ok(rc == 0, "walloff run exits 0 after a clean power-off", cell.output)
        try:
            ser.wait_for(guestlib.POWEROFF, 10)  # already buffered if it came
            powered = True
        except guestlib.GuestError:
            powered = False
        t.ok(powered, "the guest saw the ACPI power button and powered off itself",
             ser.text()[-500:])
        ev = cell.events()
        for e in ("start", "image-verified", "accel", "overlay",
                  "qemu-started", "verify", "running", "stop-requested",
                  "qmp-event", "qemu-exited", "stopped"):
            t.ok(e in ev, f"audit has '{e}'", ev)
        ex = cell.first("qemu-exited")
        t.ok(ex and ex["details"]["reason"] == "guest-poweroff",
             "audit: QEMU exited because the guest powered off", ex)
        shut = [r for r in cell.audit() if r["event"] == "qmp-event"
                and r["details"]["event"] == "SHUTDOWN"]
        t.ok(shut and shut[0]["details"]["data"]["reason"] == "guest-shutdown",
             "audit: SHUTDOWN event says guest-shutdown", shut)
        left = sorted(os.listdir(cell.run_dir)) + sorted(
            os.listdir(os.path.join(cell.run_dir, "s")))
        t.ok(left == ["lock", "s"], "run folder is clean after stop", left)
        left = sorted(os.listdir(cell.state))
        t.ok(left == ["audit.jsonl", "qemu.log"],
             "ephemeral overlay is gone after stop", left)
    except Exception as e:  # a failure to boot is a failed test, not a crash
        t.ok(False, "unexpected error", f"{e!r}\n{getattr(cell, 'output', '')}")
    finally:
        cell.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
