/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_check.c - `walloff check PROFILE...`: validate profiles
 *
 * Each profile is parsed and validated exactly as `walloff run` would, except
 * that the image and keys files may be missing (they are often created after
 * the profile is written). The first error of each profile is printed as
 * "file:line: reason". Exit 0 if all are valid, 3 if any is invalid, 2 on
 * usage errors. `walloff check --list-keys` prints the key table instead,
 * so documentation (walloff.cell(5)) can be checked against the parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "profile.h"

int cmd_check(int argc, char *argv[])
{
	struct profile *p;
	struct err e;
	int i, bad = 0;

	if (argc < 2 || !strcmp(argv[1], "--help")) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: walloff check PROFILE...\n"
			"       walloff check --list-keys\n"
			"Validates each profile; prints 'file:line: reason' for the first\n"
			"error in each. Exit: 0 all valid, 3 any invalid, 2 usage.\n"
			"--list-keys prints every accepted 'SECTION KEY' instead.\n");
		return argc < 2 ? 2 : 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--list-keys")) {
		profile_print_keys(stdout);
		return 0;
	}
	p = malloc(sizeof(*p));
	if (!p) {
		fprintf(stderr, "walloff check: out of memory\n");
		return 1;
	}
	for (i = 1; i < argc; i++) {
		err_clear(&e);
		if (profile_load(argv[i], 0, p, &e)) {
			fprintf(stderr, "%s\n", e.msg);
			bad = 1;
			continue;
		}
		printf("%s: ok (cell %s)", argv[i], p->name);
		if (p->has_disk && !p->image_exists)
			printf(", image not found yet");
		if (p->has_console && !p->keys_exists)
			printf(", keys file not found yet");
		printf("\n");
	}
	free(p);
	return bad ? 3 : 0;
}
