# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for integration tests that boot the walloff test guest.

Theory of operation: the guest (images-docs/) prints fixed markers on its
serial port (WALLOFF-GUEST-READY, -DHCP-OK <ip> / -DHCP-FAIL, -POWEROFF) and
runs a root shell there. Tests talk to it through a unix socket:

* Serial keeps a transcript of everything received since it connected.
  wait_for() reads with a deadline until a marker shows up in the transcript
  (no sleeps). run() types one line that prints a unique begin marker, evals
  the command, then prints a unique end marker with $?; the markers are built
  with printf from two halves, so the shell's echo of the typed line never
  contains them. Asynchronous marker lines (DHCP, POWEROFF) that land inside
  a command's output are cut out of it (they stay in the transcript).
* Qmp is a minimal QMP client: greeting, qmp_capabilities, execute() with
  ids, and events queued for wait_event().
* qemu_argv()/Guest start bare QEMU the way the profile "pc + IDE + e1000"
  would (TCG, -nodefaults), paused with -S until serial and QMP are
  connected, so no early output is lost.

Standard library only. The image path comes from the WALLOFF_GUEST_IMG
environment variable (set by meson) or guest_img(argv).
"""

import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

READY = "WALLOFF-GUEST-READY"
DHCP_OK = "WALLOFF-GUEST-DHCP-OK"
DHCP_FAIL = "WALLOFF-GUEST-DHCP-FAIL"
POWEROFF = "WALLOFF-GUEST-POWEROFF"
PROMPT = "walloff-guest# "

# Marker lines the guest prints on its own; cut out of run() output.
_ASYNC_LINE = re.compile(
    rb"WALLOFF-GUEST-(?:DHCP-OK [0-9.]+|DHCP-FAIL|POWEROFF)\r?\n")

# Upper bound on what one read takes from a socket.
_READ_CHUNK = 65536


class GuestError(Exception):
    """A marker, command or QMP reply did not arrive as expected."""


def guest_img(argv=None):
    """Path of the guest image: argv[1] if given, else $WALLOFF_GUEST_IMG."""
    if argv and len(argv) > 1:
        return argv[1]
    img = os.environ.get("WALLOFF_GUEST_IMG")
    if not img:
        raise GuestError("WALLOFF_GUEST_IMG is not set (run through meson "
                         "test, or pass the image path)")
    return img


def qemu_binary():
    return os.environ.get("WALLOFF_QEMU", "/usr/bin/qemu-system-x86_64")


def _connect_unix(path, deadline):
    """Connect to a unix socket, retrying until it exists or the deadline."""
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() >= deadline:
                raise GuestError(f"cannot connect to {path}")
            # The socket file is created by QEMU shortly after exec; poll it.
            select.select([], [], [], 0.02)


def enter_netns(script):
    """Re-execute @script in a fresh network namespace (once): the test's
    only network is then the one it builds itself."""
    if os.environ.get("WALLOFF_TEST_NETNS") == "1":
        return
    env = dict(os.environ, WALLOFF_TEST_NETNS="1")
    os.execvpe("unshare", ["unshare", "-n", "--", sys.executable,
                           os.path.abspath(script)] + sys.argv[1:], env)


class Serial:
    """The guest's serial port on a unix socket, with a full transcript."""

    def __init__(self, path, timeout=10.0, log=None):
        self.sock = _connect_unix(path, time.monotonic() + timeout)
        self.buf = bytearray()
        self.eof = False
        self.log = log

    def close(self):
        self.sock.close()

    def _fill(self, deadline):
        """Read what is available, waiting at most until deadline."""
        left = deadline - time.monotonic()
        if left <= 0 or self.eof:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        data = self.sock.recv(_READ_CHUNK)
        if not data:
            self.eof = True
            return False
        self.buf += data
        if self.log:
            self.log.write(data.decode("utf-8", "replace"))
            self.log.flush()
        return True

    def text(self, start=0):
        """Transcript from byte offset start, decoded, CRs removed."""
        return self.buf[start:].decode("utf-8", "replace").replace("\r", "")

    def wait_for(self, marker, timeout, start=0):
        """Wait until marker appears in the transcript at/after start.

        Returns the rest of the line from the marker on (no CR/LF), e.g.
        "WALLOFF-GUEST-DHCP-OK 10.0.2.15". Raises
        GuestError on timeout or when the port closes first.
        """
        m = marker.encode()
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(m, start)
            if i >= 0:
                hi = self.buf.find(b"\n", i)
                if hi >= 0 or self.eof or time.monotonic() >= deadline:
                    hi = hi if hi >= 0 else len(self.buf)
                    return self.buf[i:hi].decode(
                        "utf-8", "replace").rstrip("\r")
            if not self._fill(deadline) and i < 0 and (
                    self.eof or time.monotonic() >= deadline):
                why = ("port closed" if self.eof
                       else f"timeout after {timeout}s")
                raise GuestError(f"{why} waiting for {marker!r}; last "
                                 "output:\n" +
                                 self.text(max(0, len(self.buf) - 600)))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def run(self, cmd, timeout=10.0):
        """Run one shell command line in the guest.

        Returns (status, output): the exit status and everything the
        command wrote to the serial port, with LF line ends.
        """
        if "\n" in cmd:
            raise ValueError("run() takes a single line")
        tag = uuid.uuid4().hex[:12]
        quoted = "'" + cmd.replace("'", "'\\''") + "'"
        line = (f"printf '\\n%s%s\\n' WOB_ {tag}; eval {quoted}; "
                f"printf '\\n%s%s %s\\n' WOE_ {tag} \"$?\"\n")
        start = len(self.buf)
        self.send(line)
        begin = f"WOB_{tag}".encode()
        end = re.compile(rb"\r?\nWOE_" + tag.encode() + rb" (\d+)\r?\n")
        deadline = time.monotonic() + timeout
        while True:
            b = self.buf.find(begin, start)
            if b >= 0:
                nl = self.buf.find(b"\n", b)
                m = end.search(self.buf, nl) if nl >= 0 else None
                if m:
                    out = bytes(self.buf[nl + 1:m.start()])
                    out = _ASYNC_LINE.sub(b"", out)
                    return (int(m.group(1)),
                            out.decode("utf-8", "replace").replace("\r", ""))
            if not self._fill(deadline) and (
                    self.eof or time.monotonic() >= deadline):
                raise GuestError(f"command {cmd!r} did not finish in "
                                 f"{timeout}s; output:\n" + self.text(start))

    def check(self, cmd, timeout=10.0):
        """run() that raises unless the command exits 0; returns output."""
        status, out = self.run(cmd, timeout)
        if status != 0:
            raise GuestError(f"{cmd!r} exited {status}: {out}")
        return out


class Qmp:
    """Minimal QMP client: capabilities negotiation, commands, events."""

    def __init__(self, path, timeout=10.0):
        deadline = time.monotonic() + timeout
        self.sock = _connect_unix(path, deadline)
        self.rbuf = bytearray()
        self.events = []
        self.next_id = 1
        greeting = self._read_msg(deadline)
        if "QMP" not in greeting:
            raise GuestError(f"bad QMP greeting {greeting}")
        self.execute("qmp_capabilities", timeout=timeout)

    def close(self):
        self.sock.close()

    def _read_msg(self, deadline):
        while True:
            nl = self.rbuf.find(b"\n")
            if nl >= 0:
                line = bytes(self.rbuf[:nl]).strip()
                del self.rbuf[:nl + 1]
                if line:
                    return json.loads(line)
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError("QMP timeout")
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                raise GuestError("QMP timeout")
            data = self.sock.recv(_READ_CHUNK)
            if not data:
                raise GuestError("QMP connection closed")
            self.rbuf += data

    def execute(self, cmd, arguments=None, timeout=10.0):
        """Run a QMP command; returns its "return" value, raises on error."""
        msg = {"execute": cmd, "id": self.next_id}
        self.next_id += 1
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_msg(deadline)
            if "event" in reply:
                self.events.append(reply)
                continue
            if reply.get("id") != msg["id"]:
                continue
            if "error" in reply:
                raise GuestError(f"QMP {cmd}: {reply['error']}")
            return reply.get("return")

    def wait_event(self, name, timeout=10.0):
        """Return the first queued or arriving event called name."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev["event"] == name:
                    return self.events.pop(i)
            msg = self._read_msg(deadline)
            if "event" in msg:
                self.events.append(msg)


# US keyboard: character -> (QEMU qcode, shift held).
_QCODES = {" ": ("spc", False), "\n": ("ret", False), "-": ("minus", False),
           "_": ("minus", True), "=": ("equal", False), "+": ("equal", True),
           ".": ("dot", False), ">": ("dot", True), ",": ("comma", False),
           "<": ("comma", True), "/": ("slash", False), "?": ("slash", True),
           ";": ("semicolon", False), ":": ("semicolon", True),
           "'": ("apostrophe", False), '"': ("apostrophe", True),
           "|": ("backslash", True), "*": ("8", True), "$": ("4", True),
           "(": ("9", True), ")": ("0", True), "&": ("7", True)}


def type_keys(qmp, text, pace=0.02):
    """Type text on the guest's PS/2 keyboard (the VGA console) over QMP.

    The emulated i8042 holds only a few scancodes; a guest that is slow to
    drain it (a loaded TCG host) loses keys typed faster than a person
    would. There is no event for "key consumed", so keys are paced like a
    typist's; callers that must not depend on it check the effect and
    retype (see test_guest_console.py).
    """
    for ch in text:
        if ch.isascii() and (ch.isdigit() or ch.islower()):
            code, shift = ch, False
        elif ch.isascii() and ch.isupper():
            code, shift = ch.lower(), True
        elif ch in _QCODES:
            code, shift = _QCODES[ch]
        else:
            raise ValueError(f"cannot type {ch!r}")
        keys = ([("shift", True)] if shift else []) + [(code, True),
                                                       (code, False)]
        keys += [("shift", False)] if shift else []
        qmp.execute("input-send-event", {"events": [
            {"type": "key", "data": {"down": down, "key": {
                "type": "qcode", "data": k}}} for k, down in keys]})
        time.sleep(pace)


def _opt(value):
    """Escape a value for a QEMU comma-separated option (',' -> ',,')."""
    return str(value).replace(",", ",,")


def qemu_argv(img, serial_path, qmp_path, nic="none", paused=True,
              extra=()):
    """Argv of bare QEMU running the guest like an XP-era PC.

    nic: "none", "user" (slirp, restrict=on, e1000) or a full -nic value.
    """
    argv = [
        qemu_binary(), "-accel", "tcg", "-nodefaults", "-no-user-config",
        "-machine", "pc", "-m", "128", "-display", "none", "-vga", "std",
        "-rtc", "base=localtime",
        "-chardev",
        f"socket,id=ser0,path={_opt(serial_path)},server=on,wait=off",
        "-serial", "chardev:ser0",
        "-drive", f"if=none,id=d0,file={_opt(img)},format=raw,snapshot=on",
        "-device", "ide-hd,drive=d0,bus=ide.0,unit=0",
        "-qmp", f"unix:{_opt(qmp_path)},server=on,wait=off",
    ]
    if nic == "none":
        argv += ["-nic", "none"]
    elif nic == "user":
        argv += ["-nic", "user,model=e1000,restrict=on"]
    else:
        argv += ["-nic", nic]
    if paused:
        argv.append("-S")
    return argv + list(extra)


class Guest:
    """Bare QEMU running the test guest, with serial and QMP connected.

    Use as a context manager; on exit QEMU is killed if it still runs and
    the temporary directory is removed. Set verbose (or WALLOFF_TEST_VERBOSE)
    to copy the serial transcript to stderr.
    """

    def __init__(self, img, nic="none", extra=(), verbose=None):
        self.img = img
        self.nic = nic
        self.extra = extra
        if verbose is None:
            verbose = bool(os.environ.get("WALLOFF_TEST_VERBOSE"))
        self.verbose = verbose
        self.dir = None
        self.proc = None
        self.serial = None
        self.qmp = None
        self.t_start = None

    def start(self, timeout=10.0):
        """Start QEMU paused, connect serial and QMP, then let it run."""
        self.dir = tempfile.mkdtemp(prefix="walloff-guest-")
        ser = os.path.join(self.dir, "serial.sock")
        qmp = os.path.join(self.dir, "qmp.sock")
        argv = qemu_argv(self.img, ser, qmp, self.nic, True, self.extra)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        self.serial = Serial(ser, deadline - time.monotonic(),
                             sys.stderr if self.verbose else None)
        self.qmp = Qmp(qmp, max(0.1, deadline - time.monotonic()))
        self.t_start = time.monotonic()
        self.qmp.execute("cont")
        return self

    def wait_ready(self, timeout=30.0):
        """Wait for WALLOFF-GUEST-READY; returns seconds since cont."""
        self.serial.wait_for(READY, timeout)
        return time.monotonic() - self.t_start

    def wait_exit(self, timeout):
        """Wait for QEMU to exit by itself; returns its exit code."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise GuestError(f"QEMU still running after {timeout}s")

    def close(self):
        for c in (self.serial, self.qmp):
            if c:
                c.close()
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False
