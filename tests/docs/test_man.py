#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The manual pages agree with the programs they describe (TAP output).

  test_man.py SRCROOT WALLOFF WALLOFF_NET WALLOFF_CONSOLE \
              walloff.1 walloff.cell.5 walloff-net.8 walloff-console.8

Everything is derived from the binaries (and, for flags and enum values,
from the parsers' source) at test time, so a subcommand, flag or profile
key added without documentation, or documentation left behind after a
removal, fails here:

  walloff.1   every subcommand in `walloff help` has a ".SS walloff CMD"
              section and every section is a subcommand; `walloff help CMD`
              prints exactly what `walloff CMD --help` prints and both exit
              0; the long options of `walloff CMD --help` and of the section
              are the same set; the options in cmd_*.c's parsers all appear
              in the --help text.
  cell.5      the sections and keys of `walloff check --list-keys` are
              exactly the "key = ..." entries per [section]; repeatable
              keys say so; the words of every enum key (ENUM_KEY in
              launcher/profile.c) are exactly those listed in its entry.
  *.8         the helpers' --help options, their parsers' options and the
              OPTIONS section are the same set.
  all         groff -ww and man --warnings render them without a warning.
"""
import os
import re
import subprocess
import sys

# Subcommands being written in parallel branches: their man sections may
# exist before the command does. Remove a name once its branch is merged.
PENDING = set()

OPT_RE = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")

results = []


def check(ok, what, diag=""):
    results.append((bool(ok), what, diag))


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def deroff(s):
    """Roff source (as scdoc writes it) to plain text."""
    s = re.sub(r"\\f[BIRP]", "", s)
    s = s.replace("\\&", "").replace("\\-", "-").replace("\\(aq", "'")
    s = s.replace("\\e", "\\")
    return s


def sections(roff, macro):
    """{title: body} for each .SH or .SS (macro) in roff."""
    out, title, body = {}, None, []
    for line in roff.splitlines():
        m = re.match(r"\.(SH|SS) (.*)", line)
        if m and (m.group(1) == macro or m.group(1) == "SH"):
            if title is not None:
                out[title] = "\n".join(body)
            title, body = None, []
            if m.group(1) == macro:
                title = m.group(2).strip('"')
            continue
        if title is not None:
            body.append(line)
    if title is not None:
        out[title] = "\n".join(body)
    return out


def opts(text):
    return set(OPT_RE.findall(text)) - {"--help"}


def source_opts(path):
    """Long options a C parser accepts: getopt tables and strcmp()s."""
    src = open(path).read()
    found = {"--" + m for m in re.findall(
        r'\{\s*"([a-z][a-z0-9-]*)",\s*(?:no|required|optional)_argument',
        src)}
    found |= set(re.findall(r'strcmp\([^,()]+,\s*"(--[a-z][a-z0-9-]*)"\)',
                            src))
    return found - {"--help"}


def test_walloff1(src, walloff, page):
    rc, out, err = run([walloff, "help"])
    cmds = re.findall(r"^  ([a-z][a-z0-9-]*) ", out, re.M)
    check(rc == 0 and len(cmds) >= 10, "walloff help lists the commands",
          f"rc {rc}, {cmds}")
    roff = open(page).read()
    body = sections(roff, "SH").get("COMMANDS", "")
    secs = {}
    for title, text in sections(body, "SS").items():
        m = re.fullmatch(r"walloff ([a-z][a-z0-9-]*)", deroff(title))
        if m:
            secs[m.group(1)] = deroff(text)
    check(secs, "walloff.1 has command sections", str(list(secs)))
    for c in cmds:
        rc1, out1, err1 = run([walloff, "help", c])
        rc2, out2, err2 = run([walloff, c, "--help"])
        check(rc1 == 0 and rc2 == 0 and out1 == out2 and out1.strip(),
              f"walloff help {c} == walloff {c} --help, exit 0",
              f"rc {rc1}/{rc2}\n{out1}\n---\n{out2}\n{err1}{err2}")
        check(c in secs, f"walloff.1 has a section for '{c}'")
        if c not in secs:
            continue
        h, m = opts(out2), opts(secs[c])
        check(h == m, f"'{c}': --help and walloff.1 name the same flags",
              f"only in --help: {sorted(h - m)}; "
              f"only in walloff.1: {sorted(m - h)}")
        files = [f"cmd_{c}.c"] + (["image_sweep.c"] if c == "image" else [])
        for f in files:
            path = os.path.join(src, "launcher", f)
            if os.path.exists(path):
                s = source_opts(path)
                check(s <= h, f"'{c}': every flag {f} parses is in --help",
                      f"missing: {sorted(s - h)}")
    for s in secs:
        check(s in cmds or s in PENDING,
              f"walloff.1 section '{s}' is a command")


def test_cell5(src, walloff, page):
    rc, out, err = run([walloff, "check", "--list-keys"])
    keys, repeat = {}, set()
    for line in out.splitlines():
        f = line.split()
        keys.setdefault(f[0], set()).add(f[1])
        if f[2:] == ["repeatable"]:
            repeat.add((f[0], f[1]))
    check(rc == 0 and sum(map(len, keys.values())) >= 30,
          "walloff check --list-keys lists the keys", f"rc {rc} {err}")
    doc = {}
    entries = {}
    for title, text in sections(open(page).read(), "SS").items():
        m = re.fullmatch(r"\[([a-z]+)\]", deroff(title))
        if not m:
            continue
        sec = m.group(1)
        doc[sec] = set()
        # an entry: "\fBkey\fR = ..." then its indented (.RS) text
        for em in re.finditer(r"^\\fB([a-z0-9-]+)\\fR = (.*)\n"
                              r"((?:(?!\\fB[a-z0-9-]+\\fR = ).*\n?)*)",
                              text, re.M):
            doc[sec].add(em.group(1))
            entries[(sec, em.group(1))] = (em.group(2), deroff(em.group(3)))
    check(set(doc) == set(keys), "walloff.cell.5 has exactly the sections",
          f"parser: {sorted(keys)}; page: {sorted(doc)}")
    for sec in sorted(set(doc) | set(keys)):
        a, b = keys.get(sec, set()), doc.get(sec, set())
        check(a == b, f"[{sec}]: parser and walloff.cell.5 have the same keys",
              f"undocumented: {sorted(a - b)}; not accepted: {sorted(b - a)}")
    for (sec, key), (_, text) in sorted(entries.items()):
        says = "repeatable" in text.lower()
        check(says == ((sec, key) in repeat),
              f"[{sec}] {key}: 'repeatable' in walloff.cell.5 iff it repeats")
    # enum words: ENUM_KEY(fn, "key", field, "a", "b") and the keys[] table
    psrc = open(os.path.join(src, "launcher", "profile.c")).read()
    table = re.findall(r'\{\s*SEC_([A-Z]+),\s*"([a-z0-9-]+)",\s*(?:true|false),'
                       r'\s*(k_\w+)\s*\}', psrc)
    enums = re.findall(r'ENUM_KEY\((k_\w+),\s*"([a-z0-9-]+)",\s*\w+,\s*([^)]*)\)',
                       psrc)
    check(len(table) >= 30 and len(enums) >= 10,
          "profile.c's key table and ENUM_KEYs are readable",
          f"{len(table)} keys, {len(enums)} enums")
    for fn, key, words in enums:
        secs = [s.lower() for s, k, f in table if f == fn] or \
               [s.lower() for s, k, f in table if k == key]
        words = set(re.findall(r'"([^"]+)"', words))
        if len(secs) != 1 or (secs[0], key) not in entries:
            check(False, f"enum {key} ({fn}) maps to one documented key",
                  str(secs))
            continue
        head = entries[(secs[0], key)][0]
        listed = set(re.findall(r"\\fB([^\\]+)\\fR", head))
        check(listed == words, f"[{secs[0]}] {key}: values as in profile.c",
              f"parser: {sorted(words)}; page: {sorted(listed)}")


def test_helper(src, exe, srcfile, page, name):
    rc, out, err = run([exe, "--help"])
    h = opts(out)
    check(rc == 0 and h, f"{name} --help exits 0 with options", f"rc {rc}")
    s = source_opts(os.path.join(src, srcfile))
    check(s == h, f"{name}: parser and --help have the same options",
          f"only in source: {sorted(s - h)}; only in --help: {sorted(h - s)}")
    o = opts(deroff(sections(open(page).read(), "SH").get("OPTIONS", "")))
    check(o == h, f"{name}: --help and OPTIONS in the page agree",
          f"only in --help: {sorted(h - o)}; only in page: {sorted(o - h)}")


def test_render(page):
    name = os.path.basename(page)
    rc, out, err = run(["groff", "-man", "-ww", "-z", "-Tutf8", page])
    check(rc == 0 and not err.strip(), f"{name}: groff -ww renders cleanly",
          err)
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="")
    p = subprocess.run(["man", "--warnings", "-l", page], capture_output=True,
                       text=True, env=env, timeout=30)
    check(p.returncode == 0 and not p.stderr.strip() and
          len(p.stdout) > 500, f"{name}: man --warnings renders cleanly",
          p.stderr)


def main():
    src, walloff, net, console, m1, m5, mnet, mcon = map(os.path.abspath,
                                                         sys.argv[1:9])
    test_walloff1(src, walloff, m1)
    test_cell5(src, walloff, m5)
    test_helper(src, net, "netpolicy/main.c", mnet, "walloff-net")
    test_helper(src, console, "console/main.c", mcon, "walloff-console")
    for page in (m1, m5, mnet, mcon):
        test_render(page)
    print(f"1..{len(results)}")
    bad = 0
    for i, (ok, what, diag) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {what}")
        if not ok:
            bad += 1
            for line in diag.splitlines():
                print(f"# {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
