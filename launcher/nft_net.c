/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft_net.c - a cell's network in nft mode: tap, nftables table, NFLOG
 *
 * Start-up, all or nothing, before QEMU starts:
 *   1. CAP_NET_ADMIN is checked first, so that a user without it gets one
 *      clear error and nothing is created;
 *   2. what a crashed run left is removed (table; a persistent tap of the
 *      same name, which ours never is);
 *   3. the tap is created (tap.c) and placed: bridge port or routed;
 *   4. the table is built from the profile (netpolicy/nft_rules.c) and
 *      sent as one atomic batch: the tap exists but carries nothing until
 *      QEMU starts, which happens after the table is in place;
 *   5. an NFLOG socket is bound to the cell's group here, with the
 *      capability, and handed to walloff-nftlog, which runs unprivileged
 *      and writes the denials to the audit log (nft_log_main.c).
 * Any failure undoes the steps before it in reverse.
 *
 * Teardown: SIGTERM to walloff-nftlog (it flushes its counters), delete
 * the table, close our tap descriptor (QEMU's is gone already: the tap
 * disappears). `walloff net cleanup` and the next start do steps 2 only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "nft_log.h"
#include "nft_net.h"
#include "nft_rules.h"
#include "qemu_argv.h"
#include "spawn.h"

bool nft_net_capable(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &
	       CAP_TO_MASK(CAP_NET_ADMIN);
}

/* walloff-nftlog with the audit fd, a ready pipe and the NFLOG socket. */
static pid_t start_logger(const char *cell, int nflog, int audit_fd,
			  int log_fd, bool drop, uid_t uid, gid_t gid,
			  struct err *e)
{
	char bin[PATH_MAX];
	struct strv a = { 0 };
	struct spawn_fd fds[3];
	struct spawn_opts so = { 0 };
	struct pollfd pfd;
	int p[2] = { -1, -1 }, r, st;
	pid_t pid = -1;
	char c;

	helper_path("walloff-nftlog", bin);
	strv_push(&a, bin);
	strv_push(&a, "--cell");
	strv_push(&a, cell);
	strv_push(&a, "--nflog-fd");
	strv_pushf(&a, "%d", NFTLOG_FD);
	strv_push(&a, "--audit-fd");
	strv_pushf(&a, "%d", HELPER_FD_AUDIT);
	strv_push(&a, "--ready-fd");
	strv_pushf(&a, "%d", HELPER_FD_READY);
	if (a.error) {
		pid = err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	if (pipe2(p, O_CLOEXEC)) {
		pid = err_set(e, errno, "pipe: %s", strerror(errno));
		goto out;
	}
	fds[0] = (struct spawn_fd){ audit_fd, HELPER_FD_AUDIT };
	fds[1] = (struct spawn_fd){ p[1], HELPER_FD_READY };
	fds[2] = (struct spawn_fd){ nflog, NFTLOG_FD };
	so.argv = a.v;
	so.out_fd = log_fd;
	so.fds = fds;
	so.n_fds = 3;
	so.drop = drop;
	so.uid = uid;
	so.gid = gid;
	pid = spawn_process(&so, e);
	close(p[1]);
	p[1] = -1;
	if (pid < 0)
		goto out;
	pfd = (struct pollfd){ p[0], POLLIN, 0 };
	do
		r = poll(&pfd, 1, HELPER_READY_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 1 && read(p[0], &c, 1) == 1)
		goto out;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	pid = err_set(e, EIO, "%s did not start (see helpers.log)", bin);
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	strv_free(&a);
	return pid;
}

int nft_net_cleanup(const char *cell, struct err *e)
{
	char ifname[TAP_NAME_MAX];
	int r;

	if (!nft_net_capable())
		return err_set(e, EPERM, "cleaning up nft mode needs root or "
			       "CAP_NET_ADMIN");
	tap_name(cell, ifname);
	r = nft_table_delete(cell, e);
	if (r)
		return r;
	return tap_delete(ifname, e);
}

int nft_net_up(const struct profile *p, struct nft_net *n, int audit_fd,
	       int log_fd, bool drop, uid_t uid, gid_t gid, struct err *e)
{
	struct nft_cell c = { 0 };
	struct nft_ruleset *rs = NULL;
	int nflog = -1, r;
	pid_t pid;

	n->tap_fd = -1;
	n->table = false;
	n->logger = 0;
	tap_name(p->name, n->ifname);
	if (!nft_net_capable())
		return err_set(e, EPERM, "[network] mode = nft needs root or "
			       "CAP_NET_ADMIN (to create tap %s and nftables "
			       "table walloff_%s); nothing was created",
			       n->ifname, p->name);
	r = nft_net_cleanup(p->name, e);
	if (r)
		return r;

	r = tap_create(n->ifname, e);
	if (r < 0)
		return r;
	n->tap_fd = r;
	r = tap_attach(n->ifname, p->bridge, p->gateway, p->guest_address, e);
	if (r)
		goto fail;

	c.name = p->name;
	c.ifname = n->ifname;
	c.bridged = p->bridge[0] != '\0';
	qemu_mac(p->name, c.mac);
	c.addr = p->guest_address;
	c.rules = p->allow;
	c.n_rules = p->n_allow;
	c.log_group = nft_log_group(p->name);
	rs = nft_ruleset_build(&c, e);
	if (!rs) {
		r = -EINVAL;
		goto fail;
	}
	r = nft_ruleset_apply(rs, e);
	if (r)
		goto fail;
	n->table = true;

	nflog = nftlog_open(c.log_group, e);
	if (nflog < 0) {
		r = nflog;
		goto fail;
	}
	pid = start_logger(p->name, nflog, audit_fd, log_fd, drop, uid, gid,
			   e);
	if (pid < 0) {
		r = (int)pid;
		goto fail;
	}
	n->logger = pid;
	close(nflog);
	nft_ruleset_free(rs);
	return 0;
fail:
	if (nflog >= 0)
		close(nflog);
	nft_ruleset_free(rs);
	nft_net_down(p->name, n, NULL);
	return r;
}

int nft_net_down(const char *cell, struct nft_net *n, struct err *e)
{
	char ifname[TAP_NAME_MAX];
	int st, r = 0, r2;

	if (n->logger > 0) {
		kill(n->logger, SIGTERM);
		while (waitpid(n->logger, &st, 0) < 0 && errno == EINTR)
			;
		n->logger = 0;
	}
	if (n->table) {
		r = nft_table_delete(cell, e);
		n->table = false;
	}
	if (n->tap_fd >= 0) {
		close(n->tap_fd);
		n->tap_fd = -1;
		tap_name(cell, ifname);
		r2 = tap_delete(ifname, r ? NULL : e);
		if (!r)
			r = r2;
	}
	return r;
}
