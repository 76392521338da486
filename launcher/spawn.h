/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spawn.h - starting QEMU and the helper processes
 */
#ifndef WALLOFF_SPAWN_H
#define WALLOFF_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

/* Descriptor to hand to the child at a fixed number. */
struct spawn_fd {
	int src;
	int dst;
};

struct spawn_opts {
	char *const *argv;		/* argv[0] is the absolute binary path */
	int out_fd;			/* stdout and stderr of the child */
	const struct spawn_fd *fds;	/* passed through; everything else closed */
	unsigned n_fds;
	bool drop;			/* switch to uid/gid before exec */
	uid_t uid;
	gid_t gid;
};

/**
 * spawn_user() - the unprivileged account cell processes run as
 * @uid:	output
 * @gid:	output
 * @e:		error
 *
 * When walloff runs as root, QEMU and the helpers run as the "walloff"
 * system user (created by scripts/install-deps.sh), or "nobody" if it does
 * not exist. As any other user they keep that user.
 *
 * Return: 1 if a drop is needed, 0 if not, -errno on error
 */
int spawn_user(uid_t *uid, gid_t *gid, struct err *e);

/**
 * spawn_process() - fork and exec with a clean, contained child
 * @o:		options
 * @e:		error, including failures in the child before exec
 *
 * The child gets a new session (so terminal signals reach only the
 * supervisor), /dev/null as stdin, @o->out_fd as stdout/stderr, exactly the
 * listed descriptors, no supplementary groups, @o->uid/@o->gid if @o->drop,
 * no_new_privs, and SIGKILL when the supervisor dies (set after the uid
 * change, which would otherwise clear it).
 *
 * Return: child pid, or -errno
 */
pid_t spawn_process(const struct spawn_opts *o, struct err *e);

#endif /* WALLOFF_SPAWN_H */
