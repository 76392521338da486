/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * helpers.h - starting walloff-net and walloff-console for a cell
 */
#ifndef WALLOFF_HELPERS_H
#define WALLOFF_HELPERS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "err.h"
#include "spawn.h"
#include "strv.h"

/* Descriptor numbers every helper receives. */
#define HELPER_FD_AUDIT 3
#define HELPER_FD_READY 4

/* How long a helper may take to report ready (it only binds a socket). */
#define HELPER_READY_TIMEOUT_MS 5000

/**
 * helper_path() - where a helper binary is
 * @name:	"walloff-net" or "walloff-console"
 * @out:	absolute path
 *
 * $WALLOFF_HELPER_DIR if set; the build tree's binary when walloff itself
 * runs from the build tree; else the installed libexec folder.
 */
void helper_path(const char *name, char out[static PATH_MAX]);

/**
 * helper_start() - start a helper and wait until it says it is ready
 * @argv:	argv; argv[0] the binary. "--audit-fd 3 --ready-fd 4" are added
 * @audit_fd:	the cell's audit descriptor (O_APPEND), passed as fd 3
 * @extra:	more descriptors to pass (numbers above HELPER_FD_READY)
 * @n_extra:	how many
 * @drop:	run as @uid/@gid
 * @uid:	unprivileged user
 * @gid:	its group
 * @log_fd:	the helper's stdout/stderr
 * @e:		error: the helper's exit, or no ready byte within the timeout
 *
 * Return: pid, or -errno
 */
pid_t helper_start(struct strv *argv, int audit_fd,
		   const struct spawn_fd *extra, unsigned n_extra, bool drop,
		   uid_t uid, gid_t gid, int log_fd, struct err *e);

#endif /* WALLOFF_HELPERS_H */
