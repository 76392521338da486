/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * strv.h - a growable, NULL-terminated array of strings (an argv to exec)
 */
#ifndef WALLOFF_STRV_H
#define WALLOFF_STRV_H

#include <stddef.h>

struct strv {
	char **v;	/* always NULL-terminated once anything was pushed */
	size_t n;
	size_t cap;
	int error;	/* sticky -ENOMEM: check once at the end */
};

/**
 * strv_push() - append a copy of a string
 * @sv:		array
 * @s:		string
 */
void strv_push(struct strv *sv, const char *s);

/**
 * strv_pushf() - append a formatted string
 * @sv:		array
 * @fmt:	printf format
 */
void strv_pushf(struct strv *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * strv_free() - free all strings and the array
 * @sv:		array, reset to empty
 */
void strv_free(struct strv *sv);

#endif /* WALLOFF_STRV_H */
