#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The guest image build is reproducible.

Builds the image a second time into a fresh directory, from the kernel .deb
cached next to the first image (no download), and asserts the sha256 is the
same as the first build's: fixed timestamps, sorted cpio, invariant FAT.

Usage: test_guest_repro.py MKGUEST_SH [IMAGE]  (default: $WALLOFF_GUEST_IMG)
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

BUILD_TIMEOUT = 100


def main():
    mkguest = sys.argv[1]
    img = guestlib.guest_img(sys.argv[1:])
    debs = glob.glob(os.path.join(os.path.dirname(img), "linux-image-*.deb"))
    if len(debs) != 1:
        print(f"test_guest_repro: FAIL: expected one cached kernel .deb "
              f"next to {img}, found {debs}")
        return 1
    with open(img + ".sha256") as f:
        first = f.read().split()[0]
    out = tempfile.mkdtemp(prefix="walloff-repro-")
    try:
        env = dict(os.environ, WALLOFF_KERNEL_DEB=debs[0])
        env.pop("SOURCE_DATE_EPOCH", None)
        subprocess.run(["bash", mkguest, out], env=env, check=True,
                       timeout=BUILD_TIMEOUT)
        with open(os.path.join(out, "walloff-guest.img.sha256")) as f:
            second = f.read().split()[0]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if first != second:
        print(f"test_guest_repro: FAIL: first build {first}, "
              f"second build {second}")
        return 1
    print(f"test_guest_repro: OK, both builds {first}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
