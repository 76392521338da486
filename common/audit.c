/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit.c - append-only JSONL audit writer
 *
 * Records are serialised in memory first (bounded by AUDIT_RECORD_MAX: an
 * oversized details object is replaced by a note saying it was cut, so a
 * hostile string cannot make a record unbounded), then written with one
 * write(2) on an O_APPEND descriptor. A short write is an error: we do not
 * retry the tail, because another process may have appended in between and a
 * retried tail would corrupt both lines; the torn part is truncated away. The caller decides what an audit
 * failure means (for the supervisor: stop the cell).
 *
 * A record written in full is then copied to the systemd journal when there
 * is one (journal.c), from this one write path, so every walloff process's
 * records reach it. The copy is best effort: its socket is opened when the
 * log is, never blocks, and its failures are ignored; the file is the
 * source of truth.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "journal.h"

struct audit {
	int fd;
	char cell[64];
	struct journal journal;	/* fd -1: no journal */
};

void audit_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", base, ts.tv_nsec / 1000000L);
}

/*
 * The pid in every record, without a getpid(2) per record (the console
 * writes two records per session): cached, and forgotten in a forked
 * child so that it reports its own.
 */
static pid_t pid_cached;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void pid_forget(void)
{
	pid_cached = 0;
}

static void pid_hook(void)
{
	pthread_atfork(NULL, NULL, pid_forget);
}

static pid_t audit_pid(void)
{
	pthread_once(&pid_once, pid_hook);
	if (!pid_cached)
		pid_cached = getpid();
	return pid_cached;
}

struct audit *audit_fdopen(int fd, const char *cell, struct err *e)
{
	struct audit *a;
	int fl;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		err_set(e, errno, "audit descriptor %d: %s", fd, strerror(errno));
		return NULL;
	}
	if (!(fl & O_APPEND)) {
		err_set(e, EINVAL, "audit descriptor %d is not O_APPEND", fd);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		err_set(e, ENOMEM, "audit: out of memory");
		return NULL;
	}
	a->fd = fd;
	snprintf(a->cell, sizeof(a->cell), "%s", cell ? cell : "");
	if (journal_open(&a->journal, NULL)) {
		/* no copy in the journal; the file is what counts */
	}
	return a;
}

struct audit *audit_open(const char *path, const char *cell, struct err *e)
{
	struct audit *a;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		err_set(e, errno, "audit log %s: %s", path, strerror(errno));
		return NULL;
	}
	a = audit_fdopen(fd, cell, e);
	if (!a)
		close(fd);
	return a;
}

int audit_fd(const struct audit *a)
{
	return a ? a->fd : -1;
}

int audit_log(struct audit *a, const char *event, json_t *details)
{
	char ts[40];
	json_t *rec;
	char *line = NULL;
	size_t len;
	ssize_t n;
	int ret = 0;

	if (!a) {
		json_decref(details);
		return 0;
	}
	if (!details)
		details = json_object();

	audit_timestamp(ts, sizeof(ts));
	rec = json_pack("{s:s, s:s, s:s, s:i, s:o}", "time", ts, "cell", a->cell,
			"event", event, "pid", (int)audit_pid(), "details", details);
	if (!rec)
		return -ENOMEM;

	line = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (line && strlen(line) + 1 > AUDIT_RECORD_MAX) {
		free(line);
		json_object_set_new(rec, "details",
				    json_pack("{s:b}", "truncated", 1));
		line = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
	}
	if (!line) {
		ret = -ENOMEM;
		goto out;
	}
	len = strlen(line);
	line[len++] = '\n';	/* json_dumps leaves room: we overwrite the NUL */

	n = write(a->fd, line, len);
	if (n < 0) {
		ret = -errno;
	} else if ((size_t)n != len) {
		/* Disk full mid-record: cut the torn tail off again so the log
		 * stays one whole record per line (O_APPEND left our offset at
		 * the end of what we wrote). */
		off_t end = lseek(a->fd, 0, SEEK_CUR);

		if (end >= n && ftruncate(a->fd, end - n)) {
			/* nothing more we can do; the caller stops the cell */
		}
		ret = -ENOSPC;
	}
	if (!ret)
		journal_send(&a->journal, a->cell, event,
			     json_object_get(rec, "details"));
out:
	free(line);
	json_decref(rec);
	return ret;
}

int audit_logf(struct audit *a, const char *event, const char *fmt, ...)
{
	json_error_t jerr;
	json_t *d;
	va_list ap;

	va_start(ap, fmt);
	d = json_vpack_ex(&jerr, 0, fmt, ap);
	va_end(ap);
	if (!d)
		return -EINVAL;
	return audit_log(a, event, d);
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	close(a->fd);
	journal_close(&a->journal);
	free(a);
}
