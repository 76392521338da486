#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Dormancy through `walloff run`, with the clock faked in the state file.

1. A first start records STATE/dormancy.json (last run, base and profile
   sha256).
2. last_run is moved 100 days back: with on-stale = refuse the start is
   refused (exit 10, the reason on stderr, a "stale" audit record) and
   dormancy.json is byte-for-byte unchanged; QEMU never starts.
3. A changed profile is refused the same way ("profile changed").
4. A review record (STATE/review.json, as `walloff review --ack` writes it)
   for the current profile lifts it: the cell starts.
5. on-stale = quarantine: the stale cell starts, QUARANTINED on stderr,
   "stale" {action: quarantine} audited, and the finding is kept in
   dormancy.json for the next start.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402



def run_briefly(t, cell, what):
    """Start, wait until the dormancy record is written, stop."""
    path = os.path.join(cell.state, "dormancy.json")
    before = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
    cell.start()
    ok = celllib.wait_for(lambda: os.path.exists(path) and
                          os.stat(path).st_mtime_ns != before, 90)
    cell.cmd("stop", "--timeout", "90", cell.name, timeout=120)
    rc = cell.wait(120)
    t.ok(ok, f"{what}: started and recorded", cell.output if not ok else "")
    return rc


def state(cell):
    with open(os.path.join(cell.state, "dormancy.json")) as f:
        return json.load(f)


def write_state(cell, d):
    with open(os.path.join(cell.state, "dormancy.json"), "w") as f:
        json.dump(d, f)


def refused(t, cell, what, want):
    path = os.path.join(cell.state, "dormancy.json")
    before = open(path, "rb").read()
    n = len(cell.audit())
    cell.start()
    rc = cell.wait(60)
    new = cell.audit()[n:]
    stale = [r for r in new if r["event"] == "stale"]
    t.ok(rc == 10 and want in cell.output and "refuse" in cell.output,
         f"{what}: refused with exit 10 and the reason", cell.output)
    t.ok(stale and stale[0]["details"]["action"] == "refuse" and
         want in stale[0]["details"]["reason"], f"{what}: audited", new)
    t.ok("qemu-started" not in [r["event"] for r in new],
         f"{what}: QEMU never started")
    t.ok(open(path, "rb").read() == before,
         f"{what}: state file not modified")


def main():
    t = celllib.Checks()
    # The guest's boot is not waited for: a short shutdown-timeout keeps
    # each start brief.
    cell = celllib.Cell("it-dorm", dormancy={"max-idle": "90d",
                                             "on-stale": "refuse"},
                        machine={"shutdown-timeout": "5s"})
    try:
        run_briefly(t, cell, "first start")
        st = state(cell)
        t.ok(st["base_sha256"] == celllib.sha256(cell.img) and
             st["profile_sha256"] == celllib.sha256(cell.profile) and
             abs(st["last_run"] - time.time()) < 300,
             "dormancy.json records last run, base and profile", st)

        st["last_run"] -= 100 * 86400
        write_state(cell, st)
        refused(t, cell, "idle 100 days", "idle for 100 days")

        st["last_run"] = int(time.time())
        write_state(cell, st)
        cell.sections["cell"]["description"] = "edited after the review"
        cell.write_profile()
        refused(t, cell, "changed profile", "profile changed")

        # `walloff review --ack` writes this; the test writes it itself.
        with open(os.path.join(cell.state, "review.json"), "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                             time.gmtime()),
                       "reviewer": "tests",
                       "profile_sha256": celllib.sha256(cell.profile)}, f)
        n = len(cell.audit())
        run_briefly(t, cell, "after the review")
        new = [r["event"] for r in cell.audit()[n:]]
        t.ok("stale" not in new and "running" in new,
             "a review lifts it", new)

        cell.sections["dormancy"]["on-stale"] = "quarantine"
        cell.write_profile()        # changed since the review: stale
        n = len(cell.audit())
        run_briefly(t, cell, "quarantined start")
        new = cell.audit()[n:]
        stale = [r for r in new if r["event"] == "stale"]
        t.ok("QUARANTINED" in cell.output and stale and
             stale[0]["details"]["action"] == "quarantine",
             "quarantine: started, said so, audited", cell.output)
        t.ok("profile changed" in state(cell).get("stale", {}).get(
             "reason", ""), "the finding is kept for the next start",
             state(cell))
    finally:
        cell.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
