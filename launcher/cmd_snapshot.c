/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_snapshot.c - `walloff snapshot CELL create [NAME] | list [--json] |
 * revert NAME | delete NAME | prune [--keep N] [--max-age D]`
 *
 * Snapshots of a persistent cell, stored inside its encrypted overlay
 * (qcow2 internal snapshots: they are encrypted with the same LUKS key and
 * erased with it by `walloff destroy`). Two paths, chosen by the cell's
 * lock:
 *
 * Stopped cell (we get the lock, so it cannot start meanwhile): disk
 * snapshots with `qemu-img snapshot` on the overlay named by a json: spec,
 * the key handed over as a secret object read from STATE/disk.key (never on
 * a command line) and no backing file (snapshots are overlay metadata).
 * Audited here ("snapshot", "snapshot-failed", "snapshot-pruned").
 *
 * Running cell (the lock is held): the request goes to the supervisor's
 * control socket (snapctl.c), which runs it as a QMP snapshot job on its
 * own QMP connection: create and revert save and restore the guest's
 * memory with its disk, inside the same encrypted overlay; the guest keeps
 * running (a revert resumes it). Audited by the supervisor
 * ("snapshot.create", "snapshot.revert", "snapshot.delete", "snapshot.list").
 * A running ephemeral cell is refused: nothing of it is kept.
 *
 * Retention: `prune` deletes snapshots older than --max-age and then all
 * but the --keep newest, through whichever path applies; the supervisor
 * runs the same with the profile's [snapshots] keep and max-age before
 * every start (snapshot_enforce()).
 *
 * Exit: 0 done, 1 error (no persistent disk, unknown snapshot, qemu-img or
 * QEMU job failure), 2 usage, 3 refused (running ephemeral cell), 4 busy
 * (another snapshot operation on the cell), 6 the job did not finish within
 * --timeout (the cell keeps running).
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
#include "snapctl.h"
#include "snapmem.h"
#include "snapshot.h"

/* More snapshots than this in one overlay is not a retention plan. */
#define SNAP_MAX	SNAPCTL_LIST_MAX

/* Exit codes beyond 0/1/2. */
#define EXIT_REFUSED	3	/* running ephemeral cell */
#define EXIT_BUSY	4	/* another snapshot operation runs */
#define EXIT_TIMEOUT	6	/* the job outlived --timeout */

struct snap {
	char name[SNAPCTL_TAG_MAX + 1];
	long long date;
	long long id;
	long long vm_state;	/* bytes of memory state, 0: disk only */
};

/*
 * qemu-img CMD ... on the cell's overlay, or on its memory image (@mem,
 * snapmem.c: the memory states of live snapshots): `snapshot -q OP
 * [NAME]`, or `info --output=json` into @out.
 */
static int img_run(const struct cell *c, bool mem, const char *op,
		   const char *name, char **out, struct err *e)
{
	char key[PATH_MAX], img[PATH_MAX], obj[PATH_MAX + 64];
	unsigned char k[DISK_KEY_LEN];
	const char *argv[10];
	char *spec;
	int r, n = 0;

	cell_path(c, CELL_STATE, DISK_KEY_FILE, key);
	cell_path(c, CELL_STATE, mem ? SNAPMEM_FILE : DISK_OVERLAY_FILE, img);
	r = disk_read_key(key, k, e);	/* present, 0600, well-formed */
	sodium_memzero(k, sizeof(k));
	if (r)
		return r;
	if (disk_secret_opt(obj, sizeof(obj), "sec0", key))
		return err_set(e, ENAMETOOLONG, "key path too long");
	spec = mem ? snapmem_spec(img, "sec0") : disk_image_spec(img, "sec0");
	if (!spec)
		return err_set(e, ENOMEM, "out of memory");
	argv[n++] = out ? "info" : "snapshot";
	argv[n++] = out ? "--output=json" : "-q";
	argv[n++] = "--object";
	argv[n++] = obj;
	if (!out)
		argv[n++] = op;
	if (name)
		argv[n++] = name;
	argv[n++] = spec;
	argv[n] = NULL;
	r = qemu_img_run(argv, -1, out, NULL, e);
	free(spec);
	return r;
}

static int img_snapshot(const struct cell *c, const char *op,
			const char *name, struct err *e)
{
	return img_run(c, false, op, name, NULL, e);
}

/* The memory image's snapshots (qemu-img info), or NULL if it has none. */
static json_t *mem_snaps(const struct cell *c)
{
	char path[PATH_MAX], *json = NULL;
	json_t *j, *sn;
	struct err e;

	cell_path(c, CELL_STATE, SNAPMEM_FILE, path);
	if (access(path, F_OK) || img_run(c, true, NULL, NULL, &json, &e))
		return NULL;
	j = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
	free(json);
	sn = json_incref(json_object_get(j, "snapshots"));
	json_decref(j);
	return sn;
}

static bool has_tag(json_t *snaps, const char *name)
{
	const char *n;
	json_t *x;
	size_t i;

	json_array_foreach(snaps, i, x) {
		n = json_string_value(json_object_get(x, "name"));
		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

/* Delete a snapshot from the overlay and its memory state, if it has one,
 * from the memory image. */
static int img_delete(const struct cell *c, const char *name, struct err *e)
{
	json_t *mem = mem_snaps(c);
	int r;

	r = img_snapshot(c, "-d", name, e);
	if (!r && has_tag(mem, name))
		r = img_run(c, true, "-d", name, NULL, e);
	json_decref(mem);
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
	json_t *j, *sn, *x, *mem;
	struct snap *v;
	size_t i, k, n = 0;
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

		if (n >= SNAP_MAX || !name || !snapctl_tag_ok(name))
			continue;
		strcpy(v[n].name, name);
		v[n].date = json_integer_value(json_object_get(x, "date-sec"));
		v[n].vm_state = json_integer_value(json_object_get(
			x, "vm-state-size"));
		id = json_string_value(json_object_get(x, "id"));
		v[n].id = id ? strtoll(id, NULL, 10) : 0;
		n++;
	}
	json_decref(j);
	/* Live snapshots keep their memory state in the memory image. */
	mem = mem_snaps(c);
	json_array_foreach(mem, k, x) {
		const char *name = json_string_value(json_object_get(x, "name"));

		for (i = 0; name && i < n; i++)
			if (!strcmp(v[i].name, name))
				v[i].vm_state = json_integer_value(
					json_object_get(x, "vm-state-size"));
	}
	json_decref(mem);
	qsort(v, n, sizeof(*v), by_age);
	*out = v;
	return (int)n;
}

/* Should v[i] of @n (oldest first) go? Return: the reason, or NULL. */
static const char *prune_why(const struct snap *v, int n, int i,
			     unsigned keep, uint64_t max_age_s, time_t now)
{
	if (max_age_s && now - v[i].date > (long long)max_age_s)
		return "max-age";
	if (keep && n - i > (int)keep)
		return "keep";
	return NULL;
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
		const char *why = prune_why(v, n, i, keep, max_age_s, now);

		if (!why)
			continue;
		r = img_delete(c, v[i].name, e);
		if (!r) {
			(*deleted)++;
			audit_logf(a, "snapshot-pruned", "{s:s, s:I, s:s}",
				   "name", v[i].name, "date",
				   (json_int_t)v[i].date, "why", why);
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
		"usage: walloff snapshot CELL create [NAME] [--timeout S]\n"
		"       walloff snapshot CELL list [--json]\n"
		"       walloff snapshot CELL revert|delete NAME [--timeout S]\n"
		"       walloff snapshot CELL prune [--keep N] [--max-age 30d]\n"
		"Snapshots of a persistent cell, kept inside its encrypted disk.\n"
		"Stopped cell: disk only. Running cell: with the guest's memory,\n"
		"through the cell's supervisor; a revert resumes the guest.\n"
		"Exit: 0 done, 1 error, 2 usage, 3 refused (running ephemeral\n"
		"cell), 4 busy (another snapshot operation), 6 timed out (the\n"
		"cell keeps running).\n");
}

static void print_list(const struct snap *v, int n, bool as_json)
{
	json_t *arr = json_array();
	int i;

	if (!as_json && n)
		printf("%-24s %-20s %s\n", "NAME", "DATE", "MEMORY");
	for (i = 0; i < n; i++) {
		char when[32], mem[32];
		time_t t = (time_t)v[i].date;
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
			 gmtime_r(&t, &tm));
		if (v[i].vm_state)
			snprintf(mem, sizeof(mem), "%lld MiB",
				 (v[i].vm_state + (1 << 20) - 1) >> 20);
		else
			snprintf(mem, sizeof(mem), "-");
		if (as_json)
			json_array_append_new(arr, json_pack(
				"{s:s, s:I, s:s, s:I}", "name", v[i].name,
				"date", (json_int_t)v[i].date, "time", when,
				"vm_state_size", (json_int_t)v[i].vm_state));
		else
			printf("%-24s %-20s %s\n", v[i].name, when, mem);
	}
	if (as_json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
}

static int do_list(const struct cell *c, bool as_json)
{
	struct snap *v;
	struct err e;
	int n;

	err_clear(&e);
	n = list(c, &v, &e);
	if (n < 0 || !v) {
		fprintf(stderr, "walloff snapshot: %s\n", e.msg);
		return 1;
	}
	print_list(v, n, as_json);
	free(v);
	return 0;
}

/*
 * Running cell: one request to the supervisor. Return: the exit code, with
 * the reply in @out when it is 0 (caller decrefs; may be NULL).
 */
static int live_call(const struct cell *c, const struct snapctl_req *req,
		     json_t **out)
{
	static const struct { const char *code; int exit; } codes[] = {
		{ "ephemeral", EXIT_REFUSED }, { "busy", EXIT_BUSY },
		{ "timeout", EXIT_TIMEOUT },
	};
	const char *code, *msg;
	char path[PATH_MAX];
	json_t *r;
	struct err e;
	size_t i;
	int ret = 1;

	if (out)
		*out = NULL;
	cell_path(c, CELL_RUN, SNAPCTL_SOCK, path);
	err_clear(&e);
	if (snapctl_call(path, req, &r, &e)) {
		fprintf(stderr, "walloff snapshot: cell %s is running, but "
			"%s\n", c->name, e.msg);
		return 1;
	}
	if (json_is_true(json_object_get(r, "ok"))) {
		if (out)
			*out = r;
		else
			json_decref(r);
		return 0;
	}
	code = json_string_value(json_object_get(r, "code"));
	msg = json_string_value(json_object_get(r, "error"));
	for (i = 0; code && i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i].code))
			ret = codes[i].exit;
	fprintf(stderr, "walloff snapshot: %s: %.400s\n", c->name,
		msg ? msg : "failed");
	json_decref(r);
	return ret;
}

/* The running cell's snapshots, oldest first, and its profile's
 * retention (@keep, @max_age). Return: exit code. */
static int live_list(const struct cell *c, struct snap **out, int *n,
		     unsigned *keep, uint64_t *max_age)
{
	struct snapctl_req req = { .op = SNAPCTL_LIST,
				   .timeout_s = SNAPCTL_TIMEOUT_DEFAULT_S };
	json_t *r, *x;
	size_t i;
	int ret;

	*out = NULL;
	*n = 0;
	ret = live_call(c, &req, &r);
	if (ret)
		return ret;
	*out = calloc(SNAP_MAX, sizeof(**out));
	if (!*out) {
		json_decref(r);
		return 1;
	}
	json_array_foreach(json_object_get(r, "snapshots"), i, x) {
		const char *name = json_string_value(json_object_get(x, "name"));
		struct snap *s = &(*out)[*n];

		if (*n >= SNAP_MAX || !name || !snapctl_tag_ok(name))
			continue;
		strcpy(s->name, name);
		s->date = json_integer_value(json_object_get(x, "date"));
		s->vm_state = json_integer_value(json_object_get(
			x, "vm_state_size"));
		s->id = *n;
		(*n)++;
	}
	*keep = (unsigned)json_integer_value(json_object_get(r, "keep"));
	*max_age = (uint64_t)json_integer_value(json_object_get(r, "max_age"));
	json_decref(r);
	qsort(*out, (size_t)*n, sizeof(**out), by_age);
	return 0;
}

/*
 * Retention on a running cell: --keep/--max-age, or else the profile's
 * [snapshots] as the supervisor reports it. Each deletion is a job of its
 * own, audited by the supervisor with its reason. Return: exit code.
 */
static int live_prune(const struct cell *c, unsigned keep, uint64_t max_age,
		      unsigned timeout_s, bool quiet)
{
	struct snapctl_req req = { .op = SNAPCTL_DELETE,
				   .timeout_s = timeout_s };
	unsigned deleted = 0, pkeep;
	uint64_t pmax;
	struct snap *v;
	int n, i, ret;

	ret = live_list(c, &v, &n, &pkeep, &pmax);
	if (ret)
		return ret;
	if (!keep && !max_age) {
		keep = pkeep;
		max_age = pmax;
	}
	if (!keep && !max_age && !quiet) {
		fprintf(stderr, "walloff snapshot: prune needs --keep and/or "
			"--max-age (the profile has no [snapshots])\n");
		free(v);
		return 2;
	}
	for (i = 0; i < n && !ret; i++) {
		const char *why = prune_why(v, n, i, keep, max_age, time(NULL));

		if (!why)
			continue;
		strcpy(req.tag, v[i].name);
		snprintf(req.why, sizeof(req.why), "%s", why);
		ret = live_call(c, &req, NULL);
		deleted += !ret;
	}
	free(v);
	if (!quiet || deleted)
		printf("%u snapshot(s) deleted%s\n", deleted,
		       quiet ? " by the profile's [snapshots] retention" : "");
	return ret;
}

/* Everything on a running cell; the supervisor audits. */
static int live(const struct cell *c, const char *op, const char *name,
		unsigned keep, uint64_t max_age, unsigned timeout_s,
		bool as_json)
{
	struct snapctl_req req = { .timeout_s = timeout_s };
	unsigned pkeep;
	uint64_t pmax;
	struct snap *v;
	int n, ret;

	if (!strcmp(op, "list")) {
		ret = live_list(c, &v, &n, &pkeep, &pmax);
		if (!ret)
			print_list(v, n, as_json);
		free(v);
		return ret;
	}
	if (!strcmp(op, "prune"))
		return live_prune(c, keep, max_age, timeout_s, false);
	req.op = !strcmp(op, "create") ? SNAPCTL_CREATE :
		 !strcmp(op, "revert") ? SNAPCTL_REVERT : SNAPCTL_DELETE;
	snprintf(req.tag, sizeof(req.tag), "%s", name);
	ret = live_call(c, &req, NULL);
	if (ret)
		return ret;
	printf("snapshot %s: %s (running cell%s)\n", op, name,
	       req.op == SNAPCTL_DELETE ? "" : ", with memory");
	/* A new snapshot may take the count past the profile's keep. The
	 * snapshot exists whatever retention says: its exit code is the
	 * create's (a concurrent prune from another client answers "busy"). */
	if (req.op == SNAPCTL_CREATE && live_prune(c, 0, 0, timeout_s, true))
		fprintf(stderr, "walloff snapshot: %s created; the profile's "
			"retention was not applied now (see above): `walloff "
			"snapshot %s prune` applies it\n", name, c->name);
	return 0;
}

int cmd_snapshot(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "keep", required_argument, NULL, 'k' },
		{ "max-age", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char log[PATH_MAX], defname[32];
	const char *op, *name = NULL;
	uint64_t max_age = 0;
	unsigned keep = 0, deleted, timeout_s = SNAPCTL_TIMEOUT_DEFAULT_S;
	struct audit *a = NULL;
	bool as_json = false;
	int c, stale, r, ret = 1;
	struct cell cell;
	struct err e;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jk:m:t:h", opts, NULL)) != -1) {
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
		case 't':
			timeout_s = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !timeout_s || timeout_s > SNAPCTL_TIMEOUT_MAX_S) {
				fprintf(stderr, "walloff snapshot: bad --timeout "
					"(1..%d seconds)\n", SNAPCTL_TIMEOUT_MAX_S);
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
	    (name && !snapctl_tag_ok(name)) ||
	    (!name && (!strcmp(op, "revert") || !strcmp(op, "delete"))) ||
	    (name && (!strcmp(op, "list") || !strcmp(op, "prune")))) {
		usage(stderr);
		return 2;
	}
	if (!name) {
		time_t t = time(NULL);
		struct tm tm;

		strftime(defname, sizeof(defname), "snap-%Y%m%d-%H%M%S",
			 gmtime_r(&t, &tm));
		name = defname;
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
	/* The lock: held, the cell runs (ask its supervisor); taken, the
	 * cell is stopped and stays so while we work. */
	if (cell_lock(&cell, geteuid(), getegid(), &stale, &e)) {
		if (e.code == EBUSY)
			return live(&cell, op, name, keep, max_age, timeout_s,
				    as_json);
		fprintf(stderr, "walloff snapshot: %s\n", e.msg);
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
	if (!strcmp(op, "delete"))
		r = img_delete(&cell, name, &e);
	else
		r = img_snapshot(&cell, !strcmp(op, "create") ? "-c" : "-a",
				 name, &e);
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
