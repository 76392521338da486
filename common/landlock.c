/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * landlock.c - a helper gives up the filesystem it does not need
 *
 * walloff-net, walloff-console and walloff-nftlog parse bytes from a guest
 * or the network. After their set-up (sockets bound, keys read, privileges
 * dropped) and before their seccomp filter, each calls landlock_restrict()
 * with the few paths it still reads: the console its keys folder (the
 * supervisor replaces the keys file by rename, so a rule on the file's
 * inode would miss the new copy), walloff-net /etc/resolv.conf when it
 * forwards DNS, walloff-nftlog nothing. Every other open() fails with
 * EACCES, even of a world-readable file, even if the uid could.
 *
 * Landlock is reached with raw syscalls (glibc has no wrappers). The ABI
 * version decides which access rights exist; the ruleset handles all of
 * them, so anything a newer kernel adds for files is denied too. A kernel
 * without Landlock is not an error: the helper carries on with its user,
 * no_new_privs and seccomp, and says "landlock: unavailable" in its audit
 * start record, so an auditor sees which walls stood.
 *
 * Sanitizer builds also allow reading /proc and /usr: LeakSanitizer lists
 * threads in /proc at exit, and a report runs llvm-symbolizer. Enforcement
 * is tested in the plain build.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"

/* Rights newer than Debian 12's <linux/landlock.h> (ABI 2). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif

/* Rights that apply to a file; the rest are about folder contents. */
#define FS_FILE_RIGHTS                                                         \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |          \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |          \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANITIZER_BUILD 1
#else
#define SANITIZER_BUILD 0
#endif

int landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
			 LANDLOCK_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
}

uint64_t landlock_fs_handled(int abi)
{
	uint64_t m;

	if (abi < 1)
		return 0;
	m = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0-12 */
	if (abi >= 2)
		m |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		m |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		m |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return m;
}

uint64_t landlock_rule_access(enum landlock_grant grant, bool is_dir,
			      uint64_t handled)
{
	uint64_t m = 0;

	switch (grant) {
	case LANDLOCK_GRANT_READ:
		m = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
		break;
	case LANDLOCK_GRANT_READ_EXEC:
		m = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
		    LANDLOCK_ACCESS_FS_EXECUTE;
		break;
	}
	if (!is_dir)
		m &= FS_FILE_RIGHTS;
	return m & handled;
}

/* One path-beneath rule; the path is opened O_PATH (no read needed). */
static int add_rule(int ruleset, const struct landlock_rule *rule,
		    uint64_t handled, struct err *e)
{
	struct landlock_path_beneath_attr pb = {0};
	struct stat st;
	int fd, r = 0;

	fd = open(rule->path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "landlock: %s: %s", rule->path,
			       strerror(errno));
	if (fstat(fd, &st)) {
		r = err_set(e, errno, "landlock: %s: %s", rule->path,
			    strerror(errno));
		goto out;
	}
	pb.parent_fd = fd;
	pb.allowed_access =
	    landlock_rule_access(rule->grant, S_ISDIR(st.st_mode), handled);
	if (pb.allowed_access && syscall(SYS_landlock_add_rule, ruleset,
					 LANDLOCK_RULE_PATH_BENEATH, &pb, 0))
		r = err_set(e, errno, "landlock: rule for %s: %s", rule->path,
			    strerror(errno));
out:
	close(fd);
	return r;
}

int landlock_restrict(const struct landlock_rule *rules, size_t n,
		      char status[static LANDLOCK_STATUS_MAX], struct err *e)
{
	static const struct landlock_rule sanitizer_rules[] = {
	    {"/proc", LANDLOCK_GRANT_READ},
	    {"/usr", LANDLOCK_GRANT_READ_EXEC},
	};
	struct landlock_ruleset_attr attr = {0};
	int abi = landlock_abi(), ruleset = -1, r = 0;
	size_t i;

	snprintf(status, LANDLOCK_STATUS_MAX, "unavailable");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_set(e, errno, "no_new_privs: %s", strerror(errno));
	if (!abi)
		return 0;
	attr.handled_access_fs = landlock_fs_handled(abi);
	ruleset =
	    (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return err_set(e, errno, "landlock: create ruleset: %s",
			       strerror(errno));
	for (i = 0; i < n && !r; i++)
		r = add_rule(ruleset, &rules[i], attr.handled_access_fs, e);
	if (SANITIZER_BUILD)
		for (i = 0; i < 2 && !r; i++)
			r = add_rule(ruleset, &sanitizer_rules[i],
				     attr.handled_access_fs, e);
	if (r)
		goto out;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0)) {
		r = err_set(e, errno, "landlock: restrict: %s",
			    strerror(errno));
		goto out;
	}
	snprintf(status, LANDLOCK_STATUS_MAX, "enforced (ABI %d)", abi);
out:
	close(ruleset);
	return r;
}
