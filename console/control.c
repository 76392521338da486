/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.c - the text inside channel 0 control messages
 *
 * HELLO (server to client, first transport message) is text lines
 * `walloff-console 1`, `cell NAME`, `role ROLE` and, when the server has
 * something to tell the person connecting, `notices N`: N NOTICE messages
 * follow at once. A client ignores lines it does not know, so a version-1
 * client that predates NOTICE skips the announcement, and skips the
 * NOTICE messages too (it ignores unknown message types): no version bump.
 *
 * NOTICE text is shown on a person's terminal by `walloff connect`, so it
 * is held to a strict grammar before the server sends it (walloff-console
 * checks its --notice) and again when the client receives it: bounded,
 * well-formed UTF-8, one line, nothing a terminal would interpret (control
 * characters, C1 escapes) and nothing that reorders what is displayed
 * (bidirectional overrides). The decoder below is the usual strict one:
 * the lead byte gives the length and the allowed range of the second
 * byte, which rules out overlong forms, surrogates and code points beyond
 * U+10FFFF without a separate check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int control_hello_format(char *out, size_t len, int version, const char *cell,
			 const char *role, unsigned notices)
{
	int n;

	if (notices > CONSOLE_NOTICES_MAX)
		return -EINVAL;
	if (notices)
		n = snprintf(out, len, "walloff-console %d\ncell %s\nrole %s\n"
			     "notices %u\n", version, cell, role, notices);
	else
		n = snprintf(out, len, "walloff-console %d\ncell %s\nrole %s\n",
			     version, cell, role);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/* Strict decimal 0..CONSOLE_NOTICES_MAX: one digit, no sign or spaces. */
static int notices_value(const char *s, unsigned *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] ||
	    (unsigned)(s[0] - '0') > CONSOLE_NOTICES_MAX)
		return -EPROTO;
	*out = (unsigned)(s[0] - '0');
	return 0;
}

int control_hello_parse(const uint8_t *d, size_t n, struct console_info *info,
			unsigned *notices)
{
	char text[CONTROL_HELLO_MAX], *line, *save = NULL;

	*notices = 0;
	info->n_notices = 0;
	if (n >= sizeof(text))
		n = sizeof(text) - 1;
	memcpy(text, d, n);
	text[n] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "cell ", 5))
			snprintf(info->cell, sizeof(info->cell), "%s",
				 line + 5);
		else if (!strncmp(line, "role ", 5))
			snprintf(info->role, sizeof(info->role), "%s",
				 line + 5);
		else if (!strncmp(line, "notices ", 8) &&
			 notices_value(line + 8, notices))
			return -EPROTO;
	}
	return 0;
}

/* Code points a terminal would act on or that reorder the display. */
static int forbidden(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

int control_notice_check(const uint8_t *d, size_t n)
{
	size_t i = 0, k, more;
	uint32_t cp;
	uint8_t lo, hi, c;

	if (!n || n > CONSOLE_NOTICE_MAX)
		return -EMSGSIZE;
	while (i < n) {
		c = d[i];
		lo = 0x80;
		hi = 0xbf;
		if (c < 0x80) {
			cp = c;
			more = 0;
		} else if (c >= 0xc2 && c <= 0xdf) {
			cp = c & 0x1f;
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			cp = c & 0x0f;
			more = 2;
			if (c == 0xe0)
				lo = 0xa0;	/* no overlong forms */
			else if (c == 0xed)
				hi = 0x9f;	/* no surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			cp = c & 0x07;
			more = 3;
			if (c == 0xf0)
				lo = 0x90;	/* no overlong forms */
			else if (c == 0xf4)
				hi = 0x8f;	/* nothing past U+10FFFF */
		} else {
			return -EILSEQ;
		}
		if (more > n - i - 1)
			return -EILSEQ;
		for (k = 1; k <= more; k++) {
			c = d[i + k];
			if (k > 1) {
				lo = 0x80;
				hi = 0xbf;
			}
			if (c < lo || c > hi)
				return -EILSEQ;
			cp = cp << 6 | (c & 0x3f);
		}
		if (forbidden(cp))
			return -EILSEQ;
		i += more + 1;
	}
	return 0;
}

bool console_notice_valid(const char *text)
{
	return control_notice_check((const uint8_t *)text, strlen(text)) == 0;
}
