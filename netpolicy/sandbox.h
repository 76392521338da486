/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sandbox.h - walloff-net's privilege drop
 */
#ifndef WALLOFF_NET_SANDBOX_H
#define WALLOFF_NET_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/err.h"

struct sandbox_user {
	bool drop; /* we are root and will switch user */
	uid_t uid;
	gid_t gid;
};

/**
 * sandbox_resolve() - decide whom to become, before any socket exists
 * @name:	--user value, or NULL for "walloff" (else "nobody")
 * @u:		output
 * @e:		error
 *
 * When not root, nothing is dropped and @name must be NULL.
 *
 * Return: 0 or -errno
 */
int sandbox_resolve(const char *name, struct sandbox_user *u, struct err *e);

/**
 * sandbox_drop() - switch to the resolved user, for good, and forbid
 * regaining privileges (no_new_privs, not dumpable)
 * @u:		from sandbox_resolve()
 * @e:		error
 *
 * Return: 0 or -errno
 */
int sandbox_drop(const struct sandbox_user *u, struct err *e);

#endif /* WALLOFF_NET_SANDBOX_H */
