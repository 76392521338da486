/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sandbox.c - walloff-net gives up what it does not need, in one place
 *
 * walloff-net parses frames from a guest we assume hostile, so after its
 * two listening sockets exist it keeps nothing else: when started as root
 * it empties the capability bounding set, drops supplementary groups, then
 * the gid, then the uid (to --user,
 * else "walloff", the user scripts/install-deps.sh creates, else "nobody"), and checks that uid 0 cannot be regained; in every case it
 * sets no_new_privs (so a later exec could not gain privileges, and a
 * seccomp filter can be installed without CAP_SYS_ADMIN) and clears the
 * dumpable flag. When the supervisor already started us unprivileged,
 * only the last two steps apply.
 *
 * The syscall allowlist that follows (common/seccomp_policy.c,
 * SECCOMP_NET) is installed by main.c right after sandbox_drop(): it needs
 * the no_new_privs set here.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sandbox.h"

/* As launcher/spawn.c: the dedicated user if it exists. */
#define DEFAULT_USER "walloff"
#define FALLBACK_USER "nobody"

int sandbox_resolve(const char *name, struct sandbox_user *u, struct err *e)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0) {
		if (name)
			return err_set(e, EPERM,
				       "--user needs root (we are uid %u)",
				       (unsigned)geteuid());
		return 0;
	}
	errno = 0;
	pw = getpwnam(name ? name : DEFAULT_USER);
	if (!pw && !name) {
		name = FALLBACK_USER;
		errno = 0;
		pw = getpwnam(name);
	}
	if (!pw)
		return err_set(e, errno ? errno : ENOENT, "user %s: %s",
			       name ? name : DEFAULT_USER,
			       errno ? strerror(errno) : "not found");
	if (pw->pw_uid == 0)
		return err_set(e, EINVAL, "refusing to run as uid 0");
	u->drop = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

int sandbox_drop(const struct sandbox_user *u, struct err *e)
{
	unsigned long cap;

	if (u->drop) {
		/* empty the capability bounding set while we may */
		for (cap = 0; !prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); cap++)
			;
		if (errno != EINVAL || !cap)
			return err_set(e, errno, "capability bounding set: %s",
				       strerror(errno));
		if (setgroups(0, NULL))
			return err_set(e, errno, "setgroups: %s",
				       strerror(errno));
		if (setresgid(u->gid, u->gid, u->gid))
			return err_set(e, errno, "setresgid: %s",
				       strerror(errno));
		if (setresuid(u->uid, u->uid, u->uid))
			return err_set(e, errno, "setresuid: %s",
				       strerror(errno));
		if (setuid(0) == 0 || geteuid() == 0)
			return err_set(e, EPERM, "could regain uid 0");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_set(e, errno, "no_new_privs: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return err_set(e, errno, "dumpable: %s", strerror(errno));
	return 0;
}
