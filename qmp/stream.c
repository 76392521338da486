/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stream.c - bounded line framing and parsing of QMP messages
 *
 * QEMU writes each QMP message as one line of compact JSON ended by "\r\n"
 * (JSON strings cannot hold a raw newline, so a newline always ends a
 * message). This file turns an untrusted byte stream into parsed objects:
 *
 *   bytes -> scanner (size, depth) -> line buffer -> jansson -> object check
 *
 * The scanner looks at every byte once as it arrives and tracks whether it
 * is inside a string (and after a backslash there) and how deep the [ and {
 * nesting is. A line longer than max_msg or deeper than max_depth is refused
 * at the byte that crosses the limit, so a hostile peer can make us buffer
 * at most max_msg bytes and can never drive jansson's recursive parser
 * deep. The buffer grows by doubling up to max_msg + 1; small messages cost
 * small buffers.
 *
 * A complete line goes to json_loadb() with JSON_REJECT_DUPLICATES (a second
 * "return" or "id" key must not silently win); jansson also rejects invalid
 * UTF-8, NUL bytes in strings and trailing bytes. A message must be an
 * object. Any failure is final for the stream: after garbage we cannot know
 * where the next message starts, so the connection is unusable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

/* First allocation: enough for every reply but query-pci/-block/-schema. */
#define STREAM_INITIAL_CAP 4096
/* A buffer grown past this for one big reply is freed after it, so a
 * connection does not keep megabytes for its lifetime. */
#define STREAM_KEEP_CAP (64 * 1024)

void qmp_stream_init(struct qmp_stream *s, size_t max_msg, unsigned max_depth)
{
	memset(s, 0, sizeof(*s));
	s->max_msg = max_msg;
	s->max_depth = max_depth;
}

void qmp_stream_free(struct qmp_stream *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}

bool qmp_stream_pending(const struct qmp_stream *s)
{
	return s->len > 0;
}

static void reset_line(struct qmp_stream *s)
{
	if (s->cap > STREAM_KEEP_CAP) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
	s->len = 0;
	s->depth = 0;
	s->in_str = false;
	s->esc = false;
}

static int append(struct qmp_stream *s, char c, struct err *e)
{
	if (s->len >= s->max_msg)
		return err_set(e, EMSGSIZE, "QMP message longer than %zu bytes",
			       s->max_msg);
	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : STREAM_INITIAL_CAP;
		char *b;

		if (cap > s->max_msg)
			cap = s->max_msg;
		b = realloc(s->buf, cap);
		if (!b)
			return err_set(e, ENOMEM,
				       "QMP message buffer: %zu bytes", cap);
		s->buf = b;
		s->cap = cap;
	}
	s->buf[s->len++] = c;
	return 0;
}

/* Track strings and nesting; refuse depth before anything is parsed. */
static int scan(struct qmp_stream *s, char c, struct err *e)
{
	if (s->in_str) {
		if (s->esc)
			s->esc = false;
		else if (c == '\\')
			s->esc = true;
		else if (c == '"')
			s->in_str = false;
		return 0;
	}
	switch (c) {
	case '"':
		s->in_str = true;
		break;
	case '[':
	case '{':
		if (++s->depth > s->max_depth)
			return err_set(e, ELOOP,
				       "QMP message nested deeper than %u",
				       s->max_depth);
		break;
	case ']':
	case '}':
		if (s->depth)
			s->depth--;
		break;
	default:
		break;
	}
	return 0;
}

static int parse_line(struct qmp_stream *s, json_t **msg, struct err *e)
{
	json_error_t je;
	json_t *j;

	j = json_loadb(s->buf, s->len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		if (json_error_code(&je) == json_error_invalid_utf8)
			return err_set(e, EILSEQ,
				       "QMP message is not valid UTF-8");
		return err_set(e, EBADMSG, "QMP message is not JSON: %s",
			       je.text);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return err_set(e, EBADMSG, "QMP message is not a JSON object");
	}
	*msg = j;
	return 0;
}

int qmp_stream_feed(struct qmp_stream *s, const char *data, size_t len,
		    size_t *used, json_t **msg, struct err *e)
{
	size_t i;
	int ret;

	*used = 0;
	*msg = NULL;
	if (s->failed)
		return err_set(e, EPROTO, "QMP stream lost its framing");

	for (i = 0; i < len; i++) {
		char c = data[i];

		if (c == '\n') {
			bool blank = s->len == 0;

			*used = i + 1;
			if (blank)
				continue;
			ret = parse_line(s, msg, e);
			reset_line(s);
			if (ret < 0)
				goto fail;
			return 1;
		}
		/* QEMU ends lines with \r\n; a \r inside a string is invalid */
		if (c == '\r' && !s->in_str)
			continue;
		ret = scan(s, c, e);
		if (ret < 0)
			goto fail;
		ret = append(s, c, e);
		if (ret < 0)
			goto fail;
	}
	*used = len;
	return 0;
fail:
	*used = i + 1 <= len ? i + 1 : len;
	s->failed = true;
	reset_line(s);
	return ret;
}
