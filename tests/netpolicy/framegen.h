/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * framegen.h - build test frames (Ethernet/ARP/IPv4/TCP/UDP/ICMP) with
 * correct checksums, which tests then damage on purpose
 */
#ifndef WALLOFF_TEST_FRAMEGEN_H
#define WALLOFF_TEST_FRAMEGEN_H

#include <stddef.h>
#include <stdint.h>

#define FG_GUEST_MAC "\x52\x54\x00\x12\x34\x56"
#define FG_GW_MAC "\x52\x55\x0a\x00\x02\x02"
#define FG_BCAST_MAC "\xff\xff\xff\xff\xff\xff"
#define FG_IP(a, b, c, d)                                                      \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

struct fg {
	const char *dmac, *smac;
	uint32_t saddr, daddr;
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t tcp_flags;
	const uint8_t *payload;
	size_t plen;
};

/**
 * fg_default() - guest 10.0.2.15 -> @daddr, guest MAC -> gateway MAC
 * @g:		output
 * @proto:	6, 17 or 1
 * @daddr:	destination
 * @dport:	destination port
 */
void fg_default(struct fg *g, uint8_t proto, uint32_t daddr, uint16_t dport);

/**
 * fg_ipv4() - build an IPv4 frame
 * @g:		description
 * @out:	buffer
 * @cap:	size of @out
 *
 * Return: frame length
 */
size_t fg_ipv4(const struct fg *g, uint8_t *out, size_t cap);

/**
 * fg_arp() - build an ARP request frame
 * @smac:	Ethernet source
 * @sha:	ARP sender hardware address
 * @spa:	sender protocol address
 * @tpa:	target protocol address
 * @out:	buffer, >= 42 bytes
 *
 * Return: frame length
 */
size_t fg_arp(const char *smac, const char *sha, uint32_t spa, uint32_t tpa,
	      uint8_t *out);

/**
 * fg_ip_fix() - recompute the IPv4 header checksum after damage
 * @frame:	frame
 */
void fg_ip_fix(uint8_t *frame);

/**
 * fg_dns_query() - build a DNS query message for @name (dotted)
 * @id:		transaction id
 * @name:	name
 * @out:	buffer
 * @cap:	size
 *
 * Return: length
 */
size_t fg_dns_query(uint16_t id, const char *name, uint8_t *out, size_t cap);

#endif /* WALLOFF_TEST_FRAMEGEN_H */
