/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_run.c - `walloff run [--dry-run] PROFILE`
 *
 * Loads and validates the profile, refuses features that are parsed but not
 * implemented yet (rather than silently ignoring a security setting), and
 * hands over to the supervisor. --dry-run prints the exact QEMU command
 * line instead, without creating anything.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel.h"
#include "config.h"
#include "cmds.h"
#include "dirs.h"
#include "profile.h"
#include "qemu_argv.h"
#include "nft_rules.h"
#include "review.h"
#include "supervisor.h"
#include "tap.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: walloff run [--dry-run] [--accept-risk REASON] PROFILE\n"
		"Starts the cell described by PROFILE and supervises it until the\n"
		"guest powers off (Ctrl-C or `walloff stop CELL` press the ACPI power\n"
		"button). --dry-run prints the QEMU command line and exits.\n"
		"Exit: 0 guest powered off, 1 error, 2 usage, 3 invalid profile or\n"
		"feature not available, 4 device model verification failed, 5 base\n"
		"image does not match its sha256 pin, 6 guest did not power off in\n"
		"time (QEMU quit), 7 QEMU died, 8 the security review FAILs and no\n"
		"--accept-risk \"REASON\" was given (the reason is audited), 9 the\n"
		"encrypted disk's key is missing, wrong or damaged, 10 the cell is\n"
		"stale and [dormancy] on-stale = refuse.\n");
}

/* Settings that parse but whose enforcement has not landed: refuse them. */
static const char *unavailable(const struct profile *p)
{
	if (p->net != NET_NONE && p->net_failure == NETFAIL_RESTART)
		return "[network] on-failure = restart";
	return NULL;
}

int cmd_run(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "accept-risk", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *accept_risk = NULL;
	char fails[256] = "";
	bool dry = false;
	struct profile *p;
	const char *what;
	struct err e;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+nr:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry = true;
			break;
		case 'r':
			accept_risk = optarg;
			if (!*accept_risk || strlen(accept_risk) > 500) {
				fprintf(stderr, "walloff run: --accept-risk needs a reason "
					"(1 to 500 characters)\n");
				return RUN_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return RUN_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return RUN_USAGE;
	}
	p = malloc(sizeof(*p));
	if (!p)
		return RUN_ERROR;
	err_clear(&e);
	if (profile_load(argv[optind], dry ? 0 : PROFILE_FILES_MUST_EXIST, p,
			 &e)) {
		fprintf(stderr, "%s\n", e.msg);
		free(p);
		return e.code == EINVAL ? RUN_INVALID : RUN_ERROR;
	}
	if (!p->has_disk) {
		fprintf(stderr, "%s: a cell needs a [disk] to run\n", p->path);
		free(p);
		return RUN_INVALID;
	}

	what = unavailable(p);
	if (what && !dry) {
		fprintf(stderr,
			"%s: %s is not available in this version of walloff yet; "
			"refusing to run rather than ignore it\n", p->path, what);
		free(p);
		return RUN_INVALID;
	}

	if (dry) {
		char run[PATH_MAX], why[200], key[PATH_MAX + 16];
		struct strv sv = { 0 };
		struct qemu_plan plan = { 0 };
		bool kvm = false;

		if (dirs_cell(p->name, NULL, run, sizeof(run) - 2, &e) ||
		    accel_resolve(p->accel, &kvm, why, sizeof(why), &e)) {
			fprintf(stderr, "walloff: %s\n", e.msg);
			free(p);
			return RUN_ERROR;
		}
		plan.qemu = getenv("WALLOFF_QEMU") ? getenv("WALLOFF_QEMU") :
						     WALLOFF_QEMU;
		strcat(run, "/s");	/* the socket folder, see cell.h */
		plan.run_dir = run;
		plan.kvm = kvm;
		/* images: a persistent disk's key, as the supervisor stages it */
		snprintf(key, sizeof(key), "%s/disk.key", run);
		if (p->disk_mode == DISK_PERSISTENT) {
			plan.disk_secret = key;
			plan.memory = true;	/* live snapshots: snapmem.c */
		}
		ret = qemu_argv_build(p, &plan, &sv, &e);
		if (ret) {
			fprintf(stderr, "walloff: %s\n", e.msg);
			free(p);
			return RUN_INVALID;
		}
		printf("# accel: %s (%s)\n", kvm ? "kvm" : "tcg", why);
		printf("# fd %d: %s (read-only, sha256 checked at start)\n",
		       QEMU_FD_BASE, p->image);
		if (p->disk_mode == DISK_PERSISTENT)
			printf("# fd %d: persistent LUKS-encrypted qcow2 overlay "
			       "(state folder), key read from %s\n"
			       "# fd %d: live snapshots' memory image, qcow2 in "
			       "LUKS with the same key\n",
			       QEMU_FD_OVERLAY, key, QEMU_FD_MEMORY);
		else
			printf("# fd %d: fresh qcow2 overlay, unlinked once open\n",
			       QEMU_FD_OVERLAY);
		if (p->net == NET_NFT) {	/* nft mode hook */
			char tap[TAP_NAME_MAX], table[NFT_TABLE_NAME_MAX];

			tap_name(p->name, tap);
			nft_table_name(p->name, table);
			printf("# fd %d: tap %s, filtered by nftables table "
			       "%s\n", QEMU_FD_TAP, tap, table);
		}
		if (what)
			printf("# NOTE: %s is not available yet: `walloff run` "
			       "will refuse this profile\n", what);
		qemu_argv_print(sv.v, stdout);
		strv_free(&sv);
		free(p);
		return 0;
	}

	/* The security review gates the start: a FAIL is a risk someone has
	 * to accept by name, and the acceptance goes into the audit log. */
	ret = review_failures(p, fails, sizeof(fails));
	if (ret < 0) {
		free(p);
		return RUN_ERROR;
	}
	if (ret > 0 && !accept_risk) {
		fprintf(stderr,
			"%s: the security review FAILs (%s); see `walloff review %s`.\n"
			"Fix the profile, or run with --accept-risk \"REASON\" to accept "
			"the risk on record\n", p->path, fails, p->path);
		free(p);
		return RUN_REVIEW;
	}
	ret = supervisor_run(p, ret > 0 ? accept_risk : NULL, fails);
	free(p);
	return ret;
}
