/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft_log.h - nft mode's denied packets: NFLOG socket, packet parsing and
 * the deduplicated, rate-limited audit of denials
 */
#ifndef WALLOFF_NFT_LOG_H
#define WALLOFF_NFT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "denylog.h"
#include "err.h"

/* Dedup and rate limit are user mode's (denylog.h), bounds included. */
#define NFTLOG_BURST		DENYLOG_BURST
#define NFTLOG_FLUSH_MS		DENYLOG_FLUSH_MS
/* Largest NFLOG message parsed: ~120 bytes of attributes + the 128-byte
 * copy range, with room to spare; longer messages are not ours. */
#define NFTLOG_MSG_MAX		1024
/* The log prefix is one of NFT_WHY_*; longer text is cut. */
#define NFTLOG_WHY_MAX		16

/* One denied packet, as much as its first bytes tell. */
struct nftlog_pkt {
	char why[NFTLOG_WHY_MAX];	/* log prefix: the rule that dropped */
	uint16_t ethertype;		/* 0x0800 IPv4, 0x86dd IPv6, ... */
	uint8_t proto;			/* IPv4 protocol, 0 if not IPv4 */
	uint32_t saddr, daddr;		/* host order, 0 if not IPv4 */
	uint16_t dport;			/* tcp/udp, 0 otherwise */
};

/* Receives each audit record (event name, details reference stolen). */
typedef int (*nftlog_emit_fn)(void *opaque, const char *event, json_t *d);

struct nftlog {
	struct denylog dl;
	struct emitter em;
};

/**
 * nftlog_open() - a netlink socket bound to an NFLOG group (needs
 * CAP_NET_ADMIN; receiving afterwards needs none)
 * @group:	NFLOG group
 * @e:		error (EBUSY: another process has the group)
 *
 * Return: socket descriptor (close-on-exec), or -errno
 */
int nftlog_open(uint16_t group, struct err *e);

/**
 * nftlog_parse_msg() - one NFLOG netlink message to a packet summary
 * @msg:	netlink message (header included)
 * @len:	bytes in @msg (at most NFTLOG_MSG_MAX)
 * @out:	output
 *
 * Return: 0, or -EINVAL for anything that is not a well-formed NFLOG packet
 */
int nftlog_parse_msg(const void *msg, size_t len, struct nftlog_pkt *out);

/**
 * nftlog_feed() - parse and count every NFLOG message of one recv()
 * @l:		dedup table
 * @buf:	bytes received
 * @len:	their number
 * @now_ms:	monotonic time
 *
 * Walks the messages with its own bounds checks (libmnl 1.0.4's
 * mnl_nlmsg_ok() accepts lengths above INT_MAX); malformed ones are skipped.
 *
 * Return: 0 or the emitter's -errno
 */
int nftlog_feed(struct nftlog *l, const void *buf, size_t len, int64_t now_ms);

/**
 * nftlog_parse_ip() - fill proto/addresses/port from the packet's bytes
 * @pkt:	bytes from the network header on (guest-controlled)
 * @len:	length
 * @out:	output (ethertype already set)
 */
void nftlog_parse_ip(const uint8_t *pkt, size_t len, struct nftlog_pkt *out);

/**
 * nftlog_init() - empty dedup table
 * @l:		table
 * @fn:		record sink
 * @opaque:	its argument
 * @now_ms:	monotonic time
 */
void nftlog_init(struct nftlog *l, nftlog_emit_fn fn, void *opaque,
		 int64_t now_ms);

/**
 * nftlog_note() - count a denial; audit it now if new and within the rate
 * @l:		table
 * @p:		packet
 * @now_ms:	monotonic time
 *
 * Return: 0 or the emitter's -errno
 */
int nftlog_note(struct nftlog *l, const struct nftlog_pkt *p, int64_t now_ms);

/**
 * nftlog_flush() - report repeats and suppressed denials
 * @l:		table
 * @now_ms:	monotonic time
 * @force:	ignore interval and rate (at exit)
 *
 * Return: 0 or the emitter's -errno
 */
int nftlog_flush(struct nftlog *l, int64_t now_ms, bool force);

/**
 * nftlog_port_tag() - "domain" for Windows domain ports, else NULL (the same
 * tags as walloff-net's user mode)
 * @proto:	IP protocol
 * @port:	destination port
 *
 * Return: static string or NULL
 */
const char *nftlog_port_tag(uint8_t proto, uint16_t port);

#endif /* WALLOFF_NFT_LOG_H */
