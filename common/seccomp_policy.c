/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seccomp_policy.c - the syscalls a helper may make once it handles untrusted bytes
 *
 * walloff-net (guest frames), walloff-console (network clients) and
 * walloff-nftlog (the guest's packets, as NFLOG messages) call
 * seccomp_install() after their set-up: sockets bound, privileges dropped,
 * files opened. From then on the kernel kills the process on any syscall
 * outside its list: no exec, no ptrace, no mount, no new files for
 * walloff-net, no raw or netlink sockets. A killed helper fails closed: the
 * guest loses its network or its console, never its walls.
 *
 * The lists are what the event loops, libslirp, libsodium, jansson and
 * glibc's allocator need, found by running the integration tests under
 * strace -f; argument filters narrow socket() to the families each process
 * needs and ioctl() to the two requests libslirp makes.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <seccomp.h>

#include "seccomp_policy.h"

static const int common_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(close), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(restart_syscall), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_create1), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid), SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap),
	SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(mprotect), SCMP_SYS(futex),
	SCMP_SYS(getrandom), SCMP_SYS(fcntl), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(lseek), SCMP_SYS(accept4),
	SCMP_SYS(accept), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(sendto),
	SCMP_SYS(sendmsg), SCMP_SYS(shutdown), SCMP_SYS(getsockopt),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime), SCMP_SYS(signalfd4), SCMP_SYS(eventfd2),
	SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(uname),
	SCMP_SYS(sysinfo), SCMP_SYS(prlimit64), SCMP_SYS(getrusage),
};

/* walloff-net: libslirp opens AF_INET sockets for the guest's allowed flows. */
static const int net_calls[] = {
	SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
};

/* walloff-console: re-reads its keys file; connects to QEMU's sockets. */
static const int console_calls[] = {
	SCMP_SYS(connect), SCMP_SYS(openat), SCMP_SYS(statx), SCMP_SYS(stat),
	SCMP_SYS(inotify_init1), SCMP_SYS(inotify_add_watch),
	SCMP_SYS(inotify_rm_watch), SCMP_SYS(kill), SCMP_SYS(tgkill),
};

/*
 * Sanitizer builds (the test suite runs everything a second time under
 * ASan+UBSan) install the same filter in log mode: LeakSanitizer stops the
 * world at exit with clone and ptrace, which the filter forbids, and a
 * killed or hung helper would hide the memory errors we run ASan to find.
 * Enforcement is tested by the plain build, where every integration test
 * runs the helpers under the killing filter.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define DEFAULT_ACTION SCMP_ACT_LOG
#else
#define DEFAULT_ACTION SCMP_ACT_KILL_PROCESS
#endif

static int allow(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (calls[i] < 0)
			continue;	/* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
		if (r)
			return r;
	}
	return 0;
}

int seccomp_install(enum seccomp_profile prof, struct err *e)
{
	scmp_filter_ctx ctx;
	int r;

	ctx = seccomp_init(DEFAULT_ACTION);
	if (!ctx)
		return err_set(e, ENOMEM, "seccomp_init failed");
	r = allow(ctx, common_calls, sizeof(common_calls) / sizeof(common_calls[0]));
	if (r)
		goto out;

	if (prof == SECCOMP_NET) {
		r = allow(ctx, net_calls, sizeof(net_calls) / sizeof(net_calls[0]));
		if (r)
			goto out;
		/* openat(): read-only, for /etc/resolv.conf (DNS forwarding) */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE,
					     O_RDONLY));
		if (r)
			goto out;
		/* socket(): IPv4 only (IPv6 is off in slirp) */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_INET));
		if (r)
			goto out;
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, FIONREAD));
		if (!r)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					     SCMP_A1(SCMP_CMP_EQ, FIONBIO));
	} else if (prof == SECCOMP_NFTLOG) {
		/* the common list only: its socket is bound, its files open */
		r = 0;
	} else {
		r = allow(ctx, console_calls,
			  sizeof(console_calls) / sizeof(console_calls[0]));
		if (r)
			goto out;
		/* socket(): unix (to QEMU) only; the TCP listener exists already */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	}
	if (r)
		goto out;
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	if (r)
		return err_set(e, -r, "seccomp: %s", strerror(-r));
	return 0;
}
