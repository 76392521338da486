#!/usr/bin/env bash
# Builds walloff twice (plain with -Werror, and ASan+UBSan), runs the whole
# suite in both, fuzzes every parser with libFuzzer for a bounded time
# (scripts/fuzz.sh, FUZZ_SECONDS each: 10 here), builds, installs and purges the
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
set +e

# The sanitizer build and the libFuzzer targets compile in the background,
# at low priority, while the plain build's tests run: those wait on TCG
# guests most of the time, and the suite must stay under 20 minutes on two
# cores. Nothing runs from these builds before they finished.
# The static analysis (meson suite "lint", a minute of clang-tidy) runs
# there too, with its own log (lintlog.json), counted like the rest.
(
	nice -n 10 ninja -C "$ASAN" &&
	FUZZ_BUILD_ONLY=1 nice -n 10 bash scripts/fuzz.sh &&
	{ nice -n 10 meson test -C "$BUILD" --no-rebuild --suite lint \
		--logbase lintlog --print-errorlogs || true; }
) > "$BUILD/background-build.log" 2>&1 &
bg=$!

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
rc=0
meson test -C "$BUILD" --print-errorlogs --num-processes 2 \
	--no-suite lint || rc=1

if ! wait $bg; then
	echo "check.sh: the sanitizer or fuzz build failed" >&2
	rc=1
fi
cat "$BUILD/background-build.log"
# The sanitizer run skips the "guest" suite: those tests exercise only the
# test guest and QEMU (no walloff code), and already ran in the plain build;
# and the "load" suite: its bounds are on memory, which ASan's quarantine
# inflates, and the code it drives (console sessions, denied floods) runs
# under ASan in console-e2e, cell_console, net and nft.
meson test -C "$ASAN" --print-errorlogs --num-processes 2 \
	--no-suite guest --no-suite load || rc=1

# The Debian package: built from a copy of the tree, installed, run,
# purged (scripts/deb-test.sh); its TAP lines count like the others.
bash scripts/deb-test.sh > "$BUILD/deb-test.tap" 2> "$BUILD/deb-test.log" || rc=1

FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash scripts/fuzz.sh |
	tee "$BUILD/meson-logs/fuzz.tap" || rc=1

python3 scripts/count-tests.py "$BUILD/meson-logs/testlog.json" \
	"$BUILD/meson-logs/lintlog.json" "$ASAN/meson-logs/testlog.json" \
	--tap "$BUILD/meson-logs/fuzz.tap" "$BUILD/deb-test.tap" || rc=1
exit $rc
