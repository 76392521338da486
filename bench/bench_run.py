#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What walloff costs at start-up, measured against bare QEMU in the same run.

For N rounds, alternating:
  walloff: `walloff run` of the test guest cell; t_cont = time until the
           audit log says "running" (QEMU was verified and continued),
           t_ready = time until WALLOFF-GUEST-READY on the serial port.
  bare:    QEMU started with the very argv walloff used (from its audit
           record, disks passed the same way), continued over QMP at once;
           same two times.
Prints medians, the time walloff adds before the guest runs (target: at
most 100 ms on top of the sha256 pin check, which is proportional to the
image size and reported separately), the ratio of ready times, and the RSS
of walloff's own processes per cell (target: at most 8 MiB). Prints, never
asserts: timings belong here, not in tests.

usage: bench_run.py WALLOFF GUEST_IMG [ROUNDS]
"""
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "integration"))
import celllib  # noqa: E402
import guestlib  # noqa: E402


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for l in f:
                if l.startswith("VmRSS:"):
                    return int(l.split()[1])
    except FileNotFoundError:
        pass
    return 0


def run_walloff(walloff, img):
    cell = celllib.Cell("bench", walloff=walloff, img=img,
                        machine={"accel": "tcg"})
    try:
        t0 = time.monotonic()
        cell.start()
        ser = cell.serial(timeout=60)
        audit = os.path.join(cell.state, "audit.jsonl")
        t_cont = None
        while t_cont is None:
            ser._fill(time.monotonic() + 0.02)  # also drains early output
            if os.path.exists(audit) and '"event":"running"' in open(audit).read():
                t_cont = time.monotonic() - t0
        ser.wait_for(guestlib.READY, 120)
        t_ready = time.monotonic() - t0
        rss = rss_kib(cell.proc.pid)
        argv = cell.first("qemu-started")["details"]["argv"]
        cell.cmd("stop", "bench", timeout=90)
        cell.wait(60)
        return t_cont, t_ready, rss, argv
    finally:
        cell.cleanup()


def run_bare(argv, img):
    """The same QEMU argv, with the disk fds prepared the same way."""
    tmp = tempfile.mkdtemp(prefix="wb-", dir="/tmp")
    run_dir = os.path.join(tmp, "r")
    os.mkdir(run_dir, 0o700)
    # Point the sockets at our folder.
    old = argv_run_dir(argv)
    argv = [a.replace(old, run_dir) for a in argv]
    ovl = os.path.join(tmp, "ovl.qcow2")
    t0 = time.monotonic()
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                    "-b", img, ovl], check=True)
    base = os.open(img, os.O_RDONLY)
    over = os.open(ovl, os.O_RDWR)
    # Park both above 4, then place them at 3 and 4 as walloff's spawn does.
    os.dup2(base, 100)
    os.dup2(over, 101)
    os.close(base)
    os.close(over)
    os.dup2(100, 3)
    os.dup2(101, 4)
    os.close(100)
    os.close(101)
    p = subprocess.Popen(argv, pass_fds=(3, 4), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    os.close(3)
    os.close(4)
    ser = guestlib.Serial(os.path.join(run_dir, "serial.sock"), timeout=30)
    q = guestlib.Qmp(os.path.join(run_dir, "qmp.sock"), timeout=30)
    q.execute("cont")
    t_cont = time.monotonic() - t0
    ser.wait_for(guestlib.READY, 120)
    t_ready = time.monotonic() - t0
    q.execute("quit")
    p.wait(30)
    subprocess.run(["rm", "-rf", tmp])
    return t_cont, t_ready


def argv_run_dir(argv):
    for a in argv:
        if a.startswith("socket,id=qmp,path="):
            return a.split("path=")[1].split("/qmp.sock")[0].replace(",,", ",")
    raise RuntimeError("no qmp chardev in argv")


def main():
    walloff, img = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    w_cont, w_ready, b_cont, b_ready, rss = [], [], [], [], []
    t0 = time.monotonic()
    with open(img, "rb") as f:
        hashlib.sha256(f.read()).hexdigest()
    t_hash = time.monotonic() - t0
    for _ in range(rounds):
        c, r, m, argv = run_walloff(walloff, img)
        w_cont.append(c)
        w_ready.append(r)
        rss.append(m)
        c, r = run_bare(argv, img)
        b_cont.append(c)
        b_ready.append(r)
    med = statistics.median
    print(f"rounds: {rounds}, image {os.path.getsize(img) >> 20} MiB, "
          f"sha256 of it: {t_hash * 1000:.0f} ms")
    print(f"to cont:  walloff {med(w_cont) * 1000:.0f} ms, bare QEMU "
          f"{med(b_cont) * 1000:.0f} ms, walloff adds "
          f"{(med(w_cont) - med(b_cont)) * 1000:.0f} ms "
          f"(target <= 100 ms + hash)")
    print(f"to READY: walloff {med(w_ready):.2f} s, bare QEMU "
          f"{med(b_ready):.2f} s, ratio {med(w_ready) / med(b_ready):.3f}x")
    print(f"walloff supervisor RSS: {med(rss) / 1024:.1f} MiB per cell "
          f"(target <= 8 MiB)")


if __name__ == "__main__":
    main()
