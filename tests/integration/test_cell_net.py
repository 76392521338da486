#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`[network] mode = user` through `walloff run`, tested from the guest.

Re-executes itself under `unshare -n`: the only network is a fresh
namespace whose loopback carries 192.0.2.1 (a documentation address) with
listeners on :8080 (echo, allowed by the profile), :80 (not allowed) and
127.0.0.1:7777 (the "host"). The cell runs the test guest with
`allow = tcp 192.0.2.1:8080`, dns = none, host-access = deny. From the
guest's shell: the allowed server answers, :80 and port 445 are refused,
the host is unreachable, names do not resolve; `walloff status` shows the
counters; the audit log holds every denial (445 tagged "domain"). Then
walloff-net is killed: the guest loses the network (fail closed), the
supervisor audits it and stops the cell with a non-zero exit.
Output is TAP.
"""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import celllib  # noqa: E402
import guestlib  # noqa: E402
from test_net import Listener, DOC_ADDR  # noqa: E402



def main():
    celllib.enter_netns(__file__)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", DOC_ADDR + "/32", "dev", "lo"],
                   check=True)
    l8080 = Listener(DOC_ADDR, 8080, echo=True)
    l80 = Listener(DOC_ADDR, 80)
    lhost = Listener("127.0.0.1", 7777)

    t = celllib.Checks()
    cell = celllib.Cell("it-net", network={
        "mode": "user", "nic": "e1000", "allow": "tcp 192.0.2.1:8080",
        "dns": "none", "host-access": "deny"})
    try:
        cell.start()
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)
        ser.wait_for(guestlib.DHCP_OK + " 10.0.2.15", 30)
        t.ok(True, "guest got its fixed lease from walloff-net")

        st, out = ser.run(f"echo walloff-42 | nc -w 5 {DOC_ADDR} 8080", 30)
        t.ok("echo:walloff-42" in out, "allowed endpoint answers", out)
        st, out = ser.run(f"nc -w 5 {DOC_ADDR} 80 </dev/null", 30)
        t.ok(st != 0 and not l80.peers, "192.0.2.1:80 is refused", out)
        st, out = ser.run(f"nc -w 5 {DOC_ADDR} 445 </dev/null", 30)
        t.ok(st != 0, "SMB (445) is refused", out)
        st, out = ser.run("nc -w 5 10.0.2.2 7777 </dev/null", 30)
        t.ok(st != 0 and not lhost.peers, "the host's loopback is unreachable",
             out)
        st, out = ser.run("nslookup walloff-test.example 10.0.2.3", 30)
        t.ok(st != 0, "names do not resolve with dns = none", out)

        # walloff-net and QEMU are confined: the cell user, no
        # capabilities, no_new_privs, a seccomp filter (QEMU's own for
        # -sandbox on); walloff-net also under Landlock where it exists.
        net = cell.first("net-started")["details"]["pid"]
        bad = celllib.confinement_problems(net)
        t.ok(not bad, "walloff-net runs as the cell user, no capabilities, "
             "no_new_privs, seccomp", bad)
        qemu = cell.first("qemu-started")["details"]["pid"]
        bad = celllib.confinement_problems(qemu)
        t.ok(not bad, "QEMU runs as the cell user, no capabilities, "
             "no_new_privs, seccomp", bad)
        start = cell.first("net-start")["details"]
        t.ok(start.get("landlock") == celllib.landlock_expected() and
             start.get("seccomp") == "SECCOMP_NET",
             "audit: walloff-net's start record says what confines it",
             start)

        s = cell.cmd("status")
        t.ok("it-net" in s.stdout and "denied" in s.stdout,
             "walloff status shows the network counters", s.stdout)

        deny = [r["details"] for r in cell.audit() if r["event"] == "net-deny"]
        t.ok(any(d["port"] == 80 and d["dst"] == DOC_ADDR for d in deny),
             "audit: the denied flow to :80", deny)
        t.ok(any(d["port"] == 445 and d["tag"] == "domain" for d in deny),
             "audit: port 445 tagged domain", deny)
        t.ok(any(d.get("tag") == "host" for d in deny),
             "audit: the host access attempt tagged host", deny)
        t.ok(any(d.get("tag") == "dns" for d in deny),
             "audit: the DNS query refused", deny)

        # Fail closed: without walloff-net the guest has no network at all.
        os.kill(net, signal.SIGKILL)
        rc = cell.wait(120)
        ev = cell.events()
        t.ok("net-died" in ev, "audit: walloff-net's death recorded", ev)
        sr = [r for r in cell.audit() if r["event"] == "stop-requested"]
        t.ok(sr and sr[0]["details"]["by"] == "walloff-net died",
             "the supervisor stops the cell (on-failure = stop)", sr)
        t.ok(rc == 1, "walloff run exits non-zero after the helper died",
             cell.output)
        t.ok(len(l8080.peers) == 1, "the allowed server saw exactly one flow",
             l8080.peers)
    except Exception as e:
        t.ok(False, "unexpected error", f"{e!r}\n{getattr(cell, 'output', '')}")
    finally:
        cell.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
