/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client.c - the client end of a console session (used by walloff connect)
 *
 * Blocking I/O with poll() deadlines: the client serves one person, so
 * simplicity wins over an event loop. The Noise_XX handshake runs as
 * initiator; after message 2 the server's static key is known and, if the
 * caller pinned one, compared in constant time before we reveal our own
 * identity in message 3 (a wrong server never learns who tried to log
 * in). Then the server speaks first: HELLO (version, cell, role) or CLOSE
 * with a reason such as "key not authorized"; then the NOTICE messages
 * HELLO announced, checked (control.c) before anyone prints them.
 *
 * Received frames are decrypted where recv(2) put them (read_frame());
 * sends are sealed in place in one frame buffer. Any decryption
 * failure ends the session (the caller gets -EBADMSG and must close).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "control.h"
#include "session.h"

/* How long closing a channel waits for the server's confirmation. */
#define CLIENT_CLOSE_WAIT_MS 5000
/*
 * Raw bytes read ahead from the socket: two whole frames, so a frame is
 * always contiguous and is decrypted where recv(2) put it.
 */
#define CLIENT_INBUF (2 * SESSION_FRAME_MAX)
/* A read at least this large: bulk data, more is probably queued. */
#define CLIENT_BULK 16384

struct console_client {
	int fd;
	struct noise_cipher tx, rx;
	/* in[inoff, inoff + cur) is the current frame, then unread bytes
	 * up to inlen */
	size_t inoff, cur, inlen;
	bool bulk; /* the last read was large: try the next before polling */
	uint8_t in[CLIENT_INBUF];
	uint8_t frame[SESSION_FRAME_MAX];
};

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int send_all(int fd, const uint8_t *p, size_t n, struct err *e)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return err_set(e, errno ? errno : EPIPE, "send: %s",
				       strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Drop the current frame and read until the next one is complete. Return
 * 1 (frame_body() gives it), 0 on timeout, -errno on error or EOF
 * (-ECONNRESET). Frames are decrypted where they lie in c->in: the only
 * copy is the kernel's. After a large read the socket is read again
 * before poll(2), which saves a syscall per frame in bulk transfers;
 * without a timeout there is no poll(2) at all (the socket blocks).
 */
static int read_frame(struct console_client *c, int timeout_ms, struct err *e)
{
	long long deadline = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	size_t room;
	ssize_t n;
	long f;
	int r, left;

	c->inoff += c->cur;
	c->cur = 0;
	for (;;) {
		f = noise_frame_peek(c->in + c->inoff, c->inlen - c->inoff,
				     e);
		if (f < 0)
			return (int)f;
		if (f) {
			c->cur = (size_t)f;
			return 1;
		}
		if (c->inoff == c->inlen) {
			c->inoff = c->inlen = 0;
		} else if (CLIENT_INBUF - c->inlen < SESSION_FRAME_MAX) {
			/* a partial frame near the end: to the front */
			memmove(c->in, c->in + c->inoff, c->inlen - c->inoff);
			c->inlen -= c->inoff;
			c->inoff = 0;
		}
		/* without a deadline a blocking recv() is the wait itself */
		if (!c->bulk && timeout_ms >= 0) {
			left = (int)(deadline - now_ms());
			if (left < 0)
				left = 0;
			r = poll(&pfd, 1, left);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return err_set(e, errno, "poll: %s",
					       strerror(errno));
			if (!r)
				return 0;
		}
		room = CLIENT_INBUF - c->inlen;
		n = recv(c->fd, c->in + c->inlen, room,
			 c->bulk || timeout_ms >= 0 ? MSG_DONTWAIT : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->bulk = false;
			continue;
		}
		if (n < 0)
			return err_set(e, errno, "recv: %s", strerror(errno));
		if (!n)
			return err_set(e, ECONNRESET,
				       "the server closed the connection");
		c->bulk = n >= CLIENT_BULK;
		c->inlen += (size_t)n;
	}
}

/* The current frame's Noise message (after the length header). */
static uint8_t *frame_body(struct console_client *c, size_t *blen)
{
	*blen = c->cur - NOISE_FRAME_HDR;
	return c->in + c->inoff + NOISE_FRAME_HDR;
}

static int tcp_connect(const char *host, unsigned port, int timeout_ms,
		       struct err *e)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL, *a;
	char ps[16];
	int fd, r, one = 1;

	snprintf(ps, sizeof(ps), "%u", port);
	r = getaddrinfo(host, ps, &hints, &ai);
	if (r)
		return err_set(e, EHOSTUNREACH, "%s: %s", host,
			       gai_strerror(r));
	for (a = ai; a; a = a->ai_next) {
		struct pollfd pfd;
		socklen_t sl = sizeof(r);

		fd = socket(a->ai_family,
			    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) &&
		    errno != EINPROGRESS)
			goto next;
		pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
		if (poll(&pfd, 1, timeout_ms) != 1)
			goto next;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &r, &sl) || r)
			goto next;
		/* blocking from now on; deadlines come from poll() */
		fcntl(fd, F_SETFL, 0);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		freeaddrinfo(ai);
		return fd;
	next:
		close(fd);
	}
	freeaddrinfo(ai);
	return err_set(e, ECONNREFUSED, "cannot connect to %s:%u", host, port);
}

static int send_hs(struct console_client *c, struct noise_handshake *hs,
		   struct err *e)
{
	long r = noise_write_message(hs, NULL, 0, c->frame + NOISE_FRAME_HDR,
				     NOISE_MAX_MSG, e);

	if (r < 0)
		return (int)r;
	c->frame[0] = (uint8_t)(r >> 8);
	c->frame[1] = (uint8_t)r;
	return send_all(c->fd, c->frame, (size_t)r + NOISE_FRAME_HDR, e);
}

/* Copy a peer-supplied reason into an error, printable characters only. */
static int reason_err(struct err *e, int code, const char *what,
		      const uint8_t *d, long n)
{
	char r[SESSION_REASON_MAX + 1];
	long i;

	if (n > SESSION_REASON_MAX)
		n = SESSION_REASON_MAX;
	for (i = 0; i < n; i++)
		r[i] = (char)(d[i] >= 0x20 && d[i] < 0x7f ? d[i] : '?');
	r[n] = '\0';
	return err_set(e, code, "%s: %s", what, r);
}

/* The NOTICE messages HELLO announced: exactly that many, validated. */
static int read_notices(struct console_client *c, struct console_info *info,
			unsigned count, int timeout_ms, struct err *e)
{
	uint8_t *body, type, ch, *data;
	size_t blen;
	long n;
	int r;

	while (info->n_notices < count) {
		r = read_frame(c, timeout_ms, e);
		if (r <= 0)
			return r ? r : err_set(e, ETIMEDOUT,
					       "announced NOTICE missing");
		body = frame_body(c, &blen);
		n = session_open(&c->rx, body, blen, &type, &ch, &data, e);
		if (n < 0)
			return (int)n;
		if (type == SESSION_CLOSE)
			return reason_err(e, ECONNRESET,
					  "session closed by the console",
					  data, n);
		if (type != SESSION_NOTICE || ch != SESSION_CH_CONTROL ||
		    control_notice_check(data, (size_t)n))
			return err_set(e, EPROTO,
				       "malformed NOTICE from the server");
		memcpy(info->notices[info->n_notices], data, (size_t)n);
		info->notices[info->n_notices++][n] = '\0';
	}
	return 0;
}

struct console_client *console_client_connect(const char *host, unsigned port,
					      const uint8_t priv[static 32],
					      const uint8_t *pin,
					      struct console_info *info,
					      int timeout_ms, struct err *e)
{
	struct console_client *c;
	struct noise_handshake hs;
	uint8_t payload[64], *body, type, ch, *data;
	unsigned notices;
	size_t blen;
	long n;
	int r;

	memset(info, 0, sizeof(*info));
	if (sodium_init() < 0) {
		err_set(e, EIO, "libsodium init failed");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(e, ENOMEM, "out of memory");
		return NULL;
	}
	c->fd = tcp_connect(host, port, timeout_ms, e);
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	r = noise_handshake_init(&hs, NOISE_XX, true,
				 (const uint8_t *)SESSION_PROLOGUE,
				 strlen(SESSION_PROLOGUE), priv, e);
	if (r || send_hs(c, &hs, e))
		goto fail;
	r = read_frame(c, timeout_ms, e);
	if (r <= 0) {
		if (!r)
			err_set(
			    e, ETIMEDOUT,
			    "no handshake answer (is this a walloff console?)");
		goto fail;
	}
	body = frame_body(c, &blen);
	if (noise_read_message(&hs, body, blen, payload, sizeof(payload), e) <
	    0) {
		err_prefix(e, "handshake");
		goto fail;
	}
	memcpy(info->server_pub, hs.rs, 32);
	if (pin && sodium_memcmp(pin, hs.rs, 32)) {
		char want[CONSOLE_FPR_LEN], got[CONSOLE_FPR_LEN];

		console_fingerprint(want, pin);
		console_fingerprint(got, hs.rs);
		err_set(
		    e, EKEYREJECTED,
		    "SERVER KEY MISMATCH: expected %s, server presented %s; "
		    "someone may be intercepting the connection (or the "
		    "cell was re-created): refusing to continue",
		    want, got);
		goto fail;
	}
	if (send_hs(c, &hs, e) || noise_split(&hs, &c->tx, &c->rx, e))
		goto fail;
	noise_handshake_wipe(&hs);

	r = read_frame(c, timeout_ms, e);
	if (r <= 0) {
		if (!r)
			err_set(e, ETIMEDOUT, "no answer after the handshake");
		goto fail;
	}
	body = frame_body(c, &blen);
	n = session_open(&c->rx, body, blen, &type, &ch, &data, e);
	if (n < 0)
		goto fail;
	if (type == SESSION_CLOSE) {
		reason_err(e, EACCES, "the console refused us", data, n);
		goto fail;
	}
	if (type != SESSION_HELLO) {
		err_set(e, EPROTO, "expected HELLO from the server");
		goto fail;
	}
	if (control_hello_parse(data, (size_t)n, info, &notices)) {
		err_set(e, EPROTO, "malformed HELLO from the server");
		goto fail;
	}
	if (read_notices(c, info, notices, timeout_ms, e))
		goto fail;
	return c;
fail:
	noise_handshake_wipe(&hs);
	console_client_close(c);
	return NULL;
}

int console_client_open(struct console_client *c, unsigned ch, struct err *e)
{
	long r =
	    session_seal(&c->tx, c->frame, SESSION_OPEN, (uint8_t)ch, 0, e);

	if (r < 0)
		return (int)r;
	return send_all(c->fd, c->frame, (size_t)r, e);
}

int console_client_close_channel(struct console_client *c, unsigned ch,
				 struct err *e)
{
	long long deadline = now_ms() + CLIENT_CLOSE_WAIT_MS;
	uint8_t *buf;
	unsigned got = ~0U; /* no channel: an error before any frame */
	long r =
	    session_seal(&c->tx, c->frame, SESSION_CLOSE, (uint8_t)ch, 0, e);

	if (r < 0)
		return (int)r;
	if (send_all(c->fd, c->frame, (size_t)r, e))
		return -e->code;
	/*
	 * Data of the old channel may still be in flight: drop it until the
	 * server confirms the close, so a reopened channel starts clean.
	 */
	buf = malloc(CONSOLE_CLIENT_BUF);
	if (!buf)
		return err_set(e, ENOMEM, "out of memory");
	for (;;) {
		int left = (int)(deadline - now_ms());

		if (left <= 0) {
			r = err_set(e, ETIMEDOUT,
				    "channel close not confirmed");
			break;
		}
		r = console_client_recv(c, &got, buf, left, e);
		if (r == -EPIPE && got == ch) {
			r = 0;
			break;
		}
		if (r < 0 && r != -EPIPE)
			break;
	}
	free(buf);
	return (int)r;
}

int console_client_send(struct console_client *c, unsigned ch,
			const uint8_t *buf, size_t len, struct err *e)
{
	size_t k;
	long r;

	while (len) {
		k = len < SESSION_DATA_MAX ? len : SESSION_DATA_MAX;
		memcpy(c->frame + SESSION_DATA_OFF, buf, k);
		r = session_seal(&c->tx, c->frame, SESSION_DATA, (uint8_t)ch, k,
				 e);
		if (r < 0)
			return (int)r;
		if (send_all(c->fd, c->frame, (size_t)r, e))
			return -e->code;
		buf += k;
		len -= k;
	}
	return 0;
}

long console_client_recv_ref(struct console_client *c, unsigned *ch,
			     const uint8_t **data, int timeout_ms,
			     struct err *e)
{
	uint8_t *body, type, chn, *d;
	size_t blen;
	long n;
	int r;

	for (;;) {
		r = read_frame(c, timeout_ms, e);
		if (r <= 0)
			return r;
		body = frame_body(c, &blen);
		n = session_open(&c->rx, body, blen, &type, &chn, &d, e);
		if (n < 0)
			return n;
		*ch = chn;
		if (type == SESSION_DATA) {
			*data = d;
			return n;
		}
		if (type == SESSION_CLOSE)
			return reason_err(e, chn ? EPIPE : ECONNRESET,
					  chn ? "channel closed"
					      : "session closed by the console",
					  d, n);
		/* HELLO again, a NOTICE not announced in HELLO, or unknown:
		 * ignore, as PROTOCOL.md says */
	}
}

long console_client_recv(struct console_client *c, unsigned *ch, uint8_t *buf,
			 int timeout_ms, struct err *e)
{
	const uint8_t *data;
	long n = console_client_recv_ref(c, ch, &data, timeout_ms, e);

	if (n > 0)
		memcpy(buf, data, (size_t)n);
	return n;
}

int console_client_fd(const struct console_client *c)
{
	return c->fd;
}

bool console_client_pending(const struct console_client *c)
{
	size_t next = c->inoff + c->cur;

	/* a whole frame after the current one, or a malformed header that
	 * the next read reports at once */
	return noise_frame_peek(c->in + next, c->inlen - next, NULL) != 0;
}

void console_client_close(struct console_client *c)
{
	long r;

	if (!c)
		return;
	if (c->tx.has_key) {
		r = session_seal(&c->tx, c->frame, SESSION_CLOSE,
				 SESSION_CH_CONTROL, 0, NULL);
		if (r > 0)
			send(c->fd, c->frame, (size_t)r,
			     MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	if (c->fd >= 0)
		close(c->fd);
	sodium_memzero(c, sizeof(*c));
	free(c);
}
