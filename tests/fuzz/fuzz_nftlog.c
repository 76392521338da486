/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_nftlog.c - fuzz target for walloff-nftlog's NFLOG message parser
 *
 * The input is what one recv() on the NFLOG socket could return: netlink
 * messages whose payload bytes are the guest's. It goes through
 * nftlog_feed() as in walloff-nftlog's drain(), so the message walk, the
 * parser and the dedup table are fuzzed together (records go to a sink).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "nft_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *opaque, const char *event, json_t *d)
{
	json_decref(d);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nftlog log;
	void *buf;

	if (size > 65536)
		return 0;
	buf = malloc(size ? size : 1);	/* aligned, exact size: ASan sees overreads */
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	nftlog_init(&log, sink, NULL, 0);
	nftlog_feed(&log, buf, size, 100);
	nftlog_flush(&log, 100000, true);
	free(buf);
	return 0;
}
