#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boots the walloff test guest on bare QEMU (TCG) and checks its contract.

The contract every other integration test relies on: READY on ttyS0, a
shell there that returns output and exit status, DHCP on the e1000 behind
slirp (restrict=on: no traffic leaves the host), a writable boot disk, and
a clean power-off on the ACPI power button, after which QEMU exits by
itself (SHUTDOWN event from the guest, exit code 0, never killed).

Usage: test_guest.py [IMAGE]   (default: $WALLOFF_GUEST_IMG)
"""

import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

# Budgets under TCG on 2 shared cores; READY typically comes after ~7 s.
READY_TIMEOUT = 30
DHCP_TIMEOUT = 20
POWEROFF_TIMEOUT = 20


def expect(cond, what):
    if not cond:
        raise guestlib.GuestError(what)


def main():
    img = guestlib.guest_img(sys.argv)
    with guestlib.Guest(img, nic="user") as g:
        secs = g.wait_ready(READY_TIMEOUT)
        print(f"READY {secs:.1f} s after cont")
        s = g.serial

        status, out = s.run("uname -r")
        expect(status == 0 and re.fullmatch(r"\d+\.\d+\.\S+-amd64\n", out),
               f"uname -r: status {status}, output {out!r}")
        print(f"kernel {out.strip()}")

        status, out = s.run("echo $((6*7))")
        expect((status, out) == (0, "42\n"), f"arith: {status} {out!r}")

        status, out = s.run("false")
        expect(status == 1 and out == "", f"false: {status} {out!r}")
        status, out = s.run("echo 'it''s' \"q\"; exit_code() { return 3; }; "
                            "exit_code")
        expect((status, out) == (3, "its q\n"), f"quoting: {status} {out!r}")

        line = s.wait_for(guestlib.DHCP_OK, DHCP_TIMEOUT)
        ip = line.split()[1]
        expect(ip.startswith("10.0.2."), f"DHCP address {line!r}")
        out = s.check("ip -4 addr show dev eth0")
        expect(f"inet {ip}/" in out, f"eth0 has no {ip}: {out!r}")
        out = s.check("ip route")
        # slirp with restrict=on hands out no router or DNS option.
        expect("10.0.2.0/24 dev eth0" in out, f"no subnet route: {out!r}")
        print(f"DHCP {ip}")

        expect(s.check("mount-boot") == "/mnt/boot\n", "mount-boot")
        out = s.check("ls /mnt/boot")
        expect("vmlinuz" in out and "ldlinux.sys" in out,
               f"boot disk contents: {out!r}")
        token = os.urandom(8).hex()
        s.check(f"echo {token} >/mnt/boot/marker.txt && sync")
        out = s.check("umount /mnt/boot && mount-boot && "
                      "cat /mnt/boot/marker.txt")
        expect(out == f"/mnt/boot\n{token}\n", f"marker file: {out!r}")

        g.qmp.execute("system_powerdown")
        s.wait_for(guestlib.POWEROFF, POWEROFF_TIMEOUT)
        ev = g.qmp.wait_event("SHUTDOWN", POWEROFF_TIMEOUT)
        expect(ev["data"].get("guest") is True and
               ev["data"].get("reason") == "guest-shutdown",
               f"SHUTDOWN not from the guest: {ev}")
        rc = g.wait_exit(POWEROFF_TIMEOUT)
        expect(rc == 0, f"QEMU exit code {rc}")
        print("powered off by the guest, QEMU exited 0")
    print("test_guest: OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except guestlib.GuestError as e:
        print(f"test_guest: FAIL: {e}")
        sys.exit(1)
