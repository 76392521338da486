#!/usr/bin/env bash
# Builds the Debian package from a copy of the tree (so the meson build
# folders here are left alone), checks it with lintian, installs it, runs
# the installed walloff (--version, check on an example profile), verifies
# the installed unit with systemd-analyze, and purges it again. Prints TAP
# (scripts/check.sh saves it for scripts/count-tests.py). Needs root.
#
# usage: scripts/deb-test.sh [WORKDIR]   (default: a fresh folder in /tmp)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
WORK=${1:-$(mktemp -d /tmp/walloff-deb-XXXXXX)}
VERSION=$(dpkg-parsechangelog -l debian/changelog -S Version)
UPSTREAM=${VERSION%-*}
n=0
failed=0
results=()

ok() {	# ok COND-STATUS NAME [DETAIL-FILE]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		results+=("ok $n - $2")
	else
		failed=$((failed + 1))
		results+=("not ok $n - $2")
		if [ -n "${3:-}" ] && [ -f "$3" ]; then
			while IFS= read -r l; do results+=("# $l"); done < <(tail -n 30 "$3")
		fi
	fi
}

finish() {
	echo "1..$n"
	printf '%s\n' "${results[@]}"
	exit $((failed > 0))
}

if [ "$(id -u)" -ne 0 ]; then
	ok 1 "deb-test needs root (dpkg -i)"
	finish
fi
if dpkg-query -W -f='${Status}' walloff 2>/dev/null | grep -q "ok installed"; then
	ok 1 "walloff is not installed already (refusing to replace it)"
	finish
fi
had_user=0
getent passwd walloff >/dev/null && had_user=1

# A copy of the tracked files, as a source tree named like dpkg expects.
TREE=$WORK/walloff-$UPSTREAM
rm -rf "$TREE"
mkdir -p "$TREE"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z | tar --null -T - -cf -
else	# a release tarball: everything but build folders
	tar --exclude='./build*' -cf - .
fi | tar -xf - -C "$TREE"
ok $? "copy of the tree in $TREE"

start=$(date +%s)
(cd "$TREE" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
	dpkg-buildpackage -us -uc -b) > "$WORK/build.log" 2>&1
ok $? "dpkg-buildpackage -us -uc -b ($(($(date +%s) - start)) s)" "$WORK/build.log"
DEB=
for f in "$WORK"/walloff_"${VERSION}"_*.deb; do DEB=$f; done
[ -n "$DEB" ] && [ -f "$DEB" ]
ok $? "the .deb exists" "$WORK/build.log"

lintian --tag-display-limit 0 "$DEB" > "$WORK/lintian.log" 2>&1
grep -q '^E: ' "$WORK/lintian.log"
ok $((!$?)) "lintian: no errors ($(grep -c '^W: ' "$WORK/lintian.log") warnings)" \
	"$WORK/lintian.log"

dpkg-deb -c "$DEB" > "$WORK/contents.txt" 2>&1
for f in usr/bin/walloff usr/libexec/walloff/walloff-net \
	 usr/libexec/walloff/walloff-console usr/libexec/walloff/walloff-nftlog \
	 lib/systemd/system/walloff@.service \
	 usr/share/doc/walloff/examples/demo.cell etc/walloff/cells/; do
	grep -q " \./$f\$" "$WORK/contents.txt"
	ok $? "the package ships /$f" "$WORK/contents.txt"
done

dpkg -i "$DEB" > "$WORK/install.log" 2>&1
ok $? "dpkg -i installs it" "$WORK/install.log"

v=$(/usr/bin/walloff --version 2>&1)
[ "$v" = "walloff $UPSTREAM" ]
ok $? "installed walloff --version says $UPSTREAM (got: $v)"

/usr/bin/walloff check /usr/share/doc/walloff/examples/demo.cell \
	> "$WORK/check.log" 2>&1
ok $? "installed walloff check accepts the example profile" "$WORK/check.log"

u=$(getent passwd walloff)
uid=$(echo "$u" | cut -d: -f3)
[ -n "$u" ] && [ "$uid" -lt 1000 ] && [ "$uid" -ne 0 ]
ok $? "postinst created the system user walloff ($u)"

man=no
[ -e /usr/share/man/man1/walloff.1.gz ] && man=yes
systemd-analyze verify --man=$man /lib/systemd/system/walloff@.service \
	walloff@demo.service > "$WORK/verify.log" 2>&1
rc=$?
[ $rc -eq 0 ] && ! grep -q walloff "$WORK/verify.log"
ok $? "systemd-analyze verify (man=$man): the installed template and an instance" \
	"$WORK/verify.log"
grep -q "^ExecStart=/usr/bin/walloff run /etc/walloff/cells/%i.cell$" \
	/lib/systemd/system/walloff@.service
ok $? "the installed unit runs /usr/bin/walloff"

dpkg --purge walloff > "$WORK/purge.log" 2>&1
ok $? "dpkg --purge removes it" "$WORK/purge.log"
[ ! -e /usr/bin/walloff ] && [ ! -e /lib/systemd/system/walloff@.service ]
ok $? "nothing of the package is left"
# Debian keeps system users on purge; this machine had none before the
# test, so remove it again (best effort: userdel refuses while a process
# runs as walloff, e.g. a cell another user started meanwhile).
if [ $had_user -eq 0 ]; then
	deluser --system --quiet walloff >/dev/null 2>&1
	delgroup --system --quiet walloff >/dev/null 2>&1
fi

[ -z "${1:-}" ] && rm -rf "$WORK"
finish
