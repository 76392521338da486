#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A quarantined cell tells its console users so (NOTICE, PROTOCOL.md).

Re-executes itself under `unshare -n` so the console's TCP port is ours
alone. The cell has a console and [dormancy] on-stale = quarantine; its
state file is faked 100 days idle (as in test_dormancy.py).
1. It starts quarantined: the audit log says stale {action: quarantine},
   and walloff-console got the notice (console-started, console-listen).
2. `walloff connect --screenshot` prints the NOTICE on stderr, with the
   reason, and still takes its screenshot.
3. Control: after a review record the cell starts unquarantined and the
   same connect prints no NOTICE.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import celllib  # noqa: E402

PORT = 5932



def started(cell, n):
    """The console-started record of the run whose audit begins at n."""
    return celllib.wait_for(lambda: [r for r in cell.audit()[n:]
                                     if r["event"] == "console-started"] or
                            cell.proc.poll() is not None, 60) or []


def connect(cell, home):
    shot = os.path.join(cell.tmp, "shot.png")
    return cell.cmd("connect", f"127.0.0.1:{PORT}", "--key",
                    f"{home}/alice.key", "--screenshot", shot, timeout=60)


def stop(cell):
    cell.cmd("stop", "--timeout", "60", cell.name, timeout=90)
    return cell.wait(90)


def main():
    celllib.enter_netns(__file__)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    t = celllib.Checks()
    cell = celllib.Cell("it-quar", console={
        "listen": f"127.0.0.1:{PORT}", "keys": "keys/authorized"},
        dormancy={"max-idle": "90d", "on-stale": "quarantine"},
        machine={"shutdown-timeout": "5s"})
    try:
        home = os.path.join(cell.tmp, "home")
        os.makedirs(home)
        cell.env.update(HOME=home, XDG_CONFIG_HOME=home + "/config")
        lines = [cell.cmd("keygen", name, "--out", f"{home}/{name}.key",
                          "--role", role).stdout
                 for name, role in (("alice", "operate"), ("root", "admin"))]
        os.makedirs(os.path.join(cell.tmp, "keys"))
        kf = os.path.join(cell.tmp, "keys", "authorized")
        with open(kf, "w") as f:
            f.write("".join(lines))
        os.chmod(kf, 0o600)

        # Slept 100 days since its last start (test_dormancy.py's trick).
        os.makedirs(cell.state, mode=0o700)
        with open(os.path.join(cell.state, "dormancy.json"), "w") as f:
            json.dump({"last_run": int(time.time()) - 100 * 86400,
                       "base_sha256": celllib.sha256(cell.img),
                       "profile_sha256": celllib.sha256(cell.profile)}, f)

        cell.start()
        cs = started(cell, 0)
        stale = cell.first("stale")
        t.ok(stale and stale["details"]["action"] == "quarantine" and
             "idle for 100 days" in stale["details"]["reason"],
             "audit: stale, action quarantine", stale)
        note = cs[0]["details"].get("notice", "") if cs else ""
        t.ok(note.startswith("QUARANTINED: cell it-quar is stale") and
             "walloff review --ack it-quar" in note,
             "the console was started with the quarantine notice", cs)
        li = celllib.wait_for(lambda: cell.first("console-listen"), 10)
        t.ok(li and li["details"].get("notice") == note,
             "walloff-console audited its notice", li)

        r = connect(cell, home)
        t.ok(r.returncode == 0 and "NOTICE from the cell: QUARANTINED: "
             "cell it-quar is stale (idle for 100 days" in r.stderr,
             "walloff connect prints the notice (and still works)",
             f"rc={r.returncode} {r.stderr}")
        rc = stop(cell)
        # 6: the guest may still be booting and miss the power button
        t.ok(rc in (0, 6), "quarantined cell stopped on request",
             cell.output)

        # Control: reviewed, so not quarantined: nothing to notice.
        with open(os.path.join(cell.state, "review.json"), "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                             time.gmtime(time.time() + 2)),
                       "reviewer": "tests",
                       "profile_sha256": celllib.sha256(cell.profile)}, f)
        n = len(cell.audit())
        cell.start()
        cs = started(cell, n)
        new = [x["event"] for x in cell.audit()[n:]]
        r = connect(cell, home)
        t.ok(cs and "stale" not in new and "notice" not in cs[0]["details"]
             and r.returncode == 0 and "NOTICE" not in r.stderr,
             "control: a reviewed cell has no notice",
             f"{new} rc={r.returncode} {r.stderr}")
        stop(cell)
    finally:
        cell.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
