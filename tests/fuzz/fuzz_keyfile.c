/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_keyfile.c - fuzz target for the keys-file reader used by review
 *
 * The input is a keys file's content, given to keyfile_scan() exactly as
 * keyfile_inspect() does after reading the file (bounded, NUL-terminated).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyfile_summary s;
	char *buf;

	if (size > KEYFILE_FILE_MAX)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&s, 0, sizeof(s));
	keyfile_scan(buf, size, &s);
	free(buf);
	return 0;
}
