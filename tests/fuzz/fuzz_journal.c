/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_journal.c - journal entries from hostile audit details
 *
 * The input is an audit record's details object (JSON, as a guest name or
 * a client string could shape it) plus a cell and event name. The entry
 * journal_entry() builds must decode as journald would read it: every
 * field name [A-Z0-9_] without a leading '_' or digit, binary values exactly
 * as long as their length prefix says, MESSAGE/PRIORITY/CELL/EVENT once
 * each, nothing past the buffer. Anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "journal.h"

/* Keep jansson's work per input small: this is about our encoder. */
#define FUZZ_JSON_MAX 65536

static void check(const char *buf, size_t len)
{
	size_t pos = 0, i;
	int msg = 0, prio = 0, cell = 0, event = 0;

	while (pos < len) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		const char *eq = memchr(s, '=', len - pos);
		size_t nlen;

		if (!nl)
			abort();
		if (eq && eq < nl) {
			nlen = (size_t)(eq - s);
			pos = (size_t)(nl - buf) + 1;
		} else {
			uint64_t vl = 0;

			nlen = (size_t)(nl - s);
			if ((size_t)(nl - buf) + 9 > len)
				abort();
			for (i = 0; i < 8; i++)
				vl |= (uint64_t)(uint8_t)nl[1 + i] << (8 * i);
			if (vl > len)
				abort();
			pos = (size_t)(nl - buf) + 9 + vl;
			if (pos >= len || buf[pos] != '\n')
				abort();
			pos++;
		}
		if (nlen < 1 || nlen > JOURNAL_NAME_MAX || s[0] == '_' ||
		    (s[0] >= '0' && s[0] <= '9'))
			abort();
		for (i = 0; i < nlen; i++)
			if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
				abort();
		msg += nlen == 7 && !memcmp(s, "MESSAGE", 7);
		prio += nlen == 8 && !memcmp(s, "PRIORITY", 8);
		cell += nlen == 4 && !memcmp(s, "CELL", 4);
		event += nlen == 5 && !memcmp(s, "EVENT", 5);
	}
	if (pos != len || msg != 1 || prio != 1 || cell != 1 || event != 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[JOURNAL_ENTRY_MAX];
	char cell[33], event[33];
	json_t *d;
	long n;
	size_t cap;

	if (size < 2 || size > FUZZ_JSON_MAX)
		return 0;
	/* First byte: buffer size variation, to hit the "does not fit" paths. */
	cap = 1024 + (size_t)data[0] * 90;
	if (cap > sizeof(buf))
		cap = sizeof(buf);
	snprintf(cell, sizeof(cell), "c%u", (unsigned)data[1]);
	snprintf(event, sizeof(event), "ev-%u", (unsigned)(data[1] ^ 0x5a));
	d = json_loadb((const char *)data + 2, size - 2,
		       JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	n = journal_entry(buf, cap, cell, event, d);
	if (n < 0 || (size_t)n > cap)
		abort();
	check(buf, (size_t)n);
	json_decref(d);
	return 0;
}
