#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""End to end: [network] mode = nft with bridge = NAME, in namespaces only.

Like test_nft.py (whose helpers it uses) but the tap is a port of a bridge
the test creates in its own network namespace (re-executed under
`unshare -n`); the server and the "internet" namespaces hang off the same
bridge on the guest's subnet, so the table is the bridge family one:

  guest 10.77.0.2 --tap-- br-wo --veth-- "server"   10.77.0.5 (allowed :8080)
                                --veth-- "internet" 10.77.0.6 (:8080, :445)

Asserts: a missing bridge is refused with nothing left; the tap is a port of the bridge and the bridge-family table
exists; allowed traffic flows; denied traffic never reaches the internet
listener and is audited with its fields; an ARP/IP spoof from another
address is dropped and audited; after stop no table or tap remains.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402
import guestlib  # noqa: E402
from test_nft import Peers, denies, links, sh, tables  # noqa: E402

CELL = "it-nftbr"
TABLE = "walloff_it_nftbr"
TAP = "wo-it-nftbr"


def inner():
    t = celllib.Checks()
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", "br-wo", "type", "bridge")
    sh("ip", "link", "set", "br-wo", "up")
    cell = celllib.Cell(CELL, network={
        "mode": "nft", "nic": "e1000", "bridge": "br-wo",
        "address": "10.77.0.2/24", "allow": ["tcp 10.77.0.5:8080"]})
    peers = Peers(cell.tmp)
    try:
        srv_log = peers.add("bsrv", "vbsrv", None, "10.77.0.5", "SERVER-OK",
                            [8080], bridge="br-wo")
        inet_log = peers.add("binet", "vbinet", None, "10.77.0.6",
                             "INET-REACHED", [8080, 445], bridge="br-wo")
        # A bridge that does not exist: refused, and the tap created just
        # before is removed again (nothing half-created).
        bad = celllib.Cell("it-nftbad", network={
            "mode": "nft", "nic": "e1000", "bridge": "no-such-br",
            "address": "10.77.0.3/24"})
        try:
            r = bad.cmd("run", bad.profile, timeout=60)
            t.ok(r.returncode != 0 and "no-such-br" in r.stderr,
                 "missing bridge: refused, naming it", r.stderr)
            t.ok(" wo-it-nftbad:" not in links() and
                 "walloff_it_nftbad" not in tables(),
                 "missing bridge: no tap or table left", links() + tables())
        finally:
            bad.cleanup()

        cell.start()
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)
        ser.wait_for("WALLOFF-GUEST-DHCP-", 30)
        t.ok(f"table bridge {TABLE}" in tables(),
             "bridge mode: a bridge-family table", tables())
        br = sh("ip", "-o", "link", "show", "master", "br-wo")
        t.ok(f" {TAP}:" in br, "the tap is a port of the bridge", br)

        ser.check("ip link set eth0 up && ip addr add 10.77.0.2/24 dev eth0")
        st, out = ser.run("echo hi | nc -w 5 10.77.0.5 8080", timeout=20)
        t.ok("SERVER-OK" in out, "allowed: guest reaches the server on the "
             "bridge", f"{st}: {out}")
        st1, out1 = ser.run("echo hi | nc -w 3 10.77.0.6 445", timeout=20)
        with open(inet_log) as f:
            seen = f.read()
        t.ok(st1 != 0 and "INET" not in out1 and seen == "",
             "denied: the internet listener is never reached",
             f"{out1!r} {seen!r}")

        ser.check("ip addr flush dev eth0 && "
                  "ip addr add 10.77.0.77/24 dev eth0")
        st2, out2 = ser.run("echo hi | nc -w 3 10.77.0.5 8080", timeout=20)
        with open(srv_log) as f:
            srv = f.read()
        t.ok(st2 != 0 and "10.77.0.77" not in srv,
             "spoofed address (ARP and IP) is dropped", f"{out2!r} {srv!r}")

        deadline = time.monotonic() + 10
        got = []
        while time.monotonic() < deadline:
            got = denies(cell)
            if (any(d["dst"] == "10.77.0.6" and d["port"] == 445 and
                    d["tag"] == "domain" and d["reason"] == "no-rule" and
                    d["src"] == "10.77.0.2" for d in got) and
                    any(d["reason"] == "spoof-ip" for d in got)):
                break
            time.sleep(0.2)
        t.ok(any(d["dst"] == "10.77.0.6" and d["port"] == 445 and
                 d["tag"] == "domain" and d["reason"] == "no-rule" and
                 d["proto"] == "tcp" and d["src"] == "10.77.0.2"
                 for d in got), "audit: the denied flow, tagged domain", got)
        t.ok(any(d["reason"] == "spoof-ip" for d in got),
             "audit: the spoof is reported", got)
        ser.close()

        st = cell.cmd("stop", CELL, timeout=90)
        rc = cell.wait(30)
        t.ok(st.returncode == 0 and rc == 0, "walloff stop powers it off",
             st.stderr + (cell.output or ""))
        t.ok(TABLE not in tables(), "after stop: no table", tables())
        t.ok(f" {TAP}:" not in links(), "after stop: no tap", links())
    except Exception as ex:  # report, do not hide
        t.ok(False, "unexpected error", f"{type(ex).__name__}: {ex}\n" +
             "\n".join(str(r) for r in cell.audit()[-15:]))
    finally:
        cell.cleanup()
        peers.close()
    return t.done()


def main():
    guestlib.enter_netns(__file__)
    return inner()


if __name__ == "__main__":
    sys.exit(main())
