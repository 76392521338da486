/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control.h - channel 0 control messages: HELLO text and NOTICE text
 * (console/PROTOCOL.md section 3), written by the proxy and parsed by
 * the client
 */
#ifndef WALLOFF_CONTROL_H
#define WALLOFF_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"

/* HELLO is a few short lines; a longer one is cut, not trusted further. */
#define CONTROL_HELLO_MAX 512

/**
 * control_hello_format() - the text of a HELLO message
 * @out:	output buffer
 * @len:	its size (CONTROL_HELLO_MAX is enough)
 * @version:	protocol version
 * @cell:	cell name
 * @role:	"view", "operate" or "admin"
 * @notices:	how many NOTICE messages follow (0..CONSOLE_NOTICES_MAX);
 *		the line is left out when 0, as version-1 servers did
 *
 * Return: text length, or -ENOSPC / -EINVAL
 */
int control_hello_format(char *out, size_t len, int version, const char *cell,
			 const char *role, unsigned notices);

/**
 * control_hello_parse() - read a HELLO from the server
 * @d:		data
 * @n:		length (anything past CONTROL_HELLO_MAX - 1 is ignored)
 * @info:	out: cell and role (cut to their fields, unknown lines
 *		ignored); n_notices is set to 0
 * @notices:	out: the announced NOTICE count
 *
 * Return: 0, or -EPROTO for a `notices` line that is not a decimal
 * number of at most CONSOLE_NOTICES_MAX
 */
int control_hello_parse(const uint8_t *d, size_t n, struct console_info *info,
			unsigned *notices);

/**
 * control_notice_check() - is this acceptable NOTICE text?
 * @d:		bytes (no NUL needed)
 * @n:		length
 *
 * Acceptable: 1..CONSOLE_NOTICE_MAX bytes of well-formed UTF-8 (shortest
 * form, no surrogates, at most U+10FFFF) without control characters (C0,
 * DEL, C1), line or paragraph separators, or bidirectional overrides and
 * isolates (U+202A..U+202E, U+2066..U+2069): text that prints as what it
 * says on any terminal, on one line.
 *
 * Return: 0, -EMSGSIZE for an empty or too long text, -EILSEQ otherwise
 */
int control_notice_check(const uint8_t *d, size_t n);

#endif /* WALLOFF_CONTROL_H */
