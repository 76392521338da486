/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_rfb.c - the RFB client-message filter on arbitrary bytes
 *
 * The first byte chooses the role flags and the chunk size; the rest is a
 * client stream starting at the version string. Invariants: no crash, the
 * filter never outputs more than it was given plus one ClientInit byte,
 * and once dead it stays dead.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rfb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rfb_filter f;
	static uint8_t up[1024 + RFB_MSG_MAX];
	uint8_t reply[RFB_REPLY_MAX];
	size_t uplen, replylen, chunk, off = 0, n, total_in = 0, total_out = 0;
	int r;

	if (!size)
		return 0;
	rfb_filter_init(&f, data[0] & 1, data[0] & 2);
	chunk = (size_t)(data[0] >> 2) % 40 + 1;
	data++;
	size--;
	while (off < size) {
		n = size - off < chunk ? size - off : chunk;
		r = rfb_filter_feed(&f, data + off, n, up, sizeof(up), &uplen,
				    reply, &replylen, NULL);
		if (replylen > RFB_REPLY_MAX)
			abort();
		total_in += n;
		total_out += uplen;
		if (total_out > total_in + 1)
			abort();
		if (r) {
			if (f.phase != RFB_DEAD)
				abort();
			break;
		}
		off += n;
	}
	return 0;
}
