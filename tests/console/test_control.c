/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_control.c - channel 0 control text: HELLO written and read back,
 * the `notices` announcement, and NOTICE text against hostile input
 * (overlong forms, surrogates, out-of-range code points, truncated
 * sequences, terminal escapes, bidirectional overrides, length bounds)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control.h"

static int check(const char *s)
{
	return control_notice_check((const uint8_t *)s, strlen(s));
}

static void test_hello_roundtrip(void **state)
{
	struct console_info info;
	char text[CONTROL_HELLO_MAX];
	unsigned k, notices;
	int n;

	for (k = 0; k <= CONSOLE_NOTICES_MAX; k++) {
		n = control_hello_format(text, sizeof(text), 1, "xp-acc",
					 "operate", k);
		assert_true(n > 0);
		/* a version-1 server's HELLO when there is nothing to say */
		assert_true(k || !strstr(text, "notices"));
		memset(&info, 0xff, sizeof(info));
		assert_int_equal(control_hello_parse((const uint8_t *)text,
						     (size_t)n, &info,
						     &notices), 0);
		assert_string_equal(info.cell, "xp-acc");
		assert_string_equal(info.role, "operate");
		assert_int_equal(notices, k);
		assert_int_equal(info.n_notices, 0);
	}
	assert_int_equal(control_hello_format(text, sizeof(text), 1, "c",
					      "view", CONSOLE_NOTICES_MAX + 1),
			 -EINVAL);
	assert_int_equal(control_hello_format(text, 8, 1, "c", "view", 0),
			 -ENOSPC);
}

static void test_hello_hostile(void **state)
{
	static const char *const bad[] = {
		"notices 5\n", "notices -1\n", "notices 01\n", "notices \n",
		"notices 1 \n", "notices 9999999999999\n", "notices x\n",
		"notices +1\n",
	};
	struct console_info info;
	char big[4096];
	unsigned notices, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(control_hello_parse((const uint8_t *)bad[i],
						     strlen(bad[i]), &info,
						     &notices), -EPROTO);
	/* unknown lines are ignored; fields are cut to size */
	memset(big, 'A', sizeof(big));
	memcpy(big, "cell ", 5);
	assert_int_equal(control_hello_parse((const uint8_t *)big, sizeof(big),
					     &info, &notices), 0);
	assert_int_equal(strlen(info.cell), sizeof(info.cell) - 1);
	assert_int_equal(notices, 0);
	assert_int_equal(control_hello_parse((const uint8_t *)"future 7\n"
					     "noticesX 3\n\0notices 9", 30,
					     &info, &notices), 0);
	assert_int_equal(notices, 0);
	/* a NUL ends the text: nothing after it counts */
	assert_int_equal(control_hello_parse((const uint8_t *)"\0notices 3\n",
					     11, &info, &notices), 0);
	assert_int_equal(notices, 0);
}

static void test_notice_good(void **state)
{
	char max[CONSOLE_NOTICE_MAX + 1];

	assert_int_equal(check("QUARANTINED: cell x runs with no network"), 0);
	assert_int_equal(check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92"), 0);
	assert_int_equal(check("\xc2\xa0"), 0);		/* U+00A0 */
	assert_int_equal(check("\xef\xbf\xbd"), 0);	/* U+FFFD */
	assert_int_equal(check("\xf4\x8f\xbf\xbf"), 0);	/* U+10FFFF */
	assert_int_equal(check("\xe0\xa0\x80"), 0);	/* U+0800 */
	assert_int_equal(check("\xf0\x90\x80\x80"), 0);	/* U+10000 */
	memset(max, 'a', CONSOLE_NOTICE_MAX);
	max[CONSOLE_NOTICE_MAX] = '\0';
	assert_int_equal(check(max), 0);
	assert_true(console_notice_valid(max));
}

static void test_notice_hostile(void **state)
{
	static const char *const bad[] = {
		"line\nbreak", "tab\there", "\x1b[2J", "bell\a", "del\x7f",
		"\xc2\x9b" "31m",		/* C1 CSI */
		"\xc2\x85",			/* C1 NEL */
		"\xc0\xaf", "\xc1\xbf",		/* overlong 2-byte */
		"\xe0\x80\xaf", "\xe0\x9f\xbf",	/* overlong 3-byte */
		"\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
		"\xed\xa0\x80", "\xed\xbf\xbf",	/* surrogates */
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", /* > U+10FFFF */
		"\xf8\x88\x80\x80\x80", "\xff", "\xfe",
		"\x80", "\xbf",			/* lone continuations */
		"\xc3", "ab\xe2\x82", "\xf0\x9f\x94", /* truncated */
		"\xc3\x28", "\xe2\x28\xa1", "\xe2\x82\x28", /* bad 2nd/3rd */
		"\xe2\x80\xae" "evil",		/* RLO */
		"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad",
		"\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9",
		"\xe2\x80\xa8", "\xe2\x80\xa9",	/* LS, PS */
	};
	char big[CONSOLE_NOTICE_MAX + 2];
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(check(bad[i]), -EILSEQ);
		assert_false(console_notice_valid(bad[i]));
	}
	/* an embedded NUL is a control character */
	assert_int_equal(control_notice_check((const uint8_t *)"a\0b", 3),
			 -EILSEQ);
	assert_int_equal(check(""), -EMSGSIZE);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(check(big), -EMSGSIZE);
	/* a multi-byte character cut by the length is rejected, not read
	 * past: the checker is given one byte less than the sequence */
	assert_int_equal(control_notice_check((const uint8_t *)"\xe2\x82\xac",
					      2), -EILSEQ);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_roundtrip),
		cmocka_unit_test(test_hello_hostile),
		cmocka_unit_test(test_notice_good),
		cmocka_unit_test(test_notice_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
