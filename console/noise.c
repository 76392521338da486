/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * noise.c - the Noise Protocol Framework, patterns NN and XX, with
 * 25519 / ChaChaPoly / BLAKE2b, built on libsodium primitives
 *
 * Primitives (Noise spec, section 12):
 *  - DH: X25519 via crypto_scalarmult(); an all-zero result (low-order
 *    point) is an error.
 *  - Cipher: ChaCha20-Poly1305 IETF; the 96-bit nonce is 4 zero bytes
 *    followed by the 64-bit counter in little-endian order.
 *  - Hash: BLAKE2b with 64-byte output. HMAC is built here per RFC 2104
 *    with a 128-byte block: libsodium's keyed BLAKE2b is a different MAC
 *    and would not interoperate.
 *
 * The handshake is driven by token tables (one string per message, tokens
 * "e", "s", "ee", "es", "se", "ss"), so the code below is the spec's
 * WriteMessage/ReadMessage loop and nothing pattern-specific. Any error
 * poisons the handshake (hs->failed): a peer that sent one bad message gets
 * no second try on the same state. Nonce 2^64-1 is reserved by the spec;
 * a cipher that reaches it refuses to encrypt or decrypt, and the session
 * has to end (walloff sessions rekey long before that, see PROTOCOL.md).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "noise.h"
#include "x25519_base.h"

static const char *const pattern_names[] = {
    [NOISE_NN] = "Noise_NN_25519_ChaChaPoly_BLAKE2b",
    [NOISE_XX] = "Noise_XX_25519_ChaChaPoly_BLAKE2b",
};

/* Message patterns, tokens separated by spaces; NULL ends the pattern. */
static const char *const pattern_msgs[][4] = {
    [NOISE_NN] = {"e", "e ee", NULL},
    [NOISE_XX] = {"e", "e ee s es", "s se", NULL},
};

/*
 * Ephemeral (and new static) key pairs: the public key through the
 * Ed25519 table (x25519_base.c), several times cheaper than
 * crypto_scalarmult_base() in libsodium 1.0.18 and the same result.
 */
void noise_keypair(uint8_t priv[static NOISE_DH_LEN],
		   uint8_t pub[static NOISE_DH_LEN])
{
	do {
		randombytes_buf(priv, NOISE_DH_LEN);
	} while (x25519_base(pub, priv) != 0);
}

int noise_pubkey(uint8_t pub[static NOISE_DH_LEN],
		 const uint8_t priv[static NOISE_DH_LEN])
{
	return crypto_scalarmult_base(pub, priv) ? -EINVAL : 0;
}

static void hash2(uint8_t out[static NOISE_HASH_LEN], const uint8_t *a,
		  size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASH_LEN);
	crypto_generichash_blake2b_update(&st, a, alen);
	if (blen)
		crypto_generichash_blake2b_update(&st, b, blen);
	crypto_generichash_blake2b_final(&st, out, NOISE_HASH_LEN);
}

void noise_hmac(uint8_t out[static NOISE_HASH_LEN], const uint8_t *key,
		size_t klen, const uint8_t *d1, size_t l1, const uint8_t *d2,
		size_t l2)
{
	uint8_t k[NOISE_BLOCK_LEN] = {0}, pad[NOISE_BLOCK_LEN];
	uint8_t inner[NOISE_HASH_LEN];
	crypto_generichash_blake2b_state st;
	size_t i;

	if (klen > NOISE_BLOCK_LEN)
		hash2(k, key, klen, NULL, 0);
	else
		memcpy(k, key, klen);

	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASH_LEN);
	crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
	crypto_generichash_blake2b_update(&st, d1, l1);
	if (d2 && l2)
		crypto_generichash_blake2b_update(&st, d2, l2);
	crypto_generichash_blake2b_final(&st, inner, sizeof(inner));

	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	hash2(out, pad, sizeof(pad), inner, sizeof(inner));

	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&st, sizeof(st));
}

void noise_hkdf(const uint8_t ck[static NOISE_HASH_LEN], const uint8_t *ikm,
		size_t ilen, uint8_t o1[static NOISE_HASH_LEN],
		uint8_t o2[static NOISE_HASH_LEN], uint8_t *o3)
{
	uint8_t tk[NOISE_HASH_LEN];
	uint8_t b;

	noise_hmac(tk, ck, NOISE_HASH_LEN, ikm, ilen, NULL, 0);
	b = 1;
	noise_hmac(o1, tk, sizeof(tk), &b, 1, NULL, 0);
	b = 2;
	noise_hmac(o2, tk, sizeof(tk), o1, NOISE_HASH_LEN, &b, 1);
	if (o3) {
		b = 3;
		noise_hmac(o3, tk, sizeof(tk), o2, NOISE_HASH_LEN, &b, 1);
	}
	sodium_memzero(tk, sizeof(tk));
}

static void make_nonce(uint8_t nonce[static 12], uint64_t n)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

void noise_cipher_init(struct noise_cipher *c,
		       const uint8_t k[static NOISE_KEY_LEN])
{
	memcpy(c->k, k, NOISE_KEY_LEN);
	c->n = 0;
	c->has_key = true;
}

void noise_cipher_wipe(struct noise_cipher *c)
{
	sodium_memzero(c, sizeof(*c));
}

long noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad,
			  size_t adlen, const uint8_t *in, size_t len,
			  uint8_t *out, struct err *e)
{
	uint8_t nonce[12];
	unsigned long long clen;

	if (len > NOISE_MAX_PAYLOAD)
		return err_set(e, EMSGSIZE, "noise: payload of %zu bytes", len);
	if (!c->has_key) {
		if (len)
			memmove(out, in, len);
		return (long)len;
	}
	if (c->n == NOISE_NONCE_MAX)
		return err_set(e, EOVERFLOW, "noise: nonces exhausted");
	make_nonce(nonce, c->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, in, len, ad,
						  adlen, NULL, nonce, c->k);
	c->n++;
	return (long)clen;
}

long noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad,
			  size_t adlen, const uint8_t *in, size_t len,
			  uint8_t *out, struct err *e)
{
	uint8_t nonce[12];
	unsigned long long plen;

	if (len > NOISE_MAX_MSG)
		return err_set(e, EMSGSIZE, "noise: message of %zu bytes", len);
	if (!c->has_key) {
		if (len)
			memmove(out, in, len);
		return (long)len;
	}
	if (len < NOISE_TAG_LEN)
		return err_set(e, EBADMSG, "noise: message shorter than a tag");
	if (c->n == NOISE_NONCE_MAX)
		return err_set(e, EOVERFLOW, "noise: nonces exhausted");
	make_nonce(nonce, c->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL, in, len,
						      ad, adlen, nonce, c->k))
		return err_set(e, EBADMSG, "noise: decryption failed");
	c->n++;
	return (long)plen;
}

void noise_cipher_rekey(struct noise_cipher *c)
{
	uint8_t zeros[NOISE_KEY_LEN] = {0};
	uint8_t out[NOISE_KEY_LEN + NOISE_TAG_LEN];
	uint8_t nonce[12];

	make_nonce(nonce, NOISE_NONCE_MAX);
	crypto_aead_chacha20poly1305_ietf_encrypt(
	    out, NULL, zeros, sizeof(zeros), NULL, 0, NULL, nonce, c->k);
	memcpy(c->k, out, NOISE_KEY_LEN);
	sodium_memzero(out, sizeof(out));
}

/* SymmetricState */

static void mix_hash(struct noise_symmetric *ss, const uint8_t *d, size_t n)
{
	hash2(ss->h, ss->h, sizeof(ss->h), d, n);
}

static void mix_key(struct noise_symmetric *ss, const uint8_t *ikm, size_t n)
{
	uint8_t tk[NOISE_HASH_LEN];

	noise_hkdf(ss->ck, ikm, n, ss->ck, tk, NULL);
	noise_cipher_init(&ss->cs, tk);
	sodium_memzero(tk, sizeof(tk));
}

static long encrypt_and_hash(struct noise_symmetric *ss, const uint8_t *in,
			     size_t len, uint8_t *out, struct err *e)
{
	long r = noise_cipher_encrypt(&ss->cs, ss->h, sizeof(ss->h), in, len,
				      out, e);

	if (r >= 0)
		mix_hash(ss, out, (size_t)r);
	return r;
}

static long decrypt_and_hash(struct noise_symmetric *ss, const uint8_t *in,
			     size_t len, uint8_t *out, struct err *e)
{
	uint8_t h[NOISE_HASH_LEN];
	long r;

	/* The hash covers the ciphertext, which @out may overwrite. */
	hash2(h, ss->h, sizeof(ss->h), in, len);
	r = noise_cipher_decrypt(&ss->cs, ss->h, sizeof(ss->h), in, len, out,
				 e);
	if (r >= 0)
		memcpy(ss->h, h, sizeof(h));
	return r;
}

static int dh(uint8_t out[static NOISE_DH_LEN], const uint8_t *priv,
	      const uint8_t *pub, struct err *e)
{
	if (crypto_scalarmult(out, priv, pub))
		return err_set(e, EBADMSG, "noise: bad public key");
	return 0;
}

int noise_handshake_init(struct noise_handshake *hs, enum noise_pattern pattern,
			 bool initiator, const uint8_t *prologue, size_t plen,
			 const uint8_t *s_priv, struct err *e)
{
	const char *name;
	size_t nlen;

	memset(hs, 0, sizeof(*hs));
	if (pattern != NOISE_NN && pattern != NOISE_XX)
		return err_set(e, EINVAL, "noise: unknown pattern");
	if (pattern == NOISE_XX && !s_priv)
		return err_set(e, EINVAL, "noise: XX needs a static key");
	if (sodium_init() < 0)
		return err_set(e, EIO, "noise: libsodium init failed");
	hs->pattern = pattern;
	hs->initiator = initiator;
	if (s_priv) {
		memcpy(hs->s_priv, s_priv, NOISE_DH_LEN);
		if (noise_pubkey(hs->s_pub, hs->s_priv))
			return err_set(e, EINVAL, "noise: bad static key");
		hs->has_s = true;
	}
	name = pattern_names[pattern];
	nlen = strlen(name);
	/* Names up to HASHLEN bytes are used zero-padded, not hashed. */
	if (nlen <= NOISE_HASH_LEN)
		memcpy(hs->ss.h, name, nlen);
	else
		hash2(hs->ss.h, (const uint8_t *)name, nlen, NULL, 0);
	memcpy(hs->ss.ck, hs->ss.h, NOISE_HASH_LEN);
	mix_hash(&hs->ss, prologue, plen);
	return 0;
}

int noise_handshake_fix_ephemeral(struct noise_handshake *hs,
				  const uint8_t e_priv[static NOISE_DH_LEN])
{
	memcpy(hs->e_priv, e_priv, NOISE_DH_LEN);
	if (noise_pubkey(hs->e_pub, hs->e_priv))
		return -EINVAL;
	hs->fixed_e = true;
	return 0;
}

bool noise_handshake_done(const struct noise_handshake *hs)
{
	return !hs->failed && !pattern_msgs[hs->pattern][hs->msg];
}

bool noise_my_turn(const struct noise_handshake *hs)
{
	return (hs->msg % 2 == 0) == hs->initiator;
}

/* Which DH a token means, from our point of view. */
static int token_dh(struct noise_handshake *hs, const char *tok, size_t tl,
		    struct err *e)
{
	uint8_t out[NOISE_DH_LEN];
	const uint8_t *priv, *pub;
	bool ok;
	int r;

	if (tl != 2)
		return err_set(e, EINVAL, "noise: bad token");
	/* "es": initiator's e with responder's s; mirror on the other side. */
	if (tok[0] == 'e' && tok[1] == 'e') {
		priv = hs->e_priv;
		pub = hs->re;
		ok = hs->has_e && hs->has_re;
	} else if (tok[0] == 'e' && tok[1] == 's') {
		priv = hs->initiator ? hs->e_priv : hs->s_priv;
		pub = hs->initiator ? hs->rs : hs->re;
		ok = hs->initiator ? hs->has_e && hs->has_rs
				   : hs->has_s && hs->has_re;
	} else if (tok[0] == 's' && tok[1] == 'e') {
		priv = hs->initiator ? hs->s_priv : hs->e_priv;
		pub = hs->initiator ? hs->re : hs->rs;
		ok = hs->initiator ? hs->has_s && hs->has_re
				   : hs->has_e && hs->has_rs;
	} else if (tok[0] == 's' && tok[1] == 's') {
		priv = hs->s_priv;
		pub = hs->rs;
		ok = hs->has_s && hs->has_rs;
	} else {
		return err_set(e, EINVAL, "noise: bad token");
	}
	if (!ok)
		return err_set(e, EINVAL, "noise: missing key for DH");
	r = dh(out, priv, pub, e);
	if (!r)
		mix_key(&hs->ss, out, sizeof(out));
	sodium_memzero(out, sizeof(out));
	return r;
}

long noise_write_message(struct noise_handshake *hs, const uint8_t *payload,
			 size_t plen, uint8_t *out, size_t cap, struct err *e)
{
	const char *p;
	size_t off = 0, tl;
	long r;

	if (hs->failed)
		return err_set(e, EPROTO, "noise: handshake failed earlier");
	p = pattern_msgs[hs->pattern][hs->msg];
	if (!p || !noise_my_turn(hs))
		return err_set(e, EPROTO, "noise: not our turn to write");
	while (*p) {
		tl = strcspn(p, " ");
		if (tl == 1 && *p == 'e') {
			if (cap - off < NOISE_DH_LEN)
				goto small;
			if (!hs->fixed_e)
				noise_keypair(hs->e_priv, hs->e_pub);
			hs->has_e = true;
			memcpy(out + off, hs->e_pub, NOISE_DH_LEN);
			mix_hash(&hs->ss, hs->e_pub, NOISE_DH_LEN);
			off += NOISE_DH_LEN;
		} else if (tl == 1 && *p == 's') {
			if (cap - off < NOISE_DH_LEN + NOISE_TAG_LEN)
				goto small;
			r = encrypt_and_hash(&hs->ss, hs->s_pub, NOISE_DH_LEN,
					     out + off, e);
			if (r < 0)
				goto fail;
			off += (size_t)r;
		} else {
			r = token_dh(hs, p, tl, e);
			if (r < 0)
				goto fail;
		}
		p += tl;
		while (*p == ' ')
			p++;
	}
	if (cap - off < plen + NOISE_TAG_LEN ||
	    off + plen + NOISE_TAG_LEN > NOISE_MAX_MSG)
		goto small;
	r = encrypt_and_hash(&hs->ss, payload, plen, out + off, e);
	if (r < 0)
		goto fail;
	off += (size_t)r;
	hs->msg++;
	return (long)off;
small:
	r = err_set(e, EMSGSIZE, "noise: handshake message too large");
fail:
	hs->failed = true;
	return r;
}

long noise_read_message(struct noise_handshake *hs, const uint8_t *msg,
			size_t mlen, uint8_t *payload, size_t cap,
			struct err *e)
{
	const char *p;
	size_t off = 0, tl, need;
	long r;

	if (hs->failed)
		return err_set(e, EPROTO, "noise: handshake failed earlier");
	p = pattern_msgs[hs->pattern][hs->msg];
	if (!p || noise_my_turn(hs))
		return err_set(e, EPROTO, "noise: not the peer's turn");
	if (mlen > NOISE_MAX_MSG) {
		r = err_set(e, EMSGSIZE, "noise: message too large");
		goto fail;
	}
	while (*p) {
		tl = strcspn(p, " ");
		if (tl == 1 && *p == 'e') {
			if (mlen - off < NOISE_DH_LEN)
				goto trunc;
			memcpy(hs->re, msg + off, NOISE_DH_LEN);
			hs->has_re = true;
			mix_hash(&hs->ss, hs->re, NOISE_DH_LEN);
			off += NOISE_DH_LEN;
		} else if (tl == 1 && *p == 's') {
			need = NOISE_DH_LEN +
			       (hs->ss.cs.has_key ? NOISE_TAG_LEN : 0);
			if (mlen - off < need)
				goto trunc;
			r = decrypt_and_hash(&hs->ss, msg + off, need, hs->rs,
					     e);
			if (r < 0)
				goto fail;
			hs->has_rs = true;
			off += need;
		} else {
			r = token_dh(hs, p, tl, e);
			if (r < 0)
				goto fail;
		}
		p += tl;
		while (*p == ' ')
			p++;
	}
	need = mlen - off;
	if (hs->ss.cs.has_key && need < NOISE_TAG_LEN)
		goto trunc;
	if (need - (hs->ss.cs.has_key ? NOISE_TAG_LEN : 0) > cap) {
		r = err_set(e, EMSGSIZE, "noise: payload buffer too small");
		goto fail;
	}
	{
		/* Decrypt into a bounce buffer so @payload may be small. */
		uint8_t tmp[NOISE_MAX_MSG];

		r = decrypt_and_hash(&hs->ss, msg + off, need, tmp, e);
		if (r < 0)
			goto fail;
		memcpy(payload, tmp, (size_t)r);
		sodium_memzero(tmp, (size_t)r);
	}
	hs->msg++;
	return r;
trunc:
	r = err_set(e, EBADMSG, "noise: truncated handshake message");
fail:
	hs->failed = true;
	return r;
}

int noise_split(struct noise_handshake *hs, struct noise_cipher *tx,
		struct noise_cipher *rx, struct err *e)
{
	uint8_t k1[NOISE_HASH_LEN], k2[NOISE_HASH_LEN];

	if (!noise_handshake_done(hs))
		return err_set(e, EPROTO, "noise: handshake not finished");
	noise_hkdf(hs->ss.ck, NULL, 0, k1, k2, NULL);
	/* c1 carries initiator-to-responder traffic, c2 the reverse. */
	noise_cipher_init(hs->initiator ? tx : rx, k1);
	noise_cipher_init(hs->initiator ? rx : tx, k2);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	return 0;
}

void noise_handshake_wipe(struct noise_handshake *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}

int noise_frame_feed(struct noise_frame_reader *r, const uint8_t *in, size_t n,
		     size_t *used, struct err *e)
{
	size_t want, take, body;

	*used = 0;
	if (r->len < NOISE_FRAME_HDR) {
		take = NOISE_FRAME_HDR - r->len;
		if (take > n)
			take = n;
		memcpy(r->buf + r->len, in, take);
		r->len += take;
		*used += take;
		in += take;
		n -= take;
		if (r->len < NOISE_FRAME_HDR)
			return 0;
	}
	body = (size_t)r->buf[0] << 8 | r->buf[1];
	if (body == 0)
		return err_set(e, EBADMSG, "noise: empty frame");
	want = NOISE_FRAME_HDR + body - r->len;
	take = want < n ? want : n;
	memcpy(r->buf + r->len, in, take);
	r->len += take;
	*used += take;
	return r->len == NOISE_FRAME_HDR + body;
}

long noise_frame_peek(const uint8_t *p, size_t avail, struct err *e)
{
	size_t body;

	if (avail < NOISE_FRAME_HDR)
		return 0;
	body = (size_t)p[0] << 8 | p[1];
	if (body == 0)
		return err_set(e, EBADMSG, "noise: empty frame");
	return avail >= NOISE_FRAME_HDR + body ? (long)(NOISE_FRAME_HDR + body)
					       : 0;
}

uint8_t *noise_frame_body(struct noise_frame_reader *r, size_t *len)
{
	*len = r->len - NOISE_FRAME_HDR;
	return r->buf + NOISE_FRAME_HDR;
}

void noise_frame_reset(struct noise_frame_reader *r)
{
	r->len = 0;
}
