/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_review.c - `walloff review PATH...`: security report for profiles
 *
 * Each PATH is a profile or a folder; a folder contributes every *.cell in
 * it (sorted by name, not recursive). Every profile is validated as
 * `walloff check` does (image and keys file may be missing) and, if valid,
 * run through the table of controls in review.c. Output is the terminal
 * report (a full block per profile; one line per profile when a folder was
 * given or with --summary), --json (one document, schema in
 * profiles/README.md) or --markdown. Reports are streamed: one report is in
 * memory at a time.
 *
 * Exit: 0 all PASS (or WARN without --strict), 1 WARN with --strict,
 * 2 any FAIL, 3 any invalid profile (the validator's file:line: reason is
 * printed on stderr), 4 usage or system error. "Today" is WALLOFF_NOW
 * (YYYY-MM-DD) when set, so that reports are reproducible.
 *
 * --ack PROFILE records a fresh review: STATE/review.json (date, reviewer,
 * sha256 of the profile file, the FAIL/WARN ids at that moment) written
 * atomically, and a "review-ack" record in the cell's audit log.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "cmds.h"
#include "dirs.h"
#include "hex.h"
#include "path.h"
#include "profile.h"
#include "review.h"

/* A folder with more profiles than this is not something one reads. */
#define DIR_PROFILES_MAX	4096
/* Profiles are a page or two (the validator refuses over 64 KiB). */
#define ACK_PROFILE_MAX		(64 * 1024)
/* A reviewer's name or address: one short, printable token. */
#define REVIEWER_MAX		64

enum format { FMT_TEXT, FMT_JSON, FMT_MARKDOWN };

struct opts {
	enum format fmt;
	bool strict, verbose, colour;
	int summary;		/* -1 auto, 0 full, 1 summary */
	const char *ack, *reviewer;
};

struct run {
	const struct opts *o;
	struct profile *p;
	struct review_report *rep;
	json_t *list;		/* --json: the profiles array */
	FILE *rows;		/* --markdown: summary table rows, printed last */
	char *rows_buf;
	size_t rows_len;
	unsigned n, n_invalid, n_status[3], n_results[3];
	bool summary;
	time_t now;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: walloff review [OPTIONS] PATH...\n"
		"       walloff review --ack PROFILE [--reviewer NAME]\n"
		"\n"
		"Security report for cell profiles: PASS/WARN/FAIL per control with\n"
		"the profile line as evidence. A PATH may be a folder: every *.cell in it.\n"
		"\n"
		"  --json          one JSON document (schema: profiles/README.md)\n"
		"  --markdown      audit report in Markdown\n"
		"  --summary       one line per profile (default for folders)\n"
		"  --full          full report per profile (default for files)\n"
		"  -v, --verbose   print every control's rationale, not only WARN/FAIL\n"
		"  --strict        exit 1 on any WARN\n"
		"  --no-color      no colours (also: NO_COLOR set, or not a terminal)\n"
		"  --ack PROFILE   record a fresh review of the cell in its state folder\n"
		"                  and audit log\n"
		"  --reviewer NAME who reviewed (default: $SUDO_USER or the login name)\n"
		"\n"
		"Exit: 0 all PASS, 1 any WARN with --strict, 2 any FAIL, 3 a profile is\n"
		"invalid, 4 usage or system error. WALLOFF_NOW=YYYY-MM-DD sets \"today\".\n");
}

static void review_one(struct run *run, const char *path)
{
	const struct opts *o = run->o;
	struct err e;
	unsigned i;

	err_clear(&e);
	run->n++;
	if (profile_load(path, 0, run->p, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		review_invalid(path, e.msg, run->now, run->rep);
		run->n_invalid++;
	} else {
		review_profile(run->p, run->now, run->rep);
		run->n_status[run->rep->status]++;
		for (i = 0; i < 3; i++)
			run->n_results[i] += run->rep->n_status[i];
	}
	switch (o->fmt) {
	case FMT_JSON: {
		json_t *j = review_json(run->rep);

		if (!j)	/* a path that is not UTF-8 */
			j = json_pack("{s:s, s:b, s:s, s:s}", "path", "?",
				      "valid", 0, "status", "INVALID", "error",
				      "path is not valid UTF-8");
		json_array_append_new(run->list, j);
		break;
	}
	case FMT_MARKDOWN:
		review_print_markdown(stdout, run->rep);
		review_print_markdown_row(run->rows, run->rep);
		break;
	case FMT_TEXT:
		if (run->summary)
			review_print_summary(stdout, run->rep, o->colour);
		else if (run->rep->valid)
			review_print_text(stdout, run->rep, o->colour,
					  o->verbose);
		break;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int review_dir(struct run *run, const char *dir)
{
	char **names = NULL, path[PATH_MAX];
	size_t n = 0, i, len;
	struct dirent *de;
	int ret = 0;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "walloff review: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	names = calloc(DIR_PROFILES_MAX, sizeof(*names));
	if (!names) {
		ret = -ENOMEM;
		goto out;
	}
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".cell") ||
		    de->d_name[0] == '.')
			continue;
		if (n == DIR_PROFILES_MAX) {
			fprintf(stderr, "walloff review: %s: more than %d profiles\n",
				dir, DIR_PROFILES_MAX);
			ret = -E2BIG;
			goto out;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			ret = -ENOMEM;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		len = strlen(dir);
		if (snprintf(path, sizeof(path), "%s%s%s", dir,
			     len && dir[len - 1] == '/' ? "" : "/",
			     names[i]) >= (int)sizeof(path)) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		review_one(run, path);
	}
out:
	if (ret == -ENOMEM)
		fprintf(stderr, "walloff review: out of memory\n");
	else if (ret == -ENAMETOOLONG)
		fprintf(stderr, "walloff review: %s: path too long\n", dir);
	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

static void print_totals(const struct run *run)
{
	if (run->o->fmt == FMT_TEXT) {
		printf("%u profile%s: %u PASS, %u WARN, %u FAIL, %u invalid\n",
		       run->n, run->n == 1 ? "" : "s",
		       run->n_status[REVIEW_PASS], run->n_status[REVIEW_WARN],
		       run->n_status[REVIEW_FAIL], run->n_invalid);
	} else if (run->o->fmt == FMT_MARKDOWN) {
		fflush(run->rows);
		printf("## Summary\n\n| Cell | Result | PASS | WARN | FAIL | "
		       "Profile |\n| --- | --- | --- | --- | --- | --- |\n");
		fwrite(run->rows_buf, 1, run->rows_len, stdout);
		printf("\n## Totals\n\n| Profiles | PASS | WARN | FAIL | Invalid |\n"
		       "| --- | --- | --- | --- | --- |\n"
		       "| %u | %u | %u | %u | %u |\n",
		       run->n, run->n_status[REVIEW_PASS],
		       run->n_status[REVIEW_WARN], run->n_status[REVIEW_FAIL],
		       run->n_invalid);
	}
}

static int exit_code(const struct run *run)
{
	if (run->n_invalid)
		return 3;
	if (run->n_status[REVIEW_FAIL])
		return 2;
	if (run->n_status[REVIEW_WARN] && run->o->strict)
		return 1;
	return 0;
}

/* --- --ack --------------------------------------------------------------- */

static bool reviewer_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > REVIEWER_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static const char *default_reviewer(void)
{
	const char *s = getenv("SUDO_USER");
	struct passwd *pw;

	if (s && *s)
		return s;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

static int file_sha256(const char *path, char hex[65], struct err *e)
{
	unsigned char *buf, md[crypto_hash_sha256_BYTES];
	size_t len = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	buf = malloc(ACK_PROFILE_MAX + 1);
	if (!buf) {
		ret = err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	while (len <= ACK_PROFILE_MAX) {
		n = read(fd, buf + len, ACK_PROFILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = err_set(e, errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > ACK_PROFILE_MAX) {
		ret = err_set(e, EFBIG, "%s: too large", path);
		goto out;
	}
	crypto_hash_sha256(md, buf, len);
	hex_encode(hex, md, sizeof(md));
out:
	free(buf);
	close(fd);
	return ret;
}

static json_t *ids_with(const struct review_report *rep,
			enum review_status s)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; i < REVIEW_N_CONTROLS; i++)
		if (rep->results[i].status == s)
			json_array_append_new(
				a, json_string(rep->results[i].control->id));
	return a;
}

/* Write @j to @dir/review.json via a temporary file and rename(). */
static int write_ack(const char *dir, json_t *j, struct err *e)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s/review.json.tmp", dir) >=
		    (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/review.json", dir) >=
		    (int)sizeof(dst))
		return err_set(e, ENAMETOOLONG, "%s: path too long", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return err_set(e, errno, "%s: %s", tmp, strerror(errno));
	if (json_dumpfd(j, fd, JSON_INDENT(2) | JSON_SORT_KEYS) ||
	    write(fd, "\n", 1) != 1 || fsync(fd)) {
		ret = err_set(e, errno ? errno : EIO, "%s: write failed", tmp);
		close(fd);
		unlink(tmp);
		return ret;
	}
	close(fd);
	if (rename(tmp, dst)) {
		ret = err_set(e, errno, "%s: %s", dst, strerror(errno));
		unlink(tmp);
	}
	return ret;
}

static int do_ack(struct run *run)
{
	const char *reviewer = run->o->reviewer ? run->o->reviewer :
						  default_reviewer();
	char state[PATH_MAX], logpath[PATH_MAX], hex[65], date[16];
	struct audit *a = NULL;
	json_t *j = NULL;
	struct err e;
	int ret = 4;

	err_clear(&e);
	if (!reviewer_valid(reviewer)) {
		fprintf(stderr, "walloff review: reviewer must be 1 to %d printable "
			"characters without spaces\n", REVIEWER_MAX);
		return 4;
	}
	if (profile_load(run->o->ack, 0, run->p, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 3;
	}
	review_profile(run->p, run->now, run->rep);
	review_date_str(run->now, date, sizeof(date));
	if (sodium_init() < 0 || file_sha256(run->o->ack, hex, &e) ||
	    dirs_cell(run->p->name, state, NULL, sizeof(state), &e) ||
	    path_mkdir_private(state, &e))
		goto out;
	j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}",
		      "schema_version", REVIEW_SCHEMA_VERSION,
		      "cell", run->p->name, "date", date, "reviewer", reviewer,
		      "profile", run->p->path, "profile_sha256", hex,
		      "status", review_status_str(run->rep->status),
		      "fail", ids_with(run->rep, REVIEW_FAIL),
		      "warn", ids_with(run->rep, REVIEW_WARN));
	if (!j) {
		err_set(&e, EINVAL, "cannot encode the review (path not UTF-8?)");
		goto out;
	}
	if (write_ack(state, j, &e))
		goto out;
	if (snprintf(logpath, sizeof(logpath), "%s/audit.jsonl", state) >=
	    (int)sizeof(logpath)) {
		err_set(&e, ENAMETOOLONG, "%s: path too long", state);
		goto out;
	}
	a = audit_open(logpath, run->p->name, &e);
	if (!a || audit_log(a, "review-ack", json_incref(j)) < 0) {
		if (!e.code)
			err_set(&e, EIO, "%s: cannot write the audit record", logpath);
		goto out;
	}
	printf("review of %s recorded: %s by %s (%s, %u FAIL, %u WARN)\n"
	       "state: %s/review.json\n",
	       run->p->name, date, reviewer,
	       review_status_str(run->rep->status),
	       run->rep->n_status[REVIEW_FAIL], run->rep->n_status[REVIEW_WARN],
	       state);
	if (!run->p->has_reviewed || run->p->reviewed != run->now)
		printf("set 'reviewed = %s' in [cell] of %s\n", date,
		       run->p->path);
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "walloff review: %s\n", e.msg);
	audit_close(a);
	json_decref(j);
	return ret;
}

/* --- main ---------------------------------------------------------------- */

static int parse_opts(int argc, char *argv[], struct opts *o)
{
	enum { O_JSON = 256, O_MD, O_SUMMARY, O_FULL, O_STRICT, O_NOCOLOR,
	       O_ACK, O_REVIEWER, O_HELP };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "markdown", no_argument, NULL, O_MD },
		{ "summary", no_argument, NULL, O_SUMMARY },
		{ "full", no_argument, NULL, O_FULL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "no-color", no_argument, NULL, O_NOCOLOR },
		{ "ack", required_argument, NULL, O_ACK },
		{ "reviewer", required_argument, NULL, O_REVIEWER },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *nc = getenv("NO_COLOR");
	int c;

	o->colour = isatty(STDOUT_FILENO) && !(nc && *nc);
	o->summary = -1;
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON:
			o->fmt = FMT_JSON;
			break;
		case O_MD:
			o->fmt = FMT_MARKDOWN;
			break;
		case O_SUMMARY:
			o->summary = 1;
			break;
		case O_FULL:
			o->summary = 0;
			break;
		case 'v':
			o->verbose = true;
			break;
		case O_STRICT:
			o->strict = true;
			break;
		case O_NOCOLOR:
			o->colour = false;
			break;
		case O_ACK:
			o->ack = optarg;
			break;
		case O_REVIEWER:
			o->reviewer = optarg;
			break;
		case O_HELP:
			usage(stdout);
			return 1;
		default:
			return -1;
		}
	}
	if (o->reviewer && !o->ack) {
		fprintf(stderr, "walloff review: --reviewer needs --ack\n");
		return -1;
	}
	if (o->ack ? optind != argc : optind == argc)
		return -1;
	return 0;
}

int cmd_review(int argc, char *argv[])
{
	struct opts o = { 0 };
	struct run run = { .o = &o };
	struct err e;
	struct stat st;
	int ret = 4, r, i;

	r = parse_opts(argc, argv, &o);
	if (r > 0)
		return 0;
	if (r < 0) {
		usage(stderr);
		return 4;
	}
	err_clear(&e);
	if (review_now(&run.now, &e)) {
		fprintf(stderr, "walloff review: %s\n", e.msg);
		return 4;
	}
	run.p = malloc(sizeof(*run.p));
	run.rep = malloc(sizeof(*run.rep));
	run.list = json_array();
	run.rows = open_memstream(&run.rows_buf, &run.rows_len);
	if (!run.p || !run.rep || !run.list || !run.rows) {
		fprintf(stderr, "walloff review: out of memory\n");
		goto out;
	}
	if (o.ack) {
		ret = do_ack(&run);
		goto out;
	}

	run.summary = o.summary == 1;
	for (i = optind; o.summary == -1 && i < argc; i++)
		if (!stat(argv[i], &st) && S_ISDIR(st.st_mode))
			run.summary = true;
	if (o.fmt == FMT_MARKDOWN) {
		char today[16];

		review_date_str(run.now, today, sizeof(today));
		printf("# walloff security review, %s\n\n", today);
	}
	for (i = optind; i < argc; i++) {
		if (!stat(argv[i], &st) && S_ISDIR(st.st_mode)) {
			if (review_dir(&run, argv[i]))
				goto out;
		} else {
			review_one(&run, argv[i]);
		}
	}
	ret = exit_code(&run);
	if (o.fmt == FMT_JSON) {
		char today[16];
		json_t *doc;

		review_date_str(run.now, today, sizeof(today));
		doc = json_pack("{s:s, s:i, s:s, s:O, s:{s:i, s:i, s:i, s:i, s:i, "
				"s:{s:i, s:i, s:i}}, s:i}",
				"schema", "walloff-review",
				"schema_version", REVIEW_SCHEMA_VERSION,
				"date", today, "profiles", run.list,
				"totals", "profiles", run.n,
				"pass", run.n_status[REVIEW_PASS],
				"warn", run.n_status[REVIEW_WARN],
				"fail", run.n_status[REVIEW_FAIL],
				"invalid", run.n_invalid,
				"results", "pass", run.n_results[REVIEW_PASS],
				"warn", run.n_results[REVIEW_WARN],
				"fail", run.n_results[REVIEW_FAIL],
				"exit", ret);
		if (!doc) {
			fprintf(stderr, "walloff review: out of memory\n");
			ret = 4;
			goto out;
		}
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	} else if (run.summary || run.n > 1 || o.fmt == FMT_MARKDOWN) {
		print_totals(&run);
	}
out:
	if (run.rows)
		fclose(run.rows);
	free(run.rows_buf);
	json_decref(run.list);
	free(run.rep);
	free(run.p);
	return ret;
}
