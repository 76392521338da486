/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keys.h - the authorized keys file: which client key gets which role
 *
 * One key per line: "<role> <base64 X25519 public key> <name>", role one of
 * view, operate, admin. '#' starts a comment line; blank lines are ignored.
 */
#ifndef WALLOFF_KEYS_H
#define WALLOFF_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A keys file line is short; anything longer is a mistake or an attack. */
#define KEYS_LINE_MAX 512
/* Enough for any team; bounds memory and the linear lookup. */
#define KEYS_MAX 4096
/* Whole file: KEYS_MAX lines of typical length, with slack for comments. */
#define KEYS_FILE_MAX (1024 * 1024)
/* Key names appear in audit records and on screens. */
#define KEYS_NAME_MAX 64

enum console_role {
	ROLE_NONE = 0,
	ROLE_VIEW,
	ROLE_OPERATE,
	ROLE_ADMIN,
};

struct key_entry {
	uint8_t pub[32];
	enum console_role role;
	char name[KEYS_NAME_MAX + 1];
};

struct keys {
	size_t n;
	struct key_entry *v;
};

/**
 * keys_parse() - parse a keys file held in memory
 * @k:		result (freed with keys_free(); empty on error)
 * @text:	file contents (need not be NUL-terminated)
 * @len:	length, at most KEYS_FILE_MAX
 * @fname:	file name for "file:line: reason" messages
 * @e:		error
 *
 * Return: 0 or -errno (-EINVAL with the first bad line in @e)
 */
int keys_parse(struct keys *k, const char *text, size_t len, const char *fname,
	       struct err *e);

/**
 * keys_parse_at() - keys_parse() that reports where instead of naming
 * the file: what `walloff review` shows for the file the proxy will load
 * @k:		result (freed with keys_free(); empty on error)
 * @text:	file contents (need not be NUL-terminated)
 * @len:	length, at most KEYS_FILE_MAX
 * @bad_line:	set to the first bad line, or 0 (also when the error is not
 *		about one line: too large, out of memory)
 * @e:		error: the bare reason, e.g. "duplicate key (already given to
 *		alice)"
 *
 * Return: 0 or -errno
 */
int keys_parse_at(struct keys *k, const char *text, size_t len,
		  unsigned *bad_line, struct err *e);

/**
 * keys_load() - read and parse a keys file
 * @k:		result
 * @path:	file
 * @e:		error
 *
 * Return: 0 or -errno
 */
int keys_load(struct keys *k, const char *path, struct err *e);

/**
 * keys_find() - look up a public key
 * @k:		keys
 * @pub:	public key
 *
 * Return: the entry, or NULL if the key is not authorized
 */
const struct key_entry *keys_find(const struct keys *k,
				  const uint8_t pub[static 32]);

/**
 * keys_free() - release a parsed keys file
 * @k:		keys (left empty)
 */
void keys_free(struct keys *k);

/**
 * role_name() - "view", "operate", "admin" (or "none")
 * @r:		role
 *
 * Return: static string
 */
const char *role_name(enum console_role r);

/**
 * role_parse() - the inverse of role_name()
 * @s:		string
 *
 * Return: role, ROLE_NONE if unknown
 */
enum console_role role_parse(const char *s);

#endif /* WALLOFF_KEYS_H */
