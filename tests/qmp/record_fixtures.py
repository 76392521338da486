#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""record_fixtures.py - record QMP traffic from the real QEMU into fixtures

Starts qemu-system-x86_64 -S -accel tcg with a small device model (IDE disk
on a qcow2 blockdev, an e1000, a PCI bridge with a second e1000 behind it, a
serial chardev), talks QMP to it and writes every line QEMU sends, byte for
byte, to tests/fixtures/qmp/: greeting.json, <name>.reply.json per command
and event-<NAME>.json per event. Run it by hand when QEMU changes:

    python3 tests/qmp/record_fixtures.py [QEMU] [OUTDIR]

The unit tests' fake server replays these files with the client's "id".
"""
import json, os, shutil, socket, subprocess, sys, tempfile, time

qemu = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/qemu-system-x86_64"
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "qmp")
tmp = tempfile.mkdtemp(prefix="qmprec")
sock = os.path.join(tmp, "qmp.sock")
disk = os.path.join(tmp, "disk.qcow2")
subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"],
               check=True)
argv = [qemu, "-S", "-accel", "tcg", "-nodefaults", "-machine", "pc",
        "-display", "none", "-m", "64",
        "-qmp", "unix:%s,server=on,wait=off" % sock,
        "-blockdev", "driver=file,filename=%s,node-name=file0" % disk,
        "-blockdev", "driver=qcow2,file=file0,node-name=disk0",
        "-device", "ide-hd,drive=disk0,bus=ide.0,id=hd0",
        "-device", "e1000,id=nic0",
        "-device", "pci-bridge,id=br1,chassis_nr=1",
        "-device", "e1000,id=nic1,bus=br1,addr=1",
        "-chardev", "socket,id=serial0,path=%s/serial.sock,server=on,wait=off"
        % tmp,
        "-serial", "chardev:serial0"]
p = subprocess.Popen(argv)
deadline = time.time() + 20
while not os.path.exists(sock):
    if time.time() > deadline or p.poll() is not None:
        sys.exit("qemu did not create %s" % sock)
    time.sleep(0.05)
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
f = s.makefile("rb")
seen = set()


def save(name, line):
    with open(os.path.join(out, name), "wb") as o:
        o.write(line)


def readmsg():
    line = f.readline()
    if not line:
        sys.exit("EOF from qemu")
    return line, json.loads(line)


def event(line, msg):
    name = msg["event"]
    if name == "JOB_STATUS_CHANGE" and msg["data"]["id"] == "save0":
        with open(os.path.join(out, "snapshot-save.events.jsonl"), "ab") as o:
            o.write(line)
    if name not in seen:
        seen.add(name)
        save("event-%s.json" % name, line)


def cmd(name, execute, args=None, wait_event=None):
    req = {"execute": execute, "id": "rec"}
    if args is not None:
        req["arguments"] = args
    s.sendall(json.dumps(req).encode() + b"\n")
    reply = None
    while True:
        line, msg = readmsg()
        if "event" in msg:
            event(line, msg)
            if wait_event and wait_event(msg):
                wait_event = None
                if reply is not None:
                    return reply
            continue
        if msg.get("id") == "rec":
            if name:
                save(name + ".reply.json", line)
            reply = msg
            if wait_event is None:
                return reply


try:
    os.unlink(os.path.join(out, "snapshot-save.events.jsonl"))
except FileNotFoundError:
    pass
line, _ = readmsg()
save("greeting.json", line)
cmd("qmp_capabilities", "qmp_capabilities")
cmd("query-status.prelaunch", "query-status")
cmd("query-pci", "query-pci")
cmd("query-block", "query-block")
cmd("query-chardev", "query-chardev")
cmd("query-version", "query-version")
cmd("screendump.error", "screendump", {"filename": tmp + "/x.ppm"})
cmd("unknown-command.error", "no-such-command")


def concluded(job):
    return lambda m: (m["event"] == "JOB_STATUS_CHANGE" and
                      m["data"]["id"] == job and
                      m["data"]["status"] == "concluded")


cmd("snapshot-save", "snapshot-save",
    {"job-id": "save0", "tag": "s1", "vmstate": "disk0",
     "devices": ["disk0"]}, concluded("save0"))
cmd("query-jobs.ok", "query-jobs")
cmd("job-dismiss", "job-dismiss", {"id": "save0"})
cmd(None, "snapshot-load",
    {"job-id": "load0", "tag": "nope", "vmstate": "disk0",
     "devices": ["disk0"]}, concluded("load0"))
cmd("query-jobs.error", "query-jobs")
cmd(None, "job-dismiss", {"id": "load0"})
cmd("cont", "cont", wait_event=lambda m: m["event"] == "RESUME")
cmd("query-status.running", "query-status")
# Bus numbers behind a PCI bridge are assigned by the firmware: before it
# ran (-S), query-pci lists the bridge without its devices. Wait for SeaBIOS.
for _ in range(200):
    r = cmd(None, "query-pci")
    if any("devices" in d.get("pci_bridge", {})
           for b in r["return"] for d in b["devices"]):
        cmd("query-pci.bridged", "query-pci")
        break
    time.sleep(0.05)
else:
    sys.exit("firmware did not number the bridge's bus")
cmd("stop", "stop", wait_event=lambda m: m["event"] == "STOP")
cmd("query-status.paused", "query-status")
cmd(None, "cont", wait_event=lambda m: m["event"] == "RESUME")
cmd("system_powerdown", "system_powerdown",
    wait_event=lambda m: m["event"] == "POWERDOWN")
cmd("device_del", "device_del", {"id": "nic1"})
cmd("quit", "quit", wait_event=lambda m: m["event"] == "SHUTDOWN")
p.wait(timeout=20)
shutil.rmtree(tmp)
print("recorded:", " ".join(sorted(os.listdir(out))))
