/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_review.c - the pieces of `walloff review` with sharp edges
 *
 * Keys-file content as the proxy's parser judges it (bad roles, bad base64,
 * control characters, a key given twice), the keys-file reader (symlink,
 * FIFO, NUL byte, oversize), the CIDR and port classifications at
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

/* --- keys content: judged by the console proxy's parser ------------------ */

#define K2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define K3 "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8="
#define K4 "YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8="

static void scan(const char *text, struct keyfile_summary *s)
{
	memset(s, 0, sizeof(*s));
	keyfile_scan(text, strlen(text), s);
}

static void test_keys_ok(void **state)
{
	struct keyfile_summary s;

	scan("", &s);
	assert_int_equal(s.bad_line, 0);
	assert_int_equal(s.n_keys[ROLE_ADMIN], 0);
	scan("  # admin " K1 " x\n\t\nadmin " K1 " alice\n"
	     "\tview\t" K2 "  bob@example.org  \n", &s);
	assert_int_equal(s.bad_line, 0);
	assert_int_equal(s.n_keys[ROLE_ADMIN], 1);
	assert_int_equal(s.n_keys[ROLE_VIEW], 1);
	assert_int_equal(s.n_keys[ROLE_OPERATE], 0);
}

static void test_keys_bad(void **state)
{
	static const struct {
		const char *text, *reason;
		int line;
	} bad[] = {
		{ "root " K1 " x", "unknown role (view, operate or admin)", 1 },
		{ "\nadmin c2hvcnQ= x", "not a base64 32-byte public key", 2 },
		{ "admin " K1, "expected '<role> <base64 key> <name>'", 1 },
		{ "admin " K1 " alice bob",
		  "expected '<role> <base64 key> <name>'", 1 },
		{ "admin " K1 " al'ce", "bad name (1-64 of A-Z a-z 0-9 . _ @ -)",
		  1 },
		{ "admin " K1 " \xc3\xa9lise",
		  "bad name (1-64 of A-Z a-z 0-9 . _ @ -)", 1 },
		{ "admin " K1 " al\x1b[2Jce", "control character", 1 },
		/* One key, two roles: the proxy refuses the whole file, so the
		 * review must not count it as an admin. */
		{ "admin " K1 " a\nview " K1 " b\n",
		  "duplicate key (already given to a)", 2 },
	};
	struct keyfile_summary s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		scan(bad[i].text, &s);
		assert_int_equal(s.bad_line, bad[i].line);
		assert_string_equal(s.bad_reason, bad[i].reason);
		assert_int_equal(s.n_keys[ROLE_ADMIN], 0);
	}
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
		"# keys\r\nadmin " K1 " a\r\n\r\noperate " K2 " b\nview " K3
		" c\nview " K4 " d";	/* no final newline */
	struct keyfile_summary s;
	struct err e;

	assert_int_equal(keyfile_inspect(write_file("k", text, sizeof(text) - 1,
						     0640), &s, &e), 0);
	assert_false(s.is_symlink);
	assert_true(s.is_regular);
	assert_int_equal(s.mode, 0640);
	assert_int_equal(s.bad_line, 0);
	assert_int_equal(s.n_keys[ROLE_ADMIN], 1);
	assert_int_equal(s.n_keys[ROLE_OPERATE], 1);
	assert_int_equal(s.n_keys[ROLE_VIEW], 2);
}

static void test_keyfile_hostile(void **state)
{
	static const char nul[] = "admin " K1 " a\nview \0 x\n";
	static const char bad3[] = "\n\nroot " K1 " a\nadmin " K1 " b\n";
	struct keyfile_summary s;
	char path[PATH_MAX], *big;
	struct err e;

	assert_int_equal(keyfile_inspect(write_file("n", nul, sizeof(nul) - 1,
						     0600), &s, &e), 0);
	assert_int_equal(s.bad_line, 2);
	assert_string_equal(s.bad_reason, "NUL byte");

	assert_int_equal(keyfile_inspect(write_file("b", bad3, sizeof(bad3) - 1,
						     0600), &s, &e), 0);
	assert_int_equal(s.bad_line, 3);
	assert_int_equal(s.n_keys[ROLE_ADMIN], 0);	/* the proxy loads none */

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
	big = malloc(KEYS_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '#', KEYS_FILE_MAX + 1);
	assert_int_equal(keyfile_inspect(write_file("big", big,
						    KEYS_FILE_MAX + 1, 0600),
					 &s, &e), -EFBIG);

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
		cmocka_unit_test(test_keys_ok),
		cmocka_unit_test(test_keys_bad),
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
