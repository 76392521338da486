/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seccomp_policy.h - syscall allowlists for walloff's helper processes
 */
#ifndef WALLOFF_SECCOMP_POLICY_H
#define WALLOFF_SECCOMP_POLICY_H

#include "err.h"

enum seccomp_profile {
	SECCOMP_NET,		/* walloff-net: sockets for slirp's flows */
	SECCOMP_CONSOLE,	/* walloff-console: TCP server, unix client,
				 * reading its keys file */
	SECCOMP_NFTLOG,		/* walloff-nftlog: reads its NFLOG socket,
				 * writes the audit log */
};

/**
 * seccomp_install() - confine the calling process to an allowlist
 * @prof:	which process this is
 * @e:		error
 *
 * Needs no_new_privs (set by the caller's privilege drop). Any syscall
 * not on the list kills the process: a helper that dies fails closed.
 *
 * Return: 0 or -errno
 */
int seccomp_install(enum seccomp_profile prof, struct err *e);

#endif /* WALLOFF_SECCOMP_POLICY_H */
