/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * emit.c - small text helpers shared by the audit records of netpolicy
 *
 * Addresses and protocol names are formatted the same way in every record
 * (dotted quads, lower-case protocol names) so that a reviewer can grep the
 * audit log for "192.0.2.1" or "tcp" and find denials and flows alike.
 */
#include <stdio.h>

#include "emit.h"

char *ipv4_text(uint32_t a, char buf[static 16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff);
	return buf;
}

const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	default:
		return "ip";
	}
}

const char *l3_proto_name(uint16_t ethertype, uint8_t proto)
{
	switch (ethertype) {
	case 0:
	case 0x0800:
		return proto_name(proto);
	case 0x86dd:
		return "ipv6";
	case 0x0806:
		return "arp";
	default:
		return "other";
	}
}
