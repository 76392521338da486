/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_console.c - walloff-console throughput, latency, handshakes per
 * second and memory, printed as ratios against anchors measured in the
 * same run on this machine
 *
 * A fake QEMU runs in threads of this process: a VNC server (RFB 3.8
 * handshake, then a stream of BENCH_BYTES on the first update request)
 * and a serial port that echoes. The same fake is reached two ways:
 * through walloff-console (Noise, RFB filter) with the console client
 * library, and through a plain `socat` TCP relay (the "no security"
 * anchor). A third anchor is libsodium's ChaCha20-Poly1305 on one core,
 * the ceiling for any encrypted relay. Nothing is asserted: the numbers
 * are printed for people; `meson test --benchmark` runs it.
 *
 * Usage: bench-console WALLOFF_CONSOLE [SOCAT]
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"

/* Enough to run for a second or more at the rates we expect. */
#define BENCH_BYTES (512ull << 20)
#define BENCH_CHUNK 65536
#define RTT_ROUNDS 5000
#define IDLE_SESSIONS 1000

static char dir[64] = "/tmp/walloff-bench-XXXXXX";
static char vnc_path[128], ser_path[128];

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int readn(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, b + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int writen(int fd, const uint8_t *b, size_t n)
{
	ssize_t r;

	while (n) {
		r = write(fd, b, n);
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* --- fake QEMU ----------------------------------------------------------- */

static void *vnc_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static const uint8_t init[24] = {4,   0, 3,   0, 32,  24, 0, 1, 0,
					 255, 0, 255, 0, 255, 16, 8, 0};
	uint8_t *buf = calloc(1, BENCH_CHUNK), b[16];
	unsigned long long sent = 0;

	if (writen(fd, (const uint8_t *)"RFB 003.008\n", 12) ||
	    readn(fd, b, 12) || writen(fd, (const uint8_t *)"\1\1", 2) ||
	    readn(fd, b, 1) || writen(fd, (const uint8_t *)"\0\0\0\0", 4) ||
	    readn(fd, b, 1) || writen(fd, init, 24) || readn(fd, b, 10))
		goto out;
	while (sent < BENCH_BYTES) {
		if (writen(fd, buf, BENCH_CHUNK))
			break;
		sent += BENCH_CHUNK;
	}
	/* wait for the reader to hang up */
	while (read(fd, b, sizeof(b)) > 0)
		;
out:
	free(buf);
	close(fd);
	return NULL;
}

static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t b[4096];
	ssize_t n;

	while ((n = read(fd, b, sizeof(b))) > 0)
		if (writen(fd, b, (size_t)n))
			break;
	close(fd);
	return NULL;
}

struct srv {
	int lfd;
	void *(*conn)(void *);
};

static void *server(void *arg)
{
	struct srv *s = arg;
	pthread_t t;
	int fd;

	while ((fd = accept(s->lfd, NULL, NULL)) >= 0) {
		pthread_create(&t, NULL, s->conn, (void *)(intptr_t)fd);
		pthread_detach(t);
	}
	return NULL;
}

static void serve_unix(const char *path, void *(*conn)(void *))
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static struct srv s[2];
	static int k;
	pthread_t t;

	s[k].lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (bind(s[k].lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(s[k].lfd, 64)) {
		perror(path);
		exit(1);
	}
	s[k].conn = conn;
	pthread_create(&t, NULL, server, &s[k]);
	pthread_detach(t);
	k++;
}

/* --- helpers ------------------------------------------------------------- */

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	p = ntohs(sa.sin_port);
	close(fd);
	return p;
}

static int tcp(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int i, one = 1;
	struct timespec ts = {0, 20 * 1000 * 1000};

	for (i = 0; i < 250; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			return fd;
		}
		close(fd);
		nanosleep(&ts, NULL);
	}
	return -1;
}

static long rss_kib(pid_t pid)
{
	char p[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	f = fopen(p, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* --- measurements -------------------------------------------------------- */

static double aead_mbs(void)
{
	uint8_t *buf = calloc(1, BENCH_CHUNK + 16), k[32] = {1}, n[12] = {0};
	unsigned long long done = 0, clen;
	double t0 = now_s(), t;

	do {
		crypto_aead_chacha20poly1305_ietf_encrypt(
		    buf, &clen, buf, BENCH_CHUNK, NULL, 0, NULL, n, k);
		n[4]++;
		done += BENCH_CHUNK;
		t = now_s();
	} while (t - t0 < 1.0);
	free(buf);
	return (double)done / (t - t0) / 1e6;
}

static double plain_mbs(int port)
{
	uint8_t *buf = malloc(BENCH_CHUNK), b[32];
	static const uint8_t req[10] = {3, 0, 0, 0, 0, 0, 4, 0, 3, 0};
	unsigned long long got = 0;
	double t0;
	ssize_t n;
	int fd = tcp(port);

	if (fd < 0 || readn(fd, b, 12) ||
	    writen(fd, (const uint8_t *)"RFB 003.008\n", 12) ||
	    readn(fd, b, 2) || writen(fd, (const uint8_t *)"\1", 1) ||
	    readn(fd, b, 4) || writen(fd, (const uint8_t *)"\1", 1) ||
	    readn(fd, b, 24))
		goto fail;
	t0 = now_s();
	writen(fd, req, 10);
	while (got < BENCH_BYTES && (n = read(fd, buf, BENCH_CHUNK)) > 0)
		got += (unsigned long long)n;
	t0 = now_s() - t0;
	close(fd);
	free(buf);
	return (double)got / t0 / 1e6;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return -1;
}

static int screen_read(struct console_client *c, uint8_t *buf, size_t n)
{
	size_t got = 0;
	unsigned ch;
	long r;

	while (got < n) {
		r = console_client_recv(c, &ch, buf + got, 10000, NULL);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static double proxy_mbs(int port, const uint8_t priv[32])
{
	static const uint8_t req[10] = {3, 0, 0, 0, 0, 0, 4, 0, 3, 0};
	uint8_t *buf = malloc(CONSOLE_CLIENT_BUF);
	struct console_info info;
	struct console_client *c;
	unsigned long long got = 0;
	unsigned ch;
	double t0;
	long n;

	c = console_client_connect("127.0.0.1", (unsigned)port, priv, NULL,
				   &info, 5000, NULL);
	if (!c || console_client_open(c, CONSOLE_CH_SCREEN, NULL) ||
	    screen_read(c, buf, 12) ||
	    console_client_send(c, CONSOLE_CH_SCREEN,
				(const uint8_t *)"RFB 003.008\n", 12, NULL) ||
	    screen_read(c, buf, 2) ||
	    console_client_send(c, CONSOLE_CH_SCREEN, (const uint8_t *)"\1", 1,
				NULL) ||
	    screen_read(c, buf, 4) ||
	    console_client_send(c, CONSOLE_CH_SCREEN, (const uint8_t *)"\0", 1,
				NULL) ||
	    screen_read(c, buf, 24))
		goto fail;
	t0 = now_s();
	console_client_send(c, CONSOLE_CH_SCREEN, req, 10, NULL);
	while (got < BENCH_BYTES) {
		n = console_client_recv(c, &ch, buf, 10000, NULL);
		if (n <= 0)
			break;
		got += (unsigned long long)n;
	}
	t0 = now_s() - t0;
	console_client_close(c);
	free(buf);
	return (double)got / t0 / 1e6;
fail:
	console_client_close(c);
	free(buf);
	return -1;
}

static double plain_rtt_us(int port)
{
	uint8_t b[64] = {0};
	double t0;
	int i, fd = tcp(port);

	if (fd < 0)
		return -1;
	t0 = now_s();
	for (i = 0; i < RTT_ROUNDS; i++)
		if (writen(fd, b, 64) || readn(fd, b, 64))
			return -1;
	t0 = now_s() - t0;
	close(fd);
	return t0 / RTT_ROUNDS * 1e6;
}

static double proxy_rtt_us(int port, const uint8_t priv[32])
{
	uint8_t *buf = malloc(CONSOLE_CLIENT_BUF), b[64] = {0};
	struct console_info info;
	struct console_client *c;
	size_t got;
	unsigned ch;
	double t0;
	long n;
	int i;

	c = console_client_connect("127.0.0.1", (unsigned)port, priv, NULL,
				   &info, 5000, NULL);
	if (!c || console_client_open(c, CONSOLE_CH_SERIAL, NULL))
		goto fail;
	t0 = now_s();
	for (i = 0; i < RTT_ROUNDS; i++) {
		if (console_client_send(c, CONSOLE_CH_SERIAL, b, 64, NULL))
			goto fail;
		for (got = 0; got < 64; got += (size_t)n) {
			n = console_client_recv(c, &ch, buf, 5000, NULL);
			if (n <= 0)
				goto fail;
		}
	}
	t0 = now_s() - t0;
	console_client_close(c);
	free(buf);
	return t0 / RTT_ROUNDS * 1e6;
fail:
	console_client_close(c);
	free(buf);
	return -1;
}

static double handshakes_per_s(int port, const uint8_t priv[32])
{
	struct console_info info;
	struct console_client *c;
	double t0 = now_s(), t;
	int n = 0;

	do {
		c = console_client_connect("127.0.0.1", (unsigned)port, priv,
					   NULL, &info, 5000, NULL);
		if (!c)
			return -1;
		console_client_close(c);
		n++;
		t = now_s();
	} while (t - t0 < 2.0);
	return n / (t - t0);
}

/* CPU seconds (user + system) a process has used so far. */
static double cpu_s(pid_t pid)
{
	char p[64], buf[1024], *q;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	f = fopen(p, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	q = strrchr(buf, ')');
	/* fields after the command: state ... utime is the 12th, stime 13th */
	if (q &&
	    sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st) == 2)
		return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	if (!pid) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(nul, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int main(int argc, char *argv[])
{
	char keyp[128], keys[128], state[128], audit[128], lst[32], p1[80],
	    p2[160], p3[80], b64[CONSOLE_B64_LEN], afd[8];
	uint8_t priv[32], pub[32];
	struct console_client **idle;
	struct rlimit rl;
	int port = free_port(), sport = free_port(), eport = free_port(), a, i;
	pid_t con, so1 = -1, so2 = -1;
	const char *socat = argc > 2 ? argv[2] : "/usr/bin/socat";
	double aead, pm, sm, prt, srt, hs, hs_cpu;
	long rss0, rss1;
	FILE *f;

	if (argc < 2 || sodium_init() < 0) {
		fprintf(stderr,
			"usage: bench-console WALLOFF_CONSOLE [SOCAT]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (!mkdtemp(dir))
		return 1;
	snprintf(vnc_path, sizeof(vnc_path), "%s/vnc.sock", dir);
	snprintf(ser_path, sizeof(ser_path), "%s/serial.sock", dir);
	snprintf(keyp, sizeof(keyp), "%s/op.key", dir);
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(audit, sizeof(audit), "%s/audit.jsonl", dir);
	mkdir(state, 0700);
	console_key_generate(keyp, pub, NULL);
	console_key_load(keyp, priv, pub, NULL);
	console_key_b64(b64, pub);
	f = fopen(keys, "w");
	fprintf(f, "operate %s bench\n", b64);
	fclose(f);
	serve_unix(vnc_path, vnc_conn);
	serve_unix(ser_path, echo_conn);

	a = open(audit, O_WRONLY | O_CREAT | O_APPEND, 0600);
	snprintf(afd, sizeof(afd), "%d", a);
	snprintf(lst, sizeof(lst), "127.0.0.1:%d", port);
	{
		char *cargv[] = {
		    argv[1],  "--listen",	  lst,	    "--vnc",
		    vnc_path, "--serial",	  ser_path, "--cell",
		    "bench",  "--keys",		  keys,	    "--state-dir",
		    state,    "--audit-fd",	  afd,	    "--rate",
		    "100000", "--max-handshakes", "10000",  "--max-sessions",
		    "10000",  "--idle-timeout",	  "0",	    NULL};
		con = spawn(cargv);
	}
	snprintf(p1, sizeof(p1), "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork",
		 sport);
	snprintf(p2, sizeof(p2), "UNIX-CONNECT:%s", vnc_path);
	{
		char *sargv[] = {(char *)socat, p1, p2, NULL};

		so1 = spawn(sargv);
	}
	snprintf(p3, sizeof(p3),
		 "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,nodelay", eport);
	snprintf(p2, sizeof(p2), "UNIX-CONNECT:%s", ser_path);
	{
		char *sargv[] = {(char *)socat, p3, p2, NULL};

		so2 = spawn(sargv);
	}
	close(tcp(port)); /* wait until listening (counts as a refusal) */

	aead = aead_mbs();
	sm = plain_mbs(sport);
	pm = proxy_mbs(port, priv);
	srt = plain_rtt_us(eport);
	prt = proxy_rtt_us(port, priv);
	hs_cpu = cpu_s(con);
	hs = handshakes_per_s(port, priv);
	hs_cpu = cpu_s(con) - hs_cpu;

	rss0 = rss_kib(con);
	idle = calloc(IDLE_SESSIONS, sizeof(*idle));
	for (i = 0; i < IDLE_SESSIONS; i++) {
		struct console_info info;

		idle[i] = console_client_connect("127.0.0.1", (unsigned)port,
						 priv, NULL, &info, 5000, NULL);
		if (!idle[i])
			break;
	}
	rss1 = rss_kib(con);

	printf("anchors (same run):\n");
	printf("  libsodium ChaCha20-Poly1305, 1 core   %8.0f MB/s\n", aead);
	printf("  socat relay throughput                %8.0f MB/s\n", sm);
	printf("  socat relay 64-byte round trip        %8.1f us\n", srt);
	printf("walloff-console:\n");
	printf("  throughput (QEMU -> client)           %8.0f MB/s  %.2fx "
	       "socat, %.2fx AEAD\n",
	       pm, pm / sm, pm / aead);
	printf(
	    "  64-byte round trip (serial echo)      %8.1f us    %.2fx socat\n",
	    prt, prt / srt);
	printf("  handshakes per second (1 client)      %8.0f /s\n", hs);
	printf("  handshakes per proxy CPU-second       %8.0f /s  (server cost "
	       "%.0f us each)\n",
	       hs_cpu > 0 ? hs * 2.0 / hs_cpu : 0.0,
	       hs_cpu > 0 ? hs_cpu / (hs * 2.0) * 1e6 : 0.0);
	printf("  RSS with %d idle sessions           %8ld KiB (%ld KiB "
	       "before; %.1f KiB/session)\n",
	       i, rss1, rss0, i ? (double)(rss1 - rss0) / i : 0.0);

	for (i = 0; i < IDLE_SESSIONS && idle[i]; i++)
		console_client_close(idle[i]);
	free(idle);
	kill(con, SIGTERM);
	if (so1 > 0)
		kill(so1, SIGTERM);
	if (so2 > 0)
		kill(so2, SIGTERM);
	waitpid(con, NULL, 0);
	waitpid(so1, NULL, 0);
	waitpid(so2, NULL, 0);
	sodium_memzero(priv, sizeof(priv));
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)!system(cmd);
		return 0;
	}
}
