/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu_img.c - the one place the image tools run qemu-img
 *
 * Image import, persistent disk creation and snapshots all need
 * qemu-img. It runs from an argv (never a shell string), with stdin on
 * /dev/null, umask 0077 (nothing it creates is readable by others), every
 * descriptor closed except stdout, stderr and optionally one file passed as
 * descriptor 3, so the caller can hand it the very file it probed
 * (/dev/fd/3) instead of a path that could be swapped in between. stdout
 * and stderr are read through separate pipes with poll(); stdout is kept
 * (bounded: a JSON reply larger than QEMU_IMG_OUT_MAX is refused), stderr's
 * last line becomes the error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu_img.h"

/* qemu-img's diagnostics are a line or two; keep the tail that fits. */
#define ERR_KEEP	400
/* One read from a pipe; the stderr buffer holds two plus the kept tail. */
#define READ_CHUNK	4096
#define ERR_BUF		(2 * READ_CHUNK + ERR_KEEP)
/* Most arguments we ever pass (convert with options). */
#define ARGV_MAX	32

const char *qemu_img_bin(void)
{
	const char *q = getenv("WALLOFF_QEMU_IMG");

	return q && *q ? q : "/usr/bin/qemu-img";
}

static void child(const char *const *argv, int pass_fd, int out, int errp)
{
	const char *v[ARGV_MAX + 2];
	int devnull, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(errp, 2) < 0)
		_exit(126);
	if (pass_fd >= 0 && (dup2(pass_fd, QEMU_IMG_FD) < 0 ||
			     fcntl(QEMU_IMG_FD, F_SETFD, 0) < 0))
		_exit(126);
	syscall(SYS_close_range, pass_fd >= 0 ? QEMU_IMG_FD + 1 : 3, ~0U, 0);
	umask(0077);
	v[0] = qemu_img_bin();
	for (i = 0; i < ARGV_MAX && argv[i]; i++)
		v[i + 1] = argv[i];
	v[i + 1] = NULL;
	execv(v[0], (char *const *)v);
	_exit(127);
}

/* Append what is readable on @fd to @buf (bounded); -1 at EOF. */
static int drain(int fd, char *buf, size_t cap, size_t *n, bool *over)
{
	char tmp[READ_CHUNK];
	ssize_t r = read(fd, tmp, sizeof(tmp));

	if (r < 0 && errno == EINTR)
		return 0;
	if (r <= 0)
		return -1;
	if ((size_t)r > cap - *n) {
		*over = true;
		r = (ssize_t)(cap - *n);
	}
	memcpy(buf + *n, tmp, (size_t)r);
	*n += (size_t)r;
	return 0;
}

int qemu_img_run(const char *const *argv, int pass_fd, char **out,
		 int *code, struct err *e)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status, ret = 0;
	char *obuf = NULL, ebuf[ERR_BUF], *line, *nl;
	size_t on = 0, en = 0;
	bool over = false, eover = false;
	struct pollfd pfd[2];
	pid_t pid;

	if (out)
		*out = NULL;
	if (code)
		*code = -1;
	obuf = malloc(QEMU_IMG_OUT_MAX + 1);
	if (!obuf)
		return err_set(e, ENOMEM, "out of memory");
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		ret = err_set(e, errno, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = err_set(e, errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(argv, pass_fd, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	pfd[0] = (struct pollfd){ .fd = po[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = pe[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents &&
		    drain(po[0], obuf, QEMU_IMG_OUT_MAX, &on, &over))
			pfd[0].fd = -1;
		if (pfd[1].revents) {
			/* Keep the tail: the last message is the useful one. */
			if (en > sizeof(ebuf) - 1 - READ_CHUNK) {
				memmove(ebuf, ebuf + en - ERR_KEEP, ERR_KEEP);
				en = ERR_KEEP;
			}
			if (drain(pe[0], ebuf, sizeof(ebuf) - 1, &en, &eover))
				pfd[1].fd = -1;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (code && WIFEXITED(status))
		*code = WEXITSTATUS(status);
	obuf[on] = '\0';
	ebuf[en] = '\0';
	while (en && (ebuf[en - 1] == '\n' || ebuf[en - 1] == '\r'))
		ebuf[--en] = '\0';
	line = strrchr(ebuf, '\n') ? strrchr(ebuf, '\n') + 1 : ebuf;
	while ((nl = strpbrk(line, "\r\t")))
		*nl = ' ';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		ret = err_set(e, ENOENT, "cannot run %s", qemu_img_bin());
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		ret = err_set(e, EIO, "qemu-img %s failed: %s", argv[0],
			      line[0] ? line : "no message");
	} else if (over) {
		ret = err_set(e, E2BIG, "qemu-img %s: output over %d bytes",
			      argv[0], QEMU_IMG_OUT_MAX);
	} else if (out) {
		*out = obuf;
		obuf = NULL;
	}
out:
	free(obuf);
	if (po[0] >= 0)
		close(po[0]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (pe[1] >= 0)
		close(pe[1]);
	return ret;
}

/* Attempts at a LUKS-writing command; see qemu_img_run_luks(). */
#define LUKS_TRIES	4

int qemu_img_run_luks(const char *const *argv, const char *made,
		      struct err *e)
{
	struct err le;
	int r = 0, i;

	for (i = 0; i < LUKS_TRIES; i++) {
		err_clear(&le);
		r = qemu_img_run(argv, -1, NULL, NULL, &le);
		if (!r)
			return 0;
		unlink(made);
		if (!strstr(le.msg, "accurate CPU usage"))
			break;
	}
	if (e)
		*e = le;
	return r;
}
