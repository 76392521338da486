#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Guest TCP download: walloff-net against QEMU's built-in user networking.

Same guest image, same run, same server: inside a network namespace this
script creates (unshare -n, so nothing leaves the machine), a server on
192.0.2.1:8080 sends SIZE_MB of data to whoever connects. The test guest
downloads it with busybox nc, first under plain `-nic user,model=e1000`
(QEMU's slirp sharing QEMU's main loop), then through walloff-net
(`--allow "tcp 192.0.2.1/32:8080"`, its own process). The time of each
download is measured around the guest command (serial round trip
included; it is the same for both). Prints MB/s and the ratio
walloff-net / QEMU user (>= 1.0 means walloff-net is not slower). Never
asserts timings.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import guestlib  # noqa: E402

ADDR, PORT = "192.0.2.1", 8080
SIZE_MB = int(os.environ.get("WALLOFF_BENCH_MB", "16"))
MAC = "52:54:00:12:34:56"
CHUNK = b"\xa5" * 65536


def serve():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ADDR, PORT))
    s.listen(4)

    def run():
        while True:
            c, _ = s.accept()
            try:
                for _ in range(SIZE_MB * 16):
                    c.sendall(CHUNK)
            except OSError:
                pass
            c.close()
    threading.Thread(target=run, daemon=True).start()


def download(img, nic, extra):
    g = guestlib.Guest(img, nic=nic, extra=extra)
    try:
        g.start()
        g.wait_ready(60)
        g.serial.wait_for(guestlib.DHCP_OK, 30)
        # warm-up: a first connection (ARP, slirp socket set-up)
        g.serial.run(f"nc -w 5 {ADDR} {PORT} </dev/null | head -c 1 "
                     ">/dev/null", 30)
        t0 = time.monotonic()
        st, out = g.serial.run(f"nc -w 10 {ADDR} {PORT} </dev/null | "
                               "wc -c", 600)
        dt = time.monotonic() - t0
        got = int(out.split()[-1])
        if got != SIZE_MB << 20:
            raise SystemExit(f"short download: {got} bytes ({out!r})")
        return dt
    finally:
        g.close()


def main():
    if os.environ.get("WALLOFF_TEST_NETNS") != "1":
        env = dict(os.environ, WALLOFF_TEST_NETNS="1")
        os.execvpe("unshare", ["unshare", "-n", "--", sys.executable,
                               os.path.abspath(__file__)], env)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", ADDR + "/32", "dev", "lo"],
                   check=True)
    img = guestlib.guest_img()
    serve()
    t_user = download(img, f"user,model=e1000,mac={MAC}", [])
    with tempfile.TemporaryDirectory(prefix="walloff-bench-") as tmp:
        sock = os.path.join(tmp, "net.sock")
        afd = os.open(os.path.join(tmp, "audit.jsonl"),
                      os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        r, w = os.pipe()
        net = subprocess.Popen(
            [os.environ["WALLOFF_NET"], "--socket", sock, "--cell", "bench",
             "--audit-fd", str(afd), "--ready-fd", str(w),
             "--allow", f"tcp {ADDR}/32:{PORT}"], pass_fds=(afd, w))
        os.close(w)
        os.close(afd)
        os.read(r, 1)
        os.close(r)
        try:
            t_net = download(img, "none", [
                "-netdev", "stream,id=n0,server=off,addr.type=unix,"
                f"addr.path={sock}",
                "-device", f"e1000,netdev=n0,mac={MAC}"])
        finally:
            net.terminate()
            net.wait(10)
    mb = float(SIZE_MB)
    print(f"net-download: {SIZE_MB} MiB into the guest (TCG)")
    print(f"  QEMU user net  {mb / t_user:7.2f} MiB/s  ({t_user:.2f} s)")
    print(f"  walloff-net    {mb / t_net:7.2f} MiB/s  ({t_net:.2f} s)")
    print(f"  ratio walloff-net / QEMU user: {t_user / t_net:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
