/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_image.c - `walloff image import SRC [--name N] [--store DIR]` and the
 * dispatch to `walloff image sweep` (image_sweep.c)
 *
 * Import brings a legacy disk into the image store as a read-only qcow2
 * base with a known provenance:
 *   1. SRC is opened once; everything below reads that descriptor (qemu-img
 *      gets it as /dev/fd/3), so the file probed is the file converted.
 *   2. imgfmt decides the format by content. Unknown formats, LUKS
 *      containers, encrypted images, images with a backing/parent file or
 *      external data files (a qcow2 pointing at /etc/shadow, a VMDK
 *      descriptor listing other files), invalid headers and virtual sizes
 *      over IMPORT_SIZE_MAX are refused.
 *   3. `qemu-img info -f FORMAT --output=json` (the explicit format: qemu-img
 *      never guesses) must agree: same format, no backing file, not
 *      encrypted, no data file, size within bounds. Its reply is bounded and
 *      parsed with jansson.
 *   4. `qemu-img convert -f FORMAT -O qcow2` writes a hidden temporary file
 *      in the store (0700 folder); it is made 0400, fsync'd, probed again
 *      (must be a plain qcow2), hashed, and renamed into place without
 *      replacing anything.
 *   5. The import (or the refusal) is recorded in STORE/audit.jsonl, and the
 *      [disk] lines to paste into a profile are printed.
 * Exit: 0 imported, 1 error, 2 usage, 3 refused (unsafe or unknown image).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "audit.h"
#include "cmds.h"
#include "dirs.h"
#include "hex.h"
#include "image.h"
#include "image_store.h"
#include "imgfmt.h"
#include "path.h"
#include "profile.h"
#include "qemu_img.h"

/* Larger than any legacy disk we expect (XP-era disks are GBs): 2 TiB. */
#define IMPORT_SIZE_MAX		(2ull << 40)

enum { EXIT_OK, EXIT_ERR, EXIT_USAGE, EXIT_REFUSED };

static void import_usage(FILE *f)
{
	fprintf(f,
		"usage: walloff image import SRC [--name NAME] [--store DIR]\n"
		"Converts a legacy disk (qcow2, VHD, VHDX, VMDK, VDI, or a raw disk\n"
		"or physical disk with a partition table) into a read-only qcow2 base\n"
		"in the image store (default STATE/images), records it in the\n"
		"store's audit log and prints the [disk] lines for a profile.\n"
		"Refuses unknown formats, encrypted images, backing files, external\n"
		"data files and virtual sizes over 2 TiB.\n"
		"Exit: 0 imported, 1 error, 2 usage, 3 refused.\n");
}

void image_human_size(uint64_t b, char *out, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB",
					    "PiB", "EiB" };
	double v = (double)b;
	unsigned i = 0;

	while (v >= 1024 && i < 6) {
		v /= 1024;
		i++;
	}
	snprintf(out, len, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

int image_store_dir(const char *opt, char out[static PATH_MAX],
		    struct err *e)
{
	char base[PATH_MAX];
	int r;

	if (opt) {
		if (strlen(opt) >= PATH_MAX)
			return err_set(e, ENAMETOOLONG, "--store too long");
		strcpy(out, opt);
		return 0;
	}
	r = dirs_state_base(base, sizeof(base), e);
	if (r)
		return r;
	if ((size_t)snprintf(out, PATH_MAX, "%s/images", base) >= PATH_MAX)
		return err_set(e, ENAMETOOLONG, "store path too long");
	return 0;
}

/* "XP Accounting (2004).VMDK" -> "xp-accounting-2004" */
static void derive_name(const char *src, char out[static PROFILE_NAME_MAX + 1])
{
	const char *b = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
	const char *dot = strrchr(b, '.');
	size_t n = 0;

	if (!dot || dot == b)
		dot = b + strlen(b);
	for (; b < dot && n < PROFILE_NAME_MAX; b++) {
		char c = *b;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (c == '-' && (!n || out[n - 1] == '-'))
			continue;
		out[n++] = c;
	}
	while (n && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	if (!profile_name_valid(out))
		strcpy(out, "image");
}

/* Step 3: qemu-img's own view of the image, with the format forced. */
static int check_info(const char *drv, int fd, struct err *e)
{
	const char *argv[] = { "info", "-f", drv, "--output=json",
			       "/dev/fd/3", NULL };
	json_t *j = NULL, *data;
	json_error_t je;
	const char *fmt;
	json_int_t vs;
	char *out = NULL;
	int r;

	r = qemu_img_run(argv, fd, &out, NULL, e);
	if (r)
		return r;
	j = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j)) {
		r = err_set(e, EPROTO, "qemu-img info: unreadable reply: %s",
			    je.text);
		goto out;
	}
	fmt = json_string_value(json_object_get(j, "format"));
	vs = json_integer_value(json_object_get(j, "virtual-size"));
	data = json_object_get(json_object_get(json_object_get(
		       j, "format-specific"), "data"), "data-file");
	if (!fmt || strcmp(fmt, drv))
		r = err_set(e, EMEDIUMTYPE, "qemu-img reads it as %.32s, not %s",
			    fmt ? fmt : "nothing", drv);
	else if (vs <= 0 || (uint64_t)vs > IMPORT_SIZE_MAX)
		r = err_set(e, EFBIG, "virtual size %lld is out of bounds",
			    (long long)vs);
	else if (json_object_get(j, "backing-filename") ||
		 json_object_get(j, "full-backing-filename"))
		r = err_set(e, EPERM, "qemu-img reports a backing file");
	else if (json_is_true(json_object_get(j, "encrypted")))
		r = err_set(e, EPERM, "qemu-img reports an encrypted image");
	else if (data)
		r = err_set(e, EPERM, "qemu-img reports an external data file");
out:
	json_decref(j);
	free(out);
	return r;
}

/* Step 2: refuse what must not be converted. Return: 0 or -EPERM. */
static int check_probe(const struct imgfmt_info *fi, struct err *e)
{
	char sz[32];

	if (fi->kind == IMGFMT_UNKNOWN)
		return err_set(e, EPERM, "unknown format: not a qcow2, VHD, VHDX, "
			       "VMDK or VDI image, nor a raw disk with an MBR or "
			       "GPT partition table");
	if (fi->kind == IMGFMT_LUKS)
		return err_set(e, EPERM, "a LUKS container: unlock it (cryptsetup "
			       "open) and import the unlocked device");
	if (fi->has_backing)
		return err_set(e, EPERM, "%s image with a backing/parent file "
			       "'%s': refusing (an image must be self-contained; "
			       "flatten the chain with its owner's tools first)",
			       imgfmt_name(fi->kind), fi->backing);
	if (fi->external_files)
		return err_set(e, EPERM, "%s image that reads other files (qcow2 "
			       "data file or VMDK descriptor extents): refusing; "
			       "import a flat extent directly (it is a raw disk)",
			       imgfmt_name(fi->kind));
	if (fi->problem[0])
		return err_set(e, EPERM, "invalid %s header: %s",
			       imgfmt_name(fi->kind), fi->problem);
	if (fi->kind == IMGFMT_QCOW2 && fi->qcow2_version < 2)
		return err_set(e, EPERM, "qcow version 1 is not supported");
	if (fi->encrypted)
		return err_set(e, EPERM, "encrypted %s image: decrypt it with "
			       "its key first", imgfmt_name(fi->kind));
	if (fi->has_virtual_size && fi->virtual_size > IMPORT_SIZE_MAX) {
		image_human_size(fi->virtual_size, sz, sizeof(sz));
		return err_set(e, EFBIG, "virtual size %s is over the 2 TiB "
			       "limit", sz);
	}
	return 0;
}

/* Steps 4-5 after the conversion: seal the result. */
static int seal(const char *tmp, const char *final, char hex[static 65],
		uint64_t *vsize, struct err *e)
{
	struct imgfmt_info fi;
	uint8_t h[32];
	int fd, r;

	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_set(e, errno, "%s: %s", tmp, strerror(errno));
	if (fchmod(fd, 0400) || fsync(fd)) {
		r = err_set(e, errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	r = imgfmt_probe_fd(fd, &fi, e);
	if (r)
		goto out;
	if (fi.kind != IMGFMT_QCOW2 || fi.has_backing || fi.problem[0] ||
	    fi.external_files || fi.encrypted) {
		r = err_set(e, EIO, "converted image is not a plain qcow2");
		goto out;
	}
	*vsize = fi.virtual_size;
	r = image_sha256_fd(fd, h, e);
	if (r)
		goto out;
	hex_encode(hex, h, sizeof(h));
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE))
		r = err_set(e, errno, "%s: %s", final, strerror(errno));
out:
	close(fd);
	return r;
}

static int image_import(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char store[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX];
	char name[PROFILE_NAME_MAX + 1] = "", src[PATH_MAX], hex[65], sz[32];
	const char *store_opt = NULL, *drv;
	struct audit *a = NULL;
	struct imgfmt_info fi;
	int c, fd = -1, ret = EXIT_ERR;
	uint64_t vsize = 0;
	struct err e;

	err_clear(&e);
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!profile_name_valid(optarg)) {
				fprintf(stderr, "walloff image import: --name must "
					"be [a-z0-9-]{1,32}\n");
				return EXIT_USAGE;
			}
			strcpy(name, optarg);
			break;
		case 's':
			store_opt = optarg;
			break;
		case 'h':
			import_usage(stdout);
			return EXIT_OK;
		default:
			import_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		import_usage(stderr);
		return EXIT_USAGE;
	}
	if (!name[0])
		derive_name(argv[optind], name);
	if (sodium_init() < 0 || image_store_dir(store_opt, store, &e) ||
	    path_mkdir_private(store, &e))
		goto fail;
	if ((size_t)snprintf(path, sizeof(path), "%s/audit.jsonl", store) >=
	    sizeof(path)) {
		err_set(&e, ENAMETOOLONG, "store path too long");
		goto fail;
	}
	a = audit_open(path, "image-store", &e);
	if (!a)
		goto fail;
	if ((size_t)snprintf(final, sizeof(final), "%s/%s.qcow2", store, name) >=
	    sizeof(final) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.qcow2.partial", store,
			     name) >= sizeof(tmp)) {
		err_set(&e, ENAMETOOLONG, "store path too long");
		goto fail;
	}
	if (!access(final, F_OK)) {
		err_set(&e, EEXIST, "%s already exists: choose another --name "
			"(a base image is never replaced)", final);
		goto fail;
	}

	fd = open(argv[optind], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || !realpath(argv[optind], src)) {
		err_set(&e, errno, "%s: %s", argv[optind], strerror(errno));
		goto fail;
	}
	if (imgfmt_probe_fd(fd, &fi, &e)) {
		err_prefix(&e, "%s", src);
		goto fail;
	}
	drv = imgfmt_qemu_driver(fi.kind);
	if (check_probe(&fi, &e) || check_info(drv, fd, &e)) {
		audit_logf(a, "image-refused", "{s:s, s:s, s:s}", "source", src,
			   "format", imgfmt_name(fi.kind), "reason", e.msg);
		fprintf(stderr, "walloff image import: %s: refused: %s\n", src,
			e.msg);
		ret = e.code == EPERM || e.code == EFBIG ||
		      e.code == EMEDIUMTYPE ? EXIT_REFUSED : EXIT_ERR;
		goto out;
	}

	{
		const char *cv[] = { "convert", "-q", "-f", drv, "-O", "qcow2",
				     "/dev/fd/3", tmp, NULL };

		unlink(tmp);	/* a previous import that died */
		if (qemu_img_run(cv, fd, NULL, NULL, &e) ||
		    seal(tmp, final, hex, &vsize, &e)) {
			unlink(tmp);
			goto fail;
		}
	}
	{
		int dfd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	if (audit_logf(a, "image-import", "{s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
		       "source", src, "format", imgfmt_name(fi.kind),
		       "qemu_format", drv, "virtual_size", (json_int_t)vsize,
		       "source_size", (json_int_t)fi.file_size, "image", final,
		       "sha256", hex)) {
		err_set(&e, EIO, "cannot write the store's audit log");
		goto fail;
	}
	image_human_size(vsize, sz, sizeof(sz));
	printf("imported %s (%s, %s) as %s, read-only\n"
	       "paste into the profile:\n\n"
	       "[disk]\nimage  = %s\nsha256 = %s\nformat = qcow2\n",
	       src, imgfmt_name(fi.kind), sz, final, final, hex);
	ret = EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "walloff image import: %s\n", e.msg);
	if (a)
		audit_logf(a, "image-import-failed", "{s:s, s:s}", "source",
			   argv[optind], "error", e.msg);
out:
	if (fd >= 0)
		close(fd);
	audit_close(a);
	return ret;
}

int cmd_image(int argc, char *argv[])
{
	if (argc >= 2 && !strcmp(argv[1], "import"))
		return image_import(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "sweep"))
		return image_sweep(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: walloff image import SRC [--name N] [--store DIR]\n"
		       "       walloff image sweep PATH... [--json] [--max-idle 90d] "
		       "[--profiles DIR]\n");
		return EXIT_OK;
	}
	fprintf(stderr, "usage: walloff image import|sweep ... (--help)\n");
	return EXIT_USAGE;
}
