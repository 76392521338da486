/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapmem.c - where the guest's memory goes when a running cell is
 * snapshotted
 *
 * A live snapshot (snapctl.c) saves the guest's RAM next to the disk
 * snapshot. The natural place, the overlay itself, does not work in QEMU
 * 7.2: qcow2 writes the memory state past the virtual disk with unaligned
 * lengths straight into its own encryption code, which asserts ("qcow2_co_
 * encdec: Assertion QEMU_IS_ALIGNED(len, sector_size)") and aborts QEMU. So
 * the memory goes into a second image, STATE/memory.luks: a qcow2 (holding
 * only snapshots and their memory states) inside a LUKS container, whose
 * driver aligns every write. The container is keyed by the same disk key
 * (STATE/disk.key), so the memory is encrypted at rest like the disk and
 * `walloff destroy`'s crypto-erase of that key makes both unreadable; the
 * file sits in the root-only state folder with the overlay.
 *
 * QEMU never opens it by path: the supervisor passes the descriptor
 * (-add-fd), and qemu_argv.c names it as node "mem0" = qcow2 over luks over
 * /dev/fdset/3, with the disk's secret object. Every live snapshot lists
 * both nodes (devices) and puts its memory state into mem0 (vmstate).
 *
 * Creation, once, with qemu-img and no shell: an empty qcow2 (no secrets
 * in it) is written to a temporary file and converted into a LUKS
 * container with the key as a secret object read from the key file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "disk.h"
#include "qemu_img.h"
#include "snapmem.h"

/* Virtual size of the inner qcow2: it holds no guest data, only the
 * memory states stored past its end, so the minimum will do. */
#define SNAPMEM_VSIZE	"1M"
/* PBKDF time for the container's key slot, as the overlay's (disk.c): the
 * key is 32 random bytes, not a password to stretch. */
#define SNAPMEM_ITER_TIME	"10"

char *snapmem_spec(const char *path, const char *secret_id)
{
	json_t *j = json_pack("{s:s, s:{s:s, s:s, s:{s:s, s:s}}}",
			      "driver", "qcow2", "file", "driver", "luks",
			      "key-secret", secret_id, "file", "driver", "file",
			      "filename", path);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL, *out = NULL;

	json_decref(j);
	if (s && asprintf(&out, "json:%s", s) < 0)
		out = NULL;
	free(s);
	return out;
}

static int create(const char *key, const char *path, struct err *e)
{
	char tmp[PATH_MAX + 8], obj[PATH_MAX + 64];
	const char *mk[] = { "create", "-q", "-f", "qcow2", tmp, SNAPMEM_VSIZE,
			     NULL };
	static const char luks_opts[] =
		"key-secret=sec0,iter-time=" SNAPMEM_ITER_TIME;
	const char *cv[] = { "convert", "-q", "-f", "raw", "-O", "luks",
			     "--object", obj, "-o", luks_opts, tmp, path, NULL };
	int r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp) ||
	    disk_secret_opt(obj, sizeof(obj), "sec0", key))
		return err_set(e, ENAMETOOLONG, "%s: name too long", path);
	unlink(tmp);
	r = qemu_img_run(mk, -1, NULL, NULL, e);
	if (!r)
		r = qemu_img_run_luks(cv, path, e);
	unlink(tmp);
	if (r) {
		unlink(path);
		err_prefix(e, "creating the memory image %s", path);
	}
	return r;
}

int snapmem_open(const struct cell *c, int *fd, bool *created, struct err *e)
{
	char key[PATH_MAX], path[PATH_MAX];
	int r;

	*fd = -1;
	*created = false;
	cell_path(c, CELL_STATE, DISK_KEY_FILE, key);
	cell_path(c, CELL_STATE, SNAPMEM_FILE, path);
	if (access(path, F_OK)) {
		r = create(key, path, e);
		if (r)
			return r;
		*created = true;
	}
	*fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0 || fchmod(*fd, 0600)) {
		r = err_set(e, errno, "%s: %s", path, strerror(errno));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return r;
	}
	return 0;
}
