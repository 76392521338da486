/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * err.c - filling struct err
 *
 * Messages are truncated, never overflowed: vsnprintf bounds every write. A
 * message never contains a newline (they are replaced by spaces) so that it
 * can go into a one-line log record or a "file:line: reason" report as is.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* the definition below, not the analyzer's model of it (err.h) */
#define WALLOFF_ERR_IMPL
#include "err.h"

static void flatten(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (code <= 0)
		code = EIO;
	if (!e)
		return -code;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	flatten(e->msg);
	e->code = code;
	return -code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char old[ERR_MSG_MAX];
	char pre[ERR_MSG_MAX];
	va_list ap;

	if (!e)
		return -EIO;
	if (!e->code)
		e->code = EIO;

	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	/* Both parts fit in 2*ERR_MSG_MAX; the result is cut to ERR_MSG_MAX. */
	{
		char both[2 * ERR_MSG_MAX + 2];

		snprintf(both, sizeof(both), "%s: %s", pre, old);
		snprintf(e->msg, sizeof(e->msg), "%.*s", ERR_MSG_MAX - 1, both);
	}
	flatten(e->msg);
	return -e->code;
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}
