/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * emit.h - where netpolicy's accounting tables send their audit records
 *
 * The tables (denylog.c, flows.c) build records but do not write them: they
 * call an emitter, which is audit_log() on the cell's log in walloff-net
 * and a recorder in the unit tests.
 */
#ifndef WALLOFF_EMIT_H
#define WALLOFF_EMIT_H

#include <jansson.h>
#include <stdint.h>

struct emitter {
	/* @details is stolen; return 0 or -errno (a failed audit is fatal) */
	int (*fn)(void *ctx, const char *event, json_t *details);
	void *ctx;
};

/**
 * emit() - hand one record to an emitter
 * @em:		emitter (NULL or no fn: the record is dropped)
 * @event:	event name
 * @details:	object, stolen
 *
 * Return: 0 or -errno from the emitter
 */
static inline int emit(const struct emitter *em, const char *event,
		       json_t *details)
{
	if (!em || !em->fn) {
		json_decref(details);
		return 0;
	}
	return em->fn(em->ctx, event, details);
}

/**
 * ipv4_text() - dotted quad of a host-order address
 * @a:		address
 * @buf:	output, at least 16 bytes
 *
 * Return: @buf
 */
char *ipv4_text(uint32_t a, char buf[static 16]);

/**
 * proto_name() - "tcp", "udp", "icmp" or "ip"
 * @proto:	IP protocol number
 *
 * Return: static string
 */
const char *proto_name(uint8_t proto);

/**
 * l3_proto_name() - proto_name() for IPv4, else "ipv6", "arp" or "other"
 * @ethertype:	0 or 0x0800 for IPv4, else the frame's ethertype
 * @proto:	IP protocol number (IPv4 only)
 *
 * Return: static string
 */
const char *l3_proto_name(uint16_t ethertype, uint8_t proto);

#endif /* WALLOFF_EMIT_H */
