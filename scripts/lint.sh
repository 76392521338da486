#!/usr/bin/env bash
# Static analysis as tests (issue 10): clang-tidy and cppcheck over walloff's
# C, each with its configuration checked in, zero findings the only pass.
#
#   lint.sh clang-tidy SRCDIR BUILDDIR   .clang-tidy; common, qmp, netpolicy,
#                                        console, launcher
#   lint.sh cppcheck   SRCDIR BUILDDIR   tests/lint/cppcheck.cfg and
#                                        tests/lint/cppcheck-suppressions.txt;
#                                        the same plus tests/ and bench/
#
# The files and their flags come from BUILDDIR/compile_commands.json, so the
# tools see what the compiler sees. Output is TAP, one case per folder; each
# finding is printed under its "not ok" line. tests/lint/meson.build runs
# both as the meson suite "lint".
#
# clang-tidy is the slow one (its clang-analyzer checks): files run two at a
# time, and a file's result is kept in BUILDDIR/lint-cache keyed by the
# file, its compile command, every header of ours, .clang-tidy and the
# clang-tidy version, so an unchanged file is not analysed twice. cppcheck
# keeps its own per-file cache there (--cppcheck-build-dir).
set -uo pipefail

JOBS=2
PRODUCT=(common qmp netpolicy console launcher)

usage() {
	echo "usage: $0 clang-tidy|cppcheck SRCDIR BUILDDIR" >&2
	exit 2
}

[ $# -eq 3 ] || usage
TOOL=$1
SRC=$(realpath "$2")
BUILD=$(realpath "$3")
DB=$BUILD/compile_commands.json
CACHE=$BUILD/lint-cache

need() {
	if ! command -v "$1" >/dev/null; then
		echo "1..1"
		echo "not ok 1 - $1 is not installed (scripts/install-deps.sh)"
		exit 1
	fi
}

# db_files FOLDER...: the source files of compile_commands.json in FOLDERs,
# relative to SRC, each followed by the sha256 of its compile command.
db_files() {
	python3 - "$DB" "$SRC" "$@" <<'EOF'
import hashlib, json, os, sys
db, src, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
seen = set()
for c in json.load(open(db)):
    f = os.path.relpath(os.path.normpath(os.path.join(c["directory"],
                                                      c["file"])), src)
    if f.split(os.sep)[0] in dirs and f not in seen:
        seen.add(f)
        cmd = c.get("command") or " ".join(c["arguments"])
        print(f, hashlib.sha256(cmd.encode()).hexdigest())
EOF
}

# report N NAME FINDINGS-FILE: one TAP case
report() {
	if [ -s "$3" ]; then
		echo "not ok $1 - $TOOL $2: $(wc -l <"$3") finding(s)"
		sed 's/^/# /' "$3"
		return 1
	fi
	echo "ok $1 - $TOOL $2: no findings"
}

# tidy_one FILE CMDHASH: clang-tidy findings of one file (cached), on stdout
tidy_one() {
	local f=$1 key out rc
	key=$(cat <(echo "$TIDY_SALT $2") "$SRC/$f" | sha256sum | cut -c1-64)
	if [ -f "$CACHE/clang-tidy/$key" ]; then
		cat "$CACHE/clang-tidy/$key"
		return
	fi
	out=$(cd "$BUILD" && clang-tidy --quiet -p "$BUILD" "$SRC/$f" 2>&1)
	rc=$?
	# Findings only (notes and code excerpts make the analyzer's paths
	# pages long; run clang-tidy by hand on the file to see them). A
	# failure without a finding line (crash, bad flags) is a finding too.
	out=$(echo "$out" | grep -E '^[^ ].*: (warning|error): ' |
		sed "s|^$BUILD/\.\./||; s|^\.\./||; s|^$SRC/||" | sort -u)
	if [ $rc -ne 0 ] && [ -z "$out" ]; then
		out="$f: clang-tidy exited with status $rc"
	fi
	[ -n "$out" ] && echo "$out"
	if [ $rc -le 1 ]; then
		mkdir -p "$CACHE/clang-tidy"
		printf '%s' "${out:+$out$'\n'}" >"$CACHE/clang-tidy/$key.$$"
		mv "$CACHE/clang-tidy/$key.$$" "$CACHE/clang-tidy/$key"
	fi
}

run_clang_tidy() {
	local d n=0 fail=0
	need clang-tidy
	# Everything a result depends on besides the file and its command.
	TIDY_SALT=$({
		clang-tidy --version
		cat "$SRC/.clang-tidy"
		cd "$SRC" && find "${PRODUCT[@]}" -name '*.h' -print0 |
			sort -z | xargs -0 cat
		cat "$BUILD/config.h"
	} | sha256sum | cut -c1-64)
	export TIDY_SALT SRC BUILD CACHE
	export -f tidy_one
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# All files in one queue, so both workers stay busy to the end.
	db_files "${PRODUCT[@]}" | xargs -r -P "$JOBS" -n 2 \
		bash -c 'tidy_one "$1" "$2"' _ >"$tmp/out"
	echo "1..${#PRODUCT[@]}"
	for d in "${PRODUCT[@]}"; do
		n=$((n + 1))
		grep "^$d/" "$tmp/out" | sort -u >"$tmp/$d"
		report $n "$d" "$tmp/$d" || fail=1
	done
	# a line about no file of ours: fail rather than lose it
	if grep -v -E "^($(IFS='|'; echo "${PRODUCT[*]}"))/" "$tmp/out" |
		sed 's/^/# /' | grep .; then
		fail=1
	fi
	return $fail
}

run_cppcheck() {
	local d n=0 fail=0 rc dirs=("${PRODUCT[@]}" tests bench)
	need cppcheck
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# The compile database without system include paths: cppcheck checks
	# our code, not glib's headers (which would triple the time).
	python3 - "$DB" "$tmp/compile_commands.json" <<'EOF'
import json, re, sys
db = json.load(open(sys.argv[1]))
for c in db:
    if "command" in c:
        c["command"] = re.sub(r" -(I|isystem) ?/usr/\S+", "", c["command"])
json.dump(db, open(sys.argv[2], "w"))
EOF
	mkdir -p "$CACHE/cppcheck"
	(cd "$SRC" && cppcheck --quiet -j "$JOBS" \
		--project="$tmp/compile_commands.json" \
		--cppcheck-build-dir="$CACHE/cppcheck" \
		--enable=warning,style,performance,portability \
		--std=c11 --library=posix \
		--library="$SRC/tests/lint/cppcheck.cfg" \
		--suppressions-list="$SRC/tests/lint/cppcheck-suppressions.txt" \
		--inline-suppr --error-exitcode=1 \
		--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
		>"$tmp/out" 2>&1)
	rc=$?
	sed -i "s|^$SRC/||" "$tmp/out"
	echo "1..${#dirs[@]}"
	for d in "${dirs[@]}"; do
		n=$((n + 1))
		grep "^$d/" "$tmp/out" >"$tmp/$d"
		report $n "$d" "$tmp/$d" || fail=1
	done
	# Anything not about a file of ours (a config error, a crash) fails
	# the run even if no folder had a finding.
	grep -v -E "^($(IFS='|'; echo "${dirs[*]}"))/" "$tmp/out" |
		grep . | sed 's/^/# /'
	if [ $rc -ne 0 ] && [ $fail -eq 0 ]; then
		echo "# cppcheck exited with status $rc"
		fail=1
	fi
	return $fail
}

case $TOOL in
clang-tidy) run_clang_tidy ;;
cppcheck) run_cppcheck ;;
*) usage ;;
esac
