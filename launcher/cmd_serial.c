/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_serial.c - `walloff serial CELL`: the guest's COM1 on this terminal
 *
 * Local and owner-only by construction: the serial socket lives in the
 * cell's 0700 run folder, so only the cell's owner (or root) can reach it.
 * The terminal is put in raw mode; Ctrl-] detaches (like telnet). Bytes are
 * relayed as they are: the guest's output goes to a terminal, which is the
 * same trust a local console gives it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cell.h"
#include "cmds.h"
#include "profile.h"

#define DETACH_KEY 0x1d	/* Ctrl-] */

int cmd_serial(int argc, char *argv[])
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct termios old, raw;
	bool tty = isatty(0);
	char path[PATH_MAX];
	struct pollfd pfd[2];
	struct cell c;
	struct err e;
	int fd, ret = 0;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: walloff serial CELL\n"
		       "Attaches this terminal to the cell's serial port (COM1).\n"
		       "Ctrl-] detaches.\n");
		return 0;
	}
	if (argc != 2 || !profile_name_valid(argv[1])) {
		fprintf(stderr, "usage: walloff serial CELL\n");
		return 2;
	}
	if (cell_init(&c, argv[1], &e)) {
		fprintf(stderr, "walloff serial: %s\n", e.msg);
		return 1;
	}
	if (!cell_running(&c, NULL)) {
		fprintf(stderr, "walloff serial: cell %s is not running\n", c.name);
		return 1;
	}
	cell_path(&c, CELL_SOCK, "serial.sock", path);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "walloff serial: %s: path too long\n", path);
		return 1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "walloff serial: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (tty) {
		fprintf(stderr, "walloff: attached to %s serial port; Ctrl-] detaches\r\n",
			c.name);
		tcgetattr(0, &old);
		raw = old;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
	}
	pfd[0] = (struct pollfd){ .fd = 0, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (;;) {
		char buf[4096];
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = 1;
			break;
		}
		if (pfd[1].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (write(1, buf, (size_t)n) != n) {
				ret = 1;
				break;
			}
		}
		if (pfd[0].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				pfd[0].fd = -1;	/* stdin closed: keep reading */
				continue;
			}
			if (tty && memchr(buf, DETACH_KEY, (size_t)n))
				break;
			if (write(fd, buf, (size_t)n) != n) {
				ret = 1;
				break;
			}
		}
	}
	if (tty) {
		tcsetattr(0, TCSANOW, &old);
		fprintf(stderr, "\nwalloff: detached\n");
	}
	close(fd);
	return ret;
}
