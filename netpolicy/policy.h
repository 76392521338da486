/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.h - the egress decision for one guest frame
 */
#ifndef WALLOFF_POLICY_H
#define WALLOFF_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/rule.h"
#include "dns.h"
#include "frame.h"

enum dns_mode {
	DNS_NONE,      /* no DNS at all */
	DNS_ALLOWLIST, /* only the names in dns_allow */
};

struct policy {
	const struct rule *rules;
	size_t n_rules;
	bool host_access; /* host-access = allow */
	enum dns_mode dns;
	char *const *dns_allow;
	size_t n_dns_allow;
	/* learned: the guest's MAC, from its first valid frame */
	bool mac_known;
	uint8_t guest_mac[ETH_ALEN_];
};

enum verdict {
	VERDICT_PASS,	    /* hand to slirp */
	VERDICT_DROP,	    /* malformed/spoofed/unneeded: count only */
	VERDICT_DENY,	    /* well-formed flow the policy denies: audit */
	VERDICT_DNS_REFUSE, /* DNS name not allowed: answer REFUSED */
};

struct decision {
	enum verdict verdict;
	enum frame_drop drop; /* VERDICT_DROP: why */
	const char *why;      /* VERDICT_DENY/DNS_REFUSE: short reason */
	const char *tag;      /* "domain", "dns", "host" or NULL */
	bool to_host;	      /* destination is slirp's host alias */
	bool is_dns;	      /* UDP query to 10.0.2.3:53 parsed into dq */
	struct dns_query dq;	/* valid only if is_dns */
};

/**
 * policy_decide() - decide what happens to one frame from the guest
 * @p:		policy (its learned MAC may be updated)
 * @buf:	frame
 * @len:	frame length
 * @f:		output: the parsed frame
 * @d:		output: the decision
 */
void policy_decide(struct policy *p, const uint8_t *buf, size_t len,
		   struct frame *f, struct decision *d);

/**
 * policy_port_tag() - audit tag for a destination port
 * @proto:	6 or 17
 * @port:	destination port
 *
 * Return: "domain" for Active Directory / Windows domain ports (Kerberos,
 * RPC endpoint mapper, NetBIOS, LDAP, SMB, kpasswd), else NULL
 */
const char *policy_port_tag(uint8_t proto, uint16_t port);

/**
 * policy_needs_host_loopback() - may slirp reach the host's loopback at all?
 * @p:		policy
 *
 * Return: true if host-access is allowed or a rule names "host"
 */
bool policy_needs_host_loopback(const struct policy *p);

#endif /* WALLOFF_POLICY_H */
