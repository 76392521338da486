/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_snapctl.c - the live-snapshot control socket's request parser
 * (launcher/snapctl.c) on arbitrary bytes: it must reject or accept
 * without crashing, and whatever it accepts must be a valid request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapctl_req r;
	struct err e;

	if (snapctl_parse((const char *)data, size, &r, &e))
		return 0;
	if (r.op != SNAPCTL_LIST && !snapctl_tag_ok(r.tag))
		abort();
	if (!r.timeout_s || r.timeout_s > SNAPCTL_TIMEOUT_MAX_S)
		abort();
	return 0;
}
