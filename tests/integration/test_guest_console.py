#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The test guest without a network, and its VGA console.

With `-nic none` the guest must still print READY (DHCP never blocks boot)
and then WALLOFF-GUEST-DHCP-FAIL. Keys typed on the PS/2 keyboard reach the
root shell on the VGA console (tty1): a command typed there writes to
ttyS0, and the VGA screen (QMP screendump) changes as it is typed.

Usage: test_guest_console.py [IMAGE]   (default: $WALLOFF_GUEST_IMG)
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

READY_TIMEOUT = 30
# udhcpc gives up after 3 discovers 1 s apart; margin for TCG.
DHCP_FAIL_TIMEOUT = 20
TYPED_TIMEOUT = 20


def expect(cond, what):
    if not cond:
        raise guestlib.GuestError(what)


def screendump(g, name):
    path = os.path.join(g.dir, name)
    g.qmp.execute("screendump", {"filename": path})
    with open(path, "rb") as f:
        return f.read()


def main():
    img = guestlib.guest_img(sys.argv)
    with guestlib.Guest(img, nic="none") as g:
        secs = g.wait_ready(READY_TIMEOUT)
        print(f"READY {secs:.1f} s after cont (no NIC)")
        s = g.serial
        s.wait_for(guestlib.DHCP_FAIL, DHCP_FAIL_TIMEOUT)
        expect(guestlib.DHCP_OK not in s.text(), "DHCP-OK without a NIC")
        status, out = s.run("ls /sys/class/net")
        expect((status, out) == (0, "lo\n"), f"interfaces: {out!r}")

        s.check("i=0; while [ ! -e /run/walloff-vga-ready ] && "
                "[ $i -lt 200 ]; do usleep 50000; i=$((i+1)); done; "
                "[ -e /run/walloff-vga-ready ]", timeout=15)
        before = screendump(g, "before.ppm")
        expect(len(set(before[64:])) > 1, "VGA screen is blank")
        mark = len(s.buf)
        # Keys can be lost on a loaded host (see type_keys): retype on a
        # fresh line until the effect shows, at most three times.
        for attempt in range(3):
            guestlib.type_keys(g.qmp, "\necho VGA-TYPED-$((40+2)) >/dev/ttyS0\n")
            try:
                s.wait_for("VGA-TYPED-42", TYPED_TIMEOUT / 2, start=mark)
                break
            except guestlib.GuestError:
                if attempt == 2:
                    raise
        after = screendump(g, "after.ppm")
        expect(after != before, "VGA screen did not change when typing")
        print("keys typed on the VGA console ran a command")

        g.qmp.execute("system_powerdown")
        s.wait_for(guestlib.POWEROFF, 20)
        expect(g.wait_exit(20) == 0, "QEMU did not exit cleanly")
    print("test_guest_console: OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except guestlib.GuestError as e:
        print(f"test_guest_console: FAIL: {e}")
        sys.exit(1)
