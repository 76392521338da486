/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_keys.c - keys file parser (good and hostile lines) and key files
 * (0600, never overwritten, refused when readable by others)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "client.h"
#include "keys.h"
#include "noise.h"

#define K1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

static int parse(const char *s, struct keys *k, struct err *e)
{
	return keys_parse(k, s, strlen(s), "keys", e);
}

static void test_good(void **state)
{
	struct keys k;
	struct err e = {0};
	uint8_t pub[32];
	const struct key_entry *ke;
	int i;

	assert_int_equal(parse("# team\n\n  \t\nview " K1 " alice\r\n"
			       "admin\t" K2 "   bob@example.org",
			       &k, &e),
			 0);
	assert_int_equal(k.n, 2);
	for (i = 0; i < 32; i++)
		pub[i] = (uint8_t)i;
	ke = keys_find(&k, pub);
	assert_non_null(ke);
	assert_string_equal(ke->name, "alice");
	assert_int_equal(ke->role, ROLE_VIEW);
	for (i = 0; i < 32; i++)
		pub[i] = (uint8_t)(i + 32);
	ke = keys_find(&k, pub);
	assert_non_null(ke);
	assert_int_equal(ke->role, ROLE_ADMIN);
	pub[0] ^= 1;
	assert_null(keys_find(&k, pub));
	keys_free(&k);
	assert_int_equal(parse("", &k, &e), 0);
	assert_int_equal(k.n, 0);
	keys_free(&k);
}

static void expect_bad(const char *text, const char *msg)
{
	struct keys k;
	struct err e = {0};

	assert_true(parse(text, &k, &e) < 0);
	if (!strstr(e.msg, msg))
		fail_msg("'%s': got '%s', want '%s'", text, e.msg, msg);
	assert_null(k.v);
	assert_int_equal(k.n, 0);
}

static void test_hostile_lines(void **state)
{
	static char big[KEYS_FILE_MAX + 2];

	expect_bad("root " K1 " alice\n", "keys:1: unknown role");
	expect_bad("view " K1 "\n", "keys:1: expected");
	expect_bad("\n\nview " K1 " alice extra\n", "keys:3: expected");
	expect_bad("view AAEC alice\n", "keys:1: not a base64");
	expect_bad("view " K1 "= alice\n", "keys:1: not a base64");
	expect_bad("view "
		   "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8*"
		   " a\n",
		   "keys:1: not a base64");
	expect_bad("view " K1 " al/ice\n", "keys:1: bad name");
	expect_bad("view " K1 " .hidden\n", "keys:1: bad name");
	expect_bad("view " K1 " al\033[2Jice\n", "keys:1: control character");
	expect_bad("view " K1 " alice\nadmin " K1 " mallory\n",
		   "keys:2: duplicate key (already given to alice)");
	expect_bad("VIEW " K1 " alice\n", "unknown role");
	{
		static const char nul[] = "view " K1 " al\0ice\n";
		struct keys k;
		struct err e = {0};

		assert_true(keys_parse(&k, nul, sizeof(nul) - 1, "keys", &e) <
			    0);
		assert_non_null(strstr(e.msg, "keys:1: NUL"));
	}
	/* long line */
	memset(big, '#', KEYS_LINE_MAX + 1);
	big[KEYS_LINE_MAX + 1] = '\0';
	expect_bad(big, "keys:1: line longer");
	/* long name */
	snprintf(big, 1000, "view %s %0*d\n", K1, KEYS_NAME_MAX + 1, 0);
	expect_bad(big, "keys:1: bad name");
	/* oversized file */
	memset(big, '\n', KEYS_FILE_MAX + 1);
	big[KEYS_FILE_MAX + 1] = '\0';
	expect_bad(big, "larger than");
}

static void test_too_many(void **state)
{
	size_t cap = (size_t)(KEYS_MAX + 1) * 80, off = 0;
	char *text = malloc(cap);
	char b64[CONSOLE_B64_LEN];
	uint8_t pub[32] = {0};
	struct keys k;
	struct err e = {0};
	unsigned i;

	for (i = 0; i <= KEYS_MAX; i++) {
		memcpy(pub, &i, sizeof(i));
		console_key_b64(b64, pub);
		off += (size_t)snprintf(text + off, cap - off, "view %s k%u\n",
					b64, i);
	}
	assert_true(keys_parse(&k, text, off, "keys", &e) < 0);
	assert_non_null(strstr(e.msg, "more than"));
	/* one fewer is fine */
	assert_int_equal(
	    keys_parse(&k, text, off - strlen(strrchr(text, 'v')), "keys", &e),
	    0);
	assert_int_equal(k.n, KEYS_MAX);
	keys_free(&k);
	free(text);
}

static void test_keyfiles(void **state)
{
	char dir[] = "/tmp/walloff-keys-XXXXXX", path[256],
	     b64[CONSOLE_B64_LEN];
	char fpr[CONSOLE_FPR_LEN];
	uint8_t pub[32], pub2[32], priv[32], p3[32];
	struct err e = {0};
	struct stat st;
	bool created;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.key", dir);
	assert_int_equal(console_key_generate(path, pub, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* never overwritten */
	assert_int_equal(console_key_generate(path, pub2, &e), -EEXIST);
	assert_int_equal(console_key_load(path, priv, pub2, &e), 0);
	assert_memory_equal(pub, pub2, 32);
	assert_int_equal(
	    console_key_load_or_create(path, priv, p3, &created, &e), 0);
	assert_false(created);
	assert_memory_equal(pub, p3, 32);
	/* readable by others: refused */
	chmod(path, 0644);
	assert_int_equal(console_key_load(path, priv, pub2, &e), -EPERM);
	unlink(path);
	assert_int_equal(
	    console_key_load_or_create(path, priv, p3, &created, &e), 0);
	assert_true(created);
	/* b64 round trip and fingerprint shape */
	console_key_b64(b64, p3);
	assert_int_equal(strlen(b64), 44);
	assert_int_equal(console_key_from_b64(pub2, b64), 0);
	assert_memory_equal(pub2, p3, 32);
	console_fingerprint(fpr, p3);
	assert_int_equal(strlen(fpr), 7 + 43);
	assert_memory_equal(fpr, "SHA256:", 7);
	/* garbage key file */
	unlink(path);
	{
		FILE *f = fopen(path, "w");

		fputs("walloff-key-v1 nope\n", f);
		fclose(f);
		chmod(path, 0600);
		assert_int_equal(console_key_load(path, priv, pub2, &e),
				 -EINVAL);
	}
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_hostile_lines),
	    cmocka_unit_test(test_too_many),
	    cmocka_unit_test(test_keyfiles),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
