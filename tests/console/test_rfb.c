/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_rfb.c - the RFB client-message filter: handshake, roles, clipboard
 * policy, SetEncodings rewriting, hostile input, and our handshake with
 * QEMU
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rfb.h"

static uint8_t up[1 << 20];
static size_t uplen;
static uint8_t reply[64];
static size_t replylen;

static int feed(struct rfb_filter *f, const void *in, size_t n)
{
	return rfb_filter_feed(f, in, n, up, sizeof(up), &uplen, reply,
			       &replylen, NULL);
}

static void handshake(struct rfb_filter *f, bool input, bool cut)
{
	*f = (struct rfb_filter){0};
	rfb_filter_init(f, input, cut);
	assert_int_equal(feed(f, "RFB 003.008\n", 12), 0);
	assert_int_equal(replylen, 2);
	assert_memory_equal(reply, "\1\1", 2);
	assert_int_equal(feed(f, "\1", 1), 0);
	assert_int_equal(replylen, 4);
	assert_memory_equal(reply, "\0\0\0\0", 4);
	/* ClientInit exclusive (0) is forwarded as shared (1) */
	assert_int_equal(feed(f, "\0", 1), 0);
	assert_int_equal(uplen, 1);
	assert_int_equal(up[0], 1);
	assert_int_equal(f->phase, RFB_NORMAL);
}

static const uint8_t key_ev[8] = {4, 1, 0, 0, 0, 0, 0, 0x61};
static const uint8_t ptr_ev[6] = {5, 1, 0, 10, 0, 20};
static const uint8_t fbur[10] = {3, 1, 0, 0, 0, 0, 1, 0, 1, 0};
static const uint8_t cut[12] = {6, 0, 0, 0, 0, 0, 0, 4, 'a', 'b', 'c', 'd'};

static void test_view_drops_input(void **state)
{
	static struct rfb_filter f;
	uint8_t all[36];

	handshake(&f, false, false);
	memcpy(all, key_ev, 8);
	memcpy(all + 8, ptr_ev, 6);
	memcpy(all + 14, fbur, 10);
	memcpy(all + 24, cut, 12);
	assert_int_equal(feed(&f, all, sizeof(all)), 0);
	assert_int_equal(uplen, 10);
	assert_memory_equal(up, fbur, 10);
	assert_int_equal(f.dropped_key, 1);
	assert_int_equal(f.dropped_pointer, 1);
	assert_int_equal(f.dropped_cut, 1);
}

static void test_operate_forwards(void **state)
{
	static struct rfb_filter f;
	size_t i;

	handshake(&f, true, false);
	/* byte at a time: messages come out whole */
	for (i = 0; i < 8; i++) {
		assert_int_equal(feed(&f, key_ev + i, 1), 0);
		assert_int_equal(uplen, i == 7 ? 8 : 0);
	}
	assert_memory_equal(up, key_ev, 8);
	assert_int_equal(feed(&f, ptr_ev, 6), 0);
	assert_memory_equal(up, ptr_ev, 6);
	/* clipboard=none: cut dropped even for operate */
	assert_int_equal(feed(&f, cut, 12), 0);
	assert_int_equal(uplen, 0);
	assert_int_equal(f.dropped_cut, 1);
	handshake(&f, true, true);
	assert_int_equal(feed(&f, cut, 12), 0);
	assert_int_equal(uplen, 12);
	assert_memory_equal(up, cut, 12);
}

static void test_set_encodings_rewritten(void **state)
{
	static struct rfb_filter f;
	uint8_t m[4 + 4 * 5] = {2,    0,    0,	  5,	0, 0, 0, 7, /* Tight */
				0xff, 0xff, 0xfe, 0xfe,	 /* -258 QEMU ext key */
				0,    0,    0,	  0,	 /* Raw */
				0xc0, 0xa1, 0xe5, 0xce,	 /* ext clipboard */
				0xff, 0xff, 0xff, 0x21}; /* -223 DesktopSize */
	uint8_t want[4 + 4 * 3] = {2, 0, 0, 3, 0,    0,	   0,	 7,
				   0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21};

	handshake(&f, true, false);
	assert_int_equal(feed(&f, m, sizeof(m)), 0);
	assert_int_equal(uplen, sizeof(want));
	assert_memory_equal(up, want, sizeof(want));
}

static void expect_dead(struct rfb_filter *f, const void *m, size_t n)
{
	assert_int_equal(feed(f, m, n), -EPROTO);
	assert_int_equal(f->phase, RFB_DEAD);
	/* and it stays dead */
	assert_int_equal(feed(f, fbur, 10), -EPROTO);
}

static void test_hostile(void **state)
{
	static struct rfb_filter f;
	uint8_t big[4] = {2, 0, 0xff, 0xff};
	uint8_t longcut[8] = {6, 0, 0, 0, 0x80, 0, 0, 4};
	uint8_t pf[20] = {0, 0, 0, 0, 24, 24, 0, 1};
	uint8_t pfok[20] = {0, 0, 0, 0, 32, 24, 0, 1};

	rfb_filter_init(&f, true, true);
	expect_dead(&f, "RFB 004.000\n", 12);
	rfb_filter_init(&f, true, true);
	assert_int_equal(feed(&f, "RFB 003.008\n", 12), 0);
	expect_dead(&f, "\2", 1); /* VNC auth: never offered */
	handshake(&f, true, true);
	expect_dead(&f, "\xff\0\0\0", 4); /* QEMU extension */
	handshake(&f, true, true);
	expect_dead(&f, "\x96", 1); /* EnableContinuousUpdates */
	handshake(&f, true, true);
	expect_dead(&f, big, 4); /* 65535 encodings */
	handshake(&f, true, true);
	expect_dead(&f, longcut, 8); /* extended clipboard */
	handshake(&f, true, true);
	expect_dead(&f, pf, 20); /* 24 bpp */
	handshake(&f, true, true);
	assert_int_equal(feed(&f, pfok, 20), 0);
	assert_int_equal(uplen, 20);
	expect_dead(&f, "\3\2\0\0\0\0\0\0\0\0", 10); /* incremental=2 */
	handshake(&f, true, true);
	expect_dead(&f, "\4\7\0\0\0\0\0\0", 8); /* down-flag=7 */
}

static void test_old_versions(void **state)
{
	static struct rfb_filter f;

	rfb_filter_init(&f, false, false);
	assert_int_equal(feed(&f, "RFB 003.003\n", 12), 0);
	assert_int_equal(replylen, 4);
	assert_memory_equal(reply, "\0\0\0\1", 4);
	assert_int_equal(feed(&f, "\1", 1), 0);
	assert_int_equal(f.phase, RFB_NORMAL);
	rfb_filter_init(&f, false, false);
	/* 3.7 pipelined: version, type, ClientInit in one go; no result */
	assert_int_equal(feed(&f, "RFB 003.007\n\1\1", 14), 0);
	assert_int_equal(replylen, 2);
	assert_int_equal(uplen, 1);
	assert_int_equal(f.phase, RFB_NORMAL);
}

static void test_upstream(void **state)
{
	struct rfb_upstream u = {0};
	uint8_t out[32];
	size_t used, outlen;
	static const uint8_t srv[] = "RFB 003.008\n\2\2\1\0\0\0\0XYZ";

	assert_int_equal(
	    rfb_upstream_feed(&u, srv, 12, &used, out, &outlen, NULL), 0);
	assert_int_equal(outlen, 12);
	assert_int_equal(rfb_upstream_feed(&u, srv + 12, sizeof(srv) - 13,
					   &used, out, &outlen, NULL),
			 1);
	assert_int_equal(outlen, 1);
	assert_int_equal(out[0], 1);
	assert_int_equal(used, 7); /* "XYZ" is ServerInit data */

	memset(&u, 0, sizeof(u));
	assert_true(rfb_upstream_feed(&u, (const uint8_t *)"RFB 003.008\n\1\2",
				      14, &used, out, &outlen, NULL) < 0);
	memset(&u, 0, sizeof(u));
	assert_true(rfb_upstream_feed(&u, (const uint8_t *)"RFB 003.003\n", 12,
				      &used, out, &outlen, NULL) < 0);
	memset(&u, 0, sizeof(u));
	assert_true(rfb_upstream_feed(&u, (const uint8_t *)"RFB 003.008\n\0",
				      13, &used, out, &outlen, NULL) < 0);
	memset(&u, 0, sizeof(u));
	assert_true(
	    rfb_upstream_feed(&u, (const uint8_t *)"RFB 003.008\n\1\1\0\0\0\1",
			      18, &used, out, &outlen, NULL) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_view_drops_input),
	    cmocka_unit_test(test_operate_forwards),
	    cmocka_unit_test(test_set_encodings_rewritten),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_old_versions),
	    cmocka_unit_test(test_upstream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
