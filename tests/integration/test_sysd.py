#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""systemd integration of a real cell: Type=notify readiness and journald.

Plays systemd's two sockets: a NOTIFY_SOCKET (abstract name, as systemd
passes it) and a fake journal socket (WALLOFF_JOURNAL_SOCKET). Runs the test
guest through `walloff run` with walloff-net, and asserts that READY=1
arrives only once the audit log already holds the verification and the
`cont` ("running"), that QEMU and walloff-net never saw NOTIFY_SOCKET, that
STOPPING=1 comes with the stop, and that every audit record, from the
supervisor and from walloff-net alike, reached the journal as a well-formed
native-protocol entry with CELL=, EVENT= and the flat detail fields.
Output is TAP.
"""
import os
import re
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import celllib  # noqa: E402

NAME_RE = re.compile(rb"^[A-Z][A-Z0-9_]{0,63}$")


def decode(dgram):
    """Native journal protocol -> list of (name, value bytes); raises on junk."""
    fields, pos = [], 0
    while pos < len(dgram):
        nl = dgram.index(b"\n", pos)
        eq = dgram.find(b"=", pos, nl)
        if eq >= 0:
            name, val, pos = dgram[pos:eq], dgram[eq + 1:nl], nl + 1
        else:
            name = dgram[pos:nl]
            (n,) = struct.unpack("<Q", dgram[nl + 1:nl + 9])
            val = dgram[nl + 9:nl + 9 + n]
            if dgram[nl + 9 + n:nl + 10 + n] != b"\n":
                raise ValueError("binary field not terminated")
            pos = nl + 10 + n
        if not NAME_RE.match(name):
            raise ValueError(f"bad field name {name!r}")
        fields.append((name.decode(), val))
    return fields


def recv_until(sock, pred, deadline):
    """Datagrams until pred(datagram) is true; returns (all, match)."""
    got = []
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            d = sock.recv(65536)
        except socket.timeout:
            break
        got.append(d)
        if pred(d):
            return got, d
    return got, None


class Drain(threading.Thread):
    """Reads the fake journal as journald would: at once (the kernel
    queues only net.unix.max_dgram_qlen datagrams, 10 by default, and
    walloff drops what does not fit rather than wait)."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock, self.got, self.stop = sock, [], False
        sock.settimeout(0.1)

    def run(self):
        while not self.stop:
            try:
                self.got.append(self.sock.recv(65536))
            except socket.timeout:
                continue
            except OSError:
                return

    def finish(self):
        self.stop = True
        self.join(5)
        return self.got


def environ_of(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return [v.split(b"=", 1)[0].decode() for v in f.read().split(b"\0") if v]


def main():
    t = celllib.Checks()
    cell = celllib.Cell("it-sysd", network={
        "mode": "user", "nic": "e1000", "allow": "tcp 192.0.2.1:8080",
        "dns": "none", "host-access": "deny"})
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        nname = f"@walloff-it-notify-{os.getpid()}"
        notify.bind("\0" + nname[1:])
        jpath = os.path.join(cell.tmp, "journal.sock")
        journal.bind(jpath)
        os.chmod(jpath, 0o666)	# walloff-net runs unprivileged, as journald allows
        cell.env["NOTIFY_SOCKET"] = nname
        cell.env["WALLOFF_JOURNAL_SOCKET"] = jpath

        drain = Drain(journal)
        drain.start()
        cell.start()
        deadline = time.monotonic() + 90
        msgs, ready = recv_until(notify, lambda d: b"READY=1" in d, deadline)
        events_at_ready = cell.events()
        t.ok(ready is not None, "READY=1 arrives on NOTIFY_SOCKET", msgs)
        t.ok(ready and b"\nSTATUS=cell it-sysd running" in ready,
             "READY=1 carries a STATUS= line", ready)
        t.ok(not any(b"READY=1" in m for m in msgs[:-1]) and
             not any(b"STOPPING" in m for m in msgs),
             "nothing before READY=1 claims readiness or a stop", msgs)
        v = cell.first("verify")
        t.ok("verify" in events_at_ready and "running" in events_at_ready and
             events_at_ready.index("verify") < events_at_ready.index("running")
             and v["details"]["ok"] is True,
             "READY=1 only after the audit holds the passed verification and "
             "cont (running)", events_at_ready)

        qemu = cell.first("qemu-started")["details"]["pid"]
        net = cell.first("net-started")["details"]["pid"]
        qenv, nenv = environ_of(qemu), environ_of(net)
        t.ok("NOTIFY_SOCKET" not in qenv and "WALLOFF_JOURNAL_SOCKET" in qenv,
             "QEMU's environment has no NOTIFY_SOCKET", qenv)
        t.ok("NOTIFY_SOCKET" not in nenv and "WALLOFF_JOURNAL_SOCKET" in nenv,
             "walloff-net's environment has no NOTIFY_SOCKET", nenv)

        cell.proc.send_signal(signal.SIGINT)
        msgs, stopping = recv_until(notify, lambda d: b"STOPPING=1" in d,
                                    time.monotonic() + 20)
        t.ok(stopping is not None and b"STATUS=cell it-sysd stopping" in stopping,
             "STOPPING=1 (with STATUS=) when the stop begins", msgs)
        cell.proc.send_signal(signal.SIGINT)	# skip the guest's power-off
        rc = cell.wait(60)
        t.ok(rc in (0, 6), f"the cell stopped (exit {rc})", cell.output)

        entries, bad = [], []
        for d in drain.finish():
            try:
                entries.append(decode(d))
            except (ValueError, struct.error) as ex:
                bad.append((str(ex), d[:200]))
        t.ok(entries and not bad, f"{len(entries)} journal entries, all "
             "well-formed native protocol", bad)
        audit = cell.audit()
        jev = sorted(dict(e)["EVENT"].decode() for e in entries)
        aev = sorted(r["event"] for r in audit)
        t.ok(jev == aev, "every audit record reached the journal, and only "
             "those", f"journal {jev}\naudit   {aev}")
        running = [dict(e) for e in entries if dict(e)["EVENT"] == b"running"]
        r = running[0] if running else {}
        t.ok(r.get("CELL") == b"it-sysd" and
             r.get("SYSLOG_IDENTIFIER") == b"walloff" and
             r.get("PRIORITY") == b"5" and
             r.get("QEMU_PID") == str(qemu).encode() and
             r.get("MESSAGE", b"").startswith(b"running {"),
             "the running entry: CELL, SYSLOG_IDENTIFIER, PRIORITY, MESSAGE "
             "and the detail QEMU_PID", r)
        ns = [dict(e) for e in entries if dict(e)["EVENT"] == b"net-start"]
        t.ok(ns and ns[0].get("CELL") == b"it-sysd",
             "walloff-net's own records (sandboxed, unprivileged) reach the "
             "journal too", ns)
        once = all(sum(1 for n, _ in e if n == k) == 1 for e in entries
                   for k in ("MESSAGE", "PRIORITY", "CELL", "EVENT"))
        t.ok(once, "MESSAGE, PRIORITY, CELL and EVENT appear once per entry")
    finally:
        notify.close()
        journal.close()
        cell.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
