/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spawn.c - fork/exec with privileges dropped in the child
 *
 * QEMU's own -runas is not used: with -sandbox elevateprivileges=deny,
 * QEMU 7.2 kills itself with SIGSYS when -runas calls setuid() (measured).
 * Instead the child drops everything between fork and exec: the capability
 * bounding set, setgroups(0), setgid, setuid, then PR_SET_NO_NEW_PRIVS, then PR_SET_PDEATHSIG (the
 * kernel clears the death signal on a credential change, so it must come
 * after), then a check that the parent did not die in between.
 *
 * Errors in the child before exec travel back on a close-on-exec pipe as
 * {errno, message}; EOF on that pipe means exec succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

/* Highest fd number we hand to a child; everything above is closed. */
#define SPAWN_FD_MAX 64

struct child_err {
	int code;
	char msg[120];
};

int spawn_user(uid_t *uid, gid_t *gid, struct err *e)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam("walloff");
	if (!pw)
		pw = getpwnam("nobody");
	if (!pw)
		return err_set(e, ENOENT,
			       "running as root but neither user 'walloff' nor 'nobody' exists");
	if (pw->pw_uid == 0)
		return err_set(e, EPERM, "user %s is root", pw->pw_name);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 1;
}

static void __attribute__((noreturn)) child_fail(int pipe_fd, const char *what)
{
	struct child_err ce = { .code = errno };

	snprintf(ce.msg, sizeof(ce.msg), "%s: %s", what, strerror(errno));
	if (write(pipe_fd, &ce, sizeof(ce)) < 0) {
		/* nothing more we can do */
	}
	_exit(127);
}

static void __attribute__((noreturn)) child(const struct spawn_opts *o,
					    pid_t parent, int pipe_fd)
{
	unsigned i;
	int fd;

	if (setsid() < 0)
		child_fail(pipe_fd, "setsid");

	/* Move every descriptor we pass above SPAWN_FD_MAX first, so that
	 * dup2() onto fixed numbers cannot clobber a source. */
	fd = fcntl(pipe_fd, F_DUPFD_CLOEXEC, SPAWN_FD_MAX + 1);
	if (fd < 0)
		child_fail(pipe_fd, "dup");
	pipe_fd = fd;
	{
		int hi[16];

		if (o->n_fds > 16)
			child_fail(pipe_fd, "too many descriptors");
		for (i = 0; i < o->n_fds; i++) {
			hi[i] = fcntl(o->fds[i].src, F_DUPFD, SPAWN_FD_MAX + 20);
			if (hi[i] < 0)
				child_fail(pipe_fd, "dup");
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			child_fail(pipe_fd, "/dev/null");
		if (dup2(o->out_fd, 1) < 0 || dup2(o->out_fd, 2) < 0)
			child_fail(pipe_fd, "dup2 output");
		for (i = 0; i < o->n_fds; i++)
			if (dup2(hi[i], o->fds[i].dst) < 0)
				child_fail(pipe_fd, "dup2");
		for (fd = 3; fd <= SPAWN_FD_MAX; fd++) {
			bool keep = false;

			for (i = 0; i < o->n_fds; i++)
				keep |= o->fds[i].dst == fd;
			if (!keep)
				close(fd);
		}
		/* Everything above SPAWN_FD_MAX except the error pipe. */
		if ((pipe_fd > SPAWN_FD_MAX + 1 &&
		     syscall(SYS_close_range, SPAWN_FD_MAX + 1, pipe_fd - 1, 0)) ||
		    syscall(SYS_close_range, pipe_fd + 1, ~0U, 0))
			child_fail(pipe_fd, "close_range");
	}

	if (o->drop) {
		/* Empty the bounding set while we still may (CAP_SETPCAP), so
		 * no capability can come back by any route. */
		for (i = 0; !prctl(PR_CAPBSET_DROP, i, 0, 0, 0); i++)
			;
		if (errno != EINVAL || !i)
			child_fail(pipe_fd, "capability bounding set");
		if (setgroups(0, NULL))
			child_fail(pipe_fd, "setgroups");
		if (setresgid(o->gid, o->gid, o->gid))
			child_fail(pipe_fd, "setgid");
		if (setresuid(o->uid, o->uid, o->uid))
			child_fail(pipe_fd, "setuid");
		if (setuid(0) == 0) {
			errno = EPERM;
			child_fail(pipe_fd, "privileges could be regained");
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		child_fail(pipe_fd, "no_new_privs");
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		child_fail(pipe_fd, "pdeathsig");
	if (getppid() != parent) {
		errno = ESRCH;
		child_fail(pipe_fd, "supervisor died");
	}
	signal(SIGPIPE, SIG_DFL);
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	execv(o->argv[0], o->argv);
	child_fail(pipe_fd, o->argv[0]);
}

pid_t spawn_process(const struct spawn_opts *o, struct err *e)
{
	struct child_err ce;
	int p[2], status;
	pid_t parent = getpid(), pid;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC))
		return err_set(e, errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return err_set(e, errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(p[0]);
		child(o, parent, p[1]);
	}
	close(p[1]);
	do
		n = read(p[0], &ce, sizeof(ce));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == 0)
		return pid;
	waitpid(pid, &status, 0);
	if (n != (ssize_t)sizeof(ce))
		return err_set(e, EIO, "starting %s failed", o->argv[0]);
	ce.msg[sizeof(ce.msg) - 1] = '\0';
	return err_set(e, ce.code ? ce.code : EIO, "starting %s: %s",
		       o->argv[0], ce.msg);
}
