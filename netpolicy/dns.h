/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dns.h - bounded parser of the DNS queries a guest sends, the name
 * allowlist, and the REFUSED answer we build ourselves
 */
#ifndef WALLOFF_DNS_H
#define WALLOFF_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HLEN 12
/* RFC 1035 2.3.4: a name is at most 255 bytes on the wire, a label 63. */
#define DNS_NAME_WIRE_MAX 255
#define DNS_LABEL_MAX 63
/* Dotted text of the longest wire name, plus NUL. */
#define DNS_NAME_TEXT_MAX 254
/* UDP DNS without EDNS is at most 512 bytes (RFC 1035 4.2.1). */
#define DNS_UDP_MAX 512

struct dns_query {
	uint16_t id;
	uint16_t flags;
	char name[DNS_NAME_TEXT_MAX]; /* lower case, no trailing dot */
	uint16_t qtype, qclass;
	size_t question_end; /* offset just past QTYPE/QCLASS */
};

/**
 * dns_parse_query() - parse one standard query with exactly one question
 * @p:		DNS message (UDP payload)
 * @len:	its length
 * @q:		output
 * @why:	set to a static reason when the query is refused
 *
 * Compression pointers in a query are refused (a client has nothing to
 * compress in a single question), as are extended label types, labels over
 * 63 bytes, names over 255 bytes, characters outside [A-Za-z0-9_-], and
 * anything but one IN question with no answers.
 *
 * Return: 0, or -EINVAL with @why set
 */
int dns_parse_query(const uint8_t *p, size_t len, struct dns_query *q,
		    const char **why);

/**
 * dns_name_valid() - is @name a well-formed host name for --dns-allow?
 * @name:	dotted name, optional trailing dot
 *
 * Return: true if every label is 1..63 of [A-Za-z0-9_-] and the name fits
 */
bool dns_name_valid(const char *name);

/**
 * dns_name_allowed() - exact, case-insensitive allowlist match
 * @name:	parsed query name (lower case, no trailing dot)
 * @list:	allowed names
 * @n:		number of names
 *
 * Return: true if @name is in @list
 */
bool dns_name_allowed(const char *name, char *const *list, size_t n);

/**
 * dns_build_refused() - build a REFUSED response to a parsed query
 * @query:	the query message
 * @q:		its parse
 * @out:	output buffer
 * @cap:	size of @out
 *
 * The answer repeats the header id, opcode and RD bit and the question,
 * with QR=1, RCODE=5 and no records.
 *
 * Return: length of the response, or 0 if @cap is too small
 */
size_t dns_build_refused(const uint8_t *query, const struct dns_query *q,
			 uint8_t *out, size_t cap);

#endif /* WALLOFF_DNS_H */
