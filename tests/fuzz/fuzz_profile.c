/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_profile.c - fuzz target for the profile parser and validator
 *
 * The input becomes the content of an in-memory file (memfd), loaded
 * through profile_load() exactly as `walloff check` would.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct profile p;
	char path[64];
	struct err e;
	int fd;

	fd = memfd_create("fuzz.cell", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		profile_load(path, 0, &p, &e);
	}
	close(fd);
	return 0;
}
