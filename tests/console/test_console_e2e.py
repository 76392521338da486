#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""End to end: QEMU (paused, no disk) behind walloff-console, reached with
`walloff connect`.

Checks, each against the audit log written by walloff-console:
  - an operate key takes a real, non-blank PNG screenshot;
  - through `walloff connect`'s local port, a VNC-speaking client with an
    operate key gets its keys forwarded, with a view key they are dropped
    and counted;
  - removing a key from the keys file ends that key's open session;
  - an unknown key, a wrong pinned server key, and a plain VNC client
    talking RFB straight to the TCP port all fail and are audited;
  - --max-handshakes caps concurrent handshakes;
  - QEMU itself listens on no TCP port.
Usage: test_console_e2e.py WALLOFF WALLOFF_CONSOLE QEMU
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

# Under the sanitizer build LeakSanitizer's exit-time scan needs prctl(),
# which walloff-console's seccomp filter kills: keep ASan, skip the scan.
CONSOLE_ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=1")

WALLOFF, CONSOLE, QEMU = sys.argv[1:4]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit("timed out waiting for " + what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def audit_records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def find_audit(path, event, **details):
    for r in audit_records(path):
        if r["event"] != event:
            continue
        if all(r["details"].get(k) == v for k, v in details.items()):
            return r
    return None


def png_pixels(path):
    """Decode our own PNG output (RGB, 8-bit, filter 0 rows)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        typ = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(typ + body) == crc, "bad CRC"
        if typ == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
            assert body[8:10] == b"\x08\x02"
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    assert len(raw) == (w * 3 + 1) * h
    return w, h, raw


def rfb_client(port, keys=0, pointers=0):
    """Speak RFB 3.8 to a local port, send input events, return ServerInit size."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)

    def recvn(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise EOFError("closed")
            b += c
        return b
    assert recvn(12) == b"RFB 003.008\n"
    s.sendall(b"RFB 003.008\n")
    assert recvn(2) == b"\x01\x01"
    s.sendall(b"\x01")
    assert recvn(4) == b"\0\0\0\0"
    s.sendall(b"\x01")
    w, h = struct.unpack(">HH", recvn(4))
    recvn(16)
    nl, = struct.unpack(">I", recvn(4))
    recvn(nl)
    for i in range(keys):
        s.sendall(struct.pack(">BBHI", 4, 1, 0, 0x61 + i))
        s.sendall(struct.pack(">BBHI", 4, 0, 0, 0x61 + i))
    for i in range(pointers):
        s.sendall(struct.pack(">BBHH", 5, 0, 10 + i, 10))
    # a request/response round trip proves our events were processed
    s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 8, 8))
    t = recvn(1)
    s.close()
    return w, h, t


def connect(*args, timeout=30):
    return subprocess.run([WALLOFF, "connect"] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def main():
    tmp = tempfile.mkdtemp(prefix="walloff-console-e2e-")
    env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp + "/config")
    os.environ.update(env)
    procs = []
    try:
        keys = {}
        for name, role in (("op", "operate"), ("vw", "view"),
                           ("stranger", "operate"), ("gone", "operate")):
            r = subprocess.run([WALLOFF, "keygen", name, "--out",
                                f"{tmp}/{name}.key", "--role", role],
                               capture_output=True, text=True, check=True)
            keys[name] = r.stdout
            check(oct(os.stat(f"{tmp}/{name}.key").st_mode & 0o777) ==
                  "0o600", f"keygen {name}: private key is 0600")
        r = subprocess.run([WALLOFF, "keygen", "op", "--out",
                            f"{tmp}/op.key"], capture_output=True, text=True)
        check(r.returncode != 0 and "not overwriting" in r.stderr,
              "keygen refuses to overwrite a key")
        keysfile = f"{tmp}/keys"
        with open(keysfile, "w") as f:
            f.write("# test keys\n" + keys["op"] + keys["vw"] + keys["gone"])

        vnc, serial = f"{tmp}/vnc.sock", f"{tmp}/serial.sock"
        qemu = subprocess.Popen(
            [QEMU, "-S", "-accel", "tcg", "-nodefaults", "-machine", "pc",
             "-vga", "std", "-display", "none", "-vnc", "unix:" + vnc,
             "-chardev", f"socket,id=s0,path={serial},server=on,wait=off",
             "-serial", "chardev:s0"],
            stdin=subprocess.DEVNULL)
        procs.append(qemu)
        wait_for(lambda: os.path.exists(vnc), 20, "QEMU's VNC socket")

        port = free_port()
        audit = f"{tmp}/audit.jsonl"
        afd = os.open(audit, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        rfd, wfd = os.pipe()
        os.makedirs(f"{tmp}/state", mode=0o700)
        console = subprocess.Popen(
            [CONSOLE, "--listen", f"127.0.0.1:{port}", "--vnc", vnc,
             "--serial", serial, "--cell", "e2e", "--keys", keysfile,
             "--state-dir", f"{tmp}/state", "--audit-fd", str(afd),
             "--ready-fd", str(wfd), "--handshake-timeout", "2",
             "--max-handshakes", "3"],
            pass_fds=(afd, wfd), env=CONSOLE_ENV)
        procs.append(console)
        os.close(afd)
        os.close(wfd)
        check(os.read(rfd, 1) == b"1", "walloff-console signals ready")
        os.close(rfd)
        st = os.stat(f"{tmp}/state/console.key")
        check(st.st_mode & 0o777 == 0o600, "server key created 0600")
        target = f"127.0.0.1:{port}"

        # 1. operate screenshot, trust on first use recorded
        shot = f"{tmp}/shot.png"
        r = connect(target, "--key", f"{tmp}/op.key", "--screenshot", shot)
        check(r.returncode == 0, "operate key takes a screenshot: " + r.stderr)
        check("first connection" in r.stderr and "SHA256:" in r.stderr,
              "first use shows the server fingerprint")
        w, h, raw = png_pixels(shot)
        check(w >= 320 and h >= 200, f"screenshot has a screen size ({w}x{h})")
        pixels = {raw[i:i + 3] for y in range(h)
                  for i in range(y * (w * 3 + 1) + 1, (y + 1) * (w * 3 + 1), 3)}
        check(len(pixels) > 1, "screenshot is not blank "
              f"({len(pixels)} colours)")
        check(find_audit(audit, "console-session-open", key="op",
                         role="operate") is not None, "session open audited")
        r = connect(target, "--key", f"{tmp}/op.key", "--screenshot", shot)
        check(r.returncode == 0 and "first connection" not in r.stderr,
              "second connection uses the pinned key")

        # 2. view vs operate through the local VNC port
        def viewer_session(key, nkeys, nptr):
            lport = free_port()
            p = subprocess.Popen([WALLOFF, "connect", target, "--key", key,
                                  "--port", str(lport)],
                                 stderr=subprocess.PIPE, text=True)
            procs.append(p)

            def up():
                try:
                    socket.create_connection(("127.0.0.1", lport), 0.2).close()
                    return True
                except OSError:
                    return False
            # the probe connection above counts as a short viewer session
            wait_for(up, 15, "walloff connect's local port")
            res = rfb_client(lport, nkeys, nptr)
            p.terminate()
            p.wait(10)
            return res
        n_before = len(audit_records(audit))
        w2, h2, t = viewer_session(f"{tmp}/vw.key", 3, 2)
        check(w2 == w and h2 == h and t == b"\0",
              "view key sees the screen through the local port")
        wait_for(lambda: find_audit(audit, "console-session-close", key="vw"),
                 10, "view session close record")
        rec = find_audit(audit, "console-session-close", key="vw")
        d = rec["details"]
        check(d["dropped_key"] == 6 and d["dropped_pointer"] == 2,
              f"view input dropped and audited ({d})")
        viewer_session(f"{tmp}/op.key", 3, 2)
        wait_for(lambda: [r for r in audit_records(audit)[n_before:]
                          if r["event"] == "console-session-close"
                          and r["details"]["key"] == "op"], 10,
                 "operate session close record")
        recs = [r for r in audit_records(audit)[n_before:]
                if r["event"] == "console-session-close"
                and r["details"]["key"] == "op"]
        check(all(r["details"]["dropped_key"] == 0 for r in recs)
              and recs[-1]["details"]["bytes_in"] > 100,
              "operate input is forwarded, not dropped")

        # 3. removing a key ends its session
        lport = free_port()
        p = subprocess.Popen([WALLOFF, "connect", target, "--key",
                              f"{tmp}/gone.key", "--port", str(lport)],
                             stderr=subprocess.PIPE, text=True)
        procs.append(p)
        wait_for(lambda: find_audit(audit, "console-session-open", key="gone"),
                 15, "session of the key to remove")
        with open(keysfile + ".new", "w") as f:
            f.write(keys["op"] + keys["vw"])
        os.rename(keysfile + ".new", keysfile)
        wait_for(lambda: find_audit(audit, "console-session-close",
                                    key="gone", reason="key removed"),
                 10, "session end after key removal")
        check(True, "removing a key ends its open session")
        p.wait(10)
        check(p.returncode != 0, "walloff connect exits when its key is removed")

        # 4. unknown key
        stranger_fpr = None
        r = connect(target, "--key", f"{tmp}/stranger.key", "--screenshot",
                    f"{tmp}/x.png")
        check(r.returncode != 0 and "not authorized" in r.stderr,
              "unknown key refused: " + r.stderr.strip())
        rec = find_audit(audit, "console-refused", reason="unknown key")
        check(rec is not None and rec["details"]["fingerprint"].startswith(
            "SHA256:"), "unknown key audited with its fingerprint")
        # 5. wrong server key (pinned in known-cells)
        kc = f"{tmp}/config/walloff/known-cells"
        with open(kc) as f:
            pinned = f.read()
        check(target in pinned, "known-cells records the cell")
        with open(kc, "w") as f:
            f.write(f"{target} AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")
        n_before = len(audit_records(audit))
        r = connect(target, "--key", f"{tmp}/op.key", "--screenshot",
                    f"{tmp}/x.png")
        check(r.returncode != 0 and "MISMATCH" in r.stderr,
              "changed server key refused loudly")
        wait_for(lambda: [r for r in audit_records(audit)[n_before:]
                          if r["event"] == "console-refused"], 10,
                 "refusal record for the aborted handshake")
        check(not [r for r in audit_records(audit)[n_before:]
                   if r["event"] == "console-session-open"],
              "no session opened with a wrong server key")
        # 6. plain VNC client on the TCP port
        n_before = len(audit_records(audit))
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.settimeout(1)
        try:
            banner = s.recv(12)
        except socket.timeout:
            banner = b""
        check(not banner.startswith(b"RFB"), "no RFB banner on the TCP port")
        s.sendall(b"RFB 003.008\n")
        s.settimeout(6)
        try:
            data = s.recv(100)
        except (socket.timeout, ConnectionResetError):
            data = b"timeout"
        check(data == b"", "plain VNC client is disconnected")
        s.close()
        wait_for(lambda: [r for r in audit_records(audit)[n_before:]
                          if r["event"] == "console-refused"], 10,
                 "refusal of the plain VNC client")
        rec = [r for r in audit_records(audit)[n_before:]
               if r["event"] == "console-refused"][0]
        check(rec["details"]["reason"] == "handshake timeout",
              f"plain VNC client audited ({rec['details']})")
        # 7. handshake cap
        n_before = len(audit_records(audit))
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        wait_for(lambda: find_audit(audit, "console-refused",
                                    reason="too many handshakes"),
                 10, "handshake cap refusal")
        check(True, "concurrent handshakes are capped")
        for s in socks:
            s.close()
        # 8. QEMU listens on no TCP port
        inodes = set()
        for fd in os.listdir(f"/proc/{qemu.pid}/fd"):
            try:
                link = os.readlink(f"/proc/{qemu.pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        listening = []
        for tab in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(tab) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A" and fields[9] in inodes:
                        listening.append(fields[1])
        check(not listening, "QEMU has no listening TCP socket")
        console.terminate()
        check(console.wait(10) == 0, "walloff-console stops cleanly on SIGTERM")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed:")
        for f in failures:
            print("  " + f)
        return 1
    print("all console end-to-end checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
