/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stream.h - QEMU's "-netdev stream" framing: 4-byte big-endian length,
 * then the Ethernet frame
 */
#ifndef WALLOFF_STREAM_H
#define WALLOFF_STREAM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Largest frame length QEMU may announce: its NET_BUFSIZE (4096 + 65536).
 * Larger means the peer is not QEMU or the stream is out of sync: fatal.
 */
#define STREAM_FRAME_MAX (4096 + 65536)
/*
 * Frames queued for the guest while its socket is full. slirp's callback
 * may drop a frame (TCP retransmits), so a full queue drops, never blocks.
 */
#define STREAM_OUT_CAP (512 * 1024)

struct stream {
	int fd;
	size_t in_len;
	size_t out_off, out_len;
	uint8_t in[4 + STREAM_FRAME_MAX];
	uint8_t out[STREAM_OUT_CAP];
};

/**
 * stream_init() - wrap a connected, non-blocking socket
 * @s:		stream
 * @fd:		socket
 */
void stream_init(struct stream *s, int fd);

/**
 * stream_read() - read what is available and hand over each whole frame
 * @s:		stream
 * @cb:		called once per frame
 * @ctx:	passed to @cb
 *
 * Return: 0, -EPIPE when the peer closed, -EPROTO on a bad length, or the
 * first negative value returned by @cb
 */
int stream_read(struct stream *s,
		int (*cb)(void *ctx, const uint8_t *frame, size_t len),
		void *ctx);

/**
 * stream_queue() - queue one frame for the peer and try to send it
 * @s:		stream
 * @frame:	Ethernet frame
 * @len:	its length
 *
 * Return: 0, -ENOBUFS if the queue is full (frame dropped), -EPIPE
 */
int stream_queue(struct stream *s, const uint8_t *frame, size_t len);

/**
 * stream_flush() - send queued bytes until the socket is full
 * @s:		stream
 *
 * Return: 0 or -EPIPE
 */
int stream_flush(struct stream *s);

/**
 * stream_pending() - bytes waiting to be sent (poll for POLLOUT if any)
 * @s:		stream
 *
 * Return: number of bytes
 */
size_t stream_pending(const struct stream *s);

#endif /* WALLOFF_STREAM_H */
