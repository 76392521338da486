/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imgfmt.h - recognise a disk image's format by its content
 */
#ifndef WALLOFF_IMGFMT_H
#define WALLOFF_IMGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* qcow2 caps the backing file name at 1023 bytes; so do we. */
#define IMGFMT_BACKING_MAX	1023
/* Why a header was judged invalid: one short human line. */
#define IMGFMT_PROBLEM_MAX	160

enum imgfmt_kind {
	IMGFMT_UNKNOWN,
	IMGFMT_QCOW2,		/* also qcow v1 (qcow2_version 1) */
	IMGFMT_VHDX,
	IMGFMT_VHD,		/* QEMU's "vpc" */
	IMGFMT_VMDK,
	IMGFMT_VDI,
	IMGFMT_LUKS,
	IMGFMT_RAW_MBR,
	IMGFMT_RAW_GPT,
	IMGFMT_RAW_VOLUME,	/* a bare FAT or NTFS volume, no partition table */
};

struct imgfmt_info {
	enum imgfmt_kind kind;
	bool has_virtual_size;
	uint64_t virtual_size;		/* bytes, as the header claims */
	uint64_t file_size;
	bool encrypted;
	uint32_t qcow2_version;
	uint32_t qcow2_crypt;		/* 0 none, 1 AES, 2 LUKS */
	bool external_files;		/* qcow2 external data file, VMDK text
					 * descriptor extents: other files are read */
	bool has_backing;		/* backing/parent image (any format) */
	char backing[IMGFMT_BACKING_MAX + 1];	/* printable copy ('?' for
						 * other bytes), may be empty */
	char problem[IMGFMT_PROBLEM_MAX];	/* non-empty: header invalid */
};

/* Reads @len bytes at @off; returns bytes read (short at EOF) or -errno. */
typedef long (*imgfmt_pread_fn)(void *opaque, void *buf, size_t len,
				uint64_t off);

/**
 * imgfmt_probe() - identify an image from a few bounded header reads
 * @rd:		reader
 * @opaque:	reader context
 * @file_size:	size of the file in bytes
 * @out:	result; kind IMGFMT_UNKNOWN if nothing matched
 * @e:		error (read failures only; an unknown format is not an error)
 *
 * Reads at most a few small blocks (the first 64 KiB, the last 512 bytes,
 * and for VHDX and VMDK a bounded region table / descriptor). Never trusts
 * a length or offset from the file before checking it against the file
 * size and a fixed cap.
 *
 * Return: 0 or -errno
 */
int imgfmt_probe(imgfmt_pread_fn rd, void *opaque, uint64_t file_size,
		 struct imgfmt_info *out, struct err *e);

/**
 * imgfmt_probe_fd() - imgfmt_probe() on an open file
 * @fd:		regular file
 * @out:	result
 * @e:		error
 *
 * Return: 0 or -errno
 */
int imgfmt_probe_fd(int fd, struct imgfmt_info *out, struct err *e);

/**
 * imgfmt_probe_buf() - imgfmt_probe() on bytes in memory (tests, fuzzing)
 * @buf:	bytes
 * @len:	length, also taken as the file size
 * @out:	result
 *
 * Return: 0 or -errno
 */
int imgfmt_probe_buf(const uint8_t *buf, size_t len, struct imgfmt_info *out);

/**
 * imgfmt_name() - short name for reports ("qcow2", "vhd", "raw-mbr", ...)
 * @k:		kind
 *
 * Return: static string
 */
const char *imgfmt_name(enum imgfmt_kind k);

/**
 * imgfmt_qemu_driver() - QEMU block driver for a kind, for qemu-img -f
 * @k:		kind
 *
 * Return: "qcow2", "vpc", "vhdx", "vmdk", "vdi", "raw", or NULL if QEMU
 * must not be asked to read it (unknown, LUKS container)
 */
const char *imgfmt_qemu_driver(enum imgfmt_kind k);

#endif /* WALLOFF_IMGFMT_H */
