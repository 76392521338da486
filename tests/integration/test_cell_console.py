#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The console of a cell run by `walloff run`, from the user's side.

Re-executes itself under `unshare -n` so that the only TCP listeners are
ours. A cell with [console] runs the test guest; people get keys with
`walloff keygen`; `walloff connect` is the only way in:
* an operate key: a screenshot through the proxy is a real, non-blank PNG;
  keys typed through `walloff connect`'s local VNC port run a command on
  the guest's VGA console (seen from the guest: /dev/vcs1);
* a view key: the same keystrokes have no effect, and the dropped events
  are audited;
* an unknown key and a plain VNC client on the TCP port fail and are
  audited; a changed server key is refused by the client;
* nothing but walloff-console listens on TCP; QEMU has no TCP socket;
  walloff-console runs under seccomp, unprivileged.
Output is TAP.
"""
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "console"))
import celllib  # noqa: E402
import guestlib  # noqa: E402

PORT = 5931
LOCAL = 5977



def png_colours(path):
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0, 0
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        typ, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    cols = {raw[i:i + 3] for y in range(h)
            for i in range(y * (w * 3 + 1) + 1, (y + 1) * (w * 3 + 1), 3)}
    return w, h, len(cols)


def keysyms(text):
    out = []
    for ch in text:
        out.append(0xff0d if ch == "\n" else ord(ch))
    return out


def rfb_type(port, text):
    """RFB 3.8 client (security None inside the tunnel): type, then sync."""
    deadline = time.monotonic() + 20
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # `walloff connect` is still opening its port

    def recvn(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise EOFError("closed")
            b += c
        return b
    recvn(12)
    s.sendall(b"RFB 003.008\n")
    n = recvn(1)[0]
    recvn(n)
    s.sendall(b"\x01")
    recvn(4)
    s.sendall(b"\x01")
    recvn(20)
    nl, = struct.unpack(">I", recvn(4))
    recvn(nl)
    for k in keysyms(text):
        s.sendall(struct.pack(">BBHI", 4, 1, 0, k) + struct.pack(">BBHI", 4, 0, 0, k))
        # An update request round trip after each key paces the typing
        # like a person and proves the key went through the proxy.
        s.sendall(struct.pack(">BBHHHH", 3, 1, 0, 0, 8, 8))
        recvn(1)
        s.settimeout(0.05)
        try:
            while s.recv(65536):
                pass
        except (socket.timeout, BlockingIOError):
            pass
        s.settimeout(10)
    s.close()


def main():
    celllib.enter_netns(__file__)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    t = celllib.Checks()
    cell = celllib.Cell("it-con", console={
        "listen": f"127.0.0.1:{PORT}", "keys": "keys/authorized",
        "clipboard": "none"})
    procs = []
    try:
        home = os.path.join(cell.tmp, "home")
        os.makedirs(home)
        cell.env.update(HOME=home, XDG_CONFIG_HOME=home + "/config")
        lines = {}
        for name, role in (("alice", "operate"), ("bob", "view"),
                           ("root", "admin"), ("mallory", "operate")):
            r = cell.cmd("keygen", name, "--out", f"{home}/{name}.key",
                         "--role", role)
            lines[name] = r.stdout
        os.makedirs(os.path.join(cell.tmp, "keys"))
        kf = os.path.join(cell.tmp, "keys", "authorized")
        with open(kf, "w") as f:
            f.write(lines["alice"] + lines["bob"] + lines["root"])
        os.chmod(kf, 0o600)
        t.ok(cell.cmd("review", "--no-color", cell.profile).returncode in (0, 1),
             "review of the console cell has no FAIL")

        cell.start()
        ser = cell.serial(timeout=60)
        ser.wait_for(guestlib.READY, 90)
        cs = cell.first("console-started")
        t.ok(cs and cs["details"]["server_key"].startswith("SHA256:"),
             "audit: console started with its server key fingerprint", cs)
        target = f"127.0.0.1:{PORT}"

        shot = os.path.join(cell.tmp, "shot.png")
        r = cell.cmd("connect", target, "--key", f"{home}/alice.key",
                     "--screenshot", shot)
        w, h, cols = png_colours(shot)
        t.ok(r.returncode == 0 and w >= 640 and cols > 1,
             f"operate: screenshot through the proxy is real ({w}x{h}, "
             f"{cols} colours)", r.stderr)

        for who, word, expect in (("alice", "vncoperate", True),
                                  ("bob", "vncview", False)):
            p = subprocess.Popen([cell.walloff, "connect", target, "--key",
                                  f"{home}/{who}.key", "--port", str(LOCAL)],
                                 env=cell.env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            procs.append(p)
            rfb_type(LOCAL, f"echo {word}\n")
            p.terminate()
            p.wait(10)
            st, out = ser.run("cat /dev/vcs1 | tr -s ' ' '\\n' | grep -c "
                              f"'^{word}$' || true")
            n = int(out.strip() or "0")
            if expect:
                t.ok(n >= 2, "operate: keys typed through the proxy ran a "
                     "command on the VGA console", out)
            else:
                t.ok(n == 0, "view: keys typed through the proxy had no effect",
                     out)
        deadline = time.monotonic() + 10
        close = None
        while time.monotonic() < deadline and not close:
            close = [r["details"] for r in cell.audit()
                     if r["event"] == "console-session-close"
                     and r["details"].get("key") == "bob"]
        t.ok(close and close[0]["dropped_key"] > 0,
             "view: dropped key events are audited", close)

        r = cell.cmd("connect", target, "--key", f"{home}/mallory.key",
                     "--screenshot", shot)
        ref = [x for x in cell.audit() if x["event"] == "console-refused"]
        t.ok(r.returncode != 0 and ref and
             ref[-1]["details"]["fingerprint"].startswith("SHA256:"),
             "unknown key refused and audited with its fingerprint", r.stderr)

        n0 = len(cell.audit())
        s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        s.settimeout(2)
        try:
            banner = s.recv(12)
        except socket.timeout:
            banner = b""
        s.sendall(b"RFB 003.008\n")
        s.close()
        t.ok(not banner.startswith(b"RFB"),
             "a plain VNC client gets no RFB from the TCP port", banner)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not [
                x for x in cell.audit()[n0:] if x["event"] == "console-refused"]:
            time.sleep(0.1)
        t.ok([x for x in cell.audit()[n0:] if x["event"] == "console-refused"],
             "the plain VNC attempt is audited")

        kc = os.path.join(home, "config", "walloff", "known-cells")
        with open(kc, "w") as f:
            f.write(f"{target} AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")
        r = cell.cmd("connect", target, "--key", f"{home}/alice.key",
                     "--screenshot", shot)
        t.ok(r.returncode != 0 and "MISMATCH" in r.stderr,
             "a changed server key is refused loudly", r.stderr)

        with open("/proc/net/tcp") as f:
            listen = [int(l.split()[1].split(":")[1], 16)
                      for l in f.readlines()[1:] if l.split()[3] == "0A"]
        t.ok(listen == [PORT], "only walloff-console listens on TCP", listen)
        qemu = cell.first("qemu-started")["details"]["pid"]
        fds = os.listdir(f"/proc/{qemu}/fd")
        inodes = {os.readlink(f"/proc/{qemu}/fd/{x}") for x in fds}
        with open("/proc/net/tcp") as f:
            tcp = {"socket:[%s]" % l.split()[9] for l in f.readlines()[1:]}
        t.ok(not (inodes & tcp), "QEMU holds no TCP socket")
        con = cs["details"]["pid"]
        bad = celllib.confinement_problems(con)
        t.ok(not bad, "walloff-console runs as the cell user, no "
             "capabilities, no_new_privs, seccomp", bad)
        lis = cell.first("console-listen")["details"]
        t.ok(lis.get("landlock") == celllib.landlock_expected() and
             lis.get("seccomp") == "SECCOMP_CONSOLE",
             "audit: the console's listen record says what confines it", lis)

        cell.cmd("stop", "it-con", timeout=90)
        t.ok(cell.wait(60) == 0, "cell stops cleanly", cell.output)
    except Exception as e:
        t.ok(False, "unexpected error", f"{e!r}\n{getattr(cell, 'output', '')}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        cell.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
