#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bash completion for walloff (completion/walloff), TAP output.

  test_completion.py COMPLETION_FILE WALLOFF

Sources the file in `bash --norc`, sets COMP_WORDS/COMP_CWORD as bash
would, calls the completion function and compares COMPREPLY with what the
real walloff says: its commands (`walloff help`) and each command's flags
(`walloff CMD --help`). Cell names come from a real `walloff status` over
a private WALLOFF_RUN_DIR holding one running cell (its lock held by this
script, as a supervisor holds it) and one stale cell, plus a private
cells folder (_WALLOFF_CELLS_DIR) of profiles.
"""
import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

results = []


def check(ok, what, diag=""):
    results.append((bool(ok), what, diag))


# One bash for every case: source once, then per case set COMP_WORDS and
# COMP_CWORD as bash does, call the function, print COMPREPLY after a marker.
HEAD = r'''
source "$1" || exit 9
complete -p walloff >/dev/null || exit 8
run() {
	COMP_CWORD=$1
	shift
	COMP_WORDS=("$@")
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_walloff
	printf '%s\n' "${COMPREPLY[@]}"
	echo "@@end@@"
}
'''


class Env:
    def __init__(self, completion, walloff, tmp):
        self.completion, self.walloff, self.tmp = completion, walloff, tmp
        self.env = dict(os.environ,
                        WALLOFF_RUN_DIR=os.path.join(tmp, "run"),
                        WALLOFF_STATE_DIR=os.path.join(tmp, "state"),
                        _WALLOFF_CELLS_DIR=os.path.join(tmp, "cells"),
                        PATH=os.path.join(tmp, "bin") + ":" +
                        os.environ.get("PATH", "/usr/bin:/bin"))
        self.env.pop("BASH_ENV", None)
        # This test is about the bash side: under ASan skip the leak check
        # at each of walloff's many exits (docs-man runs the same --help
        # paths with it) - it costs half a second a process on a busy host.
        self.env["ASAN_OPTIONS"] = "detect_leaks=0"
        self.cases = []

    def complete(self, *words, first="walloff"):
        """Queue a case: completions for the last word of `first words...`;
        returns its index into run()'s result."""
        self.cases.append([first] + list(words))
        return len(self.cases) - 1

    def run(self):
        script = HEAD + "".join(
            "run %d %s\n" % (len(c) - 1, " ".join(shlex.quote(w) for w in c))
            for c in self.cases)
        p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script,
                            "bash", self.completion], capture_output=True,
                           text=True, env=self.env,
                           cwd=os.path.join(self.tmp, "work"), timeout=50)
        outs = p.stdout.split("@@end@@\n")
        if p.returncode or len(outs) != len(self.cases) + 1:
            err = {"<bash exit %d: %s>" % (p.returncode, p.stderr.strip())}
            return [err] * len(self.cases)
        return [set(filter(None, o.split("\n"))) for o in outs[:-1]]


def setup(tmp, walloff):
    for d in ("run", "state", "cells", "bin", "work/sub"):
        os.makedirs(os.path.join(tmp, d), mode=0o700)
    os.symlink(walloff, os.path.join(tmp, "bin", "walloff"))
    for f in ("cells/beta.cell", "cells/notes.txt", "work/a.cell",
              "work/b.txt", "work/sub/c.cell", "work/my app.cell"):
        open(os.path.join(tmp, f), "w").close()
    # alpha runs: its lock is held (by us) and status.json names the pids
    run = os.path.join(tmp, "run", "alpha")
    os.mkdir(run, 0o700)
    lock = open(os.path.join(run, "lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    with open(os.path.join(run, "status.json"), "w") as f:
        json.dump({"pid": os.getpid(), "qemu_pid": os.getpid(),
                   "started": int(time.time()), "state": "running"}, f)
    # gamma: a dead supervisor's leftovers (lock free): not a running cell
    run = os.path.join(tmp, "run", "gamma")
    os.mkdir(run, 0o700)
    open(os.path.join(run, "lock"), "w").close()
    with open(os.path.join(run, "status.json"), "w") as f:
        json.dump({"pid": 1, "state": "running"}, f)
    return lock


def main():
    completion, walloff = map(os.path.abspath, sys.argv[1:3])
    tmp = tempfile.mkdtemp(prefix="walloff-compl-")
    try:
        lock = setup(tmp, walloff)
        e = Env(completion, walloff, tmp)
        out = subprocess.run([walloff, "help"], capture_output=True,
                             text=True, env=e.env).stdout
        cmds = set(re.findall(r"^  ([a-z][a-z0-9-]*) ", out, re.M))
        check(len(cmds) >= 10, "walloff help lists commands", out)

        want = []  # (case index, expected set, what)

        def expect(words, wanted, what, first="walloff"):
            want.append((e.complete(*words, first=first), wanted, what))

        expect([""], cmds, "subcommands are those of walloff help")
        expect(["sn"], {"snapshot"}, "a prefix completes one subcommand")
        expect([""], cmds, "walloff by path completes the same",
               first=walloff)
        expect(["--"], {"--help", "--version"}, "walloff's own flags")
        for c in sorted(cmds):
            h = subprocess.run([walloff, c, "--help"], capture_output=True,
                               text=True, env=e.env).stdout
            flags = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", h))
            expect([c, "--"], flags,
                   f"'{c} --' completes the flags of its --help")

        cells = {"alpha", "beta"}
        for words in (["stop", ""], ["log", ""], ["serial", ""],
                      ["destroy", ""], ["snapshot", ""],
                      ["net", "cleanup", ""], ["stop", "--timeout", "5", ""],
                      ["log", "--json", ""]):
            expect(words, cells, f"'{' '.join(words)}' completes cell names "
                   "(running and installed, not stale)")
        expect(["stop", "a"], {"alpha"}, "a cell name prefix")
        expect(["stop", "alpha", ""], set(), "nothing after the cell of stop")
        expect(["stop", "--timeout", ""], set(),
               "no completion for the value of --timeout")

        profiles = {"a.cell", "my app.cell", "sub"}
        for words in (["run", ""], ["check", ""], ["review", ""],
                      ["review", "--ack", ""], ["run", "--dry-run", ""],
                      ["run", "--accept-risk", "why", ""],
                      ["check", "a.cell", ""]):
            expect(words, profiles,
                   f"'{' '.join(words)}' completes *.cell and folders")
        expect(["run", "sub/"], {"sub/c.cell"}, "profiles inside a folder")
        expect(["snapshot", "alpha", ""],
               {"create", "list", "revert", "delete", "prune"},
               "snapshot actions")
        expect(["net", ""], {"cleanup"}, "net actions")
        expect(["image", ""], {"import", "sweep"}, "image actions")
        expect(["image", "import", "--store", ""], {"sub"},
               "--store DIR completes folders")
        expect(["image", "import", ""], {"a.cell", "b.txt", "my app.cell", "sub"},
               "image import SRC: any file")
        expect(["keygen", "alice", "--role", ""],
               {"view", "operate", "admin"}, "--role values from --help")
        expect(["connect", "host", "--key", ""], {"a.cell", "b.txt", "my app.cell", "sub"},
               "--key FILE completes files")
        expect(["help", ""], cmds, "help completes subcommands")

        # The first cell completion's `walloff status` sees gamma as stale
        # (and cleans it): the completion must not offer it.
        got = e.run()
        status = subprocess.run([walloff, "status"], capture_output=True,
                                text=True, env=e.env).stdout
        check(re.search(r"^alpha\s", status, re.M) and not os.path.exists(
              os.path.join(tmp, "run", "gamma", "status.json")),
              "walloff status saw alpha running and cleaned stale gamma",
              status)
        for i, wanted, what in want:
            check(got[i] == wanted, what,
                  f"got {sorted(got[i])}, want {sorted(wanted)}")
        lock.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"1..{len(results)}")
    bad = 0
    for i, (ok, what, diag) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {what}")
        if not ok:
            bad += 1
            for line in diag.splitlines():
                print(f"# {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
