/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * console_storm.c - many concurrent console sessions that come and go,
 * for the load test (test_load.py)
 *
 * Opens SESSIONS authenticated sessions to one walloff-console with the
 * real client library (console/client.c: Noise_XX, HELLO), then for
 * SECONDS picks a random session at a paced rate and does one of:
 *
 *   clean     CLOSE message, then reconnect
 *   fin       shutdown(2) without a CLOSE message, then reconnect
 *   rst       SO_LINGER 0 close (the server sees a reset), then reconnect
 *   half      a raw TCP connection that sends handshake message 1 and
 *             hangs up before message 3 (pre-authentication path)
 *   screen    open the screen channel, read QEMU's RFB banner through
 *             the proxy, close the channel (the session stays)
 *
 * then closes everything cleanly and prints one JSON object of counters.
 *
 * walloff-console rate-limits new connections per source address, as it
 * should; 200 users come from 200 addresses. So each session gets its own
 * loopback source, 127.1.X.Y: the link flag --wrap=connect routes the
 * client library's connect(2) through __wrap_connect below, which binds
 * the socket to the current session's address first. Test-only code.
 *
 * Usage: console-storm HOST PORT KEYFILE SESSIONS SECONDS ACTIONS_PER_S SEED
 * Exit: 0 if the initial sessions and every reconnect authenticated, 1 if
 * any failed (the counters say which), 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"

/* Most sessions one run may hold (one loopback source address each). */
#define STORM_MAX_SESSIONS 4096
/* Connect + handshake deadline; generous for a loaded 2-core machine. */
#define STORM_TIMEOUT_MS 20000
/* RFB 3.8 banner QEMU sends first on the screen channel. */
#define RFB_BANNER_LEN 12

int __real_connect(int fd, const struct sockaddr *sa, socklen_t len);
int __wrap_connect(int fd, const struct sockaddr *sa, socklen_t len);

/* Source address for the next connect(2): 127.1.0.0 + session index. */
static unsigned cur_src;

int __wrap_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_in src = {.sin_family = AF_INET};

	if (sa->sa_family == AF_INET) {
		src.sin_addr.s_addr =
		    htonl((127u << 24) | (1u << 16) | cur_src);
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)))
			return -1;
	}
	return __real_connect(fd, sa, len);
}

static struct {
	unsigned long connects, connect_failed, clean, fin, rst, half, screen,
	    screen_failed, peak;
} st;

static const char *host;
static unsigned port;
static uint8_t priv[CONSOLE_KEY_LEN];

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct console_client *open_one(unsigned i)
{
	struct console_info info;
	struct console_client *c;
	struct err e = {0};

	cur_src = i + 1;
	c = console_client_connect(host, port, priv, NULL, &info,
				   STORM_TIMEOUT_MS, &e);
	st.connects++;
	if (!c) {
		st.connect_failed++;
		fprintf(stderr, "console-storm: session %u: %s\n", i, e.msg);
	}
	return c;
}

/* Ends the TCP connection under @c abruptly, then frees @c. */
static void drop(struct console_client *c, bool rst)
{
	int fd = console_client_fd(c), nul;
	struct linger lg = {1, 0};

	if (rst) {
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		/* dup2 closes the socket (reset) and leaves a harmless fd for
		 * console_client_close() to write its CLOSE into */
		nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (nul >= 0) {
			dup2(nul, fd);
			close(nul);
		}
	} else {
		shutdown(fd, SHUT_RDWR);
	}
	console_client_close(c);
}

/* Handshake message 1 (a fresh ephemeral key), then hang up. */
static void half_handshake(unsigned i)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	uint8_t msg[2 + 32] = {0, 32};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, host, &sa.sin_addr);
	randombytes_buf(msg + 2, 32);
	cur_src = i + 1;
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		(void)!write(fd, msg, sizeof(msg));
	if (fd >= 0)
		close(fd);
	st.half++;
}

static void screen(struct console_client *c)
{
	uint8_t *buf = malloc(CONSOLE_CLIENT_BUF);
	size_t got = 0;
	unsigned ch;
	long n;

	st.screen++;
	if (!buf || console_client_open(c, CONSOLE_CH_SCREEN, NULL))
		goto fail;
	while (got < RFB_BANNER_LEN) {
		n = console_client_recv(c, &ch, buf, STORM_TIMEOUT_MS, NULL);
		if (n <= 0)
			goto fail;
		if (ch == CONSOLE_CH_SCREEN)
			got += (size_t)n;
	}
	if (memcmp(buf, "RFB ", 4) ||
	    console_client_close_channel(c, CONSOLE_CH_SCREEN, NULL))
		goto fail;
	free(buf);
	return;
fail:
	st.screen_failed++;
	free(buf);
}

int main(int argc, char *argv[])
{
	struct console_client **s;
	unsigned n, i, live = 0;
	double secs, rate, end, next;
	uint8_t pub[CONSOLE_KEY_LEN];
	struct err e = {0};
	int r;

	if (argc != 8 || sodium_init() < 0) {
		fprintf(stderr,
			"usage: console-storm HOST PORT KEYFILE SESSIONS "
			"SECONDS ACTIONS_PER_S SEED\n");
		return 2;
	}
	host = argv[1];
	port = (unsigned)atoi(argv[2]);
	n = (unsigned)atoi(argv[4]);
	secs = atof(argv[5]);
	rate = atof(argv[6]);
	srandom((unsigned)atoi(argv[7]));
	if (!n || n > STORM_MAX_SESSIONS || rate <= 0 ||
	    console_key_load(argv[3], priv, pub, &e)) {
		fprintf(stderr, "console-storm: bad arguments %s\n", e.msg);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	s = calloc(n, sizeof(*s));
	if (!s)
		return 1;
	for (i = 0; i < n; i++)
		if ((s[i] = open_one(i)))
			live++;
	st.peak = live;
	printf("{\"opened\": %u}\n", live);
	fflush(stdout);

	end = now_s() + secs;
	for (next = now_s(); next < end; next += 1.0 / rate) {
		double w = next - now_s();

		if (w > 0)
			poll(NULL, 0, (int)(w * 1000));
		i = (unsigned)random() % n;
		r = (int)(random() % 100);
		if (r < 15 && s[i]) {
			screen(s[i]);
			continue;
		}
		if (r < 30) {
			half_handshake(i);
			continue;
		}
		if (s[i]) {
			if (r < 55) {
				console_client_close(s[i]);
				st.clean++;
			} else if (r < 80) {
				drop(s[i], false);
				st.fin++;
			} else {
				drop(s[i], true);
				st.rst++;
			}
			s[i] = NULL;
			live--;
		}
		if ((s[i] = open_one(i)))
			live++;
		if (live > st.peak)
			st.peak = live;
	}
	for (i = 0; i < n; i++)
		console_client_close(s[i]);
	free(s);
	sodium_memzero(priv, sizeof(priv));
	printf("{\"connects\": %lu, \"connect_failed\": %lu, \"clean\": %lu, "
	       "\"fin\": %lu, \"rst\": %lu, \"half\": %lu, \"screen\": %lu, "
	       "\"screen_failed\": %lu, \"peak\": %lu}\n",
	       st.connects, st.connect_failed, st.clean, st.fin, st.rst,
	       st.half, st.screen, st.screen_failed, st.peak);
	return st.connect_failed || st.screen_failed ? 1 : 0;
}
