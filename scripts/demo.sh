#!/usr/bin/env bash
# The demo: run the test guest in a walled-off cell, drive it, stop it.
#
# 1. Pins the freshly built test guest: build/demo/demo.cell is
#    profiles/demo.cell plus "sha256 = <hash of the image>" (the workflow an
#    admin follows after `walloff image import`).
# 2. Runs it with `walloff run`: QEMU starts paused, its device model is
#    verified over QMP, then the guest boots.
# 3. Shows the guest's serial console until it is ready, runs two commands
#    in it, lists the cell with `walloff status`, stops it with
#    `walloff stop` (ACPI power button) and prints the audit log.
# Interactive use afterwards: ./build/launcher/walloff run build/demo/demo.cell
# and, in another terminal, ./build/launcher/walloff serial demo.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
W=$PWD/$BUILD/launcher/walloff
IMG=$PWD/$BUILD/images-docs/walloff-guest.img
DEMO=$PWD/$BUILD/demo

mkdir -p "$DEMO/images"
ln -sf "$IMG" "$DEMO/images/walloff-guest.img"
SUM=$(sha256sum "$IMG" | cut -d' ' -f1)
sed "s|^mode    = ephemeral .*|&\nsha256  = $SUM|" profiles/demo.cell >"$DEMO/demo.cell"
grep -q "^sha256  = $SUM" "$DEMO/demo.cell"
chmod +x "$DEMO/demo.cell"
echo "== pinned the test guest: sha256 = $SUM"

# Keep the demo's state out of the user's real walloff folders.
export WALLOFF_STATE_DIR=$DEMO/state WALLOFF_RUN_DIR=/tmp/walloff-demo-$(id -u)

echo "== walloff check"
"$W" check "$DEMO/demo.cell"
echo "== walloff run $DEMO/demo.cell"
"$W" run "$DEMO/demo.cell" &
RUN=$!
trap 'kill $RUN 2>/dev/null || true' EXIT

python3 - "$WALLOFF_RUN_DIR/demo/s/serial.sock" <<'PY'
import sys, os
sys.path.insert(0, "tests/integration")
import guestlib
s = guestlib.Serial(sys.argv[1], timeout=60, log=sys.stdout)
s.wait_for(guestlib.READY, 120)
print("\n== the guest is up; commands in its serial shell:")
for cmd in ("uname -sr", "cat /proc/cmdline", "ls /sys/class/net"):
    st, out = s.run(cmd)
    print(f"walloff-guest# {cmd}\n{out.rstrip()}")
PY

echo "== walloff status"
"$W" status
echo "== walloff stop demo"
"$W" stop demo
wait $RUN
trap - EXIT
echo "== walloff log demo"
"$W" log demo | tail -n 25
echo "== demo finished: the guest powered off and every step is in the audit log"
