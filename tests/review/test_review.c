/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_review.c - the pieces of `walloff review` with sharp edges
 *
 * Keys-file lines (hostile: bad roles, bad base64, control characters,
 * overlong names, trailing text), the keys-file reader (symlink, FIFO,
 * NUL byte, oversize, too many keys), the CIDR and port classifications at
 * their boundaries, the domain-port detector, review_now() and
 * review_failures() on checked-in profiles.
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

#include "keyfile.h"
#include "profile.h"
#include "review.h"

#define K1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static char dir[] = "/tmp/walloff-test-review-XXXXXX";

/* --- keys lines ---------------------------------------------------------- */

static void test_keyline_ok(void **state)
{
	struct keyfile_entry ent;
	struct err e;

	assert_int_equal(keyfile_parse_line("admin " K1 " alice", &ent, &e), 0);
	assert_int_equal(ent.role, KEY_ROLE_ADMIN);
	assert_string_equal(ent.name, "alice");
	assert_int_equal(ent.key[0], 0);
	assert_int_equal(ent.key[31], 31);
	assert_int_equal(keyfile_parse_line("\tview\t" K1 "  bob@example.org  ",
					    &ent, &e), 0);
	assert_int_equal(ent.role, KEY_ROLE_VIEW);
	assert_string_equal(ent.name, "bob@example.org");
	assert_int_equal(keyfile_parse_line("operate " K1 " a.b_c-d", &ent, &e), 0);
	assert_int_equal(ent.role, KEY_ROLE_OPERATE);
}

static void test_keyline_skip(void **state)
{
	struct keyfile_entry ent;
	struct err e;

	assert_int_equal(keyfile_parse_line("", &ent, &e), 1);
	assert_int_equal(keyfile_parse_line("   \t", &ent, &e), 1);
	assert_int_equal(keyfile_parse_line("# admin " K1 " x", &ent, &e), 1);
	assert_int_equal(keyfile_parse_line("  #", &ent, &e), 1);
}

static void test_keyline_bad(void **state)
{
	static const struct {
		const char *line, *reason;
	} bad[] = {
		{ "root " K1 " x", "role 'root' is not view, operate or admin" },
		{ "Admin " K1 " x", "role 'Admin' is not view, operate or admin" },
		{ "adminadminadminadminadmin " K1 " x",
		  "role 'adminadminadmina' is not view, operate or admin" },
		{ "admin", "public key is not 44 base64 characters" },
		{ "admin c2hvcnQ= x", "public key is not 44 base64 characters" },
		{ "admin " K1 "A x", "public key is not 44 base64 characters" },
		{ "admin AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8! x",
		  "public key is not base64 of 32 bytes" },
		{ "admin AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-_ x",
		  "public key is not base64 of 32 bytes" },
		/* 33 bytes' worth of text in 44 characters, no padding */
		{ "admin AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g x",
		  "public key is not base64 of 32 bytes" },
		{ "admin " K1, "missing name after the key" },
		{ "admin " K1 " ", "missing name after the key" },
		{ "admin " K1 " alice bob", "text after the name" },
		{ "admin " K1 " al'ce", "name may only use A-Z a-z 0-9 . _ - @" },
		{ "admin " K1 " a;rm", "name may only use A-Z a-z 0-9 . _ - @" },
		{ "admin " K1 " "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "name longer than 64 characters" },
		{ "admin " K1 " al\x1b[2Jce", "control character" },
		{ "admin " K1 " al\rce", "control character" },
		{ "admin " K1 " al\x7f" "ce", "not printable ASCII" },
		{ "admin " K1 " \xc3\xa9lise", "not printable ASCII" },
	};
	struct keyfile_entry ent;
	struct err e;
	char longline[KEYFILE_LINE_MAX + 8];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_int_equal(keyfile_parse_line(bad[i].line, &ent, &e),
				 -EINVAL);
		assert_string_equal(e.msg, bad[i].reason);
	}
	memset(longline, ' ', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	assert_int_equal(keyfile_parse_line(longline, &ent, &e), -EINVAL);
	assert_string_equal(e.msg, "longer than 256 characters");
}

/* --- keys files ---------------------------------------------------------- */

static const char *write_file(const char *name, const char *text, size_t len,
			      mode_t mode)
{
	static char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void test_keyfile_counts(void **state)
{
	static const char text[] =
		"# keys\r\nadmin " K1 " a\r\n\r\noperate " K1 " b\nview " K1
		" c\nview " K1 " d";	/* no final newline */
	struct keyfile_summary s;
	struct err e;

	assert_int_equal(keyfile_inspect(write_file("k", text, sizeof(text) - 1,
						     0640), &s, &e), 0);
	assert_false(s.is_symlink);
	assert_true(s.is_regular);
	assert_int_equal(s.mode, 0640);
	assert_int_equal(s.bad_line, 0);
	assert_int_equal(s.n_keys[KEY_ROLE_ADMIN], 1);
	assert_int_equal(s.n_keys[KEY_ROLE_OPERATE], 1);
	assert_int_equal(s.n_keys[KEY_ROLE_VIEW], 2);
}

static void test_keyfile_hostile(void **state)
{
	static const char nul[] = "admin " K1 " a\nview \0 x\n";
	static const char bad3[] = "\n\nroot " K1 " a\nadmin " K1 " b\n";
	struct keyfile_summary s;
	char path[PATH_MAX], *big;
	struct err e;
	size_t i, n;

	assert_int_equal(keyfile_inspect(write_file("n", nul, sizeof(nul) - 1,
						     0600), &s, &e), 0);
	assert_int_equal(s.bad_line, 2);
	assert_string_equal(s.bad_reason, "NUL byte");

	assert_int_equal(keyfile_inspect(write_file("b", bad3, sizeof(bad3) - 1,
						     0600), &s, &e), 0);
	assert_int_equal(s.bad_line, 3);
	assert_int_equal(s.n_keys[KEY_ROLE_ADMIN], 0);	/* stops at line 3 */

	/* A symlink is reported, never followed. */
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("k", path), 0);
	assert_int_equal(keyfile_inspect(path, &s, &e), 0);
	assert_true(s.is_symlink);

	/* A FIFO must not block the review. */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(keyfile_inspect(path, &s, &e), 0);
	assert_false(s.is_regular);

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(keyfile_inspect(path, &s, &e), -ENOENT);

	/* Too large. */
	big = malloc(KEYFILE_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '#', KEYFILE_FILE_MAX + 1);
	assert_int_equal(keyfile_inspect(write_file("big", big,
						    KEYFILE_FILE_MAX + 1, 0600),
					 &s, &e), -EFBIG);

	/* More keys than the limit. */
	for (i = 0, n = 0; i <= KEYFILE_MAX_KEYS; i++)
		n += (size_t)sprintf(big + n, "view " K1 " k%zu\n", i);
	assert_int_equal(keyfile_inspect(write_file("many", big, n, 0600), &s,
					 &e), 0);
	assert_int_equal(s.bad_line, KEYFILE_MAX_KEYS + 1);
	assert_string_equal(s.bad_reason, "more than 256 keys");
	free(big);
}

/* --- classifications ----------------------------------------------------- */

static void test_prefix(void **state)
{
	static const struct {
		unsigned prefix;
		enum review_status s;
	} t[] = {
		{ 0, REVIEW_FAIL }, { 1, REVIEW_FAIL }, { 8, REVIEW_FAIL },
		{ 15, REVIEW_FAIL }, { 16, REVIEW_WARN }, { 23, REVIEW_WARN },
		{ 24, REVIEW_PASS }, { 31, REVIEW_PASS }, { 32, REVIEW_PASS },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(review_prefix_status(t[i].prefix), t[i].s);
}

static struct rule rule(const char *text)
{
	struct rule r;
	struct err e;

	if (rule_parse(text, &r, &e))
		fail_msg("%s: %s", text, e.msg);
	return r;
}

static void test_ports(void **state)
{
	static const struct {
		const char *rule;
		enum review_status s;
	} t[] = {
		{ "tcp 10.0.0.1:*", REVIEW_FAIL },
		{ "udp 10.0.0.1:1-65535", REVIEW_FAIL },
		{ "tcp host:*", REVIEW_FAIL },
		{ "tcp 10.0.0.1:2-65535", REVIEW_WARN },
		{ "tcp 10.0.0.1:1000-2024", REVIEW_WARN },	/* 1025 */
		{ "tcp 10.0.0.1:1000-2023", REVIEW_PASS },	/* 1024 */
		{ "tcp 10.0.0.1:65535", REVIEW_PASS },
		{ "udp 10.0.0.1:1", REVIEW_PASS },
		{ "icmp 0.0.0.0/0", REVIEW_PASS },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct rule r = rule(t[i].rule);

		assert_int_equal(review_ports_status(&r), t[i].s);
	}
}

static void test_domain_ports(void **state)
{
	static const struct {
		const char *rule;
		unsigned n;
		const char *text;
	} t[] = {
		{ "tcp 10.0.0.1:400-500", 2, "445 (SMB), 464 (kpasswd)" },
		{ "tcp 10.0.0.1:445", 1, "445 (SMB)" },
		{ "udp 10.0.0.1:88", 1, "88 (Kerberos)" },
		{ "tcp 10.0.0.1:87", 0, "" },
		{ "tcp 10.0.0.1:89-134", 0, "" },
		{ "tcp 10.0.0.1:446-463", 0, "" },
		{ "tcp 10.0.0.1:137-139", 3, "137 (NetBIOS-NS), 138 (NetBIOS-DGM), "
					     "139 (NetBIOS-SSN)" },
		{ "udp 10.0.0.1:3269", 1, "3269 (GC-TLS)" },
		{ "tcp 10.0.0.1:3270-65535", 0, "" },
		{ "tcp host:*", 11, NULL },
		{ "icmp 10.0.0.1", 0, "" },
	};
	char out[REVIEW_NOTE_MAX], tiny[8];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct rule r = rule(t[i].rule);

		assert_int_equal(review_domain_ports(&r, out, sizeof(out)),
				 t[i].n);
		if (t[i].text)
			assert_string_equal(out, t[i].text);
	}
	/* A short buffer is truncated, the count stays right. */
	{
		struct rule r = rule("tcp 10.0.0.1:*");

		assert_int_equal(review_domain_ports(&r, tiny, sizeof(tiny)),
				 11);
		assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	}
}

/* --- review_now, review_failures ----------------------------------------- */

static void test_now(void **state)
{
	time_t now;
	struct err e;

	setenv("WALLOFF_NOW", "2026-11-23", 1);
	assert_int_equal(review_now(&now, &e), 0);
	assert_int_equal(now, 1795392000);
	setenv("WALLOFF_NOW", "2026-11-23x", 1);
	assert_int_equal(review_now(&now, &e), -EINVAL);
	setenv("WALLOFF_NOW", "2026-13-01", 1);
	assert_int_equal(review_now(&now, &e), -EINVAL);
	setenv("WALLOFF_NOW", "2026-02-30", 1);
	assert_int_equal(review_now(&now, &e), -EINVAL);
	setenv("WALLOFF_NOW", "2028-02-29", 1);
	assert_int_equal(review_now(&now, &e), 0);
	setenv("WALLOFF_NOW", "2026-1-01", 1);
	assert_int_equal(review_now(&now, &e), -EINVAL);
	setenv("WALLOFF_NOW", "26-1-1", 1);
	assert_int_equal(review_now(&now, &e), -EINVAL);
	unsetenv("WALLOFF_NOW");
	assert_int_equal(review_now(&now, &e), 0);
	assert_int_equal(now % 86400, 0);
}

static int failures(const char *name, char *ids, size_t len)
{
	const char *src = getenv("WALLOFF_SOURCE_ROOT");
	char path[PATH_MAX];
	struct profile *p = malloc(sizeof(*p));
	struct err e;
	int n;

	assert_non_null(src);
	assert_non_null(p);
	snprintf(path, sizeof(path), "%s/tests/review/profiles/%s", src, name);
	if (profile_load(path, 0, p, &e))
		fail_msg("%s", e.msg);
	n = review_failures(p, ids, len);
	free(p);
	return n;
}

static void test_failures(void **state)
{
	char ids[128], small[17];

	setenv("WALLOFF_NOW", "2026-11-23", 1);
	assert_int_equal(failures("minimal.cell", ids, sizeof(ids)), 0);
	assert_string_equal(ids, "");
	assert_int_equal(failures("cidr-0.cell", ids, sizeof(ids)), 1);
	assert_string_equal(ids, "egress");
	assert_int_equal(failures("host-star.cell", ids, sizeof(ids)), 2);
	assert_string_equal(ids, "domain-ports,host-loopback");
	assert_int_equal(failures("ports-edges.cell", ids, sizeof(ids)), 2);
	assert_string_equal(ids, "egress,domain-ports");
	assert_int_equal(failures("review-future.cell", ids, sizeof(ids)), 1);
	assert_string_equal(ids, "review-date");
	/* Truncated, never overflowing, count unchanged. */
	assert_int_equal(failures("host-star.cell", small, sizeof(small)), 2);
	assert_string_equal(small, "domain-ports...");
	assert_int_equal(failures("host-star.cell", NULL, 0), 2);
	/* The clock moves: the same date is no longer in the future. */
	setenv("WALLOFF_NOW", "2026-11-24", 1);
	assert_int_equal(failures("review-future.cell", ids, sizeof(ids)), 0);
	unsetenv("WALLOFF_NOW");
}

static void test_table(void **state)
{
	const struct review_control *c;
	unsigned n, i, k;

	c = review_controls(&n);
	assert_int_equal(n, REVIEW_N_CONTROLS);
	for (i = 0; i < n; i++) {
		assert_non_null(c[i].check);
		assert_true(strlen(c[i].rationale) > 80);
		/* ids are joined with commas by review_failures() */
		assert_null(strchr(c[i].id, ','));
		for (k = 0; k < i; k++)
			assert_string_not_equal(c[i].id, c[k].id);
	}
}

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const names[] = { "k", "n", "b", "link", "fifo",
					     "big", "many" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyline_ok),
		cmocka_unit_test(test_keyline_skip),
		cmocka_unit_test(test_keyline_bad),
		cmocka_unit_test(test_keyfile_counts),
		cmocka_unit_test(test_keyfile_hostile),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_domain_ports),
		cmocka_unit_test(test_now),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
