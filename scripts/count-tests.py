#!/usr/bin/env python3
"""Count every test case honestly from meson's testlog.json files.

    count-tests.py testlog.json... [--tap FILE...]

A meson test with the TAP protocol (all cmocka binaries, which run with
CMOCKA_MESSAGE_OUTPUT=TAP) counts one per "ok"/"not ok" line; any other test
counts one. A TAP test that failed without reporting a failing case (crash,
timeout, sanitizer abort after the plan) adds one failure, so a crash is never
hidden behind its passing cases. Each --tap FILE is the TAP output of a
suite run outside meson (scripts/fuzz.sh, scripts/deb-test.sh): every "ok"/"not ok" line
counts, a SKIP is a failure, and a missing or unmet "1..N" plan adds one
failure. Prints "N passed, N failed" last and exits non-zero when anything
failed or nothing ran.
"""
import json
import os
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b(.*)$")


def tap_cases(lines, label):
    """The "ok"/"not ok" lines of TAP output: (passed, failed, failures).
    A SKIP is a failure: nothing here may be skipped."""
    passed = failed = 0
    failures = []
    for l in lines:
        m = TAP.match(l.strip())
        if not m:
            continue
        if "# SKIP" in m.group(2):
            failed += 1
            failures.append(f"{label}: skipped: {m.group(2)}")
        elif m.group(1) == "ok":
            passed += 1
        else:
            failed += 1
            failures.append(f"{label}:{m.group(2)}")
    return passed, failed, failures


def count(path):
    passed = failed = 0
    failures = []
    try:
        f = open(path)
    except OSError as e:
        return 0, 1, [f"{path}: {e.strerror} (the run did not happen)"]
    with f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            name = t.get("name", "?")
            result = t.get("result", "ERROR")
            out = t.get("stdout") or ""
            p = f_ = 0
            # testlog.json does not record the protocol: a TAP plan line
            # ("1..N") in the output marks a TAP test.
            if re.search(r"^1\.\.\d+", out, re.M):
                p, f_, fails = tap_cases(out.splitlines(), name)
                failures += fails
                if result not in ("OK", "EXPECTEDFAIL") and f_ == 0:
                    f_ += 1
                    failures.append(f"{name}: {result}")
                if p + f_ == 0:
                    f_ += 1
                    failures.append(f"{name}: no test case ran")
            else:
                if result in ("OK", "EXPECTEDFAIL"):
                    p += 1
                else:
                    f_ += 1
                    failures.append(f"{name}: {result}")
            passed += p
            failed += f_
    return passed, failed, failures


def count_tap(path):
    """A plain TAP file: (passed, failed, failures)."""
    plan = None
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as e:
        return 0, 1, [f"{path}: {e.strerror}"]
    for l in lines:
        m = re.match(r"^1\.\.(\d+)", l.strip())
        if m:
            plan = int(m.group(1))
            break
    passed, failed, failures = tap_cases(lines, os.path.basename(path))
    if plan is None or plan != passed + failed:
        failures.append(f"plan {plan}, {passed + failed} results "
                        "(the run stopped early?)")
        failed += 1
    return passed, failed, failures


def main():
    passed = failed = 0
    logs, taps = [], []
    dest = logs
    for a in sys.argv[1:]:
        if a == "--tap":
            dest = taps
        else:
            dest.append(a)
    for path, counter in [(p, count) for p in logs] + \
            [(p, count_tap) for p in taps]:
        p, f, fails = counter(path)
        print(f"{path}: {p} passed, {f} failed")
        for x in fails:
            print(f"  FAILED {x}")
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
