/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client.h - the client side of the walloff console, for the launcher
 * (`walloff keygen`, `walloff connect`): key files, fingerprints, and a
 * connected, authenticated session to walloff-console.
 *
 * This is the only console/ header launcher/ includes.
 */
#ifndef WALLOFF_CONSOLE_CLIENT_H
#define WALLOFF_CONSOLE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CONSOLE_KEY_LEN 32
/* base64 (with padding) of a 32-byte key, with its NUL */
#define CONSOLE_B64_LEN 45
/* "SHA256:" + unpadded base64 of 32 bytes + NUL */
#define CONSOLE_FPR_LEN 52

/**
 * console_key_generate() - create a new private key file
 * @path:	file to create, 0600; never overwritten (-EEXIST)
 * @pub:	out: the public key
 * @e:		error
 *
 * Return: 0 or -errno
 */
int console_key_generate(const char *path, uint8_t pub[static CONSOLE_KEY_LEN],
			 struct err *e);

/**
 * console_key_load() - read a private key file
 * @path:	file; refused if group or others may read it
 * @priv:	out: private key (caller wipes it with sodium_memzero)
 * @pub:	out: public key
 * @e:		error
 *
 * Return: 0 or -errno
 */
int console_key_load(const char *path, uint8_t priv[static CONSOLE_KEY_LEN],
		     uint8_t pub[static CONSOLE_KEY_LEN], struct err *e);

/**
 * console_key_load_or_create() - the server's identity: load, or create
 * it on first run
 * @path:	key file
 * @priv:	out: private key
 * @pub:	out: public key
 * @created:	out: true if the file was created now
 * @e:		error
 *
 * Return: 0 or -errno
 */
int console_key_load_or_create(const char *path,
			       uint8_t priv[static CONSOLE_KEY_LEN],
			       uint8_t pub[static CONSOLE_KEY_LEN],
			       bool *created, struct err *e);

/**
 * console_key_b64() - base64 of a public key, as written in keys files
 * @out:	CONSOLE_B64_LEN bytes
 * @pub:	key
 */
void console_key_b64(char out[static CONSOLE_B64_LEN],
		     const uint8_t pub[static CONSOLE_KEY_LEN]);

/**
 * console_key_from_b64() - strict decoding of a base64 public key
 * @pub:	out
 * @s:		NUL-terminated base64 of exactly 32 bytes
 *
 * Return: 0 or -EINVAL
 */
int console_key_from_b64(uint8_t pub[static CONSOLE_KEY_LEN], const char *s);

/**
 * console_fingerprint() - "SHA256:<unpadded base64>" of a public key
 * @out:	CONSOLE_FPR_LEN bytes
 * @pub:	key
 */
void console_fingerprint(char out[static CONSOLE_FPR_LEN],
			 const uint8_t pub[static CONSOLE_KEY_LEN]);

/**
 * console_key_name_ok() - is this a valid key name (keys files, keygen)?
 * @s:		name: 1-64 of A-Z a-z 0-9 . _ @ -, not starting with . or -
 *
 * Return: true if valid
 */
bool console_key_name_ok(const char *s);

struct console_client;

/*
 * NOTICE messages (PROTOCOL.md): text for the person connecting, e.g. that
 * the cell is quarantined. A notice is a few sentences: 1024 bytes hold the
 * quarantine notice with its longest reason (launcher/dormancy.h) and stay
 * far below a frame. A server sends at most 4, right after HELLO.
 */
#define CONSOLE_NOTICE_MAX 1024
#define CONSOLE_NOTICES_MAX 4

/**
 * struct console_info - what the server told us in the control channel
 */
struct console_info {
	char cell[64];
	char role[16];
	uint8_t server_pub[CONSOLE_KEY_LEN];
	unsigned n_notices;	/* NOTICE messages received after HELLO */
	char notices[CONSOLE_NOTICES_MAX][CONSOLE_NOTICE_MAX + 1];
};

/**
 * console_notice_valid() - may this text be sent (and shown) as a NOTICE?
 * @text:	NUL-terminated
 *
 * 1..CONSOLE_NOTICE_MAX bytes of well-formed UTF-8 on one line, without
 * control characters or bidirectional overrides (console/control.c).
 *
 * Return: true if valid
 */
bool console_notice_valid(const char *text);

/**
 * console_client_connect() - TCP connect, Noise_XX handshake, hello
 * @host:	address (numeric IPv4/IPv6 or name)
 * @port:	TCP port
 * @priv:	our private key
 * @pin:	the server key we expect, or NULL to accept any (then the
 *		caller must check info->server_pub itself: trust on first use)
 * @info:	out: cell name, role, server key, and the NOTICE texts the
 *		server announced in HELLO (validated, NUL-terminated)
 * @timeout_ms:	for connect + handshake
 * @e:		error; a pinned key mismatch is -EKEYREJECTED, a malformed
 *		HELLO or NOTICE -EPROTO
 *
 * Return: client handle, or NULL
 */
struct console_client *console_client_connect(const char *host, unsigned port,
					      const uint8_t priv[static 32],
					      const uint8_t *pin,
					      struct console_info *info,
					      int timeout_ms, struct err *e);

/* Channels inside the session (see console/PROTOCOL.md). */
#define CONSOLE_CH_CONTROL 0
#define CONSOLE_CH_SCREEN 1
#define CONSOLE_CH_SERIAL 2

/**
 * console_client_open() - ask the server to open a channel
 * @c:		client
 * @ch:		CONSOLE_CH_SCREEN or CONSOLE_CH_SERIAL
 * @e:		error
 *
 * Return: 0 or -errno
 */
int console_client_open(struct console_client *c, unsigned ch, struct err *e);

/**
 * console_client_close_channel() - close one channel (the session stays)
 * @c:		client
 * @ch:		channel
 * @e:		error
 *
 * Return: 0 or -errno
 */
int console_client_close_channel(struct console_client *c, unsigned ch,
				 struct err *e);

/**
 * console_client_screenshot() - save the cell's screen as a PNG file
 * @c:		client (screen channel not open yet)
 * @path:	PNG file to write
 * @timeout_ms:	for the whole exchange
 * @width:	out: image width
 * @height:	out: image height
 * @e:		error
 *
 * Speaks RFB itself through the screen channel: one full, raw,
 * 32-bit frame, converted to RGB.
 *
 * Return: 0 or -errno
 */
int console_client_screenshot(struct console_client *c, const char *path,
			      int timeout_ms, unsigned *width, unsigned *height,
			      struct err *e);

/**
 * console_client_send() - send bytes on a channel
 * @c:		client
 * @ch:		channel
 * @buf:	bytes
 * @len:	any length (split into frames)
 * @e:		error
 *
 * Return: 0 or -errno
 */
int console_client_send(struct console_client *c, unsigned ch,
			const uint8_t *buf, size_t len, struct err *e);

/**
 * console_client_recv() - receive the next data message
 * @c:		client
 * @ch:		out: channel it belongs to
 * @buf:	out: bytes, at least CONSOLE_CLIENT_BUF
 * @timeout_ms:	-1 to wait forever
 * @e:		error; -ECONNRESET when the server closed the session
 *
 * Return: number of bytes (0: timeout), or -errno
 */
long console_client_recv(struct console_client *c, unsigned *ch, uint8_t *buf,
			 int timeout_ms, struct err *e);

/**
 * console_client_recv_ref() - console_client_recv() without the copy
 * @c:		client
 * @ch:		out: channel it belongs to
 * @data:	out: the bytes, inside the client; valid until the next call
 *		that receives on @c
 * @timeout_ms:	-1 to wait forever
 * @e:		error; -ECONNRESET when the server closed the session
 *
 * Return: number of bytes (0: timeout), or -errno
 */
long console_client_recv_ref(struct console_client *c, unsigned *ch,
			     const uint8_t **data, int timeout_ms,
			     struct err *e);

/* Largest data message console_client_recv() returns. */
#define CONSOLE_CLIENT_BUF 65536

/**
 * console_client_fd() - the socket, to poll for readability
 * @c:		client
 *
 * Return: descriptor
 */
int console_client_fd(const struct console_client *c);

/**
 * console_client_pending() - decrypted data already buffered?
 * @c:		client
 *
 * Return: true if console_client_recv() will not block
 */
bool console_client_pending(const struct console_client *c);

/**
 * console_client_close() - send a clean close and free the client
 * @c:		client, may be NULL
 */
void console_client_close(struct console_client *c);

#endif /* WALLOFF_CONSOLE_CLIENT_H */
