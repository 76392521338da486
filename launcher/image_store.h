/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image_store.h - shared by `walloff image import` (cmd_image.c) and
 * `walloff image sweep` (image_sweep.c)
 */
#ifndef WALLOFF_IMAGE_STORE_H
#define WALLOFF_IMAGE_STORE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/**
 * image_store_dir() - the image store: @opt if given, else STATE/images
 * @opt:	--store value or NULL
 * @out:	output
 * @e:		error
 *
 * Return: 0 or -errno
 */
int image_store_dir(const char *opt, char out[static PATH_MAX],
		    struct err *e);

/**
 * image_human_size() - "64.0 MiB"
 * @b:		bytes
 * @out:	output
 * @len:	size of @out
 */
void image_human_size(uint64_t b, char *out, size_t len);

/**
 * image_sweep() - `walloff image sweep PATH... [--json] [--max-idle D]
 * [--profiles DIR]`
 * @argc:	argument count (argv[0] is "sweep")
 * @argv:	arguments
 *
 * Return: exit code: 0 nothing dormant, 1 a dormant unencrypted image was
 * found, 2 usage, 3 a PATH could not be walked
 */
int image_sweep(int argc, char *argv[]);

#endif /* WALLOFF_IMAGE_STORE_H */
