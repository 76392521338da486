/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_stop.c - `walloff stop [--timeout S] CELL`
 *
 * Sends SIGTERM to the cell's supervisor (which presses the guest's ACPI
 * power button and, after the profile's shutdown-timeout, quits QEMU) and
 * waits for the supervisor to exit, with a pidfd so there is no polling.
 * The pid comes from status.json in the cell's 0700 run folder and is only
 * trusted while the cell's lock is held, so a stale file cannot make us
 * signal an unrelated process.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cell.h"
#include "cmds.h"
#include "profile.h"

int cmd_stop(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int timeout_s = 120, c, pidfd, r;
	struct pollfd pfd;
	struct cell cell;
	struct err e;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v <= 0 || v > 86400) {
				fprintf(stderr, "walloff stop: bad --timeout\n");
				return 2;
			}
			timeout_s = (int)v;
			break;
		}
		case 'h':
			printf("usage: walloff stop [--timeout SECONDS] CELL\n"
			       "Powers the cell down (ACPI power button, then quit after the\n"
			       "profile's shutdown-timeout) and waits for it to stop.\n"
			       "Exit: 0 stopped, 1 not running or error, 2 usage, 6 still\n"
			       "running after --timeout (default 120).\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || !profile_name_valid(argv[optind])) {
		fprintf(stderr, "usage: walloff stop [--timeout SECONDS] CELL\n");
		return 2;
	}
	if (cell_init(&cell, argv[optind], &e)) {
		fprintf(stderr, "walloff stop: %s\n", e.msg);
		return 1;
	}
	if (!cell_running(&cell, &pid) || pid <= 0) {
		fprintf(stderr, "walloff stop: cell %s is not running\n", cell.name);
		return 1;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		fprintf(stderr, "walloff stop: pid %d: %s\n", (int)pid,
			strerror(errno));
		return 1;
	}
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0)) {
		fprintf(stderr, "walloff stop: signalling pid %d: %s\n", (int)pid,
			strerror(errno));
		close(pidfd);
		return 1;
	}
	fprintf(stderr, "walloff stop: power button pressed on %s, waiting...\n",
		cell.name);
	pfd.fd = pidfd;
	pfd.events = POLLIN;
	do
		r = poll(&pfd, 1, timeout_s * 1000);
	while (r < 0 && errno == EINTR);
	close(pidfd);
	if (r == 0) {
		fprintf(stderr, "walloff stop: %s still running after %ds\n",
			cell.name, timeout_s);
		return 6;
	}
	printf("%s stopped\n", cell.name);
	return 0;
}
