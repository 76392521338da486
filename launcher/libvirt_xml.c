/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt_xml.c - a cell as libvirt documents, for sites that place cells
 * on libvirt-based clusters (`walloff export --libvirt`)
 *
 * The domain mirrors launcher/qemu_argv.c element for element: the same
 * machine type, memory, CPUs and CPU model, RTC, disk bus, NIC model, VGA
 * model and input, and nothing else. What QEMU would add by itself is
 * switched off explicitly where libvirt would otherwise add it (a USB
 * controller when the profile has no tablet, the memory balloon); no
 * element that opens a path between guest and host is ever written
 * (hostdev, redirdev, filesystem, channel, smartcard, shmem, rng, sound).
 * The console is VNC on a unix socket only, the serial port a pty: no TCP
 * listener in QEMU, as under walloff. sVirt labels the domain dynamically.
 *
 * The disk: ephemeral cells use the base image with <transient/> (libvirt
 * puts a throw-away overlay on it); persistent cells use a LUKS-encrypted
 * qcow2 overlay whose backing store is the base, the key a libvirt secret
 * referenced by a UUID derived from the cell name (stable across exports,
 * so a re-export still matches the secret defined on the host). The secret
 * document carries no key: the admin sets it with virsh secret-set-value.
 *
 * The egress allowlist becomes an nwfilter: libvirt's clean-traffic (no
 * MAC, IP or ARP spoofing, IPv4 and ARP only), DHCP when the guest has no
 * fixed address, one accept rule per allow rule (outgoing; libvirt's
 * connection tracking lets the replies in), and a final drop of everything
 * else in both directions.
 *
 * Pure: profile in, text out. Every value that comes from the profile is
 * checked by libvirt_xml_text_ok() and escaped; enums become fixed strings
 * and never pass through the escaper. Comments hold only fixed text and
 * canonical rule text, never profile strings (a "--" would end them).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hex.h"
#include "libvirt_xml.h"
#include "qemu_argv.h"

/* Growable text with a sticky error: callers append freely, check once. */
struct xbuf {
	char *s;
	size_t len, cap;
	int error;		/* 0 or -errno */
};

static void xb_put(struct xbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *ns;

	if (b->error)
		return;
	if (b->len + n + 1 > LIBVIRT_XML_MAX) {
		b->error = -E2BIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (!ns) {
			b->error = -ENOMEM;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Fixed markup and numbers only: never a profile string. */
static void __attribute__((format(printf, 2, 3)))
xb_printf(struct xbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->error = b->error ? b->error : -E2BIG;
		return;
	}
	xb_put(b, tmp, (size_t)n);
}

/* A profile string, escaped for element text and '-quoted attributes. */
static void xb_esc(struct xbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			xb_put(b, "&amp;", 5);
			break;
		case '<':
			xb_put(b, "&lt;", 4);
			break;
		case '>':
			xb_put(b, "&gt;", 4);
			break;
		case '\'':
			xb_put(b, "&apos;", 6);
			break;
		case '"':
			xb_put(b, "&quot;", 6);
			break;
		default:
			xb_put(b, s, 1);
		}
	}
}

/* <tag>escaped text</tag> on its own line at @indent spaces. */
static void xb_elem(struct xbuf *b, int indent, const char *tag, const char *s)
{
	xb_printf(b, "%*s<%s>", indent, "", tag);
	xb_esc(b, s);
	xb_printf(b, "</%s>\n", tag);
}

bool libvirt_xml_text_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c;
	int n, i;

	while (*u) {
		if (*u < 0x80) {
			if (*u < 0x20 || *u == 0x7f)
				return false;
			u++;
			continue;
		}
		if ((*u & 0xe0) == 0xc0) {
			c = *u & 0x1f;
			n = 1;
		} else if ((*u & 0xf0) == 0xe0) {
			c = *u & 0x0f;
			n = 2;
		} else if ((*u & 0xf8) == 0xf0) {
			c = *u & 0x07;
			n = 3;
		} else {
			return false;
		}
		for (i = 1; i <= n; i++) {
			if ((u[i] & 0xc0) != 0x80)
				return false;	/* also stops at the NUL */
			c = (c << 6) | (u[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond Unicode, C1 controls,
		 * the two non-characters XML 1.0 excludes */
		if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) ||
		    (n == 3 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff) || (c >= 0x80 && c <= 0x9f) ||
		    c == 0xfffe || c == 0xffff)
			return false;
		u += n + 1;
	}
	return true;
}

static void ipv4_str(uint32_t a, char out[static 16])
{
	snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff);
}

/* Stable name-based UUID (RFC 4122 layout, version 5 bits, SHA-256 in
 * place of SHA-1): the same cell always names the same secret. */
static void secret_uuid(const char *cell, char out[static 37])
{
	static const char ns[] = "walloff libvirt disk secret:";
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex[33];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)ns,
				  sizeof(ns) - 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)cell,
				  strlen(cell));
	crypto_hash_sha256_final(&st, h);
	h[6] = (h[6] & 0x0f) | 0x50;
	h[8] = (h[8] & 0x3f) | 0x80;
	hex_encode(hex, h, 16);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
}

static const char *target_dev(enum disk_bus bus)
{
	switch (bus) {
	case BUS_AHCI:
		return "dev='sda' bus='sata'";
	case BUS_VIRTIO:
		return "dev='vda' bus='virtio'";
	case BUS_IDE:
	default:
		return "dev='hda' bus='ide'";
	}
}

static void domain_disk(const struct profile *p, const struct libvirt_docs *d,
			struct xbuf *b)
{
	const char *fmt = p->format == FORMAT_RAW ? "raw" : "qcow2";

	xb_printf(b, "    <disk type='file' device='disk'>\n");
	if (p->disk_mode == DISK_EPHEMERAL) {
		xb_printf(b, "      <!-- ephemeral: libvirt writes to a "
			  "throw-away overlay; the base is never written "
			  "-->\n");
		xb_printf(b, "      <driver name='qemu' type='%s'/>\n", fmt);
		xb_printf(b, "      <source file='");
		xb_esc(b, p->image);
		xb_printf(b, "'/>\n");
		xb_printf(b, "      <target %s/>\n", target_dev(p->bus));
		xb_printf(b, "      <transient/>\n");
		xb_printf(b, "    </disk>\n");
		return;
	}
	xb_printf(b, "      <!-- persistent: LUKS-encrypted qcow2 overlay on "
		  "the read-only base; key in the libvirt secret -->\n");
	xb_printf(b, "      <driver name='qemu' type='qcow2'/>\n");
	xb_printf(b, "      <source file='");
	xb_esc(b, d->overlay);
	xb_printf(b, "'>\n");
	xb_printf(b, "        <encryption format='luks'>\n");
	xb_printf(b, "          <secret type='passphrase' uuid='%s'/>\n",
		  d->secret_uuid);
	xb_printf(b, "        </encryption>\n");
	xb_printf(b, "      </source>\n");
	xb_printf(b, "      <backingStore type='file'>\n");
	xb_printf(b, "        <format type='%s'/>\n", fmt);
	xb_printf(b, "        <source file='");
	xb_esc(b, p->image);
	xb_printf(b, "'/>\n");
	xb_printf(b, "        <backingStore/>\n");
	xb_printf(b, "      </backingStore>\n");
	xb_printf(b, "      <target %s/>\n", target_dev(p->bus));
	xb_printf(b, "    </disk>\n");
}

static void domain_nic(const struct profile *p, const struct libvirt_opts *o,
		       struct xbuf *b)
{
	static const char *const models[] = { "e1000", "rtl8139", "pcnet",
					      "ne2k_pci" };
	char ip[16];
	uint8_t m[6];

	if (p->net == NET_NONE) {
		xb_printf(b, "    <!-- [network] mode = none: no NIC -->\n");
		return;
	}
	qemu_mac(p->name, m);
	if (p->net == NET_NFT && p->bridge[0]) {
		xb_printf(b, "    <interface type='bridge'>\n");
		xb_printf(b, "      <source bridge='");
		xb_esc(b, p->bridge);
		xb_printf(b, "'/>\n");
	} else {
		xb_printf(b, "    <interface type='network'>\n");
		xb_printf(b, "      <source network='");
		xb_esc(b, o && o->network ? o->network :
					    LIBVIRT_DEFAULT_NETWORK);
		xb_printf(b, "'/>\n");
	}
	xb_printf(b, "      <mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n",
		  m[0], m[1], m[2], m[3], m[4], m[5]);
	xb_printf(b, "      <model type='%s'/>\n", models[p->nic]);
	xb_printf(b, "      <filterref filter='%s", LIBVIRT_FILTER_PREFIX);
	xb_esc(b, p->name);
	if (p->has_guest_address) {
		ipv4_str(p->guest_address, ip);
		xb_printf(b, "'>\n        <parameter name='IP' value='%s'/>\n"
			  "      </filterref>\n", ip);
	} else {
		xb_printf(b, "'/>\n");
	}
	xb_printf(b, "    </interface>\n");
}

static void domain_devices(const struct profile *p,
			   const struct libvirt_opts *o,
			   const struct libvirt_docs *d, struct xbuf *b)
{
	static const char *const video[] = { "vga", "cirrus", "vmvga" };

	xb_printf(b, "  <devices>\n");
	domain_disk(p, d, b);
	if (p->input == INPUT_USB_TABLET) {
		xb_printf(b, "    <controller type='usb' index='0' "
			  "model='piix3-uhci'/>\n");
		xb_printf(b, "    <input type='tablet' bus='usb'/>\n");
	} else {
		xb_printf(b, "    <!-- no USB at all: nothing can be "
			  "redirected or plugged -->\n");
		xb_printf(b, "    <controller type='usb' index='0' "
			  "model='none'/>\n");
	}
	domain_nic(p, o, b);
	xb_printf(b, "    <serial type='pty'>\n");
	xb_printf(b, "      <target type='isa-serial' port='0'>\n");
	xb_printf(b, "        <model name='isa-serial'/>\n");
	xb_printf(b, "      </target>\n");
	xb_printf(b, "    </serial>\n");
	if (p->display != DISPLAY_NONE) {
		xb_printf(b, "    <!-- VNC on a unix socket in libvirt's "
			  "private folder (virsh domdisplay); no TCP -->\n");
		xb_printf(b, "    <graphics type='vnc'>\n");
		xb_printf(b, "      <listen type='socket'/>\n");
		xb_printf(b, "    </graphics>\n");
		xb_printf(b, "    <video>\n");
		xb_printf(b, "      <model type='%s' heads='1' "
			  "primary='yes'/>\n", video[p->display]);
		xb_printf(b, "    </video>\n");
	} else {
		xb_printf(b, "    <video>\n");
		xb_printf(b, "      <model type='none'/>\n");
		xb_printf(b, "    </video>\n");
	}
	xb_printf(b, "    <!-- never written: hostdev, redirdev, filesystem, "
		  "channel (no guest agent, no spice agent), smartcard, shmem, "
		  "rng, sound -->\n");
	xb_printf(b, "    <memballoon model='none'/>\n");
	xb_printf(b, "  </devices>\n");
}

static void domain_limits(const struct profile *p, struct xbuf *b)
{
	/* the same arithmetic as launcher/cgroup.c: percent of one CPU */
	static const unsigned period_us = 100000;

	if (p->cpu_quota_pct) {
		xb_printf(b, "  <cputune>\n");
		xb_printf(b, "    <global_period>%u</global_period>\n",
			  period_us);
		xb_printf(b, "    <global_quota>%u</global_quota>\n",
			  p->cpu_quota_pct * (period_us / 100));
		xb_printf(b, "  </cputune>\n");
	}
	if (p->memory_max_mib) {
		xb_printf(b, "  <memtune>\n");
		xb_printf(b, "    <hard_limit unit='MiB'>%llu</hard_limit>\n",
			  (unsigned long long)p->memory_max_mib);
		xb_printf(b, "  </memtune>\n");
	}
	if (p->pids_max)
		xb_printf(b, "  <!-- [limits] pids-max = %u has no per-domain "
			  "libvirt setting: see max_processes in qemu.conf "
			  "-->\n", p->pids_max);
}

static void domain_doc(const struct profile *p, const struct libvirt_opts *o,
		       const struct libvirt_docs *d, struct xbuf *b)
{
	char hex[65];

	xb_printf(b, "<!-- walloff cell, exported by walloff export: the "
		  "device model and lockdown of walloff run. Not carried over: "
		  "the console proxy and its roles, the audit of denied flows, "
		  "the QMP verification of the device model, the image pin "
		  "check, dormancy. See the README, Fleets: libvirt export. "
		  "-->\n");
	xb_printf(b, "<domain type='%s'>\n",
		  p->accel == ACCEL_TCG ? "qemu" : "kvm");
	xb_elem(b, 2, "name", p->name);
	if (p->description[0])
		xb_elem(b, 2, "title", p->description);
	xb_printf(b, "  <metadata>\n");
	xb_printf(b, "    <walloff:cell xmlns:walloff='%s' name='",
		  LIBVIRT_XMLNS);
	xb_esc(b, p->name);
	xb_printf(b, "' profile='");
	xb_esc(b, p->path);
	xb_printf(b, "'>\n");
	if (p->owner[0])
		xb_elem(b, 6, "walloff:owner", p->owner);
	xb_printf(b, "      <walloff:image path='");
	xb_esc(b, p->image);
	if (p->has_sha256) {
		hex_encode(hex, p->sha256, sizeof(p->sha256));
		xb_printf(b, "' sha256='%s", hex);
	}
	xb_printf(b, "'/>\n");
	xb_printf(b, "    </walloff:cell>\n");
	xb_printf(b, "  </metadata>\n");

	xb_printf(b, "  <memory unit='MiB' dumpCore='off'>%llu</memory>\n",
		  (unsigned long long)p->memory_mib);
	xb_printf(b, "  <currentMemory unit='MiB'>%llu</currentMemory>\n",
		  (unsigned long long)p->memory_mib);
	xb_printf(b, "  <vcpu placement='static'>%u</vcpu>\n", p->cpus);
	domain_limits(p, b);
	xb_printf(b, "  <os>\n");
	xb_printf(b, "    <type arch='x86_64' machine='%s'>hvm</type>\n",
		  p->machine == MACHINE_Q35 ? "q35" : "pc");
	xb_printf(b, "    <boot dev='hd'/>\n");
	xb_printf(b, "    <bootmenu enable='no'/>\n");
	xb_printf(b, "  </os>\n");
	xb_printf(b, "  <features>\n");
	xb_printf(b, "    <acpi/>\n");
	xb_printf(b, "    <vmport state='off'/>\n");
	xb_printf(b, "  </features>\n");
	xb_printf(b, "  <cpu mode='custom' match='exact' check='none'>\n");
	xb_printf(b, "    <model fallback='forbid'>qemu64</model>\n");
	xb_printf(b, "  </cpu>\n");
	xb_printf(b, "  <clock offset='%s'>\n",
		  p->rtc == RTC_LOCALTIME ? "localtime" : "utc");
	xb_printf(b, "    <timer name='rtc' tickpolicy='catchup'/>\n");
	xb_printf(b, "  </clock>\n");
	xb_printf(b, "  <on_poweroff>destroy</on_poweroff>\n");
	xb_printf(b, "  <on_reboot>restart</on_reboot>\n");
	xb_printf(b, "  <on_crash>destroy</on_crash>\n");
	domain_devices(p, o, d, b);
	xb_printf(b, "  <seclabel type='dynamic' relabel='yes'/>\n");
	xb_printf(b, "</domain>\n");
}

static void filter_rule(const struct rule *r, struct xbuf *b)
{
	char text[RULE_TEXT_MAX], ip[16];

	rule_format(r, text, sizeof(text));
	if (r->host) {
		xb_printf(b, "  <!-- allow = %s: not carried over (the host's "
			  "loopback exists behind walloff-net only) -->\n",
			  text);
		return;
	}
	ipv4_str(r->net, ip);
	xb_printf(b, "  <!-- allow = %s -->\n", text);
	xb_printf(b, "  <rule action='accept' direction='out' "
		  "priority='500'>\n");
	xb_printf(b, "    <%s dstipaddr='%s' dstipmask='%u'",
		  r->proto == RULE_PROTO_TCP ? "tcp" :
		  r->proto == RULE_PROTO_UDP ? "udp" : "icmp", ip, r->prefix);
	if (r->proto != RULE_PROTO_ICMP &&
	    !(r->port_lo == 1 && r->port_hi == 65535))
		xb_printf(b, " dstportstart='%u' dstportend='%u'", r->port_lo,
			  r->port_hi);
	xb_printf(b, "/>\n");
	xb_printf(b, "  </rule>\n");
}

static void filter_doc(const struct profile *p, struct xbuf *b)
{
	unsigned i;

	xb_printf(b, "<!-- walloff cell egress allowlist: accept what the "
		  "profile allows (replies come back through connection "
		  "tracking), drop everything else both ways -->\n");
	xb_printf(b, "<filter name='%s", LIBVIRT_FILTER_PREFIX);
	xb_esc(b, p->name);
	xb_printf(b, "' chain='root'>\n");
	xb_printf(b, "  <!-- no MAC, IP or ARP spoofing; IPv4 and ARP only "
		  "-->\n");
	xb_printf(b, "  <filterref filter='clean-traffic'/>\n");
	if (!p->has_guest_address) {
		xb_printf(b, "  <!-- DHCP: the guest learns its address -->\n");
		xb_printf(b, "  <rule action='accept' direction='out' "
			  "priority='100'>\n");
		xb_printf(b, "    <udp srcportstart='68' "
			  "dstportstart='67'/>\n");
		xb_printf(b, "  </rule>\n");
		xb_printf(b, "  <rule action='accept' direction='in' "
			  "priority='100'>\n");
		xb_printf(b, "    <udp srcportstart='67' "
			  "dstportstart='68'/>\n");
		xb_printf(b, "  </rule>\n");
	}
	for (i = 0; i < p->n_allow; i++)
		filter_rule(&p->allow[i], b);
	if (p->dns == DNS_ALLOWLIST)
		xb_printf(b, "  <!-- dns = allowlist: not carried over (name "
			  "filtering is walloff-net's); allow a resolver with "
			  "a rule -->\n");
	if (p->host_access)
		xb_printf(b, "  <!-- host-access = allow: not carried over "
			  "-->\n");
	xb_printf(b, "  <!-- everything else, both directions -->\n");
	xb_printf(b, "  <rule action='drop' direction='inout' "
		  "priority='1000'>\n");
	xb_printf(b, "    <all/>\n");
	xb_printf(b, "  </rule>\n");
	xb_printf(b, "</filter>\n");
}

static void secret_doc(const struct profile *p, const struct libvirt_docs *d,
		       struct xbuf *b)
{
	xb_printf(b, "<!-- the LUKS key of a walloff cell's persistent disk. "
		  "No value here: set it on the host with virsh "
		  "secret-set-value (see the README) -->\n");
	xb_printf(b, "<secret ephemeral='no' private='yes'>\n");
	xb_printf(b, "  <description>walloff cell ");
	xb_esc(b, p->name);
	xb_printf(b, ": key of its encrypted disk</description>\n");
	xb_printf(b, "  <uuid>%s</uuid>\n", d->secret_uuid);
	xb_printf(b, "  <usage type='volume'>\n");
	xb_elem(b, 4, "volume", d->overlay);
	xb_printf(b, "  </usage>\n");
	xb_printf(b, "</secret>\n");
}

/* The text that ends up in a document, checked before any is written. */
static int check_text(const char *what, const char *s, struct err *e)
{
	if (!libvirt_xml_text_ok(s))
		return err_set(e, EINVAL,
			       "%s: holds a character XML cannot carry "
			       "(control character or invalid UTF-8)", what);
	return 0;
}

static char *finish(struct xbuf *b, int *ret)
{
	if (b->error) {
		if (!*ret)
			*ret = b->error;
		free(b->s);
		return NULL;
	}
	return b->s;
}

int libvirt_xml_build(const struct profile *p, const struct libvirt_opts *o,
		      struct libvirt_docs *d, struct err *e)
{
	struct xbuf dom = { 0 }, flt = { 0 }, sec = { 0 };
	int ret = 0;

	memset(d, 0, sizeof(*d));
	if (!p->has_disk)
		return err_set(e, EINVAL, "%s: a cell needs a [disk]", p->path);
	if (p->image[0] != '/')
		return err_set(e, EINVAL, "[disk] image: libvirt needs an "
			       "absolute path");
	if (p->machine == MACHINE_Q35 && p->bus == BUS_IDE)
		return err_set(e, EINVAL, "q35 has no IDE controller: use bus "
			       "= ahci or type = pc");
	if (p->disk_mode == DISK_PERSISTENT) {
		if (o && o->overlay) {
			if (o->overlay[0] != '/')
				return err_set(e, EINVAL, "--overlay: an "
					       "absolute path, please");
			if ((size_t)snprintf(d->overlay, sizeof(d->overlay),
					     "%s", o->overlay) >=
			    sizeof(d->overlay))
				return err_set(e, ENAMETOOLONG, "--overlay: "
					       "path too long");
		} else {
			snprintf(d->overlay, sizeof(d->overlay),
				 "%s/walloff-%s.qcow2", LIBVIRT_OVERLAY_DIR,
				 p->name);
		}
		secret_uuid(p->name, d->secret_uuid);
	}
	if ((ret = check_text("[cell] name", p->name, e)) ||
	    (ret = check_text("[cell] description", p->description, e)) ||
	    (ret = check_text("[cell] owner", p->owner, e)) ||
	    (ret = check_text("profile path", p->path, e)) ||
	    (ret = check_text("[disk] image", p->image, e)) ||
	    (ret = check_text("[network] bridge", p->bridge, e)) ||
	    (ret = check_text("overlay path", d->overlay, e)) ||
	    (o && o->network &&
	     (ret = check_text("--network", o->network, e))))
		return ret;
	if (o && o->network && !o->network[0])
		return err_set(e, EINVAL, "--network: empty name");

	domain_doc(p, o, d, &dom);
	d->domain = finish(&dom, &ret);
	if (p->net != NET_NONE) {
		filter_doc(p, &flt);
		d->nwfilter = finish(&flt, &ret);
	}
	if (p->disk_mode == DISK_PERSISTENT) {
		secret_doc(p, d, &sec);
		d->secret = finish(&sec, &ret);
	}
	if (ret) {
		libvirt_docs_free(d);
		return err_set(e, -ret, "libvirt export: %s", strerror(-ret));
	}
	return 0;
}

void libvirt_docs_free(struct libvirt_docs *d)
{
	free(d->domain);
	free(d->nwfilter);
	free(d->secret);
	d->domain = d->nwfilter = d->secret = NULL;
}

static void add_loss(char *out, size_t len, size_t *o, unsigned *n,
		     const char *line)
{
	int w;

	(*n)++;
	if (*o >= len)
		return;
	w = snprintf(out + *o, len - *o, "- %s\n", line);
	if (w > 0)
		*o += (size_t)w < len - *o ? (size_t)w : len - *o - 1;
}

unsigned libvirt_xml_losses(const struct profile *p, char *out, size_t len)
{
	char line[RULE_TEXT_MAX + 80], text[RULE_TEXT_MAX];
	unsigned i, n = 0;
	size_t o = 0;

	if (len)
		out[0] = '\0';
	for (i = 0; i < p->n_allow; i++) {
		if (!p->allow[i].host)
			continue;
		rule_format(&p->allow[i], text, sizeof(text));
		snprintf(line, sizeof(line), "allow = %s: the host's loopback "
			 "exists behind walloff-net only; left out", text);
		add_loss(out, len, &o, &n, line);
	}
	if (p->net != NET_NONE && p->dns == DNS_ALLOWLIST)
		add_loss(out, len, &o, &n, "dns = allowlist: names are "
			 "filtered by walloff-net only; allow a resolver with "
			 "a rule");
	if (p->net != NET_NONE && p->host_access)
		add_loss(out, len, &o, &n, "host-access = allow: left out");
	if (p->pids_max)
		add_loss(out, len, &o, &n, "pids-max: no per-domain libvirt "
			 "setting; see max_processes in qemu.conf");
	if (p->has_console)
		add_loss(out, len, &o, &n, "[console]: no Noise proxy, keys or "
			 "roles; run walloff-console against the VNC socket");
	if (p->has_sha256)
		add_loss(out, len, &o, &n, "[disk] sha256: libvirt does not "
			 "check the pin (it is kept in the domain's metadata)");
	if (p->has_dormancy)
		add_loss(out, len, &o, &n, "[dormancy]: not enforced by "
			 "libvirt");
	if (p->has_snapshots)
		add_loss(out, len, &o, &n, "[snapshots] keep/max-age: not "
			 "enforced by libvirt");
	return n;
}
