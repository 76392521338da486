/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_dns.c - the DNS query parser with hostile queries, the allowlist
 * and the REFUSED builder
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"
#include "framegen.h"

static uint8_t q[2048];
static struct dns_query dq;
static const char *why;

static int parse(size_t n)
{
	return dns_parse_query(q, n, &dq, &why);
}

static void test_good(void **state)
{
	size_t n = fg_dns_query(0x1234, "Db1.Corp-Net.example", q, sizeof(q));

	assert_int_equal(parse(n), 0);
	assert_string_equal(dq.name, "db1.corp-net.example");
	assert_int_equal(dq.id, 0x1234);
	assert_int_equal(dq.qtype, 1);
	assert_int_equal(dq.question_end, n);
}

static void test_truncated(void **state)
{
	size_t n = fg_dns_query(1, "a.example.org", q, sizeof(q)), i;

	for (i = 0; i < n; i++)
		assert_int_equal(parse(i), -EINVAL);
}

static void test_compression(void **state)
{
	size_t n = fg_dns_query(1, "a.example.org", q, sizeof(q));

	q[14] = 0xc0; /* "a" then a pointer */
	q[15] = 12;
	assert_int_not_equal(parse(n), 0);
	assert_string_equal(why, "compression");
	/* a pointer to itself: must not loop */
	q[12] = 0xc0;
	q[13] = 12;
	assert_int_not_equal(parse(n), 0);
	q[12] = 0x40; /* extended label type */
	assert_int_not_equal(parse(n), 0);
	assert_string_equal(why, "label-type");
}

static void test_label_bounds(void **state)
{
	char name[400];
	size_t n;

	memset(name, 'a', 64);
	name[64] = '\0'; /* one 64-byte label: 0x40 is a label type */
	n = fg_dns_query(1, name, q, sizeof(q));
	assert_int_not_equal(parse(n), 0);
	assert_string_equal(why, "label-type");
	name[63] = '\0'; /* 63 is the maximum */
	n = fg_dns_query(1, name, q, sizeof(q));
	assert_int_equal(parse(n), 0);
	/* 4 x 63-byte labels = 256 wire bytes with the root: too long */
	memset(name, 'b', 63 * 4 + 3);
	name[63] = name[127] = name[191] = '.';
	name[255] = '\0';
	n = fg_dns_query(1, name, q, sizeof(q));
	assert_int_not_equal(parse(n), 0);
	assert_string_equal(why, "name-too-long");
	/* 3 x 63 + 61: 253 characters, 255 wire bytes: the maximum */
	name[253] = '\0';
	n = fg_dns_query(1, name, q, sizeof(q));
	assert_int_equal(parse(n), 0);
	assert_int_equal(strlen(dq.name), 253);
}

static void test_header_lies(void **state)
{
	size_t n = fg_dns_query(1, "a.example", q, sizeof(q));

	q[2] |= 0x80; /* a response, not a query */
	assert_int_not_equal(parse(n), 0);
	q[2] = 0x28; /* opcode 5 (UPDATE) */
	assert_int_not_equal(parse(n), 0);
	q[2] = 0x01;
	q[5] = 2; /* two questions, one present */
	assert_int_not_equal(parse(n), 0);
	q[5] = 0;
	assert_int_not_equal(parse(n), 0);
	q[5] = 1;
	q[7] = 1; /* an answer in a query */
	assert_int_not_equal(parse(n), 0);
	q[7] = 0;
	q[n - 1] = 3; /* class CHAOS */
	assert_int_not_equal(parse(n), 0);
	assert_string_equal(why, "class");
}

static void test_bad_chars(void **state)
{
	size_t n = fg_dns_query(1, "a.example", q, sizeof(q));

	q[13] = '\n';
	assert_int_not_equal(parse(n), 0);
	assert_string_equal(why, "bad-character");
	q[13] = '.'; /* a dot inside a label */
	assert_int_not_equal(parse(n), 0);
	q[13] = 0;
	q[12] = 0; /* root name only */
	assert_int_not_equal(parse(n), 0);
}

static void test_allowlist(void **state)
{
	char *list[] = {"licence.example.org.", "db"};

	assert_true(dns_name_allowed("licence.example.org", list, 2));
	assert_true(dns_name_allowed("db", list, 2));
	assert_false(dns_name_allowed("evil.licence.example.org", list, 2));
	assert_false(dns_name_allowed("licence.example.or", list, 2));
	assert_false(dns_name_allowed("d", list, 2));
	assert_true(dns_name_valid("a-b_c.example."));
	assert_false(dns_name_valid(""));
	assert_false(dns_name_valid("."));
	assert_false(dns_name_valid("a..b"));
	assert_false(dns_name_valid("a b"));
	assert_false(dns_name_valid("*.example"));
}

static void test_refused(void **state)
{
	uint8_t out[600];
	size_t n = fg_dns_query(0xbeef, "evil.example", q, sizeof(q)), r;

	assert_int_equal(parse(n), 0);
	r = dns_build_refused(q, &dq, out, sizeof(out));
	assert_int_equal(r, n);
	assert_int_equal(out[0], 0xbe);
	assert_int_equal(out[1], 0xef);
	assert_int_equal(out[2], 0x81);	    /* QR, RD */
	assert_int_equal(out[3] & 0x0f, 5); /* REFUSED */
	assert_memory_equal(out + 12, q + 12, n - 12);
	assert_int_equal(dns_build_refused(q, &dq, out, 5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_compression),
	    cmocka_unit_test(test_label_bounds),
	    cmocka_unit_test(test_header_lies),
	    cmocka_unit_test(test_bad_chars),
	    cmocka_unit_test(test_allowlist),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
