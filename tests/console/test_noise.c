/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_noise.c - Noise: the cacophony vectors byte for byte, then hostile
 * handshakes (tampered, truncated, replayed, oversize, wrong peer) and the
 * transport rules (nonce exhaustion, rekey, failure is final)
 *
 * The vectors are read at test time from tests/fixtures/noise/ (a copy of
 * the cacophony file); every NN and XX vector for 25519_ChaChaPoly_BLAKE2b
 * must be found and reproduced, so a missing fixture fails the test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "hex.h"
#include "noise.h"

static void unhex(uint8_t *out, size_t *n, const char *s)
{
	size_t len = strlen(s);
	char tmp[2 * NOISE_MAX_MSG + 1];

	assert_true(len % 2 == 0 && len / 2 <= NOISE_MAX_MSG);
	memcpy(tmp, s, len + 1);
	assert_int_equal(hex_decode(out, len / 2, tmp), 0);
	*n = len / 2;
}

static void key(uint8_t out[32], json_t *v, const char *field)
{
	size_t n;
	json_t *s = json_object_get(v, field);

	assert_non_null(s);
	unhex(out, &n, json_string_value(s));
	assert_int_equal(n, 32);
}

static int run_vector(json_t *v, enum noise_pattern pat)
{
	struct noise_handshake ini, res;
	struct noise_cipher itx, irx, rtx, rrx;
	uint8_t k[32], pro[256], pay[1024], ct[1024], out[1024], buf[1024];
	size_t plen, prolen, ctlen, i;
	json_t *msgs = json_object_get(v, "messages");
	struct err e = {0};
	long r;

	unhex(pro, &prolen,
	      json_string_value(json_object_get(v, "init_prologue")));
	if (pat == NOISE_XX)
		key(k, v, "init_static");
	assert_int_equal(noise_handshake_init(&ini, pat, true, pro, prolen,
					      pat == NOISE_XX ? k : NULL, &e),
			 0);
	if (pat == NOISE_XX)
		key(k, v, "resp_static");
	assert_int_equal(noise_handshake_init(&res, pat, false, pro, prolen,
					      pat == NOISE_XX ? k : NULL, &e),
			 0);
	key(k, v, "init_ephemeral");
	assert_int_equal(noise_handshake_fix_ephemeral(&ini, k), 0);
	key(k, v, "resp_ephemeral");
	assert_int_equal(noise_handshake_fix_ephemeral(&res, k), 0);

	assert_true(json_array_size(msgs) > 3);
	for (i = 0; i < json_array_size(msgs); i++) {
		json_t *m = json_array_get(msgs, i);
		bool from_ini = i % 2 == 0;

		unhex(pay, &plen,
		      json_string_value(json_object_get(m, "payload")));
		unhex(ct, &ctlen,
		      json_string_value(json_object_get(m, "ciphertext")));
		if (!noise_handshake_done(&ini)) {
			struct noise_handshake *w = from_ini ? &ini : &res;
			struct noise_handshake *rd = from_ini ? &res : &ini;

			r = noise_write_message(w, pay, plen, out, sizeof(out),
						&e);
			assert_int_equal(r, (long)ctlen);
			assert_memory_equal(out, ct, ctlen);
			r = noise_read_message(rd, out, ctlen, buf, sizeof(buf),
					       &e);
			assert_int_equal(r, (long)plen);
			assert_memory_equal(buf, pay, plen);
			if (noise_handshake_done(&ini)) {
				uint8_t hh[64];
				size_t hl;

				assert_true(noise_handshake_done(&res));
				unhex(hh, &hl,
				      json_string_value(json_object_get(
					  v, "handshake_hash")));
				assert_int_equal(hl, 64);
				assert_memory_equal(ini.ss.h, hh, 64);
				assert_memory_equal(res.ss.h, hh, 64);
				assert_int_equal(
				    noise_split(&ini, &itx, &irx, &e), 0);
				assert_int_equal(
				    noise_split(&res, &rtx, &rrx, &e), 0);
			}
			continue;
		}
		r = noise_cipher_encrypt(from_ini ? &itx : &rtx, NULL, 0, pay,
					 plen, out, &e);
		assert_int_equal(r, (long)ctlen);
		assert_memory_equal(out, ct, ctlen);
		r = noise_cipher_decrypt(from_ini ? &rrx : &irx, NULL, 0, out,
					 ctlen, buf, &e);
		assert_int_equal(r, (long)plen);
		assert_memory_equal(buf, pay, plen);
	}
	noise_handshake_wipe(&ini);
	noise_handshake_wipe(&res);
	return 1;
}

static void test_vectors(void **state)
{
	char path[4096];
	const char *root = getenv("WALLOFF_SOURCE_ROOT");
	json_error_t je;
	json_t *doc, *vs;
	size_t i;
	int nn = 0, xx = 0;

	assert_non_null(root);
	snprintf(path, sizeof(path),
		 "%s/tests/fixtures/noise/noise-vectors.json", root);
	doc = json_load_file(path, 0, &je);
	assert_non_null(doc);
	vs = json_object_get(doc, "vectors");
	for (i = 0; i < json_array_size(vs); i++) {
		json_t *v = json_array_get(vs, i);
		const char *name =
		    json_string_value(json_object_get(v, "protocol_name"));

		if (!name)
			continue;
		if (!strcmp(name, "Noise_NN_25519_ChaChaPoly_BLAKE2b"))
			nn += run_vector(v, NOISE_NN);
		else if (!strcmp(name, "Noise_XX_25519_ChaChaPoly_BLAKE2b"))
			xx += run_vector(v, NOISE_XX);
	}
	json_decref(doc);
	assert_true(nn >= 1);
	assert_true(xx >= 1);
}

/* HMAC-BLAKE2b against an independent RFC 2104 construction. */
static void test_hmac_is_rfc2104(void **state)
{
	uint8_t key[200], msg[77], a[64], b[64], ipad[128], opad[128];
	uint8_t inner[64], kk[128] = {0};
	crypto_generichash_state st;
	size_t klen, i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	memset(msg, 0xab, sizeof(msg));
	for (klen = 0; klen <= sizeof(key); klen += 50) {
		memset(kk, 0, sizeof(kk));
		if (klen > 128)
			crypto_generichash(kk, 64, key, klen, NULL, 0);
		else
			memcpy(kk, key, klen);
		for (i = 0; i < 128; i++) {
			ipad[i] = kk[i] ^ 0x36;
			opad[i] = kk[i] ^ 0x5c;
		}
		crypto_generichash_init(&st, NULL, 0, 64);
		crypto_generichash_update(&st, ipad, 128);
		crypto_generichash_update(&st, msg, sizeof(msg));
		crypto_generichash_final(&st, inner, 64);
		crypto_generichash_init(&st, NULL, 0, 64);
		crypto_generichash_update(&st, opad, 128);
		crypto_generichash_update(&st, inner, 64);
		crypto_generichash_final(&st, a, 64);
		noise_hmac(b, key, klen, msg, 30, msg + 30, sizeof(msg) - 30);
		assert_memory_equal(a, b, 64);
		/* and it is not libsodium's keyed BLAKE2b */
		if (klen && klen <= 64) {
			crypto_generichash(inner, 64, msg, sizeof(msg), key,
					   klen);
			assert_memory_not_equal(inner, b, 64);
		}
	}
}

struct pair {
	struct noise_handshake i, r;
	uint8_t is[32], rs[32], ip[32], rp[32];
	uint8_t m[3][256];
	size_t ml[3];
};

static void pair_init(struct pair *p)
{
	struct err e = {0};

	noise_keypair(p->is, p->ip);
	noise_keypair(p->rs, p->rp);
	assert_int_equal(noise_handshake_init(&p->i, NOISE_XX, true,
					      (const uint8_t *)"x", 1, p->is,
					      &e),
			 0);
	assert_int_equal(noise_handshake_init(&p->r, NOISE_XX, false,
					      (const uint8_t *)"x", 1, p->rs,
					      &e),
			 0);
}

/* Run the whole handshake, recording each message. */
static void pair_run(struct pair *p)
{
	uint8_t buf[256];
	long r;
	int k;

	for (k = 0; k < 3; k++) {
		struct noise_handshake *w = k % 2 ? &p->r : &p->i;
		struct noise_handshake *rd = k % 2 ? &p->i : &p->r;

		r = noise_write_message(w, (const uint8_t *)"hi", 2, p->m[k],
					sizeof(p->m[k]), NULL);
		assert_true(r > 0);
		p->ml[k] = (size_t)r;
		assert_int_equal(noise_read_message(rd, p->m[k], p->ml[k], buf,
						    sizeof(buf), NULL),
				 2);
	}
	assert_true(noise_handshake_done(&p->i));
	assert_true(noise_handshake_done(&p->r));
}

static void test_peer_keys_learned(void **state)
{
	struct pair p;
	uint8_t wrong[32], wp[32];

	pair_init(&p);
	pair_run(&p);
	assert_memory_equal(p.i.rs, p.rp, 32);
	assert_memory_equal(p.r.rs, p.ip, 32);
	/* A client pinning another server key sees the mismatch. */
	noise_keypair(wrong, wp);
	assert_memory_not_equal(p.i.rs, wp, 32);
}

/* Flip each byte of messages 2 and 3 in turn: every flip is detected. */
static void test_tampered(void **state)
{
	struct pair p;
	uint8_t buf[256];
	size_t k, j;

	for (k = 1; k < 3; k++) {
		for (j = 0; j < 120; j += 7) {
			struct pair q;
			long r;

			pair_init(&q);
			pair_run(&q);
			pair_init(&p);
			/* replay up to message k, then tamper */
			assert_true(
			    noise_write_message(&p.i, (const uint8_t *)"hi", 2,
						p.m[0], 256, NULL) > 0);
			assert_true(noise_read_message(&p.r, p.m[0], 34, buf,
						       256, NULL) >= 0);
			p.ml[1] = (size_t)noise_write_message(
			    &p.r, (const uint8_t *)"hi", 2, p.m[1], 256, NULL);
			if (k == 1) {
				if (j >= p.ml[1])
					continue;
				p.m[1][j] ^= 0x40;
				r = noise_read_message(&p.i, p.m[1], p.ml[1],
						       buf, 256, NULL);
				assert_true(r < 0);
				/* failure is final, even with the right bytes
				 */
				p.m[1][j] ^= 0x40;
				assert_true(noise_read_message(&p.i, p.m[1],
							       p.ml[1], buf,
							       256, NULL) < 0);
				continue;
			}
			assert_true(noise_read_message(&p.i, p.m[1], p.ml[1],
						       buf, 256, NULL) >= 0);
			p.ml[2] = (size_t)noise_write_message(
			    &p.i, (const uint8_t *)"hi", 2, p.m[2], 256, NULL);
			if (j >= p.ml[2])
				continue;
			p.m[2][j] ^= 0x01;
			assert_true(noise_read_message(&p.r, p.m[2], p.ml[2],
						       buf, 256, NULL) < 0);
			assert_false(noise_handshake_done(&p.r));
		}
	}
}

static void test_truncated(void **state)
{
	uint8_t buf[256];
	size_t k, len;

	for (k = 0; k < 3; k++) {
		for (len = 0;; len++) {
			struct pair p;
			int i;
			long r;

			pair_init(&p);
			for (i = 0; i < (int)k; i++) {
				struct noise_handshake *w = i % 2 ? &p.r : &p.i;
				struct noise_handshake *rd =
				    i % 2 ? &p.i : &p.r;

				p.ml[i] = (size_t)noise_write_message(
				    w, NULL, 0, p.m[i], 256, NULL);
				assert_true(noise_read_message(rd, p.m[i],
							       p.ml[i], buf,
							       256, NULL) >= 0);
			}
			p.ml[k] = (size_t)noise_write_message(
			    k % 2 ? &p.r : &p.i, NULL, 0, p.m[k], 256, NULL);
			if (len >= p.ml[k])
				break;
			r = noise_read_message(k % 2 ? &p.i : &p.r, p.m[k], len,
					       buf, 256, NULL);
			/* message 1 carries no tag: only e is required */
			assert_true(r < 0);
		}
	}
}

/* Message 3 of an old session replayed into a new one is refused. */
static void test_replayed(void **state)
{
	struct pair old, p;
	uint8_t buf[256];

	pair_init(&old);
	pair_run(&old);
	pair_init(&p);
	/* same static keys, fresh ephemerals */
	memcpy(p.is, old.is, 32);
	memcpy(p.rs, old.rs, 32);
	assert_int_equal(noise_handshake_init(&p.i, NOISE_XX, true,
					      (const uint8_t *)"x", 1, p.is,
					      NULL),
			 0);
	assert_int_equal(noise_handshake_init(&p.r, NOISE_XX, false,
					      (const uint8_t *)"x", 1, p.rs,
					      NULL),
			 0);
	/* the attacker replays the old message 1 and the old message 3 */
	assert_true(
	    noise_read_message(&p.r, old.m[0], old.ml[0], buf, 256, NULL) >= 0);
	p.ml[1] = (size_t)noise_write_message(&p.r, NULL, 0, p.m[1], 256, NULL);
	assert_true(
	    noise_read_message(&p.r, old.m[2], old.ml[2], buf, 256, NULL) < 0);
	assert_false(noise_handshake_done(&p.r));
}

static void test_transport(void **state)
{
	struct pair p;
	struct noise_cipher itx, irx, rtx, rrx;
	uint8_t *big = malloc(NOISE_MAX_MSG + 1),
		*out = malloc(NOISE_MAX_MSG + 1);
	uint8_t ct[64], pt[64];
	struct err e = {0};
	long r;

	pair_init(&p);
	pair_run(&p);
	assert_int_equal(noise_split(&p.i, &itx, &irx, &e), 0);
	assert_int_equal(noise_split(&p.r, &rtx, &rrx, &e), 0);

	/* the largest payload fits, one more byte is refused */
	memset(big, 'a', NOISE_MAX_MSG + 1);
	r = noise_cipher_encrypt(&itx, NULL, 0, big, NOISE_MAX_PAYLOAD, out,
				 &e);
	assert_int_equal(r, NOISE_MAX_MSG);
	assert_int_equal(
	    noise_cipher_decrypt(&rrx, NULL, 0, out, (size_t)r, out, &e),
	    NOISE_MAX_PAYLOAD);
	assert_true(noise_cipher_encrypt(&itx, NULL, 0, big,
					 NOISE_MAX_PAYLOAD + 1, out, &e) < 0);
	assert_true(noise_cipher_decrypt(&rrx, NULL, 0, big, NOISE_MAX_MSG + 1,
					 out, &e) < 0);

	/* replayed transport message: nonce moved on, refused */
	r = noise_cipher_encrypt(&itx, NULL, 0, (const uint8_t *)"abc", 3, ct,
				 &e);
	assert_int_equal(
	    noise_cipher_decrypt(&rrx, NULL, 0, ct, (size_t)r, pt, &e), 3);
	assert_int_equal(
	    noise_cipher_decrypt(&rrx, NULL, 0, ct, (size_t)r, pt, &e),
	    -EBADMSG);
	/* tampered / too short */
	r = noise_cipher_encrypt(&itx, NULL, 0, (const uint8_t *)"abc", 3, ct,
				 &e);
	ct[0] ^= 1;
	assert_int_equal(
	    noise_cipher_decrypt(&rrx, NULL, 0, ct, (size_t)r, pt, &e),
	    -EBADMSG);
	assert_int_equal(noise_cipher_decrypt(&rrx, NULL, 0, ct, 15, pt, &e),
			 -EBADMSG);

	/* rekey on both sides keeps them in step, with a new key */
	{
		struct noise_cipher a, b;
		uint8_t k0[32];

		noise_cipher_init(&a, p.is);
		noise_cipher_init(&b, p.is);
		memcpy(k0, a.k, 32);
		noise_cipher_rekey(&a);
		assert_memory_not_equal(a.k, k0, 32);
		r = noise_cipher_encrypt(&a, NULL, 0, (const uint8_t *)"x", 1,
					 ct, &e);
		assert_int_equal(
		    noise_cipher_decrypt(&b, NULL, 0, ct, (size_t)r, pt, &e),
		    -EBADMSG);
		b.n = 0;
		noise_cipher_rekey(&b);
		assert_int_equal(
		    noise_cipher_decrypt(&b, NULL, 0, ct, (size_t)r, pt, &e),
		    1);
	}

	/* nonce exhaustion: 2^64-2 is the last usable nonce */
	itx.n = NOISE_NONCE_MAX - 1;
	assert_true(noise_cipher_encrypt(&itx, NULL, 0, (const uint8_t *)"x", 1,
					 ct, &e) > 0);
	assert_int_equal(noise_cipher_encrypt(&itx, NULL, 0,
					      (const uint8_t *)"x", 1, ct, &e),
			 -EOVERFLOW);
	rrx.n = NOISE_NONCE_MAX;
	assert_int_equal(noise_cipher_decrypt(&rrx, NULL, 0, ct, 17, pt, &e),
			 -EOVERFLOW);
	free(big);
	free(out);
}

static void test_misuse(void **state)
{
	struct pair p;
	uint8_t buf[256], *big = calloc(1, NOISE_MAX_MSG + 2);
	struct noise_cipher a, b;

	pair_init(&p);
	/* responder cannot write first, initiator cannot read first */
	assert_true(noise_write_message(&p.r, NULL, 0, buf, 256, NULL) < 0);
	assert_true(noise_read_message(&p.i, buf, 32, buf, 256, NULL) < 0);
	assert_true(noise_split(&p.i, &a, &b, NULL) < 0);
	/* oversize handshake message */
	pair_init(&p);
	assert_true(noise_read_message(&p.r, big, NOISE_MAX_MSG + 1, buf, 256,
				       NULL) < 0);
	/* a low-order ephemeral (all zero) is refused */
	pair_init(&p);
	assert_true(noise_write_message(&p.i, NULL, 0, buf, 256, NULL) > 0);
	memset(big, 0, 64);
	assert_true(noise_read_message(&p.i, big, 64, buf, 256, NULL) < 0);
	/* XX without a static key */
	assert_true(noise_handshake_init(&p.i, NOISE_XX, true, NULL, 0, NULL,
					 NULL) < 0);
	free(big);
}

static void test_frame_reader(void **state)
{
	static struct noise_frame_reader r;
	uint8_t in[70000];
	size_t used, len, off;
	uint8_t *b;
	int rc;

	noise_frame_reset(&r);
	/* zero-length frame is malformed */
	in[0] = 0;
	in[1] = 0;
	assert_true(noise_frame_feed(&r, in, 2, &used, NULL) < 0);
	/* a maximal frame fed one byte at a time, then the next frame */
	noise_frame_reset(&r);
	in[0] = 0xff;
	in[1] = 0xff;
	memset(in + 2, 7, 65535);
	in[65537] = 0;
	in[65538] = 1;
	in[65539] = 9;
	for (off = 0;; off += used) {
		rc = noise_frame_feed(&r, in + off, 1, &used, NULL);
		assert_true(rc >= 0);
		if (rc == 1)
			break;
	}
	off += used;
	assert_int_equal(off, 65537);
	b = noise_frame_body(&r, &len);
	assert_int_equal(len, 65535);
	assert_int_equal(b[65534], 7);
	noise_frame_reset(&r);
	assert_int_equal(noise_frame_feed(&r, in + off, 3, &used, NULL), 1);
	assert_int_equal(used, 3);
	b = noise_frame_body(&r, &len);
	assert_int_equal(len, 1);
	assert_int_equal(b[0], 9);
}

/* The in-place frame check the client uses: hostile headers included. */
static void test_frame_peek(void **state)
{
	static uint8_t big[NOISE_FRAME_HDR + NOISE_MAX_MSG + 5];
	const uint8_t empty[2] = {0, 0}, three[6] = {0, 3, 'a', 'b', 'c', 0};
	struct err e = {0};

	(void)state;
	assert_int_equal(noise_frame_peek(three, 0, NULL), 0);
	assert_int_equal(noise_frame_peek(three, 1, NULL), 0);
	assert_int_equal(noise_frame_peek(three, 2, NULL), 0);
	assert_int_equal(noise_frame_peek(three, 4, NULL), 0);
	assert_int_equal(noise_frame_peek(three, 5, NULL), 5);
	/* bytes of the next frame behind it are not part of it */
	assert_int_equal(noise_frame_peek(three, 6, NULL), 5);
	assert_int_equal(noise_frame_peek(empty, 2, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "empty frame"));
	/* the largest frame: 65535 bytes after the header, one short */
	big[0] = big[1] = 0xff;
	assert_int_equal(noise_frame_peek(big, NOISE_FRAME_HDR + 65534, NULL),
			 0);
	assert_int_equal(noise_frame_peek(big, sizeof(big), NULL),
			 NOISE_FRAME_HDR + 65535);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_hmac_is_rfc2104),
	    cmocka_unit_test(test_peer_keys_learned),
	    cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_replayed),
	    cmocka_unit_test(test_transport),
	    cmocka_unit_test(test_misuse),
	    cmocka_unit_test(test_frame_reader),
	    cmocka_unit_test(test_frame_peek),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
