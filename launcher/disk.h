/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk.h - the persistent, LUKS-encrypted writable layer of a cell
 */
#ifndef WALLOFF_DISK_H
#define WALLOFF_DISK_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cell.h"
#include "err.h"
#include "profile.h"

/*
 * The key: 32 random bytes, stored as 64 lowercase hex digits, which are
 * the LUKS passphrase of the overlay (QEMU wants a UTF-8 passphrase).
 */
#define DISK_KEY_BYTES		32
#define DISK_KEY_LEN		(2 * DISK_KEY_BYTES)
#define DISK_KEY_FILE		"disk.key"	/* in the state and run folders */
#define DISK_OVERLAY_FILE	"disk.qcow2"	/* in the state folder */

struct disk_open {
	int fd;				/* overlay, read-write, for -add-fd */
	bool created;			/* first run: key and overlay are new */
	char secret[PATH_MAX];		/* RUN/s/disk.key, readable by QEMU */
};

/**
 * disk_persistent_open() - create or open the cell's encrypted overlay and
 * stage its key for QEMU
 * @c:		cell (lock held)
 * @p:		profile (disk_mode persistent)
 * @drop:	QEMU runs as @uid/@gid: the staged key is chowned to it
 * @uid:	QEMU's user
 * @gid:	QEMU's group
 * @out:	result; out->fd is -1 on failure
 * @e:		error: -ENOKEY key missing, -EKEYREJECTED the key does not
 *		unlock the overlay, -EBADMSG damaged key or overlay file,
 *		-ENOENT overlay missing while its key exists
 *
 * First run: 32 bytes from randombytes_buf() go to STATE/disk.key as hex
 * (0600, O_EXCL, fsync'd), then qemu-img creates STATE/disk.qcow2 over the base
 * with encrypt.format=luks and that key file as the secret. Later runs:
 * the key must unlock the overlay (qemu-img check, read-only) before
 * anything else happens. On success the key is copied to RUN/s/disk.key for
 * QEMU's `-object secret,file=` (never its command line); the caller
 * unlinks it with disk_forget_key() once QEMU has read it. On failure
 * nothing in the state folder has been modified (a first-run key is
 * removed again).
 *
 * Return: 0 or -errno
 */
int disk_persistent_open(const struct cell *c, const struct profile *p,
			 bool drop, uid_t uid, gid_t gid, struct disk_open *out,
			 struct err *e);

/**
 * disk_forget_key() - remove the key copy staged for QEMU
 * @c:		cell
 *
 * Called as soon as QMP is connected (QEMU created its secret object while
 * parsing its command line, long before) and again when the cell stops.
 */
void disk_forget_key(const struct cell *c);

/**
 * disk_read_key() - read and check a key file (0600, regular, owned by
 * us, exactly DISK_KEY_LEN hex digits)
 * @path:	key file
 * @key:	output; wipe with sodium_memzero
 * @e:		error
 *
 * Return: 0 or -errno (-ENOKEY missing, -EBADMSG damaged, -EPERM mode)
 */
int disk_read_key(const char *path, unsigned char key[static DISK_KEY_LEN],
		  struct err *e);

/**
 * disk_secret_opt() - "secret,id=ID,format=raw,file=PATH" for --object,
 * with QemuOpts comma escaping
 * @out:	output
 * @len:	size of @out
 * @id:		object id
 * @path:	key file
 *
 * Return: 0 or -ENAMETOOLONG
 */
int disk_secret_opt(char *out, size_t len, const char *id, const char *path);

/**
 * disk_image_spec() - "json:{...}" naming the encrypted overlay for
 * qemu-img, with its key secret and without its backing file (metadata
 * operations never need the base)
 * @ovl:	overlay path
 * @secret_id:	id of the secret object holding the key
 *
 * Return: malloc'd string, or NULL
 */
char *disk_image_spec(const char *ovl, const char *secret_id);

struct audit;

/**
 * disk_start() - the supervisor's persistent-disk step: disk_persistent_open()
 * with its audit records and message
 * @c:		cell (lock held)
 * @p:		profile
 * @a:		the cell's audit log
 * @drop:	QEMU runs as @uid/@gid
 * @uid:	QEMU's user
 * @gid:	QEMU's group
 * @out:	result
 * @run_exit:	set on failure: RUN_DISK for key/overlay problems, else
 *		RUN_ERROR
 *
 * Audits "overlay" {mode: persistent, encrypted, created} or
 * "disk-refused" {error}; the key never appears in either.
 *
 * Return: 0 or -errno
 */
int disk_start(const struct cell *c, const struct profile *p, struct audit *a,
	       bool drop, uid_t uid, gid_t gid, struct disk_open *out,
	       int *run_exit);

#endif /* WALLOFF_DISK_H */
