/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyfile.h - a console authorized-keys file as `walloff review` sees it:
 * how it is stored (symlink, type, mode) and what the console proxy's
 * parser (console/keys.h) makes of its content
 */
#ifndef WALLOFF_KEYFILE_H
#define WALLOFF_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "keys.h"

/* What review needs to know about a keys file. */
struct keyfile_summary {
	bool is_symlink;	/* the path itself is a symbolic link */
	bool is_regular;
	unsigned mode;		/* permission bits (07777) */
	unsigned n_keys[ROLE_ADMIN + 1];	/* per enum console_role */
	int bad_line;		/* first invalid line, 0 if none */
	char bad_reason[96];
};

/**
 * keyfile_scan() - judge a keys file's content as walloff-console would
 * @buf:	content (need not be NUL-terminated)
 * @len:	length
 * @s:		output: n_keys, or bad_line/bad_reason (then no key counts:
 *		the proxy refuses the whole file)
 */
void keyfile_scan(const char *buf, size_t len, struct keyfile_summary *s);

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

#endif /* WALLOFF_KEYFILE_H */
