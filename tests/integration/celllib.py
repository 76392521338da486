# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for integration tests that run cells through `walloff run`.

A Cell is a private sandbox for one test: its own state and run folders
(WALLOFF_STATE_DIR / WALLOFF_RUN_DIR under a short /tmp path, so socket
paths fit), a profile written from keyword arguments with the test guest
pinned by its real sha256, and the `walloff run` process. audit() parses
the cell's audit log; events() lists its event names in order.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import guestlib


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()



# Tests that build their own network re-execute in a fresh namespace.
enter_netns = guestlib.enter_netns


class Cell:
    def __init__(self, name="it", walloff=None, img=None, **sections):
        self.walloff = walloff or os.environ["WALLOFF"]
        self.img = img or guestlib.guest_img()
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="wo-", dir="/tmp")
        # As root, QEMU runs unprivileged: it must be able to reach the run
        # folder (walloff makes the cell's own folders 0700 itself).
        os.chmod(self.tmp, 0o755)
        self.env = dict(os.environ)
        self.env["WALLOFF_STATE_DIR"] = os.path.join(self.tmp, "s")
        self.env["WALLOFF_RUN_DIR"] = os.path.join(self.tmp, "r")
        self.state = os.path.join(self.tmp, "s", name)
        self.run_dir = os.path.join(self.tmp, "r", name)
        self.profile = os.path.join(self.tmp, name + ".cell")
        os.symlink(self.img, os.path.join(self.tmp, "guest.img"))
        self.proc = None
        self.sections = {
            "cell": {"name": name, "owner": "tests@example.org"},
            "machine": {"type": "pc", "memory": "128M", "accel": "auto",
                        "display": "std", "shutdown-timeout": "30s"},
            "disk": {"image": "guest.img", "format": "raw", "bus": "ide",
                     "sha256": sha256(self.img)},
        }
        for sec, kv in sections.items():
            self.sections.setdefault(sec, {}).update(kv)
        self.write_profile()

    def write_profile(self):
        with open(self.profile, "w") as f:
            for sec, kv in self.sections.items():
                f.write(f"[{sec}]\n")
                for k, v in kv.items():
                    for item in (v if isinstance(v, list) else [v]):
                        f.write(f"{k} = {item}\n")

    def cmd(self, *args, timeout=60, **kw):
        return subprocess.run([self.walloff, *args], env=self.env,
                              capture_output=True, text=True,
                              timeout=timeout, **kw)

    def start(self, *extra):
        self.proc = subprocess.Popen(
            [self.walloff, "run", *extra, self.profile], env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return self.proc

    def serial(self, timeout=60):
        """Connect to the cell's serial socket once QEMU created it."""
        return guestlib.Serial(os.path.join(self.run_dir, "s", "serial.sock"),
                               timeout=timeout)

    def wait(self, timeout=90):
        out, _ = self.proc.communicate(timeout=timeout)
        self.output = out
        return self.proc.returncode

    def audit(self):
        path = os.path.join(self.state, "audit.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            # A last line without its newline is a record still being
            # written by the running cell: it is read on the next call.
            return [json.loads(l) for l in f
                    if l.strip() and l.endswith("\n")]

    def events(self):
        return [r["event"] for r in self.audit()]

    def first(self, event):
        for r in self.audit():
            if r["event"] == event:
                return r
        return None

    def diagnose(self):
        """What went wrong, for a failed test: the cell's output (the cell
        is killed first) and the end of its audit log."""
        out = ""
        if self.proc:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            try:
                out = self.proc.communicate(timeout=10)[0] or ""
            except (subprocess.TimeoutExpired, ValueError):
                pass
        try:
            tail = [json.dumps(x) for x in self.audit()[-15:]]
        except (OSError, ValueError):
            tail = []
        return "walloff run said:\n" + out + "\naudit log, last:\n" + \
            "\n".join(tail)

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Checks:
    """Collects assertion results; prints TAP at the end."""

    def __init__(self):
        self.results = []

    def ok(self, cond, name, detail=""):
        self.results.append((bool(cond), name, detail))
        return cond

    def done(self):
        print(f"1..{len(self.results)}")
        bad = 0
        for i, (ok, name, detail) in enumerate(self.results, 1):
            print(f"{'ok' if ok else 'not ok'} {i} - {name}")
            if not ok:
                bad += 1
                for l in str(detail).splitlines()[-40:]:
                    print("# " + l)
        return 1 if bad else 0


def wait_for(pred, timeout, interval=0.1):
    """Poll pred() until it returns something true: that value, or None
    once timeout seconds have passed. For states with no event to wait on
    (a file appearing, an audit record being written)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return None


def proc_status(pid):
    """/proc/PID/status as a dict of stripped strings."""
    with open(f"/proc/{pid}/status") as f:
        return {k: v.strip() for k, v in
                (l.split(":", 1) for l in f.read().splitlines() if ":" in l)}


def cell_user():
    """(uid, gid) a root-started cell runs as: walloff, else nobody
    (launcher/spawn.c)."""
    import pwd
    for name in ("walloff", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            pass
    return None


def confinement_problems(pid, seccomp=True):
    """What is wrong with a helper's (or QEMU's) confinement, from the
    outside: every uid and gid the cell user's (the caller's when not
    root), no supplementary groups, no capabilities (effective, permitted,
    inheritable, ambient, and when root the bounding set), no_new_privs, and a seccomp filter. Returns a
    list of problems, empty when confined."""
    st = proc_status(pid)
    want = cell_user() if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    bad = []
    if not want or set(st["Uid"].split()) != {str(want[0])}:
        bad.append(f"Uid {st['Uid']}, want {want}")
    if not want or set(st["Gid"].split()) != {str(want[1])}:
        bad.append(f"Gid {st['Gid']}, want {want}")
    if os.geteuid() == 0 and st.get("Groups", ""):
        bad.append(f"Groups {st['Groups']}")
    caps = ["CapEff", "CapPrm", "CapInh", "CapAmb"]
    if os.geteuid() == 0:
        caps.append("CapBnd")    # emptied before the uid change
    for cap in caps:
        if int(st.get(cap, "0"), 16):
            bad.append(f"{cap} {st[cap]}")
    if st.get("NoNewPrivs") != "1":
        bad.append(f"NoNewPrivs {st.get('NoNewPrivs')}")
    if seccomp and st.get("Seccomp") != "2":
        bad.append(f"Seccomp {st.get('Seccomp')}")
    return bad


def landlock_expected():
    """The "landlock" value a helper's start record must carry on this
    kernel: "enforced (ABI n)", or "unavailable" without Landlock."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    abi = libc.syscall(444, None, 0, 1)
    return f"enforced (ABI {abi})" if abi > 0 else "unavailable"
