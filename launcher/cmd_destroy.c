/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_destroy.c - `walloff destroy CELL [--yes]`: crypto-erase a cell
 *
 * A persistent cell's disk is a LUKS-encrypted overlay whose only key is
 * STATE/disk.key (disk.c). Destroying the key destroys the data, even if
 * the overlay's blocks survive on the medium (SSD remapping, backups of the
 * overlay, a filesystem that does not overwrite in place). So, in order:
 *   1. refuse while the cell runs (we take the cell's lock for the whole
 *      operation, so it cannot start meanwhile);
 *   2. ask on a terminal (type the cell's name) unless --yes; without a
 *      terminal, --yes is required;
 *   3. overwrite disk.key with random bytes, fsync, unlink it, fsync the
 *      folder: from here on the overlay is ciphertext without a key;
 *   4. remove the overlay and everything else in the state folder (logs,
 *      dormancy and review records, console state) except audit.jsonl,
 *      which records the destruction and is kept as evidence.
 * Overwriting is best effort on flash and copy-on-write filesystems; the
 * guarantee comes from the key never having been stored anywhere else.
 *
 * Exit: 0 destroyed, 1 error or running, 2 usage or not confirmed.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "cell.h"
#include "cmds.h"
#include "disk.h"
#include "profile.h"

/* Keys are 64 bytes; overwrite whatever is there, up to this much. */
#define WIPE_MAX	4096
#define RM_NFTW_FDS	16

static const char *audit_keep;	/* nftw() has no context argument */
static unsigned removed;

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	if (ftw->level == 0 || !strcmp(path, audit_keep))
		return 0;
	if ((type == FTW_DP ? rmdir(path) : unlink(path)) == 0)
		removed++;
	else
		fprintf(stderr, "walloff destroy: %s: %s\n", path,
			strerror(errno));
	return 0;
}

/* Step 3. Return: 1 erased, 0 there was no key, -errno. */
static int erase_key(const char *key, const char *dir)
{
	unsigned char junk[WIPE_MAX];
	struct stat st;
	size_t n;
	int fd, dfd, r = 1;

	fd = open(key, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	n = st.st_size > 0 && st.st_size < WIPE_MAX ? (size_t)st.st_size :
							 WIPE_MAX;
	randombytes_buf(junk, n);
	if (pwrite(fd, junk, n, 0) != (ssize_t)n || fsync(fd))
		r = -errno;
	close(fd);
	sodium_memzero(junk, sizeof(junk));
	if (r < 0)
		return r;
	if (unlink(key))
		return -errno;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 1;
}

static bool confirm(const char *name)
{
	char line[64];

	fprintf(stderr, "Destroy cell %s: its encrypted disk becomes unreadable "
		"(the key is erased) and its state is deleted; the audit log "
		"is kept.\nType the cell name to confirm: ", name);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\n")] = '\0';
	return !strcmp(line, name);
}

int cmd_destroy(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char key[PATH_MAX], ovl[PATH_MAX], log[PATH_MAX];
	struct audit *a = NULL;
	bool yes = false, had_ovl;
	int c, stale, r, ret = 1;
	struct cell cell;
	struct stat st;
	struct err e;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+yh", opts, NULL)) != -1) {
		switch (c) {
		case 'y':
			yes = true;
			break;
		case 'h':
			printf("usage: walloff destroy CELL [--yes]\n"
			       "Crypto-erases a cell: overwrites and removes its disk key\n"
			       "(the encrypted disk becomes unreadable), then removes the\n"
			       "disk and all other state except the audit log, which\n"
			       "records the destruction. Asks on a terminal unless --yes.\n"
			       "Exit: 0 destroyed, 1 error or cell running, 2 usage or\n"
			       "not confirmed.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || !profile_name_valid(argv[optind])) {
		fprintf(stderr, "usage: walloff destroy CELL [--yes]\n");
		return 2;
	}
	err_clear(&e);
	if (sodium_init() < 0 || cell_init(&cell, argv[optind], &e)) {
		fprintf(stderr, "walloff destroy: %s\n", e.msg);
		return 1;
	}
	if (lstat(cell.state_dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "walloff destroy: cell %s has no state (%s)\n",
			cell.name, cell.state_dir);
		return 1;
	}
	/* Holding the lock: the cell is not running and cannot start. */
	if (cell_lock(&cell, geteuid(), getegid(), &stale, &e)) {
		fprintf(stderr, "walloff destroy: %s%s\n", e.msg,
			e.code == EBUSY ? ": stop it first (walloff stop)" : "");
		return 1;
	}
	if (!yes && !isatty(0)) {
		fprintf(stderr, "walloff destroy: not a terminal: confirm with "
			"--yes\n");
		ret = 2;
		goto out;
	}
	if (!yes && !confirm(cell.name)) {
		fprintf(stderr, "walloff destroy: not confirmed, nothing done\n");
		ret = 2;
		goto out;
	}
	cell_path(&cell, CELL_STATE, "audit.jsonl", log);
	cell_path(&cell, CELL_STATE, DISK_KEY_FILE, key);
	cell_path(&cell, CELL_STATE, DISK_OVERLAY_FILE, ovl);
	a = audit_open(log, cell.name, &e);
	if (!a || audit_logf(a, "destroy-started", "{s:i}", "uid",
			     (int)getuid())) {
		fprintf(stderr, "walloff destroy: audit log: %s\n",
			a ? strerror(EIO) : e.msg);
		goto out;
	}
	r = erase_key(key, cell.state_dir);
	if (r < 0) {
		fprintf(stderr, "walloff destroy: erasing %s: %s; nothing else "
			"removed\n", key, strerror(-r));
		audit_logf(a, "destroy-failed", "{s:s}", "error", strerror(-r));
		goto out;
	}
	had_ovl = !lstat(ovl, &st);
	audit_keep = log;
	removed = 0;
	nftw(cell.state_dir, rm_entry, RM_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
	if (audit_logf(a, "destroyed", "{s:b, s:b, s:i}", "key_erased", r == 1,
		       "disk_removed", had_ovl && lstat(ovl, &st), "files_removed",
		       (int)removed)) {
		fprintf(stderr, "walloff destroy: audit log not written\n");
		goto out;
	}
	printf("cell %s destroyed: %s; %u file(s) removed; audit log kept: %s\n",
	       cell.name, r == 1 ? "disk key overwritten and removed (the "
	       "encrypted disk is unreadable)" : "there was no disk key",
	       removed, log);
	ret = 0;
out:
	audit_close(a);
	cell_clean_run_dir(&cell);
	close(cell.lock_fd);
	return ret;
}
