/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * path.c - path safety for profile-supplied names and private folders
 *
 * Two checks make a profile path safe to hand to QEMU. First a lexical one,
 * before touching the filesystem: a relative path must not climb out of the
 * profile's folder. Then a resolved one: realpath() follows every symlink and
 * the final target must not be in the kernel's pseudo filesystems, and must
 * be a regular file. A symlink to /dev/sda in an images folder is therefore
 * refused just like writing /dev/sda in the profile.
 *
 * Private folders (state, run) are created 0700 and then verified with
 * lstat(): an attacker who pre-creates one as a symlink or with loose
 * permissions makes us fail rather than follow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

bool path_escapes(const char *rel)
{
	const char *p = rel;
	int depth = 0;

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	return false;
}

static bool in_pseudo_fs(const char *abs)
{
	static const char *const forbidden[] = { "/dev", "/proc", "/sys" };
	size_t i;

	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		size_t n = strlen(forbidden[i]);

		if (!strncmp(abs, forbidden[i], n) &&
		    (abs[n] == '/' || abs[n] == '\0'))
			return true;
	}
	return false;
}

int path_dirname(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		if (outlen < 2)
			return -ENAMETOOLONG;
		strcpy(out, ".");
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n + 1 > outlen)
		return -ENAMETOOLONG;
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

int path_resolve_file(const char *base, const char *name, bool must_exist,
		      char *out, size_t outlen, struct err *e)
{
	char joined[PATH_MAX], real[PATH_MAX], parent[PATH_MAX];
	struct stat st;
	int n;

	if (!*name)
		return err_set(e, EINVAL, "empty path");
	if (name[0] != '/' && path_escapes(name))
		return err_set(e, EINVAL,
			       "path '%s' escapes the profile's folder", name);

	if (name[0] == '/')
		n = snprintf(joined, sizeof(joined), "%s", name);
	else
		n = snprintf(joined, sizeof(joined), "%s/%s", base, name);
	if (n < 0 || (size_t)n >= sizeof(joined))
		return err_set(e, ENAMETOOLONG, "path '%s' is too long", name);

	if (in_pseudo_fs(joined))
		return err_set(e, EPERM, "path '%s' is in /dev, /proc or /sys",
			       name);

	if (!realpath(joined, real)) {
		int saved = errno;
		char preal[PATH_MAX];

		if (saved != ENOENT || must_exist)
			return err_set(e, saved, "path '%s': %s", name,
				       strerror(saved));
		/* Missing file (allowed when checking a profile before its
		 * files exist): if its folder exists it must be safe; the
		 * full check runs again when the cell starts. */
		if (path_dirname(joined, parent, sizeof(parent)))
			return err_set(e, ENAMETOOLONG, "path '%s' is too long",
				       name);
		if (realpath(parent, preal) && in_pseudo_fs(preal))
			return err_set(e, EPERM,
				       "path '%s' resolves into /dev, /proc or /sys",
				       name);
		if (strlen(joined) + 1 > outlen)
			return err_set(e, ENAMETOOLONG, "path '%s' is too long",
				       name);
		strcpy(out, joined);
		return 0;
	}

	if (in_pseudo_fs(real))
		return err_set(e, EPERM,
			       "path '%s' resolves to %s (in /dev, /proc or /sys)",
			       name, real);
	if (stat(real, &st))
		return err_set(e, errno, "path '%s': %s", name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, EPERM, "path '%s' is not a regular file", name);
	if (strlen(real) + 1 > outlen)
		return err_set(e, ENAMETOOLONG, "path '%s' is too long", name);
	strcpy(out, real);
	return 0;
}

static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int path_mkdir_private(const char *path, struct err *e)
{
	struct stat st;
	int ret;

	ret = mkdir_parents(path);
	if (ret)
		return err_set(e, -ret, "creating parents of %s: %s", path,
			       strerror(-ret));
	if (mkdir(path, 0700) && errno != EEXIST)
		return err_set(e, errno, "mkdir %s: %s", path, strerror(errno));
	if (lstat(path, &st))
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ENOTDIR, "%s is not a folder (symlink?)", path);
	if (st.st_uid != geteuid())
		return err_set(e, EPERM, "%s is owned by uid %u, not us", path,
			       (unsigned)st.st_uid);
	/* Traverse-only (0711) is allowed: root's run folder lets the
	 * unprivileged cell user reach its own socket folder inside. */
	if (st.st_mode & 0066)
		return err_set(e, EPERM,
			       "%s is accessible to others (mode %o), refusing",
			       path, (unsigned)(st.st_mode & 0777));
	return 0;
}
