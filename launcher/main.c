/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c - the walloff command: one table of subcommands
 *
 * Each subcommand lives in its own file (launcher/cmd_NAME.c). This file only
 * dispatches: "walloff NAME ARGS..." calls the table entry with argv shifted
 * so that argv[0] is NAME. A profile run through its shebang line
 * ("#!/usr/bin/env -S walloff run") arrives here as "walloff run ./x.cell".
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cmds.h"

static int cmd_help(int argc, char *argv[]);
static int cmd_version(int argc, char *argv[]);

static const struct subcommand {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *summary;
} subcommands[] = {
	{ "run",     cmd_run,     "start a cell from its profile" },
	{ "check",   cmd_check,   "validate profiles" },
	{ "review",  cmd_review,  "security report for profiles" },
	{ "stop",    cmd_stop,    "power a running cell down" },
	{ "status",  cmd_status,  "list running cells" },
	{ "log",     cmd_log,     "print a cell's audit log" },
	{ "serial",  cmd_serial,  "attach the terminal to a cell's serial port" },
	{ "keygen",  cmd_keygen,  "create a console key for a person" },
	{ "connect", cmd_connect, "open a cell's console through its proxy" },
	{ "net",     cmd_net,     "nft mode: remove what a killed cell left (net cleanup)" },
	{ "qmp",     cmd_qmp,     "send one QMP command to a socket (debugging)" },
	{ "image",   cmd_image,   "import disk images; sweep folders for forgotten ones" },
	{ "destroy", cmd_destroy, "crypto-erase a cell's disk and state" },
	{ "snapshot", cmd_snapshot, "disk snapshots of a stopped persistent cell" },
	{ "export",  cmd_export,  "a cell as libvirt domain and nwfilter XML" },
	{ "unit",    cmd_unit,    "print a systemd service unit for a profile" },
	{ "help",    cmd_help,    "list subcommands" },
	{ "version", cmd_version, "print the version" },
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: walloff COMMAND [ARGS...]\n\ncommands:\n");
	for (i = 0; i < N_SUBCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", subcommands[i].name,
			subcommands[i].summary);
	fprintf(f, "\n'walloff COMMAND --help' describes a command.\n");
}

static int cmd_help(int argc, char *argv[])
{
	size_t i;

	/* "walloff help help" arrives here as "help --help" */
	if (argc > 1 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")) {
		for (i = 0; i < N_SUBCOMMANDS; i++) {
			if (!strcmp(argv[1], subcommands[i].name)) {
				char *hargv[] = { argv[1], "--help", NULL };

				return subcommands[i].main(2, hargv);
			}
		}
		fprintf(stderr, "walloff: no command '%s'\n", argv[1]);
		return 2;
	}
	usage(stdout);
	return 0;
}

static int cmd_version(int argc, char *argv[])
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: walloff version (or walloff --version)\n"
		       "Prints walloff's version.\n");
		return 0;
	}
	printf("walloff %s\n", WALLOFF_VERSION);
	return 0;
}

int main(int argc, char *argv[])
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(0, NULL);

	for (i = 0; i < N_SUBCOMMANDS; i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].main(argc - 1, argv + 1);

	fprintf(stderr, "walloff: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
