#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""End to end: [network] mode = nft, in network namespaces only.

The script re-executes itself under `unshare -n`, so everything it creates
(tap, nftables table, veths, routes) lives in a fresh, empty network
namespace that disappears with it; the two peers are namespaces it adds
with `ip netns add` and deletes at the end. Topology (routed mode):

  guest 10.99.0.2 --tap wo-it-nft-- [test ns, gw 10.99.0.1, forwarding]
        --veth-- "server"   ns 10.50.0.2  (allow = tcp 10.50.0.2:8080)
        --veth-- "internet" ns 10.60.0.2  (listens on 8080 and 445; no rule)

Asserts: allowed traffic flows (guest nc to the server gets its answer);
denied traffic never reaches the internet listener and is audited as
"net-deny" with proto/src/dst/port/reason/tag (445: "domain"); a spoofed
source address from the guest is dropped and audited; the table and tap
exist while the cell runs and are gone after `walloff stop`; after kill -9
of the supervisor the table is left, the next start replaces it, and
`walloff net cleanup` removes it; without CAP_NET_ADMIN `walloff run`
fails with a clear message and creates nothing; walloff-nftlog logs the
denials while confined (cell user, no capabilities, seccomp, Landlock).
Output is TAP.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402
import guestlib  # noqa: E402

CELL = "it-nft"
TABLE = "walloff_it_nft"
TAP = "wo-it-nft"

# A listener that answers once per connection and records the peer.
LISTENER = r"""
import socket, sys, threading
log = open(sys.argv[1], "a", buffering=1)
def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[2], port)); s.listen(8)
    while True:
        c, a = s.accept()
        log.write(f"{a[0]} {port}\n")
        c.sendall(sys.argv[3].encode() + b"\n"); c.close()
ports = [int(p) for p in sys.argv[4:]]
for p in ports[1:]:
    threading.Thread(target=serve, args=(p,), daemon=True).start()
open(sys.argv[1] + ".ready", "w").close()
serve(ports[0])
"""


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError(f"{args}: {r.stderr}")
    return r.stdout


def tables():
    return sh("nft", "list", "tables")


def links():
    return sh("ip", "-o", "link", "show")


def wait_file(path, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not appear")
        time.sleep(0.05)


def wait_event(cell, event, timeout, after=0):
    """Poll the audit log (a file: no event to wait on) with a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recs = cell.audit()[after:]
        for r in recs:
            if r["event"] == event:
                return r
        if cell.proc and cell.proc.poll() is not None:
            return None
        time.sleep(0.1)
    return None


def denies(cell):
    return [r["details"] for r in cell.audit() if r["event"] == "net-deny"]


class Peers:
    def __init__(self, tmp):
        self.ns = []
        self.procs = []
        self.tmp = tmp

    def add(self, name, host_if, host_ip, peer_ip, answer, ports,
            bridge=None):
        """A peer namespace on a veth: routed via host_ip, or (bridge)
        its host end a port of that bridge, on the guest's own subnet."""
        ns = f"wonft-{name}-{os.getpid()}"
        sh("ip", "netns", "add", ns)
        self.ns.append(ns)
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name",
           "eth0", "netns", ns)
        if bridge:
            sh("ip", "link", "set", host_if, "master", bridge)
        else:
            sh("ip", "addr", "add", host_ip + "/24", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        cmds = [["ip", "link", "set", "lo", "up"],
                ["ip", "addr", "add", peer_ip + "/24", "dev", "eth0"],
                ["ip", "link", "set", "eth0", "up"]]
        if not bridge:
            cmds.append(["ip", "route", "add", "default", "via", host_ip])
        for cmd in cmds:
            sh("ip", "netns", "exec", ns, *cmd)
        log = os.path.join(self.tmp, name + ".log")
        open(log, "w").close()
        self.procs.append(subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c", LISTENER, log,
             peer_ip, answer] + [str(p) for p in ports]))
        wait_file(log + ".ready", 10)
        return log

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        for ns in self.ns:
            subprocess.run(["ip", "netns", "delete", ns])


def boot_and_probe(t, cell, srv_log, inet_log):
    ser = cell.serial(timeout=60)
    ser.wait_for(guestlib.READY, 90)
    # The boot-time DHCP attempt must be over before we set the address.
    ser.wait_for("WALLOFF-GUEST-DHCP-", 30)
    t.ok(TABLE in tables(), "the cell's table exists while it runs",
         tables())
    t.ok(f" {TAP}:" in links(), "the cell's tap exists while it runs",
         links())
    ser.check("ip link set eth0 up && ip addr add 10.99.0.2/24 dev eth0 "
              "&& ip route add default via 10.99.0.1")

    st, out = ser.run("echo hi | nc -w 5 10.50.0.2 8080", timeout=20)
    t.ok("SERVER-OK" in out, "allowed: guest reaches the server through "
         "the allow rule", f"status {st}: {out}")
    with open(srv_log) as f:
        t.ok("10.99.0.2 8080" in f.read(), "the server saw the guest's "
             "own address")

    st1, out1 = ser.run("echo hi | nc -w 3 10.60.0.2 445", timeout=20)
    st2, out2 = ser.run("echo hi | nc -w 3 10.60.0.2 8080", timeout=20)
    with open(inet_log) as f:
        seen = f.read()
    t.ok("INET" not in out1 + out2 and seen == "",
         "denied: the internet listener is never reached",
         f"{out1!r} {out2!r} log={seen!r}")

    # Spoofed source: the guest takes another address of its subnet.
    ser.check("ip addr flush dev eth0 && ip addr add 10.99.0.77/24 dev eth0 "
              "&& ip route add default via 10.99.0.1")
    st3, out3 = ser.run("echo hi | nc -w 3 10.50.0.2 8080", timeout=20)
    with open(srv_log) as f:
        srv = f.read()
    t.ok(st3 != 0 and "SERVER-OK" not in out3 and "10.99.0.77" not in srv,
         "spoofed source address is dropped", f"{st3} {out3!r} server={srv!r}")

    # Spoofed MAC: the right address again, from another MAC.
    ser.check("ip link set eth0 down && ip link set eth0 address "
              "52:54:00:ff:00:01 && ip addr flush dev eth0 && ip link set "
              "eth0 up && ip addr add 10.99.0.2/24 dev eth0 && ip route add "
              "default via 10.99.0.1")
    st4, out4 = ser.run("echo hi | nc -w 3 10.50.0.2 8080", timeout=20)
    with open(srv_log) as f:
        srv2 = f.read()
    t.ok(st4 != 0 and "SERVER-OK" not in out4 and srv2 == srv,
         "spoofed source MAC is dropped", f"{st4} {out4!r} server={srv2!r}")
    return ser


def check_audit(t, cell):
    # The reader writes a new flow at once; poll the file with a deadline.
    deadline = time.monotonic() + 10
    want = {("tcp", "10.99.0.2", "10.60.0.2", 445, "no-rule", "domain"),
            ("tcp", "10.99.0.2", "10.60.0.2", 8080, "no-rule", None),
            ("tcp", "10.99.0.77", "10.50.0.2", 8080, "spoof-ip", None)}
    # A spoofed MAC is dropped before its IP header is looked at; the
    # address may be the guest's own (ARP) or 10.99.0.2 (TCP).
    mac_deadline = time.monotonic() + 10
    got = set()
    while time.monotonic() < deadline:
        got = {(d["proto"], d["src"], d["dst"], d["port"], d["reason"],
                d["tag"]) for d in denies(cell)}
        if want <= got:
            break
        time.sleep(0.2)
    for w in sorted(want, key=str):
        t.ok(w in got, f"audit: net-deny {w}", sorted(got, key=str))
    while time.monotonic() < mac_deadline:
        mac = [d for d in denies(cell) if d["reason"] == "spoof-mac"]
        if mac:
            break
        time.sleep(0.2)
    t.ok(mac, "audit: net-deny spoof-mac", denies(cell))
    d = [x for x in denies(cell) if x["port"] == 445]
    t.ok(d and d[0]["count"] >= 1 and d[0]["total"] >= d[0]["count"] and
         d[0]["mode"] == "nft", "audit: net-deny carries count/total", d)
    allowed = [x for x in denies(cell) if x["dst"] == "10.50.0.2" and
               x["src"] == "10.99.0.2" and x["reason"] != "spoof-mac"]
    t.ok(not allowed, "audit: allowed traffic is not reported as denied",
         allowed)


def inner():
    t = celllib.Checks()
    sh("ip", "link", "set", "lo", "up")
    with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
        f.write("1\n")
    cell = celllib.Cell(CELL, network={
        "mode": "nft", "nic": "e1000", "address": "10.99.0.2/24",
        "gateway": "10.99.0.1", "allow": ["tcp 10.50.0.2:8080"]})
    peers = Peers(cell.tmp)
    try:
        srv_log = peers.add("srv", "vsrv", "10.50.0.1", "10.50.0.2",
                            "SERVER-OK", [8080])
        inet_log = peers.add("inet", "vinet", "10.60.0.1", "10.60.0.2",
                             "INET-REACHED", [8080, 445])

        # Without CAP_NET_ADMIN: clear error, nothing created.
        r = subprocess.run(["setpriv", "--bounding-set=-net_admin",
                            cell.walloff, "run", cell.profile], env=cell.env,
                           capture_output=True, text=True, timeout=60)
        t.ok(r.returncode != 0 and "CAP_NET_ADMIN" in r.stderr,
             "without CAP_NET_ADMIN: non-zero exit naming the capability",
             f"exit {r.returncode}: {r.stderr}")
        t.ok(TABLE not in tables() and f" {TAP}:" not in links(),
             "without CAP_NET_ADMIN: no table, no tap", tables() + links())

        cell.start()
        ser = boot_and_probe(t, cell, srv_log, inet_log)
        check_audit(t, cell)
        ns = [r for r in cell.audit() if r["event"] == "net-started"]
        t.ok(ns and ns[0]["details"]["mode"] == "nft" and
             ns[0]["details"]["tap"] == TAP, "audit: net-started (nft)", ns)
        t.ok("net-died" not in cell.events(),
             "walloff-nftlog ran for the whole cell", cell.events())
        # It logged the denials above while confined: the cell user, no
        # capabilities, no_new_privs, SECCOMP_NFTLOG, no filesystem.
        bad = celllib.confinement_problems(ns[0]["details"]["pid"])
        t.ok(not bad, "walloff-nftlog runs as the cell user, no "
             "capabilities, no_new_privs, seccomp", bad)
        st = cell.first("nftlog-start")
        t.ok(st and st["details"]["landlock"] ==
             celllib.landlock_expected() and
             st["details"]["seccomp"] == "SECCOMP_NFTLOG" and
             st["details"]["uid"] == celllib.cell_user()[0],
             "audit: nftlog-start says what confines it", st)
        ser.close()

        st = cell.cmd("stop", CELL, timeout=90)
        rc = cell.wait(30)
        t.ok(st.returncode == 0 and rc == 0, "walloff stop powers it off",
             st.stderr + (cell.output or ""))
        t.ok(TABLE not in tables(), "after stop: no table", tables())
        t.ok(f" {TAP}:" not in links(), "after stop: no tap", links())

        # kill -9 of the supervisor: QEMU dies with it, the tap with QEMU;
        # the table stays until the next start or `walloff net cleanup`.
        n0 = len(cell.audit())
        cell.start()
        t.ok(wait_event(cell, "running", 60, n0), "restarted", cell.events())
        cell.proc.send_signal(signal.SIGKILL)
        cell.proc.wait()
        deadline = time.monotonic() + 10
        while f" {TAP}:" in links() and time.monotonic() < deadline:
            time.sleep(0.1)
        t.ok(TABLE in tables(), "after kill -9: the table is left (stale)",
             tables())
        n1 = len(cell.audit())
        cell.start()
        t.ok(wait_event(cell, "running", 60, n1),
             "the next start replaces the stale table", cell.events()[-8:])
        cell.proc.send_signal(signal.SIGKILL)
        cell.proc.wait()
        deadline = time.monotonic() + 10
        while f" {TAP}:" in links() and time.monotonic() < deadline:
            time.sleep(0.1)
        r = cell.cmd("net", "cleanup", CELL, timeout=30)
        t.ok(r.returncode == 0, "walloff net cleanup succeeds",
             r.stdout + r.stderr)
        t.ok(TABLE not in tables(), "after kill -9 + cleanup: no table",
             tables())
        t.ok(f" {TAP}:" not in links(), "after kill -9 + cleanup: no tap",
             links())
        r = cell.cmd("net", "cleanup", timeout=30)
        t.ok(r.returncode == 0 and "no walloff" in r.stdout,
             "walloff net cleanup (all): nothing left", r.stdout + r.stderr)
    except Exception as ex:  # report, do not hide
        t.ok(False, "unexpected error", f"{type(ex).__name__}: {ex}\n" +
             "\n".join(json.dumps(r) for r in cell.audit()[-15:]))
    finally:
        cell.cleanup()
        peers.close()
    return t.done()


def main():
    guestlib.enter_netns(__file__)
    return inner()


if __name__ == "__main__":
    sys.exit(main())
