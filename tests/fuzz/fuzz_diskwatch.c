/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_diskwatch.c - QEMU's BLOCK_IO_ERROR event data (launcher/
 * diskwatch.c) on arbitrary JSON: the classifier must not crash, and the
 * strings it keeps for the audit and `walloff status` must stay
 * NUL-terminated and printable ASCII whatever QEMU sent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "diskwatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		abort();
	while (n--)
		if (s[n] < 0x20 || s[n] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diskwatch w;
	json_t *j;
	int i;

	j = json_loadb((const char *)data, size,
		       JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!j)
		return 0;
	diskwatch_init(&w, -1);
	/* twice: the second error of a pause must be IGNOREd, not crash */
	for (i = 0; i < 2; i++) {
		diskwatch_event(&w, j);
		printable(w.node, sizeof(w.node));
		printable(w.operation, sizeof(w.operation));
		printable(w.reason, sizeof(w.reason));
	}
	diskwatch_close(&w);
	json_decref(j);
	return 0;
}
