/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdnotify.c - the sd_notify(3) readiness protocol, without libsystemd
 *
 * Under systemd with Type=notify, the service manager passes the address of
 * a unix datagram socket in NOTIFY_SOCKET: an absolute path, or a name in
 * the abstract namespace written with a leading '@' (sent with a leading NUL
 * byte and no terminator, so the address length matters). The supervisor
 * sends "READY=1" once the device model is verified and the guest runs, and
 * "STOPPING=1" when it starts to stop; systemd then knows a cell that is
 * "active" really is running the profile it was given.
 *
 * The variable is read once and removed from the environment at once:
 * every process the supervisor starts (QEMU, walloff-net, walloff-console)
 * inherits the environment, and none of them may claim readiness for the
 * cell. Messages go out with MSG_DONTWAIT on a SOCK_CLOEXEC socket: a slow
 * or absent service manager never stalls the supervisor. Values we cannot
 * use (relative paths, vsock: addresses, names longer than sun_path) are
 * refused with a message rather than guessed at.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdnotify.h"

int sdnotify_parse(const char *value, struct sockaddr_un *sa, socklen_t *len,
		   struct err *e)
{
	size_t n;

	if (!value || !*value)
		return err_set(e, EINVAL, "NOTIFY_SOCKET is empty");
	if (value[0] != '/' && value[0] != '@')
		return err_set(e, EINVAL,
			       "NOTIFY_SOCKET '%.64s' is neither an absolute path "
			       "nor an @abstract name", value);
	n = strlen(value);
	/* A path needs its NUL inside sun_path; an abstract name's leading
	 * '@' becomes the leading NUL, and it has no terminator. */
	if (n >= sizeof(sa->sun_path) || (value[0] == '@' && n < 2))
		return err_set(e, n < 2 ? EINVAL : ENAMETOOLONG,
			       "NOTIFY_SOCKET '%.64s%s' is %s", value,
			       n > 64 ? "..." : "",
			       n < 2 ? "an empty abstract name" :
			       "too long for a unix socket address");
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, value, n);
	if (value[0] == '@') {
		sa->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

int sdnotify_open(struct sdnotify *n, struct err *e)
{
	const char *v = getenv("NOTIFY_SOCKET");
	int ret = 0;

	n->fd = -1;
	if (!v)
		return 0;
	ret = sdnotify_parse(v, &n->addr, &n->addr_len, e);
	if (ret)
		goto out;
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0)
		ret = err_set(e, errno, "notify socket: %s", strerror(errno));
out:
	unsetenv("NOTIFY_SOCKET");	/* v is invalid from here on */
	return ret;
}

int sdnotify_send(const struct sdnotify *n, const char *msg)
{
	size_t len = strlen(msg);
	ssize_t r;

	if (n->fd < 0)
		return 0;
	if (len > SDNOTIFY_MSG_MAX)
		return -EMSGSIZE;
	r = sendto(n->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&n->addr, n->addr_len);
	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EIO;
}

void sdnotify_close(struct sdnotify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}
