/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_client.c - the console client's frame reading against a scripted
 * (and hostile) server
 *
 * A thread in this process plays walloff-console: it runs the responder
 * side of Noise_XX, sends HELLO, then writes transport frames cut at
 * awkward places: several frames in one write, a full-size frame in
 * 7-byte pieces, a frame left half-written at the end of the client's
 * read buffer, then an empty frame or a tampered one. The client keeps
 * frames where recv(2) put them (console/client.c), so these are the
 * cases where its offsets could go wrong; each data byte is checked.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "client.h"
#include "control.h"
#include "session.h"

enum ending { END_CLEAN, END_EMPTY_FRAME, END_TAMPERED };

struct server {
	int lfd;
	enum ending ending;
	uint8_t priv[32];
	int sync[2]; /* the client says "consumed" before the next part */
};

static int port_of(int fd)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	getsockname(fd, (struct sockaddr *)&sa, &sl);
	return ntohs(sa.sin_port);
}

static void writen(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static int read_frame(int fd, struct noise_frame_reader *r)
{
	uint8_t b[256];
	size_t used;
	ssize_t n;
	int rc;

	noise_frame_reset(r);
	for (;;) {
		n = read(fd, b, 1); /* byte by byte: never read past it */
		if (n <= 0)
			return -1;
		rc = noise_frame_feed(r, b, 1, &used, NULL);
		if (rc)
			return rc;
	}
}

/* Data byte @i of message @m: a pattern both sides can compute. */
static uint8_t pat(unsigned m, size_t i)
{
	return (uint8_t)(m * 31 + i * 7 + (i >> 8));
}

/* Seal DATA message @m of @len bytes at @out; returns the frame length. */
static size_t data_frame(struct noise_cipher *tx, uint8_t *out, unsigned m,
			 size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[SESSION_DATA_OFF + i] = pat(m, i);
	return (size_t)session_seal(tx, out, SESSION_DATA, SESSION_CH_SERIAL,
				    len, NULL);
}

static void *server(void *arg)
{
	struct server *sv = arg;
	static struct noise_frame_reader r;
	static uint8_t out[4 * SESSION_FRAME_MAX];
	struct noise_handshake hs;
	struct noise_cipher tx, rx;
	uint8_t payload[64], *body, ack;
	char hello[CONTROL_HELLO_MAX];
	size_t blen, n, off;
	long k;
	int fd;

	fd = accept(sv->lfd, NULL, NULL);
	if (fd < 0 ||
	    noise_handshake_init(&hs, NOISE_XX, false,
				 (const uint8_t *)SESSION_PROLOGUE,
				 strlen(SESSION_PROLOGUE), sv->priv, NULL) ||
	    read_frame(fd, &r) != 1)
		goto out;
	body = noise_frame_body(&r, &blen);
	if (noise_read_message(&hs, body, blen, payload, sizeof(payload),
			       NULL) < 0)
		goto out;
	k = noise_write_message(&hs, NULL, 0, out + 2, NOISE_MAX_MSG, NULL);
	out[0] = (uint8_t)(k >> 8);
	out[1] = (uint8_t)k;
	writen(fd, out, (size_t)k + 2);
	if (read_frame(fd, &r) != 1)
		goto out;
	body = noise_frame_body(&r, &blen);
	if (noise_read_message(&hs, body, blen, payload, sizeof(payload),
			       NULL) < 0 ||
	    noise_split(&hs, &tx, &rx, NULL))
		goto out;
	k = control_hello_format(hello, sizeof(hello), SESSION_VERSION,
				 "scripted", "operate", 0);
	memcpy(out + SESSION_DATA_OFF, hello, (size_t)k);
	writen(fd, out,
	       (size_t)session_seal(&tx, out, SESSION_HELLO,
				    SESSION_CH_CONTROL, (size_t)k, NULL));

	/* 1: three frames in one write */
	off = data_frame(&tx, out, 1, 10);
	off += data_frame(&tx, out + off, 2, 1);
	off += data_frame(&tx, out + off, 3, 300);
	writen(fd, out, off);
	/* 2: a full-size frame in 7-byte pieces */
	n = data_frame(&tx, out, 4, SESSION_DATA_MAX);
	for (off = 0; off < n; off += 7)
		writen(fd, out + off, n - off < 7 ? n - off : 7);
	/* 3: a full frame and 40,000 bytes of the next, then (once the
	 * client consumed the first) the rest: the partial frame sits near
	 * the end of the client's buffer and has to move */
	if (read(sv->sync[0], &ack, 1) != 1)
		goto out;
	off = data_frame(&tx, out, 5, SESSION_DATA_MAX);
	n = off + data_frame(&tx, out + off, 6, SESSION_DATA_MAX);
	writen(fd, out, off + 40000);
	if (read(sv->sync[0], &ack, 1) != 1)
		goto out;
	writen(fd, out + off + 40000, n - off - 40000);
	/* 4: the ending */
	switch (sv->ending) {
	case END_CLEAN:
		n = (size_t)session_seal(&tx, out, SESSION_CLOSE,
					 SESSION_CH_CONTROL, 0, NULL);
		writen(fd, out, n);
		break;
	case END_EMPTY_FRAME:
		out[0] = out[1] = 0;
		writen(fd, out, 2);
		break;
	case END_TAMPERED:
		n = data_frame(&tx, out, 7, 64);
		out[n - 1] ^= 1;
		writen(fd, out, n);
		break;
	}
	while (read(fd, payload, sizeof(payload)) > 0)
		; /* until the client hangs up */
out:
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void expect(struct console_client *c, unsigned m, size_t len)
{
	const uint8_t *data;
	unsigned ch;
	long n;
	size_t i;

	n = console_client_recv_ref(c, &ch, &data, 5000, NULL);
	assert_int_equal(n, (long)len);
	assert_int_equal(ch, CONSOLE_CH_SERIAL);
	for (i = 0; i < len; i++)
		if (data[i] != pat(m, i))
			fail_msg("message %u byte %zu differs", m, i);
}

static void run(enum ending ending, long want, const char *msg)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct server sv = {.ending = ending};
	struct console_client *c;
	struct console_info info;
	uint8_t priv[32], pub[32], buf[CONSOLE_CLIENT_BUF];
	struct err e = {0};
	pthread_t t;
	unsigned ch;
	long n;

	sv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(sv.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(sv.lfd, 1), 0);
	assert_int_equal(pipe(sv.sync), 0);
	crypto_box_keypair(pub, sv.priv);
	crypto_box_keypair(pub, priv);
	pthread_create(&t, NULL, server, &sv);

	c = console_client_connect("127.0.0.1", (unsigned)port_of(sv.lfd),
				   priv, NULL, &info, 5000, &e);
	assert_non_null(c);
	assert_string_equal(info.cell, "scripted");
	expect(c, 1, 10);
	assert_true(console_client_pending(c)); /* 2 and 3 came along */
	expect(c, 2, 1);
	expect(c, 3, 300);
	expect(c, 4, SESSION_DATA_MAX);
	assert_int_equal(write(sv.sync[1], "a", 1), 1);
	expect(c, 5, SESSION_DATA_MAX);
	assert_false(console_client_pending(c)); /* 6 is not all there */
	assert_int_equal(write(sv.sync[1], "b", 1), 1);
	expect(c, 6, SESSION_DATA_MAX);
	/* the copying variant returns the same bytes: checked on the end */
	n = console_client_recv(c, &ch, buf, 5000, &e);
	assert_int_equal(n, want);
	if (msg)
		assert_non_null(strstr(e.msg, msg));
	console_client_close(c);
	pthread_join(t, NULL);
	close(sv.lfd);
	close(sv.sync[0]);
	close(sv.sync[1]);
}

static void test_clean(void **state)
{
	(void)state;
	run(END_CLEAN, -ECONNRESET, "session closed by the console");
}

static void test_empty_frame(void **state)
{
	(void)state;
	run(END_EMPTY_FRAME, -EBADMSG, "empty frame");
}

static void test_tampered(void **state)
{
	(void)state;
	run(END_TAMPERED, -EBADMSG, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_empty_frame),
	    cmocka_unit_test(test_tampered),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
