/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_libvirt_xml.c - the libvirt export generator: hostile profile values
 * are escaped or refused, every device combination keeps the lockdown, the
 * disk, network and limits map as documented (exact documents are checked
 * by tests/golden/libvirt.py, which also runs virt-xml-validate on them)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "libvirt_xml.h"

static struct profile *base_profile(void)
{
	static struct profile p;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "t");
	snprintf(p.path, sizeof(p.path), "/etc/walloff/t.cell");
	snprintf(p.image, sizeof(p.image), "/srv/images/t.qcow2");
	p.memory_mib = 256;
	p.cpus = 1;
	p.has_disk = true;
	return &p;
}

static struct rule rule(const char *s)
{
	struct rule r;

	assert_int_equal(rule_parse(s, &r, NULL), 0);
	return r;
}

static void test_text_ok(void **state)
{
	static const char *const good[] = {
		"", "plain", "a'b\"c&d<e>f", "spaces in a path",
		"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", /* é € 😀 */
		"\xef\xbf\xbd",				/* U+FFFD is fine */
	};
	static const char *const bad[] = {
		"tab\there", "new\nline", "\x01", "del\x7f",
		"\xc3\x28",		/* broken sequence */
		"\xc0\xaf",		/* overlong '/' */
		"\xe0\x80\xaf",		/* overlong '/' */
		"\xed\xa0\x80",		/* surrogate */
		"\xc2\x85",		/* C1 NEL */
		"\xef\xbf\xbe",		/* U+FFFE */
		"\xef\xbf\xbf",		/* U+FFFF */
		"\xf4\x90\x80\x80",	/* beyond U+10FFFF */
		"\xff", "\xe2\x82",	/* truncated at the end */
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(libvirt_xml_text_ok(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(libvirt_xml_text_ok(bad[i]));
}

static void test_hostile_values_escaped(void **state)
{
	struct profile *p = base_profile();
	struct libvirt_opts o = { .network = "net'&<\"x\">" };
	struct libvirt_docs d;

	/* The profile parser would refuse most of these; the generator must
	 * not rely on it. */
	snprintf(p->name, sizeof(p->name), "a'b\"c&d<e>");
	snprintf(p->description, sizeof(p->description),
		 "</title><hostdev/> & ]]> -- <!--");
	snprintf(p->owner, sizeof(p->owner), "x' y='z");
	snprintf(p->image, sizeof(p->image), "/srv/my images/it's & <b>.img");
	p->disk_mode = DISK_PERSISTENT;
	p->net = NET_USER;
	assert_int_equal(libvirt_xml_build(p, &o, &d, NULL), 0);

	assert_null(strstr(d.domain, "a'b"));
	assert_null(strstr(d.domain, "<hostdev"));
	assert_null(strstr(d.domain, "]]>"));
	assert_null(strstr(d.domain, "y='z"));
	assert_non_null(strstr(d.domain,
			       "<name>a&apos;b&quot;c&amp;d&lt;e&gt;</name>"));
	assert_non_null(strstr(d.domain, "&lt;/title&gt;&lt;hostdev/&gt; "
					  "&amp; ]]&gt; -- &lt;!--"));
	assert_non_null(strstr(d.domain, "<source file='/srv/my images/"
					  "it&apos;s &amp; &lt;b&gt;.img'/>"));
	assert_non_null(strstr(d.domain, "<source network='net&apos;&amp;"
					  "&lt;&quot;x&quot;&gt;'/>"));
	assert_non_null(strstr(d.domain, "filter='walloff-a&apos;b"));
	assert_non_null(strstr(d.nwfilter, "<filter name='walloff-a&apos;b"));
	assert_non_null(strstr(d.secret, "walloff cell a&apos;b&quot;c&amp;"));
	/* only fixed text in comments: no profile string can end one */
	assert_null(strstr(d.domain, "-- <!--"));
	libvirt_docs_free(&d);
	assert_null(d.domain);
}

static void test_unrepresentable_refused(void **state)
{
	static const char *const bad[] = { "x\x01y", "\xc3\x28", "\xef\xbf\xbe" };
	struct libvirt_opts o = { 0 };
	struct libvirt_docs d;
	struct profile *p;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = base_profile();
		snprintf(p->description, sizeof(p->description), "%s", bad[i]);
		assert_int_equal(libvirt_xml_build(p, NULL, &d, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "description"));
		assert_null(d.domain);

		p = base_profile();
		snprintf(p->image, sizeof(p->image), "/srv/%s", bad[i]);
		assert_int_equal(libvirt_xml_build(p, NULL, &d, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "image"));

		p = base_profile();
		p->net = NET_USER;
		o.network = bad[i];
		assert_int_equal(libvirt_xml_build(p, &o, &d, &e), -EINVAL);
	}
	p = base_profile();
	p->disk_mode = DISK_PERSISTENT;
	o.network = NULL;
	o.overlay = "/srv/\x1b[31m.qcow2";
	assert_int_equal(libvirt_xml_build(p, &o, &d, &e), -EINVAL);
	o.overlay = "relative.qcow2";
	assert_int_equal(libvirt_xml_build(p, &o, &d, &e), -EINVAL);
	o.overlay = NULL;
	o.network = "";
	p->net = NET_USER;
	assert_int_equal(libvirt_xml_build(p, &o, &d, &e), -EINVAL);

	p = base_profile();
	snprintf(p->image, sizeof(p->image), "images/t.qcow2");
	assert_int_equal(libvirt_xml_build(p, NULL, &d, &e), -EINVAL);
	p = base_profile();
	p->has_disk = false;
	assert_int_equal(libvirt_xml_build(p, NULL, &d, &e), -EINVAL);
	p = base_profile();
	p->machine = MACHINE_Q35;
	p->bus = BUS_IDE;
	assert_int_equal(libvirt_xml_build(p, NULL, &d, &e), -EINVAL);
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle))) {
		n++;
		s++;
	}
	return n;
}

static void test_lockdown_all_combinations(void **state)
{
	static const char *const forbidden[] = {
		"<hostdev", "<redirdev", "<filesystem", "<channel",
		"<smartcard", "<shmem", "<rng", "<sound", "<watchdog",
		"<console", "type='spice'", "type='address'", "type='tcp'",
		"autoport", "passthrough", "<qemu:",
	};
	static const char *const video[] = { "vga", "cirrus", "vmvga" };
	static const char *const target[] = { "bus='ide'", "bus='sata'",
					      "bus='virtio'" };
	int m, b, dsp, in, n, mode, i;

	for (m = 0; m < 2; m++)
	for (b = 0; b < 3; b++)
	for (dsp = 0; dsp < 4; dsp++)
	for (in = 0; in < 2; in++)
	for (n = 0; n < 3; n++)
	for (mode = 0; mode < 2; mode++) {
		struct profile *p = base_profile();
		struct libvirt_docs d;
		char want[64];

		p->machine = (enum machine_type)m;
		p->bus = (enum disk_bus)b;
		p->display = (enum display_dev)dsp;
		p->input = (enum input_dev)in;
		p->net = (enum net_mode)n;
		p->disk_mode = (enum disk_mode)mode;
		if (p->net == NET_NFT) {
			p->has_guest_address = true;
			p->guest_address = 0x0a630002;
		}
		if (m == MACHINE_Q35 && b == BUS_IDE) {
			assert_int_equal(libvirt_xml_build(p, NULL, &d, NULL),
					 -EINVAL);
			continue;
		}
		assert_int_equal(libvirt_xml_build(p, NULL, &d, NULL), 0);
		for (i = 0; i < (int)(sizeof(forbidden) / sizeof(*forbidden));
		     i++)
			assert_null(strstr(d.domain, forbidden[i]));
		assert_int_equal(count(d.domain, "<memballoon model='none'/>"),
				 1);
		assert_int_equal(count(d.domain, "<on_crash>destroy</on_crash>"),
				 1);
		assert_int_equal(count(d.domain, "<seclabel type='dynamic' "
						 "relabel='yes'/>"), 1);
		assert_int_equal(count(d.domain, "<vmport state='off'/>"), 1);
		assert_int_equal(count(d.domain, "dumpCore='off'"), 1);
		assert_int_equal(count(d.domain, "<disk "), 1);
		assert_non_null(strstr(d.domain, target[b]));
		snprintf(want, sizeof(want), "machine='%s'",
			 m == MACHINE_Q35 ? "q35" : "pc");
		assert_non_null(strstr(d.domain, want));
		assert_int_equal(count(d.domain, "<serial type='pty'>"), 1);
		if (dsp == DISPLAY_NONE) {
			assert_null(strstr(d.domain, "<graphics"));
			assert_non_null(strstr(d.domain, "<model type='none'/>"));
		} else {
			assert_int_equal(count(d.domain, "<graphics "), 1);
			assert_int_equal(count(d.domain, "<listen "), 1);
			assert_int_equal(count(d.domain,
					       "<listen type='socket'/>"), 1);
			snprintf(want, sizeof(want), "<model type='%s' ",
				 video[dsp]);
			assert_non_null(strstr(d.domain, want));
		}
		if (in == INPUT_USB_TABLET) {
			assert_non_null(strstr(d.domain, "model='piix3-uhci'"));
			assert_non_null(strstr(d.domain, "<input type='tablet' "
							 "bus='usb'/>"));
		} else {
			assert_non_null(strstr(d.domain, "<controller "
				"type='usb' index='0' model='none'/>"));
			assert_null(strstr(d.domain, "<input"));
		}
		if (p->net == NET_NONE) {
			assert_null(strstr(d.domain, "<interface"));
			assert_null(d.nwfilter);
		} else {
			assert_int_equal(count(d.domain, "<interface "), 1);
			assert_int_equal(count(d.domain, "<filterref "), 1);
			assert_non_null(d.nwfilter);
			assert_non_null(strstr(d.nwfilter, "<rule action='drop' "
				"direction='inout' priority='1000'>\n"
				"    <all/>\n  </rule>\n</filter>\n"));
		}
		if (mode == DISK_PERSISTENT) {
			assert_non_null(d.secret);
			assert_non_null(strstr(d.domain,
					       "<encryption format='luks'>"));
			assert_non_null(strstr(d.domain, "<backingStore "));
			assert_null(strstr(d.domain, "<transient/>"));
		} else {
			assert_null(d.secret);
			assert_non_null(strstr(d.domain, "<transient/>"));
			assert_null(strstr(d.domain, "<encryption"));
		}
		libvirt_docs_free(&d);
	}
}

static void test_accel_and_limits(void **state)
{
	struct profile *p = base_profile();
	struct libvirt_docs d;

	p->accel = ACCEL_TCG;
	assert_int_equal(libvirt_xml_build(p, NULL, &d, NULL), 0);
	assert_non_null(strstr(d.domain, "<domain type='qemu'>"));
	assert_null(strstr(d.domain, "<cputune>"));
	assert_null(strstr(d.domain, "<memtune>"));
	libvirt_docs_free(&d);

	p->accel = ACCEL_AUTO;
	p->cpus = 3;
	p->memory_mib = 2048;
	p->cpu_quota_pct = 250;
	p->memory_max_mib = 3000;
	p->pids_max = 99;
	assert_int_equal(libvirt_xml_build(p, NULL, &d, NULL), 0);
	assert_non_null(strstr(d.domain, "<domain type='kvm'>"));
	assert_non_null(strstr(d.domain, "<vcpu placement='static'>3</vcpu>"));
	assert_non_null(strstr(d.domain, ">2048</memory>"));
	assert_non_null(strstr(d.domain, "<global_period>100000"));
	assert_non_null(strstr(d.domain, "<global_quota>250000<"));
	assert_non_null(strstr(d.domain, "<hard_limit unit='MiB'>3000<"));
	assert_non_null(strstr(d.domain, "pids-max = 99"));
	libvirt_docs_free(&d);
}

static void test_network(void **state)
{
	struct profile *p = base_profile();
	struct libvirt_opts o = { .network = "isolated" };
	struct libvirt_docs d;

	p->net = NET_USER;
	p->nic = NIC_PCNET;
	p->allow[p->n_allow++] = rule("tcp 10.20.0.5:1433");
	p->allow[p->n_allow++] = rule("udp 10.0.0.0/8:*");
	p->allow[p->n_allow++] = rule("icmp 192.168.0.0/16");
	p->allow[p->n_allow++] = rule("tcp host:445");
	assert_int_equal(libvirt_xml_build(p, &o, &d, NULL), 0);
	assert_non_null(strstr(d.domain, "<source network='isolated'/>"));
	assert_non_null(strstr(d.domain, "<model type='pcnet'/>"));
	assert_non_null(strstr(d.domain, "<filterref filter='walloff-t'/>"));
	assert_non_null(strstr(d.nwfilter, "<filterref filter='clean-traffic'/>"));
	assert_non_null(strstr(d.nwfilter, "<udp srcportstart='68' "
					   "dstportstart='67'/>"));
	assert_non_null(strstr(d.nwfilter, "<tcp dstipaddr='10.20.0.5' "
		"dstipmask='32' dstportstart='1433' dstportend='1433'/>"));
	assert_non_null(strstr(d.nwfilter, "<udp dstipaddr='10.0.0.0' "
					   "dstipmask='8'/>"));
	assert_non_null(strstr(d.nwfilter, "<icmp dstipaddr='192.168.0.0' "
					   "dstipmask='16'/>"));
	/* the host's loopback has no meaning on libvirt: not an accept */
	assert_int_equal(count(d.nwfilter, "<rule action='accept' "
				     "direction='out' priority='500'>"), 3);
	assert_non_null(strstr(d.nwfilter, "allow = tcp host:445: not "
					   "carried over"));
	libvirt_docs_free(&d);

	/* nft mode: bridge and fixed address, no DHCP */
	p = base_profile();
	p->net = NET_NFT;
	snprintf(p->bridge, sizeof(p->bridge), "br-legacy");
	p->has_guest_address = true;
	p->guest_address = 0x0a630002;
	assert_int_equal(libvirt_xml_build(p, NULL, &d, NULL), 0);
	assert_non_null(strstr(d.domain, "<interface type='bridge'>\n"
		"      <source bridge='br-legacy'/>"));
	assert_non_null(strstr(d.domain, "<parameter name='IP' "
					 "value='10.99.0.2'/>"));
	assert_null(strstr(d.nwfilter, "srcportstart='68'"));
	libvirt_docs_free(&d);
}

static void test_secret_uuid_stable(void **state)
{
	struct profile *p = base_profile();
	struct libvirt_opts o = { .overlay = "/vol/a b.qcow2" };
	struct libvirt_docs d;
	char first[37], want[128];

	p->disk_mode = DISK_PERSISTENT;
	assert_int_equal(libvirt_xml_build(p, NULL, &d, NULL), 0);
	assert_int_equal(strlen(d.secret_uuid), 36);
	assert_int_equal(d.secret_uuid[14], '5');	/* version */
	assert_non_null(strchr("89ab", d.secret_uuid[19]));	/* variant */
	strcpy(first, d.secret_uuid);
	assert_string_equal(d.overlay, LIBVIRT_OVERLAY_DIR "/walloff-t.qcow2");
	snprintf(want, sizeof(want), "<uuid>%s</uuid>", first);
	assert_non_null(strstr(d.secret, want));
	snprintf(want, sizeof(want), "uuid='%s'", first);
	assert_non_null(strstr(d.domain, want));
	/* no key material, ever */
	assert_null(strstr(d.secret, "<value"));
	libvirt_docs_free(&d);

	assert_int_equal(libvirt_xml_build(p, &o, &d, NULL), 0);
	assert_string_equal(d.secret_uuid, first);	/* same cell */
	assert_non_null(strstr(d.secret, "<volume>/vol/a b.qcow2</volume>"));
	assert_non_null(strstr(d.domain, "<source file='/vol/a b.qcow2'>"));
	libvirt_docs_free(&d);

	snprintf(p->name, sizeof(p->name), "u");
	assert_int_equal(libvirt_xml_build(p, NULL, &d, NULL), 0);
	assert_string_not_equal(d.secret_uuid, first);
	libvirt_docs_free(&d);
}

static void test_losses(void **state)
{
	struct profile *p = base_profile();
	char out[1024];

	assert_int_equal(libvirt_xml_losses(p, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	p->net = NET_USER;
	p->allow[p->n_allow++] = rule("tcp host:445");
	p->dns = DNS_ALLOWLIST;
	p->host_access = true;
	p->has_console = true;
	p->has_sha256 = true;
	assert_int_equal(libvirt_xml_losses(p, out, sizeof(out)), 5);
	assert_non_null(strstr(out, "- allow = tcp host:445"));
	assert_non_null(strstr(out, "walloff-console"));
	/* a small buffer truncates but still counts */
	assert_int_equal(libvirt_xml_losses(p, out, 10), 5);
	assert_true(strlen(out) < 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_ok),
		cmocka_unit_test(test_hostile_values_escaped),
		cmocka_unit_test(test_unrepresentable_refused),
		cmocka_unit_test(test_lockdown_all_combinations),
		cmocka_unit_test(test_accel_and_limits),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_secret_uuid_stable),
		cmocka_unit_test(test_losses),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
