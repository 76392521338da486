/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stream.h - bounded line framing and parsing of QMP messages (internal to
 * qmp/, and the fuzz target's entry point)
 *
 * QEMU sends one JSON object per line. Bytes go in with qmp_stream_feed();
 * whole, checked messages come out. Everything QEMU sends is untrusted: a
 * line is capped in size and in nesting depth while it is being received,
 * before jansson ever sees it.
 */
#ifndef WALLOFF_QMP_STREAM_H
#define WALLOFF_QMP_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"

struct qmp_stream {
	char *buf;	    /* the line received so far */
	size_t len;	    /* bytes in buf */
	size_t cap;	    /* allocated size of buf */
	size_t max_msg;	    /* longest accepted line, without newline */
	unsigned max_depth; /* deepest accepted [ / { nesting */
	unsigned depth;	    /* nesting at the current position */
	bool in_str;	    /* inside a JSON string */
	bool esc;	    /* previous byte was a backslash in a string */
	bool failed;	    /* a framing error happened: nothing more */
};

/**
 * qmp_stream_init() - prepare an empty stream
 * @s:		stream to initialise
 * @max_msg:	longest line accepted, in bytes
 * @max_depth:	deepest nesting of arrays and objects accepted
 */
void qmp_stream_init(struct qmp_stream *s, size_t max_msg, unsigned max_depth);

/**
 * qmp_stream_free() - release the buffer of a stream
 * @s:		stream, may be zeroed or already freed
 */
void qmp_stream_free(struct qmp_stream *s);

/**
 * qmp_stream_pending() - whether part of a message has been received
 * @s:		stream
 *
 * Return: true if bytes of an unfinished line are buffered (an EOF now
 * would cut a message)
 */
bool qmp_stream_pending(const struct qmp_stream *s);

/**
 * qmp_stream_feed() - consume bytes until one message is complete
 * @s:		stream
 * @data:	received bytes
 * @len:	number of bytes in @data
 * @used:	set to the number of bytes consumed (all of them when 0 is
 *		returned; up to and including the newline when 1 is)
 * @msg:	set to the parsed JSON object when 1 is returned
 * @e:		error detail
 *
 * Blank lines and carriage returns are skipped. Once an error was returned
 * the stream stays failed: the byte stream has lost its framing.
 *
 * Return: 1 with *@msg set (caller decrefs), 0 if more bytes are needed,
 * -EMSGSIZE line longer than max_msg, -ELOOP nesting deeper than max_depth,
 * -EILSEQ invalid UTF-8, -EBADMSG not one JSON object (garbage, duplicate
 * keys, trailing bytes), -ENOMEM
 */
int qmp_stream_feed(struct qmp_stream *s, const char *data, size_t len,
		    size_t *used, json_t **msg, struct err *e);

#endif /* WALLOFF_QMP_STREAM_H */
