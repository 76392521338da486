#!/usr/bin/env python3
"""Golden and schema tests of `walloff export --libvirt`.

For every profile in profiles/, tests/golden/profiles/ and
tests/golden/libvirt/profiles/, `walloff export --libvirt -o DIR/NAME.xml`
is run; its exit code, stderr and every document it wrote are compared with
tests/golden/libvirt/expected/NAME.libvirt, and every document is validated
against libvirt's own RELAX NG schemas with `virt-xml-validate FILE TYPE`
(domain, nwfilter, secret). A missing validator is a failure, not a skip.
Each domain is also defined in libvirt's in-process test driver
(`virsh -c test:///default define`), which runs libvirt's own parser.
Then: the documents parse as XML and carry the profile's text exactly
(escaping round-trips), stdout (--document) equals the files, and an
invalid profile is refused with exit 3 and `walloff check`'s message.
Output is TAP.

  libvirt.py WALLOFF SRCDIR            compare
  libvirt.py WALLOFF SRCDIR --update   rewrite the expected files
"""
import difflib
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

TYPES = (("", "domain"), (".nwfilter.xml", "nwfilter"),
         (".secret.xml", "secret"))
NS = "{urn:x-walloff:libvirt-export:1}"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, name, detail=""):
        self.n += 1
        if ok:
            print(f"ok {self.n} - {name}")
        else:
            self.failed += 1
            print(f"not ok {self.n} - {name}")
            for line in str(detail).splitlines():
                print("# " + line)


def export(walloff, args, tmp):
    env = dict(os.environ, WALLOFF_NOW="2026-11-23")
    return subprocess.run([walloff, "export", "--libvirt"] + args, env=env,
                          capture_output=True, text=True, timeout=30,
                          cwd=tmp)


def main():
    walloff, src = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
    update = "--update" in sys.argv
    expdir = os.path.join(src, "tests/golden/libvirt/expected")
    profiles = []
    for pat in ("profiles/*.cell", "tests/golden/profiles/*.cell",
                "tests/golden/libvirt/profiles/*.cell"):
        profiles += sorted(glob.glob(os.path.join(src, pat)))
    profiles = [p for p in profiles if not p.endswith("/invalid.cell")]
    validator = shutil.which("virt-xml-validate")
    t = Tap()
    print("# validator: " + str(validator))
    tmp = tempfile.mkdtemp(prefix="walloff-libvirt-")
    try:
        for prof in profiles:
            name = os.path.basename(prof)[:-5]
            out = os.path.join(tmp, name + ".xml")
            p = export(walloff, ["-o", out, prof], tmp)
            text = f"exit {p.returncode}\n== stderr\n{p.stderr}"
            written = []
            for suffix, kind in TYPES:
                if os.path.exists(out + suffix):
                    written.append((out + suffix, kind))
                    with open(out + suffix) as f:
                        text += f"== {kind}\n{f.read()}"
            text = text.replace(tmp, "@TMP@").replace(src, "@SRC@")
            # which controls FAIL is the review's business (tests/review)
            text = re.sub(r"review FAILs \([^)]*\)", "review FAILs (@IDS@)",
                          text)
            exp_path = os.path.join(expdir, name + ".libvirt")
            if update:
                with open(exp_path, "w") as f:
                    f.write(text)
            try:
                with open(exp_path) as f:
                    exp = f.read()
            except FileNotFoundError:
                exp = ""
            t.check(text == exp, f"golden {name}", "\n".join(
                difflib.unified_diff(exp.splitlines(), text.splitlines(),
                                     "expected", "actual", lineterm="")))
            t.check(p.returncode == 0 and written, f"export {name}",
                    p.stderr)
            for path, kind in written:
                if not validator:
                    t.check(False, f"virt-xml-validate {name} {kind}",
                            "virt-xml-validate not installed "
                            "(apt-get install libvirt-clients)")
                    continue
                v = subprocess.run([validator, path, kind],
                                   capture_output=True, text=True,
                                   timeout=30)
                t.check(v.returncode == 0 and "validates" in v.stdout +
                        v.stderr, f"virt-xml-validate {name} {kind}",
                        v.stdout + v.stderr)
                if kind != "domain":
                    continue
                v = subprocess.run(["virsh", "-q", "-c", "test:///default",
                                    "define", path], capture_output=True,
                                   text=True, timeout=30)
                t.check(v.returncode == 0, f"virsh (test driver) defines "
                        f"{name}", v.stdout + v.stderr)

        # Escaping round-trips: the parsed documents hold the profile's
        # exact text (quotes, ampersands, angle brackets, spaces, UTF-8).
        base = os.path.join(tmp, "hostile.xml")
        dom = ET.parse(base).getroot()
        cell = dom.find(f"metadata/{NS}cell")
        img = os.path.join(src, "tests/golden/libvirt/profiles",
                           "disk dir/it's <a> & \"b\".qcow2")
        want = ("<b>&amp; \"quoted\" 'single' ]]> -- <!-- not a comment -->"
                " \u00e9\u20ac")
        t.check(dom.findtext("title") == want, "hostile title round-trips",
                repr(dom.findtext("title")))
        t.check(cell.findtext(f"{NS}owner") == "a&b <root@example.org>",
                "hostile owner round-trips")
        srcs = [s.get("file") for s in dom.iter("source") if s.get("file")]
        t.check(img in srcs and cell.find(f"{NS}image").get("path") == img,
                "hostile image path round-trips", repr(srcs))
        flt = ET.parse(base + ".nwfilter.xml").getroot()
        acc = [r for r in flt.findall("rule") if r.get("action") == "accept"
               and r.get("priority") == "500"]
        t.check(len(acc) == 3 and flt.findall("rule")[-1].get("action") ==
                "drop", "hostile filter: 3 allow rules (host: left out), "
                "final drop")
        # nothing that opens a path between guest and host, in any export
        bad = []
        for path in glob.glob(os.path.join(tmp, "*.xml")):
            root = ET.parse(path).getroot()
            for tag in ("hostdev", "redirdev", "filesystem", "channel",
                        "smartcard", "shmem", "rng", "sound"):
                if root.find(f"devices/{tag}") is not None:
                    bad.append(f"{path}: {tag}")
            for g in root.iter("graphics"):
                if [l.get("type") for l in g.iter("listen")] != ["socket"]:
                    bad.append(f"{path}: graphics not on a unix socket")
            if root.tag == "domain" and \
                    root.find("devices/memballoon").get("model") != "none":
                bad.append(f"{path}: memballoon")
        t.check(not bad, "no passthrough, VNC on unix sockets only, "
                "no balloon", "\n".join(bad))

        # stdout documents are the files
        prof = os.path.join(src, "profiles/xp-accounting.cell")
        same = True
        for suffix, kind in TYPES:
            p = export(walloff, ["--document", kind, prof], tmp)
            with open(os.path.join(tmp, "xp-accounting.xml" + suffix)) as f:
                same = same and p.returncode == 0 and p.stdout == f.read()
        t.check(same, "--document domain|nwfilter|secret equals -o files")
        p = export(walloff, ["--document", "secret",
                             os.path.join(src, "profiles/demo.cell")], tmp)
        t.check(p.returncode == 2 and not p.stdout,
                "no secret for an ephemeral cell: exit 2", p.stderr)

        # an invalid profile: check's message, exit 3, nothing written
        bad = os.path.join(src, "tests/golden/libvirt/profiles/invalid.cell")
        p = export(walloff, ["-o", os.path.join(tmp, "bad.xml"), bad], tmp)
        c = subprocess.run([walloff, "check", bad], capture_output=True,
                           text=True, timeout=30)
        t.check(p.returncode == 3 and p.stderr == c.stderr and
                not os.path.exists(os.path.join(tmp, "bad.xml")),
                "invalid profile: exit 3, walloff check's message",
                p.stderr + c.stderr)
        p = export(walloff, [prof], tmp)
        q = subprocess.run([walloff, "export", prof], capture_output=True,
                           text=True, timeout=30)
        t.check(p.returncode == 0 and q.returncode == 2,
                "usage: --libvirt is required (exit 2)")
    finally:
        shutil.rmtree(tmp)
    print(f"1..{t.n}")
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
