/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * framegen.c - well-formed frames for the netpolicy tests, fuzz seeds and
 * bench; tests damage them byte by byte to make hostile ones
 */
#include <string.h>

#include "frame.h"
#include "framegen.h"

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

void fg_default(struct fg *g, uint8_t proto, uint32_t daddr, uint16_t dport)
{
	memset(g, 0, sizeof(*g));
	g->dmac = FG_GW_MAC;
	g->smac = FG_GUEST_MAC;
	g->saddr = NET_GUEST;
	g->daddr = daddr;
	g->proto = proto;
	g->sport = 40000;
	g->dport = dport;
	g->tcp_flags = TCPF_SYN;
}

void fg_ip_fix(uint8_t *frame)
{
	uint8_t *ip = frame + 14;

	wr16(ip + 10, 0);
	wr16(ip + 10, ip_checksum(ip, (size_t)(ip[0] & 0xf) * 4, 0));
}

size_t fg_ipv4(const struct fg *g, uint8_t *out, size_t cap)
{
	size_t l4h = g->proto == 6 ? 20 : 8, l4 = l4h + g->plen;
	size_t len = 14 + 20 + l4;
	uint8_t *ip = out + 14, *p = ip + 20;
	uint32_t sum;

	if (len > cap)
		return 0;
	memset(out, 0, len);
	memcpy(out, g->dmac, 6);
	memcpy(out + 6, g->smac, 6);
	wr16(out + 12, 0x0800);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(20 + l4));
	wr16(ip + 4, 0x1234);
	wr16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = g->proto;
	wr32(ip + 12, g->saddr);
	wr32(ip + 16, g->daddr);
	fg_ip_fix(out);
	if (g->proto == 6) {
		wr16(p, g->sport);
		wr16(p + 2, g->dport);
		wr32(p + 4, 1000);
		p[12] = 5 << 4;
		p[13] = g->tcp_flags;
		wr16(p + 14, 8192);
	} else if (g->proto == 17) {
		wr16(p, g->sport);
		wr16(p + 2, g->dport);
		wr16(p + 4, (uint16_t)l4);
	} else {
		p[0] = 8; /* echo request */
	}
	if (g->plen)
		memcpy(p + l4h, g->payload, g->plen);
	sum = (g->saddr >> 16) + (g->saddr & 0xffff) + (g->daddr >> 16) +
	      (g->daddr & 0xffff) + g->proto + (uint32_t)l4;
	if (g->proto == 6)
		wr16(p + 16, ip_checksum(p, l4, sum));
	else if (g->proto == 17)
		wr16(p + 6, ip_checksum(p, l4, sum));
	else
		wr16(p + 2, ip_checksum(p, l4, 0));
	return len;
}

size_t fg_arp(const char *smac, const char *sha, uint32_t spa, uint32_t tpa,
	      uint8_t *out)
{
	uint8_t *a = out + 14;

	memset(out, 0, 42);
	memcpy(out, FG_BCAST_MAC, 6);
	memcpy(out + 6, smac, 6);
	wr16(out + 12, 0x0806);
	wr16(a, 1);
	wr16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, 1);
	memcpy(a + 8, sha, 6);
	wr32(a + 14, spa);
	wr32(a + 24, tpa);
	return 42;
}

size_t fg_dns_query(uint16_t id, const char *name, uint8_t *out, size_t cap)
{
	size_t off = 12, n = strlen(name);
	const char *s = name;

	if (cap < 12 + n + 2 + 4)
		return 0;
	memset(out, 0, 12);
	wr16(out, id);
	wr16(out + 2, 0x0100); /* RD */
	wr16(out + 4, 1);
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		out[off++] = (uint8_t)l;
		memcpy(out + off, s, l);
		off += l;
		s += l;
		if (*s == '.')
			s++;
	}
	out[off++] = 0;
	wr16(out + off, 1);	/* A */
	wr16(out + off + 2, 1); /* IN */
	return off + 4;
}
