#!/usr/bin/env bash
# Builds every fuzz target with clang's libFuzzer (-fsanitize=fuzzer,address,
# undefined; the libraries they link carry coverage and the sanitizers too)
# and runs each for a bounded time, two at a time. Prints TAP: one line per
# target, "ok" when it ran its time without a finding.
#
#   scripts/fuzz.sh [TARGET...]          (default: every target)
#
#   FUZZ_SECONDS  seconds per target (default 20)
#   FUZZ_JOBS     targets run at once (default 2)
#   FUZZ_BUILD    build folder (default build-fuzz)
#   FUZZ_BUILD_ONLY=1  build the targets, run nothing
#
# The checked-in corpus (tests/fuzz/corpus/NAME/) is read as the seed and
# never written: what libFuzzer finds goes to a temporary folder, deleted at
# the end. A crash, leak, timeout or out-of-memory input is copied to
# tests/fuzz/crashes/NAME-KIND-HASH (not committed by this script: make it a
# corpus file and a unit test) and the run fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

SECS=${FUZZ_SECONDS:-20}
JOBS=${FUZZ_JOBS:-2}
BUILD=${FUZZ_BUILD:-build-fuzz}
CRASHES=tests/fuzz/crashes
# A single input slower than this is a hang, not a slow case.
PER_INPUT_TIMEOUT=10
# Two fuzzers at once on a 2-core test machine with 8 GB: stay well below.
RSS_LIMIT_MB=1024

die() {
	echo "fuzz.sh: $*" >&2
	exit 1
}

command -v clang >/dev/null || die "clang is needed (scripts/install-deps.sh)"
if [ ! -f "$BUILD/build.ninja" ]; then
	CC=clang meson setup "$BUILD" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link >"$BUILD.setup.log" 2>&1 ||
		{ cat "$BUILD.setup.log" >&2; die "meson setup failed"; }
	rm -f "$BUILD.setup.log"
fi

# Every registered target (tests/*/meson.build fuzz_targets), or the named ones.
if [ $# -gt 0 ]; then
	targets=("$@")
else
	mapfile -t targets < <(ninja -C "$BUILD" -t targets all |
		sed -n 's|^tests/fuzz/libfuzzer-\([a-z0-9_-]*\): .*|\1|p' | sort -u)
fi
[ ${#targets[@]} -gt 0 ] || die "no libFuzzer targets in $BUILD"
bins=()
for t in "${targets[@]}"; do
	[ -d "tests/fuzz/corpus/$t" ] || die "$t: no corpus tests/fuzz/corpus/$t"
	bins+=("tests/fuzz/libfuzzer-$t")
done
ninja -C "$BUILD" -j2 "${bins[@]}" >"$BUILD/fuzz-build.log" 2>&1 ||
	{ tail -40 "$BUILD/fuzz-build.log" >&2; die "build failed"; }
# scripts/check.sh builds ahead, while other tests run.
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

work=$(mktemp -d /tmp/walloff-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# One target: fuzz for SECS, record "status runs corpus-in corpus-out".
fuzz_one() {
	local t=$1 seeds=tests/fuzz/corpus/$1 out=$work/$1
	local rc runs dict=()

	mkdir -p "$out/new"
	[ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
	"$BUILD/tests/fuzz/libfuzzer-$t" -max_total_time="$SECS" \
		-timeout="$PER_INPUT_TIMEOUT" -rss_limit_mb="$RSS_LIMIT_MB" \
		-artifact_prefix="$out/" -print_final_stats=1 "${dict[@]}" \
		"$out/new" "$seeds" >"$out/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log")
	echo "$rc ${runs:-0} $(find "$seeds" -type f | wc -l)" \
		"$(find "$out/new" -type f | wc -l)" >"$out/result"
}

start=$(date +%s)
running=0
for t in "${targets[@]}"; do
	fuzz_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

echo "1..${#targets[@]}"
n=0
failed=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	read -r rc runs seeds found <"$work/$t/result"
	artifacts=$(find "$work/$t" -maxdepth 1 -type f \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | sort)
	if [ "$rc" -eq 0 ] && [ -z "$artifacts" ]; then
		echo "ok $n - libfuzzer $t: $runs runs in ${SECS}s," \
			"$seeds seeds, $found new inputs"
		continue
	fi
	failed=$((failed + 1))
	echo "not ok $n - libfuzzer $t: exit $rc after $runs runs"
	mkdir -p "$CRASHES"
	for a in $artifacts; do
		cp "$a" "$CRASHES/$t-$(basename "$a")"
		echo "# reproducer: $CRASHES/$t-$(basename "$a")" \
			"(replay: $BUILD/tests/fuzz/libfuzzer-$t FILE)"
	done
	grep -E 'ERROR|SUMMARY|#[0-9]+ 0x' "$work/$t/log" | head -30 |
		sed 's/^/# /'
done
echo "# fuzz.sh: ${#targets[@]} targets, ${SECS}s each, $JOBS at a time," \
	"$(($(date +%s) - start))s of fuzzing"
[ "$failed" -eq 0 ]
