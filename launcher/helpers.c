/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * helpers.c - the cell's helper processes
 *
 * walloff-net and walloff-console parse untrusted bytes (guest frames,
 * network clients), so each runs as its own process, unprivileged, with
 * nothing but its sockets, the audit descriptor (fd 3, O_APPEND: records
 * from all processes of a cell interleave by whole lines) and a ready pipe
 * (fd 4). A helper writes one byte to fd 4 once its socket is bound; the
 * supervisor waits for that byte with a deadline before starting QEMU, so
 * QEMU never races a missing socket. EOF on the pipe means the helper died
 * during setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "helpers.h"
#include "spawn.h"

void helper_path(const char *name, char out[static PATH_MAX])
{
	const char *dir = getenv("WALLOFF_HELPER_DIR");
	char self[PATH_MAX];
	size_t broot = strlen(WALLOFF_BUILD_ROOT);
	ssize_t n;

	if (dir && *dir) {
		snprintf(out, PATH_MAX, "%s/%s", dir, name);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if (!strncmp(self, WALLOFF_BUILD_ROOT, broot) && self[broot] == '/') {
			snprintf(out, PATH_MAX, "%s/%s/%s", WALLOFF_BUILD_ROOT,
				 strcmp(name, "walloff-net") ? "console" : "netpolicy",
				 name);
			return;
		}
	}
	snprintf(out, PATH_MAX, "%s/%s", WALLOFF_LIBEXECDIR, name);
}

pid_t helper_start(struct strv *argv, int audit_fd,
		   const struct spawn_fd *extra, unsigned n_extra, bool drop,
		   uid_t uid, gid_t gid, int log_fd, struct err *e)
{
	struct spawn_fd fds[8];
	unsigned i;
	struct spawn_opts so = { 0 };
	struct pollfd pfd;
	int p[2], r, st;
	pid_t pid;
	char c;

	strv_push(argv, "--audit-fd");
	strv_pushf(argv, "%d", HELPER_FD_AUDIT);
	strv_push(argv, "--ready-fd");
	strv_pushf(argv, "%d", HELPER_FD_READY);
	if (argv->error)
		return err_set(e, ENOMEM, "out of memory");
	if (n_extra > 6)
		return err_set(e, EINVAL, "too many descriptors for a helper");
	if (access(argv->v[0], X_OK))
		return err_set(e, errno, "%s: %s", argv->v[0], strerror(errno));
	if (pipe2(p, O_CLOEXEC))
		return err_set(e, errno, "pipe: %s", strerror(errno));

	fds[0] = (struct spawn_fd){ audit_fd, HELPER_FD_AUDIT };
	fds[1] = (struct spawn_fd){ p[1], HELPER_FD_READY };
	for (i = 0; i < n_extra; i++)
		fds[2 + i] = extra[i];
	so.argv = argv->v;
	so.out_fd = log_fd;
	so.fds = fds;
	so.n_fds = 2 + n_extra;
	so.drop = drop;
	so.uid = uid;
	so.gid = gid;
	pid = spawn_process(&so, e);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return pid;
	}

	pfd.fd = p[0];
	pfd.events = POLLIN;
	do
		r = poll(&pfd, 1, HELPER_READY_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 1 && read(p[0], &c, 1) == 1) {
		close(p[0]);
		return pid;
	}
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	if (r == 0)
		return err_set(e, ETIMEDOUT, "%s did not get ready within %d ms",
			       argv->v[0], HELPER_READY_TIMEOUT_MS);
	return err_set(e, EIO, "%s exited during set-up (see its log)",
		       argv->v[0]);
}
