/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * screenshot.c - one frame of the cell's screen through the tunnel, as PNG
 *
 * A minimal RFB 3.8 client on the screen channel: version, security None,
 * shared ClientInit, ServerInit; then it asks for 32-bit little-endian
 * true colour (so the pixel layout is ours, whatever QEMU prefers), Raw
 * encoding plus DesktopSize, and one non-incremental update of the whole
 * screen. Everything the server sends is bounded: the screen size by
 * PNG_MAX_DIM, rectangles by the screen, colour maps and cut text are
 * skipped with their lengths checked. The first complete update is the
 * picture.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "png.h"

/* Server cut text we skip over, at most (we never asked for any). */
#define SHOT_CUT_MAX (1 << 20)

struct stream {
	struct console_client *c;
	long long deadline;
	uint8_t *buf;
	size_t off, len;
	uint8_t *chunk;
};

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Make @n bytes available at s->buf + s->off. */
static int need(struct stream *s, size_t n, struct err *e)
{
	unsigned ch;
	long r;
	uint8_t *nb;

	while (s->len - s->off < n) {
		int left = (int)(s->deadline - now_ms());

		if (left <= 0)
			return err_set(e, ETIMEDOUT, "screenshot: timed out");
		r = console_client_recv(s->c, &ch, s->chunk, left, e);
		if (r < 0)
			return (int)r;
		if (r == 0)
			continue;
		if (ch != CONSOLE_CH_SCREEN)
			continue;
		if (s->off) {
			memmove(s->buf, s->buf + s->off, s->len - s->off);
			s->len -= s->off;
			s->off = 0;
		}
		nb = realloc(s->buf, s->len + (size_t)r);
		if (!nb)
			return err_set(e, ENOMEM, "screenshot: out of memory");
		s->buf = nb;
		memcpy(s->buf + s->len, s->chunk, (size_t)r);
		s->len += (size_t)r;
	}
	return 0;
}

static const uint8_t *take(struct stream *s, size_t n)
{
	const uint8_t *p = s->buf + s->off;

	s->off += n;
	return p;
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int request(struct console_client *c, unsigned w, unsigned h,
		   struct err *e)
{
	uint8_t m[10] = {3,
			 0,
			 0,
			 0,
			 0,
			 0,
			 (uint8_t)(w >> 8),
			 (uint8_t)w,
			 (uint8_t)(h >> 8),
			 (uint8_t)h};

	return console_client_send(c, CONSOLE_CH_SCREEN, m, sizeof(m), e);
}

int console_client_screenshot(struct console_client *c, const char *path,
			      int timeout_ms, unsigned *width, unsigned *height,
			      struct err *e)
{
	static const uint8_t pixfmt[20] = {0, 0,   0, 0,   32, 24, 0, 1, 0, 255,
					   0, 255, 0, 255, 16, 8,  0, 0, 0, 0};
	static const uint8_t encs[12] = {2, 0, 0,    2,	   0,	 0,
					 0, 0, 0xff, 0xff, 0xff, 0x21};
	struct stream s = {.c = c, .deadline = now_ms() + timeout_ms};
	const uint8_t *p;
	uint8_t *rgb = NULL;
	unsigned w, h, nrects, i, done = 0;
	size_t n; /* a length read from @p: need() may move the buffer */
	int r;

	s.chunk = malloc(CONSOLE_CLIENT_BUF);
	if (!s.chunk)
		return err_set(e, ENOMEM, "out of memory");
	if ((r = console_client_open(c, CONSOLE_CH_SCREEN, e)) ||
	    (r = need(&s, 12, e)))
		goto out;
	if (memcmp(take(&s, 12), "RFB 003.008\n", 12)) {
		r = err_set(e, EPROTO, "screenshot: unexpected RFB version");
		goto out;
	}
	if ((r = console_client_send(c, CONSOLE_CH_SCREEN,
				     (const uint8_t *)"RFB 003.008\n", 12,
				     e)) ||
	    (r = need(&s, 2, e)))
		goto out;
	p = take(&s, 2);
	if (p[0] != 1 || p[1] != 1) {
		r = err_set(e, EPROTO, "screenshot: expected security None");
		goto out;
	}
	if ((r = console_client_send(c, CONSOLE_CH_SCREEN,
				     (const uint8_t *)"\1", 1, e)) ||
	    (r = need(&s, 4, e)))
		goto out;
	if (be32(take(&s, 4))) {
		r = err_set(e, EPROTO, "screenshot: security failed");
		goto out;
	}
	if ((r = console_client_send(c, CONSOLE_CH_SCREEN,
				     (const uint8_t *)"\1", 1, e)) ||
	    (r = need(&s, 24, e)))
		goto out;
	p = take(&s, 24);
	w = be16(p);
	h = be16(p + 2);
	n = be32(p + 20);
	if (n > 4096 || (r = need(&s, n, e)))
		goto name_err;
	take(&s, n);
	if ((r = console_client_send(c, CONSOLE_CH_SCREEN, pixfmt, 20, e)) ||
	    (r = console_client_send(c, CONSOLE_CH_SCREEN, encs, 12, e)))
		goto out;
resize:
	if (!w || !h || w > PNG_MAX_DIM || h > PNG_MAX_DIM) {
		r = err_set(e, EPROTO, "screenshot: bad screen size %ux%u", w,
			    h);
		goto out;
	}
	free(rgb);
	rgb = calloc((size_t)w * h, 3);
	if (!rgb) {
		r = err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	if ((r = request(c, w, h, e)))
		goto out;
	while (!done) {
		if ((r = need(&s, 1, e)))
			goto out;
		switch (*take(&s, 1)) {
		case 0: /* FramebufferUpdate */
			if ((r = need(&s, 3, e)))
				goto out;
			nrects = be16(take(&s, 3) + 1);
			for (i = 0; i < nrects; i++) {
				unsigned x, y, rw, rh, row, k;
				int32_t enc;

				if ((r = need(&s, 12, e)))
					goto out;
				p = take(&s, 12);
				x = be16(p);
				y = be16(p + 2);
				rw = be16(p + 4);
				rh = be16(p + 6);
				enc = (int32_t)be32(p + 8);
				if (enc == -223) {
					w = rw;
					h = rh;
					goto resize;
				}
				if (enc != 0 || x + rw > w || y + rh > h) {
					r = err_set(
					    e, EPROTO,
					    "screenshot: unexpected rectangle");
					goto out;
				}
				for (row = 0; row < rh; row++) {
					uint8_t *d =
					    rgb +
					    ((size_t)(y + row) * w + x) * 3;

					if ((r = need(&s, (size_t)rw * 4, e)))
						goto out;
					p = take(&s, (size_t)rw * 4);
					for (k = 0; k < rw; k++) {
						d[3 * k] = p[4 * k + 2];
						d[3 * k + 1] = p[4 * k + 1];
						d[3 * k + 2] = p[4 * k];
					}
				}
			}
			done = 1;
			break;
		case 1: /* SetColourMapEntries */
			if ((r = need(&s, 5, e)))
				goto out;
			p = take(&s, 5);
			n = (size_t)be16(p + 3) * 6;
			if ((r = need(&s, n, e)))
				goto out;
			take(&s, n);
			break;
		case 2: /* Bell */
			break;
		case 3: /* ServerCutText */
			if ((r = need(&s, 7, e)))
				goto out;
			p = take(&s, 7);
			n = be32(p + 3);
			if (n > SHOT_CUT_MAX) {
				r = err_set(e, EPROTO,
					    "screenshot: huge cut text");
				goto out;
			}
			if ((r = need(&s, n, e)))
				goto out;
			take(&s, n);
			break;
		default:
			r = err_set(e, EPROTO,
				    "screenshot: unknown server message");
			goto out;
		}
	}
	r = png_write_rgb(path, rgb, w, h, e);
	*width = w;
	*height = h;
	goto out;
name_err:
	if (!r)
		r = err_set(e, EPROTO, "screenshot: bad desktop name");
out:
	free(rgb);
	free(s.buf);
	free(s.chunk);
	return r;
}
