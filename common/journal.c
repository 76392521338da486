/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal.c - audit records as structured journal entries
 *
 * journald's native protocol: one datagram per entry on a unix socket
 * (/run/systemd/journal/socket), made of fields. A field is "NAME=value\n"
 * when the value has no newline, else the binary-safe form "NAME\n", the
 * value's length as a little-endian 64-bit integer, the value, "\n". Names
 * are [A-Z0-9_], at most 64 bytes, and may not start with '_' (those are
 * the fields journald itself vouches for, such as _PID and _UID).
 *
 * Every audit record (common/audit.c calls journal_send() from its single
 * write path, in every walloff process) becomes an entry with MESSAGE (the
 * event and its details as compact JSON), PRIORITY (from the event name),
 * SYSLOG_IDENTIFIER=walloff, CELL, EVENT, and the details' flat members as
 * fields of their own, so "journalctl CELL=x EVENT=net-deny" works. Detail
 * values are untrusted (guest hostnames, client names): they can only ever
 * be values, sent in the binary-safe form when they hold a newline or NUL;
 * a detail key that maps onto one of our own or a well-known journal field
 * is prefixed with DETAIL_ so it cannot pose as MESSAGE or PRIORITY.
 *
 * The journal is a copy: the JSONL file is the source of truth. Sends use
 * MSG_DONTWAIT on a socket opened before any sandbox, and every failure
 * (no journald, a full queue, an entry too big) is ignored by the caller.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "sdnotify.h"

/* Fields we set ourselves or journal readers give meaning to. */
static const char *const reserved[] = {
	"MESSAGE", "MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER",
	"SYSLOG_FACILITY", "SYSLOG_PID", "SYSLOG_TIMESTAMP", "SYSLOG_RAW",
	"CODE_FILE", "CODE_LINE", "CODE_FUNC", "ERRNO", "TID", "CELL", "EVENT",
	"DOCUMENTATION", "INVOCATION_ID", "USER_INVOCATION_ID", "UNIT",
	"USER_UNIT",
};

int journal_open(struct journal *j, struct err *e)
{
	const char *path = getenv("WALLOFF_JOURNAL_SOCKET");
	int ret;

	j->fd = -1;
	if (path && !*path)
		return 0;
	if (!path) {
		path = JOURNAL_DEFAULT_SOCKET;
		if (access(path, F_OK))
			return 0;
	}
	/* Same address rules as NOTIFY_SOCKET: "/path" or "@abstract". */
	ret = sdnotify_parse(path, &j->addr, &j->addr_len, e);
	if (ret)
		return ret;
	j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (j->fd < 0)
		return err_set(e, errno, "journal socket: %s", strerror(errno));
	return 0;
}

size_t journal_field_name(const char *key, char out[static JOURNAL_NAME_MAX + 1])
{
	size_t n = 0, i;

	if (!*key) {
		out[0] = '\0';
		return 0;
	}
	/* journald: no leading '_' (trusted fields) and no leading digit */
	if (!((*key >= 'a' && *key <= 'z') || (*key >= 'A' && *key <= 'Z')))
		out[n++] = 'F';
	for (; *key && n < JOURNAL_NAME_MAX; key++) {
		char c = *key;

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		out[n++] = c;
	}
	out[n] = '\0';
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strcmp(out, reserved[i]))
			continue;
		/* "DETAIL_" + at most 20 bytes of a reserved name: fits */
		n = (size_t)snprintf(out, JOURNAL_NAME_MAX + 1, "DETAIL_%s",
				     reserved[i]);
		break;
	}
	return n;
}

/* The binary-safe form's length: little-endian uint64. */
#define JOURNAL_LEN_BYTES 8

int journal_field(char *buf, size_t cap, size_t *len, const char *name,
		  const char *val, size_t vlen)
{
	size_t nlen = strlen(name), need;
	bool binary = memchr(val, '\n', vlen) || memchr(val, '\0', vlen);
	char *p;
	int i;

	need = nlen + 1 + vlen + 1 + (binary ? JOURNAL_LEN_BYTES : 0);
	if (*len > cap || need > cap - *len)
		return -ENOSPC;
	/* An entry is bytes, not a string: nothing is NUL-terminated. */
	p = mempcpy(buf + *len, name, nlen);
	if (binary) {
		*p++ = '\n';
		for (i = 0; i < JOURNAL_LEN_BYTES; i++)
			*p++ = (char)(((uint64_t)vlen >> (8 * i)) & 0xff);
	} else {
		*p++ = '=';
	}
	p = mempcpy(p, val, vlen);
	*p = '\n';
	*len += need;
	return 0;
}

int journal_priority(const char *event)
{
	static const char *const err3[] = { "error", "failed", "died", "killed" };
	static const char *const warn4[] = { "refused", "deny", "denied",
					     "timeout", "stale", "accept-risk",
					     "quit", "lost", "unavailable" };
	static const char *const notice5[] = { "start", "running", "stopped",
					       "destroyed" };
	size_t i;

	for (i = 0; i < sizeof(err3) / sizeof(err3[0]); i++)
		if (strstr(event, err3[i]))
			return 3;
	for (i = 0; i < sizeof(warn4) / sizeof(warn4[0]); i++)
		if (strstr(event, warn4[i]))
			return 4;
	for (i = 0; i < sizeof(notice5) / sizeof(notice5[0]); i++)
		if (!strcmp(event, notice5[i]))
			return 5;
	return 6;
}

/* A flat member's value as text; false for objects, arrays and null. */
static bool flat_value(json_t *v, char *num, size_t nlen, const char **val,
		       size_t *vlen)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		*val = json_string_value(v);
		*vlen = json_string_length(v);
		return true;
	case JSON_INTEGER:
		snprintf(num, nlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(num, nlen, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(num, nlen, "true");
		break;
	case JSON_FALSE:
		snprintf(num, nlen, "false");
		break;
	default:
		return false;
	}
	*val = num;
	*vlen = strlen(num);
	return true;
}

/* Room kept for PRIORITY, SYSLOG_IDENTIFIER, CELL and EVENT (names are
 * bounded by the audit writer: cell 64, event names are ours). */
#define JOURNAL_FIXED_RESERVE 512

long journal_entry(char *buf, size_t cap, const char *cell, const char *event,
		   json_t *details)
{
	char prio[4], num[64], name[JOURNAL_NAME_MAX + 1];
	char *js = NULL, *msg = NULL;
	size_t len = 0, mlen, room;
	const char *key, *val;
	size_t vlen;
	json_t *v;
	long ret;

	if (cap < JOURNAL_FIXED_RESERVE * 2)
		return -ENOSPC;
	snprintf(prio, sizeof(prio), "%d", journal_priority(event));
	if (journal_field(buf, cap, &len, "PRIORITY", prio, strlen(prio)) ||
	    journal_field(buf, cap, &len, "SYSLOG_IDENTIFIER", "walloff", 7) ||
	    journal_field(buf, cap, &len, "CELL", cell,
			  strnlen(cell, JOURNAL_FIXED_RESERVE / 4)) ||
	    journal_field(buf, cap, &len, "EVENT", event,
			  strnlen(event, JOURNAL_FIXED_RESERVE / 4))) {
		ret = -ENOSPC;
		goto out;
	}

	/* MESSAGE: "EVENT {details}", ASCII-escaped JSON (no raw newline),
	 * cut to what fits with half the room left for the detail fields. */
	if (details)
		js = json_dumps(details, JSON_COMPACT | JSON_ENSURE_ASCII |
					 JSON_SORT_KEYS);
	mlen = strlen(event) + 1 + (js ? strlen(js) : 0);
	msg = malloc(mlen + 1);
	if (!msg) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(msg, mlen + 1, "%s%s%s", event, js ? " " : "", js ? js : "");
	mlen = strlen(msg);
	room = (cap - len) / 2;
	if (mlen + sizeof("MESSAGE=\n") > room)
		mlen = room - sizeof("MESSAGE=\n");
	if (journal_field(buf, cap, &len, "MESSAGE", msg, mlen)) {
		ret = -ENOSPC;
		goto out;
	}

	if (json_is_object(details)) {
		json_object_foreach(details, key, v) {
			if (!flat_value(v, num, sizeof(num), &val, &vlen))
				continue;
			if (!journal_field_name(key, name))
				continue;
			/* Does not fit: left out, MESSAGE still has it. */
			journal_field(buf, cap, &len, name, val, vlen);
		}
	}
	ret = (long)len;
out:
	free(msg);
	free(js);
	return ret;
}

int journal_send(const struct journal *j, const char *cell, const char *event,
		 json_t *details)
{
	char *buf;
	long n;
	int ret = 0;

	if (j->fd < 0)
		return 0;
	buf = malloc(JOURNAL_ENTRY_MAX);
	if (!buf)
		return -ENOMEM;
	n = journal_entry(buf, JOURNAL_ENTRY_MAX, cell, event, details);
	if (n < 0) {
		ret = (int)n;
		goto out;
	}
	if (sendto(j->fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&j->addr, j->addr_len) < 0)
		ret = -errno;
out:
	free(buf);
	return ret;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}
