/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk.c - `[disk] mode = persistent`: an encrypted writable layer
 *
 * A persistent cell keeps its writes in STATE/disk.qcow2, a qcow2 overlay
 * over the pinned, read-only base, encrypted with QEMU's native LUKS
 * support (AES-XTS). The LUKS passphrase is 32 random bytes from libsodium,
 * written as 64 hex digits (QEMU requires a UTF-8 passphrase) in
 * STATE/disk.key (0600, root's state folder). Nothing but the two files
 * ever holds the key: it is never on a command line (QEMU and qemu-img read
 * it from a file through a `secret` object), never logged, and wiped from
 * our memory with sodium_memzero.
 *
 * QEMU runs unprivileged and cannot read the state folder, so each start
 * stages a copy in the cell's socket folder (RUN/s, 0700, QEMU's user) for
 * `-object secret,id=disk0-key,file=RUN/s/disk.key`; QEMU reads it while
 * parsing its command line, and the supervisor unlinks the copy as soon as
 * QMP answers (disk_forget_key()), long before the guest runs.
 *
 * Before every start the key must unlock the overlay (`qemu-img check`,
 * read-only), so a missing, damaged or wrong key is a clear refusal before
 * QEMU starts, and changes nothing. Deleting the key (walloff destroy)
 * makes the overlay unreadable for good: that is the crypto-erase.
 *
 * The LUKS PBKDF iteration time is set to the minimum: the passphrase is a
 * 256-bit random key, so stretching it adds no strength and would cost
 * seconds at every start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "audit.h"
#include "disk.h"
#include "hex.h"
#include "qemu_img.h"
#include "supervisor.h"

/* qemu-img check: 0 clean, 3 leaked clusters only (harmless after a crash). */
#define CHECK_OK		0
#define CHECK_LEAKS		3
/* PBKDF time in ms; see the top comment. */
#define LUKS_ITER_TIME		"10"

int disk_read_key(const char *path, unsigned char key[static DISK_KEY_LEN],
		  struct err *e)
{
	unsigned char raw[DISK_KEY_BYTES];
	char text[DISK_KEY_LEN + 1];
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return err_set(e, ENOKEY, "key file %s is missing", path);
	if (fd < 0)
		return err_set(e, errno, "key file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		r = err_set(e, EBADMSG, "key file %s is not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		r = err_set(e, EPERM, "key file %s must be ours and mode 0600",
			    path);
		goto out;
	}
	if (st.st_size != DISK_KEY_LEN) {
		r = err_set(e, EBADMSG, "key file %s is damaged (%lld bytes, "
			    "expected %d)", path, (long long)st.st_size,
			    DISK_KEY_LEN);
		goto out;
	}
	n = read(fd, key, DISK_KEY_LEN);
	if (n != DISK_KEY_LEN) {
		r = err_set(e, EIO, "key file %s: short read", path);
		goto out;
	}
	memcpy(text, key, DISK_KEY_LEN);
	text[DISK_KEY_LEN] = '\0';
	if (hex_decode(raw, sizeof(raw), text))
		r = err_set(e, EBADMSG, "key file %s is damaged (not hex)", path);
out:
	sodium_memzero(text, sizeof(text));
	sodium_memzero(raw, sizeof(raw));
	close(fd);
	return r;
}

/* Create @path with the key: O_EXCL, @mode, fsync'd. */
static int write_key(const char *path, const unsigned char *key, mode_t mode,
		     bool chown_it, uid_t uid, gid_t gid, struct err *e)
{
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	if (write(fd, key, DISK_KEY_LEN) != DISK_KEY_LEN || fsync(fd) ||
	    (chown_it && fchown(fd, uid, gid)))
		r = err_set(e, errno ? errno : EIO, "%s: %s", path,
			    strerror(errno ? errno : EIO));
	close(fd);
	if (r)
		unlink(path);
	return r;
}

int disk_secret_opt(char *out, size_t len, const char *id, const char *path)
{
	size_t o;

	o = (size_t)snprintf(out, len, "secret,id=%s,format=raw,file=", id);
	for (; *path && o + 2 < len; path++) {
		if (*path == ',')
			out[o++] = ',';
		out[o++] = *path;
	}
	if (*path || o >= len)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

/* LUKS over the overlay, keyed by the secret sec0 (see the top comment). */
static const char luks_opts[] = "encrypt.format=luks,encrypt.key-secret=sec0,"
				"encrypt.iter-time=" LUKS_ITER_TIME;

static int create_overlay(const struct profile *p,
			  const char *key, const char *ovl, struct err *e)
{
	char obj[PATH_MAX + 64];
	const char *argv[] = {
		"create", "-q", "-f", "qcow2",
		"-F", p->format == FORMAT_RAW ? "raw" : "qcow2", "-b", p->image,
		"--object", obj,
		"-o", luks_opts, ovl, NULL,
	};

	if (disk_secret_opt(obj, sizeof(obj), "sec0", key))
		return err_set(e, ENAMETOOLONG, "key path too long");
	return qemu_img_run_luks(argv, ovl, e);
}

/* Does the key unlock the overlay? Read-only; the base is not opened. */
static int check_unlock(const char *key, const char *ovl, struct err *e)
{
	char obj[PATH_MAX + 64];
	const char *argv[] = { "check", "-q", "--object", obj, NULL, NULL };
	struct err qe;
	int r, code;

	if (disk_secret_opt(obj, sizeof(obj), "sec0", key))
		return err_set(e, ENAMETOOLONG, "key path too long");
	argv[4] = disk_image_spec(ovl, "sec0");
	if (!argv[4])
		return err_set(e, ENOMEM, "out of memory");
	r = qemu_img_run(argv, -1, NULL, &code, &qe);
	free((char *)argv[4]);
	if (!r || code == CHECK_LEAKS)
		return 0;
	if (strstr(qe.msg, "password") || strstr(qe.msg, "keyslot"))
		return err_set(e, EKEYREJECTED, "the key does not unlock the "
			       "encrypted disk %s; refusing to start", ovl);
	return err_set(e, EBADMSG, "encrypted disk %s is damaged or "
		       "unreadable: %s", ovl, qe.msg);
}

char *disk_image_spec(const char *ovl, const char *secret_id)
{
	char *spec, *out = NULL;
	json_t *j;

	j = json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:n}", "driver",
		      "qcow2", "file", "driver", "file", "filename", ovl,
		      "encrypt", "format", "luks", "key-secret", secret_id,
		      "backing");
	spec = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (spec && asprintf(&out, "json:%s", spec) < 0)
		out = NULL;
	free(spec);
	return out;
}

void disk_forget_key(const struct cell *c)
{
	char path[PATH_MAX];

	cell_path(c, CELL_SOCK, DISK_KEY_FILE, path);
	unlink(path);
}

int disk_persistent_open(const struct cell *c, const struct profile *p,
			 bool drop, uid_t uid, gid_t gid, struct disk_open *out,
			 struct err *e)
{
	unsigned char key[DISK_KEY_LEN + 1], raw[DISK_KEY_BYTES];
	char kpath[PATH_MAX], ovl[PATH_MAX];
	struct stat st;
	bool has_key, has_ovl;
	int r;

	out->fd = -1;
	out->created = false;
	cell_path(c, CELL_STATE, DISK_KEY_FILE, kpath);
	cell_path(c, CELL_STATE, DISK_OVERLAY_FILE, ovl);
	cell_path(c, CELL_SOCK, DISK_KEY_FILE, out->secret);
	has_key = !lstat(kpath, &st);
	has_ovl = !lstat(ovl, &st);

	if (has_ovl && !has_key)
		return err_set(e, ENOKEY, "%s is missing: the encrypted disk %s "
			       "cannot be opened (destroyed, or the key was "
			       "removed); refusing to start", kpath, ovl);
	if (has_key && !has_ovl)
		return err_set(e, ENOENT, "the encrypted disk %s is missing but "
			       "its key %s exists; refusing to start a new disk "
			       "over it (restore the disk, or `walloff destroy "
			       "%s`)", ovl, kpath, c->name);
	if (!has_key) {
		/* First run: the key first, then the overlay encrypted with it. */
		randombytes_buf(raw, sizeof(raw));
		hex_encode((char *)key, raw, sizeof(raw));
		sodium_memzero(raw, sizeof(raw));
		r = write_key(kpath, key, 0600, false, 0, 0, e);
		if (r)
			goto out;
		r = create_overlay(p, kpath, ovl, e);
		if (r) {
			unlink(ovl);
			unlink(kpath);
			goto out;
		}
		out->created = true;
	} else {
		r = disk_read_key(kpath, key, e);
		if (r == -ENOKEY || r == -EBADMSG || r == -EPERM)
			err_prefix(e, "encrypted disk %s", ovl);
		if (r)
			goto out;
		r = check_unlock(kpath, ovl, e);
		if (r)
			goto out;
	}

	out->fd = open(ovl, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (out->fd < 0 || fstat(out->fd, &st) || !S_ISREG(st.st_mode)) {
		r = err_set(e, errno ? errno : EBADMSG, "%s: %s", ovl,
			    strerror(errno ? errno : EBADMSG));
		goto out;
	}
	/* Stage the key for QEMU (a stale copy from a crash is replaced). */
	unlink(out->secret);
	r = write_key(out->secret, key, 0400, drop, uid, gid, e);
out:
	sodium_memzero(key, sizeof(key));
	if (r && out->fd >= 0) {
		close(out->fd);
		out->fd = -1;
	}
	return r;
}

int disk_start(const struct cell *c, const struct profile *p, struct audit *a,
	       bool drop, uid_t uid, gid_t gid, struct disk_open *out,
	       int *run_exit)
{
	struct err e;
	int r;

	err_clear(&e);
	r = disk_persistent_open(c, p, drop, uid, gid, out, &e);
	if (r) {
		*run_exit = r == -ENOKEY || r == -EKEYREJECTED || r == -EBADMSG ||
			    r == -ENOENT || r == -EPERM ? RUN_DISK : RUN_ERROR;
		audit_log(a, "disk-refused", json_pack("{s:s}", "error", e.msg));
		fprintf(stderr, "walloff: %s\n", e.msg);
		return r;
	}
	if (audit_log(a, "overlay", json_pack("{s:s, s:s, s:b}", "mode",
					      "persistent", "encryption",
					      "luks", "created", out->created))) {
		*run_exit = RUN_ERROR;
		disk_forget_key(c);
		close(out->fd);
		out->fd = -1;
		return -EIO;
	}
	return 0;
}
