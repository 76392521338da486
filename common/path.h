/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * path.h - safe handling of paths that come from profiles and the command line
 */
#ifndef WALLOFF_PATH_H
#define WALLOFF_PATH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/**
 * path_resolve_file() - resolve a path named in a profile to a regular file
 * @base:	folder that relative paths are relative to (the profile's folder)
 * @name:	the path as written in the profile
 * @must_exist:	if false, a missing final component is allowed (its parent
 *		must exist); the result is then the lexical join
 * @out:	resolved absolute path
 * @outlen:	size of @out
 * @e:		error, "reason" only: callers add "file:line:"
 *
 * Relative names may not climb out of @base lexically ("../x", "a/../../x").
 * The fully resolved target (symlinks followed) must not lie in /dev, /proc
 * or /sys and, if it exists, must be a regular file: never a block or
 * character device, a FIFO or a socket.
 *
 * Return: 0 or -errno
 */
int path_resolve_file(const char *base, const char *name, bool must_exist,
		      char *out, size_t outlen, struct err *e);

/**
 * path_escapes() - does a relative path climb above its starting folder?
 * @rel:	relative path
 *
 * Return: true if some prefix of @rel resolves lexically above the start
 */
bool path_escapes(const char *rel);

/**
 * path_dirname() - folder part of a path, "." for a bare name
 * @path:	path
 * @out:	output
 * @outlen:	size of @out
 *
 * Return: 0 or -ENAMETOOLONG
 */
int path_dirname(const char *path, char *out, size_t outlen);

/**
 * path_mkdir_private() - create a folder 0700 (and its parents 0755 when
 * missing) and check that it is a real folder owned by us that no group or
 * other user can list or write (traverse-only 0711 is accepted)
 * @path:	folder
 * @e:		error
 *
 * Return: 0 or -errno
 */
int path_mkdir_private(const char *path, struct err *e);

#endif /* WALLOFF_PATH_H */
