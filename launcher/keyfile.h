/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyfile.h - a minimal, hostile-safe reader of a console authorized-keys
 * file, for `walloff review` (the console proxy has its own loader)
 *
 *   line := role SP base64-public-key SP name      ("#" comments, blank lines)
 *   role := "view" | "operate" | "admin"
 */
#ifndef WALLOFF_KEYFILE_H
#define WALLOFF_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define KEYFILE_KEY_BYTES	32	/* Curve25519 static key (Noise_XX) */
#define KEYFILE_NAME_MAX	64	/* a person's or a team's short name */
/* role + 44 base64 characters + name, with slack */
#define KEYFILE_LINE_MAX	256
/* hundreds of keys; more is not something a reviewer can check */
#define KEYFILE_FILE_MAX	(64 * 1024)
/* far more people than should ever reach one legacy console */
#define KEYFILE_MAX_KEYS	256

enum keyfile_role { KEY_ROLE_VIEW, KEY_ROLE_OPERATE, KEY_ROLE_ADMIN };

struct keyfile_entry {
	enum keyfile_role role;
	unsigned char key[KEYFILE_KEY_BYTES];
	char name[KEYFILE_NAME_MAX + 1];
};

/* What review needs to know about a keys file. */
struct keyfile_summary {
	bool is_symlink;	/* the path itself is a symbolic link */
	bool is_regular;
	unsigned mode;		/* permission bits (07777) */
	unsigned n_keys[3];	/* per enum keyfile_role */
	int bad_line;		/* first invalid line, 0 if none */
	char bad_reason[96];
};

/**
 * keyfile_parse_line() - parse one line of a keys file
 * @line:	the line without its newline, NUL-terminated
 * @out:	the entry, filled when 0 is returned
 * @e:		reason when invalid
 *
 * Return: 0 for an entry, 1 for a blank or comment line, -EINVAL if invalid
 */
int keyfile_parse_line(const char *line, struct keyfile_entry *out,
		       struct err *e);

/**
 * keyfile_scan() - check and count every line of a keys file's content
 * @buf:	content, @len bytes plus a NUL at buf[len]; modified (split)
 * @len:	length
 * @s:		output: n_keys and bad_line/bad_reason are updated
 *
 * Stops at the first bad line (NUL byte, invalid line, too many keys).
 */
void keyfile_scan(char *buf, size_t len, struct keyfile_summary *s);

/**
 * keyfile_inspect() - look at a keys file without following a symlink
 * @path:	the keys file as the profile names it (not resolved)
 * @s:		output; a symlink or non-regular file is reported, not read
 * @e:		error (cannot open/read, too large)
 *
 * Return: 0 (see @s for the verdict) or -errno
 */
int keyfile_inspect(const char *path, struct keyfile_summary *s,
		    struct err *e);

/**
 * keyfile_role_str() - role as written in the file
 * @r:		role
 *
 * Return: "view", "operate" or "admin"
 */
const char *keyfile_role_str(enum keyfile_role r);

#endif /* WALLOFF_KEYFILE_H */
