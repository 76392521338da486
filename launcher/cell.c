/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cell.c - folders, lock and status of a cell
 *
 * One supervisor per cell: it holds an exclusive flock() on RUN/lock for its
 * whole life. The kernel drops the lock when the process dies, however it
 * dies, so "lock free" is the reliable sign of a dead supervisor: whatever
 * it left in the run folder (sockets, status.json) is stale and is removed
 * by the next `walloff run` or `walloff status`.
 *
 * Who may write where: the run folder (lock, status.json) belongs to the
 * invoking user and is 0700, or 0711 for root so that QEMU and the helpers,
 * which run as an unprivileged user, can reach their own socket folder
 * RUN/s inside it (owned by that user, 0700). So a compromised QEMU can
 * touch its sockets but never the lock or the pid that `walloff stop`
 * signals.
 *
 * status.json is what `walloff status` and `walloff stop` read: the
 * supervisor's pid, QEMU's pid, start time and state. It is written to a
 * temporary file and renamed, so readers never see half a file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cell.h"
#include "dirs.h"
#include "path.h"

int cell_init(struct cell *c, const char *name, struct err *e)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->lock_fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	ret = dirs_cell(name, c->state_dir, c->run_dir, PATH_MAX, e);
	if (ret)
		return ret;
	if ((size_t)snprintf(c->sock_dir, PATH_MAX, "%s/s", c->run_dir) >=
	    PATH_MAX)
		return err_set(e, ENAMETOOLONG, "run folder name too long");
	return 0;
}

void cell_path(const struct cell *c, enum cell_dir which, const char *file,
	       char out[static PATH_MAX])
{
	const char *dir = which == CELL_STATE ? c->state_dir :
			  which == CELL_RUN ? c->run_dir : c->sock_dir;

	/* Folders are checked to leave room for socket names (dirs.c), so a
	 * truncated result cannot name an existing file by accident. */
	if ((size_t)snprintf(out, PATH_MAX, "%.*s/%s", PATH_MAX - 64, dir,
			     file) >= PATH_MAX)
		out[0] = '\0';
}

int cell_lock(struct cell *c, uid_t sock_uid, gid_t sock_gid, int *stale,
	      struct err *e)
{
	char lock[PATH_MAX];
	struct stat st;
	pid_t pid;
	int ret;

	ret = path_mkdir_private(c->state_dir, e);
	if (ret)
		return ret;
	ret = path_mkdir_private(c->run_dir, e);
	if (ret)
		return ret;
	cell_path(c, CELL_RUN, "lock", lock);
	c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->lock_fd < 0)
		return err_set(e, errno, "%s: %s", lock, strerror(errno));
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB)) {
		int saved = errno;

		close(c->lock_fd);
		c->lock_fd = -1;
		if (saved == EWOULDBLOCK) {
			if (cell_running(c, &pid))
				return err_set(e, EBUSY,
					       "cell %s is already running (supervisor pid %d)",
					       c->name, (int)pid);
			return err_set(e, EBUSY, "cell %s is already running",
				       c->name);
		}
		return err_set(e, saved, "lock %s: %s", lock, strerror(saved));
	}

	/* The socket folder: recreated on every start, so nothing a previous
	 * QEMU left there (as the unprivileged user) survives. */
	*stale = cell_clean_run_dir(c);
	if (!lstat(c->sock_dir, &st) && S_ISDIR(st.st_mode)) {
		if (rmdir(c->sock_dir))
			return err_set(e, errno, "%s is not empty: %s",
				       c->sock_dir, strerror(errno));
	} else if (!lstat(c->sock_dir, &st) && unlink(c->sock_dir)) {
		return err_set(e, errno, "%s: %s", c->sock_dir, strerror(errno));
	}
	if (mkdir(c->sock_dir, 0700))
		return err_set(e, errno, "mkdir %s: %s", c->sock_dir,
			       strerror(errno));
	if (geteuid() == 0 && sock_uid != 0) {
		if (chown(c->sock_dir, sock_uid, sock_gid) ||
		    chmod(c->run_dir, 0711))
			return err_set(e, errno, "%s: %s", c->sock_dir,
				       strerror(errno));
	}
	return 0;
}

bool cell_running(const struct cell *c, pid_t *pid)
{
	char lock[PATH_MAX];
	json_t *st;
	bool held;
	int fd;

	cell_path(c, CELL_RUN, "lock", lock);
	fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	if (held && pid) {
		*pid = 0;
		st = cell_status_read(c);
		if (st) {
			*pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
			json_decref(st);
		}
	}
	return held;
}

int cell_status_write(const struct cell *c, json_t *st)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd, ret = 0;
	char *s;

	cell_path(c, CELL_RUN, "status.json", path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	s = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s) || write(fd, "\n", 1) != 1)
		ret = -EIO;
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
out:
	free(s);
	return ret;
}

json_t *cell_status_read(const struct cell *c)
{
	char path[PATH_MAX];

	cell_path(c, CELL_RUN, "status.json", path);
	/* Our own file, but still bounded: status is a few hundred bytes. */
	return json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
}

int cell_clean_run_dir(const struct cell *c)
{
	static const char *const stale[] = { "status.json", "status.json.tmp",
					     "control.sock" };
	char path[PATH_MAX];
	struct dirent *de;
	size_t i;
	DIR *d;
	int n = 0;

	for (i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		cell_path(c, CELL_RUN, stale[i], path);
		if (!unlink(path))
			n++;
	}
	/* Everything in the socket folder is QEMU's or a helper's. */
	d = opendir(c->sock_dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!unlinkat(dirfd(d), de->d_name, 0))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}
