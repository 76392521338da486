#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Make the seed corpus of fuzz_verify (tests/fuzz/corpus/verify/).

Each seed is the replies a QEMU gives to verification, keyed by query, as
in tests/fixtures/verify/pc-ide-std.json (recorded from QEMU 7.2): the
recording itself, compact, and variants a hostile QEMU could send, the
same ones tests/launcher/test_verify.c asserts on (extra and hidden PCI
devices, bridges nested too deep, malformed entries, wrong types, extra
peripherals, a second block device, a TCP chardev, VNC on TCP, wrong sizes)
plus missing queries. Run: python3 tests/fuzz/mkcorpus_verify.py
"""

import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "verify", "pc-ide-std.json")
OUT = os.path.join(HERE, "corpus", "verify")


def bus0(j):
    return j["query-pci"][0]["devices"]


def main():
    with open(FIXTURE) as f:
        base = json.load(f)
    seeds = {"recorded": base}

    def variant(name, fn):
        j = copy.deepcopy(base)
        fn(j)
        seeds[name] = j

    variant("extra-pci", lambda j: bus0(j).append(
        {"id": {"vendor": 0x8086, "device": 0x100e}}))
    variant("hidden-bridge", lambda j: bus0(j).append(
        {"id": {"vendor": 0x1b36, "device": 1},
         "pci_bridge": {"devices": [{"id": {"vendor": 0x8086,
                                            "device": 0x24cd}}]}}))

    def deep(j):
        inner = []
        for _ in range(20):
            inner = [{"id": {"vendor": 0x1b36, "device": 1},
                      "pci_bridge": {"devices": inner}}]
        bus0(j).extend(inner)
    variant("deep-bridges", deep)
    variant("malformed-pci", lambda j: bus0(j).append(
        {"id": {"vendor": "8086", "device": 1}}))
    variant("pci-not-list", lambda j: j.update({"query-pci": "nope"}))
    variant("extra-peripheral", lambda j: j[
        "qom-list /machine/peripheral"].append(
        {"name": "evil", "type": "child<usb-host>"}))
    variant("anon-peripheral", lambda j: j[
        "qom-list /machine/peripheral-anon"].append(
        {"name": "device[0]", "type": "child<pci-testdev>"}))
    variant("cdrom", lambda j: j["query-block"].append(
        {"device": "ide1-cd0", "qdev": "cdrom"}))
    variant("no-block", lambda j: j["query-block"].clear())
    variant("tcp-monitor", lambda j: j["query-chardev"].append(
        {"label": "compat_monitor0",
         "filename": "tcp:0.0.0.0:4444,server=on"}))
    variant("vnc-ipv4", lambda j: j["query-vnc"].update({"family": "ipv4"}))
    variant("memory", lambda j: j["query-memory-size-summary"].update(
        {"base-memory": 1 << 30}))
    variant("two-cpus", lambda j: j["query-cpus-fast"].append(
        j["query-cpus-fast"][0]))
    variant("missing-pci", lambda j: j.pop("query-pci"))
    variant("missing-vnc", lambda j: j.pop("query-vnc"))
    variant("nulls", lambda j: j.update({k: None for k in list(j)}))

    os.makedirs(OUT, exist_ok=True)
    for name, j in seeds.items():
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(j, f, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main()
