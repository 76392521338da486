/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_x25519_base.c - the fast ephemeral key generation (Ed25519 table
 * plus the birational map) against libsodium's X25519 and RFC 7748
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "noise.h"
#include "x25519_base.h"

static void hex(uint8_t *out, const char *s)
{
	size_t n;

	assert_int_equal(sodium_hex2bin(out, 32, s, 64, NULL, &n, NULL), 0);
	assert_int_equal(n, 32);
}

/* RFC 7748, section 6.1: Alice's and Bob's public keys. */
static void test_rfc7748(void **state)
{
	static const char *const v[][2] = {
	    {"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	     "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"},
	    {"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	     "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"},
	};
	uint8_t priv[32], want[32], got[32];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		hex(priv, v[i][0]);
		hex(want, v[i][1]);
		assert_int_equal(x25519_base(got, priv), 0);
		assert_memory_equal(got, want, 32);
	}
}

/* Random scalars: the same public key as crypto_scalarmult_base(). */
static void test_random(void **state)
{
	uint8_t priv[32], want[32], got[32];
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		randombytes_buf(priv, sizeof(priv));
		assert_int_equal(crypto_scalarmult_base(want, priv), 0);
		assert_int_equal(x25519_base(got, priv), 0);
		assert_memory_equal(got, want, 32);
	}
}

/*
 * Scalars at the edges of the clamped range and with few or many bits
 * set, where carries in the field code would show: all bytes equal (0x00
 * to 0xff, clamping makes 0x00 and 0xff real scalars), one bit set, all
 * but one bit set.
 */
static void test_edges(void **state)
{
	uint8_t priv[32], want[32], got[32];
	int b, i;

	(void)state;
	for (b = 0; b < 256; b++) {
		memset(priv, b, sizeof(priv));
		assert_int_equal(crypto_scalarmult_base(want, priv), 0);
		assert_int_equal(x25519_base(got, priv), 0);
		assert_memory_equal(got, want, 32);
	}
	for (i = 0; i < 256; i++) {
		memset(priv, 0, sizeof(priv));
		priv[i / 8] = (uint8_t)(1u << (i % 8));
		assert_int_equal(crypto_scalarmult_base(want, priv), 0);
		assert_int_equal(x25519_base(got, priv), 0);
		assert_memory_equal(got, want, 32);
		memset(priv, 0xff, sizeof(priv));
		priv[i / 8] &= (uint8_t)~(1u << (i % 8));
		assert_int_equal(crypto_scalarmult_base(want, priv), 0);
		assert_int_equal(x25519_base(got, priv), 0);
		assert_memory_equal(got, want, 32);
	}
}

/* The key pairs the handshake makes agree with libsodium, and DH works. */
static void test_keypair(void **state)
{
	uint8_t a[32], apub[32], b[32], bpub[32], ab[32], ba[32], chk[32];
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		noise_keypair(a, apub);
		noise_keypair(b, bpub);
		assert_int_equal(crypto_scalarmult_base(chk, a), 0);
		assert_memory_equal(chk, apub, 32);
		assert_int_equal(crypto_scalarmult(ab, a, bpub), 0);
		assert_int_equal(crypto_scalarmult(ba, b, apub), 0);
		assert_memory_equal(ab, ba, 32);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7748),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_edges),
	    cmocka_unit_test(test_keypair),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
