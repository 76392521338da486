/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diskwatch.c - a full disk pauses the guest; freed space resumes it
 *
 * The guest's disk devices have werror=stop,rerror=stop (qemu_argv.c): a
 * failed request does not reach the guest, whose legacy filesystem would
 * take a write error for a bad disk and corrupt itself. QEMU stops the VM
 * instead and sends BLOCK_IO_ERROR, then STOP. The supervisor hands each
 * BLOCK_IO_ERROR's data to diskwatch_event(), which decides:
 *   - nospace = true: the overlay's filesystem is full. The guest stays
 *     paused (state FULL) until the filesystem has DISKWATCH_RESUME_FREE
 *     bytes free again; the supervisor polls that from its event loop
 *     (diskwatch_due(), one fstatvfs() on its own descriptor of the
 *     overlay, so it measures the right filesystem even for an unlinked
 *     ephemeral overlay) and then sends `cont`, which retries the request.
 *   - any other error (EIO, a damaged image): state ERROR, the guest stays
 *     paused. Retrying a failing disk blindly could make things worse; an
 *     admin looks, then stops the cell.
 * Only the first error of a pause counts: the other requests in flight
 * fail too and report the same thing.
 *
 * The audit log lives on the same filesystem, and a cell whose audit log
 * cannot be written stops. So some space is set aside in an unnamed file
 * (diskwatch_reserve()) and released when QEMU reports ENOSPC, before the
 * first record about it is written (diskwatch_release()); any other way
 * the filesystem fills keeps the rule: no audit, no cell.
 *
 * Event data comes from QEMU, which we do not trust: strings are bounded
 * and reduced to printable ASCII, and an event without the members we
 * need changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "diskwatch.h"

long long diskwatch_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void diskwatch_init(struct diskwatch *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->reserve_fd = -1;
	w->state = DISKWATCH_OK;
}

void diskwatch_close(struct diskwatch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
	w->fd = w->reserve_fd = -1;
}

/* Bounded, printable copy of an optional string member. */
static void copy_text(char *out, size_t len, json_t *v)
{
	const char *s = json_string_value(v);
	size_t i;

	out[0] = '\0';
	if (!s)
		return;
	for (i = 0; s[i] && i + 1 < len; i++)
		if (s[i] >= 0x20 && s[i] < 0x7f)
			out[i] = s[i];
		else
			out[i] = '?';
	out[i] = '\0';
}

enum diskwatch_verdict diskwatch_event(struct diskwatch *w, json_t *data)
{
	const char *action = json_string_value(json_object_get(data, "action"));
	json_t *nospace = json_object_get(data, "nospace");

	if (!json_is_object(data) || !action)
		return DISKWATCH_IGNORE;
	if (strcmp(action, "stop")) {
		/* QEMU told the guest (report) or hid it (ignore): nothing
		 * paused. Our devices use stop; this is another node. */
		return DISKWATCH_REPORTED;
	}
	if (w->state != DISKWATCH_OK)
		return DISKWATCH_IGNORE;
	copy_text(w->node, sizeof(w->node), json_object_get(data, "node-name"));
	copy_text(w->operation, sizeof(w->operation),
		  json_object_get(data, "operation"));
	copy_text(w->reason, sizeof(w->reason),
		  json_object_get(data, "reason"));
	w->paused_ms = diskwatch_now_ms();
	w->next_ms = w->paused_ms;
	if (json_is_true(nospace)) {
		w->state = DISKWATCH_FULL;
		return DISKWATCH_NEW_FULL;
	}
	w->state = DISKWATCH_ERROR;
	return DISKWATCH_NEW_ERROR;
}

int diskwatch_free(const struct diskwatch *w, uint64_t *bytes, struct err *e)
{
	struct statvfs sv;

	*bytes = 0;
	if (w->fd < 0)
		return err_set(e, EBADF, "no overlay to watch");
	if (fstatvfs(w->fd, &sv))
		return err_set(e, errno, "fstatvfs on the overlay: %s",
			       strerror(errno));
	/* QEMU writes as an unprivileged user: what it may still use. */
	*bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return 0;
}

bool diskwatch_due(struct diskwatch *w, long long now_ms)
{
	if (w->state != DISKWATCH_FULL || now_ms < w->next_ms)
		return false;
	w->next_ms = now_ms + DISKWATCH_POLL_MS;
	return true;
}

int diskwatch_timeout(const struct diskwatch *w, int other)
{
	if (w->state != DISKWATCH_FULL)
		return other;
	return other >= 0 && other < DISKWATCH_POLL_MS ? other :
	       DISKWATCH_POLL_MS;
}

void diskwatch_resumed(struct diskwatch *w)
{
	w->state = DISKWATCH_OK;
	w->node[0] = w->operation[0] = w->reason[0] = '\0';
}

long diskwatch_reserve(struct diskwatch *w, const char *dir)
{
	struct statvfs sv;
	off_t len;

	if (w->reserve_fd < 0)
		w->reserve_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (w->reserve_fd < 0)
		return -errno;
	if (fstatvfs(w->reserve_fd, &sv))
		return -errno;
	len = (off_t)((uint64_t)sv.f_bavail * sv.f_frsize /
		      DISKWATCH_RESERVE_SHARE);
	if (len > DISKWATCH_AUDIT_RESERVE)
		len = DISKWATCH_AUDIT_RESERVE;
	if (ftruncate(w->reserve_fd, 0) ||
	    (len && fallocate(w->reserve_fd, 0, 0, len)))
		return -errno;
	return (long)len;
}

void diskwatch_release(struct diskwatch *w)
{
	if (w->reserve_fd >= 0 && ftruncate(w->reserve_fd, 0)) {
		/* nothing to give back */
	}
}
