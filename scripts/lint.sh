#!/usr/bin/env bash
# Static analysis as a test: cppcheck and clang-tidy over walloff's own C
# (not tests, not fuzz drivers), with the configuration checked in here and
# in .clang-tidy. Zero findings is the only pass. Prints TAP.
#   lint.sh SRCDIR BUILDDIR
set -uo pipefail
SRC=$1
BUILD=$2
cd "$SRC"
mapfile -t FILES < <(git ls-files 'common/*.c' 'launcher/*.c' 'qmp/*.c' \
	'netpolicy/*.c' 'console/*.c' 2>/dev/null || find common launcher qmp netpolicy console -name '*.c')
echo "1..2"
out=$(cppcheck --quiet --enable=warning,portability,performance \
	--inline-suppr --error-exitcode=1 --std=c11 -D_GNU_SOURCE \
	--library=posix \
	-D'json_array_foreach(a,i,v)=for(i=0;i<1;i++)' \
	-D'json_object_foreach(o,k,v)=for(;k;)' \
	-Icommon -Ilauncher -Iqmp -Inetpolicy -Iconsole -I"$BUILD" \
	"${FILES[@]}" 2>&1)
if [ $? -eq 0 ] && [ -z "$out" ]; then
	echo "ok 1 - cppcheck: no findings"
else
	echo "not ok 1 - cppcheck"
	echo "$out" | sed 's/^/# /' | head -60
fi
out=$(clang-tidy --quiet -p "$BUILD" "${FILES[@]}" 2>&1 | grep -E "warning:|error:")
if [ -z "$out" ]; then
	echo "ok 2 - clang-tidy: no findings"
else
	echo "not ok 2 - clang-tidy"
	echo "$out" | sed 's/^/# /' | head -60
fi
