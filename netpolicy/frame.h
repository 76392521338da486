/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * frame.h - bounded parser of the Ethernet frames a guest sends
 *
 * frame_parse() turns raw bytes into a struct frame (a flow tuple plus the
 * few header fields the policy and the reply builder need) or a drop reason.
 * Nothing a guest sends reaches libslirp without going through it.
 */
#ifndef WALLOFF_FRAME_H
#define WALLOFF_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETH_ALEN_ 6
#define ETH_HLEN_ 14

/*
 * Largest frame we accept from the guest: a 1500-byte MTU plus the Ethernet
 * header. Legacy guests do not do jumbo frames; anything longer is dropped.
 */
#define FRAME_MAX_GUEST 1514

/* The fixed addresses of slirp's virtual network (host byte order). */
#define NET_GUEST 0x0a00020fu	/* 10.0.2.15, the only DHCP lease */
#define NET_GATEWAY 0x0a000202u /* 10.0.2.2, slirp's alias of host loopback */
#define NET_DNS 0x0a000203u	/* 10.0.2.3, slirp's DNS forwarder */
#define NET_NETWORK 0x0a000200u /* 10.0.2.0/24 */
#define NET_MASK 0xffffff00u

/* Why a frame was dropped. Keep frame_drop_name() in step. */
enum frame_drop {
	DROP_NONE = 0,
	DROP_RUNT,     /* shorter than an Ethernet header */
	DROP_OVERSIZE, /* longer than FRAME_MAX_GUEST */
	DROP_VLAN,     /* 802.1Q / QinQ tag */
	DROP_NON_IPV4, /* IPv6 or any other ethertype */
	DROP_ARP_MALFORMED,
	DROP_ARP_SPOOF,	   /* sender is not the guest's address/MAC */
	DROP_MAC_SPOOF,	   /* Ethernet source is not the guest's MAC */
	DROP_IP_MALFORMED, /* version, IHL, total length, checksum */
	DROP_IP_OPTIONS,
	DROP_IP_FRAGMENT,
	DROP_IP_SPOOF,	   /* source is not 10.0.2.15 (0.0.0.0 for DHCP) */
	DROP_BROADCAST,	   /* broadcast/multicast that is not DHCP/ARP */
	DROP_MARTIAN,	   /* loopback, 0/8, class E destinations */
	DROP_L4_MALFORMED, /* truncated TCP/UDP/ICMP, bad data offset */
	DROP_ZERO_PORT,
	DROP_PROTO, /* IP protocol other than TCP/UDP/ICMP */
	DROP__COUNT
};

enum frame_kind {
	FRAME_ARP,
	FRAME_IPV4,
};

/* TCP flag bits as on the wire. */
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

struct frame {
	enum frame_kind kind;
	uint8_t eth_dst[ETH_ALEN_];
	uint8_t eth_src[ETH_ALEN_];
	bool eth_bcast; /* destination ff:ff:ff:ff:ff:ff */
	bool eth_mcast; /* group bit set, not broadcast */
	/* ARP */
	uint16_t arp_op;
	uint32_t arp_spa, arp_tpa; /* host byte order */
	/* IPv4 */
	uint32_t saddr, daddr; /* host byte order */
	uint8_t proto;	       /* 1, 6, 17 */
	size_t l3_off;	       /* IPv4 header offset */
	size_t l4_off;	       /* TCP/UDP/ICMP header offset */
	size_t l4_len;	       /* bytes of L4 header + payload */
	size_t payload_off;    /* application data */
	size_t payload_len;
	uint16_t sport, dport; /* ICMP: 0, 0 */
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
	uint8_t icmp_type;
};

/**
 * frame_parse() - parse one frame from the guest
 * @buf:	frame bytes (Ethernet header first, no FCS)
 * @len:	number of bytes
 * @f:		output, valid only when DROP_NONE is returned
 *
 * Checks only what can be judged from the frame itself: well-formedness,
 * fragments, options, the source address and broadcast use. Whether the
 * flow is allowed is policy.c's business.
 *
 * Return: DROP_NONE, or the reason to drop the frame
 */
enum frame_drop frame_parse(const uint8_t *buf, size_t len, struct frame *f);

/**
 * frame_parse_any() - parse a frame slirp sends to the guest (no source
 * checks), for flow byte accounting
 * @buf:	frame bytes
 * @len:	number of bytes
 * @f:		output
 *
 * Return: DROP_NONE, or why it is not an IPv4 TCP/UDP/ICMP frame
 */
enum frame_drop frame_parse_any(const uint8_t *buf, size_t len,
				struct frame *f);

/**
 * frame_drop_name() - short name of a drop reason for logs and counters
 * @d:		reason
 *
 * Return: static string such as "ip-fragment"
 */
const char *frame_drop_name(enum frame_drop d);

/**
 * ip_checksum() - Internet checksum (RFC 1071) of a buffer
 * @buf:	data
 * @len:	length in bytes
 * @sum:	partial sum to start from (0, or a pseudo-header sum)
 *
 * Return: the folded, complemented 16-bit checksum in host byte order
 */
uint16_t ip_checksum(const uint8_t *buf, size_t len, uint32_t sum);

#endif /* WALLOFF_FRAME_H */
