/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu_argv.c - build QEMU's command line from a profile
 *
 * The device model is assembled from a fixed menu: a machine type (i440fx
 * "pc" or "q35"), memory, CPUs, one disk on IDE, AHCI or virtio-blk, one NIC
 * of four legacy models, one VGA model, PS/2 or a USB tablet, and a COM1
 * serial port. -nodefaults and -no-user-config remove everything QEMU would
 * add by itself (floppy, CD-ROM, default NIC, monitor, parallel port,
 * /etc/qemu config), so the device list is exactly what is written here and
 * launcher/verify.c can check it one for one over QMP.
 *
 * All control channels are unix sockets in the cell's 0700 run folder: QMP,
 * the serial port and VNC; there is never a TCP listener in QEMU. QEMU runs
 * with the full -sandbox (obsolete, elevateprivileges, spawn and
 * resourcecontrol denied), -display none, vmport off and guest memory kept
 * out of core dumps.
 *
 * Disks: QEMU never opens an image by path. The supervisor opens the base
 * read-only (and hashes that very descriptor against the pin) and the
 * overlay read-write, and passes both with -add-fd; the -blockdev nodes name
 * /dev/fdset/N. So QEMU, running unprivileged, needs no access to the image
 * store or the state folder, and a file swapped after the hash is not used.
 * The disk device has werror=stop,rerror=stop: a failed request (a full
 * overlay filesystem above all) pauses the VM instead of reaching a legacy
 * guest that would corrupt its filesystem; launcher/diskwatch.c resumes it.
 *
 * Injection: profile values reach this file only as enums, numbers and file
 * paths. Block devices are passed as JSON (-blockdev/-device JSON syntax,
 * jansson does the quoting); paths in QemuOpts options (-chardev, -vnc) are
 * escaped by doubling commas, and any path holding a control character is
 * refused outright.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "qemu_argv.h"

void qemu_mac(const char *cell, uint8_t mac[static 6])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)cell, strlen(cell));
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = h[0] & 0x7f;	/* keep clear of 52:54:00:ff:..., used by tests */
	mac[4] = h[1];
	mac[5] = h[2];
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* QemuOpts value escaping: a literal ',' is written ",,". */
static int qopt(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s; s++) {
		if (o + 3 > len)
			return -ENAMETOOLONG;
		if (*s == ',')
			out[o++] = ',';
		out[o++] = *s;
	}
	out[o] = '\0';
	return 0;
}

static void push_json(struct strv *sv, const char *opt, json_t *j)
{
	char *s;

	strv_push(sv, opt);
	if (!j) {
		sv->error = -ENOMEM;
		return;
	}
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s) {
		sv->error = -ENOMEM;
		return;
	}
	strv_push(sv, s);
	free(s);
}

static int sock_opt(char *out, size_t len, const char *dir, const char *name)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	return qopt(out, len, path);
}

static void add_disk(const struct profile *p, const struct qemu_plan *plan,
		     struct strv *sv)
{
	const char *bus = NULL;

	strv_push(sv, "-add-fd");
	strv_pushf(sv, "fd=%d,set=%d,opaque=base", QEMU_FD_BASE, QEMU_FDSET_BASE);
	strv_push(sv, "-add-fd");
	strv_pushf(sv, "fd=%d,set=%d,opaque=overlay", QEMU_FD_OVERLAY,
		   QEMU_FDSET_OVERLAY);
	push_json(sv, "-blockdev",
		  json_pack("{s:s, s:s, s:s, s:b}", "node-name", "base-file",
			    "driver", "file", "filename", QEMU_FDSET_PATH(1),
			    "read-only", 1));
	push_json(sv, "-blockdev",
		  json_pack("{s:s, s:s, s:s, s:b}", "node-name", "base",
			    "driver", p->format == FORMAT_RAW ? "raw" : "qcow2",
			    "file", "base-file", "read-only", 1));
	push_json(sv, "-blockdev",
		  json_pack("{s:s, s:s, s:s}", "node-name", "overlay-file",
			    "driver", "file", "filename", QEMU_FDSET_PATH(2)));
	if (plan->disk_secret) {
		/* The key from a file, never on this command line (disk.c). */
		char key[4200];

		if (qopt(key, sizeof(key), plan->disk_secret))
			sv->error = -ENAMETOOLONG;
		strv_push(sv, "-object");
		strv_pushf(sv, "secret,id=disk0-key,format=raw,file=%s", key);
		push_json(sv, "-blockdev",
			  json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}}",
				    "node-name", "disk0", "driver", "qcow2",
				    "file", "overlay-file", "backing", "base",
				    "encrypt", "format", "luks", "key-secret",
				    "disk0-key"));
		if (plan->memory) {
			/* Live snapshots' memory states: qcow2 in LUKS with
			 * the disk's key, not attached to any device. */
			strv_push(sv, "-add-fd");
			strv_pushf(sv, "fd=%d,set=%d,opaque=memory",
				   QEMU_FD_MEMORY, QEMU_FDSET_MEMORY);
			push_json(sv, "-blockdev", json_pack(
				"{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}}",
				"node-name", "mem0", "driver", "qcow2", "file",
				"driver", "luks", "key-secret", "disk0-key",
				"file", "driver", "file", "filename",
				QEMU_FDSET_PATH(3)));
		}
	} else {
		push_json(sv, "-blockdev",
			  json_pack("{s:s, s:s, s:s, s:s}", "node-name", "disk0",
				    "driver", "qcow2", "file", "overlay-file",
				    "backing", "base"));
	}

	switch (p->bus) {
	case BUS_IDE:
		bus = "ide.0";
		break;
	case BUS_AHCI:
		if (p->machine == MACHINE_PC) {
			push_json(sv, "-device",
				  json_pack("{s:s, s:s}", "driver", "ahci",
					    "id", "ahci0"));
			bus = "ahci0.0";
		} else {
			bus = "ide.0";	/* q35's built-in ICH9 AHCI */
		}
		break;
	case BUS_VIRTIO:
		push_json(sv, "-device",
			  json_pack("{s:s, s:s, s:s, s:s, s:s}", "driver",
				    "virtio-blk-pci", "drive", "disk0", "id",
				    "disk0", "werror", "stop", "rerror",
				    "stop"));
		return;
	}
	push_json(sv, "-device",
		  json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "driver",
			    "ide-hd", "bus", bus, "drive", "disk0", "id",
			    "disk0", "werror", "stop", "rerror", "stop"));
}

static void add_nic(const struct profile *p, const struct qemu_plan *plan,
		    struct strv *sv)
{
	static const char *const models[] = { "e1000", "rtl8139", "pcnet",
					      "ne2k_pci" };
	char path[4096], mac[18];
	uint8_t m[6];

	if (p->net == NET_NONE)
		return;
	qemu_mac(p->name, m);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	snprintf(path, sizeof(path), "%s/net.sock", plan->run_dir);
	if (p->net == NET_NFT)	/* nft mode hook: tap fd from nft_net.c */
		push_json(sv, "-netdev",
			  json_pack("{s:s, s:s, s:s}", "type", "tap", "id",
				    "net0", "fd", QEMU_FD_TAP_ARG));
	else
	push_json(sv, "-netdev",
		  json_pack("{s:s, s:s, s:b, s:{s:s, s:s}}", "type", "stream",
			    "id", "net0", "server", 0, "addr", "type", "unix",
			    "path", path));
	push_json(sv, "-device",
		  json_pack("{s:s, s:s, s:s, s:s}", "driver", models[p->nic],
			    "netdev", "net0", "mac", mac, "id", "net0"));
}

int qemu_argv_build(const struct profile *p, const struct qemu_plan *plan,
		    struct strv *sv, struct err *e)
{
	static const char *const vga[] = { "VGA", "cirrus-vga", "vmware-svga" };
	char qmp[4200], serial[4200], vnc[4200];

	if (has_ctl(plan->run_dir))
		return err_set(e, EINVAL, "control character in a path");
	if (p->machine == MACHINE_Q35 && p->bus == BUS_IDE)
		return err_set(e, EINVAL,
			       "q35 has no IDE controller: use bus = ahci or type = pc");
	if (sock_opt(qmp, sizeof(qmp), plan->run_dir, "qmp.sock") ||
	    sock_opt(serial, sizeof(serial), plan->run_dir, "serial.sock") ||
	    sock_opt(vnc, sizeof(vnc), plan->run_dir, "vnc.sock"))
		return err_set(e, ENAMETOOLONG, "run folder path too long");

	strv_push(sv, plan->qemu);
	strv_push(sv, "-name");
	strv_pushf(sv, "guest=%s", p->name);
	strv_push(sv, "-S");
	strv_push(sv, "-nodefaults");
	strv_push(sv, "-no-user-config");
	strv_push(sv, "-sandbox");
	strv_push(sv, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
		      "resourcecontrol=deny");
	strv_push(sv, "-machine");
	strv_pushf(sv, "%s,vmport=off,dump-guest-core=off",
		   p->machine == MACHINE_Q35 ? "q35" : "pc");
	strv_push(sv, "-accel");
	strv_push(sv, plan->kvm ? "kvm" : "tcg");
	strv_push(sv, "-m");
	strv_pushf(sv, "%llu", (unsigned long long)p->memory_mib);
	strv_push(sv, "-smp");
	strv_pushf(sv, "%u", p->cpus);
	strv_push(sv, "-rtc");
	strv_pushf(sv, "base=%s,driftfix=slew",
		   p->rtc == RTC_LOCALTIME ? "localtime" : "utc");
	strv_push(sv, "-boot");
	strv_push(sv, "order=c,menu=off,strict=on");
	strv_push(sv, "-display");
	strv_push(sv, "none");
	strv_push(sv, "-msg");
	strv_push(sv, "timestamp=on");

	strv_push(sv, "-chardev");
	strv_pushf(sv, "socket,id=qmp,path=%s,server=on,wait=off", qmp);
	strv_push(sv, "-mon");
	strv_push(sv, "chardev=qmp,mode=control");
	strv_push(sv, "-chardev");
	strv_pushf(sv, "socket,id=serial0,path=%s,server=on,wait=off", serial);
	push_json(sv, "-device",
		  json_pack("{s:s, s:s, s:s}", "driver", "isa-serial", "chardev",
			    "serial0", "id", "com1"));

	if (p->display != DISPLAY_NONE) {
		push_json(sv, "-device",
			  json_pack("{s:s, s:s}", "driver", vga[p->display],
				    "id", "video0"));
		strv_push(sv, "-vnc");
		strv_pushf(sv, "unix:%s", vnc);
	}
	if (p->input == INPUT_USB_TABLET) {
		push_json(sv, "-device",
			  json_pack("{s:s, s:s}", "driver", "piix3-usb-uhci",
				    "id", "usb"));
		push_json(sv, "-device",
			  json_pack("{s:s, s:s, s:s}", "driver", "usb-tablet",
				    "bus", "usb.0", "id", "tablet0"));
	}
	if (p->has_disk)
		add_disk(p, plan, sv);
	add_nic(p, plan, sv);

	if (sv->error)
		return err_set(e, -sv->error, "building QEMU argv: out of memory");
	return 0;
}

static bool needs_quote(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("-_./=,:+@%", *s)))
			return true;
	return false;
}

static void print_arg(const char *s, FILE *f)
{
	if (!needs_quote(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

void qemu_argv_print(char *const *argv, FILE *f)
{
	size_t i;

	print_arg(argv[0], f);
	for (i = 1; argv[i]; i++) {
		fputs(argv[i][0] == '-' ? " \\\n    " : " ", f);
		print_arg(argv[i], f);
	}
	fputc('\n', f);
}
