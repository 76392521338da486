/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft_net.h - set up and tear down a cell's nft-mode network
 */
#ifndef WALLOFF_NFT_NET_H
#define WALLOFF_NFT_NET_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"
#include "profile.h"
#include "tap.h"

/* The NFLOG socket's number in walloff-nftlog. */
#define NFTLOG_FD 5

struct nft_net {
	char ifname[TAP_NAME_MAX];
	int tap_fd;		/* -1: none */
	bool table;		/* the nftables table exists */
	pid_t logger;		/* walloff-nftlog, 0: none */
};

/**
 * nft_net_up() - tap, table and log reader for a cell, all or nothing
 * @p:		profile (net == NET_NFT)
 * @n:		state, filled; tap_fd goes to QEMU as QEMU_FD_TAP
 * @audit_fd:	the cell's audit descriptor (for walloff-nftlog)
 * @log_fd:	walloff-nftlog's stdout/stderr
 * @drop:	run walloff-nftlog as @uid/@gid
 * @uid:	unprivileged user
 * @gid:	its group
 * @e:		error; names the missing capability if that is the cause
 *
 * Stale objects of a crashed run (tap, table) are removed first. On
 * failure everything created so far is removed again.
 *
 * Return: 0 or -errno
 */
int nft_net_up(const struct profile *p, struct nft_net *n, int audit_fd,
	       int log_fd, bool drop, uid_t uid, gid_t gid, struct err *e);

/**
 * nft_net_down() - stop the log reader, remove the table and the tap
 * @cell:	cell name
 * @n:		state from nft_net_up() (logger already reaped if 0)
 * @e:		first error
 *
 * Return: 0 or -errno (everything is attempted regardless)
 */
int nft_net_down(const char *cell, struct nft_net *n, struct err *e);

/**
 * nft_net_cleanup() - remove what a dead cell left: table and tap
 * @cell:	cell name
 * @e:		error
 *
 * Return: 0 or -errno
 */
int nft_net_cleanup(const char *cell, struct err *e);

/**
 * nft_net_capable() - does this process hold CAP_NET_ADMIN?
 *
 * Return: true if so
 */
bool nft_net_capable(void);

#endif /* WALLOFF_NFT_NET_H */
