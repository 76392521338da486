#!/usr/bin/env bash
# Builds walloff twice (plain with -Werror, and ASan+UBSan), runs the whole
# suite in both, fuzzes every parser with libFuzzer for a bounded time
# (scripts/fuzz.sh, FUZZ_SECONDS each), builds, installs and purges the
# Debian package (scripts/deb-test.sh), and prints one honest count:
# "N passed, N failed".
set -uo pipefail
BUILD=${1:-build}
ASAN=${2:-build-asan}
cd "$(dirname "$0")/.."

set -e
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dwerror=true
[ -f "$ASAN/build.ninja" ] || meson setup "$ASAN" -Dwerror=true \
	-Db_sanitize=address,undefined -Db_lundef=false
ninja -C "$BUILD"
ninja -C "$ASAN"
set +e

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
rc=0
meson test -C "$BUILD" --print-errorlogs --num-processes 2 || rc=1
# The sanitizer run skips the "guest" suite: those tests exercise only the
# test guest and QEMU (no walloff code), and already ran in the plain build.
meson test -C "$ASAN" --print-errorlogs --num-processes 2 --no-suite guest || rc=1

# The Debian package: built from a copy of the tree, installed, run,
# purged (scripts/deb-test.sh); its TAP lines count like the others.
bash scripts/deb-test.sh > "$BUILD/deb-test.tap" 2> "$BUILD/deb-test.log" || rc=1

bash scripts/fuzz.sh | tee "$BUILD/meson-logs/fuzz.tap" || rc=1

python3 scripts/count-tests.py "$BUILD/meson-logs/testlog.json" \
	"$ASAN/meson-logs/testlog.json" \
	--tap "$BUILD/meson-logs/fuzz.tap" "$BUILD/deb-test.tap" || rc=1
exit $rc
