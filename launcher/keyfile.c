/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyfile.c - read a console authorized-keys file the way a reviewer needs
 *
 * `walloff review` must say whether the console can be administered (at
 * least one admin key) and whether the file can be trusted (not a symlink,
 * a regular file, nobody but its owner may change or read it). The file is
 * written by humans and may be anything, so the reader is bounded: the path
 * is lstat()ed and opened with O_NOFOLLOW|O_NONBLOCK (a symlink or a FIFO
 * never blocks or redirects us), at most KEYFILE_FILE_MAX bytes are read,
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

static const char *const role_names[] = { "view", "operate", "admin" };

const char *keyfile_role_str(enum keyfile_role r)
{
	return role_names[r];
}

/* Split off the next field: runs of spaces/tabs separate fields. */
static size_t field(const char *s, size_t *skip)
{
	size_t n = 0, k;

	while (s[n] && s[n] != ' ' && s[n] != '\t')
		n++;
	for (k = n; s[k] == ' ' || s[k] == '\t'; k++)
		;
	*skip = k;
	return n;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	       c == '@';
}

int keyfile_parse_line(const char *line, struct keyfile_entry *out,
		       struct err *e)
{
	/* base64 of 32 bytes with padding: 44 characters. */
	char b64[4 * ((KEYFILE_KEY_BYTES + 2) / 3) + 1];
	const char *s = line;
	size_t n, skip, i, bin_len = 0;
	int r;

	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
			return err_set(e, EINVAL, "control character");
		else if ((unsigned char)line[i] >= 0x7f)
			return err_set(e, EINVAL, "not printable ASCII");
	if (i > KEYFILE_LINE_MAX)
		return err_set(e, EINVAL, "longer than %d characters",
			       KEYFILE_LINE_MAX);
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '#')
		return 1;

	n = field(s, &skip);
	for (r = 0; r < 3; r++)
		if (strlen(role_names[r]) == n && !strncmp(s, role_names[r], n))
			break;
	if (r == 3)
		return err_set(e, EINVAL, "role '%.*s' is not view, operate or admin",
			       (int)(n > 16 ? 16 : n), s);
	out->role = (enum keyfile_role)r;
	s += skip;

	n = field(s, &skip);
	if (n != sizeof(b64) - 1)
		return err_set(e, EINVAL, "public key is not %zu base64 characters",
			       sizeof(b64) - 1);
	memcpy(b64, s, n);
	b64[n] = '\0';
	if (sodium_base642bin(out->key, sizeof(out->key), b64, n, NULL,
			      &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL) ||
	    bin_len != KEYFILE_KEY_BYTES)
		return err_set(e, EINVAL, "public key is not base64 of %d bytes",
			       KEYFILE_KEY_BYTES);
	s += skip;

	n = field(s, &skip);
	if (n == 0)
		return err_set(e, EINVAL, "missing name after the key");
	if (n > KEYFILE_NAME_MAX)
		return err_set(e, EINVAL, "name longer than %d characters",
			       KEYFILE_NAME_MAX);
	for (i = 0; i < n; i++)
		if (!name_char(s[i]))
			return err_set(e, EINVAL,
				       "name may only use A-Z a-z 0-9 . _ - @");
	if (s[skip])
		return err_set(e, EINVAL, "text after the name");
	memcpy(out->name, s, n);
	out->name[n] = '\0';
	return 0;
}

static void bad(struct keyfile_summary *s, int line, const char *reason)
{
	size_t n = strnlen(reason, sizeof(s->bad_reason) - 1);

	s->bad_line = line;
	memcpy(s->bad_reason, reason, n);
	s->bad_reason[n] = '\0';
}

void keyfile_scan(char *buf, size_t len, struct keyfile_summary *s)
{
	struct keyfile_entry ent;
	unsigned total = 0;
	char *p, *nl;
	int line = 0, r;
	struct err le;
	char *nul = memchr(buf, '\0', len);

	if (nul) {
		for (p = buf, line = 1; p < nul; p++)
			line += *p == '\n';
		bad(s, line, "NUL byte");
		return;
	}
	for (p = buf, line = 0; p < buf + len;) {
		line++;
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (strlen(p) && p[strlen(p) - 1] == '\r')
			p[strlen(p) - 1] = '\0';
		r = keyfile_parse_line(p, &ent, &le);
		if (r < 0) {
			bad(s, line, le.msg);
			return;
		}
		if (r == 0) {
			if (++total > KEYFILE_MAX_KEYS) {
				snprintf(le.msg, sizeof(le.msg),
					 "more than %d keys", KEYFILE_MAX_KEYS);
				bad(s, line, le.msg);
				return;
			}
			s->n_keys[ent.role]++;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
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
	if (st.st_size > KEYFILE_FILE_MAX) {
		ret = err_set(e, EFBIG, "%s: larger than %d bytes", path,
			      KEYFILE_FILE_MAX);
		goto out;
	}
	buf = malloc(KEYFILE_FILE_MAX + 1);
	if (!buf) {
		ret = err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	/* The size may change under us: the buffer bound is what counts. */
	while (len < KEYFILE_FILE_MAX + 1) {
		n = read(fd, buf + len, KEYFILE_FILE_MAX + 1 - len);
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
	if (len > KEYFILE_FILE_MAX) {
		ret = err_set(e, EFBIG, "%s: larger than %d bytes", path,
			      KEYFILE_FILE_MAX);
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
