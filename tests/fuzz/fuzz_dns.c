/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_dns.c - the DNS query parser and REFUSED builder on arbitrary bytes
 *
 * The input is a UDP payload sent to 10.0.2.3:53. A query that parses must
 * have a name that passes our own validity check and a question that fits
 * in the message, and its REFUSED answer must echo exactly that question.
 */
#include <stdint.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[4096];
	struct dns_query q;
	const char *why;
	size_t n;

	if (dns_parse_query(data, size, &q, &why))
		return 0;
	if (q.question_end > size || !dns_name_valid(q.name))
		__builtin_trap();
	n = dns_build_refused(data, &q, out, sizeof(out));
	if (n && (n != q.question_end || memcmp(out + 12, data + 12, n - 12)))
		__builtin_trap();
	return 0;
}
