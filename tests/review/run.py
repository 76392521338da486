#!/usr/bin/env python3
"""Golden tests for `walloff review`: profile -> report, in three formats.

The profiles in tests/review/profiles/ are copied to a temporary folder
(git cannot keep file modes or is awkward with symlinks, and the keys-file
checks depend on both), the modes are set, and each case runs
`WALLOFF review ARGS` from that folder with WALLOFF_NOW fixed so that the
dates are stable. The exit code, stdout and stderr are compared with
tests/review/expected/NAME.out. Further cases assert things a golden file
cannot show: every control reaches each state it can have, the JSON totals
add up, and --ack writes review.json and an audit record. Output is TAP.

  run.py WALLOFF SRCDIR            compare
  run.py WALLOFF SRCDIR --update   rewrite the expected files
"""
import difflib
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

NOW = "2026-11-23"
MODES = {"world-readable": 0o644, "group-readable": 0o640,
         "group-writable": 0o620}
# States each control can reach (the rest are impossible by construction).
STATES = {
    "devices": {"PASS", "FAIL"},
    "egress": {"PASS", "WARN", "FAIL"},
    "domain-ports": {"PASS", "FAIL"},
    "host-loopback": {"PASS", "WARN", "FAIL"},
    "dns": {"PASS"},
    "console": {"PASS", "WARN", "FAIL"},
    "clipboard": {"PASS", "WARN"},
    "image-pinned": {"PASS", "FAIL"},
    "disk-encrypted": {"PASS"},
    "snapshots": {"PASS", "WARN"},
    "limits": {"PASS", "WARN"},
    "dormancy": {"PASS", "WARN"},
    "owner": {"PASS", "WARN"},
    "review-date": {"PASS", "WARN", "FAIL"},
}


def setup(src):
    tmp = tempfile.mkdtemp(prefix="walloff-review-")
    shutil.copytree(os.path.join(src, "tests/review/profiles"),
                    os.path.join(tmp, "profiles"), symlinks=True)
    keys = os.path.join(tmp, "profiles/keys")
    for name in os.listdir(keys):
        os.chmod(os.path.join(keys, name), MODES.get(name, 0o600))
    os.symlink("good", os.path.join(keys, "symlink"))
    return tmp


def run(walloff, tmp, args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(WALLOFF_NOW=NOW, LC_ALL="C",
               WALLOFF_STATE_DIR=os.path.join(tmp, "state"))
    env.update(env_extra or {})
    p = subprocess.run([walloff, "review"] + args, cwd=tmp, env=env,
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def golden_cases(src):
    cases = []
    for prof in sorted(glob.glob(os.path.join(src, "tests/review/profiles/*.cell"))):
        base = os.path.basename(prof)
        cases.append(("text-" + base[:-5], ["profiles/" + base]))
    cases += [
        ("folder-summary", ["profiles"]),
        ("folder-json", ["--json", "profiles/"]),
        ("folder-markdown", ["--markdown", "profiles"]),
        ("pass-all-json", ["--json", "profiles/pass-all.cell"]),
        ("pass-all-verbose", ["-v", "profiles/pass-all.cell"]),
        ("warn-all-strict", ["--strict", "profiles/warn-all.cell"]),
        ("warn-all-markdown", ["--markdown", "profiles/warn-all.cell"]),
        ("two-files-full", ["profiles/review-180.cell",
                            "profiles/review-181.cell"]),
        ("two-files-summary", ["--summary", "profiles/pass-all.cell",
                               "profiles/fail-all.cell"]),
    ]
    return cases


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, name, detail=()):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}")
        if not ok:
            self.failed += 1
            for l in detail:
                print("# " + l)


def check_json(walloff, tmp, tap):
    rc, out, _ = run(walloff, tmp, ["--json", "profiles"])
    doc = json.loads(out)
    tap.check(doc["schema"] == "walloff-review" and
              doc["schema_version"] == 1 and doc["date"] == NOW and
              doc["exit"] == rc == 3, "json: header and exit code")
    seen = {}
    counts = {"PASS": 0, "WARN": 0, "FAIL": 0, "INVALID": 0}
    res = {"pass": 0, "warn": 0, "fail": 0}
    problems = []
    for prof in doc["profiles"]:
        counts[prof["status"]] += 1
        if not prof["valid"]:
            continue
        worst = "PASS"
        for r in prof["results"]:
            seen.setdefault(r["id"], set()).add(r["status"])
            res[r["status"].lower()] += 1
            if ["PASS", "WARN", "FAIL"].index(r["status"]) > \
               ["PASS", "WARN", "FAIL"].index(worst):
                worst = r["status"]
            if not r["evidence"]:
                problems.append(f"{prof['path']}: {r['id']} has no evidence")
            for ev in r["evidence"]:
                if ev["where"] == "profile" and not (ev["line"] and ev["file"]):
                    problems.append(f"{prof['path']}: {r['id']}: bad evidence")
        if worst != prof["status"]:
            problems.append(f"{prof['path']}: status {prof['status']} "
                            f"but worst result {worst}")
        if len(prof["results"]) != len(STATES):
            problems.append(f"{prof['path']}: {len(prof['results'])} results")
    t = doc["totals"]
    tap.check(t["profiles"] == len(doc["profiles"]) and
              t["pass"] == counts["PASS"] and t["warn"] == counts["WARN"] and
              t["fail"] == counts["FAIL"] and
              t["invalid"] == counts["INVALID"] and t["results"] == res,
              "json: totals add up", [json.dumps(t), json.dumps(counts)])
    tap.check(not problems, "json: per-profile status and evidence", problems)
    missing = [f"{cid}: never {s}" for cid, states in STATES.items()
               for s in sorted(states - seen.get(cid, set()))]
    extra = [f"{cid}: reached {s}" for cid, states in seen.items()
             for s in sorted(states - STATES.get(cid, set()))]
    tap.check(not missing and not extra,
              "every control reaches each of its states", missing + extra)


def check_ack(walloff, tmp, tap):
    prof = os.path.join(tmp, "profiles/fail-all.cell")
    rc, out, err = run(walloff, tmp, ["--ack", "profiles/fail-all.cell",
                                      "--reviewer", "auditor@example.org"])
    state = os.path.join(tmp, "state/fail-all")
    try:
        with open(os.path.join(state, "review.json")) as f:
            ack = json.load(f)
        mode = os.stat(os.path.join(state, "review.json")).st_mode & 0o777
        with open(os.path.join(state, "audit.jsonl")) as f:
            audit = [json.loads(l) for l in f]
    except (OSError, ValueError) as e:
        tap.check(False, "ack: review.json and audit record", [str(e), out, err])
        return
    with open(prof, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    tap.check(rc == 0 and ack["date"] == NOW and
              ack["reviewer"] == "auditor@example.org" and
              ack["cell"] == "fail-all" and ack["profile_sha256"] == sha and
              ack["status"] == "FAIL" and "egress" in ack["fail"] and
              mode == 0o600, "ack: review.json", [json.dumps(ack), out, err])
    tap.check(len(audit) == 1 and audit[0]["event"] == "review-ack" and
              audit[0]["cell"] == "fail-all" and
              audit[0]["details"]["profile_sha256"] == sha,
              "ack: audit record", [json.dumps(audit)])
    rc, _, err = run(walloff, tmp, ["--ack", "profiles/invalid.cell"])
    tap.check(rc == 3 and "invalid.cell:5:" in err,
              "ack: invalid profile exits 3 with file:line", [str(rc), err])
    rc, _, err = run(walloff, tmp, ["--ack", "profiles/pass-all.cell",
                                    "--reviewer", "two words"])
    tap.check(rc == 4 and not os.path.exists(os.path.join(tmp, "state/pass-all")),
              "ack: a reviewer name with a space is refused", [str(rc), err])


def check_usage(walloff, tmp, tap):
    rc, _, err = run(walloff, tmp, [])
    tap.check(rc == 4 and "usage:" in err, "no PATH: usage, exit 4")
    rc, out, _ = run(walloff, tmp, ["--help"])
    tap.check(rc == 0 and "--accept-risk" not in out and "--json" in out,
              "--help exits 0")
    rc, _, err = run(walloff, tmp, ["profiles/pass-all.cell"],
                     {"WALLOFF_NOW": "2026-13-01"})
    tap.check(rc == 4 and "WALLOFF_NOW" in err, "bad WALLOFF_NOW: exit 4",
              [str(rc), err])
    rc, out, _ = run(walloff, tmp, ["profiles/pass-all.cell"],
                     {"WALLOFF_NOW": "2027-06-01"})
    tap.check(rc == 0 and "WARN  review-date" in out and "\033[" not in out,
              "the clock moves: an old review WARNs; no colour off a tty")


def check_terminal(walloff, tmp, tap):
    import pty
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(WALLOFF_NOW=NOW, LC_ALL="C")
    outs = []
    for extra in ({}, {"NO_COLOR": "1"}):
        p = subprocess.run([walloff, "review", "profiles/fail-all.cell"],
                           cwd=tmp, env=dict(env, **extra), stdout=slave,
                           stderr=subprocess.DEVNULL, timeout=30)
        chunks = b""
        while True:
            try:
                os.set_blocking(master, False)
                c = os.read(master, 65536)
            except (BlockingIOError, OSError):
                break
            if not c:
                break
            chunks += c
        outs.append((p.returncode, chunks.decode(errors="replace")))
    os.close(master)
    os.close(slave)
    tap.check(outs[0][0] == 2 and "\033[1;31mFAIL\033[0m" in outs[0][1] and
              "\033[32mPASS\033[0m" in outs[0][1],
              "colour on a terminal", [repr(outs[0][1][:200])])
    tap.check(outs[1][0] == 2 and "\033[" not in outs[1][1] and
              "FAIL" in outs[1][1], "NO_COLOR: no colour on a terminal")
    # A profile whose file name carries an escape sequence.
    d = os.path.join(tmp, "evil")
    os.mkdir(d)
    shutil.copy(os.path.join(tmp, "profiles/minimal.cell"),
                os.path.join(d, "x\033[2J\x07.cell"))
    rc, out, err = run(walloff, tmp, ["evil"])
    tap.check(rc == 0 and "\033" not in out + err and "\x07" not in out and
              "evil/x?[2J?.cell" in out, "control characters in paths are "
              "printed as '?'", [repr(out)])


def main():
    walloff, src = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
    update = "--update" in sys.argv
    tmp = setup(src)
    tap = Tap()
    try:
        cases = golden_cases(src)
        print(f"1..{len(cases) + 15}")
        for name, args in cases:
            rc, out, err = run(walloff, tmp, args)
            got = f"exit {rc}\n{out}"
            if err:
                got += f"--- stderr\n{err}"
            path = os.path.join(src, "tests/review/expected", name + ".out")
            if update:
                with open(path, "w") as f:
                    f.write(got)
            try:
                with open(path) as f:
                    exp = f.read()
            except FileNotFoundError:
                exp = ""
            tap.check(got == exp, name, list(difflib.unified_diff(
                exp.splitlines(), got.splitlines(), "expected", "actual",
                lineterm="")))
        check_json(walloff, tmp, tap)
        check_ack(walloff, tmp, tap)
        check_usage(walloff, tmp, tap)
        check_terminal(walloff, tmp, tap)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
