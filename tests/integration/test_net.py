#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""walloff-net against a real guest, inside a network namespace.

Theory of operation: the script re-executes itself under `unshare -n`, so
the only network it (and QEMU, and walloff-net) can use is a fresh
namespace whose loopback carries the documentation address 192.0.2.1;
nothing can leave the machine even if the policy were broken. Listeners on
192.0.2.1:80, 192.0.2.1:8080 (echo) and 127.0.0.1 record every connection.

1. Probe check: the test guest under plain QEMU user networking
   (-nic user, no walloff) reaches 192.0.2.1:80, so a failure in step 2 is
   the policy's doing, not a broken probe.
2. The same guest through walloff-net with --allow "tcp 192.0.2.1/32:8080"
   and --dns none: 192.0.2.1:80 is refused fast (our RST), the host's
   127.0.0.1 listener is unreachable through 10.0.2.2, names do not
   resolve (REFUSED), 192.0.2.1:8080 works with a data round trip, a probe
   to port 445 is tagged "domain"; the listeners saw exactly the allowed
   connection; the audit log holds each denial with its fields; the stats
   socket reports the counters.
3. Fail closed: walloff-net is killed; the guest's allowed connection now
   fails, and QEMU does not attach to a new listener placed on the same
   socket path (QEMU 7.2's stream netdev does not reconnect).

Standard library only; needs root (unshare), ip(8), QEMU and the guest.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

DOC_ADDR = "192.0.2.1"
ALLOWED_PORT = 8080
DENIED_PORT = 80
HOST_PORT = 7777		# 127.0.0.1 in the namespace = the "host"
GUEST_MAC = "52:54:00:12:34:56"
PAYLOAD = "walloff-roundtrip-42"

failures = []
results = []


def check(cond, what):
    """Record one TAP result (printed by tap_done); echo it as a comment."""
    print(("# ok: " if cond else "# FAIL: ") + what, flush=True)
    results.append((bool(cond), what))
    if not cond:
        failures.append(what)


def tap_done():
    print(f"1..{len(results)}")
    for i, (ok, what) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {what}")
    return 1 if failures else 0


class Listener:
    """TCP listener recording its peers; echo=True answers 'echo:'+data."""

    def __init__(self, addr, port, echo=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(16)
        self.echo = echo
        self.peers = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, peer = self.sock.accept()
            except OSError:
                return
            self.peers.append(peer)
            c.settimeout(5)
            try:
                if self.echo:
                    data = c.recv(4096)
                    c.sendall(b"echo:" + data)
                else:
                    c.sendall(b"probe-reached\n")
            except OSError:
                pass
            c.close()


def setup_netns():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", DOC_ADDR + "/32", "dev", "lo"],
                   check=True)
    # belt and braces: the namespace has no other interface, hence no route
    out = subprocess.run(["ip", "-o", "link"], capture_output=True,
                         text=True, check=True).stdout
    if len(out.strip().splitlines()) != 1:
        raise SystemExit("network namespace has more than lo: " + out)


def boot(img, extra, nic):
    g = guestlib.Guest(img, nic=nic, extra=extra)
    g.start()
    g.wait_ready(60)
    line = g.serial.wait_for(guestlib.DHCP_OK, 30)
    return g, line.split()[-1]


def step_probe(img, l80):
    g, ip = boot(img, [], "user,model=e1000,mac=" + GUEST_MAC)
    try:
        check(ip == "10.0.2.15", f"plain slirp lease is 10.0.2.15 ({ip})")
        st, out = g.serial.run(f"nc -w 5 {DOC_ADDR} {DENIED_PORT} "
                               "</dev/null", 20)
        check("probe-reached" in out,
              f"probe: plain QEMU user net reaches {DOC_ADDR}:80 ({out!r})")
    finally:
        g.close()
    check(len(l80.peers) == 1, "probe listener saw one connection")


def read_audit(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def find(records, event, **kv):
    return [r for r in records if r["event"] == event and
            all(r["details"].get(k) == v for k, v in kv.items())]


def start_net(tmp, audit_fd):
    net_bin = os.environ["WALLOFF_NET"]
    sock = os.path.join(tmp, "net.sock")
    stats = os.path.join(tmp, "stats.sock")
    r, w = os.pipe()
    proc = subprocess.Popen(
        [net_bin, "--socket", sock, "--cell", "nettest",
         "--audit-fd", str(audit_fd), "--ready-fd", str(w),
         "--stats", stats, "--allow", f"tcp {DOC_ADDR}/32:{ALLOWED_PORT}",
         "--host-access", "deny", "--dns", "none"],
        pass_fds=(audit_fd, w))
    os.close(w)
    ready = os.read(r, 1)
    os.close(r)
    if ready != b"\x01":
        raise SystemExit("walloff-net did not get ready")
    return proc, sock, stats


def stats_of(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data)


def timed(g, cmd, timeout=20):
    t0 = time.monotonic()
    st, out = g.serial.run(cmd, timeout)
    return st, out, time.monotonic() - t0


def step_policy(img, tmp, l80, l8080, lhost):
    audit_path = os.path.join(tmp, "audit.jsonl")
    afd = os.open(audit_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    proc, sock, stats = start_net(tmp, afd)
    os.close(afd)
    extra = ["-netdev", "stream,id=n0,server=off,addr.type=unix,"
             f"addr.path={sock}",
             "-device", f"e1000,netdev=n0,mac={GUEST_MAC}"]
    g, ip = boot(img, extra, "none")
    try:
        check(ip == "10.0.2.15", f"walloff-net lease is 10.0.2.15 ({ip})")
        n80 = len(l80.peers)

        st, out, dt = timed(g, f"nc -w 8 {DOC_ADDR} {DENIED_PORT} "
                            "</dev/null")
        check(st != 0 and "refused" in out.lower(),
              f"{DOC_ADDR}:80 denied with a refusal ({out.strip()!r})")
        check(dt < 4, f"denial is fast thanks to the RST ({dt:.1f}s)")

        st, out, dt = timed(g, f"nc -w 8 10.0.2.2 {HOST_PORT} </dev/null")
        check(st != 0 and "probe-reached" not in out,
              f"host loopback via 10.0.2.2 denied ({out.strip()!r})")

        st, out, dt = timed(g, "nslookup walloff-test.example 10.0.2.3")
        check(st != 0 and "REFUSED" in out,
              f"DNS refused with --dns none ({out.strip()[-60:]!r})")

        st, out, dt = timed(g, f"nc -w 8 {DOC_ADDR} 445 </dev/null")
        check(st != 0, "SMB probe to port 445 denied")

        st, out, dt = timed(g, f"echo {PAYLOAD} | nc -w 5 {DOC_ADDR} "
                            f"{ALLOWED_PORT}")
        check("echo:" + PAYLOAD in out,
              f"allowed {DOC_ADDR}:{ALLOWED_PORT} round trip ({out!r})")

        check(len(l80.peers) == n80, "nothing reached 192.0.2.1:80")
        check(len(lhost.peers) == 0, "nothing reached 127.0.0.1")
        check(len(l8080.peers) == 1, "allowed listener saw one connection")

        st_json = stats_of(stats)
        check(st_json.get("denied", 0) >= 4 and
              st_json.get("allowed", 0) > 0 and "dropped_by_reason" in
              st_json, f"stats socket counters ({st_json.get('denied')} "
              f"denied, {st_json.get('allowed')} allowed)")

        # the allowed flow ended with FIN both ways: its close record
        # (with byte counts) is written after a short linger
        deadline = time.monotonic() + 10
        while not find(read_audit(audit_path), "net-flow-close",
                       dst=DOC_ADDR, port=ALLOWED_PORT):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)

        # 3. fail closed: kill walloff-net, nothing else may take its place
        proc.kill()
        proc.wait(10)
        os.unlink(sock)
        impostor = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        impostor.bind(sock)
        impostor.listen(1)
        impostor.settimeout(0.2)
        st, out, dt = timed(g, f"echo again | nc -w 3 {DOC_ADDR} "
                            f"{ALLOWED_PORT}")
        check("echo:" not in out, "after walloff-net died: no network "
              f"({out.strip()!r})")
        try:
            impostor.accept()
            check(False, "QEMU reconnected to a new listener")
        except socket.timeout:
            check(True, "QEMU did not reconnect to a new listener")
        impostor.close()
        check(g.proc.poll() is None, "QEMU kept running without a peer")
    finally:
        g.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    recs = read_audit(audit_path)
    check(len(find(recs, "net-start")) == 1, "audit: net-start")
    d80 = find(recs, "net-deny", proto="tcp", src="10.0.2.15", dst=DOC_ADDR,
               port=DENIED_PORT, reason="no-rule")
    check(len(d80) >= 1 and d80[0]["details"]["tag"] is None and
          d80[0]["cell"] == "nettest", "audit: deny tcp 192.0.2.1:80")
    dh = find(recs, "net-deny", proto="tcp", dst="10.0.2.2", port=HOST_PORT,
              reason="host-access", tag="host")
    check(len(dh) >= 1, "audit: deny 10.0.2.2 tagged host")
    dd = find(recs, "net-deny", proto="udp", dst="10.0.2.3", port=53,
              reason="dns-none", tag="dns", name="walloff-test.example")
    check(len(dd) >= 1, "audit: DNS refusal with the name")
    ds = find(recs, "net-deny", proto="tcp", dst=DOC_ADDR, port=445,
              tag="domain")
    check(len(ds) >= 1, "audit: port 445 tagged domain")
    fo = find(recs, "net-flow-open", proto="tcp", dst=DOC_ADDR,
              port=ALLOWED_PORT)
    check(len(fo) == 1, "audit: allowed flow opened once")
    fc = find(recs, "net-flow-close", proto="tcp", dst=DOC_ADDR,
              port=ALLOWED_PORT)
    check(len(fc) == 1 and fc[0]["details"]["reason"] == "fin" and
          fc[0]["details"]["bytes_out"] >= len(PAYLOAD)
          and fc[0]["details"]["bytes_in"] >= len(PAYLOAD) + 5,
          "audit: allowed flow closed with byte counts "
          f"({fc[0]['details'] if fc else None})")
    check(not find(recs, "net-flow-open", port=DENIED_PORT),
          "audit: no flow opened to a denied port")


def main():
    guestlib.enter_netns(__file__)
    img = guestlib.guest_img(sys.argv)
    setup_netns()
    l80 = Listener(DOC_ADDR, DENIED_PORT)
    l8080 = Listener(DOC_ADDR, ALLOWED_PORT, echo=True)
    lhost = Listener("127.0.0.1", HOST_PORT)
    with tempfile.TemporaryDirectory(prefix="walloff-net-test-") as tmp:
        step_probe(img, l80)
        step_policy(img, tmp, l80, l8080, lhost)
    return tap_done()


if __name__ == "__main__":
    sys.exit(main())
