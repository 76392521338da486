/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keys.c - parser for the authorized keys file
 *
 * The file is written by an admin but read by walloff-console, a process
 * that faces the network; it is treated as untrusted input all the same:
 * the whole file is bounded (KEYS_FILE_MAX), each line (KEYS_LINE_MAX) and
 * the number of keys (KEYS_MAX). A line is "<role> <base64 key> <name>"
 * separated by spaces or tabs; '#' at the start of a line (after blanks)
 * makes it a comment. Any bad line fails the whole file with "file:line:
 * reason": a half-read keys file would silently lock people out or, worse,
 * keep a removed key valid. The same key twice is refused too, since its
 * two roles would be ambiguous. NUL bytes and control characters are
 * refused so that names are safe to log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "keys.h"

static const char *const role_names[] = {
    [ROLE_NONE] = "none",
    [ROLE_VIEW] = "view",
    [ROLE_OPERATE] = "operate",
    [ROLE_ADMIN] = "admin",
};

const char *role_name(enum console_role r)
{
	if ((unsigned)r >= sizeof(role_names) / sizeof(role_names[0]))
		return "none";
	return role_names[r];
}

enum console_role role_parse(const char *s)
{
	enum console_role r;

	for (r = ROLE_VIEW; r <= ROLE_ADMIN; r++)
		if (!strcmp(s, role_names[r]))
			return r;
	return ROLE_NONE;
}

bool console_key_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	/* Names also become file names (keygen): no leading dot or dash. */
	if (!n || n > KEYS_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == '@'))
			return false;
	}
	return true;
}

/* Split @line in place into at most @max fields; returns the count. */
static int fields(char *line, char **f, int max)
{
	int n = 0;

	while (*line) {
		while (*line == ' ' || *line == '\t')
			*line++ = '\0';
		if (!*line)
			break;
		if (n == max)
			return max + 1;
		f[n++] = line;
		while (*line && *line != ' ' && *line != '\t')
			line++;
	}
	return n;
}

/* One line; on error @e holds the bare reason (the caller adds where). */
static int parse_line(struct keys *k, char *line, struct err *e)
{
	char *f[3], *p = line;
	struct key_entry ke = {0};
	size_t i;

	for (; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return err_set(e, EINVAL, "control character");
	p = line + strspn(line, " \t");
	if (!*p || *p == '#')
		return 0;
	if (fields(line, f, 3) != 3)
		return err_set(e, EINVAL,
			       "expected '<role> <base64 key> <name>'");
	ke.role = role_parse(f[0]);
	if (ke.role == ROLE_NONE)
		return err_set(e, EINVAL,
			       "unknown role (view, operate or admin)");
	if (console_key_from_b64(ke.pub, f[1]))
		return err_set(e, EINVAL, "not a base64 32-byte public key");
	if (!console_key_name_ok(f[2]))
		return err_set(e, EINVAL,
			       "bad name (1-%d of A-Z a-z 0-9 . _ @ -)",
			       KEYS_NAME_MAX);
	memcpy(ke.name, f[2], strlen(f[2]) + 1);
	for (i = 0; i < k->n; i++)
		if (!sodium_memcmp(k->v[i].pub, ke.pub, sizeof(ke.pub)))
			return err_set(e, EINVAL,
				       "duplicate key (already given to %s)",
				       k->v[i].name);
	if (k->n == KEYS_MAX)
		return err_set(e, E2BIG, "more than %d keys", KEYS_MAX);
	k->v[k->n++] = ke;
	return 0;
}

int keys_parse_at(struct keys *k, const char *text, size_t len,
		  unsigned *bad_line, struct err *e)
{
	char line[KEYS_LINE_MAX + 1];
	size_t pos = 0, ll;
	unsigned lineno = 0;
	const char *nl;
	int r = 0;

	k->n = 0;
	k->v = NULL;
	*bad_line = 0;
	if (len > KEYS_FILE_MAX)
		return err_set(e, EFBIG, "larger than %d bytes", KEYS_FILE_MAX);
	k->v = calloc(KEYS_MAX, sizeof(*k->v));
	if (!k->v)
		return err_set(e, ENOMEM, "out of memory");
	while (pos < len) {
		lineno++;
		nl = memchr(text + pos, '\n', len - pos);
		ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
		/* ll is 0 for an empty line, which cppcheck 2.10 misses */
		/* cppcheck-suppress knownConditionTrueFalse */
		if (ll && text[pos + ll - 1] == '\r')
			ll--;
		if (ll > KEYS_LINE_MAX)
			r = err_set(e, EINVAL, "line longer than %d",
				    KEYS_LINE_MAX);
		else if (memchr(text + pos, '\0', ll))
			r = err_set(e, EINVAL, "NUL byte");
		if (!r) {
			memcpy(line, text + pos, ll);
			line[ll] = '\0';
			r = parse_line(k, line, e);
		}
		if (r) {
			*bad_line = lineno;
			keys_free(k);
			return r;
		}
		pos += nl ? (size_t)(nl - (text + pos)) + 1 : ll;
		if (!nl)
			break;
	}
	return 0;
}

int keys_parse(struct keys *k, const char *text, size_t len, const char *fname,
	       struct err *e)
{
	unsigned line;
	struct err bare;
	int r;

	r = keys_parse_at(k, text, len, &line, &bare);
	if (!r)
		return 0;
	if (line)
		return err_set(e, -r, "%s:%u: %s", fname, line, bare.msg);
	return err_set(e, -r, "%s: %s", fname, bare.msg);
}

int keys_load(struct keys *k, const char *path, struct err *e)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	k->n = 0;
	k->v = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	buf = malloc(KEYS_FILE_MAX + 1);
	if (!buf) {
		r = err_set(e, ENOMEM, "%s: out of memory", path);
		goto out;
	}
	/* Read one byte more than allowed to detect oversized files. */
	while (len <= KEYS_FILE_MAX) {
		n = read(fd, buf + len, KEYS_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_set(e, errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	r = keys_parse(k, buf, len, path, e);
out:
	free(buf);
	close(fd);
	return r;
}

const struct key_entry *keys_find(const struct keys *k,
				  const uint8_t pub[static 32])
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (!sodium_memcmp(k->v[i].pub, pub, 32))
			return &k->v[i];
	return NULL;
}

void keys_free(struct keys *k)
{
	free(k->v);
	k->v = NULL;
	k->n = 0;
}
