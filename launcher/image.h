/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image.h - base image pinning and the cell's writable overlay
 */
#ifndef WALLOFF_IMAGE_H
#define WALLOFF_IMAGE_H

#include <stdint.h>

#include "err.h"
#include "profile.h"

/**
 * image_sha256_fd() - SHA-256 of an open file, read in full, then rewound
 * @fd:		file
 * @out:	digest
 * @e:		error
 *
 * Return: 0 or -errno
 */
int image_sha256_fd(int fd, uint8_t out[static 32], struct err *e);

/**
 * image_open_pinned() - open the base image read-only and check its pin
 * @p:		profile (must have a disk)
 * @fd:		output: the open descriptor, rewound; this very descriptor
 *		is what QEMU gets, so the bytes hashed are the bytes used
 * @actual:	output: the digest found, hex
 * @e:		error: -EBADMSG on mismatch, -ENOKEY if the profile has no pin
 *
 * Return: 0 or -errno
 */
int image_open_pinned(const struct profile *p, int *fd,
		      char actual[static 65], struct err *e);

/**
 * image_create_overlay() - a fresh qcow2 layer over a read-only base
 * @qemu_img:	qemu-img binary
 * @base:	base image (absolute)
 * @format:	base format
 * @overlay:	file to create (must not exist)
 * @e:		error
 *
 * Runs qemu-img with an argv (never a shell), with stdin closed and its
 * output captured into @e on failure.
 *
 * Return: 0 or -errno
 */
int image_create_overlay(const char *qemu_img, const char *base,
			 enum disk_format format, const char *overlay,
			 struct err *e);

#endif /* WALLOFF_IMAGE_H */
