/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * accel.c - KVM probing with a deadline
 *
 * A broken KVM device can block open() or ioctl() indefinitely (seen on the
 * machines this was written on: /dev/kvm exists and every access hangs). The
 * probe therefore runs in a child process that we wait for with a pidfd and
 * poll() deadline; on timeout the child is killed and, if it is stuck in the
 * kernel, left to be reaped later: the supervisor never blocks on it.
 *
 * accel = auto falls back to TCG with the reason recorded; accel = kvm
 * refuses to start without KVM rather than silently running 10-50x slower.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accel.h"

enum { PROBE_OK = 0, PROBE_NODEV = 10, PROBE_OPEN = 11, PROBE_API = 12,
       PROBE_VM = 13 };

static int probe_child(void)
{
	int fd, vm;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? PROBE_NODEV : PROBE_OPEN;
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		close(fd);
		return PROBE_API;
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	close(fd);
	if (vm < 0)
		return PROBE_VM;
	close(vm);
	return PROBE_OK;
}

bool accel_probe_kvm(int timeout_ms, char *why, size_t len)
{
	struct pollfd pfd;
	int pidfd, status, r;
	pid_t pid;

	if (access("/dev/kvm", F_OK)) {
		snprintf(why, len, "/dev/kvm does not exist");
		return false;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return false;
	}
	if (pid == 0)
		_exit(probe_child());

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		snprintf(why, len, "pidfd_open: %s", strerror(errno));
		return false;
	}
	pfd.fd = pidfd;
	pfd.events = POLLIN;
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		kill(pid, SIGKILL);
		/* Reap if it dies promptly; a child stuck in the kernel is
		 * left behind rather than blocking the supervisor. */
		if (poll(&pfd, 1, 200) > 0)
			waitpid(pid, NULL, 0);
		close(pidfd);
		snprintf(why, len, "KVM probe timed out after %d ms (broken /dev/kvm)",
			 timeout_ms);
		return false;
	}
	close(pidfd);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		snprintf(why, len, "KVM probe crashed");
		return false;
	}
	switch (WEXITSTATUS(status)) {
	case PROBE_OK:
		snprintf(why, len, "KVM available");
		return true;
	case PROBE_NODEV:
		snprintf(why, len, "/dev/kvm does not exist");
		break;
	case PROBE_OPEN:
		snprintf(why, len, "cannot open /dev/kvm");
		break;
	case PROBE_API:
		snprintf(why, len, "unexpected KVM API version");
		break;
	default:
		snprintf(why, len, "KVM_CREATE_VM failed");
		break;
	}
	return false;
}

int accel_resolve(enum accel_mode mode, bool *kvm, char *why, size_t len,
		  struct err *e)
{
	char probe[160];

	switch (mode) {
	case ACCEL_TCG:
		*kvm = false;
		snprintf(why, len, "profile asks for tcg");
		return 0;
	case ACCEL_KVM:
		if (!accel_probe_kvm(ACCEL_PROBE_TIMEOUT_MS, probe, sizeof(probe)))
			return err_set(e, ENODEV,
				       "accel = kvm but KVM is not usable: %s "
				       "(use accel = auto or tcg)", probe);
		*kvm = true;
		snprintf(why, len, "profile asks for kvm: %s", probe);
		return 0;
	case ACCEL_AUTO:
		*kvm = accel_probe_kvm(ACCEL_PROBE_TIMEOUT_MS, probe, sizeof(probe));
		snprintf(why, len, "auto: %s%s", probe,
			 *kvm ? "" : ", falling back to tcg");
		return 0;
	}
	return err_set(e, EINVAL, "bad accel mode");
}
