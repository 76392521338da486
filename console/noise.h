/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * noise.h - Noise_XX_25519_ChaChaPoly_BLAKE2b (and NN) on libsodium
 *
 * The objects follow the Noise specification (revision 34) one to one:
 * struct noise_cipher is a CipherState, struct noise_symmetric a
 * SymmetricState, struct noise_handshake a HandshakeState. After the
 * handshake, noise_split() yields the two transport CipherStates.
 *
 * Transport messages travel as frames: a 2-byte big-endian length followed
 * by that many bytes of ciphertext (payload + 16-byte tag), at most
 * NOISE_MAX_MSG bytes, as the spec mandates. struct noise_frame_reader
 * reassembles frames from a byte stream with a fixed buffer.
 */
#ifndef WALLOFF_NOISE_H
#define WALLOFF_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define NOISE_DH_LEN 32	    /* X25519 public key / shared secret */
#define NOISE_KEY_LEN 32    /* ChaCha20-Poly1305 key */
#define NOISE_HASH_LEN 64   /* BLAKE2b-512 */
#define NOISE_BLOCK_LEN 128 /* BLAKE2b block, for HMAC */
#define NOISE_TAG_LEN 16    /* Poly1305 tag */
/* Noise spec section 3: a message is never longer than 65535 bytes. */
#define NOISE_MAX_MSG 65535
/* Largest payload of one transport message. */
#define NOISE_MAX_PAYLOAD (NOISE_MAX_MSG - NOISE_TAG_LEN)
/* Length prefix of a frame on the wire. */
#define NOISE_FRAME_HDR 2
/* Nonce 2^64-1 is reserved (used by Rekey); a cipher at it refuses work. */
#define NOISE_NONCE_MAX UINT64_MAX

/**
 * struct noise_cipher - CipherState: key, nonce counter
 * @k:		key
 * @n:		next nonce
 * @has_key:	false until InitializeKey (then encryption is the identity)
 */
struct noise_cipher {
	uint8_t k[NOISE_KEY_LEN];
	uint64_t n;
	bool has_key;
};

/**
 * struct noise_symmetric - SymmetricState
 * @cs:		cipher
 * @ck:		chaining key
 * @h:		handshake hash
 */
struct noise_symmetric {
	struct noise_cipher cs;
	uint8_t ck[NOISE_HASH_LEN];
	uint8_t h[NOISE_HASH_LEN];
};

enum noise_pattern {
	NOISE_NN,
	NOISE_XX,
};

/**
 * struct noise_handshake - HandshakeState
 * All key material is wiped by noise_handshake_wipe().
 */
struct noise_handshake {
	enum noise_pattern pattern;
	bool initiator;
	bool failed; /* any error poisons the handshake */
	bool has_s, has_e, has_rs, has_re, fixed_e;
	unsigned int msg; /* index of the next handshake message */
	struct noise_symmetric ss;
	uint8_t s_priv[NOISE_DH_LEN], s_pub[NOISE_DH_LEN];
	uint8_t e_priv[NOISE_DH_LEN], e_pub[NOISE_DH_LEN];
	uint8_t rs[NOISE_DH_LEN], re[NOISE_DH_LEN];
};

/**
 * noise_keypair() - generate an X25519 key pair
 * @priv:	private key out
 * @pub:	public key out
 */
void noise_keypair(uint8_t priv[static NOISE_DH_LEN],
		   uint8_t pub[static NOISE_DH_LEN]);

/**
 * noise_pubkey() - derive the public key of a private key
 * @pub:	public key out
 * @priv:	private key
 *
 * Return: 0, or -EINVAL
 */
int noise_pubkey(uint8_t pub[static NOISE_DH_LEN],
		 const uint8_t priv[static NOISE_DH_LEN]);

/**
 * noise_hmac() - HMAC-BLAKE2b-512 per RFC 2104 (block size 128)
 * @out:	64-byte MAC
 * @key:	key (at most NOISE_BLOCK_LEN bytes is the normal case)
 * @klen:	key length
 * @d1:		first part of the message
 * @l1:		its length
 * @d2:		second part (may be NULL)
 * @l2:		its length
 */
void noise_hmac(uint8_t out[static NOISE_HASH_LEN], const uint8_t *key,
		size_t klen, const uint8_t *d1, size_t l1, const uint8_t *d2,
		size_t l2);

/**
 * noise_hkdf() - HKDF as defined by the Noise spec, section 4.3
 * @ck:		chaining key
 * @ikm:	input key material
 * @ilen:	its length
 * @o1:		first output, 64 bytes
 * @o2:		second output, 64 bytes
 * @o3:		third output or NULL
 */
void noise_hkdf(const uint8_t ck[static NOISE_HASH_LEN], const uint8_t *ikm,
		size_t ilen, uint8_t o1[static NOISE_HASH_LEN],
		uint8_t o2[static NOISE_HASH_LEN], uint8_t *o3);

/**
 * noise_cipher_init() - InitializeKey
 * @c:		cipher
 * @k:		32-byte key
 */
void noise_cipher_init(struct noise_cipher *c,
		       const uint8_t k[static NOISE_KEY_LEN]);

/**
 * noise_cipher_encrypt() - EncryptWithAd
 * @c:		cipher (nonce incremented on success)
 * @ad:		associated data
 * @adlen:	its length
 * @in:		plaintext
 * @len:	its length, at most NOISE_MAX_PAYLOAD
 * @out:	ciphertext, @len + NOISE_TAG_LEN bytes (@len without a key);
 *		may equal @in
 * @e:		error
 *
 * Return: number of bytes written, or -errno (-EOVERFLOW: nonces exhausted)
 */
long noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad,
			  size_t adlen, const uint8_t *in, size_t len,
			  uint8_t *out, struct err *e);

/**
 * noise_cipher_decrypt() - DecryptWithAd
 * @c:		cipher (nonce incremented only on success)
 * @ad:		associated data
 * @adlen:	its length
 * @in:		ciphertext
 * @len:	its length
 * @out:	plaintext, @len - NOISE_TAG_LEN bytes; may equal @in
 * @e:		error
 *
 * Return: number of bytes written, or -errno (-EBADMSG: authentication
 * failed; the caller must end the session)
 */
long noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad,
			  size_t adlen, const uint8_t *in, size_t len,
			  uint8_t *out, struct err *e);

/**
 * noise_cipher_rekey() - Rekey: k = first 32 bytes of ENCRYPT(k, 2^64-1, "",
 * zeros)
 * @c:		cipher with a key
 */
void noise_cipher_rekey(struct noise_cipher *c);

/**
 * noise_cipher_wipe() - forget the key
 * @c:		cipher
 */
void noise_cipher_wipe(struct noise_cipher *c);

/**
 * noise_handshake_init() - Initialize a HandshakeState
 * @hs:		state to fill
 * @pattern:	NOISE_NN or NOISE_XX
 * @initiator:	true for the initiator
 * @prologue:	prologue bytes (both sides must agree)
 * @plen:	prologue length
 * @s_priv:	static private key (XX: required; NN: NULL)
 * @e:		error
 *
 * Return: 0 or -errno
 */
int noise_handshake_init(struct noise_handshake *hs, enum noise_pattern pattern,
			 bool initiator, const uint8_t *prologue, size_t plen,
			 const uint8_t *s_priv, struct err *e);

/**
 * noise_handshake_fix_ephemeral() - TEST ONLY: use this ephemeral key
 * @hs:		state, before its first write
 * @e_priv:	ephemeral private key
 *
 * Used by the test vectors; product code never calls it.
 *
 * Return: 0 or -EINVAL
 */
int noise_handshake_fix_ephemeral(struct noise_handshake *hs,
				  const uint8_t e_priv[static NOISE_DH_LEN]);

/**
 * noise_write_message() - WriteMessage
 * @hs:		state; must be our turn
 * @payload:	payload
 * @plen:	its length
 * @out:	message buffer
 * @cap:	its size
 * @e:		error
 *
 * Return: message length, or -errno
 */
long noise_write_message(struct noise_handshake *hs, const uint8_t *payload,
			 size_t plen, uint8_t *out, size_t cap, struct err *e);

/**
 * noise_read_message() - ReadMessage
 * @hs:		state; must be the peer's turn
 * @msg:	message
 * @mlen:	its length (at most NOISE_MAX_MSG)
 * @payload:	payload out
 * @cap:	its size
 * @e:		error
 *
 * Any failure poisons @hs: the handshake cannot continue.
 *
 * Return: payload length, or -errno
 */
long noise_read_message(struct noise_handshake *hs, const uint8_t *msg,
			size_t mlen, uint8_t *payload, size_t cap,
			struct err *e);

/**
 * noise_handshake_done() - all handshake messages exchanged?
 * @hs:		state
 *
 * Return: true when noise_split() may be called
 */
bool noise_handshake_done(const struct noise_handshake *hs);

/**
 * noise_my_turn() - is the next handshake message ours to write?
 * @hs:		state
 *
 * Return: true if we write next
 */
bool noise_my_turn(const struct noise_handshake *hs);

/**
 * noise_split() - Split into transport ciphers
 * @hs:		finished handshake
 * @tx:		cipher for what we send
 * @rx:		cipher for what we receive
 * @e:		error
 *
 * Return: 0 or -errno
 */
int noise_split(struct noise_handshake *hs, struct noise_cipher *tx,
		struct noise_cipher *rx, struct err *e);

/**
 * noise_handshake_wipe() - wipe all secrets in @hs
 * @hs:		state
 */
void noise_handshake_wipe(struct noise_handshake *hs);

/**
 * struct noise_frame_reader - reassembles length-prefixed frames
 * @len:	bytes held in @buf
 * @buf:	header + body of the frame being read
 */
struct noise_frame_reader {
	size_t len;
	uint8_t buf[NOISE_FRAME_HDR + NOISE_MAX_MSG];
};

/**
 * noise_frame_feed() - consume bytes until one frame is complete
 * @r:		reader
 * @in:		bytes
 * @n:		number of bytes
 * @used:	out: bytes of @in consumed
 * @e:		error
 *
 * A zero-length frame is malformed (every Noise message used here carries
 * at least a tag or an ephemeral key).
 *
 * Return: 1 when a frame is complete (see noise_frame_body()), 0 when more
 * bytes are needed, -EBADMSG for a malformed frame
 */
int noise_frame_feed(struct noise_frame_reader *r, const uint8_t *in, size_t n,
		     size_t *used, struct err *e);

/**
 * noise_frame_peek() - is a whole frame at the start of a buffer?
 * @p:		bytes (a frame header first)
 * @avail:	number of bytes at @p
 * @e:		error
 *
 * For readers that keep frames where recv(2) put them (console/client.c)
 * instead of copying them into a noise_frame_reader. The same rules as
 * noise_frame_feed(): a zero-length frame is malformed.
 *
 * Return: the frame's length with its header when all of it is there, 0
 * when more bytes are needed, -EBADMSG for a malformed frame
 */
long noise_frame_peek(const uint8_t *p, size_t avail, struct err *e);

/**
 * noise_frame_body() - the completed frame
 * @r:		reader after noise_frame_feed() returned 1
 * @len:	out: body length
 *
 * Return: pointer to the body inside @r
 */
uint8_t *noise_frame_body(struct noise_frame_reader *r, size_t *len);

/**
 * noise_frame_reset() - start reading the next frame
 * @r:		reader
 */
void noise_frame_reset(struct noise_frame_reader *r);

#endif /* WALLOFF_NOISE_H */
