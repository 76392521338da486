/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rfb.c - the RFB filter between a VNC viewer and QEMU's VNC server
 *
 * Only the client-to-server direction is parsed: it is where input (keys,
 * mouse, clipboard) comes from, and it is small. The server-to-client
 * direction (the screen) is relayed untouched, since the viewer is the
 * party that must survive it, not us.
 *
 * Toward the viewer we play an RFB server for the handshake: we send
 * "RFB 003.008\n", accept a 3.3, 3.7 or 3.8 reply, offer only security
 * type None (the tunnel already authenticated the user) and answer
 * SecurityResult OK. ClientInit is forwarded with the shared flag forced
 * on, so one viewer cannot disconnect the others. From then on every
 * message is collected whole (bounded by RFB_MSG_MAX) and checked against
 * RFC 6143: known type, exact length, sane fields. KeyEvent/PointerEvent
 * are dropped and counted unless input is allowed; ClientCutText text is
 * streamed (at most RFB_CUT_MAX bytes) and dropped unless the clipboard is
 * allowed. SetEncodings is rewritten to an allowlist of encodings that do
 * not make the viewer send messages outside RFC 6143 (QEMU's extended key
 * event, audio, fences, continuous updates, desktop resizing): that keeps
 * the parser strict without breaking modern viewers. Anything unknown or
 * malformed kills the filter and the caller ends the session.
 *
 * rfb_upstream_feed() is the other half: our client handshake with QEMU.
 */
#include <errno.h>
#include <string.h>

#include "rfb.h"

const char rfb_server_version[13] = "RFB 003.008\n";

#define RFB_SEC_NONE 1

enum {
	MSG_SET_PIXEL_FORMAT = 0,
	MSG_SET_ENCODINGS = 2,
	MSG_FB_UPDATE_REQUEST = 3,
	MSG_KEY_EVENT = 4,
	MSG_POINTER_EVENT = 5,
	MSG_CLIENT_CUT_TEXT = 6,
};

/* Encodings whose use needs no client message beyond RFC 6143. */
static bool encoding_allowed(int32_t enc)
{
	switch (enc) {
	case 0:	   /* Raw */
	case 1:	   /* CopyRect */
	case 2:	   /* RRE */
	case 4:	   /* CoRRE */
	case 5:	   /* Hextile */
	case 6:	   /* zlib */
	case 7:	   /* Tight */
	case 8:	   /* ZlibHex */
	case 16:   /* ZRLE */
	case -223: /* DesktopSize (server-initiated only) */
	case -224: /* LastRect */
	case -239: /* Cursor */
	case -240: /* XCursor */
	case -257: /* QEMU pointer motion change */
	case -261: /* QEMU LED state */
		return true;
	default:
		/* Tight JPEG quality and compression level pseudo-encodings */
		return (enc >= -32 && enc <= -23) ||
		       (enc >= -256 && enc <= -247);
	}
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void rfb_filter_init(struct rfb_filter *f, bool allow_input, bool allow_cut)
{
	memset(f, 0, offsetof(struct rfb_filter, msg));
	f->allow_input = allow_input;
	f->allow_cut = allow_cut;
	f->phase = RFB_VERSION;
}

static int dead(struct rfb_filter *f, struct err *e, const char *why)
{
	f->phase = RFB_DEAD;
	return err_set(e, EPROTO, "rfb: %s", why);
}

/* Bytes a message of this type needs in total, given what we hold. */
static long msg_need(struct rfb_filter *f)
{
	switch (f->msg[0]) {
	case MSG_SET_PIXEL_FORMAT:
		return 20;
	case MSG_SET_ENCODINGS:
		if (f->have < 4)
			return 4;
		return 4 + 4 * (long)((f->msg[2] << 8) | f->msg[3]);
	case MSG_FB_UPDATE_REQUEST:
		return 10;
	case MSG_KEY_EVENT:
		return 8;
	case MSG_POINTER_EVENT:
		return 6;
	case MSG_CLIENT_CUT_TEXT:
		return 8; /* the text is streamed after the header */
	default:
		return -1;
	}
}

static int check_pixel_format(const uint8_t *pf)
{
	unsigned bpp = pf[0], depth = pf[1], tc = pf[3];

	if (bpp != 8 && bpp != 16 && bpp != 32)
		return -1;
	if (depth == 0 || depth > bpp || pf[2] > 1 || tc > 1)
		return -1;
	return 0;
}

/* A whole message is in f->msg: check it, then forward, rewrite or drop. */
static int finish_msg(struct rfb_filter *f, uint8_t *up, size_t upcap,
		      size_t *uplen, struct err *e)
{
	size_t len = f->have, i, n, k = 0;
	uint8_t *m = f->msg;

	f->messages++;
	switch (m[0]) {
	case MSG_SET_PIXEL_FORMAT:
		if (check_pixel_format(m + 4))
			return dead(f, e, "bad pixel format");
		break;
	case MSG_SET_ENCODINGS:
		n = (size_t)((m[2] << 8) | m[3]);
		for (i = 0; i < n; i++) {
			uint32_t enc = be32(m + 4 + 4 * i);

			if (encoding_allowed((int32_t)enc))
				put_be32(m + 4 + 4 * k++, enc);
		}
		m[2] = (uint8_t)(k >> 8);
		m[3] = (uint8_t)k;
		len = 4 + 4 * k;
		break;
	case MSG_FB_UPDATE_REQUEST:
		if (m[1] > 1)
			return dead(f, e, "bad incremental flag");
		break;
	case MSG_KEY_EVENT:
		if (m[1] > 1)
			return dead(f, e, "bad key down flag");
		if (!f->allow_input) {
			f->dropped_key++;
			return 0;
		}
		break;
	case MSG_POINTER_EVENT:
		if (!f->allow_input) {
			f->dropped_pointer++;
			return 0;
		}
		break;
	case MSG_CLIENT_CUT_TEXT: {
		uint32_t tl = be32(m + 4);

		/* High bit: extended clipboard, which we never offered. */
		if (tl > RFB_CUT_MAX)
			return dead(f, e, "clipboard text too long");
		f->cut_left = tl;
		f->cut_fwd = f->allow_cut;
		if (!f->allow_cut) {
			f->dropped_cut++;
			return 0;
		}
		break;
	}
	default:
		return dead(f, e, "unknown message");
	}
	if (upcap - *uplen < len)
		return err_set(e, ENOBUFS, "rfb: output buffer full");
	memcpy(up + *uplen, m, len);
	*uplen += len;
	return 0;
}

static int handshake_byte_phase(struct rfb_filter *f, const uint8_t **in,
				size_t *n, uint8_t *up, size_t *uplen,
				uint8_t *reply, size_t *replylen, struct err *e)
{
	size_t want = f->phase == RFB_VERSION ? 12 : 1, take;

	take = want - f->have < *n ? want - f->have : *n;
	memcpy(f->msg + f->have, *in, take);
	f->have += take;
	*in += take;
	*n -= take;
	if (f->have < want)
		return 0;
	f->have = 0;
	switch (f->phase) {
	case RFB_VERSION:
		if (!memcmp(f->msg, "RFB 003.003\n", 12))
			f->minor = 3;
		else if (!memcmp(f->msg, "RFB 003.007\n", 12))
			f->minor = 7;
		else if (!memcmp(f->msg, "RFB 003.008\n", 12))
			f->minor = 8;
		else
			return dead(f, e, "unsupported protocol version");
		if (f->minor == 3) {
			/* 3.3: the server decides; None, no result */
			put_be32(reply + *replylen, RFB_SEC_NONE);
			*replylen += 4;
			f->phase = RFB_INIT;
		} else {
			reply[(*replylen)++] = 1;
			reply[(*replylen)++] = RFB_SEC_NONE;
			f->phase = RFB_SECURITY;
		}
		return 0;
	case RFB_SECURITY:
		if (f->msg[0] != RFB_SEC_NONE)
			return dead(f, e, "security type other than None");
		if (f->minor == 8) {
			put_be32(reply + *replylen, 0);
			*replylen += 4;
		}
		f->phase = RFB_INIT;
		return 0;
	case RFB_INIT:
		/* ClientInit: any value means a flag; we always share. */
		up[(*uplen)++] = 1;
		f->phase = RFB_NORMAL;
		return 0;
	default:
		return dead(f, e, "internal state");
	}
}

int rfb_filter_feed(struct rfb_filter *f, const uint8_t *in, size_t n,
		    uint8_t *up, size_t upcap, size_t *uplen, uint8_t *reply,
		    size_t *replylen, struct err *e)
{
	size_t take;
	long need;
	int r;

	*uplen = 0;
	*replylen = 0;
	while (n) {
		if (f->phase == RFB_DEAD)
			return err_set(e, EPROTO,
				       "rfb: session already failed");
		if (f->phase != RFB_NORMAL) {
			/* at most 8 reply bytes and 1 up byte in all */
			if (upcap - *uplen < 1)
				return err_set(e, ENOBUFS,
					       "rfb: output buffer full");
			r = handshake_byte_phase(f, &in, &n, up, uplen, reply,
						 replylen, e);
			if (r)
				return r;
			continue;
		}
		if (f->cut_left) {
			take = f->cut_left < n ? f->cut_left : n;
			if (f->cut_fwd) {
				if (upcap - *uplen < take)
					return err_set(
					    e, ENOBUFS,
					    "rfb: output buffer full");
				memcpy(up + *uplen, in, take);
				*uplen += take;
			}
			f->cut_left -= (uint32_t)take;
			in += take;
			n -= take;
			continue;
		}
		if (!f->have) {
			f->msg[0] = *in++;
			n--;
			f->have = 1;
		}
		need = msg_need(f);
		if (need < 0)
			return dead(f, e, "unknown message type");
		if (need > RFB_MSG_MAX)
			return dead(f, e, "message too long");
		take = (size_t)need - f->have < n ? (size_t)need - f->have : n;
		memcpy(f->msg + f->have, in, take);
		f->have += take;
		in += take;
		n -= take;
		/* SetEncodings: the length is known only after 4 bytes */
		if (f->have == (size_t)need && msg_need(f) != need) {
			if (msg_need(f) > RFB_MSG_MAX)
				return dead(f, e, "message too long");
			continue;
		}
		if (f->have < (size_t)need)
			break;
		r = finish_msg(f, up, upcap, uplen, e);
		f->have = 0;
		if (r)
			return r;
	}
	return 0;
}

enum {
	UP_VERSION,
	UP_NTYPES,
	UP_TYPES,
	UP_RESULT,
	UP_DONE,
};

int rfb_upstream_feed(struct rfb_upstream *u, const uint8_t *in, size_t n,
		      size_t *used, uint8_t *out, size_t *outlen, struct err *e)
{
	size_t want, take;

	*used = 0;
	*outlen = 0;
	while (u->state != UP_DONE) {
		switch (u->state) {
		case UP_VERSION:
			want = 12;
			break;
		case UP_NTYPES:
			want = 1;
			break;
		case UP_TYPES:
			want = u->ntypes;
			break;
		default:
			want = 4;
			break;
		}
		take = want - u->have < n - *used ? want - u->have : n - *used;
		memcpy(u->buf + u->have, in + *used, take);
		u->have += take;
		*used += take;
		if (u->have < want)
			return 0;
		u->have = 0;
		switch (u->state) {
		case UP_VERSION:
			if (memcmp(u->buf, "RFB 003.008\n", 12))
				return err_set(e, EPROTO,
					       "vnc: server is not RFB 3.8");
			memcpy(out, "RFB 003.008\n", 12);
			*outlen = 12;
			u->state = UP_NTYPES;
			break;
		case UP_NTYPES:
			if (!u->buf[0])
				return err_set(
				    e, EPROTO,
				    "vnc: server refused the connection");
			u->ntypes = u->buf[0];
			u->state = UP_TYPES;
			break;
		case UP_TYPES:
			if (!memchr(u->buf, RFB_SEC_NONE, want))
				return err_set(
				    e, EPROTO,
				    "vnc: server does not offer security None");
			out[(*outlen)++] = RFB_SEC_NONE;
			u->state = UP_RESULT;
			break;
		case UP_RESULT:
			if (be32(u->buf))
				return err_set(
				    e, EPROTO,
				    "vnc: security handshake failed");
			u->state = UP_DONE;
			break;
		}
	}
	return 1;
}
