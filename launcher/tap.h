/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tap.h - a cell's tap device (nft mode): /dev/net/tun + rtnetlink
 */
#ifndef WALLOFF_TAP_H
#define WALLOFF_TAP_H

#include <stdint.h>

#include "err.h"

/* IFNAMSIZ */
#define TAP_NAME_MAX 16

/**
 * tap_name() - "wo-<cell>" cut to 15 characters
 * @cell:	cell name
 * @out:	output
 */
void tap_name(const char *cell, char out[static TAP_NAME_MAX]);

/**
 * tap_create() - create the tap and return its queue descriptor
 * @name:	interface name
 * @e:		error (EPERM: needs root or CAP_NET_ADMIN)
 *
 * Not persistent: the interface disappears with the last descriptor (ours
 * and QEMU's), so a crashed cell leaves no tap behind.
 *
 * Return: descriptor (close-on-exec), or -errno
 */
int tap_create(const char *name, struct err *e);

/**
 * tap_attach() - bring the tap up, as a bridge port or routed
 * @name:	interface
 * @bridge:	bridge to join, or "" for routed
 * @gateway:	routed: the host side's address (host order), set as /32
 * @guest:	routed: the guest's address, reached by a /32 route
 * @e:		error
 *
 * Return: 0 or -errno
 */
int tap_attach(const char *name, const char *bridge, uint32_t gateway,
	       uint32_t guest, struct err *e);

/**
 * tap_delete() - remove an interface by name if it exists
 * @name:	interface
 * @e:		error
 *
 * Return: 0 (also when there was none) or -errno
 */
int tap_delete(const char *name, struct err *e);

#endif /* WALLOFF_TAP_H */
