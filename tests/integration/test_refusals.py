#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`walloff run` refuses before the guest runs, and never leaves QEMU alone.

* a base image that does not match its sha256 pin: exit 5, no QEMU started;
* a QEMU that builds a device the profile does not allow (a wrapper adds
  -device pci-testdev and a USB controller): exit 4, verification audited
  with the problems, `cont` never sent, QEMU gone;
* a feature that is parsed but not available yet: exit 3 with the reason;
* an invalid profile: exit 3 with file:line;
* kill -9 of the supervisor: QEMU dies with it (PR_SET_PDEATHSIG), and
  `walloff status` reports and cleans the stale run folder.
Output is TAP.
"""
import os
import signal
import sys
import select

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402
import guestlib  # noqa: E402


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def tampered(t):
    cell = celllib.Cell("it-pin", disk={"sha256": "0" * 64})
    try:
        r = cell.cmd("run", cell.profile)
        t.ok(r.returncode == 5, "tampered base: exit 5", r.stderr)
        t.ok("does not match its pin" in r.stderr, "tampered base: clear message",
             r.stderr)
        ev = cell.events()
        t.ok("image-refused" in ev and "qemu-started" not in ev,
             "tampered base: audited, QEMU never started", ev)
    finally:
        cell.cleanup()


def forbidden_device(t):
    cell = celllib.Cell("it-dev")
    try:
        wrapper = os.path.join(cell.tmp, "qemu-wrapper")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec %s \"$@\" -device pci-testdev "
                    "-device '{\"driver\":\"usb-ehci\",\"id\":\"sneaky\"}'\n"
                    % guestlib.qemu_binary())
        os.chmod(wrapper, 0o755)  # QEMU runs unprivileged when we are root
        cell.env["WALLOFF_QEMU"] = wrapper
        cell.start()
        rc = cell.wait(90)
        t.ok(rc == 4, "forbidden device: exit 4", cell.output)
        v = cell.first("verify")
        probs = " | ".join(v["details"]["problems"]) if v else ""
        t.ok(v and v["details"]["ok"] is False, "forbidden device: verify failed", v)
        t.ok("8086:24cd not allowed" in probs and "sneaky" in probs and
             "anonymous device child<pci-testdev>" in probs,
             "forbidden device: each extra device named", probs)
        ev = cell.events()
        t.ok("running" not in ev, "forbidden device: the guest never ran", ev)
        t.ok("qemu-override" in ev, "forbidden device: the QEMU override is audited", ev)
        qs = cell.first("qemu-started")
        t.ok(qs and not pid_alive(qs["details"]["pid"]),
             "forbidden device: QEMU is gone", qs)
    finally:
        cell.cleanup()


def unavailable(t):
    # The one setting that parses but is not implemented yet.
    cell = celllib.Cell("it-feat", network={"mode": "user",
                                            "on-failure": "restart"})
    try:
        r = cell.cmd("run", cell.profile)
        t.ok(r.returncode == 3 and "not available" in r.stderr,
             "unavailable feature: refused with exit 3", r.stderr)
    finally:
        cell.cleanup()


def invalid(t):
    cell = celllib.Cell("it-bad", machine={"cpus": "lots"})
    try:
        r = cell.cmd("run", cell.profile)
        t.ok(r.returncode == 3 and
             f"{cell.profile}:10: cpus: 'lots' is not a whole number" in r.stderr,
             "invalid profile: exit 3 with file:line", r.stderr)
        r = cell.cmd("check", cell.profile)
        t.ok(r.returncode == 3, "walloff check: exit 3", r.stderr)
    finally:
        cell.cleanup()


def review_gate(t):
    # A review date in the future FAILs the review-date control.
    cell = celllib.Cell("it-risk", cell={"reviewed": "2999-01-01"})
    try:
        r = cell.cmd("run", cell.profile)
        t.ok(r.returncode == 8 and "review-date" in r.stderr and
             "--accept-risk" in r.stderr,
             "review FAIL: refused with exit 8, naming the control", r.stderr)
        t.ok(cell.events() == [], "review FAIL: nothing started", cell.events())
        cell.start("--accept-risk", "vendor patch pending, ticket 42")
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)
        rec = cell.first("accept-risk")
        t.ok(rec and rec["details"]["reason"] == "vendor patch pending, ticket 42"
             and rec["details"]["controls"] == "review-date",
             "--accept-risk: runs, reason and failing controls audited", rec)
        cell.cmd("stop", "it-risk", timeout=90)
        t.ok(cell.wait(60) == 0, "--accept-risk: cell stops cleanly", cell.output)
    finally:
        cell.cleanup()


def supervisor_killed(t):
    cell = celllib.Cell("it-kill")
    try:
        cell.start()
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)
        qemu = cell.first("qemu-started")["details"]["pid"]
        pidfd = os.pidfd_open(qemu)
        os.kill(cell.proc.pid, signal.SIGKILL)
        cell.proc.wait()
        # QEMU is not our child: its pidfd becomes readable when it exits.
        gone, _, _ = select.select([pidfd], [], [], 10)
        os.close(pidfd)
        t.ok(gone, "supervisor killed: QEMU died with it")
        st = cell.cmd("status")
        t.ok("stale (cleaned)" in st.stdout, "walloff status cleans the stale cell",
             st.stdout)
        left = sorted(os.listdir(cell.run_dir)) + sorted(
            os.listdir(os.path.join(cell.run_dir, "s")))
        t.ok(left == ["lock", "s"], "stale sockets removed", left)
        t.ok(not os.path.exists(os.path.join(cell.state, "ephemeral.qcow2")),
             "the unlinked ephemeral overlay did not survive the crash")
    finally:
        cell.cleanup()


def main():
    t = celllib.Checks()
    for f in (tampered, forbidden_device, unavailable, invalid, review_gate,
              supervisor_killed):
        try:
            f(t)
        except Exception as e:
            t.ok(False, f"{f.__name__}: unexpected error", repr(e))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
