/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stream.c - framing of QEMU's stream netdev
 *
 * QEMU's "-netdev stream" (QEMU 7.2 and later) sends every Ethernet frame
 * as a 4-byte big-endian length followed by the frame, in both directions.
 * Input is read into one fixed buffer; a frame is handed on only once all
 * of it is there, and a length over STREAM_FRAME_MAX ends the connection
 * (it cannot come from QEMU, and we could not resynchronise anyway).
 *
 * Output goes through a fixed queue. The socket is non-blocking: what does
 * not fit in the kernel buffer waits in the queue, and a frame that does
 * not fit in the queue is dropped whole (never half-written, which would
 * desynchronise the stream). Dropping is what a full NIC does; the guest's
 * TCP retransmits.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream.h"

#define LEN_BYTES 4

void stream_init(struct stream *s, int fd)
{
	s->fd = fd;
	s->in_len = 0;
	s->out_off = 0;
	s->out_len = 0;
}

static size_t frame_len(const uint8_t *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	       p[3];
}

int stream_read(struct stream *s,
		int (*cb)(void *ctx, const uint8_t *frame, size_t len),
		void *ctx)
{
	size_t off = 0, n;
	ssize_t r;
	int rc = 0;

	r = recv(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len,
		 MSG_DONTWAIT);
	if (r == 0)
		return -EPIPE;
	if (r < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -EPIPE;
	s->in_len += (size_t)r;
	while (s->in_len - off >= LEN_BYTES) {
		n = frame_len(s->in + off);
		if (n > STREAM_FRAME_MAX) {
			rc = -EPROTO;
			break;
		}
		if (s->in_len - off - LEN_BYTES < n)
			break;
		rc = cb(ctx, s->in + off + LEN_BYTES, n);
		off += LEN_BYTES + n;
		if (rc < 0)
			break;
	}
	memmove(s->in, s->in + off, s->in_len - off);
	s->in_len -= off;
	return rc;
}

int stream_flush(struct stream *s)
{
	while (s->out_len) {
		ssize_t r = send(s->fd, s->out + s->out_off, s->out_len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -EPIPE;
		}
		s->out_off += (size_t)r;
		s->out_len -= (size_t)r;
	}
	s->out_off = 0;
	return 0;
}

int stream_queue(struct stream *s, const uint8_t *frame, size_t len)
{
	uint8_t *p;

	if (s->out_off &&
	    s->out_off + s->out_len + LEN_BYTES + len > sizeof(s->out)) {
		memmove(s->out, s->out + s->out_off, s->out_len);
		s->out_off = 0;
	}
	if (len > STREAM_FRAME_MAX ||
	    s->out_off + s->out_len + LEN_BYTES + len > sizeof(s->out))
		return -ENOBUFS;
	p = s->out + s->out_off + s->out_len;
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	memcpy(p + LEN_BYTES, frame, len);
	s->out_len += LEN_BYTES + len;
	return stream_flush(s);
}

size_t stream_pending(const struct stream *s)
{
	return s->out_len;
}
