/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_keygen.c - `walloff keygen NAME`: a new console key for a person
 *
 * Writes NAME's private key (0600, never overwriting an existing file) to
 * --out FILE or to $XDG_CONFIG_HOME/walloff/NAME.key (~/.config/walloff/,
 * created 0700), and prints on stdout the one line an admin adds to a
 * cell's keys file: "<role> <base64 public key> NAME". Guidance goes to
 * stderr so that `walloff keygen alice >> keys/authorized` works. If the
 * key's folder can be read by others, a warning says so: the file itself
 * is private, but its name and presence are not.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "cmds.h"
#include "path.h"

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: walloff keygen NAME [--out FILE] [--role "
	       "view|operate|admin]\n"
	       "Creates a console key for NAME (default file\n"
	       "$XDG_CONFIG_HOME/walloff/NAME.key) and prints the line to add\n"
	       "to a cell's keys file (default role: operate).\n");
}

static int default_path(const char *name, char *out, size_t len, struct err *e)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX];
	int n;

	if (xdg && *xdg == '/')
		n = snprintf(dir, sizeof(dir), "%s/walloff", xdg);
	else if (home && *home == '/')
		n = snprintf(dir, sizeof(dir), "%s/.config/walloff", home);
	else
		return err_set(
		    e, ENOENT,
		    "neither XDG_CONFIG_HOME nor HOME is set; use --out FILE");
	if (n < 0 || (size_t)n >= sizeof(dir))
		return err_set(e, ENAMETOOLONG, "config folder name too long");
	if (path_mkdir_private(dir, e))
		return -e->code;
	n = snprintf(out, len, "%s/%s.key", dir, name);
	if (n < 0 || (size_t)n >= len)
		return err_set(e, ENAMETOOLONG, "key file name too long");
	return 0;
}

int cmd_keygen(int argc, char *argv[])
{
	const char *name = NULL, *out = NULL, *role = "operate";
	char path[PATH_MAX], dir[PATH_MAX], b64[CONSOLE_B64_LEN];
	char fpr[CONSOLE_FPR_LEN];
	uint8_t pub[CONSOLE_KEY_LEN];
	struct err e = {0};
	struct stat st;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--role") && i + 1 < argc) {
			role = argv[++i];
		} else if (argv[i][0] != '-' && !name) {
			name = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!name) {
		usage(stderr);
		return 2;
	}
	if (!console_key_name_ok(name)) {
		fprintf(stderr,
			"walloff keygen: bad name '%s' (1-64 of A-Z a-z 0-9 . "
			"_ @ -)\n",
			name);
		return 2;
	}
	if (strcmp(role, "view") && strcmp(role, "operate") &&
	    strcmp(role, "admin")) {
		fprintf(
		    stderr,
		    "walloff keygen: role must be view, operate or admin\n");
		return 2;
	}
	if (out) {
		if (snprintf(path, sizeof(path), "%s", out) >=
		    (int)sizeof(path)) {
			fprintf(stderr, "walloff keygen: name too long\n");
			return 1;
		}
	} else if (default_path(name, path, sizeof(path), &e)) {
		fprintf(stderr, "walloff keygen: %s\n", e.msg);
		return 1;
	}
	if (console_key_generate(path, pub, &e)) {
		if (e.code == EEXIST)
			fprintf(stderr,
				"walloff keygen: %s exists; not overwriting a "
				"key\n",
				path);
		else
			fprintf(stderr, "walloff keygen: %s\n", e.msg);
		return 1;
	}
	if (!path_dirname(path, dir, sizeof(dir)) && !stat(dir, &st) &&
	    (st.st_mode & (S_IRGRP | S_IROTH)))
		fprintf(stderr,
			"walloff keygen: warning: folder %s is readable by "
			"others\n",
			dir);
	console_key_b64(b64, pub);
	console_fingerprint(fpr, pub);
	fprintf(stderr,
		"walloff keygen: private key written to %s (0600)\n"
		"fingerprint %s\n"
		"add this line to the cell's keys file:\n",
		path, fpr);
	printf("%s %s %s\n", role, b64, name);
	return 0;
}
