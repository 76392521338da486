/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu_argv.h - the profile → QEMU argv builder (the only place QEMU
 * options are written)
 */
#ifndef WALLOFF_QEMU_ARGV_H
#define WALLOFF_QEMU_ARGV_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "profile.h"
#include "strv.h"

/* Disk descriptors as QEMU sees them (passed by the supervisor, -add-fd). */
#define QEMU_FD_BASE		3
#define QEMU_FD_OVERLAY		4
#define QEMU_FDSET_BASE		1
#define QEMU_FDSET_OVERLAY	2
#define QEMU_FDSET_PATH(n)	"/dev/fdset/" #n
/* nft mode: the tap queue the supervisor opened (launcher/nft_net.c) */
#define QEMU_FD_TAP		5
#define QEMU_FD_TAP_ARG		"5"
/* live snapshots: the memory image (launcher/snapmem.c) */
#define QEMU_FD_MEMORY		6
#define QEMU_FDSET_MEMORY	3

/* What the supervisor decided at start-up, beyond the profile itself. */
struct qemu_plan {
	const char *qemu;	/* binary */
	const char *run_dir;	/* holds qmp.sock, serial.sock, vnc.sock, net.sock */
	bool kvm;		/* accel resolved: true = kvm, false = tcg */
	const char *disk_secret;	/* persistent disk: LUKS key file QEMU
					 * reads (disk.c), or NULL */
	bool memory;		/* with disk_secret: the memory image is
				 * passed as QEMU_FD_MEMORY (snapmem.c) */
};

/**
 * qemu_argv_build() - the complete QEMU command line for a cell
 * @p:		validated profile
 * @plan:	start-up decisions
 * @out:	argv (empty on entry); NULL-terminated, for execv()
 * @e:		error
 *
 * Only whitelisted devices can appear: the profile chooses among fixed
 * alternatives and no profile text reaches QEMU except file paths, which go
 * into JSON (-blockdev) or are escaped for QemuOpts (",," for ",") after
 * control characters were refused.
 *
 * Return: 0 or -errno
 */
int qemu_argv_build(const struct profile *p, const struct qemu_plan *plan,
		    struct strv *out, struct err *e);

/**
 * qemu_mac() - the cell's stable, locally administered MAC address
 * @cell:	cell name
 * @mac:	output, 6 bytes (52:54:00 prefix, QEMU's OUI)
 */
void qemu_mac(const char *cell, uint8_t mac[static 6]);

/**
 * qemu_argv_print() - print an argv as a copy-pastable shell command, one
 * option and its value per line
 * @argv:	NULL-terminated
 * @f:		output stream
 */
void qemu_argv_print(char *const *argv, FILE *f);

#endif /* WALLOFF_QEMU_ARGV_H */
