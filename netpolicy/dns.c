/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dns.c - DNS query parser, name allowlist and REFUSED builder
 *
 * With "dns = allowlist", a guest's UDP query to slirp's forwarder
 * (10.0.2.3:53) is parsed here: only a standard query (QR=0, opcode 0)
 * with exactly one IN question and no answer or authority records is
 * accepted, at most one additional record (an EDNS OPT) is tolerated and
 * forwarded untouched. The question name is read label by label with both
 * the 63-byte label and 255-byte name bounds checked before any copy;
 * compression pointers are refused outright (a query has nothing to
 * point back to, and pointers are how parsers get looped). The name is
 * kept as lower-case dotted text for the allowlist match and the audit log,
 * so only [A-Za-z0-9_-] is accepted in labels: nothing odd reaches a log.
 *
 * An allowed name is passed to slirp, which forwards it to the host's
 * resolver; any other name gets a REFUSED answer that we build here from
 * the query's own header and question, so the guest fails fast and slirp
 * never sends the name anywhere.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "dns.h"

#define DNS_QR 0x8000
#define DNS_OPCODE_MASK 0x7800
#define DNS_RD 0x0100
#define DNS_RCODE_REFUSED 5
#define DNS_CLASS_IN 1
#define DNS_CLASS_ANY 255

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool label_char_ok(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int dns_parse_query(const uint8_t *p, size_t len, struct dns_query *q,
		    const char **why)
{
	size_t off = DNS_HLEN, wire = 0, t = 0;

	memset(q, 0, sizeof(*q));
	*why = "truncated";
	if (len < DNS_HLEN)
		return -EINVAL;
	q->id = rd16(p);
	q->flags = rd16(p + 2);
	*why = "not-a-query";
	if (q->flags & (DNS_QR | DNS_OPCODE_MASK))
		return -EINVAL;
	*why = "question-count";
	if (rd16(p + 4) != 1 || rd16(p + 6) || rd16(p + 8) || rd16(p + 10) > 1)
		return -EINVAL;
	for (;;) {
		uint8_t l;

		*why = "truncated";
		if (off >= len)
			return -EINVAL;
		l = p[off++];
		if (!l)
			break;
		*why = "compression";
		if ((l & 0xc0) == 0xc0)
			return -EINVAL;
		*why = "label-type";
		if (l & 0xc0)
			return -EINVAL;
		/* this label's length byte and bytes, then the root byte */
		*why = "name-too-long";
		if (l > DNS_LABEL_MAX || wire + 1 + l + 1 > DNS_NAME_WIRE_MAX)
			return -EINVAL;
		wire += 1 + (size_t)l;
		*why = "truncated";
		if (l > len - off)
			return -EINVAL;
		if (t)
			q->name[t++] = '.';
		for (; l; l--, off++) {
			uint8_t c = p[off];

			*why = "bad-character";
			if (!label_char_ok(c))
				return -EINVAL;
			q->name[t++] =
			    (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
	}
	*why = "empty-name";
	if (!t)
		return -EINVAL;
	q->name[t] = '\0';
	*why = "truncated";
	if (len - off < 4)
		return -EINVAL;
	q->qtype = rd16(p + off);
	q->qclass = rd16(p + off + 2);
	*why = "class";
	if (q->qclass != DNS_CLASS_IN && q->qclass != DNS_CLASS_ANY)
		return -EINVAL;
	q->question_end = off + 4;
	*why = NULL;
	return 0;
}

bool dns_name_valid(const char *name)
{
	size_t n = strlen(name), lab = 0, i;

	if (n && name[n - 1] == '.')
		n--;
	/* dotted text of a 255-byte wire name is at most 253 characters */
	if (!n || n > DNS_NAME_TEXT_MAX - 1)
		return false;
	for (i = 0; i < n; i++) {
		if (name[i] == '.') {
			if (!lab)
				return false;
			lab = 0;
			continue;
		}
		if (!label_char_ok((uint8_t)name[i]) || ++lab > DNS_LABEL_MAX)
			return false;
	}
	return lab > 0;
}

bool dns_name_allowed(const char *name, char *const *list, size_t n)
{
	size_t i, ln = strlen(name);

	for (i = 0; i < n; i++) {
		size_t l = strlen(list[i]);

		if (l && list[i][l - 1] == '.')
			l--;
		if (l == ln && !strncasecmp(name, list[i], l))
			return true;
	}
	return false;
}

size_t dns_build_refused(const uint8_t *query, const struct dns_query *q,
			 uint8_t *out, size_t cap)
{
	uint16_t flags;

	if (q->question_end < DNS_HLEN || q->question_end > cap)
		return 0;
	memcpy(out, query, q->question_end);
	flags = (uint16_t)(DNS_QR | (q->flags & (DNS_OPCODE_MASK | DNS_RD)) |
			   DNS_RCODE_REFUSED);
	wr16(out + 2, flags);
	wr16(out + 4, 1);
	wr16(out + 6, 0);
	wr16(out + 8, 0);
	wr16(out + 10, 0);
	return q->question_end;
}
