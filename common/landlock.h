/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * landlock.h - confine a helper's filesystem view (Landlock LSM)
 */
#ifndef WALLOFF_LANDLOCK_H
#define WALLOFF_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* What a rule grants beneath its path. */
enum landlock_grant {
	LANDLOCK_GRANT_READ,	  /* read files, list folders */
	LANDLOCK_GRANT_READ_EXEC, /* and run programs */
};

struct landlock_rule {
	const char *path; /* a folder (everything beneath) or a file */
	enum landlock_grant grant;
};

/* Longest status text: "enforced (ABI 123)" or "unavailable". */
#define LANDLOCK_STATUS_MAX 32

/**
 * landlock_abi() - the Landlock ABI version this kernel offers
 *
 * Return: the version (1, 2, ...), or 0 when the kernel has no Landlock
 * (not built, not enabled at boot, or the syscall is filtered)
 */
int landlock_abi(void);

/**
 * landlock_fs_handled() - every filesystem access right an ABI knows
 * @abi:	from landlock_abi()
 *
 * The ruleset handles (denies unless a rule allows) all of them.
 *
 * Return: the access mask, 0 for @abi 0
 */
uint64_t landlock_fs_handled(int abi);

/**
 * landlock_rule_access() - the access mask one rule adds
 * @grant:	what the rule grants
 * @is_dir:	the rule's path is a folder (else a file: the kernel refuses
 *		folder-only rights on a file)
 * @handled:	from landlock_fs_handled()
 *
 * Return: the mask for landlock_add_rule(); never a right outside @handled
 */
uint64_t landlock_rule_access(enum landlock_grant grant, bool is_dir,
			      uint64_t handled);

/**
 * landlock_restrict() - deny the calling process every filesystem access
 * outside @rules, for good (inherited by children, never lifted)
 * @rules:	paths that stay readable; a missing path is an error
 * @n:		number of rules (0: no filesystem access at all)
 * @status:	out: "enforced (ABI n)" or "unavailable", for the audit log
 * @e:		error
 *
 * Sets no_new_privs (Landlock needs it without CAP_SYS_ADMIN). Opened
 * descriptors keep working: call after set-up, before the seccomp filter.
 * A kernel without Landlock is not an error: @status says "unavailable".
 *
 * Return: 0 or -errno
 */
int landlock_restrict(const struct landlock_rule *rules, size_t n,
		      char status[static LANDLOCK_STATUS_MAX], struct err *e);

#endif /* WALLOFF_LANDLOCK_H */
