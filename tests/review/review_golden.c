/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * review_golden.c - `walloff review` without the rest of walloff
 *
 * The golden tests (run.py) call "review-golden review ARGS...", exactly as
 * they would call "walloff review ARGS...": this driver only dispatches to
 * the same cmd_review() (launcher/cmd_review.c, compiled in) that
 * launcher/main.c's table calls. It exists so that the review tests do not
 * depend on everything `walloff` links.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"

int main(int argc, char *argv[])
{
	if (argc < 2 || strcmp(argv[1], "review")) {
		fprintf(stderr, "usage: review-golden review ARGS...\n");
		return 4;
	}
	return cmd_review(argc - 1, argv + 1);
}
