/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_console.c - walloff-console throughput, latency, handshakes per
 * second and memory, printed as ratios against anchors measured in the
 * same run on this machine
 *
 * A fake QEMU runs in threads of this process: a VNC server (RFB 3.8
 * handshake, then a stream of BENCH_BYTES on the first update request)
 * and a serial port that echoes. The same fake is reached four ways:
 *
 *   walloff   walloff-console (Noise, RFB filter), with the console client
 *             library in this process
 *   socat     a plain TCP relay: the "no security" anchor
 *   ssh -L    sshd on a loopback port (temporary host key, authorized key
 *             and config in the bench's temp dir; the system's sshd and
 *             its config are not touched) and `ssh -N -L` forwarding a
 *             local port to each unix socket, default ciphers
 *   stunnel   one stunnel process: a TLS server service in front of each
 *             unix socket (temporary self-signed certificate from
 *             openssl) and a client service that plain TCP enters
 *
 * A last anchor is libsodium's ChaCha20-Poly1305 on one core, the
 * ceiling for any encrypted relay. An anchor whose program is missing is
 * reported as such and skipped. Nothing is asserted: the numbers are
 * printed for people; `meson test --benchmark` runs it.
 *
 * Usage: bench-console [--handshakes|--data|--rtt] [--one-cpu]
 *                      WALLOFF_CONSOLE [SOCAT]
 * --handshakes: only the handshake loop, for 10 s, no anchors (to profile
 * the server with `perf record -p`); --data: only walloff's throughput
 * and round trip, ROUNDS times, with the proxy's CPU share; --rtt: only the round trip, 20 times. --one-cpu:
 * the bench and everything it starts run on CPU 0 (round trips without
 * cross-CPU wakeups; throughput then shares one core).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
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
#include "noise.h"

/* Enough to run for a second or more at the rates we expect. */
#define BENCH_BYTES (512ull << 20)
#define BENCH_CHUNK 65536
#define RTT_ROUNDS 5000
/*
 * Every throughput and round-trip measurement is repeated this many times,
 * walloff and the anchors taking turns, and the median is printed: the
 * machine's load moves single runs by tens of percent.
 */
#define ROUNDS 5
#define IDLE_SESSIONS 1000
/* Seconds of back-to-back handshakes: in the full run, and with
 * --handshakes (long enough for a profile). */
#define HS_S 2.0
#define HS_PROFILE_S 10.0

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
	const uint8_t *data;
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
	/* the bytes are used where they were decrypted, as walloff connect
	 * does before writing them to the viewer */
	while (got < BENCH_BYTES) {
		n = console_client_recv_ref(c, &ch, &data, 10000, NULL);
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
		/* no timeout, like the anchors' blocking read() */
		for (got = 0; got < 64; got += (size_t)n) {
			n = console_client_recv(c, &ch, buf, -1, NULL);
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

static double handshakes_per_s(int port, const uint8_t priv[32], double secs)
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
	} while (t - t0 < secs);
	return n / (t - t0);
}

/*
 * Median, smallest and largest of ROUNDS measurements; any failed round
 * (negative) makes the median negative, so the result is reported as not
 * available rather than quietly better.
 */
static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double v[ROUNDS])
{
	double t[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++)
		if (v[i] <= 0)
			return -1;
	memcpy(t, v, sizeof(t));
	qsort(t, ROUNDS, sizeof(t[0]), cmp_d);
	return ROUNDS % 2 ? t[ROUNDS / 2]
			  : (t[ROUNDS / 2 - 1] + t[ROUNDS / 2]) / 2;
}

static double lo(const double v[ROUNDS])
{
	double m = v[0];
	int i;

	for (i = 1; i < ROUNDS; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static double hi(const double v[ROUNDS])
{
	double m = v[0];
	int i;

	for (i = 1; i < ROUNDS; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/*
 * The floor under the proxy's cost per handshake: its Noise_XX responder
 * work alone (read message 1, write message 2, read message 3, split), in
 * memory, with the initiator's work outside the clock. One ephemeral key
 * and three X25519 operations are most of it.
 */
static double hs_crypto_us(void)
{
	static const uint8_t pro[] = "bench";
	uint8_t ipriv[32], ipub[32], rpriv[32], rpub[32], m1[128], m2[128],
	    m3[128], pl[64];
	struct noise_handshake i, r, tmpl;
	struct noise_cipher a, b;
	double t = 0, t0;
	long l1, l2, l3;
	int k, n = 2000;

	noise_keypair(ipriv, ipub);
	noise_keypair(rpriv, rpub);
	if (noise_handshake_init(&tmpl, NOISE_XX, false, pro, sizeof(pro),
				 rpriv, NULL))
		return -1;
	for (k = 0; k < n; k++) {
		if (noise_handshake_init(&i, NOISE_XX, true, pro, sizeof(pro),
					 ipriv, NULL))
			return -1;
		l1 = noise_write_message(&i, NULL, 0, m1, sizeof(m1), NULL);
		t0 = now_s();
		r = tmpl;
		if (noise_read_message(&r, m1, (size_t)l1, pl, sizeof(pl),
				       NULL) < 0)
			return -1;
		l2 = noise_write_message(&r, NULL, 0, m2, sizeof(m2), NULL);
		t += now_s() - t0;
		if (noise_read_message(&i, m2, (size_t)l2, pl, sizeof(pl),
				       NULL) < 0)
			return -1;
		l3 = noise_write_message(&i, NULL, 0, m3, sizeof(m3), NULL);
		t0 = now_s();
		if (noise_read_message(&r, m3, (size_t)l3, pl, sizeof(pl),
				       NULL) < 0 ||
		    noise_split(&r, &a, &b, NULL))
			return -1;
		t += now_s() - t0;
		noise_handshake_wipe(&i);
		noise_handshake_wipe(&r);
	}
	sodium_memzero(ipriv, sizeof(ipriv));
	sodium_memzero(rpriv, sizeof(rpriv));
	return t / n * 1e6;
}

/*
 * The same with HS_CLIENTS clients at once, so the proxy always has a
 * handshake to work on: its capacity rather than one client's latency
 * (which includes a sleep and a wakeup of the proxy per message).
 */
#define HS_CLIENTS 4

struct hs_worker {
	int port;
	const uint8_t *priv;
	double until;
	int n, failed;
};

static void *hs_worker(void *arg)
{
	struct hs_worker *w = arg;
	struct console_info info;
	struct console_client *c;

	while (now_s() < w->until) {
		c = console_client_connect("127.0.0.1", (unsigned)w->port,
					   w->priv, NULL, &info, 5000, NULL);
		if (!c) {
			w->failed++;
			break;
		}
		console_client_close(c);
		w->n++;
	}
	return NULL;
}

static double handshakes_parallel(int port, const uint8_t priv[32],
				  double secs)
{
	struct hs_worker w[HS_CLIENTS];
	pthread_t t[HS_CLIENTS];
	double t0 = now_s();
	int i, n = 0;

	for (i = 0; i < HS_CLIENTS; i++) {
		w[i] = (struct hs_worker){port, priv, t0 + secs, 0, 0};
		pthread_create(&t[i], NULL, hs_worker, &w[i]);
	}
	for (i = 0; i < HS_CLIENTS; i++) {
		pthread_join(t[i], NULL);
		if (w[i].failed)
			return -1;
		n += w[i].n;
	}
	return n / (now_s() - t0);
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

/* Runs @argv with stdout (and stderr if @quiet) on /dev/null. */
static pid_t spawn_q(char *const argv[], bool quiet)
{
	pid_t pid = fork();

	if (!pid) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(nul, 1);
		if (quiet)
			dup2(nul, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static pid_t spawn(char *const argv[])
{
	return spawn_q(argv, true);
}

/* Runs a setup tool (ssh-keygen, openssl) to completion. */
static int run(char *const argv[])
{
	pid_t pid = spawn(argv);
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/*
 * An anchor: a relay in front of the fake QEMU's VNC socket (@tput_port)
 * and serial echo socket (@rtt_port), measured like walloff-console.
 */
struct anchor {
	const char *name;
	pid_t pid[2];
	int tput_port, rtt_port;
	double mbs, rtt_us;
};

static int start_socat(struct anchor *a, const char *socat)
{
	char l1[80], l2[80], c1[160], c2[160];

	a->tput_port = free_port();
	a->rtt_port = free_port();
	snprintf(l1, sizeof(l1), "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork",
		 a->tput_port);
	snprintf(c1, sizeof(c1), "UNIX-CONNECT:%s", vnc_path);
	snprintf(l2, sizeof(l2),
		 "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,nodelay",
		 a->rtt_port);
	snprintf(c2, sizeof(c2), "UNIX-CONNECT:%s", ser_path);
	{
		char *v1[] = {(char *)socat, l1, c1, NULL};
		char *v2[] = {(char *)socat, l2, c2, NULL};

		a->pid[0] = spawn(v1);
		a->pid[1] = spawn(v2);
	}
	return 0;
}

/*
 * sshd in the foreground on a loopback port, everything it reads in our
 * temp dir, then ssh -N -L forwarding two local ports to the sockets.
 */
static int start_ssh(struct anchor *a)
{
	char hk[160], id[160], pub[170], ak[160], cfg[160], port[16], dest[32],
	    f1[192], f2[192], line[512];
	int sport = free_port();
	FILE *in, *out;

	if (access("/usr/sbin/sshd", X_OK) || access("/usr/bin/ssh", X_OK) ||
	    access("/usr/bin/ssh-keygen", X_OK))
		return -1;
	snprintf(hk, sizeof(hk), "%s/ssh_host_key", dir);
	snprintf(id, sizeof(id), "%s/id", dir);
	snprintf(pub, sizeof(pub), "%s/id.pub", dir);
	snprintf(ak, sizeof(ak), "%s/authorized_keys", dir);
	snprintf(cfg, sizeof(cfg), "%s/sshd_config", dir);
	{
		char *g1[] = {"/usr/bin/ssh-keygen",
			      "-q",
			      "-t",
			      "ed25519",
			      "-N",
			      "",
			      "-f",
			      hk,
			      NULL};
		char *g2[] = {"/usr/bin/ssh-keygen",
			      "-q",
			      "-t",
			      "ed25519",
			      "-N",
			      "",
			      "-f",
			      id,
			      NULL};

		if (run(g1) || run(g2))
			return -1;
	}
	in = fopen(pub, "r");
	out = fopen(ak, "w");
	if (in && out && fgets(line, sizeof(line), in))
		fputs(line, out);
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	out = fopen(cfg, "w");
	if (!out)
		return -1;
	fprintf(out,
		"ListenAddress 127.0.0.1:%d\nHostKey %s\n"
		"AuthorizedKeysFile %s\nPidFile none\nUsePAM no\n"
		"StrictModes no\nPermitRootLogin prohibit-password\n"
		"PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
		"AllowTcpForwarding yes\nAllowStreamLocalForwarding yes\n"
		"MaxStartups 100\n",
		sport, hk, ak);
	fclose(out);
	/* sshd refuses to start without its privilege separation dir */
	mkdir("/run/sshd", 0755);
	{
		char *v[] = {"/usr/sbin/sshd", "-D", "-e", "-f", cfg, NULL};

		a->pid[0] = spawn(v);
	}
	a->tput_port = free_port();
	a->rtt_port = free_port();
	snprintf(port, sizeof(port), "%d", sport);
	snprintf(dest, sizeof(dest), "%s@127.0.0.1",
		 getenv("USER") ? getenv("USER") : "root");
	snprintf(f1, sizeof(f1), "127.0.0.1:%d:%s", a->tput_port, vnc_path);
	snprintf(f2, sizeof(f2), "127.0.0.1:%d:%s", a->rtt_port, ser_path);
	/* sshd needs a moment to listen: tcp() retries until it does */
	close(tcp(sport));
	{
		char *v[] = {"/usr/bin/ssh", "-N",
			     "-F",	     "/dev/null",
			     "-i",	     id,
			     "-p",	     port,
			     "-o",	     "BatchMode=yes",
			     "-o",	     "StrictHostKeyChecking=no",
			     "-o",	     "UserKnownHostsFile=/dev/null",
			     "-o",	     "ExitOnForwardFailure=yes",
			     "-L",	     f1,
			     "-L",	     f2,
			     dest,	     NULL};

		a->pid[1] = spawn(v);
	}
	return 0;
}

/*
 * One stunnel: services "vnc" and "ser" are TLS servers in front of the
 * unix sockets; "cvnc" and "cser" are clients that plain TCP enters.
 */
static int start_stunnel(struct anchor *a)
{
	char key[160], crt[160], cfg[160];
	int s1 = free_port(), s2 = free_port();
	FILE *out;

	if (access("/usr/bin/stunnel4", X_OK) ||
	    access("/usr/bin/openssl", X_OK))
		return -1;
	snprintf(key, sizeof(key), "%s/tls.key", dir);
	snprintf(crt, sizeof(crt), "%s/tls.crt", dir);
	snprintf(cfg, sizeof(cfg), "%s/stunnel.conf", dir);
	{
		char *v[] = {"/usr/bin/openssl",
			     "req",
			     "-x509",
			     "-newkey",
			     "ec",
			     "-pkeyopt",
			     "ec_paramgen_curve:prime256v1",
			     "-nodes",
			     "-subj",
			     "/CN=walloff-bench",
			     "-days",
			     "1",
			     "-keyout",
			     key,
			     "-out",
			     crt,
			     NULL};

		if (run(v))
			return -1;
	}
	a->tput_port = free_port();
	a->rtt_port = free_port();
	out = fopen(cfg, "w");
	if (!out)
		return -1;
	fprintf(out,
		"foreground = yes\npid =\ndebug = 3\n"
		"socket = l:TCP_NODELAY=1\nsocket = r:TCP_NODELAY=1\n"
		"[vnc]\naccept = 127.0.0.1:%d\nconnect = %s\n"
		"cert = %s\nkey = %s\n"
		"[ser]\naccept = 127.0.0.1:%d\nconnect = %s\n"
		"cert = %s\nkey = %s\n"
		"[cvnc]\nclient = yes\naccept = 127.0.0.1:%d\n"
		"connect = 127.0.0.1:%d\n"
		"[cser]\nclient = yes\naccept = 127.0.0.1:%d\n"
		"connect = 127.0.0.1:%d\n",
		s1, vnc_path, crt, key, s2, ser_path, crt, key, a->tput_port,
		s1, a->rtt_port, s2);
	fclose(out);
	{
		char *v[] = {"/usr/bin/stunnel4", cfg, NULL};

		a->pid[0] = spawn(v);
	}
	a->pid[1] = -1;
	return 0;
}

int main(int argc, char *argv[])
{
	char keyp[128], keys[128], state[128], audit[128], lst[32],
	    b64[CONSOLE_B64_LEN], afd[8];
	uint8_t priv[32], pub[32];
	struct console_client **idle;
	struct rlimit rl;
	int port = free_port(), a, i, k;
	pid_t con;
	const char *socat;
	struct anchor anchors[] = {
	    {.name = "socat relay"},
	    {.name = "ssh -L"},
	    {.name = "stunnel"},
	};
	int (*start[])(struct anchor *) = {NULL, start_ssh, start_stunnel};
	bool up[3];
	double aead, pm, prt, hs, hs_cpu, hsp, hsp_cpu, hsc;
	double am[3][ROUNDS], ar[3][ROUNDS], wm[ROUNDS], wr[ROUNDS],
	    qm[3][ROUNDS], qr[3][ROUNDS];
	int r;
	long rss0, rss1;
	bool hs_only = argc > 1 && !strcmp(argv[1], "--handshakes");
	bool data_only = argc > 1 && !strcmp(argv[1], "--data");
	bool rtt_only = argc > 1 && !strcmp(argv[1], "--rtt");
	bool one_cpu = false;
	FILE *f;

	if (hs_only || data_only || rtt_only) {
		argc--;
		argv++;
	}
	if (argc > 1 && !strcmp(argv[1], "--one-cpu")) {
		/*
		 * Everything this bench starts inherits the mask: the proxy,
		 * the anchors, our threads. Wakeups then never cross CPUs,
		 * which on this VM cost more than the relays' own work.
		 */
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("sched_setaffinity");
			return 1;
		}
		one_cpu = true;
		argc--;
		argv++;
	}
	socat = argc > 2 ? argv[2] : "/usr/bin/socat";
	if (argc < 2 || sodium_init() < 0) {
		fprintf(stderr, "usage: bench-console [--handshakes|--data|"
				"--rtt] [--one-cpu] WALLOFF_CONSOLE [SOCAT]\n");
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
		con = spawn_q(cargv, false);
	}
	close(tcp(port)); /* wait until listening (counts as a refusal) */
	if (hs_only) {
		hs_cpu = cpu_s(con);
		hs = handshakes_per_s(port, priv, HS_PROFILE_S / 2);
		hs_cpu = cpu_s(con) - hs_cpu;
		printf("handshakes, 1 client: %.0f /s; per proxy CPU-second "
		       "%.0f /s\n",
		       hs, hs_cpu > 0 ? hs * HS_PROFILE_S / 2 / hs_cpu : 0.0);
		hs_cpu = cpu_s(con);
		hs = handshakes_parallel(port, priv, HS_PROFILE_S / 2);
		hs_cpu = cpu_s(con) - hs_cpu;
		printf("handshakes, %d clients: %.0f /s; per proxy CPU-second "
		       "%.0f /s\n",
		       HS_CLIENTS, hs,
		       hs_cpu > 0 ? hs * HS_PROFILE_S / 2 / hs_cpu : 0.0);
		stop(con);
		goto out;
	}
	if (rtt_only) {
		for (r = 0; r < 4 * ROUNDS; r++) {
			hs_cpu = cpu_s(con);
			prt = proxy_rtt_us(port, priv);
			hs_cpu = cpu_s(con) - hs_cpu;
			printf("64-byte round trip %.1f us (proxy CPU %.1f us "
			       "each)\n",
			       prt, hs_cpu / RTT_ROUNDS * 1e6);
		}
		stop(con);
		goto out;
	}
	if (data_only) {
		for (r = 0; r < ROUNDS; r++) {
			hs_cpu = cpu_s(con);
			pm = proxy_mbs(port, priv);
			hs_cpu = cpu_s(con) - hs_cpu;
			prt = proxy_rtt_us(port, priv);
			printf("throughput %.0f MB/s (proxy CPU %.0f%% of the "
			       "transfer), 64-byte round trip %.1f us\n",
			       pm, pm > 0 ? hs_cpu / (BENCH_BYTES / pm / 1e6) * 100
					  : 0.0,
			       prt);
		}
		stop(con);
		goto out;
	}
	up[0] = !start_socat(&anchors[0], socat);
	for (k = 1; k < 3; k++)
		up[k] = !start[k](&anchors[k]);

	aead = aead_mbs();
	hsc = hs_crypto_us();
	for (r = 0; r < ROUNDS; r++) {
		for (k = 0; k < 3; k++) {
			am[k][r] =
			    up[k] ? plain_mbs(anchors[k].tput_port) : -1;
			ar[k][r] =
			    up[k] ? plain_rtt_us(anchors[k].rtt_port) : -1;
		}
		wm[r] = proxy_mbs(port, priv);
		wr[r] = proxy_rtt_us(port, priv);
		for (k = 0; k < 3; k++) {
			qm[k][r] = wm[r] / am[k][r];
			qr[k][r] = wr[r] / ar[k][r];
		}
	}
	for (k = 0; k < 3; k++) {
		anchors[k].mbs = median(am[k]);
		anchors[k].rtt_us = median(ar[k]);
	}
	pm = median(wm);
	prt = median(wr);
	hs_cpu = cpu_s(con);
	hs = handshakes_per_s(port, priv, HS_S);
	hs_cpu = cpu_s(con) - hs_cpu;
	hsp_cpu = cpu_s(con);
	hsp = handshakes_parallel(port, priv, HS_S);
	hsp_cpu = cpu_s(con) - hsp_cpu;

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

	printf("anchors (same run, loopback):\n");
	printf("  libsodium ChaCha20-Poly1305, 1 core   %8.0f MB/s\n", aead);
	printf("  Noise_XX responder crypto alone       %8.1f us per handshake "
	       "(at most %.0f /s per CPU-second)\n",
	       hsc, hsc > 0 ? 1e6 / hsc : 0.0);
	printf("(medians of %d rounds, min-max in brackets%s)\n", ROUNDS,
	       one_cpu ? "; every process on CPU 0" : "");
	for (k = 0; k < 3; k++) {
		if (anchors[k].mbs <= 0 || anchors[k].rtt_us <= 0)
			printf(
			    "  %-12s                          not available\n",
			    anchors[k].name);
		else
			printf("  %-12s throughput %8.0f MB/s [%.0f-%.0f], "
			       "64-byte round trip %6.1f us [%.1f-%.1f]\n",
			       anchors[k].name, anchors[k].mbs, lo(am[k]),
			       hi(am[k]), anchors[k].rtt_us, lo(ar[k]),
			       hi(ar[k]));
	}
	printf("walloff-console:\n");
	printf("  throughput (QEMU -> client)           %8.0f MB/s [%.0f-%.0f] "
	       " %.2fx AEAD\n",
	       pm, lo(wm), hi(wm), pm / aead);
	printf("  64-byte round trip (serial echo)      %8.1f us [%.1f-%.1f]\n",
	       prt, lo(wr), hi(wr));
	printf("  ratios, median of the rounds' own ratios:\n");
	for (k = 0; k < 3; k++)
		if (anchors[k].mbs > 0 && anchors[k].rtt_us > 0)
			printf("  walloff/%-12s throughput %.2fx [%.2f-%.2f], "
			       "round trip %.2fx [%.2f-%.2f] (lower is "
			       "faster)\n",
			       anchors[k].name, median(qm[k]), lo(qm[k]),
			       hi(qm[k]), median(qr[k]), lo(qr[k]), hi(qr[k]));
	printf("  handshakes per second (1 client)      %8.0f /s; per proxy "
	       "CPU-second %.0f /s (server cost %.0f us each)\n",
	       hs, hs_cpu > 0 ? hs * HS_S / hs_cpu : 0.0,
	       hs_cpu > 0 ? hs_cpu / (hs * HS_S) * 1e6 : 0.0);
	printf("  handshakes per second (%d clients)     %8.0f /s; per proxy "
	       "CPU-second %.0f /s (server cost %.0f us each)\n",
	       HS_CLIENTS, hsp, hsp_cpu > 0 ? hsp * HS_S / hsp_cpu : 0.0,
	       hsp_cpu > 0 ? hsp_cpu / (hsp * HS_S) * 1e6 : 0.0);
	printf("  RSS with %d idle sessions           %8ld KiB (%ld KiB "
	       "before; %.1f KiB/session)\n",
	       i, rss1, rss0, i ? (double)(rss1 - rss0) / i : 0.0);

	for (i = 0; i < IDLE_SESSIONS && idle[i]; i++)
		console_client_close(idle[i]);
	free(idle);
	stop(con);
	for (k = 0; k < 3; k++) {
		stop(anchors[k].pid[1]);
		stop(anchors[k].pid[0]);
	}
out:
	sodium_memzero(priv, sizeof(priv));
	{
		char *v[] = {"/bin/rm", "-rf", dir, NULL};

		(void)run(v);
		return 0;
	}
}
