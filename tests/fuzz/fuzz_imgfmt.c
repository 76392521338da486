/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_imgfmt.c - fuzz target for the disk image format probe
 *
 * The input is the whole "file": the probe reads its header, tail and the
 * blocks the header points to through the in-memory reader, exactly the
 * code path `walloff image import` and `walloff image sweep` run on files.
 */
#include <stdint.h>
#include <string.h>

#include "imgfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imgfmt_info info;

	if (!imgfmt_probe_buf(data, size, &info)) {
		/* The copy of any name from the file is printable and bounded. */
		size_t n = strlen(info.backing), i;

		if (n > IMGFMT_BACKING_MAX)
			__builtin_trap();
		for (i = 0; i < n; i++)
			if (info.backing[i] < 0x20 || info.backing[i] > 0x7e)
				__builtin_trap();
		if (info.problem[sizeof(info.problem) - 1])
			__builtin_trap();
	}
	return 0;
}
