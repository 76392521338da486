/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify.c - the device model QEMU actually built, checked one for one
 *
 * The argv builder only writes whitelisted devices, but the argv is not the
 * truth: QEMU adds built-in devices per machine type, a wrapper or a future
 * QEMU may add more, and a mistake in the builder should not reach a guest.
 * So after QEMU starts paused (-S), we ask it what it built and compare with
 * what the profile implies, before `cont`:
 *
 *   query-pci                PCI functions as vendor:device, on every bus
 *   qom-list peripheral      user-created devices by id: exactly ours
 *   qom-list peripheral-anon user-created devices without id: none
 *   query-block              one device, "disk0", overlay over base fds
 *   query-chardev            exactly "qmp" and "serial0", unix sockets in RUN
 *   query-vnc                unix socket in RUN, or disabled
 *   query-cpus-fast, query-memory-size-summary
 *
 * Under -S the firmware has not numbered bridged buses yet, so query-pci
 * shows bus 0 only; a device behind a bridge is still caught, twice: the
 * bridge itself is an unexpected PCI function on bus 0, and every device
 * created from the command line (named or not) shows up in the qom-list
 * checks.
 *
 * Everything QEMU says is treated as untrusted JSON: each member is type
 * checked, lists are bounded (MAX_ITEMS) and strings are copied bounded. Any
 * difference is a "problem"; one problem fails the verification.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

/* Far more than any legal cell has; bounds work on hostile replies. */
#define MAX_ITEMS 64
#define MAX_DEPTH 4	/* PCI bridges nested deeper than this are refused */

struct pci_id {
	unsigned vendor, device;
};

struct ctx {
	json_t *problems;
	json_t *report;
};

static void problem(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct ctx *c, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_array_size(c->problems) < MAX_ITEMS)
		json_array_append_new(c->problems, json_string(buf));
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The PCI functions the profile implies, built-ins first. */
static unsigned expected_pci(const struct profile *p, struct pci_id *out)
{
	static const struct pci_id vga[] = {
		{ 0x1234, 0x1111 }, { 0x1013, 0x00b8 }, { 0x15ad, 0x0405 },
	};
	static const struct pci_id nic[] = {
		{ 0x8086, 0x100e }, { 0x10ec, 0x8139 }, { 0x1022, 0x2000 },
		{ 0x10ec, 0x8029 },
	};
	unsigned n = 0;

	if (p->machine == MACHINE_PC) {
		out[n++] = (struct pci_id){ 0x8086, 0x1237 };	/* i440FX */
		out[n++] = (struct pci_id){ 0x8086, 0x7000 };	/* PIIX3 ISA */
		out[n++] = (struct pci_id){ 0x8086, 0x7010 };	/* PIIX3 IDE */
		out[n++] = (struct pci_id){ 0x8086, 0x7113 };	/* PIIX4 ACPI */
	} else {
		out[n++] = (struct pci_id){ 0x8086, 0x29c0 };	/* Q35 host */
		out[n++] = (struct pci_id){ 0x8086, 0x2918 };	/* ICH9 LPC */
		out[n++] = (struct pci_id){ 0x8086, 0x2922 };	/* ICH9 AHCI */
		out[n++] = (struct pci_id){ 0x8086, 0x2930 };	/* ICH9 SMBus */
	}
	if (p->display != DISPLAY_NONE)
		out[n++] = vga[p->display];
	if (p->input == INPUT_USB_TABLET)
		out[n++] = (struct pci_id){ 0x8086, 0x7020 };	/* PIIX3 UHCI */
	if (p->has_disk && p->bus == BUS_AHCI && p->machine == MACHINE_PC)
		out[n++] = (struct pci_id){ 0x8086, 0x2922 };
	if (p->has_disk && p->bus == BUS_VIRTIO)
		out[n++] = (struct pci_id){ 0x1af4, 0x1001 };
	if (p->net != NET_NONE)
		out[n++] = nic[p->nic];
	return n;
}

static void collect_pci(struct ctx *c, json_t *devices, int depth,
			struct pci_id *seen, unsigned *n, json_t *list)
{
	size_t i;
	json_t *d;

	if (!json_is_array(devices)) {
		problem(c, "query-pci: devices is not a list");
		return;
	}
	if (depth > MAX_DEPTH) {
		problem(c, "query-pci: PCI bridges nested too deep");
		return;
	}
	json_array_foreach(devices, i, d) {
		json_t *id = json_object_get(d, "id");
		json_t *br = json_object_get(d, "pci_bridge");
		json_int_t v = json_integer_value(json_object_get(id, "vendor"));
		json_int_t dev = json_integer_value(json_object_get(id, "device"));
		char buf[16];

		if (*n >= MAX_ITEMS) {
			problem(c, "query-pci: more than %d functions", MAX_ITEMS);
			return;
		}
		if (!json_is_object(d) || !json_is_integer(json_object_get(id, "vendor")) ||
		    !json_is_integer(json_object_get(id, "device")) ||
		    v < 0 || v > 0xffff || dev < 0 || dev > 0xffff) {
			problem(c, "query-pci: malformed device entry");
			continue;
		}
		seen[*n].vendor = (unsigned)v;
		seen[*n].device = (unsigned)dev;
		(*n)++;
		snprintf(buf, sizeof(buf), "%04x:%04x", (unsigned)v, (unsigned)dev);
		json_array_append_new(list, json_string(buf));
		if (br)
			collect_pci(c, json_object_get(br, "devices"), depth + 1,
				    seen, n, list);
	}
}

static int cmp_pci(const void *a, const void *b)
{
	const struct pci_id *x = a, *y = b;

	if (x->vendor != y->vendor)
		return x->vendor < y->vendor ? -1 : 1;
	if (x->device != y->device)
		return x->device < y->device ? -1 : 1;
	return 0;
}

static void check_pci(struct ctx *c, const struct profile *p, json_t *ret)
{
	struct pci_id want[16], seen[MAX_ITEMS];
	unsigned nw, ns = 0, i = 0, j = 0;
	json_t *list = json_array(), *bus;
	size_t k;

	nw = expected_pci(p, want);
	if (!json_is_array(ret)) {
		problem(c, "query-pci: reply is not a list");
		json_decref(list);
		return;
	}
	json_array_foreach(ret, k, bus) {
		if (k >= MAX_ITEMS)
			break;
		collect_pci(c, json_object_get(bus, "devices"), 0, seen, &ns,
			    list);
	}
	json_object_set_new(c->report, "pci", list);

	qsort(want, nw, sizeof(want[0]), cmp_pci);
	qsort(seen, ns, sizeof(seen[0]), cmp_pci);
	while (i < nw || j < ns) {
		int r = i == nw ? 1 : j == ns ? -1 : cmp_pci(&want[i], &seen[j]);

		if (r == 0) {
			i++;
			j++;
		} else if (r < 0) {
			problem(c, "PCI device %04x:%04x missing", want[i].vendor,
				want[i].device);
			i++;
		} else {
			problem(c, "PCI device %04x:%04x not allowed by the profile",
				seen[j].vendor, seen[j].device);
			j++;
		}
	}
}

static void check_peripherals(struct ctx *c, const struct profile *p,
			      json_t *named, json_t *anon)
{
	const char *want[8];
	unsigned nw = 0, i;
	json_t *list = json_array(), *d;
	size_t k;

	want[nw++] = "com1";
	if (p->display != DISPLAY_NONE)
		want[nw++] = "video0";
	if (p->input == INPUT_USB_TABLET) {
		want[nw++] = "usb";
		want[nw++] = "tablet0";
	}
	if (p->has_disk) {
		want[nw++] = "disk0";
		if (p->bus == BUS_AHCI && p->machine == MACHINE_PC)
			want[nw++] = "ahci0";
	}
	if (p->net != NET_NONE)
		want[nw++] = "net0";

	if (!json_is_array(named) || !json_is_array(anon)) {
		problem(c, "qom-list: reply is not a list");
		json_decref(list);
		return;
	}
	json_array_foreach(named, k, d) {
		const char *name = str(d, "name"), *type = str(d, "type");
		bool ok = false;

		if (!name || !type) {
			problem(c, "qom-list: malformed entry");
			continue;
		}
		if (strncmp(type, "child<", 6))
			continue;	/* properties such as "type" */
		if (json_array_size(list) < MAX_ITEMS)
			json_array_append_new(list, json_pack("{s:s, s:s}", "id",
							      name, "type", type));
		for (i = 0; i < nw; i++) {
			if (want[i] && !strcmp(want[i], name)) {
				want[i] = NULL;
				ok = true;
				break;
			}
		}
		if (!ok)
			problem(c, "device '%.64s' (%.64s) not allowed by the profile",
				name, type);
	}
	for (i = 0; i < nw; i++)
		if (want[i])
			problem(c, "device '%s' missing", want[i]);
	json_array_foreach(anon, k, d) {
		const char *type = str(d, "type");

		if (type && !strncmp(type, "child<", 6))
			problem(c, "anonymous device %.64s not allowed", type);
	}
	json_object_set_new(c->report, "peripherals", list);
}

static void check_block(struct ctx *c, const struct profile *p, json_t *ret)
{
	json_t *list = json_array(), *b;
	unsigned ours = 0;
	size_t k;

	if (!json_is_array(ret)) {
		problem(c, "query-block: reply is not a list");
		json_decref(list);
		return;
	}
	json_array_foreach(ret, k, b) {
		const char *qdev = str(b, "qdev");
		json_t *ins = json_object_get(b, "inserted");
		const char *node = str(ins, "node-name");
		json_t *img = json_object_get(ins, "image");
		json_t *back = json_object_get(img, "backing-image");

		if (k >= MAX_ITEMS)
			break;
		if (json_array_size(list) < MAX_ITEMS)
			json_array_append_new(list, json_pack("{s:s, s:s}", "qdev",
				qdev ? qdev : "", "node", node ? node : ""));
		if (!p->has_disk || !qdev || strcmp(qdev, "disk0")) {
			problem(c, "block device '%.64s' not allowed by the profile",
				qdev ? qdev : "?");
			continue;
		}
		ours++;
		if (!node || strcmp(node, "disk0"))
			problem(c, "disk0 is not backed by our overlay node");
		if (json_integer_value(json_object_get(ins, "backing_file_depth")) != 1)
			problem(c, "disk0: expected exactly one backing layer");
		if (!back || !str(back, "filename") ||
		    strcmp(str(back, "filename"), "/dev/fdset/1"))
			problem(c, "disk0: backing image is not the pinned base descriptor");
		if (json_object_get(back, "backing-image"))
			problem(c, "disk0: the base image has a backing file of its own");
	}
	if (p->has_disk && ours != 1)
		problem(c, "disk0 missing");
	json_object_set_new(c->report, "block", list);
}

static void check_chardev(struct ctx *c, const char *run_dir, json_t *ret)
{
	static const char *const labels[] = { "qmp", "serial0" };
	static const char *const socks[] = { "qmp.sock", "serial.sock" };
	json_t *list = json_array(), *d;
	bool seen[2] = { false, false };
	size_t k;
	int i;

	if (!json_is_array(ret)) {
		problem(c, "query-chardev: reply is not a list");
		json_decref(list);
		return;
	}
	json_array_foreach(ret, k, d) {
		const char *label = str(d, "label"), *fn = str(d, "filename");
		char want[4200];
		bool ok = false;

		if (k >= MAX_ITEMS)
			break;
		if (!label || !fn) {
			problem(c, "query-chardev: malformed entry");
			continue;
		}
		if (json_array_size(list) < MAX_ITEMS)
			json_array_append_new(list, json_pack("{s:s, s:s}", "label",
							      label, "filename", fn));
		for (i = 0; i < 2; i++) {
			if (strcmp(label, labels[i]))
				continue;
			if (!strncmp(fn, "disconnected:", 13))
				fn += 13;
			snprintf(want, sizeof(want), "unix:%s/%s,server=on",
				 run_dir, socks[i]);
			if (strcmp(fn, want))
				problem(c, "chardev %s is '%.128s', expected '%.128s'",
					label, fn, want);
			seen[i] = true;
			ok = true;
		}
		if (!ok)
			problem(c, "chardev '%.64s' (%.128s) not allowed", label, fn);
	}
	for (i = 0; i < 2; i++)
		if (!seen[i])
			problem(c, "chardev %s missing", labels[i]);
	json_object_set_new(c->report, "chardev", list);
}

static void check_vnc(struct ctx *c, const struct profile *p,
		      const char *run_dir, json_t *ret)
{
	char want[4200];
	const char *fam = str(ret, "family"), *svc = str(ret, "service");

	if (p->display == DISPLAY_NONE) {
		if (!json_is_false(json_object_get(ret, "enabled")))
			problem(c, "VNC is enabled but the profile has no display");
		return;
	}
	snprintf(want, sizeof(want), "%s/vnc.sock", run_dir);
	if (!json_is_true(json_object_get(ret, "enabled")) || !fam ||
	    strcmp(fam, "unix") || !svc || strcmp(svc, want))
		problem(c, "VNC is not exactly the unix socket %s", want);
	else
		json_object_set_new(c->report, "vnc", json_string(svc));
}

static void check_size(struct ctx *c, const struct profile *p, json_t *cpus,
		       json_t *mem)
{
	json_int_t bytes = json_integer_value(json_object_get(mem, "base-memory"));

	if (!json_is_array(cpus) || json_array_size(cpus) != p->cpus)
		problem(c, "CPU count is %zu, profile says %u",
			json_is_array(cpus) ? json_array_size(cpus) : 0, p->cpus);
	if (bytes != (json_int_t)p->memory_mib * 1024 * 1024)
		problem(c, "memory is %lld bytes, profile says %lluM",
			(long long)bytes, (unsigned long long)p->memory_mib);
}

int verify_device_model(const struct profile *p, const char *run_dir,
			verify_query_fn query, void *qctx, json_t **report,
			struct err *e)
{
	static const char *const cmds[] = {
		"query-pci", "qom-list", "qom-list", "query-block",
		"query-chardev", "query-vnc", "query-cpus-fast",
		"query-memory-size-summary",
	};
	json_t *r[8] = { NULL };
	struct ctx c;
	int ret = 0;
	size_t i;

	c.problems = json_array();
	c.report = json_object();
	for (i = 0; i < 8; i++) {
		json_t *args = NULL;

		if (i == 1)
			args = json_pack("{s:s}", "path", "/machine/peripheral");
		if (i == 2)
			args = json_pack("{s:s}", "path", "/machine/peripheral-anon");
		ret = query(qctx, cmds[i], args, &r[i], e);
		if (ret) {
			err_prefix(e, "%s", cmds[i]);
			goto out;
		}
	}
	check_pci(&c, p, r[0]);
	check_peripherals(&c, p, r[1], r[2]);
	check_block(&c, p, r[3]);
	check_chardev(&c, run_dir, r[4]);
	check_vnc(&c, p, run_dir, r[5]);
	check_size(&c, p, r[6], r[7]);

	json_object_set_new(c.report, "ok",
			    json_boolean(json_array_size(c.problems) == 0));
	json_object_set(c.report, "problems", c.problems);
	*report = c.report;
	c.report = NULL;
out:
	for (i = 0; i < 8; i++)
		json_decref(r[i]);
	json_decref(c.problems);
	json_decref(c.report);
	return ret;
}
