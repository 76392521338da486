#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""systemd units: the template and `walloff unit PROFILE`.

Checks that `walloff unit --template` is exactly the tree's
systemd/walloff@.service.in (one source for the directives), that the
configured template runs the installed binary, and that
`systemd-analyze verify` accepts the template, an instance of it and a unit
generated for a profile without a single warning (systemd-analyze checks
that ExecStart's binary exists, so the units run the build's walloff). A
unit with a bad key must draw a warning, so the check can fail. Paths
systemd would interpret are refused. Output is TAP.

usage: test_unit.py WALLOFF TEMPLATE_IN CONFIGURED_TEMPLATE BINDIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

PROFILE = """[cell]
name = unit-test
owner = tests@example.org

[machine]
memory = 128M
shutdown-timeout = 45s

[disk]
image = guest.img
format = raw
"""


class Checks:
    def __init__(self):
        self.results = []

    def ok(self, cond, name, detail=""):
        self.results.append((bool(cond), name, detail))

    def done(self):
        print(f"1..{len(self.results)}")
        for i, (ok, name, detail) in enumerate(self.results, 1):
            print(f"{'ok' if ok else 'not ok'} {i} - {name}")
            if not ok:
                for l in str(detail).splitlines()[-30:]:
                    print("# " + l)
        return 0 if all(r[0] for r in self.results) else 1


def verify(*paths):
    """systemd-analyze verify; returns (rc, lines that mention our units)."""
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", *paths],
                       capture_output=True, text=True, timeout=60)
    out = (r.stdout + r.stderr).splitlines()
    return r.returncode, [l for l in out if "walloff" in l or "unit-test" in l]


def main():
    walloff, tmpl_in, configured, bindir = sys.argv[1:5]
    walloff = os.path.realpath(walloff)
    t = Checks()
    tmp = tempfile.mkdtemp(prefix="wo-unit-")
    try:
        r = subprocess.run([walloff, "unit", "--template"], capture_output=True,
                           text=True)
        with open(tmpl_in) as f:
            want = f.read()
        got = r.stdout.replace(walloff, "@BINDIR@/walloff")
        t.ok(r.returncode == 0 and got == want,
             "`walloff unit --template` is systemd/walloff@.service.in",
             r.stderr + got)
        with open(configured) as f:
            conf = f.read()
        t.ok(f"ExecStart={bindir}/walloff run /etc/walloff/cells/%i.cell\n"
             in conf and "@" + "BINDIR@" not in conf,
             "the configured template runs the installed walloff", conf)

        units = os.path.join(tmp, "units")
        os.mkdir(units)
        with open(os.path.join(units, "walloff@.service"), "w") as f:
            f.write(r.stdout)
        os.symlink("walloff@.service", os.path.join(units, "walloff@xp-1.service"))
        rc, warn = verify(os.path.join(units, "walloff@.service"),
                          os.path.join(units, "walloff@xp-1.service"))
        t.ok(rc == 0 and not warn,
             "systemd-analyze verify: template and instance, no warnings", warn)
        for key in ("Type=notify", "NotifyAccess=main", "KillMode=mixed",
                    "StateDirectory=walloff/%i", "RuntimeDirectory=walloff/%i",
                    "ProtectSystem=strict", "NoNewPrivileges=yes",
                    "DeviceAllow=/dev/net/tun rw", "Delegate=yes",
                    "TimeoutStopSec=90"):
            t.ok(f"\n{key}\n" in r.stdout, f"template sets {key}")

        cells = os.path.join(tmp, "cells")
        os.mkdir(cells)
        prof = os.path.join(cells, "unit-test.cell")
        with open(prof, "w") as f:
            f.write(PROFILE)
        g = subprocess.run([walloff, "unit", os.path.relpath(prof)],
                           capture_output=True, text=True)
        unit = os.path.join(units, "walloff-unit-test.service")
        with open(unit, "w") as f:
            f.write(g.stdout)
        t.ok(g.returncode == 0 and
             f"\nExecStart={walloff} run {os.path.realpath(prof)}\n" in g.stdout
             and f"\nAssertPathExists={os.path.realpath(prof)}\n" in g.stdout
             and "\nRuntimeDirectory=walloff/unit-test\n" in g.stdout
             and "\nStateDirectory=walloff/unit-test\n" in g.stdout
             and "\nDescription=walloff cell unit-test\n" in g.stdout,
             "`walloff unit PROFILE`: absolute profile path and cell name",
             g.stderr + g.stdout)
        t.ok("\nTimeoutStopSec=75\n" in g.stdout,
             "stop timeout = the profile's shutdown-timeout (45s) + 30s",
             g.stdout)
        rc, warn = verify(unit)
        t.ok(rc == 0 and not warn,
             "systemd-analyze verify: generated unit, no warnings", warn)

        # The check itself can fail: a bad key draws a warning.
        bad = os.path.join(units, "walloff-bad.service")
        with open(bad, "w") as f:
            f.write(g.stdout.replace("KillMode=mixed\n",
                                     "KillMode=mixed\nKillModus=all\n"))
        rc, warn = verify(bad)
        t.ok(any("KillModus" in l for l in warn),
             "a unit with an unknown key is reported", warn)

        for name in ("with space", "pct%i", "dollar$HOME"):
            d = os.path.join(tmp, name)
            os.mkdir(d)
            shutil.copy(prof, d)
            x = subprocess.run([walloff, "unit", os.path.join(d, "unit-test.cell")],
                               capture_output=True, text=True)
            t.ok(x.returncode == 3 and not x.stdout and "systemd" in x.stderr,
                 f"a profile path systemd would interpret is refused ({name!r})",
                 x.stderr + x.stdout)
        x = subprocess.run([walloff, "unit"], capture_output=True, text=True)
        t.ok(x.returncode == 2, "no profile: usage error", x.stderr)
        x = subprocess.run([walloff, "unit", os.path.join(tmp, "missing.cell")],
                           capture_output=True, text=True)
        t.ok(x.returncode != 0 and not x.stdout, "a missing profile: no unit",
             x.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
