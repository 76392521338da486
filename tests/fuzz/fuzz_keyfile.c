/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_keyfile.c - fuzz target for the keys-file summary used by review
 *
 * The input is a keys file's content, given to keyfile_scan() exactly as
 * keyfile_inspect() does after its bounded read. The line parser underneath
 * is the console proxy's (fuzz_keys.c); this target adds the counting and
 * the bad-line report, and checks they agree: a bad file counts no key.
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

	if (size > KEYS_FILE_MAX)
		return 0;
	buf = malloc(size ? size : 1);	/* exact size: ASan sees overreads */
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(&s, 0, sizeof(s));
	keyfile_scan(buf, size, &s);
	if (s.bad_line && (s.n_keys[ROLE_VIEW] || s.n_keys[ROLE_OPERATE] ||
			   s.n_keys[ROLE_ADMIN]))
		abort();
	free(buf);
	return 0;
}
