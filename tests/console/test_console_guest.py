#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Typing through the console proxy into the test guest.

The test guest (images-docs/) runs under bare QEMU with its VGA console on
a VNC unix socket behind walloff-console. A small RFB client speaks to
`walloff connect`'s local port, as any VNC viewer would:
  - with a view key it types `echo VIEW-TYPED-$((40+1)) >/dev/ttyS0`: the
    keys are dropped by the proxy (and counted in the audit record);
  - with an operate key it types `echo OP-TYPED-$((40+2)) >/dev/ttyS0`:
    the command runs, its output shows on the serial port.
Once OP-TYPED-42 is on the serial port the guest has consumed every key
typed before it, so the absence of VIEW-TYPED-41 then is a real check, not
a timeout.

Usage: test_console_guest.py WALLOFF WALLOFF_CONSOLE  (image from
$WALLOFF_GUEST_IMG; guestlib.py from tests/integration)
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

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import guestlib  # noqa: E402

# Under the sanitizer build LeakSanitizer's exit-time scan needs prctl(),
# which walloff-console's seccomp filter kills: keep ASan, skip the scan.
CONSOLE_ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=1")

WALLOFF, CONSOLE = sys.argv[1:3]
# Keys are paced like a typist's: the guest's i8042 holds only a few.
PACE = 0.02
SHIFTED = '~!@#$%^&*()_+{}|:"<>?'


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise guestlib.GuestError(f"port {port} never opened")


class Viewer:
    """A minimal RFB 3.8 viewer: handshake, then key events."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=15)
        assert self.recvn(12) == b"RFB 003.008\n"
        self.s.sendall(b"RFB 003.008\n")
        assert self.recvn(2) == b"\x01\x01"
        self.s.sendall(b"\x01")
        assert self.recvn(4) == b"\0\0\0\0"
        self.s.sendall(b"\x01")
        self.recvn(20)
        nl, = struct.unpack(">I", self.recvn(4))
        self.recvn(nl)

    def recvn(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("viewer connection closed")
            b += c
        return b

    def key(self, sym, down):
        self.s.sendall(struct.pack(">BBHI", 4, 1 if down else 0, 0, sym))

    def type(self, text):
        for ch in text:
            sym = 0xff0d if ch == "\n" else ord(ch)
            shift = ch.isupper() or ch in SHIFTED
            if shift:
                self.key(0xffe1, True)
            self.key(sym, True)
            self.key(sym, False)
            if shift:
                self.key(0xffe1, False)
            time.sleep(PACE)

    def close(self):
        self.s.close()


def main():
    img = guestlib.guest_img([])
    tmp = tempfile.mkdtemp(prefix="wo-cg-")
    procs = []
    try:
        keys = ""
        for name, role in (("op", "operate"), ("vw", "view")):
            r = subprocess.run([WALLOFF, "keygen", name, "--out",
                                f"{tmp}/{name}.key", "--role", role],
                               capture_output=True, text=True, check=True)
            keys += r.stdout
        with open(f"{tmp}/keys", "w") as f:
            f.write(keys)
        vnc = f"{tmp}/vnc.sock"
        with guestlib.Guest(img, nic="none",
                            extra=("-vnc", "unix:" + vnc)) as g:
            g.wait_ready(60)
            s = g.serial
            s.check("i=0; while [ ! -e /run/walloff-vga-ready ] && "
                    "[ $i -lt 200 ]; do usleep 50000; i=$((i+1)); done; "
                    "[ -e /run/walloff-vga-ready ]", timeout=15)
            port = free_port()
            audit = f"{tmp}/audit.jsonl"
            afd = os.open(audit, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                          0o600)
            rfd, wfd = os.pipe()
            os.makedirs(f"{tmp}/state", mode=0o700)
            con = subprocess.Popen(
                [CONSOLE, "--listen", f"127.0.0.1:{port}", "--vnc", vnc,
                 "--cell", "guest", "--keys", f"{tmp}/keys", "--state-dir",
                 f"{tmp}/state", "--audit-fd", str(afd), "--ready-fd",
                 str(wfd)], pass_fds=(afd, wfd), env=CONSOLE_ENV)
            procs.append(con)
            os.close(afd)
            os.close(wfd)
            if os.read(rfd, 1) != b"1":
                raise guestlib.GuestError("walloff-console did not start")
            os.close(rfd)
            env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp)

            def relay(key):
                lp = free_port()
                p = subprocess.Popen(
                    [WALLOFF, "connect", f"127.0.0.1:{port}", "--key",
                     f"{tmp}/{key}.key", "--port", str(lp)], env=env)
                procs.append(p)
                wait_port(lp, 15)
                return p, lp

            mark = len(s.buf)
            p, lp = relay("vw")
            v = Viewer(lp)
            v.type("\necho VIEW-TYPED-$((40+1)) >/dev/ttyS0\n")
            v.close()
            p.terminate()
            p.wait(10)

            p, lp = relay("op")
            v = Viewer(lp)
            for attempt in range(3):
                v.type("\necho OP-TYPED-$((40+2)) >/dev/ttyS0\n")
                try:
                    s.wait_for("OP-TYPED-42", 10, start=mark)
                    break
                except guestlib.GuestError:
                    if attempt == 2:
                        raise
            v.close()
            p.terminate()
            p.wait(10)
            if b"VIEW-TYPED-41" in s.buf[mark:]:
                raise guestlib.GuestError("view key typed into the guest")
            print("operate keys ran a command; view keys did not")

            end = time.monotonic() + 10
            while True:
                with open(audit) as f:
                    recs = [json.loads(x) for x in f if x.strip()]
                vw = [r["details"] for r in recs
                      if r["event"] == "console-session-close"
                      and r["details"]["key"] == "vw"
                      and r["details"]["dropped_key"] > 0]
                if vw or time.monotonic() > end:
                    break
                time.sleep(0.05)
            if not vw:
                raise guestlib.GuestError("view session's dropped keys "
                                          "not audited")
            print(f"view session audited: dropped_key={vw[-1]['dropped_key']}")
            con.terminate()
            con.wait(10)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("test_console_guest: OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (guestlib.GuestError, AssertionError, EOFError) as e:
        print(f"test_console_guest: FAIL: {e!r}")
        sys.exit(1)
