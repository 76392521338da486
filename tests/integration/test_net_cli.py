#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""walloff-net's process contract, with this script playing QEMU.

Theory of operation: no guest and no slirp traffic to anywhere (and the
script re-executes itself under `unshare -n` to make sure). The script
starts walloff-net the way the supervisor does (audit fd, ready fd, stats
socket), connects to its socket as QEMU's stream netdev would, and speaks
the framing itself (4-byte big-endian length + Ethernet frame):

* bad command lines are refused with exit status 1 before anything listens;
* the ready byte arrives, the process runs as walloff (or nobody, where
  scripts/install-deps.sh did not create walloff; we are root) with
  no_new_privs, a seccomp filter and no capabilities, and says in its
  net-start record that Landlock is enforced (or unavailable);
* a denied SYN is answered by a RST, a DNS query with --dns none by a
  REFUSED answer, both framed correctly and checksummed;
* hostile frames (fragment, spoofed source, IPv6, runt) are dropped and
  counted, visible through the stats socket;
* a second client cannot attach; closing the connection makes walloff-net
  exit 0 after writing its summary records;
* a frame length QEMU can never send ends walloff-net with status 1;
* with --dns allowlist, a listed name goes to slirp, another is REFUSED.
"""

import json
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

failures = []
results = []
NET = os.environ.get("WALLOFF_NET")
GM = bytes.fromhex("525400123456")
GW = bytes.fromhex("52550a000202")
G = "10.0.2.15"


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


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip(a):
    return socket.inet_aton(a)


def ipv4(proto, src, dst, l4, frag=0x4000):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, frag, 64,
                    proto, 0, ip(src), ip(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4


def l4sum(proto, src, dst, seg, off):
    ph = ip(src) + ip(dst) + struct.pack("!BBH", 0, proto, len(seg))
    return seg[:off] + struct.pack("!H", csum(ph + seg)) + seg[off + 2:]


def tcp_syn(dst, dport, src=G):
    s = struct.pack("!HHIIBBHHH", 40000, dport, 1000, 0, 0x50, 2, 8192, 0, 0)
    return GW + GM + b"\x08\x00" + ipv4(6, src, dst, l4sum(6, src, dst, s,
                                                             16))


def udp(dst, sport, dport, data):
    s = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    return GW + GM + b"\x08\x00" + ipv4(17, G, dst, l4sum(17, G, dst, s, 6))


def dnsq(name):
    q = struct.pack("!HHHHHH", 0x4242, 0x100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", 1, 1)


def send_frame(s, f):
    s.sendall(struct.pack("!I", len(f)) + f)


_pending = {}


def recv_frame(s, timeout=5.0):
    """Next frame from s; bytes past it are kept for the next call."""
    deadline = time.monotonic() + timeout
    buf = _pending.get(s.fileno(), b"")
    while True:
        if len(buf) >= 4:
            n = struct.unpack("!I", buf[:4])[0]
            if len(buf) >= 4 + n:
                _pending[s.fileno()] = buf[4 + n:]
                return buf[4:4 + n]
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            _pending[s.fileno()] = buf
            return None
        chunk = s.recv(65536)
        if not chunk:
            _pending[s.fileno()] = buf
            return None
        buf += chunk


def recv_matching(s, pred, timeout=5.0):
    """First frame for which pred() holds (slirp may send others)."""
    deadline = time.monotonic() + timeout
    while True:
        f = recv_frame(s, max(0.01, deadline - time.monotonic()))
        if f is None:
            return None
        if pred(f):
            return f


def start(tmp, extra, audit_name="audit.jsonl"):
    audit = os.path.join(tmp, audit_name)
    afd = os.open(audit, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    r, w = os.pipe()
    sock = os.path.join(tmp, "net.sock")
    stats = os.path.join(tmp, "stats.sock")
    p = subprocess.Popen([NET, "--socket", sock, "--cell", "clitest",
                          "--audit-fd", str(afd), "--ready-fd", str(w),
                          "--stats", stats] + extra,
                         pass_fds=(afd, w), stderr=subprocess.PIPE)
    os.close(w)
    os.close(afd)
    rl, _, _ = select.select([r], [], [], 10)
    ready = os.read(r, 1) if rl else b""
    os.close(r)
    return p, sock, stats, audit, ready


def stats_of(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    data = b""
    while True:
        c = s.recv(4096)
        if not c:
            break
        data += c
    s.close()
    return json.loads(data)


def records(path):
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip()]


def test_bad_args(tmp):
    afd = os.open(os.path.join(tmp, "bad.jsonl"),
                  os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    base = [NET, "--socket", os.path.join(tmp, "bad.sock"), "--cell", "x",
            "--audit-fd", str(afd)]
    for extra, why in ((["--allow", "tcp 10.0.0.1"], "rule without port"),
                       (["--allow", "tcp 010.0.0.1:80"], "octal address"),
                       (["--dns-allow", "a.example"], "dns-allow w/o list"),
                       (["--dns", "all"], "bad --dns"),
                       (["--dns", "allowlist", "--dns-allow", "a b"],
                        "bad name"),
                       (["--host-access", "yes"], "bad --host-access")):
        p = subprocess.run(base + extra, pass_fds=(afd,),
                           capture_output=True, text=True, timeout=10)
        check(p.returncode == 1 and "walloff-net:" in p.stderr,
              f"refused: {why} ({p.stderr.strip()[:70]!r})")
    p = subprocess.run([NET, "--socket", "x", "--cell", "x", "--audit-fd",
                        "999"], capture_output=True, text=True, timeout=10)
    check(p.returncode == 1, "refused: audit fd not open")
    os.close(afd)
    check(not os.path.exists(os.path.join(tmp, "bad.sock")),
          "nothing listens after a refused command line")


def dropped_uid():
    """Whom walloff-net becomes when started as root without --user."""
    import pwd
    try:
        return pwd.getpwnam("walloff").pw_uid
    except KeyError:
        return pwd.getpwnam("nobody").pw_uid


def landlock_expected():
    import ctypes
    abi = ctypes.CDLL(None).syscall(444, None, 0, 1)
    return f"enforced (ABI {abi})" if abi > 0 else "unavailable"


def test_session(tmp):
    p, sock, stats, audit, ready = start(
        tmp, ["--allow", "tcp 192.0.2.1/32:8080", "--dns", "none"])
    try:
        check(ready == b"\x01", "ready byte")
        with open(f"/proc/{p.pid}/status") as f:
            status = dict(x.split(":", 1) for x in f.read().splitlines()
                          if ":" in x)
        uid = status.get("Uid", "").split()
        want = str(dropped_uid())
        check(uid == [want] * 4, f"runs as walloff/nobody ({uid}, {want})")
        check(all(int(status.get(c, "1"), 16) == 0 for c in
                  ("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd")),
              "no capabilities")
        check(status.get("Groups", "").strip() == "",
              "no supplementary groups")
        check(status.get("NoNewPrivs", "").strip() == "1", "no_new_privs")
        check(status.get("Seccomp", "").strip() == "2",
              "seccomp filter installed")
        st = stats_of(stats)
        check(st["allowed"] == 0, "stats served before QEMU connects")

        q = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        q.connect(sock)
        _pending.pop(q.fileno(), None)
        # a denied SYN: RST|ACK back, swapped tuple, valid checksums
        send_frame(q, tcp_syn("192.0.2.1", 80))
        rst = recv_matching(q, lambda f: f[23:24] == b"\x06")
        ok = rst is not None and rst[:6] == GM and rst[6:12] == GW
        if ok:
            iph, tcph = rst[14:34], rst[34:54]
            ok = (csum(iph) == 0 and iph[12:16] == ip("192.0.2.1") and
                  tcph[13] == 0x14 and struct.unpack("!I", tcph[8:12])[0] ==
                  1001 and csum(ip("192.0.2.1") + ip(G) +
                                struct.pack("!BBH", 0, 6, 20) + tcph) == 0)
        check(ok, "denied SYN answered with a valid RST|ACK")

        send_frame(q, udp("10.0.2.3", 5353, 53, dnsq("secret.example")))
        ans = recv_matching(q, lambda f: f[23:24] == b"\x11")
        check(ans is not None and ans[42:44] == b"\x42\x42" and
              ans[45] & 0x0f == 5 and ans[34:36] == b"\x00\x35",
              "DNS query answered REFUSED by walloff-net")

        # hostile frames: dropped silently, counted
        frag = bytearray(tcp_syn("192.0.2.1", 8080))
        frag[20] = 0x20
        frag[24:26] = b"\0\0"
        frag[24:26] = struct.pack("!H", csum(bytes(frag[14:34])))
        send_frame(q, bytes(frag))
        send_frame(q, tcp_syn("192.0.2.1", 8080, src="10.0.2.99"))
        send_frame(q, GW + GM + b"\x86\xdd" + b"\x60" + b"\0" * 39)
        send_frame(q, b"\x01\x02\x03")
        send_frame(q, tcp_syn("192.0.2.1", 445))
        recv_matching(q, lambda f: f[23:24] == b"\x06" and
                      f[34:36] == b"\x01\xbd")
        st = stats_of(stats)
        d = st["dropped_by_reason"]
        check(d["ip-fragment"] == 1 and d["ip-spoof"] == 1 and
              d["non-ipv4"] >= 1 and d["runt"] == 1,
              f"drops counted by reason ({ {k: v for k, v in d.items() if v} })")
        check(st["denied"] == 3 and st["dns_refused"] == 1 and
              st["rst_sent"] == 2, f"deny counters ({st['denied']} denied)")

        # exactly one QEMU: a second client is not served
        q2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            q2.connect(sock)
            q2.settimeout(1)
            send_frame(q2, tcp_syn("192.0.2.1", 80))
            second = q2.recv(100)
        except (ConnectionRefusedError, FileNotFoundError, OSError):
            second = b""
        q2.close()
        check(second == b"", "a second client gets nothing")

        q.close()
        rc = p.wait(10)
        check(rc == 0, f"exits 0 when QEMU closes ({rc})")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    recs = records(audit)
    ev = [r["event"] for r in recs]
    check(ev[0] == "net-start" and ev[1] == "net-connected" and
          ev[-1] == "net-exit", f"record order ({ev})")
    check(all(r["cell"] == "clitest" for r in recs), "cell on every record")
    st = recs[0]["details"]
    check(st.get("landlock") == landlock_expected() and
          st.get("seccomp") == "SECCOMP_NET" and st.get("uid") == dropped_uid(),
          f"net-start says what confines it ({st})")
    deny = [r["details"] for r in recs if r["event"] == "net-deny"]
    check(any(d["port"] == 445 and d["tag"] == "domain" for d in deny),
          "445 denial tagged domain")
    check(any(d.get("name") == "secret.example" and d["reason"] == "dns-none"
              for d in deny), "DNS refusal audited with the name")
    drop = [r["details"]["dropped"] for r in recs if r["event"] == "net-drop"]
    check(drop and drop[-1].get("ip-fragment") == 1, "net-drop summary")
    ex = recs[-1]["details"]
    check(ex["reason"] == "peer-closed" and ex["stats"]["denied"] == 3,
          "net-exit with reason and counters")


def test_dns_allowlist(tmp):
    p, sock, stats, audit, ready = start(
        tmp, ["--dns", "allowlist", "--dns-allow", "ok.example"],
        "audit3.jsonl")
    try:
        q = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        q.connect(sock)
        _pending.pop(q.fileno(), None)
        # the allowed name goes to slirp (whose forwarder has nowhere to
        # go inside this namespace); the other one is REFUSED by us
        send_frame(q, udp("10.0.2.3", 5353, 53, dnsq("ok.example")))
        send_frame(q, udp("10.0.2.3", 5354, 53, dnsq("bad.example")))
        ans = recv_matching(q, lambda f: f[23:24] == b"\x11" and
                            f[34:36] == b"\x00\x35")
        check(ans is not None and ans[36:38] == b"\x14\xea" and
              ans[45] & 0x0f == 5, "name off the allowlist REFUSED")
        st = stats_of(stats)
        check(st["dns_allowed"] == 1 and st["dns_refused"] == 1,
              f"allowlisted name passed to slirp ({st['dns_allowed']} "
              f"allowed, {st['dns_refused']} refused)")
        q.close()
        rc = p.wait(10)
        err = p.stderr.read().decode()
        check(rc == 0, f"exits 0 ({rc}, {err[-300:]!r})")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    deny = [r["details"] for r in records(audit) if r["event"] == "net-deny"]
    check([d.get("name") for d in deny] == ["bad.example"] and
          deny[0]["reason"] == "dns-name", "only the refused name audited")


def test_bad_length(tmp):
    p, sock, stats, audit, ready = start(tmp, [], "audit2.jsonl")
    try:
        q = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        q.connect(sock)
        _pending.pop(q.fileno(), None)
        q.sendall(struct.pack("!I", 0x7fffffff) + b"x" * 16)
        rc = p.wait(10)
        err = p.stderr.read().decode()
        check(rc == 1 and "frame length" in err,
              f"impossible frame length ends walloff-net ({rc}, {err!r})")
        q.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    recs = records(audit)
    check(recs[-1]["event"] == "net-exit" and
          "frame length" in recs[-1]["details"]["reason"],
          "net-exit records the error")


def main():
    # nothing here should pass the policy, but if it did, it stays inside
    # a network namespace of our own
    guestlib.enter_netns(__file__)
    if not NET:
        print("WALLOFF_NET is not set")
        return 1
    with tempfile.TemporaryDirectory(prefix="walloff-net-cli-") as tmp:
        os.chmod(tmp, 0o755)
        test_bad_args(tmp)
        test_session(tmp)
        os.unlink(os.path.join(tmp, "net.sock"))
        os.unlink(os.path.join(tmp, "stats.sock"))
        test_bad_length(tmp)
        os.unlink(os.path.join(tmp, "net.sock"))
        os.unlink(os.path.join(tmp, "stats.sock"))
        test_dns_allowlist(tmp)
    return tap_done()


if __name__ == "__main__":
    sys.exit(main())
