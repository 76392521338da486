#!/usr/bin/env python3
"""Golden tests: profile -> exact QEMU argv (`walloff run --dry-run`).

Every profile in profiles/ and tests/golden/profiles/ has its expected
command line in tests/golden/expected/NAME.argv. A change to the argv
builder shows up as a diff here. Output is TAP (one case per profile).

  run.py WALLOFF SRCDIR            compare
  run.py WALLOFF SRCDIR --update   rewrite the expected files
"""
import difflib
import glob
import os
import re
import subprocess
import sys


def normalise(out, src):
    out = out.replace(src, "@SRC@")
    # accel = auto depends on the host's KVM: keep the golden portable.
    if "# accel: " in out and "(auto: " in out:
        out = re.sub(r"^# accel: .*$", "# accel: @AUTO@", out, flags=re.M)
        out = re.sub(r"-accel (kvm|tcg)", "-accel @AUTO@", out)
    return out


def dry_run(walloff, profile, run_dir):
    env = dict(os.environ)
    env.update(WALLOFF_RUN_DIR=run_dir, WALLOFF_STATE_DIR="/var/lib/golden",
               WALLOFF_QEMU="/usr/bin/qemu-system-x86_64")
    p = subprocess.run([walloff, "run", "--dry-run", profile], env=env,
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def main():
    walloff, src = sys.argv[1], os.path.realpath(sys.argv[2])
    update = "--update" in sys.argv
    cases = []
    for pat in ("profiles/*.cell", "tests/golden/profiles/*.cell"):
        for prof in sorted(glob.glob(os.path.join(src, pat))):
            cases.append((os.path.basename(prof)[:-5], prof, "/run/golden"))
    # Commas in the run folder must be escaped, never parsed as options.
    cases.append(("rundir-injection",
                  os.path.join(src, "tests/golden/profiles/injection.cell"),
                  "/tmp/a,b=c,server=off"))
    print(f"1..{len(cases)}")
    failed = 0
    for i, (name, prof, run_dir) in enumerate(cases, 1):
        rc, out = dry_run(walloff, prof, run_dir)
        out = f"exit {rc}\n" + normalise(out, src)
        exp_path = os.path.join(src, "tests/golden/expected", name + ".argv")
        if update:
            with open(exp_path, "w") as f:
                f.write(out)
        try:
            with open(exp_path) as f:
                exp = f.read()
        except FileNotFoundError:
            exp = ""
        if out == exp:
            print(f"ok {i} - {name}")
        else:
            failed += 1
            print(f"not ok {i} - {name}")
            for l in difflib.unified_diff(exp.splitlines(), out.splitlines(),
                                          "expected", "actual", lineterm=""):
                print("# " + l)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
