/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdnotify.h - tell systemd that a Type=notify service is ready or stopping
 *
 * The sd_notify(3) datagram protocol without libsystemd: NOTIFY_SOCKET names
 * a unix datagram socket ("/path" or "@abstract"); each message is one
 * datagram of newline-separated VAR=value lines ("READY=1\nSTATUS=...").
 */
#ifndef WALLOFF_SDNOTIFY_H
#define WALLOFF_SDNOTIFY_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "err.h"

/* One notification: a few short VAR=value lines (READY, STATUS, STOPPING). */
#define SDNOTIFY_MSG_MAX 1024

struct sdnotify {
	int fd;				/* -1: not under a service manager */
	struct sockaddr_un addr;
	socklen_t addr_len;
};

/**
 * sdnotify_parse() - turn a NOTIFY_SOCKET value into a socket address
 * @value:	"/absolute/path" or "@abstract-name"
 * @sa:		output address
 * @len:	output address length (for sendto)
 * @e:		error
 *
 * Return: 0, -EINVAL for a relative, empty or unsupported (vsock:) value,
 * -ENAMETOOLONG if it does not fit in sun_path
 */
int sdnotify_parse(const char *value, struct sockaddr_un *sa, socklen_t *len,
		   struct err *e);

/**
 * sdnotify_open() - pick up NOTIFY_SOCKET and remove it from the environment
 * @n:		state to fill; n->fd stays -1 when NOTIFY_SOCKET is unset
 * @e:		error
 *
 * NOTIFY_SOCKET is unset in every case, so no child (QEMU, helpers) can
 * speak to the service manager for us.
 *
 * Return: 0 (also when unset), or -errno for a bad value or socket failure
 */
int sdnotify_open(struct sdnotify *n, struct err *e);

/**
 * sdnotify_send() - send one notification datagram (never blocks)
 * @n:		state from sdnotify_open(); fd -1 makes this a no-op
 * @msg:	"VAR=value" lines separated by '\n', at most SDNOTIFY_MSG_MAX
 *
 * Return: 0, or -errno (the caller decides whether that matters)
 */
int sdnotify_send(const struct sdnotify *n, const char *msg);

/**
 * sdnotify_close() - release the socket
 * @n:		state, fd may be -1
 */
void sdnotify_close(struct sdnotify *n);

#endif /* WALLOFF_SDNOTIFY_H */
