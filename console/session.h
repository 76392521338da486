/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session.h - messages inside an established Noise session (PROTOCOL.md)
 *
 * Every transport frame is: u16 big-endian length, then a Noise transport
 * message whose plaintext is [type u8][channel u8][data...]. Buffers are
 * laid out so that sealing and opening work in place: the caller writes
 * data at SESSION_DATA_OFF and gets a complete frame back.
 */
#ifndef WALLOFF_SESSION_H
#define WALLOFF_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "noise.h"

#define SESSION_PROLOGUE "walloff-console/1"
#define SESSION_VERSION 1

enum session_type {
	SESSION_HELLO = 1, /* server -> client, channel 0: text lines */
	SESSION_OPEN = 2,  /* client -> server: open a channel */
	SESSION_DATA = 3,  /* bytes of a channel */
	SESSION_CLOSE = 4, /* close a channel; channel 0: the session */
	SESSION_NOTICE = 5, /* server -> client, channel 0, right after HELLO:
			     * text for the user (control.c) */
};

enum session_channel {
	SESSION_CH_CONTROL = 0,
	SESSION_CH_SCREEN = 1,
	SESSION_CH_SERIAL = 2,
};

/* frame header + message header */
#define SESSION_DATA_OFF (NOISE_FRAME_HDR + 2)
/* Most data bytes in one frame. */
#define SESSION_DATA_MAX (NOISE_MAX_PAYLOAD - 2)
/* Size of a buffer that holds one complete frame. */
#define SESSION_FRAME_MAX (NOISE_FRAME_HDR + NOISE_MAX_MSG)
/*
 * Both sides rekey a cipher every 2^20 messages (PROTOCOL.md), implicitly
 * and in step: about 64 GiB of full frames under one key at most.
 */
#define SESSION_REKEY_INTERVAL (1ull << 20)
/* CLOSE reasons are short, printable text. */
#define SESSION_REASON_MAX 200

/**
 * session_seal() - turn data at @buf + SESSION_DATA_OFF into a frame
 * @tx:		sending cipher
 * @buf:	buffer of at least SESSION_DATA_OFF + @len + NOISE_TAG_LEN
 * @type:	message type
 * @ch:		channel
 * @len:	data length, at most SESSION_DATA_MAX
 * @e:		error
 *
 * Return: frame length (header included), or -errno; failure is final
 */
long session_seal(struct noise_cipher *tx, uint8_t *buf, uint8_t type,
		  uint8_t ch, size_t len, struct err *e);

/**
 * session_open() - decrypt a frame body in place
 * @rx:		receiving cipher
 * @body:	ciphertext (from noise_frame_body())
 * @blen:	its length
 * @type:	out: message type
 * @ch:		out: channel
 * @data:	out: the data, inside @body
 * @e:		error; any failure means the session must end
 *
 * Return: data length, or -errno
 */
long session_open(struct noise_cipher *rx, uint8_t *body, size_t blen,
		  uint8_t *type, uint8_t *ch, uint8_t **data, struct err *e);

#endif /* WALLOFF_SESSION_H */
