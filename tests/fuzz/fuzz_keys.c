/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_keys.c - the keys file parser on arbitrary bytes
 *
 * Whatever the input, the parser returns an error or a set of entries that
 * each have a known role and a non-empty, printable name; lookups of every
 * parsed key find that same key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keys k;
	size_t i;

	if (keys_parse(&k, (const char *)data, size, "fuzz", NULL))
		return 0;
	for (i = 0; i < k.n; i++) {
		if (k.v[i].role == ROLE_NONE || !k.v[i].name[0] ||
		    keys_find(&k, k.v[i].pub) != &k.v[i])
			abort();
	}
	keys_free(&k);
	return 0;
}
