/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu_img.h - run qemu-img with an argv and capture its output, bounded
 */
#ifndef WALLOFF_QEMU_IMG_H
#define WALLOFF_QEMU_IMG_H

#include <stddef.h>

#include "err.h"

/* `qemu-img info --output=json` of one image is a few KiB; cap at 256 KiB. */
#define QEMU_IMG_OUT_MAX	(256 * 1024)
/* The descriptor number an inherited file gets in the child (/dev/fd/3). */
#define QEMU_IMG_FD		3

/**
 * qemu_img_bin() - the qemu-img binary ($WALLOFF_QEMU_IMG or
 * /usr/bin/qemu-img)
 *
 * Return: path
 */
const char *qemu_img_bin(void);

/**
 * qemu_img_run() - run qemu-img and wait for it
 * @argv:	arguments after the binary name, NULL-terminated
 * @pass_fd:	descriptor the child gets as QEMU_IMG_FD, or -1
 * @out:	stdout, NUL-terminated, malloc'd (caller frees); NULL to discard
 * @status:	output: qemu-img's exit code (-1 if it did not exit), or NULL
 * @e:		error: qemu-img's stderr (last line) on failure
 *
 * No shell: execv() with stdin on /dev/null, a private umask (0077), all
 * other descriptors closed, PR_SET_PDEATHSIG so it dies with us. Output
 * beyond QEMU_IMG_OUT_MAX is an error.
 *
 * Return: 0, -EIO if qemu-img failed, or -errno
 */
int qemu_img_run(const char *const *argv, int pass_fd, char **out,
		 int *status, struct err *e);

/**
 * qemu_img_run_luks() - qemu_img_run() for a command that writes a LUKS
 * header, retried when QEMU's PBKDF benchmark fails
 * @argv:	arguments after the binary name, NULL-terminated
 * @made:	the file the command creates, removed before a retry and on
 *		failure
 * @e:		error
 *
 * QEMU times PBKDF iterations with the thread's CPU time and gives up with
 * "Unable to get accurate CPU usage" when a run measured 0 ms, which a
 * loaded host produces now and then; nothing is written in that case.
 *
 * Return: 0, -EIO if qemu-img failed, or -errno
 */
int qemu_img_run_luks(const char *const *argv, const char *made,
		      struct err *e);

#endif /* WALLOFF_QEMU_IMG_H */
