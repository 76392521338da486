/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session.c - seal and open transport frames of a console session
 *
 * Both directions encrypt in place: the data is written by the caller (or
 * read from a socket) straight into the frame buffer behind the headers,
 * ChaCha20-Poly1305 runs over it where it lies, and the same buffer goes
 * to write(2). That is the one copy the data path cannot avoid (kernel to
 * user and back); there is no per-byte work besides the AEAD.
 *
 * Rekeying is implicit: after each message, when a cipher's nonce reaches
 * a multiple of SESSION_REKEY_INTERVAL, that cipher is rekeyed (Noise spec
 * section 11.3). TCP keeps both ends in the same order, so they stay in
 * step without any signalling; an attacker cannot skip messages without
 * failing authentication first.
 */
#include <errno.h>

#include "session.h"

static void maybe_rekey(struct noise_cipher *c)
{
	if (c->n % SESSION_REKEY_INTERVAL == 0)
		noise_cipher_rekey(c);
}

long session_seal(struct noise_cipher *tx, uint8_t *buf, uint8_t type,
		  uint8_t ch, size_t len, struct err *e)
{
	uint8_t *pt = buf + NOISE_FRAME_HDR;
	long r;

	if (len > SESSION_DATA_MAX)
		return err_set(e, EMSGSIZE, "session: message too large");
	pt[0] = type;
	pt[1] = ch;
	r = noise_cipher_encrypt(tx, NULL, 0, pt, len + 2, pt, e);
	if (r < 0)
		return r;
	maybe_rekey(tx);
	buf[0] = (uint8_t)(r >> 8);
	buf[1] = (uint8_t)r;
	return r + NOISE_FRAME_HDR;
}

long session_open(struct noise_cipher *rx, uint8_t *body, size_t blen,
		  uint8_t *type, uint8_t *ch, uint8_t **data, struct err *e)
{
	long r = noise_cipher_decrypt(rx, NULL, 0, body, blen, body, e);

	if (r < 0)
		return r;
	maybe_rekey(rx);
	if (r < 2)
		return err_set(e, EBADMSG, "session: message without header");
	*type = body[0];
	*ch = body[1];
	*data = body + 2;
	return r - 2;
}
