/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit.h - the cell's audit log: one JSON object per line
 *
 * Every record is {"time": RFC 3339 UTC with milliseconds, "cell": name,
 * "event": short-name, "pid": writer, "details": {...}}. The file is opened
 * with O_APPEND and each record is written with a single write(2), so the
 * supervisor and its helper processes (which inherit the descriptor, never
 * the path) can share one log without interleaving lines.
 *
 * Each record written is also sent to the systemd journal when there is one
 * (journal.h: CELL=, EVENT= and the details as fields); that copy is best
 * effort and never makes audit_log() fail.
 *
 * A record that cannot be written (disk full, I/O error) is reported to the
 * caller: an unaudited cell must stop, so callers treat failure as fatal.
 */
#ifndef WALLOFF_AUDIT_H
#define WALLOFF_AUDIT_H

#include <jansson.h>

#include "err.h"

/* Upper bound of one record: keeps writes atomic-sized and memory bounded. */
#define AUDIT_RECORD_MAX 8192

struct audit;

/**
 * audit_open() - open (create) an audit log for appending
 * @path:	log file, created 0600 if missing
 * @cell:	cell name stamped on every record
 * @e:		error
 *
 * Return: handle, or NULL with @e set
 */
struct audit *audit_open(const char *path, const char *cell, struct err *e);

/**
 * audit_fdopen() - wrap an inherited, already open O_APPEND descriptor
 * @fd:		descriptor; owned by the handle from now on
 * @cell:	cell name
 * @e:		error
 *
 * Return: handle, or NULL with @e set
 */
struct audit *audit_fdopen(int fd, const char *cell, struct err *e);

/**
 * audit_fd() - the descriptor, to pass to a helper process
 * @a:		handle
 *
 * Return: file descriptor
 */
int audit_fd(const struct audit *a);

/**
 * audit_log() - append one record
 * @a:		handle (NULL: the record is dropped and 0 returned)
 * @event:	event name, e.g. "start", "verify", "qmp-event"
 * @details:	object with the details, reference stolen; NULL for none
 *
 * Return: 0, or -errno if the record could not be written in full
 */
int audit_log(struct audit *a, const char *event, json_t *details);

/**
 * audit_logf() - append one record whose details are built by json_pack()
 * @a:		handle
 * @event:	event name
 * @fmt:	json_pack() format for an object, e.g. "{s:s, s:i}"
 *
 * Return: 0, or -errno
 */
int audit_logf(struct audit *a, const char *event, const char *fmt, ...);

/**
 * audit_close() - close the log
 * @a:		handle, may be NULL
 */
void audit_close(struct audit *a);

/**
 * audit_timestamp() - current UTC time as RFC 3339 with milliseconds
 * @buf:	output, at least 32 bytes
 * @len:	size of @buf
 */
void audit_timestamp(char *buf, size_t len);

#endif /* WALLOFF_AUDIT_H */
