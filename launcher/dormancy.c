/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dormancy.c - a cell that slept or drifted does not silently come back
 *
 * Dormant copies of legacy machines drift from their baseline and
 * re-infect when powered on. Every successful start of a cell with a
 * [dormancy] section records, in
 * STATE/dormancy.json, the time, the base image's sha256 and the profile's
 * sha256. The next start compares:
 *   - idle longer than [dormancy] max-idle since the last start,
 *   - a different base image or profile than last time (the profile is
 *     compared with the last review instead when STATE/review.json, written
 *     by `walloff review --ack`, exists),
 * and applies [dormancy] on-stale: quarantine (start with no network at
 * all: the supervisor runs a copy of the profile with [network] mode =
 * none), refuse (RUN_STALE, nothing modified), or warn (start, audit).
 *
 * A finding is sticky: dormancy.json keeps {stale: {since, reason}} across
 * quarantined or warned starts, so starting once does not launder it. Only
 * a review lifts it: review.json whose profile_sha256 is the current
 * profile's and whose date is not older than the finding (for an idle
 * cell: not older than its last start).
 *
 * A quarantined cell also says so to every console user: the supervisor
 * passes dormancy_notice() to walloff-console as a NOTICE (PROTOCOL.md).
 *
 * Files are small JSON objects, read with a size cap and written
 * atomically (temporary file, fsync, rename). Tests fake the clock by
 * editing last_run in the state file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "dormancy.h"
#include "supervisor.h"

/* Our own files are a few hundred bytes; anything larger is not ours. */
#define STATE_FILE_MAX	4096

/* NULL if missing; -errno through @r if unreadable or invalid. */
static json_t *load(const struct cell *c, const char *name, int *r,
		    struct err *e)
{
	char path[PATH_MAX], buf[STATE_FILE_MAX + 1];
	json_error_t je;
	json_t *j;
	ssize_t n;
	int fd;

	*r = 0;
	cell_path(c, CELL_STATE, name, path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			*r = err_set(e, errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > STATE_FILE_MAX) {
		*r = err_set(e, EFBIG, "%s: unreadable or too large", path);
		return NULL;
	}
	j = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		*r = err_set(e, EBADMSG, "%s: not a JSON object: %s", path,
			     je.text);
		return NULL;
	}
	return j;
}

/* review.json "date": epoch seconds, "YYYY-MM-DD" (end of that day, UTC),
 * or RFC 3339 "YYYY-MM-DDTHH:MM:SS...". Return: -1 if absent/invalid. */
static time_t review_time(json_t *rv)
{
	json_t *d = json_object_get(rv, "date");
	const char *s = json_string_value(d), *end;
	struct tm tm = { 0 };

	if (json_is_integer(d))
		return (time_t)json_integer_value(d);
	if (!s)
		return -1;
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end)
		return timegm(&tm);
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return -1;
	return timegm(&tm) + 86399;
}

static void add_reason(struct dormancy *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add_reason(struct dormancy *d, const char *fmt, ...)
{
	size_t n = strlen(d->reason);
	va_list ap;

	if (n && n + 2 < sizeof(d->reason)) {
		strcpy(d->reason + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(d->reason + n, sizeof(d->reason) - n, fmt, ap);
	va_end(ap);
}

int dormancy_check(const struct cell *c, const struct profile *p,
		   const char *base_sha256, const char *profile_sha256,
		   time_t now, struct dormancy *d, struct err *e)
{
	json_t *st, *rv = NULL, *stale;
	const char *old_base, *old_prof, *rv_prof, *stale_reason;
	time_t last = 0, since, rt;
	int r;

	memset(d, 0, sizeof(*d));
	d->now = now;
	d->enabled = p->has_dormancy;
	snprintf(d->base_sha256, sizeof(d->base_sha256), "%s", base_sha256);
	snprintf(d->profile_sha256, sizeof(d->profile_sha256), "%s",
		 profile_sha256);
	st = load(c, DORMANCY_FILE, &r, e);
	if (r)
		return r;
	rv = load(c, REVIEW_FILE, &r, e);
	if (r) {
		json_decref(st);
		return r;
	}
	if (!st || !p->has_dormancy)
		goto out;	/* first start, or no policy */

	last = (time_t)json_integer_value(json_object_get(st, "last_run"));
	old_base = json_string_value(json_object_get(st, "base_sha256"));
	old_prof = json_string_value(json_object_get(st, "profile_sha256"));
	rv_prof = json_string_value(json_object_get(rv, "profile_sha256"));
	stale = json_object_get(st, "stale");
	since = now;

	if (json_is_object(stale)) {
		since = (time_t)json_integer_value(json_object_get(stale,
								   "since"));
		stale_reason = json_string_value(json_object_get(stale, "reason"));
		add_reason(d, "%s", stale_reason ? stale_reason : "stale");
	}
	if (last > 0 && now - last > (time_t)p->max_idle_s) {
		add_reason(d, "idle for %lld days (max-idle %llu days)",
			   (long long)(now - last) / 86400,
			   (unsigned long long)p->max_idle_s / 86400);
		if (!json_is_object(stale))
			since = last;	/* a review during the sleep counts */
	}
	if (old_base && strcmp(old_base, base_sha256))
		add_reason(d, "base image changed since the last start");
	if (rv_prof ? strcmp(rv_prof, profile_sha256) :
	    old_prof && strcmp(old_prof, profile_sha256))
		add_reason(d, "profile changed since the last %s",
			   rv_prof ? "review" : "start");
	if (!d->reason[0])
		goto out;

	rt = review_time(rv);
	if (rv_prof && !strcmp(rv_prof, profile_sha256) && rt >= 0 &&
	    rt >= since) {
		d->reason[0] = '\0';	/* acknowledged by a review */
		goto out;
	}
	d->stale = true;
	d->stale_since = json_is_object(stale) ? since : now;
	if (p->on_stale == STALE_QUARANTINE)
		d->verdict = DORMANCY_QUARANTINE;
	else if (p->on_stale == STALE_REFUSE)
		d->verdict = DORMANCY_REFUSE;
	else
		d->verdict = DORMANCY_WARN;
out:
	json_decref(st);
	json_decref(rv);
	return 0;
}

int dormancy_record(const struct cell *c, const struct dormancy *d,
		    struct err *e)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], when[32];
	json_t *j;
	int fd, r = 0;
	char *s;

	if (!d->enabled)
		return 0;
	audit_timestamp(when, sizeof(when));
	j = json_pack("{s:I, s:s, s:s, s:s}", "last_run", (json_int_t)d->now,
		      "last_run_time", when, "base_sha256", d->base_sha256,
		      "profile_sha256", d->profile_sha256);
	if (j && d->stale)
		json_object_set_new(j, "stale", json_pack(
			"{s:I, s:s}", "since", (json_int_t)d->stale_since,
			"reason", d->reason));
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		return err_set(e, ENOMEM, "out of memory");
	cell_path(c, CELL_STATE, DORMANCY_FILE, path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s) ||
	    fsync(fd) || rename(tmp, path))
		r = err_set(e, errno ? errno : EIO, "%s: %s", path,
			    strerror(errno ? errno : EIO));
	if (fd >= 0)
		close(fd);
	if (r)
		unlink(tmp);
	free(s);
	return r;
}

int dormancy_start(const struct cell *c, const struct profile *p,
		   struct audit *a, const char *base_sha256,
		   const char *profile_sha256, struct dormancy *d,
		   struct profile **quarantined, int *run_exit)
{
	static const char *const action[] = { "ok", "warn", "quarantine",
					      "refuse" };
	struct err e;

	*quarantined = NULL;
	err_clear(&e);
	if (dormancy_check(c, p, base_sha256, profile_sha256, time(NULL), d,
			   &e)) {
		fprintf(stderr, "walloff: dormancy: %s\n", e.msg);
		audit_log(a, "error", json_pack("{s:s}", "error", e.msg));
		*run_exit = RUN_ERROR;
		return -EIO;
	}
	if (d->verdict == DORMANCY_OK)
		return 0;
	if (audit_log(a, "stale", json_pack("{s:s, s:s, s:I}", "action",
					    action[d->verdict], "reason",
					    d->reason, "since",
					    (json_int_t)d->stale_since))) {
		*run_exit = RUN_ERROR;
		return -EIO;
	}
	switch (d->verdict) {
	case DORMANCY_REFUSE:
		fprintf(stderr, "walloff: cell %s is stale (%s): on-stale = "
			"refuse; review it, then `walloff review --ack %s`\n",
			c->name, d->reason, c->name);
		*run_exit = RUN_STALE;
		return -ESTALE;
	case DORMANCY_QUARANTINE:
		*quarantined = malloc(sizeof(**quarantined));
		if (!*quarantined) {
			*run_exit = RUN_ERROR;
			return -ENOMEM;
		}
		memcpy(*quarantined, p, sizeof(*p));
		(*quarantined)->net = NET_NONE;
		fprintf(stderr, "walloff: cell %s is stale (%s): QUARANTINED, "
			"it runs with no network until `walloff review --ack "
			"%s`\n", c->name, d->reason, c->name);
		return 0;
	default:
		fprintf(stderr, "walloff: warning: cell %s is stale (%s)\n",
			c->name, d->reason);
		return 0;
	}
}

void dormancy_notice(const struct cell *c, const struct dormancy *d,
		     char *out, size_t len)
{
	size_t i;

	if (!len)
		return;
	snprintf(out, len, "QUARANTINED: cell %s is stale (%s) and runs with "
		 "no network until an admin reviews it (walloff review --ack "
		 "%s)", c->name, d->reason, c->name);
	/* the reason may come from an edited state file */
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 ||
		    (unsigned char)out[i] >= 0x7f)
			out[i] = '?';
}
