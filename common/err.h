/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * err.h - one error convention for all of walloff
 *
 * Functions return 0 or a negative errno, or a pointer / NULL, and describe
 * what went wrong in a struct err passed as their last argument (QEMU's
 * Error **errp habit, without allocation). The message is one line meant for
 * a human: "file:line: reason" for profile errors, "what: why" otherwise.
 * Passing NULL for the struct err is allowed and discards the message.
 */
#ifndef WALLOFF_ERR_H
#define WALLOFF_ERR_H

#include <stddef.h>

/* Long enough for a path, a line number and a reason, short enough for a log line. */
#define ERR_MSG_MAX 512

struct err {
	int code;		/* positive errno, 0 while no error is set */
	char msg[ERR_MSG_MAX];
};

/**
 * err_set() - record an error
 * @e:		error to fill, may be NULL
 * @code:	positive errno describing the class of failure
 * @fmt:	printf-style message, without trailing newline
 *
 * Return: -@code, so that callers can write "return err_set(e, EINVAL, ...)"
 */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#if defined(__clang_analyzer__) && !defined(WALLOFF_ERR_IMPL)
/*
 * The static analyzer sees only the prototype above, so it walks paths on
 * which "return err_set(...)" returned 0 and reports what follows (NULL
 * arguments, unset outputs). Tell it the contract: the result is negative.
 */
static inline int err_set_is_negative(int r)
{
	return r < 0 ? r : -1;
}
#define err_set(...) err_set_is_negative(err_set(__VA_ARGS__))
#endif

/**
 * err_prefix() - prepend context to an error already set
 * @e:		error to change, may be NULL
 * @fmt:	printf-style prefix; ": " is inserted before the old message
 *
 * Return: -e->code (or -EIO if no code was set)
 */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * err_clear() - reset to "no error"
 * @e:		error to clear, may be NULL
 */
void err_clear(struct err *e);

#endif /* WALLOFF_ERR_H */
