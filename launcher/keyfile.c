/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyfile.c - read a console authorized-keys file the way a reviewer needs
 *
 * `walloff review` must say whether the console can be administered (at
 * least one admin key) and whether the file can be trusted (not a symlink,
 * a regular file, nobody but its owner may change or read it). The file is
 * written by humans and may be anything, so the reader is bounded: the path
 * is lstat()ed and opened with O_NOFOLLOW|O_NONBLOCK (a symlink or a FIFO
 * never blocks or redirects us), at most KEYS_FILE_MAX bytes are read,
 * lines are at most KEYFILE_LINE_MAX characters, and each line must be
 * exactly "role base64-key name" with printable ASCII only. The first bad
 * line is reported with its number; reading stops there.
 *
 * Public keys are not secrets, so nothing here is wiped. The console proxy
 * (console/) has its own loader; this one only counts and checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"

static void bad(struct keyfile_summary *s, unsigned line, const char *reason)
{
	size_t n = strnlen(reason, sizeof(s->bad_reason) - 1);

	s->bad_line = line ? (int)line : 1;
	memcpy(s->bad_reason, reason, n);
	s->bad_reason[n] = '\0';
}

void keyfile_scan(const char *buf, size_t len, struct keyfile_summary *s)
{
	struct keys k;
	unsigned line;
	struct err e;
	size_t i;

	if (keys_parse_at(&k, buf, len, &line, &e)) {
		bad(s, line, e.msg);
		return;
	}
	for (i = 0; i < k.n; i++)
		s->n_keys[k.v[i].role]++;
	keys_free(&k);
}

int keyfile_inspect(const char *path, struct keyfile_summary *s,
		    struct err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, ret = 0;

	memset(s, 0, sizeof(*s));
	if (lstat(path, &st))
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		s->is_symlink = true;
		return 0;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
		  O_NOCTTY);
	if (fd < 0)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		ret = err_set(e, errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	s->mode = st.st_mode & 07777;
	s->is_regular = S_ISREG(st.st_mode);
	if (!s->is_regular)
		goto out;
	if (st.st_size > KEYS_FILE_MAX) {
		ret = err_set(e, EFBIG, "%s: larger than %d bytes", path,
			      KEYS_FILE_MAX);
		goto out;
	}
	buf = malloc(KEYS_FILE_MAX + 1);
	if (!buf) {
		ret = err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	/* The size may change under us: the buffer bound is what counts. */
	while (len < KEYS_FILE_MAX + 1) {
		n = read(fd, buf + len, KEYS_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = err_set(e, errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > KEYS_FILE_MAX) {
		ret = err_set(e, EFBIG, "%s: larger than %d bytes", path,
			      KEYS_FILE_MAX);
		goto out;
	}
	buf[len] = '\0';
	keyfile_scan(buf, len, s);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}
