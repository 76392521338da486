/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_session.c - transport messages inside a session: in-place seal and
 * open, implicit rekeying in step, and every failure being final
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "session.h"

static void pair(struct noise_cipher *a, struct noise_cipher *b)
{
	uint8_t k[32];

	randombytes_buf(k, sizeof(k));
	noise_cipher_init(a, k);
	noise_cipher_init(b, k);
}

static void test_roundtrip(void **state)
{
	static uint8_t buf[SESSION_FRAME_MAX];
	struct noise_cipher tx, rx;
	uint8_t type, ch, *data;
	long n, m;

	pair(&tx, &rx);
	memset(buf + SESSION_DATA_OFF, 'x', SESSION_DATA_MAX);
	n = session_seal(&tx, buf, SESSION_DATA, SESSION_CH_SCREEN,
			 SESSION_DATA_MAX, NULL);
	assert_int_equal(n, SESSION_FRAME_MAX);
	assert_int_equal((buf[0] << 8) | buf[1], NOISE_MAX_MSG);
	m = session_open(&rx, buf + 2, (size_t)n - 2, &type, &ch, &data, NULL);
	assert_int_equal(m, SESSION_DATA_MAX);
	assert_int_equal(type, SESSION_DATA);
	assert_int_equal(ch, SESSION_CH_SCREEN);
	assert_int_equal(data[SESSION_DATA_MAX - 1], 'x');
	/* one byte more does not fit in a Noise message */
	assert_int_equal(
	    session_seal(&tx, buf, SESSION_DATA, 1, SESSION_DATA_MAX + 1, NULL),
	    -EMSGSIZE);
}

static void test_rekey_in_step(void **state)
{
	uint8_t buf[64], k0[32], type, ch, *data;
	struct noise_cipher tx, rx;
	long n;
	int i;

	pair(&tx, &rx);
	memcpy(k0, tx.k, 32);
	/* jump close to the rekey point on both sides */
	tx.n = rx.n = SESSION_REKEY_INTERVAL - 2;
	for (i = 0; i < 4; i++) {
		buf[SESSION_DATA_OFF] = (uint8_t)i;
		n = session_seal(&tx, buf, SESSION_DATA, 2, 1, NULL);
		assert_true(n > 0);
		assert_int_equal(session_open(&rx, buf + 2, (size_t)n - 2,
					      &type, &ch, &data, NULL),
				 1);
		assert_int_equal(data[0], i);
	}
	assert_memory_not_equal(tx.k, k0, 32);
	assert_memory_equal(tx.k, rx.k, 32);
	/* a receiver that missed the rekey cannot read on */
	rx.n = tx.n;
	memcpy(rx.k, k0, 32);
	n = session_seal(&tx, buf, SESSION_DATA, 2, 1, NULL);
	assert_int_equal(
	    session_open(&rx, buf + 2, (size_t)n - 2, &type, &ch, &data, NULL),
	    -EBADMSG);
}

static void test_hostile(void **state)
{
	uint8_t buf[64], copy[64], type, ch, *data;
	struct noise_cipher tx, rx;
	long n;

	pair(&tx, &rx);
	n = session_seal(&tx, buf, SESSION_HELLO, 0, 0, NULL);
	memcpy(copy, buf, (size_t)n);
	assert_int_equal(
	    session_open(&rx, buf + 2, (size_t)n - 2, &type, &ch, &data, NULL),
	    0);
	/* replay */
	assert_int_equal(
	    session_open(&rx, copy + 2, (size_t)n - 2, &type, &ch, &data, NULL),
	    -EBADMSG);
	/* truncated */
	n = session_seal(&tx, buf, SESSION_DATA, 1, 0, NULL);
	assert_int_equal(
	    session_open(&rx, buf + 2, (size_t)n - 3, &type, &ch, &data, NULL),
	    -EBADMSG);
	/* a message without the two header bytes */
	pair(&tx, &rx);
	n = noise_cipher_encrypt(&tx, NULL, 0, (const uint8_t *)"x", 1, buf,
				 NULL);
	assert_int_equal(
	    session_open(&rx, buf, (size_t)n, &type, &ch, &data, NULL),
	    -EBADMSG);
	/* exhausted nonces */
	tx.n = NOISE_NONCE_MAX;
	assert_int_equal(session_seal(&tx, buf, SESSION_DATA, 1, 0, NULL),
			 -EOVERFLOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_rekey_in_step),
	    cmocka_unit_test(test_hostile),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
