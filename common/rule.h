/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rule.h - the egress allow-rule grammar shared by the profile validator,
 * walloff-net (user mode) and the nftables builder (nft mode)
 *
 *   rule   := proto SP target [":" ports]
 *   proto  := "tcp" | "udp" | "icmp"          (icmp takes no ports)
 *   target := IPv4 ["/" prefix] | "host"      ("host": the host's loopback,
 *                                             reached as 10.0.2.2 by slirp)
 *   ports  := port | port "-" port | "*"      (1..65535; "*" = all)
 *
 * tcp and udp rules must name ports: "every port" has to be written as "*"
 * so that a reviewer sees it. Addresses are strict dotted quads (no octal, no
 * shorthand, no leading zeros) and a CIDR must have no host bits set, so that
 * what the reviewer reads is exactly what is matched.
 */
#ifndef WALLOFF_RULE_H
#define WALLOFF_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RULE_PROTO_ICMP 1
#define RULE_PROTO_TCP 6
#define RULE_PROTO_UDP 17

/* Canonical text of a rule: "tcp 255.255.255.255/32:65535-65535" fits. */
#define RULE_TEXT_MAX 48

struct rule {
	uint8_t proto;		/* RULE_PROTO_* */
	bool host;		/* target is the host's loopback */
	uint32_t net;		/* host byte order, host bits zero */
	uint8_t prefix;		/* 0..32 */
	uint16_t port_lo;	/* 0 for icmp */
	uint16_t port_hi;
};

/**
 * rule_parse() - parse one rule
 * @s:		text, e.g. "tcp 10.20.0.5:1433"
 * @r:		output
 * @e:		error (reason only, no file:line)
 *
 * Return: 0 or -EINVAL
 */
int rule_parse(const char *s, struct rule *r, struct err *e);

/**
 * rule_format() - canonical text, parsable by rule_parse()
 * @r:		rule
 * @out:	output, RULE_TEXT_MAX bytes
 * @len:	size of @out
 */
void rule_format(const struct rule *r, char *out, size_t len);

/**
 * rule_match() - does a flow match the rule?
 * @r:		rule
 * @proto:	RULE_PROTO_*
 * @daddr:	destination, host byte order (ignored when @to_host)
 * @dport:	destination port (ignored for icmp)
 * @to_host:	the destination is the host's loopback alias
 *
 * Return: true on match
 */
bool rule_match(const struct rule *r, uint8_t proto, uint32_t daddr,
		uint16_t dport, bool to_host);

/* Windows domain / Active Directory services: a legacy guest keeps local
 * accounts only, so flows to these ports are tagged "domain" in the audit
 * log and allow rules covering them FAIL the review. */
struct rule_domain_port {
	uint16_t port;
	const char *name;
};
extern const struct rule_domain_port rule_domain_ports[];
extern const size_t rule_n_domain_ports;

/**
 * rule_port_tag() - audit tag of a TCP/UDP destination port
 * @proto:	RULE_PROTO_*
 * @port:	destination port
 *
 * Return: "domain" for the ports in rule_domain_ports[] over TCP or UDP,
 * else NULL
 */
const char *rule_port_tag(uint8_t proto, uint16_t port);

/**
 * rule_equal() - same rule?
 * @a:		rule
 * @b:		rule
 *
 * Return: true if every field is equal
 */
bool rule_equal(const struct rule *a, const struct rule *b);

/**
 * rule_parse_ipv4() - strict dotted-quad parser
 * @s:		text
 * @len:	number of characters of @s to read
 * @out:	address, host byte order
 *
 * Return: 0 or -EINVAL
 */
int rule_parse_ipv4(const char *s, size_t len, uint32_t *out);

#endif /* WALLOFF_RULE_H */
