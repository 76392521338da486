/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * strv.c - string arrays for building argv; allocation failures are sticky
 * (sv->error) so builders can push many items and check once
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

static void append(struct strv *sv, char *s)
{
	if (!s) {
		sv->error = -ENOMEM;
		return;
	}
	if (sv->n + 2 > sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 32;
		char **v = realloc(sv->v, cap * sizeof(*v));

		if (!v) {
			free(s);
			sv->error = -ENOMEM;
			return;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strv_push(struct strv *sv, const char *s)
{
	append(sv, strdup(s));
}

void strv_pushf(struct strv *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	append(sv, s);
}

void strv_free(struct strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}
