/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * frame.c - bounded parser of Ethernet/ARP/IPv4/TCP/UDP/ICMP frames
 *
 * Every frame the guest sends is parsed here before libslirp sees it;
 * anything we cannot parse, or do not need, is dropped and counted by
 * reason. The parser reads each header only after checking that the bytes
 * are there, and trusts no length field: the IPv4 total length must fit the
 * frame (trailing Ethernet padding is allowed), the IHL must be exactly 5
 * (IP options are refused: no legacy application needs them and they are a
 * classic filter-evasion tool), the TCP data offset must fit the segment and
 * the UDP length must fit the datagram.
 *
 * Fragments are dropped outright (MF set or offset != 0): a filter that
 * sees only the first fragment cannot know the ports of the rest, and a
 * guest with a 1500-byte MTU talking to an allowlist never needs them.
 *
 * The source must be the guest's one lease, 10.0.2.15; 0.0.0.0 is accepted
 * only for DHCP (UDP 68 -> 67). Broadcast and multicast, at the Ethernet or
 * the IP layer, pass only for ARP and DHCP. ARP must be Ethernet/IPv4 with
 * the sender hardware address equal to the Ethernet source and the sender
 * protocol address the guest's lease (or 0.0.0.0 for an ARP probe).
 *
 * frame_parse_any() is the same parser without the source rules, used to
 * attribute slirp's frames to the guest's flows for byte accounting.
 */
#include <string.h>

#include "frame.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8

#define ARP_LEN 28   /* Ethernet/IPv4 ARP body */
#define IPV4_HLEN 20 /* the only header length we accept */
#define TCP_HLEN_MIN 20
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define DHCP_CLIENT_PORT 68
#define DHCP_SERVER_PORT 67

static const char *const drop_names[DROP__COUNT] = {
    [DROP_NONE] = "none",
    [DROP_RUNT] = "runt",
    [DROP_OVERSIZE] = "oversize",
    [DROP_VLAN] = "vlan",
    [DROP_NON_IPV4] = "non-ipv4",
    [DROP_ARP_MALFORMED] = "arp-malformed",
    [DROP_ARP_SPOOF] = "arp-spoof",
    [DROP_MAC_SPOOF] = "mac-spoof",
    [DROP_IP_MALFORMED] = "ip-malformed",
    [DROP_IP_OPTIONS] = "ip-options",
    [DROP_IP_FRAGMENT] = "ip-fragment",
    [DROP_IP_SPOOF] = "ip-spoof",
    [DROP_BROADCAST] = "broadcast",
    [DROP_MARTIAN] = "martian",
    [DROP_L4_MALFORMED] = "l4-malformed",
    [DROP_ZERO_PORT] = "zero-port",
    [DROP_PROTO] = "protocol",
};

const char *frame_drop_name(enum frame_drop d)
{
	if ((unsigned)d >= DROP__COUNT)
		return "unknown";
	return drop_names[d];
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

uint16_t ip_checksum(const uint8_t *buf, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += rd16(buf + i);
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static enum frame_drop parse_arp(const uint8_t *p, size_t len, struct frame *f,
				 bool strict)
{
	if (len < ARP_LEN)
		return DROP_ARP_MALFORMED;
	/* htype Ethernet, ptype IPv4, hlen 6, plen 4, op request or reply */
	if (rd16(p) != 1 || rd16(p + 2) != ETHERTYPE_IPV4 || p[4] != 6 ||
	    p[5] != 4)
		return DROP_ARP_MALFORMED;
	f->arp_op = rd16(p + 6);
	if (f->arp_op != 1 && f->arp_op != 2)
		return DROP_ARP_MALFORMED;
	f->arp_spa = rd32(p + 14);
	f->arp_tpa = rd32(p + 24);
	f->kind = FRAME_ARP;
	if (!strict)
		return DROP_NONE;
	if (memcmp(p + 8, f->eth_src, ETH_ALEN_))
		return DROP_ARP_SPOOF;
	if (f->arp_spa != NET_GUEST && f->arp_spa != 0)
		return DROP_ARP_SPOOF;
	return DROP_NONE;
}

static bool ip_is_bcast_or_mcast(uint32_t a)
{
	return a == 0xffffffffu || (a & 0xf0000000u) == 0xe0000000u ||
	       a == (NET_NETWORK | ~NET_MASK);
}

static bool ip_is_martian(uint32_t a)
{
	uint8_t top = (uint8_t)(a >> 24);

	return top == 0 || top == 127 || top >= 240;
}

static enum frame_drop parse_l4(const uint8_t *buf, struct frame *f)
{
	const uint8_t *p = buf + f->l4_off;
	size_t n = f->l4_len;

	switch (f->proto) {
	case 6: {
		size_t doff;

		if (n < TCP_HLEN_MIN)
			return DROP_L4_MALFORMED;
		doff = (size_t)(p[12] >> 4) * 4;
		if (doff < TCP_HLEN_MIN || doff > n)
			return DROP_L4_MALFORMED;
		f->sport = rd16(p);
		f->dport = rd16(p + 2);
		f->tcp_seq = rd32(p + 4);
		f->tcp_ack = rd32(p + 8);
		f->tcp_flags = p[13];
		f->payload_off = f->l4_off + doff;
		f->payload_len = n - doff;
		break;
	}
	case 17: {
		size_t ulen;

		if (n < UDP_HLEN)
			return DROP_L4_MALFORMED;
		ulen = rd16(p + 4);
		if (ulen < UDP_HLEN || ulen > n)
			return DROP_L4_MALFORMED;
		f->sport = rd16(p);
		f->dport = rd16(p + 2);
		f->payload_off = f->l4_off + UDP_HLEN;
		f->payload_len = ulen - UDP_HLEN;
		break;
	}
	case 1:
		if (n < ICMP_HLEN)
			return DROP_L4_MALFORMED;
		f->icmp_type = p[0];
		f->payload_off = f->l4_off + ICMP_HLEN;
		f->payload_len = n - ICMP_HLEN;
		return DROP_NONE;
	default:
		return DROP_PROTO;
	}
	if (!f->sport || !f->dport)
		return DROP_ZERO_PORT;
	return DROP_NONE;
}

static bool is_dhcp_request(const struct frame *f)
{
	return f->proto == 17 && f->sport == DHCP_CLIENT_PORT &&
	       f->dport == DHCP_SERVER_PORT &&
	       (f->daddr == 0xffffffffu || f->daddr == NET_GATEWAY);
}

static enum frame_drop parse_ipv4(const uint8_t *buf, size_t len,
				  struct frame *f, bool strict)
{
	const uint8_t *p = buf + ETH_HLEN_;
	size_t avail = len - ETH_HLEN_, tot;
	enum frame_drop d;
	uint16_t frag;

	if (avail < IPV4_HLEN || p[0] >> 4 != 4)
		return DROP_IP_MALFORMED;
	if ((p[0] & 0x0f) < 5)
		return DROP_IP_MALFORMED;
	if ((p[0] & 0x0f) != 5)
		return DROP_IP_OPTIONS;
	tot = rd16(p + 2);
	if (tot < IPV4_HLEN || tot > avail)
		return DROP_IP_MALFORMED;
	if (ip_checksum(p, IPV4_HLEN, 0) != 0)
		return DROP_IP_MALFORMED;
	frag = rd16(p + 6);
	/* reserved bit must be zero; MF or any offset: a fragment */
	if (frag & 0x8000)
		return DROP_IP_MALFORMED;
	if (frag & 0x3fff)
		return DROP_IP_FRAGMENT;
	f->kind = FRAME_IPV4;
	f->proto = p[9];
	f->saddr = rd32(p + 12);
	f->daddr = rd32(p + 16);
	f->l3_off = ETH_HLEN_;
	f->l4_off = ETH_HLEN_ + IPV4_HLEN;
	f->l4_len = tot - IPV4_HLEN;
	d = parse_l4(buf, f);
	if (d != DROP_NONE || !strict)
		return d;

	if (f->saddr != NET_GUEST && !(f->saddr == 0 && is_dhcp_request(f)))
		return DROP_IP_SPOOF;
	if (ip_is_bcast_or_mcast(f->daddr) || f->eth_bcast || f->eth_mcast) {
		if (!is_dhcp_request(f))
			return DROP_BROADCAST;
		return DROP_NONE;
	}
	if (ip_is_martian(f->daddr))
		return DROP_MARTIAN;
	return DROP_NONE;
}

static enum frame_drop parse(const uint8_t *buf, size_t len, struct frame *f,
			     bool strict)
{
	uint16_t type;

	memset(f, 0, sizeof(*f));
	if (len < ETH_HLEN_)
		return DROP_RUNT;
	if (len > FRAME_MAX_GUEST && strict)
		return DROP_OVERSIZE;
	memcpy(f->eth_dst, buf, ETH_ALEN_);
	memcpy(f->eth_src, buf + ETH_ALEN_, ETH_ALEN_);
	f->eth_bcast =
	    !memcmp(f->eth_dst, "\xff\xff\xff\xff\xff\xff", ETH_ALEN_);
	f->eth_mcast = !f->eth_bcast && (f->eth_dst[0] & 1);
	type = rd16(buf + 12);
	switch (type) {
	case ETHERTYPE_IPV4:
		return parse_ipv4(buf, len, f, strict);
	case ETHERTYPE_ARP:
		if (f->eth_mcast && strict)
			return DROP_BROADCAST;
		return parse_arp(buf + ETH_HLEN_, len - ETH_HLEN_, f, strict);
	case ETHERTYPE_VLAN:
	case ETHERTYPE_QINQ:
		return DROP_VLAN;
	default:
		return DROP_NON_IPV4;
	}
}

enum frame_drop frame_parse(const uint8_t *buf, size_t len, struct frame *f)
{
	return parse(buf, len, f, true);
}

enum frame_drop frame_parse_any(const uint8_t *buf, size_t len, struct frame *f)
{
	return parse(buf, len, f, false);
}
