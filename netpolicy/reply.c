/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reply.c - build the frames walloff-net answers with on slirp's behalf
 *
 * Two answers are ours, never slirp's: a TCP RST for a denied connection
 * (legacy applications otherwise wait minutes for a SYN that nobody
 * answers) and a UDP datagram carrying a DNS REFUSED. Both swap the tuple
 * of the guest's frame: Ethernet source becomes the MAC the guest sent to
 * (slirp's gateway MAC, learned from the frame, so we need no knowledge of
 * slirp's addressing), IP source becomes the address the guest asked for.
 * Headers are written field by field in network byte order into a caller's
 * buffer whose size is checked first; checksums are computed in full.
 */
#include <string.h>

#include "reply.h"

#define IP_TTL_REPLY 64
#define IPV4_HLEN 20
#define TCP_HLEN 20
#define UDP_HLEN 8

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* Ethernet and IPv4 headers answering @f, for an L4 part of @l4len bytes. */
static void put_eth_ip(const struct frame *f, uint8_t proto, size_t l4len,
		       uint8_t *out)
{
	uint8_t *ip = out + ETH_HLEN_;

	memcpy(out, f->eth_src, ETH_ALEN_);
	memcpy(out + ETH_ALEN_, f->eth_dst, ETH_ALEN_);
	wr16(out + 12, 0x0800);
	memset(ip, 0, IPV4_HLEN);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(IPV4_HLEN + l4len));
	wr16(ip + 6, 0x4000); /* DF */
	ip[8] = IP_TTL_REPLY;
	ip[9] = proto;
	wr32(ip + 12, f->daddr);
	wr32(ip + 16, f->saddr);
	wr16(ip + 10, ip_checksum(ip, IPV4_HLEN, 0));
}

static uint32_t pseudo_sum(const struct frame *f, uint8_t proto, size_t l4len)
{
	return (f->daddr >> 16) + (f->daddr & 0xffff) + (f->saddr >> 16) +
	       (f->saddr & 0xffff) + proto + (uint32_t)l4len;
}

size_t reply_tcp_rst(const struct frame *f, uint8_t *out, size_t cap)
{
	uint8_t *tcp = out + ETH_HLEN_ + IPV4_HLEN;
	uint32_t seq = 0, ack = 0;
	uint8_t flags;

	if (f->kind != FRAME_IPV4 || f->proto != 6 ||
	    (f->tcp_flags & TCPF_RST) || cap < REPLY_RST_LEN)
		return 0;
	if (f->tcp_flags & TCPF_ACK) {
		seq = f->tcp_ack;
		flags = TCPF_RST;
	} else {
		ack = f->tcp_seq + (uint32_t)f->payload_len +
		      ((f->tcp_flags & TCPF_SYN) ? 1 : 0) +
		      ((f->tcp_flags & TCPF_FIN) ? 1 : 0);
		flags = TCPF_RST | TCPF_ACK;
	}
	put_eth_ip(f, 6, TCP_HLEN, out);
	memset(tcp, 0, TCP_HLEN);
	wr16(tcp, f->dport);
	wr16(tcp + 2, f->sport);
	wr32(tcp + 4, seq);
	wr32(tcp + 8, ack);
	tcp[12] = (TCP_HLEN / 4) << 4;
	tcp[13] = flags;
	wr16(tcp + 16, ip_checksum(tcp, TCP_HLEN, pseudo_sum(f, 6, TCP_HLEN)));
	return REPLY_RST_LEN;
}

size_t reply_udp(const struct frame *f, const uint8_t *payload, size_t plen,
		 uint8_t *out, size_t cap)
{
	uint8_t *udp = out + ETH_HLEN_ + IPV4_HLEN;
	size_t l4 = UDP_HLEN + plen;
	uint16_t sum;

	if (f->kind != FRAME_IPV4 || f->proto != 17 ||
	    cap < ETH_HLEN_ + IPV4_HLEN + l4 || l4 > 0xffff - IPV4_HLEN)
		return 0;
	put_eth_ip(f, 17, l4, out);
	wr16(udp, f->dport);
	wr16(udp + 2, f->sport);
	wr16(udp + 4, (uint16_t)l4);
	wr16(udp + 6, 0);
	memcpy(udp + UDP_HLEN, payload, plen);
	sum = ip_checksum(udp, l4, pseudo_sum(f, 17, l4));
	wr16(udp + 6, sum ? sum : 0xffff);
	return ETH_HLEN_ + IPV4_HLEN + l4;
}
