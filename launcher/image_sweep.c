/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image_sweep.c - `walloff image sweep PATH... [--json] [--max-idle 90d]
 * [--profiles DIR]`: the inventory of forgotten virtual disks
 *
 * Dormant copies of legacy machines are how old worms come back, so the
 * sweep walks folders and reports every disk image it recognises by
 * content (imgfmt.c; names and extensions are ignored): format, virtual
 * and on-disk size, age since the last write (mtime), whether a profile in
 * --profiles DIR uses it (same device and inode as the profile's resolved
 * [disk] image), whether it is encrypted, and whether it is dormant (not
 * written for longer than --max-idle, default 90 days).
 *
 * Bounded and read-only: nftw() with FTW_PHYS never follows a symlink (a
 * link out of the tree is not a way out of the tree), special files (FIFOs,
 * sockets, devices) are never opened, regular files are opened with
 * O_NONBLOCK|O_NOFOLLOW and checked to be the file that was listed, at most
 * SWEEP_DEPTH_MAX levels deep and SWEEP_ENTRIES_MAX entries in all; atime
 * is left alone where the kernel lets us (O_NOATIME). Unreadable files and
 * folders are reported with the reason and do not stop the walk.
 *
 * Exit: 0 nothing dormant and unencrypted, 1 at least one dormant
 * unencrypted image (a cron job can alert on it), 2 usage, 3 a PATH could
 * not be walked. Unreadable entries do not change the exit code.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "image_store.h"
#include "imgfmt.h"
#include "profile.h"

/* Deeper than any real image folder; stops pathological nesting. */
#define SWEEP_DEPTH_MAX		32
/* Entries visited before the sweep stops and says it was truncated. */
#define SWEEP_ENTRIES_MAX	1000000
/* Profiles read from --profiles DIR. */
#define SWEEP_PROFILES_MAX	1000
/* nftw() descriptors: kept low, the walk is not a hot path. */
#define SWEEP_NFTW_FDS		16
#define DEFAULT_MAX_IDLE_S	(90ull * 86400)

struct used {
	dev_t dev;
	ino_t ino;
	char cell[PROFILE_NAME_MAX + 1];
};

struct sweep {
	bool json;
	uint64_t max_idle_s;
	time_t now;
	struct used *used;
	size_t n_used;
	json_t *images;
	json_t *unreadable;
	unsigned long visited;
	bool truncated;
	unsigned dormant, dormant_plain;
};

/* nftw() has no context argument. */
static struct sweep *S;

static void sweep_usage(FILE *f)
{
	fprintf(f,
		"usage: walloff image sweep PATH... [--json] [--max-idle 90d] "
		"[--profiles DIR]\n"
		"Finds disk images (qcow2, VHD, VHDX, VMDK, VDI, LUKS, raw disks with\n"
		"a partition table) under PATH by content, never following symlinks,\n"
		"and reports format, sizes, age, use by a profile in DIR, encryption\n"
		"and dormancy (not written for longer than --max-idle).\n"
		"Exit: 0 ok, 1 a dormant unencrypted image was found, 2 usage,\n"
		"3 a PATH could not be walked.\n");
}

/* Names are shown, never trusted: control characters become '?'. */
static json_t *name_json(const char *path)
{
	json_t *s = json_string(path);
	char *c, *p;

	if (s)
		return s;
	c = strdup(path);
	if (!c)
		return NULL;
	for (p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	s = json_string(c);
	free(c);
	return s;
}

static void print_name(const char *path)
{
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p; p++)
		putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
}

static void unreadable(const char *path, const char *what, int err)
{
	json_array_append_new(S->unreadable,
			      json_pack("{s:o, s:s}", "path", name_json(path),
					"error", strerror(err)));
	fprintf(stderr, "walloff image sweep: ");
	fflush(stdout);
	{
		const unsigned char *p;

		for (p = (const unsigned char *)path; *p; p++)
			fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
	}
	fprintf(stderr, ": %s: %s\n", what, strerror(err));
}

static void load_profiles(const char *dir)
{
	struct profile *p = malloc(sizeof(*p));
	char path[PATH_MAX];
	struct dirent *d;
	struct stat st;
	struct err e;
	DIR *dh;

	dh = opendir(dir);
	if (!dh || !p) {
		fprintf(stderr, "walloff image sweep: %s: %s\n", dir,
			strerror(errno));
		free(p);
		if (dh)
			closedir(dh);
		return;
	}
	S->used = calloc(SWEEP_PROFILES_MAX, sizeof(*S->used));
	while (S->used && (d = readdir(dh)) && S->n_used < SWEEP_PROFILES_MAX) {
		size_t n = strlen(d->d_name);

		if (n < 6 || strcmp(d->d_name + n - 5, ".cell"))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     d->d_name) >= sizeof(path))
			continue;
		if (profile_load(path, 0, p, &e)) {
			fprintf(stderr, "walloff image sweep: %s\n", e.msg);
			continue;
		}
		if (!p->has_disk || stat(p->image, &st))
			continue;
		S->used[S->n_used].dev = st.st_dev;
		S->used[S->n_used].ino = st.st_ino;
		strcpy(S->used[S->n_used].cell, p->name);
		S->n_used++;
	}
	closedir(dh);
	free(p);
}

static void examine(const char *path, const struct stat *lst)
{
	json_t *used = json_array(), *rec;
	struct imgfmt_info fi;
	struct stat st;
	uint64_t age;
	struct err e;
	bool dormant;
	size_t i;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
				O_CLOEXEC);
	if (fd < 0) {
		unreadable(path, "cannot read", errno);
		goto out;
	}
	/* Replaced since it was listed (by a FIFO, a link): skip it. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_dev != lst->st_dev ||
	    st.st_ino != lst->st_ino)
		goto out;
	if (imgfmt_probe_fd(fd, &fi, &e)) {
		unreadable(path, "cannot read", e.code ? e.code : EIO);
		goto out;
	}
	if (fi.kind == IMGFMT_UNKNOWN)
		goto out;
	for (i = 0; i < S->n_used; i++)
		if (S->used[i].dev == st.st_dev && S->used[i].ino == st.st_ino)
			json_array_append_new(used, json_string(S->used[i].cell));
	age = S->now > st.st_mtime ? (uint64_t)(S->now - st.st_mtime) : 0;
	dormant = age > S->max_idle_s;
	S->dormant += dormant;
	S->dormant_plain += dormant && !fi.encrypted;
	rec = json_pack("{s:o, s:s, s:I, s:I, s:I, s:I, s:b, s:b, s:O}",
			"path", name_json(path), "format", imgfmt_name(fi.kind),
			"file_size", (json_int_t)st.st_size,
			"actual_size", (json_int_t)st.st_blocks * 512,
			"mtime", (json_int_t)st.st_mtime,
			"age_s", (json_int_t)age, "encrypted", fi.encrypted,
			"dormant", dormant, "used_by", used);
	json_object_set_new(rec, "virtual_size", fi.has_virtual_size ?
			    json_integer((json_int_t)fi.virtual_size) :
			    json_null());
	json_object_set_new(rec, "backing", fi.has_backing ?
			    json_string(fi.backing) : json_null());
	if (fi.problem[0])
		json_object_set_new(rec, "problem", json_string(fi.problem));
	json_array_append_new(S->images, rec);
out:
	json_decref(used);
	if (fd >= 0)
		close(fd);
}

static int visit(const char *path, const struct stat *st, int type,
		 struct FTW *ftw)
{
	DIR *d;

	if (++S->visited > SWEEP_ENTRIES_MAX) {
		S->truncated = true;
		return FTW_STOP;
	}
	switch (type) {
	case FTW_D:
		if (ftw->level >= SWEEP_DEPTH_MAX) {
			unreadable(path, "not descending further", ELOOP);
			return FTW_SKIP_SUBTREE;
		}
		break;
	case FTW_DNR:
		d = opendir(path);
		unreadable(path, "cannot list folder", d ? EACCES : errno);
		if (d)
			closedir(d);
		break;
	case FTW_NS:
		unreadable(path, "cannot stat", EACCES);
		break;
	case FTW_F:
		if (S_ISREG(st->st_mode))
			examine(path, st);
		break;
	default:
		break;	/* symlinks are not followed, special files not opened */
	}
	return FTW_CONTINUE;
}

static void print_text(void)
{
	char v[32], a[32], age[32];
	json_t *r, *u;
	size_t i, j;

	printf("%-10s %10s %10s %6s %-4s %-16s %-8s %s\n", "FORMAT", "VIRTUAL",
	       "ON-DISK", "AGE", "ENC", "USED-BY", "STATUS", "PATH");
	json_array_foreach(S->images, i, r) {
		json_t *vs = json_object_get(r, "virtual_size");
		json_t *used = json_object_get(r, "used_by");
		json_int_t ag = json_integer_value(json_object_get(r, "age_s"));
		char cells[64] = "-";
		size_t n = 0;

		if (json_is_integer(vs))
			image_human_size((uint64_t)json_integer_value(vs), v,
					 sizeof(v));
		else
			strcpy(v, "?");
		image_human_size((uint64_t)json_integer_value(
					 json_object_get(r, "actual_size")),
				 a, sizeof(a));
		snprintf(age, sizeof(age), ag >= 86400 ? "%lldd" : "%lldh",
			 (long long)(ag >= 86400 ? ag / 86400 : ag / 3600));
		json_array_foreach(used, j, u) {
			n += (size_t)snprintf(cells + n, sizeof(cells) - n, "%s%s",
					      j ? "," : "", json_string_value(u));
			if (n >= sizeof(cells))
				break;
		}
		printf("%-10s %10s %10s %6s %-4s %-16.16s %-8s ",
		       json_string_value(json_object_get(r, "format")), v, a,
		       age, json_is_true(json_object_get(r, "encrypted")) ?
		       "yes" : "no", cells,
		       json_is_true(json_object_get(r, "dormant")) ? "DORMANT" :
		       "ok");
		print_name(json_string_value(json_object_get(r, "path")));
		if (json_is_string(json_object_get(r, "backing")))
			printf("  (backing: %s)", json_string_value(
				       json_object_get(r, "backing")));
		putchar('\n');
	}
	printf("%zu image(s), %u dormant (%u unencrypted), %zu unreadable%s\n",
	       json_array_size(S->images), S->dormant, S->dormant_plain,
	       json_array_size(S->unreadable),
	       S->truncated ? ", STOPPED at the entry limit" : "");
}

int image_sweep(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "max-idle", required_argument, NULL, 'm' },
		{ "profiles", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sweep sw = { .max_idle_s = DEFAULT_MAX_IDLE_S };
	const char *profiles = NULL;
	char root[PATH_MAX];
	int c, i, ret = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jm:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			sw.json = true;
			break;
		case 'm':
			if (profile_parse_duration(optarg, &sw.max_idle_s)) {
				fprintf(stderr, "walloff image sweep: bad "
					"--max-idle (e.g. 90d, 12h)\n");
				return 2;
			}
			break;
		case 'p':
			profiles = optarg;
			break;
		case 'h':
			sweep_usage(stdout);
			return 0;
		default:
			sweep_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		sweep_usage(stderr);
		return 2;
	}
	S = &sw;
	sw.now = time(NULL);
	sw.images = json_array();
	sw.unreadable = json_array();
	if (profiles)
		load_profiles(profiles);
	for (i = optind; i < argc && !sw.truncated; i++) {
		/* The starting point may be a link; nothing below it is. */
		if (!realpath(argv[i], root) ||
		    nftw(root, visit, SWEEP_NFTW_FDS,
			 FTW_PHYS | FTW_ACTIONRETVAL) == -1) {
			fprintf(stderr, "walloff image sweep: %s: %s\n", argv[i],
				strerror(errno));
			ret = 3;
		}
	}
	if (sw.json) {
		json_t *o = json_pack("{s:O, s:O, s:I, s:i, s:i, s:b}",
				      "images", sw.images, "unreadable",
				      sw.unreadable, "max_idle_s",
				      (json_int_t)sw.max_idle_s, "dormant",
				      (int)sw.dormant, "dormant_unencrypted",
				      (int)sw.dormant_plain, "truncated",
				      sw.truncated);

		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		print_text();
	}
	if (!ret && sw.dormant_plain)
		ret = 1;
	json_decref(sw.images);
	json_decref(sw.unreadable);
	free(sw.used);
	S = NULL;
	return ret;
}
