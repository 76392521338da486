/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft_log_main.c - walloff-nftlog: a cell's NFLOG reader (nft mode)
 *
 *   walloff-nftlog --cell NAME --nflog-fd N --audit-fd 3 --ready-fd 4
 *
 * A process of its own, not a thread of the supervisor: the packets it
 * reads are the guest's bytes, and the supervisor parses no guest or
 * network data (DESIGN.md). It gets a netlink socket already bound to the
 * cell's NFLOG group (binding needs CAP_NET_ADMIN; the supervisor did it)
 * and runs as the unprivileged cell user. Before it reads a packet it
 * gives up the rest: a root start drops to the cell user (sandbox.c),
 * no_new_privs, no filesystem at all (Landlock, where the kernel has it)
 * and the SECCOMP_NFTLOG allowlist (reading and polling descriptors it
 * already holds, writing the audit log; no socket(), no open()). It audits
 * "nftlog-start" with what is enforced and writes one ready byte, then
 * loops: poll the socket with a deadline of the next flush, parse each
 * message (nft_log.c), count it, audit through the inherited O_APPEND
 * descriptor. SIGTERM flushes the counters and exits 0. If the audit log
 * cannot be written it exits 1: the supervisor sees the death and stops
 * the cell (never run unaudited). ENOBUFS (the kernel dropped log messages
 * because we were slow) is audited as a count of lost records.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "audit.h"
#include "landlock.h"
#include "nft_log.h"
#include "sandbox.h"
#include "seccomp_policy.h"

/* One recv() holds many NFLOG messages of ~200 bytes each. */
#define RECV_BUF	(64 * 1024)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int to_audit(void *opaque, const char *event, json_t *d)
{
	return audit_log(opaque, event, d);
}

static int parse_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 1024)
		return -1;
	return (int)v;
}

static int drain(int fd, struct nftlog *l, struct audit *a, char *buf)
{
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, RECV_BUF, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0 && errno == ENOBUFS) {
			if (audit_log(a, "net-deny-lost",
				      json_pack("{s:s}", "reason",
						"kernel NFLOG queue overrun")))
				return -EIO;
			continue;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		if (nftlog_feed(l, buf, (size_t)n, now_ms()))
			return -EIO;
	}
}

/* Everything is open: drop privileges, the filesystem, most syscalls. */
static int confine(struct audit *a, struct err *e)
{
	char landlock[LANDLOCK_STATUS_MAX];
	struct sandbox_user u;
	int r;

	/* Files the libraries open on first use, opened while we still
	 * may: jansson's hash seed (/dev/urandom), glibc's time zone for
	 * the audit timestamps (/etc/localtime). Afterwards open() kills. */
	json_object_seed(0);
	tzset();
	r = sandbox_resolve(NULL, &u, e);
	if (!r)
		r = sandbox_drop(&u, e);
	if (!r)
		r = landlock_restrict(NULL, 0, landlock, e);
	if (!r)
		r = seccomp_install(SECCOMP_NFTLOG, e);
	if (r)
		return r;
	if (audit_log(a, "nftlog-start",
		      json_pack("{s:i, s:s, s:s}", "uid", (int)geteuid(),
				"landlock", landlock, "seccomp",
				"SECCOMP_NFTLOG")))
		return err_set(e, EIO, "cannot write the audit log");
	return 0;
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "cell", required_argument, NULL, 'c' },
		{ "nflog-fd", required_argument, NULL, 'n' },
		{ "audit-fd", required_argument, NULL, 'a' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int nfd = -1, afd = -1, rfd = -1, sfd, c, ret = 1;
	const char *cell = NULL;
	static struct nftlog log;
	struct audit *a = NULL;
	struct err e;
	sigset_t set;
	char *buf;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cell = optarg;
			break;
		case 'n':
			nfd = parse_fd(optarg);
			break;
		case 'a':
			afd = parse_fd(optarg);
			break;
		case 'r':
			rfd = parse_fd(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!cell || nfd < 0 || afd < 0 || rfd < 0) {
		fprintf(stderr, "usage: walloff-nftlog --cell NAME --nflog-fd N "
				"--audit-fd N --ready-fd N\n");
		return 2;
	}
	buf = malloc(RECV_BUF);
	a = audit_fdopen(afd, cell, &e);
	if (!buf || !a) {
		fprintf(stderr, "walloff-nftlog: %s\n", buf ? e.msg : "memory");
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		goto out;
	nftlog_init(&log, to_audit, a, now_ms());
	if (confine(a, &e)) {
		fprintf(stderr, "walloff-nftlog: %s\n", e.msg);
		goto out;
	}
	if (write(rfd, "R", 1) != 1)
		goto out;
	close(rfd);

	for (;;) {
		struct pollfd pfd[2] = { { nfd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		int r = poll(pfd, 2, NFTLOG_FLUSH_MS);

		if (r < 0 && errno != EINTR)
			goto out;
		if (pfd[1].revents) {
			ret = nftlog_flush(&log, now_ms(), true) ? 1 : 0;
			goto out;
		}
		if (pfd[0].revents && drain(nfd, &log, a, buf))
			goto out;
		if (nftlog_flush(&log, now_ms(), false))
			goto out;
	}
out:
	if (ret)
		fprintf(stderr, "walloff-nftlog: stopping (audit or socket "
				"failure)\n");
	audit_close(a);
	free(buf);
	return ret;
}
