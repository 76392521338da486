/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_net.c - `walloff net cleanup [CELL]`
 *
 * nft mode leaves kernel objects behind only if the supervisor is killed
 * (kill -9, power loss before reboot): the cell's nftables table (the tap
 * vanishes with QEMU, being non-persistent). The next `walloff run` of the
 * cell removes them itself; this command does it by hand. Without CELL it
 * removes every walloff_* table (and its cell's tap) whose cell is not
 * running under this state folder. A running cell is never touched: its
 * supervisor holds the cell lock.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cell.h"
#include "cmds.h"
#include "nft_net.h"
#include "nft_rules.h"
#include "profile.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: walloff net cleanup [CELL]\n"
		"Removes the nftables table (walloff_CELL) and tap (wo-CELL) a\n"
		"killed nft-mode cell left behind; without CELL, those of every\n"
		"cell that is not running. Needs root or CAP_NET_ADMIN.\n"
		"Exit: 0 done, 1 error, 2 usage.\n");
}

/* @all: a running cell is skipped, not an error (it owns its table). */
static int clean_one(const char *name, bool all)
{
	struct cell cell;
	struct err e;
	pid_t pid;

	if (cell_init(&cell, name, &e)) {
		fprintf(stderr, "walloff net cleanup: %s\n", e.msg);
		return 1;
	}
	if (cell_running(&cell, &pid)) {
		fprintf(stderr, "walloff net cleanup: cell %s is running (pid %d)%s\n",
			name, (int)pid, all ? ": skipped" : "; stop it first");
		return all ? 0 : 1;
	}
	if (nft_net_cleanup(name, &e)) {
		fprintf(stderr, "walloff net cleanup: %s\n", e.msg);
		return 1;
	}
	printf("%s: nftables table and tap removed (if there were any)\n", name);
	return 0;
}

struct all {
	int ret;
	int n;
	char cells[64][PROFILE_NAME_MAX + 1];	/* bounded: see below */
};

static void collect(const char *cell, void *opaque)
{
	struct all *a = opaque;
	int i;

	for (i = 0; i < a->n; i++)
		if (!strcmp(a->cells[i], cell))
			return;	/* inet and bridge tables of one cell */
	if (a->n == (int)(sizeof(a->cells) / sizeof(a->cells[0]))) {
		a->ret = 1;	/* more than 64: run again */
		return;
	}
	snprintf(a->cells[a->n++], sizeof(a->cells[0]), "%s", cell);
}

int cmd_net(int argc, char *argv[])
{
	static struct all a;
	struct err e;
	int i, r;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || argc > 3 || strcmp(argv[1], "cleanup")) {
		usage(stderr);
		return 2;
	}
	if (argc == 3) {
		if (!profile_name_valid(argv[2])) {
			fprintf(stderr, "walloff net cleanup: '%s' is not a cell "
				"name\n", argv[2]);
			return 2;
		}
		return clean_one(argv[2], false);
	}
	if (!nft_net_capable()) {
		fprintf(stderr, "walloff net cleanup: needs root or "
			"CAP_NET_ADMIN\n");
		return 1;
	}
	memset(&a, 0, sizeof(a));
	r = nft_cells_with_tables(collect, &a, &e);
	if (r < 0) {
		fprintf(stderr, "walloff net cleanup: %s\n", e.msg);
		return 1;
	}
	for (i = 0; i < a.n; i++)
		if (clean_one(a.cells[i], true))
			a.ret = 1;
	if (!a.n)
		printf("no walloff nftables tables\n");
	return a.ret;
}
