/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diskwatch.h - a guest paused on a disk error: why, and when it may go on
 */
#ifndef WALLOFF_DISKWATCH_H
#define WALLOFF_DISKWATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/*
 * Free bytes the overlay's filesystem must have before a guest paused on
 * ENOSPC is resumed. On `cont` QEMU retries the failed request at once and
 * the guest goes on writing: with only the failed request's room (a qcow2
 * cluster is 64 KiB, a guest request a few MiB at most) it would pause
 * again moments later, and every pause and resume is an audit record. 64
 * MiB is a few seconds of legacy-guest disk writes, so a resumed guest
 * gets real work done, while an admin freeing space on a small volume
 * (or a test on a small tmpfs) does not have to free gigabytes.
 */
#define DISKWATCH_RESUME_FREE	(64ull << 20)
/* How often the filesystem is checked while the guest waits for space:
 * one fstatvfs(), so it may be frequent; a person freeing space sees the
 * guest go on within a second. */
#define DISKWATCH_POLL_MS	1000
/* After a failed resume (QMP error, unexpected VM state): audited, and
 * tried again this much later, so a stuck QEMU does not flood the log. */
#define DISKWATCH_RETRY_MS	30000
/*
 * Space set aside in the state folder (an unnamed O_TMPFILE, so nothing is
 * left behind) and given back the moment QEMU reports ENOSPC: the audit
 * log shares that filesystem, and without room for the BLOCK_IO_ERROR,
 * disk.full and STOP records the unwritable log would stop the cell.
 * 1 MiB is thousands of records; on a small filesystem at most 1/16 of
 * the free space, so the reserve never starves the cell itself. Taken
 * again at every resume.
 */
#define DISKWATCH_AUDIT_RESERVE	(1 << 20)
#define DISKWATCH_RESERVE_SHARE	16
/* Longest QEMU node name (block.h: 31) and error text we keep. */
#define DISKWATCH_NODE_MAX	32
#define DISKWATCH_TEXT_MAX	128

enum diskwatch_state {
	DISKWATCH_OK,		/* no disk error, or resumed */
	DISKWATCH_FULL,		/* paused: ENOSPC, resumes given space */
	DISKWATCH_ERROR,	/* paused: another I/O error, stays paused */
};

/* What one BLOCK_IO_ERROR event means for the cell. */
enum diskwatch_verdict {
	DISKWATCH_IGNORE,	/* already paused for this, or malformed */
	DISKWATCH_NEW_FULL,	/* the guest just paused: disk full */
	DISKWATCH_NEW_ERROR,	/* the guest just paused: other error */
	DISKWATCH_REPORTED,	/* an error QEMU reported to the guest
				 * (action report/ignore): audit only */
};

struct diskwatch {
	int fd;			/* the overlay (our own fd), or -1 */
	int reserve_fd;		/* the audit reserve, or -1 */
	enum diskwatch_state state;
	char node[DISKWATCH_NODE_MAX];		/* from the event */
	char operation[8];			/* "read" or "write" */
	char reason[DISKWATCH_TEXT_MAX];	/* QEMU's error text */
	long long paused_ms;	/* CLOCK_MONOTONIC, when it paused */
	long long next_ms;	/* next filesystem check */
};

/**
 * diskwatch_init() - start watching the overlay's filesystem
 * @w:		watcher
 * @fd:		a descriptor of the overlay the watcher owns (closed by
 *		diskwatch_close()), or -1 for a cell without a disk
 */
void diskwatch_init(struct diskwatch *w, int fd);

/**
 * diskwatch_close() - release the overlay descriptor and the reserve
 * @w:		watcher
 */
void diskwatch_close(struct diskwatch *w);

/**
 * diskwatch_event() - classify a BLOCK_IO_ERROR event and update the state
 * @w:		watcher
 * @data:	the event's "data" object, as QEMU sent it (not trusted:
 *		strings are bounded and made printable, missing members mean
 *		IGNORE)
 *
 * Only the first error of a pause changes the state; the requests that
 * were in flight fail too and are IGNOREd.
 *
 * Return: what the caller should audit
 */
enum diskwatch_verdict diskwatch_event(struct diskwatch *w, json_t *data);

/**
 * diskwatch_free() - free bytes on the overlay's filesystem, for an
 * unprivileged writer (f_bavail)
 * @w:		watcher
 * @bytes:	output
 * @e:		error
 *
 * Return: 0 or -errno
 */
int diskwatch_free(const struct diskwatch *w, uint64_t *bytes, struct err *e);

/**
 * diskwatch_due() - is a filesystem check due? (paused on ENOSPC only)
 * @w:		watcher
 * @now_ms:	CLOCK_MONOTONIC milliseconds; the next check is scheduled
 *		DISKWATCH_POLL_MS later when this returns true
 *
 * Return: true if the caller should check the free space now
 */
bool diskwatch_due(struct diskwatch *w, long long now_ms);

/**
 * diskwatch_timeout() - poll() timeout for the event loop
 * @w:		watcher
 * @other:	the loop's own timeout in ms, or -1 for none
 *
 * Return: @other, or at most DISKWATCH_POLL_MS while paused on ENOSPC
 */
int diskwatch_timeout(const struct diskwatch *w, int other);

/**
 * diskwatch_resumed() - the guest was continued
 * @w:		watcher
 */
void diskwatch_resumed(struct diskwatch *w);

/**
 * diskwatch_reserve() - set space aside for the audit records of a full
 * disk: DISKWATCH_AUDIT_RESERVE bytes, at most 1/DISKWATCH_RESERVE_SHARE
 * of the free space
 * @w:		watcher
 * @dir:	the folder whose filesystem holds the audit log
 *
 * Best effort: without O_TMPFILE or fallocate() there is no reserve.
 *
 * Return: bytes set aside, or -errno
 */
long diskwatch_reserve(struct diskwatch *w, const char *dir);

/**
 * diskwatch_release() - give the reserve back to the filesystem (QEMU is
 * paused on ENOSPC: the audit records need it now)
 * @w:		watcher
 */
void diskwatch_release(struct diskwatch *w);

/**
 * diskwatch_now_ms() - CLOCK_MONOTONIC in milliseconds
 *
 * Return: milliseconds
 */
long long diskwatch_now_ms(void);

#endif /* WALLOFF_DISKWATCH_H */
