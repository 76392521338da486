/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_common.c - common/: allow rules (with hostile text), path safety,
 * hex, error formatting and the audit writer
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit.h"
#include "dirs.h"
#include "err.h"
#include "hex.h"
#include "path.h"
#include "rule.h"

static void test_rule_good(void **state)
{
	static const struct {
		const char *in, *canon;
	} good[] = {
		{ "tcp 10.20.0.5:1433", "tcp 10.20.0.5/32:1433" },
		{ "udp 10.20.0.9:123", "udp 10.20.0.9/32:123" },
		{ "tcp host:8080", "tcp host:8080" },
		{ "tcp 10.0.0.0/8:*", "tcp 10.0.0.0/8:*" },
		{ "tcp 0.0.0.0/0:1-65535", "tcp 0.0.0.0/0:*" },
		{ "udp 192.168.1.0/24:137-139", "udp 192.168.1.0/24:137-139" },
		{ "icmp 10.1.2.3", "icmp 10.1.2.3/32" },
	};
	char buf[RULE_TEXT_MAX];
	struct rule r, r2;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(rule_parse(good[i].in, &r, NULL), 0);
		rule_format(&r, buf, sizeof(buf));
		assert_string_equal(buf, good[i].canon);
		assert_int_equal(rule_parse(buf, &r2, NULL), 0);
		assert_memory_equal(&r, &r2, sizeof(r));
	}
}

static void test_rule_hostile(void **state)
{
	static const char *const bad[] = {
		"", "tcp", "tcp ", "tcp 10.0.0.1", "tcp 10.0.0.1:", "tcp 10.0.0.1:0",
		"tcp 10.0.0.1:65536", "tcp 10.0.0.1:99999999999999999999",
		"tcp 10.0.0.1:-5", "tcp 10.0.0.1:5-", "tcp 10.0.0.1:9-3",
		"tcp 10.0.0.1:+80", "tcp 10.0.0.1:080", "tcp 10.0.0.1:0x50",
		"tcp 10.0.0.256:80", "tcp 10.0.0:80", "tcp 10.0.0.1.1:80",
		"tcp 010.0.0.1:80", "tcp 10..0.1:80", "tcp 10.0.0.1/33:80",
		"tcp 10.0.0.1/24:80", "tcp 10.0.0.0/:80", "tcp 10.0.0.0/08:80",
		"sctp 10.0.0.1:80", "TCP 10.0.0.1:80", "tcp  10.0.0.1:80",
		"tcp 10.0.0.1:80 extra", "icmp 10.0.0.1:80", "tcp host",
		"tcp hostx:80", "tcp 10.0.0.1:80,tcp", "tcp ::1:80",
		"tcp 10.0.0.1:1-2-3", "tcp 10.0.0.1:**",
		"tcp 111111111111111111111111111111111111111111111111111:1",
	};
	struct rule r;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (rule_parse(bad[i], &r, &e) != -EINVAL)
			fail_msg("accepted hostile rule '%s'", bad[i]);
		assert_true(e.msg[0] != '\0');
	}
}

static void test_rule_match(void **state)
{
	struct rule r;

	assert_int_equal(rule_parse("tcp 10.0.0.0/8:440-450", &r, NULL), 0);
	assert_true(rule_match(&r, RULE_PROTO_TCP, 0x0a010203, 445, false));
	assert_false(rule_match(&r, RULE_PROTO_TCP, 0x0b010203, 445, false));
	assert_false(rule_match(&r, RULE_PROTO_UDP, 0x0a010203, 445, false));
	assert_false(rule_match(&r, RULE_PROTO_TCP, 0x0a010203, 451, false));
	assert_false(rule_match(&r, RULE_PROTO_TCP, 0x0a010203, 445, true));
	assert_int_equal(rule_parse("tcp host:8080", &r, NULL), 0);
	assert_true(rule_match(&r, RULE_PROTO_TCP, 0, 8080, true));
	assert_false(rule_match(&r, RULE_PROTO_TCP, 0x0a000202, 8080, false));
	assert_int_equal(rule_parse("tcp 0.0.0.0/0:*", &r, NULL), 0);
	assert_true(rule_match(&r, RULE_PROTO_TCP, 0xffffffff, 1, false));
}

static void test_path_escapes(void **state)
{
	assert_true(path_escapes(".."));
	assert_true(path_escapes("../x"));
	assert_true(path_escapes("a/../../x"));
	assert_true(path_escapes("./../x"));
	assert_false(path_escapes("a/../x"));
	assert_false(path_escapes("a/b/../../x"));
	assert_false(path_escapes("..x/y"));
	assert_false(path_escapes("images/xp.qcow2"));
}

static void test_path_resolve(void **state)
{
	char dir[] = "/tmp/walloff-test-path-XXXXXX";
	char p[PATH_MAX], out[PATH_MAX];
	struct err e;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/disk.img", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(path_resolve_file(dir, "disk.img", true, out,
					   sizeof(out), &e), 0);
	assert_string_equal(out, p);

	snprintf(p, sizeof(p), "%s/null", dir);
	assert_int_equal(symlink("/dev/null", p), 0);
	assert_int_equal(path_resolve_file(dir, "null", true, out, sizeof(out),
					   &e), -EPERM);
	assert_non_null(strstr(e.msg, "/dev"));

	snprintf(p, sizeof(p), "%s/self", dir);
	assert_int_equal(symlink("/proc/self/mem", p), 0);
	assert_int_equal(path_resolve_file(dir, "self", true, out, sizeof(out),
					   &e), -EPERM);

	assert_int_equal(path_resolve_file(dir, "/dev/sda", true, out,
					   sizeof(out), &e), -EPERM);
	assert_int_equal(path_resolve_file(dir, "/sys/x", false, out,
					   sizeof(out), &e), -EPERM);
	assert_int_equal(path_resolve_file(dir, "../etc/passwd", true, out,
					   sizeof(out), &e), -EINVAL);
	assert_non_null(strstr(e.msg, "escapes"));
	assert_int_equal(path_resolve_file(dir, "", true, out, sizeof(out), &e),
			 -EINVAL);
	assert_int_equal(path_resolve_file(dir, "missing", true, out,
					   sizeof(out), &e), -ENOENT);
	assert_int_equal(path_resolve_file(dir, "missing", false, out,
					   sizeof(out), &e), 0);
	/* A folder is not a disk. */
	assert_int_equal(path_resolve_file("/", "tmp", true, out, sizeof(out),
					   &e), -EPERM);

	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

static void test_mkdir_private(void **state)
{
	char dir[] = "/tmp/walloff-test-priv-XXXXXX";
	char p[PATH_MAX];
	struct err e;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	assert_int_equal(path_mkdir_private(p, &e), 0);
	assert_int_equal(path_mkdir_private(p, &e), 0);
	assert_int_equal(chmod(p, 0755), 0);
	assert_int_equal(path_mkdir_private(p, &e), -EPERM);
	snprintf(p, sizeof(p), "%s/link", dir);
	assert_int_equal(symlink("/tmp", p), 0);
	assert_int_equal(path_mkdir_private(p, &e), -ENOTDIR);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

static void test_hex(void **state)
{
	uint8_t in[4] = { 0x00, 0xab, 0x7f, 0xff }, out[4];
	char s[9];

	hex_encode(s, in, 4);
	assert_string_equal(s, "00ab7fff");
	assert_int_equal(hex_decode(out, 4, "00AB7fff"), 0);
	assert_memory_equal(in, out, 4);
	assert_int_equal(hex_decode(out, 4, "00ab7ff"), -EINVAL);
	assert_int_equal(hex_decode(out, 4, "00ab7fffa"), -EINVAL);
	assert_int_equal(hex_decode(out, 4, "00ab7fgf"), -EINVAL);
}

static void test_err(void **state)
{
	struct err e;

	err_clear(&e);
	assert_int_equal(err_set(&e, ENOENT, "a\nb %d", 3), -ENOENT);
	assert_string_equal(e.msg, "a b 3");
	assert_int_equal(err_prefix(&e, "ctx"), -ENOENT);
	assert_string_equal(e.msg, "ctx: a b 3");
	assert_int_equal(err_set(NULL, EPERM, "x"), -EPERM);
}

static void test_audit(void **state)
{
	char path[] = "/tmp/walloff-test-audit-XXXXXX";
	char line[AUDIT_RECORD_MAX + 64];
	char big[AUDIT_RECORD_MAX * 2];
	struct audit *a;
	json_t *j;
	FILE *f;
	int fd, n = 0;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	a = audit_open(path, "demo", NULL);
	assert_non_null(a);
	assert_int_equal(audit_logf(a, "start", "{s:s, s:i}", "accel", "tcg",
				    "n", 3), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(audit_logf(a, "big", "{s:s}", "s", big), 0);
	assert_int_equal(audit_logf(a, "evil", "{s:s}", "s", "a\"\n}{\x01"), 0);
	audit_close(a);

	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_error_t je;

		assert_true(strlen(line) <= AUDIT_RECORD_MAX);
		j = json_loads(line, 0, &je);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "cell")),
				    "demo");
		assert_non_null(json_object_get(j, "time"));
		if (n == 0)
			assert_string_equal(json_string_value(json_object_get(
				json_object_get(j, "details"), "accel")), "tcg");
		if (n == 1)
			assert_true(json_is_true(json_object_get(
				json_object_get(j, "details"), "truncated")));
		if (n == 2)
			assert_string_equal(json_string_value(json_object_get(
				json_object_get(j, "details"), "s")), "a\"\n}{\x01");
		json_decref(j);
		n++;
	}
	fclose(f);
	assert_int_equal(n, 3);
	/* Not O_APPEND: refused, a shared log must never be overwritten. */
	fd = open(path, O_WRONLY);
	assert_null(audit_fdopen(fd, "x", NULL));
	close(fd);
	unlink(path);
}

static void test_audit_full(void **state)
{
	struct audit *a;
	int fd;

	/* /dev/full: every write fails with ENOSPC, as on a full disk. */
	fd = open("/dev/full", O_WRONLY | O_APPEND);
	if (fd < 0)
		fail_msg("no /dev/full");
	a = audit_fdopen(fd, "demo", NULL);
	assert_non_null(a);
	assert_int_equal(audit_logf(a, "x", "{}"), -ENOSPC);
	audit_close(a);
}

static void test_dirs(void **state)
{
	char st[4096], run[4096];
	char longdir[200];
	struct err e;

	setenv("WALLOFF_STATE_DIR", "/tmp/s", 1);
	setenv("WALLOFF_RUN_DIR", "/tmp/r", 1);
	assert_int_equal(dirs_cell("demo", st, run, sizeof(st), &e), 0);
	assert_string_equal(st, "/tmp/s/demo");
	assert_string_equal(run, "/tmp/r/demo");
	memset(longdir, 'a', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	setenv("WALLOFF_RUN_DIR", longdir, 1);
	assert_int_equal(dirs_cell("demo", NULL, run, sizeof(run), &e),
			 -ENAMETOOLONG);
	assert_non_null(strstr(e.msg, "WALLOFF_RUN_DIR"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_good),
		cmocka_unit_test(test_rule_hostile),
		cmocka_unit_test(test_rule_match),
		cmocka_unit_test(test_path_escapes),
		cmocka_unit_test(test_path_resolve),
		cmocka_unit_test(test_mkdir_private),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_err),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_audit_full),
		cmocka_unit_test(test_dirs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
