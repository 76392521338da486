/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rfb.h - strict parser/filter for the client-to-server half of RFB 3.x
 * (RFC 6143), as spoken by a VNC viewer inside the console tunnel, and
 * the client side of the RFB handshake the proxy does with QEMU.
 */
#ifndef WALLOFF_RFB_H
#define WALLOFF_RFB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Clipboard text we forward: a page of text, not a file transfer. */
#define RFB_CUT_MAX (256 * 1024)
/* SetEncodings entries: viewers send 10-40; 512 leaves room and bounds work. */
#define RFB_ENCODINGS_MAX 512
/*
 * Largest client message we hold whole: SetEncodings with its list.
 * ClientCutText text is streamed (forwarded or dropped as it arrives).
 */
#define RFB_MSG_MAX (4 + 4 * RFB_ENCODINGS_MAX)
/* The handshake replies we send to the client are at most this long. */
#define RFB_REPLY_MAX 16
/* Server handshake bytes (version + type list + result) are small. */
#define RFB_UP_MAX 300

enum rfb_phase {
	RFB_VERSION,  /* expecting "RFB 003.00x\n" */
	RFB_SECURITY, /* expecting the chosen security type (3.7+) */
	RFB_INIT,     /* expecting ClientInit */
	RFB_NORMAL,   /* normal client messages */
	RFB_DEAD,     /* malformed input seen: the session must end */
};

/**
 * struct rfb_filter - state of one client stream
 * @allow_input:	forward KeyEvent and PointerEvent (operate, admin)
 * @allow_cut:		forward ClientCutText (operate with clipboard=to-guest)
 * @dropped_key:	KeyEvents dropped
 * @dropped_pointer:	PointerEvents dropped
 * @dropped_cut:	ClientCutText messages dropped
 * @messages:		messages parsed in the normal phase
 */
struct rfb_filter {
	bool allow_input, allow_cut;
	enum rfb_phase phase;
	unsigned minor; /* client's protocol minor version: 3, 7, 8 */
	size_t have;
	uint32_t cut_left; /* ClientCutText bytes still to come */
	bool cut_fwd;	   /* ... and whether they are forwarded */
	uint64_t dropped_key, dropped_pointer, dropped_cut, messages;
	uint8_t msg[RFB_MSG_MAX];
};

/**
 * rfb_filter_init() - start a filter; the caller then sends the server
 * greeting rfb_server_version to the client
 * @f:			filter
 * @allow_input:	forward keyboard and mouse
 * @allow_cut:		forward clipboard
 */
void rfb_filter_init(struct rfb_filter *f, bool allow_input, bool allow_cut);

/* What the proxy says first to the client inside the tunnel. */
extern const char rfb_server_version[13];

/**
 * rfb_filter_feed() - parse client bytes
 * @f:		filter
 * @in:		bytes from the client
 * @n:		count
 * @up:		out: bytes to forward to the server (QEMU)
 * @upcap:	size of @up; at least @n + RFB_MSG_MAX is always enough
 * @uplen:	out: bytes written to @up
 * @reply:	out: handshake bytes to send back to the client
 * @replylen:	out: bytes written to @reply (at most RFB_REPLY_MAX)
 * @e:		error
 *
 * Messages are forwarded only once complete and valid; SetEncodings is
 * rewritten to the encodings whose client messages this parser knows, and
 * ClientInit always asks for a shared session.
 *
 * Return: 0, or -EPROTO for malformed/unknown input (the filter is then
 * dead and the session must end), -ENOBUFS if @upcap was too small
 */
int rfb_filter_feed(struct rfb_filter *f, const uint8_t *in, size_t n,
		    uint8_t *up, size_t upcap, size_t *uplen, uint8_t *reply,
		    size_t *replylen, struct err *e);

/**
 * struct rfb_upstream - our RFB handshake with QEMU (client role)
 */
struct rfb_upstream {
	int state;
	unsigned ntypes;
	size_t have;
	uint8_t buf[RFB_UP_MAX];
};

/**
 * rfb_upstream_feed() - consume server handshake bytes
 * @u:		state (zeroed to start)
 * @in:		bytes from QEMU
 * @n:		count
 * @used:	out: bytes consumed (the rest is server-to-client RFB)
 * @out:	out: bytes to send to QEMU
 * @outlen:	out: bytes written to @out (at most 16)
 * @e:		error
 *
 * Only security type None is accepted: QEMU's socket lives in the cell's
 * private run folder, so its access control is the file system.
 *
 * Return: 1 when the handshake is done (QEMU now waits for ClientInit),
 * 0 when more bytes are needed, -EPROTO on anything unexpected
 */
int rfb_upstream_feed(struct rfb_upstream *u, const uint8_t *in, size_t n,
		      size_t *used, uint8_t *out, size_t *outlen,
		      struct err *e);

#endif /* WALLOFF_RFB_H */
