/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapmem.h - the encrypted image that holds a persistent cell's snapshot
 * memory states (snapmem.c)
 */
#ifndef WALLOFF_SNAPMEM_H
#define WALLOFF_SNAPMEM_H

#include <stdbool.h>

#include "cell.h"
#include "err.h"

#define SNAPMEM_FILE	"memory.luks"	/* in the state folder */
#define SNAPMEM_NODE	"mem0"		/* its qcow2 node in QEMU */

/**
 * snapmem_open() - create (first time) and open the cell's memory image
 * @c:		cell (lock held; STATE/disk.key exists)
 * @fd:		output: read-write descriptor for QEMU's -add-fd
 * @created:	output: the image was created now
 * @e:		error
 *
 * Return: 0 or -errno
 */
int snapmem_open(const struct cell *c, int *fd, bool *created, struct err *e);

/**
 * snapmem_spec() - "json:{...}" naming the memory image for qemu-img: a
 * qcow2 inside a LUKS container keyed by the secret @secret_id
 * @path:	image path
 * @secret_id:	id of the secret object holding the disk key
 *
 * Return: malloc'd string, or NULL
 */
char *snapmem_spec(const char *path, const char *secret_id);

#endif /* WALLOFF_SNAPMEM_H */
