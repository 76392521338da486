/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rule.c - allow-rule parsing, formatting and matching (grammar in rule.h)
 *
 * The parser walks the string once with explicit bounds; numbers are decimal
 * digits only, with a maximum number of digits, so there is no overflow and
 * no locale or strtol surprise (" 12", "+12", "0x1f" are all refused).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rule.h"

/* Parse 1..maxdigits decimal digits without leading zeros into *v. */
static int parse_dec(const char *s, size_t len, unsigned maxdigits,
		     unsigned long max, unsigned long *v)
{
	unsigned long n = 0;
	size_t i;

	if (len == 0 || len > maxdigits)
		return -EINVAL;
	if (len > 1 && s[0] == '0')
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	if (n > max)
		return -EINVAL;
	*v = n;
	return 0;
}

int rule_parse_ipv4(const char *s, size_t len, uint32_t *out)
{
	uint32_t a = 0;
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		unsigned long v;

		while (i < len && s[i] != '.')
			i++;
		if (parse_dec(s + start, i - start, 3, 255, &v))
			return -EINVAL;
		a = a << 8 | (uint32_t)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return -EINVAL;
			i++;
		}
	}
	if (i != len)
		return -EINVAL;
	*out = a;
	return 0;
}

static uint32_t mask_of(uint8_t prefix)
{
	return prefix ? ~(uint32_t)0 << (32 - prefix) : 0;
}

static int parse_ports(const char *s, struct rule *r, struct err *e)
{
	const char *dash;
	unsigned long lo, hi;

	if (!strcmp(s, "*")) {
		r->port_lo = 1;
		r->port_hi = 65535;
		return 0;
	}
	dash = strchr(s, '-');
	if (!dash) {
		if (parse_dec(s, strlen(s), 5, 65535, &lo) || lo == 0)
			return err_set(e, EINVAL, "bad port '%s' (1-65535)", s);
		r->port_lo = r->port_hi = (uint16_t)lo;
		return 0;
	}
	if (parse_dec(s, (size_t)(dash - s), 5, 65535, &lo) || lo == 0 ||
	    parse_dec(dash + 1, strlen(dash + 1), 5, 65535, &hi) || hi == 0)
		return err_set(e, EINVAL, "bad port range '%s'", s);
	if (lo > hi)
		return err_set(e, EINVAL, "port range '%s' is backwards", s);
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	return 0;
}

int rule_parse(const char *s, struct rule *r, struct err *e)
{
	char target[RULE_TEXT_MAX], ports[RULE_TEXT_MAX];
	const char *sp, *t, *colon, *slash;
	size_t tlen;

	memset(r, 0, sizeof(*r));
	if (strlen(s) >= RULE_TEXT_MAX)
		return err_set(e, EINVAL, "rule too long");

	sp = strchr(s, ' ');
	if (!sp)
		return err_set(e, EINVAL,
			       "expected '<tcp|udp|icmp> <address>[:<ports>]'");
	if ((size_t)(sp - s) == 3 && !strncmp(s, "tcp", 3))
		r->proto = RULE_PROTO_TCP;
	else if ((size_t)(sp - s) == 3 && !strncmp(s, "udp", 3))
		r->proto = RULE_PROTO_UDP;
	else if ((size_t)(sp - s) == 4 && !strncmp(s, "icmp", 4))
		r->proto = RULE_PROTO_ICMP;
	else
		return err_set(e, EINVAL, "unknown protocol '%.*s' (tcp, udp, icmp)",
			       (int)(sp - s), s);

	t = sp + 1;
	if (!*t || strchr(t, ' '))
		return err_set(e, EINVAL,
			       "expected exactly one address after the protocol");

	colon = strchr(t, ':');
	tlen = colon ? (size_t)(colon - t) : strlen(t);
	memcpy(target, t, tlen);
	target[tlen] = '\0';

	if (r->proto == RULE_PROTO_ICMP) {
		if (colon)
			return err_set(e, EINVAL, "icmp rules take no port");
	} else {
		if (!colon || !colon[1])
			return err_set(e, EINVAL,
				       "%s rules need ':<port>', ':<lo>-<hi>' or ':*'",
				       r->proto == RULE_PROTO_TCP ? "tcp" : "udp");
		snprintf(ports, sizeof(ports), "%s", colon + 1);
		if (parse_ports(ports, r, e))
			return -EINVAL;
	}

	if (!strcmp(target, "host")) {
		r->host = true;
		r->prefix = 32;
		return 0;
	}

	slash = strchr(target, '/');
	if (slash) {
		unsigned long p;

		if (parse_dec(slash + 1, strlen(slash + 1), 2, 32, &p))
			return err_set(e, EINVAL, "bad prefix length in '%s'",
				       target);
		r->prefix = (uint8_t)p;
	} else {
		r->prefix = 32;
	}
	if (rule_parse_ipv4(target, slash ? (size_t)(slash - target) : tlen,
			    &r->net))
		return err_set(e, EINVAL, "bad IPv4 address '%s'", target);
	if (r->net & ~mask_of(r->prefix))
		return err_set(e, EINVAL,
			       "'%s' has host bits set beyond /%u", target,
			       (unsigned)r->prefix);
	return 0;
}

void rule_format(const struct rule *r, char *out, size_t len)
{
	const char *p = r->proto == RULE_PROTO_TCP ? "tcp" :
			r->proto == RULE_PROTO_UDP ? "udp" : "icmp";
	char tgt[24], ports[16] = "";

	if (r->host)
		snprintf(tgt, sizeof(tgt), "host");
	else
		snprintf(tgt, sizeof(tgt), "%u.%u.%u.%u/%u", r->net >> 24,
			 (r->net >> 16) & 0xff, (r->net >> 8) & 0xff,
			 r->net & 0xff, (unsigned)r->prefix);
	if (r->proto != RULE_PROTO_ICMP) {
		if (r->port_lo == 1 && r->port_hi == 65535)
			snprintf(ports, sizeof(ports), ":*");
		else if (r->port_lo == r->port_hi)
			snprintf(ports, sizeof(ports), ":%u", r->port_lo);
		else
			snprintf(ports, sizeof(ports), ":%u-%u", r->port_lo,
				 r->port_hi);
	}
	snprintf(out, len, "%s %s%s", p, tgt, ports);
}

bool rule_match(const struct rule *r, uint8_t proto, uint32_t daddr,
		uint16_t dport, bool to_host)
{
	if (r->proto != proto || r->host != to_host)
		return false;
	if (!to_host && (daddr & mask_of(r->prefix)) != r->net)
		return false;
	if (proto == RULE_PROTO_ICMP)
		return true;
	return dport >= r->port_lo && dport <= r->port_hi;
}

bool rule_equal(const struct rule *a, const struct rule *b)
{
	return a->proto == b->proto && a->host == b->host && a->net == b->net &&
	       a->prefix == b->prefix && a->port_lo == b->port_lo &&
	       a->port_hi == b->port_hi;
}

const struct rule_domain_port rule_domain_ports[] = {
	{ 88, "Kerberos" },	{ 135, "RPC" },
	{ 137, "NetBIOS-NS" },	{ 138, "NetBIOS-DGM" },
	{ 139, "NetBIOS-SSN" },	{ 389, "LDAP" },
	{ 445, "SMB" },		{ 464, "kpasswd" },
	{ 636, "LDAPS" },	{ 3268, "GC" },
	{ 3269, "GC-TLS" },
};
const size_t rule_n_domain_ports =
	sizeof(rule_domain_ports) / sizeof(rule_domain_ports[0]);

const char *rule_port_tag(uint8_t proto, uint16_t port)
{
	size_t i;

	if (proto != RULE_PROTO_TCP && proto != RULE_PROTO_UDP)
		return NULL;
	for (i = 0; i < rule_n_domain_ports; i++)
		if (rule_domain_ports[i].port == port)
			return "domain";
	return NULL;
}
