/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_connect.c - `walloff connect HOST:PORT --key FILE`: reach a cell's
 * console through walloff-console
 *
 * Server identity: --server-key B64 pins the key outright; otherwise the
 * known-cells file ($XDG_CONFIG_HOME/walloff/known-cells, lines
 * "HOST:PORT BASE64KEY") is consulted. An unknown cell is trusted on
 * first use: its fingerprint is printed and recorded. A cell whose key
 * changed is refused, loudly, and nothing of ours is revealed to it (the
 * client checks the key before sending its own identity).
 *
 * Modes: by default, listen on 127.0.0.1:--port (5900) for one VNC viewer
 * at a time and relay it through the screen channel; --serial attaches
 * this terminal to the serial channel (Ctrl-] detaches); --screenshot
 * FILE.png saves one frame and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "cmds.h"
#include "path.h"

#define CONNECT_TIMEOUT_MS 10000
#define SCREENSHOT_TIMEOUT_MS 20000
#define DETACH_KEY 0x1d /* Ctrl-] */
/* known-cells lines: "host:port base64" */
#define KNOWN_LINE_MAX 512

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: walloff connect HOST:PORT --key FILE [--server-key B64]\n"
	    "         [--known-cells FILE] [--port N] [--serial]\n"
	    "         [--screenshot FILE.png]\n"
	    "Opens an encrypted session to a cell's console. By default a VNC\n"
	    "viewer can then connect to 127.0.0.1:PORT (5900).\n");
}

static int known_path(char *out, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && *xdg == '/')
		n = snprintf(out, len, "%s/walloff/known-cells", xdg);
	else if (home && *home == '/')
		n = snprintf(out, len, "%s/.config/walloff/known-cells", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* 1: found (key in @pub), 0: not found, -errno: unreadable/bad file */
static int known_lookup(const char *file, const char *target, uint8_t pub[32])
{
	char line[KNOWN_LINE_MAX], *sp;
	unsigned lineno = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		if (strcmp(line, target))
			continue;
		fclose(f);
		if (console_key_from_b64(pub, sp + 1)) {
			fprintf(stderr, "walloff connect: %s:%u: bad key\n",
				file, lineno);
			return -EINVAL;
		}
		return 1;
	}
	fclose(f);
	return 0;
}

static int known_add(const char *file, const char *target,
		     const uint8_t pub[32])
{
	char dir[PATH_MAX], b64[CONSOLE_B64_LEN];
	struct err e = {0};
	FILE *f;
	int fd;

	if (!path_dirname(file, dir, sizeof(dir)))
		path_mkdir_private(dir, &e);
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	console_key_b64(b64, pub);
	fprintf(f, "%s %s\n", target, b64);
	return fclose(f) ? -errno : 0;
}

static int split_target(const char *t, char *host, size_t hl, unsigned *port)
{
	const char *c;
	char *end;
	unsigned long p;
	size_t n;

	if (t[0] == '[') {
		c = strstr(t, "]:");
		if (!c)
			return -EINVAL;
		n = (size_t)(c - t - 1);
		t++;
		c++;
	} else {
		c = strrchr(t, ':');
		if (!c)
			return -EINVAL;
		n = (size_t)(c - t);
	}
	if (!n || n >= hl)
		return -EINVAL;
	memcpy(host, t, n);
	host[n] = '\0';
	p = strtoul(c + 1, &end, 10);
	if (*end || !c[1] || !p || p > 65535)
		return -EINVAL;
	*port = (unsigned)p;
	return 0;
}

/* Relay one VNC viewer through the screen channel until either side ends. */
static int relay_viewer(struct console_client *c, int vfd)
{
	uint8_t *buf = malloc(CONSOLE_CLIENT_BUF);
	struct pollfd p[2] = {{.fd = vfd, .events = POLLIN},
			      {.fd = console_client_fd(c), .events = POLLIN}};
	struct err e = {0};
	const uint8_t *data;
	unsigned ch;
	ssize_t n;
	long r;
	int rc = 0;

	if (!buf || console_client_open(c, CONSOLE_CH_SCREEN, &e)) {
		free(buf);
		return -EIO;
	}
	for (;;) {
		if (!console_client_pending(c) && poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents) {
			n = read(vfd, buf, CONSOLE_CLIENT_BUF);
			if (n <= 0)
				break;
			if (console_client_send(c, CONSOLE_CH_SCREEN, buf,
						(size_t)n, &e)) {
				rc = -EIO;
				break;
			}
		}
		if (p[1].revents || console_client_pending(c)) {
			/* straight from the client's buffer to the viewer */
			r = console_client_recv_ref(c, &ch, &data, 0, &e);
			if (r < 0) {
				fprintf(stderr, "walloff connect: %s\n", e.msg);
				rc = r == -EPIPE ? 0 : -EIO;
				break;
			}
			if (r > 0 && ch == CONSOLE_CH_SCREEN) {
				size_t off = 0;

				while (off < (size_t)r) {
					n = write(vfd, data + off,
						  (size_t)r - off);
					if (n <= 0)
						goto out;
					off += (size_t)n;
				}
			}
		}
		p[0].revents = p[1].revents = 0;
	}
out:
	if (!rc)
		console_client_close_channel(c, CONSOLE_CH_SCREEN, &e);
	free(buf);
	return rc;
}

static int serve_viewers(struct console_client *c, unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int lfd, vfd, one = 1, r;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1)) {
		fprintf(stderr, "walloff connect: 127.0.0.1:%u: %s\n", port,
			strerror(errno));
		close(lfd);
		return -errno;
	}
	fprintf(stderr, "walloff connect: point a VNC viewer at 127.0.0.1:%u\n",
		port);
	for (;;) {
		struct pollfd p[2] = {
		    {.fd = lfd, .events = POLLIN},
		    {.fd = console_client_fd(c), .events = POLLIN}};
		uint8_t *junk;
		struct err e = {0};
		unsigned ch;
		long n;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents) {
			/* no viewer: only a close (or stray data) can come */
			junk = malloc(CONSOLE_CLIENT_BUF);
			n = junk ? console_client_recv(c, &ch, junk, 0, &e)
				 : -ENOMEM;
			free(junk);
			if (n < 0 && n != -EPIPE) {
				fprintf(stderr, "walloff connect: %s\n", e.msg);
				r = (int)n;
				break;
			}
			continue;
		}
		vfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (vfd < 0)
			continue;
		r = relay_viewer(c, vfd);
		close(vfd);
		if (r)
			break;
		fprintf(stderr,
			"walloff connect: viewer left; waiting for the next\n");
	}
	close(lfd);
	return r;
}

static int serial_terminal(struct console_client *c)
{
	uint8_t *buf = malloc(CONSOLE_CLIENT_BUF);
	struct pollfd p[2] = {{.fd = 0, .events = POLLIN},
			      {.fd = console_client_fd(c), .events = POLLIN}};
	struct termios old, raw;
	bool tty = isatty(0);
	struct err e = {0};
	unsigned ch;
	ssize_t n, i;
	long r;
	int rc = 0;

	if (!buf || console_client_open(c, CONSOLE_CH_SERIAL, &e)) {
		free(buf);
		return -EIO;
	}
	if (tty) {
		tcgetattr(0, &old);
		raw = old;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		fprintf(stderr,
			"walloff connect: serial console; Ctrl-] detaches\r\n");
	}
	for (;;) {
		if (!console_client_pending(c) && poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents) {
			n = read(0, buf, 4096);
			if (n <= 0)
				break;
			for (i = 0; i < n; i++)
				if (tty && buf[i] == DETACH_KEY)
					goto out;
			if (console_client_send(c, CONSOLE_CH_SERIAL, buf,
						(size_t)n, &e)) {
				rc = -EIO;
				break;
			}
		}
		if (p[1].revents || console_client_pending(c)) {
			r = console_client_recv(c, &ch, buf, 0, &e);
			if (r < 0) {
				rc = -EIO;
				break;
			}
			if (r > 0 && ch == CONSOLE_CH_SERIAL &&
			    write(1, buf, (size_t)r) != r)
				break;
		}
		p[0].revents = p[1].revents = 0;
	}
out:
	if (tty)
		tcsetattr(0, TCSANOW, &old);
	if (rc)
		fprintf(stderr, "walloff connect: %s\n", e.msg);
	free(buf);
	return rc;
}

int cmd_connect(int argc, char *argv[])
{
	const char *target = NULL, *keyfile = NULL, *server_key = NULL;
	const char *known = NULL, *shot = NULL;
	char host[256], kpath[PATH_MAX], fpr[CONSOLE_FPR_LEN];
	uint8_t priv[CONSOLE_KEY_LEN], pub[CONSOLE_KEY_LEN],
	    pin[CONSOLE_KEY_LEN];
	bool serial = false, have_pin = false;
	unsigned port, lport = 5900, w, h;
	struct console_client *c;
	struct console_info info;
	struct err e = {0};
	int i, r, rc = 1;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		/* the analyzer takes argv[i] below argc for possibly NULL */
		/* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "--serial")) {
			serial = true;
		} else if (!strcmp(o, "--key") && v) {
			keyfile = argv[++i];
		} else if (!strcmp(o, "--server-key") && v) {
			server_key = argv[++i];
		} else if (!strcmp(o, "--known-cells") && v) {
			known = argv[++i];
		} else if (!strcmp(o, "--screenshot") && v) {
			shot = argv[++i];
		} else if (!strcmp(o, "--port") && v) {
			char *end;
			unsigned long p = strtoul(argv[++i], &end, 10);

			if (*end || !p || p > 65535) {
				fprintf(stderr,
					"walloff connect: bad --port\n");
				return 2;
			}
			lport = (unsigned)p;
		} else if (o[0] != '-' && !target) {
			target = o;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!target || !keyfile || (serial && shot)) {
		usage(stderr);
		return 2;
	}
	if (split_target(target, host, sizeof(host), &port)) {
		fprintf(stderr, "walloff connect: want HOST:PORT, got '%s'\n",
			target);
		return 2;
	}
	if (server_key) {
		if (console_key_from_b64(pin, server_key)) {
			fprintf(stderr, "walloff connect: --server-key is not "
					"a base64 public key\n");
			return 2;
		}
		have_pin = true;
	} else {
		if (!known) {
			if (known_path(kpath, sizeof(kpath))) {
				fprintf(stderr,
					"walloff connect: no HOME; use "
					"--known-cells or --server-key\n");
				return 2;
			}
			known = kpath;
		}
		r = known_lookup(known, target, pin);
		if (r < 0) {
			fprintf(stderr, "walloff connect: %s: %s\n", known,
				strerror(-r));
			return 1;
		}
		have_pin = r == 1;
	}
	if (console_key_load(keyfile, priv, pub, &e)) {
		fprintf(stderr, "walloff connect: %s\n", e.msg);
		return 1;
	}
	c = console_client_connect(host, port, priv, have_pin ? pin : NULL,
				   &info, CONNECT_TIMEOUT_MS, &e);
	sodium_memzero(priv, sizeof(priv));
	if (!c) {
		if (e.code == EKEYREJECTED)
			fprintf(stderr,
				"walloff connect: @@@ WARNING: %s @@@\n"
				"walloff connect: if the change is expected, "
				"remove %s from %s\n",
				e.msg, target,
				server_key ? "--server-key" : known);
		else
			fprintf(stderr, "walloff connect: %s\n", e.msg);
		return 1;
	}
	console_fingerprint(fpr, info.server_pub);
	if (!have_pin) {
		r = known_add(known, target, info.server_pub);
		fprintf(stderr,
			"walloff connect: first connection to %s; server key "
			"%s%s%s\n",
			target, fpr,
			r ? " (could not record it: " : " recorded in ",
			r ? strerror(-r) : known);
		if (r)
			fprintf(stderr, ")\n");
	}
	fprintf(stderr, "walloff connect: cell %s, role %s\n", info.cell,
		info.role);
	/* validated by the client library: printable UTF-8, one line */
	for (i = 0; i < (int)info.n_notices; i++)
		fprintf(stderr, "walloff connect: NOTICE from the cell: %s\n",
			info.notices[i]);
	if (shot) {
		if (console_client_screenshot(c, shot, SCREENSHOT_TIMEOUT_MS,
					      &w, &h, &e))
			fprintf(stderr, "walloff connect: %s\n", e.msg);
		else {
			printf("%s: %ux%u\n", shot, w, h);
			rc = 0;
		}
	} else if (serial) {
		rc = serial_terminal(c) ? 1 : 0;
	} else {
		rc = serve_viewers(c, lport) ? 1 : 0;
	}
	console_client_close(c);
	return rc;
}
