/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_verify.c - device model verification against replies recorded from
 * QEMU 7.2 (tests/fixtures/verify/), then against altered and hostile ones
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "verify.h"

#define RUN "/run/golden/demo"

static json_t *fixture;
static struct profile prof;

struct fake {
	json_t *replies;
	const char *fail_cmd;
};

static int fake_query(void *ctx, const char *cmd, json_t *args, json_t **ret,
		      struct err *e)
{
	struct fake *f = ctx;
	char key[128];
	json_t *r;

	snprintf(key, sizeof(key), "%s%s%s", cmd, args ? " " : "",
		 args ? json_string_value(json_object_get(args, "path")) : "");
	json_decref(args);
	if (f->fail_cmd && !strcmp(f->fail_cmd, cmd))
		return err_set(e, ETIMEDOUT, "timed out");
	r = json_object_get(f->replies, key);
	if (!r)
		return err_set(e, ENOENT, "no fixture for %s", key);
	*ret = json_incref(r);
	return 0;
}

static json_t *verify(json_t *replies)
{
	struct fake f = { .replies = replies };
	json_t *report = NULL;
	struct err e;

	assert_int_equal(verify_device_model(&prof, RUN, fake_query, &f,
					     &report, &e), 0);
	return report;
}

static bool has_problem(json_t *report, const char *text)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(report, "problems"), i, p)
		if (strstr(json_string_value(p), text))
			return true;
	return false;
}

static void expect_problem(json_t *replies, const char *text)
{
	json_t *r = verify(replies);

	if (json_is_true(json_object_get(r, "ok")) || !has_problem(r, text)) {
		char *s = json_dumps(json_object_get(r, "problems"), 0);

		fail_msg("expected problem '%s', got %s", text, s);
	}
	json_decref(r);
	json_decref(replies);
}

static json_t *copy(void)
{
	return json_deep_copy(fixture);
}

static json_t *bus0(json_t *j)
{
	return json_object_get(json_array_get(json_object_get(j, "query-pci"), 0),
			       "devices");
}

static void test_recorded_ok(void **state)
{
	json_t *r = verify(fixture);

	if (!json_is_true(json_object_get(r, "ok"))) {
		char *s = json_dumps(r, 0);

		fail_msg("%s", s);
	}
	assert_int_equal(json_array_size(json_object_get(r, "pci")), 5);
	json_decref(r);
}

static void test_extra_pci(void **state)
{
	json_t *j = copy();

	json_array_append_new(bus0(j), json_pack("{s:{s:i, s:i}}", "id",
						 "vendor", 0x8086, "device", 0x100e));
	expect_problem(j, "PCI device 8086:100e not allowed");
}

static void test_missing_vga(void **state)
{
	json_t *j = copy();

	json_array_remove(bus0(j), 4);
	expect_problem(j, "PCI device 1234:1111 missing");
}

static void test_hidden_behind_bridge(void **state)
{
	json_t *j = copy();

	json_array_append_new(bus0(j), json_pack(
		"{s:{s:i, s:i}, s:{s:[{s:{s:i, s:i}}]}}", "id", "vendor", 0x1b36,
		"device", 0x0001, "pci_bridge", "devices", "id", "vendor", 0x8086,
		"device", 0x24cd));
	expect_problem(j, "PCI device 8086:24cd not allowed");
}

static void test_deep_bridges(void **state)
{
	json_t *j = copy(), *inner = json_array();
	int i;

	for (i = 0; i < 20; i++) {
		json_t *o = json_array();

		json_array_append_new(o, json_pack("{s:{s:i, s:i}, s:{s:o}}", "id",
						   "vendor", 0x1b36, "device", 1,
						   "pci_bridge", "devices", inner));
		inner = o;
	}
	json_array_extend(bus0(j), inner);
	json_decref(inner);
	expect_problem(j, "nested too deep");
}

static void test_malformed_pci(void **state)
{
	json_t *j = copy();

	json_array_append_new(bus0(j), json_pack("{s:{s:s, s:i}}", "id", "vendor",
						 "8086", "device", 1));
	expect_problem(j, "malformed device entry");
	j = copy();
	json_object_set_new(j, "query-pci", json_string("nope"));
	expect_problem(j, "reply is not a list");
}

static void test_extra_peripheral(void **state)
{
	json_t *j = copy();

	json_array_append_new(json_object_get(j, "qom-list /machine/peripheral"),
			      json_pack("{s:s, s:s}", "name", "evil", "type",
					"child<usb-host>"));
	expect_problem(j, "device 'evil' (child<usb-host>) not allowed");
	j = copy();
	json_array_append_new(json_object_get(j, "qom-list /machine/peripheral-anon"),
			      json_pack("{s:s, s:s}", "name", "device[0]", "type",
					"child<pci-testdev>"));
	expect_problem(j, "anonymous device child<pci-testdev> not allowed");
}

static void test_block(void **state)
{
	json_t *j = copy();

	json_array_append_new(json_object_get(j, "query-block"),
			      json_pack("{s:s, s:s}", "device", "ide1-cd0",
					"qdev", "cdrom"));
	expect_problem(j, "block device 'cdrom' not allowed");

	j = copy();
	json_object_set_new(json_object_get(json_object_get(json_object_get(
		json_array_get(json_object_get(j, "query-block"), 0), "inserted"),
		"image"), "backing-image"), "filename", json_string("/etc/shadow"));
	expect_problem(j, "backing image is not the pinned base descriptor");

	j = copy();
	json_array_clear(json_object_get(j, "query-block"));
	expect_problem(j, "disk0 missing");
}

static void test_chardev(void **state)
{
	json_t *j = copy();

	json_array_append_new(json_object_get(j, "query-chardev"),
			      json_pack("{s:s, s:s}", "label", "compat_monitor0",
					"filename", "tcp:0.0.0.0:4444,server=on"));
	expect_problem(j, "chardev 'compat_monitor0' (tcp:0.0.0.0:4444,server=on) not allowed");

	j = copy();
	json_object_set_new(json_array_get(json_object_get(j, "query-chardev"), 1),
			    "filename", json_string("pty:/dev/pts/3"));
	expect_problem(j, "chardev serial0 is 'pty:/dev/pts/3'");
}

static void test_vnc_and_size(void **state)
{
	json_t *j = copy();

	json_object_set_new(json_object_get(j, "query-vnc"), "family",
			    json_string("ipv4"));
	expect_problem(j, "VNC is not exactly the unix socket");

	j = copy();
	json_object_set_new(json_object_get(j, "query-memory-size-summary"),
			    "base-memory", json_integer(1 << 30));
	expect_problem(j, "memory is 1073741824 bytes, profile says 128M");

	j = copy();
	json_array_append(json_object_get(j, "query-cpus-fast"),
			  json_array_get(json_object_get(j, "query-cpus-fast"), 0));
	expect_problem(j, "CPU count is 2, profile says 1");
}

static void test_profile_mismatch(void **state)
{
	json_t *r;

	/* The same recorded QEMU is wrong for a profile with a NIC. */
	prof.net = NET_USER;
	r = verify(fixture);
	assert_false(json_is_true(json_object_get(r, "ok")));
	assert_true(has_problem(r, "PCI device 8086:100e missing"));
	assert_true(has_problem(r, "device 'net0' missing"));
	json_decref(r);
	prof.net = NET_NONE;
}

static void test_query_fails(void **state)
{
	struct fake f = { .replies = fixture, .fail_cmd = "query-block" };
	json_t *report = NULL;
	struct err e;

	assert_int_equal(verify_device_model(&prof, RUN, fake_query, &f,
					     &report, &e), -ETIMEDOUT);
	assert_null(report);
	assert_non_null(strstr(e.msg, "query-block"));
}

static int setup(void **state)
{
	char path[4096];
	json_error_t je;

	snprintf(path, sizeof(path), "%s/tests/fixtures/verify/pc-ide-std.json",
		 getenv("WALLOFF_SOURCE_ROOT"));
	fixture = json_load_file(path, 0, &je);
	if (!fixture) {
		fprintf(stderr, "%s: %s\n", path, je.text);
		return -1;
	}
	memset(&prof, 0, sizeof(prof));
	snprintf(prof.name, sizeof(prof.name), "demo");
	prof.machine = MACHINE_PC;
	prof.memory_mib = 128;
	prof.cpus = 1;
	prof.display = DISPLAY_STD;
	prof.input = INPUT_PS2;
	prof.has_disk = true;
	prof.bus = BUS_IDE;
	prof.format = FORMAT_RAW;
	prof.net = NET_NONE;
	return 0;
}

static int teardown(void **state)
{
	json_decref(fixture);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_ok),
		cmocka_unit_test(test_extra_pci),
		cmocka_unit_test(test_missing_vga),
		cmocka_unit_test(test_hidden_behind_bridge),
		cmocka_unit_test(test_deep_bridges),
		cmocka_unit_test(test_malformed_pci),
		cmocka_unit_test(test_extra_peripheral),
		cmocka_unit_test(test_block),
		cmocka_unit_test(test_chardev),
		cmocka_unit_test(test_vnc_and_size),
		cmocka_unit_test(test_profile_mismatch),
		cmocka_unit_test(test_query_fails),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
