/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_argv.c - invariants of the QEMU argv builder for every combination
 * of machine, bus, display, input and NIC, plus escaping of hostile paths
 * (exact command lines are checked by the golden tests)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qemu_argv.h"

static void base_profile(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "t");
	p->memory_mib = 256;
	p->cpus = 1;
	p->has_disk = true;
}

static int find(char **v, const char *opt, const char *val)
{
	int i;

	for (i = 0; v[i]; i++)
		if (!strcmp(v[i], opt) && v[i + 1] && (!val || !strcmp(v[i + 1], val)))
			return i;
	return -1;
}

static void test_invariants_all_combinations(void **state)
{
	struct qemu_plan plan = { .qemu = "/usr/bin/qemu-system-x86_64",
				  .run_dir = "/run/walloff/t" };
	struct profile p;
	int m, b, d, in, n, i;

	for (m = 0; m < 2; m++)
	for (b = 0; b < 3; b++)
	for (d = 0; d < 4; d++)
	for (in = 0; in < 2; in++)
	for (n = -1; n < 4; n++) {
		struct strv sv = { 0 };
		struct err e;
		int r;

		base_profile(&p);
		p.machine = (enum machine_type)m;
		p.bus = (enum disk_bus)b;
		p.display = (enum display_dev)d;
		p.input = (enum input_dev)in;
		p.net = n < 0 ? NET_NONE : NET_USER;
		p.nic = n < 0 ? NIC_E1000 : (enum nic_model)n;
		r = qemu_argv_build(&p, &plan, &sv, &e);
		if (m == MACHINE_Q35 && b == BUS_IDE) {
			assert_int_equal(r, -EINVAL);
			strv_free(&sv);
			continue;
		}
		assert_int_equal(r, 0);
		assert_non_null(sv.v);
		assert_true(find(sv.v, "-nodefaults", NULL) > 0);
		assert_true(find(sv.v, "-no-user-config", NULL) > 0);
		assert_true(find(sv.v, "-S", NULL) > 0);
		assert_true(find(sv.v, "-display", "none") > 0);
		assert_true(find(sv.v, "-sandbox",
				 "on,obsolete=deny,elevateprivileges=deny,"
				 "spawn=deny,resourcecontrol=deny") > 0);
		assert_int_equal(find(sv.v, "-runas", NULL), -1);
		assert_int_equal(find(sv.v, "-drive", NULL), -1);
		for (i = 0; sv.v[i]; i++) {
			/* nothing listens or connects on TCP, ever */
			assert_null(strstr(sv.v[i], "tcp:"));
			assert_null(strstr(sv.v[i], "\"inet\""));
			assert_null(strstr(sv.v[i], "hostfwd"));
			if (!strcmp(sv.v[i], "-vnc"))
				assert_true(!strncmp(sv.v[i + 1], "unix:/run/walloff/t/", 20));
		}
		assert_true((find(sv.v, "-vnc", NULL) > 0) == (d != DISPLAY_NONE));
		/* diskfull: a failed disk request pauses, never reaches the
		 * guest (launcher/diskwatch.c) */
		for (i = 0; sv.v[i]; i++)
			if (!strcmp(sv.v[i], "-device") &&
			    strstr(sv.v[i + 1], "\"drive\":\"disk0\""))
				break;
		assert_non_null(sv.v[i]);
		assert_non_null(strstr(sv.v[i + 1], "\"werror\":\"stop\""));
		assert_non_null(strstr(sv.v[i + 1], "\"rerror\":\"stop\""));
		strv_free(&sv);
	}
}

static void test_run_dir_escaping(void **state)
{
	struct qemu_plan plan = { .qemu = "q", .run_dir = "/tmp/a,b=c,server=off" };
	struct strv sv = { 0 };
	struct profile p;
	struct err e;
	int i;

	base_profile(&p);
	assert_int_equal(qemu_argv_build(&p, &plan, &sv, &e), 0);
	i = find(sv.v, "-chardev", NULL);
	assert_true(i > 0);
	assert_string_equal(sv.v[i + 1],
			    "socket,id=qmp,path=/tmp/a,,b=c,,server=off/qmp.sock,"
			    "server=on,wait=off");
	strv_free(&sv);

	plan.run_dir = "/tmp/a\nb";
	assert_int_equal(qemu_argv_build(&p, &plan, &sv, &e), -EINVAL);
	strv_free(&sv);
}

static void test_net_json(void **state)
{
	struct qemu_plan plan = { .qemu = "q", .run_dir = "/tmp/x\"y" };
	struct strv sv = { 0 };
	struct profile p;
	struct err e;
	int i;

	base_profile(&p);
	p.net = NET_USER;
	assert_int_equal(qemu_argv_build(&p, &plan, &sv, &e), 0);
	i = find(sv.v, "-netdev", NULL);
	assert_true(i > 0);
	/* The quote is JSON-escaped, not able to end the string. */
	assert_non_null(strstr(sv.v[i + 1], "\"path\":\"/tmp/x\\\"y/net.sock\""));
	assert_non_null(strstr(sv.v[i + 1], "\"server\":false"));
	strv_free(&sv);
}

static void test_mac(void **state)
{
	uint8_t a[6], b[6], c[6];

	qemu_mac("xp-accounting", a);
	qemu_mac("xp-accounting", b);
	qemu_mac("other", c);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	assert_int_equal(a[0], 0x52);
	assert_int_equal(a[3] & 0x80, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invariants_all_combinations),
		cmocka_unit_test(test_run_dir_escaping),
		cmocka_unit_test(test_net_json),
		cmocka_unit_test(test_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
