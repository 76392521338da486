#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fault matrix: kill each process of a running cell, and starve the audit.

Re-executes itself under `unshare -n` (so TCP listeners are ours alone).
A cell with a network (walloff-net) and a console (walloff-console) is
started, then for each case something is broken and the outcome asserted:

  kill -9 QEMU           supervisor exits 7, audited; helpers gone; no TCP
                         listener left
  kill -9 console        audited; nothing listens on TCP any more; the
                         guest keeps running (fail closed, not down)
  kill -9 supervisor     QEMU and both helpers die with it (PDEATHSIG); no
                         listener left; `walloff status` cleans up
  SIGHUP storm           200 SIGHUPs: the cell and its console still work
  audit disk full        the state folder on a full tmpfs: the next audit
                         record fails and the cell stops (never runs
                         unaudited)
Output is TAP.
"""
import os
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import celllib  # noqa: E402
import guestlib  # noqa: E402

PORT = 5941



def tcp_listeners():
    with open("/proc/net/tcp") as f:
        return [int(l.split()[1].split(":")[1], 16)
                for l in f.readlines()[1:] if l.split()[3] == "0A"]


def wait_gone(pid, timeout=15):
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    r, _, _ = select.select([fd], [], [], timeout)
    os.close(fd)
    return bool(r)


def full_cell(name, **extra):
    cell = celllib.Cell(name, network={"mode": "user", "allow": "tcp 192.0.2.1:8080"},
                        console={"listen": f"127.0.0.1:{PORT}",
                                 "keys": "keys/authorized"}, **extra)
    home = os.path.join(cell.tmp, "home")
    os.makedirs(home)
    cell.env.update(HOME=home, XDG_CONFIG_HOME=home + "/config")
    r = cell.cmd("keygen", "root", "--out", f"{home}/root.key", "--role", "admin")
    os.makedirs(os.path.join(cell.tmp, "keys"))
    kf = os.path.join(cell.tmp, "keys", "authorized")
    with open(kf, "w") as f:
        f.write(r.stdout)
    os.chmod(kf, 0o600)
    cell.home = home
    return cell


def boot(cell):
    cell.start()
    ser = cell.serial(timeout=60)
    ser.wait_for(guestlib.READY, 90)
    pids = {"qemu": cell.first("qemu-started")["details"]["pid"],
            "net": cell.first("net-started")["details"]["pid"],
            "console": cell.first("console-started")["details"]["pid"]}
    return ser, pids


def kill_qemu(t):
    cell = full_cell("it-fq")
    try:
        ser, pids = boot(cell)
        os.kill(pids["qemu"], signal.SIGKILL)
        rc = cell.wait(60)
        t.ok(rc == 7, "kill -9 QEMU: supervisor exits 7", cell.output)
        ex = cell.first("qemu-exited")
        t.ok(ex and ex["details"]["signal"] == 9 and
             ex["details"]["reason"] == "qemu-died",
             "kill -9 QEMU: audited with the signal", ex)
        t.ok(wait_gone(pids["net"]) and wait_gone(pids["console"]),
             "kill -9 QEMU: helpers stopped")
        t.ok(PORT not in tcp_listeners(), "kill -9 QEMU: no TCP listener left",
             tcp_listeners())
    finally:
        cell.cleanup()


def kill_console_and_storm(t):
    cell = full_cell("it-fc")
    try:
        ser, pids = boot(cell)
        # SIGHUP storm first: the cell and its console must survive it.
        for _ in range(200):
            os.kill(cell.proc.pid, signal.SIGHUP)
        shot = os.path.join(cell.tmp, "s.png")
        r = cell.cmd("connect", f"127.0.0.1:{PORT}", "--key",
                     f"{cell.home}/root.key", "--screenshot", shot)
        st, out = ser.run("echo alive")
        t.ok(r.returncode == 0 and out.strip() == "alive" and
             cell.proc.poll() is None,
             "200 SIGHUPs: cell and console still work", r.stderr)
        hups = [x for x in cell.audit() if x["event"] == "signal"]
        t.ok(1 <= len(hups) <= 200, f"SIGHUP storm audited ({len(hups)} records)")

        os.kill(pids["console"], signal.SIGKILL)
        deadline = time.monotonic() + 15
        while "console-died" not in cell.events() and time.monotonic() < deadline:
            time.sleep(0.1)
        t.ok("console-died" in cell.events(), "kill -9 console: audited")
        t.ok(PORT not in tcp_listeners(),
             "kill -9 console: nothing listens on TCP any more", tcp_listeners())
        st, out = ser.run("echo still-here")
        t.ok(out.strip() == "still-here", "kill -9 console: the guest runs on")
        cell.cmd("stop", "it-fc", timeout=90)
        cell.wait(60)
    finally:
        cell.cleanup()


def kill_supervisor(t):
    cell = full_cell("it-fs")
    try:
        ser, pids = boot(cell)
        os.kill(cell.proc.pid, signal.SIGKILL)
        cell.proc.wait()
        t.ok(all(wait_gone(p) for p in pids.values()),
             "kill -9 supervisor: QEMU and both helpers die with it")
        t.ok(PORT not in tcp_listeners(),
             "kill -9 supervisor: no TCP listener left", tcp_listeners())
        st = cell.cmd("status")
        t.ok("stale (cleaned)" in st.stdout,
             "kill -9 supervisor: walloff status cleans the stale state", st.stdout)
    finally:
        cell.cleanup()


def audit_full(t):
    cell = celllib.Cell("it-full")
    mnt = os.path.join(cell.tmp, "s")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs",
                    mnt], check=True)
    try:
        cell.start()
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)
        # Fill the state folder's filesystem, then cause an audit record.
        with open(os.path.join(mnt, "filler"), "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        # Each SIGHUP asks for an audit record; the first ones may still fit
        # in the log's last page, so keep asking until the cell gives up.
        deadline = time.monotonic() + 60
        while cell.proc.poll() is None and time.monotonic() < deadline:
            os.kill(cell.proc.pid, signal.SIGHUP)
            try:
                cell.proc.wait(0.2)
            except subprocess.TimeoutExpired:
                pass
        rc = cell.wait(60)
        t.ok(rc == 1, "audit disk full: the cell stops (exit 1)", cell.output)
        t.ok("cannot write the audit log" in cell.output,
             "audit disk full: says why", cell.output)
        qs = [x for x in cell.audit() if x["event"] == "qemu-started"]
        t.ok(qs and wait_gone(qs[0]["details"]["pid"], 5),
             "audit disk full: QEMU is gone")
    finally:
        if cell.proc and cell.proc.poll() is None:
            cell.proc.kill()
            cell.proc.wait()
        subprocess.run(["umount", "-l", mnt])
        cell.cleanup()


def main():
    celllib.enter_netns(__file__)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    t = celllib.Checks()
    for f in (kill_qemu, kill_console_and_storm, kill_supervisor, audit_full):
        try:
            f(t)
        except Exception as e:
            t.ok(False, f"{f.__name__}: unexpected error", repr(e))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
