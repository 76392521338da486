/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_qmp.c - fuzz target for the QMP framing and parsing path
 *
 * Two passes over each input:
 *  1. The framer alone (qmp/stream.c) with small limits, fed in chunks
 *     whose sizes come from the input itself, so every split point of a
 *     message is tried.
 *  2. The whole client: the input is what "QEMU" sends on a socketpair
 *     (then EOF). qmp_connect_fd() reads the greeting and negotiates
 *     (id 1), then query-status (id 2), query-pci (3), query-block (4),
 *     query-chardev (5) and a dispatch run, so seeds built from the
 *     recorded QEMU 7.2 traffic with those ids reach the typed parsers.
 * Nothing may crash, leak or hang; errors are the expected outcome.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp.h"
#include "stream.h"

/* Inputs larger than the socket buffer would block the one-thread write. */
#define FUZZ_SOCK_MAX (64 * 1024)

static void fuzz_stream(const uint8_t *data, size_t size)
{
	struct qmp_stream s;
	size_t off = 0, used, chunk;
	json_t *msg;
	int ret;

	qmp_stream_init(&s, 4096, 8);
	while (off < size) {
		chunk = 1 + data[off] % 64;
		if (chunk > size - off)
			chunk = size - off;
		ret = qmp_stream_feed(&s, (const char *)data + off, chunk,
				      &used, &msg, NULL);
		if (ret < 0)
			break;
		if (ret == 1)
			json_decref(msg);
		off += used ? used : chunk;
	}
	qmp_stream_free(&s);
}

static void fuzz_client(const uint8_t *data, size_t size)
{
	struct qmp_pci_dev *pci;
	struct qmp_chardev *ch;
	struct qmp_block *blk;
	struct qmp_status st;
	struct qmp *q;
	json_t *ev;
	size_t n;
	int sv[2];

	if (size > FUZZ_SOCK_MAX)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	q = qmp_connect_fd(sv[0], 1000, NULL);
	if (q) {
		qmp_set_limits(q, 0, 0, 16);
		qmp_set_timeout(q, 1000);
		qmp_query_status(q, &st, NULL);
		if (qmp_query_pci(q, &pci, &n, NULL) == 0)
			free(pci);
		if (qmp_query_block(q, &blk, &n, NULL) == 0)
			free(blk);
		if (qmp_query_chardev(q, &ch, &n, NULL) == 0)
			free(ch);
		qmp_dispatch(q, NULL);
		while ((ev = qmp_event_pop(q)))
			json_decref(ev);
		qmp_close(q);
	}
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_stream(data, size);
	fuzz_client(data, size);
	return 0;
}
