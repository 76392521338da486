/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * png.h - write an 8-bit RGB image as a PNG file
 */
#ifndef WALLOFF_PNG_H
#define WALLOFF_PNG_H

#include <stdint.h>

#include "err.h"

/* Screens larger than this are not screens (and bound memory). */
#define PNG_MAX_DIM 8192

/**
 * png_write_rgb() - write @w x @h pixels, 3 bytes each, rows top to bottom
 * @path:	file to create (replaced atomically via a temporary name)
 * @rgb:	pixels
 * @w:		width, 1..PNG_MAX_DIM
 * @h:		height, 1..PNG_MAX_DIM
 * @e:		error
 *
 * Return: 0 or -errno
 */
int png_write_rgb(const char *path, const uint8_t *rgb, unsigned w, unsigned h,
		  struct err *e);

#endif /* WALLOFF_PNG_H */
