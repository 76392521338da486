/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_imgfmt.c - the format probe on real headers made by qemu-img and on
 * hostile ones (tests/fuzz/corpus/imgfmt/, made by mkcorpus_imgfmt.py)
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "imgfmt.h"

#define MIB (1024ull * 1024)

static uint8_t *sample(const char *name, size_t *len)
{
	const char *root = getenv("WALLOFF_SOURCE_ROOT");
	char path[4096];
	uint8_t *buf;
	FILE *f;

	assert_non_null(root);
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/imgfmt/%s", root,
		 name);
	f = fopen(path, "rb");
	assert_non_null(f);
	buf = malloc(MIB);
	assert_non_null(buf);
	*len = fread(buf, 1, MIB, f);
	fclose(f);
	return buf;
}

static void probe(const char *name, struct imgfmt_info *o)
{
	size_t len;
	uint8_t *b = sample(name, &len);

	assert_int_equal(imgfmt_probe_buf(b, len, o), 0);
	free(b);
}

static void clean(const char *name, enum imgfmt_kind k, uint64_t size)
{
	struct imgfmt_info o;

	probe(name, &o);
	if (o.kind != k || o.problem[0])
		fail_msg("%s: kind %s problem '%s'", name, imgfmt_name(o.kind),
			 o.problem);
	assert_true(o.has_virtual_size);
	assert_int_equal(o.virtual_size, size);
	assert_false(o.has_backing);
	assert_false(o.external_files);
	assert_false(o.encrypted);
}

static void test_formats(void **state)
{
	clean("qcow2-v3", IMGFMT_QCOW2, 64 * MIB);
	clean("qcow2-v2", IMGFMT_QCOW2, 16 * MIB);
	clean("vmdk-sparse", IMGFMT_VMDK, 64 * MIB);
	clean("vdi", IMGFMT_VDI, 64 * MIB);
	clean("vhdx", IMGFMT_VHDX, 64 * MIB);
	clean("raw-mbr", IMGFMT_RAW_MBR, 65536);
	clean("raw-gpt", IMGFMT_RAW_GPT, 65536);
	clean("raw-fat-volume", IMGFMT_RAW_VOLUME, 8192);
	assert_string_equal(imgfmt_qemu_driver(IMGFMT_VHD), "vpc");
	assert_string_equal(imgfmt_qemu_driver(IMGFMT_RAW_MBR), "raw");
	assert_null(imgfmt_qemu_driver(IMGFMT_UNKNOWN));
	assert_null(imgfmt_qemu_driver(IMGFMT_LUKS));
}

static void test_vhd(void **state)
{
	struct imgfmt_info o;

	probe("vhd-dynamic", &o);
	assert_int_equal(o.kind, IMGFMT_VHD);
	assert_string_equal(o.problem, "");
	/* qemu-img rounds VHD sizes up to a CHS geometry. */
	assert_int_equal(o.virtual_size, 67125248); /* as qemu-img info says */
	assert_false(o.has_backing);

	/* A fixed VHD is raw data then a footer: not mistaken for raw. */
	probe("vhd-fixed", &o);
	assert_int_equal(o.kind, IMGFMT_VHD);
	assert_string_equal(o.problem, "");

	probe("vhd-differencing", &o);
	assert_int_equal(o.kind, IMGFMT_VHD);
	assert_true(o.has_backing);
	assert_string_equal(o.backing, "..\\..\\secret.vhd");
}

static void test_encrypted(void **state)
{
	struct imgfmt_info o;

	probe("qcow2-luks", &o);
	assert_int_equal(o.kind, IMGFMT_QCOW2);
	assert_true(o.encrypted);
	assert_int_equal(o.qcow2_crypt, 2);
	probe("luks", &o);
	assert_int_equal(o.kind, IMGFMT_LUKS);
	assert_true(o.encrypted);
}

static void test_backing(void **state)
{
	struct imgfmt_info o;

	probe("qcow2-backing-shadow", &o);
	assert_int_equal(o.kind, IMGFMT_QCOW2);
	assert_true(o.has_backing);
	assert_string_equal(o.backing, "/etc/shadow");

	probe("qcow2-backing-dotdot", &o);
	assert_true(o.has_backing);
	assert_string_equal(o.backing, "../../../../etc/passwd");

	/* Control characters never reach a report or a terminal. */
	probe("qcow2-backing-ctrl", &o);
	assert_true(o.has_backing);
	assert_string_equal(o.backing, "/etc/?[31mshadow?");

	/* Unreadable names still count as a backing file, and as a problem. */
	probe("qcow2-backing-oob", &o);
	assert_true(o.has_backing);
	assert_string_not_equal(o.problem, "");
	probe("qcow2-backing-huge", &o);
	assert_true(o.has_backing);
	assert_string_not_equal(o.problem, "");

	probe("qcow2-datafile", &o);
	assert_true(o.external_files);

	probe("vmdk-text-shadow", &o);
	assert_int_equal(o.kind, IMGFMT_VMDK);
	assert_true(o.external_files);
	assert_int_equal(o.virtual_size, 2048 * 512);

	probe("vmdk-text-parent", &o);
	assert_int_equal(o.kind, IMGFMT_VMDK);
	assert_true(o.has_backing);
	assert_string_equal(o.backing, "../base.vmdk");
	assert_string_not_equal(o.problem, "");	/* extent size overflows */
}

static void test_hostile(void **state)
{
	static const char *const bad[] = {
		"qcow2-bad-cluster", "qcow2-truncated", "vmdk-truncated",
	};
	struct imgfmt_info o;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		probe(bad[i], &o);
		if (!o.problem[0])
			fail_msg("%s: no problem reported", bad[i]);
		assert_int_not_equal(o.kind, IMGFMT_UNKNOWN);
	}
	probe("qcow2-absurd-size", &o);
	assert_int_equal(o.virtual_size, 1ull << 62);

	/* An MBR signature with nonsense entries is not a disk. */
	probe("raw-mbr-insane", &o);
	assert_int_equal(o.kind, IMGFMT_UNKNOWN);
	probe("unknown-zeros", &o);
	assert_int_equal(o.kind, IMGFMT_UNKNOWN);
	probe("unknown-text", &o);
	assert_int_equal(o.kind, IMGFMT_UNKNOWN);
	probe("empty", &o);
	assert_int_equal(o.kind, IMGFMT_UNKNOWN);
}

/* Every prefix of every sample: truncation anywhere never crashes. */
static void test_truncations(void **state)
{
	static const char *const all[] = {
		"qcow2-v3", "vmdk-sparse", "vdi", "vhd-dynamic", "vhdx",
		"raw-gpt", "qcow2-backing-shadow", "vmdk-text-parent",
	};
	struct imgfmt_info o;
	size_t i, len, n;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		uint8_t *b = sample(all[i], &len);

		for (n = 0; n < len; n += n < 1024 ? 1 : 4093)
			assert_int_equal(imgfmt_probe_buf(b, n, &o), 0);
		free(b);
	}
}

static void test_fd(void **state)
{
	char path[] = "/tmp/test-imgfmt-XXXXXX";
	struct imgfmt_info o;
	struct err e;
	size_t len;
	uint8_t *b = sample("vhd-fixed", &len);
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	assert_int_equal(imgfmt_probe_fd(fd, &o, &e), 0);
	assert_int_equal(o.kind, IMGFMT_VHD);
	assert_int_equal(o.file_size, len);
	close(fd);
	free(b);

	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(imgfmt_probe_fd(fd, &o, &e), -EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_vhd),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_backing),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
