#!/usr/bin/env python3
"""Count every test case honestly from meson's testlog.json files.

A meson test with the TAP protocol (all cmocka binaries, which run with
CMOCKA_MESSAGE_OUTPUT=TAP) counts one per "ok"/"not ok" line; any other test
counts one. A TAP test that failed without reporting a failing case (crash,
timeout, sanitizer abort after the plan) adds one failure, so a crash is never
hidden behind its passing cases. Prints "N passed, N failed" last and exits
non-zero when anything failed or nothing ran.

An argument ending in ".tap" is a TAP stream saved by a script that runs
outside meson (scripts/deb-test.sh): each "ok"/"not ok" line counts, and a
missing plan or a plan that does not match the lines seen adds a failure
(the script died half way).
"""
import json
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b(.*)$")


def count(path):
    passed = failed = 0
    failures = []
    with open(path) as f:
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
                for l in out.splitlines():
                    m = TAP.match(l.strip())
                    if not m:
                        continue
                    if "# SKIP" in m.group(2):
                        f_ += 1
                        failures.append(f"{name}: skipped: {m.group(2)}")
                    elif m.group(1) == "ok":
                        p += 1
                    else:
                        f_ += 1
                        failures.append(f"{name}:{m.group(2)}")
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
    passed = failed = 0
    failures = []
    plan = None
    seen = 0
    try:
        f = open(path)
    except OSError as ex:
        return 0, 1, [f"{path}: {ex.strerror}"]
    with f:
        for line in f:
            line = line.strip()
            m = re.match(r"^1\.\.(\d+)", line)
            if m:
                plan = int(m.group(1))
                continue
            m = TAP.match(line)
            if not m:
                continue
            seen += 1
            if "# SKIP" in m.group(2):
                failed += 1
                failures.append(f"{path}: skipped: {m.group(2)}")
            elif m.group(1) == "ok":
                passed += 1
            else:
                failed += 1
                failures.append(f"{path}:{m.group(2)}")
    if plan is None or plan != seen or seen == 0:
        failed += 1
        failures.append(f"{path}: plan {plan}, {seen} results")
    return passed, failed, failures


def main():
    passed = failed = 0
    for path in sys.argv[1:]:
        p, f, fails = count_tap(path) if path.endswith(".tap") else count(path)
        print(f"{path}: {p} passed, {f} failed")
        for x in fails:
            print(f"  FAILED {x}")
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
