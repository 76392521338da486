/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_snapshot.c - `walloff snapshot CELL create [NAME] | list [--json] |
 * revert NAME | delete NAME | prune [--keep N] [--max-age D]`
 *
 * Snapshots of a persistent cell's disk, stored inside its encrypted
 * overlay (qcow2 internal snapshots: they are encrypted with the same LUKS
 * key and erased with it by `walloff destroy`). This version takes disk
 * snapshots of a stopped cell: the command holds the cell's lock for the
 * whole operation, so the cell is not running and cannot start meanwhile;
 * snapshots of a running cell with its memory state need a second QMP
 * monitor and are not done yet.
 *
 * Every operation runs `qemu-img snapshot` on the overlay named by a
 * json: spec with the key handed over as a secret object read from
 * STATE/disk.key (never on a command line) and no backing file (snapshots
 * are overlay metadata). Each action is audited in the cell's audit log.
 *
 * Retention: `prune` deletes snapshots older than --max-age and then all
 * but the --keep newest; the supervisor runs the same with the profile's
 * [snapshots] keep and max-age before every start (snapshot_enforce()).
 *
 * Exit: 0 done, 1 error (running cell, no persistent disk, qemu-img
 * failure), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "audit.h"
#include "cell.h"
#include "cmds.h"
#include "disk.h"
#include "profile.h"
#include "qemu_img.h"
#include "snapshot.h"

/* qcow2 allows long names; ours are short and shell- and log-safe. */
#define SNAP_NAME_MAX	64
/* More snapshots than this in one overlay is not a retention plan. */
#define SNAP_MAX	1000

struct snap {
	char name[SNAP_NAME_MAX + 1];
	long long date;
	long long id;
};

static bool name_ok(const char *n)
{
	size_t len = strlen(n);

	if (!len || len > SNAP_NAME_MAX || n[0] == '-')
		return false;
	return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") == len;
}

/* qemu-img snapshot OP [NAME] on the cell's overlay. */
static int img_snapshot(const struct cell *c, const char *op,
			const char *name, struct err *e)
{
	char key[PATH_MAX], ovl[PATH_MAX], obj[PATH_MAX + 64];
	unsigned char k[DISK_KEY_LEN];
	const char *argv[10];
	char *spec;
	int r, n = 0;

	cell_path(c, CELL_STATE, DISK_KEY_FILE, key);
	cell_path(c, CELL_STATE, DISK_OVERLAY_FILE, ovl);
	r = disk_read_key(key, k, e);	/* present, 0600, well-formed */
	sodium_memzero(k, sizeof(k));
	if (r)
		return r;
	if (disk_secret_opt(obj, sizeof(obj), "sec0", key))
		return err_set(e, ENAMETOOLONG, "key path too long");
	spec = disk_image_spec(ovl, "sec0");
	if (!spec)
		return err_set(e, ENOMEM, "out of memory");
	argv[n++] = "snapshot";
	argv[n++] = "-q";
	argv[n++] = "--object";
	argv[n++] = obj;
	argv[n++] = op;
	if (name)
		argv[n++] = name;
	argv[n++] = spec;
	argv[n] = NULL;
	r = qemu_img_run(argv, -1, NULL, NULL, e);
	free(spec);
	return r;
}

static int by_age(const void *a, const void *b)
{
	const struct snap *x = a, *y = b;

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The overlay's snapshots, oldest first. Return: count or -errno. */
static int list(const struct cell *c, struct snap **out, struct err *e)
{
	char ovl[PATH_MAX], *json = NULL;
	const char *argv[] = { "info", "--output=json", "-f", "qcow2", ovl,
			       NULL };
	json_t *j, *sn, *x;
	struct snap *v;
	size_t i, n = 0;
	int r;

	*out = NULL;
	cell_path(c, CELL_STATE, DISK_OVERLAY_FILE, ovl);
	if (access(ovl, F_OK))
		return err_set(e, ENOENT, "cell %s has no persistent disk (%s)",
			       c->name, ovl);
	r = qemu_img_run(argv, -1, &json, NULL, e);
	if (r)
		return r;
	j = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
	free(json);
	sn = json_object_get(j, "snapshots");
	v = calloc(SNAP_MAX, sizeof(*v));
	if (!v) {
		json_decref(j);
		return err_set(e, ENOMEM, "out of memory");
	}
	json_array_foreach(sn, i, x) {
		const char *name = json_string_value(json_object_get(x, "name"));
		const char *id;

		if (n >= SNAP_MAX || !name || !name_ok(name))
			continue;
		strcpy(v[n].name, name);
		v[n].date = json_integer_value(json_object_get(x, "date-sec"));
		id = json_string_value(json_object_get(x, "id"));
		v[n].id = id ? strtoll(id, NULL, 10) : 0;
		n++;
	}
	json_decref(j);
	qsort(v, n, sizeof(*v), by_age);
	*out = v;
	return (int)n;
}

int snapshot_prune(const struct cell *c, struct audit *a, unsigned keep,
		   uint64_t max_age_s, unsigned *deleted, struct err *e)
{
	struct snap *v;
	time_t now = time(NULL);
	int n, i, r = 0;

	*deleted = 0;
	n = list(c, &v, e);
	if (n < 0 || !v)
		return n < 0 ? n : 0;
	for (i = 0; i < n && !r; i++) {
		bool old = max_age_s && now - v[i].date > (long long)max_age_s;
		bool extra = keep && n - i > (int)keep;

		if (!old && !extra)
			continue;
		r = img_snapshot(c, "-d", v[i].name, e);
		if (!r) {
			(*deleted)++;
			audit_logf(a, "snapshot-pruned", "{s:s, s:I, s:s}",
				   "name", v[i].name, "date",
				   (json_int_t)v[i].date, "why",
				   old ? "max-age" : "keep");
		}
	}
	free(v);
	return r;
}

int snapshot_enforce(const struct cell *c, const struct profile *p,
		     struct audit *a)
{
	char ovl[PATH_MAX];
	unsigned deleted;
	struct err e;

	cell_path(c, CELL_STATE, DISK_OVERLAY_FILE, ovl);
	if (!p->has_snapshots || p->disk_mode != DISK_PERSISTENT ||
	    access(ovl, F_OK))
		return 0;
	err_clear(&e);
	if (snapshot_prune(c, a, p->snapshot_keep, p->snapshot_max_age_s,
			   &deleted, &e)) {
		fprintf(stderr, "walloff: snapshot retention: %s\n", e.msg);
		audit_log(a, "error", json_pack("{s:s}", "error", e.msg));
		return -EIO;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: walloff snapshot CELL create [NAME]\n"
		"       walloff snapshot CELL list [--json]\n"
		"       walloff snapshot CELL revert|delete NAME\n"
		"       walloff snapshot CELL prune [--keep N] [--max-age 30d]\n"
		"Disk snapshots of a stopped persistent cell, kept inside its\n"
		"encrypted disk. Exit: 0 done, 1 error or cell running, 2 usage.\n");
}

static int do_list(const struct cell *c, bool as_json)
{
	struct snap *v;
	struct err e;
	json_t *arr;
	int n, i;

	err_clear(&e);
	n = list(c, &v, &e);
	if (n < 0 || !v) {
		fprintf(stderr, "walloff snapshot: %s\n", e.msg);
		return 1;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		char when[32];
		time_t t = (time_t)v[i].date;
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
			 gmtime_r(&t, &tm));
		if (as_json)
			json_array_append_new(arr, json_pack(
				"{s:s, s:I, s:s}", "name", v[i].name, "date",
				(json_int_t)v[i].date, "time", when));
		else
			printf("%-24s %s\n", v[i].name, when);
	}
	if (as_json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	free(v);
	return 0;
}

int cmd_snapshot(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "keep", required_argument, NULL, 'k' },
		{ "max-age", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char log[PATH_MAX], defname[32];
	const char *op, *name = NULL;
	uint64_t max_age = 0;
	unsigned keep = 0, deleted;
	struct audit *a = NULL;
	bool as_json = false;
	int c, stale, r, ret = 1;
	struct cell cell;
	struct err e;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jk:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			as_json = true;
			break;
		case 'k':
			keep = (unsigned)strtoul(optarg, NULL, 10);
			if (!keep || keep > SNAP_MAX) {
				fprintf(stderr, "walloff snapshot: bad --keep\n");
				return 2;
			}
			break;
		case 'm':
			if (profile_parse_duration(optarg, &max_age)) {
				fprintf(stderr, "walloff snapshot: bad --max-age\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3 ||
	    !profile_name_valid(argv[optind])) {
		usage(stderr);
		return 2;
	}
	op = argv[optind + 1];
	if (argc - optind == 3)
		name = argv[optind + 2];
	if ((strcmp(op, "create") && strcmp(op, "list") && strcmp(op, "revert") &&
	     strcmp(op, "delete") && strcmp(op, "prune")) ||
	    (name && !name_ok(name)) ||
	    (!name && (!strcmp(op, "revert") || !strcmp(op, "delete"))) ||
	    (name && (!strcmp(op, "list") || !strcmp(op, "prune")))) {
		usage(stderr);
		return 2;
	}
	err_clear(&e);
	if (sodium_init() < 0 || cell_init(&cell, argv[optind], &e)) {
		fprintf(stderr, "walloff snapshot: %s\n", e.msg);
		return 1;
	}
	if (access(cell.state_dir, F_OK)) {
		fprintf(stderr, "walloff snapshot: cell %s has no state\n",
			cell.name);
		return 1;
	}
	/* The lock: the cell is stopped and stays so while we work. */
	if (cell_lock(&cell, geteuid(), getegid(), &stale, &e)) {
		fprintf(stderr, "walloff snapshot: %s%s\n", e.msg,
			e.code == EBUSY ? ": snapshots of a running cell are "
			"not supported yet; stop it first" : "");
		return 1;
	}
	if (!strcmp(op, "list")) {
		ret = do_list(&cell, as_json);
		goto out;
	}
	cell_path(&cell, CELL_STATE, "audit.jsonl", log);
	a = audit_open(log, cell.name, &e);
	if (!a)
		goto fail;
	if (!strcmp(op, "prune")) {
		if (!keep && !max_age) {
			fprintf(stderr, "walloff snapshot: prune needs --keep "
				"and/or --max-age\n");
			ret = 2;
			goto out;
		}
		if (snapshot_prune(&cell, a, keep, max_age, &deleted, &e))
			goto fail;
		printf("%u snapshot(s) deleted\n", deleted);
		ret = 0;
		goto out;
	}
	if (!name) {
		time_t t = time(NULL);
		struct tm tm;

		strftime(defname, sizeof(defname), "snap-%Y%m%d-%H%M%S",
			 gmtime_r(&t, &tm));
		name = defname;
	}
	r = img_snapshot(&cell, !strcmp(op, "create") ? "-c" :
			 !strcmp(op, "revert") ? "-a" : "-d", name, &e);
	audit_logf(a, r ? "snapshot-failed" : "snapshot", "{s:s, s:s, s:s}",
		   "action", op, "name", name, "error", r ? e.msg : "");
	if (r)
		goto fail;
	printf("snapshot %s: %s\n", op, name);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "walloff snapshot: %s\n", e.msg);
out:
	audit_close(a);
	cell_clean_run_dir(&cell);
	close(cell.lock_fd);
	return ret;
}
