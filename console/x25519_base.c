/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x25519_base.c - X25519 public keys from libsodium's Ed25519 fixed-base
 * multiplication
 *
 * Every handshake makes one ephemeral key pair. libsodium 1.0.18 computes
 * an X25519 public key with the same Montgomery ladder it uses for a DH
 * with an unknown point, while its Ed25519 fixed-base multiplication uses
 * a precomputed table and is several times faster. Curve25519 and
 * Ed25519 are birationally equivalent, the map takes the Ed25519 base
 * point to u = 9 and is a group homomorphism, so for a clamped scalar k
 *
 *     X25519(k, 9) = u(k * B),    u = (1 + y) / (1 - y)  (mod 2^255 - 19)
 *
 * where y is the Edwards y coordinate of k * B (RFC 7748, section 4.1).
 * The scalar multiplication stays libsodium's; what is here is the one
 * field division of the map, in radix 2^51 with 128-bit products.
 * crypto_sign_ed25519_pk_to_curve25519() computes the same map but first
 * decompresses the point and checks its subgroup, which costs as much as
 * the multiplication saved; our point comes from the base point, so
 * neither check can fail and both are skipped.
 *
 * The division runs in constant time although its input is a public key:
 * inversion by Fermat (a fixed chain of squarings and multiplications),
 * no branches on field values. tests/console/test_x25519_base.c checks
 * the result against crypto_scalarmult_base() for random and edge-case
 * scalars.
 */
#include <string.h>

#include <sodium.h>

#include "x25519_base.h"

__extension__ typedef unsigned __int128 u128;
typedef uint64_t fe[5]; /* value = sum f[i] * 2^(51 i), limbs < 2^52 */

#define MASK51 ((UINT64_C(1) << 51) - 1)

static uint64_t load64_le(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* 255 bits little-endian (the top bit ignored, as RFC 7748 says). */
static void fe_frombytes(fe h, const uint8_t s[32])
{
	h[0] = load64_le(s) & MASK51;
	h[1] = (load64_le(s + 6) >> 3) & MASK51;
	h[2] = (load64_le(s + 12) >> 6) & MASK51;
	h[3] = (load64_le(s + 19) >> 1) & MASK51;
	h[4] = (load64_le(s + 24) >> 12) & MASK51;
}

static void fe_carry(fe h)
{
	uint64_t c;
	int i;

	for (i = 0; i < 4; i++) {
		c = h[i] >> 51;
		h[i] &= MASK51;
		h[i + 1] += c;
	}
	c = h[4] >> 51;
	h[4] &= MASK51;
	h[0] += 19 * c;
	c = h[0] >> 51;
	h[0] &= MASK51;
	h[1] += c;
}

/* Fully reduced, little-endian. */
static void fe_tobytes(uint8_t s[32], const fe f)
{
	uint64_t h[5], q, c;
	int i;

	memcpy(h, f, sizeof(h));
	fe_carry(h);
	fe_carry(h);
	/* h < 2^255 + small: subtract p once if h >= p, without branching */
	q = (h[0] + 19) >> 51;
	q = (h[1] + q) >> 51;
	q = (h[2] + q) >> 51;
	q = (h[3] + q) >> 51;
	q = (h[4] + q) >> 51;
	h[0] += 19 * q;
	for (i = 0; i < 4; i++) {
		c = h[i] >> 51;
		h[i] &= MASK51;
		h[i + 1] += c;
	}
	h[4] &= MASK51;
	for (i = 0; i < 32; i++) {
		int bit = i * 8, limb = bit / 51, sh = bit % 51;
		uint64_t v = h[limb] >> sh;

		if (sh > 43 && limb < 4)
			v |= h[limb + 1] << (51 - sh);
		s[i] = (uint8_t)v;
	}
}

static void fe_mul(fe h, const fe f, const fe g)
{
	u128 r0, r1, r2, r3, r4;
	uint64_t g1_19 = 19 * g[1], g2_19 = 19 * g[2], g3_19 = 19 * g[3],
		 g4_19 = 19 * g[4], c;

	r0 = (u128)f[0] * g[0] + (u128)f[1] * g4_19 + (u128)f[2] * g3_19 +
	     (u128)f[3] * g2_19 + (u128)f[4] * g1_19;
	r1 = (u128)f[0] * g[1] + (u128)f[1] * g[0] + (u128)f[2] * g4_19 +
	     (u128)f[3] * g3_19 + (u128)f[4] * g2_19;
	r2 = (u128)f[0] * g[2] + (u128)f[1] * g[1] + (u128)f[2] * g[0] +
	     (u128)f[3] * g4_19 + (u128)f[4] * g3_19;
	r3 = (u128)f[0] * g[3] + (u128)f[1] * g[2] + (u128)f[2] * g[1] +
	     (u128)f[3] * g[0] + (u128)f[4] * g4_19;
	r4 = (u128)f[0] * g[4] + (u128)f[1] * g[3] + (u128)f[2] * g[2] +
	     (u128)f[3] * g[1] + (u128)f[4] * g[0];
	r1 += (uint64_t)(r0 >> 51);
	h[0] = (uint64_t)r0 & MASK51;
	r2 += (uint64_t)(r1 >> 51);
	h[1] = (uint64_t)r1 & MASK51;
	r3 += (uint64_t)(r2 >> 51);
	h[2] = (uint64_t)r2 & MASK51;
	r4 += (uint64_t)(r3 >> 51);
	h[3] = (uint64_t)r3 & MASK51;
	c = (uint64_t)(r4 >> 51);
	h[4] = (uint64_t)r4 & MASK51;
	h[0] += 19 * c;
	h[1] += h[0] >> 51;
	h[0] &= MASK51;
}

static void fe_sq(fe h, const fe f)
{
	fe_mul(h, f, f);
}

static void fe_sqn(fe h, const fe f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

/* h = f^(p-2) = 1/f (0 for f = 0): the usual chain, 254 squarings. */
static void fe_invert(fe out, const fe z)
{
	fe z2, z9, z11, z2_5_0, z2_10_0, z2_20_0, z2_50_0, z2_100_0, t;

	fe_sq(z2, z);		 /* 2 */
	fe_sqn(t, z2, 2);	 /* 8 */
	fe_mul(z9, t, z);	 /* 9 */
	fe_mul(z11, z9, z2);	 /* 11 */
	fe_sq(t, z11);		 /* 22 */
	fe_mul(z2_5_0, t, z9);	 /* 2^5 - 2^0 */
	fe_sqn(t, z2_5_0, 5);	 /* 2^10 - 2^5 */
	fe_mul(z2_10_0, t, z2_5_0);
	fe_sqn(t, z2_10_0, 10);
	fe_mul(z2_20_0, t, z2_10_0);
	fe_sqn(t, z2_20_0, 20);
	fe_mul(t, t, z2_20_0);	 /* 2^40 - 2^0 */
	fe_sqn(t, t, 10);
	fe_mul(z2_50_0, t, z2_10_0);
	fe_sqn(t, z2_50_0, 50);
	fe_mul(z2_100_0, t, z2_50_0);
	fe_sqn(t, z2_100_0, 100);
	fe_mul(t, t, z2_100_0);	 /* 2^200 - 2^0 */
	fe_sqn(t, t, 50);
	fe_mul(t, t, z2_50_0);	 /* 2^250 - 2^0 */
	fe_sqn(t, t, 5);	 /* 2^255 - 2^5 */
	fe_mul(out, t, z11);	 /* 2^255 - 21 = p - 2 */
}

int x25519_base(uint8_t pub[static 32], const uint8_t priv[static 32])
{
	uint8_t k[32], ed[32];
	fe y, num, den, u;
	int r, i;

	memcpy(k, priv, 32);
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
	/* fails only for the identity: not for a clamped scalar, as k is
	 * not a multiple of the group order, but checked all the same */
	r = crypto_scalarmult_ed25519_base_noclamp(ed, k);
	sodium_memzero(k, sizeof(k));
	if (r)
		return -1;
	fe_frombytes(y, ed); /* the top bit is the sign of x: not needed */
	/* 1 + y and 1 - y; 2p is added before subtracting so limbs stay
	 * non-negative */
	memcpy(num, y, sizeof(fe));
	num[0] += 1;
	den[0] = 0xfffffffffffda + 1 - y[0];
	for (i = 1; i < 5; i++)
		den[i] = 0xffffffffffffe - y[i];
	fe_carry(num);
	fe_carry(den);
	fe_invert(den, den);
	fe_mul(u, num, den);
	fe_tobytes(pub, u);
	/* y = 1 (the identity) made den 0, and u = 0: refuse like libsodium */
	return sodium_is_zero(pub, 32) ? -1 : 0;
}
