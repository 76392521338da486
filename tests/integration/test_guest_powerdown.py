#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The ACPI power button works from the moment READY is printed.

A supervisor may stop a cell right after it booted: the guest prints READY
only once acpid listens, so system_powerdown sent immediately after READY
must still power the guest off (POWEROFF marker, SHUTDOWN event from the
guest) and QEMU must exit by itself with status 0.

Usage: test_guest_powerdown.py [IMAGE]   (default: $WALLOFF_GUEST_IMG)
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

READY_TIMEOUT = 30
POWEROFF_TIMEOUT = 20


def main():
    img = guestlib.guest_img(sys.argv)
    with guestlib.Guest(img, nic="none") as g:
        g.wait_ready(READY_TIMEOUT)
        g.qmp.execute("system_powerdown")
        g.serial.wait_for(guestlib.POWEROFF, POWEROFF_TIMEOUT)
        ev = g.qmp.wait_event("SHUTDOWN", POWEROFF_TIMEOUT)
        if ev["data"].get("reason") != "guest-shutdown":
            raise guestlib.GuestError(f"SHUTDOWN not from the guest: {ev}")
        rc = g.wait_exit(POWEROFF_TIMEOUT)
        if rc != 0:
            raise guestlib.GuestError(f"QEMU exit code {rc}")
    print("test_guest_powerdown: OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except guestlib.GuestError as e:
        print(f"test_guest_powerdown: FAIL: {e}")
        sys.exit(1)
