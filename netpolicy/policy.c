/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.c - default-deny egress policy in front of libslirp
 *
 * policy_decide() is a pure function of the frame, the configuration and
 * the guest MAC learned from the first frame (so it is unit-testable and
 * cheap: no allocation, no I/O). The order of checks:
 *
 *  1. frame_parse(): malformed, fragmented, spoofed, broadcast... -> DROP.
 *  2. The Ethernet source must be the MAC of the guest's first valid frame
 *     (slirp keys its ARP and DHCP tables on it) -> DROP mac-spoof.
 *  3. ARP passes (slirp answers only for its own addresses). DHCP from
 *     port 68 to port 67 on the gateway or broadcast passes.
 *  4. Destinations inside slirp's 10.0.2.0/24: slirp connects anything
 *     there except 10.0.2.3 to the host's loopback, so all of them count
 *     as "host": allowed only with host-access = allow or a "host" rule.
 *     10.0.2.3 is DNS and only port 53 is DNS: UDP queries are parsed;
 *     with dns = allowlist a listed name passes, every other readable
 *     query (all of them with dns = none) is answered REFUSED, and an
 *     unreadable one is denied. TCP 53 is denied (a legacy stub resolver
 *     asks over UDP). Any other port on 10.0.2.3 is denied.
 *  5. Everything else passes only if an allow rule matches.
 *
 * A denial carries a short reason and a tag ("domain" for Windows domain
 * ports, "dns", "host") for the audit record; what to answer (RST, DNS
 * REFUSED, nothing) is decided by the caller from the frame.
 */
#include <string.h>

#include "policy.h"
#include "rule.h"

#define DNS_PORT 53
#define DHCP_CLIENT_PORT 68
#define DHCP_SERVER_PORT 67

const char *policy_port_tag(uint8_t proto, uint16_t port)
{
	return rule_port_tag(proto, port);
}

bool policy_needs_host_loopback(const struct policy *p)
{
	size_t i;

	if (p->host_access)
		return true;
	for (i = 0; i < p->n_rules; i++)
		if (p->rules[i].host)
			return true;
	return false;
}

static bool rules_match(const struct policy *p, const struct frame *f,
			bool to_host)
{
	size_t i;

	for (i = 0; i < p->n_rules; i++)
		if (rule_match(&p->rules[i], f->proto, f->daddr, f->dport,
			       to_host))
			return true;
	return false;
}

static void deny(struct decision *d, const char *why, const char *tag)
{
	d->verdict = VERDICT_DENY;
	d->why = why;
	d->tag = tag;
}

static void decide_dns(const struct policy *p, const uint8_t *buf,
		       const struct frame *f, struct decision *d)
{
	const char *why;

	if (f->proto != 17) {
		deny(d, p->dns == DNS_NONE ? "dns-none" : "dns-tcp", "dns");
		return;
	}
	if (dns_parse_query(buf + f->payload_off, f->payload_len, &d->dq,
			    &why)) {
		/* not a query we can read: nothing to answer, audit it */
		deny(d, why, "dns");
		return;
	}
	d->is_dns = true;
	if (p->dns == DNS_ALLOWLIST &&
	    dns_name_allowed(d->dq.name, p->dns_allow, p->n_dns_allow)) {
		d->verdict = VERDICT_PASS;
		return;
	}
	/* a readable query is answered REFUSED so the guest fails fast */
	d->verdict = VERDICT_DNS_REFUSE;
	d->why = p->dns == DNS_NONE ? "dns-none" : "dns-name";
	d->tag = "dns";
}

void policy_decide(struct policy *p, const uint8_t *buf, size_t len,
		   struct frame *f, struct decision *d)
{
	/* not memset: dq is large and only filled (by dns.c) for DNS */
	d->verdict = VERDICT_PASS;
	d->why = NULL;
	d->tag = NULL;
	d->to_host = false;
	d->is_dns = false;
	d->drop = frame_parse(buf, len, f);
	if (d->drop != DROP_NONE) {
		d->verdict = VERDICT_DROP;
		return;
	}
	if (!p->mac_known) {
		memcpy(p->guest_mac, f->eth_src, ETH_ALEN_);
		p->mac_known = true;
	} else if (memcmp(p->guest_mac, f->eth_src, ETH_ALEN_)) {
		d->verdict = VERDICT_DROP;
		d->drop = DROP_MAC_SPOOF;
		return;
	}
	if (f->kind == FRAME_ARP)
		return; /* VERDICT_PASS */
	if (f->proto == 17 && f->sport == DHCP_CLIENT_PORT &&
	    f->dport == DHCP_SERVER_PORT &&
	    (f->daddr == 0xffffffffu || f->daddr == NET_GATEWAY))
		return;

	if ((f->daddr & NET_MASK) == NET_NETWORK) {
		if (f->daddr == NET_DNS) {
			if (f->proto != 1 && f->dport == DNS_PORT) {
				decide_dns(p, buf, f, d);
				return;
			}
			deny(d, "dns-server-port",
			     policy_port_tag(f->proto, f->dport));
			return;
		}
		d->to_host = true;
		if (p->host_access || rules_match(p, f, true))
			return;
		deny(d, "host-access",
		     policy_port_tag(f->proto, f->dport) ? "domain" : "host");
		return;
	}
	if (rules_match(p, f, false))
		return;
	deny(d, "no-rule", policy_port_tag(f->proto, f->dport));
}
