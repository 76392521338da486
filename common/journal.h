/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal.h - copy audit records to the systemd journal (native protocol)
 *
 * The JSONL audit file stays the source of truth; the journal is a copy for
 * admins who live in journalctl ("journalctl CELL=xp-accounting").
 */
#ifndef WALLOFF_JOURNAL_H
#define WALLOFF_JOURNAL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <jansson.h>

#include "err.h"

#define JOURNAL_DEFAULT_SOCKET "/run/systemd/journal/socket"

/* journald refuses field names longer than 64 bytes. */
#define JOURNAL_NAME_MAX 64

/* One entry: MESSAGE holds the record's details (bounded by the audit
 * writer's AUDIT_RECORD_MAX, 8 KiB) and the flat fields repeat them, so
 * 24 KiB holds any record; it is also far below the datagram size limit
 * (net.core.wmem_default), so we never need journald's memfd fallback. */
#define JOURNAL_ENTRY_MAX (24 * 1024)

struct journal {
	int fd;				/* -1: no journal */
	struct sockaddr_un addr;
	socklen_t addr_len;
};

/**
 * journal_open() - find the journal socket and open a datagram socket for it
 * @j:		state to fill; j->fd stays -1 when there is no journal
 * @e:		error
 *
 * $WALLOFF_JOURNAL_SOCKET overrides the path (tests; "" turns the journal
 * off); otherwise JOURNAL_DEFAULT_SOCKET is used if it exists. Call before
 * any sandbox: later sends need only sendto().
 *
 * Return: 0 (also when there is no journal), or -errno
 */
int journal_open(struct journal *j, struct err *e);

/**
 * journal_field_name() - make a journal field name from a JSON key
 * @key:	e.g. "qemu_pid", "server-key"
 * @out:	output, e.g. "QEMU_PID", "SERVER_KEY"
 *
 * Upper-cases letters, maps every other byte outside [A-Z0-9_] to '_',
 * prefixes "F" when the result would start with '_' or a digit (journald
 * reserves leading '_' for trusted fields) and cuts at JOURNAL_NAME_MAX.
 *
 * Return: length of @out, 0 for an empty @key
 */
size_t journal_field_name(const char *key, char out[static JOURNAL_NAME_MAX + 1]);

/**
 * journal_field() - append one field to an entry under construction
 * @buf:	entry buffer
 * @cap:	size of @buf
 * @len:	bytes used so far, advanced on success
 * @name:	valid field name (see journal_field_name())
 * @val:	value bytes (may hold '\n' or NUL: then the binary form is used)
 * @vlen:	value length
 *
 * Return: 0, or -ENOSPC if the field does not fit (nothing is appended)
 */
int journal_field(char *buf, size_t cap, size_t *len, const char *name,
		  const char *val, size_t vlen);

/**
 * journal_priority() - syslog priority for an audit event name
 * @event:	e.g. "verify-error", "running"
 *
 * Return: 3 (err), 4 (warning), 5 (notice) or 6 (info)
 */
int journal_priority(const char *event);

/**
 * journal_entry() - build one native-protocol entry for an audit record
 * @buf:	output
 * @cap:	size of @buf (JOURNAL_ENTRY_MAX)
 * @cell:	cell name (CELL=)
 * @event:	event name (EVENT=)
 * @details:	the record's details object; its flat string, number and
 *		boolean members become upper-cased fields, nested ones are only
 *		in MESSAGE
 *
 * MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CELL and EVENT always fit (MESSAGE is
 * cut if need be); a detail field that does not fit is left out.
 *
 * Return: entry length, or -errno
 */
long journal_entry(char *buf, size_t cap, const char *cell, const char *event,
		   json_t *details);

/**
 * journal_send() - send one audit record to the journal (never blocks)
 * @j:		state from journal_open(); fd -1 makes this a no-op
 * @cell:	cell name
 * @event:	event name
 * @details:	details object, may be NULL
 *
 * Return: 0, or -errno; callers ignore it: the audit file is what counts
 */
int journal_send(const struct journal *j, const char *cell, const char *event,
		 json_t *details);

/**
 * journal_close() - release the socket
 * @j:		state, fd may be -1
 */
void journal_close(struct journal *j);

#endif /* WALLOFF_JOURNAL_H */
